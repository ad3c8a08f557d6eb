//! APPEND (RFC 9051 6.3.12) with MULTIAPPEND (RFC 3502, atomic), literal8
//! (RFC 3516), the MIME structure parsed once here, and
//! UIDPLUS's `[APPENDUID]` (RFC 4315). Literal size was already checked
//! against APPENDLIMIT by the decoder before any byte was buffered.

use crate::commands::{flags_from_wire, need_account};
use crate::error::CommandError;
use crate::names;
use crate::session::{CmdResult, Done, Session};
use bytes::Bytes;
use tidemark_imap_proto::{AppendMessage, Code, Mailbox, SequenceSet};
use tidemark_store::{InternalDate, NewMessage};

pub(crate) async fn run(
    s: &mut Session,
    mailbox: Mailbox,
    messages: Vec<AppendMessage>,
) -> CmdResult {
    let account = need_account(s)?;
    let name = names::decode(&mailbox, s.utf8())?;
    let info = account
        .mailbox(&name)
        .await
        .map_err(CommandError::for_destination)?;
    let mut new = Vec::with_capacity(messages.len());
    for m in messages {
        if m.data.is_empty() {
            return Err(CommandError::no(None, "Cannot append an empty message"));
        }
        let internal_date = m.date.map(|d| InternalDate {
            unix: d.to_unix(),
            offset_minutes: d.zone_minutes,
        });
        let data = Bytes::from(m.data);
        new.push(NewMessage {
            structure: crate::mime_imap::parse_structure(data.clone()).await,
            data,
            flags: flags_from_wire(&m.flags)?,
            internal_date,
        });
    }
    let out = account
        .append(info.id, new)
        .await
        .map_err(CommandError::for_destination)?;
    let uids: Vec<u32> = out.uids.iter().map(|u| u.0).collect();
    Ok(Done::with_code(
        Code::AppendUid {
            uidvalidity: out.uid_validity.0,
            uids: SequenceSet::from_numbers(&uids),
        },
        "APPEND completed",
    ))
}
