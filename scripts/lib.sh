# Shared helpers for the scripts in this folder. Source it; it sets strict mode.
#   REPO           absolute path of the checkout
#   TASKMILL_TOOLS where setup.sh installs tools that are not apt/npm/pip packages
#                  (default ~/.cache/taskmill; only wasm-bindgen today)
# PATH gets $TASKMILL_TOOLS/bin and end2end/node_modules/.bin first, so the pinned wasm-bindgen and
# npm's binaryen wasm-opt win over anything else on the machine (Debian's wasm-opt breaks the wasm).

set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TASKMILL_TOOLS="${TASKMILL_TOOLS:-$HOME/.cache/taskmill}"
export PATH="$TASKMILL_TOOLS/bin:$REPO/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export TASKMILL_PYTHON="${TASKMILL_PYTHON:-$REPO/.venv/bin/python}"

# Colour only on a terminal: CI logs stay plain text.
if [ -t 1 ]; then _B=$'\e[1m'; _R=$'\e[31m'; _G=$'\e[32m'; _N=$'\e[0m'; else _B=; _R=; _G=; _N=; fi

header() { printf '\n%s==> %s%s\n' "$_B" "$*" "$_N"; }
info() { printf '    %s\n' "$*"; }
die() { printf '%serror: %s%s\n' "$_R" "$*" "$_N" >&2; exit 1; }

# sudo only when needed and available; CI has no stdin, so never let sudo prompt.
as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else
        die "need root for: $* (install sudo or run as root)"; fi
}

# A TCP port nobody listens on right now (the kernel picks it; tiny race accepted in tests).
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_tcp() { # host port seconds
    local host=$1 port=$2 deadline=$((SECONDS + ${3:-10}))
    until (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

wait_http() { # url seconds
    local url=$1 deadline=$((SECONDS + ${2:-30}))
    until curl -fsS -o /dev/null "$url" 2>/dev/null; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.2
    done
}

# Background processes started by a script, killed (by pid) on exit.
_PIDS=()
_CLEANUP=()
track_pid() { _PIDS+=("$1"); }
on_exit() { _CLEANUP+=("$1"); }
_cleanup() {
    local p c
    for p in "${_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    for c in "${_CLEANUP[@]}"; do eval "$c" || true; done
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

# Starts a private redis-server (never 6379, no persistence) and sets REDIS_PORT / REDIS_URL_BASE.
start_private_redis() {
    command -v redis-server >/dev/null || die "redis-server not on PATH (run scripts/setup.sh)"
    local dir; dir="$(mktemp -d "${TMPDIR:-/tmp}/taskmill-redis.XXXXXX")"
    REDIS_PORT="$(free_port)"
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
        --databases 1000 --dir "$dir" --logfile "$dir/redis.log" &
    track_pid $!
    on_exit "rm -rf '$dir'"
    wait_tcp 127.0.0.1 "$REDIS_PORT" 10 || die "private redis-server did not start on port $REDIS_PORT"
    REDIS_URL_BASE="redis://127.0.0.1:$REDIS_PORT"
}

# The wasm-bindgen version the workspace is locked to (the CLI must match it exactly).
locked_wasm_bindgen_version() {
    awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' "$REPO/Cargo.lock"
}

# The taskmill binary for harnesses: $TASKMILL_BIN, else a fresh debug build.
taskmill_bin() {
    if [ -n "${TASKMILL_BIN:-}" ]; then
        [ -x "$TASKMILL_BIN" ] || die "TASKMILL_BIN=$TASKMILL_BIN is not executable"
        printf '%s\n' "$TASKMILL_BIN"
        return
    fi
    (cd "$REPO" && cargo build -q -p server --bin taskmill) >&2 || die "cargo build -p server failed"
    printf '%s\n' "$REPO/target/debug/taskmill"
}
