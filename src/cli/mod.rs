//! argv + `CTLINIT_*` environment → one immutable [`Invocation`].
//!
//! Three steps, no I/O: read the command line (stopping at COMMAND, and at
//! `--help`/`--version`, which win over any bad value), apply the
//! environment, apply the command line over it (the command line wins), then
//! check the rules between options in one place ([`Builder::finish`]). Every
//! refusal is a usage error that names the flag or variable and the value.
//! The options themselves are one table (`keys.rs`); their values go through
//! one parser per kind (`values.rs`).

mod help;
mod keys;
mod values;

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;

pub use help::HELP;

use crate::core::config::{ReadyMode, Settings};
use crate::error::{Error, Result};
use keys::{Key, Kind, Opt};
use lexopt::prelude::*;
use log::LevelFilter;
use std::collections::HashMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;
use values::{bad, shown, Value};

/// Everything `ctlinit [OPTIONS] COMMAND` needs (settings, COMMAND,
/// paths, log level); it lives with the settings in `core::config`.
pub use crate::core::config::{Config, Named};

/// The paths a verb uses to find a supervisor.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Target {
    pub pidfile: Option<PathBuf>,
    pub lockfile: Option<PathBuf>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Invocation {
    Supervise(Box<Config>),
    Status { json: bool, target: Target },
    Health { target: Target },
    Restart { timeout: Duration, target: Target },
    Help,
    Version,
}

/// `ctlinit restart` waits this long by default.
pub const RESTART_TIMEOUT: Duration = Duration::from_secs(60);

/// Parses argv (without argv[0]) and the environment (`env(name)`).
pub fn parse<I, F>(args: I, env: F) -> Result<Invocation>
where
    I: IntoIterator<Item = OsString>,
    F: Fn(&str) -> Option<OsString>,
{
    let args: Vec<OsString> = args.into_iter().collect();
    if let Some(verb) = args.first().and_then(|a| a.to_str()) {
        if matches!(verb, "status" | "health" | "restart") {
            return parse_verb(verb, &args[1..], &env);
        }
    }
    let (uses, command) = match read_command_line(args)? {
        Line::Help => return Ok(Invocation::Help),
        Line::Version => return Ok(Invocation::Version),
        Line::Supervise { uses, command } => (uses, command),
    };
    let mut b = Builder::default();
    b.read_env(&env)?;
    for u in uses {
        b.apply_flag(u)?;
    }
    b.finish(command)
        .map(|c| Invocation::Supervise(Box::new(c)))
}

// ------------------------------------------------------------------ the command line

/// One option as given on the command line.
struct Use {
    opt: &'static Opt,
    /// How messages name it (`--stop-timeout`, `-e/--success-exit`).
    name: String,
    value: Option<OsString>,
}

enum Line {
    Help,
    Version,
    Supervise {
        uses: Vec<Use>,
        command: Vec<OsString>,
    },
}

/// Splits the command line into option uses and COMMAND; values are parsed
/// later, so `--help` wins over a bad value before it.
fn read_command_line(args: Vec<OsString>) -> Result<Line> {
    let mut uses = Vec::new();
    let mut command = Vec::new();
    let mut p = lexopt::Parser::from_args(args);
    while let Some(arg) = p.next().map_err(lex_error)? {
        let (opt, name) = match arg {
            Short(c) => match keys::by_short(c) {
                Some(o) => (o, o.spelled(true)),
                None => {
                    return Err(Error::Usage(format!(
                        "unknown option -{}",
                        shown(&c.to_string())
                    )))
                }
            },
            Long(l) => match keys::by_long(l) {
                Some(o) => (o, o.spelled(false)),
                None => return Err(Error::Usage(format!("unknown option --{}", shown(l)))),
            },
            Value(first) => {
                command.push(first);
                command.extend(p.raw_args().map_err(lex_error)?);
                break;
            }
        };
        match opt.key {
            Key::Help => return Ok(Line::Help),
            Key::Version => return Ok(Line::Version),
            _ => {}
        }
        let value = match opt.kind {
            Kind::Switch => None,
            _ => Some(
                p.value()
                    .map_err(|_| Error::Usage(format!("{name} needs a value")))?,
            ),
        };
        uses.push(Use { opt, name, value });
    }
    Ok(Line::Supervise { uses, command })
}

/// lexopt's errors, in ctlinit's words.
fn lex_error(e: lexopt::Error) -> Error {
    match e {
        lexopt::Error::UnexpectedValue { option, value } => {
            let why = format!("{option} takes no value");
            bad(&option, &value.to_string_lossy(), &why)
        }
        lexopt::Error::MissingValue { option: Some(o) } => {
            Error::Usage(format!("{o} needs a value"))
        }
        other => Error::Usage(other.to_string()),
    }
}

/// A value as text: not valid UTF-8, or holding a NUL byte (which no
/// environment or argv can carry on to a process), is a usage error.
fn text(src: &str, v: OsString) -> Result<String> {
    let s = v
        .into_string()
        .map_err(|v| bad(src, &v.to_string_lossy(), "the value is not valid UTF-8"))?;
    if s.contains('\0') {
        return Err(bad(src, &s, "the value holds a NUL byte"));
    }
    Ok(s)
}

/// A variable's value: None when unset, or set to the empty string and
/// named `CTLINIT_*` (empty is unset, so `docker run -e CTLINIT_PORT=`
/// clears what an image set). tini's variables keep tini's meaning: set,
/// even empty, is set.
fn var<F: Fn(&str) -> Option<OsString>>(env: &F, name: &str) -> Result<Option<String>> {
    let Some(v) = env(name) else { return Ok(None) };
    let v = text(name, v)?;
    Ok((!v.is_empty() || name.starts_with("TINI_")).then_some(v))
}

// ------------------------------------------------------------------ the builder

#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    Env,
    Cli,
}

/// The configuration as it is read, before the rules between options.
#[derive(Default)]
struct Builder {
    s: Settings,
    watch: Vec<PathBuf>,
    pidfile: Option<PathBuf>,
    lockfile: Option<PathBuf>,
    pdeathsig: Option<i32>,
    backoff: Option<(Duration, Option<Duration>)>,
    ready: Option<ReadyMode>,
    env_level: Option<LevelFilter>,
    cli_level: Option<LevelFilter>,
    /// For each option, who set it last and to what: (source name, raw text).
    given: HashMap<Key, (String, String)>,
    /// For each list option, which source its current list comes from.
    list_from: HashMap<Key, Source>,
}

impl Builder {
    /// Every variable of the table, row by row; within a row the first
    /// variable listed wins (`CTLINIT_PGROUP` over `TINI_KILL_PROCESS_GROUP`).
    fn read_env<F: Fn(&str) -> Option<OsString>>(&mut self, env: &F) -> Result<()> {
        for opt in keys::TABLE {
            for &name in opt.vars.iter().rev() {
                let Some(v) = var(env, name)? else { continue };
                match opt.sep {
                    Some(sep) => {
                        if v.split(sep).any(str::is_empty) {
                            let why =
                                format!("expected a '{sep}'-separated list without an empty item");
                            return Err(bad(name, &v, &why));
                        }
                        for item in v.split(sep) {
                            self.set(opt, Source::Env, name, item)?;
                        }
                    }
                    None => self.set(opt, Source::Env, name, &v)?,
                }
            }
        }
        Ok(())
    }

    fn apply_flag(&mut self, u: Use) -> Result<()> {
        match u.value {
            None => self.store(u.opt.key, &u.name, "", Value::On(true)),
            Some(v) => {
                let v = text(&u.name, v)?;
                self.set(u.opt, Source::Cli, &u.name, &v)
            }
        }
    }

    /// Parses one value of `opt` from `src` and stores it.
    fn set(&mut self, opt: &Opt, from: Source, src: &str, raw: &str) -> Result<()> {
        let value = values::parse(opt.kind, src, raw)?;
        if opt.many && self.list_from.get(&opt.key) != Some(&from) {
            // The first use from a source replaces the list (and the default).
            self.list_from.insert(opt.key, from);
            self.clear(opt.key);
        }
        self.store(opt.key, src, raw, value)
    }

    fn clear(&mut self, key: Key) {
        let s = &mut self.s;
        match key {
            Key::StopOn => s.stop_on.clear(),
            Key::RestartExit => s.restart_exit.clear(),
            Key::Watch => self.watch.clear(),
            Key::Port => s.ports.clear(),
            Key::Marker => s.markers.clear(),
            Key::Rewrite => s.rewrite.clear(),
            Key::SuccessExit => s.success_exit.clear(),
            _ => {}
        }
    }

    /// Puts a parsed value where its option keeps it.
    fn store(&mut self, key: Key, src: &str, raw: &str, value: Value) -> Result<()> {
        use Value as V;
        fn add<T: PartialEq>(list: &mut Vec<T>, items: impl IntoIterator<Item = T>) {
            for x in items {
                if !list.contains(&x) {
                    list.push(x);
                }
            }
        }
        self.given.insert(key, (src.to_string(), raw.to_string()));
        let s = &mut self.s;
        match (key, value) {
            (Key::Restart, V::Policy(mode, max)) => {
                s.policy.mode = mode;
                if let Some(n) = max {
                    s.policy.max_restarts = n;
                }
            }
            (Key::MaxRestarts, V::Count(n)) => s.policy.max_restarts = n,
            (Key::Backoff, V::Backoff(min, max)) => self.backoff = Some((min, max)),
            (Key::ResetAfter, V::Duration(d)) => s.policy.reset_after = d,
            (Key::StopSignal, V::Signal(n)) => s.stop_signal = n,
            (Key::StopTimeout, V::Duration(d)) => s.stop_timeout = d,
            (Key::StopOn, V::Signals(list)) => add(&mut s.stop_on, list),
            (Key::StopDelay, V::Duration(d)) => s.stop_delay = d,
            (Key::ReloadSignal, V::Signal(n)) => s.reload_signal = Some(n),
            (Key::RestartExit, V::Code(c)) => add(&mut s.restart_exit, [c]),
            (Key::WatchSignal, V::Signal(n)) => s.watch_signal = Some(n),
            (Key::Check, V::Command(words)) => s.check = words,
            (Key::Watch, V::Path(p)) => add(&mut self.watch, [p]),
            (Key::Port, V::Ports(ports)) => add(&mut s.ports, ports),
            (Key::Ready, V::Ready(m)) => self.ready = Some(m),
            (Key::ReadyTimeout, V::Duration(d)) => s.ready_timeout = d,
            // systemd's WatchdogSec=0: off.
            (Key::Watchdog, V::Duration(d)) => s.watchdog = (!d.is_zero()).then_some(d),
            (Key::PortTimeout, V::Duration(d)) => s.port_timeout = d,
            (Key::Pidfile, V::Path(p)) => self.pidfile = Some(p),
            (Key::Lockfile, V::Path(p)) => self.lockfile = Some(p),
            (Key::Marker, V::Marker(name, value)) => {
                // A later marker of the same NAME replaces the earlier.
                s.markers.retain(|(n, _)| *n != name);
                s.markers.push((name, value));
            }
            (Key::Pgroup, V::On(on)) => s.pgroup = on,
            (Key::Rewrite, V::Rewrite(from, to)) => {
                // A later rewrite of the same FROM replaces the earlier.
                s.rewrite.retain(|(f, _)| *f != from);
                s.rewrite.push((from, to));
            }
            (Key::SuccessExit, V::Code(c)) => add(&mut s.success_exit, [c]),
            // tini compatibility: subreaper mode is automatic.
            (Key::Subreaper, V::On(_)) => {}
            (Key::WarnOrphans, V::On(on)) => s.warn_orphans = on,
            (Key::Pdeathsig, V::Signal(n)) => self.pdeathsig = Some(n),
            (Key::Verbose, V::On(_)) => {
                self.cli_level = Some(match self.cli_level {
                    Some(LevelFilter::Debug | LevelFilter::Trace) => LevelFilter::Trace,
                    _ => LevelFilter::Debug,
                })
            }
            (Key::Quiet, V::On(_)) => self.cli_level = Some(LevelFilter::Error),
            (Key::Log, V::Level(l)) => self.env_level = Some(l),
            (Key::Help | Key::Version, _) => {}
            (key, value) => {
                // The table gives each key the kind of value it stores;
                // keys.rs and tests.rs check every row.
                return Err(Error::Usage(format!(
                    "internal error: {key:?} cannot hold {value:?}"
                )));
            }
        }
        Ok(())
    }

    /// Who set `key` (as typed, or its variable), else its flag.
    fn src(&self, key: Key) -> String {
        match self.given.get(&key) {
            Some((src, _)) => src.clone(),
            None => keys::of(key).flag(),
        }
    }

    fn raw(&self, key: Key) -> String {
        self.given
            .get(&key)
            .map(|(_, r)| r.clone())
            .unwrap_or_default()
    }

    /// The rules between options, all in one place, after every source.
    fn finish(mut self, command: Vec<OsString>) -> Result<Config> {
        if command.is_empty() {
            return Err(Error::Usage(
                "no COMMAND given: ctlinit [OPTIONS] [--] COMMAND [ARG...]".into(),
            ));
        }
        let s = &mut self.s;
        if let Some((min, max)) = self.backoff {
            // MIN alone keeps the default MAX, raised to MIN if below it.
            s.policy.backoff_min = min;
            s.policy.backoff_max = max.unwrap_or(s.policy.backoff_max.max(min));
        }
        s.ready = match self.ready {
            Some(mode) => mode,
            None if s.ports.is_empty() => ReadyMode::None,
            None => ReadyMode::Port,
        };
        s.watch = !self.watch.is_empty();
        let s = &self.s;
        if s.ready == ReadyMode::Port && s.ports.is_empty() {
            return Err(bad(
                &self.src(Key::Ready),
                &self.raw(Key::Ready),
                "ready mode port needs at least one --port (or CTLINIT_PORT)",
            ));
        }
        if s.watchdog.is_some() && s.ready != ReadyMode::Notify {
            return Err(bad(
                &self.src(Key::Watchdog),
                &self.raw(Key::Watchdog),
                "a watchdog needs --ready notify (or CTLINIT_READY=notify); 0 turns it off",
            ));
        }
        if let Some(reload) = s.reload_signal.filter(|r| s.stop_on.contains(r)) {
            let why = format!(
                "{} is also the reload signal ({}); a signal cannot mean both \"stop\" and \"reload\"",
                values::short_name(reload),
                self.src(Key::ReloadSignal),
            );
            return Err(bad(&self.src(Key::StopOn), &self.raw(Key::StopOn), &why));
        }
        if let Some(code) = s.restart_exit.iter().find(|c| s.success_exit.contains(c)) {
            let why = format!(
                "exit code {code} is also a success code ({}); an exit cannot be both clean and a restart request",
                self.src(Key::SuccessExit),
            );
            return Err(bad(&self.src(Key::RestartExit), &code.to_string(), &why));
        }
        let level = self
            .cli_level
            .or(self.env_level)
            .unwrap_or(LevelFilter::Info);
        let named = Named {
            pidfile: self.src(Key::Pidfile),
            lockfile: self.src(Key::Lockfile),
            watch: self.src(Key::Watch),
        };
        Ok(Config {
            named,
            settings: self.s,
            command,
            watch: self.watch,
            pidfile: self.pidfile,
            lockfile: self.lockfile,
            pdeathsig: self.pdeathsig,
            log_level: level,
        })
    }
}

// ------------------------------------------------------------------ the verbs

/// `status [--json]`, `health`, `restart [--timeout DUR]`, each with
/// `[--pidfile P] [--lockfile P]` (and their variables).
fn parse_verb<F: Fn(&str) -> Option<OsString>>(
    verb: &str,
    args: &[OsString],
    env: &F,
) -> Result<Invocation> {
    let mut target = Target::default();
    for (key, slot) in [
        (Key::Pidfile, &mut target.pidfile),
        (Key::Lockfile, &mut target.lockfile),
    ] {
        for &name in keys::of(key).vars {
            if let Some(v) = var(env, name)? {
                *slot = Some(values::path(name, &v)?);
            }
        }
    }
    let mut json = false;
    let mut timeout = RESTART_TIMEOUT;
    let unexpected =
        |what: String| Error::Usage(format!("ctlinit {verb}: unexpected argument {what}"));
    let mut p = lexopt::Parser::from_args(args.iter().cloned());
    loop {
        let arg = match p.next() {
            Ok(Some(arg)) => arg,
            Ok(None) => break,
            Err(lexopt::Error::UnexpectedValue { option, value }) => {
                return Err(unexpected(format!(
                    "'{option}={}'",
                    shown(&value.to_string_lossy())
                )))
            }
            Err(e) => return Err(unexpected(e.to_string())),
        };
        let flag = match arg {
            Short('h') | Long("help") => return Ok(Invocation::Help),
            Long("json") if verb == "status" => {
                json = true;
                continue;
            }
            Long(l @ ("pidfile" | "lockfile")) => format!("--{l}"),
            Long("timeout") if verb == "restart" => "--timeout".to_string(),
            Short(c) => return Err(unexpected(format!("-{}", shown(&c.to_string())))),
            Long(l) => return Err(unexpected(format!("--{}", shown(l)))),
            Value(v) => return Err(unexpected(format!("'{}'", shown(&v.to_string_lossy())))),
        };
        let v = p
            .value()
            .map_err(|_| Error::Usage(format!("ctlinit {verb}: {flag} needs a value")))?;
        let v = text(&flag, v)?;
        match flag.as_str() {
            "--pidfile" => target.pidfile = Some(values::path(&flag, &v)?),
            "--lockfile" => target.lockfile = Some(values::path(&flag, &v)?),
            _ => timeout = values::duration(&flag, &v)?,
        }
    }
    Ok(match verb {
        "status" => Invocation::Status { json, target },
        "health" => Invocation::Health { target },
        _ => Invocation::Restart { timeout, target },
    })
}
