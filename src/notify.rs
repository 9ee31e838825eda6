//! `--ready notify`: the systemd notify protocol subset (`READY=1`, `STATUS=`).
//!
//! ctlinit binds an abstract-namespace datagram socket (no file to clean up),
//! passes it as NOTIFY_SOCKET, and accepts datagrams only from processes of the
//! current generation, checked with the kernel-supplied sender credentials.

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

pub struct Message {
    pub pid: i32,
    pub ready: bool,
    pub status: Option<String>,
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

    /// Reads every pending datagram.
    pub fn drain(&self) -> Vec<Message> {
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
            let text = String::from_utf8_lossy(&buf[..len]);
            let mut m = Message {
                pid,
                ready: false,
                status: None,
            };
            for line in text.lines() {
                match line.split_once('=') {
                    Some(("READY", "1")) => m.ready = true,
                    Some(("STATUS", s)) => m.status = Some(s.to_string()),
                    _ => debug!("notify: ignoring '{line}' from pid {pid}"),
                }
            }
            out.push(m);
        }
        out
    }
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
