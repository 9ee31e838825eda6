//! `ctlinit status`, `health` and `restart` (SPEC §10, §11): they find the
//! supervisor through its PID file and decide whether it runs by its lock,
//! as /proc/locks shows it, and by proof that the holder is the process
//! that wrote the file (its start time) — never by whether a PID from a
//! file is alive.

mod health;
mod restart;
mod status;

pub use health::health;
pub use restart::restart;
pub use status::status;

use crate::cli::Target;
use crate::files::pidfile::{self, ReadError, Record};
use crate::files::{lock, paths};
use crate::os::procfs;
use std::path::PathBuf;

/// A supervisor as the verbs see it.
struct Found {
    rec: Record,
    /// The lock holder's pid as seen from here (0: held, but invisible).
    holder: Option<i32>,
}

impl Found {
    /// The lock's holder is the supervisor that wrote the PID file: the
    /// start time the file records is the holder's (a start time, unlike a
    /// pid, reads the same from every PID namespace). A file without one
    /// proves nothing: any process can hold a lock and be named in a file.
    fn proven(&self) -> bool {
        let Some(h) = self.holder.filter(|h| *h > 0) else {
            return false;
        };
        let t = self.rec.supervisor_start;
        t != 0 && procfs::stat(h).is_some_and(|p| p.start_ticks == t)
    }
}

enum Lookup {
    Found(Found),
    NoFile(PathBuf),
    Bad(PathBuf, ReadError),
}

fn files(target: &Target) -> (PathBuf, PathBuf) {
    let p = paths::for_verbs(target.pidfile.as_deref(), target.lockfile.as_deref());
    (
        p.pidfile.unwrap_or_default(),
        p.lockfile.unwrap_or_default(),
    )
}

fn lookup(target: &Target) -> Lookup {
    let (pidfile, lockfile) = files(target);
    match pidfile::read(&pidfile) {
        Err(ReadError::Missing) => Lookup::NoFile(pidfile),
        Err(e) => Lookup::Bad(pidfile, e),
        Ok(rec) => Lookup::Found(Found {
            rec,
            holder: lock::holder(&lockfile),
        }),
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
