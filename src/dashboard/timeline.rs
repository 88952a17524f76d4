//! The timeline and the duration chart, drawn on the server as SVG: one
//! lane per job, each run a bar from its start to its end, each fire that
//! never ran a mark, a dashed line for now and a circle for each next fire.

use chrono::{DateTime, TimeDelta, Utc};
use maud::{Markup, html};
use std::collections::HashMap;

use super::JobView;
use crate::domain::RunRecord;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Hour,
    Day,
    Week,
}

impl Window {
    pub const ALL: &[Window] = &[Window::Hour, Window::Day, Window::Week];

    /// `1h`, `24h` or `7d`; anything else is the default, 24 hours.
    pub fn parse(s: Option<&str>) -> Window {
        match s {
            Some("1h") => Window::Hour,
            Some("7d") => Window::Week,
            _ => Window::Day,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Window::Hour => "1h",
            Window::Day => "24h",
            Window::Week => "7d",
        }
    }

    pub fn span(self) -> TimeDelta {
        match self {
            Window::Hour => TimeDelta::hours(1),
            Window::Day => TimeDelta::hours(24),
            Window::Week => TimeDelta::days(7),
        }
    }
}

const LABEL: f64 = 150.0;
const WIDTH: f64 = 1000.0;
const LANE: f64 = 22.0;
const TOP: f64 = 20.0;

/// The chart: the window behind now, and a tenth of it ahead for the next
/// fires.
pub fn chart(jobs: &[JobView], runs: &[RunRecord], window: Window, now: DateTime<Utc>) -> Markup {
    let span = window.span();
    let start = now - span;
    let end = now + span / 10;
    let total = (end - start).num_milliseconds() as f64;
    let plot = WIDTH - LABEL - 10.0;
    let x = |t: DateTime<Utc>| {
        let ms = (t.clamp(start, end) - start).num_milliseconds() as f64;
        LABEL + plot * ms / total
    };
    let lane: HashMap<&str, usize> = jobs
        .iter()
        .enumerate()
        .map(|(i, j)| (&*j.job.name, i))
        .collect();
    let height = TOP + LANE * jobs.len().max(1) as f64 + 10.0;
    let now_x = x(now);
    let ticks: Vec<(f64, String)> = (0..=4)
        .map(|i| {
            let t = start + span * i / 4;
            let label = match window {
                Window::Week => t.format("%a %d").to_string(),
                _ => t.format("%H:%M").to_string(),
            };
            (x(t), label)
        })
        .collect();
    html! {
        div.scroll {
            svg.timeline viewBox={ "0 0 " (WIDTH) " " (height) } role="img"
                aria-label={ "Runs of the last " (window.as_str()) ", one lane per job; times in UTC" } {
                @for (tx, label) in &ticks {
                    line.grid x1=(tx) x2=(tx) y1=(TOP - 4.0) y2=(height - 10.0) {}
                    text.tick x=(tx) y="12" text-anchor="middle" { (label) }
                }
                @for (i, j) in jobs.iter().enumerate() {
                    @let y = TOP + LANE * i as f64;
                    text.lane x="4" y=(y + LANE * 0.65) { (super::super::output::ellipsize(&j.job.name, 20)) }
                    line.lane x1=(LABEL) x2=(WIDTH - 10.0) y1=(y + LANE) y2=(y + LANE) {}
                    @if let Some(next) = j.next.filter(|t| *t <= end && !j.paused) {
                        circle.next cx=(x(next)) cy=(y + LANE / 2.0) r="4" {
                            title { (j.job.name) " next at " (next.format("%Y-%m-%d %H:%M:%S UTC")) }
                        }
                    }
                }
                @for r in runs {
                    @if let Some(&i) = lane.get(r.job.as_str()) {
                        @let y = TOP + LANE * i as f64;
                        @let tip = run_tip(r);
                        @match r.started_at {
                            Some(s) if s <= end => {
                                @let x0 = x(s);
                                @let x1 = x(r.finished_at.unwrap_or(now));
                                a href={ "/runs/" (r.id) } aria-label=(tip) {
                                    rect class={ "bar st-" (r.status.as_str()) } data-run=(r.id)
                                        x=(format!("{x0:.2}")) y=(y + 4.0)
                                        width=(format!("{:.2}", (x1 - x0).max(2.0))) height=(LANE - 8.0) {
                                        title { (tip) }
                                    }
                                }
                            }
                            Some(_) => {}
                            None => {
                                @let mx = x(r.scheduled_for);
                                a href={ "/runs/" (r.id) } aria-label=(tip) {
                                    path class={ "mark st-" (r.status.as_str()) } data-run=(r.id)
                                        d=(format!("M{:.2} {:.2} l4 8 l-8 0 z", mx, y + 5.0)) {
                                        title { (tip) }
                                    }
                                }
                            }
                        }
                    }
                }
                line.now x1=(now_x) x2=(now_x) y1=(TOP - 4.0) y2=(height - 10.0) {}
            }
        }
    }
}

fn run_tip(r: &RunRecord) -> String {
    let at = r.started_at.unwrap_or(r.scheduled_for);
    let mut s = format!(
        "{} run {}: {} at {}",
        r.job,
        r.id,
        r.status,
        at.format("%Y-%m-%d %H:%M:%S UTC")
    );
    if let Some(d) = r.duration_ms {
        s.push_str(&format!(
            ", took {}",
            crate::duration::human(std::time::Duration::from_millis(d.max(0) as u64))
        ));
    }
    if let Some(reason) = &r.reason {
        s.push_str(&format!(" ({reason})"));
    }
    s
}

/// A job's durations over its recent runs (oldest left), with its p50 and
/// p95 as lines.
pub fn durations(ended: &[&RunRecord]) -> Markup {
    let mut values: Vec<i64> = ended.iter().rev().filter_map(|r| r.duration_ms).collect();
    if values.is_empty() {
        return html! {};
    }
    let max = values.iter().copied().max().unwrap_or(1).max(1) as f64;
    let (w, h) = (600.0, 120.0);
    let n = values.len();
    let px = |i: usize| {
        10.0 + (w - 20.0)
            * if n > 1 {
                i as f64 / (n - 1) as f64
            } else {
                0.5
            }
    };
    let py = |v: i64| h - 10.0 - (h - 20.0) * v as f64 / max;
    let points: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| format!("{:.1},{:.1}", px(i), py(*v)))
        .collect();
    values.sort_unstable();
    let p50 = super::pages::percentile(&values, 0.5).unwrap_or(0);
    let p95 = super::pages::percentile(&values, 0.95).unwrap_or(0);
    html! {
        svg.durations viewBox={ "0 0 " (w) " " (h) } role="img"
            aria-label={ "Durations of the last " (n) " runs, oldest first" } {
            line.p50 x1="10" x2=(w - 10.0) y1=(py(p50)) y2=(py(p50)) { title { "p50" } }
            line.p95 x1="10" x2=(w - 10.0) y1=(py(p95)) y2=(py(p95)) { title { "p95" } }
            polyline.series points=(points.join(" ")) {}
        }
    }
}
