#!/usr/bin/env bash
# Flower 2.2.0 against Taskmill on the same Redis in the same run: a private redis-server, a real
# `celery worker -E` (from .venv) runs TASKS no-op tasks (t.add) while both consoles listen to
# the events (both started before the tasks), then wrk (CONNS connections, DURATION each) on the
# dashboard / workers / tasks / task pages of each, and the resident memory (VmRSS) of both
# afterwards. Prints a table with the ratios; raw outputs stay in target/bench-flower/.
#
#   bench/flower.sh            (figures go to bench/RESULTS-celery.md by hand, with the load)
#
# Env: TASKS (20000), DURATION (10s), CONNS (16), THREADS (2), CONCURRENCY (8: the worker's
#      prefork pool), BIN (release taskmill; built if unset), PROFILE=debug (a quick look only).
# Sources: Flower and Celery from PyPI into .venv-flower (idempotent: skipped when present),
# wrk from Debian (installed if missing), the worker from .venv (scripts/setup.sh).
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$REPO"

TASKS=${TASKS:-20000}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-16}
THREADS=${THREADS:-2}
CONCURRENCY=${CONCURRENCY:-8}
TD=${CARGO_TARGET_DIR:-target}
OUT="$(realpath -m "$TD/bench-flower")"

if ! command -v wrk >/dev/null; then
    header "apt-get install wrk"
    as_root apt-get install -y -qq wrk >/dev/null || die "could not install wrk"
fi
[ -x .venv/bin/celery ] || die ".venv has no celery: run scripts/setup.sh"

header "Flower 2.2.0 venv (.venv-flower)"
FLOWER_VENV="$REPO/.venv-flower"
# Celery and its pins as the tests use them (tests/interop/requirements.txt), plus Flower.
if ! "$FLOWER_VENV/bin/python" -c 'import flower, celery, kombu.transport.redis; assert flower.__version__ == "2.2.0" and celery.__version__ == "5.7.0"' 2>/dev/null; then
    python3 -m venv "$FLOWER_VENV"
    "$FLOWER_VENV/bin/pip" install -q --disable-pip-version-check -r tests/interop/requirements.txt flower==2.2.0
fi
info "flower $("$FLOWER_VENV/bin/python" -c 'import flower; print(flower.__version__)')"

PROFILE=${PROFILE:-release}
header "build ($PROFILE)"
flag=$([ "$PROFILE" = release ] && echo --release || true)
[ -n "${BIN:-}" ] || cargo build -q $flag -p server --bin taskmill
BIN=${BIN:-$TD/$PROFILE/taskmill}
rm -rf "$OUT" && mkdir -p "$OUT"
WORK=$(mktemp -d)
on_exit "rm -rf '$WORK'"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

header "private redis-server"
RPORT=$(free_port)
redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" \
    --logfile "$WORK/redis.log" &
track_pid $!
wait_tcp 127.0.0.1 "$RPORT" 10 || die "redis-server did not start"
URL="redis://127.0.0.1:$RPORT/0"
export CELERY_BROKER_URL="$URL" PYTHONDONTWRITEBYTECODE=1

header "Flower and taskmill serve, listening before any task"
FPORT=$(free_port)
# The API (/api/tasks) is open only with FLOWER_UNAUTHENTICATED_API (no auth configured here).
(cd tests/interop && FLOWER_UNAUTHENTICATED_API=true exec "$FLOWER_VENV/bin/celery" -A celery_app \
    --broker="$URL" flower --port="$FPORT" --address=127.0.0.1 >"$OUT/flower.log" 2>&1) &
FPID=$!
track_pid $FPID
TPORT=$(free_port)
RUST_LOG=warn "$BIN" serve --redis "$URL" --celery-broker "$URL" --bind "127.0.0.1:$TPORT" \
    --site-root "$WORK" 2>"$OUT/taskmill.log" &
TPID=$!
track_pid $TPID
F="http://127.0.0.1:$FPORT"
T="http://127.0.0.1:$TPORT"
wait_http "$T/healthz" 60 || die "taskmill serve did not start (see $OUT/taskmill.log)"
wait_http "$F/healthcheck" 60 || die "flower did not start (see $OUT/flower.log)"

header "celery worker -E (prefork, $CONCURRENCY processes) and $TASKS tasks"
(cd tests/interop && exec "$REPO/.venv/bin/celery" -A celery_app worker -E --pool prefork \
    -c "$CONCURRENCY" -n bench@flower -Q celery --without-mingle --without-gossip \
    --loglevel WARNING >"$OUT/worker.log" 2>&1) &
track_pid $!
wait_http "$T/api/v1/celery/workers" 30
for _ in $(seq 1 300); do
    curl -fsS "$T/api/v1/celery/workers" | grep -q '"online":true' && break
    sleep 0.2
done
t0=$(date +%s.%N)
(cd tests/interop && "$REPO/.venv/bin/python" - "$TASKS" <<'EOF'
import sys
from celery_app import add
n = int(sys.argv[1])
with add.app.producer_or_acquire() as producer:
    for i in range(n):
        add.apply_async((i, 1), queue='celery', producer=producer, task_id=f'bench-{i}')
EOF
)
t_sent=$(date +%s.%N)
redis() { redis-cli -p "$RPORT" "$@"; }
for _ in $(seq 1 1200); do
    done_n=$(redis ZCARD taskmill:celery:state:SUCCESS)
    [ "$done_n" -ge "$TASKS" ] && break
    sleep 0.5
done
t_done=$(date +%s.%N)
[ "$done_n" -ge "$TASKS" ] || die "only $done_n of $TASKS tasks succeeded (see $OUT/worker.log)"
flower_seen=0
for _ in $(seq 1 120); do
    flower_seen=$(curl -fsS "$F/api/tasks?limit=$((TASKS + 10))&state=SUCCESS" |
        python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
    [ "$flower_seen" -ge "$TASKS" ] && break
    sleep 1
done
secs() { python3 -c 'import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 1))' "$1" "$2"; }
info "sent in $(secs "$t0" "$t_sent") s, all succeeded after $(secs "$t0" "$t_done") s; Flower saw $flower_seen, Taskmill recorded $done_n"
[ "$flower_seen" -ge "$TASKS" ] || die "Flower saw only $flower_seen tasks"
LOAD_AFTER_TASKS=$(cut -d' ' -f1-3 /proc/loadavg)

rss() { awk '/^VmRSS/ {print int($2 / 1024)}' "/proc/$1/status"; }
# The subshell exec'd Flower: $FPID is Flower's own process.
FLOWER_PY=$FPID
ID=bench-$((TASKS / 2))
PAGES=("dashboard|$F/|$T/celery"
       "workers|$F/workers|$T/celery/workers"
       "tasks|$F/tasks|$T/celery/tasks"
       "task|$F/task/$ID|$T/celery/tasks/$ID"
       "tasks_api|$F/api/tasks?limit=25|$T/api/v1/celery/tasks?limit=25")
measure() { # name url -> "rps p99"
    local code; code=$(curl -s -o /dev/null -w '%{http_code}' "$2")
    [ "$code" = 200 ] || die "$2 answered $code"
    wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$2" >"$OUT/$1.txt"
    printf '%s %s\n' "$(awk '/Requests\/sec/ {print $2}' "$OUT/$1.txt")" \
        "$(awk '$1=="99%" {print $2}' "$OUT/$1.txt")"
}
ms() { # wrk latency (us / ms / s) -> ms
    python3 -c 'import sys,re; v,u=re.match(r"([\d.]+)(\w+)",sys.argv[1]).groups(); print(round(float(v)*{"us":0.001,"ms":1,"s":1000,"m":60000}[u],2))' "$1"
}
header "wrk: $CONNS connections, $DURATION per page"
{
    printf '| page | Flower req/s | Taskmill req/s | Taskmill / Flower | Flower p99 | Taskmill p99 | Flower / Taskmill |\n'
    printf '|---|---|---|---|---|---|---|\n'
} | tee "$OUT/table.md"
for page in "${PAGES[@]}"; do
    IFS='|' read -r name furl turl <<<"$page"
    read -r frps fp99 <<<"$(measure "flower_$name" "$furl")"
    read -r trps tp99 <<<"$(measure "taskmill_$name" "$turl")"
    fms=$(ms "$fp99"); tms=$(ms "$tp99")
    python3 - "$name" "$frps" "$trps" "$fms" "$tms" <<'EOF' | tee -a "$OUT/table.md"
import sys
name, frps, trps, fms, tms = sys.argv[1], *map(float, sys.argv[2:])
print(f"| {name} | {frps:,.0f} | {trps:,.0f} | {trps / frps:.1f}x | {fms} ms | {tms} ms | {fms / tms:.1f}x |")
EOF
done
FRSS=$(rss "$FLOWER_PY"); TRSS=$(rss "$TPID")
printf '| RSS after the load | %s MB | %s MB | %sx less | | | |\n' "$FRSS" "$TRSS" \
    "$(python3 -c 'import sys; print(round(int(sys.argv[1]) / int(sys.argv[2]), 1))' "$FRSS" "$TRSS")" |
    tee -a "$OUT/table.md"
info "load average: before $LOAD_BEFORE; after the tasks $LOAD_AFTER_TASKS; after wrk $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
