//! Rule-by-rule conformance cases.

use super::import::*;
use super::index::*;
use super::mail::*;
use super::objects::*;
use super::parts::*;
use super::{Case, CaseFuture, account, expect_err, flags, mailbox, message, names, ok};
use crate::*;
use SystemFlag::{Flagged, Seen};
use std::sync::Arc;

macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        pub(super) fn list<S: Store>() -> Vec<Case<S>> {
            vec![$((stringify!($name), {
                fn wrap<S: Store>(s: &S) -> CaseFuture<'_> {
                    Box::pin($name(s))
                }
                wrap::<S> as fn(&S) -> CaseFuture<'_>
            })),*]
        }
    };
}

cases!(
    accounts,
    shared_handles,
    default_mailboxes,
    naming_errors,
    hierarchy_create_delete,
    rename_moves_children,
    rename_inbox,
    subscriptions,
    append_uids_and_status,
    fetch_meta_ranges,
    flag_operations,
    unchanged_since,
    expunge_and_tombstones,
    copy_preserves,
    move_is_copy_plus_expunge,
    modseq_per_mailbox,
    uids_never_reused,
    recreate_gives_new_uidvalidity,
    unknown_mailbox,
    shared_bytes_survive,
    change_feed,
    concurrent_appends,
    account_isolation,
    structure_round_trip,
    read_range_edges,
    batch_reads_match_single,
    index_answers_are_exact,
    object_ids,
    import_keeps_uids,
);

async fn accounts<S: Store>(store: &S) {
    ok(store.create_account("bob", "c1").await, "create bob");
    ok(store.create_account("alice", "c2").await, "create alice");
    expect_err(
        store.create_account("bob", "x").await,
        &StoreError::AccountExists,
        "create bob twice",
    );
    assert_eq!(
        ok(store.list_accounts().await, "list"),
        vec!["alice", "bob"],
        "accounts sorted"
    );
    assert_eq!(
        ok(store.credential("bob").await, "cred"),
        Some("c1".to_string())
    );
    ok(store.set_credential("bob", "c3").await, "set_credential");
    assert_eq!(
        ok(store.credential("bob").await, "cred"),
        Some("c3".to_string())
    );
    assert_eq!(ok(store.credential("nobody").await, "cred"), None);
    expect_err(
        store.set_credential("nobody", "x").await,
        &StoreError::NoSuchAccount,
        "set_credential missing",
    );
    expect_err(
        store.open_account("nobody").await.map(|_| ()),
        &StoreError::NoSuchAccount,
        "open missing",
    );
    // Deleting removes the mail too: a re-created account starts fresh.
    let bob = ok(store.open_account("bob").await, "open bob");
    let inbox = mailbox(&*bob, "INBOX").await;
    ok(
        bob.append(inbox.id, vec![message("x", Flags::new())]).await,
        "append",
    );
    ok(bob.create_mailbox("Private", &[]).await, "create");
    drop(bob);
    ok(store.delete_account("bob").await, "delete bob");
    expect_err(
        store.delete_account("bob").await,
        &StoreError::NoSuchAccount,
        "delete bob twice",
    );
    assert_eq!(ok(store.list_accounts().await, "list"), vec!["alice"]);
    assert_eq!(ok(store.credential("bob").await, "cred"), None);
    expect_err(
        store.open_account("bob").await.map(|_| ()),
        &StoreError::NoSuchAccount,
        "open deleted",
    );
    let bob = account(store, "bob").await;
    assert!(
        !names(&*bob).await.contains(&"Private".to_string()),
        "re-created account has old mailboxes"
    );
    let inbox = mailbox(&*bob, "INBOX").await;
    assert_eq!(
        ok(bob.status(inbox.id).await, "status").messages,
        0,
        "re-created account has old mail"
    );
}

async fn shared_handles<S: Store>(store: &S) {
    let a = account(store, "alice").await;
    let b = ok(store.open_account("alice").await, "open again");
    assert!(
        Arc::as_ptr(&a) as *const () == Arc::as_ptr(&b) as *const (),
        "open_account must return the same handle while one is alive"
    );
    assert_eq!(a.name(), "alice");
}

async fn default_mailboxes<S: Store>(store: &S) {
    let acc = account(store, "alice").await;
    let list = ok(acc.list_mailboxes().await, "list");
    let got: Vec<(&str, &[SpecialUse])> = list
        .iter()
        .map(|m| (m.name.as_str(), &m.special_use[..]))
        .collect();
    let want: Vec<(&str, &[SpecialUse])> = vec![
        ("Archive", &[SpecialUse::Archive]),
        ("Drafts", &[SpecialUse::Drafts]),
        ("INBOX", &[]),
        ("Junk", &[SpecialUse::Junk]),
        ("Sent", &[SpecialUse::Sent]),
        ("Trash", &[SpecialUse::Trash]),
    ];
    assert_eq!(got, want, "default mailboxes, sorted, with special-use");
    assert_eq!(
        ok(acc.subscriptions().await, "subscriptions"),
        vec!["Archive", "Drafts", "INBOX", "Junk", "Sent", "Trash"],
        "defaults are subscribed"
    );
    let mut ids = Vec::new();
    for m in &list {
        let st = ok(acc.status(m.id).await, "status");
        assert_eq!(
            (st.messages, st.unseen, st.deleted, st.size),
            (0, 0, 0, 0),
            "{} empty",
            m.name
        );
        assert_eq!(st.uid_next, Uid(1), "{} UIDNEXT", m.name);
        assert_eq!(st.uid_validity, m.uid_validity, "{} UIDVALIDITY", m.name);
        assert!(st.uid_validity.0 != 0, "UIDVALIDITY is never 0");
        ids.push(m.id);
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 6, "mailbox ids are distinct");
    let created = ok(
        acc.create_mailbox("Flagged", &[SpecialUse::Flagged]).await,
        "create",
    );
    assert_eq!(created.special_use, vec![SpecialUse::Flagged]);
    assert_eq!(
        mailbox(&*acc, "Flagged").await,
        created,
        "mailbox() returns what create returned"
    );
}

async fn naming_errors<S: Store>(store: &S) {
    let acc = account(store, "alice").await;
    let long = "x".repeat(1001);
    for bad in [
        "",
        "/a",
        "a/",
        "a//b",
        "a/./b",
        "a/..",
        ".",
        "a\nb",
        "a\rb",
        "a\0b",
        long.as_str(),
    ] {
        expect_err(
            acc.create_mailbox(bad, &[]).await,
            &StoreError::InvalidName(String::new()),
            &format!("create {bad:?}"),
        );
    }
    ok(
        acc.create_mailbox(&"y".repeat(1000), &[]).await,
        "1000-byte name is fine",
    );
    ok(acc.create_mailbox("Ünïcødé ✓", &[]).await, "UTF-8 name");
    expect_err(
        acc.create_mailbox("inbox", &[]).await,
        &StoreError::MailboxExists,
        "create inbox",
    );
    expect_err(
        acc.create_mailbox("INBOX", &[]).await,
        &StoreError::MailboxExists,
        "create INBOX",
    );
    expect_err(
        acc.create_mailbox("Sent", &[]).await,
        &StoreError::MailboxExists,
        "create Sent",
    );
    assert_eq!(
        mailbox(&*acc, "iNbOx").await.name,
        "INBOX",
        "INBOX is case-insensitive"
    );
    expect_err(
        acc.mailbox("sent").await,
        &StoreError::NoSuchMailbox,
        "other names are case-sensitive",
    );
    let before = names(&*acc).await;
    expect_err(
        acc.create_mailbox("a//b", &[]).await,
        &StoreError::InvalidName(String::new()),
        "bad",
    );
    assert_eq!(
        names(&*acc).await,
        before,
        "a failed create changes nothing"
    );
}

async fn hierarchy_create_delete<S: Store>(store: &S) {
    let acc = account(store, "alice").await;
    ok(acc.create_mailbox("a/b/c", &[]).await, "create a/b/c");
    let all = names(&*acc).await;
    for n in ["a", "a/b", "a/b/c"] {
        assert!(
            all.contains(&n.to_string()),
            "create makes parent {n}: {all:?}"
        );
    }
    expect_err(
        acc.create_mailbox("a/b", &[]).await,
        &StoreError::MailboxExists,
        "create parent again",
    );
    let c = mailbox(&*acc, "a/b/c").await;
    ok(
        acc.append(c.id, vec![message("1", Flags::new())]).await,
        "append",
    );
    ok(acc.delete_mailbox("a").await, "delete a");
    let all = names(&*acc).await;
    assert!(!all.contains(&"a".to_string()), "a deleted");
    assert!(
        all.contains(&"a/b".to_string()) && all.contains(&"a/b/c".to_string()),
        "children kept"
    );
    assert_eq!(
        mailbox(&*acc, "a/b/c").await.id,
        c.id,
        "child identity kept"
    );
    assert_eq!(
        ok(acc.status(c.id).await, "status").messages,
        1,
        "child messages kept"
    );
    expect_err(
        acc.delete_mailbox("a").await,
        &StoreError::NoSuchMailbox,
        "delete a twice",
    );
    expect_err(
        acc.delete_mailbox("INBOX").await,
        &StoreError::NotAllowed(String::new()),
        "delete INBOX",
    );
    expect_err(
        acc.delete_mailbox("inbox").await,
        &StoreError::NotAllowed(String::new()),
        "delete inbox",
    );
    ok(acc.delete_mailbox("a/b/c").await, "delete leaf");
    expect_err(
        acc.status(c.id).await,
        &StoreError::NoSuchMailbox,
        "status of deleted mailbox",
    );
    ok(acc.create_mailbox("a", &[]).await, "re-create a");
}

async fn rename_moves_children<S: Store>(store: &S) {
    let acc = account(store, "alice").await;
    ok(acc.create_mailbox("a/x/y", &[]).await, "create");
    ok(
        acc.create_mailbox("ab", &[]).await,
        "create sibling with same prefix",
    );
    let a = mailbox(&*acc, "a").await;
    let ax = mailbox(&*acc, "a/x").await;
    let out = ok(
        acc.append(ax.id, vec![message("m", flags(&[Seen], &["k"]))])
            .await,
        "append",
    );
    ok(acc.rename_mailbox("a", "b").await, "rename a b");
    let all = names(&*acc).await;
    for gone in ["a", "a/x", "a/x/y"] {
        assert!(
            !all.contains(&gone.to_string()),
            "{gone} renamed away: {all:?}"
        );
    }
    for new in ["b", "b/x", "b/x/y", "ab"] {
        assert!(
            all.contains(&new.to_string()),
            "{new} exists after rename: {all:?}"
        );
    }
    let bx = mailbox(&*acc, "b/x").await;
    assert_eq!(bx.id, ax.id, "rename keeps the mailbox id");
    assert_eq!(bx.uid_validity, ax.uid_validity, "rename keeps UIDVALIDITY");
    assert_eq!(mailbox(&*acc, "b").await.id, a.id);
    let meta = ok(acc.fetch_meta(bx.id, &UidSet::range(1, 100)).await, "fetch");
    assert_eq!(meta.len(), 1, "messages travel with the mailbox");
    assert_eq!(meta[0].uid, out.uids[0]);
    assert_eq!(meta[0].flags, flags(&[Seen], &["k"]));
    expect_err(
        acc.rename_mailbox("b", "Sent").await,
        &StoreError::MailboxExists,
        "rename onto existing",
    );
    expect_err(
        acc.rename_mailbox("b", "inbox").await,
        &StoreError::MailboxExists,
        "rename onto INBOX",
    );
    expect_err(
        acc.rename_mailbox("nope", "zz").await,
        &StoreError::NoSuchMailbox,
        "rename missing",
    );
    expect_err(
        acc.rename_mailbox("b", "c//d").await,
        &StoreError::InvalidName(String::new()),
        "bad target",
    );
    assert!(
        acc.rename_mailbox("b", "b/x/z").await.is_err(),
        "rename under itself must fail"
    );
    ok(
        acc.rename_mailbox("b/x/y", "p/q/r").await,
        "rename creates target parents",
    );
    let all = names(&*acc).await;
    for n in ["p", "p/q", "p/q/r"] {
        assert!(all.contains(&n.to_string()), "{n} after rename: {all:?}");
    }
}

async fn rename_inbox<S: Store>(store: &S) {
    let acc = account(store, "alice").await;
    ok(
        acc.create_mailbox("INBOX/child", &[]).await,
        "create INBOX child",
    );
    let inbox = mailbox(&*acc, "INBOX").await;
    let msgs = vec![
        message("1", flags(&[Seen], &[])),
        message("2", flags(&[Flagged], &["$label"])),
        message("3", Flags::new()),
    ];
    let bodies: Vec<_> = msgs.iter().map(|m| m.data.clone()).collect();
    ok(acc.append(inbox.id, msgs).await, "append");
    let before = ok(acc.status(inbox.id).await, "status");
    ok(
        acc.rename_mailbox("INBOX", "Old/Inbox").await,
        "rename INBOX",
    );
    let after = mailbox(&*acc, "INBOX").await;
    assert_eq!(after.id, inbox.id, "INBOX stays the same mailbox");
    let st = ok(acc.status(inbox.id).await, "status");
    assert_eq!(st.messages, 0, "INBOX is empty after rename");
    assert!(
        st.uid_next >= before.uid_next,
        "INBOX UIDNEXT never goes back"
    );
    assert!(
        st.highest_modseq > before.highest_modseq,
        "removing messages bumps INBOX MODSEQ"
    );
    assert!(
        names(&*acc).await.contains(&"INBOX/child".to_string()),
        "INBOX children stay"
    );
    let old = mailbox(&*acc, "Old/Inbox").await;
    assert_ne!(old.id, inbox.id);
    let snap = ok(acc.snapshot(old.id).await, "snapshot");
    assert_eq!(snap.messages.len(), 3, "messages moved to the new name");
    assert_eq!(snap.messages[0].flags, flags(&[Seen], &[]));
    assert_eq!(snap.messages[1].flags, flags(&[Flagged], &["$label"]));
    for (m, body) in snap.messages.iter().zip(&bodies) {
        assert_eq!(
            &ok(acc.read_message(old.id, m.uid).await, "read"),
            body,
            "bytes moved"
        );
    }
    let ch = ok(
        acc.changes_since(inbox.id, before.highest_modseq).await,
        "changes",
    );
    assert_eq!(
        ch.vanished,
        vec![Uid(1), Uid(2), Uid(3)],
        "INBOX reports the moved UIDs as vanished"
    );
    let again = ok(
        acc.append(inbox.id, vec![message("4", Flags::new())]).await,
        "append again",
    );
    assert!(
        again.uids[0] >= before.uid_next,
        "INBOX UIDs are not reused"
    );
}

async fn subscriptions<S: Store>(store: &S) {
    let acc = account(store, "alice").await;
    ok(acc.set_subscribed("Sent", false).await, "unsubscribe");
    ok(acc.set_subscribed("Sent", false).await, "unsubscribe twice");
    ok(
        acc.set_subscribed("zz/does-not-exist", true).await,
        "subscribe nonexistent",
    );
    ok(acc.set_subscribed("Junk", true).await, "subscribe twice");
    assert_eq!(
        ok(acc.subscriptions().await, "subs"),
        vec![
            "Archive",
            "Drafts",
            "INBOX",
            "Junk",
            "Trash",
            "zz/does-not-exist"
        ]
    );
    ok(acc.create_mailbox("Lists", &[]).await, "create");
    ok(acc.set_subscribed("Lists", true).await, "subscribe");
    ok(acc.delete_mailbox("Lists").await, "delete");
    assert!(
        ok(acc.subscriptions().await, "subs").contains(&"Lists".to_string()),
        "deleting a mailbox keeps its subscription (RFC 9051 6.3.9)"
    );
}
