//! `ctlinit restart`: asks the running supervisor for a graceful restart
//! and waits for the new generation to be ready (§11). It signals only a
//! process proven to be that supervisor, through a pidfd (§14.32).

use super::{files, lookup, Lookup};
use crate::cli::Target;
use crate::core::record::state;
use crate::core::signals::CONTROL;
use crate::error::status::verb;
use crate::files::pidfile;
use crate::os::{pidfd::PidFd, procfs, signals::CONTROL_MAGIC};
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use std::os::fd::AsFd;
use std::path::Path;
use std::time::{Duration, Instant};

pub fn restart(timeout: Duration, target: &Target) -> i32 {
    let (pidfile, _) = files(target);
    let f = match lookup(target) {
        Lookup::Found(f) => f,
        Lookup::NoFile(p) => {
            eprintln!(
                "ctlinit: error: no supervisor running: no PID file at {}",
                p.display()
            );
            return verb::NOT_RUNNING;
        }
        Lookup::Bad(p, e) => {
            eprintln!(
                "ctlinit: error: no supervisor found: cannot read PID file {}: {e}",
                p.display()
            );
            return verb::NOT_RUNNING;
        }
    };
    let sup = f.rec.supervisor_pid;
    match f.holder {
        None => {
            eprintln!("ctlinit: error: no supervisor running: the PID file is stale (its lock is not held)");
            return verb::NOT_RUNNING;
        }
        Some(h) if h != sup || h <= 0 => {
            eprintln!(
                "ctlinit: error: refusing to signal: the lock holder (pid {h} as seen here) is not the PID file's supervisor_pid {sup} — \
                 another PID namespace? Run `ctlinit restart` inside the container"
            );
            return verb::NOT_RUNNING;
        }
        Some(_) => {}
    }
    if f.rec.state == state::DRAINING {
        eprintln!("ctlinit: error: the container is draining before it stops (--stop-delay): no restart will follow");
        return verb::FAILED;
    }
    // The pidfd pins the process; proving it after opening means the
    // signal can only reach the supervisor that wrote the file.
    let fd = match PidFd::open(sup) {
        Ok(fd) if f.proven() => fd,
        Ok(_) => {
            eprintln!(
                "ctlinit: error: refusing to signal pid {sup}: it holds the lock but is not the supervisor that wrote {} (its start time differs)",
                pidfile.display()
            );
            return verb::NOT_RUNNING;
        }
        Err(e) => {
            eprintln!("ctlinit: error: cannot reach supervisor pid {sup}: {e}");
            return verb::NOT_RUNNING;
        }
    };
    let me = std::process::id() as i32;
    let inside_target = std::env::var("CTLINIT_SUPERVISOR")
        .ok()
        .and_then(|v| v.parse::<i32>().ok())
        == Some(sup)
        && f.rec
            .pid
            .is_some_and(|d| d == me || procfs::is_descendant(me, d));
    // Watch before asking, so the new generation cannot slip past unseen.
    let watch = watch_dir(&pidfile);
    if let Err(e) = fd.queue(CONTROL, CONTROL_MAGIC) {
        eprintln!("ctlinit: error: cannot signal supervisor pid {sup}: {e}");
        return verb::NOT_RUNNING;
    }
    if inside_target {
        // We belong to the generation being replaced: never wait for ourselves.
        println!("restart requested");
        return verb::OK;
    }
    let (old_gen, old_pid, old_check) = (f.rec.generation, f.rec.pid, f.rec.last_check);
    // --timeout is at most 365 days, far from the end of Instant's range;
    // checked anyway, clamped to "an hour" rather than ever panicking.
    let now = Instant::now();
    let deadline = now
        .checked_add(timeout)
        .unwrap_or_else(|| now + Duration::from_secs(3600));
    loop {
        if let Ok(r) = pidfile::read(&pidfile) {
            if r.generation > old_gen && r.state == "ready" {
                let show = |p: Option<i32>| p.map_or("-".to_string(), |p| p.to_string());
                println!(
                    "restarted: generation {old_gen} -> {} (pid {} -> {})",
                    r.generation,
                    show(old_pid),
                    show(r.pid)
                );
                return verb::OK;
            }
            if r.state == state::DRAINING {
                eprintln!("ctlinit: error: the container began to stop (--stop-delay drain): no restart will follow");
                return verb::FAILED;
            }
            if let Some(c) = r.last_check.filter(|c| !c.ok && Some(*c) != old_check) {
                println!("restart refused by --check (status {})", c.status);
                return verb::FAILED;
            }
        } else if !pidfile.exists() {
            eprintln!(
                "ctlinit: error: the supervisor exited before generation {} was ready",
                old_gen + 1
            );
            return verb::FAILED;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            eprintln!(
                "ctlinit: error: timed out after {} waiting for generation {} to be ready",
                humantime::format_duration(timeout),
                old_gen + 1
            );
            return verb::FAILED;
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
