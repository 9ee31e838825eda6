//! `--watch`: restart when a file's *content* changes (SPEC §2, §14.14).
//!
//! inotify watches the directories along each path — the file's own directory
//! and those of every symlink hop — so editor rename-replace and Kubernetes
//! `..data` symlink swaps are seen. Events only arm a debounce timer; when it
//! fires, contents are hashed and compared, so `touch` or rewriting identical
//! bytes is no change.

use log::{debug, warn};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, WatchDescriptor};
use std::collections::hash_map::DefaultHasher;
use std::hash::Hasher;
use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub const DEBOUNCE: Duration = Duration::from_millis(250);
/// Files larger than this are compared by their first bytes plus size and mtime.
const MAX_HASHED: u64 = 16 * 1024 * 1024;

struct Watched {
    path: PathBuf,
    /// None while the file is missing.
    digest: Option<u64>,
}

pub struct Watcher {
    inotify: Inotify,
    files: Vec<Watched>,
    dirs: Vec<(PathBuf, WatchDescriptor)>,
    due: Option<Instant>,
}

impl Watcher {
    pub fn new(paths: &[PathBuf]) -> std::io::Result<Watcher> {
        let inotify = Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK)?;
        let files = paths
            .iter()
            .map(|p| {
                let digest = digest(p);
                if digest.is_none() {
                    warn!(
                        "--watch {}: file does not exist (yet); a restart follows when it appears",
                        p.display()
                    );
                }
                Watched {
                    path: p.clone(),
                    digest,
                }
            })
            .collect();
        let mut w = Watcher {
            inotify,
            files,
            dirs: vec![],
            due: None,
        };
        w.rewatch();
        Ok(w)
    }

    /// (Re)adds a watch on every directory the paths pass through.
    fn rewatch(&mut self) {
        let mut wanted: Vec<PathBuf> = vec![];
        for f in &self.files {
            for d in dirs_along(&f.path) {
                if !wanted.contains(&d) {
                    wanted.push(d);
                }
            }
        }
        let flags = AddWatchFlags::IN_CLOSE_WRITE
            | AddWatchFlags::IN_MOVED_TO
            | AddWatchFlags::IN_MOVED_FROM
            | AddWatchFlags::IN_CREATE
            | AddWatchFlags::IN_DELETE
            | AddWatchFlags::IN_MODIFY
            | AddWatchFlags::IN_ONLYDIR;
        for d in wanted {
            if self.dirs.iter().any(|(p, _)| *p == d) {
                continue;
            }
            match self.inotify.add_watch(&d, flags) {
                Ok(wd) => self.dirs.push((d, wd)),
                Err(e) => debug!("cannot watch directory {}: {e}", d.display()),
            }
        }
        if self.dirs.is_empty() {
            warn!("--watch: no watched directory exists; changes cannot be seen");
        }
    }

    /// Reads pending events; any of them arms (or re-arms) the debounce.
    pub fn on_readable(&mut self, now: Instant) {
        let mut any = false;
        while let Ok(events) = self.inotify.read_events() {
            if events.is_empty() {
                break;
            }
            any = true;
        }
        if any {
            self.due = Some(now + DEBOUNCE);
        }
    }

    /// A new generation was just spawned: it reads the files as they are
    /// now, so changes made before this moment are served by its start
    /// (SPEC §8) and must not trigger another restart when the debounce fires.
    pub fn rebaseline(&mut self) {
        for f in &mut self.files {
            if let Some(d) = digest(&f.path) {
                f.digest = Some(d);
            }
        }
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.due
    }

    /// When the debounce has passed: true if some content changed.
    pub fn on_tick(&mut self, now: Instant) -> bool {
        match self.due {
            Some(d) if now >= d => self.due = None,
            _ => return false,
        }
        self.rewatch();
        let mut changed = false;
        for f in &mut self.files {
            match (f.digest, digest(&f.path)) {
                (_, None) => warn!(
                    "--watch {}: file is gone; waiting for it to come back",
                    f.path.display()
                ),
                (old, Some(new)) if old != Some(new) => {
                    log::info!("--watch {}: content changed", f.path.display());
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

fn digest(p: &Path) -> Option<u64> {
    let mut f = std::fs::File::open(p).ok()?;
    let meta = f.metadata().ok()?;
    let mut h = DefaultHasher::new();
    let mut buf = [0u8; 8192];
    let mut left = MAX_HASHED;
    while left > 0 {
        let n = f.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        h.write(&buf[..n]);
        left = left.saturating_sub(n as u64);
    }
    if left == 0 {
        h.write_u64(meta.len());
    }
    Some(h.finish())
}
