//! How a process ended, and the exit status that stands for it (the code,
//! or 128 + the signal number, as shells and Docker report it). This is the
//! one word for "how it ended"; how a *run* counts for the restart policy
//! is a [`Verdict`](crate::core::policy::Verdict).

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    Code(i32),
    Signal(i32),
}

impl Ended {
    /// The shell convention: the exit code, or 128 + the signal number.
    pub fn status(self) -> i32 {
        match self {
            Ended::Code(c) => c,
            Ended::Signal(s) => 128 + s,
        }
    }

    pub fn code(self) -> Option<i32> {
        match self {
            Ended::Code(c) => Some(c),
            Ended::Signal(_) => None,
        }
    }

    pub fn signal(self) -> Option<i32> {
        match self {
            Ended::Signal(s) => Some(s),
            Ended::Code(_) => None,
        }
    }
}

impl std::fmt::Display for Ended {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ended::Code(c) => write!(f, "status {c}"),
            Ended::Signal(s) => write!(f, "status {} (killed by signal {s})", 128 + s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_passes_through_and_signal_adds_128() {
        assert_eq!(Ended::Code(0).status(), 0);
        assert_eq!(Ended::Code(3).status(), 3);
        assert_eq!(Ended::Signal(9).status(), 137);
        assert_eq!(Ended::Signal(15).status(), 143);
        assert_eq!(Ended::Signal(9).code(), None);
        assert_eq!(Ended::Signal(9).signal(), Some(9));
        assert_eq!(
            Ended::Signal(9).to_string(),
            "status 137 (killed by signal 9)"
        );
    }
}
