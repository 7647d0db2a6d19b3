#!/bin/sh
# Benchmark of issue 5 on the 1,000,000-entry store of bench/completeness.sh
# (made by it when missing): sharelog-report pack, ROUNDS runs, internal
# (all eleven reports) and published (disclosure control), with the time
# of each phase; one child's trail (the whole command, proofs included);
# and the peer in the same run: PostgreSQL computing one report
# (decisions_by_agency: a GROUP BY over the same rows) with COPY ... TO CSV.
# And this machine's floor under any pack that proves the log first, two
# ways, on as many threads as the pack's integrity pass: the store's data
# file mapped and hashed once (bench/map_hash.c), and its entries walked
# with LMDB's cursors and leaf-hashed (bench/walk_hash.c).
# Writes bench/out/reports.md.
set -eu
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
D=bench/data
OUT=bench/out
S=$D/comp-store
mkdir -p "$OUT"
[ -d "$S" ] || ROUNDS=1 PGROUNDS=1 ./bench/completeness.sh
# the first writable open keeps a summary and the built-in policy's
# judgement of every entry
build/sharelogd checkpoint --store "$S" --keys "$S.keys" >/dev/null
med() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
now() { date +%s.%N; }

run_pack() { # run_pack FLAGS... -> "whole integrity summaries rules reports"
	rm -rf "$OUT/pack"
	s=$(now)
	build/sharelog-report pack "$S" --out "$OUT/pack" "$@" > "$OUT/pack.log"
	e=$(now)
	sed -n 's/.*integrity[^0-9]*\([0-9.]*\) s, summaries \([0-9.]*\) s.*rules[^0-9]*\([0-9.]*\) s, reports \([0-9.]*\) s/\1 \2 \3 \4/p' "$OUT/pack.log" |
		awk -v w="$(echo "$e - $s" | bc)" '{print w, $0}'
}
: > "$OUT/rep-int"; : > "$OUT/rep-pub"; : > "$OUT/rep-chk"
i=0
while [ $i -lt "$ROUNDS" ]; do
	run_pack --unsuppressed >> "$OUT/rep-int"
	run_pack >> "$OUT/rep-pub"
	run_pack --unsuppressed --recheck >> "$OUT/rep-chk"
	i=$((i + 1))
done
col() { awk -v c="$1" '{print $c}' "$2" | med; }
agg() { awk '{print $3 + $5}' "$1" | med; }   # summaries + reports

# --- one child's trail
CHILD=$(sed -n '500000p' "$D/comp-1m.jsonl" | sed 's/.*"child_id":"\([^"]*\)".*/\1/')
: > "$OUT/trail-runs"
# Timed from the spawning process (a shell's $(date) around it would add
# two more processes' start to each reading); the start of a program that
# does nothing, timed the same way, is the floor beside it.
python3 - "$OUT" "$S" "$CHILD" <<'PY'
import subprocess, sys, time
out, store, child = sys.argv[1:4]
cmd = ["build/sharelog-report", "trail", store, "--subject", child,
       "--key", store + ".keys/pseudonym.key"]
# The timed runs write the trail to /dev/null: rewriting one file each
# run would time ext4's flush of a truncated file at close, not the trail.
def runs(argv):
    t = []
    for _ in range(21):
        s = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=True)
        t.append((time.perf_counter() - s) * 1000)
    return t
floor = runs(["/bin/true"])
trail = runs(cmd)
with open(out + "/trail.csv", "w") as o, open(out + "/trail.log", "w") as e:
    subprocess.run(cmd, stdout=o, stderr=e, check=True)
with open(out + "/trail-runs", "w") as f:
    f.writelines("%.3f\n" % x for x in trail)
with open(out + "/trail-floor", "w") as f:
    f.writelines("%.3f\n" % x for x in floor)
PY
TRAIL=$(med < "$OUT/trail-runs")

# --- the floors, each tool ROUNDS times: "median S s (its last line)";
# the runs in $OUT/NAME-runs, the last line in $OUT/NAME.txt
floor() { # floor NAME COMMAND...
	name=$1
	shift
	: > "$OUT/$name-runs"
	i=0
	while [ $i -lt "$ROUNDS" ]; do
		"$@" | tee "$OUT/$name.txt" |
			sed 's/.*: \([0-9.]*\) s,.*/\1/' >> "$OUT/$name-runs"
		i=$((i + 1))
	done
	echo "median $(med < "$OUT/$name-runs") s ($(sed 's/: [0-9.]* s,/,/' "$OUT/$name.txt"))"
}
# every byte of the log's file mapped and hashed once
gcc -std=c11 -O2 -Wall -Wextra -Werror -o "$OUT/map_hash" bench/map_hash.c \
	-lcrypto -pthread
FLOOR=$(floor floor "$OUT/map_hash" "$S/data.mdb" "$(nproc)")
# the entries walked with LMDB's cursors and leaf-hashed: the least a pack
# that proves the log can do
gcc -std=c11 -O2 -Wall -Wextra -Werror -o "$OUT/walk_hash" bench/walk_hash.c \
	-llmdb -lcrypto -pthread
WFLOOR=$(floor walk "$OUT/walk_hash" "$S" "$(nproc)")
TFLOOR=$(med < "$OUT/trail-floor")
TROWS=$(($(wc -l < "$OUT/trail.csv") - 1))

# --- PostgreSQL: one report as GROUP BY, written with COPY ... TO CSV
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
PGD=$PWD/$D/pgcomp
PGPORT=54330
as_pg() { runuser -u postgres -- "$@"; }
PG="skipped (no bench/data/pgcomp: run bench/completeness.sh)"
if [ -f "$PGD/PG_VERSION" ]; then
	as_pg "$PGBIN/pg_ctl" -D "$PGD" -l "$PGD/server.log" -w start -o "-c listen_addresses=127.0.0.1 -c port=$PGPORT -c unix_socket_directories='$PGD' -c shared_buffers=2GB -c work_mem=256MB -c max_parallel_workers_per_gather=2 -c jit=off" >/dev/null
	trap 'as_pg "$PGBIN/pg_ctl" -D "$PGD" -m fast -w stop >/dev/null 2>&1 || true' EXIT
	PSQL="psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p $PGPORT -U postgres -d audit"
	SQL="COPY (SELECT body->>'deciding_agency_type' AS deciding_agency_type,
	  body->>'trigger' AS trigger, count(*) AS decisions_total,
	  count(*) FILTER (WHERE body->>'decision' = 'share') AS share_n,
	  count(*) FILTER (WHERE body->>'decision' = 'partial') AS partial_n,
	  count(*) FILTER (WHERE body->>'decision' = 'not_share') AS not_share_n
	  FROM decisions WHERE body->>'record_type' = 'decision'
	  GROUP BY 1, 2 ORDER BY 1, 2) TO STDOUT WITH (FORMAT csv, HEADER, FORCE_QUOTE *)"
	$PSQL -c "$SQL" > /dev/null      # warm, as sharelog's runs are
	: > "$OUT/pg-rep-runs"
	i=0
	while [ $i -lt "$ROUNDS" ]; do
		s=$(now)
		$PSQL -c "$SQL" > "$OUT/pg-report.csv"
		e=$(now)
		echo "$e - $s" | bc >> "$OUT/pg-rep-runs"
		i=$((i + 1))
	done
	PG="median $(med < "$OUT/pg-rep-runs") s for one report (runs: $(tr '\n' ' ' < "$OUT/pg-rep-runs"))"
	# the same counts as sharelog's decisions_by_agency (internal pack)
	rm -rf "$OUT/pack"
	build/sharelog-report pack "$S" --out "$OUT/pack" --unsuppressed > /dev/null
	tr -d '"\r' < "$OUT/pack/decisions_by_agency_UNSUPPRESSED.csv" | tail -n +2 |
		awk -F, '{print $4","$5","$6","$7","$8","$9}' | sort > "$OUT/rep-a"
	tr -d '"' < "$OUT/pg-report.csv" | tail -n +2 | sort > "$OUT/rep-b"
	if cmp -s "$OUT/rep-a" "$OUT/rep-b"; then PG="$PG; the same $(wc -l < "$OUT/rep-a") rows as sharelog's"
	else PG="$PG; DIFFERENT rows from sharelog's (bench/out/rep-a, rep-b)"; fi
fi
N=$(($(wc -l < "$D/comp-1m.jsonl")))
{
	echo "Measured $(date -u +%FT%TZ) on $(nproc) cores; $N records in the store; medians of $ROUNDS runs."
	echo
	echo "    internal pack (11 reports): whole command $(col 1 "$OUT/rep-int") s = the chain $(col 2 "$OUT/rep-int") s (beside it: the rules from the kept judgements $(col 4 "$OUT/rep-int") s, the summaries $(col 3 "$OUT/rep-int") s) + reports $(col 5 "$OUT/rep-int") s"
	echo "    published pack (10 reports, disclosure control): whole command $(col 1 "$OUT/rep-pub") s = the chain $(col 2 "$OUT/rep-pub") s (beside it: rules $(col 4 "$OUT/rep-pub") s, summaries $(col 3 "$OUT/rep-pub") s) + reports $(col 5 "$OUT/rep-pub") s"
	echo "    internal pack --recheck (everything from the entries): whole command $(col 1 "$OUT/rep-chk") s = integrity with each record judged $(col 2 "$OUT/rep-chk") s + summaries $(col 3 "$OUT/rep-chk") s + threads and log $(col 4 "$OUT/rep-chk") s + reports $(col 5 "$OUT/rep-chk") s"
	echo "    the reports from the kept summaries (summaries + reports): internal $(agg "$OUT/rep-int") s, published $(agg "$OUT/rep-pub") s"
	echo "    postgresql: $PG"
	echo "    floor, the log's data file mapped and hashed once: $FLOOR"
	echo "    floor, the log's entries walked with LMDB and leaf-hashed: $WFLOOR"
	echo "    one child's trail ($TROWS rows, proofs included, whole command): median $TRAIL ms (starting /bin/true, timed the same way: $TFLOOR ms)"
} > "$OUT/reports.md"
cat "$OUT/reports.md"
