//! `ctlinit status [--json]`: a short summary, or the PID file's object
//! plus `running`, `uptime_ms` and the ports the daemon listens on now.

use super::{lookup, now_ms, Found, Lookup};
use crate::cli::Target;
use crate::error::status::verb;
use crate::files::pidfile::Record;
use crate::os::{ports, procfs};
use std::time::Duration;

/// The daemon's pid as seen from here: the PID file holds it as the
/// supervisor sees it, which differs when we look in from another namespace.
fn local_daemon_pid(f: &Found) -> Option<i32> {
    let pid = f.rec.pid?;
    match f.holder {
        Some(h) if h == f.rec.supervisor_pid => Some(pid),
        Some(h) if h > 0 => {
            // Look for the supervisor's child whose innermost pid is `pid`.
            procfs::all()
                .into_iter()
                .filter(|p| p.ppid == h)
                .map(|p| p.pid)
                .find(|c| {
                    std::fs::read_to_string(format!("/proc/{c}/status"))
                        .ok()
                        .is_some_and(|s| {
                            s.lines()
                                .find(|l| l.starts_with("NSpid:"))
                                .and_then(|l| l.split_ascii_whitespace().last())
                                .and_then(|x| x.parse::<i32>().ok())
                                == Some(pid)
                        })
                })
        }
        _ => None,
    }
}

pub fn status(json: bool, target: &Target) -> i32 {
    let f = match lookup(target) {
        Lookup::NoFile(path) => {
            if json {
                println!(r#"{{"running":false,"uptime_ms":0,"ports":[]}}"#);
            } else {
                println!("not running: no PID file at {}", path.display());
            }
            return verb::NOT_RUNNING;
        }
        Lookup::Bad(path, e) => {
            eprintln!(
                "ctlinit: error: cannot read PID file {}: {e}",
                path.display()
            );
            return verb::UNREADABLE;
        }
        Lookup::Found(f) => f,
    };
    let running = f.proven();
    let ports = if running {
        local_daemon_pid(&f)
            .map(|p| ports::listening_ports_of(&procfs::group_members(p)))
            .unwrap_or_default()
    } else {
        vec![]
    };
    let uptime_ms = match (running, f.rec.pid) {
        (true, Some(_)) => now_ms().saturating_sub(f.rec.started_at_ms),
        _ => 0,
    };
    if json {
        println!("{}", json_line(&f.rec, running, uptime_ms, &ports));
    } else if !running {
        let why = match f.holder {
            None => "its lock is not held",
            Some(_) => "its lock is held by a process that is not the supervisor that wrote it",
        };
        println!(
            "not running: stale PID file (generation {}, supervisor pid {}); {why}",
            f.rec.generation, f.rec.supervisor_pid
        );
    } else {
        let r = &f.rec;
        let pid = r.pid.map_or("none".to_string(), |p| p.to_string());
        println!(
            "running: supervisor pid {}, generation {}, pid {pid}, state {}",
            r.supervisor_pid, r.generation, r.state
        );
        let last = r.last_exit.as_ref().map_or("none".to_string(), |e| {
            let oom = if e.oom_kill { ", OOM-killed" } else { "" };
            format!("status {}{oom}", e.status)
        });
        println!(
            "uptime {}, exits {}, restarts {}, oom kills {}, last exit {last}",
            humantime::format_duration(Duration::from_secs(uptime_ms / 1000)),
            r.exits,
            r.restarts,
            r.oom_kills,
        );
        if let Some(c) = &r.last_check {
            println!(
                "last --check: status {} ({})",
                c.status,
                if c.ok {
                    "passed"
                } else {
                    "refused the restart"
                }
            );
        }
        let list: Vec<String> = ports.iter().map(|p| p.to_string()).collect();
        println!(
            "listening ports: {}",
            if list.is_empty() {
                "none".to_string()
            } else {
                list.join(", ")
            }
        );
    }
    if running {
        verb::OK
    } else {
        verb::NOT_RUNNING
    }
}

/// The PID file's object plus `running`, `uptime_ms` and `ports` (§10).
fn json_line(rec: &Record, running: bool, uptime_ms: u64, ports: &[u16]) -> String {
    // A record always serialises to a non-empty object: reopen it.
    let mut s = serde_json::to_string(rec).unwrap_or_else(|_| "{}".into());
    s.pop();
    let ports: Vec<String> = ports.iter().map(|p| p.to_string()).collect();
    format!(
        "{s},\"running\":{running},\"uptime_ms\":{uptime_ms},\"ports\":[{}]}}",
        ports.join(",")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_line_is_the_record_plus_three_fields() {
        let rec: Record = serde_json::from_str(
            r#"{"pid":7,"generation":2,"state":"ready","supervisor_pid":1,"started_at_ms":5,"exits":1,"restarts":1,"last_exit":null,"command":["d"],"version":"0.1.0"}"#,
        )
        .unwrap();
        let line = json_line(&rec, true, 42, &[80, 443]);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["generation"], 2);
        assert_eq!(v["running"], true);
        assert_eq!(v["uptime_ms"], 42);
        assert_eq!(v["ports"], serde_json::json!([80, 443]));
        let v: serde_json::Value = serde_json::from_str(&json_line(&rec, false, 0, &[])).unwrap();
        assert_eq!(v["ports"], serde_json::json!([]));
    }
}
