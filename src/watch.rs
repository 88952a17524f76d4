//! A few files of one folder watched by name, on a thread blocked in `read`
//! on an inotify fd (nothing wakes while nothing changes, and tokio needs no
//! unsafe fd registration).
//!
//! Why not simply watch the folder: asking the folder for `IN_CLOSE_WRITE`
//! gets an event for every file anyone in it writes and closes, and the
//! config and the database usually share a folder with the jobs' own files
//! (a job appending to a log every 10 ms woke both watch threads 100 times
//! a second). So each file of interest is watched itself, as an inode, for
//! `IN_CLOSE_WRITE` (written in place), and the folder only for entries
//! appearing and disappearing (`IN_CREATE`, `IN_MOVED_TO`, `IN_DELETE`,
//! `IN_MOVED_FROM`: an editor's rename over the file, a deletion, a file
//! created for the first time). When a watched name appears, its new inode
//! is watched; when it goes, its old inode's watch is removed. The names are
//! watched as the folder sees them: a symlink is not followed (its target may
//! live in another folder, whose entries nobody watches).
//!
//! A process that keeps its files open (the scheduler's own database
//! connection) makes no event at all: its writes end in no close.

use nix::errno::Errno;
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, InotifyEvent, WatchDescriptor};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// What the folder is asked for: its entries coming and going.
const FOLDER: AddWatchFlags = AddWatchFlags::IN_CREATE
    .union(AddWatchFlags::IN_MOVED_TO)
    .union(AddWatchFlags::IN_DELETE)
    .union(AddWatchFlags::IN_MOVED_FROM)
    .union(AddWatchFlags::IN_ONLYDIR);

/// What a watched file is asked for: a write ended by its close.
const FILE: AddWatchFlags = AddWatchFlags::IN_CLOSE_WRITE.union(AddWatchFlags::IN_DONT_FOLLOW);

/// The names of `folder`'s entries to watch, and the inode watch each has
/// now (none while the name is absent).
struct Names {
    inotify: Inotify,
    folder: PathBuf,
    folder_wd: WatchDescriptor,
    names: Vec<(OsString, Option<WatchDescriptor>)>,
}

impl Names {
    /// Watches the file `names[i]` is now, if there is one.
    fn watch(&mut self, i: usize) {
        let path = self.folder.join(&self.names[i].0);
        let wd = self.inotify.add_watch(&path, FILE).ok();
        if let Some(old) = self.names[i].1.filter(|old| Some(*old) != wd) {
            self.unwatch(i, old);
        }
        self.names[i].1 = wd;
    }

    /// Drops `names[i]`'s watch on `wd`, unless another name is the same
    /// file (a hard link: inotify gives one inode one watch).
    fn unwatch(&mut self, i: usize, wd: WatchDescriptor) {
        self.names[i].1 = None;
        if self.names.iter().all(|(_, w)| *w != Some(wd)) {
            let _ = self.inotify.rm_watch(wd);
        }
    }

    /// Whether `events` touched a watched name, with the watches brought up
    /// to date.
    fn handle(&mut self, events: Vec<InotifyEvent>) -> bool {
        let mut changed = false;
        for event in events {
            if event.mask.contains(AddWatchFlags::IN_Q_OVERFLOW) {
                // Events were lost: anything may have changed.
                for i in 0..self.names.len() {
                    self.watch(i);
                }
                changed = true;
            } else if event.wd == self.folder_wd {
                let Some(i) = self
                    .names
                    .iter()
                    .position(|(n, _)| Some(n) == event.name.as_ref())
                else {
                    continue;
                };
                changed = true;
                if event
                    .mask
                    .intersects(AddWatchFlags::IN_CREATE | AddWatchFlags::IN_MOVED_TO)
                {
                    self.watch(i);
                } else if let Some(wd) = self.names[i].1 {
                    self.unwatch(i, wd);
                }
            } else if event.mask.contains(AddWatchFlags::IN_IGNORED) {
                // A watch we removed, or an inode that is gone: the
                // folder's event for its name said so already.
                for (_, wd) in &mut self.names {
                    if *wd == Some(event.wd) {
                        *wd = None;
                    }
                }
            } else if self.names.iter().any(|(_, wd)| *wd == Some(event.wd)) {
                changed = true;
            }
        }
        changed
    }
}

/// Starts the thread `thread` watching `names` in `folder`; it calls
/// `changed` once per batch of events that touched one of them (written in
/// place and closed, created, moved in or out, deleted), and ends when
/// `changed` returns false. Fails when inotify or the folder cannot be
/// watched; a name that does not exist yet is watched once it is created.
pub fn spawn(
    thread: &str,
    folder: &Path,
    names: Vec<OsString>,
    mut changed: impl FnMut() -> bool + Send + 'static,
) -> std::io::Result<()> {
    let inotify = Inotify::init(InitFlags::IN_CLOEXEC)?;
    let folder_wd = inotify.add_watch(folder, FOLDER)?;
    let mut watched = Names {
        inotify,
        folder: folder.to_path_buf(),
        folder_wd,
        names: names.into_iter().map(|n| (n, None)).collect(),
    };
    for i in 0..watched.names.len() {
        watched.watch(i);
    }
    std::thread::Builder::new()
        .name(thread.into())
        .spawn(move || {
            loop {
                match watched.inotify.read_events() {
                    Ok(events) => {
                        if watched.handle(events) && !changed() {
                            return;
                        }
                    }
                    Err(Errno::EINTR) => {}
                    Err(_) => return,
                }
            }
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::mpsc;
    use std::time::Duration;

    /// A watch on `name` in a fresh folder, and the channel it reports on.
    fn watching(name: &str) -> (tempfile::TempDir, mpsc::Receiver<()>) {
        let dir = tempfile::tempdir().unwrap();
        let (tx, rx) = mpsc::channel();
        spawn("watch-test", dir.path(), vec![name.into()], move || {
            tx.send(()).is_ok()
        })
        .unwrap();
        (dir, rx)
    }

    /// Whether a change was reported, after draining what came with it.
    fn reported(rx: &mpsc::Receiver<()>) -> bool {
        let seen = rx.recv_timeout(Duration::from_secs(5)).is_ok();
        while rx.recv_timeout(Duration::from_millis(100)).is_ok() {}
        seen
    }

    fn quiet(rx: &mpsc::Receiver<()>) -> bool {
        rx.recv_timeout(Duration::from_millis(300)).is_err()
    }

    fn append(path: &Path) {
        let mut f = std::fs::File::options()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        f.write_all(b"x\n").unwrap();
    }

    #[test]
    fn writes_to_other_files_of_the_folder_are_not_reported() {
        let (dir, rx) = watching("jobs.toml");
        std::fs::write(dir.path().join("jobs.toml"), "a").unwrap();
        assert!(reported(&rx));
        let log = dir.path().join("job.log");
        for _ in 0..200 {
            append(&log);
        }
        assert!(quiet(&rx), "a write to another file was reported");
    }

    #[test]
    fn in_place_writes_renames_over_and_deletions_are_reported() {
        let (dir, rx) = watching("jobs.toml");
        let path = dir.path().join("jobs.toml");
        assert!(quiet(&rx), "nothing happened yet");
        // Created for the first time.
        std::fs::write(&path, "a").unwrap();
        assert!(reported(&rx), "created");
        // Written in place.
        std::fs::write(&path, "b").unwrap();
        assert!(reported(&rx), "written in place");
        // Replaced by a rename, and then the new file written in place.
        let tmp = dir.path().join(".jobs.toml.new");
        std::fs::write(&tmp, "c").unwrap();
        assert!(quiet(&rx), "the temporary file is not ours");
        std::fs::rename(&tmp, &path).unwrap();
        assert!(reported(&rx), "renamed over");
        std::fs::write(&path, "d").unwrap();
        assert!(reported(&rx), "the new file written in place");
        // Deleted, and no longer watched through another name.
        let keep = dir.path().join("keep");
        std::fs::hard_link(&path, &keep).unwrap();
        assert!(quiet(&rx), "a link made elsewhere");
        std::fs::remove_file(&path).unwrap();
        assert!(reported(&rx), "deleted");
        std::fs::write(&keep, "e").unwrap();
        assert!(quiet(&rx), "the old file under another name is not ours");
        // Moved back in.
        std::fs::rename(&keep, &path).unwrap();
        assert!(reported(&rx), "moved in");
        std::fs::write(&path, "f").unwrap();
        assert!(reported(&rx), "the file moved in written in place");
    }
}
