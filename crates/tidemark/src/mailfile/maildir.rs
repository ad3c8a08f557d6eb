//! Maildir and Maildir++ (Dovecot's layout): `cur/`, `new/`, `tmp/`; file
//! names `<unique>[:2,<info>]` whose info letters are flags (`D F P R S T`
//! system flags, `a`-`z` the keywords of `dovecot-keywords`); the
//! `dovecot-uidlist` that gives each file its UID and the folder its
//! UIDVALIDITY and UIDNEXT; Courier's keywords
//! (`courierimapkeywords/:list`); subfolders `.Sub.Folder` (hierarchy
//! separator `.`).

use super::{FORWARDED, MAILDIR_LETTERS, add_keyword};
use std::collections::HashMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use tidemark_store::{Flags, Uid, UidValidity};

/// Whether `dir` is a Maildir folder (has `cur/` or `new/`).
pub fn is_maildir(dir: &Path) -> bool {
    dir.join("cur").is_dir() || dir.join("new").is_dir()
}

/// One message file.
#[derive(Debug, Clone)]
pub struct Entry {
    pub path: PathBuf,
    /// The name up to `:` (what `dovecot-uidlist` and Courier name it by).
    pub base: String,
    /// The info letters after `:2,`.
    pub info: String,
    pub size: u64,
    /// Seconds since the epoch (INTERNALDATE).
    pub mtime: i64,
}

/// The message files of a folder (`cur/` and `new/`), unordered.
pub fn entries(dir: &Path) -> io::Result<Vec<Entry>> {
    let mut out = Vec::new();
    for sub in ["cur", "new"] {
        let d = dir.join(sub);
        let rd = match std::fs::read_dir(&d) {
            Ok(rd) => rd,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for e in rd {
            let e = e?;
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let md = e.metadata()?;
            if !md.is_file() {
                continue;
            }
            let (base, info) = match name.split_once(':') {
                Some((b, i)) => (
                    b.to_string(),
                    i.strip_prefix("2,").unwrap_or("").to_string(),
                ),
                None => (name.clone(), String::new()),
            };
            let mtime = md
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_secs() as i64)
                .or_else(|| base.split('.').next().and_then(|p| p.parse().ok()))
                .unwrap_or(0);
            out.push(Entry {
                path: e.path(),
                base,
                info,
                size: md.len(),
                mtime,
            });
        }
    }
    Ok(out)
}

/// What `dovecot-uidlist` says.
#[derive(Debug, Default, Clone)]
pub struct UidList {
    pub validity: Option<UidValidity>,
    pub next: Option<Uid>,
    /// File base name -> UID.
    pub uids: HashMap<String, Uid>,
}

/// Reads `dovecot-uidlist` (versions 1 and 3); `None` when there is none
/// or it is unreadable. Lines that do not parse are ignored.
pub fn read_uidlist(dir: &Path) -> Option<UidList> {
    let text = std::fs::read_to_string(dir.join("dovecot-uidlist")).ok()?;
    let mut lines = text.lines();
    let header = lines.next()?;
    let mut list = UidList::default();
    let mut words = header.split_whitespace();
    let version = words.next()?;
    if version == "1" {
        list.validity = words.next().and_then(|v| v.parse().ok()).map(UidValidity);
        list.next = words.next().and_then(|v| v.parse().ok()).map(Uid);
    } else {
        for w in words {
            let (k, v) = w.split_at(1.min(w.len()));
            match k {
                "V" => list.validity = v.parse().ok().map(UidValidity),
                "N" => list.next = v.parse().ok().map(Uid),
                _ => {}
            }
        }
    }
    for line in lines {
        let Some((uid, rest)) = line.split_once(' ') else {
            continue;
        };
        let Ok(uid) = uid.parse::<u32>() else {
            continue;
        };
        // v3: "<uid> [ext ...] :<name>"; v1: "<uid> <name>".
        let name = match rest.find(':') {
            Some(p) if p == 0 || rest.as_bytes()[p - 1] == b' ' => &rest[p + 1..],
            _ => rest.split_whitespace().last().unwrap_or(""),
        };
        let base = name.split(':').next().unwrap_or("");
        if uid > 0 && !base.is_empty() {
            list.uids.insert(base.to_string(), Uid(uid));
        }
    }
    list.validity = list.validity.filter(|v| v.0 > 0);
    Some(list)
}

/// The keyword names of `dovecot-keywords` by letter index (0 = `a`).
pub fn read_dovecot_keywords(dir: &Path) -> Vec<Option<String>> {
    let mut out = vec![None; 26];
    if let Ok(text) = std::fs::read_to_string(dir.join("dovecot-keywords")) {
        for line in text.lines() {
            if let Some((i, name)) = line.split_once(' ')
                && let Ok(i) = i.parse::<usize>()
                && i < 26
            {
                out[i] = Some(name.trim().to_string());
            }
        }
    }
    out
}

/// Courier-IMAP's keywords: `courierimapkeywords/:list` (keyword names, an
/// empty line, then `<base>:<index> <index>...` lines), then the update
/// files `courierimapkeywords/.<n>.<base>` (one keyword per line) that
/// override it. File base name -> keywords.
pub fn read_courier_keywords(dir: &Path) -> HashMap<String, Vec<String>> {
    let kdir = dir.join("courierimapkeywords");
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    if let Ok(text) = std::fs::read_to_string(kdir.join(":list")) {
        let mut names: Vec<&str> = Vec::new();
        let mut in_names = true;
        for line in text.lines() {
            if in_names {
                if line.is_empty() {
                    in_names = false;
                } else {
                    names.push(line);
                }
                continue;
            }
            let Some((base, idx)) = line.rsplit_once(':') else {
                continue;
            };
            let kws = idx
                .split_whitespace()
                .filter_map(|i| i.parse::<usize>().ok())
                .filter_map(|i| names.get(i).map(|s| s.to_string()))
                .collect();
            out.insert(base.to_string(), kws);
        }
    }
    // Later changes: `.<n>.<base>` files, one keyword per line; the highest
    // `n` of a message wins over `:list`.
    let mut newest: HashMap<String, u64> = HashMap::new();
    if let Ok(rd) = std::fs::read_dir(&kdir) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some((n, base)) = name.strip_prefix('.').and_then(|r| r.split_once('.')) else {
                continue;
            };
            let Ok(n) = n.parse::<u64>() else { continue };
            if newest.get(base).is_some_and(|old| *old >= n) {
                continue;
            }
            if let Ok(text) = std::fs::read_to_string(e.path()) {
                let base = base.split(':').next().unwrap_or(base).to_string();
                newest.insert(base.clone(), n);
                out.insert(
                    base,
                    text.lines()
                        .filter(|l| !l.is_empty())
                        .map(str::to_string)
                        .collect(),
                );
            }
        }
    }
    out
}

/// The flags an entry's info letters and keyword files give it; keywords
/// that are not valid IMAP keywords are returned apart (dropped).
pub fn entry_flags(
    e: &Entry,
    keywords: &[Option<String>],
    courier: &HashMap<String, Vec<String>>,
) -> (Flags, Vec<String>) {
    let mut flags = Flags::new();
    let mut bad = Vec::new();
    for c in e.info.bytes() {
        if let Some((_, f)) = MAILDIR_LETTERS.iter().find(|(l, _)| *l == c) {
            flags.insert(*f);
        } else if c == b'P' {
            flags.insert_keyword(FORWARDED.to_string());
        } else if c.is_ascii_lowercase()
            && let Some(Some(k)) = keywords.get((c - b'a') as usize)
            && !add_keyword(&mut flags, k)
        {
            bad.push(k.clone());
        }
    }
    for k in courier.get(&e.base).into_iter().flatten() {
        if !add_keyword(&mut flags, k) {
            bad.push(k.clone());
        }
    }
    (flags, bad)
}

/// The Maildir++ subfolder names under `root`: `.Sub.Folder` -> `Sub/Folder`,
/// sorted, as (mailbox name, directory).
pub fn subfolders(root: &Path) -> io::Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(root)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix('.') else {
            continue;
        };
        if rest.is_empty() || rest == "." || !e.file_type()?.is_dir() || !is_maildir(&e.path()) {
            continue;
        }
        let parts: Vec<&str> = rest.split('.').collect();
        if parts.iter().any(|p| p.is_empty()) {
            continue;
        }
        out.push((parts.join("/"), e.path()));
    }
    out.sort();
    Ok(out)
}

/// Writes a file atomically: `tmp/` then rename into place, fsynced.
pub fn write_atomic(
    tmp_dir: &Path,
    dest: &Path,
    data: &[u8],
    mtime: Option<i64>,
) -> io::Result<()> {
    let tmp = tmp_dir.join(format!(
        "{}.{}.tmp",
        dest.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        if let Some(t) = mtime {
            let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(t.max(0) as u64);
            f.set_modified(t)?;
        }
        f.sync_all()?;
    }
    std::fs::rename(&tmp, dest)
}

/// The info letters of a message: system flags, `P` for `$Forwarded`, then
/// keyword letters by `letters` (keyword -> index), all in ASCII order.
pub fn info_letters(flags: &Flags, letters: &HashMap<String, usize>) -> String {
    let mut s: Vec<u8> = MAILDIR_LETTERS
        .iter()
        .filter(|(_, f)| flags.contains(*f))
        .map(|(l, _)| *l)
        .collect();
    if flags.keywords().iter().any(|k| k == FORWARDED) {
        s.push(b'P');
    }
    for k in flags.keywords() {
        if let Some(i) = letters.get(k) {
            s.push(b'a' + *i as u8);
        }
    }
    s.sort_unstable();
    String::from_utf8(s).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn courier_keywords() {
        let d = tempfile::tempdir().unwrap();
        let k = d.path().join("courierimapkeywords");
        std::fs::create_dir_all(&k).unwrap();
        std::fs::write(k.join(":list"), "Urgent\nlater\n\nm1:0 1\nm2:1\n").unwrap();
        std::fs::write(k.join(".3.m2"), "Done\n").unwrap();
        std::fs::write(k.join(".1.m2"), "Old\n").unwrap();
        let got = read_courier_keywords(d.path());
        assert_eq!(got["m1"], ["Urgent", "later"]);
        assert_eq!(got["m2"], ["Done"], "the newest update file wins");
    }

    #[test]
    fn uidlist_versions() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join("dovecot-uidlist"),
            "3 V1234 N17 G0123abcd\n5 :1700000000.M1P2.host,S=10,W=12\n9 W13 :1700000001.M3.host\nbad\n",
        )
        .unwrap();
        let l = read_uidlist(d.path()).unwrap();
        assert_eq!(l.validity, Some(UidValidity(1234)));
        assert_eq!(l.next, Some(Uid(17)));
        assert_eq!(l.uids["1700000000.M1P2.host,S=10,W=12"], Uid(5));
        assert_eq!(l.uids["1700000001.M3.host"], Uid(9));
        std::fs::write(d.path().join("dovecot-uidlist"), "1 99 4\n3 123.abc\n").unwrap();
        let l = read_uidlist(d.path()).unwrap();
        assert_eq!((l.validity, l.next), (Some(UidValidity(99)), Some(Uid(4))));
        assert_eq!(l.uids["123.abc"], Uid(3));
    }
}
