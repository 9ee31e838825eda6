#!/bin/sh
# docker stop:
#  A. graceful: the daemon logs TERM and exits 0; the container exits 0.
#  B. -e: a daemon that dies of TERM (status 143) gives container exit 0 with
#     `-e 143`, and 143 without it.
#  C. a TERM-ignoring daemon is SIGKILLed by ctlinit at its --stop-timeout
#     (3 s), well before Docker's own 10 s: visible in the timing and the logs
#     (ctlinit's kill line and summary line exist; Docker's SIGKILL of PID 1
#     would leave neither).
#  D. a grandchild with a TERM trap finishes its cleanup before the container ends.
# shellcheck source=smoke/lib.sh
. "$(dirname "$0")/lib.sh"
smoke_init

# stop_timed CONTAINER: docker stop -t 10, prints the elapsed milliseconds.
stop_timed() {
    _t0=$(now_ms)
    docker stop -t 10 "$1" >/dev/null || die "docker stop $1 failed"
    echo $(($(now_ms) - _t0))
}

# --- A: graceful ------------------------------------------------------------------
ctr_run graceful -- demo /etc/demo.conf
A=$C
wait_ready "$A" 1
ms=$(stop_timed "$A")
log "graceful stop took ${ms} ms"
[ "$ms" -lt 5000 ] || die "graceful stop took ${ms} ms"
assert_eq "$(exit_code "$A")" 0 "exit code after a graceful stop"
assert_log "$A" '^demo: got signal 15$' "daemon received TERM"
assert_eq "$(summary "$A")" "ctlinit: exit status=0 generation=1 exits=1 restarts=0 reason=stopped" "summary line (A)"

# --- B: -e maps the daemon's 143 -------------------------------------------------
ctr_run mapped -e 143 -- sleep 1000
B1=$C
ctr_run unmapped -- sleep 1000
B2=$C
wait_ready "$B1" 1
wait_ready "$B2" 1
ms=$(stop_timed "$B1")
[ "$ms" -lt 5000 ] || die "stop of $B1 took ${ms} ms"
assert_eq "$(exit_code "$B1")" 0 "exit code with -e 143 after TERM"
assert_eq "$(summary "$B1")" "ctlinit: exit status=0 generation=1 exits=1 restarts=0 reason=stopped" "summary line (B, -e 143)"
stop_timed "$B2" >/dev/null
assert_eq "$(exit_code "$B2")" 143 "exit code without -e after TERM"
assert_eq "$(summary "$B2")" "ctlinit: exit status=143 generation=1 exits=1 restarts=0 reason=stopped" "summary line (B, no -e)"

# --- C: TERM ignored, ctlinit kills at --stop-timeout -------------------------------
ctr_run stubborn --stop-timeout 3s -- demo --ignore-term /etc/demo.conf
S=$C
wait_ready "$S" 1
ms=$(stop_timed "$S")
log "TERM-ignoring daemon: docker stop took ${ms} ms (ctlinit --stop-timeout 3s, docker -t 10)"
[ "$ms" -ge 2800 ] || die "stop took only ${ms} ms: the daemon ignores TERM, expected ~3 s"
[ "$ms" -lt 8000 ] || die "stop took ${ms} ms: ctlinit did not kill at its 3 s --stop-timeout (Docker did at 10 s?)"
assert_log "$S" '^demo: ignoring TERM' "daemon ignored TERM"
assert_log "$S" '^ctlinit: .*kill.*(timeout|3s)' "ctlinit's kill-after-timeout log line"
assert_eq "$(exit_code "$S")" 137 "exit code of a daemon killed after the stop timeout"
assert_eq "$(summary "$S")" "ctlinit: exit status=137 generation=1 exits=1 restarts=0 reason=stopped" "summary line (C)"

# --- D: grandchild cleanup ----------------------------------------------------------
ctr_run trap -- demo --trap-child 2 /etc/demo.conf
T=$C
wait_ready "$T" 1
wait_for 5 "trap child started" sh -c "docker logs $T 2>&1 | grep -q 'started trap child'"
ms=$(stop_timed "$T")
log "stop with a 2 s grandchild cleanup took ${ms} ms"
[ "$ms" -ge 1800 ] || die "stop took only ${ms} ms: the grandchild's 2 s cleanup cannot have run"
[ "$ms" -lt 8000 ] || die "stop took ${ms} ms"
assert_log "$T" '^demo-child: cleanup start$' "grandchild got TERM"
assert_log "$T" '^demo-child: cleanup done$' "grandchild finished its cleanup"
# Order: the cleanup finished before ctlinit's last line.
last=$(logs "$T" | grep -E '^(demo-child: cleanup done|ctlinit: exit status=)' | tail -n 1)
case $last in "ctlinit: exit status="*) ;; *) die "ctlinit exited before the grandchild's cleanup was done" ;; esac
assert_eq "$(exit_code "$T")" 0 "exit code (daemon exited 0 on TERM)"
assert_eq "$(summary "$T")" "ctlinit: exit status=0 generation=1 exits=1 restarts=0 reason=stopped" "summary line (D)"
pass
