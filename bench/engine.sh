#!/usr/bin/env bash
# Engine benchmark: Taskmill vs Python RQ 2.12 (SimpleWorker) on one private redis-server, in one run.
# usage: bench/engine.sh [JOBS] [CONCURRENCY]      (prints a table; figures go in the README)
# A/B: BASELINE=DIR (holding an earlier build's `bench` and `taskmill`) [ROUNDS=3] runs the earlier
# and the current Taskmill alternately ROUNDS times on the same Redis, and adds a before/after
# table of medians.
# History A/B: STATS_AB=1 [ROUNDS=3] runs the current build alternately with recording off
# (TASKMILL_STATS=off, "before") and on ("after") on the same Redis; the budget is within 5 %.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${1:-20000}
CONC=${2:-64}
PY=${TASKMILL_PYTHON:-$PWD/.venv/bin/python}
[ -x "$PY" ] || { echo "missing $PY: run scripts/setup.sh first" >&2; exit 1; }

cargo build --release -q -p engine --example bench
# ENGINE_ONLY=1: skip the console build (the idle-worker rows, which need the binary, stay empty).
TMBIN=target/release/taskmill
if [ -n "${ENGINE_ONLY:-}" ]; then TMBIN=""; else cargo build --release -q -p server; fi
PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
DIR=$(mktemp -d)
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$DIR" >/dev/null &
RPID=$!
trap 'kill $RPID 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 100); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.05; done
URL="redis://127.0.0.1:$PORT/0"

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== taskmill ($JOBS jobs, $CONC slots)" >&2
TM=$(target/release/examples/bench "$URL" "$JOBS" "$CONC" $TMBIN)
AB="[]"
if [ -n "${BASELINE:-}" ] || [ -n "${STATS_AB:-}" ]; then
  AB=""
  for r in $(seq "${ROUNDS:-3}"); do
    if [ -n "${STATS_AB:-}" ]; then
      echo "== history A/B round $r: recording off, then on" >&2
      B=$(TASKMILL_STATS=off target/release/examples/bench "$URL" "$JOBS" "$CONC" $TMBIN)
    else
      echo "== A/B round $r: before ($BASELINE), then after" >&2
      B=$("$BASELINE/bench" "$URL" "$JOBS" "$CONC" "$BASELINE/taskmill")
    fi
    A=$(target/release/examples/bench "$URL" "$JOBS" "$CONC" $TMBIN)
    AB="${AB:+$AB,}[$B,$A]"
  done
  AB="[$AB]"
fi
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

python3 - "$TM" "$RQ" "$AB" <<'PYEOF'
import json, statistics, sys
tm, rq, ab = json.loads(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[3])
rows = [
    ("enqueue_single_per_s", "enqueue, single (jobs/s)", True),
    ("enqueue_batch_per_s", "enqueue, batch of 1000 (jobs/s)", True),
    ("process_per_s", "processing, no-op jobs (jobs/s)", True),
    ("process_multi_per_s", "processing, 3 queues (jobs/s)", True),
    ("cmds_per_job", "redis commands per job", False),
    ("cmds_per_job_multi", "redis commands per job, 3 queues", False),
    ("cpu_us_per_job", "redis-server CPU per job (µs)", False),
    ("worker_cpu_us_per_job", "worker process CPU per job (µs)", False),
    ("latency_p50_ms", "enqueue->start p50 (ms)", False),
    ("latency_p99_ms", "enqueue->start p99 (ms)", False),
    ("latency_multi_p50_ms", "enqueue->start p50, 3rd of 3 queues (ms)", False),
    ("latency_multi_p99_ms", "enqueue->start p99, 3rd of 3 queues (ms)", False),
    ("idle_rss_kb", "idle worker RSS (KB)", False),
    ("idle_cmds_per_s", "idle worker, redis commands/s", False),
    ("idle_cmds_per_s_multi", "idle worker on 3 queues, redis commands/s", False),
    ("process_limits_pool_per_s", "processing, unlimited jobs in a pool with --limits (jobs/s)", True),
    ("cmds_per_job_limits_pool", "redis commands per job, pool with --limits", False),
    ("rate_configured_per_s", "rate-limited function: configured rate (jobs/s)", True),
    ("rate_limited_per_s", "rate-limited function: measured (601 jobs, jobs/s)", True),
]
print(f"| metric | Taskmill | Python RQ | ratio (better = >1) |")
print(f"|---|---:|---:|---:|")
for key, label, higher in rows:
    a, b = tm.get(key), rq.get(key)
    if a is None or b is None:
        fmt = lambda x: "–" if x is None else f"{x:,.1f}"
        print(f"| {label} | {fmt(a)} | {fmt(b)} | n/a |")
        continue
    ratio = (a / b) if higher else (b / a if a else float("inf"))
    print(f"| {label} | {a:,.1f} | {b:,.1f} | {ratio:,.1f}x |")
if ab:
    print()
    print(f"Taskmill before/after, median of {len(ab)} alternating rounds (each round: before, then after)")
    print()
    print("| metric | before | after | after/before (better = >1) | all rounds (before / after) |")
    print("|---|---:|---:|---:|---|")
    for key, label, higher in rows:
        b = [r[0].get(key) for r in ab if r[0].get(key) is not None]
        a = [r[1].get(key) for r in ab if r[1].get(key) is not None]
        if not a or not b:
            print(f"| {label} | {statistics.median(b) if b else None} | {statistics.median(a) if a else None} | n/a | |")
            continue
        mb, ma = statistics.median(b), statistics.median(a)
        ratio = (ma / mb if mb else float("inf")) if higher else (mb / ma if ma else float("inf"))
        runs = " / ".join(", ".join(f"{x:,.1f}" for x in xs) for xs in (b, a))
        print(f"| {label} | {mb:,.1f} | {ma:,.1f} | {ratio:,.2f}x | {runs} |")
PYEOF
