//! Collects every child that changed state: `waitpid(-1, WNOHANG)` until
//! nothing is left (SIGCHLDs coalesce, so one signal may stand for many
//! exits). Never signals anything.
//!
//! The raw waitpid, because nix's turns a death by a real-time signal into
//! an error after the child was already reaped: that exit would be lost.

use crate::core::ended::Ended;
use std::io;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Ended {
        pid: i32,
        ended: Ended,
    },
    /// Stopped by a job-control signal (`WUNTRACED`).
    Stopped {
        pid: i32,
        sig: i32,
    },
}

/// Reaps everything reapable now into `out`; returns whether any child is
/// left (running or stopped).
pub fn reap(out: &mut Vec<Change>) -> bool {
    loop {
        let mut status = 0;
        // SAFETY: waitpid writes one int through a valid pointer.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG | libc::WUNTRACED) };
        match pid {
            0 => return true,
            -1 if io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) => continue,
            -1 => return false, // ECHILD: no children at all
            _ => {}
        }
        if libc::WIFEXITED(status) {
            out.push(Change::Ended {
                pid,
                ended: Ended::Code(libc::WEXITSTATUS(status)),
            });
        } else if libc::WIFSIGNALED(status) {
            out.push(Change::Ended {
                pid,
                ended: Ended::Signal(libc::WTERMSIG(status)),
            });
        } else if libc::WIFSTOPPED(status) {
            out.push(Change::Stopped {
                pid,
                sig: libc::WSTOPSIG(status),
            });
        }
    }
}
