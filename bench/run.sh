#!/usr/bin/env bash
# ctlinit benchmark suite — one command:
#
#   bench/run.sh            full run (~5-6 min): table on stdout, JSON in
#                           bench/results/ (latest.json + full-DATE.json), the
#                           README's table in bench/results/README-table.md, the
#                           size breakdown in bench/results/size.md, and
#                           bench/RESULTS.md + bench/ratios.svg
#   bench/run.sh --quick    smoke mode (< 1 min): few iterations, 2000 orphans,
#                           no size breakdown; exits 0 when the script works,
#                           even if targets are missed
#
# Figures (one interleaved run; ratios to tini / tini-static / runsv):
#   startup, size (+ bloat: size breakdown), idle RSS and wake-ups,
#   signal forwarding p50 and p99 in two arrangements — each init in its own
#     session on the host, and all processes (sender, init, daemon) in ONE cpu
#     cgroup as inside a container (the bench moves itself into a temporary
#     child cgroup of the cpu controller, then back, and removes it),
#   reaping (PID 1), stop latency (PID 1; ctlinit's PID file + lock on tmpfs =
#     the target row, and on the disk file system with unlink(2) timed there),
#   restart gap (ctlinit, supervisord, runsv, s6, Docker), watchdog restart
#     gap (--ready notify --watchdog 200ms: missed deadline -> next ready),
#   drain accuracy (--stop-delay 300ms: measured delay - 300 ms), port handoff.
#
# Other options (passed to bench/bench.py): --only startup,size,idle,signal,
# reap,stop,restart,watchdog,drain,handoff,bloat  --readme (also print the
# README table)  --no-docker  --keep (keep the temp dir)  -v.
# CTLINIT_BIN=path skips the cargo build and measures that binary instead (the
# size breakdown still builds the source tree, into target/bench-symbols).
#
# Needs root (unshare --pid for the PID-1 figures, a cpu cgroup for the
# container arrangement), gcc with static glibc, python3 (3.11, stdlib only),
# and the peers from Debian; missing peers are installed with apt-get
# (waiting for, never racing, another apt). A full run installs cargo-bloat
# (crates.io) if missing; without it the breakdown falls back to nm.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'bench: %s\n' "$*" >&2; }

# ---- peers: command -> Debian package
declare -A pkg=(
    [tini]=tini [tini-static]=tini [dumb-init]=dumb-init [catatonit]=catatonit
    [supervisord]=supervisor [runsv]=runit [s6-supervise]=s6 [unshare]=util-linux
    [gcc]=gcc [strip]=binutils [file]=file [python3]=python3
)
missing=()
for cmd in "${!pkg[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("${pkg[$cmd]}")
done
if [ ! -e /usr/lib/x86_64-linux-gnu/libc.a ] && [ ! -e /usr/lib/libc.a ]; then
    missing+=(libc6-dev)
fi
if [ ${#missing[@]} -gt 0 ]; then
    mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
    say "installing missing peers/tools: ${missing[*]}"
    # DPkg::Lock::Timeout: wait for another apt/dpkg to finish instead of racing it
    apt_install() {
        DEBIAN_FRONTEND=noninteractive timeout 900 apt-get -o DPkg::Lock::Timeout=600 \
            install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    }
    if ! apt_install; then
        timeout 900 apt-get -o DPkg::Lock::Timeout=600 update -qq
        apt_install
    fi
fi

# ---- ctlinit: the static release binary
if [ -n "${CTLINIT_BIN:-}" ]; then
    bin=$CTLINIT_BIN
else
    # The release artefact: static musl, non-PIE (flags in .cargo/config.toml).
    if rustup target add x86_64-unknown-linux-musl >/dev/null 2>&1; then
        say "building the static release binary (musl)"
        timeout 1800 cargo build -q --release --target x86_64-unknown-linux-musl --bin ctlinit
        bin=target/x86_64-unknown-linux-musl/release/ctlinit
    else
        say "!!! musl target unavailable: measuring the static glibc build instead (larger, slower start) !!!"
        RUSTFLAGS='-C target-feature=+crt-static' timeout 1800 \
            cargo build -q --release --target x86_64-unknown-linux-gnu --bin ctlinit
        bin=target/x86_64-unknown-linux-gnu/release/ctlinit
    fi
fi
[ -x "$bin" ] || { say "no ctlinit binary at $bin"; exit 1; }
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

# ---- cargo-bloat, for the size breakdown (full runs, or --only ...bloat...)
want_bloat=1
case " $* " in *" --quick "* | *" --only "* | *" --only="*) want_bloat=0 ;; esac
case " $* " in *bloat*) want_bloat=1 ;; esac
if [ "$want_bloat" = 1 ] && ! command -v cargo-bloat >/dev/null 2>&1; then
    say "installing cargo-bloat for the size breakdown (falls back to nm if this fails)"
    timeout 900 cargo install -q --locked cargo-bloat >/dev/null 2>&1 || say "cargo-bloat: install failed"
fi

# The whole run is bounded too: quick < 3 min, full well under 30 min.
limit=1800
for a in "$@"; do [ "$a" = --quick ] && limit=600; done
exec timeout -k 20 "$limit" python3 bench/bench.py --ctlinit "$bin" "$@"
