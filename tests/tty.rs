//! With a terminal (`docker run -it`), the daemon gets the terminal's
//! foreground: Ctrl-C reaches it, and Ctrl-Z never wedges it (SPEC §3).
//! `script` (util-linux/bsdutils) provides the pseudo-terminal; what the test
//! writes to script's stdin is typed on that terminal.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn ctlinit() -> &'static str {
    env!("CARGO_BIN_EXE_ctlinit")
}

/// Runs `cmd` under ctlinit on a fresh pty; once the daemon prints "up2", types `keys`
/// one chunk at a time (waiting for each chunk's expected echo); returns all output.
fn on_a_terminal(daemon: &str, steps: &[(&[u8], &str)]) -> String {
    let dir = std::env::temp_dir().join(format!(
        "ctlinit-tty-{}-{}",
        std::process::id(),
        steps.len()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let inner = format!(
        "{} --pidfile {}/p.pid -- {daemon}",
        ctlinit(),
        dir.display()
    );
    let mut child = Command::new("script")
        .args(["-qec", &inner, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("script(1) from util-linux is needed for the terminal tests");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut out = String::new();
    let mut wait_for = |needle: &str, out: &mut String| {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !out.contains(needle) {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(b) => out.push_str(&String::from_utf8_lossy(&b)),
                Err(_) => {
                    kill_leftovers(&dir);
                    let _ = child.kill();
                    panic!("timed out waiting for {needle:?}; terminal showed:\n{out}");
                }
            }
        }
    };
    // "up2" is printed as "up$((1+1))": the command line logged by ctlinit never matches it.
    wait_for("up2", &mut out);
    for (keys, expect) in steps {
        stdin.write_all(keys).unwrap();
        stdin.flush().unwrap();
        wait_for(expect, &mut out);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(_status) = child.try_wait().unwrap() {
            break;
        }
        if Instant::now() > deadline {
            kill_leftovers(&dir);
            let _ = child.kill();
            panic!("ctlinit did not exit; terminal showed:\n{out}");
        }
        while let Ok(b) = rx.try_recv() {
            out.push_str(&String::from_utf8_lossy(&b));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    while let Ok(b) = rx.recv_timeout(Duration::from_millis(200)) {
        out.push_str(&String::from_utf8_lossy(&b));
    }
    let _ = std::fs::remove_dir_all(&dir);
    out.replace('\r', "")
}

/// On a failed run, SIGKILL the ctlinit and the daemon group this test
/// started (their pids are in the PID file), so nothing outlives the test.
fn kill_leftovers(dir: &std::path::Path) {
    let Ok(text) = std::fs::read_to_string(dir.join("p.pid")) else {
        return;
    };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
        return;
    };
    for (key, group) in [("pid", true), ("supervisor_pid", false)] {
        if let Some(pid) = v[key].as_i64().filter(|p| *p > 1) {
            let target = if group { -(pid as i32) } else { pid as i32 };
            // SAFETY: kill(2) on pids this test started.
            unsafe { libc::kill(target, libc::SIGKILL) };
        }
    }
}

#[test]
fn daemon_owns_the_terminal_foreground() {
    let out = on_a_terminal(
        r#"sh -c 'echo "pgid=$(ps -o pgid= -p $$ | tr -d " ") tpgid=$(ps -o tpgid= -p $$ | tr -d " ")"; echo up$((1+1)); sleep 0.2'"#,
        &[],
    );
    let line = out
        .lines()
        .find(|l| l.starts_with("pgid="))
        .unwrap_or_else(|| panic!("no pgid line in:\n{out}"));
    let (pgid, tpgid) = line.trim().split_once(' ').unwrap();
    assert_eq!(
        pgid.trim_start_matches("pgid="),
        tpgid.trim_start_matches("tpgid="),
        "daemon is not in the foreground: {line}"
    );
}

#[test]
fn ctrl_c_reaches_the_daemon_and_ctrl_z_does_not_wedge_it() {
    // A daemon that never forks: Ctrl-Z stops the daemon itself, and ctlinit
    // sees it. (A daemon blocked in vfork while its child is stopped reports
    // no stop — see the README's note on job control.)
    let script = std::env::temp_dir().join(format!("ctlinit-tty-daemon-{}.py", std::process::id()));
    std::fs::write(
        &script,
        "import signal, sys, time\n\
         signal.signal(signal.SIGINT, lambda *a: (print('got-INT', flush=True), sys.exit(7)))\n\
         print('up' + str(1 + 1), flush=True)\n\
         while True:\n    time.sleep(0.05)\n",
    )
    .unwrap();
    let out = on_a_terminal(
        &format!("python3 {}", script.display()),
        &[(b"\x1a", "continuing it"), (b"\x03", "got-INT")],
    );
    let _ = std::fs::remove_file(&script);
    assert!(out.contains("stopped by SIGTSTP: continuing it"), "{out}");
    assert!(
        out.contains("ctlinit: exit status=7 generation=1 exits=1 restarts=0 reason=daemon-exited"),
        "Ctrl-C must reach the daemon, which exits 7:\n{out}"
    );
}
