#!/usr/bin/env bash
# Recounts every date from a given one on, exactly (no doubling): clears those dates' daily counts, voids what
# the exactly-once ledger says of them, and moves the consumer group back; the running workers then recount.
#
#   scripts/replay.sh impressions 2026-11-20
#   scripts/replay.sh clicks 2026-11-20
#
# A wrapper of `adly replay --kind impressions|clicks --from YYYY-MM-DD` (cmd/adly), which says more.
set -euo pipefail

# shellcheck source=scripts/lib/services.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/services.sh"
cd "$ADLY_ROOT"

[[ $# -eq 2 ]] || {
	echo "usage: scripts/replay.sh impressions|clicks YYYY-MM-DD" >&2
	exit 2
}
ensure_go
mkdir -p bin
go build -o bin/adly ./cmd/adly || die "go build ./cmd/adly failed"
exec bin/adly replay --kind "$1" --from "$2"
