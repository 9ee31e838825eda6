//! What goes into the supervisor (events: facts the event loop observed or
//! answers to its queries) and what comes out (actions for the loop to
//! perform). Facts never carry a decision: "this datagram came from a
//! process of the daemon's group", not "accept it".

use crate::core::ended::Ended;

/// One received signal, as the signal intake saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received {
    pub signo: i32,
    /// The sender's pid (0 for the kernel).
    pub sender: i32,
    /// It is `ctlinit restart`'s control message (queued with the magic value).
    pub control: bool,
}

/// How the sender of a notify datagram relates to the current daemon.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sender {
    /// The daemon process itself.
    Daemon,
    /// A member of its process group, or one of its descendants.
    DaemonTree,
    /// Anything else: an old generation's straggler, or a stranger.
    Other,
}

/// One notify datagram (the systemd protocol subset ctlinit speaks).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Notice {
    pub ready: bool,
    /// `WATCHDOG=1`: the daemon is alive.
    pub keepalive: bool,
    /// `WATCHDOG=trigger`: the daemon asks to be treated as hung.
    pub trigger: bool,
    pub status: Option<String>,
}

/// Why a spawn failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpawnError {
    /// The command does not exist (status 127).
    NotFound,
    /// It exists but cannot be executed (status 126).
    NotExecutable,
    /// A temporary shortage (EAGAIN, ENOMEM: a pids limit): retry later.
    Temporary,
}

/// A process holding a port that must be free, as the loop found it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Holder {
    pub port: u16,
    /// None when no process visible from here holds the socket.
    pub pid: Option<i32>,
    /// Its start time (ticks since boot): proves identity when it is signalled.
    pub start_ticks: u64,
    /// It belongs to ctlinit's own tree.
    pub in_tree: bool,
}

/// The memory cgroup's OOM counter and limit, read when a run ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OomReading {
    pub kills: u64,
    /// None = unlimited or unknown.
    pub limit: Option<u64>,
}

/// The daemon ended, with what the loop saw around it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DaemonExit {
    pub ended: Ended,
    /// The memory cgroup's reading now, taken for a death by SIGKILL
    /// (None otherwise, or without a readable cgroup).
    pub oom: Option<OomReading>,
    /// The daemon's group held the terminal's foreground when it died.
    pub held_terminal: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Setup is done: start the first generation.
    Start {
        wall_ms: u64,
    },
    Signal(Received),
    /// After a reaping pass: whether ctlinit still has any child. Sent
    /// before the pass's `DaemonExited`/`Reaped` events.
    Children {
        left: bool,
    },
    DaemonExited(DaemonExit),
    /// A child that is not the daemon ended (the --check command, an orphan).
    Reaped {
        pid: i32,
        ended: Ended,
    },
    /// A child was stopped by a job-control signal.
    ChildStopped {
        pid: i32,
        sig: i32,
    },
    /// Answer to `Action::Spawn`.
    Spawned {
        pid: i32,
        wall_ms: u64,
        /// The memory cgroup's OOM counter as the run begins (None without
        /// a readable memory cgroup).
        oom_kills: Option<u64>,
    },
    SpawnFailed(SpawnError),
    /// Answer to `Action::RunCheck`.
    CheckSpawned {
        pid: i32,
    },
    CheckSpawnFailed(SpawnError),
    /// Answer to `Action::ProbePorts`: which of the asked ports listen now.
    PortsBusy(Vec<u16>),
    /// Answer to `Action::FindHolders`.
    Holders(Vec<Holder>),
    /// Answer to `Action::QueryListening`: the TCP ports the group listens on.
    Listening(Vec<u16>),
    Notify {
        pid: i32,
        from: Sender,
        notice: Notice,
    },
    /// inotify reported activity around a watched path.
    WatchActivity,
    /// Answer to `Action::CompareWatched`: a watched file's content changed.
    WatchCompared {
        changed: bool,
    },
    /// Nothing but time passed (a deadline, or a wake with nothing else).
    Tick,
}

/// Whom a signal goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Pid(i32),
    /// A process group ctlinit created (the daemon's, or the check's).
    Group(i32),
}

/// How far a sweep of ctlinit's remaining processes reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every process of ctlinit's tree, found through /proc and signalled
    /// through a verified pidfd.
    Descendants,
    /// `kill(-1)`: everything in the PID namespace. Only chosen when ctlinit
    /// is PID 1 of its own namespace and the container is ending.
    Namespace,
}

/// Why ctlinit exits: the word on the summary line.
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

/// What ctlinit's exit status stands for; `error::status` turns it into
/// the number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitCode {
    /// The daemon's status (after the `--success-exit` mapping), or 128 +
    /// the stop signal when no daemon ever ran.
    Status(i32),
    PortBusy,
    Spawn(SpawnError),
}

/// How ctlinit ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ending {
    pub code: ExitCode,
    pub reason: Reason,
}

/// Changes to ctlinit's environment for a child: NAME and its value, or
/// None to remove NAME.
pub type Env = Vec<(String, Option<String>)>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Start generation `generation` with ctlinit's environment changed by
    /// `env` (a value sets, None removes); answer `Spawned` or `SpawnFailed`.
    Spawn {
        generation: u64,
        env: Env,
        /// Also set `WATCHDOG_PID` to the new process's own pid.
        watchdog_pid: bool,
    },
    /// Start the `--check` command; answer `CheckSpawned` or `CheckSpawnFailed`.
    RunCheck {
        env: Env,
    },
    Signal {
        to: Target,
        sig: i32,
    },
    /// Signal every remaining process of ctlinit's tree.
    SignalTree {
        sig: i32,
        scope: Scope,
    },
    /// SIGKILL a port holder found by a scan, if it is still that process.
    KillHolder {
        pid: i32,
        start_ticks: u64,
    },
    /// Which of these ports listen now? Answer `PortsBusy`.
    ProbePorts(Vec<u16>),
    /// Who holds these ports? Answer `Holders`.
    FindHolders(Vec<u16>),
    /// Which TCP ports does process group `pgid` listen on? Answer `Listening`.
    QueryListening {
        pgid: i32,
    },
    /// Hash the watched files; answer `WatchCompared`.
    CompareWatched,
    /// A generation was just spawned: the watched files' current contents are
    /// what it reads, so they are the new baseline.
    RebaselineWatch,
    /// Tell an inherited NOTIFY_SOCKET that the service is ready.
    NotifyParentReady,
    /// Log the processes that survived SIGKILL, with their states.
    ReportSurvivors,
    Exit(Ending),
}

impl Action {
    /// A plain signal to the daemon: the whole of a forwarded signal's work.
    pub fn is_signal(&self) -> bool {
        matches!(self, Action::Signal { .. })
    }
}
