//! SELECT and EXAMINE (RFC 9051 6.3.2, 6.3.3). A SELECT while a mailbox is
//! selected first leaves it (`* OK [CLOSED]`, RFC 7162 3.2.11 / RFC 9051).
//! IMAP4rev1 clients also get RECENT and `[UNSEEN n]`; IMAP4rev2 clients get
//! the mandatory LIST response.
//!
//! RFC 7162: the `(CONDSTORE)` parameter turns CONDSTORE on, and with it
//! on every SELECT announces `[HIGHESTMODSEQ]`. `(QRESYNC (uidvalidity
//! modseq [known-uids] [seq-match]))` (after ENABLE QRESYNC, else BAD) adds
//! what changed since `modseq`, if the UIDVALIDITY still matches:
//! `VANISHED (EARLIER)` for the known UIDs expunged since (exact, from
//! tombstones, including UIDs above the client's highest, so seq-match data
//! is not needed), then `FETCH (UID FLAGS MODSEQ)` of each message changed.

use crate::commands::{flags_to_wire, list::special_use_attr, need_account};
use crate::error::CommandError;
use crate::names;
use crate::selected::SelectedMailbox;
use crate::session::{CmdResult, Done, Session, State};
use tidemark_imap_proto::{
    Code, Data, FetchItem, Flag, FlagPerm, ListData, Mailbox, Response, SelectParams, StatusKind,
    StatusResponse,
};
use tidemark_store::{ModSeq, mailbox_object_id};

const SYSTEM_FLAGS: [Flag; 5] = [
    Flag::Answered,
    Flag::Flagged,
    Flag::Deleted,
    Flag::Seen,
    Flag::Draft,
];

pub(crate) async fn run(
    s: &mut Session,
    mailbox: Mailbox,
    params: SelectParams,
    read_only: bool,
) -> CmdResult {
    let account = need_account(s)?;
    if params.qresync.is_some() && !s.enabled.qresync {
        return Err(CommandError::bad(
            Some(Code::ClientBug),
            "The QRESYNC parameter needs ENABLE QRESYNC first",
        ));
    }
    if params.condstore || params.qresync.is_some() {
        s.enable_condstore(false);
    }
    if matches!(s.state, State::Selected(..)) {
        s.deselect();
        s.send_status(StatusResponse::untagged(
            StatusKind::Ok,
            Some(Code::Closed),
            "Previous mailbox closed",
        ));
    }
    let name = names::decode(&mailbox, s.utf8())?;
    let info = account.mailbox(&name).await?;
    // Changes are asked for only when the client's UIDVALIDITY is current.
    let qresync = params
        .qresync
        .filter(|q| q.uidvalidity == info.uid_validity.0);
    let since = qresync.as_ref().map(|q| ModSeq(q.modseq));
    let snap = account.select_view(info.id, since).await?;
    let st = &snap.status;

    // Keywords defined in the mailbox are announced as flags too.
    let mut flags: Vec<Flag> = SYSTEM_FLAGS.to_vec();
    flags.extend(snap.keywords.iter().cloned().map(Flag::Keyword));
    s.send(Response::Data(Data::Flags(flags.clone())));
    s.send(Response::Data(Data::Exists(st.messages)));
    let rev2 = s.enabled.imap4rev2;
    if rev2 {
        let mut attributes = Vec::new();
        attributes.extend(info.special_use.iter().map(|u| special_use_attr(*u)));
        s.send(Response::Data(Data::List(ListData {
            attributes,
            delimiter: Some('/'),
            mailbox: names::encode(&info.name),
            extended: vec![],
        })));
    } else {
        s.send(Response::Data(Data::Recent(0)));
        // `[UNSEEN n]` is a message number: not under UIDONLY (RFC 9586 3).
        if !s.enabled.uidonly
            && let Some(pos) = snap
                .first_unseen
                .and_then(|u| snap.uids.binary_search(&u).ok())
        {
            s.send_status(StatusResponse::untagged(
                StatusKind::Ok,
                Some(Code::Unseen(pos as u32 + 1)),
                "First unseen",
            ));
        }
    }
    let perm = if read_only {
        vec![]
    } else {
        let mut p: Vec<FlagPerm> = flags.into_iter().map(FlagPerm::Flag).collect();
        p.push(FlagPerm::Wildcard);
        p
    };
    s.send_status(StatusResponse::untagged(
        StatusKind::Ok,
        Some(Code::PermanentFlags(perm)),
        if read_only {
            "No permanent flags permitted"
        } else {
            "Flags permitted"
        },
    ));
    s.send_status(StatusResponse::untagged(
        StatusKind::Ok,
        Some(Code::UidValidity(st.uid_validity.0)),
        "UIDs valid",
    ));
    s.send_status(StatusResponse::untagged(
        StatusKind::Ok,
        Some(Code::UidNext(st.uid_next.0)),
        "Predicted next UID",
    ));
    if s.enabled.condstore {
        s.send_status(StatusResponse::untagged(
            StatusKind::Ok,
            Some(Code::HighestModSeq(st.highest_modseq.0)),
            "Highest",
        ));
    }
    // RFC 8474 4.2.
    s.send_status(StatusResponse::untagged(
        StatusKind::Ok,
        Some(Code::MailboxId(mailbox_object_id(info.id, st.uid_validity))),
        "Ok",
    ));
    let uid_validity = st.uid_validity;
    let highest = st.highest_modseq;
    let mut view = SelectedMailbox::new(
        info.id,
        info.name.clone(),
        read_only,
        uid_validity,
        (snap.uids, snap.modseqs),
        highest,
    );
    if let (Some(q), Some(changes)) = (qresync, snap.changes)
        && q.uidvalidity == uid_validity.0
    {
        // Removed since, known to the client, and not in the view (a
        // removal after it is announced by the usual sync).
        let mut vanished: Vec<u32> = changes
            .vanished
            .iter()
            .filter(|u| view.seq(**u).is_none())
            .filter(|u| {
                q.known_uids
                    .as_ref()
                    .is_none_or(|k| k.contains(u.0, u32::MAX))
            })
            .map(|u| u.0)
            .collect();
        s.send_vanished(&mut vanished, true);
        for m in changes.changed.iter().filter(|m| m.modseq <= highest) {
            let Some(seq) = view.seq(m.uid) else { continue };
            view.note_reported(m.uid, m.modseq);
            s.send(Response::Data(Data::Fetch {
                seq,
                items: vec![
                    FetchItem::Uid(m.uid.0),
                    FetchItem::Flags(flags_to_wire(&m.flags)),
                    FetchItem::ModSeq(m.modseq.0),
                ],
            }));
        }
    }
    s.state = State::Selected(account, view);
    Ok(if read_only {
        Done::with_code(Code::ReadOnly, "EXAMINE completed")
    } else {
        Done::with_code(Code::ReadWrite, "SELECT completed")
    })
}
