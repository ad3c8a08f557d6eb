//! `Account::import_messages`: UIDs and UIDVALIDITY kept from another store.

use super::{account, expect_err, flags, mailbox, message, ok};
use crate::*;

fn batch(uid_validity: Option<u32>, uid_next: Option<u32>, uids: &[Option<u32>]) -> ImportBatch {
    ImportBatch {
        uid_validity: uid_validity.map(UidValidity),
        uid_next: uid_next.map(Uid),
        messages: uids
            .iter()
            .enumerate()
            .map(|(i, u)| {
                let f = flags(&[SystemFlag::Seen], &["$Imported"]);
                (u.map(Uid), message(&format!("imported {i} {u:?}"), f))
            })
            .collect(),
    }
}

async fn uids_of(acc: &dyn Account, mb: MailboxId) -> Vec<u32> {
    ok(
        acc.fetch_meta(mb, &UidSet::range(1, u32::MAX)).await,
        "fetch_meta",
    )
    .iter()
    .map(|m| m.uid.0)
    .collect()
}

/// Given UIDs and UIDVALIDITY are kept; `None` continues after the source's
/// UIDNEXT; anything that could reuse a UID within a UIDVALIDITY is
/// refused and changes nothing.
pub(super) async fn import_keeps_uids<S: Store>(store: &S) {
    let acc = account(store, "alice").await;
    let inbox = mailbox(&*acc, "INBOX").await;
    let imp = ok(acc.create_mailbox("Imp", &[]).await, "create Imp");
    let before = ok(acc.status(imp.id).await, "status");
    let out = ok(
        acc.import_messages(
            imp.id,
            batch(Some(1000), Some(20), &[Some(5), Some(9), None]),
        )
        .await,
        "import with uidlist",
    );
    assert_eq!(out.uid_validity, UidValidity(1000));
    assert_eq!(
        out.uids,
        vec![Uid(5), Uid(9), Uid(20)],
        "given UIDs kept, the rest after UIDNEXT"
    );
    let st = ok(acc.status(imp.id).await, "status");
    assert_eq!(st.uid_validity, UidValidity(1000));
    assert_eq!(st.uid_next, Uid(21));
    assert_eq!(st.messages, 3);
    assert!(st.highest_modseq > before.highest_modseq, "MODSEQ moves on");
    assert_eq!(mailbox(&*acc, "Imp").await.uid_validity, UidValidity(1000));
    let metas = ok(
        acc.fetch_meta(imp.id, &UidSet::from_uids([Uid(9)])).await,
        "meta",
    );
    assert!(metas[0].flags.contains(SystemFlag::Seen));
    assert_eq!(metas[0].flags.keywords(), ["$Imported".to_string()]);
    let data = ok(acc.read_message(imp.id, Uid(9)).await, "read");
    assert!(String::from_utf8_lossy(&data).contains("imported 1 Some(9)"));

    // The same UIDVALIDITY again is fine; UIDs go on from UIDNEXT.
    let out = ok(
        acc.import_messages(imp.id, batch(Some(1000), None, &[Some(30)]))
            .await,
        "second batch",
    );
    assert_eq!(out.uids, vec![Uid(30)]);
    // Below UIDNEXT, not ascending, or past the UID space: refused, nothing changes.
    for (what, b, err) in [
        (
            "below UIDNEXT",
            batch(None, None, &[Some(40), Some(3)]),
            StoreError::NotAllowed(String::new()),
        ),
        (
            "equal UIDs",
            batch(None, None, &[Some(50), Some(50)]),
            StoreError::NotAllowed(String::new()),
        ),
        (
            "UID space",
            batch(None, None, &[Some(u32::MAX)]),
            StoreError::Limit(String::new()),
        ),
        (
            "UIDNEXT past the UID space",
            batch(None, Some(u32::MAX), &[None]),
            StoreError::Limit(String::new()),
        ),
    ] {
        expect_err(acc.import_messages(imp.id, b).await, &err, what);
    }
    assert_eq!(
        uids_of(&*acc, imp.id).await,
        vec![5, 9, 20, 30],
        "refusals change nothing"
    );
    assert_eq!(ok(acc.status(imp.id).await, "status").uid_next, Uid(31));
    // A plain append continues after them.
    let out = ok(
        acc.append(imp.id, vec![message("after", Flags::new())])
            .await,
        "append",
    );
    assert_eq!(out.uids, vec![Uid(31)]);

    // UIDVALIDITY only changes on a mailbox that never held a message; a
    // UIDVALIDITY this account used or may have used is refused: in use by
    // another mailbox, imported before, or given out by the account.
    let used = ok(acc.create_mailbox("Used", &[]).await, "create Used");
    let d = flags(&[SystemFlag::Deleted], &[]);
    ok(acc.append(used.id, vec![message("y", d)]).await, "append");
    ok(acc.expunge(used.id, None).await, "expunge");
    let other = ok(acc.create_mailbox("Other", &[]).await, "create Other");
    let gone = ok(acc.create_mailbox("Gone", &[]).await, "create Gone");
    ok(acc.delete_mailbox("Gone").await, "delete Gone");
    let refusals = [
        (imp.id, 2000, "new UIDVALIDITY on a used mailbox"),
        (used.id, 3000, "new UIDVALIDITY on an emptied mailbox"),
        (other.id, 1000, "UIDVALIDITY of another mailbox"),
        (other.id, inbox.uid_validity.0, "UIDVALIDITY of INBOX"),
        (
            other.id,
            gone.uid_validity.0,
            "UIDVALIDITY of a deleted mailbox",
        ),
    ];
    for (mb, v, what) in refusals {
        let r = acc.import_messages(mb, batch(Some(v), None, &[None])).await;
        expect_err(r, &StoreError::NotAllowed(String::new()), what);
    }
    ok(acc.delete_mailbox("Imp").await, "delete Imp");
    expect_err(
        acc.import_messages(other.id, batch(Some(1000), None, &[Some(1)]))
            .await,
        &StoreError::NotAllowed(String::new()),
        "UIDVALIDITY imported before (mailbox deleted since)",
    );
    assert!(
        uids_of(&*acc, other.id).await.is_empty(),
        "refusals change nothing"
    );
    assert_eq!(ok(acc.status(other.id).await, "status").uid_next, Uid(1));

    // A value above everything given out so far: kept, and later mailboxes
    // never get it.
    let future = gone.uid_validity.0 + 1_000_000;
    let out = ok(
        acc.import_messages(other.id, batch(Some(future), None, &[Some(7)]))
            .await,
        "future UIDVALIDITY",
    );
    assert_eq!(
        (out.uid_validity, out.uids),
        (UidValidity(future), vec![Uid(7)])
    );
    let later = ok(acc.create_mailbox("Later", &[]).await, "create Later");
    assert!(
        later.uid_validity.0 > future,
        "the counter moved past an imported value"
    );
}
