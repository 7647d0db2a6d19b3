#!/bin/sh
# Benchmark of issue 4: the completeness rules over 1,000,000 entries
# (gen_decisions.py --lean, realistic mix, about 10% of decisions with
# findings), decided in the 18 hours before the data was made so that
# recorded_at follows decided_at as it does in service.
#
# sharelog: sharelog-verify --completeness --csv-summary on the bundle,
# ROUNDS runs: the whole command (integrity first, then the rules) and the
# completeness pass alone (SL_COMP_TIMES). Before each run, the hashing
# floor of the same bundle (openssl dgst -sha256 of its 1.4 GB, one core)
# says how fast the machine is at that moment: its speed drifts by tens of
# per cent over minutes, so a run is only read beside its floor.
# Peer, same run: PostgreSQL with the service issue's hash-chained table
# (plus the entry's recorded_at), the same 1,000,000 rows loaded with COPY,
# and the same policy translated to one SQL query (bench/pg_completeness.py)
# giving the same summary (findings per organisation, rule, severity). The
# two summaries are compared row by row.
# Writes bench/out/completeness.md.
set -eu
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
PGROUNDS=${PGROUNDS:-1}
D=bench/data
OUT=bench/out
mkdir -p "$OUT"
RES=$OUT/completeness.md
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
# Fixed: runs (and the peer) judge the same log at the same time.
ASOF=$(tail -1 "$D/comp-bundle/entries.jsonl" |
	sed 's/.*"recorded_at":"\([^"]*\)".*/\1/' |
	python3 -c 'import sys,datetime as d; t=d.datetime.fromisoformat(sys.stdin.read().strip().replace("Z","+00:00")); print((t+d.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"))')
med() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# --- sharelog
: > "$OUT/comp-runs"
i=0
while [ $i -lt "$ROUNDS" ]; do
	s=$(date +%s.%N)
	openssl dgst -sha256 "$D/comp-bundle/entries.jsonl" >/dev/null
	f=$(echo "$(date +%s.%N) - $s" | bc)
	s=$(date +%s.%N)
	SL_COMP_TIMES=1 build/sharelog-verify "$D/comp-bundle" --completeness \
		--as-of "$ASOF" --csv-summary >"$OUT/comp-sharelog.csv" \
		2>"$OUT/comp-times" || [ $? = 3 ]
	e=$(date +%s.%N)
	# read phase1 phase2 finish: the completeness pass is their sum
	echo "$(echo "$e - $s" | bc) $(awk '{print $2 + $4 + $6 + $8}' "$OUT/comp-times") $f" >> "$OUT/comp-runs"
	i=$((i + 1))
done
SL_WHOLE=$(cut -d' ' -f1 "$OUT/comp-runs" | med)
SL_PASS=$(cut -d' ' -f2 "$OUT/comp-runs" | med)
SL_RUNS=$(cut -d' ' -f2 "$OUT/comp-runs" | tr '\n' ' ')
FLOOR=$(cut -d' ' -f3 "$OUT/comp-runs" | med)
FLOOR_RUNS=$(cut -d' ' -f3 "$OUT/comp-runs" | tr '\n' ' ')

# --- PostgreSQL peer
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
PGD=$PWD/$D/pgcomp
PGPORT=54330
as_pg() { runuser -u postgres -- "$@"; }
if [ ! -f "$PGD/PG_VERSION" ]; then
	rm -rf "$PGD"; install -d -o postgres -g postgres -m 700 "$PGD"
	as_pg "$PGBIN/initdb" -D "$PGD" -U postgres --auth=trust -E UTF8 \
		--locale=C.UTF-8 > "$OUT/pgcomp-initdb.log"
fi
as_pg "$PGBIN/pg_ctl" -D "$PGD" -l "$PGD/server.log" -w start -o "-c listen_addresses=127.0.0.1 -c port=$PGPORT -c unix_socket_directories='$PGD' -c shared_buffers=2GB -c work_mem=256MB -c max_parallel_workers_per_gather=2 -c jit=off" >/dev/null
trap 'as_pg "$PGBIN/pg_ctl" -D "$PGD" -m fast -w stop >/dev/null 2>&1 || true' EXIT
PSQL="psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p $PGPORT -U postgres"
if ! $PSQL -d audit -c 'SELECT 1' >/dev/null 2>&1; then
	$PSQL -d postgres -c "CREATE DATABASE audit"
fi
N=$($PSQL -d audit -At -c "SELECT count(*) FROM decisions" 2>/dev/null || echo 0)
WANT=$(($(wc -l < "$D/comp-bundle/entries.jsonl") - 1))
if [ "$N" != "$WANT" ]; then
	$PSQL -d audit <<'SQL'
DROP TABLE IF EXISTS decisions;
CREATE TABLE decisions (seq bigint PRIMARY KEY, body jsonb NOT NULL,
  recorded_at timestamptz NOT NULL, prev_hash bytea NOT NULL,
  hash bytea NOT NULL);
SQL
	python3 bench/pg_rows.py "$D/comp-bundle/entries.jsonl" |
		$PSQL -d audit -c "COPY decisions FROM STDIN WITH (FORMAT csv)"
	$PSQL -d audit -c "VACUUM ANALYZE decisions"
fi
python3 bench/pg_completeness.py --policy verify/default-policy.json \
	--schema formats/schema.c --as-of "$ASOF" --setup "$OUT/pg-comp-setup.sql" \
	> "$OUT/pg-comp.sql"
$PSQL -d audit -f "$OUT/pg-comp-setup.sql"
: > "$OUT/pg-comp-runs"
i=0
while [ $i -lt "$PGROUNDS" ]; do
	s=$(date +%s.%N)
	$PSQL -d audit -A -F, -P footer=off -f "$OUT/pg-comp.sql" > "$OUT/comp-pg.csv"
	e=$(date +%s.%N)
	echo "$e - $s" | bc >> "$OUT/pg-comp-runs"
	i=$((i + 1))
done
PG=$(med < "$OUT/pg-comp-runs")
PG_RUNS=$(tr '\n' ' ' < "$OUT/pg-comp-runs")

# --- the two summaries, row by row
tr -d '"' < "$OUT/comp-sharelog.csv" | tr -d '\r' | tail -n +2 | sort > "$OUT/comp-a"
tail -n +2 "$OUT/comp-pg.csv" | sort > "$OUT/comp-b"
if cmp -s "$OUT/comp-a" "$OUT/comp-b"; then
	AGREE="the same $(wc -l < "$OUT/comp-a") rows (organisation, rule, severity, findings, decisions)"
else
	AGREE="DIFFERENT: $(diff "$OUT/comp-a" "$OUT/comp-b" | grep -c '^[<>]') rows differ (see bench/out/comp-a, comp-b)"
fi
FINDINGS=$(awk -F, '{s += $4} END {print s}' "$OUT/comp-a")
{
	echo "Measured $(date -u +%FT%TZ) on $(nproc) cores; as of $ASOF; $WANT records."
	echo
	echo "    sharelog completeness pass: median $SL_PASS s (runs: $SL_RUNS)"
	echo "    hashing floor before each run (openssl dgst -sha256 of the bundle): median $FLOOR s (runs: $FLOOR_RUNS)"
	echo "    sharelog-verify --completeness, whole command (integrity first): median $SL_WHOLE s"
	echo "    postgresql, the same policy as one SQL query: median $PG s (runs: $PG_RUNS)"
	echo "    speed-up of the completeness pass: $(echo "scale=1; $PG / $SL_PASS" | bc)x; of the whole command: $(echo "scale=1; $PG / $SL_WHOLE" | bc)x"
	echo "    findings: $FINDINGS; summaries: $AGREE"
} > "$RES"
cat "$RES"
