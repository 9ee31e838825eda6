//! Issue 6, scenario 9: resource ceilings. A daemon that closes its stdin,
//! stdout and stderr; a ctlinit whose own stderr reader goes away, and one
//! started with fds 0-2 closed; a daemon holding 10 000 descriptors; a
//! daemon that forks until the pids limit. In each: ctlinit stays responsive
//! (`ctlinit status` answers, a restart works where it applies) and a TERM
//! stops everything within the stop deadline.
//!
//! The pids limit uses a cgroup v2 child group with pids.max=200 when
//! /sys/fs/cgroup offers the pids controller, else a cgroup v1 pids group
//! (/sys/fs/cgroup/pids), else RLIMIT_NPROC=200 for a ctlinit run as
//! `nobody`; if none works the test says so loudly on stderr and passes
//! without checking. Only this test's own processes are moved into the group.
//!
//! Bounded for CI (about 15 s for the file). `CTLINIT_SOAK=1` holds the
//! limits for 60 s each instead of one check.

#[macro_use]
mod common;
mod reliability_support;

use common::*;
use reliability_support::*;
use std::fs;
use std::io::Read;
use std::os::unix::io::{AsRawFd, FromRawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const T: f64 = 10.0;
const STOP: f64 = 2.0;
const SLACK: f64 = 1.5;

/// How long the soak mode keeps a limit hit.
fn hold() -> Duration {
    scaled(Duration::ZERO, secs(60.0))
}

/// `ctlinit status --pidfile PATH`, timed; it must answer within 3 s.
fn status_answers(dir: &TestDir, pidfile: &Path, name: &str) -> Measured {
    let mut c = ctlinit_cmd();
    c.args(["status", "--json", "--pidfile"]).arg(pidfile);
    let m = run_measured(dir, name, c, secs(T));
    assert_eq!(m.code, Some(0), "ctlinit status under the ceiling: {m:?}");
    assert!(m.elapsed < secs(3.0), "ctlinit status took {:?}", m.elapsed);
    m
}

// ------------------------------------------------------------------ closed stdio

/// A daemon that closes stdin, stdout and stderr before it runs: ctlinit
/// does not care — status answers, a restart works, TERM stops it.
fn daemon_closes_stdio(mode: Mode) {
    let dir = TestDir::new("daemon-closes-stdio");
    let script = r#"exec <&- >&- 2>&-; exec "$0" sigprint"#;
    let mut ctl = Ctl::builder(&dir, mode)
        .args([
            "--stop-timeout",
            "2s",
            "--reload-signal",
            "HUP",
            "--",
            "sh",
            "-c",
            script,
        ])
        .arg(fixture_bin())
        .spawn();
    ok(ctl.wait_pidfile(|v| v["generation"] == 1 && v["state"] == "ready", secs(T)));
    let daemon = ctl
        .host_pid(ok(ctl.wait_ready_pid(secs(T))))
        .expect("daemon's host pid");
    let fds: Vec<i32> = open_fds(daemon).into_iter().map(|(fd, _)| fd).collect();
    assert!(
        !fds.contains(&0) && !fds.contains(&1) && !fds.contains(&2),
        "daemon fds: {fds:?}"
    );
    status_answers(&dir, &ctl.pidfile, "status");
    ctl.signal(libc::SIGHUP);
    ok(ctl.wait_pidfile(|v| v["generation"] == 2 && v["state"] == "ready", secs(T)));
    ctl.signal(libc::SIGTERM);
    let t = Instant::now();
    assert_eq!(
        ctl.wait_code(secs(STOP + SLACK)),
        Ok(143),
        "{}",
        ctl.context()
    );
    eprintln!(
        "FIGURES ceilings closed-stdio {mode:?}: term_to_exit={:?}",
        t.elapsed()
    );
    assert_summary(
        &ctl,
        "status=143 generation=2 exits=2 restarts=1 reason=stopped",
    );
}

/// ctlinit's own stderr is a pipe whose reader goes away (a log collector
/// that died): its log writes fail with EPIPE. It must keep supervising,
/// restart on request, and still exit with the daemon's status (143) after a
/// TERM — not die of SIGPIPE, not panic.
#[test]
fn stderr_reader_gone() {
    let dir = TestDir::new("stderr-reader-gone");
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two fds we then own.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: fresh descriptors, owned once each.
    let (mut reader, writer) =
        unsafe { (fs::File::from_raw_fd(fds[0]), fs::File::from_raw_fd(fds[1])) };
    let out = dir.out();
    let mut c = ctlinit_cmd();
    c.args(["--pidfile"])
        .arg(dir.pidfile())
        .args(["--stop-timeout", "2s", "--reload-signal", "HUP", "--"])
        .arg(fixture_bin())
        .arg("sigprint")
        .env("FIXTURE_OUT", &out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(writer);
    let mut p = Proc::spawn(c, dir.join("none.stderr"), out);
    // Read until ctlinit says generation 1 is ready, then close the reader.
    // SAFETY: fcntl on a descriptor we own.
    unsafe { libc::fcntl(reader.as_raw_fd(), libc::F_SETFL, libc::O_NONBLOCK) };
    let mut seen = String::new();
    let t0 = Instant::now();
    while !seen.contains("generation 1 (pid") || !seen.contains("ready in") {
        let mut buf = [0u8; 4096];
        match reader.read(&mut buf) {
            Ok(0) => panic!("ctlinit closed its stderr: {seen:?}{}", p.context()),
            Ok(n) => seen.push_str(&String::from_utf8_lossy(&buf[..n])),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => thread::sleep(POLL),
            Err(e) => panic!("reading ctlinit's stderr: {e}"),
        }
        assert!(
            t0.elapsed() < secs(T),
            "ctlinit's stderr never said generation 1 is ready: {seen:?}"
        );
    }
    drop(reader);
    p.signal(libc::SIGHUP);
    let pidfile = dir.pidfile();
    ok(wait_until(
        "generation 2 ready with nobody reading ctlinit's stderr",
        secs(T),
        || {
            read_json(&pidfile)
                .ok()
                .filter(|v| v["generation"] == 2 && v["state"] == "ready")
        },
        || p.context(),
    ));
    status_answers(&dir, &pidfile, "status");
    p.signal(libc::SIGTERM);
    let code = p.wait_code(secs(STOP + SLACK));
    assert_eq!(
        code,
        Ok(143),
        "exit status with a broken stderr (101 = a panic on the summary line)"
    );
}

/// ctlinit started with fds 0, 1 and 2 closed (a careless parent): its own
/// descriptors must not be mixed up with stdio — the lock file holds only
/// the pid, the PID file is valid, status answers, TERM stops it.
#[test]
fn started_with_stdio_closed() {
    let dir = TestDir::new("stdio-closed");
    let out = dir.out();
    let mut c = ctlinit_cmd();
    c.args(["--pidfile"])
        .arg(dir.pidfile())
        .args(["--stop-timeout", "2s", "--reload-signal", "HUP", "--"])
        .arg(fixture_bin())
        .arg("sigprint")
        .env("FIXTURE_OUT", &out);
    // SAFETY: close(2) only, between fork and exec.
    unsafe {
        c.pre_exec(|| {
            for fd in 0..3 {
                libc::close(fd);
            }
            Ok(())
        });
    }
    let mut p = Proc::spawn(c, dir.join("none.stderr"), out);
    let pidfile = dir.pidfile();
    ok(wait_until(
        "generation 1 ready",
        secs(T),
        || read_json(&pidfile).ok().filter(|v| v["state"] == "ready"),
        || p.context(),
    ));
    p.signal(libc::SIGHUP);
    ok(wait_until(
        "generation 2 ready",
        secs(T),
        || {
            read_json(&pidfile)
                .ok()
                .filter(|v| v["generation"] == 2 && v["state"] == "ready")
        },
        || p.context(),
    ));
    assert_eq!(
        fs::read_to_string(dir.lockfile()).unwrap(),
        format!("{}\n", p.pid),
        "lock file content"
    );
    status_answers(&dir, &pidfile, "status");
    p.signal(libc::SIGTERM);
    assert_eq!(p.wait_code(secs(STOP + SLACK)), Ok(143));
    assert_eq!(
        fs::read_to_string(dir.lockfile()).unwrap(),
        format!("{}\n", p.pid),
        "lock file content at exit"
    );
}

// ------------------------------------------------------------------ 10 000 fds

/// A daemon holding 10 000 open descriptors (RLIMIT_NOFILE raised to 12 000
/// with prlimit), with `--ready listen`, which makes ctlinit scan the
/// daemon's descriptors for sockets every 10 ms until ready, and again when
/// it stops it for a restart. Readiness, status, a restart and the stop all
/// stay within bounds.
fn daemon_holding_10000_fds(mode: Mode) {
    let _heavy = serial();
    let dir = TestDir::new("10000-fds");
    let p = port(7);
    // perl: $^F high so the 10 000 stay open across the exec into the fixture.
    let perl = r#"$^F = 1 << 20; my @keep; for (1 .. 10000) { open(my $h, "<", "/dev/null") or die "open: $!"; push @keep, $h } exec { $ARGV[0] } @ARGV or die "exec: $!""#;
    let t0 = Instant::now();
    let mut ctl = Ctl::builder(&dir, mode)
        .args([
            "--stop-timeout",
            "2s",
            "--reload-signal",
            "HUP",
            "--ready",
            "listen",
            "--",
        ])
        .args(["prlimit", "--nofile=12000:12000", "--", "perl", "-e", perl])
        .arg(fixture_bin())
        .args(["listen", &p.to_string()])
        .spawn();
    ok(ctl.wait_pidfile(|v| v["generation"] == 1 && v["state"] == "ready", secs(T)));
    let to_ready = t0.elapsed();
    let daemon = ctl
        .host_pid(ok(ctl.wait_ready_pid(secs(T))))
        .expect("daemon's host pid");
    let held = fd_count(daemon).unwrap_or(0);
    assert!(held >= 10_000, "the daemon holds {held} fds");
    let st = status_answers(&dir, &ctl.pidfile, "status");
    let v: Value = serde_json::from_str(st.stdout.trim()).expect("status --json");
    assert_eq!(v["ports"], serde_json::json!([p]), "{v}");
    thread::sleep(hold());
    let t1 = Instant::now();
    ctl.signal(libc::SIGHUP);
    ok(ctl.wait_pidfile(|v| v["generation"] == 2 && v["state"] == "ready", secs(T)));
    let restart = t1.elapsed();
    ctl.signal(libc::SIGTERM);
    let t = Instant::now();
    assert_eq!(
        ctl.wait_code(secs(STOP + SLACK)),
        Ok(0),
        "{}",
        ctl.context()
    );
    eprintln!(
        "FIGURES ceilings 10000-fds {mode:?}: daemon_fds={held} start_to_ready={to_ready:?} status={:?} \
         restart={restart:?} term_to_exit={:?}",
        st.elapsed,
        t.elapsed()
    );
}

// ------------------------------------------------------------------ pids limit

/// Where the pids limit comes from.
enum Limit {
    /// A cgroup directory (v1 or v2) with pids.max set; removed on drop.
    Cgroup(PathBuf),
    Nproc,
}

impl Drop for Limit {
    fn drop(&mut self) {
        if let Limit::Cgroup(d) = self {
            // Empty by now (or its processes are dying): retry briefly.
            let _ = wait_until(
                "the test cgroup to be removable",
                secs(5.0),
                || fs::remove_dir(&*d).ok(),
                String::new,
            );
        }
    }
}

fn make_cgroup(max: u32) -> Option<Limit> {
    let name = format!("ctlinit-reliability-{}", std::process::id());
    let v2 = Path::new("/sys/fs/cgroup");
    let v2_ok = fs::read_to_string(v2.join("cgroup.controllers"))
        .is_ok_and(|c| c.split_whitespace().any(|x| x == "pids"));
    let base = if v2_ok {
        // Delegate the pids controller to children of the root (harmless if on).
        let _ = fs::write(v2.join("cgroup.subtree_control"), "+pids");
        v2.to_path_buf()
    } else if Path::new("/sys/fs/cgroup/pids/cgroup.procs").exists() {
        PathBuf::from("/sys/fs/cgroup/pids")
    } else {
        return None;
    };
    let d = base.join(name);
    fs::create_dir(&d).ok()?;
    if fs::write(d.join("pids.max"), max.to_string()).is_err() {
        let _ = fs::remove_dir(&d);
        return None;
    }
    Some(Limit::Cgroup(d))
}

/// A daemon that forks until the pids limit (200): each child sleeps, the
/// parent reports how many it got when fork fails, then sleeps. ctlinit (as
/// PID 1, inside the limited group) must answer `status` from outside and
/// stop the whole tree within the deadline.
#[test]
fn daemon_forks_until_pids_limit() {
    let _heavy = serial();
    let forced_nproc = std::env::var("CTLINIT_TEST_FORCE_NPROC").as_deref() == Ok("1");
    let limit = if forced_nproc { None } else { make_cgroup(200) };
    let limit = match limit {
        Some(l) => l,
        None if Command::new("setpriv")
            .arg("--help")
            .stdout(Stdio::null())
            .status()
            .is_ok() =>
        {
            Limit::Nproc
        }
        None => {
            eprintln!("!!! SKIPPED daemon_forks_until_pids_limit: no writable pids cgroup and no setpriv for RLIMIT_NPROC !!!");
            return;
        }
    };
    let dir = TestDir::new("pids-limit");
    let fifo = dir.join("go");
    mkfifo(&fifo);
    let bomb = r#"my $n = 0; while (1) { my $p = fork; last unless defined $p; if ($p == 0) { sleep 1000; exit 0 } $n++ } open(my $o, ">>", $ENV{FIXTURE_OUT}) or die; print $o "full $n\n"; close $o; sleep 1000"#;
    let script = r#"echo "ready $$" >> "$FIXTURE_OUT"; read go < "$1"; exec perl -e "$2""#;
    let mut status_pidfile = dir.pidfile();
    let mut cg: Option<PathBuf> = None;
    // Pid1 in a cgroup; or, for RLIMIT_NPROC, a subreaper run as nobody.
    let mut ctl_pid1 = None;
    let mut ctl_nobody = None;
    match &limit {
        Limit::Cgroup(d) => {
            let ctl = Ctl::builder(&dir, Mode::Pid1)
                .args(["--stop-timeout", "2s", "--", "sh", "-c", script, "sh"])
                .arg(&fifo)
                .arg(bomb)
                .spawn();
            ok(ctl.wait_out_pids("ready", secs(T)));
            // Move ctlinit and its one child (the waiting shell) into the group.
            for p in std::iter::once(ctl.pid).chain(ctl.descendants()) {
                fs::write(d.join("cgroup.procs"), p.to_string()).unwrap_or_else(|e| {
                    panic!("move pid {p} into {}: {e}{}", d.display(), ctl.context())
                });
            }
            cg = Some(d.clone());
            ctl_pid1 = Some(ctl);
        }
        Limit::Nproc => {
            eprintln!("daemon_forks_until_pids_limit: no writable pids cgroup, using RLIMIT_NPROC=200 as nobody");
            let out = dir.out();
            fs::write(&out, "").unwrap();
            fs::set_permissions(&out, std::os::unix::fs::PermissionsExt::from_mode(0o666)).unwrap();
            fs::set_permissions(
                dir.path(),
                std::os::unix::fs::PermissionsExt::from_mode(0o755),
            )
            .unwrap();
            let (ctlinit, _) = bins_for_others(&dir);
            let tmp = dir.join("tmp");
            fs::create_dir(&tmp).unwrap();
            fs::set_permissions(&tmp, std::os::unix::fs::PermissionsExt::from_mode(0o1777))
                .unwrap();
            let uid = {
                let n = std::ffi::CString::new("nobody").unwrap();
                // SAFETY: getpwnam with a valid C string, read at once.
                unsafe { (*libc::getpwnam(n.as_ptr())).pw_uid }
            };
            status_pidfile = tmp.join(format!("ctlinit-{uid}")).join("daemon.pid");
            std::os::unix::fs::chown(&fifo, Some(uid), None).unwrap();
            let stderr = dir.join("ctlinit.stderr");
            let mut c = Command::new("prlimit");
            c.args(["--nproc=200:200", "--"]).arg("setpriv").args([
                "--reuid",
                "nobody",
                "--regid",
                "nogroup",
                "--clear-groups",
                "--",
            ]);
            scrub_env(&mut c);
            c.arg(ctlinit)
                .current_dir(dir.path())
                .args(["--stop-timeout", "2s", "--", "sh", "-c", script, "sh"])
                .arg(&fifo)
                .arg(bomb)
                .env("TMPDIR", &tmp)
                .env("FIXTURE_OUT", &out)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(fs::File::create(&stderr).unwrap());
            let p = Proc::spawn(c, stderr, out);
            ok(p.wait_out(|l| l.starts_with("ready "), secs(T)));
            ctl_nobody = Some(p);
        }
    }
    let out = dir.out();
    let t0 = Instant::now();
    trigger_fifo(&fifo, secs(T));
    let full = ok(wait_for_line(&out, |l| l.starts_with("full "), secs(30.0)));
    let forked: u32 = full[5..].trim().parse().unwrap_or(0);
    let to_full = t0.elapsed();
    let current = cg
        .as_ref()
        .and_then(|d| fs::read_to_string(d.join("pids.current")).ok())
        .unwrap_or_default();
    let st = status_answers(&dir, &status_pidfile, "status-at-limit");
    thread::sleep(hold());
    let st2 = status_answers(&dir, &status_pidfile, "status-at-limit-2");
    let t = Instant::now();
    let code = match (&mut ctl_pid1, &mut ctl_nobody) {
        (Some(c), _) => {
            c.signal(libc::SIGTERM);
            c.wait_code(secs(STOP + SLACK))
        }
        (_, Some(p)) => {
            p.signal(libc::SIGTERM);
            p.wait_code(secs(STOP + SLACK))
        }
        _ => unreachable!(),
    };
    let took = t.elapsed();
    let left = processes_with_env("FIXTURE_OUT", &s(&out));
    eprintln!(
        "FIGURES ceilings pids-limit ({}): forked={forked} to_limit={to_full:?} pids.current={} status_at_limit={:?}/{:?} \
         term_to_exit={took:?} left={}",
        if cg.is_some() { "cgroup pids.max=200" } else { "RLIMIT_NPROC=200" },
        current.trim(),
        st.elapsed,
        st2.elapsed,
        left.len()
    );
    assert!(
        forked >= 150,
        "the daemon forked only {forked} children before the limit (expected close to 200)"
    );
    assert_eq!(code, Ok(143), "stop at the pids limit (perl dies of TERM)");
    assert!(
        left.is_empty(),
        "processes of the daemon's tree left running: {} (e.g. {:?})",
        left.len(),
        &left[..left.len().min(5)]
    );
    drop(ctl_pid1);
    drop(ctl_nobody);
    drop(limit);
}

both_modes!(daemon_closes_stdio, daemon_holding_10000_fds);
