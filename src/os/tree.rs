//! Performs a sweep of ctlinit's remaining processes, in the scope the core
//! chose: every descendant found through /proc, each signalled through a
//! verified pidfd, or `kill(-1)` as PID 1 of a namespace that is ending.

use crate::core::events::Scope;
use crate::core::signals;
use crate::os::{pidfd, procfs, signals as os_signals};
use log::{debug, warn};

/// Signals what remains of `own_pid`'s tree; returns how many were signalled.
pub fn signal(own_pid: i32, sig: i32, scope: Scope) -> usize {
    if scope == Scope::Namespace {
        // Atomic, and it outruns a fork loop that a /proc walk would chase.
        return match os_signals::send_everyone(sig) {
            Ok(()) => 1,
            Err(e) => {
                debug!("kill(-1, {}) failed: {e}", signals::name(sig));
                0
            }
        };
    }
    let mut n = 0;
    for p in procfs::descendants(own_pid) {
        match pidfd::signal_verified(p.pid, p.start_ticks, sig) {
            Ok(pidfd::Sent::Yes) => n += 1,
            Ok(pidfd::Sent::NotThatProcess) => debug!("pid {} is gone: not signalled", p.pid),
            Err(e) => debug!("cannot signal pid {}: {e}", p.pid),
        }
    }
    if n > 0 {
        debug!("sent {} to {n} remaining process(es)", signals::name(sig));
    }
    n
}

/// Logs every process of the tree that is still there after SIGKILL (§14.25).
pub fn report_survivors(own_pid: i32) {
    for p in procfs::descendants(own_pid) {
        warn!(
            "pid {} survived SIGKILL for 2s (state {}{}); waiting for the kernel to release it",
            p.pid,
            p.state,
            if p.state == 'D' {
                ", uninterruptible sleep"
            } else {
                ""
            }
        );
    }
}
