"""Taskmill reads a realistic Python-RQ state (the vendored fixture) with the same counts."""
import os
import sys

from rq import Queue

from harness import HERE

LISTS = ('queued', 'started', 'finished', 'failed', 'deferred', 'scheduled', 'canceled')


def rq_counts(redis, name):
    """What Python RQ reports for one queue, without RQ's cleanup (reads must not mutate)."""
    q = Queue(name, connection=redis)
    return {
        'queued': q.count,
        'started': q.started_job_registry.get_job_count(cleanup=False),
        'finished': q.finished_job_registry.get_job_count(cleanup=False),
        'failed': q.failed_job_registry.get_job_count(cleanup=False),
        'deferred': q.deferred_job_registry.get_job_count(cleanup=False),
        'scheduled': q.scheduled_job_registry.get_job_count(cleanup=False),
        'canceled': q.canceled_job_registry.get_job_count(cleanup=False),
    }


def test_fixture_counts_match_python_rq(ctx):
    fixture = [sys.executable, os.path.join(HERE, 'rq_fixture.py')]
    try:
        ctx.run(fixture + ['build', ctx.url, '--flush', '--quick'], timeout=120)
    finally:
        # `build` leaves a busy worker and a cron scheduler running; stop them before comparing
        # so nothing changes underneath the two reads.
        ctx.run(fixture + ['stop', ctx.url], timeout=60, check=False)

    names = sorted(q.name for q in Queue.all(connection=ctx.redis))
    assert len(names) >= 5, 'fixture made too few queues: %s' % names
    expected = {n: rq_counts(ctx.redis, n) for n in names}

    info = ctx.tm_json('info', '--json')
    got = {q['name']: q for q in info['queues']}

    missing = [n for n in names if n not in got]
    assert not missing, 'queues RQ knows but taskmill info does not list: %s' % missing
    diffs = ['%s.%s: rq=%d taskmill=%s' % (n, k, expected[n][k], got[n].get(k))
             for n in names for k in LISTS if got[n].get(k) != expected[n][k]]
    assert not diffs, 'count mismatches:\n  ' + '\n  '.join(diffs)
    # The fixture has something in every kind of list, so equal counts are not all zeros.
    for k in LISTS:
        assert sum(expected[n][k] for n in names) > 0, 'fixture has no %s jobs' % k
