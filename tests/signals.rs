//! SPEC §4 (forwarding, stop signals), §2 (-g, --rewrite, -e), §12 (exit
//! status passthrough incl. 128+signal), §13 (summary line), §14.5/14.6.
//! Every behaviour runs both with ctlinit as a subreaper and as PID 1.

#[macro_use]
mod common;

use common::*;

const T: f64 = 10.0;

fn start(dir: &TestDir, mode: Mode, args: &[&str], fixture: &[&str]) -> Ctl {
    Ctl::builder(dir, mode).args(args).fixture(fixture).spawn()
}

fn sig_line(s: i32) -> String {
    format!("signal {s}")
}

/// §4: every catchable signal is forwarded to the daemon, once each; TERM
/// then stops it and ctlinit exits with the daemon's 143.
fn forwards_every_catchable_signal(mode: Mode) {
    let dir = TestDir::new("forward");
    let mut ctl = start(&dir, mode, &[], &["sigprint"]);
    ctl.wait_ready_pid(secs(T)).unwrap();
    let rtmin = libc::SIGRTMIN();
    let rtmax = libc::SIGRTMAX();
    let sigs = [
        libc::SIGHUP,
        libc::SIGUSR1,
        libc::SIGUSR2,
        libc::SIGWINCH,
        libc::SIGCONT,
        libc::SIGALRM,
        libc::SIGPIPE,
        libc::SIGURG,
        libc::SIGTSTP,
        libc::SIGTTIN,
        libc::SIGTTOU,
        libc::SIGPROF,
        libc::SIGVTALRM,
        libc::SIGXCPU,
        libc::SIGPWR,
        rtmin,
        rtmin + 5,
        rtmax,
    ];
    for &s in &sigs {
        ctl.signal(s);
        ctl.wait_out(|l| l == sig_line(s), secs(T))
            .unwrap_or_else(|e| panic!("signal {s} not forwarded: {e}"));
    }
    ctl.signal(libc::SIGTERM);
    ctl.wait_out(|l| l == sig_line(15), secs(T)).unwrap();
    assert_eq!(
        ctl.wait_code(secs(T)),
        Ok(143),
        "daemon's 128+15 is ctlinit's status (§12)"
    );
    let lines = ctl.out_lines();
    for &s in sigs.iter().chain([&libc::SIGTERM]) {
        assert_eq!(
            count_lines(&lines, &sig_line(s)),
            1,
            "signal {s} must arrive exactly once: {lines:?}"
        );
    }
    let signal_lines = lines.iter().filter(|l| l.starts_with("signal ")).count();
    assert_eq!(
        signal_lines,
        sigs.len() + 1,
        "no signal the test did not send: {lines:?}"
    );
    assert_summary(
        &ctl,
        "status=143 generation=1 exits=1 restarts=0 reason=stopped",
    );
    assert!(!ctl.pidfile.exists(), "PID file removed at exit (§5)");
}

/// INT and QUIT are stop requests that are forwarded as themselves.
fn int_and_quit_are_forwarded_and_stop(mode: Mode) {
    for (sig, code) in [(libc::SIGINT, 130), (libc::SIGQUIT, 131)] {
        let dir = TestDir::new("int-quit");
        let mut ctl = start(&dir, mode, &["--restart", "always"], &["sigprint"]);
        ctl.wait_ready_pid(secs(T)).unwrap();
        ctl.signal(sig);
        ctl.wait_out(|l| l == sig_line(sig), secs(T)).unwrap();
        assert_eq!(
            ctl.wait_code(secs(T)),
            Ok(code),
            "signal {sig}: no restart after a stop request (§4)"
        );
        assert_summary(
            &ctl,
            &format!("status={code} generation=1 exits=1 restarts=0 reason=stopped"),
        );
    }
}

/// -g / --pgroup / CTLINIT_PGROUP=1 / TINI_KILL_PROCESS_GROUP=1: signals
/// reach the daemon's whole process group.
fn pgroup_forwards_to_the_group(mode: Mode) {
    type Variant<'a> = (&'a str, &'a [&'a str], Option<(&'a str, &'a str)>);
    let variants: [Variant; 4] = [
        ("g", &["-g"], None),
        ("pgroup", &["--pgroup"], None),
        ("env", &[], Some(("CTLINIT_PGROUP", "1"))),
        ("tini-env", &[], Some(("TINI_KILL_PROCESS_GROUP", "1"))),
    ];
    for (name, args, env) in variants {
        let dir = TestDir::new(name);
        let mut b = Ctl::builder(&dir, mode).args(args);
        if let Some((k, v)) = env {
            b = b.env(k, v);
        }
        let mut ctl = b.fixture(&["sigprint", "--child"]).spawn();
        ctl.wait_ready_pid(secs(T)).unwrap();
        ctl.signal(libc::SIGUSR1);
        ctl.wait_out(|l| l == "signal 10", secs(T)).unwrap();
        ctl.wait_out(|l| l == "child signal 10", secs(T))
            .unwrap_or_else(|e| panic!("{name}: group member missed USR1: {e}"));
        ctl.signal(libc::SIGTERM);
        assert_eq!(ctl.wait_code(secs(T)), Ok(143), "{name}");
        let lines = ctl.out_lines();
        assert_eq!(
            count_lines(&lines, "child signal 15"),
            1,
            "{name}: the group got TERM once: {lines:?}"
        );
    }
}

/// Without -g only the daemon gets forwarded signals; its child only gets
/// the stop signal when ctlinit sweeps the tree after the daemon exits (§4).
fn without_pgroup_only_the_daemon(mode: Mode) {
    let dir = TestDir::new("no-pgroup");
    let mut ctl = start(
        &dir,
        mode,
        &["--stop-timeout", "5s"],
        &["sigprint", "--child"],
    );
    ctl.wait_ready_pid(secs(T)).unwrap();
    ctl.signal(libc::SIGUSR1);
    ctl.wait_out(|l| l == "signal 10", secs(T)).unwrap();
    ctl.signal(libc::SIGTERM);
    ctl.wait_out(|l| l == "signal 15", secs(T)).unwrap();
    // The child logs USR1 before the sweep's TERM if it ever got it:
    // sigwaitinfo returns the lowest pending signal first.
    ctl.wait_out(|l| l == "child signal 15", secs(T))
        .unwrap_or_else(|e| panic!("the leftover child must get the stop signal: {e}"));
    assert_eq!(ctl.wait_code(secs(T)), Ok(143));
    let lines = ctl.out_lines();
    assert_eq!(
        count_lines(&lines, "child signal 10"),
        0,
        "USR1 went to the group without -g: {lines:?}"
    );
}

/// --rewrite FROM:TO, TO=0 drops, in every signal spelling; CTLINIT_REWRITE.
fn rewrite_and_drop(mode: Mode) {
    let variants: [(&str, &[&str], Option<&str>); 3] = [
        ("flags", &["-r", "USR1:USR2", "--rewrite", "SIGHUP:0"], None),
        ("numbers", &["-r", "10:12", "-r", "1:0"], None),
        ("env", &[], Some("sigusr1:SIGUSR2,HUP:0")),
    ];
    for (name, args, env) in variants {
        let dir = TestDir::new(name);
        let mut b = Ctl::builder(&dir, mode).args(args);
        if let Some(v) = env {
            b = b.env("CTLINIT_REWRITE", v);
        }
        let mut ctl = b.fixture(&["sigprint"]).spawn();
        ctl.wait_ready_pid(secs(T)).unwrap();
        ctl.signal(libc::SIGUSR1);
        ctl.wait_out(|l| l == "signal 12", secs(T))
            .unwrap_or_else(|e| panic!("{name}: USR1 not rewritten to USR2: {e}"));
        ctl.signal(libc::SIGHUP);
        // WINCH is the marker: a forwarded HUP (1) would be logged before it.
        ctl.signal(libc::SIGWINCH);
        ctl.wait_out(|l| l == "signal 28", secs(T)).unwrap();
        let lines = ctl.out_lines();
        assert_eq!(
            count_lines(&lines, "signal 10"),
            0,
            "{name}: USR1 must not arrive as itself: {lines:?}"
        );
        assert_eq!(
            count_lines(&lines, "signal 1"),
            0,
            "{name}: HUP:0 must drop HUP: {lines:?}"
        );
        ctl.signal(libc::SIGTERM);
        assert_eq!(ctl.wait_code(secs(T)), Ok(143), "{name}");
    }
}

/// §14.6: `--rewrite TERM:QUIT` forwards QUIT, and the received TERM is still
/// a stop request (no restart under `always`).
fn rewrite_term_to_quit_still_stops(mode: Mode) {
    let dir = TestDir::new("term-quit");
    let mut ctl = start(
        &dir,
        mode,
        &[
            "--restart",
            "always",
            "--backoff",
            "10ms",
            "-r",
            "TERM:QUIT",
        ],
        &["sigprint"],
    );
    ctl.wait_ready_pid(secs(T)).unwrap();
    ctl.signal(libc::SIGTERM);
    ctl.wait_out(|l| l == "signal 3", secs(T)).unwrap();
    assert_eq!(ctl.wait_code(secs(T)), Ok(131));
    assert_eq!(
        count_lines(&ctl.out_lines(), "signal 15"),
        0,
        "TERM must arrive as QUIT"
    );
    let readies = ctl
        .out_lines()
        .iter()
        .filter(|l| l.starts_with("ready "))
        .count();
    assert_eq!(readies, 1, "no restart after a stop request");
    assert_summary(
        &ctl,
        "status=131 generation=1 exits=1 restarts=0 reason=stopped",
    );
}

/// `--rewrite TERM:0`: TERM is dropped, but it is still a stop request, so
/// the group is SIGKILLed after --stop-timeout (§4, §14.6).
fn rewrite_term_to_zero_kills_at_timeout(mode: Mode) {
    let dir = TestDir::new("term-zero");
    let mut ctl = start(
        &dir,
        mode,
        &[
            "--restart",
            "always",
            "-r",
            "TERM:0",
            "--stop-timeout",
            "1s",
        ],
        &["sigprint"],
    );
    ctl.wait_ready_pid(secs(T)).unwrap();
    let t0 = std::time::Instant::now();
    ctl.signal(libc::SIGTERM);
    assert_eq!(
        ctl.wait_code(secs(T)),
        Ok(137),
        "SIGKILL after the stop timeout: 128+9"
    );
    assert_between("stop with TERM dropped", t0.elapsed(), secs(0.8), secs(5.0));
    assert_eq!(
        count_lines(&ctl.out_lines(), "signal 15"),
        0,
        "TERM:0 must not forward TERM"
    );
    assert_summary(
        &ctl,
        "status=137 generation=1 exits=1 restarts=0 reason=stopped",
    );
}

/// §12: the daemon's exit code, or 128+signal, is ctlinit's own status, and
/// the summary line (§13) is the last line, exact.
fn exit_status_passthrough(mode: Mode) {
    let cases: [(&[&str], i32); 8] = [
        (&["exit", "0"], 0),
        (&["exit", "7"], 7),
        (&["exit", "255"], 255),
        (&["kill", "9"], 137),
        (&["kill", "15"], 143),
        (&["kill", "11"], 139),
        (&["kill", "6"], 134),
        (&["kill", "1"], 129),
    ];
    for (fixture, code) in cases {
        let dir = TestDir::new("passthrough");
        let mut ctl = start(&dir, mode, &[], fixture);
        assert_eq!(
            ctl.wait_code(secs(T)),
            Ok(code),
            "{fixture:?}{}",
            ctl.context()
        );
        assert_summary(
            &ctl,
            &format!("status={code} generation=1 exits=1 restarts=0 reason=daemon-exited"),
        );
        assert!(!ctl.pidfile.exists(), "PID file removed at exit (§5)");
    }
}

/// -e / --success-exit / CTLINIT_SUCCESS_EXIT map listed statuses to 0,
/// after the 128+signal mapping; others pass through.
fn success_exit_mapping(mode: Mode) {
    // (ctlinit args, CTLINIT_SUCCESS_EXIT, fixture args, expected status)
    type Case<'a> = (&'a [&'a str], Option<&'a str>, &'a [&'a str], i32);
    let cases: [Case; 6] = [
        (&["-e", "3"], None, &["exit", "3"], 0),
        (&["-e", "3"], None, &["exit", "4"], 4),
        (&["--success-exit", "3", "-e", "4"], None, &["exit", "4"], 0),
        (&["-e", "143"], None, &["kill", "15"], 0),
        (&[], Some("3,5"), &["exit", "5"], 0),
        (&[], Some("3,5"), &["exit", "6"], 6),
    ];
    for (args, env, fixture, code) in cases {
        let dir = TestDir::new("success-exit");
        let mut b = Ctl::builder(&dir, mode).args(args);
        if let Some(v) = env {
            b = b.env("CTLINIT_SUCCESS_EXIT", v);
        }
        let mut ctl = b.fixture(fixture).spawn();
        assert_eq!(
            ctl.wait_code(secs(T)),
            Ok(code),
            "{args:?} {env:?} {fixture:?}"
        );
        assert_summary(
            &ctl,
            &format!("status={code} generation=1 exits=1 restarts=0 reason=daemon-exited"),
        );
    }
}

/// §4: SIGCHLD sent to ctlinit is not forwarded. PWR (30) is the marker: a
/// forwarded CHLD (17) would be logged before it (lowest pending first).
fn sigchld_is_not_forwarded(mode: Mode) {
    let dir = TestDir::new("chld");
    let mut ctl = start(&dir, mode, &[], &["sigprint", "--log-chld"]);
    ctl.wait_ready_pid(secs(T)).unwrap();
    ctl.signal(libc::SIGCHLD);
    ctl.signal(libc::SIGPWR);
    ctl.wait_out(|l| l == "signal 30", secs(T)).unwrap();
    let lines = ctl.out_lines();
    assert_eq!(
        count_lines(&lines, "signal 17"),
        0,
        "SIGCHLD must not be forwarded: {lines:?}"
    );
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(143));
}

/// Kills, on drop, a ctlinit the test started through an intermediate
/// parent (and its tree), if it is still there and still ctlinit.
struct OrphanGuard(i32);

impl Drop for OrphanGuard {
    fn drop(&mut self) {
        let cmdline = std::fs::read(format!("/proc/{}/cmdline", self.0)).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains("ctlinit") {
            for p in descendants(self.0) {
                signal_pid_quiet(p, libc::SIGKILL);
            }
            signal_pid_quiet(self.0, libc::SIGKILL);
        }
    }
}

fn signal_pid_quiet(pid: i32, sig: i32) {
    if pid > 1 {
        // SAFETY: kill(2) on a positive PID below a ctlinit this test started.
        unsafe { libc::kill(pid, sig) };
    }
}

/// §2 `-p/--pdeathsig SIG` and CTLINIT_PDEATHSIG: when ctlinit's parent dies,
/// ctlinit receives SIG; TERM means stop: forwarded, daemon exits, ctlinit
/// exits and removes its PID file. (Subreaper mode only: as PID 1 the parent
/// is `unshare`.)
#[test]
fn pdeathsig_stops_when_the_parent_dies() {
    let variants: [(&[&str], Option<&str>); 2] = [(&["-p", "TERM"], None), (&[], Some("SIGTERM"))];
    for (args, env) in variants {
        let dir = TestDir::new("pdeathsig");
        let ctl_pid_file = dir.join("ctl.pid");
        let mut cmd = std::process::Command::new("sh");
        cmd.arg("-c")
            .arg("\"$@\" & echo $! > \"$CTL_PID_FILE\"; wait")
            .arg("sh")
            .arg(ctlinit_bin())
            .arg("--pidfile")
            .arg(dir.pidfile())
            .args(args)
            .arg(fixture_bin())
            .arg("sigprint")
            .env("FIXTURE_OUT", dir.out())
            .env("CTL_PID_FILE", &ctl_pid_file)
            .stdin(std::process::Stdio::null())
            .stdout(std::fs::File::create(dir.join("ctl.stdout")).unwrap())
            .stderr(std::fs::File::create(dir.join("ctl.stderr")).unwrap());
        if let Some(v) = env {
            cmd.env("CTLINIT_PDEATHSIG", v);
        }
        let mut sh = cmd.spawn().expect("start sh");
        let out = dir.out();
        wait_for_line(&out, |l| l.starts_with("ready "), secs(T)).unwrap();
        let ctl_pid: i32 = wait_until(
            "ctlinit's pid from sh",
            secs(T),
            || {
                std::fs::read_to_string(&ctl_pid_file)
                    .ok()?
                    .trim()
                    .parse()
                    .ok()
            },
            String::new,
        )
        .unwrap();
        let _guard = OrphanGuard(ctl_pid);
        wait_until(
            "the PID file",
            secs(T),
            || read_json(&dir.pidfile()).ok(),
            String::new,
        )
        .unwrap();
        sh.kill().unwrap();
        sh.wait().unwrap();
        wait_for_line(&out, |l| l == "signal 15", secs(T)).unwrap_or_else(|e| {
            panic!(
                "{args:?} {env:?}: parent death must deliver TERM: {e}{}",
                tail(&dir.join("ctl.stderr"), 10)
            )
        });
        wait_until(
            "ctlinit to exit",
            secs(T),
            || (!alive(ctl_pid)).then_some(()),
            || tail(&dir.join("ctl.stderr"), 10),
        )
        .unwrap();
        assert!(
            !dir.pidfile().exists(),
            "{args:?} {env:?}: a clean exit removes the PID file"
        );
    }
}

both_modes!(
    forwards_every_catchable_signal,
    int_and_quit_are_forwarded_and_stop,
    pgroup_forwards_to_the_group,
    without_pgroup_only_the_daemon,
    rewrite_and_drop,
    rewrite_term_to_quit_still_stops,
    rewrite_term_to_zero_kills_at_timeout,
    exit_status_passthrough,
    success_exit_mapping,
    sigchld_is_not_forwarded,
);
