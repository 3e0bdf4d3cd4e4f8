#!/usr/bin/env bash
# Recounts every date from a given one on, exactly (no doubling): clears those dates' daily counts, voids what
# the exactly-once ledger says of them, and moves the consumer group back; the running workers then recount.
#
#   scripts/replay.sh impressions 2026-11-20
#   scripts/replay.sh clicks 2026-11-20
#
# The dates are calendar days in TIMEZONE (default UTC), as the workers count them. It refuses, and changes
# nothing, when the stream no longer holds the entries of that date (they were trimmed). The same REDIS_*,
# DB_* and REDIS_KEY_PREFIX variables as the workers apply.
set -euo pipefail

# shellcheck source=scripts/lib/services.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/services.sh"
cd "$ADLY_ROOT"

usage() {
	echo "usage: scripts/replay.sh impressions|clicks YYYY-MM-DD" >&2
	exit 2
}
[[ $# -eq 2 ]] || usage
case "$1" in
impressions) bin=impression-worker ;;
clicks) bin=click-worker ;;
*) usage ;;
esac
[[ $2 =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]] || {
	echo "replay.sh: the date must be YYYY-MM-DD, got '$2'" >&2
	exit 2
}

ensure_go
mkdir -p bin
go build -o "bin/$bin" "./cmd/$bin" || die "go build ./cmd/$bin failed"
exec "bin/$bin" replay --from "$2"
