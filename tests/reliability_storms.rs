//! Issue 6, scenarios 1-3: storms of orphans, signals and restart requests
//! against the real binary.
//!
//! Bounded for CI (about 15 s for the file on 2 cores). `CTLINIT_SOAK=1`
//! lengthens every scenario: 200 000 orphans instead of 20 000, 1 000 000
//! signals instead of 10 000, a 10 s restart storm of 10 000 requests
//! instead of 1 s / 1 000.
//!
//! Each test prints a `FIGURES` line (visible with `--nocapture`) with the
//! numbers the README's reliability section quotes.

#[macro_use]
mod common;
mod reliability_support;

use common::*;
use reliability_support::*;
use std::collections::BTreeMap;
use std::fs;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

const T: f64 = 10.0;

// ------------------------------------------------------------------ 1. orphan storm

/// Scenario 1: as PID 1, bursts of orphaned grandchildren (5 000 per burst,
/// each orphan living 50-200 ms) → afterwards no zombie in the namespace, the
/// daemon is the same process and still gets its signals, and ctlinit's RSS
/// is back within 1 MiB of its pre-storm baseline.
#[test]
fn orphan_storm_as_pid1() {
    let _heavy = serial();
    let dir = TestDir::new("orphan-storm");
    let fifo = dir.join("go");
    mkfifo(&fifo);
    let per_burst = 5_000;
    let bursts: usize = scaled(4, 40);
    // The daemon (a shell, later exec'ing sigprint: one pid throughout) waits
    // for the go signal on a FIFO, so the baseline is taken before the storm.
    let script = r#"echo "ready $$" >> "$FIXTURE_OUT"
read go < "$1"
i=0
while [ "$i" -lt "$2" ]; do
  i=$((i+1))
  FIXTURE_OUT= "$0" orphans "$3" --exit > /dev/null || echo "burst-failed $i" >> "$FIXTURE_OUT"
  echo "burst $i" >> "$FIXTURE_OUT"
done
echo storm-done >> "$FIXTURE_OUT"
exec "$0" sigprint"#;
    let mut ctl = Ctl::builder(&dir, Mode::Pid1)
        .args(["--stop-timeout", "2s", "--", "sh", "-c", script])
        .arg(fixture_bin())
        .arg(&fifo)
        .args([bursts.to_string(), per_burst.to_string()])
        .spawn();
    let ns_daemon = ok(ctl.wait_out_pids("ready", secs(T)))[0];
    let v = ok(ctl.wait_state("ready", secs(T)));
    assert_eq!(v["pid"], ns_daemon, "{v}");
    let daemon = ProcId::of(ctl.host_pid(ns_daemon).expect("daemon's host pid")).expect("daemon");
    let rss_before = vm_rss_kb(ctl.pid).expect("ctlinit's VmRSS");
    let fds_before = fd_count(ctl.pid).expect("ctlinit's fds");

    // Sample while the storm runs: zombies (transient ones are fine), the
    // population, ctlinit's RSS.
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (stop, pid) = (stop.clone(), ctl.pid);
        thread::spawn(move || {
            let (mut max_z, mut max_pop, mut max_rss, mut n) = (0usize, 0usize, 0u64, 0u64);
            while !stop.load(Ordering::Relaxed) {
                let below = descendants(pid);
                let z = below
                    .iter()
                    .filter(|&&p| proc_state(p) == Some('Z'))
                    .count();
                max_z = max_z.max(z);
                max_pop = max_pop.max(below.len());
                max_rss = max_rss.max(vm_rss_kb(pid).unwrap_or(0));
                n += 1;
                thread::sleep(Duration::from_millis(50));
            }
            (max_z, max_pop, max_rss, n)
        })
    };
    let t0 = Instant::now();
    trigger_fifo(&fifo, secs(T));
    let storm_budget = secs(60.0 * bursts as f64 / 4.0);
    let done = ctl.wait_out(|l| l == "storm-done", storm_budget);
    let storm = t0.elapsed();
    stop.store(true, Ordering::Relaxed);
    let (max_z, max_pop, max_rss, samples) = sampler.join().expect("sampler");
    ok(done);
    let failed: Vec<String> = ctl
        .out_lines()
        .into_iter()
        .filter(|l| l.starts_with("burst-failed"))
        .collect();
    assert!(
        failed.is_empty(),
        "some bursts could not fork all their orphans: {failed:?}"
    );

    // Every orphan lives at most 200 ms: within 10 s the namespace must be
    // down to the daemon alone, with no zombie.
    let drained = wait_until(
        "the namespace to hold nothing but the daemon, and no zombie",
        secs(T),
        || {
            let below = descendants(ctl.pid);
            (below == [daemon.pid]).then_some(())
        },
        || {
            let below = descendants(ctl.pid);
            let z = below
                .iter()
                .filter(|&&p| proc_state(p) == Some('Z'))
                .count();
            format!(
                "\n{} processes left below ctlinit, {z} of them zombies{}",
                below.len(),
                ctl.context()
            )
        },
    );
    let drain = t0.elapsed() - storm;
    ok(drained);
    assert_eq!(
        zombies_below(ctl.pid),
        Vec::<i32>::new(),
        "zombies in the namespace"
    );
    assert!(alive(ctl.pid), "ctlinit survived the storm");
    assert!(
        daemon.running(),
        "the daemon is the same process as before the storm"
    );
    let v = ok(ctl.read_pidfile_json());
    assert_eq!(
        (v["generation"].as_u64(), v["pid"].as_i64()),
        (Some(1), Some(ns_daemon as i64)),
        "{v}"
    );
    assert_eq!(v["state"], "ready", "{v}");

    // Let the allocator settle for a moment, then compare.
    let rss_after = vm_rss_kb(ctl.pid).expect("ctlinit's VmRSS");
    let fds_after = fd_count(ctl.pid).expect("ctlinit's fds");
    eprintln!(
        "FIGURES orphan-storm: orphans={} storm={:?} drain={:?} rss_before_kb={rss_before} rss_peak_kb={max_rss} \
         rss_after_kb={rss_after} fds_before={fds_before} fds_after={fds_after} max_zombies_seen={max_z} \
         max_population={max_pop} samples={samples}",
        bursts * per_burst,
        storm,
        drain
    );
    assert!(
        rss_after <= rss_before + 1024,
        "ctlinit's RSS after the storm is {rss_after} KiB, baseline {rss_before} KiB (allowed: +1024 KiB)"
    );
    assert!(
        fds_after <= fds_before,
        "ctlinit's fds: {fds_before} before, {fds_after} after"
    );

    // The daemon is unaffected: it still gets forwarded signals.
    // sigprint (exec'd by the shell, same pid) says "ready <pid>" again.
    let ready_line = format!("ready {ns_daemon}");
    ok(wait_until(
        "sigprint's ready line",
        secs(T),
        || (count_lines(&ctl.out_lines(), &ready_line) == 2).then_some(()),
        || ctl.context(),
    ));
    ctl.signal(libc::SIGUSR1);
    ok(ctl.wait_out(|l| l == "signal 10", secs(T)));
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(5.0)), Ok(143), "{}", ctl.context());
    assert_summary(
        &ctl,
        "status=143 generation=1 exits=1 restarts=0 reason=stopped",
    );
}

// ------------------------------------------------------------------ 2. signal storm

/// Scenario 2: 10 000 USR1/USR2/HUP/WINCH at full speed at ctlinit while
/// sigprint runs, a TERM in the middle of it → ctlinit alive until the TERM,
/// the daemon got every kind of signal and the TERM, ctlinit exits 143 within
/// 5 s of the TERM (--stop-timeout 2s) while the rest of the storm still hits it.
///
/// ctlinit must stay unreaped while we signal it, so its PID cannot be
/// reused: as a subreaper it is our own child (we reap it only afterwards);
/// as PID 1 we SIGSTOP its parent `unshare` (also ours) for the storm.
fn signal_storm(mode: Mode) {
    let _heavy = serial();
    let dir = TestDir::new("signal-storm");
    let mut ctl = Ctl::builder(&dir, mode)
        .args(["--stop-timeout", "2s"])
        .fixture(&["sigprint"])
        .spawn();
    let ns_daemon = ok(ctl.wait_ready_pid(secs(T)));
    ok(ctl.wait_state("ready", secs(T)));
    let daemon = ProcId::of(ctl.host_pid(ns_daemon).expect("daemon's host pid")).expect("daemon");
    let me = ProcId::of(ctl.pid).expect("ctlinit");
    let parent = proc_stat(ctl.pid).expect("ctlinit's stat").ppid;
    if mode == Mode::Pid1 {
        signal_pid(parent, libc::SIGSTOP);
    }
    let kinds = [libc::SIGUSR1, libc::SIGUSR2, libc::SIGHUP, libc::SIGWINCH];
    let n: usize = scaled(10_000, 1_000_000);
    let t0 = Instant::now();
    let mut failed = 0;
    for i in 0..n / 2 {
        failed += usize::from(!raw_kill(ctl.pid, kinds[i % 4]));
    }
    let first_half = t0.elapsed();
    let alive_mid = me.running();
    let daemon_mid = daemon.running();
    // Pending standard signals are taken lowest number first, by ctlinit and
    // by the daemon alike: while the storm goes on, WINCH (28) can wait
    // behind HUP/USR1/USR2 until TERM (15) overtakes it. Once the first half
    // is over, every kind must arrive.
    let each_kind = wait_until(
        "the daemon to report every kind of the first half",
        secs(T),
        || {
            let lines = ctl.out_lines();
            kinds
                .iter()
                .all(|s| count_lines(&lines, &format!("signal {s}")) >= 1)
                .then_some(())
        },
        || ctl.context(),
    );
    assert!(raw_kill(ctl.pid, libc::SIGTERM), "TERM to ctlinit");
    let t_term = Instant::now();
    for i in n / 2..n {
        raw_kill(ctl.pid, kinds[i % 4]);
    }
    let storm = t0.elapsed();
    // ctlinit's exit shows as its zombie (nobody reaps it yet).
    let exited = wait_until(
        "ctlinit to exit after the TERM",
        secs(5.0).saturating_sub(t_term.elapsed()),
        || matches!(proc_state(ctl.pid), Some('Z') | None).then_some(()),
        String::new,
    );
    let stop_took = t_term.elapsed();
    if mode == Mode::Pid1 {
        signal_pid(parent, libc::SIGCONT);
    }
    let code = ctl.wait_code(secs(T));
    let lines = ctl.out_lines();
    let count = |s: i32| count_lines(&lines, &format!("signal {s}"));
    eprintln!(
        "FIGURES signal-storm {mode:?}: signals={n} first_half={first_half:?} storm={storm:?} term_to_exit={stop_took:?} \
         kill_failures_before_term={failed} daemon_saw usr1={} usr2={} hup={} winch={} term={}",
        count(libc::SIGUSR1),
        count(libc::SIGUSR2),
        count(libc::SIGHUP),
        count(libc::SIGWINCH),
        count(libc::SIGTERM)
    );
    assert_eq!(
        failed, 0,
        "ctlinit was gone during the first half of the storm"
    );
    assert!(alive_mid, "ctlinit alive in the middle of the storm");
    each_kind.unwrap();
    assert!(daemon_mid, "daemon alive in the middle of the storm");
    assert!(
        exited.is_ok(),
        "TERM sent mid-storm was lost: ctlinit still running {stop_took:?} later{}",
        ctl.context()
    );
    assert_eq!(code, Ok(143), "{}", ctl.context());
    for s in kinds {
        assert!(
            count(s) >= 1,
            "the daemon never got signal {s} during the storm{}",
            ctl.context()
        );
    }
    assert_eq!(
        count(libc::SIGTERM),
        1,
        "the daemon got the TERM once{}",
        ctl.context()
    );
    assert_summary(
        &ctl,
        "status=143 generation=1 exits=1 restarts=0 reason=stopped",
    );
    assert!(!daemon.running(), "daemon left running");
}

both_modes!(signal_storm);

// ------------------------------------------------------------------ 3. restart storm

/// Readiness delay of every generation: the minimum restart cycle.
const READY_DELAY_MS: u64 = 100;
/// ctlinit's --watch debounce (SPEC §2).
const DEBOUNCE_MS: u64 = 250;

#[derive(Default, Debug)]
struct PidfileLog {
    reads: u64,
    /// generation -> (first pid seen, when first seen)
    gens: BTreeMap<u64, (Option<i64>, Instant)>,
    errors: Vec<String>,
}

/// Scenario 3: 1000 restart requests within about 1 s — reload signals (HUP),
/// `ctlinit restart` processes and --watch rewrites mixed — against a daemon
/// that takes READY_DELAY_MS to become ready (--ready notify).
///
/// While it runs, /proc is sampled continuously: ctlinit's children are read
/// in one atomic snapshot and each is then checked alive, so two live entries
/// were two daemons alive at the same instant. The PID file is read
/// continuously: generation never goes back, each generation keeps one pid,
/// `restarts == generation - 1`.
///
/// The bound on restarts: a generation is only stopped for a restart once it
/// is ready (a request while it starts is remembered, SPEC §8), so two spawns
/// are at least READY_DELAY_MS apart: that is the coalescing window W. Over
/// the storm plus the --watch debounce (D = storm + 250 ms) there can be at
/// most ceil(D/W) + 2 spawns; we assert the issue's looser "2 per window":
/// generation <= 1 + 2*ceil(D/W) (about 31 for 1 000 requests, where a
/// supervisor that served requests one by one would restart ~1 000 times),
/// and after the last request at most 3 more spawns (one under way, one
/// remembered, one for the debounced --watch change), then quiet.
#[test]
fn restart_storm() {
    let _heavy = serial();
    let dir = TestDir::new("restart-storm");
    let watched = dir.join("watched.conf");
    fs::write(&watched, "0\n").unwrap();
    let delay = READY_DELAY_MS.to_string();
    let mut ctl = Ctl::builder(&dir, Mode::Subreaper)
        .args([
            "--reload-signal",
            "HUP",
            "--ready",
            "notify",
            "--stop-timeout",
            "2s",
            "--watch",
        ])
        .arg(&watched)
        .fixture(&["notify", "--delay-ms", &delay])
        .spawn();
    ok(ctl.wait_pidfile(|v| v["generation"] == 1 && v["state"] == "ready", secs(T)));

    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (stop, pid) = (stop.clone(), ctl.pid);
        thread::spawn(move || {
            let (mut samples, mut violations) = (0u64, Vec::new());
            while !stop.load(Ordering::Relaxed) {
                let snap = children_snapshot(pid);
                if snap.len() >= 2 {
                    // Re-read after the snapshot: a process alive now was alive
                    // at the snapshot (exits are final).
                    let live: Vec<i32> = snap.iter().copied().filter(|&c| alive(c)).collect();
                    if live.len() >= 2 {
                        violations.push(live);
                    }
                }
                samples += 1;
                thread::sleep(Duration::from_micros(200));
            }
            (samples, violations)
        })
    };
    let reader = {
        let (stop, path) = (stop.clone(), ctl.pidfile.clone());
        thread::spawn(move || {
            let mut log = PidfileLog::default();
            let mut last_gen = 0;
            while !stop.load(Ordering::Relaxed) {
                log.reads += 1;
                match read_json(&path) {
                    Err(e) => log.errors.push(e),
                    Ok(v) => {
                        let g = v["generation"].as_u64().unwrap_or(0);
                        if g < last_gen {
                            log.errors
                                .push(format!("generation went back from {last_gen}: {v}"));
                        }
                        if v["restarts"].as_u64() != Some(g.saturating_sub(1)) {
                            log.errors.push(format!("restarts != generation - 1: {v}"));
                        }
                        let pid = v["pid"].as_i64();
                        match log.gens.get(&g) {
                            None => {
                                log.gens.insert(g, (pid, Instant::now()));
                            }
                            Some((Some(p), _)) if pid.is_some() && pid != Some(*p) => log
                                .errors
                                .push(format!("generation {g} changed pid from {p}: {v}")),
                            _ => {}
                        }
                        last_gen = last_gen.max(g);
                    }
                }
                thread::sleep(Duration::from_micros(500));
            }
            log
        })
    };

    let requests: usize = scaled(1_000, 10_000);
    let (mut hups, mut rewrites, mut verbs) = (0, 0, Vec::<Child>::new());
    let t0 = Instant::now();
    for i in 0..requests {
        // One request per millisecond.
        let due = t0 + Duration::from_millis(i as u64);
        if let Some(d) = due.checked_duration_since(Instant::now()) {
            thread::sleep(d);
        }
        if i % 10 == 0 && verbs.len() < 100 {
            let mut c = ctlinit_cmd();
            c.args(["restart", "--timeout", "20s", "--pidfile"])
                .arg(&ctl.pidfile)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            verbs.push(c.spawn().expect("spawn ctlinit restart"));
        } else if i % 20 == 5 {
            fs::write(&watched, format!("{i}\n")).unwrap();
            rewrites += 1;
        } else {
            assert!(raw_kill(ctl.pid, libc::SIGHUP), "HUP to ctlinit");
            hups += 1;
        }
    }
    let storm = t0.elapsed();
    let storm_end = Instant::now();

    // Every `ctlinit restart` must see a newer generation ready.
    let mut verb_results = Vec::new();
    let verbs_deadline = Instant::now() + secs(25.0);
    for c in verbs {
        let o = wait_child(c, verbs_deadline.saturating_duration_since(Instant::now()));
        let text = |b: Option<&Vec<u8>>| {
            b.map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default()
        };
        verb_results.push((
            o.as_ref().and_then(|o| o.status.code()),
            text(o.as_ref().map(|o| &o.stdout)),
            text(o.as_ref().map(|o| &o.stderr)),
        ));
    }

    // Quiet afterwards: ready, and no new generation for 1.5 s.
    let settled = wait_until(
        "ctlinit to settle (ready, same generation for 1.5 s)",
        secs(15.0),
        {
            let mut since: Option<(u64, Instant)> = None;
            let pidfile = ctl.pidfile.clone();
            move || {
                let v = read_json(&pidfile).ok()?;
                let g = v["generation"].as_u64()?;
                if v["state"] != "ready" {
                    since = None;
                    return None;
                }
                match since {
                    Some((sg, t)) if sg == g && t.elapsed() >= secs(1.5) => Some(g),
                    Some((sg, _)) if sg == g => None,
                    _ => {
                        since = Some((g, Instant::now()));
                        None
                    }
                }
            }
        },
        || ctl.context(),
    );
    stop.store(true, Ordering::Relaxed);
    let (samples, violations) = sampler.join().expect("sampler");
    let log = reader.join().expect("reader");
    let final_gen = ok(settled);

    let window = READY_DELAY_MS as f64;
    let span = storm.as_millis() as f64 + DEBOUNCE_MS as f64;
    let bound = 1 + 2 * (span / window).ceil() as u64;
    let after_storm = log
        .gens
        .values()
        .filter(|(_, seen)| *seen > storm_end)
        .count();
    eprintln!(
        "FIGURES restart-storm: requests={requests} (hup={hups} rewrites={rewrites} verbs={}) storm={storm:?} \
         final_generation={final_gen} bound={bound} spawns_after_storm={after_storm} proc_samples={samples} \
         pidfile_reads={} two_daemons={}",
        verb_results.len(),
        log.reads,
        violations.len()
    );
    assert!(
        violations.is_empty(),
        "two daemons alive at once (pids): {:?}{}",
        &violations[..violations.len().min(5)],
        ctl.context()
    );
    assert!(
        log.errors.is_empty(),
        "PID file errors: {:?}",
        &log.errors[..log.errors.len().min(5)]
    );
    let gens: Vec<u64> = log.gens.keys().copied().collect();
    assert!(
        gens.windows(2).all(|w| w[0] < w[1]),
        "generations seen: {gens:?}"
    );
    assert!(
        final_gen >= 2,
        "the storm caused no restart at all{}",
        ctl.context()
    );
    assert!(
        final_gen <= bound,
        "generation {final_gen} after {requests} requests in {storm:?}: more than 2 restarts per {READY_DELAY_MS} ms \
         window (bound {bound}){}",
        ctl.context()
    );
    assert!(
        after_storm <= 3,
        "{after_storm} generations spawned after the last request (at most 3){}",
        ctl.context()
    );
    for (code, stdout, stderr) in &verb_results {
        assert_eq!(
            *code,
            Some(0),
            "ctlinit restart: stdout {stdout:?} stderr {stderr:?}"
        );
        let words: Vec<&str> = stdout.split_whitespace().collect();
        // "restarted: generation A -> B (pid P -> Q)"
        let (a, b) = (
            words.get(2).and_then(|w| w.parse::<u64>().ok()),
            words.get(4).and_then(|w| w.parse::<u64>().ok()),
        );
        assert!(
            matches!((a, b), (Some(a), Some(b)) if b > a),
            "ctlinit restart printed {stdout:?}"
        );
    }
    assert!(alive(ctl.pid), "ctlinit survived the storm");
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(5.0)), Ok(143), "{}", ctl.context());
}
