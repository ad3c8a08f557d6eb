//! mbox files, mboxrd flavour (RFC 4155): messages start with a `From `
//! line after an empty line; body lines matching `^>*From ` are quoted
//! with one more `>` on writing and unquoted on reading. Like mutt, a
//! `From ` line separates only when it carries a readable date, so an
//! unquoted `From me` in a body (an mboxo writer's work) stays body.
//!
//! Flags live in headers, as Dovecot and mutt write them: `Status:` (`R`
//! seen, `O` old), `X-Status:` (`A` answered, `F` flagged, `T` draft, `D`
//! deleted) and `X-Keywords:` (keywords separated by spaces or commas).
//! Export inserts them at the top of the header, in the message's own line
//! ending, only when there is something to say, after Dovecot's
//! `X-IMAPbase:` (first message: UIDVALIDITY, last UID and the keywords,
//! without which Dovecot ignores `X-Keywords`) and `X-UID:`, so Dovecot's
//! mbox driver reads our files with our UIDs and keywords. Import removes every
//! top-level header field it recognises ([`STATUS_FIELDS`]: also Dovecot's
//! `X-UID`, `X-IMAP` and `X-IMAPbase`) and merges what they say into the
//! flags, as Dovecot's mbox driver does: so a message that already carried
//! such fields when it was stored (for instance one forwarded as-is from
//! an mbox-based system) loses them on the way through an mbox; every other
//! byte round-trips. `Content-Length:` (Dovecot and mutt write one) is kept:
//! Dovecot hides it, but it may be the message's own, and removing it
//! would break the round trip. A message not ending in a line break gains one (the
//! format cannot say otherwise); Maildir keeps such messages exactly.

use super::add_keyword;
use std::io::{self, BufRead, Write};
use tidemark_store::{Flags, InternalDate, SystemFlag};

/// The header fields import takes flags from and removes.
pub const STATUS_FIELDS: [&str; 6] = [
    "status",
    "x-status",
    "x-keywords",
    "x-uid",
    "x-imap",
    "x-imapbase",
];

/// One message read from an mbox.
#[derive(Debug)]
pub struct MboxMessage {
    /// Position in the file, from 0 (skipped messages count).
    pub index: u64,
    /// The message bytes with the status fields removed; `None` when the
    /// message was larger than the limit.
    pub data: Option<Vec<u8>>,
    pub flags: Flags,
    /// From the `From ` line, when it holds a readable date.
    pub date: Option<InternalDate>,
    /// Bytes of the file this message took (for progress).
    pub raw_len: u64,
    /// Size of the message as stored in the file (unquoted), for messages.
    pub size: u64,
    /// Keywords that were not valid IMAP keywords (dropped).
    pub bad_keywords: Vec<String>,
}

/// Why a file is not an mbox.
#[derive(Debug)]
pub enum MboxError {
    Io(io::Error),
    NotMbox,
}

impl std::fmt::Display for MboxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MboxError::Io(e) => write!(f, "{e}"),
            MboxError::NotMbox => {
                f.write_str("not an mbox file (does not start with a \"From \" line)")
            }
        }
    }
}

impl From<io::Error> for MboxError {
    fn from(e: io::Error) -> Self {
        MboxError::Io(e)
    }
}

/// Streams the messages of an mbox, one at a time, holding at most one
/// message of `max_size` bytes (plus one line start) in memory.
pub struct MboxReader<R> {
    input: R,
    max_size: usize,
    /// The `From ` line that starts the next message, if one was read.
    next_from: Option<Vec<u8>>,
    /// File bytes of `next_from`.
    next_from_len: u64,
    index: u64,
    started: bool,
    line: Vec<u8>,
}

/// Reads one line (through `\n` or EOF), keeping at most `keep` bytes of
/// it in `line`. Returns the line's full length (0 at EOF).
fn read_line_bounded(
    input: &mut impl BufRead,
    line: &mut Vec<u8>,
    keep: usize,
) -> io::Result<usize> {
    line.clear();
    let mut total = 0;
    loop {
        let buf = match input.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok(total);
        }
        let (n, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(p) => (p + 1, true),
            None => (buf.len(), false),
        };
        let room = keep.saturating_sub(line.len()).min(n);
        line.extend_from_slice(&buf[..room]);
        input.consume(n);
        total += n;
        if done {
            return Ok(total);
        }
    }
}

fn is_blank(line: &[u8]) -> bool {
    line == b"\n" || line == b"\r\n"
}

impl<R: BufRead> MboxReader<R> {
    pub fn new(input: R, max_size: usize) -> Self {
        MboxReader {
            input,
            max_size,
            next_from: None,
            next_from_len: 0,
            index: 0,
            started: false,
            line: Vec::new(),
        }
    }

    /// The next message, or `None` at the end of the file. An empty file is
    /// an empty mbox; anything else must start with `From `.
    pub fn next_message(&mut self) -> Result<Option<MboxMessage>, MboxError> {
        if !self.started {
            self.started = true;
            let n = read_line_bounded(&mut self.input, &mut self.line, 4096)?;
            if n == 0 {
                return Ok(None);
            }
            if !self.line.starts_with(b"From ") {
                return Err(MboxError::NotMbox);
            }
            self.next_from = Some(std::mem::take(&mut self.line));
            self.next_from_len = n as u64;
        }
        let Some(from) = self.next_from.take() else {
            return Ok(None);
        };
        let mut raw_len = self.next_from_len;
        let mut data: Vec<u8> = Vec::new();
        let mut too_big = false;
        let mut size: u64 = 0;
        // Length of the last line appended (to drop the separator line).
        let mut last_blank_len: Option<usize> = None;
        loop {
            // Keep enough to recognise a From_ line even once the message is too big.
            let keep = if too_big {
                256
            } else {
                self.max_size.saturating_sub(data.len()) + 256
            };
            let n = read_line_bounded(&mut self.input, &mut self.line, keep)?;
            if n == 0 {
                break;
            }
            raw_len += n as u64;
            if last_blank_len.is_some()
                && self.line.starts_with(b"From ")
                && parse_from_line_date(&self.line).is_some()
            {
                if n > self.line.len() {
                    // A From_ line longer than what we kept: keep its start.
                    self.line.truncate(4096.min(self.line.len()));
                }
                self.next_from = Some(std::mem::take(&mut self.line));
                self.next_from_len = n as u64;
                raw_len -= n as u64;
                break;
            }
            let mut line: &[u8] = &self.line;
            let quoted = line.first() == Some(&b'>') && {
                let rest = &line[line.iter().take_while(|&&b| b == b'>').count()..];
                rest.starts_with(b"From ")
            };
            if quoted {
                line = &line[1..];
            }
            let len = n - usize::from(quoted);
            size += len as u64;
            last_blank_len = is_blank(line).then_some(len);
            if !too_big && (n > self.line.len() || data.len() + line.len() > self.max_size) {
                too_big = true;
                data = Vec::new();
            }
            if !too_big {
                data.extend_from_slice(line);
            }
        }
        // The empty line before the next From_ line (or at the end of the
        // file) separates; it is not part of the message.
        if let Some(l) = last_blank_len {
            size -= l as u64;
            if !too_big {
                data.truncate(data.len() - l);
            }
        }
        let index = self.index;
        self.index += 1;
        let mut msg = MboxMessage {
            index,
            data: None,
            flags: Flags::new(),
            date: parse_from_line_date(&from),
            raw_len,
            size,
            bad_keywords: Vec::new(),
        };
        if !too_big && size as usize <= self.max_size {
            let (stripped, flags, bad) = strip_status_fields(&data);
            msg.flags = flags;
            msg.bad_keywords = bad;
            msg.data = Some(stripped);
        }
        Ok(Some(msg))
    }
}

/// Splits off the header block: the fields (each with its continuation
/// lines) up to the first empty line.
fn header_fields(data: &[u8]) -> Vec<(usize, usize)> {
    let mut fields: Vec<(usize, usize)> = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let end = data[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(data.len(), |p| pos + p + 1);
        let line = &data[pos..end];
        if is_blank(line) {
            break;
        }
        match (line.first(), fields.last_mut()) {
            (Some(b' ' | b'\t'), Some(last)) => last.1 = end,
            _ => fields.push((pos, end)),
        }
        pos = end;
    }
    fields
}

/// Removes the [`STATUS_FIELDS`] from the top-level header and returns the
/// flags they gave (and keywords that were not valid).
pub fn strip_status_fields(data: &[u8]) -> (Vec<u8>, Flags, Vec<String>) {
    let mut flags = Flags::new();
    let mut bad = Vec::new();
    let mut out = Vec::with_capacity(data.len());
    let mut copied = 0;
    for (start, end) in header_fields(data) {
        let field = &data[start..end];
        let Some(colon) = field.iter().position(|&b| b == b':') else {
            continue;
        };
        let name = String::from_utf8_lossy(&field[..colon])
            .trim()
            .to_ascii_lowercase();
        if !STATUS_FIELDS.contains(&name.as_str()) {
            continue;
        }
        out.extend_from_slice(&data[copied..start]);
        copied = end;
        let value = String::from_utf8_lossy(&field[colon + 1..]);
        match name.as_str() {
            "status" if value.contains('R') => flags.insert(SystemFlag::Seen),
            "x-status" => {
                for (c, f) in [
                    ('A', SystemFlag::Answered),
                    ('F', SystemFlag::Flagged),
                    ('T', SystemFlag::Draft),
                    ('D', SystemFlag::Deleted),
                ] {
                    if value.contains(c) {
                        flags.insert(f);
                    }
                }
            }
            "x-keywords" => {
                for k in value.split(|c: char| c.is_whitespace() || c == ',') {
                    if !k.is_empty() && !add_keyword(&mut flags, k) {
                        bad.push(k.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    out.extend_from_slice(&data[copied..]);
    (out, flags, bad)
}

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `Sat Nov 27 05:21:33 2026` (asctime, UTC).
pub fn asctime(unix: i64) -> String {
    let t =
        time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{} {} {:2} {:02}:{:02}:{:02} {}",
        WEEKDAYS[t.weekday().number_days_from_monday() as usize],
        MONTHS[t.month() as usize - 1],
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.year()
    )
}

/// The date of a `From sender date` line: asctime, optionally with a zone
/// (`+0100`, or a name, read as UTC) before or after the year. `None` when
/// it holds no readable date.
pub fn parse_from_line_date(line: &[u8]) -> Option<InternalDate> {
    let line = String::from_utf8_lossy(line);
    let words: Vec<&str> = line.split_whitespace().collect();
    // Find the month: "Mon Nov 27 05:21:33 [zone] 2026 [zone]".
    let m = words
        .iter()
        .position(|w| MONTHS.iter().any(|m| m.eq_ignore_ascii_case(w)))?;
    let month = MONTHS
        .iter()
        .position(|x| x.eq_ignore_ascii_case(words[m]))? as u8
        + 1;
    let day: u8 = words.get(m + 1)?.parse().ok()?;
    let hms: Vec<u8> = words
        .get(m + 2)?
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let (h, mi, s) = match hms[..] {
        [h, mi, s] => (h, mi, s),
        [h, mi] => (h, mi, 0),
        _ => return None,
    };
    let mut year = None;
    let mut offset: i32 = 0;
    for w in words.iter().skip(m + 3).take(2) {
        if let Ok(y) = w.parse::<i32>()
            && w.len() == 4
        {
            year = Some(y);
        } else if (w.starts_with('+') || w.starts_with('-')) && w.len() == 5 {
            let v: i32 = w[1..].parse().ok()?;
            offset = (v / 100 * 60 + v % 100) * if w.starts_with('-') { -1 } else { 1 };
        }
    }
    let date =
        time::Date::from_calendar_date(year?, time::Month::try_from(month).ok()?, day).ok()?;
    let t = time::Time::from_hms(h, mi, s).ok()?;
    let unix = time::PrimitiveDateTime::new(date, t)
        .assume_utc()
        .unix_timestamp()
        - offset as i64 * 60;
    Some(InternalDate {
        unix,
        offset_minutes: offset as i16,
    })
}

/// Writes one message in mboxrd form: the `From ` line, `extra` header
/// fields (without line ends: the export's `X-IMAPbase`/`X-UID`, which must
/// be among [`STATUS_FIELDS`] for import to remove them; Dovecot reads
/// `X-Keywords` only after `X-IMAPbase`), the status fields (see the module
/// doc), the quoted message and the empty separator line.
pub fn write_message(
    out: &mut impl Write,
    data: &[u8],
    flags: &Flags,
    date: InternalDate,
    extra: &[String],
) -> io::Result<()> {
    writeln!(out, "From MAILER-DAEMON {}", asctime(date.unix))?;
    let eol: &[u8] = match data.iter().position(|&b| b == b'\n') {
        Some(p) if p > 0 && data[p - 1] == b'\r' => b"\r\n",
        _ => b"\n",
    };
    for field in extra {
        out.write_all(field.as_bytes())?;
        out.write_all(eol)?;
    }
    if flags.contains(SystemFlag::Seen) {
        out.write_all(b"Status: RO")?;
        out.write_all(eol)?;
    }
    let x: String = [
        (SystemFlag::Answered, 'A'),
        (SystemFlag::Flagged, 'F'),
        (SystemFlag::Draft, 'T'),
        (SystemFlag::Deleted, 'D'),
    ]
    .iter()
    .filter(|(f, _)| flags.contains(*f))
    .map(|(_, c)| *c)
    .collect();
    if !x.is_empty() {
        write!(out, "X-Status: {x}")?;
        out.write_all(eol)?;
    }
    if !flags.keywords().is_empty() {
        write!(out, "X-Keywords: {}", flags.keywords().join(" "))?;
        out.write_all(eol)?;
    }
    for line in data.split_inclusive(|&b| b == b'\n') {
        let rest = &line[line.iter().take_while(|&&b| b == b'>').count()..];
        if rest.starts_with(b"From ") {
            out.write_all(b">")?;
        }
        out.write_all(line)?;
    }
    if !data.ends_with(b"\n") {
        out.write_all(b"\n")?;
    }
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(file: &[u8], max: usize) -> Vec<MboxMessage> {
        let mut r = MboxReader::new(file, max);
        let mut v = Vec::new();
        while let Some(m) = r.next_message().unwrap() {
            v.push(m);
        }
        v
    }

    #[test]
    fn round_trip() {
        let msgs: [&[u8]; 4] = [
            b"Subject: a\n\nFrom me\n>From you\n>>From x\nbye\n",
            b"Subject: b\r\nX-Other: 1\r\n\r\nbody\r\n\r\n",
            b"Subject: c\n\n",
            b"Subject: \xe9\n\n8bit \xff\n",
        ];
        let mut flags = Flags::new();
        flags.insert(SystemFlag::Seen);
        flags.insert(SystemFlag::Answered);
        flags.insert_keyword("$label1".into());
        let mut file = Vec::new();
        for m in msgs {
            write_message(
                &mut file,
                m,
                &flags,
                InternalDate {
                    unix: 1_700_000_000,
                    offset_minutes: 0,
                },
                &["X-UID: 7".to_string()],
            )
            .unwrap();
        }
        let got = read_all(&file, 1 << 20);
        assert_eq!(got.len(), 4);
        for (g, m) in got.iter().zip(msgs) {
            assert_eq!(g.data.as_deref(), Some(m));
            assert_eq!(g.flags, flags);
            assert_eq!(g.date.unwrap().unix, 1_700_000_000);
        }
    }

    #[test]
    fn limits_and_garbage() {
        assert!(read_all(b"", 10).is_empty());
        assert!(matches!(
            MboxReader::new(&b"garbage\n"[..], 10).next_message(),
            Err(MboxError::NotMbox)
        ));
        let file = b"From a Mon Jan  1 00:00:00 2024\nSubject: big\n\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n\nFrom b Mon Jan  1 00:00:00 2024\nS: s\n\nFrom me\n\n";
        let got = read_all(file, 30);
        assert_eq!(got.len(), 2);
        assert!(got[0].data.is_none(), "too big");
        assert_eq!(
            got[1].data.as_deref(),
            Some(&b"S: s\n\nFrom me\n"[..]),
            "unquoted From without a date is body"
        );
        assert_eq!(got[0].raw_len + got[1].raw_len, file.len() as u64);
    }

    #[test]
    fn from_line_dates() {
        let d = parse_from_line_date(b"From x@y Sat Nov 27 05:21:33 2026\n").unwrap();
        assert_eq!(asctime(d.unix), "Fri Nov 27 05:21:33 2026");
        let d = parse_from_line_date(b"From x Fri Nov 27 05:21:33 +0100 2026\n").unwrap();
        assert_eq!(asctime(d.unix), "Fri Nov 27 04:21:33 2026");
        assert!(parse_from_line_date(b"From nobody\n").is_none());
        assert!(parse_from_line_date(b"From x Feb 31 99:99:99 2026\n").is_none());
    }
}
