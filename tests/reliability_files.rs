//! Issue 6, scenarios 6 (PID reuse) and 7 (hostile files), through the real
//! binary: stale PID files naming unrelated live processes, symlinks and hard
//! links planted at the PID file and its predictable temp name, a symlinked
//! lock, a garbage lock, a fallback directory owned by someone else, a
//! non-root user, and PID files that are huge, binary, endless, deep or not
//! files at all.
//!
//! Runs in a few seconds; nothing here gets longer under `CTLINIT_SOAK=1`
//! except the hostile-content list, which adds 200 random binary files.
//! The non-root cases use `setpriv --reuid nobody --regid nogroup
//! --clear-groups` (util-linux) and need the tests to run as root.

#[macro_use]
mod common;
mod reliability_support;

use common::*;
use reliability_support::*;
use std::fs;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::Path;
use std::process::Stdio;

const T: f64 = 10.0;

/// A deterministic byte soup (xorshift), for garbage and binary files.
fn junk(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A well-formed PID file that names `pid` as both supervisor and daemon.
fn record_naming(pid: i32) -> String {
    pidfile_record(pid, pid, 7)
}

fn verb(dir: &TestDir, name: &str, args: &[&str]) -> Measured {
    let mut c = ctlinit_cmd();
    c.args(args);
    run_measured(dir, name, c, secs(T))
}

/// What a file looks like, to prove it untouched.
fn fingerprint(p: &Path) -> (Vec<u8>, u64, i64, i64) {
    let m = fs::metadata(p).unwrap();
    (fs::read(p).unwrap(), m.ino(), m.mtime(), m.mtime_nsec())
}

fn uid_of(user: &str) -> u32 {
    let name = std::ffi::CString::new(user).unwrap();
    // SAFETY: getpwnam with a valid C string; the result is read at once.
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    assert!(!pw.is_null(), "no user {user}");
    unsafe { (*pw).pw_uid }
}

// ------------------------------------------------------------------ 6. PID reuse

/// Scenario 6: a stale PID file whose supervisor_pid and pid belong to an
/// unrelated live process (a sigprint this test started, which logs every
/// signal it gets). With no lock, a garbage lock, or a lock held by yet
/// another process: `status` says not running (3), `health` unhealthy (1),
/// `restart` refuses with 3 and a clear message — and the unrelated process
/// received nothing (checked with two barrier signals: everything sent
/// before them is logged before them).
#[test]
fn pid_reuse_never_signals_an_unrelated_process() {
    let dir = TestDir::new("pid-reuse");
    let victim = Victim::start(&dir);
    let (vpid, victim_out) = (victim.pid, victim.out.clone());
    fs::write(dir.pidfile(), record_naming(vpid)).unwrap();
    let pf = s(&dir.pidfile());

    for case in [
        "no lock file",
        "garbage lock file",
        "lock held by another process",
    ] {
        let _ = fs::remove_file(dir.lockfile());
        let mut held = None;
        match case {
            "garbage lock file" => fs::write(dir.lockfile(), junk(4096, 7)).unwrap(),
            "lock held by another process" => {
                // The test process holds it: the holder is not supervisor_pid.
                let f = fs::File::create(dir.lockfile()).unwrap();
                // SAFETY: flock on an fd we own.
                assert_eq!(
                    unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) },
                    0
                );
                held = Some(f);
            }
            _ => {}
        }
        let restart = verb(
            &dir,
            "restart",
            &["restart", "--timeout", "2s", "--pidfile", &pf],
        );
        assert_eq!(
            restart.code,
            Some(3),
            "{case}: ctlinit restart must refuse: {restart:?}"
        );
        let why = if held.is_some() {
            "refusing to signal"
        } else {
            "stale"
        };
        assert!(
            restart.stderr.starts_with("ctlinit: error:") && restart.stderr.contains(why),
            "{case}: a clear message ({why:?}): {restart:?}"
        );
        if held.is_none() {
            let status = verb(&dir, "status", &["status", "--pidfile", &pf]);
            assert_eq!(status.code, Some(3), "{case}: not running: {status:?}");
            assert!(status.stdout.contains("stale"), "{case}: {status:?}");
            let health = verb(&dir, "health", &["health", "--pidfile", &pf]);
            assert_eq!(health.code, Some(1), "{case}: {health:?}");
        }
        drop(held);
    }

    // Barriers: USR1 then USR2. Anything ctlinit had queued earlier (a
    // real-time SIGRTMAX, a TERM...) would be logged before "signal 12".
    signal_pid(vpid, libc::SIGUSR1);
    ok(wait_for_line(&victim_out, |l| l == "signal 10", secs(T)));
    signal_pid(vpid, libc::SIGUSR2);
    ok(wait_for_line(&victim_out, |l| l == "signal 12", secs(T)));
    let lines = victim.lines();
    drop(victim);
    assert_eq!(
        lines,
        [
            format!("ready {vpid}"),
            "signal 10".into(),
            "signal 12".into()
        ],
        "the unrelated process was signalled by a verb"
    );
}

// ------------------------------------------------------------------ 7. hostile files

/// A symlink and a hard link planted at the PID file path (before start,
/// while running, before exit), and a symlink at the predictable temp name
/// of PID 1 (`.daemon.pid.1.tmp`): the victims are never written, the PID
/// file stays valid.
fn planted_links_never_followed(mode: Mode) {
    let dir = TestDir::new("planted-links");
    let victim = dir.join("victim");
    let linked = dir.join("hardlinked");
    let tmp_victim = dir.join("tmp-victim");
    for (p, text) in [
        (&victim, "precious\n"),
        (&linked, "also precious\n"),
        (&tmp_victim, "tmp precious\n"),
    ] {
        fs::write(p, text).unwrap();
    }
    let before: Vec<_> = [&victim, &linked, &tmp_victim]
        .iter()
        .map(|p| fingerprint(p))
        .collect();
    let pidfile = dir.pidfile();
    symlink(&victim, &pidfile).unwrap();
    symlink(&tmp_victim, dir.join(".daemon.pid.1.tmp")).unwrap();
    let mut ctl = Ctl::builder(&dir, mode)
        .args(["--reload-signal", "HUP"])
        .fixture(&["sigprint"])
        .spawn();
    ok(ctl.wait_pidfile(|v| v["generation"] == 1 && v["state"] == "ready", secs(T)));
    assert!(
        fs::symlink_metadata(&pidfile)
            .unwrap()
            .file_type()
            .is_file(),
        "the symlink was replaced"
    );

    // Plant again while running, then make ctlinit rewrite the file.
    fs::remove_file(&pidfile).unwrap();
    fs::hard_link(&linked, &pidfile).unwrap();
    ctl.signal(libc::SIGHUP);
    ok(ctl.wait_pidfile(|v| v["generation"] == 2 && v["state"] == "ready", secs(T)));
    fs::remove_file(&pidfile).unwrap();
    symlink(&victim, &pidfile).unwrap();
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(143), "{}", ctl.context());
    let after: Vec<_> = [&victim, &linked, &tmp_victim]
        .iter()
        .map(|p| fingerprint(p))
        .collect();
    assert_eq!(before, after, "a planted link was followed");
    assert!(
        fs::symlink_metadata(&pidfile).is_err(),
        "the PID file path is gone at exit"
    );
}

/// A lock path that is a symlink to a victim: ctlinit refuses it (exit 2,
/// naming it) instead of truncating the victim, and starts nothing.
#[test]
fn symlinked_lock_file_is_refused() {
    let dir = TestDir::new("symlinked-lock");
    let victim = dir.join("victim");
    fs::write(&victim, "precious\n").unwrap();
    let before = fingerprint(&victim);
    symlink(&victim, dir.lockfile()).unwrap();
    let mut ctl = Ctl::builder(&dir, Mode::Subreaper)
        .fixture(&["sigprint"])
        .spawn();
    let code = ctl.wait_code(secs(T));
    assert_eq!(code, Ok(2), "{}", ctl.context());
    assert!(
        ctl.stderr_text().contains(&s(&dir.lockfile())),
        "names the lock{}",
        ctl.context()
    );
    assert_eq!(
        fingerprint(&victim),
        before,
        "the victim was written through the symlink"
    );
    assert!(
        ctl.out_lines().is_empty(),
        "nothing was started: {:?}",
        ctl.out_lines()
    );
    assert!(!dir.pidfile().exists(), "no PID file");
}

/// A pre-existing lock file full of garbage: ctlinit takes it and writes its
/// pid into it; `status` sees the supervisor running.
#[test]
fn garbage_lock_file_works() {
    let dir = TestDir::new("garbage-lock");
    fs::write(dir.lockfile(), junk(100 * 1024, 42)).unwrap();
    let mut ctl = Ctl::builder(&dir, Mode::Subreaper)
        .fixture(&["sigprint"])
        .spawn();
    ok(ctl.wait_state("ready", secs(T)));
    assert_eq!(
        fs::read_to_string(dir.lockfile()).unwrap(),
        format!("{}\n", ctl.pid)
    );
    let st = verb(&dir, "status", &["status", "--pidfile", &s(&dir.pidfile())]);
    assert_eq!(st.code, Some(0), "{st:?}");
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(143), "{}", ctl.context());
}

/// Scenario 7: hostile PID files for the verbs. Each one: `status` (and
/// `status --json`) exit 4 with `ctlinit: error: cannot read PID file PATH:
/// <why>` in bounded memory (peak RSS from wait4 under 20 MiB, and within
/// 4 MiB of `status` on a missing file), `health` exits 1, `restart` exits 3.
/// A verb that hung on a file (read /dev/zero to the end...) is killed at the
/// run's `T` bound and fails on its exit code; how long each took is printed
/// (`FIGURES`), not asserted.
#[test]
fn hostile_pid_files_exit_4_in_bounded_memory() {
    let dir = TestDir::new("hostile-pidfiles");
    let missing = verb(
        &dir,
        "baseline",
        &["status", "--pidfile", &s(&dir.join("none.pid"))],
    );
    assert_eq!(missing.code, Some(3), "{missing:?}");
    let base = missing.maxrss_kb;

    let mut cases: Vec<(String, std::path::PathBuf)> = Vec::new();
    let mut add = |name: &str, make: &dyn Fn(&Path)| {
        let p = dir.join(&format!("{name}.pid"));
        make(&p);
        cases.push((name.to_string(), p));
    };
    add("sparse-1GiB", &|p| {
        fs::File::create(p).unwrap().set_len(1 << 30).unwrap()
    });
    add("binary", &|p| fs::write(p, junk(4096, 1)).unwrap());
    add("dev-zero", &|p| symlink("/dev/zero", p).unwrap());
    add("dev-urandom", &|p| symlink("/dev/urandom", p).unwrap());
    add("deep-nesting", &|p| {
        fs::write(p, "[".repeat(60_000)).unwrap()
    });
    add("just-over-64KiB", &|p| {
        let rec = record_naming(1);
        fs::write(p, format!("{rec}{}", " ".repeat(64 * 1024 + 1 - rec.len()))).unwrap()
    });
    add("wrong-types", &|p| {
        fs::write(p, r#"{"pid":"1","generation":-1,"state":7}"#).unwrap()
    });
    add("huge-number", &|p| {
        fs::write(p, format!("{{\"pid\":{}}}", "9".repeat(50_000))).unwrap()
    });
    add("nul-in-json", &|p| {
        fs::write(p, record_naming(1).replace("ready", "re\u{0}dy")).unwrap()
    });
    add("directory", &|p| fs::create_dir(p).unwrap());
    if soak() {
        for i in 0..200 {
            add(&format!("random-{i}"), &|p| {
                fs::write(p, junk(1 + (i * 331) % 70_000, i as u64 + 3)).unwrap()
            });
        }
    }

    let mut worst = (0i64, String::new());
    let mut slowest = (std::time::Duration::ZERO, String::new());
    for (name, p) in &cases {
        let pf = s(p);
        let st = verb(
            &dir,
            &format!("status-{name}"),
            &["status", "--pidfile", &pf],
        );
        let prefix = format!("ctlinit: error: cannot read PID file {pf}: ");
        assert_eq!(st.code, Some(4), "{name}: status exits 4: {st:?}");
        assert!(
            st.stderr.starts_with(&prefix) && st.stderr.lines().count() == 1,
            "{name}: one clear line: {st:?}"
        );
        assert!(
            st.maxrss_kb < 20 * 1024,
            "{name}: status peaked at {} KiB",
            st.maxrss_kb
        );
        assert!(
            st.maxrss_kb < base + 4 * 1024,
            "{name}: status peaked at {} KiB (missing file: {base} KiB)",
            st.maxrss_kb
        );
        if st.maxrss_kb > worst.0 {
            worst = (st.maxrss_kb, name.clone());
        }
        if st.elapsed > slowest.0 {
            slowest = (st.elapsed, name.clone());
        }
        let js = verb(
            &dir,
            &format!("json-{name}"),
            &["status", "--json", "--pidfile", &pf],
        );
        assert_eq!(js.code, Some(4), "{name}: status --json exits 4: {js:?}");
        let h = verb(
            &dir,
            &format!("health-{name}"),
            &["health", "--pidfile", &pf],
        );
        assert_eq!(h.code, Some(1), "{name}: health exits 1: {h:?}");
        assert_eq!(
            h.stdout.lines().count(),
            1,
            "{name}: health prints one line: {h:?}"
        );
        let r = verb(
            &dir,
            &format!("restart-{name}"),
            &["restart", "--timeout", "1s", "--pidfile", &pf],
        );
        assert_eq!(r.code, Some(3), "{name}: restart exits 3: {r:?}");
    }
    eprintln!(
        "FIGURES hostile-pidfiles: cases={} status_maxrss_missing_kb={base} worst_kb={} ({}) slowest_status={:?} ({})",
        cases.len(),
        worst.0,
        worst.1,
        slowest.0,
        slowest.1
    );
}

/// A FIFO at the PID file path (nobody writes to it): `status` must not
/// hang on it — it is not a regular file, so exit 4 with the one clear line.
/// An open(2) that blocked would never return: the run is killed at `T` and
/// its code is None.
#[test]
fn fifo_pid_file_does_not_hang_status() {
    let dir = TestDir::new("fifo-pidfile");
    let p = dir.pidfile();
    mkfifo(&p);
    let mut c = ctlinit_cmd();
    c.args(["status", "--pidfile"]).arg(&p);
    let st = run_measured(&dir, "status", c, secs(T));
    eprintln!("FIGURES fifo-pidfile: status took {:?}", st.elapsed);
    assert_eq!(
        st.code,
        Some(4),
        "ctlinit status on a FIFO PID file: expected exit 4 (None = hung, killed after {T} s): {st:?}"
    );
    assert!(
        st.stderr
            .starts_with(&format!("ctlinit: error: cannot read PID file {}: ", s(&p)))
            && st.stderr.lines().count() == 1,
        "one clear line naming the file: {st:?}"
    );
}

// ------------------------------------------------------------------ non-root

/// A directory nobody can use: TMPDIR for the `nobody` runs, mode 1777.
fn tmpdir_for_nobody(dir: &TestDir, name: &str) -> std::path::PathBuf {
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let t = dir.join(name);
    fs::create_dir(&t).unwrap();
    fs::set_permissions(&t, fs::Permissions::from_mode(0o1777)).unwrap();
    t
}

/// The default /run/ctlinit must be unusable for `nobody` (it is root's).
fn assert_run_not_writable_by_others() {
    for p in ["/run/ctlinit", "/run"] {
        if let Ok(m) = fs::metadata(p) {
            assert!(
                m.mode() & 0o002 == 0,
                "{p} is writable by everyone: this test needs it root-only"
            );
            return;
        }
    }
}

/// ctlinit as `nobody`, supervising sigprint; output files writable by it.
fn start_as_nobody(dir: &TestDir, name: &str, tmpdir: &Path) -> Proc {
    let out = dir.join(&format!("{name}.out"));
    fs::write(&out, "").unwrap();
    fs::set_permissions(&out, fs::Permissions::from_mode(0o666)).unwrap();
    let stderr = dir.join(&format!("{name}.stderr"));
    let (ctlinit, fixture) = bins_for_others(dir);
    let mut c = as_nobody();
    c.arg(ctlinit)
        .args(["--stop-timeout", "2s", "--"])
        .arg(fixture)
        .arg("sigprint")
        .current_dir(dir.path())
        .env("TMPDIR", tmpdir)
        .env("FIXTURE_OUT", &out)
        .stdin(Stdio::null())
        .stdout(fs::File::create(dir.join(&format!("{name}.stdout"))).unwrap())
        .stderr(fs::File::create(&stderr).unwrap());
    Proc::spawn(c, stderr, out)
}

/// Scenario 7: as a non-root user whose /run/ctlinit is not writable, with
/// `$TMPDIR/ctlinit-<uid>` already there but owned by root (and open to
/// everyone, so a careless ctlinit could write into it): refused with one
/// warning, ctlinit runs on without PID file, nothing lands in that directory.
#[test]
fn foreign_fallback_dir_refused_as_nobody() {
    assert_run_not_writable_by_others();
    let dir = TestDir::new("foreign-fallback-nobody");
    let tmp = tmpdir_for_nobody(&dir, "tmp");
    let foreign = tmp.join(format!("ctlinit-{}", uid_of("nobody")));
    fs::create_dir(&foreign).unwrap();
    fs::set_permissions(&foreign, fs::Permissions::from_mode(0o777)).unwrap();
    let mut p = start_as_nobody(&dir, "ctlinit", &tmp);
    ok(p.wait_out(|l| l.starts_with("ready "), secs(T)));
    let warn = ok(p.wait_stderr(|l| l.starts_with("ctlinit: warn:"), secs(T)));
    assert!(
        warn.contains(&s(&foreign)),
        "the warning names the refused directory: {warn}"
    );
    p.signal(libc::SIGTERM);
    assert_eq!(p.wait_code(secs(T)), Ok(143), "{}", p.context());
    let warns = read_lines(&p.stderr_path)
        .iter()
        .filter(|l| l.starts_with("ctlinit: warn:"))
        .count();
    assert_eq!(warns, 1, "exactly one warning{}", p.context());
    assert!(
        fs::read_dir(&foreign).unwrap().next().is_none(),
        "something was written into the foreign directory"
    );
    assert_eq!(
        fs::metadata(&foreign).unwrap().uid(),
        0,
        "the foreign directory was not taken over"
    );
}

/// Scenario 7: as a non-root user, the fallback works end to end: the
/// directory is created 0700 and owned by the user, the PID file and lock
/// live there, `status` and `restart` run as that user find it, and the PID
/// file is removed at exit.
#[test]
fn nonroot_user_works_with_the_fallback() {
    assert_run_not_writable_by_others();
    let dir = TestDir::new("fallback-nobody");
    let tmp = tmpdir_for_nobody(&dir, "tmp");
    let nobody = uid_of("nobody");
    let fallback = tmp.join(format!("ctlinit-{nobody}"));
    let pidfile = fallback.join("daemon.pid");
    let mut p = start_as_nobody(&dir, "ctlinit", &tmp);
    ok(p.wait_out(|l| l.starts_with("ready "), secs(T)));
    let v = ok(wait_until(
        "the fallback PID file",
        secs(T),
        || read_json(&pidfile).ok(),
        || p.context(),
    ));
    assert_eq!(v["supervisor_pid"], p.pid, "{v}");
    let m = fs::metadata(&fallback).unwrap();
    assert_eq!(
        (m.uid(), m.mode() & 0o777),
        (nobody, 0o700),
        "fallback directory owner and mode"
    );
    assert!(
        fallback.join("ctlinit.lock").exists(),
        "the lock lives beside the PID file"
    );
    assert!(
        !p.stderr_text().contains("warn:"),
        "no warning when the fallback works{}",
        p.context()
    );

    // The verbs, as the same user, find it through the default lookup when
    // /run/ctlinit/daemon.pid does not exist (else through --pidfile).
    let explicit = Path::new("/run/ctlinit/daemon.pid").exists();
    let run_verb = |name: &str, args: &[&str]| {
        let mut c = as_nobody();
        c.arg(bins_for_others(&dir).0)
            .args(args)
            .env("TMPDIR", &tmp)
            .current_dir(dir.path());
        if explicit {
            c.arg("--pidfile").arg(&pidfile);
        }
        run_measured(&dir, name, c, secs(T))
    };
    let st = run_verb("status", &["status"]);
    assert_eq!(st.code, Some(0), "{st:?}");
    let r = run_verb("restart", &["restart", "--timeout", "5s"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(
        r.stdout.starts_with("restarted: generation 1 -> 2"),
        "{r:?}"
    );
    p.signal(libc::SIGTERM);
    assert_eq!(p.wait_code(secs(T)), Ok(143), "{}", p.context());
    assert!(!pidfile.exists(), "PID file removed at exit");
}

both_modes!(planted_links_never_followed);
