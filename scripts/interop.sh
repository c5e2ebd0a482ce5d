#!/usr/bin/env bash
# Python RQ <-> Taskmill interop tests (tests/interop/): real rq 2.12 from PyPI in .venv, the real
# `taskmill` binary, one private redis-server on a free port (each test takes its own database).
#
#   scripts/interop.sh [NAME_SUBSTRING...]      e.g. scripts/interop.sh fixture
#
# TASKMILL_BIN selects the binary; by default target/debug/taskmill is (re)built first.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO"

[ -x "$TASKMILL_PYTHON" ] || die "$TASKMILL_PYTHON missing (run scripts/setup.sh)"
BIN="$(taskmill_bin)"
start_private_redis
info "redis-server on port $REDIS_PORT, taskmill = $BIN"
"$TASKMILL_PYTHON" tests/interop/run.py --redis-port "$REDIS_PORT" --taskmill "$BIN" "$@"
