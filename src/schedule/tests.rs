use super::*;
use chrono::SecondsFormat;

fn tz(name: &str) -> Tz {
    name.parse().unwrap()
}

/// The next `count` fires of `expr` in zone `zone` after `from`, each as
/// RFC3339 in that zone's local time with its offset.
fn fires(expr: &str, zone: &str, from: &str, count: usize) -> Vec<String> {
    let zone = tz(zone);
    let schedule = Schedule::Cron(Box::new(CronSchedule::parse(expr, zone).unwrap()));
    let from = DateTime::parse_from_rfc3339(from)
        .unwrap()
        .with_timezone(&Utc);
    schedule
        .upcoming(from, count)
        .into_iter()
        .map(|t| {
            t.with_timezone(&zone)
                .to_rfc3339_opts(SecondsFormat::Secs, false)
        })
        .collect()
}

fn err(expr: &str) -> CronError {
    CronSchedule::parse(expr, Tz::UTC).unwrap_err()
}

#[test]
fn five_fields_fire_on_the_minute() {
    assert_eq!(
        fires("*/20 * * * *", "UTC", "2026-11-21T10:05:30Z", 3),
        [
            "2026-11-21T10:20:00+00:00",
            "2026-11-21T10:40:00+00:00",
            "2026-11-21T11:00:00+00:00"
        ]
    );
}

#[test]
fn six_fields_have_a_leading_seconds_field() {
    assert_eq!(
        fires("*/15 * * * * *", "UTC", "2026-11-21T10:00:50Z", 3),
        [
            "2026-11-21T10:01:00+00:00",
            "2026-11-21T10:01:15+00:00",
            "2026-11-21T10:01:30+00:00"
        ]
    );
    assert_eq!(
        fires("30 0 12 * * *", "UTC", "2026-11-21T00:00:00Z", 1),
        ["2026-11-21T12:00:30+00:00"]
    );
}

#[test]
fn day_of_month_or_day_of_week_when_both_are_restricted() {
    // 2026-11-01 is a Sunday: the 1st of December is a Tuesday.
    assert_eq!(
        fires("0 0 1 * MON", "UTC", "2026-11-01T00:00:00Z", 7),
        [
            "2026-11-02T00:00:00+00:00",
            "2026-11-09T00:00:00+00:00",
            "2026-11-16T00:00:00+00:00",
            "2026-11-23T00:00:00+00:00",
            "2026-11-30T00:00:00+00:00",
            "2026-12-01T00:00:00+00:00",
            "2026-12-07T00:00:00+00:00",
        ]
    );
}

#[test]
fn a_field_starting_with_star_makes_both_day_fields_required() {
    // `*/2` starts with `*`: odd days that are Mondays, not odd days or Mondays.
    assert_eq!(
        fires("0 0 */2 * MON", "UTC", "2026-11-01T00:00:00Z", 4),
        [
            "2026-11-09T00:00:00+00:00",
            "2026-11-23T00:00:00+00:00",
            "2026-12-07T00:00:00+00:00",
            "2026-12-21T00:00:00+00:00",
        ]
    );
    // And the weekday side: the 13th of a month, only when it is a Friday
    // or Saturday (`*/…` weekday fields start with `*` too).
    assert_eq!(
        fires("0 0 13 * */5", "UTC", "2026-01-01T00:00:00Z", 2),
        ["2026-02-13T00:00:00+00:00", "2026-03-13T00:00:00+00:00"]
    );
}

#[test]
fn sunday_is_zero_and_seven() {
    let zero = fires("0 12 * * 0", "UTC", "2026-11-21T00:00:00Z", 3);
    let seven = fires("0 12 * * 7", "UTC", "2026-11-21T00:00:00Z", 3);
    let named = fires("0 12 * * sun", "UTC", "2026-11-21T00:00:00Z", 3);
    assert_eq!(
        zero,
        [
            "2026-11-22T12:00:00+00:00",
            "2026-11-29T12:00:00+00:00",
            "2026-12-06T12:00:00+00:00"
        ]
    );
    assert_eq!(zero, seven);
    assert_eq!(zero, named);
    assert_eq!(
        fires("0 12 * * 5-7", "UTC", "2026-11-21T00:00:00Z", 3),
        [
            "2026-11-21T12:00:00+00:00",
            "2026-11-22T12:00:00+00:00",
            "2026-11-27T12:00:00+00:00"
        ]
    );
}

#[test]
fn month_and_day_names_in_either_case() {
    assert_eq!(
        fires("0 9 * jan,Feb MON-fri", "UTC", "2026-11-21T00:00:00Z", 2),
        ["2027-01-01T09:00:00+00:00", "2027-01-04T09:00:00+00:00"]
    );
}

#[test]
fn macros() {
    let from = "2026-11-21T10:30:00Z";
    assert_eq!(
        fires("@hourly", "UTC", from, 1),
        ["2026-11-21T11:00:00+00:00"]
    );
    assert_eq!(
        fires("@daily", "UTC", from, 1),
        ["2026-11-22T00:00:00+00:00"]
    );
    assert_eq!(
        fires("@midnight", "UTC", from, 1),
        ["2026-11-22T00:00:00+00:00"]
    );
    assert_eq!(
        fires("@weekly", "UTC", from, 1),
        ["2026-11-22T00:00:00+00:00"]
    );
    assert_eq!(
        fires("@monthly", "UTC", from, 1),
        ["2026-12-01T00:00:00+00:00"]
    );
    assert_eq!(
        fires("@yearly", "UTC", from, 1),
        ["2027-01-01T00:00:00+00:00"]
    );
    assert_eq!(
        fires("@annually", "UTC", from, 1),
        ["2027-01-01T00:00:00+00:00"]
    );
    assert_eq!(
        fires("@DAILY", "UTC", from, 1),
        ["2026-11-22T00:00:00+00:00"]
    );
}

#[test]
fn last_day_and_nth_weekday() {
    assert_eq!(
        fires("0 0 L * *", "UTC", "2026-01-15T00:00:00Z", 2),
        ["2026-01-31T00:00:00+00:00", "2026-02-28T00:00:00+00:00"]
    );
    // The second Tuesday of the month.
    assert_eq!(
        fires("0 0 * * TUE#2", "UTC", "2026-11-01T00:00:00Z", 2),
        ["2026-11-10T00:00:00+00:00", "2026-12-08T00:00:00+00:00"]
    );
}

#[test]
fn a_schedule_in_a_zone_reads_that_zone_wall_clock() {
    assert_eq!(
        fires("0 2 * * *", "Europe/Berlin", "2026-11-21T03:00:00Z", 1),
        ["2026-11-22T02:00:00+01:00"]
    );
}

#[test]
fn every_is_aligned_to_the_epoch() {
    let every = |d: u64| Every::new(Duration::from_secs(d)).unwrap();
    let at = |s: i64| DateTime::from_timestamp(s, 0).unwrap();
    let every = |d: u64| {
        let e = every(d);
        move |t: DateTime<Utc>| e.next_after(t).unwrap()
    };
    assert_eq!(every(7)(at(1000)), at(1001)); // 143 × 7
    assert_eq!(every(7)(at(1001)), at(1008));
    assert_eq!(every(300)(at(1_763_700_190)), at(1_763_700_300));
    // Two processes that start at different times agree on the instants.
    assert_eq!(every(60)(at(120)), every(60)(at(179)));
    // Sub-second precision of `after` is kept: 1000.5 s is after 1000 s.
    let half = DateTime::from_timestamp_millis(1_000_500).unwrap();
    assert_eq!(every(1)(half), at(1001));
    assert!(Every::new(Duration::ZERO).is_err());
    assert!(Every::new(Every::MAX + Duration::from_secs(1)).is_err());
    // Near the end of time there is no next instant, rather than a wrong one.
    let long = Every::new(Every::MAX).unwrap();
    assert_eq!(long.next_after(DateTime::<Utc>::MAX_UTC), None);
}

// America/New_York, 2026: 02:00 EST → 03:00 EDT on 8 March; 02:00 EDT →
// 01:00 EST on 1 November.

#[test]
fn new_york_fixed_time_in_the_spring_gap_runs_once_after_the_jump() {
    assert_eq!(
        fires(
            "30 2 * * *",
            "America/New_York",
            "2026-03-07T00:00:00-05:00",
            3
        ),
        [
            "2026-03-07T02:30:00-05:00",
            "2026-03-08T03:00:00-04:00",
            "2026-03-09T02:30:00-04:00"
        ]
    );
    // Two skipped times still make one run.
    assert_eq!(
        fires(
            "15,45 2 * * *",
            "America/New_York",
            "2026-03-08T00:00:00-05:00",
            2
        ),
        ["2026-03-08T03:00:00-04:00", "2026-03-09T02:15:00-04:00"]
    );
}

#[test]
fn new_york_fixed_time_in_the_repeated_hour_runs_on_the_first_pass_only() {
    assert_eq!(
        fires(
            "30 1 * * *",
            "America/New_York",
            "2026-10-31T00:00:00-04:00",
            3
        ),
        [
            "2026-10-31T01:30:00-04:00",
            "2026-11-01T01:30:00-04:00",
            "2026-11-02T01:30:00-05:00"
        ]
    );
    // Starting inside the second pass: the first pass is already over.
    assert_eq!(
        fires(
            "30 1 * * *",
            "America/New_York",
            "2026-11-01T01:10:00-05:00",
            1
        ),
        ["2026-11-02T01:30:00-05:00"]
    );
}

#[test]
fn new_york_hour_range_is_fixed_time_as_in_cron8() {
    // croner alone fires this twice at fall-back; cron(8) once.
    assert_eq!(
        fires(
            "15 1-3 * * *",
            "America/New_York",
            "2026-11-01T00:00:00-04:00",
            4
        ),
        [
            "2026-11-01T01:15:00-04:00",
            "2026-11-01T02:15:00-05:00",
            "2026-11-01T03:15:00-05:00",
            "2026-11-02T01:15:00-05:00",
        ]
    );
    assert_eq!(
        fires(
            "15 1-3 * * *",
            "America/New_York",
            "2026-03-08T00:00:00-05:00",
            3
        ),
        [
            "2026-03-08T01:15:00-05:00",
            "2026-03-08T03:00:00-04:00",
            "2026-03-08T03:15:00-04:00"
        ]
    );
}

#[test]
fn new_york_wildcard_follows_each_real_instant() {
    // Fall back: the repeated hour runs twice.
    assert_eq!(
        fires(
            "*/30 * * * *",
            "America/New_York",
            "2026-11-01T00:45:00-04:00",
            5
        ),
        [
            "2026-11-01T01:00:00-04:00",
            "2026-11-01T01:30:00-04:00",
            "2026-11-01T01:00:00-05:00",
            "2026-11-01T01:30:00-05:00",
            "2026-11-01T02:00:00-05:00",
        ]
    );
    // Spring forward: the skipped hour is not caught up.
    assert_eq!(
        fires(
            "*/30 * * * *",
            "America/New_York",
            "2026-03-08T01:00:00-05:00",
            3
        ),
        [
            "2026-03-08T01:30:00-05:00",
            "2026-03-08T03:00:00-04:00",
            "2026-03-08T03:30:00-04:00"
        ]
    );
    // A fixed minute with a wildcard hour is a wildcard job.
    assert_eq!(
        fires(
            "30 * * * *",
            "America/New_York",
            "2026-11-01T00:00:00-04:00",
            4
        ),
        [
            "2026-11-01T00:30:00-04:00",
            "2026-11-01T01:30:00-04:00",
            "2026-11-01T01:30:00-05:00",
            "2026-11-01T02:30:00-05:00",
        ]
    );
    assert_eq!(
        fires(
            "@hourly",
            "America/New_York",
            "2026-03-08T00:30:00-05:00",
            3
        ),
        [
            "2026-03-08T01:00:00-05:00",
            "2026-03-08T03:00:00-04:00",
            "2026-03-08T04:00:00-04:00"
        ]
    );
}

// Europe/Berlin, 2026: 02:00 CET → 03:00 CEST on 29 March; 03:00 CEST →
// 02:00 CET on 25 October.

#[test]
fn berlin_fixed_time_across_both_transitions() {
    assert_eq!(
        fires(
            "30 2 * * *",
            "Europe/Berlin",
            "2026-03-28T12:00:00+01:00",
            2
        ),
        ["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"]
    );
    assert_eq!(
        fires(
            "30 2 * * *",
            "Europe/Berlin",
            "2026-10-25T00:00:00+02:00",
            2
        ),
        ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"]
    );
}

#[test]
fn berlin_wildcard_across_both_transitions() {
    assert_eq!(
        fires("0 * * * *", "Europe/Berlin", "2026-03-29T00:30:00+01:00", 3),
        [
            "2026-03-29T01:00:00+01:00",
            "2026-03-29T03:00:00+02:00",
            "2026-03-29T04:00:00+02:00"
        ]
    );
    assert_eq!(
        fires("0 * * * *", "Europe/Berlin", "2026-10-25T01:30:00+02:00", 4),
        [
            "2026-10-25T02:00:00+02:00",
            "2026-10-25T02:00:00+01:00",
            "2026-10-25T03:00:00+01:00",
            "2026-10-25T04:00:00+01:00",
        ]
    );
}

// Australia/Lord_Howe shifts by 30 minutes: 02:00 → 02:30 (+11:00) on
// 4 October 2026; 02:00 → 01:30 (+10:30) on 5 April 2026.

#[test]
fn lord_howe_fixed_time_across_both_half_hour_transitions() {
    assert_eq!(
        fires(
            "15 2 * * *",
            "Australia/Lord_Howe",
            "2026-10-03T12:00:00+10:30",
            2
        ),
        ["2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00"]
    );
    assert_eq!(
        fires(
            "45 1 * * *",
            "Australia/Lord_Howe",
            "2026-04-04T12:00:00+11:00",
            2
        ),
        ["2026-04-05T01:45:00+11:00", "2026-04-06T01:45:00+10:30"]
    );
}

#[test]
fn lord_howe_wildcard_across_both_half_hour_transitions() {
    assert_eq!(
        fires(
            "*/15 * * * *",
            "Australia/Lord_Howe",
            "2026-04-05T01:20:00+11:00",
            5
        ),
        [
            "2026-04-05T01:30:00+11:00",
            "2026-04-05T01:45:00+11:00",
            "2026-04-05T01:30:00+10:30",
            "2026-04-05T01:45:00+10:30",
            "2026-04-05T02:00:00+10:30",
        ]
    );
    assert_eq!(
        fires(
            "*/15 * * * *",
            "Australia/Lord_Howe",
            "2026-10-04T01:50:00+10:30",
            2
        ),
        ["2026-10-04T02:30:00+11:00", "2026-10-04T02:45:00+11:00"]
    );
}

#[test]
fn fixed_time_classification_follows_cron8() {
    let fixed = |e: &str| CronSchedule::parse(e, Tz::UTC).unwrap().is_fixed_time();
    assert!(fixed("0 2 * * *"));
    assert!(fixed("15 1-3 * * *"));
    assert!(fixed("0,30 2 * * *"));
    assert!(fixed("@daily"));
    assert!(!fixed("@hourly"));
    assert!(!fixed("*/5 * * * *"));
    assert!(!fixed("0 */2 * * *"));
    assert!(!fixed("* 3 * * *"));
}

#[test]
fn impossible_schedules_are_accepted_and_never_fire() {
    // kubernetes/test-infra disables jobs this way; cron installs them.
    for expr in ["0 0 30 2 *", "0 0 31 2 *", "0 0 31 4,6,9,11 *"] {
        let c = CronSchedule::parse(expr, tz("Europe/Berlin")).unwrap();
        assert!(c.never_fires(), "{expr}");
        assert_eq!(
            fires(expr, "Europe/Berlin", "2026-11-21T00:00:00Z", 3).len(),
            0
        );
    }
    assert!(
        !CronSchedule::parse("0 0 29 2 *", Tz::UTC)
            .unwrap()
            .never_fires()
    );
    // The 29th of February exists in leap years.
    assert_eq!(
        fires("0 0 29 2 *", "UTC", "2026-11-21T00:00:00Z", 1),
        ["2028-02-29T00:00:00+00:00"]
    );
}

#[test]
fn errors_name_the_field() {
    assert_eq!(err("0 25 * * *").field, Some("hour"));
    assert_eq!(err("61 * * * *").field, Some("minute"));
    assert_eq!(err("0 0 0 * *").field, Some("day-of-month"));
    assert_eq!(err("0 0 * 13 *").field, Some("month"));
    assert_eq!(err("0 0 * * 8").field, Some("day-of-week"));
    assert_eq!(err("0 0 * MON *").field, Some("month"));
    assert_eq!(err("0 0 * * JAN").field, Some("day-of-week"));
    assert_eq!(err("70 0 0 * * *").field, Some("second"));
    let e = err("0 25 * * *");
    assert!(
        e.message.contains("`25`") && e.message.contains("0-23"),
        "{e}"
    );
    assert!(err("* * * *").message.contains("found 4"));
    assert!(err("* * * * * * *").message.contains("found 7"));
    assert!(err("* * * * * * *").message.contains("Quartz"));
    assert!(err("@reboot").message.contains("@reboot"));
    assert!(err("@sometimes").message.contains("@daily"));
    assert!(err("").message.contains("found 0"));
}

#[test]
fn a_gap_of_a_whole_day_still_has_a_next_fire() {
    // Samoa skipped 30 December 2011 entirely.
    assert_eq!(
        fires("0 0 * * *", "Pacific/Apia", "2011-12-29T12:00:00-10:00", 2),
        ["2011-12-31T00:00:00+14:00", "2012-01-01T00:00:00+14:00"]
    );
}

/// Wildcard jobs follow croner's zoned search, which walks real instants:
/// compared fire by fire across both transitions of three zones.
#[test]
fn wildcard_jobs_agree_with_croner_s_zoned_search() {
    let parser = croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Required)
        .build();
    for zone in ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe"] {
        let zone = tz(zone);
        for expr in ["*/15 * * * *", "0 * * * *", "*/7 * * * * *", "45 * * * 0"] {
            let ours = CronSchedule::parse(expr, zone).unwrap();
            assert!(!ours.is_fixed_time());
            let fields = if expr.split_whitespace().count() == 5 {
                format!("0 {expr}")
            } else {
                expr.to_string()
            };
            let theirs = parser.parse(&fields).unwrap();
            // An hour before each transition of each zone.
            for start in [
                "2026-03-08T06:00:00Z",
                "2026-11-01T05:00:00Z",
                "2026-03-29T00:00:00Z",
                "2026-10-25T00:00:00Z",
                "2026-04-04T14:00:00Z",
                "2026-10-03T14:00:00Z",
            ] {
                let mut a = start.parse::<DateTime<Utc>>().unwrap();
                let mut b = a;
                for _ in 0..2000 {
                    let want = theirs
                        .find_next_occurrence(&a.with_timezone(&zone), false)
                        .unwrap()
                        .with_timezone(&Utc);
                    let got = ours.next_after(b).unwrap();
                    assert_eq!(got, want, "{expr} in {zone} after {b}");
                    a = want;
                    b = got;
                }
            }
        }
    }
}

/// Each skipped nominal time, for cron(8)'s one catch-up per skipped time.
#[test]
fn skipped_by_gaps_lists_each_nominal_time_a_jump_skips() {
    let skipped = |expr: &str, zone: &str, from: &str| -> Vec<(String, String)> {
        let zone = tz(zone);
        let from = DateTime::parse_from_rfc3339(from)
            .unwrap()
            .with_timezone(&Utc);
        CronSchedule::parse(expr, zone)
            .unwrap()
            .skipped_by_gaps(from, 2)
            .into_iter()
            .map(|s| {
                (
                    s.wall.format("%H:%M").to_string(),
                    s.runs_at
                        .with_timezone(&zone)
                        .format("%H:%M %Z")
                        .to_string(),
                )
            })
            .collect()
    };
    let ny = "2026-03-07T12:00:00Z";
    let at3 = |walls: &[&str]| -> Vec<(String, String)> {
        walls
            .iter()
            .map(|w| (w.to_string(), "03:00 EDT".to_string()))
            .collect()
    };
    assert_eq!(
        skipped("0,30 2 * * *", "America/New_York", ny),
        at3(&["02:00", "02:30"])
    );
    assert_eq!(
        skipped("1-5 2 * * *", "America/New_York", ny),
        at3(&["02:01", "02:02", "02:03", "02:04", "02:05"])
    );
    // 03:00 is not skipped: it is its own run at the same instant.
    assert_eq!(
        skipped("0 1-3 * * *", "America/New_York", ny),
        at3(&["02:00"])
    );
    // Lord Howe moves 30 minutes: 02:00 and 02:15 are skipped, 02:30 exists.
    let lh: Vec<(String, String)> = skipped(
        "0,15,30,45 2 * * *",
        "Australia/Lord_Howe",
        "2026-10-03T00:00:00Z",
    );
    assert_eq!(
        lh.iter().map(|(w, _)| w.as_str()).collect::<Vec<_>>(),
        ["02:00", "02:15"]
    );
    assert!(lh.iter().all(|(_, r)| r.starts_with("02:30")), "{lh:?}");
    // Wildcard jobs follow real time: nothing to catch up.
    assert!(skipped("*/30 2 * * *", "America/New_York", ny).is_empty());
    assert!(skipped("0 3 * * *", "America/New_York", ny).is_empty());
}

/// cron(8) runs a fixed-time job once for each local time a forward jump
/// skips, at the first instant after it, besides its own run when the
/// landing time matches.
#[test]
fn each_skipped_local_time_is_a_fire_of_its_own() {
    let points =
        |expr: &str, tz: &str, from: &str, n: usize| -> Vec<(String, u32, Option<String>)> {
            let tz: Tz = tz.parse().unwrap();
            let schedule = Schedule::Cron(Box::new(CronSchedule::parse(expr, tz).unwrap()));
            let from = DateTime::parse_from_rfc3339(from)
                .unwrap()
                .with_timezone(&Utc);
            schedule
                .upcoming_fires(from, n)
                .into_iter()
                .map(|p| {
                    (
                        p.at.with_timezone(&tz).format("%m-%d %H:%M %Z").to_string(),
                        p.slot,
                        p.nominal.map(|n| n.format("%H:%M").to_string()),
                    )
                })
                .collect()
        };
    let ny = "America/New_York";
    let day = "2026-03-07T12:00:00Z";
    let p = |s: &str, slot: u32, n: Option<&str>| (s.to_string(), slot, n.map(str::to_string));
    assert_eq!(
        points("0,30 2 * * *", ny, day, 3),
        [
            p("03-08 03:00 EDT", 0, Some("02:00")),
            p("03-08 03:00 EDT", 1, Some("02:30")),
            p("03-09 02:00 EDT", 0, None),
        ]
    );
    assert_eq!(
        points("0 1-3 * * *", ny, day, 4),
        [
            p("03-08 01:00 EST", 0, None),
            p("03-08 03:00 EDT", 0, Some("02:00")),
            p("03-08 03:00 EDT", 1, None),
            p("03-09 01:00 EDT", 0, None),
        ]
    );
    let five = points("1-5 2 * * *", ny, day, 6);
    assert_eq!(five.iter().filter(|f| f.0 == "03-08 03:00 EDT").count(), 5);
    assert_eq!(
        five.iter().map(|f| f.1).take(5).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4]
    );
    // Lord Howe moves 30 minutes, from 02:00 to 02:30, on 2026-10-04.
    let lh = points(
        "0,15,30,45 2 * * *",
        "Australia/Lord_Howe",
        "2026-10-03T00:00:00Z",
        4,
    );
    assert_eq!(
        lh,
        [
            p("10-04 02:30 +11", 0, Some("02:00")),
            p("10-04 02:30 +11", 1, Some("02:15")),
            p("10-04 02:30 +11", 2, None),
            p("10-04 02:45 +11", 0, None),
        ]
    );
    // Wildcard jobs follow real instants: nothing runs for the gap.
    let wild = points("*/30 * * * *", ny, "2026-03-08T06:15:00Z", 2);
    assert_eq!(
        wild,
        [p("03-08 01:30 EST", 0, None), p("03-08 03:00 EDT", 0, None)]
    );
}

#[test]
fn common_schedules_read_in_words_and_the_rest_do_not() {
    let w = |expr: &str| {
        Schedule::Cron(Box::new(CronSchedule::parse(expr, Tz::UTC).unwrap())).in_words()
    };
    assert_eq!(w("*/5 * * * *").as_deref(), Some("every 5 minutes"));
    assert_eq!(w("* * * * *").as_deref(), Some("every minute"));
    assert_eq!(w("0 9 * * 1-5").as_deref(), Some("at 09:00 on Mon-Fri"));
    assert_eq!(
        w("30 2 * * SAT,SUN").as_deref(),
        Some("at 02:30 on Sat, Sun")
    );
    assert_eq!(
        w("15 * * * *").as_deref(),
        Some("at minute 15 of every hour")
    );
    assert_eq!(
        w("0 */6 * * *").as_deref(),
        Some("at minute 0 of every 6 hours")
    );
    assert_eq!(
        w("0 0 1 * *").as_deref(),
        Some("at 00:00 on day 1 of the month")
    );
    assert_eq!(w("0 3 1 1 *").as_deref(), Some("at 03:00 on 1 Jan"));
    assert_eq!(w("*/10 * * * * *").as_deref(), Some("every 10 seconds"));
    assert_eq!(
        w("0 9 1 * MON"),
        None,
        "both day fields: words would blur the rule"
    );
    assert_eq!(w("0 9-17/2 * * *"), None);
    let every = Schedule::Every(Every::new(std::time::Duration::from_secs(90)).unwrap());
    assert_eq!(every.in_words().as_deref(), Some("every 1m 30s"));
}
