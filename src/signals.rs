//! Where signals arrive, and what each one means.
//!
//! ctlinit blocks every signal it handles and reads them from a signalfd, so
//! they join the one blocking `poll` of the event loop (no handlers, no flags,
//! no races with `waitpid`). A blocked signal is queued even for a namespace's
//! PID 1, whose default-disposition signals the kernel would otherwise drop.
//! The synchronous fault signals stay unblocked so a real fault still kills.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// `ctlinit restart` asks for a restart with `sigqueue(SIGRTMAX, CONTROL_MAGIC)`;
/// the same signal without the magic value is forwarded like any other.
pub fn control_signal() -> i32 {
    libc::SIGRTMAX()
}
pub const CONTROL_MAGIC: i32 = 0x6374_6c72; // "ctlr"

/// Signals that report a fault of ctlinit itself: never blocked, never forwarded.
const FAULTS: [i32; 6] = [
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGFPE,
    libc::SIGILL,
    libc::SIGTRAP,
    libc::SIGSYS,
];

/// Every signal ctlinit takes through the signalfd.
pub fn handled() -> impl Iterator<Item = i32> {
    let rt = libc::SIGRTMIN()..=libc::SIGRTMAX();
    (1..32)
        .filter(|s| *s != libc::SIGKILL && *s != libc::SIGSTOP && !FAULTS.contains(s))
        .chain(rt)
}

/// One received signal with the sender details that decide its meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received {
    pub signo: i32,
    pub pid: i32,
    pub code: i32,
    pub value: i32,
}

pub struct Intake {
    fd: OwnedFd,
    set: libc::sigset_t,
}

impl Intake {
    /// Blocks the handled signals and opens the signalfd. Called before the
    /// first spawn, so nothing that arrives later can be lost.
    pub fn open() -> io::Result<Intake> {
        let mut set = empty_set();
        for s in handled() {
            // SAFETY: `set` is a valid, initialised sigset_t.
            unsafe { libc::sigaddset(&mut set, s) };
        }
        // SAFETY: plain syscalls on a valid sigset; SIGCHLD must be at its
        // default (not SIG_IGN), or children would be reaped by the kernel.
        unsafe {
            libc::signal(libc::SIGCHLD, libc::SIG_DFL);
            if libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        // SAFETY: signalfd with a valid sigset; the returned fd is owned below.
        let fd = unsafe { libc::signalfd(-1, &set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a fresh descriptor that nothing else owns.
        Ok(Intake {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
            set,
        })
    }

    /// Blocks until a handled signal arrives or `timeout` passes, and takes
    /// it. This is the whole wait when ctlinit has no other descriptor to
    /// watch: one `sigtimedwait` per wake, the leanest path a forwarded
    /// signal can take (no poll, no second read for EAGAIN).
    pub fn wait(&self, timeout: Option<std::time::Duration>, out: &mut Vec<Received>) {
        let ts = timeout.map(|d| libc::timespec {
            tv_sec: d.as_secs() as _,
            tv_nsec: d.subsec_nanos() as _,
        });
        let tsp = ts
            .as_ref()
            .map_or(std::ptr::null(), |t| t as *const libc::timespec);
        // SAFETY: siginfo_t is plain old data; the set and timespec are valid.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let signo = unsafe { libc::sigtimedwait(&self.set, &mut info, tsp) };
        if signo > 0 {
            // SAFETY: the kernel filled `info` for this signal; for signals
            // without a sender the fields read as zero.
            let (pid, value) =
                unsafe { (info.si_pid(), info.si_value().sival_ptr as usize as i32) };
            out.push(Received {
                signo,
                pid,
                code: info.si_code,
                value,
            });
        }
    }

    /// Reads every pending signal, up to 16 per read(2).
    pub fn drain(&self, out: &mut Vec<Received>) {
        const BATCH: usize = 16;
        let size = std::mem::size_of::<libc::signalfd_siginfo>();
        loop {
            // SAFETY: signalfd_siginfo is plain old data.
            let mut infos: [libc::signalfd_siginfo; BATCH] = unsafe { std::mem::zeroed() };
            // SAFETY: reading into a buffer of exactly BATCH * size bytes.
            let n =
                unsafe { libc::read(self.fd.as_raw_fd(), infos.as_mut_ptr().cast(), BATCH * size) };
            if n <= 0 {
                return; // EAGAIN: nothing more pending
            }
            let got = n as usize / size;
            out.extend(infos[..got].iter().map(|i| Received {
                signo: i.ssi_signo as i32,
                pid: i.ssi_pid as i32,
                code: i.ssi_code,
                value: i.ssi_int,
            }));
            if got < BATCH {
                return;
            }
        }
    }
}

impl AsFd for Intake {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

pub fn empty_set() -> libc::sigset_t {
    // SAFETY: sigemptyset initialises the set it is given.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        set
    }
}

/// Sends `sig` to `pid` (a negative pid names a process group).
pub fn send(pid: i32, sig: i32) -> io::Result<()> {
    // SAFETY: kill(2) has no memory-safety preconditions.
    if unsafe { libc::kill(pid, sig) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Queues `sig` with an integer payload to `pid` (the restart control message).
pub fn queue(pid: i32, sig: i32, value: i32) -> io::Result<()> {
    let val = libc::sigval {
        sival_ptr: value as usize as *mut libc::c_void,
    };
    // SAFETY: sigqueue(3) with a plain value; no pointers are dereferenced.
    if unsafe { libc::sigqueue(pid, sig, val) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// What a received signal means to ctlinit (SPEC §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Meaning {
    /// A child changed state: reap.
    Reap,
    /// TERM, INT or QUIT: the container is stopping; forward this (if not dropped).
    Stop { forward: Option<i32> },
    /// `--reload-signal` or `ctlinit restart`: restart the daemon gracefully.
    Restart { via: &'static str },
    /// Forward this signal number to the daemon.
    Forward(i32),
    /// Dropped by `--rewrite X:0`, or raised by ctlinit's own write to a closed pipe.
    Drop,
}

pub fn classify(
    r: &Received,
    reload: Option<i32>,
    rewrite: &[(i32, i32)],
    own_pid: i32,
) -> Meaning {
    if r.signo == libc::SIGCHLD {
        return Meaning::Reap;
    }
    if r.signo == control_signal() && r.code == libc::SI_QUEUE && r.value == CONTROL_MAGIC {
        return Meaning::Restart {
            via: "ctlinit restart",
        };
    }
    if Some(r.signo) == reload {
        return Meaning::Restart {
            via: "reload signal",
        };
    }
    if r.signo == libc::SIGPIPE && r.pid == own_pid {
        return Meaning::Drop;
    }
    let to = rewrite
        .iter()
        .find(|(from, _)| *from == r.signo)
        .map_or(r.signo, |(_, to)| *to);
    let forward = (to != 0).then_some(to);
    match r.signo {
        libc::SIGTERM | libc::SIGINT | libc::SIGQUIT => Meaning::Stop { forward },
        _ => forward.map_or(Meaning::Drop, Meaning::Forward),
    }
}

const NAMES: [&str; 31] = [
    "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
    "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
    "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
];

/// `TERM`, `SIGTERM`, `sigterm`, `15`, `RTMIN+2`, `RTMAX`.
pub fn parse_signal(s: &str) -> Option<i32> {
    let t = s.trim();
    if let Ok(n) = t.parse::<i32>() {
        return (1..=libc::SIGRTMAX()).contains(&n).then_some(n);
    }
    let up = t.to_ascii_uppercase();
    let name = up.strip_prefix("SIG").unwrap_or(&up);
    if let Some(i) = NAMES.iter().position(|n| *n == name) {
        return Some(i as i32 + 1);
    }
    match name {
        "IOT" => return Some(libc::SIGABRT),
        "POLL" => return Some(libc::SIGIO),
        "CLD" => return Some(libc::SIGCHLD),
        _ => {}
    }
    let (base, rest) = if let Some(r) = name.strip_prefix("RTMIN") {
        (libc::SIGRTMIN(), r)
    } else {
        (libc::SIGRTMAX(), name.strip_prefix("RTMAX")?)
    };
    let n = match rest {
        "" => Some(base),
        r if r.starts_with('+') => r[1..].parse::<i32>().ok().and_then(|k| base.checked_add(k)),
        r if r.starts_with('-') => r[1..].parse::<i32>().ok().and_then(|k| base.checked_sub(k)),
        _ => None,
    }?;
    (libc::SIGRTMIN()..=libc::SIGRTMAX())
        .contains(&n)
        .then_some(n)
}

/// `SIGTERM` for 15, `SIGRTMIN+2` for real-time signals.
pub fn name(sig: i32) -> String {
    match sig {
        1..=31 => format!("SIG{}", NAMES[sig as usize - 1]),
        s if s >= libc::SIGRTMIN() && s <= libc::SIGRTMAX() => {
            format!("SIGRTMIN+{}", s - libc::SIGRTMIN())
        }
        s => format!("signal {s}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rx(signo: i32) -> Received {
        Received {
            signo,
            pid: 4242,
            code: libc::SI_USER,
            value: 0,
        }
    }

    #[test]
    fn names_parse_in_every_spelling() {
        for s in ["TERM", "SIGTERM", "sigterm", "15", " term "] {
            assert_eq!(parse_signal(s), Some(libc::SIGTERM), "{s}");
        }
        assert_eq!(parse_signal("hup"), Some(libc::SIGHUP));
        assert_eq!(parse_signal("WINCH"), Some(libc::SIGWINCH));
        assert_eq!(parse_signal("RTMIN+2"), Some(libc::SIGRTMIN() + 2));
        assert_eq!(parse_signal("rtmax"), Some(libc::SIGRTMAX()));
        for bad in ["", "0", "65", "-1", "TERMINATE", "RTMIN+99", "SIG"] {
            assert_eq!(parse_signal(bad), None, "{bad}");
        }
        assert_eq!(name(15), "SIGTERM");
        assert_eq!(name(1), "SIGHUP");
    }

    #[test]
    fn classification_table() {
        use Meaning::*;
        let hup = libc::SIGHUP;
        assert_eq!(classify(&rx(libc::SIGCHLD), None, &[], 1), Reap);
        assert_eq!(
            classify(&rx(libc::SIGTERM), None, &[], 1),
            Stop {
                forward: Some(libc::SIGTERM)
            }
        );
        assert_eq!(
            classify(&rx(libc::SIGINT), None, &[], 1),
            Stop {
                forward: Some(libc::SIGINT)
            }
        );
        assert_eq!(
            classify(&rx(libc::SIGQUIT), None, &[], 1),
            Stop {
                forward: Some(libc::SIGQUIT)
            }
        );
        assert_eq!(
            classify(&rx(libc::SIGUSR1), None, &[], 1),
            Forward(libc::SIGUSR1)
        );
        assert_eq!(
            classify(&rx(hup), Some(hup), &[], 1),
            Restart {
                via: "reload signal"
            }
        );
        // A rewritten TERM is still a stop request, forwarded as the new signal.
        let rw = [
            (libc::SIGTERM, libc::SIGQUIT),
            (libc::SIGUSR1, 0),
            (libc::SIGUSR2, libc::SIGHUP),
        ];
        assert_eq!(
            classify(&rx(libc::SIGTERM), None, &rw, 1),
            Stop {
                forward: Some(libc::SIGQUIT)
            }
        );
        assert_eq!(classify(&rx(libc::SIGUSR1), None, &rw, 1), Drop);
        assert_eq!(classify(&rx(libc::SIGUSR2), None, &rw, 1), Forward(hup));
        let drop_term = [(libc::SIGTERM, 0)];
        assert_eq!(
            classify(&rx(libc::SIGTERM), None, &drop_term, 1),
            Stop { forward: None }
        );
        // The control message needs both the queue code and the magic value.
        let mut c = rx(control_signal());
        assert_eq!(classify(&c, None, &[], 1), Forward(control_signal()));
        c.code = libc::SI_QUEUE;
        c.value = CONTROL_MAGIC;
        assert_eq!(
            classify(&c, None, &[], 1),
            Restart {
                via: "ctlinit restart"
            }
        );
        // Our own broken-pipe signal is not the daemon's business.
        let mut pipe = rx(libc::SIGPIPE);
        pipe.pid = 77;
        assert_eq!(classify(&pipe, None, &[], 77), Drop);
        assert_eq!(classify(&pipe, None, &[], 1), Forward(libc::SIGPIPE));
    }

    #[test]
    fn faults_are_never_handled() {
        let h: Vec<i32> = handled().collect();
        for f in FAULTS.iter().chain(&[libc::SIGKILL, libc::SIGSTOP]) {
            assert!(!h.contains(f), "{f}");
        }
        for s in [1, 2, 3, 10, 12, 13, 14, 15, 17, 18, 20, 21, 22, 28] {
            assert!(h.contains(&s), "{s}");
        }
    }
}
