//! Signals ctlinit's whole tree: every descendant, found through /proc.
//! `kill(-1)` is used only when ctlinit is PID 1 of its own PID namespace and
//! the container is ending — outside a namespace it would hit the whole
//! session, so it is never used there.

use crate::{procfs, signals};
use log::debug;

/// Signals every descendant of `own_pid`; returns how many were signalled.
pub fn signal_tree(own_pid: i32, sig: i32, ending: bool) -> usize {
    if own_pid == 1 && ending {
        // Atomic, and it outruns a fork loop that a /proc walk would chase.
        let _ = signals::send(-1, sig);
        return 1;
    }
    let mut n = 0;
    for pid in procfs::descendants(own_pid) {
        match signals::send(pid, sig) {
            Ok(()) => n += 1,
            Err(e) => debug!("cannot signal pid {pid}: {e}"),
        }
    }
    if n > 0 {
        debug!("sent {} to {n} remaining process(es)", signals::name(sig));
    }
    n
}
