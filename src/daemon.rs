//! The daemon's lifecycle as a pure state machine (SPEC §4, §8, §9).
//!
//! Every method takes an event and the current time and returns the actions
//! the event loop must perform; nothing here makes a syscall. One restart
//! path serves every trigger: stop the generation → drain its tree → wait for
//! its ports → spawn → wait for readiness.
//!
//! ```text
//!            spawn ok                     ready
//! PortWait ───────────► Running(starting) ─────► Running(ready)
//!    ▲                      │ exit / ready timeout     │ exit / restart request / stop
//!    │                      ▼                          ▼
//!    │   backoff over,   Gone ◄──────────────── Stopping (grace, then SIGKILL group)
//!    └─ tree empty ──── (drain tree, backoff)        daemon exited
//!                           │ next = exit, tree empty
//!                           ▼
//!                          Done ──► Exit(status, reason)
//! ```

use crate::cli::ReadyMode;
use crate::exit_status::Ended;
use crate::policy::{self, Decision, History, Outcome, Policy};
use crate::signals;
use log::{debug, error, info, warn};
use std::time::{Duration, Instant};

/// The settings the state machine needs (a slice of the CLI config).
#[derive(Clone, Debug)]
pub struct Settings {
    pub policy: Policy,
    pub stop_signal: i32,
    pub stop_timeout: Duration,
    pub ready: ReadyMode,
    pub ready_timeout: Duration,
    pub port_timeout: Duration,
    pub ports: Vec<u16>,
    pub pgroup: bool,
    pub success_exit: Vec<i32>,
    /// The restart-request coalescing window after a spawn (COALESCE).
    pub coalesce: Duration,
}

/// Extra wait after SIGKILLing a port holder of our own tree (SPEC §9).
pub const PORT_KILL_GRACE: Duration = Duration::from_secs(2);

/// Restart requests within this long after a spawn are merged into one,
/// served when it has passed (and the generation is ready): a fast daemon
/// restarts in a few ms, and without a window a burst of requests spread over
/// 50 ms would restart it once per request (SPEC §8: a burst causes ≤ 2).
pub const COALESCE: Duration = Duration::from_millis(250);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    DaemonExited,
    Stopped,
    GaveUp,
    PortBusy,
    ExecFailed,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::DaemonExited => "daemon-exited",
            Reason::Stopped => "stopped",
            Reason::GaveUp => "gave-up",
            Reason::PortBusy => "port-busy",
            Reason::ExecFailed => "exec-failed",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Start the next generation; report back with `on_spawned` / `on_spawn_failed`.
    Spawn,
    /// kill(pid, sig); a negative pid is a process group.
    Signal {
        pid: i32,
        sig: i32,
    },
    /// Signal every remaining process of ctlinit's tree.
    SignalTree {
        sig: i32,
    },
    /// Record the ports the daemon's group listens on (for the next handoff).
    LearnPorts {
        pgid: i32,
    },
    WritePidfile,
    /// Tell an inherited NOTIFY_SOCKET that we are ready (first readiness only).
    NotifyParentReady,
    Exit {
        status: i32,
        reason: Reason,
    },
}

/// Why ctlinit is stopping the running daemon.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopCause {
    Restart,
    ReadyTimeout,
    Container,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    pub pid: i32,
    pub spawned: Instant,
    pub spawned_wall_ms: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    Restart { at: Instant },
    Exit { status: i32, reason: Reason },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Waiting until no socket listens on the handoff ports, then spawning.
    PortWait {
        deadline: Instant,
        extended: bool,
    },
    Running {
        run: Run,
        ready: bool,
        ready_deadline: Option<Instant>,
    },
    Stopping {
        run: Run,
        cause: StopCause,
        deadline: Instant,
        killed: bool,
    },
    /// The daemon is gone: its stragglers drain while the backoff runs.
    Gone {
        next: Next,
        deadline: Instant,
        killed: bool,
    },
    Done,
}

/// A process holding a port we need, as the loop found it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Holder {
    pub port: u16,
    pub pid: Option<i32>,
    pub in_tree: bool,
}

pub struct Supervisor {
    s: Settings,
    pub phase: Phase,
    history: History,
    pub generation: u64,
    pub exits: u64,
    pub restarts: u64,
    pub last_exit: Option<Ended>,
    stop_requested: bool,
    pending_restart: bool,
    handoff_ports: Vec<u16>,
    /// Requests before this instant wait for it (see COALESCE).
    coalesce_until: Option<Instant>,
    told_parent: bool,
    last_spawn_wall_ms: u64,
}

/// What the PID file shows right now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub pid: Option<i32>,
    pub state: &'static str,
    pub started_at_ms: u64,
}

impl Supervisor {
    pub fn new(s: Settings) -> Supervisor {
        let history = History::new(&s.policy);
        Supervisor {
            s,
            phase: Phase::PortWait {
                deadline: far_future(),
                extended: false,
            },
            history,
            generation: 0,
            exits: 0,
            restarts: 0,
            last_exit: None,
            stop_requested: false,
            pending_restart: false,
            handoff_ports: vec![],
            coalesce_until: None,
            told_parent: false,
            last_spawn_wall_ms: 0,
        }
    }

    /// The first start.
    pub fn start(&mut self, now: Instant) -> Vec<Action> {
        self.prepare_spawn(now)
    }

    /// The ports that must be free before the next spawn.
    pub fn ports_to_free(&self) -> Vec<u16> {
        let mut p = self.s.ports.clone();
        for x in &self.handoff_ports {
            if !p.contains(x) {
                p.push(*x);
            }
        }
        p
    }

    pub fn learn_ports(&mut self, ports: &[u16]) {
        for p in ports {
            if !self.handoff_ports.contains(p) {
                self.handoff_ports.push(*p);
            }
        }
    }

    /// True once the container is ending: no generation will follow.
    pub fn ending(&self) -> bool {
        self.stop_requested
            || matches!(
                self.phase,
                Phase::Gone {
                    next: Next::Exit { .. },
                    ..
                } | Phase::Done
            )
    }

    /// The live daemon process, if any.
    pub fn daemon(&self) -> Option<i32> {
        match self.phase {
            Phase::Running { run, .. } | Phase::Stopping { run, .. } => Some(run.pid),
            _ => None,
        }
    }

    /// Where forwarded signals go: the daemon, or its group with `-g`.
    fn target(&self, pid: i32) -> i32 {
        if self.s.pgroup {
            -pid
        } else {
            pid
        }
    }

    pub fn snapshot(&self) -> Snapshot {
        let (pid, state) = match self.phase {
            Phase::Running {
                run, ready: false, ..
            } => (Some(run.pid), "starting"),
            Phase::Running {
                run, ready: true, ..
            } => (Some(run.pid), "ready"),
            Phase::Stopping { run, .. } => (Some(run.pid), "stopping"),
            Phase::Gone {
                next: Next::Exit { .. },
                ..
            }
            | Phase::Done => (None, "stopping"),
            Phase::Gone {
                next: Next::Restart { .. },
                ..
            }
            | Phase::PortWait { .. } => (None, "backoff"),
        };
        Snapshot {
            pid,
            state,
            started_at_ms: self.last_spawn_wall_ms,
        }
    }

    /// The readiness probe the loop should run now, if any: (mode, daemon pid).
    pub fn ready_probe(&self) -> Option<(ReadyMode, i32)> {
        match self.phase {
            Phase::Running {
                run, ready: false, ..
            } if matches!(self.s.ready, ReadyMode::Port | ReadyMode::Listen) => {
                Some((self.s.ready, run.pid))
            }
            _ => None,
        }
    }

    pub fn waiting_for_ports(&self) -> bool {
        matches!(self.phase, Phase::PortWait { .. })
    }

    /// The earliest time something must happen without an outside event.
    pub fn deadline(&self, tree_empty: bool) -> Option<Instant> {
        match self.phase {
            Phase::PortWait { deadline, .. } => Some(deadline),
            Phase::Running {
                ready: false,
                ready_deadline,
                ..
            } => ready_deadline,
            Phase::Running { .. } => self.coalesce_until.filter(|_| self.pending_restart),
            Phase::Done => None,
            Phase::Stopping {
                deadline, killed, ..
            } => (!killed).then_some(deadline),
            Phase::Gone {
                next,
                deadline,
                killed,
            } => {
                let drain = (!tree_empty && !killed).then_some(deadline);
                let backoff = match next {
                    Next::Restart { at } if tree_empty => Some(at),
                    _ => None,
                };
                drain.into_iter().chain(backoff).min()
            }
        }
    }

    fn prepare_spawn(&mut self, now: Instant) -> Vec<Action> {
        self.phase = Phase::PortWait {
            deadline: now + self.s.port_timeout,
            extended: false,
        };
        let mut out = vec![];
        if self.generation > 0 {
            out.push(Action::WritePidfile);
        }
        if self.ports_to_free().is_empty() {
            out.push(Action::Spawn);
        }
        out
    }

    /// The loop found the handoff ports free (`busy` empty) or some still busy.
    /// `holders` is only asked for once the port timeout has passed.
    pub fn on_port_probe(
        &mut self,
        busy: &[u16],
        holders: impl FnOnce() -> Vec<Holder>,
        now: Instant,
    ) -> Vec<Action> {
        let Phase::PortWait { deadline, extended } = self.phase else {
            return vec![];
        };
        if busy.is_empty() {
            return vec![Action::Spawn];
        }
        if now < deadline {
            return vec![];
        }
        let found = holders();
        let in_tree: Vec<i32> = found
            .iter()
            .filter(|h| h.in_tree)
            .filter_map(|h| h.pid)
            .collect();
        if !extended && !in_tree.is_empty() {
            for h in found.iter().filter(|h| h.in_tree) {
                warn!(
                    "port {} still held after {:?} by pid {} of ctlinit's own tree: killing it",
                    h.port,
                    self.s.port_timeout,
                    h.pid.unwrap_or(0)
                );
            }
            self.phase = Phase::PortWait {
                deadline: now + PORT_KILL_GRACE,
                extended: true,
            };
            return in_tree
                .into_iter()
                .map(|pid| Action::Signal {
                    pid,
                    sig: libc::SIGKILL,
                })
                .collect();
        }
        for port in busy {
            let who: Vec<String> = found
                .iter()
                .filter(|h| h.port == *port)
                .filter_map(|h| h.pid.map(|p| p.to_string()))
                .collect();
            let holder = if who.is_empty() {
                "a process ctlinit cannot see".to_string()
            } else {
                format!("pid {}", who.join(", pid "))
            };
            error!(
                "port {port} is still held by {holder}; not starting generation {} into a taken port — free the port or change --port",
                self.generation + 1
            );
        }
        self.finish(69, Reason::PortBusy)
    }

    pub fn on_spawned(&mut self, pid: i32, now: Instant, wall_ms: u64) -> Vec<Action> {
        self.generation += 1;
        if self.generation > 1 {
            self.restarts += 1;
        }
        self.handoff_ports.clear();
        self.pending_restart = false;
        self.coalesce_until = Some(now + self.s.coalesce);
        self.last_spawn_wall_ms = wall_ms;
        let run = Run {
            pid,
            spawned: now,
            spawned_wall_ms: wall_ms,
        };
        let ready = self.s.ready == ReadyMode::None;
        let ready_deadline = (!ready).then(|| now + self.s.ready_timeout);
        self.phase = Phase::Running {
            run,
            ready,
            ready_deadline,
        };
        let mut out = vec![Action::WritePidfile];
        if ready {
            info!("generation {} (pid {pid}) ready in 0 ms", self.generation);
            out.extend(self.first_ready());
        }
        out
    }

    pub fn on_spawn_failed(&mut self, status: i32) -> Vec<Action> {
        self.finish(status, Reason::ExecFailed)
    }

    pub fn on_ready(&mut self, now: Instant) -> Vec<Action> {
        let Phase::Running {
            run, ready: false, ..
        } = self.phase
        else {
            return vec![];
        };
        self.phase = Phase::Running {
            run,
            ready: true,
            ready_deadline: None,
        };
        info!(
            "generation {} (pid {}) ready in {} ms",
            self.generation,
            run.pid,
            now.saturating_duration_since(run.spawned).as_millis()
        );
        let mut out = vec![Action::WritePidfile, Action::LearnPorts { pgid: run.pid }];
        out.extend(self.first_ready());
        out.extend(self.serve_pending(now));
        out
    }

    /// Serves a remembered restart request once the generation is ready and
    /// the coalescing window after its spawn has passed.
    fn serve_pending(&mut self, now: Instant) -> Vec<Action> {
        let settled = self.coalesce_until.is_none_or(|t| now >= t);
        let ready = matches!(self.phase, Phase::Running { ready: true, .. });
        if !self.pending_restart || !settled || !ready {
            return vec![];
        }
        self.pending_restart = false;
        self.begin_stop(
            StopCause::Restart,
            "serving the restart requested while it started",
            now,
        )
    }

    fn first_ready(&mut self) -> Option<Action> {
        if self.told_parent {
            return None;
        }
        self.told_parent = true;
        Some(Action::NotifyParentReady)
    }

    fn begin_stop(&mut self, cause: StopCause, why: &str, now: Instant) -> Vec<Action> {
        let Phase::Running { run, .. } = self.phase else {
            return vec![];
        };
        info!(
            "stopping generation {} (pid {}): {why}",
            self.generation, run.pid
        );
        self.phase = Phase::Stopping {
            run,
            cause,
            deadline: now + self.s.stop_timeout,
            killed: false,
        };
        vec![
            Action::LearnPorts { pgid: run.pid },
            Action::Signal {
                pid: self.target(run.pid),
                sig: self.s.stop_signal,
            },
            Action::WritePidfile,
        ]
    }

    pub fn on_restart_request(&mut self, via: &str, now: Instant) -> Vec<Action> {
        let settled = self.coalesce_until.is_none_or(|t| now >= t);
        match &mut self.phase {
            Phase::Running { ready: true, .. } if settled => {
                return self.begin_stop(
                    StopCause::Restart,
                    &format!("restart requested ({via})"),
                    now,
                )
            }
            Phase::Running { .. } => {
                if !self.pending_restart {
                    info!(
                        "restart requested ({via}) while generation {} starts: it follows once ready",
                        self.generation
                    );
                }
                self.pending_restart = true;
            }
            Phase::Gone {
                next: Next::Restart { at },
                ..
            } => {
                info!("restart requested ({via}) during backoff: restarting now");
                *at = now;
            }
            _ => debug!("restart request ({via}) ignored: a restart or stop is already under way"),
        }
        vec![]
    }

    /// TERM, INT or QUIT reached ctlinit: the container is stopping.
    pub fn on_stop_request(
        &mut self,
        signo: i32,
        forward: Option<i32>,
        now: Instant,
    ) -> Vec<Action> {
        let name = signals::name(signo);
        if self.stop_requested {
            // A second stop request means "now".
            info!("received {name} again while stopping: killing everything now");
            return self.kill_now();
        }
        self.stop_requested = true;
        let status_now = self.last_status().unwrap_or(128 + signo);
        match self.phase {
            Phase::Running { run, .. } => {
                info!(
                    "stopping generation {} (pid {}): received {name}",
                    self.generation, run.pid
                );
                self.phase = Phase::Stopping {
                    run,
                    cause: StopCause::Container,
                    deadline: now + self.s.stop_timeout,
                    killed: false,
                };
                let mut out = self.forwarded(run.pid, forward);
                out.push(Action::WritePidfile);
                out
            }
            Phase::Stopping {
                run, ref mut cause, ..
            } => {
                info!(
                    "received {name} while generation {} (pid {}) stops: no restart will follow",
                    self.generation, run.pid
                );
                *cause = StopCause::Container;
                self.forwarded(run.pid, forward)
            }
            Phase::Gone {
                ref mut next,
                ref mut deadline,
                ..
            } => {
                if let Next::Restart { .. } = next {
                    info!("received {name} during backoff: not restarting");
                    *next = Next::Exit {
                        status: status_now,
                        reason: Reason::Stopped,
                    };
                }
                *deadline = (*deadline).min(now + self.s.stop_timeout);
                vec![Action::WritePidfile]
            }
            Phase::PortWait { .. } => {
                info!("received {name} before the next generation started: exiting");
                self.finish(status_now, Reason::Stopped)
            }
            Phase::Done => vec![],
        }
    }

    fn forwarded(&self, pid: i32, forward: Option<i32>) -> Vec<Action> {
        forward
            .map(|sig| Action::Signal {
                pid: self.target(pid),
                sig,
            })
            .into_iter()
            .collect()
    }

    fn kill_now(&mut self) -> Vec<Action> {
        let mut out = vec![];
        match &mut self.phase {
            Phase::Stopping { run, killed, .. } => {
                *killed = true;
                out.push(Action::Signal {
                    pid: -run.pid,
                    sig: libc::SIGKILL,
                });
            }
            Phase::Gone { killed, .. } => *killed = true,
            _ => {}
        }
        out.push(Action::SignalTree { sig: libc::SIGKILL });
        out
    }

    /// A signal to forward to the daemon (dropped when none runs).
    pub fn on_forward(&self, sig: i32) -> Option<Action> {
        match self.daemon() {
            Some(pid) => Some(Action::Signal {
                pid: self.target(pid),
                sig,
            }),
            None => {
                debug!("no daemon running: {} not forwarded", signals::name(sig));
                None
            }
        }
    }

    /// The daemon was reaped.
    pub fn on_exit(&mut self, ended: Ended, now: Instant) -> Vec<Action> {
        let (run, cause, killed) = match self.phase {
            Phase::Running { run, .. } => (run, None, false),
            Phase::Stopping {
                run,
                cause,
                deadline,
                killed,
            } => (run, Some((cause, deadline)), killed),
            _ => return vec![],
        };
        self.exits += 1;
        self.last_exit = Some(ended);
        let ran = now.saturating_duration_since(run.spawned);
        info!(
            "generation {} (pid {}) exited with {ended} after {}",
            self.generation,
            run.pid,
            humantime::format_duration(Duration::from_millis(ran.as_millis() as u64))
        );
        let outcome = match cause {
            Some((StopCause::Restart, _)) => Outcome::Stopped,
            Some((StopCause::ReadyTimeout, _)) => Outcome::Failed,
            _ if self.s.success_exit.contains(&ended.status()) => Outcome::Clean,
            _ => Outcome::Failed,
        };
        // A run that never became ready has not "lasted": it must not reset
        // the failure count however long the readiness timeout was.
        let lasted = if matches!(cause, Some((StopCause::ReadyTimeout, _))) {
            Duration::ZERO
        } else {
            ran
        };
        let (mut decision, history) = policy::decide(
            &self.s.policy,
            self.history,
            outcome,
            lasted,
            self.stop_requested,
        );
        self.history = history;
        // A restart requested while this generation was starting was
        // delivered: it completes even if the generation ended on its own.
        if self.pending_restart && decision == Decision::Exit && !self.stop_requested {
            info!(
                "serving the restart requested while generation {} was starting",
                self.generation
            );
            decision = Decision::Restart {
                delay: Duration::ZERO,
            };
        }
        self.pending_restart = false;
        let next = match decision {
            Decision::Restart { delay } => {
                if outcome == Outcome::Failed {
                    let of = match self.s.policy.max_restarts {
                        0 => "unlimited".to_string(),
                        n => n.to_string(),
                    };
                    info!(
                        "restarting in {} (failure {} of {of})",
                        humantime::format_duration(delay),
                        history.consecutive_failures
                    );
                } else if outcome == Outcome::Clean {
                    info!(
                        "restarting in {} (clean exit, policy always)",
                        humantime::format_duration(delay)
                    );
                } else {
                    info!("restarting now (requested)");
                }
                Next::Restart { at: now + delay }
            }
            Decision::Exit => {
                let reason = if self.stop_requested {
                    Reason::Stopped
                } else {
                    Reason::DaemonExited
                };
                Next::Exit {
                    status: self.map_status(ended.status()),
                    reason,
                }
            }
            Decision::GiveUp => {
                info!(
                    "giving up after {} consecutive failures (--max-restarts {})",
                    history.consecutive_failures, self.s.policy.max_restarts
                );
                Next::Exit {
                    status: self.map_status(ended.status()),
                    reason: Reason::GaveUp,
                }
            }
        };
        // One deadline covers the whole stop: a container stop keeps the one it set.
        let deadline = match cause {
            Some((StopCause::Container, d)) => d,
            _ => now + self.s.stop_timeout,
        };
        // Stragglers already got SIGKILL with the group when the grace ran out.
        self.phase = Phase::Gone {
            next,
            deadline,
            killed,
        };
        let sig = if killed {
            libc::SIGKILL
        } else {
            self.s.stop_signal
        };
        vec![Action::WritePidfile, Action::SignalTree { sig }]
    }

    /// Time passed (or anything else happened): act on deadlines and progress.
    /// `tree_empty` is true when ctlinit has no children left.
    pub fn on_tick(&mut self, now: Instant, tree_empty: bool) -> Vec<Action> {
        match self.phase {
            Phase::Running { ready: true, .. } => self.serve_pending(now),
            Phase::Running {
                ready: false,
                ready_deadline: Some(d),
                run,
            } if now >= d => {
                warn!(
                    "generation {} (pid {}) not ready after {}: stopping it",
                    self.generation,
                    run.pid,
                    humantime::format_duration(self.s.ready_timeout)
                );
                self.begin_stop(StopCause::ReadyTimeout, "readiness timeout", now)
            }
            Phase::Stopping {
                run,
                cause,
                deadline,
                killed: false,
            } if now >= deadline => {
                info!(
                    "killing process group {} after stop timeout {}",
                    run.pid,
                    humantime::format_duration(self.s.stop_timeout)
                );
                self.phase = Phase::Stopping {
                    run,
                    cause,
                    deadline,
                    killed: true,
                };
                vec![
                    Action::Signal {
                        pid: -run.pid,
                        sig: libc::SIGKILL,
                    },
                    Action::SignalTree { sig: libc::SIGKILL },
                ]
            }
            Phase::Gone {
                next,
                deadline,
                killed,
            } => {
                if tree_empty {
                    return match next {
                        Next::Exit { status, reason } => self.finish(status, reason),
                        Next::Restart { at } if now >= at => self.prepare_spawn(now),
                        Next::Restart { .. } => vec![],
                    };
                }
                if !killed && now >= deadline {
                    info!(
                        "killing the daemon's remaining processes after stop timeout {}",
                        humantime::format_duration(self.s.stop_timeout)
                    );
                    self.phase = Phase::Gone {
                        next,
                        deadline,
                        killed: true,
                    };
                    return vec![Action::SignalTree { sig: libc::SIGKILL }];
                }
                vec![]
            }
            _ => vec![],
        }
    }

    fn finish(&mut self, status: i32, reason: Reason) -> Vec<Action> {
        self.phase = Phase::Done;
        vec![Action::Exit { status, reason }]
    }

    fn last_status(&self) -> Option<i32> {
        self.last_exit.map(|e| self.map_status(e.status()))
    }

    fn map_status(&self, status: i32) -> i32 {
        if self.s.success_exit.contains(&status) {
            0
        } else {
            status
        }
    }
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86400 * 365)
}

#[cfg(test)]
mod tests;
