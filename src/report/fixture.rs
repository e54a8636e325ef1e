//! A campaign database with a line in every state, built through the store's own API, for
//! the report's and the export's tests.

use crate::domain::{CallSid, ConferenceSid, Endpoint, Label};
use crate::store::{FinishedImport, ImportPass, NewRow, Outcome, Reject, Store};
use tempfile::TempDir;

pub struct Fixture {
    pub store: Store,
    _dir: TempDir,
}

pub const UNKNOWN_MESSAGE: &str =
    "no answer from Twilio within 15s; the request may have been processed";

/// Lines 2-5 created (queue_time 100-400 ms), 6 failed with 21211, 7 unknown, 8 waiting for a
/// retry, 9 dialing, 10 never tried; 11 is a duplicate of line 2 and 12 was rejected.
pub async fn campaign_in_every_state() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(
        &crate::store::Database::Sqlite(dir.path().join("spring.sqlite")),
        "spring",
    )
    .await
    .unwrap();
    let rows: Vec<NewRow> = (2..=10)
        .map(|line| NewRow {
            line,
            to: Endpoint::parse(&phone(line)).unwrap(),
            label: Label::parse(&format!("spring-{line}")).unwrap(),
            params: Default::default(),
            zone: None,
            jurisdictions: None,
            person: None,
        })
        .collect();
    store
        .import_rows(&mut ImportPass::default(), &rows)
        .await
        .unwrap();
    let rejects = [
        Reject {
            line: 11,
            reason: "duplicate of line 2: +15…02 is dialed once".to_owned(),
            raw: phone(2),
            to: phone(2),
        },
        Reject {
            line: 12,
            reason: "invalid to: must be E.164".to_owned(),
            raw: "12345,Bob".to_owned(),
            to: "12345".to_owned(),
        },
    ];
    let import = FinishedImport {
        list_size: 0,
        list_modified_ns: 0,
        fingerprint: "fixture".into(),
        records: 11,
        accepted: 9,
        duplicates: 1,
        ignored_columns: Vec::new(),
    };
    store.finish_import(&rejects, Some(&import)).await.unwrap();
    let outcomes = [
        created(100),
        created(200),
        created(300),
        created(400),
        Outcome::Failed {
            http_status: Some(400),
            code: Some(21211),
            message: "Invalid 'To' Phone Number".into(),
        },
        Outcome::Unknown {
            check_at: store.now_ms(),
            http_status: None,
            code: None,
            message: UNKNOWN_MESSAGE.into(),
        },
        Outcome::Retry {
            at: store.now_ms() + 3_600_000,
            counts: true,
            http_status: Some(503),
            code: None,
            message: "HTTP 503: Service Unavailable".into(),
        },
    ];
    for outcome in &outcomes {
        let claimed = store.claim_next().await.unwrap().expect("a due row");
        store.record(&claimed, outcome).await.unwrap();
    }
    store
        .claim_next()
        .await
        .unwrap()
        .expect("line 9, left dialing");
    Fixture { store, _dir: dir }
}

/// (line, state, reason) of every line of the fixture without a call.
pub fn expected_not_dialed() -> Vec<(u64, &'static str, &'static str)> {
    vec![
        (
            6,
            "failed",
            "failed: error 21211: Invalid 'To' Phone Number",
        ),
        (
            7,
            "unknown",
            "unknown: no answer from Twilio within 15s; the request may have been processed \
             (checked with Twilio on the next run)",
        ),
        (
            8,
            "pending",
            "waiting for retry after 1 attempt: HTTP 503: Service Unavailable",
        ),
        (
            9,
            "dialing",
            "being dialed; if no run is in progress, the last one stopped before the answer \
             (checked with Twilio on the next run)",
        ),
        (10, "pending", "not dialed yet"),
        (11, "rejected", "duplicate of line 2"),
        (
            12,
            "rejected",
            "rejected at import: invalid to: must be E.164",
        ),
    ]
}

pub fn phone(line: u64) -> String {
    format!("+1555{line:07}")
}

fn created(queue_time_ms: i64) -> Outcome {
    Outcome::Created {
        call_sid: CallSid::parse(&format!("CA{queue_time_ms:032}")).unwrap(),
        conference_sid: Some(ConferenceSid::parse(&format!("CF{:032}", 1)).unwrap()),
        queue_time_ms: Some(queue_time_ms),
        status: 201,
    }
}
