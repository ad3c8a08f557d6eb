//! RFC 8474 object ids: MAILBOXID, EMAILID and THREADID.

use super::{account, mailbox, ok};
use crate::*;

fn raw(headers: &str, body: &str) -> NewMessage {
    NewMessage {
        data: bytes::Bytes::from(format!("{headers}Subject: t\r\n\r\n{body}\r\n")),
        flags: Flags::new(),
        internal_date: None,
        structure: bytes::Bytes::new(),
    }
}

async fn ids(acc: &dyn Account, mb: MailboxId, uids: &[u32]) -> Vec<Option<MessageObjectIds>> {
    let uids: Vec<Uid> = uids.iter().map(|u| Uid(*u)).collect();
    ok(acc.object_ids(mb, &uids).await, "object_ids")
}

/// EMAILID follows the content through COPY and MOVE; THREADID joins
/// replies (in either arrival order) and keeps apart unrelated mail;
/// `find_object_id` answers both; MAILBOXID survives RENAME only.
pub(super) async fn object_ids<S: Store>(store: &S) {
    let acc = account(store, "alice").await;
    let inbox = mailbox(&*acc, "INBOX").await;
    let msgs = vec![
        raw("Message-ID: <root@x>\r\n", "root"),
        raw("Message-ID: <r1@x>\r\nIn-Reply-To: <root@x>\r\n", "reply"),
        raw(
            "Message-ID: <r2@x>\r\nReferences: <root@x> <r1@x>\r\n",
            "reply 2",
        ),
        raw(
            "Message-ID: <kid@y>\r\nReferences: <mom@y>\r\n",
            "early reply",
        ),
        raw("Message-ID: <other@z>\r\n", "unrelated"),
    ];
    ok(acc.append(inbox.id, msgs).await, "append");
    // The parent of 4 arrives later, in its own transaction.
    ok(
        acc.append(
            inbox.id,
            vec![raw("Message-ID: <mom@y>\r\n", "late parent")],
        )
        .await,
        "append parent",
    );
    let got: Vec<MessageObjectIds> = ids(&*acc, inbox.id, &[1, 2, 3, 4, 5, 6])
        .await
        .into_iter()
        .map(|i| i.expect("every message has ids"))
        .collect();
    let t: Vec<&str> = got.iter().map(|i| i.thread.as_str()).collect();
    assert!(
        t[0] == t[1] && t[1] == t[2],
        "replies share the thread: {t:?}"
    );
    assert_eq!(
        t[3], t[5],
        "a parent that arrives late joins its reply's thread"
    );
    assert!(
        t[0] != t[3] && t[0] != t[4] && t[3] != t[4],
        "threads kept apart: {t:?}"
    );
    let mut emails: Vec<&str> = got.iter().map(|i| i.email.as_str()).collect();
    emails.sort();
    emails.dedup();
    assert_eq!(emails.len(), 6, "distinct contents have distinct EMAILIDs");
    for i in &got {
        for id in [&i.email, &i.thread] {
            assert!(
                !id.is_empty()
                    && id.len() <= 255
                    && id
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'),
                "objectid syntax (RFC 8474): {id:?}"
            );
        }
    }
    assert_eq!(
        ids(&*acc, inbox.id, &[99]).await,
        vec![None],
        "no such message"
    );

    // COPY and MOVE keep both ids.
    let work = ok(acc.create_mailbox("Work", &[]).await, "create");
    ok(
        acc.copy(inbox.id, &UidSet::from_uids([Uid(2)]), work.id)
            .await,
        "copy",
    );
    ok(
        acc.move_messages(inbox.id, &UidSet::from_uids([Uid(4)]), work.id)
            .await,
        "move",
    );
    let moved = ids(&*acc, work.id, &[1, 2]).await;
    assert_eq!(
        moved[0].as_ref(),
        Some(&got[1]),
        "COPY keeps EMAILID and THREADID"
    );
    assert_eq!(
        moved[1].as_ref(),
        Some(&got[3]),
        "MOVE keeps EMAILID and THREADID"
    );

    // Search by id, per mailbox.
    let find = |mb: MailboxId, kind: ObjectKind, id: String| {
        let acc = acc.clone();
        async move { ok(acc.find_object_id(mb, kind, &id).await, "find_object_id") }
    };
    assert_eq!(
        find(inbox.id, ObjectKind::Thread, got[0].thread.clone()).await,
        vec![Uid(1), Uid(2), Uid(3)]
    );
    assert_eq!(
        find(inbox.id, ObjectKind::Thread, got[3].thread.clone()).await,
        vec![Uid(6)],
        "4 moved away; 6 is in its thread"
    );
    assert_eq!(
        find(work.id, ObjectKind::Email, got[1].email.clone()).await,
        vec![Uid(1)]
    );
    assert_eq!(
        find(inbox.id, ObjectKind::Email, got[4].email.clone()).await,
        vec![Uid(5)]
    );
    for bogus in ["", "nonsense", "M", "T0"] {
        assert!(
            find(inbox.id, ObjectKind::Email, bogus.into())
                .await
                .is_empty()
        );
        assert!(
            find(inbox.id, ObjectKind::Thread, bogus.into())
                .await
                .is_empty()
        );
    }
    // An EMAILID given as a THREADID (and the reverse) matches nothing.
    assert!(
        find(inbox.id, ObjectKind::Thread, got[4].email.clone())
            .await
            .is_empty()
    );

    // MAILBOXID: kept by RENAME, new for a new incarnation of a name.
    let id_of = |m: &MailboxInfo| mailbox_object_id(m.id, m.uid_validity);
    let before = id_of(&work);
    ok(acc.rename_mailbox("Work", "Projects").await, "rename");
    assert_eq!(
        id_of(&mailbox(&*acc, "Projects").await),
        before,
        "RENAME keeps MAILBOXID"
    );
    let again = ok(acc.create_mailbox("Work", &[]).await, "create again");
    assert_ne!(id_of(&again), before, "a new mailbox gets a new MAILBOXID");
    ok(acc.rename_mailbox("INBOX", "Old").await, "rename INBOX");
    assert_eq!(
        id_of(&mailbox(&*acc, "INBOX").await),
        id_of(&inbox),
        "INBOX keeps its id"
    );
    assert_ne!(id_of(&mailbox(&*acc, "Old").await), id_of(&inbox));
}
