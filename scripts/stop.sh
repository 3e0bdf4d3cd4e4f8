#!/usr/bin/env bash
# Stops what scripts/start.sh started: the binaries whose pid files are in
# .run/pids/ (SIGTERM, then SIGKILL after 15 s), and Redis/MariaDB only if
# start.sh itself started them (recorded in .run/services/). Services that
# were already running before start.sh are left alone.
set -euo pipefail

# shellcheck source=scripts/lib/services.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/services.sh"
cd "$ADLY_ROOT"

GRACE_SECS="${STOP_GRACE_SECS:-20}"

# Prints the value of KEY from a key=value record file (empty if absent).
record_get() {
	sed -n "s/^$2=//p" "$1" | head -n 1
}

# ---- binaries
pids=()
names=()
shopt -s nullglob
for pidfile in "$ADLY_PIDS"/*.pid; do
	name=$(basename "$pidfile" .pid)
	pid=$(<"$pidfile")
	if adly_pid_is_ours "$pid" "$name"; then
		log "stopping $name (pid $pid)"
		kill -TERM "$pid" 2>/dev/null || true
		pids+=("$pid")
		names+=("$name")
	else
		# Gone already, or the pid now belongs to something else: do not touch it.
		log "$name is not running (stale pid file)"
		rm -f "$pidfile"
	fi
done
shopt -u nullglob

if [[ ${#pids[@]} -gt 0 ]]; then
	# Give them time to drain in-flight work and flush, as they do on SIGTERM.
	for ((i = 0; i < GRACE_SECS * 4; i++)); do
		alive=0
		for pid in "${pids[@]}"; do
			pid_alive "$pid" && alive=1
		done
		[[ $alive -eq 0 ]] && break
		sleep 0.25
	done
	for idx in "${!pids[@]}"; do
		pid=${pids[$idx]}
		name=${names[$idx]}
		if pid_alive "$pid"; then
			warn "$name (pid $pid) still running after ${GRACE_SECS}s; sending SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
		else
			log "$name stopped"
		fi
		rm -f "$ADLY_PIDS/$name.pid"
	done
fi

# ---- Redis, only if start.sh started it
if [[ -f $ADLY_SERVICES/redis ]]; then
	rec="$ADLY_SERVICES/redis"
	REDIS_HOST=$(record_get "$rec" host)
	REDIS_PORT=$(record_get "$rec" port)
	rpidfile=$(record_get "$rec" pidfile)
	rpid=''
	[[ -n $rpidfile && -f $rpidfile ]] && rpid=$(<"$rpidfile")
	log "stopping the Redis that start.sh started ($REDIS_HOST:$REDIS_PORT)"
	# Plain SHUTDOWN: with AOF on, Redis fsyncs it before exiting.
	if ! out=$(rcli shutdown 2>&1) && [[ $(redis_ping) == PONG ]]; then
		die "redis-cli shutdown failed: $out"
	fi
	for ((i = 0; i < ADLY_WAIT_SECS * 2; i++)); do
		if [[ -n $rpid ]]; then pid_alive "$rpid" || break; else [[ $(redis_ping) != PONG ]] && break; fi
		sleep 0.5
	done
	if [[ -n $rpid ]] && pid_alive "$rpid"; then
		die "Redis (pid $rpid) did not exit within ${ADLY_WAIT_SECS}s"
	fi
	rm -f "$ADLY_SERVICES/redis"
	log "Redis stopped"
fi

# ---- MariaDB, only if start.sh started it
if [[ -f $ADLY_SERVICES/mariadb ]]; then
	rec="$ADLY_SERVICES/mariadb"
	DB_HOST=$(record_get "$rec" host)
	DB_PORT=$(record_get "$rec" port)
	mpid=$(record_get "$rec" pid)
	log "stopping the MariaDB that start.sh started ($DB_HOST:$DB_PORT)"
	stopped=0
	if admin=$(mysql_admin); then
		MYSQL_PWD="$DB_PASS" timeout 30 "$admin" --protocol=TCP -h "$DB_HOST" -P "$DB_PORT" \
			-u "$DB_USER" shutdown && stopped=1
	fi
	if [[ $stopped -eq 0 ]]; then
		[[ -n $mpid ]] || die "mysqladmin shutdown failed and no MariaDB pid was recorded; stop it by hand"
		pid_alive "$mpid" && as_root kill -TERM "$mpid"
	fi
	# mysqladmin may return before the process has finished writing to disk.
	for ((i = 0; i < ADLY_WAIT_SECS * 2; i++)); do
		if [[ -n $mpid ]]; then pid_alive "$mpid" || break; else mariadb_answers || break; fi
		sleep 0.5
	done
	if { [[ -n $mpid ]] && pid_alive "$mpid"; } || { [[ -z $mpid ]] && mariadb_answers; }; then
		die "MariaDB did not stop within ${ADLY_WAIT_SECS}s"
	fi
	rm -f "$ADLY_SERVICES/mariadb"
	log "MariaDB stopped"
fi

log "all stopped"
