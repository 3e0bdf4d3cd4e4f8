#!/usr/bin/env bash
# Applies sql/schema.sql to $DB_NAME (default: ads), creating the database if
# needed. Safe to re-run: the schema is idempotent.
set -euo pipefail

# shellcheck source=scripts/lib/services.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/services.sh"

ensure_mariadb
apply_schema
