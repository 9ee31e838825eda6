#!/bin/sh
# Zombies: orphans from `docker exec` sessions and from the daemon's own tree
# are reparented to ctlinit (PID 1) and reaped: no Z-state process remains.
# All 20 orphans are killed by one kill(1), so their SIGCHLDs coalesce: a
# supervisor that reaps one child per wake-up leaves zombies behind.
# shellcheck source=smoke/lib.sh
. "$(dirname "$0")/lib.sh"
smoke_init

# The daemon's command leaves 8 orphans behind before exec'ing demo.
ctr_run main -- sh -c 'for i in 1 2 3 4 5 6 7 8; do (sleep 1000 &); done; exec demo /etc/demo.conf'
wait_ready "$C" 1
# 12 more from an exec session: sh exits at once, its children are
# reparented to the container's PID 1.
dx "$C" sh -c 'for i in $(seq 1 12); do sleep 1000 >/dev/null 2>&1 & done; exit 0' || die "docker exec failed"

# ps_lines CONTAINER: "pid ppid state comm" for every process (from /proc).
ps_lines() {
    docker exec "$1" sh -c 'for f in /proc/[0-9]*/stat; do
        s=$(cat "$f" 2>/dev/null) || continue
        comm=${s#*(}; comm=${comm%%)*}; rest=${s##*) }
        set -- $rest; echo "${f#/proc/}" "$2" "$1" "$comm"
    done' | sed 's|/stat||'
}
on_fail() { echo "process table (pid ppid state comm):"; ps_lines "$C" | sed 's/^/  /'; }

orphans=$(ps_lines "$C" | awk '$4 == "sleep" && $2 == 1' | wc -l)
log "sleep orphans reparented to PID 1: $orphans"
[ "$orphans" -eq 20 ] || die "expected 20 sleep orphans with ppid 1, saw $orphans"

# One kill(1) for all 20 at once.
dx "$C" sh -c 'kill -KILL $(pidof sleep)' || die "cannot kill the orphans"

# no_zombies_left CONTAINER: no sleeps left and no Z-state process at all.
no_zombies_left() {
    _ps=$(ps_lines "$1") || return 1
    ! printf '%s\n' "$_ps" | awk '$3 == "Z" || $4 == "sleep" { found = 1 } END { exit !found }'
}
wait_for 5 "all 20 orphans reaped (no Z-state process)" no_zombies_left "$C"
is_state "$C" ready 1 || die "daemon no longer ready"
log "after: $(ps_lines "$C" | tr '\n' ';')"
pass
