#!/usr/bin/env bash
# Engine benchmark: Taskmill vs Python RQ 2.12 (SimpleWorker) on one private redis-server, in one run.
# usage: bench/engine.sh [JOBS] [CONCURRENCY]      (prints a table; figures go in the README)
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${1:-20000}
CONC=${2:-64}
PY=${TASKMILL_PYTHON:-$PWD/.venv/bin/python}
[ -x "$PY" ] || { echo "missing $PY: run scripts/setup.sh first" >&2; exit 1; }

cargo build --release -q -p engine --example bench
cargo build --release -q -p server
PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
DIR=$(mktemp -d)
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$DIR" >/dev/null &
RPID=$!
trap 'kill $RPID 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 100); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.05; done
URL="redis://127.0.0.1:$PORT/0"

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== taskmill ($JOBS jobs, $CONC slots)" >&2
TM=$(target/release/examples/bench "$URL" "$JOBS" "$CONC" target/release/taskmill)
echo "== python rq 2.12 SimpleWorker ($((JOBS / 4)) jobs)" >&2
RQ=$("$PY" bench/rq_bench.py "$URL" "$((JOBS / 4))")
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

# Context for the figures: other processes on the same cores skew every number here.
echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/Mem:/{print $2}') GiB"
echo "- redis: $(redis-server --version | grep -o 'v=[^ ]*'), python rq $("$PY" -c 'import rq; print(rq.__version__)')"
echo "- load average (1/5/15 min) before: $LOAD0, after: $LOAD1"
echo "- taskmill: $JOBS jobs, $CONC slots; python rq: $((JOBS / 4)) jobs"
echo

python3 - "$TM" "$RQ" <<'PYEOF'
import json, sys
tm, rq = json.loads(sys.argv[1]), json.loads(sys.argv[2])
rows = [
    ("enqueue_single_per_s", "enqueue, single (jobs/s)", True),
    ("enqueue_batch_per_s", "enqueue, batch of 1000 (jobs/s)", True),
    ("process_per_s", "processing, no-op jobs (jobs/s)", True),
    ("cmds_per_job", "redis commands per job", False),
    ("cpu_us_per_job", "redis-server CPU per job (µs)", False),
    ("worker_cpu_us_per_job", "worker process CPU per job (µs)", False),
    ("latency_p50_ms", "enqueue->start p50 (ms)", False),
    ("latency_p99_ms", "enqueue->start p99 (ms)", False),
    ("idle_rss_kb", "idle worker RSS (KB)", False),
]
print(f"| metric | Taskmill | Python RQ | ratio (better = >1) |")
print(f"|---|---:|---:|---:|")
for key, label, higher in rows:
    a, b = tm.get(key), rq.get(key)
    if a is None or b is None:
        print(f"| {label} | {a} | {b} | n/a |")
        continue
    ratio = (a / b) if higher else (b / a if a else float("inf"))
    print(f"| {label} | {a:,.1f} | {b:,.1f} | {ratio:,.1f}x |")
PYEOF
