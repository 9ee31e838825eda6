//! SPEC §3 (the daemon's process: environment, group/session, clean signal
//! state, exec failures 127/126) and §7 (environment markers), §14.18
//! (inherited NOTIFY_SOCKET passes through untouched).

#[macro_use]
mod common;

use common::*;
use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;

const T: f64 = 10.0;

/// The fixture's `status` lines as a map: "sigblk" -> "0000...".
fn status_report(ctl: &Ctl) -> HashMap<String, String> {
    ctl.wait_out(|l| l == "ready", secs(T)).unwrap();
    ctl.out_lines()
        .iter()
        .filter_map(|l| l.split_once(' ').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect()
}

fn check_clean_process(mode: Mode, ctl: &mut Ctl, what: &str) {
    let st = status_report(ctl);
    assert_eq!(
        st["sigblk"], "0000000000000000",
        "{what}: the daemon's signal mask must be empty (§3)"
    );
    assert_eq!(
        st["sigign"], "0000000000000000",
        "{what}: no signal may be ignored in the daemon (§3)"
    );
    let pid: i32 = st["pid"].parse().unwrap();
    assert_eq!(
        st["pgid"],
        pid.to_string(),
        "{what}: the daemon leads its own process group (§3)"
    );
    // Its own group inside ctlinit's session, as tini does: a new session
    // would also be a new scheduler autogroup (§3).
    assert_ne!(
        st["sid"],
        pid.to_string(),
        "{what}: the daemon stays in ctlinit's session (§3)"
    );
    if mode == Mode::Subreaper {
        let ctl_session = proc_stat(ctl.pid).expect("ctlinit's stat").session;
        assert_eq!(
            st["sid"],
            ctl_session.to_string(),
            "{what}: ctlinit's session (§3)"
        );
    }
    assert_eq!(
        st["ppid"],
        ctl.ns_pid().to_string(),
        "{what}: ctlinit is the daemon's parent"
    );
    if mode == Mode::Pid1 {
        assert_ne!(pid, 1, "{what}: ctlinit itself is PID 1");
    }
    ctl.signal(libc::SIGTERM);
    assert_eq!(
        ctl.wait_code(secs(T)),
        Ok(143),
        "{what}: default TERM disposition kills the daemon"
    );
}

/// §3: default dispositions, empty mask, own process group and session.
fn daemon_starts_with_clean_signal_state(mode: Mode) {
    let dir = TestDir::new("clean");
    let mut ctl = Ctl::builder(&dir, mode).fixture(&["status"]).spawn();
    check_clean_process(mode, &mut ctl, "plain start");
}

/// Same, when ctlinit itself inherited ignored signals (like `nohup`, or a
/// shell's background job) and a non-empty mask: none of it reaches the
/// daemon.
fn daemon_signal_state_is_reset_even_if_ctlinit_inherited_ignores(mode: Mode) {
    let dir = TestDir::new("clean-inherited");
    let mut ctl = Ctl::builder(&dir, mode)
        .ignoring(&[
            libc::SIGHUP,
            libc::SIGINT,
            libc::SIGQUIT,
            libc::SIGPIPE,
            libc::SIGUSR1,
        ])
        .blocking(&[libc::SIGUSR2, libc::SIGALRM])
        .fixture(&["status"])
        .spawn();
    check_clean_process(mode, &mut ctl, "inherited SIG_IGN and mask");
}

/// Same for glibc's internal real-time signals 32 and 33, which libc's
/// `signal()` cannot touch: a ctlinit started by glibc's posix_spawn from a
/// parent with handlers for them (e.g. `cargo run`, any Rust `Command`) has
/// them at SIG_IGN, and an ignored disposition survives exec. "Default
/// signal dispositions" (§3) includes them; only a raw rt_sigaction can reset
/// them.
fn daemon_rt_signals_32_33_not_ignored_even_if_inherited(mode: Mode) {
    let dir = TestDir::new("clean-rt32");
    let mut ctl = Ctl::builder(&dir, mode)
        .ignoring(&[32, 33])
        .fixture(&["status"])
        .spawn();
    check_clean_process(mode, &mut ctl, "inherited SIG_IGN for signals 32 and 33");
}

/// §3: stdin/stdout/stderr are inherited.
fn daemon_inherits_stdout(mode: Mode) {
    let dir = TestDir::new("stdout");
    // An empty FIXTURE_OUT makes the fixture print to its stdout.
    let mut ctl = Ctl::builder(&dir, mode)
        .env("FIXTURE_OUT", "")
        .fixture(&["argv", "hello", "world"])
        .spawn();
    assert_eq!(ctl.wait_code(secs(T)), Ok(0));
    assert_eq!(
        ctl.stdout_text(),
        "arg hello\narg world\nready\n",
        "the daemon writes to ctlinit's stdout"
    );
}

fn assert_exec_failure(mode: Mode, name: &str, command: &str, code: i32, extra: &[&str]) {
    let dir = TestDir::new(name);
    let mut ctl = Ctl::builder(&dir, mode)
        // Even with a restart policy and a long backoff: a typo never becomes
        // a restart loop, and ctlinit exits at once (§3).
        .args([
            "--restart",
            "always",
            "--backoff",
            "20s",
            "--max-restarts",
            "0",
        ])
        .args(extra)
        .arg(command)
        .arg("arg1")
        .spawn();
    let t0 = std::time::Instant::now();
    assert_eq!(ctl.wait_code(secs(T)), Ok(code), "{name}: {command}");
    assert!(
        t0.elapsed() < secs(3.0),
        "{name}: exec failure must exit at once, took {:?}",
        t0.elapsed()
    );
    let err = ctl.stderr_text();
    assert!(
        err.contains(command),
        "{name}: stderr must name the command {command:?}: {err:?}"
    );
    let summary = ctl.last_stderr_line().unwrap_or_default();
    assert!(
        summary.starts_with(&format!("ctlinit: exit status={code} generation="))
            && summary.ends_with(" restarts=0 reason=exec-failed"),
        "{name}: summary line (§13): {summary:?}"
    );
    assert!(
        !ctl.pidfile.exists(),
        "{name}: PID file removed at exit (§5)"
    );
}

/// §3: not found -> 127, found but not executable -> 126, at once.
fn exec_failures_exit_127_and_126(mode: Mode) {
    assert_exec_failure(
        mode,
        "not-on-path",
        "ctlinit-test-no-such-command",
        127,
        &[],
    );
    assert_exec_failure(
        mode,
        "abs-missing",
        "/nonexistent-dir/ctlinit-test-daemon",
        127,
        &[],
    );

    let dir = TestDir::new("not-exec");
    let file = dir.join("not-executable");
    fs::write(&file, "#!/bin/sh\nexit 0\n").unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
    assert_exec_failure(mode, "not-executable", &file.to_string_lossy(), 126, &[]);
    assert_exec_failure(mode, "directory", &dir.path().to_string_lossy(), 126, &[]);

    // Executable, but neither a binary nor a #! script: not run through
    // /bin/sh behind the operator's back (README, Interpretations).
    let file = dir.join("no-shebang");
    fs::write(&file, "echo should not run\n").unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o755)).unwrap();
    assert_exec_failure(mode, "no-shebang", &file.to_string_lossy(), 126, &[]);
}

/// COMMAND without a '/' is searched on PATH like execvp: an entry that is
/// there but not executable is skipped, and the next one runs.
fn path_search_skips_a_denied_entry(mode: Mode) {
    let dir = TestDir::new("path-search");
    let (denied, good) = (dir.join("denied"), dir.join("good"));
    fs::create_dir(&denied).unwrap();
    fs::create_dir(&good).unwrap();
    let shadow = denied.join("ctlinit-test-tool");
    fs::write(&shadow, "#!/bin/sh\nexit 9\n").unwrap();
    fs::set_permissions(&shadow, fs::Permissions::from_mode(0o644)).unwrap();
    std::os::unix::fs::symlink(fixture_bin(), good.join("ctlinit-test-tool")).unwrap();
    let path = format!(
        "{}:{}:/usr/sbin:/usr/bin:/sbin:/bin",
        denied.display(),
        good.display()
    );
    let mut ctl = Ctl::builder(&dir, mode)
        .env("PATH", &path)
        .args(["ctlinit-test-tool", "argv", "found"])
        .spawn();
    assert_eq!(ctl.wait_code(secs(T)), Ok(0), "{}", ctl.stderr_text());
    assert_eq!(ctl.out_lines(), ["arg found", "ready"]);
}

fn env_map(ctl: &Ctl) -> HashMap<String, String> {
    ctl.wait_out(|l| l == "ready", secs(T)).unwrap();
    ctl.out_lines()
        .iter()
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect()
}

/// §7: CTLINIT_SUPERVISOR, CTLINIT_GENERATION, CTLINIT_PIDFILE, --marker
/// NAME / NAME=VALUE, the caller's environment, an inherited NOTIFY_SOCKET.
fn markers_in_daemon_environment(mode: Mode) {
    let dir = TestDir::new("markers");
    let mut ctl = Ctl::builder(&dir, mode)
        .env("CALLER_VAR", "kept as is")
        .env("NOTIFY_SOCKET", "/run/inherited/notify.sock")
        .args(["--marker", "MY_SUPERVISED", "--marker", "MY_ROLE=primary"])
        .fixture(&["env"])
        .spawn();
    let env = env_map(&ctl);
    assert_eq!(ctl.wait_code(secs(T)), Ok(0));
    let me = ctl.ns_pid().to_string();
    let pidfile = ctl.pidfile.to_string_lossy().into_owned();
    let want = [
        ("CTLINIT_SUPERVISOR", me.as_str()),
        ("CTLINIT_GENERATION", "1"),
        ("CTLINIT_PIDFILE", pidfile.as_str()),
        ("MY_SUPERVISED", me.as_str()),
        ("MY_ROLE", "primary"),
        ("CALLER_VAR", "kept as is"),
        ("NOTIFY_SOCKET", "/run/inherited/notify.sock"),
    ];
    for (k, v) in want {
        assert_eq!(
            env.get(k).map(String::as_str),
            Some(v),
            "daemon env {k} (§7, §14.18)"
        );
    }
}

/// §14.11: CTLINIT_MARKER holds one or more NAME[=VALUE] separated by ','.
fn markers_from_environment(mode: Mode) {
    let dir = TestDir::new("markers-env");
    let mut ctl = Ctl::builder(&dir, mode)
        .env("CTLINIT_MARKER", "ENV_A,ENV_B=b-value")
        .fixture(&["env"])
        .spawn();
    let env = env_map(&ctl);
    assert_eq!(ctl.wait_code(secs(T)), Ok(0));
    let me = ctl.ns_pid().to_string();
    assert_eq!(
        env.get("ENV_A"),
        Some(&me),
        "CTLINIT_MARKER NAME -> NAME=<ctlinit pid>"
    );
    assert_eq!(env.get("ENV_B").map(String::as_str), Some("b-value"));
    assert_eq!(env.get("CTLINIT_SUPERVISOR"), Some(&me));
}

both_modes!(
    daemon_starts_with_clean_signal_state,
    daemon_signal_state_is_reset_even_if_ctlinit_inherited_ignores,
    daemon_rt_signals_32_33_not_ignored_even_if_inherited,
    daemon_inherits_stdout,
    exec_failures_exit_127_and_126,
    path_search_skips_a_denied_entry,
    markers_in_daemon_environment,
    markers_from_environment,
);
