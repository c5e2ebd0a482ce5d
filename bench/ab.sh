#!/usr/bin/env bash
# Paired A/B of two Taskmill builds on ONE private redis-server, in one run: the console pages
# (wrk, the two servers measured in alternating order, ROUNDS times each) and the engine
# benchmark example of each build (alternating too). For refactors that must not change speed.
#
#   bench/ab.sh BASE_DIR NEW_DIR      each DIR holds taskmill, bench, seed (release builds) + site/
#
# Env: QUEUED (200000), FAILED (20000), DURATION (5s), CONNS (16), ROUNDS (3), JOBS (20000),
#      CONC (64). Prints a markdown table: median req/s and p99 per page for each build, and the
#      engine's processing rate and Redis commands per job.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$REPO"

[ $# -eq 2 ] || die "usage: bench/ab.sh BASE_DIR NEW_DIR"
A=$1 B=$2
for d in "$A" "$B"; do
    for f in taskmill bench seed site/pkg/taskmill.wasm; do
        [ -e "$d/$f" ] || die "$d/$f missing"
    done
done
QUEUED=${QUEUED:-200000}
FAILED=${FAILED:-20000}
DURATION=${DURATION:-5s}
CONNS=${CONNS:-16}
ROUNDS=${ROUNDS:-3}
JOBS=${JOBS:-20000}
CONC=${CONC:-64}
command -v wrk >/dev/null || die "wrk missing (apt-get install wrk)"
OUT="$REPO/target/bench-ab"
rm -rf "$OUT" && mkdir -p "$OUT"
WORK=$(mktemp -d)
on_exit "rm -rf '$WORK'"

start_redis() { # sets RURL to a fresh private redis-server (not in a subshell: track_pid)
    local port
    port=$(free_port)
    mkdir -p "$WORK/r$port"
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK/r$port" \
        --logfile "$WORK/r$port/redis.log" >/dev/null &
    track_pid $!
    wait_tcp 127.0.0.1 "$port" 10 || die "redis-server did not start"
    RURL="redis://127.0.0.1:$port/0"
}

header "console: one Redis ($QUEUED queued, $FAILED failed), both servers on it"
start_redis
URL=$RURL
SEED=$("$B/seed" "$URL" "$QUEUED" "$FAILED")
FJOB=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["failed_job"])' "$SEED")
serve() { # dir -> sets SPORT
    SPORT=$(free_port)
    RUST_LOG=warn "$1/taskmill" serve --redis "$URL" --bind "127.0.0.1:$SPORT" \
        --site-root "$1/site" >/dev/null 2>>"$OUT/serve.log" &
    track_pid $!
    wait_http "http://127.0.0.1:$SPORT/healthz" 30 || die "$1/taskmill serve did not start"
}
serve "$A"
PA=$SPORT
serve "$B"
PB=$SPORT
PAGES=(
    "overview|/"
    "queue_p1|/queues/big?list=queued&page=1&size=25"
    "failed|/failed"
    "failed_deep|/failed?page=300&size=25"
    "job|/jobs/$FJOB"
    "metrics|/metrics"
    "api_overview|/api/v1/overview"
)
for p in "${PAGES[@]}"; do
    name=${p%%|*} path=${p#*|}
    for r in $(seq "$ROUNDS"); do
        # Alternate who goes first, so drift in machine load hits both builds alike.
        if [ $((r % 2)) = 1 ]; then order="a b"; else order="b a"; fi
        for who in $order; do
            port=$PA
            [ "$who" = b ] && port=$PB
            wrk -t2 -c"$CONNS" -d"$DURATION" --latency "http://127.0.0.1:$port$path" \
                >"$OUT/${name}_${who}_$r.txt" 2>&1
        done
    done
done

header "engine: the bench example of each build, alternating, each on a fresh Redis"
for r in $(seq "$ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then order="a b"; else order="b a"; fi
    for who in $order; do
        dir=$A
        [ "$who" = b ] && dir=$B
        start_redis
        "$dir/bench" "$RURL" "$JOBS" "$CONC" "$dir/taskmill" >"$OUT/engine_${who}_$r.json"
    done
done

echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ); load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores"
echo "- a = $A, b = $B; $ROUNDS rounds each, alternating order; wrk -t2 -c$CONNS -d$DURATION"
echo
python3 - "$OUT" "$ROUNDS" "${PAGES[@]}" <<'PYEOF'
import json, re, statistics, sys
out, rounds, pages = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def wrk(path):
    t = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    m = re.search(r"99%\s+([\d.]+)(us|ms|s)", t)
    p99 = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
    return rps, p99
print("| page | a req/s | b req/s | b/a | a p99 ms | b p99 ms |")
print("|---|---:|---:|---:|---:|---:|")
for p in pages:
    name = p.split("|")[0]
    a = [wrk(f"{out}/{name}_a_{r}.txt") for r in range(1, rounds + 1)]
    b = [wrk(f"{out}/{name}_b_{r}.txt") for r in range(1, rounds + 1)]
    ar, br = statistics.median(x[0] for x in a), statistics.median(x[0] for x in b)
    ap, bp = statistics.median(x[1] for x in a), statistics.median(x[1] for x in b)
    print(f"| {name} | {ar:,.0f} | {br:,.0f} | {br / ar:.2f} | {ap:.1f} | {bp:.1f} |")
print()
keys = ["process_per_s", "cmds_per_job", "cpu_us_per_job", "worker_cpu_us_per_job", "enqueue_batch_per_s"]
print("| engine | a | b | b/a |")
print("|---|---:|---:|---:|")
runs = {w: [json.load(open(f"{out}/engine_{w}_{r}.json")) for r in range(1, rounds + 1)] for w in "ab"}
for k in keys:
    if k not in runs["a"][0]:
        continue
    a = statistics.median(x[k] for x in runs["a"])
    b = statistics.median(x[k] for x in runs["b"])
    print(f"| {k} (median) | {a:,.1f} | {b:,.1f} | {b / a:.2f} |")
PYEOF
