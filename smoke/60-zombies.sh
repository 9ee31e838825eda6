#!/bin/sh
# Zombies: orphans from `docker exec` sessions and from the daemon's own tree
# are reparented to ctlinit (PID 1) and reaped when they exit: no Z-state
# process remains.
# shellcheck source=smoke/lib.sh
. "$(dirname "$0")/lib.sh"
smoke_init

# The daemon's command leaves 4 orphans (sleep 5) behind before exec'ing demo.
ctr_run main -- sh -c 'for i in 1 2 3 4; do (sleep 5 &); done; exec demo /etc/demo.conf'
wait_ready "$C" 1
# 4 more orphans from an exec session: sh exits at once, its children are
# reparented to the container's PID 1.
dx "$C" sh -c 'for i in 1 2 3 4; do sleep 3 >/dev/null 2>&1 & done; exit 0' || die "docker exec failed"

# ps_lines CONTAINER: "pid ppid state comm" for every process (from /proc).
ps_lines() {
    docker exec "$1" sh -c 'for f in /proc/[0-9]*/stat; do
        s=$(cat "$f" 2>/dev/null) || continue
        comm=${s#*(}; comm=${comm%%)*}; rest=${s##*) }
        set -- $rest; echo "${f#/proc/}" "$2" "$1" "$comm"
    done' | sed 's|/stat||'
}
orphans=$(ps_lines "$C" | awk '$4 == "sleep" && $2 == 1' | wc -l)
log "sleep orphans reparented to PID 1: $orphans"
[ "$orphans" -ge 8 ] || { ps_lines "$C"; die "expected 8 sleep orphans with ppid 1, saw $orphans"; }

# no_zombies_left CONTAINER: no sleeps left and no Z-state process at all.
no_zombies_left() {
    _ps=$(ps_lines "$1") || return 1
    ! printf '%s\n' "$_ps" | awk '$3 == "Z" || $4 == "sleep" { found = 1 } END { exit !found }'
}
wait_for 15 "all orphans reaped (no Z-state process)" no_zombies_left "$C"
# And they stay reaped: nothing else in the container but ctlinit and demo.
ps_lines "$C" | awk '$3 == "Z" { print "zombie:", $0; bad = 1 } END { exit bad }' || die "zombies present"
is_state "$C" ready 1 || die "daemon no longer ready"
log "$(ps_lines "$C" | tr '\n' ';')"
pass
