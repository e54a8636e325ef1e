//! The holidays a rules file may name, each dated for any year: fixed dates, the nth weekday
//! of a month, Easter's Good Friday. A holiday on a Saturday is also kept on the Friday
//! before, and one on a Sunday on the Monday after (as federal holidays are observed, 5 U.S.C.
//! 6103(b)): a state that bars calls on its holidays is kept on both days, the stricter reading.

use crate::domain::named_enum;
use jiff::civil::{Date, Weekday};

named_enum! {
    pub enum Holiday("a holiday") {
        NewYearsDay = "new_years_day",
        MlkDay = "mlk_day",
        PresidentsDay = "presidents_day",
        /// Shrove Tuesday, the day before Ash Wednesday.
        MardiGras = "mardi_gras",
        GoodFriday = "good_friday",
        EasterSunday = "easter_sunday",
        /// The fourth Monday of April (Alabama).
        ConfederateMemorialDay = "confederate_memorial_day",
        /// May 4 (Rhode Island).
        RhodeIslandIndependenceDay = "rhode_island_independence_day",
        MemorialDay = "memorial_day",
        /// The first Monday of June (Alabama).
        JeffersonDavisBirthday = "jefferson_davis_birthday",
        FlagDay = "flag_day",
        Juneteenth = "juneteenth",
        IndependenceDay = "independence_day",
        /// July 24 (Utah).
        PioneerDay = "pioneer_day",
        /// The second Monday of August (Rhode Island).
        VictoryDay = "victory_day",
        LaborDay = "labor_day",
        ColumbusDay = "columbus_day",
        ElectionDay = "election_day",
        VeteransDay = "veterans_day",
        Thanksgiving = "thanksgiving",
        Christmas = "christmas",
    }
}

impl Holiday {
    /// The holiday's own date in `year`.
    pub fn date_in(self, year: i16) -> Option<Date> {
        let fixed = |month, day| Date::new(year, month, day).ok();
        let nth = |month, weekday, n| {
            Date::new(year, month, 1)
                .ok()?
                .nth_weekday_of_month(n, weekday)
                .ok()
        };
        match self {
            Self::NewYearsDay => fixed(1, 1),
            Self::MlkDay => nth(1, Weekday::Monday, 3),
            Self::PresidentsDay => nth(2, Weekday::Monday, 3),
            Self::MardiGras => easter(year)?.checked_sub(jiff::Span::new().days(47)).ok(),
            Self::GoodFriday => easter(year)?.checked_sub(jiff::Span::new().days(2)).ok(),
            Self::EasterSunday => easter(year),
            Self::ConfederateMemorialDay => nth(4, Weekday::Monday, 4),
            Self::RhodeIslandIndependenceDay => fixed(5, 4),
            Self::JeffersonDavisBirthday => nth(6, Weekday::Monday, 1),
            Self::PioneerDay => fixed(7, 24),
            Self::VictoryDay => nth(8, Weekday::Monday, 2),
            Self::MemorialDay => nth(5, Weekday::Monday, -1),
            Self::FlagDay => fixed(6, 14),
            Self::Juneteenth => fixed(6, 19),
            Self::IndependenceDay => fixed(7, 4),
            Self::LaborDay => nth(9, Weekday::Monday, 1),
            Self::ColumbusDay => nth(10, Weekday::Monday, 2),
            // The Tuesday after the first Monday of November.
            Self::ElectionDay => nth(11, Weekday::Monday, 1)?
                .checked_add(jiff::Span::new().days(1))
                .ok(),
            Self::VeteransDay => fixed(11, 11),
            Self::Thanksgiving => nth(11, Weekday::Thursday, 4),
            Self::Christmas => fixed(12, 25),
        }
    }

    /// Whether `date` is the holiday, or the weekday it is observed on when it falls on a
    /// weekend (a Saturday's Friday, a Sunday's Monday; New Year's Day on a Saturday is
    /// observed on the 31st of December before).
    pub fn falls_on(self, date: Date) -> bool {
        [date.year(), date.year() + 1].into_iter().any(|year| {
            let Some(own) = self.date_in(year) else {
                return false;
            };
            let observed = match own.weekday() {
                Weekday::Saturday => own.yesterday().ok(),
                Weekday::Sunday => own.tomorrow().ok(),
                _ => None,
            };
            own == date || observed == Some(date)
        })
    }
}

/// Easter Sunday of the Gregorian calendar (the anonymous algorithm, as Meeus gives it).
fn easter(year: i16) -> Option<Date> {
    let y = i32::from(year);
    let (a, b, c) = (y % 19, y / 100, y % 100);
    let (d, e) = (b / 4, b % 4);
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let (i, k) = (c / 4, c % 4);
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    Date::new(year, month as i8, day as i8).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn each_holiday_is_dated_as_the_calendar_has_it() {
        let dated: Vec<(Holiday, Date)> = Holiday::ALL
            .iter()
            .map(|h| (*h, h.date_in(2026).unwrap()))
            .collect();

        let expected = [
            date(2026, 1, 1),
            date(2026, 1, 19),
            date(2026, 2, 16),
            date(2026, 2, 17),
            date(2026, 4, 3),
            date(2026, 4, 5),
            date(2026, 4, 27),
            date(2026, 5, 4),
            date(2026, 5, 25),
            date(2026, 6, 1),
            date(2026, 6, 14),
            date(2026, 6, 19),
            date(2026, 7, 4),
            date(2026, 7, 24),
            date(2026, 8, 10),
            date(2026, 9, 7),
            date(2026, 10, 12),
            date(2026, 11, 3),
            date(2026, 11, 11),
            date(2026, 11, 26),
            date(2026, 12, 25),
        ];
        assert_eq!(dated.iter().map(|(_, d)| *d).collect::<Vec<_>>(), expected);
        assert_eq!(easter(2027), Some(date(2027, 3, 28)));
        assert_eq!(easter(2030), Some(date(2030, 4, 21)));
    }

    #[test]
    fn a_weekend_holiday_is_kept_on_its_observed_weekday_too() {
        // 2026-07-04 is a Saturday: observed Friday 3rd. 2027-12-25 a Saturday, 2022-12-25 a
        // Sunday (observed Monday 26th). 2028-01-01 a Saturday: observed 2027-12-31.
        assert!(Holiday::IndependenceDay.falls_on(date(2026, 7, 4)));
        assert!(Holiday::IndependenceDay.falls_on(date(2026, 7, 3)));
        assert!(!Holiday::IndependenceDay.falls_on(date(2026, 7, 6)));
        assert!(Holiday::Christmas.falls_on(date(2022, 12, 26)));
        assert!(Holiday::NewYearsDay.falls_on(date(2027, 12, 31)));
        assert!(!Holiday::Christmas.falls_on(date(2026, 12, 24)), "a Friday");
    }
}
