//! The state machine driven the way the event loop drives it, on a fake clock
//! (a base `Instant` plus millisecond offsets). The `Driver` performs actions
//! symbolically: it records them, answers `Spawn` with `on_spawned`, answers
//! `LearnPorts` with the ports it pretends the daemon listens on, and checks
//! the PID-file invariants (SPEC §14.8) whenever the PID file would be written
//! and after every batch.

use super::*;
use crate::policy::RestartMode::{self, Always, No, OnFailure};
use libc::{SIGHUP, SIGINT, SIGKILL, SIGQUIT, SIGTERM, SIGUSR1};
use std::collections::VecDeque;
use Ended::{Code, Signal as Sig};

const WALL0: u64 = 1_763_900_000_000;
const FIRST_PID: i32 = 100;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn policy(mode: RestartMode, max_restarts: u32) -> Policy {
    Policy {
        mode,
        max_restarts,
        backoff_min: ms(100),
        backoff_max: ms(1000),
        reset_after: ms(30_000),
    }
}

fn settings(mode: RestartMode) -> Settings {
    Settings {
        policy: policy(mode, 5),
        stop_signal: SIGTERM,
        stop_timeout: ms(8000),
        ready: ReadyMode::None,
        ready_timeout: ms(30_000),
        port_timeout: ms(5000),
        ports: vec![],
        pgroup: false,
        success_exit: vec![0],
        // Most tests are about other rules: no coalescing window unless asked.
        coalesce: Duration::ZERO,
    }
}

fn exit(status: i32, reason: Reason) -> Action {
    Action::Exit { status, reason }
}

fn sig(pid: i32, sig: i32) -> Action {
    Action::Signal { pid, sig }
}

fn tree(sig: i32) -> Action {
    Action::SignalTree { sig }
}

fn holder(port: u16, pid: Option<i32>, in_tree: bool) -> Holder {
    Holder { port, pid, in_tree }
}

struct Driver {
    sup: Supervisor,
    base: Instant,
    next_pid: i32,
    /// Every pid spawned, in order.
    spawned: Vec<i32>,
    /// What the daemon's group listens on, reported back for `LearnPorts`.
    listening: Vec<u16>,
    exited: Option<(i32, Reason)>,
    stop_requested: bool,
    max_generation: u64,
}

impl Driver {
    fn new(s: Settings) -> Driver {
        Driver {
            sup: Supervisor::new(s),
            base: Instant::now(),
            next_pid: FIRST_PID,
            spawned: vec![],
            listening: vec![],
            exited: None,
            stop_requested: false,
            max_generation: 0,
        }
    }

    fn t(&self, at: u64) -> Instant {
        self.base + ms(at)
    }

    fn offset(&self, i: Instant) -> u64 {
        i.duration_since(self.base).as_millis() as u64
    }

    /// Performs a batch like `EventLoop::perform`, returning every action performed.
    fn perform(&mut self, actions: Vec<Action>, at: u64) -> Vec<Action> {
        let now = self.t(at);
        let mut queue: VecDeque<Action> = actions.into();
        let mut done = vec![];
        while let Some(a) = queue.pop_front() {
            assert!(self.exited.is_none(), "{a:?} performed after Exit");
            match a {
                Action::Spawn => {
                    assert!(!self.stop_requested, "Spawn after a stop request");
                    let pid = self.next_pid;
                    self.next_pid += 1;
                    self.spawned.push(pid);
                    queue.extend(self.sup.on_spawned(pid, now, WALL0 + at));
                }
                Action::LearnPorts { .. } => {
                    let l = self.listening.clone();
                    self.sup.learn_ports(&l);
                }
                Action::WritePidfile => self.check_invariants(),
                Action::Exit { status, reason } => self.exited = Some((status, reason)),
                _ => {}
            }
            done.push(a);
        }
        self.check_invariants();
        done
    }

    /// SPEC §5 / §14.8, as the PID file would show them right now.
    fn check_invariants(&mut self) {
        let s = &self.sup;
        assert!(s.generation >= self.max_generation, "generation went back");
        self.max_generation = s.generation;
        assert_eq!(
            s.generation,
            self.spawned.len() as u64,
            "one generation per spawn"
        );
        assert_eq!(
            s.restarts,
            s.generation.saturating_sub(1),
            "restarts == generation - 1"
        );
        let snap = s.snapshot();
        match snap.state {
            "starting" | "ready" => {
                assert_eq!(
                    s.exits, s.restarts,
                    "exits == restarts while {}",
                    snap.state
                );
                assert_eq!(snap.pid, self.spawned.last().copied());
            }
            "backoff" if s.generation > 0 => {
                assert_eq!(s.exits, s.restarts + 1, "exits == restarts + 1 in backoff");
                assert_eq!(snap.pid, None);
            }
            _ => {}
        }
    }

    fn start(&mut self, at: u64) -> Vec<Action> {
        let a = self.sup.start(self.t(at));
        self.perform(a, at)
    }
    fn exit(&mut self, ended: Ended, at: u64) -> Vec<Action> {
        let a = self.sup.on_exit(ended, self.t(at));
        self.perform(a, at)
    }
    fn tick(&mut self, at: u64, tree_empty: bool) -> Vec<Action> {
        let a = self.sup.on_tick(self.t(at), tree_empty);
        self.perform(a, at)
    }
    /// One wake of the loop: the daemon is reaped, nothing else is left.
    fn reap(&mut self, ended: Ended, at: u64) -> Vec<Action> {
        let mut a = self.exit(ended, at);
        a.extend(self.tick(at, true));
        a
    }
    fn ready(&mut self, at: u64) -> Vec<Action> {
        let a = self.sup.on_ready(self.t(at));
        self.perform(a, at)
    }
    fn stop(&mut self, signo: i32, at: u64) -> Vec<Action> {
        self.stop_fwd(signo, Some(signo), at)
    }
    fn stop_fwd(&mut self, signo: i32, forward: Option<i32>, at: u64) -> Vec<Action> {
        self.stop_requested = true;
        let a = self.sup.on_stop_request(signo, forward, self.t(at));
        self.perform(a, at)
    }
    fn restart(&mut self, at: u64) -> Vec<Action> {
        let a = self.sup.on_restart_request("test", self.t(at));
        self.perform(a, at)
    }
    fn probe(&mut self, busy: &[u16], holders: Vec<Holder>, at: u64) -> Vec<Action> {
        let a = self.sup.on_port_probe(busy, move || holders, self.t(at));
        self.perform(a, at)
    }
    /// Ticks at the reported deadline (tree empty); returns (offset, actions).
    fn wait_deadline(&mut self) -> (u64, Vec<Action>) {
        let d = self.sup.deadline(true).expect("a deadline");
        let at = self.offset(d);
        (at, self.tick(at, true))
    }
    fn pid(&self) -> i32 {
        *self.spawned.last().expect("a daemon was spawned")
    }
    fn state(&self) -> &'static str {
        self.sup.snapshot().state
    }
    fn spawns(&self) -> usize {
        self.spawned.len()
    }
}

fn driver(mode: RestartMode) -> Driver {
    Driver::new(settings(mode))
}

/// A driver whose first generation is running and ready (ready mode `none`).
fn running(s: Settings) -> Driver {
    let mut d = Driver::new(s);
    let a = d.start(0);
    assert!(a.contains(&Action::Spawn), "{a:?}");
    assert_eq!(d.state(), "ready");
    d
}

// ---------------------------------------------------------------- policy `no`

#[test]
fn policy_no_exits_with_the_daemons_status_once_the_tree_is_empty() {
    for (ended, status) in [(Code(0), 0), (Code(3), 3), (Sig(9), 137), (Sig(15), 143)] {
        let mut d = running(settings(No));
        assert_eq!(
            d.exit(ended, 1000),
            vec![Action::WritePidfile, tree(SIGTERM)],
            "{ended:?}"
        );
        assert!(d.sup.ending());
        assert_eq!(
            d.tick(1000, true),
            vec![exit(status, Reason::DaemonExited)],
            "{ended:?}"
        );
        assert_eq!((d.sup.generation, d.sup.exits, d.sup.restarts), (1, 1, 0));
    }
}

#[test]
fn policy_no_stragglers_get_the_stop_signal_then_sigkill_at_the_deadline() {
    let mut s = settings(No);
    s.stop_signal = SIGQUIT;
    let mut d = running(s);
    assert_eq!(
        d.exit(Code(3), 1000),
        vec![Action::WritePidfile, tree(SIGQUIT)]
    );
    assert_eq!(
        d.sup.deadline(false),
        Some(d.t(9000)),
        "stop deadline counted from the exit"
    );
    assert_eq!(d.tick(1000, false), vec![]);
    assert_eq!(d.tick(8999, false), vec![]);
    assert_eq!(d.tick(9000, false), vec![tree(SIGKILL)]);
    assert_eq!(
        d.sup.deadline(false),
        None,
        "nothing left to time out: idle until reaped"
    );
    assert_eq!(d.tick(9500, false), vec![], "SIGKILL is sent once");
    assert_eq!(d.tick(9600, true), vec![exit(3, Reason::DaemonExited)]);
}

#[test]
fn policy_no_exits_as_soon_as_the_stragglers_are_gone() {
    let mut d = running(settings(No));
    d.exit(Code(7), 1000);
    assert_eq!(d.tick(1000, false), vec![]);
    assert_eq!(
        d.tick(1020, true),
        vec![exit(7, Reason::DaemonExited)],
        "no fixed sleep"
    );
}

#[test]
fn policy_no_readiness_timeout_exits_with_what_the_daemon_died_of() {
    let mut s = settings(No);
    s.ready = ReadyMode::Notify;
    let mut d = Driver::new(s);
    d.start(0);
    d.tick(30_000, false);
    assert_eq!(
        d.reap(Sig(15), 30_100),
        vec![
            Action::WritePidfile,
            tree(SIGTERM),
            exit(143, Reason::DaemonExited)
        ]
    );
}

// ------------------------------------------------------------- success-exit

#[test]
fn success_exit_codes_map_to_status_zero() {
    // (policy, success set, how the daemon ended, ctlinit's exit status)
    let rows = [
        (No, vec![0, 3], Code(3), 0),
        (No, vec![0, 3], Code(0), 0),
        (No, vec![0, 3], Code(1), 1),
        (No, vec![143], Sig(15), 0),
        (No, vec![143], Code(0), 0),
        (OnFailure, vec![0, 3], Code(3), 0),
    ];
    for (mode, set, ended, status) in rows {
        let mut s = settings(mode);
        s.success_exit = set.clone();
        let mut d = running(s);
        let a = d.reap(ended, 1000);
        assert_eq!(
            a.last(),
            Some(&exit(status, Reason::DaemonExited)),
            "{mode:?} {set:?} {ended:?}"
        );
        assert_eq!(
            d.spawns(),
            1,
            "a clean exit under {mode:?} is not restarted"
        );
    }
}

#[test]
fn success_exit_maps_the_status_of_a_stopped_daemon_too() {
    let mut s = settings(Always);
    s.success_exit = vec![0, 143];
    let mut d = running(s);
    d.stop(SIGTERM, 1000);
    assert_eq!(
        d.reap(Sig(15), 1100).last(),
        Some(&exit(0, Reason::Stopped))
    );
}

// ------------------------------------------------ on-failure, max-restarts

#[test]
fn on_failure_max_restarts_n_spawns_n_plus_one_times_then_gives_up() {
    for n in [1u32, 2, 5] {
        let mut s = settings(OnFailure);
        s.policy.max_restarts = n;
        let mut d = running(s);
        let mut at = 0;
        for run in 0..=n {
            assert_eq!(d.state(), "ready");
            at += 10;
            let code = 10 + run as i32; // the last run's status is what ctlinit reports
            let a = d.reap(Code(code), at);
            if run < n {
                assert_eq!(d.state(), "backoff", "n={n} run={run}");
                assert!(d.exited.is_none());
                let (t, a) = d.wait_deadline();
                at = t;
                assert!(a.contains(&Action::Spawn), "n={n} run={run}: {a:?}");
            } else {
                assert_eq!(a.last(), Some(&exit(code, Reason::GaveUp)), "n={n}");
            }
        }
        assert_eq!(d.spawns() as u32, n + 1);
        let sup = &d.sup;
        assert_eq!(
            (sup.generation, sup.restarts, sup.exits),
            (n as u64 + 1, n as u64, n as u64 + 1)
        );
    }
}

#[test]
fn max_restarts_zero_never_gives_up() {
    let mut s = settings(OnFailure);
    s.policy.max_restarts = 0;
    let mut d = running(s);
    let mut at = 0;
    for _ in 0..50 {
        d.reap(Code(1), at + 5);
        at = d.wait_deadline().0;
    }
    assert!(d.exited.is_none());
    assert_eq!(
        (d.sup.generation, d.sup.restarts, d.sup.exits),
        (51, 50, 50)
    );
}

#[test]
fn give_up_waits_for_stragglers_then_exits_with_the_last_status() {
    let mut s = settings(OnFailure);
    s.policy.max_restarts = 1;
    let mut d = running(s);
    d.reap(Code(2), 10);
    let (at, _) = d.wait_deadline();
    assert_eq!(
        d.exit(Sig(9), at + 10),
        vec![Action::WritePidfile, tree(SIGTERM)]
    );
    assert_eq!(d.tick(at + 10, false), vec![]);
    assert_eq!(d.tick(at + 50, true), vec![exit(137, Reason::GaveUp)]);
}

#[test]
fn a_run_longer_than_reset_after_resets_the_failure_count() {
    let mut s = settings(OnFailure);
    s.policy.max_restarts = 1;
    let mut d = running(s);
    d.reap(Code(1), 10); // failure 1 of 1
    let (at, _) = d.wait_deadline();
    let a = d.reap(Code(1), at + 30_000); // long run: the count restarts at 1
    assert!(d.exited.is_none(), "{a:?}");
    assert_eq!(
        d.sup.deadline(true),
        Some(d.t(at + 30_000 + 100)),
        "backoff back to MIN"
    );
    let (at, _) = d.wait_deadline();
    assert_eq!(
        d.reap(Code(1), at + 10).last(),
        Some(&exit(1, Reason::GaveUp))
    );
}

#[test]
fn clean_exits_under_always_restart_forever_and_never_count_as_failures() {
    let mut s = settings(Always);
    s.policy.max_restarts = 1;
    let mut d = running(s);
    let mut at = 0;
    for _ in 0..10 {
        d.reap(Code(0), at + 10);
        assert_eq!(d.state(), "backoff");
        at = d.wait_deadline().0;
    }
    assert_eq!(d.sup.generation, 11);
}

#[test]

fn a_clean_exit_under_always_ends_the_failure_streak() {
    // SPEC §2/§8/§14.1: give up after N *consecutive* failed runs.
    let mut s = settings(Always);
    s.policy.max_restarts = 1;
    let mut d = running(s);
    d.reap(Code(1), 10); // failure 1 of 1
    let (at, _) = d.wait_deadline();
    d.reap(Code(0), at + 10); // clean: the streak ends
    let (at, _) = d.wait_deadline();
    let a = d.reap(Code(1), at + 10); // failure 1 of a new streak
    assert!(d.exited.is_none(), "gave up: {a:?}");
    assert_eq!(d.state(), "backoff");
}

#[test]

fn a_requested_restart_of_a_ready_daemon_ends_the_failure_streak() {
    // SPEC §8: outcomes are clean / failure / stopped; only consecutive failures give up.
    let mut s = settings(OnFailure);
    s.policy.max_restarts = 1;
    let mut d = running(s);
    d.reap(Code(1), 10); // failure 1 of 1
    let (at, _) = d.wait_deadline();
    d.restart(at + 100); // generation 2 is ready and healthy; replaced on request
    d.reap(Sig(15), at + 200);
    assert_eq!(d.sup.generation, 3);
    let a = d.reap(Code(1), at + 300);
    assert!(d.exited.is_none(), "gave up: {a:?}");
}

// ------------------------------------------------------------------ backoff

#[test]
fn backoff_restarts_at_exit_time_plus_min_doubling_up_to_max() {
    let mut s = settings(OnFailure);
    s.policy.max_restarts = 0;
    let mut d = running(s);
    let mut spawned_at = 0;
    for want in [100, 200, 400, 800, 1000, 1000] {
        let exit_at = spawned_at + 10;
        d.reap(Code(1), exit_at);
        assert_eq!(
            d.sup.deadline(true),
            Some(d.t(exit_at + want)),
            "delay {want}"
        );
        assert_eq!(
            d.tick(exit_at + want - 1, true),
            vec![],
            "too early for delay {want}"
        );
        let a = d.tick(exit_at + want, true);
        assert_eq!(
            a,
            vec![Action::WritePidfile, Action::Spawn, Action::WritePidfile]
        );
        spawned_at = exit_at + want;
    }
}

#[test]
fn clean_exit_under_always_waits_out_the_backoff() {
    let mut d = running(settings(Always));
    d.reap(Code(0), 50);
    assert_eq!(d.state(), "backoff");
    assert_eq!(d.sup.deadline(true), Some(d.t(150)));
    assert_eq!(d.tick(149, true), vec![]);
    assert!(d.tick(150, true).contains(&Action::Spawn));
}

#[test]
fn backoff_waits_for_the_previous_tree_to_drain() {
    let mut d = running(settings(OnFailure));
    d.exit(Code(1), 1000);
    // With stragglers the only deadline is the drain's; the backoff is not reported.
    assert_eq!(d.sup.deadline(false), Some(d.t(9000)));
    assert_eq!(
        d.tick(1100, false),
        vec![],
        "no restart while the old tree lives"
    );
    assert_eq!(d.tick(9000, false), vec![tree(SIGKILL)]);
    assert_eq!(d.sup.deadline(false), None);
    assert!(d.tick(9100, true).contains(&Action::Spawn));
}

#[test]
fn backoff_is_idle_apart_from_the_wake_that_ends_it() {
    let mut d = running(settings(OnFailure));
    assert_eq!(d.sup.deadline(false), None, "ready: no wake-ups");
    d.reap(Code(1), 1000);
    assert_eq!(d.sup.deadline(true), Some(d.t(1100)));
}

#[test]
fn restart_request_during_backoff_restarts_at_once() {
    let mut s = settings(OnFailure);
    s.policy.backoff_min = ms(10_000);
    s.policy.backoff_max = ms(60_000);
    let mut d = running(s);
    d.reap(Code(1), 1000);
    assert_eq!(d.sup.deadline(true), Some(d.t(11_000)));
    assert_eq!(d.restart(1500), vec![]);
    assert_eq!(d.sup.deadline(true), Some(d.t(1500)));
    assert!(d.tick(1500, true).contains(&Action::Spawn));
    assert_eq!((d.sup.generation, d.sup.restarts, d.sup.exits), (2, 1, 1));
}

// ------------------------------------------------------------ stop requests

#[test]
fn term_while_running_forwards_then_kills_the_group_at_the_deadline() {
    for ready in [true, false] {
        let mut s = settings(Always);
        s.stop_signal = SIGQUIT; // what ctlinit sends on its own, not what it forwards (§14.6)
        if !ready {
            s.ready = ReadyMode::Notify;
        }
        let mut d = Driver::new(s);
        d.start(0);
        let pid = d.pid();
        assert_eq!(
            d.stop(SIGTERM, 1000),
            vec![sig(pid, SIGTERM), Action::WritePidfile]
        );
        assert_eq!(d.state(), "stopping");
        assert_eq!(d.sup.deadline(false), Some(d.t(9000)));
        assert_eq!(d.tick(8999, false), vec![]);
        assert_eq!(d.tick(9000, false), vec![sig(-pid, SIGKILL), tree(SIGKILL)]);
        assert_eq!(d.sup.deadline(false), None);
        assert_eq!(
            d.exit(Sig(9), 9010),
            vec![Action::WritePidfile, tree(SIGKILL)]
        );
        assert_eq!(d.tick(9010, true), vec![exit(137, Reason::Stopped)]);
        assert_eq!(d.spawns(), 1);
    }
}

#[test]
fn term_while_running_exits_with_the_daemons_status_whatever_the_policy() {
    for mode in [No, OnFailure, Always] {
        let mut d = running(settings(mode));
        d.stop(SIGTERM, 1000);
        assert_eq!(
            d.reap(Sig(15), 1200).last(),
            Some(&exit(143, Reason::Stopped)),
            "{mode:?}"
        );
        assert_eq!(d.spawns(), 1);
    }
}

#[test]
fn stragglers_share_the_one_stop_deadline() {
    let mut d = running(settings(Always));
    d.stop(SIGTERM, 1000);
    d.exit(Sig(15), 6000);
    assert_eq!(
        d.sup.deadline(false),
        Some(d.t(9000)),
        "not reset by the daemon's exit"
    );
    assert_eq!(d.tick(9000, false), vec![tree(SIGKILL)]);
    assert_eq!(d.tick(9050, true), vec![exit(143, Reason::Stopped)]);
}

#[test]
fn term_while_stopping_for_a_restart_means_no_restart_follows() {
    let mut d = running(settings(Always));
    let pid = d.pid();
    d.restart(1000);
    assert_eq!(d.state(), "stopping");
    assert_eq!(d.stop(SIGTERM, 1500), vec![sig(pid, SIGTERM)]);
    assert_eq!(
        d.reap(Sig(15), 1600).last(),
        Some(&exit(143, Reason::Stopped))
    );
    assert_eq!(d.spawns(), 1);
}

#[test]
fn term_during_backoff_exits_at_once_with_the_last_status() {
    // SPEC §4 / §14.3, with and without success-exit mapping.
    for (ended, set, status) in [
        (Code(3), vec![0], 3),
        (Sig(9), vec![0], 137),
        (Code(3), vec![0, 3], 0),
    ] {
        let mut s = settings(Always);
        s.success_exit = set;
        let mut d = running(s);
        d.reap(ended, 1000);
        assert_eq!(d.state(), "backoff");
        assert_eq!(d.stop(SIGTERM, 1050), vec![Action::WritePidfile]);
        assert_eq!(
            d.tick(1050, true),
            vec![exit(status, Reason::Stopped)],
            "{ended:?}"
        );
    }
}

#[test]
fn term_during_backoff_with_stragglers_exits_once_they_are_gone() {
    let mut d = running(settings(OnFailure));
    d.exit(Code(3), 1000);
    d.stop(SIGTERM, 2000);
    assert!(
        d.sup.deadline(false).unwrap() <= d.t(10_000),
        "within the stop timeout"
    );
    assert_eq!(d.tick(2000, false), vec![]);
    assert_eq!(d.tick(2100, true), vec![exit(3, Reason::Stopped)]);
}

#[test]
fn term_while_waiting_for_ports_between_generations_exits_at_once() {
    let mut s = settings(OnFailure);
    s.ports = vec![8080];
    let mut d = Driver::new(s);
    d.start(0);
    d.probe(&[], vec![], 10);
    d.reap(Code(4), 1000);
    d.wait_deadline();
    assert!(d.sup.waiting_for_ports());
    assert_eq!(d.stop(SIGTERM, 1200), vec![exit(4, Reason::Stopped)]);
}

#[test]
fn stop_before_the_first_spawn_exits_with_128_plus_the_signal() {
    for (signo, status) in [(SIGTERM, 143), (SIGINT, 130), (SIGQUIT, 131)] {
        let mut s = settings(Always);
        s.ports = vec![8080];
        let mut d = Driver::new(s);
        assert_eq!(d.start(0), vec![]);
        d.probe(&[8080], vec![], 100);
        assert_eq!(d.stop(signo, 200), vec![exit(status, Reason::Stopped)]);
        assert_eq!((d.sup.generation, d.sup.exits, d.sup.restarts), (0, 0, 0));
    }
}

#[test]
fn a_second_stop_request_kills_the_group_at_once() {
    for second in [SIGTERM, SIGINT, SIGQUIT] {
        let mut d = running(settings(Always));
        let pid = d.pid();
        d.stop(SIGTERM, 1000);
        assert_eq!(
            d.stop(second, 1100),
            vec![sig(-pid, SIGKILL), tree(SIGKILL)]
        );
        assert_eq!(d.sup.deadline(false), None, "nothing left to time out");
        assert_eq!(
            d.tick(9000, false),
            vec![],
            "no second SIGKILL at the deadline"
        );
        assert_eq!(
            d.reap(Sig(9), 1110).last(),
            Some(&exit(137, Reason::Stopped))
        );
    }
}

#[test]
fn a_second_stop_request_while_stragglers_drain_kills_them_at_once() {
    let mut d = running(settings(No));
    d.exit(Code(1), 1000);
    d.stop(SIGTERM, 1100);
    assert_eq!(d.stop(SIGTERM, 1200), vec![tree(SIGKILL)]);
    assert_eq!(d.sup.deadline(false), None);
    assert_eq!(d.tick(1300, true), vec![exit(1, Reason::DaemonExited)]);
}

#[test]
fn rewritten_stop_signal_is_forwarded_but_still_stops() {
    // SPEC §14.6: --rewrite TERM:QUIT forwards QUIT; TERM:0 forwards nothing.
    for (forward, sent) in [(Some(SIGQUIT), Some(SIGQUIT)), (None, None)] {
        let mut d = running(settings(Always));
        let pid = d.pid();
        let a = d.stop_fwd(SIGTERM, forward, 1000);
        let want: Vec<Action> = sent
            .map(|s| sig(pid, s))
            .into_iter()
            .chain([Action::WritePidfile])
            .collect();
        assert_eq!(a, want);
        assert_eq!(d.state(), "stopping");
        assert_eq!(d.tick(9000, false), vec![sig(-pid, SIGKILL), tree(SIGKILL)]);
    }
}

#[test]
fn no_spawn_ever_follows_a_stop_request() {
    // Each setup brings a fresh driver (policy always, notify readiness,
    // handoff port 8080) to one phase before t=1000. The driver panics on any
    // Spawn after the stop request.
    type Setup = fn(&mut Driver);
    let setups: [(&str, Setup); 9] = [
        ("waiting for ports before the first spawn", |d| {
            d.start(0);
        }),
        ("starting", |d| {
            d.start(0);
            d.probe(&[], vec![], 0);
        }),
        ("starting with a pending restart", |d| {
            d.start(0);
            d.probe(&[], vec![], 0);
            d.restart(10);
        }),
        ("ready", |d| {
            d.start(0);
            d.probe(&[], vec![], 0);
            d.ready(10);
        }),
        ("stopping for a restart", |d| {
            d.start(0);
            d.probe(&[], vec![], 0);
            d.ready(10);
            d.restart(20);
        }),
        ("stopping after a readiness timeout", |d| {
            d.start(0);
            d.probe(&[], vec![], 0);
            d.tick(500, false);
        }),
        ("backoff", |d| {
            d.start(0);
            d.probe(&[], vec![], 0);
            d.reap(Code(1), 20);
        }),
        ("backoff with stragglers", |d| {
            d.start(0);
            d.probe(&[], vec![], 0);
            d.exit(Code(1), 20);
            d.tick(20, false);
        }),
        ("waiting for ports between generations", |d| {
            d.start(0);
            d.probe(&[], vec![], 0);
            d.reap(Code(1), 20);
            d.wait_deadline();
        }),
    ];
    for (name, setup) in setups {
        let mut s = settings(Always);
        s.ready = ReadyMode::Notify;
        s.ready_timeout = ms(500);
        s.ports = vec![8080];
        let mut d = Driver::new(s);
        setup(&mut d);
        let before = d.spawns();
        d.stop(SIGTERM, 1000);
        // Everything that could otherwise lead to a spawn:
        d.restart(1001);
        d.ready(1002);
        d.probe(&[], vec![], 1003);
        if d.sup.daemon().is_some() {
            d.exit(Sig(15), 1004);
        }
        d.restart(1005);
        d.tick(1006, true);
        d.probe(&[], vec![], 100_000);
        d.tick(100_000, true);
        assert_eq!(d.spawns(), before, "{name}");
        assert!(
            matches!(d.exited, Some((_, Reason::Stopped))),
            "{name}: {:?}",
            d.exited
        );
    }
}

// --------------------------------------------------------- restart requests

#[test]
fn restart_request_when_ready_stops_with_the_stop_signal_and_learns_ports() {
    let mut s = settings(No); // requested restarts happen under any policy
    s.stop_signal = SIGQUIT;
    let mut d = running(s);
    let pid = d.pid();
    assert_eq!(
        d.restart(1000),
        vec![
            Action::LearnPorts { pgid: pid },
            sig(pid, SIGQUIT),
            Action::WritePidfile
        ]
    );
    assert_eq!(d.state(), "stopping");
    assert_eq!(d.sup.deadline(false), Some(d.t(9000)));
    let a = d.reap(Sig(3), 1100);
    assert!(
        a.contains(&Action::Spawn),
        "requested restarts skip the backoff: {a:?}"
    );
    assert_eq!(d.state(), "ready");
    assert_eq!((d.sup.generation, d.sup.restarts, d.sup.exits), (2, 1, 1));
}

#[test]
fn restart_stop_kills_the_group_when_the_grace_runs_out() {
    let mut d = running(settings(OnFailure));
    let pid = d.pid();
    d.restart(1000);
    assert_eq!(d.tick(9000, false), vec![sig(-pid, SIGKILL), tree(SIGKILL)]);
    assert_eq!(
        d.exit(Sig(9), 9010),
        vec![Action::WritePidfile, tree(SIGKILL)]
    );
    assert!(d.tick(9010, true).contains(&Action::Spawn));
}

#[test]
fn restart_request_while_stopping_is_ignored() {
    let mut d = running(settings(OnFailure));
    d.restart(1000);
    for at in 1001..1010 {
        assert_eq!(d.restart(at), vec![]);
    }
    d.reap(Sig(15), 1100);
    assert_eq!(d.state(), "ready");
    assert_eq!(d.sup.restarts, 1);
}

#[test]
fn restart_request_while_starting_is_deferred_to_readiness_and_served_once() {
    let mut s = settings(OnFailure);
    s.ready = ReadyMode::Notify;
    let mut d = Driver::new(s);
    d.start(0);
    let pid = d.pid();
    assert_eq!(d.state(), "starting");
    assert_eq!(d.restart(10), vec![]);
    assert_eq!(d.restart(11), vec![]);
    assert_eq!(d.state(), "starting");
    let a = d.ready(100);
    assert!(a.contains(&sig(pid, SIGTERM)), "{a:?}");
    assert_eq!(d.state(), "stopping");
    d.reap(Sig(15), 200);
    assert_eq!(d.state(), "starting");
    let a = d.ready(300);
    assert!(
        !a.iter().any(|x| matches!(x, Action::Signal { .. })),
        "served once: {a:?}"
    );
    assert_eq!(d.state(), "ready");
    assert_eq!(d.sup.restarts, 1);
}

#[test]
fn a_restart_requested_while_starting_completes_even_if_that_generation_exits_cleanly() {
    // SPEC §11: once delivered, a restart completes. Under policy `no` a clean
    // exit would otherwise end ctlinit.
    let mut s = settings(No);
    s.ready = ReadyMode::Notify;
    let mut d = Driver::new(s);
    d.start(0);
    assert_eq!(d.restart(10), vec![]);
    d.reap(Code(0), 50);
    assert_eq!(d.spawns(), 2, "the pending request starts generation 2");
    assert_eq!(d.sup.generation, 2);
    assert_eq!(d.state(), "starting");
}

#[test]
fn restart_request_while_waiting_for_ports_is_served_by_that_spawn() {
    let mut s = settings(OnFailure);
    s.ports = vec![8080];
    let mut d = Driver::new(s);
    d.start(0);
    d.probe(&[], vec![], 0);
    d.restart(100);
    d.reap(Sig(15), 200);
    assert!(d.sup.waiting_for_ports());
    assert_eq!(d.restart(300), vec![]);
    assert!(d.probe(&[], vec![], 400).contains(&Action::Spawn));
    d.ready(500);
    assert_eq!(d.state(), "ready");
    assert_eq!(d.sup.restarts, 1);
}

/// Lets pending restarts run to completion; returns when a generation is ready.
fn settle(d: &mut Driver, mut at: u64) {
    for _ in 0..5 {
        match d.state() {
            "stopping" => {
                d.reap(Sig(15), at);
                d.ready(at + 1);
                at += 10;
            }
            "ready" => return,
            other => panic!("unexpected state {other}"),
        }
    }
    panic!("restarts never settle");
}

#[test]
fn a_burst_of_restart_requests_causes_at_most_two_restarts() {
    // Ten requests spread over the phases of one restart: (ready, stopping,
    // backoff with stragglers, new generation starting) -> restarts.
    let rows = [
        ([10, 0, 0, 0], 1),
        ([1, 9, 0, 0], 1),
        ([1, 0, 9, 0], 1),
        ([5, 5, 0, 0], 1),
        ([1, 3, 3, 3], 2),
        ([1, 0, 0, 9], 2),
        ([4, 0, 0, 6], 2),
    ];
    fn burst(d: &mut Driver, n: u32, at: u64) {
        for i in 0..n {
            d.restart(at + i as u64);
        }
    }
    for (b, want) in rows {
        let mut s = settings(OnFailure);
        s.ready = ReadyMode::Notify;
        let mut d = Driver::new(s);
        d.start(0);
        d.ready(10);
        burst(&mut d, b[0], 100);
        assert_eq!(d.state(), "stopping");
        burst(&mut d, b[1], 200);
        d.exit(Sig(15), 300);
        d.tick(300, false);
        assert_eq!(d.state(), "backoff");
        burst(&mut d, b[2], 400);
        d.tick(500, true);
        assert_eq!(d.state(), "starting");
        burst(&mut d, b[3], 600);
        d.ready(700);
        settle(&mut d, 800);
        assert_eq!(d.sup.restarts, want, "{b:?}");
    }
}

// -------------------------------------------------------- readiness timeout

#[test]
fn readiness_timeout_stops_the_daemon_and_counts_as_a_failure() {
    let mut s = settings(OnFailure);
    s.ready = ReadyMode::Listen;
    s.policy.max_restarts = 1;
    s.policy.reset_after = ms(120_000); // a 30 s run would reset the count (see below)
    let mut d = Driver::new(s);
    d.start(0);
    let pid = d.pid();
    assert_eq!(d.sup.ready_probe(), Some((ReadyMode::Listen, pid)));
    assert_eq!(d.sup.deadline(false), Some(d.t(30_000)));
    assert_eq!(d.tick(29_999, false), vec![]);
    assert_eq!(
        d.tick(30_000, false),
        vec![
            Action::LearnPorts { pgid: pid },
            sig(pid, SIGTERM),
            Action::WritePidfile
        ]
    );
    assert_eq!(d.state(), "stopping");
    assert_eq!(d.sup.ready_probe(), None);
    d.reap(Sig(15), 30_100);
    assert_eq!(d.state(), "backoff", "failure 1 of 1 is restarted");
    assert_eq!(
        d.sup.deadline(true),
        Some(d.t(30_200)),
        "a failure backs off"
    );
    let (at, _) = d.wait_deadline();
    d.tick(at + 30_000, false);
    assert_eq!(
        d.reap(Sig(15), at + 30_050).last(),
        Some(&exit(143, Reason::GaveUp))
    );
}

#[test]
fn readiness_timeout_is_a_failure_even_when_the_daemon_exits_cleanly() {
    let mut s = settings(OnFailure); // a clean exit would end ctlinit
    s.ready = ReadyMode::Notify;
    let mut d = Driver::new(s);
    d.start(0);
    d.tick(30_000, false);
    d.reap(Code(0), 30_010);
    assert!(d.exited.is_none());
    assert_eq!(d.state(), "backoff");
}

#[test]
fn readiness_timeout_status_is_what_the_daemon_died_of() {
    for (ended, status) in [(Sig(15), 143), (Sig(9), 137), (Code(1), 1)] {
        let mut s = settings(OnFailure);
        s.ready = ReadyMode::Notify;
        s.ready_timeout = ms(5000);
        s.policy.max_restarts = 1;
        let mut d = Driver::new(s);
        d.start(0);
        d.tick(5000, false);
        d.reap(ended, 5010);
        let (at, _) = d.wait_deadline();
        d.tick(at + 5000, false);
        assert_eq!(
            d.reap(ended, at + 5010).last(),
            Some(&exit(status, Reason::GaveUp))
        );
    }
}

#[test]
fn readiness_before_the_timeout_cancels_it() {
    let mut s = settings(OnFailure);
    s.ready = ReadyMode::Listen;
    let mut d = Driver::new(s);
    d.start(0);
    let pid = d.pid();
    assert_eq!(
        d.ready(500),
        vec![
            Action::WritePidfile,
            Action::LearnPorts { pgid: pid },
            Action::NotifyParentReady
        ]
    );
    assert_eq!(d.sup.deadline(false), None);
    assert_eq!(d.tick(60_000, false), vec![]);
    assert_eq!(d.state(), "ready");
}

#[test]

fn a_daemon_that_never_becomes_ready_gives_up_with_default_timeouts() {
    let mut s = settings(OnFailure);
    s.ready = ReadyMode::Notify;
    s.policy.max_restarts = 2;
    s.policy.reset_after = ms(30_000); // the defaults
    s.ready_timeout = ms(30_000);
    let mut d = Driver::new(s);
    d.start(0);
    let mut at = 0;
    for _ in 0..10 {
        d.tick(at + 30_000, false);
        d.reap(Sig(15), at + 30_010);
        if d.exited.is_some() {
            break;
        }
        at = d.wait_deadline().0;
    }
    assert_eq!(
        d.exited,
        Some((143, Reason::GaveUp)),
        "generation {}",
        d.sup.generation
    );
    assert_eq!(d.sup.generation, 3);
}

// -------------------------------------------------------------- port handoff

fn with_ports(mode: RestartMode, ports: &[u16]) -> Driver {
    let mut s = settings(mode);
    s.ports = ports.to_vec();
    Driver::new(s)
}

#[test]
fn spawn_waits_until_the_ports_are_free() {
    let mut d = with_ports(No, &[8080]);
    assert_eq!(
        d.start(0),
        vec![],
        "no Spawn while ports_to_free is non-empty"
    );
    assert!(d.sup.waiting_for_ports());
    assert_eq!(d.sup.ports_to_free(), vec![8080]);
    assert_eq!(d.sup.deadline(false), Some(d.t(5000)));
    assert_eq!(d.probe(&[8080], vec![], 100), vec![]);
    assert!(d.probe(&[], vec![], 200).contains(&Action::Spawn));
    assert_eq!(d.sup.generation, 1);
}

#[test]
fn busy_ports_before_the_deadline_do_nothing_and_look_for_no_holders() {
    let mut d = with_ports(No, &[8080]);
    d.start(0);
    let a = d.sup.on_port_probe(
        &[8080],
        || panic!("holders asked before the timeout"),
        d.t(4999),
    );
    assert_eq!(a, vec![]);
    assert!(d.sup.waiting_for_ports());
}

#[test]
fn an_in_tree_holder_is_killed_once_and_gets_two_more_seconds() {
    // (ports free after the kill?, expected result at the extended deadline)
    for freed in [true, false] {
        let mut d = with_ports(No, &[8080, 8081]);
        d.start(0);
        let hs = vec![holder(8080, Some(42), true), holder(8081, Some(43), true)];
        assert_eq!(
            d.probe(&[8080, 8081], hs.clone(), 5000),
            vec![sig(42, SIGKILL), sig(43, SIGKILL)]
        );
        assert_eq!(d.sup.deadline(false), Some(d.t(7000)));
        assert_eq!(d.probe(&[8080], hs.clone(), 6999), vec![]);
        let a = if freed {
            d.probe(&[], vec![], 7000)
        } else {
            d.probe(&[8080], hs, 7000)
        };
        if freed {
            assert!(a.contains(&Action::Spawn), "{a:?}");
        } else {
            assert_eq!(
                a,
                vec![exit(69, Reason::PortBusy)],
                "killed only once, then abort"
            );
            assert_eq!((d.sup.generation, d.sup.exits, d.sup.restarts), (0, 0, 0));
        }
    }
}

#[test]
fn a_holder_outside_the_tree_aborts_with_69_at_once() {
    let rows = [
        vec![holder(8080, Some(4242), false)],
        vec![holder(8080, None, false)],
        vec![],
    ];
    for hs in rows {
        let mut d = with_ports(Always, &[8080]);
        d.start(0);
        assert_eq!(
            d.probe(&[8080], hs.clone(), 5000),
            vec![exit(69, Reason::PortBusy)],
            "{hs:?}"
        );
        assert_eq!(
            (d.sup.generation, d.sup.exits, d.sup.restarts),
            (0, 0, 0),
            "port-busy before any spawn"
        );
    }
}

#[test]
fn mixed_holders_kill_the_in_tree_one_then_abort() {
    let mut d = with_ports(No, &[8080, 8081]);
    d.start(0);
    let hs = vec![
        holder(8080, Some(42), true),
        holder(8081, Some(4242), false),
    ];
    assert_eq!(
        d.probe(&[8080, 8081], hs.clone(), 5000),
        vec![sig(42, SIGKILL)]
    );
    assert_eq!(d.probe(&[8081], hs, 7000), vec![exit(69, Reason::PortBusy)]);
}

#[test]
fn port_busy_on_a_restart_keeps_the_counters_of_the_last_generation() {
    let mut d = with_ports(Always, &[8080]);
    d.start(0);
    d.probe(&[], vec![], 0);
    d.reap(Code(1), 100);
    d.wait_deadline();
    assert_eq!(d.state(), "backoff");
    let at = d.offset(d.sup.deadline(false).unwrap());
    assert_eq!(
        d.probe(&[8080], vec![holder(8080, Some(9), false)], at),
        vec![exit(69, Reason::PortBusy)]
    );
    assert_eq!((d.sup.generation, d.sup.exits, d.sup.restarts), (1, 1, 0));
}

#[test]
fn the_previous_generations_ports_must_be_free_before_a_restart() {
    let mut d = driver(OnFailure);
    d.listening = vec![9000];
    d.start(0);
    d.restart(1000); // LearnPorts: the generation listens on 9000
    let a = d.reap(Sig(15), 1100);
    assert!(!a.contains(&Action::Spawn), "{a:?}");
    assert_eq!(d.sup.ports_to_free(), vec![9000]);
    assert_eq!(d.probe(&[9000], vec![], 1200), vec![]);
    assert!(d.probe(&[], vec![], 1300).contains(&Action::Spawn));
    assert_eq!(
        d.sup.ports_to_free(),
        Vec::<u16>::new(),
        "handoff ports forgotten after the spawn"
    );
}

// ------------------------------------------------------ signal targets, misc

#[test]
fn forwarded_signals_go_to_the_group_with_pgroup() {
    for pgroup in [false, true] {
        let mut s = settings(Always);
        s.pgroup = pgroup;
        let mut d = running(s);
        let pid = d.pid();
        let target = if pgroup { -pid } else { pid };
        assert_eq!(d.sup.on_forward(SIGHUP), Some(sig(target, SIGHUP)));
        assert_eq!(d.sup.on_forward(SIGUSR1), Some(sig(target, SIGUSR1)));
        assert_eq!(d.restart(100)[1], sig(target, SIGTERM), "pgroup={pgroup}");
        d.reap(Sig(15), 200);
        let pid = d.pid();
        let target = if pgroup { -pid } else { pid };
        assert_eq!(d.stop(SIGINT, 300)[0], sig(target, SIGINT));
        assert_eq!(
            d.tick(8300, false)[0],
            sig(-pid, SIGKILL),
            "SIGKILL always hits the group"
        );
    }
}

#[test]
fn signals_are_dropped_when_no_daemon_runs() {
    let mut d = running(settings(OnFailure));
    d.reap(Code(1), 100);
    assert_eq!(d.sup.on_forward(SIGHUP), None);
}

#[test]
fn exec_failure_exits_at_once_whatever_the_policy() {
    for (mode, status) in [(No, 127), (OnFailure, 127), (Always, 126)] {
        let mut d = driver(mode);
        d.sup.start(d.t(0));
        let a = d.sup.on_spawn_failed(status);
        assert_eq!(a, vec![exit(status, Reason::ExecFailed)], "{mode:?}");
        assert_eq!(d.sup.generation, 0);
    }
}

#[test]
fn the_parent_is_told_ready_only_once() {
    let mut d = driver(Always);
    assert!(d.start(0).contains(&Action::NotifyParentReady));
    for at in [100, 300, 500] {
        d.restart(at);
        let a = d.reap(Sig(15), at + 50);
        assert!(a.contains(&Action::Spawn), "{a:?}");
        assert!(!a.contains(&Action::NotifyParentReady), "{a:?}");
    }
}

#[test]
fn the_snapshot_describes_the_current_generation() {
    let mut s = settings(OnFailure);
    s.ready = ReadyMode::Notify;
    let mut d = Driver::new(s);
    d.start(0);
    assert_eq!(
        d.sup.snapshot(),
        Snapshot {
            pid: Some(FIRST_PID),
            state: "starting",
            started_at_ms: WALL0
        }
    );
    d.ready(40);
    assert_eq!(d.sup.snapshot().state, "ready");
    d.reap(Code(1), 1000);
    assert_eq!(
        d.sup.snapshot(),
        Snapshot {
            pid: None,
            state: "backoff",
            started_at_ms: WALL0
        }
    );
    d.wait_deadline();
    assert_eq!(
        d.sup.snapshot(),
        Snapshot {
            pid: Some(FIRST_PID + 1),
            state: "starting",
            started_at_ms: WALL0 + 1100
        }
    );
    assert_eq!(d.sup.last_exit, Some(Code(1)));
}

// ------------------------------------------------------- coalescing window

fn with_window() -> Settings {
    let mut s = settings(OnFailure);
    s.coalesce = COALESCE;
    s
}

#[test]
fn requests_soon_after_a_spawn_are_merged_and_served_when_the_window_ends() {
    // A fast daemon restarts in a few ms: without the window every request of
    // a burst would land after a fresh spawn and restart it again.
    let mut d = Driver::new(with_window());
    d.start(0);
    let first = d.pid();
    assert_eq!(d.restart(10), vec![], "10 ms after the spawn: remembered");
    assert_eq!(d.restart(20), vec![], "merged");
    assert_eq!(d.restart(30), vec![], "merged");
    assert_eq!(d.state(), "ready");
    let at = d.sup.deadline(true).map(|t| d.offset(t));
    assert_eq!(at, Some(250), "one wake when the window ends");
    let a = d.tick(250, false);
    assert!(a.contains(&sig(first, SIGTERM)), "{a:?}");
    d.reap(Sig(15), 260);
    assert_eq!(d.spawns(), 2);
    // Requests right after the second spawn: at most one more restart.
    for t in [261, 262, 300] {
        d.restart(t);
    }
    d.tick(260 + 250, false);
    d.reap(Sig(15), 520);
    assert_eq!(d.spawns(), 3, "a burst causes at most 2 restarts");
    assert_eq!(d.sup.deadline(true), None, "nothing pending: idle");
}

#[test]
fn a_request_after_the_window_restarts_at_once() {
    let mut d = Driver::new(with_window());
    d.start(0);
    let pid = d.pid();
    let a = d.restart(COALESCE.as_millis() as u64);
    assert!(a.contains(&sig(pid, SIGTERM)), "{a:?}");
}
