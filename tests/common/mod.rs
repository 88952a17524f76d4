//! A small harness around the real `schedule` binary: a temp dir with a
//! jobs.toml, commands run in it, and a scheduler process that is always
//! stopped when the test ends.
#![allow(dead_code)]

pub mod pg;

use assert_cmd::Command;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// Generous: these tests must pass on a slow, shared machine.
pub const PATIENCE: Duration = Duration::from_secs(60);

pub struct Env {
    pub dir: tempfile::TempDir,
    /// A PostgreSQL database of the test's own, instead of `schedule.db`.
    pub pg: Option<pg::TestDb>,
    /// The `--db` every command gets (`SCHEDULE_DB`), for PostgreSQL.
    db_url: Option<String>,
}

impl Env {
    pub fn new(jobs_toml: &str) -> Env {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("jobs.toml"), jobs_toml).unwrap();
        Env {
            dir,
            pg: None,
            db_url: None,
        }
    }

    /// The same, with the history in a fresh PostgreSQL database; the URL
    /// carries `password` when given (the test server does not ask for it,
    /// so it only shows whether it leaks).
    pub fn on_postgres(jobs_toml: &str, password: Option<&str>) -> Env {
        let mut env = Env::new(jobs_toml);
        let db = pg::TestDb::new();
        env.db_url = Some(match password {
            Some(pw) => db.url.replacen("postgres@", &format!("postgres:{pw}@"), 1),
            None => db.url.clone(),
        });
        env.pg = Some(db);
        env
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `schedule ARGS` in the temp dir, with no inherited config or db.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("schedule").unwrap();
        cmd.current_dir(self.dir.path())
            .env_remove("SCHEDULE_CONFIG")
            .env_remove("SCHEDULE_DB")
            .envs(self.db_url.iter().map(|u| ("SCHEDULE_DB", u)))
            // The tests read the default log levels and formats.
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1")
            .args(args);
        cmd
    }

    /// Starts `schedule run ARGS` in the background; its log goes to `log_name`.
    pub fn start(&self, args: &[&str]) -> Scheduler {
        self.start_logging_to("scheduler.log", args)
    }

    pub fn start_logging_to(&self, log_name: &str, args: &[&str]) -> Scheduler {
        let log = std::fs::File::create(self.path(log_name)).unwrap();
        let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("schedule"))
            .current_dir(self.dir.path())
            .env_remove("SCHEDULE_CONFIG")
            .env_remove("SCHEDULE_DB")
            .envs(self.db_url.iter().map(|u| ("SCHEDULE_DB", u)))
            .env_remove("RUST_LOG")
            .env_remove("NOTIFY_SOCKET")
            .env_remove("WATCHDOG_USEC")
            .env("NO_COLOR", "1")
            .arg("run")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        Scheduler {
            child,
            log: self.path(log_name),
        }
    }

    /// `schedule history --json --limit 1000 EXTRA` as parsed rows.
    pub fn history(&self, extra: &[&str]) -> Vec<Value> {
        let mut args = vec!["history", "--json", "--limit", "1000"];
        args.extend_from_slice(extra);
        if self.pg.is_none() && !self.path("schedule.db").exists() {
            return Vec::new();
        }
        let out = self.cmd(&args).output().unwrap();
        assert!(
            out.status.success(),
            "history failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Vec<Value>>(&out.stdout).unwrap()
    }

    /// Polls the history until `pred` holds for it; panics after [`PATIENCE`].
    pub fn wait_for_history(&self, what: &str, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let rows = self.history(&[]);
            if pred(&rows) {
                return rows;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; history:\n{rows:#?}\nscheduler.log:\n{}",
                std::fs::read_to_string(self.path("scheduler.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Env {
    /// The row of run `id`.
    pub fn run(&self, id: &Value) -> Value {
        let rows = self.history(&[]);
        let row = rows.into_iter().find(|r| r["id"] == *id);
        row.unwrap_or_else(|| panic!("no run {id}"))
    }

    /// Waits until `job` has a `running` row and returns its id.
    pub fn running_run(&self, job: &str) -> Value {
        let rows = self.wait_for_history("a running run", |rows| count(rows, job, "running") >= 1);
        let row = rows
            .iter()
            .find(|r| r["job"] == job && status(r) == "running");
        row.unwrap()["id"].clone()
    }
}

pub fn status(row: &Value) -> &str {
    row["status"].as_str().unwrap()
}

pub fn count(rows: &[Value], job: &str, st: &str) -> usize {
    rows.iter()
        .filter(|r| r["job"] == job && status(r) == st)
        .count()
}

pub struct Scheduler {
    pub child: Child,
    pub log: PathBuf,
}

impl Scheduler {
    pub fn pid(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }

    pub fn signal(&self, signal: Signal) {
        kill(self.pid(), signal).unwrap();
    }

    /// Waits for the process to exit; panics after [`PATIENCE`].
    pub fn wait(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "scheduler did not exit; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Scheduler {
    /// A test that fails midway still stops the scheduler and its jobs:
    /// SIGTERM with a short grace (jobs are cancelled), SIGKILL if that hangs.
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = kill(self.pid(), Signal::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(15);
            while self.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = kill(self.pid(), Signal::SIGTERM);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether a process is alive (a zombie is not).
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat
                .rsplit_once(')')
                .map(|(_, r)| r.trim_start())
                .unwrap_or("");
            !state.starts_with('Z') && !state.starts_with('X')
        }
        Err(_) => false,
    }
}

/// Reads whitespace-separated pids from a file the job wrote.
pub fn pids_in(path: &Path) -> Vec<i32> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Waits until `path` holds at least `n` pids.
pub fn wait_for_pids(path: &Path, n: usize) -> Vec<i32> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let pids = pids_in(path);
        if pids.len() >= n {
            return pids;
        }
        assert!(Instant::now() < deadline, "no pids in {}", path.display());
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn kill_all(pids: &[i32]) {
    for &pid in pids {
        let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
    }
}

impl Env {
    /// Replaces jobs.toml the way editors do: write a new file, rename it
    /// over the old one.
    pub fn rewrite_config(&self, jobs_toml: &str) {
        let tmp = self.path(".jobs.toml.new");
        std::fs::write(&tmp, jobs_toml).unwrap();
        std::fs::rename(&tmp, self.path("jobs.toml")).unwrap();
    }
}

/// Milliseconds since the epoch of an RFC3339 field of a row.
pub fn ms(row: &Value, key: &str) -> i64 {
    let text = row[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} missing in {row}"));
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap()
        .timestamp_millis()
}

/// Waits until `scheduler`'s log contains `text`.
pub fn wait_for_log(scheduler: &Scheduler, text: &str) {
    let deadline = Instant::now() + PATIENCE;
    while !scheduler.log().contains(text) {
        assert!(
            Instant::now() < deadline,
            "no {text:?} in the log:\n{}",
            scheduler.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until the log holds `text` at least `n` times.
pub fn wait_for_log_count(s: &Scheduler, text: &str, n: usize) {
    let deadline = Instant::now() + PATIENCE;
    while s.log().matches(text).count() < n {
        assert!(
            Instant::now() < deadline,
            "fewer than {n} {text:?}:\n{}",
            s.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

// --- HTTP against `schedule run --http` ---

/// `GET path` with a plain TCP stream: the status code and the body.
pub fn get(addr: &str, path: &str) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let code = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (code, body.to_string())
}

pub fn health(addr: &str) -> (u16, Value) {
    let (code, body) = get(addr, "/health");
    (code, serde_json::from_str(&body).unwrap())
}

/// The address the scheduler listens on, once its config is loaded (the
/// server is up before, answering 503 "starting").
pub fn address(scheduler: &Scheduler) -> String {
    let addr = bound_address(scheduler);
    let deadline = Instant::now() + PATIENCE;
    while health(&addr).1["status"] == "starting" {
        assert!(
            Instant::now() < deadline,
            "still starting:\n{}",
            scheduler.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    addr
}

/// The address the scheduler says it listens on, as soon as it says so.
pub fn bound_address(scheduler: &Scheduler) -> String {
    wait_for_log(scheduler, "serving /health and /metrics");
    let log = scheduler.log();
    let line = log
        .lines()
        .find(|l| l.contains("serving /health and /metrics"))
        .unwrap();
    let at = line.find("address=").unwrap() + "address=".len();
    line[at..].split_whitespace().next().unwrap().to_string()
}

/// Polls `/health` until `pred` holds; panics after [`PATIENCE`].
pub fn wait_for_health(addr: &str, what: &str, pred: impl Fn(u16, &Value) -> bool) -> Value {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let (code, body) = health(addr);
        if pred(code, &body) {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; last /health: {code} {body}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

// --- wake-ups, from /proc ---

/// A thread of a process as /proc shows it: its id, its name and how often it
/// was woken (`voluntary_ctxt_switches`: each time it blocked and ran again).
#[derive(Debug, Clone, PartialEq)]
pub struct Thread {
    pub tid: u32,
    pub name: String,
    pub wakeups: u64,
}

/// The threads of process `pid`, in the order /proc lists them.
pub fn threads(pid: u32) -> Vec<Thread> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut threads: Vec<Thread> = tasks
        .flatten()
        .filter_map(|task| {
            let tid = task.file_name().to_str()?.parse().ok()?;
            let name = std::fs::read_to_string(task.path().join("comm")).ok()?;
            let status = std::fs::read_to_string(task.path().join("status")).ok()?;
            let wakeups = status
                .lines()
                .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
                .and_then(|v| v.trim().parse().ok())?;
            Some(Thread {
                tid,
                name: name.trim().to_string(),
                wakeups,
            })
        })
        .collect();
    threads.sort_by_key(|t| t.tid);
    threads
}

/// The wake-ups of `pid`'s thread named `name` (the main thread is the one
/// whose id is `pid`), if there is one.
pub fn wakeups(pid: u32, name: &str) -> Option<u64> {
    threads(pid)
        .into_iter()
        .find(|t| t.name == name)
        .map(|t| t.wakeups)
}
