#!/usr/bin/env bash
# Browser end-to-end tests of the console (end2end/e2e.mjs, end2end/celery.mjs) against a real
# stack: a private redis-server, `taskmill serve` on a free port (with --celery-broker on DB 1 of
# the same redis-server), one `taskmill worker`, one real Celery worker from .venv (the demo's
# tasks module, server/src/demo_celery.py), and seeded jobs and tasks.
#
#   scripts/e2e.sh [TEST_NAME_SUBSTRING...]
#
# Needs scripts/build-site.sh first (target/site and the binary). TASKMILL_BIN defaults to
# target/release/taskmill. Screenshots: target/e2e-screenshots/. Logs: target/e2e-logs/.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO"

BIN="${TASKMILL_BIN:-$REPO/target/release/taskmill}"
[ -x "$BIN" ] || die "$BIN missing (run scripts/build-site.sh)"
[ -f target/site/pkg/taskmill.wasm ] || die "target/site is not built (run scripts/build-site.sh)"
[ -x /usr/bin/chromium ] || [ -n "${CHROMIUM:-}" ] || die "/usr/bin/chromium missing (run scripts/setup.sh)"
"$TASKMILL_PYTHON" -c 'import celery' 2>/dev/null || die "no celery in $TASKMILL_PYTHON (run scripts/setup.sh)"

LOGS="$REPO/target/e2e-logs"
SHOTS="$REPO/target/e2e-screenshots"
rm -rf "$LOGS" "$SHOTS"
mkdir -p "$LOGS" "$SHOTS"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/taskmill-e2e.XXXXXX")"
on_exit "rm -rf '$WORK'"

start_private_redis
export REDIS_URL="$REDIS_URL_BASE/0"
PORT="$(free_port)"
BASE_URL="http://127.0.0.1:$PORT"
QUEUE=e2e          # served by the worker
HOLD=e2e-hold      # no worker: jobs stay queued

# A flaky exec handler: fails the first time per marker file, succeeds after a requeue.
cat >"$WORK/handlers.toml" <<EOF
[handlers."e2e.flaky"]
command = ["python3", "$REPO/tests/interop/flaky_exec.py"]
EOF

CELERY_BROKER="$REDIS_URL_BASE/1"

tm() { "$BIN" "$@" --redis "$REDIS_URL"; }
celery_send() { # name json-args [queue] → task id
    (cd "$WORK" && TASKMILL_DEMO_CELERY_BROKER="$CELERY_BROKER" "$TASKMILL_PYTHON" taskmill_demo_celery.py send "$@")
}

"$BIN" serve --site-root target/site --bind "127.0.0.1:$PORT" --redis "$REDIS_URL" \
    --celery-broker "$CELERY_BROKER" --celery-timeout-ms 5000 >"$LOGS/serve.log" 2>&1 &
track_pid $!
# (A generous pidbox deadline: on a loaded CI machine the Python worker can take over a second to
# answer.) The Celery worker in a session (process group) of its own, so its prefork pool processes are
# stopped with it: SIGTERM to the group, SIGKILL to whatever is left after 5 s.
cp "$REPO/server/src/demo_celery.py" "$WORK/taskmill_demo_celery.py"
(cd "$WORK" && TASKMILL_DEMO_CELERY_BROKER="$CELERY_BROKER" exec setsid "$TASKMILL_PYTHON" -m celery \
    -A taskmill_demo_celery worker -E --concurrency 2 --queues celery,images --hostname 'e2e@%h' \
    --without-gossip --without-mingle --loglevel INFO >"$LOGS/celery-worker.log" 2>&1) &
CELERY_PID=$!
on_exit "kill -TERM -- -$CELERY_PID 2>/dev/null; for _ in \$(seq 50); do kill -0 -- -$CELERY_PID 2>/dev/null || break; sleep 0.1; done; kill -KILL -- -$CELERY_PID 2>/dev/null"
"$BIN" worker --queues "$QUEUE" --concurrency 3 --handlers "$WORK/handlers.toml" --redis "$REDIS_URL" \
    >"$LOGS/worker.log" 2>&1 &
track_pid $!
wait_http "$BASE_URL/healthz" 30 || { tail -50 "$LOGS/serve.log"; die "taskmill serve did not answer on $BASE_URL"; }
info "console on $BASE_URL, redis on $REDIS_URL"

# --- seed ----------------------------------------------------------------------------------
finished=$(tm enqueue --queue "$QUEUE" taskmill.echo --args '["hello", 42]' --kwargs '{"k": "v"}')
failed_js=$(tm enqueue --queue "$QUEUE" e2e.flaky --args "[\"$WORK/marker-js\"]")
failed_nojs=$(tm enqueue --queue "$QUEUE" e2e.flaky --args "[\"$WORK/marker-nojs\"]")
queued=$(tm enqueue --queue "$HOLD" taskmill.echo --args '["cancel me"]')
# Hostile strings everywhere a job carries text. Each would log "xss-fired" or set window.__xss
# if the page ever treated it as markup.
MARK='xss-probe'
IMG="<img src=x onerror=\"window.__xss=1;console.log('xss-fired')\">$MARK"
SCRIPT="<script>window.__xss=2;console.log('xss-fired');alert('xss')</script>$MARK"
SVG="<svg onload=\"window.__xss=3;console.log('xss-fired')\"></svg>$MARK"
body=$(python3 -c 'import json,sys; a=sys.argv; print(json.dumps({"func": "taskmill.echo",
    "args": [a[1], a[2]], "kwargs": {"k": a[3]}, "description": a[2] + a[3], "meta": {"note": a[1], "html": a[3]}}))' \
    "$IMG" "$SCRIPT" "$SVG")
xss=$(curl -fsS -X POST -H 'Content-Type: application/json' --data "$body" \
    "$BASE_URL/api/v1/queues/$HOLD/enqueue" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

status_of() { tm job "$1" --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("summary", d)["status"])'; }
wait_status() { # id status seconds
    local deadline=$((SECONDS + $3)) s
    until s=$(status_of "$1") && [ "$s" = "$2" ]; do
        [ "$SECONDS" -lt "$deadline" ] || { tail -30 "$LOGS/worker.log"; die "job $1 is '$s', expected '$2'"; }
        sleep 0.2
    done
}
wait_status "$finished" finished 30
wait_status "$failed_js" failed 30
wait_status "$failed_nojs" failed 30
# Two failure groups of two jobs each (a call site and message per word), requeued from their
# group page with and without JavaScript; a job scheduled an hour out, for run-now.
group_js=() group_nojs=()
for i in 1 2; do
    group_js+=("$(tm enqueue --queue "$QUEUE" e2e.flaky --args "[\"$WORK/marker-gjs-$i\", \"groupalpha\"]")")
    group_nojs+=("$(tm enqueue --queue "$QUEUE" e2e.flaky --args "[\"$WORK/marker-gnojs-$i\", \"groupbravo\"]")")
done
for id in "${group_js[@]}" "${group_nojs[@]}"; do wait_status "$id" failed 30; done
scheduled=$(tm enqueue --queue "$QUEUE" taskmill.echo --args '["run me now"]' --in 3600)

# Celery: wait for the worker's heartbeat to reach the console, then a task that succeeds, one
# that fails, a chain, and a message on a queue nobody consumes.
celery_host=
deadline=$((SECONDS + 60))
until celery_host=$(curl -fsS "$BASE_URL/api/v1/celery/workers" | python3 -c 'import json,sys
w=[w["hostname"] for w in json.load(sys.stdin) if w["online"] and w["hostname"].startswith("e2e@")]
print(w[0]) if w else sys.exit(1)' 2>/dev/null); do
    [ "$SECONDS" -lt "$deadline" ] || { tail -30 "$LOGS/celery-worker.log"; die "the Celery worker did not come online"; }
    sleep 0.5
done
celery_ok=$(celery_send demo.add '[2, 3]')
celery_failed=$(celery_send demo.charge_card '[12.5]')
celery_parked=$(celery_send demo.thumbnail '["parked.png"]' archive)
celery_task_state() {
    curl -fsS "$BASE_URL/api/v1/celery/tasks/$1" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])'
}
wait_celery_state() { # id state seconds
    local deadline=$((SECONDS + $3))
    until [ "$(celery_task_state "$1")" = "$2" ]; do
        [ "$SECONDS" -lt "$deadline" ] || { tail -30 "$LOGS/celery-worker.log"; die "Celery task $1 is not $2"; }
        sleep 0.3
    done
}
wait_celery_state "$celery_ok" SUCCESS 30
wait_celery_state "$celery_failed" FAILURE 30

cat >"$WORK/seed.json" <<EOF
{"queue": "$QUEUE", "holdQueue": "$HOLD", "finished": "$finished", "failedJs": "$failed_js",
 "failedNoJs": "$failed_nojs", "queued": "$queued", "xss": "$xss", "xssMarker": "$MARK",
 "groupJs": ["${group_js[0]}", "${group_js[1]}"], "groupNoJs": ["${group_nojs[0]}", "${group_nojs[1]}"],
 "groupJsWord": "groupalpha", "groupNoJsWord": "groupbravo", "scheduled": "$scheduled", "work": "$WORK",
 "celeryWorker": "$celery_host", "celeryOk": "$celery_ok", "celeryFailed": "$celery_failed",
 "celeryParked": "$celery_parked", "celeryParkedQueue": "archive", "celeryBroker": "$CELERY_BROKER",
 "celeryModuleDir": "$WORK"}
EOF
info "seeded: $(tr -d '\n' <"$WORK/seed.json")"

# --- run -----------------------------------------------------------------------------------
# With a filter, a file may have no matching test (E2E_ALLOW_EMPTY); at least one must run.
rc=0
export BASE_URL TASKMILL_BIN="$BIN" E2E_SEED="$WORK/seed.json" E2E_SCREENSHOTS="$SHOTS"
[ "$#" = 0 ] || export E2E_ALLOW_EMPTY=1
: >"$LOGS/results.txt"
for file in e2e celery; do
    node "end2end/$file.mjs" "$@" | tee -a "$LOGS/results.txt" || rc=$?
done
grep -q '^ok - ' "$LOGS/results.txt" || { echo "no test matched: $*"; rc=1; }
if [ "$rc" != 0 ]; then
    echo "--- last lines of $LOGS/serve.log"; tail -20 "$LOGS/serve.log"
    echo "--- last lines of $LOGS/worker.log"; tail -20 "$LOGS/worker.log"
    echo "--- last lines of $LOGS/celery-worker.log"; tail -20 "$LOGS/celery-worker.log"
fi
info "screenshots: $SHOTS"
exit "$rc"
