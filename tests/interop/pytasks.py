"""Job functions for the interop tests, run by a Python `rq worker --path tests/interop`.

Shared with the Rust tests that drive Python RQ: extend, don't rename.
"""
import os
import time


def add(a, b):
    return a + b


def echo(*args, **kwargs):
    return {'args': list(args), 'kwargs': kwargs}


def fail_once(marker):
    """Fails the first time (and leaves `marker` behind), succeeds once `marker` exists."""
    if not os.path.exists(marker):
        with open(marker, 'w') as f:
            f.write('failed once\n')
        raise RuntimeError('fail_once: first attempt fails on purpose')
    return 'ok after failure'


def sleepy(seconds):
    time.sleep(seconds)
    return seconds


def fail(msg):
    raise RuntimeError(msg)


def slow(seconds):
    time.sleep(seconds)
    return seconds
