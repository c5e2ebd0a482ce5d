#!/usr/bin/env bash
# Search benchmark: 100,000 jobs (two queues, a third failed) on a private redis-server, one of
# them alone carrying a needle in its args; for a few queries, the first page's latency and the
# whole search followed cursor by cursor (engine, release build), then the first page over HTTP
# (`taskmill serve`, curl, median of 5).
#
#   bench/search.sh          prints the figures; raw outputs stay in target/bench-search/
#
# Env: JOBS (100000), PROFILE (release; `debug` for a quick, much slower look),
#      BIN (the taskmill binary of that profile; built if unset)
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$REPO"

JOBS=${JOBS:-100000}
TD=${CARGO_TARGET_DIR:-target}
OUT="$TD/bench-search"

PROFILE=${PROFILE:-release}
flags=(); [ "$PROFILE" = release ] && flags=(--release)
header "build ($PROFILE)"
cargo build -q "${flags[@]}" -p engine --example seed_search
[ -n "${BIN:-}" ] || cargo build -q "${flags[@]}" -p server --bin taskmill
BIN=${BIN:-$TD/$PROFILE/taskmill}
SEED="$TD/$PROFILE/examples/seed_search"
rm -rf "$OUT" && mkdir -p "$OUT"
WORK=$(mktemp -d)
on_exit "rm -rf '$WORK'"

header "private redis-server + $JOBS jobs"
RPORT=$(free_port)
redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" \
    --logfile "$WORK/redis.log" &
track_pid $!
wait_tcp 127.0.0.1 "$RPORT" 10 || die "redis-server did not start"
URL="redis://127.0.0.1:$RPORT/0"
info "$("$SEED" "$URL" seed "$JOBS")"

QUERIES=("zebra-ostrich-7" "queue:mail zebra-ostrich-7" "status:failed declined"
         "status:queued func:mail.send" "\"gift wrap\" customer-99999")
header "engine: first page and the whole search"
"$SEED" "$URL" measure "${QUERIES[@]}" | tee "$OUT/engine.jsonl"

header "HTTP: first page of GET /api/v1/search (median of 5)"
TPORT=$(free_port)
RUST_LOG=warn "$BIN" serve --redis "$URL" --bind "127.0.0.1:$TPORT" --site-root "$WORK" \
    2>"$OUT/taskmill.log" &
track_pid $!
T="http://127.0.0.1:$TPORT"
wait_http "$T/healthz" 30 || die "taskmill serve did not start"
for q in "${QUERIES[@]}"; do
    enc=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$q")
    times=()
    for _ in 1 2 3 4 5; do
        times+=("$(curl -s -o /dev/null -w '%{time_total}' "$T/api/v1/search?q=$enc")")
    done
    med=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)
    printf '%-32s first page over HTTP: %s ms\n' "$q" "$(awk -v s="$med" 'BEGIN {printf "%.1f", s*1000}')" \
        | tee -a "$OUT/http.txt"
done
