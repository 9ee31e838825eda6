//! The supervisor's clock: monotonic time since ctlinit started, handed in
//! by the event loop. The core never reads a clock itself, so every
//! decision can be tested on a fake one.
//!
//! Arithmetic saturates: a deadline computed from the largest accepted
//! duration (365 days) is far from the limit, but no input — and no
//! uptime — can make `after` overflow and panic.

use std::time::Duration;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(Duration);

impl Time {
    pub const ZERO: Time = Time(Duration::ZERO);

    /// The time `elapsed` after ctlinit started.
    pub const fn at(elapsed: Duration) -> Time {
        Time(elapsed)
    }

    #[cfg(test)]
    pub const fn from_millis(ms: u64) -> Time {
        Time(Duration::from_millis(ms))
    }

    /// `d` later. Saturates instead of overflowing.
    pub fn after(self, d: Duration) -> Time {
        Time(self.0.saturating_add(d))
    }

    /// How long since `earlier` (zero if it is not earlier).
    pub fn since(self, earlier: Time) -> Duration {
        self.0.saturating_sub(earlier.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_instead_of_panicking() {
        let far = Time::at(Duration::MAX);
        assert_eq!(far.after(Duration::from_secs(1)), far);
        assert_eq!(Time::ZERO.since(far), Duration::ZERO);
        assert_eq!(
            Time::from_millis(1500).since(Time::from_millis(500)),
            Duration::from_secs(1)
        );
    }
}
