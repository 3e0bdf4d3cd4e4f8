#!/usr/bin/env bash
# Starts the local pipeline: Redis and MariaDB (when not already running), the
# schema, then each built binary in the background with its log in .run/logs/
# and pid in .run/pids/. scripts/stop.sh stops it all again.
#
# Addresses (defaults): HTTP_ADDR (127.0.0.1:8080, api only), REPORT_ADDR
# (127.0.0.1:8090, report only) and per-binary admin addresses API_ADMIN_ADDR
# (127.0.0.1:9091), IMPRESSION_WORKER_ADMIN_ADDR (:9092), CLICK_WORKER_ADMIN_ADDR
# (:9093), PATH_SYNCER_ADMIN_ADDR (:9094), REPORT_ADMIN_ADDR (:9095), each
# handed to its binary as ADMIN_ADDR. The report binary reads REPORT_TOKEN,
# REPORT_USER and REPORT_PASSWORD from this environment (README, "Reports"); a
# browser opens the dashboard with REPORT_USER/REPORT_PASSWORD (HTTP Basic), or
# with no credential on a loopback REPORT_ADDR. Every binary gets the same
# environment, so the same TIMEZONE: the workers date counts in it and the
# reports read dates as its days.
set -euo pipefail

# shellcheck source=scripts/lib/services.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/services.sh"
cd "$ADLY_ROOT"

ensure_go
adly_state_dirs
# --pipeline: a Redis we start here keeps its data (AOF), and stop.sh may stop
# only services that were started here.
ensure_redis --pipeline
ensure_mariadb --pipeline
apply_schema

log "building ./cmd/... into bin/"
mkdir -p bin
go build -o bin/ ./cmd/... || die "go build -o bin/ ./cmd/... failed"

HTTP_ADDR="${HTTP_ADDR:-127.0.0.1:8080}"
REPORT_ADDR="${REPORT_ADDR:-127.0.0.1:8090}"
BINARIES=(api impression-worker click-worker path-syncer report)
declare -A ADMIN=(
	[api]="${API_ADMIN_ADDR:-127.0.0.1:9091}"
	[impression-worker]="${IMPRESSION_WORKER_ADMIN_ADDR:-127.0.0.1:9092}"
	[click-worker]="${CLICK_WORKER_ADMIN_ADDR:-127.0.0.1:9093}"
	[path-syncer]="${PATH_SYNCER_ADMIN_ADDR:-127.0.0.1:9094}"
	[report]="${REPORT_ADMIN_ADDR:-127.0.0.1:9095}"
)

show_log_tail() {
	local name=$1
	printf -- '--- last lines of .run/logs/%s.log ---\n' "$name" >&2
	tail -n 30 "$ADLY_LOGS/$name.log" >&2 || true
	printf -- '---\n' >&2
}

started=()
present=()
for name in "${BINARIES[@]}"; do
	bin="$ADLY_ROOT/bin/$name"
	# Binaries that are not written yet are simply skipped.
	[[ -x $bin ]] || continue
	present+=("$name")
	pidfile="$ADLY_PIDS/$name.pid"
	logfile="$ADLY_LOGS/$name.log"
	if [[ -f $pidfile ]]; then
		pid=$(<"$pidfile")
		if adly_pid_is_ours "$pid" "$name"; then
			log "$name already running (pid $pid); not starting a second copy"
			continue
		fi
		rm -f "$pidfile" # stale: that process is gone
	fi
	envs=("ADMIN_ADDR=${ADMIN[$name]}")
	[[ $name == api ]] && envs+=("HTTP_ADDR=$HTTP_ADDR")
	[[ $name == report ]] && envs+=("REPORT_ADDR=$REPORT_ADDR")
	printf '\n=== %s starting %s ===\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$name" >>"$logfile"
	# setsid: detach from this terminal so closing it does not take the process down.
	setsid env "${envs[@]}" "$bin" </dev/null >>"$logfile" 2>&1 &
	echo "$!" >"$pidfile"
	started+=("$name")
	log "started $name (pid $!, log .run/logs/$name.log)"
done

[[ ${#present[@]} -gt 0 ]] || die "go build produced none of: ${BINARIES[*]} (in bin/)"

# A binary that fails on bad config or a taken port usually exits at once.
if [[ ${#started[@]} -gt 0 ]]; then
	sleep 1
	dead=()
	for name in "${started[@]}"; do
		pid=$(<"$ADLY_PIDS/$name.pid")
		if ! pid_alive "$pid"; then
			dead+=("$name")
			rm -f "$ADLY_PIDS/$name.pid"
			show_log_tail "$name"
		fi
	done
	if [[ ${#dead[@]} -gt 0 ]]; then
		die "exited right after starting: ${dead[*]} (logs above); scripts/stop.sh stops whatever is still running"
	fi
fi

# The api must be ready (its dependencies reachable) before we call it up.
if [[ -f $ADLY_PIDS/api.pid ]]; then
	api_pid=$(<"$ADLY_PIDS/api.pid")
	ready_url="http://$(dial_addr "${ADMIN[api]}")/readyz"
	log "waiting for $ready_url"
	code=000
	for ((i = 0; i < ADLY_WAIT_SECS * 2; i++)); do
		code=$(http_status "$ready_url")
		[[ $code == 200 ]] && break
		if ! pid_alive "$api_pid"; then
			rm -f "$ADLY_PIDS/api.pid"
			show_log_tail api
			die "api exited while waiting for $ready_url"
		fi
		sleep 0.5
	done
	if [[ $code != 200 ]]; then
		show_log_tail api
		die "api (pid $api_pid) is running but $ready_url did not answer 200 within ${ADLY_WAIT_SECS}s (last status: $code); scripts/stop.sh stops it"
	fi
	log "api is ready"
fi

# How to reach things, for copy and paste.
api_dial=$(dial_addr "$HTTP_ADDR")
case "${api_dial%:*}" in
127.0.0.1 | "[::1]") api_dial="localhost:${api_dial##*:}" ;;
esac
redis_cli="redis-cli"
if [[ $REDIS_HOST != 127.0.0.1 || $REDIS_PORT != 6379 ]]; then
	redis_cli+=" -h $REDIS_HOST -p $REDIS_PORT"
fi
[[ -n $REDIS_PASSWORD ]] && redis_cli="REDISCLI_AUTH=... $redis_cli"

echo
echo "adly is running."
if [[ " ${present[*]} " == *" api "* ]]; then
	echo "  API:    http://$api_dial  (HTTP_ADDR=$HTTP_ADDR)"
	demo_next="scripts/inspect.sh"
	[[ " ${present[*]} " == *" report "* ]] && demo_next="the reports below, or scripts/inspect.sh"
	echo "  demo:   http://$api_dial/  (scroll and click the banners; then $demo_next)"
fi
if [[ " ${present[*]} " == *" report "* ]]; then
	report_dial=$(dial_addr "$REPORT_ADDR")
	case "${report_dial%:*}" in
	127.0.0.1 | "[::1]") report_dial="localhost:${report_dial##*:}" ;;
	esac
	echo "  reports: http://$report_dial/  (the dashboard: open it in a browser; JSON and CSV under /api/v1/; REPORT_ADDR=$REPORT_ADDR)"
	if [[ -n ${REPORT_USER:-} ]]; then
		echo "           your browser asks for a user and password: REPORT_USER ($REPORT_USER) and REPORT_PASSWORD"
	elif [[ -n ${REPORT_TOKEN:-} ]]; then
		# A browser cannot send a bearer token: the page would answer 401 and nothing else.
		echo "           only REPORT_TOKEN is set: API callers send it as a bearer token, but a browser cannot;"
		echo "           set REPORT_USER and REPORT_PASSWORD too (then scripts/stop.sh and scripts/start.sh) to open the dashboard"
	else
		echo "           no credential is set: open to this machine only (REPORT_USER/REPORT_PASSWORD make it private)"
	fi
	echo "           dates are calendar days of TIMEZONE=${TIMEZONE:-UTC}, the zone the workers count in (every binary here got the same)"
fi
echo "  admin:"
for name in "${present[@]}"; do
	printf '    %-18s http://%s/  (readiness: /readyz)\n' "$name" "$(dial_addr "${ADMIN[$name]}")"
done
echo "  logs:   $ADLY_LOGS/<name>.log   pids: $ADLY_PIDS/"
echo "  Redis:  $REDIS_HOST:$REDIS_PORT   MariaDB: $DB_HOST:$DB_PORT database $DB_NAME"
echo
echo "Try:"
echo "  curl -A Mozilla/5.0 \"http://$api_dial/track_impression.php?ad_id=123\""
echo "  $redis_cli XRANGE ${REDIS_KEY_PREFIX:-}impressions_stream - +"
echo "  mariadb -h $DB_HOST -P $DB_PORT -u $DB_USER $DB_NAME -e 'SELECT * FROM ad_daily_impressions'   # a moment later"
if [[ " ${present[*]} " == *" report "* ]]; then
	report_curl="curl"
	if [[ -n ${REPORT_USER:-} ]]; then
		report_curl="curl -u \"\$REPORT_USER:\$REPORT_PASSWORD\""
	elif [[ -n ${REPORT_TOKEN:-} ]]; then
		report_curl="curl -H \"Authorization: Bearer \$REPORT_TOKEN\""
	fi
	echo "  open http://$report_dial/ in a browser   # impressions, clicks, CTR per day and per ad, the demo's included"
	echo "  $report_curl \"http://$report_dial/api/v1/summary\"          # the last 30 days, as JSON"
	echo "  $report_curl -OJ \"http://$report_dial/api/v1/ads?format=csv\"   # per ad, as a CSV file"
fi
echo
echo "Stop everything with: scripts/stop.sh"
