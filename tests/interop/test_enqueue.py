"""Jobs cross the language boundary in both directions (JSON serializer)."""
from rq import Queue
from rq.job import Job
from rq.serializers import JSONSerializer

from harness import job_return_value, job_status


def test_python_enqueues_taskmill_runs(ctx):
    q = Queue('interop-a', connection=ctx.redis, serializer=JSONSerializer)
    job = q.enqueue('taskmill.echo', 1, 'x', k=2)

    ctx.tm('worker', '--queues', 'interop-a', '--burst')

    job = Job.fetch(job.id, connection=ctx.redis, serializer=JSONSerializer)
    assert job.get_status() == 'finished', job.get_status()
    assert job.return_value() == {'args': [1, 'x'], 'kwargs': {'k': 2}}, job.return_value()
    assert len(q) == 0
    assert job.id in q.finished_job_registry
    assert job.id not in q.started_job_registry


def test_taskmill_enqueues_python_runs(ctx):
    job_id = ctx.tm('enqueue', '--queue', 'interop-b', 'pytasks.add', '--args', '[2,3]').strip()
    assert job_id, 'taskmill enqueue printed no job id'
    q = Queue('interop-b', connection=ctx.redis, serializer=JSONSerializer)
    assert q.job_ids == [job_id], q.job_ids

    ctx.rq_worker_burst('interop-b')

    detail = ctx.tm_json('job', job_id, '--json')
    assert job_status(detail) == 'finished', job_status(detail)
    assert job_return_value(detail) == 5, job_return_value(detail)
    # and Python agrees
    assert Job.fetch(job_id, connection=ctx.redis, serializer=JSONSerializer).return_value() == 5
