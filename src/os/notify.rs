//! `--ready notify`: the systemd notify protocol subset (`READY=1`,
//! `STATUS=`, `WATCHDOG=1`, `WATCHDOG=trigger`).
//!
//! ctlinit binds an abstract-namespace datagram socket (no file to clean up)
//! and passes it as NOTIFY_SOCKET. Each datagram comes with the sender's pid
//! from the kernel (SO_PASSCRED); whether that sender belongs to the current
//! generation is a fact the core judges.

use crate::core::events::Notice;
use log::{debug, info};
use nix::sys::socket::{
    bind, recvmsg, sendto, setsockopt, socket, sockopt, AddressFamily, ControlMessageOwned,
    MsgFlags, SockFlag, SockType, UnixAddr,
};
use std::io::IoSliceMut;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

pub struct NotifySocket {
    fd: OwnedFd,
    /// The NOTIFY_SOCKET value for the daemon ("@name").
    pub address: String,
}

impl NotifySocket {
    pub fn bind() -> std::io::Result<NotifySocket> {
        let fd = socket(
            AddressFamily::Unix,
            SockType::Datagram,
            SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
            None,
        )?;
        setsockopt(&fd, sockopt::PassCred, &true)?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        // Containers sharing the host network all run as PID 1: add time and retry.
        for attempt in 0..16u32 {
            let name = format!(
                "ctlinit-notify-{}-{}-{attempt}",
                std::process::id(),
                now.as_nanos()
            );
            let addr = UnixAddr::new_abstract(name.as_bytes())?;
            match bind(fd.as_raw_fd(), &addr) {
                Ok(()) => {
                    return Ok(NotifySocket {
                        fd,
                        address: format!("@{name}"),
                    })
                }
                Err(nix::errno::Errno::EADDRINUSE) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(std::io::Error::other("no free notify socket name"))
    }

    /// Reads every pending datagram: (sender pid, what it said).
    pub fn drain(&self) -> Vec<(i32, Notice)> {
        let mut out = vec![];
        loop {
            let mut buf = [0u8; 4096];
            let mut cmsg = nix::cmsg_space!(libc::ucred);
            let mut iov = [IoSliceMut::new(&mut buf)];
            let (pid, len) = match recvmsg::<()>(
                self.fd.as_raw_fd(),
                &mut iov,
                Some(&mut cmsg),
                MsgFlags::MSG_DONTWAIT,
            ) {
                Ok(msg) => {
                    let pid = msg
                        .cmsgs()
                        .ok()
                        .into_iter()
                        .flatten()
                        .find_map(|c| match c {
                            ControlMessageOwned::ScmCredentials(cred) => Some(cred.pid()),
                            _ => None,
                        });
                    (pid.unwrap_or(0), msg.bytes)
                }
                Err(_) => break,
            };
            out.push((pid, parse(&buf[..len], pid)));
        }
        out
    }
}

/// One datagram's `KEY=VALUE` lines; unknown keys are ignored.
pub fn parse(datagram: &[u8], pid: i32) -> Notice {
    let text = String::from_utf8_lossy(datagram);
    let mut n = Notice::default();
    for line in text.lines() {
        match line.split_once('=') {
            Some(("READY", "1")) => n.ready = true,
            Some(("STATUS", s)) => n.status = Some(s.to_string()),
            Some(("WATCHDOG", "1")) => n.keepalive = true,
            Some(("WATCHDOG", "trigger")) => n.trigger = true,
            _ => debug!("notify: ignoring '{line}' from pid {pid}"),
        }
    }
    n
}

impl AsFd for NotifySocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Sends `READY=1` to the NOTIFY_SOCKET ctlinit itself inherited.
pub fn tell_parent(address: &str) {
    let addr = match address.strip_prefix('@') {
        Some(name) => UnixAddr::new_abstract(name.as_bytes()),
        None => UnixAddr::new(address),
    };
    let sent = addr.and_then(|addr| {
        let fd = socket(
            AddressFamily::Unix,
            SockType::Datagram,
            SockFlag::SOCK_CLOEXEC,
            None,
        )?;
        sendto(fd.as_raw_fd(), b"READY=1\n", &addr, MsgFlags::empty())
    });
    match sent {
        Ok(_) => info!("told the inherited NOTIFY_SOCKET we are ready"),
        Err(e) => log::warn!("cannot notify inherited NOTIFY_SOCKET {address}: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_datagram_says_ready_status_and_watchdog() {
        let n = parse(b"READY=1\nSTATUS=loading 50%\nWATCHDOG=1\nMAINPID=7\n", 7);
        assert!(n.ready && n.keepalive && !n.trigger);
        assert_eq!(n.status.as_deref(), Some("loading 50%"));
        assert!(parse(b"WATCHDOG=trigger", 7).trigger);
        assert_eq!(parse(b"READY=0\n\xff\xfe", 7), Notice::default());
    }
}
