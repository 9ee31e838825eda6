//! Every syscall ctlinit makes, and all of its `unsafe`. Each module here
//! performs what the core decided or reports a fact back as plain data; none
//! of them decides anything. The `unsafe` that remains has no safe `nix`
//! equivalent: real-time signals 32-64 (no `nix::Signal` for them, and libc
//! refuses to block 32-34), the `clone(CLONE_VM|CLONE_VFORK)` child, pidfds
//! with a queued value, and raw reads of kernel structs.
#![deny(unsafe_op_in_unsafe_fn)]

pub mod cgroup;
pub mod inotify;
pub mod notify;
pub mod pidfd;
pub mod ports;
pub mod process;
pub mod procfs;
pub mod reaper;
pub mod signals;
pub mod spawn;
pub mod tree;
