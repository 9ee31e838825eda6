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

// ---------------------------------------------------------------- the terminal rule (§3)

mod common;

/// On a failed run: freeze, then SIGKILL, every process below `script` (by
/// PID: ctlinit, unshare, the daemon), then `script` itself.
fn kill_tree_of(child: &mut std::process::Child) {
    let root = child.id() as i32;
    let mut seen = Vec::new();
    for _ in 0..3 {
        for p in common::descendants(root) {
            if p > 1 && !seen.contains(&p) {
                // SAFETY: kill(2) on a process found below the script(1) this test started.
                unsafe { libc::kill(p, libc::SIGSTOP) };
                seen.push(p);
            }
        }
    }
    for &p in &seen {
        // SAFETY: as above.
        unsafe { libc::kill(p, libc::SIGKILL) };
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// `ps` lines (pid, ppid, pgid, tpgid, state, signal masks, command) of
/// everything below `root`, for failure messages.
fn ps_of(root: i32) -> String {
    let pids: Vec<String> = common::descendants(root)
        .iter()
        .map(|p| p.to_string())
        .collect();
    if pids.is_empty() {
        return String::new();
    }
    let out = Command::new("ps")
        .args([
            "-o",
            "pid,ppid,pgid,tpgid,stat,blocked,ignored,caught,args",
            "-p",
            &pids.join(","),
        ])
        .output();
    out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

/// Runs ctlinit (as a subreaper, or as PID 1 through `unshare`) with
/// `--restart POLICY -- DAEMON` on a fresh pty, waits until the terminal
/// shows a line for which `up` holds, types Ctrl-C once, and returns
/// (`script -e`'s exit code, which is ctlinit's; everything the terminal showed).
fn ctrl_c_on_a_terminal(
    tag: &str,
    pid1: bool,
    policy: &str,
    daemon: &str,
    up: fn(&str) -> bool,
    exec_settled: Option<&str>,
) -> (Option<i32>, String) {
    let dir = std::env::temp_dir().join(format!("ctlinit-tty-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let inner = format!(
        "{}{} --pidfile {}/p.pid --restart {policy} -- {daemon}",
        if pid1 {
            "unshare --pid --fork --mount-proc "
        } else {
            ""
        },
        ctlinit(),
        dir.display()
    );
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &inner, "/dev/null"])
        .env("SHELL", "/bin/sh")
        .env_remove("FIXTURE_OUT")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, _) in std::env::vars_os() {
        let ks = k.to_string_lossy();
        if ks.starts_with("CTLINIT_") || ks.starts_with("TINI_") || ks == "NOTIFY_SOCKET" {
            cmd.env_remove(&k);
        }
    }
    let mut child = cmd
        .spawn()
        .expect("script(1) from util-linux is needed for the terminal tests");
    let root = child.id() as i32;
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
    let deadline = Instant::now() + Duration::from_secs(10);
    // Typed only once the daemon can no longer miss it: its marker is on the
    // terminal and, for a shell daemon, its `sleep` has been exec'd (comm is
    // "sleep" only after exec; until then a caught SIGINT would be lost).
    let settled = |out: &str| {
        out.replace('\r', "").lines().any(up)
            && exec_settled.is_none_or(|comm| {
                common::descendants(root).iter().any(|p| {
                    std::fs::read_to_string(format!("/proc/{p}/comm"))
                        .is_ok_and(|c| c.trim_end() == comm)
                })
            })
    };
    while !settled(&out) {
        match rx.recv_timeout(Duration::from_millis(20)) {
            Ok(b) => out.push_str(&String::from_utf8_lossy(&b)),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => {}
            Err(_) => {
                let ps = ps_of(root);
                kill_tree_of(&mut child);
                panic!("{tag}: timed out waiting for the daemon; terminal showed:\n{out}\nprocesses:\n{ps}");
            }
        }
    }
    stdin.write_all(b"\x03").unwrap();
    stdin.flush().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if Instant::now() > deadline {
            while let Ok(b) = rx.try_recv() {
                out.push_str(&String::from_utf8_lossy(&b));
            }
            let ps = ps_of(root);
            kill_tree_of(&mut child);
            panic!("{tag}: ctlinit did not exit after Ctrl-C; terminal showed:\n{out}\nprocesses:\n{ps}");
        }
        while let Ok(b) = rx.try_recv() {
            out.push_str(&String::from_utf8_lossy(&b));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    while let Ok(b) = rx.recv_timeout(Duration::from_millis(200)) {
        out.push_str(&String::from_utf8_lossy(&b));
    }
    let _ = std::fs::remove_dir_all(&dir);
    (status.code(), out.replace('\r', ""))
}

/// A shell daemon that dies of SIGINT (default disposition restored). The
/// test types Ctrl-C only once its `sleep` runs: dash catches SIGINT under
/// `-c` even after `trap - INT`, and one that arrives between the `echo` and
/// the `sleep` is only acted on when the `sleep` ends.
const SH_DIES_OF_INT: &str = r#"sh -c 'trap - INT; echo up$((1+1)); sleep 1000'"#;

fn sh_up(l: &str) -> bool {
    l.contains("up2")
}

fn fixture_up(l: &str) -> bool {
    l.starts_with("ready ")
}

/// §3: Ctrl-C on the terminal ends ctlinit under every restart policy: the
/// daemon dies of SIGINT that ctlinit did not send while its group holds the
/// foreground, so it is a stop — status 130, `reason=stopped`, no generation 2.
fn assert_ctrl_c_stops(
    tag: &str,
    pid1: bool,
    policy: &str,
    daemon: &str,
    up: fn(&str) -> bool,
    exec_settled: Option<&str>,
) {
    let (code, out) = ctrl_c_on_a_terminal(tag, pid1, policy, daemon, up, exec_settled);
    assert!(
        out.contains("ctlinit: exit status=130 generation=1 exits=1 restarts=0 reason=stopped"),
        "{tag}: Ctrl-C must stop ctlinit under --restart {policy}:\n{out}"
    );
    assert!(
        !out.contains("started generation 2"),
        "{tag}: restarted after Ctrl-C:\n{out}"
    );
    assert_eq!(code, Some(130), "{tag}: ctlinit's exit status:\n{out}");
}

#[test]
fn ctrl_c_stops_restart_always_sh_daemon() {
    assert_ctrl_c_stops(
        "cc-sh-sub",
        false,
        "always",
        SH_DIES_OF_INT,
        sh_up,
        Some("sleep"),
    );
}

#[test]
fn ctrl_c_stops_restart_always_sh_daemon_as_pid1() {
    assert_ctrl_c_stops(
        "cc-sh-pid1",
        true,
        "always",
        SH_DIES_OF_INT,
        sh_up,
        Some("sleep"),
    );
}

#[test]
fn ctrl_c_stops_restart_always_fixture_daemon_as_pid1() {
    let daemon = format!("{} fork-sleep", common::fixture_str());
    assert_ctrl_c_stops("cc-fx-pid1", true, "always", &daemon, fixture_up, None);
}

#[test]
fn ctrl_c_stops_restart_on_failure_fixture_daemon() {
    let daemon = format!("{} fork-sleep", common::fixture_str());
    assert_ctrl_c_stops("cc-fx-sub", false, "on-failure", &daemon, fixture_up, None);
}
