#!/usr/bin/env bash
# One command for the demo: installs what it needs (scripts/setup.sh --demo), builds the release
# binary and the console's site (scripts/build-site.sh), then runs `taskmill demo`: the console,
# a pool of workers and generated traffic, on a private redis-server that the demo starts (and
# removes) itself. It never touches another Redis (not 127.0.0.1:6379, not $REDIS_URL) unless
# `--redis URL` is given on the command line.
#
#   scripts/demo.sh [taskmill demo options]     e.g. --bind 127.0.0.1:9181 --no-traffic
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO"

"$REPO/scripts/setup.sh" --demo
"$REPO/scripts/build-site.sh"
header "taskmill demo $*"
trap - EXIT
exec "$REPO/target/release/taskmill" demo --site-root "$REPO/target/site" "$@"
