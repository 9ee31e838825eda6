//! Every decision ctlinit makes, and nothing else: no syscalls, no files,
//! no clock reads (`tests/layers.rs` fails the build if this layer names
//! `nix`, `libc`, `std::fs`, `std::process` or `Instant::now`). Events go
//! in, actions come out; the configuration types the CLI produces live
//! here too.
#![forbid(unsafe_code)]

pub mod config;
pub mod ended;
pub mod events;
pub mod format;
pub mod machine;
pub mod policy;
pub mod record;
pub mod signals;
pub mod time;

pub use machine::Supervisor;
