//! Small helpers around rusqlite: error mapping and connection setup.

use rusqlite::{Connection, ErrorCode, OpenFlags};
use std::path::Path;
use std::time::Duration;
use tidemark_store::{StoreError, StoreResult};

/// Maps a SQLite error into the store's closed taxonomy.
pub(crate) fn map_err(e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            StoreError::Unavailable("database busy".into())
        }
        Some(ErrorCode::DiskFull) => StoreError::Unavailable("disk full".into()),
        Some(ErrorCode::SystemIoFailure | ErrorCode::CannotOpen | ErrorCode::OutOfMemory) => {
            StoreError::Unavailable(format!("database i/o: {e}"))
        }
        Some(ErrorCode::TooBig) => StoreError::TooBig,
        _ => StoreError::Internal(format!("database: {e}")),
    }
}

/// `.db()?` turns a rusqlite result into a store result.
pub(crate) trait Db<T> {
    fn db(self) -> StoreResult<T>;
}

impl<T> Db<T> for rusqlite::Result<T> {
    fn db(self) -> StoreResult<T> {
        self.map_err(map_err)
    }
}

/// How durable a commit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous=FULL`: every commit is fsynced before the call returns.
    /// The default, and the only mode in which `Ok` means "survives power
    /// loss".
    Full,
    /// `synchronous=NORMAL`: survives a process crash but not a power loss.
    /// For tests and throw-away deployments only.
    Normal,
}

/// Opens a connection with the PRAGMAs every tidemark database uses.
pub(crate) fn open_conn(
    path: &Path,
    durability: Durability,
    create: bool,
) -> StoreResult<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags).db()?;
    conn.busy_timeout(Duration::from_secs(10)).db()?;
    conn.pragma_update(None, "journal_mode", "WAL").db()?;
    let sync = match durability {
        Durability::Full => "FULL",
        Durability::Normal => "NORMAL",
    };
    conn.pragma_update(None, "synchronous", sync).db()?;
    conn.pragma_update(None, "foreign_keys", "ON").db()?;
    // Keep the WAL from staying huge after a burst of large messages.
    conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)
        .db()?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// Removes a database file and its WAL, shared-memory and journal files.
pub(crate) fn remove_db_files(path: &Path) -> StoreResult<()> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = path.to_path_buf().into_os_string();
        p.push(suffix);
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(StoreError::Unavailable(format!(
                    "remove {}: {e}",
                    Path::new(&p).display()
                )));
            }
        }
    }
    Ok(())
}

/// fsyncs a directory so that a file created (or removed) in it is durable.
pub(crate) fn sync_dir(dir: &Path) -> StoreResult<()> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StoreError::Unavailable(format!("fsync {}: {e}", dir.display())))
}

/// Current time in seconds since the Unix epoch.
pub(crate) fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
