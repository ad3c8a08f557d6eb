//! The conformance suite every backend runs.
//!
//! A backend's test calls [`run_all`] (or [`run_cases`] and [`run_model`]
//! separately) with a factory that makes a fresh, empty store. Each case is
//! a plain async function that panics with a clear message on failure.
//!
//! [`run_cases`] checks the rules of the [`Store`] and [`Account`] docs one
//! by one; [`run_model`] applies seeded random operation sequences to the
//! store and to an in-memory reference model and compares everything
//! observable after every operation.

mod cases;
mod import;
mod index;
mod mail;
mod model;
mod objects;
mod parts;

use crate::*;
use std::future::Future;
use std::pin::Pin;

pub use model::run_model;

/// A boxed case future.
type CaseFuture<'a> = Pin<Box<dyn Future<Output = ()> + 'a>>;

/// A named case.
type Case<S> = (&'static str, fn(&S) -> CaseFuture<'_>);

/// Runs every conformance case and the model-based test (20 seeds × 200
/// operations).
pub async fn run_all<S: Store, F: Fn() -> S>(make: F) {
    run_cases(&make).await;
    run_model(&make, 0..20, 200).await;
}

/// Runs every rule-by-rule case, each on a fresh store from `make`.
pub async fn run_cases<S: Store, F: Fn() -> S>(make: F) {
    let cases: Vec<Case<S>> = cases::list::<S>();
    for (name, case) in cases {
        eprintln!("conformance: {name}");
        let store = make();
        case(&store).await;
    }
}

/// Unwraps a store result or panics naming the operation.
#[track_caller]
pub(crate) fn ok<T>(r: StoreResult<T>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{what}: expected Ok, got Err({e:?})"),
    }
}

/// Asserts that a store result is the given error.
#[track_caller]
pub(crate) fn expect_err<T: std::fmt::Debug>(r: StoreResult<T>, expected: &StoreError, what: &str) {
    match r {
        Err(e) if std::mem::discriminant(&e) == std::mem::discriminant(expected) => {}
        other => panic!("{what}: expected Err({expected:?}), got {other:?}"),
    }
}

/// A message with the given body and flags.
pub(crate) fn message(body: &str, flags: Flags) -> NewMessage {
    NewMessage {
        data: bytes::Bytes::from(format!(
            "From: a@example.org\r\nSubject: test\r\n\r\n{body}\r\n"
        )),
        flags,
        internal_date: None,
        structure: bytes::Bytes::new(),
    }
}

/// Flags from system flags and keywords.
pub(crate) fn flags(system: &[SystemFlag], keywords: &[&str]) -> Flags {
    let mut f = Flags::new();
    for s in system {
        f.insert(*s);
    }
    for k in keywords {
        f.insert_keyword(k.to_string());
    }
    f
}

/// Creates account `name` and opens it.
pub(crate) async fn account<S: Store>(store: &S, name: &str) -> std::sync::Arc<dyn Account> {
    ok(store.create_account(name, "secret").await, "create_account");
    ok(store.open_account(name).await, "open_account")
}

/// Looks a mailbox up by name.
pub(crate) async fn mailbox(acc: &dyn Account, name: &str) -> MailboxInfo {
    ok(acc.mailbox(name).await, &format!("mailbox({name:?})"))
}

/// Mailbox names, in list order.
pub(crate) async fn names(acc: &dyn Account) -> Vec<String> {
    ok(acc.list_mailboxes().await, "list_mailboxes")
        .into_iter()
        .map(|m| m.name)
        .collect()
}
