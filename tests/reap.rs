//! SPEC §4 (every reparented child is reaped promptly), §2 `-w`, and the
//! design constraint "one blocking wait, never a busy loop" (§14.15, §14.20):
//! an idle ctlinit uses no CPU and is not even scheduled.

#[macro_use]
mod common;

use common::*;
use std::thread::sleep;

const T: f64 = 10.0;

/// Waits until ctlinit's only descendant is the daemon and it has no zombie
/// children: every orphan was reaped. Returns the largest number of orphans
/// seen as ctlinit's direct children (alive or zombie) meanwhile — proof that
/// they were reparented to ctlinit at all (otherwise "no zombies below
/// ctlinit" would be vacuous).
fn wait_orphans_reaped(ctl: &Ctl, timeout: f64) -> Result<usize, String> {
    let mut max_orphans = 0;
    wait_until(
        "every orphan to be reaped (only the daemon left below ctlinit, no zombies)",
        secs(timeout),
        || {
            let children = all_procs()
                .into_iter()
                .filter(|s| s.ppid == ctl.pid)
                .count();
            max_orphans = max_orphans.max(children.saturating_sub(1));
            (ctl.descendants().len() == 1 && zombies_under(ctl.pid).is_empty())
                .then_some(max_orphans)
        },
        || {
            format!(
                "\ndescendants: {:?}\nzombies: {:?}{}",
                ctl.descendants().len(),
                zombies_under(ctl.pid).len(),
                ctl.context()
            )
        },
    )
}

/// Hundreds of orphans -> zero zombies; the daemon keeps running and its
/// eventual exit status is still reported correctly.
fn hundreds_of_orphans_leave_no_zombies(mode: Mode) {
    let dir = TestDir::new("orphans");
    let mut ctl = Ctl::builder(&dir, mode)
        .fixture(&["orphans", "300"])
        .spawn();
    ctl.wait_out(|l| l == "ready", secs(30.0)).unwrap();
    let reparented = wait_orphans_reaped(&ctl, 15.0).unwrap();
    assert!(
        reparented > 0,
        "no orphan was ever reparented to ctlinit (is it a subreaper?)"
    );
    assert!(ctl.exited().is_none(), "ctlinit must keep running");
    let v = ctl.read_pidfile_json().unwrap();
    assert_eq!(
        v["generation"], 1,
        "orphans' exits are not the daemon's: {v}"
    );
    assert_eq!(v["exits"], 0, "orphans' exits are not the daemon's: {v}");
    ctl.signal(libc::SIGTERM);
    assert_eq!(
        ctl.wait_code(secs(T)),
        Ok(143),
        "the daemon's own status (TERM, default action)"
    );
    assert_summary(
        &ctl,
        "status=143 generation=1 exits=1 restarts=0 reason=stopped",
    );
}

/// The daemon exits at once, leaving its orphans behind: ctlinit stops and
/// reaps them and still exits with the daemon's status (§14.13).
fn daemon_exit_with_orphans_still_running(mode: Mode) {
    let dir = TestDir::new("orphans-exit");
    let mut ctl = Ctl::builder(&dir, mode)
        .args(["--stop-timeout", "5s"])
        .fixture(&["orphans", "50", "--exit"])
        .spawn();
    assert_eq!(ctl.wait_code(secs(T)), Ok(0));
    assert_summary(
        &ctl,
        "status=0 generation=1 exits=1 restarts=0 reason=daemon-exited",
    );
}

/// `-w` logs every reaped orphan at warn level; without it no warning.
fn dash_w_warns_per_orphan(mode: Mode) {
    let n = 5;
    let dir = TestDir::new("dash-w");
    let mut ctl = Ctl::builder(&dir, mode)
        .arg("-w")
        .fixture(&["orphans", &n.to_string()])
        .spawn();
    ctl.wait_out(|l| l == "ready", secs(T)).unwrap();
    wait_orphans_reaped(&ctl, T).unwrap();
    let count = || {
        ctl.stderr_lines()
            .iter()
            .filter(|l| l.starts_with("ctlinit: warn:"))
            .count()
    };
    wait_until(
        &format!("{n} warn lines for {n} orphans"),
        secs(T),
        || (count() >= n).then_some(()),
        || ctl.context(),
    )
    .unwrap();
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(143));

    let dir = TestDir::new("no-dash-w");
    let mut ctl = Ctl::builder(&dir, mode)
        .fixture(&["orphans", &n.to_string()])
        .spawn();
    ctl.wait_out(|l| l == "ready", secs(T)).unwrap();
    wait_orphans_reaped(&ctl, T).unwrap();
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(143));
    let warns: Vec<String> = ctl
        .stderr_lines()
        .into_iter()
        .filter(|l| l.starts_with("ctlinit: warn:"))
        .collect();
    assert!(
        warns.is_empty(),
        "without -w, reaping orphans is not a warning: {warns:?}"
    );
}

/// Measures ctlinit for `window`: CPU ticks and context switches must not
/// move. The only bare sleep in the suite: the measurement window itself.
fn assert_idle(ctl: &Ctl, what: &str, daemon_runs: bool) {
    assert_eq!(
        threads(ctl.pid),
        Some(1),
        "{what}: ctlinit is single-threaded (design constraint)"
    );
    // Let any follow-up work of the last state change settle first.
    sleep(secs(0.3));
    let (t0, c0) = (cpu_ticks(ctl.pid).unwrap(), ctxt_switches(ctl.pid).unwrap());
    sleep(secs(3.0));
    let (t1, c1) = (cpu_ticks(ctl.pid).unwrap(), ctxt_switches(ctl.pid).unwrap());
    assert_eq!(
        !ctl.descendants().is_empty(),
        daemon_runs,
        "{what}: daemon running?"
    );
    assert_eq!(
        t1 - t0,
        0,
        "{what}: ctlinit used {} CPU ticks while idle for 3 s",
        t1 - t0
    );
    assert_eq!(
        c1 - c0,
        0,
        "{what}: ctlinit was scheduled {} times while idle for 3 s (a periodic wake-up?)",
        c1 - c0
    );
}

/// Idle while `ready` with a plain daemon.
fn idle_while_ready(mode: Mode) {
    let dir = TestDir::new("idle");
    let mut ctl = Ctl::builder(&dir, mode).fixture(&["sigprint"]).spawn();
    ctl.wait_ready_pid(secs(T)).unwrap();
    ctl.wait_state("ready", secs(T)).unwrap();
    assert_idle(&ctl, "ready", true);
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(143));
}

/// §14.15: idle too with --watch, --port and --reload-signal configured.
fn idle_with_watch_port_and_reload_configured(mode: Mode) {
    let dir = TestDir::new("idle-config");
    let port = free_port(40);
    let watched = dir.join("watched.conf");
    std::fs::write(&watched, "x=1\n").unwrap();
    let mut ctl = Ctl::builder(&dir, mode)
        .args([
            "--port",
            &port.to_string(),
            "--reload-signal",
            "HUP",
            "--watch",
        ])
        .arg(&watched)
        .fixture(&["listen", &port.to_string()])
        .spawn();
    ctl.wait_ready_pid(secs(T)).unwrap();
    ctl.wait_state("ready", secs(T)).unwrap();
    assert_idle(&ctl, "ready with --watch/--port/--reload-signal", true);
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(0));
}

/// §14.15: idle in backoff (one wake-up at its end, none before).
fn idle_in_backoff(mode: Mode) {
    let dir = TestDir::new("idle-backoff");
    let mut ctl = Ctl::builder(&dir, mode)
        .args(["--restart", "always", "--backoff", "30s"])
        .fixture(&["exit", "3"])
        .spawn();
    ctl.wait_state("backoff", secs(T)).unwrap();
    assert_idle(&ctl, "backoff", false);
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(3));
}

both_modes!(
    hundreds_of_orphans_leave_no_zombies,
    daemon_exit_with_orphans_still_running,
    dash_w_warns_per_orphan,
    idle_while_ready,
    idle_with_watch_port_and_reload_configured,
    idle_in_backoff,
);
