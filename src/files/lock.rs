//! The singleton lock (SPEC §6) and how the verbs see who holds it.
//! The supervisor takes an exclusive, non-blocking flock and keeps the fd for
//! its whole life (close-on-exec). Verbs never probe with flock — that could
//! make a starting supervisor fail — they read /proc/locks instead.

use crate::error::Error;
use nix::fcntl::{Flock, FlockArg};
use std::fs::{self, File};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

pub struct Lock {
    _file: Flock<File>,
}

/// Takes the lock or says who holds it.
pub fn acquire(path: &Path) -> Result<Lock, Error> {
    let shown = path.display().to_string();
    let file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o644)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| {
            Error::Setup(format!(
                "cannot open lock file {shown}: {e}; set --lockfile to a writable path"
            ))
        })?;
    match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(mut locked) => {
            // Overwrite in place; truncate only when old content (garbage, a
            // longer pid) would remain — ftruncate costs a journal commit.
            let line = format!("{}\n", std::process::id());
            let old_len = locked.metadata().map(|m| m.len()).unwrap_or(u64::MAX);
            let _ = locked.write_all(line.as_bytes());
            if old_len > line.len() as u64 {
                let _ = locked.set_len(line.len() as u64);
            }
            Ok(Lock { _file: locked })
        }
        Err((mut file, nix::errno::Errno::EWOULDBLOCK)) => {
            let mut s = String::new();
            let from_file = file
                .read_to_string(&mut s)
                .ok()
                .and_then(|_| s.trim().parse::<i32>().ok());
            let pid = from_file.or_else(|| holder(path).filter(|p| *p > 0));
            Err(Error::LockHeld { pid, path: shown })
        }
        Err((_, e)) => Err(Error::Setup(format!("cannot lock {shown}: {e}"))),
    }
}

/// Who holds an exclusive flock on `path`, per /proc/locks:
/// None = not held; Some(0) = held by a process not visible from here.
pub fn holder(path: &Path) -> Option<i32> {
    let meta = fs::metadata(path).ok()?;
    let text = fs::read_to_string("/proc/locks").ok()?;
    holder_in(&text, meta.dev(), meta.ino())
}

pub fn holder_in(locks: &str, dev: u64, ino: u64) -> Option<i32> {
    let want_dev = format!("{:02x}:{:02x}", libc::major(dev), libc::minor(dev));
    let mut by_inode = None;
    for line in locks.lines() {
        let f: Vec<&str> = line.split_ascii_whitespace().collect();
        // "1: FLOCK  ADVISORY  WRITE 1234 00:2f:5678 0 EOF"; waiters have "->".
        if f.len() < 6 || f[1] != "FLOCK" || f[3] != "WRITE" {
            continue;
        }
        let Ok(pid) = f[4].parse::<i32>() else {
            continue;
        };
        let mut parts = f[5].rsplitn(2, ':');
        let (Some(i), Some(d)) = (parts.next(), parts.next()) else {
            continue;
        };
        if i.parse::<u64>().ok() != Some(ino) {
            continue;
        }
        if d == want_dev {
            return Some(pid.max(0));
        }
        // Overlay filesystems may report another device here; the inode still
        // matches, so keep it as a fallback.
        by_inode.get_or_insert(pid.max(0));
    }
    by_inode
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_locks() {
        let dev = libc::makedev(0, 0x2f);
        let text = "1: POSIX  ADVISORY  WRITE 99 00:2f:5678 0 EOF\n\
                    2: FLOCK  ADVISORY  WRITE 1234 00:2f:5678 0 EOF\n\
                    2: -> FLOCK  ADVISORY  WRITE 555 00:2f:5678 0 EOF\n\
                    3: FLOCK  ADVISORY  READ 77 00:2f:9999 0 EOF\n";
        assert_eq!(holder_in(text, dev, 5678), Some(1234));
        assert_eq!(
            holder_in(text, dev, 9999),
            None,
            "shared locks are not ours"
        );
        assert_eq!(holder_in(text, dev, 1), None);
        assert_eq!(
            holder_in("4: FLOCK ADVISORY WRITE 0 00:2f:5678 0 EOF", dev, 5678),
            Some(0)
        );
    }

    #[test]
    fn second_acquire_is_refused_with_the_holders_pid() {
        let dir = std::env::temp_dir().join(format!("ctlinit-lock-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ctlinit.lock");
        fs::write(&path, "garbage\0\x01").unwrap();
        let first = acquire(&path).unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap().trim(),
            std::process::id().to_string()
        );
        assert_eq!(holder(&path), Some(std::process::id() as i32));
        match acquire(&path) {
            Err(Error::LockHeld { pid, path: p }) => {
                assert_eq!(pid, Some(std::process::id() as i32));
                assert_eq!(p, path.display().to_string());
            }
            _ => panic!("second acquire should be refused"),
        }
        drop(first);
        assert_eq!(holder(&path), None);
        fs::remove_dir_all(&dir).unwrap();
    }
}
