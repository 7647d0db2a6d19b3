#!/bin/sh
# Benchmarks of issue 2 (foundation), each beside its peer in the same run:
#   - verification of a 1,000,000-entry log: sharelog-verify on the bundle
#     and on the store, against openssl dgst -sha256 and sha256sum over the
#     same entries.jsonl bytes, and a naive python chain re-hash;
#   - append from a file, durable commits;
#   - peak memory of each: peak RSS, and peak private memory (see
#     bench/peakmem.py: RSS also counts the file pages this kernel maps
#     whole around each read of a mapped file).
# Writes bench/out/results.md (copied into docs/BENCHMARKS.md by hand).
# Knobs: N (entries, default 1000000), RUNS (default 5).
set -eu
cd "$(dirname "$0")/.."
N=${N:-1000000}
RUNS=${RUNS:-5}
BIN=build
DATA=bench/data
OUT=bench/out
mkdir -p "$DATA" "$OUT"
RES="$OUT/results.md"

# measure CMD...: one run; "wall peak_rss_kib peak_private_kib" in $OUT/.t
measure() {
	python3 bench/peakmem.py "$@" > "$OUT/.t" 2>"$OUT/.err" &&
		[ "$(cut -d' ' -f4 "$OUT/.t")" = 0 ] || {
		echo "$* failed:"; cat "$OUT/.err"; exit 1; }
	cut -d' ' -f1-3 "$OUT/.t" > "$OUT/.t2" && mv "$OUT/.t2" "$OUT/.t"
}

med() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }

# run LABEL CMD...: RUNS runs; appends "label|wall|rss|private|walls"
run() {
	label=$1; shift
	walls=""; rsss=""; privs=""
	i=0
	while [ $i -lt "$RUNS" ]; do
		measure "$@"
		walls="$walls $(cut -d' ' -f1 "$OUT/.t")"
		rsss="$rsss $(cut -d' ' -f2 "$OUT/.t")"
		privs="$privs $(cut -d' ' -f3 "$OUT/.t")"
		i=$((i + 1))
	done
	w=$(echo $walls | med)
	r=$(echo $rsss | med)
	pv=$(echo $privs | med)
	echo "$label|$w|$r|$pv|$walls" >> "$OUT/raw"
	echo "  $label: median $w s, peak RSS $r KiB, private $pv KiB (runs:$walls)" >&2
}

: > "$OUT/raw"
if [ ! -s "$DATA/decisions-$N.jsonl" ]; then
	echo "generating $N decisions ..." >&2
	python3 scripts/gen_decisions.py -n "$N" --lean --seed 42 \
		-o "$DATA/decisions-$N.jsonl"
fi

echo "append ..." >&2
rm -rf "$DATA/store" "$DATA/store.keys" "$DATA/bundle"
"$BIN/sharelogd" init --store "$DATA/store" --origin bench.sharelog/log >/dev/null
RUNS=1 run "append --commit-every 1000 (durable)" \
	"$BIN/sharelogd" append --store "$DATA/store" --commit-every 1000 \
	"$DATA/decisions-$N.jsonl"
"$BIN/sharelogd" export --store "$DATA/store" "$DATA/bundle" >/dev/null
E="$DATA/bundle/entries.jsonl"
entries=$(wc -l < "$E")
bytes=$(stat -c %s "$E")
cat "$E" > /dev/null  # warm the page cache for everyone alike

echo "verify ..." >&2
# Let the append's and export's writeback finish, then take turns: each
# round runs every command once, so a noisy moment on this shared machine
# hits them all alike rather than whichever happened to run then.
sync
sleep 5
: > "$OUT/rounds"
r=0
while [ $r -lt "$RUNS" ]; do
	for c in bundle store openssl sha256sum; do
		case $c in
		bundle) set -- "sharelog-verify BUNDLE" "$BIN/sharelog-verify" "$DATA/bundle" ;;
		store) set -- "sharelog-verify STORE" "$BIN/sharelog-verify" "$DATA/store" ;;
		openssl) set -- "openssl dgst -sha256 entries.jsonl" openssl dgst -sha256 "$E" ;;
		sha256sum) set -- "sha256sum entries.jsonl" sha256sum "$E" ;;
		esac
		label=$1; shift
		measure "$@"
		echo "$label|$(cat "$OUT/.t")" >> "$OUT/rounds"
	done
	r=$((r + 1))
done
for label in "sharelog-verify BUNDLE" "sharelog-verify STORE" \
    "openssl dgst -sha256 entries.jsonl" "sha256sum entries.jsonl"; do
	walls=$(grep -F "$label|" "$OUT/rounds" | cut -d'|' -f2 | cut -d' ' -f1 | tr '\n' ' ')
	rs=$(grep -F "$label|" "$OUT/rounds" | cut -d'|' -f2 | cut -d' ' -f2 | med)
	pv=$(grep -F "$label|" "$OUT/rounds" | cut -d'|' -f2 | cut -d' ' -f3 | med)
	w=$(echo $walls | med)
	echo "$label|$w|$rs|$pv| $walls" >> "$OUT/raw"
	echo "  $label: median $w s (runs: $walls)" >&2
done
RUNS=1 run "python naive chain" python3 bench/naive_chain.py "$E"

{
	echo "Measured $(date -u +%FT%TZ) on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(openssl version | cut -d' ' -f1-2)."
	echo "Log: $entries entries, $bytes bytes of entries.jsonl ($((bytes / entries)) bytes per entry); store $(du -sh "$DATA/store" | cut -f1)."
	echo
	echo "| what | median wall (s) | entries/s | MB/s | peak RSS (MiB) | peak private (MiB) | runs (s) |"
	echo "|---|---|---|---|---|---|---|"
	while IFS='|' read -r label w r pv walls; do
		awk -v l="$label" -v w="$w" -v r="$r" -v pv="$pv" -v n="$entries" -v b="$bytes" -v rs="$walls" \
			'BEGIN{printf "| %s | %.2f | %.0f | %.0f | %.1f | %.1f |%s |\n", l, w, n/w, b/w/1e6, r/1024, pv/1024, rs}'
	done < "$OUT/raw"
} > "$RES"
cat "$RES"
