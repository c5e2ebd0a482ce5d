"""Taskmill reads a realistic Python-RQ state (the vendored fixture) with the same counts."""
import os
import sys
from urllib.parse import quote

from rq import Queue
from rq.job import Job
from rq.worker import Worker

from console_http import get, serve
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


def test_console_renders_every_fixture_queue_job_and_worker(ctx):
    """`taskmill serve` against the Python-built fixture: every queue tab, every job page and
    the workers page render (200) and show what Python RQ sees."""
    fixture = [sys.executable, os.path.join(HERE, 'rq_fixture.py')]
    try:
        ctx.run(fixture + ['build', ctx.url, '--flush', '--quick'], timeout=120)
    finally:
        ctx.run(fixture + ['stop', ctx.url], timeout=60, check=False)
    base = serve(ctx)
    ids = set()
    for q in Queue.all(connection=ctx.redis):
        registries = {
            'queued': q.get_job_ids(0, 24),
            'started': q.started_job_registry.get_job_ids(0, 24, cleanup=False),
            'finished': q.finished_job_registry.get_job_ids(0, 24, cleanup=False),
            'failed': q.failed_job_registry.get_job_ids(0, 24, cleanup=False),
            'deferred': q.deferred_job_registry.get_job_ids(0, 24, cleanup=False),
            'scheduled': q.scheduled_job_registry.get_job_ids(0, 24, cleanup=False),
            'canceled': q.canceled_job_registry.get_job_ids(0, 24, cleanup=False),
        }
        for lst, job_ids in registries.items():
            path = '/queues/%s?list=%s&size=25' % (quote(q.name, safe=''), lst)
            status, html = get(base + path)
            assert status == 200, '%s -> %s' % (path, status)
            for jid in job_ids:
                assert jid in html, '%s does not list %s' % (path, jid)
            ids.update(job_ids)
    assert len(ids) >= 20, 'fixture gave too few ids: %d' % len(ids)
    for jid in sorted(ids):
        status, html = get(base + '/jobs/' + jid)
        if Job.exists(jid, connection=ctx.redis):
            assert status == 200, '/jobs/%s -> %s' % (jid, status)
            assert jid in html
        else:  # listed in a registry but its hash expired: a clear 404, never a 500
            assert status == 404, '/jobs/%s (gone) -> %s' % (jid, status)
    status, html = get(base + '/workers')
    assert status == 200
    for w in Worker.all(connection=ctx.redis):
        assert w.name in html, 'worker %s missing from /workers' % w.name
    for path in ('/', '/failed', '/audit', '/metrics', '/api/v1/overview'):
        status, _ = get(base + path)
        assert status == 200, '%s -> %s' % (path, status)
