//! ctlinit's own process settings: the subreaper role, the parent-death
//! signal, timer slack. Each call's result is checked: setup either works or
//! ctlinit stops before anything starts (§14.24).

use nix::sys::prctl;
use nix::unistd::{getpid, getppid};

pub fn own_pid() -> i32 {
    getpid().as_raw()
}

/// Outside a PID namespace, orphans of the daemon's tree come to ctlinit.
pub fn become_subreaper() -> Result<(), String> {
    prctl::set_child_subreaper(true).map_err(|e| format!("prctl(PR_SET_CHILD_SUBREAPER): {e}"))
}

/// `--pdeathsig`: the signal ctlinit receives when its parent dies.
pub fn set_parent_death_signal(sig: i32) -> Result<(), String> {
    let parent = getppid();
    // nix's Signal has no real-time signals: the raw prctl takes any number.
    // SAFETY: prctl(PR_SET_PDEATHSIG) with an integer argument only.
    let r = unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, sig as libc::c_ulong, 0, 0, 0) };
    if r != 0 {
        return Err(format!(
            "prctl(PR_SET_PDEATHSIG): {}",
            std::io::Error::last_os_error()
        ));
    }
    if getppid() != parent {
        // The parent died before the request took effect: deliver it now
        // (it is blocked, so it waits in the signalfd like any other).
        // SAFETY: kill(2) on our own pid.
        unsafe { libc::kill(getpid().as_raw(), sig) };
    }
    Ok(())
}

/// Deadlines (backoff, stop grace) are few and should fire on time: 1 µs of
/// timer slack instead of the default 50 µs. A tuning, so a failure is only
/// logged.
pub fn tighten_timer_slack() {
    if let Err(e) = prctl::set_timerslack(1000) {
        log::debug!("prctl(PR_SET_TIMERSLACK): {e}");
    }
}
