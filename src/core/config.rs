//! What the supervisor is told before it starts: the validated settings
//! (the CLI produces them; every value is already within the contract's
//! ranges) and the facts of the host it runs on. Plain data.

use std::time::Duration;

/// When a daemon that ended is started again (`--restart`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestartMode {
    No,
    OnFailure,
    Always,
}

/// When a freshly spawned daemon counts as ready (`--ready`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadyMode {
    /// At spawn.
    None,
    /// Every `--port` listens.
    Port,
    /// The daemon's process group holds at least one listening TCP socket.
    Listen,
    /// The daemon sent `READY=1` on the notify socket.
    Notify,
}

/// The restart policy's knobs (`--restart`, `--max-restarts`, `--backoff`,
/// `--reset-after`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    pub mode: RestartMode,
    /// Consecutive failed runs tolerated; 0 = never give up.
    pub max_restarts: u32,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    pub reset_after: Duration,
}

/// Everything the state machine decides with. Signals are numbers 1-64.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub policy: Policy,
    /// What ctlinit sends when it decides to stop the daemon itself.
    pub stop_signal: i32,
    pub stop_timeout: Duration,
    /// Received signals that mean "the container is stopping".
    pub stop_on: Vec<i32>,
    /// Drain: how long the daemon keeps serving before a stop is forwarded.
    pub stop_delay: Duration,
    pub reload_signal: Option<i32>,
    /// Exit codes by which the daemon asks to be restarted.
    pub restart_exit: Vec<i32>,
    /// Sent to the daemon on a `--watch` change instead of restarting it.
    pub watch_signal: Option<i32>,
    /// The `--check` command line as given (for logs); empty = no check.
    pub check: Vec<String>,
    /// Whether `--watch` paths are configured.
    pub watch: bool,
    pub ports: Vec<u16>,
    pub ready: ReadyMode,
    pub ready_timeout: Duration,
    /// Keep-alive deadline with `--ready notify`; None = off.
    pub watchdog: Option<Duration>,
    pub port_timeout: Duration,
    /// `--marker NAME[=VALUE]`; None = ctlinit's pid.
    pub markers: Vec<(String, Option<String>)>,
    /// Forward signals to the daemon's whole process group.
    pub pgroup: bool,
    /// (from, to); to == 0 drops the signal.
    pub rewrite: Vec<(i32, i32)>,
    /// Exit statuses that count as a clean exit (and map to ctlinit's 0).
    pub success_exit: Vec<i32>,
    /// Log reaped orphans at warn level (`-w`).
    pub warn_orphans: bool,
}

impl Default for Settings {
    /// The contract's defaults (SPEC §2).
    fn default() -> Settings {
        use crate::core::signals::{SIGINT, SIGQUIT, SIGTERM};
        Settings {
            policy: Policy {
                mode: RestartMode::No,
                max_restarts: 5,
                backoff_min: Duration::from_millis(100),
                backoff_max: Duration::from_secs(30),
                reset_after: Duration::from_secs(30),
            },
            stop_signal: SIGTERM,
            stop_timeout: Duration::from_secs(8),
            stop_on: vec![SIGTERM, SIGINT, SIGQUIT],
            stop_delay: Duration::ZERO,
            reload_signal: None,
            restart_exit: vec![],
            watch_signal: None,
            check: vec![],
            watch: false,
            ports: vec![],
            ready: ReadyMode::None,
            ready_timeout: Duration::from_secs(30),
            watchdog: None,
            port_timeout: Duration::from_secs(5),
            markers: vec![],
            pgroup: false,
            rewrite: vec![],
            success_exit: vec![0],
            warn_orphans: false,
        }
    }
}

/// Facts about the host, read once by the startup code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    /// ctlinit's own pid (1 in a container).
    pub pid: i32,
    /// ctlinit's start time in clock ticks since boot (`/proc/self/stat`
    /// field 22): recorded in the PID file so `ctlinit restart` can prove
    /// which process wrote it.
    pub start_ticks: u64,
    /// The PID file's path, when there is one (for `CTLINIT_PIDFILE`).
    pub pidfile: Option<String>,
    /// The notify socket's address for the daemon (`--ready notify`).
    pub notify_socket: Option<String>,
    /// ctlinit inherited a NOTIFY_SOCKET of its own (podman, systemd) and
    /// must report the daemon's first readiness there.
    pub notify_parent: bool,
    /// The command line, for the PID file.
    pub command: Vec<String>,
    pub version: String,
}

/// Everything `ctlinit [OPTIONS] COMMAND` was told, validated by the CLI:
/// the settings the machine decides with, and what the outer layers need
/// to set it up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub settings: Settings,
    /// COMMAND and its arguments, untouched.
    pub command: Vec<std::ffi::OsString>,
    pub watch: Vec<std::path::PathBuf>,
    pub pidfile: Option<std::path::PathBuf>,
    pub lockfile: Option<std::path::PathBuf>,
    pub pdeathsig: Option<i32>,
    pub log_level: log::LevelFilter,
    /// Which flag or variable gave the paths, for the messages of the
    /// start-up checks (§14.21: a refusal names what the user typed).
    pub named: Named,
}

/// The flag or variable (`--pidfile`, `CTLINIT_PIDFILE`) each path came from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Named {
    pub pidfile: String,
    pub lockfile: String,
    pub watch: String,
}
