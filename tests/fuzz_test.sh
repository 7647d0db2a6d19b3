#!/bin/sh
# Run every libFuzzer target in $BIN/tests/fuzz/ for $FUZZ_SECONDS each,
# from its seeds in tests/fuzz/corpus/<name>/, with the record schema's
# words as a dictionary (tests/fuzz/mkdict.c), one target a core at a
# time. What a run finds new goes to a scratch folder, never into the
# repository. A crash, a leak, undefined behaviour or a broken property
# fails the test; the input that did it is kept and named, to be replayed
# with: $BIN/tests/fuzz/fuzz_<name> FILE
set -eu
BIN=${BIN:-build-fuzz}
SECS=${FUZZ_SECONDS:-10}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."           # fuzz_note reads the test keys of tests/data
work=$(mktemp -d /tmp/sl-fuzz.XXXXXX)
lanes=$(nproc 2>/dev/null || echo 1)
"$BIN/tests/fuzz/mkdict" > "$work/schema.dict"

# one target; its verdict in $work/<name>.verdict
run() {
	t=$1
	name=${t##*/fuzz_}
	mkdir -p "$work/$name" "$work/$name-crash"
	# -timeout: a single input slower than this is a hang, and a finding.
	if "$t" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
	    -max_len=32768 -print_final_stats=1 -dict="$work/schema.dict" \
	    -artifact_prefix="$work/$name-crash/" "$work/$name" \
	    "tests/fuzz/corpus/$name" > "$work/$name.log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' \
		    "$work/$name.log")
		echo "ok   fuzz_$name: $runs inputs in ${SECS}s, no finding" \
		    > "$work/$name.verdict"
	else
		echo "FAIL fuzz_$name: see $work/$name.log; input kept in" \
		    "$work/$name-crash/" > "$work/$name.verdict"
	fi
}

# the targets dealt to $lanes lanes, each lane one after the other
i=0
for t in "$BIN"/tests/fuzz/fuzz_*; do
	case $t in *.o|*.d) continue ;; esac
	echo "$t" >> "$work/lane$((i % lanes))"
	i=$((i + 1))
done
for l in "$work"/lane*; do
	( while read -r t; do run "$t"; done < "$l" ) &
done
wait

fail=0
for v in "$work"/*.verdict; do
	cat "$v"
	if grep -q '^FAIL' "$v"; then
		name=$(sed 's/^FAIL fuzz_\([^:]*\):.*/\1/' "$v")
		tail -n 30 "$work/$name.log" >&2
		fail=1
	fi
done
[ $fail = 0 ] && rm -rf "$work"
exit $fail
