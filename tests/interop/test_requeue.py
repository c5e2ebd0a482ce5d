"""A failed job is requeued by the other implementation and then succeeds.

Python -> Taskmill: `rq worker` fails pytasks.fail_once; `taskmill requeue` (and the HTTP API)
put it back; `rq worker` runs it again and it finishes.
Taskmill -> Python: a Taskmill exec handler fails the first time; Python's
FailedJobRegistry.requeue puts it back; `taskmill worker` runs it again and it finishes.
"""
import json
import os
import sys
import urllib.request

from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry
from rq.serializers import JSONSerializer

from console_http import click, serve
from harness import HERE, free_port, wait_for


def fetch(ctx, job_id):
    return Job.fetch(job_id, connection=ctx.redis, serializer=JSONSerializer)


def fail_with_rq_worker(ctx, q, marker):
    job = q.enqueue('pytasks.fail_once', marker)
    ctx.rq_worker_burst(q.name)
    job = fetch(ctx, job.id)
    assert job.get_status() == 'failed', job.get_status()
    assert job.id in q.failed_job_registry
    return job


def rerun_with_rq_worker(ctx, q, job_id):
    assert fetch(ctx, job_id).get_status() == 'queued', fetch(ctx, job_id).get_status()
    assert job_id in q.job_ids
    assert job_id not in q.failed_job_registry
    ctx.rq_worker_burst(q.name)
    job = fetch(ctx, job_id)
    assert job.get_status() == 'finished', job.get_status()
    assert job.return_value() == 'ok after failure', job.return_value()


def test_taskmill_cli_requeues_python_failure(ctx):
    q = Queue('interop-d', connection=ctx.redis, serializer=JSONSerializer)
    job = fail_with_rq_worker(ctx, q, os.path.join(ctx.tmp, 'marker-cli'))

    out = ctx.tm('requeue', job.id).strip()
    assert out.split()[0] == '1', 'taskmill requeue should report 1 job, printed %r' % out

    rerun_with_rq_worker(ctx, q, job.id)


def test_http_api_requeues_python_failure(ctx):
    q = Queue('interop-d-http', connection=ctx.redis, serializer=JSONSerializer)
    job = fail_with_rq_worker(ctx, q, os.path.join(ctx.tmp, 'marker-http'))

    port = free_port()
    ctx.spawn_tm('serve', '--bind', '127.0.0.1:%d' % port, '--site-root', ctx.tmp, name='serve')
    base = 'http://127.0.0.1:%d' % port
    wait_for(lambda: http_ok(base + '/healthz'), 30, 'taskmill serve /healthz')

    req = urllib.request.Request(base + '/api/v1/jobs/%s/requeue' % job.id, data=b'', method='POST',
                                 headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 200, resp.status
        body = json.loads(resp.read())
    assert body, 'empty requeue outcome'

    rerun_with_rq_worker(ctx, q, job.id)


def test_console_one_click_requeue_of_python_failure(ctx):
    """The Requeue button on the job page, submitted exactly as the HTML form says (the no-JS
    path; with JS the island posts the same form), puts a Python-failed job back and a Python
    worker re-runs it."""
    q = Queue('interop-d-click', connection=ctx.redis, serializer=JSONSerializer)
    job = fail_with_rq_worker(ctx, q, os.path.join(ctx.tmp, 'marker-click'))
    base = serve(ctx)
    status, location = click(base, '/jobs/%s' % job.id, '/ui/requeue')
    assert status in (302, 303), 'form post answered %s' % status
    assert location and 'err=' not in location, 'redirected with an error: %s' % location
    rerun_with_rq_worker(ctx, q, job.id)


def http_ok(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


def handlers_toml(ctx):
    """Declares the exec handler `interop.flaky` (tests/interop/flaky_exec.py)."""
    path = os.path.join(ctx.tmp, 'handlers.toml')
    with open(path, 'w') as f:
        f.write('[handlers."interop.flaky"]\ncommand = [%s, %s]\n' % (
            json.dumps(sys.executable), json.dumps(os.path.join(HERE, 'flaky_exec.py'))))
    return path


def test_python_requeues_taskmill_failure(ctx):
    q = Queue('interop-d-rev', connection=ctx.redis, serializer=JSONSerializer)
    marker = os.path.join(ctx.tmp, 'marker-exec')
    handlers = handlers_toml(ctx)
    job = q.enqueue('interop.flaky', marker)

    ctx.tm('worker', '--queues', q.name, '--burst', '--handlers', handlers)
    job = fetch(ctx, job.id)
    assert job.get_status() == 'failed', job.get_status()
    assert os.path.exists(marker), 'the exec handler never ran'
    registry = FailedJobRegistry(q.name, connection=ctx.redis, serializer=JSONSerializer)
    assert job.id in registry
    assert 'first attempt fails' in (job.latest_result().exc_string or ''), job.latest_result().exc_string

    registry.requeue(job.id)
    assert fetch(ctx, job.id).get_status() == 'queued'

    ctx.tm('worker', '--queues', q.name, '--burst', '--handlers', handlers)
    job = fetch(ctx, job.id)
    assert job.get_status() == 'finished', job.get_status()
    assert job.return_value() == {'ok': True, 'marker': marker}, job.return_value()
    assert job.id not in registry
