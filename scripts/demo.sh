#!/usr/bin/env bash
# One command for the demo: installs what it needs (scripts/setup.sh --demo), builds the release
# binary and the console's site (scripts/build-site.sh), then runs `taskmill demo`: the console,
# a pool of workers and generated traffic, on the Redis at 127.0.0.1:6379 or, if none answers
# there, on a private redis-server that the demo starts (and stops) itself.
#
#   scripts/demo.sh [taskmill demo options]     e.g. --bind 127.0.0.1:9181 --no-traffic
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO"

"$REPO/scripts/setup.sh" --demo
"$REPO/scripts/build-site.sh"
header "taskmill demo $*"
trap - EXIT
exec "$REPO/target/release/taskmill" demo --site-root "$REPO/target/site" "$@"
