#!/bin/sh
# OOM kills told apart from other SIGKILLs (SPEC §8a), under a real memory
# limit (`docker run --memory 32m --memory-swap 32m`), with `demo --hog 256`
# allocating and touching 1 MiB at a time after listening:
#  A. policy no: ctlinit logs at error level
#     `generation 1 (pid P) was killed by the OOM killer (memory limit 32 MiB)`,
#     the container exits 137 and the summary says reason=daemon-exited;
#  B. --restart on-failure --max-restarts 1 --backoff 4s: during the backoff
#     `ctlinit status --json` shows oom_kills 1 and last_exit.oom_kill true
#     (signal 9, status 137); generation 2 is OOM-killed too (its own error
#     line), and ctlinit gives up: exit 137, reason=gave-up;
#  C. a plain SIGKILL of the daemon (no OOM) is not blamed on the OOM killer.
# If this engine cannot enforce memory limits, the scenario says SKIPPED (exit
# 77) with the reason; it never passes without the OOM kill being seen.
# shellcheck source=smoke/lib.sh
. "$(dirname "$0")/lib.sh"
smoke_init

warn=$(docker info 2>&1 | grep -i 'WARNING: No \(memory\|swap\) limit support')
[ -z "$warn" ] || skip "the engine cannot enforce memory limits here: $warn"

LIMIT="--network none --memory 32m --memory-swap 32m"

# --- A: policy no ---------------------------------------------------------------------
CTR_OPTS=$LIMIT ctr_run nopolicy -- demo --hog 256 /etc/demo.conf
A=$C
mem=$(docker inspect -f '{{.HostConfig.Memory}}' "$A")
[ "$mem" = 33554432 ] || skip "docker did not record the 32 MiB limit (HostConfig.Memory=$mem)"
end=$(($(now_ms) + 30000))
while ! exited "$A"; do
    if logs "$A" | grep -q '^demo: holding 256 MiB'; then
        skip "the 32 MiB memory limit is not enforced here: the daemon holds 256 MiB ($(dx "$A" cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>&1))"
    fi
    [ "$(now_ms)" -lt "$end" ] || die "the daemon neither got OOM-killed nor finished hogging within 30 s"
    sleep 0.2
done
log "docker inspect: OOMKilled=$(docker inspect -f '{{.State.OOMKilled}}' "$A") exit=$(exit_code "$A")"
assert_log "$A" '^demo: hogging 16 MiB$' "the daemon was allocating"
assert_log "$A" '^ctlinit: error: generation 1 \(pid [0-9]+\) was killed by the OOM killer \(memory limit 32 MiB\)$' "OOM line at error level"
assert_eq "$(exit_code "$A")" 137 "container exit status after the OOM kill"
assert_eq "$(summary "$A")" "ctlinit: exit status=137 generation=1 exits=1 restarts=0 reason=daemon-exited" "summary (A)"
assert_eq "$(last_line "$A")" "$(summary "$A")" "the summary is the last line (A)"

# --- B: on-failure, the record during the backoff ----------------------------------------
CTR_OPTS=$LIMIT ctr_run onfailure --restart on-failure --max-restarts 1 --backoff 4s -- demo --hog 256 /etc/demo.conf
B=$C
wait_for 30 "generation 1 OOM-killed, in backoff" is_state "$B" backoff
j=$(status_json "$B")
log "in backoff: $j"
assert_eq "$(printf '%s' "$j" | json_num oom_kills)" 1 "oom_kills during the backoff"
printf '%s' "$j" | grep -q '"oom_kill":true' || die "last_exit.oom_kill is not true: $j"
assert_eq "$(printf '%s' "$j" | json_num signal)" 9 "last_exit.signal"
assert_eq "$(printf '%s' "$j" | json_num status)" 137 "last_exit.status"
assert_log "$B" '^ctlinit: error: generation 1 \(pid [0-9]+\) was killed by the OOM killer \(memory limit 32 MiB\)$' "OOM line (B, generation 1)"
wait_exited "$B" 30
assert_log "$B" '^ctlinit: error: generation 2 \(pid [0-9]+\) was killed by the OOM killer \(memory limit 32 MiB\)$' "OOM line (B, generation 2)"
assert_eq "$(exit_code "$B")" 137 "container exit status after giving up"
assert_eq "$(summary "$B")" "ctlinit: exit status=137 generation=2 exits=2 restarts=1 reason=gave-up" "summary (B)"

# --- C: a SIGKILL that is not the OOM killer's ------------------------------------------
CTR_OPTS=$LIMIT ctr_run sigkill --restart on-failure --backoff 4s -- demo /etc/demo.conf
K=$C
wait_ready "$K" 1
dx "$K" kill -KILL "$(st "$K" pid)" || die "docker exec kill -KILL"
wait_for 10 "generation 1 killed, in backoff" is_state "$K" backoff
j=$(status_json "$K")
log "after a plain SIGKILL: $j"
assert_eq "$(printf '%s' "$j" | json_num oom_kills)" 0 "oom_kills after a plain SIGKILL"
printf '%s' "$j" | grep -q '"oom_kill":false' || die "last_exit.oom_kill is not false after a plain SIGKILL: $j"
logs "$K" | grep -q 'OOM killer' && die "a plain SIGKILL was blamed on the OOM killer"
pass
