#!/usr/bin/env python3
"""A Taskmill exec handler (declared in handlers.toml) that fails the first time it runs.

Taskmill starts it with the job's call as JSON on stdin ({"args": [...], "kwargs": {...}}) and
takes stdout as the return value (JSON). args[0] is a marker path: missing -> create it, print
a message on stderr and exit 1 (the job fails); present -> succeed. An optional args[1] (a
word) makes the failure a Python-style traceback with a call site and message of its own, so
jobs with different words fall into different failure groups.
"""
import json
import os
import sys

call = json.load(sys.stdin)
marker = call['args'][0]
if not os.path.exists(marker):
    with open(marker, 'w') as f:
        f.write('failed once\n')
    if len(call['args']) > 1:
        tag = str(call['args'][1])
        sys.stderr.write('Traceback (most recent call last):\n'
                         f'  File "/srv/e2e/{tag}.py", line 1, in {tag}\n'
                         f'RuntimeError: flaky {tag} fails on purpose\n')
    else:
        sys.stderr.write('flaky_exec: first attempt fails on purpose\n')
    sys.exit(1)
json.dump({'ok': True, 'marker': marker}, sys.stdout)
