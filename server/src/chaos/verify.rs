//! After a chaos run: every job's final state, the probes' start logs against the kills, and
//! the recovery times — one `Report`, printed as text or JSON.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::path::Path;

use engine::{keys, Store};
use serde::Serialize;

use super::{ChaosArgs, Fleet, Kill};

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub jobs: usize,
    pub workers: usize,
    pub concurrency: usize,
    pub kill_every_secs: f64,
    pub lease_secs: u64,
    pub heartbeat_secs: u64,
    pub reap_interval_secs: u64,
    pub job_ms: u64,
    pub elapsed_secs: f64,
    pub timed_out: bool,
    pub kills: usize,
    /// Worker processes that exited without being killed (crash, panic).
    pub unexpected_exits: usize,
    /// Jobs the killed workers held at the moment of their kill (sum over kills).
    pub in_flight_at_kills: usize,
    pub finished: usize,
    pub failed: usize,
    /// Still `started` after the run (should be 0).
    pub started: usize,
    /// Any other status, or the hash gone.
    pub other: usize,
    /// Jobs neither finished nor failed: `jobs - finished - failed`.
    pub lost: usize,
    /// `finished` status without an entry in the finished registry, or the reverse.
    pub registry_mismatch: usize,
    /// Finished jobs whose results stream does not hold exactly one entry.
    pub result_count_mismatch: usize,
    /// Probe start lines for this run's jobs.
    pub executions: usize,
    /// Jobs started more than once, and the starts beyond the first.
    pub duplicated_jobs: usize,
    pub duplicate_executions: usize,
    /// Starts by a worker that was killed while holding that job.
    pub aborted_executions: usize,
    /// Jobs whose starts are not "one completed run + runs aborted by a kill" (ghosts).
    pub unexplained_duplicates: usize,
    /// Finished jobs with no recorded start outside a killed worker.
    pub finished_without_start: usize,
    /// Kills that held at least one job, and how long until all of them were released.
    pub recoveries: usize,
    pub recovery_p50_secs: Option<f64>,
    pub recovery_max_secs: Option<f64>,
    /// Left in the started registry / queue / intermediate list after the run.
    pub wip_left: u64,
    pub queue_left: u64,
    pub intermediate_left: u64,
    pub ok: bool,
    pub problems: Vec<String>,
}

/// Per job: which worker processes (by spawn sequence) recorded a start, one entry per start.
fn read_starts(dir: &Path, spawned: usize) -> anyhow::Result<HashMap<String, Vec<usize>>> {
    let mut starts: HashMap<String, Vec<usize>> = HashMap::new();
    for seq in 0..spawned {
        let path = dir.join(format!("w{seq}.log"));
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            // A worker killed before its first job never created the file.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(anyhow::anyhow!("{}: {e}", path.display())),
        };
        for line in text.lines() {
            let mut parts = line.split(' ');
            if let (Some("S"), Some(token)) = (parts.next(), parts.next()) {
                starts.entry(token.to_string()).or_default().push(seq);
            }
        }
    }
    Ok(starts)
}

fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    Some(sorted[i])
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn verify(
    store: &Store,
    a: &ChaosArgs,
    ids: &[String],
    dir: &Path,
    kills: &[Kill],
    fleet: &Fleet,
    elapsed: f64,
    timed_out: bool,
) -> anyhow::Result<Report> {
    let mut conn = store.conn();
    let mut r = Report {
        jobs: ids.len(),
        workers: a.workers,
        concurrency: a.concurrency,
        kill_every_secs: a.kill_every,
        lease_secs: a.timing.lease,
        heartbeat_secs: a.timing.heartbeat,
        reap_interval_secs: a.timing.reap_interval,
        job_ms: a.job_ms,
        elapsed_secs: (elapsed * 10.0).round() / 10.0,
        timed_out,
        kills: kills.len(),
        unexpected_exits: fleet.unexpected_exits.len(),
        in_flight_at_kills: kills.iter().map(|k| k.in_flight.len()).sum(),
        finished: 0,
        failed: 0,
        started: 0,
        other: 0,
        lost: 0,
        registry_mismatch: 0,
        result_count_mismatch: 0,
        executions: 0,
        duplicated_jobs: 0,
        duplicate_executions: 0,
        aborted_executions: 0,
        unexplained_duplicates: 0,
        finished_without_start: 0,
        recoveries: 0,
        recovery_p50_secs: None,
        recovery_max_secs: None,
        wip_left: 0,
        queue_left: 0,
        intermediate_left: 0,
        ok: false,
        problems: Vec::new(),
    };

    // (killed process, job) pairs: a start there is a run the kill cut short.
    let aborted: HashSet<(usize, &str)> = kills
        .iter()
        .flat_map(|k| k.in_flight.iter().map(move |j| (k.seq, j.as_str())))
        .collect();
    let starts = read_starts(dir, fleet.spawned())?;
    let mut examples: Vec<String> = Vec::new();

    for (c, chunk) in ids.chunks(500).enumerate() {
        let mut p = redis::pipe();
        for (i, id) in chunk.iter().enumerate() {
            p.hget(keys::job(id), "status")
                .zscore(keys::finished(super::queue_of(a, c * 500 + i)), id)
                .xlen(keys::results(id));
        }
        let flat: Vec<redis::Value> = p.query_async(&mut conn).await?;
        let mut vals = flat.into_iter();
        let mut rows: Vec<(Option<String>, Option<f64>, u64)> = Vec::with_capacity(chunk.len());
        while let (Some(st), Some(fin), Some(res)) = (vals.next(), vals.next(), vals.next()) {
            rows.push((
                redis::from_redis_value(st).unwrap_or(None),
                redis::from_redis_value(fin).unwrap_or(None),
                redis::from_redis_value(res).unwrap_or(0),
            ));
        }
        for (id, (status, in_finished, results)) in chunk.iter().zip(rows) {
            let st = status.as_deref();
            match st {
                Some("finished") => r.finished += 1,
                Some("failed") => r.failed += 1,
                Some("started") => r.started += 1,
                _ => r.other += 1,
            }
            if (st == Some("finished")) != in_finished.is_some() {
                r.registry_mismatch += 1;
            }
            if st == Some("finished") && results != 1 {
                r.result_count_mismatch += 1;
            }
            let mine = starts.get(id.as_str()).map(Vec::as_slice).unwrap_or(&[]);
            r.executions += mine.len();
            if mine.len() > 1 {
                r.duplicated_jobs += 1;
                r.duplicate_executions += mine.len() - 1;
            }
            // At most one aborted start per (process, job): the one it held when it died.
            let cut: HashSet<usize> = mine
                .iter()
                .copied()
                .filter(|seq| aborted.contains(&(*seq, id.as_str())))
                .collect();
            r.aborted_executions += cut.len();
            let completed = mine.len() - cut.len();
            if completed > 1 {
                r.unexplained_duplicates += 1;
                if examples.len() < 5 {
                    examples.push(format!("{id} started by processes {mine:?}"));
                }
            }
            if st == Some("finished") && completed == 0 {
                r.finished_without_start += 1;
            }
        }
    }
    r.lost = r.jobs - r.finished - r.failed;

    let mut rec: Vec<f64> = kills
        .iter()
        .filter(|k| !k.in_flight.is_empty() && k.recovered_at.len() == k.in_flight.len())
        .map(|k| {
            let last = k.recovered_at.values().copied().fold(k.at, f64::max);
            ((last - k.at) * 100.0).round() / 100.0
        })
        .collect();
    rec.sort_by(f64::total_cmp);
    r.recoveries = rec.len();
    r.recovery_p50_secs = percentile(&rec, 0.5);
    r.recovery_max_secs = rec.last().copied();
    let unrecovered = kills
        .iter()
        .filter(|k| k.recovered_at.len() < k.in_flight.len())
        .count();

    for q in &a.queues {
        let (wip, queued, inter): (u64, u64, u64) = redis::pipe()
            .zcard(keys::started(q))
            .llen(keys::queue(q))
            .llen(keys::intermediate(q))
            .query_async(&mut conn)
            .await?;
        r.wip_left += wip;
        r.queue_left += queued;
        r.intermediate_left += inter;
    }

    let mut problems = Vec::new();
    let mut need = |bad: bool, what: String| {
        if bad {
            problems.push(what);
        }
    };
    need(timed_out, format!("timed out after {} s", a.timeout));
    need(
        r.lost > 0,
        format!("{} jobs lost (neither finished nor failed)", r.lost),
    );
    need(r.failed > 0, format!("{} jobs failed", r.failed));
    need(r.started > 0, format!("{} jobs still started", r.started));
    need(
        r.registry_mismatch > 0,
        format!("{} finished-registry mismatches", r.registry_mismatch),
    );
    need(
        r.result_count_mismatch > 0,
        format!(
            "{} finished jobs without exactly one result",
            r.result_count_mismatch
        ),
    );
    need(
        r.unexplained_duplicates > 0,
        format!(
            "{} unexplained duplicate runs: {}",
            r.unexplained_duplicates,
            examples.join(", ")
        ),
    );
    need(
        r.finished_without_start > 0,
        format!("{} finished jobs never started", r.finished_without_start),
    );
    need(
        r.unexpected_exits > 0,
        format!("workers exited on their own: {:?}", fleet.unexpected_exits),
    );
    need(
        unrecovered > 0,
        format!("{unrecovered} kills whose jobs were never released"),
    );
    need(
        r.wip_left + r.queue_left + r.intermediate_left > 0,
        format!(
            "left over: {} started, {} queued, {} intermediate",
            r.wip_left, r.queue_left, r.intermediate_left
        ),
    );
    if let (Some(bound), Some(max)) = (a.max_recovery, r.recovery_max_secs) {
        need(
            max > bound,
            format!("recovery took {max} s (bound {bound} s)"),
        );
    }
    r.ok = problems.is_empty();
    r.problems = problems;
    Ok(r)
}

impl Report {
    pub fn text(&self) -> String {
        let secs = |v: Option<f64>| v.map_or("n/a".to_string(), |s| format!("{s:.1} s"));
        let mut s = String::new();
        let _ = writeln!(
            s,
            "chaos: {} jobs of {} ms, {} workers x {} slots, SIGKILL every {} s; lease {} s, heartbeat {} s, reap every {} s",
            self.jobs, self.job_ms, self.workers, self.concurrency, self.kill_every_secs,
            self.lease_secs, self.heartbeat_secs, self.reap_interval_secs
        );
        let _ = writeln!(
            s,
            "  ran {:.1} s: {} kills ({} jobs in flight at a kill), {} unexpected exits",
            self.elapsed_secs, self.kills, self.in_flight_at_kills, self.unexpected_exits
        );
        let _ = writeln!(
            s,
            "  finished {}, failed {}, still started {}, other {}, lost {}",
            self.finished, self.failed, self.started, self.other, self.lost
        );
        let _ = writeln!(
            s,
            "  executions {}: {} jobs ran more than once ({} extra runs; {} runs cut short by a kill), unexplained {}",
            self.executions, self.duplicated_jobs, self.duplicate_executions,
            self.aborted_executions, self.unexplained_duplicates
        );
        let _ = writeln!(
            s,
            "  recovery after a kill: p50 {}, max {} ({} kills held jobs)",
            secs(self.recovery_p50_secs),
            secs(self.recovery_max_secs),
            self.recoveries
        );
        if self.ok {
            let _ = writeln!(
                s,
                "  OK: nothing lost, no job left started, every duplicate explained by a kill"
            );
        } else {
            for p in &self.problems {
                let _ = writeln!(s, "  PROBLEM: {p}");
            }
        }
        s
    }
}
