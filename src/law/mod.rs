//! The law's calling rules as dialer ships them: per US jurisdiction (federal, and the states
//! whose texts were read) the hours calls are allowed in, the days and holidays without calls
//! and the caps on calls to one person (`rules`, from `data/calling_rules/us.toml`); the
//! holidays' dates (`holidays`); and which jurisdictions a number belongs to
//! (`area_codes`). Data only: the gate (`compliance`) applies it.

pub mod area_codes;
pub mod holidays;
pub mod rules;

pub use area_codes::{by_area_code, is_us_code};
pub use holidays::Holiday;
pub use rules::{BUILT_IN, Hours, Jurisdiction, PersonCap, RulesBook};
