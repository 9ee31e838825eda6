//! Which TCP ports listen, and who holds them: /proc/net/tcp{,6} for the
//! sockets, /proc/PID/fd for their owners. Read-only.

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
pub fn listeners() -> Vec<Listener> {
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|p| fs::read_to_string(p).ok())
        .flat_map(|t| parse_table(&t))
        .collect()
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
    crate::procfs::all()
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
