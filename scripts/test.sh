#!/usr/bin/env bash
# The project's single test command; CI runs exactly this (through .ci/run).
#
#   scripts/test.sh                       gofmt, go vet, staticcheck, docker-compose config, go test -race,
#                                         short fuzz pass
#   scripts/test.sh -run TestX ./pkg/ingest  only: go test -race -count=1 <args>
#
# FUZZ_TIME (default 6s) is how long each fuzz target runs; longer runs by hand, e.g. FUZZ_TIME=2m.
# Tests need Redis and MariaDB; they are started (or installed) here when
# missing. The tests create their own databases, so no schema is applied.
# A Redis Cluster (three masters, one replica each) is started for the run and
# stopped at its end (scripts/lib/cluster.sh), unless ADLY_TEST_CLUSTER already
# names one; the cluster tests find it through ADLY_TEST_CLUSTER.
# shellcheck disable=SC2317 # step functions are only called through run_step
set -euo pipefail

# shellcheck source=scripts/lib/services.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/services.sh"
# shellcheck source=scripts/lib/cluster.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/cluster.sh"
cd "$ADLY_ROOT"

FUZZ_TIME="${FUZZ_TIME:-6s}"

ensure_go
# -race needs cgo, and cgo needs a C compiler; without one Go quietly turns cgo off.
if ! command -v gcc >/dev/null 2>&1 && ! command -v cc >/dev/null 2>&1; then
	apt_install gcc libc6-dev
fi
ensure_redis
ensure_mariadb
# The cluster is stopped however the run ends: an interrupt or SIGTERM exits through the EXIT trap.
trap cluster_stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
if [[ -n ${ADLY_TEST_CLUSTER:-} ]]; then
	log "Redis Cluster: using ADLY_TEST_CLUSTER=$ADLY_TEST_CLUSTER"
else
	cluster_start
fi
# The end-to-end test (e2e/) drives Debian's Chromium headless.
if ! command -v chromium >/dev/null 2>&1 && [[ -z ${CHROMIUM:-} ]]; then
	apt_install chromium
fi

results=()
failed=0

# run_step NAME CMD...: runs CMD, records PASS/FAIL and how long it took.
run_step() {
	local name=$1 start=$SECONDS
	shift
	log "$name"
	if "$@"; then
		results+=("PASS  $name ($((SECONDS - start))s)")
	else
		results+=("FAIL  $name ($((SECONDS - start))s)")
		failed=1
	fi
}

summary() {
	echo
	echo "==> summary"
	printf '  %s\n' "${results[@]}"
	if [[ $failed -eq 0 ]]; then
		echo "test.sh: PASS"
	else
		echo "test.sh: FAIL"
	fi
}

# Every .go file we own: tracked plus new untracked ones (a fresh CI clone has
# only tracked files), minus vendored code and testdata fixtures.
go_files() {
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git ls-files --cached --others --exclude-standard -- '*.go'
	else
		find . -name '*.go' -not -path './.git/*' -not -path './.run/*' | sed 's|^\./||'
	fi | grep -Ev '(^|/)(vendor|testdata)/' | while IFS= read -r f; do
		# Tracked files deleted in the work tree are still listed by git.
		[[ -f $f ]] && printf '%s\n' "$f"
	done
}

check_gofmt() {
	local -a files
	local out
	mapfile -t files < <(go_files)
	if [[ ${#files[@]} -eq 0 ]]; then
		echo "no .go files found"
		return 0
	fi
	out=$(gofmt -l "${files[@]}") || return 1
	if [[ -n $out ]]; then
		echo "these files are not gofmt-formatted (fix with: gofmt -w <file>):"
		printf '  %s\n' "$out"
		return 1
	fi
	echo "gofmt: ${#files[@]} files OK"
}

# Fuzz targets under pkg/ as "dir name" lines, e.g. "pkg/event FuzzDecode".
fuzz_targets() {
	[[ -d pkg ]] || return 0
	grep -rHE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\([A-Za-z_][A-Za-z0-9_]* \*testing\.F\)' pkg |
		sed -E 's|^(.*)/[^/]*:func (Fuzz[A-Za-z0-9_]*)\(.*$|\1 \2|' | sort -u || true
}

# Each target on its own: -fuzz must match exactly one target in one package.
# fuzz_one DIR NAME: a failure that recorded a failing input is real and final. A failure that recorded
# none is the fuzzing engine itself giving up (a worker reported as hung on a loaded 2-core machine): it is
# said so and retried once.
fuzz_one() {
	local dir=$1 name=$2 corpus before after
	corpus="$dir/testdata/fuzz/$name"
	before=$(find "$corpus" -type f 2>/dev/null | wc -l)
	go test -run='^$' -fuzz="^${name}\$" -fuzztime="$FUZZ_TIME" "./$dir" && return 0
	after=$(find "$corpus" -type f 2>/dev/null | wc -l)
	[[ $after -gt $before ]] && return 1
	warn "fuzz $name failed without recording a failing input (engine error, not a finding); retrying once"
	go test -run='^$' -fuzz="^${name}\$" -fuzztime="$FUZZ_TIME" "./$dir"
}

run_fuzz() {
	local -a targets
	local line dir name fails=0
	mapfile -t targets < <(fuzz_targets)
	if [[ ${#targets[@]} -eq 0 ]]; then
		echo "no fuzz targets under pkg/"
		return 0
	fi
	for line in "${targets[@]}"; do
		dir=${line% *}
		name=${line#* }
		log "fuzz $name in ./$dir for $FUZZ_TIME"
		if fuzz_one "$dir" "$name"; then
			continue
		fi
		echo "FAIL: fuzz $name (./$dir); a failing input is saved under ./$dir/testdata/fuzz/$name/" >&2
		fails=$((fails + 1))
	done
	echo "fuzz: ${#targets[@]} targets, $fails failed"
	[[ $fails -eq 0 ]]
}

# docker-compose.yml must stay valid for docker-compose 1.x (Debian's package, the oldest we support).
# `config` only parses and checks the file, so no Docker engine is needed. The install runs in a subshell
# so that a failure fails this step instead of ending the run.
check_compose() {
	if ! command -v docker-compose >/dev/null 2>&1; then
		(apt_install docker-compose) || return 1
	fi
	docker-compose -f docker-compose.yml config -q || return 1
	echo "docker-compose.yml: valid ($(docker-compose version --short 2>/dev/null || echo 'version unknown'))"
}

# With arguments: just the tests asked for.
if [[ $# -gt 0 ]]; then
	run_step "go test -race -count=1 $*" go test -race -count=1 "$@"
	summary
	exit "$failed"
fi

# Later steps still run after a failure so one run shows every problem.
run_step "gofmt -l" check_gofmt
run_step "go vet ./..." go vet ./...
# Pinned in go.mod's tool directive, so every machine runs the same checks.
run_step "staticcheck ./..." go tool staticcheck ./...
run_step "docker-compose config -q" check_compose
run_step "go test -race -count=1 -timeout 12m ./..." go test -race -count=1 -timeout 12m ./...
run_step "fuzz (FUZZ_TIME=$FUZZ_TIME per target)" run_fuzz
summary
exit "$failed"
