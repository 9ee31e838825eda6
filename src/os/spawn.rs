//! Starts the daemon and the `--check` command (SPEC §3): the only
//! fork/exec in ctlinit, and most of its `unsafe`.
//!
//! The child is made with `clone(CLONE_VM | CLONE_VFORK)`, the way libc's
//! posix_spawn does: no page tables to copy, no copy-on-write faults after,
//! and the parent resumes exactly when the exec succeeded or failed — the
//! exec error comes back through shared memory. posix_spawn itself cannot
//! be used: neither glibc nor musl lets it reset signals 32-34. Because the
//! child shares ctlinit's memory, everything it touches is prepared here
//! first; the child only makes raw syscalls, never allocates.
//!
//! A close-on-exec pipe backs the shared memory up: qemu's user-mode
//! emulation (arm64 images built on amd64) runs CLONE_VFORK as a plain fork,
//! so the child's write to shared memory is lost. When the shared word still
//! says "not reached", the pipe decides: EOF means the exec happened, four
//! bytes are the errno. Under a real vfork the pipe is never read.

use crate::core::events::{Env, SpawnError};
use nix::fcntl::OFlag;
use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::raw::{c_char, c_int, c_void};
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::{AtomicI32, Ordering};

pub struct Spec<'a> {
    pub argv: &'a [OsString],
    /// Changes to ctlinit's own environment (the markers).
    pub env: &'a Env,
    /// Give the child the terminal's foreground (the daemon, with a
    /// controlling tty on stdin).
    pub foreground_tty: bool,
    /// Set `WATCHDOG_PID` to the child's own pid (`--watchdog`).
    pub watchdog_pid: bool,
}

#[derive(Debug)]
pub struct SpawnFailure {
    pub error: SpawnError,
    pub message: String,
}

/// The search path when the environment has no PATH: Docker's default.
const DEFAULT_PATH: &[u8] = b"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The child's stack. It runs one small frame and execve; 64 KiB leaves room
/// for a dynamic loader's lazy binding in debug builds.
const CHILD_STACK: usize = 64 * 1024;

/// `Plan::outcome` as the parent leaves it: if the parent still reads it
/// after clone, the child's writes were lost (qemu ran a fork) and the pipe
/// decides.
const NOT_REACHED: i32 = i32::MIN;
/// The child's first write: it ran in shared memory, then died before it
/// reached exec (killed during its setup).
const STARTED: i32 = i32::MIN + 1;

/// True when stdin is ctlinit's controlling terminal.
pub fn has_controlling_tty() -> bool {
    nix::unistd::isatty(std::io::stdin()).unwrap_or(false)
        && nix::unistd::tcgetpgrp(std::io::stdin()).is_ok()
}

/// Whether process group `pgid` holds the terminal's foreground now.
pub fn holds_terminal(pgid: i32) -> bool {
    nix::unistd::tcgetpgrp(std::io::stdin()).is_ok_and(|g| g.as_raw() == pgid)
}

/// `WATCHDOG_PID=` and room for any pid's digits and the NUL.
const WATCHDOG_PID: &[u8] = b"WATCHDOG_PID=";
const WATCHDOG_PID_LEN: usize = 13 + 11 + 1;

/// Everything the child reads. It lives on the parent's stack, which the
/// parent does not touch while it is suspended (CLONE_VFORK).
struct Plan {
    /// Paths to try in order: the command itself, or each PATH entry + it.
    candidates: Vec<CString>,
    /// NULL-terminated pointer arrays (into strings `spawn` keeps alive).
    argv: Vec<*const c_char>,
    envp: Vec<*const c_char>,
    tty: bool,
    /// The `WATCHDOG_PID=` entry of `envp` that the child completes with its
    /// own pid, or null.
    watchdog_pid: *mut u8,
    /// The pipe's write end: the child reports its errno there too.
    report: c_int,
    /// Written by the child: STARTED first, 0 just before it execs, the
    /// errno if it fails.
    outcome: AtomicI32,
}

pub fn spawn(spec: &Spec) -> Result<i32, SpawnFailure> {
    let program = &spec.argv[0];
    let fail = |error, what: &str| SpawnFailure {
        error,
        message: format!("cannot execute '{}': {what}", program.to_string_lossy()),
    };
    let args = spec
        .argv
        .iter()
        .map(|a| CString::new(a.as_bytes()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| fail(SpawnError::NotExecutable, "an argument contains a NUL byte"))?;
    let overrides = spec
        .env
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| CString::new(format!("{k}={v}"))))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| {
            fail(
                SpawnError::NotExecutable,
                "an environment marker contains a NUL byte",
            )
        })?;
    let removed: Vec<&[u8]> = spec
        .env
        .iter()
        .filter(|(_, v)| v.is_none())
        .map(|(k, _)| k.as_bytes())
        .collect();
    let mut watchdog = [0u8; WATCHDOG_PID_LEN];
    watchdog[..WATCHDOG_PID.len()].copy_from_slice(WATCHDOG_PID);
    let mut envp = environment(&overrides, &removed, spec.watchdog_pid);
    if spec.watchdog_pid {
        envp.insert(envp.len() - 1, watchdog.as_ptr().cast());
    }
    let (read_end, write_end) = nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|e| {
        fail(
            temporary_or_not(e as i32),
            &format!("cannot create a pipe: {e}"),
        )
    })?;
    let plan = Plan {
        candidates: candidates(program, std::env::var_os("PATH").as_deref()),
        argv: null_terminated(args.iter().map(|a| a.as_ptr())),
        envp,
        tty: spec.foreground_tty,
        watchdog_pid: if spec.watchdog_pid {
            watchdog.as_mut_ptr()
        } else {
            std::ptr::null_mut()
        },
        report: write_end.as_raw_fd(),
        outcome: AtomicI32::new(NOT_REACHED),
    };
    let stack = ChildStack::new()
        .map_err(|e| fail(SpawnError::Temporary, &format!("no memory for exec: {e}")))?;
    // SAFETY: `child` only reads `plan` (alive until clone returns, which
    // with CLONE_VFORK is after the child exec'd or exited) and makes
    // async-signal-safe syscalls on its own stack. SIGCHLD: the reaper sees
    // the daemon like any forked child.
    let pid = unsafe {
        libc::clone(
            child,
            stack.top(),
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            &plan as *const Plan as *mut c_void,
        )
    };
    if pid < 0 {
        let e = io::Error::last_os_error();
        let kind = temporary_or_not(e.raw_os_error().unwrap_or(0));
        return Err(fail(kind, &format!("cannot create a process: {e}")));
    }
    drop(write_end);
    let outcome = match plan.outcome.load(Ordering::SeqCst) {
        NOT_REACHED => reported_errno(&read_end),
        shared => shared,
    };
    if outcome == STARTED {
        let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None);
        return Err(fail(
            SpawnError::Temporary,
            "the new process died before exec",
        ));
    }
    match outcome {
        0 => Ok(pid),
        failed => {
            // Ours, and already gone: collect it here, not in the reaper.
            let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None);
            Err(classify(program, failed))
        }
    }
}

/// The pipe's verdict: EOF (0) when the child exec'd, its errno when it
/// could not (it wrote four bytes before exiting).
fn reported_errno(read_end: &OwnedFd) -> i32 {
    let mut buf = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match nix::unistd::read(read_end, &mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => break,
        }
    }
    if got == 4 {
        i32::from_ne_bytes(buf)
    } else {
        0
    }
}

/// Runs in the child, between clone and exec, in the parent's memory.
extern "C" fn child(arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the parent's Plan, alive while the parent is
    // suspended; every call below is a plain syscall wrapper.
    unsafe {
        let plan = &*(arg as *const Plan);
        plan.outcome.store(STARTED, Ordering::SeqCst);
        // Its own process group inside ctlinit's session, as tini does (no
        // new session: that would also be a new scheduler autogroup).
        if libc::setpgid(0, 0) != 0 {
            return give_up(plan, last_errno());
        }
        if plan.tty {
            // The terminal's foreground, so Ctrl-C reaches the daemon. The
            // inherited mask still blocks SIGTTOU here, which lets a
            // background process take the foreground.
            libc::tcsetpgrp(0, libc::getpid());
        }
        if !plan.watchdog_pid.is_null() {
            write_pid(plan.watchdog_pid, libc::syscall(libc::SYS_getpid) as u32);
        }
        // Default dispositions for everything (ignored signals survive exec
        // otherwise), then the empty mask. Raw syscalls, because glibc and
        // musl refuse to touch the signals they reserve (32-34), which a
        // parent may still have left ignored. An all-zero kernel sigaction
        // is SIG_DFL, no flags, empty mask.
        let dfl = [0u64; 4];
        for sig in 1..=64 {
            if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                libc::syscall(
                    libc::SYS_rt_sigaction,
                    sig,
                    dfl.as_ptr(),
                    std::ptr::null_mut::<u64>(),
                    8,
                );
            }
        }
        let empty: u64 = 0;
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_SETMASK,
            &empty as *const u64,
            std::ptr::null_mut::<u64>(),
            8,
        );
        // execvp's search: a missing or denied entry moves on to the next
        // one; EACCES is reported only if nothing else is found.
        plan.outcome.store(0, Ordering::SeqCst);
        let mut denied = false;
        let mut err = libc::ENOENT;
        for path in &plan.candidates {
            libc::execve(path.as_ptr(), plan.argv.as_ptr(), plan.envp.as_ptr());
            err = last_errno();
            match err {
                libc::EACCES => denied = true,
                libc::ENOENT | libc::ENOTDIR | libc::ESTALE | libc::ENODEV | libc::ETIMEDOUT => {}
                _ => break,
            }
        }
        if denied && matches!(err, libc::ENOENT | libc::ENOTDIR) {
            err = libc::EACCES;
        }
        give_up(plan, err)
    }
}

/// The child's way out when it cannot exec: the errno for the parent (in
/// shared memory and in the pipe), then exit 127.
fn give_up(plan: &Plan, errno: i32) -> c_int {
    let errno = errno.max(1);
    plan.outcome.store(errno, Ordering::SeqCst);
    let bytes = errno.to_ne_bytes();
    // SAFETY: a 4-byte write from a valid buffer to our pipe, then _exit,
    // which runs nothing of the parent's.
    unsafe {
        libc::write(plan.report, bytes.as_ptr().cast(), 4);
        libc::_exit(127)
    }
}

/// Writes `pid`'s digits and a NUL after `WATCHDOG_PID=`, without allocating.
///
/// # Safety
/// `entry` points to a buffer of WATCHDOG_PID_LEN bytes.
unsafe fn write_pid(entry: *mut u8, pid: u32) {
    let mut digits = [0u8; 10];
    let mut n = pid;
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for i in 0..len {
        // SAFETY: 13 + 10 + 1 bytes fit in WATCHDOG_PID_LEN.
        unsafe { *entry.add(WATCHDOG_PID.len() + i) = digits[len - 1 - i] };
    }
    // SAFETY: as above.
    unsafe { *entry.add(WATCHDOG_PID.len() + len) = 0 };
}

/// A shortage that may pass (a pids limit, memory, descriptors, a binary
/// being replaced) or a permanent refusal.
fn temporary_or_not(errno: i32) -> SpawnError {
    match errno {
        libc::EAGAIN | libc::ENOMEM | libc::EMFILE | libc::ENFILE | libc::ETXTBSY | libc::EINTR => {
            SpawnError::Temporary
        }
        _ => SpawnError::NotExecutable,
    }
}

fn last_errno() -> i32 {
    io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// The paths execvp would try for `program`, in order.
fn candidates(program: &OsStr, path_var: Option<&OsStr>) -> Vec<CString> {
    let name = program.as_bytes();
    if name.contains(&0) {
        return Vec::new(); // nothing can match: ENOENT
    }
    if name.is_empty() || name.contains(&b'/') {
        return CString::new(name).into_iter().collect();
    }
    let search = path_var.map_or(DEFAULT_PATH, OsStr::as_bytes);
    search
        .split(|&b| b == b':')
        .filter_map(|dir| {
            // An empty entry is the current directory.
            let mut full = Vec::with_capacity(dir.len() + 1 + name.len());
            if !dir.is_empty() {
                full.extend_from_slice(dir);
                full.push(b'/');
            }
            full.extend_from_slice(name);
            CString::new(full).ok()
        })
        .collect()
}

/// ctlinit's environment with `overrides` (NAME=VALUE) replacing or adding
/// variables and `removed` names left out (and `WATCHDOG_PID` when the
/// child sets its own), as a NULL-terminated array. Borrows the process's
/// own `environ` strings rather than copying them: nothing else in ctlinit
/// changes the environment, and the array is used before this returns to
/// the event loop.
fn environment(overrides: &[CString], removed: &[&[u8]], watchdog_pid: bool) -> Vec<*const c_char> {
    extern "C" {
        static environ: *const *const c_char;
    }
    let mut names: Vec<&[u8]> = overrides.iter().map(|o| var_name(o.as_bytes())).collect();
    names.extend_from_slice(removed);
    if watchdog_pid {
        names.push(&WATCHDOG_PID[..WATCHDOG_PID.len() - 1]);
    }
    let mut out = Vec::with_capacity(64 + overrides.len());
    // SAFETY: single-threaded; environ is a NULL-terminated array of C
    // strings that nothing modifies while we read it.
    unsafe {
        let mut p = environ;
        while !p.is_null() && !(*p).is_null() {
            let entry = std::ffi::CStr::from_ptr(*p).to_bytes();
            if !names.contains(&var_name(entry)) {
                out.push(*p);
            }
            p = p.add(1);
        }
    }
    out.extend(overrides.iter().map(|o| o.as_ptr()));
    out.push(std::ptr::null());
    out
}

fn var_name(entry: &[u8]) -> &[u8] {
    entry.split(|&b| b == b'=').next().unwrap_or(entry)
}

fn null_terminated<'a>(ptrs: impl Iterator<Item = *const c_char> + 'a) -> Vec<*const c_char> {
    ptrs.chain(std::iter::once(std::ptr::null())).collect()
}

/// An mmap'd stack with a guard page below it, so an overflow in the child
/// faults instead of writing into ctlinit's heap. The guard is one real page
/// (4 KiB on x86_64, up to 64 KiB on arm64 servers): a 4096-byte guard on a
/// 64 KiB-page kernel would round up to the whole stack.
struct ChildStack {
    base: *mut c_void,
    guard: usize,
}

impl ChildStack {
    fn new() -> io::Result<ChildStack> {
        let guard = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
            .ok()
            .flatten()
            .and_then(|p| usize::try_from(p).ok())
            .unwrap_or(4096);
        // SAFETY: a fresh private anonymous mapping; its lowest page is made
        // inaccessible before anything uses the rest.
        unsafe {
            let base = libc::mmap(
                std::ptr::null_mut(),
                guard + CHILD_STACK,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                -1,
                0,
            );
            if base == libc::MAP_FAILED {
                return Err(io::Error::last_os_error());
            }
            let stack = ChildStack { base, guard };
            if libc::mprotect(base, guard, libc::PROT_NONE) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(stack)
        }
    }

    /// The initial stack pointer: the top, 16-byte aligned (mmap is).
    fn top(&self) -> *mut c_void {
        self.base.wrapping_byte_add(self.guard + CHILD_STACK)
    }
}

impl Drop for ChildStack {
    fn drop(&mut self) {
        // SAFETY: our own mapping; the child no longer runs on it (it exec'd
        // or exited before clone returned, or — under qemu's fork — runs on
        // its own copy).
        unsafe { libc::munmap(self.base, self.guard + CHILD_STACK) };
    }
}

/// Sorts an exec failure: not found (127), not executable (126), or a
/// temporary shortage to retry after the backoff.
fn classify(program: &OsStr, errno: i32) -> SpawnFailure {
    let name = program.to_string_lossy();
    let e = io::Error::from_raw_os_error(errno);
    let (error, what) = match errno {
        libc::ENOENT | libc::ENOTDIR => {
            (SpawnError::NotFound, "not found (check the name and PATH)")
        }
        libc::EACCES | libc::EPERM => (
            SpawnError::NotExecutable,
            "permission denied (is it executable?)",
        ),
        libc::ENOEXEC => (
            SpawnError::NotExecutable,
            "not an executable format (missing #! line?)",
        ),
        e => match temporary_or_not(e) {
            SpawnError::Temporary => (
                SpawnError::Temporary,
                "temporarily impossible, retrying after the backoff",
            ),
            other => (other, "cannot be executed"),
        },
    };
    SpawnFailure {
        error,
        message: format!("cannot execute '{name}': {what}: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(v: &[CString]) -> Vec<&str> {
        v.iter().map(|c| c.to_str().unwrap()).collect()
    }

    #[test]
    fn a_name_is_searched_on_path_in_order() {
        let c = candidates(OsStr::new("app"), Some(OsStr::new("/a:/b/c::/d")));
        assert_eq!(strs(&c), ["/a/app", "/b/c/app", "app", "/d/app"]);
    }

    #[test]
    fn a_path_with_a_slash_is_used_as_is() {
        let c = candidates(OsStr::new("./bin/app"), Some(OsStr::new("/a")));
        assert_eq!(strs(&c), ["./bin/app"]);
    }

    #[test]
    fn no_path_variable_means_dockers_default() {
        let c = candidates(OsStr::new("sh"), None);
        assert_eq!(c.len(), 6);
        assert_eq!(strs(&c)[5], "/bin/sh");
    }

    #[test]
    fn errno_sorts_into_not_found_not_executable_or_temporary() {
        use SpawnError::*;
        let kind = |e| classify(OsStr::new("x"), e).error;
        assert_eq!(
            (kind(libc::ENOENT), kind(libc::ENOTDIR)),
            (NotFound, NotFound)
        );
        assert_eq!(
            (kind(libc::EACCES), kind(libc::ENOEXEC)),
            (NotExecutable, NotExecutable)
        );
        assert_eq!(
            (kind(libc::EAGAIN), kind(libc::ENOMEM)),
            (Temporary, Temporary)
        );
        assert_eq!(kind(libc::E2BIG), NotExecutable);
        assert!(classify(OsStr::new("x"), libc::ENOEXEC)
            .message
            .contains("#! line"));
    }

    #[test]
    fn the_child_writes_its_pid_without_allocating() {
        let mut buf = [0u8; WATCHDOG_PID_LEN];
        buf[..WATCHDOG_PID.len()].copy_from_slice(WATCHDOG_PID);
        for (pid, want) in [
            (7u32, "WATCHDOG_PID=7"),
            (4194304, "WATCHDOG_PID=4194304"),
            (u32::MAX, "WATCHDOG_PID=4294967295"),
        ] {
            // SAFETY: buf has WATCHDOG_PID_LEN bytes.
            unsafe { write_pid(buf.as_mut_ptr(), pid) };
            let s = std::ffi::CStr::from_bytes_until_nul(&buf).unwrap();
            assert_eq!(s.to_str().unwrap(), want);
        }
    }

    #[test]
    fn an_exec_failure_comes_back_through_the_pipe_too() {
        let argv = [OsString::from("/nonexistent/ctlinit-test")];
        let env = vec![];
        let e = spawn(&Spec {
            argv: &argv,
            env: &env,
            foreground_tty: false,
            watchdog_pid: false,
        })
        .unwrap_err();
        assert_eq!(e.error, SpawnError::NotFound);
        // The pipe alone (as under qemu's fork emulation) says the same.
        let (r, w) = nix::unistd::pipe2(OFlag::O_CLOEXEC).unwrap();
        nix::unistd::write(&w, &libc::ENOENT.to_ne_bytes()).unwrap();
        drop(w);
        assert_eq!(reported_errno(&r), libc::ENOENT);
        let (r, w) = nix::unistd::pipe2(OFlag::O_CLOEXEC).unwrap();
        drop(w);
        assert_eq!(reported_errno(&r), 0, "EOF: the exec happened");
    }

    #[test]
    fn overrides_replace_inherited_variables() {
        // PATH is always set under cargo test.
        let o = [CString::new("PATH=/only").unwrap()];
        let env = environment(&o, &[b"HOME".as_slice()], false);
        let names: Vec<&[u8]> = env[..env.len() - 1]
            .iter()
            // SAFETY: every entry is a C string from environ or `o`.
            .map(|&p| var_name(unsafe { std::ffi::CStr::from_ptr(p) }.to_bytes()))
            .collect();
        assert!(
            !names.contains(&b"HOME".as_slice()),
            "removed variables are left out"
        );
        assert!(env.last().unwrap().is_null());
        let paths: Vec<_> = env[..env.len() - 1]
            .iter()
            // SAFETY: every entry is a C string from environ or `o`.
            .map(|&p| unsafe { std::ffi::CStr::from_ptr(p) }.to_bytes())
            .filter(|e| var_name(e) == b"PATH")
            .collect();
        assert_eq!(paths, [b"PATH=/only".as_slice()]);
    }
}
