#!/usr/bin/env bash
# make bench-ws: WebSocket fan-out on one embedded server (SQLite, one
# in-process worker), on a fresh data directory and a free loopback port.
#
# `loadgen -mode ws` (defaults -clients 2000 -rounds 10, template 1) opens
# the clients, all subscribed to the ranking, reads the server's memory
# before and with them, then times how fast each round's ranking change
# reaches every client, and prints the figures. The server is stopped and
# its data removed when the script exits. Arguments go to the load
# generator:
#
#	scripts/bench-ws.sh -clients 5000 -rounds 20
#
# Environment: BIN (./bin/igemoji), ASSETS (.cache), GO (go), NOFILE (65536).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

BIN=${BIN:-./bin/igemoji}
ASSETS=${ASSETS:-.cache}
PHOTOS=$ASSETS/npm/@vladmandic/face-api@1.7.15/demo

[[ -x $BIN ]] || die "$BIN missing: run make build"
[[ -d $PHOTOS ]] || die "$PHOTOS missing: run make assets"
unset_igemoji_env
# Both processes inherit it: each client is a descriptor on both ends.
raise_nofile "${NOFILE:-65536}"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/igemoji-bench-ws.XXXXXX")
cleanup() {
	local status=$?
	trap - EXIT INT TERM
	stop_all "$status"
	rm -rf "$TMP"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

build_loadgen "$TMP"

mkdir -p "$TMP/data"
start serve "$TMP/serve.log" "$BIN" serve --addr 127.0.0.1:0 --workers 1 --data "$TMP/data" \
	--assets "$ASSETS" --bcrypt-cost 10 --log-level info
ADDR=$(wait_for_log serve "$TMP/serve.log" 'msg=listening addr=[^ ]+')
BASE=http://${ADDR#msg=listening addr=}
say "server $BASE (SQLite, 1 in-process worker)"

"$TMP/loadgen" -mode ws -url "$BASE" -photos "$PHOTOS" "$@"
