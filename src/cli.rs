//! argv + `CTLINIT_*` environment → one immutable [`Invocation`].
//! The environment is applied first and the command line second, so the
//! command line wins; every bad value is a usage error naming its source.
//! Owns the help text.

use crate::error::{Error, Result};
use crate::policy::RestartMode;
use crate::signals::parse_signal;
use lexopt::prelude::*;
use log::LevelFilter;
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadyMode {
    None,
    Port,
    Listen,
    Notify,
}

/// Everything the supervisor needs, fixed at start-up.
#[derive(Clone, Debug)]
pub struct Config {
    pub command: Vec<OsString>,
    pub restart: RestartMode,
    pub max_restarts: u32,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    pub reset_after: Duration,
    pub stop_signal: i32,
    pub stop_timeout: Duration,
    pub reload_signal: Option<i32>,
    pub watch: Vec<PathBuf>,
    pub ports: Vec<u16>,
    pub ready: ReadyMode,
    pub ready_timeout: Duration,
    pub port_timeout: Duration,
    pub pidfile: Option<PathBuf>,
    pub lockfile: Option<PathBuf>,
    pub markers: Vec<(String, Option<String>)>,
    pub pgroup: bool,
    /// (from, to); to == 0 drops the signal.
    pub rewrite: Vec<(i32, i32)>,
    pub success_exit: Vec<i32>,
    pub warn_orphans: bool,
    pub pdeathsig: Option<i32>,
    pub log_level: LevelFilter,
}

/// The paths a verb uses to find a supervisor.
#[derive(Clone, Debug, Default)]
pub struct Target {
    pub pidfile: Option<PathBuf>,
    pub lockfile: Option<PathBuf>,
}

#[derive(Debug)]
pub enum Invocation {
    Supervise(Box<Config>),
    Status { json: bool, target: Target },
    Health { target: Target },
    Restart { timeout: Duration, target: Target },
    Help,
    Version,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            command: vec![],
            restart: RestartMode::No,
            max_restarts: 5,
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(30),
            reset_after: Duration::from_secs(30),
            stop_signal: libc::SIGTERM,
            stop_timeout: Duration::from_secs(8),
            reload_signal: None,
            watch: vec![],
            ports: vec![],
            ready: ReadyMode::None,
            ready_timeout: Duration::from_secs(30),
            port_timeout: Duration::from_secs(5),
            pidfile: None,
            lockfile: None,
            markers: vec![],
            pgroup: false,
            rewrite: vec![],
            success_exit: vec![0],
            warn_orphans: false,
            pdeathsig: None,
            log_level: LevelFilter::Info,
        }
    }
}

/// Parses argv (without argv[0]) and the environment (`env(name)`).
pub fn parse<I, F>(args: I, env: F) -> Result<Invocation>
where
    I: IntoIterator<Item = OsString>,
    F: Fn(&str) -> Option<String>,
{
    let args: Vec<OsString> = args.into_iter().collect();
    match args.first().and_then(|a| a.to_str()) {
        Some("status") => return parse_verb("status", &args[1..], &env),
        Some("health") => return parse_verb("health", &args[1..], &env),
        Some("restart") => return parse_verb("restart", &args[1..], &env),
        _ => {}
    }
    let mut b = Builder::default();
    b.apply_env(&env)?;
    let mut p = lexopt::Parser::from_args(args);
    while let Some(arg) = p.next().map_err(usage)? {
        match arg {
            Short('h') | Long("help") => return Ok(Invocation::Help),
            Short('V') | Long("version") => return Ok(Invocation::Version),
            Short('g') | Long("pgroup") => b.cfg.pgroup = true,
            Short('s') => {} // tini compatibility: subreaper mode is automatic
            Short('w') => b.cfg.warn_orphans = true,
            Short('v') => b.verbose += 1,
            Short('q') => b.quiet = true,
            Short('r') | Long("rewrite") => b.set_cli(Key::Rewrite, "--rewrite", &mut p)?,
            Short('e') | Long("success-exit") => {
                b.set_cli(Key::SuccessExit, "--success-exit", &mut p)?
            }
            Short('p') | Long("pdeathsig") => b.set_cli(Key::Pdeathsig, "--pdeathsig", &mut p)?,
            Long(name) => {
                let name = name.to_string();
                let key = Key::from_long(&name)
                    .ok_or_else(|| Error::Usage(format!("unknown option --{name}")))?;
                b.set_cli(key, &format!("--{name}"), &mut p)?;
            }
            Short(c) => return Err(Error::Usage(format!("unknown option -{c}"))),
            Value(cmd) => {
                b.cfg.command.push(cmd);
                b.cfg.command.extend(p.raw_args().map_err(usage)?);
            }
        }
    }
    b.finish().map(|c| Invocation::Supervise(Box::new(c)))
}

fn usage(e: lexopt::Error) -> Error {
    Error::Usage(e.to_string())
}

/// The options that take a value, shared by flags and variables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Key {
    Restart,
    MaxRestarts,
    Backoff,
    ResetAfter,
    StopSignal,
    StopTimeout,
    ReloadSignal,
    Watch,
    Port,
    Ready,
    ReadyTimeout,
    PortTimeout,
    Pidfile,
    Lockfile,
    Marker,
    Rewrite,
    SuccessExit,
    Pdeathsig,
}

impl Key {
    fn from_long(name: &str) -> Option<Key> {
        Some(match name {
            "restart" => Key::Restart,
            "max-restarts" => Key::MaxRestarts,
            "backoff" => Key::Backoff,
            "reset-after" => Key::ResetAfter,
            "stop-signal" => Key::StopSignal,
            "stop-timeout" => Key::StopTimeout,
            "reload-signal" => Key::ReloadSignal,
            "watch" => Key::Watch,
            "port" => Key::Port,
            "ready" => Key::Ready,
            "ready-timeout" => Key::ReadyTimeout,
            "port-timeout" => Key::PortTimeout,
            "pidfile" => Key::Pidfile,
            "lockfile" => Key::Lockfile,
            "marker" => Key::Marker,
            "rewrite" => Key::Rewrite,
            "success-exit" => Key::SuccessExit,
            "pdeathsig" => Key::Pdeathsig,
            _ => return None,
        })
    }
}

/// Environment variables, their option, and the separator of list values.
const ENV_KEYS: &[(&str, Key, Option<char>)] = &[
    ("CTLINIT_RESTART", Key::Restart, None),
    ("CTLINIT_MAX_RESTARTS", Key::MaxRestarts, None),
    ("CTLINIT_BACKOFF", Key::Backoff, None),
    ("CTLINIT_RESET_AFTER", Key::ResetAfter, None),
    ("CTLINIT_STOP_SIGNAL", Key::StopSignal, None),
    ("CTLINIT_STOP_TIMEOUT", Key::StopTimeout, None),
    ("CTLINIT_RELOAD_SIGNAL", Key::ReloadSignal, None),
    ("CTLINIT_WATCH", Key::Watch, Some(':')),
    ("CTLINIT_PORT", Key::Port, None),
    ("CTLINIT_READY", Key::Ready, None),
    ("CTLINIT_READY_TIMEOUT", Key::ReadyTimeout, None),
    ("CTLINIT_PORT_TIMEOUT", Key::PortTimeout, None),
    ("CTLINIT_PIDFILE", Key::Pidfile, None),
    ("CTLINIT_LOCKFILE", Key::Lockfile, None),
    ("CTLINIT_MARKER", Key::Marker, Some(',')),
    ("CTLINIT_REWRITE", Key::Rewrite, Some(',')),
    ("CTLINIT_SUCCESS_EXIT", Key::SuccessExit, Some(',')),
    ("CTLINIT_PDEATHSIG", Key::Pdeathsig, None),
];

#[derive(Default)]
struct Builder {
    cfg: Config,
    ready_set: bool,
    /// The flag or variable that set --ready, named in its error.
    ready_src: String,
    verbose: u32,
    quiet: bool,
    env_level: Option<LevelFilter>,
    /// Repeatable flags: the first use on the command line replaces the
    /// environment's list instead of adding to it.
    cli_lists: Vec<Key>,
}

impl Builder {
    fn apply_env<F: Fn(&str) -> Option<String>>(&mut self, env: &F) -> Result<()> {
        for &(var, key, sep) in ENV_KEYS {
            let Some(val) = env(var) else { continue };
            match sep {
                Some(sep) => {
                    for part in val.split(sep).filter(|s| !s.is_empty()) {
                        self.set(key, var, part)?;
                    }
                }
                None => self.set(key, var, &val)?,
            }
        }
        for var in ["CTLINIT_PGROUP", "TINI_KILL_PROCESS_GROUP"] {
            if env_bool(env, var)? {
                self.cfg.pgroup = true;
            }
        }
        env_bool(env, "TINI_SUBREAPER")?;
        if let Some(v) = env("CTLINIT_LOG") {
            self.env_level =
                Some(parse_level(&v).ok_or_else(|| {
                    bad("CTLINIT_LOG", &v, "one of error, warn, info, debug, trace")
                })?);
        }
        Ok(())
    }

    fn set_cli(&mut self, key: Key, flag: &str, p: &mut lexopt::Parser) -> Result<()> {
        let raw = p
            .value()
            .map_err(|_| Error::Usage(format!("{flag} needs a value")))?;
        let val = raw
            .into_string()
            .map_err(|v| bad(flag, &v.to_string_lossy(), "valid UTF-8"))?;
        if is_list(key) && !self.cli_lists.contains(&key) {
            self.cli_lists.push(key);
            self.clear_list(key);
        }
        self.set(key, flag, &val)
    }

    fn clear_list(&mut self, key: Key) {
        let c = &mut self.cfg;
        match key {
            Key::Watch => c.watch.clear(),
            Key::Port => c.ports.clear(),
            Key::Marker => c.markers.clear(),
            Key::Rewrite => c.rewrite.clear(),
            Key::SuccessExit => c.success_exit.clear(),
            _ => {}
        }
    }

    /// Parses one value for `key`; `src` (flag or variable) names it in errors.
    fn set(&mut self, key: Key, src: &str, v: &str) -> Result<()> {
        let c = &mut self.cfg;
        match key {
            Key::Restart => {
                let (mode, max) = parse_restart(v)
                    .ok_or_else(|| bad(src, v, "no, on-failure, on-failure:N or always"))?;
                c.restart = mode;
                if let Some(n) = max {
                    c.max_restarts = n;
                }
            }
            Key::MaxRestarts => {
                c.max_restarts = v
                    .trim()
                    .parse()
                    .map_err(|_| bad(src, v, "a whole number (0 = never give up)"))?
            }
            Key::Backoff => {
                let (min, max) = match v.split_once(':') {
                    Some((a, b)) => (duration(src, a)?, Some(duration(src, b)?)),
                    None => (duration(src, v)?, None),
                };
                let max = max.unwrap_or(c.backoff_max.max(min));
                if max < min {
                    return Err(bad(src, v, "MIN[:MAX] with MAX >= MIN"));
                }
                c.backoff_min = min;
                c.backoff_max = max;
            }
            Key::ResetAfter => c.reset_after = duration(src, v)?,
            Key::StopSignal => c.stop_signal = signal(src, v)?,
            Key::StopTimeout => c.stop_timeout = duration(src, v)?,
            Key::ReloadSignal => c.reload_signal = Some(signal(src, v)?),
            Key::Watch => {
                if v.is_empty() {
                    return Err(bad(src, v, "a file path"));
                }
                c.watch.push(PathBuf::from(v))
            }
            Key::Port => {
                for part in v.split(',') {
                    let port = part
                        .trim()
                        .parse::<u16>()
                        .ok()
                        .filter(|p| *p != 0)
                        .ok_or_else(|| bad(src, v, "TCP ports 1-65535, comma-separated"))?;
                    if !c.ports.contains(&port) {
                        c.ports.push(port);
                    }
                }
            }
            Key::Ready => {
                c.ready = match v {
                    "none" => ReadyMode::None,
                    "port" => ReadyMode::Port,
                    "listen" => ReadyMode::Listen,
                    "notify" => ReadyMode::Notify,
                    _ => return Err(bad(src, v, "none, port, listen or notify")),
                };
                self.ready_set = true;
                self.ready_src = src.to_string();
            }
            Key::ReadyTimeout => c.ready_timeout = duration(src, v)?,
            Key::PortTimeout => c.port_timeout = duration(src, v)?,
            Key::Pidfile => c.pidfile = Some(path(src, v)?),
            Key::Lockfile => c.lockfile = Some(path(src, v)?),
            Key::Marker => {
                let (name, value) = match v.split_once('=') {
                    Some((n, val)) => (n, Some(val.to_string())),
                    None => (v, None),
                };
                if !valid_env_name(name) {
                    return Err(bad(
                        src,
                        v,
                        "NAME[=VALUE] with NAME made of letters, digits and _",
                    ));
                }
                c.markers.push((name.to_string(), value));
            }
            Key::Rewrite => {
                let parsed = v.split_once(':').and_then(|(from, to)| {
                    let from = parse_signal(from)?;
                    let to = if to.trim() == "0" {
                        0
                    } else {
                        parse_signal(to)?
                    };
                    Some((from, to))
                });
                let (from, to) =
                    parsed.ok_or_else(|| bad(src, v, "FROM:TO signals (TO = 0 drops)"))?;
                c.rewrite.retain(|(f, _)| *f != from);
                c.rewrite.push((from, to));
            }
            Key::SuccessExit => {
                let code = v
                    .trim()
                    .parse::<i32>()
                    .ok()
                    .filter(|c| (0..=255).contains(c))
                    .ok_or_else(|| bad(src, v, "an exit code 0-255"))?;
                if !c.success_exit.contains(&code) {
                    c.success_exit.push(code);
                }
            }
            Key::Pdeathsig => c.pdeathsig = Some(signal(src, v)?),
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Config> {
        if self.cfg.command.is_empty() {
            return Err(Error::Usage(
                "no COMMAND given: ctlinit [OPTIONS] [--] COMMAND [ARG...]".into(),
            ));
        }
        if !self.ready_set && !self.cfg.ports.is_empty() {
            self.cfg.ready = ReadyMode::Port;
        }
        if self.cfg.ready == ReadyMode::Port && self.cfg.ports.is_empty() {
            return Err(Error::Usage(format!(
                "{} port needs at least one --port (or CTLINIT_PORT)",
                self.ready_src
            )));
        }
        self.cfg.log_level = if self.quiet {
            LevelFilter::Error
        } else if self.verbose > 0 {
            if self.verbose == 1 {
                LevelFilter::Debug
            } else {
                LevelFilter::Trace
            }
        } else {
            self.env_level.unwrap_or(LevelFilter::Info)
        };
        Ok(self.cfg)
    }
}

fn is_list(key: Key) -> bool {
    matches!(
        key,
        Key::Watch | Key::Port | Key::Marker | Key::Rewrite | Key::SuccessExit
    )
}

fn parse_verb<F: Fn(&str) -> Option<String>>(
    verb: &str,
    args: &[OsString],
    env: &F,
) -> Result<Invocation> {
    let mut target = Target {
        pidfile: env("CTLINIT_PIDFILE")
            .filter(|s| !s.is_empty())
            .map(PathBuf::from),
        lockfile: env("CTLINIT_LOCKFILE")
            .filter(|s| !s.is_empty())
            .map(PathBuf::from),
    };
    let mut json = false;
    let mut timeout = Duration::from_secs(60);
    let mut p = lexopt::Parser::from_args(args.iter().cloned());
    while let Some(arg) = p.next().map_err(usage)? {
        match arg {
            Short('h') | Long("help") => return Ok(Invocation::Help),
            Long("pidfile") => target.pidfile = Some(PathBuf::from(p.value().map_err(usage)?)),
            Long("lockfile") => target.lockfile = Some(PathBuf::from(p.value().map_err(usage)?)),
            Long("json") if verb == "status" => json = true,
            Long("timeout") if verb == "restart" => {
                let v = p.value().map_err(usage)?;
                timeout = duration("--timeout", &v.to_string_lossy())?;
            }
            other => {
                return Err(Error::Usage(format!(
                    "ctlinit {verb}: unexpected argument {}",
                    match other {
                        Short(c) => format!("-{c}"),
                        Long(l) => format!("--{l}"),
                        Value(v) => format!("'{}'", v.to_string_lossy()),
                    }
                )))
            }
        }
    }
    Ok(match verb {
        "status" => Invocation::Status { json, target },
        "health" => Invocation::Health { target },
        _ => Invocation::Restart { timeout, target },
    })
}

fn bad(src: &str, v: &str, expected: &str) -> Error {
    Error::Usage(format!(
        "invalid value '{v}' for {src}: expected {expected}"
    ))
}

fn env_bool<F: Fn(&str) -> Option<String>>(env: &F, var: &str) -> Result<bool> {
    match env(var).as_deref() {
        None | Some("") | Some("0") => Ok(false),
        Some("1") => Ok(true),
        Some(other) => Err(bad(var, other, "1 (on) or 0 (off)")),
    }
}

fn parse_level(s: &str) -> Option<LevelFilter> {
    Some(match s {
        "error" => LevelFilter::Error,
        "warn" => LevelFilter::Warn,
        "info" => LevelFilter::Info,
        "debug" => LevelFilter::Debug,
        "trace" => LevelFilter::Trace,
        _ => return None,
    })
}

fn parse_restart(v: &str) -> Option<(RestartMode, Option<u32>)> {
    Some(match v {
        "no" => (RestartMode::No, None),
        "on-failure" => (RestartMode::OnFailure, None),
        "always" | "unless-stopped" => (RestartMode::Always, None),
        _ => {
            let n = v.strip_prefix("on-failure:")?.parse().ok()?;
            (RestartMode::OnFailure, Some(n))
        }
    })
}

/// `250ms`, `5s`, `2m`, `1h`, or a bare number of seconds (`8`, `0.5`).
pub fn parse_duration(v: &str) -> Option<Duration> {
    let t = v.trim();
    if t.is_empty() {
        return None;
    }
    if t.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let secs: f64 = t.parse().ok()?;
        return (secs.is_finite() && secs < 1e9).then(|| Duration::from_secs_f64(secs));
    }
    humantime::parse_duration(t).ok()
}

fn duration(src: &str, v: &str) -> Result<Duration> {
    parse_duration(v).ok_or_else(|| bad(src, v, "a duration like 250ms, 5s, 2m, 1h or 0.5"))
}

fn signal(src: &str, v: &str) -> Result<i32> {
    parse_signal(v).ok_or_else(|| bad(src, v, "a signal like TERM, SIGTERM or 15"))
}

fn path(src: &str, v: &str) -> Result<PathBuf> {
    if v.is_empty() {
        return Err(bad(src, v, "a file path"));
    }
    Ok(PathBuf::from(v))
}

fn valid_env_name(n: &str) -> bool {
    let mut chars = n.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

pub const HELP: &str = "\
ctlinit — a container init that supervises one daemon

Usage:
  ctlinit [OPTIONS] [--] COMMAND [ARG...]    supervise COMMAND
  ctlinit status [--json] [--pidfile PATH] [--lockfile PATH]
  ctlinit health [--pidfile PATH] [--lockfile PATH]
  ctlinit restart [--timeout DUR] [--pidfile PATH] [--lockfile PATH]
  ctlinit --help | --version

Options (environment variable in brackets; the command line wins):
  --restart POLICY        no | on-failure | on-failure:N | always  [CTLINIT_RESTART] (default: no)
  --max-restarts N        consecutive failed runs tolerated, 0 = never give up  [CTLINIT_MAX_RESTARTS] (default: 5)
  --backoff MIN[:MAX]     delay before a restart, doubling per quick exit  [CTLINIT_BACKOFF] (default: 100ms:30s)
  --reset-after DUR       a run this long resets failures and backoff  [CTLINIT_RESET_AFTER] (default: 30s)
  --stop-signal SIG       signal ctlinit sends to stop the daemon  [CTLINIT_STOP_SIGNAL] (default: TERM)
  --stop-timeout DUR      grace before SIGKILL to the process group  [CTLINIT_STOP_TIMEOUT] (default: 8s)
  --reload-signal SIG     signal that means \"restart the daemon gracefully\"  [CTLINIT_RELOAD_SIGNAL] (default: unset)
  --watch PATH            restart when PATH's content changes; repeatable  [CTLINIT_WATCH, ':'-separated] (default: none)
  --port PORT[,PORT...]   TCP ports the daemon listens on; repeatable  [CTLINIT_PORT] (default: none)
  --ready MODE            none | port | listen | notify  [CTLINIT_READY] (default: port with --port, else none)
  --ready-timeout DUR     not ready by then = failed run  [CTLINIT_READY_TIMEOUT] (default: 30s)
  --port-timeout DUR      wait for ports to be free before a start  [CTLINIT_PORT_TIMEOUT] (default: 5s)
  --pidfile PATH          generation-stamped JSON PID file  [CTLINIT_PIDFILE] (default: /run/ctlinit/daemon.pid)
  --lockfile PATH         singleton lock  [CTLINIT_LOCKFILE] (default: ctlinit.lock beside the PID file)
  --marker NAME[=VALUE]   extra environment marker for the daemon; repeatable  [CTLINIT_MARKER, ','-separated] (default: none)
  -g, --pgroup            forward signals to the daemon's process group  [CTLINIT_PGROUP, TINI_KILL_PROCESS_GROUP] (default: off)
  -r, --rewrite FROM:TO   rewrite a received signal before forwarding, TO=0 drops; repeatable  [CTLINIT_REWRITE] (default: none)
  -e, --success-exit CODE exit code that counts as clean, reported as 0; repeatable  [CTLINIT_SUCCESS_EXIT] (default: 0)
  -s                      accepted for tini compatibility (subreaper mode is automatic)  [TINI_SUBREAPER]
  -w                      log every reaped orphan at warn level (default: off)
  -p, --pdeathsig SIG     signal ctlinit receives when its parent dies  [CTLINIT_PDEATHSIG] (default: unset)
  -v, -q                  more (repeatable) / less logging  [CTLINIT_LOG=error|warn|info|debug|trace] (default: info)
  -h, --help              print this help
  -V, --version           print the version

Durations: 250ms, 5s, 2m, 1h or seconds (8, 0.5). Signals: TERM, SIGTERM, sigterm or 15.
Exit status: the daemon's (code or 128+signal); 0 for --success-exit codes; 2 usage;
69 port busy; 75 lock held; 126/127 command not executable / not found.
";

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    fn cfg(args: &[&str], env: &[(&str, &str)]) -> Result<Config> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        match parse(os(args), |k| {
            env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        })? {
            Invocation::Supervise(c) => Ok(*c),
            other => panic!("expected supervise, got {other:?}"),
        }
    }

    fn err(args: &[&str], env: &[(&str, &str)]) -> String {
        match cfg(args, env) {
            Err(e) => {
                assert_eq!(e.exit_code(), 2);
                e.to_string()
            }
            Ok(c) => panic!("expected a usage error, got {c:?}"),
        }
    }

    #[test]
    fn first_non_option_starts_the_command_and_keeps_its_flags() {
        let c = cfg(&["-g", "mydaemon", "--port", "5", "-g"], &[]).unwrap();
        assert_eq!(c.command, os(&["mydaemon", "--port", "5", "-g"]));
        assert!(c.pgroup);
        assert!(c.ports.is_empty());
    }

    #[test]
    fn double_dash_ends_options_and_verbs_only_come_first() {
        let c = cfg(&["--", "status", "-x"], &[]).unwrap();
        assert_eq!(c.command, os(&["status", "-x"]));
        let c = cfg(&["--restart", "always", "status"], &[]).unwrap();
        assert_eq!(c.command, os(&["status"]));
        assert!(matches!(
            parse(os(&["status", "--json"]), |_| None),
            Ok(Invocation::Status { json: true, .. })
        ));
    }

    #[test]
    fn defaults_match_the_spec() {
        let c = cfg(&["d"], &[]).unwrap();
        assert_eq!(c.restart, RestartMode::No);
        assert_eq!(c.max_restarts, 5);
        assert_eq!(
            (c.backoff_min, c.backoff_max),
            (Duration::from_millis(100), Duration::from_secs(30))
        );
        assert_eq!(c.reset_after, Duration::from_secs(30));
        assert_eq!(c.stop_signal, libc::SIGTERM);
        assert_eq!(c.stop_timeout, Duration::from_secs(8));
        assert_eq!(c.ready, ReadyMode::None);
        assert_eq!(c.ready_timeout, Duration::from_secs(30));
        assert_eq!(c.port_timeout, Duration::from_secs(5));
        assert_eq!(c.success_exit, vec![0]);
        assert_eq!(c.log_level, LevelFilter::Info);
    }

    #[test]
    fn values_parse_in_every_spelling() {
        let c = cfg(
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
        )
        .unwrap();
        assert_eq!((c.restart, c.max_restarts), (RestartMode::OnFailure, 3));
        assert_eq!(
            (c.backoff_min, c.backoff_max),
            (Duration::from_millis(10), Duration::from_secs(2))
        );
        assert_eq!(c.stop_signal, libc::SIGINT);
        assert_eq!(c.stop_timeout, Duration::from_millis(500));
        assert_eq!(c.reload_signal, Some(libc::SIGHUP));
        assert_eq!(c.ports, vec![80, 443, 8080]);
        assert_eq!(c.ready, ReadyMode::Port, "--port implies --ready port");
        assert_eq!(
            c.rewrite,
            vec![(libc::SIGTERM, libc::SIGQUIT), (libc::SIGUSR1, 0)]
        );
        assert_eq!(
            c.success_exit,
            vec![3],
            "a command-line list replaces the default"
        );
        assert_eq!(
            c.markers,
            vec![("A".into(), None), ("B".into(), Some("x".into()))]
        );
        assert_eq!(c.log_level, LevelFilter::Trace);
    }

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
        let c = cfg(&["--stop-timeout", "1s", "d"], &env).unwrap();
        assert_eq!(c.restart, RestartMode::Always);
        assert_eq!(c.stop_timeout, Duration::from_secs(1));
        assert_eq!(c.watch, vec![PathBuf::from("/a"), PathBuf::from("/b")]);
        assert_eq!(c.success_exit, vec![0, 7]);
        assert_eq!(c.markers.len(), 2);
        assert!(c.pgroup);
        assert_eq!(c.log_level, LevelFilter::Warn);
        let c = cfg(&["--watch", "/c", "d"], &env).unwrap();
        assert_eq!(c.watch, vec![PathBuf::from("/c")]);
    }

    #[test]
    fn bad_values_name_the_flag_or_variable_and_the_value() {
        let e = err(&["--stop-timeout", "soon", "d"], &[]);
        assert!(e.contains("--stop-timeout") && e.contains("'soon'"), "{e}");
        let e = err(&["d"], &[("CTLINIT_BACKOFF", "fast")]);
        assert!(e.contains("CTLINIT_BACKOFF") && e.contains("'fast'"), "{e}");
        let e = err(&["--port", "0", "d"], &[]);
        assert!(e.contains("--port"), "{e}");
        let e = err(&["--port", "65536", "d"], &[]);
        assert!(e.contains("65536"), "{e}");
        let e = err(&["-e", "256", "d"], &[]);
        assert!(e.contains("256"), "{e}");
        let e = err(&["--stop-signal", "NOPE", "d"], &[]);
        assert!(e.contains("NOPE"), "{e}");
        let e = err(&["d"], &[("CTLINIT_LOG", "loud")]);
        assert!(e.contains("CTLINIT_LOG") && e.contains("loud"), "{e}");
        let e = err(&["d"], &[("CTLINIT_PGROUP", "yes")]);
        assert!(e.contains("CTLINIT_PGROUP"), "{e}");
        let e = err(&["--backoff", "2s:1s", "d"], &[]);
        assert!(e.contains("--backoff"), "{e}");
        let e = err(&["--restart", "sometimes", "d"], &[]);
        assert!(e.contains("sometimes"), "{e}");
        let e = err(&["d"], &[("CTLINIT_READY", "port")]);
        assert!(e.contains("CTLINIT_READY"), "{e}");
        let e = err(&["--stop-signal", "RTMIN+2147483647", "d"], &[]);
        assert!(e.contains("RTMIN+2147483647"), "{e}");
        let e = err(&["--marker", "1BAD", "d"], &[]);
        assert!(e.contains("1BAD"), "{e}");
        let e = err(&["--bogus", "d"], &[]);
        assert!(e.contains("--bogus"), "{e}");
        let e = err(&[], &[]);
        assert!(e.contains("COMMAND"), "{e}");
        let e = err(&["--stop-timeout"], &[]);
        assert!(e.contains("--stop-timeout"), "{e}");
    }

    #[test]
    fn durations() {
        let d = |s| parse_duration(s);
        assert_eq!(d("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(d("5s"), Some(Duration::from_secs(5)));
        assert_eq!(d("2m"), Some(Duration::from_secs(120)));
        assert_eq!(d("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(d("8"), Some(Duration::from_secs(8)));
        assert_eq!(d("0.5"), Some(Duration::from_millis(500)));
        for bad in ["", "-1", "nan", "inf", "1e3", "5 parsecs", "1..2"] {
            assert_eq!(d(bad), None, "{bad}");
        }
    }

    #[test]
    fn help_names_every_flag_with_its_default() {
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
            "--pgroup",
            "--rewrite",
            "--success-exit",
            "-s ",
            "-w ",
            "--pdeathsig",
            "-v, -q",
        ] {
            assert!(HELP.contains(flag), "help lacks {flag}");
        }
        assert!(HELP
            .lines()
            .filter(|l| l.trim_start().starts_with('-'))
            .all(|l| l.contains("default")
                || l.contains("-s ")
                || l.contains("--help")
                || l.contains("--version")));
    }
}
