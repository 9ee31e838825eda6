//! ctlinit: a container init that supervises one daemon.
//! Wiring only: parse, log setup, signals, lock, subreaper, loop, exit code.

mod cli;
mod daemon;
mod error;
mod event_loop;
mod exit_status;
#[cfg(test)]
mod fuzz_tests;
mod lock;
mod notify;
mod paths;
mod pidfile;
mod policy;
mod ports;
mod procfs;
mod reaper;
mod signals;
mod spawn;
mod tree;
mod verbs;
mod watch;

use cli::{Config, Invocation};
use error::Error;
use log::LevelFilter;
use std::io::Write;
use std::process::exit;

fn main() {
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    let health = args.first().is_some_and(|a| a == "health");
    let inv = match cli::parse(args, |k| std::env::var(k).ok()) {
        Ok(inv) => inv,
        Err(e) => {
            eprintln!("ctlinit: error: {e}");
            // Docker reserves health status 2: bad usage of `health` is 1.
            exit(if health { 1 } else { e.exit_code() });
        }
    };
    match inv {
        Invocation::Help => {
            print!("{}", cli::HELP);
            exit(0)
        }
        Invocation::Version => {
            println!("ctlinit {}", env!("CARGO_PKG_VERSION"));
            exit(0)
        }
        Invocation::Status { json, target } => exit(verbs::status(json, &target)),
        Invocation::Health { target } => exit(verbs::health(&target)),
        Invocation::Restart { timeout, target } => exit(verbs::restart(timeout, &target)),
        Invocation::Supervise(cfg) => supervise(*cfg),
    }
}

fn supervise(cfg: Config) -> ! {
    init_logging(cfg.log_level);
    // Signals first: nothing that arrives after this can be lost.
    let intake = match signals::Intake::open() {
        Ok(i) => i,
        Err(e) => fail(Error::Config(format!("cannot set up signal handling: {e}"))),
    };
    let (paths, warning) = paths::for_supervisor(cfg.pidfile.as_deref(), cfg.lockfile.as_deref())
        .unwrap_or_else(|e| fail(e));
    let _lock = paths
        .lockfile
        .as_ref()
        .map(|l| lock::acquire(l).unwrap_or_else(|e| fail(e)));
    if let Some(w) = warning {
        log::warn!("{w}");
    }
    // SAFETY: prctl with integer arguments only.
    unsafe {
        // Deadlines (backoff, stop grace) are few and should fire on time:
        // 1 µs of timer slack instead of the default 50 µs.
        libc::prctl(libc::PR_SET_TIMERSLACK, 1000, 0, 0, 0);
        if libc::getpid() != 1 {
            // Outside a PID namespace, orphans of the daemon's tree come to us.
            libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        }
        if let Some(sig) = cfg.pdeathsig {
            let parent = libc::getppid();
            libc::prctl(libc::PR_SET_PDEATHSIG, sig as libc::c_ulong, 0, 0, 0);
            if libc::getppid() != parent {
                // The parent died before the request took effect.
                libc::kill(libc::getpid(), sig);
            }
        }
    }
    let pidfile = paths.pidfile.map(pidfile::PidFile::new);
    let out = event_loop::EventLoop::new(cfg, intake, pidfile).run();
    // Exactly one summary line, last, whatever the log level; one write.
    let summary = format!(
        "ctlinit: exit status={} generation={} exits={} restarts={} reason={}\n",
        out.status,
        out.generation,
        out.exits,
        out.restarts,
        out.reason.as_str()
    );
    let _ = std::io::stderr().write_all(summary.as_bytes());
    exit(out.status)
}

fn fail(e: Error) -> ! {
    log::error!("{e}");
    exit(e.exit_code())
}

fn init_logging(level: LevelFilter) {
    env_logger::Builder::new()
        .filter_level(level)
        .target(env_logger::Target::Stderr)
        .format(|buf, rec| match rec.level() {
            log::Level::Info => writeln!(buf, "ctlinit: {}", rec.args()),
            l => writeln!(
                buf,
                "ctlinit: {}: {}",
                l.as_str().to_ascii_lowercase(),
                rec.args()
            ),
        })
        .init();
}
