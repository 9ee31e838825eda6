//! Startup that fails loud, then the event loop that waits, feeds the core
//! and performs what it decides.

pub mod event_loop;
pub mod logbuf;
pub mod perform;
pub mod setup;

use crate::core::config::Config;
use crate::error::Error;

/// Supervises until the core says how ctlinit ends; Err only for setup.
pub fn supervise(
    cfg: Config,
) -> Result<(crate::core::events::Ending, crate::core::machine::Counters), Error> {
    let (machine, os) = setup::prepare(cfg)?;
    let mut machine = machine;
    let end = event_loop::run(&mut machine, os);
    Ok((end, machine.counters()))
}
