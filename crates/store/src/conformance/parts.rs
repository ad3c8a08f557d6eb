//! Conformance cases about reading parts of messages: the stored structure
//! ([`Account::read_structure`]) and byte ranges ([`Account::read_range`]).

use super::{account, expect_err, flags, mailbox, message, ok};
use crate::*;
use SystemFlag::Deleted;
use bytes::Bytes;

/// A message with a structure.
fn with_structure(body: &str, structure: &'static [u8]) -> NewMessage {
    let mut m = message(body, Flags::new());
    m.structure = Bytes::from_static(structure);
    m
}

/// Flags every message of `mailbox` in `uids` `\Deleted` and expunges them.
async fn expunge_uids(acc: &dyn Account, mailbox: MailboxId, uids: &UidSet) {
    let upd = FlagUpdate {
        op: FlagOp::Add,
        flags: flags(&[Deleted], &[]),
        unchanged_since: None,
    };
    ok(
        acc.store_flags(mailbox, uids, &upd).await,
        "store \\Deleted",
    );
    ok(acc.expunge(mailbox, Some(uids)).await, "expunge");
}

#[track_caller]
fn assert_structure(got: StoreResult<Bytes>, want: &[u8], what: &str) {
    let got = ok(got, what);
    assert_eq!(&got[..], want, "{what}: structure");
}

pub(super) async fn structure_round_trip<S: Store>(store: &S) {
    let acc = account(store, "alice").await;
    let inbox = mailbox(&*acc, "INBOX").await;
    let arch = mailbox(&*acc, "Archive").await;
    let trash = mailbox(&*acc, "Trash").await;
    let out = ok(
        acc.append(
            inbox.id,
            vec![
                with_structure("one", b"S1\0binary\xff"),
                message("two", Flags::new()),
                with_structure("three", b"S3"),
            ],
        )
        .await,
        "append",
    );
    assert_eq!(out.uids, vec![Uid(1), Uid(2), Uid(3)]);
    assert_structure(
        acc.read_structure(inbox.id, Uid(1)).await,
        b"S1\0binary\xff",
        "given",
    );
    assert_structure(
        acc.read_structure(inbox.id, Uid(2)).await,
        b"",
        "none given",
    );
    assert_structure(acc.read_structure(inbox.id, Uid(3)).await, b"S3", "given");

    // COPY and MOVE keep it; it outlives the expunged source.
    let c = ok(
        acc.copy(inbox.id, &UidSet::range(1, 2), arch.id).await,
        "copy",
    );
    assert_eq!(c.dest_uids, vec![Uid(1), Uid(2)]);
    let m = ok(
        acc.move_messages(inbox.id, &UidSet::range(3, 3), trash.id)
            .await,
        "move",
    );
    assert_eq!(m.dest_uids, vec![Uid(1)]);
    assert_structure(
        acc.read_structure(arch.id, Uid(1)).await,
        b"S1\0binary\xff",
        "copied",
    );
    assert_structure(
        acc.read_structure(arch.id, Uid(2)).await,
        b"",
        "copied (none)",
    );
    assert_structure(acc.read_structure(trash.id, Uid(1)).await, b"S3", "moved");
    expect_err(
        acc.read_structure(inbox.id, Uid(3)).await,
        &StoreError::Expunged,
        "moved away",
    );
    expunge_uids(&*acc, inbox.id, &UidSet::range(1, 2)).await;
    expect_err(
        acc.read_structure(inbox.id, Uid(1)).await,
        &StoreError::Expunged,
        "expunged",
    );
    assert_structure(
        acc.read_structure(arch.id, Uid(1)).await,
        b"S1\0binary\xff",
        "copy after the source was expunged",
    );
    assert_eq!(
        ok(acc.read_message(arch.id, Uid(1)).await, "read copy"),
        message("one", Flags::new()).data
    );

    // The structure belongs to the bytes: the first non-empty one is kept...
    let again = ok(
        acc.append(
            inbox.id,
            vec![
                with_structure("one", b"other"),
                message("one", Flags::new()),
            ],
        )
        .await,
        "append same bytes",
    );
    for uid in &again.uids {
        assert_structure(
            acc.read_structure(inbox.id, *uid).await,
            b"S1\0binary\xff",
            "same bytes, later structure",
        );
    }
    // ...and bytes stored without one take the first one given later, for
    // every message with those bytes.
    let late = ok(
        acc.append(inbox.id, vec![with_structure("two", b"S2 late")])
            .await,
        "append bytes stored without structure",
    );
    assert_structure(
        acc.read_structure(inbox.id, late.uids[0]).await,
        b"S2 late",
        "late structure",
    );
    assert_structure(
        acc.read_structure(arch.id, Uid(2)).await,
        b"S2 late",
        "earlier message with the same bytes",
    );
    // Once no message has the bytes, they start afresh.
    expunge_uids(&*acc, trash.id, &UidSet::range(1, 1)).await;
    let fresh = ok(
        acc.append(inbox.id, vec![with_structure("three", b"S3 new")])
            .await,
        "append after the last copy went",
    );
    assert_structure(
        acc.read_structure(inbox.id, fresh.uids[0]).await,
        b"S3 new",
        "bytes stored afresh",
    );

    expect_err(
        acc.read_structure(inbox.id, Uid(999)).await,
        &StoreError::Expunged,
        "never-used UID",
    );
    expect_err(
        acc.read_structure(MailboxId(u64::MAX - 7), Uid(1)).await,
        &StoreError::NoSuchMailbox,
        "unknown mailbox",
    );
    ok(acc.delete_mailbox("Archive").await, "delete mailbox");
    expect_err(
        acc.read_structure(arch.id, Uid(1)).await,
        &StoreError::NoSuchMailbox,
        "deleted mailbox",
    );
}

/// Deterministic bytes that differ at every offset modulo 251.
fn pattern(len: usize) -> Bytes {
    let mut v = b"Subject: range\r\n\r\n".to_vec();
    let mut i = 0u32;
    while v.len() < len {
        v.push((i % 251) as u8);
        i += 1;
    }
    Bytes::from(v)
}

pub(super) async fn read_range_edges<S: Store>(store: &S) {
    let acc = account(store, "alice").await;
    let inbox = mailbox(&*acc, "INBOX").await;
    let other = mailbox(&*acc, "Archive").await;
    // A small message and one spanning many database pages.
    let small = pattern(1000);
    let big = pattern(300_000);
    let empty = Bytes::new();
    let new = |data: &Bytes| NewMessage {
        data: data.clone(),
        flags: Flags::new(),
        internal_date: None,
        structure: Bytes::new(),
    };
    let out = ok(
        acc.append(inbox.id, vec![new(&small), new(&big), new(&empty)])
            .await,
        "append",
    );
    assert_eq!(out.uids, vec![Uid(1), Uid(2), Uid(3)]);
    for (uid, data) in [(Uid(1), &small), (Uid(2), &big), (Uid(3), &empty)] {
        let size = data.len() as u64;
        let cases: [(u64, u64); 12] = [
            (0, 0),
            (0, 1),
            (0, 10),
            (0, size),
            (0, u64::MAX),
            (size / 2, 17),
            (size / 3, size / 3),
            (size.saturating_sub(5), 100),
            (size, 10),
            (size + 1, 10),
            (size / 2, 0),
            (u64::MAX, u64::MAX),
        ];
        for (offset, len) in cases {
            let what = format!("read_range({uid:?}, {offset}, {len}) of {size} bytes");
            let got = ok(acc.read_range(inbox.id, uid, offset, len).await, &what);
            let start = offset.min(size) as usize;
            let end = offset.saturating_add(len).min(size).max(offset.min(size)) as usize;
            assert_eq!(got.len(), end - start, "{what}: length");
            assert!(got == data.slice(start..end), "{what}: bytes");
        }
    }
    // Ranges spanning page boundaries of the big message.
    for (offset, len) in [(4090u64, 20u64), (65_530, 70_000), (123_457, 4096)] {
        let got = ok(
            acc.read_range(inbox.id, Uid(2), offset, len).await,
            "read_range big",
        );
        assert!(
            got == big.slice(offset as usize..(offset + len) as usize),
            "big message range {offset} +{len}"
        );
    }
    // A copy reads the same, also after the source is gone.
    ok(
        acc.copy(inbox.id, &UidSet::range(2, 2), other.id).await,
        "copy",
    );
    expunge_uids(&*acc, inbox.id, &UidSet::range(2, 2)).await;
    let got = ok(
        acc.read_range(other.id, Uid(1), 100_000, 1000).await,
        "read copy",
    );
    assert!(got == big.slice(100_000..101_000), "copy range");
    expect_err(
        acc.read_range(inbox.id, Uid(2), 0, 10).await,
        &StoreError::Expunged,
        "expunged",
    );
    expect_err(
        acc.read_range(inbox.id, Uid(2), 0, 0).await,
        &StoreError::Expunged,
        "expunged, empty range",
    );
    expect_err(
        acc.read_range(inbox.id, Uid(999), 0, 10).await,
        &StoreError::Expunged,
        "never-used UID",
    );
    expect_err(
        acc.read_range(MailboxId(u64::MAX - 7), Uid(1), 0, 10).await,
        &StoreError::NoSuchMailbox,
        "unknown mailbox",
    );
}

/// The batch reads answer exactly what the single reads answer, with
/// `None` for a missing message.
pub(super) async fn batch_reads_match_single<S: Store>(store: &S) {
    let acc = account(store, "alice").await;
    let inbox = mailbox(&*acc, "INBOX").await;
    let out = ok(
        acc.append(
            inbox.id,
            vec![
                with_structure("first body", b"S1"),
                message("second", Flags::new()),
                with_structure("third body here", b"S3"),
            ],
        )
        .await,
        "append",
    );
    let (u1, u2, u3) = (out.uids[0], out.uids[1], out.uids[2]);
    expunge_uids(&*acc, inbox.id, &UidSet::from_uids([u2])).await;
    let missing = Uid(u3.0 + 100);
    let got = ok(
        acc.read_structures(inbox.id, &[u3, u2, u1, missing]).await,
        "read_structures",
    );
    let want: Vec<Option<Bytes>> = vec![
        Some(Bytes::from_static(b"S3")),
        None,
        Some(Bytes::from_static(b"S1")),
        None,
    ];
    assert_eq!(got, want, "read_structures");
    let reqs = [
        (u1, 0, 4),
        (u2, 0, 10),
        (u3, 6, 1000),
        (u1, 1000, 5),
        (missing, 0, 1),
    ];
    let got = ok(acc.read_ranges(inbox.id, &reqs).await, "read_ranges");
    assert_eq!(got.len(), reqs.len(), "one answer per request");
    for (i, &(uid, offset, len)) in reqs.iter().enumerate() {
        let single = crate::missing_is_none(acc.read_range(inbox.id, uid, offset, len).await);
        assert_eq!(got[i], ok(single, "read_range"), "request {i}");
    }
    assert_eq!(got[0].as_deref(), Some(&b"From"[..]));
    assert_eq!(got[1], None, "expunged");
    expect_err(
        acc.read_ranges(MailboxId(u64::MAX), &reqs).await,
        &StoreError::NoSuchMailbox,
        "read_ranges on an unknown mailbox",
    );
}
