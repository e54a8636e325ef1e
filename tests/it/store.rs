//! The store's import, driven directly: one batch statement must still tell every row's fate.

use dialer::store::{ImportPass, Inserted, NewRow, Store};

fn row(line: u64, to: &str, label: &str) -> NewRow {
    NewRow {
        line,
        to: dialer::domain::Endpoint::parse(to).unwrap(),
        label: dialer::domain::Label::parse(label).unwrap(),
        params: dialer::twilio::RowOverrides::from_json(r#"{"timeout":"20"}"#).unwrap(),
    }
}

#[tokio::test]
async fn an_import_batch_tells_new_already_imported_duplicate_and_label_taken_rows_apart() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("c.sqlite")).await.unwrap();
    let first = [
        row(2, "+14155550100", "a"),
        row(3, "+14155550101", "b"),
        row(4, "+14155550100", "x"),
    ];
    assert_eq!(
        store
            .import_rows(&mut ImportPass::default(), &first)
            .await
            .unwrap(),
        [Inserted::New, Inserted::New, Inserted::DuplicateOf(2)]
    );

    // Act: the list as a later run reads it, in two batches.
    let mut pass = ImportPass::default();
    let second = [
        row(2, "+14155550100", "a"),
        row(4, "+14155550102", "c"),
        row(5, "+14155550101", "d"),
    ];
    let third = [
        row(6, "+14155550102", "e"),
        row(7, "+14155550103", "b"),
        row(8, "+14155550101", "f"),
    ];
    let got = [
        store.import_rows(&mut pass, &second).await.unwrap(),
        store.import_rows(&mut pass, &third).await.unwrap(),
    ]
    .concat();

    // Assert
    let want = [
        Inserted::AlreadyImported,
        Inserted::New,
        // Moved from line 3 to line 5 since the first import: the same person, not a duplicate.
        Inserted::AlreadyImported,
        Inserted::DuplicateOf(4),
        Inserted::LabelTaken(5),
        Inserted::DuplicateOf(5),
    ];
    assert_eq!(got, want);
    let counts = store.state_counts().await.unwrap();
    assert_eq!(counts.pending, 3);
    let claimed = store.claim_next().await.unwrap().unwrap();
    assert_eq!((claimed.line, claimed.label.as_str()), (2, "a"));
    assert_eq!(
        claimed.params,
        Ok(row(2, "+14155550100", "a").params),
        "the row's own values kept"
    );
}

#[tokio::test]
async fn due_times_set_before_the_clock_stepped_back_move_back_with_it() {
    // Arrange: a row put off by a second, an hour ago by a clock that was then an hour ahead.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.sqlite");
    let store = Store::open(&path).await.unwrap();
    store
        .import_rows(&mut ImportPass::default(), &[row(2, "+14155550100", "a")])
        .await
        .unwrap();
    let now = dialer::store::now_ms();
    let ahead = now + 3_600_000;
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::query("UPDATE rows SET updated_at = ?, next_attempt_at = ?")
        .bind(ahead)
        .bind(ahead + 1_000)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    // Act
    let moved = store.undo_clock_step().await.unwrap();

    // Assert: due a second from now, not an hour and a second.
    assert_eq!(moved, 1);
    let due = store.next_retry_at().await.unwrap().expect("a pending row");
    assert!(
        (now..=now + 5_000).contains(&due),
        "due {} ms from now",
        due - now
    );
    assert_eq!(store.undo_clock_step().await.unwrap(), 0, "once only");
}
