//! `demo` — a tiny TCP daemon to run under ctlinit (README examples and the
//! Docker smoke suite in `smoke/`).
//!
//! ```text
//! demo [OPTIONS] [CONFIG]     serve (CONFIG defaults to /etc/demo.conf)
//! demo --check [CONFIG]       validate CONFIG like the daemon would: exit 0 or 3
//! demo --probe PORT           connect to 127.0.0.1:PORT, print the reply
//!
//! OPTIONS: --ignore-term  --trap-child SECS  --notify
//!          --exit-on-usr1 CODE  --hog MIB
//! ```
//!
//! CONFIG holds `key=value` lines; `#` starts a comment line, blank lines are
//! ignored. Keys: `port` (required, 1-65535) and `message` (optional text).
//! A missing file, an unknown key or a bad value is reported on stderr, naming
//! the file and the line, and the daemon exits 3 without listening.
//! `demo --check CONFIG` runs the same validation and nothing else (the
//! `nginx -t` of this demo, for ctlinit's `--check`): it prints
//! `demo: CONFIG: config ok (port P)` and exits 0, or prints the error and
//! exits 3.
//!
//! Serving: listens on 127.0.0.1:port and answers every connection with one
//! line, then closes it:
//!
//! ```text
//! ok port=5199 generation=1 pid=7 message=hello
//! ```
//!
//! Signals: HUP, QUIT, USR1, USR2, INT and TERM are each logged as
//! `demo: got signal N`. Then:
//!
//! * INT and TERM close the listener and exit 0, unless `--ignore-term` is
//!   given, which makes it shrug TERM off (for testing stop timeouts).
//! * HUP reloads CONFIG: if it is valid, the new `message` is served from
//!   then on (`demo: reloaded CONFIG`); if not, the old config keeps being
//!   served (`demo: reload failed: ...`). A changed `port` is not applied (it
//!   needs a restart) and is logged as ignored.
//! * QUIT is not a stop: it is logged like a JVM's thread dump
//!   (`demo: QUIT: still serving`) and the daemon goes on.
//! * USR1 with `--exit-on-usr1 CODE` exits CODE (the daemon asking ctlinit
//!   for a restart through `--restart-exit CODE`); otherwise only logged.
//! * USR2 while sending watchdog keep-alives (below) stops sending them, a
//!   simulated hang (`demo: hanging`); connections are still answered.
//!
//! `--trap-child SECS` forks a child (a grandchild of ctlinit) before
//! listening; on TERM/INT that child logs `demo-child: cleanup start`, sleeps
//! SECS, logs `demo-child: cleanup done` and exits 0. The daemon does not pass
//! its own TERM on to the child: cleaning up leftovers is the supervisor's job.
//!
//! `--notify` speaks the systemd notify protocol when `NOTIFY_SOCKET` is set
//! (a path, or `@name` for the abstract namespace, as ctlinit passes it):
//! `READY=1` once listening; and when `WATCHDOG_USEC` is set (and
//! `WATCHDOG_PID`, if set, is this process), `WATCHDOG=1` every
//! WATCHDOG_USEC/3, sent from the same poll loop (its timeout is the next
//! keep-alive's deadline).
//!
//! `--hog MIB` allocates and touches MIB MiB after listening, 1 MiB per loop
//! turn (so signals and connections are still served), logging
//! `demo: hogging N MiB` every 16 MiB and `demo: holding N MiB` when done —
//! for an out-of-memory scenario under a container memory limit.
//!
//! Single-threaded: one `poll` on the listener and a self-pipe that the
//! signal handler writes the signal number into; its timeout is -1 (sleep
//! until something happens) unless a keep-alive or a hog step is due.
//!
//! Exit status: 0 after TERM/INT, 1 when the port cannot be bound, 2 on bad
//! usage, 3 on a missing or bad config (and `--check` of a bad one), CODE on
//! USR1 with `--exit-on-usr1 CODE`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::net::{SocketAddr as UnixAddr, UnixDatagram};
use std::process::exit;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

const DEFAULT_CONFIG: &str = "/etc/demo.conf";
const HANDLED: [libc::c_int; 6] = [
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGINT,
    libc::SIGTERM,
];
const MIB: usize = 1024 * 1024;

/// Logs one line to stderr with a single write(2), so lines from the daemon,
/// its child and ctlinit (all sharing the container's stderr) never interleave
/// mid-line. (`eprintln!` may split a formatted line into several writes.)
macro_rules! say {
    ($($arg:tt)*) => {{
        let mut line = format!($($arg)*);
        line.push('\n');
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }};
}

/// Write end of the self-pipe; the signal handler's only shared state.
static SIGNAL_PIPE: AtomicI32 = AtomicI32::new(-1);

struct Options {
    config: String,
    ignore_term: bool,
    trap_child: Option<u64>,
    notify: bool,
    exit_on_usr1: Option<i32>,
    hog_mib: Option<usize>,
}

struct Config {
    port: u16,
    message: Option<String>,
}

/// The notify protocol's sending side (`--notify` with NOTIFY_SOCKET set).
struct Notifier {
    socket: UnixDatagram,
    addr: UnixAddr,
    /// WATCHDOG_USEC/3, when keep-alives are wanted.
    interval: Option<Duration>,
    /// When the next keep-alive is due; None before READY=1 and once hung.
    next: Option<Instant>,
}

/// `--hog`: the memory held so far, 1 MiB a chunk.
struct Hog {
    want_mib: usize,
    held: Vec<Vec<u8>>,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--probe") => exit(probe(args.get(1).map(String::as_str))),
        Some("--check") => exit(check(&args[1..])),
        _ => {}
    }
    let opts = parse_args(&args);
    let mut config = match load_config(&opts.config) {
        Ok(c) => c,
        Err(msg) => {
            say!("demo: bad config: {msg}");
            exit(3);
        }
    };
    let pid = std::process::id();
    let generation = std::env::var("CTLINIT_GENERATION").unwrap_or_else(|_| "none".into());
    log_supervision(pid, &generation);
    let mut notifier = if opts.notify {
        Notifier::from_env(pid)
    } else {
        None
    };

    if let Some(secs) = opts.trap_child {
        spawn_trap_child(secs);
    }
    let pipe_r = install_signal_pipe();

    let listener = match TcpListener::bind(("127.0.0.1", config.port)) {
        Ok(l) => l,
        Err(e) => {
            say!("demo: cannot listen on 127.0.0.1:{}: {e}", config.port);
            exit(1);
        }
    };
    listener
        .set_nonblocking(true)
        .expect("nonblocking listener");
    say!(
        "demo: listening on 127.0.0.1:{} (generation {generation}, pid {pid})",
        config.port
    );
    if let Some(n) = notifier.as_mut() {
        n.ready();
    }
    let mut hog = opts.hog_mib.map(|want_mib| Hog {
        want_mib,
        held: Vec::new(),
    });

    let mut reply = reply_line(&config, &generation, pid);
    let mut fds = [
        libc::pollfd {
            fd: listener.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        },
        libc::pollfd {
            fd: pipe_r,
            events: libc::POLLIN,
            revents: 0,
        },
    ];
    loop {
        let hogging = hog.as_ref().is_some_and(Hog::pending);
        let timeout = if hogging {
            0
        } else {
            notifier.as_ref().map_or(-1, Notifier::poll_timeout)
        };
        // SAFETY: fds is a valid array of two pollfd structs.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout) };
        if n < 0 {
            if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            say!("demo: poll: {}", std::io::Error::last_os_error());
            exit(1);
        }
        if let Some(n) = notifier.as_mut() {
            n.keep_alive_if_due();
        }
        if n > 0 && fds[1].revents != 0 {
            // Log every signal of the batch before acting on any of them
            // (signals arriving together are handled in no particular order).
            let sigs = drain_signals(pipe_r);
            for &sig in &sigs {
                say!("demo: got signal {sig}");
            }
            if opts.ignore_term && sigs.contains(&libc::SIGTERM) {
                say!("demo: ignoring TERM (--ignore-term)");
            }
            let stop = sigs.contains(&libc::SIGINT)
                || (sigs.contains(&libc::SIGTERM) && !opts.ignore_term);
            if stop {
                drop(listener);
                say!("demo: listener closed, exiting");
                exit(0);
            }
            for &sig in &sigs {
                match sig {
                    libc::SIGHUP => {
                        reload(&opts.config, &mut config);
                        reply = reply_line(&config, &generation, pid);
                    }
                    libc::SIGQUIT => say!("demo: QUIT: still serving (not a stop for demo)"),
                    libc::SIGUSR1 => {
                        if let Some(code) = opts.exit_on_usr1 {
                            say!("demo: exiting with {code} (--exit-on-usr1)");
                            exit(code);
                        }
                    }
                    libc::SIGUSR2 => {
                        if let Some(n) = notifier.as_mut() {
                            n.hang();
                        }
                    }
                    _ => {}
                }
            }
        }
        if n > 0 && fds[0].revents != 0 {
            // Accept everything that is pending; the listener is non-blocking.
            while let Ok((stream, _)) = listener.accept() {
                answer(stream, &reply);
            }
        }
        if let Some(h) = hog.as_mut() {
            h.step();
        }
    }
}

fn reply_line(config: &Config, generation: &str, pid: u32) -> String {
    let mut reply = format!("ok port={} generation={generation} pid={pid}", config.port);
    if let Some(m) = &config.message {
        reply.push_str(" message=");
        reply.push_str(m);
    }
    reply.push('\n');
    reply
}

/// HUP: re-reads `path`; applies the new message if it is valid, keeps the
/// old config otherwise. The port stays (rebinding needs a restart).
fn reload(path: &str, config: &mut Config) {
    match load_config(path) {
        Ok(new) => {
            if new.port != config.port {
                say!(
                    "demo: port change {} -> {} ignored: it needs a restart",
                    config.port,
                    new.port
                );
            }
            config.message = new.message;
            say!("demo: reloaded {path}");
        }
        Err(msg) => say!("demo: reload failed: {msg}; still serving the old config"),
    }
}

impl Notifier {
    /// None (after saying why) when NOTIFY_SOCKET is unset or unusable.
    fn from_env(pid: u32) -> Option<Notifier> {
        let Some(path) = std::env::var_os("NOTIFY_SOCKET").filter(|p| !p.is_empty()) else {
            say!("demo: --notify: NOTIFY_SOCKET is not set, not notifying");
            return None;
        };
        let path = path.to_string_lossy().into_owned();
        let addr = match path.strip_prefix('@') {
            Some(name) => {
                use std::os::linux::net::SocketAddrExt;
                UnixAddr::from_abstract_name(name.as_bytes())
            }
            None => UnixAddr::from_pathname(&path),
        };
        let socket = UnixDatagram::unbound();
        let (addr, socket) = match (addr, socket) {
            (Ok(a), Ok(s)) => (a, s),
            (Err(e), _) | (_, Err(e)) => {
                say!("demo: --notify: NOTIFY_SOCKET={path}: {e}");
                return None;
            }
        };
        let usec = std::env::var("WATCHDOG_USEC")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|&u| u > 0);
        let for_me = std::env::var("WATCHDOG_PID")
            .ok()
            .is_none_or(|p| p.parse::<u32>().ok() == Some(pid));
        let interval = match (usec, for_me) {
            (Some(u), true) => Some(Duration::from_micros(u / 3)),
            (Some(_), false) => {
                say!("demo: WATCHDOG_PID is not my pid {pid}: no keep-alives");
                None
            }
            (None, _) => None,
        };
        Some(Notifier {
            socket,
            addr,
            interval,
            next: None,
        })
    }

    fn send(&self, what: &str) -> bool {
        match self.socket.send_to_addr(what.as_bytes(), &self.addr) {
            Ok(_) => true,
            Err(e) => {
                say!("demo: cannot send {what} to NOTIFY_SOCKET: {e}");
                false
            }
        }
    }

    fn ready(&mut self) {
        if self.send("READY=1") {
            say!("demo: sent READY=1");
        }
        if let Some(every) = self.interval {
            say!(
                "demo: sending WATCHDOG=1 every {}ms (WATCHDOG_USEC/3)",
                every.as_millis()
            );
            self.send("WATCHDOG=1");
            self.next = Some(Instant::now() + every);
        }
    }

    /// poll's timeout: milliseconds until the next keep-alive (rounded up),
    /// or -1 when none is due.
    fn poll_timeout(&self) -> libc::c_int {
        match self.next {
            None => -1,
            Some(t) => {
                let left = t.saturating_duration_since(Instant::now());
                left.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int
            }
        }
    }

    fn keep_alive_if_due(&mut self) {
        let (Some(due), Some(every)) = (self.next, self.interval) else {
            return;
        };
        let now = Instant::now();
        if now < due {
            return;
        }
        self.send("WATCHDOG=1");
        // After a long stall, count from now rather than bursting to catch up.
        let next = due + every;
        self.next = Some(if next <= now { now + every } else { next });
    }

    fn hang(&mut self) {
        if self.next.take().is_some() {
            say!("demo: hanging: no more WATCHDOG=1 (still answering connections)");
        }
    }
}

impl Hog {
    fn pending(&self) -> bool {
        self.held.len() < self.want_mib
    }

    /// Allocates and touches (memset) one more MiB, if any is still wanted.
    fn step(&mut self) {
        if !self.pending() {
            return;
        }
        self.held.push(vec![0xa5u8; MIB]);
        let n = self.held.len();
        if n == self.want_mib {
            say!("demo: holding {n} MiB (--hog)");
        } else if n % 16 == 0 {
            say!("demo: hogging {n} MiB");
        }
    }
}

fn usage(msg: &str) -> ! {
    say!("demo: {msg}");
    say!("usage: demo [--ignore-term] [--trap-child SECS] [--notify] [--exit-on-usr1 CODE] [--hog MIB] [CONFIG]");
    say!("       demo --check [CONFIG]     (default CONFIG {DEFAULT_CONFIG})");
    say!("       demo --probe PORT");
    exit(2);
}

/// The value after option `name`, parsed; usage error when missing or bad.
fn value<T: std::str::FromStr>(it: &mut std::slice::Iter<'_, String>, name: &str, what: &str) -> T {
    let v = it
        .next()
        .unwrap_or_else(|| usage(&format!("{name} needs {what}")));
    v.parse()
        .unwrap_or_else(|_| usage(&format!("{name}: bad {what} {v:?}")))
}

fn parse_args(args: &[String]) -> Options {
    let mut opts = Options {
        config: DEFAULT_CONFIG.into(),
        ignore_term: false,
        trap_child: None,
        notify: false,
        exit_on_usr1: None,
        hog_mib: None,
    };
    let mut config_seen = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--ignore-term" => opts.ignore_term = true,
            "--notify" => opts.notify = true,
            "--trap-child" => opts.trap_child = Some(value(&mut it, arg, "SECS")),
            "--exit-on-usr1" => {
                let code: u8 = value(&mut it, arg, "CODE (0-255)");
                opts.exit_on_usr1 = Some(i32::from(code));
            }
            "--hog" => opts.hog_mib = Some(value(&mut it, arg, "MIB")),
            "-h" | "--help" => {
                say!("usage: demo [--ignore-term] [--trap-child SECS] [--notify] [--exit-on-usr1 CODE] [--hog MIB] [CONFIG]");
                say!("       demo --check [CONFIG] | demo --probe PORT");
                exit(0);
            }
            s if s.starts_with('-') => usage(&format!("unknown option {s:?}")),
            s if !config_seen => {
                opts.config = s.into();
                config_seen = true;
            }
            s => usage(&format!("unexpected argument {s:?}")),
        }
    }
    opts
}

/// `demo --check [CONFIG]`: 0 when CONFIG is valid, 3 (with the error on
/// stderr) when not, 2 on bad usage.
fn check(args: &[String]) -> i32 {
    let path = match args {
        [] => DEFAULT_CONFIG,
        [p] if !p.starts_with('-') => p.as_str(),
        _ => usage("--check takes one CONFIG"),
    };
    match load_config(path) {
        Ok(c) => {
            say!("demo: {path}: config ok (port {})", c.port);
            0
        }
        Err(msg) => {
            say!("demo: bad config: {msg}");
            3
        }
    }
}

/// Reads CONFIG; every error names the file, and the line when there is one.
fn load_config(path: &str) -> Result<Config, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: cannot read: {e}"))?;
    let mut port = None;
    let mut message = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |why: &str| format!("{path}:{}: {why}: {raw:?}", i + 1);
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| bad("expected key=value"))?;
        match key.trim() {
            "port" => match value.trim().parse::<u16>() {
                Ok(p) if p != 0 => port = Some(p),
                _ => return Err(bad("port must be a number from 1 to 65535")),
            },
            "message" => message = Some(value.trim().to_string()),
            _ => return Err(bad("unknown key (known: port, message)")),
        }
    }
    let port = port.ok_or_else(|| format!("{path}: no port=NNNN line"))?;
    Ok(Config { port, message })
}

/// Shows the check from the README: a process is the supervised daemon when
/// its parent is the supervisor named in CTLINIT_SUPERVISOR.
fn log_supervision(pid: u32, generation: &str) {
    let ppid = unsafe { libc::getppid() };
    match std::env::var("CTLINIT_SUPERVISOR")
        .ok()
        .and_then(|s| s.parse::<i32>().ok())
    {
        Some(sup) if sup == ppid => {
            say!("demo: pid {pid}, supervised by ctlinit pid {sup}, generation {generation}")
        }
        Some(sup) => say!("demo: pid {pid}, CTLINIT_SUPERVISOR={sup} is not my parent ({ppid})"),
        None => say!("demo: pid {pid}, not supervised (no CTLINIT_SUPERVISOR)"),
    }
}

extern "C" fn on_signal(sig: libc::c_int) {
    let fd = SIGNAL_PIPE.load(Ordering::Relaxed);
    let byte = sig as u8;
    // SAFETY: write(2) is async-signal-safe; a full pipe just drops the byte.
    unsafe { libc::write(fd, &byte as *const u8 as *const libc::c_void, 1) };
}

/// Creates the self-pipe, installs the handler for HANDLED; returns the read end.
fn install_signal_pipe() -> libc::c_int {
    let mut fds = [0; 2];
    // SAFETY: fds has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
        say!("demo: pipe2: {}", std::io::Error::last_os_error());
        exit(1);
    }
    SIGNAL_PIPE.store(fds[1], Ordering::Relaxed);
    for sig in HANDLED {
        // SAFETY: a zeroed sigaction with a plain handler and SA_RESTART is valid.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
            sa.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
    fds[0]
}

fn drain_signals(fd: libc::c_int) -> Vec<libc::c_int> {
    let mut buf = [0u8; 64];
    let mut out = Vec::new();
    loop {
        // SAFETY: buf is valid for buf.len() bytes.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr() as *mut libc::c_void, buf.len()) };
        if n <= 0 {
            return out;
        }
        out.extend(buf[..n as usize].iter().map(|&b| b as libc::c_int));
    }
}

fn answer(mut stream: TcpStream, reply: &str) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
    let _ = stream.write_all(reply.as_bytes());
    let _ = stream.shutdown(std::net::Shutdown::Write);
    // Swallow whatever the client sent so closing does not reset the connection.
    let _ = stream.set_nonblocking(true);
    let _ = stream.read(&mut [0u8; 512]);
}

/// The grandchild for --trap-child: waits for TERM/INT, then "cleans up" for
/// SECS seconds. Other handled signals are only logged.
fn spawn_trap_child(secs: u64) {
    // SAFETY: single-threaded process; the child only uses simple syscalls.
    match unsafe { libc::fork() } {
        -1 => {
            say!("demo: fork: {}", std::io::Error::last_os_error());
            exit(1);
        }
        0 => {}
        child => {
            say!("demo: started trap child pid {child} (cleanup takes {secs}s)");
            return;
        }
    }
    // SAFETY: plain signal-mask manipulation and sigwait on a local set.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for sig in HANDLED {
            libc::sigaddset(&mut set, sig);
        }
        libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        let me = std::process::id();
        loop {
            let mut sig = 0;
            if libc::sigwait(&set, &mut sig) != 0 {
                continue;
            }
            say!("demo-child: pid {me} got signal {sig}");
            if sig == libc::SIGTERM || sig == libc::SIGINT {
                break;
            }
        }
        say!("demo-child: cleanup start");
        std::thread::sleep(Duration::from_secs(secs));
        say!("demo-child: cleanup done");
        exit(0);
    }
}

/// `demo --probe PORT`: prints the daemon's reply; exit 0 on a reply, 1 when
/// the connection fails (e.g. refused), 2 on bad usage.
fn probe(port: Option<&str>) -> i32 {
    let Some(port) = port.and_then(|p| p.parse::<u16>().ok()) else {
        usage("--probe needs a PORT");
    };
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = match TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
        Ok(s) => s,
        Err(e) => {
            say!("demo: probe 127.0.0.1:{port}: {e}");
            return 1;
        }
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut reply = String::new();
    match stream.read_to_string(&mut reply) {
        Ok(_) if !reply.is_empty() => {
            print!("{reply}");
            0
        }
        Ok(_) => {
            say!("demo: probe 127.0.0.1:{port}: empty reply");
            1
        }
        Err(e) => {
            say!("demo: probe 127.0.0.1:{port}: {e}");
            1
        }
    }
}
