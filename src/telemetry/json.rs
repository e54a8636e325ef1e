//! Log lines for machines (`--log-format json`): one JSON object per line, for Loki,
//! Elasticsearch or CloudWatch. The fields of every span the event is in (`campaign`, `label`,
//! `attempt`) are keys of the line itself, beside the event's own (`message`, …), so a query
//! needs no knowledge of how spans nest. Values are the ones the text lines show: numbers are
//! masked where they are logged, so nothing more is revealed in JSON.
//!
//! Every line has the same keys, whoever writes it (the log, a diagnostic, a result on
//! stdout): `timestamp`, `level`, `message` and `campaign` (the campaign's name, null for a
//! line about no campaign), then its own fields.

use serde_json::{Map, Value};
use std::fmt;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::Registry;
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// Formats an event as one flat JSON object.
pub struct FlatJson;

impl<S> FormatEvent<S, JsonFields> for FlatJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, JsonFields>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut line = Map::new();
        line.insert(
            "timestamp".into(),
            Value::String(jiff::Timestamp::now().to_string()),
        );
        line.insert(
            "level".into(),
            Value::String(event.metadata().level().as_str().to_owned()),
        );
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let extensions = span.extensions();
                let Some(fields) = extensions.get::<FormattedFields<JsonFields>>() else {
                    continue;
                };
                if let Ok(Value::Object(fields)) = serde_json::from_str(fields.as_str()) {
                    line.extend(fields);
                }
            }
        }
        event.record(&mut Fields(&mut line));
        writeln!(writer, "{}", with_every_key(line))
    }
}

/// An event's fields, as JSON values.
struct Fields<'a>(&'a mut Map<String, Value>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0
            .insert(field.name().into(), Value::String(value.into()));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().into(), Value::String(format!("{value:?}")));
    }
}

/// A line of dialer's own (a diagnostic, a result on stdout), as JSON: the fields of the span
/// it is written in (`campaign`), then `fields` (which win).
pub fn own_line(level: &str, message: &str, fields: Map<String, Value>) -> String {
    let mut line = Map::new();
    line.insert(
        "timestamp".into(),
        Value::String(jiff::Timestamp::now().to_string()),
    );
    line.insert("level".into(), Value::String(level.into()));
    line.extend(current_span_fields());
    line.insert("message".into(), Value::String(message.into()));
    line.extend(fields);
    with_every_key(line).to_string()
}

/// `line` with the keys every line has, null where it has nothing to say.
fn with_every_key(mut line: Map<String, Value>) -> Value {
    for key in ["message", "campaign"] {
        line.entry(key).or_insert(Value::Null);
    }
    Value::Object(line)
}

/// The fields of the current span and those around it, as the log's lines carry them.
fn current_span_fields() -> Map<String, Value> {
    let mut all = Map::new();
    tracing::dispatcher::get_default(|dispatch| {
        let (Some(registry), Some(id)) = (
            dispatch.downcast_ref::<Registry>(),
            tracing::Span::current().id(),
        ) else {
            return;
        };
        let Some(span) = registry.span(&id) else {
            return;
        };
        for span in span.scope().from_root() {
            let extensions = span.extensions();
            if let Some(fields) = extensions.get::<FormattedFields<JsonFields>>()
                && let Ok(Value::Object(fields)) = serde_json::from_str(fields.as_str())
            {
                all.extend(fields);
            }
        }
    });
    all
}
