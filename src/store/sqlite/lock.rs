//! One scheduler per SQLite file: an exclusive `flock` on `<db>.lock`,
//! which the kernel drops if the process dies; and the watch that tells a
//! running scheduler another process wrote the file.

use chrono::{DateTime, Utc};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use crate::domain::{Holder, Role};
use crate::store::{Kind, LockError, StoreError};

/// Who holds `db`'s lock now, if anyone. Reads the lock file and asks the
/// kernel whether the lock is held, without taking it.
pub fn lock_holder(db: &Path) -> Option<Holder> {
    let path = lock_path(db);
    let mut file = File::options().read(true).open(&path).ok()?;
    // A shared lock is granted only while no exclusive one is held; it is
    // dropped at once and blocks no one (an exclusive `try_lock` at the
    // same instant may fail, as it would against a reader anyway).
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            None
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

/// The exclusive right to run a scheduler on one SQLite file, held until
/// drop.
pub struct FileLock {
    _file: File,
}

impl FileLock {
    /// Takes the lock beside `db` or says who holds it.
    pub fn acquire(db: &Path, host: &str, role: Role) -> Result<FileLock, LockError> {
        let path = lock_path(db);
        let fail = |message: String| {
            LockError::Store(StoreError::new(
                path.display().to_string(),
                Kind::Other,
                message,
            ))
        };
        let mut file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| fail(format!("cannot open the lock file: {e}")))?;
        if let Err(e) = file.try_lock() {
            return match e {
                std::fs::TryLockError::WouldBlock => Err(LockError::Held(read_holder(&mut file))),
                std::fs::TryLockError::Error(e) => Err(fail(format!("cannot lock: {e}"))),
            };
        }
        file.set_len(0)
            .and_then(|_| file.rewind())
            .and_then(|_| writeln!(file, "{} {host} {}", std::process::id(), role.as_str()))
            .map_err(|e| fail(format!("cannot write the lock file: {e}")))?;
        Ok(FileLock { _file: file })
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
fn resolve(db: &Path) -> PathBuf {
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

/// Watches the database's folder for `<db>.notify` being written, on a
/// thread blocked in `read` (nothing wakes while nothing changes). Only
/// whole writes (close after write, a file moved in) are asked for: the
/// scheduler's own WAL stays open and produces no event.
pub fn watch(db: &Path, changed: tokio::sync::mpsc::UnboundedSender<()>) -> bool {
    let notify = notify_path(db);
    let (Some(folder), Some(name)) = (notify.parent(), notify.file_name()) else {
        return false;
    };
    let name = name.to_owned();
    let Ok(inotify) = Inotify::init(InitFlags::IN_CLOEXEC) else {
        return false;
    };
    let flags =
        AddWatchFlags::IN_CLOSE_WRITE | AddWatchFlags::IN_MOVED_TO | AddWatchFlags::IN_CREATE;
    if inotify.add_watch(folder, flags).is_err() {
        return false;
    }
    std::thread::Builder::new()
        .name("watch-db".into())
        .spawn(move || {
            while let Ok(events) = inotify.read_events() {
                for event in events {
                    if event.name.as_deref() == Some(name.as_os_str()) && changed.send(()).is_err()
                    {
                        return;
                    }
                }
            }
        })
        .is_ok()
}
