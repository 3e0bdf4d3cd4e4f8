#!/usr/bin/env bash
# Load benchmarks, measured over loopback on this machine.
#
#   scripts/bench.sh api    ingest API against bare204, a Go server that only
#                           answers 204 (the HTTP ceiling of this machine)
#   scripts/bench.sh worker impression-worker draining a pre-filled stream,
#                           against a bare XREADGROUP + XACK loop (the Redis
#                           ceiling of this machine)
#   scripts/bench.sh syncer path-syncer --once moving path hit counters into
#                           MariaDB, against a bare SCAN + GET pass over the
#                           same counters (the Redis ceiling of this machine)
#
# Mode api runs ROUNDS interleaved rounds of three wrk runs each: bare204,
# GET /track/impression?ad_id=123 and POST /track/batch with 100 impression
# events per request. Interleaving spreads drift on the machine (other load,
# thermal) over all three instead of biasing one. It prints each round, the
# medians, and a Markdown block to paste into notes or a pull request.
#
# Environment (defaults):
#   ROUNDS (5)       rounds; the load alone takes ROUNDS x 3 x DURATION
#   DURATION (10s)   length of each wrk run: N, Ns, Nm or Nh
#   GOMAXPROCS       passed to both servers when set (never to only one)
#   BENCH_HTTP_ADDR (127.0.0.1:18080)   API listener
#   BENCH_ADMIN_ADDR (127.0.0.1:19091)  API admin listener (/readyz, /metrics)
#   BENCH_BARE_ADDR (127.0.0.1:18204)   bare204 listener
#   REDIS_HOST, REDIS_PORT, REDIS_PASSWORD, REDIS_DB as for the API.
#
# Events go to Redis under the key prefix bench:<pid>:, which is emptied after
# every API run and on exit, so the benchmark leaves Redis as it found it.
#
# Mode worker fills impressions_stream once with ENTRIES entries (10,000
# ad_ids, three dates), then runs ROUNDS interleaved rounds over all of it: the
# ceiling (XREADGROUP COUNT 1000 + XACK, no database), impression-worker with
# one consumer, and with two consumer processes. Each worker run starts from a
# fresh group and empty tables and ends when nothing is pending and the last
# entry was delivered; the counts in MariaDB must then equal what was written,
# or the benchmark fails. scripts/bench/workerbench does the measuring.
#
# Environment for mode worker (defaults):
#   ENTRIES (2000000)  stream entries; each run reads all of them
#   ROUNDS (3)         rounds; the machine is noisy, so the summary uses medians
#   GOMAXPROCS         passed to the workers and the ceiling loop when set
#   REDIS_HOST, REDIS_PORT, REDIS_PASSWORD, REDIS_DB, DB_HOST, DB_PORT,
#   DB_USER, DB_PASS as for the workers (both on loopback). DB_NAME is not
#   used: each run creates a database adly_bench_<random> and drops it.
#
# Its keys live under bench:<pid>: as well; they and the database are removed
# on exit, Ctrl-C included.
#
# Mode syncer writes PATHS hit counters (analytics:hit:/bench/page/<n>, each
# holding 1 + n%7, by pipelined INCRBY) before each of ROUNDS interleaved
# rounds, since a sync empties them. A round is the ceiling (SCAN MATCH COUNT
# 1000 and a pipelined GET of each page, no database) and one path-syncer
# --once on empty path_counters and path_sync_log, timed from its start to its
# exit. The sync must then exit 0, print "Synced PATHS paths", leave PATHS rows
# in path_counters holding every hit written, and leave no counter in Redis,
# or the benchmark fails. Targets: 1,000,000 paths in 10 s or less, and at
# least 0.40 of the ceiling's keys/s. scripts/bench/syncbench does the
# measuring.
#
# Environment for mode syncer (defaults):
#   PATHS (1000000)    distinct paths written before every round
#   ROUNDS (3)         rounds; the machine is noisy, so the summary uses medians
#   SYNC_CHUNK_PATHS   passed to path-syncer when set (its default is 20000)
#   GOMAXPROCS         passed to path-syncer and the ceiling loop when set
#   REDIS_HOST, REDIS_PORT, REDIS_PASSWORD, REDIS_DB, DB_HOST, DB_PORT,
#   DB_USER, DB_PASS as for path-syncer (both on loopback). DB_NAME is not
#   used: each run creates a database adly_bench_<random> and drops it.
#
# Its keys live under b<random>:; they and the database are
# removed on exit, Ctrl-C included.
set -euo pipefail

# shellcheck source=scripts/lib/services.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/services.sh"
cd "$ADLY_ROOT"

MODES=(api worker syncer)

usage() {
	printf 'usage: %s MODE\n\nmodes:\n' "${0##*/}" >&2
	printf '  api    ingest API (GET impression, POST batch of 100) against a bare 204 server\n' >&2
	printf '  worker impression-worker (1 and 2 consumers) against a bare XREADGROUP + XACK loop\n' >&2
	printf '  syncer path-syncer --once (Redis counters to MariaDB) against a bare SCAN + GET pass\n' >&2
	printf '\napi: ROUNDS (default 5) and DURATION (default 10s) set the length.\n' >&2
	printf 'worker: ENTRIES (default 2000000) and ROUNDS (default 3) set the length.\n' >&2
	printf 'syncer: PATHS (default 1000000) and ROUNDS (default 3) set the length.\n' >&2
	printf 'See the header of this script.\n' >&2
	exit 2
}

# ------------------------------------------------------------------ helpers

# Prints the median of the numbers on stdin, one per line; fails on no input.
# printf, not print: awk would print large rates in exponent form.
median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) exit 1
		if (NR % 2) m = v[(NR + 1) / 2]; else m = (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.6f\n", m
	}'
}

# Duration as wrk takes it (N, Ns, Nm, Nh) to seconds.
duration_secs() {
	local d=$1
	[[ $d =~ ^([0-9]+)([smh]?)$ ]] || return 1
	case "${BASH_REMATCH[2]}" in
	"" | s) echo "$((10#${BASH_REMATCH[1]}))" ;;
	m) echo "$((10#${BASH_REMATCH[1]} * 60))" ;;
	h) echo "$((10#${BASH_REMATCH[1]} * 3600))" ;;
	esac
}

# Dies unless a listen address is on loopback: the numbers are only comparable
# when nothing but this machine is involved.
require_loopback() {
	local var=$1 addr=$2
	is_loopback "${addr%:*}" || die "$var=$addr: the benchmark runs on loopback only (use 127.0.0.1:PORT)"
	[[ ${addr##*:} =~ ^[0-9]+$ ]] || die "$var=$addr: expected HOST:PORT"
}

# ------------------------------------------------------------- processes

declare -A PIDS=()

# start_bg NAME CMD...: runs CMD in the background with its output in WORK/NAME.log.
start_bg() {
	local name=$1
	shift
	"$@" </dev/null >"$WORK/$name.log" 2>&1 &
	PIDS[$name]=$!
}

show_log() {
	[[ -s $WORK/$1.log ]] || return 0
	printf -- '--- last lines of the %s log ---\n' "$1" >&2
	tail -n 20 "$WORK/$1.log" >&2 || true
	printf -- '---\n' >&2
}

check_alive() {
	if ! pid_alive "${PIDS[$1]}"; then
		show_log "$1"
		die "$1 exited unexpectedly"
	fi
}

# wait_status NAME URL CODE: waits until URL answers CODE while NAME runs.
wait_status() {
	local name=$1 url=$2 want=$3 code=000 i
	for ((i = 0; i < ADLY_WAIT_SECS * 10; i++)); do
		code=$(http_status "$url")
		[[ $code == "$want" ]] && return 0
		check_alive "$name"
		sleep 0.1
	done
	show_log "$name"
	die "$name: $url did not answer $want within ${ADLY_WAIT_SECS}s (last status: $code)"
}

stop_servers() {
	local name pid i
	for name in "${!PIDS[@]}"; do
		pid=${PIDS[$name]}
		if pid_alive "$pid"; then
			kill -TERM "$pid" 2>/dev/null || true
			# The API drains in-flight requests on SIGTERM; after a run there are none.
			for ((i = 0; i < 50; i++)); do
				pid_alive "$pid" || break
				sleep 0.1
			done
			if pid_alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
		fi
		wait "$pid" 2>/dev/null || true
	done
	PIDS=()
}

# ----------------------------------------------------------------- Redis

# Removes every key under the bench prefix. UNLINK rather than DEL: freeing
# a stream of millions of entries happens off Redis's main thread, so Redis
# (which others may be using) does not stall.
redis_clean() {
	local out i
	local -a keys=()
	out=$(rcli -n "$REDIS_DB" --scan --pattern "${PREFIX}*") || return 1
	[[ -n $out ]] && mapfile -t keys <<<"$out"
	for ((i = 0; i < ${#keys[@]}; i += 1000)); do
		rcli -n "$REDIS_DB" unlink "${keys[@]:i:1000}" >/dev/null || return 1
	done
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [[ -n ${WRK_PID:-} ]]; then
		kill -TERM "$WRK_PID" 2>/dev/null || true
		wait "$WRK_PID" 2>/dev/null || true
	fi
	stop_servers
	# workerbench and syncbench remove their keys and database themselves; the
	# rest of cleanup only catches what they could not.
	if [[ -n ${BENCH_PID:-} ]]; then
		stop_bench "$BENCH_PID"
		BENCH_PID=
	fi
	if [[ -n ${BENCH_DB:-} ]] && ! drop_bench_db; then
		warn "could not drop database $BENCH_DB; drop it with: mariadb -h $DB_HOST -P $DB_PORT -u $DB_USER -e 'DROP DATABASE IF EXISTS \`$BENCH_DB\`'"
	fi
	if [[ ${REDIS_READY:-0} -eq 1 ]]; then
		if ! redis_clean; then
			warn "could not remove the Redis keys under ${PREFIX}; remove them with: redis-cli -n $REDIS_DB --scan --pattern '${PREFIX}*' | xargs -r -n 1000 redis-cli -n $REDIS_DB unlink"
		elif [[ -n $(rcli -n "$REDIS_DB" --scan --pattern "${PREFIX}*" 2>/dev/null) ]]; then
			warn "Redis keys under $PREFIX remain after cleanup"
		fi
	fi
	[[ -n ${WORK:-} ]] && rm -rf "$WORK"
	exit "$rc"
}

# ------------------------------------------------------------------- wrk

# run_wrk NAME ROUND URL [WRK ARGS...]: one wrk run; appends
# "round name req/s p99_ms non2xx socket_errors" to WORK/results.
run_wrk() {
	local name=$1 round=$2 url=$3 out parsed
	shift 3
	out="$WORK/wrk.$name.$round.txt"
	# In the background and waited for: bash runs the Ctrl-C trap at once during
	# `wait`, whereas wrk in the foreground catches SIGINT, exits 0, and bash then
	# carries on as if nothing happened. cleanup stops WRK_PID.
	local rc=0
	BATCH_EVENTS=$BATCH_EVENTS timeout -k 5 "$WRK_TIMEOUT" \
		wrk -t2 -c64 -d"$DURATION" --latency "$@" "$url" >"$out" 2>&1 &
	WRK_PID=$!
	wait "$WRK_PID" || rc=$?
	WRK_PID=
	if [[ $rc -ne 0 ]]; then
		cat "$out" >&2
		die "wrk failed or timed out against $url"
	fi
	# wrk prints the Non-2xx and Socket errors lines only when they are not zero.
	# It counts statuses >= 400 as non-2xx; none of these endpoints redirect.
	parsed=$(awk '
		/^Requests\/sec:/ { rps = $2 }
		/^[ \t]+99%/ {
			v = $2; n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
			if (u == "us") n /= 1000; else if (u == "s") n *= 1000
			else if (u == "m") n *= 60000; else if (u == "h") n *= 3600000
			p99 = n
		}
		/Non-2xx or 3xx responses:/ { non = $NF }
		/Socket errors:/ { gsub(/,/, ""); sock = $4 + $6 + $8 + $10 }
		END {
			if (rps == "" || p99 == "") exit 1
			printf "%s %.3f %d %d\n", rps, p99, non, sock
		}' "$out") || {
		cat "$out" >&2
		die "could not read the results of wrk against $url"
	}
	printf '%s %s %s\n' "$round" "$name" "$parsed" >>"$WORK/results"
	if [[ $(awk '{ print $3 + $4 }' <<<"$parsed") != 0 ]]; then
		grep -E 'Non-2xx|Socket errors' "$out" | sed "s/^ */round $round $name: /" >>"$WORK/flags"
	fi
}

# Column of one run in a round's line, with a flag when anything failed.
round_cell() {
	awk -v r="$1" -v n="$2" -v label="$3" '$1 == r && $2 == n {
		printf "%-10s %9.0f req/s  p99 %8.2f ms", label, $3, $4
		if ($5 > 0) printf "  !! %d non-2xx", $5
		if ($6 > 0) printf "  !! %d socket errors", $6
	}' "$WORK/results"
}

# med FIELD NAME: median of a results column (3 req/s, 4 p99) for one target.
med() {
	awk -v f="$1" -v n="$2" '$2 == n { print $f }' "$WORK/results" | median
}

# med_ratio NAME [BASE]: median over rounds of NAME's rate (column 3) divided
# by BASE's (default bare, i.e. bare204) in the same round.
med_ratio() {
	awk -v n="$1" -v base="${2:-bare}" '$2 == base { b[$1] = $3 } $2 == n { x[$1] = $3 }
		END { for (r in x) if (b[r] > 0) print x[r] / b[r] }' "$WORK/results" | median
}

# ------------------------------------------------------------------ mode api

bench_api() {
	ROUNDS="${ROUNDS:-5}"
	DURATION="${DURATION:-10s}"
	[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer, got '$ROUNDS'"
	local secs=0
	secs=$(duration_secs "$DURATION") || true
	[[ $secs -gt 0 ]] || die "DURATION must be N, Ns, Nm or Nh with N > 0 (as wrk takes it), got '$DURATION'"
	# wrk stops by itself after DURATION; the margin covers connecting and the report.
	WRK_TIMEOUT=$((secs + 30))
	# One body size, used by the Lua script and by the events/s figure alike.
	BATCH_EVENTS=100

	if [[ -n ${GOMAXPROCS:-} ]]; then
		[[ $GOMAXPROCS =~ ^[1-9][0-9]*$ ]] || die "GOMAXPROCS must be a positive integer, got '$GOMAXPROCS'"
		# Exported so both servers inherit the same value.
		export GOMAXPROCS
	fi

	local http_addr="${BENCH_HTTP_ADDR:-127.0.0.1:18080}"
	local admin_addr="${BENCH_ADMIN_ADDR:-127.0.0.1:19091}"
	local bare_addr="${BENCH_BARE_ADDR:-127.0.0.1:18204}"
	require_loopback BENCH_HTTP_ADDR "$http_addr"
	require_loopback BENCH_ADMIN_ADDR "$admin_addr"
	require_loopback BENCH_BARE_ADDR "$bare_addr"
	# The API would use a cluster instead of REDIS_HOST/PORT, where cleanup does not look.
	[[ -z ${REDIS_CLUSTER_ADDRS:-} ]] || die "unset REDIS_CLUSTER_ADDRS: the benchmark uses REDIS_HOST/REDIS_PORT"
	REDIS_DB="${REDIS_DB:-0}"
	[[ $REDIS_DB =~ ^[0-9]+$ ]] || die "REDIS_DB must be a non-negative integer, got '$REDIS_DB'"
	export REDIS_DB

	local total=$((ROUNDS * 3 * secs))
	log "mode api: $ROUNDS rounds x 3 runs x $DURATION = ${total}s of load ($((total / 60))m$((total % 60))s), plus build and start-up"

	ensure_go
	command -v wrk >/dev/null 2>&1 || apt_install wrk
	ensure_redis

	PREFIX="bench:$$:"
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/adly-bench.XXXXXX") || die "cannot create a temporary directory"
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	REDIS_READY=1
	# A pid reused from a run that was killed hard may have left keys behind.
	redis_clean || die "cannot list or remove keys under $PREFIX in Redis"

	log "building api and bare204 into $WORK"
	go build -o "$WORK/api" ./cmd/api || die "go build ./cmd/api failed"
	go build -o "$WORK/bare204" ./scripts/bench/bare204 || die "go build ./scripts/bench/bare204 failed"

	# Someone else's server on one of the ports would be measured instead of ours.
	local addr
	for addr in "$bare_addr" "$http_addr" "$admin_addr"; do
		[[ $(http_status "http://$addr/") == 000 ]] ||
			die "something already answers at $addr; pick free ports with BENCH_BARE_ADDR, BENCH_HTTP_ADDR, BENCH_ADMIN_ADDR"
	done

	start_bg bare204 "$WORK/bare204" "$bare_addr"
	start_bg api env HTTP_ADDR="$http_addr" ADMIN_ADDR="$admin_addr" \
		REDIS_KEY_PREFIX="$PREFIX" LOG_LEVEL=warn "$WORK/api"
	wait_status bare204 "http://$bare_addr/" 204
	wait_status api "http://$admin_addr/readyz" 200

	local have_curl=0 gmp_effective='' gmp_note
	command -v curl >/dev/null 2>&1 && have_curl=1
	# Go's default follows the CPU count and any cgroup limit; the API reports what it chose.
	if [[ $have_curl -eq 1 ]]; then
		gmp_effective=$(curl -s -m 3 "http://$admin_addr/metrics" 2>/dev/null |
			awk '$1 == "go_sched_gomaxprocs_threads" { print $2 }') || true
	fi
	if [[ -n ${GOMAXPROCS:-} ]]; then
		gmp_note="GOMAXPROCS=$GOMAXPROCS (set for both servers)"
	else
		gmp_note="GOMAXPROCS unset (Go default${gmp_effective:+: $gmp_effective}, same for both servers)"
	fi
	log "$gmp_note"

	local imp_url="http://$http_addr/track/impression?ad_id=123"
	local batch_url="http://$http_addr/track/batch"
	local lua="$ADLY_ROOT/scripts/bench/batch.lua"
	[[ -f $lua ]] || die "missing $lua"

	# Fail in seconds, with the API's own answer, rather than after the whole run.
	if [[ $have_curl -eq 1 ]]; then
		local body='[' answer code i
		for ((i = 0; i < BATCH_EVENTS; i++)); do body+='{"type":"impression","ad_id":123},'; done
		body="${body%,}]"
		answer=$(curl -s -m 5 -w '\n%{http_code}' -H 'Content-Type: application/json' --data-binary "$body" "$batch_url") || true
		code=${answer##*$'\n'}
		[[ $code == 200 && $answer == *"\"count\":$BATCH_EVENTS"* ]] ||
			die "POST $batch_url with $BATCH_EVENTS events answered ${code:-nothing}: ${answer%$'\n'*}"
		code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$imp_url") || true
		[[ $code == 200 ]] || die "GET $imp_url answered ${code:-nothing}, not 200"
		redis_clean || die "cannot remove keys under $PREFIX in Redis"
	fi

	printf '\nadly api benchmark: %d rounds, wrk -t2 -c64 -d%s --latency, %s\n' "$ROUNDS" "$DURATION" "$gmp_note"
	local round
	: >"$WORK/results"
	for ((round = 1; round <= ROUNDS; round++)); do
		check_alive bare204
		run_wrk bare "$round" "http://$bare_addr/"
		check_alive api
		run_wrk impression "$round" "$imp_url"
		# Each API run starts from the same empty Redis.
		redis_clean || die "cannot remove keys under $PREFIX in Redis"
		check_alive api
		run_wrk batch "$round" "$batch_url" -s "$lua"
		redis_clean || die "cannot remove keys under $PREFIX in Redis"
		printf 'round %d/%d  %s | %s | %s\n' "$round" "$ROUNDS" \
			"$(round_cell "$round" bare bare204)" \
			"$(round_cell "$round" impression impression)" \
			"$(round_cell "$round" batch batch)"
	done

	local bare_rps bare_p99 imp_rps imp_p99 batch_rps batch_p99 imp_ratio batch_ratio imp_rr batch_rr batch_eps
	bare_rps=$(med 3 bare)
	bare_p99=$(med 4 bare)
	imp_rps=$(med 3 impression)
	imp_p99=$(med 4 impression)
	batch_rps=$(med 3 batch)
	batch_p99=$(med 4 batch)
	imp_ratio=$(awk -v a="$imp_rps" -v b="$bare_rps" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')
	batch_ratio=$(awk -v a="$batch_rps" -v b="$bare_rps" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')
	imp_rr=$(med_ratio impression)
	batch_rr=$(med_ratio batch)
	batch_eps=$(awk -v r="$batch_rps" -v n="$BATCH_EVENTS" 'BEGIN { printf "%.0f", r * n }')

	local flagged=0 non2xx
	non2xx=$(awk '{ s += $5 } END { print s + 0 }' "$WORK/results")
	[[ -s $WORK/flags ]] && flagged=1

	printf '\nsummary (median of %d rounds)\n' "$ROUNDS"
	printf '  %-10s %9.0f req/s  p99 %8.2f ms\n' bare204 "$bare_rps" "$bare_p99"
	printf '  %-10s %9.0f req/s  p99 %8.2f ms  api/bare %.3f (median of per-round ratios %.3f)\n' \
		impression "$imp_rps" "$imp_p99" "$imp_ratio" "$imp_rr"
	printf '  %-10s %9.0f req/s  p99 %8.2f ms  api/bare %.3f (median of per-round ratios %.3f)\n' \
		batch "$batch_rps" "$batch_p99" "$batch_ratio" "$batch_rr"
	printf '  batch events/s: %s (%d events per request)\n' "$batch_eps" "$BATCH_EVENTS"
	if [[ $flagged -eq 1 ]]; then
		printf '  !! FLAGGED runs (their numbers include failed requests):\n'
		sed 's/^/     /' "$WORK/flags"
		[[ $non2xx -gt 0 ]] && show_log api
	else
		printf '  all runs: 0 non-2xx responses, 0 socket errors\n'
	fi

	# Machine and versions for the Markdown block.
	local cmd cpu mem goversion redisversion wrkversion commit
	cmd="DURATION=$DURATION ROUNDS=$ROUNDS"
	[[ -n ${GOMAXPROCS:-} ]] && cmd="GOMAXPROCS=$GOMAXPROCS $cmd"
	cmd+=" scripts/bench.sh api"
	cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null) || true
	mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null) || true
	goversion=$(go version | awk '{ print $3 }')
	# The server's own version: the one the API talked to.
	redisversion=$(rcli info server 2>/dev/null | tr -d '\r' | awk -F: '$1 == "redis_version" { print $2 }') || true
	# wrk -v prints its version and exits non-zero.
	wrkversion=$(wrk -v 2>&1 | head -n 1 | sed 's/ *Copyright.*//') || true
	commit=$(git rev-parse --short HEAD 2>/dev/null) || commit=unknown
	if [[ $commit != unknown && -n $(git status --porcelain --untracked-files=no 2>/dev/null) ]]; then
		commit+=" (with uncommitted changes)"
	fi

	printf '\n----- Markdown -----\n'
	cat <<EOF
### adly API benchmark

- Command: \`$cmd\`
- Date: $(date -u)
- Commit: $commit
- Machine: $(nproc) CPUs (nproc), ${cpu:-unknown CPU}, ${mem:-unknown} RAM, kernel $(uname -r)
- Software: $goversion, Redis ${redisversion:-unknown}, ${wrkversion:-wrk}
- Load: \`wrk -t2 -c64 -d$DURATION --latency\` over loopback from the same machine; $ROUNDS interleaved rounds (bare204, impression, batch); $gmp_note

| Target (median of $ROUNDS rounds) | req/s | p99 ms | req/s vs bare204 (ratio of medians) | (median of per-round ratios) |
|---|--:|--:|--:|--:|
| bare204: Go net/http, answers 204 | $(printf '%.0f' "$bare_rps") | $(printf '%.2f' "$bare_p99") | 1.000 | 1.000 |
| \`GET /track/impression?ad_id=123\` | $(printf '%.0f' "$imp_rps") | $(printf '%.2f' "$imp_p99") | $imp_ratio | $(printf '%.3f' "$imp_rr") |
| \`POST /track/batch\`, $BATCH_EVENTS impressions | $(printf '%.0f' "$batch_rps") | $(printf '%.2f' "$batch_p99") | $batch_ratio | $(printf '%.3f' "$batch_rr") |

Batch: $batch_eps events/s.
EOF
	if [[ $flagged -eq 1 ]]; then
		printf '\n**Flagged:** some runs had failed requests, so their numbers are not clean:\n\n'
		sed 's/^/- /' "$WORK/flags"
	else
		printf 'Every run: 0 non-2xx responses, 0 socket errors.\n'
	fi
	printf -- '----- end -----\n'

	# Non-2xx answers mean the API was measured while failing: not a result.
	[[ $non2xx -eq 0 ]] || return 1
}

# --------------------------------------------------------------- mode worker

# stop_bench PID: lets the measuring program (BENCH_NAME: workerbench or
# syncbench) finish its own cleanup (it stops its workers or syncer, unlinks
# its keys and drops its database), killing it only if that hangs. Its
# children die with it either way.
stop_bench() {
	local pid=$1 i
	if pid_alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 900; i++)); do
			pid_alive "$pid" || break
			sleep 0.1
		done
		if pid_alive "$pid"; then
			warn "${BENCH_NAME:-the benchmark helper} did not finish cleaning up within 90s; killing it"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	wait "$pid" 2>/dev/null || true
}

drop_bench_db() {
	[[ ${DB_READY:-0} -eq 1 ]] || return 0
	db_client --connect-timeout=5 -e "DROP DATABASE IF EXISTS \`$BENCH_DB\`" >/dev/null 2>&1
}

bench_worker() {
	ROUNDS="${ROUNDS:-3}"
	ENTRIES="${ENTRIES:-2000000}"
	[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer, got '$ROUNDS'"
	if ! [[ $ENTRIES =~ ^[1-9][0-9]{0,8}$ ]] || ((ENTRIES > 100000000)); then
		die "ENTRIES must be an integer between 1 and 100000000, got '$ENTRIES'"
	fi

	if [[ -n ${GOMAXPROCS:-} ]]; then
		[[ $GOMAXPROCS =~ ^[1-9][0-9]*$ ]] || die "GOMAXPROCS must be a positive integer, got '$GOMAXPROCS'"
		# Exported so the workers and the ceiling loop run with the same value.
		export GOMAXPROCS
	fi
	# Remote servers would put a network between the numbers and this machine.
	is_loopback "$REDIS_HOST" || die "REDIS_HOST=$REDIS_HOST: the benchmark runs on loopback only (use 127.0.0.1)"
	is_loopback "$DB_HOST" || die "DB_HOST=$DB_HOST: the benchmark runs on loopback only (use 127.0.0.1)"
	[[ -z ${REDIS_CLUSTER_ADDRS:-} ]] || die "unset REDIS_CLUSTER_ADDRS: the benchmark uses REDIS_HOST/REDIS_PORT"
	REDIS_DB="${REDIS_DB:-0}"
	[[ $REDIS_DB =~ ^[0-9]+$ ]] || die "REDIS_DB must be a non-negative integer, got '$REDIS_DB'"
	export REDIS_DB

	# Rough figures of a 2-core VM, for the estimate only: fill, ceiling, one
	# worker and two workers in entries/s, 2s around each run, and about 23
	# bytes per entry of stream in Redis.
	local est est_secs est_human est_mb
	est=$(awk -v n="$ENTRIES" -v r="$ROUNDS" 'BEGIN {
		s = int(n / 400000 + r * (n / 450000 + n / 75000 + n / 85000 + 3 * 2) + 0.5)
		printf "%d %dm%02ds %.0f", s, s / 60, s % 60, n * 23 / 1048576 + 1
	}')
	read -r est_secs est_human est_mb <<<"$est"
	log "mode worker: $ENTRIES entries, $ROUNDS rounds x 3 runs (ceiling, 1 consumer, 2 consumers) over all of them: about ${est_secs}s ($est_human) on a 2-core VM, plus build; the stream takes about ${est_mb} MB in Redis"

	ensure_go
	ensure_redis
	ensure_mariadb

	PREFIX="bench:$$:"
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/adly-bench.XXXXXX") || die "cannot create a temporary directory"
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	REDIS_READY=1
	DB_READY=1
	BENCH_DB="adly_bench_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
	[[ $BENCH_DB =~ ^adly_bench_[0-9a-f]{12}$ ]] || die "cannot make a random database name"
	# A pid reused from a run that was killed hard may have left keys behind.
	redis_clean || die "cannot list or remove keys under $PREFIX in Redis"

	BENCH_NAME=workerbench
	log "building impression-worker and workerbench into $WORK"
	go build -o "$WORK/" ./cmd/impression-worker || die "go build ./cmd/impression-worker failed"
	go build -o "$WORK/workerbench" ./scripts/bench/workerbench || die "go build ./scripts/bench/workerbench failed"

	local gmp_note
	if [[ -n ${GOMAXPROCS:-} ]]; then
		gmp_note="GOMAXPROCS=$GOMAXPROCS (workers and ceiling loop alike)"
	else
		gmp_note="GOMAXPROCS unset (Go default, workers and ceiling loop alike)"
	fi
	log "database $BENCH_DB, Redis keys under $PREFIX; $gmp_note"

	# In the background and waited for, as wrk in mode api: bash runs the Ctrl-C
	# trap at once during `wait`; cleanup then lets workerbench finish its own.
	: >"$WORK/results"
	local rc=0
	"$WORK/workerbench" -worker "$WORK/impression-worker" -entries "$ENTRIES" -rounds "$ROUNDS" \
		-prefix "$PREFIX" -db "$BENCH_DB" -schema "$ADLY_ROOT/sql/schema.sql" \
		-workdir "$WORK" -results "$WORK/results" </dev/null &
	BENCH_PID=$!
	wait "$BENCH_PID" || rc=$?
	BENCH_PID=
	case $rc in
	0) ;;
	# Interrupted: workerbench has cleaned up and said so.
	130 | 143) exit "$rc" ;;
	*) die "the worker benchmark failed (workerbench exit status $rc); no figures to report" ;;
	esac

	local ceil w1 w2 ratio1 ratio2 rr1 rr2 rss1 rss2 rss_max
	ceil=$(med 3 ceiling)
	w1=$(med 3 w1)
	w2=$(med 3 w2)
	ratio1=$(awk -v a="$w1" -v b="$ceil" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')
	ratio2=$(awk -v a="$w2" -v b="$ceil" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')
	rr1=$(med_ratio w1 ceiling)
	rr2=$(med_ratio w2 ceiling)
	# Peak RSS in MB: the largest of any worker process over all rounds.
	rss1=$(awk '$2 == "w1" && $5 > m { m = $5 } END { printf "%.1f", m / 1024 }' "$WORK/results")
	rss2=$(awk '$2 == "w2" && $5 > m { m = $5 } END { printf "%.1f", m / 1024 }' "$WORK/results")
	rss_max=$(awk -v a="$rss1" -v b="$rss2" 'BEGIN { printf "%.1f", (a > b ? a : b) }')

	local t_speed t_mem
	t_speed=$(awk -v r="$ratio1" 'BEGIN { print (r >= 0.40 ? "met" : "NOT met") }')
	t_mem=$(awk -v m="$rss_max" 'BEGIN { print (m < 100 ? "met" : "NOT met") }')

	printf '\nsummary (median of %d rounds, %d entries per run)\n' "$ROUNDS" "$ENTRIES"
	printf '  %-12s %9.0f entries/s  (XREADGROUP COUNT 1000 + XACK, no database)\n' ceiling "$ceil"
	printf '  %-12s %9.0f entries/s  worker/ceiling %s (median of per-round ratios %.3f)  target >= 0.40: %s\n' \
		"1 consumer" "$w1" "$ratio1" "$rr1" "$t_speed"
	printf '  %-12s %9.0f entries/s  worker/ceiling %s (median of per-round ratios %.3f)\n' \
		"2 consumers" "$w2" "$ratio2" "$rr2"
	printf '  peak RSS of a worker process: %s MB (1 consumer %s MB, 2 consumers %s MB)  target < 100 MB: %s\n' \
		"$rss_max" "$rss1" "$rss2" "$t_mem"
	printf '  counts: exact after every worker run (SUM(impressions) = %d, every (ad_id, date) as written)\n' "$ENTRIES"

	# Machine and versions for the Markdown block.
	local cmd cpu mem goversion redisversion dbversion commit
	cmd="ENTRIES=$ENTRIES ROUNDS=$ROUNDS"
	[[ -n ${GOMAXPROCS:-} ]] && cmd="GOMAXPROCS=$GOMAXPROCS $cmd"
	cmd+=" scripts/bench.sh worker"
	cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null) || true
	mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null) || true
	goversion=$(go version | awk '{ print $3 }')
	redisversion=$(rcli info server 2>/dev/null | tr -d '\r' | awk -F: '$1 == "redis_version" { print $2 }') || true
	dbversion=$(db_client -N -e 'SELECT VERSION()' 2>/dev/null) || true
	commit=$(git rev-parse --short HEAD 2>/dev/null) || commit=unknown
	if [[ $commit != unknown && -n $(git status --porcelain --untracked-files=no 2>/dev/null) ]]; then
		commit+=" (with uncommitted changes)"
	fi

	printf '\n----- Markdown -----\n'
	cat <<MD
### adly impression-worker benchmark

- Command: \`$cmd\`
- Date: $(date -u)
- Commit: $commit
- Machine: $(nproc) CPUs (nproc), ${cpu:-unknown CPU}, ${mem:-unknown} RAM, kernel $(uname -r)
- Software: $goversion, Redis ${redisversion:-unknown}, MariaDB ${dbversion:-unknown}
- Load: \`impressions_stream\` pre-filled with $ENTRIES entries (10,000 ad_ids, 3 dates); every run reads all of them from a fresh group at 0 with XREADGROUP COUNT 1000 over loopback; worker runs start with empty tables and are timed from process start until nothing is pending and the last entry was delivered; $ROUNDS interleaved rounds (ceiling, 1 consumer, 2 consumers); $gmp_note

| Run (median of $ROUNDS rounds) | entries/s | vs ceiling (ratio of medians) | (median of per-round ratios) | peak RSS | target |
|---|--:|--:|--:|--:|---|
| ceiling: XREADGROUP + XACK loop, no database | $(printf '%.0f' "$ceil") | 1.000 | 1.000 | – | |
| impression-worker, 1 consumer | $(printf '%.0f' "$w1") | $ratio1 | $(printf '%.3f' "$rr1") | $rss1 MB | ≥ 0.40 of ceiling: $t_speed |
| impression-worker, 2 consumers | $(printf '%.0f' "$w2") | $ratio2 | $(printf '%.3f' "$rr2") | $rss2 MB | |

Peak memory (VmHWM, largest worker process): $rss_max MB, target < 100 MB: $t_mem. Counts exact after every worker run: SUM(impressions) = $ENTRIES and every (ad_id, date) as written.
MD
	printf -- '----- end -----\n'
}

# --------------------------------------------------------------- mode syncer

bench_syncer() {
	ROUNDS="${ROUNDS:-3}"
	PATHS="${PATHS:-1000000}"
	[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer, got '$ROUNDS'"
	if ! [[ $PATHS =~ ^[1-9][0-9]{0,8}$ ]] || ((PATHS > 100000000)); then
		die "PATHS must be an integer between 1 and 100000000, got '$PATHS'"
	fi
	local default_chunk
	default_chunk="$(sed -n 's/.*envconfig:"SYNC_CHUNK_PATHS" default:"\([0-9]*\)".*/\1/p' pkg/pathsync/config.go)"
	local chunk_note="SYNC_CHUNK_PATHS unset (path-syncer default: ${default_chunk:-unknown})"
	if [[ -n ${SYNC_CHUNK_PATHS:-} ]]; then
		if ! [[ $SYNC_CHUNK_PATHS =~ ^[1-9][0-9]{0,5}$ ]] || ((SYNC_CHUNK_PATHS > 100000)); then
			die "SYNC_CHUNK_PATHS must be an integer between 1 and 100000, got '$SYNC_CHUNK_PATHS'"
		fi
		# Exported so path-syncer, started by syncbench, reads it.
		export SYNC_CHUNK_PATHS
		chunk_note="SYNC_CHUNK_PATHS=$SYNC_CHUNK_PATHS"
	fi

	if [[ -n ${GOMAXPROCS:-} ]]; then
		[[ $GOMAXPROCS =~ ^[1-9][0-9]*$ ]] || die "GOMAXPROCS must be a positive integer, got '$GOMAXPROCS'"
		# Exported so path-syncer and the ceiling loop run with the same value.
		export GOMAXPROCS
	fi
	# Remote servers would put a network between the numbers and this machine.
	is_loopback "$REDIS_HOST" || die "REDIS_HOST=$REDIS_HOST: the benchmark runs on loopback only (use 127.0.0.1)"
	is_loopback "$DB_HOST" || die "DB_HOST=$DB_HOST: the benchmark runs on loopback only (use 127.0.0.1)"
	[[ -z ${REDIS_CLUSTER_ADDRS:-} ]] || die "unset REDIS_CLUSTER_ADDRS: the benchmark uses REDIS_HOST/REDIS_PORT"
	REDIS_DB="${REDIS_DB:-0}"
	[[ $REDIS_DB =~ ^[0-9]+$ ]] || die "REDIS_DB must be a non-negative integer, got '$REDIS_DB'"
	export REDIS_DB

	# Rough figures of a 2-core VM, for the estimate only: fill, ceiling and
	# sync in keys/s, the checks after each sync, 2s around each round, and
	# about 115 bytes per counter in Redis.
	local est est_secs est_human est_mb
	est=$(awk -v n="$PATHS" -v r="$ROUNDS" 'BEGIN {
		s = int(r * (n / 400000 + n / 500000 + n / 120000 + n / 1000000 + 2) + 0.5)
		printf "%d %dm%02ds %.0f", s, s / 60, s % 60, n * 115 / 1048576 + 1
	}')
	read -r est_secs est_human est_mb <<<"$est"
	log "mode syncer: $PATHS paths, $ROUNDS rounds x (fill, ceiling, path-syncer --once) over all of them: about ${est_secs}s ($est_human) on a 2-core VM, plus build; the counters take about ${est_mb} MB in Redis"

	ensure_go
	ensure_redis
	ensure_mariadb

	BENCH_DB="adly_bench_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
	[[ $BENCH_DB =~ ^adly_bench_[0-9a-f]{12}$ ]] || die "cannot make a random database name"
	# The random part keeps the prefix apart from any other run on this Redis. It
	# is short so that the keys stay close to production's, which have none.
	PREFIX="b${BENCH_DB:11:8}:"
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/adly-bench.XXXXXX") || die "cannot create a temporary directory"
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	REDIS_READY=1
	DB_READY=1
	BENCH_NAME=syncbench

	log "building path-syncer and syncbench into $WORK"
	go build -o "$WORK/" ./cmd/path-syncer || die "go build ./cmd/path-syncer failed"
	go build -o "$WORK/syncbench" ./scripts/bench/syncbench || die "go build ./scripts/bench/syncbench failed"

	local gmp_note
	if [[ -n ${GOMAXPROCS:-} ]]; then
		gmp_note="GOMAXPROCS=$GOMAXPROCS (path-syncer and ceiling loop alike)"
	else
		gmp_note="GOMAXPROCS unset (Go default, path-syncer and ceiling loop alike)"
	fi
	log "database $BENCH_DB, Redis keys under $PREFIX; $chunk_note; $gmp_note"

	# In the background and waited for, as wrk in mode api: bash runs the Ctrl-C
	# trap at once during `wait`; cleanup then lets syncbench finish its own.
	: >"$WORK/results"
	local rc=0
	"$WORK/syncbench" -syncer "$WORK/path-syncer" -paths "$PATHS" -rounds "$ROUNDS" \
		-prefix "$PREFIX" -db "$BENCH_DB" -schema "$ADLY_ROOT/sql/schema.sql" \
		-workdir "$WORK" -results "$WORK/results" </dev/null &
	BENCH_PID=$!
	wait "$BENCH_PID" || rc=$?
	BENCH_PID=
	case $rc in
	0) ;;
	# Interrupted: syncbench has cleaned up and said so.
	130 | 143) exit "$rc" ;;
	*) die "the path-syncer benchmark failed (syncbench exit status $rc); no figures to report" ;;
	esac

	local ceil ceil_s sync sync_s ratio rr rss hits cycles rest
	ceil=$(med 3 ceiling)
	ceil_s=$(med 4 ceiling)
	sync=$(med 3 sync)
	sync_s=$(med 4 sync)
	ratio=$(awk -v a="$sync" -v b="$ceil" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')
	rr=$(med_ratio sync ceiling)
	# Peak RSS in MB: the largest of any path-syncer run.
	rss=$(awk '$2 == "sync" && $5 > m { m = $5 } END { printf "%.1f", m / 1024 }' "$WORK/results")
	# What every fill writes: the sum of 1 + n%7 for n = 1..PATHS, i.e. 21 more
	# than PATHS per full cycle of 7, plus 1 + ... + rest for the last one.
	cycles=$((PATHS / 7))
	rest=$((PATHS % 7))
	hits=$((PATHS + 21 * cycles + rest * (rest + 1) / 2))

	# The time target is for 1,000,000 paths; at another size, only say what
	# the measured rate would give.
	local t_time t_ratio per_million
	per_million=$(awk -v r="$sync" 'BEGIN { printf "%.1f", (r > 0 ? 1000000 / r : 0) }')
	if [[ $PATHS -eq 1000000 ]]; then
		t_time=$(awk -v s="$sync_s" 'BEGIN { print (s <= 10 ? "met" : "NOT met") }')
	else
		t_time="not judged (PATHS=$PATHS; at this rate 1,000,000 paths take about ${per_million}s)"
	fi
	t_ratio=$(awk -v r="$ratio" 'BEGIN { print (r >= 0.40 ? "met" : "NOT met") }')

	printf '\nsummary (median of %d rounds, %d paths per run)\n' "$ROUNDS" "$PATHS"
	printf '  %-8s %9.0f keys/s %8.2fs  (SCAN MATCH COUNT 1000 + pipelined GET, no database)\n' ceiling "$ceil" "$ceil_s"
	printf '  %-8s %9.0f keys/s %8.2fs  sync/ceiling %s (median of per-round ratios %.3f), peak RSS %s MB\n' \
		sync "$sync" "$sync_s" "$ratio" "$rr" "$rss"
	printf '  target: 1,000,000 paths in <= 10 s: %s\n' "$t_time"
	printf '  target: sync >= 0.40 of the ceiling'\''s keys/s: %s (%s)\n' "$t_ratio" "$ratio"
	printf '  checks: passed after every sync (exit 0, "Synced %d paths", %d rows, SUM(hit_count) = %d, each row as written, no counter left in Redis)\n' \
		"$PATHS" "$PATHS" "$hits"

	# Machine and versions for the Markdown block.
	local cmd cpu mem goversion redisversion dbversion commit
	cmd="PATHS=$PATHS ROUNDS=$ROUNDS"
	[[ -n ${SYNC_CHUNK_PATHS:-} ]] && cmd="SYNC_CHUNK_PATHS=$SYNC_CHUNK_PATHS $cmd"
	[[ -n ${GOMAXPROCS:-} ]] && cmd="GOMAXPROCS=$GOMAXPROCS $cmd"
	cmd+=" scripts/bench.sh syncer"
	cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null) || true
	mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null) || true
	goversion=$(go version | awk '{ print $3 }')
	redisversion=$(rcli info server 2>/dev/null | tr -d '\r' | awk -F: '$1 == "redis_version" { print $2 }') || true
	dbversion=$(db_client -N -e 'SELECT VERSION()' 2>/dev/null) || true
	commit=$(git rev-parse --short HEAD 2>/dev/null) || commit=unknown
	if [[ $commit != unknown && -n $(git status --porcelain --untracked-files=no 2>/dev/null) ]]; then
		commit+=" (with uncommitted changes)"
	fi

	printf '\n----- Markdown -----\n'
	cat <<MD
### adly path-syncer benchmark

- Command: \`$cmd\`
- Date: $(date -u)
- Commit: $commit
- Machine: $(nproc) CPUs (nproc), ${cpu:-unknown CPU}, ${mem:-unknown} RAM, kernel $(uname -r)
- Software: $goversion, Redis ${redisversion:-unknown}, MariaDB ${dbversion:-unknown}
- Load: $PATHS distinct path hit counters (\`analytics:hit:/bench/page/<n>\`, each 1 + n%7, $hits hits), written by pipelined INCRBY before every round; the ceiling reads them all with SCAN MATCH COUNT 1000 and a pipelined GET per page; \`path-syncer --once\` starts on empty \`path_counters\` and \`path_sync_log\` and is timed from process start to exit, over loopback; $ROUNDS interleaved rounds (ceiling, sync); $chunk_note; $gmp_note

| Run (median of $ROUNDS rounds) | keys/s | seconds | vs ceiling (ratio of medians) | (median of per-round ratios) | peak RSS | target |
|---|--:|--:|--:|--:|--:|---|
| ceiling: SCAN + pipelined GET, no database | $(printf '%.0f' "$ceil") | $(printf '%.2f' "$ceil_s") | 1.000 | 1.000 | – | |
| \`path-syncer --once\` | $(printf '%.0f' "$sync") | $(printf '%.2f' "$sync_s") | $ratio | $(printf '%.3f' "$rr") | $rss MB | 1,000,000 paths ≤ 10 s: $t_time; ≥ 0.40 of ceiling: $t_ratio |

Checks passed after every sync: exit status 0, \`Synced $PATHS paths\`, $PATHS rows in \`path_counters\` with SUM(hit_count) = $hits and every row's count as written, no hit counter or staged chunk left in Redis.
MD
	printf -- '----- end -----\n'
}

# --------------------------------------------------------------------- main

[[ $# -eq 1 ]] || usage
case "$1" in
api) bench_api ;;
worker) bench_worker ;;
syncer) bench_syncer ;;
*)
	printf 'unknown mode: %s (modes: %s)\n' "$1" "${MODES[*]}" >&2
	usage
	;;
esac
