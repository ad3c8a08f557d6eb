//! Header fields of one header block, split the way Dovecot's header parser does:
//! a field is a line plus its continuation lines (lines starting with SP/TAB);
//! the name is everything before the first ':' of the first line (trailing
//! whitespace removed), or the whole line when it has no ':'; the value starts
//! after the ':' with leading whitespace skipped, and continuation lines are
//! joined with a bare LF (CRs dropped), keeping their leading whitespace.

/// One header field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderField<'a> {
    pub name: &'a [u8],
    /// Value: the lines joined with `\n` (no CR).
    pub value: Vec<u8>,
    /// Whole field, from its name to the end of its last line (line end included).
    pub start: usize,
    pub end: usize,
    /// Size of the last line's line end (0, 1 or 2).
    pub newline: usize,
}

fn is_lwsp(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Result of reading at the start of a line inside a header block.
pub enum HeaderLine<'a> {
    /// The blank line ending the header; the position after it.
    End(usize),
    /// End of input with nothing left.
    Eof,
    Field(HeaderField<'a>),
}

/// Reads one field (or the blank line) starting at `pos`, not reading past `limit`.
pub fn next_line(raw: &[u8], pos: usize, limit: usize) -> HeaderLine<'_> {
    let limit = limit.min(raw.len());
    if pos >= limit {
        return HeaderLine::Eof;
    }
    let rest = &raw[pos..limit];
    if rest.first() == Some(&b'\n') {
        return HeaderLine::End(pos + 1);
    }
    if rest.starts_with(b"\r\n") {
        return HeaderLine::End(pos + 2);
    }
    // first line
    let (line_end, next, nl) = line_at(raw, pos, limit);
    let line = &raw[pos..line_end];
    let (name, mut value) = match line.iter().position(|&b| b == b':') {
        Some(c) => {
            let mut n = c;
            while n > 0 && is_lwsp(line[n - 1]) {
                n -= 1;
            }
            let v = &line[c + 1..];
            let mut skip = v.iter().take_while(|&&b| is_lwsp(b)).count();
            if skip == v.len() && !v.is_empty() {
                skip = 1;
            }
            (&line[..n], v[skip..].to_vec())
        }
        None => (line, Vec::new()),
    };
    let mut end = next;
    let mut newline = nl;
    // continuation lines
    while end < limit && nl_ok(newline) && is_lwsp(raw[end]) {
        let (le, nx, n) = line_at(raw, end, limit);
        value.push(b'\n');
        value.extend_from_slice(&raw[end..le]);
        end = nx;
        newline = n;
    }
    HeaderLine::Field(HeaderField {
        name,
        value,
        start: pos,
        end,
        newline,
    })
}

fn nl_ok(n: usize) -> bool {
    n > 0
}

/// (end of line content, start of next line, newline size) for the line at `pos`.
pub fn line_at(raw: &[u8], pos: usize, limit: usize) -> (usize, usize, usize) {
    let slice = &raw[pos..limit];
    match slice.iter().position(|&b| b == b'\n') {
        Some(i) => {
            let lf = pos + i;
            if lf > pos && raw[lf - 1] == b'\r' {
                (lf - 1, lf + 1, 2)
            } else {
                (lf, lf + 1, 1)
            }
        }
        None => (limit, limit, 0),
    }
}

/// All fields of the header block `raw[start..end]` (which may include the blank line).
pub fn header_fields(raw: &[u8], start: usize, end: usize) -> Vec<HeaderField<'_>> {
    let mut out = Vec::new();
    let mut pos = start;
    while let HeaderLine::Field(f) = next_line(raw, pos, end) {
        pos = f.end;
        out.push(f);
    }
    out
}
