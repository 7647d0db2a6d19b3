#!/bin/sh
# Benchmark of issue 4 (work in progress): sharelog-verify --completeness
# over 1,000,000 records (gen_decisions.py --lean, realistic mix, about 10%
# of decisions with findings), decided in the 18 hours before the run so
# that recorded_at follows decided_at as it does in service.
# Prints the median of ROUNDS runs (integrity + completeness, and the
# completeness phases alone from SL_COMP_TIMES).
# Not yet here: the PostgreSQL peer (the same rules as SQL).
set -eu
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
D=bench/data
if [ ! -d "$D/comp-bundle" ]; then
	S=$(date -u -d '-20 hours' +%Y-%m-%dT%H:%M:%SZ)
	python3 scripts/gen_decisions.py -n 1000000 --lean --seed 44 \
		--start "$S" --span-hours 18 -o "$D/comp-1m.jsonl"
	rm -rf "$D/comp-store" "$D/comp-store.keys"
	build/sharelogd init --store "$D/comp-store" --origin bench.sharelog/comp >/dev/null
	build/sharelogd append --store "$D/comp-store" --commit-every 10000 \
		"$D/comp-1m.jsonl" >/dev/null
	build/sharelogd export --store "$D/comp-store" "$D/comp-bundle" >/dev/null
fi
i=0
while [ $i -lt "$ROUNDS" ]; do
	s=$(date +%s.%N)
	SL_COMP_TIMES=1 build/sharelog-verify "$D/comp-bundle" --completeness \
		>/dev/null 2>"$D/comp-times" || [ $? = 3 ]
	e=$(date +%s.%N)
	echo "$(echo "$e - $s" | bc) $(cat "$D/comp-times")"
	i=$((i + 1))
done | sort -n | awk -v r="$ROUNDS" 'NR == int((r + 1) / 2) {
	print "median total " $1 " s; completeness: read " $3 " phase1 " $5 \
	    " phase2 " $7 " finish " $9 }'
