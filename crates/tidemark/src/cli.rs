//! Command-line interface (clap derive). Scripts depend on this contract:
//!
//! ```text
//! tidemark serve [--data-dir DIR] [--imap ADDR] [--imaps ADDR] [--lmtp ADDR] [--http ADDR] [--config FILE]
//! tidemark status [--data-dir DIR] [--config FILE] [--http ADDR] [--json]
//! tidemark user add NAME [--data-dir DIR] [--password-stdin]
//! tidemark user list [--data-dir DIR]
//! tidemark user del NAME [--data-dir DIR]
//! tidemark user passwd NAME [--data-dir DIR] [--password-stdin]
//! tidemark mailbox list --user NAME [--data-dir DIR]
//! tidemark mailbox create --user NAME MAILBOX [--special-use USE]... [--data-dir DIR]
//! tidemark mailbox delete --user NAME MAILBOX [--data-dir DIR]
//! tidemark import --user NAME [--mailbox NAME] [--data-dir DIR] [--config FILE] PATH
//! tidemark export --user NAME --format maildir|mbox [--mailbox NAME] [--data-dir DIR] [--config FILE] DIR
//! ```

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// tidemark: an IMAP4rev2 mail server.
#[derive(Debug, Parser)]
#[command(name = "tidemark", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage an account's mailboxes.
    #[command(subcommand)]
    Mailbox(MailboxCommand),
    /// Show a running server's status (through its HTTP endpoint).
    Status(StatusArgs),
    /// Import mail from an mbox file, a Maildir, a Maildir++ tree or a
    /// directory of mbox files (resumable: run it again after an
    /// interruption).
    Import(ImportArgs),
    /// Export an account's mail as a Maildir++ tree or as mbox files.
    Export(ExportArgs),
}

#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub dirs: DataDirArgs,
    /// The server's HTTP address [default: the first `[http] listen` of
    /// the config file].
    #[arg(long, value_name = "ADDR")]
    pub http: Option<String>,
    /// Print the server's JSON as it is.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum MailboxCommand {
    /// List the mailboxes with their counts.
    List {
        #[command(flatten)]
        dirs: DataDirArgs,
        /// Account name.
        #[arg(long)]
        user: String,
    },
    /// Create a mailbox (and its missing parents).
    Create {
        #[command(flatten)]
        dirs: DataDirArgs,
        /// Account name.
        #[arg(long)]
        user: String,
        /// Mailbox name (`/` separates levels).
        name: String,
        /// Special use (RFC 6154): Sent, Drafts, Trash, Junk, Archive, ...
        #[arg(long, value_name = "USE")]
        special_use: Vec<String>,
    },
    /// Delete a mailbox and its messages (not INBOX).
    Delete {
        #[command(flatten)]
        dirs: DataDirArgs,
        /// Account name.
        #[arg(long)]
        user: String,
        /// Mailbox name.
        name: String,
    },
}

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// The account to import into.
    #[arg(long, value_name = "NAME")]
    pub user: String,
    /// Target mailbox [default: INBOX for an mbox file or a Maildir's own
    /// messages; folders of a tree go below it].
    #[arg(long, value_name = "NAME")]
    pub mailbox: Option<String>,
    #[command(flatten)]
    pub dirs: DataDirArgs,
    /// An mbox file, a Maildir (has cur/ or new/; Maildir++ subfolders
    /// `.Sub.Folder` become `Sub/Folder`), or a directory of mbox files
    /// (subdirectories are hierarchy).
    #[arg(value_name = "PATH")]
    pub path: PathBuf,
}

/// The on-disk format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Maildir++ with dovecot-uidlist and dovecot-keywords.
    Maildir,
    /// One mboxrd file per mailbox.
    Mbox,
}

#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// The account to export.
    #[arg(long, value_name = "NAME")]
    pub user: String,
    /// The format to write.
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Export only this mailbox [default: all].
    #[arg(long, value_name = "NAME")]
    pub mailbox: Option<String>,
    #[command(flatten)]
    pub dirs: DataDirArgs,
    /// Directory to write (missing or empty).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

/// Where the data lives (and optionally which config file to read).
#[derive(Debug, Clone, Default, Args)]
pub struct DataDirArgs {
    /// Data directory [default: ./tidemark-data, or `data_dir` from the config file].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Config file (TOML) [default: DATA_DIR/tidemark.toml if it exists].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub dirs: DataDirArgs,
    /// Plain IMAP (STARTTLS) listen address; repeatable; `off` disables
    /// [default: 127.0.0.1:1143].
    #[arg(long, value_name = "ADDR")]
    pub imap: Vec<String>,
    /// Implicit-TLS IMAP listen address; repeatable; `off` disables
    /// [default: 127.0.0.1:1993].
    #[arg(long, value_name = "ADDR")]
    pub imaps: Vec<String>,
    /// LMTP listen address; repeatable [default: off].
    #[arg(long, value_name = "ADDR")]
    pub lmtp: Vec<String>,
    /// HTTP listen address (metrics, health, status, nginx auth_http; no
    /// TLS, no authentication: keep it on loopback); repeatable
    /// [default: off].
    #[arg(long, value_name = "ADDR")]
    pub http: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account (with the default mailboxes).
    Add {
        /// Account (login) name.
        name: String,
        #[command(flatten)]
        dirs: DataDirArgs,
        /// Read the password as one line from standard input instead of
        /// prompting on the terminal.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List accounts, one per line.
    List {
        #[command(flatten)]
        dirs: DataDirArgs,
    },
    /// Delete an account and all its mail.
    Del {
        /// Account (login) name.
        name: String,
        #[command(flatten)]
        dirs: DataDirArgs,
    },
    /// Change an account's password.
    Passwd {
        /// Account (login) name.
        name: String,
        #[command(flatten)]
        dirs: DataDirArgs,
        /// Read the password as one line from standard input instead of
        /// prompting on the terminal.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_contract() {
        let c = Cli::try_parse_from([
            "tidemark",
            "serve",
            "--data-dir",
            "d",
            "--imap",
            "127.0.0.1:1",
            "--imaps",
            "off",
            "--lmtp",
            "127.0.0.1:24",
            "--config",
            "c.toml",
        ])
        .unwrap();
        let Command::Serve(s) = c.command else {
            panic!()
        };
        assert_eq!(s.dirs.data_dir.as_deref(), Some(std::path::Path::new("d")));
        assert_eq!(s.imap, ["127.0.0.1:1"]);
        assert_eq!(s.imaps, ["off"]);
        assert_eq!(s.lmtp, ["127.0.0.1:24"]);
        let c =
            Cli::try_parse_from(["tidemark", "user", "add", "alice", "--password-stdin"]).unwrap();
        assert!(matches!(
            c.command,
            Command::User(UserCommand::Add {
                password_stdin: true,
                ..
            })
        ));
        let c = Cli::try_parse_from(["tidemark", "user", "passwd", "alice", "--data-dir", "x"])
            .unwrap();
        assert!(matches!(
            c.command,
            Command::User(UserCommand::Passwd {
                password_stdin: false,
                ..
            })
        ));
        assert!(Cli::try_parse_from(["tidemark", "user", "add"]).is_err());
        assert!(Cli::try_parse_from(["tidemark", "bogus"]).is_err());
        let c = Cli::try_parse_from([
            "tidemark",
            "import",
            "--user",
            "a",
            "--mailbox",
            "M",
            "x.mbox",
        ])
        .unwrap();
        assert!(
            matches!(c.command, Command::Import(ImportArgs { ref mailbox, .. }) if mailbox.as_deref() == Some("M"))
        );
        let c = Cli::try_parse_from([
            "tidemark", "export", "--user", "a", "--format", "mbox", "out",
        ])
        .unwrap();
        assert!(matches!(
            c.command,
            Command::Export(ExportArgs {
                format: ExportFormat::Mbox,
                ..
            })
        ));
        assert!(
            Cli::try_parse_from(["tidemark", "export", "--user", "a", "--format", "zip", "o"])
                .is_err()
        );
        assert!(Cli::try_parse_from(["tidemark", "import", "x.mbox"]).is_err());
    }
}
