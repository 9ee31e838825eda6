//! Issue 6, scenario 5: a stop (TERM) arriving at every phase of a restart,
//! restart requests arriving during a stop and during a handoff — as
//! subreaper and as PID 1.
//!
//! For every phase: ctlinit exits (never later than the stop deadline plus a
//! loose margin: a contract bound, not a speed one), never starts a
//! generation after the TERM (summary line, stderr, PID file), logs what the
//! stop did in order, and leaves no daemon behind — checked twice: every
//! daemon the PID file ever named (pid + start time, so PID reuse cannot fool
//! it) is gone, and no live process anywhere still carries this test's
//! `FIXTURE_OUT` in its environment. How fast it all happens is measured
//! (`FIGURES` lines) and left to the benchmark.
//!
//! `CTLINIT_SOAK=1` repeats the tightest race (TERM right after the spawn)
//! 200 times per mode instead of 5.

#[macro_use]
mod common;
mod reliability_support;

use common::*;
use reliability_support::*;
use std::net::TcpListener;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

const T: f64 = 10.0;
/// --stop-timeout used throughout. The contract's bound on a stop: SIGKILL at
/// the stop deadline, then exit, within `MARGIN` (common) of it.
const STOP: f64 = 2.0;

/// Records every daemon the PID file names, as it appears (every 0.2 ms).
struct DaemonWatch {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<Vec<(u64, ProcId)>>>,
}

impl DaemonWatch {
    fn start(ctl: &Ctl) -> DaemonWatch {
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, path, mode, pid) = (stop.clone(), ctl.pidfile.clone(), ctl.mode, ctl.pid);
        let handle = thread::spawn(move || {
            let mut seen: Vec<(u64, ProcId)> = Vec::new();
            while !flag.load(Ordering::Relaxed) {
                if let Ok(v) = read_json(&path) {
                    let g = v["generation"].as_u64().unwrap_or(0);
                    if let Some(ns) = v["pid"].as_i64() {
                        if !seen.iter().any(|(sg, _)| *sg == g) {
                            if let Some(id) =
                                host_pid_below(mode, pid, ns as i32).and_then(ProcId::of)
                            {
                                seen.push((g, id));
                            }
                        }
                    }
                }
                thread::sleep(Duration::from_micros(200));
            }
            seen
        });
        DaemonWatch {
            stop,
            handle: Some(handle),
        }
    }

    fn finish(mut self) -> Vec<(u64, ProcId)> {
        self.stop.store(true, Ordering::Relaxed);
        self.handle
            .take()
            .map(|h| h.join().expect("daemon watch"))
            .unwrap_or_default()
    }
}

impl Drop for DaemonWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn start(dir: &TestDir, mode: Mode, args: &[&str], command: &[String]) -> Ctl {
    Ctl::builder(dir, mode)
        .args(["--stop-timeout", "2s"])
        .args(args)
        .arg("--")
        .args(command)
        .spawn()
}

fn fixture(args: &[&str]) -> Vec<String> {
    std::iter::once(fixture_str())
        .chain(args.iter().map(|a| a.to_string()))
        .collect()
}

fn sh(script: &str) -> Vec<String> {
    vec!["sh".into(), "-c".into(), script.into(), fixture_str()]
}

/// After the TERM sent at `t_term`: ctlinit exits (no later than the stop
/// deadline plus `MARGIN`) with `summary`, started nothing after generation
/// `last_gen`, and left no daemon running.
fn assert_clean_stop(
    ctl: &mut Ctl,
    watch: DaemonWatch,
    t_term: Instant,
    summary: &str,
    last_gen: u64,
    what: &str,
) {
    let limit = secs(STOP + MARGIN);
    let code = ctl.wait_code(limit.saturating_sub(t_term.elapsed()) + POLL);
    let took = t_term.elapsed();
    let daemons = watch.finish();
    eprintln!(
        "FIGURES races {what} {:?}: term_to_exit={took:?} generations_seen={}",
        ctl.mode,
        daemons.len()
    );
    assert!(
        code.is_ok(),
        "{what}: ctlinit did not exit within {limit:?} of the TERM: {code:?}"
    );
    assert_summary(ctl, summary);
    let next = format!("started generation {} ", last_gen + 1);
    assert!(
        !ctl.stderr_text().contains(&next),
        "{what}: a generation was started after the stop{}",
        ctl.context()
    );
    for (g, id) in &daemons {
        assert!(
            *g <= last_gen,
            "{what}: the PID file named generation {g} after the stop"
        );
        assert!(
            !id.running(),
            "{what}: daemon of generation {g} (host pid {}) left running",
            id.pid
        );
    }
    let left = processes_with_env("FIXTURE_OUT", &s(&ctl.out));
    assert!(
        left.is_empty(),
        "{what}: processes of the daemon's tree left running: {left:?}"
    );
}

fn hup(ctl: &mut Ctl) {
    ctl.signal(libc::SIGHUP);
}

fn wait_gen(ctl: &Ctl, g: u64, state: &str) -> Value {
    wait_gen_state(ctl, g, state, secs(T))
}

// ------------------------------------------------------------------ TERM at each phase

/// During the old generation's grace, with a daemon that ignores the stop
/// signal for 0.3 s and then exits 0: the restart must not go on.
fn term_during_grace_brief(mode: Mode) {
    let dir = TestDir::new("race-grace-brief");
    let script = r#"trap 'echo term >> "$FIXTURE_OUT"; sleep 0.3; exit 0' TERM
echo "ready $$" >> "$FIXTURE_OUT"
while :; do sleep 0.05; done"#;
    let mut ctl = start(&dir, mode, &["--reload-signal", "HUP"], &sh(script));
    wait_gen(&ctl, 1, "ready");
    let watch = DaemonWatch::start(&ctl);
    hup(&mut ctl);
    ok(ctl.wait_out(|l| l == "term", secs(T)));
    ctl.signal(libc::SIGTERM);
    let t_term = Instant::now();
    // A restart request during the stop is ignored.
    hup(&mut ctl);
    assert_clean_stop(
        &mut ctl,
        watch,
        t_term,
        "status=0 generation=1 exits=1 restarts=0 reason=stopped",
        1,
        "grace (brief)",
    );
}

/// During the grace of a daemon that ignores TERM for good: the restart's
/// deadline is kept (one SIGKILL, at the deadline the restart set, not a new
/// one counted from the TERM), then exit. The order of what ctlinit did is
/// the evidence; the contract's bounds on the time are loose.
fn term_during_grace_forever(mode: Mode) {
    let dir = TestDir::new("race-grace-forever");
    let mut ctl = start(
        &dir,
        mode,
        &["--reload-signal", "HUP"],
        &fixture(&["sigprint", "--ignore-term"]),
    );
    wait_gen(&ctl, 1, "ready");
    let watch = DaemonWatch::start(&ctl);
    hup(&mut ctl);
    let t_restart = Instant::now();
    ok(ctl.wait_out(|l| l == "signal 15", secs(T)));
    ctl.signal(libc::SIGTERM);
    let t_term = Instant::now();
    hup(&mut ctl);
    assert_clean_stop(
        &mut ctl,
        watch,
        t_term,
        "status=137 generation=1 exits=1 restarts=0 reason=stopped",
        1,
        "grace (forever)",
    );
    // SIGKILL never before the deadline the restart set (contract).
    assert_deadline(
        &format!("races grace-forever {mode:?}: restart to SIGKILL and exit"),
        t_restart.elapsed(),
        STOP,
    );
    assert_eq!(
        count_lines(&ctl.out_lines(), "signal 15"),
        2,
        "stop signal, then the forwarded TERM{}",
        ctl.context()
    );
    let log = ctl.stderr_lines();
    assert_in_order(
        &log,
        &[
            "stopping generation 1 ",
            "received SIGTERM while generation 1 ",
            "killing process group ",
            "ctlinit: exit status=137",
        ],
        "restart stop, then the TERM joins it, then one SIGKILL at its deadline",
        &ctl.context(),
    );
    assert_eq!(
        log.iter().filter(|l| l.contains("killing")).count(),
        1,
        "one deadline, one SIGKILL{}",
        ctl.context()
    );
}

/// During the port wait before the next generation: the port is held by a
/// listener of this test, released right after the TERM — ctlinit must not
/// take the freed port for a new generation.
fn term_during_port_wait(mode: Mode) {
    let dir = TestDir::new("race-port-wait");
    let p = port(1);
    let ps = p.to_string();
    let mut ctl = start(
        &dir,
        mode,
        &[
            "--reload-signal",
            "HUP",
            "--port",
            &ps,
            "--ready",
            "none",
            "--port-timeout",
            "10s",
        ],
        &fixture(&["sigprint"]),
    );
    wait_gen(&ctl, 1, "ready");
    let watch = DaemonWatch::start(&ctl);
    let listener = TcpListener::bind(("127.0.0.1", p)).expect("bind the test's port");
    hup(&mut ctl);
    // Generation 1 is gone and the port is ours: ctlinit is in its port wait.
    ok(ctl.wait_pidfile(
        |v| v["generation"] == 1 && v["state"] == "backoff" && v["exits"] == 1,
        secs(T),
    ));
    ctl.signal(libc::SIGTERM);
    let t_term = Instant::now();
    // The port stays taken until ctlinit has exited: the TERM alone must end
    // the wait (freeing it earlier would let a probe that ran before the
    // TERM was read spawn generation 2, which is a different race).
    assert_clean_stop(
        &mut ctl,
        watch,
        t_term,
        "status=143 generation=1 exits=1 restarts=0 reason=stopped",
        1,
        "port wait",
    );
    drop(listener);
    // Exit "at once" is the core's (fake-clock) business; here: the stop was
    // taken as one between generations, well before the 10 s port wait ends
    // (assert_clean_stop's bound is shorter than --port-timeout).
    assert!(
        ctl.stderr_lines().iter().any(|l| {
            l.starts_with("ctlinit: received SIGTERM")
                && (l.ends_with("before the next generation started: exiting")
                    || l.ends_with("during backoff: not restarting"))
        }),
        "the TERM ended the wait between generations{}",
        ctl.context()
    );
}

/// During a policy backoff: exit with the last run's status, without waiting
/// the backoff out (60 s: far beyond assert_clean_stop's bound).
fn term_during_backoff(mode: Mode) {
    let dir = TestDir::new("race-backoff");
    let mut ctl = start(
        &dir,
        mode,
        &["--restart", "always", "--backoff", "60s"],
        &fixture(&["exit", "1"]),
    );
    let watch = DaemonWatch::start(&ctl);
    ok(ctl.wait_pidfile(|v| v["state"] == "backoff" && v["exits"] == 1, secs(T)));
    ctl.signal(libc::SIGTERM);
    let t_term = Instant::now();
    assert_clean_stop(
        &mut ctl,
        watch,
        t_term,
        "status=1 generation=1 exits=1 restarts=0 reason=stopped",
        1,
        "backoff",
    );
    assert_in_order(
        &ctl.stderr_lines(),
        &[
            "restarting in 1m ",
            "received SIGTERM during backoff: not restarting",
            "ctlinit: exit status=1 ",
        ],
        "backoff, then the TERM ends it",
        &ctl.context(),
    );
}

/// Right after the spawn of the next generation: the TERM is sent the moment
/// the PID file names generation 2 (it may still be between fork and exec).
/// Repeated, since the window is small.
fn term_right_after_spawn(mode: Mode) {
    let rounds: usize = scaled(5, 200);
    for round in 0..rounds {
        let dir = TestDir::new("race-after-spawn");
        let mut ctl = start(
            &dir,
            mode,
            &["--reload-signal", "HUP"],
            &fixture(&["sigprint"]),
        );
        wait_gen(&ctl, 1, "ready");
        let watch = DaemonWatch::start(&ctl);
        hup(&mut ctl);
        // Tight poll (100 µs: well below the ~1 ms from fork to exec), bounded.
        let t0 = Instant::now();
        loop {
            if read_json(&ctl.pidfile).is_ok_and(|v| v["generation"] == 2) {
                break;
            }
            thread::sleep(Duration::from_micros(100));
            assert!(
                t0.elapsed() < secs(T),
                "generation 2 never appeared{}",
                ctl.context()
            );
        }
        ctl.signal(libc::SIGTERM);
        let t_term = Instant::now();
        assert_clean_stop(
            &mut ctl,
            watch,
            t_term,
            "status=143 generation=2 exits=2 restarts=1 reason=stopped",
            2,
            &format!("right after spawn, round {round}"),
        );
    }
}

/// While the next generation waits for readiness, with a restart request
/// already remembered for when it is ready: the stop wins, the remembered
/// restart is dropped.
fn term_during_readiness(mode: Mode) {
    let dir = TestDir::new("race-readiness");
    let script = r#"if [ "$CTLINIT_GENERATION" = 1 ]; then exec "$0" notify; fi
exec "$0" notify --delay-ms 60000"#;
    let mut ctl = start(
        &dir,
        mode,
        &["--reload-signal", "HUP", "--ready", "notify"],
        &sh(script),
    );
    wait_gen(&ctl, 1, "ready");
    let watch = DaemonWatch::start(&ctl);
    hup(&mut ctl);
    wait_gen(&ctl, 2, "starting");
    hup(&mut ctl);
    ok(ctl.wait_stderr(|l| l.contains("while generation 2 starts"), secs(T)));
    ctl.signal(libc::SIGTERM);
    let t_term = Instant::now();
    assert_clean_stop(
        &mut ctl,
        watch,
        t_term,
        "status=143 generation=2 exits=2 restarts=1 reason=stopped",
        2,
        "readiness wait",
    );
}

// ------------------------------------------------------------------ requests during a stop or a handoff

/// A restart request (reload signal, and `ctlinit restart` as a subreaper)
/// arriving during a container stop is ignored.
fn restart_request_during_stop_is_ignored(mode: Mode) {
    let dir = TestDir::new("race-request-in-stop");
    let mut ctl = start(
        &dir,
        mode,
        &["--reload-signal", "HUP"],
        &fixture(&["sigprint", "--ignore-term"]),
    );
    wait_gen(&ctl, 1, "ready");
    let watch = DaemonWatch::start(&ctl);
    ctl.signal(libc::SIGTERM);
    let t_term = Instant::now();
    ok(ctl.wait_out(|l| l == "signal 15", secs(T)));
    for _ in 0..10 {
        hup(&mut ctl);
    }
    let verb = (mode == Mode::Subreaper).then(|| {
        let mut c = ctlinit_cmd();
        c.args(["restart", "--timeout", "5s", "--pidfile"])
            .arg(&ctl.pidfile);
        c.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c.spawn().expect("spawn ctlinit restart")
    });
    assert_clean_stop(
        &mut ctl,
        watch,
        t_term,
        "status=137 generation=1 exits=1 restarts=0 reason=stopped",
        1,
        "request during stop",
    );
    if let Some(v) = verb {
        let o = wait_child(v, secs(T)).expect("ctlinit restart exits (its --timeout is 5s)");
        assert_eq!(
            o.status.code(),
            Some(1),
            "ctlinit restart during a stop: the supervisor exits, no new generation: {o:?}"
        );
    }
}

/// More requests while the old generation is being stopped for a restart (it
/// ignores TERM: a 2 s handoff): at most one more restart.
fn second_request_during_handoff_stop(mode: Mode) {
    let dir = TestDir::new("race-handoff-stop");
    let mut ctl = start(
        &dir,
        mode,
        &["--reload-signal", "HUP"],
        &fixture(&["sigprint", "--ignore-term"]),
    );
    wait_gen(&ctl, 1, "ready");
    hup(&mut ctl);
    ok(ctl.wait_out(|l| l == "signal 15", secs(T)));
    for _ in 0..5 {
        hup(&mut ctl);
    }
    let g = generation(&settle(&ctl, secs(STOP + 0.5), secs(20.0)));
    eprintln!("FIGURES races handoff-stop {mode:?}: generation after 1+5 requests = {g}");
    assert!(
        (2..=3).contains(&g),
        "requests during a handoff: generation {g}, expected 2 or 3{}",
        ctl.context()
    );
    let watch = DaemonWatch::start(&ctl);
    ctl.signal(libc::SIGTERM);
    let t_term = Instant::now();
    let summary = format!(
        "status=137 generation={g} exits={g} restarts={} reason=stopped",
        g - 1
    );
    assert_clean_stop(&mut ctl, watch, t_term, &summary, g, "after handoff (stop)");
}

/// More requests while the new generation waits for readiness (0.5 s): they
/// are remembered and cause exactly one more restart once it is ready.
fn second_request_during_handoff_start(mode: Mode) {
    let dir = TestDir::new("race-handoff-start");
    let script = r#"if [ "$CTLINIT_GENERATION" = 1 ]; then exec "$0" notify; fi
exec "$0" notify --delay-ms 500"#;
    let mut ctl = start(
        &dir,
        mode,
        &["--reload-signal", "HUP", "--ready", "notify"],
        &sh(script),
    );
    wait_gen(&ctl, 1, "ready");
    hup(&mut ctl);
    wait_gen(&ctl, 2, "starting");
    for _ in 0..5 {
        hup(&mut ctl);
    }
    let g = generation(&settle(&ctl, secs(1.5), secs(20.0)));
    eprintln!("FIGURES races handoff-start {mode:?}: generation after 1+5 requests = {g}");
    assert!(
        g <= 3,
        "requests during a handoff caused more than one more restart: generation {g}{}",
        ctl.context()
    );
    assert_eq!(
        g,
        3,
        "a request while starting is remembered and served once ready (README){}",
        ctl.context()
    );
    let watch = DaemonWatch::start(&ctl);
    ctl.signal(libc::SIGTERM);
    let t_term = Instant::now();
    assert_clean_stop(
        &mut ctl,
        watch,
        t_term,
        "status=143 generation=3 exits=3 restarts=2 reason=stopped",
        3,
        "after handoff (start)",
    );
}

both_modes!(
    term_during_grace_brief,
    term_during_grace_forever,
    term_during_port_wait,
    term_during_backoff,
    term_right_after_spawn,
    term_during_readiness,
    restart_request_during_stop_is_ignored,
    second_request_during_handoff_stop,
    second_request_during_handoff_start,
);
