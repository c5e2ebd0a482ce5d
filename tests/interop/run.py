#!/usr/bin/env python3
"""Runs the interop tests: every `test_*(ctx)` function in tests/interop/test_*.py.

    python tests/interop/run.py --redis-port PORT --taskmill BIN [NAME_SUBSTRING...]

Prints `ok - <test> (<seconds> s)` or `not ok - <test>` plus the failure per test, then
`interop: N passed, N failed`; exits 1 if anything failed. scripts/interop.sh starts the private
redis-server and picks the binary; run it rather than this file.
"""
import argparse
import importlib
import os
import signal
import sys
import time
import traceback

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from harness import Env  # noqa: E402

PER_TEST_TIMEOUT = 180  # seconds; a hung test fails instead of stalling CI


def collect(filters):
    tests = []
    for fname in sorted(os.listdir(HERE)):
        if not (fname.startswith('test_') and fname.endswith('.py')):
            continue
        mod = importlib.import_module(fname[:-3])
        for name in sorted(vars(mod)):
            fn = getattr(mod, name)
            full = '%s.%s' % (fname[:-3], name)
            if name.startswith('test_') and callable(fn) and (not filters or any(f in full for f in filters)):
                tests.append((full, fn))
    return tests


def on_alarm(signum, frame):
    raise TimeoutError('test took longer than %d s' % PER_TEST_TIMEOUT)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--redis-port', type=int, required=True)
    ap.add_argument('--taskmill', required=True)
    ap.add_argument('filters', nargs='*')
    a = ap.parse_args()

    env = Env(a.redis_port, a.taskmill)
    tests = collect(a.filters)
    signal.signal(signal.SIGALRM, on_alarm)
    passed = failed = 0
    for full, fn in tests:
        ctx = env.fresh(full.split('.')[-1])
        start = time.monotonic()
        signal.alarm(PER_TEST_TIMEOUT)
        try:
            fn(ctx)
            passed += 1
            print('ok - %s (%.1f s)' % (full, time.monotonic() - start), flush=True)
        except Exception:
            failed += 1
            print('not ok - %s (%.1f s)' % (full, time.monotonic() - start), flush=True)
            for line in (traceback.format_exc().rstrip() + '\n' + ctx.logs()).rstrip().splitlines():
                print('    ' + line)
        finally:
            signal.alarm(0)
            ctx.close()
    print('interop: %d passed, %d failed' % (passed, failed))
    return 1 if failed or not tests else 0


if __name__ == '__main__':
    sys.exit(main())
