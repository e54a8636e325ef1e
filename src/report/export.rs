//! `dialer export`: every line of the list as CSV, imported or rejected, in line order, for a
//! spreadsheet or a script. The `reason` column holds the same sentence as the report, and
//! `requeued` the row's requeues (`dialer campaign requeue`), if any. Text cells a spreadsheet
//! would evaluate are written as text (`foreign_text::spreadsheet_cell`).

use super::reason::requeue_history;
use super::{Circumstances, why_not_created};
use crate::domain::{CallSid, CallStatus};
use crate::foreign_text::spreadsheet_cell;
use crate::store::{RowExport, StoreError};
use serde::Serialize;
use std::borrow::Cow;
use std::io;

/// The export's columns, in order.
pub const HEADER: [&str; 13] = [
    "line",
    "to",
    "label",
    "state",
    "attempts",
    "call_sid",
    "call_status",
    "answered_by",
    "duration_secs",
    "queue_time_ms",
    "last_error_code",
    "reason",
    "requeued",
];

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("could not write the export: {0}")]
    Write(#[from] csv::Error),
}

/// One CSV record; its fields follow `HEADER`.
#[derive(Serialize)]
struct Record<'a> {
    line: u64,
    to: Cow<'a, str>,
    label: Cow<'a, str>,
    state: &'a str,
    attempts: i64,
    call_sid: Option<&'a str>,
    call_status: Option<&'a str>,
    answered_by: Option<Cow<'a, str>>,
    duration_secs: Option<i64>,
    queue_time_ms: Option<i64>,
    last_error_code: Option<i64>,
    reason: Option<String>,
    requeued: Option<String>,
}

/// Writes the header and one record per row; returns how many records were written.
pub fn write_csv(
    rows: &[RowExport],
    now: &Circumstances,
    out: impl io::Write,
) -> Result<u64, ExportError> {
    let mut writer = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(out);
    writer.write_record(HEADER)?;
    for row in rows {
        writer.serialize(Record {
            line: row.line,
            to: spreadsheet_cell(&row.to),
            label: spreadsheet_cell(&row.label),
            state: row.state.as_str(),
            attempts: row.attempts,
            call_sid: row.call_sid.as_ref().map(CallSid::as_str),
            call_status: row.call_status.map(CallStatus::as_str),
            answered_by: row.answered_by.as_deref().map(spreadsheet_cell),
            duration_secs: row.duration_secs,
            queue_time_ms: row.queue_time_ms,
            last_error_code: row.last_error_code,
            reason: why_not_created(row, now).map(|r| spreadsheet_cell(&r).into_owned()),
            requeued: requeue_history(row).map(|r| spreadsheet_cell(&r).into_owned()),
        })?;
    }
    writer.flush().map_err(csv::Error::from)?;
    Ok(rows.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{campaign_in_every_state, expected_not_dialed};
    use super::*;

    /// Long after the fixture's rows were written: no hold is still running.
    fn fixture_now() -> Circumstances {
        Circumstances {
            status: crate::domain::CampaignStatus::Running,
            now_ms: i64::MAX,
            window_zone: None,
            schedule: None,
        }
    }

    #[tokio::test]
    async fn the_export_has_one_record_per_list_line_in_line_order() {
        let campaign = campaign_in_every_state().await;
        let rows = campaign.store.export_rows().await.unwrap();
        let mut out = Vec::new();

        let written = write_csv(&rows, &fixture_now(), &mut out).unwrap();

        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(written, 11);
        assert_eq!(lines.len(), 12);
        assert_eq!(
            lines[0],
            "line,to,label,state,attempts,call_sid,call_status,answered_by,duration_secs,queue_time_ms,last_error_code,reason,requeued"
        );
        assert_eq!(
            lines[1],
            format!("2,+15550000002,spring-2,created,1,CA{:032},,,,100,,,", 100)
        );
        assert_eq!(
            lines[5],
            "6,+15550000006,spring-6,failed,1,,,,,,21211,failed: error 21211: Invalid 'To' Phone Number,"
        );
        assert_eq!(
            lines[9],
            "10,+15550000010,spring-10,pending,0,,,,,,,not dialed yet,"
        );
        assert_eq!(
            lines[10],
            "11,+15550000002,,rejected,0,,,,,,,duplicate of line 2,"
        );
        assert_eq!(
            lines[11],
            "12,12345,,rejected,0,,,,,,,rejected at import: invalid to: must be E.164,"
        );
    }

    #[tokio::test]
    async fn the_export_reasons_match_the_report() {
        let campaign = campaign_in_every_state().await;
        let rows = campaign.store.export_rows().await.unwrap();
        let mut out = Vec::new();

        write_csv(&rows, &fixture_now(), &mut out).unwrap();

        let mut reader = csv::Reader::from_reader(out.as_slice());
        let reasons: Vec<(u64, String, String)> = reader
            .records()
            .map(|record| record.unwrap())
            .filter(|record| &record[3] != "created")
            .map(|record| {
                (
                    record[0].parse().unwrap(),
                    record[3].to_owned(),
                    record[11].to_owned(),
                )
            })
            .collect();
        let expected: Vec<(u64, String, String)> = expected_not_dialed()
            .into_iter()
            .map(|(line, state, reason)| (line, state.into(), reason.into()))
            .collect();
        assert_eq!(reasons, expected);
    }

    #[test]
    fn an_empty_list_still_has_its_header() {
        let mut out = Vec::new();

        write_csv(&[], &fixture_now(), &mut out).unwrap();

        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("{}\n", HEADER.join(","))
        );
    }
}
