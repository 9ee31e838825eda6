//! Property tests (proptest) of the whole parser — flags and environment
//! together — with arbitrary strings, numbers, non-UTF-8 bytes, and known
//! flags and variables with hostile values. `cargo fuzz` needs a nightly
//! toolchain, so these run on stable as ordinary unit tests with small case
//! counts (a few seconds in all); `CTLINIT_SOAK=1` multiplies the counts by
//! 100. Failing cases are not persisted to files.
//!
//! Properties: no input panics; an accepted configuration satisfies every
//! range and every rule between options; a refusal is a usage error (exit 2)
//! whose message names a flag or variable that was in the input; an empty
//! `CTLINIT_*` variable changes nothing; the command line wins; numbers are
//! accepted exactly within their ranges.

use super::keys::TABLE;
use super::values::{MAX_DURATION, MAX_RESTARTS};
use super::{parse, values, Config, Invocation};
use crate::core::config::ReadyMode;
use crate::core::signals::{self, never_received, refused_for_reload, CANNOT_END};
use crate::error::Error;
use proptest::prelude::*;
use proptest::test_runner::Config as Cases;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::time::Duration;

fn cases(n: u32) -> Cases {
    let soak = std::env::var("CTLINIT_SOAK").as_deref() == Ok("1");
    Cases {
        cases: if soak { n * 100 } else { n },
        failure_persistence: None,
        ..Cases::default()
    }
}

// ------------------------------------------------------------------ strategies

/// Every flag of the table, in both spellings, and the verbs' own.
fn flags() -> Vec<String> {
    let mut out: Vec<String> = TABLE
        .iter()
        .flat_map(|o| {
            let long = o.long.map(|l| format!("--{l}"));
            let short = o.short.map(|c| format!("-{c}"));
            long.into_iter().chain(short)
        })
        .collect();
    out.extend(
        [
            "--json",
            "--timeout",
            "--",
            "-",
            "-vv",
            "-gsw",
            "-e3",
            "-rTERM:0",
            "--bogus",
            "-x",
            "--port=",
            "--restart=",
            "-g=1",
            "--pgroup=1",
        ]
        .map(String::from),
    );
    out
}

fn env_names() -> Vec<&'static str> {
    TABLE.iter().flat_map(|o| o.vars.iter().copied()).collect()
}

/// Values that look like what the options expect, and some that do not.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{0,25}",
        "[0-9]{1,8}(ns|us|ms|s|m|h|d|w|y|M|min|sec|days)?",
        "(36[456]d|876[01]h|3153600[01]|52w|1y|0|0\\.5|\\.5|5\\.)",
        "-?[0-9]{0,12}\\.?[0-9]{0,12}(e[0-9]{1,3})?",
        "[0-9]{1,20}(s|ns|y)( [0-9]{1,20}(s|ns|h))?",
        "(inf|nan|NaN|-inf|1e400|infinity)",
        "(SIG|sig)?(TERM|HUP|INT|QUIT|USR1|USR2|WINCH|CHLD|KILL|STOP|SEGV|ABRT|RTMIN|RTMAX|IOT|CLD)([+-][0-9]{0,12})?",
        "(SIG)?RTM(IN|AX)[+-]-?21474836[0-9]{2}",
        "((TERM|INT|QUIT|HUP|USR1|KILL|CHLD|[0-9]{1,3}),?){0,4}",
        "(no|always|on-failure|unless-stopped)(:-?[0-9]{0,12})?",
        "(CTLINIT_)?[0-9a-zA-Z_]{0,6}(=[^,]{0,5})?(,[0-9a-zA-Z_]{0,6})?",
        "[0-9,: ]{0,20}",
        "(none|port|listen|notify|error|warn|info|debug|trace|0|1|yes|no|true|FALSE)",
        "[a-zA-Z0-9]{0,6}:[a-zA-Z0-9]{0,6}(:[0-9]{0,3})?",
        "(/[a-z]{0,4}){0,3}(:(/[a-z]{0,4}){0,2}){0,2}",
        any::<String>(),
    ]
}

/// Any bytes, mostly not UTF-8.
fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..16)
}

fn token() -> impl Strategy<Value = OsString> {
    let flag = prop::sample::select(flags());
    prop_oneof![
        4 => flag.clone().prop_map(OsString::from),
        2 => (flag, value()).prop_map(|(f, v)| OsString::from(format!("{f}={v}"))),
        4 => value().prop_map(OsString::from),
        1 => bytes().prop_map(OsString::from_vec),
    ]
}

fn argv() -> impl Strategy<Value = Vec<OsString>> {
    let verb = prop_oneof![
        3 => Just(None),
        1 => prop::sample::select(&["status", "health", "restart"][..]).prop_map(Some),
    ];
    (verb, prop::collection::vec(token(), 0..10)).prop_map(|(v, mut rest)| {
        if let Some(v) = v {
            rest.insert(0, v.into());
        }
        rest
    })
}

/// Variable values: plausible, empty, or not UTF-8.
fn env_value() -> impl Strategy<Value = OsString> {
    prop_oneof![
        6 => value().prop_map(OsString::from),
        1 => Just(OsString::new()),
        1 => bytes().prop_map(OsString::from_vec),
    ]
}

fn environment() -> impl Strategy<Value = Vec<(String, OsString)>> {
    prop::collection::vec(
        (
            prop::sample::select(env_names()).prop_map(String::from),
            env_value(),
        ),
        0..6,
    )
}

fn lookup(env: &[(String, OsString)]) -> impl Fn(&str) -> Option<OsString> + '_ {
    |k| {
        env.iter()
            .rev()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
    }
}

// ------------------------------------------------------------------ what every result must satisfy

fn is_signal(n: i32) -> bool {
    (1..=signals::MAX).contains(&n)
}

fn unique<T: PartialEq>(v: &[T]) -> bool {
    v.iter().enumerate().all(|(i, x)| !v[..i].contains(x))
}

/// Every range and rule of an accepted configuration; Err names the first
/// one broken.
fn check_config(c: &Config) -> Result<(), String> {
    let s = &c.settings;
    let p = &s.policy;
    let mut broken = Vec::new();
    let mut rule = |ok: bool, what: &str| {
        if !ok {
            broken.push(what.to_string());
        }
    };
    for d in [
        p.backoff_min,
        p.backoff_max,
        p.reset_after,
        s.stop_timeout,
        s.stop_delay,
        s.ready_timeout,
        s.port_timeout,
    ] {
        rule(d <= MAX_DURATION, "a duration over 365 days");
    }
    rule(p.backoff_min <= p.backoff_max, "backoff MIN over MAX");
    rule(
        p.max_restarts <= MAX_RESTARTS,
        "max_restarts over 1 000 000",
    );
    rule(
        is_signal(s.stop_signal) && !CANNOT_END.contains(&s.stop_signal),
        "stop_signal",
    );
    rule(
        !s.stop_on.is_empty() && unique(&s.stop_on),
        "stop_on empty or with duplicates",
    );
    for &n in &s.stop_on {
        rule(
            is_signal(n) && !never_received(n),
            "stop_on holds a refused signal",
        );
        rule(
            s.reload_signal != Some(n),
            "stop_on holds the reload signal",
        );
    }
    for n in [s.reload_signal, s.watch_signal].into_iter().flatten() {
        rule(
            is_signal(n) && !refused_for_reload(n),
            "reload or watch signal refused",
        );
    }
    if let Some(n) = c.pdeathsig {
        rule(is_signal(n) && !CANNOT_END.contains(&n), "pdeathsig");
    }
    let froms: Vec<i32> = s.rewrite.iter().map(|r| r.0).collect();
    rule(unique(&froms), "two rewrites of one FROM");
    for &(from, to) in &s.rewrite {
        rule(is_signal(from) && !never_received(from), "rewrite FROM");
        rule(to == 0 || is_signal(to), "rewrite TO");
    }
    rule(s.ports.iter().all(|&p| p != 0) && unique(&s.ports), "ports");
    rule(
        s.ready != ReadyMode::Port || !s.ports.is_empty(),
        "ready port without a port",
    );
    if let Some(d) = s.watchdog {
        rule(!d.is_zero() && d <= MAX_DURATION, "watchdog duration");
        rule(
            s.ready == ReadyMode::Notify,
            "watchdog without ready notify",
        );
    }
    rule(
        s.success_exit.iter().all(|c| (0..=255).contains(c)) && unique(&s.success_exit),
        "success codes",
    );
    rule(
        s.restart_exit.iter().all(|c| (1..=255).contains(c)) && unique(&s.restart_exit),
        "restart codes",
    );
    rule(
        !s.restart_exit.iter().any(|c| s.success_exit.contains(c)),
        "a code both clean and restart",
    );
    let names: Vec<&String> = s.markers.iter().map(|m| &m.0).collect();
    rule(unique(&names), "two markers of one NAME");
    for (name, _) in &s.markers {
        let mut ch = name.chars();
        let env_name = matches!(ch.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
            && ch.all(|c| c == '_' || c.is_ascii_alphanumeric());
        rule(env_name && !name.starts_with("CTLINIT_"), "marker name");
    }
    rule(
        s.check.iter().all(|w| !w.is_empty() && !w.contains(' ')),
        "check words",
    );
    rule(s.watch != c.watch.is_empty(), "settings.watch");
    rule(
        c.watch.iter().all(|p| !p.as_os_str().is_empty()),
        "an empty watch path",
    );
    for p in [&c.pidfile, &c.lockfile].into_iter().flatten() {
        rule(!p.as_os_str().is_empty(), "an empty pidfile or lockfile");
    }
    rule(!c.command.is_empty(), "no command");
    match broken.first() {
        None => Ok(()),
        Some(b) => Err(format!("{b}: {c:#?}")),
    }
}

/// The names a message may use for the input: each flag as typed (before
/// any `=`; each letter of a short cluster), each variable given, the verb.
fn names_in_input(args: &[OsString], env: &[(String, OsString)]) -> Vec<String> {
    let mut out = vec!["COMMAND".to_string()];
    for a in args {
        let a = a.to_string_lossy();
        if a == "--" {
            continue;
        }
        if let Some(long) = a.strip_prefix("--") {
            let name = format!("--{}", long.split('=').next().unwrap_or(""));
            out.push(values::shown(&name));
            out.push(name);
        } else if let Some(shorts) = a.strip_prefix('-') {
            for c in shorts.chars() {
                out.push(values::shown(&format!("-{c}")));
            }
        }
    }
    if let Some(verb) = args.first() {
        out.push(format!("ctlinit {}:", verb.to_string_lossy()));
    }
    out.extend(env.iter().map(|(n, _)| n.clone()));
    out
}

/// The whole contract of one parse.
fn check_parse(args: &[OsString], env: &[(String, OsString)]) -> Result<(), TestCaseError> {
    match parse(args.to_vec(), lookup(env)) {
        Ok(Invocation::Supervise(c)) => {
            if let Err(why) = check_config(&c) {
                return Err(TestCaseError::fail(format!(
                    "{why}\nargs {args:?}\nenv {env:?}"
                )));
            }
        }
        Ok(Invocation::Restart { timeout, .. }) => prop_assert!(timeout <= MAX_DURATION),
        Ok(_) => {}
        Err(e) => {
            prop_assert!(matches!(e, Error::Usage(_)), "not a usage error: {:?}", e);
            prop_assert_eq!(e.exit_code(), 2);
            let msg = e.to_string();
            let names = names_in_input(args, env);
            prop_assert!(
                names.iter().any(|n| msg.contains(n.as_str())),
                "{} names nothing of args {:?} env {:?}",
                msg,
                args,
                env
            );
        }
    }
    Ok(())
}

// ------------------------------------------------------------------ the whole parser

proptest! {
    #![proptest_config(cases(500))]

    /// Any argv and environment: a configuration within every range, or a
    /// usage error naming something that was given — never a panic.
    #[test]
    fn any_input_parses_within_range_or_is_refused_by_name(args in argv(), env in environment()) {
        check_parse(&args, &env)?;
    }
}

proptest! {
    #![proptest_config(cases(300))]

    /// Known flags with hostile values, then a command.
    #[test]
    fn known_flags_with_hostile_values(
        uses in prop::collection::vec((prop::sample::select(flags()), prop_oneof![
            value().prop_map(OsString::from),
            bytes().prop_map(OsString::from_vec),
        ]), 1..6),
        env in environment(),
    ) {
        let mut args = Vec::new();
        for (f, v) in uses {
            args.push(OsString::from(f));
            args.push(v);
        }
        args.push("daemon".into());
        check_parse(&args, &env)?;
    }
}

proptest! {
    #![proptest_config(cases(300))]

    /// A bad value in one variable names that variable; a value that is not
    /// UTF-8 is always refused, never taken as unset.
    #[test]
    fn a_variable_s_error_names_it(name in prop::sample::select(env_names()), v in env_value()) {
        let env = vec![(name.to_string(), v.clone())];
        let r = parse(vec![OsString::from("daemon")], lookup(&env));
        if v.to_str().is_none() {
            prop_assert!(r.is_err(), "{name}={v:?} accepted");
        }
        if let Err(e) = r {
            let msg = e.to_string();
            prop_assert!(msg.contains(name), "{msg} does not name {name}");
        }
    }

    /// Adding an empty `CTLINIT_*` variable changes nothing at all.
    #[test]
    fn an_empty_ctlinit_variable_changes_nothing(
        args in argv(),
        env in environment(),
        name in prop::sample::select(env_names().into_iter().filter(|n| n.starts_with("CTLINIT_")).collect::<Vec<_>>()),
    ) {
        let without: Vec<_> = env.iter().filter(|(n, _)| n != name).cloned().collect();
        let mut with = without.clone();
        with.push((name.to_string(), OsString::new()));
        let a = parse(args.clone(), lookup(&without)).map_err(|e| e.to_string());
        let b = parse(args, lookup(&with)).map_err(|e| e.to_string());
        prop_assert_eq!(a, b);
    }

    /// A valid flag replaces the same option's valid variable entirely.
    #[test]
    fn the_command_line_wins(
        which in 0usize..6,
        a in 0u64..100_000,
        b in 0u64..100_000,
    ) {
        let (flag, var, av, bv) = [
            ("--stop-timeout", "CTLINIT_STOP_TIMEOUT", format!("{a}ms"), format!("{b}s")),
            ("--max-restarts", "CTLINIT_MAX_RESTARTS", a.to_string(), b.to_string()),
            ("--port", "CTLINIT_PORT", (a % 65_535 + 1).to_string(), (b % 65_535 + 1).to_string()),
            ("--success-exit", "CTLINIT_SUCCESS_EXIT", format!("{},{}", a % 256, b % 256), (b % 256).to_string()),
            ("--backoff", "CTLINIT_BACKOFF", format!("{a}ms:{}s", a + 1), format!("{b}ms")),
            ("--stop-signal", "CTLINIT_STOP_SIGNAL", "HUP".into(), "USR1".into()),
        ][which].clone();
        let env = vec![(var.to_string(), OsString::from(av))];
        let args = vec![OsString::from(flag), OsString::from(bv), OsString::from("d")];
        let both = parse(args.clone(), lookup(&env)).map_err(|e| e.to_string());
        let cli = parse(args, |_| None).map_err(|e| e.to_string());
        prop_assert!(cli.is_ok(), "{:?}", cli);
        prop_assert_eq!(both, cli);
    }
}

/// Valid values of the options that constrain each other, from flags or
/// variables: the rules between options decide.
fn related_options() -> impl Strategy<Value = (Vec<OsString>, Vec<(String, OsString)>)> {
    let signal = prop::sample::select(
        &[
            "TERM", "INT", "QUIT", "HUP", "USR1", "USR2", "WINCH", "RTMIN+1",
        ][..],
    );
    let reload = prop::sample::select(&["HUP", "USR1", "USR2", "WINCH", "RTMIN+1"][..]);
    let code = 0u8..6;
    let one = prop_oneof![
        prop::collection::vec(signal, 1..4).prop_map(|v| ("stop-on", v.join(","))),
        reload
            .clone()
            .prop_map(|s| ("reload-signal", s.to_string())),
        reload.prop_map(|s| ("watch-signal", s.to_string())),
        code.clone().prop_map(|c| ("success-exit", c.to_string())),
        code.prop_filter("1-255", |c| *c > 0)
            .prop_map(|c| ("restart-exit", c.to_string())),
        prop::sample::select(&["none", "port", "listen", "notify"][..])
            .prop_map(|m| ("ready", m.to_string())),
        prop::sample::select(&["0", "10s", "1ms"][..]).prop_map(|d| ("watchdog", d.to_string())),
        (1u16..4).prop_map(|p| ("port", p.to_string())),
        Just(("watch", "/etc/x".to_string())),
    ];
    prop::collection::vec((one, any::<bool>()), 0..8).prop_map(|uses| {
        let mut args = Vec::new();
        let mut env: Vec<(String, OsString)> = Vec::new();
        for ((long, v), on_cli) in uses {
            if on_cli {
                args.push(OsString::from(format!("--{long}={v}")));
            } else {
                let var = format!("CTLINIT_{}", long.to_ascii_uppercase().replace('-', "_"));
                env.retain(|(n, _)| *n != var);
                env.push((var, v.into()));
            }
        }
        args.push("daemon".into());
        (args, env)
    })
}

proptest! {
    #![proptest_config(cases(500))]

    /// Valid values that may clash: the result keeps every rule between
    /// options, or the refusal names options that were given.
    #[test]
    fn rules_between_options_hold((args, env) in related_options()) {
        check_parse(&args, &env)?;
    }
}

// ------------------------------------------------------------------ numbers at and around their ranges

fn supervise(args: &[&str]) -> Result<Config, String> {
    match parse(args.iter().map(OsString::from), |_| None) {
        Ok(Invocation::Supervise(c)) => Ok(*c),
        Ok(other) => Err(format!("{other:?}")),
        Err(e) => Err(e.to_string()),
    }
}

/// Any u64, with the edges where arithmetic overflows made likely.
fn edgy_u64() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        0u64..=70_000,
        999_990u64..=1_000_010,
        u64::from(u32::MAX) - 10..=u64::from(u32::MAX) + 10,
        u64::MAX - 10..=u64::MAX,
    ]
}

proptest! {
    #![proptest_config(cases(500))]

    #[test]
    fn durations_round_trip_up_to_365_days(n in edgy_u64(), unit in 0usize..6) {
        let (text, nanos) = match unit {
            0 => (format!("{n}ms"), u128::from(n) * 1_000_000),
            1 => (format!("{n}s"), u128::from(n) * 1_000_000_000),
            2 => (format!("{n}m"), u128::from(n) * 60_000_000_000),
            3 => (format!("{n}h"), u128::from(n) * 3_600_000_000_000),
            4 => (format!("{n}d"), u128::from(n) * 86_400_000_000_000),
            _ => (format!("{n}"), u128::from(n) * 1_000_000_000),
        };
        let got = supervise(&["--stop-timeout", &text, "d"]).map(|c| c.settings.stop_timeout);
        if nanos <= MAX_DURATION.as_nanos() {
            prop_assert_eq!(got.map(|d| d.as_nanos()), Ok(nanos), "{}", text);
        } else {
            let e = got.unwrap_err();
            prop_assert!(e.contains("--stop-timeout") && e.contains("365 days"), "{}", e);
        }
    }

    #[test]
    fn fractional_seconds_are_exact(whole in 0u64..31_536_000, frac in 0u32..1_000_000_000) {
        let got = supervise(&["--reset-after", &format!("{whole}.{frac:09}"), "d"]).map(|c| c.settings.policy.reset_after);
        prop_assert_eq!(got, Ok(Duration::new(whole, frac)));
    }

    #[test]
    fn number_like_durations_never_panic(s in "[0-9. eE+-]{0,40}(ns|ms|s|m|h|d|y)?( [0-9]{0,20}(ns|s))?") {
        if let Ok(c) = supervise(&["--port-timeout", &s, "d"]) {
            prop_assert!(c.settings.port_timeout <= MAX_DURATION);
        }
    }

    #[test]
    fn max_restarts_exactly_0_to_a_million(n in edgy_u64()) {
        let got = supervise(&["--max-restarts", &n.to_string(), "d"]).map(|c| c.settings.policy.max_restarts);
        prop_assert_eq!(got.is_ok(), n <= 1_000_000);
        let got = supervise(&["--restart", &format!("on-failure:{n}"), "d"]).map(|c| c.settings.policy.max_restarts);
        prop_assert_eq!(got.ok().map(u64::from), (n <= 1_000_000).then_some(n));
    }

    #[test]
    fn ports_exactly_1_to_65535(n in edgy_u64()) {
        let got = supervise(&["--port", &n.to_string(), "d"]).map(|c| c.settings.ports);
        prop_assert_eq!(got.ok(), (1..=65_535).contains(&n).then(|| vec![n as u16]));
    }

    #[test]
    fn exit_codes_exactly_in_range(n in prop_oneof![any::<i64>(), -5i64..300]) {
        let s = n.to_string();
        let ok = supervise(&["-e", &s, "d"]).is_ok();
        prop_assert_eq!(ok, (0..=255).contains(&n));
        let ok = supervise(&["--restart-exit", &s, "d"]).is_ok();
        prop_assert_eq!(ok, (1..=255).contains(&n));
    }

    #[test]
    fn signal_numbers_exactly_1_to_64_minus_the_refused(n in prop_oneof![any::<i64>(), -3i64..70]) {
        let s = n.to_string();
        let valid = (1..=64).contains(&n);
        let sig = n as i32;
        let stop = supervise(&["--stop-signal", &s, "d"]).is_ok();
        prop_assert_eq!(stop, valid && !CANNOT_END.contains(&sig));
        let reload = supervise(&["--reload-signal", &s, "d"]).is_ok();
        prop_assert_eq!(reload, valid && !refused_for_reload(sig));
        let stop_on = supervise(&["--stop-on", &s, "d"]).is_ok();
        prop_assert_eq!(stop_on, valid && !never_received(sig));
    }

    /// Every signal that has a name parses back from it, with or without
    /// SIG, in any case, through a flag.
    #[test]
    fn signal_names_round_trip(sig in 1..=signals::MAX) {
        let name = signals::name(sig);
        if signals::parse(&name).is_some() && !CANNOT_END.contains(&sig) {
            for spelling in [name.clone(), name[3..].to_string(), name.to_ascii_lowercase()] {
                let got = supervise(&["--stop-signal", &spelling, "d"]).map(|c| c.settings.stop_signal);
                prop_assert_eq!(got, Ok(sig), "{}", spelling);
            }
        }
    }
}
