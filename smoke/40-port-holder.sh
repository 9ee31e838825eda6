#!/bin/sh
# Foreign port holder: while ctlinit waits out a restart backoff, a process
# started with `docker exec` (so outside ctlinit's tree) takes the daemon's
# port. The restart must abort with exit 69 naming the port (and the holder's
# pid, which is visible here), not loop or start a daemon into a taken port.
# shellcheck source=smoke/lib.sh
. "$(dirname "$0")/lib.sh"
smoke_init

ctr_run main --port 5199 --port-timeout 2s --restart on-failure --backoff 5s:5s -- demo /etc/demo.conf
wait_ready "$C" 1
pid=$(st "$C" pid)
dx "$C" sh -c 'printf "port=5199\nmessage=foreign\n" >/tmp/foreign.conf' || die "cannot write foreign config"

# Kill the daemon (a failure): ctlinit waits 5 s before the restart.
dx "$C" kill -KILL "$pid" || die "cannot kill daemon $pid"
wait_for 5 "backoff state" is_state "$C" backoff

# The holder is the exec'd process itself: `docker exec` runs demo directly,
# its parent is outside the container, so it is not ctlinit's (grand)child.
i=0
while :; do
    dx -d "$C" demo /tmp/foreign.conf
    sleep 0.3
    case $(probe "$C" 5199) in *"message=foreign"*) break ;; esac
    i=$((i + 1))
    [ $i -lt 5 ] || die "foreign holder could not take port 5199"
done
holder=$(probe "$C" 5199 | sed -n 's/.* pid=\([0-9]*\).*/\1/p')
log "foreign holder pid $holder listens on 5199"
is_state "$C" backoff || die "ctlinit left backoff before the holder was in place (test too slow?)"

wait_exited "$C" 20
assert_eq "$(exit_code "$C")" 69 "container exit code"
assert_eq "$(logs "$C" | grep -c '^ctlinit: started generation')" 1 "daemons started (no restart loop)"
# What ctlinit said after the daemon died, summary line excluded.
after=$(logs "$C" | sed -n '/^ctlinit: .*exited/,$p' | grep '^ctlinit: ' | grep -v '^ctlinit: exit status=')
printf '%s\n' "$after" | grep -q 5199 || die "no ctlinit log line after the exit names port 5199"
printf '%s\n' "$after" | grep 5199 | grep -Eq "(^|[^0-9])$holder([^0-9]|\$)" \
    || die "the port-busy log line does not name the holder's pid $holder"
assert_eq "$(summary "$C")" "ctlinit: exit status=69 generation=1 exits=1 restarts=0 reason=port-busy" "summary line"
pass
