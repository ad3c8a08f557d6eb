//! One IMAP connection's session: the four states of RFC 9051 3, the input
//! loop over the sans-io decoder, dispatch through the command table, and
//! the mailbox sync that turns store changes into untagged responses.
//!
//! ```text
//!            +--------------------+
//!            | Not Authenticated  |--LOGIN/AUTHENTICATE--+
//!            +--------------------+                      v
//!                     ^                     +---------------+  SELECT   +----------+
//!                     | UNAUTHENTICATE      | Authenticated |---------->| Selected |
//!                     +---------------------+---------------+<----------+----------+
//!                                                             CLOSE/UNSELECT
//!   any state --LOGOUT--> Logout
//! ```
//!
//! Commands of one connection run strictly in order: `handle_input` decodes
//! and runs each complete command before looking at the next.

use crate::command_table::{self, States};
use crate::commands;
use crate::error::CommandError;
use crate::selected::{SelectedMailbox, ViewEvent};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tidemark_imap_proto::{
    Code, Command, CommandDecoder, Continuation, Data, EncodeOptions, Event, FetchItem, Limits,
    MailboxEncoding, Response, StatusKind, StatusResponse, Tag, encode_response,
};
use tidemark_store::{Account, ChangeNotice, ModSeq, Store};

/// Server-wide settings a session needs.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Shown in the greeting.
    pub hostname: String,
    /// Allow LOGIN/AUTHENTICATE on plaintext, non-loopback connections.
    pub allow_plaintext_auth: bool,
    /// A TLS acceptor exists, so STARTTLS can be offered.
    pub starttls_available: bool,
    /// Largest literal (APPENDLIMIT).
    pub max_literal: u64,
    /// Longest command line outside literals.
    pub max_line: usize,
    /// Delay before answering a failed authentication.
    pub auth_failure_delay: Duration,
    /// Failed-authentication throttling.
    pub throttle: crate::throttle::ThrottleConfig,
    /// Sessions per account at once; 0: no limit.
    pub max_sessions_per_account: usize,
    /// Server secret for SCRAM decoys (unknown users get a salt derived
    /// from it and their name). Keep it stable across restarts, or the
    /// salt of an unknown name changes while a real user's does not.
    pub sasl_secret: [u8; 32],
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            hostname: "localhost".into(),
            allow_plaintext_auth: false,
            starttls_available: true,
            max_literal: 64 * 1024 * 1024,
            max_line: 64 * 1024,
            auth_failure_delay: Duration::from_secs(1),
            sasl_secret: rand::random(),
            throttle: crate::throttle::ThrottleConfig::default(),
            max_sessions_per_account: 100,
        }
    }
}

/// Checks OAuth 2.0 bearer tokens for OAUTHBEARER and XOAUTH2: gives the
/// account a valid token is for, or why it is refused (logged, never sent).
pub trait TokenValidator: Send + Sync {
    fn validate(&self, token: &str) -> Result<String, String>;
}

/// What the whole server shares with each session.
pub struct ServerContext {
    pub store: Arc<dyn Store>,
    pub config: SessionConfig,
    /// Offers OAUTHBEARER and XOAUTH2 when set.
    pub oauth: Option<Arc<dyn TokenValidator>>,
    pub(crate) throttle: crate::throttle::AuthThrottle,
    /// Open sessions per account name.
    pub(crate) sessions: std::sync::Mutex<std::collections::HashMap<String, usize>>,
    /// Where password verification runs (bounded memory and CPU).
    pub(crate) hashing: crate::password::HashPool,
    /// Told about commands, failed authentications and logins (metrics).
    pub observer: Option<Arc<dyn crate::SessionObserver>>,
}

impl ServerContext {
    /// A context over `store` with `config`.
    pub fn new(store: Arc<dyn Store>, config: SessionConfig) -> ServerContext {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        ServerContext {
            store,
            throttle: crate::throttle::AuthThrottle::new(config.throttle),
            sessions: std::sync::Mutex::new(std::collections::HashMap::new()),
            config,
            oauth: None,
            hashing: crate::password::HashPool::new(cores),
            observer: None,
        }
    }

    /// Whether `pw` is `user`'s password, checked as LOGIN checks it: an
    /// address over its failure limit fails without a check, unknown and
    /// implausible names cost the same hashing time as real ones.
    pub async fn verify_password(&self, peer: IpAddr, user: &str, pw: &str) -> bool {
        if self.throttle.ip_blocked(peer) {
            return false;
        }
        // Implausible names are never looked up, but cost the same time.
        let credential = if crate::commands::login::plausible_user(user) {
            self.store.credential(user).await.ok().flatten()
        } else {
            None
        };
        self.hashing.verify(credential, pw.to_string()).await
    }

    /// A failed authentication from `peer` (as `user`, when one was named,
    /// with `mechanism`): counted by the throttle, logged, reported to the
    /// observer, and returned after the configured delay (longer for a name
    /// that failed too often), the same for every cause.
    pub async fn authentication_failed(&self, peer: IpAddr, user: Option<&str>, mechanism: &str) {
        let extra = self.throttle.failed(peer, user);
        tracing::info!(peer = %peer, mechanism, "authentication failed");
        if let Some(o) = &self.observer {
            o.auth_failed(mechanism);
        }
        tokio::time::sleep(self.config.auth_failure_delay + extra).await;
    }

    /// LOGIN's whole check for a client at `peer` that is not an IMAP
    /// session (the nginx `auth_http` endpoint): true when the password is
    /// right; otherwise the failure is counted and delayed as for LOGIN.
    pub async fn check_login(&self, peer: IpAddr, user: &str, pw: &str, mechanism: &str) -> bool {
        if self.verify_password(peer, user, pw).await {
            return true;
        }
        self.authentication_failed(peer, Some(user), mechanism)
            .await;
        false
    }
}

/// Facts about the transport.
#[derive(Debug, Clone)]
pub struct ConnInfo {
    pub peer: SocketAddr,
    /// TLS is active (IMAPS, or after STARTTLS).
    pub tls: bool,
    /// The `tls-exporter` channel binding (RFC 9266) of a TLS 1.3
    /// connection; offers SCRAM-SHA-256-PLUS.
    pub channel_binding: Option<Vec<u8>>,
    /// COMPRESS=DEFLATE is active.
    pub compressed: bool,
}

impl ConnInfo {
    /// A connection from `peer`; `tls` when it starts with TLS (the channel
    /// binding comes with [`Session::tls_started`]).
    pub fn new(peer: SocketAddr, tls: bool) -> ConnInfo {
        ConnInfo {
            peer,
            tls,
            channel_binding: None,
            compressed: false,
        }
    }

    /// Authentication may happen: TLS, or a loopback peer (treated as
    /// secured, as Dovecot does; a local proxy relies on it).
    pub fn secured(&self) -> bool {
        self.tls || self.peer.ip().is_loopback()
    }
}

/// What the network layer must do after [`Session::handle_input`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Keep reading.
    Continue,
    /// Write the output, then start TLS on the stream and call
    /// [`Session::tls_started`].
    StartTls,
    /// Write the output, then compress both directions with DEFLATE
    /// (RFC 4978); the bytes from [`Session::take_compressed_input`] are the
    /// first compressed input.
    Compress,
    /// Write the output, then close.
    Close,
}

/// Before authentication a client can make the server hold only a small
/// command: 24 KiB lines (AUTHENTICATE with a large OAuth token), 8 KiB
/// literals (LITERAL+ included), 32 KiB in all. 1,000 anonymous
/// connections then cost at most ~32 MiB of buffered input.
const PRE_AUTH_LIMITS: Limits = Limits {
    max_line: 24 * 1024,
    max_literal: 8 * 1024,
    max_command: 32 * 1024,
    max_depth: 16,
    literal_minus: false,
};

/// The session state (RFC 9051 3).
pub(crate) enum State {
    NotAuthenticated,
    Authenticated(Arc<dyn Account>),
    Selected(Arc<dyn Account>, SelectedMailbox),
    Logout,
}

/// Extensions the client turned on with ENABLE.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Enabled {
    pub imap4rev2: bool,
    pub utf8_accept: bool,
    /// RFC 7162 3.1: by ENABLE or any "CONDSTORE enabling command". Flag
    /// changes are then reported with UID and MODSEQ, and SELECT announces
    /// HIGHESTMODSEQ.
    pub condstore: bool,
    /// RFC 7162 3.2: by ENABLE QRESYNC only (implies `condstore`). Removals
    /// are then reported as VANISHED instead of EXPUNGE.
    pub qresync: bool,
    /// RFC 9586 by ENABLE UIDONLY: message numbers are refused in commands
    /// and never sent: FETCH becomes UIDFETCH, EXPUNGE becomes VANISHED.
    pub uidonly: bool,
}

/// A multi-step command waiting for client input.
pub(crate) enum Pending {
    None,
    /// AUTHENTICATE sent a continuation; the next line is the response.
    Authenticate {
        tag: Tag,
        step: crate::commands::authenticate::Step,
    },
    /// IDLE is running.
    Idle {
        tag: Tag,
    },
}

/// One connection's session.
pub struct Session {
    pub(crate) ctx: Arc<ServerContext>,
    pub(crate) conn: ConnInfo,
    pub(crate) decoder: CommandDecoder,
    pub(crate) state: State,
    pub(crate) enabled: Enabled,
    pub(crate) pending: Pending,
    pub(crate) out: Vec<u8>,
    /// Set by commands that end the connection or switch transports.
    pub(crate) outcome: Outcome,
    /// Change feed of the authenticated account.
    pub(crate) watch: Option<tokio::sync::broadcast::Receiver<ChangeNotice>>,
    /// NOTIFY settings (RFC 5465); `None`: NOTIFY NONE.
    pub(crate) notify: Option<crate::commands::notify::NotifyState>,
    greeted: bool,
    created: std::time::Instant,
    /// The account whose session count this session holds.
    counted_as: Option<String>,
    /// Where output goes while a command runs, once it is large (see
    /// [`Session::set_output_sink`]).
    sink: Option<tokio::sync::mpsc::Sender<Vec<u8>>>,
    /// The command being run (name, start) until its tagged answer.
    running: Option<(&'static str, std::time::Instant)>,
    /// The mechanism of the authentication under way (`LOGIN`, `PLAIN`,
    /// ...), for the observer.
    pub(crate) auth_mechanism: &'static str,
}

/// Output buffered past this while a command runs goes to the sink.
const FLUSH_AT: usize = 256 * 1024;

impl Drop for Session {
    fn drop(&mut self) {
        self.release_account_slot();
    }
}

/// Result of a command handler: the text (and code) of its tagged OK.
pub(crate) struct Done {
    pub code: Option<Code>,
    pub text: String,
}

impl Done {
    pub fn ok(text: impl Into<String>) -> Done {
        Done {
            code: None,
            text: text.into(),
        }
    }
    pub fn with_code(code: Code, text: impl Into<String>) -> Done {
        Done {
            code: Some(code),
            text: text.into(),
        }
    }
}

pub(crate) type CmdResult = Result<Done, CommandError>;

impl Session {
    /// A new session for an accepted connection.
    pub fn new(ctx: Arc<ServerContext>, conn: ConnInfo) -> Session {
        Session {
            decoder: CommandDecoder::new(PRE_AUTH_LIMITS),
            ctx,
            conn,
            state: State::NotAuthenticated,
            created: std::time::Instant::now(),
            counted_as: None,
            sink: None,
            running: None,
            auth_mechanism: "LOGIN",
            enabled: Enabled::default(),
            pending: Pending::None,
            out: Vec::with_capacity(1024),
            outcome: Outcome::Continue,
            watch: None,
            notify: None,
            greeted: false,
        }
    }

    /// Whether the greeting was produced already.
    pub fn greeted(&self) -> bool {
        self.greeted
    }

    /// An untagged BYE (timeouts, shutdown) as bytes to send before closing.
    pub fn bye(&mut self, text: &str) -> Vec<u8> {
        self.send_status(StatusResponse::untagged(StatusKind::Bye, None, text));
        std::mem::take(&mut self.out)
    }

    /// `* BYE [UNAVAILABLE] Server shutting down`, as bytes to send before
    /// closing.
    pub fn shutdown_bye(&mut self) -> Vec<u8> {
        self.send_status(StatusResponse::untagged(
            StatusKind::Bye,
            Some(Code::Unavailable),
            "Server shutting down",
        ));
        std::mem::take(&mut self.out)
    }

    /// The greeting, as bytes to send first.
    pub fn greeting(&mut self) -> Vec<u8> {
        self.greeted = true;
        let caps = commands::capability::list(self);
        self.send_status(StatusResponse::untagged(
            StatusKind::Ok,
            Some(Code::Capability(caps)),
            format!("{} tidemark ready", self.ctx.config.hostname),
        ));
        std::mem::take(&mut self.out)
    }

    /// TLS is up (IMAPS at once, or after an [`Outcome::StartTls`]);
    /// `channel_binding`: its `tls-exporter` data when it is TLS 1.3. Bytes
    /// the client sent before the handshake are discarded (RFC 9051 6.2.1:
    /// no plaintext injection).
    pub fn tls_started(&mut self, channel_binding: Option<Vec<u8>>) {
        self.conn.tls = true;
        self.conn.channel_binding = channel_binding;
        self.decoder.clear_buffer();
        self.outcome = Outcome::Continue;
    }

    /// After [`Outcome::Compress`]: the bytes that arrived after the
    /// COMPRESS command (compressed already); the session continues.
    pub fn take_compressed_input(&mut self) -> Vec<u8> {
        self.outcome = Outcome::Continue;
        self.decoder.take_buffer()
    }

    /// Counts this session for `user`; false when the account has its
    /// maximum of sessions open.
    pub(crate) fn take_account_slot(&mut self, user: &str) -> bool {
        let max = self.ctx.config.max_sessions_per_account;
        let mut open = self.ctx.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(user.to_string()).or_insert(0);
        if max > 0 && *n >= max {
            return false;
        }
        *n += 1;
        drop(open);
        self.counted_as = Some(user.to_string());
        if let Some(o) = &self.ctx.observer {
            o.logged_in(user);
        }
        true
    }

    fn release_account_slot(&mut self) {
        let Some(user) = self.counted_as.take() else {
            return;
        };
        let mut open = self.ctx.sessions.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&user) {
            *n -= 1;
            if *n == 0 {
                open.remove(&user);
            }
        }
        drop(open);
        if let Some(o) = &self.ctx.observer {
            o.logged_out(&user);
        }
    }

    /// While set, output past 256 KiB is sent here during a command (the
    /// network layer writes it out meanwhile, and a full channel holds the
    /// command back), so a long answer never sits in memory whole.
    pub fn set_output_sink(&mut self, sink: Option<tokio::sync::mpsc::Sender<Vec<u8>>>) {
        self.sink = sink;
    }

    /// Hands the output so far to the sink once it is large.
    pub(crate) async fn flush_partial(&mut self) {
        if self.out.len() < FLUSH_AT {
            return;
        }
        if let Some(tx) = &self.sink {
            let chunk = std::mem::take(&mut self.out);
            if let Err(e) = tx.send(chunk).await {
                // The writer is gone (connection closing): keep the bytes.
                self.out = e.0;
            }
        }
    }

    /// Time since the connection was accepted.
    pub fn age(&self) -> Duration {
        self.created.elapsed()
    }

    /// The session is in IDLE (the client sends at most DONE meanwhile).
    pub fn is_idling(&self) -> bool {
        matches!(self.pending, Pending::Idle { .. })
    }

    /// The network layer should also wait on [`Session::idle_receiver`]
    /// and call [`Session::handle_notice`]: in IDLE, and whenever NOTIFY
    /// is on.
    pub fn wants_notices(&self) -> bool {
        self.is_idling() || (self.notify.is_some() && self.watch.is_some())
    }

    /// Whether the client has authenticated (for timeouts).
    pub fn is_authenticated(&self) -> bool {
        matches!(self.state, State::Authenticated(_) | State::Selected(..))
    }

    /// The change feed to wait on while idling.
    pub fn idle_receiver(&mut self) -> Option<&mut tokio::sync::broadcast::Receiver<ChangeNotice>> {
        self.watch.as_mut()
    }

    /// Something changed in the account while the session waits (IDLE, or
    /// between commands with NOTIFY on): send the updates. `first` is what
    /// the change feed gave; the notices queued behind it are taken too.
    pub async fn handle_notice(
        &mut self,
        first: Result<ChangeNotice, tokio::sync::broadcast::error::RecvError>,
    ) -> Vec<u8> {
        use tokio::sync::broadcast::error::{RecvError, TryRecvError};
        let mut changed = std::collections::BTreeSet::new();
        let (mut list, mut all) = (false, false);
        let mut record = |n: ChangeNotice| match n {
            ChangeNotice::Mailbox { mailbox, .. } => {
                changed.insert(mailbox);
            }
            ChangeNotice::MailboxList => list = true,
        };
        match first {
            Ok(n) => record(n),
            Err(RecvError::Lagged(_)) => all = true,
            Err(RecvError::Closed) => {}
        }
        if let Some(rx) = self.watch.as_mut() {
            // Bounded by the feed's capacity.
            loop {
                match rx.try_recv() {
                    Ok(n) => record(n),
                    Err(TryRecvError::Lagged(_)) => all = true,
                    Err(_) => break,
                }
            }
        }
        if self.is_idling() {
            self.sync_selected(true).await;
        } else if let Some((delayed, flags)) =
            self.notify.as_ref().and_then(|n| n.selected_events())
        {
            let before = self.selected().map(|v| v.exists());
            self.sync_selected_with(!delayed, flags).await;
            crate::commands::notify::fetch_new(self, before).await;
        }
        if self.notify.is_some() {
            crate::commands::notify::report_others(self, (!all).then_some(&changed), list || all)
                .await;
        }
        std::mem::take(&mut self.out)
    }

    /// Feeds bytes from the client; returns the bytes to send and what to
    /// do next. Runs every complete command in order.
    pub async fn handle_input(&mut self, data: &[u8]) -> (Vec<u8>, Outcome) {
        self.decoder.feed(data);
        loop {
            if self.outcome != Outcome::Continue {
                break;
            }
            match self.decoder.next() {
                Event::NeedMoreInput => break,
                Event::Command(cmd) => {
                    self.run_command(cmd).await;
                    // A burst of pipelined commands is written as it goes.
                    self.flush_partial().await;
                }
                Event::LiteralRequest { tag, len, .. } => self.literal_request(tag, len),
                Event::IdleDone => {
                    if let Pending::Idle { tag } =
                        std::mem::replace(&mut self.pending, Pending::None)
                    {
                        self.sync_selected(true).await;
                        self.tagged(tag, StatusKind::Ok, None, "IDLE terminated");
                    }
                }
                Event::AuthResponse(resp) => {
                    if let Pending::Authenticate { tag, step } =
                        std::mem::replace(&mut self.pending, Pending::None)
                    {
                        let result =
                            commands::authenticate::respond(self, tag.clone(), step, resp).await;
                        // Not done when another challenge was sent.
                        if matches!(self.pending, Pending::None) {
                            self.finish(tag, result, false).await;
                        }
                    }
                }
                Event::Error(e) => {
                    let code = e.kind.code();
                    let was_idle = matches!(self.pending, Pending::Idle { .. });
                    if let Pending::Idle { tag } =
                        std::mem::replace(&mut self.pending, Pending::None)
                    {
                        // A line other than DONE ends IDLE with BAD.
                        self.tagged(tag, StatusKind::Bad, None, "Expected DONE");
                    }
                    if !was_idle {
                        let text = e.text;
                        match e.tag {
                            Some(tag) => self.tagged(tag, StatusKind::Bad, code, &text),
                            None => self.send_status(StatusResponse::untagged(
                                StatusKind::Bad,
                                code,
                                text,
                            )),
                        }
                    }
                }
            }
        }
        (std::mem::take(&mut self.out), self.outcome)
    }

    fn literal_request(&mut self, tag: Tag, len: u64) {
        // The decoder already refused literals over the limit with an error;
        // a literal is refused before authentication unless it is small, so
        // an anonymous client cannot make us buffer megabytes.
        if !self.is_authenticated() && len > 8 * 1024 {
            self.decoder.reject_literal();
            self.tagged(
                tag,
                StatusKind::Bad,
                Some(Code::TooBig),
                "Literal too large before authentication",
            );
            return;
        }
        self.decoder.accept_literal();
        self.send(Response::Continuation(Continuation::Text(
            "Ready for literal data".into(),
        )));
    }

    async fn run_command(&mut self, cmd: Command) {
        // Reported to the observer with the tagged answer (`tagged`).
        self.running = Some((cmd.body.name(), std::time::Instant::now()));
        let spec = command_table::spec(&cmd.body);
        let current = match self.state {
            State::NotAuthenticated => States::NOT_AUTH,
            State::Authenticated(_) => States::AUTH,
            State::Selected(..) => States::SELECTED,
            State::Logout => return,
        };
        if !spec.states.contains(current) {
            let text = if current == States::NOT_AUTH {
                "Authenticate first"
            } else {
                spec.wrong_state
            };
            let text = if text.is_empty() {
                "Not allowed now"
            } else {
                text
            };
            self.tagged(cmd.tag, StatusKind::Bad, Some(Code::ClientBug), text);
            return;
        }
        if self.enabled.uidonly && command_table::uses_message_numbers(&cmd.body) {
            self.tagged(
                cmd.tag,
                StatusKind::Bad,
                Some(Code::UidRequired),
                "Message numbers are not allowed once UIDONLY is enabled; use UIDs",
            );
            return;
        }
        tracing::debug!(command = cmd.body.name(), "command");
        let tag = cmd.tag.clone();
        let changes_others = matches!(
            cmd.body.name(),
            "APPEND"
                | "COPY"
                | "UID COPY"
                | "MOVE"
                | "UID MOVE"
                | "CREATE"
                | "DELETE"
                | "RENAME"
                | "SUBSCRIBE"
                | "UNSUBSCRIBE"
        );
        let result = commands::dispatch(self, cmd).await;
        if changes_others && self.notify.is_some() {
            // RFC 5465 5: the client is not told of its own changes.
            crate::commands::notify::absorb_own(self).await;
        }
        if matches!(self.pending, Pending::Idle { .. }) {
            // Changes that happened before IDLE began are announced at once.
            self.sync_selected(true).await;
        }
        if matches!(self.pending, Pending::None) {
            self.finish(tag, result, spec.flags.may_expunge).await;
        }
    }

    /// Ends a command: announces mailbox changes, then the tagged reply.
    pub(crate) async fn finish(&mut self, tag: Tag, result: CmdResult, may_expunge: bool) {
        if matches!(self.state, State::Selected(..)) {
            self.sync_selected(may_expunge).await;
        }
        match result {
            Ok(done) => self.tagged(tag, StatusKind::Ok, done.code, &done.text),
            Err(e) => self.tagged(tag, e.kind, e.code, &e.text),
        }
    }

    /// Pulls changes made elsewhere into the selected mailbox view and
    /// announces them.
    pub(crate) async fn sync_selected(&mut self, expunges_allowed: bool) {
        self.sync_selected_with(expunges_allowed, true).await;
    }

    /// [`Session::sync_selected`]; without `flag_changes`, FETCH responses
    /// for flags changed elsewhere are left out (NOTIFY without
    /// FlagChange).
    pub(crate) async fn sync_selected_with(&mut self, expunges_allowed: bool, flag_changes: bool) {
        let State::Selected(account, view) = &mut self.state else {
            return;
        };
        let changes = match account.changes_since(view.id, view.highest_modseq()).await {
            Ok(c) => c,
            Err(tidemark_store::StoreError::NoSuchMailbox) => {
                // Deleted by another session: RFC 9051 leaves this open; we
                // tell the client and drop back to authenticated state.
                let account = account.clone();
                self.state = State::Authenticated(account);
                self.send_status(StatusResponse::untagged(
                    StatusKind::Bye,
                    None,
                    "Selected mailbox was deleted",
                ));
                self.outcome = Outcome::Close;
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, "sync failed");
                return;
            }
        };
        let mut events = view.apply(&changes, expunges_allowed);
        if !flag_changes {
            events.retain(|e| !matches!(e, ViewEvent::Flags { .. }));
        }
        self.send_view_events(events);
    }

    pub(crate) fn send_view_events(&mut self, events: Vec<ViewEvent>) {
        // With QRESYNC (or UIDONLY, RFC 9586 3), a run of removals is one
        // VANISHED (RFC 7162 3.2.10).
        let mut vanished: Vec<u32> = Vec::new();
        for ev in events {
            if (self.enabled.qresync || self.enabled.uidonly)
                && let ViewEvent::Expunge { uid, .. } = ev
            {
                vanished.push(uid.0);
                continue;
            }
            self.send_vanished(&mut vanished, false);
            let data = match ev {
                ViewEvent::Expunge { seq, .. } => Data::Expunge(seq),
                ViewEvent::Exists(n) => Data::Exists(n),
                ViewEvent::Flags {
                    seq,
                    uid,
                    flags,
                    modseq,
                } => {
                    let mut items = vec![
                        FetchItem::Uid(uid.0),
                        FetchItem::Flags(commands::flags_to_wire(&flags)),
                    ];
                    if self.enabled.condstore {
                        items.push(FetchItem::ModSeq(modseq.0));
                    }
                    Data::Fetch { seq, items }
                }
            };
            self.send(Response::Data(data));
        }
        self.send_vanished(&mut vanished, false);
    }

    /// Sends `* VANISHED [(EARLIER)] uids` for the UIDs gathered (if any),
    /// and clears them.
    pub(crate) fn send_vanished(&mut self, uids: &mut Vec<u32>, earlier: bool) {
        if uids.is_empty() {
            return;
        }
        uids.sort_unstable();
        let set = tidemark_imap_proto::SequenceSet::from_numbers(uids);
        uids.clear();
        self.send(Response::Data(Data::Vanished { earlier, uids: set }));
    }

    /// Turns CONDSTORE on (RFC 7162 3.1: ENABLE, or a "CONDSTORE enabling
    /// command"). The first time, in selected state, the mailbox's
    /// HIGHESTMODSEQ is announced (`announce`: not for SELECT itself,
    /// which sends it anyway).
    pub(crate) fn enable_condstore(&mut self, announce: bool) {
        if self.enabled.condstore {
            return;
        }
        self.enabled.condstore = true;
        if announce && let State::Selected(_, v) = &self.state {
            let highest = v.highest_modseq().0;
            self.send_status(StatusResponse::untagged(
                StatusKind::Ok,
                Some(Code::HighestModSeq(highest)),
                "Highest",
            ));
        }
    }

    /// Encodes one response into the output. Once UIDONLY is on, this is
    /// the one place where FETCH turns into UIDFETCH (RFC 9586 4).
    pub(crate) fn send(&mut self, r: Response) {
        let r = match r {
            Response::Data(Data::Fetch { seq, items }) if self.enabled.uidonly => {
                self.uid_fetch(seq, items)
            }
            r => r,
        };
        let opts = EncodeOptions {
            utf8: self.utf8(),
            mailbox: if self.utf8() {
                MailboxEncoding::Raw
            } else {
                MailboxEncoding::Utf7
            },
        };
        encode_response(&r, &mut self.out, &opts);
    }

    /// `* seq FETCH (...)` as `* uid UIDFETCH (...)`. The UID comes from the
    /// UID item (every FETCH answer under UIDONLY comes from a UID command,
    /// which includes it) or else from the view. The UID item itself is
    /// dropped as redundant unless it is the only one.
    fn uid_fetch(&self, seq: u32, mut items: Vec<FetchItem>) -> Response {
        let from_item = items.iter().find_map(|i| match i {
            FetchItem::Uid(u) => Some(*u),
            _ => None,
        });
        let uid = match (from_item, &self.state) {
            (Some(u), _) => u,
            (None, State::Selected(_, v)) => match v.uid(seq) {
                Some(u) => u.0,
                None => {
                    tracing::error!(seq, "FETCH response for a message not in the view");
                    return Response::Data(Data::Fetch { seq, items });
                }
            },
            (None, _) => return Response::Data(Data::Fetch { seq, items }),
        };
        if items.len() > 1 {
            items.retain(|i| !matches!(i, FetchItem::Uid(_)));
        }
        Response::Data(Data::UidFetch { uid, items })
    }

    pub(crate) fn send_status(&mut self, s: StatusResponse) {
        self.send(Response::Status(s));
    }

    /// Every tagged answer goes through here, so this is where a command
    /// ends for the observer.
    pub(crate) fn tagged(&mut self, tag: Tag, kind: StatusKind, code: Option<Code>, text: &str) {
        let running = self.running.take();
        if let Some(o) = &self.ctx.observer {
            let (name, elapsed) = running
                .map_or((crate::observer::INVALID, Duration::ZERO), |(n, t)| {
                    (n, t.elapsed())
                });
            let result = match kind {
                StatusKind::Ok => crate::CommandResult::Ok,
                StatusKind::No => crate::CommandResult::No,
                _ => crate::CommandResult::Bad,
            };
            o.command(name, result, elapsed);
        }
        self.send_status(StatusResponse::tagged(tag, kind, code, text));
    }

    /// A command is partly received (a line without its end, a literal
    /// still arriving): shutdown waits for it to complete and run.
    pub fn mid_command(&self) -> bool {
        self.decoder.mid_command()
    }

    /// Mailbox names and strings are UTF-8 on the wire.
    pub(crate) fn utf8(&self) -> bool {
        self.enabled.imap4rev2 || self.enabled.utf8_accept
    }

    /// The channel binding SCRAM sees.
    pub(crate) fn channel_binding(&self) -> tidemark_sasl::scram::Binding {
        match &self.conn.channel_binding {
            Some(data) => tidemark_sasl::scram::Binding::TlsExporter(data.clone()),
            None => tidemark_sasl::scram::Binding::Unavailable,
        }
    }

    /// The authenticated account (None before login).
    pub(crate) fn account(&self) -> Option<Arc<dyn Account>> {
        match &self.state {
            State::Authenticated(a) | State::Selected(a, _) => Some(a.clone()),
            _ => None,
        }
    }

    /// The selected mailbox view.
    pub(crate) fn selected(&mut self) -> Option<&mut SelectedMailbox> {
        match &mut self.state {
            State::Selected(_, v) => Some(v),
            _ => None,
        }
    }

    /// Enters authenticated state for `account`.
    pub(crate) fn login(&mut self, account: Arc<dyn Account>) {
        self.decoder.set_limits(Limits {
            max_line: self.ctx.config.max_line,
            max_literal: self.ctx.config.max_literal,
            ..Limits::default()
        });
        self.watch = Some(account.watch());
        self.state = State::Authenticated(account);
    }

    /// Leaves the selected state (CLOSE, UNSELECT, a new SELECT).
    pub(crate) fn deselect(&mut self) {
        if let State::Selected(a, _) = &self.state {
            self.state = State::Authenticated(a.clone());
        }
    }

    /// Drains notices queued on the change feed (after our own writes and
    /// before IDLE), so IDLE wakes only for new changes.
    pub(crate) fn drain_watch(&mut self) {
        if let Some(rx) = self.watch.as_mut() {
            while rx.try_recv().is_ok() {}
        }
    }

    /// Current highest modseq of the selected view (for tests/diagnostics).
    pub fn selected_modseq(&self) -> Option<ModSeq> {
        match &self.state {
            State::Selected(_, v) => Some(v.highest_modseq()),
            _ => None,
        }
    }
}
