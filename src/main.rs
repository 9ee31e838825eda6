//! ctlinit: a container init that supervises one daemon.
//! Wiring only: parse, set up logging, supervise or run a verb, print the
//! summary line, exit with the status `error.rs` chooses.

mod cli;
mod core;
mod error;
mod files;
mod os;
mod run;
mod verbs;

use cli::Invocation;
use log::LevelFilter;
use std::io::Write;
use std::process::exit;

fn main() {
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    let health = args.first().is_some_and(|a| a == "health");
    let inv = match cli::parse(args, |k| std::env::var_os(k)) {
        Ok(inv) => inv,
        Err(e) => {
            eprintln!("ctlinit: error: {e}");
            // Docker reserves health status 2: bad usage of `health` is 1.
            exit(if health {
                error::status::verb::FAILED
            } else {
                e.exit_code()
            });
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
        Invocation::Supervise(cfg) => {
            init_logging(cfg.log_level);
            match run::supervise(*cfg) {
                Ok((end, c)) => {
                    let status = error::exit_status(end.code);
                    // Exactly one summary line, last, whatever the log level; one write.
                    let summary = format!(
                        "ctlinit: exit status={status} generation={} exits={} restarts={} reason={}\n",
                        c.generation,
                        c.exits,
                        c.restarts,
                        end.reason.as_str()
                    );
                    run::logbuf::flush_with(&summary);
                    exit(status)
                }
                Err(e) => {
                    log::error!("{e}");
                    run::logbuf::flush();
                    exit(e.exit_code())
                }
            }
        }
    }
}

fn init_logging(level: LevelFilter) {
    env_logger::Builder::new()
        .filter_level(level)
        .target(env_logger::Target::Pipe(Box::new(run::logbuf::Collector)))
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
