//! The daemon's whole lifecycle as one state machine (SPEC §3, §4, §8,
//! §8a, §8b, §9). [`Supervisor::handle`] is the one entry point: an event
//! and the time go in, actions come out; [`Supervisor::deadline`] is the
//! one place that computes how long the loop may sleep. Nothing here makes
//! a syscall or reads a clock.
//!
//! One restart path serves every trigger (reload signal, `ctlinit
//! restart`, `--watch`, a readiness or watchdog timeout, a crash, the
//! daemon's own restart code): stop the generation → wait until its tree is
//! gone → wait for its ports → spawn → wait for readiness.
//!
//! ```text
//!            Spawned                     ready (port, listen, notify)
//! PortWait ──────────► Running(starting) ─────► Running(ready) ──stop signal──► Draining
//!    ▲                     │ exit, ready/watchdog     │ exit, restart request      │ delay over
//!    │                     │ timeout                  ▼  (after --check)           ▼
//!    │  backoff over,     Gone ◄───────────────── Stopping (grace, then SIGKILL group)
//!    └── tree empty ───── (tree drains, backoff runs)    daemon exited
//!                          │ next = exit, tree empty
//!                          ▼
//!                         Done ──► Exit(code, reason)
//! ```

use crate::core::config::{Host, ReadyMode, Settings};
use crate::core::ended::Ended;
use crate::core::events::*;
use crate::core::format;
use crate::core::policy::{self, Decision, History, Verdict};
use crate::core::record::{state, LastCheck, LastExit, Record};
use crate::core::signals::{self, SIGCHLD, SIGCONT, SIGKILL, SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU};
use crate::core::time::Time;
use log::{debug, error, info, warn};
use std::time::Duration;

/// How often port/listen readiness and the port handoff look again.
pub const POLL: Duration = Duration::from_millis(10);
/// Extra wait after SIGKILLing a port holder of ctlinit's own tree (§9).
pub const PORT_KILL_GRACE: Duration = Duration::from_secs(2);
/// Restart requests within this long after a spawn are merged into one,
/// served when it has passed and the generation is ready: a fast daemon
/// restarts in a few ms, and without a window a burst of requests spread
/// over 50 ms would restart it once per request (§8: a burst causes ≤ 2).
pub const COALESCE: Duration = Duration::from_millis(250);
/// `--watch` events within this long are one change (§14.14).
pub const DEBOUNCE: Duration = Duration::from_millis(250);
/// A process still there this long after SIGKILL is stuck (§14.25).
pub const SURVIVOR_GRACE: Duration = Duration::from_secs(2);

/// Why ctlinit is stopping the running daemon.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StopCause {
    /// A requested restart: the next generation follows at once.
    Restart,
    ReadyTimeout,
    Watchdog,
    /// The container is stopping.
    Container,
}

/// What a restart or reload request asks for; a restart covers a reload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Request {
    Reload,
    Restart,
}

/// A `--check` run in flight (§8b).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Check {
    pid: Option<i32>,
    wants: Request,
    deadline: Time,
    killed: bool,
}

/// Where SIGKILL stands for a stop or a sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Killed {
    No,
    At(Time),
    /// The survivors were reported (§14.25).
    Reported,
}

/// One generation's process and what belongs to its run only.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Run {
    pid: i32,
    spawned: Time,
    /// When it became ready; None while starting.
    ready: Option<Time>,
    /// The next port/listen readiness probe.
    next_probe: Option<Time>,
    /// The keep-alive deadline (`--watchdog`), once ready.
    watchdog: Option<Time>,
    /// A request that waits for readiness or the coalescing window.
    pending: Option<Request>,
    check: Option<Check>,
    /// TCP ports it was seen listening on: handed off to the next generation.
    ports: Vec<u16>,
    /// Signals ctlinit sent it (bit n-1 for signal n): the terminal rule.
    sent: u64,
}

impl Run {
    /// Sends `sig` to the daemon (its group with `-g`), remembering it.
    fn send(&mut self, sig: i32, pgroup: bool, out: &mut Vec<Action>) {
        if (1..=64).contains(&sig) {
            self.sent |= 1 << (sig - 1);
        }
        out.push(Action::Signal {
            to: target(self.pid, pgroup),
            sig,
        });
    }

    fn was_sent(&self, sig: i32) -> bool {
        (1..=64).contains(&sig) && self.sent & (1 << (sig - 1)) != 0
    }

    fn learn(&mut self, ports: &[u16]) {
        for p in ports {
            if !self.ports.contains(p) {
                self.ports.push(*p);
            }
        }
    }
}

/// What follows once a gone generation's tree has drained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Next {
    Restart { at: Time },
    Exit(Ending),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Phase {
    /// Before a spawn: waiting until the handoff ports are free.
    PortWait {
        handoff: Vec<u16>,
        deadline: Time,
        /// An in-tree holder was SIGKILLed and the 2 s grace runs.
        extended: bool,
        next_probe: Option<Time>,
        /// The spawn was decided; its answer is due.
        spawning: bool,
    },
    Running(Run),
    /// `--stop-delay`: a stop signal arrived; the daemon serves until `until`.
    Draining {
        run: Run,
        until: Time,
        forward: Option<i32>,
    },
    Stopping {
        run: Run,
        cause: StopCause,
        deadline: Time,
        killed: Killed,
    },
    /// The daemon is gone: its stragglers drain while the backoff runs.
    Gone {
        next: Next,
        handoff: Vec<u16>,
        deadline: Time,
        killed: Killed,
    },
    Done,
}

/// The counters the PID file and the summary line show.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub generation: u64,
    pub exits: u64,
    pub restarts: u64,
    pub oom_kills: u64,
}

pub struct Supervisor {
    s: Settings,
    host: Host,
    phase: Phase,
    // Wishes that hold whatever the phase.
    /// The container is stopping (the signal that said so).
    stop: Option<i32>,
    /// A `--watch` change is being debounced until then.
    watch_due: Option<Time>,
    told_parent: bool,
    // Facts remembered from events.
    children_left: bool,
    /// Wall clock anchor: (monotonic, Unix ms) at the last spawn or start.
    wall: (Time, u64),
    last_spawn_ms: u64,
    oom_baseline: Option<u64>,
    // Results.
    counters: Counters,
    history: History,
    last_exit: Option<LastExit>,
    last_check: Option<LastCheck>,
    /// The last run could not even be spawned (a temporary failure): its
    /// "status" is ctlinit's 1 (§12, §14.29).
    spawn_failed: bool,
    /// The PID file's content changed since `take_record`.
    dirty: bool,
    coalesce: Duration,
}

impl Supervisor {
    pub fn new(s: Settings, host: Host) -> Supervisor {
        Supervisor {
            history: History::new(&s.policy),
            s,
            host,
            phase: Phase::PortWait {
                handoff: vec![],
                deadline: Time::ZERO,
                extended: false,
                next_probe: None,
                spawning: false,
            },
            stop: None,
            watch_due: None,
            told_parent: false,
            children_left: false,
            wall: (Time::ZERO, 0),
            last_spawn_ms: 0,
            oom_baseline: None,
            counters: Counters::default(),
            last_exit: None,
            last_check: None,
            spawn_failed: false,
            dirty: false,
            coalesce: COALESCE,
        }
    }

    /// Tests that are about other rules turn the coalescing window off.
    #[cfg(test)]
    pub fn with_coalesce(mut self, d: Duration) -> Supervisor {
        self.coalesce = d;
        self
    }

    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Whether the memory cgroup's OOM counter matters for a daemon that
    /// ended so: only a SIGKILL may be the OOM killer's (the baseline is
    /// read as each run begins), so ordinary exits and stops read nothing.
    pub fn wants_oom_reading(&self, ended: Ended) -> bool {
        ended == Ended::Signal(SIGKILL)
    }

    /// Whether the spawn of `generation` is still what the machine wants:
    /// a stop signal that was already pending when the spawn was decided
    /// (the loop looks right before it spawns) may have changed its mind.
    pub fn spawn_wanted(&self, generation: u64) -> bool {
        matches!(self.phase, Phase::PortWait { spawning: true, .. })
            && generation == self.counters.generation + 1
    }

    /// The live daemon process, if any: the loop routes its exit here.
    pub fn daemon(&self) -> Option<i32> {
        self.run().map(|r| r.pid)
    }

    /// The one entry point: feed an event, get the actions to perform.
    pub fn handle(&mut self, ev: Event, now: Time, out: &mut Vec<Action>) {
        match ev {
            Event::Start { wall_ms } => {
                self.wall = (now, wall_ms);
                self.enter_port_wait(vec![], now, out);
            }
            Event::Signal(r) => self.on_signal(r, now, out),
            Event::Children { left } => self.children_left = left,
            Event::DaemonExited(x) => self.on_daemon_exit(x, now, out),
            Event::Reaped { pid, ended } => self.on_reaped(pid, ended, now, out),
            Event::ChildStopped { pid, sig } => self.on_child_stopped(pid, sig, out),
            Event::Spawned {
                pid,
                wall_ms,
                oom_kills,
            } => {
                self.oom_baseline = oom_kills;
                self.on_spawned(pid, wall_ms, now, out)
            }
            Event::SpawnFailed(e) => self.on_spawn_failed(e, now, out),
            Event::CheckSpawned { pid } => self.on_check_spawned(pid, out),
            Event::CheckSpawnFailed(e) => {
                let status = match e {
                    SpawnError::NotFound => 127,
                    SpawnError::NotExecutable => 126,
                    SpawnError::Temporary => 1,
                };
                self.on_check_done(status, now, out);
            }
            Event::PortsBusy(busy) => self.on_ports_busy(&busy, now, out),
            Event::Holders(found) => self.on_holders(&found, now, out),
            Event::Listening(ports) => self.on_listening(&ports, now, out),
            Event::Notify { pid, from, notice } => self.on_notify(pid, from, notice, now, out),
            Event::WatchActivity => self.watch_due = Some(now.after(DEBOUNCE)),
            Event::WatchCompared { changed: true } => match self.s.watch_signal {
                Some(_) => self.on_request(Request::Reload, "--watch", now, out),
                None => self.on_request(Request::Restart, "--watch", now, out),
            },
            Event::WatchCompared { changed: false } => {}
            Event::Tick => {}
        }
        self.advance(now, out);
    }

    /// The earliest time something must happen without an outside event;
    /// None = sleep until one arrives.
    pub fn deadline(&self) -> Option<Time> {
        let phase = match &self.phase {
            Phase::PortWait { next_probe, .. } => *next_probe,
            Phase::Running(run) => {
                let starting = match run.ready {
                    None if self.s.ready != ReadyMode::None => {
                        earliest(Some(self.ready_deadline(run)), run.next_probe)
                    }
                    _ => None,
                };
                let pending = (run.pending.is_some() && run.ready.is_some() && run.check.is_none())
                    .then(|| run.spawned.after(self.coalesce));
                let check = run.check.filter(|c| !c.killed).map(|c| c.deadline);
                earliest(earliest(starting, run.watchdog), earliest(pending, check))
            }
            Phase::Draining { until, .. } => Some(*until),
            Phase::Stopping {
                deadline, killed, ..
            } => killed_deadline(*killed, *deadline),
            Phase::Gone {
                next,
                deadline,
                killed,
                ..
            } => match next {
                _ if self.children_left => killed_deadline(*killed, *deadline),
                Next::Restart { at } => Some(*at),
                Next::Exit(_) => None,
            },
            Phase::Done => None,
        };
        earliest(phase, self.watch_due)
    }

    /// The PID file's record, when it changed since the last call (and a
    /// generation exists to describe).
    pub fn take_record(&mut self) -> Option<Record> {
        if !self.dirty || self.counters.generation == 0 {
            return None;
        }
        self.dirty = false;
        Some(self.record())
    }

    pub fn record(&self) -> Record {
        let (pid, state) = match &self.phase {
            Phase::Running(run) if run.ready.is_some() => (Some(run.pid), state::READY),
            Phase::Running(run) => (Some(run.pid), state::STARTING),
            Phase::Draining { run, .. } => (Some(run.pid), state::DRAINING),
            Phase::Stopping { run, .. } => (Some(run.pid), state::STOPPING),
            Phase::Gone {
                next: Next::Exit(_),
                ..
            }
            | Phase::Done => (None, state::STOPPING),
            Phase::Gone { .. } | Phase::PortWait { .. } => (None, state::BACKOFF),
        };
        Record {
            pid,
            generation: self.counters.generation,
            state: state.to_string(),
            supervisor_pid: self.host.pid,
            started_at_ms: self.last_spawn_ms,
            exits: self.counters.exits,
            restarts: self.counters.restarts,
            oom_kills: self.counters.oom_kills,
            last_exit: self.last_exit.clone(),
            last_check: self.last_check,
            command: self.host.command.clone(),
            version: self.host.version.clone(),
            supervisor_start: self.host.start_ticks,
        }
    }

    // ------------------------------------------------------------ signals

    fn on_signal(&mut self, r: Received, now: Time, out: &mut Vec<Action>) {
        let signo = r.signo;
        if signo == SIGCHLD {
            return; // the loop reaps on every wake
        }
        if r.control {
            return self.on_request(Request::Restart, "ctlinit restart", now, out);
        }
        if Some(signo) == self.s.reload_signal {
            return self.on_request(Request::Restart, "reload signal", now, out);
        }
        if signo == SIGPIPE && r.sender == self.host.pid {
            return; // ctlinit's own write to a closed pipe: not the daemon's business
        }
        if signals::FAULTS.contains(&signo) {
            warn!(
                "ignoring {} sent by pid {}: fault signals are never forwarded",
                signals::name(signo),
                r.sender
            );
            return;
        }
        let to = self
            .s
            .rewrite
            .iter()
            .find(|(from, _)| *from == signo)
            .map_or(signo, |(_, to)| *to);
        let forward = (to != 0).then_some(to);
        if self.s.stop_on.contains(&signo) {
            return self.on_stop(signo, forward, now, out);
        }
        match forward {
            Some(sig) => self.forward(sig, out),
            None => debug!("{} dropped (--rewrite)", signals::name(signo)),
        }
    }

    /// The hot path: a received signal goes to the daemon (or its group).
    fn forward(&mut self, sig: i32, out: &mut Vec<Action>) {
        let pgroup = self.s.pgroup;
        match self.run_mut() {
            Some(run) => run.send(sig, pgroup, out),
            None => debug!("no daemon running: {} not forwarded", signals::name(sig)),
        }
    }

    /// A `--stop-on` signal arrived: the container is stopping (§4).
    fn on_stop(&mut self, signo: i32, forward: Option<i32>, now: Time, out: &mut Vec<Action>) {
        let name = signals::name(signo);
        if self.stop.is_some() {
            match std::mem::replace(&mut self.phase, Phase::Done) {
                Phase::Draining { run, .. } => {
                    info!("received {name} during the drain: forwarding now");
                    self.forward_stop(run, forward, now, out);
                }
                other => {
                    self.phase = other;
                    info!("received {name} again while stopping: killing everything now");
                    self.kill_now(now, out);
                }
            }
            return;
        }
        self.stop = Some(signo);
        let gen = self.counters.generation;
        match std::mem::replace(&mut self.phase, Phase::Done) {
            Phase::Running(mut run) => {
                kill_check(&mut run, out);
                if self.s.stop_delay.is_zero() {
                    info!(
                        "stopping generation {gen} (pid {}): received {name}",
                        run.pid
                    );
                    self.forward_stop(run, forward, now, out);
                } else {
                    info!(
                        "received {name}: draining generation {gen} (pid {}) for {} before forwarding it",
                        run.pid,
                        format::duration(self.s.stop_delay)
                    );
                    self.phase = Phase::Draining {
                        run,
                        until: now.after(self.s.stop_delay),
                        forward,
                    };
                    self.dirty = true;
                }
            }
            Phase::Stopping {
                mut run,
                deadline,
                killed,
                ..
            } => {
                info!(
                    "received {name} while generation {gen} (pid {}) stops: no restart will follow",
                    run.pid
                );
                // The stop that is already under way keeps its deadline: the
                // daemon has had its grace since it began.
                if let Some(sig) = forward {
                    run.send(sig, self.s.pgroup, out);
                }
                self.phase = Phase::Stopping {
                    run,
                    cause: StopCause::Container,
                    deadline,
                    killed,
                };
            }
            Phase::Gone {
                mut next,
                handoff,
                deadline,
                killed,
            } => {
                if let Next::Restart { .. } = next {
                    info!("received {name} during backoff: not restarting");
                    next = Next::Exit(Ending {
                        code: self.last_run_code(signo),
                        reason: Reason::Stopped,
                    });
                }
                self.phase = Phase::Gone {
                    next,
                    handoff,
                    deadline: deadline.min(now.after(self.s.stop_timeout)),
                    killed,
                };
                self.dirty = true;
            }
            Phase::PortWait { .. } => {
                info!("received {name} before the next generation started: exiting");
                let code = self.last_run_code(signo);
                self.finish(code, Reason::Stopped, out);
            }
            other @ (Phase::Draining { .. } | Phase::Done) => self.phase = other,
        }
    }

    /// Forwards the stop signal (if not dropped) and starts the grace.
    fn forward_stop(
        &mut self,
        mut run: Run,
        forward: Option<i32>,
        now: Time,
        out: &mut Vec<Action>,
    ) {
        if let Some(sig) = forward {
            run.send(sig, self.s.pgroup, out);
        }
        self.phase = Phase::Stopping {
            run,
            cause: StopCause::Container,
            deadline: now.after(self.s.stop_timeout),
            killed: Killed::No,
        };
        self.dirty = true;
    }

    /// A second stop request means "now".
    fn kill_now(&mut self, now: Time, out: &mut Vec<Action>) {
        match &mut self.phase {
            Phase::Stopping { run, killed, .. } => {
                out.push(Action::Signal {
                    to: Target::Group(run.pid),
                    sig: SIGKILL,
                });
                if *killed == Killed::No {
                    *killed = Killed::At(now);
                }
            }
            Phase::Gone { killed, .. } => {
                if *killed == Killed::No {
                    *killed = Killed::At(now);
                }
            }
            _ => return,
        }
        self.sweep(SIGKILL, out);
    }

    // ------------------------------------------------------------ requests

    /// A restart (reload signal, `ctlinit restart`, `--watch`) or a reload
    /// (`--watch-signal`) was asked for.
    fn on_request(&mut self, req: Request, via: &str, now: Time, out: &mut Vec<Action>) {
        if self.stop.is_some() {
            info!("{via}: ignored, the container is stopping");
            return;
        }
        let gen = self.counters.generation;
        let coalesce = self.coalesce;
        let checking = !self.s.check.is_empty();
        let what = request_word(req);
        match &mut self.phase {
            Phase::Running(run) => {
                if let Some(check) = &mut run.check {
                    if req > check.wants {
                        check.wants = req;
                    }
                    info!("{what} requested ({via}) while --check runs: it joins the check");
                    return;
                }
                let settled = req == Request::Reload || now >= run.spawned.after(coalesce);
                if run.ready.is_some() && settled && run.pending.is_none() {
                    let run_pid = run.pid;
                    if checking {
                        return self.start_check(req, via, now, out);
                    }
                    return match req {
                        Request::Restart => self.begin_stop(
                            StopCause::Restart,
                            &format!("restart requested ({via})"),
                            now,
                            out,
                        ),
                        Request::Reload => self.send_reload(run_pid, out),
                    };
                }
                if run.pending.is_none_or(|p| req > p) {
                    if run.ready.is_none() {
                        info!("{what} requested ({via}) while generation {gen} starts: it follows once ready");
                    } else {
                        info!("{what} requested ({via}) just after generation {gen} started: merged into one, served shortly");
                    }
                    run.pending = Some(req);
                }
            }
            Phase::Gone {
                next: Next::Restart { at },
                ..
            } if req == Request::Restart => {
                info!("restart requested ({via}) during backoff: restarting now");
                *at = now;
            }
            _ => debug!("{what} request ({via}): served by the restart under way"),
        }
    }

    /// Serves a request that waited for readiness and the coalescing window.
    fn serve_pending(&mut self, now: Time, out: &mut Vec<Action>) {
        let Phase::Running(run) = &mut self.phase else {
            return;
        };
        let settled = now >= run.spawned.after(self.coalesce);
        if run.ready.is_none() || run.check.is_some() || !settled {
            return;
        }
        let Some(req) = run.pending.take() else {
            return;
        };
        let pid = run.pid;
        let via = "requested while it started";
        if !self.s.check.is_empty() {
            return self.start_check(req, via, now, out);
        }
        match req {
            Request::Restart => self.begin_stop(
                StopCause::Restart,
                "serving the restart requested while it started",
                now,
                out,
            ),
            Request::Reload => self.send_reload(pid, out),
        }
    }

    /// `--watch-signal`: the daemon reloads its own configuration.
    fn send_reload(&mut self, pid: i32, out: &mut Vec<Action>) {
        let Some(sig) = self.s.watch_signal else {
            return;
        };
        info!(
            "--watch: sending {} to generation {} (pid {pid})",
            signals::name(sig),
            self.counters.generation
        );
        self.forward(sig, out);
    }

    fn start_check(&mut self, wants: Request, via: &str, now: Time, out: &mut Vec<Action>) {
        let Phase::Running(run) = &mut self.phase else {
            return;
        };
        info!(
            "running --check before the {} ({via}): {}",
            request_word(wants),
            self.s.check.join(" ")
        );
        run.check = Some(Check {
            pid: None,
            wants,
            deadline: now.after(self.s.stop_timeout),
            killed: false,
        });
        out.push(Action::RunCheck {
            env: self.child_env(self.counters.generation, false),
        });
    }

    fn on_check_spawned(&mut self, pid: i32, out: &mut Vec<Action>) {
        match self.run_mut().and_then(|r| r.check.as_mut()) {
            Some(check) if check.pid.is_none() => check.pid = Some(pid),
            _ => out.push(Action::Signal {
                to: Target::Group(pid),
                sig: SIGKILL,
            }),
        }
    }

    fn on_check_done(&mut self, status: i32, now: Time, out: &mut Vec<Action>) {
        let Some(check) = self.run_mut().and_then(|r| r.check.take()) else {
            return;
        };
        let ok = status == 0;
        self.last_check = Some(LastCheck {
            status,
            at_ms: self.wall_ms(now),
            ok,
        });
        self.dirty = true;
        if !ok {
            error!(
                "check refused restart: {} exited with {status}",
                self.s.check.join(" ")
            );
            return;
        }
        info!(
            "--check passed: the {} goes ahead",
            request_word(check.wants)
        );
        match (check.wants, self.daemon()) {
            (Request::Restart, _) => {
                self.begin_stop(StopCause::Restart, "restart requested (checked)", now, out)
            }
            (Request::Reload, Some(pid)) => self.send_reload(pid, out),
            (Request::Reload, None) => {}
        }
    }

    // ------------------------------------------------------------ the run

    fn begin_stop(&mut self, cause: StopCause, why: &str, now: Time, out: &mut Vec<Action>) {
        let Phase::Running(mut run) = std::mem::replace(&mut self.phase, Phase::Done) else {
            unreachable_phase("begin_stop");
            return;
        };
        info!(
            "stopping generation {} (pid {}): {why}",
            self.counters.generation, run.pid
        );
        kill_check(&mut run, out);
        // Its ports now, while it still holds them: the next generation waits for them.
        out.push(Action::QueryListening { pgid: run.pid });
        run.send(self.s.stop_signal, self.s.pgroup, out);
        self.phase = Phase::Stopping {
            run,
            cause,
            deadline: now.after(self.s.stop_timeout),
            killed: Killed::No,
        };
        self.dirty = true;
    }

    fn on_spawned(&mut self, pid: i32, wall_ms: u64, now: Time, out: &mut Vec<Action>) {
        let Phase::PortWait { .. } = self.phase else {
            unreachable_phase("Spawned");
            return;
        };
        self.spawn_failed = false;
        let c = &mut self.counters;
        c.generation += 1;
        if c.generation > 1 {
            c.restarts += 1;
        }
        self.wall = (now, wall_ms);
        self.last_spawn_ms = wall_ms;
        self.children_left = true;
        self.dirty = true;
        info!(
            "started generation {} (pid {pid}): {}",
            c.generation,
            self.host.command.join(" ")
        );
        let mut run = Run {
            pid,
            spawned: now,
            ready: None,
            next_probe: None,
            watchdog: None,
            pending: None,
            check: None,
            ports: vec![],
            sent: 0,
        };
        if self.s.watch {
            out.push(Action::RebaselineWatch);
        }
        match self.s.ready {
            ReadyMode::None => {
                info!("generation {} (pid {pid}) ready in 0 ms", c.generation);
                run.ready = Some(now);
                run.watchdog = self.s.watchdog.map(|d| now.after(d));
                self.phase = Phase::Running(run);
                self.tell_parent(out);
            }
            ReadyMode::Port | ReadyMode::Listen => {
                run.next_probe = Some(now);
                self.phase = Phase::Running(run);
            }
            ReadyMode::Notify => self.phase = Phase::Running(run),
        }
    }

    fn become_ready(&mut self, now: Time, out: &mut Vec<Action>) {
        let watchdog = self.s.watchdog;
        let gen = self.counters.generation;
        let Phase::Running(run) = &mut self.phase else {
            return;
        };
        if run.ready.is_some() {
            return;
        }
        run.ready = Some(now);
        run.next_probe = None;
        run.watchdog = watchdog.map(|d| now.after(d));
        info!(
            "generation {gen} (pid {}) ready in {} ms",
            run.pid,
            now.since(run.spawned).as_millis()
        );
        out.push(Action::QueryListening { pgid: run.pid });
        self.dirty = true;
        self.tell_parent(out);
    }

    fn tell_parent(&mut self, out: &mut Vec<Action>) {
        if self.host.notify_parent && !self.told_parent {
            self.told_parent = true;
            out.push(Action::NotifyParentReady);
        }
    }

    fn on_ports_busy(&mut self, busy: &[u16], now: Time, out: &mut Vec<Action>) {
        match &mut self.phase {
            Phase::PortWait {
                deadline,
                next_probe,
                ..
            } => {
                if busy.is_empty() {
                    self.spawn_next(out);
                } else if now < *deadline {
                    *next_probe = Some(now.after(POLL));
                } else {
                    out.push(Action::FindHolders(busy.to_vec()));
                }
            }
            Phase::Running(run) if run.ready.is_none() && self.s.ready == ReadyMode::Port => {
                if self.s.ports.iter().all(|p| busy.contains(p)) {
                    self.become_ready(now, out);
                } else {
                    run.next_probe = Some(now.after(POLL));
                }
            }
            _ => {}
        }
    }

    fn on_listening(&mut self, ports: &[u16], now: Time, out: &mut Vec<Action>) {
        let listen_mode = self.s.ready == ReadyMode::Listen;
        match &mut self.phase {
            Phase::Running(run) => {
                run.learn(ports);
                if run.ready.is_none() && listen_mode {
                    if ports.is_empty() {
                        run.next_probe = Some(now.after(POLL));
                    } else {
                        self.become_ready(now, out);
                    }
                }
            }
            Phase::Stopping { run, .. } | Phase::Draining { run, .. } => run.learn(ports),
            _ => {}
        }
        debug!(
            "generation {} listens on {ports:?}",
            self.counters.generation
        );
    }

    fn on_notify(&mut self, pid: i32, from: Sender, n: Notice, now: Time, out: &mut Vec<Action>) {
        let gen = self.counters.generation;
        if self.run().is_none() || from == Sender::Other {
            warn!("notify: ignoring a message from pid {pid}, not of generation {gen}");
            return;
        }
        if let Some(s) = &n.status {
            info!("generation {gen} status: {s}");
        }
        if n.ready && self.s.ready == ReadyMode::Notify {
            self.become_ready(now, out);
        }
        let Some(dur) = self.s.watchdog else {
            return;
        };
        let Phase::Running(run) = &mut self.phase else {
            return;
        };
        if run.ready.is_none() {
            return; // keep-alives count only once ready (§14.28)
        }
        if n.trigger {
            return self.begin_stop(
                StopCause::Watchdog,
                "watchdog triggered by the daemon (WATCHDOG=trigger)",
                now,
                out,
            );
        }
        if n.keepalive {
            run.watchdog = Some(now.after(dur));
        }
    }

    fn on_child_stopped(&mut self, pid: i32, sig: i32, out: &mut Vec<Action>) {
        // Ctrl-Z in `docker run -it` would stop the daemon with nobody to
        // resume it: continue it so the container never wedges.
        if Some(pid) == self.daemon() && [SIGTSTP, SIGTTIN, SIGTTOU].contains(&sig) {
            info!(
                "daemon (pid {pid}) stopped by {}: continuing it",
                signals::name(sig)
            );
            out.push(Action::Signal {
                to: Target::Group(pid),
                sig: SIGCONT,
            });
        }
    }

    fn on_reaped(&mut self, pid: i32, ended: Ended, now: Time, out: &mut Vec<Action>) {
        let is_check = self
            .run()
            .and_then(|r| r.check)
            .is_some_and(|c| c.pid == Some(pid));
        if is_check {
            return self.on_check_done(ended.status(), now, out);
        }
        if self.s.warn_orphans {
            warn!("reaped orphan pid {pid} ({ended})");
        } else {
            debug!("reaped orphan pid {pid} ({ended})");
        }
    }

    /// The daemon was reaped: judge the run and decide what follows.
    fn on_daemon_exit(&mut self, x: DaemonExit, now: Time, out: &mut Vec<Action>) {
        let (mut run, cause, kept_deadline, killed) =
            match std::mem::replace(&mut self.phase, Phase::Done) {
                Phase::Running(run) => (run, None, None, Killed::No),
                Phase::Draining { run, .. } => (run, Some(StopCause::Container), None, Killed::No),
                Phase::Stopping {
                    run,
                    cause,
                    deadline,
                    killed,
                } => {
                    let keep = (cause == StopCause::Container).then_some(deadline);
                    (run, Some(cause), keep, killed)
                }
                other => {
                    self.phase = other;
                    unreachable_phase("DaemonExited");
                    return;
                }
            };
        kill_check(&mut run, out);
        let gen = self.counters.generation;
        let ended = x.ended;
        self.counters.exits += 1;
        let ran = now.since(run.spawned);
        let oom_kill = self.oom_check(&x);
        self.last_exit = Some(LastExit {
            code: ended.code(),
            signal: ended.signal(),
            status: ended.status(),
            oom_kill,
        });
        if oom_kill {
            self.counters.oom_kills += 1;
            error!(
                "generation {gen} (pid {}) was killed by the OOM killer (memory limit {})",
                run.pid,
                format::limit(x.oom.and_then(|r| r.limit))
            );
        }
        let asked = cause.is_none()
            && ended
                .code()
                .is_some_and(|c| self.s.restart_exit.contains(&c));
        if asked {
            info!(
                "generation {gen} (pid {}) exited with {}: restart requested by the daemon",
                run.pid,
                ended.status()
            );
        } else {
            info!(
                "generation {gen} (pid {}) exited with {ended} after {}",
                run.pid,
                format::duration(Duration::from_millis(ran.as_millis() as u64))
            );
        }
        // The terminal signals the daemon's group, not ctlinit: a Ctrl-C that
        // killed the foreground daemon is the operator stopping the container (§3).
        if let (None, None, true, Ended::Signal(s)) = (self.stop, cause, x.held_terminal, ended) {
            if self.s.stop_on.contains(&s) && !run.was_sent(s) {
                info!(
                    "generation {gen} died of {} from the terminal: stopping, no restart",
                    signals::name(s)
                );
                self.stop = Some(s);
            }
        }
        let verdict = match cause {
            Some(StopCause::Restart) => Verdict::Stopped,
            Some(StopCause::ReadyTimeout | StopCause::Watchdog) => Verdict::Failed,
            _ if asked => Verdict::Requested,
            _ if self.s.success_exit.contains(&ended.status()) => Verdict::Clean,
            _ => Verdict::Failed,
        };
        // A run that never became ready has not "lasted": however long the
        // readiness timeout, it must not reset the failure count.
        let ran_for = match (verdict, run.ready) {
            (Verdict::Requested, _) | (_, Some(_)) => ran,
            _ => Duration::ZERO,
        };
        let stopping = self.stop.is_some();
        let (mut decision, history) =
            policy::decide(&self.s.policy, self.history, verdict, ran_for, stopping);
        self.history = history;
        // A restart requested while this generation was starting was
        // delivered: it completes even if the generation ended on its own,
        // and like any requested restart without a backoff (§14.2).
        if run.pending == Some(Request::Restart) && decision != Decision::GiveUp && !stopping {
            info!("serving the restart requested while generation {gen} was starting");
            decision = Decision::Restart {
                delay: Duration::ZERO,
            };
        }
        let next = self.next_after(decision, verdict, ended, now);
        self.phase = Phase::Gone {
            next,
            handoff: std::mem::take(&mut run.ports),
            deadline: kept_deadline.unwrap_or(now.after(self.s.stop_timeout)),
            killed,
        };
        self.dirty = true;
        // Stragglers: the stop signal now, SIGKILL at the deadline (they
        // already had SIGKILL with the group if the grace ran out).
        let sig = if killed == Killed::No {
            self.s.stop_signal
        } else {
            SIGKILL
        };
        self.sweep(sig, out);
    }

    /// Whether the run that just ended was killed by the OOM killer (§8a):
    /// it died of SIGKILL and the counter grew since the run began.
    fn oom_check(&mut self, x: &DaemonExit) -> bool {
        let Some(reading) = x.oom else {
            return false;
        };
        let before = self.oom_baseline.replace(reading.kills);
        x.ended == Ended::Signal(SIGKILL) && before.is_some_and(|b| reading.kills > b)
    }

    fn next_after(&mut self, d: Decision, verdict: Verdict, ended: Ended, now: Time) -> Next {
        let status = self.map_status(ended.status());
        match d {
            Decision::Restart { delay } => {
                match verdict {
                    Verdict::Failed => info!(
                        "restarting in {} ({})",
                        format::duration(delay),
                        self.failure_count()
                    ),
                    Verdict::Clean => info!(
                        "restarting in {} (clean exit, policy always)",
                        format::duration(delay)
                    ),
                    Verdict::Requested if !delay.is_zero() => info!(
                        "restarting in {} (no sooner than {} after its start)",
                        format::duration(delay),
                        format::duration(self.s.policy.backoff_min)
                    ),
                    _ => info!("restarting now (requested)"),
                }
                Next::Restart {
                    at: now.after(delay),
                }
            }
            Decision::Exit => Next::Exit(Ending {
                code: ExitCode::Status(status),
                reason: if self.stop.is_some() {
                    Reason::Stopped
                } else {
                    Reason::DaemonExited
                },
            }),
            Decision::GiveUp => {
                self.log_give_up();
                Next::Exit(Ending {
                    code: ExitCode::Status(status),
                    reason: Reason::GaveUp,
                })
            }
        }
    }

    /// "failure k of N": N restarts are tolerated, so the (N+1)-th failure
    /// in a row gives up (§14.1) — the line says so when k reaches N.
    fn failure_count(&self) -> String {
        let k = self.history.consecutive_failures;
        match self.s.policy.max_restarts {
            0 => format!("failure {k}, --max-restarts 0: never giving up"),
            n if k >= n => {
                format!("failure {k} of {n} tolerated by --max-restarts: the next failure gives up")
            }
            n => format!("failure {k} of {n} tolerated by --max-restarts"),
        }
    }

    fn log_give_up(&self) {
        let n = self.s.policy.max_restarts;
        info!(
            "giving up after {} consecutive failed runs: --max-restarts {n} tolerates {n} restart{} after failures",
            self.history.consecutive_failures,
            if n == 1 { "" } else { "s" }
        );
    }

    fn on_spawn_failed(&mut self, e: SpawnError, now: Time, out: &mut Vec<Action>) {
        let handoff = match std::mem::replace(&mut self.phase, Phase::Done) {
            Phase::PortWait { handoff, .. } => handoff,
            other => {
                self.phase = other;
                unreachable_phase("SpawnFailed");
                return;
            }
        };
        if e != SpawnError::Temporary {
            return self.finish(ExitCode::Spawn(e), Reason::ExecFailed, out);
        }
        // A temporary shortage (a pids limit) is a failed run, not the end
        // of the container (§14.29).
        self.spawn_failed = true;
        let (decision, history) = policy::decide(
            &self.s.policy,
            self.history,
            Verdict::Failed,
            Duration::ZERO,
            self.stop.is_some(),
        );
        self.history = history;
        match decision {
            Decision::Restart { delay } => {
                info!(
                    "retrying in {} ({})",
                    format::duration(delay),
                    self.failure_count()
                );
                self.phase = Phase::Gone {
                    next: Next::Restart {
                        at: now.after(delay),
                    },
                    handoff,
                    deadline: now.after(self.s.stop_timeout),
                    killed: Killed::No,
                };
                self.dirty = true;
            }
            Decision::GiveUp => {
                self.log_give_up();
                self.finish(ExitCode::Spawn(e), Reason::ExecFailed, out)
            }
            Decision::Exit => self.finish(ExitCode::Spawn(e), Reason::ExecFailed, out),
        }
    }

    // ------------------------------------------------------------ the handoff

    fn enter_port_wait(&mut self, handoff: Vec<u16>, now: Time, out: &mut Vec<Action>) {
        let wanted = self.wanted_ports(&handoff);
        self.phase = Phase::PortWait {
            handoff,
            deadline: now.after(self.s.port_timeout),
            extended: false,
            next_probe: None,
            spawning: false,
        };
        self.dirty = true;
        if wanted.is_empty() {
            self.spawn_next(out);
        } else {
            out.push(Action::ProbePorts(wanted));
        }
    }

    fn wanted_ports(&self, handoff: &[u16]) -> Vec<u16> {
        let mut p = self.s.ports.clone();
        for x in handoff {
            if !p.contains(x) {
                p.push(*x);
            }
        }
        p
    }

    fn spawn_next(&mut self, out: &mut Vec<Action>) {
        if let Phase::PortWait { spawning, .. } = &mut self.phase {
            *spawning = true;
        }
        let generation = self.counters.generation + 1;
        out.push(Action::Spawn {
            generation,
            env: self.child_env(generation, true),
            watchdog_pid: self.s.watchdog.is_some(),
        });
    }

    fn on_holders(&mut self, found: &[Holder], now: Time, out: &mut Vec<Action>) {
        let Phase::PortWait {
            deadline,
            extended,
            next_probe,
            ..
        } = &mut self.phase
        else {
            return;
        };
        if found.is_empty() {
            // Freed between the probe and the scan: look again.
            *next_probe = Some(now);
            return;
        }
        let in_tree: Vec<&Holder> = found
            .iter()
            .filter(|h| h.in_tree && h.pid.is_some())
            .collect();
        if !*extended && !in_tree.is_empty() {
            for h in &in_tree {
                warn!(
                    "port {} still held after {} by pid {} of ctlinit's own tree: killing it",
                    h.port,
                    format::duration(self.s.port_timeout),
                    h.pid.unwrap_or(0)
                );
                out.push(Action::KillHolder {
                    pid: h.pid.unwrap_or(0),
                    start_ticks: h.start_ticks,
                });
            }
            *deadline = now.after(PORT_KILL_GRACE);
            *extended = true;
            *next_probe = Some(now.after(POLL));
            return;
        }
        let mut ports: Vec<u16> = found.iter().map(|h| h.port).collect();
        ports.dedup();
        for port in ports {
            let who: Vec<String> = found
                .iter()
                .filter(|h| h.port == port)
                .filter_map(|h| h.pid.map(|p| p.to_string()))
                .collect();
            let holder = if who.is_empty() {
                "a process ctlinit cannot see".to_string()
            } else {
                format!("pid {}", who.join(", pid "))
            };
            error!(
                "port {port} is still held by {holder}; not starting generation {} into a taken port — free the port or change --port",
                self.counters.generation + 1
            );
        }
        self.finish(ExitCode::PortBusy, Reason::PortBusy, out);
    }

    // ------------------------------------------------------------ time

    /// Transitions that depend only on time and on the tree being empty.
    fn advance(&mut self, now: Time, out: &mut Vec<Action>) {
        if self.watch_due.is_some_and(|t| now >= t) {
            self.watch_due = None;
            out.push(Action::CompareWatched);
        }
        let gen = self.counters.generation;
        match &mut self.phase {
            Phase::PortWait {
                next_probe,
                handoff,
                ..
            } => {
                if next_probe.is_some_and(|t| now >= t) {
                    *next_probe = None;
                    let handoff = handoff.clone();
                    out.push(Action::ProbePorts(self.wanted_ports(&handoff)));
                }
            }
            Phase::Running(run) => {
                if let Some(check) = &mut run.check {
                    // Once its pid is known: a zero --stop-timeout expires
                    // before `CheckSpawned` answers.
                    if !check.killed && check.pid.is_some() && now >= check.deadline {
                        warn!(
                            "--check still running after {}: killing it",
                            format::duration(self.s.stop_timeout)
                        );
                        check.killed = true;
                        if let Some(pid) = check.pid {
                            out.push(Action::Signal {
                                to: Target::Group(pid),
                                sig: SIGKILL,
                            });
                        }
                    }
                }
                if run.ready.is_none() {
                    if now >= run.spawned.after(self.s.ready_timeout) {
                        warn!(
                            "generation {gen} (pid {}) not ready after {}: stopping it",
                            run.pid,
                            format::duration(self.s.ready_timeout)
                        );
                        return self.begin_stop(
                            StopCause::ReadyTimeout,
                            "readiness timeout",
                            now,
                            out,
                        );
                    }
                    if run.next_probe.is_some_and(|t| now >= t) {
                        run.next_probe = None;
                        out.push(match self.s.ready {
                            ReadyMode::Port => Action::ProbePorts(self.s.ports.clone()),
                            _ => Action::QueryListening { pgid: run.pid },
                        });
                    }
                    return;
                }
                if run.watchdog.is_some_and(|t| now >= t) {
                    let why = format!(
                        "watchdog timeout after {}",
                        format::duration(self.s.watchdog.unwrap_or_default())
                    );
                    return self.begin_stop(StopCause::Watchdog, &why, now, out);
                }
                self.serve_pending(now, out);
            }
            Phase::Draining { until, .. } => {
                if now >= *until {
                    let Phase::Draining { run, forward, .. } =
                        std::mem::replace(&mut self.phase, Phase::Done)
                    else {
                        return;
                    };
                    info!(
                        "drain over after {}: forwarding the stop to generation {gen} (pid {})",
                        format::duration(self.s.stop_delay),
                        run.pid
                    );
                    self.forward_stop(run, forward, now, out);
                }
            }
            Phase::Stopping {
                run,
                deadline,
                killed,
                ..
            } => match *killed {
                Killed::No if now >= *deadline => {
                    info!(
                        "killing process group {} after stop timeout {}",
                        run.pid,
                        format::duration(self.s.stop_timeout)
                    );
                    *killed = Killed::At(now);
                    out.push(Action::Signal {
                        to: Target::Group(run.pid),
                        sig: SIGKILL,
                    });
                    self.sweep(SIGKILL, out);
                }
                Killed::At(t) if now >= t.after(SURVIVOR_GRACE) => {
                    *killed = Killed::Reported;
                    out.push(Action::ReportSurvivors);
                    if self.stop.is_some() {
                        // Exiting anyway: as PID 1 the kernel ends what remains.
                        let status = self.map_status(128 + SIGKILL);
                        self.finish(ExitCode::Status(status), Reason::Stopped, out);
                    }
                }
                // The container stops after the survivors were reported.
                Killed::Reported if self.stop.is_some() => {
                    let status = self.map_status(128 + SIGKILL);
                    self.finish(ExitCode::Status(status), Reason::Stopped, out);
                }
                _ => {}
            },
            Phase::Gone {
                next,
                handoff,
                deadline,
                killed,
            } => {
                if !self.children_left {
                    match *next {
                        Next::Exit(end) => self.finish(end.code, end.reason, out),
                        Next::Restart { at } if now >= at => {
                            let handoff = std::mem::take(handoff);
                            self.enter_port_wait(handoff, now, out);
                        }
                        Next::Restart { .. } => {}
                    }
                    return;
                }
                match *killed {
                    Killed::No if now >= *deadline => {
                        info!(
                            "killing the daemon's remaining processes after stop timeout {}",
                            format::duration(self.s.stop_timeout)
                        );
                        *killed = Killed::At(now);
                        self.sweep(SIGKILL, out);
                    }
                    Killed::At(t) if now >= t.after(SURVIVOR_GRACE) => {
                        *killed = Killed::Reported;
                        out.push(Action::ReportSurvivors);
                        if let Next::Exit(end) = *next {
                            self.finish(end.code, end.reason, out);
                        }
                    }
                    // A stop after the survivors were reported: exit anyway.
                    Killed::Reported => {
                        if let Next::Exit(end) = *next {
                            self.finish(end.code, end.reason, out);
                        }
                    }
                    _ => {}
                }
            }
            Phase::Done => {}
        }
    }

    // ------------------------------------------------------------ helpers

    fn run(&self) -> Option<&Run> {
        match &self.phase {
            Phase::Running(run) | Phase::Draining { run, .. } | Phase::Stopping { run, .. } => {
                Some(run)
            }
            _ => None,
        }
    }

    fn run_mut(&mut self) -> Option<&mut Run> {
        match &mut self.phase {
            Phase::Running(run) | Phase::Draining { run, .. } | Phase::Stopping { run, .. } => {
                Some(run)
            }
            _ => None,
        }
    }

    fn ready_deadline(&self, run: &Run) -> Time {
        run.spawned.after(self.s.ready_timeout)
    }

    /// True once the container is ending: no generation will follow.
    fn ending(&self) -> bool {
        self.stop.is_some()
            || matches!(
                self.phase,
                Phase::Gone {
                    next: Next::Exit(_),
                    ..
                } | Phase::Done
            )
    }

    /// Signals what remains of ctlinit's tree, if anything does.
    fn sweep(&self, sig: i32, out: &mut Vec<Action>) {
        if !self.children_left {
            return;
        }
        // kill(-1) reaches everything, atomically, but only PID 1 of its own
        // namespace may use it, and only when nothing is to survive.
        let scope = if self.host.pid == 1 && self.ending() {
            Scope::Namespace
        } else {
            Scope::Descendants
        };
        out.push(Action::SignalTree { sig, scope });
    }

    /// The environment changes for a child: the markers (§7), and for the
    /// daemon its notify socket and watchdog interval (`WATCHDOG_PID` is
    /// set by the spawn, which alone knows the pid). A check gets the
    /// markers only.
    fn child_env(&self, generation: u64, daemon: bool) -> Env {
        let own = self.host.pid.to_string();
        let mut env: Env = vec![
            ("CTLINIT_SUPERVISOR".into(), Some(own.clone())),
            ("CTLINIT_GENERATION".into(), Some(generation.to_string())),
        ];
        if let Some(p) = &self.host.pidfile {
            env.push(("CTLINIT_PIDFILE".into(), Some(p.clone())));
        }
        for (name, value) in &self.s.markers {
            env.push((
                name.clone(),
                Some(value.clone().unwrap_or_else(|| own.clone())),
            ));
        }
        if !daemon {
            return env;
        }
        // An inherited NOTIFY_SOCKET passes to the daemon untouched unless
        // ctlinit has its own socket for it (§14.18).
        if let Some(addr) = &self.host.notify_socket {
            env.push(("NOTIFY_SOCKET".into(), Some(addr.clone())));
        }
        if let Some(d) = self.s.watchdog {
            env.push(("WATCHDOG_USEC".into(), Some(d.as_micros().to_string())));
        }
        env
    }

    fn finish(&mut self, code: ExitCode, reason: Reason, out: &mut Vec<Action>) {
        self.phase = Phase::Done;
        out.push(Action::Exit(Ending { code, reason }));
    }

    /// What a stop between runs exits with (§14.3): the last run's status,
    /// 1 if it could not be spawned, 128 + the signal if nothing ran yet.
    fn last_run_code(&self, signo: i32) -> ExitCode {
        if self.spawn_failed {
            return ExitCode::Spawn(SpawnError::Temporary);
        }
        ExitCode::Status(
            self.last_exit
                .as_ref()
                .map_or(128 + signo, |e| self.map_status(e.status)),
        )
    }

    fn map_status(&self, status: i32) -> i32 {
        if self.s.success_exit.contains(&status) {
            0
        } else {
            status
        }
    }

    fn wall_ms(&self, now: Time) -> u64 {
        let (at, ms) = self.wall;
        ms.saturating_add(now.since(at).as_millis() as u64)
    }
}

fn target(pid: i32, pgroup: bool) -> Target {
    if pgroup {
        Target::Group(pid)
    } else {
        Target::Pid(pid)
    }
}

/// A check has nothing left to protect once its run stops or ends.
fn kill_check(run: &mut Run, out: &mut Vec<Action>) {
    if let Some(Check { pid: Some(pid), .. }) = run.check.take() {
        out.push(Action::Signal {
            to: Target::Group(pid),
            sig: SIGKILL,
        });
    }
}

fn request_word(r: Request) -> &'static str {
    match r {
        Request::Restart => "restart",
        Request::Reload => "reload",
    }
}

fn killed_deadline(killed: Killed, deadline: Time) -> Option<Time> {
    match killed {
        Killed::No => Some(deadline),
        Killed::At(t) => Some(t.after(SURVIVOR_GRACE)),
        Killed::Reported => None,
    }
}

fn earliest(a: Option<Time>, b: Option<Time>) -> Option<Time> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// "Cannot happen" pairs are logged, never silently dropped.
fn unreachable_phase(what: &str) {
    debug!("{what} in a phase that does not expect it: ignored");
}

#[cfg(test)]
mod tests;
