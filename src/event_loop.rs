//! The one loop: block in `ppoll` until a signal, a file change, a notify
//! datagram or the next deadline; turn what happened into events for the
//! state machine; perform the actions it returns. This is the only place that
//! spawns, signals, reaps and writes the PID file. An idle ctlinit sits in
//! `ppoll` with no timeout. Only the port handoff and port/listen readiness
//! wait poll, every POLL_INTERVAL, and only while they wait.

use crate::cli::{Config, ReadyMode};
use crate::daemon::{Action, Holder, Reason, Settings, Supervisor};
use crate::notify::NotifySocket;
use crate::pidfile::{LastExit, PidFile, Record};
use crate::policy::Policy;
use crate::reaper::{self, Change};
use crate::signals::{self, Intake, Meaning, Received};
use crate::spawn::{self, Spec};
use crate::watch::Watcher;
use crate::{ports, procfs, tree};
use log::{debug, info, warn};
use nix::poll::{PollFd, PollFlags};
use std::collections::VecDeque;
use std::os::fd::AsFd;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub const POLL_INTERVAL: Duration = Duration::from_millis(10);

pub struct Outcome {
    pub status: i32,
    pub reason: Reason,
    pub generation: u64,
    pub exits: u64,
    pub restarts: u64,
}

pub struct EventLoop {
    cfg: Config,
    sup: Supervisor,
    intake: Intake,
    watcher: Option<Watcher>,
    notify: Option<NotifySocket>,
    inherited_notify: Option<String>,
    pidfile: Option<PidFile>,
    own_pid: i32,
    foreground_tty: bool,
    tree_empty: bool,
    /// The PID file needs rewriting (state changed since the last write).
    pidfile_dirty: bool,
    command: Vec<String>,
}

impl EventLoop {
    pub fn new(cfg: Config, intake: Intake, pidfile: Option<PidFile>) -> EventLoop {
        let settings = Settings {
            policy: Policy {
                mode: cfg.restart,
                max_restarts: cfg.max_restarts,
                backoff_min: cfg.backoff_min,
                backoff_max: cfg.backoff_max,
                reset_after: cfg.reset_after,
            },
            stop_signal: cfg.stop_signal,
            stop_timeout: cfg.stop_timeout,
            ready: cfg.ready,
            ready_timeout: cfg.ready_timeout,
            port_timeout: cfg.port_timeout,
            ports: cfg.ports.clone(),
            pgroup: cfg.pgroup,
            success_exit: cfg.success_exit.clone(),
            coalesce: crate::daemon::COALESCE,
        };
        let watcher = if cfg.watch.is_empty() {
            None
        } else {
            match Watcher::new(&cfg.watch) {
                Ok(w) => Some(w),
                Err(e) => {
                    warn!("--watch disabled: cannot start inotify: {e}");
                    None
                }
            }
        };
        let (notify, inherited_notify) = if cfg.ready == ReadyMode::Notify {
            let inherited = std::env::var("NOTIFY_SOCKET")
                .ok()
                .filter(|s| !s.is_empty());
            match NotifySocket::bind() {
                Ok(n) => (Some(n), inherited),
                Err(e) => {
                    warn!("--ready notify: cannot create the notify socket ({e}); the daemon can never become ready");
                    (None, inherited)
                }
            }
        } else {
            (None, None)
        };
        let command = cfg
            .command
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        EventLoop {
            sup: Supervisor::new(settings),
            intake,
            watcher,
            notify,
            inherited_notify,
            pidfile,
            own_pid: std::process::id() as i32,
            foreground_tty: spawn::has_controlling_tty(),
            tree_empty: true,
            pidfile_dirty: false,
            command,
            cfg,
        }
    }

    pub fn run(mut self) -> Outcome {
        let mut actions: VecDeque<Action> = self.sup.start(Instant::now()).into();
        let mut received: Vec<Received> = vec![];
        let mut changes: Vec<Change> = vec![];
        loop {
            if let Some(out) = self.perform_all(&mut actions) {
                return out;
            }
            let now = Instant::now();
            let probe = self.probe(now);
            if !probe.is_empty() {
                actions.extend(probe);
                continue;
            }
            // Once per wake, and never just before an exit removes it.
            self.flush_pidfile();
            received.clear();
            self.wait(now, &mut received);

            let now = Instant::now();
            let mut only_forwards = !received.is_empty();
            for r in &received {
                let meaning =
                    signals::classify(r, self.cfg.reload_signal, &self.cfg.rewrite, self.own_pid);
                debug!(
                    "received {} from pid {}: {meaning:?}",
                    signals::name(r.signo),
                    r.pid
                );
                only_forwards &= matches!(meaning, Meaning::Forward(_) | Meaning::Drop);
                match meaning {
                    Meaning::Reap | Meaning::Drop => {}
                    Meaning::Stop { forward } => {
                        actions.extend(self.sup.on_stop_request(r.signo, forward, now))
                    }
                    Meaning::Restart { via } => {
                        actions.extend(self.sup.on_restart_request(via, now))
                    }
                    // The hot path: performed at once, no queue, no allocation.
                    Meaning::Forward(sig) => {
                        if let Some(a) = self.sup.on_forward(sig) {
                            self.perform(a, &mut actions);
                        }
                    }
                }
            }
            // Stop and restart actions next, still before reaping and ticking.
            if let Some(out) = self.perform_all(&mut actions) {
                return out;
            }
            // A wake that only carried forwarded signals changed nothing else:
            // back to the wait at once, so the daemon gets the CPU sooner. No
            // child event can be missed — SIGCHLD stays pending (blocked) and
            // ends the next wait — and a deadline that passed meanwhile makes
            // that wait return at once.
            if only_forwards && self.watcher.is_none() && self.notify.is_none() {
                continue;
            }
            // Reap on every other wake, not only on SIGCHLD: they coalesce.
            changes.clear();
            self.tree_empty = !reaper::reap(&mut changes);
            for c in &changes {
                actions.extend(self.on_child(*c, now));
            }
            if let Some(w) = &mut self.watcher {
                w.on_readable(now);
                if w.on_tick(now) {
                    actions.extend(self.sup.on_restart_request("--watch", now));
                }
            }
            actions.extend(self.read_notify(now));
            actions.extend(self.sup.on_tick(now, self.tree_empty));
        }
    }

    fn on_child(&mut self, c: Change, now: Instant) -> Vec<Action> {
        match c {
            Change::Ended { pid, ended } if Some(pid) == self.sup.daemon() => {
                self.sup.on_exit(ended, now)
            }
            Change::Ended { pid, ended } => {
                if self.cfg.warn_orphans {
                    warn!("reaped orphan pid {pid} ({ended})");
                } else {
                    debug!("reaped orphan pid {pid} ({ended})");
                }
                vec![]
            }
            Change::Stopped { pid, sig } => {
                // Ctrl-Z in `docker run -it` would stop the daemon with nobody
                // to resume it: continue it so the container never wedges.
                if Some(pid) == self.sup.daemon()
                    && [libc::SIGTSTP, libc::SIGTTIN, libc::SIGTTOU].contains(&sig)
                {
                    info!(
                        "daemon (pid {pid}) stopped by {}: continuing it",
                        signals::name(sig)
                    );
                    let _ = signals::send(-pid, libc::SIGCONT);
                }
                vec![]
            }
        }
    }

    /// Port handoff and readiness checks that poll while they wait.
    fn probe(&mut self, now: Instant) -> Vec<Action> {
        if self.sup.waiting_for_ports() {
            let wanted = self.sup.ports_to_free();
            let busy = ports::busy(&wanted);
            let own = self.own_pid;
            return self.sup.on_port_probe(&busy, || holders(&busy, own), now);
        }
        if let Some((mode, pid)) = self.sup.ready_probe() {
            let ready = match mode {
                ReadyMode::Port => ports::busy(&self.cfg.ports).len() == self.cfg.ports.len(),
                ReadyMode::Listen => {
                    !ports::listening_ports_of(&procfs::group_members(pid)).is_empty()
                }
                _ => false,
            };
            if ready {
                return self.sup.on_ready(now);
            }
        }
        vec![]
    }

    /// Blocks until a signal, a readable descriptor or the next deadline;
    /// returns the signals that arrived.
    fn wait(&self, now: Instant, received: &mut Vec<Received>) {
        let mut deadline = self.sup.deadline(self.tree_empty);
        if let Some(d) = self.watcher.as_ref().and_then(|w| w.deadline()) {
            deadline = Some(deadline.map_or(d, |x| x.min(d)));
        }
        if self.sup.waiting_for_ports() || self.sup.ready_probe().is_some() {
            let tick = now + POLL_INTERVAL;
            deadline = Some(deadline.map_or(tick, |x| x.min(tick)));
        }
        let left = deadline.map(|d| d.saturating_duration_since(now));
        if self.watcher.is_none() && self.notify.is_none() {
            // Signals are the only event source: wait for them directly.
            self.intake.wait(left, received);
            return;
        }
        let mut fds = vec![PollFd::new(self.intake.as_fd(), PollFlags::POLLIN)];
        if let Some(w) = &self.watcher {
            fds.push(PollFd::new(w.as_fd(), PollFlags::POLLIN));
        }
        if let Some(n) = &self.notify {
            fds.push(PollFd::new(n.as_fd(), PollFlags::POLLIN));
        }
        // ppoll takes a nanosecond timeout: a 10 ms backoff is 10 ms, not 11.
        let _ = nix::poll::ppoll(
            &mut fds,
            left.map(nix::sys::time::TimeSpec::from_duration),
            None,
        );
        self.intake.drain(received);
    }

    fn read_notify(&mut self, now: Instant) -> Vec<Action> {
        let Some(n) = &self.notify else { return vec![] };
        let mut out = vec![];
        for m in n.drain() {
            let Some(daemon) = self.sup.daemon() else {
                continue;
            };
            let ours = m.pid == daemon
                || procfs::stat(m.pid).is_some_and(|p| p.pgrp == daemon)
                || procfs::is_descendant(m.pid, daemon);
            if !ours {
                warn!(
                    "notify: ignoring a message from pid {}, not of generation {}",
                    m.pid, self.sup.generation
                );
                continue;
            }
            if let Some(s) = &m.status {
                info!("generation {} status: {s}", self.sup.generation);
            }
            if m.ready {
                out.extend(self.sup.on_ready(now));
            }
        }
        out
    }

    fn perform_all(&mut self, actions: &mut VecDeque<Action>) -> Option<Outcome> {
        while let Some(a) = actions.pop_front() {
            if let Some(out) = self.perform(a, actions) {
                return Some(out);
            }
        }
        None
    }

    /// Performs one action; returns the outcome when ctlinit must exit.
    fn perform(&mut self, a: Action, more: &mut VecDeque<Action>) -> Option<Outcome> {
        match a {
            Action::Spawn => {
                let now = Instant::now();
                match self.spawn_next() {
                    Ok(pid) => {
                        self.tree_empty = false;
                        if let Some(w) = &mut self.watcher {
                            w.rebaseline();
                        }
                        info!(
                            "started generation {} (pid {pid}): {}",
                            self.sup.generation + 1,
                            self.command.join(" ")
                        );
                        more.extend(self.sup.on_spawned(pid, now, wall_ms()));
                    }
                    Err(e) => {
                        log::error!("{}", e.message);
                        more.extend(self.sup.on_spawn_failed(e.status));
                    }
                }
            }
            Action::Signal { pid, sig } => {
                if let Err(e) = signals::send(pid, sig) {
                    debug!("kill({pid}, {}) failed: {e}", signals::name(sig));
                }
            }
            Action::SignalTree { sig } => {
                if !self.tree_empty {
                    tree::signal_tree(self.own_pid, sig, self.sup.ending());
                }
            }
            Action::LearnPorts { pgid } => {
                let learned = ports::listening_ports_of(&procfs::group_members(pgid));
                debug!("generation {} listens on {learned:?}", self.sup.generation);
                self.sup.learn_ports(&learned);
            }
            Action::WritePidfile => self.pidfile_dirty = true,
            Action::NotifyParentReady => {
                if let Some(addr) = &self.inherited_notify {
                    crate::notify::tell_parent(addr);
                }
            }
            Action::Exit { status, reason } => {
                if let Some(p) = &self.pidfile {
                    p.remove();
                }
                return Some(Outcome {
                    status,
                    reason,
                    generation: self.sup.generation,
                    exits: self.sup.exits,
                    restarts: self.sup.restarts,
                });
            }
        }
        None
    }

    fn spawn_next(&self) -> Result<i32, spawn::SpawnError> {
        let mut env = vec![
            ("CTLINIT_SUPERVISOR".to_string(), self.own_pid.to_string()),
            (
                "CTLINIT_GENERATION".to_string(),
                (self.sup.generation + 1).to_string(),
            ),
        ];
        if let Some(p) = &self.pidfile {
            env.push((
                "CTLINIT_PIDFILE".to_string(),
                p.path().display().to_string(),
            ));
        }
        for (name, value) in &self.cfg.markers {
            env.push((
                name.clone(),
                value.clone().unwrap_or_else(|| self.own_pid.to_string()),
            ));
        }
        if let Some(n) = &self.notify {
            env.push(("NOTIFY_SOCKET".to_string(), n.address.clone()));
        }
        spawn::spawn(&Spec {
            argv: &self.cfg.command,
            env,
            foreground_tty: self.foreground_tty,
        })
    }

    fn flush_pidfile(&mut self) {
        if !std::mem::take(&mut self.pidfile_dirty) {
            return;
        }
        let Some(pf) = &self.pidfile else { return };
        if self.sup.generation == 0 {
            return; // nothing to describe before the first spawn
        }
        let snap = self.sup.snapshot();
        let rec = Record {
            pid: snap.pid,
            generation: self.sup.generation,
            state: snap.state.to_string(),
            supervisor_pid: self.own_pid,
            started_at_ms: snap.started_at_ms,
            exits: self.sup.exits,
            restarts: self.sup.restarts,
            last_exit: self.sup.last_exit.map(|e| LastExit {
                code: e.code(),
                signal: e.signal(),
                status: e.status(),
            }),
            command: self.command.clone(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        };
        if let Err(e) = pf.write(&rec) {
            warn!("cannot write PID file {}: {e}", pf.path().display());
        }
    }
}

/// Who holds each busy port, and whether they belong to ctlinit's tree.
fn holders(busy: &[u16], own_pid: i32) -> Vec<Holder> {
    let mut out = vec![];
    for &port in busy {
        let pids = ports::holders(port);
        if pids.is_empty() {
            out.push(Holder {
                port,
                pid: None,
                in_tree: false,
            });
        }
        for pid in pids {
            out.push(Holder {
                port,
                pid: Some(pid),
                in_tree: procfs::is_descendant(pid, own_pid),
            });
        }
    }
    out
}

fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
