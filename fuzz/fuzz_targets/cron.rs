//! Any text as a cron expression, in UTC and in a zone with DST: parsing
//! never panics, and a parsed schedule's next fires move forward.
#![no_main]

use libfuzzer_sys::fuzz_target;
use schedule::schedule::CronSchedule;

fuzz_target!(|text: &str| {
    for tz in [chrono_tz::UTC, chrono_tz::Europe::Berlin] {
        if let Ok(cron) = CronSchedule::parse(text, tz) {
            let mut at = chrono::DateTime::from_timestamp(1_795_219_200, 0).unwrap();
            for _ in 0..4 {
                match cron.next_after(at) {
                    Some(next) => {
                        assert!(next > at, "{text:?}: {next} after {at}");
                        at = next;
                    }
                    None => break,
                }
            }
        }
    }
});
