//! ENABLE (RFC 5161). Known: IMAP4rev2 and UTF8=ACCEPT (both switch mailbox
//! names to UTF-8), CONDSTORE and QRESYNC (RFC 7162; QRESYNC implies
//! CONDSTORE), UIDONLY (RFC 9586). Unknown extensions are ignored, as the RFC requires.

use crate::session::{CmdResult, Done, Session};
use tidemark_imap_proto::{Data, Response};

pub(crate) fn run(s: &mut Session, exts: Vec<String>) -> CmdResult {
    let mut enabled = Vec::new();
    for e in exts {
        let upper = e.to_ascii_uppercase();
        match upper.as_str() {
            "IMAP4REV2" if !s.enabled.imap4rev2 => {
                s.enabled.imap4rev2 = true;
                enabled.push("IMAP4rev2".to_string());
            }
            "UTF8=ACCEPT" if !s.enabled.utf8_accept => {
                s.enabled.utf8_accept = true;
                enabled.push("UTF8=ACCEPT".to_string());
            }
            "CONDSTORE" if !s.enabled.condstore => {
                s.enable_condstore(true);
                enabled.push("CONDSTORE".to_string());
            }
            "QRESYNC" if !s.enabled.qresync => {
                s.enabled.qresync = true;
                s.enable_condstore(true);
                enabled.push("QRESYNC".to_string());
            }
            "UIDONLY" if !s.enabled.uidonly => {
                s.enabled.uidonly = true;
                enabled.push("UIDONLY".to_string());
            }
            _ => {}
        }
    }
    s.send(Response::Data(Data::Enabled(enabled)));
    Ok(Done::ok("ENABLE completed"))
}
