//! `ctlinit status`, `health` and `restart` (SPEC §10, §11): they find the
//! supervisor through its PID file and decide whether it runs by its lock, as
//! /proc/locks shows it — never by whether a PID from a file is alive.

use crate::cli::Target;
use crate::pidfile::{self, ReadError, Record};
use crate::{lock, paths, ports, procfs, signals};
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A supervisor as the verbs see it.
struct Found {
    rec: Record,
    value: serde_json::Value,
    /// The lock holder's pid as seen from here (0: held, but invisible).
    holder: Option<i32>,
}

enum Lookup {
    Found(Found),
    NoFile(PathBuf),
    Bad(PathBuf, ReadError),
}

fn lookup(target: &Target) -> Lookup {
    let p = paths::for_verbs(target.pidfile.as_deref(), target.lockfile.as_deref());
    let (pidfile, lockfile) = (
        p.pidfile.unwrap_or_default(),
        p.lockfile.unwrap_or_default(),
    );
    match pidfile::read(&pidfile) {
        Err(ReadError::Missing) => Lookup::NoFile(pidfile),
        Err(e) => Lookup::Bad(pidfile, e),
        Ok((rec, value)) => Lookup::Found(Found {
            rec,
            value,
            holder: lock::holder(&lockfile),
        }),
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The daemon's pid as seen from here: the PID file holds it as the
/// supervisor sees it, which differs when we look in from another namespace.
fn local_daemon_pid(f: &Found) -> Option<i32> {
    let pid = f.rec.pid?;
    match f.holder {
        Some(h) if h == f.rec.supervisor_pid => Some(pid),
        Some(h) if h > 0 => {
            // Look for the supervisor's child whose innermost pid is `pid`.
            procfs::all()
                .into_iter()
                .filter(|p| p.ppid == h)
                .map(|p| p.pid)
                .find(|c| {
                    std::fs::read_to_string(format!("/proc/{c}/status"))
                        .ok()
                        .is_some_and(|s| {
                            s.lines()
                                .find(|l| l.starts_with("NSpid:"))
                                .and_then(|l| l.split_ascii_whitespace().last())
                                .and_then(|x| x.parse::<i32>().ok())
                                == Some(pid)
                        })
                })
        }
        _ => None,
    }
}

pub fn status(json: bool, target: &Target) -> i32 {
    let f = match lookup(target) {
        Lookup::NoFile(path) => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({"running": false, "uptime_ms": 0, "ports": []})
                );
            } else {
                println!("not running: no PID file at {}", path.display());
            }
            return 3;
        }
        Lookup::Bad(path, e) => {
            eprintln!(
                "ctlinit: error: cannot read PID file {}: {e}",
                path.display()
            );
            return 4;
        }
        Lookup::Found(f) => f,
    };
    let running = f.holder.is_some();
    let ports = if running {
        local_daemon_pid(&f)
            .map(|p| ports::listening_ports_of(&procfs::group_members(p)))
            .unwrap_or_default()
    } else {
        vec![]
    };
    let uptime_ms = match (running, f.rec.pid) {
        (true, Some(_)) => now_ms().saturating_sub(f.rec.started_at_ms),
        _ => 0,
    };
    if json {
        let mut v = f.value.clone();
        if let Some(obj) = v.as_object_mut() {
            obj.insert("running".into(), running.into());
            obj.insert("uptime_ms".into(), uptime_ms.into());
            obj.insert("ports".into(), ports.clone().into());
        }
        println!("{v}");
    } else if !running {
        println!(
            "not running: stale PID file (generation {}, supervisor pid {}); its lock is not held",
            f.rec.generation, f.rec.supervisor_pid
        );
    } else {
        let r = &f.rec;
        let pid = r.pid.map_or("none".to_string(), |p| p.to_string());
        println!(
            "running: supervisor pid {}, generation {}, pid {pid}, state {}",
            r.supervisor_pid, r.generation, r.state
        );
        println!(
            "uptime {}, exits {}, restarts {}, last exit {}",
            humantime::format_duration(Duration::from_secs(uptime_ms / 1000)),
            r.exits,
            r.restarts,
            r.last_exit
                .as_ref()
                .map_or("none".to_string(), |e| format!("status {}", e.status))
        );
        let list: Vec<String> = ports.iter().map(|p| p.to_string()).collect();
        println!(
            "listening ports: {}",
            if list.is_empty() {
                "none".to_string()
            } else {
                list.join(", ")
            }
        );
    }
    if running {
        0
    } else {
        3
    }
}

/// Exits only 0 or 1 (Docker reserves 2).
pub fn health(target: &Target) -> i32 {
    match lookup(target) {
        Lookup::Found(f) if f.holder.is_some() && f.rec.state == "ready" => {
            println!(
                "healthy: generation {} (pid {}) ready",
                f.rec.generation,
                f.rec.pid.unwrap_or(0)
            );
            0
        }
        Lookup::Found(f) if f.holder.is_some() => {
            println!(
                "unhealthy: generation {} is {}",
                f.rec.generation, f.rec.state
            );
            1
        }
        Lookup::Found(_) => {
            println!("unhealthy: no supervisor running (stale PID file)");
            1
        }
        Lookup::NoFile(p) => {
            println!(
                "unhealthy: no supervisor running (no PID file at {})",
                p.display()
            );
            1
        }
        Lookup::Bad(p, e) => {
            println!("unhealthy: cannot read PID file {}: {e}", p.display());
            1
        }
    }
}

pub fn restart(timeout: Duration, target: &Target) -> i32 {
    let f = match lookup(target) {
        Lookup::Found(f) => f,
        Lookup::NoFile(p) => {
            eprintln!(
                "ctlinit: error: no supervisor running: no PID file at {}",
                p.display()
            );
            return 3;
        }
        Lookup::Bad(p, e) => {
            eprintln!(
                "ctlinit: error: no supervisor found: cannot read PID file {}: {e}",
                p.display()
            );
            return 3;
        }
    };
    let sup = f.rec.supervisor_pid;
    match f.holder {
        None => {
            eprintln!("ctlinit: error: no supervisor running: the PID file is stale (its lock is not held)");
            return 3;
        }
        Some(h) if h != sup || h <= 0 => {
            eprintln!(
                "ctlinit: error: refusing to signal: the lock holder (pid {h} as seen here) is not the PID file's supervisor_pid {sup} — \
                 another PID namespace? Run `ctlinit restart` inside the container"
            );
            return 3;
        }
        Some(_) => {}
    }
    let me = std::process::id() as i32;
    let inside_target = std::env::var("CTLINIT_SUPERVISOR")
        .ok()
        .and_then(|v| v.parse::<i32>().ok())
        == Some(sup)
        && f.rec
            .pid
            .is_some_and(|d| d == me || procfs::is_descendant(me, d));
    // Watch before asking, so the new generation cannot slip past unseen.
    let pidfile = paths::for_verbs(target.pidfile.as_deref(), target.lockfile.as_deref())
        .pidfile
        .unwrap_or_default();
    let watch = watch_dir(&pidfile);
    if let Err(e) = signals::queue(sup, signals::control_signal(), signals::CONTROL_MAGIC) {
        eprintln!("ctlinit: error: cannot signal supervisor pid {sup}: {e}");
        return 3;
    }
    if inside_target {
        // We belong to the generation being replaced: never wait for ourselves.
        println!("restart requested");
        return 0;
    }
    let (old_gen, old_pid) = (f.rec.generation, f.rec.pid);
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok((r, _)) = pidfile::read(&pidfile) {
            if r.generation > old_gen && r.state == "ready" {
                let show = |p: Option<i32>| p.map_or("-".to_string(), |p| p.to_string());
                println!(
                    "restarted: generation {old_gen} -> {} (pid {} -> {})",
                    r.generation,
                    show(old_pid),
                    show(r.pid)
                );
                return 0;
            }
        } else if !pidfile.exists() {
            eprintln!(
                "ctlinit: error: the supervisor exited before generation {} was ready",
                old_gen + 1
            );
            return 1;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            eprintln!(
                "ctlinit: error: timed out after {} waiting for generation {} to be ready",
                humantime::format_duration(timeout),
                old_gen + 1
            );
            return 1;
        }
        wait_change(watch.as_ref(), left);
    }
}

fn watch_dir(pidfile: &Path) -> Option<Inotify> {
    let dir = pidfile
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let ino = Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK).ok()?;
    ino.add_watch(
        dir,
        AddWatchFlags::IN_MOVED_TO | AddWatchFlags::IN_CLOSE_WRITE | AddWatchFlags::IN_DELETE,
    )
    .ok()?;
    Some(ino)
}

/// Waits for the PID file's directory to change (bounded by `left`; without
/// inotify, re-checks every 100 ms).
fn wait_change(watch: Option<&Inotify>, left: Duration) {
    match watch {
        Some(ino) => {
            let mut fds = [PollFd::new(ino.as_fd(), PollFlags::POLLIN)];
            // Capped at a minute: the caller loops until its own deadline.
            let t = PollTimeout::from(left.as_millis().min(60_000) as u16);
            let _ = nix::poll::poll(&mut fds, t);
            let _ = ino.read_events();
        }
        None => std::thread::sleep(left.min(Duration::from_millis(100))),
    }
}
