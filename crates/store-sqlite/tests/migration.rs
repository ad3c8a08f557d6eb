//! Opening an account database written by schema version 1 (before
//! `blobs.structure`) migrates it in place; its messages stay readable.

use bytes::Bytes;
use rusqlite::{Connection, params};
use tidemark_store::*;
use tidemark_store_sqlite::SqliteStore;

/// The version-1 account schema, verbatim as the first release created it.
const ACCOUNT_V1: &str = "
CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE mailboxes(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    uidvalidity INTEGER NOT NULL,
    uidnext INTEGER NOT NULL,
    highestmodseq INTEGER NOT NULL,
    special_use TEXT NOT NULL DEFAULT '',
    created INTEGER NOT NULL,
    messages INTEGER NOT NULL DEFAULT 0,
    unseen INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0,
    size INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE blobs(
    id INTEGER PRIMARY KEY,
    sha256 BLOB NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    refcount INTEGER NOT NULL DEFAULT 0,
    data BLOB NOT NULL
);
CREATE TABLE messages(
    mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id),
    uid INTEGER NOT NULL,
    blob_id INTEGER NOT NULL REFERENCES blobs(id),
    flags INTEGER NOT NULL,
    keywords TEXT NOT NULL,
    internal_date INTEGER NOT NULL,
    tz_offset INTEGER NOT NULL,
    size INTEGER NOT NULL,
    modseq INTEGER NOT NULL,
    PRIMARY KEY(mailbox_id, uid)
) WITHOUT ROWID;
CREATE INDEX messages_modseq ON messages(mailbox_id, modseq);
CREATE INDEX messages_blob ON messages(blob_id);
CREATE TABLE tombstones(
    mailbox_id INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    modseq INTEGER NOT NULL,
    PRIMARY KEY(mailbox_id, uid)
) WITHOUT ROWID;
CREATE INDEX tombstones_modseq ON tombstones(mailbox_id, modseq);
CREATE TABLE subscriptions(name TEXT PRIMARY KEY) WITHOUT ROWID;

CREATE TRIGGER messages_ins AFTER INSERT ON messages BEGIN
    UPDATE mailboxes SET
        messages = messages + 1,
        unseen = unseen + ((NEW.flags & 1) = 0),
        deleted = deleted + ((NEW.flags & 8) != 0),
        size = size + NEW.size
    WHERE id = NEW.mailbox_id;
    UPDATE blobs SET refcount = refcount + 1 WHERE id = NEW.blob_id;
END;
CREATE TRIGGER messages_del AFTER DELETE ON messages BEGIN
    UPDATE mailboxes SET
        messages = messages - 1,
        unseen = unseen - ((OLD.flags & 1) = 0),
        deleted = deleted - ((OLD.flags & 8) != 0),
        size = size - OLD.size
    WHERE id = OLD.mailbox_id;
    UPDATE blobs SET refcount = refcount - 1 WHERE id = OLD.blob_id;
    DELETE FROM blobs WHERE id = OLD.blob_id AND refcount <= 0;
END;
CREATE TRIGGER messages_upd AFTER UPDATE OF flags ON messages
WHEN (OLD.flags & 9) != (NEW.flags & 9) BEGIN
    UPDATE mailboxes SET
        unseen = unseen + ((NEW.flags & 1) = 0) - ((OLD.flags & 1) = 0),
        deleted = deleted + ((NEW.flags & 8) != 0) - ((OLD.flags & 8) != 0)
    WHERE id = NEW.mailbox_id;
END;
";

const OLD_1: &[u8] = b"Subject: old one\r\n\r\nwritten by schema 1\r\n";
const OLD_2: &[u8] = b"Subject: old two\r\n\r\nalso old\r\n";

/// Writes a version-1 account database the way the first release did: the
/// default mailboxes, INBOX holding two messages (UID 1 seen, UID 2 not).
fn write_v1(path: &std::path::Path) {
    let conn = Connection::open(path).expect("open v1");
    conn.pragma_update(None, "journal_mode", "WAL")
        .expect("wal");
    conn.execute_batch(ACCOUNT_V1).expect("v1 schema");
    conn.execute(
        "INSERT INTO meta(key, value) VALUES('schema_version', 1), ('next_uidvalidity', 1000)",
        [],
    )
    .expect("meta");
    for (i, (name, use_)) in [
        ("INBOX", ""),
        ("Drafts", "\\Drafts"),
        ("Sent", "\\Sent"),
        ("Trash", "\\Trash"),
        ("Junk", "\\Junk"),
        ("Archive", "\\Archive"),
    ]
    .into_iter()
    .enumerate()
    {
        conn.execute(
            "INSERT INTO mailboxes(name, uidvalidity, uidnext, highestmodseq, special_use, created)
             VALUES(?1, ?2, 1, 1, ?3, 0)",
            params![name, 900 + i as i64, use_],
        )
        .expect("mailbox");
        conn.execute("INSERT INTO subscriptions(name) VALUES(?1)", [name])
            .expect("subscribe");
    }
    for (uid, (data, flags)) in [(OLD_1, 1i64), (OLD_2, 0)].into_iter().enumerate() {
        let uid = uid as i64 + 1;
        let sha: Vec<u8> = (0..32).map(|b| (b as u8) ^ (uid as u8)).collect();
        conn.execute(
            "INSERT INTO blobs(id, sha256, size, refcount, data) VALUES(?1, ?2, ?3, 0, ?4)",
            params![uid, sha, data.len() as i64, data],
        )
        .expect("blob");
        conn.execute(
            "INSERT INTO messages(mailbox_id, uid, blob_id, flags, keywords, internal_date, tz_offset, size, modseq)
             VALUES(1, ?1, ?1, ?2, 'old', 1600000000, 60, ?3, 2)",
            params![uid, flags, data.len() as i64],
        )
        .expect("message");
    }
    conn.execute(
        "UPDATE mailboxes SET uidnext=3, highestmodseq=2 WHERE id=1",
        [],
    )
    .expect("counters");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_1_database_is_migrated() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Register the account, then replace its database with a version-1 one.
    {
        let store = SqliteStore::open(dir.path()).expect("open");
        store.create_account("old", "hash").await.expect("create");
    }
    let accounts = dir.path().join("accounts");
    let path = std::fs::read_dir(&accounts)
        .expect("list")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "db"))
        .expect("account database");
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.clone().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
    write_v1(&path);

    let store = SqliteStore::open(dir.path()).expect("reopen");
    let acc = store
        .open_account("old")
        .await
        .expect("open migrated account");
    let version: i64 = Connection::open(&path)
        .expect("inspect")
        .query_row(
            "SELECT value FROM meta WHERE key='schema_version'",
            [],
            |r| r.get(0),
        )
        .expect("version");
    assert_eq!(version, 7, "schema version bumped to the current one");
    let unseen_index: i64 = Connection::open(&path)
        .expect("inspect")
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type='index' AND name='messages_unseen'",
            [],
            |r| r.get(0),
        )
        .expect("index");
    assert_eq!(unseen_index, 1, "5 -> 6 created the unseen index");
    let (wrong_sums, with_mail): (i64, i64) = Connection::open(&path)
        .expect("inspect")
        .query_row(
            "SELECT (SELECT count(*) FROM mailboxes m WHERE
                        coalesce((SELECT uid_sum FROM mailbox_uid_sums WHERE mailbox_id = m.id), 0)
                        != (SELECT coalesce(sum(uid), 0) FROM messages WHERE mailbox_id = m.id)),
                    (SELECT count(*) FROM mailbox_uid_sums WHERE uid_sum > 0)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("sums");
    assert_eq!(
        (wrong_sums, with_mail > 0),
        (0, true),
        "5 -> 6 filled the UID sums"
    );
    let (blobs, threaded): (i64, i64) = Connection::open(&path)
        .expect("inspect")
        .query_row(
            "SELECT (SELECT count(*) FROM blobs), (SELECT count(*) FROM message_threads)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("threads");
    assert!(blobs > 0, "the old account has mail");
    assert_eq!(
        threaded, blobs,
        "6 -> 7: every stored message got a thread at open"
    );
    // The search index was built for the old messages at open.
    let found = acc
        .search_index(
            acc.mailbox("INBOX").await.expect("inbox").id,
            TextField::Body,
            "BY SCHEMA",
        )
        .await
        .expect("search")
        .expect("an index");
    assert_eq!(found.hits, vec![Uid(1)]);
    assert!(found.unsure.is_empty());
    let header = acc
        .search_index(
            acc.mailbox("INBOX").await.expect("inbox").id,
            TextField::Header,
            "SUBJECT: OLD",
        )
        .await
        .expect("search")
        .expect("an index");
    assert_eq!(header.hits, vec![Uid(1), Uid(2)]);

    let inbox = acc.mailbox("INBOX").await.expect("inbox");
    let st = acc.status(inbox.id).await.expect("status");
    assert_eq!((st.messages, st.unseen, st.uid_next), (2, 1, Uid(3)));
    let snap = acc.snapshot(inbox.id).await.expect("snapshot");
    assert_eq!(snap.messages.len(), 2);
    assert!(snap.messages[0].flags.contains(SystemFlag::Seen));
    assert_eq!(snap.messages[0].flags.keywords(), ["old".to_string()]);
    assert_eq!(snap.messages[0].internal_date.offset_minutes, 60);
    for (uid, data) in [(Uid(1), OLD_1), (Uid(2), OLD_2)] {
        assert_eq!(acc.read_message(inbox.id, uid).await.expect("read"), data);
        assert!(
            acc.read_structure(inbox.id, uid)
                .await
                .expect("structure")
                .is_empty(),
            "old messages have no structure"
        );
        assert_eq!(
            acc.read_range(inbox.id, uid, 9, 3).await.expect("range"),
            data[9..12]
        );
    }

    // Old and new messages live together; COPY and EXPUNGE still work.
    let new = NewMessage {
        data: Bytes::from_static(b"Subject: new\r\n\r\nafter migration\r\n"),
        flags: Flags::new(),
        internal_date: None,
        structure: Bytes::from_static(b"parsed"),
    };
    let out = acc
        .append(inbox.id, vec![new.clone()])
        .await
        .expect("append");
    assert_eq!(out.uids, vec![Uid(3)]);
    assert_eq!(
        acc.read_structure(inbox.id, Uid(3))
            .await
            .expect("structure"),
        new.structure
    );
    let arch = acc.mailbox("Archive").await.expect("archive");
    acc.copy(inbox.id, &UidSet::range(1, 3), arch.id)
        .await
        .expect("copy");
    let mut del = Flags::new();
    del.insert(SystemFlag::Deleted);
    let upd = FlagUpdate {
        op: FlagOp::Add,
        flags: del,
        unchanged_since: None,
    };
    acc.store_flags(inbox.id, &UidSet::range(1, 3), &upd)
        .await
        .expect("store");
    acc.expunge(inbox.id, None).await.expect("expunge");
    assert_eq!(
        acc.read_message(arch.id, Uid(1)).await.expect("copy"),
        OLD_1
    );
    assert_eq!(
        acc.read_structure(arch.id, Uid(3)).await.expect("copy"),
        new.structure
    );
    drop(acc);
    drop(store);

    // Opening again is a no-op: already at the current version.
    let store = SqliteStore::open(dir.path()).expect("reopen again");
    let acc = store.open_account("old").await.expect("open again");
    assert_eq!(
        acc.read_message(arch.id, Uid(2)).await.expect("read"),
        OLD_2
    );
    // The migrated triggers drop a blob with its last message.
    acc.store_flags(arch.id, &UidSet::range(1, 3), &upd)
        .await
        .expect("store");
    acc.expunge(arch.id, None).await.expect("expunge");
    drop(acc);
    drop(store);
    let blobs: i64 = Connection::open(&path)
        .expect("inspect")
        .query_row("SELECT count(*) FROM blobs", [], |r| r.get(0))
        .expect("count");
    assert_eq!(blobs, 0, "no message refers to any blob any more");
    let docs: i64 = Connection::open(&path)
        .expect("inspect")
        .query_row(
            "SELECT (SELECT count(*) FROM search_docs) + (SELECT count(*) FROM search_summaries)",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(docs, 0, "the index forgets a dropped blob");
    // The FTS table moved to the index database; FTS5 checks itself there.
    Connection::open(path.with_extension("search.db"))
        .expect("inspect")
        .execute(
            "INSERT INTO search_fts(search_fts, rank) VALUES('integrity-check', 1)",
            [],
        )
        .expect("index consistent with its content");
}

/// Schema 4 kept the FTS table in the account database; schema 5 moves it
/// to the index database, built again from the docs at open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_4_index_moves_to_its_own_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path()).expect("open");
    store.create_account("a", "x").await.expect("create");
    let acc = store.open_account("a").await.expect("open");
    let inbox = acc.mailbox("INBOX").await.expect("inbox").id;
    let msg = NewMessage {
        data: Bytes::from_static(b"Subject: old\r\n\r\nan unmistakable phrase\r\n"),
        flags: Flags::new(),
        internal_date: None,
        structure: Bytes::new(),
    };
    acc.append(inbox, vec![msg]).await.expect("append");
    drop(acc);
    drop(store);
    // Make it a schema 4 database: its queue and FTS table, no index file.
    let accounts = dir.path().join("accounts");
    let path = accounts.join("1.db");
    for f in ["1.search.db", "1.search.db-wal", "1.search.db-shm"] {
        let _ = std::fs::remove_file(accounts.join(f));
    }
    Connection::open(&path)
        .expect("inspect")
        .execute_batch(
            "DROP TRIGGER search_docs_del; DROP TABLE search_pending; DROP TABLE search_gone;
             CREATE VIRTUAL TABLE search_fts USING fts5(
                 trigrams, content='', contentless_delete=1,
                 tokenize='trigram case_sensitive 1', detail=none);
             CREATE TABLE search_pending(id INTEGER PRIMARY KEY, trigrams TEXT NOT NULL);
             INSERT INTO search_pending(id, trigrams) SELECT id, 'xyz' FROM search_docs;
             CREATE TRIGGER search_docs_del AFTER DELETE ON search_docs BEGIN
                 DELETE FROM search_pending WHERE id = OLD.id;
             END;
             UPDATE meta SET value = 4 WHERE key = 'schema_version';
             DELETE FROM meta WHERE key LIKE 'search_%';",
        )
        .expect("downgrade");
    let store = SqliteStore::open(dir.path()).expect("open");
    let acc = store.open_account("a").await.expect("open migrated");
    let found = acc
        .search_index(inbox, TextField::Body, "UNMISTAKABLE PHRASE")
        .await
        .expect("search")
        .expect("index");
    assert_eq!(found.hits, vec![Uid(1)]);
    let conn = Connection::open(&path).expect("inspect");
    let (version, fts_left): (i64, i64) = conn
        .query_row(
            "SELECT (SELECT value FROM meta WHERE key='schema_version'),
                    (SELECT count(*) FROM sqlite_master WHERE name='search_fts')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("inspect");
    assert_eq!(
        (version, fts_left),
        (7, 0),
        "migrated, old FTS table dropped"
    );
    // The doc is queued for the new index (or already in it).
    conn.execute(
        "ATTACH DATABASE ?1 AS idx",
        [accounts.join("1.search.db").to_str().expect("utf-8")],
    )
    .expect("attach");
    let covered: i64 = conn
        .query_row(
            "SELECT count(*) FROM search_docs d WHERE d.id IN (SELECT id FROM idx.search_fts_docsize)
               OR d.id IN (SELECT id FROM search_pending
                           WHERE seq > (SELECT value FROM idx.search_state WHERE key='pending'))",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(covered, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let store = SqliteStore::open(dir.path()).expect("open");
        store
            .create_account("future", "hash")
            .await
            .expect("create");
    }
    let path = dir.path().join("accounts").join("1.db");
    Connection::open(&path)
        .expect("open")
        .execute("UPDATE meta SET value=99 WHERE key='schema_version'", [])
        .expect("bump");
    let store = SqliteStore::open(dir.path()).expect("reopen");
    match store.open_account("future").await {
        Err(StoreError::Internal(msg)) => assert!(msg.contains("99"), "{msg}"),
        Err(e) => panic!("unexpected error {e:?}"),
        Ok(_) => panic!("a database from a newer release must not be opened"),
    }
}
