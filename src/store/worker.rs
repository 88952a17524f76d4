//! A thread that owns a store, so that the scheduler's loop never waits on
//! the database: the loop hands it work and goes on with timers, signals,
//! probes and the ends of other runs; results come back as messages.
//!
//! Work is done in the order it was handed over, so a run's claim, its
//! child's pid and its end reach the database in that order.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::Store;

type Work = Box<dyn FnOnce(&mut dyn Store) + Send>;

/// The handle the loop keeps; the thread stops when it is dropped and the
/// work handed over is done.
pub struct Worker {
    tx: std::sync::mpsc::Sender<Work>,
    state: Arc<State>,
}

struct State {
    /// Work handed over and not done yet.
    outstanding: AtomicUsize,
    /// Since when (ms after `epoch`) the work in hand has been running; -1
    /// while the thread is idle.
    busy_since: AtomicI64,
    epoch: Instant,
}

impl Worker {
    pub fn spawn(mut store: Box<dyn Store>) -> std::io::Result<Worker> {
        let (tx, rx) = std::sync::mpsc::channel::<Work>();
        let state = Arc::new(State {
            outstanding: AtomicUsize::new(0),
            busy_since: AtomicI64::new(-1),
            epoch: Instant::now(),
        });
        let shared = Arc::clone(&state);
        std::thread::Builder::new()
            .name("store".into())
            .spawn(move || {
                while let Ok(work) = rx.recv() {
                    let since = shared.epoch.elapsed().as_millis() as i64;
                    shared.busy_since.store(since, Ordering::Relaxed);
                    work(store.as_mut());
                    shared.busy_since.store(-1, Ordering::Relaxed);
                    shared.outstanding.fetch_sub(1, Ordering::AcqRel);
                }
            })?;
        Ok(Worker { tx, state })
    }

    /// Runs `work` on the store's thread.
    pub fn send(&self, work: impl FnOnce(&mut dyn Store) + Send + 'static) {
        self.state.outstanding.fetch_add(1, Ordering::AcqRel);
        if self.tx.send(Box::new(work)).is_err() {
            self.state.outstanding.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// Runs `work` on the store's thread; await the answer.
    pub fn call<T: Send + 'static, F>(&self, work: F) -> impl Future<Output = Option<T>> + use<T, F>
    where
        F: FnOnce(&mut dyn Store) -> T + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.send(move |store| {
            let _ = tx.send(work(store));
        });
        async move { rx.await.ok() }
    }

    /// How much work is handed over and not done yet.
    pub fn outstanding(&self) -> usize {
        self.state.outstanding.load(Ordering::Acquire)
    }

    /// How long the work in hand has been waiting on the database.
    pub fn stalled_for(&self) -> Option<Duration> {
        let since = self.state.busy_since.load(Ordering::Relaxed);
        (since >= 0).then(|| {
            let now = self.state.epoch.elapsed().as_millis() as i64;
            Duration::from_millis((now - since).max(0) as u64)
        })
    }
}
