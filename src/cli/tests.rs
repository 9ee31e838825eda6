//! The parser, rule by rule: each test reads like the behaviour it proves.

use super::keys::{self, Kind, Refuse, TABLE};
use super::*;
use crate::core::config::{ReadyMode, RestartMode};
use crate::core::signals::{
    never_received, refused_for_reload, CANNOT_END, SIGHUP, SIGINT, SIGKILL, SIGQUIT, SIGTERM,
    SIGUSR1, SIGUSR2,
};
use std::os::unix::ffi::OsStringExt;

fn os(v: &[&str]) -> Vec<OsString> {
    v.iter().map(OsString::from).collect()
}

fn run(args: &[&str], env: &[(&str, &str)]) -> Result<Invocation> {
    let env: Vec<(String, OsString)> = env
        .iter()
        .map(|(a, b)| (a.to_string(), OsString::from(b)))
        .collect();
    parse(os(args), |k| {
        env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    })
}

fn cfg(args: &[&str], env: &[(&str, &str)]) -> Result<Config> {
    match run(args, env)? {
        Invocation::Supervise(c) => Ok(*c),
        other => panic!("expected supervise, got {other:?}"),
    }
}

fn ok(args: &[&str], env: &[(&str, &str)]) -> Config {
    cfg(args, env).unwrap_or_else(|e| panic!("{args:?} {env:?}: {e}"))
}

fn err(args: &[&str], env: &[(&str, &str)]) -> String {
    match run(args, env) {
        Err(e) => {
            assert!(matches!(e, Error::Usage(_)), "{e:?}");
            assert_eq!(e.exit_code(), 2);
            e.to_string()
        }
        Ok(c) => panic!("expected a usage error for {args:?} {env:?}, got {c:?}"),
    }
}

/// The error names every one of `names`.
#[track_caller]
fn err_names(args: &[&str], env: &[(&str, &str)], names: &[&str]) -> String {
    let e = err(args, env);
    for n in names {
        assert!(e.contains(n), "{e:?} does not name {n:?}");
    }
    e
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

// ------------------------------------------------------------------ COMMAND

#[test]
fn first_non_option_starts_the_command_and_keeps_its_flags() {
    let c = ok(&["-g", "mydaemon", "--port", "5", "-g"], &[]);
    assert_eq!(c.command, os(&["mydaemon", "--port", "5", "-g"]));
    assert!(c.settings.pgroup);
    assert!(c.settings.ports.is_empty());
}

#[test]
fn double_dash_ends_options_and_verbs_only_come_first() {
    let c = ok(&["--", "status", "-x"], &[]);
    assert_eq!(c.command, os(&["status", "-x"]));
    let c = ok(&["--restart", "always", "status"], &[]);
    assert_eq!(c.command, os(&["status"]));
    let c = ok(&["--", "--", "-g"], &[]);
    assert_eq!(c.command, os(&["--", "-g"]));
    let c = ok(&["-"], &[]);
    assert_eq!(c.command, os(&["-"]), "a lone - is a program name");
    assert_eq!(
        run(&["status", "--json"], &[]).unwrap(),
        Invocation::Status {
            json: true,
            target: Target::default()
        }
    );
}

#[test]
fn the_command_s_arguments_pass_untouched_even_when_not_utf8() {
    let args = vec![
        OsString::from("d"),
        OsString::from_vec(vec![0xff, 0xfe]),
        OsString::from("--help"),
    ];
    match parse(args.clone(), |_| None).unwrap() {
        Invocation::Supervise(c) => assert_eq!(c.command, args),
        other => panic!("{other:?}"),
    }
}

#[test]
fn no_command_is_a_usage_error_mentioning_command() {
    err_names(&[], &[], &["COMMAND"]);
    err_names(&["-g", "--port", "80"], &[], &["COMMAND"]);
    err_names(&["--"], &[], &["COMMAND"]);
}

// ------------------------------------------------------------------ defaults

#[test]
fn defaults_match_the_contract() {
    let c = ok(&["d"], &[]);
    let s = &c.settings;
    assert_eq!(s, &Settings::default());
    assert_eq!(s.policy.mode, RestartMode::No);
    assert_eq!(s.policy.max_restarts, 5);
    assert_eq!(
        (s.policy.backoff_min, s.policy.backoff_max),
        (Duration::from_millis(100), secs(30))
    );
    assert_eq!(s.policy.reset_after, secs(30));
    assert_eq!(s.stop_signal, SIGTERM);
    assert_eq!(s.stop_timeout, secs(8));
    assert_eq!(s.stop_on, vec![SIGTERM, SIGINT, SIGQUIT]);
    assert_eq!(s.stop_delay, Duration::ZERO);
    assert_eq!((s.reload_signal, s.watch_signal), (None, None));
    assert!(s.restart_exit.is_empty() && s.check.is_empty() && !s.watch);
    assert_eq!(s.ready, ReadyMode::None);
    assert_eq!(s.ready_timeout, secs(30));
    assert_eq!(s.watchdog, None);
    assert_eq!(s.port_timeout, secs(5));
    assert_eq!(s.success_exit, vec![0]);
    assert!(!s.pgroup && !s.warn_orphans);
    assert_eq!((c.pidfile, c.lockfile, c.pdeathsig), (None, None, None));
    assert_eq!(c.log_level, LevelFilter::Info);
}

// ------------------------------------------------------------------ spellings

#[test]
fn values_parse_in_every_spelling() {
    let c = ok(
        &[
            "--restart=on-failure:3",
            "--backoff",
            "10ms:2s",
            "--stop-signal",
            "sigint",
            "--stop-timeout",
            "0.5",
            "--reload-signal",
            "1",
            "--port",
            "80,443",
            "--port",
            "8080",
            "-r",
            "TERM:QUIT",
            "-r",
            "USR1:0",
            "-e",
            "3",
            "-e3",
            "--marker",
            "A",
            "--marker",
            "B=x",
            "-vv",
            "d",
        ],
        &[],
    );
    let s = &c.settings;
    assert_eq!(
        (s.policy.mode, s.policy.max_restarts),
        (RestartMode::OnFailure, 3)
    );
    assert_eq!(
        (s.policy.backoff_min, s.policy.backoff_max),
        (Duration::from_millis(10), secs(2))
    );
    assert_eq!(s.stop_signal, SIGINT);
    assert_eq!(s.stop_timeout, Duration::from_millis(500));
    assert_eq!(s.reload_signal, Some(SIGHUP));
    assert_eq!(s.ports, vec![80, 443, 8080]);
    assert_eq!(s.ready, ReadyMode::Port, "--port implies --ready port");
    assert_eq!(s.rewrite, vec![(SIGTERM, SIGQUIT), (SIGUSR1, 0)]);
    assert_eq!(
        s.success_exit,
        vec![3],
        "a command-line list replaces the default"
    );
    assert_eq!(
        s.markers,
        vec![("A".into(), None), ("B".into(), Some("x".into()))]
    );
    assert_eq!(c.log_level, LevelFilter::Trace);
}

#[test]
fn the_new_options_parse() {
    let c = ok(
        &[
            "--stop-on=TERM,INT",
            "--stop-delay",
            "5s",
            "--restart-exit",
            "3",
            "--restart-exit=4",
            "--watch-signal",
            "HUP",
            "--check",
            "/usr/sbin/nginx -t",
            "--ready",
            "notify",
            "--watchdog",
            "20s",
            "d",
        ],
        &[],
    );
    let s = &c.settings;
    assert_eq!(s.stop_on, vec![SIGTERM, SIGINT]);
    assert_eq!(s.stop_delay, secs(5));
    assert_eq!(s.restart_exit, vec![3, 4]);
    assert_eq!(s.watch_signal, Some(SIGHUP));
    assert_eq!(
        s.check,
        vec!["/usr/sbin/nginx".to_string(), "-t".to_string()]
    );
    assert_eq!(s.ready, ReadyMode::Notify);
    assert_eq!(s.watchdog, Some(secs(20)));
}

#[test]
fn tini_s_short_flags_combine() {
    let c = ok(&["-gsw", "-rTERM:0", "-e3", "-pKILL", "d"], &[]);
    assert!(c.settings.pgroup && c.settings.warn_orphans);
    assert_eq!(c.settings.rewrite, vec![(SIGTERM, 0)]);
    assert_eq!(c.settings.success_exit, vec![3]);
    assert_eq!(c.pdeathsig, Some(SIGKILL));
    let c = ok(&["-ge", "7", "d"], &[]);
    assert!(c.settings.pgroup);
    assert_eq!(c.settings.success_exit, vec![7]);
    // A value may start with -: here it is -e's (bad) value, not -g.
    err_names(&["-e", "-g", "d"], &[], &["-e/--success-exit", "'-g'"]);
}

#[test]
fn help_and_version_win_over_bad_values_before_them() {
    assert_eq!(run(&["--help"], &[]).unwrap(), Invocation::Help);
    assert_eq!(run(&["-h"], &[]).unwrap(), Invocation::Help);
    assert_eq!(run(&["-V"], &[]).unwrap(), Invocation::Version);
    assert_eq!(run(&["--version"], &[]).unwrap(), Invocation::Version);
    assert_eq!(
        run(&["--port", "0", "--help"], &[("CTLINIT_PORT", "x")]).unwrap(),
        Invocation::Help
    );
    assert_eq!(run(&["-gh"], &[]).unwrap(), Invocation::Help);
    // After COMMAND, --help is the daemon's.
    assert_eq!(ok(&["d", "--help"], &[]).command, os(&["d", "--help"]));
}

// ------------------------------------------------------------------ sources

#[test]
fn environment_applies_and_command_line_wins() {
    let env = [
        ("CTLINIT_RESTART", "always"),
        ("CTLINIT_STOP_TIMEOUT", "3s"),
        ("CTLINIT_WATCH", "/a:/b"),
        ("CTLINIT_SUCCESS_EXIT", "0,7"),
        ("CTLINIT_MARKER", "X,Y=1"),
        ("TINI_KILL_PROCESS_GROUP", "1"),
        ("CTLINIT_LOG", "warn"),
    ];
    let c = ok(&["--stop-timeout", "1s", "d"], &env);
    assert_eq!(c.settings.policy.mode, RestartMode::Always);
    assert_eq!(c.settings.stop_timeout, secs(1));
    assert_eq!(c.watch, vec![PathBuf::from("/a"), PathBuf::from("/b")]);
    assert!(c.settings.watch);
    assert_eq!(c.settings.success_exit, vec![0, 7]);
    assert_eq!(c.settings.markers.len(), 2);
    assert!(c.settings.pgroup);
    assert_eq!(c.log_level, LevelFilter::Warn);
    let c = ok(&["--watch", "/c", "--watch", "/d", "d"], &env);
    assert_eq!(
        c.watch,
        vec![PathBuf::from("/c"), PathBuf::from("/d")],
        "the first use replaces the variable's list"
    );
}

#[test]
fn a_non_list_option_given_twice_keeps_the_last() {
    let c = ok(
        &["--stop-timeout", "1s", "--stop-timeout=2s", "d"],
        &[("CTLINIT_STOP_TIMEOUT", "3s")],
    );
    assert_eq!(c.settings.stop_timeout, secs(2));
    let c = ok(
        &["--restart", "on-failure:3", "--max-restarts", "9", "d"],
        &[],
    );
    assert_eq!(c.settings.policy.max_restarts, 9);
    let c = ok(
        &["--max-restarts", "9", "--restart", "on-failure:3", "d"],
        &[],
    );
    assert_eq!(c.settings.policy.max_restarts, 3);
    let c = ok(
        &["--restart", "on-failure", "d"],
        &[("CTLINIT_MAX_RESTARTS", "9")],
    );
    assert_eq!(
        c.settings.policy.max_restarts, 9,
        "on-failure without N keeps the count"
    );
    let c = ok(&["--pidfile", "/a", "--pidfile", "/b", "d"], &[]);
    assert_eq!(c.pidfile, Some(PathBuf::from("/b")));
}

#[test]
fn every_list_option_s_first_command_line_use_replaces_the_variable() {
    for (flag, var, env_val, cli_val) in [
        ("--port", "CTLINIT_PORT", "80,443", "8080"),
        ("--watch", "CTLINIT_WATCH", "/a:/b", "/c"),
        ("--marker", "CTLINIT_MARKER", "A,B", "C"),
        ("--rewrite", "CTLINIT_REWRITE", "TERM:0,INT:0", "HUP:0"),
        ("--success-exit", "CTLINIT_SUCCESS_EXIT", "0,3", "4"),
        ("--restart-exit", "CTLINIT_RESTART_EXIT", "3,4", "5"),
        ("--stop-on", "CTLINIT_STOP_ON", "TERM,INT", "QUIT"),
    ] {
        let from_env = ok(&["d"], &[(var, env_val)]);
        let both = ok(&[flag, cli_val, "d"], &[(var, env_val)]);
        let cli = ok(&[flag, cli_val, "d"], &[]);
        assert_ne!(from_env, cli, "{flag}");
        assert_eq!(both, cli, "{flag} replaces {var}");
    }
}

#[test]
fn an_empty_variable_is_unset_for_every_ctlinit_variable() {
    let base = ok(&["d"], &[]);
    for o in TABLE {
        for var in o.vars.iter().filter(|v| v.starts_with("CTLINIT_")) {
            assert_eq!(ok(&["d"], &[(var, "")]), base, "{var}=");
        }
    }
    // ... also where the value would have been an error or a requirement.
    assert_eq!(
        ok(&["d"], &[("CTLINIT_READY", ""), ("CTLINIT_WATCHDOG", "")]),
        base
    );
}

#[test]
fn a_variable_that_is_not_utf8_is_an_error_naming_it() {
    let bytes = OsString::from_vec(vec![b'8', 0xff]);
    for o in TABLE {
        for var in o.vars {
            let e = parse(os(&["d"]), |k| (k == *var).then(|| bytes.clone())).unwrap_err();
            assert!(e.to_string().contains(var), "{e}");
            assert!(e.to_string().contains("not valid UTF-8"), "{e}");
        }
    }
    for verb in ["status", "health", "restart"] {
        for var in ["CTLINIT_PIDFILE", "CTLINIT_LOCKFILE"] {
            let e = parse(os(&[verb]), |k| (k == var).then(|| bytes.clone())).unwrap_err();
            assert!(e.to_string().contains(var), "{e}");
        }
    }
}

#[test]
fn a_flag_value_that_is_not_utf8_is_an_error_naming_the_flag() {
    let args = vec![
        OsString::from("--watch"),
        OsString::from_vec(vec![0xff]),
        "d".into(),
    ];
    let e = parse(args, |_| None).unwrap_err().to_string();
    assert!(e.contains("--watch") && e.contains("UTF-8"), "{e}");
}

#[test]
fn every_option_refuses_a_bad_value_naming_its_flag_and_its_variable() {
    for o in TABLE {
        let bad = match o.kind {
            Kind::Switch => continue,
            Kind::Path => "",
            Kind::Command => " ",
            Kind::Marker => "1X",
            _ => "bogus!",
        };
        if let Some(long) = o.long {
            let flag = format!("--{long}");
            err_names(&[&flag, bad, "d"], &[], &[&flag, &format!("'{bad}'")]);
            err_names(&[&format!("{flag}={bad}"), "d"], &[], &[&flag]);
        }
        if let Some(c) = o.short {
            err_names(&[&format!("-{c}"), bad, "d"], &[], &[&format!("-{c}")]);
        }
        for var in o.vars {
            // A path or a command is refused from a variable when blank.
            let bad = if bad.is_empty() { ":" } else { bad };
            if o.kind == Kind::Path && o.sep.is_none() {
                continue; // a single path: any non-empty variable is one
            }
            err_names(&["d"], &[(var, bad)], &[var]);
        }
    }
}

#[test]
fn every_option_accepts_a_sample_from_its_flag_and_its_variable() {
    for o in TABLE {
        let sample = match o.kind {
            Kind::Switch => continue,
            Kind::Duration if o.key == keys::Key::Watchdog => "0",
            Kind::Duration => "5s",
            Kind::Backoff => "1s:2s",
            Kind::Signal(_) | Kind::Signals(_) => "HUP",
            Kind::Ports => "8080",
            Kind::Count | Kind::ExitCode(_) => "3",
            Kind::Path => "/tmp/x",
            Kind::Marker => "M=1",
            Kind::Rewrite => "USR1:USR2",
            Kind::Policy => "always",
            Kind::Ready => "listen",
            Kind::Command => "true",
            Kind::LogLevel => "debug",
        };
        if let Some(l) = o.long {
            ok(&[&format!("--{l}"), sample, "d"], &[]);
        }
        for var in o.vars {
            ok(&["d"], &[(var, sample)]);
        }
    }
}

// ------------------------------------------------------------------ booleans and logging

#[test]
fn ctlinit_pgroup_is_a_boolean_in_any_case() {
    for on in ["1", "true", "yes", "TRUE", "Yes"] {
        assert!(
            ok(&["d"], &[("CTLINIT_PGROUP", on)]).settings.pgroup,
            "{on}"
        );
    }
    for off in ["0", "false", "no", "NO", "False"] {
        assert!(
            !ok(&["d"], &[("CTLINIT_PGROUP", off)]).settings.pgroup,
            "{off}"
        );
    }
    for bad in ["2", "on", "y", "maybe"] {
        err_names(&["d"], &[("CTLINIT_PGROUP", bad)], &["CTLINIT_PGROUP", bad]);
    }
    assert!(
        ok(&["-g", "d"], &[("CTLINIT_PGROUP", "0")]).settings.pgroup,
        "-g wins"
    );
}

#[test]
fn tini_variables_are_on_whenever_set_even_empty() {
    for v in ["", "0", "1", "anything"] {
        assert!(
            ok(&["d"], &[("TINI_KILL_PROCESS_GROUP", v)])
                .settings
                .pgroup,
            "{v:?}"
        );
        ok(&["d"], &[("TINI_SUBREAPER", v)]);
    }
    let both = [("TINI_KILL_PROCESS_GROUP", "1"), ("CTLINIT_PGROUP", "0")];
    assert!(
        !ok(&["d"], &both).settings.pgroup,
        "ctlinit's own variable wins over tini's"
    );
}

#[test]
fn log_level_from_ctlinit_log_and_v_q() {
    for (v, l) in [
        ("error", LevelFilter::Error),
        ("warn", LevelFilter::Warn),
        ("info", LevelFilter::Info),
        ("debug", LevelFilter::Debug),
        ("trace", LevelFilter::Trace),
    ] {
        assert_eq!(ok(&["d"], &[("CTLINIT_LOG", v)]).log_level, l);
    }
    for bad in ["loud", "off", "5", "warning"] {
        err_names(&["d"], &[("CTLINIT_LOG", bad)], &["CTLINIT_LOG", bad]);
    }
    let env = [("CTLINIT_LOG", "warn")];
    assert_eq!(ok(&["-v", "d"], &env).log_level, LevelFilter::Debug);
    assert_eq!(ok(&["-vv", "d"], &env).log_level, LevelFilter::Trace);
    assert_eq!(
        ok(&["-v", "-v", "-v", "d"], &env).log_level,
        LevelFilter::Trace
    );
    assert_eq!(
        ok(&["-q", "d"], &[("CTLINIT_LOG", "trace")]).log_level,
        LevelFilter::Error
    );
    assert_eq!(
        ok(&["-v", "-q", "d"], &[]).log_level,
        LevelFilter::Error,
        "the last wins"
    );
}

// ------------------------------------------------------------------ durations

fn duration_flags() -> Vec<(String, &'static str)> {
    TABLE
        .iter()
        .filter(|o| matches!(o.kind, Kind::Duration | Kind::Backoff))
        .map(|o| (o.flag(), o.vars[0]))
        .collect()
}

#[test]
fn every_duration_accepts_365_days_and_refuses_366() {
    let notify = ["--ready", "notify"];
    for (flag, var) in duration_flags() {
        let flag = flag.as_str();
        let c = ok(&[&notify[..], &[flag, "365d", "d"]].concat(), &[]);
        let c2 = ok(&[&notify[..], &["d"]].concat(), &[]);
        assert_ne!(c, c2, "{flag} 365d");
        for long in ["366d", "1y", "31536001", "10000000000000000000s", "8761h"] {
            err_names(
                &[&notify[..], &[flag, long, "d"]].concat(),
                &[],
                &[flag, long, "365 days"],
            );
            err_names(
                &[&notify[..], &["d"]].concat(),
                &[(var, long)],
                &[var, long],
            );
        }
        for bad in [
            "inf",
            "nan",
            "1e400",
            "-1",
            "-5s",
            "soon",
            "1e3",
            " ",
            "5 parsecs",
        ] {
            err_names(&[&notify[..], &[flag, bad, "d"]].concat(), &[], &[flag]);
        }
    }
    let max = Duration::from_secs(365 * 86_400);
    assert_eq!(
        ok(&["--stop-timeout", "8760h", "d"], &[])
            .settings
            .stop_timeout,
        max
    );
    assert_eq!(
        ok(&["--backoff", "0:365d", "d"], &[])
            .settings
            .policy
            .backoff_max,
        max
    );
    err_names(&["--backoff", "1s:366d", "d"], &[], &["--backoff"]);
}

#[test]
fn bare_numbers_are_seconds_with_an_optional_fraction() {
    assert_eq!(
        ok(&["--stop-timeout", "8", "d"], &[]).settings.stop_timeout,
        secs(8)
    );
    assert_eq!(
        ok(&["--stop-timeout", "0.5", "d"], &[])
            .settings
            .stop_timeout,
        Duration::from_millis(500)
    );
    assert_eq!(
        ok(&["--stop-timeout", "0", "d"], &[]).settings.stop_timeout,
        Duration::ZERO
    );
    err_names(
        &["--stop-timeout", "1.2.3", "d"],
        &[],
        &["--stop-timeout", "'1.2.3'"],
    );
}

#[test]
fn backoff_min_alone_keeps_the_default_max_or_raises_it() {
    let p = ok(&["--backoff", "5s", "d"], &[]).settings.policy;
    assert_eq!((p.backoff_min, p.backoff_max), (secs(5), secs(30)));
    let p = ok(&["--backoff", "1m", "d"], &[]).settings.policy;
    assert_eq!((p.backoff_min, p.backoff_max), (secs(60), secs(60)));
    let p = ok(&["--backoff", "2s", "d"], &[("CTLINIT_BACKOFF", "1s:5s")])
        .settings
        .policy;
    assert_eq!(
        (p.backoff_min, p.backoff_max),
        (secs(2), secs(30)),
        "the flag replaces the whole variable"
    );
    err_names(&["--backoff", "2s:1s", "d"], &[], &["--backoff", "'2s:1s'"]);
    err_names(
        &["d"],
        &[("CTLINIT_BACKOFF", "fast")],
        &["CTLINIT_BACKOFF", "'fast'"],
    );
}

// ------------------------------------------------------------------ counts, codes, ports

#[test]
fn max_restarts_from_0_to_a_million() {
    assert_eq!(
        ok(&["--max-restarts", "1000000", "d"], &[])
            .settings
            .policy
            .max_restarts,
        1_000_000
    );
    assert_eq!(
        ok(&["--max-restarts", "0", "d"], &[])
            .settings
            .policy
            .max_restarts,
        0
    );
    assert_eq!(
        ok(&["--max-restarts", " 7 ", "d"], &[])
            .settings
            .policy
            .max_restarts,
        7
    );
    for bad in [
        "1000001",
        "4294967295",
        "4294967296",
        "-1",
        "1.5",
        "1e6",
        "+3",
    ] {
        err_names(&["--max-restarts", bad, "d"], &[], &["--max-restarts", bad]);
        err_names(
            &["d"],
            &[("CTLINIT_MAX_RESTARTS", bad)],
            &["CTLINIT_MAX_RESTARTS", bad],
        );
        err_names(
            &["--restart", &format!("on-failure:{bad}"), "d"],
            &[],
            &["--restart"],
        );
    }
    let p = ok(&["--restart", "on-failure:1000000", "d"], &[])
        .settings
        .policy;
    assert_eq!(
        (p.mode, p.max_restarts),
        (RestartMode::OnFailure, 1_000_000)
    );
}

#[test]
fn restart_policies() {
    for (v, mode) in [
        ("no", RestartMode::No),
        ("on-failure", RestartMode::OnFailure),
        ("always", RestartMode::Always),
        ("unless-stopped", RestartMode::Always),
    ] {
        assert_eq!(ok(&["--restart", v, "d"], &[]).settings.policy.mode, mode);
        assert_eq!(
            ok(&["d"], &[("CTLINIT_RESTART", v)]).settings.policy.mode,
            mode
        );
    }
    err_names(
        &["--restart", "sometimes", "d"],
        &[],
        &["--restart", "sometimes"],
    );
}

#[test]
fn ports_from_1_to_65535() {
    assert_eq!(
        ok(&["--port", "1", "--port", "65535", "d"], &[])
            .settings
            .ports,
        vec![1, 65535]
    );
    for bad in [
        "0",
        "65536",
        "4294967297",
        "-1",
        "80,",
        ",80",
        "80,,443",
        "http",
    ] {
        err_names(&["--port", bad, "d"], &[], &["--port", bad]);
        err_names(&["d"], &[("CTLINIT_PORT", bad)], &["CTLINIT_PORT"]);
    }
    let c = ok(&["--port", "80,443", "--port", "80", "d"], &[]);
    assert_eq!(
        c.settings.ports,
        vec![80, 443],
        "duplicates collapse, order kept"
    );
    let c = ok(&["d"], &[("CTLINIT_PORT", "443,80,443")]);
    assert_eq!(c.settings.ports, vec![443, 80]);
    assert_eq!(c.settings.ready, ReadyMode::Port);
}

#[test]
fn success_and_restart_exit_codes_and_their_ranges() {
    assert_eq!(
        ok(&["-e", "0", "-e", "255", "d"], &[])
            .settings
            .success_exit,
        vec![0, 255]
    );
    err_names(&["-e", "256", "d"], &[], &["-e", "--success-exit", "256"]);
    err_names(
        &["--success-exit", "-1", "d"],
        &[],
        &["--success-exit", "-1"],
    );
    err_names(
        &["d"],
        &[("CTLINIT_SUCCESS_EXIT", "0,256")],
        &["CTLINIT_SUCCESS_EXIT", "256"],
    );
    err_names(
        &["d"],
        &[("CTLINIT_SUCCESS_EXIT", "0,")],
        &["CTLINIT_SUCCESS_EXIT", "empty item"],
    );
    assert_eq!(
        ok(&["--restart-exit", "1", "--restart-exit", "255", "d"], &[])
            .settings
            .restart_exit,
        vec![1, 255]
    );
    err_names(
        &["--restart-exit", "0", "d"],
        &[],
        &["--restart-exit", "'0'"],
    );
    err_names(
        &["--restart-exit", "256", "d"],
        &[],
        &["--restart-exit", "256"],
    );
    assert_eq!(
        ok(&["d"], &[("CTLINIT_RESTART_EXIT", "3,4,3")])
            .settings
            .restart_exit,
        vec![3, 4]
    );
    assert_eq!(
        ok(&["-e", "3", "-e", "3", "d"], &[]).settings.success_exit,
        vec![3]
    );
}

#[test]
fn an_exit_code_cannot_be_both_clean_and_a_restart_request() {
    err_names(
        &["-e", "3", "--restart-exit", "3", "d"],
        &[],
        &["--restart-exit", "-e/--success-exit", "3"],
    );
    err_names(
        &["d"],
        &[
            ("CTLINIT_SUCCESS_EXIT", "0,3"),
            ("CTLINIT_RESTART_EXIT", "3"),
        ],
        &["CTLINIT_RESTART_EXIT", "CTLINIT_SUCCESS_EXIT"],
    );
    err_names(
        &["--restart-exit", "3", "d"],
        &[("CTLINIT_SUCCESS_EXIT", "3")],
        &["--restart-exit", "CTLINIT_SUCCESS_EXIT"],
    );
    // The command line replaces the variable's list before the check.
    ok(
        &["-e", "0", "--restart-exit", "3", "d"],
        &[("CTLINIT_SUCCESS_EXIT", "3")],
    );
}

// ------------------------------------------------------------------ signals

#[test]
fn signals_from_1_to_64_by_name_or_number() {
    for (v, n) in [
        ("1", 1),
        ("64", 64),
        ("SIGRTMAX", 64),
        ("RTMIN+2", 36),
        ("sigusr1", SIGUSR1),
        ("Term", SIGTERM),
    ] {
        assert_eq!(
            ok(&["--stop-signal", v, "d"], &[]).settings.stop_signal,
            n,
            "{v}"
        );
    }
    for bad in [
        "0",
        "65",
        "-1",
        "NOPE",
        "RTMIN+2147483647",
        "4294967311",
        "",
    ] {
        err_names(
            &["--stop-signal", bad, "d"],
            &[],
            &["--stop-signal", &format!("'{bad}'")],
        );
    }
}

#[test]
fn stop_signal_and_pdeathsig_refuse_signals_that_cannot_end_a_process() {
    for sig in CANNOT_END {
        let n = sig.to_string();
        let name = values::short_name(sig);
        err_names(
            &["--stop-signal", &name, "d"],
            &[],
            &["--stop-signal", "cannot end a process"],
        );
        err_names(
            &["d"],
            &[("CTLINIT_STOP_SIGNAL", &n)],
            &["CTLINIT_STOP_SIGNAL", &name],
        );
        err_names(&["-p", &n, "d"], &[], &["-p/--pdeathsig", &name]);
        err_names(
            &["d"],
            &[("CTLINIT_PDEATHSIG", &name)],
            &["CTLINIT_PDEATHSIG"],
        );
    }
    assert_eq!(
        err(&["--stop-signal", "CHLD", "d"], &[]),
        "invalid value 'CHLD' for --stop-signal: CHLD cannot end a process (see ctlinit --help)"
    );
    assert_eq!(
        ok(&["--pdeathsig", "KILL", "d"], &[]).pdeathsig,
        Some(SIGKILL)
    );
}

#[test]
fn reload_and_watch_signals_refuse_stop_unreceivable_and_fault_signals() {
    for sig in 1..=64 {
        let refused = refused_for_reload(sig);
        for (flag, var) in [
            ("--reload-signal", "CTLINIT_RELOAD_SIGNAL"),
            ("--watch-signal", "CTLINIT_WATCH_SIGNAL"),
        ] {
            let n = sig.to_string();
            if refused {
                err_names(&[flag, &n, "d"], &[], &[flag, &values::short_name(sig)]);
                err_names(&["d"], &[(var, &n)], &[var]);
            } else {
                ok(&[flag, &n, "d"], &[]);
            }
        }
    }
    assert_eq!(
        err(&["--reload-signal", "TERM", "d"], &[]),
        "invalid value 'TERM' for --reload-signal: TERM means \"stop\" and cannot also mean \"reload\" (see ctlinit --help)"
    );
    let c = ok(&["--watch-signal", "HUP", "d"], &[]);
    assert_eq!(
        (c.settings.watch_signal, c.settings.watch),
        (Some(SIGHUP), false),
        "allowed without --watch"
    );
}

#[test]
fn stop_on_is_a_non_empty_list_of_receivable_signals() {
    assert_eq!(
        ok(&["--stop-on", "TERM,INT", "d"], &[]).settings.stop_on,
        vec![SIGTERM, SIGINT]
    );
    assert_eq!(
        ok(&["--stop-on", "TERM,term,15", "d"], &[])
            .settings
            .stop_on,
        vec![SIGTERM]
    );
    assert_eq!(
        ok(&["--stop-on", "TERM", "--stop-on", "USR2", "d"], &[])
            .settings
            .stop_on,
        vec![SIGTERM, SIGUSR2]
    );
    assert_eq!(
        ok(&["d"], &[("CTLINIT_STOP_ON", "TERM,INT")])
            .settings
            .stop_on,
        vec![SIGTERM, SIGINT]
    );
    for bad in ["", ",", "TERM,", "TERM,,INT"] {
        err_names(&["--stop-on", bad, "d"], &[], &["--stop-on", "empty item"]);
    }
    err_names(
        &["d"],
        &[("CTLINIT_STOP_ON", "TERM,")],
        &["CTLINIT_STOP_ON", "empty item"],
    );
    for sig in (1..=64).filter(|&s| never_received(s)) {
        let list = format!("TERM,{}", values::short_name(sig));
        err_names(
            &["--stop-on", &list, "d"],
            &[],
            &["--stop-on", &values::short_name(sig)],
        );
        err_names(&["d"], &[("CTLINIT_STOP_ON", &list)], &["CTLINIT_STOP_ON"]);
    }
    err_names(
        &["--stop-on", "TERM,NOPE", "d"],
        &[],
        &["--stop-on", "NOPE"],
    );
}

#[test]
fn stop_on_cannot_hold_the_reload_signal() {
    err_names(
        &["--stop-on", "TERM,HUP", "--reload-signal", "HUP", "d"],
        &[],
        &["--stop-on", "--reload-signal", "HUP"],
    );
    err_names(
        &["d"],
        &[
            ("CTLINIT_STOP_ON", "TERM,USR1"),
            ("CTLINIT_RELOAD_SIGNAL", "USR1"),
        ],
        &["CTLINIT_STOP_ON", "CTLINIT_RELOAD_SIGNAL", "USR1"],
    );
    let c = ok(&["--stop-on", "TERM", "--reload-signal", "HUP", "d"], &[]);
    assert_eq!(
        (c.settings.stop_on, c.settings.reload_signal),
        (vec![SIGTERM], Some(SIGHUP))
    );
}

#[test]
fn rewrites_replace_earlier_ones_of_the_same_from() {
    let c = ok(
        &[
            "-r",
            "TERM:QUIT",
            "--rewrite",
            "TERM:0",
            "-r",
            "USR1:USR2",
            "d",
        ],
        &[],
    );
    assert_eq!(c.settings.rewrite, vec![(SIGTERM, 0), (SIGUSR1, SIGUSR2)]);
    let c = ok(&["d"], &[("CTLINIT_REWRITE", "TERM:QUIT,USR1:0")]);
    assert_eq!(c.settings.rewrite, vec![(SIGTERM, SIGQUIT), (SIGUSR1, 0)]);
    for sig in (1..=64).filter(|&s| never_received(s)) {
        let v = format!("{}:TERM", values::short_name(sig));
        err_names(&["-r", &v, "d"], &[], &["-r/--rewrite", &v]);
        err_names(&["d"], &[("CTLINIT_REWRITE", &v)], &["CTLINIT_REWRITE"]);
    }
    for bad in ["TERM", "TERM:", "TERM:65", "TERM:00", "0:TERM"] {
        err_names(
            &["--rewrite", bad, "d"],
            &[],
            &["--rewrite", &format!("'{bad}'")],
        );
    }
}

// ------------------------------------------------------------------ readiness

#[test]
fn ready_defaults_to_port_with_ports_and_port_needs_one() {
    assert_eq!(
        ok(&["--port", "80", "d"], &[]).settings.ready,
        ReadyMode::Port
    );
    assert_eq!(
        ok(&["--port", "80", "--ready", "none", "d"], &[])
            .settings
            .ready,
        ReadyMode::None
    );
    assert_eq!(
        ok(&["--ready", "listen", "d"], &[]).settings.ready,
        ReadyMode::Listen
    );
    err_names(
        &["--ready", "port", "d"],
        &[],
        &["--ready", "'port'", "--port"],
    );
    err_names(&["d"], &[("CTLINIT_READY", "port")], &["CTLINIT_READY"]);
    err_names(&["--ready", "ready", "d"], &[], &["--ready", "ready"]);
    err_names(
        &["--ready", "port", "d"],
        &[("CTLINIT_PORT", "")],
        &["--ready"],
    );
}

#[test]
fn watchdog_needs_ready_notify_unless_it_is_0() {
    let c = ok(&["--ready", "notify", "--watchdog", "10s", "d"], &[]);
    assert_eq!(c.settings.watchdog, Some(secs(10)));
    err_names(
        &["--watchdog", "10s", "d"],
        &[],
        &["--watchdog", "'10s'", "notify"],
    );
    err_names(
        &["--watchdog", "10s", "--ready", "listen", "d"],
        &[],
        &["--watchdog"],
    );
    err_names(
        &["d"],
        &[("CTLINIT_WATCHDOG", "10s")],
        &["CTLINIT_WATCHDOG", "notify"],
    );
    ok(
        &["d"],
        &[("CTLINIT_WATCHDOG", "10s"), ("CTLINIT_READY", "notify")],
    );
    assert_eq!(
        ok(&["--watchdog", "0", "d"], &[]).settings.watchdog,
        None,
        "0 = off, anywhere"
    );
    assert_eq!(
        ok(&["--watchdog", "0s", "--ready", "notify", "d"], &[])
            .settings
            .watchdog,
        None
    );
    let c = ok(
        &["--watchdog", "0", "d"],
        &[("CTLINIT_WATCHDOG", "10s"), ("CTLINIT_READY", "listen")],
    );
    assert_eq!(
        c.settings.watchdog, None,
        "the command line turns the variable's watchdog off"
    );
}

// ------------------------------------------------------------------ words

#[test]
fn markers_are_environment_names_not_ctlinit_s_own() {
    let c = ok(
        &["--marker", "A", "--marker", "B=x=y", "--marker", "_C=", "d"],
        &[],
    );
    assert_eq!(
        c.settings.markers,
        vec![
            ("A".into(), None),
            ("B".into(), Some("x=y".into())),
            ("_C".into(), Some(String::new()))
        ]
    );
    let c = ok(&["--marker", "A=1", "--marker", "A=2", "d"], &[]);
    assert_eq!(
        c.settings.markers,
        vec![("A".into(), Some("2".into()))],
        "a later NAME replaces"
    );
    let c = ok(&["d"], &[("CTLINIT_MARKER", "X,Y=1")]);
    assert_eq!(
        c.settings.markers,
        vec![("X".into(), None), ("Y".into(), Some("1".into()))]
    );
    for bad in ["1BAD", "A-B", "=x", "", "A B=1"] {
        err_names(
            &["--marker", bad, "d"],
            &[],
            &["--marker", &format!("'{bad}'")],
        );
    }
    for forged in [
        "CTLINIT_SUPERVISOR",
        "CTLINIT_SUPERVISOR=1",
        "CTLINIT_GENERATION=7",
        "CTLINIT_",
    ] {
        err_names(
            &["--marker", forged, "d"],
            &[],
            &["--marker", forged, "forge"],
        );
        err_names(
            &["d"],
            &[("CTLINIT_MARKER", forged)],
            &["CTLINIT_MARKER", "forge"],
        );
    }
    err_names(
        &["d"],
        &[("CTLINIT_MARKER", "A,,B")],
        &["CTLINIT_MARKER", "empty item"],
    );
}

#[test]
fn watch_paths_are_non_empty_and_set_settings_watch() {
    let c = ok(&["--watch", "/etc/a.conf", "--watch=/etc/b:c", "d"], &[]);
    assert_eq!(
        c.watch,
        vec![PathBuf::from("/etc/a.conf"), PathBuf::from("/etc/b:c")]
    );
    assert!(c.settings.watch);
    assert!(!ok(&["d"], &[]).settings.watch);
    err_names(&["--watch", "", "d"], &[], &["--watch", "non-empty"]);
    err_names(&["--watch=", "d"], &[], &["--watch"]);
    for bad in ["/a::/b", "/a:", ":/a", ":"] {
        err_names(
            &["d"],
            &[("CTLINIT_WATCH", bad)],
            &["CTLINIT_WATCH", "empty item"],
        );
    }
    assert_eq!(
        ok(&["d"], &[("CTLINIT_WATCH", "/a")]).watch,
        vec![PathBuf::from("/a")]
    );
}

#[test]
fn pidfile_and_lockfile_are_non_empty_paths() {
    let c = ok(
        &["--pidfile", "/run/x.pid", "--lockfile=/run/x.lock", "d"],
        &[],
    );
    assert_eq!(c.pidfile, Some(PathBuf::from("/run/x.pid")));
    assert_eq!(c.lockfile, Some(PathBuf::from("/run/x.lock")));
    err_names(&["--pidfile", "", "d"], &[], &["--pidfile"]);
    err_names(&["--lockfile=", "d"], &[], &["--lockfile"]);
    let c = ok(
        &["d"],
        &[("CTLINIT_PIDFILE", "/p"), ("CTLINIT_LOCKFILE", "/l")],
    );
    assert_eq!(
        (c.pidfile, c.lockfile),
        (Some("/p".into()), Some("/l".into()))
    );
}

#[test]
fn check_is_split_on_spaces_without_a_shell() {
    let c = ok(&["--check", "  /usr/sbin/nginx   -t -q ", "d"], &[]);
    assert_eq!(c.settings.check, vec!["/usr/sbin/nginx", "-t", "-q"]);
    let c = ok(&["--check", "sh -c 'a b'", "d"], &[]);
    assert_eq!(
        c.settings.check,
        vec!["sh", "-c", "'a", "b'"],
        "no shell, no quoting"
    );
    for blank in ["", " ", "   "] {
        err_names(&["--check", blank, "d"], &[], &["--check"]);
    }
    assert!(ok(&["d"], &[("CTLINIT_CHECK", "")])
        .settings
        .check
        .is_empty());
    err_names(&["d"], &[("CTLINIT_CHECK", "  ")], &["CTLINIT_CHECK"]);
    assert_eq!(
        ok(&["d"], &[("CTLINIT_CHECK", "nginx -t")]).settings.check,
        vec!["nginx", "-t"]
    );
}

// ------------------------------------------------------------------ the command line's own errors

#[test]
fn unknown_options_and_missing_values_are_named() {
    err_names(&["--bogus", "d"], &[], &["unknown option --bogus"]);
    err_names(&["-x", "d"], &[], &["unknown option -x"]);
    err_names(&["-gx", "d"], &[], &["unknown option -x"]);
    err_names(&["--json", "d"], &[], &["--json"]);
    assert_eq!(
        err(&["--stop-timeout"], &[]),
        "--stop-timeout needs a value (see ctlinit --help)"
    );
    err_names(&["-e"], &[], &["-e/--success-exit needs a value"]);
    err_names(&["-g", "--port"], &[], &["--port needs a value"]);
    err_names(&["--pgroup=1", "d"], &[], &["--pgroup", "takes no value"]);
    err_names(&["-g=1", "d"], &[], &["-g", "takes no value"]);
}

#[test]
fn hostile_values_are_shown_escaped_in_messages() {
    let e = err(&["--stop-timeout", "1\n\u{1b}[31mfake", "d"], &[]);
    assert!(
        e.contains("1\\n\\u{1b}[31mfake") && !e.contains('\n'),
        "{e:?}"
    );
}

// ------------------------------------------------------------------ the verbs

#[test]
fn verbs_read_their_flags_and_variables() {
    assert_eq!(
        run(&["status"], &[]).unwrap(),
        Invocation::Status {
            json: false,
            target: Target::default()
        }
    );
    let t = Target {
        pidfile: Some("/p".into()),
        lockfile: Some("/l".into()),
    };
    assert_eq!(
        run(&["health", "--pidfile", "/p", "--lockfile=/l"], &[]).unwrap(),
        Invocation::Health { target: t.clone() }
    );
    assert_eq!(
        run(
            &["health"],
            &[("CTLINIT_PIDFILE", "/p"), ("CTLINIT_LOCKFILE", "/l")]
        )
        .unwrap(),
        Invocation::Health { target: t.clone() }
    );
    assert_eq!(
        run(
            &["status", "--pidfile", "/p"],
            &[("CTLINIT_PIDFILE", "/x"), ("CTLINIT_LOCKFILE", "/l")]
        )
        .unwrap(),
        Invocation::Status {
            json: false,
            target: t
        },
        "the flag wins"
    );
    assert_eq!(
        run(
            &["status"],
            &[("CTLINIT_PIDFILE", ""), ("CTLINIT_LOCKFILE", "")]
        )
        .unwrap(),
        Invocation::Status {
            json: false,
            target: Target::default()
        },
        "empty = unset"
    );
    assert_eq!(run(&["restart", "--help"], &[]).unwrap(), Invocation::Help);
}

#[test]
fn verbs_ignore_the_supervisor_s_other_variables() {
    let env = [("CTLINIT_PORT", "bogus"), ("CTLINIT_STOP_TIMEOUT", "soon")];
    assert!(run(&["status"], &env).is_ok());
}

#[test]
fn restart_timeout_defaults_to_60s_and_follows_the_duration_rules() {
    let timeout = |args: &[&str]| match run(args, &[]) {
        Ok(Invocation::Restart { timeout, .. }) => Ok(timeout),
        Ok(other) => panic!("{other:?}"),
        Err(e) => Err(e.to_string()),
    };
    assert_eq!(timeout(&["restart"]), Ok(secs(60)));
    assert_eq!(timeout(&["restart", "--timeout", "5"]), Ok(secs(5)));
    assert_eq!(
        timeout(&["restart", "--timeout=365d"]),
        Ok(secs(365 * 86_400))
    );
    for bad in [
        "366d",
        "inf",
        "-1",
        "soon",
        "1e400",
        "10000000000000000000s",
    ] {
        let e = timeout(&["restart", "--timeout", bad]).unwrap_err();
        assert!(e.contains("--timeout") && e.contains(bad), "{e}");
    }
    let e = timeout(&["restart", "--timeout"]).unwrap_err();
    assert!(
        e.contains("ctlinit restart: --timeout needs a value"),
        "{e}"
    );
}

#[test]
fn verbs_refuse_anything_else() {
    for (args, what) in [
        (&["status", "--timeout", "5"][..], "--timeout"),
        (&["health", "--json"][..], "--json"),
        (&["restart", "--json"][..], "--json"),
        (&["status", "extra"][..], "'extra'"),
        (&["status", "-g"][..], "-g"),
        (&["status", "--json=yes"][..], "--json"),
        (&["health", "--port", "80"][..], "--port"),
    ] {
        let e = run(args, &[]).unwrap_err().to_string();
        let verb = args[0];
        assert!(
            e.contains(&format!("ctlinit {verb}: unexpected argument")) && e.contains(what),
            "{e}"
        );
    }
    let e = run(&["status", "--pidfile", ""], &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("--pidfile"), "{e}");
}

// ------------------------------------------------------------------ the table and the builder agree

#[test]
fn every_signal_kind_in_the_table_has_the_contract_s_refusal() {
    for (key, refuse) in [
        (keys::Key::StopSignal, Refuse::CannotEnd),
        (keys::Key::Pdeathsig, Refuse::CannotEnd),
        (keys::Key::ReloadSignal, Refuse::Reload),
        (keys::Key::WatchSignal, Refuse::Reload),
    ] {
        assert_eq!(keys::of(key).kind, Kind::Signal(refuse), "{key:?}");
    }
    assert_eq!(
        keys::of(keys::Key::StopOn).kind,
        Kind::Signals(Refuse::NeverReceived)
    );
}
