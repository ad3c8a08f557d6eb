//! Measurement: message bodies as blobs in the account database (what the
//! backend does) versus bodies as individually fsynced files next to a
//! metadata-only database row, sequentially and with 20 concurrent
//! writers; plus SELECT (snapshot) and STATUS of a 100,000-message mailbox.
//!
//! Run: `cargo run -p tidemark-store-sqlite --example bodies [DIR]`
//! (DIR defaults to a temporary directory; use one on the disk you deploy
//! to, since fsync cost dominates).

use bytes::Bytes;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use tidemark_store::{Account, Flags, MailboxId, NewMessage, Store, UidSet};
use tidemark_store_sqlite::SqliteStore;

fn body(size: usize, seed: u64) -> Bytes {
    // Distinct bodies so deduplication does not flatter the blob variant.
    let mut v = format!("Subject: {seed}\r\n\r\n").into_bytes();
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    while v.len() < size {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.push(b'a' + (x % 26) as u8);
    }
    Bytes::from(v)
}

fn new_message(data: Bytes) -> NewMessage {
    NewMessage {
        data,
        flags: Flags::new(),
        internal_date: None,
        structure: Bytes::new(),
    }
}

/// Writes a body as its own file, durably (file and directory fsync).
fn write_file(dir: &Path, n: u64, data: &[u8]) -> std::io::Result<()> {
    let path = dir.join(format!("{n}.eml"));
    let mut f = std::fs::File::create(&path)?;
    f.write_all(data)?;
    f.sync_all()?;
    std::fs::File::open(dir)?.sync_all()
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Blob,
    File,
}

async fn run(
    acc: Arc<dyn Account>,
    mbox: MailboxId,
    files: Arc<PathBuf>,
    mode: Mode,
    count: u64,
    size: usize,
    writers: u64,
) -> f64 {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..writers {
        let (acc, files) = (acc.clone(), files.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..count / writers {
                let n = SEQ.fetch_add(1, Ordering::Relaxed);
                let data = body(size, n);
                let msg = match mode {
                    Mode::Blob => new_message(data),
                    Mode::File => {
                        let files = files.clone();
                        tokio::task::spawn_blocking(move || write_file(&files, n, &data))
                            .await
                            .expect("join")
                            .expect("write file");
                        // The database then holds only a reference.
                        new_message(Bytes::from(format!("file:{n}")))
                    }
                };
                acc.append(mbox, vec![msg]).await.expect("append");
            }
        }));
    }
    for t in tasks {
        t.await.expect("writer");
    }
    start.elapsed().as_secs_f64()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| tmp.path().to_path_buf());
    let store = SqliteStore::open(&root.join("store")).expect("open");
    let files = Arc::new(root.join("files"));
    std::fs::create_dir_all(&*files).expect("mkdir");
    store.create_account("bench", "x").await.expect("account");
    let acc = store.open_account("bench").await.expect("open");
    println!(
        "{:<6} {:>6} {:>8} {:>8} {:>10} {:>10}",
        "mode", "size", "count", "writers", "seconds", "msgs/s"
    );
    for (count, size) in [(2000u64, 4096usize), (200, 1 << 20)] {
        for writers in [1u64, 20] {
            for mode in [Mode::Blob, Mode::File] {
                let name = format!("m{}-{}-{}", size, writers, mode == Mode::Blob);
                let mb = acc.create_mailbox(&name, &[]).await.expect("create").id;
                let secs = run(acc.clone(), mb, files.clone(), mode, count, size, writers).await;
                println!(
                    "{:<6} {:>6} {:>8} {:>8} {:>10.2} {:>10.0}",
                    if mode == Mode::Blob { "blob" } else { "file" },
                    size,
                    count,
                    writers,
                    secs,
                    count as f64 / secs
                );
            }
        }
    }
    // SELECT / STATUS of a 100,000-message mailbox.
    let big = acc.create_mailbox("Big", &[]).await.expect("create").id;
    let start = Instant::now();
    for batch in 0..100u64 {
        let msgs = (0..1000)
            .map(|i| new_message(body(300, batch * 1000 + i)))
            .collect();
        acc.append(big, msgs).await.expect("append");
    }
    println!(
        "append 100k x 300 B in batches of 1000: {:.2} s",
        start.elapsed().as_secs_f64()
    );
    for _ in 0..3 {
        let t = Instant::now();
        let snap = acc.snapshot(big).await.expect("snapshot");
        let s = t.elapsed();
        let t = Instant::now();
        let st = acc.status(big).await.expect("status");
        let s2 = t.elapsed();
        let t = Instant::now();
        let meta = acc
            .fetch_meta(big, &UidSet::range(50_000, 50_100))
            .await
            .expect("fetch");
        println!(
            "snapshot of {} msgs: {:.1} ms; status ({} msgs): {:.2} ms; fetch_meta 101: {:.2} ms",
            snap.messages.len(),
            s.as_secs_f64() * 1e3,
            st.messages,
            s2.as_secs_f64() * 1e3,
            t.elapsed().as_secs_f64() * 1e3 + 0.0 * meta.len() as f64
        );
    }
}
