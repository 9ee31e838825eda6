#!/bin/sh
# Singleton: a second `ctlinit -- demo` run with docker exec in the same
# container is refused with exit 75 and the lock message; the running daemon
# keeps its pid and generation and nothing else was started.
# shellcheck source=smoke/lib.sh
. "$(dirname "$0")/lib.sh"
smoke_init

ctr_run main -- demo /etc/demo.conf
wait_ready "$C" 1
pid=$(st "$C" pid)
before=$(dx "$C" cat /run/ctlinit/daemon.pid) || die "no PID file"

out=$(dx "$C" ctlinit -- demo /etc/demo.conf 2>&1)
rc=$?
log "second ctlinit: exit $rc: $out"
assert_eq "$rc" 75 "exit status of the second ctlinit"
case $out in
    *"another ctlinit (pid 1) holds /run/ctlinit/ctlinit.lock"*) ;;
    *) die "lock message should be 'another ctlinit (pid 1) holds /run/ctlinit/ctlinit.lock', got: $out" ;;
esac

assert_eq "$(st "$C" pid)" "$pid" "daemon pid after the refused second instance"
assert_eq "$(st "$C" generation)" 1 "generation after the refused second instance"
after=$(dx "$C" cat /run/ctlinit/daemon.pid) || die "PID file gone after the second instance"
# The PID file is the same object (only the refused instance could have changed it).
assert_eq "$after" "$before" "PID file content"
n=$(dx "$C" sh -c 'for d in /proc/[0-9]*; do tr "\0" " " <$d/cmdline 2>/dev/null; echo; done' | grep -c '^demo /etc/demo.conf')
assert_eq "$n" 1 "number of demo processes"
probe "$C" 5199 >/dev/null || die "daemon stopped answering"
pass
