//! `tidemark export`: an account's mailboxes as a Maildir++ tree or as mbox
//! files, with the bytes exactly as stored (`Account::read_message`).
//!
//! - **Maildir++**: INBOX is `DIR` itself, `Sub/Folder` is `DIR/.Sub.Folder`
//!   (with a `maildirfolder` file). Each message is
//!   `cur/<internaldate>.<uid>_<uidvalidity>.<host>,S=<size>:2,<flags>`,
//!   mtime = INTERNALDATE; `dovecot-uidlist` (version 3, `V` and `N`) and
//!   `dovecot-keywords` (the first 26 keywords of the mailbox; more cannot
//!   be written as letters and are dropped with a warning) let Dovecot or
//!   `tidemark import` keep UIDs and keywords. `$Forwarded` is the `P` flag.
//!   A mailbox name with a `.` cannot be written as Maildir++ and is skipped
//!   with an error.
//! - **mbox**: one mboxrd file per mailbox, `DIR/INBOX`, `DIR/Sub/Folder`;
//!   flags as `Status:`/`X-Status:`/`X-Keywords:` fields, UIDs as Dovecot's
//!   `X-IMAPbase:`/`X-UID:` (`mailfile::mbox`; import does not keep mbox
//!   UIDs, only Maildir ones).
//!   A mailbox without messages that has children is not written (import
//!   creates parents anyway); one with messages and children is the file
//!   `DIR/Sub` with its children in `DIR/Sub.sbd/` (Thunderbird's layout,
//!   which import reads back).
//!
//! `DIR` must be missing or empty. The export reads one message at a time.

use crate::cli::{ExportArgs, ExportFormat};
use crate::error::{Fail, Result};
use crate::import::{open, progress};
use crate::mailfile::{maildir, mbox};
use std::collections::{BTreeSet, HashMap};
use std::io::BufWriter;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use tidemark_store::{Account, MailboxInfo, StoreError, UidSet};

fn mkdir(p: &Path) -> Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(p)
        .map_err(|e| Fail::runtime(format!("cannot create {}: {e}", p.display())))
}

fn io_fail(p: &Path) -> impl FnOnce(std::io::Error) -> Fail + '_ {
    move |e| Fail::runtime(format!("cannot write {}: {e}", p.display()))
}

/// A file-name-safe host name for Maildir names (`/` and `:` escaped as the
/// Maildir spec says).
fn maildir_host() -> String {
    crate::config::system_hostname()
        .replace('/', "\\057")
        .replace(':', "\\072")
}

pub async fn run(args: ExportArgs) -> Result<()> {
    let setup = open(&args.dirs, &args.user).await?;
    let account = setup.account;
    let dir = args.dir;
    if let Ok(mut rd) = std::fs::read_dir(&dir)
        && rd.next().is_some()
    {
        return Err(Fail::config(format!(
            "{} is not empty (export writes into a new or empty directory)",
            dir.display()
        )));
    }
    let all = account
        .list_mailboxes()
        .await
        .map_err(|e| Fail::runtime(format!("cannot list mailboxes: {e}")))?;
    let chosen: Vec<MailboxInfo> = match &args.mailbox {
        Some(name) => {
            let m = account.mailbox(name).await.map_err(|e| match e {
                StoreError::NoSuchMailbox | StoreError::InvalidName(_) => {
                    Fail::config(format!("no such mailbox: {name:?}"))
                }
                e => Fail::runtime(format!("mailbox {name:?}: {e}")),
            })?;
            vec![m]
        }
        None => all.clone(),
    };
    let names: BTreeSet<String> = chosen.iter().map(|m| m.name.clone()).collect();
    let mut total = 0;
    // mbox: the mailboxes written as files (see the module doc).
    let mut files: BTreeSet<String> = BTreeSet::new();
    for m in &chosen {
        let s = account
            .status(m.id)
            .await
            .map_err(|e| Fail::runtime(format!("mailbox {:?}: {e}", m.name)))?;
        total += s.size;
        let has_children = names.iter().any(|n| n.starts_with(&format!("{}/", m.name)));
        if s.messages > 0 || !has_children {
            files.insert(m.name.clone());
        }
    }
    mkdir(&dir)?;
    let pb = progress(total, "exporting");
    let host = maildir_host();
    let (mut messages, mut written, mut failed) = (0u64, 0u64, Vec::new());
    for m in &chosen {
        let result = match args.format {
            ExportFormat::Maildir => export_maildir(&*account, m, &dir, &host, &pb)
                .await
                .map(Some),
            ExportFormat::Mbox if files.contains(&m.name) => {
                export_mbox(&*account, m, &dir, &files, &pb).await.map(Some)
            }
            ExportFormat::Mbox => Ok(None),
        };
        match result {
            Ok(Some(n)) => {
                messages += n;
                written += 1;
            }
            Ok(None) => {}
            Err(e) => {
                pb.suspend(|| eprintln!("tidemark: error: mailbox {:?}: {e}", m.name));
                failed.push(m.name.clone());
            }
        }
    }
    pb.finish_and_clear();
    println!(
        "exported {messages} messages from {written} mailboxes to {}",
        dir.display()
    );
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Fail::runtime(format!(
            "{} mailbox(es) not exported: {}",
            failed.len(),
            failed.join(", ")
        )))
    }
}

/// The message metadata of a mailbox and its counters.
async fn messages_of(
    account: &dyn Account,
    m: &MailboxInfo,
) -> Result<(
    tidemark_store::MailboxStatus,
    Vec<tidemark_store::MessageMeta>,
)> {
    let fail = |e: StoreError| Fail::runtime(format!("mailbox {:?}: {e}", m.name));
    let status = account.status(m.id).await.map_err(fail)?;
    let metas = account
        .fetch_meta(m.id, &UidSet::range(1, u32::MAX))
        .await
        .map_err(fail)?;
    Ok((status, metas))
}

/// The bytes of one message; `None` when it was expunged meanwhile.
async fn read(
    account: &dyn Account,
    m: &MailboxInfo,
    uid: tidemark_store::Uid,
) -> Result<Option<bytes::Bytes>> {
    match account.read_message(m.id, uid).await {
        Ok(d) => Ok(Some(d)),
        Err(StoreError::Expunged) => Ok(None),
        Err(e) => Err(Fail::runtime(format!("reading UID {}: {e}", uid.0))),
    }
}

/// Writes one mailbox as a Maildir++ folder; returns the message count.
async fn export_maildir(
    account: &dyn Account,
    m: &MailboxInfo,
    root: &Path,
    host: &str,
    pb: &indicatif::ProgressBar,
) -> Result<u64> {
    let dir = if m.name == "INBOX" {
        root.to_path_buf()
    } else {
        if m.name.split('/').any(|c| c.contains('.') || c.is_empty()) {
            return Err(Fail::runtime(
                "a name with '.' cannot be written as a Maildir++ folder".to_string(),
            ));
        }
        root.join(format!(".{}", m.name.replace('/', ".")))
    };
    for sub in ["cur", "new", "tmp"] {
        mkdir(&dir.join(sub))?;
    }
    if m.name != "INBOX" {
        std::fs::write(dir.join("maildirfolder"), b"").map_err(io_fail(&dir))?;
    }
    let (status, metas) = messages_of(account, m).await?;
    let mut kw: BTreeSet<&str> = BTreeSet::new();
    for meta in &metas {
        kw.extend(
            meta.flags
                .keywords()
                .iter()
                .map(String::as_str)
                .filter(|k| *k != crate::mailfile::FORWARDED),
        );
    }
    let letters: HashMap<String, usize> = kw
        .iter()
        .take(26)
        .enumerate()
        .map(|(i, k)| (k.to_string(), i))
        .collect();
    if kw.len() > 26 {
        let lost: Vec<&str> = kw.iter().skip(26).copied().collect();
        pb.suspend(|| {
            eprintln!(
                "tidemark: warning: mailbox {:?}: Maildir holds 26 keywords per folder; dropped {}",
                m.name,
                lost.join(" ")
            )
        });
    }
    let mut keywords_file = String::new();
    for (i, k) in kw.iter().take(26).enumerate() {
        keywords_file.push_str(&format!("{i} {k}\n"));
    }
    let mut uidlist = format!("3 V{} N{}\n", status.uid_validity.0, status.uid_next.0);
    let tmp = dir.join("tmp");
    let mut n = 0;
    for meta in &metas {
        let Some(data) = read(account, m, meta.uid).await? else {
            continue;
        };
        let base = format!(
            "{}.{}_{}.{host},S={}",
            meta.internal_date.unix.max(0),
            meta.uid.0,
            status.uid_validity.0,
            data.len()
        );
        let name = format!("{base}:2,{}", maildir::info_letters(&meta.flags, &letters));
        let dest = dir.join("cur").join(&name);
        maildir::write_atomic(&tmp, &dest, &data, Some(meta.internal_date.unix))
            .map_err(io_fail(&dest))?;
        uidlist.push_str(&format!("{} :{base}\n", meta.uid.0));
        pb.inc(data.len() as u64);
        n += 1;
    }
    if !keywords_file.is_empty() {
        maildir::write_atomic(
            &tmp,
            &dir.join("dovecot-keywords"),
            keywords_file.as_bytes(),
            None,
        )
        .map_err(io_fail(&dir))?;
    }
    maildir::write_atomic(&tmp, &dir.join("dovecot-uidlist"), uidlist.as_bytes(), None)
        .map_err(io_fail(&dir))?;
    Ok(n)
}

/// The file of a mailbox in an mbox export: components joined, a parent
/// that is itself exported becoming `<parent>.sbd`.
fn mbox_path(root: &Path, name: &str, names: &BTreeSet<String>) -> Option<PathBuf> {
    let parts: Vec<&str> = name.split('/').collect();
    if parts
        .iter()
        .any(|c| c.is_empty() || *c == "." || *c == ".." || c.starts_with('.'))
    {
        return None;
    }
    let mut p = root.to_path_buf();
    for i in 0..parts.len() - 1 {
        let parent = parts[..=i].join("/");
        if names.contains(&parent) {
            p.push(format!("{}.sbd", parts[i]));
        } else {
            p.push(parts[i]);
        }
    }
    p.push(parts[parts.len() - 1]);
    Some(p)
}

/// Writes one mailbox as an mbox file; returns the message count. `files`
/// are the mailboxes written as files.
async fn export_mbox(
    account: &dyn Account,
    m: &MailboxInfo,
    root: &Path,
    files: &BTreeSet<String>,
    pb: &indicatif::ProgressBar,
) -> Result<u64> {
    let (status, metas) = messages_of(account, m).await?;
    let keywords: BTreeSet<&str> = metas
        .iter()
        .flat_map(|meta| meta.flags.keywords().iter().map(String::as_str))
        .collect();
    let mut base = format!(
        "X-IMAPbase: {} {:010}",
        status.uid_validity.0,
        status.uid_next.0.saturating_sub(1)
    );
    for k in keywords {
        base.push(' ');
        base.push_str(k);
    }
    let path = mbox_path(root, &m.name, files)
        .ok_or_else(|| Fail::runtime("name cannot be written as a file".to_string()))?;
    if let Some(parent) = path.parent() {
        mkdir(parent)?;
    }
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(io_fail(&path))?;
    let mut out = BufWriter::new(file);
    let mut n = 0;
    for meta in &metas {
        let Some(data) = read(account, m, meta.uid).await? else {
            continue;
        };
        let mut extra = vec![format!("X-UID: {}", meta.uid.0)];
        if n == 0 {
            extra.insert(0, std::mem::take(&mut base));
        }
        mbox::write_message(&mut out, &data, &meta.flags, meta.internal_date, &extra)
            .map_err(io_fail(&path))?;
        pb.inc(data.len() as u64);
        n += 1;
    }
    let file = out
        .into_inner()
        .map_err(|e| io_fail(&path)(e.into_error()))?;
    file.sync_all().map_err(io_fail(&path))?;
    Ok(n)
}
