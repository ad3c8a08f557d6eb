//! Deterministic generator of realistic-looking RFC 5322 messages.

/// xorshift64* — small, fast, deterministic.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

const FIRST: &[&str] = &[
    "Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy", "Mallory",
    "Niaj", "Olivia", "Peggy", "Rupert", "Sybil", "Trent", "Victor", "Walter", "Yuki",
];
const LAST: &[&str] = &[
    "Smith", "Jones", "Garcia", "Müller", "Rossi", "Dubois", "Nakamura", "Kowalski", "Andersen",
    "Silva", "O'Brien", "Novak",
];
const DOMAINS: &[&str] = &[
    "example.org",
    "example.com",
    "example.net",
    "mail.example.org",
    "lists.example.com",
];
const WORDS: &[&str] = &[
    "the",
    "a",
    "meeting",
    "project",
    "report",
    "quarterly",
    "update",
    "please",
    "review",
    "attached",
    "thanks",
    "regards",
    "deadline",
    "tomorrow",
    "server",
    "release",
    "notes",
    "budget",
    "team",
    "schedule",
    "draft",
    "proposal",
    "customer",
    "feedback",
    "issue",
    "fixed",
    "deploy",
    "monday",
    "friday",
    "invoice",
    "and",
    "to",
    "of",
    "in",
    "for",
    "with",
    "on",
    "we",
    "you",
    "it",
    "is",
    "that",
    "this",
    "will",
    "be",
    "can",
    "have",
    "not",
    "are",
    "by",
    "from",
    "at",
    "as",
    "our",
    "let",
    "me",
    "know",
    "if",
    "any",
    "questions",
    "about",
    "new",
    "version",
    "database",
    "migration",
    "performance",
    "latency",
    "mailbox",
];
const SUBJ: &[&str] = &["Re: ", "Fwd: ", "", "", "", "[team] ", "Re: Re: "];
const DAYS: &[&str] = &["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: &[&str] = &[
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// RFC 5322 date for a Unix timestamp (UTC).
pub fn rfc5322_date(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} +0000",
        DAYS[(days.rem_euclid(7)) as usize],
        d,
        MONTHS[(m - 1) as usize],
        y,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn text_lines(rng: &mut Rng, target: usize, out: &mut Vec<u8>) {
    let start = out.len();
    let mut col = 0;
    // Bounded by the target size (every iteration adds at least 2 bytes).
    while out.len() - start < target {
        let w = rng.pick(WORDS);
        if col + w.len() + 1 > 72 {
            out.extend_from_slice(b"\r\n");
            col = 0;
            if rng.below(9) == 0 {
                out.extend_from_slice(b"\r\n");
            }
        } else if col > 0 {
            out.push(b' ');
            col += 1;
        }
        out.extend_from_slice(w.as_bytes());
        col += w.len();
    }
    out.extend_from_slice(b"\r\n");
}

fn base64_lines(rng: &mut Rng, target: usize, out: &mut Vec<u8>) {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let lines = target.div_ceil(78).max(1);
    for _ in 0..lines {
        for _ in 0..76 {
            out.push(B64[rng.below(64) as usize]);
        }
        out.extend_from_slice(b"\r\n");
    }
}

/// Message sizes: with `size_mix`, log-uniform between 1 KiB and 20 KiB
/// (median ≈ 4.5 KiB) and about a quarter multipart with a base64
/// attachment; otherwise ≈ 4 KiB single-part text.
pub fn message(seed: u64, index: u64, size_mix: bool) -> Vec<u8> {
    let mut rng = Rng::new(
        seed.wrapping_mul(1_000_003)
            .wrapping_add(index)
            .wrapping_add(1),
    );
    let target = if size_mix {
        (1024.0 * 20f64.powf(rng.unit())) as usize
    } else {
        4096
    };
    let multipart = size_mix && rng.below(4) == 0;
    let from_first = rng.pick(FIRST);
    let from_last = rng.pick(LAST);
    let from_dom = rng.pick(DOMAINS);
    let ts = 1_700_000_000 + index * 97 + rng.below(60);
    let mut subj = String::from(rng.pick(SUBJ));
    for i in 0..(3 + rng.below(6)) {
        if i > 0 {
            subj.push(' ');
        }
        subj.push_str(rng.pick(WORDS));
    }
    let mut m = Vec::with_capacity(target + 1024);
    let hdr = format!(
        "Return-Path: <{fl}@{fd}>\r\n\
         Received: from mx{mx}.{fd} (mx{mx}.{fd} [192.0.2.{ip}])\r\n\tby mail.example.net with ESMTPS id {id:016x}\r\n\tfor <bench@example.net>; {date}\r\n\
         Date: {date}\r\n\
         From: {ff} {fl_disp} <{fl}@{fd}>\r\n\
         To: Bench User <bench@example.net>\r\n\
         Subject: {subj}\r\n\
         Message-ID: <{seed}.{index}.{id:016x}@{fd}>\r\n\
         MIME-Version: 1.0\r\n",
        fl = from_first.to_ascii_lowercase(),
        fd = from_dom,
        mx = rng.below(5),
        ip = 1 + rng.below(250),
        id = rng.next(),
        date = rfc5322_date(ts),
        ff = from_first,
        fl_disp = if from_last.is_ascii() {
            from_last.to_string()
        } else {
            "=?utf-8?q?M=C3=BCller?=".to_string()
        },
    );
    m.extend_from_slice(hdr.as_bytes());
    if index.is_multiple_of(3) {
        m.extend_from_slice(
            format!(
                "In-Reply-To: <{seed}.{}@{from_dom}>\r\nReferences: <{seed}.{}@{from_dom}>\r\n",
                index / 2,
                index / 2
            )
            .as_bytes(),
        );
    }
    let body_target = target.saturating_sub(m.len() + 100).max(64);
    if multipart {
        let boundary = format!("=_bench_{:012x}", rng.next() & 0xffff_ffff_ffff);
        m.extend_from_slice(format!("Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\nThis is a multi-part message in MIME format.\r\n\r\n--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n").as_bytes());
        let text = body_target / 4;
        text_lines(&mut rng, text, &mut m);
        token_line(index, &mut m);
        m.extend_from_slice(format!("\r\n--{boundary}\r\nContent-Type: application/pdf; name=\"report-{index}.pdf\"\r\nContent-Disposition: attachment; filename=\"report-{index}.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n").as_bytes());
        base64_lines(&mut rng, body_target - text, &mut m);
        m.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    } else {
        m.extend_from_slice(
            b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n",
        );
        text_lines(&mut rng, body_target, &mut m);
        token_line(index, &mut m);
    }
    m
}

/// A body line unique to message `index` ("tok1234x" is a substring of no
/// other message), for searches of a rare string.
fn token_line(index: u64, out: &mut Vec<u8>) {
    out.extend_from_slice(format!("ref: tok{index}x\r\n").as_bytes());
}

/// Realistic-ish flag distribution: ~70% seen, some answered/flagged.
pub fn flags(index: u64) -> String {
    let mut f = Vec::new();
    if index % 10 < 7 {
        f.push("\\Seen");
    }
    if index.is_multiple_of(13) {
        f.push("\\Answered");
    }
    if index.is_multiple_of(17) {
        f.push("\\Flagged");
    }
    f.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc5322_date(0), "Thu, 01 Jan 1970 00:00:00 +0000");
        assert_eq!(
            rfc5322_date(1_700_000_000),
            "Tue, 14 Nov 2023 22:13:20 +0000"
        );
    }

    #[test]
    fn sizes_and_shape() {
        let mut total = 0;
        for i in 0..2000 {
            let m = message(7, i, true);
            assert!(m.len() >= 900 && m.len() <= 24_000, "size {}", m.len());
            assert!(m.windows(4).any(|w| w == b"\r\n\r\n"));
            assert!(!m.windows(2).any(|w| w[1] == b'\n' && w[0] != b'\r'));
            total += m.len();
        }
        let avg = total / 2000;
        assert!((4000..9000).contains(&avg), "avg {avg}");
        let m = message(1, 1, false);
        assert!((3800..4600).contains(&m.len()), "len {}", m.len());
        assert_eq!(message(3, 5, true), message(3, 5, true));
        let tok = |m: &[u8], t: &[u8]| m.windows(t.len()).any(|w| w == t);
        assert!(tok(&message(3, 42, true), b"tok42x"));
        assert!(!tok(&message(3, 420, true), b"tok42x"));
    }
}
