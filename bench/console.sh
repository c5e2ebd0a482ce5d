#!/usr/bin/env bash
# Console benchmark: `taskmill serve` vs rq-dashboard 0.9.0 on the same private redis-server, in one
# run, with 1,000,000 queued and 100,000 failed jobs.
#
#   bench/console.sh            prints a markdown table; raw wrk outputs stay in target/bench-console/
#
# Env: BIN (a release taskmill to use as is), QUEUED (1000000), FAILED (100000), DURATION (10s), CONNS (16), THREADS (2),
#      QUIET_WAIT (seconds to wait for the 1-min loadavg to drop below QUIET_LOAD=1.5 before
#      each wrk run; default 0 = don't wait), SKIP_RQ_REQUEUE=1 skips rq-dashboard's requeue-all.
#
# What is compared (rq-dashboard's routes read from rq_dashboard/web.py): Taskmill pages are
# server-rendered with their data; an rq-dashboard page is an HTML shell plus a JSON data request
# made by its JavaScript. Both rq-dashboard requests are measured; the ratio is taken against
# the data request (the one that reads Redis), and the shell is listed too.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$REPO"

QUEUED=${QUEUED:-1000000}
FAILED=${FAILED:-100000}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-16}
THREADS=${THREADS:-2}
QUIET_WAIT=${QUIET_WAIT:-0}
QUIET_LOAD=${QUIET_LOAD:-1.5}
OUT="$REPO/target/bench-console"
command -v wrk >/dev/null || die "wrk missing (apt-get install wrk)"
command -v redis-server >/dev/null || die "redis-server missing"

header "rq-dashboard 0.9.0 venv (.venv-dash)"
DASH="$REPO/.venv-dash"
if ! "$DASH/bin/python" -c 'import rq_dashboard, six, rq; assert rq.__version__ == "2.12.0"' 2>/dev/null; then
    python3 -m venv "$DASH"
    "$DASH/bin/pip" install -q rq-dashboard==0.9.0 six rq==2.12.0
fi
info "$("$DASH/bin/pip" list 2>/dev/null | grep -Ei '^(rq|rq-dashboard|flask|werkzeug|redis) ' | tr -s ' ' | paste -sd, -)"

header "build (release)"
export LEPTOS_OUTPUT_NAME=taskmill
# BIN=path: use that release binary (built by build-site.sh from the same tree) as it is.
if [ ! -f target/site/pkg/taskmill.wasm ]; then scripts/build-site.sh; elif [ -z "${BIN:-}" ]; then
    cargo build -q --release -p server --bin taskmill; fi
cargo build -q --release -p engine --example seed
# Private copies: other engineers rebuild target/ (and rm -rf target/site) while this runs.
rm -rf "$OUT" && mkdir -p "$OUT/wrk"
WORK=$(mktemp -d)
on_exit "rm -rf '$WORK'"
cp "${BIN:-target/release/taskmill}" "$WORK/taskmill"
cp target/release/examples/seed "$WORK/"
cp -R target/site "$WORK/site"
BIN="$WORK/taskmill"

header "private redis-server + seed ($QUEUED queued, $FAILED failed)"
RPORT=$(free_port)
redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" \
    --logfile "$WORK/redis.log" &
track_pid $!
wait_tcp 127.0.0.1 "$RPORT" 10 || die "redis-server did not start"
URL="redis://127.0.0.1:$RPORT/0"
SEED=$("$WORK/seed" "$URL" "$QUEUED" "$FAILED")
echo "$SEED" >"$OUT/seed.json"
info "$SEED"
jf() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$SEED" "$1"; }
QJOB=$(jf queued_job)
FJOB=$(jf failed_job)
rcli() { redis-cli -p "$RPORT" "$@"; }
info "redis used_memory: $(rcli info memory | grep -m1 used_memory_human | tr -d '\r')"

header "start taskmill serve and rq-dashboard (--json)"
TPORT=$(free_port)
RUST_LOG=warn "$BIN" serve --redis "$URL" --bind "127.0.0.1:$TPORT" --site-root "$WORK/site" \
    2>"$OUT/taskmill.log" &
TPID=$!
track_pid $TPID
DPORT=$(free_port)
# rq-dashboard's CLI runs Flask's app.run(): werkzeug's development server, one process,
# a thread per request (Flask's default threaded=True). That is how its README starts it.
"$DASH/bin/rq-dashboard" --json -u "$URL" -b 127.0.0.1 -p "$DPORT" >"$OUT/rq-dashboard.log" 2>&1 &
DPID=$!
track_pid $DPID
T="http://127.0.0.1:$TPORT"
D="http://127.0.0.1:$DPORT"
wait_http "$T/healthz" 30 || die "taskmill serve did not start (see $OUT/taskmill.log)"
wait_http "$D/" 60 || die "rq-dashboard did not start (see $OUT/rq-dashboard.log)"

# name|url — every url must answer 200 before it is benchmarked.
PAGES=(
    "tm_overview|$T/"
    "rq_overview_shell|$D/"
    "rq_overview_data|$D/0/data/queues.json"
    "tm_queue_p1|$T/queues/big?list=queued&page=1&size=25"
    "rq_queue_p1_shell|$D/0/view/jobs/big/queued/25/asc/1"
    "rq_queue_p1_data|$D/0/data/jobs/big/queued/25/asc/1.json"
    "tm_queue_deep|$T/queues/big?list=queued&page=20000&size=25"
    "tm_failed|$T/failed"
    "tm_failed_walk|$T/failed"
    "tm_failed_deep|$T/failed?page=3000&size=25"
    "rq_failed_shell|$D/0/view/jobs/failing/failed/25/asc/1"
    "rq_failed_data|$D/0/data/jobs/failing/failed/25/asc/1.json"
    "tm_job|$T/jobs/$FJOB"
    "rq_job_shell|$D/0/view/job/$FJOB"
    "rq_job_data|$D/0/data/job/$FJOB.json"
    "tm_metrics|$T/metrics"
)
for p in "${PAGES[@]}"; do
    url=${p#*|}
    code=$(curl -s -o "$OUT/wrk/${p%%|*}.body" -w '%{http_code}' --max-time 60 "$url")
    [ "$code" = 200 ] || die "$url answered $code"
done
grep -q "$QJOB" "$OUT/wrk/tm_queue_p1.body" || die "taskmill queue page 1 lacks the first job $QJOB"
grep -q "$QJOB" "$OUT/wrk/rq_queue_p1_data.body" || die "rq-dashboard queue data lacks $QJOB"
grep -q "upstream timeout" "$OUT/wrk/tm_job.body" || die "taskmill job page lacks the exc_string"
grep -q "upstream timeout" "$OUT/wrk/rq_job_data.body" || die "rq-dashboard job data lacks exc_info"

# rq-dashboard 0.9.0 passes a page's *end index* to rq's Queue.get_job_ids(offset, length), so
# queue page N fetches N*25 jobs (page 20000 = 500,000 HGETALLs). wrk cannot measure that; one
# request is timed instead, after the wrk runs.
RQ_DEEP="$D/0/data/jobs/big/queued/25/asc/20000.json"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
quiet() {
    local deadline=$((SECONDS + QUIET_WAIT))
    while [ "$SECONDS" -lt "$deadline" ] &&
        awk -v m="$QUIET_LOAD" '{exit !($1 >= m)}' /proc/loadavg; do sleep 5; done
}
header "wrk -t$THREADS -c$CONNS -d$DURATION --latency (wrk and the servers share this machine's $(nproc) cores)"
for p in "${PAGES[@]}"; do
    name=${p%%|*} url=${p#*|}
    pid=$([ "${name:0:2}" = tm ] && echo $TPID || echo $DPID)
    quiet
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    c0=$(cpu_ticks "$pid")
    # *_walk: a different failed page on every request (bench/wrk-walk.lua), so the console's
    # decode memos (about 2,000 rows) see mostly rows they have not decoded yet.
    walk=()
    [ "${name%_walk}" = "$name" ] || walk=(-s "$REPO/bench/wrk-walk.lua")
    WALK_PATH=/failed WALK_PAGES=$(((FAILED + 1000) / 25)) wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" \
        --latency --timeout 10s ${walk[@]+"${walk[@]}"} "$url" >"$OUT/wrk/$name.txt"
    c1=$(cpu_ticks "$pid")
    echo "loadavg_before: $load" >>"$OUT/wrk/$name.txt"
    echo "server_cpu_ticks: $((c1 - c0))" >>"$OUT/wrk/$name.txt"
    info "$name: $(grep Requests/sec "$OUT/wrk/$name.txt") (load $load)"
done
mem() { grep -E '^(VmRSS|VmHWM)' "/proc/$1/status" | awk '{printf "%s %s kB  ", $1, $2}'; }
TM_MEM_PAGES=$(mem $TPID)
info "taskmill after pages: $TM_MEM_PAGES"

DASH_MEM_PAGES=$(mem $DPID)
header "rq-dashboard queue page 20000, one request (timeout 600 s)"
rq_deep=$(curl -s -o "$OUT/rq_queue_deep_data.body" -w '%{time_total} %{http_code} %{size_download}' \
    --max-time 600 "$RQ_DEEP" || echo "timeout")
DASH_MEM_DEEP=$(mem $DPID)
info "rq-dashboard deep page: $rq_deep (seconds, status, bytes); memory after: $DASH_MEM_DEEP"

header "requeue $FAILED failed jobs"
# No Origin header: a script request, which security.rs lets through.
tm_rq=$(curl -s -o "$OUT/tm_requeue.json" -w '%{time_total}' --max-time 600 -X POST \
    "$T/api/v1/queues/failing/requeue-failed")
info "taskmill: $tm_rq s $(cat "$OUT/tm_requeue.json") failed left: $(rcli zcard rq:failed:failing)"
TM_MEM_REQUEUE=$(mem $TPID)
info "taskmill after requeue: $TM_MEM_REQUEUE"
rq_rq=skipped
if [ -z "${SKIP_RQ_REQUEUE:-}" ]; then
    # Fail them again (same jobs, real worker failures) so rq-dashboard gets the same registry.
    # The seed example's in-process burst pool (the engine code `taskmill worker` runs).
    "$WORK/seed" "$URL" drain failing >/dev/null
    info "re-failed: $(rcli zcard rq:failed:failing) in rq:failed:failing"
    rq_rq=$(curl -s -o "$OUT/rq_requeue.json" -w '%{time_total}' --max-time 1800 -X POST \
        "$D/requeue/failing")
    info "rq-dashboard: $rq_rq s $(cat "$OUT/rq_requeue.json") failed left: $(rcli zcard rq:failed:failing)"
fi
DASH_MEM=$(mem $DPID)

python3 - "$OUT" "$tm_rq" "$rq_rq" "$TM_MEM_PAGES" "$TM_MEM_REQUEUE" "$DASH_MEM_PAGES" "$(nproc)" \
    "$rq_deep" "$DASH_MEM_DEEP" "$DASH_MEM" <<'PYEOF' | tee "$OUT/table.md"
import json, os, re, sys
out, tm_rq, rq_rq, mem_pages, mem_rq, dash_mem, cores, rq_deep, dash_deep, dash_end = sys.argv[1:11]
hz = os.sysconf("SC_CLK_TCK")

def parse(name):
    path = f"{out}/wrk/{name}.txt"
    if not os.path.exists(path):
        return None
    t = open(path).read()
    def lat(p):
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\b", t, re.M)
        if not m:
            return float("nan")
        return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    reqs = int(re.search(r"(\d+) requests in", t).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
    errs = re.search(r"Socket errors: (.*)", t)
    ticks = int(re.search(r"server_cpu_ticks: (\d+)", t).group(1))
    load = re.search(r"loadavg_before: (.*)", t).group(1)
    return dict(rps=rps, p50=lat(50), p99=lat(99), bad=int(bad.group(1)) if bad else 0,
                errs=errs.group(1) if errs else "", cpu_us=ticks / hz * 1e6 / max(reqs, 1), load=load)

rows = [
    ("overview", "tm_overview", "rq_overview_data", "rq_overview_shell"),
    ("queue page 1 (1M queued)", "tm_queue_p1", "rq_queue_p1_data", "rq_queue_p1_shell"),
    ("queue page 20000", "tm_queue_deep", None, None),
    ("failed page (100k failed)", "tm_failed", "rq_failed_data", "rq_failed_shell"),
    ("failed page, a new page each request", "tm_failed_walk", "rq_failed_data", None),
    ("failed page 3000 (two failing queues merged)", "tm_failed_deep", None, None),
    ("job page (failed job)", "tm_job", "rq_job_data", "rq_job_shell"),
    ("/metrics", "tm_metrics", None, None),
]
def cell(r):
    return f"{r['rps']:,.0f} | {r['p50']:.2f} | {r['p99']:.2f}" if r else "n/a | | "
print("| page | Taskmill req/s | p50 ms | p99 ms | rq-dashboard data req/s | p50 ms | p99 ms "
      "| ratio | rq-dashboard shell req/s | ratio vs shell |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
notes = []
for label, tm, rq, shell in rows:
    a, b = parse(tm), parse(rq) if rq else None
    s = parse(shell) if shell else None
    ratio = f"{a['rps'] / b['rps']:,.1f}x" if a and b else "n/a"
    sratio = f"{a['rps'] / s['rps']:,.1f}x" if a and s else "n/a"
    print(f"| {label} | {cell(a)} | {cell(b)} | {ratio} | {s['rps']:,.0f} | {sratio} |" if s
          else f"| {label} | {cell(a)} | {cell(b)} | {ratio} | n/a | n/a |")
    for n, r in ((tm, a), (rq, b), (shell, s)):
        if r and not any(line.startswith(f"| {n} |") for line in notes):
            notes.append(f"| {n} | {r['load']} | {r['cpu_us']:,.0f} | {r['bad']} | {r['errs'] or '-'} |")
print()
print("| run | loadavg before (1/5/15 min) | server CPU µs/request | non-2xx | socket errors |")
print("|---|---|---:|---:|---|")
print("\n".join(notes))
print()
ratio = f"{float(rq_rq) / float(tm_rq):,.0f}x" if rq_rq not in ("", "skipped") else "n/a"
print(f"| requeue all failed | Taskmill {float(tm_rq):.3f} s | rq-dashboard {rq_rq} s | {ratio} |")
print("|---|---|---|---|")
print()
print(f"Taskmill memory after the page runs: {mem_pages}; after the requeue: {mem_rq}")
print(f"rq-dashboard queue page 20000 (one request; seconds, status, bytes): {rq_deep}")
print(f"rq-dashboard memory after the page runs: {dash_mem}; after the deep page: {dash_deep}; "
      f"at the end: {dash_end}")
print(f"Machine: {cores} cores shared by wrk, both servers, redis-server and other builds.")
PYEOF
