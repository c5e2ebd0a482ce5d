#!/usr/bin/env bash
# Failure-group benchmark: 100,000 failures in 10 kinds across two queues on a private
# redis-server; index catch-up from empty, a steady pass, bytes of index per failure, then wrk
# (16 connections) on the groups page, the groups API and one group's page of `taskmill serve`
# (its background task keeps passing over the registries meanwhile, as in production), next to
# rq-dashboard 0.9.0's failed page (shell + JSON data request) on the same Redis in the same run;
# then exports of all 100,000 failures (CSV and JSON): time, rows, and taskmill's RSS meanwhile.
#
#   bench/groups.sh          prints the figures; raw outputs stay in target/bench-groups/
#
# Env: FAILED (100000), DURATION (10s), CONNS (16), THREADS (2), BIN (release taskmill; built if unset),
#      PROFILE=debug (a quick look only: unoptimised timings), SKIP_DASH=1 skips rq-dashboard (its venv, .venv-dash, is shared with bench/console.sh)
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$REPO"

FAILED=${FAILED:-100000}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-16}
THREADS=${THREADS:-2}
TD=${CARGO_TARGET_DIR:-target}
OUT="$TD/bench-groups"
command -v wrk >/dev/null || die "wrk missing (apt-get install wrk)"

PROFILE=${PROFILE:-release}
header "build ($PROFILE)"
flag=$([ "$PROFILE" = release ] && echo --release || true)
[ -n "${BIN:-}" ] || cargo build -q $flag -p server --bin taskmill
cargo build -q $flag -p engine --example seed_groups
BIN=${BIN:-$TD/$PROFILE/taskmill}
SEED="$TD/$PROFILE/examples/seed_groups"
rm -rf "$OUT" && mkdir -p "$OUT"
WORK=$(mktemp -d)
on_exit "rm -rf '$WORK'"

header "private redis-server + $FAILED failures"
RPORT=$(free_port)
redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" \
    --logfile "$WORK/redis.log" &
track_pid $!
wait_tcp 127.0.0.1 "$RPORT" 10 || die "redis-server did not start"
URL="redis://127.0.0.1:$RPORT/0"
info "$("$SEED" "$URL" seed "$FAILED")"

header "index: catch-up from empty, then a steady pass"
CATCH=$("$SEED" "$URL" catchup)
echo "$CATCH" >"$OUT/catchup.json"
info "$CATCH"
FP=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["first_fingerprint"])' "$CATCH")

header "taskmill serve + wrk ($CONNS connections, $DURATION)"
TPORT=$(free_port)
RUST_LOG=warn "$BIN" serve --redis "$URL" --bind "127.0.0.1:$TPORT" --site-root "$WORK" \
    2>"$OUT/taskmill.log" &
TPID=$!
track_pid $TPID
T="http://127.0.0.1:$TPORT"
wait_http "$T/healthz" 30 || die "taskmill serve did not start"
PAGES=("groups_page|$T/failed/groups" "groups_api|$T/api/v1/failed/groups"
       "group_page|$T/failed/groups/$FP" "group_api|$T/api/v1/failed/groups/$FP?limit=25"
       "failed_page|$T/failed")
if [ "${SKIP_DASH:-0}" != 1 ]; then
    DASH="$REPO/.venv-dash"
    if ! "$DASH/bin/python" -c 'import rq_dashboard, six, rq; assert rq.__version__ == "2.12.0"' 2>/dev/null; then
        python3 -m venv "$DASH"
        "$DASH/bin/pip" install -q rq-dashboard==0.9.0 six rq==2.12.0
    fi
    DPORT=$(free_port)
    # Flask's development server, as rq-dashboard's README starts it (see bench/console.sh).
    "$DASH/bin/rq-dashboard" --json -u "$URL" -b 127.0.0.1 -p "$DPORT" >"$OUT/rq-dashboard.log" 2>&1 &
    track_pid $!
    D="http://127.0.0.1:$DPORT"
    wait_http "$D/" 60 || die "rq-dashboard did not start (see $OUT/rq-dashboard.log)"
    PAGES+=("rq_failed_shell|$D/0/view/jobs/orders/failed/25/asc/1"
            "rq_failed_data|$D/0/data/jobs/orders/failed/25/asc/1.json")
fi
printf '| page | req/s | p50 | p99 |\n|---|---|---|---|\n' | tee "$OUT/table.md"
for page in "${PAGES[@]}"; do
    name=${page%%|*}; url=${page#*|}
    code=$(curl -s -o /dev/null -w '%{http_code}' "$url")
    [ "$code" = 200 ] || die "$url answered $code"
    wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$url" >"$OUT/$name.txt"
    rps=$(awk '/Requests\/sec/ {print $2}' "$OUT/$name.txt")
    p50=$(awk '$1=="50%" {print $2}' "$OUT/$name.txt")
    p99=$(awk '$1=="99%" {print $2}' "$OUT/$name.txt")
    printf '| %s | %s | %s | %s |\n' "$name" "$rps" "$p50" "$p99" | tee -a "$OUT/table.md"
done

header "export all $FAILED failures (taskmill serve's RSS sampled every 50 ms)"
rss() { awk '/^VmRSS/ {print $2}' "/proc/$TPID/status"; }
printf '| export | rows | seconds | bytes | RSS before | peak RSS during |\n|---|---|---|---|---|---|\n' \
    | tee "$OUT/export.md"
for fmt in csv json; do
    before=$(rss)
    ( peak=0; while kill -0 "$TPID" 2>/dev/null && [ ! -f "$OUT/export.$fmt.done" ]; do
        r=$(rss); [ "$r" -gt "$peak" ] && peak=$r; echo "$peak" >"$OUT/export.$fmt.peak"; sleep 0.05
      done ) &
    sampler=$!
    t=$(curl -s -o "$OUT/export.$fmt" -w '%{time_total}' "$T/api/v1/export/failed?format=$fmt")
    touch "$OUT/export.$fmt.done"; wait "$sampler"
    if [ "$fmt" = csv ]; then rows=$(($(wc -l <"$OUT/export.csv") - 1)); else
        rows=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$OUT/export.json"); fi
    [ "$rows" = "$FAILED" ] || die "export $fmt has $rows rows, expected $FAILED"
    printf '| %s | %s | %s | %s | %s MB | %s MB |\n' "$fmt" "$rows" "$t" "$(wc -c <"$OUT/export.$fmt")" \
        "$((before / 1024))" "$(($(cat "$OUT/export.$fmt.peak") / 1024))" | tee -a "$OUT/export.md"
done
