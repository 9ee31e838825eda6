//! `--watch`: sees when a watched file's *content* changes (SPEC §2,
//! §14.14, §14.22). The debounce is the core's; this module only reports
//! activity and compares contents when asked.
//!
//! inotify watches the directories along each path — the file's own
//! directory and those of every symlink hop — so editor rename-replace and
//! Kubernetes `..data` symlink swaps are seen. Contents are hashed as a
//! stream (a huge file costs time, not memory), so `touch` or rewriting
//! identical bytes is no change. A watched path is opened non-blocking and
//! checked to be a regular file through the open descriptor: a FIFO or a
//! device planted there later counts as missing and never hangs ctlinit.

use log::{debug, info, warn};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, WatchDescriptor};
use std::collections::hash_map::DefaultHasher;
use std::fs::File;
use std::hash::Hasher;
use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

struct Watched {
    path: PathBuf,
    /// None while the file is missing (or not a regular file).
    digest: Option<u64>,
}

pub struct Watcher {
    inotify: Inotify,
    files: Vec<Watched>,
    dirs: Vec<(PathBuf, WatchDescriptor)>,
}

/// The start-up check of one `--watch` path (§14.22): a path that exists
/// must resolve, through symlinks, to a regular file; a missing one is
/// watched for creation.
/// `name` is the flag or variable that gave it, for the message.
pub fn check_path(name: &str, p: &Path) -> Result<(), String> {
    match std::fs::metadata(p) {
        Ok(m) if m.is_file() => Ok(()),
        Ok(m) => Err(format!(
            "invalid value '{}' for {name}: it is {}, not a regular file; watch the file itself",
            p.display(),
            kind(&m.file_type())
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("invalid value '{}' for {name}: {e}", p.display())),
    }
}

fn kind(t: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_block_device() || t.is_char_device() {
        "a device"
    } else {
        "not a regular file"
    }
}

impl Watcher {
    /// Starts watching; a path whose directory cannot be watched is a
    /// startup error (§14.24), never a silent downgrade.
    pub fn new(name: &str, paths: &[PathBuf]) -> Result<Watcher, String> {
        let inotify = Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK)
            .map_err(|e| format!("{name}: inotify_init1: {e}"))?;
        let files = paths
            .iter()
            .map(|p| Watched {
                path: p.clone(),
                digest: digest(p),
            })
            .collect();
        let mut w = Watcher {
            inotify,
            files,
            dirs: vec![],
        };
        for p in paths {
            let dir = absolute(p)
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            w.add_dirs(p).map_err(|e| {
                format!(
                    "--watch {}: cannot watch directory {}: {e}",
                    p.display(),
                    dir.display()
                )
            })?;
        }
        for f in w.files.iter().filter(|f| f.digest.is_none()) {
            warn!(
                "{name} {}: file does not exist (yet); a restart follows when it appears",
                f.path.display()
            );
        }
        Ok(w)
    }

    /// Watches every directory `p` passes through; the first (its own
    /// directory) must work.
    fn add_dirs(&mut self, p: &Path) -> Result<(), nix::Error> {
        let flags = AddWatchFlags::IN_CLOSE_WRITE
            | AddWatchFlags::IN_MOVED_TO
            | AddWatchFlags::IN_MOVED_FROM
            | AddWatchFlags::IN_CREATE
            | AddWatchFlags::IN_DELETE
            | AddWatchFlags::IN_MODIFY
            | AddWatchFlags::IN_ONLYDIR;
        for (i, d) in dirs_along(p).into_iter().enumerate() {
            if self.dirs.iter().any(|(q, _)| *q == d) {
                continue;
            }
            match self.inotify.add_watch(&d, flags) {
                Ok(wd) => self.dirs.push((d, wd)),
                Err(e) if i == 0 => return Err(e),
                Err(e) => debug!("cannot watch directory {}: {e}", d.display()),
            }
        }
        Ok(())
    }

    /// Reads pending events; true if there were any.
    pub fn take_events(&mut self) -> bool {
        let mut any = false;
        while let Ok(events) = self.inotify.read_events() {
            if events.is_empty() {
                break;
            }
            any = true;
        }
        any
    }

    /// A new generation was just spawned: it reads the files as they are now.
    pub fn rebaseline(&mut self) {
        for f in &mut self.files {
            if let Some(d) = digest(&f.path) {
                f.digest = Some(d);
            }
        }
    }

    /// Hashes the watched files; true if some content changed since the
    /// last look. Re-watches directories a symlink swap may have added.
    pub fn compare(&mut self) -> bool {
        let paths: Vec<PathBuf> = self.files.iter().map(|f| f.path.clone()).collect();
        for p in &paths {
            let _ = self.add_dirs(p);
        }
        let mut changed = false;
        for f in &mut self.files {
            match (f.digest, digest(&f.path)) {
                (_, None) => warn!(
                    "--watch {}: file is gone (or not a regular file); waiting for it to come back",
                    f.path.display()
                ),
                (old, Some(new)) if old != Some(new) => {
                    info!("--watch {}: content changed", f.path.display());
                    f.digest = Some(new);
                    changed = true;
                }
                _ => debug!("--watch {}: event without content change", f.path.display()),
            }
        }
        changed
    }
}

impl AsFd for Watcher {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inotify.as_fd()
    }
}

/// The directory of `p`, and of every symlink it resolves through.
fn dirs_along(p: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    let mut cur = absolute(p);
    for _ in 0..40 {
        if let Some(dir) = cur.parent() {
            out.push(dir.to_path_buf());
        }
        match std::fs::read_link(&cur) {
            Ok(t) => cur = cur.parent().map(|d| d.join(&t)).unwrap_or(t),
            Err(_) => break,
        }
    }
    // The intermediate directories of a ConfigMap (`..data/` → `..2024_x/`).
    if let Ok(real) = std::fs::canonicalize(p) {
        if let Some(dir) = real.parent() {
            out.push(dir.to_path_buf());
        }
    }
    out
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    }
}

/// The content's hash, or None when the path is missing or not a regular
/// file. O_NONBLOCK: opening a FIFO returns at once instead of waiting for
/// a writer, and the descriptor's own type is what is checked.
fn digest(p: &Path) -> Option<u64> {
    let mut f = File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(p)
        .ok()?;
    if !f.metadata().ok()?.is_file() {
        return None;
    }
    let mut h = DefaultHasher::new();
    let mut buf = [0u8; 64 * 1024];
    loop {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => h.write(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return None,
        }
    }
    Some(h.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ctlinit-inotify-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn only_regular_files_or_missing_paths_may_be_watched() {
        let d = dir("kinds");
        let file = d.join("f");
        std::fs::write(&file, "x").unwrap();
        let fifo = d.join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        assert!(check_path("--watch", &file).is_ok());
        assert!(check_path("--watch", &d.join("missing")).is_ok());
        let e = check_path("CTLINIT_WATCH", &fifo).unwrap_err();
        assert!(e.contains("a FIFO") && e.contains("CTLINIT_WATCH"), "{e}");
        assert!(check_path("--watch", &d)
            .unwrap_err()
            .contains("a directory"));
        assert!(check_path("--watch", Path::new("/dev/null"))
            .unwrap_err()
            .contains("a device"));
        // A FIFO that appears later is "missing", and hashing it never blocks.
        assert_eq!(digest(&fifo), None);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_change_anywhere_in_a_large_file_is_seen() {
        let d = dir("large");
        let file = d.join("big");
        let mut content = vec![b'a'; 17 * 1024 * 1024];
        std::fs::write(&file, &content).unwrap();
        let before = digest(&file);
        *content.last_mut().unwrap() = b'b';
        std::fs::write(&file, &content).unwrap();
        assert_ne!(digest(&file), before, "a change past 16 MiB");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_directory_that_cannot_be_watched_is_an_error() {
        let e = Watcher::new(
            "--watch",
            &[PathBuf::from("/nonexistent-ctlinit-dir/x.conf")],
        )
        .err()
        .unwrap();
        assert!(e.contains("/nonexistent-ctlinit-dir"), "{e}");
    }
}
