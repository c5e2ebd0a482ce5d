"""Builds and changes failures with the real Python RQ 2.12, for the failure-group tests.

  groups_fill.py URL fill                  -> JSON {"charge": [ids], "refund": [...], "lookup": [...]}
  groups_fill.py URL requeue Q ID          (FailedJobRegistry.requeue, as rq-dashboard does)
  groups_fill.py URL delete ID             (Job.delete)
  groups_fill.py URL expire Q ID           (score in the past, then the registry's own cleanup)
  groups_fill.py URL work Q [json]         (a burst SimpleWorker)
  groups_fill.py URL status ID             -> status and number of results
"""
import json
import sys

from redis import Redis
from rq import Queue, SimpleWorker
from rq.job import Job
from rq.registry import FailedJobRegistry
from rq.serializers import JSONSerializer

import grouptasks

url, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]
r = Redis.from_url(url)


def queue(name):
    ser = JSONSerializer if name.endswith('json') else None
    return Queue(name, connection=r, serializer=ser)


def work(name):
    q = queue(name)
    SimpleWorker([q], connection=r, serializer=q.serializer).work(burst=True)


if cmd == 'fill':
    out = {'charge': [], 'refund': [], 'lookup': []}
    a, b = queue('ga'), queue('gb-json')
    for i in range(5):
        out['charge'].append(a.enqueue(grouptasks.charge, 1000 + i * 7, f'user{i}').id)
    for i in range(3):
        out['charge'].append(b.enqueue(grouptasks.charge, 50 + i, f'u-{i}').id)
    for i in range(4):
        out['refund'].append(a.enqueue(grouptasks.refund, 9 + i, 'x').id)
    for i in range(2):
        out['lookup'].append(b.enqueue(grouptasks.lookup, f'key-{i * 31}').id)
    work('ga')
    work('gb-json')
    print(json.dumps(out))
elif cmd == 'requeue':
    FailedJobRegistry(queue=queue(args[0])).requeue(args[1])
elif cmd == 'delete':
    Job.fetch(args[0], connection=r).delete()
elif cmd == 'expire':
    reg = FailedJobRegistry(queue=queue(args[0]))
    r.zadd(reg.key, {args[1]: 1})
    reg.cleanup()
elif cmd == 'work':
    work(args[0])
elif cmd == 'status':
    job = Job.fetch(args[0], connection=r, serializer=JSONSerializer)
    print(json.dumps({'status': job.get_status(refresh=True).value,
                      'results': len(job.results())}))
