#!/usr/bin/env bash
# Runs one impression worker in the foreground (Ctrl-C or SIGTERM stops it cleanly after the batch in hand), as
# the seed's worker scripts did. Run several, in several terminals or hosts, to share the work: each gets a
# unique consumer name (hostname-pid) unless CONSUMER_NAME is set. Configuration: the README's table.
set -euo pipefail

# shellcheck source=scripts/lib/services.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/services.sh"
cd "$ADLY_ROOT"

ensure_go
mkdir -p bin
go build -o bin/impression-worker ./cmd/impression-worker || die "go build ./cmd/impression-worker failed"
export LOG_FORMAT="${LOG_FORMAT:-console}"
# Its own admin port, so it can run beside the pipeline that scripts/start.sh started.
export ADMIN_ADDR="${ADMIN_ADDR:-127.0.0.1:0}"
exec bin/impression-worker "$@"
