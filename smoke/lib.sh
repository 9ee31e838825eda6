# smoke/lib.sh — shared helpers for the Docker smoke scenarios (POSIX sh).
#
# A scenario script does:
#     . "$(dirname "$0")/lib.sh"
#     smoke_init                       # engine up, image present, cleanup trap
#     c=$(ctr_run main -- demo)        # a container of this run
#     ...assertions; `die MSG` fails (printing the container logs)...
#     pass                             # or `skip REASON` when the host cannot run it
#
# Every container gets the labels ctlinit-smoke.run=$SMOKE_RUN_ID and
# ctlinit-smoke.scenario=$SCENARIO and is recorded in a per-scenario list;
# cleanup removes exactly the recorded containers, nothing else.
#
# Environment:
#   SMOKE_IMAGE      image to test (default ctlinit-smoke)
#   SMOKE_RUN_ID     id shared by all scenarios of one smoke/run.sh
#   SMOKE_STATE      directory for dockerd's log when we start it
#   SMOKE_KEEP=1     keep containers after the scenario (debugging)
#   SMOKE_BUILD=0    never build the image, fail if it is missing
#   CTR_OPTS         extra `docker run` options for the next ctr_create/ctr_run
#                    (word-split; default --network none)

set -u

SMOKE_DIR=$(cd "$(dirname "$0")" && pwd)
REPO_DIR=$(cd "$SMOKE_DIR/.." && pwd)
SMOKE_IMAGE=${SMOKE_IMAGE:-ctlinit-smoke}
SMOKE_RUN_ID=${SMOKE_RUN_ID:-$(date +%s)-$$}
SMOKE_STATE=${SMOKE_STATE:-${TMPDIR:-/tmp}/ctlinit-smoke}
SCENARIO=${SCENARIO:-$(basename "$0" .sh)}
CTR_OPTS=${CTR_OPTS:---network none}
_SMOKE_CTRS=

log() { printf '[%s] %s\n' "$SCENARIO" "$*"; }

# die MSG: report the failure with every recorded container's logs, exit 1.
die() {
    log "FAIL: $*"
    # A scenario may define on_fail to print more evidence (e.g. a process table).
    if command -v on_fail >/dev/null 2>&1; then on_fail; fi
    dump_logs
    exit 1
}

pass() {
    log "PASS"
    exit 0
}

# skip REASON: the host cannot run this scenario (never for a ctlinit failure):
# says SKIPPED loudly and exits 77, which smoke/run.sh counts as skipped.
skip() {
    log "!!! SKIPPED: $* !!!"
    exit 77
}

dump_logs() {
    for c in $_SMOKE_CTRS; do
        echo "----- $c: $(docker inspect -f 'status={{.State.Status}} exit={{.State.ExitCode}} restarts={{.RestartCount}}' "$c" 2>&1)"
        echo "----- docker logs $c (last 80 lines)"
        docker logs --tail 80 "$c" 2>&1 | sed 's/^/  | /'
    done
    echo "-----"
}

cleanup() {
    [ "${SMOKE_KEEP:-0}" = 1 ] && { log "keeping containers: $_SMOKE_CTRS"; return; }
    for c in $_SMOKE_CTRS; do
        docker rm -f "$c" >/dev/null 2>&1
    done
    _SMOKE_CTRS=
}

# ---- engine and image --------------------------------------------------------

# apt_install PKG...: install Debian packages the suite needs when they are
# missing (as root, on Debian/Ubuntu); waits for another apt instead of
# racing it. Says loudly what it does; a failure is left to the caller's check.
apt_install() {
    command -v apt-get >/dev/null 2>&1 || { log "cannot install $*: no apt-get here"; return 1; }
    [ "$(id -u)" = 0 ] || { log "cannot install $*: not root"; return 1; }
    log "installing $* (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
        --no-install-recommends "$@" >/dev/null 2>&1 || log "apt-get install $* failed"
}

# engine_up: use a running engine, or start dockerd (no bridge, no iptables:
# containers use --network none) and wait up to 60 s for it. Fails loudly.
engine_up() {
    docker info >/dev/null 2>&1 && return 0
    command -v dockerd >/dev/null 2>&1 || apt_install docker.io
    command -v dockerd >/dev/null 2>&1 || { log "FAIL: no Docker engine answers and dockerd is not installed"; exit 1; }
    mkdir -p "$SMOKE_STATE"
    log "starting dockerd --bridge=none --iptables=false (log: $SMOKE_STATE/dockerd.log)"
    # setsid: the engine outlives this script (it is shared by all scenarios
    # and later runs); it is not one of the things a scenario cleans up.
    setsid dockerd --bridge=none --iptables=false >"$SMOKE_STATE/dockerd.log" 2>&1 </dev/null &
    i=0
    while [ $i -lt 300 ]; do
        docker info >/dev/null 2>&1 && { log "dockerd is up"; return 0; }
        if ! kill -0 $! 2>/dev/null; then
            break
        fi
        sleep 0.2
        i=$((i + 1))
    done
    log "FAIL: dockerd did not come up; last lines of $SMOKE_STATE/dockerd.log:"
    tail -n 30 "$SMOKE_STATE/dockerd.log" | sed 's/^/  | /'
    exit 1
}

image_up() {
    docker image inspect "$SMOKE_IMAGE" >/dev/null 2>&1 && return 0
    [ "${SMOKE_BUILD:-1}" = 0 ] && { log "FAIL: image $SMOKE_IMAGE missing and SMOKE_BUILD=0"; exit 1; }
    SMOKE_IMAGE=$SMOKE_IMAGE sh "$REPO_DIR/docker/build-smoke-context.sh" || { log "FAIL: cannot build $SMOKE_IMAGE"; exit 1; }
}

smoke_init() {
    trap cleanup EXIT
    # A deadline (smoke/run.sh uses timeout(1)) sends TERM: show the logs first.
    trap 'log "FAIL: interrupted (deadline?)"; dump_logs; exit 124' TERM INT HUP
    engine_up
    image_up
}

# ---- containers --------------------------------------------------------------

# ctr_create SUFFIX [CTLINIT-ARGS...]: create (not start) a container of this
# scenario running the image's ctlinit with CTLINIT-ARGS; prints its name.
# Options for `docker run` come from $CTR_OPTS. Health checks are off unless
# CTR_OPTS mentions --health.
ctr_create() {
    _name=ctlinit-smoke-$SMOKE_RUN_ID-$SCENARIO-$1
    shift
    _hc=--no-healthcheck
    case " $CTR_OPTS " in *" --health"*) _hc= ;; esac
    # shellcheck disable=SC2086 # CTR_OPTS is word-split on purpose
    docker create --name "$_name" \
        --label "ctlinit-smoke.run=$SMOKE_RUN_ID" --label "ctlinit-smoke.scenario=$SCENARIO" \
        $_hc $CTR_OPTS "$SMOKE_IMAGE" "$@" >/dev/null || die "docker create $_name failed"
    echo "$_name"
}

# Record a container for cleanup. Must run in the scenario's shell (not in a
# $(...) subshell): ctr_run/ctr_create print the name, the caller records it.
track() { _SMOKE_CTRS="$_SMOKE_CTRS $1"; }

# ctr_run SUFFIX [CTLINIT-ARGS...]: create + start; sets $C to the name.
# (Called directly, not in $(...), so the container is tracked.)
ctr_run() {
    C=$(ctr_create "$@") || die "cannot create container $1"
    track "$C"
    docker start "$C" >/dev/null || die "docker start $C failed"
}

# ctr_new SUFFIX [CTLINIT-ARGS...]: create only (for docker cp before start); sets $C.
ctr_new() {
    C=$(ctr_create "$@") || die "cannot create container $1"
    track "$C"
}

# put_file CONTAINER PATH CONTENT: write CONTENT (printf %s) to PATH in a
# created or running container.
put_file() {
    _f=$(mktemp "${TMPDIR:-/tmp}/ctlinit-smoke-file.XXXXXX")
    printf '%s' "$3" >"$_f"
    chmod 644 "$_f"
    docker cp "$_f" "$1:$2" >/dev/null || { rm -f "$_f"; die "docker cp to $1:$2 failed"; }
    rm -f "$_f"
}

dx() { docker exec "$@"; }

running() { [ "$(docker inspect -f '{{.State.Running}}' "$1" 2>/dev/null)" = true ]; }
exited() { [ "$(docker inspect -f '{{.State.Status}}' "$1" 2>/dev/null)" = exited ]; }
exit_code() { docker inspect -f '{{.State.ExitCode}}' "$1"; }
restart_count() { docker inspect -f '{{.RestartCount}}' "$1"; }
started_at() { docker inspect -f '{{.State.StartedAt}}' "$1"; }
health() { docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$1"; }
logs() { docker logs "$1" 2>&1; }

# summary CONTAINER: ctlinit's final summary line, if printed.
summary() { logs "$1" | grep '^ctlinit: exit status=' | tail -n 1; }
# last_line CONTAINER: the container's last log line (stdout and stderr).
last_line() { logs "$1" | tail -n 1; }

# log_ms CONTAINER PATTERN: Docker's receive time (Unix ms) of the first log
# line matching grep -E PATTERN; empty when there is none.
log_ms() {
    _ts=$(docker logs -t "$1" 2>&1 | grep -E -- "^[^ ]+ ($2)" | head -n 1 | cut -d' ' -f1)
    [ -n "$_ts" ] && echo $(($(date -d "$_ts" +%s%N) / 1000000))
}

# probe CONTAINER PORT: the demo's one-line reply on 127.0.0.1:PORT (exit 1 if refused).
probe() { docker exec "$1" demo --probe "$2" 2>&1; }

# ---- ctlinit status --json ---------------------------------------------------

# status_json CONTAINER: `ctlinit status --json` inside the container.
status_json() { docker exec "$1" ctlinit status --json 2>/dev/null; }

# json_num KEY / json_str KEY: first value of "KEY" in the JSON on stdin
# (compact or spaced; empty when missing or null).
json_num() { sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\\(-\\{0,1\\}[0-9][0-9]*\\).*/\\1/p" | head -n 1; }
json_str() { sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\\([^\"]*\\)\".*/\\1/p" | head -n 1; }

# st CONTAINER KEY: a numeric field of the status (e.g. generation, pid, exits).
st() { status_json "$1" | json_num "$2"; }
# state CONTAINER: the status' "state" (empty when status fails).
state() { status_json "$1" | json_str state; }

# ---- waiting and asserting ---------------------------------------------------

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# wait_for SECONDS DESCRIPTION COMMAND...: poll COMMAND (every 0.2 s) until it
# succeeds; die after SECONDS.
wait_for() {
    _secs=$1 _desc=$2
    shift 2
    _end=$(($(now_ms) + _secs * 1000))
    while :; do
        "$@" >/dev/null 2>&1 && return 0
        [ "$(now_ms)" -ge "$_end" ] && die "timed out after ${_secs}s waiting for: $_desc"
        sleep 0.2
    done
}

# is_state CONTAINER STATE [GENERATION]
is_state() {
    _j=$(status_json "$1") || return 1
    [ "$(printf '%s' "$_j" | json_str state)" = "$2" ] || return 1
    [ $# -lt 3 ] || [ "$(printf '%s' "$_j" | json_num generation)" = "$3" ]
}

# wait_ready CONTAINER [GENERATION [SECONDS]]
wait_ready() {
    if [ $# -ge 2 ]; then
        wait_for "${3:-20}" "$1 generation $2 ready" is_state "$1" ready "$2"
    else
        wait_for 20 "$1 ready" is_state "$1" ready
    fi
}

wait_exited() { wait_for "$2" "$1 to exit" exited "$1"; }

assert_eq() { [ "$1" = "$2" ] || die "$3: expected '$2', got '$1'"; }

# assert_log CONTAINER PATTERN DESCRIPTION: grep -E PATTERN in docker logs.
assert_log() { logs "$1" | grep -Eq -- "$2" || die "$3: no log line matching /$2/"; }
