//! `tidemark import`: mbox files, Maildirs, Maildir++ trees and directories
//! of mbox files into an account, durable, batched and resumable.
//!
//! - **Batches.** Messages go to the store in batches of at most
//!   [`BATCH_MESSAGES`] messages or [`BATCH_BYTES`] bytes, each one
//!   `Account::import_messages` call: one durable group commit.
//! - **Resume.** A checkpoint per source (`<data>/import/<hash>.json`, the
//!   hash of the canonical source path, the user and `--mailbox`) says, per
//!   source folder, how many source messages are committed (Maildir: the
//!   sort key of the last committed file) and the target's UIDNEXT after
//!   that batch. It is written (fsync, rename) after every committed batch
//!   and removed when everything is imported. A run that finds it skips
//!   what it says; the one batch that may have been committed after the
//!   last checkpoint is recognised by content: the messages the target got
//!   since that UIDNEXT are hashed and source messages with those bytes are
//!   not imported again. So a kill -9 at any point, then the same command,
//!   neither loses nor duplicates a message.
//! - **UIDs.** A Maildir's `dovecot-uidlist` is honoured when the target
//!   mailbox never held a message (or already has the list's UIDVALIDITY,
//!   i.e. on resume): UIDVALIDITY and UIDs are kept, UIDNEXT becomes the
//!   list's `N`. The store refuses anything that could reuse a UID (see
//!   `Account::import_messages`); the import then gives new UIDs, with a
//!   warning.
//! - **Memory.** mbox files are streamed; a message is held only up to
//!   `[limits] max_literal` bytes, larger ones are skipped with a warning.
//! - **A running server.** The store is SQLite in WAL mode, so the server
//!   may run meanwhile; its sessions see imported messages at their next
//!   command, and idling (IDLE/NOTIFY) clients at their next command or
//!   when anything else changes in the account, since the change notices
//!   do not cross processes.
//!
//! Test hook: `TIDEMARK_IMPORT_STOP_AFTER=N` aborts the process
//! (`std::process::abort`) right after the N-th batch was committed and
//! its checkpoint written; `N!` aborts after the commit, before the
//! checkpoint. Only for the resume tests.

use crate::cli::{DataDirArgs, ImportArgs, ServeArgs};
use crate::error::{Fail, Result};
use crate::mailfile::{maildir, mbox};
use bytes::Bytes;
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufReader, IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tidemark_store::{
    Account, Flags, ImportBatch, InternalDate, MailboxId, MailboxInfo, NewMessage, SpecialUse,
    StoreError, Uid, UidSet, UidValidity,
};

/// Most messages in one batch (one commit).
pub const BATCH_MESSAGES: usize = 500;
/// Most message bytes in one batch.
pub const BATCH_BYTES: usize = 32 << 20;

/// What kind of source a folder is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Mbox,
    Maildir,
}

/// One source folder and the mailbox it goes to.
#[derive(Debug, Clone)]
struct Folder {
    /// Its key in the checkpoint (path relative to the source).
    label: String,
    kind: Kind,
    path: PathBuf,
    /// Target mailbox name before the special-use mapping.
    name: String,
    /// Whether special-use names (Sent, Trash...) may map to the account's
    /// mailboxes with that attribute.
    map_special: bool,
}

/// Per source folder progress in the checkpoint.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct FolderState {
    /// Source messages consumed up to the last committed batch (mbox).
    done: u64,
    /// Maildir: sort key of the last consumed file.
    last_key: Option<(u8, u32, String)>,
    /// The target's UIDNEXT after the last committed batch.
    uid_next: u32,
    complete: bool,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Checkpoint {
    source: String,
    user: String,
    mailbox: Option<String>,
    folders: BTreeMap<String, FolderState>,
}

/// The configuration pieces the import and export need.
pub(crate) struct Setup {
    pub data_dir: PathBuf,
    pub account: Arc<dyn Account>,
    pub max_literal: u64,
}

/// Opens the account named on the command line.
pub(crate) async fn open(dirs: &DataDirArgs, user: &str) -> Result<Setup> {
    let cfg = crate::config::resolve(&ServeArgs {
        dirs: dirs.clone(),
        ..Default::default()
    })?;
    crate::store::require_data_dir(&cfg.data_dir)?;
    let store =
        crate::store::open_store_with(&cfg.data_dir, cfg.search_index, std::time::Duration::ZERO)?;
    let account = store.open_account(user).await.map_err(|e| match e {
        StoreError::NoSuchAccount => Fail::config(format!("no such account: {user:?}")),
        e => Fail::runtime(format!("cannot open account {user:?}: {e}")),
    })?;
    Ok(Setup {
        data_dir: cfg.data_dir,
        account,
        max_literal: cfg.limits.max_literal,
    })
}

/// Prints a warning above the progress bar.
fn warn(pb: &ProgressBar, msg: &str) {
    pb.suspend(|| eprintln!("tidemark: warning: {msg}"));
}

/// A progress bar on a terminal, nothing otherwise.
pub(crate) fn progress(total: u64, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} {msg} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
    ) {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_message(what.to_string());
    pb
}

/// The test hook (module doc): (batches, before the checkpoint).
fn stop_after() -> Option<(u64, bool)> {
    let v = std::env::var("TIDEMARK_IMPORT_STOP_AFTER").ok()?;
    let early = v.ends_with('!');
    v.trim_end_matches('!').parse().ok().map(|n| (n, early))
}

pub async fn run(args: ImportArgs) -> Result<()> {
    let setup = open(&args.dirs, &args.user).await?;
    if let Some(m) = &args.mailbox
        && let Err(StoreError::NoSuchMailbox) = setup.account.mailbox(m).await
    {
        // Created now (the import would), so a bad name fails before any work.
        match setup.account.create_mailbox(m, &[]).await {
            Ok(_) | Err(StoreError::MailboxExists) => {}
            Err(StoreError::InvalidName(why)) => {
                return Err(Fail::config(format!("invalid mailbox name {m:?}: {why}")));
            }
            Err(e) => return Err(Fail::runtime(format!("cannot create mailbox {m:?}: {e}"))),
        }
    }
    let source = std::fs::canonicalize(&args.path)
        .map_err(|e| Fail::config(format!("cannot read {}: {e}", args.path.display())))?;
    let folders = discover(&source, args.mailbox.as_deref())?;
    let ckpt_path = checkpoint_path(
        &setup.data_dir,
        &source,
        &args.user,
        args.mailbox.as_deref(),
    );
    let mut ckpt = match std::fs::read(&ckpt_path) {
        Ok(b) => serde_json::from_slice(&b).map_err(|e| {
            Fail::runtime(format!(
                "damaged checkpoint {}: {e} (delete it to start over)",
                ckpt_path.display()
            ))
        })?,
        Err(_) => Checkpoint {
            source: source.display().to_string(),
            user: args.user.clone(),
            mailbox: args.mailbox.clone(),
            folders: BTreeMap::new(),
        },
    };
    let total: u64 = folders.iter().map(folder_size).sum();
    let pb = progress(total, "importing");
    let mut run = Run {
        account: setup.account.clone(),
        max: setup.max_literal.min(usize::MAX as u64) as usize,
        ckpt_path,
        stop: stop_after(),
        batches: 0,
        imported: 0,
        skipped: 0,
        mailboxes: 0,
        pb: pb.clone(),
    };
    let mut failed: Vec<String> = Vec::new();
    for folder in &folders {
        let state = ckpt.folders.get(&folder.label).cloned();
        if state.as_ref().is_some_and(|s| s.complete) {
            pb.inc(folder_size(folder));
            continue;
        }
        if let Err(e) = run.folder(folder, state, &mut ckpt).await {
            warn(
                &pb,
                &format!("{}: not imported: {e}", folder.path.display()),
            );
            failed.push(folder.path.display().to_string());
        }
    }
    pb.finish_and_clear();
    println!(
        "imported {} messages into {} mailboxes ({} skipped)",
        run.imported, run.mailboxes, run.skipped
    );
    if !failed.is_empty() {
        return Err(Fail::runtime(format!(
            "{} source folder(s) not imported: {}",
            failed.len(),
            failed.join(", ")
        )));
    }
    let _ = std::fs::remove_file(&run.ckpt_path);
    Ok(())
}

fn folder_size(f: &Folder) -> u64 {
    match f.kind {
        Kind::Mbox => std::fs::metadata(&f.path).map(|m| m.len()).unwrap_or(0),
        Kind::Maildir => maildir::entries(&f.path)
            .map(|v| v.iter().map(|e| e.size).sum())
            .unwrap_or(0),
    }
}

/// `<data>/import/<hash>.json`.
fn checkpoint_path(data: &Path, source: &Path, user: &str, mailbox: Option<&str>) -> PathBuf {
    let mut h = Sha256::new();
    h.update(source.as_os_str().as_encoded_bytes());
    h.update([0]);
    h.update(user.as_bytes());
    h.update([0]);
    h.update(mailbox.unwrap_or("").as_bytes());
    let hex: String = h.finalize()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    data.join("import").join(format!("{hex}.json"))
}

/// Writes the checkpoint durably: temp file, fsync, rename, fsync of the
/// directory.
fn save_checkpoint(path: &Path, ckpt: &Checkpoint) -> std::io::Result<()> {
    std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))?;
    let json = serde_json::to_vec_pretty(ckpt).map_err(std::io::Error::other)?;
    crate::fsutil::write_atomic(path, &json, 0o644)
}

/// The folders of a source path (see `tidemark import --help`).
fn discover(path: &Path, prefix: Option<&str>) -> Result<Vec<Folder>> {
    let md = std::fs::metadata(path)
        .map_err(|e| Fail::config(format!("cannot read {}: {e}", path.display())))?;
    let named = |rel: &str| match (prefix, rel) {
        (Some(p), "") => p.to_string(),
        (Some(p), r) => format!("{p}/{r}"),
        (None, "") => "INBOX".to_string(),
        (None, r) => r.to_string(),
    };
    let folder = |label: String, kind, path: PathBuf, rel: &str| Folder {
        label,
        kind,
        path,
        name: named(rel),
        map_special: prefix.is_none() && !rel.is_empty() && !rel.contains('/'),
    };
    if md.is_file() {
        return Ok(vec![folder(
            String::new(),
            Kind::Mbox,
            path.to_path_buf(),
            "",
        )]);
    }
    if !md.is_dir() {
        return Err(Fail::config(format!(
            "{} is neither a file nor a directory",
            path.display()
        )));
    }
    if maildir::is_maildir(path) {
        let mut out = vec![folder(String::new(), Kind::Maildir, path.to_path_buf(), "")];
        let subs = maildir::subfolders(path)
            .map_err(|e| Fail::runtime(format!("cannot list {}: {e}", path.display())))?;
        for (name, dir) in subs {
            let label = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            out.push(folder(label, Kind::Maildir, dir, &name));
        }
        return Ok(out);
    }
    let mut found: Vec<(String, Kind, PathBuf)> = Vec::new();
    walk_mbox_dir(path, "", 0, &mut found)
        .map_err(|e| Fail::runtime(format!("cannot list {}: {e}", path.display())))?;
    if found.is_empty() {
        return Err(Fail::config(format!(
            "{}: no mbox files or Maildir folders found",
            path.display()
        )));
    }
    Ok(found
        .into_iter()
        .map(|(rel, kind, p)| {
            let rel = match rel.split_once('/') {
                Some((top, rest)) if top.eq_ignore_ascii_case("inbox") => format!("INBOX/{rest}"),
                None if rel.eq_ignore_ascii_case("inbox") => "INBOX".to_string(),
                _ => rel,
            };
            let label = format!("{rel}{}", if kind == Kind::Maildir { "/" } else { "" });
            let mut f = folder(label, kind, p, &rel);
            if prefix.is_none() && rel == "INBOX" {
                f.name = "INBOX".into();
            }
            f
        })
        .collect())
}

/// Files to leave alone in a directory of mbox files (Dovecot's indexes,
/// Thunderbird's summaries, locks, hidden files).
fn ignored(name: &str) -> bool {
    name.starts_with('.')
        || name.starts_with("dovecot")
        || name.ends_with(".msf")
        || name.ends_with(".lock")
        || name.ends_with(".lck")
}

/// Collects mbox files (and Maildir folders) below `dir`; `X.sbd`
/// directories (Thunderbird, and our export for a mailbox with both
/// messages and children) hold the children of `X`.
fn walk_mbox_dir(
    dir: &Path,
    rel: &str,
    depth: usize,
    out: &mut Vec<(String, Kind, PathBuf)>,
) -> std::io::Result<()> {
    if depth > 32 {
        return Ok(());
    }
    let mut names: Vec<(String, PathBuf)> = std::fs::read_dir(dir)?
        .flatten()
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .filter(|(n, _)| !ignored(n))
        .collect();
    names.sort();
    for (name, path) in names {
        let md = std::fs::symlink_metadata(&path)?;
        let comp = name.strip_suffix(".sbd").unwrap_or(&name);
        let child = if rel.is_empty() {
            comp.to_string()
        } else {
            format!("{rel}/{comp}")
        };
        if md.is_dir() {
            if maildir::is_maildir(&path) {
                out.push((child, Kind::Maildir, path));
            } else {
                walk_mbox_dir(&path, &child, depth + 1, out)?;
            }
        } else if md.is_file() {
            out.push((child, Kind::Mbox, path));
        }
    }
    Ok(())
}

/// One message from a source, ready or skipped.
struct Item {
    data: Option<Vec<u8>>,
    flags: Flags,
    date: Option<InternalDate>,
    uid: Option<Uid>,
    raw_len: u64,
    /// Names the message in warnings.
    what: String,
    bad_keywords: Vec<String>,
    /// Maildir sort key.
    key: Option<(u8, u32, String)>,
}

/// The messages of one source folder, in import order.
enum Items {
    Mbox {
        reader: mbox::MboxReader<BufReader<std::fs::File>>,
        path: PathBuf,
    },
    Maildir {
        entries: std::vec::IntoIter<(maildir::Entry, Option<Uid>)>,
        keywords: Vec<Option<String>>,
        courier: HashMap<String, Vec<String>>,
    },
}

/// Sort key of a Maildir entry: files with a UID first, by UID, then the
/// rest by name.
fn entry_key(e: &maildir::Entry, uid: Option<Uid>) -> (u8, u32, String) {
    match uid {
        Some(u) => (0, u.0, e.base.clone()),
        None => (1, 0, e.base.clone()),
    }
}

impl Items {
    fn next(&mut self, max: usize) -> std::result::Result<Option<Item>, String> {
        match self {
            Items::Mbox { reader, path } => {
                let m = match reader.next_message() {
                    Ok(Some(m)) => m,
                    Ok(None) => return Ok(None),
                    Err(e) => return Err(format!("{}: {e}", path.display())),
                };
                Ok(Some(Item {
                    what: format!(
                        "{} message {} ({} bytes)",
                        path.display(),
                        m.index + 1,
                        m.size
                    ),
                    data: m.data,
                    flags: m.flags,
                    date: m.date,
                    uid: None,
                    raw_len: m.raw_len,
                    bad_keywords: m.bad_keywords,
                    key: None,
                }))
            }
            Items::Maildir {
                entries,
                keywords,
                courier,
            } => {
                let Some((e, uid)) = entries.next() else {
                    return Ok(None);
                };
                let (flags, bad) = maildir::entry_flags(&e, keywords, courier);
                let data = if e.size > max as u64 {
                    None
                } else {
                    let mut v = Vec::with_capacity(e.size as usize);
                    match std::fs::File::open(&e.path)
                        .and_then(|f| f.take(max as u64 + 1).read_to_end(&mut v))
                    {
                        Ok(n) if n <= max => Some(v),
                        Ok(_) => None,
                        // Moved away meanwhile (another MUA changed its flags):
                        // reported as skipped.
                        Err(_) => None,
                    }
                };
                Ok(Some(Item {
                    what: format!("{} ({} bytes)", e.path.display(), e.size),
                    data,
                    flags,
                    date: Some(InternalDate {
                        unix: e.mtime,
                        offset_minutes: 0,
                    }),
                    uid,
                    raw_len: e.size,
                    bad_keywords: bad,
                    key: Some(entry_key(&e, uid)),
                }))
            }
        }
    }
}

struct Run {
    account: Arc<dyn Account>,
    max: usize,
    ckpt_path: PathBuf,
    stop: Option<(u64, bool)>,
    batches: u64,
    imported: u64,
    skipped: u64,
    mailboxes: u64,
    pb: ProgressBar,
}

/// UIDs from `dovecot-uidlist` while they are being kept.
struct KeepUids {
    validity: UidValidity,
    next: Option<Uid>,
    /// Sort key of the last file that has a UID.
    last_with_uid: Option<(u8, u32, String)>,
}

/// A batch being filled.
#[derive(Default)]
struct Pending {
    messages: Vec<(Option<Uid>, NewMessage)>,
    bytes: usize,
    /// Source items consumed into this batch (skipped ones too).
    items: u64,
    last_key: Option<(u8, u32, String)>,
}

impl Run {
    /// Maps a top-level `Sent`, `Trash`... to the account's mailbox with
    /// that special use, and finds or creates the target mailbox.
    async fn target(&self, f: &Folder) -> std::result::Result<MailboxInfo, StoreError> {
        let mut name = f.name.clone();
        if f.map_special {
            let use_ = [
                ("sent", SpecialUse::Sent),
                ("drafts", SpecialUse::Drafts),
                ("trash", SpecialUse::Trash),
                ("junk", SpecialUse::Junk),
                ("archive", SpecialUse::Archive),
            ]
            .into_iter()
            .find(|(n, _)| name.eq_ignore_ascii_case(n))
            .map(|(_, u)| u);
            if let Some(u) = use_
                && let Some(m) = self
                    .account
                    .list_mailboxes()
                    .await?
                    .into_iter()
                    .find(|m| m.special_use.contains(&u))
            {
                name = m.name;
            }
        }
        match self.account.mailbox(&name).await {
            Err(StoreError::NoSuchMailbox) => match self.account.create_mailbox(&name, &[]).await {
                Err(StoreError::MailboxExists) => self.account.mailbox(&name).await,
                r => r,
            },
            r => r,
        }
    }

    /// Imports one source folder.
    async fn folder(
        &mut self,
        f: &Folder,
        state: Option<FolderState>,
        ckpt: &mut Checkpoint,
    ) -> std::result::Result<(), String> {
        let mb = self.target(f).await.map_err(|e| match e {
            StoreError::InvalidName(why) => format!("invalid mailbox name {:?}: {why}", f.name),
            e => format!("mailbox {:?}: {e}", f.name),
        })?;
        let status = self
            .account
            .status(mb.id)
            .await
            .map_err(|e| e.to_string())?;
        // Messages the last, uncheckpointed batch may have committed.
        let mut maybe_done: HashMap<[u8; 32], u32> = HashMap::new();
        let mut state = match state {
            Some(s) => {
                if status.uid_next.0 > s.uid_next {
                    maybe_done = self.hashes_since(mb.id, Uid(s.uid_next)).await?;
                }
                s
            }
            None => FolderState {
                uid_next: status.uid_next.0,
                ..Default::default()
            },
        };
        ckpt.folders.insert(f.label.clone(), state.clone());
        save_checkpoint(&self.ckpt_path, ckpt).map_err(|e| format!("checkpoint: {e}"))?;

        let mut keep: Option<KeepUids> = None;
        let mut items = match f.kind {
            Kind::Mbox => {
                let file = std::fs::File::open(&f.path).map_err(|e| e.to_string())?;
                let mut reader = mbox::MboxReader::new(BufReader::new(file), self.max);
                for _ in 0..state.done {
                    match reader.next_message() {
                        Ok(Some(m)) => self.pb.inc(m.raw_len),
                        Ok(None) => break,
                        Err(e) => return Err(e.to_string()),
                    }
                }
                Items::Mbox {
                    reader,
                    path: f.path.clone(),
                }
            }
            Kind::Maildir => {
                let list = maildir::read_uidlist(&f.path);
                let uids_ok = list
                    .as_ref()
                    .and_then(|l| l.validity)
                    .is_some_and(|v| status.uid_next.0 == 1 || status.uid_validity == v);
                // Ordered by the list's UIDs whether or not they are kept,
                // so every run (and resume) sees the same order; `commit`
                // drops the UIDs when they are not kept.
                let mut entries: Vec<(maildir::Entry, Option<Uid>)> = maildir::entries(&f.path)
                    .map_err(|e| e.to_string())?
                    .into_iter()
                    .map(|e| {
                        let uid = list.as_ref().and_then(|l| l.uids.get(&e.base).copied());
                        (e, uid)
                    })
                    .collect();
                entries.sort_by_cached_key(|(e, u)| entry_key(e, *u));
                let had_list = list.is_some();
                if let Some(l) = list.filter(|_| uids_ok)
                    && let Some(v) = l.validity
                {
                    keep = Some(KeepUids {
                        validity: v,
                        next: l.next,
                        last_with_uid: entries
                            .iter()
                            .rev()
                            .find(|(_, u)| u.is_some())
                            .map(|(e, u)| entry_key(e, *u)),
                    });
                } else if had_list {
                    warn(
                        &self.pb,
                        &format!(
                            "{}: dovecot-uidlist UIDs not kept (mailbox {:?} already holds messages, or the list has no UIDVALIDITY)",
                            f.path.display(),
                            mb.name
                        ),
                    );
                }
                if let Some(last) = &state.last_key {
                    let skip = entries.partition_point(|(e, u)| &entry_key(e, *u) <= last);
                    for (e, _) in entries.drain(..skip) {
                        self.pb.inc(e.size);
                    }
                }
                Items::Maildir {
                    entries: entries.into_iter(),
                    keywords: maildir::read_dovecot_keywords(&f.path),
                    courier: maildir::read_courier_keywords(&f.path),
                }
            }
        };

        let mut pending = Pending::default();
        while let Some(item) = items.next(self.max)? {
            self.pb.inc(item.raw_len);
            for k in &item.bad_keywords {
                warn(
                    &self.pb,
                    &format!(
                        "{}: keyword {k:?} is not a valid IMAP keyword, dropped",
                        item.what
                    ),
                );
            }
            let data = match item.data {
                None => {
                    self.skipped += 1;
                    warn(
                        &self.pb,
                        &format!(
                            "{}: skipped: larger than [limits] max_literal ({} bytes) or unreadable",
                            item.what, self.max
                        ),
                    );
                    None
                }
                Some(d) if d.is_empty() => {
                    self.skipped += 1;
                    warn(&self.pb, &format!("{}: skipped: empty message", item.what));
                    None
                }
                Some(d) if maybe_done.is_empty() => Some(d),
                Some(d) => {
                    let h: [u8; 32] = Sha256::digest(&d).into();
                    match maybe_done.get_mut(&h) {
                        // Committed by the batch the checkpoint missed.
                        Some(n) if *n > 0 => {
                            *n -= 1;
                            None
                        }
                        _ => Some(d),
                    }
                }
            };
            if let Some(d) = &data
                && !pending.messages.is_empty()
                && pending.bytes + d.len() > BATCH_BYTES
            {
                self.commit(&mb, &mut pending, &mut keep, &mut state, f, ckpt)
                    .await?;
            }
            pending.items += 1;
            if item.key.is_some() {
                pending.last_key = item.key;
            }
            let Some(data) = data else { continue };
            let structure = Bytes::from(tidemark_mime::parse(&data).to_bytes());
            pending.bytes += data.len();
            pending.messages.push((
                item.uid,
                NewMessage {
                    data: Bytes::from(data),
                    flags: item.flags,
                    internal_date: item.date,
                    structure,
                },
            ));
            if pending.messages.len() >= BATCH_MESSAGES {
                self.commit(&mb, &mut pending, &mut keep, &mut state, f, ckpt)
                    .await?;
            }
        }
        self.commit(&mb, &mut pending, &mut keep, &mut state, f, ckpt)
            .await?;
        state.complete = true;
        ckpt.folders.insert(f.label.clone(), state);
        save_checkpoint(&self.ckpt_path, ckpt).map_err(|e| format!("checkpoint: {e}"))?;
        self.mailboxes += 1;
        Ok(())
    }

    /// SHA-256 of the messages of `mailbox` from `from` on, with counts.
    async fn hashes_since(
        &self,
        mailbox: MailboxId,
        from: Uid,
    ) -> std::result::Result<HashMap<[u8; 32], u32>, String> {
        let metas = self
            .account
            .fetch_meta(mailbox, &UidSet::range(from.0, u32::MAX))
            .await
            .map_err(|e| e.to_string())?;
        let mut out = HashMap::new();
        for m in metas {
            match self.account.read_message(mailbox, m.uid).await {
                Ok(data) => *out.entry(Sha256::digest(&data).into()).or_insert(0) += 1,
                Err(StoreError::Expunged) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(out)
    }

    /// Commits the pending batch (if it holds anything), then the checkpoint.
    async fn commit(
        &mut self,
        mb: &MailboxInfo,
        pending: &mut Pending,
        keep: &mut Option<KeepUids>,
        state: &mut FolderState,
        f: &Folder,
        ckpt: &mut Checkpoint,
    ) -> std::result::Result<(), String> {
        let p = std::mem::take(pending);
        if !p.messages.is_empty() {
            let n = p.messages.len() as u64;
            let mut messages = p.messages;
            let batch = match keep.as_ref() {
                Some(k) => {
                    let has_none = messages.iter().any(|(u, _)| u.is_none());
                    let ends_uids = k.last_with_uid.is_none()
                        || p.last_key
                            .as_ref()
                            .is_some_and(|l| Some(l) >= k.last_with_uid.as_ref());
                    ImportBatch {
                        uid_validity: Some(k.validity),
                        uid_next: k.next.filter(|_| has_none || ends_uids),
                        messages,
                    }
                }
                None => {
                    for m in &mut messages {
                        m.0 = None;
                    }
                    ImportBatch {
                        messages,
                        ..Default::default()
                    }
                }
            };
            let result = match self.account.import_messages(mb.id, batch.clone()).await {
                Err(StoreError::NotAllowed(why)) if keep.is_some() => {
                    warn(
                        &self.pb,
                        &format!(
                            "{}: UIDs from dovecot-uidlist not kept: {why}",
                            f.path.display()
                        ),
                    );
                    *keep = None;
                    let messages = batch.messages.into_iter().map(|(_, m)| (None, m)).collect();
                    self.account
                        .import_messages(
                            mb.id,
                            ImportBatch {
                                messages,
                                ..Default::default()
                            },
                        )
                        .await
                }
                r => r,
            };
            result.map_err(|e| format!("mailbox {:?}: {e}", mb.name))?;
            self.imported += n;
            self.batches += 1;
            if self.stop == Some((self.batches, true)) {
                std::process::abort();
            }
        }
        if p.items == 0 {
            return Ok(());
        }
        let status = self
            .account
            .status(mb.id)
            .await
            .map_err(|e| e.to_string())?;
        state.done += p.items;
        if p.last_key.is_some() {
            state.last_key = p.last_key;
        }
        state.uid_next = status.uid_next.0;
        ckpt.folders.insert(f.label.clone(), state.clone());
        save_checkpoint(&self.ckpt_path, ckpt).map_err(|e| format!("checkpoint: {e}"))?;
        if self.stop == Some((self.batches, false)) {
            std::process::abort();
        }
        Ok(())
    }
}
