//! The generation-stamped JSON PID file (SPEC §5): its atomic replace (temp
//! file + rename, never following a symlink at the target, never over
//! anything but a regular file), its removal, and a bounded, panic-free
//! reader for the verbs. The record itself is the core's.

pub use crate::core::record::Record;
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Files larger than this are refused by readers (SPEC §10).
pub const MAX_SIZE: u64 = 64 * 1024;

pub struct PidFile {
    path: PathBuf,
    tmp: PathBuf,
}

impl PidFile {
    pub fn new(path: PathBuf) -> PidFile {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
        PidFile { path, tmp }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Replaces the file atomically. No fsync: the file describes live
    /// processes and means nothing after a reboot.
    pub fn write(&self, rec: &Record) -> io::Result<()> {
        if !replaceable(&self.path) {
            return Err(io::Error::other(
                "something that is not a regular file is at that path now; not replacing it",
            ));
        }
        let mut line = serde_json::to_vec(rec).map_err(io::Error::other)?;
        line.push(b'\n');
        let open = || {
            fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o644)
                .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
                .open(&self.tmp)
        };
        // A temp file left by a crash (or planted) is replaced, never followed.
        let mut f = match open() {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                fs::remove_file(&self.tmp)?;
                open()?
            }
            other => other?,
        };
        f.write_all(&line)?;
        drop(f);
        // rename replaces a symlink at the target instead of following it.
        fs::rename(&self.tmp, &self.path)
    }

    /// The temp file never outlives `write` (it is renamed, or removed on
    /// the next write), so only the file itself goes — and only if it is a
    /// regular file: never a device, FIFO or directory put there meanwhile.
    pub fn remove(&self) {
        if fs::symlink_metadata(&self.path).is_ok_and(|m| m.is_file()) {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Whether a rename may replace what is at `path`: nothing, a regular file,
/// or a symlink (the link is replaced, its target untouched).
fn replaceable(path: &Path) -> bool {
    match fs::symlink_metadata(path) {
        Ok(m) => m.is_file() || m.file_type().is_symlink(),
        Err(_) => true,
    }
}

/// Why a PID file could not be read (the verbs exit 3 or 4 on these).
#[derive(Debug)]
pub enum ReadError {
    Missing,
    TooLarge(u64),
    Unreadable(io::Error),
    Invalid(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Missing => write!(f, "no such file"),
            ReadError::TooLarge(n) => write!(
                f,
                "file is larger than {MAX_SIZE} bytes ({n} bytes or more), not a ctlinit PID file"
            ),
            ReadError::Unreadable(e) => write!(f, "cannot read it: {e}"),
            ReadError::Invalid(m) => write!(f, "not a ctlinit PID file: {m}"),
        }
    }
}

/// Reads at most MAX_SIZE bytes and decodes them; never panics, never
/// allocates more than the limit.
pub fn read(path: &Path) -> Result<(Record, serde_json::Value), ReadError> {
    // O_NONBLOCK: opening a FIFO planted at the path must not hang the verb.
    let f = match fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(ReadError::Missing),
        Err(e) => return Err(ReadError::Unreadable(e)),
    };
    match f.metadata() {
        Ok(m) if m.is_file() => {}
        Ok(_) => return Err(ReadError::Invalid("not a regular file".into())),
        Err(e) => return Err(ReadError::Unreadable(e)),
    }
    let mut buf = Vec::new();
    f.take(MAX_SIZE + 1)
        .read_to_end(&mut buf)
        .map_err(ReadError::Unreadable)?;
    if buf.len() as u64 > MAX_SIZE {
        return Err(ReadError::TooLarge(buf.len() as u64));
    }
    decode(&buf)
}

pub fn decode(buf: &[u8]) -> Result<(Record, serde_json::Value), ReadError> {
    if buf.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ReadError::Invalid("the file is empty".into()));
    }
    let value: serde_json::Value =
        serde_json::from_slice(buf).map_err(|e| ReadError::Invalid(format!("bad JSON ({e})")))?;
    let rec: Record = serde_json::from_value(value.clone())
        .map_err(|e| ReadError::Invalid(format!("unexpected fields ({e})")))?;
    Ok((rec, value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::FileTypeExt;

    fn sample() -> Record {
        let mut r: Record = serde_json::from_str(
            r#"{"pid":null,"generation":3,"state":"backoff","supervisor_pid":1,"started_at_ms":1,"exits":3,"restarts":2,"last_exit":null,"command":["d"],"version":"0.1.0"}"#,
        )
        .unwrap();
        r.oom_kills = 0;
        r
    }

    #[test]
    fn a_record_without_the_newer_fields_still_reads() {
        assert_eq!(sample().supervisor_start, 0);
        assert_eq!(sample().last_check, None);
    }

    #[test]
    fn hostile_content_is_a_clean_error() {
        for bad in [
            &b""[..],
            b"   \n",
            b"{",
            b"null",
            b"[]",
            b"\xff\xfe\x00",
            b"{\"pid\":\"x\"}",
            b"{}",
        ] {
            assert!(matches!(decode(bad), Err(ReadError::Invalid(_))), "{bad:?}");
        }
    }

    #[test]
    fn write_is_atomic_and_replaces_a_symlink_without_following_it() {
        let dir = std::env::temp_dir().join(format!("ctlinit-pidfile-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let victim = dir.join("victim");
        fs::write(&victim, "keep").unwrap();
        let path = dir.join("daemon.pid");
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        let pf = PidFile::new(path.clone());
        pf.write(&sample()).unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "keep");
        assert_eq!(read(&path).unwrap().0, sample());
        let big = dir.join("big");
        fs::write(&big, vec![b' '; MAX_SIZE as usize + 10]).unwrap();
        assert!(matches!(read(&big), Err(ReadError::TooLarge(_))));
        assert!(matches!(read(&dir.join("none")), Err(ReadError::Missing)));
        pf.remove();
        assert!(!path.exists());
        // Never over, and never removing, what is not a regular file.
        nix::unistd::mkfifo(&path, nix::sys::stat::Mode::S_IRWXU).unwrap();
        assert!(pf.write(&sample()).is_err());
        pf.remove();
        assert!(fs::symlink_metadata(&path).unwrap().file_type().is_fifo());
        fs::remove_dir_all(&dir).unwrap();
    }
}
