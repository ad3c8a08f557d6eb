//! The command grammar: RFC 5321 4.1.1 verbs with RFC 2033's LHLO, the
//! MAIL parameters of SIZE (RFC 1870), 8BITMIME (RFC 6152) and SMTPUTF8
//! (RFC 6531). Verbs and parameter names are case-insensitive.

use crate::Reply;

/// A parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// LHLO with the client's name.
    Lhlo(String),
    /// HELO or EHLO, which LMTP forbids (RFC 2033 4.1).
    HeloOrEhlo,
    /// MAIL FROM: the reverse path (empty for `<>`) and its parameters.
    Mail(String, MailParams),
    /// RCPT TO: the forward path, without angle brackets or source route.
    Rcpt(String),
    Data,
    Rset,
    Noop,
    Quit,
    Vrfy,
    StartTls,
    Help,
}

/// Parameters of MAIL FROM.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailParams {
    /// `SIZE=n`: the client's estimate.
    pub size: Option<u64>,
    /// `BODY=8BITMIME`.
    pub eight_bit: bool,
    /// `SMTPUTF8`.
    pub smtputf8: bool,
}

/// Why a line is not a command; the reply to send.
pub type ParseError = Reply;

fn syntax(text: &str) -> Reply {
    Reply::new(501, (5, 5, 4), text)
}

/// Parses one command line (without its line ending).
pub fn parse_command(line: &[u8]) -> Result<Command, ParseError> {
    let Ok(line) = std::str::from_utf8(line) else {
        return Err(Reply::new(500, (5, 5, 2), "Command is not valid UTF-8"));
    };
    let (verb, rest) = match line.find(' ') {
        Some(i) => (&line[..i], &line[i + 1..]),
        None => (line, ""),
    };
    let verb = verb.to_ascii_uppercase();
    let no_args = |c: Command| {
        if rest.trim().is_empty() {
            Ok(c)
        } else {
            Err(syntax("No arguments allowed"))
        }
    };
    match verb.as_str() {
        "LHLO" => {
            let name = rest.trim();
            if name.is_empty() || name.contains(char::is_whitespace) {
                Err(syntax("Syntax: LHLO hostname"))
            } else {
                Ok(Command::Lhlo(name.to_owned()))
            }
        }
        "HELO" | "EHLO" => Ok(Command::HeloOrEhlo),
        "MAIL" => {
            let rest = strip_prefix_ci(rest, "FROM:")
                .ok_or_else(|| syntax("Syntax: MAIL FROM:<address> [parameters]"))?;
            let (path, params) = path_and_params(rest)?;
            Ok(Command::Mail(path, mail_params(params)?))
        }
        "RCPT" => {
            let rest =
                strip_prefix_ci(rest, "TO:").ok_or_else(|| syntax("Syntax: RCPT TO:<address>"))?;
            let (path, params) = path_and_params(rest)?;
            if path.is_empty() {
                return Err(syntax("Empty recipient address"));
            }
            if let Some(p) = params.split_whitespace().next() {
                return Err(Reply::new(
                    555,
                    (5, 5, 4),
                    format!("Unsupported RCPT parameter {p}"),
                ));
            }
            Ok(Command::Rcpt(path))
        }
        "DATA" => no_args(Command::Data),
        "RSET" => no_args(Command::Rset),
        "QUIT" => no_args(Command::Quit),
        "STARTTLS" => no_args(Command::StartTls),
        // NOOP and HELP may carry a string (RFC 5321 4.1.1.9, 4.1.1.8).
        "NOOP" => Ok(Command::Noop),
        "HELP" => Ok(Command::Help),
        "VRFY" if !rest.trim().is_empty() => Ok(Command::Vrfy),
        "VRFY" => Err(syntax("Syntax: VRFY address")),
        "" => Err(Reply::new(500, (5, 5, 2), "Empty command")),
        _ => Err(Reply::new(500, (5, 5, 2), "Unknown command")),
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// Splits `<path> params`, allowing a space after the colon (as many
/// clients send). Quoted local parts may contain `>` and spaces.
fn path_and_params(s: &str) -> Result<(String, &str), Reply> {
    let s = s.trim_start();
    let Some(body) = s.strip_prefix('<') else {
        return Err(syntax("Address must be in angle brackets"));
    };
    let mut quoted = false;
    let mut escaped = false;
    let mut end = None;
    for (i, c) in body.char_indices() {
        if escaped {
            escaped = false;
        } else if quoted && c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        } else if c == '>' && !quoted {
            end = Some(i);
            break;
        }
    }
    let Some(end) = end else {
        return Err(syntax("Unterminated address"));
    };
    let mut path = &body[..end];
    // A source route (`@a,@b:user@d`) is ignored (RFC 5321 4.1.2, C).
    if path.starts_with('@')
        && let Some(i) = path.find(':')
    {
        path = &path[i + 1..];
    }
    let params = &body[end + 1..];
    if !params.is_empty() && !params.starts_with(' ') {
        return Err(syntax("Expected a space after the address"));
    }
    if path.len() > 512 {
        return Err(Reply::new(501, (5, 1, 3), "Address too long"));
    }
    Ok((path.to_owned(), params))
}

fn mail_params(params: &str) -> Result<MailParams, Reply> {
    let mut p = MailParams::default();
    for item in params.split_whitespace() {
        let (key, value) = match item.find('=') {
            Some(i) => (&item[..i], Some(&item[i + 1..])),
            None => (item, None),
        };
        match (key.to_ascii_uppercase().as_str(), value) {
            ("SIZE", Some(v)) => {
                let n = v
                    .parse::<u64>()
                    .map_err(|_| syntax("SIZE must be a number"))?;
                p.size = Some(n);
            }
            ("BODY", Some(v)) if v.eq_ignore_ascii_case("8BITMIME") => p.eight_bit = true,
            ("BODY", Some(v)) if v.eq_ignore_ascii_case("7BIT") => p.eight_bit = false,
            ("SMTPUTF8", None) => p.smtputf8 = true,
            _ => {
                return Err(Reply::new(
                    555,
                    (5, 5, 4),
                    format!("Unsupported MAIL parameter {item}"),
                ));
            }
        }
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> Command {
        parse_command(s.as_bytes()).unwrap_or_else(|e| panic!("{s}: {e:?}"))
    }
    fn err(s: &str) -> u16 {
        parse_command(s.as_bytes()).unwrap_err().code
    }

    #[test]
    fn commands() {
        assert_eq!(
            ok("LHLO mx.example.org"),
            Command::Lhlo("mx.example.org".into())
        );
        assert_eq!(ok("lhlo [127.0.0.1]"), Command::Lhlo("[127.0.0.1]".into()));
        assert_eq!(ok("EHLO x"), Command::HeloOrEhlo);
        assert_eq!(
            ok("MAIL FROM:<a@b.c> SIZE=1000 BODY=8BITMIME"),
            Command::Mail(
                "a@b.c".into(),
                MailParams {
                    size: Some(1000),
                    eight_bit: true,
                    smtputf8: false
                }
            )
        );
        assert_eq!(
            ok("mail from: <>"),
            Command::Mail(String::new(), MailParams::default())
        );
        assert_eq!(
            ok("MAIL FROM:<\"odd > name\"@x> SMTPUTF8"),
            Command::Mail(
                "\"odd > name\"@x".into(),
                MailParams {
                    smtputf8: true,
                    ..Default::default()
                }
            )
        );
        assert_eq!(
            ok("RCPT TO:<alice@example.org>"),
            Command::Rcpt("alice@example.org".into())
        );
        assert_eq!(
            ok("RCPT TO:<@relay.example:bob@x>"),
            Command::Rcpt("bob@x".into())
        );
        assert_eq!(ok("data"), Command::Data);
        assert_eq!(ok("NOOP whatever"), Command::Noop);
        assert_eq!(ok("QUIT"), Command::Quit);
        assert_eq!(ok("STARTTLS"), Command::StartTls);
    }

    #[test]
    fn errors() {
        assert_eq!(err("LHLO"), 501);
        assert_eq!(err("MAIL TO:<a>"), 501);
        assert_eq!(err("MAIL FROM:a@b"), 501);
        assert_eq!(err("MAIL FROM:<a@b"), 501);
        assert_eq!(err("MAIL FROM:<a@b>SIZE=1"), 501);
        assert_eq!(err("MAIL FROM:<a@b> SIZE=x"), 501);
        assert_eq!(err("MAIL FROM:<a@b> RET=FULL"), 555);
        assert_eq!(err("MAIL FROM:<a@b> BODY=BINARYMIME"), 555);
        assert_eq!(err("RCPT TO:<>"), 501);
        assert_eq!(err("RCPT TO:<a@b> NOTIFY=NEVER"), 555);
        assert_eq!(err("DATA now"), 501);
        assert_eq!(err("BDAT 10"), 500);
        assert_eq!(err(""), 500);
        assert_eq!(parse_command(b"\xff\xfe").unwrap_err().code, 500);
        let long = format!("RCPT TO:<{}@x>", "a".repeat(600));
        assert_eq!(
            parse_command(long.as_bytes()).unwrap_err().status,
            Some((5, 1, 3))
        );
    }
}
