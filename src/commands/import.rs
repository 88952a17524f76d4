//! `schedule import crontab FILE|-`: prints a `jobs.toml` for a crontab.
//! The conversion itself is [`crate::import`]; this reads the file, decides
//! whether it is a system crontab and which zone cron ran in, and reports
//! the lines it kept as comments on stderr.

use std::io::Read;
use std::path::Path;

use chrono_tz::Tz;

use crate::cli::{CrontabArgs, ImportArgs, ImportSource};
use crate::config::did_you_mean;
use crate::error::Error;
use crate::import;

pub fn run(args: &ImportArgs) -> Result<(), Error> {
    match &args.source {
        ImportSource::Crontab(args) => crontab(args),
    }
}

fn crontab(args: &CrontabArgs) -> Result<(), Error> {
    let stdin = args.file == Path::new("-");
    let bytes = if stdin {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| Error::Usage(format!("cannot read the crontab from stdin: {e}")))?;
        bytes
    } else {
        std::fs::read(&args.file).map_err(|e| {
            Error::Usage(format!(
                "cannot read crontab `{}`: {e}\nhint: give a crontab file, or `-` to read \
                 one from stdin (`crontab -l | schedule import crontab -`)",
                args.file.display()
            ))
        })?
    };
    let (timezone, timezone_origin) = match &args.tz {
        Some(name) => (parse_zone(name)?, "given with --tz".to_string()),
        None => local_zone(),
    };
    let source = if stdin {
        "stdin".to_string()
    } else {
        format!("`{}`", args.file.display())
    };
    let options = import::Options {
        system: args.system || is_system_path(&args.file),
        source: source.clone(),
        timezone,
        timezone_origin,
    };
    let conversion = import::crontab(&bytes, &options);
    super::print(&conversion.toml)?;
    let name = if stdin {
        "<stdin>".to_string()
    } else {
        args.file.display().to_string()
    };
    for s in &conversion.skipped {
        eprintln!(
            "warning: {name}:{}:{}: not converted, kept as a comment: {}",
            s.line, s.column, s.reason
        );
    }
    eprintln!(
        "imported {} job{} from {source}{}",
        conversion.jobs,
        if conversion.jobs == 1 { "" } else { "s" },
        match conversion.skipped.len() {
            0 => String::new(),
            1 => "; 1 line not converted".to_string(),
            n => format!("; {n} lines not converted"),
        }
    );
    Ok(())
}

/// `/etc/crontab` and the files in `/etc/cron.d` have a user field.
pub fn is_system_path(path: &Path) -> bool {
    path == Path::new("/etc/crontab")
        || path.parent() == Some(Path::new("/etc/cron.d"))
        || path.parent() == Some(Path::new("/etc/cron.d/"))
}

fn parse_zone(name: &str) -> Result<Tz, Error> {
    name.parse::<Tz>().map_err(|_| {
        let names: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|t| t.name()).collect();
        Error::Usage(format!(
            "unknown time zone `{name}` for --tz; use an IANA name such as `Europe/Berlin` \
             or `UTC`{}",
            did_you_mean(name, &names)
        ))
    })
}

/// The zone cron runs in: this machine's local time, found as glibc does
/// (`TZ`, then `/etc/localtime`), then Debian's `/etc/timezone`; UTC when
/// none names a zone. Returns the zone and where it came from.
fn local_zone() -> (Tz, String) {
    let from_path = |p: &str| {
        p.split_once("zoneinfo/")
            .and_then(|(_, name)| name.parse::<Tz>().ok())
    };
    if let Ok(tz) = std::env::var("TZ") {
        let name = tz.trim_start_matches(':');
        if let Some(zone) = name.parse::<Tz>().ok().or_else(|| from_path(name)) {
            return (zone, "this machine's zone (from TZ)".into());
        }
    }
    if let Some(zone) = std::fs::read_link("/etc/localtime")
        .ok()
        .and_then(|p| from_path(&p.to_string_lossy()))
    {
        return (zone, "this machine's zone (from /etc/localtime)".into());
    }
    if let Some(zone) = std::fs::read_to_string("/etc/timezone")
        .ok()
        .and_then(|s| s.trim().parse::<Tz>().ok())
    {
        return (zone, "this machine's zone (from /etc/timezone)".into());
    }
    (
        Tz::UTC,
        "UTC, as no zone was found in TZ, /etc/localtime or /etc/timezone; --tz to choose one"
            .into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_crontabs_are_known_by_their_path() {
        assert!(is_system_path(Path::new("/etc/crontab")));
        assert!(is_system_path(Path::new("/etc/cron.d/php")));
        assert!(!is_system_path(Path::new("/etc/cron.d")));
        assert!(!is_system_path(Path::new("crontab")));
        assert!(!is_system_path(Path::new("/var/spool/cron/crontabs/alice")));
    }
}
