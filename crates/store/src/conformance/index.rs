//! Conformance of [`Account::search_index`]: a backend may have no index
//! (`Ok(None)`), but an answer it gives must be exact for every message it
//! does not call unsure, across APPEND, COPY and EXPUNGE.

use super::{account, flags, mailbox, message, ok};
use crate::*;
use SystemFlag::Deleted;

/// Checks one index answer against the truth (`want`: the UIDs whose text
/// contains the needle). Needles are ASCII here, and the folded form of
/// ASCII (`tidemark_search::fold`, i;unicode-casemap) is its uppercase.
async fn check(acc: &dyn Account, mb: MailboxId, field: TextField, needle: &str, want: &[u32]) {
    let needle = &needle.to_ascii_uppercase();
    let Some(got) = ok(
        acc.search_index(mb, field, needle).await,
        &format!("search_index({field:?}, {needle:?})"),
    ) else {
        return;
    };
    let all = ok(
        acc.fetch_meta(mb, &UidSet::range(1, u32::MAX)).await,
        "fetch_meta",
    );
    for m in all {
        let hit = got.hits.contains(&m.uid);
        let truth = want.contains(&m.uid.0);
        assert!(
            got.hits.windows(2).all(|w| w[0] < w[1]),
            "hits ascending: {:?}",
            got.hits
        );
        if hit {
            assert!(
                truth,
                "{field:?} {needle:?}: uid {} reported but does not match",
                m.uid.0
            );
        } else if !got.unsure.contains(&m.uid) {
            assert!(
                !truth,
                "{field:?} {needle:?}: uid {} matches but was not reported",
                m.uid.0
            );
        }
    }
    for u in &got.hits {
        assert!(
            want.contains(&u.0) || got.unsure.contains(u),
            "{needle:?}: uid {} not in mailbox",
            u.0
        );
    }
}

pub(super) async fn index_answers_are_exact<S: Store>(store: &S) {
    let acc = account(store, "alice").await;
    let inbox = mailbox(&*acc, "INBOX").await;
    let arch = mailbox(&*acc, "Archive").await;
    ok(
        acc.append(
            inbox.id,
            vec![
                message("the quick brown fox", Flags::new()),
                message("lazy dog", Flags::new()),
                message("fox*star [x] 50% off a_b", Flags::new()),
            ],
        )
        .await,
        "append",
    );
    ok(
        acc.append(arch.id, vec![message("quick archive", Flags::new())])
            .await,
        "append",
    );
    use TextField::{Body, Header};
    check(&*acc, inbox.id, Body, "quick", &[1]).await;
    check(&*acc, inbox.id, Body, "fox", &[1, 3]).await;
    check(&*acc, inbox.id, Body, "fox*star [x]", &[3]).await;
    check(&*acc, inbox.id, Body, "50% off a_b", &[3]).await;
    check(&*acc, inbox.id, Body, "a?b", &[]).await;
    check(&*acc, inbox.id, Body, "o", &[1, 2, 3]).await;
    check(&*acc, inbox.id, Body, "wn fo", &[1]).await;
    check(&*acc, inbox.id, Body, "subject", &[]).await;
    check(&*acc, inbox.id, Header, "subject: test", &[1, 2, 3]).await;
    check(&*acc, inbox.id, Header, "quick", &[]).await;
    check(&*acc, arch.id, Body, "quick", &[1]).await;
    // COPY shares the text; EXPUNGE removes it from the answer.
    ok(
        acc.copy(inbox.id, &UidSet::range(1, 1), arch.id).await,
        "copy",
    );
    check(&*acc, arch.id, Body, "quick", &[1, 2]).await;
    let upd = FlagUpdate {
        op: FlagOp::Add,
        flags: flags(&[Deleted], &[]),
        unchanged_since: None,
    };
    ok(
        acc.store_flags(inbox.id, &UidSet::range(1, 1), &upd).await,
        "store",
    );
    ok(acc.expunge(inbox.id, None).await, "expunge");
    check(&*acc, inbox.id, Body, "quick", &[]).await;
    check(&*acc, arch.id, Body, "quick", &[1, 2]).await;
    ok(
        acc.expunge(arch.id, None).await,
        "expunge (nothing deleted)",
    );
    let upd_all = UidSet::range(1, 2);
    ok(acc.store_flags(arch.id, &upd_all, &upd).await, "store");
    ok(acc.expunge(arch.id, None).await, "expunge archive");
    check(&*acc, arch.id, Body, "quick", &[]).await;
}
