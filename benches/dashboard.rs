//! The dashboard's jobs page, rendered server-side for 1,000 jobs with 30
//! runs each in their strips (`cargo bench --bench dashboard`): the issue's
//! bound is 100 ms. Only the rendering is timed; the data is built once.

use chrono::{TimeDelta, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use schedule::dashboard::pages::{self, AuthView};
use schedule::dashboard::{JobView, STRIP};
use schedule::domain::{RunRecord, Status, Trigger};
use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Duration;

fn views(n: usize) -> Vec<JobView> {
    let mut toml = String::new();
    for i in 0..n {
        let _ = write!(
            toml,
            "[jobs.job-{i:04}]\ncron = \"*/5 * * * *\"\ncommand = \"backup --part {i}\"\n"
        );
    }
    let config = schedule::config::parse(std::path::Path::new("jobs.toml"), &toml).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap();
    config
        .jobs
        .into_iter()
        .enumerate()
        .map(|(i, job)| {
            let recent = (0..STRIP)
                .map(|k| {
                    let at = now - TimeDelta::minutes(5 * (k as i64 + 1));
                    RunRecord {
                        id: (i * STRIP + k) as i64,
                        job: job.name.to_string(),
                        scheduled_for: at,
                        slot: 0,
                        nominal: None,
                        last_scheduled_for: None,
                        attempt: 1,
                        trigger: Trigger::Schedule,
                        started_at: Some(at),
                        finished_at: Some(at + TimeDelta::seconds(3)),
                        status: if k % 7 == 0 {
                            Status::Failed
                        } else {
                            Status::Succeeded
                        },
                        exit_code: Some(if k % 7 == 0 { 1 } else { 0 }),
                        signal: None,
                        duration_ms: Some(3000),
                        reason: None,
                        missed_count: None,
                        host: "bench".into(),
                        pid: 1,
                        child_pid: Some(2),
                        stdout_tail: String::new(),
                        stderr_tail: "some error\n".into(),
                    }
                })
                .collect();
            JobView {
                next: job.schedule.next_after(now),
                job,
                paused: i % 50 == 0,
                running: 0,
                overdue: false,
                recent,
            }
        })
        .collect()
}

fn jobs_page(c: &mut Criterion) {
    let views = views(1000);
    let now = Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap();
    let view = AuthView {
        enabled: true,
        csrf: Some("0123456789abcdef".into()),
    };
    let size = pages::jobs(&views, now, &view).into_string().len();
    eprintln!("jobs page for 1,000 jobs: {size} bytes");
    c.bench_function("dashboard/jobs_page_1000_jobs", |b| {
        b.iter(|| {
            black_box(
                pages::jobs(black_box(&views), now, &view)
                    .into_string()
                    .len(),
            )
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(5));
    targets = jobs_page
}
criterion_main!(benches);
