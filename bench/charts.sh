#!/usr/bin/env bash
# One chart render's cost (issue 10 budget: <= 2 ms server CPU), release build: the console's
# charts from an empty axis to the largest (24 h of minute buckets, 8 lines). Prints a table.
# Pages never render per request (renderings are cached per console for 5 s), so this is the
# cost of one renewal. Run on an idle machine: the figures are wall time per render.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$REPO"
cargo test --release -p app --features ssr --lib charts::render::tests::render_cost \
    -- --ignored --nocapture --test-threads 1 2>&1 | grep '^|'
