//! Database schemas and migrations.
//!
//! Two kinds of database: the directory `accounts.db` (names and
//! credentials) and one database per account holding its mail.

use crate::db::{Db, now_unix};
use rusqlite::{Connection, OptionalExtension, params};
use tidemark_store::{SpecialUse, StoreResult};

/// Schema version of an account database.
///
/// History: 1 = the first release; 2 = `blobs.structure` (the caller's
/// parsed MIME structure, stored once per distinct message bytes); 3 = blobs
/// dropped by trigger instead of reference counts; 4 = the search index
/// (`crate::index::INDEX_SCHEMA`).
pub(crate) const ACCOUNT_SCHEMA_VERSION: i64 = 7;
/// Schema version of `accounts.db`.
pub(crate) const DIRECTORY_SCHEMA_VERSION: i64 = 1;

const DIRECTORY_V1: &str = "
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS accounts(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    credential TEXT NOT NULL,
    created INTEGER NOT NULL
);
";

/// The current account schema, for new databases (older ones are brought to
/// it by [`ACCOUNT_MIGRATIONS`]; `tests/migration.rs` keeps version 1).
///
/// Message counters (messages, unseen, deleted, size) live in the mailbox
/// row and are kept exact by triggers, so STATUS is a single-row read. Blob
/// references are not counted in the blob row: updating a counter there
/// made SQLite rewrite the whole row, body included (COPY or EXPUNGE of a
/// 50 MB message took ~350 ms); instead the delete trigger removes a blob
/// when no message refers to it any more (indexed by `messages_blob`).
/// `blobs.refcount` is unused since version 3.
///
/// `blobs.structure` comes before `data` on purpose: SQLite reaches a
/// column stored after a large value only by walking that value's overflow
/// pages (measured: 23 ms for a 50 MB message), so a structure placed first
/// reads in microseconds. Databases migrated from version 1 have it last
/// (ADD COLUMN appends); only messages stored after such a migration pay.
const ACCOUNT_SCHEMA: &str = "
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
    structure BLOB,
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

CREATE TRIGGER messages_upd AFTER UPDATE OF flags ON messages
WHEN (OLD.flags & 9) != (NEW.flags & 9) BEGIN
    UPDATE mailboxes SET
        unseen = unseen + ((NEW.flags & 1) = 0) - ((OLD.flags & 1) = 0),
        deleted = deleted + ((NEW.flags & 8) != 0) - ((OLD.flags & 8) != 0)
    WHERE id = NEW.mailbox_id;
END;
";

/// The triggers that keep mailbox counters exact and drop a blob with the
/// last message that refers to it. Created with the schema, and again by
/// the 2 -> 3 migration after it drops the old (reference-counting) ones.
const MESSAGE_TRIGGERS: &str = "
CREATE TRIGGER messages_ins AFTER INSERT ON messages BEGIN
    UPDATE mailboxes SET
        messages = messages + 1,
        unseen = unseen + ((NEW.flags & 1) = 0),
        deleted = deleted + ((NEW.flags & 8) != 0),
        size = size + NEW.size
    WHERE id = NEW.mailbox_id;
END;
CREATE TRIGGER messages_del AFTER DELETE ON messages BEGIN
    UPDATE mailboxes SET
        messages = messages - 1,
        unseen = unseen - ((OLD.flags & 1) = 0),
        deleted = deleted - ((OLD.flags & 8) != 0),
        size = size - OLD.size
    WHERE id = OLD.mailbox_id;
    DELETE FROM blobs WHERE id = OLD.blob_id
        AND NOT EXISTS (SELECT 1 FROM messages WHERE blob_id = OLD.blob_id);
END;
";

/// Migrations of account databases: entry `i` takes a database from schema
/// version `i + 1` to `i + 2`, running its statements then, for the steps in
/// [`RECREATES_TRIGGERS`], [`MESSAGE_TRIGGERS`]. Each runs inside the
/// opening transaction.
const ACCOUNT_MIGRATIONS: [&str; 6] = [
    // 1 -> 2: the parsed MIME structure of the message bytes. NULL (old
    // rows) reads as "none stored". ADD COLUMN does not rewrite the table,
    // so this is instant even for a large database.
    "ALTER TABLE blobs ADD COLUMN structure BLOB;",
    // 2 -> 3: blob references are no longer counted in the blob row (see
    // ACCOUNT_SCHEMA); MESSAGE_TRIGGERS are created again after this.
    "DROP TRIGGER messages_ins; DROP TRIGGER messages_del;",
    // 3 -> 4: the search index; its docs are built by `index::rebuild` when
    // the account is opened.
    crate::index::INDEX_SCHEMA,
    // 4 -> 5: the FTS table moves to the index database (`indexer.rs`),
    // which is built from the docs when the account is opened.
    crate::index::MIGRATE_TO_5,
    // 5 -> 6: what the sequence-map cache checks against and the first
    // unseen message without a scan (`views.rs`).
    crate::views::UID_SUMS_SCHEMA,
    // 6 -> 7: EMAILID / THREADID (`threads.rs`); the threads of stored
    // messages are assigned at open.
    crate::threads::THREADS_SCHEMA,
];

/// Migrations (by target version) after which [`MESSAGE_TRIGGERS`] are
/// created again.
const RECREATES_TRIGGERS: [i64; 1] = [3];

/// The mailboxes every new account starts with.
pub(crate) const DEFAULT_MAILBOXES: [(&str, Option<SpecialUse>); 6] = [
    ("INBOX", None),
    ("Drafts", Some(SpecialUse::Drafts)),
    ("Sent", Some(SpecialUse::Sent)),
    ("Trash", Some(SpecialUse::Trash)),
    ("Junk", Some(SpecialUse::Junk)),
    ("Archive", Some(SpecialUse::Archive)),
];

fn schema_version(conn: &Connection) -> StoreResult<Option<i64>> {
    let has_meta: bool = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='meta'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .db()?
        > 0;
    if !has_meta {
        return Ok(None);
    }
    conn.query_row(
        "SELECT value FROM meta WHERE key='schema_version'",
        [],
        |r| r.get(0),
    )
    .optional()
    .db()
}

/// Creates or migrates the directory database.
pub(crate) fn init_directory(conn: &Connection) -> StoreResult<()> {
    let tx = conn.unchecked_transaction().db()?;
    match schema_version(&tx)? {
        None => {
            tx.execute_batch(DIRECTORY_V1).db()?;
            tx.execute(
                "INSERT INTO meta(key, value) VALUES('schema_version', ?1)",
                [DIRECTORY_SCHEMA_VERSION],
            )
            .db()?;
        }
        Some(v) if v == DIRECTORY_SCHEMA_VERSION => {}
        Some(v) => {
            return Err(tidemark_store::StoreError::Internal(format!(
                "accounts.db has unknown schema version {v}"
            )));
        }
    }
    tx.commit().db()
}

/// Creates (with the default mailboxes) or migrates an account database.
pub(crate) fn init_account(conn: &Connection) -> StoreResult<()> {
    let tx = conn.unchecked_transaction().db()?;
    let existing = schema_version(&tx)?;
    let created = existing.is_none();
    let mut version = match existing {
        None => {
            tx.execute_batch(ACCOUNT_SCHEMA).db()?;
            tx.execute_batch(MESSAGE_TRIGGERS).db()?;
            tx.execute_batch(crate::index::INDEX_SCHEMA).db()?;
            tx.execute_batch(crate::views::UID_SUMS_SCHEMA).db()?;
            tx.execute_batch(crate::threads::THREADS_SCHEMA).db()?;
            let now = now_unix();
            // UIDVALIDITY values come from a per-account counter seeded from
            // the clock, so every mailbox incarnation gets a fresh one.
            let seed = (now as u64 & 0xffff_ffff).max(1) as i64;
            tx.execute(
                "INSERT INTO meta(key, value) VALUES('schema_version', ?1), ('next_uidvalidity', ?2),
                    ('threads_complete', 1)",
                params![ACCOUNT_SCHEMA_VERSION, seed],
            )
            .db()?;
            for (name, use_) in DEFAULT_MAILBOXES {
                let uses: Vec<SpecialUse> = use_.into_iter().collect();
                crate::mailbox::insert_mailbox(&tx, name, &uses, now)?;
                tx.execute("INSERT INTO subscriptions(name) VALUES(?1)", [name])
                    .db()?;
            }
            ACCOUNT_SCHEMA_VERSION
        }
        Some(v) => v,
    };
    if !(1..=ACCOUNT_SCHEMA_VERSION).contains(&version) {
        return Err(tidemark_store::StoreError::Internal(format!(
            "account database has unknown schema version {version}"
        )));
    }
    if version < ACCOUNT_SCHEMA_VERSION {
        let from = version;
        while version < ACCOUNT_SCHEMA_VERSION {
            let step = ACCOUNT_MIGRATIONS
                .get((version - 1) as usize)
                .ok_or_else(|| {
                    tidemark_store::StoreError::Internal(format!(
                        "no migration from account schema version {version}"
                    ))
                })?;
            tx.execute_batch(step).db()?;
            version += 1;
            if RECREATES_TRIGGERS.contains(&version) {
                tx.execute_batch(MESSAGE_TRIGGERS).db()?;
            }
        }
        tx.execute(
            "UPDATE meta SET value=?1 WHERE key='schema_version'",
            [ACCOUNT_SCHEMA_VERSION],
        )
        .db()?;
        if !created {
            tracing::info!("account database migrated from schema {from} to {version}");
        }
    }
    tx.commit().db()
}
