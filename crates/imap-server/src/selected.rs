//! The selected mailbox as one session sees it (Dovecot's imap-sync.c):
//! the message-sequence-number to UID map, the MODSEQ each message was last
//! reported at, and expunges that could not be announced yet.
//!
//! RFC 9051 7.5.1: EXPUNGE must not be sent while a command using sequence
//! numbers runs (FETCH, STORE, SEARCH), because the client's numbers would
//! shift under it. The session asks for [`SelectedMailbox::apply`] with
//! `expunges_allowed = false` then, and the expunged messages stay in the map
//! (their numbers stay valid) until a later command allows them.

use std::sync::Arc;
use tidemark_store::{Changes, Flags, MailboxId, ModSeq, Uid, UidSet, UidValidity};

/// An event to announce to the client, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewEvent {
    /// `* n EXPUNGE` (the number is valid at the moment it is sent), or
    /// the UID in a VANISHED once QRESYNC is on.
    Expunge { seq: u32, uid: Uid },
    /// `* n EXISTS`.
    Exists(u32),
    /// `* n FETCH (FLAGS ...)` for a message changed elsewhere.
    Flags {
        seq: u32,
        uid: Uid,
        flags: Flags,
        modseq: ModSeq,
    },
}

/// The session's view of its selected mailbox.
#[derive(Debug, Clone)]
pub struct SelectedMailbox {
    pub id: MailboxId,
    /// The name as the client selected it.
    pub name: String,
    pub read_only: bool,
    pub uid_validity: UidValidity,
    /// `uids[msn - 1]`, ascending. Shared with the store's cache (and other
    /// sessions) until this view first changes (copy on write), so SELECT
    /// copies nothing.
    uids: Arc<Vec<Uid>>,
    /// MODSEQ each message was last reported at, parallel to `uids`.
    modseqs: Arc<Vec<ModSeq>>,
    /// Expunged in the store, not yet announced.
    pending_expunges: Vec<Uid>,
    /// Everything up to this MODSEQ has been taken into the view.
    highest_modseq: ModSeq,
    /// The SEARCHRES saved result (`$`, RFC 5182), ascending; empty at
    /// SELECT.
    pub saved_search: Vec<Uid>,
}

impl SelectedMailbox {
    /// Builds the view from the store's sequence map: `uids` ascending,
    /// `modseqs` parallel to it.
    pub fn new(
        id: MailboxId,
        name: String,
        read_only: bool,
        uid_validity: UidValidity,
        (uids, modseqs): (Arc<Vec<Uid>>, Arc<Vec<ModSeq>>),
        highest_modseq: ModSeq,
    ) -> SelectedMailbox {
        debug_assert_eq!(uids.len(), modseqs.len());
        SelectedMailbox {
            id,
            name,
            read_only,
            uid_validity,
            uids,
            modseqs,
            pending_expunges: Vec::new(),
            highest_modseq,
            saved_search: Vec::new(),
        }
    }

    /// Number of messages the client knows (EXISTS).
    pub fn exists(&self) -> u32 {
        self.uids.len() as u32
    }

    pub fn highest_modseq(&self) -> ModSeq {
        self.highest_modseq
    }

    /// UID of a sequence number (1-based).
    pub fn uid(&self, seq: u32) -> Option<Uid> {
        self.uids.get((seq as usize).checked_sub(1)?).copied()
    }

    /// Sequence number of a UID the client knows.
    pub fn seq(&self, uid: Uid) -> Option<u32> {
        self.uids.binary_search(&uid).ok().map(|i| i as u32 + 1)
    }

    /// The highest UID the client knows (0 when empty).
    pub fn max_uid(&self) -> u32 {
        self.uids.last().map_or(0, |u| u.0)
    }

    /// All UIDs, ascending.
    pub fn uids(&self) -> &[Uid] {
        &self.uids
    }

    /// Whether a known message is expunged but not yet announced.
    pub fn is_pending_expunge(&self, uid: Uid) -> bool {
        self.pending_expunges.binary_search(&uid).is_ok()
    }

    /// Converts sequence-number ranges (already resolved against `exists`)
    /// into the UIDs they denote.
    pub fn seq_ranges_to_uids(&self, ranges: &[(u32, u32)]) -> UidSet {
        let mut set = UidSet::new();
        for &(lo, hi) in ranges {
            let lo = lo.max(1) as usize;
            let hi = (hi as usize).min(self.uids.len());
            if lo > hi {
                continue;
            }
            let first = self.uids[lo - 1].0;
            let last = self.uids[hi - 1].0;
            // Contiguous msns map to ascending UIDs; gaps between them hold no
            // known messages, so the UID range is exact for this view.
            set.insert_range(first, last);
        }
        set
    }

    /// Records that this session itself reported a message at `modseq`
    /// (after its own STORE), so the next sync does not repeat it.
    pub fn note_reported(&mut self, uid: Uid, modseq: ModSeq) {
        if let Ok(i) = self.uids.binary_search(&uid)
            && self.modseqs[i] < modseq
        {
            Arc::make_mut(&mut self.modseqs)[i] = modseq;
        }
    }

    /// Takes a batch of store changes into the view and returns what to
    /// announce. With `expunges_allowed = false`, expunges are kept pending.
    pub fn apply(&mut self, changes: &Changes, expunges_allowed: bool) -> Vec<ViewEvent> {
        let mut events = Vec::new();
        for uid in &changes.vanished {
            if self.uids.binary_search(uid).is_ok()
                && let Err(pos) = self.pending_expunges.binary_search(uid)
            {
                self.pending_expunges.insert(pos, *uid);
            }
        }
        if expunges_allowed {
            events.extend(self.flush_expunges());
        }
        let mut new_count = 0u32;
        let max_known = self.max_uid();
        for m in &changes.changed {
            if m.uid.0 > max_known {
                if self.uids.last().is_none_or(|last| *last < m.uid) {
                    Arc::make_mut(&mut self.uids).push(m.uid);
                    Arc::make_mut(&mut self.modseqs).push(m.modseq);
                    new_count += 1;
                }
            } else if let Ok(i) = self.uids.binary_search(&m.uid)
                && self.modseqs[i] < m.modseq
                && !self.is_pending_expunge(m.uid)
            {
                Arc::make_mut(&mut self.modseqs)[i] = m.modseq;
                events.push(ViewEvent::Flags {
                    seq: i as u32 + 1,
                    uid: m.uid,
                    flags: m.flags.clone(),
                    modseq: m.modseq,
                });
            }
        }
        if new_count > 0 {
            events.push(ViewEvent::Exists(self.exists()));
        }
        if changes.status.highest_modseq > self.highest_modseq {
            self.highest_modseq = changes.status.highest_modseq;
        }
        events
    }

    /// Announces pending expunges, highest sequence number first so each
    /// number is valid when sent.
    pub fn flush_expunges(&mut self) -> Vec<ViewEvent> {
        let mut events = Vec::new();
        for uid in std::mem::take(&mut self.pending_expunges).into_iter().rev() {
            if let Ok(i) = self.uids.binary_search(&uid) {
                Arc::make_mut(&mut self.uids).remove(i);
                Arc::make_mut(&mut self.modseqs).remove(i);
                events.push(ViewEvent::Expunge {
                    seq: i as u32 + 1,
                    uid,
                });
            }
        }
        events
    }

    /// Removes messages this session expunged itself (EXPUNGE, MOVE) and
    /// returns the EXPUNGE events, highest sequence number first.
    pub fn remove_own(&mut self, uids: &[Uid]) -> Vec<ViewEvent> {
        let mut events = Vec::new();
        for uid in uids.iter().rev() {
            if let Ok(i) = self.uids.binary_search(uid) {
                Arc::make_mut(&mut self.uids).remove(i);
                Arc::make_mut(&mut self.modseqs).remove(i);
                events.push(ViewEvent::Expunge {
                    seq: i as u32 + 1,
                    uid: *uid,
                });
            }
            if let Ok(p) = self.pending_expunges.binary_search(uid) {
                self.pending_expunges.remove(p);
            }
        }
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tidemark_store::{InternalDate, MailboxStatus, MessageMeta};

    fn meta(uid: u32, modseq: u64) -> MessageMeta {
        MessageMeta {
            uid: Uid(uid),
            flags: Flags::new(),
            internal_date: InternalDate {
                unix: 0,
                offset_minutes: 0,
            },
            size: 1,
            modseq: ModSeq(modseq),
        }
    }

    fn changes(changed: Vec<MessageMeta>, vanished: Vec<u32>, hms: u64) -> Changes {
        Changes {
            status: MailboxStatus {
                id: MailboxId(1),
                uid_validity: UidValidity(1),
                uid_next: Uid(100),
                messages: 0,
                unseen: 0,
                deleted: 0,
                size: 0,
                highest_modseq: ModSeq(hms),
            },
            changed,
            vanished: vanished.into_iter().map(Uid).collect(),
        }
    }

    fn view() -> SelectedMailbox {
        SelectedMailbox::new(
            MailboxId(1),
            "INBOX".into(),
            false,
            UidValidity(1),
            (
                Arc::new(vec![Uid(3), Uid(5), Uid(9)]),
                Arc::new(vec![ModSeq(1), ModSeq(2), ModSeq(3)]),
            ),
            ModSeq(3),
        )
    }

    #[test]
    fn expunge_deferred_then_flushed_highest_first() {
        let mut v = view();
        let ev = v.apply(&changes(vec![], vec![3, 9], 5), false);
        assert!(ev.is_empty());
        assert_eq!(v.exists(), 3, "numbers stay valid while deferred");
        assert_eq!(v.seq(Uid(9)), Some(3));
        let ev = v.flush_expunges();
        assert_eq!(
            ev,
            vec![
                ViewEvent::Expunge {
                    seq: 3,
                    uid: Uid(9)
                },
                ViewEvent::Expunge {
                    seq: 1,
                    uid: Uid(3)
                }
            ]
        );
        assert_eq!(v.uids(), &[Uid(5)]);
    }

    #[test]
    fn new_messages_and_flag_changes() {
        let mut v = view();
        let ev = v.apply(
            &changes(vec![meta(5, 4), meta(10, 4), meta(11, 4)], vec![], 4),
            true,
        );
        assert_eq!(ev.len(), 2);
        assert!(matches!(ev[0], ViewEvent::Flags { seq: 2, .. }));
        assert_eq!(ev[1], ViewEvent::Exists(5));
        // The same change again is not repeated.
        assert!(
            v.apply(&changes(vec![meta(5, 4)], vec![], 4), true)
                .is_empty()
        );
        assert_eq!(v.highest_modseq(), ModSeq(4));
    }

    /// Views built from one shared map (the store's cache) copy it on their
    /// first change: one session's changes never show in another's view.
    #[test]
    fn shared_maps_are_copied_on_write() {
        let uids = Arc::new(vec![Uid(3), Uid(5), Uid(9)]);
        let modseqs = Arc::new(vec![ModSeq(1), ModSeq(2), ModSeq(3)]);
        let make = || {
            SelectedMailbox::new(
                MailboxId(1),
                "INBOX".into(),
                false,
                UidValidity(1),
                (uids.clone(), modseqs.clone()),
                ModSeq(3),
            )
        };
        let (mut a, b) = (make(), make());
        a.apply(&changes(vec![meta(5, 4), meta(10, 4)], vec![3], 4), true);
        assert_eq!(a.uids(), &[Uid(5), Uid(9), Uid(10)]);
        assert_eq!(
            b.uids(),
            &[Uid(3), Uid(5), Uid(9)],
            "the other view is untouched"
        );
        assert_eq!(
            *uids,
            vec![Uid(3), Uid(5), Uid(9)],
            "and so is the shared map"
        );
        assert_eq!(*modseqs, vec![ModSeq(1), ModSeq(2), ModSeq(3)]);
    }

    #[test]
    fn seq_ranges_map_to_uids() {
        let v = view();
        let s = v.seq_ranges_to_uids(&[(2, 3)]);
        assert!(s.contains(Uid(5)) && s.contains(Uid(9)) && !s.contains(Uid(3)));
        assert!(v.seq_ranges_to_uids(&[(4, 7)]).is_empty());
    }
}
