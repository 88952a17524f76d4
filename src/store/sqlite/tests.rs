//! What only the SQLite backend has: its file, its lock, its query plans
//! and its old schema. The rest is the contract in `store/tests.rs`.

use super::*;
use crate::domain::{Role, Status, Trigger};
use crate::store::LockError;

fn newest(store: &mut SqliteStore, limit: usize) -> Vec<RunRecord> {
    let query = HistoryQuery {
        limit,
        ..Default::default()
    };
    store.history(&query).unwrap()
}

/// The history queries must walk an index, never scan the table and sort:
/// that is what keeps `history --failed` fast at millions of rows.
#[test]
fn history_queries_use_an_index_without_sorting() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("s.db"), Mode::Write).unwrap();
    for job in [None, Some("a".to_string())] {
        for failed_only in [false, true] {
            for since in [None, Some(())] {
                let query = HistoryQuery {
                    job: job.clone(),
                    failed_only,
                    since: since.map(|_| chrono::Utc::now()),
                    limit: 20,
                    ..Default::default()
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
    let mut store = SqliteStore::open(&path, Mode::Read).unwrap();
    let version: i64 = store
        .conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let rows = newest(&mut store, 100);
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
    let old = &rows[0];
    let retry = NewRun {
        job: old.job.clone(),
        scheduled_for: old.scheduled_for,
        slot: 0,
        nominal: None,
        attempt: 2,
        trigger: Trigger::Retry,
        started_at: old.scheduled_for,
        host: "h".into(),
        pid: 1,
    };
    let retry = std::slice::from_ref(&retry);
    assert!(store.claim(retry).unwrap()[0].is_some());
    assert!(store.claim(retry).unwrap()[0].is_none());
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    drop(SqliteStore::open(&path, Mode::Write).unwrap());
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", 999)
        .unwrap();
    let err = SqliteStore::open(&path, Mode::Read).err().unwrap();
    assert_eq!(err.kind, Kind::Corrupt);
    assert!(err.to_string().contains("version 999, newer"), "{err}");
}

#[test]
fn opening_a_missing_database_without_create_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing.db");
    let err = SqliteStore::open(&path, Mode::Read).err().unwrap();
    assert_eq!(err.kind, Kind::Missing);
    assert!(err.to_string().contains("no such file"), "{err}");
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
    let err = SqliteStore::open(&path, Mode::Read).err().unwrap();
    assert_eq!(err.kind, Kind::Corrupt, "{err}");
    assert_eq!(crate::Error::from(err).exit_code(), 1);
}

#[test]
fn two_spellings_of_one_database_share_one_lock() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    std::fs::write(&db, "").unwrap();
    let link = dir.path().join("link.db");
    std::os::unix::fs::symlink(&db, &link).unwrap();
    let _first = FileLock::acquire(&db, "h", Role::Scheduler, DEFAULT_DB_MODE).unwrap();
    assert!(matches!(
        FileLock::acquire(&link, "h", Role::Scheduler, DEFAULT_DB_MODE),
        Err(LockError::Held(_))
    ));
    let dotted = dir.path().join(".").join("s.db");
    assert!(matches!(
        FileLock::acquire(&dotted, "h", Role::Scheduler, DEFAULT_DB_MODE),
        Err(LockError::Held(_))
    ));
}

#[test]
fn the_scheduler_lock_is_exclusive_and_names_its_holder() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let first = FileLock::acquire(&db, "hostA", Role::Scheduler, DEFAULT_DB_MODE).unwrap();
    match FileLock::acquire(&db, "hostB", Role::Scheduler, DEFAULT_DB_MODE) {
        Err(LockError::Held(holder)) => {
            assert_eq!(holder.pid, Some(std::process::id()));
            assert_eq!(holder.host.as_deref(), Some("hostA"));
            assert_eq!(holder.role, Role::Scheduler);
        }
        other => panic!("expected Held, got {:?}", other.err()),
    }
    drop(first);
    assert!(FileLock::acquire(&db, "hostB", Role::Scheduler, DEFAULT_DB_MODE).is_ok());
}

#[test]
fn the_scheduler_puts_any_database_in_wal_mode_and_readers_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    drop(SqliteStore::open(&path, Mode::Write).unwrap());
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
    let reader = SqliteStore::open(&path, Mode::Read).unwrap();
    assert_eq!(mode(&reader), "delete", "a reader changed the file");
    drop(reader);
    let writer = SqliteStore::open(&path, Mode::Write).unwrap();
    assert_eq!(mode(&writer), "wal");
}

#[test]
fn the_lock_holder_is_seen_without_taking_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    assert_eq!(lock_holder(&db), None);
    let lock = FileLock::acquire(&db, "hostA", Role::Trigger, DEFAULT_DB_MODE).unwrap();
    let holder = lock_holder(&db).unwrap();
    assert_eq!(
        (holder.pid, holder.host.as_deref(), holder.role),
        (Some(std::process::id()), Some("hostA"), Role::Trigger)
    );
    assert!(holder.since.is_some());
    drop(lock);
    assert_eq!(lock_holder(&db), None);
    // Looking did not take it.
    assert!(FileLock::acquire(&db, "hostB", Role::Scheduler, DEFAULT_DB_MODE).is_ok());
}

#[test]
fn another_process_s_write_is_told_from_our_own() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut ours = SqliteStore::open(&path, Mode::Write).unwrap();
    assert!(ours.others_wrote().unwrap(), "the first look always reads");
    ours.set_paused(&["a"], true, chrono::Utc::now()).unwrap();
    assert!(!ours.others_wrote().unwrap(), "our own write");
    let mut theirs = SqliteStore::open(&path, Mode::Write).unwrap();
    theirs.set_paused(&["b"], true, chrono::Utc::now()).unwrap();
    assert!(ours.others_wrote().unwrap(), "another connection's write");
    assert!(!ours.others_wrote().unwrap());
}

#[test]
fn a_locked_database_is_busy_not_broken() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut store = SqliteStore::open(&path, Mode::Write).unwrap();
    store
        .conn
        .busy_timeout(std::time::Duration::from_millis(50))
        .unwrap();
    let other = Connection::open(&path).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let run = NewRun {
        job: "a".into(),
        scheduled_for: chrono::Utc::now(),
        slot: 0,
        nominal: None,
        attempt: 1,
        trigger: Trigger::Schedule,
        started_at: chrono::Utc::now(),
        host: "h".into(),
        pid: 1,
    };
    let err = store.claim(std::slice::from_ref(&run)).unwrap_err();
    assert_eq!(err.kind, Kind::Busy, "{err}");
    assert!(err.is_transient());
    assert!(
        std::error::Error::source(&err).is_some(),
        "the driver's error is kept"
    );
    other.execute_batch("COMMIT").unwrap();
    assert!(store.claim(std::slice::from_ref(&run)).unwrap()[0].is_some());
    let _ = Status::Running;
}

#[test]
fn the_database_file_s_own_lock_names_a_holder_when_the_lock_file_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let lock = FileLock::acquire(&db, "hostA", Role::Scheduler, DEFAULT_DB_MODE).unwrap();
    std::fs::remove_file(dir.path().join("s.db.lock")).unwrap();
    assert!(lock_holder(&db).is_some());
    assert!(matches!(
        FileLock::acquire(&db, "hostB", Role::Scheduler, DEFAULT_DB_MODE),
        Err(LockError::Held(_))
    ));
    drop(lock);
    assert_eq!(lock_holder(&db), None);
}

/// Two processes opening an old database at once (the scheduler starting
/// while `schedule history` migrates it) meet in the switch to WAL mode,
/// where SQLite answers "database is locked" without waiting, to avoid a
/// deadlock. The open waits for the other instead of failing.
#[test]
fn opening_an_old_database_waits_for_another_process_migrating_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    std::fs::write(&path, "").unwrap();
    let other = rusqlite::Connection::open(&path).unwrap();
    other
        .execute_batch("BEGIN IMMEDIATE; CREATE TABLE theirs (x);")
        .unwrap();
    let (started, opened) = std::sync::mpsc::channel();
    let opener = std::thread::spawn({
        let path = path.clone();
        move || {
            started.send(()).unwrap();
            SqliteStore::open(&path, Mode::Write).map(|_| ())
        }
    });
    opened.recv().unwrap();
    // Long enough for the opener to reach the switch and be refused.
    std::thread::sleep(std::time::Duration::from_millis(500));
    other.execute_batch("COMMIT").unwrap();
    drop(other);
    opener.join().unwrap().unwrap();
    let store = SqliteStore::open(&path, Mode::Read).unwrap();
    let version: i64 = store
        .conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
}
