#!/bin/sh
# The daemon asks for its own restart (--restart-exit, SPEC §8, §14.26) under
# the default policy `no`:
#  - `docker kill -s USR1` is forwarded; `demo --exit-on-usr1 4` exits 4;
#  - ctlinit logs `exited with 4: restart requested by the daemon` and starts
#    generation 2 at once: no `restarting in` backoff line, no failure counted;
#  - twice in a row works the same (generation 3), the container keeps running
#    (no Docker restart, same StartedAt).
# shellcheck source=smoke/lib.sh
. "$(dirname "$0")/lib.sh"
smoke_init

ctr_run main --restart-exit 4 --port 5199 -- demo --exit-on-usr1 4 /etc/demo.conf
wait_ready "$C" 1
started=$(started_at "$C")
pid1=$(st "$C" pid)

for gen in 2 3; do
    docker kill -s USR1 "$C" >/dev/null || die "docker kill -s USR1"
    wait_ready "$C" "$gen" 10
    j=$(status_json "$C")
    log "after USR1 #$((gen - 1)): $j"
    assert_eq "$(printf '%s' "$j" | json_num restarts)" $((gen - 1)) "restarts"
    assert_eq "$(printf '%s' "$j" | json_num exits)" $((gen - 1)) "exits"
    assert_eq "$(printf '%s' "$j" | json_num status)" 4 "last_exit.status"
    reply=$(probe "$C" 5199) || die "generation $gen does not answer: $reply"
    case $reply in "ok port=5199 generation=$gen "*) ;; *) die "unexpected reply from generation $gen: $reply" ;; esac
done
[ "$(st "$C" pid)" != "$pid1" ] || die "daemon pid unchanged"

n=$(logs "$C" | grep -c '^ctlinit: generation [12] (pid [0-9]*) exited with 4: restart requested by the daemon$')
assert_eq "$n" 2 "'exited with 4: restart requested by the daemon' lines"
assert_eq "$(logs "$C" | grep -c '^demo: exiting with 4 (--exit-on-usr1)$')" 2 "daemon exits on USR1"
logs "$C" | grep -q '^ctlinit: restarting in' && die "a backoff line was logged for a restart the daemon requested"
logs "$C" | grep -q 'failure [0-9]' && die "a requested restart was counted as a failure"
logs "$C" | grep -q '^ctlinit: exit status=' && die "ctlinit printed its summary: it exited although --restart-exit asked for a restart"

running "$C" || die "container not running"
assert_eq "$(restart_count "$C")" 0 "Docker restart count"
assert_eq "$(started_at "$C")" "$started" "container StartedAt"

# Without --restart-exit the same exit ends the container (policy no): exit 4.
ctr_run plain -- demo --exit-on-usr1 4 /etc/demo.conf
P=$C
wait_ready "$P" 1
docker kill -s USR1 "$P" >/dev/null || die "docker kill -s USR1 $P"
wait_exited "$P" 10
assert_eq "$(exit_code "$P")" 4 "exit status without --restart-exit"
assert_eq "$(summary "$P")" "ctlinit: exit status=4 generation=1 exits=1 restarts=0 reason=daemon-exited" "summary without --restart-exit"
pass
