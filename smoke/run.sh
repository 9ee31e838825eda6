#!/bin/sh
# smoke/run.sh — run the Docker smoke scenarios against a real engine.
#
#   smoke/run.sh                 all scenarios (smoke/[0-9]*.sh)
#   smoke/run.sh port-change     only the scenarios whose file name contains a word
#
# Starts dockerd if no engine answers (fails loudly if it cannot), builds the
# ctlinit-smoke image once (docker/build-smoke-context.sh; SMOKE_BUILD=0 to
# reuse an existing image), runs each scenario under a deadline
# (SMOKE_DEADLINE seconds, default 120), and ends with exactly one line
# `N passed, N failed` (`, N skipped` added when a scenario exited 77: the
# host cannot run it, e.g. no memory limits); the exit status is non-zero
# when any failed.
set -u

SMOKE_DIR=$(cd "$(dirname "$0")" && pwd)
SCENARIO=run
# shellcheck source=smoke/lib.sh
. "$SMOKE_DIR/lib.sh"
SMOKE_RUN_ID=$(date +%s)-$$
export SMOKE_RUN_ID SMOKE_IMAGE SMOKE_STATE
deadline=${SMOKE_DEADLINE:-120}

# No engine is a failure, never a skip; the summary line is printed regardless.
(engine_up) || { echo "0 passed, 1 failed"; exit 1; }
if [ "${SMOKE_BUILD:-1}" != 0 ]; then
    sh "$REPO_DIR/docker/build-smoke-context.sh" || { log "FAIL: cannot build the smoke image"; echo "0 passed, 1 failed"; exit 1; }
fi
image_up

passed=0 failed=0 skipped=0 failed_names='' skipped_names=''
for script in "$SMOKE_DIR"/[0-9]*.sh; do
    name=$(basename "$script" .sh)
    if [ $# -gt 0 ]; then
        want=no
        for w in "$@"; do case $name in *"$w"*) want=yes ;; esac; done
        [ $want = yes ] || continue
    fi
    echo "=== $name (deadline ${deadline}s)"
    t0=$(now_ms)
    # TERM at the deadline lets the scenario print logs and clean up; KILL 15 s later.
    SCENARIO=$name timeout -k 15 "$deadline" sh "$script"
    rc=$?
    secs=$(( ($(now_ms) - t0) / 1000 ))
    # Safety net: containers of this scenario left behind (e.g. after KILL).
    left=$(docker ps -aq --filter "label=ctlinit-smoke.run=$SMOKE_RUN_ID" --filter "label=ctlinit-smoke.scenario=$name")
    if [ -n "$left" ] && [ "${SMOKE_KEEP:-0}" != 1 ]; then
        # shellcheck disable=SC2086
        docker rm -f $left >/dev/null 2>&1
    fi
    if [ $rc -eq 0 ]; then
        passed=$((passed + 1))
        echo "=== $name: ok (${secs}s)"
    elif [ $rc -eq 77 ]; then
        skipped=$((skipped + 1))
        skipped_names="$skipped_names $name"
        echo "=== $name: SKIPPED (${secs}s)"
    else
        failed=$((failed + 1))
        failed_names="$failed_names $name"
        [ $rc -eq 124 ] || [ $rc -eq 137 ] && echo "=== $name: deadline of ${deadline}s reached"
        echo "=== $name: FAILED (exit $rc, ${secs}s)"
    fi
done
[ $failed -eq 0 ] || echo "failed:$failed_names"
if [ $skipped -eq 0 ]; then
    echo "$passed passed, $failed failed"
else
    echo "!!! skipped:$skipped_names (see SKIPPED above) !!!"
    echo "$passed passed, $failed failed, $skipped skipped"
fi
[ $failed -eq 0 ]
