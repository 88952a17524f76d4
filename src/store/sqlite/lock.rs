//! One scheduler per SQLite file: an exclusive `flock` on `<db>.lock`,
//! which the kernel drops if the process dies, and a second one on the
//! database file itself, so that deleting the lock file lets nobody in; and
//! the watch that tells a running scheduler another process wrote the file.
//!
//! Files are private: the lock file is created 0600 and the database with
//! the configured mode (0600 unless `[scheduler] db_mode` says otherwise;
//! SQLite gives its `-wal` and `-shm` the database's mode). Both are opened
//! with `O_NOFOLLOW` on the resolved path and must be regular files owned by
//! us: a symlink planted at the lock path, or a database path naming
//! someone else's file, is refused, never truncated or turned into a
//! database. A database path that is a symlink is followed only when the
//! link is owned by us or by root (the target must still be ours).

use chrono::{DateTime, Utc};
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::domain::{Holder, Role};
use crate::store::{Kind, LockError, StoreError};

/// The mode of a database created without a `db_mode`.
pub const DEFAULT_DB_MODE: u32 = 0o600;
/// The lock file's mode: nobody else may open it (and so `flock` it).
const LOCK_MODE: u32 = 0o600;

/// Who holds `db`'s lock now, if anyone. Reads the lock file and asks the
/// kernel whether either lock is held, without taking it.
pub fn lock_holder(db: &Path) -> Option<Holder> {
    let path = lock_path(db);
    let db_held = || flocked(&resolve(db));
    let Ok(mut file) = File::options()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path)
    else {
        // The lock file is gone (or not ours to read): the database's own
        // lock still tells whether a scheduler runs.
        return db_held().then(unknown_holder);
    };
    // A shared lock is granted only while no exclusive one is held; it is
    // dropped at once and blocks no one (an exclusive `try_lock` at the
    // same instant may fail, as it would against a reader anyway).
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            db_held().then(unknown_holder)
        }
        Err(_) => {
            let mut holder = read_holder(&mut file);
            holder.since = std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .ok()
                .map(DateTime::<Utc>::from);
            Some(holder)
        }
    }
}

/// Whether someone holds an `flock` on `path`, from `/proc/locks`: opening
/// the database to ask would be unsafe in a process with a SQLite
/// connection to it (closing any descriptor of a file drops the process's
/// `fcntl` locks on it, SQLite's included).
fn flocked(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    let Ok(locks) = std::fs::read_to_string("/proc/locks") else {
        return false;
    };
    let dev = meta.dev();
    let id = format!(
        "{:02x}:{:02x}:{}",
        libc::major(dev),
        libc::minor(dev),
        meta.ino()
    );
    locks.lines().any(|line| {
        let mut words = line.split_whitespace().skip(1);
        words.next() == Some("FLOCK") && words.nth(3) == Some(id.as_str())
    })
}

/// A holder known only by its lock on the database file (the lock file was
/// deleted or replaced).
fn unknown_holder() -> Holder {
    Holder {
        pid: None,
        host: None,
        role: Role::parse(""),
        since: None,
    }
}

/// The lock file's "pid host role" line, as written by [`FileLock::acquire`].
fn read_holder(file: &mut File) -> Holder {
    let mut line = String::new();
    let _ = file.read_to_string(&mut line);
    let mut words = line.split_whitespace();
    Holder {
        pid: words.next().and_then(|p| p.parse().ok()),
        host: words.next().map(str::to_string),
        role: Role::parse(words.next().unwrap_or_default()),
        since: None,
    }
}

/// Opens (creating with `mode` if missing) a file we write: without
/// following a symlink, and only if it is a regular file owned by us. An
/// existing file of ours gets `mode`.
pub(crate) fn open_private(path: &Path, mode: u32, what: &str) -> Result<File, String> {
    let file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(mode)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => format!(
                "the {what} is a symbolic link; refusing to follow it (remove it, or point at a \
                 regular file of this user)"
            ),
            _ => format!("cannot open the {what}: {e}"),
        })?;
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot inspect the {what}: {e}"))?;
    if !meta.file_type().is_file() {
        return Err(format!(
            "the {what} is not a regular file; refusing to use it"
        ));
    }
    let uid = nix::unistd::geteuid().as_raw();
    if meta.uid() != uid {
        return Err(format!(
            "the {what} belongs to uid {}, not to this user (uid {uid}); refusing to write it \
             (run schedule as its owner, or move it away)",
            meta.uid()
        ));
    }
    if meta.permissions().mode() & 0o7777 != mode {
        file.set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(|e| format!("cannot set the {what}'s mode to {mode:04o}: {e}"))?;
    }
    Ok(file)
}

/// Checks that a database path we are about to write is safe to follow:
/// a symlink is followed only when it is owned by us or by root.
pub(crate) fn check_db_path(db: &Path) -> Result<(), String> {
    let Ok(meta) = std::fs::symlink_metadata(db) else {
        return Ok(()); // not there yet: created with O_NOFOLLOW
    };
    let uid = nix::unistd::geteuid().as_raw();
    if meta.file_type().is_symlink() && meta.uid() != uid && meta.uid() != 0 {
        return Err(format!(
            "the database path is a symbolic link of uid {}, not of this user or root; refusing \
             to follow it",
            meta.uid()
        ));
    }
    Ok(())
}

/// Makes the database file ready for writing: resolves the path, creates
/// the file with `mode` if missing, refuses one that is not ours, and gives
/// existing side files (`-wal`, `-shm`) the same mode.
pub(crate) fn prepare_db(db: &Path, mode: u32) -> Result<File, String> {
    check_db_path(db)?;
    let resolved = resolve(db);
    let file = open_private(&resolved, mode, "database file")?;
    for side in ["-wal", "-shm"] {
        let mut name = resolved.clone().into_os_string();
        name.push(side);
        let name = PathBuf::from(name);
        if std::fs::symlink_metadata(&name).is_ok() {
            open_private(&name, mode, &format!("database's {side} file"))?;
        }
    }
    Ok(file)
}

/// [`prepare_db`] for a store about to open the file, without opening it
/// when it is there already: closing any descriptor of a file drops every
/// `fcntl` lock this process holds on it, SQLite's included, and a store
/// opened beside a live connection (the clean-up thread's, in the
/// scheduler) would take away the scheduler's. An existing file is
/// checked by path (regular, ours) and given `mode`.
pub(crate) fn prepare_db_path(db: &Path, mode: u32) -> Result<(), String> {
    check_db_path(db)?;
    let resolved = resolve(db);
    if std::fs::symlink_metadata(&resolved).is_err() {
        return prepare_db(db, mode).map(drop);
    }
    use std::os::unix::fs::PermissionsExt;
    let uid = nix::unistd::geteuid().as_raw();
    for side in ["", "-wal", "-shm"] {
        let mut name = resolved.clone().into_os_string();
        name.push(side);
        let name = PathBuf::from(name);
        let what = if side.is_empty() {
            "database file".to_string()
        } else {
            format!("database's {side} file")
        };
        let Ok(meta) = std::fs::symlink_metadata(&name) else {
            continue;
        };
        if !meta.file_type().is_file() {
            return Err(format!(
                "the {what} is not a regular file; refusing to use it"
            ));
        }
        if meta.uid() != uid {
            return Err(format!(
                "the {what} belongs to uid {}, not to this user (uid {uid}); refusing to write \
                 it (run schedule as its owner, or move it away)",
                meta.uid()
            ));
        }
        if meta.permissions().mode() & 0o7777 != mode {
            std::fs::set_permissions(&name, std::fs::Permissions::from_mode(mode))
                .map_err(|e| format!("cannot set the {what}'s mode: {e}"))?;
        }
    }
    Ok(())
}

/// The exclusive right to run a scheduler on one SQLite file, held until
/// drop.
pub struct FileLock {
    _file: File,
    _db: File,
}

impl FileLock {
    /// Takes the lock beside `db` or says who holds it; creates the
    /// database file with `mode` if it is missing.
    pub fn acquire(db: &Path, host: &str, role: Role, mode: u32) -> Result<FileLock, LockError> {
        let path = lock_path(db);
        let fail = |at: &Path, message: String| {
            LockError::Store(StoreError::new(
                at.display().to_string(),
                Kind::Denied,
                message,
            ))
        };
        let mut file = open_private(&path, LOCK_MODE, "lock file").map_err(|m| fail(&path, m))?;
        if let Err(e) = file.try_lock() {
            return match e {
                std::fs::TryLockError::WouldBlock => Err(LockError::Held(read_holder(&mut file))),
                std::fs::TryLockError::Error(e) => Err(fail(&path, format!("cannot lock: {e}"))),
            };
        }
        // The database file's own lock: the lock file can be deleted, the
        // database cannot without everyone noticing.
        let db_file = prepare_db(db, mode).map_err(|m| fail(db, m))?;
        if let Err(e) = db_file.try_lock() {
            return match e {
                std::fs::TryLockError::WouldBlock => Err(LockError::Held(unknown_holder())),
                std::fs::TryLockError::Error(e) => Err(fail(db, format!("cannot lock: {e}"))),
            };
        }
        file.set_len(0)
            .and_then(|_| file.rewind())
            .and_then(|_| writeln!(file, "{} {host} {}", std::process::id(), role.as_str()))
            .map_err(|e| fail(&path, format!("cannot write the lock file: {e}")))?;
        Ok(FileLock {
            _file: file,
            _db: db_file,
        })
    }
}

/// `<db>.lock`, beside the file the path resolves to, so that two spellings
/// of one database (a symlink, `./x` and `x`) share one lock.
fn lock_path(db: &Path) -> PathBuf {
    let mut name = resolve(db).into_os_string();
    name.push(".lock");
    PathBuf::from(name)
}

/// The file a database path resolves to, also when it does not exist yet.
pub(crate) fn resolve(db: &Path) -> PathBuf {
    std::fs::canonicalize(db).unwrap_or_else(|_| {
        let parent = db.parent().filter(|p| !p.as_os_str().is_empty());
        let dir = parent.map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
        dir.join(db.file_name().unwrap_or(db.as_os_str()))
    })
}

/// `<db>.notify`: what `pause`, `resume` and `trigger` write after their
/// commit, as PostgreSQL's `NOTIFY`. The scheduler watches this file, not
/// the WAL, so that its own writes (every run's rows) wake nobody.
fn notify_path(db: &Path) -> PathBuf {
    let mut name = resolve(db).into_os_string();
    name.push(".notify");
    PathBuf::from(name)
}

/// Tells a scheduler watching `db` that the controls changed. Best effort:
/// a scheduler that misses it still reads the controls at its next look.
pub fn poke(db: &Path) {
    use std::os::unix::fs::OpenOptionsExt;
    let _ = File::options()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(notify_path(db))
        .and_then(|mut f| f.write_all(b"1"));
}

/// Watches `<db>.notify` being written, and the database's own files being
/// deleted, moved, replaced or written and closed by another process (the
/// scheduler then checks they are still its files, `Store::check`), on a
/// thread blocked in `read` (`crate::watch`: the files themselves, and the
/// folder only for entries coming and going, so other files' writes wake
/// nobody). The scheduler's own connection keeps its files open, so its
/// own writes make no event.
pub fn watch(db: &Path, changed: tokio::sync::mpsc::UnboundedSender<()>) -> bool {
    let notify = notify_path(db);
    let (Some(folder), Some(notify_name)) = (notify.parent(), notify.file_name()) else {
        return false;
    };
    let Some(db_name) = resolve(db).file_name().map(|n| n.to_owned()) else {
        return false;
    };
    let mut wal_name = db_name.clone();
    wal_name.push("-wal");
    let mut shm_name = db_name.clone();
    shm_name.push("-shm");
    let names = vec![notify_name.to_owned(), db_name, wal_name, shm_name];
    crate::watch::spawn("watch-db", folder, names, move || changed.send(()).is_ok()).is_ok()
}
