//! `demo` — a tiny TCP daemon to run under ctlinit (README examples and the
//! Docker smoke suite in `smoke/`).
//!
//! ```text
//! demo [--ignore-term] [--trap-child SECS] [CONFIG]   serve (CONFIG defaults to /etc/demo.conf)
//! demo --probe PORT                                   connect to 127.0.0.1:PORT, print the reply
//! ```
//!
//! CONFIG holds `key=value` lines; `#` starts a comment line, blank lines are
//! ignored. Keys: `port` (required, 1-65535) and `message` (optional text).
//! A missing file, an unknown key or a bad value is reported on stderr, naming
//! the file and the line, and the daemon exits 3 without listening.
//!
//! Serving: listens on 127.0.0.1:port and answers every connection with one
//! line, then closes it:
//!
//! ```text
//! ok port=5199 generation=1 pid=7 message=hello
//! ```
//!
//! Signals: HUP, USR1, USR2, INT and TERM are each logged as
//! `demo: got signal N`. INT and TERM close the listener and exit 0, unless
//! `--ignore-term` is given, which makes it shrug TERM off (for testing stop
//! timeouts). `--trap-child SECS` forks a child (a grandchild of ctlinit)
//! before listening; on TERM/INT that child logs `demo-child: cleanup start`,
//! sleeps SECS, logs `demo-child: cleanup done` and exits 0. The daemon does
//! not pass its own TERM on to the child: cleaning up leftovers is the
//! supervisor's job.
//!
//! Single-threaded: one `poll` on the listener and a self-pipe that the
//! signal handler writes the signal number into.
//!
//! Exit status: 0 after TERM/INT, 1 when the port cannot be bound, 2 on bad
//! usage, 3 on a missing or bad config.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::process::exit;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

const DEFAULT_CONFIG: &str = "/etc/demo.conf";
const HANDLED: [libc::c_int; 5] = [
    libc::SIGHUP,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGINT,
    libc::SIGTERM,
];

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
}

struct Config {
    port: u16,
    message: Option<String>,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--probe") {
        exit(probe(args.get(1).map(String::as_str)));
    }
    let opts = parse_args(&args);
    let config = match load_config(&opts.config) {
        Ok(c) => c,
        Err(msg) => {
            say!("demo: bad config: {msg}");
            exit(3);
        }
    };
    let pid = std::process::id();
    let generation = std::env::var("CTLINIT_GENERATION").unwrap_or_else(|_| "none".into());
    log_supervision(pid, &generation);

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

    let mut reply = format!("ok port={} generation={generation} pid={pid}", config.port);
    if let Some(m) = &config.message {
        reply.push_str(" message=");
        reply.push_str(m);
    }
    reply.push('\n');

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
        // SAFETY: fds is a valid array of two pollfd structs.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, -1) };
        if n < 0 {
            if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            say!("demo: poll: {}", std::io::Error::last_os_error());
            exit(1);
        }
        if fds[1].revents != 0 {
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
        }
        if fds[0].revents != 0 {
            // Accept everything that is pending; the listener is non-blocking.
            while let Ok((stream, _)) = listener.accept() {
                answer(stream, &reply);
            }
        }
    }
}

fn usage(msg: &str) -> ! {
    say!("demo: {msg}");
    say!("usage: demo [--ignore-term] [--trap-child SECS] [CONFIG]   (default CONFIG {DEFAULT_CONFIG})");
    say!("       demo --probe PORT");
    exit(2);
}

fn parse_args(args: &[String]) -> Options {
    let mut opts = Options {
        config: DEFAULT_CONFIG.into(),
        ignore_term: false,
        trap_child: None,
    };
    let mut config_seen = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--ignore-term" => opts.ignore_term = true,
            "--trap-child" => {
                let v = it
                    .next()
                    .unwrap_or_else(|| usage("--trap-child needs SECS"));
                let secs = v
                    .parse()
                    .unwrap_or_else(|_| usage(&format!("--trap-child: bad SECS {v:?}")));
                opts.trap_child = Some(secs);
            }
            "-h" | "--help" => {
                say!(
                    "usage: demo [--ignore-term] [--trap-child SECS] [CONFIG] | demo --probe PORT"
                );
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
