#!/usr/bin/env bash
# make bench-tasks: tasks per second, end to end, in the distributed setup
# with two workers, on the face-api demo photos.
#
# It starts, on loopback: a private redis-server on a spare port, one
# `igemoji serve --workers 0` and two `igemoji worker` processes, against
# a fresh MariaDB database and a fresh data directory; then runs
# `loadgen -mode tasks` (defaults -n 60 -c 8, template 1), which prints
# the figures. Everything it started is stopped and the database dropped
# when it exits, however it exits. Arguments go to the load generator:
#
#	scripts/bench-tasks.sh -n 120 -c 16
#
# Environment: BIN (./bin/igemoji), ASSETS (.cache), GO (go), WORKERS (2),
# MYSQL_HOST (127.0.0.1), MYSQL_PORT (3306), MYSQL_USER (root),
# MYSQL_PASSWORD (empty; letters, digits and -._~ only).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

BIN=${BIN:-./bin/igemoji}
ASSETS=${ASSETS:-.cache}
WORKERS=${WORKERS:-2}
MYSQL_HOST=${MYSQL_HOST:-127.0.0.1}
MYSQL_PORT=${MYSQL_PORT:-3306}
MYSQL_USER=${MYSQL_USER:-root}
MYSQL_PASSWORD=${MYSQL_PASSWORD:-}
PHOTOS=$ASSETS/npm/@vladmandic/face-api@1.7.15/demo

[[ -x $BIN ]] || die "$BIN missing: run make build"
[[ -d $PHOTOS ]] || die "$PHOTOS missing: run make assets"
command -v redis-server >/dev/null || die "redis-server is not installed"
MYSQL=$(command -v mariadb || command -v mysql) || die "the mariadb (or mysql) client is not installed"
[[ $MYSQL_PASSWORD =~ ^[A-Za-z0-9._~-]*$ ]] || die "MYSQL_PASSWORD: only letters, digits and -._~ (it goes into a URL as is)"
unset_igemoji_env

TMP=$(mktemp -d "${TMPDIR:-/tmp}/igemoji-bench-tasks.XXXXXX")
DB=igemoji_bench_$(random_hex 6)
DB_MADE=0
sql() { MYSQL_PWD=$MYSQL_PASSWORD "$MYSQL" -h"$MYSQL_HOST" -P"$MYSQL_PORT" -u"$MYSQL_USER" -e "$1"; }
cleanup() {
	local status=$?
	trap - EXIT INT TERM
	stop_all "$status"
	if ((DB_MADE)); then sql "DROP DATABASE IF EXISTS $DB" || say "could not drop database $DB"; fi
	rm -rf "$TMP"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

build_loadgen "$TMP"

sql "CREATE DATABASE $DB CHARACTER SET utf8mb4 COLLATE utf8mb4_bin" || die "cannot create a database on MariaDB at $MYSQL_HOST:$MYSQL_PORT"
DB_MADE=1

# Redis: a spare port; another process may take it between the check and
# the bind, so try a few.
for try in 1 2 3 4 5; do
	REDIS_PORT=$(free_port)
	start redis "$TMP/redis.log" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
		--dir "$TMP" --daemonize no --loglevel notice
	if (wait_for_log redis "$TMP/redis.log" 'Ready to accept connections' 10) >/dev/null 2>&1; then break; fi
	stop_all 0
	((try < 5)) || die "redis-server did not start: $(tail -n 3 "$TMP/redis.log")"
done

AUTH=$MYSQL_USER${MYSQL_PASSWORD:+:$MYSQL_PASSWORD}
COMMON=(--database-url "mysql://$AUTH@$MYSQL_HOST:$MYSQL_PORT/$DB" --redis-url "redis://127.0.0.1:$REDIS_PORT/0"
	--data "$TMP/data" --jwt-secret "$(random_hex 32)" --assets "$ASSETS" --bcrypt-cost 10 --log-level info)

start serve "$TMP/serve.log" "$BIN" serve --addr 127.0.0.1:0 --workers 0 "${COMMON[@]}"
ADDR=$(wait_for_log serve "$TMP/serve.log" 'msg=listening addr=[^ ]+')
BASE=http://${ADDR#msg=listening addr=}

METRICS=()
for i in $(seq "$WORKERS"); do
	start "worker$i" "$TMP/worker$i.log" "$BIN" worker --metrics-addr 127.0.0.1:0 "${COMMON[@]}"
	m=$(wait_for_log "worker$i" "$TMP/worker$i.log" 'msg="worker running" metrics=[^ ]+')
	METRICS+=("${m#msg=\"worker running\" metrics=}")
done
say "server $BASE, $WORKERS workers (metrics ${METRICS[*]}), Redis :$REDIS_PORT, MariaDB database $DB"

WORKER_METRICS=$(IFS=,; echo "${METRICS[*]}")
"$TMP/loadgen" -mode tasks -url "$BASE" -photos "$PHOTOS" -worker-metrics "$WORKER_METRICS" "$@"
