//! Starts the daemon (SPEC §3). The only fork/exec in ctlinit, and most of its
//! `unsafe`.
//!
//! The child is made with `clone(CLONE_VM | CLONE_VFORK)`, the way libc's
//! posix_spawn does: no page tables to copy, no copy-on-write faults after,
//! and the parent resumes exactly when the exec succeeded or failed — the
//! exec error comes back through shared memory, not a pipe. posix_spawn
//! itself cannot be used: neither glibc nor musl lets it reset signals 32-34.
//! Because the child shares ctlinit's memory, everything it touches is
//! prepared here first; the child only makes raw syscalls, never allocates.

use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::raw::{c_char, c_int, c_void};
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::{AtomicI32, Ordering};

pub struct Spec<'a> {
    pub argv: &'a [OsString],
    /// Variables set on top of ctlinit's own environment (the markers).
    pub env: Vec<(String, String)>,
    /// Give the daemon the terminal's foreground (there is a controlling tty on stdin).
    pub foreground_tty: bool,
}

#[derive(Debug)]
pub struct SpawnError {
    pub status: i32,
    pub message: String,
}

/// The search path when the environment has no PATH: Docker's default.
const DEFAULT_PATH: &[u8] = b"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The child's stack. It runs one small frame and execve; 64 KiB leaves room
/// for a dynamic loader's lazy binding in debug builds.
const CHILD_STACK: usize = 64 * 1024;

/// `Plan::outcome` before the child reached exec: it died during setup.
const NOT_REACHED: i32 = i32::MIN;

/// True when stdin is ctlinit's controlling terminal.
pub fn has_controlling_tty() -> bool {
    // SAFETY: tcgetpgrp only queries the descriptor.
    unsafe { libc::isatty(0) == 1 && libc::tcgetpgrp(0) >= 0 }
}

/// Everything the child reads. It lives on the parent's stack, which the
/// parent does not touch while it is suspended (CLONE_VFORK).
struct Plan {
    /// Paths to try in order: the command itself, or each PATH entry + it.
    candidates: Vec<CString>,
    /// NULL-terminated pointer arrays (into strings `spawn` keeps alive).
    argv: Vec<*const c_char>,
    envp: Vec<*const c_char>,
    tty: bool,
    /// Written by the child: 0 just before it execs, the errno if it fails.
    outcome: AtomicI32,
}

pub fn spawn(spec: &Spec) -> Result<i32, SpawnError> {
    let program = &spec.argv[0];
    let fail = |status, what: &str| SpawnError {
        status,
        message: format!("cannot execute '{}': {what}", program.to_string_lossy()),
    };
    let args = spec
        .argv
        .iter()
        .map(|a| CString::new(a.as_bytes()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| fail(126, "an argument contains a NUL byte"))?;
    let overrides = spec
        .env
        .iter()
        .map(|(k, v)| CString::new(format!("{k}={v}")))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| fail(126, "an environment marker contains a NUL byte"))?;
    let plan = Plan {
        candidates: candidates(program, std::env::var_os("PATH").as_deref()),
        argv: null_terminated(args.iter().map(|a| a.as_ptr())),
        envp: environment(&overrides),
        tty: spec.foreground_tty,
        outcome: AtomicI32::new(NOT_REACHED),
    };
    let stack = ChildStack::new().map_err(|e| fail(126, &format!("no memory for exec: {e}")))?;
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
        return Err(fail(126, &format!("cannot create a process: {e}")));
    }
    match plan.outcome.load(Ordering::SeqCst) {
        0 => Ok(pid),
        failed => {
            // Ours, and already gone: collect it here, not in the reaper.
            let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None);
            Err(classify(program, failed))
        }
    }
}

/// Runs in the child, between clone and exec, in the parent's memory.
extern "C" fn child(arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the parent's Plan, alive while the parent is
    // suspended; every call below is a plain syscall wrapper.
    unsafe {
        let plan = &*(arg as *const Plan);
        if plan.tty {
            // Own group, and the terminal's foreground, so Ctrl-C reaches the
            // daemon. The inherited mask still blocks SIGTTOU here, which
            // lets a background process take the foreground.
            if libc::setpgid(0, 0) != 0 {
                return give_up(plan, last_errno());
            }
            libc::tcsetpgrp(0, libc::getpid());
        } else if libc::setsid() < 0 {
            // Without a terminal: own session and group.
            return give_up(plan, last_errno());
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

/// The child's way out when it cannot exec: the errno for the parent, 127.
fn give_up(plan: &Plan, errno: i32) -> c_int {
    plan.outcome.store(errno.max(1), Ordering::SeqCst);
    // SAFETY: _exit ends the child at once, running nothing of the parent's.
    unsafe { libc::_exit(127) }
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
/// variables, as a NULL-terminated array. Borrows the process's own
/// `environ` strings rather than copying them: nothing else in ctlinit
/// changes the environment, and the array is used before this returns to
/// the event loop.
fn environment(overrides: &[CString]) -> Vec<*const c_char> {
    extern "C" {
        static environ: *const *const c_char;
    }
    let names: Vec<&[u8]> = overrides.iter().map(|o| var_name(o.as_bytes())).collect();
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
/// faults instead of writing into ctlinit's heap.
struct ChildStack {
    base: *mut c_void,
}

impl ChildStack {
    fn new() -> io::Result<ChildStack> {
        // SAFETY: a fresh private anonymous mapping; the lowest page is made
        // inaccessible before anything uses the rest.
        unsafe {
            let base = libc::mmap(
                std::ptr::null_mut(),
                CHILD_STACK,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                -1,
                0,
            );
            if base == libc::MAP_FAILED {
                return Err(io::Error::last_os_error());
            }
            let stack = ChildStack { base };
            if libc::mprotect(base, 4096, libc::PROT_NONE) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(stack)
        }
    }

    /// The initial stack pointer: the top, 16-byte aligned (mmap is).
    fn top(&self) -> *mut c_void {
        self.base.wrapping_byte_add(CHILD_STACK)
    }
}

impl Drop for ChildStack {
    fn drop(&mut self) {
        // SAFETY: our own mapping; the child no longer runs on it (it exec'd
        // or exited before clone returned).
        unsafe { libc::munmap(self.base, CHILD_STACK) };
    }
}

/// Maps an exec failure to 127 (not found) or 126 (found, not executable).
fn classify(program: &OsStr, errno: i32) -> SpawnError {
    let name = program.to_string_lossy();
    if errno == NOT_REACHED {
        return SpawnError {
            status: 126,
            message: format!("cannot execute '{name}': the new process died before exec"),
        };
    }
    let e = io::Error::from_raw_os_error(errno);
    let (status, what) = match errno {
        libc::ENOENT | libc::ENOTDIR => (127, "not found (check the name and PATH)"),
        libc::EACCES | libc::EPERM => (126, "permission denied (is it executable?)"),
        libc::ENOEXEC => (126, "not an executable format (missing #! line?)"),
        _ => (126, "cannot be executed"),
    };
    SpawnError {
        status,
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
    fn errno_maps_to_127_or_126() {
        let st = |e| classify(OsStr::new("x"), e).status;
        assert_eq!((st(libc::ENOENT), st(libc::ENOTDIR)), (127, 127));
        assert_eq!((st(libc::EACCES), st(libc::ENOEXEC)), (126, 126));
        assert_eq!(st(NOT_REACHED), 126);
        assert!(classify(OsStr::new("x"), libc::ENOEXEC)
            .message
            .contains("#! line"));
    }

    #[test]
    fn overrides_replace_inherited_variables() {
        // PATH is always set under cargo test.
        let o = [CString::new("PATH=/only").unwrap()];
        let env = environment(&o);
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
