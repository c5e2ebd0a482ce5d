#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls exactly this). Fails fast: the first failing
# section stops the run, and the timing table shows how far it got.
#
#   scripts/test.sh                    every section, in order
#   scripts/test.sh interop e2e        only the named sections (setup always runs)
#   KEEP_GOING=1 scripts/test.sh       run every section even after a failure (exit 1 at the end)
#
# Sections: setup fmt clippy engine app server interop build-site e2e hostile deploy
# Every section that needs Redis starts its own redis-server on a free port (never 6379).
# Each section's output is also kept in target/test-logs/<section>.log.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO"

ALL=(setup fmt clippy engine app server interop build-site e2e hostile deploy)
if [ $# -gt 0 ]; then
    for s in "$@"; do
        [[ " ${ALL[*]} " == *" $s "* ]] || die "unknown section '$s' (known: ${ALL[*]})"
    done
    WANT=(setup "$@")
else
    WANT=("${ALL[@]}")
fi

LOGS="$REPO/target/test-logs"
mkdir -p "$LOGS"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# The Rust tests that drive Python RQ find the interpreter here.
export TASKMILL_PYTHON="$REPO/.venv/bin/python"

NAMES=()
SECS=()
RESULTS=()
TOTAL_START=$SECONDS

summary() {
    local i passed=0 failed=0 line
    printf '\n%s==> summary%s\n' "$_B" "$_N"
    printf '    %-12s %8s  %s\n' section seconds result
    for i in "${!NAMES[@]}"; do
        printf '    %-12s %8s  %s\n' "${NAMES[$i]}" "${SECS[$i]}" "${RESULTS[$i]}"
    done
    printf '    %-12s %8s\n' total "$((SECONDS - TOTAL_START))"
    # Add up the test counts the runners printed (cargo's "test result:" lines, and the
    # "N passed, N failed" closing lines of the interop and e2e harnesses).
    for i in "${!NAMES[@]}"; do
        [ -f "$LOGS/${NAMES[$i]}.log" ] || continue
        while read -r line; do
            set -- $line
            passed=$((passed + $1))
            failed=$((failed + $2))
        done < <(sed -nE -e 's/^test result: [a-zA-Z]+\. ([0-9]+) passed; ([0-9]+) failed.*/\1 \2/p' \
            -e 's/^([a-z0-9-]+: )?([0-9]+) passed, ([0-9]+) failed.*/\2 \3/p' "$LOGS/${NAMES[$i]}.log")
    done
    printf '\ntests: %d passed, %d failed\n' "$passed" "$failed"
}

section() { # name command...
    local name=$1 rc=0 start=$SECONDS
    shift
    [[ " ${WANT[*]} " == *" $name "* ]] || return 0
    header "[$name] $*"
    "$@" 2>&1 | tee "$LOGS/$name.log" || rc=$?
    NAMES+=("$name")
    SECS+=("$((SECONDS - start))")
    if [ "$rc" = 0 ]; then
        RESULTS+=(ok)
    else
        RESULTS+=("FAILED (exit $rc)")
        FAILED_ANY=1
        printf '%ssection %s failed (exit %s); log: %s%s\n' "$_R" "$name" "$rc" "$LOGS/$name.log" "$_N" >&2
        if [ -z "${KEEP_GOING:-}" ]; then
            summary
            exit "$rc"
        fi
    fi
}
FAILED_ANY=

section setup scripts/setup.sh
section fmt cargo fmt --all --check
# The plain workspace command first (it unifies ssr + hydrate on app, a combination that is never
# shipped, but it is the command contributors type), then per package, so features stay as they
# ship: the host build with app/ssr (what the server links), the wasm build with app/hydrate (what
# the browser runs).
section clippy bash -c '
    set -e
    cargo clippy --all-targets -- -D warnings
    cargo clippy -p engine -p app -p server --all-targets --features app/ssr -- -D warnings
    cargo clippy -p app -p frontend --features app/hydrate --target wasm32-unknown-unknown \
        --target-dir target/front -- -D warnings'
section engine cargo test -p engine
section app cargo test -p app --features ssr
section server cargo test -p server
# interop.sh runs `cargo build -p server --bin taskmill` first: a no-op after the server section.
section interop scripts/interop.sh
section build-site scripts/build-site.sh
section e2e env TASKMILL_BIN="$REPO/target/release/taskmill" scripts/e2e.sh
# Stored HTML injection (issue #15): the hostile corpus on every page, the API and /metrics.
section hostile env TASKMILL_BIN="$REPO/target/release/taskmill" scripts/hostile.sh
# Issue #14: TLS, Unix socket, ACL, Cluster refusal, Sentinel failover, config file, logs, Prometheus.
section deploy env TASKMILL_BIN="$REPO/target/release/taskmill" scripts/deploy-tests.sh

summary
[ -z "$FAILED_ANY" ] || exit 1
