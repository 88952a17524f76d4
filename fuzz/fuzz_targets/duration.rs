//! Any text as a duration: parsing never panics, and what it parses is
//! written back in a form that parses to the same duration.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(d) = schedule::duration::parse(text) {
        let written = schedule::duration::format(d);
        assert_eq!(
            schedule::duration::parse(&written).ok(),
            Some(d),
            "{text:?} -> {written:?}"
        );
    }
});
