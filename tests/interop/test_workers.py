"""Workers of both kinds are visible to, and controllable by, the other side.

`rq info` lists a running Taskmill worker slot as busy, and Python's Worker API sees its current
job; Python's send_stop_job_command stops a job in a Taskmill worker, and `taskmill stop` stops a
job in a Python `rq worker`.
"""
from rq import Queue, Worker
from rq.command import send_stop_job_command
from rq.job import Job
from rq.serializers import JSONSerializer

from harness import wait_for


def status(ctx, job_id):
    return Job.fetch(job_id, connection=ctx.redis, serializer=JSONSerializer).get_status()


def worker_running(ctx, job_id):
    """The Python view of the worker whose current job is `job_id`, if any."""
    for w in Worker.all(connection=ctx.redis):
        if w.get_current_job_id() == job_id:
            return w
    return None


def test_rq_sees_taskmill_worker_and_stops_its_job(ctx):
    worker = ctx.spawn_tm('worker', '--queues', 'interop-e', '--concurrency', '2', name='tm-worker')
    q = Queue('interop-e', connection=ctx.redis, serializer=JSONSerializer)
    job = q.enqueue('taskmill.sleep', 30)
    wait_for(lambda: status(ctx, job.id) == 'started', 20, 'taskmill worker to start the job')
    w = wait_for(lambda: worker_running(ctx, job.id), 10, 'a worker hash naming the job')
    assert w.get_state() == 'busy', w.get_state()
    assert 'interop-e' in w.queue_names(), w.queue_names()

    # The rq CLI lists every Taskmill slot (2) and shows the one running the job as busy.
    out = ctx.rq('info', '--only-workers', '--raw')
    lines = [ln for ln in out.splitlines() if ln.startswith('worker ')]
    busy = [ln for ln in lines if ln.startswith('worker %s ' % w.name)]
    assert len(busy) == 1 and ' busy ' in busy[0], out
    assert len(lines) >= 2, 'expected both taskmill slots in rq info:\n' + out

    send_stop_job_command(ctx.redis, job.id, serializer=JSONSerializer)
    wait_for(lambda: status(ctx, job.id) == 'stopped', 15, 'the job to be stopped')
    assert job.id in q.failed_job_registry, 'RQ files stopped jobs under failed'
    wait_for(lambda: worker_running(ctx, job.id) is None, 10, 'the slot to let go of the job')
    assert worker.poll() is None, 'taskmill worker exited after a stop-job command'


def test_taskmill_stops_job_in_python_worker(ctx):
    ctx.spawn_rq_worker('interop-e-py', name='rq-worker')
    q = Queue('interop-e-py', connection=ctx.redis, serializer=JSONSerializer)
    job = q.enqueue('pytasks.sleepy', 30)
    wait_for(lambda: status(ctx, job.id) == 'started', 30, 'rq worker to start the job')
    wait_for(lambda: worker_running(ctx, job.id), 10, 'the rq worker hash naming the job')

    ctx.tm('stop', job.id)
    wait_for(lambda: status(ctx, job.id) == 'stopped', 15, 'the job to be stopped')
    assert job.id in q.failed_job_registry, 'RQ files stopped jobs under failed'
