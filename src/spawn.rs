//! Starts the daemon (SPEC §3). The only fork/exec in ctlinit, and most of its
//! `unsafe`: the `pre_exec` hook runs between fork and exec, where only
//! async-signal-safe calls are allowed — no allocation, no logging, no locks.

use std::ffi::OsString;
use std::io;
use std::os::unix::process::CommandExt;
use std::process::Command;

pub struct Spec<'a> {
    pub argv: &'a [OsString],
    /// Variables set on top of ctlinit's own environment (the markers).
    pub env: Vec<(String, String)>,
    /// Give the daemon the terminal's foreground (there is a controlling tty on stdin).
    pub foreground_tty: bool,
}

#[derive(Debug)]
pub struct SpawnError {
    pub status: i32,
    pub message: String,
}

/// True when stdin is ctlinit's controlling terminal.
pub fn has_controlling_tty() -> bool {
    // SAFETY: tcgetpgrp only queries the descriptor.
    unsafe { libc::isatty(0) == 1 && libc::tcgetpgrp(0) >= 0 }
}

pub fn spawn(spec: &Spec) -> Result<i32, SpawnError> {
    let program = &spec.argv[0];
    let mut cmd = Command::new(program);
    cmd.args(&spec.argv[1..]);
    for (k, v) in &spec.env {
        cmd.env(k, v);
    }
    let tty = spec.foreground_tty;
    // SAFETY: the closure only makes async-signal-safe syscalls (setsid,
    // setpgid, tcsetpgrp, rt_sigaction, rt_sigprocmask) on stack data.
    unsafe {
        cmd.pre_exec(move || {
            if tty {
                // Own group, and the terminal's foreground, so Ctrl-C reaches
                // the daemon. The inherited mask still blocks SIGTTOU here,
                // which lets a background process take the foreground.
                if libc::setpgid(0, 0) != 0 {
                    return Err(io::Error::last_os_error());
                }
                libc::tcsetpgrp(0, libc::getpid());
            } else if libc::setsid() < 0 {
                // Without a terminal: own session and group.
                return Err(io::Error::last_os_error());
            }
            // Default dispositions for everything (ignored signals survive
            // exec otherwise), then the empty mask. Raw syscalls, because
            // glibc and musl refuse to touch the signals they reserve
            // (32-34), which a parent may still have left ignored. An
            // all-zero kernel sigaction is SIG_DFL, no flags, empty mask.
            let dfl = [0u64; 4];
            for sig in 1..=64 {
                if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                    libc::syscall(
                        libc::SYS_rt_sigaction,
                        sig,
                        dfl.as_ptr(),
                        std::ptr::null_mut::<u64>(),
                        8,
                    );
                }
            }
            let empty: u64 = 0;
            libc::syscall(
                libc::SYS_rt_sigprocmask,
                libc::SIG_SETMASK,
                &empty as *const u64,
                std::ptr::null_mut::<u64>(),
                8,
            );
            Ok(())
        });
    }
    match cmd.spawn() {
        // The std handle is dropped unwaited: the reaper collects every child.
        Ok(child) => Ok(child.id() as i32),
        Err(e) => Err(classify(program, &e)),
    }
}

/// Maps an exec failure to 127 (not found) or 126 (found, not executable).
fn classify(program: &OsString, e: &io::Error) -> SpawnError {
    let name = program.to_string_lossy();
    let (status, what) = match e.kind() {
        io::ErrorKind::NotFound => (127, "not found (check the name and PATH)"),
        io::ErrorKind::PermissionDenied => (126, "permission denied (is it executable?)"),
        _ if e.raw_os_error() == Some(libc::ENOEXEC) => {
            (126, "not an executable format (missing #! line?)")
        }
        _ => (126, "cannot be executed"),
    };
    SpawnError {
        status,
        message: format!("cannot execute '{name}': {what}: {e}"),
    }
}
