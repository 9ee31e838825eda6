//! `ctlinit health`: one line, exit 0 when the daemon is `ready`, 1
//! otherwise (starting, draining, stopping, backoff, not running,
//! unreadable) — never 2, which Docker reserves.

use super::{lookup, Lookup};
use crate::cli::Target;
use crate::error::status::verb;

/// Exits only 0 or 1 (Docker reserves 2).
pub fn health(target: &Target) -> i32 {
    match lookup(target) {
        Lookup::Found(f) if f.proven() && f.rec.state == "ready" => {
            println!(
                "healthy: generation {} (pid {}) ready",
                f.rec.generation,
                f.rec.pid.unwrap_or(0)
            );
            verb::OK
        }
        Lookup::Found(f) if f.proven() => {
            println!(
                "unhealthy: generation {} is {}",
                f.rec.generation, f.rec.state
            );
            verb::FAILED
        }
        Lookup::Found(_) => {
            println!("unhealthy: no supervisor running (stale PID file, or its lock holder is not the supervisor that wrote it)");
            verb::FAILED
        }
        Lookup::NoFile(p) => {
            println!(
                "unhealthy: no supervisor running (no PID file at {})",
                p.display()
            );
            verb::FAILED
        }
        Lookup::Bad(p, e) => {
            println!("unhealthy: cannot read PID file {}: {e}", p.display());
            verb::FAILED
        }
    }
}
