#!/usr/bin/env bash
# Failure-group benchmark: 100,000 failures in 10 kinds across two queues on a private
# redis-server; index catch-up from empty, a steady pass, bytes of index per failure, then wrk
# (16 connections) on the groups page, the groups API and one group's page of `taskmill serve`
# (its background task keeps passing over the registries meanwhile, as in production).
#
#   bench/groups.sh          prints the figures; raw outputs stay in target/bench-groups/
#
# Env: FAILED (100000), DURATION (10s), CONNS (16), THREADS (2), BIN (release taskmill; built if unset)
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$REPO"

FAILED=${FAILED:-100000}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-16}
THREADS=${THREADS:-2}
TD=${CARGO_TARGET_DIR:-target}
OUT="$TD/bench-groups"
command -v wrk >/dev/null || die "wrk missing (apt-get install wrk)"

header "build (release)"
cargo build -q --release -p server --bin taskmill
cargo build -q --release -p engine --example seed_groups
BIN=${BIN:-$TD/release/taskmill}
SEED="$TD/release/examples/seed_groups"
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
track_pid $!
T="http://127.0.0.1:$TPORT"
wait_http "$T/healthz" 30 || die "taskmill serve did not start"
printf '| page | req/s | p50 | p99 |\n|---|---|---|---|\n' | tee "$OUT/table.md"
for page in "groups_page|$T/failed/groups" "groups_api|$T/api/v1/failed/groups" \
            "group_page|$T/failed/groups/$FP" "group_api|$T/api/v1/failed/groups/$FP?limit=25"; do
    name=${page%%|*}; url=${page#*|}
    code=$(curl -s -o /dev/null -w '%{http_code}' "$url")
    [ "$code" = 200 ] || die "$url answered $code"
    wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$url" >"$OUT/$name.txt"
    rps=$(awk '/Requests\/sec/ {print $2}' "$OUT/$name.txt")
    p50=$(awk '$1=="50%" {print $2}' "$OUT/$name.txt")
    p99=$(awk '$1=="99%" {print $2}' "$OUT/$name.txt")
    printf '| %s | %s | %s | %s |\n' "$name" "$rps" "$p50" "$p99" | tee -a "$OUT/table.md"
done
