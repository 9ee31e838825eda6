//! Collects every child that changed state: `waitpid(-1, WNOHANG)` until
//! nothing is left (SIGCHLDs coalesce, so one signal may stand for many
//! exits). Never signals anything.

use crate::exit_status::Ended;
use nix::errno::Errno;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

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

/// Reaps everything reapable now; returns true if children remain.
pub fn reap(out: &mut Vec<Change>) -> bool {
    let flags = WaitPidFlag::WNOHANG | WaitPidFlag::WUNTRACED;
    loop {
        match waitpid(Pid::from_raw(-1), Some(flags)) {
            Ok(WaitStatus::StillAlive) => return true,
            Ok(WaitStatus::Stopped(pid, sig)) => out.push(Change::Stopped {
                pid: pid.as_raw(),
                sig: sig as i32,
            }),
            Ok(ws) => {
                if let Some((pid, ended)) = Ended::from_wait(ws) {
                    out.push(Change::Ended { pid, ended });
                }
            }
            Err(Errno::EINTR) => continue,
            Err(_) => return false, // ECHILD: no children at all
        }
    }
}
