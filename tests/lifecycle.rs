//! The four lifecycle capabilities through the real binary, as PID 1 and as
//! subreaper: the drain before a stop (`--stop-delay`, SPEC §2, §4, §14.27),
//! the daemon's own restart request (`--restart-exit`, §8, §14.26), the
//! liveness watchdog (`--watchdog`, §2, §14.28) and the OOM-kill report
//! (§5, §8a). Plus idleness with all of them configured (§14.15).
//!
//! Every wait is bounded and synchronised on an event (PID-file state or
//! generation, a line in a file); timing bounds are loose on the slow side.
//! The OOM test needs root and a cgroup v1 memory controller; where either is
//! missing, or the kernel does not OOM-kill, it prints a loud `SKIPPED:` line.

#[macro_use]
mod common;

use common::*;
use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::sleep;
use std::time::{Duration, Instant};

const T: f64 = 10.0;

// ------------------------------------------------------------------ helpers

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

fn stderr_count(ctl: &Ctl, needle: &str) -> usize {
    ctl.stderr_lines()
        .iter()
        .filter(|l| l.contains(needle))
        .count()
}

/// How many fixture lines start with `prefix`.
fn out_count(ctl: &Ctl, prefix: &str) -> usize {
    ctl.out_lines()
        .iter()
        .filter(|l| l.starts_with(prefix))
        .count()
}

/// The daemon's host PID from the PID as it sees itself.
fn daemon_host_pid(ctl: &Ctl, ns_pid: i32) -> i32 {
    ctl.host_pid(ns_pid).unwrap_or_else(|| {
        panic!(
            "daemon pid {ns_pid} not found below ctlinit{}",
            ctl.context()
        )
    })
}

/// `ctlinit health --pidfile PF` (a plain process on the host: it only reads
/// files and /proc/locks).
fn health(dir: &TestDir, name: &str, pidfile: &Path) -> Ran {
    run_ctlinit(
        dir,
        name,
        &["health", "--pidfile", s(pidfile)],
        &[],
        secs(T),
    )
}

/// `ctlinit restart --pidfile PF --timeout DUR`, run where it can reach the
/// supervisor: on the host in subreaper mode; inside the container's PID and
/// mount namespaces (nsenter) in PID-1 mode, since §14.16 makes it refuse
/// from another PID namespace. Returns (exit code, stdout + stderr).
fn restart_verb(ctl: &Ctl, dir: &TestDir, name: &str, timeout: &str) -> (Option<i32>, String) {
    let mut cmd = match ctl.mode {
        Mode::Subreaper => Command::new(ctlinit_bin()),
        Mode::Pid1 => {
            let mut c = Command::new("nsenter");
            c.args(["-t", &ctl.pid.to_string(), "-p", "-m", "--"])
                .arg(ctlinit_bin());
            c
        }
    };
    cmd.args([
        "restart",
        "--pidfile",
        s(&ctl.pidfile),
        "--timeout",
        timeout,
    ]);
    for (k, _) in std::env::vars_os() {
        let ks = k.to_string_lossy();
        if ks.starts_with("CTLINIT_") || ks.starts_with("TINI_") || ks == "NOTIFY_SOCKET" {
            cmd.env_remove(&k);
        }
    }
    let out_path = dir.join(&format!("{name}.out"));
    cmd.stdin(Stdio::null())
        .stdout(fs::File::create(&out_path).unwrap())
        .stderr(fs::File::create(dir.join(&format!("{name}.err"))).unwrap());
    let mut child = cmd.spawn().expect("spawn ctlinit restart");
    let t0 = Instant::now();
    let code = loop {
        if let Ok(Some(st)) = child.try_wait() {
            break st.code();
        }
        if t0.elapsed() > secs(30.0) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("ctlinit restart did not exit within 30 s");
        }
        sleep(POLL);
    };
    let text = format!(
        "{}{}",
        fs::read_to_string(&out_path).unwrap_or_default(),
        fs::read_to_string(dir.join(&format!("{name}.err"))).unwrap_or_default()
    );
    (code, text)
}

/// Waits for ctlinit to exit, recording every distinct PID-file content seen
/// on the way. Returns the exit code and the snapshots.
fn exit_code_and_pidfiles(ctl: &mut Ctl, timeout: Duration) -> (Result<i32, String>, Vec<Value>) {
    let t0 = Instant::now();
    let mut seen: Vec<Value> = Vec::new();
    loop {
        if let Ok(v) = ctl.read_pidfile_json() {
            if seen.last() != Some(&v) {
                seen.push(v);
            }
        }
        if ctl.exited().is_some() || t0.elapsed() >= timeout {
            return (ctl.wait_code(secs(0.0)), seen);
        }
        sleep(POLL);
    }
}

/// Asserts that the PID file keeps showing generation `g`, ready, for `dur`.
fn assert_gen_stays(ctl: &Ctl, g: u64, dur: Duration, why: &str) {
    let t0 = Instant::now();
    while t0.elapsed() < dur {
        let v = ok(ctl.read_pidfile_json());
        assert!(
            generation(&v) == g && v["state"] == "ready",
            "{why}: expected generation {g} ready to stay, got {v}{}",
            ctl.context()
        );
        sleep(POLL);
    }
}

fn started_at(v: &Value) -> u64 {
    v["started_at_ms"]
        .as_u64()
        .unwrap_or_else(|| panic!("no started_at_ms in {v}"))
}

// ------------------------------------------------------------------ drain (--stop-delay)

/// TERM starts a drain: state `draining`, the daemon keeps running and gets
/// nothing, `health` says 1; after the delay TERM reaches it exactly once.
fn drain_keeps_serving_then_forwards_once(mode: Mode) {
    let dir = TestDir::new("drain");
    let delay = 2.0;
    let mut ctl = Ctl::builder(&dir, mode)
        .args(["--stop-delay", "2s"])
        .fixture(&["sigprint"])
        .spawn();
    let dpid = ok(ctl.wait_ready_pid(secs(T)));
    wait_gen_ready(&ctl, 1, T);
    let h = health(&dir, "health-ready", &ctl.pidfile);
    assert_eq!(
        h.code,
        Some(0),
        "health while ready: {h:?}{}",
        ctl.context()
    );

    let t0 = Instant::now();
    ctl.signal(libc::SIGTERM);
    let v = ok(ctl.wait_state("draining", secs(T)));
    assert_eq!(v["pid"], dpid, "the daemon still runs while draining: {v}");
    assert_eq!(generation(&v), 1, "{v}");
    let h = health(&dir, "health-draining", &ctl.pidfile);
    // Everything below must have happened inside the drain to mean anything.
    let v = ok(ctl.read_pidfile_json());
    assert_eq!(v["state"], "draining", "still draining after `health`: {v}");
    assert!(
        t0.elapsed() < secs(delay),
        "the checks took longer than the drain ({:?})",
        t0.elapsed()
    );
    assert_eq!(
        h.code,
        Some(1),
        "`ctlinit health` must exit 1 while draining (§4): {h:?}{}",
        ctl.context()
    );
    assert!(
        alive(daemon_host_pid(&ctl, dpid)),
        "the daemon keeps running during the drain"
    );
    assert_eq!(
        out_count(&ctl, "signal "),
        0,
        "the daemon must not be signalled during the drain{}",
        ctl.context()
    );

    ok(ctl.wait_out(|l| l == "signal 15", secs(delay + 5.0)));
    assert_between(
        "TERM to ctlinit -> TERM at the daemon",
        t0.elapsed(),
        secs(delay),
        secs(delay + 5.0),
    );
    assert_eq!(ctl.wait_code(secs(T)), Ok(143));
    let lines = ctl.out_lines();
    assert_eq!(
        count_lines(&lines, "signal 15"),
        1,
        "TERM exactly once: {lines:?}"
    );
    assert_eq!(out_count(&ctl, "signal "), 1, "nothing else: {lines:?}");
    assert_summary(
        &ctl,
        "status=143 generation=1 exits=1 restarts=0 reason=stopped",
    );
}

/// A second TERM during a long drain forwards at once.
fn second_term_during_drain_forwards_at_once(mode: Mode) {
    let dir = TestDir::new("drain-second");
    let mut ctl = Ctl::builder(&dir, mode)
        .args(["--stop-delay", "30s"])
        .fixture(&["sigprint"])
        .spawn();
    ok(ctl.wait_ready_pid(secs(T)));
    wait_gen_ready(&ctl, 1, T);
    ctl.signal(libc::SIGTERM);
    ok(ctl.wait_state("draining", secs(T)));
    assert_eq!(out_count(&ctl, "signal "), 0, "{}", ctl.context());
    let t0 = Instant::now();
    ctl.signal(libc::SIGTERM);
    ok(ctl.wait_out(|l| l == "signal 15", secs(T)));
    assert!(
        t0.elapsed() < secs(5.0),
        "a second TERM during the drain forwards at once, took {:?}",
        t0.elapsed()
    );
    assert_eq!(ctl.wait_code(secs(T)), Ok(143));
    assert_eq!(count_lines(&ctl.out_lines(), "signal 15"), 1);
    assert_summary(
        &ctl,
        "status=143 generation=1 exits=1 restarts=0 reason=stopped",
    );
}

/// A daemon that exits by itself during the drain ends it: ctlinit exits with
/// its status, `reason=stopped`, and restarts nothing — not under `always`,
/// and not for a `--restart-exit` code either (a stop that has begun wins, §8).
fn daemon_exit_during_drain_ends_it(mode: Mode) {
    let cases: [(&[&str], &str, i32); 2] = [
        (&["--restart", "always"], "5", 5),
        (&["--restart", "always", "--restart-exit", "3"], "3", 3),
    ];
    for (extra, exit_on, code) in cases {
        let dir = TestDir::new("drain-exit");
        let mut ctl = Ctl::builder(&dir, mode)
            .args(["--stop-delay", "30s"])
            .args(extra)
            .fixture(&["sigprint", "--exit-on", exit_on])
            .spawn();
        let dpid = ok(ctl.wait_ready_pid(secs(T)));
        wait_gen_ready(&ctl, 1, T);
        let t0 = Instant::now();
        ctl.signal(libc::SIGTERM);
        ok(ctl.wait_state("draining", secs(T)));
        // The test, not ctlinit, makes the daemon exit: USR1 straight to it.
        signal_pid(daemon_host_pid(&ctl, dpid), libc::SIGUSR1);
        let (got, seen) = exit_code_and_pidfiles(&mut ctl, secs(T));
        assert_eq!(
            got,
            Ok(code),
            "{extra:?}: ctlinit exits with the daemon's status"
        );
        assert!(
            t0.elapsed() < secs(10.0),
            "{extra:?}: the daemon's exit ends the 30 s drain, took {:?}",
            t0.elapsed()
        );
        assert!(
            seen.iter().all(|v| generation(v) == 1),
            "{extra:?}: no restart after an exit during the drain: {seen:?}"
        );
        assert_eq!(ready_lines(&ctl), 1, "{extra:?}{}", ctl.context());
        assert_eq!(
            count_lines(&ctl.out_lines(), "signal 15"),
            0,
            "{extra:?}: the drain never forwarded TERM{}",
            ctl.context()
        );
        assert_summary(
            &ctl,
            &format!("status={code} generation=1 exits=1 restarts=0 reason=stopped"),
        );
    }
}

/// `--stop-timeout` counts from the forward, not from the received TERM: a
/// daemon ignoring TERM gets SIGKILL no earlier than delay + timeout. The
/// delay comes from the environment here (`CTLINIT_STOP_DELAY`).
fn stop_timeout_counts_from_the_forward(mode: Mode) {
    let dir = TestDir::new("drain-timeout");
    let (delay, grace) = (1.0, 1.0);
    let mut ctl = Ctl::builder(&dir, mode)
        .env("CTLINIT_STOP_DELAY", "1s")
        .args(["--stop-timeout", "1s"])
        .fixture(&["sigprint", "--ignore-term"])
        .spawn();
    ok(ctl.wait_ready_pid(secs(T)));
    wait_gen_ready(&ctl, 1, T);
    let t0 = Instant::now();
    ctl.signal(libc::SIGTERM);
    ok(ctl.wait_state("draining", secs(T)));
    ok(ctl.wait_out(|l| l == "signal 15", secs(delay + 5.0)));
    let forwarded = t0.elapsed();
    assert!(forwarded >= secs(delay), "forwarded after {forwarded:?}");
    assert_eq!(ctl.wait_code(secs(T)), Ok(137), "SIGKILL after the grace");
    let total = t0.elapsed();
    assert_between(
        "TERM to ctlinit -> ctlinit's exit (drain + grace + SIGKILL)",
        total,
        secs(delay + grace),
        secs(delay + grace + 5.0),
    );
    assert_summary(
        &ctl,
        "status=137 generation=1 exits=1 restarts=0 reason=stopped",
    );
}

/// During the drain a stop is under way: the reload signal, `ctlinit
/// restart` and a `--watch` change start nothing (§14.27).
fn restart_requests_during_drain_start_nothing(mode: Mode) {
    let dir = TestDir::new("drain-requests");
    let cfg = dir.join("app.conf");
    fs::write(&cfg, "level=1\n").unwrap();
    let delay = 5.0;
    let mut ctl = Ctl::builder(&dir, mode)
        .args(["--stop-delay", "5s", "--reload-signal", "HUP", "--watch"])
        .arg(&cfg)
        .fixture(&["sigprint"])
        .spawn();
    ok(ctl.wait_ready_pid(secs(T)));
    wait_gen_ready(&ctl, 1, T);
    let t0 = Instant::now();
    ctl.signal(libc::SIGTERM);
    ok(ctl.wait_state("draining", secs(T)));
    ctl.signal(libc::SIGHUP);
    fs::write(&cfg, "level=2\n").unwrap();
    let (code, text) = restart_verb(&ctl, &dir, "verb", "1s");
    assert_ne!(
        code,
        Some(0),
        "`ctlinit restart` during the drain must not report a restart: {text}"
    );
    let v = ok(ctl.read_pidfile_json());
    assert!(
        v["state"] == "draining" && t0.elapsed() < secs(delay),
        "the requests must have arrived inside the drain (took {:?}): {v}",
        t0.elapsed()
    );
    let (got, seen) = exit_code_and_pidfiles(&mut ctl, secs(delay + T));
    assert_eq!(got, Ok(143), "{}", ctl.context());
    assert!(
        seen.iter()
            .all(|v| generation(v) == 1 && v["restarts"] == 0),
        "nothing may start during the drain: {seen:?}"
    );
    let lines = ctl.out_lines();
    assert_eq!(ready_lines(&ctl), 1, "{lines:?}");
    assert_eq!(count_lines(&lines, "signal 15"), 1, "{lines:?}");
    assert_eq!(
        count_lines(&lines, "signal 1"),
        0,
        "the reload signal is not forwarded: {lines:?}"
    );
    assert_summary(
        &ctl,
        "status=143 generation=1 exits=1 restarts=0 reason=stopped",
    );
}

/// `--stop-delay 0` (the default spelled out) forwards at once: no drain.
fn stop_delay_zero_forwards_at_once(mode: Mode) {
    let dir = TestDir::new("drain-zero");
    let mut ctl = Ctl::builder(&dir, mode)
        .args(["--stop-delay", "0", "--stop-timeout", "30s"])
        .fixture(&["sigprint"])
        .spawn();
    ok(ctl.wait_ready_pid(secs(T)));
    wait_gen_ready(&ctl, 1, T);
    let t0 = Instant::now();
    ctl.signal(libc::SIGTERM);
    let (got, seen) = exit_code_and_pidfiles(&mut ctl, secs(T));
    assert_eq!(got, Ok(143));
    assert!(
        t0.elapsed() < secs(1.5),
        "--stop-delay 0 forwards at once, took {:?}",
        t0.elapsed()
    );
    assert!(
        seen.iter().all(|v| v["state"] != "draining"),
        "no drain with --stop-delay 0: {seen:?}"
    );
    assert_eq!(stderr_count(&ctl, "draining"), 0, "{}", ctl.context());
    assert_eq!(count_lines(&ctl.out_lines(), "signal 15"), 1);
    assert_summary(
        &ctl,
        "status=143 generation=1 exits=1 restarts=0 reason=stopped",
    );
}

/// INT and QUIT drain too, and are forwarded as themselves after the delay.
fn drain_on_int_and_quit(mode: Mode) {
    for (sig, code) in [(libc::SIGINT, 130), (libc::SIGQUIT, 131)] {
        let dir = TestDir::new("drain-int-quit");
        let mut ctl = Ctl::builder(&dir, mode)
            .args(["--stop-delay", "500ms"])
            .fixture(&["sigprint"])
            .spawn();
        ok(ctl.wait_ready_pid(secs(T)));
        wait_gen_ready(&ctl, 1, T);
        let t0 = Instant::now();
        ctl.signal(sig);
        ok(ctl.wait_state("draining", secs(T)));
        ok(ctl.wait_out(|l| l == format!("signal {sig}"), secs(T)));
        assert!(
            t0.elapsed() >= secs(0.5),
            "signal {sig} forwarded after {:?}",
            t0.elapsed()
        );
        assert_eq!(ctl.wait_code(secs(T)), Ok(code), "signal {sig}");
        assert_eq!(out_count(&ctl, "signal "), 1, "{}", ctl.context());
        assert_summary(
            &ctl,
            &format!("status={code} generation=1 exits=1 restarts=0 reason=stopped"),
        );
    }
}

// ------------------------------------------------------------------ --restart-exit

/// A run longer than the backoff MIN that exits with a `--restart-exit` code
/// is replaced at once, even under `--restart no`, and logged as the daemon's
/// own request — no backoff line.
fn restart_exit_restarts_at_once(mode: Mode) {
    let dir = TestDir::new("rexit-once");
    let min = 2.0;
    let mut ctl = Ctl::builder(&dir, mode)
        .args(["--restart", "no", "--restart-exit", "3", "--backoff", "2s"])
        .fixture(&["sigprint", "--exit-on", "3"])
        .spawn();
    ok(ctl.wait_ready_pid(secs(T)));
    for g in 1..=2u64 {
        let v = wait_gen_ready(&ctl, g, T);
        ok(wait_until(
            "the fixture's ready line",
            secs(T),
            || (ready_lines(&ctl) >= g as usize).then_some(()),
            || ctl.context(),
        ));
        // Let this run outlast the backoff's MIN (a clock wait, bounded).
        let until = started_at(&v) + (min * 1000.0) as u64 + 300;
        ok(wait_until(
            "the run to outlast the backoff MIN",
            secs(min + 2.0),
            || (now_ms() >= until).then_some(()),
            String::new,
        ));
        let t0 = Instant::now();
        // Forwarded to the daemon, which answers any signal with exit 3.
        ctl.signal(libc::SIGUSR1);
        let v = wait_gen_ready(&ctl, g + 1, T);
        assert!(
            t0.elapsed() < secs(min * 0.75),
            "generation {} must start at once, not after the {min}s backoff: took {:?}",
            g + 1,
            t0.elapsed()
        );
        assert_eq!(
            (v["exits"].as_u64(), v["restarts"].as_u64()),
            (Some(g), Some(g)),
            "{v}"
        );
        assert_eq!(v["last_exit"]["status"], 3, "{v}");
    }
    assert_eq!(
        stderr_count(&ctl, "exited with 3: restart requested by the daemon"),
        2,
        "{}",
        ctl.context()
    );
    assert_eq!(
        stderr_count(&ctl, "restarting in"),
        0,
        "no backoff for a requested restart after a long run{}",
        ctl.context()
    );
    // `--ready none` is ready at spawn: wait for the fixture's own line, so
    // the TERM finds its signals blocked (else it dies of TERM: 143).
    ok(wait_until(
        "generation 3's fixture ready line",
        secs(T),
        || (ready_lines(&ctl) >= 3).then_some(()),
        || ctl.context(),
    ));
    // The daemon answers TERM with exit 3 too: a stop that has begun wins
    // over the restart request (§8), so ctlinit exits with it.
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(3), "{}", ctl.context());
    assert_summary(
        &ctl,
        "status=3 generation=3 exits=3 restarts=2 reason=stopped",
    );
}

/// A daemon that asks at once, in a loop, is restarted no faster than the
/// backoff MIN (and not slower and slower: MIN each time, §14.26). The codes
/// come from `CTLINIT_RESTART_EXIT` here. TERM during that wait: `stopped`.
fn restart_exit_loop_waits_out_min(mode: Mode) {
    let dir = TestDir::new("rexit-loop");
    let min_ms = 300u64;
    let mut ctl = Ctl::builder(&dir, mode)
        .env("CTLINIT_RESTART_EXIT", "7,3")
        .args(["--backoff", "300ms"])
        .fixture(&["exit", "3"])
        .spawn();
    let mut starts: Vec<(u64, u64)> = Vec::new();
    ok(wait_until(
        "generation 6",
        secs(20.0),
        || {
            if let Ok(v) = ctl.read_pidfile_json() {
                let g = generation(&v);
                if g > 0 && starts.last().map(|&(lg, _)| lg) != Some(g) {
                    starts.push((g, started_at(&v)));
                }
            }
            (starts.last().map(|&(g, _)| g) >= Some(6)).then_some(())
        },
        || ctl.context(),
    ));
    let gaps: Vec<u64> = starts
        .windows(2)
        .filter(|w| w[1].0 == w[0].0 + 1)
        .map(|w| w[1].1.saturating_sub(w[0].1))
        .collect();
    assert!(
        gaps.len() >= 3,
        "too few consecutive generations seen: {starts:?}"
    );
    for &gap in &gaps {
        assert!(
            gap >= min_ms - 50,
            "a daemon asking at once restarts at most every MIN ({min_ms} ms): gaps {gaps:?}"
        );
        assert!(
            gap <= min_ms + 1000,
            "each wait is MIN, not a growing backoff: gaps {gaps:?}"
        );
    }
    assert!(stderr_count(&ctl, "exited with 3: restart requested by the daemon") >= 5);
    ok(ctl.wait_state("backoff", secs(T)));
    ctl.signal(libc::SIGTERM);
    let code = ctl.wait_code(secs(T));
    // The TERM lands in the 300 ms wait (almost always) or, if the next
    // generation won the race, on a daemon that exits 3 or dies of it.
    assert!(matches!(code, Ok(3) | Ok(143)), "{code:?}{}", ctl.context());
    let summary = ctl.last_stderr_line().unwrap_or_default();
    assert!(
        summary.starts_with("ctlinit: exit status=") && summary.ends_with(" reason=stopped"),
        "{summary}"
    );
}

/// TERM during the wait before a requested restart: ctlinit exits at once
/// with the last run's status, `reason=stopped` (§14.3).
fn term_during_restart_exit_wait_stops(mode: Mode) {
    let dir = TestDir::new("rexit-term");
    let mut ctl = Ctl::builder(&dir, mode)
        .args(["--restart-exit", "3", "--backoff", "5s"])
        .fixture(&["exit", "3"])
        .spawn();
    let v = ok(ctl.wait_state("backoff", secs(T)));
    assert_eq!(generation(&v), 1, "{v}");
    assert_eq!(v["last_exit"]["status"], 3, "{v}");
    let t0 = Instant::now();
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(3));
    assert!(
        t0.elapsed() < secs(1.5),
        "TERM during the wait exits at once, took {:?}",
        t0.elapsed()
    );
    assert_summary(
        &ctl,
        "status=3 generation=1 exits=1 restarts=0 reason=stopped",
    );
}

/// A restart request neither counts as a failure nor resets the count:
/// with `--max-restarts 1`, fail-ask-ask-ask runs on (asks are not failures),
/// and fail-ask-fail gives up (the ask did not reset the first failure).
fn restart_exit_keeps_failure_count(mode: Mode) {
    // Not increased.
    let dir = TestDir::new("rexit-count");
    let counter = dir.join("runs");
    let mut ctl = Ctl::builder(&dir, mode)
        .args(["--restart", "on-failure", "--max-restarts", "1"])
        .args(["--restart-exit", "3", "--backoff", "100ms"])
        .fixture(&["exit-seq", s(&counter), "1", "3", "3", "3"])
        .spawn();
    let v = wait_gen_ready(&ctl, 5, T);
    assert_eq!(v["last_exit"]["status"], 3, "{v}");
    ok(ctl.wait_out(|l| l.starts_with("ready "), secs(T)));
    assert_eq!(
        stderr_count(&ctl, "giving up") + stderr_count(&ctl, "gave up"),
        0,
        "{}",
        ctl.context()
    );
    term_and_assert_stopped(&mut ctl, 5);

    // Not reset.
    let dir = TestDir::new("rexit-noreset");
    let counter = dir.join("runs");
    let mut ctl = Ctl::builder(&dir, mode)
        .args(["--restart", "on-failure", "--max-restarts", "1"])
        .args(["--restart-exit", "3", "--backoff", "100ms"])
        .fixture(&["exit-seq", s(&counter), "1", "3", "1"])
        .spawn();
    let (got, seen) = exit_code_and_pidfiles(&mut ctl, secs(T));
    assert_eq!(
        got,
        Ok(1),
        "fail, ask, fail = 2 consecutive failures: give up with --max-restarts 1 \
         (PID files seen: {seen:?})"
    );
    assert_eq!(
        out_count(&ctl, "ready "),
        0,
        "a 4th run must not start{}",
        ctl.context()
    );
    assert_summary(
        &ctl,
        "status=1 generation=3 exits=3 restarts=2 reason=gave-up",
    );
}

// ------------------------------------------------------------------ --watchdog

/// ctlinit with `--ready notify --watchdog DUR --restart POLICY`.
fn watchdog_ctl<'a>(dir: &'a TestDir, mode: Mode, dur: &str, policy: &str) -> CtlBuilder<'a> {
    Ctl::builder(dir, mode).args(["--ready", "notify", "--watchdog", dur, "--restart", policy])
}

/// The daemon sees WATCHDOG_USEC = DUR in µs and WATCHDOG_PID = its own pid;
/// keep-alives well within DUR keep it running.
fn watchdog_env_and_keepalives(mode: Mode) {
    let dir = TestDir::new("wd-alive");
    let mut ctl = watchdog_ctl(&dir, mode, "1s", "on-failure")
        .fixture(&["notify", "--keepalive-ms", "200"])
        .spawn();
    let line = ok(ctl.wait_out(|l| l.starts_with("watchdog "), secs(T)));
    let v = wait_gen_ready(&ctl, 1, T);
    let pid = v["pid"].as_i64().expect("pid");
    assert_eq!(
        line,
        format!("watchdog usec=1000000 pid={pid} self={pid}"),
        "WATCHDOG_USEC is DUR in µs, WATCHDOG_PID the daemon's own pid{}",
        ctl.context()
    );
    assert_gen_stays(&ctl, 1, secs(3.0), "keep-alives every 200 ms, watchdog 1 s");
    assert!(out_count(&ctl, "keepalive ") >= 5, "{}", ctl.context());
    assert_eq!(
        stderr_count(&ctl, "watchdog timeout"),
        0,
        "{}",
        ctl.context()
    );
    term_and_assert_stopped(&mut ctl, 1);
}

/// A daemon that stops sending keep-alives is stopped after DUR and, under
/// `on-failure`, restarted; the stop is logged `watchdog timeout after`.
fn watchdog_restarts_a_hung_daemon(mode: Mode) {
    let dir = TestDir::new("wd-hung");
    let mut ctl = watchdog_ctl(&dir, mode, "1s", "on-failure")
        .args(["--backoff", "100ms"])
        .fixture(&["notify", "--keepalive-ms", "200", "--keepalives", "3"])
        .spawn();
    let v1 = wait_gen_ready(&ctl, 1, T);
    let v2 = ok(ctl.wait_pidfile(|v| generation(v) >= 2, secs(T)));
    assert_eq!(generation(&v2), 2, "{v2}");
    assert_eq!(v2["last_exit"]["status"], 143, "stopped with TERM: {v2}");
    assert_eq!(v2["exits"], 1, "{v2}");
    let ran = started_at(&v2) - started_at(&v1);
    assert!(
        ran >= 1500,
        "3 keep-alives (600 ms) + 1 s watchdog: generation 1 ran only {ran} ms{}",
        ctl.context()
    );
    let lines = ctl.out_lines();
    let third = lines.iter().position(|l| l == "keepalive 3");
    let second_start = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.starts_with("watchdog "))
        .nth(1)
        .map(|(i, _)| i);
    assert!(
        third.is_some() && (second_start.is_none() || third < second_start),
        "generation 1 sent its 3 keep-alives before it was replaced: {lines:?}"
    );
    ok(ctl.wait_stderr(|l| l.contains("watchdog timeout after"), secs(T)));
    wait_gen_ready(&ctl, 2, T);
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(143));
    let summary = ctl.last_stderr_line().unwrap_or_default();
    assert!(
        summary.starts_with("ctlinit: exit status=143 ") && summary.ends_with(" reason=stopped"),
        "{summary}"
    );
}

/// `WATCHDOG=trigger` stops the daemon at once (long before DUR) and the
/// policy restarts it.
fn watchdog_trigger_restarts_at_once(mode: Mode) {
    let dir = TestDir::new("wd-trigger");
    let mut ctl = watchdog_ctl(&dir, mode, "10s", "on-failure")
        .args(["--backoff", "100ms"])
        .fixture(&["notify", "--trigger-after-ms", "300"])
        .spawn();
    let v1 = wait_gen_ready(&ctl, 1, T);
    let v2 = ok(ctl.wait_pidfile(|v| generation(v) >= 2, secs(T)));
    let gap = started_at(&v2) - started_at(&v1);
    assert!(
        gap < 5000,
        "WATCHDOG=trigger restarts at once, not after the 10 s watchdog: {gap} ms{}",
        ctl.context()
    );
    assert_eq!(v2["last_exit"]["status"], 143, "{v2}");
    assert!(out_count(&ctl, "trigger") >= 1, "{}", ctl.context());
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(143));
    let summary = ctl.last_stderr_line().unwrap_or_default();
    assert!(summary.ends_with(" reason=stopped"), "{summary}");
}

/// Under `--restart no` a watchdog stop ends ctlinit with what the daemon
/// died of (143 after TERM), `reason=daemon-exited`.
fn watchdog_stop_under_restart_no(mode: Mode) {
    let dir = TestDir::new("wd-no");
    let mut ctl = watchdog_ctl(&dir, mode, "1s", "no")
        .fixture(&["notify", "--keepalive-ms", "200", "--keepalives", "2"])
        .spawn();
    wait_gen_ready(&ctl, 1, T);
    assert_eq!(ctl.wait_code(secs(T)), Ok(143), "{}", ctl.context());
    assert_eq!(out_count(&ctl, "keepalive "), 2);
    assert_eq!(
        stderr_count(&ctl, "watchdog timeout after"),
        1,
        "{}",
        ctl.context()
    );
    assert_summary(
        &ctl,
        "status=143 generation=1 exits=1 restarts=0 reason=daemon-exited",
    );
}

/// With all four capabilities configured and a ready daemon that sends
/// nothing, ctlinit is idle: no context switch in a 2 s window.
fn idle_with_all_four_configured(mode: Mode) {
    let dir = TestDir::new("lifecycle-idle");
    let mut ctl = Ctl::builder(&dir, mode)
        .args([
            "--stop-delay",
            "5s",
            "--restart-exit",
            "3",
            "--ready",
            "notify",
        ])
        .args(["--watchdog", "10s", "--restart", "on-failure"])
        .fixture(&["notify"])
        .spawn();
    ok(ctl.wait_out(|l| l == "notified", secs(T)));
    wait_gen_ready(&ctl, 1, T);
    assert_eq!(threads(ctl.pid), Some(1), "ctlinit is single-threaded");
    // Let the follow-up work of the last state change settle first.
    sleep(secs(0.3));
    let c0 = ctxt_switches(ctl.pid).unwrap();
    sleep(secs(2.0));
    let c1 = ctxt_switches(ctl.pid).unwrap();
    let v = ok(ctl.read_pidfile_json());
    assert!(generation(&v) == 1 && v["state"] == "ready", "{v}");
    assert_eq!(
        c1 - c0,
        0,
        "ctlinit was scheduled {} times while idle for 2 s (a periodic wake-up?)",
        c1 - c0
    );
    // Out without waiting for the 5 s drain: a second TERM forwards at once.
    ctl.signal(libc::SIGTERM);
    ok(ctl.wait_state("draining", secs(T)));
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(143));
}

// ------------------------------------------------------------------ OOM (§8a)

const MEM_ROOT: &str = "/sys/fs/cgroup/memory";
const MIB: u64 = 1 << 20;

/// A child memory cgroup (cgroup v1) this test created; removed on drop once
/// its processes are gone.
struct Cgroup {
    path: PathBuf,
}

impl Cgroup {
    fn create(limit: u64) -> Result<Cgroup, String> {
        static N: AtomicUsize = AtomicUsize::new(0);
        let root = Path::new(MEM_ROOT);
        if !root.join("memory.limit_in_bytes").exists() {
            return Err(format!("no cgroup v1 memory controller at {MEM_ROOT}"));
        }
        let n = N.fetch_add(1, Ordering::SeqCst);
        let path = root.join(format!("ctlinit-test-{}-{n}", std::process::id()));
        fs::create_dir(&path).map_err(|e| format!("mkdir {}: {e}", path.display()))?;
        let cg = Cgroup { path };
        cg.write("memory.limit_in_bytes", &limit.to_string())?;
        if cg.path.join("memory.memsw.limit_in_bytes").exists() {
            // So swap cannot save the hog.
            cg.write("memory.memsw.limit_in_bytes", &limit.to_string())?;
        }
        let _ = cg.write("memory.swappiness", "0");
        let got = fs::read_to_string(cg.path.join("memory.limit_in_bytes")).unwrap_or_default();
        if got.trim().parse::<u64>().ok() != Some(limit) {
            return Err(format!(
                "memory.limit_in_bytes reads {got:?}, wanted {limit}"
            ));
        }
        if cg.oom_kills().is_none() {
            return Err("memory.oom_control has no oom_kill counter (kernel < 4.13?)".into());
        }
        Ok(cg)
    }

    fn write(&self, file: &str, value: &str) -> Result<(), String> {
        fs::write(self.path.join(file), value)
            .map_err(|e| format!("write {value} to {}/{file}: {e}", self.path.display()))
    }

    /// The `oom_kill` counter of memory.oom_control.
    fn oom_kills(&self) -> Option<u64> {
        fs::read_to_string(self.path.join("memory.oom_control"))
            .ok()?
            .lines()
            .find_map(|l| l.strip_prefix("oom_kill ")?.trim().parse().ok())
    }

    fn procs(&self) -> Vec<i32> {
        read_lines(&self.path.join("cgroup.procs"))
            .iter()
            .filter_map(|l| l.trim().parse().ok())
            .collect()
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        // The ctlinit started in it was killed (or exited) before this drop;
        // wait for its processes to be gone, then remove the directory.
        let gone = wait_until(
            "the test cgroup to empty",
            secs(10.0),
            || self.procs().is_empty().then_some(()),
            String::new,
        );
        if let Err(e) = gone.and_then(|()| {
            fs::remove_dir(&self.path).map_err(|e| format!("rmdir {}: {e}", self.path.display()))
        }) {
            eprintln!("WARNING: could not remove {}: {e}", self.path.display());
        }
    }
}

/// One ctlinit started inside a cgroup: `sh -c 'echo $$ > cgroup.procs; exec
/// ...'`, so ctlinit (and, in PID-1 mode, `unshare`) is in it from its first
/// instruction and every daemon inherits it. Mirrors the harness's `Ctl` for
/// the little the OOM test needs; dropping it SIGKILLs what it started.
struct CgCtl {
    child: Child,
    mode: Mode,
    /// ctlinit's host PID.
    pid: i32,
    dir_out: PathBuf,
    stderr_path: PathBuf,
    pidfile: PathBuf,
    status: Option<ExitStatus>,
}

impl CgCtl {
    fn spawn(dir: &TestDir, mode: Mode, cg: &Cgroup, args: &[&str], fixture: &[&str]) -> CgCtl {
        let name = "ctlinit";
        let stderr_path = dir.join(&format!("{name}.stderr"));
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg("echo $$ > \"$0\" && exec \"$@\"")
            .arg(cg.path.join("cgroup.procs"));
        if mode == Mode::Pid1 {
            cmd.args(["unshare", "--pid", "--fork", "--mount-proc", "--"]);
        }
        cmd.arg(ctlinit_bin())
            .arg("--pidfile")
            .arg(dir.pidfile())
            .args(args)
            .arg(fixture_bin())
            .args(fixture);
        for (k, _) in std::env::vars_os() {
            let ks = k.to_string_lossy();
            if ks.starts_with("CTLINIT_") || ks.starts_with("TINI_") || ks == "NOTIFY_SOCKET" {
                cmd.env_remove(&k);
            }
        }
        cmd.env("FIXTURE_OUT", dir.out())
            .stdin(Stdio::null())
            .stdout(fs::File::create(dir.join(&format!("{name}.stdout"))).unwrap())
            .stderr(fs::File::create(&stderr_path).unwrap());
        // SAFETY: setsid is async-signal-safe; no controlling terminal, as
        // in `docker run` without -t (the harness does the same).
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
        let mut child = cmd.spawn().expect("spawn sh -> ctlinit");
        let top = child.id() as i32;
        let bin = fs::canonicalize(ctlinit_bin()).unwrap();
        let is_ctlinit =
            |p: i32| fs::read_link(format!("/proc/{p}/exe")).ok().as_ref() == Some(&bin);
        let pid = wait_until(
            "ctlinit to start in the cgroup",
            secs(T),
            || match mode {
                Mode::Subreaper => is_ctlinit(top).then_some(top),
                Mode::Pid1 => descendants(top).into_iter().find(|&p| is_ctlinit(p)),
            },
            || tail(&stderr_path, 20),
        );
        let pid = match pid {
            Ok(p) => p,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{e}");
            }
        };
        CgCtl {
            child,
            mode,
            pid,
            dir_out: dir.out(),
            stderr_path,
            pidfile: dir.pidfile(),
            status: None,
        }
    }

    fn exited(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            if let Ok(Some(st)) = self.child.try_wait() {
                self.status = Some(st);
            }
        }
        self.status
    }

    fn context(&self) -> String {
        format!("{}{}", tail(&self.dir_out, 10), tail(&self.stderr_path, 15))
    }

    fn wait_code(&mut self, timeout: Duration) -> Result<i32, String> {
        let r = wait_until(
            "ctlinit (in the cgroup) to exit",
            timeout,
            || self.exited(),
            String::new,
        );
        match r {
            Ok(st) => st
                .code()
                .ok_or_else(|| format!("ctlinit died of a signal: {st:?}{}", self.context())),
            Err(e) => Err(format!("{e}{}", self.context())),
        }
    }

    fn wait_pidfile(
        &self,
        pred: impl Fn(&Value) -> bool,
        timeout: Duration,
    ) -> Result<Value, String> {
        wait_until(
            "the PID file to reach the expected state",
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

    fn wait_out(&self, pred: impl Fn(&str) -> bool, timeout: Duration) -> Result<String, String> {
        wait_until(
            "a fixture line",
            timeout,
            || read_lines(&self.dir_out).into_iter().find(|l| pred(l)),
            || self.context(),
        )
    }

    fn stderr_lines(&self) -> Vec<String> {
        read_lines(&self.stderr_path)
    }

    fn last_stderr_line(&self) -> Option<String> {
        self.stderr_lines()
            .into_iter()
            .rev()
            .find(|l| !l.trim().is_empty())
    }

    /// The host PID of a process below ctlinit that sees itself as `ns_pid`.
    fn host_pid(&self, ns_pid: i32) -> Option<i32> {
        match self.mode {
            Mode::Subreaper => Some(ns_pid),
            Mode::Pid1 => descendants(self.pid).into_iter().find(|&p| {
                status_field(p, "NSpid")
                    .and_then(|v| v.split_whitespace().last()?.parse::<i32>().ok())
                    == Some(ns_pid)
            }),
        }
    }

    fn signal(&mut self, sig: i32) {
        assert!(
            self.exited().is_none(),
            "ctlinit already exited; not signalling"
        );
        signal_pid(self.pid, sig);
    }
}

impl Drop for CgCtl {
    fn drop(&mut self) {
        if self.exited().is_some() {
            return;
        }
        match self.mode {
            Mode::Subreaper => {
                // Freeze ctlinit (no reaping, so no PID reuse), then the tree.
                signal_pid_quiet(self.pid, libc::SIGSTOP);
                let tree = descendants(self.pid);
                for &p in &tree {
                    signal_pid_quiet(p, libc::SIGKILL);
                }
                signal_pid_quiet(self.pid, libc::SIGKILL);
            }
            // SIGKILL to a namespace's PID 1 kills every process in it.
            Mode::Pid1 => signal_pid_quiet(self.pid, libc::SIGKILL),
        }
        let _ = self.child.kill();
        let t0 = Instant::now();
        while self.exited().is_none() && t0.elapsed() < secs(10.0) {
            sleep(POLL);
        }
    }
}

fn signal_pid_quiet(pid: i32, sig: i32) {
    if pid > 1 {
        // SAFETY: kill(2) on a PID this test started (or found below it).
        unsafe { libc::kill(pid, sig) };
    }
}

/// Creates the 32 MiB cgroup, or prints why not.
fn oom_cgroup(what: &str) -> Option<Cgroup> {
    match Cgroup::create(32 * MIB) {
        Ok(cg) => Some(cg),
        Err(e) => {
            eprintln!("SKIPPED: {what}: cannot set up a 32 MiB memory cgroup: {e}");
            println!("SKIPPED: {what}: cannot set up a 32 MiB memory cgroup: {e}");
            None
        }
    }
}

fn skip(what: &str, why: &str) {
    eprintln!("SKIPPED: {what}: {why}");
    println!("SKIPPED: {what}: {why}");
}

/// The error line §8a asks for, for generation `g` whose pid (as ctlinit
/// sees it) is `pid`.
fn oom_line(g: u64, pid: i32) -> String {
    format!("ctlinit: error: generation {g} (pid {pid}) was killed by the OOM killer (memory limit 32 MiB)")
}

/// The `hog <pid>` lines of the fixture output, in order.
fn hog_pids(path: &Path) -> Vec<i32> {
    read_lines(path)
        .iter()
        .filter_map(|l| l.strip_prefix("hog ")?.parse().ok())
        .collect()
}

/// A daemon killed by the OOM killer inside ctlinit's memory cgroup: the
/// error line, exit 137, `oom_kills` and `last_exit.oom_kill` in the PID
/// file; a plain `kill -9` is no OOM kill.
fn oom_kill_is_reported(mode: Mode) {
    let what = format!("oom_kill_is_reported ({mode:?})");

    // 1. --restart no: the line, exit 137, daemon-exited.
    {
        let Some(cg) = oom_cgroup(&what) else { return };
        let dir = TestDir::new("oom-no");
        let mut ctl = CgCtl::spawn(&dir, mode, &cg, &["--restart", "no"], &["hog", "200"]);
        let code = ctl.wait_code(secs(60.0));
        let kills = cg.oom_kills().unwrap_or(0);
        if kills == 0 {
            let reached = read_lines(&dir.out())
                .iter()
                .any(|l| l.starts_with("ready "));
            skip(
                &what,
                &format!(
                    "the kernel did not OOM-kill in a 32 MiB cgroup (hog reached 200 MiB: \
                     {reached}; ctlinit: {code:?}){}",
                    ctl.context()
                ),
            );
            return;
        }
        assert_eq!(
            code,
            Ok(137),
            "an OOM kill is SIGKILL: 137{}",
            ctl.context()
        );
        let pids = hog_pids(&dir.out());
        assert_eq!(pids.len(), 1, "{}", ctl.context());
        let want = oom_line(1, pids[0]);
        assert!(
            ctl.stderr_lines().contains(&want),
            "expected the error line {want:?}{}",
            ctl.context()
        );
        assert_eq!(
            ctl.last_stderr_line().as_deref(),
            Some("ctlinit: exit status=137 generation=1 exits=1 restarts=0 reason=daemon-exited"),
            "{}",
            ctl.context()
        );
        drop(ctl);
    }

    // 2. on-failure, max-restarts 1: the PID file in backoff, then give-up.
    {
        let Some(cg) = oom_cgroup(&what) else { return };
        let dir = TestDir::new("oom-backoff");
        let mut ctl = CgCtl::spawn(
            &dir,
            mode,
            &cg,
            &[
                "--restart",
                "on-failure",
                "--max-restarts",
                "1",
                "--backoff",
                "2s",
            ],
            &["hog", "200"],
        );
        let v = ok(ctl.wait_pidfile(|v| v["state"] == "backoff", secs(60.0)));
        assert!(
            v["oom_kills"].as_u64() >= Some(1),
            "oom_kills counts the OOM kill: {v}{}",
            ctl.context()
        );
        assert_eq!(v["last_exit"]["oom_kill"], true, "{v}");
        assert_eq!(v["last_exit"]["signal"], 9, "{v}");
        assert_eq!(v["last_exit"]["status"], 137, "{v}");
        assert_eq!(
            ctl.wait_code(secs(60.0)),
            Ok(137),
            "generation 2 is OOM-killed too"
        );
        let pids = hog_pids(&dir.out());
        assert_eq!(pids.len(), 2, "{}", ctl.context());
        for (g, &p) in [1u64, 2].iter().zip(&pids) {
            let want = oom_line(*g, p);
            assert!(
                ctl.stderr_lines().contains(&want),
                "expected {want:?}{}",
                ctl.context()
            );
        }
        assert_eq!(
            ctl.last_stderr_line().as_deref(),
            Some("ctlinit: exit status=137 generation=2 exits=2 restarts=1 reason=gave-up"),
            "{}",
            ctl.context()
        );
        assert!(cg.oom_kills() >= Some(2));
        drop(ctl);
    }

    // 3. A plain kill -9 in a cgroup with no OOM: oom_kill false, no line.
    {
        let Some(cg) = oom_cgroup(&what) else { return };
        let dir = TestDir::new("oom-kill9");
        let mut ctl = CgCtl::spawn(
            &dir,
            mode,
            &cg,
            &["--restart", "on-failure", "--backoff", "10s"],
            &["hog", "2"],
        );
        let line = ok(ctl.wait_out(|l| l.starts_with("ready "), secs(T)));
        let ns_pid: i32 = line["ready ".len()..].parse().unwrap();
        let host = ctl
            .host_pid(ns_pid)
            .unwrap_or_else(|| panic!("daemon {ns_pid} not found{}", ctl.context()));
        signal_pid(host, libc::SIGKILL);
        let v = ok(ctl.wait_pidfile(|v| v["state"] == "backoff", secs(T)));
        assert_eq!(v["last_exit"]["signal"], 9, "{v}");
        assert_eq!(
            v["last_exit"]["oom_kill"], false,
            "a kill -9 is no OOM kill: {v}"
        );
        assert_eq!(v["oom_kills"], 0, "{v}");
        ctl.signal(libc::SIGTERM);
        assert_eq!(ctl.wait_code(secs(T)), Ok(137));
        assert!(
            !ctl.stderr_lines().iter().any(|l| l.contains("OOM")),
            "no OOM line for a plain kill -9{}",
            ctl.context()
        );
        assert_eq!(
            ctl.last_stderr_line().as_deref(),
            Some("ctlinit: exit status=137 generation=1 exits=1 restarts=0 reason=stopped"),
            "{}",
            ctl.context()
        );
        assert_eq!(cg.oom_kills(), Some(0));
        drop(ctl);
    }
}

both_modes!(
    drain_keeps_serving_then_forwards_once,
    second_term_during_drain_forwards_at_once,
    daemon_exit_during_drain_ends_it,
    stop_timeout_counts_from_the_forward,
    restart_requests_during_drain_start_nothing,
    stop_delay_zero_forwards_at_once,
    drain_on_int_and_quit,
    restart_exit_restarts_at_once,
    restart_exit_loop_waits_out_min,
    term_during_restart_exit_wait_stops,
    restart_exit_keeps_failure_count,
    watchdog_env_and_keepalives,
    watchdog_restarts_a_hung_daemon,
    watchdog_trigger_restarts_at_once,
    watchdog_stop_under_restart_no,
    idle_with_all_four_configured,
    oom_kill_is_reported,
);
