#!/bin/sh
# Liveness through the notify watchdog (--ready notify --watchdog 1s, SPEC §2,
# §8, §14.28), with `demo --notify` sending WATCHDOG=1 every WATCHDOG_USEC/3:
#  - while keep-alives flow, generation 1 stays ready for 3 s (3 deadlines);
#  - USR2 sent to the daemon inside the container (`docker exec C kill`)
#    makes it hang (it stops its keep-alives but still answers connections):
#    ctlinit logs `watchdog timeout after 1s` within ~1 s, stops it, and
#    generation 2 becomes ready (the run counts as a failure: on-failure);
#  - `docker kill -s USR2` (forwarded by ctlinit) does the same to
#    generation 2 -> generation 3. No Docker restart.
# shellcheck source=smoke/lib.sh
. "$(dirname "$0")/lib.sh"
smoke_init

ctr_run main --ready notify --watchdog 1s --restart on-failure -- demo --notify /etc/demo.conf
wait_ready "$C" 1
assert_log "$C" '^demo: sent READY=1$' "daemon sent READY=1"
assert_log "$C" '^demo: sending WATCHDOG=1 every 333ms' "daemon sends keep-alives every WATCHDOG_USEC/3"
started=$(started_at "$C")

sleep 3
is_state "$C" ready 1 || die "generation 1 not ready 3 s later although keep-alives flow: $(status_json "$C")"
logs "$C" | grep -q 'watchdog timeout' && die "watchdog timeout while keep-alives flow"
log "3 s of keep-alives: still generation 1, ready"

# Hang 1: USR2 straight to the daemon from an exec session.
pid=$(st "$C" pid)
t0=$(now_ms)
dx "$C" kill -USR2 "$pid" || die "docker exec kill -USR2 $pid"
wait_for 5 "watchdog timeout of generation 1" sh -c "docker logs $C 2>&1 | grep -q '^ctlinit: stopping generation 1 (pid $pid): watchdog timeout after 1s\$'"
ms=$(($(now_ms) - t0))
log "watchdog timeout ${ms} ms after the hang"
[ "$ms" -ge 500 ] || die "watchdog timeout only ${ms} ms after the last keep-alive could have been sent"
assert_log "$C" '^demo: hanging' "daemon logged its hang"
wait_ready "$C" 2 10
assert_log "$C" '^ctlinit: restarting in .*failure 1 of' "the watchdog run counted as a failure"

# Hang 2: docker kill -s USR2, forwarded by ctlinit to generation 2.
sleep 1.5
is_state "$C" ready 2 || die "generation 2 not ready 1.5 s after becoming ready: $(status_json "$C")"
pid=$(st "$C" pid)
docker kill -s USR2 "$C" >/dev/null || die "docker kill -s USR2"
wait_for 5 "watchdog timeout of generation 2" sh -c "docker logs $C 2>&1 | grep -q '^ctlinit: stopping generation 2 (pid $pid): watchdog timeout after 1s\$'"
wait_ready "$C" 3 10
assert_eq "$(logs "$C" | grep -c '^demo: hanging')" 2 "hang lines"
reply=$(probe "$C" 5199) || die "generation 3 does not answer: $reply"
case $reply in "ok port=5199 generation=3 "*) ;; *) die "unexpected reply from generation 3: $reply" ;; esac

running "$C" || die "container not running"
assert_eq "$(restart_count "$C")" 0 "Docker restart count"
assert_eq "$(started_at "$C")" "$started" "container StartedAt"
pass
