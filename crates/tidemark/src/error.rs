//! The binary's error type: a message and the process exit code.

use std::fmt;

/// Exit code for bad configuration or bad input (clap uses 2 for bad CLI too).
pub const EXIT_CONFIG: u8 = 2;
/// Exit code for a runtime failure (port taken, store error...).
pub const EXIT_RUNTIME: u8 = 1;

/// A failure that ends the process with a message.
#[derive(Debug)]
pub struct Fail {
    pub code: u8,
    pub msg: String,
}

impl Fail {
    /// Bad configuration or input: exit code 2.
    pub fn config(msg: impl Into<String>) -> Self {
        Fail {
            code: EXIT_CONFIG,
            msg: msg.into(),
        }
    }
    /// Runtime failure: exit code 1.
    pub fn runtime(msg: impl Into<String>) -> Self {
        Fail {
            code: EXIT_RUNTIME,
            msg: msg.into(),
        }
    }
}

impl fmt::Display for Fail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl std::error::Error for Fail {}

pub type Result<T, E = Fail> = std::result::Result<T, E>;
