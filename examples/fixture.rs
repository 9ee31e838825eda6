//! Test fixture for ctlinit's integration tests: one binary, many modes.
//!
//! Usage: `fixture MODE [ARGS]`. Every line that a test synchronises on goes to
//! the file named by `FIXTURE_OUT` (append, one `write` per line, so lines from
//! several processes never interleave), or to stdout when it is unset.
//!
//! Modes (see `usage()` for the argument syntax):
//! sigprint, status, env, argv, exit, kill, ignore-term, orphans,
//! grandchild-trap, crash-n, exit-seq, listen, config-daemon, notify,
//! fork-sleep, hog.
//!
//! Signals are received with `sigwaitinfo` on a blocked set rather than with
//! handlers: nothing is lost between start-up and `ready` (a signal that
//! arrives early stays pending), and there is no async-signal-safety to get
//! wrong. Forked children inherit the blocked set, so they are covered from
//! the moment they exist.
//!
//! `#![no_main]`: Rust's normal start-up sets SIGPIPE to SIG_IGN before
//! `main` runs, which would make the `status` mode report a SigIgn that ctlinit
//! did not cause. With our own C `main`, the dispositions and mask we see are
//! exactly the ones we inherited through exec. (std still works: on Linux it
//! captures argv/environ through `.init_array`.)
#![no_main]

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::net::TcpListener;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::process::exit;
use std::time::{Duration, Instant};

#[no_mangle]
pub extern "C" fn main(_argc: libc::c_int, _argv: *const *const libc::c_char) -> libc::c_int {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((mode, rest)) = args.split_first() else {
        usage()
    };
    match mode.as_str() {
        "sigprint" => sigprint(rest),
        "status" => status(),
        "env" => env_mode(rest),
        "argv" => argv(rest),
        "exit" => exit(int_arg(rest, 0, "CODE")),
        "kill" => kill_self(int_arg(rest, 0, "SIGNUM")),
        "ignore-term" => ignore_term(),
        "orphans" => orphans(rest),
        "grandchild-trap" => grandchild_trap(rest),
        "crash-n" => crash_n(rest),
        "exit-seq" => exit_seq(rest),
        "listen" => listen(rest),
        "config-daemon" => config_daemon(rest),
        "notify" => notify(rest),
        "fork-sleep" => fork_sleep(),
        "hog" => hog(rest),
        _ => usage(),
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: fixture MODE [ARGS]\n\
         \x20 sigprint [--ignore-term] [--exit-on N] [--child] [--log-chld]\n\
         \x20 status | env [--stay] | argv ARG... | exit CODE | kill SIGNUM | ignore-term\n\
         \x20 orphans N [--exit] | grandchild-trap SECS [--setsid] | crash-n FILE N CODE\n\
         \x20 exit-seq FILE CODE... | listen PORT... [--linger-child] | config-daemon CONFIG\n\
         \x20 notify [--delay-ms N] [--status TEXT] [--keepalive-ms N] [--keepalives K]\n\
         \x20        [--trigger-after-ms N]\n\
         \x20 fork-sleep | hog MIB"
    );
    exit(64)
}

// ---------------------------------------------------------------- output

/// Appends one line to $FIXTURE_OUT (or stdout). A single `write` on an
/// O_APPEND file is atomic with respect to the other fixture processes, and
/// nothing is buffered: the line is visible as soon as this returns.
fn out(line: &str) {
    let mut buf = String::with_capacity(line.len() + 1);
    buf.push_str(line);
    buf.push('\n');
    // An empty FIXTURE_OUT counts as unset (tests use it to see stdout).
    let result = match std::env::var_os("FIXTURE_OUT").filter(|p| !p.is_empty()) {
        Some(path) => OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(buf.as_bytes())),
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(buf.as_bytes())
                .and_then(|()| stdout.flush())
        }
    };
    if let Err(e) = result {
        eprintln!("fixture: cannot write {line:?}: {e}");
        exit(70);
    }
}

fn pid() -> i32 {
    // SAFETY: getpid has no preconditions.
    unsafe { libc::getpid() }
}

// ---------------------------------------------------------------- arguments

fn int_arg<T: std::str::FromStr>(rest: &[impl AsRef<str>], i: usize, what: &str) -> T {
    match rest.get(i).map(|s| s.as_ref().parse::<T>()) {
        Some(Ok(v)) => v,
        _ => {
            eprintln!("fixture: expected {what} as argument {}", i + 1);
            usage()
        }
    }
}

fn has_flag(rest: &[String], flag: &str) -> bool {
    rest.iter().any(|a| a == flag)
}

fn flag_value<'a>(rest: &'a [String], flag: &str) -> Option<&'a str> {
    let i = rest.iter().position(|a| a == flag)?;
    match rest.get(i + 1) {
        Some(v) => Some(v),
        None => {
            eprintln!("fixture: {flag} needs a value");
            usage()
        }
    }
}

/// Positional arguments: everything that is not a `--flag` or a flag's value.
fn positionals<'a>(rest: &'a [String], flags_with_value: &[&str]) -> Vec<&'a str> {
    let mut v = Vec::new();
    let mut skip = false;
    for a in rest {
        if skip {
            skip = false;
        } else if flags_with_value.contains(&a.as_str()) {
            skip = true;
        } else if !a.starts_with("--") {
            v.push(a.as_str());
        }
    }
    v
}

// ---------------------------------------------------------------- signals

/// Every signal a process can catch, minus SIGCHLD (children are our own
/// business): 1..=31 without KILL/STOP/CHLD, plus SIGRTMIN..=SIGRTMAX.
fn catchable() -> Vec<i32> {
    let mut v: Vec<i32> = (1..=31)
        .filter(|&s| s != libc::SIGKILL && s != libc::SIGSTOP && s != libc::SIGCHLD)
        .collect();
    v.extend(libc::SIGRTMIN()..=libc::SIGRTMAX());
    v
}

fn sigset(sigs: &[i32]) -> libc::sigset_t {
    // SAFETY: sigemptyset initialises the set before sigaddset touches it.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for &s in sigs {
            libc::sigaddset(&mut set, s);
        }
        set
    }
}

/// Blocks `sigs` and returns the set, for `wait_signal`.
fn block(sigs: &[i32]) -> libc::sigset_t {
    let set = sigset(sigs);
    // SAFETY: valid set pointer; single-threaded process.
    if unsafe { libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) } != 0 {
        panic!("sigprocmask: {}", std::io::Error::last_os_error());
    }
    set
}

/// Back to what a freshly exec'd program expects: nothing blocked, and every
/// signal at its default action.
fn reset_signals() {
    for s in catchable() {
        // SAFETY: installing SIG_DFL is always sound.
        unsafe { libc::signal(s, libc::SIG_DFL) };
    }
    let empty = sigset(&[]);
    // SAFETY: valid set pointer.
    unsafe { libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut()) };
}

/// Blocks until one signal of `set` is pending and returns its number.
fn wait_signal(set: &libc::sigset_t) -> i32 {
    loop {
        // SAFETY: valid set pointer; a null siginfo is allowed.
        let s = unsafe { libc::sigwaitinfo(set, std::ptr::null_mut()) };
        if s > 0 {
            return s;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            panic!("sigwaitinfo: {e}");
        }
    }
}

struct SigOpts {
    ignore_term: bool,
    exit_on: Option<i32>,
}

/// Logs every signal of `set` as "<prefix> <num>". TERM exits 143 (unless
/// ignored), INT 130, QUIT 131 — what a shell-style daemon killed by them would
/// report, so the tests can tell the three stop signals apart by exit status.
fn signal_loop(prefix: &str, set: &libc::sigset_t, opts: &SigOpts) -> ! {
    loop {
        let s = wait_signal(set);
        out(&format!("{prefix} {s}"));
        if let Some(code) = opts.exit_on {
            exit(code);
        }
        match s {
            libc::SIGTERM if !opts.ignore_term => exit(143),
            libc::SIGINT => exit(130),
            libc::SIGQUIT => exit(131),
            _ => {}
        }
    }
}

fn sleep_forever() -> ! {
    loop {
        // SAFETY: pause has no preconditions.
        unsafe { libc::pause() };
    }
}

fn sleep_secs(secs: f64) {
    std::thread::sleep(Duration::from_secs_f64(secs.max(0.0)));
}

// ---------------------------------------------------------------- processes

/// fork(2); panics on failure. Returns 0 in the child.
fn fork() -> i32 {
    // SAFETY: the fixture is single-threaded, so the child may do anything.
    let p = unsafe { libc::fork() };
    if p < 0 {
        panic!("fork: {}", std::io::Error::last_os_error());
    }
    p
}

fn exit_now(code: i32) -> ! {
    // SAFETY: _exit skips atexit handlers, which belong to the parent.
    unsafe { libc::_exit(code) }
}

// ---------------------------------------------------------------- modes

/// `sigprint [--ignore-term] [--exit-on N] [--child] [--log-chld]`: "ready
/// <pid>", then one "signal <n>" line per signal. With `--child`, a child in
/// the same process group logs "child signal <n>" too (to see what reaches the
/// group), and the ready line is "ready <pid> <child>". `--log-chld` logs
/// SIGCHLD as well (to prove nobody forwards it; without --child we have no
/// children, so any SIGCHLD came from outside).
fn sigprint(rest: &[String]) -> ! {
    let opts = SigOpts {
        ignore_term: has_flag(rest, "--ignore-term"),
        exit_on: flag_value(rest, "--exit-on").map(|v| v.parse().unwrap_or_else(|_| usage())),
    };
    let mut sigs = catchable();
    if has_flag(rest, "--log-chld") {
        sigs.push(libc::SIGCHLD);
    }
    let set = block(&sigs);
    if has_flag(rest, "--child") {
        // The child inherits the blocked set: nothing sent after fork is lost.
        let child = fork();
        if child == 0 {
            let child_opts = SigOpts {
                ignore_term: opts.ignore_term,
                exit_on: None,
            };
            signal_loop("child signal", &set, &child_opts);
        }
        out(&format!("ready {} {child}", pid()));
    } else {
        out(&format!("ready {}", pid()));
    }
    signal_loop("signal", &set, &opts)
}

/// `status`: what the process inherited — mask, ignored set, group, session.
fn status() -> ! {
    let text = fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("SigBlk:") {
            out(&format!("sigblk {}", v.trim()));
        } else if let Some(v) = line.strip_prefix("SigIgn:") {
            out(&format!("sigign {}", v.trim()));
        }
    }
    // SAFETY: these getters have no preconditions.
    let (pgid, sid, ppid) = unsafe { (libc::getpgrp(), libc::getsid(0), libc::getppid()) };
    out(&format!("pgid {pgid}"));
    out(&format!("sid {sid}"));
    out(&format!("ppid {ppid}"));
    out(&format!("pid {}", pid()));
    out("ready");
    sleep_forever()
}

/// `env [--stay]`: every variable as NAME=VALUE, then "ready".
fn env_mode(rest: &[String]) -> ! {
    for (k, v) in std::env::vars_os() {
        out(&format!("{}={}", k.to_string_lossy(), v.to_string_lossy()));
    }
    out("ready");
    if has_flag(rest, "--stay") {
        sleep_forever()
    }
    exit(0)
}

/// `argv ARG...`: each argument as "arg <a>", then "ready"; exits 0. Proves
/// that ctlinit passes COMMAND's arguments through untouched.
fn argv(rest: &[String]) -> ! {
    for a in rest {
        out(&format!("arg {a}"));
    }
    out("ready");
    exit(0)
}

/// `kill SIGNUM`: die of that signal, as a daemon crashing would.
fn kill_self(sig: i32) -> ! {
    reset_signals();
    // SAFETY: signalling ourselves.
    unsafe { libc::kill(libc::getpid(), sig) };
    // Only reached for signals whose default action is to ignore or stop.
    sleep_secs(1.0);
    out(&format!("survived {sig}"));
    exit(1)
}

/// `ignore-term`: a daemon that only SIGKILL can stop.
fn ignore_term() -> ! {
    // SAFETY: installing SIG_IGN is always sound.
    unsafe { libc::signal(libc::SIGTERM, libc::SIG_IGN) };
    out(&format!("ready {}", pid()));
    sleep_forever()
}

/// `orphans N [--exit]`: N short-lived grandchildren, orphaned at once (their
/// parent exits immediately and we reap it), so ctlinit must reap them.
fn orphans(rest: &[String]) -> ! {
    let n: usize = int_arg(&positionals(rest, &[]), 0, "N");
    for i in 0..n {
        let middle = fork();
        if middle == 0 {
            if fork() == 0 {
                // Spread the exits over 50..=200 ms so they arrive in bursts.
                sleep_secs((50 + (i * 37) % 151) as f64 / 1000.0);
                exit_now(0);
            }
            exit_now(0);
        }
        // Reap the middle child ourselves: only the grandchildren are orphans.
        // SAFETY: waiting for our own child.
        unsafe { libc::waitpid(middle, std::ptr::null_mut(), 0) };
    }
    out(&format!("spawned {n}"));
    out("ready");
    if has_flag(rest, "--exit") {
        exit(0)
    }
    sleep_forever()
}

/// `grandchild-trap SECS [--setsid]`: a child that traps TERM and needs SECS of
/// cleanup; the parent (the daemon) exits 0 at once on TERM and leaves it.
fn grandchild_trap(rest: &[String]) -> ! {
    let secs: f64 = int_arg(&positionals(rest, &[]), 0, "SECS");
    // Block TERM before fork: the grandchild can never miss it.
    let set = block(&[libc::SIGTERM]);
    let gc = fork();
    if gc == 0 {
        if has_flag(rest, "--setsid") {
            // SAFETY: the child is not a group leader, so setsid succeeds.
            unsafe { libc::setsid() };
        }
        wait_signal(&set);
        out("grandchild term");
        sleep_secs(secs);
        out("grandchild cleanup done");
        exit_now(0);
    }
    out(&format!("ready {} {gc}", pid()));
    wait_signal(&set);
    exit(0)
}

/// `crash-n FILE N CODE`: the first N runs (counted in FILE) write
/// "crash <k>" and exit CODE; later runs behave like `sigprint`.
fn crash_n(rest: &[String]) -> ! {
    let file = rest.first().unwrap_or_else(|| usage());
    let n: u64 = int_arg(rest, 1, "N");
    let code: i32 = int_arg(rest, 2, "CODE");
    let count = bump_counter(file);
    if count <= n {
        out(&format!("crash {count}"));
        exit(code);
    }
    let set = block(&catchable());
    out(&format!("ready {}", pid()));
    signal_loop(
        "signal",
        &set,
        &SigOpts {
            ignore_term: false,
            exit_on: None,
        },
    )
}

/// Adds 1 to the run counter kept in `file` (missing = 0) and returns it.
fn bump_counter(file: &str) -> u64 {
    let count = fs::read_to_string(file)
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(0)
        + 1;
    fs::write(file, format!("{count}\n")).expect("write counter file");
    count
}

/// `exit-seq FILE CODE...`: run k (counted in FILE) writes "run k <pid>" and
/// exits with the k-th CODE at once; runs past the list write "run k <pid>",
/// then behave like `sigprint` ("ready <pid>", one "signal <n>" per signal).
/// Scripts a daemon's history, e.g. fail, ask for a restart, fail, ask...
fn exit_seq(rest: &[String]) -> ! {
    let file = rest.first().unwrap_or_else(|| usage());
    let codes: Vec<i32> = rest[1..]
        .iter()
        .map(|c| c.parse().unwrap_or_else(|_| usage()))
        .collect();
    if codes.is_empty() {
        usage()
    }
    let set = block(&catchable());
    let count = bump_counter(file);
    out(&format!("run {count} {}", pid()));
    if let Some(&code) = usize::try_from(count - 1).ok().and_then(|i| codes.get(i)) {
        exit(code);
    }
    out(&format!("ready {}", pid()));
    signal_loop(
        "signal",
        &set,
        &SigOpts {
            ignore_term: false,
            exit_on: None,
        },
    )
}

fn bind(port: u16) -> TcpListener {
    // std sets SO_REUSEADDR on Unix listeners.
    match TcpListener::bind(("127.0.0.1", port)) {
        Ok(l) => l,
        Err(e) => {
            out(&format!("bind failed {port} {e}"));
            eprintln!("fixture: bind 127.0.0.1:{port}: {e}");
            exit(98)
        }
    }
}

/// Logs signals; on TERM/INT/QUIT closes the sockets and exits 0.
fn serve(listeners: Vec<TcpListener>, set: &libc::sigset_t) -> ! {
    loop {
        let s = wait_signal(set);
        out(&format!("signal {s}"));
        if matches!(s, libc::SIGTERM | libc::SIGINT | libc::SIGQUIT) {
            drop(listeners);
            exit(0);
        }
    }
}

/// `listen PORT... [--linger-child]`: listen on 127.0.0.1:PORT each. With
/// `--linger-child`, a child keeps the sockets open and ignores TERM after the
/// daemon is gone (a port held by a straggler of the old generation).
fn listen(rest: &[String]) -> ! {
    let ports: Vec<u16> = positionals(rest, &[])
        .iter()
        .map(|p| p.parse().unwrap_or_else(|_| usage()))
        .collect();
    if ports.is_empty() {
        usage()
    }
    let set = block(&catchable());
    let listeners: Vec<TcpListener> = ports.iter().map(|&p| bind(p)).collect();
    for p in &ports {
        out(&format!("listening {p}"));
    }
    if has_flag(rest, "--linger-child") {
        let holder = fork();
        if holder == 0 {
            reset_signals();
            // SAFETY: installing SIG_IGN is always sound.
            unsafe { libc::signal(libc::SIGTERM, libc::SIG_IGN) };
            let _keep = &listeners;
            sleep_forever()
        }
        // Written by the parent, so it always precedes "ready".
        out(&format!("holder {holder}"));
    }
    out(&format!("ready {}", pid()));
    serve(listeners, &set)
}

/// `config-daemon CONFIG`: a daemon whose port comes from its own config
/// ("port=NNNN"); a bad config is a start-up failure with exit 3.
fn config_daemon(rest: &[String]) -> ! {
    let path = rest.first().unwrap_or_else(|| usage());
    let port = fs::read_to_string(path).ok().and_then(|text| {
        text.lines().find_map(|l| {
            l.trim()
                .strip_prefix("port=")
                .and_then(|p| p.trim().parse::<u16>().ok())
        })
    });
    let Some(port) = port.filter(|&p| p != 0) else {
        eprintln!("bad config");
        out("bad config");
        exit(3)
    };
    let set = block(&catchable());
    let listener = bind(port);
    out(&format!("listening {port}"));
    out(&format!("ready {}", pid()));
    serve(vec![listener], &set)
}

/// `notify [--delay-ms N] [--status TEXT] [--keepalive-ms N] [--keepalives K]
/// [--trigger-after-ms N]`: systemd-style readiness over $NOTIFY_SOCKET (a
/// path, or "@name" for the abstract namespace).
///
/// At start, when ctlinit passed `WATCHDOG_USEC` or `WATCHDOG_PID`, it logs
/// "watchdog usec=<WATCHDOG_USEC> pid=<WATCHDOG_PID> self=<getpid>" ("-" for
/// an unset one). After `READY=1` ("notified"): with `--keepalive-ms N` it
/// sends `WATCHDOG=1` every N ms and logs "keepalive <k>" after each; with
/// `--keepalives K` it stops after K of them but keeps running (a hung
/// daemon); with `--trigger-after-ms N` it sends `WATCHDOG=trigger` once, N ms
/// after `READY=1`, and logs "trigger". Signals have their default actions
/// from "notified" on (TERM kills it: status 143), except that each message
/// is sent and logged with signals held, so a sent one is always logged.
fn notify(rest: &[String]) -> ! {
    let ms = |flag: &str| -> Option<u64> {
        flag_value(rest, flag).map(|v| v.parse().unwrap_or_else(|_| usage()))
    };
    let delay = ms("--delay-ms").unwrap_or(0);
    let keepalive = ms("--keepalive-ms");
    let keepalives = ms("--keepalives");
    let trigger = ms("--trigger-after-ms");
    let status = flag_value(rest, "--status");
    let usec = std::env::var("WATCHDOG_USEC").ok();
    let wpid = std::env::var("WATCHDOG_PID").ok();
    if usec.is_some() || wpid.is_some() {
        out(&format!(
            "watchdog usec={} pid={} self={}",
            usec.as_deref().unwrap_or("-"),
            wpid.as_deref().unwrap_or("-"),
            pid()
        ));
    }
    sleep_secs(delay as f64 / 1000.0);
    let Some(target) = std::env::var_os("NOTIFY_SOCKET") else {
        out("notify failed: NOTIFY_SOCKET unset");
        exit(1)
    };
    let target = target.to_string_lossy().into_owned();
    // ctlinit may stop this generation the instant READY=1 arrives (a restart
    // requested while starting); hold signals until the line below is written
    // so the log never misses a notification that was sent.
    let held = block(&catchable());
    let sent = (|| -> std::io::Result<(UnixDatagram, SocketAddr)> {
        let addr = match target.strip_prefix('@') {
            Some(name) => {
                use std::os::linux::net::SocketAddrExt;
                SocketAddr::from_abstract_name(name.as_bytes())?
            }
            None => SocketAddr::from_pathname(&target)?,
        };
        let sock = UnixDatagram::unbound()?;
        if let Some(text) = status {
            sock.send_to_addr(format!("STATUS={text}").as_bytes(), &addr)?;
        }
        sock.send_to_addr(b"READY=1", &addr)?;
        Ok((sock, addr))
    })();
    let (sock, addr) = match sent {
        Ok(pair) => {
            out("notified");
            pair
        }
        Err(e) => {
            out(&format!("notify failed: {target}: {e}"));
            exit(1)
        }
    };
    // SAFETY: valid set pointer; pending signals are delivered here.
    unsafe { libc::sigprocmask(libc::SIG_UNBLOCK, &held, std::ptr::null_mut()) };
    if keepalive.is_none() && trigger.is_none() {
        // Nothing more to send: keep no socket open.
        drop(sock);
        sleep_forever()
    }
    let ready = Instant::now();
    let mut sent_keepalives = 0u64;
    let mut trigger = trigger;
    loop {
        // Due times in ms after READY=1; keep-alives on a fixed grid (no drift).
        let next_keepalive = keepalive
            .filter(|_| keepalives.is_none_or(|k| sent_keepalives < k))
            .map(|n| n * (sent_keepalives + 1));
        let (at, is_trigger) = match (next_keepalive, trigger) {
            (Some(k), Some(t)) if t <= k => (t, true),
            (Some(k), _) => (k, false),
            (None, Some(t)) => (t, true),
            (None, None) => sleep_forever(),
        };
        let due = ready + Duration::from_millis(at);
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
        let msg: &[u8] = if is_trigger {
            b"WATCHDOG=trigger"
        } else {
            b"WATCHDOG=1"
        };
        // As for READY=1: a trigger stops us at once, so signals wait until
        // the line saying it was sent is written.
        block(&catchable());
        if let Err(e) = sock.send_to_addr(msg, &addr) {
            out(&format!("notify failed: {target}: {e}"));
            exit(1)
        }
        if is_trigger {
            trigger = None;
            out("trigger");
        } else {
            sent_keepalives += 1;
            out(&format!("keepalive {sent_keepalives}"));
        }
        // SAFETY: valid set pointer; pending signals are delivered here.
        unsafe { libc::sigprocmask(libc::SIG_UNBLOCK, &held, std::ptr::null_mut()) };
    }
}

/// `fork-sleep`: a daemon with a child in its process group; both sleep with
/// default dispositions.
fn fork_sleep() -> ! {
    let child = fork();
    if child == 0 {
        sleep_forever()
    }
    out(&format!("ready {} {child}", pid()));
    sleep_forever()
}

/// `hog MIB`: "hog <pid>", then allocates MIB MiB in 1 MiB steps, writing
/// every byte (so every page is charged to its memory cgroup) and logging
/// "allocated <n>" after each; then "ready <pid>" and behaves like `sigprint`.
/// Under a memory limit below MIB it dies of the OOM killer's SIGKILL.
fn hog(rest: &[String]) -> ! {
    let mib: usize = int_arg(rest, 0, "MIB");
    let set = block(&catchable());
    out(&format!("hog {}", pid()));
    let mut held: Vec<Vec<u8>> = Vec::with_capacity(mib);
    for n in 1..=mib {
        // A non-zero fill is a real write to every page (zeroed memory could
        // stay unbacked); black_box keeps the writes from being optimised out.
        held.push(std::hint::black_box(vec![0xa5u8; 1 << 20]));
        out(&format!("allocated {n}"));
    }
    std::hint::black_box(&held);
    out(&format!("ready {}", pid()));
    signal_loop(
        "signal",
        &set,
        &SigOpts {
            ignore_term: false,
            exit_on: None,
        },
    )
}
