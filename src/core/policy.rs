//! The restart decision and the backoff: plain functions of how a run
//! counts, the failure history and how long it ran.

use crate::core::config::{Policy, RestartMode};
use std::time::Duration;

/// How one run of the daemon counts for the policy (SPEC §8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Exit status in `--success-exit`.
    Clean,
    /// Any other status, death by signal, a readiness or watchdog timeout,
    /// or a spawn that failed for a temporary reason.
    Failed,
    /// ctlinit itself stopped the daemon to restart it (a requested restart).
    Stopped,
    /// The daemon exited with a `--restart-exit` code: it asked for a restart.
    Requested,
}

/// What the policy remembers between runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct History {
    pub consecutive_failures: u32,
    /// The delay the next backed-off restart waits.
    pub next_backoff: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Restart {
        delay: Duration,
    },
    /// Policy says the daemon stays down (policy `no`, or a clean exit under `on-failure`).
    Exit,
    /// Too many consecutive failures.
    GiveUp,
}

impl History {
    pub fn new(p: &Policy) -> History {
        History {
            consecutive_failures: 0,
            next_backoff: p.backoff_min,
        }
    }
}

/// Decides what follows a run judged `verdict` after `ran_for`.
/// `stopping` is true once the container is stopping: nothing restarts then.
pub fn decide(
    p: &Policy,
    h: History,
    verdict: Verdict,
    ran_for: Duration,
    stopping: bool,
) -> (Decision, History) {
    let mut h = h;
    // A long enough run proves the daemon healthy: forget past failures.
    if ran_for >= p.reset_after {
        h = History::new(p);
    }
    if stopping {
        return (Decision::Exit, h);
    }
    match verdict {
        // Requested restarts never wait for a backoff (SPEC §14.2). The run
        // was ready and then stopped on request: not a failure, so the streak
        // of consecutive failures ends.
        Verdict::Stopped => {
            h.consecutive_failures = 0;
            (
                Decision::Restart {
                    delay: Duration::ZERO,
                },
                h,
            )
        }
        // The daemon asked: restart under every policy, without backoff and
        // without touching the streak, but never sooner than MIN after its
        // start, so a daemon that asks in a loop is no hot loop (§14.26).
        Verdict::Requested => (
            Decision::Restart {
                delay: p.backoff_min.saturating_sub(ran_for),
            },
            h,
        ),
        Verdict::Clean => match p.mode {
            RestartMode::Always => {
                // A clean run ends a failure streak; a quick one still backs off.
                h.consecutive_failures = 0;
                let delay = h.next_backoff;
                h.next_backoff = doubled(delay, p.backoff_max);
                (Decision::Restart { delay }, h)
            }
            RestartMode::No | RestartMode::OnFailure => (Decision::Exit, h),
        },
        Verdict::Failed => {
            if p.mode == RestartMode::No {
                return (Decision::Exit, h);
            }
            h.consecutive_failures = h.consecutive_failures.saturating_add(1);
            if p.max_restarts != 0 && h.consecutive_failures > p.max_restarts {
                return (Decision::GiveUp, h);
            }
            let delay = h.next_backoff;
            h.next_backoff = doubled(delay, p.backoff_max);
            (Decision::Restart { delay }, h)
        }
    }
}

fn doubled(d: Duration, max: Duration) -> Duration {
    d.saturating_mul(2).min(max).max(d.min(max))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Decision::*;
    use RestartMode::*;
    use Verdict::*;

    const MS: Duration = Duration::from_millis(1);

    fn policy(mode: RestartMode, max: u32) -> Policy {
        Policy {
            mode,
            max_restarts: max,
            backoff_min: 100 * MS,
            backoff_max: 1000 * MS,
            reset_after: 30_000 * MS,
        }
    }

    fn quick() -> Duration {
        10 * MS
    }

    #[test]
    fn table_of_mode_by_outcome() {
        // (mode, outcome, stopping) -> restart?
        let rows = [
            (No, Clean, false, false),
            (No, Failed, false, false),
            (No, Stopped, false, true),
            (OnFailure, Clean, false, false),
            (OnFailure, Failed, false, true),
            (OnFailure, Stopped, false, true),
            (Always, Clean, false, true),
            (Always, Failed, false, true),
            (Always, Stopped, false, true),
            (Always, Failed, true, false),
            (Always, Clean, true, false),
            (OnFailure, Failed, true, false),
            (Always, Stopped, true, false),
        ];
        for (mode, outcome, stopping, restarts) in rows {
            let p = policy(mode, 5);
            let (d, _) = decide(&p, History::new(&p), outcome, quick(), stopping);
            assert_eq!(
                matches!(d, Restart { .. }),
                restarts,
                "{mode:?} {outcome:?} stopping={stopping} gave {d:?}"
            );
        }
    }

    #[test]
    fn backoff_doubles_from_min_to_max() {
        let p = policy(Always, 0);
        let mut h = History::new(&p);
        let mut delays = vec![];
        for _ in 0..6 {
            let (d, nh) = decide(&p, h, Failed, quick(), false);
            h = nh;
            match d {
                Restart { delay } => delays.push(delay.as_millis()),
                other => panic!("expected restart, got {other:?}"),
            }
        }
        assert_eq!(delays, vec![100, 200, 400, 800, 1000, 1000]);
    }

    #[test]
    fn clean_exits_under_always_back_off_but_are_not_failures() {
        let p = policy(Always, 1);
        let mut h = History::new(&p);
        for expected in [100, 200, 400] {
            let (d, nh) = decide(&p, h, Clean, quick(), false);
            assert_eq!(
                d,
                Restart {
                    delay: expected * MS
                }
            );
            h = nh;
        }
        assert_eq!(h.consecutive_failures, 0);
    }

    #[test]
    fn max_restarts_n_means_n_plus_one_runs() {
        let p = policy(OnFailure, 5);
        let mut h = History::new(&p);
        let mut runs = 1;
        loop {
            let (d, nh) = decide(&p, h, Failed, quick(), false);
            h = nh;
            match d {
                Restart { .. } => runs += 1,
                GiveUp => break,
                Exit => panic!("unexpected exit"),
            }
        }
        assert_eq!(runs, 6);
    }

    #[test]
    fn zero_max_restarts_never_gives_up() {
        let p = policy(OnFailure, 0);
        let mut h = History::new(&p);
        for _ in 0..1000 {
            let (d, nh) = decide(&p, h, Failed, quick(), false);
            assert!(matches!(d, Restart { .. }));
            h = nh;
        }
    }

    #[test]
    fn a_long_run_resets_failures_and_backoff() {
        let p = policy(OnFailure, 2);
        let mut h = History::new(&p);
        for _ in 0..2 {
            h = decide(&p, h, Failed, quick(), false).1;
        }
        assert_eq!(h.consecutive_failures, 2);
        let (d, h2) = decide(&p, h, Failed, p.reset_after, false);
        assert_eq!(d, Restart { delay: 100 * MS });
        assert_eq!(h2.consecutive_failures, 1);
    }

    #[test]
    fn requested_restart_skips_backoff_and_ends_the_failure_streak() {
        let p = policy(OnFailure, 5);
        let h = History {
            consecutive_failures: 3,
            next_backoff: 800 * MS,
        };
        let (d, h2) = decide(&p, h, Stopped, quick(), false);
        assert_eq!(
            d,
            Restart {
                delay: Duration::ZERO
            }
        );
        assert_eq!(
            h2,
            History {
                consecutive_failures: 0,
                next_backoff: 800 * MS
            }
        );
    }

    #[test]
    fn a_clean_exit_under_always_ends_the_failure_streak() {
        let p = policy(Always, 1);
        let h = decide(&p, History::new(&p), Failed, quick(), false).1;
        let h = decide(&p, h, Clean, quick(), false).1;
        assert_eq!(h.consecutive_failures, 0);
        assert!(matches!(
            decide(&p, h, Failed, quick(), false).0,
            Restart { .. }
        ));
    }

    #[test]
    fn a_requested_restart_waits_only_for_the_rest_of_min_and_keeps_the_streak() {
        let p = policy(OnFailure, 5);
        let h = History {
            consecutive_failures: 2,
            next_backoff: 400 * MS,
        };
        for mode in [No, OnFailure, Always] {
            let p = Policy { mode, ..p };
            assert_eq!(
                decide(&p, h, Requested, 30 * MS, false),
                (Restart { delay: 70 * MS }, h)
            );
            assert_eq!(
                decide(&p, h, Requested, 500 * MS, false),
                (
                    Restart {
                        delay: Duration::ZERO
                    },
                    h
                )
            );
            assert_eq!(
                decide(&p, h, Requested, 30 * MS, true).0,
                Exit,
                "a stop wins"
            );
        }
    }

    #[test]
    fn min_above_max_never_shrinks() {
        assert_eq!(doubled(500 * MS, 1000 * MS), 1000 * MS);
        assert_eq!(doubled(Duration::ZERO, 1000 * MS), Duration::ZERO);
    }
}
