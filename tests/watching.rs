//! What `schedule run` watches, and what it does not: a save of the config
//! (written in place or renamed over) is a reload, while a job writing files
//! beside the config and the database wakes no thread of the scheduler.

mod common;

use common::*;
use std::io::Write;
use std::time::Duration;

/// A job that never comes due in these tests: the scheduler is idle.
const IDLE: &str = "[jobs.yearly]\ncron = \"0 3 1 1 *\"\ncommand = \"true\"\n";

fn append(path: &std::path::Path) {
    let mut f = std::fs::File::options().append(true).open(path).unwrap();
    f.write_all(b"a line of a job's log\n").unwrap();
}

#[test]
fn a_job_appending_to_a_file_beside_the_config_and_the_database_wakes_no_thread() {
    let env = Env::new(IDLE);
    // Made before the scheduler starts: a file appearing in the folder is an
    // event the folder's watch must see (inotify cannot filter by name), and
    // it is a job's writes that concern us here, not its first one.
    let log = env.path("job.log");
    std::fs::write(&log, "").unwrap();
    let s = env.start(&[]);
    wait_for_log(&s, "scheduler started");
    let pid = s.child.id();
    // Start-up's last writes settle; from then on an idle scheduler has no
    // timer before the job's, months away.
    std::thread::sleep(Duration::from_secs(1));
    let before = threads(pid);
    for name in ["schedule", "store", "watch", "watch-db"] {
        assert!(
            before.iter().any(|t| t.name == name),
            "no thread {name}: {before:?}"
        );
    }
    for _ in 0..200 {
        append(&log);
        std::thread::sleep(Duration::from_millis(10));
    }
    // Time for a wake-up to happen, if one was coming.
    std::thread::sleep(Duration::from_millis(300));
    let after = threads(pid);
    // Every thread, the loop (the main thread, asleep on its timerfd)
    // included: none of them has a reason to wake, so no allowance. A
    // thread that ended meanwhile (none does today) is not a wake-up.
    let woken: Vec<_> = after
        .iter()
        .filter_map(|a| {
            let b = before.iter().find(|b| b.tid == a.tid)?;
            (a.wakeups != b.wakeups).then(|| (&a.name, a.wakeups - b.wakeups))
        })
        .collect();
    assert!(
        woken.is_empty(),
        "threads woken by 200 writes to another file: {woken:?}"
    );
    // The watch is alive: a save of the config, in place, wakes it.
    std::fs::write(
        env.path("jobs.toml"),
        format!("{IDLE}[jobs.other]\ncron = \"0 3 1 1 *\"\ncommand = \"true\"\n"),
    )
    .unwrap();
    wait_for_log(&s, "config reloaded");
    assert!(wakeups(pid, "watch").unwrap() > wakeups_of(&before, "watch"));
}

fn wakeups_of(threads: &[Thread], name: &str) -> u64 {
    threads.iter().find(|t| t.name == name).unwrap().wakeups
}

#[test]
fn every_save_of_the_config_is_a_reload_whether_written_in_place_or_renamed_over() {
    let env = Env::new(IDLE);
    let s = env.start(&[]);
    wait_for_log(&s, "scheduler started");
    let config = |n: usize| {
        let mut text = IDLE.to_string();
        for i in 0..n {
            text.push_str(&format!(
                "[jobs.j{i}]\ncron = \"0 3 1 1 *\"\ncommand = \"true\"\n"
            ));
        }
        text
    };
    // In turn, so that each kind of save follows the other: after a rename,
    // the file written in place is the new one, whose inode is watched now.
    for n in 1..=4 {
        if n % 2 == 1 {
            env.rewrite_config(&config(n));
        } else {
            std::fs::write(env.path("jobs.toml"), config(n)).unwrap();
        }
        wait_for_log_count(&s, "config reloaded", n);
    }
    let log = s.log();
    assert!(
        log.contains("j3"),
        "the last save's jobs were loaded: {log}"
    );
}
