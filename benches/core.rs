//! Micro-benchmarks of the scheduler's hot paths (`cargo bench --bench core`).
//!
//! - `next_after/*`: the schedule math the loop runs after every fire, for
//!   typical cron expressions and an `every` interval, in UTC and in
//!   Europe/Berlin. Each iteration chains `Schedule::next_after` from a fixed
//!   instant far enough to cross the spring-forward of 2026-03-29 (the daily
//!   and yearly chains cross the fall-back too), so the DST handling is part
//!   of what is measured. Throughput is in calls, so criterion also prints the
//!   cost of one call.
//! - `config/parse_10k_jobs`: `config::parse` of a generated 10,000-job
//!   `jobs.toml`, what `schedule run`, `list` and `check` pay at start-up.
//! - `store/claim_finish`: recording one run (claim its `running` row, then
//!   finish it) in SQLite, the scheduler's write per fire.
//! - `store/history_failed_1m_rows`: the `schedule history --failed` query
//!   over a million-row history. The database is built once, outside the
//!   timed part, and cached in `<target>/bench-data/`.
//!
//! Sample counts and times are kept small so the whole run takes a couple of
//! minutes on a 2-core machine; pass criterion's own flags for more.

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use rusqlite::{Connection, params};
use schedule::domain::{Ended, HistoryQuery, NewRun, Outcome, Trigger};
use schedule::schedule::{CronSchedule, Every, Schedule};
use schedule::store::sqlite::{SCHEMA_VERSION, SqliteStore};
use schedule::store::{History, Mode};
use std::fmt::Write as _;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

/// One chain: the expression, where it starts and how many fires it walks.
struct Chain {
    label: &'static str,
    /// A cron expression, or `every <duration>`.
    spec: &'static str,
    start: DateTime<Utc>,
    calls: u64,
}

fn chains() -> Vec<Chain> {
    let march = utc(2026, 3, 1, 0, 0);
    vec![
        // 9,000 five-minute steps: 2026-03-01 to 2026-04-01.
        Chain {
            label: "every_5_minutes",
            spec: "*/5 * * * *",
            start: march,
            calls: 9_000,
        },
        // A year of daily fires: both DST transitions.
        Chain {
            label: "daily_0200",
            spec: "0 2 * * *",
            start: march,
            calls: 365,
        },
        // 02:30 does not exist in Berlin on 2026-03-29 and happens twice on
        // 2026-10-25: the fixed-time (cron(8)) path.
        Chain {
            label: "daily_0230",
            spec: "30 2 * * *",
            start: march,
            calls: 365,
        },
        // Day-of-month OR day-of-week: the 1st and every Monday, a year.
        Chain {
            label: "first_or_monday",
            spec: "0 0 1 * MON",
            start: march,
            calls: 64,
        },
        // Every second for 20 minutes around 01:00 UTC on 2026-03-29, when
        // Berlin jumps from 02:00 to 03:00.
        Chain {
            label: "every_second_6_fields",
            spec: "* * * * * *",
            start: utc(2026, 3, 29, 0, 50),
            calls: 1_200,
        },
        Chain {
            label: "at_daily",
            spec: "@daily",
            start: march,
            calls: 365,
        },
    ]
}

fn bench_next_after(c: &mut Criterion) {
    let mut group = c.benchmark_group("next_after");
    for chain in chains() {
        for tz in [Tz::UTC, Tz::Europe__Berlin] {
            // As config.rs builds it.
            let schedule = Schedule::Cron(Box::new(
                CronSchedule::parse(chain.spec, tz).expect("a valid expression"),
            ));
            group.throughput(Throughput::Elements(chain.calls));
            group.bench_function(format!("{}/{}", chain.label, tz.name()), |b| {
                b.iter(|| walk(&schedule, chain.start, chain.calls))
            });
        }
    }
    // `every` counts from the Unix epoch and ignores the time zone (config.rs
    // does not hand it one), so one zone is enough.
    let every = Schedule::Every(Every::new(Duration::from_secs(300)).unwrap());
    let calls = 9_000;
    group.throughput(Throughput::Elements(calls));
    group.bench_function("every_5m_interval/any", |b| {
        b.iter(|| walk(&every, utc(2026, 3, 1, 0, 0), calls))
    });
    group.finish();
}

/// Chains `calls` fires from `start`; returns the last.
fn walk(schedule: &Schedule, start: DateTime<Utc>, calls: u64) -> DateTime<Utc> {
    let mut t = black_box(start);
    for _ in 0..calls {
        t = schedule.next_after(t).expect("a schedule that fires");
    }
    black_box(t)
}

/// A `jobs.toml` with `jobs` jobs, a mix of cron expressions, intervals,
/// time zones and the settings real files use.
fn big_config(jobs: usize) -> String {
    const ZONES: &[&str] = &["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo"];
    let mut text = String::from(
        "[scheduler]\nmax_concurrent = 8\nkeep = \"30d\"\n\n\
         [defaults]\ntimezone = \"UTC\"\ntimeout = \"10m\"\nshell = \"/bin/sh\"\n",
    );
    for i in 0..jobs {
        let zone = ZONES[i % ZONES.len()];
        let _ = write!(text, "\n[jobs.j{i}]\n");
        let _ = match i % 8 {
            0 => writeln!(text, "cron = \"*/5 * * * *\""),
            1 => writeln!(text, "cron = \"{} {} * * *\"", i % 60, i % 24),
            2 => writeln!(text, "cron = \"30 2 * * *\""),
            3 => writeln!(text, "cron = \"0 0 1 * MON\""),
            4 => writeln!(text, "cron = \"*/15 * * * * *\""),
            5 => writeln!(text, "cron = \"@daily\""),
            6 => writeln!(text, "every = \"5m\""),
            _ => writeln!(text, "every = \"1h30m\""),
        };
        let _ = writeln!(text, "command = \"/usr/local/bin/task-{i} --verbose\"");
        if i % 4 != 0 {
            let _ = writeln!(text, "timezone = \"{zone}\"");
        }
        if i % 3 == 0 {
            let _ = writeln!(text, "retries = 2\nretry_backoff = \"30s\"");
        }
        if i % 5 == 0 {
            let _ = writeln!(text, "env = {{ JOB_INDEX = \"{i}\" }}");
        }
    }
    text
}

fn bench_config(c: &mut Criterion) {
    const JOBS: usize = 10_000;
    let text = big_config(JOBS);
    let path = Path::new("jobs.toml");
    match schedule::config::parse(path, &text) {
        Ok(config) => assert_eq!(config.jobs.len(), JOBS),
        Err(diags) => panic!("the generated config is invalid: {}", diags[0]),
    }
    let mut group = c.benchmark_group("config");
    // Tens of milliseconds an iteration: take flat samples.
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(JOBS as u64));
    group.bench_function("parse_10k_jobs", |b| {
        b.iter(|| schedule::config::parse(black_box(path), black_box(&text)).map(|c| c.jobs.len()))
    });
    group.finish();
}

fn bench_store(c: &mut Criterion) {
    let mut group = c.benchmark_group("store");

    // Recording a run: a fresh database, a new fire each iteration.
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(&dir.path().join("history.db"), Mode::Write).unwrap();
    let start = utc(2026, 3, 1, 0, 0);
    let mut fire = 0i64;
    group.bench_function("claim_finish", |b| {
        b.iter(|| {
            fire += 1;
            let at = start + chrono::TimeDelta::seconds(fire);
            let id = store
                .claim(&[NewRun {
                    job: "backup".into(),
                    scheduled_for: at,
                    slot: 0,
                    nominal: None,
                    attempt: 1,
                    trigger: Trigger::Schedule,
                    started_at: at,
                    host: "bench-host".into(),
                    pid: 4242,
                }])
                .unwrap()[0]
                .expect("a new fire is claimed");
            store
                .finish(
                    id,
                    &Outcome {
                        status: Ended::Succeeded,
                        finished_at: at + chrono::TimeDelta::milliseconds(1_234),
                        exit_code: Some(0),
                        signal: None,
                        duration_ms: 1_234,
                        stdout_tail: "backup done: 1,024 files, 3.2 GiB\n".into(),
                        stderr_tail: String::new(),
                        reason: None,
                    },
                )
                .unwrap();
        })
    });
    drop(store);

    // `schedule history --failed` over a million rows.
    const ROWS: u64 = 1_000_000;
    let path = history_db(ROWS);
    let mut store = SqliteStore::open(&path, Mode::Read).unwrap();
    let query = HistoryQuery {
        failed_only: true,
        limit: 20,
        ..Default::default()
    };
    assert_eq!(store.history(&query).unwrap().len(), 20);
    group.bench_function("history_failed_1m_rows", |b| {
        b.iter(|| store.history(black_box(&query)).unwrap())
    });
    group.finish();
}

/// Where built databases are kept between runs: `<target>/bench-data/`,
/// found from this binary's path (`<target>/<profile>/deps/core-…`).
fn bench_data_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let target = exe
        .ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "deps"))
        .and_then(|deps| deps.parent()?.parent())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("bench-data")
}

/// A history database with `rows` rows in the schema `SqliteStore::open`
/// creates, built once and cached by row count and schema version.
fn history_db(rows: u64) -> PathBuf {
    let dir = bench_data_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("history-{rows}-v{SCHEMA_VERSION}.db"));
    if path.exists() {
        return path;
    }
    let began = Instant::now();
    let tmp = dir.join(format!("history-{rows}-v{SCHEMA_VERSION}.db.tmp"));
    let _ = std::fs::remove_file(&tmp);
    // The store makes the schema; the rows go in with plain SQL.
    drop(SqliteStore::open(&tmp, Mode::Write).unwrap());
    let mut conn = Connection::open(&tmp).unwrap();
    conn.execute_batch("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;")
        .unwrap();
    fill_history(&mut conn, rows);
    // Back to WAL, as `schedule run` leaves a database.
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .unwrap();
    assert!(mode.eq_ignore_ascii_case("wal"));
    conn.close().map_err(|(_, e)| e).unwrap();
    std::fs::rename(&tmp, &path).unwrap();
    eprintln!(
        "built {} ({rows} rows) in {:.1?}",
        path.display(),
        began.elapsed()
    );
    path
}

/// `rows` runs of 50 jobs spread evenly over 2025, newest last. About 2% of
/// fires end `failed`, `timed_out` or `interrupted`; a quarter of those are
/// retried once, and the retry succeeds (so `--failed` must skip them).
fn fill_history(conn: &mut Connection, rows: u64) {
    const JOBS: u64 = 50;
    let jobs: Vec<String> = (0..JOBS).map(|j| format!("job-{j:02}")).collect();
    let year_start = utc(2025, 1, 1, 0, 0).timestamp_millis();
    let step = (365 * 86_400_000) / rows as i64;
    // xorshift64: the same database every time.
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut random = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let tx = conn.transaction().unwrap();
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO runs (job, scheduled_for, attempt, trigger, started_at, finished_at,
                                   status, exit_code, signal, duration_ms, reason, host, pid,
                                   stdout_tail, stderr_tail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'bench-host', 4242, ?12, ?13)",
            )
            .unwrap();
        let mut written = 0u64;
        let mut fire = 0i64;
        while written < rows {
            let job = &jobs[(fire as u64 % JOBS) as usize];
            let at = year_start + fire * step;
            fire += 1;
            let duration = 200 + (random() % 5_000) as i64;
            let roll = random() % 1000;
            let (status, exit_code, signal, reason, stderr) = match roll {
                0..=14 => ("failed", Some(1), None, None, "error: exit status 1\n"),
                15..=18 => ("timed_out", None, Some(15), Some("timed out after 10m"), ""),
                19 => ("interrupted", None, None, Some("the scheduler stopped"), ""),
                _ => ("succeeded", Some(0), None, None, ""),
            };
            insert
                .execute(params![
                    job,
                    at,
                    1,
                    "schedule",
                    at,
                    at + duration,
                    status,
                    exit_code,
                    signal,
                    duration,
                    reason,
                    "ok\n",
                    stderr
                ])
                .unwrap();
            written += 1;
            if status != "succeeded" && random() % 4 == 0 && written < rows {
                let retry = at + duration + 30_000;
                insert
                    .execute(params![
                        job,
                        at,
                        2,
                        "retry",
                        retry,
                        retry + duration,
                        "succeeded",
                        0,
                        None::<i32>,
                        duration,
                        None::<String>,
                        "ok\n",
                        ""
                    ])
                    .unwrap();
                written += 1;
            }
        }
    }
    tx.commit().unwrap();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = bench_next_after, bench_config, bench_store
}
criterion_main!(benches);
