#!/bin/sh
# Port change under --watch: the config's port goes 5199 -> 5200 (editor-style
# rename-replace). ctlinit restarts the daemon once: it answers on 5200, 5199 is
# refused, the generation advanced by exactly 1, and the supervisor is still
# PID 1 of the same container (Docker restarted nothing).
# shellcheck source=smoke/lib.sh
. "$(dirname "$0")/lib.sh"
smoke_init

ctr_run main --watch /etc/demo.conf --ready listen -- demo /etc/demo.conf
wait_ready "$C" 1
reply=$(probe "$C" 5199) || die "no answer on 5199 before the change: $reply"
case $reply in *"port=5199 generation=1 "*) ;; *) die "unexpected reply on 5199: $reply" ;; esac
assert_eq "$(st "$C" supervisor_pid)" 1 "supervisor_pid before the change"
pid1=$(st "$C" pid)
started=$(started_at "$C")
log "generation 1 ready (pid $pid1): $reply"

# Rename-replace, as editors and ConfigMap updates do.
dx "$C" sh -c 'printf "port=5200\nmessage=moved\n" >/etc/demo.conf.new && mv /etc/demo.conf.new /etc/demo.conf' \
    || die "cannot rewrite the config"
wait_for 20 "an answer on 5200" probe "$C" 5200
wait_ready "$C" 2
reply=$(probe "$C" 5200) || die "no answer on 5200: $reply"
case $reply in *"port=5200 generation=2 "*"message=moved"*) ;; *) die "unexpected reply on 5200: $reply" ;; esac
if old=$(probe "$C" 5199); then die "5199 still answers after the change: $old"; fi
case $old in *"refused"*) ;; *) die "5199 should be refused, probe said: $old" ;; esac

# Exactly one restart: still generation 2 after the debounce window has passed.
sleep 1.5
assert_eq "$(st "$C" generation)" 2 "generation after one config change"
assert_eq "$(st "$C" restarts)" 1 "restarts after one config change"
pid2=$(st "$C" pid)
[ "$pid2" != "$pid1" ] || die "daemon pid did not change ($pid1)"

# Same supervisor, same container.
assert_eq "$(st "$C" supervisor_pid)" 1 "supervisor_pid after the change"
comm=$(dx "$C" cat /proc/1/comm) || die "cannot read /proc/1/comm"
assert_eq "$comm" ctlinit "PID 1's command"
running "$C" || die "container is not running"
assert_eq "$(restart_count "$C")" 0 "Docker restart count"
assert_eq "$(started_at "$C")" "$started" "container StartedAt"
assert_log "$C" 'demo: listening on 127\.0\.0\.1:5200 \(generation 2' "daemon log for generation 2"
log "generation 2 (pid $pid2) answers on 5200: $reply; 5199 refused; PID 1 unchanged"
pass
