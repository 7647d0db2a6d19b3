#!/bin/sh
# Issue 3 on a populated store: sharelogd on a copy of the store that
# bench/service.sh leaves behind (about 800,000 entries), at 64
# connections one decision per request and 16 connections in batches of
# 100, with records never stored before (gen_decisions.py --seed 77).
# The copy is synced to disk before each run, so the copy's writeback
# does not compete with the service's. Writes bench/out/service-big.md.
set -eu
cd "$(dirname "$0")/.."
SECS=${SECS:-6}
BIN=build
DATA=bench/data
OUT=bench/out
P=$DATA/pki
RES=$OUT/service-big.md
. bench/serve.sh
[ -d "$DATA/svc-store" ] || ./bench/service.sh
# built every time, as service.sh does: a load generator left from an
# older source would change the figures without a word
gcc -std=c11 -O2 -Wall -Wextra -Werror -o "$OUT/loadgen" bench/loadgen.c \
	-lssl -lcrypto -pthread
if [ ! -s "$DATA/fresh-500k.jsonl" ]; then
	python3 scripts/gen_decisions.py -n 500000 --lean --orgs URN-118832 \
		--seed 77 -o "$DATA/fresh-500k.jsonl"
fi
# A store left by an older build gets its refs and child/case index on
# its first writable open: once here, not in every copy.
"$BIN/sharelogd" checkpoint --store "$DATA/svc-store" > /dev/null
W=$(mktemp -d "${TMPDIR:-/tmp}/sl-big-XXXXXX")
trap 'rm -rf "$W"' EXIT
run() { # CONNECTIONS BATCH
	rm -rf "$W/st" "$W/st.keys"
	cp -r "$DATA/svc-store" "$W/st"
	cp -r "$DATA/svc-store.keys" "$W/st.keys"
	sync
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	"$BIN/sharelogd" config-template --store "$W/st" --pki "$P" \
		--listen "127.0.0.1:$port" > "$W/svc.json"
	serve_bench "$BIN" "$W/svc.json" "$W/svc.log"
	"$OUT/loadgen" -u "127.0.0.1:$port" -a "$P/ca.crt" -c "$P/school.crt" \
		-k "$P/school.key" -f "$DATA/fresh-500k.jsonl" -n "$1" -b "$2" \
		-t "$SECS"
	kill -TERM $SPID
	wait $SPID
	# "listening on ... (log ORIGIN, N entries)"
	sed -n 's/.*log [^,]*, \([0-9]*\) entries.*/\1/p' "$W/svc.log" |
		head -1 > "$W/entries"
}
run 64 1 > "$W/r1"
run 16 100 > "$W/r2"
{
	echo "Measured $(date -u +%FT%TZ) on $(nproc) cores, $SECS s per run, on a copy of a store of $(cat "$W/entries") entries."
	echo
	sed 's/^/    /' "$W/r1" "$W/r2"
} > "$RES"
cat "$RES"
