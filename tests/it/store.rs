//! The store's import, driven directly: one batch statement must still tell every row's fate.

use dialer::store::{Database, ImportPass, Inserted, NewRow, Store};

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
    let store = Store::open(&Database::Sqlite(dir.path().join("c.sqlite")), "c")
        .await
        .unwrap();
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
    let store = Store::open(&Database::Sqlite(path.to_path_buf()), "c")
        .await
        .unwrap();
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

#[tokio::test]
async fn campaigns_sharing_a_database_see_only_their_own_rows() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.sqlite");
    let spring = Store::open(&Database::Sqlite(path.to_path_buf()), "spring")
        .await
        .unwrap();
    let autumn = Store::open(&Database::Sqlite(path.to_path_buf()), "autumn")
        .await
        .unwrap();
    spring
        .import_rows(&mut ImportPass::default(), &[row(2, "+14155550100", "a")])
        .await
        .unwrap();

    // Act: the same person and label in the other campaign.
    let inserted = autumn
        .import_rows(&mut ImportPass::default(), &[row(2, "+14155550100", "a")])
        .await
        .unwrap();
    autumn.cancel_campaign().await.unwrap();

    // Assert
    assert_eq!(inserted, [Inserted::New], "a campaign of its own");
    assert_eq!(spring.state_counts().await.unwrap().pending, 1);
    assert_eq!(autumn.state_counts().await.unwrap().canceled, 1);
    assert_eq!(
        spring.campaign_status().await.unwrap(),
        dialer::domain::CampaignStatus::Running,
        "canceling one campaign leaves the other running"
    );
    let claimed = spring.claim_next().await.unwrap().expect("spring's row");
    assert!(spring.claim_next().await.unwrap().is_none());
    assert!(autumn.claim_next().await.unwrap().is_none());
    assert_eq!(claimed.to.as_str(), "+14155550100");
}

#[tokio::test]
async fn a_database_written_before_campaigns_shared_one_is_migrated_in_place_for_its_campaign() {
    // Arrange: the schema of the first two migrations, as an older dialer left it.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite");
    let old_migrations = dir.path().join("old-migrations");
    std::fs::create_dir(&old_migrations).unwrap();
    for entry in std::fs::read_dir("migrations/sqlite").unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        if name.starts_with("2026112") {
            std::fs::copy(entry.path(), old_migrations.join(&name)).unwrap();
        }
    }
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    let old = sqlx::migrate::Migrator::new(old_migrations.as_path())
        .await
        .unwrap();
    assert_eq!(old.iter().count(), 2, "the two migrations before campaigns");
    old.run(&pool).await.unwrap();
    for statement in [
        "INSERT INTO rows (id, line, to_endpoint, label, params, state, attempts, call_sid, updated_at)
         VALUES (1, 2, '+14155550100', 'old-2', '{}', 'created', 1, 'CA00000000000000000000000000000001', 0)",
        "INSERT INTO rows (id, line, to_endpoint, label, params, updated_at)
         VALUES (2, 3, '+14155550101', 'old-3', '{}', 0)",
        "INSERT INTO attempts (row_id, number, started_at, outcome, call_sid)
         VALUES (1, 1, 0, 'created', 'CA00000000000000000000000000000001')",
        "INSERT INTO rejects (line, reason, raw) VALUES (4, 'invalid to', 'nope')",
        "INSERT INTO control (key, value) VALUES ('status', 'paused')",
    ] {
        sqlx::query(statement).execute(&pool).await.unwrap();
    }
    pool.close().await;

    // Act
    let store = Store::open(&Database::Sqlite(path.to_path_buf()), "old")
        .await
        .unwrap();
    let newcomer = Store::open(&Database::Sqlite(path.to_path_buf()), "new")
        .await
        .unwrap();

    // Assert: everything kept, for the first campaign file that opened it.
    let counts = store.state_counts().await.unwrap();
    assert_eq!((counts.created, counts.pending, counts.rejected), (1, 1, 1));
    assert_eq!(
        store.campaign_status().await.unwrap(),
        dialer::domain::CampaignStatus::Paused
    );
    assert_eq!(store.attempt_counts().await.unwrap().attempts, 1);
    let lines: Vec<u64> = store
        .export_rows()
        .await
        .unwrap()
        .iter()
        .map(|r| r.line)
        .collect();
    assert_eq!(lines, [2, 3, 4]);
    assert_eq!(newcomer.state_counts().await.unwrap().rows(), 0);
    store.close().await;
    let reopened = Store::open(&Database::Sqlite(path.to_path_buf()), "old")
        .await
        .unwrap();
    assert_eq!(reopened.state_counts().await.unwrap().created, 1);
}
