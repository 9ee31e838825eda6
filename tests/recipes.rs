//! The README's recipes, run with the real daemons (Debian's `nginx-light`
//! and `redis-server`, which `.ci/run` installs): a checked HUP reload of
//! nginx that survives a broken config push, nginx's graceful QUIT, redis
//! ready only once it says so (`supervised systemd`) and saving on TERM, and
//! QUIT forwarded to a JVM-like daemon with `--stop-on TERM,INT`. A missing
//! daemon binary skips its test loudly.

#[macro_use]
mod common;

use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;

const T: f64 = 20.0;

fn installed(bin: &str) -> bool {
    if Path::new(bin).exists() {
        return true;
    }
    eprintln!("SKIPPED: {bin} is not installed (apt-get install nginx-light redis-server)");
    false
}

/// One HTTP GET to 127.0.0.1:port; the body, or the error.
fn get(port: u16) -> Result<String, String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(secs(5.0)))
        .map_err(|e| e.to_string())?;
    s.write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut reply = String::new();
    s.read_to_string(&mut reply).map_err(|e| e.to_string())?;
    Ok(reply
        .rsplit("\r\n\r\n")
        .next()
        .unwrap_or("")
        .trim()
        .to_string())
}

fn nginx_conf(dir: &TestDir, port: u16, body: &str) -> String {
    let d = dir.path().display();
    format!(
        "worker_processes 1;\nerror_log stderr;\npid {d}/nginx.pid;\nevents {{ worker_connections 64; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/body; proxy_temp_path {d}/proxy;\n\
         fastcgi_temp_path {d}/fcgi; uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;\n\
         server {{ listen 127.0.0.1:{port}; location / {{ return 200 \"{body}\\n\"; }} }}\n}}\n"
    )
}

/// A ConfigMap-style push: write aside, then rename over the watched file.
fn push(dir: &TestDir, file: &Path, content: &str) {
    let tmp = dir.join("conf.new");
    std::fs::write(&tmp, content).unwrap();
    std::fs::rename(&tmp, file).unwrap();
}

/// nginx with `--watch --watch-signal HUP --check 'nginx -t'`: a broken push
/// is refused and nginx keeps serving the old config; a good push reaches it
/// as HUP and is served without a restart; QUIT stops it gracefully.
fn nginx_checked_reload(mode: Mode) {
    if !installed("/usr/sbin/nginx") {
        return;
    }
    let dir = TestDir::new("nginx");
    let port = free_port(31);
    let conf = dir.join("nginx.conf");
    std::fs::write(&conf, nginx_conf(&dir, port, "version-1")).unwrap();
    let conf_s = conf.display().to_string();
    let check = format!("/usr/sbin/nginx -t -q -c {conf_s}");
    let mut ctl = Ctl::builder(&dir, mode)
        .args([
            "--watch",
            &conf_s,
            "--watch-signal",
            "HUP",
            "--check",
            &check,
        ])
        .args(["--restart", "on-failure", "--port", &port.to_string()])
        .args(["/usr/sbin/nginx", "-c", &conf_s, "-g", "daemon off;"])
        .spawn();
    ok(ctl.wait_state("ready", secs(T)));
    assert_eq!(get(port).as_deref(), Ok("version-1"), "{}", ctl.context());

    push(&dir, &conf, "garbage {\n");
    ok(wait_for_line(
        &ctl.stderr_path,
        |l| l.contains("check refused restart") && l.contains("exited with 1"),
        secs(T),
    ));
    assert_eq!(
        get(port).as_deref(),
        Ok("version-1"),
        "still serving the old config"
    );
    let v = ok(ctl.read_pidfile_json());
    assert_eq!(v["generation"], 1, "{v}");
    assert_eq!(v["last_check"]["ok"], false, "{v}");

    push(&dir, &conf, &nginx_conf(&dir, port, "version-2"));
    ok(wait_until(
        "nginx to serve the reloaded config",
        secs(T),
        || (get(port).as_deref() == Ok("version-2")).then_some(()),
        || ctl.context(),
    ));
    let v = ok(ctl.read_pidfile_json());
    assert_eq!(v["generation"], 1, "a reload, not a restart: {v}");
    assert_eq!(v["last_check"]["ok"], true, "{v}");

    ctl.signal(libc::SIGQUIT);
    assert_eq!(
        ctl.wait_code(secs(T)),
        Ok(0),
        "QUIT: nginx's graceful stop{}",
        ctl.context()
    );
    let summary = ctl.summary_line().unwrap_or_default();
    assert!(summary.ends_with("reason=stopped"), "{summary}");
}

/// redis with `supervised systemd`: ready only when it says READY=1 (it
/// listens earlier, answering LOADING), status lines logged, and TERM makes
/// it save and exit 0.
fn redis_ready_by_notify(mode: Mode) {
    if !installed("/usr/bin/redis-server") {
        return;
    }
    let dir = TestDir::new("redis");
    let port = free_port(32);
    let mut ctl = Ctl::builder(&dir, mode)
        .args([
            "--ready",
            "notify",
            "--ready-timeout",
            "60s",
            "--stop-timeout",
            "30s",
        ])
        .args(["--restart", "on-failure", "/usr/bin/redis-server"])
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args([
            "--dir",
            &dir.path().display().to_string(),
            "--save",
            "3600 1",
        ])
        .args(["--supervised", "systemd", "--daemonize", "no"])
        .spawn();
    ok(ctl.wait_state("ready", secs(T)));
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(b"PING\r\n").unwrap();
    let mut buf = [0u8; 7];
    s.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"+PONG\r\n");
    ok(wait_for_line(
        &ctl.stderr_path,
        |l| l.contains("status: Ready to accept connections"),
        secs(T),
    ));
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(0), "{}", ctl.context());
    assert!(dir.join("dump.rdb").exists(), "redis saved on TERM");
}

/// A JVM asks for thread dumps with QUIT: with `--stop-on TERM,INT` it is
/// forwarded and nothing stops; TERM still does. (The stand-in "JVM" is a
/// shell that prints a "thread dump" on QUIT and keeps running.)
fn quit_is_forwarded_with_stop_on_term_int(mode: Mode) {
    let dir = TestDir::new("jvm");
    let dumps = dir.join("dumps");
    let jvm = format!(
        "trap 'echo thread-dump >> {}' QUIT; echo up >> {}; while :; do sleep 0.1; done",
        dumps.display(),
        dumps.display()
    );
    let mut ctl = Ctl::builder(&dir, mode)
        .args([
            "--stop-on",
            "TERM,INT",
            "--restart",
            "always",
            "--",
            "sh",
            "-c",
            &jvm,
        ])
        .spawn();
    ok(wait_for_line(&dumps, |l| l == "up", secs(T)));
    ctl.signal(libc::SIGQUIT);
    ok(wait_for_line(&dumps, |l| l == "thread-dump", secs(T)));
    let v = ok(ctl.wait_state("ready", secs(T)));
    assert_eq!(v["generation"], 1, "QUIT stopped nothing: {v}");
    ctl.signal(libc::SIGTERM);
    assert_eq!(ctl.wait_code(secs(T)), Ok(143), "{}", ctl.context());
    let summary = ctl.summary_line().unwrap_or_default();
    assert!(summary.ends_with("reason=stopped"), "{summary}");
}

both_modes!(
    nginx_checked_reload,
    redis_ready_by_notify,
    quit_is_forwarded_with_stop_on_term_int
);
