//! Helpers shared by the `tests/reliability_*.rs` files (issue 6), on top of
//! `tests/common` (where every helper other test files need too lives): soak scaling, process identity
//! that survives PID reuse, memory and fd figures from /proc, one-shot runs
//! with their peak RSS, a guard for ctlinits started outside the `Ctl`
//! harness (as another user, with closed descriptors), and 127.0.0.1 ports
//! in 40000-49999.
//!
//! Every wait is bounded; only PIDs a test started (or found below them) are
//! ever signalled.
#![allow(dead_code)]

use crate::common::*;
// Moved to `common` (one copy); re-exported for the files that import them
// from here by name.
#[allow(unused_imports)]
pub use crate::common::{
    children_snapshot, ctlinit_cmd, host_pid_below, raw_kill, s, scrub_env, start_time, wait_child,
    ProcId,
};
use std::fs::{self, File};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// `CTLINIT_SOAK=1` lengthens every reliability scenario (see each file).
pub fn soak() -> bool {
    std::env::var("CTLINIT_SOAK").as_deref() == Ok("1")
}

/// `ci` normally, `soak` under `CTLINIT_SOAK=1`.
pub fn scaled<T>(ci: T, soak_value: T) -> T {
    if soak() {
        soak_value
    } else {
        ci
    }
}

/// Heavy scenarios of one file take this lock so their figures (RSS, timings)
/// are not skewed by a sibling test hammering the same 2 cores.
pub fn serial() -> MutexGuard<'static, ()> {
    static HEAVY: Mutex<()> = Mutex::new(());
    HEAVY.lock().unwrap_or_else(|e| e.into_inner())
}

// ------------------------------------------------------------------ /proc figures

/// VmRSS of PID in KiB.
pub fn vm_rss_kb(pid: i32) -> Option<u64> {
    status_field(pid, "VmRSS")?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Number of open descriptors of PID.
pub fn fd_count(pid: i32) -> Option<usize> {
    Some(fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count())
}

/// Zombies among the descendants of `pid` (for a namespace's init: every
/// zombie in the namespace).
pub fn zombies_below(pid: i32) -> Vec<i32> {
    descendants(pid)
        .into_iter()
        .filter(|&p| proc_state(p) == Some('Z'))
        .collect()
}

// ------------------------------------------------------------------ ports

/// A 127.0.0.1 TCP port in 40000..50000, free now and not handed out before
/// in this test binary.
pub fn port(seed: u16) -> u16 {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let base = (std::process::id() as usize % 500) * 17 + seed as usize * 131;
    for _ in 0..10_000 {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let p = 40_000 + ((base + n * 7) % 10_000) as u16;
        if !port_listening(p) && TcpListener::bind(("127.0.0.1", p)).is_ok() {
            return p;
        }
    }
    panic!("no free TCP port in 40000..50000");
}

// ------------------------------------------------------------------ commands

/// `setpriv` prefix that runs the rest as `nobody:nogroup` without groups.
pub fn as_nobody() -> Command {
    let mut c = Command::new("setpriv");
    c.args([
        "--reuid",
        "nobody",
        "--regid",
        "nogroup",
        "--clear-groups",
        "--",
    ]);
    scrub_env(&mut c);
    c
}

/// The result of a one-shot run, with its peak memory from wait4's rusage.
#[derive(Debug)]
pub struct Measured {
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    pub maxrss_kb: i64,
}

/// Runs `cmd` (stdin null, stdout/stderr to files in `dir`), waits at most
/// `timeout` through wait4 (so the peak RSS comes back), and on timeout
/// kills it by PID and returns `code: None`.
///
/// Linux folds the RSS the child had before its exec — a copy of this test
/// process's — into `ru_maxrss`, so compare it with the same measure of a
/// baseline run rather than read it as the program's own peak.
pub fn run_measured(dir: &TestDir, name: &str, mut cmd: Command, timeout: Duration) -> Measured {
    let out = dir.join(&format!("{name}.stdout"));
    let err = dir.join(&format!("{name}.stderr"));
    cmd.stdin(Stdio::null())
        .stdout(File::create(&out).expect("create stdout file"))
        .stderr(File::create(&err).expect("create stderr file"));
    let t0 = Instant::now();
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let pid = child.id() as i32;
    let mut timed_out = false;
    let (status, ru) = loop {
        let mut st = 0;
        // SAFETY: rusage is plain data; wait4 on our own child.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        let r = unsafe { libc::wait4(pid, &mut st, libc::WNOHANG, &mut ru) };
        if r == pid {
            break (st, ru);
        }
        assert!(r == 0, "wait4({pid}): {}", std::io::Error::last_os_error());
        if t0.elapsed() >= timeout && !timed_out {
            timed_out = true;
            // Our own unreaped child: its pid cannot have been reused.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        sleep(Duration::from_millis(2));
    };
    // The std handle was reaped behind its back: forget it.
    std::mem::forget(child);
    let elapsed = t0.elapsed();
    Measured {
        code: (!timed_out && libc::WIFEXITED(status)).then(|| libc::WEXITSTATUS(status)),
        signal: libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status)),
        stdout: fs::read_to_string(&out).unwrap_or_default(),
        stderr: fs::read_to_string(&err).unwrap_or_default(),
        elapsed,
        maxrss_kb: ru.ru_maxrss,
    }
}

// ------------------------------------------------------------------ a ctlinit outside the harness

/// A ctlinit (subreaper mode) started by hand: as another user, with odd
/// descriptors. Dropping it stops and SIGKILLs its tree, then it, by PID.
pub struct Proc {
    pub child: Child,
    pub pid: i32,
    pub stderr_path: PathBuf,
    pub out: PathBuf,
    pub started: Instant,
    status: Option<std::process::ExitStatus>,
}

impl Proc {
    pub fn spawn(mut cmd: Command, stderr_path: PathBuf, out: PathBuf) -> Proc {
        // SAFETY: setsid is async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        let pid = child.id() as i32;
        Proc {
            child,
            pid,
            stderr_path,
            out,
            started: Instant::now(),
            status: None,
        }
    }

    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        if self.status.is_none() {
            if let Ok(Some(st)) = self.child.try_wait() {
                self.status = Some(st);
            }
        }
        self.status
    }

    pub fn signal(&mut self, sig: i32) {
        assert!(
            self.exited().is_none(),
            "pid {} already exited; not signalling",
            self.pid
        );
        signal_pid(self.pid, sig);
    }

    pub fn context(&self) -> String {
        format!("{}{}", tail(&self.out, 15), tail(&self.stderr_path, 15))
    }

    pub fn wait_out(
        &self,
        pred: impl Fn(&str) -> bool,
        timeout: Duration,
    ) -> Result<String, String> {
        wait_line_in(&self.out, "", pred, timeout, || self.context())
    }

    pub fn wait_stderr(
        &self,
        pred: impl Fn(&str) -> bool,
        timeout: Duration,
    ) -> Result<String, String> {
        wait_line_in(&self.stderr_path, "", pred, timeout, || self.context())
    }

    /// Exit code, or an error naming the timeout or the killing signal.
    pub fn wait_code(&mut self, timeout: Duration) -> Result<i32, String> {
        use std::os::unix::process::ExitStatusExt;
        let t0 = Instant::now();
        loop {
            if let Some(st) = self.exited() {
                return st.code().ok_or_else(|| {
                    format!(
                        "pid {} died of signal {:?}{}",
                        self.pid,
                        st.signal(),
                        self.context()
                    )
                });
            }
            if t0.elapsed() >= timeout {
                return Err(format!(
                    "timed out after {timeout:?} waiting for pid {} to exit{}",
                    self.pid,
                    self.context()
                ));
            }
            sleep(POLL);
        }
    }

    pub fn stderr_text(&self) -> String {
        fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.exited().is_some() {
            return;
        }
        // ctlinit is our unreaped child: stop it (it can then neither spawn nor
        // reap, so the PIDs below it stay valid), kill its tree, then it.
        unsafe { libc::kill(self.pid, libc::SIGSTOP) };
        let below = descendants(self.pid);
        for &p in &below {
            if p > 1 {
                unsafe { libc::kill(p, libc::SIGKILL) };
            }
        }
        unsafe { libc::kill(self.pid, libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

/// Creates a FIFO (for "go" triggers the daemon blocks on).
pub fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).expect("no NUL in path");
    // SAFETY: a valid C string.
    let r = unsafe { libc::mkfifo(c.as_ptr(), 0o600) };
    assert_eq!(
        r,
        0,
        "mkfifo {}: {}",
        path.display(),
        std::io::Error::last_os_error()
    );
}

/// Opens the FIFO for writing (a reader must be waiting: bounded by polling
/// a non-blocking open) and writes one line.
pub fn trigger_fifo(path: &Path, timeout: Duration) {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let f = ok(wait_until(
        &format!("a reader on the FIFO {}", path.display()),
        timeout,
        || {
            fs::OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(path)
                .ok()
        },
        String::new,
    ));
    let mut f = f;
    f.write_all(b"go\n").expect("write the FIFO");
}

/// Max of a slice of numbers (0 for none).
pub fn max_of<T: Copy + Ord + Default>(v: impl IntoIterator<Item = T>) -> T {
    v.into_iter().max().unwrap_or_default()
}

/// Live processes (not zombies) whose environment holds exactly
/// `NAME=VALUE`: every process a test's daemons started inherits the test's
/// own `FIXTURE_OUT`, so this finds leftovers wherever they were reparented.
pub fn processes_with_env(name: &str, value: &str) -> Vec<i32> {
    let want = format!("{name}={value}");
    all_procs()
        .into_iter()
        .filter(|p| p.state != 'Z' && p.state != 'X')
        .filter(|p| {
            fs::read(format!("/proc/{}/environ", p.pid))
                .map(|e| e.split(|&b| b == 0).any(|kv| kv == want.as_bytes()))
                .unwrap_or(false)
        })
        .map(|p| p.pid)
        .collect()
}

/// Copies of ctlinit and the fixture in `dir/bin` (mode 0755), for runs as
/// another user: the checkout (and so `target/`) may sit below a directory
/// that user cannot enter, such as /root.
pub fn bins_for_others(dir: &TestDir) -> (PathBuf, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("bin");
    let _ = fs::create_dir(&bin);
    fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).unwrap();
    let copy = |from: PathBuf, name: &str| {
        let to = bin.join(name);
        if !to.exists() {
            fs::copy(&from, &to)
                .unwrap_or_else(|e| panic!("copy {} to {}: {e}", from.display(), to.display()));
            fs::set_permissions(&to, fs::Permissions::from_mode(0o755)).unwrap();
        }
        to
    };
    (
        copy(ctlinit_bin(), "ctlinit"),
        copy(fixture_bin(), "fixture"),
    )
}
