//! Conformance cases about messages: append, flags, expunge, copy/move,
//! MODSEQ, the change feed and concurrency.

use super::{account, expect_err, flags, mailbox, message, names, ok};
use crate::*;
use SystemFlag::{Deleted, Draft, Flagged, Seen};
use std::time::Duration;

pub(super) async fn append_uids_and_status<S: Store>(store: &S) {
    let acc = account(store, "alice").await;
    let inbox = mailbox(&*acc, "INBOX").await;
    let st0 = ok(acc.status(inbox.id).await, "status");
    let date = InternalDate {
        unix: 1_700_000_000,
        offset_minutes: -300,
    };
    let mut m1 = message("one", flags(&[Seen], &[]));
    m1.internal_date = Some(date);
    let m2 = message("two-two", flags(&[Deleted, Flagged], &["$Junk", "work"]));
    let m3 = message("three", Flags::new());
    let total: u64 = [&m1, &m2, &m3].iter().map(|m| m.data.len() as u64).sum();
    let out = ok(
        acc.append(inbox.id, vec![m1.clone(), m2.clone(), m3.clone()])
            .await,
        "append",
    );
    assert_eq!(
        out.uids,
        vec![Uid(1), Uid(2), Uid(3)],
        "consecutive UIDs from UIDNEXT"
    );
    assert_eq!(out.uid_validity, inbox.uid_validity);
    let st = ok(acc.status(inbox.id).await, "status");
    assert_eq!(st.uid_next, Uid(4));
    assert_eq!(
        (st.messages, st.unseen, st.deleted, st.size),
        (3, 2, 1, total),
        "counters"
    );
    assert!(
        st.highest_modseq > st0.highest_modseq,
        "append bumps MODSEQ"
    );
    let snap = ok(acc.snapshot(inbox.id).await, "snapshot");
    assert_eq!(snap.status, st, "snapshot status equals status");
    assert_eq!(snap.messages.len(), 3);
    assert_eq!(
        snap.messages[0].internal_date, date,
        "INTERNALDATE kept with its zone"
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    assert!(
        (snap.messages[1].internal_date.unix - now).abs() < 600,
        "no date means now"
    );
    for (m, want) in snap.messages.iter().zip([&m1, &m2, &m3]) {
        assert_eq!(m.flags, want.flags, "flags stored");
        assert_eq!(m.size, want.data.len() as u64, "RFC822.SIZE");
        assert!(
            m.modseq > st0.highest_modseq && m.modseq <= st.highest_modseq,
            "message MODSEQ"
        );
        assert_eq!(
            ok(acc.read_message(inbox.id, m.uid).await, "read"),
            want.data,
            "bytes"
        );
    }
    let out = ok(
        acc.append(inbox.id, vec![message("four", Flags::new())])
            .await,
        "append",
    );
    assert_eq!(out.uids, vec![Uid(4)]);
    let st2 = ok(acc.status(inbox.id).await, "status");
    assert!(st2.highest_modseq > st.highest_modseq);
    assert_eq!(st2.uid_next, Uid(5));
    // Empty messages and binary content are stored as given.
    let bin = NewMessage {
        data: bytes::Bytes::from_static(b"\0\xff\r\n\x80binary"),
        flags: Flags::new(),
        internal_date: None,
        structure: bytes::Bytes::new(),
    };
    let out = ok(
        acc.append(inbox.id, vec![bin.clone()]).await,
        "append binary",
    );
    assert_eq!(
        ok(acc.read_message(inbox.id, out.uids[0]).await, "read"),
        bin.data
    );
}

pub(super) async fn fetch_meta_ranges<S: Store>(store: &S) {
    let acc = account(store, "alice").await;
    let inbox = mailbox(&*acc, "INBOX").await;
    let msgs = (0..10)
        .map(|i| message(&i.to_string(), Flags::new()))
        .collect();
    ok(acc.append(inbox.id, msgs).await, "append");
    let mut del = Flags::new();
    del.insert(Deleted);
    let upd = FlagUpdate {
        op: FlagOp::Add,
        flags: del,
        unchanged_since: None,
    };
    ok(
        acc.store_flags(inbox.id, &UidSet::from_uids([Uid(3), Uid(4), Uid(8)]), &upd)
            .await,
        "store",
    );
    ok(acc.expunge(inbox.id, None).await, "expunge");
    let mut set = UidSet::range(2, 5);
    set.insert_range(7, 9);
    set.insert_range(50, 60);
    let got: Vec<u32> = ok(acc.fetch_meta(inbox.id, &set).await, "fetch")
        .iter()
        .map(|m| m.uid.0)
        .collect();
    assert_eq!(
        got,
        vec![2, 5, 7, 9],
        "expunged and nonexistent UIDs are simply absent"
    );
    let all = ok(
        acc.fetch_meta(inbox.id, &UidSet::range(1, u32::MAX)).await,
        "fetch 1:*",
    );
    assert_eq!(all.len(), 7);
    assert!(ok(acc.fetch_meta(inbox.id, &UidSet::new()).await, "empty").is_empty());
}

pub(super) async fn flag_operations<S: Store>(store: &S) {
    let acc = account(store, "alice").await;
    let inbox = mailbox(&*acc, "INBOX").await;
    let msgs = vec![
        message("1", Flags::new()),
        message("2", flags(&[Seen], &[])),
        message("3", flags(&[Seen], &["a"])),
    ];
    ok(acc.append(inbox.id, msgs).await, "append");
    let st0 = ok(acc.status(inbox.id).await, "status");
    let all = UidSet::range(1, 3);
    let add = |f: Flags| FlagUpdate {
        op: FlagOp::Add,
        flags: f,
        unchanged_since: None,
    };
    let out = ok(
        acc.store_flags(inbox.id, &all, &add(flags(&[Seen], &[])))
            .await,
        "+Seen",
    );
    assert_eq!(
        out.changed.iter().map(|m| m.uid).collect::<Vec<_>>(),
        vec![Uid(1)],
        "only real changes"
    );
    assert!(out.modified.is_empty());
    let m = &out.changed[0];
    assert_eq!(m.flags, flags(&[Seen], &[]));
    assert!(
        m.modseq > st0.highest_modseq,
        "changed message gets a new MODSEQ"
    );
    let st1 = ok(acc.status(inbox.id).await, "status");
    assert_eq!(
        st1.highest_modseq, m.modseq,
        "HIGHESTMODSEQ is the newest change"
    );
    assert_eq!(st1.unseen, 0, "unseen counter follows flags");
    let out = ok(
        acc.store_flags(inbox.id, &all, &add(flags(&[Seen], &[])))
            .await,
        "+Seen again",
    );
    assert!(out.changed.is_empty(), "no-op STORE changes nothing");
    assert_eq!(
        ok(acc.status(inbox.id).await, "status").highest_modseq,
        st1.highest_modseq,
        "no-op keeps MODSEQ"
    );
    let out = ok(
        acc.store_flags(inbox.id, &all, &add(flags(&[Deleted], &["b", "a"])))
            .await,
        "+Deleted a b",
    );
    assert_eq!(out.changed.len(), 3);
    for m in &out.changed {
        assert!(
            m.flags.contains(Deleted) && m.flags.keywords() == ["a", "b"],
            "{m:?}"
        );
        assert!(m.modseq > st1.highest_modseq);
    }
    assert_eq!(ok(acc.status(inbox.id).await, "status").deleted, 3);
    let rm = FlagUpdate {
        op: FlagOp::Remove,
        flags: flags(&[Deleted, Seen], &["a"]),
        unchanged_since: None,
    };
    let out = ok(
        acc.store_flags(inbox.id, &UidSet::range(2, 2), &rm).await,
        "-Deleted -Seen -a",
    );
    assert_eq!(out.changed[0].flags, flags(&[], &["b"]));
    let rep = FlagUpdate {
        op: FlagOp::Replace,
        flags: flags(&[Flagged], &["z"]),
        unchanged_since: None,
    };
    let out = ok(
        acc.store_flags(inbox.id, &UidSet::range(3, 10), &rep).await,
        "replace",
    );
    assert_eq!(out.changed.len(), 1, "absent UIDs are ignored");
    assert_eq!(out.changed[0].flags, flags(&[Flagged], &["z"]));
    let meta = ok(acc.fetch_meta(inbox.id, &all).await, "fetch");
    assert_eq!(meta[0].flags, flags(&[Seen, Deleted], &["a", "b"]));
    assert_eq!(meta[1].flags, flags(&[], &["b"]));
    assert_eq!(meta[2].flags, flags(&[Flagged], &["z"]));
    let st = ok(acc.status(inbox.id).await, "status");
    assert_eq!(
        (st.unseen, st.deleted),
        (2, 1),
        "counters after mixed STOREs"
    );
}

pub(super) async fn unchanged_since<S: Store>(store: &S) {
    let acc = account(store, "alice").await;
    let inbox = mailbox(&*acc, "INBOX").await;
    ok(
        acc.append(
            inbox.id,
            vec![message("1", Flags::new()), message("2", Flags::new())],
        )
        .await,
        "append",
    );
    let base = ok(acc.status(inbox.id).await, "status").highest_modseq;
    let seen = flags(&[Seen], &[]);
    let upd = FlagUpdate {
        op: FlagOp::Add,
        flags: seen.clone(),
        unchanged_since: None,
    };
    ok(
        acc.store_flags(inbox.id, &UidSet::range(2, 2), &upd).await,
        "touch 2",
    );
    let cond = FlagUpdate {
        op: FlagOp::Add,
        flags: flags(&[Flagged], &[]),
        unchanged_since: Some(base),
    };
    let out = ok(
        acc.store_flags(inbox.id, &UidSet::range(1, 2), &cond).await,
        "conditional",
    );
    assert_eq!(
        out.modified,
        vec![Uid(2)],
        "message changed after UNCHANGEDSINCE is reported"
    );
    assert_eq!(
        out.changed.iter().map(|m| m.uid).collect::<Vec<_>>(),
        vec![Uid(1)]
    );
    let meta = ok(
        acc.fetch_meta(inbox.id, &UidSet::range(2, 2)).await,
        "fetch",
    );
    assert_eq!(meta[0].flags, seen, "modified message left alone");
    let cur = ok(acc.status(inbox.id).await, "status").highest_modseq;
    let cond = FlagUpdate {
        op: FlagOp::Add,
        flags: flags(&[Deleted], &[]),
        unchanged_since: Some(cur),
    };
    let out = ok(
        acc.store_flags(inbox.id, &UidSet::range(1, 2), &cond).await,
        "conditional at current",
    );
    assert!(
        out.modified.is_empty() && out.changed.len() == 2,
        "UNCHANGEDSINCE = HIGHESTMODSEQ passes all"
    );
    let cond = FlagUpdate {
        op: FlagOp::Add,
        flags: flags(&[Draft], &[]),
        unchanged_since: Some(ModSeq(0)),
    };
    let out = ok(
        acc.store_flags(inbox.id, &UidSet::range(1, 2), &cond).await,
        "UNCHANGEDSINCE 0",
    );
    assert_eq!(
        out.modified,
        vec![Uid(1), Uid(2)],
        "UNCHANGEDSINCE 0 fails every message"
    );
    assert!(out.changed.is_empty());
}

pub(super) async fn expunge_and_tombstones<S: Store>(store: &S) {
    let acc = account(store, "alice").await;
    let inbox = mailbox(&*acc, "INBOX").await;
    let msgs = (1..=5).map(|i| {
        message(
            &i.to_string(),
            flags(if i % 2 == 1 { &[Deleted] } else { &[] }, &[]),
        )
    });
    ok(acc.append(inbox.id, msgs.collect()).await, "append");
    let before = ok(acc.status(inbox.id).await, "status");
    let out = ok(
        acc.expunge(inbox.id, Some(&UidSet::range(2, 4))).await,
        "UID EXPUNGE 2:4",
    );
    assert_eq!(out.uids, vec![Uid(3)], "only \\Deleted messages in the set");
    assert!(out.modseq > before.highest_modseq, "expunge bumps MODSEQ");
    let mid = ok(acc.status(inbox.id).await, "status");
    assert_eq!(
        mid.highest_modseq, out.modseq,
        "outcome MODSEQ is the mailbox MODSEQ"
    );
    assert_eq!((mid.messages, mid.deleted), (4, 2));
    let out = ok(acc.expunge(inbox.id, None).await, "EXPUNGE");
    assert_eq!(out.uids, vec![Uid(1), Uid(5)]);
    let out2 = ok(acc.expunge(inbox.id, None).await, "EXPUNGE nothing");
    assert!(out2.uids.is_empty());
    assert_eq!(out2.modseq, out.modseq, "expunging nothing keeps MODSEQ");
    expect_err(
        acc.read_message(inbox.id, Uid(1)).await,
        &StoreError::Expunged,
        "read expunged",
    );
    let ch = ok(
        acc.changes_since(inbox.id, before.highest_modseq).await,
        "changes",
    );
    assert_eq!(
        ch.vanished,
        vec![Uid(1), Uid(3), Uid(5)],
        "tombstones since"
    );
    assert!(ch.changed.is_empty(), "no flag changes since");
    let ch = ok(
        acc.changes_since(inbox.id, mid.highest_modseq).await,
        "changes",
    );
    assert_eq!(
        ch.vanished,
        vec![Uid(1), Uid(5)],
        "only tombstones after MODSEQ"
    );
    let ch = ok(
        acc.changes_since(inbox.id, ModSeq(0)).await,
        "changes since 0",
    );
    assert_eq!(
        ch.changed.iter().map(|m| m.uid).collect::<Vec<_>>(),
        vec![Uid(2), Uid(4)]
    );
    assert_eq!(ch.status, ok(acc.status(inbox.id).await, "status"));
    let upd = FlagUpdate {
        op: FlagOp::Add,
        flags: flags(&[Seen], &[]),
        unchanged_since: None,
    };
    ok(
        acc.store_flags(inbox.id, &UidSet::range(4, 4), &upd).await,
        "store",
    );
    let ch = ok(acc.changes_since(inbox.id, out.modseq).await, "changes");
    assert_eq!(
        ch.changed.iter().map(|m| m.uid).collect::<Vec<_>>(),
        vec![Uid(4)]
    );
    assert!(ch.vanished.is_empty());
    let ch = ok(
        acc.changes_since(inbox.id, ch.status.highest_modseq).await,
        "changes at top",
    );
    assert!(ch.changed.is_empty() && ch.vanished.is_empty());
}

pub(super) async fn copy_preserves<S: Store>(store: &S) {
    let acc = account(store, "alice").await;
    let inbox = mailbox(&*acc, "INBOX").await;
    let arch = mailbox(&*acc, "Archive").await;
    let date = InternalDate {
        unix: 1_600_000_000,
        offset_minutes: 120,
    };
    let msgs: Vec<NewMessage> = (1..=4)
        .map(|i| {
            let mut m = message(&format!("m{i}"), flags(&[Seen, Deleted], &["k"]));
            m.internal_date = Some(date);
            m
        })
        .collect();
    ok(acc.append(inbox.id, msgs.clone()).await, "append");
    ok(
        acc.append(arch.id, vec![message("pre", Flags::new())])
            .await,
        "append dest",
    );
    let src0 = ok(acc.status(inbox.id).await, "status");
    let dst0 = ok(acc.status(arch.id).await, "status");
    let out = ok(
        acc.copy(
            inbox.id,
            &UidSet::from_uids([Uid(4), Uid(2), Uid(9)]),
            arch.id,
        )
        .await,
        "copy",
    );
    assert_eq!(out.uid_validity, arch.uid_validity);
    assert_eq!(
        out.source_uids,
        vec![Uid(2), Uid(4)],
        "copied source UIDs ascending"
    );
    assert_eq!(
        out.dest_uids,
        vec![Uid(2), Uid(3)],
        "consecutive destination UIDs"
    );
    let src1 = ok(acc.status(inbox.id).await, "status");
    let dst1 = ok(acc.status(arch.id).await, "status");
    assert_eq!(src1, src0, "copy leaves the source alone");
    assert!(
        dst1.highest_modseq > dst0.highest_modseq,
        "copy bumps destination MODSEQ"
    );
    assert_eq!((dst1.messages, dst1.deleted, dst1.uid_next), (3, 2, Uid(4)));
    for (s, d) in out.source_uids.iter().zip(&out.dest_uids) {
        let sm = &ok(
            acc.fetch_meta(inbox.id, &UidSet::from_uids([*s])).await,
            "fetch",
        )[0];
        let dm = &ok(
            acc.fetch_meta(arch.id, &UidSet::from_uids([*d])).await,
            "fetch",
        )[0];
        assert_eq!(dm.flags, sm.flags, "flags copied");
        assert_eq!(dm.internal_date, date, "INTERNALDATE copied");
        assert_eq!(dm.size, sm.size);
        assert!(dm.modseq > dst0.highest_modseq);
        assert_eq!(
            ok(acc.read_message(arch.id, *d).await, "read"),
            msgs[s.0 as usize - 1].data
        );
    }
    let none = ok(
        acc.copy(inbox.id, &UidSet::range(100, 200), arch.id).await,
        "copy nothing",
    );
    assert!(none.source_uids.is_empty() && none.dest_uids.is_empty());
    let out = ok(
        acc.copy(inbox.id, &UidSet::range(1, 1), inbox.id).await,
        "copy into itself",
    );
    assert_eq!(out.dest_uids, vec![Uid(5)]);
}

pub(super) async fn move_is_copy_plus_expunge<S: Store>(store: &S) {
    let acc = account(store, "alice").await;
    let inbox = mailbox(&*acc, "INBOX").await;
    let trash = mailbox(&*acc, "Trash").await;
    let msgs = (1..=4)
        .map(|i| message(&format!("m{i}"), flags(&[Flagged], &[])))
        .collect();
    ok(acc.append(inbox.id, msgs).await, "append");
    let src0 = ok(acc.status(inbox.id).await, "status");
    let out = ok(
        acc.move_messages(inbox.id, &UidSet::from_uids([Uid(1), Uid(3)]), trash.id)
            .await,
        "move",
    );
    assert_eq!(out.source_uids, vec![Uid(1), Uid(3)]);
    assert_eq!(out.dest_uids, vec![Uid(1), Uid(2)]);
    let src1 = ok(acc.status(inbox.id).await, "status");
    assert_eq!(src1.messages, 2);
    assert!(
        src1.highest_modseq > src0.highest_modseq,
        "move bumps the source MODSEQ"
    );
    let ch = ok(
        acc.changes_since(inbox.id, src0.highest_modseq).await,
        "changes",
    );
    assert_eq!(
        ch.vanished,
        vec![Uid(1), Uid(3)],
        "moved UIDs vanish from the source"
    );
    let meta = ok(
        acc.fetch_meta(trash.id, &UidSet::range(1, 10)).await,
        "fetch",
    );
    assert!(
        meta.iter().all(|m| m.flags == flags(&[Flagged], &[])),
        "flags moved"
    );
    assert_eq!(
        ok(acc.read_message(trash.id, Uid(2)).await, "read"),
        message("m3", Flags::new()).data
    );
    expect_err(
        acc.read_message(inbox.id, Uid(3)).await,
        &StoreError::Expunged,
        "moved source",
    );
    expect_err(
        acc.move_messages(inbox.id, &UidSet::range(1, 10), MailboxId(u64::MAX - 7))
            .await,
        &StoreError::NoSuchMailbox,
        "move to missing mailbox",
    );
    assert_eq!(
        ok(acc.status(inbox.id).await, "status"),
        src1,
        "a failed move changes nothing"
    );
}

pub(super) async fn modseq_per_mailbox<S: Store>(store: &S) {
    let acc = account(store, "alice").await;
    let a = mailbox(&*acc, "INBOX").await;
    let b = mailbox(&*acc, "Drafts").await;
    let b0 = ok(acc.status(b.id).await, "status");
    let mut last = ok(acc.status(a.id).await, "status").highest_modseq;
    let up = FlagUpdate {
        op: FlagOp::Add,
        flags: flags(&[Seen], &[]),
        unchanged_since: None,
    };
    for i in 0..5 {
        ok(
            acc.append(a.id, vec![message(&i.to_string(), Flags::new())])
                .await,
            "append",
        );
        let now = ok(acc.status(a.id).await, "status").highest_modseq;
        assert!(now > last, "MODSEQ strictly increases");
        last = now;
        ok(
            acc.store_flags(a.id, &UidSet::range(1, 100), &up).await,
            "store",
        );
        let now = ok(acc.status(a.id).await, "status").highest_modseq;
        assert!(now > last, "MODSEQ strictly increases");
        last = now;
    }
    ok(
        acc.copy(b.id, &UidSet::range(1, 10), a.id).await,
        "copy from empty",
    );
    assert_eq!(
        ok(acc.status(b.id).await, "status"),
        b0,
        "changes elsewhere leave HIGHESTMODSEQ alone"
    );
}

pub(super) async fn uids_never_reused<S: Store>(store: &S) {
    let acc = account(store, "alice").await;
    let inbox = mailbox(&*acc, "INBOX").await;
    let del = flags(&[Deleted], &[]);
    let msgs = (0..3)
        .map(|i| message(&i.to_string(), del.clone()))
        .collect();
    ok(acc.append(inbox.id, msgs).await, "append");
    ok(
        acc.expunge(inbox.id, Some(&UidSet::range(3, 3))).await,
        "expunge last",
    );
    let out = ok(
        acc.append(inbox.id, vec![message("x", Flags::new())]).await,
        "append",
    );
    assert_eq!(
        out.uids,
        vec![Uid(4)],
        "the UID of an expunged last message is not reused"
    );
    ok(acc.expunge(inbox.id, None).await, "expunge all");
    let out = ok(
        acc.append(inbox.id, vec![message("y", Flags::new())]).await,
        "append",
    );
    assert_eq!(out.uids, vec![Uid(5)]);
    assert_eq!(ok(acc.status(inbox.id).await, "status").uid_next, Uid(6));
}

pub(super) async fn recreate_gives_new_uidvalidity<S: Store>(store: &S) {
    let acc = account(store, "alice").await;
    let first = ok(acc.create_mailbox("Tmp", &[]).await, "create");
    ok(
        acc.append(first.id, vec![message("1", Flags::new())]).await,
        "append",
    );
    ok(acc.delete_mailbox("Tmp").await, "delete");
    let second = ok(acc.create_mailbox("Tmp", &[]).await, "re-create");
    assert_ne!(
        second.uid_validity, first.uid_validity,
        "new incarnation, new UIDVALIDITY"
    );
    assert_ne!(second.id, first.id, "mailbox ids are not reused");
    expect_err(
        acc.status(first.id).await,
        &StoreError::NoSuchMailbox,
        "old id is gone",
    );
    let st = ok(acc.status(second.id).await, "status");
    assert_eq!((st.messages, st.uid_next), (0, Uid(1)));
    ok(acc.rename_mailbox("Tmp", "Tmp2").await, "rename");
    let third = ok(acc.create_mailbox("Tmp", &[]).await, "create after rename");
    assert!(third.uid_validity != second.uid_validity && third.uid_validity != first.uid_validity);
}

pub(super) async fn unknown_mailbox<S: Store>(store: &S) {
    let acc = account(store, "alice").await;
    let inbox = mailbox(&*acc, "INBOX").await;
    let bad = MailboxId(u64::MAX - 7);
    let all = UidSet::range(1, 10);
    let nsm = StoreError::NoSuchMailbox;
    expect_err(acc.mailbox("Nope").await, &nsm, "mailbox");
    expect_err(acc.status(bad).await, &nsm, "status");
    expect_err(acc.snapshot(bad).await, &nsm, "snapshot");
    expect_err(acc.fetch_meta(bad, &all).await, &nsm, "fetch_meta");
    expect_err(acc.read_message(bad, Uid(1)).await, &nsm, "read_message");
    expect_err(
        acc.append(bad, vec![message("x", Flags::new())]).await,
        &nsm,
        "append",
    );
    let up = FlagUpdate {
        op: FlagOp::Add,
        flags: flags(&[Seen], &[]),
        unchanged_since: None,
    };
    expect_err(acc.store_flags(bad, &all, &up).await, &nsm, "store_flags");
    expect_err(acc.expunge(bad, None).await, &nsm, "expunge");
    expect_err(acc.copy(bad, &all, inbox.id).await, &nsm, "copy from");
    expect_err(acc.copy(inbox.id, &all, bad).await, &nsm, "copy to");
    expect_err(
        acc.changes_since(bad, ModSeq(0)).await,
        &nsm,
        "changes_since",
    );
    expect_err(
        acc.read_message(inbox.id, Uid(1)).await,
        &StoreError::Expunged,
        "read never-used UID",
    );
}

pub(super) async fn shared_bytes_survive<S: Store>(store: &S) {
    let acc = account(store, "alice").await;
    let inbox = mailbox(&*acc, "INBOX").await;
    let other = ok(acc.create_mailbox("Other", &[]).await, "create");
    let m = message("same bytes", flags(&[Deleted], &[]));
    ok(
        acc.append(inbox.id, vec![m.clone(), m.clone()]).await,
        "append twice",
    );
    ok(
        acc.append(other.id, vec![m.clone()]).await,
        "append elsewhere",
    );
    ok(
        acc.copy(inbox.id, &UidSet::range(1, 1), other.id).await,
        "copy",
    );
    ok(
        acc.expunge(inbox.id, Some(&UidSet::range(1, 1))).await,
        "expunge one",
    );
    assert_eq!(ok(acc.read_message(inbox.id, Uid(2)).await, "read"), m.data);
    ok(acc.expunge(inbox.id, None).await, "expunge all");
    assert_eq!(
        ok(acc.read_message(other.id, Uid(2)).await, "read copy"),
        m.data,
        "copy outlives source"
    );
    ok(
        acc.move_messages(other.id, &UidSet::range(1, 2), inbox.id)
            .await,
        "move back",
    );
    ok(acc.delete_mailbox("Other").await, "delete");
    assert_eq!(ok(acc.read_message(inbox.id, Uid(3)).await, "read"), m.data);
    assert_eq!(ok(acc.read_message(inbox.id, Uid(4)).await, "read"), m.data);
}

pub(super) async fn change_feed<S: Store>(store: &S) {
    let acc = account(store, "alice").await;
    let other = ok(store.open_account("alice").await, "open again");
    let mut rx = other.watch();
    let inbox = mailbox(&*acc, "INBOX").await;
    ok(
        acc.append(inbox.id, vec![message("1", Flags::new())]).await,
        "append",
    );
    let modseq = ok(acc.status(inbox.id).await, "status").highest_modseq;
    let want = ChangeNotice::Mailbox {
        mailbox: inbox.id,
        modseq,
    };
    wait_for(
        &mut rx,
        |n| *n == want,
        "a notice for the append with the new MODSEQ",
    )
    .await;
    ok(acc.create_mailbox("New", &[]).await, "create");
    wait_for(
        &mut rx,
        |n| *n == ChangeNotice::MailboxList,
        "MailboxList after create",
    )
    .await;
    let up = FlagUpdate {
        op: FlagOp::Add,
        flags: flags(&[Seen], &[]),
        unchanged_since: None,
    };
    ok(
        acc.store_flags(inbox.id, &UidSet::range(1, 1), &up).await,
        "store",
    );
    wait_for(
        &mut rx,
        |n| matches!(n, ChangeNotice::Mailbox { mailbox, modseq: m } if *mailbox == inbox.id && *m > modseq),
        "a notice for the STORE",
    )
    .await;
}

pub(super) async fn wait_for(
    rx: &mut tokio::sync::broadcast::Receiver<ChangeNotice>,
    pred: impl Fn(&ChangeNotice) -> bool,
    what: &str,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Ok(n)) if pred(&n) => return,
            Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(e)) => panic!("change feed closed while waiting for {what}: {e}"),
            Err(_) => panic!("no change notice within 10 s: expected {what}"),
        }
    }
}

pub(super) async fn concurrent_appends<S: Store>(store: &S) {
    let acc = account(store, "alice").await;
    let inbox = mailbox(&*acc, "INBOX").await;
    let mut tasks = Vec::new();
    for t in 0..20 {
        let acc = acc.clone();
        tasks.push(tokio::spawn(async move {
            let mut uids = Vec::new();
            for i in 0..5 {
                let msgs = vec![
                    message(&format!("{t}-{i}"), Flags::new()),
                    message(&format!("{t}-{i}b"), Flags::new()),
                ];
                let out = acc.append(inbox.id, msgs).await.expect("concurrent append");
                assert_eq!(
                    out.uids[1].0,
                    out.uids[0].0 + 1,
                    "one append's UIDs are consecutive"
                );
                uids.extend(out.uids);
            }
            uids
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("append task panicked"));
    }
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 200, "every concurrent append got distinct UIDs");
    let st = ok(acc.status(inbox.id).await, "status");
    assert_eq!((st.messages, st.uid_next), (200, Uid(201)));
    let snap = ok(acc.snapshot(inbox.id).await, "snapshot");
    assert_eq!(snap.messages.len(), 200);
    assert_eq!(
        snap.status.size,
        snap.messages.iter().map(|m| m.size).sum::<u64>(),
        "size counter"
    );
}

pub(super) async fn account_isolation<S: Store>(store: &S) {
    let a = account(store, "alice").await;
    let b = account(store, "bob").await;
    ok(a.create_mailbox("AliceOnly", &[]).await, "create");
    let ai = mailbox(&*a, "INBOX").await;
    ok(
        a.append(ai.id, vec![message("a", Flags::new())]).await,
        "append",
    );
    assert!(
        !names(&*b).await.contains(&"AliceOnly".to_string()),
        "mailboxes are per account"
    );
    let bi = mailbox(&*b, "INBOX").await;
    assert_eq!(
        ok(b.status(bi.id).await, "status").messages,
        0,
        "mail is per account"
    );
    let mut rx = b.watch();
    ok(
        a.append(ai.id, vec![message("b", Flags::new())]).await,
        "append",
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        rx.try_recv().is_err(),
        "another account's change feed stays quiet"
    );
}
