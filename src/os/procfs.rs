//! Read-only views of /proc: one process's stat line, the process tree,
//! process groups. Never signals anything.

use crate::core::events::Sender;
use std::fs;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Proc {
    pub pid: i32,
    pub ppid: i32,
    pub pgrp: i32,
    pub state: char,
    /// Clock ticks after boot when it started: with the pid, its identity
    /// (a reused pid has a later start time).
    pub start_ticks: u64,
}

/// Parses /proc/PID/stat; the comm field may hold spaces and ')'.
pub fn parse_stat(pid: i32, text: &str) -> Option<Proc> {
    let rest = text.get(text.rfind(')')? + 2..)?;
    // Fields from the 3rd (state) on; starttime is the 22nd.
    let f: Vec<&str> = rest.split_ascii_whitespace().take(20).collect();
    Some(Proc {
        pid,
        state: f.first()?.chars().next()?,
        ppid: f.get(1)?.parse().ok()?,
        pgrp: f.get(2)?.parse().ok()?,
        start_ticks: f.get(19)?.parse().ok()?,
    })
}

pub fn stat(pid: i32) -> Option<Proc> {
    let mut buf = [0u8; 1024];
    parse_stat(pid, read_small(&format!("/proc/{pid}/stat"), &mut buf)?)
}

/// ctlinit's own start time, recorded in the PID file.
pub fn own_start_ticks() -> u64 {
    let mut buf = [0u8; 1024];
    read_small("/proc/self/stat", &mut buf)
        .and_then(|t| parse_stat(0, t))
        .map_or(0, |p| p.start_ticks)
}

/// Reads a small /proc or cgroup file into `buf` with as few syscalls as
/// the kernel allows (one open, usually one read; std's reader adds an
/// fcntl, an fstat and reads that grow from 32 bytes). A file longer than
/// `buf` is cut at its last whole line.
pub fn read_small<'a>(path: &str, buf: &'a mut [u8]) -> Option<&'a str> {
    use nix::fcntl::{open, OFlag};
    use nix::sys::stat::Mode;
    let fd = open(path, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty()).ok()?;
    let mut len = 0;
    while len < buf.len() {
        match nix::unistd::read(&fd, &mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return None,
        }
    }
    if len == buf.len() {
        len = buf.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    }
    std::str::from_utf8(&buf[..len]).ok()
}

/// Every process visible in /proc.
pub fn all() -> Vec<Proc> {
    let Ok(dir) = fs::read_dir("/proc") else {
        return vec![];
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(stat)
        .collect()
}

/// Descendants of `root` (not `root` itself), parents before children.
pub fn descendants(root: i32) -> Vec<Proc> {
    descendants_in(&all(), root)
}

pub fn descendants_in(procs: &[Proc], root: i32) -> Vec<Proc> {
    let mut out: Vec<Proc> = vec![];
    let mut frontier = vec![root];
    while let Some(p) = frontier.pop() {
        for c in procs.iter().filter(|c| c.ppid == p && c.pid != root) {
            if !out.iter().any(|o| o.pid == c.pid) {
                out.push(*c);
                frontier.push(c.pid);
            }
        }
    }
    out
}

/// Whether `ancestor` is `pid`'s parent, grandparent, ...
pub fn is_descendant(pid: i32, ancestor: i32) -> bool {
    let mut cur = pid;
    for _ in 0..4096 {
        match stat(cur) {
            Some(p) if p.ppid == ancestor => return true,
            Some(p) if p.ppid > 0 && p.ppid != cur => cur = p.ppid,
            _ => return false,
        }
    }
    false
}

/// Members of process group `pgid`.
pub fn group_members(pgid: i32) -> Vec<i32> {
    all()
        .into_iter()
        .filter(|p| p.pgrp == pgid)
        .map(|p| p.pid)
        .collect()
}

/// How process `pid` relates to the daemon `daemon` (a fact for the core).
pub fn relation(pid: i32, daemon: i32) -> Sender {
    if pid == daemon {
        Sender::Daemon
    } else if stat(pid).is_some_and(|p| p.pgrp == daemon) || is_descendant(pid, daemon) {
        Sender::DaemonTree
    } else {
        Sender::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_reads_cut_at_the_last_whole_line() {
        let mut buf = [0u8; 4096];
        let status = read_small("/proc/self/status", &mut buf).unwrap();
        assert!(status.starts_with("Name:"), "{status}");
        let mut tiny = [0u8; 16];
        let cut = read_small("/proc/self/status", &mut tiny).unwrap();
        assert!(cut.is_empty() || cut.ends_with('\n'), "{cut:?}");
        assert!(read_small("/proc/self/no-such-file", &mut buf).is_none());
    }

    #[test]
    fn stat_with_hostile_comm() {
        let line = "42 (a) b (c)) S 7 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 50";
        assert_eq!(
            parse_stat(42, line),
            Some(Proc {
                pid: 42,
                ppid: 7,
                pgrp: 42,
                state: 'S',
                start_ticks: 987654
            })
        );
        assert!(parse_stat(1, "garbage").is_none());
        assert!(parse_stat(1, "1 (x) S 0 1").is_none(), "too short");
        assert!(parse_stat(1, "1 (x)").is_none());
    }

    #[test]
    fn descendants_walk_the_tree() {
        let p = |pid, ppid| Proc {
            pid,
            ppid,
            pgrp: pid,
            state: 'S',
            start_ticks: 0,
        };
        let procs = [p(1, 0), p(10, 1), p(11, 10), p(12, 11), p(20, 2), p(13, 10)];
        let mut d: Vec<i32> = descendants_in(&procs, 10).iter().map(|p| p.pid).collect();
        d.sort();
        assert_eq!(d, vec![11, 12, 13]);
        assert!(descendants_in(&procs, 20).is_empty());
    }

    #[test]
    fn we_are_our_parents_descendant_and_started_after_boot() {
        let me = std::process::id() as i32;
        let s = stat(me).unwrap();
        assert!(is_descendant(me, s.ppid));
        assert!(!is_descendant(s.ppid, me));
        assert!(s.start_ticks > 0);
        assert_eq!(own_start_ticks(), s.start_ticks);
        assert_eq!(relation(me, me), Sender::Daemon);
        assert_eq!(relation(s.ppid, me), Sender::Other);
    }
}
