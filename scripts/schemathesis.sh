#!/usr/bin/env bash
# The OpenAPI document against the server it describes (issue #14, item 9): Schemathesis
# generates requests for every operation of GET /api/v1/openapi.json (valid and invalid
# parameters and bodies) and checks each answer: no 5xx, a documented status, a body that
# matches the documented schema. Any failed check fails the run.
#
#   scripts/schemathesis.sh                 TASKMILL_BIN, else a debug build
#   ST_MAX_EXAMPLES=50 scripts/schemathesis.sh   more cases per operation (default 12)
#
# The data is realistic and nasty: one private redis-server holding the hostile corpus of
# scripts/hostile.sh (real Python RQ: every registry, both serializers, undecodable payloads,
# invalid UTF-8, stale workers, forged audit records) plus Taskmill's own finished and failed
# jobs and a live Taskmill pool. `GET /events` (a stream that never ends) is not fuzzed.
# Needs the .venv of scripts/setup.sh (rq, schemathesis). Logs in $T (ST_KEEP=1 keeps them).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO"

BIN="$(taskmill_bin)"
ST="$REPO/.venv/bin/st"
[ -x "$ST" ] || die "$ST missing (run scripts/setup.sh)"
[ -x "$TASKMILL_PYTHON" ] || die "$TASKMILL_PYTHON missing (run scripts/setup.sh)"
T="$(mktemp -d "${TMPDIR:-/tmp}/taskmill-st.XXXXXX")"
[ -n "${ST_KEEP:-}" ] && info "logs kept in $T" || on_exit "rm -rf '$T'"
unset REDIS_URL TASKMILL_REDIS RQ_REDIS_URL RUST_LOG

start_private_redis
URL="$REDIS_URL_BASE/0"
"$TASKMILL_PYTHON" tests/interop/hostile_corpus.py --mode hostile --redis "$URL" \
    --base-url none --user seed:seed >"$T/seed.json" 2>"$T/plant.log" ||
    { tail -20 "$T/plant.log"; die "planting the corpus failed"; }
for i in 1 2 3; do
    "$BIN" --redis "$URL" enqueue --queue default taskmill.echo --args "[$i, \"x\"]" >/dev/null
    "$BIN" --redis "$URL" enqueue --queue default taskmill.fail --args "[\"boom $i\"]" >/dev/null
done
"$BIN" --redis "$URL" worker --queues default --burst >"$T/burst.log" 2>&1 ||
    { tail -20 "$T/burst.log"; die "the burst worker failed"; }
"$BIN" --redis "$URL" enqueue --queue default taskmill.echo --args '["queued"]' >/dev/null
# A live pool (idle: nothing is enqueued on `idle`), so /workers lists Taskmill slots.
"$BIN" --redis "$URL" worker --queues idle --concurrency 2 >"$T/worker.log" 2>&1 &
track_pid $!

PORT="$(free_port)"
# Celery's routes on too (same Redis as broker, no Celery worker: control commands answer 504
# `no_reply` after 100 ms).
"$BIN" --redis "$URL" serve --bind "127.0.0.1:$PORT" --celery-broker "$URL" \
    --celery-timeout-ms 100 >"$T/serve.log" 2>&1 &
track_pid $!
BASE="http://127.0.0.1:$PORT"
wait_http "$BASE/healthz" 30 || { tail -20 "$T/serve.log"; die "taskmill serve did not answer"; }

# Path parameters drawn mostly from what exists (job ids, queue and worker names, failure
# groups, as the API lists them), so detail pages answer 200 with hostile data, not only 404.
sleep 2 # the failure-group index's first pass
"$TASKMILL_PYTHON" - "$BASE" >"$T/schemathesis.toml" <<'PY' || die "listing the seeded data failed"
import json, sys, urllib.error, urllib.parse, urllib.request
base = sys.argv[1] + '/api/v1'
get = lambda p: json.load(urllib.request.urlopen(base + p, timeout=20))
ids, names, fps = set(), set(), set()
for q in get('/queues'):
    if len(q['name']) > 200:  # the corpus' 64 KiB name: the URI would be too long
        continue
    names.add(q['name'])
    for lst in ('queued', 'started', 'finished', 'failed', 'deferred', 'scheduled', 'canceled'):
        try:
            page = get('/queues/%s?list=%s&limit=50' % (urllib.parse.quote(q['name'], safe=''), lst))
        except urllib.error.HTTPError:  # a name the API refuses (control characters): a 400
            continue
        ids.update(j['id'] for j in page['page']['items'])
names.update(w['name'] for w in get('/workers') if len(w['name']) <= 512)
fps.update(g['fingerprint'] for g in get('/failed/groups')['items'])
toml = lambda vs: json.dumps(sorted(v for v in vs if v and '\x00' not in v))
print('[dictionaries.ids]\nvalues = %s' % toml(ids))
print('[dictionaries.names]\nvalues = %s' % toml(names))
print('[dictionaries.fps]\nvalues = %s' % toml(fps or {'0123456789abcdef'}))
print('[parameters]')
print('"path.id" = { dictionary = "ids", probability = 0.8 }')
print('"path.name" = { dictionary = "names", probability = 0.8 }')
print('"path.fingerprint" = { dictionary = "fps", probability = 0.8 }')
# No Celery worker listens: a control command's documented answer is 504 `no_reply`.
print('[[operations]]\ninclude-path-regex = "^/api/v1/celery/"')
print('checks.not_a_server_error.expected-statuses = ["2xx", "3xx", "4xx", 504]')
PY
info "seeded: $(grep -c . "$T/schemathesis.toml") config lines ($T/schemathesis.toml)"

header "schemathesis $("$ST" --version | awk '{print $NF}') against $BASE/api/v1/openapi.json"
rc=0
cd "$T" # schemathesis keeps a cache in the working directory
"$ST" --config-file "$T/schemathesis.toml" run "$BASE/api/v1/openapi.json" \
    --checks not_a_server_error,status_code_conformance,response_schema_conformance \
    --exclude-path /api/v1/events \
    --max-examples "${ST_MAX_EXAMPLES:-12}" \
    --phases examples,coverage,fuzzing \
    --seed "${ST_SEED:-14}" \
    --workers 1 \
    --request-timeout 20 \
    --no-color \
    --report junit --report-junit-path "$T/junit.xml" 2>&1 | tee "$T/st.log" || rc=$?
if grep -q 'panicked\| ERROR ' "$T/serve.log"; then
    echo "--- server errors (target: none)"
    grep 'panicked\| ERROR ' "$T/serve.log" | head -20
    rc=1
fi
[ "$rc" = 0 ] || die "schemathesis found failures (logs: $T/st.log, $T/serve.log; ST_KEEP=1 keeps them)"
info "schemathesis: every check passed"
