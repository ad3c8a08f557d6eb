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
        let off = SqliteConfig {
            search_index: false,
            ..Default::default()
        };
        let store = SqliteStore::open_with(dir.path(), off).expect("open");
        store.create_account("a", "x").await.expect("create");
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
    drop(acc);
    drop(store);
    // Opening the account moves the last pending docs into the FTS index.
    {
        let store = SqliteStore::open(dir.path()).expect("reopen");
        let _acc = store.open_account("a").await.expect("open");
    }
    let db = dir.path().join("accounts").join("1.db");
    let conn = rusqlite::Connection::open(db).expect("inspect");
    conn.execute(
        "INSERT INTO search_fts(search_fts, rank) VALUES('integrity-check', 1)",
        [],
    )
    .expect("FTS index consistent with its content");
    let pending: i64 = conn
        .query_row("SELECT count(*) FROM search_pending", [], |r| r.get(0))
        .expect("count");
    assert_eq!(pending, 0, "nothing left pending after commits");
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
