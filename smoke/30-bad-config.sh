#!/bin/sh
# Fail-loud bad config.
#  A. A bad config makes the daemon abort (exit 3, message naming file and
#     line); `ctlinit status --json` shows the exit count growing; fixing the
#     config lets the next restart recover.
#  B. With the limit reached, the container exits with the daemon's status (3)
#     and the summary line shows the exit count and reason=gave-up.
# shellcheck source=smoke/lib.sh
. "$(dirname "$0")/lib.sh"
smoke_init

# --- A: recover ----------------------------------------------------------------
ctr_new recover --restart on-failure --max-restarts 20 --backoff 1s:1s -- demo /etc/demo.conf
A=$C
put_file "$A" /etc/demo.conf 'port=notaport
'
docker start "$A" >/dev/null || die "docker start $A"

# exits_gt CONTAINER N: the status' exit count is above N.
exits_gt() { _e=$(st "$1" exits); [ -n "$_e" ] && [ "$_e" -gt "$2" ]; }

# Two failed runs observed through the status: exits grows.
wait_for 20 "a first failed run in the status" exits_gt "$A" 0
e1=$(st "$A" exits)
wait_for 20 "the exit count to grow past $e1" exits_gt "$A" "$e1"
j=$(status_json "$A")
log "while failing: $j"
# The last_exit object, spaces removed, wrapped in commas: key order is free.
le=,$(printf '%s' "$j" | tr -d ' ' | sed -n 's/.*"last_exit":{\([^}]*\)}.*/\1/p'),
case $le in *',"code":3,'*) ;; *) die "last_exit should be code 3 / status 3: $j" ;; esac
case $le in *',"status":3,'*) ;; *) die "last_exit should be code 3 / status 3: $j" ;; esac
assert_log "$A" '^demo: bad config: /etc/demo\.conf:1: port must be a number' "daemon's fail-loud message"
running "$A" || die "container died while restarts were allowed"

# Fix the config (in place); the next restart (within the 1 s backoff) recovers.
dx "$A" sh -c 'printf "port=5199\n" >/etc/demo.conf' || die "cannot fix the config"
wait_for 20 "recovery after the fix" is_state "$A" ready
reply=$(probe "$A" 5199) || die "recovered daemon does not answer: $reply"
j=$(status_json "$A")
exits=$(printf '%s' "$j" | json_num exits)
gen=$(printf '%s' "$j" | json_num generation)
[ "$exits" -ge 2 ] || die "exits should be >= 2 after recovery: $j"
assert_eq "$gen" $((exits + 1)) "generation after $exits failed runs"
log "recovered: generation $gen after $exits failed runs: $reply"

# --- B: give up ----------------------------------------------------------------
ctr_new giveup --restart on-failure --max-restarts 2 --backoff 100ms:200ms -- demo /etc/demo.conf
B=$C
put_file "$B" /etc/demo.conf 'port=99999
'
docker start "$B" >/dev/null || die "docker start $B"
wait_exited "$B" 30
assert_eq "$(exit_code "$B")" 3 "container exit code after giving up"
n=$(logs "$B" | grep -c '^demo: bad config: /etc/demo\.conf:1: ')
assert_eq "$n" 3 "runs of the daemon (--max-restarts 2 = 3 runs)"
assert_log "$B" '^ctlinit: .*giving up' "giving-up log line"
assert_eq "$(summary "$B")" "ctlinit: exit status=3 generation=3 exits=3 restarts=2 reason=gave-up" "summary line"
assert_eq "$(logs "$B" | tail -n 1)" "ctlinit: exit status=3 generation=3 exits=3 restarts=2 reason=gave-up" "last log line"
pass
