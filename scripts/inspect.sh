#!/usr/bin/env bash
# One screen of where events are: the streams and their consumer groups, dead letters, path hits waiting
# in Redis, and what MariaDB has counted for a day. Read-only. A wrapper of `adly inspect` (cmd/adly);
# `scripts/inspect.sh --help` lists the options (--date, --watch, --json).
set -euo pipefail

# shellcheck source=scripts/lib/services.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/services.sh"
cd "$ADLY_ROOT"

ensure_go
mkdir -p bin
go build -o bin/adly ./cmd/adly || die "go build ./cmd/adly failed"
exec bin/adly inspect "$@"
