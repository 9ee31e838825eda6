//! The one table of ctlinit's exit statuses (SPEC §12, §10) and the error
//! type for everything that ends ctlinit before supervision starts. Each
//! variant renders as one sentence that names the thing (flag, variable,
//! path, call) and what to do.

use std::fmt;

/// Every status ctlinit itself chooses. The daemon's own status (code, or
/// 128 + signal) passes through everywhere else, as 0 when it is in
/// `--success-exit`.
pub mod status {
    /// The last run could not be spawned for a temporary reason (EAGAIN, ENOMEM).
    pub const SPAWN_FAILED: i32 = 1;
    /// Usage or configuration error, or a setup call that failed.
    pub const USAGE: i32 = 2;
    /// A port could not be freed before a start.
    pub const PORT_BUSY: i32 = 69;
    /// Another ctlinit holds the singleton lock.
    pub const LOCK_HELD: i32 = 75;
    /// COMMAND was found but cannot be executed.
    pub const NOT_EXECUTABLE: i32 = 126;
    /// COMMAND was not found.
    pub const NOT_FOUND: i32 = 127;

    /// The verbs (`status`, `health`, `restart`).
    pub mod verb {
        pub const OK: i32 = 0;
        /// `health`: not ready; `restart`: timed out or refused by --check.
        pub const FAILED: i32 = 1;
        /// No supervisor runs (no PID file, a stale one, or one not proven).
        pub const NOT_RUNNING: i32 = 3;
        /// `status`: the PID file cannot be read or parsed.
        pub const UNREADABLE: i32 = 4;
    }
}

#[derive(Debug)]
pub enum Error {
    /// Bad flag, variable or value; the message names it. Exit 2.
    Usage(String),
    /// A path or a setup call ctlinit depends on failed. Exit 2.
    Setup(String),
    /// The singleton lock is held by another ctlinit. Exit 75.
    LockHeld { pid: Option<i32>, path: String },
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) | Error::Setup(_) => status::USAGE,
            Error::LockHeld { .. } => status::LOCK_HELD,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(m) => write!(f, "{m} (see ctlinit --help)"),
            Error::Setup(m) => write!(f, "{m}"),
            Error::LockHeld { pid, path } => match pid {
                Some(p) => write!(f, "another ctlinit (pid {p}) holds {path}"),
                None => write!(f, "another ctlinit (pid unknown) holds {path}"),
            },
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// ctlinit's own exit status for how supervision ended.
pub fn exit_status(code: crate::core::events::ExitCode) -> i32 {
    use crate::core::events::{ExitCode, SpawnError};
    match code {
        ExitCode::Status(s) => s,
        ExitCode::PortBusy => status::PORT_BUSY,
        ExitCode::Spawn(SpawnError::NotFound) => status::NOT_FOUND,
        ExitCode::Spawn(SpawnError::NotExecutable) => status::NOT_EXECUTABLE,
        ExitCode::Spawn(SpawnError::Temporary) => status::SPAWN_FAILED,
    }
}
