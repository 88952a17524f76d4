//! The SQLite schema, one entry per version; `PRAGMA user_version` counts
//! how many have been applied. Never edit an entry: append a new one.
//! `tests/fixtures/schema-v1.db` is a database of the first version that
//! every later build must still open.

pub const MIGRATIONS: &[&str] = &[
    // 1: the runs table.
    "CREATE TABLE runs (
        id            INTEGER PRIMARY KEY,
        job           TEXT    NOT NULL,
        scheduled_for INTEGER NOT NULL,  -- ms since the Unix epoch, UTC
        started_at    INTEGER,
        finished_at   INTEGER,
        status        TEXT    NOT NULL,
        exit_code     INTEGER,
        signal        INTEGER,
        duration_ms   INTEGER,
        reason        TEXT,
        host          TEXT    NOT NULL,
        pid           INTEGER NOT NULL,  -- the scheduler's
        child_pid     INTEGER,           -- the job's shell, leader of its process group
        stdout_tail   TEXT    NOT NULL DEFAULT '',
        stderr_tail   TEXT    NOT NULL DEFAULT '',
        UNIQUE (job, scheduled_for)
    );
    CREATE INDEX runs_by_time ON runs (scheduled_for);
    CREATE INDEX runs_failed_by_time ON runs (scheduled_for)
        WHERE status IN ('failed', 'timed_out', 'interrupted');
    CREATE INDEX runs_failed_by_job ON runs (job, scheduled_for)
        WHERE status IN ('failed', 'timed_out', 'interrupted');
    CREATE INDEX runs_running ON runs (id) WHERE status = 'running';",
    // 2: retries and triggers. A fire's identity becomes (job, scheduled_for,
    // attempt); SQLite cannot change a UNIQUE constraint, so the table is
    // rebuilt.
    "CREATE TABLE runs_v2 (
        id            INTEGER PRIMARY KEY,
        job           TEXT    NOT NULL,
        scheduled_for INTEGER NOT NULL,
        attempt       INTEGER NOT NULL DEFAULT 1,
        trigger       TEXT    NOT NULL DEFAULT 'schedule',
        started_at    INTEGER,
        finished_at   INTEGER,
        status        TEXT    NOT NULL,
        exit_code     INTEGER,
        signal        INTEGER,
        duration_ms   INTEGER,
        reason        TEXT,
        missed_count  INTEGER,
        host          TEXT    NOT NULL,
        pid           INTEGER NOT NULL,
        child_pid     INTEGER,
        stdout_tail   TEXT    NOT NULL DEFAULT '',
        stderr_tail   TEXT    NOT NULL DEFAULT '',
        UNIQUE (job, scheduled_for, attempt)
    );
    INSERT INTO runs_v2 (id, job, scheduled_for, started_at, finished_at, status, exit_code,
                         signal, duration_ms, reason, host, pid, child_pid, stdout_tail,
                         stderr_tail)
        SELECT id, job, scheduled_for, started_at, finished_at, status, exit_code, signal,
               duration_ms, reason, host, pid, child_pid, stdout_tail, stderr_tail
        FROM runs;
    DROP TABLE runs;
    ALTER TABLE runs_v2 RENAME TO runs;
    CREATE INDEX runs_by_time ON runs (scheduled_for, attempt);
    CREATE INDEX runs_failed_by_time ON runs (scheduled_for, attempt)
        WHERE status IN ('failed', 'timed_out', 'interrupted');
    CREATE INDEX runs_failed_by_job ON runs (job, scheduled_for, attempt)
        WHERE status IN ('failed', 'timed_out', 'interrupted');
    CREATE INDEX runs_running ON runs (id) WHERE status = 'running';",
    // 3: operator controls: paused jobs, `trigger` requests handed to a
    // running scheduler, and the live output of runs a client waits for.
    "CREATE TABLE paused (
        job       TEXT PRIMARY KEY,
        paused_at INTEGER NOT NULL
    );
    CREATE TABLE requests (
        id           INTEGER PRIMARY KEY,
        job          TEXT    NOT NULL,
        requested_at INTEGER NOT NULL,
        stream       INTEGER NOT NULL DEFAULT 0,
        taken        INTEGER NOT NULL DEFAULT 0,
        run_id       INTEGER,
        error        TEXT                -- why it will never have a run
    );
    CREATE INDEX requests_open ON requests (id) WHERE taken = 0;
    CREATE TABLE live_output (
        run_id INTEGER NOT NULL,
        seq    INTEGER NOT NULL,
        stream TEXT    NOT NULL,
        data   BLOB    NOT NULL,
        PRIMARY KEY (run_id, seq)
    );",
    // 4: a fire's identity gains its slot, for fires that share an instant:
    // the local times a daylight-saving jump skips all run at its end, and
    // wildcard jobs run again after the clock went back. `nominal` is the
    // skipped local time a fire stands for. The table is rebuilt to change
    // its UNIQUE constraint.
    "CREATE TABLE runs_v4 (
        id            INTEGER PRIMARY KEY,
        job           TEXT    NOT NULL,
        scheduled_for INTEGER NOT NULL,
        slot          INTEGER NOT NULL DEFAULT 0,
        nominal       TEXT,
        attempt       INTEGER NOT NULL DEFAULT 1,
        trigger       TEXT    NOT NULL DEFAULT 'schedule',
        started_at    INTEGER,
        finished_at   INTEGER,
        status        TEXT    NOT NULL,
        exit_code     INTEGER,
        signal        INTEGER,
        duration_ms   INTEGER,
        reason        TEXT,
        missed_count  INTEGER,
        host          TEXT    NOT NULL,
        pid           INTEGER NOT NULL,
        child_pid     INTEGER,
        stdout_tail   TEXT    NOT NULL DEFAULT '',
        stderr_tail   TEXT    NOT NULL DEFAULT '',
        UNIQUE (job, scheduled_for, slot, attempt)
    );
    INSERT INTO runs_v4 (id, job, scheduled_for, attempt, trigger, started_at, finished_at,
                         status, exit_code, signal, duration_ms, reason, missed_count, host, pid,
                         child_pid, stdout_tail, stderr_tail)
        SELECT id, job, scheduled_for, attempt, trigger, started_at, finished_at, status,
               exit_code, signal, duration_ms, reason, missed_count, host, pid, child_pid,
               stdout_tail, stderr_tail
        FROM runs;
    DROP TABLE runs;
    ALTER TABLE runs_v4 RENAME TO runs;
    CREATE INDEX runs_by_time ON runs (scheduled_for, slot, attempt);
    CREATE INDEX runs_failed_by_time ON runs (scheduled_for, slot, attempt)
        WHERE status IN ('failed', 'timed_out', 'interrupted');
    CREATE INDEX runs_failed_by_job ON runs (job, scheduled_for, slot, attempt)
        WHERE status IN ('failed', 'timed_out', 'interrupted');
    CREATE INDEX runs_running ON runs (id) WHERE status = 'running';",
    // 5: `schedule status`, `schedule logs`, and one row per pause. Each
    // scheduler's own description of itself (one row per host); the runs
    // someone follows with `schedule logs --follow`, whose output the
    // scheduler then passes on through `live_output`; and the last fire a
    // pause's `skipped` row counts (its `missed_count`).
    "ALTER TABLE runs ADD COLUMN last_scheduled_for INTEGER;
    CREATE TABLE status (
        host       TEXT    PRIMARY KEY,
        pid        INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        stopped_at INTEGER,
        version    TEXT    NOT NULL,
        config     TEXT    NOT NULL,
        db         TEXT    NOT NULL,
        jobs       INTEGER NOT NULL,
        running    INTEGER NOT NULL,
        queued     INTEGER NOT NULL
    );
    CREATE TABLE follows (
        id       INTEGER PRIMARY KEY,
        run_id   INTEGER NOT NULL,
        asked_at INTEGER NOT NULL,
        taken    INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX follows_open ON follows (id) WHERE taken = 0;",
    // 6: pause and resume are acknowledged: each one moves `version`, and a
    // running scheduler writes the version it applied into `applied`.
    "CREATE TABLE controls (
        id      INTEGER PRIMARY KEY CHECK (id = 1),
        version INTEGER NOT NULL,
        applied INTEGER NOT NULL
    );
    INSERT INTO controls (id, version, applied) VALUES (1, 0, 0);",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;
