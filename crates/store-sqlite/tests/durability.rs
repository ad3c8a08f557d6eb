//! Backend-specific tests: reopening finds everything, group commit
//! isolates failing requests, deleted accounts stay deleted.

use bytes::Bytes;
use std::sync::Arc;
use tidemark_store::*;
use tidemark_store_sqlite::SqliteStore;

fn msg(body: &str, flags: Flags) -> NewMessage {
    NewMessage {
        data: Bytes::from(format!("Subject: t\r\n\r\n{body}\r\n")),
        flags,
        internal_date: None,
        structure: Bytes::new(),
    }
}

fn seen() -> Flags {
    let mut f = Flags::new();
    f.insert(SystemFlag::Seen);
    f.insert_keyword("$done".into());
    f
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reopen_finds_everything() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (inbox_status, work_status, snap, validity);
    {
        let store = SqliteStore::open(dir.path()).expect("open");
        store
            .create_account("alice", "hash1")
            .await
            .expect("create");
        store.create_account("bob", "hash2").await.expect("create");
        store.set_credential("bob", "hash3").await.expect("set");
        let acc = store.open_account("alice").await.expect("open");
        let work = acc
            .create_mailbox("Work/Projects", &[SpecialUse::Flagged])
            .await
            .expect("create");
        validity = work.uid_validity;
        acc.set_subscribed("Work/Projects", true)
            .await
            .expect("subscribe");
        let inbox = acc.mailbox("INBOX").await.expect("inbox");
        let msgs = (0..50)
            .map(|i| msg(&format!("m{i}"), Flags::new()))
            .collect();
        acc.append(inbox.id, msgs).await.expect("append");
        let upd = FlagUpdate {
            op: FlagOp::Add,
            flags: seen(),
            unchanged_since: None,
        };
        acc.store_flags(inbox.id, &UidSet::range(1, 10), &upd)
            .await
            .expect("store");
        let del = FlagUpdate {
            op: FlagOp::Add,
            flags: Flags::from_parts(8, []),
            unchanged_since: None,
        };
        acc.store_flags(inbox.id, &UidSet::range(41, 50), &del)
            .await
            .expect("store");
        acc.move_messages(inbox.id, &UidSet::range(11, 20), work.id)
            .await
            .expect("move");
        acc.expunge(inbox.id, None).await.expect("expunge");
        inbox_status = acc.status(inbox.id).await.expect("status");
        work_status = acc.status(work.id).await.expect("status");
        snap = acc.snapshot(inbox.id).await.expect("snapshot");
        store.delete_account("bob").await.expect("delete");
        store.create_account("bob", "new").await.expect("re-create");
    }
    let store = SqliteStore::open(dir.path()).expect("reopen");
    assert_eq!(
        store.list_accounts().await.expect("list"),
        vec!["alice", "bob"]
    );
    assert_eq!(
        store.credential("bob").await.expect("cred"),
        Some("new".into())
    );
    let acc = store.open_account("alice").await.expect("open");
    let inbox = acc.mailbox("INBOX").await.expect("inbox");
    let work = acc.mailbox("Work/Projects").await.expect("work");
    assert_eq!(work.uid_validity, validity);
    assert_eq!(work.special_use, vec![SpecialUse::Flagged]);
    assert!(
        acc.subscriptions()
            .await
            .expect("subs")
            .contains(&"Work/Projects".to_string())
    );
    assert!(
        acc.mailbox("Work").await.is_ok(),
        "parent created by CREATE persisted"
    );
    assert_eq!(acc.status(inbox.id).await.expect("status"), inbox_status);
    assert_eq!(acc.status(work.id).await.expect("status"), work_status);
    assert_eq!(acc.snapshot(inbox.id).await.expect("snapshot"), snap);
    assert_eq!(snap.messages.len(), 30);
    let body = acc.read_message(work.id, Uid(1)).await.expect("read");
    assert_eq!(body, msg("m10", Flags::new()).data);
    let ch = acc
        .changes_since(inbox.id, ModSeq(0))
        .await
        .expect("changes");
    assert_eq!(ch.vanished.len(), 20, "tombstones persisted");
    // New writes continue from the persisted counters.
    let out = acc
        .append(inbox.id, vec![msg("after", Flags::new())])
        .await
        .expect("append");
    assert_eq!(out.uids, vec![inbox_status.uid_next]);
    let bob = store.open_account("bob").await.expect("bob");
    let bob_inbox = bob.mailbox("INBOX").await.expect("inbox");
    assert_eq!(bob.status(bob_inbox.id).await.expect("status").messages, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_request_does_not_poison_its_batch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path()).expect("open");
    store.create_account("alice", "x").await.expect("create");
    let acc = store.open_account("alice").await.expect("open");
    let inbox = acc.mailbox("INBOX").await.expect("inbox");
    let mut tasks = Vec::new();
    for i in 0..40u64 {
        let acc: Arc<dyn Account> = acc.clone();
        tasks.push(tokio::spawn(async move {
            let target = if i % 2 == 0 {
                inbox.id
            } else {
                MailboxId(1_000_000 + i)
            };
            acc.append(target, vec![msg(&i.to_string(), Flags::new())])
                .await
        }));
    }
    for (i, t) in tasks.into_iter().enumerate() {
        let r = t.await.expect("task");
        if i % 2 == 0 {
            assert!(r.is_ok(), "good request {i} failed: {r:?}");
        } else {
            assert_eq!(r, Err(StoreError::NoSuchMailbox));
        }
    }
    assert_eq!(acc.status(inbox.id).await.expect("status").messages, 20);
}

#[tokio::test]
async fn deleted_account_handle_stops_working() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path()).expect("open");
    store.create_account("alice", "x").await.expect("create");
    let acc = store.open_account("alice").await.expect("open");
    let inbox = acc.mailbox("INBOX").await.expect("inbox");
    store.delete_account("alice").await.expect("delete");
    assert_eq!(acc.status(inbox.id).await, Err(StoreError::NoSuchAccount));
    assert_eq!(
        acc.append(inbox.id, vec![msg("x", Flags::new())]).await,
        Err(StoreError::NoSuchAccount)
    );
    assert_eq!(
        store.open_account("alice").await.map(|_| ()),
        Err(StoreError::NoSuchAccount)
    );
    let files: Vec<_> = std::fs::read_dir(dir.path().join("accounts"))
        .expect("ls")
        .collect();
    assert!(files.is_empty(), "account files removed: {files:?}");
}

#[tokio::test]
async fn open_rejects_nothing_odd_in_account_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path()).expect("open");
    // Names never reach the file system: path-like names are just names.
    for name in ["../../etc/passwd", "a/b", "C:\\x", "ünï@example.org"] {
        store.create_account(name, "x").await.expect("create");
        let acc = store.open_account(name).await.expect("open");
        assert_eq!(acc.name(), name);
    }
    assert!(store.create_account("", "x").await.is_err());
    assert!(store.create_account("a\nb", "x").await.is_err());
    let n = std::fs::read_dir(dir.path().join("accounts"))
        .expect("ls")
        .count();
    assert!(n >= 4, "one database per account under accounts/");
}

/// An account stays open for `linger` after its last handle is dropped (a
/// reconnect finds it warm), is closed at once with a zero linger, and a
/// deleted account does not linger.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_linger_after_the_last_handle() {
    use tidemark_store_sqlite::SqliteConfig;
    let same = |a: &Arc<dyn Account>, b: &Arc<dyn Account>| {
        std::ptr::addr_eq(Arc::as_ptr(a), Arc::as_ptr(b))
    };
    for (linger, expect_same) in [
        (std::time::Duration::from_secs(60), true),
        (std::time::Duration::ZERO, false),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = SqliteConfig {
            linger,
            ..Default::default()
        };
        let store = SqliteStore::open_with(dir.path(), config).expect("open");
        store.create_account("a", "x").await.expect("create");
        let first = store.open_account("a").await.expect("open");
        let weak = Arc::downgrade(&first);
        let again = store.open_account("a").await.expect("open");
        assert!(same(&first, &again), "shared while held");
        drop((first, again));
        assert_eq!(weak.strong_count() > 0, expect_same, "linger {linger:?}");
        if expect_same {
            store.delete_account("a").await.expect("delete");
            assert_eq!(weak.strong_count(), 0, "a deleted account is closed");
        }
    }
}
