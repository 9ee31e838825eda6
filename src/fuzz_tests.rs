//! Issue 6, scenario 8: property tests (proptest) for everything that
//! parses outside input — the command line and `CTLINIT_*` environment,
//! durations, signal names, and the PID-file decoder. `cargo fuzz` needs a
//! nightly toolchain, so these run on stable as ordinary unit tests, with
//! bounded case counts (a few seconds in all); `CTLINIT_SOAK=1` multiplies
//! the counts by 100. Failing cases are not persisted to files.
//!
//! Properties: no input makes a parser panic; every rejection of the command
//! line is a usage error (exit 2) with a message; every accepted duration or
//! signal is in range and the documented spellings round-trip; the decoder
//! turns any bytes into a record or a clean `Invalid` error, and never
//! accepts a truncated (partially written) record.

use crate::cli::{self, parse_duration};
use crate::error::Error;
use crate::pidfile::{self, LastExit, ReadError, Record};
use crate::signals::{self, parse_signal};
use proptest::prelude::*;
use proptest::test_runner::Config;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::time::Duration;

fn config(cases: u32) -> Config {
    let soak = std::env::var("CTLINIT_SOAK").as_deref() == Ok("1");
    Config {
        cases: if soak { cases * 100 } else { cases },
        failure_persistence: None,
        ..Config::default()
    }
}

// ------------------------------------------------------------------ strategies

const FLAGS: &[&str] = &[
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
    "--pgroup",
    "--rewrite",
    "--success-exit",
    "--pdeathsig",
    "--help",
    "--version",
    "--json",
    "--timeout",
    "--",
    "-",
    "-g",
    "-s",
    "-w",
    "-v",
    "-q",
    "-r",
    "-e",
    "-p",
    "-h",
    "-V",
    "-vv",
    "-gsw",
    "-e3",
    "-rTERM:0",
    "--bogus",
    "--port=",
    "--restart=",
];

const ENV_NAMES: &[&str] = &[
    "CTLINIT_RESTART",
    "CTLINIT_MAX_RESTARTS",
    "CTLINIT_BACKOFF",
    "CTLINIT_RESET_AFTER",
    "CTLINIT_STOP_SIGNAL",
    "CTLINIT_STOP_TIMEOUT",
    "CTLINIT_RELOAD_SIGNAL",
    "CTLINIT_WATCH",
    "CTLINIT_PORT",
    "CTLINIT_READY",
    "CTLINIT_READY_TIMEOUT",
    "CTLINIT_PORT_TIMEOUT",
    "CTLINIT_PIDFILE",
    "CTLINIT_LOCKFILE",
    "CTLINIT_MARKER",
    "CTLINIT_REWRITE",
    "CTLINIT_SUCCESS_EXIT",
    "CTLINIT_PDEATHSIG",
    "CTLINIT_PGROUP",
    "TINI_KILL_PROCESS_GROUP",
    "TINI_SUBREAPER",
    "CTLINIT_LOG",
];

/// Values that look like what the options expect, and some that do not.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{0,25}",
        "[0-9]{1,8}(ns|us|ms|s|m|h|d|w|y|min|sec)?",
        "-?[0-9]{0,12}\\.?[0-9]{0,12}(e[0-9]{1,3})?",
        "(SIG|sig)?(TERM|HUP|INT|USR1|WINCH|RTMIN|RTMAX|IOT|CLD|KILL)([+-][0-9]{0,12})?",
        // Offsets at the edges of i32.
        "(SIG)?RTM(IN|AX)[+-]-?21474836[0-9]{2}",
        "(no|always|on-failure|unless-stopped)(:-?[0-9]{0,12})?",
        "[0-9a-zA-Z_]{0,6}(=[^,]{0,5})?(,[0-9a-zA-Z_]{0,6})?",
        "[0-9,: ]{0,20}",
        "(none|port|listen|notify|error|warn|info|debug|trace|0|1|yes)",
        "[a-zA-Z0-9]{0,6}:[a-zA-Z0-9]{0,6}(:[0-9]{0,3})?",
        any::<String>(),
    ]
}

fn token() -> impl Strategy<Value = OsString> {
    prop_oneof![
        4 => prop::sample::select(FLAGS).prop_map(OsString::from),
        2 => (prop::sample::select(FLAGS), value()).prop_map(|(f, v)| OsString::from(format!("{f}={v}"))),
        4 => value().prop_map(OsString::from),
        1 => prop::collection::vec(any::<u8>(), 0..16).prop_map(OsString::from_vec),
    ]
}

fn argv() -> impl Strategy<Value = Vec<OsString>> {
    let verb = prop_oneof![
        Just(None),
        prop::sample::select(&["status", "health", "restart"][..]).prop_map(Some),
    ];
    (verb, prop::collection::vec(token(), 0..10)).prop_map(|(v, mut rest)| {
        if let Some(v) = v {
            rest.insert(0, v.into());
        }
        rest
    })
}

fn environment() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(
        (
            prop::sample::select(ENV_NAMES).prop_map(String::from),
            value(),
        ),
        0..6,
    )
}

/// Any i32, with its extremes (where arithmetic overflows) made likely.
fn edgy_i32() -> impl Strategy<Value = i32> {
    prop_oneof![
        any::<i32>(),
        i32::MAX - 100..=i32::MAX,
        i32::MIN..=i32::MIN + 100,
        -100..=100
    ]
}

fn record() -> impl Strategy<Value = Record> {
    let last_exit = prop::option::of((any::<Option<i32>>(), any::<Option<i32>>(), any::<i32>()))
        .prop_map(|o| {
            o.map(|(code, signal, status)| LastExit {
                code,
                signal,
                status,
            })
        });
    (
        any::<Option<i32>>(),
        any::<u64>(),
        prop::sample::select(&["starting", "ready", "stopping", "backoff"][..]),
        any::<i32>(),
        any::<u64>(),
        (any::<u64>(), any::<u64>()),
        last_exit,
        prop::collection::vec(any::<String>(), 0..4),
        "[0-9.a-z-]{0,12}",
    )
        .prop_map(
            |(
                pid,
                generation,
                state,
                supervisor_pid,
                started_at_ms,
                (exits, restarts),
                last_exit,
                command,
                version,
            )| {
                Record {
                    pid,
                    generation,
                    state: state.into(),
                    supervisor_pid,
                    started_at_ms,
                    exits,
                    restarts,
                    last_exit,
                    command,
                    version,
                }
            },
        )
}

// ------------------------------------------------------------------ the command line

proptest! {
    #![proptest_config(config(3000))]

    /// Any argv and environment: a parse or a usage error (exit 2) with a
    /// message — never a panic.
    #[test]
    fn cli_never_panics_and_rejects_with_usage(args in argv(), env in environment()) {
        let lookup = |k: &str| env.iter().rev().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        match cli::parse(args.clone(), lookup) {
            Ok(_) => {}
            Err(e) => {
                prop_assert!(matches!(e, Error::Usage(_)), "not a usage error: {e:?} for {args:?} {env:?}");
                prop_assert_eq!(e.exit_code(), 2);
                prop_assert!(!e.to_string().trim().is_empty());
            }
        }
    }

    /// A bad value in a variable names the variable.
    #[test]
    fn cli_env_errors_name_the_variable(name in prop::sample::select(ENV_NAMES), v in value()) {
        let lookup = |k: &str| (k == name).then(|| v.clone());
        if let Err(e) = cli::parse(vec![OsString::from("daemon")], lookup) {
            let msg = e.to_string();
            prop_assert!(msg.contains(name), "{msg} does not name {name}");
        }
    }
}

// ------------------------------------------------------------------ durations

proptest! {
    #![proptest_config(config(3000))]

    #[test]
    fn duration_never_panics(s in any::<String>()) {
        let _ = parse_duration(&s);
    }

    #[test]
    fn duration_numberlike_never_panics(s in "[0-9. eE+-]{0,40}(ns|ms|s|m|h|d)?") {
        let _ = parse_duration(&s);
    }

    #[test]
    fn duration_spellings_round_trip(n in 0u64..1_000_000_000, unit in 0usize..5) {
        let (text, want) = match unit {
            0 => (format!("{n}ms"), Duration::from_millis(n)),
            1 => (format!("{n}s"), Duration::from_secs(n)),
            2 => (format!("{n}m"), Duration::from_secs(n * 60)),
            3 => (format!("{n}h"), Duration::from_secs(n * 3600)),
            _ => (format!("{n}"), Duration::from_secs(n)),
        };
        prop_assert_eq!(parse_duration(&text), Some(want), "{}", text);
    }

    #[test]
    fn duration_fractional_seconds(whole in 0u64..1_000_000, frac in 0u32..1000) {
        let d = parse_duration(&format!("{whole}.{frac:03}")).expect("a decimal number of seconds");
        let want = whole as f64 + f64::from(frac) / 1000.0;
        prop_assert!((d.as_secs_f64() - want).abs() < 1e-6, "{:?} vs {}", d, want);
    }
}

// ------------------------------------------------------------------ signals

proptest! {
    #![proptest_config(config(3000))]

    #[test]
    fn signal_never_panics_and_stays_in_range(s in any::<String>()) {
        if let Some(n) = parse_signal(&s) {
            prop_assert!((1..=libc::SIGRTMAX()).contains(&n), "{s:?} -> {n}");
        }
    }

    /// Real-time offsets of any size, and any integer.
    #[test]
    fn signal_offsets_never_panic(base in prop::sample::select(&["RTMIN", "RTMAX", "SIGRTMIN", "rtmax"][..]),
                                  sign in prop::sample::select(&["+", "-"][..]), k in edgy_i32(), n in any::<i64>()) {
        if let Some(s) = parse_signal(&format!("{base}{sign}{k}")) {
            prop_assert!((libc::SIGRTMIN()..=libc::SIGRTMAX()).contains(&s));
        }
        if let Some(s) = parse_signal(&n.to_string()) {
            prop_assert!((1..=libc::SIGRTMAX()).contains(&s));
        }
    }

    /// Every signal's number parses back; so does the name, the SIG-less
    /// name and the lower case of every named one (1-31 and the real-time
    /// range; glibc keeps 32 and 33 for itself, and they have no name).
    #[test]
    fn signal_names_round_trip(sig in 1..=libc::SIGRTMAX(), x in edgy_i32()) {
        prop_assert_eq!(parse_signal(&sig.to_string()), Some(sig));
        let name = signals::name(sig);
        if sig < 32 || sig >= libc::SIGRTMIN() {
            prop_assert_eq!(parse_signal(&name), Some(sig), "{}", name);
            prop_assert_eq!(parse_signal(&name[3..]), Some(sig));
            prop_assert_eq!(parse_signal(&name.to_ascii_lowercase()), Some(sig));
        }
        let _ = signals::name(x);
    }
}

// ------------------------------------------------------------------ the PID-file decoder

proptest! {
    #![proptest_config(config(2000))]

    /// Any bytes: a record or a clean `Invalid` error with a message.
    #[test]
    fn decode_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        match pidfile::decode(&bytes) {
            Ok(_) => {}
            Err(ReadError::Invalid(m)) => prop_assert!(!m.is_empty()),
            Err(e) => prop_assert!(false, "decode returned {e:?}"),
        }
    }

    /// JSON-shaped noise gets deeper into the decoder than random bytes.
    #[test]
    fn decode_json_like_never_panics(s in r#"[\[\]{}":,0-9a-z \\.-]{0,300}"#) {
        let _ = pidfile::decode(s.as_bytes());
    }

    /// Every record written decodes to itself.
    #[test]
    fn decode_round_trips(rec in record()) {
        let mut line = serde_json::to_vec(&rec).unwrap();
        line.push(b'\n');
        prop_assert_eq!(pidfile::decode(&line).map(|(r, _)| r).ok(), Some(rec));
    }

    /// A partially written record (any strict prefix) is never accepted;
    /// a record with random bytes changed decodes or fails cleanly.
    #[test]
    fn decode_rejects_truncated_and_survives_mutated(rec in record(), cut in any::<prop::sample::Index>(),
                                                    edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let line = serde_json::to_vec(&rec).unwrap();
        let at = cut.index(line.len());
        prop_assert!(pidfile::decode(&line[..at]).is_err(), "prefix of {} bytes accepted", at);
        let mut bad = line.clone();
        for (i, b) in edits {
            let i = i.index(bad.len());
            bad[i] = b;
        }
        let _ = pidfile::decode(&bad);
    }
}

proptest! {
    #![proptest_config(config(200))]

    /// The bounded reader on real files of any size around the limit.
    #[test]
    fn read_bounds_any_file(len in 0usize..(pidfile::MAX_SIZE as usize + 64), fill in any::<u8>()) {
        let path = std::env::temp_dir().join(format!("ctlinit-fuzz-{}-{len}-{fill}", std::process::id()));
        std::fs::write(&path, vec![fill; len]).unwrap();
        let r = pidfile::read(&path);
        let _ = std::fs::remove_file(&path);
        match r {
            Err(ReadError::TooLarge(_)) => prop_assert!(len as u64 > pidfile::MAX_SIZE),
            Err(ReadError::Invalid(_)) => prop_assert!(len as u64 <= pidfile::MAX_SIZE),
            other => prop_assert!(false, "{len} bytes of {fill}: {:?}", other.map(|(r, _)| r)),
        }
    }
}

#[test]
fn decode_deep_nesting_within_the_size_limit_is_an_error() {
    for open in ["[", "{\"a\":"] {
        let s = open.repeat(pidfile::MAX_SIZE as usize / open.len());
        assert!(
            matches!(pidfile::decode(s.as_bytes()), Err(ReadError::Invalid(_))),
            "{open}"
        );
    }
}
