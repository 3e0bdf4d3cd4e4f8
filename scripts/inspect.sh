#!/usr/bin/env bash
# One screen of where events are: the streams and their consumer groups, dead letters, path hits waiting
# in Redis, and what MariaDB has counted for a day. Read-only: it starts, installs and changes nothing.
#
#   scripts/inspect.sh                     today (in TIMEZONE, default UTC)
#   scripts/inspect.sh --date 2026-11-20   another day
#   scripts/inspect.sh --watch 5           refresh every 5 seconds
#
# The same REDIS_*, DB_*, REDIS_KEY_PREFIX and TIMEZONE variables as the workers apply. Exit status 1 when
# Redis or MariaDB did not answer (the other section is still shown), 2 on bad arguments.
set -euo pipefail

# shellcheck source=scripts/lib/services.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/services.sh"

# Every time on the screen is UTC unless a MariaDB time zone says otherwise; this also makes bash's
# printf %(...)T format UTC.
export TZ=UTC

PREFIX="${REDIS_KEY_PREFIX:-}"
TIMEZONE="${TIMEZONE:-UTC}"
# Bounds on the key scan, so a huge keyspace cannot stall the screen.
SCAN_MAX_KEYS=100000
SCAN_MAX_SECS=5
# Widths that keep every line within 100 columns.
PATH_WIDTH=54
REASON_WIDTH=44

usage() {
	cat <<'EOF'
usage: scripts/inspect.sh [--date YYYY-MM-DD] [--watch N] [-h|--help]

Shows the Redis streams, consumer groups, dead letters and path-hit counters, and MariaDB's counts for a
day (today in TIMEZONE, default UTC). Read-only.

  --date YYYY-MM-DD  show MariaDB's counts for that day instead of today
  --watch N          redraw every N seconds (1-86400) until interrupted
  -h, --help         this help

Environment: REDIS_HOST REDIS_PORT REDIS_PASSWORD REDIS_KEY_PREFIX DB_HOST DB_PORT DB_USER DB_PASS DB_NAME
TIMEZONE. Exit status: 0 all answered, 1 Redis or MariaDB did not answer, 2 bad arguments.
EOF
}

bad_usage() {
	printf 'inspect.sh: %s\n' "$1" >&2
	echo "usage: scripts/inspect.sh [--date YYYY-MM-DD] [--watch N] [-h|--help]" >&2
	exit 2
}

DAY=''
WATCH=''
while [[ $# -gt 0 ]]; do
	case "$1" in
	-h | --help)
		usage
		exit 0
		;;
	--date | --watch)
		[[ $# -ge 2 ]] || bad_usage "$1 needs a value"
		opt=${1#--}
		val=$2
		shift 2
		;;
	--date=* | --watch=*)
		opt=${1%%=*}
		opt=${opt#--}
		val=${1#*=}
		shift
		;;
	*) bad_usage "unknown argument '$1'" ;;
	esac
	case "$opt" in
	date)
		# The regex keeps the value safe inside SQL; date(1) rejects days such as 2026-02-30.
		[[ $val =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ && $(date -u -d "$val" +%F 2>/dev/null) == "$val" ]] ||
			bad_usage "--date must be a real day as YYYY-MM-DD, got '$val'"
		DAY=$val
		;;
	watch)
		if ! [[ $val =~ ^[0-9]{1,5}$ ]] || ((10#$val < 1 || 10#$val > 86400)); then
			bad_usage "--watch must be a whole number of seconds from 1 to 86400, got '$val'"
		fi
		WATCH=$((10#$val))
		;;
	esac
done

# ------------------------------------------------------------------ helpers

# Shortens $1 to $2 characters, marking the cut.
trunc() {
	local s=$1 n=$2
	if ((${#s} > n)); then printf '%s...' "${s:0:n-3}"; else printf '%s' "$s"; fi
}

# UTC time of a stream ID: its first part is a Unix time in milliseconds.
id_time() {
	local ms=${1%%-*}
	[[ $ms =~ ^[0-9]+$ ]] || {
		printf '?'
		return
	}
	printf '%(%Y-%m-%d %H:%M:%S)T' "$((ms / 1000))"
}

# Milliseconds as whole seconds ("?" when unknown or negative, e.g. clock skew).
ms_secs() {
	if [[ $1 =~ ^[0-9]+$ ]]; then printf '%ds' "$(($1 / 1000))"; else printf '?'; fi
}

# Glob characters in the prefix must match literally in SCAN MATCH (as the Go code escapes them).
glob_escape() {
	local s=$1 out='' c i
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		case "$c" in
		'*' | '?' | '[' | ']' | "\\") out+="\\$c" ;;
		*) out+=$c ;;
		esac
	done
	printf '%s' "$out"
}

# Runs a Redis command with formatted (quoted) output and flattens the reply to one value per line as
# "<mark><TAB><value>": mark "+" starts a new top-level element, "-" continues one, "!" is an error
# reply. Quoted output keeps values with newlines on one line and shows where each element starts, which
# raw output loses for replies such as XREVRANGE.
rflat() {
	rcli --no-raw "$@" | awk '
		{
			line = $0
			# redis-cli right-aligns indexes, so every top-level index ends in the same column.
			top = match(line, /^ *[0-9]+\)/) && (NR == 1 ? (topcol = RLENGTH) : RLENGTH == topcol)
			sub(/^ *([0-9]+\) +)*/, "", line)
			if (line ~ /^\(error\) /) { print "!\t" substr(line, 9); next }
			if (line ~ /^\(empty (array|list or set)\)$/) next
			if (line ~ /^\(integer\) /) v = substr(line, 11)
			else if (line == "(nil)") v = ""
			else if (line ~ /^".*"$/) { v = substr(line, 2, length(line) - 2); gsub(/\\"/, "\"", v) }
			else v = line
			print (top ? "+" : "-") "\t" v
		}'
}

# Reads rflat output on stdin and prints the top-level element whose field "name" is $1, as
# "<field><TAB><value>" lines (XINFO GROUPS and XINFO CONSUMERS reply with flat field/value lists).
flat_element_named() {
	awk -F '\t' -v want="$1" '
		function flush() { if (found) printf "%s", buf; buf = ""; found = 0; key = "" }
		$1 == "+" { flush(); n = 0 }
		{
			if (n % 2 == 0) key = $2
			else { buf = buf key "\t" $2 "\n"; if (key == "name" && $2 == want) found = 1 }
			n++
		}
		END { flush() }'
}

# Prints the value of field $1 from "<field><TAB><value>" lines on stdin.
field() {
	awk -F '\t' -v k="$1" '$1 == k { sub(/^[^\t]*\t/, ""); print; exit }'
}

# ------------------------------------------------------------------ Redis

NOW_MS=''

# Section 1 for one stream: length and ends, its group, oldest pending entry, consumers, dead letters.
stream_section() {
	local s=$1 g=$2 type len first last
	# redis-cli exits 0 on error replies too, hence the check of what came back.
	if ! type=$(rcli TYPE "$s") || ! [[ $type =~ ^[a-z]+$ ]]; then
		echo "$s: TYPE failed: $(trunc "${type:-no reply}" 60)"
		return 1
	fi
	case "$type" in
	none) echo "$s: no stream yet" ;;
	stream)
		len=$(rcli XLEN "$s") && [[ $len =~ ^[0-9]+$ ]] || len='?'
		first=$(rcli XRANGE "$s" - + COUNT 1 | head -n 1) || first=''
		last=$(rcli XREVRANGE "$s" + - COUNT 1 | head -n 1) || last=''
		echo "$s: length $len"
		if [[ -n $first ]]; then
			printf '  first %-20s %s   last %-20s %s\n' "$first" "$(id_time "$first")" "$last" "$(id_time "$last")"
		fi
		group_lines "$s" "$g"
		;;
	*) echo "$s: is a $type, not a stream" ;;
	esac
	dead_lines "$s:dead"
}

group_lines() {
	local s=$1 g=$2 info reply n=0 shown=5 total
	info=$(rflat XINFO GROUPS "$s" | flat_element_named "$g") || info=''
	if [[ -z $info ]]; then
		echo "  group $g: no group yet"
		return 0
	fi
	# entries-read and lag are nil when Redis cannot tell, and absent before Redis 7.
	local delivered pending eread lag
	delivered=$(field last-delivered-id <<<"$info")
	pending=$(field pending <<<"$info")
	eread=$(field entries-read <<<"$info")
	lag=$(field lag <<<"$info")
	printf '  group %s: last-delivered %s  entries-read %s  lag %s  pending %s\n' \
		"$g" "$delivered" "${eread:-?}" "${lag:-?}" "${pending:-?}"

	if [[ ${pending:-0} != 0 ]]; then
		# Extended XPENDING, oldest first: id, consumer, idle ms, times delivered.
		local -a p=()
		mapfile -t p < <(rflat XPENDING "$s" "$g" - + 1 | cut -f 2)
		if [[ ${#p[@]} -ge 4 && ${p[0]} =~ ^[0-9]+-[0-9]+$ ]]; then
			local age='?'
			[[ -n $NOW_MS ]] && age=$(ms_secs "$((NOW_MS - ${p[0]%%-*}))")
			printf '  oldest pending %s  age %s  idle %s  delivered %sx  consumer %s\n' \
				"${p[0]}" "$age" "$(ms_secs "${p[2]}")" "${p[3]}" "$(trunc "${p[1]}" 24)"
		fi
	fi

	# One line per consumer; a busy group may have many, so only the first few.
	reply=$(rflat XINFO CONSUMERS "$s" "$g") || reply=''
	total=$(grep -c '^+' <<<"$reply") || total=0
	if ((total == 0)); then
		echo "  consumers: none"
		return 0
	fi
	local name cpending idle inactive extra
	while IFS=$'\t' read -r name; do
		((n++ < shown)) || break
		info=$(flat_element_named "$name" <<<"$reply")
		cpending=$(field pending <<<"$info")
		idle=$(field idle <<<"$info")
		# Redis 7.2+ also says how long since the consumer last read anything.
		inactive=$(field inactive <<<"$info")
		extra=''
		if [[ -n $inactive ]]; then
			if [[ $inactive == -1 ]]; then extra='  inactive never-read'; else extra="  inactive $(ms_secs "$inactive")"; fi
		fi
		printf '  consumer %-28s pending %-6s idle %s%s\n' "$(trunc "$name" 28)" "$cpending" "$(ms_secs "$idle")" "$extra"
	done < <(awk -F '\t' '$1 == "+" { n = 0 } { if (n == 1) print $2; n++ }' <<<"$reply")
	((total <= shown)) || echo "  ... and $((total - shown)) more consumers"
}

dead_lines() {
	local d=$1 len reply
	len=$(rcli XLEN "$d") && [[ $len =~ ^[0-9]+$ ]] || len='?'
	if [[ $len == 0 ]]; then
		echo "  dead letters ($d): 0"
		return 0
	fi
	echo "  dead letters ($d): $len, latest:"
	reply=$(rflat XREVRANGE "$d" + - COUNT 3) || reply=''
	# Each entry: its ID, then field/value pairs.
	awk -F '\t' '
		function flush() { if (id != "") printf "%s\t%s\t%s\n", id, f["original_id"], f["reason"]; id = ""; delete f }
		$1 == "+" { flush(); id = $2; n = 0; next }
		{ if (n % 2 == 0) k = $2; else f[k] = $2; n++ }
		END { flush() }' <<<"$reply" |
		while IFS=$'\t' read -r id orig reason; do
			printf '    %s  orig %-20s %s\n' "$(id_time "$id")" "${orig:-?}" "$(trunc "${reason:-?}" "$REASON_WIDTH")"
		done
}

# Section 2: counters waiting for the syncer, parked keys, sync chunks and the lock.
path_hits_section() {
	local pat hit_p=${PREFIX}analytics:hit: park_p=${PREFIX}analytics:parked:
	local cursor=0 reply keys=0 hits=0 nonint=0 parked=0 seen=0 note='' start=$SECONDS sums k n s b
	local -a batch hitkeys
	# One pass over analytics:* covers both hit and parked keys; SCAN (never KEYS) keeps Redis responsive.
	pat="$(glob_escape "$PREFIX")analytics:*"
	while :; do
		reply=$(rcli SCAN "$cursor" MATCH "$pat" COUNT 1000) || {
			note="scan failed; figures are partial"
			break
		}
		mapfile -t batch <<<"$reply"
		cursor=${batch[0]}
		# redis-cli exits 0 on error replies (NOPERM, ...), so check the reply's shape.
		if ! [[ $cursor =~ ^[0-9]+$ ]]; then
			note="SCAN failed: $(trunc "$cursor" 60)"
			break
		fi
		hitkeys=()
		for k in "${batch[@]:1}"; do
			[[ -n $k ]] || continue
			seen=$((seen + 1))
			case "$k" in
			"$hit_p"*) hitkeys+=("$k") ;;
			"$park_p"*) parked=$((parked + 1)) ;;
			esac
		done
		if ((${#hitkeys[@]} > 0)); then
			# Keys deleted since the scan (synced meanwhile) read as nil and are skipped.
			sums=$(rcli MGET "${hitkeys[@]}" | awk '
				/^-?[0-9]+$/ { n++; s += $0; next }
				/./ { bad++ }
				END { printf "%d %.0f %d\n", n, s, bad }') || sums='0 0 0'
			read -r n s b <<<"$sums"
			keys=$((keys + n))
			hits=$((hits + s))
			nonint=$((nonint + b))
		fi
		[[ $cursor == 0 ]] && break
		if ((seen >= SCAN_MAX_KEYS)); then
			note="stopped after the first $seen analytics keys; there are more"
			break
		fi
		if ((SECONDS - start >= SCAN_MAX_SECS)); then
			note="scan stopped after ${SCAN_MAX_SECS}s; figures cover the keys seen so far"
			break
		fi
	done

	local chunks lock ttl lockdesc
	chunks=$(rcli SCARD "${PREFIX}analytics:sync:pending") || chunks='?'
	lock=$(rcli GET "${PREFIX}analytics:sync:lock") || lock='?'
	ttl=$(rcli TTL "${PREFIX}analytics:sync:lock") || ttl='?'
	if [[ -z $lock ]]; then
		lockdesc='free'
	else
		case "$ttl" in
		-1) lockdesc="held by $(trunc "$lock" 40), no expiry" ;;
		-2) lockdesc='free' ;;
		*) lockdesc="held by $(trunc "$lock" 40), ttl ${ttl}s" ;;
		esac
	fi
	printf 'waiting to sync: %s counters, %s hits   parked: %s   sync chunks pending: %s\n' \
		"$keys" "$hits" "$parked" "$chunks"
	echo "sync lock: $lockdesc"
	((nonint == 0)) || echo "note: $nonint hit keys hold something other than an integer (the syncer parks them)"
	[[ -z $note ]] || echo "note: $note"
}

redis_section() {
	local reply t sec usec
	echo "== Redis $REDIS_HOST:$REDIS_PORT  prefix '${PREFIX}'"
	if ! command -v redis-cli >/dev/null 2>&1; then
		echo "Redis: redis-cli not found, cannot inspect"
		return 1
	fi
	reply=$(redis_ping)
	if [[ $reply != PONG ]]; then
		echo "Redis: not answering: $(trunc "${reply//$'\n'/ }" 76)"
		return 1
	fi
	# Ages are measured on Redis's clock, the one that made the stream IDs.
	t=$(rcli TIME | tr '\n' ' ') || t=''
	read -r sec usec <<<"$t" || true
	[[ ${sec:-} =~ ^[0-9]+$ && ${usec:-} =~ ^[0-9]+$ ]] && NOW_MS=$((sec * 1000 + usec / 1000))

	local rc=0
	stream_section "${PREFIX}impressions_stream" impression_group || rc=1
	stream_section "${PREFIX}clicks_stream" click_group || rc=1
	echo "-- path hits"
	path_hits_section || rc=1
	return "$rc"
}

# ------------------------------------------------------------------ MariaDB

# Runs SQL in DB_NAME, tab-separated without headers; times come out in UTC.
db_query() {
	db_client --connect-timeout=3 -N -B "$DB_NAME" -e "SET time_zone = '+00:00'; $1"
}

mariadb_section() {
	local out day tzname conv='' note='' tables
	echo "== MariaDB $DB_NAME at $DB_HOST:$DB_PORT"
	if ! mysql_client >/dev/null; then
		echo "MariaDB: no mariadb/mysql client found, cannot inspect"
		return 1
	fi
	# DB_NAME goes into SQL; keep it to the characters apply_schema allows.
	if ! [[ $DB_NAME =~ ^[A-Za-z0-9_]+$ ]]; then
		echo "MariaDB: DB_NAME '$DB_NAME' must contain only letters, digits and _"
		return 1
	fi
	# The first row says whether the database exists, the others name its tables.
	if ! out=$(db_client --connect-timeout=3 -N -B -e \
		"SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '$DB_NAME';
		SELECT table_name FROM information_schema.tables WHERE table_schema = '$DB_NAME'" 2>&1); then
		echo "MariaDB: not answering: $(trunc "$(head -n 1 <<<"$out")" 76)"
		return 1
	fi
	if [[ $(head -n 1 <<<"$out") == 0 ]]; then
		echo "database $DB_NAME does not exist (scripts/schema.sh creates it)"
		return 0
	fi
	tables=" $(tail -n +2 <<<"$out" | tr '\n' ' ') "
	if [[ $tables == "  " ]]; then
		echo "database $DB_NAME has no tables (scripts/schema.sh applies sql/schema.sql)"
		return 0
	fi

	# The workers date events in TIMEZONE; MariaDB can only say what day it is there with its time zone
	# tables loaded.
	tzname='UTC'
	case "$TIMEZONE" in
	UTC | Etc/UTC | UCT | Zulu | Etc/Zulu | GMT | Etc/GMT | Z) ;;
	*)
		if [[ $TIMEZONE =~ ^[A-Za-z0-9_+/-]+$ ]] &&
			out=$(db_client --connect-timeout=3 -N -B -e "SELECT CONVERT_TZ(UTC_TIMESTAMP(), '+00:00', '$TIMEZONE') IS NOT NULL" 2>/dev/null) &&
			[[ $out == 1 ]]; then
			tzname=$TIMEZONE
			conv=$TIMEZONE
		else
			note="MariaDB cannot convert to TIMEZONE=$TIMEZONE (time zone tables not loaded?)"
			[[ -n $DAY ]] || note+=$'\n'"note: so today is the UTC date; dates are shown as stored"
		fi
		;;
	esac
	# Expressions for "now" and for a stored TIMESTAMP, in the zone shown.
	local now_sql='UTC_TIMESTAMP()' ts_sql='updated_at' sync_sql='MAX(created_at)'
	if [[ -n $conv ]]; then
		now_sql="CONVERT_TZ(UTC_TIMESTAMP(), '+00:00', '$conv')"
		ts_sql="CONVERT_TZ(updated_at, '+00:00', '$conv')"
		sync_sql="CONVERT_TZ(MAX(created_at), '+00:00', '$conv')"
	fi
	if [[ -n $DAY ]]; then
		day=$DAY
	elif ! day=$(db_query "SELECT DATE($now_sql)" 2>&1); then
		echo "MariaDB: query failed: $(trunc "$(head -n 1 <<<"$day")" 80)"
		return 1
	fi
	local when='today'
	[[ -z $DAY ]] || when='day'
	echo "$when $day ($tzname)"
	[[ -z $note ]] || echo "note: $note"

	# One connection for everything; each row is tagged with the part of the screen it belongs to.
	local sql='' missing=''
	local has_imp=0 has_clk=0
	[[ $tables == *" ad_daily_impressions "* ]] && has_imp=1
	[[ $tables == *" ad_daily_clicks "* ]] && has_clk=1
	if ((has_imp && has_clk)); then
		# No FULL OUTER JOIN in MariaDB: the union of both tables' keys, then each side joined on it.
		sql+="
		SELECT 'A', k.ad_id, COALESCE(i.impressions, 0) AS imp, COALESCE(c.clicks, 0) AS clk,
			IF(COALESCE(i.impressions, 0) > 0, ROUND(100 * COALESCE(c.clicks, 0) / i.impressions, 2), NULL)
		FROM (SELECT ad_id, date FROM ad_daily_impressions WHERE date = '$day'
			UNION SELECT ad_id, date FROM ad_daily_clicks WHERE date = '$day') k
		LEFT JOIN ad_daily_impressions i ON i.ad_id = k.ad_id AND i.date = k.date
		LEFT JOIN ad_daily_clicks c ON c.ad_id = k.ad_id AND c.date = k.date
		ORDER BY imp DESC, clk DESC, k.ad_id LIMIT 10;
		SELECT 'T', t.ads, t.imp, t.clk, IF(t.imp > 0, ROUND(100 * t.clk / t.imp, 2), NULL)
		FROM (SELECT
			(SELECT COUNT(*) FROM (SELECT ad_id FROM ad_daily_impressions WHERE date = '$day'
				UNION SELECT ad_id FROM ad_daily_clicks WHERE date = '$day') u) AS ads,
			(SELECT COALESCE(SUM(impressions), 0) FROM ad_daily_impressions WHERE date = '$day') AS imp,
			(SELECT COALESCE(SUM(clicks), 0) FROM ad_daily_clicks WHERE date = '$day') AS clk) t;"
	else
		((has_imp)) || missing+=' ad_daily_impressions'
		((has_clk)) || missing+=' ad_daily_clicks'
	fi
	if [[ $tables == *" path_counters "* ]]; then
		sql+="
		SELECT 'P', path, hit_count, $ts_sql FROM path_counters ORDER BY hit_count DESC, path LIMIT 10;
		SELECT 'Q', COUNT(*), COALESCE(SUM(hit_count), 0) FROM path_counters;"
	else
		missing+=' path_counters'
	fi
	if [[ $tables == *" stream_ledger "* ]]; then
		sql+=" SELECT 'L', COUNT(*) FROM stream_ledger;"
	else
		missing+=' stream_ledger'
	fi
	if [[ $tables == *" path_sync_log "* ]]; then
		sql+=" SELECT 'S', COUNT(*), $sync_sql FROM path_sync_log;"
	else
		missing+=' path_sync_log'
	fi
	[[ -z $missing ]] || echo "missing tables:$missing (apply sql/schema.sql)"
	[[ -n $sql ]] || return 0
	if ! out=$(db_query "$sql" 2>&1); then
		echo "MariaDB: query failed: $(trunc "$(head -n 1 <<<"$out")" 80)"
		return 1
	fi

	local tag a b c d ads=0 paths=0 ledger='?' synclog='?' lastsync=''
	local ptotal='' phits=''
	if ((has_imp && has_clk)); then
		printf '%-12s %14s %12s %8s\n' 'ad_id' 'impressions' 'clicks' 'CTR %'
	fi
	while IFS=$'\t' read -r tag a b c d; do
		[[ $c == NULL ]] && c=''
		[[ $d == NULL ]] && d='-'
		case "$tag" in
		A)
			ads=$((ads + 1))
			printf '%-12s %14s %12s %8s\n' "$a" "$b" "$c" "$d"
			;;
		T)
			((ads > 0)) || echo "(no counts for $day)"
			printf '%-12s %14s %12s %8s\n' "total $a ads" "$b" "$c" "$d"
			;;
		P)
			if ((paths++ == 0)); then
				printf '%-*s %14s  %s\n' "$PATH_WIDTH" 'path' 'hit_count' "updated_at ($tzname)"
			fi
			[[ -n $c ]] || c='-'
			printf '%-*s %14s  %s\n' "$PATH_WIDTH" "$(trunc "$a" "$PATH_WIDTH")" "$b" "$c"
			;;
		Q) ptotal=$a phits=$b ;;
		L) ledger=$a ;;
		S) synclog=$a lastsync=$b ;;
		esac
	done <<<"$out"
	if [[ -n $ptotal ]]; then
		((paths > 0)) || echo "path_counters: no rows yet"
		echo "path_counters: $ptotal paths, $phits hits"
	fi
	[[ $lastsync == NULL ]] && lastsync=''
	printf 'stream_ledger rows: %s   path_sync_log rows: %s%s\n' "$ledger" "$synclog" \
		"${lastsync:+ (last $lastsync)}"
	return 0
}

# ------------------------------------------------------------------ screen

render() {
	local rc=0
	printf 'adly inspect  %(%Y-%m-%d %H:%M:%S)T UTC' -1
	[[ -z $WATCH ]] || printf '  (every %ss, Ctrl-C to stop)' "$WATCH"
	printf '\n\n'
	redis_section || rc=1
	echo
	mariadb_section || rc=1
	return "$rc"
}

if [[ -z $WATCH ]]; then
	if render; then exit 0; else exit 1; fi
fi

while :; do
	# Drawn off-screen first so a slow query does not leave a half-cleared screen.
	if frame=$(render); then rc=0; else rc=1; fi
	printf '\033[H\033[2J%s\n' "$frame"
	[[ $rc -eq 0 ]] || echo "(Redis or MariaDB did not answer)"
	sleep "$WATCH"
done
