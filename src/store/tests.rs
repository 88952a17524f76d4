//! The store contract: every backend passes the same tests. Each test is a
//! function over `&mut dyn Store`, run once against a SQLite file and once
//! against a real PostgreSQL (a private server the tests start, or
//! `SCHEDULE_TEST_DATABASE_URL`).

use super::*;
use crate::domain::{Ended, NotRun, Status, Trigger};
use chrono::TimeZone;

#[path = "../../tests/common/pg.rs"]
mod pg;

fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + secs, 0).unwrap()
}

fn new_run(job: &str, at: i64) -> NewRun {
    NewRun {
        job: job.into(),
        scheduled_for: t(at),
        slot: 0,
        nominal: None,
        attempt: 1,
        trigger: Trigger::Schedule,
        started_at: t(at),
        host: "testhost".into(),
        pid: 4242,
    }
}

fn not_run(status: NotRun, reason: &str) -> NotRunRecord {
    NotRunRecord {
        status,
        reason: reason.into(),
        missed_count: None,
        paused: false,
    }
}

/// Claims one fire.
fn claim(store: &mut dyn Store, run: NewRun) -> Option<i64> {
    store.claim(std::slice::from_ref(&run)).unwrap()[0]
}

fn outcome(status: Status, at: i64) -> Outcome {
    let status = match status {
        Status::Succeeded => Ended::Succeeded,
        Status::Failed => Ended::Failed,
        Status::TimedOut => Ended::TimedOut,
        Status::Cancelled => Ended::Cancelled,
        other => panic!("a run cannot end {other}"),
    };
    Outcome {
        status,
        finished_at: t(at),
        exit_code: Some(if status == Ended::Succeeded { 0 } else { 1 }),
        signal: None,
        duration_ms: 1000,
        stdout_tail: "out\n".into(),
        stderr_tail: String::new(),
        reason: None,
    }
}

/// The newest `limit` rows, or only the failed fires.
fn newest(store: &mut dyn Store, failed_only: bool, limit: usize) -> Vec<RunRecord> {
    let query = HistoryQuery {
        failed_only,
        limit,
        ..Default::default()
    };
    store.history(&query).unwrap()
}

/// Runs each named test against both backends.
macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[test]
                fn $name() {
                    let dir = tempfile::tempdir().unwrap();
                    let location = super::Location::Sqlite(dir.path().join("s.db"));
                    let mut store = super::open(&location, super::Mode::Write).unwrap();
                    super::$name(store.as_mut());
                }
            )*
        }
        mod on_postgres {
            $(
                #[test]
                fn $name() {
                    let db = super::pg::TestDb::new();
                    let location = super::Location::parse(&db.url).unwrap();
                    let mut store = super::open(&location, super::Mode::Write).unwrap();
                    super::$name(store.as_mut());
                }
            )*
        }
    };
}

contract!(
    a_fire_is_claimed_once,
    finish_records_the_outcome,
    history_filters_and_orders_newest_first,
    last_runs_per_job,
    the_last_success_is_the_newest_succeeded_fire_s_end,
    every_row_left_running_is_interrupted_whatever_its_host,
    prune_keeps_whole_fires_running_rows_and_each_job_s_newest_fire,
    a_retry_that_never_ran_does_not_hide_the_failure,
    requests_are_taken_linked_failed_expired_and_withdrawn,
    many_fires_are_claimed_in_one_call,
    pauses_are_kept_and_lifted,
    live_output_comes_back_in_order,
    a_row_reads_back_as_written,
    the_pids_of_several_runs_go_in_one_write,
    history_counts_and_filters_by_status_and_host_oldest_first,
    a_pause_is_one_row_that_counts_its_skipped_fires,
    followed_runs_are_taken_once,
    each_scheduler_s_status_row_is_replaced,
    many_ends_are_written_in_one_call,
    pauses_are_acknowledged_by_version,
);

fn a_fire_is_claimed_once(store: &mut dyn Store) {
    let id = claim(store, new_run("a", 0));
    assert!(id.is_some());
    assert_eq!(claim(store, new_run("a", 0)), None);
    assert!(claim(store, new_run("b", 0)).is_some());
    assert!(claim(store, new_run("a", 1)).is_some());
}

fn finish_records_the_outcome(store: &mut dyn Store) {
    let id = claim(store, new_run("a", 0)).unwrap();
    let rows = newest(store, false, 10);
    assert_eq!(rows[0].status, Status::Running);
    assert_eq!(rows[0].finished_at, None);
    store.finish(id, &outcome(Status::Failed, 1)).unwrap();
    let rows = newest(store, false, 10);
    let row = &rows[0];
    assert_eq!(
        (row.id, row.status, row.exit_code),
        (id, Status::Failed, Some(1))
    );
    assert_eq!(row.finished_at, Some(t(1)));
    assert_eq!(row.stdout_tail, "out\n");
    assert_eq!((row.host.as_str(), row.pid), ("testhost", 4242));
}

fn history_filters_and_orders_newest_first(store: &mut dyn Store) {
    for (job, at, status) in [
        ("a", 0, Status::Succeeded),
        ("b", 10, Status::Failed),
        ("a", 20, Status::TimedOut),
        ("b", 30, Status::Succeeded),
        ("a", 40, Status::Cancelled),
    ] {
        let id = claim(store, new_run(job, at)).unwrap();
        store.finish(id, &outcome(status, at + 1)).unwrap();
    }
    store
        .record(
            &new_run("a", 50),
            &not_run(NotRun::Skipped, "still running"),
        )
        .unwrap();
    let mut query = |job: Option<&str>, failed_only, since: Option<i64>, limit| {
        store
            .history(&HistoryQuery {
                job: job.map(str::to_string),
                failed_only,
                since: since.map(t),
                limit,
                ..Default::default()
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
    let skipped = &newest(store, false, 1)[0];
    assert_eq!(skipped.reason.as_deref(), Some("still running"));
    assert_eq!(skipped.started_at, None);
}

fn last_runs_per_job(store: &mut dyn Store) {
    for (job, at) in [("a", 0), ("a", 10), ("b", 5)] {
        claim(store, new_run(job, at));
    }
    // Fires that never started are not the last run.
    store
        .record(
            &new_run("a", 20),
            &not_run(NotRun::Missed, "scheduler down"),
        )
        .unwrap();
    store
        .record(&new_run("b", 30), &not_run(NotRun::Skipped, "paused"))
        .unwrap();
    let last = store.last_runs(&["a", "b", "c"]).unwrap();
    assert_eq!(last.len(), 2);
    assert_eq!(last["a"].scheduled_for, t(10));
    assert_eq!(last["b"].scheduled_for, t(5));
    assert_eq!(store.job_names().unwrap(), ["a", "b"]);
    let first = store.first_fires(&["a", "b", "c"]).unwrap();
    assert_eq!(first.len(), 2);
    assert_eq!((first["a"], first["b"]), (t(0), t(5)));
}

fn the_last_success_is_the_newest_succeeded_fire_s_end(store: &mut dyn Store) {
    for (job, at, status) in [
        ("a", 0, Status::Succeeded),
        ("a", 10, Status::Succeeded),
        ("a", 20, Status::Failed),
        ("b", 5, Status::Failed),
    ] {
        let id = claim(store, new_run(job, at)).unwrap();
        store.finish(id, &outcome(status, at + 1)).unwrap();
    }
    let last = store.last_successes(&["a", "b", "c"]).unwrap();
    assert_eq!(last.len(), 1, "{last:?}");
    assert_eq!(last["a"], outcome(Status::Succeeded, 11).finished_at);
}

fn every_row_left_running_is_interrupted_whatever_its_host(store: &mut dyn Store) {
    let id = claim(store, new_run("a", 0)).unwrap();
    store.finish(id, &outcome(Status::Succeeded, 1)).unwrap();
    let dead = claim(store, new_run("b", 0)).unwrap();
    store.set_child_pid(dead, 777).unwrap();
    // A container that restarts gets a new host name.
    let mut elsewhere = new_run("c", 0);
    elsewhere.host = "old-container".into();
    claim(store, elsewhere);
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
    let rows = newest(store, false, 10);
    let row = |job: &str| rows.iter().find(|r| r.job == job).unwrap().clone();
    assert_eq!(row("a").status, Status::Succeeded);
    assert_eq!(row("b").status, Status::Interrupted);
    assert_eq!(row("b").child_pid, Some(777));
    assert_eq!(row("c").status, Status::Interrupted);
    assert!(row("b").reason.unwrap().contains("pid 4242 on testhost"));
    // Interrupted runs count as failed.
    let failed = newest(store, true, 10);
    assert_eq!(failed.len(), 2);
    assert!(store.interrupt_orphans().unwrap().is_empty());
}

fn prune_keeps_whole_fires_running_rows_and_each_job_s_newest_fire(store: &mut dyn Store) {
    let mut add = |job: &str, at: i64, attempt: u32, status: Status| {
        let mut run = new_run(job, at);
        run.attempt = attempt;
        let id = claim(store, run).unwrap();
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
    let fires = |store: &mut dyn Store| -> Vec<(String, i64, u32)> {
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
        fires(store),
        [("a".into(), 20, 1), ("a".into(), 30, 1), ("b".into(), 0, 1)]
    );
    // `keep`: everything scheduled before 25 s, but not a's newest fire
    // (30, running) nor b's only one.
    while store.prune(Some(t(25)), None, 10).unwrap() > 0 {}
    assert_eq!(fires(store), [("a".into(), 30, 1), ("b".into(), 0, 1)]);
    assert_eq!(store.last_fires(&["a", "b"]).unwrap().len(), 2);
}

fn a_retry_that_never_ran_does_not_hide_the_failure(store: &mut dyn Store) {
    let id = claim(store, new_run("a", 0)).unwrap();
    store.finish(id, &outcome(Status::Failed, 1)).unwrap();
    let mut retry = new_run("a", 0);
    retry.attempt = 2;
    retry.trigger = Trigger::Retry;
    store
        .record(&retry, &not_run(NotRun::Cancelled, "dropped at shutdown"))
        .unwrap();
    let failed = newest(store, true, 10);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].attempt, 1);
}

fn requests_are_taken_linked_failed_expired_and_withdrawn(store: &mut dyn Store) {
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

fn many_fires_are_claimed_in_one_call(store: &mut dyn Store) {
    let mut runs: Vec<NewRun> = (0..1000).map(|i| new_run(&format!("job{i}"), 0)).collect();
    // The same fire twice in one batch, and one claimed before.
    runs.push(new_run("job7", 0));
    assert!(claim(store, new_run("early", 0)).is_some());
    runs.push(new_run("early", 0));
    let ids = store.claim(&runs).unwrap();
    assert_eq!(ids.len(), 1002);
    assert!(ids[..1000].iter().all(Option::is_some));
    assert_eq!(
        ids[1000], None,
        "a fire is claimed once, even twice in one batch"
    );
    assert_eq!(ids[1001], None, "a fire claimed before stays claimed");
    let mut distinct: Vec<i64> = ids.iter().flatten().copied().collect();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 1000);
    // Each id is the row of its own fire.
    let row = store.run(ids[123].unwrap()).unwrap().unwrap();
    assert_eq!(row.job, "job123");
    assert_eq!(row.status, Status::Running);
    assert!(store.claim(&[]).unwrap().is_empty());
}

fn pauses_are_kept_and_lifted(store: &mut dyn Store) {
    assert!(store.paused().unwrap().is_empty());
    store.set_paused(&["b", "a"], true, t(0)).unwrap();
    store.set_paused(&["a"], true, t(1)).unwrap();
    assert_eq!(store.paused().unwrap(), ["a", "b"]);
    store.set_paused(&["a", "zzz"], false, t(2)).unwrap();
    assert_eq!(store.paused().unwrap(), ["b"]);
}

fn live_output_comes_back_in_order(store: &mut dyn Store) {
    let id = claim(store, new_run("a", 0)).unwrap();
    store.append_output(id, "stdout", b"one\n").unwrap();
    store.append_output(id, "stderr", b"two\n").unwrap();
    store.append_output(id, "stdout", &[0xff, b'\n']).unwrap();
    let chunks = store.output_after(id, 0).unwrap();
    let seen: Vec<(&str, &[u8])> = chunks
        .iter()
        .map(|c| (c.stream.as_str(), c.data.as_slice()))
        .collect();
    assert_eq!(
        seen,
        [
            ("stdout", &b"one\n"[..]),
            ("stderr", &b"two\n"[..]),
            ("stdout", &[0xff, b'\n'][..])
        ]
    );
    let later = store.output_after(id, chunks[0].seq).unwrap();
    assert_eq!(later.len(), 2);
    store.delete_output(id).unwrap();
    assert!(store.output_after(id, 0).unwrap().is_empty());
}

fn the_pids_of_several_runs_go_in_one_write(store: &mut dyn Store) {
    let a = claim(store, new_run("a", 0)).unwrap();
    let b = claim(store, new_run("b", 0)).unwrap();
    let c = claim(store, new_run("c", 0)).unwrap();
    store.set_child_pids(&[(a, 101), (c, 303)]).unwrap();
    let pid = |store: &mut dyn Store, id| store.run(id).unwrap().unwrap().child_pid;
    assert_eq!(pid(store, a), Some(101));
    assert_eq!(pid(store, b), None);
    assert_eq!(pid(store, c), Some(303));
    store.set_child_pids(&[]).unwrap();
}

fn a_row_reads_back_as_written(store: &mut dyn Store) {
    let mut run = new_run("a", 0);
    // Times keep milliseconds on both backends.
    run.started_at = t(0) + chrono::TimeDelta::milliseconds(1234);
    run.trigger = Trigger::Manual;
    let id = claim(store, run.clone()).unwrap();
    store.set_child_pid(id, 99).unwrap();
    let mut end = outcome(Status::TimedOut, 3);
    end.signal = Some(15);
    end.exit_code = None;
    end.reason = Some("timed out after 2s".into());
    end.stderr_tail = "ünïcode ✓\n".into();
    store.finish(id, &end).unwrap();
    let row = store.run(id).unwrap().unwrap();
    assert_eq!(
        row,
        RunRecord {
            id,
            job: "a".into(),
            scheduled_for: t(0),
            attempt: 1,
            trigger: Trigger::Manual,
            started_at: Some(run.started_at),
            finished_at: Some(t(3)),
            status: Status::TimedOut,
            exit_code: None,
            signal: Some(15),
            duration_ms: Some(1000),
            reason: Some("timed out after 2s".into()),
            missed_count: None,
            slot: 0,
            nominal: None,
            last_scheduled_for: None,
            host: "testhost".into(),
            pid: 4242,
            child_pid: Some(99),
            stdout_tail: "out\n".into(),
            stderr_tail: "ünïcode ✓\n".into(),
        }
    );
    assert_eq!(store.run(id + 1000).unwrap(), None);
    let missed = NotRunRecord {
        status: NotRun::Missed,
        reason: "the scheduler was down".into(),
        missed_count: Some(7),
        paused: false,
    };
    let mid = store.record(&new_run("b", 5), &missed).unwrap().unwrap();
    assert_eq!(store.record(&new_run("b", 5), &missed).unwrap(), None);
    let row = store.run(mid).unwrap().unwrap();
    assert_eq!(
        (row.status, row.missed_count, row.started_at),
        (Status::Missed, Some(7), None)
    );
    let stats = store.stat_rows(Some("b"), t(0)).unwrap();
    assert_eq!(stats.len(), 1);
    assert_eq!(stats[0].missed_count, Some(7));
    assert_eq!(store.stat_rows(None, t(0)).unwrap().len(), 2);
    assert!(store.stat_rows(None, t(10)).unwrap().is_empty());
}

/// `sslmode` as libpq reads it, against a server that refuses plain TCP:
/// a connection that works was encrypted.
#[test]
fn postgres_connects_over_tls_as_sslmode_says() {
    let server = pg::tls_server();
    let cert = server.cert.display().to_string();
    let open_with = |query: &str| {
        open(
            &Location::parse(&format!("{}?{query}", server.url)).unwrap(),
            Mode::Write,
        )
    };
    for ok in [
        String::new(), // prefer, libpq's default
        "sslmode=require".into(),
        format!("sslmode=verify-ca&sslrootcert={cert}"),
        format!("sslmode=verify-full&sslrootcert={cert}"),
    ] {
        let mut store = open_with(&ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        assert!(store.paused().unwrap().is_empty(), "{ok}");
    }
    let refused = open_with("sslmode=disable")
        .err()
        .expect("plain TCP is refused");
    assert!(
        refused.to_string().contains("no pg_hba.conf entry")
            || refused.to_string().contains("SSL off"),
        "{refused}"
    );
    // Its certificate is self-signed: nothing trusted vouches for it.
    let untrusted = open_with("sslmode=verify-full")
        .err()
        .expect("an untrusted certificate");
    assert_eq!(untrusted.kind, Kind::Unavailable, "{untrusted}");
    let err = open_with("sslmode=sometimes").err().unwrap();
    assert!(err.to_string().contains("sslmode `sometimes`"), "{err}");
}

fn history_counts_and_filters_by_status_and_host_oldest_first(store: &mut dyn Store) {
    for (i, status) in [
        Status::Succeeded,
        Status::Failed,
        Status::TimedOut,
        Status::Failed,
    ]
    .into_iter()
    .enumerate()
    {
        let mut run = new_run("a", i as i64 * 10);
        if i == 3 {
            run.host = "otherhost".into();
        }
        let id = claim(store, run).unwrap();
        store
            .finish(id, &outcome(status, i as i64 * 10 + 1))
            .unwrap();
    }
    store
        .record(&new_run("b", 5), &not_run(NotRun::Skipped, "paused"))
        .unwrap();
    let all = HistoryQuery {
        limit: 2,
        ..Default::default()
    };
    assert_eq!(store.count(&all).unwrap(), 5);
    assert_eq!(store.history(&all).unwrap().len(), 2);
    let failed = HistoryQuery {
        statuses: vec![Status::Failed, Status::TimedOut],
        limit: 10,
        ..Default::default()
    };
    let times = |rows: Vec<RunRecord>| -> Vec<i64> {
        rows.iter()
            .map(|r| (r.scheduled_for - t(0)).num_seconds())
            .collect()
    };
    assert_eq!(times(store.history(&failed).unwrap()), [30, 20, 10]);
    assert_eq!(store.count(&failed).unwrap(), 3);
    let oldest = HistoryQuery {
        oldest_first: true,
        limit: 2,
        ..failed.clone()
    };
    assert_eq!(times(store.history(&oldest).unwrap()), [10, 20]);
    let here = HistoryQuery {
        host: Some("testhost".into()),
        job: Some("a".into()),
        ..failed.clone()
    };
    assert_eq!(times(store.history(&here).unwrap()), [20, 10]);
    assert_eq!(store.count(&here).unwrap(), 2);
    let none = HistoryQuery {
        host: Some("nohost".into()),
        ..failed
    };
    assert_eq!(store.count(&none).unwrap(), 0);
}

fn a_pause_is_one_row_that_counts_its_skipped_fires(store: &mut dyn Store) {
    let paused = NotRunRecord {
        paused: true,
        ..not_run(NotRun::Skipped, "paused")
    };
    let first = store.record(&new_run("a", 0), &paused).unwrap().unwrap();
    for at in 1..5 {
        assert_eq!(
            store.record(&new_run("a", at), &paused).unwrap(),
            Some(first)
        );
    }
    let rows = store
        .history(&HistoryQuery {
            limit: 100,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].status, Status::Skipped);
    assert_eq!(rows[0].scheduled_for, t(0));
    assert_eq!(rows[0].missed_count, Some(5));
    assert_eq!(rows[0].last_scheduled_for, Some(t(4)));
    // Catching up starts after the pause's last fire.
    assert_eq!(store.last_fires(&["a"]).unwrap()["a"], t(4));
    assert_eq!(
        store.stat_rows(Some("a"), t(0)).unwrap()[0].missed_count,
        Some(5)
    );
    // A run in between ends the pause's row: the next pause has its own.
    let id = claim(store, new_run("a", 10)).unwrap();
    store.finish(id, &outcome(Status::Succeeded, 11)).unwrap();
    let second = store.record(&new_run("a", 20), &paused).unwrap().unwrap();
    assert_ne!(second, first);
    store.record(&new_run("a", 21), &paused).unwrap();
    assert_eq!(store.run(second).unwrap().unwrap().missed_count, Some(2));
    assert_eq!(store.run(first).unwrap().unwrap().missed_count, Some(5));
    // Other skipped fires keep a row each.
    let a = store
        .record(&new_run("b", 0), &not_run(NotRun::Skipped, "overlap"))
        .unwrap();
    let b = store
        .record(&new_run("b", 1), &not_run(NotRun::Skipped, "overlap"))
        .unwrap();
    assert_ne!(a, b);
}

fn followed_runs_are_taken_once(store: &mut dyn Store) {
    assert!(store.take_follows().unwrap().is_empty());
    store.follow(7, t(0)).unwrap();
    store.follow(7, t(1)).unwrap();
    store.follow(3, t(1)).unwrap();
    assert_eq!(store.take_follows().unwrap(), [3, 7]);
    assert!(store.take_follows().unwrap().is_empty());
    store.clean_controls(t(10)).unwrap();
}

fn each_scheduler_s_status_row_is_replaced(store: &mut dyn Store) {
    assert!(store.statuses().unwrap().is_empty());
    let mut status = crate::domain::SchedulerStatus {
        host: "box".into(),
        pid: 42,
        started_at: t(0),
        updated_at: t(0),
        stopped_at: None,
        version: "1.2.3".into(),
        config: "/etc/jobs.toml".into(),
        db: "postgres://u@h/db".into(),
        jobs: 3,
        running: 1,
        queued: 0,
    };
    store.write_status(&status).unwrap();
    status.running = 2;
    status.queued = 5;
    status.updated_at = t(5);
    store.write_status(&status).unwrap();
    let other = crate::domain::SchedulerStatus {
        host: "other".into(),
        updated_at: t(1),
        stopped_at: Some(t(2)),
        ..status.clone()
    };
    store.write_status(&other).unwrap();
    assert_eq!(store.statuses().unwrap(), [status, other]);
}

fn many_ends_are_written_in_one_call(store: &mut dyn Store) {
    let ids: Vec<i64> = (0..50)
        .map(|i| claim(store, new_run(&format!("j{i}"), 0)).unwrap())
        .collect();
    let ends: Vec<Outcome> = (0..50)
        .map(|i| {
            outcome(
                if i % 2 == 0 {
                    Status::Succeeded
                } else {
                    Status::Failed
                },
                1,
            )
        })
        .collect();
    let pairs: Vec<(i64, &Outcome)> = ids.iter().copied().zip(&ends).collect();
    store.finish_all(&pairs).unwrap();
    for (i, id) in ids.iter().enumerate() {
        let row = store.run(*id).unwrap().unwrap();
        let want = if i % 2 == 0 {
            Status::Succeeded
        } else {
            Status::Failed
        };
        assert_eq!(
            (row.job.as_str(), row.status),
            (format!("j{i}").as_str(), want)
        );
    }
    store.finish_all(&[]).unwrap();
}

fn pauses_are_acknowledged_by_version(store: &mut dyn Store) {
    assert_eq!(store.controls().unwrap(), (0, 0));
    store.set_paused(&["a"], true, t(0)).unwrap();
    store.set_paused(&["a"], false, t(1)).unwrap();
    assert_eq!(store.controls().unwrap(), (2, 0));
    store.applied(2).unwrap();
    // An older acknowledgement arriving late does not go back.
    store.applied(1).unwrap();
    assert_eq!(store.controls().unwrap(), (2, 2));
}
