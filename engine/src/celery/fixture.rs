//! What kind of Celery key a key is: the check that Taskmill accounts for every key a real
//! Celery deployment writes (the fixture test walks a fixture's keys once, in a test; pages
//! never walk a keyspace).

use super::Transport;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    Binding,
    BindingPermanent,
    BindingDeadlines,
    /// A queue list (step 0 or a priority step) of a known queue.
    QueueList,
    Unacked,
    UnackedIndex,
    UnackedMutex,
    TaskMeta,
    GroupMeta,
    /// `celery-taskset-meta-<gid>.{s,j,t,d,c}` (native chords).
    ChordPart,
    /// A pidbox reply list.
    ReplyList,
    Taskmill,
    Unknown,
}

/// Classifies `key` given the queue names read from the bindings.
pub fn classify(t: &Transport, key: &[u8], queues: &[String]) -> KeyKind {
    let Ok(key) = std::str::from_utf8(key) else {
        return KeyKind::Unknown;
    };
    let p = t.global_keyprefix.as_str();
    if key.starts_with("taskmill:") {
        return KeyKind::Taskmill;
    }
    if let Some(rest) = key.strip_prefix("celery-taskset-meta-") {
        return match rest.rsplit_once('.') {
            Some((_, "s" | "j" | "t" | "d" | "c")) => KeyKind::ChordPart,
            _ => KeyKind::GroupMeta,
        };
    }
    if key.starts_with("celery-task-meta-") {
        return KeyKind::TaskMeta;
    }
    let Some(k) = key.strip_prefix(p) else {
        return KeyKind::Unknown;
    };
    match k {
        "unacked" => return KeyKind::Unacked,
        "unacked_index" => return KeyKind::UnackedIndex,
        "unacked_mutex" => return KeyKind::UnackedMutex,
        "_kombu.binding_deadlines" => return KeyKind::BindingDeadlines,
        _ => {}
    }
    if k.starts_with("_kombu.binding_permanent.") {
        return KeyKind::BindingPermanent;
    }
    if k.starts_with("_kombu.binding.") {
        return KeyKind::Binding;
    }
    for q in queues {
        if t.lists(q).iter().any(|(_, l)| l == key) {
            return KeyKind::QueueList;
        }
    }
    if k.contains(".reply.celery.pidbox") {
        return KeyKind::ReplyList;
    }
    KeyKind::Unknown
}
