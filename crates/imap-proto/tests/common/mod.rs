#![allow(dead_code)]
use tidemark_imap_proto::*;

/// Drives a decoder over `input`, accepting every literal, in chunks of `chunk` bytes.
pub fn run_chunked(input: &[u8], chunk: usize, limits: Limits) -> Vec<Event> {
    let mut d = CommandDecoder::new(limits);
    let mut out = Vec::new();
    for piece in input.chunks(chunk.max(1)) {
        d.feed(piece);
        drain(&mut d, &mut out);
    }
    out
}

pub fn drain(d: &mut CommandDecoder, out: &mut Vec<Event>) {
    for _ in 0..100_000 {
        match d.next() {
            Event::NeedMoreInput => return,
            ev @ Event::LiteralRequest { .. } => {
                d.accept_literal();
                // Only record each request once.
                if out.last() != Some(&ev) {
                    out.push(ev);
                }
            }
            ev => out.push(ev),
        }
    }
    panic!("decoder did not settle");
}

/// Events for `input` fed whole; asserts byte-at-a-time feeding gives the same events.
pub fn events(input: &[u8]) -> Vec<Event> {
    events_with(input, Limits::default())
}

pub fn events_with(input: &[u8], limits: Limits) -> Vec<Event> {
    let whole = run_chunked(input, input.len().max(1), limits);
    let bytewise = run_chunked(input, 1, limits);
    assert_eq!(
        whole,
        bytewise,
        "split feeding differs for {:?}",
        String::from_utf8_lossy(input)
    );
    let odd = run_chunked(input, 7, limits);
    assert_eq!(whole, odd, "7-byte feeding differs");
    whole
}

/// The single command in `line`; panics on anything else.
pub fn cmd(line: &str) -> Command {
    let evs: Vec<Event> = events(line.as_bytes())
        .into_iter()
        .filter(|e| !matches!(e, Event::LiteralRequest { .. }))
        .collect();
    match evs.as_slice() {
        [Event::Command(c)] => c.clone(),
        other => panic!("{line:?} gave {other:?}"),
    }
}

pub fn body(line: &str) -> CommandBody {
    cmd(line).body
}

/// The single error for `line`.
pub fn err(line: &str) -> DecodeError {
    let evs: Vec<Event> = events(line.as_bytes())
        .into_iter()
        .filter(|e| !matches!(e, Event::LiteralRequest { .. }))
        .collect();
    match evs.as_slice() {
        [Event::Error(e)] => e.clone(),
        other => panic!("{line:?} gave {other:?}"),
    }
}
