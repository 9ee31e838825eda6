#!/bin/sh
# --stop-on (SPEC §2, §4): which received signals mean "the container stops".
#  A. --stop-on TERM,INT: `docker kill -s QUIT` is only forwarded (a JVM's
#     thread dump): the daemon logs it and keeps serving, ctlinit stops
#     nothing (same generation and pid, state ready, no `stopping` line);
#     then `docker stop` ends it normally: exit 0, summary reason=stopped.
#  B. the default set (TERM,INT,QUIT): the same `docker kill -s QUIT` is a
#     stop — forwarded, and since demo shrugs QUIT off, SIGKILLed at
#     --stop-timeout 2s: exit 137, reason=stopped.
# shellcheck source=smoke/lib.sh
. "$(dirname "$0")/lib.sh"
smoke_init

# --- A: QUIT is not a stop -----------------------------------------------------------
ctr_run main --stop-on TERM,INT --port 5199 -- demo /etc/demo.conf
A=$C
wait_ready "$A" 1
pid=$(st "$A" pid)
docker kill -s QUIT "$A" >/dev/null || die "docker kill -s QUIT"
wait_for 5 "daemon logs QUIT" sh -c "docker logs $A 2>&1 | grep -q '^demo: QUIT: still serving'"
assert_log "$A" '^demo: got signal 3$' "QUIT forwarded to the daemon"
sleep 0.5
logs "$A" | grep -q '^ctlinit: .*stopping' && die "ctlinit treated QUIT as a stop despite --stop-on TERM,INT"
is_state "$A" ready 1 || die "not ready in generation 1 after QUIT: $(status_json "$A")"
assert_eq "$(st "$A" pid)" "$pid" "daemon pid after QUIT"
reply=$(probe "$A" 5199) || die "the daemon stopped answering after QUIT: $reply"
case $reply in "ok port=5199 generation=1 pid=$pid "*) ;; *) die "unexpected reply after QUIT: $reply" ;; esac

t0=$(now_ms)
docker stop -t 10 "$A" >/dev/null || die "docker stop"
ms=$(($(now_ms) - t0))
log "A: QUIT forwarded, daemon kept serving; docker stop then took ${ms} ms"
[ "$ms" -lt 5000 ] || die "docker stop took ${ms} ms"
assert_log "$A" '^demo: got signal 15$' "TERM forwarded by docker stop"
assert_eq "$(exit_code "$A")" 0 "exit status after docker stop"
assert_eq "$(last_line "$A")" "ctlinit: exit status=0 generation=1 exits=1 restarts=0 reason=stopped" "last log line (A)"

# --- B: default --stop-on: QUIT stops ---------------------------------------------------
ctr_run default --stop-timeout 2s --port 5199 -- demo /etc/demo.conf
B=$C
wait_ready "$B" 1
t0=$(now_ms)
docker kill -s QUIT "$B" >/dev/null || die "docker kill -s QUIT $B"
wait_exited "$B" 10
ms=$(($(now_ms) - t0))
log "B: default --stop-on: QUIT stopped the container in ${ms} ms"
[ "$ms" -ge 1800 ] || die "exited after only ${ms} ms: expected the 2 s --stop-timeout (demo ignores QUIT)"
assert_log "$B" '^demo: got signal 3$' "QUIT forwarded (B)"
assert_eq "$(exit_code "$B")" 137 "exit status (B: killed at the stop timeout)"
assert_eq "$(last_line "$B")" "ctlinit: exit status=137 generation=1 exits=1 restarts=0 reason=stopped" "last log line (B)"
pass
