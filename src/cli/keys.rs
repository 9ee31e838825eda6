//! The one table of ctlinit's options: for each, its long flag, short
//! letter, environment variable(s), the separator of the variable's list,
//! whether uses accumulate, and the value parser it goes through. The flag
//! reader, the environment reader, the help test and the property tests all
//! walk this table; adding an option is one row here (plus, if its kind of
//! value is new, one parser in `values.rs`) and one line in `store`.

/// Every option (and switch) ctlinit knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    Restart,
    MaxRestarts,
    Backoff,
    ResetAfter,
    StopSignal,
    StopTimeout,
    StopOn,
    StopDelay,
    ReloadSignal,
    RestartExit,
    WatchSignal,
    Check,
    Watch,
    Port,
    Ready,
    ReadyTimeout,
    Watchdog,
    PortTimeout,
    Pidfile,
    Lockfile,
    Marker,
    Pgroup,
    Rewrite,
    SuccessExit,
    Subreaper,
    WarnOrphans,
    Pdeathsig,
    Verbose,
    Quiet,
    Log,
    Help,
    Version,
}

/// Signals an option refuses, on top of "not a signal at all".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refuse {
    /// `signals::CANNOT_END`: the signal could not end the daemon.
    CannotEnd,
    /// `signals::refused_for_reload`: stop signals, CHLD, KILL, STOP, faults.
    Reload,
    /// `signals::never_received`: ctlinit never gets it to pass on.
    NeverReceived,
}

/// Which value parser an option's value goes through (`values::parse`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// No value on the command line; a variable is a boolean
    /// (`values::switch_var`).
    Switch,
    Duration,
    /// `MIN[:MAX]` durations.
    Backoff,
    Signal(Refuse),
    /// `SIG[,SIG...]`, each refused by the set.
    Signals(Refuse),
    /// `PORT[,PORT...]`.
    Ports,
    /// `--max-restarts`: 0 to 1 000 000.
    Count,
    /// An exit code from the given minimum to 255.
    ExitCode(i32),
    Path,
    Marker,
    Rewrite,
    Policy,
    Ready,
    /// A command line split on spaces.
    Command,
    LogLevel,
}

/// One option.
#[derive(Debug)]
pub struct Opt {
    pub key: Key,
    /// `--long`, without the dashes.
    pub long: Option<&'static str>,
    pub short: Option<char>,
    /// Its variables; when several are set, the first listed wins.
    pub vars: &'static [&'static str],
    /// The variable holds a list with this separator.
    pub sep: Option<char>,
    /// Uses accumulate (a list); the first command-line use replaces the
    /// variable's list (and the default). Otherwise the last use wins.
    pub many: bool,
    pub kind: Kind,
}

const fn opt(
    key: Key,
    long: Option<&'static str>,
    short: Option<char>,
    vars: &'static [&'static str],
    kind: Kind,
) -> Opt {
    Opt {
        key,
        long,
        short,
        vars,
        sep: None,
        many: false,
        kind,
    }
}

/// A repeatable option whose variable is a `sep`-separated list.
const fn list(
    key: Key,
    long: Option<&'static str>,
    short: Option<char>,
    vars: &'static [&'static str],
    sep: char,
    kind: Kind,
) -> Opt {
    Opt {
        sep: Some(sep),
        many: true,
        ..opt(key, long, short, vars, kind)
    }
}

use Key as K;
use Kind::*;

/// The table. Variables are read in this order, so when two variables set
/// the same thing (`CTLINIT_RESTART=on-failure:3` and
/// `CTLINIT_MAX_RESTARTS`), the later row wins.
#[rustfmt::skip]
pub const TABLE: &[Opt] = &[
    opt(K::Restart,      Some("restart"),       None,      &["CTLINIT_RESTART"],       Policy),
    opt(K::MaxRestarts,  Some("max-restarts"),  None,      &["CTLINIT_MAX_RESTARTS"],  Count),
    opt(K::Backoff,      Some("backoff"),       None,      &["CTLINIT_BACKOFF"],       Backoff),
    opt(K::ResetAfter,   Some("reset-after"),   None,      &["CTLINIT_RESET_AFTER"],   Duration),
    opt(K::StopSignal,   Some("stop-signal"),   None,      &["CTLINIT_STOP_SIGNAL"],   Signal(Refuse::CannotEnd)),
    opt(K::StopTimeout,  Some("stop-timeout"),  None,      &["CTLINIT_STOP_TIMEOUT"],  Duration),
    list(K::StopOn,      Some("stop-on"),       None,      &["CTLINIT_STOP_ON"],       ',', Signals(Refuse::NeverReceived)),
    opt(K::StopDelay,    Some("stop-delay"),    None,      &["CTLINIT_STOP_DELAY"],    Duration),
    opt(K::ReloadSignal, Some("reload-signal"), None,      &["CTLINIT_RELOAD_SIGNAL"], Signal(Refuse::Reload)),
    list(K::RestartExit, Some("restart-exit"),  None,      &["CTLINIT_RESTART_EXIT"],  ',', ExitCode(1)),
    opt(K::WatchSignal,  Some("watch-signal"),  None,      &["CTLINIT_WATCH_SIGNAL"],  Signal(Refuse::Reload)),
    opt(K::Check,        Some("check"),         None,      &["CTLINIT_CHECK"],         Command),
    list(K::Watch,       Some("watch"),         None,      &["CTLINIT_WATCH"],         ':', Path),
    list(K::Port,        Some("port"),          None,      &["CTLINIT_PORT"],          ',', Ports),
    opt(K::Ready,        Some("ready"),         None,      &["CTLINIT_READY"],         Ready),
    opt(K::ReadyTimeout, Some("ready-timeout"), None,      &["CTLINIT_READY_TIMEOUT"], Duration),
    opt(K::Watchdog,     Some("watchdog"),      None,      &["CTLINIT_WATCHDOG"],      Duration),
    opt(K::PortTimeout,  Some("port-timeout"),  None,      &["CTLINIT_PORT_TIMEOUT"],  Duration),
    opt(K::Pidfile,      Some("pidfile"),       None,      &["CTLINIT_PIDFILE"],       Path),
    opt(K::Lockfile,     Some("lockfile"),      None,      &["CTLINIT_LOCKFILE"],      Path),
    list(K::Marker,      Some("marker"),        None,      &["CTLINIT_MARKER"],        ',', Marker),
    opt(K::Pgroup,       Some("pgroup"),        Some('g'), &["CTLINIT_PGROUP", "TINI_KILL_PROCESS_GROUP"], Switch),
    list(K::Rewrite,     Some("rewrite"),       Some('r'), &["CTLINIT_REWRITE"],       ',', Rewrite),
    list(K::SuccessExit, Some("success-exit"),  Some('e'), &["CTLINIT_SUCCESS_EXIT"],  ',', ExitCode(0)),
    opt(K::Subreaper,    None,                  Some('s'), &["TINI_SUBREAPER"],        Switch),
    opt(K::WarnOrphans,  None,                  Some('w'), &[],                        Switch),
    opt(K::Pdeathsig,    Some("pdeathsig"),     Some('p'), &["CTLINIT_PDEATHSIG"],     Signal(Refuse::CannotEnd)),
    opt(K::Verbose,      None,                  Some('v'), &[],                        Switch),
    opt(K::Quiet,        None,                  Some('q'), &[],                        Switch),
    opt(K::Log,          None,                  None,      &["CTLINIT_LOG"],           LogLevel),
    opt(K::Help,         Some("help"),          Some('h'), &[],                        Switch),
    opt(K::Version,      Some("version"),       Some('V'), &[],                        Switch),
];

/// The row of `key` (every key has exactly one).
pub fn of(key: Key) -> &'static Opt {
    TABLE.iter().find(|o| o.key == key).unwrap_or(&TABLE[0])
}

pub fn by_long(name: &str) -> Option<&'static Opt> {
    TABLE.iter().find(|o| o.long == Some(name))
}

pub fn by_short(c: char) -> Option<&'static Opt> {
    TABLE.iter().find(|o| o.short == Some(c))
}

impl Opt {
    /// How errors name the option when no spelling was typed: `--stop-on`,
    /// `-w`, or the variable.
    pub fn flag(&self) -> String {
        match (self.long, self.short) {
            (Some(l), _) => format!("--{l}"),
            (None, Some(c)) => format!("-{c}"),
            (None, None) => self.vars.first().copied().unwrap_or("?").to_string(),
        }
    }

    /// The flag as typed, with the long name beside a short letter
    /// (`-e/--success-exit`) so a message names both spellings.
    pub fn spelled(&self, short: bool) -> String {
        match (short, self.short, self.long) {
            (true, Some(c), Some(l)) => format!("-{c}/--{l}"),
            (true, Some(c), None) => format!("-{c}"),
            _ => self.flag(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_key_has_exactly_one_row() {
        let keys: HashSet<Key> = TABLE.iter().map(|o| o.key).collect();
        assert_eq!(keys.len(), TABLE.len());
        for o in TABLE {
            assert_eq!(of(o.key).key, o.key);
        }
    }

    #[test]
    fn names_and_variables_are_unique_and_well_formed() {
        let mut longs = HashSet::new();
        let mut shorts = HashSet::new();
        let mut vars = HashSet::new();
        for o in TABLE {
            if let Some(l) = o.long {
                assert!(longs.insert(l), "--{l} twice");
                assert!(l.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'));
            }
            if let Some(c) = o.short {
                assert!(shorts.insert(c), "-{c} twice");
            }
            for v in o.vars {
                assert!(vars.insert(*v), "{v} twice");
                assert!(v.starts_with("CTLINIT_") || v.starts_with("TINI_"), "{v}");
            }
            assert_eq!(
                o.many,
                o.sep.is_some(),
                "{:?}: lists and separators go together",
                o.key
            );
            if o.kind == Kind::Switch {
                assert!(o.sep.is_none());
            }
        }
    }

    #[test]
    fn the_contract_s_variables_are_all_there() {
        for (var, flag) in [
            ("CTLINIT_RESTART", "--restart"),
            ("CTLINIT_MAX_RESTARTS", "--max-restarts"),
            ("CTLINIT_BACKOFF", "--backoff"),
            ("CTLINIT_RESET_AFTER", "--reset-after"),
            ("CTLINIT_STOP_SIGNAL", "--stop-signal"),
            ("CTLINIT_STOP_TIMEOUT", "--stop-timeout"),
            ("CTLINIT_STOP_ON", "--stop-on"),
            ("CTLINIT_STOP_DELAY", "--stop-delay"),
            ("CTLINIT_RELOAD_SIGNAL", "--reload-signal"),
            ("CTLINIT_RESTART_EXIT", "--restart-exit"),
            ("CTLINIT_WATCH_SIGNAL", "--watch-signal"),
            ("CTLINIT_CHECK", "--check"),
            ("CTLINIT_WATCH", "--watch"),
            ("CTLINIT_PORT", "--port"),
            ("CTLINIT_READY", "--ready"),
            ("CTLINIT_READY_TIMEOUT", "--ready-timeout"),
            ("CTLINIT_WATCHDOG", "--watchdog"),
            ("CTLINIT_PORT_TIMEOUT", "--port-timeout"),
            ("CTLINIT_PIDFILE", "--pidfile"),
            ("CTLINIT_LOCKFILE", "--lockfile"),
            ("CTLINIT_MARKER", "--marker"),
            ("CTLINIT_PGROUP", "--pgroup"),
            ("TINI_KILL_PROCESS_GROUP", "--pgroup"),
            ("CTLINIT_REWRITE", "--rewrite"),
            ("CTLINIT_SUCCESS_EXIT", "--success-exit"),
            ("TINI_SUBREAPER", "-s"),
            ("CTLINIT_PDEATHSIG", "--pdeathsig"),
            ("CTLINIT_LOG", "CTLINIT_LOG"),
        ] {
            let o = TABLE.iter().find(|o| o.vars.contains(&var)).expect(var);
            assert_eq!(o.flag(), flag, "{var}");
        }
        assert_eq!(of(Key::Watch).sep, Some(':'));
        for k in [
            Key::Port,
            Key::StopOn,
            Key::Marker,
            Key::Rewrite,
            Key::SuccessExit,
            Key::RestartExit,
        ] {
            assert_eq!(of(k).sep, Some(','), "{k:?}");
        }
    }

    #[test]
    fn short_letters_of_tini_and_the_contract() {
        for (c, key) in [
            ('g', Key::Pgroup),
            ('r', Key::Rewrite),
            ('e', Key::SuccessExit),
            ('s', Key::Subreaper),
            ('w', Key::WarnOrphans),
            ('p', Key::Pdeathsig),
            ('v', Key::Verbose),
            ('q', Key::Quiet),
            ('h', Key::Help),
            ('V', Key::Version),
        ] {
            assert_eq!(by_short(c).map(|o| o.key), Some(key), "-{c}");
        }
        assert_eq!(by_short('e').unwrap().spelled(true), "-e/--success-exit");
        assert_eq!(by_short('w').unwrap().spelled(true), "-w");
        assert_eq!(by_long("stop-on").unwrap().spelled(false), "--stop-on");
    }
}
