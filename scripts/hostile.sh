#!/usr/bin/env bash
# Stored HTML injection, proven for every page (issue #15). One private redis-server, two
# `taskmill serve` (database 0 holds the hostile corpus, database 1 its clean twin, planted by
# tests/interop/hostile_corpus.py with real Python RQ plus raw redis-py writes), then:
#   tests/interop/hostile_api.py  every GET under /api/v1 and the /metrics scrape
#   end2end/hostile.mjs           every page in Chromium, hostile vs clean, and the signed flash
#
#   scripts/hostile.sh [TEST_NAME_SUBSTRING...]   (substrings filter the browser tests)
#
# Needs scripts/build-site.sh first and the .venv of scripts/setup.sh. TASKMILL_BIN defaults to
# target/release/taskmill. Logs: target/hostile-logs/. Screenshots of failing pages:
# target/hostile-screenshots/. Prints `N passed, N failed` over both runners at the end.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO"

BIN="${TASKMILL_BIN:-$REPO/target/release/taskmill}"
[ -x "$BIN" ] || die "$BIN missing (run scripts/build-site.sh)"
[ -f target/site/pkg/taskmill.wasm ] || die "target/site is not built (run scripts/build-site.sh)"
[ -x "$TASKMILL_PYTHON" ] || die "$TASKMILL_PYTHON missing (run scripts/setup.sh)"

LOGS="$REPO/target/hostile-logs"
SHOTS="$REPO/target/hostile-screenshots"
rm -rf "$LOGS" "$SHOTS"
mkdir -p "$LOGS" "$SHOTS"
start=$SECONDS

# The hostile Basic user: markup, a quote and a bidi override (',' and ':' can't be in a name).
WHO="$(printf '<img src=x onerror=window.__xss=%swho%s>\u202eadmin"' "'" "'")"
HOSTILE_AUTH="$WHO:hostile-pw"
CLEAN_AUTH="clean-who:clean-pw"
OTHER_AUTH="other:other-pw"

start_private_redis
serve() { # name db port users...
    local name=$1 db=$2 port=$3
    shift 3
    local users=()
    for u in "$@"; do users+=(--user "$u"); done
    "$BIN" serve --site-root target/site --bind "127.0.0.1:$port" --redis "$REDIS_URL_BASE/$db" \
        "${users[@]}" >"$LOGS/serve-$name.log" 2>&1 &
    track_pid $!
}
HPORT="$(free_port)"
CPORT="$(free_port)"
serve hostile 0 "$HPORT" "$HOSTILE_AUTH" "$OTHER_AUTH"
serve clean 1 "$CPORT" "$CLEAN_AUTH"
HOSTILE_BASE="http://127.0.0.1:$HPORT"
CLEAN_BASE="http://127.0.0.1:$CPORT"
for base in "$HOSTILE_BASE" "$CLEAN_BASE"; do
    wait_http "$base/healthz" 30 || { tail -30 "$LOGS"/serve-*.log; die "taskmill serve did not answer on $base"; }
done

plant() { # mode db base auth
    "$TASKMILL_PYTHON" tests/interop/hostile_corpus.py --mode "$1" --redis "$REDIS_URL_BASE/$2" \
        --base-url "$3" --user "$4" >"$LOGS/seed-$1.json" 2>"$LOGS/plant-$1.log" ||
        { tail -30 "$LOGS/plant-$1.log"; die "planting the $1 corpus failed"; }
}
plant hostile 0 "$HOSTILE_BASE" "$HOSTILE_AUTH"
plant clean 1 "$CLEAN_BASE" "$CLEAN_AUTH"
info "planted in $((SECONDS - start)) s; consoles: hostile $HOSTILE_BASE, clean $CLEAN_BASE"

rc=0
# The API first: the browser test ends with a real action (a requeue) that changes the corpus.
"$TASKMILL_PYTHON" tests/interop/hostile_api.py --base-url "$HOSTILE_BASE" --user "$HOSTILE_AUTH" \
    --seed "$LOGS/seed-hostile.json" | tee "$LOGS/api.log" || rc=1
HOSTILE_BASE="$HOSTILE_BASE" CLEAN_BASE="$CLEAN_BASE" HOSTILE_AUTH="$HOSTILE_AUTH" CLEAN_AUTH="$CLEAN_AUTH" \
    OTHER_AUTH="$OTHER_AUTH" HOSTILE_SEED="$LOGS/seed-hostile.json" CLEAN_SEED="$LOGS/seed-clean.json" \
    HOSTILE_SCREENSHOTS="$SHOTS" node end2end/hostile.mjs "$@" | tee "$LOGS/browser.log" || rc=1

if [ "$rc" != 0 ]; then
    echo "--- last lines of $LOGS/serve-hostile.log"
    tail -20 "$LOGS/serve-hostile.log"
fi
passed=0
failed=0
while read -r p f; do
    passed=$((passed + p))
    failed=$((failed + f))
done < <(sed -nE 's/^\((browser|api)\) ([0-9]+) passed, ([0-9]+) failed$/\2 \3/p' "$LOGS/browser.log" "$LOGS/api.log")
info "hostile: $((SECONDS - start)) s in all"
echo "$passed passed, $failed failed"
[ "$rc" = 0 ] && [ "$failed" = 0 ] && [ "$passed" -gt 0 ]
