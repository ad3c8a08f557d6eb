//! Feeds arbitrary bytes in varying chunk sizes to the command decoder, accepting every literal,
//! and encodes responses derived from the events. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tidemark_imap_proto::*;

fuzz_target!(|data: &[u8]| {
    let Some((&seed, rest)) = data.split_first() else { return };
    let limits = Limits { max_line: 4096, max_literal: 1 << 16, max_command: 1 << 17, max_depth: 16, literal_minus: seed & 1 == 1 };
    let mut d = CommandDecoder::new(limits);
    let mut out = Vec::new();
    let opts = EncodeOptions { utf8: seed & 2 == 2, mailbox: if seed & 4 == 4 { MailboxEncoding::Utf7 } else { MailboxEncoding::Raw } };
    let mut chunk = usize::from(seed >> 3) + 1;
    let mut input = rest;
    while !input.is_empty() {
        let n = chunk.min(input.len());
        let (piece, tail) = input.split_at(n);
        input = tail;
        chunk = chunk * 7 % 61 + 1;
        d.feed(piece);
        for _ in 0..10_000 {
            match d.next() {
                Event::NeedMoreInput => break,
                Event::LiteralRequest { tag, .. } => {
                    d.accept_literal();
                    let r = Response::Continuation(Continuation::Text(format!("Ready for {tag}")));
                    encode_response(&r, &mut out, &opts);
                }
                Event::Command(cmd) => {
                    respond(&cmd, &mut out, &opts);
                    match cmd.body {
                        CommandBody::Idle => d.expect_idle_done(),
                        CommandBody::Authenticate { .. } => d.expect_auth_line(),
                        CommandBody::Compress { .. } => {
                            let _ = d.take_buffered();
                        }
                        _ => {}
                    }
                }
                Event::Error(e) => {
                    let r = Response::Status(StatusResponse { tag: e.tag, kind: StatusKind::Bad, code: e.kind.code(), text: e.text });
                    encode_response(&r, &mut out, &opts);
                }
                Event::IdleDone | Event::AuthResponse(_) => {}
            }
        }
        out.clear();
    }
});

fn respond(cmd: &Command, out: &mut Vec<u8>, opts: &EncodeOptions) {
    let data = match &cmd.body {
        CommandBody::Select { mailbox, .. } | CommandBody::Delete(mailbox) | CommandBody::Create { mailbox, .. } => {
            Data::List(ListData { attributes: vec![MailboxAttr::HasNoChildren], delimiter: Some('/'), mailbox: mailbox.clone(), extended: vec![ListExtendedItem::OldName(mailbox.clone())] })
        }
        CommandBody::Status { mailbox, items } => Data::Status {
            mailbox: mailbox.clone(),
            items: items.iter().map(|_| StatusValue::Messages(1)).collect(),
        },
        CommandBody::Fetch { set, .. } => Data::Vanished { earlier: true, uids: set.clone() },
        CommandBody::Append { messages, .. } => Data::Fetch {
            seq: 1,
            items: messages
                .iter()
                .map(|m| FetchItem::Binary { part: vec![1], origin: None, data: Some(m.data.clone()) })
                .chain(messages.iter().filter_map(|m| m.date).map(FetchItem::InternalDate))
                .chain(messages.iter().map(|m| FetchItem::Flags(m.flags.clone())))
                .collect(),
        },
        CommandBody::Id(Some(params)) => Data::Id(Some(params.clone())),
        CommandBody::Enable(caps) => Data::Enabled(caps.clone()),
        _ => Data::Exists(0),
    };
    encode_response(&Response::Data(data), out, opts);
    let done = Response::Status(StatusResponse::tagged(cmd.tag.clone(), StatusKind::Ok, None, cmd.body.name()));
    encode_response(&done, out, opts);
}
