//! Performs one action of the core: the only place that spawns, signals
//! and asks the OS what the core wants to know. Query actions come back as
//! answer events; nothing here decides.

use crate::core::events::{Action, Ending, Event};
use crate::core::signals;
use crate::os::{notify, pidfd, ports, procfs, signals as os_signals, spawn, tree};
use crate::run::event_loop::{wall_ms, Os};
use log::{debug, error, info};

pub enum Performed {
    Done,
    /// The core asked something (or started something): feed this back.
    Answer(Event),
    Exit(Ending),
}

pub fn perform(a: Action, os: &mut Os) -> Performed {
    use Performed::*;
    match a {
        Action::Spawn {
            generation,
            env,
            watchdog_pid,
        } => {
            let spec = spawn::Spec {
                argv: &os.command,
                env: &env,
                foreground_tty: os.tty,
                watchdog_pid,
            };
            match spawn::spawn(&spec) {
                Ok(pid) => {
                    // While the new daemon execs: the OOM counter as its run begins.
                    Answer(Event::Spawned {
                        pid,
                        wall_ms: wall_ms(),
                        oom_kills: os.oom_reading().map(|r| r.kills),
                    })
                }
                Err(f) => {
                    error!("cannot start generation {generation}: {}", f.message);
                    Answer(Event::SpawnFailed(f.error))
                }
            }
        }
        Action::RunCheck { env } => {
            let spec = spawn::Spec {
                argv: &os.check,
                env: &env,
                foreground_tty: false,
                watchdog_pid: false,
            };
            match spawn::spawn(&spec) {
                Ok(pid) => Answer(Event::CheckSpawned { pid }),
                Err(f) => {
                    error!("--check: {}", f.message);
                    Answer(Event::CheckSpawnFailed(f.error))
                }
            }
        }
        Action::Signal { to, sig } => {
            if let Err(e) = os_signals::send(to, sig) {
                debug!("cannot send {} to {to:?}: {e}", signals::name(sig));
            }
            Done
        }
        Action::SignalTree { sig, scope } => {
            tree::signal(os.own_pid, sig, scope);
            Done
        }
        Action::KillHolder { pid, start_ticks } => {
            match pidfd::signal_verified(pid, start_ticks, signals::SIGKILL) {
                Ok(pidfd::Sent::Yes) => {}
                Ok(pidfd::Sent::NotThatProcess) => info!("port holder pid {pid} is already gone"),
                Err(e) => error!("cannot kill port holder pid {pid}: {e}"),
            }
            Done
        }
        Action::ProbePorts(wanted) => Answer(Event::PortsBusy(ports::busy(&wanted))),
        Action::FindHolders(busy) => Answer(Event::Holders(ports::holders_of(&busy, os.own_pid))),
        Action::QueryListening { pgid } => Answer(Event::Listening(ports::listening_ports_of(
            &procfs::group_members(pgid),
        ))),
        Action::CompareWatched => Answer(Event::WatchCompared {
            changed: os.watcher.as_mut().is_some_and(|w| w.compare()),
        }),
        Action::RebaselineWatch => {
            if let Some(w) = &mut os.watcher {
                w.rebaseline();
            }
            Done
        }
        Action::NotifyParentReady => {
            if let Some(addr) = &os.inherited_notify {
                notify::tell_parent(addr);
            }
            Done
        }
        Action::ReportSurvivors => {
            tree::report_survivors(os.own_pid);
            Done
        }
        Action::Exit(end) => {
            if let Some(p) = &os.pidfile {
                p.remove();
            }
            Exit(end)
        }
    }
}
