//! The PID file's record as data (SPEC §5): what the supervisor publishes
//! at every state change. Writing it atomically is `files::pidfile`'s job;
//! the verbs read it back with the same type.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastExit {
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub status: i32,
    /// The run was ended by the kernel's OOM killer (§8a).
    #[serde(default)]
    pub oom_kill: bool,
}

/// The last `--check` run (§8b).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastCheck {
    pub status: i32,
    pub at_ms: u64,
    pub ok: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub pid: Option<i32>,
    pub generation: u64,
    pub state: String,
    pub supervisor_pid: i32,
    pub started_at_ms: u64,
    pub exits: u64,
    pub restarts: u64,
    #[serde(default)]
    pub oom_kills: u64,
    pub last_exit: Option<LastExit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_check: Option<LastCheck>,
    pub command: Vec<String>,
    pub version: String,
    /// The supervisor's start time in clock ticks since boot: with
    /// `supervisor_pid` it proves which process wrote this file (a pid
    /// alone may have been reused).
    #[serde(default)]
    pub supervisor_start: u64,
}

/// The PID file's `state` values.
pub mod state {
    pub const STARTING: &str = "starting";
    pub const READY: &str = "ready";
    pub const DRAINING: &str = "draining";
    pub const STOPPING: &str = "stopping";
    pub const BACKOFF: &str = "backoff";
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn sample() -> Record {
        Record {
            pid: None,
            generation: 3,
            state: "backoff".into(),
            supervisor_pid: 1,
            started_at_ms: 1_763_900_000_000,
            exits: 3,
            restarts: 2,
            oom_kills: 1,
            last_exit: Some(LastExit {
                code: None,
                signal: Some(9),
                status: 137,
                oom_kill: true,
            }),
            last_check: None,
            command: vec!["mydaemon".into(), "--flag".into()],
            version: "0.1.0".into(),
            supervisor_start: 4242,
        }
    }

    #[test]
    fn encodes_one_line_in_the_contracts_field_order() {
        let s = serde_json::to_string(&sample()).unwrap();
        assert_eq!(
            s,
            r#"{"pid":null,"generation":3,"state":"backoff","supervisor_pid":1,"started_at_ms":1763900000000,"exits":3,"restarts":2,"oom_kills":1,"last_exit":{"code":null,"signal":9,"status":137,"oom_kill":true},"command":["mydaemon","--flag"],"version":"0.1.0","supervisor_start":4242}"#
        );
        let back: Record = serde_json::from_str(&s).unwrap();
        assert_eq!(back, sample());
    }

    #[test]
    fn a_check_is_recorded_after_the_last_exit() {
        let mut r = sample();
        r.last_check = Some(LastCheck {
            status: 1,
            at_ms: 5,
            ok: false,
        });
        let s = serde_json::to_string(&r).unwrap();
        assert!(
            s.contains(r#""last_check":{"status":1,"at_ms":5,"ok":false},"command""#),
            "{s}"
        );
    }
}
