#!/usr/bin/env bash
# Load benchmarks, measured over loopback on this machine.
#
#   scripts/bench.sh api    ingest API against bare204, a Go server that only
#                           answers 204 (the HTTP ceiling of this machine), and
#                           against the confirmed-write reference, a Go server
#                           that answers 204 once one pipelined XADD per request
#                           is confirmed (the least a confirmed write costs);
#                           with the API's p99 and peak RSS
#   scripts/bench.sh worker impression-worker draining a pre-filled stream,
#                           against a bare XREADGROUP + XACK loop (the Redis
#                           ceiling of this machine)
#   scripts/bench.sh syncer path-syncer --once moving path hit counters into
#                           MariaDB, against a bare SCAN + GET pass over the
#                           same counters (the Redis ceiling of this machine)
#   scripts/bench.sh load   one API and one impression-worker under GET
#                           impressions at a fixed rate: MariaDB commits per
#                           second, time from the API's answer to the event
#                           counted in MariaDB (p50/p99/max), worker RSS
#   scripts/bench.sh pipeline
#                           the API alone against the API with one
#                           impression-worker counting, under the same wrk
#                           load, and the worker's catch-up after the load
#   scripts/bench.sh report the report binary over a year of 10,000 ads
#                           (7.3 M daily rows) and 200,000 paths: p50/p99 of
#                           one ad's year, all ads over 30 days and the top
#                           100 paths, each against the bare SELECTs it runs;
#                           its database (adly_bench_report) is filled once
#                           and kept for the next run
#   scripts/bench.sh report --drop
#                           drops that database
#   scripts/bench.sh scale  the drain rate of 1, 2 and 4 impression-workers on
#                           1 and on 4 stream shards (STREAM_SHARDS), with a
#                           proxy holding each MariaDB statement DB_DELAY, so
#                           that the database is the bottleneck
#   scripts/bench.sh wait   the API with REDIS_WAIT_REPLICAS 0 and 1 under wrk,
#                           on a Redis with one replica that the run starts
#                           (free loopback ports, nothing on disk)
#
# This script only makes sure the tools and servers are there (Go, wrk,
# Redis, MariaDB; installed from Debian packages or started on loopback when
# missing, as scripts/lib/services.sh does for every script) and builds
# scripts/bench, the Go program that does the rest: it checks the settings,
# builds the binaries it measures, fills Redis, runs wrk and the processes in
# interleaved rounds, checks the counts, and prints each round, the medians
# and a Markdown block for BENCHMARKS.md. A run whose counts are wrong, or
# whose API answered non-2xx, exits non-zero. Its doc comment
# (scripts/bench/main.go) and BENCHMARKS.md say what each mode measures.
#
# Environment (defaults):
#   mode api:    ROUNDS (5), DURATION (10s, as wrk takes it),
#                BENCH_HTTP_ADDR (127.0.0.1:18080), BENCH_ADMIN_ADDR
#                (127.0.0.1:19091), BENCH_BARE_ADDR (127.0.0.1:18204),
#                BENCH_REF_ADDR (127.0.0.1:18205)
#   mode worker: ROUNDS (3), ENTRIES (2000000)
#   mode syncer: ROUNDS (3), PATHS (1000000), SYNC_CHUNK_PATHS (path-syncer's
#                default when unset)
#   mode load:   RATE (5000 events/s), DURATION (30s), CONCURRENCY (64
#                senders), BENCH_HTTP_ADDR, BENCH_ADMIN_ADDR as for api,
#                BENCH_WORKER_ADMIN_ADDR (127.0.0.1:19092)
#   mode pipeline: ROUNDS (3), DURATION (30s), the addresses of mode load
#   mode scale:  ROUNDS (2), ENTRIES (200000), DB_DELAY (5ms per statement),
#                BATCH_SIZE (250) and MERGE_READS (1), the workers' (every
#                read its own transaction, so round trips set the pace)
#   mode wait:   ROUNDS (5), DURATION (10s)
#   mode report: ROUNDS (3), REQUESTS (200 per report and round), REPORTS (all;
#                or some of ad, ads, paths, comma-separated),
#                BENCH_REPORT_ADDR (127.0.0.1:18090), BENCH_ADMIN_ADDR
#                (127.0.0.1:19095); it needs MariaDB only, and its
#                database is adly_bench_report, not a random one
#   every mode:  GOMAXPROCS, when set, for the measured binaries and the
#                ceiling alike; REDIS_HOST, REDIS_PORT, REDIS_PASSWORD,
#                REDIS_DB, and for worker, syncer, load and pipeline
#                DB_HOST, DB_PORT, DB_USER, DB_PASS, as the binaries read
#                them (for those modes on loopback only). DB_NAME is not
#                used: a run creates adly_bench_<random>. Modes load and
#                pipeline run the worker with BATCH_WAIT and MERGE_READS
#                at their defaults, whatever the environment says.
#                ADLY_WAIT_SECS (30) also bounds how long the servers of
#                modes api, load and pipeline get to answer.
#
# A run writes under a Redis key prefix and into a database of its own, both
# removed on exit, Ctrl-C included (mode report keeps its database: filling
# it takes a minute or two; `scripts/bench.sh report --drop` removes it).
set -euo pipefail

# shellcheck source=scripts/lib/services.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/services.sh"
cd "$ADLY_ROOT"

usage() {
	printf 'usage: %s MODE\n\nmodes:\n' "${0##*/}" >&2
	printf '  api    ingest API (GET impression, POST batch of 100) against a bare 204 server\n' >&2
	printf '  worker impression-worker (1 and 2 consumers) against a bare XREADGROUP + XACK loop\n' >&2
	printf '  syncer path-syncer --once (Redis counters to MariaDB) against a bare SCAN + GET pass\n' >&2
	printf '  load   API + impression-worker at a fixed rate: commits/s, answer-to-counted latency\n' >&2
	printf '  pipeline API alone against API + impression-worker under wrk, and the catch-up\n' >&2
	printf '  report the report binary (a year of 10,000 ads, 200,000 paths) against its bare SELECTs\n' >&2
	printf '  scale  1, 2 and 4 impression-workers on 1 and 4 stream shards, MariaDB behind a delay\n' >&2
	printf '  wait   the API with REDIS_WAIT_REPLICAS 0 and 1, on a Redis with a replica of its own\n' >&2
	printf '\napi: ROUNDS (default 5) and DURATION (default 10s) set the length.\n' >&2
	printf 'worker: ENTRIES (default 2000000) and ROUNDS (default 3) set the length.\n' >&2
	printf 'syncer: PATHS (default 1000000) and ROUNDS (default 3) set the length.\n' >&2
	printf 'load: RATE (default 5000) and DURATION (default 30s) set the load.\n' >&2
	printf 'pipeline: ROUNDS (default 3) and DURATION (default 30s) set the length.\n' >&2
	printf 'report: ROUNDS (default 3) and REQUESTS (default 200) set the length, REPORTS (ad,ads,paths; default all) which; report --drop drops its database.\n' >&2
	printf 'scale: ENTRIES (default 200000), ROUNDS (default 2), DB_DELAY (default 5ms), BATCH_SIZE (default 250), MERGE_READS (default 1).\n' >&2
	printf 'wait: ROUNDS (default 5) and DURATION (default 10s) set the length.\n' >&2
	printf 'See the header of this script.\n' >&2
	exit 2
}

DROP=
if [[ $# -eq 2 && $1 == report && $2 == --drop ]]; then
	DROP=1
elif [[ $# -ne 1 ]]; then
	usage
fi
MODE=$1
case $MODE in
api | worker | syncer | load | pipeline | report | scale | wait) ;;
*)
	printf 'unknown mode: %s (modes: api worker syncer load pipeline report scale wait)\n' "$MODE" >&2
	usage
	;;
esac

ensure_go
WORK=$(mktemp -d "${TMPDIR:-/tmp}/adly-bench.XXXXXX") || die "cannot create a temporary directory"
BENCH_PID=

# Lets the benchmark finish its own cleanup (it stops its processes, unlinks
# its keys and drops its database), then removes the work directory.
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [[ -n $BENCH_PID ]]; then
		kill -TERM "$BENCH_PID" 2>/dev/null || true
		wait "$BENCH_PID" 2>/dev/null || true
	fi
	rm -rf "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "building scripts/bench into $WORK"
go build -o "$WORK/bench" ./scripts/bench || die "go build ./scripts/bench failed"
if [[ -n $DROP ]]; then
	ensure_mariadb
	"$WORK/bench" -drop report
	exit
fi
# Bad settings fail here, before anything is installed or started.
"$WORK/bench" -check "$MODE" || exit

[[ $MODE == report ]] || ensure_redis
case $MODE in
api | wait) command -v wrk >/dev/null 2>&1 || apt_install wrk ;;
pipeline)
	command -v wrk >/dev/null 2>&1 || apt_install wrk
	ensure_mariadb
	;;
*) ensure_mariadb ;;
esac

# In the background and waited for: bash runs the Ctrl-C trap at once during
# `wait`; cleanup then lets the benchmark finish its own.
rc=0
"$WORK/bench" -workdir "$WORK" "$MODE" </dev/null &
BENCH_PID=$!
wait "$BENCH_PID" || rc=$?
BENCH_PID=
exit "$rc"
