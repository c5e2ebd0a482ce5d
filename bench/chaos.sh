#!/usr/bin/env bash
# Chaos benchmark: SIGKILL a random worker every few seconds while 20,000 jobs run, then prove
# nothing was lost and every duplicate run was in flight in a killed worker (`taskmill chaos`).
# Two runs on one private redis-server (free port, no persistence): the default lease settings
# (lease 20 s, heartbeat 5 s, reap 5 s) and a short lease (3 s / 1 s / 1 s).
# usage: bench/chaos.sh [JOBS] [WORKERS] [KILL_EVERY_SECS]
#        writes bench/RESULTS-chaos.md and prints it.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${1:-20000}
WORKERS=${2:-4}
KILL_EVERY=${3:-3}
OUT=bench/RESULTS-chaos.md

cargo build --release -q -p server --bin taskmill
PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
DIR=$(mktemp -d)
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$DIR" >/dev/null &
RPID=$!
trap 'kill $RPID 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 100); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.05; done

run() { # label db lease heartbeat reap
    echo "== $1: $JOBS jobs, $WORKERS workers, SIGKILL every ${KILL_EVERY}s, lease $3s / heartbeat $4s / reap $5s" >&2
    # A failed verification still prints its JSON report (exit 1): keep it for the table.
    target/release/taskmill --redis "redis://127.0.0.1:$PORT/$2" chaos --json \
        --jobs "$JOBS" --workers "$WORKERS" --kill-every "$KILL_EVERY" \
        --lease "$3" --heartbeat "$4" --reap-interval "$5" >"$DIR/$2.json" || true
}
run "default lease" 0 20 5 5
run "short lease" 1 3 1 1

python3 - "$DIR/0.json" "$DIR/1.json" "$OUT" <<'PYEOF'
import json, sys, platform, os, datetime
runs = [("default lease", json.load(open(sys.argv[1]))), ("short lease", json.load(open(sys.argv[2])))]
def f(v, fmt="{:.1f}"):
    return "n/a" if v is None else fmt.format(v)
lines = [
    "# Chaos results (`bench/chaos.sh`)",
    "",
    f"Measured {datetime.date.today()} on {os.cpu_count()} cores ({platform.machine()}), release build, "
    "one private redis-server. Each run: `taskmill chaos` enqueues the jobs "
    "(`taskmill.chaos_probe`, Retry(max=5)), keeps the worker processes alive, SIGKILLs a random "
    "one on a fixed period and starts a replacement until every job is done.",
    "",
    "| | " + " | ".join(label for label, _ in runs) + " |",
    "|---|" + "---:|" * len(runs),
]
rows = [
    ("lease / heartbeat / reap (s)", lambda r: f"{r['lease_secs']} / {r['heartbeat_secs']} / {r['reap_interval_secs']}"),
    ("jobs", lambda r: f"{r['jobs']:,}"),
    ("workers x slots", lambda r: f"{r['workers']} x {r['concurrency']}"),
    ("job length (ms)", lambda r: str(r["job_ms"])),
    ("SIGKILL every (s)", lambda r: f"{r['kill_every_secs']:g}"),
    ("wall time (s)", lambda r: f(r["elapsed_secs"])),
    ("kills", lambda r: str(r["kills"])),
    ("jobs in flight at a kill (sum)", lambda r: str(r["in_flight_at_kills"])),
    ("finished", lambda r: f"{r['finished']:,}"),
    ("failed", lambda r: str(r["failed"])),
    ("still started", lambda r: str(r["started"])),
    ("**lost**", lambda r: f"**{r['lost']}**"),
    ("executions", lambda r: f"{r['executions']:,}"),
    ("duplicate runs", lambda r: str(r["duplicate_executions"])),
    ("runs cut short by a kill", lambda r: str(r["aborted_executions"])),
    ("**unexplained duplicates**", lambda r: f"**{r['unexplained_duplicates']}**"),
    ("recovery after a kill, p50 (s)", lambda r: f(r["recovery_p50_secs"])),
    ("recovery after a kill, max (s)", lambda r: f(r["recovery_max_secs"])),
    ("verdict", lambda r: "OK" if r["ok"] else "FAILED: " + "; ".join(r["problems"])),
]
for label, get in rows:
    lines.append(f"| {label} | " + " | ".join(get(r) for _, r in runs) + " |")
lines += [
    "",
    "- *In flight at a kill*: the jobs the dead process held in Redis (`current_job` of its slot "
    "hashes, read right after the SIGKILL).",
    "- *Executions*: start lines the probe handler wrote (one `write(2)` per start, before the job "
    "sleeps), so a SIGKILL cannot hide a run. A duplicate is explained when the earlier run was in "
    "a process killed while holding that job.",
    "- *Recovery*: from the SIGKILL until every job the dead process held is no longer `started` "
    "by it (requeued by a reaper), polled every 100 ms. Bounded by lease + reap interval + one "
    "heartbeat's rounding.",
]
text = "\n".join(lines) + "\n"
open(sys.argv[3], "w").write(text)
print(text)
PYEOF
