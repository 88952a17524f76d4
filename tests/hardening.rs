//! Issue 11: other local users can neither read nor stall the scheduler, and
//! file, config, clock, HTTP and signal faults lose nothing.

mod common;

use common::*;
use nix::sys::signal::Signal;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::time::{Duration, Instant};

const EVERY_SECOND: &str = r#"
[jobs.tick]
every = "1s"
command = "true"
"#;

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

fn wait_for_file(path: &std::path::Path) {
    let deadline = Instant::now() + PATIENCE;
    while !path.exists() {
        assert!(Instant::now() < deadline, "no {}", path.display());
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_database_its_side_files_and_the_lock_are_private() {
    let env = Env::new(EVERY_SECOND);
    let _s = env.start(&[]);
    env.wait_for_history("a run", |rows| !rows.is_empty());
    for name in [
        "schedule.db",
        "schedule.db-wal",
        "schedule.db-shm",
        "schedule.db.lock",
    ] {
        let path = env.path(name);
        wait_for_file(&path);
        assert_eq!(mode(&path), 0o600, "{name}");
    }
}

#[test]
fn db_mode_lets_a_group_read_the_history_and_an_old_world_readable_database_is_closed() {
    let env = Env::new(&format!("[scheduler]\ndb_mode = \"0640\"\n{EVERY_SECOND}"));
    // A database of an older version, world-readable.
    std::fs::write(env.path("schedule.db"), "").unwrap();
    std::fs::set_permissions(env.path("schedule.db"), PermissionsExt::from_mode(0o644)).unwrap();
    let s = env.start(&[]);
    env.wait_for_history("a run", |rows| !rows.is_empty());
    for name in ["schedule.db", "schedule.db-wal", "schedule.db-shm"] {
        wait_for_file(&env.path(name));
        assert_eq!(mode(&env.path(name)), 0o640, "{name}");
    }
    assert_eq!(mode(&env.path("schedule.db.lock")), 0o600);
    // `trigger` running the job itself keeps the configured mode.
    drop(s);
    env.cmd(&["trigger", "tick"]).assert().success();
    assert_eq!(mode(&env.path("schedule.db")), 0o640);
}

#[test]
fn a_db_mode_that_is_not_private_is_refused_with_its_place() {
    let env = Env::new(&format!("[scheduler]\ndb_mode = \"0666\"\n{EVERY_SECOND}"));
    let out = env.cmd(&["check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("jobs.toml:2:11"), "{err}");
    assert!(err.contains("invalid db_mode `0666`"), "{err}");
    assert!(err.contains("\"0640\""), "{err}");
}

#[test]
fn a_symlink_at_the_lock_path_is_refused_and_its_target_left_alone() {
    let env = Env::new(EVERY_SECOND);
    std::fs::write(env.path("important.conf"), "precious\n").unwrap();
    std::os::unix::fs::symlink(env.path("important.conf"), env.path("schedule.db.lock")).unwrap();
    let mut s = env.start(&[]);
    let status = s.wait();
    assert_eq!(status.code(), Some(1), "{}", s.log());
    assert!(s.log().contains("schedule.db.lock"), "{}", s.log());
    assert!(s.log().contains("symbolic link"), "{}", s.log());
    assert_eq!(
        std::fs::read_to_string(env.path("important.conf")).unwrap(),
        "precious\n"
    );
}

#[test]
fn a_database_path_naming_someone_elses_empty_file_is_refused() {
    let env = Env::new(EVERY_SECOND);
    let target = env.path("theirs");
    std::fs::write(&target, "").unwrap();
    let nobody = 65534;
    std::os::unix::fs::chown(&target, Some(nobody), Some(nobody)).unwrap();
    std::os::unix::fs::symlink(&target, env.path("schedule.db")).unwrap();
    let mut s = env.start(&[]);
    assert_eq!(s.wait().code(), Some(1), "{}", s.log());
    assert!(s.log().contains("belongs to uid 65534"), "{}", s.log());
    assert_eq!(std::fs::metadata(&target).unwrap().len(), 0);
    assert_eq!(std::fs::metadata(&target).unwrap().uid(), nobody);
}

#[test]
fn deleting_the_lock_file_does_not_let_a_second_scheduler_in() {
    let env = Env::new(EVERY_SECOND);
    let _first = env.start(&[]);
    env.wait_for_history("a run", |rows| !rows.is_empty());
    std::fs::remove_file(env.path("schedule.db.lock")).unwrap();
    let mut second = env.start_logging_to("second.log", &[]);
    assert_eq!(second.wait().code(), Some(1), "{}", second.log());
    assert!(second.log().contains("already using"), "{}", second.log());
    let rows = env.history(&[]);
    assert_eq!(count(&rows, "tick", "interrupted"), 0, "{rows:#?}");
}

const SHORT_RUNS: &str = r#"
[jobs.tick]
every = "1s"
command = "echo tick"
"#;

#[test]
fn a_fifo_or_an_endless_device_as_the_config_is_refused_and_the_loop_goes_on() {
    let env = Env::new(SHORT_RUNS);
    let s = env.start(&[]);
    wait_for_log(&s, "scheduler started");
    let fifo = env.path("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    std::fs::rename(&fifo, env.path("jobs.toml")).unwrap();
    wait_for_log(&s, "not a regular file");
    std::fs::remove_file(env.path("jobs.toml")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", env.path("jobs.toml")).unwrap();
    wait_for_log_count(&s, "not a regular file", 2);
    // The loop still runs the old config, and answers SIGHUP and SIGTERM.
    let before = count(&env.history(&[]), "tick", "succeeded");
    env.wait_for_history("more runs", |rows| {
        count(rows, "tick", "succeeded") > before + 1
    });
    assert!(!s.log().contains("config reloaded"), "{}", s.log());
    let mut s = s;
    s.signal(Signal::SIGTERM);
    assert_eq!(s.wait().code(), Some(0), "{}", s.log());
}

#[test]
fn a_reload_that_would_leave_no_job_is_refused_and_a_deleted_config_is_logged() {
    let env = Env::new(SHORT_RUNS);
    let s = env.start(&[]);
    wait_for_log(&s, "scheduler started");
    env.rewrite_config("");
    wait_for_log(&s, "config not reloaded: the file has no jobs now");
    std::fs::remove_file(env.path("jobs.toml")).unwrap();
    wait_for_log(&s, "No such file");
    let before = count(&env.history(&[]), "tick", "succeeded");
    env.wait_for_history("more runs", |rows| {
        count(rows, "tick", "succeeded") > before + 1
    });
    assert!(!s.log().contains("config reloaded"), "{}", s.log());
}

#[test]
fn a_config_with_no_jobs_starts_with_a_warning() {
    let env = Env::new("");
    let s = env.start(&[]);
    wait_for_log(&s, "the config has no jobs");
    assert!(s.log().contains("WARN"), "{}", s.log());
}

/// A config big enough that loading it takes a noticeable while.
fn big_config(jobs: usize) -> String {
    let mut text = String::with_capacity(jobs * 60);
    for i in 0..jobs {
        text.push_str(&format!(
            "[jobs.j{i}]\ncron = \"0 3 * * *\"\ncommand = \"true\"\n"
        ));
    }
    text.push_str(SHORT_RUNS);
    text
}

#[test]
fn sighup_during_start_up_is_a_reload_once_the_loop_runs() {
    let env = Env::new(&big_config(20_000));
    let s = env.start(&[]);
    std::thread::sleep(Duration::from_millis(20));
    s.signal(Signal::SIGHUP);
    wait_for_log(&s, "scheduler started");
    wait_for_log(&s, "SIGHUP: reloading the config");
    wait_for_log(&s, "config reloaded");
    env.wait_for_history("a run", |rows| count(rows, "tick", "succeeded") > 0);
}

#[test]
fn sigterm_during_start_up_exits_cleanly() {
    let env = Env::new(&big_config(20_000));
    let mut s = env.start(&[]);
    std::thread::sleep(Duration::from_millis(20));
    s.signal(Signal::SIGTERM);
    let status = s.wait();
    assert_eq!(status.code(), Some(0), "{status:?}\n{}", s.log());
    assert!(s.log().contains("scheduler stopped"), "{}", s.log());
}

#[test]
fn sigterm_while_a_big_config_loads_stops_the_load_and_writes_nothing() {
    // Seconds of loading, even in a release build: the signal comes while
    // the config is read, not after.
    let env = Env::new(&big_config(100_000));
    let mut s = env.start(&["--http", "127.0.0.1:0"]);
    std::thread::sleep(Duration::from_millis(50));
    s.signal(Signal::SIGTERM);
    let status = s.wait();
    assert_eq!(status.code(), Some(0), "{status:?}\n{}", s.log());
    let log = s.log();
    assert!(log.contains("stopped while loading the config"), "{log}");
    // Answered before the load was over: nothing after it happened.
    assert!(!env.path("schedule.db").exists(), "{log}");
    assert!(!log.contains("scheduler started"), "{log}");
}

#[test]
fn health_answers_while_a_big_config_loads_and_the_dashboard_follows() {
    let env = Env::new(&big_config(20_000));
    let s = env.start(&["--http", "127.0.0.1:0"]);
    let addr = bound_address(&s);
    // Seconds of loading and checking are ahead: asked at once, the server
    // says it is starting, for every page.
    let (code, body) = health(&addr);
    assert_eq!(code, 503, "{body}");
    assert_eq!(body["status"], "starting", "{body}");
    assert!(!s.log().contains("scheduler started"), "{}", s.log());
    let (code, page) = get(&addr, "/");
    assert_eq!(code, 503, "{page}");
    assert!(page.contains("loading its config"), "{page}");
    // Then the loop answers, and the dashboard lists the jobs.
    wait_for_health(&addr, "the loop's answer", |code, _| code == 200);
    let (code, page) = get(&addr, "/api/jobs");
    assert_eq!(code, 200);
    assert!(page.contains("j19999"));
}

#[test]
fn after_a_stall_a_fire_sees_that_the_previous_run_has_ended() {
    let env = Env::new(
        r#"
[jobs.a]
every = "2s"
command = "sleep 0.3"
"#,
    );
    let s = env.start(&[]);
    for _ in 0..3 {
        // Stop the scheduler while a run is in flight: the run ends and the
        // next fire comes due while it is stopped.
        env.wait_for_history("a run in flight", |rows| {
            rows.first().is_some_and(|r| status(r) == "running")
        });
        s.signal(Signal::SIGSTOP);
        std::thread::sleep(Duration::from_millis(2500));
        s.signal(Signal::SIGCONT);
        std::thread::sleep(Duration::from_millis(500));
    }
    let rows = env.wait_for_history("the runs after the stops", |rows| {
        count(rows, "a", "succeeded") >= 4
    });
    assert_eq!(count(&rows, "a", "skipped"), 0, "{rows:#?}");
}

#[test]
fn a_deleted_database_is_noticed_on_health_and_no_run_goes_into_the_lost_file() {
    let env = Env::new(EVERY_SECOND);
    let s = env.start(&["--http", "127.0.0.1:0"]);
    let addr = address(&s);
    env.wait_for_history("a run", |rows| count(rows, "tick", "succeeded") >= 2);
    // Keep a second name for the file, then delete the one the scheduler uses.
    std::fs::hard_link(env.path("schedule.db"), env.path("keep.db")).unwrap();
    std::fs::remove_file(env.path("schedule.db")).unwrap();
    let body = wait_for_health(&addr, "503 for the deleted file", |code, _| code == 503);
    assert!(body.to_string().contains("was deleted"), "{body}");
    wait_for_log(&s, "the database is gone from under the scheduler");
    std::thread::sleep(Duration::from_secs(3));
    // Put it back: the fires of the gap are recorded, none of them ran.
    std::fs::hard_link(env.path("keep.db"), env.path("schedule.db")).unwrap();
    wait_for_health(&addr, "healthy again", |code, _| code == 200);
    let rows = env.wait_for_history("the gap's fires recorded", |rows| {
        rows.iter().filter(|r| status(r) == "missed").count() >= 2
    });
    wait_for_log(&s, "the database is back in place");
    // Each fire has exactly one row: nothing was written elsewhere.
    let mut fires: Vec<_> = rows
        .iter()
        .map(|r| r["scheduled_for"].to_string())
        .collect();
    let n = fires.len();
    fires.sort();
    fires.dedup();
    assert_eq!(fires.len(), n, "{rows:#?}");
}

/// `schedule ARGS` on a pseudo-terminal (util-linux `script`): what it printed.
fn on_a_terminal(env: &Env, args: &str) -> String {
    let bin = assert_cmd::cargo::cargo_bin("schedule");
    let out = std::process::Command::new("script")
        .args(["-qec", &format!("{} {args}", bin.display()), "/dev/null"])
        .current_dir(env.path(""))
        .env("NO_COLOR", "1")
        .env_remove("SCHEDULE_DB")
        .env_remove("SCHEDULE_CONFIG")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn show_escapes_terminal_sequences_of_job_output_on_a_terminal_and_raw_prints_the_bytes() {
    let env = Env::new(
        r#"
[jobs.evil]
cron = "0 3 * * *"
command = '''printf 'normal\033]0;OWNED-TITLE\007\033[2Jcleared\n10%%\r100%%\n' '''
"#,
    );
    env.cmd(&["trigger", "evil"]).assert().success();
    let rows = env.history(&[]);
    let id = rows[0]["id"].to_string();
    let shown = on_a_terminal(&env, &format!("show {id}"));
    assert!(!shown.contains('\x1b'), "{shown:?}");
    assert!(
        shown.contains(r"normal\x1b]0;OWNED-TITLE\x07\x1b[2Jcleared"),
        "{shown:?}"
    );
    assert!(shown.contains("  100%\r\n"), "{shown:?}");
    let raw = on_a_terminal(&env, &format!("show --raw {id}"));
    assert!(raw.contains("\x1b]0;OWNED-TITLE\x07"), "{raw:?}");
    let history = on_a_terminal(&env, "history");
    assert!(!history.contains("OWNED"), "{history:?}");
    assert!(!history.contains('\x1b'), "{history:?}");
}

#[test]
fn check_rejects_a_nul_byte_in_a_command_with_its_place() {
    let env = Env::new("[jobs.a]\nevery = \"1m\"\ncommand = \"echo a\\u0000b\"\n");
    let out = env.cmd(&["check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("jobs.toml:3:11"), "{err}");
    assert!(err.contains("NUL byte"), "{err}");
}

#[test]
fn check_notices_a_missing_shell_and_a_program_that_is_not_executable() {
    let env =
        Env::new("[jobs.a]\nevery = \"1m\"\nshell = \"/nonexistent/sh\"\ncommand = \"true\"\n");
    let out = env.cmd(&["check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/sh"));
    std::fs::write(env.path("notexec"), "").unwrap();
    env.rewrite_config("[jobs.a]\nevery = \"1m\"\ncommand = \"./notexec\"\n");
    let out = env.cmd(&["check"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not executable"), "{err}");
    assert!(!err.contains("not found"), "{err}");
    env.rewrite_config("[jobs.a]\nevery = \"1s1s\"\ncommand = \"true\"\n");
    let out = env.cmd(&["check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn next_says_when_it_runs_out_of_time_before_the_count() {
    let env = Env::new("[jobs.leap]\ncron = \"0 0 29 2 *\"\ncommand = \"true\"\n");
    let out = env
        .cmd(&["next", "--count", "100000", "leap"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("fires asked for"), "{err}");
    assert!(err.contains("year 262142"), "{err}");
}

/// The parent pid and state of a process, from /proc.
fn ppid_and_state(pid: i32) -> Option<(i32, String)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace();
    let state = fields.next()?.to_string();
    Some((fields.next()?.parse().ok()?, state))
}

#[test]
fn what_a_job_leaves_behind_after_setsid_is_ours_to_reap_and_killed_at_its_timeout() {
    let env = Env::new(
        r#"
[jobs.leaver]
cron = "0 3 * * *"
command = "setsid sh -c 'sleep 2' & echo $! > left.pid"

[jobs.stuck]
cron = "0 3 * * *"
timeout = "1s"
command = "setsid sleep 300 & echo $! > stuck.pid; sleep 30"
"#,
    );
    let s = env.start(&[]);
    wait_for_log(&s, "scheduler started");
    let me = s.pid().as_raw();
    env.cmd(&["trigger", "leaver"]).assert().success();
    let left = wait_for_pids(&env.path("left.pid"), 1)[0];
    // Reparented to the scheduler, not to init, and reaped when it ends.
    let deadline = Instant::now() + PATIENCE;
    while ppid_and_state(left).is_some_and(|(_, st)| st != "Z") {
        if let Some((ppid, _)) = ppid_and_state(left) {
            assert_eq!(ppid, me, "the orphan's parent");
        }
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(50));
    }
    let deadline = Instant::now() + PATIENCE;
    while ppid_and_state(left).is_some() {
        assert!(Instant::now() < deadline, "zombie {left} not reaped");
        std::thread::sleep(Duration::from_millis(50));
    }
    // At the timeout, the process outside the job's group dies with it.
    env.cmd(&["trigger", "stuck"]).assert().success();
    let stuck = wait_for_pids(&env.path("stuck.pid"), 1)[0];
    let deadline = Instant::now() + PATIENCE;
    while alive(stuck) {
        assert!(
            Instant::now() < deadline,
            "the setsid'd sleep outlived its job"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `GET /health` once: its status code, or `None` when the server closed
/// the connection without an answer (over its limits).
fn try_health(addr: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(
        stream,
        "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn many_idle_http_connections_starve_neither_the_jobs_nor_health() {
    let env = Env::new(
        r#"
[jobs.tick]
every = "1s"
command = "echo tick"
"#,
    );
    // A small, hard limit on open files, as under a default systemd unit.
    let log = std::fs::File::create(env.path("scheduler.log")).unwrap();
    let child = std::process::Command::new("prlimit")
        .arg("--nofile=160:160")
        .arg(assert_cmd::cargo::cargo_bin("schedule"))
        .args(["run", "--http", "127.0.0.1:0"])
        .current_dir(env.path(""))
        .env_remove("SCHEDULE_CONFIG")
        .env_remove("SCHEDULE_DB")
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let s = Scheduler {
        child,
        log: env.path("scheduler.log"),
    };
    let addr = address(&s);
    env.wait_for_history("a run", |rows| count(rows, "tick", "succeeded") >= 1);
    // More idle connections than the process has file descriptors.
    let idle: Vec<_> = (0..400)
        .filter_map(|_| std::net::TcpStream::connect(&addr).ok())
        .collect();
    let before = count(&env.history(&[]), "tick", "succeeded");
    env.wait_for_history("runs beside the idle connections", |rows| {
        count(rows, "tick", "succeeded") >= before + 3
    });
    let deadline = Instant::now() + PATIENCE;
    while try_health(&addr) != Some(200) {
        assert!(
            Instant::now() < deadline,
            "/health never answered:\n{}",
            s.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let rows = env.history(&[]);
    assert_eq!(count(&rows, "tick", "failed"), 0, "{rows:#?}");
    assert!(!s.log().contains("Too many open files"), "{}", s.log());
    drop(idle);
}
