#!/bin/sh
# The nginx-like case (SPEC §2 --watch-signal/--check, §8b): a daemon that
# reloads its own config on HUP, guarded by its own config test:
#     --watch /etc/demo.conf --watch-signal HUP
#     --check 'demo --check /etc/demo.conf' --restart on-failure
#  A. a broken config pushed by rename-replace (as a ConfigMap update does):
#     the check refuses (`check refused restart: ... exited with 3`, error
#     level), the daemon is not signalled and answers all along (a probe loop
#     runs through the push), generation stays 1, and `status --json` records
#     last_check {status 3, ok false};
#  B. `docker exec C ctlinit restart` with the broken config exits 1 printing
#     `restart refused by --check (status 3)`; nothing restarts;
#  C. a good config with a new message, written in place: the check passes,
#     HUP reaches the daemon, which logs `reloaded`, and the probe shows the
#     new message — still generation 1, same daemon pid.
# shellcheck source=smoke/lib.sh
. "$(dirname "$0")/lib.sh"
smoke_init

ctr_run main --port 5199 --watch /etc/demo.conf --watch-signal HUP \
    --check 'demo --check /etc/demo.conf' --restart on-failure -- demo /etc/demo.conf
wait_ready "$C" 1
pid=$(st "$C" pid)
reply=$(probe "$C" 5199) || die "no answer before the push: $reply"
case $reply in *" message=hello from the ctlinit smoke image") ;; *) die "unexpected first reply: $reply" ;; esac

# A probe loop inside the container: 40 probes 0.1 s apart (~4 s) around a push.
probe_loop() {
    docker exec "$C" sh -c 'i=0; while [ $i -lt 40 ]; do demo --probe 5199 2>&1 | grep -q "^ok port=5199 generation=1 pid='"$pid"' " || echo MISSED; i=$((i + 1)); sleep 0.1; done; echo DONE' >"$1" 2>&1 &
    LOOP=$!
}
loop_out=$(mktemp "${TMPDIR:-/tmp}/ctlinit-smoke-loop.XXXXXX")
on_fail() { echo "----- probe loop output:"; cat "$loop_out"; }

# --- A: broken config by rename-replace -------------------------------------------
probe_loop "$loop_out"
sleep 0.5
dx "$C" sh -c 'printf "port=5199\nmessage=broken\nlisten_backlog=64\n" >/etc/demo.conf.new && mv /etc/demo.conf.new /etc/demo.conf' \
    || die "cannot push the broken config"
wait_for 5 "the check refuses the broken config" sh -c \
    "docker logs $C 2>&1 | grep -q '^ctlinit: error: check refused restart: demo --check /etc/demo.conf exited with 3\$'"
assert_log "$C" '^demo: bad config: /etc/demo.conf:3: unknown key' "the check printed why"
wait "$LOOP"
grep -q DONE "$loop_out" || die "the probe loop did not finish"
grep -q MISSED "$loop_out" && die "the daemon missed probes around the broken push ($(grep -c MISSED "$loop_out") of 40)"
log "A: 40 probes around the broken push all answered by generation 1 (pid $pid)"
logs "$C" | grep -q '^demo: got signal' && die "the daemon was signalled although the check failed"
j=$(status_json "$C")
log "A: $j"
is_state "$C" ready 1 || die "not ready in generation 1 after the refused check"
assert_eq "$(st "$C" pid)" "$pid" "daemon pid after the refused check"
printf '%s' "$j" | grep -Eq '"last_check":\{[^}]*"ok":false' || die "last_check.ok is not false: $j"
printf '%s' "$j" | grep -Eq '"last_check":\{[^}]*"status":3[,}]' || die "last_check.status is not 3: $j"
reply=$(probe "$C" 5199) || die "no answer after the refused check: $reply"
case $reply in *" message=hello from the ctlinit smoke image") ;; *) die "the old config is not served any more: $reply" ;; esac

# --- B: ctlinit restart refused -----------------------------------------------------
out=$(dx "$C" ctlinit restart --timeout 10s 2>&1)
rc=$?
log "B: ctlinit restart: exit $rc: $out"
assert_eq "$rc" 1 "ctlinit restart exit status with a broken config"
case $out in *"restart refused by --check (status 3)"*) ;; *) die "ctlinit restart did not print 'restart refused by --check (status 3)': $out" ;; esac
assert_eq "$(logs "$C" | grep -c '^ctlinit: error: check refused restart: demo --check /etc/demo.conf exited with 3$')" 2 "refusal lines"
is_state "$C" ready 1 || die "not ready in generation 1 after the refused restart"
assert_eq "$(st "$C" pid)" "$pid" "daemon pid after the refused restart"

# --- C: good config, new message, written in place ------------------------------------
probe_loop "$loop_out"
sleep 0.5
dx "$C" sh -c 'printf "port=5199\nmessage=reloaded by HUP\n" >/etc/demo.conf' || die "cannot push the good config"
wait_for 5 "the daemon reloads" sh -c "docker logs $C 2>&1 | grep -q '^demo: reloaded /etc/demo.conf\$'"
assert_log "$C" '^demo: got signal 1$' "HUP reached the daemon"
wait "$LOOP"
grep -q DONE "$loop_out" || die "the probe loop did not finish"
grep -q MISSED "$loop_out" && die "the daemon missed probes around the reload ($(grep -c MISSED "$loop_out") of 40)"
reply=$(probe "$C" 5199) || die "no answer after the reload: $reply"
log "C: $reply"
assert_eq "$reply" "ok port=5199 generation=1 pid=$pid message=reloaded by HUP" "reply after the reload"
j=$(status_json "$C")
printf '%s' "$j" | grep -Eq '"last_check":\{[^}]*"ok":true' || die "last_check.ok is not true after the good push: $j"
is_state "$C" ready 1 || die "not ready in generation 1 after the reload"
assert_eq "$(printf '%s' "$j" | json_num restarts)" 0 "restarts"
running "$C" || die "container not running"
assert_eq "$(restart_count "$C")" 0 "Docker restart count"
rm -f "$loop_out"
pass
