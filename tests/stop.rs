//! SPEC §4 stopping: grace then SIGKILL to the group, a second stop signal
//! kills at once, the whole tree is stopped before ctlinit exits under one
//! deadline, nothing left -> exit at once; §14.3 stop during backoff; §14.13
//! daemon exits leaving processes behind.

#[macro_use]
mod common;

use common::*;
use std::time::Instant;

const T: f64 = 10.0;

/// A daemon that ignores TERM is SIGKILLed at --stop-timeout (all spellings).
fn term_ignored_killed_at_stop_timeout(mode: Mode) {
    let variants: [(&[&str], Option<&str>, f64); 3] = [
        (&["--stop-timeout", "1s"], None, 1.0),
        (&["--stop-timeout", "0.5"], None, 0.5),
        (&[], Some("1500ms"), 1.5),
    ];
    for (args, env, grace) in variants {
        let dir = TestDir::new("term-ignored");
        let mut b = Ctl::builder(&dir, mode).args(args);
        if let Some(v) = env {
            b = b.env("CTLINIT_STOP_TIMEOUT", v);
        }
        let mut ctl = b.fixture(&["ignore-term"]).spawn();
        ctl.wait_ready_pid(secs(T)).unwrap();
        let t0 = Instant::now();
        ctl.signal(libc::SIGTERM);
        assert_eq!(
            ctl.wait_code(secs(T + grace)),
            Ok(137),
            "{args:?} {env:?}: killed by SIGKILL -> 137"
        );
        assert_between(
            &format!("stop with grace {grace}s"),
            t0.elapsed(),
            secs(grace * 0.8),
            secs(grace + 3.0),
        );
        assert!(
            ctl.stderr_lines()
                .iter()
                .any(|l| l.starts_with("ctlinit") && l.contains("kill")),
            "the SIGKILL after the timeout is logged (§13){}",
            ctl.context()
        );
        assert_summary(
            &ctl,
            "status=137 generation=1 exits=1 restarts=0 reason=stopped",
        );
    }
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
    assert!(
        t0.elapsed() < secs(3.0),
        "second TERM must kill at once, took {:?}",
        t0.elapsed()
    );
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
    let t0 = Instant::now();
    ctl.signal(libc::SIGINT);
    assert_eq!(ctl.wait_code(secs(T)), Ok(137));
    assert!(
        t0.elapsed() < secs(3.0),
        "a second stop signal must kill at once, took {:?}",
        t0.elapsed()
    );
}

/// Nothing left after the daemon exits -> ctlinit exits at once, not after
/// the stop timeout (no fixed sleeps).
fn exits_at_once_when_nothing_is_left(mode: Mode) {
    let dir = TestDir::new("at-once");
    let mut ctl = Ctl::builder(&dir, mode)
        .args(["--stop-timeout", "30s"])
        .fixture(&["sigprint"])
        .spawn();
    ctl.wait_ready_pid(secs(T)).unwrap();
    let t0 = Instant::now();
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(143));
    assert!(
        t0.elapsed() < secs(1.5),
        "exit must follow the daemon's at once, took {:?}",
        t0.elapsed()
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
        let took = t0.elapsed();
        let lines = ctl.out_lines();
        assert!(
            lines.contains(&"grandchild term".to_owned()),
            "setsid={setsid}: the grandchild got the stop signal: {lines:?}"
        );
        assert!(
            lines.contains(&"grandchild cleanup done".to_owned()),
            "setsid={setsid}: ctlinit exited before the grandchild's cleanup finished: {lines:?}{}",
            ctl.context()
        );
        assert_between(
            &format!("setsid={setsid}: stop with a 1 s cleanup"),
            took,
            secs(0.9),
            secs(6.0),
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
    assert_between("stop with a straggler", t0.elapsed(), secs(0.8), secs(4.0));
    assert!(!ctl
        .out_lines()
        .contains(&"grandchild cleanup done".to_owned()));
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
    assert!(
        t0.elapsed() < secs(3.0),
        "the child dies on TERM, so no waiting for the deadline: {:?}",
        t0.elapsed()
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
        let t0 = Instant::now();
        ctl.signal(sig);
        assert_eq!(ctl.wait_code(secs(T)), Ok(3), "signal {sig}");
        assert!(
            t0.elapsed() < secs(2.0),
            "signal {sig}: exit at once during backoff, took {:?}",
            t0.elapsed()
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
    let readies = ctl
        .out_lines()
        .iter()
        .filter(|l| l.starts_with("ready "))
        .count();
    assert_eq!(readies, 1, "no restart once a stop began (§8)");
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
