#!/bin/sh
# Drain before stopping (--stop-delay, SPEC §4, §14.27), through `docker stop`:
#  - during the 3 s delay the daemon is not signalled and keeps answering
#    (`demo --probe`), while `docker exec C ctlinit health` exits 1 and the
#    PID file says "draining" — a load balancer takes the container out;
#  - TERM reaches the daemon only after the delay (`docker logs -t` times);
#  - the daemon exits 0 on TERM, so the container exits 0 and its last log
#    line is the summary with reason=stopped;
#  - docker stop -t 15 covers delay + timeout, so Docker never SIGKILLs.
# shellcheck source=smoke/lib.sh
. "$(dirname "$0")/lib.sh"
smoke_init

ctr_run main --stop-delay 3s --port 5199 -- demo /etc/demo.conf
wait_ready "$C" 1
dx "$C" ctlinit health >/dev/null || die "ctlinit health fails while ready"

t0=$(now_ms)
docker stop -t 15 "$C" >/dev/null 2>&1 &
stopper=$!

wait_for 2 "state draining" is_state "$C" draining 1
# Everything below runs inside the 3 s delay (checked: TERM not yet logged).
hout=$(dx "$C" ctlinit health 2>&1)
hrc=$?
log "during the drain: ctlinit health: exit $hrc: $hout"
assert_eq "$hrc" 1 "ctlinit health exit status while draining"
pidfile=$(dx "$C" cat /run/ctlinit/daemon.pid) || die "cannot read the PID file while draining"
case $pidfile in *'"state":"draining"'*) ;; *) die "PID file does not say draining: $pidfile" ;; esac
reply=$(probe "$C" 5199) || die "the daemon stopped answering during the drain: $reply"
log "during the drain: probe: $reply"
case $reply in "ok port=5199 generation=1 "*) ;; *) die "unexpected reply during the drain: $reply" ;; esac
# No signal has reached the daemon yet, so all of the above saw the drain.
elapsed=$(($(now_ms) - t0))
if logs "$C" | grep -q '^demo: got signal'; then
    [ "$elapsed" -lt 2900 ] || die "the drain checks took ${elapsed} ms (slow host?): they overran the 3 s delay"
    die "the daemon was signalled during the drain (${elapsed} ms after docker stop)"
fi
log "the drain checks ran ${elapsed} ms into the 3 s delay"

wait "$stopper" || die "docker stop failed"
ms=$(($(now_ms) - t0))
log "docker stop -t 15 with --stop-delay 3s took ${ms} ms"
[ "$ms" -ge 2900 ] || die "stop took only ${ms} ms: no 3 s drain"
[ "$ms" -lt 8000 ] || die "stop took ${ms} ms: expected ~3 s (drain) + a prompt exit"

# TERM reached the daemon only after the delay, by Docker's log clock.
drain_at=$(log_ms "$C" 'ctlinit: received SIGTERM: draining')
term_at=$(log_ms "$C" 'demo: got signal 15$')
[ -n "$drain_at" ] || die "no 'received SIGTERM: draining' line"
[ -n "$term_at" ] || die "the daemon never logged TERM"
log "TERM reached the daemon $((term_at - drain_at)) ms after the drain began"
[ $((term_at - drain_at)) -ge 2900 ] || die "TERM reached the daemon $((term_at - drain_at)) ms into a 3 s drain"

assert_eq "$(exit_code "$C")" 0 "container exit status (demo exits 0 on TERM)"
assert_eq "$(last_line "$C")" "ctlinit: exit status=0 generation=1 exits=1 restarts=0 reason=stopped" "last log line"
pass
