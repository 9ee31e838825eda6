#!/bin/sh
# Signals and restart requests through the real engine (beyond issue 4's list):
#  - `docker kill -s USR1` is forwarded to the daemon; nothing restarts;
#  - `docker kill -s HUP` with --reload-signal HUP restarts gracefully (generation +1);
#  - `docker exec <c> ctlinit restart` prints "restarted: generation A -> B (pid P -> Q)".
# The container itself is never restarted by Docker.
# shellcheck source=smoke/lib.sh
. "$(dirname "$0")/lib.sh"
smoke_init

ctr_run main --reload-signal HUP --port 5199 -- demo /etc/demo.conf
wait_ready "$C" 1
started=$(started_at "$C")
pid1=$(st "$C" pid)

docker kill -s USR1 "$C" >/dev/null || die "docker kill -s USR1"
wait_for 5 "daemon logs USR1" sh -c "docker logs $C 2>&1 | grep -q '^demo: got signal 10\$'"
assert_eq "$(st "$C" generation)" 1 "generation after a forwarded USR1"

docker kill -s HUP "$C" >/dev/null || die "docker kill -s HUP"
wait_ready "$C" 2
[ "$(st "$C" pid)" != "$pid1" ] || die "daemon pid unchanged after the reload signal"
logs "$C" | grep -q '^demo: got signal 1$' && die "HUP was forwarded to the daemon although it is the --reload-signal"
reply=$(probe "$C" 5199) || die "generation 2 does not answer: $reply"
case $reply in *"generation=2 "*) ;; *) die "unexpected reply after the reload signal: $reply" ;; esac

pid2=$(st "$C" pid)
# The result line goes to stdout (SPEC §14.9); stderr is kept for the report.
errf=$(mktemp "${TMPDIR:-/tmp}/ctlinit-smoke-err.XXXXXX")
out=$(dx "$C" ctlinit restart --timeout 20s 2>"$errf")
rc=$?
err=$(cat "$errf"); rm -f "$errf"
log "ctlinit restart: exit $rc: stdout: $out${err:+ / stderr: $err}"
assert_eq "$rc" 0 "ctlinit restart exit status"
pid3=$(st "$C" pid)
assert_eq "$out" "restarted: generation 2 -> 3 (pid $pid2 -> $pid3)" "ctlinit restart output"
is_state "$C" ready 3 || die "generation 3 not ready after ctlinit restart returned"

running "$C" || die "container not running"
assert_eq "$(restart_count "$C")" 0 "Docker restart count"
assert_eq "$(started_at "$C")" "$started" "container StartedAt"
pass
