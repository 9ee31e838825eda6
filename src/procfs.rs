//! Read-only views of /proc: the process tree and process groups.
//! Never signals anything.

use std::fs;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Proc {
    pub pid: i32,
    pub ppid: i32,
    pub pgrp: i32,
    pub state: char,
}

/// Parses /proc/PID/stat; the comm field may hold spaces and ')'.
pub fn parse_stat(pid: i32, text: &str) -> Option<Proc> {
    let rest = &text[text.rfind(')')? + 2..];
    let mut f = rest.split_ascii_whitespace();
    let state = f.next()?.chars().next()?;
    let ppid = f.next()?.parse().ok()?;
    let pgrp = f.next()?.parse().ok()?;
    Some(Proc {
        pid,
        ppid,
        pgrp,
        state,
    })
}

pub fn stat(pid: i32) -> Option<Proc> {
    parse_stat(pid, &fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
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
pub fn descendants(root: i32) -> Vec<i32> {
    descendants_in(&all(), root)
}

pub fn descendants_in(procs: &[Proc], root: i32) -> Vec<i32> {
    let mut out = vec![];
    let mut frontier = vec![root];
    while let Some(p) = frontier.pop() {
        for c in procs.iter().filter(|c| c.ppid == p && c.pid != root) {
            if !out.contains(&c.pid) {
                out.push(c.pid);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_hostile_comm() {
        let p = parse_stat(42, "42 (a) b (c)) S 7 42 42 0 -1").unwrap();
        assert_eq!(
            p,
            Proc {
                pid: 42,
                ppid: 7,
                pgrp: 42,
                state: 'S'
            }
        );
        assert!(parse_stat(1, "garbage").is_none());
    }

    #[test]
    fn descendants_walk_the_tree() {
        let p = |pid, ppid| Proc {
            pid,
            ppid,
            pgrp: pid,
            state: 'S',
        };
        let procs = [p(1, 0), p(10, 1), p(11, 10), p(12, 11), p(20, 2), p(13, 10)];
        let mut d = descendants_in(&procs, 10);
        d.sort();
        assert_eq!(d, vec![11, 12, 13]);
        assert!(descendants_in(&procs, 20).is_empty());
    }

    #[test]
    fn we_are_our_parents_descendant() {
        let me = std::process::id() as i32;
        let parent = stat(me).unwrap().ppid;
        assert!(is_descendant(me, parent));
        assert!(!is_descendant(parent, me));
    }
}
