# shellcheck shell=bash
# Shared helpers for the scripts in scripts/: repo paths, logging, and making
# sure Redis and MariaDB answer before anything talks to them.
#
# Sourced, not executed. Callers set `set -euo pipefail` themselves; the
# functions here check their own steps so they also behave when sourced into a
# shell without errexit.
#
# Environment (defaults):
#   REDIS_HOST (127.0.0.1) REDIS_PORT (6379) REDIS_PASSWORD (empty)
#   DB_HOST (127.0.0.1) DB_PORT (3306) DB_USER (root) DB_PASS (empty) DB_NAME (ads)
#   ADLY_WAIT_SECS (30)  how long to wait for a service to become ready
#
# Services are only installed or started when their host is loopback; a remote
# host is only checked.

# Exported so the Go binaries and tests started from these scripts see the
# same settings the checks used.
export REDIS_HOST="${REDIS_HOST:-127.0.0.1}"
export REDIS_PORT="${REDIS_PORT:-6379}"
export REDIS_PASSWORD="${REDIS_PASSWORD:-}"
export DB_HOST="${DB_HOST:-127.0.0.1}"
export DB_PORT="${DB_PORT:-3306}"
export DB_USER="${DB_USER:-root}"
export DB_PASS="${DB_PASS:-}"
export DB_NAME="${DB_NAME:-ads}"
ADLY_WAIT_SECS="${ADLY_WAIT_SECS:-30}"

log() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# Repo root, resolved from this file's location so scripts work from any cwd.
adly_root() {
	(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
}

ADLY_ROOT="$(adly_root)"
# Runtime state (logs, pid files, which services we started); gitignored.
ADLY_STATE="$ADLY_ROOT/.run"
ADLY_LOGS="$ADLY_STATE/logs"
ADLY_PIDS="$ADLY_STATE/pids"
# Markers for services that start.sh started, so stop.sh stops only those.
ADLY_SERVICES="$ADLY_STATE/services"

adly_state_dirs() {
	mkdir -p "$ADLY_LOGS" "$ADLY_PIDS" "$ADLY_SERVICES" || die "cannot create $ADLY_STATE"
}

is_loopback() {
	case "$1" in
	127.* | localhost | ::1 | "[::1]") return 0 ;;
	*) return 1 ;;
	esac
}

# Run a command as root: directly if we are root, else through sudo.
as_root() {
	if [[ $(id -u) -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		die "need root (or sudo) to run: $*"
	fi
}

ADLY_APT_UPDATED=0
apt_install() {
	command -v apt-get >/dev/null 2>&1 || die "cannot install $* automatically: apt-get not found (install it by hand)"
	log "installing from Debian packages: $*"
	# Package lists on a fresh machine are empty or stale; refresh once per run.
	if [[ $ADLY_APT_UPDATED -eq 0 ]]; then
		as_root apt-get update || die "apt-get update failed"
		ADLY_APT_UPDATED=1
	fi
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" ||
		die "apt-get install $* failed"
}

# True if the process exists and is not a zombie (PID 1 here may not reap).
pid_alive() {
	local pid=$1 state
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	if [[ -r /proc/$pid/stat ]]; then
		state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
		[[ $state != Z ]] || return 1
	fi
	return 0
}

# Go lives in /usr/local/go on our machines, which a bare CI shell may not have on PATH.
ensure_go() {
	if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
		export PATH="/usr/local/go/bin:$PATH"
	fi
	command -v go >/dev/null 2>&1 || die "go not found on PATH (expected /usr/local/go/bin/go); install the Go toolchain named in go.mod"
}

# ---------------------------------------------------------------- Redis

# redis-cli against REDIS_HOST:REDIS_PORT, bounded in time. REDISCLI_AUTH keeps
# the password off the command line; it must be unset when there is no
# password, since redis-cli sends AUTH even for an empty one.
rcli() {
	if [[ -n $REDIS_PASSWORD ]]; then
		REDISCLI_AUTH="$REDIS_PASSWORD" timeout 5 redis-cli --no-auth-warning -h "$REDIS_HOST" -p "$REDIS_PORT" "$@"
	else
		timeout 5 redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" "$@"
	fi
}

# Prints the reply to PING: PONG when ready, an error text otherwise. redis-cli comes from Debian's
# redis-tools (without a server) when missing, as every other tool here does: the scripts never speak the
# Redis protocol themselves.
redis_ping() {
	command -v redis-cli >/dev/null 2>&1 || apt_install redis-tools >&2
	rcli ping 2>&1 || true
}

# True if a PING reply says the server is up but refuses our credentials.
redis_auth_error() {
	case "$1" in
	*NOAUTH* | *WRONGPASS* | *"invalid password"* | *"without any password configured"* | *"invalid username-password"*) return 0 ;;
	*) return 1 ;;
	esac
}

# Waits until Redis answers PONG; dies on auth errors or after ADLY_WAIT_SECS.
# Replies such as LOADING (replaying the AOF) just mean "not yet".
wait_redis() {
	local reply='' i
	for ((i = 0; i < ADLY_WAIT_SECS * 2; i++)); do
		reply=$(redis_ping)
		[[ $reply == PONG ]] && return 0
		redis_auth_error "$reply" &&
			die "Redis at $REDIS_HOST:$REDIS_PORT answers but rejects our credentials (REDIS_PASSWORD): $reply"
		sleep 0.5
	done
	die "Redis at $REDIS_HOST:$REDIS_PORT did not become ready within ${ADLY_WAIT_SECS}s (last reply: ${reply:-none})"
}

# ensure_redis [--pipeline]
# Makes sure Redis answers at REDIS_HOST:REDIS_PORT. On loopback it installs
# and starts Redis when needed. With --pipeline (start.sh) a Redis we start
# keeps its data (AOF) under .run/redis and is recorded for stop.sh; without
# it we start it the way this machine normally does (nothing kept on disk).
# shellcheck disable=SC2120 # the flag is optional
ensure_redis() {
	local pipeline=0 reply
	[[ ${1:-} == --pipeline ]] && pipeline=1
	reply=$(redis_ping)
	if [[ $reply == PONG ]]; then
		log "Redis OK at $REDIS_HOST:$REDIS_PORT"
		[[ $pipeline -eq 1 ]] && redis_warn_if_volatile
		return 0
	fi
	redis_auth_error "$reply" &&
		die "Redis at $REDIS_HOST:$REDIS_PORT answers but rejects our credentials (REDIS_PASSWORD): $reply"
	if ! is_loopback "$REDIS_HOST"; then
		die "Redis at $REDIS_HOST:$REDIS_PORT is not answering ($reply); it is not local, so start it there or fix REDIS_HOST/REDIS_PORT"
	fi

	log "Redis not answering at $REDIS_HOST:$REDIS_PORT; starting it"
	if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
		apt_install redis-server
		# The package may have started its own instance on the default port.
		reply=$(redis_ping)
		if [[ $reply == PONG ]]; then
			log "Redis OK at $REDIS_HOST:$REDIS_PORT (started by the package)"
			[[ $pipeline -eq 1 ]] && redis_warn_if_volatile
			return 0
		fi
	fi

	local -a args=(--daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT")
	# Keep a configured password in force on a server we start ourselves.
	[[ -n $REDIS_PASSWORD ]] && args+=(--requirepass "$REDIS_PASSWORD")
	local dir logfile pidfile
	if [[ $pipeline -eq 1 ]]; then
		# Pipeline data (streams not yet flushed to MariaDB) must survive restarts.
		adly_state_dirs
		dir="$ADLY_STATE/redis"
		logfile="$ADLY_LOGS/redis.log"
		pidfile="$dir/redis.pid"
		mkdir -p "$dir" || die "cannot create $dir"
		args+=(--appendonly yes --appendfsync everysec --maxmemory-policy noeviction)
	else
		# Same as this machine's usual start: a cache for tests, nothing on disk.
		if [[ $(id -u) -eq 0 ]]; then
			dir=/var/lib/redis
			if [[ $REDIS_PORT == 6379 ]]; then logfile=/var/log/redis/ci.log; else logfile="/var/log/redis/ci-$REDIS_PORT.log"; fi
			mkdir -p "$dir" /var/log/redis || die "cannot create $dir or /var/log/redis"
		else
			adly_state_dirs
			dir="$ADLY_STATE/redis-$REDIS_PORT"
			logfile="$ADLY_LOGS/redis-$REDIS_PORT.log"
			mkdir -p "$dir" || die "cannot create $dir"
		fi
		pidfile="$dir/redis-$REDIS_PORT.pid"
		args+=(--save "" --appendonly no)
	fi
	args+=(--dir "$dir" --logfile "$logfile" --pidfile "$pidfile")

	redis-server "${args[@]}" || die "redis-server failed to start on port $REDIS_PORT (see $logfile)"
	wait_redis || return 1
	if [[ $pipeline -eq 1 ]]; then
		printf 'host=%s\nport=%s\npidfile=%s\n' "$REDIS_HOST" "$REDIS_PORT" "$pidfile" >"$ADLY_SERVICES/redis"
	fi
	log "Redis started at $REDIS_HOST:$REDIS_PORT (log: $logfile)"
}

# The pipeline keeps unflushed events in Redis streams; say so if that Redis
# drops them on restart. Best effort: CONFIG may be disabled.
redis_warn_if_volatile() {
	command -v redis-cli >/dev/null 2>&1 || return 0
	local aof
	aof=$(rcli config get appendonly 2>/dev/null | sed -n 2p) || true
	if [[ $aof == no ]]; then
		warn "Redis at $REDIS_HOST:$REDIS_PORT was already running with appendonly=no: events still in its streams are lost if it restarts"
	fi
}

# -------------------------------------------------------------- MariaDB

# Client binaries: MariaDB names first, MySQL-compatible names as fallback.
mysql_client() {
	if command -v mariadb >/dev/null 2>&1; then echo mariadb; elif command -v mysql >/dev/null 2>&1; then echo mysql; else return 1; fi
}
mysql_admin() {
	if command -v mariadb-admin >/dev/null 2>&1; then echo mariadb-admin; elif command -v mysqladmin >/dev/null 2>&1; then echo mysqladmin; else return 1; fi
}

# Runs the SQL client over TCP with our credentials; extra args are passed on.
# MYSQL_PWD keeps the password off the command line (MariaDB's client reads it).
db_client() {
	local client
	client=$(mysql_client) || die "no mariadb/mysql client found"
	MYSQL_PWD="$DB_PASS" "$client" --protocol=TCP -h "$DB_HOST" -P "$DB_PORT" -u "$DB_USER" "$@"
}

# True if a server answers at DB_HOST:DB_PORT at all (even if it refuses our login).
mariadb_answers() {
	local admin
	admin=$(mysql_admin) || return 1
	# `ping` exits 0 even on "Access denied": that still means the server is up.
	MYSQL_PWD="$DB_PASS" timeout 5 "$admin" --protocol=TCP -h "$DB_HOST" -P "$DB_PORT" \
		-u "$DB_USER" --connect-timeout=3 ping >/dev/null 2>&1
}

wait_mariadb() {
	local i
	for ((i = 0; i < ADLY_WAIT_SECS * 2; i++)); do
		mariadb_answers && return 0
		sleep 0.5
	done
	die "MariaDB at $DB_HOST:$DB_PORT did not start answering within ${ADLY_WAIT_SECS}s (check /var/log/mysql/ or run /usr/sbin/mariadbd by hand to see why)"
}

# A fresh Debian install lets root in only over the unix socket; our programs
# log in over TCP as root with an empty password.
mariadb_fix_fresh_root() {
	local client
	client=$(mysql_client) || die "no mariadb/mysql client found"
	log "fresh MariaDB install: allowing root over TCP with an empty password (socket auth kept)"
	as_root "$client" -u root -e \
		"ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('') OR unix_socket;" ||
		die "could not change root's authentication over the unix socket"
}

# ensure_mariadb [--pipeline]
# Makes sure MariaDB answers at DB_HOST:DB_PORT and DB_USER can log in. On
# loopback it installs and starts MariaDB when needed. With --pipeline
# (start.sh) a server we start is recorded so stop.sh can stop it.
# shellcheck disable=SC2120 # the flag is optional
ensure_mariadb() {
	local pipeline=0 fresh=0 out
	[[ ${1:-} == --pipeline ]] && pipeline=1

	if ! mysql_client >/dev/null || ! mysql_admin >/dev/null; then
		if is_loopback "$DB_HOST" && [[ ! -x /usr/sbin/mariadbd ]]; then
			apt_install mariadb-server mariadb-client
			fresh=1
		else
			# Only the client is missing; it is needed to check and to apply the schema.
			apt_install mariadb-client
		fi
	fi

	if ! mariadb_answers; then
		is_loopback "$DB_HOST" ||
			die "MariaDB at $DB_HOST:$DB_PORT is not answering; it is not local, so start it there or fix DB_HOST/DB_PORT"
		if [[ ! -x /usr/sbin/mariadbd ]]; then
			apt_install mariadb-server mariadb-client
			fresh=1
		fi
		# The package may have started the server itself.
		if ! mariadb_answers; then
			log "MariaDB not answering at $DB_HOST:$DB_PORT; starting it"
			# /run is emptied on reboot and mariadbd does not create its socket dir.
			as_root install -d -o mysql -g mysql -m 0755 /run/mysqld 2>/dev/null ||
				as_root mkdir -p /run/mysqld || die "cannot create /run/mysqld"
			# mariadbd refuses to run as root unless told which user to switch to,
			# and not every my.cnf says so.
			local -a extra=(--user=mysql)
			[[ $DB_PORT != 3306 ]] && extra+=("--port=$DB_PORT")
			if ! as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- "${extra[@]}"; then
				warn "start-stop-daemon could not start mariadbd; trying 'service mariadb start'"
				command -v service >/dev/null 2>&1 || die "cannot start MariaDB: start-stop-daemon failed and 'service' is not available"
				as_root service mariadb start || die "cannot start MariaDB: 'service mariadb start' failed"
			fi
			wait_mariadb || return 1
			if [[ $pipeline -eq 1 ]]; then
				adly_state_dirs
				printf 'host=%s\nport=%s\n' "$DB_HOST" "$DB_PORT" >"$ADLY_SERVICES/mariadb"
			fi
			log "MariaDB started at $DB_HOST:$DB_PORT"
		fi
	fi

	[[ $fresh -eq 1 ]] && mariadb_fix_fresh_root

	if ! out=$(db_client --connect-timeout=5 -N -e 'SELECT 1' 2>&1); then
		die "MariaDB at $DB_HOST:$DB_PORT answers but login as '$DB_USER' failed (check DB_USER/DB_PASS): $out"
	fi
	log "MariaDB OK at $DB_HOST:$DB_PORT (user $DB_USER)"
	# Remember the server pid for stop.sh, now that we can query it.
	if [[ $pipeline -eq 1 && -f $ADLY_SERVICES/mariadb ]] && ! grep -q '^pid=' "$ADLY_SERVICES/mariadb"; then
		local pidfile pid
		pidfile=$(db_client -N -e 'SELECT @@pid_file' 2>/dev/null) || true
		# A relative pid-file is relative to the data directory.
		if [[ -n $pidfile && $pidfile != /* ]]; then
			pidfile="$(db_client -N -e 'SELECT @@datadir' 2>/dev/null)/$pidfile" || pidfile=''
		fi
		if [[ -n $pidfile ]] && pid=$(as_root cat "$pidfile" 2>/dev/null) && [[ $pid =~ ^[0-9]+$ ]]; then
			printf 'pid=%s\n' "$pid" >>"$ADLY_SERVICES/mariadb"
		fi
	fi
	return 0
}

# Creates DB_NAME if missing and applies sql/schema.sql (idempotent) to it.
apply_schema() {
	local schema="$ADLY_ROOT/sql/schema.sql" out tables
	[[ -f $schema ]] || die "schema file not found: $schema"
	# The name goes inside backquotes in SQL; keep it to safe characters.
	[[ $DB_NAME =~ ^[A-Za-z0-9_]+$ ]] || die "DB_NAME '$DB_NAME' must contain only letters, digits and _"
	out=$(db_client -N -e "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '$DB_NAME'" 2>&1) ||
		die "could not query MariaDB at $DB_HOST:$DB_PORT: $out"
	if [[ $out == 0 ]]; then
		out=$(db_client -e "CREATE DATABASE IF NOT EXISTS \`$DB_NAME\` DEFAULT CHARACTER SET utf8mb4" 2>&1) ||
			die "could not create database $DB_NAME on $DB_HOST:$DB_PORT: $out"
		log "created database $DB_NAME"
	else
		log "database $DB_NAME already exists"
	fi
	out=$(db_client "$DB_NAME" <"$schema" 2>&1) ||
		die "applying $schema to $DB_NAME failed: $out"
	tables=$(db_client -N -e "SELECT GROUP_CONCAT(table_name ORDER BY table_name SEPARATOR ', ') FROM information_schema.tables WHERE table_schema = '$DB_NAME'" 2>/dev/null) || tables='?'
	log "schema applied: sql/schema.sql -> database $DB_NAME at $DB_HOST:$DB_PORT (tables: $tables)"
}

# ------------------------------------------------------------ processes

# True if pid is alive and is our bin/<name> (guards against pid reuse).
adly_pid_is_ours() {
	local pid=$1 name=$2 argv0
	pid_alive "$pid" || return 1
	[[ -r /proc/$pid/cmdline ]] || return 0
	argv0=$(tr '\0' '\n' <"/proc/$pid/cmdline" | head -n 1) || return 1
	[[ $argv0 == "$ADLY_ROOT/bin/$name" ]]
}

# Turns a listen address (":9091", "0.0.0.0:9091", "[::1]:9091") into a
# host:port a client on this machine can use.
dial_addr() {
	local addr=$1 host port
	port=${addr##*:}
	host=${addr%:*}
	case "$host" in
	"" | 0.0.0.0 | "[::]" | ::) host=127.0.0.1 ;;
	esac
	printf '%s:%s\n' "$host" "$port"
}

# Args: host port path. Prints the status code of a plain HTTP/1.0 GET.
_http_get_status() {
	local code
	exec 3<>"/dev/tcp/$1/$2" || return 1
	printf 'GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n' "$3" "$1" >&3
	IFS=' ' read -r _ code _ <&3
	printf '%s\n' "$code"
}

# Prints the HTTP status of a GET (000 if no answer), with whatever client exists.
http_status() {
	local url=$1 code
	if command -v curl >/dev/null 2>&1; then
		code=$(curl -s -o /dev/null -m 3 -w '%{http_code}' "$url" 2>/dev/null) || true
	elif command -v wget >/dev/null 2>&1; then
		code=$(wget -q -S -T 3 -t 1 -O /dev/null "$url" 2>&1 | awk '/^ *HTTP\//{c=$2} END{print c}') || true
	else
		# Plain bash: http://host:port/path only.
		local rest=${url#http://} hostport path host port
		hostport=${rest%%/*}
		path=${rest#"$hostport"}
		path=/${path#/}
		host=${hostport%:*}
		host=${host#[}
		host=${host%]}
		port=${hostport##*:}
		code=$(timeout 3 bash -c "$(declare -f _http_get_status)"'; _http_get_status "$@"' \
			_ "$host" "$port" "$path" 2>/dev/null) || true
	fi
	printf '%s\n' "${code:-000}"
}
