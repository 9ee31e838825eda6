//! The one loop: wait until a signal, a file change, a notify datagram or
//! the core's next deadline; turn what arrived into events; feed the core;
//! perform the actions it returns (`perform`). It decides nothing. An idle
//! ctlinit sits in one `rt_sigtimedwait` (or `ppoll`, with `--watch` or
//! `--ready notify`) without a timeout.

use crate::core::events::{Action, DaemonExit, Ending, Event, Sender};
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
    pub memory: Option<MemoryCgroup>,
    pub own_pid: i32,
    pub start: Instant,
}

impl Os {
    fn now(&self) -> Time {
        Time::at(self.start.elapsed())
    }
}

/// Runs until the core says how ctlinit ends.
pub fn run(m: &mut Supervisor, mut os: Os) -> Ending {
    let mut queue: VecDeque<Action> = VecDeque::new();
    let mut out: Vec<Action> = vec![];
    let mut received = vec![];
    let mut changes = vec![];
    let oom_kills = os.memory.as_ref().and_then(|c| c.read()).map(|r| r.kills);
    let start = Event::Start {
        wall_ms: wall_ms(),
        oom_kills,
    };
    feed(m, start, os.now(), &mut out, &mut queue);
    loop {
        // Perform everything decided; answers go straight back to the core.
        while let Some(a) = queue.pop_front() {
            match perform(a, &mut os, m.daemon()) {
                Performed::Done => {}
                Performed::Answer(ev) => feed(m, ev, os.now(), &mut out, &mut queue),
                Performed::Exit(end) => {
                    // The lock stays held until the process ends, and
                    // closing what the exit closes anyway costs syscalls.
                    std::mem::forget(os);
                    return end;
                }
            }
        }
        // Once per wake, and never just before an exit removes it.
        if let (Some(rec), Some(pf)) = (m.take_record(), &os.pidfile) {
            if let Err(e) = pf.write(&rec) {
                warn!("cannot write PID file {}: {e}", pf.path().display());
            }
        }
        received.clear();
        if let Err(e) = wait(&os, m.deadline(), &mut received) {
            // Never a busy loop, never an exit that leaves the daemon unreaped.
            warn!("waiting for events failed: {e}; retrying in 100ms");
            std::thread::sleep(Duration::from_millis(100));
        }
        let now = os.now();
        for r in &received {
            feed(m, Event::Signal(*r), now, &mut out, &mut queue);
        }
        // A wake that only carried forwarded signals changed nothing else:
        // back to the wait at once, so the daemon gets the CPU sooner. No
        // child event is missed (SIGCHLD stays pending and ends the next
        // wait) and a deadline that passed makes that wait return at once.
        let quiet = !received.is_empty()
            && os.watcher.is_none()
            && os.notify.is_none()
            && received.iter().all(|r| r.signo != libc::SIGCHLD)
            && queue.iter().all(Action::is_signal);
        if quiet {
            continue;
        }
        // Reap on every other wake, not only on SIGCHLD: they coalesce.
        changes.clear();
        let left = reaper::reap(&mut changes);
        feed(m, Event::Children { left }, now, &mut out, &mut queue);
        for c in &changes {
            let ev = match *c {
                Change::Ended { pid, ended } if Some(pid) == m.daemon() => {
                    let oom = os.memory.as_ref().filter(|_| m.wants_oom_reading(ended));
                    Event::DaemonExited(DaemonExit {
                        ended,
                        oom: oom.and_then(|c| c.read()),
                        held_terminal: os.tty && spawn::holds_terminal(pid),
                    })
                }
                Change::Ended { pid, ended } => Event::Reaped { pid, ended },
                Change::Stopped { pid, sig } => Event::ChildStopped { pid, sig },
            };
            feed(m, ev, now, &mut out, &mut queue);
        }
        if os.watcher.as_mut().is_some_and(|w| w.take_events()) {
            feed(m, Event::WatchActivity, now, &mut out, &mut queue);
        }
        let notices = os.notify.as_ref().map(|n| n.drain()).unwrap_or_default();
        for (pid, notice) in notices {
            let from = m
                .daemon()
                .map_or(Sender::Other, |d| procfs::relation(pid, d));
            feed(
                m,
                Event::Notify { pid, from, notice },
                now,
                &mut out,
                &mut queue,
            );
        }
        feed(m, Event::Tick, now, &mut out, &mut queue);
    }
}

fn feed(
    m: &mut Supervisor,
    ev: Event,
    now: Time,
    out: &mut Vec<Action>,
    queue: &mut VecDeque<Action>,
) {
    m.handle(ev, now, out);
    queue.extend(out.drain(..));
}

/// Blocks until a signal, a readable descriptor or the deadline; collects
/// the signals that arrived.
fn wait(
    os: &Os,
    deadline: Option<Time>,
    received: &mut Vec<crate::core::events::Received>,
) -> std::io::Result<()> {
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
