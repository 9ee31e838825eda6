//! Startup that fails loud (§14.24): everything ctlinit depends on either
//! works or ctlinit stops before starting anything, with a message naming
//! the call or the path and exit 2. Order matters: signals first (nothing
//! that arrives later is lost), checks of the user's paths before anything
//! is created, the lock before any file is written.

use crate::core::config::Config;
use crate::core::config::{Host, ReadyMode};
use crate::core::Supervisor;
use crate::error::Error;
use crate::files::{lock, paths, pidfile::PidFile};
use crate::os::{inotify, notify::NotifySocket, process, procfs, signals, spawn};
use crate::run::event_loop::Os;
use log::warn;
use std::ffi::OsString;

pub fn prepare(cfg: Config) -> Result<(Supervisor, Os), Error> {
    let intake = signals::Intake::open()
        .map_err(|e| Error::Setup(format!("cannot set up signal handling: {e}")))?;
    // What the user asked for is checked and set up before anything is
    // written: a refusal leaves no lock and no PID file behind.
    let named = &cfg.named;
    for p in &cfg.watch {
        inotify::check_path(&named.watch, p).map_err(Error::Usage)?;
    }
    let watcher = match cfg.watch.is_empty() {
        true => None,
        false => Some(inotify::Watcher::new(&named.watch, &cfg.watch).map_err(Error::Setup)?),
    };
    let s = &cfg.settings;
    let notify = match s.ready {
        ReadyMode::Notify => Some(NotifySocket::bind().map_err(|e| {
            Error::Setup(format!(
                "--ready notify: cannot create the notify socket: {e}"
            ))
        })?),
        _ => None,
    };
    // Podman's --sdnotify=container and systemd hand ctlinit a socket of
    // its own; with --ready notify the daemon gets ours instead (§14.18).
    let inherited_notify = std::env::var("NOTIFY_SOCKET")
        .ok()
        .filter(|v| !v.is_empty() && notify.is_some());
    let (paths, warning) = paths::for_supervisor(
        cfg.pidfile.as_deref(),
        cfg.lockfile.as_deref(),
        (&named.pidfile, &named.lockfile),
    )?;
    let lock = paths.lockfile.as_deref().map(lock::acquire).transpose()?;
    if let Some(w) = warning {
        warn!("{w}");
    }
    let own_pid = process::own_pid();
    if own_pid != 1 {
        process::become_subreaper().map_err(setup_failed)?;
    }
    if let Some(sig) = cfg.pdeathsig {
        process::set_parent_death_signal(sig).map_err(setup_failed)?;
    }
    process::tighten_timer_slack();
    if s.watch_signal.is_some() && cfg.watch.is_empty() {
        warn!("--watch-signal has no effect without --watch");
    }
    if let Some(cmd) = s.check.first() {
        if !on_path(cmd) {
            warn!("--check: '{cmd}' is not an executable on PATH; every checked restart will be refused until it is");
        }
    }
    let host = Host {
        pid: own_pid,
        start_ticks: procfs::own_start_ticks(),
        pidfile: paths.pidfile.as_ref().map(|p| p.display().to_string()),
        notify_socket: notify.as_ref().map(|n| n.address.clone()),
        notify_parent: inherited_notify.is_some(),
        command: cfg
            .command
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect(),
        version: env!("CARGO_PKG_VERSION").to_string(),
    };
    let machine = Supervisor::new(cfg.settings.clone(), host);
    let os = Os {
        intake,
        watcher,
        notify,
        inherited_notify,
        pidfile: paths.pidfile.map(PidFile::new),
        _lock: lock,
        check: cfg.settings.check.iter().map(OsString::from).collect(),
        command: cfg.command,
        tty: spawn::has_controlling_tty(),
        memory: None,
        own_pid,
        start: std::time::Instant::now(),
    };
    Ok((machine, os))
}

fn setup_failed(e: String) -> Error {
    Error::Setup(format!("cannot set up supervision: {e}"))
}

/// Whether `cmd` names an executable, as the spawn's PATH search would find it.
fn on_path(cmd: &str) -> bool {
    use nix::unistd::{access, AccessFlags};
    if cmd.contains('/') {
        return access(cmd, AccessFlags::X_OK).is_ok();
    }
    let path = std::env::var("PATH")
        .unwrap_or_else(|_| "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into());
    path.split(':')
        .any(|d| access(&std::path::Path::new(d).join(cmd), AccessFlags::X_OK).is_ok())
}
