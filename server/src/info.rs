//! `taskmill info`: queues with their counts and workers with their state, like `rq info`, from
//! one snapshot (read-only). `--json` prints the Snapshot itself.

use clap::Args;
use engine::model::Snapshot;

#[derive(Args, Debug, Clone)]
#[command(after_help = "Examples:\n  taskmill info\n  taskmill info --json | jq '.queues[].name'")]
pub struct InfoArgs {
    /// Print the snapshot as JSON
    #[arg(long)]
    pub json: bool,
}

pub async fn run(redis: &crate::redis_args::Redis, args: InfoArgs) -> anyhow::Result<()> {
    let store = crate::ops::connect(redis).await?;
    let snap = engine::snapshot::take(&store).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&snap)?);
    } else {
        print!("{}", render(&snap));
    }
    Ok(())
}

/// Width of the longest bar, in characters.
const BAR: u64 = 40;

pub fn render(s: &Snapshot) -> String {
    let mut out = String::new();
    let width = s
        .queues
        .iter()
        .map(|q| q.name.chars().count())
        .max()
        .unwrap_or(0);
    let max = s.queues.iter().map(|q| q.queued).max().unwrap_or(0);
    for q in &s.queues {
        let bar = if max == 0 {
            0
        } else {
            (q.queued * BAR).div_ceil(max)
        } as usize;
        out.push_str(&format!(
            "{:<width$} |{} {}  (started {}, failed {}, deferred {}, scheduled {}, finished {})\n",
            q.name,
            "█".repeat(bar),
            q.queued,
            q.started,
            q.failed,
            q.deferred,
            q.scheduled,
            q.finished,
        ));
    }
    let total: u64 = s.queues.iter().map(|q| q.queued).sum();
    out.push_str(&format!(
        "{} queues, {} jobs total\n\n",
        s.queues.len(),
        total
    ));
    for w in &s.workers {
        let job = w
            .current_job
            .as_deref()
            .map(|j| format!(" (job {j})"))
            .unwrap_or_default();
        let stale = if w.stale { " [stale]" } else { "" };
        out.push_str(&format!(
            "{} {}: {}{} on {}{}\n",
            w.name,
            w.pid.map(|p| format!("({p})")).unwrap_or_default(),
            w.state,
            job,
            w.queues.join(", "),
            stale,
        ));
    }
    let mut queues: Vec<&str> = s
        .workers
        .iter()
        .flat_map(|w| w.queues.iter().map(String::as_str))
        .collect();
    queues.sort_unstable();
    queues.dedup();
    out.push_str(&format!(
        "{} workers, {} queues\n",
        s.workers.len(),
        queues.len()
    ));
    if s.suspended {
        out.push_str("workers are SUSPENDED (taskmill resume)\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::model::QueueCounts;

    #[test]
    fn renders_queues_and_totals() {
        let s = Snapshot {
            queues: vec![
                QueueCounts {
                    name: "default".into(),
                    queued: 4,
                    failed: 1,
                    ..QueueCounts::default()
                },
                QueueCounts {
                    name: "high".into(),
                    ..QueueCounts::default()
                },
            ],
            ..Snapshot::default()
        };
        let text = render(&s);
        assert!(text.contains(&format!(
            "default |{} 4  (started 0, failed 1",
            "█".repeat(40)
        )));
        assert!(text.contains("high    | 0"));
        assert!(text.contains("2 queues, 4 jobs total"));
        assert!(text.contains("0 workers, 0 queues"));
    }
}
