#!/usr/bin/env bash
# History memory benchmark: fills a private redis-server with DAYS days of history for QUEUES
# queues × FUNCTIONS functions exactly as recording leaves it (engine/examples/seed_stats.rs runs
# the workers' and the sampler's Lua on a simulated clock), then prints INFO memory figures and
# the key count. Budget (issue 10): 30 days of 50 queues × 200 functions ≤ 50 MB.
#
#   bench/stats.sh [QUEUES] [FUNCTIONS] [DAYS]        (defaults 50 200 30)
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$REPO"
QUEUES=${1:-50}
FUNCTIONS=${2:-200}
DAYS=${3:-30}
cargo build --release -q -p engine --example seed_stats
start_private_redis
echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "- redis: $(redis-server --version | grep -o 'v=[^ ]*'), defaults (listpack limits 128 entries / 64 bytes)"
echo "- history: $QUEUES queues × $FUNCTIONS functions × $DAYS days"
REDIS_URL="$REDIS_URL_BASE/0"
target/release/examples/seed_stats "$REDIS_URL" "$QUEUES" "$FUNCTIONS" "$DAYS"
redis-cli -u "$REDIS_URL" info memory | grep -E '^(used_memory|used_memory_human|used_memory_dataset):'
