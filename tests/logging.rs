//! SPEC §13: every stderr line starts with "ctlinit", info shows each
//! lifecycle step with generation and pid, the summary line is last; -q and
//! CTLINIT_LOG quieten info. Other lines are matched by key words only
//! (DESIGN.md), the summary exactly.

#[macro_use]
mod common;

use common::*;

const T: f64 = 10.0;

/// Index of the first stderr line containing every word, or a panic naming
/// the step.
fn find(lines: &[String], step: &str, words: &[&str]) -> usize {
    lines
        .iter()
        .position(|l| words.iter().all(|w| l.contains(w)))
        .unwrap_or_else(|| {
            panic!(
                "no log line for '{step}' containing {words:?}:\n{}",
                lines.join("\n")
            )
        })
}

/// started -> ready -> stopping -> exited -> summary, each with generation
/// and pid where §13 says so.
fn lifecycle_steps_are_logged_in_order(mode: Mode) {
    let dir = TestDir::new("log-lifecycle");
    let mut ctl = Ctl::builder(&dir, mode).fixture(&["sigprint"]).spawn();
    let pid = ctl.wait_ready_pid(secs(T)).unwrap().to_string();
    ctl.wait_state("ready", secs(T)).unwrap();
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(143));
    let lines: Vec<String> = ctl
        .stderr_lines()
        .into_iter()
        .filter(|l| !l.trim().is_empty())
        .collect();
    for l in &lines {
        assert!(
            l.starts_with("ctlinit"),
            "every line is prefixed 'ctlinit' (§13): {l:?}"
        );
    }
    let started = find(&lines, "started", &["started", "generation 1", &pid]);
    let ready = find(&lines, "ready", &["ready", "generation 1", &pid]);
    let stopping = find(&lines, "stopping", &["stopping"]);
    let exited = find(&lines, "exited", &["exited", "143"]);
    assert!(
        started < ready && ready < stopping && stopping < exited,
        "order started<ready<stopping<exited:\n{}",
        lines.join("\n")
    );
    assert_summary(
        &ctl,
        "status=143 generation=1 exits=1 restarts=0 reason=stopped",
    );
}

/// Restarting (with delay and "failure k of N") and giving up are logged.
fn restart_and_give_up_are_logged(mode: Mode) {
    let dir = TestDir::new("log-restart");
    let mut ctl = Ctl::builder(&dir, mode)
        .args([
            "--restart",
            "on-failure",
            "--max-restarts",
            "2",
            "--backoff",
            "10ms:20ms",
        ])
        .fixture(&["exit", "3"])
        .spawn();
    assert_eq!(ctl.wait_code(secs(T)), Ok(3));
    let lines = ctl.stderr_lines();
    find(
        &lines,
        "restarting, first failure",
        &["restarting", "1 of 2"],
    );
    find(
        &lines,
        "restarting, second failure",
        &["restarting", "2 of 2"],
    );
    find(&lines, "started generation 3", &["started", "generation 3"]);
    find(&lines, "giving up", &["giving up"]);
    assert_summary(
        &ctl,
        "status=3 generation=3 exits=3 restarts=2 reason=gave-up",
    );
}

/// -q and CTLINIT_LOG=warn/error hide info lines.
fn quiet_hides_info_lines(mode: Mode) {
    let variants: [(&[&str], Option<&str>); 3] =
        [(&["-q"], None), (&[], Some("warn")), (&[], Some("error"))];
    for (args, env) in variants {
        let dir = TestDir::new("log-quiet");
        let mut b = Ctl::builder(&dir, mode).args(args);
        if let Some(v) = env {
            b = b.env("CTLINIT_LOG", v);
        }
        let mut ctl = b.fixture(&["exit", "0"]).spawn();
        assert_eq!(ctl.wait_code(secs(T)), Ok(0));
        let lines = ctl.stderr_lines();
        assert!(
            !lines.iter().any(|l| l.contains("started")),
            "{args:?} {env:?}: info lines must be hidden:\n{}",
            lines.join("\n")
        );
    }
}

both_modes!(
    lifecycle_steps_are_logged_in_order,
    restart_and_give_up_are_logged,
    quiet_hides_info_lines
);
