# Sourced by scripts/deploy-tests.sh (uses its helpers: tm, fail, expect_rc, $T, $BIN):
# `test_behind_proxy`, run as `scripts/deploy-tests.sh behind-proxy`.

# Item 3: behind a proxy. A real nginx (Debian package) in front, under /taskmill, with its
# default Host rewrite (`Host: $proxy_host`, so Origin never matches Host), the prefix given as
# an environment variable. Chromium clicks through it (end2end/proxy.mjs); curl checks that a
# cross-site POST through the proxy is refused while a same-origin one passes.
test_behind_proxy() {
    local nginx; nginx="$(command -v nginx || echo /usr/sbin/nginx)"
    [ -x "$nginx" ] || fail "nginx not installed (scripts/setup.sh)"
    [ -f "$REPO/end2end/node_modules/playwright-core/package.json" ] || fail "no end2end/node_modules (scripts/setup.sh)"
    start_private_redis
    local url="$REDIS_URL_BASE/11" port np; port="$(free_port)"; np="$(free_port)"
    TASKMILL_URL_PREFIX=taskmill/ "$BIN" -u "$url" serve --port "$port" 2>"$T/px-serve.log" &
    track_pid $!
    local d="$T/nginx"
    mkdir -p "$d/logs" "$d/tmp"
    # `user` matters only when nginx runs as root (its worker then runs as this user and can
    # write the temp dirs); otherwise nginx ignores it. Host is not set: nginx's default.
    cat >"$d/nginx.conf" <<NGINX
daemon off;
master_process off;
user $(id -un);
pid $d/nginx.pid;
error_log $d/logs/error.log info;
events { worker_connections 64; }
http {
    access_log $d/logs/access.log;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    server {
        listen 127.0.0.1:$np;
        location /taskmill/ { proxy_pass http://127.0.0.1:$port; }
    }
}
NGINX
    "$nginx" -t -p "$d" -c "$d/nginx.conf" -e "$d/logs/error.log" 2>"$T/px-nginx-t.log" \
        || fail "nginx -t: $(cat "$T/px-nginx-t.log")"
    "$nginx" -p "$d" -c "$d/nginx.conf" -e "$d/logs/error.log" 2>>"$d/logs/error.log" &
    track_pid $!
    local px="http://127.0.0.1:$np/taskmill"
    wait_http "http://127.0.0.1:$port/taskmill/healthz" 20 || fail "serve: $(cat "$T/px-serve.log")"
    wait_http "$px/healthz" 20 || fail "nginx: $(tail -5 "$d/logs/error.log")"
    # Seed: a failed job (a burst worker runs taskmill.fail) and a queue nobody serves.
    tm -u "$url" enqueue --queue pxfail taskmill.fail --args '["boom"]'; expect_rc 0 "enqueue"
    local failed="$OUT"
    tm -u "$url" worker --queues pxfail --burst; expect_rc 0 "burst worker"
    tm -u "$url" enqueue --queue pxhold taskmill.echo --args '["seed"]'; expect_rc 0 "enqueue hold"
    # Cross-site through the proxy: refused with the JSON error, Redis untouched.
    local code
    code="$(curl -sS -o "$T/px-body" -w '%{http_code}' -X POST -H 'Origin: http://evil.example' \
        "$px/api/v1/failed/requeue-all")"
    [ "$code" = 403 ] && grep -q '"code":"cross_site"' "$T/px-body" \
        || fail "evil Origin through nginx: $code $(cat "$T/px-body")"
    code="$(curl -sS -o "$T/px-body" -w '%{http_code}' -X POST -H "Origin: http://127.0.0.1:$np" \
        "$px/api/v1/failed/requeue-all")"
    [ "$code" = 403 ] || fail "the proxy's Origin without Sec-Fetch-Site (Host is rewritten): $code"
    tm -u "$url" job "$failed" --json
    local status
    status="$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("summary", d)["status"])' <<<"$OUT")"
    [ "$status" = failed ] || fail "the refused POSTs changed the job: $status"
    # The browser: pages, islands, live feed, actions, API and metrics, all through nginx.
    PROXY_URL="$px" CONSOLE_URL="http://127.0.0.1:$port" TASKMILL_BIN="$BIN" REDIS_URL="$url" \
        PX_HOLD=pxhold PX_FAILED="$failed" PX_QUEUE=pxfail E2E_SCREENSHOTS="$REPO/target/e2e-screenshots" \
        node "$REPO/end2end/proxy.mjs" || fail "end2end/proxy.mjs (nginx logs: $d/logs)"
    # What the browser sent, replayed by curl: Sec-Fetch-Site same-origin passes despite Host.
    code="$(curl -sS -o "$T/px-body" -w '%{http_code}' -X POST -H "Origin: http://127.0.0.1:$np" \
        -H 'Sec-Fetch-Site: same-origin' "$px/api/v1/failed/requeue-all")"
    [ "$code" = 200 ] || fail "same-origin POST through nginx: $code $(cat "$T/px-body")"
    grep -q "GET /taskmill/api/v1/events" "$d/logs/access.log" || fail "no live feed through nginx"
    info "$("$nginx" -v 2>&1 | sed 's/.*: //') on :$np → console :$port under /taskmill"
}
