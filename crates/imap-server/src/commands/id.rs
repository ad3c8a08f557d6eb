//! ID (RFC 2971): the server identifies itself; the client's values are
//! only logged.

use crate::session::{CmdResult, Done, Session};
use tidemark_imap_proto::{Data, Response};

pub(crate) fn run(s: &mut Session) -> CmdResult {
    s.send(Response::Data(Data::Id(Some(vec![
        ("name".into(), Some("tidemark".into())),
        ("version".into(), Some(env!("CARGO_PKG_VERSION").into())),
    ]))));
    Ok(Done::ok("ID completed"))
}
