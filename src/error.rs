//! One error type for everything that ends ctlinit before or outside the
//! supervision loop. Each variant renders as one sentence that names the thing
//! (flag, path, port, pid) and what to do; `exit_code` is the only place where
//! those failures are mapped to ctlinit's documented exit statuses (SPEC §12).

use std::fmt;

#[derive(Debug)]
pub enum Error {
    /// Bad flag, variable or value; the message names it. Exit 2.
    Usage(String),
    /// A configured path cannot be used (explicit --pidfile, --lockfile). Exit 2.
    Config(String),
    /// The singleton lock is held by another ctlinit. Exit 75.
    LockHeld { pid: Option<i32>, path: String },
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) | Error::Config(_) => 2,
            Error::LockHeld { .. } => 75,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(m) => write!(f, "{m} (see ctlinit --help)"),
            Error::Config(m) => write!(f, "{m}"),
            Error::LockHeld { pid, path } => match pid {
                Some(p) => write!(f, "another ctlinit (pid {p}) holds {path}"),
                None => write!(f, "another ctlinit (pid unknown) holds {path}"),
            },
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
