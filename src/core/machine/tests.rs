//! The state machine driven the way the event loop drives it, on a fake
//! clock (milliseconds since ctlinit started). The `Driver` feeds events
//! through `Supervisor::handle` and performs the actions from a small
//! simulated world: it answers every query action at once (`Spawn` →
//! `Spawned`, `ProbePorts` → `PortsBusy`, …), records every action it
//! performs, and after every batch takes the PID-file record and checks the
//! contract's invariants on it (SPEC §5, §14.8).
//!
//! Sections: the driver and its helpers; then the old behaviour tests ported
//! to the new API (policy, backoff, stop, restart requests, readiness, port
//! handoff, signals, coalescing); then one section per decision the core
//! makes on its own (facts in, decisions out; signal classification; drain;
//! restart-exit; watchdog; OOM; --check; --watch; the terminal rule;
//! temporary spawn failures; survivors; idle; overflow; the spawn env).

use super::*;
use crate::core::config::{Policy, RestartMode, RestartMode::*};
use crate::core::signals::{
    SIGABRT, SIGBUS, SIGFPE, SIGHUP, SIGILL, SIGINT, SIGQUIT, SIGSEGV, SIGSTOP, SIGSYS, SIGTERM,
    SIGTRAP, SIGUSR1, SIGUSR2,
};
use std::collections::VecDeque;
use Ended::{Code, Signal as Sig};

// ================================================================ the driver

/// The Unix time of the fake clock's zero.
const WALL0: u64 = 1_763_900_000_000;
/// ctlinit's own pid: not 1 unless a test is about PID 1.
const HOST_PID: i32 = 50;
/// The first pid the world hands out (daemons and checks alike).
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

/// The contract's defaults (stop timeout 8 s, ready timeout 30 s, port
/// timeout 5 s, …) with a 100 ms:1 s backoff.
fn settings(mode: RestartMode) -> Settings {
    Settings {
        policy: policy(mode, 5),
        ..Settings::default()
    }
}

fn host() -> Host {
    Host {
        pid: HOST_PID,
        start_ticks: 4242,
        pidfile: None,
        notify_socket: None,
        notify_parent: false,
        command: vec!["mydaemon".into(), "--flag".into()],
        version: "0.1.0".into(),
    }
}

// ------------------------------------------------------- expected actions

fn exit(status: i32, reason: Reason) -> Action {
    Action::Exit(Ending {
        code: ExitCode::Status(status),
        reason,
    })
}

fn exit_spawn(e: SpawnError) -> Action {
    Action::Exit(Ending {
        code: ExitCode::Spawn(e),
        reason: Reason::ExecFailed,
    })
}

const PORT_BUSY: Action = Action::Exit(Ending {
    code: ExitCode::PortBusy,
    reason: Reason::PortBusy,
});

/// A signal to one process.
fn sig(pid: i32, sig: i32) -> Action {
    Action::Signal {
        to: Target::Pid(pid),
        sig,
    }
}

/// A signal to a process group.
fn group(pgid: i32, sig: i32) -> Action {
    Action::Signal {
        to: Target::Group(pgid),
        sig,
    }
}

/// The sweep of ctlinit's remaining tree (not PID 1: its descendants).
fn tree(sig: i32) -> Action {
    Action::SignalTree {
        sig,
        scope: Scope::Descendants,
    }
}

/// `Spawn` as the driver records it: the env is kept apart (`Driver::envs`).
fn spawn(generation: u64) -> Action {
    Action::Spawn {
        generation,
        env: Vec::new(),
        watchdog_pid: false,
    }
}

/// `RunCheck` as the driver records it (env kept apart).
const RUN_CHECK: Action = Action::RunCheck { env: Vec::new() };

fn probe(ports: &[u16]) -> Action {
    Action::ProbePorts(ports.to_vec())
}

fn listening_of(pgid: i32) -> Action {
    Action::QueryListening { pgid }
}

fn holder(port: u16, pid: Option<i32>, in_tree: bool) -> Holder {
    Holder {
        port,
        pid,
        start_ticks: pid.map_or(0, |p| 1000 + p as u64),
        in_tree,
    }
}

fn kill_holder(pid: i32) -> Action {
    Action::KillHolder {
        pid,
        start_ticks: 1000 + pid as u64,
    }
}

fn is_spawn(a: &Action) -> bool {
    matches!(a, Action::Spawn { .. })
}

fn has_spawn(a: &[Action]) -> bool {
    a.iter().any(is_spawn)
}

fn has_signal(a: &[Action]) -> bool {
    a.iter().any(Action::is_signal)
}

fn ready_notice() -> Notice {
    Notice {
        ready: true,
        ..Notice::default()
    }
}

fn keepalive_notice() -> Notice {
    Notice {
        keepalive: true,
        ..Notice::default()
    }
}

// ------------------------------------------------------- the simulated world

/// What the event loop would find when it answers a query.
#[derive(Default)]
struct World {
    /// Ports that listen now (answers `ProbePorts`).
    busy: Vec<u16>,
    /// Who holds them (answers `FindHolders`, filtered to the asked ports).
    holders: Vec<Holder>,
    /// The ports freed between the probe and the scan: the scan finds nobody.
    holders_vanish: bool,
    /// What the daemon's group listens on (answers `QueryListening`).
    listening: Vec<u16>,
    /// Whether a watched file's content changed (answers `CompareWatched`).
    changed: bool,
    /// The next spawns fail with these, in order.
    spawn_fail: VecDeque<SpawnError>,
    /// The next check cannot be spawned.
    check_fail: Option<SpawnError>,
    /// The memory cgroup's OOM counter as each run begins.
    oom_at_spawn: Option<u64>,
}

struct Driver {
    sup: Supervisor,
    s: Settings,
    /// The fake clock's zero (moved near `Duration::MAX` by one test).
    base: Time,
    /// Now, in ms after `base`.
    at: u64,
    world: World,
    next_pid: i32,
    /// Every daemon pid spawned, in order.
    spawned: Vec<i32>,
    /// Every --check pid spawned, in order.
    checks: Vec<i32>,
    /// The env of every `Spawn`, with its generation and `watchdog_pid`.
    envs: Vec<(u64, Env, bool)>,
    /// The env of every `RunCheck`.
    check_envs: Vec<Env>,
    /// Every action performed, for the whole test.
    log: Vec<Action>,
    /// Every PID-file record taken, in order.
    written: Vec<Record>,
    /// How many of `written` the test has looked at (`Driver::written`).
    seen: usize,
    exited: Option<Ending>,
    stop_requested: bool,
    max_generation: u64,
}

impl Driver {
    /// No coalescing window: most tests are about other rules.
    fn new(s: Settings) -> Driver {
        Driver::with(s, host(), Duration::ZERO)
    }

    /// The real coalescing window (`COALESCE`).
    fn windowed(s: Settings) -> Driver {
        Driver::with(s, host(), COALESCE)
    }

    fn with(s: Settings, host: Host, coalesce: Duration) -> Driver {
        Driver {
            sup: Supervisor::new(s.clone(), host).with_coalesce(coalesce),
            s,
            base: Time::ZERO,
            at: 0,
            world: World::default(),
            next_pid: FIRST_PID,
            spawned: vec![],
            checks: vec![],
            envs: vec![],
            check_envs: vec![],
            log: vec![],
            written: vec![],
            seen: 0,
            exited: None,
            stop_requested: false,
            max_generation: 0,
        }
    }

    fn now(&self) -> Time {
        self.base.after(ms(self.at))
    }

    fn ms_of(&self, t: Time) -> u64 {
        t.since(self.base).as_millis() as u64
    }

    /// One event from the loop at `at`; returns every action performed
    /// because of it (answers to queries included), in order.
    fn feed(&mut self, ev: Event, at: u64) -> Vec<Action> {
        assert!(at >= self.at, "the clock went back: {at} < {}", self.at);
        self.at = at;
        let mut done = vec![];
        self.batch(ev, &mut done);
        self.check_idle_state();
        done
    }

    /// `handle` then perform its actions (answers go back in depth first,
    /// as the loop does), then write the PID file if it changed.
    fn batch(&mut self, ev: Event, done: &mut Vec<Action>) {
        let mut out = vec![];
        self.sup.handle(ev, self.now(), &mut out);
        for a in out {
            self.perform(a, done);
        }
        if let Some(r) = self.sup.take_record() {
            self.check_record(&r);
            self.written.push(r);
        }
    }

    fn perform(&mut self, a: Action, done: &mut Vec<Action>) {
        assert!(self.exited.is_none(), "{a:?} performed after Exit");
        assert!(
            done.len() < 10_000,
            "livelock: {:?}",
            &done[done.len() - 5..]
        );
        let (recorded, answer) = match a {
            Action::Spawn {
                generation,
                env,
                watchdog_pid,
            } => {
                assert!(!self.stop_requested, "Spawn after a stop request");
                assert_eq!(
                    generation,
                    self.sup.counters().generation + 1,
                    "Spawn names the next generation"
                );
                assert_eq!(watchdog_pid, self.s.watchdog.is_some(), "watchdog_pid");
                self.envs.push((generation, env, watchdog_pid));
                let answer = match self.world.spawn_fail.pop_front() {
                    Some(e) => Event::SpawnFailed(e),
                    None => {
                        let pid = self.fresh_pid();
                        self.spawned.push(pid);
                        Event::Spawned {
                            pid,
                            wall_ms: WALL0 + self.at,
                            oom_kills: self.world.oom_at_spawn,
                        }
                    }
                };
                (
                    Action::Spawn {
                        generation,
                        env: Vec::new(),
                        watchdog_pid: false,
                    },
                    Some(answer),
                )
            }
            Action::RunCheck { env } => {
                self.check_envs.push(env);
                let answer = match self.world.check_fail.take() {
                    Some(e) => Event::CheckSpawnFailed(e),
                    None => {
                        let pid = self.fresh_pid();
                        self.checks.push(pid);
                        Event::CheckSpawned { pid }
                    }
                };
                (RUN_CHECK, Some(answer))
            }
            Action::ProbePorts(ports) => {
                let busy = ports
                    .iter()
                    .copied()
                    .filter(|p| self.world.busy.contains(p))
                    .collect();
                (Action::ProbePorts(ports), Some(Event::PortsBusy(busy)))
            }
            Action::FindHolders(ports) => {
                let found = if self.world.holders_vanish {
                    self.world.busy.clear();
                    vec![]
                } else {
                    self.world
                        .holders
                        .iter()
                        .copied()
                        .filter(|h| ports.contains(&h.port))
                        .collect()
                };
                (Action::FindHolders(ports), Some(Event::Holders(found)))
            }
            Action::QueryListening { pgid } => (
                Action::QueryListening { pgid },
                Some(Event::Listening(self.world.listening.clone())),
            ),
            Action::CompareWatched => (
                Action::CompareWatched,
                Some(Event::WatchCompared {
                    changed: self.world.changed,
                }),
            ),
            Action::Exit(e) => {
                self.exited = Some(e);
                (Action::Exit(e), None)
            }
            other => (other, None),
        };
        self.log.push(recorded.clone());
        done.push(recorded);
        if let Some(ev) = answer {
            self.batch(ev, done);
        }
    }

    fn fresh_pid(&mut self) -> i32 {
        let pid = self.next_pid;
        self.next_pid += 1;
        pid
    }

    /// SPEC §5 / §14.8 on a record the loop would write.
    fn check_record(&mut self, r: &Record) {
        assert!(r.generation >= self.max_generation, "generation went back");
        self.max_generation = r.generation;
        assert_eq!(
            r.generation,
            self.spawned.len() as u64,
            "one generation per spawn"
        );
        assert_eq!(
            r.restarts,
            r.generation.saturating_sub(1),
            "restarts == generation - 1"
        );
        assert_eq!(r.supervisor_pid, self.sup.host.pid);
        let c = self.sup.counters();
        assert_eq!(
            (c.generation, c.exits, c.restarts, c.oom_kills),
            (r.generation, r.exits, r.restarts, r.oom_kills),
            "the record shows the counters"
        );
        match r.state.as_str() {
            state::STARTING | state::READY | state::DRAINING => {
                assert_eq!(r.exits, r.restarts, "exits == restarts while {}", r.state);
                assert_eq!(r.pid, self.spawned.last().copied(), "pid while {}", r.state);
            }
            state::BACKOFF => {
                assert_eq!(r.exits, r.restarts + 1, "exits == restarts + 1 in backoff");
                assert_eq!(r.pid, None, "pid is null in backoff");
            }
            state::STOPPING => {}
            other => panic!("unknown state {other}"),
        }
    }

    /// After every event: the PID file shows the current state (nothing
    /// changed without a write), and the wait the loop would do is a real
    /// one (a deadline in the past would spin).
    fn check_idle_state(&self) {
        if self.exited.is_some() {
            return;
        }
        if let Some(last) = self.written.last() {
            assert_eq!(
                &self.sup.record(),
                last,
                "state changed without a PID-file write"
            );
        }
        if let Some(t) = self.sup.deadline() {
            let now = self.now();
            assert!(
                t > now || now == Time::at(Duration::MAX),
                "deadline {t:?} is not after now {now:?}: the loop would spin"
            );
        }
    }

    // ---------------------------------------------------------- events

    fn start(&mut self, at: u64) -> Vec<Action> {
        self.start_oom(at, None)
    }

    fn start_oom(&mut self, at: u64, oom_kills: Option<u64>) -> Vec<Action> {
        self.world.oom_at_spawn = oom_kills;
        let ev = Event::Start {
            wall_ms: WALL0 + at,
        };
        self.feed(ev, at)
    }

    /// Nothing but time passed.
    fn tick(&mut self, at: u64) -> Vec<Action> {
        self.feed(Event::Tick, at)
    }

    /// One reaping pass that reaps the daemon and leaves nothing behind.
    fn reap(&mut self, ended: Ended, at: u64) -> Vec<Action> {
        self.daemon_exit(plain(ended), false, at)
    }

    /// One reaping pass that reaps the daemon; stragglers remain.
    fn exit_leaving(&mut self, ended: Ended, at: u64) -> Vec<Action> {
        self.daemon_exit(plain(ended), true, at)
    }

    fn daemon_exit(&mut self, x: DaemonExit, left: bool, at: u64) -> Vec<Action> {
        let mut a = self.feed(Event::Children { left }, at);
        a.extend(self.feed(Event::DaemonExited(x), at));
        a
    }

    /// A reaping pass that found ctlinit's tree empty.
    fn tree_gone(&mut self, at: u64) -> Vec<Action> {
        self.feed(Event::Children { left: false }, at)
    }

    /// The last --check ended; the daemon still runs.
    fn check_ended(&mut self, ended: Ended, at: u64) -> Vec<Action> {
        let pid = *self.checks.last().expect("a check was spawned");
        let mut a = self.feed(Event::Children { left: true }, at);
        a.extend(self.feed(Event::Reaped { pid, ended }, at));
        a
    }

    /// A signal sent to ctlinit from outside (`docker stop`, `kill`).
    fn signal(&mut self, signo: i32, at: u64) -> Vec<Action> {
        self.signal_from(signo, 0, at)
    }

    fn signal_from(&mut self, signo: i32, sender: i32, at: u64) -> Vec<Action> {
        if self.s.stop_on.contains(&signo) {
            self.stop_requested = true;
        }
        let r = Received {
            signo,
            sender,
            control: false,
        };
        self.feed(Event::Signal(r), at)
    }

    /// `ctlinit restart`'s control message.
    fn restart(&mut self, at: u64) -> Vec<Action> {
        let r = Received {
            signo: signals::CONTROL,
            sender: 4000,
            control: true,
        };
        self.feed(Event::Signal(r), at)
    }

    fn notify(&mut self, from: Sender, notice: Notice, at: u64) -> Vec<Action> {
        let pid = self.spawned.last().copied().unwrap_or(0);
        self.feed(Event::Notify { pid, from, notice }, at)
    }

    /// `READY=1` from the daemon.
    fn ready(&mut self, at: u64) -> Vec<Action> {
        self.notify(Sender::Daemon, ready_notice(), at)
    }

    fn keepalive(&mut self, from: Sender, at: u64) -> Vec<Action> {
        self.notify(from, keepalive_notice(), at)
    }

    // ---------------------------------------------------------- time

    fn deadline_ms(&self) -> Option<u64> {
        self.sup.deadline().map(|t| self.ms_of(t))
    }

    /// Ticks at the reported deadline; returns (when, actions).
    fn wait_deadline(&mut self) -> (u64, Vec<Action>) {
        let at = self.deadline_ms().expect("a deadline");
        (at, self.tick(at))
    }

    /// Wakes at every deadline up to `at`, then at `at`: the loop left alone.
    fn run_until(&mut self, at: u64) -> Vec<Action> {
        let mut all = vec![];
        while let Some(t) = self.deadline_ms().filter(|&t| t <= at) {
            all.extend(self.tick(t));
            if self.exited.is_some() {
                return all;
            }
        }
        if self.at < at {
            all.extend(self.tick(at));
        }
        all
    }

    // ---------------------------------------------------------- views

    fn pid(&self) -> i32 {
        *self.spawned.last().expect("a daemon was spawned")
    }

    fn check_pid(&self) -> i32 {
        *self.checks.last().expect("a check was spawned")
    }

    fn state(&self) -> String {
        self.sup.record().state
    }

    fn spawns(&self) -> usize {
        self.spawned.len()
    }

    /// (generation, exits, restarts)
    fn counters(&self) -> (u64, u64, u64) {
        let c = self.sup.counters();
        (c.generation, c.exits, c.restarts)
    }

    /// The states written to the PID file since the last call.
    fn written(&mut self) -> Vec<String> {
        let new = self.written[self.seen..]
            .iter()
            .map(|r| r.state.clone())
            .collect();
        self.seen = self.written.len();
        new
    }

    fn waiting_for_ports(&self) -> bool {
        matches!(self.sup.phase, Phase::PortWait { .. })
    }

    /// The ports the next spawn waits for, while it waits.
    fn ports_to_free(&self) -> Option<Vec<u16>> {
        match &self.sup.phase {
            Phase::PortWait { handoff, .. } => Some(self.sup.wanted_ports(handoff)),
            _ => None,
        }
    }

    fn ended(&self) -> Option<(ExitCode, Reason)> {
        self.exited.map(|e| (e.code, e.reason))
    }
}

fn plain(ended: Ended) -> DaemonExit {
    DaemonExit {
        ended,
        oom: None,
        held_terminal: false,
    }
}

fn driver(mode: RestartMode) -> Driver {
    Driver::new(settings(mode))
}

/// A driver whose first generation is running and ready (ready mode `none`).
fn running(s: Settings) -> Driver {
    let mut d = Driver::new(s);
    let a = d.start(0);
    let expected = if d.s.watch {
        vec![spawn(1), Action::RebaselineWatch]
    } else {
        vec![spawn(1)]
    };
    assert_eq!(a, expected, "ready mode none asks nothing at spawn");
    assert_eq!(d.state(), "ready");
    assert_eq!(d.written(), ["ready"]);
    d
}

/// A driver whose first generation was spawned with `--ready notify`.
fn starting(mut s: Settings) -> Driver {
    s.ready = ReadyMode::Notify;
    let mut d = Driver::new(s);
    d.start(0);
    assert_eq!(d.state(), "starting");
    d.written();
    d
}

// ====================================================== ported: policy `no`

#[test]
fn policy_no_exits_with_the_daemons_status_once_the_tree_is_empty() {
    for (ended, status) in [(Code(0), 0), (Code(3), 3), (Sig(9), 137), (Sig(15), 143)] {
        let mut d = running(settings(No));
        assert_eq!(
            d.exit_leaving(ended, 1000),
            vec![tree(SIGTERM)],
            "{ended:?}"
        );
        assert_eq!(d.written(), ["stopping"]);
        assert!(d.sup.ending());
        assert_eq!(
            d.tree_gone(1000),
            vec![exit(status, Reason::DaemonExited)],
            "{ended:?}"
        );
        assert_eq!(d.counters(), (1, 1, 0));
    }
}

#[test]
fn policy_no_stragglers_get_the_stop_signal_then_sigkill_at_the_deadline() {
    let mut s = settings(No);
    s.stop_signal = SIGQUIT;
    let mut d = running(s);
    assert_eq!(d.exit_leaving(Code(3), 1000), vec![tree(SIGQUIT)]);
    assert_eq!(
        d.deadline_ms(),
        Some(9000),
        "stop deadline counted from the exit"
    );
    assert_eq!(d.tick(1000), vec![]);
    assert_eq!(d.tick(8999), vec![]);
    assert_eq!(d.tick(9000), vec![tree(SIGKILL)]);
    assert_eq!(
        d.deadline_ms(),
        Some(11_000),
        "only the survivor check is left to time out"
    );
    assert_eq!(d.tick(9500), vec![], "SIGKILL is sent once");
    assert_eq!(d.tree_gone(9600), vec![exit(3, Reason::DaemonExited)]);
}

#[test]
fn policy_no_exits_as_soon_as_the_stragglers_are_gone() {
    let mut d = running(settings(No));
    d.exit_leaving(Code(7), 1000);
    assert_eq!(d.tick(1000), vec![]);
    assert_eq!(
        d.tree_gone(1020),
        vec![exit(7, Reason::DaemonExited)],
        "no fixed sleep"
    );
}

#[test]
fn policy_no_readiness_timeout_exits_with_what_the_daemon_died_of() {
    let mut d = starting(settings(No));
    let pid = d.pid();
    assert_eq!(d.tick(30_000), vec![listening_of(pid), sig(pid, SIGTERM)]);
    assert_eq!(
        d.reap(Sig(15), 30_100),
        vec![exit(143, Reason::DaemonExited)]
    );
}

// ================================================== ported: success-exit

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
    d.signal(SIGTERM, 1000);
    assert_eq!(
        d.reap(Sig(15), 1100).last(),
        Some(&exit(0, Reason::Stopped))
    );
}

// ========================================= ported: on-failure, max-restarts

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
                assert!(has_spawn(&a), "n={n} run={run}: {a:?}");
            } else {
                assert_eq!(a.last(), Some(&exit(code, Reason::GaveUp)), "n={n}");
            }
        }
        assert_eq!(d.spawns() as u32, n + 1);
        assert_eq!(d.counters(), (n as u64 + 1, n as u64 + 1, n as u64));
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
    assert_eq!(d.counters(), (51, 50, 50));
}

#[test]
fn give_up_waits_for_stragglers_then_exits_with_the_last_status() {
    let mut s = settings(OnFailure);
    s.policy.max_restarts = 1;
    let mut d = running(s);
    d.reap(Code(2), 10);
    let (at, _) = d.wait_deadline();
    assert_eq!(d.exit_leaving(Sig(9), at + 10), vec![tree(SIGTERM)]);
    assert_eq!(d.written(), ["backoff", "ready", "stopping"]);
    assert_eq!(d.tick(at + 10), vec![]);
    assert_eq!(d.tree_gone(at + 50), vec![exit(137, Reason::GaveUp)]);
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
        d.deadline_ms(),
        Some(at + 30_000 + 100),
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
    assert_eq!(d.counters().0, 11);
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
    assert_eq!(d.counters().0, 3);
    let a = d.reap(Code(1), at + 300);
    assert!(d.exited.is_none(), "gave up: {a:?}");
}

// ======================================================== ported: backoff

#[test]
fn backoff_restarts_at_exit_time_plus_min_doubling_up_to_max() {
    let mut s = settings(OnFailure);
    s.policy.max_restarts = 0;
    let mut d = running(s);
    let mut spawned_at = 0;
    for (i, want) in [100, 200, 400, 800, 1000, 1000].into_iter().enumerate() {
        let exit_at = spawned_at + 10;
        d.reap(Code(1), exit_at);
        assert_eq!(d.written(), ["backoff"]);
        assert_eq!(d.deadline_ms(), Some(exit_at + want), "delay {want}");
        assert_eq!(
            d.tick(exit_at + want - 1),
            vec![],
            "too early for delay {want}"
        );
        assert_eq!(d.tick(exit_at + want), vec![spawn(i as u64 + 2)]);
        assert_eq!(d.written(), ["ready"]);
        spawned_at = exit_at + want;
    }
}

#[test]
fn clean_exit_under_always_waits_out_the_backoff() {
    let mut d = running(settings(Always));
    d.reap(Code(0), 50);
    assert_eq!(d.state(), "backoff");
    assert_eq!(d.deadline_ms(), Some(150));
    assert_eq!(d.tick(149), vec![]);
    assert!(has_spawn(&d.tick(150)));
}

#[test]
fn backoff_waits_for_the_previous_tree_to_drain() {
    let mut d = running(settings(OnFailure));
    d.exit_leaving(Code(1), 1000);
    // With stragglers the only deadline is the drain's; the backoff is not reported.
    assert_eq!(d.deadline_ms(), Some(9000));
    assert_eq!(d.tick(1100), vec![], "no restart while the old tree lives");
    assert_eq!(d.tick(9000), vec![tree(SIGKILL)]);
    assert_eq!(
        d.deadline_ms(),
        Some(11_000),
        "the survivor check, not the backoff"
    );
    assert!(has_spawn(&d.tree_gone(9100)));
}

#[test]
fn backoff_is_idle_apart_from_the_wake_that_ends_it() {
    let mut d = running(settings(OnFailure));
    assert_eq!(d.deadline_ms(), None, "ready: no wake-ups");
    d.reap(Code(1), 1000);
    assert_eq!(d.deadline_ms(), Some(1100));
}

#[test]
fn restart_request_during_backoff_restarts_at_once() {
    let mut s = settings(OnFailure);
    s.policy.backoff_min = ms(10_000);
    s.policy.backoff_max = ms(60_000);
    let mut d = running(s);
    d.reap(Code(1), 1000);
    assert_eq!(d.deadline_ms(), Some(11_000));
    assert_eq!(d.restart(1500), vec![spawn(2)]);
    assert_eq!(d.counters(), (2, 1, 1));
}

// ================================================== ported: stop requests

#[test]
fn term_while_running_forwards_then_kills_the_group_at_the_deadline() {
    for ready in [true, false] {
        let mut s = settings(Always);
        s.stop_signal = SIGQUIT; // what ctlinit sends on its own, not what it forwards (§14.6)
        let mut d = if ready { running(s) } else { starting(s) };
        let pid = d.pid();
        assert_eq!(d.signal(SIGTERM, 1000), vec![sig(pid, SIGTERM)]);
        assert_eq!(d.written(), ["stopping"]);
        assert_eq!(d.deadline_ms(), Some(9000));
        assert_eq!(d.tick(8999), vec![]);
        assert_eq!(d.tick(9000), vec![group(pid, SIGKILL), tree(SIGKILL)]);
        assert_eq!(d.deadline_ms(), Some(11_000), "only the survivor check");
        assert_eq!(d.exit_leaving(Sig(9), 9010), vec![tree(SIGKILL)]);
        assert_eq!(d.tree_gone(9010), vec![exit(137, Reason::Stopped)]);
        assert_eq!(d.spawns(), 1);
    }
}

#[test]
fn term_while_running_exits_with_the_daemons_status_whatever_the_policy() {
    for mode in [No, OnFailure, Always] {
        let mut d = running(settings(mode));
        d.signal(SIGTERM, 1000);
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
    d.signal(SIGTERM, 1000);
    d.exit_leaving(Sig(15), 6000);
    assert_eq!(
        d.deadline_ms(),
        Some(9000),
        "not reset by the daemon's exit"
    );
    assert_eq!(d.tick(9000), vec![tree(SIGKILL)]);
    assert_eq!(d.tree_gone(9050), vec![exit(143, Reason::Stopped)]);
}

#[test]
fn term_while_stopping_for_a_restart_means_no_restart_follows() {
    let mut d = running(settings(Always));
    let pid = d.pid();
    d.restart(1000);
    assert_eq!(d.state(), "stopping");
    assert_eq!(d.signal(SIGTERM, 1500), vec![sig(pid, SIGTERM)]);
    assert_eq!(
        d.deadline_ms(),
        Some(9000),
        "the stop under way keeps its deadline"
    );
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
        assert_eq!(
            d.signal(SIGTERM, 1050),
            vec![exit(status, Reason::Stopped)],
            "{ended:?}"
        );
    }
}

#[test]
fn term_during_backoff_with_stragglers_exits_once_they_are_gone() {
    let mut d = running(settings(OnFailure));
    d.exit_leaving(Code(3), 1000);
    assert_eq!(d.signal(SIGTERM, 2000), vec![]);
    assert_eq!(d.written(), ["backoff", "stopping"]);
    assert!(
        d.deadline_ms().unwrap() <= 10_000,
        "within the stop timeout"
    );
    assert_eq!(d.tick(2000), vec![]);
    assert_eq!(d.tree_gone(2100), vec![exit(3, Reason::Stopped)]);
}

#[test]
fn term_while_waiting_for_ports_between_generations_exits_at_once() {
    let mut s = settings(OnFailure);
    s.ports = vec![8080];
    let mut d = Driver::new(s);
    assert_eq!(d.start(0), vec![probe(&[8080]), spawn(1)]);
    d.reap(Code(4), 1000);
    d.world.busy = vec![8080]; // something else took the port
    assert_eq!(d.wait_deadline(), (1100, vec![probe(&[8080])]));
    assert!(d.waiting_for_ports());
    assert_eq!(d.signal(SIGTERM, 1105), vec![exit(4, Reason::Stopped)]);
}

#[test]
fn stop_before_the_first_spawn_exits_with_128_plus_the_signal() {
    for (signo, status) in [(SIGTERM, 143), (SIGINT, 130), (SIGQUIT, 131)] {
        let mut s = settings(Always);
        s.ports = vec![8080];
        let mut d = Driver::new(s);
        d.world.busy = vec![8080];
        assert_eq!(d.start(0), vec![probe(&[8080])]);
        assert!(d.run_until(100).iter().all(|a| *a == probe(&[8080])));
        assert_eq!(d.signal(signo, 105), vec![exit(status, Reason::Stopped)]);
        assert_eq!(d.counters(), (0, 0, 0));
        assert!(d.written().is_empty(), "no generation: no PID file");
    }
}

#[test]
fn a_second_stop_request_kills_the_group_at_once() {
    for second in [SIGTERM, SIGINT, SIGQUIT] {
        let mut d = running(settings(Always));
        let pid = d.pid();
        d.signal(SIGTERM, 1000);
        assert_eq!(
            d.signal(second, 1100),
            vec![group(pid, SIGKILL), tree(SIGKILL)]
        );
        assert_eq!(
            d.deadline_ms(),
            Some(3100),
            "no second SIGKILL at the stop deadline: only the survivor check"
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
    d.exit_leaving(Code(1), 1000);
    assert_eq!(d.signal(SIGTERM, 1100), vec![]);
    assert_eq!(d.signal(SIGTERM, 1200), vec![tree(SIGKILL)]);
    assert_eq!(d.deadline_ms(), Some(3200), "only the survivor check");
    assert_eq!(d.tree_gone(1300), vec![exit(1, Reason::DaemonExited)]);
}

#[test]
fn rewritten_stop_signal_is_forwarded_but_still_stops() {
    // SPEC §14.6: --rewrite TERM:QUIT forwards QUIT; TERM:0 forwards nothing.
    for (to, sent) in [(SIGQUIT, Some(SIGQUIT)), (0, None)] {
        let mut s = settings(Always);
        s.rewrite = vec![(SIGTERM, to)];
        let mut d = running(s);
        let pid = d.pid();
        let want: Vec<Action> = sent.map(|s| sig(pid, s)).into_iter().collect();
        assert_eq!(d.signal(SIGTERM, 1000), want);
        assert_eq!(d.state(), "stopping");
        assert_eq!(d.tick(9000), vec![group(pid, SIGKILL), tree(SIGKILL)]);
    }
}

#[test]
fn no_spawn_ever_follows_a_stop_request() {
    // Each setup brings a fresh driver (policy always, notify readiness,
    // port 8080) to one phase before t=1000. The driver panics on any
    // Spawn after the stop request.
    type Setup = fn(&mut Driver);
    let setups: [(&str, Setup); 9] = [
        ("waiting for ports before the first spawn", |d| {
            d.world.busy = vec![8080];
            d.start(0);
        }),
        ("starting", |d| {
            d.start(0);
        }),
        ("starting with a pending restart", |d| {
            d.start(0);
            d.restart(10);
        }),
        ("ready", |d| {
            d.start(0);
            d.ready(10);
        }),
        ("stopping for a restart", |d| {
            d.start(0);
            d.ready(10);
            d.restart(20);
        }),
        ("stopping after a readiness timeout", |d| {
            d.start(0);
            d.tick(500);
        }),
        ("backoff", |d| {
            d.start(0);
            d.reap(Code(1), 20);
        }),
        ("backoff with stragglers", |d| {
            d.start(0);
            d.exit_leaving(Code(1), 20);
            d.tick(20);
        }),
        ("waiting for ports between generations", |d| {
            d.start(0);
            d.reap(Code(1), 20);
            d.world.busy = vec![8080];
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
        d.signal(SIGTERM, 1000);
        // Everything that could otherwise lead to a spawn:
        d.restart(1001);
        d.ready(1002);
        d.world.busy.clear();
        d.feed(Event::PortsBusy(vec![]), 1003);
        if d.sup.daemon().is_some() {
            d.reap(Sig(15), 1004);
        }
        d.restart(1005);
        d.tree_gone(1006);
        d.feed(Event::PortsBusy(vec![]), 100_000);
        d.tick(100_000);
        assert_eq!(d.spawns(), before, "{name}");
        assert!(
            matches!(d.ended(), Some((_, Reason::Stopped))),
            "{name}: {:?}",
            d.exited
        );
    }
}

// =============================================== ported: restart requests

#[test]
fn restart_request_when_ready_stops_with_the_stop_signal_and_learns_ports() {
    let mut s = settings(No); // requested restarts happen under any policy
    s.stop_signal = SIGQUIT;
    let mut d = running(s);
    let pid = d.pid();
    d.world.listening = vec![9000];
    assert_eq!(d.restart(1000), vec![listening_of(pid), sig(pid, SIGQUIT)]);
    assert_eq!(d.written(), ["stopping"]);
    assert_eq!(d.deadline_ms(), Some(9000));
    assert_eq!(
        d.reap(Sig(3), 1100),
        vec![probe(&[9000]), spawn(2)],
        "requested restarts skip the backoff; the learnt port is handed off"
    );
    assert_eq!(d.state(), "ready");
    assert_eq!(d.counters(), (2, 1, 1));
}

#[test]
fn restart_stop_kills_the_group_when_the_grace_runs_out() {
    let mut d = running(settings(OnFailure));
    let pid = d.pid();
    d.restart(1000);
    assert_eq!(d.tick(9000), vec![group(pid, SIGKILL), tree(SIGKILL)]);
    assert_eq!(d.exit_leaving(Sig(9), 9010), vec![tree(SIGKILL)]);
    assert!(has_spawn(&d.tree_gone(9010)));
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
    assert_eq!(d.counters().2, 1);
}

#[test]
fn restart_request_while_starting_is_deferred_to_readiness_and_served_once() {
    let mut d = starting(settings(OnFailure));
    let pid = d.pid();
    assert_eq!(d.restart(10), vec![]);
    assert_eq!(d.restart(11), vec![]);
    assert_eq!(d.state(), "starting");
    let a = d.ready(100);
    assert!(a.contains(&sig(pid, SIGTERM)), "{a:?}");
    assert_eq!(d.state(), "stopping");
    d.reap(Sig(15), 200);
    assert_eq!(d.state(), "starting");
    let a = d.ready(300);
    assert!(!has_signal(&a), "served once: {a:?}");
    assert_eq!(d.state(), "ready");
    assert_eq!(d.counters().2, 1);
}

#[test]
fn a_restart_requested_while_starting_completes_even_if_that_generation_exits_cleanly() {
    // SPEC §11: once delivered, a restart completes. Under policy `no` a clean
    // exit would otherwise end ctlinit.
    let mut d = starting(settings(No));
    assert_eq!(d.restart(10), vec![]);
    d.reap(Code(0), 50);
    assert_eq!(d.spawns(), 2, "the pending request starts generation 2");
    assert_eq!(d.counters().0, 2);
    assert_eq!(d.state(), "starting");
}

#[test]
fn a_restart_requested_while_starting_skips_the_backoff_when_that_generation_crashes() {
    // §14.2: requested restarts never wait for a backoff; the crash still counts.
    let mut s = settings(OnFailure);
    s.policy.backoff_min = ms(10_000);
    s.policy.backoff_max = ms(10_000);
    let mut d = starting(s);
    assert_eq!(d.restart(10), vec![]);
    assert_eq!(d.reap(Code(1), 50), vec![spawn(2)]);
    assert_eq!(d.sup.history.consecutive_failures, 1);
}

#[test]
fn a_restart_requested_while_starting_does_not_override_giving_up() {
    let mut s = settings(OnFailure);
    s.policy.max_restarts = 1;
    let mut d = starting(s);
    d.reap(Code(1), 50); // failure 1 of 1
    d.wait_deadline();
    d.restart(200);
    assert_eq!(d.reap(Code(1), 250), vec![exit(1, Reason::GaveUp)]);
}

#[test]
fn restart_request_while_waiting_for_ports_is_served_by_that_spawn() {
    let mut s = settings(OnFailure);
    s.ports = vec![8080];
    let mut d = Driver::new(s);
    d.start(0);
    d.restart(100);
    d.world.busy = vec![8080]; // the old generation's socket lingers
    assert_eq!(d.reap(Sig(15), 200), vec![probe(&[8080])]);
    assert!(d.waiting_for_ports());
    assert_eq!(d.restart(205), vec![]);
    d.world.busy.clear();
    let (_, a) = d.wait_deadline();
    assert_eq!(a, vec![probe(&[8080]), spawn(2)]);
    assert_eq!(d.state(), "ready");
    assert_eq!(d.counters().2, 1);
}

/// Lets pending restarts run to completion; returns when a generation is ready.
fn settle(d: &mut Driver, mut at: u64) {
    for _ in 0..5 {
        match d.state().as_str() {
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
        let mut d = starting(settings(OnFailure));
        d.ready(10);
        burst(&mut d, b[0], 100);
        assert_eq!(d.state(), "stopping");
        burst(&mut d, b[1], 200);
        d.exit_leaving(Sig(15), 300);
        d.tick(300);
        assert_eq!(d.state(), "backoff");
        burst(&mut d, b[2], 400);
        d.tree_gone(500);
        assert_eq!(d.state(), "starting");
        burst(&mut d, b[3], 600);
        d.ready(700);
        settle(&mut d, 800);
        assert_eq!(d.counters().2, want, "{b:?}");
    }
}

// ============================================== ported: readiness timeout

#[test]
fn readiness_timeout_stops_the_daemon_and_counts_as_a_failure() {
    let mut s = settings(OnFailure);
    s.ready = ReadyMode::Listen;
    s.policy.max_restarts = 1;
    s.policy.reset_after = ms(120_000); // a 30 s run would reset the count (see below)
    let mut d = Driver::new(s);
    let a = d.start(0);
    let pid = d.pid();
    assert_eq!(a, vec![spawn(1), listening_of(pid)]);
    assert_eq!(d.written(), ["starting"]);
    assert_eq!(d.deadline_ms(), Some(10), "the next listen probe");
    let a = d.run_until(29_999);
    assert_eq!(a.len(), 2999, "one probe every POLL");
    assert!(a.iter().all(|x| *x == listening_of(pid)));
    assert_eq!(d.deadline_ms(), Some(30_000));
    assert_eq!(d.tick(30_000), vec![listening_of(pid), sig(pid, SIGTERM)]);
    assert_eq!(d.written(), ["stopping"]);
    assert_eq!(
        d.deadline_ms(),
        Some(38_000),
        "no more probes: only the stop deadline"
    );
    d.reap(Sig(15), 30_100);
    assert_eq!(d.state(), "backoff", "failure 1 of 1 is restarted");
    assert_eq!(d.deadline_ms(), Some(30_200), "a failure backs off");
    let (at, _) = d.wait_deadline();
    d.run_until(at + 30_000);
    assert_eq!(
        d.reap(Sig(15), at + 30_050).last(),
        Some(&exit(143, Reason::GaveUp))
    );
}

#[test]
fn readiness_timeout_is_a_failure_even_when_the_daemon_exits_cleanly() {
    let mut d = starting(settings(OnFailure)); // a clean exit would end ctlinit
    d.tick(30_000);
    d.reap(Code(0), 30_010);
    assert!(d.exited.is_none());
    assert_eq!(d.state(), "backoff");
}

#[test]
fn readiness_timeout_status_is_what_the_daemon_died_of() {
    for (ended, status) in [(Sig(15), 143), (Sig(9), 137), (Code(1), 1)] {
        let mut s = settings(OnFailure);
        s.ready_timeout = ms(5000);
        s.policy.max_restarts = 1;
        let mut d = starting(s);
        d.tick(5000);
        d.reap(ended, 5010);
        let (at, _) = d.wait_deadline();
        d.tick(at + 5000);
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
    d.world.listening = vec![8080];
    assert_eq!(
        d.tick(500),
        vec![listening_of(pid), listening_of(pid)],
        "the probe finds it listening; readiness learns its ports"
    );
    assert_eq!(d.written(), ["starting", "ready"]);
    assert_eq!(d.deadline_ms(), None);
    assert_eq!(d.tick(60_000), vec![]);
    assert_eq!(d.state(), "ready");
}

#[test]
fn a_daemon_that_never_becomes_ready_gives_up_with_default_timeouts() {
    let mut s = settings(OnFailure);
    s.policy.max_restarts = 2;
    s.policy.reset_after = ms(30_000); // the defaults
    s.ready_timeout = ms(30_000);
    let mut d = starting(s);
    let mut at = 0;
    for _ in 0..10 {
        d.tick(at + 30_000);
        d.reap(Sig(15), at + 30_010);
        if d.exited.is_some() {
            break;
        }
        at = d.wait_deadline().0;
    }
    assert_eq!(
        d.ended(),
        Some((ExitCode::Status(143), Reason::GaveUp)),
        "generation {}",
        d.counters().0
    );
    assert_eq!(d.counters().0, 3);
}

// ================================================== ported: port handoff

fn with_ports(mode: RestartMode, ports: &[u16]) -> Driver {
    let mut s = settings(mode);
    s.ports = ports.to_vec();
    Driver::new(s)
}

#[test]
fn spawn_waits_until_the_ports_are_free() {
    let mut d = with_ports(No, &[8080]);
    d.world.busy = vec![8080];
    assert_eq!(
        d.start(0),
        vec![probe(&[8080])],
        "no Spawn while a port is busy"
    );
    assert!(d.waiting_for_ports());
    assert_eq!(d.ports_to_free(), Some(vec![8080]));
    assert_eq!(d.deadline_ms(), Some(10), "probed again every POLL");
    assert!(d.run_until(100).iter().all(|a| *a == probe(&[8080])));
    d.world.busy.clear();
    assert_eq!(d.wait_deadline().1, vec![probe(&[8080]), spawn(1)]);
    assert_eq!(d.counters().0, 1);
}

#[test]
fn busy_ports_before_the_deadline_do_nothing_and_look_for_no_holders() {
    let mut d = with_ports(No, &[8080]);
    d.world.busy = vec![8080];
    d.world.holders = vec![holder(8080, Some(42), true)];
    d.start(0);
    let a = d.run_until(4999);
    assert!(a.iter().all(|a| *a == probe(&[8080])), "{a:?}");
    assert!(d.waiting_for_ports());
}

#[test]
fn an_in_tree_holder_is_killed_once_and_gets_two_more_seconds() {
    // (ports free after the kill?, expected result at the extended deadline)
    for freed in [true, false] {
        let mut d = with_ports(No, &[8080, 8081]);
        d.world.busy = vec![8080, 8081];
        d.world.holders = vec![holder(8080, Some(42), true), holder(8081, Some(43), true)];
        d.start(0);
        d.run_until(4990);
        assert_eq!(
            d.tick(5000),
            vec![
                probe(&[8080, 8081]),
                Action::FindHolders(vec![8080, 8081]),
                kill_holder(42),
                kill_holder(43)
            ]
        );
        assert_eq!(d.deadline_ms(), Some(5010), "probing on");
        d.world.busy = vec![8080];
        d.world.holders.truncate(1);
        let a = d.run_until(6990);
        assert!(a.iter().all(|a| *a == probe(&[8080, 8081])), "{a:?}");
        if freed {
            d.world.busy.clear();
        }
        let a = d.tick(7000);
        if freed {
            assert!(has_spawn(&a), "{a:?}");
        } else {
            assert_eq!(
                a,
                vec![
                    probe(&[8080, 8081]),
                    Action::FindHolders(vec![8080]),
                    PORT_BUSY
                ],
                "killed only once, then abort"
            );
            assert_eq!(d.counters(), (0, 0, 0));
        }
    }
}

#[test]
fn a_holder_outside_the_tree_aborts_with_69_at_once() {
    for hs in [
        vec![holder(8080, Some(4242), false)],
        vec![holder(8080, None, false)],
    ] {
        let mut d = with_ports(Always, &[8080]);
        d.world.busy = vec![8080];
        d.world.holders = hs.clone();
        d.start(0);
        let a = d.run_until(5000);
        assert_eq!(
            a[a.len() - 2..],
            [Action::FindHolders(vec![8080]), PORT_BUSY],
            "{hs:?}"
        );
        assert_eq!(d.counters(), (0, 0, 0), "port-busy before any spawn");
    }
}

#[test]
fn a_port_freed_between_the_probe_and_the_scan_is_probed_again_at_once() {
    let mut d = with_ports(No, &[8080]);
    d.world.busy = vec![8080];
    d.world.holders_vanish = true;
    d.start(0);
    d.run_until(4990);
    assert_eq!(
        d.tick(5000),
        vec![
            probe(&[8080]),
            Action::FindHolders(vec![8080]),
            probe(&[8080]),
            spawn(1)
        ]
    );
}

#[test]
fn mixed_holders_kill_the_in_tree_one_then_abort() {
    let mut d = with_ports(No, &[8080, 8081]);
    d.world.busy = vec![8080, 8081];
    d.world.holders = vec![
        holder(8080, Some(42), true),
        holder(8081, Some(4242), false),
    ];
    d.start(0);
    let a = d.run_until(5000);
    assert_eq!(a.last(), Some(&kill_holder(42)));
    d.world.busy = vec![8081];
    d.world.holders.remove(0);
    assert_eq!(d.run_until(7000).last(), Some(&PORT_BUSY));
}

#[test]
fn port_busy_on_a_restart_keeps_the_counters_of_the_last_generation() {
    let mut d = with_ports(Always, &[8080]);
    d.start(0);
    d.reap(Code(1), 100);
    d.world.busy = vec![8080];
    d.world.holders = vec![holder(8080, Some(9), false)];
    d.wait_deadline();
    assert_eq!(d.state(), "backoff");
    assert!(d.waiting_for_ports());
    assert_eq!(d.run_until(5200).last(), Some(&PORT_BUSY));
    assert_eq!(d.counters(), (1, 1, 0));
}

#[test]
fn the_previous_generations_ports_must_be_free_before_a_restart() {
    let mut d = driver(OnFailure);
    d.world.listening = vec![9000];
    d.start(0);
    d.restart(1000); // QueryListening: the generation listens on 9000
    d.world.busy = vec![9000];
    let a = d.reap(Sig(15), 1100);
    assert_eq!(a, vec![probe(&[9000])], "no spawn while 9000 is held");
    assert_eq!(d.ports_to_free(), Some(vec![9000]));
    assert_eq!(d.wait_deadline().1, vec![probe(&[9000])]);
    d.world.busy.clear();
    assert!(has_spawn(&d.wait_deadline().1));
    // Handoff ports are forgotten after the spawn: generation 2 listens on nothing.
    d.world.listening.clear();
    d.restart(2000);
    assert_eq!(d.reap(Sig(15), 2100), vec![spawn(3)]);
}

// =========================================== ported: signal targets, misc

#[test]
fn forwarded_signals_go_to_the_group_with_pgroup() {
    for pgroup in [false, true] {
        let mut s = settings(Always);
        s.pgroup = pgroup;
        let mut d = running(s);
        let pid = d.pid();
        let to = |pid| if pgroup { group(pid, 0) } else { sig(pid, 0) };
        let with = |a: Action, s: i32| match a {
            Action::Signal { to, .. } => Action::Signal { to, sig: s },
            other => other,
        };
        assert_eq!(d.signal(SIGHUP, 50), vec![with(to(pid), SIGHUP)]);
        assert_eq!(d.signal(SIGUSR1, 60), vec![with(to(pid), SIGUSR1)]);
        assert_eq!(d.restart(100)[1], with(to(pid), SIGTERM), "pgroup={pgroup}");
        d.reap(Sig(15), 200);
        let pid = d.pid();
        assert_eq!(d.signal(SIGINT, 300)[0], with(to(pid), SIGINT));
        assert_eq!(
            d.tick(8300)[0],
            group(pid, SIGKILL),
            "SIGKILL always hits the group"
        );
    }
}

#[test]
fn signals_are_dropped_when_no_daemon_runs() {
    let mut d = running(settings(OnFailure));
    d.reap(Code(1), 100);
    assert_eq!(d.signal(SIGHUP, 110), vec![]);
}

#[test]
fn exec_failure_exits_at_once_whatever_the_policy() {
    use SpawnError::*;
    for (mode, e) in [
        (No, NotFound),
        (OnFailure, NotFound),
        (Always, NotExecutable),
    ] {
        let mut d = driver(mode);
        d.world.spawn_fail = [e].into();
        assert_eq!(d.start(0), vec![spawn(1), exit_spawn(e)], "{mode:?}");
        assert_eq!(d.counters(), (0, 0, 0));
    }
}

#[test]
fn the_parent_is_told_ready_only_once() {
    let host = Host {
        notify_parent: true,
        ..host()
    };
    let mut d = Driver::with(settings(Always), host, Duration::ZERO);
    assert_eq!(d.start(0), vec![spawn(1), Action::NotifyParentReady]);
    for at in [100, 300, 500] {
        d.restart(at);
        let a = d.reap(Sig(15), at + 50);
        assert!(has_spawn(&a), "{a:?}");
        assert!(!a.contains(&Action::NotifyParentReady), "{a:?}");
    }
}

#[test]
fn the_record_describes_the_current_generation() {
    let mut d = starting(settings(OnFailure));
    assert_eq!(
        d.sup.record(),
        Record {
            pid: Some(FIRST_PID),
            generation: 1,
            state: "starting".into(),
            supervisor_pid: HOST_PID,
            started_at_ms: WALL0,
            exits: 0,
            restarts: 0,
            oom_kills: 0,
            last_exit: None,
            last_check: None,
            command: vec!["mydaemon".into(), "--flag".into()],
            version: "0.1.0".into(),
            supervisor_start: 4242,
        }
    );
    d.ready(40);
    assert_eq!(d.state(), "ready");
    d.reap(Code(1), 1000);
    let r = d.sup.record();
    assert_eq!(
        (r.pid, r.state.as_str(), r.started_at_ms),
        (None, "backoff", WALL0)
    );
    d.wait_deadline();
    let r = d.sup.record();
    assert_eq!(
        (r.pid, r.state.as_str(), r.started_at_ms),
        (Some(FIRST_PID + 1), "starting", WALL0 + 1100)
    );
    assert_eq!(
        r.last_exit,
        Some(LastExit {
            code: Some(1),
            signal: None,
            status: 1,
            oom_kill: false
        })
    );
}

// ============================================== ported: coalescing window

#[test]
fn requests_soon_after_a_spawn_are_merged_and_served_when_the_window_ends() {
    // A fast daemon restarts in a few ms: without the window every request of
    // a burst would land after a fresh spawn and restart it again.
    let mut d = Driver::windowed(settings(OnFailure));
    d.start(0);
    let first = d.pid();
    assert_eq!(d.restart(10), vec![], "10 ms after the spawn: remembered");
    assert_eq!(d.restart(20), vec![], "merged");
    assert_eq!(d.restart(30), vec![], "merged");
    assert_eq!(d.state(), "ready");
    assert_eq!(d.deadline_ms(), Some(250), "one wake when the window ends");
    let a = d.tick(250);
    assert!(a.contains(&sig(first, SIGTERM)), "{a:?}");
    d.reap(Sig(15), 260);
    assert_eq!(d.spawns(), 2);
    // Requests right after the second spawn: at most one more restart.
    for t in [261, 262, 300] {
        d.restart(t);
    }
    d.tick(260 + 250);
    d.reap(Sig(15), 520);
    assert_eq!(d.spawns(), 3, "a burst causes at most 2 restarts");
    assert_eq!(d.deadline_ms(), None, "nothing pending: idle");
}

#[test]
fn a_request_after_the_window_restarts_at_once() {
    let mut d = Driver::windowed(settings(OnFailure));
    d.start(0);
    let pid = d.pid();
    let a = d.restart(COALESCE.as_millis() as u64);
    assert!(a.contains(&sig(pid, SIGTERM)), "{a:?}");
}

// ================================================ facts in, decisions out

#[test]
fn a_job_control_stop_of_the_daemon_is_continued() {
    use crate::core::signals::{SIGTSTP, SIGTTIN, SIGTTOU};
    for stop in [SIGTSTP, SIGTTIN, SIGTTOU] {
        let mut d = running(settings(Always));
        let pid = d.pid();
        let ev = Event::ChildStopped { pid, sig: stop };
        assert_eq!(d.feed(ev, 100), vec![group(pid, SIGCONT)], "{stop}");
    }
}

#[test]
fn a_stop_of_another_process_or_by_another_signal_is_left_alone() {
    let mut d = running(settings(Always));
    let pid = d.pid();
    let other = Event::ChildStopped {
        pid: pid + 7,
        sig: SIGTSTP,
    };
    assert_eq!(d.feed(other, 100), vec![]);
    let by_sigstop = Event::ChildStopped { pid, sig: SIGSTOP };
    assert_eq!(
        d.feed(by_sigstop, 110),
        vec![],
        "SIGSTOP is someone's deliberate stop"
    );
}

#[test]
fn notify_ready_counts_only_from_the_daemon_and_its_tree() {
    for (from, ready) in [
        (Sender::Daemon, true),
        (Sender::DaemonTree, true),
        (Sender::Other, false),
    ] {
        let mut d = starting(settings(Always));
        let pid = d.pid();
        let a = d.notify(from, ready_notice(), 100);
        if ready {
            assert_eq!(a, vec![listening_of(pid)], "{from:?}");
            assert_eq!(d.written(), ["ready"]);
        } else {
            assert_eq!(a, vec![], "{from:?}");
            assert_eq!(d.state(), "starting", "a straggler never marks it ready");
        }
    }
}

#[test]
fn notify_ready_means_nothing_without_ready_notify() {
    let mut s = settings(Always);
    s.ready = ReadyMode::Listen;
    let mut d = Driver::new(s);
    d.start(0);
    assert_eq!(d.ready(5), vec![]);
    assert_eq!(d.state(), "starting");
}

#[test]
fn a_status_line_is_only_logged() {
    let mut d = starting(settings(Always));
    let n = Notice {
        status: Some("loading 3 of 7".into()),
        ..Notice::default()
    };
    assert_eq!(d.notify(Sender::Daemon, n, 100), vec![]);
    assert_eq!(d.state(), "starting");
    assert!(d.written().is_empty());
}

#[test]
fn port_readiness_needs_every_port_busy_and_probes_every_poll() {
    let mut s = settings(Always);
    s.ports = vec![8080, 8081];
    s.ready = ReadyMode::Port;
    let mut d = Driver::new(s);
    let both = [8080, 8081];
    assert_eq!(d.start(0), vec![probe(&both), spawn(1), probe(&both)]);
    let pid = d.pid();
    assert_eq!(d.deadline_ms(), Some(10), "the next probe, one POLL later");
    d.world.busy = vec![8080];
    assert_eq!(d.tick(10), vec![probe(&both)]);
    assert_eq!(d.state(), "starting", "one port of two is not ready");
    assert_eq!(d.deadline_ms(), Some(20));
    d.world.busy = vec![8080, 8081];
    assert_eq!(d.tick(20), vec![probe(&both), listening_of(pid)]);
    assert_eq!(d.state(), "ready");
    assert_eq!(d.deadline_ms(), None, "no probes once ready");
}

#[test]
fn listen_readiness_needs_any_listening_socket() {
    let mut s = settings(Always);
    s.ready = ReadyMode::Listen;
    let mut d = Driver::new(s);
    d.start(0);
    let pid = d.pid();
    assert_eq!(d.deadline_ms(), Some(10));
    assert_eq!(d.tick(10), vec![listening_of(pid)]);
    assert_eq!(d.deadline_ms(), Some(20));
    d.world.listening = vec![34567]; // any port, from its own config
    assert_eq!(d.tick(20), vec![listening_of(pid), listening_of(pid)]);
    assert_eq!(d.state(), "ready");
}

#[test]
fn the_readiness_deadline_still_applies_to_probed_readiness() {
    for mode in [ReadyMode::Port, ReadyMode::Listen] {
        let mut s = settings(OnFailure);
        s.ports = vec![8080];
        s.ready = mode;
        s.ready_timeout = ms(1000);
        let mut d = Driver::new(s);
        d.start(0);
        let pid = d.pid();
        let a = d.run_until(1000);
        assert_eq!(
            a[a.len() - 2..],
            [listening_of(pid), sig(pid, SIGTERM)],
            "{mode:?}"
        );
        assert_eq!(d.state(), "stopping");
        assert_eq!(d.deadline_ms(), Some(9000), "{mode:?}: probing stopped");
    }
}

#[test]
fn ready_mode_none_is_ready_at_spawn_without_asking_anything() {
    let mut d = driver(Always);
    assert_eq!(d.start(0), vec![spawn(1)]);
    assert_eq!(d.state(), "ready");
    assert_eq!(d.deadline_ms(), None);
}

// ================================================== signal classification

/// What one received signal does to a ready daemon.
fn on_signal(s: Settings, signo: i32, sender: i32) -> (i32, Vec<Action>, String) {
    let mut d = running(s);
    let pid = d.pid();
    let a = d.signal_from(signo, sender, 100);
    (pid, a, d.state())
}

#[test]
fn sigchld_only_wakes_the_reaper() {
    let (_, a, state) = on_signal(settings(Always), SIGCHLD, 0);
    assert_eq!((a, state.as_str()), (vec![], "ready"));
}

#[test]
fn the_control_message_and_the_reload_signal_restart_the_daemon() {
    let mut s = settings(No);
    s.reload_signal = Some(SIGHUP);
    let (pid, a, state) = on_signal(s.clone(), SIGHUP, 0);
    assert_eq!(
        a,
        vec![listening_of(pid), sig(pid, SIGTERM)],
        "reload signal"
    );
    assert_eq!(state, "stopping");
    let mut d = running(s);
    let pid = d.pid();
    assert_eq!(
        d.restart(100),
        vec![listening_of(pid), sig(pid, SIGTERM)],
        "control"
    );
    // The control signal without the magic value is an ordinary signal.
    let (pid, a, _) = on_signal(settings(No), signals::CONTROL, 0);
    assert_eq!(a, vec![sig(pid, signals::CONTROL)]);
}

#[test]
fn sigpipe_from_ctlinit_itself_is_dropped_and_from_others_forwarded() {
    let (_, a, _) = on_signal(settings(Always), SIGPIPE, HOST_PID);
    assert_eq!(a, vec![], "ctlinit's own write to a closed pipe");
    let (pid, a, _) = on_signal(settings(Always), SIGPIPE, 777);
    assert_eq!(a, vec![sig(pid, SIGPIPE)]);
}

#[test]
fn fault_signals_are_never_forwarded() {
    for fault in [SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT] {
        let (_, a, state) = on_signal(settings(Always), fault, 777);
        assert_eq!((a, state.as_str()), (vec![], "ready"), "{fault}");
    }
}

#[test]
fn other_signals_are_forwarded_as_they_came() {
    for other in [SIGHUP, SIGUSR1, SIGUSR2, 32, 33, 34, 64] {
        let (pid, a, state) = on_signal(settings(Always), other, 0);
        assert_eq!(
            (a, state.as_str()),
            (vec![sig(pid, other)], "ready"),
            "{other}"
        );
    }
}

#[test]
fn rewrite_changes_or_drops_what_is_forwarded() {
    let mut s = settings(Always);
    s.rewrite = vec![(SIGUSR1, SIGUSR2), (SIGHUP, 0)];
    let (pid, a, _) = on_signal(s.clone(), SIGUSR1, 0);
    assert_eq!(a, vec![sig(pid, SIGUSR2)]);
    let (_, a, state) = on_signal(s, SIGHUP, 0);
    assert_eq!((a, state.as_str()), (vec![], "ready"), "X:0 drops it");
}

#[test]
fn a_rewritten_stop_signal_still_stops_and_is_forwarded_as_the_new_one() {
    // §14.6: a received TERM is a stop whatever --rewrite forwards.
    let mut s = settings(Always);
    s.rewrite = vec![(SIGTERM, SIGUSR1)];
    let mut d = running(s);
    let pid = d.pid();
    assert_eq!(d.signal(SIGTERM, 100), vec![sig(pid, SIGUSR1)]);
    assert_eq!(d.state(), "stopping");
    assert_eq!(d.reap(Code(0), 200), vec![exit(0, Reason::Stopped)]);
}

#[test]
fn a_signal_rewritten_into_term_is_only_a_forward() {
    let mut s = settings(Always);
    s.rewrite = vec![(SIGUSR1, SIGTERM)];
    let (pid, a, state) = on_signal(s, SIGUSR1, 0);
    assert_eq!((a, state.as_str()), (vec![sig(pid, SIGTERM)], "ready"));
}

#[test]
fn stop_on_decides_which_signals_stop() {
    let mut s = settings(Always);
    s.stop_on = vec![SIGTERM, SIGINT];
    let (pid, a, state) = on_signal(s.clone(), SIGQUIT, 0);
    assert_eq!(
        (a, state.as_str()),
        (vec![sig(pid, SIGQUIT)], "ready"),
        "QUIT reaches a JVM for a thread dump without stopping it"
    );
    let (pid, a, state) = on_signal(s, SIGINT, 0);
    assert_eq!((a, state.as_str()), (vec![sig(pid, SIGINT)], "stopping"));
}

#[test]
fn pgroup_sends_forwards_and_stops_to_the_group() {
    let mut s = settings(Always);
    s.pgroup = true;
    let (pid, a, _) = on_signal(s.clone(), SIGUSR1, 0);
    assert_eq!(a, vec![group(pid, SIGUSR1)]);
    let (pid, a, _) = on_signal(s, SIGTERM, 0);
    assert_eq!(a, vec![group(pid, SIGTERM)]);
}

// ======================================================== drain (§4, §14.27)

fn draining(mode: RestartMode) -> Driver {
    let mut s = settings(mode);
    s.stop_delay = ms(5000);
    let mut d = running(s);
    assert_eq!(d.signal(SIGTERM, 1000), vec![], "the daemon keeps serving");
    assert_eq!(d.written(), ["draining"]);
    assert_eq!(d.sup.record().pid, Some(d.pid()));
    d
}

#[test]
fn term_with_a_stop_delay_drains_then_forwards_and_the_grace_counts_from_the_forward() {
    let mut d = draining(Always);
    let pid = d.pid();
    assert_eq!(d.deadline_ms(), Some(6000));
    assert_eq!(d.tick(5999), vec![]);
    assert_eq!(d.tick(6000), vec![sig(pid, SIGTERM)]);
    assert_eq!(d.written(), ["stopping"]);
    assert_eq!(
        d.deadline_ms(),
        Some(14_000),
        "stop timeout counted from the forward"
    );
    assert_eq!(d.tick(14_000), vec![group(pid, SIGKILL), tree(SIGKILL)]);
    assert_eq!(d.reap(Sig(9), 14_010), vec![exit(137, Reason::Stopped)]);
}

#[test]
fn the_drain_forwards_the_signal_that_was_received() {
    let mut s = settings(Always);
    s.stop_delay = ms(5000);
    s.stop_signal = SIGQUIT;
    s.rewrite = vec![(SIGINT, SIGUSR2)];
    let mut d = running(s);
    let pid = d.pid();
    d.signal(SIGINT, 0);
    assert_eq!(d.tick(5000), vec![sig(pid, SIGUSR2)]);
}

#[test]
fn a_second_stop_signal_during_the_drain_forwards_at_once_and_a_third_kills() {
    let mut d = draining(Always);
    let pid = d.pid();
    assert_eq!(d.signal(SIGTERM, 2000), vec![sig(pid, SIGTERM)]);
    assert_eq!(d.state(), "stopping");
    assert_eq!(d.deadline_ms(), Some(10_000));
    assert_eq!(
        d.signal(SIGINT, 2100),
        vec![group(pid, SIGKILL), tree(SIGKILL)]
    );
}

#[test]
fn the_daemon_exiting_during_the_drain_ends_ctlinit_with_its_status() {
    for mode in [No, OnFailure, Always] {
        for (ended, status) in [(Code(0), 0), (Code(3), 3), (Sig(9), 137)] {
            let mut d = draining(mode);
            assert_eq!(
                d.reap(ended, 2000),
                vec![exit(status, Reason::Stopped)],
                "{mode:?} {ended:?}"
            );
            assert_eq!(d.spawns(), 1);
        }
    }
}

#[test]
fn restart_requests_during_the_drain_start_nothing() {
    let mut s = settings(Always);
    s.stop_delay = ms(5000);
    s.reload_signal = Some(SIGHUP);
    s.watch = true;
    let mut d = running(s);
    let pid = d.pid();
    d.signal(SIGTERM, 1000);
    assert_eq!(d.restart(1100), vec![]);
    assert_eq!(d.signal(SIGHUP, 1200), vec![]);
    d.world.changed = true;
    d.feed(Event::WatchActivity, 1300);
    assert_eq!(d.tick(1550), vec![Action::CompareWatched]);
    assert_eq!(d.state(), "draining");
    assert_eq!(d.tick(6000), vec![sig(pid, SIGTERM)]);
    assert_eq!(d.reap(Sig(15), 6100), vec![exit(143, Reason::Stopped)]);
    assert_eq!(d.spawns(), 1);
}

#[test]
fn other_signals_are_still_forwarded_during_the_drain() {
    let mut d = draining(Always);
    let pid = d.pid();
    assert_eq!(d.signal(SIGUSR1, 1100), vec![sig(pid, SIGUSR1)]);
    assert_eq!(d.state(), "draining");
}

#[test]
fn stop_delay_zero_forwards_at_once() {
    let mut d = running(settings(Always));
    let pid = d.pid();
    assert_eq!(d.signal(SIGTERM, 1000), vec![sig(pid, SIGTERM)]);
    assert_eq!(d.written(), ["stopping"], "never draining");
    assert_eq!(d.deadline_ms(), Some(9000));
}

#[test]
fn a_stop_during_backoff_does_not_drain() {
    let mut s = settings(Always);
    s.stop_delay = ms(5000);
    let mut d = running(s);
    d.reap(Code(1), 100);
    assert_eq!(d.signal(SIGTERM, 150), vec![exit(1, Reason::Stopped)]);
}

// ================================================ restart-exit (§8, §14.26)

fn restart_exit(mode: RestartMode) -> Settings {
    let mut s = settings(mode);
    s.restart_exit = vec![42];
    s
}

#[test]
fn a_restart_exit_code_starts_the_next_generation_under_every_policy() {
    for mode in [No, OnFailure, Always] {
        let mut d = running(restart_exit(mode));
        assert_eq!(
            d.reap(Code(42), 1000),
            vec![spawn(2)],
            "{mode:?}: ran longer than MIN: at once"
        );
        assert_eq!(d.counters(), (2, 1, 1));
        assert_eq!(d.sup.history.consecutive_failures, 0);
    }
}

#[test]
fn a_restart_exit_neither_counts_nor_forgives_a_failure() {
    let mut s = restart_exit(OnFailure);
    s.policy.max_restarts = 2;
    let mut d = running(s);
    d.reap(Code(1), 10); // failure 1 of 2: 100 ms backoff
    let (at, _) = d.wait_deadline();
    assert_eq!(d.reap(Code(42), at + 1000), vec![spawn(3)]);
    assert_eq!(
        d.sup.history.consecutive_failures, 1,
        "the streak is unchanged"
    );
    d.reap(Code(1), at + 1010); // failure 2 of 2: the backoff doubled before
    assert_eq!(d.deadline_ms(), Some(at + 1010 + 200));
    let (at, _) = d.wait_deadline();
    assert_eq!(
        d.reap(Code(1), at + 10).last(),
        Some(&exit(1, Reason::GaveUp))
    );
}

#[test]
fn a_quick_restart_exit_waits_out_the_rest_of_min() {
    let mut d = running(restart_exit(No));
    assert_eq!(d.reap(Code(42), 30), vec![]);
    assert_eq!(d.state(), "backoff");
    assert_eq!(
        d.deadline_ms(),
        Some(100),
        "no sooner than MIN after its start"
    );
    assert_eq!(d.wait_deadline().1, vec![spawn(2)]);
    assert_eq!(d.counters(), (2, 1, 1));
}

#[test]
fn a_restart_exit_waits_for_the_old_tree() {
    let mut d = running(restart_exit(No));
    assert_eq!(d.exit_leaving(Code(42), 1000), vec![tree(SIGTERM)]);
    assert_eq!(d.tick(1100), vec![]);
    assert_eq!(d.tree_gone(1200), vec![spawn(2)]);
}

#[test]
fn a_stop_that_began_wins_over_a_restart_exit() {
    let mut d = running(restart_exit(Always));
    d.signal(SIGTERM, 1000);
    assert_eq!(d.reap(Code(42), 1100), vec![exit(42, Reason::Stopped)]);
    let mut s = restart_exit(Always);
    s.stop_delay = ms(5000);
    let mut d = running(s);
    d.signal(SIGTERM, 1000);
    assert_eq!(
        d.reap(Code(42), 1100),
        vec![exit(42, Reason::Stopped)],
        "drain"
    );
}

// ===================================================== watchdog (§14.28)

fn watched_daemon(mode: RestartMode) -> Driver {
    let mut s = settings(mode);
    s.watchdog = Some(ms(1000));
    starting(s)
}

#[test]
fn the_watchdog_is_armed_once_ready_and_each_keepalive_rearms_one_deadline() {
    let mut d = watched_daemon(OnFailure);
    assert_eq!(
        d.deadline_ms(),
        Some(30_000),
        "starting: only the readiness deadline"
    );
    assert_eq!(d.keepalive(Sender::Daemon, 100), vec![]);
    assert_eq!(
        d.deadline_ms(),
        Some(30_000),
        "a keep-alive before ready does not count"
    );
    d.ready(500);
    assert_eq!(d.deadline_ms(), Some(1500), "armed at readiness");
    d.keepalive(Sender::Daemon, 1000);
    assert_eq!(d.deadline_ms(), Some(2000));
    d.keepalive(Sender::Other, 1500);
    assert_eq!(
        d.deadline_ms(),
        Some(2000),
        "a stranger's keep-alive does not count"
    );
    d.keepalive(Sender::DaemonTree, 1900);
    assert_eq!(d.deadline_ms(), Some(2900));
    assert_eq!(d.tick(2899), vec![]);
}

#[test]
fn a_missed_watchdog_under_policy_no_exits_with_what_the_daemon_died_of() {
    let mut d = watched_daemon(No);
    let pid = d.pid();
    d.ready(500);
    assert_eq!(d.tick(1500), vec![listening_of(pid), sig(pid, SIGTERM)]);
    assert_eq!(d.written(), ["ready", "stopping"]);
    assert_eq!(d.reap(Sig(15), 1600), vec![exit(143, Reason::DaemonExited)]);
}

#[test]
fn a_missed_watchdog_is_a_failed_run_that_on_failure_restarts() {
    let mut d = watched_daemon(OnFailure);
    let pid = d.pid();
    d.ready(500);
    assert_eq!(d.tick(1500), vec![listening_of(pid), sig(pid, SIGTERM)]);
    // Even a clean exit after the watchdog stop is a failure.
    assert_eq!(d.reap(Code(0), 1600), vec![]);
    assert_eq!(d.state(), "backoff");
    assert_eq!(d.sup.history.consecutive_failures, 1);
    assert_eq!(d.deadline_ms(), Some(1700));
    assert_eq!(d.wait_deadline().1, vec![spawn(2)]);
    assert!(d.envs[1].2, "WATCHDOG_PID again");
}

#[test]
fn watchdog_trigger_stops_at_once() {
    let mut d = watched_daemon(OnFailure);
    let pid = d.pid();
    d.ready(500);
    let trigger = Notice {
        trigger: true,
        ..Notice::default()
    };
    assert_eq!(
        d.notify(Sender::Daemon, trigger, 600),
        vec![listening_of(pid), sig(pid, SIGTERM)]
    );
    assert_eq!(d.state(), "stopping");
}

#[test]
fn without_a_watchdog_a_ready_daemon_has_no_deadline() {
    let mut d = starting(settings(OnFailure));
    d.ready(500);
    d.keepalive(Sender::Daemon, 600);
    assert_eq!(d.deadline_ms(), None);
}

// ========================================================== OOM kills (§8a)

fn oom_exit(ended: Ended, kills: Option<u64>) -> DaemonExit {
    DaemonExit {
        ended,
        oom: kills.map(|kills| OomReading {
            kills,
            limit: Some(64 << 20),
        }),
        held_terminal: false,
    }
}

/// (oom_kills in the record, last_exit.oom_kill) after one run.
fn one_oom_run(ended: Ended, kills: Option<u64>) -> (u64, bool) {
    let mut d = Driver::new(settings(No));
    d.start_oom(0, Some(0));
    d.daemon_exit(oom_exit(ended, kills), false, 100);
    let r = d.written.last().cloned().unwrap();
    (r.oom_kills, r.last_exit.unwrap().oom_kill)
}

#[test]
fn a_sigkill_with_a_grown_oom_counter_is_an_oom_kill() {
    assert_eq!(one_oom_run(Sig(9), Some(1)), (1, true));
}

#[test]
fn no_oom_kill_without_growth_without_sigkill_or_without_a_reading() {
    assert_eq!(one_oom_run(Sig(9), Some(0)), (0, false), "no growth");
    assert_eq!(one_oom_run(Sig(15), Some(1)), (0, false), "not SIGKILL");
    assert_eq!(
        one_oom_run(Code(137), Some(1)),
        (0, false),
        "exit code 137 is no signal"
    );
    assert_eq!(one_oom_run(Sig(9), None), (0, false), "no readable cgroup");
}

#[test]
fn the_oom_baseline_is_the_counter_as_each_run_begins() {
    let mut d = Driver::new(settings(Always));
    d.start_oom(0, Some(0));
    // A sibling was OOM-killed while generation 1 lived; it died of TERM.
    d.daemon_exit(oom_exit(Sig(15), None), false, 100);
    assert!(!d.sup.record().last_exit.unwrap().oom_kill);
    d.world.oom_at_spawn = Some(1);
    d.wait_deadline();
    // Same counter at the next SIGKILL: not an OOM kill of this run.
    d.daemon_exit(oom_exit(Sig(9), Some(1)), false, 300);
    assert!(!d.sup.record().last_exit.unwrap().oom_kill);
    d.wait_deadline();
    d.daemon_exit(oom_exit(Sig(9), Some(2)), false, 600);
    let r = d.sup.record();
    assert_eq!((r.oom_kills, r.last_exit.unwrap().oom_kill), (1, true));
    d.wait_deadline();
    d.daemon_exit(oom_exit(Code(1), None), false, 1000);
    let r = d.sup.record();
    assert_eq!(
        (r.oom_kills, r.last_exit.unwrap().oom_kill),
        (1, false),
        "the count stays"
    );
}

// ============================================================ --check (§8b)

fn checked(mode: RestartMode) -> Settings {
    let mut s = settings(mode);
    s.check = vec!["/usr/sbin/nginx".into(), "-t".into()];
    s
}

#[test]
fn a_checked_restart_runs_the_check_while_the_daemon_keeps_serving() {
    let mut d = running(checked(OnFailure));
    let pid = d.pid();
    assert_eq!(d.restart(1000), vec![RUN_CHECK]);
    assert_eq!(d.state(), "ready");
    assert_eq!(d.sup.daemon(), Some(pid));
    assert_eq!(d.restart(1100), vec![], "joins the check under way");
    d.world.changed = true;
    assert_eq!(d.checks.len(), 1, "at most one check");
    assert_eq!(
        d.check_ended(Code(0), 2000),
        vec![listening_of(pid), sig(pid, SIGTERM)],
        "passed: the restart goes ahead"
    );
    assert_eq!(d.state(), "stopping");
    assert_eq!(d.sup.record().last_check.map(|c| c.ok), Some(true));
    assert!(has_spawn(&d.reap(Sig(15), 2100)));
}

#[test]
fn a_failed_check_refuses_the_restart_and_records_it() {
    let mut d = running(checked(Always));
    d.restart(1000);
    assert_eq!(d.check_ended(Code(1), 1500), vec![], "nothing stopped");
    assert_eq!(d.state(), "ready");
    assert_eq!(
        d.written.last().unwrap().last_check,
        Some(LastCheck {
            status: 1,
            at_ms: WALL0 + 1500,
            ok: false
        })
    );
    assert_eq!(d.deadline_ms(), None, "idle again");
    // The next request runs a new check.
    assert_eq!(d.restart(2000), vec![RUN_CHECK]);
}

#[test]
fn a_check_that_overruns_the_stop_timeout_is_killed_and_refuses() {
    let mut d = running(checked(Always));
    d.restart(1000);
    let check = d.check_pid();
    assert_eq!(
        d.deadline_ms(),
        Some(9000),
        "the check's deadline is --stop-timeout"
    );
    assert_eq!(d.tick(9000), vec![group(check, SIGKILL)]);
    assert_eq!(d.deadline_ms(), None, "waiting for its exit is idle");
    assert_eq!(d.check_ended(Sig(9), 9010), vec![]);
    let c = d.sup.record().last_check.unwrap();
    assert_eq!((c.status, c.ok), (137, false));
    assert_eq!(d.spawns(), 1);
}

#[test]
fn a_check_with_a_zero_stop_timeout_is_killed_as_soon_as_it_is_spawned() {
    let mut s = checked(Always);
    s.stop_timeout = Duration::ZERO;
    let mut d = running(s);
    assert_eq!(
        d.restart(1000),
        vec![RUN_CHECK, group(FIRST_PID + 1, SIGKILL)]
    );
    assert_eq!(d.check_ended(Sig(9), 1001), vec![]);
    assert_eq!(d.sup.record().last_check.map(|c| c.status), Some(137));
}

#[test]
fn a_check_that_cannot_be_spawned_refuses_with_127_or_126() {
    for (e, status) in [
        (SpawnError::NotFound, 127),
        (SpawnError::NotExecutable, 126),
    ] {
        let mut d = running(checked(Always));
        d.world.check_fail = Some(e);
        assert_eq!(d.restart(1000), vec![RUN_CHECK]);
        let c = d.sup.record().last_check.unwrap();
        assert_eq!((c.status, c.ok), (status, false));
        assert_eq!(d.state(), "ready");
    }
}

#[test]
fn a_restart_after_the_daemon_died_is_not_checked() {
    let mut d = running(checked(OnFailure));
    d.reap(Code(1), 1000);
    assert_eq!(d.restart(1010), vec![spawn(2)]);
    assert!(d.checks.is_empty());
}

#[test]
fn the_daemon_dying_while_the_check_runs_kills_the_check_and_the_policy_decides() {
    let mut d = running(checked(OnFailure));
    d.restart(1000);
    let check = d.check_pid();
    assert_eq!(
        d.exit_leaving(Code(1), 1200),
        vec![group(check, SIGKILL), tree(SIGTERM)]
    );
    assert_eq!(d.state(), "backoff");
    // One reaping pass reaps the check (now an orphan) and finds the tree
    // empty; then the backoff runs.
    assert_eq!(d.tree_gone(1210), vec![]);
    let reaped = Event::Reaped {
        pid: check,
        ended: Sig(9),
    };
    assert_eq!(d.feed(reaped, 1210), vec![]);
    assert_eq!(d.wait_deadline(), (1300, vec![spawn(2)]));
    assert_eq!(d.sup.record().last_check, None, "no verdict was reached");
}

#[test]
fn a_stop_while_the_check_runs_kills_the_check() {
    let mut d = running(checked(Always));
    let pid = d.pid();
    d.restart(1000);
    let check = d.check_pid();
    assert_eq!(
        d.signal(SIGTERM, 1100),
        vec![group(check, SIGKILL), sig(pid, SIGTERM)]
    );
    assert_eq!(d.deadline_ms(), Some(9100));
}

#[test]
fn a_watch_signal_reload_is_checked_too() {
    let mut s = checked(Always);
    s.watch = true;
    s.watch_signal = Some(SIGHUP);
    let mut d = running(s);
    let pid = d.pid();
    d.world.changed = true;
    d.feed(Event::WatchActivity, 1000);
    assert_eq!(d.tick(1250), vec![Action::CompareWatched, RUN_CHECK]);
    assert_eq!(d.check_ended(Code(0), 1300), vec![sig(pid, SIGHUP)]);
    assert_eq!(d.spawns(), 1, "a reload never restarts");
    // A refused reload signals nothing.
    d.feed(Event::WatchActivity, 2000);
    d.tick(2250);
    assert_eq!(d.check_ended(Code(2), 2300), vec![]);
}

#[test]
fn a_check_env_carries_the_markers_only() {
    let mut s = checked(Always);
    s.markers = vec![("APP_SUPERVISED".into(), None)];
    s.watchdog = Some(ms(1000));
    let host = Host {
        notify_socket: Some("/run/ctlinit/notify".into()),
        ..host()
    };
    let mut d = Driver::with(s, host, Duration::ZERO);
    d.start(0);
    d.ready(10);
    d.restart(100);
    let v = |x: &str| Some(x.to_string());
    assert_eq!(
        d.check_envs[0],
        vec![
            ("CTLINIT_SUPERVISOR".to_string(), v("50")),
            ("CTLINIT_GENERATION".to_string(), v("1")),
            ("APP_SUPERVISED".to_string(), v("50")),
        ]
    );
}

// ============================================== --watch and --watch-signal

fn watching(s: Settings) -> Driver {
    let mut s = s;
    s.watch = true;
    running(s)
}

#[test]
fn watch_activity_is_debounced_then_compared() {
    let mut d = watching(settings(Always));
    assert_eq!(d.feed(Event::WatchActivity, 1000), vec![]);
    assert_eq!(d.deadline_ms(), Some(1250));
    d.feed(Event::WatchActivity, 1100);
    assert_eq!(
        d.deadline_ms(),
        Some(1350),
        "more activity re-arms the debounce"
    );
    assert_eq!(d.tick(1349), vec![]);
    assert_eq!(
        d.tick(1350),
        vec![Action::CompareWatched],
        "unchanged: nothing"
    );
    assert_eq!(d.deadline_ms(), None);
}

#[test]
fn a_watched_change_restarts_the_daemon() {
    let mut d = watching(settings(No));
    let pid = d.pid();
    d.world.changed = true;
    d.feed(Event::WatchActivity, 1000);
    assert_eq!(
        d.tick(1250),
        vec![Action::CompareWatched, listening_of(pid), sig(pid, SIGTERM)]
    );
    assert_eq!(
        d.reap(Sig(15), 1300),
        vec![spawn(2), Action::RebaselineWatch],
        "the new generation's files are the new baseline"
    );
}

#[test]
fn a_watched_change_with_watch_signal_signals_and_never_restarts() {
    for pgroup in [false, true] {
        let mut s = settings(Always);
        s.watch_signal = Some(SIGHUP);
        s.pgroup = pgroup;
        let mut d = watching(s);
        let pid = d.pid();
        d.world.changed = true;
        d.feed(Event::WatchActivity, 1000);
        let hup = if pgroup {
            group(pid, SIGHUP)
        } else {
            sig(pid, SIGHUP)
        };
        assert_eq!(d.tick(1250), vec![Action::CompareWatched, hup]);
        assert_eq!(d.state(), "ready");
        assert_eq!(d.spawns(), 1);
    }
}

#[test]
fn a_watch_signal_reload_while_starting_waits_for_readiness() {
    let mut s = settings(Always);
    s.watch = true;
    s.watch_signal = Some(SIGHUP);
    let mut d = starting(s);
    let pid = d.pid();
    d.world.changed = true;
    d.feed(Event::WatchActivity, 10);
    assert_eq!(d.tick(260), vec![Action::CompareWatched]);
    assert_eq!(d.ready(300), vec![listening_of(pid), sig(pid, SIGHUP)]);
}

#[test]
fn rebaseline_follows_every_spawn_only_with_watch() {
    let mut d = watching(settings(Always));
    d.reap(Code(0), 100);
    assert_eq!(d.wait_deadline().1, vec![spawn(2), Action::RebaselineWatch]);
    let mut d = running(settings(Always));
    d.reap(Code(0), 100);
    assert_eq!(d.wait_deadline().1, vec![spawn(2)]);
}

// ==================================================== the terminal rule (§3)

fn terminal_exit(ended: Ended, held_terminal: bool) -> DaemonExit {
    DaemonExit {
        ended,
        oom: None,
        held_terminal,
    }
}

#[test]
fn ctrl_c_that_killed_the_foreground_daemon_is_a_stop() {
    for mode in [No, OnFailure, Always] {
        let mut d = running(settings(mode));
        assert_eq!(
            d.daemon_exit(terminal_exit(Sig(SIGINT), true), false, 1000),
            vec![exit(130, Reason::Stopped)],
            "{mode:?}"
        );
        assert_eq!(d.spawns(), 1);
    }
}

#[test]
fn the_same_death_without_the_terminal_is_a_crash() {
    let mut d = running(settings(Always));
    assert_eq!(
        d.daemon_exit(terminal_exit(Sig(SIGINT), false), false, 1000),
        vec![]
    );
    assert_eq!(d.state(), "backoff");
}

#[test]
fn a_terminal_death_by_a_signal_outside_stop_on_is_a_crash() {
    let mut d = running(settings(Always));
    d.daemon_exit(terminal_exit(Sig(SIGHUP), true), false, 1000);
    assert_eq!(d.state(), "backoff");
}

#[test]
fn a_signal_ctlinit_forwarded_itself_is_not_the_terminals() {
    let mut s = settings(Always);
    s.rewrite = vec![(SIGUSR1, SIGINT)];
    let mut d = running(s);
    let pid = d.pid();
    assert_eq!(d.signal(SIGUSR1, 500), vec![sig(pid, SIGINT)]);
    d.daemon_exit(terminal_exit(Sig(SIGINT), true), false, 1000);
    assert_eq!(
        d.state(),
        "backoff",
        "ctlinit sent that SIGINT: a crash, restarted"
    );
    // The next generation starts with a clean slate.
    d.wait_deadline();
    assert_eq!(
        d.daemon_exit(terminal_exit(Sig(SIGINT), true), false, 2000),
        vec![exit(130, Reason::Stopped)]
    );
}

// ====================================== temporary spawn failures (§14.29)

#[test]
fn a_temporary_spawn_failure_is_a_failed_run_retried_after_the_backoff() {
    let mut d = driver(OnFailure);
    d.world.spawn_fail = [SpawnError::Temporary].into();
    assert_eq!(d.start(0), vec![spawn(1)]);
    assert_eq!(d.counters(), (0, 0, 0), "nothing ran");
    assert_eq!(d.deadline_ms(), Some(100));
    assert_eq!(d.wait_deadline().1, vec![spawn(1)]);
    assert_eq!(d.state(), "ready");
    assert_eq!(d.counters(), (1, 0, 0));
}

#[test]
fn temporary_spawn_failures_count_toward_max_restarts() {
    let mut s = settings(OnFailure);
    s.policy.max_restarts = 2;
    let mut d = Driver::new(s);
    d.world.spawn_fail = [SpawnError::Temporary; 3].into();
    assert_eq!(d.start(0), vec![spawn(1)]);
    assert_eq!(d.wait_deadline(), (100, vec![spawn(1)]));
    assert_eq!(
        d.wait_deadline(),
        (300, vec![spawn(1), exit_spawn(SpawnError::Temporary)]),
        "N+1 failed runs give up"
    );
}

#[test]
fn a_temporary_spawn_failure_under_policy_no_exits_at_once() {
    let mut d = driver(No);
    d.world.spawn_fail = [SpawnError::Temporary].into();
    assert_eq!(
        d.start(0),
        vec![spawn(1), exit_spawn(SpawnError::Temporary)]
    );
}

#[test]
fn a_temporary_spawn_failure_between_generations_keeps_the_record_in_backoff() {
    let mut d = running(settings(Always));
    d.reap(Code(3), 100);
    d.world.spawn_fail = [SpawnError::Temporary].into();
    assert_eq!(d.wait_deadline(), (200, vec![spawn(2)]));
    assert_eq!(d.state(), "backoff");
    assert_eq!(d.counters(), (1, 1, 0));
    assert_eq!(d.deadline_ms(), Some(400), "the backoff doubled");
    // The last run is the one that could not be spawned: status 1 (§12,
    // §14.3), not the status 3 of the generation before it.
    assert_eq!(
        d.signal(SIGTERM, 300),
        vec![Action::Exit(Ending {
            code: ExitCode::Spawn(SpawnError::Temporary),
            reason: Reason::Stopped
        })]
    );
}

#[test]
fn not_found_and_not_executable_end_ctlinit_even_between_generations() {
    for e in [SpawnError::NotFound, SpawnError::NotExecutable] {
        let mut d = running(settings(Always));
        d.reap(Code(1), 100);
        d.world.spawn_fail = [e].into();
        assert_eq!(d.wait_deadline().1, vec![spawn(2), exit_spawn(e)]);
    }
}

// ================================================== survivors (§14.25)

#[test]
fn a_daemon_surviving_sigkill_is_reported_once_and_ctlinit_exits_anyway() {
    let mut d = running(settings(Always));
    let pid = d.pid();
    d.signal(SIGTERM, 1000);
    assert_eq!(d.tick(9000), vec![group(pid, SIGKILL), tree(SIGKILL)]);
    assert_eq!(d.deadline_ms(), Some(11_000));
    assert_eq!(d.tick(10_999), vec![]);
    assert_eq!(
        d.tick(11_000),
        vec![Action::ReportSurvivors, exit(137, Reason::Stopped)]
    );
}

#[test]
fn stragglers_surviving_sigkill_when_ending_are_reported_then_ctlinit_exits() {
    let mut d = running(settings(No));
    d.exit_leaving(Code(3), 1000);
    assert_eq!(d.tick(9000), vec![tree(SIGKILL)]);
    assert_eq!(
        d.tick(11_000),
        vec![Action::ReportSurvivors, exit(3, Reason::DaemonExited)]
    );
}

#[test]
fn survivors_before_a_restart_are_reported_and_waited_for_idly() {
    let mut d = running(settings(OnFailure));
    d.exit_leaving(Code(1), 1000);
    assert_eq!(d.tick(9000), vec![tree(SIGKILL)]);
    assert_eq!(d.tick(11_000), vec![Action::ReportSurvivors]);
    assert_eq!(d.deadline_ms(), None, "idle until the tree is empty");
    assert_eq!(d.tick(60_000), vec![], "reported once");
    assert_eq!(d.tree_gone(70_000), vec![spawn(2)]);
}

#[test]
fn a_daemon_surviving_sigkill_before_a_restart_is_waited_for() {
    let mut d = running(settings(Always));
    let pid = d.pid();
    d.restart(1000);
    assert_eq!(d.tick(9000), vec![group(pid, SIGKILL), tree(SIGKILL)]);
    assert_eq!(d.tick(11_000), vec![Action::ReportSurvivors]);
    assert_eq!(d.deadline_ms(), None);
    assert_eq!(d.reap(Sig(9), 30_000), vec![spawn(2)], "never overlapping");
}

#[test]
fn a_stop_after_survivors_of_a_restart_stop_were_reported_exits_at_once() {
    let mut d = running(settings(Always));
    let pid = d.pid();
    d.restart(1000);
    d.tick(9000);
    assert_eq!(d.tick(11_000), vec![Action::ReportSurvivors]);
    assert_eq!(
        d.signal(SIGTERM, 12_000),
        vec![sig(pid, SIGTERM), exit(137, Reason::Stopped)],
        "exiting: nothing more to wait for (§14.25)"
    );
}

#[test]
fn a_stop_after_stragglers_were_reported_before_a_restart_exits_at_once() {
    let mut d = running(settings(OnFailure));
    d.exit_leaving(Code(1), 1000);
    d.tick(9000);
    assert_eq!(d.tick(11_000), vec![Action::ReportSurvivors]);
    assert_eq!(d.signal(SIGTERM, 12_000), vec![exit(1, Reason::Stopped)]);
}

// ===================================================== sweeps and PID 1

#[test]
fn the_sweep_is_sent_only_when_children_are_left() {
    let mut d = running(settings(No));
    assert_eq!(d.reap(Code(1), 100), vec![exit(1, Reason::DaemonExited)]);
    let mut d = running(settings(No));
    assert_eq!(d.exit_leaving(Code(1), 100), vec![tree(SIGTERM)]);
}

#[test]
fn as_pid_1_the_sweep_reaches_the_namespace_only_when_the_container_ends() {
    let ns = |sig| Action::SignalTree {
        sig,
        scope: Scope::Namespace,
    };
    let pid1 = Host { pid: 1, ..host() };
    // Ending (policy no): everything in the namespace.
    let mut d = Driver::with(settings(No), pid1.clone(), Duration::ZERO);
    d.start(0);
    assert_eq!(d.exit_leaving(Code(1), 100), vec![ns(SIGTERM)]);
    // A restart follows: only ctlinit's descendants.
    let mut d = Driver::with(settings(OnFailure), pid1.clone(), Duration::ZERO);
    d.start(0);
    assert_eq!(d.exit_leaving(Code(1), 100), vec![tree(SIGTERM)]);
    // A stop: the container ends.
    let mut d = Driver::with(settings(Always), pid1, Duration::ZERO);
    d.start(0);
    let pid = d.pid();
    d.signal(SIGTERM, 100);
    assert_eq!(d.tick(8100), vec![group(pid, SIGKILL), ns(SIGKILL)]);
    assert_eq!(d.exit_leaving(Sig(9), 8200), vec![ns(SIGKILL)]);
    assert_eq!(d.sup.record().supervisor_pid, 1);
}

// ============================================== idle (§14.15, §14.20)

#[test]
fn a_ready_daemon_with_watch_ports_and_reload_configured_is_idle() {
    let mut s = settings(Always);
    s.watch = true;
    s.ports = vec![8080];
    s.ready = ReadyMode::Port;
    s.reload_signal = Some(SIGHUP);
    let mut d = Driver::new(s);
    d.world.busy.clear();
    d.start(0);
    d.world.busy = vec![8080];
    d.wait_deadline();
    assert_eq!(d.state(), "ready");
    assert_eq!(d.deadline_ms(), None);
}

#[test]
fn backoff_wakes_exactly_once_at_its_end() {
    let mut d = running(settings(Always));
    d.reap(Code(1), 1000);
    assert_eq!(d.deadline_ms(), Some(1100));
    assert_eq!(d.tick(1050), vec![], "a spurious wake changes nothing");
    assert_eq!(d.deadline_ms(), Some(1100));
}

#[test]
fn waiting_for_notify_readiness_wakes_only_for_its_deadline() {
    let d = starting(settings(Always));
    assert_eq!(d.deadline_ms(), Some(30_000));
}

// ============================================================== overflow

#[test]
fn the_largest_durations_and_the_latest_times_never_panic() {
    let year = Duration::from_secs(365 * 24 * 3600);
    let mut s = settings(Always);
    s.policy = Policy {
        mode: Always,
        max_restarts: 1_000_000,
        backoff_min: year,
        backoff_max: year,
        reset_after: year,
    };
    s.stop_timeout = year;
    s.stop_delay = year;
    s.ready_timeout = year;
    s.port_timeout = year;
    s.watchdog = Some(year);
    s.ready = ReadyMode::Notify;
    s.ports = vec![8080];
    s.watch = true;
    s.check = vec!["check".into()];
    for base in [
        Time::ZERO,
        Time::at(Duration::MAX - year),
        Time::at(Duration::MAX),
    ] {
        let mut d = Driver::new(s.clone());
        d.base = base;
        // At the saturated end of time every deadline has passed already:
        // each step is taken only if the one before it left room for it.
        d.start(0);
        d.ready(1);
        d.keepalive(Sender::Daemon, 2);
        d.restart(3);
        if !d.checks.is_empty() {
            d.check_ended(Code(0), 4);
        }
        if d.sup.daemon().is_some() {
            d.reap(Sig(15), 5);
        }
        d.ready(6);
        d.feed(Event::WatchActivity, 7);
        d.run_until(u64::MAX / 2);
        if d.exited.is_none() {
            d.signal(SIGTERM, u64::MAX / 2 + 1);
            d.run_until(u64::MAX - 1);
        }
        let _ = (d.sup.deadline(), d.sup.record());
        assert!(d.counters().0 >= 1, "{base:?}");
    }
}

#[test]
fn zero_durations_act_at_once_and_never_spin() {
    // The driver fails any batch that leaves a deadline that is not in the future.
    let mut s = settings(Always);
    s.policy.backoff_min = Duration::ZERO;
    s.policy.backoff_max = Duration::ZERO;
    s.policy.reset_after = Duration::ZERO;
    s.stop_timeout = Duration::ZERO;
    s.port_timeout = Duration::ZERO;
    s.ports = vec![8080];
    s.ready = ReadyMode::Port;
    s.check = vec!["check".into()];
    let mut d = Driver::new(s.clone());
    d.start(0);
    d.world.busy = vec![8080];
    d.tick(10);
    assert_eq!(d.state(), "ready");
    let pid = d.pid();
    d.restart(20);
    d.check_ended(Sig(9), 21);
    d.signal(SIGTERM, 30);
    assert_eq!(
        d.log[d.log.len() - 3..],
        [sig(pid, SIGTERM), group(pid, SIGKILL), tree(SIGKILL)]
    );
    // Readiness and watchdog deadlines of zero.
    s.ready = ReadyMode::Notify;
    s.ready_timeout = Duration::ZERO;
    s.ports.clear();
    let mut d = Driver::new(s.clone());
    let a = d.start(0);
    // (The answer to the stop's QueryListening comes first, depth first, and
    // the zero grace has already run out by then: SIGKILL precedes SIGTERM.)
    assert!(a.contains(&sig(FIRST_PID, SIGTERM)), "{a:?}");
    assert!(a.contains(&group(FIRST_PID, SIGKILL)), "{a:?}");
    assert_eq!(d.exit_leaving(Sig(15), 1), vec![tree(SIGKILL)]);
    assert_eq!(
        d.tree_gone(2)[0],
        spawn(2),
        "no backoff, and stopped at once again"
    );
    s.ready_timeout = ms(1000);
    s.watchdog = Some(Duration::ZERO);
    let mut d = Driver::new(s);
    d.start(0);
    let a = d.ready(5);
    assert_eq!(a[a.len() - 1], sig(FIRST_PID, SIGTERM), "{a:?}");
}

// ============================================================ the spawn env

#[test]
fn the_spawn_carries_the_generation_and_the_markers() {
    let mut s = settings(Always);
    s.markers = vec![
        ("APP_SUPERVISED".into(), None),
        ("ROLE".into(), Some("web".into())),
    ];
    s.ready = ReadyMode::Notify;
    s.watchdog = Some(ms(2500));
    let host = Host {
        pidfile: Some("/run/ctlinit/daemon.pid".into()),
        notify_socket: Some("/run/ctlinit/notify.sock".into()),
        ..host()
    };
    let mut d = Driver::with(s, host, Duration::ZERO);
    d.start(0);
    d.ready(10);
    d.reap(Code(1), 100);
    d.wait_deadline();
    let v = |x: &str| Some(x.to_string());
    let env = |generation: &str| -> Env {
        vec![
            ("CTLINIT_SUPERVISOR".into(), v("50")),
            ("CTLINIT_GENERATION".into(), v(generation)),
            ("CTLINIT_PIDFILE".into(), v("/run/ctlinit/daemon.pid")),
            ("APP_SUPERVISED".into(), v("50")),
            ("ROLE".into(), v("web")),
            ("NOTIFY_SOCKET".into(), v("/run/ctlinit/notify.sock")),
            ("WATCHDOG_USEC".into(), v("2500000")),
        ]
    };
    assert_eq!(d.envs, vec![(1, env("1"), true), (2, env("2"), true)]);
}

#[test]
fn the_spawn_env_leaves_out_what_the_host_does_not_have() {
    let mut d = driver(Always);
    d.start(0);
    let v = |x: &str| Some(x.to_string());
    assert_eq!(
        d.envs,
        vec![(
            1,
            vec![
                ("CTLINIT_SUPERVISOR".to_string(), v("50")),
                ("CTLINIT_GENERATION".to_string(), v("1")),
            ],
            false
        )]
    );
}

#[test]
fn the_oom_counter_is_read_at_a_run_end_only_for_a_sigkill() {
    let d = running(settings(Always));
    assert!(
        d.sup.wants_oom_reading(Sig(SIGKILL)),
        "it may be the OOM killer's"
    );
    assert!(!d.sup.wants_oom_reading(Sig(SIGTERM)));
    assert!(!d.sup.wants_oom_reading(Code(0)));
}

#[test]
fn a_stop_that_arrives_before_the_spawn_is_performed_cancels_it() {
    let mut d = running(settings(Always));
    d.reap(Code(1), 100);
    // The backoff ends: the machine decides the spawn of generation 2 ...
    let mut out = vec![];
    d.sup.handle(Event::Tick, Time::from_millis(200), &mut out);
    assert!(
        matches!(out.as_slice(), [Action::Spawn { generation: 2, .. }]),
        "{out:?}"
    );
    assert!(d.sup.spawn_wanted(2));
    // ... and a TERM that was already pending is seen before it is performed.
    out.clear();
    let term = Received {
        signo: SIGTERM,
        sender: 1,
        control: false,
    };
    d.sup
        .handle(Event::Signal(term), Time::from_millis(200), &mut out);
    assert!(!d.sup.spawn_wanted(2), "the spawn is off");
    assert!(matches!(out.as_slice(), [Action::Exit(_)]), "{out:?}");
}
