//! One record of the list, checked as the Create Participant request it will become: the
//! header's columns, the row's own values, its label and its callee's zone. A phone number is
//! read in the row's `number_region`, else the campaign's `default_region`, else it must be
//! international.

use crate::config::Campaign;
use crate::domain::{
    Caller, ConferenceTarget, Endpoint, Invalid, Jurisdictions, Label, PersonId, Region,
    callee_zone,
};
use crate::foreign_text::printable;
use crate::store::NewRow;
use crate::twilio::{CreateParticipant, ParticipantOptions, RowOverrides};
use std::collections::BTreeMap;

/// Columns dialer itself reads besides Twilio's parameters.
/// `timezone` is the callee's IANA zone, for the calling window; `number_region` the country
/// a national `to` is read in (not `region`: that column is Twilio's `Region` parameter).
const OWN_COLUMNS: [&str; 8] = [
    "to",
    "from",
    "conference",
    "label",
    "timezone",
    "number_region",
    "state",
    "person",
];

pub struct Column {
    pub name: String,
    pub ignored: bool,
}

pub fn header_columns(header: &csv::ByteRecord) -> Result<Vec<Column>, String> {
    let mut columns = Vec::with_capacity(header.len());
    for field in header {
        let name =
            std::str::from_utf8(field).map_err(|_| "has a header that is not UTF-8".to_string())?;
        let name = name.trim().to_ascii_lowercase();
        let param = ParticipantOptions::lookup(&name);
        if let Some(var) = param.and_then(|p| p.env_var()) {
            return Err(format!(
                "has a {name:?} column: a credential is read from {var} in the environment, never from the list"
            ));
        }
        let known = OWN_COLUMNS.contains(&name.as_str()) || param.is_some();
        if columns.iter().any(|c: &Column| c.name == name) {
            return Err(format!("has the column \"{}\" twice", printable(&name)));
        }
        columns.push(Column {
            name,
            ignored: !known,
        });
    }
    if !columns.iter().any(|c| c.name == "to") {
        return Err("has no `to` column in its header line".to_string());
    }
    Ok(columns)
}

/// What import knows of a row besides what it stores with it.
pub struct RowExtras {
    /// The list gave no label: dialer made one from the line.
    pub label_generated: bool,
    /// The `to` cell as the list wrote it, for a reject found later (a duplicate).
    pub to_written: String,
}

/// The record's `to` cell as written (empty when the record is too short to have one).
pub fn written_to(columns: &[Column], record: &csv::ByteRecord) -> String {
    columns
        .iter()
        .position(|c| c.name == "to")
        .and_then(|i| record.get(i))
        .map(|cell| String::from_utf8_lossy(cell).into_owned())
        .unwrap_or_default()
}

/// Checks one record as the request it will become, and keeps only its own values.
pub fn parse_record(
    campaign: &Campaign,
    columns: &[Column],
    width: usize,
    record: &csv::ByteRecord,
    line: u64,
) -> Result<(NewRow, RowExtras), String> {
    if record.len() != width {
        let fields = match record.len() {
            1 => "1 field".to_string(),
            n => format!("{n} fields"),
        };
        return Err(format!("has {fields}, the header has {width}"));
    }
    let mut own = BTreeMap::new();
    let mut options = ParticipantOptions::default();
    for (column, field) in columns.iter().zip(record) {
        if column.ignored {
            continue;
        }
        let value = std::str::from_utf8(field)
            .map_err(|_| format!("{}: is not valid UTF-8", column.name))?;
        if value.is_empty() {
            continue;
        }
        if !OWN_COLUMNS.contains(&column.name.as_str()) {
            options
                .set(&column.name, value)
                .map_err(|e| e.to_string())?;
        }
        own.insert(column.name.clone(), value.to_owned());
    }
    let region = match own.get("number_region") {
        Some(raw) => Some(Region::parse(raw).map_err(|e| format!("invalid number_region: {e}"))?),
        None => campaign.default_region,
    };
    let to = own.get("to").ok_or("missing `to`")?;
    let to = Endpoint::parse_in(to, region).map_err(|e| format!("invalid to: {e}"))?;
    let own_from = own
        .get("from")
        .map(|raw| Caller::parse(raw).map_err(|e| format!("invalid from: {e}")))
        .transpose()?;
    let from = own_from.clone().unwrap_or_else(|| campaign.from.clone());
    let conference = own
        .get("conference")
        .map(|raw| ConferenceTarget::parse(raw).map_err(|e| format!("invalid conference: {e}")))
        .transpose()?;
    let label_generated = !own.contains_key("label");
    let label = match own.remove("label") {
        Some(raw) => Label::parse(&raw).map_err(|e| format!("invalid label: {e}"))?,
        None => generated_label(&campaign.name, line).map_err(|e| format!("invalid label: {e}"))?,
    };
    if let Some(timeout) = options.timeout {
        campaign
            .rules
            .law
            .check_ring(timeout.get())
            .map_err(|e| format!("invalid timeout: {e}"))?;
    }
    let own_options = options.clone();
    options.label = Some(label.clone());
    CreateParticipant::new(from, to.clone(), options.or_defaults(&campaign.defaults))
        .map_err(|e| e.to_string())?;
    let zone = callee_zone(own.remove("timezone").as_deref(), &to)
        .map_err(|e| format!("invalid timezone: {e}"))?;
    let jurisdictions = jurisdictions(own.get("state").map(String::as_str), &to)
        .map_err(|e| format!("invalid state: {e}"))?;
    let person = own
        .get("person")
        .filter(|raw| !raw.trim().is_empty())
        .map(|raw| PersonId::parse(raw).map_err(|e| format!("invalid person: {e}")))
        .transpose()?;
    let params = RowOverrides {
        from: own_from,
        conference,
        options: own_options,
    };
    let row = NewRow {
        line,
        to,
        label,
        params,
        zone,
        jurisdictions,
        person,
    };
    Ok((
        row,
        RowExtras {
            label_generated,
            to_written: written_to(columns, record),
        },
    ))
}

/// Whose calling rules bind the call: the US and the states the number's area code may
/// serve, and the ones the list's `state` column names (a person listed with a state is in
/// the US, whatever their number).
fn jurisdictions(state: Option<&str>, to: &Endpoint) -> Result<Option<Jurisdictions>, Invalid> {
    let by_number = crate::law::by_area_code(to);
    let Some(state) = state.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(by_number);
    };
    let listed = Jurisdictions::parse(&format!("US {state}"))?;
    if let Some(unknown) = listed.codes().find(|code| !crate::law::is_us_code(code)) {
        return Err(Invalid(format!(
            "{unknown:?} is not a US state, district or territory (USPS codes: FL, NY, DC, PR, …)"
        )));
    }
    Ok(Some(
        by_number.map_or_else(|| listed.clone(), |j| j.with(&listed)),
    ))
}

/// Unique within the campaign, and recognisable in a shared conference.
fn generated_label(campaign: &str, line: u64) -> Result<Label, Invalid> {
    let slug: String = campaign
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(40)
        .collect();
    Label::parse(&format!("{slug}-{line}"))
}

pub fn raw_text(record: &csv::ByteRecord) -> String {
    record
        .iter()
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::header_columns;

    fn header(line: &str) -> Result<Vec<(String, bool)>, String> {
        let record = csv::ByteRecord::from(line.split(',').collect::<Vec<_>>());
        header_columns(&record).map(|cols| cols.into_iter().map(|c| (c.name, c.ignored)).collect())
    }

    #[test]
    fn columns_are_known_parameters_own_columns_or_ignored() {
        let cols = header(" To ,Timeout,conference,notes").unwrap();
        assert_eq!(
            cols,
            [
                ("to".into(), false),
                ("timeout".into(), false),
                ("conference".into(), false),
                ("notes".into(), true)
            ]
        );
    }

    #[test]
    fn an_unusable_header_says_why() {
        for (line, want) in [
            ("from,timeout", "no `to` column"),
            ("to,timeout,Timeout", "\"timeout\" twice"),
            (
                "to,sip_auth_password",
                "DIALER_SIP_AUTH_PASSWORD in the environment",
            ),
            ("to,call_token", "DIALER_CALL_TOKEN"),
        ] {
            let err = header(line).unwrap_err();
            assert!(err.contains(want), "{line}: {err}");
        }
    }
}
