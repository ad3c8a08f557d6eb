//! NAMESPACE (RFC 2342, part of RFC 9051): one personal namespace with the
//! empty prefix and `/` as delimiter; no other or shared namespaces.

use crate::session::{CmdResult, Done, Session};
use tidemark_imap_proto::{Data, Mailbox, NamespaceDesc, Response};

pub(crate) fn run(s: &mut Session) -> CmdResult {
    s.send(Response::Data(Data::Namespace {
        personal: vec![NamespaceDesc {
            prefix: Mailbox::new(Vec::new()),
            delimiter: Some('/'),
        }],
        other: vec![],
        shared: vec![],
    }));
    Ok(Done::ok("NAMESPACE completed"))
}
