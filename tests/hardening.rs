//! Hardening: bad input and hostile surroundings never crash, wedge or
//! mislead ctlinit. Each test drives the real binary and would fail against
//! an implementation that still had the bug it is named after.
//!
//! SPEC §2 (value ranges, signal refusals), §5/§6 (PID file, lock), §10–§12,
//! §14.10 (usage errors before any side effect), §14.21 (bad input), §14.22
//! (`--watch` paths), §14.24 (setup errors), §14.29 (temporary spawn
//! failures), §14.30 (every signal handled), §14.31 (`--pidfile` nodes),
//! §14.32 (`ctlinit restart` signals only a ctlinit).
//!
//! The spawn-failure tests need root, util-linux `prlimit` and `setpriv`;
//! without them they print `SKIPPED:` with the reason. The forged-lock test
//! needs util-linux `flock` (with `-F`). Runs in well under a minute.

#[macro_use]
mod common;
mod reliability_support;

use common::*;
use reliability_support::{bins_for_others, mkfifo, run_measured, scrub_env, start_time, Measured};
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Bound of every wait, in seconds.
const T: f64 = 10.0;

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn os(v: &str) -> OsString {
    OsString::from(v)
}

/// What one short ctlinit run did.
type Outcome = Ran;

/// Runs `ctlinit ARGS` (subreaper mode, no implicit `--pidfile`, the
/// harness's clean environment plus `envs`), bounded by `timeout`.
fn run_os(
    dir: &TestDir,
    name: &str,
    args: &[OsString],
    envs: &[(OsString, OsString)],
    timeout: Duration,
) -> Result<Outcome, String> {
    try_run_ctlinit(dir, name, args, envs, timeout)
}

// ------------------------------------------------------------------ refusals

/// One start-up refusal: `ctlinit [--pidfile DIR/daemon.pid] ARGS -- fixture
/// sigprint` with `envs` must exit 2 at once with a message naming every
/// string in `mentions`, start nothing (the fixture writes `ready` to
/// DIR/out when it runs), and write neither the PID file nor the lock
/// (SPEC §14.10, §14.21).
struct Refusal {
    args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
    mentions: Vec<String>,
}

impl Refusal {
    fn args(args: &[&str]) -> Refusal {
        Refusal {
            args: args.iter().map(|a| os(a)).collect(),
            envs: Vec::new(),
            mentions: Vec::new(),
        }
    }
    fn env(mut self, k: &str, v: impl AsRef<OsStr>) -> Refusal {
        self.envs.push((os(k), v.as_ref().to_owned()));
        self
    }
    /// Strings the error message must contain (the flag or variable, the value).
    fn naming(mut self, m: &[&str]) -> Refusal {
        self.mentions.extend(m.iter().map(|s| s.to_string()));
        self
    }
    fn describe(&self) -> String {
        format!("args {:?} env {:?}", self.args, self.envs)
    }
}

/// Checks one refusal; returns what went wrong, if anything.
fn check_refusal(dir: &TestDir, n: usize, r: &Refusal) -> Result<(), String> {
    let _ = fs::remove_file(dir.pidfile());
    let _ = fs::remove_file(dir.lockfile());
    let _ = fs::remove_file(dir.out());
    let explicit_pidfile = r.args.iter().any(|a| a == "--pidfile")
        || r.envs.iter().any(|(k, _)| k == "CTLINIT_PIDFILE");
    let mut args = Vec::new();
    if !explicit_pidfile {
        args.push(os("--pidfile"));
        args.push(dir.pidfile().into_os_string());
    }
    args.extend(r.args.iter().cloned());
    args.push(os("--"));
    args.push(fixture_bin().into_os_string());
    args.push(os("sigprint"));
    let what = r.describe();
    let o = run_os(dir, &format!("refusal{n}"), &args, &r.envs, secs(T))
        .map_err(|e| format!("{what}: must be refused at once, but {e}"))?;
    let mut bad = Vec::new();
    if o.code != Some(2) {
        bad.push(format!("exit {:?} (signal {:?}), want 2", o.code, o.signal));
    }
    for m in &r.mentions {
        if !o.stderr.contains(m.as_str()) {
            bad.push(format!("message does not name {m:?}"));
        }
    }
    if o.stderr.contains("panicked") {
        bad.push("panicked".into());
    }
    if o.elapsed > secs(5.0) {
        bad.push(format!("took {:?} to refuse", o.elapsed));
    }
    for (p, what) in [
        (dir.pidfile(), "PID file"),
        (dir.lockfile(), "lock file"),
        (dir.out(), "daemon output (the daemon was started)"),
    ] {
        if fs::symlink_metadata(&p).is_ok() {
            bad.push(format!("{what} {} exists afterwards", p.display()));
        }
    }
    if bad.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{what}: {} — stderr {:?}",
            bad.join("; "),
            o.stderr
        ))
    }
}

/// Checks every refusal and fails once, listing all that went wrong.
fn assert_all_refused(dir: &TestDir, cases: &[Refusal]) {
    let failures: Vec<String> = cases
        .iter()
        .enumerate()
        .filter_map(|(n, r)| check_refusal(dir, n, r).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} refusals wrong:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// §2 durations: 0 to 365 days; longer, negative or not a number (`inf`,
/// `nan`, `1e400`) is a usage error naming the flag or variable and the value,
/// before any side effect (§14.10, §14.21). Overflowing values (10^19 s, a
/// huge backoff MAX) are the classic crash.
#[test]
fn out_of_range_durations_are_refused_before_any_side_effect() {
    let dir = TestDir::new("durations");
    let mut cases = Vec::new();
    for v in [
        "10000000000000000000s",
        "18446744073709551616",
        "inf",
        "nan",
        "1e400",
        "-1",
        "366d",
    ] {
        cases.push(Refusal::args(&["--stop-timeout", v]).naming(&["--stop-timeout", v]));
        cases.push(
            Refusal::args(&[])
                .env("CTLINIT_STOP_TIMEOUT", v)
                .naming(&["CTLINIT_STOP_TIMEOUT", v]),
        );
    }
    for v in ["10000000000000000000s", "99999999999999999999h", "1000000d"] {
        cases.push(Refusal::args(&["--backoff", v]).naming(&["--backoff", v]));
        let min_max = format!("100ms:{v}");
        cases.push(Refusal::args(&["--backoff", &min_max]).naming(&["--backoff", v]));
        cases.push(
            Refusal::args(&[])
                .env("CTLINIT_BACKOFF", &min_max)
                .naming(&["CTLINIT_BACKOFF", v]),
        );
    }
    cases.push(Refusal::args(&["--ready-timeout", "400d"]).naming(&["--ready-timeout", "400d"]));
    cases.push(Refusal::args(&["--stop-delay", "inf"]).naming(&["--stop-delay", "inf"]));
    cases.push(Refusal::args(&["--reset-after", "nan"]).naming(&["--reset-after", "nan"]));
    cases.push(Refusal::args(&["--port-timeout", "-1"]).naming(&["--port-timeout", "-1"]));
    assert_all_refused(&dir, &cases);
}

/// §2: 365 days is the longest accepted duration, and such a grace does not
/// break stopping: TERM is forwarded and the daemon's 143 is ctlinit's.
fn stop_timeout_of_365_days_is_accepted_and_term_still_stops(mode: Mode) {
    for (how, flag) in [("flag", true), ("CTLINIT_STOP_TIMEOUT", false)] {
        let dir = TestDir::new("stop-timeout-365d");
        let mut b = Ctl::builder(&dir, mode);
        b = if flag {
            b.args(["--stop-timeout", "365d"])
        } else {
            b.env("CTLINIT_STOP_TIMEOUT", "365d")
        };
        let mut ctl = b.fixture(&["sigprint"]).spawn();
        ok(ctl.wait_ready_pid(secs(T)));
        ok(ctl.wait_state("ready", secs(T)));
        ctl.signal(libc::SIGTERM);
        assert_eq!(
            ctl.wait_code(secs(T)),
            Ok(143),
            "365d via {how}{}",
            ctl.context()
        );
        assert_summary(
            &ctl,
            "status=143 generation=1 exits=1 restarts=0 reason=stopped",
        );
    }
}

/// §2 signal refusals: signals that cannot do the job they are given (a stop
/// signal that cannot end a process, a reload signal that already means
/// "stop", faults, uncatchable signals, numbers outside 1..=64).
#[test]
fn signals_that_cannot_do_their_job_are_refused() {
    let dir = TestDir::new("signal-refusals");
    let mut cases = Vec::new();
    for sig in [
        "TERM", "INT", "QUIT", "KILL", "STOP", "CHLD", "SEGV", "ABRT",
    ] {
        cases.push(Refusal::args(&["--reload-signal", sig]).naming(&["--reload-signal", sig]));
    }
    for sig in [
        "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "WINCH",
    ] {
        cases.push(Refusal::args(&["--stop-signal", sig]).naming(&["--stop-signal", sig]));
        cases.push(
            Refusal::args(&[])
                .env("CTLINIT_STOP_SIGNAL", sig)
                .naming(&["CTLINIT_STOP_SIGNAL", sig]),
        );
    }
    cases.push(Refusal::args(&["--pdeathsig", "STOP"]).naming(&["--pdeathsig", "STOP"]));
    cases.push(Refusal::args(&["-p", "STOP"]).naming(&["-p", "STOP"]));
    for v in ["CHLD", "KILL", "SEGV", "TERM,BUS"] {
        cases.push(Refusal::args(&["--stop-on", v]).naming(&["--stop-on", v]));
    }
    cases.push(
        Refusal::args(&["--reload-signal", "HUP", "--stop-on", "TERM,HUP"])
            .naming(&["--stop-on", "HUP"]),
    );
    cases.push(Refusal::args(&["--stop-on", ""]).naming(&["--stop-on"]));
    cases.push(Refusal::args(&["--rewrite", "KILL:TERM"]).naming(&["--rewrite", "KILL"]));
    cases.push(Refusal::args(&["-r", "STOP:TERM"]).naming(&["STOP"]));
    for n in ["0", "65"] {
        cases.push(Refusal::args(&["--stop-signal", n]).naming(&["--stop-signal", n]));
        cases.push(Refusal::args(&["--reload-signal", n]).naming(&["--reload-signal", n]));
    }
    cases.push(Refusal::args(&["--watch-signal", "TERM"]).naming(&["--watch-signal", "TERM"]));
    cases.push(
        Refusal::args(&[])
            .env("CTLINIT_WATCH_SIGNAL", "KILL")
            .naming(&["CTLINIT_WATCH_SIGNAL", "KILL"]),
    );
    assert_all_refused(&dir, &cases);
}

// ------------------------------------------------------------------ --watch

/// §14.22: a watched path that is a FIFO (directly or through a symlink), a
/// device or a directory is a usage error naming it — at once: ctlinit never
/// opens it in a way that can block (a FIFO without a writer would hang an
/// `open` for reading forever).
#[test]
fn watching_a_fifo_or_other_non_file_is_refused_at_once() {
    let dir = TestDir::new("watch-fifo-refused");
    let fifo = dir.join("config.fifo");
    mkfifo(&fifo);
    let link = dir.join("config-link");
    std::os::unix::fs::symlink(&fifo, &link).unwrap();
    let subdir = dir.join("confdir");
    fs::create_dir(&subdir).unwrap();
    let cases: Vec<Refusal> = [s(&fifo), s(&link), "/dev/null".into(), s(&subdir)]
        .iter()
        .map(|p| Refusal::args(&["--watch", p]).naming(&["--watch", p]))
        .chain(std::iter::once(
            Refusal::args(&[])
                .env("CTLINIT_WATCH", &fifo)
                .naming(&["CTLINIT_WATCH", &s(&fifo)]),
        ))
        .collect();
    assert_all_refused(&dir, &cases);
    assert!(
        fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo(),
        "the FIFO is still a FIFO"
    );
}

/// §14.22: a watched file that turns into a FIFO while ctlinit runs counts as
/// missing: ctlinit is not wedged (no blocking open), starts no restart for
/// it, still sees the file when it comes back as a regular file (a restart:
/// generation 2 in the PID file), and a TERM still stops it with 143.
fn watched_file_replaced_by_a_fifo_counts_as_missing(mode: Mode) {
    let dir = TestDir::new("watch-fifo-swap");
    let watched = dir.join("app.conf");
    fs::write(&watched, "setting=1\n").unwrap();
    let mut ctl = Ctl::builder(&dir, mode)
        .args(["--restart", "always", "--watch"])
        .arg(&watched)
        .fixture(&["sigprint"])
        .spawn();
    wait_gen_ready(&ctl, 1, T);
    let seen = ctl.stderr_lines().len();

    // Rename a FIFO over the file: one event, and the path is a FIFO when
    // ctlinit looks at it.
    let tmp = dir.join("app.conf.fifo-tmp");
    mkfifo(&tmp);
    fs::rename(&tmp, &watched).unwrap();
    let name = s(&watched);
    ok(wait_until(
        "ctlinit to report on the watched path after it became a FIFO",
        secs(T),
        || {
            ctl.stderr_lines()
                .get(seen..)
                .unwrap_or_default()
                .iter()
                .find(|l| l.contains(&name))
                .cloned()
        },
        || ctl.context(),
    ));
    assert!(ctl.exited().is_none(), "ctlinit exited{}", ctl.context());

    // Back to a regular file, with new content: ctlinit was not wedged on
    // the FIFO, so it sees it and restarts.
    let tmp = dir.join("app.conf.new");
    fs::write(&tmp, "setting=2\n").unwrap();
    fs::rename(&tmp, &watched).unwrap();
    wait_gen_ready(&ctl, 2, T);

    term_and_assert_stopped(&mut ctl, 2);
}

/// §14.22: contents are hashed as a stream, all of them: a one-byte change
/// past the first 16 MiB of a 17 MiB watched file is a change (restart:
/// generation 2).
fn change_past_16_mib_of_a_watched_file_restarts(mode: Mode) {
    let dir = TestDir::new("watch-17mib");
    let big = dir.join("big.bin");
    let data: Vec<u8> = (0..17usize << 20).map(|i| (i % 251) as u8).collect();
    fs::write(&big, &data).unwrap();
    drop(data);
    let mut ctl = Ctl::builder(&dir, mode)
        .args(["--restart", "always", "--watch"])
        .arg(&big)
        .fixture(&["sigprint"])
        .spawn();
    wait_gen_ready(&ctl, 1, 2.0 * T);

    let offset = (16u64 << 20) + 12_345;
    let mut f = fs::OpenOptions::new().write(true).open(&big).unwrap();
    f.seek(SeekFrom::Start(offset)).unwrap();
    f.write_all(&[0xEE]).unwrap();
    drop(f);
    assert_eq!(fs::metadata(&big).unwrap().len(), 17 << 20, "same size");

    wait_gen_ready(&ctl, 2, 2.0 * T);
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(143), "{}", ctl.context());
}

/// §14.24: a `--watch` path whose directory does not exist cannot be
/// watched: exit 2 naming it, no daemon started, no PID file.
#[test]
fn watch_path_in_a_missing_directory_is_refused_at_start() {
    let dir = TestDir::new("watch-nodir");
    let missing_dir = dir.join("no-such-dir");
    let path = missing_dir.join("app.conf");
    let args = vec![
        os("--pidfile"),
        dir.pidfile().into_os_string(),
        os("--watch"),
        path.clone().into_os_string(),
        os("--"),
        fixture_bin().into_os_string(),
        os("sigprint"),
    ];
    let o = ok(run_os(&dir, "nodir", &args, &[], secs(T)));
    assert_eq!(o.code, Some(2), "{o:?}");
    assert!(
        o.stderr.contains("--watch") && o.stderr.contains(&s(&missing_dir)),
        "the message names --watch and the path: {o:?}"
    );
    assert!(!dir.pidfile().exists(), "no PID file: {o:?}");
    assert!(!dir.out().exists(), "no daemon started: {o:?}");
}

// ------------------------------------------------------------------ PID file, lock, markers

/// What a node looks like, to prove it untouched: type bits, inode, device.
fn node_id(p: &Path) -> (u32, u64, u64) {
    let m = fs::symlink_metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    (m.mode() & libc::S_IFMT, m.ino(), m.rdev())
}

/// §14.31: an explicit `--pidfile` (or `--lockfile`) that is a device, FIFO,
/// directory or socket is a usage error naming it, and the node is left
/// exactly as it was (never renamed over, truncated or removed).
#[test]
fn special_files_as_pidfile_or_lockfile_are_refused_and_untouched() {
    let dir = TestDir::new("special-nodes");
    let fifo = dir.join("node.fifo");
    mkfifo(&fifo);
    let d = dir.join("node.dir");
    fs::create_dir(&d).unwrap();
    let sock = dir.join("node.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let nodes = [PathBuf::from("/dev/null"), fifo, d, sock];
    let before: Vec<_> = nodes.iter().map(|p| node_id(p)).collect();
    let lock_here = s(&dir.lockfile());
    let pid_here = s(&dir.pidfile());
    let mut cases = Vec::new();
    for p in &nodes {
        let p = s(p);
        // The lock would default to `ctlinit.lock` beside the PID file (/dev
        // for /dev/null): name one in the test directory.
        cases.push(
            Refusal::args(&["--pidfile", &p, "--lockfile", &lock_here]).naming(&["--pidfile", &p]),
        );
        cases.push(
            Refusal::args(&["--pidfile", &pid_here, "--lockfile", &p]).naming(&["--lockfile", &p]),
        );
        cases.push(
            Refusal::args(&["--lockfile", &lock_here])
                .env("CTLINIT_PIDFILE", &p)
                .naming(&["CTLINIT_PIDFILE", &p]),
        );
    }
    assert_all_refused(&dir, &cases);
    let after: Vec<_> = nodes.iter().map(|p| node_id(p)).collect();
    assert_eq!(before, after, "nodes changed: {nodes:?}");
    assert!(
        fs::read_dir(&nodes[2]).unwrap().next().is_none(),
        "nothing was written inside the directory"
    );
}

/// §7: a marker named like ctlinit's own (`CTLINIT_*`) would forge the
/// supervisor's identity: a usage error, from the flag or the variable.
#[test]
fn markers_named_like_ctlinit_own_are_refused() {
    let dir = TestDir::new("forged-markers");
    let cases = vec![
        Refusal::args(&["--marker", "CTLINIT_SUPERVISOR=forged"])
            .naming(&["--marker", "CTLINIT_SUPERVISOR=forged"]),
        Refusal::args(&["--marker", "CTLINIT_SUPERVISOR"]).naming(&["--marker"]),
        Refusal::args(&[
            "--marker",
            "MY_MARK",
            "--marker",
            "CTLINIT_PIDFILE=/etc/passwd",
        ])
        .naming(&["--marker", "CTLINIT_PIDFILE"]),
        Refusal::args(&[])
            .env("CTLINIT_MARKER", "CTLINIT_GENERATION=9")
            .naming(&["CTLINIT_MARKER", "CTLINIT_GENERATION=9"]),
        Refusal::args(&[])
            .env("CTLINIT_MARKER", "OK_MARK,CTLINIT_SUPERVISOR=1")
            .naming(&["CTLINIT_MARKER", "CTLINIT_SUPERVISOR"]),
    ];
    assert_all_refused(&dir, &cases);
}

/// §2 counts: `--max-restarts` is 0 to 1 000 000; beyond (or a u32 that
/// would wrap) is a usage error, 1 000 000 itself runs normally.
#[test]
fn max_restarts_accepts_up_to_a_million() {
    let dir = TestDir::new("max-restarts");
    let mut cases = Vec::new();
    for v in [
        "4294967295",
        "4294967296",
        "1000001",
        "-1",
        "18446744073709551616",
    ] {
        cases.push(Refusal::args(&["--max-restarts", v]).naming(&["--max-restarts", v]));
    }
    cases.push(
        Refusal::args(&[])
            .env("CTLINIT_MAX_RESTARTS", "1000001")
            .naming(&["CTLINIT_MAX_RESTARTS", "1000001"]),
    );
    cases.push(
        Refusal::args(&["--restart", "on-failure:1000001"]).naming(&["--restart", "1000001"]),
    );
    assert_all_refused(&dir, &cases);

    let ok_dir = TestDir::new("max-restarts-ok");
    let mut ctl = Ctl::builder(&ok_dir, Mode::Subreaper)
        .args([
            "--restart",
            "on-failure",
            "--max-restarts",
            "1000000",
            "--",
            "true",
        ])
        .spawn();
    assert_eq!(ctl.wait_code(secs(T)), Ok(0), "{}", ctl.context());
    assert_summary(
        &ctl,
        "status=0 generation=1 exits=1 restarts=0 reason=daemon-exited",
    );
}

// ------------------------------------------------------------------ environment

/// §14.21: a `CTLINIT_*`/`TINI_*` variable whose value is not valid UTF-8 is
/// a usage error naming it — never silently treated as unset.
#[test]
fn non_utf8_variables_are_usage_errors_naming_them() {
    let dir = TestDir::new("non-utf8");
    let bad = OsString::from_vec(vec![0xff]);
    let mut bad_path = dir.path().as_os_str().as_bytes().to_vec();
    bad_path.extend_from_slice(b"/\xffp.pid");
    let bad_path = OsString::from_vec(bad_path);
    let mut cases = Vec::new();
    for var in [
        "CTLINIT_STOP_TIMEOUT",
        "TINI_SUBREAPER",
        "TINI_KILL_PROCESS_GROUP",
        "CTLINIT_LOG",
        "CTLINIT_RESTART",
        "CTLINIT_PGROUP",
        "CTLINIT_MARKER",
        "CTLINIT_WATCH",
        "CTLINIT_STOP_ON",
    ] {
        cases.push(Refusal::args(&[]).env(var, &bad).naming(&[var]));
    }
    cases.push(
        Refusal::args(&[])
            .env("CTLINIT_PIDFILE", &bad_path)
            .naming(&["CTLINIT_PIDFILE"]),
    );
    assert_all_refused(&dir, &cases);
    // No file with the non-UTF-8 name either.
    let stray: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_str().is_none())
        .map(|e| e.path())
        .collect();
    assert!(
        stray.is_empty(),
        "files written under non-UTF-8 names: {stray:?}"
    );
}

/// §14.17: `health` exits only 0 or 1 — never 2, which Docker reserves —
/// even on bad usage (message on stderr, exit 1).
#[test]
fn health_exits_1_never_2_on_bad_usage() {
    let dir = TestDir::new("health-usage");
    let bad = OsString::from_vec(vec![b'/', 0xff]);
    let pf = dir.pidfile().into_os_string();
    type Case = (Vec<OsString>, Vec<(OsString, OsString)>);
    let cases: Vec<Case> = vec![
        (vec![os("health"), os("--bogus")], vec![]),
        (vec![os("health"), os("--pidfile")], vec![]),
        (vec![os("health"), os("--timeout"), os("5s")], vec![]),
        (vec![os("health"), os("extra-argument")], vec![]),
        (vec![os("health"), os("--lockfile")], vec![]),
        (
            vec![os("health")],
            vec![(os("CTLINIT_PIDFILE"), bad.clone())],
        ),
        (
            vec![os("health"), os("--pidfile"), pf.clone()],
            vec![(os("CTLINIT_LOCKFILE"), bad.clone())],
        ),
        (
            vec![os("health"), os("--pidfile"), pf],
            vec![(os("CTLINIT_LOG"), bad)],
        ),
    ];
    let mut failures = Vec::new();
    for (n, (args, envs)) in cases.iter().enumerate() {
        let o = ok(run_os(&dir, &format!("health{n}"), args, envs, secs(T)));
        if o.code != Some(1) || o.stderr.contains("panicked") {
            failures.push(format!("{args:?} env {envs:?}: {o:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "health must exit 1 on bad usage:\n{}",
        failures.join("\n")
    );
}

// ------------------------------------------------------------------ forged PID file, foreign lock holder

/// A process that is not a ctlinit (`flock -F -x LOCK sleep 300`: flock
/// takes the lock and becomes `sleep`, keeping its PID) holding the lock.
/// Dropping it kills it by PID (our own unreaped child).
struct Holder {
    child: Child,
    pid: i32,
}

impl Holder {
    fn start(lock: &Path) -> Holder {
        let child = Command::new("flock")
            .args(["-F", "-x"])
            .arg(lock)
            .args(["sleep", "300"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start util-linux flock");
        let pid = child.id() as i32;
        let h = Holder { child, pid };
        ok(wait_until(
            &format!("pid {pid} (flock -F) to hold {} as sleep", lock.display()),
            secs(T),
            || {
                let holds = fs::read_to_string("/proc/locks")
                    .unwrap_or_default()
                    .lines()
                    .any(|l| {
                        let f: Vec<&str> = l.split_whitespace().collect();
                        f.get(1) == Some(&"FLOCK") && f.get(4) == Some(&pid.to_string().as_str())
                    });
                let is_sleep = fs::read_to_string(format!("/proc/{pid}/comm"))
                    .map(|c| c.trim() == "sleep")
                    .unwrap_or(false);
                (holds && is_sleep).then_some(())
            },
            String::new,
        ));
        h
    }

    /// Alive, not a zombie, and nothing pending (sleep blocks nothing: a
    /// signal sent to it is pending until it dies of it, so this sees a
    /// SIGRTMAX the instant kill(2) returned).
    fn untouched(&self, start: u64) -> Result<(), String> {
        if start_time(self.pid) != Some(start) || !alive(self.pid) {
            return Err(format!("lock holder pid {} is gone", self.pid));
        }
        for key in ["SigPnd", "ShdPnd"] {
            let v = status_field(self.pid, key).unwrap_or_default();
            if u64::from_str_radix(&v, 16).ok().is_none_or(|m| m != 0) {
                return Err(format!("lock holder pid {} has {key} {v}", self.pid));
            }
        }
        Ok(())
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// §14.32 (with §10, §14.16, §14.23): a process that is not a ctlinit holds
/// the lock, and a forged PID file names it as `supervisor_pid` with a wrong,
/// a zero, or no `supervisor_start`. `status` says not running (3), `health`
/// unhealthy (1), `restart` refuses (3) — and the holder got no signal (the
/// SIGRTMAX a restart request is made of would kill `sleep`).
#[test]
fn forged_pidfile_naming_a_foreign_lock_holder_is_never_signalled() {
    let mut failures = Vec::new();
    for case in [
        "wrong supervisor_start",
        "zero supervisor_start",
        "no supervisor_start",
    ] {
        let dir = TestDir::new("forged-holder");
        let holder = Holder::start(&dir.lockfile());
        let start = start_time(holder.pid).expect("holder start time");
        let mut rec = serde_json::json!({
            "pid": holder.pid, "generation": 1, "state": "ready",
            "supervisor_pid": holder.pid, "started_at_ms": now_ms() - 1000,
            "exits": 0, "restarts": 0, "oom_kills": 0, "last_exit": null,
            "command": ["mydaemon"], "version": env!("CARGO_PKG_VERSION"),
        });
        match case {
            "wrong supervisor_start" => rec["supervisor_start"] = (start + 12_345).into(),
            "zero supervisor_start" => rec["supervisor_start"] = 0.into(),
            _ => {}
        }
        fs::write(dir.pidfile(), format!("{rec}\n")).unwrap();
        let pf = s(&dir.pidfile());
        let note = |failures: &mut Vec<String>, what: &str, o: &Outcome, want: i32| {
            if o.code != Some(want) {
                failures.push(format!(
                    "{case}: `{what}` exited {:?}, want {want}: stdout {:?} stderr {:?}",
                    o.code, o.stdout, o.stderr
                ));
            }
        };
        let run = |name: &str, args: &[&str]| {
            let a: Vec<OsString> = args.iter().map(|a| os(a)).collect();
            ok(run_os(&dir, name, &a, &[], secs(T)))
        };
        let status = run("status", &["status", "--pidfile", &pf]);
        note(&mut failures, "ctlinit status", &status, 3);
        let health = run("health", &["health", "--pidfile", &pf]);
        note(&mut failures, "ctlinit health", &health, 1);
        if health.stdout.starts_with("healthy") {
            failures.push(format!("{case}: health says {:?}", health.stdout));
        }
        let restart = run("restart", &["restart", "--pidfile", &pf, "--timeout", "2s"]);
        note(&mut failures, "ctlinit restart --timeout 2s", &restart, 3);
        if let Err(e) = holder.untouched(start) {
            failures.push(format!("{case}: after `ctlinit restart`: {e}"));
        }
    }
    assert!(
        failures.is_empty(),
        "a foreign lock holder was taken for a supervisor:\n{}",
        failures.join("\n")
    );
}

// ------------------------------------------------------------------ signals

/// §14.30: the real-time signals C libraries keep for themselves (32–34) and
/// SIGRTMAX (64) neither kill nor are lost: each is forwarded. The fixture
/// cannot receive 32/33 itself (glibc refuses to block them), so `--rewrite`
/// turns them into USR1/USR2 — which also proves ctlinit got them.
fn libc_reserved_realtime_signals_are_forwarded_not_fatal(mode: Mode) {
    let dir = TestDir::new("rt-signals");
    let mut ctl = Ctl::builder(&dir, mode)
        .args(["-r", "32:USR1", "-r", "33:USR2"])
        .fixture(&["sigprint"])
        .spawn();
    ok(ctl.wait_ready_pid(secs(T)));
    ok(ctl.wait_state("ready", secs(T)));
    for (sent, seen) in [(32, 10), (33, 12), (34, 34), (64, 64)] {
        ctl.signal(sent);
        let want = format!("signal {seen}");
        ok(ctl
            .wait_out(|l| l == want, secs(T))
            .map_err(|e| format!("signal {sent} sent to ctlinit: {e}")));
        assert!(
            ctl.exited().is_none(),
            "ctlinit ended by signal {sent}{}",
            ctl.context()
        );
    }
    term_and_assert_stopped(&mut ctl, 1);
}

/// §14.30: signal 32, unrewritten, reaches the daemon (whose default action
/// for it is to die: status 160) and not ctlinit, which reports the status.
fn signal_32_is_forwarded_unchanged(mode: Mode) {
    let dir = TestDir::new("signal-32");
    let mut ctl = Ctl::builder(&dir, mode).fixture(&["sigprint"]).spawn();
    ok(ctl.wait_ready_pid(secs(T)));
    ok(ctl.wait_state("ready", secs(T)));
    ctl.signal(32);
    assert_eq!(ctl.wait_code(secs(T)), Ok(160), "{}", ctl.context());
    assert_summary(
        &ctl,
        "status=160 generation=1 exits=1 restarts=0 reason=daemon-exited",
    );
}

/// §4, §14.30: fault signals sent from outside (kill -SEGV, -BUS, ...) do not
/// kill ctlinit and are not forwarded. Barriers (RT signals 40 and 41, sent
/// after them) are logged by the daemon; a forwarded fault would have come
/// before.
fn fault_signals_from_outside_are_neither_fatal_nor_forwarded(mode: Mode) {
    let dir = TestDir::new("fault-signals");
    let mut ctl = Ctl::builder(&dir, mode).fixture(&["sigprint"]).spawn();
    ok(ctl.wait_ready_pid(secs(T)));
    ok(ctl.wait_state("ready", secs(T)));
    let faults = [
        libc::SIGSEGV,
        libc::SIGBUS,
        libc::SIGFPE,
        libc::SIGILL,
        libc::SIGTRAP,
        libc::SIGSYS,
    ];
    for &f in &faults {
        ctl.signal(f);
    }
    for barrier in [40, 41] {
        assert!(ctl.exited().is_none(), "ctlinit died{}", ctl.context());
        ctl.signal(barrier);
        let want = format!("signal {barrier}");
        ok(ctl.wait_out(|l| l == want, secs(T)));
    }
    let lines = ctl.out_lines();
    for &f in &faults {
        assert_eq!(
            count_lines(&lines, &format!("signal {f}")),
            0,
            "fault signal {f} was forwarded to the daemon{}",
            ctl.context()
        );
    }
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(143), "{}", ctl.context());
}

// ------------------------------------------------------------------ temporary spawn failure

/// Why the EAGAIN environment cannot be made here, if it cannot.
fn eagain_unavailable(dir: &TestDir) -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("needs root (to drop to uid 65534 with setpriv)".into());
    }
    for tool in ["prlimit", "setpriv", "unshare"] {
        let found = Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !found {
            return Some(format!("util-linux `{tool}` is not available"));
        }
    }
    // The probe: a shell as uid 65534 with RLIMIT_NPROC 1 must fail to fork.
    let mut probe = Command::new("prlimit");
    probe.args(["--nproc=1:1", "--"]).args(NOBODY).args([
        "/bin/sh",
        "-c",
        "/bin/true; echo forked-ok",
    ]);
    let m = run_measured(dir, "probe", probe, secs(T));
    if m.stdout.contains("forked-ok") {
        return Some(format!(
            "RLIMIT_NPROC=1 does not make fork fail for uid 65534 here: {m:?}"
        ));
    }
    None
}

const NOBODY: [&str; 5] = [
    "setpriv",
    "--reuid=65534",
    "--regid=65534",
    "--clear-groups",
    "--",
];

/// Runs `[unshare --pid ...] prlimit --nproc=1:1 -- setpriv (uid 65534) --
/// ctlinit --pidfile DIR/p.pid ARGS -- /bin/true`: every clone ctlinit tries
/// fails with EAGAIN. `None` (after a loud SKIPPED) when that cannot be made.
fn run_with_nproc_1(mode: Mode, name: &str, args: &[&str]) -> Option<Measured> {
    let dir = TestDir::new(name);
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
    if let Some(why) = eagain_unavailable(&dir) {
        eprintln!("SKIPPED: {name} ({mode:?}): {why}");
        return None;
    }
    // The binary must be executable by uid 65534; copy it if it is not.
    let mut ctlinit = ctlinit_bin();
    let mut check = Command::new(NOBODY[0]);
    check.args(&NOBODY[1..]).arg(&ctlinit).arg("--version");
    if run_measured(&dir, "version", check, secs(T)).code != Some(0) {
        ctlinit = bins_for_others(&dir).0;
    }
    let pidfile = dir.join("p.pid");
    let mut cmd = match mode {
        Mode::Subreaper => Command::new("prlimit"),
        Mode::Pid1 => {
            let mut c = Command::new("unshare");
            c.args([
                "--pid",
                "--fork",
                "--mount-proc",
                "--kill-child",
                "--",
                "prlimit",
            ]);
            c
        }
    };
    cmd.args(["--nproc=1:1", "--"])
        .args(NOBODY)
        .arg(&ctlinit)
        .arg("--pidfile")
        .arg(&pidfile)
        .args(args)
        .args(["--", "/bin/true"]);
    scrub_env(&mut cmd);
    Some(run_measured(&dir, name, cmd, secs(2.0 * T)))
}

fn eagain_lines(stderr: &str) -> usize {
    stderr
        .lines()
        .filter(|l| l.contains("Resource temporarily unavailable") || l.contains("EAGAIN"))
        .count()
}

fn last_line(stderr: &str) -> &str {
    stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
}

/// §14.29: a spawn that fails with EAGAIN (the pids limit) is a failed run:
/// logged with the error, retried after the backoff, counted towards
/// `--max-restarts`; when the last run failed so, ctlinit exits 1 with
/// `reason=exec-failed`.
fn temporary_spawn_failure_is_retried_then_given_up(mode: Mode) {
    let Some(m) = run_with_nproc_1(
        mode,
        "eagain-retry",
        &[
            "--restart",
            "on-failure",
            "--max-restarts",
            "2",
            "--backoff",
            "10ms",
        ],
    ) else {
        return;
    };
    assert_eq!(m.code, Some(1), "{m:?}");
    let last = last_line(&m.stderr);
    assert!(
        last.starts_with("ctlinit: exit status=1 ") && last.ends_with(" reason=exec-failed"),
        "summary line: {last:?}\n{}",
        m.stderr
    );
    let retries = m
        .stderr
        .lines()
        .filter(|l| l.contains("retrying in"))
        .count();
    assert_eq!(retries, 2, "two retries (--max-restarts 2):\n{}", m.stderr);
    assert_eq!(
        eagain_lines(&m.stderr),
        3,
        "three attempts, each logged with EAGAIN:\n{}",
        m.stderr
    );
    assert!(
        m.stderr.contains("giving up"),
        "a give-up line:\n{}",
        m.stderr
    );
}

/// §14.29: with `--restart no`, one failed attempt and exit 1 at once.
fn temporary_spawn_failure_without_restart_exits_1_at_once(mode: Mode) {
    let Some(m) = run_with_nproc_1(mode, "eagain-once", &["--restart", "no"]) else {
        return;
    };
    assert_eq!(m.code, Some(1), "{m:?}");
    let last = last_line(&m.stderr);
    assert!(
        last.starts_with("ctlinit: exit status=1 ") && last.ends_with(" reason=exec-failed"),
        "summary line: {last:?}\n{}",
        m.stderr
    );
    assert_eq!(eagain_lines(&m.stderr), 1, "one attempt:\n{}", m.stderr);
    assert!(!m.stderr.contains("retrying in"), "no retry:\n{}", m.stderr);
    assert!(m.elapsed < secs(5.0), "at once: {:?}", m.elapsed);
}

// ------------------------------------------------------------------ property: hostile values

/// A tiny 64-bit LCG (Knuth's MMIX constants): deterministic, no crates.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

/// Options with a value, as (flag, variable, sane values). `--pidfile` and
/// `--lockfile` are left out (the test names its own), and no value here can
/// turn on `--restart always` (which would supervise `true` forever). Sane
/// values are mixed in so hostile ones also meet working configurations;
/// `@WATCHED` / `@MISSING` stand for a file in the test directory / a
/// missing one.
const OPTIONS: &[(&str, &str, &[&str])] = &[
    (
        "--restart",
        "CTLINIT_RESTART",
        &["no", "on-failure", "on-failure:2"],
    ),
    (
        "--max-restarts",
        "CTLINIT_MAX_RESTARTS",
        &["0", "3", "1000000"],
    ),
    (
        "--backoff",
        "CTLINIT_BACKOFF",
        &["10ms", "10ms:20ms", "365d"],
    ),
    ("--reset-after", "CTLINIT_RESET_AFTER", &["0", "1s", "365d"]),
    (
        "--stop-signal",
        "CTLINIT_STOP_SIGNAL",
        &["TERM", "HUP", "64"],
    ),
    (
        "--stop-timeout",
        "CTLINIT_STOP_TIMEOUT",
        &["0", "1s", "365d"],
    ),
    (
        "--stop-on",
        "CTLINIT_STOP_ON",
        &["TERM", "TERM,INT", "sigterm,QUIT"],
    ),
    ("--stop-delay", "CTLINIT_STOP_DELAY", &["0", "10ms"]),
    (
        "--reload-signal",
        "CTLINIT_RELOAD_SIGNAL",
        &["HUP", "USR1", "64"],
    ),
    ("--restart-exit", "CTLINIT_RESTART_EXIT", &["3", "1,2"]),
    ("--watch-signal", "CTLINIT_WATCH_SIGNAL", &["HUP", "USR2"]),
    ("--check", "CTLINIT_CHECK", &["true", "/bin/true -x"]),
    ("--watch", "CTLINIT_WATCH", &["@WATCHED", "@MISSING"]),
    ("--port", "CTLINIT_PORT", &["1", "1,2"]),
    ("--ready", "CTLINIT_READY", &["none", "listen", "notify"]),
    ("--ready-timeout", "CTLINIT_READY_TIMEOUT", &["1s", "365d"]),
    ("--watchdog", "CTLINIT_WATCHDOG", &["1s"]),
    ("--port-timeout", "CTLINIT_PORT_TIMEOUT", &["0", "1s"]),
    ("--marker", "CTLINIT_MARKER", &["MY_MARK", "A=B"]),
    (
        "--rewrite",
        "CTLINIT_REWRITE",
        &["HUP:0", "USR1:USR2", "32:USR1"],
    ),
    ("--success-exit", "CTLINIT_SUCCESS_EXIT", &["0", "0,1", "1"]),
    ("--pdeathsig", "CTLINIT_PDEATHSIG", &["KILL", "TERM"]),
    ("-g", "CTLINIT_PGROUP", &["1", "true", "no"]),
    ("-v", "CTLINIT_LOG", &["trace", "error"]),
];

const HOSTILE: &[&str] = &[
    "",
    " ",
    "-",
    "--",
    "-1",
    "-0",
    "0",
    "1",
    "+1",
    "0x1f",
    "1e400",
    "-1e400",
    "inf",
    "-inf",
    "nan",
    "NaN",
    "1e-400",
    "0.0000000001",
    "1.5.5",
    "18446744073709551615",
    "18446744073709551616",
    "9223372036854775807",
    "4294967295",
    "4294967296",
    "1000001",
    "65535",
    "65536",
    "99999999999999999999999999",
    "10000000000000000000s",
    "99999999999999999999h",
    "365d",
    "366d",
    "400d",
    "8784h",
    "31536001",
    "5ss",
    "s",
    "ms",
    "5 s",
    "1h1m",
    "3w",
    "100ms:",
    ":30s",
    "1s:0",
    "30s:1s",
    "1:2:3",
    "TERM",
    "SIGTERM",
    "sigterm",
    "SIG",
    "SIGSIGTERM",
    "KILL",
    "STOP",
    "CHLD",
    "SEGV",
    "ABRT",
    "HUP",
    "RTMIN",
    "RTMAX",
    "RTMIN+1",
    "SIGRTMAX-1",
    "31",
    "32",
    "33",
    "34",
    "64",
    "65",
    "-15",
    ",",
    ",,",
    "TERM,",
    ",TERM",
    "TERM,,INT",
    "TERM,INT,QUIT",
    "TERM:0",
    "TERM:KILL",
    "HUP:HUP",
    ":",
    "::",
    "32:USR1",
    "0:TERM",
    "USR1:65",
    "=",
    "A=",
    "=B",
    "A=B=C",
    "CTLINIT_",
    "a b",
    "é",
    "\u{1F642}",
    "\u{202e}evil",
    "%s%n%x",
    "\\",
    "/",
    "//",
    ".",
    "..",
    "/dev/null",
    "/dev/zero",
    "/proc/self/mem",
    "/nonexistent/dir/file",
    "no",
    "on-failure",
    "on-failure:",
    "on-failure:-1",
    "on-failure:0",
    "on-failure:1000001",
    "on-failure:4294967296",
    "notify",
    "listen",
    "port",
    "none",
    "yes",
    "true",
    "trace",
    "1,2,3",
    "0,256",
    "255",
    "256",
    "1-5",
    "80,",
    "0,1",
];

/// One hostile value: from the list, or a long or non-UTF-8 one.
fn hostile_value(rng: &mut Lcg) -> OsString {
    match rng.below(20) {
        0 => OsString::from("9".repeat(100_000)),
        1 => OsString::from("a".repeat(5_000)),
        2 => OsString::from_vec(vec![0xff, 0xfe, b'1']),
        3 => OsString::from_vec(b"5s\xc3".to_vec()),
        _ => OsString::from(*rng.pick(HOSTILE)),
    }
}

/// §14.21: ~50 runs of the real binary (one in five as PID 1) with 1–3
/// random options set to hostile values, as `--flag VALUE`, `--flag=VALUE`
/// or the environment variable, supervising `true`. Each run is a usage
/// error (exit 2) or a normal supervision run (its summary line last, its
/// exit status that of the summary) — never a panic (101 in a debug build,
/// 134 with panic=abort), never a death by signal, never `panicked` on
/// stderr. A run still going after a few seconds (a port wait, a restart
/// loop) must stop on TERM. Seed: `HARDENING_SEED` (printed on failure).
#[test]
fn hostile_option_values_never_crash_ctlinit() {
    let seed: u64 = std::env::var("HARDENING_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x05EE_DC71_1417);
    let runs: usize = std::env::var("HARDENING_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let mut rng = Lcg(seed);
    let dir = TestDir::new("hostile");
    let watched = dir.join("watched.conf");
    fs::write(&watched, "x=1\n").unwrap();
    let mut failures = Vec::new();
    let (mut usage_errors, mut supervised, mut terms) = (0, 0, 0);
    let t0 = Instant::now();
    for run in 0..runs {
        let mode = if run % 5 == 4 {
            Mode::Pid1
        } else {
            Mode::Subreaper
        };
        let mut args: Vec<OsString> =
            vec![os("--pidfile"), dir.join(&format!("p{run}.pid")).into()];
        let mut envs: Vec<(OsString, OsString)> = Vec::new();
        for _ in 0..1 + rng.below(3) {
            let (flag, var, sane) = *rng.pick(OPTIONS);
            let value = if rng.below(2) == 0 {
                match *rng.pick(sane) {
                    "@WATCHED" => watched.clone().into_os_string(),
                    "@MISSING" => dir.join("missing.conf").into_os_string(),
                    v => os(v),
                }
            } else {
                hostile_value(&mut rng)
            };
            match (rng.below(3), flag) {
                (0, _) => envs.push((os(var), value)),
                // Value-less flags: the flag alone (the variable carries values).
                (_, "-g" | "-v") => args.push(os(flag)),
                (1, _) => {
                    let mut a = OsString::from(format!("{flag}="));
                    a.push(&value);
                    args.push(a);
                }
                _ => {
                    args.push(os(flag));
                    args.push(value);
                }
            }
        }
        args.extend([os("--"), os("true")]);
        let shown = |v: &[OsString]| {
            v.iter()
                .map(|a| {
                    let t = a.to_string_lossy();
                    if t.len() > 40 {
                        format!(
                            "{}…({} bytes)",
                            &t[..t.char_indices().nth(30).map_or(t.len(), |c| c.0)],
                            t.len()
                        )
                    } else {
                        t.into_owned()
                    }
                })
                .collect::<Vec<_>>()
        };
        let what = format!(
            "run {run} ({mode:?}) args {:?} env {:?}",
            shown(&args),
            envs.iter()
                .map(|(k, v)| format!(
                    "{}={}",
                    k.to_string_lossy(),
                    shown(std::slice::from_ref(v))[0]
                ))
                .collect::<Vec<_>>()
        );

        let mut b = Ctl::builder(&dir, mode)
            .no_pidfile()
            .name(&format!("run{run}"))
            .args(&args);
        for (k, v) in &envs {
            b = b.env(k, v);
        }
        let mut ctl = b.spawn();
        let mut st = ctl.wait_exit(secs(4.0));
        let mut terminated = false;
        if st.is_none() && ctl.pid > 0 {
            terminated = true;
            ctl.signal(libc::SIGTERM);
            st = ctl.wait_exit(secs(T));
        }
        let stderr = ctl.stderr_text();
        let Some(st) = st else {
            failures.push(format!(
                "{what}: still running {T}s after TERM\n{}",
                ctl.context()
            ));
            continue;
        };
        let mut bad = Vec::new();
        terms += terminated as usize;
        if st.code() == Some(2) {
            usage_errors += 1;
            // §14.10: a refusal writes no PID file.
            if dir.join(&format!("p{run}.pid")).exists() {
                bad.push("exit 2 but its PID file exists".into());
            }
        } else {
            supervised += 1;
        }
        if let Some(sig) = st.signal() {
            bad.push(format!("died of signal {sig}"));
        }
        if stderr.contains("panicked") {
            bad.push("stderr says panicked".into());
        }
        match st.code() {
            Some(101) | Some(134) => bad.push(format!("exit {:?} (a panic)", st.code())),
            Some(2) | None => {}
            Some(code) => {
                let want = format!("ctlinit: exit status={code} ");
                match ctl.last_stderr_line() {
                    Some(l) if l.starts_with(&want) => {}
                    l => bad.push(format!(
                        "exit {code} without its summary line last (last line {l:?}, TERM sent: {terminated})"
                    )),
                }
            }
        }
        if !bad.is_empty() {
            failures.push(format!(
                "{what}: {}\n{}",
                bad.join("; "),
                tail(&ctl.stderr_path, 8)
            ));
        }
    }
    eprintln!(
        "hostile values, seed {seed}: {runs} runs in {:?}: {usage_errors} usage errors, \
         {supervised} supervision runs ({terms} stopped with TERM)",
        t0.elapsed()
    );
    assert!(
        failures.is_empty(),
        "seed {seed}: {} of {runs} hostile runs went wrong ({:?}):\n{}",
        failures.len(),
        t0.elapsed(),
        failures.join("\n\n")
    );
}

/// Signals ctlinit's parent left ignored (`nohup`, a shell's background
/// job) are still received and forwarded (blocked signals are queued even
/// when ignored), and an inherited SIG_IGN for SIGCHLD — which would make
/// the kernel reap the daemon unseen — never hides the daemon's exit.
fn inherited_ignored_signals_are_forwarded(mode: Mode) {
    let dir = TestDir::new("inherited-ignores");
    let mut ctl = Ctl::builder(&dir, mode)
        .ignoring(&[libc::SIGHUP, libc::SIGUSR1, libc::SIGINT])
        .fixture(&["sigprint"])
        .spawn();
    ok(ctl.wait_ready_pid(secs(T)));
    for s in [libc::SIGHUP, libc::SIGUSR1] {
        ctl.signal(s);
        ok(wait_for_line(
            &ctl.out,
            |l| l == format!("signal {s}"),
            secs(T),
        ));
    }
    ctl.signal(libc::SIGINT);
    assert_eq!(
        ctl.wait_code(secs(T)),
        Ok(130),
        "INT stops it{}",
        ctl.context()
    );
    let dir = TestDir::new("inherited-ignores-quick");
    let mut ctl = Ctl::builder(&dir, mode)
        .ignoring(&[libc::SIGCHLD, libc::SIGWINCH])
        .fixture(&["exit", "3"])
        .spawn();
    assert_eq!(ctl.wait_code(secs(T)), Ok(3), "{}", ctl.context());
}

both_modes!(
    inherited_ignored_signals_are_forwarded,
    stop_timeout_of_365_days_is_accepted_and_term_still_stops,
    watched_file_replaced_by_a_fifo_counts_as_missing,
    change_past_16_mib_of_a_watched_file_restarts,
    libc_reserved_realtime_signals_are_forwarded_not_fatal,
    signal_32_is_forwarded_unchanged,
    fault_signals_from_outside_are_neither_fatal_nor_forwarded,
    temporary_spawn_failure_is_retried_then_given_up,
    temporary_spawn_failure_without_restart_exits_1_at_once,
);
