#!/usr/bin/env bash
# Installs what the demo and the test suite need, skipping whatever is already there, so a second
# run takes a second or two. Shared by scripts/demo.sh and scripts/test.sh.
#
#   scripts/setup.sh          everything test.sh needs
#   scripts/setup.sh --demo   only what the demo needs (redis-server, wasm target, wasm-bindgen, wasm-opt,
#                             and the .venv whose Celery runs the demo's Celery worker)
#
# Sources: Debian packages (apt), the Rust wasm target (rustup), crates.io (wasm-bindgen-cli),
# npm (end2end/package-lock.json: playwright-core, binaryen's wasm-opt) and PyPI (the .venv for the
# Python RQ / Celery interop tests, the demo's Celery worker, maturin for the wheel, and
# schemathesis for the API's OpenAPI check). Nothing is downloaded from anywhere else: no
# browser download, no prebuilt binaries.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MODE=all
case "${1:-}" in
    --demo) MODE=demo ;;
    "" | --all) ;;
    *) die "usage: scripts/setup.sh [--demo]" ;;
esac

# --- Debian packages -------------------------------------------------------------------------
# Checked by binary, so a machine that has them (from any source) never needs root or apt.
need_apt=()
command -v redis-server >/dev/null || need_apt+=(redis-server)
command -v curl >/dev/null || need_apt+=(curl)
command -v node >/dev/null || need_apt+=(nodejs)
command -v npm >/dev/null || need_apt+=(npm)
python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)
if [ "$MODE" = all ]; then
    [ -x /usr/bin/chromium ] || need_apt+=(chromium)
    command -v wrk >/dev/null || need_apt+=(wrk)
    # scripts/deploy-tests.sh: a real Prometheus scrapes /metrics; promtool checks the format
    # (19 MB download; the package's service is not started by this script).
    command -v prometheus >/dev/null || need_apt+=(prometheus)
    command -v openssl >/dev/null || need_apt+=(openssl)
    # deploy-tests.sh behind-proxy: nginx in front of the console (its own config and port;
    # the package's service is never used).
    command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need_apt+=(nginx)
fi
if [ "${#need_apt[@]}" -gt 0 ]; then
    header "apt-get install ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq
    as_root apt-get install -y -qq "${need_apt[@]}" >/dev/null
else
    info "apt: nothing to install (all needed binaries present)"
fi

# --- Rust: wasm target and the wasm-bindgen CLI matching Cargo.lock --------------------------
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    header "rustup target add wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
else
    info "rust: wasm32-unknown-unknown installed"
fi

WBG="$(locked_wasm_bindgen_version)"
[ -n "$WBG" ] || die "no wasm-bindgen entry in Cargo.lock"
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WBG" ]; then
    header "cargo install wasm-bindgen-cli $WBG into $TASKMILL_TOOLS (about 2 minutes)"
    # No --locked: the crate's own lockfile pins a webpki-roots release that is not on crates.io
    # (see the notes in Trunk.toml / README). The CLI version itself is pinned exactly.
    cargo install wasm-bindgen-cli --version "=$WBG" --root "$TASKMILL_TOOLS"
    [ "$(wasm-bindgen --version | awk '{print $2}')" = "$WBG" ] || die "wasm-bindgen $WBG not on PATH after install"
else
    info "rust: wasm-bindgen $WBG ($(command -v wasm-bindgen))"
fi

# --- npm: playwright-core (drives Debian's chromium) and binaryen's wasm-opt ------------------
# npm ci reinstalls from scratch, so it runs only when package-lock.json changed since last time.
STAMP="$REPO/end2end/node_modules/.taskmill-lock"
if ! cmp -s "$REPO/end2end/package-lock.json" "$STAMP" 2>/dev/null || [ ! -x "$REPO/end2end/node_modules/.bin/wasm-opt" ]; then
    header "npm ci (end2end: playwright-core, binaryen)"
    (cd "$REPO/end2end" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$REPO/end2end/package-lock.json" "$STAMP"
else
    info "npm: end2end/node_modules up to date ($(wasm-opt --version))"
fi
case "$(command -v wasm-opt)" in
    "$REPO/end2end/node_modules/.bin/wasm-opt") ;;
    *) die "wasm-opt on PATH is not npm's binaryen: $(command -v wasm-opt)" ;;
esac

# --- Python venv: RQ and Celery (interop tests; the demo's Celery worker) ---------------------
# Both modes: the demo runs a real Celery worker from this venv. Reinstalled only when the
# pinned requirements changed or an import fails.
REQ="$REPO/tests/interop/requirements.txt"
VSTAMP="$REPO/.venv/.taskmill-requirements"
VCHECK='import sys, rq, celery; sys.exit(rq.__version__ != "2.12.0" or celery.__version__ != "5.7.0")'
if [ ! -x "$REPO/.venv/bin/python" ] || ! cmp -s "$REQ" "$VSTAMP" ||
    ! "$REPO/.venv/bin/python" -c "$VCHECK" 2>/dev/null; then
    header "python venv .venv (rq 2.12.0, celery 5.7.0 from PyPI)"
    [ -x "$REPO/.venv/bin/python" ] || python3 -m venv "$REPO/.venv"
    "$REPO/.venv/bin/python" -m pip install -q --disable-pip-version-check -r "$REQ"
    cp "$REQ" "$VSTAMP"
else
    info "python: .venv has $("$REPO/.venv/bin/python" -c 'import rq, celery; print(f"rq {rq.__version__}, celery {celery.__version__}")')"
fi

# --- maturin: builds the `pip install taskmill` wheel (scripts/build-wheel.sh, deploy-tests) --------
if [ "$MODE" = all ]; then
    MATURIN=1.16.0
    if [ "$("$REPO/.venv/bin/maturin" --version 2>/dev/null | awk '{print $2}')" != "$MATURIN" ]; then
        header "pip install maturin $MATURIN into .venv"
        "$REPO/.venv/bin/python" -m pip install -q --disable-pip-version-check "maturin==$MATURIN"
    else
        info "python: .venv has maturin $MATURIN"
    fi
fi

# --- schemathesis: fuzzes the API against its OpenAPI document (scripts/schemathesis.sh) -------
if [ "$MODE" = all ]; then
    SCHEMATHESIS=4.32.5
    if [ "$("$REPO/.venv/bin/st" --version 2>/dev/null | awk '{print $NF}')" != "$SCHEMATHESIS" ]; then
        header "pip install schemathesis $SCHEMATHESIS into .venv"
        "$REPO/.venv/bin/python" -m pip install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS"
    else
        info "python: .venv has schemathesis $SCHEMATHESIS"
    fi
fi

printf '%ssetup done%s\n' "$_G" "$_N"
