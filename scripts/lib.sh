# Helpers for the benchmark scripts (scripts/bench-*.sh); source it from
# the repository root. They start processes in the background, wait for
# the log line that says each is ready, and stop exactly the processes
# they started, by pid, when the script exits.

# shellcheck shell=bash

BENCH_PIDS=()  # started processes, in start order
BENCH_NAMES=()
BENCH_LOGS=()

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# unset_igemoji_env drops IGEMOJI_* variables from the environment, so the
# processes run on the flags the script gives and nothing else.
unset_igemoji_env() {
	local v
	for v in $(compgen -e); do
		case $v in IGEMOJI_*) unset "$v" ;; esac
	done
}

# raise_nofile sets the open-file limit to $1 or, failing that, to the
# hard limit; each WebSocket client is a descriptor on both ends.
raise_nofile() {
	ulimit -n "$1" 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
	say "open-file limit: $(ulimit -n)"
}

# random_hex N prints N random bytes as hex.
random_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

# port_busy PORT succeeds when something accepts connections on it.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port prints a loopback port that nothing listens on.
free_port() {
	local p i
	for i in $(seq 50); do
		p=$((20000 + RANDOM % 40000))
		port_busy "$p" || { echo "$p"; return 0; }
	done
	die "no free port found"
}

# start NAME LOG CMD... runs CMD in the background, its stderr and stdout
# in LOG.
start() {
	local name=$1 log=$2
	shift 2
	"$@" >"$log" 2>&1 &
	BENCH_PIDS+=("$!")
	BENCH_NAMES+=("$name")
	BENCH_LOGS+=("$log")
}

# wait_for_log NAME LOG REGEX [SECONDS] waits until LOG has a line matching
# the extended REGEX and prints the first match; it fails when the process
# exits first or the time (default 60 s) runs out.
wait_for_log() {
	local name=$1 log=$2 re=$3 secs=${4:-60} pid i m
	pid=$(pid_of "$name")
	for ((i = 0; i < secs * 10; i++)); do
		if m=$(grep -m1 -oE "$re" "$log"); then
			echo "$m"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || { tail -n 20 "$log" >&2; die "$name exited before it was ready"; }
		sleep 0.1
	done
	tail -n 20 "$log" >&2
	die "$name not ready within ${secs}s"
}

pid_of() {
	local i
	for i in "${!BENCH_NAMES[@]}"; do
		[[ ${BENCH_NAMES[$i]} == "$1" ]] && { echo "${BENCH_PIDS[$i]}"; return 0; }
	done
	return 1
}

# stop_all stops the started processes, newest first: SIGTERM, then
# SIGKILL for any still running 10 s later. With status 1 (a failure, not
# a usage mistake, 2, or an interrupt, 130) it first shows the end of each
# log.
stop_all() {
	local status=$1 i pid t
	for ((i = ${#BENCH_PIDS[@]} - 1; i >= 0; i--)); do
		pid=${BENCH_PIDS[$i]}
		if [[ $status == 1 && -s ${BENCH_LOGS[$i]} ]]; then
			say "last lines of ${BENCH_NAMES[$i]}:"
			tail -n 15 "${BENCH_LOGS[$i]}" | sed 's/^/    /' >&2
		fi
		kill -TERM "$pid" 2>/dev/null || continue
		for ((t = 0; t < 100; t++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	BENCH_PIDS=()
}

# build_loadgen DIR builds the load generator into DIR/loadgen: a built
# binary, not go run, so that its compilation is not timed and signals
# reach it directly.
build_loadgen() {
	"${GO:-go}" build -o "$1/loadgen" ./cmd/loadgen || die "go build ./cmd/loadgen failed"
}
