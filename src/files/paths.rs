//! Where the PID file and the lock live (SPEC §5, §6): the default
//! /run/ctlinit, the per-user fallback under $TMPDIR, and explicit paths.

use crate::error::{Error, Result};
use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

pub const DEFAULT_DIR: &str = "/run/ctlinit";
pub const PIDFILE_NAME: &str = "daemon.pid";
pub const LOCK_NAME: &str = "ctlinit.lock";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Paths {
    pub pidfile: Option<PathBuf>,
    pub lockfile: Option<PathBuf>,
}

fn fallback_dir() -> PathBuf {
    let tmp = std::env::var_os("TMPDIR")
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "/tmp".into());
    let uid = nix::unistd::getuid().as_raw();
    PathBuf::from(tmp).join(format!("ctlinit-{uid}"))
}

/// The lock beside a PID file.
pub fn lock_beside(pidfile: &Path) -> PathBuf {
    pidfile.with_file_name(LOCK_NAME)
}

/// Decides the supervisor's paths, creating directories as needed.
/// Returns the paths and, when the default could not be used, a warning.
/// `names` are the flags or variables that gave the two paths, for messages.
pub fn for_supervisor(
    pidfile: Option<&Path>,
    lockfile: Option<&Path>,
    names: (&str, &str),
) -> Result<(Paths, Option<String>)> {
    let (pid_name, lock_name) = names;
    let mut warning = None;
    let pidfile = match pidfile {
        Some(p) => {
            must_be_regular(pid_name, p)?;
            let dir = parent(p);
            ensure_dir(&dir, 0o755)
                .and_then(|_| probe_writable(&dir))
                .map_err(|e| {
                    Error::Setup(format!(
                        "cannot use {pid_name} {}: {e}; choose a writable path",
                        p.display()
                    ))
                })?;
            Some(p.to_path_buf())
        }
        None => match default_dir() {
            Ok(dir) => Some(dir.join(PIDFILE_NAME)),
            Err(e) => {
                warning = Some(format!(
                    "no PID file and no lock: {e}; set --pidfile to a writable path"
                ));
                None
            }
        },
    };
    let lockfile = match (lockfile, &pidfile) {
        (Some(l), _) => {
            must_be_regular(lock_name, l)?;
            let dir = parent(l);
            ensure_dir(&dir, 0o755)
                .and_then(|_| probe_writable(&dir))
                .map_err(|e| {
                    Error::Setup(format!(
                        "cannot use {lock_name} {}: {e}; choose a writable path",
                        l.display()
                    ))
                })?;
            Some(l.to_path_buf())
        }
        (None, Some(p)) => Some(lock_beside(p)),
        (None, None) => None,
    };
    Ok((Paths { pidfile, lockfile }, warning))
}

/// An explicit path that exists must be a regular file (§14.31): ctlinit
/// never renames over, writes into or removes a directory, FIFO, socket or
/// device (as root, `--pidfile /dev/null` would otherwise destroy it).
fn must_be_regular(flag: &str, p: &Path) -> Result<()> {
    use std::os::unix::fs::FileTypeExt;
    let Ok(m) = fs::metadata(p) else {
        return Ok(());
    };
    let t = m.file_type();
    let what = if t.is_file() {
        return Ok(());
    } else if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a device"
    };
    Err(Error::Usage(format!(
        "invalid value '{}' for {flag}: it is {what}, not a regular file; name a file ctlinit may create and replace",
        p.display()
    )))
}

/// Where the verbs look when no path is given: the default, else the fallback.
pub fn for_verbs(pidfile: Option<&Path>, lockfile: Option<&Path>) -> Paths {
    let pidfile = pidfile.map(Path::to_path_buf).unwrap_or_else(|| {
        let d = PathBuf::from(DEFAULT_DIR).join(PIDFILE_NAME);
        let f = fallback_dir().join(PIDFILE_NAME);
        if !d.exists() && f.exists() {
            f
        } else {
            d
        }
    });
    let lockfile = lockfile
        .map(Path::to_path_buf)
        .unwrap_or_else(|| lock_beside(&pidfile));
    Paths {
        pidfile: Some(pidfile),
        lockfile: Some(lockfile),
    }
}

fn default_dir() -> std::result::Result<PathBuf, String> {
    let d = PathBuf::from(DEFAULT_DIR);
    let first = ensure_dir(&d, 0o755).and_then(|_| probe_writable(&d));
    let Err(e1) = first else { return Ok(d) };
    let f = fallback_dir();
    let second = ensure_private_dir(&f).and_then(|_| probe_writable(&f));
    match second {
        Ok(()) => Ok(f),
        Err(e2) => Err(format!(
            "{DEFAULT_DIR} is unusable ({e1}) and so is {} ({e2})",
            f.display()
        )),
    }
}

fn parent(p: &Path) -> PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn ensure_dir(d: &Path, mode: u32) -> io::Result<()> {
    if d.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new().recursive(true).mode(mode).create(d)
}

/// The fallback directory is created 0700 and refused if someone else owns it
/// or it is not a real directory (a symlink planted in /tmp).
fn ensure_private_dir(d: &Path) -> io::Result<()> {
    match fs::DirBuilder::new().mode(0o700).create(d) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    let m = fs::symlink_metadata(d)?;
    let uid = nix::unistd::getuid().as_raw();
    if !m.file_type().is_dir() {
        return Err(io::Error::other(format!(
            "{} is not a directory",
            d.display()
        )));
    }
    if m.uid() != uid {
        return Err(io::Error::other(format!(
            "{} is owned by uid {}, not {uid}",
            d.display(),
            m.uid()
        )));
    }
    if m.mode() & 0o077 != 0 {
        return Err(io::Error::other(format!(
            "{} is accessible to other users (mode {:o})",
            d.display(),
            m.mode() & 0o777
        )));
    }
    Ok(())
}

/// Whether ctlinit may create files in `d` (read-only mounts included),
/// without creating anything.
fn probe_writable(d: &Path) -> io::Result<()> {
    use nix::unistd::{access, AccessFlags};
    access(d, AccessFlags::W_OK | AccessFlags::X_OK).map_err(io::Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: (&str, &str) = ("--pidfile", "--lockfile");

    #[test]
    fn lock_sits_beside_the_pidfile() {
        assert_eq!(
            lock_beside(Path::new("/x/y/p.pid")),
            PathBuf::from("/x/y/ctlinit.lock")
        );
        let p = for_verbs(Some(Path::new("/a/b.pid")), None);
        assert_eq!(p.lockfile, Some(PathBuf::from("/a/ctlinit.lock")));
        let p = for_verbs(Some(Path::new("/a/b.pid")), Some(Path::new("/l")));
        assert_eq!(p.lockfile, Some(PathBuf::from("/l")));
    }

    #[test]
    fn an_explicit_pidfile_or_lock_that_is_not_a_regular_file_is_refused() {
        for (p, what) in [("/dev/null", "a device"), ("/tmp", "a directory")] {
            let e = for_supervisor(Some(Path::new(p)), None, NAMES).unwrap_err();
            assert_eq!(e.exit_code(), 2);
            assert!(
                e.to_string().contains(what) && e.to_string().contains(p),
                "{e}"
            );
            let e = for_supervisor(
                None,
                Some(Path::new(p)),
                ("CTLINIT_PIDFILE", "CTLINIT_LOCKFILE"),
            )
            .unwrap_err();
            assert!(
                e.to_string().contains("CTLINIT_LOCKFILE"),
                "the variable is named: {e}"
            );
        }
    }

    #[test]
    fn unwritable_explicit_pidfile_is_a_config_error() {
        let e = for_supervisor(Some(Path::new("/proc/nope/daemon.pid")), None, NAMES).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("/proc/nope/daemon.pid"), "{e}");
    }
}
