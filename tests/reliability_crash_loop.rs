//! Issue 6, scenario 4: a crash loop soak. A daemon that exits 1 at once,
//! under `--restart always --max-restarts 0 --backoff 1ms:5ms`, as PID 1.
//!
//! CI runs it for 60 s; `CTLINIT_SOAK=1` runs it for 10 minutes.
//! `CTLINIT_CRASH_LOOP_SECS=N` overrides both (e.g. for a quick look).
//!
//! Sampled every 100 ms: ctlinit's VmRSS and open fds (first 10 s against
//! last 10 s), zombies in the namespace. A reader thread reads the PID file
//! about every millisecond (at least 10 000 reads) and must never see it
//! missing, partial or invalid, nor break the SPEC §14.8 invariants.
//! Prints a `FIGURES` line (visible with `--nocapture`).

#[macro_use]
mod common;
mod reliability_support;

use common::*;
use reliability_support::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

#[derive(Default)]
struct Reads {
    total: u64,
    ok: u64,
    bad: Vec<String>,
}

/// SPEC §5 and §14.8, checked on every read.
fn check_record(v: &Value) -> Result<u64, String> {
    let g = v["generation"].as_u64().ok_or("no generation")?;
    let restarts = v["restarts"].as_u64().ok_or("no restarts")?;
    let exits = v["exits"].as_u64().ok_or("no exits")?;
    if restarts + 1 != g {
        return Err(format!("restarts {restarts} != generation {g} - 1"));
    }
    match v["state"].as_str() {
        Some("starting") | Some("ready") if exits == restarts && v["pid"].is_i64() => {}
        Some("backoff") if exits == restarts + 1 && v["pid"].is_null() => {}
        Some("stopping") => {}
        _ => return Err("state, pid and exits disagree".into()),
    }
    for k in [
        "supervisor_pid",
        "started_at_ms",
        "command",
        "version",
        "last_exit",
    ] {
        if v.get(k).is_none() {
            return Err(format!("no {k}"));
        }
    }
    Ok(g)
}

#[test]
fn crash_loop_stays_flat() {
    let secs_total: u64 = std::env::var("CTLINIT_CRASH_LOOP_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(scaled(60, 600));
    let window = Duration::from_secs(10.min(secs_total / 3).max(1));
    let dir = TestDir::new("crash-loop");
    let mut ctl = Ctl::builder(&dir, Mode::Pid1)
        .args([
            "--restart",
            "always",
            "--max-restarts",
            "0",
            "--backoff",
            "1ms:5ms",
            "--stop-timeout",
            "2s",
        ])
        .fixture(&["exit", "1"])
        .spawn();
    ok(ctl.wait_pidfile(|v| v["generation"].as_u64() >= Some(2), secs(10.0)));

    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (stop, path) = (stop.clone(), ctl.pidfile.clone());
        thread::spawn(move || {
            let mut r = Reads::default();
            let mut last_gen = 0;
            while !stop.load(Ordering::Relaxed) {
                r.total += 1;
                let outcome = std::fs::read(&path)
                    .map_err(|e| format!("cannot read: {e}"))
                    .and_then(|b| {
                        if b.last() != Some(&b'\n')
                            || b.iter().filter(|&&c| c == b'\n').count() != 1
                        {
                            return Err(format!(
                                "not one whole line: {:?}",
                                String::from_utf8_lossy(&b)
                            ));
                        }
                        serde_json::from_slice::<Value>(&b).map_err(|e| {
                            format!("bad JSON ({e}): {:?}", String::from_utf8_lossy(&b))
                        })
                    })
                    .and_then(|v| check_record(&v).map_err(|e| format!("{e}: {v}")));
                match outcome {
                    Ok(g) if g >= last_gen => {
                        last_gen = g;
                        r.ok += 1;
                    }
                    Ok(g) => r
                        .bad
                        .push(format!("generation went back from {last_gen} to {g}")),
                    Err(e) => r.bad.push(e),
                }
                thread::sleep(Duration::from_millis(1));
            }
            r
        })
    };

    struct Sample {
        at: Duration,
        rss: u64,
        fds: usize,
        zombies: usize,
    }
    let mut samples: Vec<Sample> = Vec::new();
    let t0 = Instant::now();
    let total = Duration::from_secs(secs_total);
    while t0.elapsed() < total {
        assert!(
            ctl.exited().is_none(),
            "ctlinit exited during the crash loop{}",
            ctl.context()
        );
        // Zombies: ctlinit's children that exited and were not reaped. The
        // daemon that just crashed may be caught for an instant; more than
        // one means reaping fell behind.
        let zombies = children_snapshot(ctl.pid)
            .into_iter()
            .filter(|&c| proc_state(c) == Some('Z'))
            .count();
        samples.push(Sample {
            at: t0.elapsed(),
            rss: vm_rss_kb(ctl.pid).unwrap_or(0),
            fds: fd_count(ctl.pid).unwrap_or(0),
            zombies,
        });
        thread::sleep(Duration::from_millis(100));
    }
    let generation = ok(ctl.read_pidfile_json())["generation"]
        .as_u64()
        .unwrap_or(0);
    stop.store(true, Ordering::Relaxed);
    let reads = reader.join().expect("reader thread");

    let first: Vec<&Sample> = samples.iter().filter(|s| s.at < window).collect();
    let last: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.at >= total.saturating_sub(window))
        .collect();
    let rss_first = max_of(first.iter().map(|s| s.rss));
    let rss_last = max_of(last.iter().map(|s| s.rss));
    let fds_first = max_of(first.iter().map(|s| s.fds));
    let fds_last = max_of(last.iter().map(|s| s.fds));
    // The steady count (ctlinit opens a /proc directory and a temp file for
    // an instant in every cycle, which a sample may catch).
    let fds_first_min = first.iter().map(|s| s.fds).min().unwrap_or(0);
    let fds_last_min = last.iter().map(|s| s.fds).min().unwrap_or(0);
    let max_zombies = max_of(samples.iter().map(|s| s.zombies));
    eprintln!(
        "FIGURES crash-loop: duration={total:?} generations={generation} ({:.0}/s) rss_first_kb={rss_first} \
         rss_last_kb={rss_last} fds_first={fds_first_min}..={fds_first} fds_last={fds_last_min}..={fds_last} max_zombies={max_zombies} \
         pidfile_reads={} ok={} bad={}",
        generation as f64 / total.as_secs_f64(),
        reads.total,
        reads.ok,
        reads.bad.len()
    );
    assert!(
        generation > 100,
        "the crash loop barely ran: generation {generation}{}",
        ctl.context()
    );
    assert!(
        rss_last <= rss_first + 256,
        "ctlinit's RSS grew: max {rss_first} KiB in the first {window:?}, {rss_last} KiB in the last (allowed +256 KiB)"
    );
    assert!(
        fds_last_min <= fds_first_min && fds_last <= fds_first + 2,
        "ctlinit's open fds grew: {fds_first_min}..={fds_first} in the first {window:?}, {fds_last_min}..={fds_last} in the last"
    );
    assert!(
        max_zombies <= 1,
        "{max_zombies} zombies at once under ctlinit (reaping fell behind)"
    );
    assert!(
        reads.bad.is_empty(),
        "{} bad PID file reads, first: {:?}",
        reads.bad.len(),
        &reads.bad[..reads.bad.len().min(3)]
    );
    assert!(
        reads.ok >= 10_000.min(secs_total * 160),
        "only {} PID file reads",
        reads.ok
    );

    ctl.signal(libc::SIGTERM);
    let code = ctl.wait_code(secs(5.0));
    // The TERM lands in a backoff (exit at once with the last status, 1) or
    // while a generation runs (it dies of the TERM: 143).
    assert!(matches!(code, Ok(1) | Ok(143)), "{code:?}{}", ctl.context());
    let summary = ctl.summary_line().unwrap_or_default();
    assert!(summary.ends_with("reason=stopped"), "{summary}");
}
