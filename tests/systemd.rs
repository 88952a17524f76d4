//! The systemd notify protocol, against a socket of our own.

mod common;

use common::*;
use nix::sys::signal::Signal;
use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

#[test]
fn ready_watchdog_and_stopping_are_sent_from_the_loop() {
    let env = Env::new("[jobs.a]\nevery = \"1h\"\ncommand = \"true\"\n");
    let socket_path = env.path("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let log = std::fs::File::create(env.path("scheduler.log")).unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("schedule"))
        .current_dir(env.dir.path())
        .env("NOTIFY_SOCKET", &socket_path)
        .env("WATCHDOG_USEC", "1000000") // 1 s: a heartbeat every 0.5 s
        .env_remove("WATCHDOG_PID")
        .arg("run")
        .stderr(log)
        .spawn()
        .unwrap();
    let mut messages: Vec<String> = Vec::new();
    let mut buf = [0u8; 256];
    let deadline = Instant::now() + PATIENCE;
    // READY, then the watchdog several times while nothing is due.
    while messages.iter().filter(|m| *m == "WATCHDOG=1").count() < 3 {
        assert!(Instant::now() < deadline, "messages so far: {messages:?}");
        if let Ok(n) = socket.recv(&mut buf) {
            messages.push(String::from_utf8_lossy(&buf[..n]).to_string());
        }
    }
    assert_eq!(messages[0], "READY=1", "{messages:?}");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        Signal::SIGTERM,
    )
    .unwrap();
    while !messages.contains(&"STOPPING=1".to_string()) {
        assert!(Instant::now() < deadline, "messages so far: {messages:?}");
        if let Ok(n) = socket.recv(&mut buf) {
            messages.push(String::from_utf8_lossy(&buf[..n]).to_string());
        }
    }
    assert!(child.wait().unwrap().success());
}
