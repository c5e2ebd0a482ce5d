"""Shared plumbing for the Python RQ <-> Taskmill interop tests.

Each test gets a `Ctx`: a fresh database on the private redis-server that scripts/interop.sh
started, helpers that run the `taskmill` binary and the real `rq` CLI against that database, and
cleanup of every process the test spawned. Tests are plain functions `test_*(ctx)` that raise
AssertionError (or anything else) to fail; run.py finds and runs them.
"""
import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

from redis import Redis

HERE = os.path.dirname(os.path.abspath(__file__))
# Keep tests/interop free of __pycache__, also in the rq workers we start.
os.environ['PYTHONDONTWRITEBYTECODE'] = '1'


class Env:
    """What the whole run shares: the redis-server port and the taskmill binary."""

    def __init__(self, redis_port, taskmill):
        self.redis_port = redis_port
        self.taskmill = taskmill
        # DB 0 is left alone; every test takes the next one (the server has 1000).
        self._dbs = itertools.count(1)

    def fresh(self, name):
        return Ctx(self, next(self._dbs), name)


class Ctx:
    def __init__(self, env, db, name):
        self.env = env
        self.db = db
        self.url = 'redis://127.0.0.1:%d/%d' % (env.redis_port, db)
        self.redis = Redis.from_url(self.url)
        self.redis.flushdb()
        self.tmp = tempfile.mkdtemp(prefix='taskmill-interop-%s-' % name)
        self._procs = []

    # ---- processes --------------------------------------------------------------------------

    def run(self, argv, timeout=60, check=True, env=None):
        """Runs a command to completion; returns stdout. On failure the output is in the error."""
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env, cwd=HERE)
        if check and p.returncode != 0:
            raise AssertionError('%s exited %d\n--- stdout\n%s--- stderr\n%s' % (
                ' '.join(argv), p.returncode, p.stdout, p.stderr))
        self.last_stderr = p.stderr
        return p.stdout

    def tm(self, *args, timeout=60, check=True):
        """`taskmill <args> --redis <this db>`; returns stdout."""
        return self.run([self.env.taskmill, *args, '--redis', self.url], timeout=timeout, check=check)

    def tm_json(self, *args, timeout=60):
        out = self.tm(*args, timeout=timeout)
        try:
            return json.loads(out)
        except ValueError as e:
            raise AssertionError('taskmill %s did not print JSON (%s):\n%s' % (' '.join(args), e, out[:2000]))

    def rq(self, *args, timeout=60, check=True):
        """The real `rq` CLI (rq 2.12 from PyPI) against this db; args go after the subcommand."""
        sub, rest = args[0], args[1:]
        return self.run([sys.executable, '-m', 'rq.cli', sub, '--url', self.url, *rest],
                        timeout=timeout, check=check)

    def rq_worker_burst(self, *queues, check=True, timeout=60):
        """A Python `rq worker -S json --burst` that can import tests/interop/pytasks.py."""
        return self.rq('worker', '-S', 'json', '--burst', '--path', HERE, *queues,
                       timeout=timeout, check=check)

    def spawn(self, argv, name):
        """Starts a long-running process; its output goes to a log file shown on failure."""
        log = open(os.path.join(self.tmp, name + '.log'), 'w')
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=HERE, start_new_session=True)
        self._procs.append((p, log, name))
        return p

    def spawn_tm(self, *args, name='taskmill'):
        return self.spawn([self.env.taskmill, *args, '--redis', self.url], name)

    def spawn_rq_worker(self, *queues, name='rq-worker'):
        return self.spawn([sys.executable, '-m', 'rq.cli', 'worker', '--url', self.url, '-S', 'json',
                           '--path', HERE, *queues], name)

    def logs(self):
        out = []
        for p, log, name in self._procs:
            log.flush()
            with open(log.name, errors='replace') as f:
                out.append('--- %s (pid %d, exit %s)\n%s' % (name, p.pid, p.poll(), f.read()[-4000:]))
        return '\n'.join(out)

    def close(self):
        # SIGTERM first (warm shutdown), then SIGKILL the process group (rq's work horses too).
        for p, _, _ in self._procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p, log, _ in self._procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            p.wait()
            log.close()
        self.redis.close()


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_for(pred, timeout, what, interval=0.1):
    """Polls `pred` until it returns a truthy value (returned) or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError('timed out after %ss waiting for %s (last: %r)' % (timeout, what, last))


# ---- reading `taskmill job --json` ----------------------------------------------------------

def py_value(v):
    """Turns the engine's tagged PyValue JSON ({"t": "int", "v": 5}) into a plain Python value."""
    if not isinstance(v, dict) or 't' not in v:
        return v
    t, val = v['t'], v.get('v')
    if t in ('none',):
        return None
    if t in ('bool', 'int', 'float', 'str', 'global', 'opaque'):
        return val
    if t == 'bigint':
        return int(val)
    if t == 'bytes':
        return bytes(val)
    if t in ('list', 'tuple', 'set'):
        return [py_value(x) for x in val]
    if t == 'dict':
        return {py_value(k): py_value(x) for k, x in val}
    return v


def job_status(detail):
    s = detail.get('summary', detail)
    return s.get('status')


def job_return_value(detail):
    """The newest successful result's return value from `taskmill job ID --json`."""
    for r in detail.get('results') or []:
        if r.get('kind') == 'successful' and r.get('return_value') is not None:
            rv = r['return_value']
            if isinstance(rv, dict) and rv.get('kind') == 'ok':
                return py_value(rv['value'])
            return py_value(rv)
    if 'return_value' in detail:
        return py_value(detail['return_value'])
    raise AssertionError('no successful result in job detail: %s' % json.dumps(detail)[:2000])
