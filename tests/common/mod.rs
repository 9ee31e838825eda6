//! Integration-test harness: start the real `ctlinit` binary (as a subreaper,
//! or as PID 1 of a fresh PID namespace), talk to it with signals, watch it
//! through its files and `/proc`, and kill exactly what we started when the
//! test ends — pass or fail.
//!
//! Rules every helper follows:
//! * every wait is bounded, polls every `POLL` (10 ms), and fails with a
//!   message naming what it waited for plus the tail of the relevant files;
//! * only PIDs this harness started (or found below them in `/proc`) are ever
//!   signalled — never `kill(-1)`, never a process name;
//! * each test gets its own directory (`TestDir`) holding the PID file, lock,
//!   the fixture's output file (`out`) and ctlinit's stdout/stderr.
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread::sleep;
use std::time::{Duration, Instant};

pub use serde_json::Value;

/// How often every wait looks again.
pub const POLL: Duration = Duration::from_millis(10);

/// Seconds allowed on top of a contract deadline (--stop-timeout, a verb's
/// --timeout) before a test calls it missed. Loose on purpose: it turns a
/// hang into a failure; it does not measure this machine (STYLE.md,
/// pattern 8: speed is the benchmark's business).
pub const MARGIN: f64 = 5.0;

pub fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

// ------------------------------------------------------------------ binaries

pub fn ctlinit_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_ctlinit"))
}

/// The fixture built from `examples/fixture.rs`.
///
/// Path rule: cargo puts binaries in `target/<profile>/` and examples in
/// `target/<profile>/examples/`, so the fixture is
/// `CARGO_BIN_EXE_ctlinit/../examples/fixture`, i.e.
/// `dirname(CARGO_BIN_EXE_ctlinit)/examples/fixture`.
/// A plain `cargo test` builds it; `cargo test --test NAME` does not, so run
/// `cargo build --examples` first in that case. A fixture older than its
/// source is refused too: a stale fixture makes tests lie.
pub fn fixture_bin() -> PathBuf {
    let bin = ctlinit_bin();
    let p = bin
        .parent()
        .expect("CARGO_BIN_EXE_ctlinit has a directory")
        .join("examples")
        .join("fixture");
    let meta = fs::metadata(&p).unwrap_or_else(|e| {
        panic!(
            "test fixture not found at {} ({e}); build it with `cargo build --examples` \
             (`cargo test` builds it, `cargo test --test NAME` does not)",
            p.display()
        )
    });
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/fixture.rs");
    if let (Ok(bin_t), Ok(src_t)) = (
        meta.modified(),
        fs::metadata(&src).and_then(|m| m.modified()),
    ) {
        if src_t > bin_t {
            panic!(
                "test fixture {} is older than {}; rebuild it with `cargo build --examples`",
                p.display(),
                src.display()
            );
        }
    }
    p
}

pub fn fixture_str() -> String {
    fixture_bin().to_string_lossy().into_owned()
}

/// A path as an owned string, for argument lists and messages.
pub fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// A `Command` for ctlinit with none of the caller's CTLINIT_*/TINI_* variables.
pub fn ctlinit_cmd() -> Command {
    let mut c = Command::new(ctlinit_bin());
    scrub_env(&mut c);
    c
}

/// Removes the caller's CTLINIT_*, TINI_* and NOTIFY_SOCKET: a test sets
/// what it means to set.
pub fn scrub_env(c: &mut Command) {
    for (k, _) in std::env::vars_os() {
        let ks = k.to_string_lossy();
        if ks.starts_with("CTLINIT_") || ks.starts_with("TINI_") || ks == "NOTIFY_SOCKET" {
            c.env_remove(&k);
        }
    }
}

/// Waits at most `timeout` for a child started with piped output; on timeout
/// kills it (our own unreaped child: its PID cannot have been reused) and
/// returns None.
pub fn wait_child(mut c: Child, timeout: Duration) -> Option<std::process::Output> {
    let t0 = Instant::now();
    loop {
        match c.try_wait() {
            Ok(Some(_)) => return c.wait_with_output().ok(),
            Ok(None) if t0.elapsed() < timeout => sleep(POLL),
            _ => {
                let _ = c.kill();
                let _ = c.wait();
                return None;
            }
        }
    }
}

// ------------------------------------------------------------------ temp dirs

/// A per-test directory under `std::env::temp_dir()`, removed on drop unless
/// the test is panicking (then it is kept and its path printed).
pub struct TestDir {
    path: PathBuf,
}

impl TestDir {
    pub fn new(name: &str) -> TestDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let path =
            std::env::temp_dir().join(format!("ctlinit-test-{}-{n}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("cannot create test dir {}: {e}", path.display()));
        TestDir { path }
    }
    pub fn path(&self) -> &Path {
        &self.path
    }
    pub fn join(&self, rel: &str) -> PathBuf {
        self.path.join(rel)
    }
    /// The PID file every `Ctl` in this dir uses unless told otherwise.
    pub fn pidfile(&self) -> PathBuf {
        self.join("daemon.pid")
    }
    /// The default lock: `ctlinit.lock` beside the PID file (SPEC §6).
    pub fn lockfile(&self) -> PathBuf {
        self.join("ctlinit.lock")
    }
    /// The fixture's output file ($FIXTURE_OUT).
    pub fn out(&self) -> PathBuf {
        self.join("out")
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("test failed: keeping {}", self.path.display());
        } else {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

// ------------------------------------------------------------------ waiting

/// Polls `f` every `POLL` until it returns `Some`, for at most `timeout`.
/// The error names `what` was awaited and adds `context()` (file tails).
pub fn wait_until<T>(
    what: &str,
    timeout: Duration,
    mut f: impl FnMut() -> Option<T>,
    context: impl Fn() -> String,
) -> Result<T, String> {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return Ok(v);
        }
        if start.elapsed() >= timeout {
            return Err(format!(
                "timed out after {timeout:?} waiting for {what}{}",
                context()
            ));
        }
        sleep(POLL);
    }
}

/// Reads a file as lines; a missing file has none.
pub fn read_lines(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .map(|s| s.lines().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// The last `n` lines of a file, for error messages.
pub fn tail(path: &Path, n: usize) -> String {
    let lines = read_lines(path);
    let from = lines.len().saturating_sub(n);
    format!(
        "\n--- {} (last {} of {} lines) ---\n{}",
        path.display(),
        lines.len() - from,
        lines.len(),
        lines[from..].join("\n")
    )
}

/// Waits until a line of `path` satisfies `pred` and returns it.
pub fn wait_for_line(
    path: &Path,
    pred: impl Fn(&str) -> bool,
    timeout: Duration,
) -> Result<String, String> {
    wait_line_in(path, "", pred, timeout, || tail(path, 20))
}

/// The one way every helper waits for a line of a file: `what` names the
/// file's role in the error ("the fixture output", "ctlinit's stderr"),
/// `context()` adds what to show on a timeout.
pub fn wait_line_in(
    path: &Path,
    what: &str,
    pred: impl Fn(&str) -> bool,
    timeout: Duration,
    context: impl Fn() -> String,
) -> Result<String, String> {
    let role = if what.is_empty() {
        String::new()
    } else {
        format!("{what} ")
    };
    wait_until(
        &format!("a matching line in {role}{}", path.display()),
        timeout,
        || read_lines(path).into_iter().find(|l| pred(l)),
        context,
    )
}

// ------------------------------------------------------------------ /proc

#[derive(Clone, Debug)]
pub struct Stat {
    pub pid: i32,
    pub state: char,
    pub ppid: i32,
    pub pgrp: i32,
    pub session: i32,
    pub utime: u64,
    pub stime: u64,
}

/// Parses `/proc/PID/stat` (the comm field may contain spaces and parens, so
/// split after the last ')').
pub fn proc_stat(pid: i32) -> Option<Stat> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &text[text.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After comm: state(3) ppid(4) pgrp(5) session(6) ... utime(14) stime(15).
    Some(Stat {
        pid,
        state: f.first()?.chars().next()?,
        ppid: f.get(1)?.parse().ok()?,
        pgrp: f.get(2)?.parse().ok()?,
        session: f.get(3)?.parse().ok()?,
        utime: f.get(11)?.parse().ok()?,
        stime: f.get(12)?.parse().ok()?,
    })
}

/// The state letter of PID (`R`, `S`, `Z`, ...), or None when it is gone.
pub fn proc_state(pid: i32) -> Option<char> {
    proc_stat(pid).map(|s| s.state)
}

/// Alive = exists and is not a zombie.
pub fn alive(pid: i32) -> bool {
    matches!(proc_state(pid), Some(s) if s != 'Z' && s != 'X')
}

/// Every process on the host, as seen through /proc.
pub fn all_procs() -> Vec<Stat> {
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(proc_stat)
        .collect()
}

/// Every descendant of `pid` (children, their children, ...), by ppid walk.
pub fn descendants(pid: i32) -> Vec<i32> {
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    for s in all_procs() {
        children.entry(s.ppid).or_default().push(s.pid);
    }
    let mut out = Vec::new();
    let mut stack = vec![pid];
    while let Some(p) = stack.pop() {
        for &c in children.get(&p).map(Vec::as_slice).unwrap_or(&[]) {
            out.push(c);
            stack.push(c);
        }
    }
    out
}

/// Zombies whose parent is `pid`.
pub fn zombies_under(pid: i32) -> Vec<i32> {
    all_procs()
        .into_iter()
        .filter(|s| s.ppid == pid && s.state == 'Z')
        .map(|s| s.pid)
        .collect()
}

/// Field 22 of /proc/PID/stat: start time in clock ticks since boot.
pub fn start_time(pid: i32) -> Option<u64> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = text.get(text.rfind(')')? + 1..)?;
    // After ')': state is field 3, so starttime (22) is the 20th word.
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// A process identity that PID reuse cannot fake: pid + start time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcId {
    pub pid: i32,
    pub start: u64,
}

impl ProcId {
    pub fn of(pid: i32) -> Option<ProcId> {
        Some(ProcId {
            pid,
            start: start_time(pid)?,
        })
    }
    /// Still running: same process (not a reused pid), not a zombie.
    pub fn running(&self) -> bool {
        start_time(self.pid) == Some(self.start) && alive(self.pid)
    }
}

/// Children of `pid` read in one go from /proc/PID/task/PID/children: the
/// list is a snapshot taken under the kernel's lock, so two entries in it
/// existed at the same instant.
pub fn children_snapshot(pid: i32) -> Vec<i32> {
    fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|c| c.parse().ok())
        .collect()
}

/// Host pid of the process that sees itself as `ns_pid` (the last entry of
/// NSpid in /proc/PID/status), searched at and below ctlinit (`ctl_pid` on
/// the host). `Ctl::host_pid`, usable from a thread that does not own the
/// `Ctl`.
pub fn host_pid_below(mode: Mode, ctl_pid: i32, ns_pid: i32) -> Option<i32> {
    match mode {
        Mode::Subreaper => Some(ns_pid),
        Mode::Pid1 => std::iter::once(ctl_pid)
            .chain(descendants(ctl_pid))
            .find(|&p| {
                status_field(p, "NSpid")
                    .and_then(|v| v.split_whitespace().last()?.parse::<i32>().ok())
                    == Some(ns_pid)
            }),
    }
}

/// CPU time (utime + stime, in clock ticks) of PID.
pub fn cpu_ticks(pid: i32) -> Option<u64> {
    proc_stat(pid).map(|s| s.utime + s.stime)
}

/// voluntary + nonvoluntary context switches of PID (its main thread; ctlinit
/// is single-threaded by contract).
pub fn ctxt_switches(pid: i32) -> Option<u64> {
    let text = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let mut sum = 0;
    for l in text.lines() {
        if let Some(v) = l
            .strip_prefix("voluntary_ctxt_switches:")
            .or_else(|| l.strip_prefix("nonvoluntary_ctxt_switches:"))
        {
            sum += v.trim().parse::<u64>().ok()?;
        }
    }
    Some(sum)
}

/// A `Key:` field of /proc/PID/status, trimmed.
pub fn status_field(pid: i32, key: &str) -> Option<String> {
    let text = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let prefix = format!("{key}:");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix).map(|v| v.trim().to_owned()))
}

/// Number of threads of PID.
pub fn threads(pid: i32) -> Option<usize> {
    status_field(pid, "Threads")?.parse().ok()
}

/// Where each open fd of PID points (readlink of /proc/PID/fd/*).
pub fn open_fds(pid: i32) -> Vec<(i32, PathBuf)> {
    let Ok(dir) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    dir.filter_map(|e| {
        let e = e.ok()?;
        let fd = e.file_name().to_str()?.parse().ok()?;
        Some((fd, fs::read_link(e.path()).ok()?))
    })
    .collect()
}

/// TCP ports in LISTEN state on this host (network namespace), v4 and v6.
pub fn listening_ports() -> HashSet<u16> {
    let mut ports = HashSet::new();
    for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
        for line in read_lines(Path::new(file)).iter().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() > 3 && f[3] == "0A" {
                if let Some(port) = f[1]
                    .rsplit(':')
                    .next()
                    .and_then(|h| u16::from_str_radix(h, 16).ok())
                {
                    ports.insert(port);
                }
            }
        }
    }
    ports
}

pub fn port_listening(port: u16) -> bool {
    listening_ports().contains(&port)
}

pub fn wait_port_listening(port: u16, timeout: Duration) -> Result<(), String> {
    wait_until(
        &format!("TCP port {port} to listen"),
        timeout,
        || port_listening(port).then_some(()),
        String::new,
    )
}

pub fn wait_port_free(port: u16, timeout: Duration) -> Result<(), String> {
    wait_until(
        &format!("TCP port {port} to stop listening"),
        timeout,
        || (!port_listening(port)).then_some(()),
        String::new,
    )
}

/// A TCP port in 20000..30000 not listening now and not handed out before in
/// this test binary. `seed` spreads test files apart; the PID spreads runs.
pub fn free_port(seed: u16) -> u16 {
    static USED: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    let mut used = USED.lock().unwrap_or_else(|e| e.into_inner());
    let start = (seed as u32 * 97 + std::process::id() % 1000 * 7) % 10000;
    for i in 0..10000u32 {
        let port = 20000 + ((start + i) % 10000) as u16;
        if !used.contains(&port) && !port_listening(port) {
            used.push(port);
            return port;
        }
    }
    panic!("no free TCP port in 20000..30000");
}

// ------------------------------------------------------------------ signals

pub fn sig_num(name: &str) -> i32 {
    match name {
        "HUP" => libc::SIGHUP,
        "INT" => libc::SIGINT,
        "QUIT" => libc::SIGQUIT,
        "USR1" => libc::SIGUSR1,
        "USR2" => libc::SIGUSR2,
        "PIPE" => libc::SIGPIPE,
        "ALRM" => libc::SIGALRM,
        "TERM" => libc::SIGTERM,
        "CONT" => libc::SIGCONT,
        "WINCH" => libc::SIGWINCH,
        "URG" => libc::SIGURG,
        "KILL" => libc::SIGKILL,
        _ => panic!("sig_num: unknown signal {name}"),
    }
}

fn kill(pid: i32, sig: i32) -> bool {
    assert!(pid > 1, "refusing to signal pid {pid}");
    // SAFETY: kill(2) on a specific positive PID this harness started.
    unsafe { libc::kill(pid, sig) == 0 }
}

/// `kill(2)` that reports instead of panicking (for signal storms and for
/// clean-up in `Drop`, where the target may legitimately be exiting: callers
/// guarantee it is a process of theirs whose PID cannot have been reused).
pub fn raw_kill(pid: i32, sig: i32) -> bool {
    assert!(pid > 1, "refusing to signal pid {pid}");
    // SAFETY: kill(2) on a specific positive pid.
    unsafe { libc::kill(pid, sig) == 0 }
}

/// Signals a process the test itself found below a `Ctl` (a daemon, a
/// grandchild). Refuses PIDs <= 1.
pub fn signal_pid(pid: i32, sig: i32) {
    assert!(
        kill(pid, sig),
        "kill({pid}, {sig}): {}",
        std::io::Error::last_os_error()
    );
}

// ------------------------------------------------------------------ ctlinit

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// ctlinit runs as a plain child of the test: subreaper mode.
    Subreaper,
    /// `unshare --pid --fork --mount-proc -- ctlinit ...`: PID 1 of a new
    /// PID namespace.
    Pid1,
}

pub const MODES: [Mode; 2] = [Mode::Subreaper, Mode::Pid1];

/// How to start one ctlinit. By default: `--pidfile <dir>/daemon.pid`, env
/// `FIXTURE_OUT=<dir>/out`, stdin null, stdout/stderr to `<dir>/<name>.stdout`
/// / `.stderr`, a new session (no controlling terminal, as in `docker run`
/// without `-t`), and none of the caller's CTLINIT_*/TINI_*/NOTIFY_SOCKET.
pub struct CtlBuilder<'a> {
    dir: &'a TestDir,
    mode: Mode,
    name: String,
    args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
    pidfile: bool,
    ignore: Vec<i32>,
    block: Vec<i32>,
    run_tmpfs: Option<String>,
}

impl<'a> CtlBuilder<'a> {
    pub fn arg(mut self, a: impl AsRef<OsStr>) -> Self {
        self.args.push(a.as_ref().to_owned());
        self
    }
    pub fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(mut self, args: I) -> Self {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }
    /// Appends the fixture as COMMAND, then its arguments.
    pub fn fixture(self, fixture_args: &[&str]) -> Self {
        self.arg(fixture_bin()).args(fixture_args)
    }
    pub fn env(mut self, k: impl AsRef<OsStr>, v: impl AsRef<OsStr>) -> Self {
        self.envs
            .push((k.as_ref().to_owned(), v.as_ref().to_owned()));
        self
    }
    /// Do not add `--pidfile <dir>/daemon.pid`.
    pub fn no_pidfile(mut self) -> Self {
        self.pidfile = false;
        self
    }
    /// Name for the stdout/stderr files (several ctlinits in one dir).
    pub fn name(mut self, n: &str) -> Self {
        self.name = n.to_owned();
        self
    }
    /// Start ctlinit with these signals ignored (like `nohup`).
    pub fn ignoring(mut self, sigs: &[i32]) -> Self {
        self.ignore.extend_from_slice(sigs);
        self
    }
    /// Start ctlinit with these signals blocked.
    pub fn blocking(mut self, sigs: &[i32]) -> Self {
        self.block.extend_from_slice(sigs);
        self
    }

    /// Pid1 mode only: also a private mount namespace with a fresh tmpfs on
    /// /run, mounted with `opts` (e.g. "-o ro"), for tests of the default
    /// PID-file path. Files inside are visible at /proc/<ctl.pid>/root/run.
    pub fn private_run(mut self, opts: &str) -> Self {
        assert_eq!(self.mode, Mode::Pid1, "private_run needs Mode::Pid1");
        self.run_tmpfs = Some(opts.to_owned());
        self
    }

    fn command(&self) -> Command {
        let mut cmd = match self.mode {
            Mode::Subreaper => Command::new(ctlinit_bin()),
            Mode::Pid1 if self.run_tmpfs.is_some() => {
                let opts = self.run_tmpfs.as_deref().unwrap_or_default();
                let mut c = Command::new("unshare");
                c.args([
                    "--mount",
                    "--pid",
                    "--fork",
                    "--mount-proc",
                    "--",
                    "sh",
                    "-c",
                ])
                .arg(format!(
                    "mount -t tmpfs {opts} tmpfs /run && exec \"$0\" \"$@\""
                ))
                .arg(ctlinit_bin());
                c
            }
            Mode::Pid1 => {
                let mut c = Command::new("unshare");
                c.args(["--pid", "--fork", "--mount-proc", "--"])
                    .arg(ctlinit_bin());
                c
            }
        };
        if self.pidfile {
            cmd.arg("--pidfile").arg(self.dir.pidfile());
        }
        cmd.args(&self.args);
        scrub_env(&mut cmd);
        cmd.env("FIXTURE_OUT", self.dir.out());
        for (k, v) in &self.envs {
            cmd.env(k, v);
        }
        let ignore = self.ignore.clone();
        let block = self.block.clone();
        // SAFETY: only async-signal-safe calls (setsid, signal, sigset ops,
        // sigprocmask) between fork and exec; the vectors were built before.
        unsafe {
            cmd.pre_exec(move || {
                libc::setsid();
                // glibc's posix_spawn (how cargo starts this test binary)
                // leaves its internal signals 32 and 33 at SIG_IGN, and that
                // survives exec: undo it, so ctlinit starts as cleanly as
                // under runc unless a test asks for ignored signals.
                raw_sigaction(32, libc::SIG_DFL);
                raw_sigaction(33, libc::SIG_DFL);
                for &s in &ignore {
                    raw_sigaction(s, libc::SIG_IGN);
                }
                if !block.is_empty() {
                    let mut set: libc::sigset_t = std::mem::zeroed();
                    libc::sigemptyset(&mut set);
                    for &s in &block {
                        libc::sigaddset(&mut set, s);
                    }
                    libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
                }
                Ok(())
            });
        }
        cmd
    }

    pub fn spawn(self) -> Ctl {
        let stdout_path = self.dir.join(&format!("{}.stdout", self.name));
        let stderr_path = self.dir.join(&format!("{}.stderr", self.name));
        let mut cmd = self.command();
        cmd.stdin(Stdio::null())
            .stdout(File::create(&stdout_path).expect("create stdout file"))
            .stderr(File::create(&stderr_path).expect("create stderr file"));
        let started = Instant::now();
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {:?}: {e}", cmd));
        let child_pid = child.id() as i32;
        let mut status = None;
        let pid = match self.mode {
            Mode::Subreaper => child_pid,
            Mode::Pid1 => match ns_init_of(&mut child, secs(10.0)) {
                Ok(Ok(p)) => p,
                // ctlinit already came and went (a daemon that exits at once):
                // there is nothing left to signal, only a status to read.
                Ok(Err(st)) => {
                    status = Some(st);
                    0
                }
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("{e}{}", tail(&stderr_path, 20));
                }
            },
        };
        Ctl {
            child,
            pid,
            mode: self.mode,
            out: self.dir.out(),
            pidfile: self.dir.pidfile(),
            stdout_path,
            stderr_path,
            started,
            status,
        }
    }
}

/// rt_sigaction(2) without libc's wrapper, which refuses glibc's internal
/// signals 32 and 33. Only SIG_DFL/SIG_IGN, so no restorer is needed.
/// Async-signal-safe (one syscall), for use in `pre_exec`.
fn raw_sigaction(sig: i32, handler: libc::sighandler_t) {
    #[repr(C)]
    struct KernelSigaction {
        handler: libc::sighandler_t,
        flags: libc::c_ulong,
        restorer: usize,
        mask: u64,
    }
    let act = KernelSigaction {
        handler,
        flags: 0,
        restorer: 0,
        mask: 0,
    };
    // SAFETY: a valid kernel_sigaction for the x86_64/aarch64 layout and
    // sigsetsize 8; no old action requested.
    unsafe {
        libc::syscall(
            libc::SYS_rt_sigaction,
            sig,
            &act as *const KernelSigaction,
            std::ptr::null::<u8>(),
            8usize,
        )
    };
}

/// The host PID of the namespace's PID 1: the only child of the `unshare`
/// process (`unshare --fork` forks once and waits). If `unshare` has already
/// exited, its status instead.
fn ns_init_of(unshare: &mut Child, timeout: Duration) -> Result<Result<i32, ExitStatus>, String> {
    let unshare_pid = unshare.id() as i32;
    let children = format!("/proc/{unshare_pid}/task/{unshare_pid}/children");
    wait_until(
        &format!("the child of unshare (pid {unshare_pid}), the namespace's PID 1"),
        timeout,
        || {
            if let Ok(Some(st)) = unshare.try_wait() {
                return Some(Err(st));
            }
            let from_file = fs::read_to_string(&children)
                .ok()
                .and_then(|s| s.split_whitespace().next()?.parse().ok());
            from_file
                .or_else(|| {
                    all_procs()
                        .into_iter()
                        .find(|s| s.ppid == unshare_pid)
                        .map(|s| s.pid)
                })
                .map(Ok)
        },
        String::new,
    )
}

/// One running ctlinit. Dropping it SIGKILLs what it started.
pub struct Ctl {
    /// ctlinit itself (Subreaper) or the `unshare` process (Pid1).
    child: Child,
    /// ctlinit's PID on the host (0 in Pid1 mode if it had already exited
    /// when the harness looked for it).
    pub pid: i32,
    pub mode: Mode,
    pub out: PathBuf,
    pub pidfile: PathBuf,
    pub stdout_path: PathBuf,
    pub stderr_path: PathBuf,
    pub started: Instant,
    status: Option<ExitStatus>,
}

impl Ctl {
    pub fn builder<'a>(dir: &'a TestDir, mode: Mode) -> CtlBuilder<'a> {
        CtlBuilder {
            dir,
            mode,
            name: "ctlinit".into(),
            args: Vec::new(),
            envs: Vec::new(),
            pidfile: true,
            ignore: Vec::new(),
            block: Vec::new(),
            run_tmpfs: None,
        }
    }

    /// ctlinit's PID as its daemon sees it: 1 as PID 1, else the host PID.
    pub fn ns_pid(&self) -> i32 {
        match self.mode {
            Mode::Subreaper => self.pid,
            Mode::Pid1 => 1,
        }
    }

    /// The host PID of a process that sees itself as `ns_pid` (the last entry
    /// of NSpid in /proc/PID/status), searched below ctlinit.
    pub fn host_pid(&self, ns_pid: i32) -> Option<i32> {
        host_pid_below(self.mode, self.pid, ns_pid)
    }

    pub fn context(&self) -> String {
        format!("{}{}", tail(&self.out, 15), tail(&self.stderr_path, 15))
    }

    pub fn out_lines(&self) -> Vec<String> {
        read_lines(&self.out)
    }
    pub fn stderr_text(&self) -> String {
        fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }
    pub fn stderr_lines(&self) -> Vec<String> {
        read_lines(&self.stderr_path)
    }
    pub fn stdout_text(&self) -> String {
        fs::read_to_string(&self.stdout_path).unwrap_or_default()
    }

    /// Waits for a line of the fixture's output file.
    pub fn wait_out(
        &self,
        pred: impl Fn(&str) -> bool,
        timeout: Duration,
    ) -> Result<String, String> {
        wait_line_in(&self.out, "the fixture output", pred, timeout, || {
            self.context()
        })
    }

    /// Waits for the fixture line starting with `prefix` and returns the rest
    /// of it split on spaces, parsed as numbers ("ready 42 43" -> [42, 43]).
    pub fn wait_out_pids(&self, prefix: &str, timeout: Duration) -> Result<Vec<i32>, String> {
        let p = format!("{prefix} ");
        let line = self.wait_out(|l| l.starts_with(&p) || l == prefix, timeout)?;
        Ok(line[prefix.len()..]
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect())
    }

    /// Waits for "ready <pid> ..." and returns the daemon's PID as the daemon
    /// sees it.
    pub fn wait_ready_pid(&self, timeout: Duration) -> Result<i32, String> {
        let v = self.wait_out_pids("ready", timeout)?;
        v.first()
            .copied()
            .ok_or_else(|| format!("fixture ready line has no pid{}", self.context()))
    }

    /// Waits for a line of ctlinit's stderr.
    pub fn wait_stderr(
        &self,
        pred: impl Fn(&str) -> bool,
        timeout: Duration,
    ) -> Result<String, String> {
        wait_line_in(&self.stderr_path, "ctlinit's stderr", pred, timeout, || {
            self.context()
        })
    }

    /// The last `ctlinit: exit status=...` line.
    pub fn summary_line(&self) -> Option<String> {
        self.stderr_lines()
            .into_iter()
            .rev()
            .find(|l| l.starts_with("ctlinit: exit status="))
    }

    /// The last non-empty stderr line (SPEC §13: the summary must be last).
    pub fn last_stderr_line(&self) -> Option<String> {
        self.stderr_lines()
            .into_iter()
            .rev()
            .find(|l| !l.trim().is_empty())
    }

    pub fn exited(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            if let Ok(Some(st)) = self.child.try_wait() {
                self.status = Some(st);
            }
        }
        self.status
    }

    /// Waits (bounded) for ctlinit to exit. In Pid1 mode this is `unshare`'s
    /// status, which mirrors its child's.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let start = Instant::now();
        loop {
            if let Some(st) = self.exited() {
                return Some(st);
            }
            if start.elapsed() >= timeout {
                return None;
            }
            sleep(POLL);
        }
    }

    /// Waits for the exit and returns ctlinit's exit code; an error names what
    /// happened instead (timeout, or death by a signal).
    pub fn wait_code(&mut self, timeout: Duration) -> Result<i32, String> {
        use std::os::unix::process::ExitStatusExt;
        match self.wait_exit(timeout) {
            None => Err(format!(
                "timed out after {timeout:?} waiting for ctlinit (pid {}) to exit{}",
                self.pid,
                self.context()
            )),
            Some(st) => st.code().ok_or_else(|| {
                format!(
                    "ctlinit (pid {}) died of signal {:?} instead of exiting{}",
                    self.pid,
                    st.signal(),
                    self.context()
                )
            }),
        }
    }

    /// Sends `sig` to ctlinit (by host PID). Panics if ctlinit already exited:
    /// its PID may belong to someone else now.
    pub fn signal(&mut self, sig: i32) {
        assert!(
            self.exited().is_none(),
            "ctlinit (pid {}) already exited; not signalling",
            self.pid
        );
        if self.mode == Mode::Pid1 {
            let parent = proc_stat(self.pid).map(|s| s.ppid);
            assert_eq!(
                parent,
                Some(self.child.id() as i32),
                "pid {} is no longer unshare's child; not signalling",
                self.pid
            );
        }
        signal_pid(self.pid, sig);
    }

    pub fn read_pidfile_json(&self) -> Result<Value, String> {
        read_json(&self.pidfile)
    }

    /// Waits until the PID file parses and satisfies `pred`; returns it.
    pub fn wait_pidfile(
        &self,
        pred: impl Fn(&Value) -> bool,
        timeout: Duration,
    ) -> Result<Value, String> {
        wait_until(
            &format!(
                "the PID file {} to reach the expected state",
                self.pidfile.display()
            ),
            timeout,
            || read_json(&self.pidfile).ok().filter(|v| pred(v)),
            || {
                format!(
                    "\n--- PID file now: {:?}{}",
                    fs::read_to_string(&self.pidfile).ok(),
                    self.context()
                )
            },
        )
    }

    /// Waits until the PID file says `state` (and returns it).
    pub fn wait_state(&self, state: &str, timeout: Duration) -> Result<Value, String> {
        self.wait_pidfile(|v| v["state"] == state, timeout)
    }

    /// Descendants of ctlinit (host PIDs).
    pub fn descendants(&self) -> Vec<i32> {
        descendants(self.pid)
    }
}

pub fn read_json(path: &Path) -> Result<Value, String> {
    let text =
        fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text)
        .map_err(|e| format!("{} is not JSON ({e}): {text:?}", path.display()))
}

impl Drop for Ctl {
    fn drop(&mut self) {
        if self.exited().is_some() {
            return;
        }
        match self.mode {
            Mode::Subreaper => {
                // Freeze ctlinit so it neither spawns nor reaps (a PID it has
                // not reaped cannot be reused), freeze the tree, then kill it.
                kill(self.pid, libc::SIGSTOP);
                let mut seen: HashSet<i32> = HashSet::new();
                for _ in 0..3 {
                    for p in descendants(self.pid) {
                        if seen.insert(p) {
                            kill(p, libc::SIGSTOP);
                        }
                    }
                }
                for &p in &seen {
                    kill(p, libc::SIGKILL);
                }
                kill(self.pid, libc::SIGKILL);
            }
            Mode::Pid1 => {
                // SIGKILL to a namespace's PID 1 kills every process in it.
                if proc_stat(self.pid).map(|s| s.ppid) == Some(self.child.id() as i32) {
                    kill(self.pid, libc::SIGKILL);
                }
                let _ = self.child.kill();
            }
        }
        let _ = self.wait_exit(secs(10.0));
    }
}

// ------------------------------------------------------------------ one-shot runs

/// The result of a short ctlinit invocation (verbs, usage errors).
#[derive(Debug)]
pub struct Ran {
    pub code: Option<i32>,
    /// The signal that ended it, if one did.
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

/// Runs ctlinit with `args` and extra `envs` (subreaper mode, no implicit
/// --pidfile, FIXTURE_OUT=<dir>/out), waits at most `timeout`; on timeout
/// kills it (and its tree) and says so in the error.
pub fn try_run_ctlinit<A, K, V>(
    dir: &TestDir,
    name: &str,
    args: &[A],
    envs: &[(K, V)],
    timeout: Duration,
) -> Result<Ran, String>
where
    A: AsRef<OsStr> + std::fmt::Debug,
    K: AsRef<OsStr> + std::fmt::Debug,
    V: AsRef<OsStr> + std::fmt::Debug,
{
    use std::os::unix::process::ExitStatusExt;
    let mut b = Ctl::builder(dir, Mode::Subreaper)
        .no_pidfile()
        .name(name)
        .args(args);
    for (k, v) in envs {
        b = b.env(k, v);
    }
    let mut ctl = b.spawn();
    let st = ctl.wait_exit(timeout);
    let ran = Ran {
        code: st.and_then(|s| s.code()),
        signal: st.and_then(|s| s.signal()),
        stdout: ctl.stdout_text(),
        stderr: ctl.stderr_text(),
        elapsed: ctl.started.elapsed(),
    };
    match st {
        Some(_) => Ok(ran),
        None => Err(format!(
            "ctlinit {args:?} (env {envs:?}) was still running after {timeout:?} (killed): {ran:?}"
        )),
    }
}

/// `try_run_ctlinit` that fails the test on a timeout.
pub fn run_ctlinit(
    dir: &TestDir,
    name: &str,
    args: &[&str],
    envs: &[(&str, &str)],
    timeout: Duration,
) -> Ran {
    try_run_ctlinit(dir, name, args, envs, timeout).unwrap_or_else(|e| panic!("{e}"))
}

/// Asserts that `got` lies in `[lo, hi]`, naming `what`.
pub fn assert_between(what: &str, got: Duration, lo: Duration, hi: Duration) {
    assert!(
        got >= lo && got <= hi,
        "{what}: took {got:?}, expected between {lo:?} and {hi:?}"
    );
}

/// Asserts that ctlinit's last stderr line is exactly
/// `ctlinit: exit <rest>` (SPEC §13), e.g. rest = "status=0 generation=1 exits=1 restarts=0 reason=daemon-exited".
pub fn assert_summary(ctl: &Ctl, rest: &str) {
    let want = format!("ctlinit: exit {rest}");
    let last = ctl.last_stderr_line();
    assert_eq!(
        last.as_deref(),
        Some(want.as_str()),
        "summary line (must be the last stderr line){}",
        ctl.context()
    );
}

/// How many fixture output lines equal `line` exactly.
pub fn count_lines(lines: &[String], line: &str) -> usize {
    lines.iter().filter(|l| l.as_str() == line).count()
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Defines `mod NAME { fn subreaper(); fn pid1(); }` running `NAME(Mode)`.
/// Test files use `#[macro_use] mod common;`.
#[allow(unused_macros)]
macro_rules! both_modes {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn subreaper() {
                super::$name($crate::common::Mode::Subreaper)
            }
            #[test]
            fn pid1() {
                super::$name($crate::common::Mode::Pid1)
            }
        }
    )*};
}

// ------------------------------------------------ supervision test helpers

/// Unwraps a bounded wait, failing the test with its message.
pub fn ok<T>(r: Result<T, String>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

/// The PID file's generation (0 when absent).
pub fn generation(v: &Value) -> u64 {
    v["generation"].as_u64().unwrap_or(0)
}

/// Waits until the PID file shows generation `g` in state `ready`.
pub fn wait_gen_ready(ctl: &Ctl, g: u64, timeout: f64) -> Value {
    wait_gen_state(ctl, g, "ready", secs(timeout))
}

/// How many daemon starts the fixture reported ("ready <pid>" lines).
pub fn ready_lines(ctl: &Ctl) -> usize {
    ctl.out_lines()
        .iter()
        .filter(|l| l.starts_with("ready "))
        .count()
}

/// Waits until the PID file shows generation `g` in `state`.
pub fn wait_gen_state(ctl: &Ctl, g: u64, state: &str, timeout: Duration) -> Value {
    ok(ctl.wait_pidfile(|v| generation(v) == g && v["state"] == state, timeout))
}

/// Waits (at most `timeout`) until the PID file has shown the same
/// generation, `ready`, for `quiet` without a break; returns the PID file
/// then. A supervisor that keeps restarting never settles: the wait fails.
pub fn settle(ctl: &Ctl, quiet: Duration, timeout: Duration) -> Value {
    let mut since: Option<(u64, Instant)> = None;
    ok(wait_until(
        &format!("the same generation, ready, for {quiet:?}"),
        timeout,
        || {
            let v = read_json(&ctl.pidfile).ok()?;
            let g = v["generation"].as_u64()?;
            if v["state"] != "ready" {
                since = None;
                return None;
            }
            match since {
                Some((sg, t)) if sg == g => (t.elapsed() >= quiet).then_some(v),
                _ => {
                    since = Some((g, Instant::now()));
                    None
                }
            }
        },
        || ctl.context(),
    ))
}

/// Sends TERM to ctlinit and asserts the end of a stopped supervisor whose
/// last generation was `g` (a `sigprint`-like daemon that exits 143 on TERM).
pub fn term_and_assert_stopped(ctl: &mut Ctl, g: u64) {
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(10.0)), Ok(143), "{}", ctl.context());
    assert_summary(
        ctl,
        &format!(
            "status=143 generation={g} exits={g} restarts={} reason=stopped",
            g - 1
        ),
    );
}

/// A `key=value` field of the summary line, as a number.
pub fn summary_field(ctl: &Ctl, key: &str) -> Option<u64> {
    let prefix = format!("{key}=");
    ctl.summary_line()?
        .split_whitespace()
        .find_map(|w| w.strip_prefix(&prefix)?.parse().ok())
}

/// Asserts that `lines` hold, in this order (others may come between), a
/// line containing each of `wanted`; `what` and `context` explain a failure.
/// Returns the index of each match.
pub fn assert_in_order(lines: &[String], wanted: &[&str], what: &str, context: &str) -> Vec<usize> {
    let mut at = Vec::new();
    let mut from = 0;
    for w in wanted {
        match lines[from..].iter().position(|l| l.contains(w)) {
            Some(i) => {
                at.push(from + i);
                from += i + 1;
            }
            None => panic!(
                "{what}: expected, in order, lines containing {wanted:?}; \
                 {w:?} is missing after line {from}:\n{}{context}",
                lines.join("\n")
            ),
        }
    }
    at
}

/// A well-formed PID file record naming `supervisor` and `pid` at generation
/// `g` (ready, `g - 1` restarts), as a stale file from an earlier container
/// would look; one JSON line.
pub fn pidfile_record(supervisor: i32, pid: i32, g: u64) -> String {
    format!(
        "{}\n",
        serde_json::json!({
            "pid": pid, "generation": g, "state": "ready", "supervisor_pid": supervisor,
            "started_at_ms": now_ms() - 5000, "exits": g - 1, "restarts": g - 1,
            "last_exit": {"code": 1, "signal": null, "status": 1},
            "command": ["mydaemon"], "version": env!("CARGO_PKG_VERSION"),
        })
    )
}

/// An unrelated live process (a `sigprint` started by the test, not by
/// ctlinit) that logs every signal it gets to its own file: proof that a verb
/// never signals a PID it has not verified. Killed (by its own PID) on drop.
pub struct Victim {
    child: Child,
    pub pid: i32,
    pub out: PathBuf,
}

impl Victim {
    /// Starts it with output `<dir>/victim.out` and waits for its "ready".
    pub fn start(dir: &TestDir) -> Victim {
        let out = dir.join("victim.out");
        let child = Command::new(fixture_bin())
            .arg("sigprint")
            .env("FIXTURE_OUT", &out)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the unrelated process");
        let v = Victim {
            pid: child.id() as i32,
            child,
            out,
        };
        let ready = ok(wait_for_line(
            &v.out,
            |l| l.starts_with("ready "),
            secs(10.0),
        ));
        assert_eq!(ready, format!("ready {}", v.pid));
        v
    }

    pub fn lines(&self) -> Vec<String> {
        read_lines(&self.out)
    }
}

impl Drop for Victim {
    fn drop(&mut self) {
        // Our own unreaped child: its PID cannot have been reused.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// ctlinit's log lines that say it sent SIGKILL (at a deadline, or at once
/// on a second stop signal).
pub fn kill_lines(ctl: &Ctl) -> Vec<String> {
    ctl.stderr_lines()
        .into_iter()
        .filter(|l| l.starts_with("ctlinit: ") && l.contains("killing"))
        .collect()
}

/// Asserts a contract deadline of `deadline` seconds on a measured `took`:
/// never before it (what the contract promises), and not later than
/// `deadline + MARGIN` (a hang). Prints the figure for the benchmark's
/// reader; this machine's speed is not asserted.
pub fn assert_deadline(what: &str, took: Duration, deadline: f64) {
    eprintln!("FIGURES {what}: {took:?} (deadline {deadline} s)");
    assert!(
        took >= secs(deadline),
        "{what}: after {took:?}, before its {deadline} s deadline"
    );
    assert!(
        took < secs(deadline + MARGIN),
        "{what}: not within its {deadline} s deadline + {MARGIN} s: {took:?}"
    );
}

/// For a ctlinit whose daemon runs `sigprint --ignore-term`: waits for it,
/// sends TERM, and asserts the stop at the grace of `grace` seconds: exit
/// 137, SIGKILL no earlier than the grace after the TERM (the contract) nor
/// later than `grace + MARGIN`, the daemon logged the TERM and nothing else
/// before it, the one kill line names the grace as `shown`, and the summary.
pub fn assert_term_killed_at_grace(ctl: &mut Ctl, grace: f64, shown: &str) {
    let daemon = ok(ctl.wait_ready_pid(secs(10.0)));
    let t0 = Instant::now();
    ctl.signal(libc::SIGTERM);
    assert_eq!(
        ctl.wait_code(secs(grace + 10.0)),
        Ok(137),
        "grace {shown}: killed by SIGKILL -> 137"
    );
    assert_deadline(
        &format!("grace {shown} {:?}: TERM to SIGKILL", ctl.mode),
        t0.elapsed(),
        grace,
    );
    assert_eq!(
        ctl.out_lines(),
        [format!("ready {daemon}"), "signal 15".to_owned()],
        "grace {shown}: the daemon got the TERM (and nothing else) before the SIGKILL"
    );
    // The pid as ctlinit sees it (its child's own pid, also as PID 1).
    assert_eq!(
        kill_lines(ctl),
        [format!(
            "ctlinit: killing process group {daemon} after stop timeout {shown}"
        )],
        "the SIGKILL at the timeout is logged once, with the grace (§13){}",
        ctl.context()
    );
    assert_summary(
        ctl,
        "status=137 generation=1 exits=1 restarts=0 reason=stopped",
    );
}

/// Every flag of the options table (SPEC §2), for the tests that check the
/// help text names them all.
pub const CONTRACT_FLAGS: &[&str] = &[
    "--restart",
    "--max-restarts",
    "--backoff",
    "--reset-after",
    "--stop-signal",
    "--stop-timeout",
    "--stop-on",
    "--stop-delay",
    "--reload-signal",
    "--restart-exit",
    "--watch-signal",
    "--check",
    "--watch",
    "--port",
    "--ready",
    "--ready-timeout",
    "--watchdog",
    "--port-timeout",
    "--pidfile",
    "--lockfile",
    "--marker",
    "-g",
    "--pgroup",
    "-r",
    "--rewrite",
    "-e",
    "--success-exit",
    "-s",
    "-w",
    "-p",
    "--pdeathsig",
    "-v",
    "-q",
];
