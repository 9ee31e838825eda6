//! Issue 3, points 5, 6 and 9 through the real binary: the port handoff
//! (SPEC §9), readiness modes and the readiness timeout (§2, §14.4), and the
//! "change port" scenario (config port A -> B under --watch --ready listen).
//!
//! Ports: 31000–31999 on 127.0.0.1, a distinct block of 20 per test (the
//! second half of a block for PID-1 mode), skipping any port that is busy.

#[macro_use]
mod common;

use common::*;
use std::fs;
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

const T: f64 = 10.0;

// ------------------------------------------------------------------ helpers

/// A TCP port for test `slot` in `mode`, from 31000 + 20*slot (+10 in PID-1
/// mode): the first of ten that nothing listens on.
fn port(slot: u16, mode: Mode) -> u16 {
    let base = 31000 + slot * 20 + if mode == Mode::Pid1 { 10 } else { 0 };
    (base..base + 10)
        .find(|&p| !port_listening(p))
        .unwrap_or_else(|| panic!("ports {base}..{} are all busy", base + 10))
}

fn wait_gone(pid: i32, what: &str) {
    ok(wait_until(
        &format!("{what} (host pid {pid}) to be gone"),
        secs(5.0),
        || (!alive(pid)).then_some(()),
        String::new,
    ));
}

/// `ctlinit status --json --pidfile PF`: (exit code, raw stdout, parsed).
fn status_json(dir: &TestDir, pidfile: &std::path::Path) -> (Option<i32>, String, Value) {
    let ran = run_ctlinit(
        dir,
        "status",
        &["status", "--json", "--pidfile", pidfile.to_str().unwrap()],
        &[],
        secs(T),
    );
    let v = serde_json::from_str(ran.stdout.trim())
        .unwrap_or_else(|e| panic!("status --json printed no JSON ({e}): {ran:?}"));
    (ran.code, ran.stdout, v)
}

/// Does stderr name `port` (as a whole number) on an error line?
fn error_line_naming(ctl: &Ctl, port: u16) -> Option<String> {
    let p = port.to_string();
    ctl.stderr_lines().into_iter().find(|l| {
        l.starts_with("ctlinit: error:") && l.split(|c: char| !c.is_ascii_digit()).any(|w| w == p)
    })
}

// ------------------------------------------------------------------ 5. port handoff

/// The old generation's grandchild keeps the port after TERM (fixture listen
/// --linger-child, it ignores TERM). It is in ctlinit's tree, so it is killed;
/// then the new generation starts, binds the same port (no EADDRINUSE) and
/// listens.
fn lingering_grandchild_is_killed_then_next_generation_listens(mode: Mode) {
    let dir = TestDir::new("linger");
    let p = port(0, mode);
    let ps = p.to_string();
    let mut ctl = Ctl::builder(&dir, mode)
        .args([
            "--reload-signal",
            "HUP",
            "--port",
            &ps,
            "--stop-timeout",
            "1s",
            "--port-timeout",
            "1s",
        ])
        .fixture(&["listen", &ps, "--linger-child"])
        .spawn();
    let holder = ok(ctl.wait_out_pids("holder", secs(T)))[0];
    let holder_host = ctl.host_pid(holder).expect("holder's host pid");
    wait_gen_ready(&ctl, 1, T);
    assert!(port_listening(p));
    let t0 = Instant::now();
    ctl.signal(libc::SIGHUP);
    let v = wait_gen_ready(&ctl, 2, 15.0);
    assert!(t0.elapsed() < secs(8.0), "handoff took {:?}", t0.elapsed());
    assert!(
        !alive(holder_host),
        "the old generation's port holder must be gone before generation 2 starts"
    );
    assert_eq!(
        (v["exits"].as_u64(), v["restarts"].as_u64()),
        (Some(1), Some(1)),
        "{v}"
    );
    let lines = ctl.out_lines();
    assert_eq!(
        count_lines(&lines, &format!("listening {p}")),
        2,
        "{lines:?}"
    );
    assert!(
        !lines.iter().any(|l| l.starts_with("bind failed")),
        "generation 2 was started into a taken port: {lines:?}"
    );
    assert_eq!(ready_lines(&ctl), 2);
    assert!(port_listening(p));
    ctl.signal(libc::SIGTERM);
    assert_eq!(
        ctl.wait_code(secs(T)),
        Ok(0),
        "the daemon exits 0 on TERM{}",
        ctl.context()
    );
    assert_summary(
        &ctl,
        "status=0 generation=2 exits=2 restarts=1 reason=stopped",
    );
    // Generation 2's holder ignored TERM too: it must not outlive ctlinit.
    ok(wait_port_free(p, secs(3.0)));
}

/// A TERM that arrives during the handoff (the old generation exited, its
/// straggler still holds the port, state `backoff`) stops everything: the
/// straggler is killed, nothing new starts, the last run's status is kept.
fn term_during_port_handoff_stops_everything(mode: Mode) {
    let dir = TestDir::new("linger-term");
    let p = port(1, mode);
    let ps = p.to_string();
    let mut ctl = Ctl::builder(&dir, mode)
        .args([
            "--reload-signal",
            "HUP",
            "--port",
            &ps,
            "--stop-timeout",
            "3s",
            "--restart",
            "always",
            "--backoff",
            "10ms",
        ])
        .fixture(&["listen", &ps, "--linger-child"])
        .spawn();
    let holder = ok(ctl.wait_out_pids("holder", secs(T)))[0];
    let holder_host = ctl.host_pid(holder).expect("holder's host pid");
    wait_gen_ready(&ctl, 1, T);
    let t0 = Instant::now();
    ctl.signal(libc::SIGHUP);
    let v = ok(ctl.wait_state("backoff", secs(T)));
    assert_eq!((generation(&v), v["pid"].clone()), (1, Value::Null), "{v}");
    assert!(
        port_listening(p) && alive(holder_host),
        "the straggler still holds the port (mid-handoff)"
    );
    ctl.signal(libc::SIGTERM);
    assert_eq!(
        ctl.wait_code(secs(T)),
        Ok(0),
        "the last run's status{}",
        ctl.context()
    );
    assert!(
        t0.elapsed() < secs(6.0),
        "one 3 s deadline for the whole stop: {:?}",
        t0.elapsed()
    );
    assert_summary(
        &ctl,
        "status=0 generation=1 exits=1 restarts=0 reason=stopped",
    );
    wait_gone(holder_host, "the straggler");
    ok(wait_port_free(p, secs(3.0)));
    assert_eq!(
        ready_lines(&ctl),
        1,
        "nothing starts after the stop{}",
        ctl.context()
    );
}

/// A port held outside ctlinit's tree (a listener of this test) before the
/// first spawn: after --port-timeout ctlinit exits 69, names the port (and,
/// where it can see it, the holder's pid), starts nothing; generation=0.
fn port_held_outside_the_tree_before_first_spawn(mode: Mode) {
    let dir = TestDir::new("port-busy-first");
    let p = port(2, mode);
    let ps = p.to_string();
    let _held = TcpListener::bind(("127.0.0.1", p)).expect("bind the test's own listener");
    let t0 = Instant::now();
    let mut ctl = Ctl::builder(&dir, mode)
        .args(["--port", &ps, "--port-timeout", "500ms"])
        .fixture(&["listen", &ps])
        .spawn();
    assert_eq!(ctl.wait_code(secs(T)), Ok(69), "{}", ctl.context());
    assert_between(
        "exit after --port-timeout 500ms",
        t0.elapsed(),
        secs(0.45),
        secs(6.0),
    );
    let line = error_line_naming(&ctl, p)
        .unwrap_or_else(|| panic!("no error line naming port {p}{}", ctl.context()));
    if mode == Mode::Subreaper {
        let me = std::process::id().to_string();
        assert!(
            line.contains(&me),
            "the holder's pid {me} is visible and must be named: {line}"
        );
    }
    assert_summary(
        &ctl,
        "status=69 generation=0 exits=0 restarts=0 reason=port-busy",
    );
    assert!(
        ctl.out_lines().is_empty(),
        "nothing may be spawned into a taken port: {:?}",
        ctl.out_lines()
    );
    assert!(!ctl.pidfile.exists());
}

/// §9: a port held outside the tree but released within --port-timeout is
/// waited for (polling), then the daemon starts into the free port.
#[test]
fn waits_for_a_port_released_within_port_timeout() {
    let dir = TestDir::new("port-released");
    let p = port(8, Mode::Subreaper);
    let ps = p.to_string();
    let held = TcpListener::bind(("127.0.0.1", p)).expect("bind the test's own listener");
    let t0 = Instant::now();
    let mut ctl = Ctl::builder(&dir, Mode::Subreaper)
        .args(["--port", &ps, "--port-timeout", "5s"])
        .fixture(&["listen", &ps])
        .spawn();
    thread::sleep(Duration::from_millis(700));
    assert!(
        ctl.exited().is_none(),
        "ctlinit must wait for the port{}",
        ctl.context()
    );
    assert!(
        ctl.out_lines().is_empty(),
        "nothing may start while the port is taken: {:?}",
        ctl.out_lines()
    );
    drop(held);
    wait_gen_ready(&ctl, 1, T);
    assert!(t0.elapsed() >= secs(0.7));
    let lines = ctl.out_lines();
    assert_eq!(
        lines.first().map(String::as_str),
        Some(format!("listening {p}").as_str()),
        "{lines:?}"
    );
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(0));
    assert_summary(
        &ctl,
        "status=0 generation=1 exits=1 restarts=0 reason=stopped",
    );
}

/// The port is taken by an outside process between generations: the restart
/// stops the old generation, then ctlinit exits 69 without spawning the next.
/// Generation 1 runs with `--port P`; then the test itself binds P (a holder
/// outside ctlinit's tree) and asks for a restart with HUP, so the next start
/// has to wait for P. Returns the supervisor, P and the test's listener.
fn port_taken_then_reload(dir: &TestDir, slot: u16, port_timeout: &str) -> (Ctl, u16, TcpListener) {
    let p = port(slot, Mode::Subreaper);
    let ps = p.to_string();
    let mut ctl = Ctl::builder(dir, Mode::Subreaper)
        .args(["--port", &ps, "--ready", "none", "--reload-signal", "HUP"])
        .args(["--port-timeout", port_timeout, "--restart", "always"])
        .fixture(&["sigprint"])
        .spawn();
    ok(ctl.wait_ready_pid(secs(T)));
    wait_gen_ready(&ctl, 1, T);
    let held = TcpListener::bind(("127.0.0.1", p)).expect("bind the test's own listener");
    ctl.signal(libc::SIGHUP);
    (ctl, p, held)
}

#[test]
fn port_taken_between_generations_exits_69_without_spawning() {
    let dir = TestDir::new("port-busy-restart");
    let (mut ctl, p, _held) = port_taken_then_reload(&dir, 3, "500ms");
    assert_eq!(ctl.wait_code(secs(T)), Ok(69), "{}", ctl.context());
    let line = error_line_naming(&ctl, p)
        .unwrap_or_else(|| panic!("no error line naming port {p}{}", ctl.context()));
    let me = std::process::id().to_string();
    assert!(
        line.contains(&me),
        "the holder's pid {me} must be named: {line}"
    );
    assert_summary(
        &ctl,
        "status=69 generation=1 exits=1 restarts=0 reason=port-busy",
    );
    assert_eq!(
        ready_lines(&ctl),
        1,
        "generation 2 must never be spawned into a taken port"
    );
}

/// A TERM while ctlinit waits for a port held outside its tree (between
/// generations, state `backoff`): ctlinit exits at once, reason=stopped, with
/// the last run's status, and never spawns the next generation.
#[test]
fn term_while_waiting_for_a_port_exits_at_once() {
    let dir = TestDir::new("port-wait-term");
    let (mut ctl, _, held) = port_taken_then_reload(&dir, 9, "30s");
    let v = ok(ctl.wait_pidfile(|v| v["state"] == "backoff" && v["exits"] == 1, secs(T)));
    assert_eq!(v["pid"], Value::Null, "{v}");
    thread::sleep(Duration::from_millis(200));
    let t0 = Instant::now();
    ctl.signal(libc::SIGTERM);
    assert_eq!(
        ctl.wait_code(secs(T)),
        Ok(143),
        "the last run's status (TERM from the restart){}",
        ctl.context()
    );
    assert!(
        t0.elapsed() < secs(2.0),
        "exit at once, took {:?}",
        t0.elapsed()
    );
    assert_summary(
        &ctl,
        "status=143 generation=1 exits=1 restarts=0 reason=stopped",
    );
    drop(held);
    thread::sleep(Duration::from_millis(100));
    assert_eq!(ready_lines(&ctl), 1, "nothing starts after the stop");
}

// ------------------------------------------------------------------ 6. readiness

/// `--ready port` (the default with --port): `starting` (with the daemon's
/// pid, `health` says 1) until the port listens, then `ready` ("ready in N
/// ms" logged, `health` 0).
#[test]
fn ready_port_starting_then_ready() {
    let dir = TestDir::new("ready-port");
    let p = port(4, Mode::Subreaper);
    let ps = p.to_string();
    let script = format!("sleep 0.8; exec '{}' listen {ps}", fixture_str());
    let mut ctl = Ctl::builder(&dir, Mode::Subreaper)
        .args(["--port", &ps])
        .args(["sh", "-c", &script])
        .spawn();
    let v = ok(ctl.wait_state("starting", secs(T)));
    assert!(v["pid"].is_i64() && generation(&v) == 1, "{v}");
    let pf = ctl.pidfile.to_str().unwrap().to_owned();
    let h = run_ctlinit(&dir, "health1", &["health", "--pidfile", &pf], &[], secs(T));
    assert_eq!(h.code, Some(1), "health while starting: {h:?}");
    let v = wait_gen_ready(&ctl, 1, T);
    assert!(port_listening(p), "ready before the port listens: {v}");
    let h = run_ctlinit(&dir, "health2", &["health", "--pidfile", &pf], &[], secs(T));
    assert_eq!(h.code, Some(0), "health when ready: {h:?}");
    let line = ok(ctl.wait_stderr(|l| l.contains("ready in"), secs(T)));
    let ms: u64 = line
        .split("ready in ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no number in {line:?}"));
    assert!(
        ms >= 700,
        "ready reported after {ms} ms, the daemon listened only after 800 ms: {line}"
    );
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(0));
}

/// `--ready listen`: ready when the daemon's group listens on any port — here
/// one it read from its own config file, unknown to ctlinit.
fn ready_listen_any_port(mode: Mode) {
    let dir = TestDir::new("ready-listen");
    let p = port(5, mode);
    let cfg = dir.join("app.conf");
    fs::write(&cfg, format!("port={p}\n")).unwrap();
    let script = format!(
        "sleep 0.8; exec '{}' config-daemon '{}'",
        fixture_str(),
        cfg.to_str().unwrap()
    );
    let mut ctl = Ctl::builder(&dir, mode)
        .args(["--ready", "listen"])
        .args(["sh", "-c", &script])
        .spawn();
    let v = ok(ctl.wait_state("starting", secs(T)));
    assert!(v["pid"].is_i64(), "{v}");
    assert!(!port_listening(p));
    wait_gen_ready(&ctl, 1, T);
    assert!(port_listening(p), "ready before the daemon listened");
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(0));
}

/// `--ready notify`: `starting` until READY=1; STATUS= is logged at info.
fn ready_notify_status_then_ready(mode: Mode) {
    let dir = TestDir::new("ready-notify");
    let mut ctl = Ctl::builder(&dir, mode)
        .args(["--ready", "notify"])
        .fixture(&[
            "notify",
            "--delay-ms",
            "800",
            "--status",
            "warming up caches",
        ])
        .spawn();
    let v = ok(ctl.wait_state("starting", secs(T)));
    assert!(v["pid"].is_i64(), "{v}");
    assert!(
        !ctl.out_lines().iter().any(|l| l == "notified"),
        "starting must be seen before READY=1"
    );
    ok(ctl.wait_out(|l| l == "notified", secs(T)));
    wait_gen_ready(&ctl, 1, T);
    let line = ok(ctl.wait_stderr(|l| l.contains("warming up caches"), secs(T)));
    assert!(
        line.starts_with("ctlinit: ")
            && !line.starts_with("ctlinit: warn")
            && !line.starts_with("ctlinit: error"),
        "STATUS= is logged at info: {line}"
    );
    ctl.signal(libc::SIGTERM);
    assert_eq!(
        ctl.wait_code(secs(T)),
        Ok(143),
        "the notify fixture dies of TERM"
    );
}

/// §14.4: a readiness timeout stops the daemon (TERM -> 143) and counts as a
/// failure: with on-failure it restarts, and --max-restarts 1 gives up after
/// the second run.
fn ready_timeout_counts_as_failure(mode: Mode) {
    let dir = TestDir::new("ready-timeout");
    // Before the spawn: resolving the PID-1 namespace's init takes a while,
    // and ctlinit's clock starts when it starts.
    let t0 = Instant::now();
    let mut ctl = Ctl::builder(&dir, mode)
        .args(["--ready", "notify", "--ready-timeout", "400ms"])
        .args([
            "--restart",
            "on-failure",
            "--max-restarts",
            "1",
            "--backoff",
            "10ms",
        ])
        .fixture(&["sigprint"])
        .spawn();
    let v = ok(ctl.wait_pidfile(|v| generation(v) == 2, secs(T)));
    assert_eq!(
        v["last_exit"]["status"], 143,
        "generation 1 was stopped with TERM: {v}"
    );
    assert_eq!(ctl.wait_code(secs(T)), Ok(143), "{}", ctl.context());
    assert!(
        t0.elapsed() >= secs(0.75),
        "two 400 ms readiness timeouts: {:?}",
        t0.elapsed()
    );
    assert_summary(
        &ctl,
        "status=143 generation=2 exits=2 restarts=1 reason=gave-up",
    );
    let lines = ctl.out_lines();
    assert_eq!(count_lines(&lines, "signal 15"), 2, "{lines:?}");
    assert_eq!(ready_lines(&ctl), 2);
}

/// A readiness timeout with policy `no`: the daemon is stopped and ctlinit
/// exits with what it died of.
#[test]
fn ready_timeout_with_policy_no() {
    let dir = TestDir::new("ready-timeout-no");
    let mut ctl = Ctl::builder(&dir, Mode::Subreaper)
        .args(["--ready", "listen", "--ready-timeout", "300ms"])
        .fixture(&["sigprint"])
        .spawn();
    ok(ctl.wait_ready_pid(secs(T)));
    assert_eq!(ctl.wait_code(secs(T)), Ok(143), "{}", ctl.context());
    assert_summary(
        &ctl,
        "status=143 generation=1 exits=1 restarts=0 reason=daemon-exited",
    );
}

// ------------------------------------------------------------------ 9. change port

/// The "change port" scenario: config-daemon on port A under
/// `--watch CONFIG --ready listen`; the config is rewritten to port B; the
/// new generation listens on B, A refuses connections, `ctlinit status
/// --json` shows `"ports":[B]`, and the generation advanced by exactly 1.
fn change_port(mode: Mode) {
    let dir = TestDir::new("change-port");
    let a = port(6, mode);
    let b = port(7, mode);
    let cfg = dir.join("app.conf");
    fs::write(&cfg, format!("port={a}\n")).unwrap();
    let mut ctl = Ctl::builder(&dir, mode)
        .arg("--watch")
        .arg(&cfg)
        .args(["--ready", "listen"])
        .fixture(&["config-daemon", cfg.to_str().unwrap()])
        .spawn();
    wait_gen_ready(&ctl, 1, T);
    assert!(port_listening(a));
    let (code, raw, v) = status_json(&dir, &ctl.pidfile);
    assert_eq!(code, Some(0), "{raw}");
    assert_eq!(v["ports"], serde_json::json!([a]), "{raw}");

    fs::write(&cfg, format!("port={b}\n")).unwrap();
    let v = wait_gen_ready(&ctl, 2, 15.0);
    assert_eq!(v["restarts"], 1, "{v}");
    assert!(port_listening(b), "generation 2 listens on B={b}");
    match TcpStream::connect_timeout(&([127, 0, 0, 1], a).into(), Duration::from_secs(2)) {
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {}
        other => panic!("port A={a} must refuse connections after the change, got {other:?}"),
    }
    TcpStream::connect(("127.0.0.1", b)).expect("port B accepts connections");
    let (code, raw, v) = status_json(&dir, &ctl.pidfile);
    assert_eq!(code, Some(0), "{raw}");
    assert!(
        raw.contains(&format!("\"ports\":[{b}]")),
        "status --json must show \"ports\":[{b}]: {raw}"
    );
    assert_eq!(
        (generation(&v), v["running"].clone()),
        (2, Value::Bool(true)),
        "{raw}"
    );
    // Exactly one restart, and it stays that way.
    let t0 = Instant::now();
    while t0.elapsed() < secs(1.0) {
        let v = ok(ctl.read_pidfile_json());
        assert_eq!(
            generation(&v),
            2,
            "the generation advanced by more than 1: {v}"
        );
        thread::sleep(POLL);
    }
    let lines = ctl.out_lines();
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("listening "))
            .cloned()
            .collect::<Vec<_>>(),
        [format!("listening {a}"), format!("listening {b}")]
    );
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(0));
    assert_summary(
        &ctl,
        "status=0 generation=2 exits=2 restarts=1 reason=stopped",
    );
}

both_modes!(
    lingering_grandchild_is_killed_then_next_generation_listens,
    term_during_port_handoff_stops_everything,
    port_held_outside_the_tree_before_first_spawn,
    ready_listen_any_port,
    ready_notify_status_then_ready,
    ready_timeout_counts_as_failure,
    change_port,
);
