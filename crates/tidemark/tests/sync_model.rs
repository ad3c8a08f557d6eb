//! Randomized model test of multi-device sync (RFC 7162, RFC 9051 7.5.1,
//! IDLE), against the real server over loopback.
//!
//! Three simulated devices share one INBOX. Each round one of them does
//! something at random: APPEND, STORE (sometimes with UNCHANGEDSINCE),
//! EXPUNGE, COPY, MOVE, NOOP, IDLE while another device writes, or a
//! disconnect and reconnect with QRESYNC. A reference model predicts the
//! mailbox after every step (UIDs, flags, which messages change, what is
//! expunged); an observer connection reads the server's state after each
//! write, which must agree, and whose MODSEQs must respect the rules
//! (untouched messages keep theirs, touched ones move past the old highest).
//! Devices keep their view from the untagged responses only (EXISTS,
//! EXPUNGE, VANISHED, FETCH), and after every NOOP their view (sequence
//! numbers, UIDs, flags, MODSEQs) must equal the model. A QRESYNC reconnect
//! must report exactly the known UIDs expunged since the device's MODSEQ and
//! exactly the messages changed since.
//!
//! Device 0 enables only CONDSTORE (it gets EXPUNGE); devices 1 and 2
//! enable QRESYNC (VANISHED); device 3 enables QRESYNC and UIDONLY (RFC
//! 9586): it names messages by UID only, is told of changes by UIDFETCH and
//! VANISHED, learns new messages by `UID FETCH n:*`, and must never see a
//! message number other than EXISTS. Another connection selects another mailbox
//! and watches INBOX with `NOTIFY SET (PERSONAL (MessageNew MessageExpunge
//! FlagChange))` (RFC 5465), sending no commands at all: the unsolicited
//! STATUS it is sent must converge to the model's message and unseen
//! counts after every NOOP round. Rounds: `TIDEMARK_SYNC_ROUNDS` (default
//! 1,000); seed: `TIDEMARK_SYNC_SEED` (default: from the clock), printed.

mod common;

use common::{Client, TestServer};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

type FlagSet = BTreeSet<String>;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Msg {
    uid: u32,
    flags: FlagSet,
    modseq: u64,
}

/// What the mailbox holds, as the test predicts it.
#[derive(Debug, Default)]
struct Model {
    msgs: Vec<Msg>,
    /// UID -> MODSEQ of its removal.
    expunged: BTreeMap<u32, u64>,
    highest: u64,
}

impl Model {
    fn get_mut(&mut self, uid: u32) -> Option<&mut Msg> {
        self.msgs.iter_mut().find(|m| m.uid == uid)
    }
    fn get(&self, uid: u32) -> Option<&Msg> {
        self.msgs.iter().find(|m| m.uid == uid)
    }
}

/// One simulated device: a connection and the view it built from what the
/// server told it.
struct Device {
    id: usize,
    conn: Client,
    qresync: bool,
    /// RFC 9586: commands use UIDs only; FETCH answers are UIDFETCH.
    uidonly: bool,
    /// In sequence-number order; uid 0 = announced by EXISTS, not fetched yet.
    view: Vec<Msg>,
    /// The highest MODSEQ it has seen (its QRESYNC state).
    highest: u64,
    uidvalidity: u32,
}

fn text(r: &[u8]) -> String {
    String::from_utf8_lossy(r).trim_end().to_string()
}

/// `1,3:5` -> [1, 3, 4, 5].
fn parse_set(s: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for part in s.split(',') {
        match part.split_once(':') {
            Some((a, b)) => {
                let (a, b): (u32, u32) = (a.parse().expect("set"), b.parse().expect("set"));
                out.extend(a.min(b)..=a.max(b));
            }
            None => out.push(part.parse().expect("set")),
        }
    }
    out
}

/// The value of `[NAME value]` in a response line.
fn code<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let start = line.find(&format!("[{name} "))? + name.len() + 2;
    let end = line[start..].find(']')? + start;
    Some(&line[start..end])
}

/// UID, FLAGS and MODSEQ of a `* n FETCH (...)` or `* uid UIDFETCH (...)` line.
fn fetch_items(line: &str) -> (Option<u32>, Option<FlagSet>, Option<u64>) {
    let words: Vec<&str> = line.splitn(4, ' ').collect();
    let keyed_uid =
        (words.get(2) == Some(&"UIDFETCH")).then(|| words[1].parse::<u32>().expect("UIDFETCH uid"));
    let num_after = |key: &str| -> Option<u64> {
        let i = line.find(key)? + key.len();
        let digits: String = line[i..]
            .chars()
            .skip_while(|c| *c == '(')
            .take_while(|c| c.is_ascii_digit())
            .collect();
        digits.parse().ok()
    };
    let flags = line.find("FLAGS (").map(|i| {
        let rest = &line[i + 7..];
        let end = rest.find(')').expect("flags end");
        rest[..end].split_whitespace().map(str::to_string).collect()
    });
    (
        keyed_uid.or(num_after("UID ").map(|u| u as u32)),
        flags,
        num_after("MODSEQ ("),
    )
}

impl Device {
    fn connect(server: &TestServer, id: usize, qresync: bool, uidonly: bool) -> Device {
        let mut conn = Client::login(server.imap, "alice", "pass").expect("login");
        let ext = match (qresync, uidonly) {
            (_, true) => "QRESYNC UIDONLY",
            (true, false) => "QRESYNC",
            (false, false) => "CONDSTORE",
        };
        let (ok, _) = conn.cmd(&format!("ENABLE {ext}")).expect("enable");
        assert!(ok);
        Device {
            id,
            conn,
            qresync,
            uidonly,
            view: Vec::new(),
            highest: 0,
            uidvalidity: 0,
        }
    }

    /// SELECT without QRESYNC data: the view is rebuilt from scratch.
    fn select(&mut self) {
        let resp = self.cmd("SELECT INBOX");
        assert!(resp.0, "device {}: SELECT failed", self.id);
        self.fill();
    }

    /// Runs a command, applies its untagged responses, then fetches the
    /// messages announced by EXISTS; returns (OK?, the command's tagged line).
    fn cmd(&mut self, command: &str) -> (bool, String) {
        let (ok, resp) = self.conn.cmd(command).expect("command");
        if std::env::var_os("TIDEMARK_SYNC_TRACE").is_some() {
            eprintln!("[{}] C: {}", self.id, command.lines().next().unwrap_or(""));
            for r in &resp {
                eprintln!("[{}] S: {}", self.id, text(r));
            }
        }
        let mut tagged = String::new();
        for r in &resp {
            let line = text(r);
            if line.starts_with("* ") {
                self.apply(&line);
            } else {
                tagged = line;
            }
        }
        if let Some(h) = code(&tagged, "HIGHESTMODSEQ") {
            self.highest = self.highest.max(h.parse().expect("modseq"));
        }
        // Like a real client: learn the UIDs of announced messages at once.
        self.fill();
        (ok, tagged)
    }

    /// Takes one untagged response into the view.
    fn apply(&mut self, line: &str) {
        let words: Vec<&str> = line.split(' ').collect();
        if let Some(v) = code(line, "UIDVALIDITY") {
            self.uidvalidity = v.parse().expect("uidvalidity");
        }
        if let Some(h) = code(line, "HIGHESTMODSEQ") {
            self.highest = self.highest.max(h.parse().expect("modseq"));
        }
        match words.get(2).copied() {
            Some("EXISTS") => {
                let n: usize = words[1].parse().expect("exists");
                assert!(
                    n >= self.view.len(),
                    "device {}: EXISTS {n} shrinks a view of {}",
                    self.id,
                    self.view.len()
                );
                self.view.resize(
                    n,
                    Msg {
                        uid: 0,
                        flags: FlagSet::new(),
                        modseq: 0,
                    },
                );
            }
            Some("EXPUNGE") => {
                assert!(
                    !self.qresync && !self.uidonly,
                    "device {}: EXPUNGE after QRESYNC or UIDONLY",
                    self.id
                );
                let n: usize = words[1].parse().expect("expunge");
                assert!(n >= 1 && n <= self.view.len(), "EXPUNGE {n} out of range");
                self.view.remove(n - 1);
            }
            Some("FETCH") => {
                assert!(!self.uidonly, "device {}: FETCH under UIDONLY", self.id);
                let n: usize = words[1].parse().expect("fetch");
                assert!(n >= 1 && n <= self.view.len(), "FETCH {n} out of range");
                let (uid, flags, modseq) = fetch_items(line);
                let m = &mut self.view[n - 1];
                if let Some(u) = uid {
                    assert!(
                        m.uid == 0 || m.uid == u,
                        "device {}: seq {n} was UID {}, server says {u}",
                        self.id,
                        m.uid
                    );
                    m.uid = u;
                }
                if let Some(f) = flags {
                    m.flags = f;
                }
                if let Some(ms) = modseq {
                    m.modseq = ms;
                    self.highest = self.highest.max(ms);
                }
            }
            Some("UIDFETCH") => {
                assert!(self.uidonly, "device {}: UIDFETCH without UIDONLY", self.id);
                let (uid, flags, modseq) = fetch_items(line);
                let uid = uid.expect("uid");
                // A known message, or the first one announced by EXISTS and
                // not fetched yet (new UIDs come in ascending order).
                let m = match self.view.iter().position(|m| m.uid == uid) {
                    Some(i) => &mut self.view[i],
                    None => {
                        let max = self.view.iter().map(|m| m.uid).max().unwrap_or(0);
                        assert!(
                            uid > max,
                            "device {}: UIDFETCH for unknown UID {uid}",
                            self.id
                        );
                        let slot = self.view.iter().position(|m| m.uid == 0);
                        let slot = slot.unwrap_or_else(|| {
                            panic!("device {}: UIDFETCH {uid} not announced by EXISTS", self.id)
                        });
                        self.view[slot].uid = uid;
                        &mut self.view[slot]
                    }
                };
                if let Some(f) = flags {
                    m.flags = f;
                }
                if let Some(ms) = modseq {
                    m.modseq = ms;
                    self.highest = self.highest.max(ms);
                }
            }
            _ if words.get(1) == Some(&"VANISHED") => {
                assert!(
                    self.qresync || self.uidonly,
                    "device {}: VANISHED without QRESYNC",
                    self.id
                );
                assert_ne!(words.get(2), Some(&"(EARLIER)"), "EARLIER in a session");
                let gone: BTreeSet<u32> = parse_set(words[2]).into_iter().collect();
                self.view.retain(|m| !gone.contains(&m.uid));
            }
            _ => {}
        }
    }

    /// Fetches messages announced by EXISTS but not known yet.
    fn fill(&mut self) {
        if let Some(first) = self.view.iter().position(|m| m.uid == 0) {
            let last = self.view.len();
            let command = if self.uidonly {
                // There is a message above the highest known UID, so `n:*`
                // cannot turn around onto a known one.
                let max = self.view.iter().map(|m| m.uid).max().unwrap_or(0);
                format!("UID FETCH {}:* (FLAGS MODSEQ)", max + 1)
            } else {
                format!("FETCH {}:{last} (UID FLAGS MODSEQ)", first + 1)
            };
            let (ok, _) = self.cmd(&command);
            assert!(ok);
            assert!(
                self.view.iter().all(|m| m.uid != 0),
                "device {}: new messages not fetched",
                self.id
            );
        }
    }

    /// How a command names the message at `seq`: its UID under UIDONLY.
    fn msg_ref(&self, seq: usize) -> u32 {
        if self.uidonly {
            self.view[seq - 1].uid
        } else {
            seq as u32
        }
    }

    /// `UID ` before STORE/COPY/MOVE under UIDONLY.
    fn prefix(&self) -> &'static str {
        if self.uidonly { "UID " } else { "" }
    }

    /// NOOP, then the view must be the model.
    fn sync_and_check(&mut self, model: &Model, round: usize) {
        let (ok, _) = self.cmd("NOOP");
        assert!(ok);
        self.fill();
        assert_eq!(
            self.view, model.msgs,
            "round {round}: device {} diverged from the model",
            self.id
        );
    }
}

/// Reads the server's state through a separate connection (fresh EXAMINE).
fn observe(obs: &mut Client) -> (Vec<Msg>, u64) {
    let (ok, resp) = obs.cmd("EXAMINE INBOX").expect("examine");
    assert!(ok);
    let highest = resp
        .iter()
        .find_map(|r| code(&text(r), "HIGHESTMODSEQ").map(|h| h.parse::<u64>().expect("hms")))
        .expect("HIGHESTMODSEQ on EXAMINE");
    let (ok, resp) = obs.cmd("UID FETCH 1:* (UID FLAGS MODSEQ)").expect("fetch");
    assert!(ok);
    let mut msgs = Vec::new();
    for r in &resp {
        let line = text(r);
        if line.starts_with("* ") && line.contains(" FETCH (") {
            let (uid, flags, modseq) = fetch_items(&line);
            msgs.push(Msg {
                uid: uid.expect("uid"),
                flags: flags.expect("flags"),
                modseq: modseq.expect("modseq"),
            });
        }
    }
    (msgs, highest)
}

/// After a write: the server must hold what the model predicts; MODSEQs of
/// the `touched` UIDs move past the old highest, the others stay. The model
/// then takes the server's MODSEQs, and `removed` UIDs are recorded as
/// expunged at the new highest.
fn settle(
    obs: &mut Client,
    model: &mut Model,
    touched: &BTreeSet<u32>,
    removed: &[u32],
    round: usize,
    what: &str,
) {
    let (msgs, highest) = observe(obs);
    let got: Vec<(u32, &FlagSet)> = msgs.iter().map(|m| (m.uid, &m.flags)).collect();
    let want: Vec<(u32, &FlagSet)> = model.msgs.iter().map(|m| (m.uid, &m.flags)).collect();
    assert_eq!(got, want, "round {round} ({what}): server != model");
    let changed = !touched.is_empty() || !removed.is_empty();
    if changed {
        assert!(
            highest > model.highest,
            "round {round} ({what}): HIGHESTMODSEQ did not advance"
        );
    } else {
        assert_eq!(
            highest, model.highest,
            "round {round} ({what}): MODSEQ moved"
        );
    }
    for (m, old) in msgs.iter().zip(&model.msgs) {
        if touched.contains(&m.uid) {
            assert!(
                m.modseq > model.highest && m.modseq <= highest,
                "round {round} ({what}): UID {} MODSEQ {} not in ({}, {highest}]",
                m.uid,
                m.modseq,
                model.highest
            );
        } else {
            assert_eq!(
                m.modseq, old.modseq,
                "round {round} ({what}): untouched UID {} changed MODSEQ",
                m.uid
            );
        }
    }
    model.msgs = msgs;
    model.highest = highest;
    for &u in removed {
        model.expunged.insert(u, highest);
    }
}

const FLAGS: [&str; 5] = ["\\Seen", "\\Flagged", "\\Deleted", "\\Answered", "$Work"];

/// A write by device `d`; returns a label for messages.
fn write_op(
    rng: &mut StdRng,
    d: &mut Device,
    model: &mut Model,
    obs: &mut Client,
    round: usize,
) -> &'static str {
    let pick = rng.random_range(0..10);
    let seq = if d.view.is_empty() {
        None
    } else {
        Some(rng.random_range(1..=d.view.len()))
    };
    match (pick, seq) {
        (0..=2, _) | (_, None) => {
            let mut flags = FlagSet::new();
            for f in ["\\Seen", "\\Flagged", "$Work"] {
                if rng.random_bool(0.3) {
                    flags.insert(f.to_string());
                }
            }
            append(d, model, obs, round, flags);
            "append"
        }
        (3..=6, Some(seq)) => {
            let uid = d.view[seq - 1].uid;
            let known = d.view[seq - 1].modseq;
            let flag = FLAGS[rng.random_range(0..FLAGS.len())];
            let add = rng.random_bool(0.6);
            let cond = rng.random_bool(0.3);
            let modifier = if cond {
                format!(" (UNCHANGEDSINCE {known})")
            } else {
                String::new()
            };
            let sign = if add { '+' } else { '-' };
            let (ok, tagged) = d.cmd(&format!(
                "{}STORE {}{modifier} {sign}FLAGS ({flag})",
                d.prefix(),
                d.msg_ref(seq)
            ));
            assert!(ok, "STORE: {tagged}");
            let mut touched = BTreeSet::new();
            let mut expect_modified = false;
            if let Some(m) = model.get_mut(uid) {
                if cond && m.modseq > known {
                    expect_modified = true;
                } else {
                    let before = m.flags.clone();
                    if add {
                        m.flags.insert(flag.to_string());
                    } else {
                        m.flags.remove(flag);
                    }
                    if m.flags != before {
                        touched.insert(uid);
                    }
                }
            }
            assert_eq!(
                code(&tagged, "MODIFIED").is_some(),
                expect_modified,
                "round {round}: STORE {seq} (UID {uid}, known MODSEQ {known}) {tagged}"
            );
            settle(obs, model, &touched, &[], round, "store");
            "store"
        }
        (7, _) => {
            let (ok, tagged) = d.cmd("EXPUNGE");
            assert!(ok, "EXPUNGE: {tagged}");
            let removed: Vec<u32> = model
                .msgs
                .iter()
                .filter(|m| m.flags.contains("\\Deleted"))
                .map(|m| m.uid)
                .collect();
            model.msgs.retain(|m| !m.flags.contains("\\Deleted"));
            settle(obs, model, &BTreeSet::new(), &removed, round, "expunge");
            "expunge"
        }
        (8, Some(seq)) => {
            let uid = d.view[seq - 1].uid;
            let (ok, tagged) = d.cmd(&format!("{}COPY {} INBOX", d.prefix(), d.msg_ref(seq)));
            assert!(ok, "COPY: {tagged}");
            let mut touched = BTreeSet::new();
            if let Some(src) = model.get(uid).cloned() {
                let dst: u32 = code(&tagged, "COPYUID")
                    .and_then(|v| v.split(' ').nth(2))
                    .and_then(|u| u.parse().ok())
                    .expect("COPYUID");
                model.msgs.push(Msg {
                    uid: dst,
                    flags: src.flags,
                    modseq: 0,
                });
                touched.insert(dst);
            } else {
                assert!(
                    code(&tagged, "COPYUID").is_none(),
                    "copied a removed message"
                );
            }
            settle(obs, model, &touched, &[], round, "copy");
            "copy"
        }
        (_, Some(seq)) => {
            let uid = d.view[seq - 1].uid;
            let (ok, tagged) = d.cmd(&format!("{}MOVE {} Archive", d.prefix(), d.msg_ref(seq)));
            assert!(ok, "MOVE: {tagged}");
            let removed: Vec<u32> = if model.get(uid).is_some() {
                model.msgs.retain(|m| m.uid != uid);
                vec![uid]
            } else {
                Vec::new()
            };
            settle(obs, model, &BTreeSet::new(), &removed, round, "move");
            "move"
        }
    }
}

/// Disconnects device `d` (after a NOOP, so its state is complete) and
/// reconnects it with QRESYNC; checks the resync against the model.
fn reconnect(server: &TestServer, d: &mut Device, model: &Model, round: usize) {
    d.sync_and_check(model, round);
    let _ = d.conn.cmd("LOGOUT");
    let since = d.highest;
    let known: Vec<u32> = d.view.iter().map(|m| m.uid).collect();
    let mut fresh = Device::connect(server, d.id, true, d.uidonly);
    let known_set = if known.is_empty() {
        String::new()
    } else {
        format!(
            " {}",
            known
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(",")
        )
    };
    let (ok, resp) = fresh
        .conn
        .cmd(&format!(
            "SELECT INBOX (QRESYNC ({} {since}{known_set}))",
            d.uidvalidity
        ))
        .expect("select");
    assert!(ok, "QRESYNC SELECT refused");
    let mut vanished = BTreeSet::new();
    let mut changed = BTreeMap::new();
    let mut exists = None;
    for r in &resp {
        let line = text(r);
        if let Some(rest) = line.strip_prefix("* VANISHED (EARLIER) ") {
            vanished.extend(parse_set(rest));
        } else if line.starts_with("* ") && line.contains(" FETCH (") {
            let (uid, flags, modseq) = fetch_items(&line);
            changed.insert(
                uid.expect("uid"),
                (flags.expect("flags"), modseq.expect("modseq")),
            );
        } else if line.ends_with(" EXISTS") {
            exists = line.split(' ').nth(1).and_then(|n| n.parse::<usize>().ok());
        }
        if let Some(h) = code(&line, "HIGHESTMODSEQ") {
            fresh.highest = h.parse().expect("modseq");
        }
    }
    let want_vanished: BTreeSet<u32> = known
        .iter()
        .copied()
        .filter(|u| model.expunged.get(u).is_some_and(|&m| m > since))
        .collect();
    assert_eq!(
        vanished, want_vanished,
        "round {round}: device {} VANISHED (EARLIER) since {since}",
        d.id
    );
    let want_changed: BTreeSet<u32> = model
        .msgs
        .iter()
        .filter(|m| m.modseq > since)
        .map(|m| m.uid)
        .collect();
    assert_eq!(
        changed.keys().copied().collect::<BTreeSet<_>>(),
        want_changed,
        "round {round}: device {} changes since {since}",
        d.id
    );
    // The device's cache, brought up to date from the resync alone.
    let mut view: Vec<Msg> = d
        .view
        .iter()
        .filter(|m| !vanished.contains(&m.uid))
        .cloned()
        .collect();
    for (uid, (flags, modseq)) in changed {
        match view.iter_mut().find(|m| m.uid == uid) {
            Some(m) => {
                m.flags = flags;
                m.modseq = modseq;
            }
            None => view.push(Msg { uid, flags, modseq }),
        }
    }
    view.sort_by_key(|m| m.uid);
    assert_eq!(
        exists,
        Some(view.len()),
        "round {round}: EXISTS after resync"
    );
    fresh.view = view;
    fresh.uidvalidity = d.uidvalidity;
    fresh.highest = fresh.highest.max(since);
    *d = fresh;
    d.sync_and_check(model, round);
}

#[test]
fn devices_converge_to_the_model() {
    let rounds: usize = std::env::var("TIDEMARK_SYNC_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let seed: u64 = std::env::var("TIDEMARK_SYNC_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    eprintln!("sync model: seed {seed} (TIDEMARK_SYNC_SEED={seed} repeats it), {rounds} rounds");
    let mut rng = StdRng::seed_from_u64(seed);
    let server = TestServer::start();
    let mut obs = Client::login(server.imap, "alice", "pass").expect("observer");
    let (ok, _) = obs.cmd("ENABLE CONDSTORE").expect("enable");
    assert!(ok);
    let mut model = Model::default();
    (_, model.highest) = observe(&mut obs);
    let mut devices: Vec<Device> = (0..4)
        .map(|i| Device::connect(&server, i, i > 0, i == 3))
        .collect();
    for d in &mut devices {
        d.select();
        d.sync_and_check(&model, 0);
    }
    // UIDONLY refuses message numbers (RFC 9586 3).
    let (ok, resp) = devices[3].conn.cmd("FETCH 1 (FLAGS)").expect("fetch");
    let tagged = text(resp.last().expect("tagged reply"));
    assert!(!ok && tagged.contains("BAD [UIDREQUIRED]"), "{tagged}");
    let mut watcher = Watcher::start(&server);
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for round in 1..=rounds {
        let i = rng.random_range(0..devices.len());
        let kind = match rng.random_range(0..20) {
            0..=11 => write_op(&mut rng, &mut devices[i], &mut model, &mut obs, round),
            12..=14 => {
                devices[i].sync_and_check(&model, round);
                watcher.check(&model, round);
                "noop"
            }
            15..=16 => {
                // IDLE on device i while device j writes: the change is
                // pushed before DONE.
                let j = (i + 1 + rng.random_range(0..devices.len() - 1)) % devices.len();
                let tag = devices[i].conn.take_tag();
                devices[i]
                    .conn
                    .send_line(&format!("{tag} IDLE"))
                    .expect("idle");
                let cont = text(&devices[i].conn.read_response().expect("idle reply"));
                assert!(cont.starts_with('+'), "IDLE: {cont}");
                // An APPEND always changes the mailbox.
                let before = model.highest;
                append(&mut devices[j], &mut model, &mut obs, round, FlagSet::new());
                assert!(model.highest > before);
                let pushed = devices[i]
                    .conn
                    .read_within(Duration::from_secs(10))
                    .expect("read")
                    .map(|r| text(&r));
                let pushed = pushed.expect("nothing pushed during IDLE within 10 s");
                assert!(pushed.starts_with("* "), "IDLE push: {pushed}");
                devices[i].apply(&pushed);
                devices[i].conn.send_line("DONE").expect("done");
                loop {
                    let line = text(&devices[i].conn.read_response().expect("after DONE"));
                    if line.starts_with(&format!("{tag} ")) {
                        assert!(line.starts_with(&format!("{tag} OK")), "IDLE end: {line}");
                        break;
                    }
                    devices[i].apply(&line);
                }
                devices[i].fill();
                devices[i].sync_and_check(&model, round);
                "idle"
            }
            _ => {
                if devices[i].qresync {
                    reconnect(&server, &mut devices[i], &model, round);
                    "reconnect"
                } else {
                    devices[i].sync_and_check(&model, round);
                    "noop"
                }
            }
        };
        *counts.entry(kind).or_default() += 1;
    }
    for d in &mut devices {
        d.sync_and_check(&model, rounds);
    }
    watcher.check(&model, rounds);
    eprintln!(
        "sync model: the NOTIFY watcher read {} STATUS responses",
        watcher.statuses
    );
    eprintln!(
        "sync model: {rounds} rounds, {:?}; {} messages, {} expunged, HIGHESTMODSEQ {}",
        counts,
        model.msgs.len(),
        model.expunged.len(),
        model.highest
    );
    assert!(counts.len() >= 8, "every kind of step ran: {counts:?}");
}

/// An APPEND with `flags` by device `d`, checked by the observer.
fn append(d: &mut Device, model: &mut Model, obs: &mut Client, round: usize, flags: FlagSet) {
    let list: Vec<&str> = flags.iter().map(String::as_str).collect();
    let body = format!("Subject: r{round}\r\n\r\nround {round}\r\n");
    let (ok, tagged) = d.cmd(&format!(
        "APPEND INBOX ({}) {{{}+}}\r\n{body}",
        list.join(" "),
        body.len()
    ));
    assert!(ok, "APPEND: {tagged}");
    let uid: u32 = code(&tagged, "APPENDUID")
        .and_then(|v| v.split(' ').nth(1))
        .and_then(|u| u.parse().ok())
        .expect("APPENDUID");
    model.msgs.push(Msg {
        uid,
        flags,
        modseq: 0,
    });
    settle(obs, model, &BTreeSet::from([uid]), &[], round, "append");
}

/// A connection that watches INBOX with NOTIFY from another selected
/// mailbox, never sending a command after NOTIFY SET.
struct Watcher {
    conn: Client,
    /// (MESSAGES, UNSEEN) of the last `* STATUS "INBOX"` received.
    last: Option<(usize, usize)>,
    statuses: usize,
}

impl Watcher {
    fn start(server: &TestServer) -> Watcher {
        let mut conn = Client::login(server.imap, "alice", "pass").expect("watcher");
        let (ok, _) = conn.cmd("SELECT Drafts").expect("select");
        assert!(ok);
        let (ok, lines) = conn
            .cmd("NOTIFY SET STATUS (PERSONAL (MessageNew MessageExpunge FlagChange))")
            .expect("notify");
        assert!(ok, "NOTIFY SET refused");
        let mut w = Watcher {
            conn,
            last: None,
            statuses: 0,
        };
        for l in &lines {
            w.take(&text(l));
        }
        assert!(w.last.is_some(), "NOTIFY SET STATUS reported INBOX");
        w
    }

    fn take(&mut self, line: &str) {
        let Some(rest) = line.strip_prefix("* STATUS \"INBOX\" (") else {
            return;
        };
        let num = |name: &str| -> Option<usize> {
            let i = rest.find(&format!("{name} "))? + name.len() + 1;
            rest[i..]
                .split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()
        };
        let messages = num("MESSAGES").expect("MESSAGES in the STATUS");
        let unseen = num("UNSEEN").expect("UNSEEN in the STATUS (FlagChange)");
        self.last = Some((messages, unseen));
        self.statuses += 1;
    }

    /// Reads notifications until the last STATUS of INBOX matches the
    /// model (within 10 s).
    fn check(&mut self, model: &Model, round: usize) {
        let unseen = model
            .msgs
            .iter()
            .filter(|m| !m.flags.contains("\\Seen"))
            .count();
        let want = (model.msgs.len(), unseen);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            // Everything already sent is read first: an older STATUS that
            // happens to match must not hide a newer one.
            while let Some(r) = self
                .conn
                .read_within(Duration::from_millis(20))
                .expect("watcher read")
            {
                self.take(&text(&r));
            }
            if self.last == Some(want) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "round {round}: NOTIFY watcher last saw (MESSAGES, UNSEEN) = {:?}, the model has {want:?}",
                self.last
            );
        }
    }
}
