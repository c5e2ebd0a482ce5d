"""Python RQ 2.12 side of the engine benchmark.

Measures, on the Redis given by URL (an empty DB the caller owns):
  enqueue_single_per_s   Queue.enqueue, one job per round trip
  enqueue_batch_per_s    Queue.enqueue_many in batches of 1000
  process_per_s          SimpleWorker (burst, JSON serializer) draining N no-op jobs
  cmds_per_job           redis commands per processed job (INFO commandstats delta)
  cpu_us_per_job         redis-server CPU µs per processed job (INFO cpu delta)
  worker_cpu_us_per_job  this process's CPU µs per processed job (the worker runs in-process)
  latency_p50_ms/p99     enqueue -> started_at of a live SimpleWorker at low load
  idle_rss_kb            RSS of an idle `rq worker --worker-class SimpleWorker`
Prints one JSON object on stdout.
"""
import json
import os
import resource
import statistics
import subprocess
import sys
import time

from redis import Redis
from rq import Queue, SimpleWorker
from rq.serializers import JSONSerializer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def redis_cpu(r):
    info = r.info("cpu")
    return info["used_cpu_sys"] + info["used_cpu_user"]


def redis_cmds(r):
    return sum(v["calls"] for k, v in r.info("commandstats").items())


def own_cpu():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def main():
    url = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    r = Redis.from_url(url)
    r.flushdb()
    q = Queue("rqbench", connection=r, serializer=JSONSerializer)
    out = {"impl": "python-rq", "jobs": n}

    t = time.perf_counter()
    single = min(n, 2000)
    for i in range(single):
        q.enqueue("bench_tasks.noop", i)
    out["enqueue_single_per_s"] = single / (time.perf_counter() - t)
    r.flushdb()

    t = time.perf_counter()
    for start in range(0, n, 1000):
        batch = [Queue.prepare_data("bench_tasks.noop", args=(i,)) for i in range(start, min(n, start + 1000))]
        q.enqueue_many(batch)
    out["enqueue_batch_per_s"] = n / (time.perf_counter() - t)

    # Processing: the jobs enqueued above.
    cpu0, cmd0 = redis_cpu(r), redis_cmds(r)
    w = SimpleWorker([q], connection=r, serializer=JSONSerializer)
    t, own0 = time.perf_counter(), own_cpu()
    w.work(burst=True, logging_level="ERROR")
    dt = time.perf_counter() - t
    own = own_cpu() - own0
    cpu1, cmd1 = redis_cpu(r), redis_cmds(r)
    done = q.finished_job_registry.get_job_count(cleanup=False)
    out["processed"] = done
    out["process_per_s"] = done / dt
    out["cmds_per_job"] = (cmd1 - cmd0) / max(done, 1)
    out["cpu_us_per_job"] = (cpu1 - cpu0) * 1e6 / max(done, 1)
    out["worker_cpu_us_per_job"] = own * 1e6 / max(done, 1)
    r.flushdb()

    # Latency and idle RSS: a live worker process.
    env = dict(os.environ, PYTHONPATH=HERE)
    rq_bin = os.path.join(os.path.dirname(sys.executable), "rq")
    p = subprocess.Popen(
        [rq_bin, "worker", "-S", "json", "--worker-class", "rq.worker.SimpleWorker", "--url", url,
         "--path", HERE, "-q", "rqlat"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(3)
        with open(f"/proc/{p.pid}/status") as f:
            out["idle_rss_kb"] = int(next(l for l in f if l.startswith("VmRSS")).split()[1])
        lq = Queue("rqlat", connection=r, serializer=JSONSerializer)
        lat = []
        for i in range(200):
            job = lq.enqueue("bench_tasks.noop", i)
            t0 = time.time()
            while True:
                started = r.hget(job.key, "started_at")
                if started:
                    break
                time.sleep(0.0002)
            from rq.utils import utcparse
            st = utcparse(started.decode()).timestamp()
            enq = utcparse(r.hget(job.key, "enqueued_at").decode()).timestamp()
            lat.append((st - enq) * 1000)
            time.sleep(0.01)
        lat.sort()
        out["latency_p50_ms"] = statistics.median(lat)
        out["latency_p99_ms"] = lat[int(len(lat) * 0.99) - 1]
    finally:
        p.terminate()
        p.wait(10)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
