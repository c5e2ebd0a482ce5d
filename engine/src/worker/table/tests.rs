//! The slot table's transitions, without Redis.

use super::*;

fn name(i: usize) -> String {
    format!("p.{i}")
}

fn running(job: &str) -> Running {
    Running {
        job_id: job.into(),
        exec_id: format!("x-{job}"),
        queue: "default".into(),
        started: Instant::now(),
        abort: Arc::new(Abort::default()),
    }
}

/// A table of `n` slots where the slots in `busy` run a job and those in `reserved` are being
/// claimed for.
fn table(n: usize, busy: &[usize], reserved: &[usize]) -> SlotTable {
    let mut t = SlotTable::new(n, name);
    let all = t.reserve_free();
    let keep: Vec<(usize, String)> = all
        .into_iter()
        .filter(|(i, _)| !busy.contains(i) && !reserved.contains(i))
        .collect();
    assert!(t.unreserve(&keep).is_empty());
    for &i in busy {
        t.assign(i, running(&format!("j{i}")));
    }
    t
}

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn scale_up_births_fresh_indexes() {
    let mut t = table(2, &[], &[]);
    let plan = t.plan_scale(4, name);
    assert_eq!(plan.born, names(&["p.2", "p.3"]));
    assert!(plan.dead.is_empty() && plan.retiring.is_empty());
    assert_eq!(plan.count, 4);
    assert_eq!(t.slot_count(), 4);
    assert_eq!(t.idle_names(), names(&["p.0", "p.1", "p.2", "p.3"]));
}

#[test]
fn scale_down_kills_idle_and_retires_busy_and_reserved() {
    // p.0 idle, p.1 reserved, p.2 idle, p.3 busy.
    let mut t = table(4, &[3], &[1]);
    let plan = t.plan_scale(1, name);
    // Highest indexes go first: p.3 retires, p.2 dies, p.1 retires; p.0 stays.
    assert_eq!(plan.dead, names(&["p.2"]));
    assert_eq!(plan.retiring, names(&["p.3", "p.1"]));
    assert!(plan.born.is_empty());
    assert_eq!(plan.count, 1);
    assert_eq!(t.slot_count(), 1);
    assert_eq!(t.names(), names(&["p.0", "p.1", "p.3"]));
    // A retiring slot is never reserved again.
    assert_eq!(t.reserve_free(), vec![(0, "p.0".to_string())]);
    // Its unused reservation ends it; its job's end ends the busy one.
    assert_eq!(t.unreserve(&[(1, "p.1".into())]), names(&["p.1"]));
    assert_eq!(t.release(3), Some("p.3".to_string()));
    assert_eq!(t.names(), names(&["p.0"]));
    // A retiring slot does not claim its next job in the finish call.
    let mut t = table(2, &[1], &[]);
    t.plan_scale(1, name);
    let go: Vec<bool> = t
        .finishing(&[1], true)
        .into_iter()
        .map(|(g, _)| g)
        .collect();
    assert_eq!(go, vec![false]);
}

#[test]
fn scale_to_the_same_size_changes_nothing() {
    let mut t = table(3, &[1], &[2]);
    let plan = t.plan_scale(3, name);
    assert_eq!(
        plan,
        ScalePlan {
            count: 3,
            ..ScalePlan::default()
        }
    );
    assert_eq!(t.names(), names(&["p.0", "p.1", "p.2"]));
    assert_eq!(t.busy_names(), names(&["p.1"]));
}

#[test]
fn release_frees_a_live_slot_and_buries_a_retiring_one() {
    let mut t = table(2, &[0, 1], &[]);
    assert_eq!(t.release(0), None);
    assert_eq!(t.idle_names(), names(&["p.0"]));
    let plan = t.plan_scale(1, name);
    assert_eq!(plan.dead, Vec::<String>::new());
    assert_eq!(plan.retiring, names(&["p.1"]));
    assert_eq!(t.busy_count(), 1);
    assert_eq!(t.release(1), Some("p.1".to_string()));
    assert_eq!(t.release(1), None, "a slot is released once");
    assert_eq!(t.names(), names(&["p.0"]));
}

#[test]
fn scale_up_keeps_retiring_slots_before_births() {
    let mut t = table(3, &[1, 2], &[]);
    let down = t.plan_scale(1, name);
    assert_eq!(down.retiring, names(&["p.2", "p.1"]));
    let up = t.plan_scale(3, name);
    assert!(up.born.is_empty(), "{up:?}");
    assert_eq!(up.count, 3);
    assert_eq!(t.release(2), None, "p.2 is live again");
    // Indexes are never reused: after a death, a birth takes the next fresh index.
    let mut t = table(2, &[], &[]);
    assert_eq!(t.plan_scale(1, name).dead, names(&["p.1"]));
    assert_eq!(t.plan_scale(2, name).born, names(&["p.2"]));
}

#[test]
fn scale_is_clamped_to_one_and_max_slots() {
    let mut t = table(2, &[], &[]);
    let plan = t.plan_scale(0, name);
    assert_eq!(plan.count, 1);
    assert_eq!(plan.dead, names(&["p.1"]));
    assert_eq!(t.slot_count(), 1);
    let max = MAX_SLOTS as usize;
    let plan = t.plan_scale(usize::MAX, name);
    assert_eq!(plan.count, max);
    assert_eq!(plan.born.len(), max - 1);
    assert_eq!(t.slot_count(), max);
    assert_eq!(t.plan_scale(max + 1, name).count, max);
}

#[test]
fn commands_reach_the_running_job_or_wait_for_the_claimed_one() {
    let mut t = table(2, &[0], &[1]);
    assert!(!t.abort_slot("p.0", AbortKind::Stop, Some("other")));
    assert!(t.abort_slot("p.0", AbortKind::Stop, Some("j0")));
    // p.1's claim is in flight: the kill waits for the job it gets.
    assert!(t.abort_slot("p.1", AbortKind::Kill, None));
    let r = running("j1");
    let abort = r.abort.clone();
    t.assign(1, r);
    assert_eq!(abort.kind(), Some(AbortKind::Kill));
    assert!(!t.abort_slot("p.9", AbortKind::Kill, None));
    let beat = t.beat();
    assert_eq!(beat.slots.len(), 2);
    assert_eq!(beat.jobs.len(), 2);
}
