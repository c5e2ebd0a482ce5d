#!/usr/bin/env bash
# Deployment tests (issue #14): the `taskmill` binary against real servers started here —
# TLS (a CA, server and client certificates made with the openssl CLI), a Unix socket, an ACL
# user, a Redis Cluster node (refused), Sentinel with a failover (SIGKILL the primary), the
# config file and its precedence, the JSON log format, a real Prometheus scraping /metrics, the
# site embedded in the binary (run from /), the wheel installed into a fresh venv, and the
# console behind a real nginx under a URL prefix, clicked through in Chromium, and the
# API fuzzed against its OpenAPI document (scripts/schemathesis.sh).
#
#   scripts/deploy-tests.sh            every test
#   scripts/deploy-tests.sh sentinel   only tests whose name contains "sentinel"
#
# Needs redis-server (Sentinel runs as `redis-server --sentinel`), redis-cli, openssl, curl,
# python3, prometheus + promtool (Debian package `prometheus`), nginx and chromium (all
# installed by setup.sh) and end2end/node_modules.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO"

FILTER="${1:-}"
BIN="$(taskmill_bin)"
T="$(mktemp -d "${TMPDIR:-/tmp}/taskmill-deploy.XXXXXX")"
# DEPLOY_KEEP=1 keeps the servers' and commands' logs for a look after a failure.
[ -n "${DEPLOY_KEEP:-}" ] && info "logs kept in $T" || on_exit "rm -rf '$T'"
PASSED=0
FAILED=0
unset REDIS_URL TASKMILL_REDIS RQ_REDIS_URL RQ_DASHBOARD_REDIS_URL RUST_LOG

fail() { printf '%sFAIL%s %s\n' "$_R" "$_N" "$*" >&2; return 1; }
# Runs `taskmill ARGS...`; sets OUT (stdout), ERR (stderr) and RC.
tm() {
    RC=0
    "$BIN" "$@" >"$T/out" 2>"$T/err" </dev/null || RC=$?
    OUT="$(cat "$T/out")"
    ERR="$(cat "$T/err")"
}
expect_rc() { # rc what
    [ "$RC" = "$1" ] || fail "$2: exit $RC, expected $1; stderr: $ERR"
}
expect_err() { # needle what
    [[ "$ERR" == *"$1"* ]] || fail "$2: stderr lacks '$1': $ERR"
}
# `taskmill info --json` → the named queue's count of one status (0 when the queue is absent).
count() { # status queue
    python3 -c 'import json,sys; s=json.load(sys.stdin); print(sum(q[sys.argv[1]] for q in s["queues"] if q["name"]==sys.argv[2]))' "$1" "$2"
}
# A free port below 55536 (a Cluster node also listens on its port + 10000).
free_low_port() {
    local p
    while p="$(free_port)"; [ "$p" -gt 55000 ]; do :; done
    echo "$p"
}
# A redis-server with the given extra arguments; waits for PING on the given redis-cli args.
start_redis() { # name cli-args... -- server-args...
    local name=$1; shift
    local cli=()
    while [ "$1" != "--" ]; do cli+=("$1"); shift; done
    shift
    mkdir -p "$T/$name"
    redis-server --save '' --appendonly no --dir "$T/$name" --logfile "$T/$name/log" "$@" &
    track_pid $!
    local deadline=$((SECONDS + 10))
    until redis-cli "${cli[@]}" ping >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || die "redis-server $name did not start: $(tail -5 "$T/$name/log")"
        sleep 0.1
    done
}

run_test() { # name function
    [[ -z "$FILTER" || "$1" == *"$FILTER"* ]] || return 0
    header "$1"
    # A subshell per test with its own cleanup list, so its servers die with it. errexit is
    # ignored inside a subshell that is part of `if` or `||`, hence the explicit +e/-e.
    set +e
    (
        _PIDS=()
        _CLEANUP=()
        trap _cleanup EXIT
        set -e
        "$2"
    )
    local rc=$?
    set -e
    if [ "$rc" = 0 ]; then
        PASSED=$((PASSED + 1)); info "ok"
    else
        FAILED=$((FAILED + 1)); printf '%s%s failed%s\n' "$_R" "$1" "$_N" >&2
    fi
}

# --- certificates -----------------------------------------------------------------------------
make_certs() {
    local d="$T/pki"
    mkdir -p "$d"
    cd "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=taskmill test CA" \
        -keyout ca.key -out ca.pem 2>/dev/null
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=some other CA" \
        -keyout other.key -out other.pem 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >san.ext
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr 2>/dev/null
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
        -extfile san.ext -out server.pem 2>/dev/null
    # Expired: valid for one day, ten days ago (`openssl ca` takes explicit dates).
    mkdir -p ca/newcerts && : >ca/index.txt && echo 01 >ca/serial
    cat >ca.cnf <<EOF
[ca]
default_ca = d
[d]
dir = ca
database = ca/index.txt
new_certs_dir = ca/newcerts
serial = ca/serial
default_md = sha256
policy = p
copy_extensions = copy
[p]
commonName = supplied
EOF
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -addext "subjectAltName=IP:127.0.0.1" \
        -keyout expired.key -out expired.csr 2>/dev/null
    openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in expired.csr -out expired.pem \
        -startdate "$(date -u -d '-10 days' +%Y%m%d%H%M%SZ)" -enddate "$(date -u -d '-9 days' +%Y%m%d%H%M%SZ)" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=taskmill-client" -keyout client.key -out client.csr 2>/dev/null
    printf 'extendedKeyUsage=clientAuth\n' >client.ext  # an X.509 v3 certificate (rustls refuses v1)
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
        -extfile client.ext -out client.pem 2>/dev/null
    cd "$REPO"
}

# --- tests --------------------------------------------------------------------------------------
test_tls() {
    local p; p="$(free_port)"
    local pki="$T/pki"
    start_redis tls --tls --cacert "$pki/ca.pem" -p "$p" -- --port 0 --tls-port "$p" --bind 127.0.0.1 \
        --tls-cert-file "$pki/server.pem" --tls-key-file "$pki/server.key" \
        --tls-ca-cert-file "$pki/ca.pem" --tls-auth-clients no
    local url="rediss://127.0.0.1:$p"
    tm -u "$url" --redis-ca "$pki/ca.pem" enqueue --queue tls taskmill.echo --args '[1]'
    expect_rc 0 "enqueue over TLS with --redis-ca"
    SSL_CERT_FILE="$pki/ca.pem" tm -u "$url" worker --queues tls --burst
    expect_rc 0 "worker over TLS with SSL_CERT_FILE"
    tm -u "$url" --redis-ca "$pki/ca.pem" info --json
    [ "$(count finished tls <<<"$OUT")" = 1 ] || fail "the job ran over TLS: $OUT"
    tm -u "$url" --redis-ca "$pki/other.pem" info
    expect_rc 2 "wrong CA"; expect_err "TLS with $url failed" "wrong CA"; expect_err "UnknownIssuer" "wrong CA"
    tm -u "$url" info
    expect_rc 2 "system trust store (does not know the test CA)"
    tm -u "$url#insecure" info
    expect_rc 0 "#insecure, typed explicitly"
    tm -u "redis://127.0.0.1:$p" --redis-ca "$pki/ca.pem" info
    expect_rc 2 "--redis-ca on a redis:// URL"; expect_err "need a rediss:// URL" "--redis-ca on redis://"
    tm -u "$url" --redis-ca "$T/nope.pem" info
    expect_rc 2 "missing CA file"; expect_err "cannot read --redis-ca" "missing CA file"
    tm -u "$url" --redis-ca "$pki/ca.key" info
    expect_rc 2 "a key given as CA"; expect_err "no PEM certificate" "key as CA"
    # The console and a worker refuse at start too, and write nothing (db 5 stays empty).
    tm -u "$url/5" --redis-ca "$pki/other.pem" serve --port "$(free_port)"
    expect_rc 2 "serve with the wrong CA"; expect_err "TLS with" "serve with the wrong CA"
    tm -u "$url/5" --redis-ca "$pki/other.pem" worker --queues tls
    expect_rc 2 "worker with the wrong CA"
    [ "$(redis-cli --tls --cacert "$pki/ca.pem" -p "$p" -n 5 dbsize)" = 0 ] || fail "keys written"
}

test_tls_expired_and_client_certs() {
    local p q; p="$(free_port)"; q="$(free_port)"
    local pki="$T/pki"
    start_redis tls-expired --tls --insecure -p "$p" -- --port 0 --tls-port "$p" --bind 127.0.0.1 \
        --tls-cert-file "$pki/expired.pem" --tls-key-file "$pki/expired.key" \
        --tls-ca-cert-file "$pki/ca.pem" --tls-auth-clients no
    tm -u "rediss://127.0.0.1:$p" --redis-ca "$pki/ca.pem" info
    expect_rc 2 "expired server certificate"; expect_err "xpired" "expired server certificate"
    start_redis tls-mutual --tls --cacert "$pki/ca.pem" --cert "$pki/client.pem" --key "$pki/client.key" -p "$q" -- \
        --port 0 --tls-port "$q" --bind 127.0.0.1 --tls-cert-file "$pki/server.pem" \
        --tls-key-file "$pki/server.key" --tls-ca-cert-file "$pki/ca.pem" --tls-auth-clients yes
    tm -u "rediss://127.0.0.1:$q" --redis-ca "$pki/ca.pem" info
    expect_rc 2 "no client certificate"; expect_err "TLS with" "no client certificate"
    tm -u "rediss://127.0.0.1:$q" --redis-ca "$pki/ca.pem" --redis-cert "$pki/client.pem" info
    expect_rc 2 "certificate without key"; expect_err "go together" "cert without key"
    tm -u "rediss://127.0.0.1:$q" --redis-ca "$pki/ca.pem" --redis-cert "$pki/client.pem" \
        --redis-key "$pki/client.key" enqueue --queue mtls taskmill.echo
    expect_rc 0 "client certificate"
}

test_unix_socket_and_acl() {
    local p; p="$(free_port)"
    start_redis unix -s "$T/r.sock" -- --port 0 --unixsocket "$T/r.sock" --unixsocketperm 700
    tm -u "unix://$T/r.sock" enqueue --queue sock taskmill.echo
    expect_rc 0 "unix://"
    tm -u "redis+unix://$T/r.sock?db=3" enqueue --queue sock3 taskmill.echo
    expect_rc 0 "redis+unix:// with db"
    [ "$(redis-cli -s "$T/r.sock" -n 3 llen rq:queue:sock3)" = 1 ] || fail "db=3 not honoured"
    start_redis acl -p "$p" --user alice --pass 'p@ssw0rd' -- --port "$p" --bind 127.0.0.1 \
        --user default off --user alice on '>p@ssw0rd' '~*' '&*' '+@all'
    tm -u "redis://alice:p%40ssw0rd@127.0.0.1:$p/2" enqueue --queue acl taskmill.echo
    expect_rc 0 "ACL user in the URL"
    tm -u "redis://alice:wrong@127.0.0.1:$p" info
    expect_rc 2 "wrong password"; expect_err "refused the credentials" "wrong password"
    [[ "$ERR" != *wrong@* ]] || fail "the password is printed: $ERR"
}

test_bad_input() {
    local c; c="$(free_low_port)"
    start_redis cluster -p "$c" -- --port "$c" --bind 127.0.0.1 --cluster-enabled yes \
        --cluster-config-file "$T/cluster/nodes.conf"
    tm -u "redis://127.0.0.1:$c" info
    expect_rc 2 "cluster"; expect_err "Redis Cluster node (cluster_enabled:1)" "cluster"
    tm -u "redis://127.0.0.1:$c" worker --queues x
    expect_rc 2 "cluster (worker)"
    tm -u "http://x" info
    expect_rc 2 "bad scheme"; expect_err "unknown scheme" "bad scheme"
    tm -u "redis+sentinel://127.0.0.1:1/mymaster" info
    expect_rc 2 "unreachable Sentinel"; expect_err "no Sentinel named the master" "unreachable Sentinel"
    tm -u "redis+sentinel://127.0.0.1:1/mymaster" serve --port "$(free_port)"
    expect_rc 2 "unreachable Sentinel (serve)"
    tm --sentinel 127.0.0.1:1 info
    expect_rc 2 "--sentinel without --sentinel-master"
}

test_sentinel_failover() {
    local p1 p2 s w; p1="$(free_port)"; p2="$(free_port)"; s="$(free_port)"; w="$(free_port)"
    # Diskless sync without the default 5 s delay: the replica is in sync within a second.
    start_redis primary -p "$p1" -- --port "$p1" --bind 127.0.0.1 --repl-diskless-sync-delay 0
    local primary_pid=${_PIDS[-1]}
    start_redis replica -p "$p2" -- --port "$p2" --bind 127.0.0.1 --replicaof 127.0.0.1 "$p1"
    mkdir -p "$T/sentinel"
    cat >"$T/sentinel/sentinel.conf" <<EOF
port $s
bind 127.0.0.1
dir $T/sentinel
sentinel monitor tm 127.0.0.1 $p1 1
sentinel down-after-milliseconds tm 1000
sentinel failover-timeout tm 5000
EOF
    redis-server "$T/sentinel/sentinel.conf" --sentinel --logfile "$T/sentinel/log" &
    track_pid $!
    wait_tcp 127.0.0.1 "$s" 10
    # The replica must be in sync, and known to Sentinel, before the primary dies.
    local deadline=$((SECONDS + 20))
    until redis-cli -p "$p2" info replication | grep -q 'master_link_status:up' &&
        [ "$(redis-cli -p "$s" sentinel replicas tm 2>/dev/null | grep -c "$p2")" -gt 0 ]; do
        [ "$SECONDS" -lt "$deadline" ] || fail "the replica never synced or Sentinel never saw it"
        sleep 0.2
    done
    local S=(--sentinel "127.0.0.1:$s" --sentinel-master tm)
    "$BIN" "${S[@]}" serve --port "$w" 2>"$T/sentinel/serve.log" &
    track_pid $!
    "$BIN" -u "redis+sentinel://127.0.0.1:$s/tm" worker --queues fo --concurrency 2 \
        --heartbeat 1 --lease 3 --reap-interval 1 2>"$T/sentinel/worker.log" &
    track_pid $!
    wait_http "http://127.0.0.1:$w/healthz" 20 || fail "console over Sentinel: no /healthz"
    for i in $(seq 1 10); do
        # --retry: a finish written to the old master after the last replication is lost with
        # it (Redis replication is asynchronous); the reaper then retries the job.
        tm "${S[@]}" enqueue --queue fo taskmill.sleep --args '[0.5]' --retry 3
        expect_rc 0 "enqueue $i before the failover"
    done
    [ "$(redis-cli -p "$p1" wait 1 2000)" = 1 ] || fail "the replica did not acknowledge the enqueues"
    kill -9 "$primary_pid"
    info "primary (port $p1) killed"
    local after=0
    deadline=$((SECONDS + 40))
    while [ "$after" -lt 10 ]; do
        [ "$SECONDS" -lt "$deadline" ] || fail "enqueue after the failover kept failing: $ERR"
        tm "${S[@]}" enqueue --queue fo taskmill.sleep --args '[0.05]' --retry 3
        if [ "$RC" = 0 ]; then after=$((after + 1)); else sleep 0.3; fi
    done
    [ "$(redis-cli -p "$p2" role | head -1)" = master ] || fail "the replica was not promoted"
    local done=0 api
    deadline=$((SECONDS + 40))
    until [ "$done" = 20 ]; do
        [ "$SECONDS" -lt "$deadline" ] || fail "only $done of 20 jobs finished; queues: $api; new master: finished $(redis-cli -p "$p2" zcard rq:finished:fo) queued $(redis-cli -p "$p2" llen rq:queue:fo) keys $(redis-cli -p "$p2" dbsize) role $(redis-cli -p "$p2" role | head -1); worker log: $(tail -20 "$T/sentinel/worker.log")"
        sleep 0.5
        api="$(curl -fsS "http://127.0.0.1:$w/api/v1/queues" 2>/dev/null)" || continue
        done="$(python3 -c 'import json,sys
d=json.loads(sys.argv[1]); qs=d if isinstance(d,list) else d.get("queues", d.get("items", []))
print(sum(q["finished"] for q in qs if q["name"]=="fo"))' "$api")"
    done
    info "20/20 jobs finished; console API read through the promoted replica"
    [ "$(redis-cli -p "$p2" zcard rq:finished:fo)" = 20 ] || fail "finished registry on the new master"
}

test_config_file() {
    start_private_redis
    local good="$REDIS_URL_BASE/7" bad="redis://127.0.0.1:1"
    printf 'redis = "%s"\n' "$bad" >"$T/bad.toml"
    tm --config "$T/bad.toml" info
    expect_rc 1 "the file's redis is used when nothing else is given"
    REDIS_URL="$good" tm --config "$T/bad.toml" info
    expect_rc 0 "REDIS_URL beats the file"
    RQ_REDIS_URL="$bad" tm -u "$good" info
    expect_rc 0 "the flag beats RQ_REDIS_URL"
    RQ_DASHBOARD_REDIS_URL="$good" tm info
    expect_rc 0 "RQ_DASHBOARD_REDIS_URL"
    tm --url "$good" enqueue --queue cfg taskmill.echo
    expect_rc 0 "--url alias"
    # A subcommand section: [worker] drains the queue (queues and burst from the file).
    printf 'redis = "%s"\n[worker]\nqueues = ["cfg"]\nburst = true\nconcurrency = 2\n' "$good" >"$T/w.toml"
    tm --config "$T/w.toml" worker
    expect_rc 0 "worker configured by the file"
    tm -u "$good" info --json
    [ "$(count finished cfg <<<"$OUT")" = 1 ] || fail "[worker] from the file: $OUT"
    TASKMILL_CONCURRENCY=0 tm --config "$T/w.toml" worker
    expect_rc 2 "TASKMILL_CONCURRENCY beats the file (0 is refused)"
    tm --config "$T/w.toml" worker --concurrency 0
    expect_rc 2 "the flag beats the file"
    # Port precedence on serve: flag > TASKMILL_PORT > file.
    local pf pe pc; pf="$(free_port)"; pe="$(free_port)"; pc="$(free_port)"
    printf 'redis = "%s"\n[serve]\nport = %s\n' "$good" "$pf" >"$T/s.toml"
    for case in "file:$pf:" "env:$pe:" "flag:$pc:--port=$pc"; do
        IFS=: read -r what port flag <<<"$case"
        local envs=()
        [ "$what" = file ] || envs=(TASKMILL_PORT="$pe")
        env "${envs[@]}" "$BIN" --config "$T/s.toml" serve $flag 2>"$T/serve-$what.log" &
        local pid=$!
        wait_http "http://127.0.0.1:$port/healthz" 20 || fail "serve ($what) not on port $port"
        kill "$pid"; wait "$pid" || true
    done
    printf '[serve]\nport = 1\ncolour = "blue"\n' >"$T/unknown.toml"
    tm --config "$T/unknown.toml" info
    expect_rc 2 "unknown key"; expect_err "unknown key serve.colour" "unknown key"
    printf '[serve]\nuser = ["alice:s3cret"]\n' >"$T/plain.toml"
    tm --config "$T/plain.toml" serve
    expect_rc 2 "plaintext --user in the file"; expect_err "plaintext passwords are refused" "plaintext"
    printf '[[serve.users]]\nname = "alice"\npassword_hash = "s3cret"\n' >"$T/plain2.toml"
    tm --config "$T/plain2.toml" serve
    expect_rc 2 "plaintext password_hash"; expect_err "plaintext passwords are refused" "plaintext hash"
    tm --config "$T/nope.toml" info
    expect_rc 2 "missing config file"; expect_err "cannot read config file" "missing file"
    # Hashed users: right password in, wrong one out.
    local hash port; hash="$(printf 's3cret' | "$BIN" hash-password)"
    port="$(free_port)"
    printf 'redis = "%s"\n[serve]\nbind = "0.0.0.0:%s"\n[[serve.users]]\nname = "alice"\npassword_hash = "%s"\nrole = "operator"\n' \
        "$good" "$port" "$hash" >"$T/users.toml"
    "$BIN" --config "$T/users.toml" serve 2>"$T/users.log" &
    local pid=$!
    wait_tcp 127.0.0.1 "$port" 20 || fail "serve with [[serve.users]]: $(cat "$T/users.log")"
    [ "$(curl -s -o /dev/null -w '%{http_code}' -u alice:s3cret "http://127.0.0.1:$port/api/v1/queues")" = 200 ] \
        || fail "hashed user, right password"
    [ "$(curl -s -o /dev/null -w '%{http_code}' -u alice:nope "http://127.0.0.1:$port/api/v1/queues")" = 401 ] \
        || fail "hashed user, wrong password"
    kill "$pid"; wait "$pid" || true
}

test_json_log() {
    start_private_redis
    local port; port="$(free_port)"
    "$BIN" -u "$REDIS_URL_BASE/8" serve --port "$port" --log-format json 2>"$T/json.log" &
    local pid=$!
    wait_http "http://127.0.0.1:$port/healthz" 20 || fail "serve --log-format json"
    curl -fsS -o /dev/null "http://127.0.0.1:$port/api/v1/queues"
    curl -s -o /dev/null "http://127.0.0.1:$port/api/v1/queues/x?list=nope"
    kill "$pid"; wait "$pid" || true
    python3 - "$T/json.log" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
access = [l["fields"] for l in lines if l.get("target") == "taskmill::access"]
hit = [a for a in access if a["path"] == "/api/v1/queues"]
assert hit, f"no access line for /api/v1/queues in {access}"
a = hit[0]
assert a["method"] == "GET" and a["status"] == 200 and a["principal"] == "local", a
assert isinstance(a["duration_ms"], (int, float)), a
assert any(x["status"] == 400 for x in access), access
print(f"    {len(lines)} JSON lines, {len(access)} access lines")
EOF
    # Text format into a file: no colour codes.
    "$BIN" -u "$REDIS_URL_BASE/8" serve --port "$port" 2>"$T/text.log" &
    pid=$!
    wait_http "http://127.0.0.1:$port/healthz" 20
    kill "$pid"; wait "$pid" || true
    grep -q "console listening" "$T/text.log" || fail "no text log"
    if grep -q $'\e\[' "$T/text.log"; then fail "ANSI codes in a non-terminal log"; fi
}

test_prometheus() {
    command -v prometheus >/dev/null || fail "prometheus not installed (scripts/setup.sh)"
    start_private_redis
    local port pp; port="$(free_port)"; pp="$(free_port)"
    local url="$REDIS_URL_BASE/9"
    for _ in 1 2 3 4 5 6 7; do tm -u "$url" enqueue --queue prom taskmill.echo; done
    "$BIN" -u "$url" serve --port "$port" --metrics-token scrape-me 2>"$T/prom-serve.log" &
    track_pid $!
    wait_http "http://127.0.0.1:$port/healthz" 20
    curl -fsS -H 'Authorization: Bearer scrape-me' "http://127.0.0.1:$port/metrics" >"$T/scrape.txt"
    promtool check metrics <"$T/scrape.txt" || fail "promtool check metrics"
    mkdir -p "$T/prom"
    cat >"$T/prom/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: taskmill
    authorization:
      credentials: scrape-me
    static_configs:
      - targets: ['127.0.0.1:$port']
EOF
    prometheus --config.file="$T/prom/prometheus.yml" --storage.tsdb.path="$T/prom/data" \
        --web.listen-address="127.0.0.1:$pp" >"$T/prom/log" 2>&1 &
    track_pid $!
    local deadline=$((SECONDS + 30)) v=""
    until [ "$v" = 7 ]; do
        [ "$SECONDS" -lt "$deadline" ] || fail "PromQL never returned 7 (last: '$v'); $(tail -5 "$T/prom/log")"
        sleep 0.5
        v="$(curl -fsS "http://127.0.0.1:$pp/api/v1/query" \
            --data-urlencode 'query=rq_jobs{queue="prom",status="queued"}' 2>/dev/null \
            | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' 2>/dev/null)" || true
    done
    info "PromQL rq_jobs{queue=\"prom\",status=\"queued\"} = $v"
    # The scrape authenticated: Prometheus reports the target up.
    curl -fsS "http://127.0.0.1:$pp/api/v1/query" --data-urlencode 'query=up{job="taskmill"}' | grep -q '"1"\]' \
        || fail "target not up"
}

# Item 4: the site is inside the binary. The console runs from / (no target/site anywhere near),
# the page links content-hashed names, and each asset comes back brotli, gzip or raw as asked,
# byte-identical to target/site once decoded, cached for a year under its hashed name.
test_embedded_site() {
    local site="$REPO/target/site"
    [ -f "$site/pkg/taskmill.wasm" ] || fail "no target/site/pkg/taskmill.wasm (run scripts/build-site.sh)"
    start_private_redis
    local port abs; port="$(free_port)"; abs="$(realpath "$BIN")"
    (cd / && exec env -u LEPTOS_SITE_ROOT "$abs" -u "$REDIS_URL_BASE/10" serve --port "$port") \
        2>"$T/embed.log" &
    track_pid $!
    local base="http://127.0.0.1:$port"
    wait_http "$base/healthz" 20 || fail "serve from /: $(cat "$T/embed.log")"
    curl -fsS "$base/" >"$T/page.html" || fail "GET / from the binary run in /"
    if grep -q 'data-testid="site-missing"' "$T/page.html"; then fail "the page says the site is missing"; fi
    local rel url name hashed
    for rel in pkg/taskmill.css pkg/taskmill.js pkg/taskmill.wasm boot.js; do
        name="$(basename "$rel")"
        # The hashed name the page links (href, src or data-taskmill-*).
        hashed="$(grep -o "\"/${rel%.*}-[0-9a-f]\{16\}\.${rel##*.}\"" "$T/page.html" | head -1 | tr -d '"')"
        [ -n "$hashed" ] || fail "the page does not link a hashed $rel: $(head -c 600 "$T/page.html")"
        url="$base$hashed"
        for enc in br gzip identity; do
            curl -sS -D "$T/h" -o "$T/body" -H "Accept-Encoding: $enc" "$url"
            grep -qi '^HTTP/1.1 200' "$T/h" || fail "$hashed ($enc): $(head -1 "$T/h")"
            grep -qi '^cache-control: public, max-age=31536000, immutable' "$T/h" || fail "$hashed cache: $(cat "$T/h")"
            grep -qi '^vary: accept-encoding' "$T/h" || fail "$hashed: no Vary"
            case "$rel" in
                *.wasm) grep -qi '^content-type: application/wasm' "$T/h" || fail "$hashed content type" ;;
                *.js) grep -qi '^content-type: text/javascript' "$T/h" || fail "$hashed content type" ;;
                *.css) grep -qi '^content-type: text/css' "$T/h" || fail "$hashed content type" ;;
            esac
            case "$enc" in
                br)
                    grep -qi '^content-encoding: br' "$T/h" || fail "$hashed: not brotli: $(cat "$T/h")"
                    curl -sS --compressed -H "Accept-Encoding: br" "$url" | cmp -s - "$site/$rel" \
                        || fail "$hashed: brotli body differs from target/site/$rel" ;;
                gzip)
                    grep -qi '^content-encoding: gzip' "$T/h" || fail "$hashed: not gzip"
                    gzip -dc "$T/body" | cmp -s - "$site/$rel" || fail "$hashed: gzip body differs" ;;
                identity)
                    if grep -qi '^content-encoding' "$T/h"; then fail "$hashed: encoded without asking"; fi
                    cmp -s "$T/body" "$site/$rel" || fail "$hashed: raw body differs" ;;
            esac
        done
        [ "$(stat -c %s "$T/body")" -gt 0 ] || fail "$hashed empty"
        # The plain name still answers, revalidated rather than cached for a year.
        curl -sS -D "$T/h" -o /dev/null "$base/$rel"
        grep -qi '^cache-control: no-cache' "$T/h" || fail "/$rel cache: $(cat "$T/h")"
        info "$name → $hashed (br $(curl -s -H 'Accept-Encoding: br' "$url" | wc -c) B, raw $(stat -c %s "$site/$rel") B)"
    done
    # A revalidation of an unchanged file: 304.
    local etag; etag="$(curl -sS -D - -o /dev/null -H 'Accept-Encoding: gzip' "$base/pkg/taskmill.wasm" | awk 'tolower($1)=="etag:"{print $2}' | tr -d '\r')"
    [ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Accept-Encoding: gzip' -H "If-None-Match: $etag" "$base/pkg/taskmill.wasm")" = 304 ] \
        || fail "If-None-Match $etag: not 304"
}

# Item 5: `pip install taskmill`. The wheel scripts/build-wheel.sh packs from this binary installs
# into a fresh venv; its `taskmill serve` (from the venv's bin/, run elsewhere) serves full pages.
test_wheel() {
    [ -f "$REPO/target/site/pkg/taskmill.wasm" ] || fail "no target/site (run scripts/build-site.sh)"
    start_private_redis
    WHEEL_DIR="$T/wheels" TASKMILL_BIN="$(realpath "$BIN")" "$REPO/scripts/build-wheel.sh" >"$T/wheel-build.log" \
        || fail "build-wheel: $(cat "$T/wheel-build.log")"
    local whl; whl="$(ls "$T"/wheels/taskmill-*.whl)"
    python3 -m venv "$T/venv"
    "$T/venv/bin/pip" install -q --no-index --disable-pip-version-check "$whl" || fail "pip install $whl"
    [ -x "$T/venv/bin/taskmill" ] || fail "no taskmill in the venv's bin/"
    "$T/venv/bin/pip" show -f taskmill >"$T/pip-show.txt"
    grep -q 'bin/taskmill' "$T/pip-show.txt" || fail "pip does not list bin/taskmill: $(cat "$T/pip-show.txt")"
    local port; port="$(free_port)"
    mkdir -p "$T/elsewhere"
    (cd "$T/elsewhere" && exec env -u LEPTOS_SITE_ROOT "$T/venv/bin/taskmill" -u "$REDIS_URL_BASE/11" \
        serve --port "$port") 2>"$T/wheel-serve.log" &
    track_pid $!
    local base="http://127.0.0.1:$port"
    wait_http "$base/healthz" 20 || fail "taskmill serve from the venv: $(cat "$T/wheel-serve.log")"
    curl -sS -D "$T/h" -o "$T/page.html" "$base/"
    grep -qi '^HTTP/1.1 200' "$T/h" && grep -qi '^content-type: text/html' "$T/h" || fail "page: $(cat "$T/h")"
    grep -q '<h1\|<main' "$T/page.html" || fail "not a full page"
    local rel hashed want
    for rel in pkg/taskmill.wasm pkg/taskmill.js pkg/taskmill.css; do
        hashed="$(grep -o "\"/${rel%.*}-[0-9a-f]\{16\}\.${rel##*.}\"" "$T/page.html" | head -1 | tr -d '"')"
        [ -n "$hashed" ] || fail "the page links no hashed $rel"
        case "$rel" in
            *.wasm) want=application/wasm ;; *.js) want=text/javascript ;; *.css) want=text/css ;;
        esac
        curl -sS -D "$T/h" -o "$T/body" --compressed "$base$hashed"
        grep -qi '^HTTP/1.1 200' "$T/h" || fail "$hashed: $(head -1 "$T/h")"
        grep -qi "^content-type: $want" "$T/h" || fail "$hashed content type: $(cat "$T/h")"
        cmp -s "$T/body" "$REPO/target/site/$rel" || fail "$hashed differs from target/site/$rel"
    done
    info "wheel $(basename "$whl") ($(stat -c %s "$whl") bytes): page + wasm/js/css served from the venv's taskmill"
}

# Item 3: behind a proxy (nginx + Chromium): test_behind_proxy, in its own file.
source "$REPO/scripts/deploy-proxy.sh"

make_certs
run_test tls test_tls
run_test tls-expired-and-client-certs test_tls_expired_and_client_certs
run_test unix-socket-and-acl test_unix_socket_and_acl
run_test bad-input test_bad_input
run_test sentinel-failover test_sentinel_failover
run_test config-file test_config_file
run_test json-log test_json_log
run_test prometheus test_prometheus
run_test embedded-site test_embedded_site
run_test wheel test_wheel
run_test behind-proxy test_behind_proxy
run_test openapi-schemathesis scripts/schemathesis.sh
printf '\ndeploy: %d passed, %d failed\n' "$PASSED" "$FAILED"
[ "$FAILED" = 0 ]
