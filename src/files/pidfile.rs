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
pub fn read(path: &Path) -> Result<Record, ReadError> {
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

pub fn decode(buf: &[u8]) -> Result<Record, ReadError> {
    use serde_json::error::Category;
    if buf.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ReadError::Invalid("the file is empty".into()));
    }
    serde_json::from_slice(buf).map_err(|e| match e.classify() {
        Category::Data => ReadError::Invalid(format!("unexpected fields ({e})")),
        _ => ReadError::Invalid(format!("bad JSON ({e})")),
    })
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
        assert_eq!(read(&path).unwrap(), sample());
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

/// Property tests of the decoder (proptest; `CTLINIT_SOAK=1` runs 100×):
/// any bytes give a record or a clean `Invalid` error, every record written
/// decodes to itself, and a partially written record is never accepted.
#[cfg(test)]
mod props {
    use super::*;
    use crate::core::record::{LastCheck, LastExit};
    use proptest::prelude::*;
    use proptest::test_runner::Config;

    fn config(cases: u32) -> Config {
        let soak = std::env::var("CTLINIT_SOAK").as_deref() == Ok("1");
        Config {
            cases: if soak { cases * 100 } else { cases },
            failure_persistence: None,
            ..Config::default()
        }
    }

    fn record() -> impl Strategy<Value = Record> {
        let last_exit = prop::option::of((
            any::<Option<i32>>(),
            any::<Option<i32>>(),
            any::<i32>(),
            any::<bool>(),
        ))
        .prop_map(|o| {
            o.map(|(code, signal, status, oom_kill)| LastExit {
                code,
                signal,
                status,
                oom_kill,
            })
        });
        let last_check = prop::option::of((any::<i32>(), any::<u64>(), any::<bool>()))
            .prop_map(|o| o.map(|(status, at_ms, ok)| LastCheck { status, at_ms, ok }));
        (
            (
                any::<Option<i32>>(),
                any::<u64>(),
                any::<i32>(),
                any::<u64>(),
            ),
            prop::sample::select(&["starting", "ready", "draining", "stopping", "backoff"][..]),
            (any::<u64>(), any::<u64>(), any::<u64>()),
            (last_exit, last_check),
            prop::collection::vec(any::<String>(), 0..4),
            ("[0-9.a-z-]{0,12}", any::<u64>()),
        )
            .prop_map(
                |(
                    (pid, generation, supervisor_pid, started_at_ms),
                    state,
                    (exits, restarts, oom_kills),
                    (last_exit, last_check),
                    command,
                    (version, supervisor_start),
                )| Record {
                    pid,
                    generation,
                    state: state.into(),
                    supervisor_pid,
                    started_at_ms,
                    exits,
                    restarts,
                    oom_kills,
                    last_exit,
                    last_check,
                    command,
                    version,
                    supervisor_start,
                },
            )
    }

    proptest! {
        #![proptest_config(config(1000))]

        #[test]
        fn any_bytes_decode_or_fail_cleanly(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
            match decode(&bytes) {
                Ok(_) => {}
                Err(ReadError::Invalid(m)) => prop_assert!(!m.is_empty()),
                Err(e) => prop_assert!(false, "decode returned {e:?}"),
            }
        }

        #[test]
        fn json_like_noise_never_panics(s in r#"[\[\]{}":,0-9a-z \\.-]{0,300}"#) {
            let _ = decode(s.as_bytes());
        }

        #[test]
        fn every_record_written_decodes_to_itself(rec in record()) {
            let mut line = serde_json::to_vec(&rec).unwrap();
            line.push(b'\n');
            prop_assert_eq!(decode(&line).ok(), Some(rec));
        }

        #[test]
        fn a_truncated_record_is_never_accepted(rec in record(), cut in any::<prop::sample::Index>(),
                                                edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
            let line = serde_json::to_vec(&rec).unwrap();
            let at = cut.index(line.len());
            prop_assert!(decode(&line[..at]).is_err(), "prefix of {} bytes accepted", at);
            let mut bad = line.clone();
            for (i, b) in edits {
                let i = i.index(bad.len());
                bad[i] = b;
            }
            let _ = decode(&bad);
        }
    }

    #[test]
    fn deep_nesting_within_the_size_limit_is_an_error() {
        for open in ["[", "{\"a\":"] {
            let s = open.repeat(MAX_SIZE as usize / open.len());
            assert!(
                matches!(decode(s.as_bytes()), Err(ReadError::Invalid(_))),
                "{open}"
            );
        }
    }
}
