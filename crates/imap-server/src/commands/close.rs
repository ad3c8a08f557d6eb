//! CLOSE (RFC 9051 6.4.1): silently expunge (read-write only), then leave
//! the selected state. UNSELECT (RFC 3691): leave without expunging.

use crate::commands::need_selected;
use crate::session::{CmdResult, Done, Session};

pub(crate) async fn run_close(s: &mut Session) -> CmdResult {
    let (account, view) = need_selected(s)?;
    if !view.read_only {
        account.expunge(view.id, None).await?;
    }
    s.deselect();
    Ok(Done::ok("CLOSE completed"))
}

pub(crate) fn run_unselect(s: &mut Session) -> CmdResult {
    need_selected(s)?;
    s.deselect();
    Ok(Done::ok("UNSELECT completed"))
}
