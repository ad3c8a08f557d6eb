//! The group-commit writer: one thread per open account.
//!
//! Every mutation of an account is a job sent to its writer thread. The
//! thread takes the first job, drains whatever else is queued (up to a
//! batch limit), runs them all in ONE transaction — each inside its own
//! SAVEPOINT so a failing job is rolled back alone — commits once (one
//! fsync for the whole batch), publishes the change notices and only then
//! answers each caller. A call therefore returns `Ok` only once its change
//! is durable.

use crate::db::{Db, map_err};
use crate::indexer::Progress;
use rusqlite::Connection;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use tidemark_store::{ChangeNotice, StoreError, StoreResult};
use tokio::sync::{broadcast, mpsc, oneshot};

/// What a job leaves behind after it ran (or was refused).
struct Done {
    /// The job's own result was `Ok` (its savepoint is released).
    ok: bool,
    notices: Vec<ChangeNotice>,
    /// Answers the caller with the commit outcome.
    finish: Box<dyn FnOnce(StoreResult<()>) + Send>,
}

/// A job: run on the connection (`Some`), or refused without running (`None`).
type Job = Box<dyn FnOnce(Option<&Connection>) -> Done + Send>;

/// Handle to an account's writer thread.
pub(crate) struct Writer {
    tx: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer thread on `conn`; `index` is the account's
    /// indexer, when it keeps a search index.
    pub(crate) fn start(
        conn: Connection,
        feed: broadcast::Sender<ChangeNotice>,
        max_batch: usize,
        thread_name: String,
        index: Option<Arc<Progress>>,
    ) -> StoreResult<Writer> {
        let (tx, rx) = mpsc::channel::<Job>(1024);
        std::thread::Builder::new()
            .name(thread_name)
            .spawn(move || {
                writer_loop(&conn, rx, &feed, max_batch.max(1), index.as_deref());
            })
            .map_err(|e| StoreError::Unavailable(format!("cannot start writer thread: {e}")))?;
        Ok(Writer { tx })
    }

    /// Runs `f` in the next group commit and returns its result once the
    /// commit is durable. `f` pushes the change notices to publish.
    pub(crate) async fn run<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &mut Vec<ChangeNotice>) -> StoreResult<T> + Send + 'static,
    {
        let (otx, orx) = oneshot::channel::<StoreResult<T>>();
        let job: Job = Box::new(move |conn| {
            let mut notices = Vec::new();
            let result = match conn {
                Some(conn) => f(conn, &mut notices),
                None => Err(StoreError::Unavailable(
                    "could not start a transaction".into(),
                )),
            };
            Done {
                ok: result.is_ok(),
                notices,
                finish: Box::new(move |commit| {
                    let _ = otx.send(commit.and(result));
                }),
            }
        });
        self.tx
            .send(job)
            .await
            .map_err(|_| StoreError::NoSuchAccount)?;
        orx.await
            .map_err(|_| StoreError::Internal("writer dropped a request".into()))?
    }
}

fn exec(conn: &Connection, sql: &str) -> StoreResult<()> {
    conn.prepare_cached(sql).db()?.execute([]).db().map(|_| ())
}

fn writer_loop(
    conn: &Connection,
    mut rx: mpsc::Receiver<Job>,
    feed: &broadcast::Sender<ChangeNotice>,
    max_batch: usize,
    index: Option<&Progress>,
) {
    let mut jobs: Vec<Job> = Vec::with_capacity(max_batch);
    // How far the search queues are pruned (`indexer::prune`).
    let mut pruned = (0, 0);
    while let Some(first) = rx.blocking_recv() {
        if let Some(p) = index {
            p.wait_for_room();
        }
        jobs.push(first);
        while jobs.len() < max_batch {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        run_batch(conn, &mut jobs, feed, |conn| {
            if let Some(p) = index
                && let Err(e) = crate::indexer::prune(conn, p.marks(), &mut pruned)
            {
                tracing::warn!("search index: pruning its queue: {e}");
            }
        });
        if let Some(p) = index {
            match crate::indexer::queue_heads(conn) {
                Ok((pending, gone)) => p.written(pending, gone),
                Err(e) => tracing::warn!("search index: {e}"),
            }
        }
    }
    if let Some(p) = index {
        p.stop();
    }
    tracing::debug!("account writer stopped");
}

/// Runs `jobs` in one transaction; `first` runs at its start (outside any
/// job's savepoint).
fn run_batch(
    conn: &Connection,
    jobs: &mut Vec<Job>,
    feed: &broadcast::Sender<ChangeNotice>,
    first: impl FnOnce(&Connection),
) {
    let mut done: Vec<Done> = Vec::with_capacity(jobs.len());
    if let Err(e) = exec(conn, "BEGIN IMMEDIATE") {
        tracing::warn!("group commit: BEGIN failed: {e}");
        for job in jobs.drain(..) {
            (job(None).finish)(Err(e.clone()));
        }
        return;
    }
    first(conn);
    let mut broken: Option<StoreError> = None;
    for job in jobs.drain(..) {
        if broken.is_some() {
            done.push(job(None));
            continue;
        }
        if let Err(e) = exec(conn, "SAVEPOINT job") {
            broken = Some(e);
            done.push(job(None));
            continue;
        }
        // A panicking job drops its answer channel (the caller sees an
        // internal error); its savepoint is rolled back like a failure.
        let d = catch_unwind(AssertUnwindSafe(|| job(Some(conn))));
        let ok = matches!(&d, Ok(d) if d.ok);
        let end = if ok {
            exec(conn, "RELEASE job")
        } else {
            exec(conn, "ROLLBACK TO job").and_then(|_| exec(conn, "RELEASE job"))
        };
        if let Ok(d) = d {
            done.push(d);
        }
        if let Err(e) = end {
            broken = Some(e);
        }
    }
    let commit = match broken {
        Some(e) => Err(e),
        None => conn.execute_batch("COMMIT").map_err(map_err),
    };
    if let Err(e) = &commit {
        tracing::error!("group commit failed: {e}");
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        for d in done {
            (d.finish)(Err(e.clone()));
        }
        return;
    }
    let mut sent: Vec<ChangeNotice> = Vec::new();
    for d in &done {
        if d.ok {
            for n in &d.notices {
                if !sent.contains(n) {
                    sent.push(*n);
                }
            }
        }
    }
    // Only the newest MODSEQ per mailbox matters to listeners.
    let sent: Vec<ChangeNotice> = sent
        .iter()
        .filter(|n| match n {
            ChangeNotice::Mailbox { mailbox, modseq } => !sent.iter().any(|o| {
                matches!(o, ChangeNotice::Mailbox { mailbox: m2, modseq: s2 }
                    if m2 == mailbox && s2 > modseq)
            }),
            ChangeNotice::MailboxList => true,
        })
        .copied()
        .collect();
    for n in sent {
        let _ = feed.send(n);
    }
    for d in done {
        (d.finish)(Ok(()));
    }
}
