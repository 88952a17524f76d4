//! The HTML pages, as maud templates: every value interpolated with `(…)`
//! is escaped, so what a job printed is always shown as text.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use maud::{DOCTYPE, Markup, html};

use super::timeline::{self, Window};
use super::{JobView, STRIP};
use crate::config::Job;
use crate::domain::{RunRecord, Status};
use crate::duration;
use crate::output;

/// What a page needs to know of the visitor: whether actions exist, and the
/// CSRF token of their session if they logged in.
#[derive(Debug, Clone, Default)]
pub struct AuthView {
    pub enabled: bool,
    pub csrf: Option<String>,
}

fn layout(title: &str, page: &str, view: &AuthView, refresh: bool, body: Markup) -> Markup {
    let v = super::asset_version();
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                @if refresh { meta http-equiv="refresh" content="5"; }
                title { (title) " · schedule" }
                link rel="stylesheet" href={ "/assets/style.css?v=" (v) };
                script src={ "/assets/app.js?v=" (v) } defer {}
            }
            body data-page=(page) {
                a.skip href="#main" { "Skip to content" }
                header {
                    nav aria-label="Main" {
                        a.brand href="/" { "schedule" }
                        a href="/" aria-current=[(page == "jobs").then_some("page")] { "Jobs" }
                        a href="/failures" aria-current=[(page == "failures").then_some("page")] { "Failures" }
                        a href="/timeline" aria-current=[(page == "timeline").then_some("page")] { "Timeline" }
                        @if view.enabled && view.csrf.is_none() { a href="/login" { "Log in" } }
                    }
                }
                main #main { (body) }
            }
        }
    }
}

/// An instant in the job's zone, with the relative time that the script
/// keeps fresh.
fn when(t: DateTime<Utc>, tz: Tz, now: DateTime<Utc>) -> Markup {
    html! {
        time datetime=(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)) title=(output::local_time(t, tz)) {
            span.abs { (output::short_time(t, tz, now)) }
            " "
            span.rel data-rel=(t.timestamp_millis()) { "(" (output::relative(t, now)) ")" }
        }
    }
}

fn status_badge(s: Status) -> Markup {
    html! { span class={ "status st-" (s.as_str()) } { (s.as_str()) } }
}

fn ms(d: i64) -> String {
    duration::human(std::time::Duration::from_millis(d.max(0) as u64))
}

/// What a run's tile says on hover, focus (a CSS tooltip from its
/// `aria-label`: one copy of the text, not three) and to a screen reader.
fn describe(r: &RunRecord, tz: Tz) -> String {
    let mut s = format!(
        "run {}: {} at {}",
        r.id,
        r.status,
        output::local_time(r.started_at.unwrap_or(r.scheduled_for), tz)
    );
    if let Some(d) = r.duration_ms {
        s.push_str(&format!(", took {}", ms(d)));
    }
    if let Some(code) = r.exit_code {
        s.push_str(&format!(", exit {code}"));
    }
    s
}

fn strip(runs: &[RunRecord], tz: Tz) -> Markup {
    html! {
        span.strip role="list" aria-label="recent runs, oldest first" {
            @for r in runs.iter().take(STRIP).rev() {
                @let text = describe(r, tz);
                a role="listitem" class={ "tile st-" (r.status.as_str()) }
                    href={ "/runs/" (r.id) } aria-label=(text) {}
            }
        }
    }
}

fn actions(job: &str, paused: bool, view: &AuthView) -> Markup {
    html! {
        @if let Some(csrf) = &view.csrf {
            span.actions {
                form method="post" action={ "/jobs/" (job) "/trigger" } {
                    input type="hidden" name="csrf" value=(csrf);
                    button type="submit" { "Run now" }
                }
                @let (what, label) = if paused { ("resume", "Resume") } else { ("pause", "Pause") };
                form method="post" action={ "/jobs/" (job) "/" (what) } {
                    input type="hidden" name="csrf" value=(csrf);
                    button type="submit" data-action=(what) { (label) }
                }
            }
        }
    }
}

fn badges(job: &Job, paused: bool, overdue: bool, running: usize) -> Markup {
    html! {
        @if !job.settings.enabled { " " span.badge.b-disabled { "disabled" } }
        @if paused { " " span.badge.b-paused { "paused" } }
        @if overdue { " " span.badge.b-overdue { "overdue" } }
        @if running > 0 { " " span.badge.b-running { "running" } }
    }
}

/// `/`: one row per job.
pub fn jobs(jobs: &[JobView], now: DateTime<Utc>, view: &AuthView) -> Markup {
    layout(
        "Jobs",
        "jobs",
        view,
        false,
        html! {
            h1 { "Jobs" }
            @if jobs.is_empty() { p { "No jobs in the config." } }
            @else {
                div.scroll {
                    table.jobs {
                        thead { tr {
                            th scope="col" { "Job" }
                            th scope="col" { "Schedule" }
                            th scope="col" { "Next run" }
                            th scope="col" { "Last run" }
                            th scope="col" { "Recent" }
                            @if view.csrf.is_some() { th scope="col" { "Actions" } }
                        } }
                        tbody {
                            @for v in jobs {
                                @let tz = v.job.settings.timezone;
                                tr data-job=(v.job.name) {
                                    th scope="row" {
                                        a href={ "/jobs/" (v.job.name) } { (v.job.name) }
                                        (badges(&v.job, v.paused, v.overdue, v.running))
                                    }
                                    td {
                                        @if let Some(words) = v.job.schedule.in_words() {
                                            (words) br;
                                        }
                                        code { (v.job.schedule.to_string()) }
                                        br;
                                        small { (tz.name()) }
                                    }
                                    td.next {
                                        @match v.next {
                                            Some(t) if !v.paused => (when(t, tz, now)),
                                            Some(_) => "paused",
                                            None if !v.job.settings.enabled => "disabled",
                                            None => "never",
                                        }
                                    }
                                    td.last {
                                        @match v.recent.first() {
                                            Some(r) => {
                                                a href={ "/runs/" (r.id) } { (status_badge(r.status)) }
                                                " " (when(r.started_at.unwrap_or(r.scheduled_for), tz, now))
                                            @if v.recent.iter().any(|o| o.host != r.host) {
                                                br; small { "on " (r.host) }
                                            }
                                            }
                                            None => "never ran",
                                        }
                                    }
                                    td { (strip(&v.recent, tz)) }
                                    @if view.csrf.is_some() { td { (actions(&v.job.name, v.paused, view)) } }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// The reason, or the last line the run wrote to stderr.
fn why(r: &RunRecord) -> String {
    if let Some(reason) = &r.reason {
        return reason.clone();
    }
    r.stderr_tail
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| output::ellipsize(l, 160))
        .unwrap_or_default()
}

fn runs_table(runs: &[RunRecord], now: DateTime<Utc>, with_job: bool) -> Markup {
    html! {
        div.scroll {
            table.runs {
                thead { tr {
                    th scope="col" { "Run" }
                    @if with_job { th scope="col" { "Job" } }
                    th scope="col" { "Status" }
                    th scope="col" { "When" }
                    th scope="col" { "Duration" }
                    th scope="col" { "Exit" }
                    th scope="col" { "Why" }
                } }
                tbody {
                    @for r in runs {
                        tr data-run=(r.id) {
                            td { a href={ "/runs/" (r.id) } { "#" (r.id) } }
                            @if with_job { td { a href={ "/jobs/" (r.job) } { (r.job) } } }
                            td { (status_badge(r.status)) }
                            td { (when(r.started_at.unwrap_or(r.scheduled_for), Tz::UTC, now)) }
                            td { (r.duration_ms.map(ms).unwrap_or_default()) }
                            td { (r.exit_code.map(|c| c.to_string()).unwrap_or_default()) }
                            td.why { (why(r)) }
                        }
                    }
                }
            }
        }
    }
}

/// `/failures`: what `history --failed` lists, newest first.
pub fn failures(runs: &[RunRecord], now: DateTime<Utc>, view: &AuthView) -> Markup {
    layout(
        "Failures",
        "failures",
        view,
        false,
        html! {
            h1 { "Failures" }
            @if runs.is_empty() { p { "No failed runs." } }
            @else { (runs_table(runs, now, true)) }
        },
    )
}

/// `/runs/ID`: everything `schedule show` has.
pub fn run(r: &RunRecord, tz: Tz, now: DateTime<Utc>, view: &AuthView) -> Markup {
    let running = r.status == Status::Running;
    layout(
        &format!("Run {}", r.id),
        "run",
        view,
        running,
        html! {
            h1 { "Run " (r.id) " of " a href={ "/jobs/" (r.job) } { (r.job) } }
            dl.fields {
                dt { "status" } dd { (status_badge(r.status)) @if let Some(reason) = &r.reason { " " (reason) } }
                dt { "trigger" } dd { (r.trigger.as_str()) ", attempt " (r.attempt) }
                dt { "scheduled" } dd { (when(r.scheduled_for, tz, now)) }
                @if let Some(n) = &r.nominal {
                    dt { "stands for" } dd { (n.replace('T', " ")) " local time, skipped by a daylight-saving change" }
                }
                @if let Some(t) = r.started_at {
                    dt { "started" } dd { (when(t, tz, now)) ", " (ms((t - r.scheduled_for).num_milliseconds())) " after its scheduled time" }
                }
                @if let Some(t) = r.finished_at { dt { "finished" } dd { (when(t, tz, now)) } }
                @if let Some(d) = r.duration_ms { dt { "duration" } dd { (ms(d)) } }
                @if r.exit_code.is_some() || r.signal.is_some() {
                    dt { "exit" } dd {
                        @if let Some(c) = r.exit_code { "code " (c) }
                        @if let Some(s) = r.signal { " signal " (crate::runner::signal_name(s)) }
                    }
                }
                @if let Some(n) = r.missed_count { dt { "stands for" } dd { (n) " missed fires" } }
                dt { "host" } dd { (r.host) ", scheduler pid " (r.pid) @if let Some(c) = r.child_pid { ", child pid " (c) } }
            }
            @if running { p.note { "Running: this page reloads every 5 seconds." } }
            h2 { "stdout" }
            @if r.stdout_tail.is_empty() { p.empty { "(nothing)" } } @else { pre #stdout tabindex="0" { (r.stdout_tail) } }
            h2 { "stderr" }
            @if r.stderr_tail.is_empty() { p.empty { "(nothing)" } } @else { pre #stderr tabindex="0" { (r.stderr_tail) } }
        },
    )
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

/// `/jobs/NAME`: its recent runs and their numbers.
pub fn job(
    job: &Job,
    runs: &[RunRecord],
    paused: bool,
    notes: &[String],
    now: DateTime<Utc>,
    view: &AuthView,
) -> Markup {
    let ended: Vec<&RunRecord> = runs
        .iter()
        .filter(|r| r.finished_at.is_some() && r.started_at.is_some())
        .collect();
    let ok = ended
        .iter()
        .filter(|r| r.status == Status::Succeeded)
        .count();
    let mut durations: Vec<i64> = ended.iter().filter_map(|r| r.duration_ms).collect();
    durations.sort_unstable();
    let next = job
        .settings
        .enabled
        .then(|| job.schedule.next_after(now))
        .flatten();
    layout(
        &job.name,
        "job",
        view,
        false,
        html! {
            h1 { (job.name) (badges(job, paused, false, 0)) }
            (actions(&job.name, paused, view))
            dl.fields {
                dt { "schedule" } dd {
                    @if let Some(words) = job.schedule.in_words() { (words) ", " }
                    code { (job.schedule.to_string()) } " (" (job.settings.timezone.name()) ")"
                }
                dt { "command" } dd { code { (job.command) } }
                dt { "next run" } dd { @match next { Some(t) if !paused => (when(t, job.settings.timezone, now)), _ => "-" } }
                dt { "success rate" } dd {
                    @if ended.is_empty() { "-" }
                    @else { (format!("{:.0}%", 100.0 * ok as f64 / ended.len() as f64)) " of the last " (ended.len()) " runs" }
                }
                dt { "duration p50" } dd { (percentile(&durations, 0.5).map(ms).unwrap_or_else(|| "-".into())) }
                dt { "duration p95" } dd { (percentile(&durations, 0.95).map(ms).unwrap_or_else(|| "-".into())) }
            }
            @if !ended.is_empty() { (timeline::durations(&ended)) }
            @if !notes.is_empty() {
                h2 { "Notes from schedule check" }
                ul.notes { @for n in notes { li { (n) } } }
            }
            h2 { "Recent runs" }
            @if runs.is_empty() { p { "No runs yet." } } @else { (runs_table(runs, now, false)) }
        },
    )
}

/// `/timeline`.
pub fn timeline(
    jobs: &[JobView],
    runs: &[RunRecord],
    window: Window,
    now: DateTime<Utc>,
    view: &AuthView,
) -> Markup {
    layout(
        "Timeline",
        "timeline",
        view,
        false,
        html! {
            h1 { "Timeline" }
            nav.windows aria-label="Window" {
                @for w in Window::ALL {
                    a href={ "/timeline?window=" (w.as_str()) } aria-current=[(*w == window).then_some("page")] { (w.as_str()) }
                }
            }
            (timeline::chart(jobs, runs, window, now))
            p.legend {
                span.tile.st-succeeded {} " succeeded " span.tile.st-failed {} " failed " span.tile.st-running {} " running "
                span.tile.st-skipped {} " skipped or missed (marks) · dashed line: now · circles: next fires"
            }
        },
    )
}

pub fn login(error: Option<&str>) -> Markup {
    layout(
        "Log in",
        "login",
        &AuthView::default(),
        false,
        html! {
            h1 { "Log in" }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            form method="post" action="/login" {
                label for="token" { "Token" }
                input #token type="password" name="token" autocomplete="current-password" required;
                button type="submit" { "Log in" }
            }
        },
    )
}

pub fn error(title: &str, detail: &str, view: &AuthView) -> Markup {
    layout(
        title,
        "error",
        view,
        false,
        html! {
            h1 { (title) }
            p { (detail) }
            p { a href="/" { "Back to the jobs" } }
        },
    )
}
