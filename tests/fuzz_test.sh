#!/bin/sh
# Run every libFuzzer target in $BIN/tests/fuzz/ for $FUZZ_SECONDS each,
# from its seeds in tests/fuzz/corpus/<name>/, with the record schema's
# words as a dictionary (tests/fuzz/mkdict.c). What a run finds new goes to
# a scratch folder, never into the repository. A crash, a leak, undefined
# behaviour or a broken property fails the test; the input that did it is
# kept and named, to be replayed with: $BIN/tests/fuzz/fuzz_<name> FILE
set -eu
BIN=${BIN:-build-fuzz}
SECS=${FUZZ_SECONDS:-10}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."           # fuzz_note reads the test keys of tests/data
work=$(mktemp -d /tmp/sl-fuzz.XXXXXX)
fail=0
"$BIN/tests/fuzz/mkdict" > "$work/schema.dict"
for t in "$BIN"/tests/fuzz/fuzz_*; do
	case $t in *.o|*.d|*/mkdict) continue ;; esac
	name=${t##*/fuzz_}
	seeds=$here/fuzz/corpus/$name
	mkdir -p "$work/$name" "$work/$name-crash"
	# -timeout: a single input slower than this is a hang, and a finding.
	if "$t" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -max_len=32768 \
	    -print_final_stats=1 -dict="$work/schema.dict" \
	    -artifact_prefix="$work/$name-crash/" "$work/$name" "$seeds" \
	    > "$work/$name.log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' \
		    "$work/$name.log")
		echo "ok   fuzz_$name: $runs inputs in ${SECS}s, no finding"
	else
		echo "FAIL fuzz_$name: see $work/$name.log; input kept in" \
		    "$work/$name-crash/" >&2
		tail -n 30 "$work/$name.log" >&2
		fail=1
	fi
done
[ $fail = 0 ] && rm -rf "$work"
exit $fail
