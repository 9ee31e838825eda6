//! `ctlinit --help`: one line per option, with its variable and default.
//! The tests below hold it to the option table (every flag and variable
//! named, every flag named exists, every option line names its default).

pub const HELP: &str = "\
ctlinit — a container init that supervises one daemon

Usage:
  ctlinit [OPTIONS] [--] COMMAND [ARG...]    supervise COMMAND
  ctlinit status [--json] [--pidfile PATH] [--lockfile PATH]
  ctlinit health [--pidfile PATH] [--lockfile PATH]
  ctlinit restart [--timeout DUR] [--pidfile PATH] [--lockfile PATH]
  ctlinit --help | --version

Options (environment variable in brackets, empty = unset; the command line wins):
  --restart POLICY        no | on-failure | on-failure:N | always | unless-stopped  [CTLINIT_RESTART] (default: no)
  --max-restarts N        consecutive failed runs tolerated (0-1000000), 0 = never give up  [CTLINIT_MAX_RESTARTS] (default: 5)
  --backoff MIN[:MAX]     delay before a restart, doubling per quick exit  [CTLINIT_BACKOFF] (default: 100ms:30s)
  --reset-after DUR       a run this long resets failures and backoff  [CTLINIT_RESET_AFTER] (default: 30s)
  --stop-signal SIG       signal ctlinit sends to stop the daemon  [CTLINIT_STOP_SIGNAL] (default: TERM)
  --stop-timeout DUR      grace before SIGKILL to the process group  [CTLINIT_STOP_TIMEOUT] (default: 8s)
  --stop-on SIG[,SIG...]  received signals that mean \"the container is stopping\"  [CTLINIT_STOP_ON] (default: TERM,INT,QUIT)
  --stop-delay DUR        on a stop signal, keep the daemon serving this long first  [CTLINIT_STOP_DELAY] (default: 0)
  --reload-signal SIG     signal that means \"restart the daemon gracefully\"  [CTLINIT_RELOAD_SIGNAL] (default: unset)
  --restart-exit CODE     exit code (1-255) by which the daemon asks for a restart; repeatable  [CTLINIT_RESTART_EXIT, ','-separated] (default: none)
  --watch PATH            restart when PATH's content changes; repeatable  [CTLINIT_WATCH, ':'-separated] (default: none)
  --watch-signal SIG      on a --watch change, send SIG instead of restarting  [CTLINIT_WATCH_SIGNAL] (default: unset)
  --check CMD             run CMD (split on spaces, no shell) before each requested restart  [CTLINIT_CHECK] (default: unset)
  --port PORT[,PORT...]   TCP ports the daemon listens on; repeatable  [CTLINIT_PORT, ','-separated] (default: none)
  --ready MODE            none | port | listen | notify  [CTLINIT_READY] (default: port with --port, else none)
  --ready-timeout DUR     not ready by then = failed run  [CTLINIT_READY_TIMEOUT] (default: 30s)
  --watchdog DUR          with --ready notify: WATCHDOG=1 at least this often, 0 = off  [CTLINIT_WATCHDOG] (default: off)
  --port-timeout DUR      wait for ports to be free before a start  [CTLINIT_PORT_TIMEOUT] (default: 5s)
  --pidfile PATH          generation-stamped JSON PID file  [CTLINIT_PIDFILE] (default: /run/ctlinit/daemon.pid)
  --lockfile PATH         singleton lock  [CTLINIT_LOCKFILE] (default: ctlinit.lock beside the PID file)
  --marker NAME[=VALUE]   extra environment marker for the daemon; repeatable  [CTLINIT_MARKER, ','-separated] (default: none)
  -g, --pgroup            forward signals to the daemon's process group  [CTLINIT_PGROUP, TINI_KILL_PROCESS_GROUP] (default: off)
  -r, --rewrite FROM:TO   rewrite a received signal before forwarding, TO=0 drops; repeatable  [CTLINIT_REWRITE, ','-separated] (default: none)
  -e, --success-exit CODE exit code that counts as clean, reported as 0; repeatable  [CTLINIT_SUCCESS_EXIT, ','-separated] (default: 0)
  -s                      accepted for tini compatibility (subreaper mode is automatic)  [TINI_SUBREAPER] (default: automatic)
  -w                      log every reaped orphan at warn level (default: off)
  -p, --pdeathsig SIG     signal ctlinit receives when its parent dies  [CTLINIT_PDEATHSIG] (default: unset)
  -v, -q                  more (repeatable) / less logging  [CTLINIT_LOG=error|warn|info|debug|trace] (default: info)
  -h, --help              print this help
  -V, --version           print the version

Durations: 250ms, 5s, 2m, 1h or seconds (8, 0.5), from 0 up to 365 days. Signals: TERM, SIGTERM, sigterm or 1-64.
Exit status: the daemon's (code or 128+signal); 0 for --success-exit codes; 1 the last run could not be
spawned (a temporary failure); 2 usage; 69 port busy; 75 lock held; 126/127 command not executable / not found.
";

#[cfg(test)]
mod tests {
    use super::super::keys::TABLE;
    use super::HELP;

    fn option_lines() -> impl Iterator<Item = &'static str> {
        HELP.lines().filter(|l| l.trim_start().starts_with('-'))
    }

    #[test]
    fn help_names_every_flag_and_variable_of_the_table() {
        for o in TABLE {
            if let Some(l) = o.long {
                assert!(HELP.contains(&format!("--{l} ")), "help lacks --{l}");
            }
            if let Some(c) = o.short {
                assert!(
                    HELP.contains(&format!("-{c},")) || HELP.contains(&format!("-{c} ")),
                    "help lacks -{c}"
                );
            }
            for v in o.vars {
                assert!(HELP.contains(v), "help lacks {v}");
            }
        }
    }

    #[test]
    fn every_flag_in_the_help_exists() {
        let verbs = ["json", "timeout"];
        for word in HELP.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
            if let Some(long) = word.strip_prefix("--").filter(|l| !l.is_empty()) {
                assert!(
                    TABLE.iter().any(|o| o.long == Some(long)) || verbs.contains(&long),
                    "help names --{long}, which does not exist"
                );
            }
        }
    }

    #[test]
    fn every_option_line_names_its_default() {
        for l in option_lines() {
            assert!(
                l.contains("(default: ") || l.contains("--help") || l.contains("--version"),
                "{l}"
            );
        }
        assert_eq!(
            option_lines().count(),
            TABLE.len() - 2,
            "one line per option (-v, -q share one; CTLINIT_LOG is theirs)"
        );
    }

    #[test]
    fn the_trailing_lines_follow_the_contract() {
        assert!(HELP.contains("up to 365 days"));
        assert!(HELP.contains("1-64"));
        assert!(HELP.contains("1 the last run could not be\nspawned"));
    }
}
