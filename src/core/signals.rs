//! Signal numbers, their names, and the sets the contract treats specially.
//! Pure data: the numbers come from signal-hook's constants (the same on
//! x86_64 and aarch64), names from its table; only the real-time range and
//! the sets are ctlinit's own.

// The whole table the contract speaks of; some names only tests use.
#[allow(unused_imports)]
pub use signal_hook::consts::signal::{
    SIGABRT, SIGBUS, SIGCHLD, SIGCONT, SIGFPE, SIGHUP, SIGILL, SIGINT, SIGKILL, SIGPIPE, SIGQUIT,
    SIGSEGV, SIGSTOP, SIGSYS, SIGTERM, SIGTRAP, SIGTSTP, SIGTTIN, SIGTTOU, SIGURG, SIGUSR1,
    SIGUSR2, SIGWINCH,
};

/// The highest signal number (the kernel's SIGRTMAX on every Linux ctlinit
/// builds for). Valid signals are 1..=MAX.
pub const MAX: i32 = 64;

/// `RTMIN` in names, as `kill -l` and glibc count: 32 and 33 are reserved by
/// the C libraries (musl reserves 34 too), so RTMIN+n means 34+n here
/// whatever libc ctlinit was built with.
pub const RTMIN: i32 = 34;

/// `ctlinit restart` asks for a restart with this signal plus a magic value.
pub const CONTROL: i32 = MAX;

/// The fault signals: a fault of ctlinit itself (ABRT is what a failed
/// assertion raises). Sent from outside they are never forwarded — a daemon
/// should not dump core for ctlinit's sake — as tini leaves them too.
pub const FAULTS: [i32; 7] = [SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT];

/// Signals whose default action cannot end a process: refused for
/// `--stop-signal` and `--pdeathsig`.
pub const CANNOT_END: [i32; 8] = [
    SIGCHLD, SIGCONT, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU, SIGURG, SIGWINCH,
];

/// Signals that may never mean "reload" (`--reload-signal`,
/// `--watch-signal`): the stop signals, the unreceivable ones, SIGCHLD and
/// the faults.
pub fn refused_for_reload(sig: i32) -> bool {
    [SIGTERM, SIGINT, SIGQUIT, SIGCHLD, SIGKILL, SIGSTOP].contains(&sig) || FAULTS.contains(&sig)
}

/// Signals ctlinit can never receive and pass on: refused in `--stop-on`
/// and as a `--rewrite` FROM.
pub fn never_received(sig: i32) -> bool {
    [SIGKILL, SIGSTOP, SIGCHLD].contains(&sig) || FAULTS.contains(&sig)
}

/// Linux signals that signal-hook's name table leaves out (the same
/// numbers on x86_64 and aarch64).
const EXTRA_NAMES: [(i32, &str); 2] = [(16, "SIGSTKFLT"), (30, "SIGPWR")];

fn table_name(sig: i32) -> Option<&'static str> {
    signal_hook::low_level::signal_name(sig)
        .or_else(|| EXTRA_NAMES.iter().find(|(n, _)| *n == sig).map(|(_, s)| *s))
}

/// `SIGTERM` for 15, `SIGRTMIN+2` for 36, `signal 32` for the reserved ones.
pub fn name(sig: i32) -> String {
    if let Some(n) = table_name(sig) {
        return n.to_string();
    }
    match sig {
        MAX => "SIGRTMAX".to_string(),
        s if (RTMIN..MAX).contains(&s) => format!("SIGRTMIN+{}", s - RTMIN),
        s => format!("signal {s}"),
    }
}

/// `TERM`, `SIGTERM`, `sigterm`, `15` (1-64), `RTMIN+2`, `RTMAX-1`.
pub fn parse(s: &str) -> Option<i32> {
    let t = s.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        // Bounded before parsing: "99999999999999999999" is simply out of range.
        if t.len() > 2 {
            return None;
        }
        let n: i32 = t.parse().ok()?;
        return (1..=MAX).contains(&n).then_some(n);
    }
    let up = t.to_ascii_uppercase();
    let bare = up.strip_prefix("SIG").unwrap_or(&up);
    if bare.is_empty() {
        return None;
    }
    let full = format!("SIG{bare}");
    if let Some(n) = (1..32).find(|&n| table_name(n) == Some(full.as_str())) {
        return Some(n);
    }
    match bare {
        "IOT" => return Some(SIGABRT),
        "CLD" => return Some(SIGCHLD),
        "POLL" => return Some(signal_hook::consts::signal::SIGIO),
        _ => {}
    }
    let (base, rest, sign) = if let Some(r) = bare.strip_prefix("RTMIN") {
        (RTMIN, r, 1)
    } else {
        (MAX, bare.strip_prefix("RTMAX")?, -1)
    };
    let n = match rest {
        "" => base,
        r => {
            let (op, k) = r.split_at(1);
            if (op == "+" && sign < 0) || (op == "-" && sign > 0) || (op != "+" && op != "-") {
                return None;
            }
            if k.is_empty() || k.len() > 2 || !k.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            base + sign * k.parse::<i32>().ok()?
        }
    };
    (RTMIN..=MAX).contains(&n).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_in_every_spelling() {
        for s in ["TERM", "SIGTERM", "sigterm", "15", " term ", "Term"] {
            assert_eq!(parse(s), Some(SIGTERM), "{s}");
        }
        assert_eq!(parse("hup"), Some(SIGHUP));
        assert_eq!(parse("WINCH"), Some(SIGWINCH));
        assert_eq!(parse("SIGPWR"), Some(30));
        assert_eq!(parse("RTMIN"), Some(34));
        assert_eq!(parse("RTMIN+2"), Some(36));
        assert_eq!(parse("rtmax"), Some(64));
        assert_eq!(parse("RTMAX-1"), Some(63));
        assert_eq!(parse("64"), Some(64));
        assert_eq!(parse("1"), Some(1));
        assert_eq!(parse("32"), Some(32));
        for bad in [
            "",
            "0",
            "65",
            "-1",
            "+15",
            "TERMINATE",
            "RTMIN+99",
            "RTMIN-1",
            "RTMAX+1",
            "SIG",
            "RTMIN+",
            "015",
            "99999999999999999999",
            "1.5",
            "SIGSIGTERM",
            "RTMIN+2147483647",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn names_print_as_kill_l_does() {
        assert_eq!(name(15), "SIGTERM");
        assert_eq!(name(1), "SIGHUP");
        assert_eq!(name(34), "SIGRTMIN+0");
        assert_eq!(name(36), "SIGRTMIN+2");
        assert_eq!(name(64), "SIGRTMAX");
        assert_eq!(name(32), "signal 32");
        for n in 1..=MAX {
            if !(32..RTMIN).contains(&n) {
                let back = parse(&name(n).replace("SIGRTMIN+0", "RTMIN"));
                assert_eq!(back, Some(n), "{}", name(n));
            }
        }
    }

    #[test]
    fn the_sets_hold_what_the_contract_lists() {
        for s in [
            SIGTERM, SIGINT, SIGQUIT, SIGCHLD, SIGKILL, SIGSTOP, SIGSEGV, SIGABRT,
        ] {
            assert!(refused_for_reload(s), "{s}");
        }
        assert!(!refused_for_reload(SIGHUP) && !refused_for_reload(SIGUSR1));
        for s in [
            SIGKILL, SIGSTOP, SIGCHLD, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS,
        ] {
            assert!(never_received(s), "{s}");
        }
        assert!(never_received(SIGABRT), "ABRT is a fault signal");
        assert!(!never_received(SIGTERM) && !never_received(SIGHUP));
    }
}
