//! Model-based test: seeded random operation sequences applied to the
//! store and to an in-memory reference model, comparing all observable
//! state after every operation.
//!
//! MODSEQ values are backend-specific, so the model does not predict them;
//! it checks their rules instead: a mailbox whose messages changed gets a
//! strictly greater HIGHESTMODSEQ, changed messages get a MODSEQ above the
//! previous HIGHESTMODSEQ, untouched messages keep theirs, and
//! `changes_since(h)` reports exactly what changed after `h` was observed.

use super::{account, ok};
use crate::*;
use bytes::Bytes;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// Runs `ops` random operations for each seed in `seeds`, each seed on a
/// fresh store. A failure message names the seed and the operation.
pub async fn run_model<S: Store, F: Fn() -> S>(make: F, seeds: std::ops::Range<u64>, ops: usize) {
    for seed in seeds {
        eprintln!("conformance model: seed {seed}, {ops} ops");
        let store = make();
        let acc = account(&store, "model").await;
        let mut m = Model::new(seed);
        m.verify(&*acc, "initial state").await;
        for step in 0..ops {
            let desc = m.step(&*acc).await;
            m.verify(&*acc, &format!("seed {seed} step {step}: {desc}"))
                .await;
        }
    }
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
}

/// The structure the model stores with some bytes: a function of the bytes,
/// as the session's parse is, so deduplicated messages agree.
fn structure_of(data: &[u8]) -> Bytes {
    let sum = data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    Bytes::from(format!("structure {} {sum:016x}", data.len()))
}

#[derive(Clone)]
struct MMsg {
    flags: Flags,
    data: Bytes,
    date: InternalDate,
    /// MODSEQ as last observed (0 until observed).
    modseq: ModSeq,
    /// HIGHESTMODSEQ observed just before the operation that last changed it.
    changed_after: ModSeq,
    /// Changed by the current operation.
    dirty: bool,
}

#[derive(Clone)]
struct MBox {
    /// `None` until observed (the store assigns ids).
    id: Option<MailboxId>,
    uid_validity: Option<UidValidity>,
    special_use: Vec<SpecialUse>,
    uid_next: u32,
    msgs: BTreeMap<u32, MMsg>,
    /// (uid, HIGHESTMODSEQ observed before the expunge).
    tombs: Vec<(u32, ModSeq)>,
    /// HIGHESTMODSEQ as last observed.
    highest: ModSeq,
    /// Messages changed by the current operation.
    touched: bool,
    /// Observed HIGHESTMODSEQ values, for `changes_since` and
    /// UNCHANGEDSINCE arguments.
    history: Vec<ModSeq>,
}

impl MBox {
    fn new() -> MBox {
        MBox {
            id: None,
            uid_validity: None,
            special_use: Vec::new(),
            uid_next: 1,
            msgs: BTreeMap::new(),
            tombs: Vec::new(),
            highest: ModSeq(0),
            touched: false,
            history: vec![ModSeq(0)],
        }
    }

    fn add(&mut self, mut m: MMsg) -> u32 {
        let uid = self.uid_next;
        self.uid_next += 1;
        m.dirty = true;
        m.changed_after = self.highest;
        self.msgs.insert(uid, m);
        self.touched = true;
        uid
    }

    fn remove(&mut self, uid: u32) -> Option<MMsg> {
        let m = self.msgs.remove(&uid)?;
        self.tombs.push((uid, self.highest));
        self.touched = true;
        Some(m)
    }
}

enum Expect<T> {
    Ok(T),
    Err(StoreError),
    /// Some error; the kind is not pinned.
    AnyErr,
}

struct Model {
    rng: Rng,
    boxes: BTreeMap<String, MBox>,
    subs: BTreeSet<String>,
    seen_ids: HashSet<MailboxId>,
    dead_ids: Vec<MailboxId>,
    validities: HashMap<String, Vec<UidValidity>>,
}

const NAMES: [&str; 10] = [
    "INBOX",
    "inbox",
    "A",
    "A/B",
    "A/B/C",
    "B",
    "B/X",
    "C",
    "Trash",
    "inbox/Sub",
];
const KEYWORDS: [&str; 3] = ["k1", "k2", "$label"];

fn norm(name: &str) -> String {
    let first = name.split('/').next().unwrap_or(name);
    if first.eq_ignore_ascii_case("INBOX") {
        format!("INBOX{}", &name[first.len()..])
    } else {
        name.to_string()
    }
}

fn under(name: &str, ancestor: &str) -> bool {
    name == ancestor
        || name
            .strip_prefix(ancestor)
            .is_some_and(|r| r.starts_with('/'))
}

fn check<T: std::fmt::Debug>(
    got: &StoreResult<T>,
    want: &Expect<impl std::fmt::Debug>,
    what: &str,
) {
    let fine = match (got, want) {
        (Ok(_), Expect::Ok(_)) => true,
        (Err(e), Expect::Err(w)) => std::mem::discriminant(e) == std::mem::discriminant(w),
        (Err(_), Expect::AnyErr) => true,
        _ => false,
    };
    if !fine {
        let w = match want {
            Expect::Ok(v) => format!("Ok({v:?})"),
            Expect::Err(e) => format!("Err({e:?})"),
            Expect::AnyErr => "some error".to_string(),
        };
        panic!("{what}: store returned {got:?}, model expected {w}");
    }
}

impl Model {
    fn new(seed: u64) -> Model {
        let mut boxes = BTreeMap::new();
        let mut subs = BTreeSet::new();
        for (n, u) in [
            ("INBOX", None),
            ("Drafts", Some(SpecialUse::Drafts)),
            ("Sent", Some(SpecialUse::Sent)),
            ("Trash", Some(SpecialUse::Trash)),
            ("Junk", Some(SpecialUse::Junk)),
            ("Archive", Some(SpecialUse::Archive)),
        ] {
            let mut b = MBox::new();
            b.special_use = u.into_iter().collect();
            boxes.insert(n.to_string(), b);
            subs.insert(n.to_string());
        }
        Model {
            rng: Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1),
            boxes,
            subs,
            seen_ids: HashSet::new(),
            dead_ids: Vec::new(),
            validities: HashMap::new(),
        }
    }

    fn random_box(&mut self) -> (String, MailboxId) {
        let names: Vec<&String> = self.boxes.keys().collect();
        let name = (*self.rng.pick(&names)).clone();
        let id = self.boxes[&name]
            .id
            .expect("model: every mailbox observed after each step");
        (name, id)
    }

    fn random_set(&mut self, uid_next: u32) -> UidSet {
        if self.rng.chance(20) {
            return UidSet::range(1, u32::MAX);
        }
        let mut s = UidSet::new();
        for _ in 0..=self.rng.below(2) {
            let a = 1 + self.rng.below(uid_next as u64 + 1) as u32;
            let b = a + self.rng.below(4) as u32;
            s.insert_range(a, b);
        }
        s
    }

    fn random_flags(&mut self) -> Flags {
        let mut f = Flags::new();
        for s in [
            SystemFlag::Seen,
            SystemFlag::Deleted,
            SystemFlag::Flagged,
            SystemFlag::Answered,
        ] {
            if self.rng.chance(30) {
                f.insert(s);
            }
        }
        for k in KEYWORDS {
            if self.rng.chance(20) {
                f.insert_keyword(k.to_string());
            }
        }
        f
    }

    fn set_of(&self, name: &str, set: &UidSet) -> Vec<u32> {
        self.boxes[name]
            .msgs
            .keys()
            .copied()
            .filter(|u| set.contains(Uid(*u)))
            .collect()
    }

    /// Performs one random operation on store and model; returns its
    /// description.
    async fn step(&mut self, acc: &dyn Account) -> String {
        match self.rng.below(100) {
            0..=24 => self.op_append(acc).await,
            25..=44 => self.op_store(acc).await,
            45..=54 => self.op_expunge(acc).await,
            55..=62 => self.op_copy(acc, false).await,
            63..=70 => self.op_copy(acc, true).await,
            71..=77 => self.op_create(acc).await,
            78..=82 => self.op_delete(acc).await,
            83..=87 => self.op_rename(acc).await,
            88..=90 => self.op_subscribe(acc).await,
            91..=95 => self.op_read(acc).await,
            96..=98 => self.op_changes(acc).await,
            _ => self.op_stale(acc).await,
        }
    }

    async fn op_append(&mut self, acc: &dyn Account) -> String {
        let (name, id) = self.random_box();
        let n = 1 + self.rng.below(3);
        let mut msgs = Vec::new();
        for _ in 0..n {
            let body = if self.rng.chance(50) {
                format!("Subject: dup {}\r\n\r\nsame\r\n", self.rng.below(4))
            } else {
                format!(
                    "Subject: r\r\n\r\n{}\r\n",
                    "x".repeat(self.rng.below(3000) as usize)
                )
            };
            let date = InternalDate {
                unix: 1_500_000_000 + self.rng.below(1 << 28) as i64,
                offset_minutes: (self.rng.below(1500) as i16) - 750,
            };
            let data = Bytes::from(body);
            msgs.push(NewMessage {
                structure: structure_of(&data),
                data,
                flags: self.random_flags(),
                internal_date: Some(date),
            });
        }
        let got = acc.append(id, msgs.clone()).await;
        let b = self.boxes.get_mut(&name).expect("picked");
        let mut uids = Vec::new();
        for m in &msgs {
            let mm = MMsg {
                flags: m.flags.clone(),
                data: m.data.clone(),
                date: m.internal_date.expect("set above"),
                modseq: ModSeq(0),
                changed_after: ModSeq(0),
                dirty: false,
            };
            uids.push(Uid(b.add(mm)));
        }
        let what = format!("append {n} to {name}");
        check(&got, &Expect::Ok(&uids), &what);
        assert_eq!(ok(got, &what).uids, uids, "{what}: UIDs");
        what
    }

    async fn op_store(&mut self, acc: &dyn Account) -> String {
        let (name, id) = self.random_box();
        let set = self.random_set(self.boxes[&name].uid_next);
        let op = *self
            .rng
            .pick(&[FlagOp::Add, FlagOp::Remove, FlagOp::Replace]);
        let fl = self.random_flags();
        let unchanged_since = if self.rng.chance(30) {
            let h = self.boxes[&name].history.clone();
            Some(*self.rng.pick(&h))
        } else {
            None
        };
        let what =
            format!("store {op:?} {fl:?} unchangedsince {unchanged_since:?} on {name} {set:?}");
        let upd = FlagUpdate {
            op,
            flags: fl.clone(),
            unchanged_since,
        };
        let got = ok(acc.store_flags(id, &set, &upd).await, &what);
        let uids = self.set_of(&name, &set);
        let b = self.boxes.get_mut(&name).expect("picked");
        let pre = b.highest;
        let (mut changed, mut modified) = (Vec::new(), Vec::new());
        for u in uids {
            let m = b.msgs.get_mut(&u).expect("listed");
            if unchanged_since.is_some_and(|s| m.modseq > s) {
                modified.push(Uid(u));
                continue;
            }
            let new = m.flags.apply(op, &fl);
            if new != m.flags {
                m.flags = new;
                m.dirty = true;
                m.changed_after = pre;
                changed.push((Uid(u), m.flags.clone()));
            }
        }
        if !changed.is_empty() {
            b.touched = true;
        }
        let got_changed: Vec<(Uid, Flags)> = got
            .changed
            .iter()
            .map(|m| (m.uid, m.flags.clone()))
            .collect();
        assert_eq!(got_changed, changed, "{what}: changed");
        assert_eq!(got.modified, modified, "{what}: modified");
        for m in &got.changed {
            assert!(
                m.modseq > pre,
                "{what}: changed message MODSEQ must exceed {pre:?}"
            );
        }
        what
    }

    async fn op_expunge(&mut self, acc: &dyn Account) -> String {
        let (name, id) = self.random_box();
        let set = if self.rng.chance(50) {
            None
        } else {
            Some(self.random_set(self.boxes[&name].uid_next))
        };
        let what = format!("expunge {name} {set:?}");
        let got = ok(acc.expunge(id, set.as_ref()).await, &what);
        let b = self.boxes.get_mut(&name).expect("picked");
        let victims: Vec<u32> = b
            .msgs
            .iter()
            .filter(|(u, m)| {
                m.flags.contains(SystemFlag::Deleted)
                    && set.as_ref().is_none_or(|s| s.contains(Uid(**u)))
            })
            .map(|(u, _)| *u)
            .collect();
        for u in &victims {
            b.remove(*u);
        }
        assert_eq!(
            got.uids,
            victims.iter().map(|u| Uid(*u)).collect::<Vec<_>>(),
            "{what}: UIDs"
        );
        what
    }

    async fn op_copy(&mut self, acc: &dyn Account, is_move: bool) -> String {
        let (from, from_id) = self.random_box();
        let (to, to_id) = self.random_box();
        let set = self.random_set(self.boxes[&from].uid_next);
        let what = format!(
            "{} {from} {set:?} to {to}",
            if is_move { "move" } else { "copy" }
        );
        let got = if is_move {
            ok(acc.move_messages(from_id, &set, to_id).await, &what)
        } else {
            ok(acc.copy(from_id, &set, to_id).await, &what)
        };
        let uids = self.set_of(&from, &set);
        let msgs: Vec<MMsg> = uids
            .iter()
            .map(|u| self.boxes[&from].msgs[u].clone())
            .collect();
        let dest = self.boxes.get_mut(&to).expect("picked");
        let new: Vec<Uid> = msgs.into_iter().map(|m| Uid(dest.add(m))).collect();
        if is_move {
            let src = self.boxes.get_mut(&from).expect("picked");
            for u in &uids {
                src.remove(*u);
            }
        }
        assert_eq!(
            got.source_uids,
            uids.iter().map(|u| Uid(*u)).collect::<Vec<_>>(),
            "{what}: source UIDs"
        );
        assert_eq!(got.dest_uids, new, "{what}: destination UIDs");
        what
    }

    async fn op_create(&mut self, acc: &dyn Account) -> String {
        let raw = *self.rng.pick(&NAMES);
        let what = format!("create {raw}");
        let got = acc.create_mailbox(raw, &[]).await;
        let name = norm(raw);
        let want = if self.boxes.contains_key(&name) {
            Expect::Err(StoreError::MailboxExists)
        } else {
            self.create_with_parents(&name);
            Expect::Ok(())
        };
        check(&got, &want, &what);
        what
    }

    fn create_with_parents(&mut self, name: &str) {
        for (i, _) in name.match_indices('/') {
            self.boxes
                .entry(name[..i].to_string())
                .or_insert_with(MBox::new);
        }
        self.boxes.insert(name.to_string(), MBox::new());
    }

    async fn op_delete(&mut self, acc: &dyn Account) -> String {
        let raw = *self.rng.pick(&NAMES);
        let what = format!("delete {raw}");
        let got = acc.delete_mailbox(raw).await;
        let name = norm(raw);
        let want = if name == "INBOX" {
            Expect::Err(StoreError::NotAllowed(String::new()))
        } else if let Some(b) = self.boxes.remove(&name) {
            self.dead_ids.extend(b.id);
            Expect::Ok(())
        } else {
            Expect::Err(StoreError::NoSuchMailbox)
        };
        check(&got, &want, &what);
        what
    }

    async fn op_rename(&mut self, acc: &dyn Account) -> String {
        let from_raw = *self.rng.pick(&NAMES);
        let to_raw = *self.rng.pick(&NAMES);
        let (from, to) = (norm(from_raw), norm(to_raw));
        let what = format!("rename {from_raw} to {to_raw}");
        let subtree: Vec<String> = if from == "INBOX" {
            vec![from.clone()]
        } else {
            self.boxes
                .keys()
                .filter(|n| under(n, &from))
                .cloned()
                .collect()
        };
        let targets: Vec<String> = subtree
            .iter()
            .map(|n| format!("{to}{}", &n[from.len()..]))
            .collect();
        let want = if !self.boxes.contains_key(&from) {
            Expect::Err(StoreError::NoSuchMailbox)
        } else if self.boxes.contains_key(&to) {
            Expect::Err(StoreError::MailboxExists)
        } else if from != "INBOX" && under(&to, &from) {
            Expect::AnyErr
        } else if targets.iter().any(|t| self.boxes.contains_key(t)) {
            // A child's new name is taken; when that name is itself being
            // renamed away the outcome is not pinned, so skip the operation.
            if targets.iter().any(|t| subtree.contains(t)) {
                return format!("{what} (skipped)");
            }
            Expect::Err(StoreError::MailboxExists)
        } else {
            Expect::Ok(())
        };
        let got = acc.rename_mailbox(from_raw, to_raw).await;
        check(&got, &want, &what);
        if matches!(want, Expect::Ok(())) {
            if from == "INBOX" {
                self.create_with_parents(&to);
                let inbox = self.boxes.get_mut("INBOX").expect("INBOX exists");
                let uids: Vec<u32> = inbox.msgs.keys().copied().collect();
                let msgs: Vec<MMsg> = uids.iter().filter_map(|u| inbox.remove(*u)).collect();
                let dest = self.boxes.get_mut(&to).expect("just created");
                for m in msgs {
                    dest.add(m);
                }
            } else {
                for (old, new) in subtree.iter().zip(&targets) {
                    let b = self.boxes.remove(old).expect("in subtree");
                    self.boxes.insert(new.clone(), b);
                    if self.subs.remove(old) {
                        self.subs.insert(new.clone());
                    }
                }
                for (i, _) in to.match_indices('/') {
                    self.boxes
                        .entry(to[..i].to_string())
                        .or_insert_with(MBox::new);
                }
            }
        }
        what
    }

    async fn op_subscribe(&mut self, acc: &dyn Account) -> String {
        let raw = *self.rng.pick(&NAMES);
        let on = self.rng.chance(60);
        let what = format!("subscribe {raw} {on}");
        ok(acc.set_subscribed(raw, on).await, &what);
        if on {
            self.subs.insert(norm(raw));
        } else {
            self.subs.remove(&norm(raw));
        }
        what
    }

    async fn op_read(&mut self, acc: &dyn Account) -> String {
        let (name, id) = self.random_box();
        let uid = 1 + self.rng.below(self.boxes[&name].uid_next as u64) as u32;
        let what = format!("read {name} {uid}");
        let got = acc.read_message(id, Uid(uid)).await;
        let structure = acc.read_structure(id, Uid(uid)).await;
        let size = self.boxes[&name]
            .msgs
            .get(&uid)
            .map_or(100, |m| m.data.len() as u64);
        // A side generator, so the main sequence of operations (and with it
        // every seed's history) is the same as before ranges were checked.
        let mut side = Rng(self.rng.0.rotate_left(17) ^ (uid as u64) | 1);
        let offset = side.below(size + 10);
        let len = if side.chance(10) {
            u64::MAX
        } else {
            side.below(size + 10)
        };
        let range = acc.read_range(id, Uid(uid), offset, len).await;
        match self.boxes[&name].msgs.get(&uid) {
            Some(m) => {
                assert_eq!(ok(got, &what), m.data, "{what}: bytes");
                assert_eq!(
                    ok(structure, &what),
                    structure_of(&m.data),
                    "{what}: structure"
                );
                let (a, b) = clamp_range(size, offset, len);
                assert_eq!(
                    ok(range, &what),
                    m.data.slice(a as usize..b as usize),
                    "{what}: range {offset} +{len}"
                );
            }
            None => {
                check(&got, &Expect::<()>::Err(StoreError::Expunged), &what);
                check(&structure, &Expect::<()>::Err(StoreError::Expunged), &what);
                check(&range, &Expect::<()>::Err(StoreError::Expunged), &what);
            }
        }
        what
    }

    async fn op_changes(&mut self, acc: &dyn Account) -> String {
        let (name, id) = self.random_box();
        let h = *self.rng.pick(&self.boxes[&name].history.clone());
        let what = format!("changes_since {name} {h:?}");
        let got = ok(acc.changes_since(id, h).await, &what);
        let b = &self.boxes[&name];
        let changed: Vec<Uid> = b
            .msgs
            .iter()
            .filter(|(_, m)| m.changed_after >= h)
            .map(|(u, _)| Uid(*u))
            .collect();
        let mut vanished: Vec<Uid> = b
            .tombs
            .iter()
            .filter(|(_, pre)| *pre >= h)
            .map(|(u, _)| Uid(*u))
            .collect();
        vanished.sort();
        assert_eq!(
            got.changed.iter().map(|m| m.uid).collect::<Vec<_>>(),
            changed,
            "{what}: changed"
        );
        assert_eq!(got.vanished, vanished, "{what}: vanished");
        assert_eq!(got.status.highest_modseq, b.highest, "{what}: status");
        what
    }

    async fn op_stale(&mut self, acc: &dyn Account) -> String {
        let Some(&id) = self.dead_ids.last() else {
            return "no stale id yet".into();
        };
        let what = format!("append to deleted mailbox {id}");
        let got = acc
            .append(id, vec![super::message("late", Flags::new())])
            .await;
        check(&got, &Expect::<()>::Err(StoreError::NoSuchMailbox), &what);
        let got = acc.status(id).await;
        check(&got, &Expect::<()>::Err(StoreError::NoSuchMailbox), &what);
        what
    }

    /// Compares everything observable with the model, then records the
    /// observed ids and MODSEQs.
    async fn verify(&mut self, acc: &dyn Account, what: &str) {
        let list = ok(acc.list_mailboxes().await, what);
        let got: Vec<&str> = list.iter().map(|m| m.name.as_str()).collect();
        let want: Vec<&str> = self.boxes.keys().map(String::as_str).collect();
        assert_eq!(got, want, "{what}: mailbox list");
        let subs = ok(acc.subscriptions().await, what);
        assert_eq!(
            subs,
            self.subs.iter().cloned().collect::<Vec<_>>(),
            "{what}: subscriptions"
        );
        for info in list {
            let b = self.boxes.get_mut(&info.name).expect("names compared");
            assert_eq!(
                info.special_use, b.special_use,
                "{what}: special-use of {}",
                info.name
            );
            match b.id {
                Some(id) => {
                    assert_eq!(info.id, id, "{what}: id of {}", info.name);
                    assert_eq!(
                        Some(info.uid_validity),
                        b.uid_validity,
                        "{what}: UIDVALIDITY of {}",
                        info.name
                    );
                }
                None => {
                    assert!(
                        self.seen_ids.insert(info.id),
                        "{what}: mailbox id {} reused",
                        info.id
                    );
                    let used = self.validities.entry(info.name.clone()).or_default();
                    assert!(
                        !used.contains(&info.uid_validity),
                        "{what}: UIDVALIDITY of {} reused by a new incarnation",
                        info.name
                    );
                    used.push(info.uid_validity);
                    b.id = Some(info.id);
                    b.uid_validity = Some(info.uid_validity);
                }
            }
            let snap = ok(acc.snapshot(info.id).await, what);
            let n = &info.name;
            // The SELECT view agrees with the snapshot (no change between:
            // the model runs one operation at a time). Keywords may be a
            // superset: the FLAGS response may keep a keyword no message
            // has any more.
            let view = ok(acc.select_view(info.id, None).await, what);
            let want = crate::MailboxView::from_snapshot(snap.clone(), None);
            assert_eq!(
                view.status, want.status,
                "{what}: select view status of {n}"
            );
            assert_eq!(view.uids, want.uids, "{what}: select view UIDs of {n}");
            assert_eq!(
                view.modseqs, want.modseqs,
                "{what}: select view MODSEQs of {n}"
            );
            assert_eq!(
                view.first_unseen, want.first_unseen,
                "{what}: select view first unseen of {n}"
            );
            for k in &want.keywords {
                assert!(
                    view.keywords.contains(k),
                    "{what}: select view lacks keyword {k} of {n}"
                );
            }
            let st = &snap.status;
            assert_eq!(
                st.uid_validity, info.uid_validity,
                "{what}: status UIDVALIDITY of {n}"
            );
            assert_eq!(st.uid_next, Uid(b.uid_next), "{what}: UIDNEXT of {n}");
            let uids: Vec<u32> = snap.messages.iter().map(|m| m.uid.0).collect();
            let want: Vec<u32> = b.msgs.keys().copied().collect();
            assert_eq!(uids, want, "{what}: UIDs of {n}");
            let unseen = b
                .msgs
                .values()
                .filter(|m| !m.flags.contains(SystemFlag::Seen))
                .count() as u32;
            let deleted = b
                .msgs
                .values()
                .filter(|m| m.flags.contains(SystemFlag::Deleted))
                .count() as u32;
            let size: u64 = b.msgs.values().map(|m| m.data.len() as u64).sum();
            assert_eq!(
                (st.messages, st.unseen, st.deleted, st.size),
                (b.msgs.len() as u32, unseen, deleted, size),
                "{what}: counters of {n}"
            );
            if b.touched {
                assert!(
                    st.highest_modseq > b.highest,
                    "{what}: HIGHESTMODSEQ of {n} must grow"
                );
            } else {
                assert!(
                    st.highest_modseq >= b.highest,
                    "{what}: HIGHESTMODSEQ of {n} went back"
                );
            }
            for meta in &snap.messages {
                let m = b.msgs.get_mut(&meta.uid.0).expect("UIDs compared");
                assert_eq!(meta.flags, m.flags, "{what}: flags of {n} {}", meta.uid.0);
                assert_eq!(
                    meta.size,
                    m.data.len() as u64,
                    "{what}: size of {n} {}",
                    meta.uid.0
                );
                assert_eq!(
                    meta.internal_date, m.date,
                    "{what}: date of {n} {}",
                    meta.uid.0
                );
                assert!(
                    meta.modseq <= st.highest_modseq,
                    "{what}: message MODSEQ above HIGHESTMODSEQ"
                );
                if m.dirty {
                    assert!(
                        meta.modseq > b.highest,
                        "{what}: changed message {n} {} kept an old MODSEQ",
                        meta.uid.0
                    );
                } else {
                    assert_eq!(
                        meta.modseq, m.modseq,
                        "{what}: untouched message {n} {} MODSEQ moved",
                        meta.uid.0
                    );
                }
                m.modseq = meta.modseq;
                m.dirty = false;
            }
            b.touched = false;
            b.highest = st.highest_modseq;
            if b.history.last() != Some(&b.highest) {
                b.history.push(b.highest);
            }
        }
    }
}
