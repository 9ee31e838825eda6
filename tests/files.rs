//! SPEC §5 (PID file), §6 (singleton lock), §10 (`status`, `health`),
//! §14.7–14.9, §14.12, §14.16.

#[macro_use]
mod common;

use common::*;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::Path;
use std::time::Instant;

const T: f64 = 10.0;

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Runs a verb (`status`, `health`, ...) against `pidfile`.
fn verb(dir: &TestDir, name: &str, args: &[&str]) -> Ran {
    run_ctlinit(dir, name, args, &[], secs(T))
}

/// §5: every field, one JSON line, removed at exit, no temp files left over.
fn pidfile_fields_and_removal(mode: Mode) {
    let dir = TestDir::new("pidfile");
    let before = now_ms();
    let mut ctl = Ctl::builder(&dir, mode).fixture(&["sigprint"]).spawn();
    let daemon = ctl.wait_ready_pid(secs(T)).unwrap();
    let v = ctl.wait_state("ready", secs(T)).unwrap();
    let text = fs::read_to_string(&ctl.pidfile).unwrap();
    assert_eq!(
        text.trim_end_matches('\n').lines().count(),
        1,
        "one JSON object on one line: {text:?}"
    );
    assert_eq!(v["pid"], daemon, "{v}");
    assert_eq!(v["generation"], 1, "{v}");
    assert_eq!(v["supervisor_pid"], ctl.ns_pid(), "{v}");
    assert_eq!(v["exits"], 0, "{v}");
    assert_eq!(v["restarts"], 0, "{v}");
    assert_eq!(v["last_exit"], Value::Null, "{v}");
    assert_eq!(
        v["command"],
        serde_json::json!([fixture_str(), "sigprint"]),
        "{v}"
    );
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"), "{v}");
    let started = v["started_at_ms"]
        .as_u64()
        .unwrap_or_else(|| panic!("started_at_ms is a number: {v}"));
    assert!(
        started >= before.saturating_sub(1000) && started <= now_ms(),
        "started_at_ms {started} not in [{before}, now]"
    );

    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(143));
    assert!(
        !ctl.pidfile.exists(),
        "PID file removed when ctlinit exits (§5)"
    );
    for e in fs::read_dir(dir.path()).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            ["out", "ctlinit.stdout", "ctlinit.stderr", "ctlinit.lock"].contains(&name.as_str()),
            "unexpected file left in the PID file's directory: {name}"
        );
    }
}

/// §14.7: last_exit after a death by signal; §5 backoff state: pid null.
fn last_exit_after_signal_and_code(mode: Mode) {
    let cases: [(&[&str], Value, i32); 2] = [
        (
            &["kill", "9"],
            serde_json::json!({"code": null, "signal": 9, "status": 137, "oom_kill": false}),
            137,
        ),
        (
            &["exit", "3"],
            serde_json::json!({"code": 3, "signal": null, "status": 3, "oom_kill": false}),
            3,
        ),
    ];
    for (fixture, want, status) in cases {
        let dir = TestDir::new("last-exit");
        let mut ctl = Ctl::builder(&dir, mode)
            .args(["--restart", "always", "--backoff", "30s"])
            .fixture(fixture)
            .spawn();
        let v = ctl.wait_state("backoff", secs(T)).unwrap();
        assert_eq!(v["last_exit"], want, "{fixture:?}: {v}");
        assert_eq!(v["pid"], Value::Null, "{v}");
        assert_eq!(v["generation"], 1, "{v}");
        assert_eq!(v["exits"], 1, "{v}");
        assert_eq!(v["restarts"], 0, "{v}");
        ctl.signal(libc::SIGTERM);
        assert_eq!(ctl.wait_code(secs(T)), Ok(status));
    }
}

/// §5/§14.8 under a stream of restarts: every read of the PID file parses
/// (atomic replace), it never disappears once written, generation never goes
/// back, restarts == generation - 1, exits == restarts (+1 in backoff), pid is
/// null exactly in backoff.
fn pidfile_invariants_across_restarts(mode: Mode) {
    let dir = TestDir::new("invariants");
    let counter = s(&dir.join("count"));
    let mut ctl = Ctl::builder(&dir, mode)
        .args([
            "--restart",
            "always",
            "--max-restarts",
            "0",
            "--backoff",
            "10ms:10ms",
        ])
        .fixture(&["crash-n", &counter, "8", "1"])
        .spawn();
    let deadline = Instant::now() + secs(30.0);
    let mut seen_any = false;
    let mut last_gen = 0;
    let mut reads = 0;
    let mut states = std::collections::BTreeSet::new();
    loop {
        assert!(
            Instant::now() < deadline,
            "generation 9 never became ready; states seen {states:?}{}",
            ctl.context()
        );
        match fs::read_to_string(&ctl.pidfile) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                assert!(
                    !seen_any,
                    "the PID file disappeared while ctlinit runs (§14.8)"
                );
            }
            Err(e) => panic!("reading the PID file: {e}"),
            Ok(text) => {
                seen_any = true;
                reads += 1;
                let v: Value = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("partial or invalid PID file ({e}): {text:?}"));
                let gen = v["generation"].as_u64().unwrap();
                let restarts = v["restarts"].as_u64().unwrap();
                let exits = v["exits"].as_u64().unwrap();
                let state = v["state"].as_str().unwrap().to_owned();
                assert!(gen >= last_gen, "generation went back from {last_gen}: {v}");
                last_gen = gen;
                assert_eq!(restarts + 1, gen, "restarts == generation - 1 (§14.8): {v}");
                match state.as_str() {
                    "starting" | "ready" => assert_eq!(
                        exits, restarts,
                        "exits == restarts while {state} (§14.8): {v}"
                    ),
                    "backoff" => assert_eq!(
                        exits,
                        restarts + 1,
                        "exits == restarts + 1 in backoff (§14.8): {v}"
                    ),
                    "stopping" => {}
                    other => panic!("unknown state {other:?}: {v}"),
                }
                assert_eq!(
                    v["pid"].is_null(),
                    state == "backoff",
                    "pid is null exactly in backoff: {v}"
                );
                states.insert(state.clone());
                if gen == 9 && state == "ready" {
                    let daemon = ctl.wait_ready_pid(secs(T)).unwrap();
                    assert_eq!(v["pid"], daemon, "{v}");
                    break;
                }
            }
        }
        // Faster than POLL on purpose: the point is to catch a partial file.
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert!(reads > 10, "too few reads to mean anything: {reads}");
    assert!(
        states.contains("backoff"),
        "backoff was observed: {states:?}"
    );
    assert_eq!(
        read_lines(&dir.out())
            .iter()
            .filter(|l| l.starts_with("crash "))
            .count(),
        8
    );
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(143));
    assert_summary(
        &ctl,
        "status=143 generation=9 exits=9 restarts=8 reason=stopped",
    );
}

/// §6: a second instance with the same lock exits 75 with the exact message,
/// starts nothing, touches no PID file; the first is undisturbed.
fn second_instance_refused(mode: Mode) {
    for explicit_lock in [false, true] {
        let dir = TestDir::new("lock");
        let lock = if explicit_lock {
            dir.join("custom.lock")
        } else {
            dir.lockfile()
        };
        let mut b = Ctl::builder(&dir, mode);
        if explicit_lock {
            b = b.arg("--lockfile").arg(&lock);
        }
        let mut first = b.fixture(&["sigprint"]).spawn();
        let daemon = first.wait_ready_pid(secs(T)).unwrap();
        first.wait_state("ready", secs(T)).unwrap();
        let before = fs::read(&first.pidfile).unwrap();
        let before_ino = fs::metadata(&first.pidfile).unwrap().ino();
        let holder = fs::read_to_string(&lock)
            .unwrap_or_else(|e| panic!("lock file {}: {e}", lock.display()));
        assert_eq!(
            holder.trim(),
            first.ns_pid().to_string(),
            "the lock file holds ctlinit's pid (§6)"
        );

        // With an explicit lock the second instance even uses another PID
        // file: the lock alone decides.
        let second_pidfile = if explicit_lock {
            dir.join("other.pid")
        } else {
            dir.pidfile()
        };
        let mut args = vec!["--pidfile".to_owned(), s(&second_pidfile)];
        if explicit_lock {
            args.extend(["--lockfile".to_owned(), s(&lock)]);
        }
        args.extend([fixture_str(), "env".to_owned()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out2 = s(&dir.join("out2"));
        let r = run_ctlinit(&dir, "second", &args, &[("FIXTURE_OUT", &out2)], secs(T));
        assert_eq!(r.code, Some(75), "explicit_lock={explicit_lock}: {r:?}");
        let want = format!(
            "ctlinit: error: another ctlinit (pid {}) holds {}",
            holder.trim(),
            lock.display()
        );
        assert!(
            r.stderr.lines().any(|l| l == want),
            "expected the line {want:?} in {:?}",
            r.stderr
        );
        assert!(
            !dir.join("out2").exists(),
            "the second instance must start nothing"
        );
        if explicit_lock {
            assert!(
                !second_pidfile.exists(),
                "the second instance must touch no PID file"
            );
        }
        assert_eq!(
            fs::read(&first.pidfile).unwrap(),
            before,
            "the first's PID file is untouched"
        );
        assert_eq!(
            fs::metadata(&first.pidfile).unwrap().ino(),
            before_ino,
            "the first's PID file was not replaced"
        );
        assert!(first.exited().is_none(), "the first instance still runs");
        assert!(
            alive(first.host_pid(daemon).unwrap()),
            "the first's daemon still runs"
        );
        first.signal(libc::SIGUSR1);
        first.wait_out(|l| l == "signal 10", secs(T)).unwrap();
        first.signal(libc::SIGTERM);
        assert_eq!(first.wait_code(secs(T)), Ok(143));
    }
}

/// §6: the lock fd is close-on-exec: the daemon does not hold it (nor the PID
/// file); ctlinit does.
fn daemon_does_not_inherit_lock_fd(mode: Mode) {
    let dir = TestDir::new("lock-fd");
    let mut ctl = Ctl::builder(&dir, mode).fixture(&["sigprint"]).spawn();
    let daemon = ctl.wait_ready_pid(secs(T)).unwrap();
    ctl.wait_state("ready", secs(T)).unwrap();
    let host = ctl.host_pid(daemon).unwrap();
    let lock = dir.lockfile();
    let fds = open_fds(host);
    assert!(!fds.is_empty(), "can read /proc/{host}/fd");
    for (fd, target) in &fds {
        assert!(
            target != &lock && target != &ctl.pidfile,
            "the daemon inherited fd {fd} -> {}",
            target.display()
        );
        assert!(
            !target.starts_with(dir.path())
                || target == &dir.out()
                || target.ends_with("ctlinit.stdout")
                || target.ends_with("ctlinit.stderr"),
            "the daemon inherited fd {fd} -> {}",
            target.display()
        );
    }
    assert!(
        open_fds(ctl.pid).iter().any(|(_, t)| t == &lock),
        "ctlinit holds the lock file open for its whole life (§6)"
    );
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(143));
}

/// §5: an explicit --pidfile that cannot be written is a usage error (2),
/// before anything starts.
#[test]
fn unwritable_explicit_pidfile_exits_2() {
    let dir = TestDir::new("unwritable");
    let blocker = dir.join("a-file");
    fs::write(&blocker, "not a directory").unwrap();
    let pidfile = blocker.join("daemon.pid");
    let fx = fixture_str();
    let r = run_ctlinit(
        &dir,
        "ctl",
        &["--pidfile", &s(&pidfile), &fx, "env"],
        &[],
        secs(T),
    );
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(
        r.stderr.contains(&s(&pidfile)) || r.stderr.contains(&s(&blocker)),
        "the message names the path: {:?}",
        r.stderr
    );
    assert!(!dir.out().exists(), "nothing started");
}

/// §10: status/health/--json against a running supervisor.
fn status_and_health_of_running_supervisor(mode: Mode) {
    let dir = TestDir::new("status");
    let mut ctl = Ctl::builder(&dir, mode).fixture(&["sigprint"]).spawn();
    let daemon = ctl.wait_ready_pid(secs(T)).unwrap();
    let file = ctl.wait_state("ready", secs(T)).unwrap();
    let pidfile = s(&ctl.pidfile);

    let r = verb(&dir, "status", &["status", "--pidfile", &pidfile]);
    assert_eq!(r.code, Some(0), "status of a running supervisor: {r:?}");
    for word in [
        "generation",
        &daemon.to_string(),
        "ready",
        "uptime",
        "exits",
        "restarts",
    ] {
        assert!(
            r.stdout.contains(word),
            "the human summary shows {word:?} (§10): {r:?}"
        );
    }

    let r = verb(
        &dir,
        "status-json",
        &["status", "--json", "--pidfile", &pidfile],
    );
    assert_eq!(r.code, Some(0), "{r:?}");
    let v: Value = serde_json::from_str(r.stdout.trim())
        .unwrap_or_else(|e| panic!("status --json prints JSON ({e}): {r:?}"));
    for key in [
        "pid",
        "generation",
        "state",
        "supervisor_pid",
        "started_at_ms",
        "exits",
        "restarts",
        "last_exit",
        "command",
        "version",
    ] {
        assert_eq!(
            v[key], file[key],
            "status --json carries the PID file's {key}: {v}"
        );
    }
    assert_eq!(v["running"], true, "{v}");
    assert!(v["uptime_ms"].is_u64(), "uptime_ms is a number: {v}");
    assert!(v["uptime_ms"].as_u64().unwrap() < 600_000, "{v}");
    assert_eq!(
        v["ports"],
        serde_json::json!([]),
        "a daemon without sockets: {v}"
    );

    let r = verb(&dir, "health", &["health", "--pidfile", &pidfile]);
    assert_eq!(r.code, Some(0), "health while ready: {r:?}");
    assert_eq!(r.stdout.lines().count(), 1, "health prints one line: {r:?}");

    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(143));
    let r = verb(&dir, "status-after", &["status", "--pidfile", &pidfile]);
    assert_eq!(r.code, Some(3), "no supervisor after exit: {r:?}");
}

/// §10: `ports` lists what the daemon's group listens on now, sorted.
fn status_json_lists_listening_ports(mode: Mode) {
    let dir = TestDir::new("status-ports");
    let (a, b) = (free_port(50), free_port(51));
    let (lo, hi) = (a.min(b), a.max(b));
    let mut ctl = Ctl::builder(&dir, mode)
        .fixture(&["listen", &hi.to_string(), &lo.to_string()])
        .spawn();
    ctl.wait_ready_pid(secs(T)).unwrap();
    wait_port_listening(lo, secs(T)).unwrap();
    wait_port_listening(hi, secs(T)).unwrap();
    let r = verb(
        &dir,
        "status-json",
        &["status", "--json", "--pidfile", &s(&ctl.pidfile)],
    );
    assert_eq!(r.code, Some(0), "{r:?}");
    let v: Value =
        serde_json::from_str(r.stdout.trim()).unwrap_or_else(|e| panic!("JSON ({e}): {r:?}"));
    assert_eq!(v["ports"], serde_json::json!([lo, hi]), "{v}");
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(0));
}

/// §10/§14.9: during backoff status exits 0 with pid null and ports [];
/// health says not ready (1).
fn status_and_health_during_backoff(mode: Mode) {
    let dir = TestDir::new("status-backoff");
    let mut ctl = Ctl::builder(&dir, mode)
        .args(["--restart", "always", "--backoff", "30s"])
        .fixture(&["exit", "3"])
        .spawn();
    ctl.wait_state("backoff", secs(T)).unwrap();
    let pidfile = s(&ctl.pidfile);
    let r = verb(
        &dir,
        "status-json",
        &["status", "--json", "--pidfile", &pidfile],
    );
    assert_eq!(r.code, Some(0), "{r:?}");
    let v: Value =
        serde_json::from_str(r.stdout.trim()).unwrap_or_else(|e| panic!("JSON ({e}): {r:?}"));
    assert_eq!(v["pid"], Value::Null, "{v}");
    assert_eq!(v["state"], "backoff", "{v}");
    assert_eq!(v["running"], true, "{v}");
    assert_eq!(v["ports"], serde_json::json!([]), "{v}");
    let r = verb(&dir, "health", &["health", "--pidfile", &pidfile]);
    assert_eq!(r.code, Some(1), "health in backoff: {r:?}");
    assert_eq!(r.stdout.lines().count(), 1, "{r:?}");
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(3));
}

/// §10/§14.9: a PID file left by a SIGKILLed ctlinit is stale (lock free).
fn stale_pidfile_after_sigkill(mode: Mode) {
    let dir = TestDir::new("stale");
    let ctl = Ctl::builder(&dir, mode).fixture(&["sigprint"]).spawn();
    ctl.wait_ready_pid(secs(T)).unwrap();
    ctl.wait_state("ready", secs(T)).unwrap();
    let pidfile = s(&ctl.pidfile);
    drop(ctl); // SIGKILL: no cleanup, the file stays, the lock goes.
    assert!(
        Path::new(&pidfile).exists(),
        "a SIGKILLed ctlinit leaves its PID file"
    );
    let r = verb(&dir, "status", &["status", "--pidfile", &pidfile]);
    assert_eq!(r.code, Some(3), "stale PID file: {r:?}");
    let r = verb(
        &dir,
        "status-json",
        &["status", "--json", "--pidfile", &pidfile],
    );
    assert_eq!(r.code, Some(3), "{r:?}");
    if !r.stdout.trim().is_empty() {
        let v: Value =
            serde_json::from_str(r.stdout.trim()).unwrap_or_else(|e| panic!("JSON ({e}): {r:?}"));
        assert_eq!(v["running"], false, "{v}");
    }
    let r = verb(&dir, "health", &["health", "--pidfile", &pidfile]);
    assert_eq!(r.code, Some(1), "{r:?}");
}

/// §10: "running" is decided by the lock, never by a live PID in the file.
#[test]
fn live_pid_in_pidfile_without_lock_is_stale() {
    let dir = TestDir::new("stale-live-pid");
    let me = std::process::id();
    let record = serde_json::json!({
        "pid": me, "generation": 1, "state": "ready", "supervisor_pid": me,
        "started_at_ms": now_ms(), "exits": 0, "restarts": 0, "last_exit": null,
        "command": ["x"], "version": env!("CARGO_PKG_VERSION"),
    });
    fs::write(dir.pidfile(), format!("{record}\n")).unwrap();
    fs::write(dir.lockfile(), format!("{me}\n")).unwrap();
    let pidfile = s(&dir.pidfile());
    let r = verb(&dir, "status", &["status", "--pidfile", &pidfile]);
    assert_eq!(
        r.code,
        Some(3),
        "a live PID is no proof: the lock is not held: {r:?}"
    );
    let r = verb(&dir, "health", &["health", "--pidfile", &pidfile]);
    assert_eq!(r.code, Some(1), "{r:?}");
}

/// Holds an flock on `path` for as long as the File lives (a stand-in for a
/// running supervisor, so that status must look at the PID file).
fn hold_lock(path: &Path) -> fs::File {
    let f = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .unwrap();
    // SAFETY: flock on a valid, open fd we own.
    let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    assert_eq!(
        rc,
        0,
        "flock {}: {}",
        path.display(),
        std::io::Error::last_os_error()
    );
    fs::write(path, format!("{}\n", std::process::id())).unwrap();
    f
}

/// §10: an unreadable/unparsable PID file (with the lock held) exits 4 with a
/// clear message, never a panic; files over 64 KiB are refused; health says 1.
#[test]
fn corrupt_empty_and_huge_pidfiles_exit_4() {
    let big_string = "x".repeat(70 * 1024);
    let huge = serde_json::json!({
        "pid": 5, "generation": 1, "state": "ready", "supervisor_pid": 1, "started_at_ms": 1,
        "exits": 0, "restarts": 0, "last_exit": null, "command": [big_string], "version": "0.1.0",
    })
    .to_string();
    let cases: [(&str, Option<String>); 5] = [
        ("garbage", Some("this is {not json".to_owned())),
        ("empty", Some(String::new())),
        ("huge", Some(huge)),
        ("array", Some("[1,2,3]\n".to_owned())),
        ("directory", None),
    ];
    for (name, content) in cases {
        let dir = TestDir::new(name);
        let _lock = hold_lock(&dir.lockfile());
        match &content {
            Some(c) => fs::write(dir.pidfile(), c).unwrap(),
            None => fs::create_dir(dir.pidfile()).unwrap(),
        }
        let pidfile = s(&dir.pidfile());
        for args in [
            &["status", "--pidfile", &pidfile][..],
            &["status", "--json", "--pidfile", &pidfile][..],
        ] {
            let r = verb(&dir, "status", args);
            assert_eq!(r.code, Some(4), "{name} {args:?}: {r:?}");
            assert!(
                !r.stderr.trim().is_empty(),
                "{name}: a clear message: {r:?}"
            );
            assert!(
                !r.stderr.contains("panicked"),
                "{name}: never a panic: {r:?}"
            );
        }
        let r = verb(&dir, "health", &["health", "--pidfile", &pidfile]);
        assert_eq!(
            r.code,
            Some(1),
            "{name}: health on an unreadable PID file: {r:?}"
        );
        assert_eq!(r.stdout.lines().count(), 1, "{name}: {r:?}");
    }
}

/// The verbs find the PID file through CTLINIT_PIDFILE and the lock through
/// --lockfile / CTLINIT_LOCKFILE (§10, §14.16).
#[test]
fn verbs_find_files_through_environment_and_lockfile() {
    let dir = TestDir::new("verbs-env");
    let lock = dir.join("elsewhere.lock");
    let mut ctl = Ctl::builder(&dir, Mode::Subreaper)
        .arg("--lockfile")
        .arg(&lock)
        .fixture(&["sigprint"])
        .spawn();
    ctl.wait_ready_pid(secs(T)).unwrap();
    ctl.wait_state("ready", secs(T)).unwrap();
    let pidfile = s(&ctl.pidfile);
    let r = run_ctlinit(
        &dir,
        "status-env",
        &["status"],
        &[
            ("CTLINIT_PIDFILE", &pidfile),
            ("CTLINIT_LOCKFILE", &s(&lock)),
        ],
        secs(T),
    );
    assert_eq!(r.code, Some(0), "{r:?}");
    let r = run_ctlinit(
        &dir,
        "status-flag",
        &["status", "--pidfile", &pidfile, "--lockfile", &s(&lock)],
        &[],
        secs(T),
    );
    assert_eq!(r.code, Some(0), "{r:?}");
    let r = run_ctlinit(
        &dir,
        "health-env",
        &["health", "--lockfile", &s(&lock)],
        &[("CTLINIT_PIDFILE", &pidfile)],
        secs(T),
    );
    assert_eq!(r.code, Some(0), "{r:?}");
    // Without the lock path, the default lock beside the PID file is not held.
    let r = run_ctlinit(
        &dir,
        "status-wrong-lock",
        &["status", "--pidfile", &pidfile],
        &[],
        secs(T),
    );
    assert_eq!(
        r.code,
        Some(3),
        "the lock beside the PID file is not held: {r:?}"
    );
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(143));
}

/// §5 default path, in a private mount namespace with a fresh /run:
/// /run/ctlinit/daemon.pid and the lock beside it.
#[test]
fn default_pidfile_path_under_run() {
    let dir = TestDir::new("default-path");
    let mut ctl = Ctl::builder(&dir, Mode::Pid1)
        .no_pidfile()
        .private_run("")
        .fixture(&["env", "--stay"])
        .spawn();
    ctl.wait_out(|l| l == "ready", secs(T)).unwrap();
    assert!(
        ctl.out_lines()
            .contains(&"CTLINIT_PIDFILE=/run/ctlinit/daemon.pid".to_owned()),
        "{:?}",
        ctl.out_lines()
    );
    let root = format!("/proc/{}/root/run/ctlinit", ctl.pid);
    let v = wait_until(
        "the default PID file",
        secs(T),
        || read_json(Path::new(&format!("{root}/daemon.pid"))).ok(),
        || ctl.context(),
    )
    .unwrap();
    assert_eq!(v["supervisor_pid"], 1, "{v}");
    assert!(
        Path::new(&format!("{root}/ctlinit.lock")).exists(),
        "the lock beside the PID file (§6)"
    );
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(143));
}

/// §5 fallback: /run not writable -> ${TMPDIR}/ctlinit-<uid>/daemon.pid, the
/// directory created 0700.
#[test]
fn default_pidfile_falls_back_to_tmpdir() {
    let dir = TestDir::new("fallback");
    let mut ctl = Ctl::builder(&dir, Mode::Pid1)
        .no_pidfile()
        .private_run("-o ro")
        .env("TMPDIR", dir.path())
        .fixture(&["env", "--stay"])
        .spawn();
    ctl.wait_out(|l| l == "ready", secs(T)).unwrap();
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    let fallback_dir = dir.join(&format!("ctlinit-{uid}"));
    let want = fallback_dir.join("daemon.pid");
    assert!(
        ctl.out_lines()
            .contains(&format!("CTLINIT_PIDFILE={}", want.display())),
        "{:?}",
        ctl.out_lines()
    );
    let v = wait_until(
        "the fallback PID file",
        secs(T),
        || read_json(&want).ok(),
        || ctl.context(),
    )
    .unwrap();
    assert_eq!(v["supervisor_pid"], 1, "{v}");
    let mode = fs::metadata(&fallback_dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "the fallback directory is created 0700 (§5)");
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(143));
    assert!(!want.exists(), "removed at exit");
}

/// §5: a fallback directory owned by another user is refused; with the
/// default path that earns one warning and ctlinit runs on without PID file
/// (no CTLINIT_PIDFILE marker, §7).
#[test]
fn fallback_dir_owned_by_another_user_is_refused() {
    let dir = TestDir::new("fallback-foreign");
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    let foreign = dir.join(&format!("ctlinit-{uid}"));
    fs::create_dir(&foreign).unwrap();
    fs::set_permissions(&foreign, fs::Permissions::from_mode(0o700)).unwrap();
    std::os::unix::fs::chown(&foreign, Some(uid + 4242), Some(uid + 4242))
        .expect("chown (tests run as root)");
    let mut ctl = Ctl::builder(&dir, Mode::Pid1)
        .no_pidfile()
        .private_run("-o ro")
        .env("TMPDIR", dir.path())
        .fixture(&["env"])
        .spawn();
    assert_eq!(ctl.wait_code(secs(T)), Ok(0), "runs on without a PID file");
    let env = ctl.out_lines();
    assert!(env.contains(&"ready".to_owned()), "the daemon ran: {env:?}");
    assert!(
        !env.iter().any(|l| l.starts_with("CTLINIT_PIDFILE=")),
        "no PID file -> no marker: {env:?}"
    );
    assert!(
        fs::read_dir(&foreign).unwrap().next().is_none(),
        "nothing written into the foreign directory"
    );
    let warns = ctl
        .stderr_lines()
        .iter()
        .filter(|l| l.starts_with("ctlinit: warn:"))
        .count();
    assert_eq!(warns, 1, "exactly one warning{}", ctl.context());
}

both_modes!(
    pidfile_fields_and_removal,
    last_exit_after_signal_and_code,
    pidfile_invariants_across_restarts,
    second_instance_refused,
    daemon_does_not_inherit_lock_fd,
    status_and_health_of_running_supervisor,
    status_json_lists_listening_ports,
    status_and_health_during_backoff,
    stale_pidfile_after_sigkill,
);
