use super::*;
use chrono::TimeZone;

fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + secs, 0).unwrap()
}

fn new_run(job: &str, at: i64) -> NewRun<'_> {
    NewRun {
        job,
        scheduled_for: t(at),
        attempt: 1,
        trigger: Trigger::Schedule,
        started_at: t(at),
        host: "testhost",
        pid: 4242,
    }
}

fn outcome(status: Status, at: i64) -> Outcome {
    Outcome {
        status,
        finished_at: t(at),
        exit_code: Some(if status == Status::Succeeded { 0 } else { 1 }),
        signal: None,
        duration_ms: 1000,
        stdout_tail: "out\n".into(),
        stderr_tail: String::new(),
        reason: None,
    }
}

/// The newest `limit` rows, or only the failed fires.
fn newest(store: &SqliteStore, failed_only: bool, limit: usize) -> Vec<RunRecord> {
    let query = HistoryQuery {
        failed_only,
        limit,
        ..Default::default()
    };
    store.history(&query).unwrap()
}

fn temp_store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("s.db"), true).unwrap();
    (dir, store)
}

#[test]
fn a_fire_is_claimed_once() {
    let (_dir, mut store) = temp_store();
    let id = store.claim(&new_run("a", 0)).unwrap();
    assert!(id.is_some());
    assert_eq!(store.claim(&new_run("a", 0)).unwrap(), None);
    assert!(store.claim(&new_run("b", 0)).unwrap().is_some());
    assert!(store.claim(&new_run("a", 1)).unwrap().is_some());
}

#[test]
fn finish_records_the_outcome() {
    let (_dir, mut store) = temp_store();
    let id = store.claim(&new_run("a", 0)).unwrap().unwrap();
    let rows = newest(&store, false, 10);
    assert_eq!(rows[0].status, Status::Running);
    assert_eq!(rows[0].finished_at, None);
    store.finish(id, &outcome(Status::Failed, 1)).unwrap();
    let rows = newest(&store, false, 10);
    let row = &rows[0];
    assert_eq!(
        (row.id, row.status, row.exit_code),
        (id, Status::Failed, Some(1))
    );
    assert_eq!(row.finished_at, Some(t(1)));
    assert_eq!(row.stdout_tail, "out\n");
    assert_eq!((row.host.as_str(), row.pid), ("testhost", 4242));
}

#[test]
fn history_filters_and_orders_newest_first() {
    let (_dir, mut store) = temp_store();
    for (job, at, status) in [
        ("a", 0, Status::Succeeded),
        ("b", 10, Status::Failed),
        ("a", 20, Status::TimedOut),
        ("b", 30, Status::Succeeded),
        ("a", 40, Status::Cancelled),
    ] {
        let id = store.claim(&new_run(job, at)).unwrap().unwrap();
        store.finish(id, &outcome(status, at + 1)).unwrap();
    }
    store
        .record(&new_run("a", 50), Status::Skipped, "still running", None)
        .unwrap();
    let query = |job: Option<&str>, failed_only, since: Option<i64>, limit| {
        store
            .history(&HistoryQuery {
                job: job.map(str::to_string),
                failed_only,
                since: since.map(t),
                limit,
            })
            .unwrap()
            .into_iter()
            .map(|r| (r.job, (r.scheduled_for - t(0)).num_seconds(), r.status))
            .collect::<Vec<_>>()
    };
    let all = query(None, false, None, 100);
    assert_eq!(all.len(), 6);
    assert_eq!(all[0], ("a".into(), 50, Status::Skipped));
    assert_eq!(all[5], ("a".into(), 0, Status::Succeeded));
    assert_eq!(
        query(None, true, None, 100),
        [
            ("a".into(), 20, Status::TimedOut),
            ("b".into(), 10, Status::Failed)
        ]
    );
    assert_eq!(
        query(Some("a"), true, None, 100),
        [("a".into(), 20, Status::TimedOut)]
    );
    assert_eq!(query(None, false, Some(30), 100).len(), 3);
    assert_eq!(query(None, false, None, 2).len(), 2);
    let skipped = &newest(&store, false, 1)[0];
    assert_eq!(skipped.reason.as_deref(), Some("still running"));
    assert_eq!(skipped.started_at, None);
}

#[test]
fn last_runs_per_job() {
    let (_dir, mut store) = temp_store();
    for (job, at) in [("a", 0), ("a", 10), ("b", 5)] {
        store.claim(&new_run(job, at)).unwrap();
    }
    let last = store.last_runs(&["a", "b", "c"]).unwrap();
    assert_eq!(last.len(), 2);
    assert_eq!(last["a"].scheduled_for, t(10));
    assert_eq!(last["b"].scheduled_for, t(5));
}

#[test]
fn the_last_success_is_the_newest_succeeded_fire_s_end() {
    let (_dir, mut store) = temp_store();
    for (job, at, status) in [
        ("a", 0, Status::Succeeded),
        ("a", 10, Status::Succeeded),
        ("a", 20, Status::Failed),
        ("b", 5, Status::Failed),
    ] {
        let id = store.claim(&new_run(job, at)).unwrap().unwrap();
        store.finish(id, &outcome(status, at + 1)).unwrap();
    }
    let last = store.last_successes(&["a", "b", "c"]).unwrap();
    assert_eq!(last.len(), 1, "{last:?}");
    assert_eq!(last["a"], outcome(Status::Succeeded, 11).finished_at);
}

#[test]
fn every_row_left_running_is_interrupted_whatever_its_host() {
    let (_dir, mut store) = temp_store();
    let id = store.claim(&new_run("a", 0)).unwrap().unwrap();
    store.finish(id, &outcome(Status::Succeeded, 1)).unwrap();
    let dead = store.claim(&new_run("b", 0)).unwrap().unwrap();
    store.set_child_pid(dead, 777).unwrap();
    // A container that restarts gets a new host name.
    let mut elsewhere = new_run("c", 0);
    elsewhere.host = "old-container";
    store.claim(&elsewhere).unwrap();
    let mut orphans = store.interrupt_orphans().unwrap();
    orphans.sort_by(|a, b| a.job.cmp(&b.job));
    let summary: Vec<_> = orphans
        .iter()
        .map(|o| (o.job.as_str(), o.host.as_str(), o.child_pid))
        .collect();
    assert_eq!(
        summary,
        [("b", "testhost", Some(777)), ("c", "old-container", None)]
    );
    let rows = newest(&store, false, 10);
    let row = |job: &str| rows.iter().find(|r| r.job == job).unwrap().clone();
    assert_eq!(row("a").status, Status::Succeeded);
    assert_eq!(row("b").status, Status::Interrupted);
    assert_eq!(row("b").child_pid, Some(777));
    assert_eq!(row("c").status, Status::Interrupted);
    assert!(row("b").reason.unwrap().contains("pid 4242 on testhost"));
    // Interrupted runs count as failed.
    let failed = newest(&store, true, 10);
    assert_eq!(failed.len(), 2);
    assert!(store.interrupt_orphans().unwrap().is_empty());
}

/// The history queries must walk an index, never scan the table and sort:
/// that is what keeps `history --failed` fast at millions of rows.
#[test]
fn history_queries_use_an_index_without_sorting() {
    let (_dir, store) = temp_store();
    for job in [None, Some("a".to_string())] {
        for failed_only in [false, true] {
            for since in [None, Some(t(0))] {
                let query = HistoryQuery {
                    job: job.clone(),
                    failed_only,
                    since,
                    limit: 20,
                };
                let sql = format!("EXPLAIN QUERY PLAN {}", history_sql(&query));
                let mut stmt = store.conn.prepare(&sql).unwrap();
                let mut named: Vec<(&str, &dyn rusqlite::ToSql)> = vec![(":limit", &20)];
                if job.is_some() {
                    named.push((":job", &"a"));
                }
                if since.is_some() {
                    named.push((":since", &0));
                }
                let plan: Vec<String> = stmt
                    .query_map(named.as_slice(), |r| r.get::<_, String>(3))
                    .unwrap()
                    .collect::<rusqlite::Result<_>>()
                    .unwrap();
                let plan = plan.join(" | ");
                assert!(plan.contains("USING INDEX"), "{sql}\n{plan}");
                assert!(!plan.contains("TEMP B-TREE"), "{sql}\n{plan}");
            }
        }
    }
}

#[test]
fn a_database_of_the_first_schema_version_opens_and_keeps_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    std::fs::copy("tests/fixtures/schema-v1.db", &path).unwrap();
    let store = SqliteStore::open(&path, false).unwrap();
    let version: i64 = store
        .conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let rows = newest(&store, false, 100);
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter()
            .any(|r| r.job == "backup" && r.status == Status::Failed)
    );
    // Rows from before retries and triggers read as first, scheduled attempts.
    assert!(
        rows.iter()
            .all(|r| r.attempt == 1 && r.trigger == Trigger::Schedule)
    );
    // And the new identity admits a second attempt at an old fire.
    let mut store = store;
    let old = &rows[0];
    let retry = NewRun {
        job: &old.job,
        scheduled_for: old.scheduled_for,
        attempt: 2,
        trigger: Trigger::Retry,
        started_at: old.scheduled_for,
        host: "h",
        pid: 1,
    };
    assert!(store.claim(&retry).unwrap().is_some());
    assert!(store.claim(&retry).unwrap().is_none());
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    drop(SqliteStore::open(&path, true).unwrap());
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", 999)
        .unwrap();
    let err = SqliteStore::open(&path, false).err().unwrap().to_string();
    assert!(err.contains("version 999, newer"), "{err}");
}

#[test]
fn opening_a_missing_database_without_create_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing.db");
    let err = SqliteStore::open(&path, false).err().unwrap().to_string();
    assert!(err.contains("no such file"), "{err}");
    assert!(!path.exists());
}

#[test]
fn a_file_that_is_not_a_database_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junk.db");
    std::fs::write(
        &path,
        "this is not sqlite, just some text that is long enough to matter",
    )
    .unwrap();
    let err = SqliteStore::open(&path, false).err().unwrap();
    assert_eq!(err.exit_code(), 1);
}

#[test]
fn two_spellings_of_one_database_share_one_lock() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    std::fs::write(&db, "").unwrap();
    let link = dir.path().join("link.db");
    std::os::unix::fs::symlink(&db, &link).unwrap();
    let _first = SchedulerLock::acquire(&db, "h", Role::Scheduler).unwrap();
    assert!(matches!(
        SchedulerLock::acquire(&link, "h", Role::Scheduler),
        Err(Error::Locked { .. })
    ));
    let dotted = dir.path().join(".").join("s.db");
    assert!(matches!(
        SchedulerLock::acquire(&dotted, "h", Role::Scheduler),
        Err(Error::Locked { .. })
    ));
}

#[test]
fn the_scheduler_lock_is_exclusive_and_names_its_holder() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let first = SchedulerLock::acquire(&db, "hostA", Role::Scheduler).unwrap();
    match SchedulerLock::acquire(&db, "hostB", Role::Scheduler) {
        Err(Error::Locked {
            pid, host, role, ..
        }) => {
            assert_eq!(pid, Some(std::process::id()));
            assert_eq!(host.as_deref(), Some("hostA"));
            assert_eq!(role, Role::Scheduler);
        }
        other => panic!("expected Locked, got {:?}", other.err()),
    }
    drop(first);
    assert!(SchedulerLock::acquire(&db, "hostB", Role::Scheduler).is_ok());
}

#[test]
fn the_scheduler_puts_any_database_in_wal_mode_and_readers_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    drop(SqliteStore::open(&path, true).unwrap());
    // An up-to-date file that is not in WAL mode (copied, or changed by hand).
    Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA journal_mode = DELETE", [], |r| {
            r.get::<_, String>(0)
        })
        .unwrap();
    let mode = |store: &SqliteStore| -> String {
        store
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap()
    };
    let reader = SqliteStore::open(&path, false).unwrap();
    assert_eq!(mode(&reader), "delete", "a reader changed the file");
    drop(reader);
    let writer = SqliteStore::open(&path, true).unwrap();
    assert_eq!(mode(&writer), "wal");
}

#[test]
fn prune_keeps_whole_fires_running_rows_and_each_job_s_newest_fire() {
    let (_dir, mut store) = temp_store();
    let mut add = |job: &str, at: i64, attempt: u32, status: Status| {
        let mut run = new_run(job, at);
        run.attempt = attempt;
        let id = store.claim(&run).unwrap().unwrap();
        if status != Status::Running {
            store.finish(id, &outcome(status, at + 1)).unwrap();
        }
    };
    // Job a: fires at 0 (two attempts), 10 (two attempts), 20, 30 (running).
    add("a", 0, 1, Status::Failed);
    add("a", 0, 2, Status::Succeeded);
    add("a", 10, 1, Status::Failed);
    add("a", 10, 2, Status::Failed);
    add("a", 20, 1, Status::Succeeded);
    add("a", 30, 1, Status::Running);
    // Job b: only one fire, long ago: it is b's newest, so it stays.
    add("b", 0, 1, Status::Succeeded);
    let fires = |store: &SqliteStore| -> Vec<(String, i64, u32)> {
        let mut rows: Vec<_> = newest(store, false, 100)
            .into_iter()
            .map(|r| (r.job, (r.scheduled_for - t(0)).num_seconds(), r.attempt))
            .collect();
        rows.sort();
        rows
    };
    // keep_runs = 2 fires per job: a keeps 20 and 30; 0 and 10 go whole.
    let mut total = 0;
    loop {
        let n = store.prune(None, Some(2), 1).unwrap();
        if n == 0 {
            break;
        }
        total += n;
    }
    assert_eq!(total, 4);
    assert_eq!(
        fires(&store),
        [("a".into(), 20, 1), ("a".into(), 30, 1), ("b".into(), 0, 1)]
    );
    // `keep`: everything scheduled before 25 s, but not a's newest fire
    // (30, running) nor b's only one.
    while store.prune(Some(t(25)), None, 10).unwrap() > 0 {}
    assert_eq!(fires(&store), [("a".into(), 30, 1), ("b".into(), 0, 1)]);
    assert_eq!(store.last_fires(&["a", "b"]).unwrap().len(), 2);
}

#[test]
fn a_retry_that_never_ran_does_not_hide_the_failure() {
    let (_dir, mut store) = temp_store();
    let id = store.claim(&new_run("a", 0)).unwrap().unwrap();
    store.finish(id, &outcome(Status::Failed, 1)).unwrap();
    let mut retry = new_run("a", 0);
    retry.attempt = 2;
    retry.trigger = Trigger::Retry;
    store
        .record(&retry, Status::Cancelled, "dropped at shutdown", None)
        .unwrap();
    let failed = newest(&store, true, 10);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].attempt, 1);
}

#[test]
fn the_lock_holder_is_seen_without_taking_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    assert_eq!(lock_holder(&db), None);
    let lock = SchedulerLock::acquire(&db, "hostA", Role::Trigger).unwrap();
    let (pid, host, role) = lock_holder(&db).unwrap();
    assert_eq!(
        (pid, host.as_deref(), role),
        (Some(std::process::id()), Some("hostA"), Role::Trigger)
    );
    drop(lock);
    assert_eq!(lock_holder(&db), None);
    // Looking did not take it.
    assert!(SchedulerLock::acquire(&db, "hostB", Role::Scheduler).is_ok());
}

#[test]
fn requests_are_taken_linked_failed_expired_and_withdrawn() {
    let (_dir, mut store) = temp_store();
    let a = store.add_request("a", t(0), true).unwrap();
    let b = store.add_request("b", t(1), false).unwrap();
    let taken = store.take_requests().unwrap();
    assert_eq!(
        taken.iter().map(|r| (r.id, r.stream)).collect::<Vec<_>>(),
        [(a, true), (b, false)]
    );
    assert!(store.take_requests().unwrap().is_empty());
    store.link_request(a, 42).unwrap();
    store.fail_request(b, "no").unwrap();
    assert_eq!(
        store.request_state(a).unwrap(),
        RequestState {
            taken: true,
            run_id: Some(42),
            error: None
        }
    );
    assert_eq!(store.request_state(b).unwrap().error.as_deref(), Some("no"));
    // A linked request cannot be failed after the fact.
    store.fail_request(a, "late").unwrap();
    assert_eq!(store.request_state(a).unwrap().error, None);
    let c = store.add_request("c", t(2), true).unwrap();
    let d = store.add_request("d", t(100), true).unwrap();
    assert_eq!(store.fail_open_requests(Some(t(50)), "expired").unwrap(), 1);
    assert_eq!(
        store.request_state(c).unwrap().error.as_deref(),
        Some("expired")
    );
    assert!(store.withdraw_request(d).unwrap());
    assert!(!store.withdraw_request(a).unwrap(), "a taken request stays");
}
