//! Opening the mail store. The one place that names the backend.

use crate::error::{Fail, Result};
use std::path::Path;
use std::sync::Arc;
use tidemark_store::Store;

/// The store directory inside the data directory.
pub fn store_dir(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("store")
}

/// Opens (creating it if needed) the store under `data_dir/store`.
pub fn open_store(data_dir: &Path) -> Result<Arc<dyn Store>> {
    open_store_with(data_dir, true, std::time::Duration::ZERO)
}

/// [`open_store`], choosing whether message text is indexed for SEARCH
/// and how long accounts stay open after their last session.
pub fn open_store_with(
    data_dir: &Path,
    search_index: bool,
    linger: std::time::Duration,
) -> Result<Arc<dyn Store>> {
    let dir = store_dir(data_dir);
    let config = tidemark_store_sqlite::SqliteConfig {
        search_index,
        linger,
        ..Default::default()
    };
    let store = tidemark_store_sqlite::SqliteStore::open_with(&dir, config)
        .map_err(|e| Fail::runtime(format!("cannot open the store in {}: {e}", dir.display())))?;
    Ok(Arc::new(store))
}

/// Creates the data directory (mode 0700). Returns whether it was new.
pub fn create_data_dir(dir: &Path) -> Result<bool> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(false);
    }
    if dir.exists() {
        return Err(Fail::config(format!(
            "data directory {} exists but is not a directory",
            dir.display()
        )));
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| {
            Fail::runtime(format!(
                "cannot create data directory {}: {e}",
                dir.display()
            ))
        })?;
    Ok(true)
}

/// Fails unless `dir` is an existing directory (catches --data-dir typos).
pub fn require_data_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        Ok(())
    } else {
        Err(Fail::runtime(format!(
            "no data directory at {} (create it with `tidemark user add` or `tidemark serve`, or pass --data-dir)",
            dir.display()
        )))
    }
}
