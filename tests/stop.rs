//! SPEC §4 stopping: grace then SIGKILL to the group, a second stop signal
//! kills at once, the whole tree is stopped before ctlinit exits under one
//! deadline, nothing left -> exit at once; §14.3 stop during backoff; §14.13
//! daemon exits leaving processes behind.
//!
//! Pattern 8 of STYLE.md: these tests assert what happened and in which order
//! (the daemon's signal log, ctlinit's log lines, the summary). "At once" is
//! the core's fake-clock business; here a wait is bounded only to turn a hang
//! into a failure, and where the point is a contract deadline (--stop-timeout)
//! the bounds are the contract's: never before the deadline, and not later
//! than the deadline plus a loose `MARGIN`. Measured times are printed as
//! `FIGURES` lines for the benchmark's reader.

#[macro_use]
mod common;

use common::*;
use std::time::Instant;

const T: f64 = 10.0;

/// A daemon that ignores TERM gets the TERM, then SIGKILL at --stop-timeout
/// (all spellings): never before the grace is over (the contract's lower
/// bound), and the log names the grace as configured.
fn term_ignored_killed_at_stop_timeout(mode: Mode) {
    let variants: [(&[&str], Option<&str>, f64, &str); 3] = [
        (&["--stop-timeout", "1s"], None, 1.0, "1s"),
        (&["--stop-timeout", "0.5"], None, 0.5, "500ms"),
        (&[], Some("1500ms"), 1.5, "1s 500ms"),
    ];
    for (args, env, grace, shown) in variants {
        let dir = TestDir::new("term-ignored");
        let mut b = Ctl::builder(&dir, mode).args(args);
        if let Some(v) = env {
            b = b.env("CTLINIT_STOP_TIMEOUT", v);
        }
        // sigprint --ignore-term logs the TERM it ignores: the order is visible.
        let mut ctl = b.fixture(&["sigprint", "--ignore-term"]).spawn();
        assert_term_killed_at_grace(&mut ctl, grace, shown);
    }
}

/// Asserts that the SIGKILL came from the second stop signal `name`, not
/// from the 30 s grace: the log says so, and says nothing of a timeout (the
/// wait for the exit, bounded by `T`, is shorter than the grace anyway).
fn assert_killed_by_second_signal(ctl: &Ctl, name: &str) {
    assert_eq!(
        kill_lines(ctl),
        [format!(
            "ctlinit: received {name} again while stopping: killing everything now"
        )],
        "the second stop signal, not the grace, ends the stop{}",
        ctl.context()
    );
    assert_in_order(
        &ctl.stderr_lines(),
        &[
            "): received SIGTERM",
            &format!("received {name} again while stopping"),
            "exited with status 137",
            "ctlinit: exit status=137 ",
        ],
        "stop, second signal, SIGKILL, exit",
        &ctl.context(),
    );
}

/// A second TERM while stopping sends SIGKILL at once.
fn second_term_kills_at_once(mode: Mode) {
    let dir = TestDir::new("second-term");
    let mut ctl = Ctl::builder(&dir, mode)
        .args(["--stop-timeout", "30s"])
        .fixture(&["ignore-term"])
        .spawn();
    ctl.wait_ready_pid(secs(T)).unwrap();
    ctl.signal(libc::SIGTERM);
    ctl.wait_state("stopping", secs(T)).unwrap();
    let t0 = Instant::now();
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(137));
    eprintln!(
        "FIGURES stop {mode:?}: second_term_to_exit={:?}",
        t0.elapsed()
    );
    assert_killed_by_second_signal(&ctl, "SIGTERM");
    assert_summary(
        &ctl,
        "status=137 generation=1 exits=1 restarts=0 reason=stopped",
    );
}

/// TERM then INT (any second stop signal) kills at once too.
fn second_stop_signal_of_another_kind_kills_at_once(mode: Mode) {
    let dir = TestDir::new("second-int");
    // sigprint --ignore-term logs TERM and keeps running; INT would make it
    // exit 130 — but -r INT:0 keeps INT from reaching it, so only ctlinit's
    // SIGKILL can end it.
    let mut ctl = Ctl::builder(&dir, mode)
        .args(["--stop-timeout", "30s", "-r", "INT:0"])
        .fixture(&["sigprint", "--ignore-term"])
        .spawn();
    ctl.wait_ready_pid(secs(T)).unwrap();
    ctl.signal(libc::SIGTERM);
    ctl.wait_out(|l| l == "signal 15", secs(T)).unwrap();
    ctl.wait_state("stopping", secs(T)).unwrap();
    ctl.signal(libc::SIGINT);
    assert_eq!(ctl.wait_code(secs(T)), Ok(137));
    assert_killed_by_second_signal(&ctl, "SIGINT");
    let lines = ctl.out_lines();
    assert_eq!(
        count_lines(&lines, "signal 2"),
        0,
        "-r INT:0 dropped the INT: only ctlinit's SIGKILL ended the daemon: {lines:?}"
    );
}

/// Nothing left after the daemon exits -> ctlinit exits then, not after the
/// stop timeout (no fixed sleeps): the daemon's exit is the last thing
/// before the summary, nothing was killed, and the exit came well inside the
/// 30 s grace (the wait is bounded by `T`).
fn exits_at_once_when_nothing_is_left(mode: Mode) {
    let dir = TestDir::new("at-once");
    let mut ctl = Ctl::builder(&dir, mode)
        .args(["--stop-timeout", "30s"])
        .fixture(&["sigprint"])
        .spawn();
    let daemon = ctl.wait_ready_pid(secs(T)).unwrap();
    let t0 = Instant::now();
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(143));
    eprintln!("FIGURES stop {mode:?}: term_to_exit={:?}", t0.elapsed());
    assert_eq!(
        ctl.out_lines(),
        [format!("ready {daemon}"), "signal 15".to_owned()]
    );
    assert!(
        kill_lines(&ctl).is_empty(),
        "nothing to kill{}",
        ctl.context()
    );
    let log = ctl.stderr_lines();
    let n = log.len();
    assert!(
        n >= 2
            && log[n - 2].contains(&format!(
                "generation 1 (pid {daemon}) exited with status 143"
            )),
        "the daemon's exit is followed by the summary and nothing else{}",
        ctl.context()
    );
    assert_summary(
        &ctl,
        "status=143 generation=1 exits=1 restarts=0 reason=stopped",
    );
}

/// A grandchild that traps TERM and needs 1 s of cleanup finishes it before
/// ctlinit exits (it gets the stop signal in the sweep, §4), whether it stayed
/// in the daemon's group or left it with setsid.
fn grandchild_cleanup_finishes_before_exit(mode: Mode) {
    for setsid in [false, true] {
        let dir = TestDir::new("gc-cleanup");
        let mut fx = vec!["grandchild-trap", "1"];
        if setsid {
            fx.push("--setsid");
        }
        let mut ctl = Ctl::builder(&dir, mode)
            .args(["--stop-timeout", "8s"])
            .fixture(&fx)
            .spawn();
        ctl.wait_ready_pid(secs(T)).unwrap();
        let t0 = Instant::now();
        ctl.signal(libc::SIGTERM);
        assert_eq!(
            ctl.wait_code(secs(T)),
            Ok(0),
            "setsid={setsid}: the daemon's own status (it exits 0 on TERM)"
        );
        eprintln!(
            "FIGURES stop {mode:?} setsid={setsid}: term_to_exit={:?} (1 s cleanup)",
            t0.elapsed()
        );
        let lines = ctl.out_lines();
        assert_in_order(
            &lines,
            &["ready ", "grandchild term", "grandchild cleanup done"],
            &format!(
                "setsid={setsid}: the grandchild got the stop signal and finished its \
                 cleanup before ctlinit exited"
            ),
            &ctl.context(),
        );
        assert!(
            kill_lines(&ctl).is_empty(),
            "setsid={setsid}: the cleanup finished inside the 8 s grace: nothing is killed{}",
            ctl.context()
        );
        assert_summary(
            &ctl,
            "status=0 generation=1 exits=1 restarts=0 reason=stopped",
        );
    }
}

/// One deadline covers the whole stop: a grandchild whose cleanup outlasts
/// --stop-timeout is SIGKILLed at the deadline, counted from the TERM.
fn straggler_killed_at_the_one_deadline(mode: Mode) {
    let dir = TestDir::new("gc-slow");
    let mut ctl = Ctl::builder(&dir, mode)
        .args(["--stop-timeout", "1s"])
        .fixture(&["grandchild-trap", "60"])
        .spawn();
    let pids = ctl.wait_out_pids("ready", secs(T)).unwrap();
    let gc_host = ctl.host_pid(pids[1]).expect("grandchild's host pid");
    let t0 = Instant::now();
    ctl.signal(libc::SIGTERM);
    ctl.wait_out(|l| l == "grandchild term", secs(T)).unwrap();
    assert_eq!(
        ctl.wait_code(secs(T)),
        Ok(0),
        "the daemon's status, even though a straggler had to be killed (§14.13)"
    );
    // The one deadline, counted from the TERM.
    assert_deadline(
        &format!("stop {mode:?}: TERM to the straggler's SIGKILL and exit"),
        t0.elapsed(),
        1.0,
    );
    assert!(!ctl
        .out_lines()
        .contains(&"grandchild cleanup done".to_owned()));
    assert_eq!(
        kill_lines(&ctl),
        ["ctlinit: killing the daemon's remaining processes after stop timeout 1s"],
        "the daemon exited on TERM; only the straggler is killed, at the deadline{}",
        ctl.context()
    );
    wait_until(
        &format!("the grandchild (host pid {gc_host}) to be gone"),
        secs(3.0),
        || (!alive(gc_host)).then_some(()),
        String::new,
    )
    .unwrap();
}

/// §14.13: the daemon dies on its own leaving a child; ctlinit stops the child
/// and exits with the daemon's status at once (the child dies on TERM).
fn daemon_death_leaves_child_which_is_stopped(mode: Mode) {
    let dir = TestDir::new("leftover");
    let mut ctl = Ctl::builder(&dir, mode)
        .args(["--stop-timeout", "20s"])
        .fixture(&["fork-sleep"])
        .spawn();
    let pids = ctl.wait_out_pids("ready", secs(T)).unwrap();
    let daemon = ctl.host_pid(pids[0]).expect("daemon host pid");
    let child = ctl.host_pid(pids[1]).expect("child host pid");
    let t0 = Instant::now();
    signal_pid(daemon, libc::SIGKILL);
    assert_eq!(
        ctl.wait_code(secs(T)),
        Ok(137),
        "the daemon's status: 128+9"
    );
    eprintln!(
        "FIGURES stop {mode:?} leftover child: kill_to_exit={:?}",
        t0.elapsed()
    );
    // The child dies of the stop signal, so nothing waits for the 20 s
    // deadline (the wait above is bounded by T, below it) and nothing is
    // SIGKILLed by ctlinit.
    assert!(
        kill_lines(&ctl).is_empty(),
        "the child died of TERM; no SIGKILL at the deadline{}",
        ctl.context()
    );
    wait_until(
        &format!("the daemon's child (host pid {child}) to be gone"),
        secs(3.0),
        || (!alive(child)).then_some(()),
        String::new,
    )
    .unwrap();
    assert_summary(
        &ctl,
        "status=137 generation=1 exits=1 restarts=0 reason=daemon-exited",
    );
}

/// §4, §14.3: a stop request during backoff exits at once with the last
/// run's status, reason=stopped.
fn stop_during_backoff_exits_at_once(mode: Mode) {
    for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGQUIT] {
        let dir = TestDir::new("backoff-stop");
        let mut ctl = Ctl::builder(&dir, mode)
            .args(["--restart", "always", "--backoff", "30s"])
            .fixture(&["exit", "3"])
            .spawn();
        let v = ctl.wait_state("backoff", secs(T)).unwrap();
        assert_eq!(v["pid"], Value::Null, "no pid in backoff (§5): {v}");
        ctl.signal(sig);
        // Bounded by T, far below the 30 s backoff: it was not waited out.
        assert_eq!(ctl.wait_code(secs(T)), Ok(3), "signal {sig}");
        let name = match sig {
            libc::SIGTERM => "SIGTERM",
            libc::SIGINT => "SIGINT",
            _ => "SIGQUIT",
        };
        assert_in_order(
            &ctl.stderr_lines(),
            &[
                "exited with status 3",
                "restarting in 30s ",
                &format!("received {name} during backoff: not restarting"),
                "ctlinit: exit status=3 ",
            ],
            &format!("signal {sig}: the stop ends the backoff, no generation 2"),
            &ctl.context(),
        );
        assert!(
            !ctl.stderr_text().contains("started generation 2"),
            "signal {sig}: no generation after the stop{}",
            ctl.context()
        );
        assert_summary(
            &ctl,
            "status=3 generation=1 exits=1 restarts=0 reason=stopped",
        );
    }
}

/// A stop while the daemon runs under a restart policy: no restart.
fn stop_under_restart_always_does_not_restart(mode: Mode) {
    let dir = TestDir::new("stop-always");
    let mut ctl = Ctl::builder(&dir, mode)
        .args([
            "--restart",
            "always",
            "--backoff",
            "10ms",
            "--stop-timeout",
            "1s",
        ])
        .fixture(&["ignore-term"])
        .spawn();
    ctl.wait_ready_pid(secs(T)).unwrap();
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(137));
    assert_eq!(ready_lines(&ctl), 1, "no restart once a stop began (§8)");
    assert_summary(
        &ctl,
        "status=137 generation=1 exits=1 restarts=0 reason=stopped",
    );
}

both_modes!(
    term_ignored_killed_at_stop_timeout,
    second_term_kills_at_once,
    second_stop_signal_of_another_kind_kills_at_once,
    exits_at_once_when_nothing_is_left,
    grandchild_cleanup_finishes_before_exit,
    straggler_killed_at_the_one_deadline,
    daemon_death_leaves_child_which_is_stopped,
    stop_during_backoff_exits_at_once,
    stop_under_restart_always_does_not_restart,
);
