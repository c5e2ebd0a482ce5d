#!/usr/bin/env bash
# Builds the console's static site, then the `taskmill` binary with that site embedded in it
# (server/build.rs), without cargo-leptos or trunk:
#
#   target/site/pkg/taskmill.js|.wasm   the islands bundle (wasm-bindgen --target web, wasm-opt -Oz)
#   target/site/pkg/taskmill.css        style/main.css
#   target/site/*                       public/
#   target/release/taskmill             server (SSR + API + CLI) carrying target/site: hashed names,
#                                       gzip + brotli made once by build.rs (release only)
#
# The order is fixed: wasm → site → server, because the server embeds the site. The two cargo
# builds use separate target dirs (target/ and target/front) so the wasm build never unifies
# `hydrate` with the server's `ssr` features. (They used to run in parallel; on 2 cores the
# serial order costs little, and there is still one release link of the server.)
# PROFILE=debug builds both halves unoptimised and skips wasm-opt (faster local iteration).
# Needs: scripts/setup.sh --demo (wasm target, wasm-bindgen matching Cargo.lock, npm's wasm-opt).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO"

PROFILE="${PROFILE:-release}"
export LEPTOS_OUTPUT_NAME=taskmill
SITE="$REPO/target/site"
PKG="$SITE/pkg"

WBG="$(locked_wasm_bindgen_version)"
[ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" = "$WBG" ] ||
    die "wasm-bindgen $WBG not on PATH (run scripts/setup.sh --demo)"

if [ "$PROFILE" = release ]; then
    server_args=(--release)
    wasm_profile=wasm-release
else
    server_args=()
    wasm_profile=dev
fi
wasm_dir=$([ "$wasm_profile" = dev ] && echo debug || echo "$wasm_profile")

header "cargo build -p frontend --profile $wasm_profile (wasm32)"
start=$SECONDS
cargo build -p frontend --lib --target wasm32-unknown-unknown --profile "$wasm_profile" \
    --target-dir target/front || die "wasm build failed"
info "wasm build: $((SECONDS - start)) s"

header "assemble target/site"
rm -rf "$SITE"
mkdir -p "$PKG"
if [ -d public ] && [ -n "$(ls -A public 2>/dev/null)" ]; then cp -R public/. "$SITE/"; fi
if [ -f style/main.css ]; then cp style/main.css "$PKG/taskmill.css"; else
    info "warning: style/main.css missing; writing an empty taskmill.css"
    : >"$PKG/taskmill.css"
fi
wasm-bindgen --target web --no-typescript --out-name taskmill --out-dir "$PKG" \
    "target/front/wasm32-unknown-unknown/$wasm_dir/frontend.wasm"
mv "$PKG/taskmill_bg.wasm" "$PKG/taskmill.wasm"
if [ "$PROFILE" = release ]; then
    # npm binaryen 132 only: Debian's wasm-opt 108 produces a wasm that fails in the browser.
    case "$(command -v wasm-opt)" in
        "$REPO/end2end/node_modules/.bin/wasm-opt") ;;
        *) die "wasm-opt must come from end2end/node_modules (run scripts/setup.sh --demo)" ;;
    esac
    before=$(stat -c %s "$PKG/taskmill.wasm")
    wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
        "$PKG/taskmill.wasm" -o "$PKG/taskmill.wasm"
    info "wasm-opt: $before → $(stat -c %s "$PKG/taskmill.wasm") bytes"
fi

header "cargo build -p server ${server_args[*]} (embeds target/site)"
server_start=$SECONDS
# The stamp makes build.rs look at target/site again even if the last server build saw none.
TASKMILL_SITE_STAMP="$(date +%s)" cargo build -p server --bin taskmill "${server_args[@]}" ||
    die "server build failed"
info "server build: $((SECONDS - server_start)) s"

bin="target/$([ "$PROFILE" = release ] && echo release || echo debug)/taskmill"
info "binary: $bin ($(stat -c %s "$bin") bytes)"
(cd "$SITE" && find . -type f -printf '    site: %p %s bytes\n' | sort)
info "build-site: $((SECONDS - start)) s in all"
