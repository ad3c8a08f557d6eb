//! One message's FETCH data, loaded lazily: the parsed structure stored at
//! APPEND (never re-parsed), and only the byte ranges a section needs
//! (`Account::read_range`), so `BODY[2]` of a 50 MB message reads part 2.

use crate::error::CommandError;
use crate::mime_imap::{self, BinaryError, SectionPlan};
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::Arc;
use tidemark_imap_proto::{Code, FetchAttribute, FetchItem, Partial, Section};
use tidemark_mime::MessageStructure;
use tidemark_store::{Account, MailboxId, MessageMeta, StoreError};

/// Lazily loaded data of one message.
pub(crate) struct Message<'a> {
    account: &'a Arc<dyn Account>,
    mailbox: MailboxId,
    pub meta: &'a MessageMeta,
    structure: Option<Arc<MessageStructure>>,
    raw: Option<Bytes>,
    /// Ranges read ahead in one batch for many messages, by `(start, end)`.
    prefetched: HashMap<(usize, usize), Bytes>,
}

impl<'a> Message<'a> {
    pub fn new(account: &'a Arc<dyn Account>, mailbox: MailboxId, meta: &'a MessageMeta) -> Self {
        Message {
            account,
            mailbox,
            meta,
            structure: None,
            raw: None,
            prefetched: HashMap::new(),
        }
    }

    /// Hands over what a batch read already fetched.
    pub fn prefetch(
        &mut self,
        structure: Option<Arc<MessageStructure>>,
        ranges: HashMap<(usize, usize), Bytes>,
    ) {
        if structure.is_some() {
            self.structure = structure;
        }
        self.prefetched = ranges;
    }

    /// The whole message.
    pub async fn raw(&mut self) -> Result<Bytes, StoreError> {
        if let Some(r) = &self.raw {
            return Ok(r.clone());
        }
        let r = self
            .account
            .read_message(self.mailbox, self.meta.uid)
            .await?;
        self.raw = Some(r.clone());
        Ok(r)
    }

    /// The parsed structure (stored at APPEND; parsed now only for a
    /// message stored without one).
    pub async fn structure(&mut self) -> Result<Arc<MessageStructure>, StoreError> {
        if let Some(s) = &self.structure {
            return Ok(s.clone());
        }
        let stored = self
            .account
            .read_structure(self.mailbox, self.meta.uid)
            .await?;
        let parsed = match MessageStructure::from_bytes(&stored) {
            Some(s) => s,
            None => tidemark_mime::parse(&self.raw().await?),
        };
        let s = Arc::new(parsed);
        self.structure = Some(s.clone());
        Ok(s)
    }

    /// Bytes `[start, end)` of the message.
    async fn range(&mut self, start: usize, end: usize) -> Result<Bytes, StoreError> {
        let end = end.max(start);
        if let Some(b) = self.prefetched.get(&(start, end)) {
            return Ok(b.clone());
        }
        if let Some(r) = &self.raw {
            let len = r.len();
            return Ok(r.slice(start.min(len)..end.min(len)));
        }
        self.account
            .read_range(
                self.mailbox,
                self.meta.uid,
                start as u64,
                (end - start) as u64,
            )
            .await
    }

    /// `BODY[section]<partial>`. A section that does not exist is NIL.
    pub async fn body_section(
        &mut self,
        section: &Section,
        partial: Option<Partial>,
    ) -> Result<FetchItem, StoreError> {
        let st = self.structure().await?;
        let size = self.meta.size as usize;
        let data = match mime_imap::section_plan(&st, size, section) {
            None => None,
            Some(SectionPlan::Range(r)) => {
                let (start, end) = narrow(r.start, r.end, partial);
                Some(self.range(start, end).await?.to_vec())
            }
            Some(SectionPlan::HeaderFields {
                header,
                fields,
                not,
            }) => {
                let block = self.range(header.start, header.end).await?;
                let all = mime_imap::filter_header_block(&block, &fields, not);
                let (start, end) = narrow(0, all.len(), partial);
                Some(all[start..end].to_vec())
            }
        };
        Ok(FetchItem::BodySection {
            section: section.clone(),
            origin: partial.map(|p| p.offset),
            data: data.map(mime_imap::nul_to_0x80),
        })
    }

    /// `BINARY[part]` decoded, before any partial.
    pub async fn binary(&mut self, part: &[u32]) -> Result<Vec<u8>, CommandError> {
        let st = self.structure().await?;
        let plan =
            mime_imap::binary_plan(&st, self.meta.size as usize, part).map_err(binary_error)?;
        let bytes = self.range(plan.range.start, plan.range.end).await?;
        if !plan.decode {
            return Ok(bytes.to_vec());
        }
        tidemark_mime::decode_transfer(plan.cte.as_deref(), &bytes)
            .map_err(|e| binary_error(e.into()))
    }

    /// RFC822.HEADER / RFC822.TEXT: the top-level header or body.
    pub async fn top_level(&mut self, header: bool) -> Result<Vec<u8>, StoreError> {
        let st = self.structure().await?;
        let r = &st.root;
        let (start, end) = if header {
            (r.header_start, r.body_start)
        } else {
            (r.body_start, r.end)
        };
        Ok(self.range(start, end).await?.to_vec())
    }

    /// PREVIEW (RFC 8970).
    pub async fn preview(&mut self) -> Result<Option<String>, StoreError> {
        let st = self.structure().await?;
        let raw = self.raw().await?;
        Ok(tidemark_mime::preview(&raw, &st))
    }
}

/// The byte range an attribute reads, for reading ahead in a batch
/// (the item methods above read exactly these ranges).
pub(crate) fn needed_range(
    st: &MessageStructure,
    size: usize,
    a: &FetchAttribute,
) -> Option<(usize, usize)> {
    match a {
        FetchAttribute::BodySection {
            section, partial, ..
        } => match mime_imap::section_plan(st, size, section)? {
            SectionPlan::Range(r) => Some(narrow(r.start, r.end, *partial)),
            SectionPlan::HeaderFields { header, .. } => Some((header.start, header.end)),
        },
        FetchAttribute::Binary { part, .. } | FetchAttribute::BinarySize { part } => {
            let plan = mime_imap::binary_plan(st, size, part).ok()?;
            Some((plan.range.start, plan.range.end))
        }
        FetchAttribute::Rfc822Header => Some((st.root.header_start, st.root.body_start)),
        FetchAttribute::Rfc822Text => Some((st.root.body_start, st.root.end)),
        _ => None,
    }
}

/// Whether an attribute needs the parsed structure.
pub(crate) fn needs_structure(a: &FetchAttribute) -> bool {
    matches!(
        a,
        FetchAttribute::Envelope
            | FetchAttribute::Body
            | FetchAttribute::BodyStructure
            | FetchAttribute::Rfc822Header
            | FetchAttribute::Rfc822Text
            | FetchAttribute::BodySection { .. }
            | FetchAttribute::Binary { .. }
            | FetchAttribute::BinarySize { .. }
            | FetchAttribute::Preview { .. }
    )
}

/// Applies `<offset.length>` to the range `[start, end)`.
pub(crate) fn narrow(start: usize, end: usize, partial: Option<Partial>) -> (usize, usize) {
    match partial {
        None => (start, end),
        Some(p) => {
            let s = start
                .saturating_add(usize::try_from(p.offset).unwrap_or(usize::MAX))
                .min(end);
            let e = s
                .saturating_add(usize::try_from(p.length).unwrap_or(usize::MAX))
                .min(end);
            (s, e)
        }
    }
}

fn binary_error(e: BinaryError) -> CommandError {
    match e {
        BinaryError::NoSuchPart => CommandError::no(Some(Code::NonExistent), "No such MIME part"),
        BinaryError::UnknownCte => CommandError::no(
            Some(Code::UnknownCte),
            "Unknown Content-Transfer-Encoding in that part",
        ),
        BinaryError::Parse => CommandError::no(Some(Code::Parse), "Invalid data in MIME part"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_narrowing() {
        let p = |offset, length| Some(Partial { offset, length });
        assert_eq!(narrow(10, 20, None), (10, 20));
        assert_eq!(narrow(10, 20, p(2, 5)), (12, 17));
        assert_eq!(narrow(10, 20, p(8, 5)), (18, 20));
        assert_eq!(narrow(10, 20, p(50, 5)), (20, 20));
        assert_eq!(narrow(10, 20, p(u64::MAX, u64::MAX)), (20, 20));
    }
}
