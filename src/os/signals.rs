//! Where signals arrive, and how ctlinit sends them.
//!
//! ctlinit blocks every signal it can receive (1-64 but KILL and STOP) and
//! reads them from a signalfd, so they join the one blocking wait of the
//! event loop: no handlers, no flags, no races with `waitpid`. A blocked
//! signal is queued even for a namespace's PID 1, whose default-disposition
//! signals the kernel would otherwise drop, and no signal sent from outside
//! can end or stop ctlinit (§14.30). A real fault still kills: the kernel
//! unblocks a synchronous SIGSEGV it raises itself.
//!
//! Raw syscalls with a 64-bit kernel mask, because glibc and musl refuse to
//! block or wait for 32-34, which they reserve for their threads (ctlinit
//! has one thread and needs none of them).

use crate::core::events::{Received, Target};
use crate::core::signals::{CONTROL, MAX, SIGCHLD, SIGKILL, SIGSTOP};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::time::Duration;

/// `ctlinit restart` queues the control signal with this value; the same
/// signal without it is forwarded like any other.
pub const CONTROL_MAGIC: i32 = 0x6374_6c72; // "ctlr"

/// The kernel's sigset: one bit per signal, 64 bits on every architecture
/// ctlinit builds for (`_NSIG` = 64).
const KERNEL_SIGSET: usize = 8;

/// Every signal ctlinit takes: 1-64 but the two that cannot be caught.
pub fn handled_mask() -> u64 {
    (1..=MAX)
        .filter(|&s| s != SIGKILL && s != SIGSTOP)
        .fold(0, |m, s| m | bit(s))
}

fn bit(sig: i32) -> u64 {
    1u64 << (sig - 1)
}

pub struct Intake {
    fd: OwnedFd,
    mask: u64,
}

impl Intake {
    /// Blocks the handled signals and opens the signalfd. Called before
    /// anything is spawned, so nothing that arrives later is lost. A blocked
    /// signal is queued even if an inherited disposition ignores it (the
    /// kernel never discards what is blocked), so only SIGCHLD goes back to
    /// its default: left ignored, the kernel would reap the daemon before
    /// ctlinit could see how it ended.
    pub fn open() -> Result<Intake, String> {
        let mask = handled_mask();
        reset_dispositions(bit(SIGCHLD));
        // SAFETY: rt_sigprocmask with a valid 8-byte set and no old set.
        let r = unsafe {
            libc::syscall(
                libc::SYS_rt_sigprocmask,
                libc::SIG_BLOCK,
                &mask as *const u64,
                std::ptr::null_mut::<u64>(),
                KERNEL_SIGSET,
            )
        };
        if r != 0 {
            return Err(format!(
                "rt_sigprocmask(SIG_BLOCK): {}",
                io::Error::last_os_error()
            ));
        }
        // SAFETY: signalfd4 with a valid 8-byte set; the fd is owned below.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_signalfd4,
                -1,
                &mask as *const u64,
                KERNEL_SIGSET,
                libc::SFD_NONBLOCK | libc::SFD_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(format!("signalfd: {}", io::Error::last_os_error()));
        }
        // SAFETY: a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
        Ok(Intake { fd, mask })
    }

    /// Blocks until a handled signal arrives or `timeout` passes, and takes
    /// it. The whole wait when ctlinit has no other descriptor to watch: one
    /// `rt_sigtimedwait` per wake, the leanest path a forwarded signal can
    /// take. Err only for errors other than a timeout or an interruption.
    pub fn wait(&self, timeout: Option<Duration>, out: &mut Vec<Received>) -> io::Result<()> {
        let ts = timeout.map(|d| libc::timespec {
            // Durations are bounded (365 days + a poll), far inside time_t.
            tv_sec: d.as_secs().min(i64::MAX as u64) as _,
            tv_nsec: d.subsec_nanos() as _,
        });
        let tsp = ts
            .as_ref()
            .map_or(std::ptr::null(), |t| t as *const libc::timespec);
        // SAFETY: siginfo_t is plain old data that the kernel fills.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: a valid 8-byte set, siginfo buffer and (optional) timespec.
        let signo = unsafe {
            libc::syscall(
                libc::SYS_rt_sigtimedwait,
                &self.mask as *const u64,
                &mut info as *mut libc::siginfo_t,
                tsp,
                KERNEL_SIGSET,
            )
        };
        if signo > 0 {
            // SAFETY: the kernel filled `info` for this signal; for signals
            // without a sender the fields read as zero.
            let (pid, value) =
                unsafe { (info.si_pid(), info.si_value().sival_ptr as usize as i32) };
            out.push(received(signo as i32, pid, info.si_code, value));
            return Ok(());
        }
        match io::Error::last_os_error() {
            e if matches!(e.raw_os_error(), Some(libc::EAGAIN | libc::EINTR)) => Ok(()),
            e => Err(e),
        }
    }

    /// Reads every pending signal, up to 16 per read(2).
    pub fn drain(&self, out: &mut Vec<Received>) {
        const BATCH: usize = 16;
        let size = std::mem::size_of::<libc::signalfd_siginfo>();
        loop {
            // SAFETY: signalfd_siginfo is plain old data.
            let mut infos: [libc::signalfd_siginfo; BATCH] = unsafe { std::mem::zeroed() };
            // SAFETY: reading into a buffer of exactly BATCH * size bytes.
            let n =
                unsafe { libc::read(self.fd.as_raw_fd(), infos.as_mut_ptr().cast(), BATCH * size) };
            if n <= 0 {
                return; // EAGAIN: nothing more pending
            }
            let got = n as usize / size;
            out.extend(
                infos[..got]
                    .iter()
                    .map(|i| received(i.ssi_signo as i32, i.ssi_pid as i32, i.ssi_code, i.ssi_int)),
            );
            if got < BATCH {
                return;
            }
        }
    }
}

impl AsFd for Intake {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

fn received(signo: i32, sender: i32, code: i32, value: i32) -> Received {
    Received {
        signo,
        sender,
        control: signo == CONTROL && code == libc::SI_QUEUE && value == CONTROL_MAGIC,
    }
}

/// The signals of `mask` back to SIG_DFL. An all-zero kernel `sigaction`
/// (handler, flags, restorer, mask: 32 bytes on x86_64 and aarch64) is
/// SIG_DFL with no flags. (Resetting a signal whose default is to ignore it
/// discards it if pending: only ever done before anything is pending.)
pub fn reset_dispositions(mask: u64) {
    let dfl = [0u64; 4];
    for sig in 1..=MAX {
        if mask & bit(sig) != 0 {
            // SAFETY: rt_sigaction with a valid zeroed struct and no old action.
            unsafe {
                libc::syscall(
                    libc::SYS_rt_sigaction,
                    sig,
                    dfl.as_ptr(),
                    std::ptr::null_mut::<u64>(),
                    KERNEL_SIGSET,
                );
            }
        }
    }
}

/// Sends `sig` to a process or to a process group ctlinit created.
pub fn send(to: Target, sig: i32) -> io::Result<()> {
    // Never 0, -1 or group 1 here: those would reach ctlinit's own group or
    // the whole namespace.
    let pid = match to {
        Target::Pid(p) if p > 0 => p,
        Target::Group(g) if g > 1 => -g,
        _ => return Err(io::Error::from_raw_os_error(libc::EINVAL)),
    };
    // SAFETY: kill(2) has no memory-safety preconditions.
    if unsafe { libc::kill(pid, sig) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `kill(-1, sig)`: every process of the namespace but ctlinit. The caller
/// (the core's sweep) only asks for it as PID 1 of its own namespace.
pub fn send_everyone(sig: i32) -> io::Result<()> {
    if std::process::id() != 1 {
        return Err(io::Error::from_raw_os_error(libc::EPERM));
    }
    // SAFETY: kill(2) has no memory-safety preconditions.
    if unsafe { libc::kill(-1, sig) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::signals::{FAULTS, SIGCHLD, SIGTERM};

    #[test]
    fn the_kernel_sigset_holds_exactly_the_signals_1_to_64() {
        // x86_64 and aarch64 alike: _NSIG = 64, one bit each, one u64.
        assert_eq!(KERNEL_SIGSET * 8, MAX as usize);
        assert_eq!(std::mem::size_of_val(&handled_mask()), KERNEL_SIGSET);
    }

    #[test]
    fn every_signal_but_kill_and_stop_is_handled() {
        let m = handled_mask();
        assert_eq!(m.count_ones(), 62);
        for s in [1, 2, 3, 15, SIGCHLD, 32, 33, 34, 64]
            .iter()
            .chain(FAULTS.iter())
        {
            assert!(m & bit(*s) != 0, "{s}");
        }
        assert!(m & bit(SIGKILL) == 0 && m & bit(SIGSTOP) == 0);
    }

    #[test]
    fn the_control_message_needs_the_queue_code_and_the_magic_value() {
        assert!(received(CONTROL, 7, libc::SI_QUEUE, CONTROL_MAGIC).control);
        assert!(!received(CONTROL, 7, libc::SI_USER, CONTROL_MAGIC).control);
        assert!(!received(CONTROL, 7, libc::SI_QUEUE, 1).control);
        assert!(!received(SIGTERM, 7, libc::SI_QUEUE, CONTROL_MAGIC).control);
    }

    #[test]
    fn groups_one_zero_and_minus_one_are_never_signalled() {
        assert!(send(Target::Pid(0), 0).is_err());
        assert!(send(Target::Pid(-1), 0).is_err());
        assert!(send(Target::Group(1), 0).is_err());
        assert!(send(Target::Pid(std::process::id() as i32), 0).is_ok());
    }
}
