#!/bin/sh
# Health: the image's HEALTHCHECK (`ctlinit health`) makes `docker inspect`
# report healthy once the daemon is ready, and unhealthy when it never is.
# shellcheck source=smoke/lib.sh
. "$(dirname "$0")/lib.sh"
smoke_init

CTR_OPTS="--network none --health-interval 1s --health-timeout 3s --health-retries 2"
ctr_run ready --port 5199 -- demo /etc/demo.conf
H=$C
# Never ready: --port 5300 while the daemon listens on 5199.
ctr_run notready --port 5300 --ready-timeout 120s -- demo /etc/demo.conf
N=$C

is_healthy() { [ "$(health "$1")" = healthy ]; }
is_unhealthy() { [ "$(health "$1")" = unhealthy ]; }
wait_for 30 "$H healthy in docker inspect" is_healthy "$H"
out=$(dx "$H" ctlinit health)
rc=$?
assert_eq "$rc" 0 "ctlinit health exit status when ready"
[ -n "$out" ] || die "ctlinit health printed nothing"
log "ready: health=$(health "$H"), ctlinit health: $out"

wait_for 30 "$N unhealthy in docker inspect" is_unhealthy "$N"
out=$(dx "$N" ctlinit health)
rc=$?
assert_eq "$rc" 1 "ctlinit health exit status while starting"
assert_eq "$(state "$N")" starting "state of the never-ready daemon"
log "not ready: health=$(health "$N"), ctlinit health: $out"
pass
