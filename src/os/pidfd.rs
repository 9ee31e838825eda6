//! Signalling a process found by a scan without ever hitting a reused pid
//! (§14.23): open a pidfd (which pins that exact process), then check in
//! /proc that the pid still has the start time the scan saw, then signal
//! through the pidfd. If the pid was reused before the pidfd was opened, the
//! start time differs and nothing is sent; if the process dies after, the
//! pidfd refers to the dead one and the kernel refuses.
//!
//! Kernels before 5.3 have no pidfd_open (ENOSYS): ctlinit then checks the
//! start time and uses kill(2), which leaves a window of a few microseconds
//! for a reuse — the best those kernels allow.

use crate::os::procfs;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

pub struct PidFd(OwnedFd);

impl PidFd {
    pub fn open(pid: i32) -> io::Result<PidFd> {
        if pid <= 0 {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        // SAFETY: pidfd_open takes plain integers; the fd is owned below.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a fresh descriptor that nothing else owns (pidfds are
        // close-on-exec by default).
        Ok(PidFd(unsafe { OwnedFd::from_raw_fd(fd as i32) }))
    }

    pub fn signal(&self, sig: i32) -> io::Result<()> {
        self.send(sig, std::ptr::null())
    }

    /// Queues `sig` with an integer value, as sigqueue(3) would.
    pub fn queue(&self, sig: i32, value: i32) -> io::Result<()> {
        let info = QueueInfo::new(sig, value);
        self.send(sig, &info as *const QueueInfo)
    }

    fn send(&self, sig: i32, info: *const QueueInfo) -> io::Result<()> {
        // SAFETY: `info` is null or points to a 128-byte siginfo layout
        // that outlives the call.
        let r = unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.0.as_raw_fd(),
                sig,
                info,
                0,
            )
        };
        if r == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }
}

/// What `signal_verified` found.
#[derive(Debug, PartialEq, Eq)]
pub enum Sent {
    Yes,
    /// The pid is gone, or now belongs to another process.
    NotThatProcess,
}

/// Signals `pid` if it is still the process that started at `start_ticks`.
pub fn signal_verified(pid: i32, start_ticks: u64, sig: i32) -> io::Result<Sent> {
    let same = || procfs::stat(pid).is_some_and(|p| p.start_ticks == start_ticks);
    match PidFd::open(pid) {
        Ok(fd) if same() => fd.signal(sig).map(|_| Sent::Yes),
        Ok(_) => Ok(Sent::NotThatProcess),
        Err(e) if e.raw_os_error() == Some(libc::ESRCH) => Ok(Sent::NotThatProcess),
        Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => {
            if !same() {
                return Ok(Sent::NotThatProcess);
            }
            // SAFETY: kill(2) has no memory-safety preconditions; pid > 0.
            match unsafe { libc::kill(pid, sig) } {
                0 => Ok(Sent::Yes),
                _ => Err(io::Error::last_os_error()),
            }
        }
        Err(e) => Err(e),
    }
}

/// The kernel's `siginfo_t` for a queued signal (`SI_QUEUE`), as laid out
/// on 64-bit Linux (x86_64 and aarch64 alike): three ints, padding to the
/// 8-aligned union, then `_rt { si_pid, si_uid, si_value }`; 128 bytes.
#[repr(C)]
struct QueueInfo {
    signo: i32,
    errno: i32,
    code: i32,
    _pad: i32,
    pid: i32,
    uid: u32,
    value: usize,
    _rest: [u8; 128 - 32],
}

impl QueueInfo {
    fn new(sig: i32, value: i32) -> QueueInfo {
        QueueInfo {
            signo: sig,
            errno: 0,
            code: libc::SI_QUEUE,
            _pad: 0,
            pid: std::process::id() as i32,
            uid: nix::unistd::getuid().as_raw(),
            value: value as usize,
            _rest: [0; 96],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    #[test]
    fn queue_info_has_the_kernels_layout() {
        assert_eq!(size_of::<QueueInfo>(), 128);
        assert_eq!(size_of::<QueueInfo>(), size_of::<libc::siginfo_t>());
        assert_eq!(offset_of!(QueueInfo, code), 8);
        assert_eq!(offset_of!(QueueInfo, pid), 16);
        assert_eq!(offset_of!(QueueInfo, uid), 20);
        assert_eq!(offset_of!(QueueInfo, value), 24);
        // The same bytes read back through libc's accessors.
        let info = QueueInfo::new(10, 0x1234);
        // SAFETY: both are 128 bytes of plain data.
        let as_libc: libc::siginfo_t = unsafe { std::mem::transmute(info) };
        assert_eq!(as_libc.si_code, libc::SI_QUEUE);
        // SAFETY: an SI_QUEUE siginfo has the _rt member set.
        unsafe {
            assert_eq!(as_libc.si_pid(), std::process::id() as i32);
            assert_eq!(as_libc.si_value().sival_ptr as usize, 0x1234);
        }
    }

    #[test]
    fn a_reused_pid_is_never_signalled() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = child.id() as i32;
        let real = procfs::stat(pid).unwrap().start_ticks;
        assert_eq!(
            signal_verified(pid, real + 1, 0).unwrap(),
            Sent::NotThatProcess
        );
        assert_eq!(signal_verified(pid, real, 0).unwrap(), Sent::Yes);
        assert_eq!(
            signal_verified(pid, real, libc::SIGKILL).unwrap(),
            Sent::Yes
        );
        child.wait().unwrap();
        assert_eq!(signal_verified(pid, real, 0).unwrap(), Sent::NotThatProcess);
    }
}
