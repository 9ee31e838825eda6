//! Issue 3, points 1, 2 and 8 through the real binary: restart policies
//! (SPEC §2, §8, §14.1, §14.2), backoff doubling and `--reset-after`, restart
//! and stop requests during backoff (§8, §14.3), and the PID file staying
//! truthful during restart storms (§5, §14.8).

#[macro_use]
mod common;

use common::*;
use std::fs;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

const T: f64 = 10.0;

// ------------------------------------------------------------------ helpers

/// The crash-n counter: how many times the fixture ran.
fn runs(counter: &std::path::Path) -> u64 {
    fs::read_to_string(counter)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

/// Timestamps (ms since epoch) of the lines "<tag> <gen> <ns>" written by the
/// shell daemons below, in file order: (generation, ms).
fn stamped(ctl: &Ctl, tag: &str) -> Vec<(u64, f64)> {
    ctl.out_lines()
        .iter()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            (w.next()? == tag).then_some(())?;
            let g = w.next()?.parse().ok()?;
            let ns: u128 = w.next()?.parse().ok()?;
            Some((g, ns as f64 / 1e6))
        })
        .collect()
}

// ------------------------------------------------------------------ 1. policies

/// `--restart no` (the default too): the daemon's exit ends ctlinit with the
/// daemon's status.
fn policy_no_exits_with_the_daemons_status(mode: Mode) {
    for explicit in [true, false] {
        let dir = TestDir::new("policy-no");
        let cnt = dir.join("count");
        let mut b = Ctl::builder(&dir, mode);
        if explicit {
            b = b.args(["--restart", "no"]);
        }
        let mut ctl = b
            .args(["--backoff", "10ms"])
            .fixture(&["crash-n", cnt.to_str().unwrap(), "100", "3"])
            .spawn();
        assert_eq!(
            ctl.wait_code(secs(T)),
            Ok(3),
            "explicit={explicit}{}",
            ctl.context()
        );
        assert_eq!(
            runs(&cnt),
            1,
            "explicit={explicit}: policy no never restarts"
        );
        assert_summary(
            &ctl,
            "status=3 generation=1 exits=1 restarts=0 reason=daemon-exited",
        );
    }
}

/// §14.1: `--max-restarts N` gives up on the (N+1)-th consecutive failure:
/// exactly N+1 runs, the last run's status, reason=gave-up.
fn on_failure_gives_up_after_n_plus_one_runs(mode: Mode) {
    let dir = TestDir::new("give-up");
    let cnt = dir.join("count");
    let mut ctl = Ctl::builder(&dir, mode)
        .args([
            "--restart",
            "on-failure",
            "--max-restarts",
            "3",
            "--backoff",
            "10ms",
        ])
        .fixture(&["crash-n", cnt.to_str().unwrap(), "100", "7"])
        .spawn();
    assert_eq!(
        ctl.wait_code(secs(T)),
        Ok(7),
        "the last run's status{}",
        ctl.context()
    );
    assert_eq!(
        runs(&cnt),
        4,
        "--max-restarts 3 means exactly 4 runs{}",
        ctl.context()
    );
    let crashes: Vec<String> = ctl
        .out_lines()
        .into_iter()
        .filter(|l| l.starts_with("crash "))
        .collect();
    assert_eq!(crashes, ["crash 1", "crash 2", "crash 3", "crash 4"]);
    assert!(
        ctl.stderr_lines()
            .iter()
            .any(|l| l.starts_with("ctlinit") && l.contains("giving up")),
        "giving up is logged (§8, §13){}",
        ctl.context()
    );
    assert_summary(
        &ctl,
        "status=7 generation=4 exits=4 restarts=3 reason=gave-up",
    );
    assert!(
        !ctl.pidfile.exists(),
        "the PID file is removed when ctlinit exits (§5)"
    );
}

/// Docker's spelling `on-failure:N` sets --max-restarts N; the default of 5
/// means 6 runs (§14.1).
fn on_failure_docker_spelling_and_default_max() {
    for (policy, want) in [("on-failure:2", 3u64), ("on-failure", 6)] {
        let dir = TestDir::new("docker-spelling");
        let cnt = dir.join("count");
        let mut ctl = Ctl::builder(&dir, Mode::Subreaper)
            .args(["--restart", policy, "--backoff", "1ms:8ms"])
            .fixture(&["crash-n", cnt.to_str().unwrap(), "100", "5"])
            .spawn();
        assert_eq!(ctl.wait_code(secs(T)), Ok(5), "{policy}{}", ctl.context());
        assert_eq!(runs(&cnt), want, "{policy}: runs");
        assert_summary(
            &ctl,
            &format!(
                "status=5 generation={want} exits={want} restarts={} reason=gave-up",
                want - 1
            ),
        );
    }
}

/// `on-failure` does not restart after a clean exit (status 0, or a status in
/// --success-exit, which also maps ctlinit's own status to 0).
fn on_failure_does_not_restart_clean_exits(mode: Mode) {
    for (code, extra) in [("0", None), ("3", Some("3"))] {
        let dir = TestDir::new("on-failure-clean");
        let cnt = dir.join("count");
        let mut b = Ctl::builder(&dir, mode).args(["--restart", "on-failure", "--backoff", "10ms"]);
        if let Some(e) = extra {
            b = b.args(["-e", e]);
        }
        let mut ctl = b
            .fixture(&["crash-n", cnt.to_str().unwrap(), "100", code])
            .spawn();
        assert_eq!(
            ctl.wait_code(secs(T)),
            Ok(0),
            "exit {code} with -e {extra:?}{}",
            ctl.context()
        );
        assert_eq!(
            runs(&cnt),
            1,
            "exit {code}: a clean exit is not restarted under on-failure"
        );
        assert_summary(
            &ctl,
            "status=0 generation=1 exits=1 restarts=0 reason=daemon-exited",
        );
    }
}

/// `on-failure` restarts failures until the daemon stays up; a TERM then
/// stops it with no further restart.
fn on_failure_recovers_then_stops(mode: Mode) {
    let dir = TestDir::new("recovers");
    let cnt = dir.join("count");
    let mut ctl = Ctl::builder(&dir, mode)
        .args(["--restart", "on-failure", "--backoff", "10ms"])
        .fixture(&["crash-n", cnt.to_str().unwrap(), "2", "1"])
        .spawn();
    ok(ctl.wait_ready_pid(secs(T)));
    let v = wait_gen_ready(&ctl, 3, T);
    assert_eq!(
        (v["exits"].as_u64(), v["restarts"].as_u64()),
        (Some(2), Some(2)),
        "PID file: {v}"
    );
    assert_eq!(v["last_exit"]["status"], 1, "PID file: {v}");
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(143));
    assert_eq!(runs(&cnt), 3);
    assert_summary(
        &ctl,
        "status=143 generation=3 exits=3 restarts=2 reason=stopped",
    );
}

/// `always` restarts clean exits too, and they never count as failures: with
/// --max-restarts 1, three clean exits in a row do not make ctlinit give up.
/// A status in --success-exit is a clean exit as well.
fn always_restarts_clean_exits_without_giving_up(mode: Mode) {
    for (code, extra) in [("0", None), ("3", Some("3"))] {
        let dir = TestDir::new("always-clean");
        let cnt = dir.join("count");
        let mut b = Ctl::builder(&dir, mode).args([
            "--restart",
            "always",
            "--max-restarts",
            "1",
            "--backoff",
            "10ms",
        ]);
        if let Some(e) = extra {
            b = b.args(["-e", e]);
        }
        let mut ctl = b
            .fixture(&["crash-n", cnt.to_str().unwrap(), "3", code])
            .spawn();
        let v = wait_gen_ready(&ctl, 4, T);
        assert_eq!(
            (v["exits"].as_u64(), v["restarts"].as_u64()),
            (Some(3), Some(3)),
            "exit {code}: PID file: {v}"
        );
        // The PID file says ready at spawn (--ready none): wait for the run itself.
        ok(ctl.wait_ready_pid(secs(T)));
        assert_eq!(
            runs(&cnt),
            4,
            "exit {code}: three clean exits, each restarted"
        );
        ctl.signal(libc::SIGTERM);
        assert_eq!(ctl.wait_code(secs(T)), Ok(143), "exit {code}");
        assert_summary(
            &ctl,
            "status=143 generation=4 exits=4 restarts=3 reason=stopped",
        );
    }
}

/// `always` also restarts failures, and gives up on them like on-failure.
fn always_gives_up_on_failures() {
    let dir = TestDir::new("always-fail");
    let cnt = dir.join("count");
    let mut ctl = Ctl::builder(&dir, Mode::Subreaper)
        .args([
            "--restart",
            "always",
            "--max-restarts",
            "2",
            "--backoff",
            "10ms",
        ])
        .fixture(&["crash-n", cnt.to_str().unwrap(), "100", "9"])
        .spawn();
    assert_eq!(ctl.wait_code(secs(T)), Ok(9), "{}", ctl.context());
    assert_eq!(runs(&cnt), 3);
    assert_summary(
        &ctl,
        "status=9 generation=3 exits=3 restarts=2 reason=gave-up",
    );
}

// ------------------------------------------------------------------ 2. backoff

/// §14.2: the first restart waits MIN, each further quick failure doubles it,
/// capped at MAX. With --backoff 100ms:400ms the gaps between starts are
/// about 100, 200, 400, 400, 400 ms (plus the run time).
fn backoff_doubles_up_to_max(mode: Mode) {
    let dir = TestDir::new("backoff");
    let script = r#"echo "start $CTLINIT_GENERATION $(date +%s%N)" >> "$FIXTURE_OUT"; exit 1"#;
    let mut ctl = Ctl::builder(&dir, mode)
        .args([
            "--restart",
            "on-failure",
            "--max-restarts",
            "5",
            "--backoff",
            "100ms:400ms",
        ])
        .args(["sh", "-c", script])
        .spawn();
    assert_eq!(ctl.wait_code(secs(20.0)), Ok(1), "{}", ctl.context());
    assert_summary(
        &ctl,
        "status=1 generation=6 exits=6 restarts=5 reason=gave-up",
    );
    let starts = stamped(&ctl, "start");
    let gens: Vec<u64> = starts.iter().map(|s| s.0).collect();
    assert_eq!(
        gens,
        [1, 2, 3, 4, 5, 6],
        "one start per generation{}",
        ctl.context()
    );
    let gaps: Vec<f64> = starts.windows(2).map(|w| w[1].1 - w[0].1).collect();
    let want = [100.0, 200.0, 400.0, 400.0, 400.0];
    for (i, (&got, &w)) in gaps.iter().zip(&want).enumerate() {
        assert!(
            got >= w * 0.95 && got <= w + 250.0,
            "gap {} (generation {} -> {}) was {got:.0} ms, expected about {w} ms; all gaps {gaps:.0?}",
            i + 1,
            i + 1,
            i + 2
        );
    }
    assert!(
        gaps[1] > gaps[0] + 50.0 && gaps[2] > gaps[1] + 100.0,
        "the backoff must grow: gaps {gaps:.0?}"
    );
    assert!(
        (gaps[4] - gaps[3]).abs() < 200.0,
        "the backoff is capped at MAX: gaps {gaps:.0?}"
    );
}

/// `--reset-after`: a run that lasted long enough resets the failure count
/// and the backoff. Runs 1 and 2 fail at once (backoff 300 ms, 600 ms),
/// run 3 fails after 1 s (> reset-after 700 ms): without the reset ctlinit
/// would give up (3 > --max-restarts 2); with it, it restarts after MIN, not
/// after 1.2 s. Run 4 stays up.
fn reset_after_resets_failures_and_backoff() {
    let dir = TestDir::new("reset-after");
    let script = r#"g=$CTLINIT_GENERATION; o=$FIXTURE_OUT
echo "start $g $(date +%s%N)" >> "$o"
if [ "$g" = 3 ]; then sleep 1; echo "end $g $(date +%s%N)" >> "$o"; exit 1; fi
if [ "$g" -ge 4 ]; then echo "ready $$" >> "$o"; exec sleep 600; fi
exit 1"#;
    let mut ctl = Ctl::builder(&dir, Mode::Subreaper)
        .args([
            "--restart",
            "on-failure",
            "--max-restarts",
            "2",
            "--backoff",
            "300ms:5s",
            "--reset-after",
            "700ms",
        ])
        .args(["sh", "-c", script])
        .spawn();
    let v = ok(ctl.wait_pidfile(|v| generation(v) >= 4, secs(15.0)));
    assert_eq!(generation(&v), 4, "{v}{}", ctl.context());
    ok(ctl.wait_ready_pid(secs(T)));
    let starts = stamped(&ctl, "start");
    let ends = stamped(&ctl, "end");
    assert_eq!(starts.len(), 4, "{starts:?}");
    assert_eq!(ends.len(), 1, "{ends:?}");
    let g1 = starts[1].1 - starts[0].1;
    let g2 = starts[2].1 - starts[1].1;
    let after_long = starts[3].1 - ends[0].1;
    assert!(
        (285.0..=600.0).contains(&g1),
        "first backoff {g1:.0} ms, expected about 300"
    );
    assert!(
        (570.0..=950.0).contains(&g2),
        "second backoff {g2:.0} ms, expected about 600 (doubled)"
    );
    assert!(
        (250.0..=800.0).contains(&after_long),
        "after a run longer than --reset-after the backoff is MIN again: waited {after_long:.0} ms (1200 without the reset)"
    );
    let v = ok(ctl.read_pidfile_json());
    assert_eq!(
        (v["exits"].as_u64(), v["restarts"].as_u64()),
        (Some(3), Some(3)),
        "{v}"
    );
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(143));
    assert_summary(
        &ctl,
        "status=143 generation=4 exits=4 restarts=3 reason=stopped",
    );
}

/// §8, §14.2: a restart request (the reload signal) during a long backoff
/// starts the next generation at once.
fn restart_request_during_backoff_starts_at_once(mode: Mode) {
    let dir = TestDir::new("backoff-request");
    let cnt = dir.join("count");
    let mut ctl = Ctl::builder(&dir, mode)
        .args([
            "--restart",
            "on-failure",
            "--backoff",
            "30s",
            "--reload-signal",
            "HUP",
        ])
        .fixture(&["crash-n", cnt.to_str().unwrap(), "1", "1"])
        .spawn();
    let v = ok(ctl.wait_state("backoff", secs(T)));
    assert_eq!(v["pid"], Value::Null, "no pid in backoff (§5): {v}");
    assert_eq!((generation(&v), v["exits"].as_u64()), (1, Some(1)), "{v}");
    let t0 = Instant::now();
    ctl.signal(libc::SIGHUP);
    let v = ok(ctl.wait_pidfile(|v| generation(v) == 2, secs(5.0)));
    assert!(
        t0.elapsed() < secs(3.0),
        "the restart must not wait out the 30 s backoff: {:?}",
        t0.elapsed()
    );
    assert_eq!(v["restarts"], 1, "{v}");
    ok(ctl.wait_ready_pid(secs(T)));
    assert!(
        !ctl.out_lines().iter().any(|l| l.starts_with("signal ")),
        "HUP is the reload signal: never forwarded"
    );
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(143));
    assert_summary(
        &ctl,
        "status=143 generation=2 exits=2 restarts=1 reason=stopped",
    );
}

/// §14.3: TERM during backoff exits at once with the last run's status.
fn term_during_backoff_exits_at_once(mode: Mode) {
    let dir = TestDir::new("backoff-term");
    let cnt = dir.join("count");
    let mut ctl = Ctl::builder(&dir, mode)
        .args(["--restart", "on-failure", "--backoff", "30s"])
        .fixture(&["crash-n", cnt.to_str().unwrap(), "1", "7"])
        .spawn();
    ok(ctl.wait_state("backoff", secs(T)));
    let t0 = Instant::now();
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(7), "{}", ctl.context());
    assert!(
        t0.elapsed() < secs(2.0),
        "exit at once during backoff, took {:?}",
        t0.elapsed()
    );
    assert_eq!(runs(&cnt), 1);
    assert_summary(
        &ctl,
        "status=7 generation=1 exits=1 restarts=0 reason=stopped",
    );
}

// ------------------------------------------------------------------ 8. PID file

/// Everything a PID-file reader observed, and any rule it saw broken.
struct Observed {
    samples: usize,
    generations: Vec<u64>,
    states: Vec<String>,
    errors: Vec<String>,
}

/// Polls the PID file as fast as it can until `stop` is set, checking each
/// read against §5 / §14.8: valid JSON, generation never decreasing,
/// restarts == generation - 1, `backoff` has pid null and exits ==
/// restarts + 1, `starting`/`ready` have a pid and exits == restarts, and
/// once written the file stays in place.
fn watch_pidfile(
    path: std::path::PathBuf,
    supervisor: i32,
    stop: Arc<AtomicBool>,
) -> thread::JoinHandle<Observed> {
    thread::spawn(move || {
        let mut o = Observed {
            samples: 0,
            generations: vec![],
            states: vec![],
            errors: vec![],
        };
        let mut last_gen = 0;
        let mut seen = false;
        while !stop.load(Ordering::SeqCst) {
            let text = match fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) => {
                    if seen {
                        o.errors
                            .push(format!("the PID file vanished while ctlinit runs: {e}"));
                    }
                    thread::sleep(Duration::from_micros(200));
                    continue;
                }
            };
            seen = true;
            o.samples += 1;
            let v: Value = match serde_json::from_str(&text) {
                Ok(v) => v,
                Err(e) => {
                    o.errors.push(format!("invalid JSON ({e}): {text:?}"));
                    continue;
                }
            };
            let g = generation(&v);
            let (exits, restarts) = (v["exits"].as_u64(), v["restarts"].as_u64());
            let state = v["state"].as_str().unwrap_or("?").to_owned();
            let mut bad = |why: &str| o.errors.push(format!("{why}: {text}"));
            if !text.ends_with('\n') || text.trim_end().contains('\n') {
                bad("not one line");
            }
            if g < last_gen {
                bad(&format!("generation went back from {last_gen}"));
            }
            if g == 0 || restarts != Some(g - 1) {
                bad("restarts != generation - 1");
            }
            if v["supervisor_pid"] != supervisor {
                bad(&format!("supervisor_pid is not {supervisor}"));
            }
            match state.as_str() {
                "backoff" => {
                    if !v["pid"].is_null() {
                        bad("backoff with a pid");
                    }
                    if exits != restarts.map(|r| r + 1) {
                        bad("backoff: exits != restarts + 1");
                    }
                }
                "starting" | "ready" => {
                    if !v["pid"].is_i64() {
                        bad("starting/ready without a pid");
                    }
                    if exits != restarts {
                        bad("starting/ready: exits != restarts");
                    }
                }
                "stopping" => {}
                _ => bad("unknown state"),
            }
            if exits.unwrap_or(0) > 0 && !v["last_exit"]["status"].is_i64() {
                bad("exits > 0 but no last_exit.status");
            }
            if exits == Some(0) && !v["last_exit"].is_null() {
                bad("last_exit before the first exit");
            }
            last_gen = last_gen.max(g);
            if o.generations.last() != Some(&g) {
                o.generations.push(g);
            }
            if !o.states.contains(&state) {
                o.states.push(state);
            }
            thread::sleep(Duration::from_micros(200));
        }
        o
    })
}

/// A daemon that fails at once, restarted with a 5–20 ms backoff: dozens of
/// generations in two seconds, every read of the PID file truthful.
fn pidfile_truthful_during_crash_storm(mode: Mode) {
    let dir = TestDir::new("pidfile-crash-storm");
    let mut ctl = Ctl::builder(&dir, mode)
        .args([
            "--restart",
            "on-failure",
            "--max-restarts",
            "0",
            "--backoff",
            "5ms:20ms",
        ])
        .fixture(&["exit", "1"])
        .spawn();
    let stop = Arc::new(AtomicBool::new(false));
    let reader = watch_pidfile(ctl.pidfile.clone(), ctl.ns_pid(), stop.clone());
    ok(ctl.wait_pidfile(|v| generation(v) >= 40, secs(20.0)));
    stop.store(true, Ordering::SeqCst);
    let o = reader.join().expect("reader thread");
    let last = ok(ctl.read_pidfile_json());
    ctl.signal(libc::SIGTERM);
    let code = ok(ctl.wait_code(secs(T)));
    assert!(
        code == 1 || code == 143,
        "the last run's status: 1, or 143 if TERM caught a run: {code}"
    );
    let summary = ctl.summary_line().unwrap_or_default();
    assert!(summary.ends_with("reason=stopped"), "{summary}");
    assert!(
        o.errors.is_empty(),
        "{} of {} reads broke the rules:\n{}",
        o.errors.len(),
        o.samples,
        o.errors.join("\n")
    );
    assert!(
        o.samples > 200 && o.generations.len() >= 10,
        "the reader saw too little: {} reads, {:?}",
        o.samples,
        o.generations
    );
    assert!(
        o.states.iter().any(|s| s == "backoff"),
        "states seen: {:?}",
        o.states
    );
    assert_eq!(
        last["last_exit"],
        serde_json::json!({"code":1,"signal":null,"status":1,"oom_kill":false}),
        "{last}"
    );
}

/// A live daemon restarted by a stream of reload signals: every read of the
/// PID file truthful, generations only grow.
fn pidfile_truthful_during_reload_storm() {
    let dir = TestDir::new("pidfile-reload-storm");
    let mut ctl = Ctl::builder(&dir, Mode::Subreaper)
        .args(["--reload-signal", "HUP"])
        .fixture(&["sigprint"])
        .spawn();
    ok(ctl.wait_ready_pid(secs(T)));
    let stop = Arc::new(AtomicBool::new(false));
    let reader = watch_pidfile(ctl.pidfile.clone(), ctl.pid, stop.clone());
    let t0 = Instant::now();
    while t0.elapsed() < secs(2.0) {
        ctl.signal(libc::SIGHUP);
        thread::sleep(Duration::from_millis(7));
    }
    ok(ctl.wait_state("ready", secs(T)));
    thread::sleep(Duration::from_millis(100));
    stop.store(true, Ordering::SeqCst);
    let o = reader.join().expect("reader thread");
    let last = ok(ctl.read_pidfile_json());
    assert!(
        o.errors.is_empty(),
        "{} of {} reads broke the rules:\n{}",
        o.errors.len(),
        o.samples,
        o.errors.join("\n")
    );
    assert!(
        generation(&last) >= 5,
        "the storm restarted the daemon: {last}"
    );
    assert!(
        o.samples > 200 && o.generations.len() >= 5,
        "the reader saw too little: {} reads, {:?}",
        o.samples,
        o.generations
    );
    assert_eq!(
        ready_lines(&ctl) as u64,
        generation(&last),
        "one fixture start per generation"
    );
    assert!(
        !ctl.out_lines().iter().any(|l| l == "signal 1"),
        "the reload signal is never forwarded"
    );
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(143));
}

both_modes!(
    policy_no_exits_with_the_daemons_status,
    on_failure_gives_up_after_n_plus_one_runs,
    on_failure_does_not_restart_clean_exits,
    on_failure_recovers_then_stops,
    always_restarts_clean_exits_without_giving_up,
    backoff_doubles_up_to_max,
    restart_request_during_backoff_starts_at_once,
    term_during_backoff_exits_at_once,
    pidfile_truthful_during_crash_storm,
);

#[test]
fn on_failure_docker_spelling_and_default_max_restarts() {
    on_failure_docker_spelling_and_default_max();
}

#[test]
fn always_gives_up_on_repeated_failures() {
    always_gives_up_on_failures();
}

#[test]
fn reset_after_resets_the_failure_count_and_backoff() {
    reset_after_resets_failures_and_backoff();
}

#[test]
fn pidfile_stays_truthful_during_a_reload_storm() {
    pidfile_truthful_during_reload_storm();
}
