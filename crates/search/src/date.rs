//! The `Date:` header (RFC 5322 3.3, with the obsolete forms of 4.3), as
//! SEARCH's SENT* keys and SORT's DATE key use it.

/// A parsed `Date:` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentDate {
    /// Days since 1970-01-01 of the date as written, in its own zone (what
    /// SENTBEFORE/SENTON/SENTSINCE compare).
    pub day: i64,
    /// The instant in seconds since the epoch, UTC (what SORT DATE orders
    /// by). A missing time counts as 00:00:00, a missing or unknown zone as
    /// +0000.
    pub utc: i64,
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(year: i64, month: u8, day: u8) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// Parses `[day-of-week ,] day month year [hh:mm[:ss] [zone]]`. Two- and
/// three-digit years follow RFC 5322 4.3. `None` when the day, month or year
/// is missing or invalid; a malformed time or zone is ignored.
pub fn parse_date(v: &[u8]) -> Option<SentDate> {
    let s = String::from_utf8_lossy(v);
    // Comments are not part of the date ("(CET)").
    let s = strip_comments(&s);
    let s = match s.find(',') {
        Some(i) => &s[i + 1..],
        None => &s[..],
    };
    let mut words = s.split(char::is_whitespace).filter(|w| !w.is_empty());
    let first = words.next()?;
    // "2-Jan-2024" written with dashes (seen in the wild).
    let mut dashed: Vec<&str> = Vec::new();
    let (day_w, month_w, year_w) = if first.contains('-') {
        dashed.extend(first.split('-'));
        if dashed.len() != 3 {
            return None;
        }
        (dashed[0], dashed[1], dashed[2])
    } else {
        (first, words.next()?, words.next()?)
    };
    let day: u8 = day_w.parse().ok()?;
    let month = MONTHS
        .iter()
        .position(|m| month_w.get(..3).is_some_and(|w| w.eq_ignore_ascii_case(m)))?
        as u8
        + 1;
    if !year_w.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut year: u16 = year_w.parse().ok()?;
    match year_w.len() {
        2 if year < 50 => year += 2000,
        2 | 3 => year += 1900,
        4 => {}
        _ => return None,
    }
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    let dim = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if day == 0 || day > dim {
        return None;
    }
    let days = days_from_civil(i64::from(year), month, day);
    let mut secs = 0i64;
    let mut zone = 0i64;
    if let Some(t) = words.next()
        && let Some(s) = parse_time(t)
    {
        secs = s;
        if let Some(z) = words.next() {
            zone = parse_zone(z).unwrap_or(0);
        }
    }
    Some(SentDate {
        day: days,
        utc: days * 86_400 + secs - zone,
    })
}

fn strip_comments(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut depth = 0u32;
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// `hh:mm[:ss]` in seconds.
fn parse_time(t: &str) -> Option<i64> {
    let mut it = t.split(':');
    let h: i64 = it.next()?.parse().ok()?;
    let m: i64 = it.next()?.parse().ok()?;
    let s: i64 = match it.next() {
        Some(x) => x.parse().ok()?,
        None => 0,
    };
    if it.next().is_some() || h > 23 || m > 59 || s > 60 {
        return None;
    }
    Some(h * 3600 + m * 60 + s)
}

/// A zone as seconds east of UTC: `+hhmm`/`-hhmm` or an obsolete name.
fn parse_zone(z: &str) -> Option<i64> {
    let b = z.as_bytes();
    if (b.first() == Some(&b'+') || b.first() == Some(&b'-'))
        && b.len() == 5
        && b[1..].iter().all(u8::is_ascii_digit)
    {
        let n: i64 = z[1..].parse().ok()?;
        let secs = (n / 100) * 3600 + (n % 100) * 60;
        return Some(if b[0] == b'-' { -secs } else { secs });
    }
    let hours = match z.to_ascii_uppercase().as_str() {
        "UT" | "UTC" | "GMT" | "Z" => 0,
        "EDT" => -4,
        "EST" | "CDT" => -5,
        "CST" | "MDT" => -6,
        "MST" | "PDT" => -7,
        "PST" => -8,
        _ => return None,
    };
    Some(hours * 3600)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i64, m: u8, d: u8) -> i64 {
        days_from_civil(y, m, d)
    }

    #[test]
    fn days() {
        assert_eq!(day(1970, 1, 1), 0);
        assert_eq!(day(2000, 3, 1), 11_017);
        assert_eq!(day(1969, 12, 31), -1);
    }

    #[test]
    fn parses_rfc5322_and_obsolete_forms() {
        let d = parse_date(b"Fri, 21 Nov 1997 09:55:06 -0600").unwrap();
        assert_eq!(d.day, day(1997, 11, 21));
        assert_eq!(
            d.utc,
            day(1997, 11, 21) * 86_400 + 9 * 3600 + 55 * 60 + 6 + 6 * 3600
        );
        let d = parse_date(b"2 Jan 24 23:30 EST").unwrap();
        assert_eq!(d.day, day(2024, 1, 2));
        assert_eq!(d.utc, day(2024, 1, 3) * 86_400 + 4 * 3600 + 30 * 60);
        assert_eq!(
            parse_date(b"2 Jan 24").unwrap().utc,
            day(2024, 1, 2) * 86_400
        );
        assert_eq!(
            parse_date(b"Tue, 2 Jan 2024 10:00:00 +0000 (UTC)")
                .unwrap()
                .day,
            day(2024, 1, 2)
        );
        assert_eq!(parse_date(b"31 Feb 2024 10:00 +0000"), None);
        assert_eq!(parse_date(b"yesterday"), None);
        // A month word that is not ASCII (found by fuzzing: it panicked).
        assert_eq!(parse_date("2 J\u{e9}\u{e9}n 2024".as_bytes()), None);
        assert_eq!(parse_date(b"2 J\xff\xff\xff 2024"), None);
        assert_eq!(parse_date(b""), None);
    }
}
