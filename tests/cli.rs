//! Invocation, options and environment variables, usage errors,
//! --help/--version, verbs vs. COMMAND — each option proven by its effect
//! on the real binary.
// The case tables are tuples of literals; naming each shape adds nothing.
#![allow(clippy::type_complexity)]

#[macro_use]
mod common;

use common::*;
use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

const T: f64 = 10.0;

/// Runs a usage error case and checks SPEC §1/§14.10: exit 2, the message
/// names the flag/variable and the bad value, nothing was started and no PID
/// or lock file was written.
fn usage_error(name: &str, args: &[&str], envs: &[(&str, &str)], must_name: &[&str]) {
    let dir = TestDir::new(name);
    let pidfile = s(&dir.pidfile());
    let fx = fixture_str();
    let mut full: Vec<&str> = vec!["--pidfile", &pidfile];
    full.extend_from_slice(args);
    full.extend_from_slice(&[&fx, "env"]);
    let r = run_ctlinit(&dir, "ctl", &full, envs, secs(T));
    assert_eq!(r.code, Some(2), "{name}: usage error must exit 2: {r:?}");
    for word in must_name {
        assert!(
            r.stderr.contains(word),
            "{name}: the message must name {word:?}: {:?}",
            r.stderr
        );
    }
    let line = r
        .stderr
        .lines()
        .find(|l| l.contains(must_name[0]))
        .unwrap_or_default();
    assert!(
        line.starts_with("ctlinit"),
        "{name}: log lines start with 'ctlinit' (§13): {line:?}"
    );
    assert!(
        !r.stderr.contains("panicked"),
        "{name}: no panic: {:?}",
        r.stderr
    );
    assert!(
        !dir.out().exists(),
        "{name}: COMMAND must not start on a usage error (§14.10)"
    );
    assert!(
        !dir.pidfile().exists(),
        "{name}: no PID file on a usage error (§14.10)"
    );
    assert!(
        !dir.lockfile().exists(),
        "{name}: no lock file on a usage error (§14.10)"
    );
}

#[test]
fn bad_flag_values_exit_2_naming_flag_and_value() {
    let cases: &[(&str, &[&str], &[&str])] = &[
        (
            "restart",
            &["--restart", "sometimes"],
            &["--restart", "sometimes"],
        ),
        (
            "restart-onfail-n",
            &["--restart", "on-failure:many"],
            &["--restart", "many"],
        ),
        (
            "max-restarts",
            &["--max-restarts", "lots"],
            &["--max-restarts", "lots"],
        ),
        ("backoff", &["--backoff", "fast"], &["--backoff", "fast"]),
        (
            "backoff-max",
            &["--backoff", "1s:slow"],
            &["--backoff", "slow"],
        ),
        (
            "reset-after",
            &["--reset-after", "soon"],
            &["--reset-after", "soon"],
        ),
        (
            "stop-signal",
            &["--stop-signal", "SIGFOO"],
            &["--stop-signal", "SIGFOO"],
        ),
        (
            "stop-timeout",
            &["--stop-timeout", "10x"],
            &["--stop-timeout", "10x"],
        ),
        (
            "reload-signal",
            &["--reload-signal", "NOPE"],
            &["--reload-signal", "NOPE"],
        ),
        ("port-range", &["--port", "70000"], &["--port", "70000"]),
        ("port-zero", &["--port", "0"], &["--port", "0"]),
        ("port-list", &["--port", "8080,abc"], &["--port", "abc"]),
        ("ready", &["--ready", "maybe"], &["--ready", "maybe"]),
        (
            "ready-timeout",
            &["--ready-timeout", "whenever"],
            &["--ready-timeout", "whenever"],
        ),
        (
            "port-timeout",
            &["--port-timeout", "-"],
            &["--port-timeout"],
        ),
        (
            "success-exit-range",
            &["--success-exit", "256"],
            &["--success-exit", "256"],
        ),
        ("success-exit-short", &["-e", "x1"], &["-e", "x1"]),
        (
            "rewrite-shape",
            &["--rewrite", "TERM"],
            &["--rewrite", "TERM"],
        ),
        ("rewrite-signal", &["-r", "TERM:BOGUS"], &["-r", "BOGUS"]),
        (
            "pdeathsig",
            &["--pdeathsig", "NOSIG"],
            &["--pdeathsig", "NOSIG"],
        ),
    ];
    for (name, args, names) in cases {
        usage_error(name, args, &[], names);
    }
}

#[test]
fn bad_env_values_exit_2_naming_variable_and_value() {
    let cases: &[(&str, &str, &str)] = &[
        ("env-restart", "CTLINIT_RESTART", "sometimes"),
        ("env-max", "CTLINIT_MAX_RESTARTS", "lots"),
        ("env-backoff", "CTLINIT_BACKOFF", "fast"),
        ("env-stop-timeout", "CTLINIT_STOP_TIMEOUT", "10x"),
        ("env-stop-signal", "CTLINIT_STOP_SIGNAL", "SIGFOO"),
        ("env-port", "CTLINIT_PORT", "99999"),
        ("env-success", "CTLINIT_SUCCESS_EXIT", "bad"),
        ("env-rewrite", "CTLINIT_REWRITE", "HUP"),
        ("env-log", "CTLINIT_LOG", "verbose"),
        ("env-ready", "CTLINIT_READY", "maybe"),
    ];
    for (name, var, value) in cases {
        usage_error(name, &[], &[(var, value)], &[var, value]);
    }
}

#[test]
fn unknown_flag_missing_value_and_missing_command_exit_2() {
    usage_error("unknown-flag", &["--bogus-flag"], &[], &["--bogus-flag"]);

    let dir = TestDir::new("missing-value");
    let r = run_ctlinit(&dir, "ctl", &["--restart"], &[], secs(T));
    assert_eq!(r.code, Some(2), "a flag without its value: {r:?}");
    assert!(
        r.stderr.contains("--restart"),
        "names the flag: {:?}",
        r.stderr
    );

    let pidfile = s(&dir.pidfile());
    let r = run_ctlinit(&dir, "ctl2", &["--pidfile", &pidfile], &[], secs(T));
    assert_eq!(r.code, Some(2), "no COMMAND is a usage error: {r:?}");
    assert!(
        !dir.pidfile().exists() && !dir.lockfile().exists(),
        "no files on a usage error (§14.10)"
    );
}

/// The word-like tokens of a help text ("-g," -> "-g").
fn tokens(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| w.trim_matches(|c: char| ",;|[]()=".contains(c)).to_owned())
        .collect()
}

/// The help entry of `flag`: the first line that starts (after indentation)
/// with an option and names `flag`, plus continuation lines up to the next
/// option line.
fn help_entry(help: &str, flag: &str) -> String {
    let lines: Vec<&str> = help.lines().collect();
    let is_entry =
        |l: &&str| l.trim_start().starts_with('-') && tokens(l).iter().any(|t| t == flag);
    let Some(i) = lines.iter().position(is_entry) else {
        return String::new();
    };
    let mut entry = vec![lines[i]];
    for l in lines.iter().skip(i + 1).take(4) {
        if l.trim_start().starts_with('-') || l.trim().is_empty() {
            break;
        }
        entry.push(l);
    }
    entry.join("\n")
}

#[test]
fn help_lists_every_flag_with_its_default() {
    for arg in ["--help", "-h"] {
        let dir = TestDir::new("help");
        let r = run_ctlinit(&dir, "ctl", &[arg], &[], secs(T));
        assert_eq!(r.code, Some(0), "{arg} exits 0 (§14.10): {r:?}");
        let help = r.stdout.clone();
        let toks = tokens(&help);
        for &flag in CONTRACT_FLAGS.iter().chain(&["--help", "--version"]) {
            assert!(
                toks.iter().any(|t| t == flag),
                "{arg} must list {flag} (stdout):\n{help}"
            );
        }
        for verb in ["status", "health", "restart"] {
            assert!(
                toks.iter().any(|t| t == verb),
                "{arg} must mention the verb {verb}:\n{help}"
            );
        }
        for (flag, default) in [
            ("--restart", "no"),
            ("--max-restarts", "5"),
            ("--backoff", "100ms:30s"),
            ("--reset-after", "30s"),
            ("--stop-signal", "TERM"),
            ("--stop-timeout", "8s"),
            ("--ready-timeout", "30s"),
            ("--port-timeout", "5s"),
            ("--success-exit", "0"),
            ("--pidfile", "/run/ctlinit/daemon.pid"),
            ("--lockfile", "ctlinit.lock"),
        ] {
            let entry = help_entry(&help, flag);
            assert!(
                entry.contains(default),
                "{arg}: the entry for {flag} must show its default {default:?}: {entry:?}"
            );
        }
    }
}

#[test]
fn version_prints_the_crate_version() {
    for arg in ["--version", "-V"] {
        let dir = TestDir::new("version");
        let r = run_ctlinit(&dir, "ctl", &[arg], &[], secs(T));
        assert_eq!(r.code, Some(0), "{arg} exits 0: {r:?}");
        assert!(
            r.stdout.contains(env!("CARGO_PKG_VERSION")),
            "{arg} prints the version: {r:?}"
        );
        assert!(
            r.stdout.contains("ctlinit"),
            "{arg} names the program: {r:?}"
        );
    }
}

/// §1: every argument after COMMAND belongs to COMMAND, untouched.
#[test]
fn arguments_after_command_are_passed_untouched() {
    let dir = TestDir::new("argv");
    let pidfile = s(&dir.pidfile());
    let fx = fixture_str();
    let r = run_ctlinit(
        &dir,
        "ctl",
        &[
            "--pidfile",
            &pidfile,
            &fx,
            "argv",
            "--port",
            "5",
            "-v",
            "--",
            "--restart",
            "x",
        ],
        &[],
        secs(T),
    );
    assert_eq!(r.code, Some(0), "{r:?}");
    let lines = read_lines(&dir.out());
    assert_eq!(
        lines,
        [
            "arg --port",
            "arg 5",
            "arg -v",
            "arg --",
            "arg --restart",
            "arg x",
            "ready"
        ],
        "{r:?}"
    );

    let dir = TestDir::new("argv-dashdash");
    let pidfile = s(&dir.pidfile());
    let r = run_ctlinit(
        &dir,
        "ctl",
        &["--pidfile", &pidfile, "--", &fx, "argv", "-e", "3"],
        &[],
        secs(T),
    );
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(
        read_lines(&dir.out()),
        ["arg -e", "arg 3", "ready"],
        "{r:?}"
    );
}

/// §1: `status`/`health`/`restart` are verbs only as the very first argument.
#[test]
fn verbs_only_as_first_argument() {
    let dir = TestDir::new("verbs");
    let bin = dir.join("bin");
    fs::create_dir(&bin).unwrap();
    for name in ["status", "health", "restart"] {
        let script = bin.join(name);
        fs::write(
            &script,
            format!("#!/bin/sh\necho \"ran {name} $*\" >> \"$FIXTURE_OUT\"\nexit 0\n"),
        )
        .unwrap();
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let pidfile = s(&dir.pidfile());

    let env = [
        ("PATH", path.as_str()),
        ("CTLINIT_PIDFILE", pidfile.as_str()),
    ];
    let r = run_ctlinit(&dir, "dashdash", &["--", "status", "--json"], &env, secs(T));
    assert_eq!(
        r.code,
        Some(0),
        "`ctlinit -- status` supervises a program named status: {r:?}"
    );
    let r2 = run_ctlinit(
        &dir,
        "after-opt",
        &["--pidfile", &pidfile, "health"],
        &env,
        secs(T),
    );
    assert_eq!(
        r2.code,
        Some(0),
        "`ctlinit --pidfile P health` supervises a program named health: {r2:?}"
    );
    let r3 = run_ctlinit(&dir, "after-opt2", &["-w", "restart", "now"], &env, secs(T));
    assert_eq!(
        r3.code,
        Some(0),
        "`ctlinit -w restart now` supervises a program named restart: {r3:?}"
    );
    let lines = read_lines(&dir.out());
    assert!(lines.contains(&"ran status --json".to_owned()), "{lines:?}");
    assert!(lines.contains(&"ran health ".to_owned()), "{lines:?}");
    assert!(lines.contains(&"ran restart now".to_owned()), "{lines:?}");
}

#[test]
fn verbs_without_a_supervisor() {
    let dir = TestDir::new("verbs-none");
    let pidfile = s(&dir.join("nothing.pid"));
    let r = run_ctlinit(
        &dir,
        "status",
        &["status", "--pidfile", &pidfile],
        &[],
        secs(T),
    );
    assert_eq!(
        r.code,
        Some(3),
        "status with no PID file exits 3 (§10): {r:?}"
    );
    let r = run_ctlinit(
        &dir,
        "status-json",
        &["status", "--json", "--pidfile", &pidfile],
        &[],
        secs(T),
    );
    assert_eq!(
        r.code,
        Some(3),
        "status --json with no PID file exits 3 (§10): {r:?}"
    );
    let r = run_ctlinit(
        &dir,
        "health",
        &["health", "--pidfile", &pidfile],
        &[],
        secs(T),
    );
    assert_eq!(
        r.code,
        Some(1),
        "health with no supervisor exits 1 (§10): {r:?}"
    );
    assert_eq!(
        r.stdout.lines().count(),
        1,
        "health prints one line on stdout (§14.17): {r:?}"
    );
    let r = run_ctlinit(
        &dir,
        "restart",
        &["restart", "--timeout", "2s", "--pidfile", &pidfile],
        &[],
        secs(T),
    );
    assert_eq!(
        r.code,
        Some(3),
        "restart with no supervisor exits 3 (§11): {r:?}"
    );
    assert!(
        !dir.join("nothing.pid").exists(),
        "verbs never create the PID file"
    );
}

/// §14.17: health exits only 0 or 1, never 2, even on bad usage.
#[test]
fn health_bad_usage_exits_1_not_2() {
    let dir = TestDir::new("health-usage");
    let r = run_ctlinit(&dir, "health", &["health", "--bogus-flag"], &[], secs(T));
    assert_eq!(
        r.code,
        Some(1),
        "health on bad usage exits 1 (§14.17): {r:?}"
    );
    assert!(
        !r.stderr.trim().is_empty(),
        "with a message on stderr: {r:?}"
    );
}

#[test]
fn status_bad_usage_exits_2() {
    let dir = TestDir::new("status-usage");
    let r = run_ctlinit(&dir, "status", &["status", "--bogus-flag"], &[], secs(T));
    assert_eq!(
        r.code,
        Some(2),
        "status on bad usage is a usage error (§12): {r:?}"
    );
    assert!(r.stderr.contains("--bogus-flag"), "{r:?}");
}

/// §1: the command line wins over the environment.
#[test]
fn command_line_wins_over_environment() {
    let dir = TestDir::new("precedence");
    let mut ctl = Ctl::builder(&dir, Mode::Subreaper)
        .env("CTLINIT_RESTART", "always")
        .env("CTLINIT_BACKOFF", "10ms")
        .args(["--restart", "no"])
        .fixture(&["exit", "0"])
        .spawn();
    assert_eq!(ctl.wait_code(secs(T)), Ok(0));
    assert_summary(
        &ctl,
        "status=0 generation=1 exits=1 restarts=0 reason=daemon-exited",
    );
}

/// Options work from the environment alone (§2 table), and `on-failure:N`
/// sets --max-restarts (§2, §14.1).
#[test]
fn environment_options_and_docker_restart_spelling() {
    let dir = TestDir::new("env-opts");
    let counter = s(&dir.join("count"));
    let mut ctl = Ctl::builder(&dir, Mode::Subreaper)
        .env("CTLINIT_RESTART", "on-failure")
        .env("CTLINIT_MAX_RESTARTS", "1")
        .env("CTLINIT_BACKOFF", "10ms")
        .fixture(&["crash-n", &counter, "100", "3"])
        .spawn();
    assert_eq!(ctl.wait_code(secs(T)), Ok(3));
    assert_summary(
        &ctl,
        "status=3 generation=2 exits=2 restarts=1 reason=gave-up",
    );

    let dir = TestDir::new("docker-spelling");
    let counter = s(&dir.join("count"));
    let mut ctl = Ctl::builder(&dir, Mode::Subreaper)
        .args(["--restart", "on-failure:2", "--backoff", "10ms"])
        .fixture(&["crash-n", &counter, "100", "4"])
        .spawn();
    assert_eq!(ctl.wait_code(secs(T)), Ok(4));
    assert_summary(
        &ctl,
        "status=4 generation=3 exits=3 restarts=2 reason=gave-up",
    );
}

// ------------------------------------------------------------------ what each option does
//
// Every accepted spelling below is checked by the effect the option promises
// (§2), seen through the real binary: the daemon's environment, the signals
// it logs, ctlinit's exit status, summary and log lines — not just exit 0.

/// (name, arguments, environment) of one invocation.
type Case<'a> = (&'a str, &'a [&'a str], &'a [(&'a str, &'a str)]);

/// Starts ctlinit (subreaper) with `args` and `envs`, supervising the
/// fixture run with `fx`.
fn start(dir: &TestDir, args: &[&str], envs: &[(&str, &str)], fx: &[&str]) -> Ctl {
    let mut b = Ctl::builder(dir, Mode::Subreaper).args(args);
    for (k, v) in envs {
        b = b.env(k, v);
    }
    b.fixture(fx).spawn()
}

/// `ctlinit: restarting in ...` lines, in order, without the prefix.
fn restart_lines(ctl: &Ctl) -> Vec<String> {
    ctl.stderr_lines()
        .into_iter()
        .filter_map(|l| l.strip_prefix("ctlinit: ").map(str::to_owned))
        .filter(|l| l.starts_with("restarting in "))
        .collect()
}

/// `--stop-timeout` spellings (`250ms`, bare `0.5`): the grace is what was
/// written — the log names it, the daemon got TERM first, and SIGKILL came no
/// earlier than the grace after the TERM (and well before the 8 s default).
#[test]
fn stop_timeout_spellings_set_the_grace() {
    for (spelling, grace, shown) in [("250ms", 0.25, "250ms"), ("0.5", 0.5, "500ms")] {
        let dir = TestDir::new("grace-spelling");
        let mut ctl = start(
            &dir,
            &["--stop-timeout", spelling],
            &[],
            &["sigprint", "--ignore-term"],
        );
        assert_term_killed_at_grace(&mut ctl, grace, shown);
    }
}

/// `--backoff MIN:MAX` and `--max-restarts`: the first restart waits MIN,
/// each further failure doubles it up to MAX (§14.2), and a daemon that
/// always fails runs N+1 times (§14.1) — read from the log's delays and the
/// summary, not from a clock.
#[test]
fn backoff_doubles_up_to_max_and_max_restarts_counts_runs() {
    let dir = TestDir::new("backoff-sequence");
    let mut ctl = start(
        &dir,
        &[
            "--restart",
            "on-failure",
            "--max-restarts",
            "3",
            "--backoff",
            "100ms:200ms",
        ],
        &[],
        &["exit", "1"],
    );
    assert_eq!(ctl.wait_code(secs(T)), Ok(1), "{}", ctl.context());
    assert_eq!(
        restart_lines(&ctl),
        [
            "restarting in 100ms (failure 1 of 3 tolerated by --max-restarts)",
            "restarting in 200ms (failure 2 of 3 tolerated by --max-restarts)",
            "restarting in 200ms (failure 3 of 3 tolerated by --max-restarts: the next failure gives up)",
        ],
        "MIN, doubled, capped at MAX{}",
        ctl.context()
    );
    assert_summary(
        &ctl,
        "status=1 generation=4 exits=4 restarts=3 reason=gave-up",
    );
}

/// Duration spellings `2m`, `1h`, bare `8` and a `MIN:MAX` pair: the first
/// restart's delay, as logged, is the value written. The `--reset-after`
/// spellings of the old "accepted" list (`8`, `1h`) ride along: accepted,
/// and a run far shorter than them resets nothing (failure 1 of 5).
#[test]
fn duration_spellings_are_read_as_written() {
    let cases: &[(&str, &str, &[&str])] = &[
        ("2m", "2m", &["--reset-after", "8"]),
        ("1h", "1h", &["--reset-after", "1h"]),
        ("8", "8s", &[]),
        ("100ms:2m", "100ms", &[]),
    ];
    for (spelling, shown, extra) in cases {
        let dir = TestDir::new("duration-spelling");
        let mut args = vec!["--restart", "on-failure", "--backoff", spelling];
        args.extend_from_slice(extra);
        let mut ctl = start(&dir, &args, &[], &["exit", "1"]);
        ok(ctl.wait_stderr(|l| l.starts_with("ctlinit: restarting in "), secs(T)));
        assert_eq!(
            restart_lines(&ctl),
            [format!(
                "restarting in {shown} (failure 1 of 5 tolerated by --max-restarts)"
            )],
            "--backoff {spelling}{}",
            ctl.context()
        );
        if !shown.ends_with("ms") {
            // A long backoff: the stop ends it (§14.3).
            ctl.signal(libc::SIGTERM);
            assert_eq!(ctl.wait_code(secs(T)), Ok(1), "{}", ctl.context());
            assert_summary(
                &ctl,
                "status=1 generation=1 exits=1 restarts=0 reason=stopped",
            );
        }
    }
}

/// `--ready-timeout` (seconds spelling): a daemon not ready by then is
/// stopped and the run counts as failed with what it died of (§14.4).
#[test]
fn ready_timeout_stops_a_daemon_that_is_never_ready() {
    let dir = TestDir::new("ready-timeout");
    let mut ctl = start(
        &dir,
        &["--ready", "notify", "--ready-timeout", "1s"],
        &[],
        &["notify", "--delay-ms", "60000"],
    );
    assert_eq!(ctl.wait_code(secs(T)), Ok(143), "{}", ctl.context());
    assert_deadline(
        "--ready-timeout 1s: start to exit",
        ctl.started.elapsed(),
        1.0,
    );
    assert_in_order(
        &ctl.stderr_lines(),
        &[
            "started generation 1 ",
            "not ready after 1s: stopping it",
            "exited with status 143",
            "ctlinit: exit status=143 ",
        ],
        "readiness timeout, stop, exit",
        &ctl.context(),
    );
    assert_summary(
        &ctl,
        "status=143 generation=1 exits=1 restarts=0 reason=daemon-exited",
    );
}

/// `--reset-after` (bare fractional seconds): a run that lasted at least
/// that long resets the failure count and the backoff (§2). With
/// `--max-restarts 1`, two failures in a row would give up; two failures each
/// after a run longer than 0.3 s are each "failure 1", and a third
/// generation starts. The runs are made long by waiting before the kill,
/// which only bounds them from below.
#[test]
fn reset_after_resets_failures_and_backoff() {
    let dir = TestDir::new("reset-after");
    let mut ctl = start(
        &dir,
        &[
            "--restart",
            "on-failure",
            "--max-restarts",
            "1",
            "--backoff",
            "10ms",
            "--reset-after",
            "0.3",
        ],
        &[],
        &["sigprint"],
    );
    for g in 1..=2 {
        let v = wait_gen_ready(&ctl, g, T);
        let pid = v["pid"].as_i64().expect("daemon pid") as i32;
        std::thread::sleep(secs(0.4));
        signal_pid(pid, libc::SIGKILL);
    }
    wait_gen_ready(&ctl, 3, T);
    assert_eq!(
        restart_lines(&ctl),
        [
            "restarting in 10ms (failure 1 of 1 tolerated by --max-restarts: the next failure gives up)",
            "restarting in 10ms (failure 1 of 1 tolerated by --max-restarts: the next failure gives up)",
        ],
        "each long run reset the count and the backoff{}",
        ctl.context()
    );
    term_and_assert_stopped(&mut ctl, 3);
}

/// Signal spellings (`SIGINT`, `hup`, `sigusr1`, `12`, `15`, `QUIT`), each
/// by its effect: `--stop-signal SIGINT` is what a restart sends the old
/// generation; `--reload-signal hup` restarts and is not forwarded;
/// `-r sigusr1:12` turns USR1 into USR2; `-r 15:QUIT` forwards a received
/// TERM as QUIT, which still stops ctlinit (§14.6). The daemons' log, in
/// order, is the proof.
#[test]
fn signal_spellings_take_effect() {
    let dir = TestDir::new("sig-forms");
    let mut ctl = start(
        &dir,
        &[
            "--stop-signal",
            "SIGINT",
            "--reload-signal",
            "hup",
            "-r",
            "sigusr1:12",
            "-r",
            "15:QUIT",
        ],
        &[],
        &["sigprint"],
    );
    // The fixture's own "ready" (written once its signals are blocked), not
    // just the PID file's: with --ready none that one comes at the spawn.
    let p1 = wait_gen_ready(&ctl, 1, T)["pid"].as_i64().unwrap();
    ok(ctl.wait_out(|l| l == format!("ready {p1}"), secs(T)));
    ctl.signal(libc::SIGHUP);
    let v = wait_gen_ready(&ctl, 2, T);
    let p2 = v["pid"].as_i64().unwrap();
    ok(ctl.wait_out(|l| l == format!("ready {p2}"), secs(T)));
    assert_eq!(
        v["last_exit"]["status"], 130,
        "generation 1 was stopped with INT: {v}"
    );
    ctl.signal(libc::SIGUSR1);
    ok(ctl.wait_out(|l| l == "signal 12", secs(T)));
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(131), "{}", ctl.context());
    assert_eq!(
        ctl.out_lines(),
        [
            format!("ready {p1}"),
            "signal 2".into(),
            format!("ready {p2}"),
            "signal 12".into(),
            "signal 3".into(),
        ],
        "INT to stop generation 1 (no HUP forwarded), USR1 as USR2, TERM as QUIT"
    );
    assert_summary(
        &ctl,
        "status=131 generation=2 exits=2 restarts=1 reason=stopped",
    );
}

/// The level of one stderr line, by its prefix (§13: info lines carry no
/// level word; the summary is its own kind).
fn level(line: &str) -> &'static str {
    if line.starts_with("ctlinit: exit status=") {
        "summary"
    } else if line.starts_with("ctlinit: error: ") {
        "error"
    } else if line.starts_with("ctlinit: warn: ") {
        "warn"
    } else if line.starts_with("ctlinit: debug: ") {
        "debug"
    } else if line.starts_with("ctlinit: trace: ") {
        "trace"
    } else if line.starts_with("ctlinit: ") {
        "info"
    } else {
        "other"
    }
}

fn count_level(lines: &[String], lvl: &str) -> usize {
    lines.iter().filter(|l| level(l) == lvl).count()
}

/// Runs `orphans 2` (two grandchildren orphaned to ctlinit, reaped by it
/// 50-200 ms later) under `args`/`envs`, waits until both are reaped, stops
/// it, and returns ctlinit's stderr lines.
fn orphan_run(name: &str, args: &[&str], envs: &[(&str, &str)]) -> Vec<String> {
    let dir = TestDir::new(name);
    let mut ctl = start(&dir, args, envs, &["orphans", "2"]);
    ok(ctl.wait_out(|l| l == "ready", secs(T)));
    let daemon = ok(ctl.wait_pidfile(|v| v["pid"].is_i64(), secs(T)))["pid"]
        .as_i64()
        .unwrap() as i32;
    ok(wait_until(
        "the two orphans to be reaped",
        secs(T),
        || (ctl.descendants() == [daemon]).then_some(()),
        || ctl.context(),
    ));
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(143), "{name}{}", ctl.context());
    assert_summary(
        &ctl,
        "status=143 generation=1 exits=1 restarts=0 reason=stopped",
    );
    ctl.stderr_lines()
}

/// `CTLINIT_LOG` levels and `-v` (§2): each lets through what it promises and
/// no more. The run has info lines (lifecycle), two "reaped orphan" lines
/// (warn with `-w`, debug without), and the summary, which is printed
/// whatever the level (§13).
#[test]
fn log_levels_let_through_what_they_promise() {
    // (name, args, envs, [(level, count or None for "at least one")])
    type Want<'a> = &'a [(&'a str, Option<usize>)];
    let cases: &[(&str, &[&str], &[(&str, &str)], Want)] = &[
        (
            "log-error",
            &["-w"],
            &[("CTLINIT_LOG", "error")],
            &[("warn", Some(0)), ("info", Some(0)), ("debug", Some(0))],
        ),
        (
            "log-warn",
            &["-w"],
            &[("CTLINIT_LOG", "warn")],
            &[("warn", Some(2)), ("info", Some(0)), ("debug", Some(0))],
        ),
        (
            "log-info",
            &["-w"],
            &[("CTLINIT_LOG", "info")],
            &[("warn", Some(2)), ("info", None), ("debug", Some(0))],
        ),
        (
            "log-trace",
            &[],
            &[("CTLINIT_LOG", "trace")],
            &[("warn", Some(0)), ("info", None), ("debug", None)],
        ),
        (
            "verbose-wins",
            &["-v"],
            &[("CTLINIT_LOG", "warn")],
            &[("info", None), ("debug", None)],
        ),
    ];
    for (name, args, envs, want) in cases {
        let lines = orphan_run(name, args, envs);
        assert_eq!(count_level(&lines, "summary"), 1, "{name}: {lines:#?}");
        assert_eq!(count_level(&lines, "other"), 0, "{name}: {lines:#?}");
        for (lvl, n) in *want {
            let got = count_level(&lines, lvl);
            match n {
                Some(n) => assert_eq!(got, *n, "{name}: {lvl} lines: {lines:#?}"),
                None => assert!(got > 0, "{name}: expected {lvl} lines: {lines:#?}"),
            }
        }
        let orphans = lines
            .iter()
            .filter(|l| l.contains("reaped orphan pid "))
            .count();
        let shown = want.iter().any(|(l, n)| *l == "warn" && *n == Some(2))
            || name == &"log-trace"
            || name == &"verbose-wins";
        assert_eq!(
            orphans,
            if shown { 2 } else { 0 },
            "{name}: the two reaped orphans, when the level shows them: {lines:#?}"
        );
    }
}

/// `-q` wins over `CTLINIT_LOG=debug` (§1: the command line wins): nothing
/// but the summary. `CTLINIT_PGROUP=1` forwards to the daemon's whole group:
/// its child logs the signals too.
#[test]
fn quiet_wins_over_the_environment_and_pgroup_env_reaches_the_group() {
    let dir = TestDir::new("quiet");
    let mut ctl = start(
        &dir,
        &["-q"],
        &[("CTLINIT_LOG", "debug"), ("CTLINIT_PGROUP", "1")],
        &["sigprint", "--child"],
    );
    ok(ctl.wait_out_pids("ready", secs(T)));
    ctl.signal(libc::SIGUSR1);
    ok(ctl.wait_out(|l| l == "signal 10", secs(T)));
    ok(ctl.wait_out(|l| l == "child signal 10", secs(T)));
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(143), "{}", ctl.context());
    ok(ctl.wait_out(|l| l == "child signal 15", secs(T)));
    assert_eq!(
        ctl.stderr_lines(),
        ["ctlinit: exit status=143 generation=1 exits=1 restarts=0 reason=stopped"],
        "-q: only the summary"
    );
}

/// tini's flags and variables: `-s`/`TINI_SUBREAPER` are accepted (and the
/// orphans below do reach ctlinit: it is a subreaper anyway), `-w` logs each
/// reaped orphan at warn, `-v -v` adds debug lines, and
/// `TINI_KILL_PROCESS_GROUP` forwards to the whole group.
#[test]
fn tini_flags_take_effect() {
    let dir = TestDir::new("tini");
    // Two orphans first, then the daemon proper: sigprint with a child.
    let script = r#""$0" orphans 2 --exit >/dev/null && exec "$0" sigprint --child"#;
    let mut ctl = Ctl::builder(&dir, Mode::Subreaper)
        .args(["-s", "-w", "-v", "-v"])
        .env("TINI_SUBREAPER", "1")
        .env("TINI_KILL_PROCESS_GROUP", "1")
        .args(["sh", "-c", script])
        .arg(fixture_bin())
        .spawn();
    ok(ctl.wait_out(
        |l| l.starts_with("ready ") && l.split(' ').count() == 3,
        secs(T),
    ));
    ok(wait_until(
        "two warn lines for the reaped orphans",
        secs(T),
        || {
            let n = ctl
                .stderr_lines()
                .iter()
                .filter(|l| l.starts_with("ctlinit: warn: reaped orphan pid "))
                .count();
            (n == 2).then_some(())
        },
        || ctl.context(),
    ));
    ctl.signal(libc::SIGUSR1);
    ok(ctl.wait_out(|l| l == "signal 10", secs(T)));
    ok(ctl.wait_out(|l| l == "child signal 10", secs(T)));
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(143), "{}", ctl.context());
    let lines = ctl.stderr_lines();
    assert!(
        count_level(&lines, "debug") > 0,
        "-v -v: debug lines: {lines:#?}"
    );
    assert_summary(
        &ctl,
        "status=143 generation=1 exits=1 restarts=0 reason=stopped",
    );
}

/// `--marker NAME` / `NAME=VALUE` and `CTLINIT_MARKER`: the daemon's
/// environment has them (a bare NAME carries ctlinit's pid, §7), beside
/// `CTLINIT_SUPERVISOR`. A marker list on the command line replaces the
/// variable's (§1: the command line wins).
#[test]
fn markers_reach_the_daemon_environment() {
    let cases: &[(&str, &[&str], &[(&str, &str)], &[&str], &[&str])] = &[
        (
            "markers-flags",
            &["--marker", "A", "--marker", "B=c"],
            &[("CTLINIT_MARKER", "X,Y=z")],
            &["A=$PID", "B=c"],
            &["X=", "Y="],
        ),
        (
            "markers-env",
            &[],
            &[("CTLINIT_MARKER", "X,Y=z")],
            &["X=$PID", "Y=z"],
            &["A=", "B="],
        ),
    ];
    for (name, args, envs, present, absent) in cases {
        let dir = TestDir::new(name);
        let mut ctl = start(&dir, args, envs, &["env"]);
        assert_eq!(ctl.wait_code(secs(T)), Ok(0), "{name}{}", ctl.context());
        let env = ctl.out_lines();
        let pid = ctl.pid.to_string();
        for want in present
            .iter()
            .copied()
            .chain(["CTLINIT_SUPERVISOR=$PID", "CTLINIT_GENERATION=1"])
        {
            let want = want.replace("$PID", &pid);
            assert!(env.contains(&want), "{name}: {want} in {env:#?}");
        }
        for prefix in *absent {
            assert!(
                !env.iter().any(|l| l.starts_with(prefix)),
                "{name}: no {prefix}... in {env:#?}"
            );
        }
    }
}

/// `-e`/`--success-exit` and `CTLINIT_SUCCESS_EXIT`: a listed code is a clean
/// exit — not a failure for `on-failure` (one run) and reported as 0; an
/// unlisted one is a failure. The flags' list replaces the variable's.
#[test]
fn success_exit_codes_are_clean_and_reported_as_0() {
    let flags: &[&str] = &["-e", "0", "-e", "3", "--success-exit", "255"];
    let policy = [
        "--restart",
        "on-failure",
        "--max-restarts",
        "1",
        "--backoff",
        "10ms",
    ];
    let env = [("CTLINIT_SUCCESS_EXIT", "1,2")];
    let clean = "status=0 generation=1 exits=1 restarts=0 reason=daemon-exited";
    let cases: &[(&str, &[&str], &[(&str, &str)], &str, i32, &str)] = &[
        ("success-3", flags, &env, "3", 0, clean),
        ("success-255", flags, &env, "255", 0, clean),
        (
            "success-env-replaced",
            flags,
            &env,
            "1",
            1,
            "status=1 generation=2 exits=2 restarts=1 reason=gave-up",
        ),
        ("success-env", &[], &env, "2", 0, clean),
        (
            "success-env-3",
            &[],
            &env,
            "3",
            3,
            "status=3 generation=2 exits=2 restarts=1 reason=gave-up",
        ),
    ];
    for (name, args, envs, code, status, summary) in cases {
        let dir = TestDir::new(name);
        let mut all = args.to_vec();
        all.extend_from_slice(&policy);
        let mut ctl = start(&dir, &all, envs, &["exit", code]);
        assert_eq!(
            ctl.wait_code(secs(T)),
            Ok(*status),
            "{name}: daemon exit {code}{}",
            ctl.context()
        );
        assert_summary(&ctl, summary);
    }
}

/// `--port A,B --port C` (a list and a repeat): every port is waited for
/// before the start. With all three held by this test and a short
/// `--port-timeout`, ctlinit starts nothing and names each one (§9, exit
/// 69, `generation=0`, §14.5); freed, the same options start the daemon.
#[test]
fn every_listed_port_is_waited_for() {
    let ports = [free_port(1), free_port(2), free_port(3)];
    let list = format!("{},{}", ports[0], ports[1]);
    let third = ports[2].to_string();
    let args = ["--port", &list, "--port", &third, "--ready", "none"];

    let dir = TestDir::new("ports-held");
    let held: Vec<TcpListener> = ports
        .iter()
        .map(|&p| TcpListener::bind(("127.0.0.1", p)).expect("hold the port"))
        .collect();
    let mut busy = args.to_vec();
    busy.extend_from_slice(&["--port-timeout", "200ms"]);
    let mut ctl = start(&dir, &busy, &[], &["exit", "0"]);
    assert_eq!(ctl.wait_code(secs(T)), Ok(69), "{}", ctl.context());
    let err = ctl.stderr_text();
    for p in ports {
        assert!(
            err.contains(&format!("ctlinit: error: port {p} is still held by ")),
            "port {p} is named: {err}"
        );
    }
    assert!(!dir.out().exists(), "nothing was started");
    assert_summary(
        &ctl,
        "status=69 generation=0 exits=0 restarts=0 reason=port-busy",
    );
    drop(held);

    let dir = TestDir::new("ports-free");
    let mut ctl = start(&dir, &args, &[], &["argv", "ran"]);
    assert_eq!(ctl.wait_code(secs(T)), Ok(0), "{}", ctl.context());
    assert_eq!(ctl.out_lines(), ["arg ran", "ready"]);
}

/// Guard for a ctlinit that a test orphaned on purpose: on drop, if it still
/// runs (same pid and start time), freeze it, kill its tree, then it.
struct Stray(Option<ProcId>);

impl Drop for Stray {
    fn drop(&mut self) {
        let Some(id) = self.0 else { return };
        if id.running() {
            raw_kill(id.pid, libc::SIGSTOP);
            for p in descendants(id.pid) {
                raw_kill(p, libc::SIGKILL);
            }
            raw_kill(id.pid, libc::SIGKILL);
        }
    }
}

/// `-p`/`--pdeathsig` and `CTLINIT_PDEATHSIG`: when ctlinit's parent dies,
/// ctlinit receives that signal (prctl(PR_SET_PDEATHSIG), which /proc does
/// not show): a stop signal stops it, forwarded to the daemon, and the
/// daemon's log and ctlinit's exit status name the very signal configured.
/// The parent is a shell that runs ctlinit in the foreground; the test
/// SIGKILLs the shell.
#[test]
fn pdeathsig_is_received_when_the_parent_dies() {
    let cases: &[Case] = &[
        ("pdeathsig-flag", &["-p", "INT"], &[]),
        ("pdeathsig-env", &[], &[("CTLINIT_PDEATHSIG", "QUIT")]),
    ];
    for ((name, args, envs), (signo, sname)) in cases.iter().zip([(2, "SIGINT"), (3, "SIGQUIT")]) {
        let dir = TestDir::new(name);
        let stderr = dir.join("ctlinit.stderr");
        let mut cmd = Command::new("sh");
        // Not the last command of the script: the shell forks it and waits.
        cmd.arg("-c")
            .arg(r#""$@"; echo "parent: ctlinit exited $?""#)
            .arg("sh")
            .arg(ctlinit_bin())
            .arg("--pidfile")
            .arg(dir.pidfile())
            .args(*args)
            .arg("--")
            .arg(fixture_bin())
            .arg("sigprint");
        scrub_env(&mut cmd);
        cmd.env("FIXTURE_OUT", dir.out());
        for (k, v) in *envs {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::null())
            .stdout(fs::File::create(dir.join("sh.stdout")).unwrap())
            .stderr(fs::File::create(&stderr).unwrap());
        let mut parent = cmd.spawn().expect("start the parent shell");
        let mut stray = Stray(None);
        let context = || format!("{}{}", tail(&dir.out(), 10), tail(&stderr, 10));
        let v = ok(wait_until(
            "the PID file in state ready",
            secs(T),
            || {
                read_json(&dir.pidfile())
                    .ok()
                    .filter(|v| v["state"] == "ready")
            },
            context,
        ));
        let ctlinit = v["supervisor_pid"].as_i64().expect("supervisor_pid") as i32;
        let daemon = v["pid"].as_i64().expect("pid") as i32;
        stray.0 = ProcId::of(ctlinit);
        assert_eq!(
            proc_stat(ctlinit).map(|s| s.ppid),
            Some(parent.id() as i32),
            "{name}: ctlinit is the shell's child"
        );
        ok(wait_for_line(
            &dir.out(),
            |l| l.starts_with("ready "),
            secs(T),
        ));
        parent.kill().expect("SIGKILL the parent shell");
        let _ = parent.wait();
        let want = format!(
            "ctlinit: exit status={} generation=1 exits=1 restarts=0 reason=stopped",
            128 + signo
        );
        ok(wait_for_line(
            &stderr,
            |l| l.starts_with("ctlinit: exit "),
            secs(T),
        ));
        let lines = read_lines(&stderr);
        assert_eq!(lines.last(), Some(&want), "{name}{}", context());
        assert_in_order(
            &lines,
            &[&format!(
                "stopping generation 1 (pid {daemon}): received {sname}"
            )],
            name,
            &context(),
        );
        assert_eq!(
            read_lines(&dir.out()),
            [format!("ready {daemon}"), format!("signal {signo}")],
            "{name}: the daemon got the forwarded {sname}"
        );
        let id = stray.0.expect("ctlinit's identity");
        ok(wait_until(
            "the orphaned ctlinit to exit",
            secs(T),
            || (!id.running()).then_some(()),
            context,
        ));
    }
}

/// The README shows `ctlinit --help` verbatim; this keeps the two in step.
#[test]
fn readme_shows_the_help_text_verbatim() {
    let readme = include_str!("../README.md");
    let start = "This is `ctlinit --help`, verbatim:\n\n```text\n";
    let i = readme.find(start).expect("README lacks the --help block") + start.len();
    let j = i + readme[i..].find("```").expect("unterminated --help block");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ctlinit"))
        .arg("--help")
        .output()
        .unwrap();
    assert_eq!(
        readme[i..j].trim(),
        String::from_utf8_lossy(&out.stdout).trim()
    );
}
