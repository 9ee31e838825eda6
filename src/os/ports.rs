//! Which TCP ports listen, and who holds them: the kernel's sock_diag
//! netlink dump for the sockets (/proc/net/tcp{,6} where netlink is not
//! allowed), /proc/PID/fd for their owners. Read-only.

use crate::core::events::Holder;
use crate::os::procfs;
use std::collections::BTreeSet;
use std::fs;

/// A listening TCP socket: its local port and socket inode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Listener {
    pub port: u16,
    pub inode: u64,
}

const TCP_LISTEN: &str = "0A";

/// Parses one /proc/net/tcp{,6} table, keeping LISTEN sockets.
pub fn parse_table(text: &str) -> Vec<Listener> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_ascii_whitespace().collect();
            if f.len() < 10 || f[3] != TCP_LISTEN {
                return None;
            }
            let port = u16::from_str_radix(f[1].rsplit(':').next()?, 16).ok()?;
            Some(Listener {
                port,
                inode: f[9].parse().ok()?,
            })
        })
        .collect()
}

/// Every listening TCP socket (v4 and v6) in ctlinit's network namespace.
///
/// Asks the kernel through NETLINK_SOCK_DIAG, which filters by state: reading
/// /proc/net/tcp instead walks the whole TCP hash table (~3 ms per read on a
/// large host, ~17 ms per check), far too slow for a 10 ms handoff poll.
/// /proc/net/tcp{,6} stays as the fallback where netlink is not allowed.
pub fn listeners() -> Vec<Listener> {
    match diag::listeners() {
        Ok(l) => l,
        Err(e) => {
            log::debug!("sock_diag unavailable ({e}): reading /proc/net/tcp");
            ["/proc/net/tcp", "/proc/net/tcp6"]
                .iter()
                .filter_map(|p| fs::read_to_string(p).ok())
                .flat_map(|t| parse_table(&t))
                .collect()
        }
    }
}

/// The sock_diag netlink dump of listening TCP sockets (see `sock_diag(7)`).
mod diag {
    use super::Listener;
    use nix::sys::socket::{
        recv, sendto, socket, AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol,
        SockType,
    };
    use std::io;
    use std::os::fd::AsRawFd;

    const SOCK_DIAG_BY_FAMILY: u16 = 20;
    const NLM_F_REQUEST: u16 = 0x1;
    const NLM_F_DUMP: u16 = 0x300;
    const NLMSG_ERROR: u16 = 2;
    const NLMSG_DONE: u16 = 3;
    const TCP_LISTEN: u32 = 10;
    const NLMSG_HDR: usize = 16;
    /// inet_diag_req_v2: family, protocol, ext, pad, states, inet_diag_sockid (48 bytes).
    const REQ_LEN: usize = 8 + 48;
    /// In inet_diag_msg: the source port (big-endian) and the inode.
    const SPORT_AT: usize = 4;
    const INODE_AT: usize = 4 + 48 + 16;

    pub fn listeners() -> io::Result<Vec<Listener>> {
        let fd = socket(
            AddressFamily::Netlink,
            SockType::Datagram,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::NetlinkSockDiag,
        )?;
        let mut out = vec![];
        for family in [libc::AF_INET as u8, libc::AF_INET6 as u8] {
            sendto(
                fd.as_raw_fd(),
                &request(family),
                &NetlinkAddr::new(0, 0),
                MsgFlags::empty(),
            )?;
            let mut buf = vec![0u8; 32 * 1024];
            'dump: loop {
                let n = recv(fd.as_raw_fd(), &mut buf, MsgFlags::empty())?;
                if n == 0 {
                    break;
                }
                let mut at = 0;
                while at + NLMSG_HDR <= n {
                    let len =
                        u32::from_ne_bytes(buf[at..at + 4].try_into().unwrap_or_default()) as usize;
                    let kind =
                        u16::from_ne_bytes(buf[at + 4..at + 6].try_into().unwrap_or_default());
                    if len < NLMSG_HDR || at + len > n {
                        return Err(io::Error::other("malformed sock_diag reply"));
                    }
                    match kind {
                        NLMSG_DONE => break 'dump,
                        NLMSG_ERROR => {
                            return Err(io::Error::other("sock_diag refused the request"))
                        }
                        SOCK_DIAG_BY_FAMILY => out.extend(parse(&buf[at + NLMSG_HDR..at + len])),
                        _ => {}
                    }
                    at += (len + 3) & !3;
                }
            }
        }
        Ok(out)
    }

    fn request(family: u8) -> Vec<u8> {
        let mut m = Vec::with_capacity(NLMSG_HDR + REQ_LEN);
        m.extend(((NLMSG_HDR + REQ_LEN) as u32).to_ne_bytes());
        m.extend(SOCK_DIAG_BY_FAMILY.to_ne_bytes());
        m.extend((NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
        m.extend(1u32.to_ne_bytes()); // sequence
        m.extend(0u32.to_ne_bytes()); // port id: the kernel fills it in
        m.extend([family, libc::IPPROTO_TCP as u8, 0, 0]);
        m.extend((1u32 << TCP_LISTEN).to_ne_bytes());
        m.extend([0u8; 48]); // match any socket id
        m
    }

    fn parse(msg: &[u8]) -> Option<Listener> {
        let port = u16::from_be_bytes(msg.get(SPORT_AT..SPORT_AT + 2)?.try_into().ok()?);
        let inode = u32::from_ne_bytes(msg.get(INODE_AT..INODE_AT + 4)?.try_into().ok()?);
        Some(Listener {
            port,
            inode: inode as u64,
        })
    }

    /// The layouts are fixed by the kernel's uapi (`linux/inet_diag.h`,
    /// `linux/netlink.h`): the same on every architecture, in native byte
    /// order except the big-endian ports.
    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_request_is_a_netlink_header_and_an_inet_diag_req_v2() {
            let r = request(libc::AF_INET6 as u8);
            assert_eq!(r.len(), 16 + 56);
            assert_eq!(u32::from_ne_bytes(r[0..4].try_into().unwrap()), 72);
            assert_eq!(
                u16::from_ne_bytes(r[4..6].try_into().unwrap()),
                SOCK_DIAG_BY_FAMILY
            );
            assert_eq!(
                u16::from_ne_bytes(r[6..8].try_into().unwrap()),
                NLM_F_REQUEST | NLM_F_DUMP
            );
            assert_eq!(r[16], libc::AF_INET6 as u8);
            assert_eq!(r[17], libc::IPPROTO_TCP as u8);
            assert_eq!(
                u32::from_ne_bytes(r[20..24].try_into().unwrap()),
                1 << TCP_LISTEN
            );
        }

        #[test]
        fn a_canned_inet_diag_msg_gives_port_and_inode() {
            // inet_diag_msg: family, state, timer, retrans (4 bytes), the
            // 48-byte sockid (sport, dport big-endian first), expires,
            // rqueue, wqueue, uid (16 bytes), then the inode.
            let mut m = vec![0u8; 72];
            m[0] = libc::AF_INET as u8;
            m[1] = 10; // TCP_LISTEN
            m[4..6].copy_from_slice(&8080u16.to_be_bytes());
            m[68..72].copy_from_slice(&123_456u32.to_ne_bytes());
            assert_eq!(
                parse(&m),
                Some(Listener {
                    port: 8080,
                    inode: 123_456
                })
            );
            assert_eq!(parse(&m[..70]), None, "a short message is no listener");
        }
    }
}

/// The ports of `wanted` that some socket listens on now.
pub fn busy(wanted: &[u16]) -> Vec<u16> {
    let l = listeners();
    let mut out: Vec<u16> = wanted
        .iter()
        .copied()
        .filter(|p| l.iter().any(|x| x.port == *p))
        .collect();
    out.dedup();
    out
}

/// Socket inodes open in process `pid`.
pub fn socket_inodes(pid: i32) -> Vec<u64> {
    let Ok(dir) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return vec![];
    };
    dir.filter_map(|e| {
        let target = fs::read_link(e.ok()?.path()).ok()?;
        let s = target.to_str()?;
        s.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()
    })
    .collect()
}

/// Sorted TCP ports that processes `pids` listen on.
pub fn listening_ports_of(pids: &[i32]) -> Vec<u16> {
    let l = listeners();
    let mut ports = BTreeSet::new();
    for pid in pids {
        for ino in socket_inodes(*pid) {
            if let Some(x) = l.iter().find(|x| x.inode == ino) {
                ports.insert(x.port);
            }
        }
    }
    ports.into_iter().collect()
}

/// Who holds each busy port, with each holder's identity and whether it
/// belongs to ctlinit's tree (`own_pid`'s descendants).
pub fn holders_of(busy: &[u16], own_pid: i32) -> Vec<Holder> {
    let mut out = vec![];
    for &port in busy {
        let pids = holders(port);
        if pids.is_empty() {
            out.push(Holder {
                port,
                pid: None,
                start_ticks: 0,
                in_tree: false,
            });
        }
        for pid in pids {
            out.push(Holder {
                port,
                pid: Some(pid),
                start_ticks: procfs::stat(pid).map_or(0, |p| p.start_ticks),
                in_tree: procfs::is_descendant(pid, own_pid),
            });
        }
    }
    out
}

/// PIDs that hold a socket listening on `port` (those we can see).
pub fn holders(port: u16) -> Vec<i32> {
    let inodes: Vec<u64> = listeners()
        .iter()
        .filter(|l| l.port == port)
        .map(|l| l.inode)
        .collect();
    if inodes.is_empty() {
        return vec![];
    }
    procfs::all()
        .iter()
        .map(|p| p.pid)
        .filter(|pid| socket_inodes(*pid).iter().any(|i| inodes.contains(i)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F91 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 12346 1 0000000000000000 20 4 30 10 -1
";
    const TABLE6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 777 1 0000000000000000 100 0 0 10 0
";

    #[test]
    fn only_listen_sockets_count() {
        assert_eq!(
            parse_table(TABLE),
            vec![Listener {
                port: 8080,
                inode: 12345
            }]
        );
        assert_eq!(
            parse_table(TABLE6),
            vec![Listener {
                port: 80,
                inode: 777
            }]
        );
        assert!(parse_table("header only\n").is_empty());
    }

    #[test]
    fn netlink_and_proc_agree() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let l6 = std::net::TcpListener::bind("[::1]:0").ok();
        let port = l.local_addr().unwrap().port();
        let mut from_diag: Vec<(u16, u64)> = diag::listeners()
            .unwrap()
            .iter()
            .map(|x| (x.port, x.inode))
            .collect();
        let mut from_proc: Vec<(u16, u64)> = ["/proc/net/tcp", "/proc/net/tcp6"]
            .iter()
            .filter_map(|p| fs::read_to_string(p).ok())
            .flat_map(|t| parse_table(&t))
            .map(|x| (x.port, x.inode))
            .collect();
        from_diag.sort();
        from_proc.sort();
        assert!(from_diag.iter().any(|x| x.0 == port), "{from_diag:?}");
        if let Some(l6) = &l6 {
            let p6 = l6.local_addr().unwrap().port();
            assert!(
                from_diag.iter().any(|x| x.0 == p6),
                "v6 listener missing: {from_diag:?}"
            );
        }
        // Other tests open and close listeners concurrently: compare ours only.
        let ours = |v: &Vec<(u16, u64)>| {
            v.iter()
                .filter(|x| x.0 == port)
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(ours(&from_diag), ours(&from_proc));
    }

    #[test]
    fn sees_a_real_listener_and_its_holder() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        assert_eq!(busy(&[port]), vec![port]);
        let me = std::process::id() as i32;
        assert!(listening_ports_of(&[me]).contains(&port));
        assert!(holders(port).contains(&me));
        drop(l);
        assert!(busy(&[port]).is_empty());
    }
}
