//! Where the history lives, as the user wrote it: a SQLite path or a
//! PostgreSQL URL. Shown without its password, always.

use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    /// The URL as given, password included: only the driver sees it.
    Postgres(String),
}

impl Location {
    /// `postgres://…` or `postgresql://…` is PostgreSQL; `sqlite:PATH` or
    /// any other text is a SQLite file.
    pub fn parse(text: &str) -> Result<Location, String> {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(Location::Postgres(text.to_string()));
        }
        let path = text
            .strip_prefix("sqlite://")
            .or(text.strip_prefix("sqlite:"));
        let path = path.unwrap_or(text);
        if path.is_empty() {
            return Err("the database location is empty; give a file path or a \
                        postgres://user@host/db URL"
                .into());
        }
        if let Some((scheme, _)) = text.split_once("://")
            && !scheme.contains('/')
            && !scheme.starts_with("sqlite")
        {
            return Err(format!(
                "`{scheme}://` is not a database this schedule knows; give a file path \
                 (SQLite), sqlite:PATH, or postgres://user@host/db"
            ));
        }
        Ok(Location::Sqlite(PathBuf::from(path)))
    }

    /// The default: `schedule.db` beside the config file, as a job's
    /// relative `dir` is resolved.
    pub fn beside(config: &Path) -> Location {
        let folder = config.parent().filter(|p| !p.as_os_str().is_empty());
        Location::Sqlite(
            folder.map_or_else(|| PathBuf::from("schedule.db"), |f| f.join("schedule.db")),
        )
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Location::Postgres(_))
    }

    /// The SQLite file, if this is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Location::Sqlite(p) => Some(p),
            Location::Postgres(_) => None,
        }
    }
}

/// The URL without its password (in the user part or a `password=`
/// parameter), for logs, errors and metrics.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    // The user part ends at the first `@`, as tokio-postgres reads it: a
    // password may hold `/`, `?` or `#`.
    let rest = match rest.split_once('@') {
        Some((user, host)) if user.contains(':') => {
            let user = user.split_once(':').map_or(user, |(u, _)| u);
            format!("{user}@{host}")
        }
        _ => rest.to_string(),
    };
    let rest = rest.as_str();
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((user, host)) => {
            let user = user.split_once(':').map_or(user, |(u, _)| u);
            format!("{user}@{host}")
        }
        None => authority.to_string(),
    };
    let mut out = format!("{scheme}://{authority}{path}");
    if let Some(query) = query {
        let kept: Vec<&str> = query
            .split('&')
            .filter(|kv| !kv.to_ascii_lowercase().starts_with("password="))
            .collect();
        if !kept.is_empty() {
            out.push('?');
            out.push_str(&kept.join("&"));
        }
    }
    out
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Sqlite(p) => write!(f, "{}", p.display()),
            Location::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Location({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scheme_picks_the_backend() {
        assert!(Location::parse("postgres://u@h/db").unwrap().is_postgres());
        assert!(Location::parse("postgresql://h/db").unwrap().is_postgres());
        assert_eq!(
            Location::parse("sqlite:/var/lib/s.db").unwrap(),
            Location::Sqlite("/var/lib/s.db".into())
        );
        assert_eq!(
            Location::parse("history.db").unwrap(),
            Location::Sqlite("history.db".into())
        );
        let err = Location::parse("mysql://h/db").unwrap_err();
        assert!(err.contains("postgres://"), "{err}");
        assert!(Location::parse("").is_err());
    }

    #[test]
    fn passwords_never_show() {
        let loc = Location::parse(
            "postgres://alice:s3cret@db.example:5432/sched?sslmode=require&password=x2",
        )
        .unwrap();
        let shown = loc.to_string();
        assert_eq!(
            shown,
            "postgres://alice@db.example:5432/sched?sslmode=require"
        );
        assert!(!format!("{loc:?}").contains("s3cret"));
        assert_eq!(redact("postgres://h/db?password=x"), "postgres://h/db");
        assert_eq!(redact("postgres://a:b@h"), "postgres://a@h");
        // Generated passwords hold `/` and `?`.
        assert_eq!(redact("postgres://a:x/y?z=1@h/db"), "postgres://a@h/db");
    }

    #[test]
    fn the_default_database_sits_beside_the_config() {
        assert_eq!(
            Location::beside(Path::new("/etc/schedule/jobs.toml")),
            Location::Sqlite("/etc/schedule/schedule.db".into())
        );
        assert_eq!(
            Location::beside(Path::new("jobs.toml")),
            Location::Sqlite("schedule.db".into())
        );
    }
}
