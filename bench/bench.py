#!/usr/bin/env python3
"""ctlinit benchmark suite: ctlinit side by side with tini, tini-static,
dumb-init, catatonit, supervisord, runsv (runit), s6-supervise (s6) and
Docker's restart policy.

Run it through bench/run.sh (which installs missing peers and builds the
static ctlinit). Python 3.11 standard library only.

Every figure is measured for all tools in the same run, interleaved
(A B C A B C ...) or concurrently in one time window, so that only ratios
from one run are compared: the machine is shared and noisy.

Outputs: a markdown table on stdout, JSON in bench/results/latest.json (a
full run also keeps bench/results/full-DATE.json), an SVG bar chart of the
ratios in bench/results/ratios.svg, the README's table with the machine and
arrangement of every number in bench/results/README-table.md (--readme
prints it too), and the size breakdown in bench/results/size.md; a full run
(not --quick) also writes bench/RESULTS.md and bench/ratios.svg.
"""

import argparse
import ctypes
import datetime
import json
import os
import platform
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
RESULTS = os.path.join(BENCH, "results")

QUICK = dict(
    startup_rounds=30, idle_windows=1, idle_secs=5.0, sig_rounds=200, sig_blocks=1,
    orphans=2000, wave=1000, reap_rounds=1, stop_rounds=6,
    restart_gaps=10, ctl_gaps=60, doubling_gaps=7, docker_gaps=3,
    handoff_rounds=6, restart_deadline=40.0,
    wdog_gaps=5, drain_rounds=4,
)
FULL = dict(
    startup_rounds=500, idle_windows=3, idle_secs=5.0, sig_rounds=1000, sig_blocks=2,
    orphans=20000, wave=5000, reap_rounds=15, stop_rounds=60,
    restart_gaps=12, ctl_gaps=300, doubling_gaps=9, docker_gaps=7,
    handoff_rounds=60, restart_deadline=90.0,
    wdog_gaps=30, drain_rounds=20,
)

# The watchdog and drain figures (issue 13): what ctlinit is given.
WDOG_MS = 200           # --watchdog 200ms
WDOG_KEEPALIVES = 3     # the daemon sends WATCHDOG=1 three times ...
WDOG_INTERVAL_MS = 50   # ... 50 ms apart, then goes silent
DRAIN_MS = 300          # --stop-delay 300ms

# Targets from issue 12 (ratios to tini unless said otherwise). "no
# regression" = the bar of issue 5, which these figures met, still holds;
# BASELINE shows what the last committed full run measured.
TARGETS = {
    "startup": "no regression (≤ 0.84× tini)",
    "size": "≤ tini-static (691 KiB)",
    "rss": "no regression (≤ tini)",
    "idle_ticks": "no regression (0)",
    "idle_csw": "no regression (0)",
    "idle_csw_opts": "no regression (0)",
    "signal_p50": "≤ fastest of tini / dumb-init / catatonit",
    "signal_p99": "≤ 1.05× tini",
    "signal_p50_cg": "≤ fastest of tini / dumb-init / catatonit",
    "signal_p99_cg": "≤ 1.05× tini",
    "reap": "no regression (≤ tini)",
    "zombies": "0",
    "stop": "≤ 0.92× tini",
    "stop_disk": "reported",
    "restart": "no regression (≤ backoff + 2 ms = 12 ms)",
    "restart_doubling": "no regression (≤ 2 ms over the backoff)",
    "watchdog": "reported (issue 13)",
    "drain": "reported (issue 13)",
    "handoff": "no regression (≤ 25 ms)",
    "sup_rss": "no regression (≤ runsv)",
}

# ctlinit in the last committed full run (bench/RESULTS.md of d9c1f70,
# 2026-11-23): ratio to the row's reference, or the value where there is none.
BASELINE_REV = "d9c1f70"
BASELINE = {
    "startup": "0.79× tini", "size": "632 KiB", "rss": "0.48× tini", "idle_ticks": "0",
    "idle_csw": "0", "idle_csw_opts": "0", "signal_p50": "1.32× tini", "reap": "1.00× tini",
    "zombies": "0", "stop": "1.14× tini", "stop_disk": "1.07× tini",
    "restart": "11.4 ms", "restart_doubling": "1.75 ms", "sup_rss": "0.46× runsv",
    "handoff": "1.62 ms",
}

PHASES = ["startup", "size", "idle", "signal", "reap", "stop", "restart", "watchdog", "drain", "handoff",
          "bloat"]

HELPERS = ["echo", "termchild", "crashloop", "portd", "storm", "spawnloop", "sigrtt", "wdog"]

PROCS = []          # every Popen we started, for cleanup
CONTAINERS = []     # docker containers we started
IMAGES = []         # docker images we created
SHM = []            # our directories on /dev/shm
CGROUPS = []        # cpu cgroups we created (CpuCgroup), removed at cleanup
TMP = None
VERBOSE = False


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def vlog(msg):
    if VERBOSE:
        log(msg)


class BenchError(Exception):
    pass


# ---------------------------------------------------------------- processes

def set_subreaper():
    """Orphans of what we start are reparented to us, so cleanup can find
    (and reap) every process this run created, by PID."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except OSError:
        pass


def our_children():
    pids = set()
    try:
        for t in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{t}/children") as f:
                    pids.update(int(x) for x in f.read().split())
            except OSError:
                pass
    except OSError:
        pass
    return pids


def children_of(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def reap_strays(kill=False):
    """Reap (and with kill=True first SIGKILL) processes reparented to us
    that are not one of our tracked, still running Popen objects."""
    tracked = {p.pid for p in PROCS if p.returncode is None}
    for pid in our_children() - tracked:
        if kill:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            os.waitpid(pid, 0 if kill else os.WNOHANG)
        except ChildProcessError:
            pass


def spawn(argv, name, *, stdout=None, env=None, cwd=None):
    errpath = os.path.join(TMP, "logs", f"{name}.stderr")
    err = open(errpath, "ab")
    out = err if stdout is None else stdout
    vlog("start " + " ".join(argv))
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                         start_new_session=True, env=env, cwd=cwd)
    err.close()
    p.bench_name = name
    p.errpath = errpath
    PROCS.append(p)
    return p


def stderr_tail(p, n=8):
    try:
        with open(p.errpath, "rb") as f:
            lines = f.read().decode(errors="replace").splitlines()
        return "\n".join("    | " + line for line in lines[-n:])
    except (OSError, AttributeError):
        return ""


def stop(p, sig=signal.SIGTERM, timeout=10.0):
    """Signal one process we started (by its PID, only if not yet reaped) and
    wait for it, SIGKILL after timeout. Returns its exit code."""
    if p.poll() is None:
        try:
            p.send_signal(sig)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            log(f"{p.bench_name} (pid {p.pid}) ignored signal {sig} for {timeout}s: SIGKILL")
            p.kill()
            p.wait(10)
    reap_strays()
    return p.returncode


def cleanup():
    for p in PROCS:
        if p.returncode is None and p.poll() is None:
            try:
                p.kill()
                p.wait(5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
    reap_strays(kill=True)
    for c in CONTAINERS:
        run(["docker", "rm", "-f", c], timeout=60, check=False)
    CONTAINERS.clear()
    for i in IMAGES:
        run(["docker", "rmi", "-f", i], timeout=60, check=False)
    IMAGES.clear()
    for d in SHM:
        shutil.rmtree(d, ignore_errors=True)
    for cg in list(CGROUPS):
        cg.leave()


def run(argv, timeout, check=True, **kw):
    vlog("run " + " ".join(argv))
    try:
        r = subprocess.run(argv, timeout=timeout, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, **kw)
    except subprocess.TimeoutExpired:
        if check:
            raise BenchError(f"timed out after {timeout}s: {' '.join(argv)}")
        return None
    except FileNotFoundError:
        if check:
            raise BenchError(f"not found: {argv[0]}")
        return None
    if check and r.returncode != 0:
        raise BenchError(f"{' '.join(argv)} exited {r.returncode}: {r.stderr.strip()[-500:]}")
    return r


def wait_until(cond, timeout, step=0.005, what="condition"):
    end = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > end:
            raise BenchError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(step)


class Fifo:
    """Read end of a FIFO a helper writes its ready/echo bytes to."""

    def __init__(self, path):
        os.mkfifo(path, 0o600)
        self.path = path
        self.fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        self.poller = select.poll()
        self.poller.register(self.fd, select.POLLIN)

    def read1(self, timeout):
        """One byte, or None on timeout, b'' when the writer went away."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return None
            if not self.poller.poll(left * 1000):
                return None
            try:
                return os.read(self.fd, 1)
            except BlockingIOError:
                continue

    def close(self):
        os.close(self.fd)


# ------------------------------------------------------------- /proc reading

def proc_stat(pid):
    """(utime+stime ticks, voluntary+nonvoluntary ctx switches, VmRSS KiB)"""
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    fields = s[s.rindex(")") + 2:].split()
    ticks = int(fields[11]) + int(fields[12])
    csw = 0
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                csw += int(line.split()[1])
            elif line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return ticks, csw, rss


def vmrss(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def pct(xs, q):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    k = (len(xs) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


# ------------------------------------------------------------------- setup

def build_helpers(bindir):
    hdir = os.path.join(BENCH, "helpers")
    for h in HELPERS:
        src = os.path.join(hdir, h + ".c")
        out = os.path.join(bindir, h)
        # static: no dynamic loader in the measured paths, and the
        # crash-looper must run in a FROM scratch image
        r = run(["gcc", "-O2", "-Wall", "-static", "-o", out, src], timeout=120, check=False)
        if r is None or r.returncode != 0:
            r2 = run(["gcc", "-O2", "-Wall", "-o", out, src], timeout=120, check=False)
            if r2 is None or r2.returncode != 0:
                raise BenchError(f"cannot compile {src}: {(r or r2).stderr if (r or r2) else 'timeout'}")
            if h == "crashloop":
                log("warning: static glibc not available, crashloop is dynamic (Docker figure skipped)")
    return {h: os.path.join(bindir, h) for h in HELPERS}


def tool_paths():
    names = ["tini", "tini-static", "dumb-init", "catatonit", "supervisord",
             "runsv", "s6-supervise", "unshare"]
    paths = {}
    for n in names:
        p = shutil.which(n)
        if not p:
            raise BenchError(f"{n} not found (bench/run.sh installs the peers with apt-get)")
        paths[n] = p
    return paths


def machine_info():
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    versions = {}
    r = run(["dpkg-query", "-W", "-f", "${Package} ${Version}\n", "tini", "dumb-init", "catatonit",
             "supervisor", "runit", "s6"], timeout=30, check=False)
    if r is not None:
        for line in r.stdout.splitlines():
            parts = line.split()
            if len(parts) == 2:
                versions[parts[0]] = parts[1]
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "kernel": platform.release(),
        "loadavg_start": os.getloadavg(),
        "peer_versions": versions,
    }


def git_rev():
    r = run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], timeout=20, check=False)
    rev = r.stdout.strip() if r is not None and r.returncode == 0 else "unknown"
    r = run(["git", "-C", ROOT, "status", "--porcelain", "--", "src", "Cargo.toml", "Cargo.lock"],
            timeout=20, check=False)
    if r is not None and r.returncode == 0 and r.stdout.strip():
        rev += "+dirty"
    return rev


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def read_pidfile(path):
    try:
        with open(path) as f:
            return json.loads(f.read())
    except (OSError, ValueError):
        return None


def fs_type(path):
    """(file system type, mount point) of the mount that holds path."""
    path = os.path.realpath(path)
    best = ("unknown", "/")
    blen = -1
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                pre, _, post = line.partition(" - ")
                mnt = pre.split()[4].replace("\\040", " ")
                if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= blen:
                    best = (post.split()[0], mnt)
                    blen = len(mnt)
    except (OSError, IndexError):
        pass
    return best


def time_pidfile_io(d, n=5, size=160):
    """Timings (µs) of the PID file operations ctlinit does on its way out,
    on small files in d put there as ctlinit puts its PID file (a ~160-byte
    JSON line written to a temp file, closed, renamed over the path, no
    fsync). At exit ctlinit writes its last record (temp file + rename over
    the existing file) and then unlinks it; on ext4 a rename over an
    existing file starts writeback of the new data (auto_da_alloc), which
    the unlink right after it may wait for. n of each: "replace" = that
    last write + rename, "unlink" = the unlink(2) right after it (ctlinit's
    exit), "unlink_plain" = unlink(2) of a file written once, not replaced."""
    out = {"replace": [], "unlink": [], "unlink_plain": []}
    data = b"x" * (size - 1) + b"\n"

    def put(path, tmp):
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        os.write(fd, data)
        os.close(fd)
        os.rename(tmp, path)
    for i in range(n):
        path = os.path.join(d, f"probe{i}.pid")
        tmp = os.path.join(d, f".probe{i}.pid.tmp")
        put(path, tmp)
        t0 = time.perf_counter_ns()
        put(path, tmp)
        t1 = time.perf_counter_ns()
        os.unlink(path)
        t2 = time.perf_counter_ns()
        out["replace"].append((t1 - t0) / 1e3)
        out["unlink"].append((t2 - t1) / 1e3)
        put(path, tmp)
        t0 = time.perf_counter_ns()
        os.unlink(path)
        out["unlink_plain"].append((time.perf_counter_ns() - t0) / 1e3)
    return out


def cpu_cgroup_of(pid):
    """pid's cgroup in the cpu hierarchy (v1), or its v2 cgroup."""
    try:
        with open(f"/proc/{pid}/cgroup") as f:
            lines = [line.rstrip("\n").split(":", 2) for line in f]
    except OSError:
        return None
    for _, ctrls, cg in lines:
        if "cpu" in ctrls.split(","):
            return cg
    return next((cg for _, ctrls, cg in lines if ctrls == ""), None)


def autogroup_of(pid):
    try:
        with open(f"/proc/{pid}/autogroup") as f:
            return f.read().split()[0]
    except (OSError, IndexError):
        return None


class CpuCgroup:
    """A child cgroup under the cpu controller, for the "as inside a
    container" arrangement: the measuring process moves into it, so every
    process it then starts (sender, init, daemon) is in ONE cpu cgroup (and,
    off the root cgroup, the kernel's session autogroups no longer apply).
    cgroup v1 (`cpu` hierarchy) or v2 (the unified root with cpu enabled)."""

    def __init__(self):
        self.path = None
        self.home = None
        self.mnt = self.root = None
        self.version = None
        self.why = None
        mounts = []
        with open("/proc/self/mountinfo") as f:
            for line in f:
                pre, _, post = line.partition(" - ")
                pf, sf = pre.split(), post.split()
                if len(pf) < 5 or len(sf) < 3:
                    continue
                mounts.append((sf[0], pf[3], pf[4], set(sf[2].split(","))))
        mine = {}
        with open("/proc/self/cgroup") as f:
            for line in f:
                hid, ctrls, cg = line.rstrip("\n").split(":", 2)
                mine[ctrls] = cg
        for fstype, root, mnt, opts in mounts:
            if fstype == "cgroup" and "cpu" in opts:
                key = next((k for k in mine if "cpu" in k.split(",")), None)
                if key is None:
                    continue
                cur = mine[key]
                rel = cur[len(root):] if root != "/" and cur.startswith(root) else cur
                self.version = 1
                self.mnt, self.root = mnt, root
                self.home = os.path.normpath(mnt + "/" + rel)
                break
        if self.home is None:
            for fstype, root, mnt, opts in mounts:
                if fstype == "cgroup2":
                    try:
                        with open(os.path.join(mnt, "cgroup.subtree_control")) as f:
                            if "cpu" in f.read().split():
                                cur = mine.get("", "/")
                                rel = cur[len(root):] if root != "/" and cur.startswith(root) else cur
                                self.version = 2
                                self.mnt, self.root = mnt, root
                                self.home = os.path.normpath(mnt + "/" + rel)
                    except OSError:
                        pass
                    break
        if self.home is None:
            self.why = "no cpu cgroup controller is mounted (see /proc/self/mountinfo)"

    def enter(self):
        """Create the cgroup and move this process into it."""
        if self.home is None:
            raise BenchError(f"cpu cgroup: {self.why}")
        path = os.path.join(self.home, f"ctlinit-bench.{os.getpid()}")
        os.mkdir(path)
        self.path = path
        CGROUPS.append(self)
        with open(os.path.join(path, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))
        vlog(f"moved into {path}")

    def relpath(self):
        """The path /proc/PID/cgroup shows for a member."""
        return os.path.normpath(os.path.join(self.root, os.path.relpath(self.path, self.mnt)))

    def members(self):
        try:
            with open(os.path.join(self.path, "cgroup.procs")) as f:
                return [int(x) for x in f.read().split()]
        except OSError:
            return []

    def leave(self):
        """Move this process (and any straggler) back home, remove the cgroup."""
        if self.path is None:
            return
        for pid in [os.getpid()] + [p for p in self.members() if p != os.getpid()]:
            try:
                with open(os.path.join(self.home, "cgroup.procs"), "w") as f:
                    f.write(str(pid))
            except OSError as e:
                log(f"cpu cgroup: cannot move {pid} back to {self.home}: {e}")
        for _ in range(50):
            try:
                os.rmdir(self.path)
                break
            except OSError:
                time.sleep(0.02)
        else:
            log(f"cpu cgroup: could not remove {self.path}")
        if self in CGROUPS:
            CGROUPS.remove(self)
        self.path = None


# ------------------------------------------------------------ measurements

class Bench:
    def __init__(self, args, cfg, tools, helpers, ctlinit):
        self.args = args
        self.cfg = cfg
        self.t = tools
        self.h = helpers
        self.ctl = ctlinit
        self.res = {}
        self.n = 0
        self.shm = None
        if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
            self.shm = tempfile.mkdtemp(prefix="ctlinit-bench.", dir="/dev/shm")
            SHM.append(self.shm)

    def shmdir(self, name):
        """A directory on tmpfs, for the diagnostic "PID file on tmpfs" runs."""
        self.n += 1
        d = os.path.join(self.shm, f"{name}.{self.n}")
        os.makedirs(d)
        return d

    def tmpdir(self, name):
        self.n += 1
        d = os.path.join(TMP, f"{name}.{self.n}")
        os.makedirs(d)
        return d

    def ctl_prefix(self, d=None, extra=()):
        d = d or self.tmpdir("ctlinit")
        return [self.ctl, "--pidfile", os.path.join(d, "daemon.pid"), *extra, "--"]

    def inits_host(self):
        """init command prefixes, outside a PID namespace (subreaper mode
        where the init supports it, as ctlinit is automatically)."""
        t = self.t
        return [
            ("ctlinit", self.ctl_prefix()),
            ("tini", [t["tini"], "-s", "--"]),
            ("tini-static", [t["tini-static"], "-s", "--"]),
            ("dumb-init", [t["dumb-init"], "--"]),
            ("catatonit", [t["catatonit"], "--"]),
        ]

    def inits_pid1(self, tmpfs=False):
        t = self.t
        inits = [
            ("ctlinit", lambda: self.ctl_prefix()),
            ("tini", lambda: [t["tini"], "--"]),
            ("tini-static", lambda: [t["tini-static"], "--"]),
            ("dumb-init", lambda: [t["dumb-init"], "--"]),
            ("catatonit", lambda: [t["catatonit"], "--"]),
        ]
        if tmpfs and self.shm:
            inits.append(("ctlinit-tmpfs", lambda: self.ctl_prefix(self.shmdir("pid1"))))
        return inits

    def unshare(self):
        return [self.t["unshare"], "--pid", "--fork", "--mount-proc", "--kill-child", "--"]

    # ---------------------------------------------------------- startup
    def startup(self):
        rounds = self.cfg["startup_rounds"]
        warm = 3
        names = ["bare"]
        cmds = [["/bin/true"]]
        for name, prefix in self.inits_host():
            names.append(name)
            cmds.append(prefix + ["/bin/true"])
        if self.shm:
            names.append("ctlinit-tmpfs")
            cmds.append(self.ctl_prefix(self.shmdir("startup")) + ["/bin/true"])
        argv = [self.h["spawnloop"], str(rounds + warm), "5000"]
        for i, c in enumerate(cmds):
            if i:
                argv.append(":::")
            argv.extend(c)
        log(f"startup: {rounds} interleaved rounds of {len(cmds)} commands")
        r = run(argv, timeout=60 + rounds * len(cmds) * 0.2, check=False)
        if r is None:
            raise BenchError("startup: spawnloop timed out")
        samples = {n: [] for n in names}
        bad = {n: 0 for n in names}
        for line in r.stdout.splitlines():
            rd, k, ns, st = (int(x) for x in line.split())
            if rd < warm:
                continue
            if ns < 0 or st != 0:
                bad[names[k]] += 1
                continue
            samples[names[k]].append(ns / 1e6)
        if r.returncode != 0:
            log(f"startup: spawnloop exited {r.returncode}: {r.stderr.strip()}")
        out = {}
        for n in names:
            out[n] = {"median_ms": med(samples[n]), "p90_ms": pct(samples[n], 0.9),
                      "n": len(samples[n]), "failed": bad[n]}
        bare = out["bare"]["median_ms"]
        for n in names:
            m = out[n]["median_ms"]
            out[n]["overhead_ms"] = None if m is None or bare is None else m - bare
            if bad[n]:
                log(f"startup: {n}: {bad[n]} runs failed or timed out")
        self.res["startup"] = out

    # ------------------------------------------------------------- size
    def size(self):
        d = self.tmpdir("size")
        out = {}
        for name, path, static in [("ctlinit", self.ctl, True),
                                   ("tini-static", self.t["tini-static"], True),
                                   ("catatonit", self.t["catatonit"], True),
                                   ("tini", self.t["tini"], False),
                                   ("dumb-init", self.t["dumb-init"], False)]:
            cp = os.path.join(d, name)
            shutil.copyfile(path, cp)
            stripped = run(["strip", "--strip-all", cp], timeout=60, check=False)
            ok = stripped is not None and stripped.returncode == 0
            sz = os.path.getsize(cp if ok else path)
            fr = run(["file", "-b", path], timeout=20, check=False)
            desc = fr.stdout.strip() if fr is not None else ""
            is_static = "statically linked" in desc or "static-pie" in desc
            out[name] = {"bytes": sz, "kib": sz / 1024, "as_shipped_bytes": os.path.getsize(path),
                         "static": is_static if desc else static}
        if not out["ctlinit"]["static"]:
            log("size: WARNING the ctlinit binary is not statically linked")
        self.res["size"] = out

    # ------------------------------------------------------------- idle
    def idle(self):
        secs = self.cfg["idle_secs"]
        windows = self.cfg["idle_windows"]
        procs = []
        for name, prefix in self.inits_host():
            procs.append((name, spawn(prefix + ["/bin/sleep", "3600"], f"idle-{name}")))
        # ctlinit with every waiting feature configured (SPEC §14.15)
        d = self.tmpdir("idle-opts")
        watched = os.path.join(d, "watched.conf")
        with open(watched, "w") as f:
            f.write("x=1\n")
        port = free_port()
        pidfile = os.path.join(d, "daemon.pid")
        opts = [self.ctl, "--pidfile", pidfile, "--restart", "on-failure", "--reload-signal", "HUP",
                "--watch", watched, "--port", str(port), "--",
                self.h["portd"], str(port), os.path.join(d, "portd.log")]
        procs.append(("ctlinit-opts", spawn(opts, "idle-ctlinit-opts")))
        try:
            for name, p in procs:
                wait_until(lambda: children_of(p.pid) or p.poll() is not None, 10,
                           what=f"{name}'s child")
                if p.poll() is not None:
                    raise BenchError(f"idle: {name} exited {p.returncode}\n{stderr_tail(p)}")
            wait_until(lambda: (read_pidfile(pidfile) or {}).get("state") == "ready", 10,
                       what="ctlinit --port ... to be ready")
            time.sleep(1.0)
            acc = {name: {"ticks": [], "csw": [], "rss_kib": []} for name, _ in procs}
            log(f"idle: {windows} window(s) of {secs:g} s, all inits idle at once")
            for _ in range(windows):
                before = {name: proc_stat(p.pid) for name, p in procs}
                time.sleep(secs)
                after = {name: proc_stat(p.pid) for name, p in procs}
                for name, _ in procs:
                    acc[name]["ticks"].append(after[name][0] - before[name][0])
                    acc[name]["csw"].append(after[name][1] - before[name][1])
                    acc[name]["rss_kib"].append(after[name][2])
            out = {}
            for name, _ in procs:
                out[name] = {k: med(v) for k, v in acc[name].items()}
                out[name]["samples"] = acc[name]
            self.res["idle"] = out
        finally:
            for name, p in procs:
                stop(p)

    # ----------------------------------------------------------- signal
    def signal_block(self, rounds, tag, cg=None):
        """One interleaved sigrtt run: SIGUSR1 round trips to a bare echo
        (floor) and to echo under every init, each init started as spawn()
        does (its own session). With cg, checks that every init and daemon
        is in that cgroup. Returns {name: [µs...]}, {name: lost}, and where
        each process ran (cpu cgroup, autogroup) for the JSON."""
        warm = 10
        targets = []
        try:
            d = self.tmpdir("signal-" + tag)
            fifo = Fifo(os.path.join(d, "floor.fifo"))
            p = spawn([self.h["echo"], fifo.path], f"signal-{tag}-floor")
            targets.append(("floor", p, p.pid, fifo))
            for name, prefix in self.inits_host():
                fifo = Fifo(os.path.join(d, name + ".fifo"))
                p = spawn(prefix + [self.h["echo"], fifo.path], f"signal-{tag}-{name}")
                targets.append((name, p, p.pid, fifo))
            for name, p, _, fifo in targets:
                b = fifo.read1(10)
                if b != b"R":
                    raise BenchError(f"signal: {name}'s echo daemon not ready ({b!r})\n{stderr_tail(p)}")
            placement = {}
            for name, p, pid, _ in targets:
                procs = [pid] + children_of(pid)
                placement[name] = [{"pid": x, "cpu_cgroup": cpu_cgroup_of(x), "autogroup": autogroup_of(x)}
                                   for x in procs]
                if cg is not None:
                    want = cg.relpath()
                    wrong = [x for x in placement[name] if x["cpu_cgroup"] != want]
                    if wrong:
                        raise BenchError(f"signal: {name}: not in the cpu cgroup {want}: {wrong}")
            time.sleep(0.3)
            argv = [self.h["sigrtt"], str(rounds), str(warm)] + [f"{pid}:{fifo.fd}" for _, _, pid, fifo in targets]
            r = subprocess.run(argv, timeout=60 + rounds * len(targets) * 0.05, capture_output=True, text=True,
                               pass_fds=[fifo.fd for *_, fifo in targets], stdin=subprocess.DEVNULL)
            samples = {name: [] for name, *_ in targets}
            lost = {name: 0 for name, *_ in targets}
            for line in r.stdout.splitlines():
                _, k, ns = (int(x) for x in line.split())
                name = targets[k][0]
                if ns < 0:
                    lost[name] += 1
                    log(f"signal: {name}: no echo within 2 s of a SIGUSR1\n{stderr_tail(targets[k][1])}")
                else:
                    samples[name].append(ns / 1e3)
            return samples, lost, placement
        finally:
            for name, p, _, fifo in targets:
                stop(p)
                fifo.close()

    def signals(self):
        """Two arrangements, alternated in blocks (A B A B in a full run):
        host = each init in its own session at the root of the cpu hierarchy
        (so each in its own scheduler autogroup, as spawn() starts them);
        cgroup = the same with this process, the sender, every init and its
        daemon moved into ONE child cpu cgroup, as inside a container."""
        rounds = self.cfg["sig_rounds"]
        blocks = max(1, self.cfg["sig_blocks"])
        per = max(1, rounds // blocks)
        cg = CpuCgroup()
        arrs = ["host", "cgroup"]
        acc = {a: ({}, {}) for a in arrs}
        where = {}
        status = {"host": "ok", "cgroup": "ok"}
        log(f"signal: {rounds} interleaved SIGUSR1 round trips per target, in each of two arrangements "
            f"(own sessions on the host; one cpu cgroup{'' if cg.home else ': ' + cg.why}), {blocks} block(s) each")
        for _ in range(blocks):
            for a in arrs:
                if status[a] != "ok":
                    continue
                try:
                    if a == "cgroup":
                        cg.enter()
                    samples, lost, placement = self.signal_block(per, a, cg if a == "cgroup" else None)
                    where[a] = placement
                except (BenchError, OSError) as e:
                    status[a] = f"failed: {e}"
                    log(f"signal ({a}): {e}")
                    continue
                finally:
                    if a == "cgroup":
                        cg.leave()
                for name in samples:
                    acc[a][0].setdefault(name, []).extend(samples[name])
                    acc[a][1][name] = acc[a][1].get(name, 0) + lost[name]
        out = {}
        for a in arrs:
            samples, lost = acc[a]
            if not samples:
                out[a] = None
                continue
            out[a] = {name: {"p50_us": med(xs), "p90_us": pct(xs, 0.9), "p99_us": pct(xs, 0.99),
                             "n": len(xs), "lost": lost.get(name, 0)} for name, xs in samples.items()}
        out["status"] = status
        out["cgroup_info"] = {"version": cg.version, "parent": cg.home, "why": cg.why}
        out["placement"] = where  # pid, cpu cgroup and autogroup of each init and daemon
        self.res["signal"] = out
        if all(out[a] is None for a in arrs):
            raise BenchError("signal: no arrangement could be measured")

    # ----------------------------------------------------------- reaping
    def reaping(self):
        n = self.cfg["orphans"]
        wave = min(self.cfg["wave"], n)
        rounds = self.cfg["reap_rounds"]
        log(f"reaping: {rounds} round(s) of {n} orphans (waves of {wave} orphaned at once) per init as PID 1")
        acc = {name: [] for name, _ in self.inits_pid1()}
        for _ in range(rounds):
            for name, prefix in self.inits_pid1():
                d = self.tmpdir("reap-" + name)
                resf = os.path.join(d, "result")
                p = spawn(self.unshare() + prefix() + [self.h["storm"], str(n), str(wave), "240", resf],
                          f"reap-{name}")
                try:
                    p.wait(300)
                except subprocess.TimeoutExpired:
                    log(f"reaping: {name} timed out")
                    stop(p, signal.SIGKILL)
                    continue
                finally:
                    reap_strays()
                try:
                    with open(resf) as f:
                        kv = dict(x.split("=") for x in f.read().split())
                except OSError:
                    log(f"reaping: {name}: no result (exit {p.returncode})\n{stderr_tail(p)}")
                    continue
                acc[name].append({k: float(v) for k, v in kv.items()})
        out = {}
        for name, rs in acc.items():
            if not rs:
                out[name] = {"cpu_ms_per_1000": None, "ticks_per_1000": None, "zombies": None, "n": 0}
                continue
            per = []
            for r in rs:
                k = r["orphans"] / 1000.0
                cpu_ms = r["sched_ns"] / 1e6 if r["sched_ns"] >= 0 else r["ticks"] * 1000.0 / r["hz"]
                per.append({"cpu_ms_per_1000": cpu_ms / k, "ticks_per_1000": r["ticks"] / k,
                            "drain_ms": r["drain_ms"], "zombies": r["zombies"] + r["others"],
                            "orphans": r["orphans"]})
            out[name] = {
                "cpu_ms_per_1000": med([x["cpu_ms_per_1000"] for x in per]),
                "ticks_per_1000": med([x["ticks_per_1000"] for x in per]),
                "drain_ms": med([x["drain_ms"] for x in per]),
                "zombies": max(x["zombies"] for x in per),
                "orphans": min(x["orphans"] for x in per),
                "n": len(per), "runs": per,
            }
        self.res["reap"] = out

    # -------------------------------------------------------------- stop
    def stop_latency(self):
        """TERM → init exited, as PID 1, interleaved; ctlinit twice: its PID
        file and lock on tmpfs (the target row) and on the disk file system of
        the temp dir (the arrangement of every other figure), whose exit
        includes the PID file's unlink(2): timed on that same file system in
        the same rounds."""
        rounds = self.cfg["stop_rounds"]
        log(f"stop: {rounds} interleaved TERM-to-exit runs per init as PID 1")
        inits = self.inits_pid1(tmpfs=True)
        samples = {name: [] for name, _ in inits}
        fails = {name: 0 for name, _ in inits}
        io = {"disk": {}, "tmpfs": {}}
        for _ in range(rounds):
            for name, prefix in inits:
                d = self.tmpdir("stop-" + name)
                fifo = Fifo(os.path.join(d, "ready.fifo"))
                p = spawn(self.unshare() + prefix() + [self.h["termchild"], fifo.path], f"stop-{name}")
                pidfd = None
                try:
                    if fifo.read1(10) != b"R":
                        raise BenchError("child not ready")
                    kids = children_of(p.pid)
                    if len(kids) != 1:
                        raise BenchError(f"unshare has children {kids}")
                    init = kids[0]
                    pidfd = os.pidfd_open(init)
                    time.sleep(0.03)  # let the init settle into its wait
                    poller = select.poll()
                    poller.register(pidfd, select.POLLIN)
                    t0 = time.perf_counter_ns()
                    os.kill(init, signal.SIGTERM)
                    ok = poller.poll(10000)
                    t1 = time.perf_counter_ns()
                    if not ok:
                        raise BenchError("init did not exit within 10 s of TERM")
                    samples[name].append((t1 - t0) / 1e6)
                    p.wait(10)
                except (BenchError, subprocess.TimeoutExpired, OSError) as e:
                    fails[name] += 1
                    log(f"stop: {name}: {e}\n{stderr_tail(p)}")
                finally:
                    if pidfd is not None:
                        os.close(pidfd)
                    stop(p, signal.SIGKILL, 5)
                    fifo.close()
            # the unlink's share: same file systems, same round
            for where, d in (("disk", self.tmpdir("unlink")), ("tmpfs", self.shmdir("unlink") if self.shm else None)):
                if d:
                    for k, v in time_pidfile_io(d).items():
                        io[where].setdefault(k, []).extend(v)
        out = {name: {"p50_ms": med(s), "p90_ms": pct(s, 0.9), "n": len(s),
                      "failed": fails[name]} for name, s in samples.items()}
        fs, mnt = fs_type(TMP)
        u = {"disk_fs": fs, "disk_mount": mnt, "disk_dir": TMP, "tmpfs_dir": self.shm,
             "n": len(io["disk"].get("unlink", []))}
        for where in io:
            for k, v in io[where].items():
                u[f"{k}_{where}_us"] = med(v)
                u[f"{k}_{where}_p90_us"] = pct(v, 0.9)
        out["unlink"] = u
        self.res["stop"] = out

    # --------------------------------------------- restart gap + sup RSS
    def docker_ok(self):
        if self.args.no_docker:
            return False, "disabled (--no-docker)"
        if not shutil.which("docker"):
            return False, "skipped (no engine)"
        r = run(["docker", "info"], timeout=20, check=False)
        if r is None or r.returncode != 0:
            return False, "skipped (no engine)"
        r = run(["file", "-b", self.h["crashloop"]], timeout=20, check=False)
        if r is not None and "static" not in r.stdout:
            return False, "skipped (crashloop is not static)"
        return True, "ok"

    def docker_start(self, logdir):
        tag = f"ctlinit-bench-crashloop:{os.getpid()}"
        tarpath = os.path.join(TMP, "crashloop-image.tar")
        with tarfile.open(tarpath, "w") as tf:
            ti = tf.gettarinfo(self.h["crashloop"], arcname="crashloop")
            ti.uid = ti.gid = 0
            ti.mode = 0o755
            with open(self.h["crashloop"], "rb") as f:
                tf.addfile(ti, f)
        run(["docker", "import", tarpath, tag], timeout=120)
        IMAGES.append(tag)
        r = run(["docker", "run", "-d", "--restart=always", "--network", "none", "--no-healthcheck",
                 "--label", f"ctlinit-bench={os.getpid()}", "-v", f"{logdir}:/log", tag,
                 "/crashloop", "/log/crash.log"], timeout=120)
        cid = r.stdout.strip()
        CONTAINERS.append(cid)
        return cid

    def restart(self):
        cfg = self.cfg
        sups = {}  # name -> dict(proc|cid, log, quota, pid for rss)

        def add(name, log_path, quota, proc=None, cid=None, rss_pid=None):
            sups[name] = {"proc": proc, "cid": cid, "log": log_path, "quota": quota,
                          "rss": [], "stopped": False, "rss_pid": rss_pid}

        cl = self.h["crashloop"]
        # supervisord
        d = self.tmpdir("restart-supervisord")
        lg = os.path.join(d, "crash.log")
        conf = os.path.join(d, "supervisord.conf")
        with open(conf, "w") as f:
            f.write(f"""[unix_http_server]
file={d}/supervisor.sock
[supervisord]
nodaemon=true
logfile={d}/supervisord.log
pidfile={d}/supervisord.pid
childlogdir={d}
user=root
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[program:crash]
command={cl} {lg}
autostart=true
autorestart=true
startsecs=0
startretries=1000000
stdout_logfile=NONE
stderr_logfile=NONE
""")
        p = spawn([self.t["supervisord"], "-n", "-c", conf], "restart-supervisord", cwd=d)
        add("supervisord", lg, cfg["restart_gaps"], proc=p, rss_pid=p.pid)
        # runsv (runit): ./run is the crash-looper itself
        d = self.tmpdir("restart-runsv")
        svc = os.path.join(d, "crash")
        os.makedirs(svc)
        shutil.copy(cl, os.path.join(svc, "run"))
        p = spawn([self.t["runsv"], svc], "restart-runsv")
        add("runsv", os.path.join(svc, "crash.log"), cfg["restart_gaps"], proc=p, rss_pid=p.pid)
        # s6-supervise (s6)
        d = self.tmpdir("restart-s6")
        svc = os.path.join(d, "crash")
        os.makedirs(svc)
        shutil.copy(cl, os.path.join(svc, "run"))
        p = spawn([self.t["s6-supervise"], svc], "restart-s6")
        add("s6", os.path.join(svc, "crash.log"), cfg["restart_gaps"], proc=p, rss_pid=p.pid)
        # Docker's restart policy
        dok, why = self.docker_ok()
        self.res["docker_status"] = why
        if dok:
            d = self.tmpdir("restart-docker")
            os.chmod(d, 0o777)
            try:
                cid = self.docker_start(d)
                add("docker", os.path.join(d, "crash.log"), cfg["docker_gaps"], cid=cid)
            except BenchError as e:
                self.res["docker_status"] = f"failed: {e}"
                log(f"docker: {e}")
        if "docker" not in sups:
            banner = f"docker: {self.res['docker_status']}"
            log("*" * len(banner))
            log(banner)
            log("*" * len(banner))

        def count_starts(path):
            try:
                with open(path) as f:
                    return sum(1 for line in f if line.startswith("S "))
            except OSError:
                return 0

        # ctlinit starts once the others are past their own start-up (supervisord
        # is a Python program, docker run is heavy), so that its fast restarts are
        # not measured against their boot: all then restart side by side.
        def first_start(name):
            return lambda: sups[name]["cid"] is None and sups[name]["proc"].poll() is not None \
                or count_starts(sups[name]["log"]) >= 1
        for name in list(sups):
            try:
                wait_until(first_start(name), 30, step=0.02, what=f"{name}'s first start")
            except BenchError as e:
                log(f"restart: {e}")
        # ctlinit, fixed 10 ms backoff (what "--backoff 10ms" must cost)
        d = self.tmpdir("restart-ctlinit")
        lg = os.path.join(d, "crash.log")
        p = spawn(self.ctl_prefix(d, ["--restart", "always", "--backoff", "10ms:10ms", "--max-restarts", "0"])
                  + [cl, lg], "restart-ctlinit")
        add("ctlinit", lg, cfg["ctl_gaps"], proc=p, rss_pid=p.pid)
        # the same with the PID file on tmpfs (diagnostic: cost of PID file I/O)
        if self.shm:
            d = self.shmdir("restart-ctlinit-tmpfs")
            lg = os.path.join(self.tmpdir("restart-ctlinit-tmpfs"), "crash.log")
            p = spawn(self.ctl_prefix(d, ["--restart", "always", "--backoff", "10ms:10ms", "--max-restarts", "0"])
                      + [cl, lg], "restart-ctlinit-tmpfs")
            add("ctlinit-tmpfs", lg, cfg["ctl_gaps"], proc=p)
        # ctlinit, literally "--backoff 10ms": MIN 10ms, MAX the default 30s, doubling
        d = self.tmpdir("restart-ctlinit-doubling")
        lg = os.path.join(d, "crash.log")
        p = spawn(self.ctl_prefix(d, ["--restart", "always", "--backoff", "10ms", "--max-restarts", "0"])
                  + [cl, lg], "restart-ctlinit-doubling")
        add("ctlinit-doubling", lg, cfg["doubling_gaps"], proc=p)

        log("restart: " + ", ".join(f"{k} until {v['quota']} gaps" for k, v in sups.items())
            + " (all at once)")
        deadline = time.monotonic() + cfg["restart_deadline"]
        try:
            while True:
                live = [k for k, v in sups.items() if not v["stopped"]]
                if not live:
                    break
                for k in live:
                    s = sups[k]
                    if s["proc"] is not None and s["proc"].poll() is not None:
                        log(f"restart: {k} exited early ({s['proc'].returncode})\n{stderr_tail(s['proc'])}")
                        s["stopped"] = True
                        continue
                    n = count_starts(s["log"])
                    if s["rss_pid"] and n >= 2:
                        s["rss"].append(vmrss(s["rss_pid"]))
                    if n >= s["quota"] + 1 or time.monotonic() > deadline:
                        if time.monotonic() > deadline:
                            log(f"restart: {k}: deadline, {max(n - 1, 0)} gaps")
                        self.stop_supervisor(k, s)
                        s["stopped"] = True
                time.sleep(0.05)
        finally:
            for k, s in sups.items():
                if not s["stopped"]:
                    self.stop_supervisor(k, s)
        out = {}
        for k, s in sups.items():
            gaps = self.gaps(s["log"])
            o = {"gaps_ms": gaps, "median_ms": med(gaps), "n": len(gaps),
                 "rss_kib": med(s["rss"]), "rss_max_kib": max([x for x in s["rss"] if x] or [0]) or None}
            if k == "ctlinit-doubling":
                over = [g - 10.0 * (2 ** i) for i, g in enumerate(gaps)]
                o["overhead_ms"] = over
                o["median_overhead_ms"] = med(over)
            out[k] = o
        self.res["restart"] = out

    def stop_supervisor(self, k, s):
        if s["cid"]:
            run(["docker", "rm", "-f", s["cid"]], timeout=60, check=False)
            if s["cid"] in CONTAINERS:
                CONTAINERS.remove(s["cid"])
            return
        p = s["proc"]
        if k == "runsv" and p.poll() is None:
            ctl = os.path.join(os.path.dirname(s["log"]), "supervise", "control")
            try:
                fd = os.open(ctl, os.O_WRONLY | os.O_NONBLOCK)
                os.write(fd, b"dx")
                os.close(fd)
                p.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        stop(p, signal.SIGTERM, 10)
        reap_strays()

    @staticmethod
    def gaps(path):
        ev = []
        try:
            with open(path) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) == 3 and parts[0] in ("S", "E"):
                        ev.append((int(parts[1]), parts[0]))
        except OSError:
            return []
        ev.sort()
        gaps = []
        last_exit = None
        for t, tag in ev:
            if tag == "E":
                last_exit = t
            elif last_exit is not None:
                gaps.append((t - last_exit) / 1e6)
                last_exit = None
        return gaps

    # ---------------------------------------------------------- watchdog
    def watchdog(self):
        """ctlinit --ready notify --watchdog 200ms --restart always --backoff
        10ms:10ms -- wdog: each generation sends READY=1, a few WATCHDOG=1
        keep-alives, then nothing; gap = missed deadline (last keep-alive +
        200 ms) → next generation's READY=1."""
        want = self.cfg["wdog_gaps"]
        d = self.tmpdir("watchdog")
        lg = os.path.join(d, "wdog.log")
        life = WDOG_KEEPALIVES * WDOG_INTERVAL_MS + WDOG_MS
        p = spawn(self.ctl_prefix(d, ["--ready", "notify", "--watchdog", f"{WDOG_MS}ms", "--restart", "always",
                                      "--backoff", "10ms:10ms", "--max-restarts", "0"])
                  + [self.h["wdog"], lg, str(WDOG_KEEPALIVES), str(WDOG_INTERVAL_MS)], "watchdog-ctlinit")
        log(f"watchdog: {want} watchdog restarts ({WDOG_KEEPALIVES} keep-alives {WDOG_INTERVAL_MS} ms apart, "
            f"then silence; ~{life + 15} ms a generation)")

        def readies():
            try:
                with open(lg) as f:
                    return sum(1 for line in f if line.startswith("R "))
            except OSError:
                return 0
        try:
            wait_until(lambda: p.poll() is not None or readies() >= want + 1,
                       10 + want * (life + 200) / 1000, step=0.05, what=f"{want + 1} ready generations")
            if p.poll() is not None:
                raise BenchError(f"watchdog: ctlinit exited {p.returncode}\n{stderr_tail(p)}")
        except BenchError as e:
            log(str(e))
        finally:
            stop(p)
        gens = {}   # pid -> {tag: [ns]}
        order = []
        try:
            with open(lg) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) != 3:
                        continue
                    tag, ns, pid = parts[0], int(parts[1]), int(parts[2])
                    if pid not in gens:
                        gens[pid] = {}
                        order.append(pid)
                    gens[pid].setdefault(tag, []).append(ns)
        except OSError:
            pass
        order.sort(key=lambda pid: gens[pid].get("S", [0])[0])
        gaps, detect, to_ready, bad = [], [], [], 0
        for prev, nxt in zip(order, order[1:]):
            g, n = gens[prev], gens[nxt]
            if len(g.get("K", [])) != WDOG_KEEPALIVES or "R" not in n:
                bad += 1
                continue
            deadline = g["K"][-1] + WDOG_MS * 1_000_000
            gaps.append((n["R"][0] - deadline) / 1e6)
            if "T" in g:
                detect.append((g["T"][0] - deadline) / 1e6)
                to_ready.append((n["R"][0] - g["T"][0]) / 1e6)
        if not gaps:
            raise BenchError(f"watchdog: no watchdog restart measured\n{stderr_tail(p)}")
        self.res["watchdog"] = {
            "median_ms": med(gaps), "p90_ms": pct(gaps, 0.9), "max_ms": max(gaps), "n": len(gaps),
            "deadline_to_term_median_ms": med(detect), "term_to_ready_median_ms": med(to_ready),
            "incomplete_generations": bad, "gaps_ms": gaps,
            "config": {"watchdog_ms": WDOG_MS, "keepalives": WDOG_KEEPALIVES, "interval_ms": WDOG_INTERVAL_MS,
                       "backoff_ms": 10},
        }

    # ------------------------------------------------------------- drain
    def drain(self):
        """ctlinit --stop-delay 300ms -- termchild: TERM to ctlinit at a
        stamped time; the daemon stamps when TERM reaches it; figure =
        measured delay − 300 ms."""
        rounds = self.cfg["drain_rounds"]
        log(f"drain: {rounds} TERMs to ctlinit --stop-delay {DRAIN_MS}ms")
        errs, fails = [], 0
        for _ in range(rounds):
            d = self.tmpdir("drain")
            fifo = Fifo(os.path.join(d, "ready.fifo"))
            lg = os.path.join(d, "term.log")
            p = spawn(self.ctl_prefix(d, ["--stop-delay", f"{DRAIN_MS}ms"]) + [self.h["termchild"], fifo.path, lg],
                      "drain-ctlinit")
            try:
                if fifo.read1(10) != b"R":
                    raise BenchError("daemon not ready")
                time.sleep(0.03)  # let ctlinit settle into its wait
                t0 = time.monotonic_ns()  # CLOCK_MONOTONIC, as the helper's stamps
                os.kill(p.pid, signal.SIGTERM)
                p.wait(DRAIN_MS / 1000 + 10)
                with open(lg) as f:
                    t1 = int(f.read().split()[1])
                errs.append((t1 - t0) / 1e6 - DRAIN_MS)
            except (BenchError, subprocess.TimeoutExpired, OSError, IndexError, ValueError) as e:
                fails += 1
                log(f"drain: {e}\n{stderr_tail(p)}")
            finally:
                stop(p, signal.SIGKILL, 5)
                fifo.close()
        if not errs:
            raise BenchError("drain: no round measured")
        self.res["drain"] = {"median_ms": med(errs), "max_ms": max(errs), "min_ms": min(errs),
                             "p90_ms": pct(errs, 0.9), "n": len(errs), "failed": fails, "errors_ms": errs,
                             "requested_ms": DRAIN_MS}

    # ------------------------------------------------- size breakdown
    def bloat(self):
        """Not a measurement: a failure here is logged, never fails the run."""
        try:
            br = size_breakdown()
        except (BenchError, OSError) as e:
            log(f"size breakdown: FAILED (the run goes on): {e}")
            self.res["size_breakdown"] = {"error": str(e)}
            return
        self.res["size_breakdown"] = br
        os.makedirs(RESULTS, exist_ok=True)
        with open(os.path.join(RESULTS, "size.md"), "w") as f:
            f.write(size_md(br, self.res))
        log("size breakdown: wrote bench/results/size.md ("
            + ", ".join(f"{c['name']} {c['size'] / 1024:.0f} KiB" for c in br["crates"][:5]) + ", …)")

    # ----------------------------------------------------------- handoff
    def handoff(self):
        rounds = self.cfg["handoff_rounds"]
        d = self.tmpdir("handoff")
        port = free_port()
        lg = os.path.join(d, "portd.log")
        pidfile = os.path.join(d, "daemon.pid")
        p = spawn([self.ctl, "--pidfile", pidfile, "--port", str(port), "--reload-signal", "HUP", "--",
                   self.h["portd"], str(port), lg], "handoff-ctlinit")
        log(f"handoff: {rounds} reloads (HUP) of ctlinit --port {port}")
        failed = 0
        try:
            def ready(gen):
                def f():
                    if p.poll() is not None:
                        raise BenchError(f"ctlinit exited {p.returncode}\n{stderr_tail(p)}")
                    pf = read_pidfile(pidfile) or {}
                    return pf.get("generation") == gen and pf.get("state") == "ready"
                return f
            wait_until(ready(1), 15, what="generation 1 ready")
            for i in range(rounds):
                time.sleep(0.05)
                os.kill(p.pid, signal.SIGHUP)
                try:
                    wait_until(ready(i + 2), 15, what=f"generation {i + 2} ready")
                except BenchError as e:
                    failed += 1
                    log(f"handoff: {e}")
                    break
        finally:
            stop(p)
        ev = []
        with open(lg) as f:
            for line in f:
                tag, ns, pid = line.split()
                ev.append((int(ns), tag, int(pid)))
        ev.sort()
        gaps, to_listen, binds_failed = [], [], 0
        last_close = None
        pending = None
        for ns, tag, pid in ev:
            if tag == "C":
                last_close = ns
            elif tag == "S" and last_close is not None:
                gaps.append((ns - last_close) / 1e6)
                pending = last_close
                last_close = None
            elif tag == "L" and pending is not None:
                to_listen.append((ns - pending) / 1e6)
                pending = None
            elif tag == "F":
                binds_failed += 1
        self.res["handoff"] = {"median_ms": med(gaps), "p90_ms": pct(gaps, 0.9), "n": len(gaps),
                               "to_listening_median_ms": med(to_listen), "bind_failures": binds_failed,
                               "failed": failed, "gaps_ms": gaps}


# ----------------------------------------------------------------- report

def fmt(v, unit, digits=None):
    if v is None:
        return "—"
    if digits is None:
        a = abs(v)
        digits = 0 if a >= 100 else 1 if a >= 10 else 2 if a >= 1 else 3
        if v == 0:
            digits = 0
    return f"{v:.{digits}f} {unit}".strip()


def ratio(v, ref):
    if v is None or ref is None:
        return None
    if ref == 0:
        return None  # e.g. idle CPU ticks: 0 for everyone, no ratio
    return v / ref


COLS = ["ctlinit", "tini", "tini-static", "dumb-init", "catatonit", "supervisord", "runsv", "s6", "docker"]


def disk_label(fs, d):
    """"ext4 (/tmp)": the file system type and the directory the temp dirs are in."""
    return f"{fs or '?'} ({os.path.dirname(d.rstrip('/')) if d else '?'})"


def build_rows(res):
    """One row per figure: values per tool, reference, ratio, target, verdict,
    and the arrangement the numbers come from."""
    rows = []
    cfg = res.get("config", {})

    def row(key, figure, unit, vals, ref_name, ctl_ratio_target=None, absolute=None, floor=None,
            digits=None, extra=None, note=None, short=None, arr="", target=None):
        ref = vals.get(ref_name) if ref_name else None
        cells = {}
        for c in COLS:
            v = vals.get(c)
            if c not in vals:
                cells[c] = ""
                continue
            s = fmt(v, unit, digits)
            r = ratio(v, ref)
            if r is not None and ref_name and v is not None:
                s += f" ({r:.2f}×)"
            cells[c] = s
        ctl = vals.get("ctlinit")
        r = ratio(ctl, ref)
        if absolute is not None:
            ok = ctl is not None and ctl <= absolute + 1e-9
        elif ctl_ratio_target is not None:
            ok = r is not None and r <= ctl_ratio_target + 1e-9
        else:
            ok = None
        rows.append({
            "key": key, "figure": figure, "unit": unit, "values": vals, "ref": ref_name,
            "cells": cells, "ctl_ratio": r, "ratio_target": ctl_ratio_target, "absolute_target": absolute,
            "floor": fmt(floor, unit, digits) if floor is not None else "",
            "target": target or TARGETS[key], "verdict": None if ok is None else ("PASS" if ok else "MISS"),
            "extra": extra, "note": note, "short": short or figure, "arrangement": arr,
            "baseline": BASELINE.get(key, ""), "digits": digits,
        })

    inits = ["ctlinit", "tini", "tini-static", "dumb-init", "catatonit"]
    disk = res.get("disk_fs") or {}
    disk_s = disk_label(disk.get("fs"), disk.get("dir"))
    su = res.get("startup")
    if su:
        vals = {k: su[k]["median_ms"] for k in inits}
        extra = None
        if "ctlinit-tmpfs" in su:
            extra = f"ctlinit with its PID file on tmpfs: {fmt(su['ctlinit-tmpfs']['median_ms'], 'ms')}"
        row("startup", "startup `INIT -- /bin/true` (median wall)", "ms", vals, "tini", 0.84,
            floor=su["bare"]["median_ms"], extra=extra, short="startup INIT -- /bin/true",
            arr=f"host, own session; ctlinit's PID file on {disk_s}")
    sz = res.get("size")
    if sz:
        vals = {k: sz[k]["kib"] for k in ["ctlinit", "tini-static", "catatonit"]}
        extra = f"dynamic, for reference: tini {sz['tini']['kib']:.0f} KiB, dumb-init {sz['dumb-init']['kib']:.0f} KiB"
        br = res.get("size_breakdown") or {}
        if br.get("crates"):
            extra += "; biggest contributors (" + br["tool"] + "): " + ", ".join(
                f"{c['name']} {c['size'] / 1024:.0f} KiB" for c in br["crates"][:5]) + " (bench/results/size.md)"
        row("size", "static stripped binary (ratio to tini-static)", "KiB", vals, "tini-static", absolute=691.0,
            digits=0, extra=extra, short="static stripped binary size", arr="musl release build, `strip --strip-all`")
    idle = res.get("idle")
    if idle:
        row("rss", "idle RSS (VmRSS)", "KiB", {k: idle[k]["rss_kib"] for k in inits}, "tini", 1.0, digits=0,
            short="idle RSS", arr="host, own session, daemon `sleep`")
        row("idle_ticks", f"idle CPU ticks over {cfg.get('idle_secs', 0):g} s", "",
            {k: idle[k]["ticks"] for k in inits}, "tini", absolute=0, digits=0, arr="host, own session")
        row("idle_csw", f"idle context switches over {cfg.get('idle_secs', 0):g} s", "",
            {k: idle[k]["csw"] for k in inits}, "tini", absolute=0, digits=0, short="idle context switches",
            arr="host, own session")
        o = idle.get("ctlinit-opts")
        if o:
            row("idle_csw_opts", "… ctlinit with `--port --watch --reload-signal --restart` (ready)", "",
                {"ctlinit": o["csw"]}, None, absolute=0, digits=0,
                extra=f"ticks {o['ticks']:.0f}, RSS {o['rss_kib']:.0f} KiB", arr="host, own session")
    sg = res.get("signal")
    if sg:
        cgi = sg.get("cgroup_info") or {}
        arrs = [("host", "", "host: each init in its own session (own autogroup)"),
                ("cgroup", "_cg", f"one cpu cgroup (v{cgi.get('version') or '?'}) holding sender, init and daemon")]
        for a, suffix, arr in arrs:
            d = sg.get(a)
            if not d:
                st = (sg.get("status") or {}).get(a, "not measured")
                row("signal_p50" + suffix, f"signal forwarding round trip p50 — {arr}", "µs", {"ctlinit": None},
                    None, extra=f"not measured: {st}", arr=arr)
                continue
            vals = {k: d[k]["p50_us"] for k in inits}
            peers = [vals[k] for k in ("tini", "dumb-init", "catatonit") if vals.get(k) is not None]
            fastest = min(peers) if peers else None
            fname = next((k for k in ("tini", "dumb-init", "catatonit") if vals.get(k) == fastest), "?")
            lost = sum(d[k]["lost"] for k in d)
            row("signal_p50" + suffix, f"signal forwarding round trip p50 — {arr}", "µs", vals, "tini",
                absolute=fastest, floor=d["floor"]["p50_us"], short=f"signal forwarding p50, {'host (own sessions)' if a == 'host' else 'one cpu cgroup'}", arr=arr,
                target=f"{TARGETS['signal_p50' + suffix]} (here {fname} {fmt(fastest, 'µs')})",
                extra=(f"{lost} echo(s) lost" if lost else None))
            vals = {k: d[k]["p99_us"] for k in inits}
            row("signal_p99" + suffix, f"signal forwarding round trip p99 — {arr}", "µs", vals, "tini", 1.05,
                floor=d["floor"]["p99_us"], short=f"signal forwarding p99, {'host (own sessions)' if a == 'host' else 'one cpu cgroup'}", arr=arr)
    rp = res.get("reap")
    if rp:
        vals = {k: rp[k]["cpu_ms_per_1000"] for k in rp}
        n = min((rp[k].get("orphans") or 0) for k in rp)
        row("reap", f"reaping: init CPU per 1000 orphans (PID 1, {n:.0f} orphans)", "ms", vals, "tini", 1.0,
            short="reaping: init CPU per 1000 orphans", arr="PID 1 (`unshare --pid`)")
        row("zombies", "reaping: zombies left", "", {k: rp[k]["zombies"] for k in rp}, None, absolute=0, digits=0,
            arr="PID 1 (`unshare --pid`)")
    st = res.get("stop")
    if st:
        peers = {k: st[k]["p50_ms"] for k in inits if k in st and k != "ctlinit"}
        un = st.get("unlink") or {}
        ud = disk_label(un.get("disk_fs"), un.get("disk_dir"))
        if "ctlinit-tmpfs" in st:
            row("stop", "stop latency p50 (TERM → init exited, PID 1), ctlinit's PID file + lock on tmpfs", "ms",
                dict(peers, ctlinit=st["ctlinit-tmpfs"]["p50_ms"]), "tini", 0.92, short="stop latency p50 (tmpfs)",
                arr="PID 1 (`unshare --pid`); PID file + lock in /dev/shm (tmpfs)")
        if "ctlinit" in st:
            ctl_d, ctl_t = st["ctlinit"]["p50_ms"], (st.get("ctlinit-tmpfs") or {}).get("p50_ms")
            diff = None if ctl_d is None or ctl_t is None else (ctl_d - ctl_t) * 1000
            row("stop_disk", f"… ctlinit's PID file + lock on {ud}; unlink(2) there, right after a rename "
                f"over the file as at ctlinit's exit: {fmt(un.get('unlink_disk_us'), 'µs')} median", "ms", dict(peers, ctlinit=ctl_d), "tini",
                short="stop latency p50 (disk)", arr=f"PID 1 (`unshare --pid`); PID file + lock on {ud}",
                extra=f"PID file I/O on a 160-byte file, medians of {un.get('n', 0)} in this run, {ud} vs tmpfs: "
                      f"unlink(2) right after a rename over it (ctlinit's exit) {fmt(un.get('unlink_disk_us'), 'µs')} "
                      f"(p90 {fmt(un.get('unlink_disk_p90_us'), 'µs')}) vs {fmt(un.get('unlink_tmpfs_us'), 'µs')}; "
                      f"that last write (temp file + rename over) {fmt(un.get('replace_disk_us'), 'µs')} vs "
                      f"{fmt(un.get('replace_tmpfs_us'), 'µs')}; unlink(2) of a file not replaced "
                      f"{fmt(un.get('unlink_plain_disk_us'), 'µs')} vs {fmt(un.get('unlink_plain_tmpfs_us'), 'µs')}; "
                      f"ctlinit's p50 on disk − on tmpfs: {fmt(diff, 'µs')}")
    rs = res.get("restart")
    if rs:
        vals = {k: rs[k]["median_ms"] for k in ["ctlinit", "supervisord", "runsv", "s6", "docker"] if k in rs}
        if "docker" not in rs:
            vals["docker"] = None
        extra = None
        if "ctlinit-tmpfs" in rs:
            extra = f"ctlinit with its PID file on tmpfs: {fmt(rs['ctlinit-tmpfs']['median_ms'], 'ms')}"
        if "docker" in rs:
            g = ", ".join(f"{x:.0f}" for x in rs["docker"]["gaps_ms"])
            extra = (extra + "; " if extra else "") + f"docker's gaps (its delay doubles from 100 ms): {g} ms"
        row("restart", "restart gap after a crash (`--backoff 10ms:10ms`), median", "ms", vals, "runsv",
            absolute=12.0, note="ratios to runsv", extra=extra, short="restart gap after a crash",
            arr=f"host, all supervisors side by side; ctlinit's PID file on {disk_s}")
        dbl = rs.get("ctlinit-doubling")
        if dbl:
            g = ", ".join(f"{x:.0f}" for x in dbl["gaps_ms"][:10])
            row("restart_doubling", "… `--backoff 10ms` as given (doubles, max 30 s): gap − scheduled backoff",
                "ms", {"ctlinit": dbl["median_overhead_ms"]}, None, absolute=2.0,
                extra=f"gaps {g} ms", short="restart: gap − scheduled backoff", arr="host, side by side")
    wd = res.get("watchdog")
    if wd:
        c = wd["config"]
        row("watchdog", f"watchdog restart gap: missed deadline → next generation ready "
            f"(`--watchdog {c['watchdog_ms']}ms --backoff 10ms:10ms`), median", "ms", {"ctlinit": wd["median_ms"]},
            None, short="watchdog: missed deadline → next ready", arr=f"host; PID file on {disk_s}",
            extra=f"p90 {fmt(wd['p90_ms'], 'ms')}, max {fmt(wd['max_ms'], 'ms')} over {wd['n']}; of which deadline "
                  f"→ TERM at the daemon {fmt(wd['deadline_to_term_median_ms'], 'ms')}, TERM → next READY=1 "
                  f"{fmt(wd['term_to_ready_median_ms'], 'ms')} (includes the 10 ms backoff)")
    dr = res.get("drain")
    if dr:
        row("drain", f"drain accuracy: TERM → daemon's TERM − `--stop-delay {dr['requested_ms']}ms`, median",
            "ms", {"ctlinit": dr["median_ms"]}, None, short="drain: delay − requested",
            arr=f"host; PID file on {disk_s}",
            extra=f"max {fmt(dr['max_ms'], 'ms')}, min {fmt(dr['min_ms'], 'ms')} over {dr['n']}"
                  + (" — **negative: forwarded early**" if dr["min_ms"] is not None and dr["min_ms"] < 0 else ""))
    if rs:
        vals = {k: rs[k]["rss_kib"] for k in ["ctlinit", "supervisord", "runsv", "s6"] if k in rs}
        row("sup_rss", "supervisor RSS while restarting (median)", "KiB", vals, "runsv", 1.0, digits=0,
            note="ratios to runsv", short="supervisor RSS while restarting", arr="host, side by side")
    ho = res.get("handoff")
    if ho:
        row("handoff", "port handoff: old port released → new generation spawned", "ms",
            {"ctlinit": ho["median_ms"]}, None, absolute=25.0,
            extra=f"→ new generation listening: {fmt(ho['to_listening_median_ms'], 'ms')}",
            short="port handoff", arr=f"host; PID file on {disk_s}")
    return rows


def markdown(rows, res):
    cols = [c for c in COLS if any(r["cells"].get(c) for r in rows)]
    hdr = ["figure"] + cols + ["floor", "ctlinit ratio", "target", "result", f"before ({BASELINE_REV})"]
    out = ["| " + " | ".join(hdr) + " |", "|" + "---|" * len(hdr)]
    for r in rows:
        cr = r["ctl_ratio"]
        crs = "" if cr is None or r["ref"] is None else f"{cr:.2f}× {r['ref']}"
        verdict = r["verdict"] or ""
        if verdict == "MISS":
            verdict = "**MISS**"
        cells = [r["figure"]] + [r["cells"].get(c, "") for c in cols] + \
            [r["floor"], crs, r["target"], verdict, r["baseline"]]
        out.append("| " + " | ".join(cells) + " |")
    notes = []
    for r in rows:
        if r["extra"]:
            notes.append(f"- {r['figure']}: {r['extra']}")
    if res.get("docker_status") and res["docker_status"] != "ok":
        notes.append(f"- **docker: {res['docker_status']}**")
    sg = res.get("signal") or {}
    for a, st in (sg.get("status") or {}).items():
        if st != "ok":
            notes.append(f"- **signal, {a} arrangement: {st}**")
    return "\n".join(out), "\n".join(notes)


def machine_line(res):
    m = res["machine"]
    la = m.get("loadavg_end") or [0]
    return (f"{m['nproc']} CPUs ({m['cpu']}), Linux {m['kernel']}, load average {m['loadavg_start'][0]:.2f} "
            f"at the start, {la[0]:.2f} at the end")


def readme_table(rows, res):
    """The compact table the README quotes: ctlinit, its reference, the
    target, and where each number comes from."""
    m = res["machine"]
    lines = [
        f"<!-- generated by bench/run.sh{' --quick' if res['mode'] == 'quick' else ''}: "
        "bench/results/README-table.md -->",
        f"Measured by `bench/run.sh`{' --quick (few iterations: noisy, not for quoting)' if res['mode'] == 'quick' else ''}"
        f" on {res['date']}, ctlinit {res['ctlinit_rev']}, on {machine_line(res)}"
        ". Peers: "
        + ", ".join(f"{k} {v}" for k, v in sorted(m["peer_versions"].items())) + ".",
        "",
        "| figure | ctlinit | reference (same run) | ratio | target | result | arrangement |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        v = r["values"].get("ctlinit")
        ctl = fmt(v, r["unit"], r["digits"])
        ref = ""
        if r["ref"]:
            ref = f"{r['ref']} {fmt(r['values'].get(r['ref']), r['unit'], r['digits'])}"
        rat = "" if r["ctl_ratio"] is None or not r["ref"] else f"{r['ctl_ratio']:.2f}×"
        verdict = r["verdict"] or "—"
        if verdict == "MISS":
            verdict = "**MISS**"
        lines.append("| " + " | ".join([r["short"], ctl, ref, rat, r["target"], verdict, r["arrangement"]]) + " |")
    return "\n".join(lines) + "\n"


def svg_chart(rows):
    """Horizontal bars of every tool's ratio to the figure's reference (log
    scale), ctlinit highlighted, target marked. Hand-written SVG."""
    import math
    palette = {"ctlinit": "#d62728", "tini": "#7f7f7f", "tini-static": "#a0a0a0", "dumb-init": "#1f77b4",
               "catatonit": "#2ca02c", "supervisord": "#9467bd", "runsv": "#8c564b", "s6": "#e377c2",
               "docker": "#17becf"}
    lo, hi = 0.01, 10.0
    groups = []
    for r in rows:
        ref = r["ref"]
        vals = r["values"]
        bars = []
        if ref and vals.get(ref):
            for c in COLS:
                if c in vals and vals[c] is not None:
                    rr = ratio(vals[c], vals[ref])
                    if rr is not None:
                        bars.append((c, rr))
            tgt = r["ratio_target"]
            if tgt is None and r["absolute_target"] is not None and vals[ref]:
                tgt = r["absolute_target"] / vals[ref] if r["absolute_target"] else 0.0
            label = f"{r['short']} — ratio to {ref}"
        elif r["absolute_target"]:
            v = vals.get("ctlinit")
            if v is None:
                continue
            bars.append(("ctlinit", v / r["absolute_target"]))
            tgt = 1.0
            label = f"{r['short']} — ratio to the target ({r['target']})"
        else:
            continue
        if bars:
            groups.append((label, bars, tgt, r["verdict"]))
    bar_h, gap, left, width = 14, 34, 130, 600
    height = 70 + sum(len(b) * bar_h + gap for _, b, _, _ in groups) + 40
    W = left + width + 120

    def x(v):
        v = min(max(v, lo), hi)
        return left + (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)) * width

    def esc(s):
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{height}" '
         f'viewBox="0 0 {W} {height}" font-family="sans-serif" font-size="11">',
         f'<rect width="{W}" height="{height}" fill="white"/>',
         f'<text x="{W / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">'
         'ctlinit vs peers: ratio to the reference (log scale; shorter is better)</text>',
         f'<text x="{W / 2}" y="38" text-anchor="middle" fill="#555">'
         'one interleaved run; black line = reference (1×), dashed red = ctlinit target</text>']
    top = 60
    for t in [0.01, 0.1, 1, 10]:
        o.append(f'<line x1="{x(t):.1f}" y1="{top - 6}" x2="{x(t):.1f}" y2="{height - 30}" '
                 f'stroke="{"#000" if t == 1 else "#ddd"}" stroke-width="{1.5 if t == 1 else 1}"/>')
        o.append(f'<text x="{x(t):.1f}" y="{height - 15}" text-anchor="middle">{t:g}×</text>')
    y = top
    for label, bars, tgt, verdict in groups:
        o.append(f'<text x="{left}" y="{y + 6}" font-weight="bold" font-size="12">{esc(label)}</text>')
        if verdict:
            col = "#2ca02c" if verdict == "PASS" else "#d62728"
            o.append(f'<text x="{left + width + 60}" y="{y + 6}" fill="{col}" font-weight="bold">{verdict}</text>')
        y += 12
        y0 = y
        for name, rr in bars:
            fill = palette.get(name, "#999")
            bold = ' font-weight="bold"' if name == "ctlinit" else ""
            o.append(f'<text x="{left - 6}" y="{y + bar_h - 4}" text-anchor="end"{bold}>{esc(name)}</text>')
            o.append(f'<rect x="{left}" y="{y + 1}" width="{max(x(rr) - left, 1):.1f}" height="{bar_h - 3}" '
                     f'fill="{fill}"/>')
            lab = "0" if rr == 0 else (f"{rr:.3f}" if rr < 0.1 else f"{rr:.2f}")
            o.append(f'<text x="{max(x(rr), left + 1) + 4:.1f}" y="{y + bar_h - 4}">{lab}×</text>')
            y += bar_h
        if tgt is not None:
            o.append(f'<line x1="{x(tgt):.1f}" y1="{y0 - 2}" x2="{x(tgt):.1f}" y2="{y + 2}" stroke="#d62728" '
                     'stroke-width="2" stroke-dasharray="4,3"/>')
        y += gap - 8
    o.append("</svg>")
    return "\n".join(o) + "\n"


def results_md(table, notes, res, quick):
    m = res["machine"]
    sg = res.get("signal") or {}
    cgi = sg.get("cgroup_info") or {}
    un = (res.get("stop") or {}).get("unlink") or {}
    disk = res.get("disk_fs") or {}
    disk_s = disk_label(disk.get("fs"), disk.get("dir"))
    lines = [
        "# ctlinit benchmarks",
        "",
        f"One {'quick ' if quick else ''}run of `bench/run.sh`{' --quick' if quick else ''} on "
        f"{res['date']} — ctlinit {res['ctlinit_rev']}.",
        f"Machine: {machine_line(res)} "
        "(shared with other workers: absolute numbers are noisy, only the ratios within this run mean anything).",
        "Peers: " + ", ".join(f"{k} {v}" for k, v in sorted(m["peer_versions"].items())) + ".",
        "",
        "Each cell is the tool's median (or the percentile the row names; ratio to the figure's reference in "
        "brackets: tini for the init figures, tini-static for the size, runsv for the supervisor figures); "
        "*floor* is the same measurement without an init. PASS/MISS compares ctlinit with the targets of "
        f"issue 12 (\"no regression\" = the bar of issue 5 still holds); *before* is ctlinit in the last "
        f"committed full run ({BASELINE_REV}). The table the README quotes, with the arrangement of every "
        "number, is `bench/results/README-table.md` (`bench/run.sh --readme` prints it).",
        "",
        table,
        "",
        notes,
        "",
        "![ctlinit's ratios to tini / runsv](ratios.svg)",
        "",
        "## How each figure is measured",
        "",
        "Everything runs in one invocation, interleaved (A B C A B C …) or side by side in one time window; "
        "every process is started under a timeout and cleaned up by PID. Helpers are the small C programs in "
        "`bench/helpers/`, built static by the script. Unless a row says otherwise, each init is started in its "
        "own session (`setsid`, as `docker run` starts a container's first process; on the host that also "
        "gives each its own scheduler autogroup), and ctlinit's `--pidfile` (with its lock beside it) is in a "
        f"temp dir on {disk_s}. ctlinit starts its daemon in a process group of its own inside ctlinit's session "
        "(`setpgid`, no `setsid`: the daemon shares ctlinit's autogroup), as tini and catatonit do; dumb-init "
        "gives its child a session of its own.",
        "",
        "- **startup**: `spawnloop` runs `INIT -- /bin/true` for every init in turn (and bare `/bin/true` as the "
        "floor), posix_spawn to reaped, std streams on /dev/null; outside a PID namespace (`tini -s`, ctlinit and "
        "catatonit subreaper by themselves). The tmpfs line shows how much of ctlinit's cost is PID file and "
        "lock I/O.",
        "- **size**: the binary copied and `strip --strip-all`ed; only static binaries are compared. The "
        "breakdown (`bench/results/size.md`) is `cargo bloat --crates` and `cargo bloat` (functions) on a copy "
        "of the same musl release build kept with its symbols (`CARGO_PROFILE_RELEASE_STRIP=false`, own target "
        "dir), or `nm --size-sort` of that copy when cargo-bloat is missing.",
        "- **idle**: every init runs `sleep 3600` at the same time; after 1 s of settling, utime+stime and "
        "voluntary+nonvoluntary context switches from `/proc/PID/{stat,status}` over the window, VmRSS at its end.",
        "- **signal**: every init runs `echo`, which writes one byte to a FIFO per SIGUSR1; `sigrtt` (C) sends "
        "SIGUSR1 to each init in turn and times the byte's arrival (p50 and p99 of "
        f"{res['config']['sig_rounds']} round trips per init and arrangement); the floor sends it to a bare "
        "`echo` directly. Two arrangements, alternated in blocks: *host* — each init in its own session at the "
        "root of the cpu hierarchy, so the kernel puts each session in its own autogroup; *one cpu cgroup* — "
        f"the bench moves itself into a new child cgroup of the cpu controller ("
        + (f"cgroup v{cgi['version']}, under `{cgi.get('parent')}`" if cgi.get("version") else
           "cgroup v1 `cpu` hierarchy, or v2 with cpu enabled")
        + "), so the sender, every init and every daemon started from it are in "
        "that one cgroup (where autogroups do not apply), as all the processes of a container are; it moves "
        "back and removes the cgroup afterwards (the JSON records the cpu cgroup and autogroup of every init and "
        "daemon in both arrangements). The p50 target is the fastest of tini, dumb-init and catatonit "
        "in the same run and arrangement; the p99 target 1.05× tini.",
        "- **reaping**: `unshare --pid --fork --mount-proc INIT -- storm N WAVE`: a middle process forks WAVE "
        "children that exit at once and, once they are all zombies, exits itself, so WAVE zombies are orphaned "
        "to PID 1 at once; storm waits until /proc shows no process but PID 1 and itself (no zombie left), "
        "repeats up to N, and reports the init's CPU time from `/proc/1/schedstat` (ns; `/proc/1/stat` ticks "
        "are in the JSON). Waves keep live PIDs below the shared machine's pid_max. (Orphans that are still "
        "alive when orphaned make every init's wait4 walk them all at each wake-up; how many there are is a "
        "scheduling race that swamps the init's own cost, so that variant, `storm ... live`, is not in the table.)",
        "- **stop**: `unshare … INIT -- termchild` (exits 0 on TERM, leaves nothing); TERM to the init's host PID, "
        "time until its pidfd reports the exit (for a namespace's PID 1 that is after every process in it is "
        "gone). ctlinit runs twice per round: with its PID file and lock in `/dev/shm` (tmpfs; the target row) "
        f"and on {disk_s} (its exit then includes the PID file's unlink, whose cost depends on the file "
        "system). Each round also times, on both file systems, what ctlinit does to its PID file on its way "
        "out, on a 160-byte file put in a new directory as ctlinit puts it (temp file, rename over the "
        "path, no fsync): the last record written over it, then `unlink(2)` right after (on ext4 a rename "
        "over an existing file starts writeback of the new data, auto_da_alloc, which that unlink can wait "
        "for), and, for comparison, `unlink(2)` of a file that was not replaced; medians of "
        f"{un.get('n', 0)} are beside the disk row.",
        "- **restart gap**: `crashloop` appends CLOCK_MONOTONIC stamps at start and just before `exit(1)`; gap = "
        "next start − previous exit. All supervisors restart side by side in one window: supervisord "
        "(`startsecs=0`, `autorestart=true`, config/socket/pidfile in a temp dir), runsv and s6-supervise with the "
        "crash-looper as `./run`, Docker `--restart=always --network none` of a FROM scratch image holding the "
        "static crash-looper (Docker's delay doubles from 100 ms, so it gets fewer restarts and its median is "
        "the middle of a doubling series), and — once those are past their own start-up — ctlinit "
        "`--restart always --backoff 10ms:10ms --max-restarts 0`. The issue's `--backoff 10ms` means MIN 10 ms "
        "with the default MAX 30 s, so it doubles (SPEC §2); the fixed 10 ms figure is the one comparable with "
        "the target, and the doubling run is reported as its gap minus the backoff ctlinit scheduled. RSS is "
        "sampled every 50 ms while each supervisor restarts.",
        f"- **watchdog restart gap**: ctlinit `--ready notify --watchdog {WDOG_MS}ms --restart always --backoff "
        f"10ms:10ms --max-restarts 0 -- wdog`; each generation of `wdog` stamps its start, sends `READY=1` to "
        f"`$NOTIFY_SOCKET` (stamp R), sends `WATCHDOG=1` {WDOG_KEEPALIVES} times {WDOG_INTERVAL_MS} ms apart "
        "(stamp K after each `sendto`), then goes silent and stamps the TERM that ctlinit's watchdog stop sends "
        f"(T). Gap = next generation's R − (last K + {WDOG_MS} ms), i.e. missed deadline → next generation "
        "ready; it includes the 10 ms backoff (the watchdog stop is a failed run, SPEC §2), the stop of the "
        "old generation and the spawn of the new one. Median over "
        f"{res['config']['wdog_gaps']} restarts; deadline → T and T → next R are in the notes.",
        f"- **drain accuracy**: ctlinit `--stop-delay {DRAIN_MS}ms -- termchild FIFO LOG`; once the daemon is "
        "ready, TERM goes to ctlinit at a CLOCK_MONOTONIC stamp, `termchild` stamps the TERM ctlinit forwards "
        f"when the drain ends; figure = (daemon's stamp − send stamp) − {DRAIN_MS} ms, median, max and min over "
        f"{res['config']['drain_rounds']} runs (a negative value would be a drain cut short).",
        "- **port handoff**: ctlinit `--port P --reload-signal HUP -- portd P`; `portd` logs when it starts, "
        "listens, and closes its listener on TERM; each HUP is sent once the previous generation is ready "
        "(PID file); handoff = new generation's start − old generation's close.",
        "",
    ]
    return "\n".join(lines)


# ------------------------------------------------------------ size breakdown

MUSL = "x86_64-unknown-linux-musl"


def size_breakdown(top=15):
    """The biggest contributors to the musl release binary: build a copy
    with symbols in its own target dir, then cargo-bloat (crates and
    functions), else nm --size-sort. Returns a dict; writes size.md."""
    if not shutil.which("cargo"):
        raise BenchError("size breakdown: cargo not found")
    # its own target dir (under CARGO_TARGET_DIR when set), so the stripped
    # artefact run.sh measures is never rebuilt with other settings
    tdir = os.environ.get("CTLINIT_SYMBOLS_TARGET_DIR") or os.path.join(
        os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target"), "bench-symbols")
    env = dict(os.environ, CARGO_TARGET_DIR=tdir, CARGO_PROFILE_RELEASE_STRIP="false",
               CARGO_PROFILE_RELEASE_DEBUG="false")
    build = ["cargo", "build", "-q", "--release", "--target", MUSL, "--bin", "ctlinit"]
    log(f"size breakdown: musl release build with symbols in {tdir}")
    run(build, timeout=1800, env=env, cwd=ROOT)
    binp = os.path.join(tdir, MUSL, "release", "ctlinit")
    out = {"binary": binp, "bytes": os.path.getsize(binp), "crates": [], "functions": []}
    bloat = shutil.which("cargo-bloat")
    if bloat:
        base = ["cargo", "bloat", "--release", "--target", MUSL, "--bin", "ctlinit", "--message-format", "json",
                "-n", str(top)]
        try:
            rc = run(base + ["--crates"], timeout=1800, env=env, cwd=ROOT)
            rf = run(base[:-1] + ["0"], timeout=1800, env=env, cwd=ROOT)  # every function
            jc = json.loads(rc.stdout.strip().splitlines()[-1])
            jf = json.loads(rf.stdout.strip().splitlines()[-1])
            out["tool"] = "cargo-bloat"
            out["text_bytes"] = jc.get("text-section-size")
            out["file_bytes"] = jc.get("file-size")
            out["crates"] = [{"name": c["name"], "size": c["size"]} for c in jc.get("crates", [])][:top]
            funcs = [{"name": f["name"], "crate": f.get("crate") or "", "size": f["size"]}
                     for f in jf.get("functions", [])]
            funcs.sort(key=lambda f: -f["size"])
            out["functions"] = funcs[:top]
            out["groups"] = symbol_groups(funcs)
        except (BenchError, ValueError, KeyError, IndexError) as e:
            log(f"size breakdown: cargo bloat did not work ({e}); falling back to nm")
    if not out["crates"]:
        r = run(["nm", "--size-sort", "-S", "-C", "--radix=d", binp], timeout=120)
        syms = []
        for line in r.stdout.splitlines():
            parts = line.split(None, 3)
            if len(parts) == 4 and parts[2].lower() in "tw":
                syms.append((int(parts[1]), parts[3]))
        syms.sort(reverse=True)
        crates = {}
        for sz, name in syms:
            n = name.lstrip("<&*")
            crate = n.split("::", 1)[0] if "::" in n else "[C / musl / unmangled]"
            crates[crate] = crates.get(crate, 0) + sz
        out["tool"] = "nm --size-sort (text symbols)"
        out["text_bytes"] = sum(sz for sz, _ in syms)
        out["crates"] = [{"name": k, "size": v} for k, v in sorted(crates.items(), key=lambda kv: -kv[1])][:top]
        out["functions"] = [{"name": n, "crate": "", "size": sz} for sz, n in syms[:top]]
    return out


# Parts of the binary worth naming, by symbol name (a symbol counts once,
# in the first group it matches).
SYMBOL_GROUPS = [
    ("std's backtrace printing (gimli, addr2line, miniz_oxide, rustc_demangle, backtrace_rs)",
     ("gimli", "addr2line", "miniz_oxide", "rustc_demangle", "backtrace_rs", "backtrace::")),
    ("libunwind (C++)", ("libunwind", "_Unwind_", "unw_")),
    ("formatting (core::fmt)", ("core::fmt",)),
]


def symbol_groups(funcs):
    sizes = {name: 0 for name, _ in SYMBOL_GROUPS}
    for f in funcs:
        for name, keys in SYMBOL_GROUPS:
            if any(k in f["name"] for k in keys):
                sizes[name] += f["size"]
                break
    return [{"name": k, "size": v} for k, v in sizes.items()]


def size_md(br, res):
    text = br.get("text_bytes") or 0
    lines = [
        "# ctlinit: what the static musl binary is made of",
        "",
        f"Generated by `bench/run.sh` on {res['date']}, ctlinit {res['ctlinit_rev']}: {br['tool']} on the musl "
        f"release build kept with its symbols (`{os.path.relpath(br['binary'], ROOT)}`, {br['bytes'] / 1024:.0f} "
        f"KiB unstripped; .text {text / 1024:.0f} KiB). The shipped binary is the same build stripped"
        + (f" ({res['size']['ctlinit']['kib']:.0f} KiB)." if res.get("size") else "."),
        "",
        f"## Top {len(br['crates'])} crates (share of .text)",
        "",
        "| # | crate | size | share |",
        "|---|---|---|---|",
    ]
    for i, c in enumerate(br["crates"], 1):
        share = f"{100 * c['size'] / text:.1f} %" if text else ""
        lines.append(f"| {i} | {c['name']} | {c['size'] / 1024:.1f} KiB | {share} |")
    lines += ["", "`[Unknown]` is what cargo-bloat cannot give a crate: the C and C++ parts linked in statically "
              "(musl libc, libunwind)."]
    if br.get("groups"):
        lines += ["", "## Parts across crates (by symbol name)", "", "| part | size | share |", "|---|---|---|"]
        for g in br["groups"]:
            share = f"{100 * g['size'] / text:.1f} %" if text else ""
            lines.append(f"| {g['name']} | {g['size'] / 1024:.1f} KiB | {share} |")
    lines += ["", f"## Top {len(br['functions'])} symbols", "", "| # | symbol | crate | size |", "|---|---|---|---|"]
    for i, f in enumerate(br["functions"], 1):
        name = f["name"].replace("|", "\\|")
        if len(name) > 110:
            name = name[:107] + "…"
        lines.append(f"| {i} | `{name}` | {f['crate']} | {f['size'] / 1024:.1f} KiB |")
    return "\n".join(lines) + "\n"


def main():
    global TMP, VERBOSE
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="few iterations, fewer orphans (smoke check, < 1 min)")
    ap.add_argument("--ctlinit", required=True, help="the static release ctlinit binary")
    ap.add_argument("--only", default="", help="comma-separated subset: " + ",".join(PHASES))
    ap.add_argument("--readme", action="store_true",
                    help="also print the README's table (always written to bench/results/README-table.md)")
    ap.add_argument("--no-docker", action="store_true", help="skip the Docker restart-policy figure")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    VERBOSE = args.verbose
    cfg = dict(QUICK if args.quick else FULL)

    def on_signal(sig, _frame):
        log(f"interrupted by signal {sig}: cleaning up what this run started")
        raise SystemExit(128 + sig)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    set_subreaper()
    TMP = tempfile.mkdtemp(prefix="ctlinit-bench.")
    os.makedirs(os.path.join(TMP, "logs"))
    os.makedirs(os.path.join(TMP, "bin"))
    t_start = time.monotonic()
    status = 0
    try:
        tools = tool_paths()
        helpers = build_helpers(os.path.join(TMP, "bin"))
        res = {
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "mode": "quick" if args.quick else "full",
            "config": cfg,
            "machine": machine_info(),
            "ctlinit": args.ctlinit,
            "ctlinit_rev": git_rev(),
        }
        fs, mnt = fs_type(TMP)
        res["disk_fs"] = {"fs": fs, "mount": mnt, "dir": TMP}
        b = Bench(args, cfg, tools, helpers, args.ctlinit)
        b.res = res
        phases = [("startup", b.startup), ("size", b.size), ("idle", b.idle), ("signal", b.signals),
                  ("reap", b.reaping), ("stop", b.stop_latency), ("restart", b.restart),
                  ("watchdog", b.watchdog), ("drain", b.drain), ("handoff", b.handoff), ("bloat", b.bloat)]
        assert [n for n, _ in phases] == PHASES
        only = [x for x in args.only.split(",") if x]
        unknown = [x for x in only if x not in PHASES]
        if unknown:
            raise BenchError(f"--only: unknown figure(s) {','.join(unknown)} (known: {','.join(PHASES)})")
        errors = {}
        for name, fn in phases:
            if only and name not in only:
                continue
            if name == "bloat" and args.quick and not only:
                log("size breakdown: skipped in --quick (it builds a second copy of ctlinit; "
                    "run.sh --quick --only bloat does it)")
                continue
            t0 = time.monotonic()
            try:
                fn()
            except BenchError as e:
                errors[name] = str(e)
                log(f"{name}: FAILED: {e}")
                status = 1
            finally:
                reap_strays()
            log(f"{name}: {time.monotonic() - t0:.1f} s")
        res["errors"] = errors
        res["machine"]["loadavg_end"] = os.getloadavg()
        res["elapsed_s"] = round(time.monotonic() - t_start, 1)
        rows = build_rows(res)
        res["rows"] = [{k: v for k, v in r.items() if k not in ("cells",)} for r in rows]
        table, notes = markdown(rows, res)
        os.makedirs(RESULTS, exist_ok=True)
        with open(os.path.join(RESULTS, "latest.json"), "w") as f:
            json.dump(res, f, indent=1, default=str)
        svg = svg_chart(rows)
        with open(os.path.join(RESULTS, "ratios.svg"), "w") as f:
            f.write(svg)
        md = results_md(table, notes, res, args.quick)
        with open(os.path.join(RESULTS, "RESULTS.md"), "w") as f:
            f.write(md)
        readme = readme_table(rows, res)
        with open(os.path.join(RESULTS, "README-table.md"), "w") as f:
            f.write(readme)
        if not args.quick and not only:
            stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M")
            shutil.copyfile(os.path.join(RESULTS, "latest.json"), os.path.join(RESULTS, f"full-{stamp}.json"))
        if not args.quick and not only and not errors:
            with open(os.path.join(BENCH, "RESULTS.md"), "w") as f:
                f.write(md)
            shutil.copyfile(os.path.join(RESULTS, "ratios.svg"), os.path.join(BENCH, "ratios.svg"))
            log("wrote bench/RESULTS.md and bench/ratios.svg")
        print()
        print(f"ctlinit benchmarks ({res['mode']}), {res['date']}, {res['machine']['nproc']} CPUs "
              f"({res['machine']['cpu']}), Linux {res['machine']['kernel']}, ctlinit {res['ctlinit_rev']}")
        print()
        print(table)
        print()
        if notes:
            print(notes)
            print()
        misses = [r for r in rows if r["verdict"] == "MISS"]
        print(f"{sum(r['verdict'] == 'PASS' for r in rows)} PASS, {len(misses)} MISS"
              + (f" ({', '.join(r['key'] for r in misses)})" if misses else "")
              + f"; {res['elapsed_s']} s; JSON: bench/results/latest.json, chart: bench/results/ratios.svg, "
              "README table: bench/results/README-table.md"
              + (", size breakdown: bench/results/size.md" if (res.get("size_breakdown") or {}).get("crates") else ""))
        if errors:
            print("errors: " + "; ".join(f"{k}: {v}" for k, v in errors.items()))
        if args.readme:
            print()
            print("README table (bench/results/README-table.md):")
            print()
            print(readme)
    except BenchError as e:
        log(f"FAILED: {e}")
        status = 1
    finally:
        cleanup()
        if args.keep:
            log(f"kept {TMP}")
        else:
            shutil.rmtree(TMP, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
