//! `schedule init [PATH]`: writes a commented `jobs.toml` to start from,
//! and never over an existing file.

use std::io::Write;
use std::path::Path;

use crate::cli::{Global, InitArgs};
use crate::error::Error;

/// The starter file; `schedule check --strict` accepts it (a test checks).
pub const TEMPLATE: &str = include_str!("init.toml");

pub fn run(global: &Global, args: &InitArgs) -> Result<(), Error> {
    let path = args.path.as_deref().unwrap_or(&global.config);
    write(path)?;
    let check = if path != Path::new("jobs.toml") {
        format!("schedule --config {} check", path.display())
    } else {
        "schedule check".to_string()
    };
    super::print(&format!(
        "wrote {} with 2 example jobs; edit it, then `{check}`\n",
        path.display()
    ))
}

fn write(path: &Path) -> Result<(), Error> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path);
    let mut file = match file {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(Error::Usage(format!(
                "`{}` already exists; not overwriting it\nhint: move it away first, or give \
                 another path: `schedule init other.toml`",
                path.display()
            )));
        }
        Err(e) => {
            return Err(Error::Usage(format!(
                "cannot create `{}`: {e}",
                path.display()
            )));
        }
    };
    file.write_all(TEMPLATE.as_bytes())
        .map_err(|e| Error::Runtime(format!("cannot write `{}`: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_is_a_valid_config_with_two_jobs() {
        let config = crate::config::parse(Path::new("jobs.toml"), TEMPLATE).unwrap();
        let names: Vec<&str> = config.jobs.iter().map(|j| &*j.name).collect();
        assert_eq!(names, ["hello", "heartbeat"]);
    }
}
