//! SIGHUP, SIGINT and SIGTERM from the first instruction: `main` blocks
//! them before it parses arguments, so that a signal during start-up (a big
//! config takes a while to load) neither kills the process nor is lost; the
//! scheduler's loop installs its handlers and unblocks them, and what came
//! meanwhile is delivered then. While the config loads, a stop is not left
//! waiting: [`unless_stopped`] reads SIGINT and SIGTERM from a signalfd. Threads started in between inherit the
//! block and so never take these signals; children start with an empty
//! mask (the standard library clears it before `exec`).

use nix::sys::signal::{SigSet, SigmaskHow, Signal, pthread_sigmask};

fn set() -> SigSet {
    let mut set = SigSet::empty();
    for s in [Signal::SIGHUP, Signal::SIGINT, Signal::SIGTERM] {
        set.add(s);
    }
    set
}

/// Holds the three signals back on this thread (and the threads it starts).
pub fn block() {
    let _ = pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&set()), None);
}

/// Lets them in again on this thread; pending ones are delivered now.
pub fn unblock() {
    let _ = pthread_sigmask(SigmaskHow::SIG_UNBLOCK, Some(&set()), None);
}

/// Does `work` on a thread of its own while this thread answers SIGINT and
/// SIGTERM: `None` when one of them came first. Loading a config of
/// 100,000 jobs takes seconds, and a scheduler asked to stop then should
/// not finish loading first; nothing is opened or written before the
/// config is loaded, so there is nothing to undo, and the unfinished work
/// ends with the process. The signals stay blocked: one that comes after
/// the work is done stays pending for the loop's handlers, and SIGHUP is
/// not asked for here (a reload request waits for the loop).
pub fn unless_stopped<T: Send + 'static>(
    name: &str,
    work: impl FnOnce() -> T + Send + 'static,
) -> std::io::Result<Option<T>> {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use nix::sys::signalfd::{SfdFlags, SignalFd};
    use std::os::fd::AsFd;

    let mut stops = SigSet::empty();
    stops.add(Signal::SIGINT);
    stops.add(Signal::SIGTERM);
    let signals = SignalFd::with_flags(&stops, SfdFlags::SFD_CLOEXEC)?;
    // The worker's end closes when it is done (or panicked): the read end
    // then polls readable.
    let (done, done_tx) = std::io::pipe()?;
    let worker = std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            let out = work();
            drop(done_tx);
            out
        })?;
    loop {
        let mut fds = [
            PollFd::new(signals.as_fd(), PollFlags::POLLIN),
            PollFd::new(done.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, PollTimeout::NONE) {
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
            Ok(_) => {}
        }
        let ready = |fd: &PollFd| fd.revents().is_some_and(|r| !r.is_empty());
        if ready(&fds[1]) {
            return worker
                .join()
                .map(Some)
                .map_err(|_| std::io::Error::other(format!("the {name} thread panicked")));
        }
        if ready(&fds[0]) && signals.read_signal()?.is_some() {
            return Ok(None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_done_before_a_stop_gives_its_result() {
        block();
        assert_eq!(unless_stopped("work", || 6 * 7).unwrap(), Some(42));
    }

    #[test]
    fn a_sigterm_during_the_work_stops_the_wait_and_is_taken() {
        // The signal is sent to this thread, which has it blocked (as
        // main has): it waits in the signalfd, not in a handler.
        block();
        // SAFETY: pthread_self has no preconditions.
        let me = unsafe { libc::pthread_self() };
        let (_keep, hold) = std::sync::mpsc::channel::<()>();
        let started = std::time::Instant::now();
        let sender = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(100));
            // SAFETY: `me` is the test's thread, alive until the signal is taken.
            assert_eq!(unsafe { libc::pthread_kill(me, libc::SIGTERM) }, 0);
        });
        // Work that would never end on its own.
        let out = unless_stopped("stuck", move || hold.recv().is_ok()).unwrap();
        sender.join().unwrap();
        assert_eq!(out, None);
        assert!(started.elapsed() < std::time::Duration::from_secs(30));
        // Taken: no SIGTERM is left pending for this thread.
        let mut pending = SigSet::empty();
        // SAFETY: sigpending writes only into the set it is given.
        unsafe { libc::sigpending(&mut pending as *mut SigSet as *mut libc::sigset_t) };
        assert!(!pending.contains(Signal::SIGTERM));
    }
}
