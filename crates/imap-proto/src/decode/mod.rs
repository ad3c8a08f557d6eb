//! Incremental, sans-io command decoder.
//!
//! # Loop contract
//!
//! ```text
//! decoder.feed(bytes_from_socket);
//! loop {
//!     match decoder.next() {
//!         Event::NeedMoreInput => break,                 // read more from the socket
//!         Event::Command(cmd) => { /* execute */ }
//!         Event::LiteralRequest { .. } => {              // synchronising literal {n}
//!             decoder.accept_literal();                  // and send "+ Ready"
//!             // or decoder.reject_literal();            // and send tagged NO/BAD
//!         }
//!         Event::IdleDone | Event::AuthResponse(_) => {} // only after expect_idle_done()/expect_auth_line()
//!         Event::Error(e) => { /* tagged BAD if e.tag, else untagged BAD; map e.kind to a code */ }
//!     }
//! }
//! ```
//!
//! The decoder frames a command (its lines and literals) first, checking every limit before it
//! buffers anything, then parses the complete frame from one `&[u8]`. It only ever consumes one
//! command per [`CommandDecoder::next`] call, so after STARTTLS or COMPRESS the bytes that follow
//! are still in the buffer ([`CommandDecoder::clear_buffer`], [`CommandDecoder::take_buffered`]).

mod command;
mod fetch;
mod parser;
mod search;

use crate::types::{Code, Command, Secret, Tag};

/// Limits applied while framing. All are checked before buffering the bytes they refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest line, excluding literal data (default 64 KiB).
    pub max_line: usize,
    /// Largest literal (default 64 MiB); also the APPENDLIMIT.
    pub max_literal: u64,
    /// Largest command: all lines and literals (default 64 MiB + 64 KiB).
    pub max_command: u64,
    /// Deepest parenthesis nesting in search keys and other lists (default 64).
    pub max_depth: usize,
    /// LITERAL- (RFC 7888): non-synchronising literals above 4096 bytes are refused.
    pub literal_minus: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line: 64 * 1024,
            max_literal: 64 * 1024 * 1024,
            max_command: 64 * 1024 * 1024 + 64 * 1024,
            max_depth: 64,
            literal_minus: false,
        }
    }
}

/// What went wrong; the caller maps it to a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Grammar violation: answer `BAD`.
    Syntax,
    /// Well-formed but unknown command name: answer `BAD`.
    UnknownCommand,
    /// A line exceeded [`Limits::max_line`]: `BAD [LIMIT]` (or BYE).
    LineTooLong,
    /// A literal exceeded [`Limits::max_literal`]: `NO [TOOBIG]` (RFC 7889) or `BAD [TOOBIG]`.
    LiteralTooBig,
    /// A command exceeded [`Limits::max_command`]: `BAD [TOOBIG]`.
    CommandTooBig,
    /// A `{n+}` literal over 4096 bytes under LITERAL- (RFC 7888): `BAD [TOOBIG]`.
    NonSyncLiteralTooBig,
    /// Nesting deeper than [`Limits::max_depth`]: `BAD [LIMIT]`.
    TooDeep,
    /// In IDLE, the line was not `DONE`: `BAD`, IDLE is over.
    ExpectedDone,
}

impl ErrorKind {
    /// The response code that fits this error.
    pub fn code(self) -> Option<Code> {
        match self {
            ErrorKind::Syntax | ErrorKind::UnknownCommand | ErrorKind::ExpectedDone => None,
            ErrorKind::LineTooLong | ErrorKind::TooDeep => Some(Code::Limit),
            ErrorKind::LiteralTooBig
            | ErrorKind::CommandTooBig
            | ErrorKind::NonSyncLiteralTooBig => Some(Code::TooBig),
        }
    }
}

/// A decode error: answer with a tagged `BAD`/`NO` when `tag` is known, else an untagged `BAD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub tag: Option<Tag>,
    pub kind: ErrorKind,
    /// Human-readable, e.g. "Missing argument: mailbox".
    pub text: String,
}

/// A line read after [`CommandDecoder::expect_auth_line`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthResponse {
    /// `*`: the client cancels the exchange.
    Cancel,
    /// The raw line (base64 text, not decoded), without the line ending.
    Data(Secret),
}

/// Output of [`CommandDecoder::next`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Command(Command),
    /// Nothing complete is buffered; feed more bytes.
    NeedMoreInput,
    /// A synchronising literal `{len}` (or `~{len}` when `binary`) was announced. Call
    /// [`CommandDecoder::accept_literal`] (and send a continuation) or
    /// [`CommandDecoder::reject_literal`] (and send a tagged NO/BAD). Until then `next` repeats
    /// this event.
    LiteralRequest {
        tag: Tag,
        len: u64,
        binary: bool,
    },
    /// `DONE` after [`CommandDecoder::expect_idle_done`].
    IdleDone,
    /// The line after [`CommandDecoder::expect_auth_line`].
    AuthResponse(AuthResponse),
    Error(DecodeError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Command,
    IdleDone,
    AuthLine,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Reading a line starting at `scan`.
    Line,
    /// A synchronising literal was announced; waiting for the caller.
    AwaitDecision { tag: Tag, len: u64, binary: bool },
    /// Waiting until the buffer holds everything up to `end` (absolute offset).
    Literal { end: usize },
    /// Dropping `n` more literal bytes of a refused command, then the rest of it.
    SkipLiteral { n: u64 },
    /// Dropping the remaining lines of a refused command.
    DiscardCommand,
    /// Dropping everything up to the next LF.
    DiscardLine,
}

/// The incremental command decoder. See the module docs for the loop contract.
#[derive(Debug)]
pub struct CommandDecoder {
    buf: Vec<u8>,
    /// Start of the current command in `buf`.
    start: usize,
    /// Start of the current line in `buf`.
    scan: usize,
    /// Offset from which to look for the next LF (avoids rescanning on tiny feeds).
    lf_from: usize,
    state: State,
    mode: Mode,
    limits: Limits,
}

impl Default for CommandDecoder {
    fn default() -> Self {
        CommandDecoder::new(Limits::default())
    }
}

/// A literal announcement at the end of a line: `["~"] "{" number64 ["+"] "}"`.
struct Announcement {
    len: Option<u64>,
    non_sync: bool,
    binary: bool,
}

/// Recognises a literal announcement at the end of `line` (line ending already removed).
fn announcement(line: &[u8]) -> Option<Announcement> {
    let body = line.strip_suffix(b"}")?;
    let open = body.iter().rposition(|&b| b == b'{')?;
    let inner = body.get(open + 1..)?;
    let (digits, non_sync) = match inner.strip_suffix(b"+") {
        Some(d) => (d, true),
        None => (inner, false),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let len = digits.iter().try_fold(0u64, |acc, &d| {
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    });
    let binary = open > 0 && body.get(open - 1) == Some(&b'~');
    Some(Announcement {
        len,
        non_sync,
        binary,
    })
}

/// The tag at the start of a line, if it is a valid tag followed by SP or the line end.
fn line_tag(line: &[u8]) -> Option<Tag> {
    let end = line.iter().position(|&b| b == b' ').unwrap_or(line.len());
    let raw = line.get(..end)?;
    Tag::new(std::str::from_utf8(raw).ok()?)
}

fn strip_eol(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

impl CommandDecoder {
    pub fn new(limits: Limits) -> Self {
        CommandDecoder {
            buf: Vec::new(),
            start: 0,
            scan: 0,
            lf_from: 0,
            state: State::Line,
            mode: Mode::Command,
            limits,
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Changes the literal limit (e.g. after login, to the user's APPENDLIMIT).
    pub fn set_max_literal(&mut self, max: u64) {
        self.limits.max_literal = max;
    }

    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// Part of a command is buffered (a line without its end, or a
    /// literal still arriving).
    pub fn mid_command(&self) -> bool {
        self.start < self.buf.len() || !matches!(self.state, State::Line)
    }

    /// Appends bytes read from the network.
    pub fn feed(&mut self, data: &[u8]) {
        self.compact();
        self.buf.extend_from_slice(data);
    }

    /// The next line must be `DONE` (case-insensitive); it yields [`Event::IdleDone`].
    pub fn expect_idle_done(&mut self) {
        self.mode = Mode::IdleDone;
    }

    /// The next line is a SASL response or `*`; it yields [`Event::AuthResponse`].
    pub fn expect_auth_line(&mut self) {
        self.mode = Mode::AuthLine;
    }

    /// Accepts the pending synchronising literal: the caller sends `+ ...` to the client.
    pub fn accept_literal(&mut self) {
        if let State::AwaitDecision { len, .. } = self.state {
            let end = usize::try_from(len)
                .ok()
                .and_then(|l| self.scan.checked_add(l));
            self.state = match end {
                Some(end) => State::Literal { end },
                None => State::DiscardLine,
            };
        }
    }

    /// Refuses the pending synchronising literal: the caller answers with a tagged NO/BAD and the
    /// decoder drops the command (the client sends no literal data).
    pub fn reject_literal(&mut self) {
        if let State::AwaitDecision { .. } = self.state {
            self.start = self.scan;
            self.state = State::Line;
        }
    }

    /// Removes and returns every byte not yet consumed (for the inflater after COMPRESS).
    /// Call it right after the COMPRESS command event, before calling `next` again.
    pub fn take_buffered(&mut self) -> Vec<u8> {
        let rest = self.buf.split_off(self.start.min(self.buf.len()));
        self.reset();
        rest
    }

    /// Drops every buffered byte (after STARTTLS: plaintext injected before the handshake).
    pub fn clear_buffer(&mut self) {
        self.buf.clear();
        self.reset();
    }

    /// Takes the bytes buffered after the last complete command and empties
    /// the buffer (after COMPRESS: they are already compressed).
    pub fn take_buffer(&mut self) -> Vec<u8> {
        let rest = self.buf.get(self.start..).unwrap_or_default().to_vec();
        self.reset();
        rest
    }

    fn reset(&mut self) {
        self.buf.clear();
        self.start = 0;
        self.scan = 0;
        self.lf_from = 0;
        self.state = State::Line;
    }

    /// Drops consumed bytes from the front of the buffer.
    fn compact(&mut self) {
        if self.start == 0 {
            return;
        }
        let n = self.start;
        self.buf.drain(..n);
        self.start = 0;
        self.scan -= n;
        self.lf_from = self.lf_from.saturating_sub(n);
        if let State::Literal { end } = &mut self.state {
            *end -= n;
        }
    }

    /// Finds the LF ending the line that starts at `scan`.
    fn find_lf(&mut self) -> Option<usize> {
        let from = self.lf_from.max(self.scan);
        match self
            .buf
            .get(from..)
            .and_then(|s| s.iter().position(|&b| b == b'\n'))
        {
            Some(i) => Some(from + i),
            None => {
                self.lf_from = self.buf.len();
                None
            }
        }
    }

    fn error(tag: Option<Tag>, kind: ErrorKind, text: impl Into<String>) -> Event {
        Event::Error(DecodeError {
            tag,
            kind,
            text: text.into(),
        })
    }

    /// Produces the next event. See the module docs.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Event {
        loop {
            match self.state {
                State::AwaitDecision {
                    ref tag,
                    len,
                    binary,
                } => {
                    return Event::LiteralRequest {
                        tag: tag.clone(),
                        len,
                        binary,
                    };
                }
                State::Literal { end } => {
                    if self.buf.len() < end {
                        return Event::NeedMoreInput;
                    }
                    self.scan = end;
                    self.lf_from = end;
                    self.state = State::Line;
                }
                State::SkipLiteral { n } => {
                    let avail = self.buf.len() - self.scan;
                    let take = usize::try_from(n).unwrap_or(usize::MAX).min(avail);
                    self.buf.drain(self.scan..self.scan + take);
                    if n - take as u64 > 0 {
                        self.state = State::SkipLiteral { n: n - take as u64 };
                        return Event::NeedMoreInput;
                    }
                    self.state = State::DiscardCommand;
                }
                State::DiscardLine => {
                    let Some(lf) = self.find_lf() else {
                        // Nothing to keep: drop what we have.
                        self.buf.truncate(self.scan);
                        self.lf_from = self.scan;
                        return Event::NeedMoreInput;
                    };
                    self.consume_to(lf + 1);
                    self.state = State::Line;
                }
                State::DiscardCommand => {
                    let Some(lf) = self.find_lf() else {
                        self.buf.truncate(self.scan);
                        self.lf_from = self.scan;
                        return Event::NeedMoreInput;
                    };
                    let line = strip_eol(self.buf.get(self.scan..lf).unwrap_or_default());
                    let next = match announcement(line) {
                        Some(Announcement {
                            len: Some(n),
                            non_sync: true,
                            ..
                        }) => State::SkipLiteral { n },
                        _ => State::Line,
                    };
                    self.consume_to(lf + 1);
                    self.state = next;
                }
                State::Line => {
                    if let Some(ev) = self.line() {
                        return ev;
                    }
                }
            }
        }
    }

    /// Marks everything before `pos` as consumed and starts a new command there.
    fn consume_to(&mut self, pos: usize) {
        self.start = pos;
        self.scan = pos;
        self.lf_from = pos;
    }

    /// Handles one line in `State::Line`. `None` means "keep looping".
    fn line(&mut self) -> Option<Event> {
        let Some(lf) = self.find_lf() else {
            if self.buf.len() - self.scan > self.limits.max_line {
                let tag = line_tag(self.buf.get(self.start..).unwrap_or_default());
                self.state = State::DiscardLine;
                self.buf.truncate(self.scan);
                self.lf_from = self.scan;
                return Some(Self::error(tag, ErrorKind::LineTooLong, "Line too long"));
            }
            return Some(Event::NeedMoreInput);
        };
        let line = strip_eol(self.buf.get(self.scan..lf).unwrap_or_default());
        let first_line = self.scan == self.start;

        match self.mode {
            Mode::Command => {}
            Mode::IdleDone => {
                self.mode = Mode::Command;
                let done = line.eq_ignore_ascii_case(b"DONE");
                self.consume_to(lf + 1);
                return Some(if done {
                    Event::IdleDone
                } else {
                    Self::error(None, ErrorKind::ExpectedDone, "Expected DONE")
                });
            }
            Mode::AuthLine => {
                self.mode = Mode::Command;
                let ev = if line == b"*" {
                    AuthResponse::Cancel
                } else {
                    AuthResponse::Data(Secret::new(line.to_vec()))
                };
                self.consume_to(lf + 1);
                return Some(Event::AuthResponse(ev));
            }
        }

        if first_line && line.is_empty() {
            self.consume_to(lf + 1); // tolerate empty lines between commands
            return None;
        }
        let tag = line_tag(self.buf.get(self.start..).unwrap_or_default());
        let ann = announcement(line);
        let non_sync = matches!(ann, Some(Announcement { non_sync: true, .. }));
        let line_len = line.len();
        let frame_len = (lf + 1 - self.start) as u64;

        let on_fail = match ann {
            Some(Announcement {
                len: Some(n),
                non_sync: true,
                ..
            }) => State::SkipLiteral { n },
            Some(Announcement {
                len: None,
                non_sync: true,
                ..
            }) => State::DiscardLine,
            _ => State::Line,
        };
        let fail = |me: &mut Self, kind: ErrorKind, text: String| {
            me.consume_to(lf + 1);
            me.state = on_fail.clone();
            Some(Self::error(tag.clone(), kind, text))
        };

        if line_len > self.limits.max_line {
            return fail(self, ErrorKind::LineTooLong, "Line too long".into());
        }
        if frame_len > self.limits.max_command {
            return fail(self, ErrorKind::CommandTooBig, "Command too big".into());
        }
        let Some(ann) = ann else {
            // The command is complete: parse it.
            let frame = self.buf.get(self.start..=lf).unwrap_or_default();
            let result = command::parse_command(frame, &self.limits);
            self.consume_to(lf + 1);
            return Some(match result {
                Ok(cmd) => Event::Command(cmd),
                Err(e) => Self::error(e.tag.or(tag), e.kind, e.text),
            });
        };
        if first_line && let Err(e) = command::precheck(line) {
            return fail(self, e.kind, e.text);
        }
        let Some(cmd_tag) = tag.clone() else {
            return fail(self, ErrorKind::Syntax, "Invalid tag".into());
        };
        let Some(len) = ann.len else {
            return fail(self, ErrorKind::LiteralTooBig, "Literal too big".into());
        };
        if len > self.limits.max_literal {
            return fail(
                self,
                ErrorKind::LiteralTooBig,
                format!("Literal too big (limit {})", self.limits.max_literal),
            );
        }
        if frame_len.saturating_add(len) > self.limits.max_command {
            return fail(self, ErrorKind::CommandTooBig, "Command too big".into());
        }
        if non_sync && self.limits.literal_minus && len > 4096 {
            return fail(
                self,
                ErrorKind::NonSyncLiteralTooBig,
                "Non-synchronizing literal over 4096 bytes (LITERAL-)".into(),
            );
        }
        self.scan = lf + 1;
        self.lf_from = lf + 1;
        if non_sync {
            // Checked above: len <= max_literal, which fits in memory by configuration.
            self.state = match usize::try_from(len)
                .ok()
                .and_then(|l| self.scan.checked_add(l))
            {
                Some(end) => State::Literal { end },
                None => State::DiscardLine,
            };
            None
        } else {
            self.state = State::AwaitDecision {
                tag: cmd_tag,
                len,
                binary: ann.binary,
            };
            None
        }
    }
}
