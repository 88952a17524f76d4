//! The PostgreSQL schema, one entry per version, counted in the
//! `schedule_schema` table. Never edit an entry: append a new one. The
//! versions are PostgreSQL's own, apart from SQLite's: both start from what
//! the embedded schema had grown into.

pub const MIGRATIONS: &[&str] = &[
    // 1: runs, controls and the scheduler's lease.
    "CREATE TABLE runs (
        id            BIGSERIAL PRIMARY KEY,
        job           TEXT        NOT NULL,
        scheduled_for TIMESTAMPTZ NOT NULL,
        attempt       INTEGER     NOT NULL DEFAULT 1,
        trigger       TEXT        NOT NULL DEFAULT 'schedule',
        started_at    TIMESTAMPTZ,
        finished_at   TIMESTAMPTZ,
        status        TEXT        NOT NULL,
        exit_code     INTEGER,
        signal        INTEGER,
        duration_ms   BIGINT,
        reason        TEXT,
        missed_count  BIGINT,
        host          TEXT        NOT NULL,
        pid           BIGINT      NOT NULL,  -- the scheduler's
        child_pid     BIGINT,                -- the job's process group leader
        stdout_tail   TEXT        NOT NULL DEFAULT '',
        stderr_tail   TEXT        NOT NULL DEFAULT '',
        UNIQUE (job, scheduled_for, attempt)
    );
    CREATE INDEX runs_by_time ON runs (scheduled_for DESC, attempt DESC, id DESC);
    CREATE INDEX runs_failed_by_time ON runs (scheduled_for DESC, attempt DESC, id DESC)
        WHERE status IN ('failed', 'timed_out', 'interrupted');
    CREATE INDEX runs_failed_by_job ON runs (job, scheduled_for DESC, attempt DESC, id DESC)
        WHERE status IN ('failed', 'timed_out', 'interrupted');
    CREATE INDEX runs_running ON runs (id) WHERE status = 'running';
    CREATE TABLE paused (
        job       TEXT PRIMARY KEY,
        paused_at TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE requests (
        id           BIGSERIAL PRIMARY KEY,
        job          TEXT        NOT NULL,
        requested_at TIMESTAMPTZ NOT NULL,
        stream       BOOLEAN     NOT NULL DEFAULT false,
        taken        BOOLEAN     NOT NULL DEFAULT false,
        run_id       BIGINT,
        error        TEXT
    );
    CREATE INDEX requests_open ON requests (id) WHERE NOT taken;
    CREATE TABLE live_output (
        run_id BIGINT NOT NULL,
        seq    BIGINT NOT NULL,
        stream TEXT   NOT NULL,
        data   BYTEA  NOT NULL,
        PRIMARY KEY (run_id, seq)
    );
    -- Who may run a scheduler on this database: a row with an expiry that
    -- its holder renews, timed by the server's clock.
    CREATE TABLE leases (
        name       TEXT PRIMARY KEY,
        holder     TEXT        NOT NULL,
        host       TEXT        NOT NULL,
        pid        BIGINT      NOT NULL,
        role       TEXT        NOT NULL,
        since      TIMESTAMPTZ NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL
    );",
    // 2: a fire's identity gains its slot (fires that share an instant: the
    // local times a daylight-saving jump skips, wildcard jobs after the
    // clock went back), and `nominal`, the skipped local time a fire
    // stands for.
    "ALTER TABLE runs ADD COLUMN slot INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE runs ADD COLUMN nominal TEXT;
    ALTER TABLE runs DROP CONSTRAINT runs_job_scheduled_for_attempt_key;
    ALTER TABLE runs ADD CONSTRAINT runs_fire_key UNIQUE (job, scheduled_for, slot, attempt);
    DROP INDEX runs_by_time, runs_failed_by_time, runs_failed_by_job;
    CREATE INDEX runs_by_time ON runs (scheduled_for DESC, slot DESC, attempt DESC, id DESC);
    CREATE INDEX runs_failed_by_time ON runs (scheduled_for DESC, slot DESC, attempt DESC, id DESC)
        WHERE status IN ('failed', 'timed_out', 'interrupted');
    CREATE INDEX runs_failed_by_job ON runs (job, scheduled_for DESC, slot DESC, attempt DESC, id DESC)
        WHERE status IN ('failed', 'timed_out', 'interrupted');",
    // 3: `schedule status`, `schedule logs`, and one row per pause (as
    // SQLite's version 5).
    "ALTER TABLE runs ADD COLUMN last_scheduled_for TIMESTAMPTZ;
    CREATE TABLE status (
        host       TEXT        PRIMARY KEY,
        pid        BIGINT      NOT NULL,
        started_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL,
        stopped_at TIMESTAMPTZ,
        version    TEXT        NOT NULL,
        config     TEXT        NOT NULL,
        db         TEXT        NOT NULL,
        jobs       BIGINT      NOT NULL,
        running    BIGINT      NOT NULL,
        queued     BIGINT      NOT NULL
    );
    CREATE TABLE follows (
        id       BIGSERIAL   PRIMARY KEY,
        run_id   BIGINT      NOT NULL,
        asked_at TIMESTAMPTZ NOT NULL,
        taken    BOOLEAN     NOT NULL DEFAULT false
    );
    CREATE INDEX follows_open ON follows (id) WHERE NOT taken;",
    // 4: pause and resume are acknowledged (as SQLite's version 6).
    "CREATE TABLE controls (
        id      INTEGER PRIMARY KEY CHECK (id = 1),
        version BIGINT  NOT NULL,
        applied BIGINT  NOT NULL
    );
    INSERT INTO controls (id, version, applied) VALUES (1, 0, 0);",
    // 5: several hosts on one database. Each run of a cluster host holds a
    // lease (`lease_until`, on the server's clock) with a fencing token
    // (`epoch`); a run whose host stopped renewing becomes `lost`. A job
    // whose `overlap` is not `allow` has at most one running row, whoever
    // runs it (`exclusive`). `hosts` has a heartbeat per host and
    // `host_jobs` the hash of each job's definition.
    "ALTER TABLE runs ADD COLUMN epoch BIGINT;
    ALTER TABLE runs ADD COLUMN lease_until TIMESTAMPTZ;
    ALTER TABLE runs ADD COLUMN host_id BIGINT;
    ALTER TABLE runs ADD COLUMN exclusive BOOLEAN NOT NULL DEFAULT false;
    ALTER TABLE runs ADD COLUMN cancel_requested BOOLEAN NOT NULL DEFAULT false;
    CREATE UNIQUE INDEX runs_one_running ON runs (job) WHERE status = 'running' AND exclusive;
    CREATE INDEX runs_leased ON runs (lease_until) WHERE status = 'running' AND lease_until IS NOT NULL;
    CREATE SEQUENCE run_epochs;
    DROP INDEX runs_failed_by_time, runs_failed_by_job;
    CREATE INDEX runs_failed_by_time ON runs (scheduled_for DESC, slot DESC, attempt DESC, id DESC)
        WHERE status IN ('failed', 'timed_out', 'interrupted', 'lost');
    CREATE INDEX runs_failed_by_job ON runs (job, scheduled_for DESC, slot DESC, attempt DESC, id DESC)
        WHERE status IN ('failed', 'timed_out', 'interrupted', 'lost');
    CREATE TABLE hosts (
        id          BIGSERIAL   PRIMARY KEY,
        name        TEXT        NOT NULL,
        pid         BIGINT      NOT NULL,
        version     TEXT        NOT NULL,
        started_at  TIMESTAMPTZ NOT NULL,
        heartbeat   TIMESTAMPTZ NOT NULL,
        skew_ms     BIGINT      NOT NULL DEFAULT 0,
        config_hash TEXT        NOT NULL,
        applied     BIGINT      NOT NULL DEFAULT 0,
        lease_ms    BIGINT      NOT NULL
    );
    -- The host that took a request: if it dies before the run starts, the
    -- request is opened again for the others.
    ALTER TABLE requests ADD COLUMN taken_by BIGINT;
    CREATE TABLE host_jobs (
        host_id BIGINT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
        job     TEXT   NOT NULL,
        hash    TEXT   NOT NULL,
        PRIMARY KEY (host_id, job)
    );",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;
