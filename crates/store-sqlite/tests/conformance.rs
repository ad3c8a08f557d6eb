//! The store conformance suite against the SQLite backend.

use std::sync::Mutex;
use tempfile::TempDir;
use tidemark_store::conformance;
use tidemark_store_sqlite::{Durability, SqliteConfig, SqliteStore};

/// Makes fresh stores in temporary directories, kept until the test ends.
struct Factory {
    dirs: Mutex<Vec<TempDir>>,
    config: SqliteConfig,
}

impl Factory {
    fn new(durability: Durability) -> Factory {
        Factory {
            dirs: Mutex::new(Vec::new()),
            config: SqliteConfig {
                durability,
                ..SqliteConfig::default()
            },
        }
    }

    fn make(&self) -> SqliteStore {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open_with(dir.path(), self.config.clone()).expect("open store");
        self.dirs.lock().expect("lock").push(dir);
        store
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conformance_cases() {
    let f = Factory::new(Durability::Full);
    conformance::run_cases(|| f.make()).await;
}

/// The model-based test checks semantics, not durability, so it runs with
/// `synchronous=NORMAL` to keep 4,000 commits fast.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conformance_model() {
    let f = Factory::new(Durability::Normal);
    conformance::run_model(|| f.make(), 0..20, 200).await;
}
