use super::*;

fn tb(frames: &[(&str, &str)], last: &str) -> String {
    let mut s = String::from("Traceback (most recent call last):\n");
    for (file, func) in frames {
        s.push_str(&format!(
            "  File \"{file}\", line 12, in {func}\n    do_it()\n    ^^^^^^^\n"
        ));
    }
    s.push_str(last);
    s.push('\n');
    s
}

const RQ: (&str, &str) = ("/venv/lib/python3.12/site-packages/rq/job.py", "_execute");

#[test]
fn same_error_different_values_one_fingerprint() {
    let a = tb(
        &[RQ, ("/srv/rel/41/app/tasks.py", "charge")],
        "ValueError: order 1234 for 'alice' at 0x7f3a2b1c not found in /tmp/x/1.csv",
    );
    let b = tb(
        &[RQ, ("/srv/rel/42/app/tasks.py", "charge")],
        "ValueError: order 98 for 'bob' at 0x10 not found in /var/y.csv",
    );
    let (fa, fb) = (parse(&a).unwrap(), parse(&b).unwrap());
    assert_eq!(fa.exc_type, "ValueError");
    assert_eq!(
        fa.normalised,
        "order <n> for <str> at <addr> not found in <path>"
    );
    assert_eq!(
        fa.frame,
        Some(("app/tasks.py".to_string(), "charge".to_string()))
    );
    assert_eq!(fa.fingerprint(), fb.fingerprint());
    assert_eq!(fa.fingerprint().len(), 16);
    assert!(fa.example().starts_with("ValueError: order 1234"));
}

#[test]
fn types_and_call_sites_split_groups() {
    let base = tb(&[RQ, ("app/tasks.py", "charge")], "ValueError: boom 1");
    let other_type = tb(&[RQ, ("app/tasks.py", "charge")], "KeyError: boom 1");
    let other_site = tb(&[RQ, ("app/tasks.py", "refund")], "ValueError: boom 2");
    let fp = |s: &str| parse(s).unwrap().fingerprint();
    assert_ne!(fp(&base), fp(&other_type));
    assert_ne!(fp(&base), fp(&other_site));
}

#[test]
fn innermost_user_frame_skips_libraries() {
    let t = tb(
        &[
            RQ,
            ("/app/tasks.py", "fetch"),
            ("/venv/lib/python3.12/site-packages/requests/api.py", "get"),
            ("/usr/lib/python3.12/socket.py", "create_connection"),
        ],
        "ConnectionRefusedError: [Errno 111] Connection refused",
    );
    let f = parse(&t).unwrap();
    assert_eq!(f.frame, Some(("app/tasks.py".into(), "fetch".into())));
    assert_eq!(f.normalised, "[Errno <n>] Connection refused");
}

#[test]
fn chained_exceptions_use_the_last_traceback() {
    let first = tb(&[("/app/a.py", "inner")], "KeyError: 'x'");
    let second = tb(&[("/app/b.py", "outer")], "RuntimeError: wrapped");
    let t = format!(
        "{first}\nDuring handling of the above exception, another exception occurred:\n\n{second}"
    );
    let f = parse(&t).unwrap();
    assert_eq!(f.exc_type, "RuntimeError");
    assert_eq!(f.frame, Some(("app/b.py".into(), "outer".into())));
}

#[test]
fn volatile_parts_are_normalised() {
    let cases = [
        (
            "job 3f2a9c1e-8b7d-4c6e-9a10-1234567890ab failed",
            "job <uuid> failed",
        ),
        ("sha deadbeef12 mismatch", "sha <hex> mismatch"),
        (
            "connect to 10.0.0.12:6379 refused",
            "connect to <ip> refused",
        ),
        ("took 1.5s, limit 30", "took <n>s, limit <n>"),
        ("at 2026-12-01 15:28:40+00:00", "at <n> <n>+<n>"),
        ("say \"hi there\" now", "say <str> now"),
        ("don't split words", "don't split words"),
        ("utf8 codec v2", "utf8 codec v2"),
        ("open(/etc/passwd)", "open(<path>)"),
        ("", ""),
    ];
    for (input, want) in cases {
        assert_eq!(normalise(input), want, "{input}");
    }
}

#[test]
fn plain_messages_and_taskmill_tracebacks() {
    let stop = parse("Job stopped by user, work-horse terminated.").unwrap();
    assert_eq!(stop.exc_type, "");
    assert_eq!(stop.frame, None);
    assert_eq!(
        stop.example(),
        "Job stopped by user, work-horse terminated."
    );
    let a = parse(
        "Moved to FailedJobRegistry, due to AbandonedJobError, at 2026-12-01 15:28:40.12+00:00",
    )
    .unwrap();
    let b = parse(
        "Moved to FailedJobRegistry, due to AbandonedJobError, at 2026-12-02 01:00:00.99+00:00",
    )
    .unwrap();
    assert_eq!(a.fingerprint(), b.fingerprint());
    let tm = parse(
        "Traceback (most recent call last):\n  File \"taskmill\", in perform\n\
         rq.timeouts.JobTimeoutException: Task exceeded maximum timeout value (30 seconds)\n",
    )
    .unwrap();
    assert_eq!(tm.exc_type, "rq.timeouts.JobTimeoutException");
    assert_eq!(tm.frame, Some(("taskmill".into(), "perform".into())));
    assert_eq!(
        tm.normalised,
        "Task exceeded maximum timeout value (<n> seconds)"
    );
    assert!(parse("  \n").is_none());
    let bare = parse(&tb(&[("/app/t.py", "f")], "KeyboardInterrupt")).unwrap();
    assert_eq!(
        (bare.exc_type.as_str(), bare.message.as_str()),
        ("KeyboardInterrupt", "")
    );
}

#[test]
fn multi_line_messages_and_hostile_text_do_not_panic() {
    let t = tb(&[("/app/t.py", "f")], "ValueError: line one\nline two 42");
    let f = parse(&t).unwrap();
    assert_eq!(f.normalised, "line one line two <n>");
    for s in [
        "'",
        "\"unterminated",
        "/",
        "0x",
        "Traceback (most recent call last):",
        "é/ü 1.2.3.4:x",
    ] {
        let _ = parse(s).map(|f| f.fingerprint());
        let _ = normalise(s);
    }
    let long = "x".repeat(10_000);
    assert_eq!(parse(&long).unwrap().message.chars().count(), MAX_MESSAGE);
}
