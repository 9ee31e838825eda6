#!/bin/sh
# Builds the ctlinit-smoke image with no registry:
#   1. static release builds of ctlinit and examples/demo.rs (cargo),
#   2. a build context with them, a static busybox and a default demo.conf,
#   3. docker build -f docker/Dockerfile.smoke.
#
# Environment:
#   SMOKE_IMAGE    image tag                      (default ctlinit-smoke)
#   BUSYBOX        static busybox to copy          (default /bin/busybox, from busybox-static)
#   SMOKE_CONTEXT  directory for the context       (default target/smoke-context)
#   SMOKE_TARGET   Rust target triple              (default: rustc's host)
#   SMOKE_NO_CARGO=1  reuse the binaries already built for SMOKE_TARGET
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
image=${SMOKE_IMAGE:-ctlinit-smoke}
busybox=${BUSYBOX:-/bin/busybox}
context=${SMOKE_CONTEXT:-$repo/target/smoke-context}
target=${SMOKE_TARGET:-$(rustc -vV | sed -n 's/^host: //p')}
# Honour CARGO_TARGET_DIR like cargo does.
target_dir=${CARGO_TARGET_DIR:-$repo/target}
bin_dir=$target_dir/$target/release

say() { printf 'build-smoke-context: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# A FROM-scratch image has no libc: every binary in it must be static.
is_static() {
    # ldd says "not a dynamic executable" (static) or "statically linked"
    # (static-pie, what rustc's crt-static produces).
    case $(LC_ALL=C ldd "$1" 2>&1) in
        *"not a dynamic executable"* | *"statically linked"*) return 0 ;;
        *) return 1 ;;
    esac
}

if ! { [ -x "$busybox" ] && is_static "$busybox"; } && [ -z "${BUSYBOX:-}" ] \
    && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing busybox-static (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
        --no-install-recommends busybox-static >/dev/null 2>&1 || say "apt-get install busybox-static failed"
fi
[ -x "$busybox" ] || die "$busybox not found (apt-get install busybox-static)"
is_static "$busybox" || die "$busybox is dynamically linked (install busybox-static, not busybox)"

if [ "${SMOKE_NO_CARGO:-0}" != 1 ]; then
    say "cargo build --release --target $target --bin ctlinit --example demo (crt-static)"
    # A separate --target directory: this never invalidates the normal
    # target/debug or target/release builds.
    (cd "$repo" && RUSTFLAGS='-C target-feature=+crt-static' \
        cargo build --release --target "$target" --bin ctlinit --example demo) \
        || die "cargo build failed"
fi
for f in "$bin_dir/ctlinit" "$bin_dir/examples/demo"; do
    [ -x "$f" ] || die "$f missing"
    is_static "$f" || die "$f is not statically linked"
done

rm -rf "$context"
mkdir -p "$context"
cp "$repo/docker/Dockerfile.smoke" "$context/Dockerfile"
cp "$busybox" "$context/busybox"
cp "$bin_dir/ctlinit" "$context/ctlinit"
cp "$bin_dir/examples/demo" "$context/demo"
printf 'port=5199\nmessage=hello from the ctlinit smoke image\n' > "$context/demo.conf"

say "docker build -t $image $context"
# The classic builder is enough (and is all that Debian's docker.io 20.10 has
# without the buildx plugin); DOCKER_BUILDKIT is left to the caller.
# Its output (and the legacy builder's deprecation notice) is shown on failure only.
if ! out=$(docker build -t "$image" "$context" 2>&1); then
    printf '%s\n' "$out" >&2
    die "docker build failed"
fi
say "built $image ($(docker image inspect -f '{{.Size}}' "$image") bytes)"
