//! The store's import, driven directly: one batch statement must still tell every row's fate.

use dialer::store::{ImportPass, Inserted, NewRow, Store};

fn row(line: u64, to: &str, label: &str) -> NewRow {
    NewRow {
        line,
        to: to.to_owned(),
        label: label.to_owned(),
        params: r#"{"timeout":"20"}"#.to_owned(),
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
    assert_eq!(claimed.params, r#"{"timeout":"20"}"#, "params kept as text");
}
