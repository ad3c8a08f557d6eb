//! Loads the [`Summary`] of messages (what SORT, THREAD and SEARCH's header
//! keys need): the stored one when the backend keeps it, else computed from
//! the message.

use crate::error::CommandError;
use tidemark_mime::MessageStructure;
use tidemark_search::Summary;
use tidemark_store::{Account, MailboxId, StoreError, Uid};

/// Messages whose summaries are asked for in one call.
const CHUNK: usize = 1024;

/// One entry per UID, in order; `None` for a message expunged meanwhile.
/// Without `with_text`, the SUBJECT/FROM/TO/CC/BCC search text of stored
/// summaries is not decoded (SORT and THREAD do not use it).
pub(crate) async fn load(
    account: &dyn Account,
    mailbox: MailboxId,
    uids: &[Uid],
    with_text: bool,
) -> Result<Vec<Option<Summary>>, CommandError> {
    let decode = if with_text {
        Summary::from_bytes
    } else {
        Summary::keys_from_bytes
    };
    let mut out = Vec::with_capacity(uids.len());
    for chunk in uids.chunks(CHUNK) {
        let stored = account.read_summaries(mailbox, chunk).await?;
        for (&uid, bytes) in chunk.iter().zip(stored) {
            match bytes.as_deref().and_then(decode) {
                Some(s) => out.push(Some(s)),
                None => out.push(compute(account, mailbox, uid).await?),
            }
        }
    }
    Ok(out)
}

/// The summary of one message, from its bytes.
async fn compute(
    account: &dyn Account,
    mailbox: MailboxId,
    uid: Uid,
) -> Result<Option<Summary>, CommandError> {
    let raw = match account.read_message(mailbox, uid).await {
        Ok(raw) => raw,
        Err(StoreError::Expunged) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let structure = match account.read_structure(mailbox, uid).await {
        Ok(b) => MessageStructure::from_bytes(&b),
        Err(_) => None,
    }
    .unwrap_or_else(|| tidemark_mime::parse(&raw));
    Ok(Some(Summary::new(&raw, &structure)))
}
