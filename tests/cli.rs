//! SPEC §1, §2, §12, §14.10/11/17: invocation, options and environment
//! variables, usage errors, --help/--version, verbs vs. COMMAND.

#[macro_use]
mod common;

use common::*;
use std::fs;
use std::os::unix::fs::PermissionsExt;

const T: f64 = 10.0;

fn p(path: &std::path::Path) -> String {
    path.to_string_lossy().into_owned()
}

/// Runs a usage error case and checks SPEC §1/§14.10: exit 2, the message
/// names the flag/variable and the bad value, nothing was started and no PID
/// or lock file was written.
fn usage_error(name: &str, args: &[&str], envs: &[(&str, &str)], must_name: &[&str]) {
    let dir = TestDir::new(name);
    let pidfile = p(&dir.pidfile());
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

    let pidfile = p(&dir.pidfile());
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
        for flag in [
            "--restart",
            "--max-restarts",
            "--backoff",
            "--reset-after",
            "--stop-signal",
            "--stop-timeout",
            "--reload-signal",
            "--watch",
            "--port",
            "--ready",
            "--ready-timeout",
            "--port-timeout",
            "--pidfile",
            "--lockfile",
            "--marker",
            "-g",
            "--pgroup",
            "-r",
            "--rewrite",
            "-e",
            "--success-exit",
            "-s",
            "-w",
            "-p",
            "--pdeathsig",
            "-v",
            "-q",
            "--help",
            "--version",
        ] {
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
    let pidfile = p(&dir.pidfile());
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
    let pidfile = p(&dir.pidfile());
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
    let pidfile = p(&dir.pidfile());

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
    let pidfile = p(&dir.join("nothing.pid"));
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
    let counter = p(&dir.join("count"));
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
    let counter = p(&dir.join("count"));
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

/// Accepted spellings (§2): durations as `250ms`/bare seconds, signals as
/// `TERM`/`SIGTERM`/`sigterm`/`15`, tini's `-s`, `-w`, `-v`, `-q`, and
/// `TINI_SUBREAPER=1`.
/// (name, arguments, environment) of one invocation.
type Case<'a> = (&'a str, &'a [&'a str], &'a [(&'a str, &'a str)]);

#[test]
fn accepted_spellings_run_normally() {
    let cases: &[Case] = &[
        (
            "dur-ms",
            &["--stop-timeout", "250ms", "--backoff", "100ms:2m"],
            &[],
        ),
        (
            "dur-bare",
            &["--stop-timeout", "0.5", "--reset-after", "8"],
            &[],
        ),
        (
            "dur-h",
            &["--reset-after", "1h", "--ready-timeout", "5s"],
            &[],
        ),
        (
            "sig-forms",
            &[
                "--stop-signal",
                "SIGTERM",
                "--reload-signal",
                "hup",
                "-r",
                "sigusr1:12",
                "-r",
                "15:QUIT",
            ],
            &[],
        ),
        (
            "tini",
            &["-s", "-w", "-v", "-v"],
            &[("TINI_SUBREAPER", "1"), ("TINI_KILL_PROCESS_GROUP", "1")],
        ),
        (
            "quiet",
            &["-q"],
            &[("CTLINIT_LOG", "debug"), ("CTLINIT_PGROUP", "1")],
        ),
        (
            "markers",
            &["--marker", "A", "--marker", "B=c"],
            &[("CTLINIT_MARKER", "X,Y=z")],
        ),
        ("log-error", &[], &[("CTLINIT_LOG", "error")]),
        ("log-warn", &[], &[("CTLINIT_LOG", "warn")]),
        ("log-info", &[], &[("CTLINIT_LOG", "info")]),
        ("log-trace", &[], &[("CTLINIT_LOG", "trace")]),
        (
            "success",
            &["-e", "0", "-e", "3", "--success-exit", "255"],
            &[("CTLINIT_SUCCESS_EXIT", "1,2")],
        ),
    ];
    let ports = [free_port(1), free_port(2), free_port(3)];
    let port_list = format!("{},{}", ports[0], ports[1]);
    let port3 = ports[2].to_string();
    let port_args: &[&str] = &["--port", &port_list, "--port", &port3, "--ready", "none"];
    let cases: Vec<Case> = cases
        .iter()
        .copied()
        .chain([("port", port_args, &[] as &[(&str, &str)])])
        .collect();
    for (name, args, envs) in cases {
        let dir = TestDir::new(name);
        let pidfile = p(&dir.pidfile());
        let fx = fixture_str();
        let mut full: Vec<&str> = vec!["--pidfile", &pidfile];
        full.extend_from_slice(args);
        full.extend_from_slice(&[&fx, "exit", "0"]);
        let r = run_ctlinit(&dir, "ctl", &full, envs, secs(T));
        assert_eq!(
            r.code,
            Some(0),
            "{name}: {args:?} {envs:?} must be accepted: {r:?}"
        );
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
