//! `[participant]`: the Create Participant parameters every row's request starts from, checked
//! as Twilio would check them. Credentials among them come from the environment only.

use super::ConfigError;
use crate::domain::Invalid;
use crate::twilio::ParticipantOptions;

/// The file's defaults, then the credentials the environment gives; `shown` is the file as
/// errors name it.
pub(super) fn defaults(
    table: &toml::Table,
    shown: &str,
) -> Result<ParticipantOptions, ConfigError> {
    let invalid = |key: String, rule| ConfigError::Invalid {
        path: shown.to_owned(),
        key,
        rule,
    };
    let param = |cause| ConfigError::Param {
        path: shown.to_owned(),
        cause,
    };
    let mut defaults = ParticipantOptions::default();
    for (key, value) in table {
        let raw = toml_text(value).map_err(|rule| invalid(format!("participant.{key}"), rule))?;
        defaults.set(key, &raw).map_err(param)?;
    }
    for name in ParticipantOptions::NAMES {
        let Some(var) = name.env_var() else { continue };
        if table.keys().any(|key| name.matches(key)) {
            return Err(invalid(
                format!("participant.{}", name.snake),
                Invalid(format!(
                    "is a credential: set {var} in the environment, not in the campaign file"
                )),
            ));
        }
        if let Some(value) = std::env::var(&var).ok().filter(|v| !v.is_empty()) {
            defaults.set(name.wire, &value).map_err(param)?;
        }
    }
    defaults.check_alone().map_err(param)?;
    if defaults.label.is_some() {
        return Err(invalid(
            "participant.label".into(),
            Invalid::new("is per row: use a `label` column"),
        ));
    }
    Ok(defaults)
}

/// A `[participant]` key as the file spells it, from the parameter's wire name.
pub(super) fn key(wire: &str) -> &str {
    ParticipantOptions::lookup(wire).map_or(wire, |name| name.snake)
}

/// A TOML value as the text a form parameter takes; arrays become space-separated lists.
fn toml_text(value: &toml::Value) -> Result<String, Invalid> {
    match value {
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Integer(n) => Ok(n.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        toml::Value::Array(items) => Ok(items
            .iter()
            .map(toml_text)
            .collect::<Result<Vec<_>, _>>()?
            .join(" ")),
        other => Err(Invalid(format!(
            "must be a string, number, boolean or list, got {}",
            other.type_str()
        ))),
    }
}
