# shellcheck shell=bash
# A throw-away Redis Cluster for the tests: three masters with one replica each, from Debian's redis-server,
# on loopback ports, nothing kept on disk.
#
#   cluster_start   starts it, waits until it is whole, and exports
#                     ADLY_TEST_CLUSTER       its six nodes as host:port, comma-separated (the seed list)
#                     ADLY_TEST_CLUSTER_DIR   its directory (below)
#   cluster_stop    stops every node of it (also one a test restarted) and removes the directory
#
# By hand, from the repository:
#   source scripts/lib/cluster.sh && cluster_start && go test -race ./pkg/keyspace/; cluster_stop
#
# ADLY_TEST_CLUSTER_DIR holds one folder per node, named by its port: redis.conf (a killed node comes back
# with `redis-server <dir>/<port>/redis.conf --daemonize yes`), redis.pid (the id of the process running
# now, rewritten by such a restart), nodes.conf and redis.log. The file `lock` is what tests lock, shared
# by a test that only uses the cluster and exclusively by one that kills a node (pkg/testkit).
#
# Ports: six from 21000-22699, checked free, whose cluster bus ports (port + 10000) stay below Linux's
# ephemeral range (32768 and up), so that no test's 127.0.0.1:0 listener or outgoing connection takes one
# meanwhile. A port taken between the check and the start is noticed (the node dies, or another process
# answers) and the start tried again on other ports.
#
# A password in REDIS_PASSWORD is required by the nodes too, as the tests' clients send it.
#
# Sourced, not executed; needs services.sh (sourced here when it was not).

if ! declare -F apt_install >/dev/null; then
	# shellcheck source=scripts/lib/services.sh
	source "$(dirname "${BASH_SOURCE[0]}")/services.sh"
fi

ADLY_CLUSTER_PIDS=()

# ccli PORT ARGS...: redis-cli against one node, bounded in time.
ccli() {
	local port=$1
	shift
	if [[ -n $REDIS_PASSWORD ]]; then
		REDISCLI_AUTH="$REDIS_PASSWORD" timeout 10 redis-cli --no-auth-warning -h 127.0.0.1 -p "$port" "$@"
	else
		timeout 10 redis-cli -h 127.0.0.1 -p "$port" "$@"
	fi
}

# True if something listens on 127.0.0.1:PORT.
cluster_port_taken() {
	(: <>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Prints the field NAME of `ccli PORT info SECTION` (or of `cluster info` when SECTION is "cluster").
cluster_field() {
	local port=$1 section=$2 name=$3
	if [[ $section == cluster ]]; then
		ccli "$port" cluster info 2>/dev/null
	else
		ccli "$port" info "$section" 2>/dev/null
	fi | tr -d '\r' | sed -n "s/^$name://p"
}

# cluster_node_up PORT PID: true once the node answers on PORT and it is our process PID that answers.
cluster_node_up() {
	[[ $(cluster_field "$1" server process_id) == "$2" ]]
}

# Starts the six nodes on PORTS (in the caller's array) under DIR; false if one of them did not come up.
cluster_start_nodes() {
	local dir=$1 port d pid i n ok
	shift
	for port in "$@"; do
		d="$dir/$port"
		mkdir -p "$d" || die "cannot create $d"
		{
			printf 'port %s\nbind 127.0.0.1\ndir %s\n' "$port" "$d"
			printf 'pidfile %s/redis.pid\nlogfile %s/redis.log\n' "$d" "$d"
			printf 'cluster-enabled yes\ncluster-config-file %s/nodes.conf\n' "$d"
			# A dead master is failed over after 5 s: quick enough for a test, slow enough that a node
			# stalled by a busy 2-core machine is not taken for dead.
			printf 'cluster-node-timeout 5000\n'
			printf 'save ""\nappendonly no\nmaxmemory-policy noeviction\n'
			# Replicas attach at once instead of after the default 5 s wait for more of them.
			printf 'repl-diskless-sync yes\nrepl-diskless-sync-delay 0\n'
			if [[ -n $REDIS_PASSWORD ]]; then
				printf 'requirepass "%s"\nmasterauth "%s"\n' "$REDIS_PASSWORD" "$REDIS_PASSWORD"
			fi
		} >"$d/redis.conf"
		redis-server "$d/redis.conf" </dev/null >>"$d/redis.log" 2>&1 &
		ADLY_CLUSTER_PIDS+=("$! $port")
		# Not a job of this shell: a node that a test kills is not reported as "Killed" on the output.
		disown "$!"
	done
	i=$((${#ADLY_CLUSTER_PIDS[@]} - $#))
	for port in "$@"; do
		pid=${ADLY_CLUSTER_PIDS[$i]% *}
		i=$((i + 1))
		ok=0
		for ((n = 0; n < 100; n++)); do
			pid_alive "$pid" || break
			if cluster_node_up "$port" "$pid"; then
				ok=1
				break
			fi
			sleep 0.1
		done
		if [[ $ok -eq 0 ]]; then
			warn "cluster node on port $port did not start (port taken?): $(tail -n 3 "$dir/$port/redis.log" 2>/dev/null | tr '\n' ' ')"
			return 1
		fi
	done
}

# True when every node of PORTS sees the whole cluster (state ok, all slots, six nodes) and every master
# has its replica attached.
cluster_whole() {
	local port role
	for port in "$@"; do
		[[ $(cluster_field "$port" cluster cluster_state) == ok ]] || return 1
		[[ $(cluster_field "$port" cluster cluster_slots_ok) == 16384 ]] || return 1
		[[ $(cluster_field "$port" cluster cluster_known_nodes) == "$#" ]] || return 1
		role=$(cluster_field "$port" replication role)
		case $role in
		master) [[ $(cluster_field "$port" replication connected_slaves) == 1 ]] || return 1 ;;
		slave) [[ $(cluster_field "$port" replication master_link_status) == up ]] || return 1 ;;
		*) return 1 ;;
		esac
	done
}

cluster_start() {
	local start=$SECONDS dir attempt base port i
	local -a ports seeds
	if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
		apt_install redis-server redis-tools
	fi
	dir=$(mktemp -d "${TMPDIR:-/tmp}/adly-cluster.XXXXXX") || die "cannot create a directory for the test cluster"
	ADLY_CLUSTER_DIR=$dir
	for attempt in 1 2 3 4 5; do
		ports=()
		base=$((21000 + RANDOM % 170 * 10))
		for ((port = base; port < 22700 && ${#ports[@]} < 6; port++)); do
			cluster_port_taken "$port" || cluster_port_taken "$((port + 10000))" || ports+=("$port")
		done
		if [[ ${#ports[@]} -eq 6 ]] && cluster_start_nodes "$dir" "${ports[@]}"; then
			break
		fi
		cluster_kill_nodes
		rm -rf "${dir:?}"/*
		ports=()
		warn "test cluster: attempt $attempt failed; trying other ports"
	done
	[[ ${#ports[@]} -eq 6 ]] || die "could not start the test Redis Cluster's nodes (see the warnings above)"

	seeds=()
	for port in "${ports[@]}"; do seeds+=("127.0.0.1:$port"); done
	# The first three given become masters, each of the last three a replica of one of them; masters get
	# equal contiguous slot ranges (0-5460, 5461-10922, 10923-16383).
	local -a auth=()
	[[ -n $REDIS_PASSWORD ]] && auth=(env REDISCLI_AUTH="$REDIS_PASSWORD")
	if ! "${auth[@]}" timeout 60 redis-cli --no-auth-warning --cluster create "${seeds[@]}" \
		--cluster-replicas 1 --cluster-yes >"$dir/create.log" 2>&1; then
		cat "$dir/create.log" >&2
		die "redis-cli --cluster create failed"
	fi
	for ((i = 0; i < ADLY_WAIT_SECS * 10; i++)); do
		cluster_whole "${ports[@]}" && break
		sleep 0.1
	done
	if ! cluster_whole "${ports[@]}"; then
		ccli "${ports[0]}" cluster nodes >&2 || true
		die "the test Redis Cluster did not become whole (state ok, every replica attached) within ${ADLY_WAIT_SECS}s"
	fi
	: >"$dir/lock"
	ADLY_TEST_CLUSTER=$(
		IFS=,
		echo "${seeds[*]}"
	)
	export ADLY_TEST_CLUSTER
	export ADLY_TEST_CLUSTER_DIR=$dir
	log "Redis Cluster up in $((SECONDS - start))s: 3 masters + 3 replicas on ports ${ports[*]} (ADLY_TEST_CLUSTER=$ADLY_TEST_CLUSTER, dir $dir)"
}

# True if PID is alive and is the redis-server of the node on PORT (not a process that got its pid since).
cluster_pid_is_node() {
	local pid=$1 port=$2 args
	pid_alive "$pid" || return 1
	args=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
	# Before it names itself "redis-server 127.0.0.1:PORT [cluster]" its arguments hold <dir>/PORT/redis.conf.
	[[ $args == *redis-server*"$port"* ]]
}

# Kills the cluster's nodes: the processes started here and whichever process a node's pid file names
# now (a node a test killed and started again), each only if it is still that node's redis-server.
cluster_kill_nodes() {
	local entry pid d port i alive
	local -a pids=()
	for entry in "${ADLY_CLUSTER_PIDS[@]}"; do
		cluster_pid_is_node "${entry% *}" "${entry#* }" && pids+=("${entry% *}")
	done
	if [[ -n ${ADLY_CLUSTER_DIR:-} ]]; then
		for d in "$ADLY_CLUSTER_DIR"/*/; do
			[[ -f $d/redis.pid ]] || continue
			port=$(basename "$d")
			pid=$(cat "$d/redis.pid" 2>/dev/null) || continue
			cluster_pid_is_node "$pid" "$port" && pids+=("$pid")
		done
	fi
	[[ ${#pids[@]} -gt 0 ]] || return 0
	# SIGTERM: a node without persistence exits at once; whatever is still there a second later is killed.
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for ((i = 0; i < 10; i++)); do
		alive=0
		for pid in "${pids[@]}"; do pid_alive "$pid" && alive=1; done
		[[ $alive -eq 1 ]] || break
		sleep 0.1
	done
	for pid in "${pids[@]}"; do
		pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null
	done
	ADLY_CLUSTER_PIDS=()
}

# Stops the cluster cluster_start started (nothing else) and removes its directory; safe to call twice or
# when none was started.
cluster_stop() {
	[[ -n ${ADLY_CLUSTER_DIR:-} ]] || return 0
	cluster_kill_nodes
	rm -rf "$ADLY_CLUSTER_DIR"
	ADLY_CLUSTER_DIR=''
	unset ADLY_TEST_CLUSTER ADLY_TEST_CLUSTER_DIR
	log "Redis Cluster stopped"
}
