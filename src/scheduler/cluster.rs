//! The loop's side of a cluster (`[cluster]`): claims that the database
//! decides, fires this host only stands by for, the heartbeat's news, and
//! the runs this host must stop because it can no longer prove it holds
//! them.
//!
//! The engine stays as it is on one host: it decides overlap, retries and
//! concurrency for what this host runs. What a cluster adds sits around it:
//! a fire of a job another host leads comes out of the engine as
//! [`Action::Standby`] and goes back in with [`Engine::take_over`] only if
//! that host has not claimed it after the takeover delay; a claim the
//! database refuses because another host runs the job is settled by the
//! job's `overlap` here.

use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::{Claim, Event, Scheduler, Unrecorded, new_run};
use crate::cluster::{self, Mismatch, View};
use crate::config::{ClusterSettings, Config, OnLost, Overlap};
use crate::domain::{ClaimOutcome, FireKey, NotRun, NotRunRecord, Trigger};
use crate::engine::{Fire, Part};
use crate::runner::Control;
use crate::store::{self, Beat, ClusterLink, Member};

/// How soon a claim that another run of the job held up is tried again
/// (`queue`, `replace`), and one our own unwritten end held up.
const BUSY_RETRY: Duration = Duration::from_secs(1);
const OWN_BUSY_RETRY: Duration = Duration::from_millis(200);

pub(super) struct InCluster {
    member: Member,
    pub(super) link: Arc<ClusterLink>,
    beats: mpsc::UnboundedReceiver<Beat>,
    settings: ClusterSettings,
    view: View,
    pub(super) housekeeper: bool,
    hashes: HashMap<String, String>,
    config_hash: String,
    mismatched: Vec<Mismatch>,
    /// Fires another host leads, until their takeover delay is over, with
    /// how many looks at them failed.
    standby: VecDeque<(Instant, Fire, u8)>,
    standby_in_flight: bool,
    /// Claims held up by another run of their job, to try again then.
    busy: Vec<(Instant, Claim)>,
    /// Fires this host is taking over (for the log and `/metrics`).
    taking_over: HashSet<FireKey>,
    /// Why this host claims nothing, as last logged.
    told: Option<String>,
    /// Jobs no live host may run, as last logged.
    unrun: Vec<String>,
    /// Fires whose claim failed on a database error, recorded `missed`
    /// only once the other hosts have had their chance to take them over.
    late_missed: Vec<(Instant, Unrecorded)>,
    /// The runs were told to stop because the trust window passed.
    stopped_untrusted: bool,
}

/// Each job's definition hash, and the config's.
pub(super) fn hashes(config: &Config) -> (HashMap<String, String>, String) {
    let jobs: Vec<(String, String)> = config
        .jobs
        .iter()
        .map(|j| (j.name.to_string(), cluster::definition_hash(j)))
        .collect();
    let all = cluster::config_hash(&jobs);
    (jobs.into_iter().collect(), all)
}

pub(super) fn key(fire: &Fire) -> FireKey {
    FireKey {
        job: fire.job.clone(),
        scheduled_for: fire.scheduled_for,
        slot: fire.slot,
        attempt: fire.attempt,
    }
}

impl InCluster {
    pub(super) fn new(
        member: Member,
        beats: mpsc::UnboundedReceiver<Beat>,
        settings: ClusterSettings,
        config: &Config,
    ) -> InCluster {
        let (hashes, config_hash) = hashes(config);
        let link = member.link();
        InCluster {
            member,
            link,
            beats,
            settings,
            view: View::default(),
            housekeeper: false,
            hashes,
            config_hash,
            mismatched: Vec::new(),
            standby: VecDeque::new(),
            standby_in_flight: false,
            busy: Vec::new(),
            taking_over: HashSet::new(),
            told: None,
            unrun: Vec::new(),
            late_missed: Vec::new(),
            stopped_untrusted: false,
        }
    }

    pub(super) fn first(&self) -> bool {
        self.member.first
    }

    /// No other live host: at shutdown, open requests have nobody else.
    pub(super) fn alone(&self) -> bool {
        !self
            .view
            .hosts
            .iter()
            .any(|h| h.live && h.id != self.link.host_id)
    }

    /// The next beat from the heartbeat thread.
    pub(super) async fn next_beat(cluster: &mut Option<Box<InCluster>>) -> Option<Beat> {
        match cluster {
            Some(c) => c.beats.recv().await,
            None => std::future::pending().await,
        }
    }

    /// When the loop must next look at standing-by fires or held-up claims.
    pub(super) fn wake(&self) -> Option<Instant> {
        let standby = self
            .standby
            .front()
            .filter(|_| !self.standby_in_flight)
            .map(|(at, ..)| *at);
        let busy = self.busy.iter().map(|(at, _)| *at).min();
        let missed = self.late_missed.iter().map(|(at, _)| *at).min();
        [standby, busy, missed, self.trust_wake()]
            .into_iter()
            .flatten()
            .min()
    }

    /// The end of the trust window: the loop stops its runs then, even if
    /// the heartbeat thread is stuck in a call.
    pub(super) fn trust_wake(&self) -> Option<Instant> {
        match self.stopped_untrusted {
            true => None,
            false => self
                .link
                .trusted_until
                .lock()
                .ok()
                .and_then(|t| *t)
                .map(Instant::from_std),
        }
    }

    fn trusted(&self) -> bool {
        self.link
            .trusted_until
            .lock()
            .ok()
            .and_then(|t| *t)
            .is_some_and(|t| std::time::Instant::now() < t)
    }

    pub(super) fn health(&self) -> crate::monitor::ClusterHealth {
        crate::monitor::ClusterHealth {
            host: self.link.name.clone(),
            live_hosts: self.view.hosts.iter().filter(|h| h.live).count(),
            skew_ms: self.link.skew_ms.load(std::sync::atomic::Ordering::Relaxed),
            cannot_claim: self.link.cannot_claim(),
            mismatched: self
                .mismatched
                .iter()
                .map(|m| (m.job.clone(), m.why.clone()))
                .collect(),
        }
    }
}

impl Scheduler {
    /// Runs as one host of a cluster: `member` is this host's heartbeat.
    pub fn in_cluster(
        mut self,
        member: Member,
        beats: mpsc::UnboundedReceiver<Beat>,
        settings: ClusterSettings,
    ) -> Scheduler {
        self.cluster = Some(Box::new(InCluster::new(
            member,
            beats,
            settings,
            &self.config,
        )));
        self
    }

    /// Before the first fire: the view the first heartbeat brought.
    pub(super) fn join_view(&mut self) {
        let mut beats = Vec::new();
        if let Some(c) = &mut self.cluster {
            while let Ok(beat) = c.beats.try_recv() {
                beats.push(beat);
            }
            if !c.first() {
                self.engine.skip_run_on_start();
            }
        }
        for beat in beats {
            self.on_beat(beat);
        }
    }

    /// What this host does with each job, from the latest view.
    fn replan(&mut self) {
        let Some(c) = &mut self.cluster else { return };
        let (parts, mismatched, unrun) = c.view.parts(&self.config.jobs, &c.hashes, &c.config_hash);
        for job in &unrun {
            if !c.unrun.contains(job) {
                tracing::warn!(job = %job, "no live host may run the job: its `hosts` patterns match none of them");
            }
        }
        c.unrun = unrun;
        for m in &mismatched {
            if !c.mismatched.iter().any(|old| old.job == m.job) {
                tracing::warn!(job = %m.job, "job not run on this host: {}", m.why);
            }
        }
        for old in &c.mismatched {
            if !mismatched.iter().any(|m| m.job == old.job) {
                tracing::info!(job = %old.job, "the hosts agree on the job's definition again: it runs here too");
            }
        }
        c.mismatched = mismatched;
        let runnable: HashSet<String> = self
            .config
            .jobs
            .iter()
            .filter(|j| parts.get(&*j.name) != Some(&Part::None))
            .map(|j| j.name.to_string())
            .collect();
        if let Ok(mut r) = c.link.runnable.write() {
            *r = Some(runnable);
        }
        let leads = self.config.jobs.len() - parts.len();
        tracing::debug!(leads, hosts = c.view.hosts.len(), "cluster view");
        self.engine.set_parts(parts);
    }

    pub(super) fn cluster_reloaded(&mut self) {
        let Some(c) = &mut self.cluster else { return };
        let (hashes, config_hash) = hashes(&self.config);
        if config_hash != c.config_hash {
            c.member.publish(
                config_hash.clone(),
                hashes.iter().map(|(j, h)| (j.clone(), h.clone())).collect(),
            );
        }
        c.hashes = hashes;
        c.config_hash = config_hash;
        if self.config.cluster.as_ref() != Some(&c.settings) {
            tracing::warn!("[cluster] changed: it takes effect when the scheduler restarts");
        }
        self.replan();
    }

    pub(super) fn on_beat(&mut self, beat: Beat) {
        match beat {
            Beat::View {
                hosts,
                jobs_of,
                housekeeper,
            } => {
                let Some(c) = &mut self.cluster else { return };
                let me = c.link.host_id;
                let before: Vec<i64> = c.view.hosts.iter().map(|h| h.id).collect();
                let now: Vec<i64> = hosts.iter().map(|h| h.id).collect();
                if before != now {
                    let names: Vec<String> = hosts
                        .iter()
                        .map(|h| format!("{} (pid {})", h.name, h.pid))
                        .collect();
                    tracing::info!(hosts = %names.join(", "), "cluster hosts: {}", hosts.len());
                }
                if housekeeper && !c.housekeeper {
                    tracing::info!("this host does the cluster's housekeeping now");
                }
                c.housekeeper = housekeeper;
                c.view = View { me, hosts, jobs_of };
                if let Some(monitor) = &self.monitor {
                    let skew = c.link.skew_ms.load(std::sync::atomic::Ordering::Relaxed);
                    monitor.cluster_view(&c.link.name, c.view.hosts.len(), skew);
                }
                self.replan();
            }
            Beat::Refused(ids) => {
                for run in self.runs.values().filter(|r| ids.contains(&r.run_id)) {
                    tracing::error!(job = %run.job, run_id = run.run_id, "stopping the run: its lease was not renewed (another host marked it lost)");
                    let _ = run.control.send(Control::Terminate);
                }
            }
            Beat::Cancel(ids) => {
                for run in self.runs.values().filter(|r| ids.contains(&r.run_id)) {
                    tracing::info!(job = %run.job, run_id = run.run_id, "terminating the run: a newer fire on another host replaces it");
                    let _ = run.control.send(Control::Replace);
                }
            }
            Beat::Lost(lost) => self.runs_lost(lost),
            Beat::Untrusted(why) => {
                tracing::error!(reason = %why, "claiming nothing until the database answers");
                self.check_trust();
            }
            Beat::Trusted => {
                tracing::info!("the database answers the heartbeat again: claiming fires again");
            }
        }
        if let (Some(monitor), Some(c)) = (&self.monitor, &self.cluster) {
            let skew = c.link.skew_ms.load(std::sync::atomic::Ordering::Relaxed);
            monitor.cluster_view(&c.link.name, c.view.hosts.len().max(1), skew);
        }
    }

    /// Runs of other hosts this host marked `lost`: say so, and start the
    /// next attempt of those whose job says `on_lost = "retry"`.
    fn runs_lost(&mut self, lost: Vec<crate::domain::LostRun>) {
        if let (Some(monitor), Some(c)) = (&self.monitor, &self.cluster) {
            monitor.cluster_lost(&c.link.name, lost.len() as u64);
        }
        let mut actions = Vec::new();
        for run in lost {
            let job = self.config.job(&run.key.job);
            let retry = job.filter(|j| j.settings.on_lost == OnLost::Retry);
            // The retry is this host's only if it may run the job at all.
            let allowed = retry.is_some_and(|j| run.key.attempt < j.settings.retries.max(1) + 1)
                && self.engine.part(&run.key.job) != Part::None;
            tracing::error!(job = %run.key.job, run_id = run.id, host = %run.host, pid = run.pid, scheduled_for = %run.key.scheduled_for.to_rfc3339(), attempt = run.key.attempt, retry = allowed, "run lost: its host stopped renewing its lease");
            if !allowed {
                continue;
            }
            let fire = Fire {
                job: run.key.job,
                scheduled_for: run.key.scheduled_for,
                slot: run.key.slot,
                nominal: run.nominal.as_deref().and_then(|n| {
                    chrono::NaiveDateTime::parse_from_str(n, "%Y-%m-%dT%H:%M:%S").ok()
                }),
                attempt: run.key.attempt + 1,
                trigger: Trigger::Retry,
                request: None,
            };
            actions.extend(self.engine.take_over(fire));
        }
        self.execute(actions);
    }

    /// A fire another host leads: look again after the takeover delay.
    pub(super) fn stand_by(&mut self, fire: Fire) {
        if let Some(c) = &mut self.cluster {
            let at = Instant::now() + c.settings.takeover_delay;
            c.standby.push_back((at, fire, 0));
        }
    }

    /// Sends what is due: the takeover look at standing-by fires, and the
    /// held-up claims again.
    pub(super) fn cluster_due(&mut self) {
        self.check_trust();
        let Some(c) = &mut self.cluster else { return };
        let now = Instant::now();
        let mut i = 0;
        while i < c.late_missed.len() {
            if c.late_missed[i].0 <= now {
                let item = c.late_missed.swap_remove(i).1;
                self.unrecorded.push(item);
                self.wakes.retry.get_or_insert(now);
            } else {
                i += 1;
            }
        }
        let mut again = Vec::new();
        let mut i = 0;
        while i < c.busy.len() {
            if c.busy[i].0 <= now {
                again.push(c.busy.swap_remove(i).1);
            } else {
                i += 1;
            }
        }
        if !c.standby_in_flight && c.standby.front().is_some_and(|(at, ..)| *at <= now) {
            let mut fires = Vec::new();
            let mut tries = Vec::new();
            while let Some((at, ..)) = c.standby.front() {
                if *at > now {
                    break;
                }
                let (_, fire, n) = c.standby.pop_front().expect("looked at");
                fires.push(fire);
                tries.push(n);
            }
            if c.link.cannot_claim().is_some() {
                // Neither a takeover nor a look: the database decides
                // nothing for a host it may not hear.
                fires.clear();
            }
            if !fires.is_empty() {
                c.standby_in_flight = true;
                let keys: Vec<FireKey> = fires.iter().map(key).collect();
                self.db(move |s| Event::StandbyChecked {
                    result: match s.cluster() {
                        Some(c) => c.have_rows(&keys),
                        None => Ok(vec![true; keys.len()]),
                    },
                    fires,
                    tries,
                });
            }
        }
        if !again.is_empty() {
            self.claim(again);
        }
    }

    pub(super) fn standby_checked(
        &mut self,
        fires: Vec<Fire>,
        tries: Vec<u8>,
        result: store::Result<Vec<bool>>,
    ) {
        let Some(c) = &mut self.cluster else { return };
        c.standby_in_flight = false;
        let have = match result {
            Ok(have) => have,
            Err(e) => {
                // Look again a little later; a fire whose lead is dead has
                // only us. After a few failed looks the database is down for
                // everyone, and the fire is missed whoever would run it.
                let again = Instant::now() + BUSY_RETRY;
                let mut dropped = 0;
                for (fire, n) in fires.into_iter().zip(tries) {
                    if n < 5 {
                        c.standby.push_back((again, fire, n + 1));
                    } else {
                        dropped += 1;
                    }
                }
                tracing::warn!(error = %e, dropped, "cannot see whether the preferred hosts claimed their fires; looking again");
                return;
            }
        };
        let mut actions = Vec::new();
        for (fire, claimed) in fires.into_iter().zip(have) {
            if claimed {
                continue;
            }
            if self.stopping {
                continue;
            }
            if let Some(c) = &mut self.cluster {
                c.taking_over.insert(key(&fire));
            }
            tracing::info!(job = %fire.job, scheduled_for = %fire.scheduled_for.to_rfc3339_opts(chrono::SecondsFormat::Millis, true), "taking over the fire: its preferred host did not claim it");
            actions.extend(self.engine.take_over(fire));
        }
        self.execute(actions);
    }

    /// Sends a batch of claims as a cluster host: the database checks the
    /// fire's time on its own clock and, for a job that must not overlap,
    /// that no other host runs it.
    pub(super) fn cluster_claim(&mut self, claims: Vec<Claim>) {
        let Some(c) = &mut self.cluster else { return };
        if let Some(why) = c.link.cannot_claim() {
            if c.told.as_deref() != Some(&why) {
                tracing::warn!(reason = %why, "this host claims nothing for now: other hosts run its fires");
                c.told = Some(why.clone());
            }
            let mut actions = Vec::new();
            for claim in claims {
                self.replace_on_spawn.remove(&claim.token);
                self.fail_request(
                    &claim.fire,
                    &format!("the host cannot claim runs now: {why}"),
                );
                actions.extend(self.engine.finished(claim.token, None, Utc::now()));
            }
            self.execute(actions);
            return;
        }
        if c.told.take().is_some() {
            tracing::info!("this host claims fires again");
        }
        self.batches.claims_in_flight = true;
        let rows: Vec<_> = claims
            .iter()
            .map(|c| new_run(&self.host, self.pid, &c.fire, c.started_at))
            .collect();
        let exclusive: Vec<bool> = claims
            .iter()
            .map(|c| c.job.settings.overlap != Overlap::Allow)
            .collect();
        self.db(move |s| Event::ClusterClaimed {
            result: match s.cluster() {
                Some(c) => c.claim_fires(&rows, &exclusive),
                None => Err(store::StoreError::new(
                    "history database",
                    store::Kind::Other,
                    "this database cannot hold a cluster",
                )),
            },
            claims,
        });
    }

    pub(super) fn cluster_claimed(
        &mut self,
        claims: Vec<Claim>,
        result: store::Result<Vec<ClaimOutcome>>,
    ) {
        let outcomes = match result {
            Ok(o) => o,
            Err(e) => {
                self.cluster_claim_failed(claims, e);
                return;
            }
        };
        self.write_error = None;
        let mut actions = Vec::new();
        let mut later: Vec<(Instant, Claim)> = Vec::new();
        let mut requests_again = Vec::new();
        for (mut claim, outcome) in claims.into_iter().zip(outcomes) {
            let k = key(&claim.fire);
            let took_over = self
                .cluster
                .as_mut()
                .is_some_and(|c| c.taking_over.remove(&k));
            match outcome {
                ClaimOutcome::Claimed { id, epoch } => {
                    let Some(c) = &self.cluster else { continue };
                    // The claim came back after this host lost its hold
                    // on the database: the run must not start now. Its row
                    // is closed, or, if that cannot be written, its lease
                    // runs out and another host calls it lost.
                    if let Some(why) = c.link.cannot_claim() {
                        tracing::warn!(job = %claim.fire.job, run_id = id, reason = %why, "run not started: the host lost its hold on the database while claiming it");
                        self.replace_on_spawn.remove(&claim.token);
                        self.fail_request(
                            &claim.fire,
                            &format!("the host lost its hold on the database: {why}"),
                        );
                        self.save(vec![super::Unsaved {
                            run_id: id,
                            job: claim.fire.job.clone(),
                            outcome: not_started(&why),
                            retried: false,
                        }]);
                        actions.extend(self.engine.finished(claim.token, None, Utc::now()));
                        continue;
                    }
                    if let Some(monitor) = &self.monitor {
                        monitor.cluster_claimed(&c.link.name, took_over);
                    }
                    tracing::debug!(job = %claim.fire.job, run_id = id, epoch, "claimed");
                    self.spawn(claim, id);
                }
                ClaimOutcome::Taken if claim.fire.request.is_some() => {
                    claim.fire.scheduled_for += chrono::TimeDelta::milliseconds(1);
                    requests_again.push(claim);
                }
                ClaimOutcome::Taken => {
                    self.replace_on_spawn.remove(&claim.token);
                    tracing::debug!(job = %claim.fire.job, scheduled_for = %claim.fire.scheduled_for.to_rfc3339_opts(chrono::SecondsFormat::Millis, true), "fire claimed by another host");
                    actions.extend(self.engine.finished(claim.token, None, Utc::now()));
                }
                ClaimOutcome::Early => {
                    self.replace_on_spawn.remove(&claim.token);
                    self.fail_request(&claim.fire, "the fire is not due by the database's clock");
                    tracing::warn!(job = %claim.fire.job, scheduled_for = %claim.fire.scheduled_for.to_rfc3339_opts(chrono::SecondsFormat::Millis, true), "fire not claimed: by the database's clock it is not due yet (this host's clock is ahead); other hosts run it");
                    actions.extend(self.engine.finished(claim.token, None, Utc::now()));
                }
                ClaimOutcome::Busy { .. } if self.stopping => {
                    self.fail_request(
                        &claim.fire,
                        "the scheduler shut down before it could start the run",
                    );
                    actions.extend(self.engine.finished(claim.token, None, Utc::now()));
                }
                ClaimOutcome::Busy { ours: true, .. } => {
                    // Our own run's end is still on its way to the database.
                    later.push((Instant::now() + OWN_BUSY_RETRY, claim));
                }
                ClaimOutcome::Busy { run_id, host, .. } => match claim.job.settings.overlap {
                    Overlap::Queue => later.push((Instant::now() + BUSY_RETRY, claim)),
                    Overlap::Replace => {
                        tracing::info!(job = %claim.fire.job, run_id, host = %host, "asking the other host to stop the job's run: a newer fire replaces it");
                        self.store.send(move |s| {
                            if let Some(c) = s.cluster()
                                && let Err(e) = c.ask_cancel(run_id)
                            {
                                tracing::warn!(run_id, error = %e, "cannot ask for the run to stop");
                            }
                        });
                        later.push((Instant::now() + BUSY_RETRY, claim));
                    }
                    Overlap::Skip | Overlap::Allow => {
                        self.replace_on_spawn.remove(&claim.token);
                        let reason = format!(
                            "the job's previous run is still running on {host} (overlap = \"skip\")"
                        );
                        tracing::info!(job = %claim.fire.job, scheduled_for = %claim.fire.scheduled_for.to_rfc3339_opts(chrono::SecondsFormat::Millis, true), %reason, "fire not run");
                        let mut fire = claim.fire.clone();
                        let request = fire.request.take();
                        self.record_one(Unrecorded {
                            fire: Fire { request, ..fire },
                            record: NotRunRecord {
                                status: NotRun::Skipped,
                                reason,
                                missed_count: None,
                                paused: false,
                            },
                        });
                        actions.extend(self.engine.finished(claim.token, None, Utc::now()));
                    }
                },
            }
        }
        if let Some(c) = &mut self.cluster {
            c.busy.extend(later);
        }
        self.claim(requests_again);
        self.execute(actions);
    }

    /// A batch of claims failed on the database: no row, no run. A fire
    /// whose claim failed for a moment gets its `missed` row only after
    /// the other hosts had their chance to take it over (a row now would
    /// tell them it was dealt with).
    fn cluster_claim_failed(&mut self, claims: Vec<Claim>, e: store::StoreError) {
        self.write_error = Some(e.to_string());
        let message = e.to_string();
        let mut actions = Vec::new();
        let later = self
            .cluster
            .as_ref()
            .map_or(Duration::ZERO, |c| c.settings.takeover_delay * 2)
            + Duration::from_secs(1);
        for claim in claims {
            self.replace_on_spawn.remove(&claim.token);
            tracing::error!(job = %claim.fire.job, scheduled_for = %claim.fire.scheduled_for.to_rfc3339_opts(chrono::SecondsFormat::Millis, true), error = %message, "run not started: cannot claim it");
            self.fail_request(
                &claim.fire,
                &format!("the scheduler could not record the run: {message}"),
            );
            if e.is_transient()
                && let Some(c) = &mut self.cluster
            {
                let mut fire = claim.fire.clone();
                fire.request = None;
                c.late_missed.push((
                    Instant::now() + later,
                    Unrecorded {
                        fire,
                        record: NotRunRecord {
                            status: NotRun::Missed,
                            reason: format!("database unavailable: {message}"),
                            missed_count: None,
                            paused: false,
                        },
                    },
                ));
            }
            actions.extend(self.engine.finished(claim.token, None, Utc::now()));
        }
        self.execute(actions);
    }

    /// Past the end of the trust window (by our monotonic clock): stop
    /// every run now, before any other host may call them lost.
    pub(super) fn check_trust(&mut self) {
        let Some(c) = &mut self.cluster else { return };
        if c.trusted() {
            c.stopped_untrusted = false;
            return;
        }
        if c.stopped_untrusted {
            return;
        }
        c.stopped_untrusted = true;
        if !self.runs.is_empty() {
            tracing::error!(
                running = self.runs.len(),
                "stopping every run: no heartbeat reached the database within the trust window, and another host may soon call them lost"
            );
        }
        self.signal_all(Control::Terminate);
    }

    fn record_one(&self, item: Unrecorded) {
        self.record(vec![item]);
    }

    /// At shutdown: claims held up and fires stood by for start nothing.
    pub(super) fn cluster_stop(&mut self) {
        let Some(c) = &mut self.cluster else { return };
        c.standby.clear();
        // Fires missed for a moment are recorded now, or never.
        let missed: Vec<Unrecorded> = c.late_missed.drain(..).map(|(_, u)| u).collect();
        self.unrecorded.extend(missed);
        let busy: Vec<Claim> = c.busy.drain(..).map(|(_, claim)| claim).collect();
        let mut actions = Vec::new();
        for claim in busy {
            self.fail_request(
                &claim.fire,
                "the scheduler shut down before it could start the run",
            );
            actions.extend(self.engine.finished(claim.token, None, Utc::now()));
        }
        self.execute(actions);
    }

    /// An overdue job, in a cluster: only the housekeeper says so, and only
    /// after the history (every host's runs) confirms it.
    pub(super) fn cluster_overdue(&mut self, job: String, last_success: Option<DateTime<Utc>>) {
        let Some(c) = &self.cluster else { return };
        if !c.housekeeper {
            return;
        }
        let name = job.clone();
        self.db(move |s| Event::OverdueChecked {
            result: s
                .last_successes(&[name.as_str()])
                .map(|m| m.get(&name).copied()),
            job,
            last_success,
        });
    }

    pub(super) fn overdue_checked(
        &mut self,
        job: String,
        last_success: Option<DateTime<Utc>>,
        result: store::Result<Option<DateTime<Utc>>>,
    ) {
        match result {
            Ok(Some(at)) if last_success.is_none_or(|known| at > known) => {
                // Another host's run succeeded: not overdue after all.
                self.engine.succeeded_elsewhere(&job, at);
            }
            _ => self.log_overdue(&job, last_success),
        }
    }
}

/// The end written for a claimed run that never started.
fn not_started(why: &str) -> crate::domain::Outcome {
    crate::domain::Outcome {
        status: crate::domain::Ended::Cancelled,
        finished_at: Utc::now(),
        exit_code: None,
        signal: None,
        duration_ms: 0,
        stdout_tail: String::new(),
        stderr_tail: String::new(),
        reason: Some(format!(
            "not started: the host lost its hold on the database ({why})"
        )),
    }
}
