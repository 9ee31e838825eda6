//! Operator-facing features through the real binary, as PID 1 and as a
//! subreaper: `--check` (SPEC §8b, §11), `--watch-signal` (§2), `--stop-on`
//! (§2, §4), the terminal rule's "no terminal" half (§3), environment values
//! (§14.11), `--help` (§2) and the give-up wording (§13, §14.1).
//!
//! `--check CMD` is split on spaces with no shell, so every check here is
//! `sh <script>` with the script written into the test's directory. A check
//! never writes to the fixture's output file: it appends to its own `runs`
//! file, so the number of check runs can be counted.

#[macro_use]
mod common;

use common::*;
use std::fs;
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Bound on every wait for an event that should come quickly.
const T: f64 = 10.0;

// ------------------------------------------------------------------ helpers

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// Writes `body` to `<dir>/<name>` and returns the `--check` value that runs
/// it (`sh <path>`: CMD is split on spaces, no shell).
/// A `--check` command: a shell script that first counts its run in the
/// test directory's `runs` file (see `runs`), then does `body`.
fn check_script(dir: &TestDir, name: &str, body: &str) -> String {
    let p = dir.join(name);
    let counted = format!("echo run >> '{}'\n{body}", s(&dir.join("runs")));
    fs::write(&p, counted).unwrap();
    format!("sh {}", s(&p))
}

/// Lines of the check's `runs` file (one per check run).
fn runs(dir: &TestDir) -> usize {
    read_lines(&dir.join("runs")).len()
}

fn wait_runs(ctl: &Ctl, dir: &TestDir, n: usize) {
    ok(wait_until(
        &format!(
            "{n} check run(s) recorded in {}",
            dir.join("runs").display()
        ),
        secs(T),
        || (runs(dir) >= n).then_some(()),
        || ctl.context(),
    ));
}

/// The `check refused restart: CMD exited with N` lines of ctlinit's stderr.
fn refusals(ctl: &Ctl) -> Vec<String> {
    ctl.stderr_lines()
        .into_iter()
        .filter(|l| l.contains("check refused restart:"))
        .collect()
}

/// Waits for the `n`-th refusal line and returns it.
fn wait_refusal(ctl: &Ctl, n: usize) -> String {
    ok(wait_until(
        &format!("refusal line #{n} (`check refused restart:`)"),
        secs(T),
        || refusals(ctl).get(n - 1).cloned(),
        || ctl.context(),
    ))
}

/// The daemon's PID (as the PID file states it, namespace-local).
fn daemon_pid(v: &Value) -> i64 {
    v["pid"].as_i64().unwrap_or(-1)
}

/// Asserts that the PID file shows generation `g`, ready, with daemon `pid`,
/// for the whole of `dur`.
fn assert_stays(ctl: &Ctl, g: u64, pid: i64, dur: Duration, why: &str) {
    let t0 = Instant::now();
    while t0.elapsed() < dur {
        let v = ok(ctl.read_pidfile_json());
        assert!(
            generation(&v) == g && v["state"] == "ready" && daemon_pid(&v) == pid,
            "{why}: expected generation {g} (pid {pid}) ready to stay, got {v}{}",
            ctl.context()
        );
        thread::sleep(POLL);
    }
}

/// One TCP connection to 127.0.0.1:port (the fixture never accepts: the
/// kernel completes the handshake, which is what "serving" means here).
fn connects(port: u16) -> Result<(), String> {
    TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(1))
        .map(drop)
        .map_err(|e| format!("connect 127.0.0.1:{port}: {e}"))
}

/// Runs `ctlinit restart --pidfile P --timeout 5s` as an operator would: on
/// the host for a subreaper, inside the supervisor's PID (and /proc) namespace
/// for PID 1 (`nsenter`), where the lock holder is PID 1 as the file says.
fn restart_verb(ctl: &Ctl, dir: &TestDir, name: &str) -> Ran {
    let pf = dir.pidfile();
    let args = ["restart", "--pidfile", s(&pf), "--timeout", "5s"];
    match ctl.mode {
        Mode::Subreaper => run_ctlinit(dir, name, &args, &[], secs(20.0)),
        Mode::Pid1 => {
            let out_p = dir.join(&format!("{name}.stdout"));
            let err_p = dir.join(&format!("{name}.stderr"));
            let mut cmd = Command::new("nsenter");
            cmd.args(["-t", &ctl.pid.to_string(), "-p", "-m", "--"])
                .arg(ctlinit_bin())
                .args(args)
                .stdin(Stdio::null())
                .stdout(fs::File::create(&out_p).unwrap())
                .stderr(fs::File::create(&err_p).unwrap());
            for (k, _) in std::env::vars_os() {
                let ks = k.to_string_lossy();
                if ks.starts_with("CTLINIT_") || ks.starts_with("TINI_") {
                    cmd.env_remove(&k);
                }
            }
            let t0 = Instant::now();
            let mut child = cmd.spawn().expect("nsenter (util-linux) is needed");
            let st = loop {
                if let Some(st) = child.try_wait().unwrap() {
                    break Some(st);
                }
                if t0.elapsed() > secs(20.0) {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
                thread::sleep(POLL);
            };
            let ran = Ran {
                code: st.and_then(|s| s.code()),
                signal: None,
                stdout: fs::read_to_string(&out_p).unwrap_or_default(),
                stderr: fs::read_to_string(&err_p).unwrap_or_default(),
                elapsed: t0.elapsed(),
            };
            assert!(
                st.is_some(),
                "nsenter ... ctlinit restart did not exit: {ran:?}"
            );
            ran
        }
    }
}

/// Stops ctlinit with TERM and expects `code`.
fn term_and_expect(ctl: &mut Ctl, code: i32) {
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(code), "{}", ctl.context());
}

// ------------------------------------------------------------------ --check (§8b)

/// A failing check refuses a reload-signal restart and a `ctlinit restart`:
/// same daemon, never signalled, generation 1; the refusal is logged at error
/// level (it survives CTLINIT_LOG=error, which hides info), recorded in the PID
/// file's `last_check`, and the verb exits 1 with `restart refused by --check
/// (status 1)` — at once, not after its timeout. Then the check passes and
/// the verb's restart goes ahead.
fn check_failing_refuses_restart_and_passing_allows_it(mode: Mode) {
    let dir = TestDir::new("check-refuse");
    let conf = dir.join("conf");
    fs::write(&conf, "bad\n").unwrap();
    let check = check_script(&dir, "check.sh", &format!("grep -q good '{}'\n", s(&conf)));
    let mut ctl = Ctl::builder(&dir, mode)
        .env("CTLINIT_LOG", "error")
        .args(["--restart", "always", "--reload-signal", "HUP"])
        .args(["--stop-timeout", "3s", "--check", &check])
        .fixture(&["sigprint"])
        .spawn();
    ok(ctl.wait_ready_pid(secs(T)));
    let v1 = wait_gen_ready(&ctl, 1, T);
    let pid1 = daemon_pid(&v1);

    // 1. The reload signal, refused.
    let before = now_ms();
    ctl.signal(libc::SIGHUP);
    let line = wait_refusal(&ctl, 1);
    assert!(
        line.ends_with(&format!("check refused restart: {check} exited with 1")),
        "refusal line: {line:?}{}",
        ctl.context()
    );
    assert!(
        !ctl.stderr_text().contains("started generation"),
        "CTLINIT_LOG=error must hide info lines, so the refusal is at error level{}",
        ctl.context()
    );
    let v = ok(ctl.wait_pidfile(|v| v["last_check"].is_object(), secs(T)));
    let lc = &v["last_check"];
    assert_eq!(
        (&lc["status"], &lc["ok"]),
        (&Value::from(1), &Value::from(false)),
        "{v}"
    );
    let at = lc["at_ms"].as_u64().unwrap_or(0);
    assert!(
        at >= before.saturating_sub(1000) && at <= now_ms() + 1000,
        "last_check.at_ms {at} is not the time of the check: {v}"
    );
    assert_stays(&ctl, 1, pid1, secs(0.7), "a refused check stops nothing");
    assert_eq!(runs(&dir), 1, "one request, one check run");

    // 2. The verb, refused.
    let r = restart_verb(&ctl, &dir, "verb-refused");
    assert_eq!(r.code, Some(1), "refused verb: {r:?}{}", ctl.context());
    assert!(
        format!("{}{}", r.stdout, r.stderr).contains("restart refused by --check (status 1)"),
        "refused verb's message: {r:?}"
    );
    assert!(
        r.elapsed < secs(4.0),
        "the verb must report the refusal, not wait out its 5s timeout: {r:?}"
    );
    assert_eq!(runs(&dir), 2, "the verb's request ran the check once");
    assert_eq!(refusals(&ctl).len(), 2, "{}", ctl.context());
    assert_stays(&ctl, 1, pid1, secs(0.3), "a refused verb stops nothing");
    let lines = ctl.out_lines();
    assert_eq!(
        count_lines(&lines, "signal 15"),
        0,
        "never stopped: {lines:?}"
    );
    assert_eq!(
        count_lines(&lines, "signal 1"),
        0,
        "HUP is the reload signal: {lines:?}"
    );

    // 3. The check passes: the verb's restart goes ahead.
    fs::write(&conf, "good\n").unwrap();
    let r = restart_verb(&ctl, &dir, "verb-ok");
    assert_eq!(r.code, Some(0), "passing verb: {r:?}{}", ctl.context());
    assert!(
        r.stdout.contains("restarted: generation 1 -> 2"),
        "verb stdout: {r:?}"
    );
    let v = wait_gen_ready(&ctl, 2, T);
    assert_eq!(v["last_exit"]["status"], 143, "generation 1 got TERM: {v}");
    assert_eq!(runs(&dir), 3);
    assert_eq!(count_lines(&ctl.out_lines(), "signal 15"), 1);
    term_and_assert_stopped(&mut ctl, 2);
}

/// The check runs while the current generation keeps serving: a daemon on a
/// loopback port accepts connections during a 1 s check, and after it.
fn check_runs_while_the_daemon_serves(mode: Mode) {
    let dir = TestDir::new("check-serving");
    let port = free_port(70);
    let check = check_script(&dir, "slow.sh", "sleep 1\nexit 1\n");
    let mut ctl = Ctl::builder(&dir, mode)
        .args(["--restart", "always", "--reload-signal", "HUP"])
        .args(["--port", &port.to_string(), "--stop-timeout", "5s"])
        .args(["--check", &check])
        .fixture(&["listen", &port.to_string()])
        .spawn();
    let v = wait_gen_ready(&ctl, 1, T);
    let pid1 = daemon_pid(&v);
    ok(connects(port));
    ctl.signal(libc::SIGHUP);
    wait_runs(&ctl, &dir, 1);
    let t0 = Instant::now();
    let mut during = 0;
    while refusals(&ctl).is_empty() {
        assert!(t0.elapsed() < secs(T), "no refusal{}", ctl.context());
        if let Err(e) = connects(port) {
            panic!(
                "the daemon stopped serving during the check: {e}{}",
                ctl.context()
            );
        }
        during += 1;
        thread::sleep(secs(0.05));
    }
    assert!(
        t0.elapsed() >= secs(0.8),
        "the refusal came {:?} after the check began; the check sleeps 1 s",
        t0.elapsed()
    );
    assert!(during >= 5, "only {during} connections during the check");
    assert!(wait_refusal(&ctl, 1).ends_with("exited with 1"));
    ok(connects(port));
    assert_stays(&ctl, 1, pid1, secs(0.5), "refused check");
    assert_eq!(count_lines(&ctl.out_lines(), "signal 15"), 0);
    term_and_expect(&mut ctl, 0); // the listen fixture exits 0 on TERM
}

/// A check slower than `--stop-timeout` is SIGKILLed (with its process group:
/// the `sleep` it forked goes too) and counts as refused, status 137.
fn check_slower_than_stop_timeout_is_killed(mode: Mode) {
    let dir = TestDir::new("check-slow");
    let check = check_script(&dir, "hang.sh", "sleep 30\nexit 0\n");
    let mut ctl = Ctl::builder(&dir, mode)
        .args(["--restart", "always", "--reload-signal", "HUP"])
        .args(["--stop-timeout", "500ms", "--check", &check])
        .fixture(&["sigprint"])
        .spawn();
    ok(ctl.wait_ready_pid(secs(T)));
    let v = wait_gen_ready(&ctl, 1, T);
    let pid1 = daemon_pid(&v);
    let daemon_host = ctl.host_pid(pid1 as i32).expect("daemon host pid");
    ctl.signal(libc::SIGHUP);
    wait_runs(&ctl, &dir, 1);
    let t0 = Instant::now();
    let line = wait_refusal(&ctl, 1);
    let took = t0.elapsed();
    assert!(
        line.ends_with(&format!("{check} exited with 137")),
        "{line:?}"
    );
    assert_between(
        "check killed after --stop-timeout 500ms",
        took,
        secs(0.3),
        secs(5.0),
    );
    let v = ok(ctl.wait_pidfile(|v| v["last_check"]["status"] == 137, secs(T)));
    assert_eq!(v["last_check"]["ok"], false, "{v}");
    // The check's whole group is gone (its `sleep 30` included): only the
    // daemon is left below ctlinit.
    ok(wait_until(
        "the check's process tree to be gone",
        secs(T),
        || (ctl.descendants() == vec![daemon_host]).then_some(()),
        || format!("\ndescendants: {:?}{}", ctl.descendants(), ctl.context()),
    ));
    assert_stays(&ctl, 1, pid1, secs(0.3), "a killed check refuses");
    assert_eq!(count_lines(&ctl.out_lines(), "signal 15"), 0);
    term_and_expect(&mut ctl, 143);
}

/// Requests arriving while a check runs join it: a HUP starts a 1 s check,
/// two more HUPs and a `ctlinit restart` during it run no second check. When
/// the (joined) check passes, exactly one restart follows.
fn requests_during_a_check_join_it(mode: Mode) {
    let dir = TestDir::new("check-join");
    let conf = dir.join("conf");
    fs::write(&conf, "bad\n").unwrap();
    let check = check_script(
        &dir,
        "slow.sh",
        &format!("sleep 1\ngrep -q good '{}'\n", s(&conf)),
    );
    let mut ctl = Ctl::builder(&dir, mode)
        .args(["--restart", "always", "--reload-signal", "HUP"])
        .args(["--stop-timeout", "5s", "--check", &check])
        .fixture(&["sigprint"])
        .spawn();
    ok(ctl.wait_ready_pid(secs(T)));
    let pid1 = daemon_pid(&wait_gen_ready(&ctl, 1, T));

    // Refused: three HUPs, one check run, one refusal.
    ctl.signal(libc::SIGHUP);
    wait_runs(&ctl, &dir, 1);
    for _ in 0..2 {
        thread::sleep(secs(0.05));
        ctl.signal(libc::SIGHUP);
    }
    wait_refusal(&ctl, 1);
    assert_stays(&ctl, 1, pid1, secs(1.5), "refused, joined requests");
    assert_eq!(
        runs(&dir),
        1,
        "three HUPs during one check: one run{}",
        ctl.context()
    );
    assert_eq!(refusals(&ctl).len(), 1, "{}", ctl.context());

    // Passing: three HUPs, one check run, exactly one restart.
    fs::write(&conf, "good\n").unwrap();
    ctl.signal(libc::SIGHUP);
    wait_runs(&ctl, &dir, 2);
    for _ in 0..2 {
        thread::sleep(secs(0.05));
        ctl.signal(libc::SIGHUP);
    }
    let v2 = wait_gen_ready(&ctl, 2, T);
    assert_stays(
        &ctl,
        2,
        daemon_pid(&v2),
        secs(1.5),
        "one joined check, one restart",
    );
    assert_eq!(runs(&dir), 2, "{}", ctl.context());
    term_and_assert_stopped(&mut ctl, 2);
}

/// A restart after the daemon died (backoff) is not checked: the check,
/// which would refuse, never runs — neither after a crash exit nor after a
/// SIGKILL from outside.
fn restart_after_the_daemon_died_is_not_checked(mode: Mode) {
    let dir = TestDir::new("check-after-death");
    let check = check_script(&dir, "check.sh", "exit 1\n");
    let counter = dir.join("count");
    let mut ctl = Ctl::builder(&dir, mode)
        .args([
            "--restart",
            "always",
            "--backoff",
            "10ms",
            "--reload-signal",
            "HUP",
        ])
        .args(["--check", &check])
        .fixture(&["crash-n", s(&counter), "1", "1"])
        .spawn();
    ok(ctl.wait_out(|l| l == "crash 1", secs(T)));
    let v = wait_gen_ready(&ctl, 2, T);
    let host = ctl
        .host_pid(daemon_pid(&v) as i32)
        .expect("daemon host pid");
    signal_pid(host, libc::SIGKILL);
    let v = wait_gen_ready(&ctl, 3, T);
    assert_eq!(v["last_exit"]["status"], 137, "{v}");
    assert_eq!(runs(&dir), 0, "no check after a death{}", ctl.context());
    assert!(refusals(&ctl).is_empty(), "{}", ctl.context());
    assert!(v.get("last_check").is_none_or(Value::is_null), "{v}");
    term_and_expect(&mut ctl, 143);
}

// ------------------------------------------------------------------ --watch-signal

/// A `--watch` change sends the `--watch-signal` to the daemon and restarts
/// nothing; each change sends one.
fn watch_signal_signals_without_restarting(mode: Mode) {
    let dir = TestDir::new("watch-signal");
    let conf = dir.join("conf");
    fs::write(&conf, "v1\n").unwrap();
    let mut ctl = Ctl::builder(&dir, mode)
        .args([
            "--restart",
            "always",
            "--watch",
            s(&conf),
            "--watch-signal",
            "HUP",
        ])
        .fixture(&["sigprint"])
        .spawn();
    ok(ctl.wait_ready_pid(secs(T)));
    let pid1 = daemon_pid(&wait_gen_ready(&ctl, 1, T));
    fs::write(&conf, "v2\n").unwrap();
    ok(ctl.wait_out(|l| l == "signal 1", secs(T)));
    assert_stays(
        &ctl,
        1,
        pid1,
        secs(1.0),
        "--watch-signal reloads, never restarts",
    );
    fs::write(&conf, "v3\n").unwrap();
    ok(wait_until(
        "a second `signal 1`",
        secs(T),
        || (count_lines(&ctl.out_lines(), "signal 1") == 2).then_some(()),
        || ctl.context(),
    ));
    assert_stays(&ctl, 1, pid1, secs(0.5), "second change");
    let lines = ctl.out_lines();
    assert_eq!(count_lines(&lines, "signal 1"), 2, "{lines:?}");
    assert_eq!(count_lines(&lines, "signal 15"), 0, "{lines:?}");
    assert_eq!(ready_lines(&ctl), 1);
    term_and_assert_stopped(&mut ctl, 1);
}

/// With `--check`, a `--watch` change whose check fails sends nothing (and
/// logs the refusal); once the check passes, the signal is sent.
fn watch_signal_waits_for_the_check(mode: Mode) {
    let dir = TestDir::new("watch-signal-check");
    let conf = dir.join("conf");
    fs::write(&conf, "good v1\n").unwrap();
    let check = check_script(&dir, "check.sh", &format!("grep -q good '{}'\n", s(&conf)));
    let mut ctl = Ctl::builder(&dir, mode)
        .args([
            "--restart",
            "always",
            "--watch",
            s(&conf),
            "--watch-signal",
            "HUP",
        ])
        .args(["--check", &check])
        .fixture(&["sigprint"])
        .spawn();
    ok(ctl.wait_ready_pid(secs(T)));
    let pid1 = daemon_pid(&wait_gen_ready(&ctl, 1, T));
    fs::write(&conf, "bad v2\n").unwrap();
    let line = wait_refusal(&ctl, 1);
    assert!(
        line.ends_with(&format!("{check} exited with 1")),
        "{line:?}"
    );
    assert_stays(&ctl, 1, pid1, secs(0.7), "refused reload");
    assert_eq!(
        count_lines(&ctl.out_lines(), "signal 1"),
        0,
        "refused: nothing sent{}",
        ctl.context()
    );
    assert_eq!(runs(&dir), 1);
    let v = ok(ctl.read_pidfile_json());
    assert_eq!(v["last_check"]["status"], 1, "{v}");
    assert_eq!(v["last_check"]["ok"], false, "{v}");

    fs::write(&conf, "good v3\n").unwrap();
    ok(ctl.wait_out(|l| l == "signal 1", secs(T)));
    assert_eq!(runs(&dir), 2);
    assert_stays(
        &ctl,
        1,
        pid1,
        secs(0.5),
        "passing check: reload, no restart",
    );
    assert_eq!(count_lines(&ctl.out_lines(), "signal 15"), 0);
    term_and_expect(&mut ctl, 143);
}

/// The bad-config push end to end: a daemon serving on a loopback port whose
/// config is watched with `--check` + `--watch-signal`. A broken config never
/// interrupts service (connections before, during and after), reaches the
/// daemon as nothing; the good config that follows reaches it as HUP.
fn bad_config_push_never_interrupts_service(mode: Mode) {
    let dir = TestDir::new("bad-config");
    let port = free_port(71);
    let conf = dir.join("daemon.conf");
    fs::write(&conf, format!("port={port}\n")).unwrap();
    let check = check_script(
        &dir,
        "validate.sh",
        &format!("grep -Eq '^port=[0-9]+$' '{}'\n", s(&conf)),
    );
    let mut ctl = Ctl::builder(&dir, mode)
        .args(["--restart", "always", "--port", &port.to_string()])
        .args([
            "--watch",
            s(&conf),
            "--watch-signal",
            "HUP",
            "--check",
            &check,
        ])
        .fixture(&["config-daemon", s(&conf)])
        .spawn();
    let pid1 = daemon_pid(&wait_gen_ready(&ctl, 1, T));
    ok(connects(port));

    fs::write(&conf, "port=oops\n").unwrap();
    let t0 = Instant::now();
    let mut probes = 0;
    while refusals(&ctl).is_empty() {
        assert!(t0.elapsed() < secs(T), "no refusal{}", ctl.context());
        if let Err(e) = connects(port) {
            panic!(
                "service interrupted by a bad config push: {e}{}",
                ctl.context()
            );
        }
        probes += 1;
        thread::sleep(secs(0.05));
    }
    let after = Instant::now();
    while after.elapsed() < secs(0.5) {
        if let Err(e) = connects(port) {
            panic!(
                "service interrupted after the refusal: {e}{}",
                ctl.context()
            );
        }
        probes += 1;
        thread::sleep(secs(0.05));
    }
    assert!(probes >= 10, "only {probes} probes");
    assert_stays(&ctl, 1, pid1, secs(0.2), "bad config");
    let lines = ctl.out_lines();
    assert_eq!(
        count_lines(&lines, "signal 1"),
        0,
        "bad config reached the daemon: {lines:?}"
    );
    assert!(!lines.iter().any(|l| l == "bad config"), "{lines:?}");

    fs::write(&conf, format!("port={port}\n# v2\n")).unwrap();
    ok(ctl.wait_out(|l| l == "signal 1", secs(T)));
    ok(connects(port));
    assert_stays(&ctl, 1, pid1, secs(0.3), "good config: reload, no restart");
    assert_eq!(runs(&dir), 2, "{}", ctl.context());
    term_and_expect(&mut ctl, 0); // config-daemon exits 0 on TERM
}

// ------------------------------------------------------------------ --stop-on (§2, §4)

/// Default `--stop-on TERM,INT,QUIT`: QUIT to ctlinit is a stop — forwarded,
/// nothing restarted even under `--restart always`, `reason=stopped`.
fn quit_stops_by_default(mode: Mode) {
    let dir = TestDir::new("quit-default");
    let mut ctl = Ctl::builder(&dir, mode)
        .args(["--restart", "always"])
        .fixture(&["sigprint"])
        .spawn();
    ok(ctl.wait_ready_pid(secs(T)));
    wait_gen_ready(&ctl, 1, T);
    ctl.signal(libc::SIGQUIT);
    assert_eq!(ctl.wait_code(secs(T)), Ok(131), "{}", ctl.context());
    assert_eq!(count_lines(&ctl.out_lines(), "signal 3"), 1);
    assert_summary(
        &ctl,
        "status=131 generation=1 exits=1 restarts=0 reason=stopped",
    );
}

/// A daemon (sh) that logs QUIT and keeps running; TERM kills it (143).
const QUIT_LOGGER: &str = r#"trap 'echo "signal 3" >> "$FIXTURE_OUT"' QUIT
echo "ready $$" >> "$FIXTURE_OUT"
while :; do sleep 0.05; done"#;

/// `--stop-on TERM,INT` (flag or env): QUIT is only forwarded — the daemon
/// logs it and keeps running, generation 1 — then TERM stops everything.
fn quit_outside_stop_on_is_only_forwarded(mode: Mode, via_env: bool) {
    let dir = TestDir::new(if via_env {
        "stop-on-env"
    } else {
        "stop-on-flag"
    });
    let mut b = Ctl::builder(&dir, mode).args(["--restart", "always"]);
    b = if via_env {
        b.env("CTLINIT_STOP_ON", "TERM,INT")
    } else {
        b.args(["--stop-on", "TERM,INT"])
    };
    let mut ctl = b.args(["sh", "-c", QUIT_LOGGER]).spawn();
    ok(ctl.wait_ready_pid(secs(T)));
    let pid1 = daemon_pid(&wait_gen_ready(&ctl, 1, T));
    ctl.signal(libc::SIGQUIT);
    ok(ctl.wait_out(|l| l == "signal 3", secs(T)));
    assert_stays(&ctl, 1, pid1, secs(0.7), "QUIT outside --stop-on");
    assert!(
        ctl.exited().is_none(),
        "QUIT stopped ctlinit{}",
        ctl.context()
    );
    ctl.signal(libc::SIGQUIT);
    ok(wait_until(
        "a second `signal 3`",
        secs(T),
        || (count_lines(&ctl.out_lines(), "signal 3") == 2).then_some(()),
        || ctl.context(),
    ));
    assert_stays(
        &ctl,
        1,
        pid1,
        secs(0.3),
        "a second QUIT is no second stop request",
    );
    term_and_assert_stopped(&mut ctl, 1);
}

fn stop_on_flag_without_quit(mode: Mode) {
    quit_outside_stop_on_is_only_forwarded(mode, false)
}

fn stop_on_env_without_quit(mode: Mode) {
    quit_outside_stop_on_is_only_forwarded(mode, true)
}

/// With `--stop-on TERM,INT`, a daemon that dies of the forwarded QUIT has
/// crashed (no stop was requested): `--restart always` restarts it.
fn quit_outside_stop_on_that_ends_the_daemon_is_restarted(mode: Mode) {
    let dir = TestDir::new("stop-on-crash");
    let mut ctl = Ctl::builder(&dir, mode)
        .args([
            "--restart",
            "always",
            "--backoff",
            "10ms",
            "--stop-on",
            "TERM,INT",
        ])
        .fixture(&["sigprint"])
        .spawn();
    ok(ctl.wait_ready_pid(secs(T)));
    wait_gen_ready(&ctl, 1, T);
    ctl.signal(libc::SIGQUIT);
    let v = wait_gen_ready(&ctl, 2, T);
    assert_eq!(v["last_exit"]["status"], 131, "{v}");
    term_and_assert_stopped(&mut ctl, 2);
}

// ------------------------------------------------------------------ terminal rule (§3), no terminal

/// Without a terminal, a daemon killed by SIGINT from outside (sent to the
/// daemon, not to ctlinit) has crashed: `--restart always` restarts it. The
/// terminal rule needs the terminal (see tests/tty.rs for the other half).
fn sigint_from_outside_without_a_terminal_is_restarted(mode: Mode) {
    let dir = TestDir::new("sigint-no-tty");
    let mut ctl = Ctl::builder(&dir, mode)
        .args(["--restart", "always", "--backoff", "10ms"])
        .fixture(&["fork-sleep"]) // default dispositions: dies of INT
        .spawn();
    ok(ctl.wait_ready_pid(secs(T)));
    let v = wait_gen_ready(&ctl, 1, T);
    let host = ctl
        .host_pid(daemon_pid(&v) as i32)
        .expect("daemon host pid");
    signal_pid(host, libc::SIGINT);
    let v = wait_gen_ready(&ctl, 2, T);
    assert_eq!(v["last_exit"]["signal"], 2, "{v}");
    assert_eq!(v["last_exit"]["status"], 130, "{v}");
    assert!(ctl.exited().is_none(), "{}", ctl.context());
    term_and_assert_stopped(&mut ctl, 2);
}

// ------------------------------------------------------------------ environment values (§14.11)

/// Every `CTLINIT_*` variable of §2's table.
const CTLINIT_VARS: &[&str] = &[
    "CTLINIT_RESTART",
    "CTLINIT_MAX_RESTARTS",
    "CTLINIT_BACKOFF",
    "CTLINIT_RESET_AFTER",
    "CTLINIT_STOP_SIGNAL",
    "CTLINIT_STOP_TIMEOUT",
    "CTLINIT_STOP_ON",
    "CTLINIT_STOP_DELAY",
    "CTLINIT_RELOAD_SIGNAL",
    "CTLINIT_RESTART_EXIT",
    "CTLINIT_WATCH_SIGNAL",
    "CTLINIT_CHECK",
    "CTLINIT_WATCH",
    "CTLINIT_PORT",
    "CTLINIT_READY",
    "CTLINIT_READY_TIMEOUT",
    "CTLINIT_WATCHDOG",
    "CTLINIT_PORT_TIMEOUT",
    "CTLINIT_PIDFILE",
    "CTLINIT_LOCKFILE",
    "CTLINIT_MARKER",
    "CTLINIT_PGROUP",
    "CTLINIT_REWRITE",
    "CTLINIT_SUCCESS_EXIT",
    "CTLINIT_PDEATHSIG",
    "CTLINIT_LOG",
];

fn run_true(dir: &TestDir, mode: Mode, name: &str, envs: &[(&str, &str)]) -> Ctl {
    let mut b = Ctl::builder(dir, mode).name(name);
    for (k, v) in envs {
        b = b.env(k, v);
    }
    let mut ctl = b.args(["--", "true"]).spawn();
    let code = ctl.wait_code(secs(T));
    assert_eq!(code, Ok(0), "{envs:?} -- true{}", ctl.context());
    ctl
}

/// Each variable set to the empty string behaves as unset: `-- true` runs
/// once and exits 0, with the default info logging.
#[test]
fn empty_env_values_are_unset_one_at_a_time() {
    let dir = TestDir::new("env-empty-each");
    for var in CTLINIT_VARS {
        let ctl = run_true(&dir, Mode::Subreaper, &var.to_lowercase(), &[(var, "")]);
        assert_summary(
            &ctl,
            "status=0 generation=1 exits=1 restarts=0 reason=daemon-exited",
        );
        assert!(
            ctl.stderr_text().contains("started generation 1"),
            "{var}=: info logging is the default{}",
            ctl.context()
        );
    }
}

/// All of them empty at once, plus `TINI_SUBREAPER` set (true / empty).
fn empty_env_values_are_unset_all_at_once(mode: Mode) {
    let dir = TestDir::new("env-empty-all");
    for (i, tini) in ["true", ""].iter().enumerate() {
        let mut envs: Vec<(&str, &str)> = CTLINIT_VARS.iter().map(|v| (*v, "")).collect();
        envs.push(("TINI_SUBREAPER", tini));
        let ctl = run_true(&dir, mode, &format!("all-{i}"), &envs);
        assert_summary(
            &ctl,
            "status=0 generation=1 exits=1 restarts=0 reason=daemon-exited",
        );
    }
}

/// `CTLINIT_PORT=` and `CTLINIT_READY=` with a long-running daemon: no port
/// is waited for, the daemon is ready at spawn (`--ready none`).
fn empty_port_and_ready_mean_ready_at_spawn(mode: Mode) {
    let dir = TestDir::new("env-empty-port");
    let mut ctl = Ctl::builder(&dir, mode)
        .env("CTLINIT_PORT", "")
        .env("CTLINIT_READY", "")
        .env("CTLINIT_READY_TIMEOUT", "")
        .fixture(&["sigprint"])
        .spawn();
    ok(ctl.wait_ready_pid(secs(T)));
    wait_gen_ready(&ctl, 1, 3.0);
    term_and_expect(&mut ctl, 143);
}

#[test]
fn tini_subreaper_is_accepted() {
    let dir = TestDir::new("tini-subreaper");
    for (i, v) in ["true", ""].iter().enumerate() {
        run_true(
            &dir,
            Mode::Subreaper,
            &format!("ts-{i}"),
            &[("TINI_SUBREAPER", v)],
        );
    }
}

/// Whether a USR1 sent to ctlinit reaches the daemon's child in its group.
fn group_forwarding(dir: &TestDir, mode: Mode, name: &str, envs: &[(&str, &str)]) -> bool {
    let mut b = Ctl::builder(dir, mode).name(name);
    for (k, v) in envs {
        b = b.env(k, v);
    }
    let _ = fs::remove_file(dir.out());
    let mut ctl = b.fixture(&["sigprint", "--child"]).spawn();
    ok(ctl.wait_ready_pid(secs(T)));
    wait_gen_ready(&ctl, 1, T);
    ctl.signal(libc::SIGUSR1);
    ok(ctl.wait_out(|l| l == "signal 10", secs(T)));
    // Group forwarding is one kill(-pgid): both get it at the same moment.
    thread::sleep(secs(0.3));
    let child = count_lines(&ctl.out_lines(), "child signal 10") == 1;
    ctl.signal(libc::SIGTERM);
    assert!(ctl.wait_code(secs(T)).is_ok(), "{}", ctl.context());
    child
}

/// `CTLINIT_PGROUP`: on for 1/true/yes, off for 0/false/no.
fn pgroup_env_values(mode: Mode) {
    let dir = TestDir::new("pgroup-values");
    for (v, want) in [
        ("1", true),
        ("true", true),
        ("yes", true),
        ("0", false),
        ("false", false),
        ("no", false),
    ] {
        let got = group_forwarding(&dir, mode, &format!("pg-{v}"), &[("CTLINIT_PGROUP", v)]);
        assert_eq!(got, want, "CTLINIT_PGROUP={v}: group forwarding on?");
    }
}

/// `TINI_KILL_PROCESS_GROUP` is on whenever it is set — empty, or even `0`
/// (tini's rule); unset, forwarding goes to the daemon alone.
fn tini_kill_process_group_set_means_on(mode: Mode) {
    let dir = TestDir::new("tini-kpg");
    assert!(
        !group_forwarding(&dir, mode, "unset", &[]),
        "default is off"
    );
    for v in ["", "0"] {
        assert!(
            group_forwarding(
                &dir,
                mode,
                &format!("kpg-{}", v.len()),
                &[("TINI_KILL_PROCESS_GROUP", v)]
            ),
            "TINI_KILL_PROCESS_GROUP={v:?} must turn group forwarding on"
        );
    }
}

/// `CTLINIT_PGROUP=maybe` is a usage error naming the variable and value,
/// before any side effect.
#[test]
fn pgroup_bad_value_is_a_usage_error() {
    let dir = TestDir::new("pgroup-maybe");
    let mut ctl = Ctl::builder(&dir, Mode::Subreaper)
        .env("CTLINIT_PGROUP", "maybe")
        .fixture(&["sigprint"])
        .spawn();
    assert_eq!(ctl.wait_code(secs(T)), Ok(2), "{}", ctl.context());
    let err = ctl.stderr_text();
    assert!(
        err.contains("CTLINIT_PGROUP") && err.contains("maybe"),
        "{err}"
    );
    assert!(
        ctl.out_lines().is_empty(),
        "nothing started: {:?}",
        ctl.out_lines()
    );
    assert!(!dir.pidfile().exists(), "no PID file on a usage error");
}

// ------------------------------------------------------------------ give-up wording (§13, §14.1)

/// `--restart on-failure --max-restarts 2`: exactly 3 runs. The last
/// restarting line says the next failure gives up; the giving-up line names
/// 3 consecutive failed runs and `--max-restarts 2`.
fn give_up_wording(mode: Mode) {
    let dir = TestDir::new("give-up");
    let counter = dir.join("count");
    let mut ctl = Ctl::builder(&dir, mode)
        .args([
            "--restart",
            "on-failure",
            "--max-restarts",
            "2",
            "--backoff",
            "10ms",
        ])
        .fixture(&["crash-n", s(&counter), "1000", "1"])
        .spawn();
    assert_eq!(ctl.wait_code(secs(T)), Ok(1), "{}", ctl.context());
    let lines = ctl.out_lines();
    let crashes: Vec<&String> = lines.iter().filter(|l| l.starts_with("crash ")).collect();
    assert_eq!(crashes, ["crash 1", "crash 2", "crash 3"], "exactly 3 runs");
    assert_summary(
        &ctl,
        "status=1 generation=3 exits=3 restarts=2 reason=gave-up",
    );

    let err = ctl.stderr_lines();
    let restarting: Vec<&String> = err.iter().filter(|l| l.contains("restarting")).collect();
    assert_eq!(restarting.len(), 2, "{restarting:?}{}", ctl.context());
    let gives_up =
        |l: &str| l.contains("next failure") && (l.contains("gives up") || l.contains("give up"));
    assert!(
        restarting[0].contains("1 of 2") && !gives_up(restarting[0]),
        "first restarting line: {:?}",
        restarting[0]
    );
    assert!(
        restarting[1].contains("2 of 2") && gives_up(restarting[1]),
        "the last restarting line must say the next failure gives up: {:?}",
        restarting[1]
    );
    let giving: Vec<&String> = err.iter().filter(|l| l.contains("giving up")).collect();
    assert_eq!(giving.len(), 1, "{}", ctl.context());
    let g = giving[0];
    let words: Vec<&str> = g
        .split(|c: char| c.is_whitespace() || c == ':' || c == ',')
        .collect();
    assert!(
        words.contains(&"3") && g.contains("consecutive") && g.contains("--max-restarts 2"),
        "giving-up line must name 3 consecutive failed runs and --max-restarts 2: {g:?}"
    );
    let gi = err.iter().position(|l| l == g).unwrap();
    assert!(
        !err[gi..]
            .iter()
            .any(|l| l.contains("restarting") || l.contains("started generation")),
        "nothing restarts after giving up{}",
        ctl.context()
    );
}

both_modes!(
    check_failing_refuses_restart_and_passing_allows_it,
    check_runs_while_the_daemon_serves,
    check_slower_than_stop_timeout_is_killed,
    requests_during_a_check_join_it,
    restart_after_the_daemon_died_is_not_checked,
    watch_signal_signals_without_restarting,
    watch_signal_waits_for_the_check,
    bad_config_push_never_interrupts_service,
    quit_stops_by_default,
    stop_on_flag_without_quit,
    stop_on_env_without_quit,
    quit_outside_stop_on_that_ends_the_daemon_is_restarted,
    sigint_from_outside_without_a_terminal_is_restarted,
    empty_env_values_are_unset_all_at_once,
    empty_port_and_ready_mean_ready_at_spawn,
    pgroup_env_values,
    tini_kill_process_group_set_means_on,
    give_up_wording,
);
