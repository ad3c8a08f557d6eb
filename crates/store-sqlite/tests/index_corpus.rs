//! The search index against a scan, on real messages: every message of
//! `shared/corpus/eml` is appended, and for needles cut from the messages'
//! own text (long, short, non-ASCII, across line and part boundaries) the
//! index must answer exactly what a scan of the whole folded text answers
//! for every message it does not call unsure.

use std::path::PathBuf;

use bytes::Bytes;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tidemark_search::SearchDoc;
use tidemark_store::*;
use tidemark_store_sqlite::SqliteStore;

fn corpus() -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/eml");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "corpus missing at {}",
            dir.display()
        );
        eprintln!("corpus not found; skipping");
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    paths
        .into_iter()
        .filter_map(|p| std::fs::read(p).ok())
        .collect()
}

fn text_of(d: &SearchDoc, field: TextField) -> &str {
    match field {
        TextField::Body => &d.body,
        TextField::Header => &d.header,
        TextField::MimeHeaders => &d.mime,
    }
}

/// A substring of `s` of `len` characters starting at a random character.
fn cut(s: &str, rng: &mut StdRng, len: usize) -> Option<String> {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() < len || len == 0 {
        return None;
    }
    let start = rng.random_range(0..=chars.len() - len);
    Some(chars[start..start + len].iter().collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_answers_like_a_scan() {
    let messages = corpus();
    if messages.is_empty() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path()).expect("open");
    store.create_account("a", "x").await.expect("create");
    let acc = store.open_account("a").await.expect("open");
    let inbox = acc.mailbox("INBOX").await.expect("inbox");
    let mut docs = Vec::new();
    for raw in &messages {
        let st = tidemark_mime::parse(raw);
        docs.push(SearchDoc::new(raw, &st, usize::MAX));
        let msg = NewMessage {
            data: Bytes::from(raw.clone()),
            flags: Flags::new(),
            internal_date: None,
            structure: Bytes::from(st.to_bytes()),
        };
        acc.append(inbox.id, vec![msg]).await.expect("append");
    }
    let mut rng = StdRng::seed_from_u64(7);
    let mut needles: Vec<(TextField, String)> = vec![
        (TextField::Body, "THE".into()),
        (TextField::Body, "E".into()),
        (TextField::Header, "SUBJECT: RE".into()),
        (TextField::MimeHeaders, "CONTENT-TYPE: TEXT/PLAIN".into()),
        (TextField::Body, "no such text anywhere 9f8e7d".into()),
        (TextField::Body, "*".into()),
        (TextField::Body, "[".into()),
    ];
    for _ in 0..300 {
        let i = rng.random_range(0..docs.len());
        let field =
            [TextField::Body, TextField::Header, TextField::MimeHeaders][rng.random_range(0..3)];
        let text = text_of(&docs[i], field);
        let len = [1, 2, 3, 4, 7, 12, 30][rng.random_range(0..7)];
        if let Some(n) = cut(text, &mut rng, len) {
            needles.push((field, n));
        }
    }
    let mut checked = 0;
    for (field, needle) in &needles {
        let got = acc
            .search_index(inbox.id, *field, needle)
            .await
            .expect("search")
            .expect("the embedded store has an index");
        for (i, d) in docs.iter().enumerate() {
            let uid = Uid(i as u32 + 1);
            let text = text_of(d, *field);
            let truth = text.contains(needle.as_str());
            let hit = got.hits.binary_search(&uid).is_ok();
            if got.unsure.binary_search(&uid).is_ok() {
                assert!(
                    !hit || truth,
                    "{field:?} {needle:?}: false hit on unsure uid {}",
                    uid.0
                );
                continue;
            }
            assert_eq!(hit, truth, "{field:?} {needle:?}: uid {}", uid.0);
            checked += 1;
        }
    }
    assert!(needles.len() > 250, "needles: {}", needles.len());
    eprintln!(
        "{} needles, {checked} message answers checked",
        needles.len()
    );
}

/// With the index off nothing is indexed and the store says so; turned on
/// again, the messages stored meanwhile are indexed when the account opens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_off_then_on() {
    use tidemark_store_sqlite::SqliteConfig;
    let dir = tempfile::tempdir().expect("tempdir");
    let msg = |body: &str| NewMessage {
        data: Bytes::from(format!("Subject: s\r\n\r\n{body}\r\n")),
        flags: Flags::new(),
        internal_date: None,
        structure: Bytes::new(),
    };
    {
        // Opened with the index first: the docs are then known complete,
        // and the open without it must undo that.
        let store = SqliteStore::open(dir.path()).expect("open");
        store.create_account("a", "x").await.expect("create");
        store.open_account("a").await.expect("open with the index");
    }
    {
        let off = SqliteConfig {
            search_index: false,
            ..Default::default()
        };
        let store = SqliteStore::open_with(dir.path(), off).expect("open");
        let acc = store.open_account("a").await.expect("open");
        let inbox = acc.mailbox("INBOX").await.expect("inbox");
        acc.append(inbox.id, vec![msg("needle in a haystack"), msg("hay")])
            .await
            .expect("append");
        let r = acc
            .search_index(inbox.id, TextField::Body, "NEEDLE")
            .await
            .expect("search");
        assert_eq!(r, None, "no index while it is off");
        let sums = acc
            .read_summaries(inbox.id, &[Uid(1)])
            .await
            .expect("summaries");
        assert_eq!(sums, vec![None]);
    }
    let store = SqliteStore::open(dir.path()).expect("reopen");
    let acc = store.open_account("a").await.expect("open");
    let inbox = acc.mailbox("INBOX").await.expect("inbox");
    let r = acc
        .search_index(inbox.id, TextField::Body, "NEEDLE")
        .await
        .expect("search")
        .expect("index on");
    assert_eq!(r.hits, vec![Uid(1)]);
    let sums = acc
        .read_summaries(inbox.id, &[Uid(1), Uid(2), Uid(3)])
        .await
        .expect("summaries");
    assert!(sums[0].is_some() && sums[1].is_some() && sums[2].is_none());
}

/// Concurrent APPENDs and EXPUNGEs land in shared group commits, where a doc
/// may be written and dropped before the batch's FTS flush; the FTS index
/// must still agree with its content afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_consistent_under_concurrent_append_and_expunge() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path()).expect("open");
    store.create_account("a", "x").await.expect("create");
    let acc = store.open_account("a").await.expect("open");
    let inbox = acc.mailbox("INBOX").await.expect("inbox");
    let mut tasks = Vec::new();
    for t in 0..8u32 {
        let acc = acc.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..15u32 {
                let mut deleted = Flags::new();
                if i % 2 == 0 {
                    deleted.insert(SystemFlag::Deleted);
                }
                let msg = NewMessage {
                    data: Bytes::from(format!(
                        "Subject: t{t}\r\n\r\nbody {t}-{i} keepme{}\r\n",
                        i % 2
                    )),
                    flags: deleted,
                    internal_date: None,
                    structure: Bytes::new(),
                };
                acc.append(inbox.id, vec![msg]).await.expect("append");
                if i % 3 == 0 {
                    acc.expunge(inbox.id, None).await.expect("expunge");
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    acc.expunge(inbox.id, None).await.expect("expunge");
    let kept = acc
        .search_index(inbox.id, TextField::Body, "KEEPME1")
        .await
        .expect("search")
        .expect("index");
    assert_eq!(kept.hits.len(), 8 * 7, "every odd message is found");
    let gone = acc
        .search_index(inbox.id, TextField::Body, "KEEPME0")
        .await
        .expect("search")
        .expect("index");
    assert!(gone.hits.is_empty(), "expunged messages are not found");
    // The indexer thread catches up (bounded wait), and then the FTS index
    // holds exactly the docs that exist, and agrees with itself.
    let (unindexed, stale) = wait_indexed(dir.path()).await;
    assert_eq!(
        (unindexed, stale),
        (0, 0),
        "FTS rows == docs once caught up"
    );
    drop(acc);
    drop(store);
}

/// Opens account 1's database with its index attached.
fn inspect(dir: &std::path::Path) -> rusqlite::Connection {
    let accounts = dir.join("accounts");
    let conn = rusqlite::Connection::open(accounts.join("1.db")).expect("inspect");
    conn.execute(
        "ATTACH DATABASE ?1 AS idx",
        [accounts.join("1.search.db").to_str().expect("utf-8")],
    )
    .expect("attach");
    conn
}

/// Waits (at most 30 s) until the indexer has every doc; returns the docs
/// not in the FTS table and the FTS rows without a doc, after an FTS5
/// integrity check.
async fn wait_indexed(dir: &std::path::Path) -> (i64, i64) {
    let conn = inspect(dir);
    let mut last = (-1, -1);
    for _ in 0..300 {
        last = conn
            .query_row(
                "SELECT
                   (SELECT count(*) FROM search_docs WHERE id NOT IN
                      (SELECT id FROM idx.search_fts_docsize)),
                   (SELECT count(*) FROM idx.search_fts_docsize WHERE id NOT IN
                      (SELECT id FROM search_docs))",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("count");
        if last == (0, 0) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    conn.execute(
        "INSERT INTO idx.search_fts(search_fts, rank) VALUES('integrity-check', 1)",
        [],
    )
    .expect("FTS index consistent");
    last
}

/// A blob id used again after its message is expunged (SQLite reuses the
/// highest rowid) must not keep the old message's trigrams, nor miss the
/// new one's, whatever the indexer had reached.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reused_blob_ids_are_indexed_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path()).expect("open");
    store.create_account("a", "x").await.expect("create");
    let acc = store.open_account("a").await.expect("open");
    let inbox = acc.mailbox("INBOX").await.expect("inbox");
    let mut deleted = Flags::new();
    deleted.insert(SystemFlag::Deleted);
    for round in 0..20u32 {
        let msg = NewMessage {
            data: Bytes::from(format!("Subject: r\r\n\r\nword{round}zz\r\n")),
            flags: deleted.clone(),
            internal_date: None,
            structure: Bytes::new(),
        };
        let out = acc.append(inbox.id, vec![msg]).await.expect("append");
        let uid = out.uids.first().copied().expect("uid");
        // Every other round lets the indexer reach the doc first.
        if round % 2 == 0 {
            wait_indexed(dir.path()).await;
        }
        let hits = acc
            .search_index(inbox.id, TextField::Body, &format!("WORD{round}ZZ"))
            .await
            .expect("search")
            .expect("index");
        assert_eq!(hits.hits, vec![uid], "round {round}: the new text is found");
        if round > 0 {
            let old = acc
                .search_index(inbox.id, TextField::Body, &format!("WORD{}ZZ", round - 1))
                .await
                .expect("search")
                .expect("index");
            assert!(old.hits.is_empty(), "round {round}: the old text is gone");
        }
        acc.expunge(inbox.id, None).await.expect("expunge");
    }
    assert_eq!(wait_indexed(dir.path()).await, (0, 0));
}

/// Text beyond the index's size limit: the index may still say "yes" for
/// the message, but never "no" (it lists it as unsure, and SEARCH reads it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_beyond_the_limit_is_unsure() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path()).expect("open");
    store.create_account("a", "x").await.expect("create");
    let acc = store.open_account("a").await.expect("open");
    let inbox = acc.mailbox("INBOX").await.expect("inbox");
    let mut body = "filler text line\r\n".repeat(40_000); // ~720 KiB
    body.push_str("needle at the very end\r\n");
    let big = NewMessage {
        data: Bytes::from(format!("Subject: big\r\n\r\n{body}")),
        flags: Flags::new(),
        internal_date: None,
        structure: Bytes::new(),
    };
    let small = NewMessage {
        data: Bytes::from_static(b"Subject: small\r\n\r\nfiller\r\n"),
        flags: Flags::new(),
        internal_date: None,
        structure: Bytes::new(),
    };
    acc.append(inbox.id, vec![big, small])
        .await
        .expect("append");
    let end = acc
        .search_index(inbox.id, TextField::Body, "NEEDLE AT THE VERY END")
        .await
        .expect("search")
        .expect("index");
    assert_eq!(end.unsure, vec![Uid(1)], "the cut message is unsure");
    assert!(!end.hits.contains(&Uid(2)));
    let start = acc
        .search_index(inbox.id, TextField::Body, "FILLER")
        .await
        .expect("search")
        .expect("index");
    assert_eq!(
        start.hits,
        vec![Uid(1), Uid(2)],
        "text before the cut is found"
    );
}

/// The index database is a cache: deleted, replaced by another account's,
/// or made unreadable, it is built again at open, and searches stay exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_or_foreign_index_database_is_rebuilt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let accounts = dir.path().join("accounts");
    {
        let store = SqliteStore::open(dir.path()).expect("open");
        for (name, word) in [("a", "ALPHAWORD"), ("b", "BETAWORD")] {
            store.create_account(name, "x").await.expect("create");
            let acc = store.open_account(name).await.expect("open");
            let inbox = acc.mailbox("INBOX").await.expect("inbox");
            let msg = NewMessage {
                data: Bytes::from(format!("Subject: s\r\n\r\n{word} here\r\n")),
                flags: Flags::new(),
                internal_date: None,
                structure: Bytes::new(),
            };
            acc.append(inbox.id, vec![msg]).await.expect("append");
        }
        // Both indexers reach their docs before the store goes.
        let conn = inspect(dir.path());
        assert_eq!(wait_indexed(dir.path()).await, (0, 0));
        drop(conn);
    }
    let search = |word: &'static str| {
        let dir = dir.path().to_path_buf();
        async move {
            let store = SqliteStore::open(&dir).expect("open");
            let acc = store.open_account("a").await.expect("open");
            let inbox = acc.mailbox("INBOX").await.expect("inbox");
            acc.search_index(inbox.id, TextField::Body, word)
                .await
                .expect("search")
                .expect("index")
                .hits
        }
    };
    let remove = |dir: &std::path::Path| {
        for f in ["1.search.db", "1.search.db-wal", "1.search.db-shm"] {
            let _ = std::fs::remove_file(dir.join(f));
        }
    };
    // Deleted.
    remove(&accounts);
    assert_eq!(search("ALPHAWORD").await, vec![Uid(1)]);
    // Another account's (its token differs): b's word must not be found.
    remove(&accounts);
    std::fs::copy(accounts.join("2.search.db"), accounts.join("1.search.db")).expect("copy");
    assert_eq!(search("ALPHAWORD").await, vec![Uid(1)]);
    assert!(search("BETAWORD").await.is_empty());
    // Not a database at all.
    remove(&accounts);
    std::fs::write(accounts.join("1.search.db"), b"this is not sqlite").expect("write");
    assert_eq!(search("ALPHAWORD").await, vec![Uid(1)]);
    assert_eq!(wait_indexed(dir.path()).await, (0, 0));
}

/// An index database that cannot be made (here a directory stands where
/// its file goes) does not keep the account from opening: the backend
/// answers "no index", so SEARCH reads the messages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_index_database_leaves_the_account_usable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path()).expect("open");
    store.create_account("a", "x").await.expect("create");
    std::fs::create_dir(dir.path().join("accounts").join("1.search.db")).expect("mkdir");
    let acc = store
        .open_account("a")
        .await
        .expect("open without an index");
    let inbox = acc.mailbox("INBOX").await.expect("inbox");
    let msg = NewMessage {
        data: Bytes::from_static(b"Subject: s\r\n\r\nstill stored\r\n"),
        flags: Flags::new(),
        internal_date: None,
        structure: Bytes::new(),
    };
    acc.append(inbox.id, vec![msg]).await.expect("append");
    assert!(
        acc.search_index(inbox.id, TextField::Body, "STILL")
            .await
            .expect("search")
            .is_none(),
        "no index: the caller reads the messages"
    );
}
