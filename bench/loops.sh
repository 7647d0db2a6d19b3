#!/bin/sh
# sharelogd's event_loops on this machine: 1 and 2 loops, interleaved
# rounds on fresh stores, 64 connections one decision per request and in
# batches of 100; with each run the writer's commits from /metrics (jobs
# per commit, mean time from the writer's queue to disk). Then what one
# commit's writes cost the disk (bench/commit_io.py).
# Writes bench/out/loops.md. Knobs: ROUNDS (3), SECS (5).
set -eu
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-5}
BIN=build
DATA=bench/data
OUT=bench/out
P=$DATA/pki
RES=$OUT/loops.md
. bench/serve.sh
mkdir -p "$OUT"
gcc -std=c11 -O2 -Wall -Wextra -Werror -o "$OUT/loadgen" bench/loadgen.c \
	-lssl -lcrypto -pthread
scripts/pki.sh "$P"
if [ ! -s "$DATA/fresh-500k.jsonl" ]; then
	python3 scripts/gen_decisions.py -n 500000 --lean --orgs URN-118832 \
		--seed 77 -o "$DATA/fresh-500k.jsonl"
fi
W=$(mktemp -d "${TMPDIR:-/tmp}/sl-loops-XXXXXX")
trap 'rm -rf "$W"' EXIT
metric() { # NAME: from $W/m
	sed -n "s/^$1 \([0-9.e+-]*\)$/\1/p" "$W/m"
}
run() { # LOOPS CONNECTIONS BATCH -> one line
	rm -rf "$W/st" "$W/st.keys"
	"$BIN/sharelogd" init --store "$W/st" --origin bench.sharelog/loops >/dev/null
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	"$BIN/sharelogd" config-template --store "$W/st" --pki "$P" \
		--listen "127.0.0.1:$port" |
		sed "s/\"event_loops\": 0/\"event_loops\": $1/" > "$W/svc.json"
	serve_bench "$BIN" "$W/svc.json" "$W/svc.log"
	r=$("$OUT/loadgen" -u "127.0.0.1:$port" -a "$P/ca.crt" \
		-c "$P/school.crt" -k "$P/school.key" \
		-f "$DATA/fresh-500k.jsonl" -n "$2" -b "$3" -t "$SECS")
	curl -s --cacert "$P/ca.crt" --cert "$P/inspector.crt" \
		--key "$P/inspector.key" "https://127.0.0.1:$port/metrics" > "$W/m"
	kill -TERM $SPID
	wait $SPID
	jobs=$(metric sharelog_commit_latency_seconds_count)
	echo "loops $1: $r; $(awk -v j="$jobs" -v c="$(metric sharelog_commits_total)" \
		-v s="$(metric sharelog_commit_latency_seconds_sum)" \
		'BEGIN {printf "%.1f requests per commit, %.2f ms queue to disk", j / c, s / j * 1000}')"
}
: > "$W/runs"
k=0
while [ $k -lt "$ROUNDS" ]; do
	for b in 1 100; do
		for l in 1 2; do
			run $l 64 $b >> "$W/runs"
		done
	done
	k=$((k + 1))
done
python3 bench/commit_io.py "$W" > "$W/io"
{
	echo "Measured $(date -u +%FT%TZ) on $(nproc) cores, fresh stores, $SECS s per run, $ROUNDS interleaved rounds:"
	echo
	sed 's/^/    /' "$W/runs"
	echo
	echo "One commit's writes, then fdatasync (bench/commit_io.py):"
	echo
	sed 's/^/    /' "$W/io"
} > "$RES"
cat "$RES"
