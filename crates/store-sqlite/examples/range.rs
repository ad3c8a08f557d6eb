//! Measurement: reading 1 MB of a 50 MB message with `read_range`
//! (incremental BLOB I/O) versus `read_message` (the whole message), and
//! `read_structure` and COPY of that message; time and peak RSS of each.
//!
//! Run: `cargo run --release -p tidemark-store-sqlite --example range [DIR]`
//!
//! Peak RSS is the process's VmHWM, reset before each operation through
//! `/proc/self/clear_refs` (Linux), so each line shows what that operation
//! alone needed on top of the resident baseline.

use bytes::Bytes;
use std::path::PathBuf;
use std::time::Instant;
use tidemark_store::{Flags, NewMessage, Store, Uid};
use tidemark_store_sqlite::{Durability, SqliteConfig, SqliteStore};

const SIZE: usize = 50 << 20;
const SLICE: u64 = 1 << 20;

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

async fn measure<F, Fut>(what: &str, f: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Bytes>,
{
    let mut times = Vec::new();
    let mut peak = 0;
    let base = status_kib("VmRSS:");
    let mut got = 0;
    for _ in 0..5 {
        reset_peak();
        let before = status_kib("VmRSS:");
        let t = Instant::now();
        let b = f().await;
        times.push(t.elapsed().as_secs_f64() * 1e3);
        got = b.len();
        drop(b);
        peak = peak.max(status_kib("VmHWM:").saturating_sub(before));
    }
    times.sort_by(|a, b| a.total_cmp(b));
    println!(
        "{what:<40} {got:>9} B  median {:>8.2} ms  (min {:>7.2})  peak RSS +{:>6.1} MiB (baseline {:.1} MiB)",
        times[times.len() / 2],
        times[0],
        peak as f64 / 1024.0,
        base as f64 / 1024.0
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| tmp.path().to_path_buf());
    let store = SqliteStore::open_with(
        &root.join("store"),
        SqliteConfig {
            durability: Durability::Normal,
            ..SqliteConfig::default()
        },
    )
    .expect("open");
    store.create_account("bench", "x").await.expect("account");
    let acc = store.open_account("bench").await.expect("open");
    let inbox = acc.mailbox("INBOX").await.expect("inbox").id;
    {
        let mut v = b"Subject: big\r\n\r\n".to_vec();
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        while v.len() < SIZE {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            v.push(b'a' + (x % 26) as u8);
        }
        let t = Instant::now();
        acc.append(
            inbox,
            vec![NewMessage {
                data: Bytes::from(v),
                flags: Flags::new(),
                internal_date: None,
                structure: Bytes::from(vec![b's'; 2000]),
            }],
        )
        .await
        .expect("append");
        println!(
            "append 50 MiB message: {:.0} ms",
            t.elapsed().as_secs_f64() * 1e3
        );
    }
    let uid = Uid(1);
    let a = &acc;
    // Warm the OS page cache and the reader pool.
    let whole = a.read_message(inbox, uid).await.expect("read");
    assert_eq!(whole.len(), SIZE);
    let tail = a
        .read_range(inbox, uid, SIZE as u64 - SLICE, SLICE)
        .await
        .expect("range");
    assert!(tail == whole.slice(SIZE - SLICE as usize..));
    drop((whole, tail));

    measure("read_range 1 MiB at offset 0", || async move {
        a.read_range(inbox, uid, 0, SLICE).await.expect("range")
    })
    .await;
    measure("read_range 1 MiB at offset 25 MiB", || async move {
        a.read_range(inbox, uid, 25 << 20, SLICE)
            .await
            .expect("range")
    })
    .await;
    measure("read_range last 1 MiB", || async move {
        a.read_range(inbox, uid, SIZE as u64 - SLICE, SLICE)
            .await
            .expect("range")
    })
    .await;
    measure("read_range 4 KiB at offset 49 MiB", || async move {
        a.read_range(inbox, uid, 49 << 20, 4096)
            .await
            .expect("range")
    })
    .await;
    measure("read_structure (2000 B)", || async move {
        a.read_structure(inbox, uid).await.expect("structure")
    })
    .await;
    measure("read_message (whole 50 MiB)", || async move {
        a.read_message(inbox, uid).await.expect("read")
    })
    .await;
    // For comparison: COPY of that message (the refcount trigger updates
    // the blob's row).
    let arch = acc.mailbox("Archive").await.expect("archive").id;
    measure("copy (refcount update of the blob row)", || async move {
        a.copy(inbox, &tidemark_store::UidSet::range(1, 1), arch)
            .await
            .expect("copy");
        Bytes::new()
    })
    .await;
}
