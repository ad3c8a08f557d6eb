//! The `tidemark` binary: `serve`, `user` administration, `import` and `export`.

mod cli;
mod compress;
mod config;
mod conn_limit;
mod error;
mod export;
mod fsutil;
mod http;
mod import;
mod lmtp;
mod mailbox_admin;
mod mailfile;
mod metrics;
mod net;
mod oauth;
mod serve;
mod status;
mod store;
mod timed_store;
mod tls;
mod user;

use clap::Parser;
use cli::{Cli, Command};
use std::process::ExitCode;

fn init_logging(default: &str, format: config::LogFormat) {
    use tracing_subscriber::EnvFilter;
    let (filter, bad) = match std::env::var("TIDEMARK_LOG") {
        Ok(v) if !v.trim().is_empty() => match EnvFilter::try_new(&v) {
            Ok(f) => (f, None),
            Err(e) => (
                EnvFilter::new(default),
                Some(format!("ignoring invalid TIDEMARK_LOG {v:?}: {e}")),
            ),
        },
        _ => (EnvFilter::new(default), None),
    };
    use std::io::IsTerminal;
    match format {
        config::LogFormat::Text => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(std::io::stderr)
            .init(),
        // One object per line: timestamp, level, target, message and the
        // event's fields at the top level.
        config::LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init(),
    }
    if let Some(msg) = bad {
        tracing::warn!("{msg}");
    }
}

/// Makes glibc serve large allocations (message literals, FETCH bodies,
/// the 19 MiB of each argon2 verification) from their own mappings that go
/// back to the OS on free. By default glibc raises this threshold after the
/// first such free, after which every thread's arena keeps up to tens of
/// MiB resident: measured, 20 sequential logins left ~180 MiB RSS before,
/// see BENCHMARKS.md.
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a glibc tunable; it is called once, before
    // any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

fn main() -> ExitCode {
    tune_allocator();
    let cli = Cli::parse();
    // The log format comes from the config file, which is read here a first
    // time just for it (errors in it are reported once serving starts).
    match &cli.command {
        Command::Serve(a) => init_logging("info", config::early_log_format(&a.dirs)),
        Command::User(_)
        | Command::Mailbox(_)
        | Command::Status(_)
        | Command::Import(_)
        | Command::Export(_) => init_logging("warn", config::LogFormat::Text),
    }
    if let Command::Status(args) = &cli.command {
        return match status::run(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("tidemark: error: {e}");
                ExitCode::from(e.code)
            }
        };
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tidemark: error: cannot start the async runtime: {e}");
            return ExitCode::from(error::EXIT_RUNTIME);
        }
    };
    let result = rt.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve::run(args).await,
            Command::User(cmd) => user::run(cmd).await,
            Command::Mailbox(cmd) => mailbox_admin::run(cmd).await,
            Command::Status(_) => unreachable!("handled before the runtime starts"),
            Command::Import(args) => import::run(args).await,
            Command::Export(args) => export::run(args).await,
        }
    });
    // Don't wait for stray blocking tasks.
    rt.shutdown_timeout(std::time::Duration::from_secs(2));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tidemark: error: {e}");
            ExitCode::from(e.code)
        }
    }
}
