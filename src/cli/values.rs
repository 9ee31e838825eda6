//! One small parser per kind of value. Each takes the source that gave the
//! value (a flag as typed, like `--stop-timeout`, or a variable, like
//! `CTLINIT_STOP_TIMEOUT`) and the raw text, and returns the value or a
//! usage error that names both: `invalid value 'soon' for --stop-timeout:
//! expected a duration like 250ms, 5s, 2m, 1h or 0.5`. No parser can panic,
//! whatever the text (no float conversion, every sum checked).

use super::keys::{Kind, Refuse};
use crate::core::config::{ReadyMode, RestartMode};
use crate::core::signals;
use crate::error::Error;
use log::LevelFilter;
use std::path::PathBuf;
use std::time::Duration;

/// The longest duration any option accepts: 365 days.
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 86_400);
/// The most `--max-restarts` accepts.
pub const MAX_RESTARTS: u32 = 1_000_000;

/// A parsed value, before it is stored in the option's field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    On(bool),
    Duration(Duration),
    Backoff(Duration, Option<Duration>),
    Signal(i32),
    Signals(Vec<i32>),
    Ports(Vec<u16>),
    Count(u32),
    Code(i32),
    Path(PathBuf),
    Marker(String, Option<String>),
    Rewrite(i32, i32),
    Policy(RestartMode, Option<u32>),
    Ready(ReadyMode),
    Command(Vec<String>),
    Level(LevelFilter),
}

type Result<T> = std::result::Result<T, Error>;

/// The parser of `kind` applied to one value (a flag's, or one item of a
/// variable's list).
pub fn parse(kind: Kind, src: &str, raw: &str) -> Result<Value> {
    Ok(match kind {
        Kind::Switch => Value::On(switch_var(src, raw)?),
        Kind::Duration => Value::Duration(duration(src, raw)?),
        Kind::Backoff => {
            let (min, max) = backoff(src, raw)?;
            Value::Backoff(min, max)
        }
        Kind::Signal(refuse) => Value::Signal(signal(src, raw, refuse)?),
        Kind::Signals(refuse) => Value::Signals(signal_list(src, raw, refuse)?),
        Kind::Ports => Value::Ports(ports(src, raw)?),
        Kind::Count => Value::Count(count(src, raw)?),
        Kind::ExitCode(min) => Value::Code(exit_code(src, raw, min)?),
        Kind::Path => Value::Path(path(src, raw)?),
        Kind::Marker => {
            let (name, value) = marker(src, raw)?;
            Value::Marker(name, value)
        }
        Kind::Rewrite => {
            let (from, to) = rewrite(src, raw)?;
            Value::Rewrite(from, to)
        }
        Kind::Policy => {
            let (mode, max) = restart_policy(src, raw)?;
            Value::Policy(mode, max)
        }
        Kind::Ready => Value::Ready(ready_mode(src, raw)?),
        Kind::Command => Value::Command(command(src, raw)?),
        Kind::LogLevel => Value::Level(log_level(src, raw)?),
    })
}

/// `invalid value 'RAW' for SRC: WHY`.
pub fn bad(src: &str, raw: &str, why: &str) -> Error {
    Error::Usage(format!("invalid value '{}' for {src}: {why}", shown(raw)))
}

/// A value as a message shows it: control characters escaped (a hostile
/// value cannot rewrite the terminal or forge a log line), and cut short.
pub fn shown(raw: &str) -> String {
    const MAX: usize = 200;
    let mut out = String::new();
    for (i, c) in raw.chars().enumerate() {
        if i == MAX {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

// ------------------------------------------------------------------ durations

const DURATION_FORMS: &str = "expected a duration like 250ms, 5s, 2m, 1h or 0.5";

/// Why a duration was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum DurationError {
    Malformed,
    TooLong,
}

/// `250ms`, `5s`, `2m`, `1h`, humantime's other units and sums (`1h 30m`),
/// or a bare decimal number of seconds (`8`, `0.5`); 0 to 365 days.
pub fn duration(src: &str, raw: &str) -> Result<Duration> {
    parse_duration(raw).map_err(|e| match e {
        DurationError::Malformed => bad(src, raw, DURATION_FORMS),
        DurationError::TooLong => bad(src, raw, "longer than 365 days"),
    })
}

/// Exact arithmetic in nanoseconds (u128, every step checked): no float,
/// so `1e400`, `inf` and `nan` are simply not numbers, and no overflow can
/// reach a panicking `Duration` constructor.
pub fn parse_duration(raw: &str) -> std::result::Result<Duration, DurationError> {
    use DurationError::{Malformed, TooLong};
    let t = raw.trim();
    if t.is_empty() {
        return Err(Malformed);
    }
    const NS: u128 = 1_000_000_000;
    let max = MAX_DURATION.as_nanos();
    let bare = t.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    let mut rest = t;
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let (number, after) = split_number(rest).ok_or(Malformed)?;
        let after = after.trim_start();
        let (unit, after) = if bare {
            (NS, after)
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphabetic() || c == 'µ'))
                .unwrap_or(after.len());
            (unit_nanos(&after[..end]).ok_or(Malformed)?, &after[end..])
        };
        total = total
            .checked_add(number.nanos(unit).ok_or(TooLong)?)
            .ok_or(TooLong)?;
        if total > max {
            return Err(TooLong);
        }
        rest = after.trim_start();
    }
    let secs = u64::try_from(total / NS).map_err(|_| TooLong)?;
    let nanos = u32::try_from(total % NS).map_err(|_| TooLong)?;
    Ok(Duration::new(secs, nanos))
}

/// `12`, `0.5`, `.5`, `5.`: digits with at most one dot.
struct Number<'a> {
    whole: &'a str,
    frac: &'a str,
}

impl Number<'_> {
    /// The number times `unit` nanoseconds, truncated to whole
    /// nanoseconds; None when it cannot be within 365 days anyway.
    fn nanos(&self, unit: u128) -> Option<u128> {
        let whole = self.whole.trim_start_matches('0');
        if whole.len() > 20 {
            return None;
        }
        let whole: u128 = if whole.is_empty() {
            0
        } else {
            whole.parse().ok()?
        };
        // 18 fraction digits are finer than a nanosecond of any unit.
        let frac = &self.frac[..self.frac.len().min(18)];
        let (num, den) = if frac.is_empty() {
            (0, 1)
        } else {
            (
                frac.parse::<u128>().ok()?,
                10u128.checked_pow(frac.len() as u32)?,
            )
        };
        whole
            .checked_mul(unit)?
            .checked_add(num.checked_mul(unit)? / den)
    }
}

fn split_number(s: &str) -> Option<(Number<'_>, &str)> {
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let text = &s[..end];
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if frac.contains('.') || (whole.is_empty() && frac.is_empty()) {
        return None;
    }
    Some((Number { whole, frac }, &s[end..]))
}

/// humantime's units, in nanoseconds.
fn unit_nanos(unit: &str) -> Option<u128> {
    const S: u128 = 1_000_000_000;
    Some(match unit {
        "nanos" | "nsec" | "ns" => 1,
        "usec" | "us" | "µs" => 1_000,
        "millis" | "msec" | "ms" => 1_000_000,
        "seconds" | "second" | "secs" | "sec" | "s" => S,
        "minutes" | "minute" | "min" | "mins" | "m" => 60 * S,
        "hours" | "hour" | "hr" | "hrs" | "h" => 3_600 * S,
        "days" | "day" | "d" => 86_400 * S,
        "weeks" | "week" | "wk" | "wks" | "w" => 7 * 86_400 * S,
        "months" | "month" | "M" => 2_630_016 * S,
        "years" | "year" | "yr" | "yrs" | "y" => 31_557_600 * S,
        _ => return None,
    })
}

/// `MIN[:MAX]`; MAX, when given, may not be shorter than MIN. Errors show
/// the whole value.
pub fn backoff(src: &str, raw: &str) -> Result<(Duration, Option<Duration>)> {
    let part = |p: &str| {
        parse_duration(p).map_err(|e| match e {
            DurationError::Malformed => bad(
                src,
                raw,
                "expected MIN[:MAX], durations like 100ms:30s (MAX is optional)",
            ),
            DurationError::TooLong => bad(src, raw, "longer than 365 days"),
        })
    };
    let (min, max) = match raw.split_once(':') {
        Some((a, b)) => (part(a)?, Some(part(b)?)),
        None => (part(raw)?, None),
    };
    if let Some(max) = max {
        if max < min {
            return Err(bad(
                src,
                raw,
                "expected MIN[:MAX] with MAX not shorter than MIN",
            ));
        }
    }
    Ok((min, max))
}

// ------------------------------------------------------------------ signals

const SIGNAL_FORMS: &str = "expected a signal like TERM, SIGTERM or a number from 1 to 64";

/// A signal name or number that `refuse` does not refuse.
pub fn signal(src: &str, raw: &str, refuse: Refuse) -> Result<i32> {
    let sig = signals::parse(raw).ok_or_else(|| bad(src, raw, SIGNAL_FORMS))?;
    match refusal(refuse, sig) {
        Some(why) => Err(bad(src, raw, &why)),
        None => Ok(sig),
    }
}

/// `SIG[,SIG...]`: at least one, no empty item; duplicates collapse.
pub fn signal_list(src: &str, raw: &str, refuse: Refuse) -> Result<Vec<i32>> {
    let mut out = Vec::new();
    for item in raw.split(',') {
        if item.trim().is_empty() {
            return Err(bad(src, raw, "expected SIG[,SIG...] without an empty item"));
        }
        let sig = signals::parse(item).ok_or_else(|| {
            bad(
                src,
                raw,
                &format!("'{}' is not a signal ({SIGNAL_FORMS})", shown(item)),
            )
        })?;
        if let Some(why) = refusal(refuse, sig) {
            return Err(bad(src, raw, &why));
        }
        if !out.contains(&sig) {
            out.push(sig);
        }
    }
    Ok(out)
}

/// `TERM` for 15, `RTMIN+2` for 36: how refusals name a signal.
pub fn short_name(sig: i32) -> String {
    let n = signals::name(sig);
    n.strip_prefix("SIG").map(str::to_string).unwrap_or(n)
}

/// Why `refuse` refuses `sig`, or None.
pub fn refusal(refuse: Refuse, sig: i32) -> Option<String> {
    use signals::{SIGCHLD, SIGINT, SIGKILL, SIGQUIT, SIGSTOP, SIGTERM};
    let n = short_name(sig);
    let never_caught = format!("{n} cannot be caught, so it never reaches ctlinit");
    let child = format!("{n} tells ctlinit that a child ended");
    let fault = format!("{n} is a fault signal, never passed on");
    match refuse {
        Refuse::CannotEnd => signals::CANNOT_END
            .contains(&sig)
            .then(|| format!("{n} cannot end a process")),
        Refuse::Reload if signals::refused_for_reload(sig) => Some(match sig {
            SIGTERM | SIGINT | SIGQUIT => {
                format!("{n} means \"stop\" and cannot also mean \"reload\"")
            }
            SIGKILL | SIGSTOP => never_caught,
            SIGCHLD => format!("{child} and cannot also mean \"reload\""),
            _ => format!("{n} is a fault signal and cannot mean \"reload\""),
        }),
        Refuse::NeverReceived if signals::never_received(sig) => Some(match sig {
            SIGKILL | SIGSTOP => never_caught,
            SIGCHLD => format!("{child}; it is never passed on"),
            _ => fault,
        }),
        Refuse::Reload | Refuse::NeverReceived => None,
    }
}

/// `FROM:TO`: FROM a signal ctlinit can receive and pass on, TO a signal
/// or `0` (drop it).
pub fn rewrite(src: &str, raw: &str) -> Result<(i32, i32)> {
    const FORM: &str = "expected FROM:TO, two signals (TO = 0 drops the signal)";
    let (from, to) = raw.split_once(':').ok_or_else(|| bad(src, raw, FORM))?;
    let from = signals::parse(from).ok_or_else(|| bad(src, raw, FORM))?;
    if let Some(why) = refusal(Refuse::NeverReceived, from) {
        return Err(bad(src, raw, &why));
    }
    let to = match to.trim() {
        "0" => 0,
        t => signals::parse(t).ok_or_else(|| bad(src, raw, FORM))?,
    };
    Ok((from, to))
}

// ------------------------------------------------------------------ numbers

/// Digits only (surrounding blanks allowed), from `min` to `max`; the
/// length is checked before any arithmetic.
fn bounded(raw: &str, min: u32, max: u32) -> Option<u32> {
    let t = raw.trim();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = t.trim_start_matches('0');
    if digits.len() > 9 {
        return None;
    }
    let n: u32 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    (min..=max).contains(&n).then_some(n)
}

/// `--max-restarts`: 0 to 1 000 000.
pub fn count(src: &str, raw: &str) -> Result<u32> {
    bounded(raw, 0, MAX_RESTARTS).ok_or_else(|| {
        bad(
            src,
            raw,
            "expected a whole number from 0 to 1000000 (0 = never give up)",
        )
    })
}

/// An exit code from `min` to 255.
pub fn exit_code(src: &str, raw: &str, min: i32) -> Result<i32> {
    let lo = u32::try_from(min).unwrap_or(0);
    bounded(raw, lo, 255)
        .map(|n| n as i32)
        .ok_or_else(|| bad(src, raw, &format!("expected an exit code from {lo} to 255")))
}

/// `PORT[,PORT...]`, 1-65535, no empty item; duplicates collapse.
pub fn ports(src: &str, raw: &str) -> Result<Vec<u16>> {
    let mut out = Vec::new();
    for item in raw.split(',') {
        let port = bounded(item, 1, 65_535).ok_or_else(|| {
            bad(
                src,
                raw,
                "expected TCP ports from 1 to 65535, separated by commas",
            )
        })?;
        let port = port as u16;
        if !out.contains(&port) {
            out.push(port);
        }
    }
    Ok(out)
}

// ------------------------------------------------------------------ words

/// A non-empty path (what it names is checked at startup, not here).
pub fn path(src: &str, raw: &str) -> Result<PathBuf> {
    if raw.is_empty() {
        return Err(bad(src, raw, "expected a non-empty path"));
    }
    Ok(PathBuf::from(raw))
}

/// `NAME[=VALUE]`: NAME an environment name that is not one of ctlinit's
/// own (`CTLINIT_*`); VALUE may hold `=`.
pub fn marker(src: &str, raw: &str) -> Result<(String, Option<String>)> {
    let (name, value) = match raw.split_once('=') {
        Some((n, v)) => (n, Some(v.to_string())),
        None => (raw, None),
    };
    let mut chars = name.chars();
    let valid = matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric());
    if !valid {
        return Err(bad(
            src,
            raw,
            "expected NAME[=VALUE], NAME made of letters, digits and _, not starting with a digit",
        ));
    }
    if name.starts_with("CTLINIT_") {
        return Err(bad(
            src,
            raw,
            "CTLINIT_* names are ctlinit's own markers; a marker named so would forge the supervisor's identity",
        ));
    }
    Ok((name.to_string(), value))
}

/// `no`, `on-failure`, `on-failure:N`, `always`, `unless-stopped`.
pub fn restart_policy(src: &str, raw: &str) -> Result<(RestartMode, Option<u32>)> {
    Ok(match raw.trim() {
        "no" => (RestartMode::No, None),
        "on-failure" => (RestartMode::OnFailure, None),
        "always" | "unless-stopped" => (RestartMode::Always, None),
        t => match t.strip_prefix("on-failure:") {
            Some(n) => {
                let n = bounded(n, 0, MAX_RESTARTS).ok_or_else(|| {
                    bad(src, raw, "expected on-failure:N with N from 0 to 1000000")
                })?;
                (RestartMode::OnFailure, Some(n))
            }
            None => {
                return Err(bad(
                    src,
                    raw,
                    "expected no, on-failure, on-failure:N, always or unless-stopped",
                ))
            }
        },
    })
}

pub fn ready_mode(src: &str, raw: &str) -> Result<ReadyMode> {
    Ok(match raw.trim() {
        "none" => ReadyMode::None,
        "port" => ReadyMode::Port,
        "listen" => ReadyMode::Listen,
        "notify" => ReadyMode::Notify,
        _ => return Err(bad(src, raw, "expected none, port, listen or notify")),
    })
}

pub fn log_level(src: &str, raw: &str) -> Result<LevelFilter> {
    Ok(match raw.trim() {
        "error" => LevelFilter::Error,
        "warn" => LevelFilter::Warn,
        "info" => LevelFilter::Info,
        "debug" => LevelFilter::Debug,
        "trace" => LevelFilter::Trace,
        _ => {
            return Err(bad(
                src,
                raw,
                "expected one of error, warn, info, debug, trace",
            ))
        }
    })
}

/// `--check CMD`: split on spaces, no shell; at least one word.
pub fn command(src: &str, raw: &str) -> Result<Vec<String>> {
    let words: Vec<String> = raw
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    if words.is_empty() {
        return Err(bad(
            src,
            raw,
            "expected a command, split on spaces without a shell, like '/usr/sbin/nginx -t'",
        ));
    }
    Ok(words)
}

/// A boolean variable: on for `1`, `true`, `yes`, off for `0`, `false`,
/// `no`, in any case.
pub fn boolean(src: &str, raw: &str) -> Result<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" => Ok(false),
        _ => Err(bad(
            src,
            raw,
            "expected 1, true or yes (on), or 0, false or no (off)",
        )),
    }
}

/// The variable of a switch. tini's own variables (`TINI_*`) are on
/// whenever they are set, to any value, as in tini; ctlinit's are booleans.
pub fn switch_var(var: &str, raw: &str) -> Result<bool> {
    if var.starts_with("TINI_") {
        Ok(true)
    } else {
        boolean(var, raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::signals::*;

    fn d(s: &str) -> std::result::Result<Duration, DurationError> {
        parse_duration(s)
    }

    fn message(r: Result<impl std::fmt::Debug>) -> String {
        match r {
            Err(Error::Usage(m)) => m,
            other => panic!("expected a usage error, got {other:?}"),
        }
    }

    #[test]
    fn durations_in_the_documented_spellings() {
        assert_eq!(d("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(d("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(d("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(d("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(d("8"), Ok(Duration::from_secs(8)));
        assert_eq!(d("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(d("0"), Ok(Duration::ZERO));
        assert_eq!(d(" 5s "), Ok(Duration::from_secs(5)));
    }

    #[test]
    fn durations_in_humantime_s_other_spellings() {
        assert_eq!(d("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(d("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(d("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(d("2 min"), Ok(Duration::from_secs(120)));
        assert_eq!(d("3days"), Ok(Duration::from_secs(3 * 86_400)));
        assert_eq!(d("52w"), Ok(Duration::from_secs(364 * 86_400)));
        assert_eq!(d("10us"), Ok(Duration::from_micros(10)));
        assert_eq!(d("7ns"), Ok(Duration::from_nanos(7)));
        assert_eq!(d("0.0000000001"), Ok(Duration::ZERO), "below a nanosecond");
        assert_eq!(d(".5"), Ok(Duration::from_millis(500)));
    }

    #[test]
    fn durations_up_to_365_days_inclusive() {
        assert_eq!(d("365d"), Ok(MAX_DURATION));
        assert_eq!(d("8760h"), Ok(MAX_DURATION));
        assert_eq!(d("31536000"), Ok(MAX_DURATION));
        assert_eq!(d("31536000000000000ns"), Ok(MAX_DURATION));
        for long in [
            "366d",
            "1y",
            "31536000.000000001",
            "31536001",
            "8761h",
            "10000000000000000000s",
            "18446744073709551615s 1000000000ns",
            "99999999999999999999999999999999999999999999",
            "364d 2d",
        ] {
            assert_eq!(d(long), Err(DurationError::TooLong), "{long}");
        }
    }

    #[test]
    fn durations_that_are_not_numbers_are_malformed() {
        for bad in [
            "",
            " ",
            "-1",
            "-1s",
            "+1s",
            "nan",
            "inf",
            "infinity",
            "1e400",
            "1e3",
            "5 parsecs",
            "1..2",
            "1.2.3",
            ".",
            "s",
            "5x",
            "1h-30m",
            "0x10",
            "½",
            "1,5",
            "5s;",
            "NaN",
        ] {
            assert_eq!(d(bad), Err(DurationError::Malformed), "{bad:?}");
        }
    }

    #[test]
    fn duration_errors_name_the_source_and_the_value() {
        assert_eq!(
            message(duration("--stop-timeout", "soon")),
            "invalid value 'soon' for --stop-timeout: expected a duration like 250ms, 5s, 2m, 1h or 0.5"
        );
        assert_eq!(
            message(duration("CTLINIT_STOP_DELAY", "366d")),
            "invalid value '366d' for CTLINIT_STOP_DELAY: longer than 365 days"
        );
    }

    #[test]
    fn backoff_takes_min_and_an_optional_max_not_below_it() {
        assert_eq!(
            backoff("--backoff", "10ms:2s").unwrap(),
            (Duration::from_millis(10), Some(Duration::from_secs(2)))
        );
        assert_eq!(
            backoff("--backoff", "1s").unwrap(),
            (Duration::from_secs(1), None)
        );
        assert_eq!(
            backoff("--backoff", "1s:1s").unwrap(),
            (Duration::from_secs(1), Some(Duration::from_secs(1)))
        );
        let m = message(backoff("--backoff", "2s:1s"));
        assert!(m.contains("'2s:1s'") && m.contains("--backoff"), "{m}");
        for bad in ["", ":", "1s:", ":1s", "1s:2s:3s", "fast"] {
            let m = message(backoff("--backoff", bad));
            assert!(
                m.contains(&format!("'{bad}'")) && m.contains("MIN[:MAX]"),
                "{m}"
            );
        }
        for long in ["366d", "1s:366d"] {
            assert!(message(backoff("CTLINIT_BACKOFF", long)).contains("365 days"));
        }
    }

    #[test]
    fn signals_and_their_refusals() {
        assert_eq!(
            signal("--stop-signal", "sigint", Refuse::CannotEnd).unwrap(),
            SIGINT
        );
        assert_eq!(
            signal("--stop-signal", "KILL", Refuse::CannotEnd).unwrap(),
            SIGKILL
        );
        assert_eq!(
            message(signal("--stop-signal", "CHLD", Refuse::CannotEnd)),
            "invalid value 'CHLD' for --stop-signal: CHLD cannot end a process"
        );
        for s in CANNOT_END {
            assert!(
                signal("-p", &s.to_string(), Refuse::CannotEnd).is_err(),
                "{s}"
            );
        }
        assert_eq!(
            message(signal("--reload-signal", "TERM", Refuse::Reload)),
            "invalid value 'TERM' for --reload-signal: TERM means \"stop\" and cannot also mean \"reload\""
        );
        for s in [
            SIGTERM, SIGINT, SIGQUIT, SIGCHLD, SIGKILL, SIGSTOP, SIGABRT, SIGSEGV, SIGBUS,
        ] {
            let m = message(signal("--watch-signal", &s.to_string(), Refuse::Reload));
            assert!(m.contains(&short_name(s)), "{m}");
        }
        assert_eq!(
            signal("--reload-signal", "HUP", Refuse::Reload).unwrap(),
            SIGHUP
        );
        for bad in ["0", "65", "", "NOPE", "-1", "4294967311"] {
            let m = message(signal("--stop-signal", bad, Refuse::CannotEnd));
            assert!(m.contains("from 1 to 64"), "{m}");
        }
        assert_eq!(
            signal("--stop-signal", "64", Refuse::CannotEnd).unwrap(),
            64
        );
        assert_eq!(signal("--stop-signal", "1", Refuse::CannotEnd).unwrap(), 1);
    }

    #[test]
    fn signal_lists_refuse_empty_items_and_unreceivable_signals() {
        fn l(s: &str) -> Result<Vec<i32>> {
            signal_list("--stop-on", s, Refuse::NeverReceived)
        }
        assert_eq!(l("TERM,INT").unwrap(), vec![SIGTERM, SIGINT]);
        assert_eq!(
            l("term, SIGINT ,term").unwrap(),
            vec![SIGTERM, SIGINT],
            "duplicates collapse"
        );
        assert_eq!(l("USR1").unwrap(), vec![SIGUSR1]);
        for bad in ["", ",", "TERM,", ",TERM", "TERM,,INT", " "] {
            assert!(message(l(bad)).contains("empty item"), "{bad:?}");
        }
        for s in [
            SIGKILL, SIGSTOP, SIGCHLD, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS,
        ] {
            let m = message(l(&format!("TERM,{s}")));
            assert!(m.contains(&short_name(s)) && m.contains("--stop-on"), "{m}");
        }
        assert!(message(l("TERM,BOGUS")).contains("'BOGUS' is not a signal"));
    }

    #[test]
    fn rewrites_take_a_receivable_from_and_a_signal_or_0() {
        assert_eq!(rewrite("-r", "TERM:QUIT").unwrap(), (SIGTERM, SIGQUIT));
        assert_eq!(rewrite("-r", "USR1:0").unwrap(), (SIGUSR1, 0));
        assert_eq!(rewrite("-r", "HUP:KILL").unwrap(), (SIGHUP, SIGKILL));
        assert!(message(rewrite("-r", "KILL:TERM")).contains("KILL cannot be caught"));
        assert!(message(rewrite("-r", "SEGV:TERM")).contains("SEGV is a fault signal"));
        for bad in [
            "TERM",
            "TERM:",
            ":TERM",
            "TERM:00",
            "TERM:65",
            "0:TERM",
            "TERM:QUIT:1",
            "",
        ] {
            assert!(rewrite("-r", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn counts_codes_and_ports_at_their_edges() {
        assert_eq!(count("--max-restarts", "1000000").unwrap(), 1_000_000);
        assert_eq!(count("--max-restarts", " 0 ").unwrap(), 0);
        assert_eq!(count("--max-restarts", "0000000000007").unwrap(), 7);
        for bad in [
            "1000001",
            "4294967295",
            "4294967296",
            "-1",
            "+1",
            "1.0",
            "",
            "1e3",
            "99999999999999999999999",
        ] {
            assert!(
                message(count("--max-restarts", bad)).contains("0 to 1000000"),
                "{bad}"
            );
        }
        assert_eq!(exit_code("-e", "0", 0).unwrap(), 0);
        assert_eq!(exit_code("-e", "255", 0).unwrap(), 255);
        assert!(exit_code("-e", "256", 0).is_err());
        assert!(exit_code("-e", "-1", 0).is_err());
        assert_eq!(exit_code("--restart-exit", "1", 1).unwrap(), 1);
        assert!(message(exit_code("--restart-exit", "0", 1)).contains("from 1 to 255"));
        assert_eq!(ports("--port", "1,65535").unwrap(), vec![1, 65535]);
        assert_eq!(ports("--port", "80, 443,80").unwrap(), vec![80, 443]);
        for bad in [
            "0",
            "65536",
            "",
            "80,",
            "80,,443",
            "http",
            "-80",
            "4294967376",
        ] {
            assert!(
                message(ports("--port", bad)).contains("1 to 65535"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn markers_are_environment_names_but_not_ctlinit_s_own() {
        assert_eq!(marker("--marker", "A").unwrap(), ("A".into(), None));
        assert_eq!(
            marker("--marker", "_x1=a=b").unwrap(),
            ("_x1".into(), Some("a=b".into()))
        );
        assert_eq!(
            marker("--marker", "E=").unwrap(),
            ("E".into(), Some(String::new()))
        );
        for bad in ["", "1BAD", "A-B", "=x", "A B", "É"] {
            assert!(marker("--marker", bad).is_err(), "{bad}");
        }
        let m = message(marker("CTLINIT_MARKER", "CTLINIT_SUPERVISOR=1"));
        assert!(m.contains("CTLINIT_MARKER") && m.contains("forge"), "{m}");
    }

    #[test]
    fn words_policies_modes_and_levels() {
        assert_eq!(
            restart_policy("--restart", "unless-stopped").unwrap(),
            (RestartMode::Always, None)
        );
        assert_eq!(
            restart_policy("--restart", "on-failure:0").unwrap(),
            (RestartMode::OnFailure, Some(0))
        );
        assert!(message(restart_policy("--restart", "on-failure:1000001")).contains("0 to 1000000"));
        for bad in ["sometimes", "", "on-failure:", "on-failure:-1", "Always"] {
            assert!(restart_policy("--restart", bad).is_err(), "{bad}");
        }
        assert_eq!(ready_mode("--ready", "notify").unwrap(), ReadyMode::Notify);
        assert!(ready_mode("--ready", "ready").is_err());
        assert_eq!(
            log_level("CTLINIT_LOG", "trace").unwrap(),
            LevelFilter::Trace
        );
        assert!(log_level("CTLINIT_LOG", "loud").is_err());
        assert!(log_level("CTLINIT_LOG", "off").is_err());
        assert_eq!(
            command("--check", " /usr/sbin/nginx  -t ").unwrap(),
            vec!["/usr/sbin/nginx", "-t"]
        );
        assert!(command("--check", "   ").is_err());
        assert!(path("--watch", "").is_err());
    }

    #[test]
    fn booleans_and_tini_switches() {
        for on in ["1", "true", "yes", "TRUE", "Yes"] {
            assert!(boolean("CTLINIT_PGROUP", on).unwrap(), "{on}");
        }
        for off in ["0", "false", "no", "FALSE", "No"] {
            assert!(!boolean("CTLINIT_PGROUP", off).unwrap(), "{off}");
        }
        assert!(message(boolean("CTLINIT_PGROUP", "2")).contains("CTLINIT_PGROUP"));
        for any in ["", "0", "no", "whatever"] {
            assert!(
                switch_var("TINI_KILL_PROCESS_GROUP", any).unwrap(),
                "{any:?}"
            );
        }
    }

    #[test]
    fn messages_escape_control_characters_and_stay_short() {
        assert_eq!(shown("a\nb\u{1b}[2J"), "a\\nb\\u{1b}[2J");
        assert_eq!(shown(&"x".repeat(500)).chars().count(), 201);
    }
}
