//! A row's own values over the campaign's: its caller, its conference, and any parameter of
//! Create Participant, parsed once at import. The store keeps them as a JSON object of names
//! and raw values (a parameter by its wire name, or by its column name in databases written
//! before), and hands them back parsed.

use super::params::{ParamError, ParticipantOptions};
use crate::domain::{Caller, ConferenceTarget, Invalid};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RowOverrides {
    pub from: Option<Caller>,
    pub conference: Option<ConferenceTarget>,
    pub options: ParticipantOptions,
}

impl RowOverrides {
    /// From the stored JSON object.
    pub fn from_json(text: &str) -> Result<Self, ParamError> {
        let values: BTreeMap<String, String> = serde_json::from_str(text).map_err(|e| {
            ParamError::new("row", Invalid(format!("stored parameters unreadable: {e}")))
        })?;
        let mut overrides = Self::default();
        for (name, raw) in &values {
            match name.as_str() {
                "from" => {
                    overrides.from =
                        Some(Caller::parse(raw).map_err(|e| ParamError::new("From", e))?)
                }
                "conference" => {
                    overrides.conference = Some(
                        ConferenceTarget::parse(raw)
                            .map_err(|e| ParamError::new("conference", e))?,
                    )
                }
                _ => overrides.options.set(name, raw)?,
            }
        }
        Ok(overrides)
    }

    /// The JSON object the store keeps: parameters by wire name, a list's values joined by
    /// spaces (as a list column is written).
    pub fn to_json(&self) -> String {
        let mut values: BTreeMap<&str, String> = BTreeMap::new();
        if let Some(from) = &self.from {
            values.insert("from", from.as_str().to_owned());
        }
        if let Some(conference) = &self.conference {
            values.insert("conference", conference.to_string());
        }
        let mut wire = Vec::new();
        self.options.encode(&mut wire);
        for (name, value) in wire {
            values
                .entry(name)
                .and_modify(|joined| {
                    joined.push(' ');
                    joined.push_str(&value);
                })
                .or_insert(value);
        }
        serde_json::to_string(&values).expect("a map of strings serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_survive_the_store_and_old_column_names_still_read() {
        let mut options = ParticipantOptions::default();
        options.set("timeout", "20").unwrap();
        options
            .set("status_callback_event", "initiated completed")
            .unwrap();
        let overrides = RowOverrides {
            from: Some(Caller::parse("+15017122662").unwrap()),
            conference: Some(ConferenceTarget::parse("Other").unwrap()),
            options,
        };

        let stored = overrides.to_json();

        assert_eq!(RowOverrides::from_json(&stored).unwrap(), overrides);
        let written_before = r#"{"conference":"Other","from":"+15017122662","status_callback_event":"initiated completed","timeout":"20"}"#;
        assert_eq!(RowOverrides::from_json(written_before).unwrap(), overrides);
        assert!(RowOverrides::from_json(r#"{"timeout":"4"}"#).is_err());
    }
}
