//! The one loop: wait until a signal, a file change, a notify datagram or
//! the core's next deadline; turn what arrived into events; feed the core;
//! perform the actions it returns (`perform`). It decides nothing. An idle
//! ctlinit sits in one `rt_sigtimedwait` (or `ppoll`, with `--watch` or
//! `--ready notify`) without a timeout.

use crate::core::events::{Action, DaemonExit, Ending, Event, OomReading, Received, Sender};
use crate::core::time::Time;
use crate::core::Supervisor;
use crate::files::{lock::Lock, pidfile::PidFile};
use crate::os::cgroup::MemoryCgroup;
use crate::os::inotify::Watcher;
use crate::os::notify::NotifySocket;
use crate::os::reaper::{self, Change};
use crate::os::signals::Intake;
use crate::os::{procfs, spawn};
use crate::run::perform::{perform, Performed};
use log::warn;
use nix::poll::{PollFd, PollFlags};
use std::collections::VecDeque;
use std::ffi::OsString;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

/// What the loop owns: the event sources and what actions act on.
pub struct Os {
    pub intake: Intake,
    pub watcher: Option<Watcher>,
    pub notify: Option<NotifySocket>,
    pub inherited_notify: Option<String>,
    pub pidfile: Option<PidFile>,
    pub _lock: Option<Lock>,
    pub command: Vec<OsString>,
    pub check: Vec<OsString>,
    /// ctlinit has a controlling terminal on stdin.
    pub tty: bool,
    /// The memory cgroup, looked for once the first daemon runs (outer
    /// None: not looked for yet).
    pub memory: Option<Option<MemoryCgroup>>,
    pub own_pid: i32,
    pub start: Instant,
}

impl Os {
    fn now(&self) -> Time {
        Time::at(self.start.elapsed())
    }

    /// The memory cgroup's OOM counter and limit now.
    pub fn oom_reading(&mut self) -> Option<OomReading> {
        self.memory
            .get_or_insert_with(MemoryCgroup::find)
            .as_ref()
            .and_then(|c| c.read())
    }
}

/// The core and the queue of its actions not yet performed.
struct Core<'a> {
    m: &'a mut Supervisor,
    out: Vec<Action>,
    queue: VecDeque<Action>,
}

impl Core<'_> {
    fn feed(&mut self, ev: Event, now: Time) {
        self.m.handle(ev, now, &mut self.out);
        self.queue.extend(self.out.drain(..));
    }
}

/// Runs until the core says how ctlinit ends.
pub fn run(m: &mut Supervisor, mut os: Os) -> Ending {
    let mut core = Core {
        m,
        out: vec![],
        queue: VecDeque::new(),
    };
    let mut received = vec![];
    core.feed(Event::Start { wall_ms: wall_ms() }, os.now());
    loop {
        // Perform everything decided; answers go straight back to the core.
        while let Some(a) = core.queue.pop_front() {
            if let Action::Spawn { generation, .. } = a {
                // A stop that arrived while this wake was being handled must
                // win over the spawn: look once more, and let the core decide.
                received.clear();
                os.intake.drain(&mut received);
                signals_arrived(&mut core, &mut os, &received);
                if !core.m.spawn_wanted(generation) {
                    continue;
                }
            }
            match perform(a, &mut os) {
                Performed::Done => {}
                Performed::Answer(ev) => core.feed(ev, os.now()),
                Performed::Exit(end) => {
                    // The lock stays held until the process ends, and
                    // closing what the exit closes anyway costs syscalls.
                    std::mem::forget(os);
                    return end;
                }
            }
        }
        // Once per wake, and never just before an exit removes it.
        if let (Some(rec), Some(pf)) = (core.m.take_record(), &os.pidfile) {
            if let Err(e) = pf.write(&rec) {
                warn!("cannot write PID file {}: {e}", pf.path().display());
            }
        }
        crate::run::logbuf::flush();
        received.clear();
        if let Err(e) = wait(&os, core.m.deadline(), &mut received) {
            // Never a busy loop, never an exit that leaves the daemon unreaped.
            warn!("waiting for events failed: {e}; retrying in 100ms");
            std::thread::sleep(Duration::from_millis(100));
        }
        // A wake that only carried forwarded signals changed nothing else:
        // back to the wait at once, so the daemon gets the CPU sooner. No
        // child event is missed (SIGCHLD stays pending and ends the next
        // wait) and a deadline that passed makes that wait return at once.
        if signals_arrived(&mut core, &mut os, &received) {
            continue;
        }
        let now = os.now();
        reap(&mut core, &mut os, now);
        if os.watcher.as_mut().is_some_and(|w| w.take_events()) {
            core.feed(Event::WatchActivity, now);
        }
        let notices = os.notify.as_ref().map(|n| n.drain()).unwrap_or_default();
        for (pid, notice) in notices {
            let from = core
                .m
                .daemon()
                .map_or(Sender::Other, |d| procfs::relation(pid, d));
            core.feed(Event::Notify { pid, from, notice }, now);
        }
        core.feed(Event::Tick, now);
    }
}

/// Feeds signals to the core; returns true when they only asked for
/// forwards (nothing else needs looking at). A SIGCHLD among them is
/// answered with a reaping pass at once: it was taken from the pending set
/// and will not end another wait.
fn signals_arrived(core: &mut Core, os: &mut Os, received: &[Received]) -> bool {
    if received.is_empty() {
        return false;
    }
    let now = os.now();
    for r in received {
        core.feed(Event::Signal(*r), now);
    }
    let chld = received.iter().any(|r| r.signo == libc::SIGCHLD);
    if chld {
        reap(core, os, now);
    }
    !chld && os.watcher.is_none() && os.notify.is_none() && core.queue.iter().all(Action::is_signal)
}

/// One reaping pass: every child that changed state, as facts for the core.
/// Reaped on every wake, not only on SIGCHLD: they coalesce.
fn reap(core: &mut Core, os: &mut Os, now: Time) {
    let mut changes = vec![];
    let left = reaper::reap(&mut changes);
    core.feed(Event::Children { left }, now);
    for c in changes {
        let ev = match c {
            Change::Ended { pid, ended } if Some(pid) == core.m.daemon() => {
                let oom = match core.m.wants_oom_reading(ended) {
                    true => os.oom_reading(),
                    false => None,
                };
                Event::DaemonExited(DaemonExit {
                    ended,
                    oom,
                    held_terminal: os.tty && spawn::holds_terminal(pid),
                })
            }
            Change::Ended { pid, ended } => Event::Reaped { pid, ended },
            Change::Stopped { pid, sig } => Event::ChildStopped { pid, sig },
        };
        core.feed(ev, now);
    }
}

/// Blocks until a signal, a readable descriptor or the deadline; collects
/// the signals that arrived.
fn wait(os: &Os, deadline: Option<Time>, received: &mut Vec<Received>) -> std::io::Result<()> {
    let left = deadline.map(|d| d.since(os.now()));
    if os.watcher.is_none() && os.notify.is_none() {
        // Signals are the only event source: wait for them directly.
        return os.intake.wait(left, received);
    }
    let mut fds = vec![PollFd::new(os.intake.as_fd(), PollFlags::POLLIN)];
    if let Some(w) = &os.watcher {
        fds.push(PollFd::new(w.as_fd(), PollFlags::POLLIN));
    }
    if let Some(n) = &os.notify {
        fds.push(PollFd::new(n.as_fd(), PollFlags::POLLIN));
    }
    // ppoll takes a nanosecond timeout: a 10 ms backoff is 10 ms, not 11.
    match nix::poll::ppoll(
        &mut fds,
        left.map(nix::sys::time::TimeSpec::from_duration),
        None,
    ) {
        Ok(_) | Err(nix::errno::Errno::EINTR) => {}
        Err(e) => return Err(e.into()),
    }
    os.intake.drain(received);
    Ok(())
}

pub fn wall_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
