//! SIGHUP, SIGINT and SIGTERM from the first instruction: `main` blocks
//! them before it parses arguments, so that a signal during start-up (a big
//! config takes a while to load) neither kills the process nor is lost; the
//! scheduler's loop installs its handlers and unblocks them, and what came
//! meanwhile is delivered then. Threads started in between inherit the
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
