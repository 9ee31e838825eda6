//! ctlinit's files on disk: the PID file, the singleton lock, and where
//! both live by default.

pub mod lock;
pub mod paths;
pub mod pidfile;
