//! `tidemark user ...`: account administration.

use crate::cli::UserCommand;
use crate::config;
use crate::error::{Fail, Result};
use std::io::{BufRead, Write};
use tidemark_imap_server::password;
use tidemark_store::StoreError;

/// Runs one `user` subcommand. Prints results on stdout.
pub async fn run(cmd: UserCommand) -> Result<()> {
    match cmd {
        UserCommand::Add {
            name,
            dirs,
            password_stdin,
        } => {
            check_name(&name)?;
            let data_dir = config::resolve_data_dir(&dirs)?;
            let pw = read_new_password(password_stdin)?;
            crate::store::create_data_dir(&data_dir)?;
            let store = crate::store::open_store(&data_dir)?;
            let phc = hash(pw).await?;
            store
                .create_account(&name, &phc)
                .await
                .map_err(|e| match e {
                    StoreError::AccountExists => {
                        Fail::runtime(format!("account {name:?} already exists"))
                    }
                    e => Fail::runtime(format!("cannot create account {name:?}: {e}")),
                })?;
            println!("created account {name}");
        }
        UserCommand::List { dirs } => {
            let data_dir = config::resolve_data_dir(&dirs)?;
            crate::store::require_data_dir(&data_dir)?;
            let store = crate::store::open_store(&data_dir)?;
            let names = store
                .list_accounts()
                .await
                .map_err(|e| Fail::runtime(format!("cannot list accounts: {e}")))?;
            let mut out = std::io::stdout().lock();
            for n in names {
                let _ = writeln!(out, "{n}");
            }
        }
        UserCommand::Del { name, dirs } => {
            let data_dir = config::resolve_data_dir(&dirs)?;
            crate::store::require_data_dir(&data_dir)?;
            let store = crate::store::open_store(&data_dir)?;
            store.delete_account(&name).await.map_err(|e| match e {
                StoreError::NoSuchAccount => Fail::runtime(format!("no such account: {name:?}")),
                e => Fail::runtime(format!("cannot delete account {name:?}: {e}")),
            })?;
            println!("deleted account {name}");
        }
        UserCommand::Passwd {
            name,
            dirs,
            password_stdin,
        } => {
            let data_dir = config::resolve_data_dir(&dirs)?;
            crate::store::require_data_dir(&data_dir)?;
            let store = crate::store::open_store(&data_dir)?;
            let exists = store
                .credential(&name)
                .await
                .map_err(|e| Fail::runtime(format!("cannot read account {name:?}: {e}")))?
                .is_some();
            if !exists {
                return Err(Fail::runtime(format!("no such account: {name:?}")));
            }
            let pw = read_new_password(password_stdin)?;
            let phc = hash(pw).await?;
            store
                .set_credential(&name, &phc)
                .await
                .map_err(|e| match e {
                    StoreError::NoSuchAccount => {
                        Fail::runtime(format!("no such account: {name:?}"))
                    }
                    e => Fail::runtime(format!("cannot set the password of {name:?}: {e}")),
                })?;
            println!("changed password of {name}");
        }
    }
    Ok(())
}

async fn hash(pw: String) -> Result<String> {
    tokio::task::spawn_blocking(move || password::make_credential(&pw))
        .await
        .map_err(|e| Fail::runtime(format!("password hashing failed: {e}")))?
        .map_err(|e| Fail::runtime(e.to_string()))
}

/// Account names: 1..=255 bytes of UTF-8, no control characters, no
/// whitespace (IMAP LOGIN takes them as astrings; keep them simple).
pub fn check_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Fail::config("account name must not be empty"));
    }
    if name.len() > 255 {
        return Err(Fail::config("account name is longer than 255 bytes"));
    }
    if let Some(c) = name.chars().find(|c| c.is_control() || c.is_whitespace()) {
        return Err(Fail::config(format!(
            "account name {name:?} contains {c:?}: whitespace and control characters are not allowed"
        )));
    }
    Ok(())
}

fn read_new_password(from_stdin: bool) -> Result<String> {
    let pw = if from_stdin {
        read_password_line(&mut std::io::stdin().lock())?
    } else {
        prompt_twice()?
    };
    if pw.is_empty() {
        return Err(Fail::config("empty password"));
    }
    Ok(pw)
}

/// One line from `r`, without its line ending.
fn read_password_line(r: &mut impl BufRead) -> Result<String> {
    let mut line = String::new();
    r.read_line(&mut line)
        .map_err(|e| Fail::config(format!("cannot read the password from standard input: {e}")))?;
    if let Some(s) = line.strip_suffix('\n') {
        line.truncate(s.strip_suffix('\r').unwrap_or(s).len());
    }
    if line.is_empty() {
        return Err(Fail::config("empty password on standard input"));
    }
    Ok(line)
}

fn prompt_twice() -> Result<String> {
    let no_tty = |e: std::io::Error| {
        Fail::config(format!(
            "cannot read a password from the terminal ({e}); use --password-stdin"
        ))
    };
    let a = rpassword::prompt_password("Password: ").map_err(no_tty)?;
    if a.is_empty() {
        return Err(Fail::config("empty password"));
    }
    let b = rpassword::prompt_password("Repeat password: ").map_err(no_tty)?;
    if a != b {
        return Err(Fail::config("the passwords do not match"));
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_lines() {
        let r = |s: &str| read_password_line(&mut s.as_bytes()).map_err(|e| e.msg);
        assert_eq!(r("secret\n").unwrap(), "secret");
        assert_eq!(r("secret\r\n").unwrap(), "secret");
        assert_eq!(r("secret").unwrap(), "secret");
        assert_eq!(r(" spaced pw \nsecond line\n").unwrap(), " spaced pw ");
        assert!(r("\n").is_err());
        assert!(r("").is_err());
        assert!(r("\r\n").is_err());
    }

    #[test]
    fn names() {
        assert!(check_name("alice").is_ok());
        assert!(check_name("alice@example.org").is_ok());
        assert!(check_name("jürgen").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name("a b").is_err());
        assert!(check_name("a\tb").is_err());
        assert!(check_name("a\u{7f}").is_err());
        assert!(check_name(&"x".repeat(256)).is_err());
    }
}
