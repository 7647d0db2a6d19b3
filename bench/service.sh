#!/bin/sh
# Benchmarks of issue 3: sharelogd over HTTPS with client certificates,
# against PostgreSQL 15 with a hash-chained table, in the same run, on
# this machine (load generators included).
#   - sharelogd: bench/loadgen.c, keep-alive, 1/16/64 connections one
#     decision per request, and batches of 100; durable decisions/s and
#     p50/p99/p999 latency. The connections are shared by 2 client
#     threads (epoll), as pgbench's are (-j 2).
#   - PostgreSQL: a BEFORE INSERT trigger computes sha256(prev || body)
#     under an advisory lock, synchronous_commit=on; pgbench with the same
#     client counts, one decision per transaction, and 1,000-row batches.
#   - this machine's floors for the same loads (bench/tls_floor.c): the
#     transport alone (evhttp over bufferevent_openssl with client
#     certificates, as sharelogd's, answering a fixed 201 unread), and a
#     durable floor (the same, each group of bodies appended to a file
#     with one write and one fdatasync before its 201s).
# Writes bench/out/service.md. Knobs: SECS (per run, default 10).
set -eu
cd "$(dirname "$0")/.."
SECS=${SECS:-10}
BIN=build
DATA=bench/data
OUT=bench/out
mkdir -p "$DATA" "$OUT"
RES="$OUT/service.md"
# The peer: PostgreSQL 15 (server and pgbench) from Debian, if missing.
if ! ls /usr/lib/postgresql/*/bin/pgbench >/dev/null 2>&1; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
gcc -std=c11 -O2 -Wall -Wextra -Werror -o "$OUT/loadgen" bench/loadgen.c \
	-lssl -lcrypto -pthread
gcc -std=c11 -O2 -Wall -Wextra -Werror -o "$OUT/tls_floor" bench/tls_floor.c \
	-levent -levent_openssl -lssl -lcrypto -pthread
scripts/pki.sh "$DATA/pki"
P="$DATA/pki"
REC="$DATA/school-1400k.jsonl"
if [ ! -s "$REC" ]; then
	echo "generating decisions ..." >&2
	python3 scripts/gen_decisions.py -n 1400000 --lean --orgs URN-118832 \
		--seed 31 -o "$REC"
fi
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
rm -rf "$DATA/svc-store" "$DATA/svc-store.keys"
"$BIN/sharelogd" init --store "$DATA/svc-store" --origin bench.sharelog/svc >/dev/null
"$BIN/sharelogd" config-template --store "$DATA/svc-store" --pki "$P" \
	--listen "127.0.0.1:$PORT" > "$DATA/svc.json"
. bench/serve.sh
serve_bench "$BIN" "$DATA/svc.json" "$OUT/svc.log"
trap 'kill -TERM $SPID 2>/dev/null || true' EXIT
# Each run takes fresh records: split the file so no record is sent twice,
# each run getting enough for SECS=10 at its rate (the batch runs take
# 40-50k records a second).
part() { # N FIRST COUNT
	tail -n +"$2" "$REC" | head -n "$3" > "$DATA/part-0$1"
}
part 0 1 30000
part 1 30001 170000
part 2 200001 200000
part 3 400001 500000
part 4 900001 500000
# 1.8 GB just written: on disk before the runs, or the kernel's writeback
# of it lands in the middle of them and every fdatasync waits behind it
# (64 connections went from about 19k/s to 13k/s, p999 0.3 s)
sync
: > "$OUT/svc-raw"
# how many entries the store holds before a run: the batch figures fall
# as it grows (docs/BENCHMARKS.md, twentieth session)
entries() {
	curl -s --cacert "$P/ca.crt" --cert "$P/admin.crt" --key "$P/admin.key" \
		"https://127.0.0.1:$PORT/v1/healthz" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"])'
}
run_lg() { # CONNECTIONS BATCH PART
	echo "sharelogd: the store holds $(entries) entries before the run" |
		tee -a "$OUT/svc-raw"
	"$OUT/loadgen" -u "127.0.0.1:$PORT" -a "$P/ca.crt" -c "$P/school.crt" \
		-k "$P/school.key" -f "$DATA/part-0$3" -n "$1" -b "$2" -t "$SECS" \
		2>&1 | sed 's/^/sharelogd: /' | tee -a "$OUT/svc-raw"
}
run_lg 1 1 0
run_lg 16 1 1
run_lg 64 1 2
run_lg 16 100 3
run_lg 64 100 4
kill -TERM $SPID; wait $SPID || true
trap - EXIT
"$BIN/sharelog-verify" "$DATA/svc-store" > "$OUT/svc-verify.txt"

# --- the floors, on the same records (nothing is kept of them)
# floor [FILE], LABEL set: a record file runs out before SECS at the
# transport floor's rate; loadgen's rate is over the time it ran.
floor() {
	ffile=${1:-}
	fport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	"$OUT/tls_floor" "$fport" "$P/server.crt" "$P/server.key" "$P/ca.crt" \
		${ffile:+"$ffile"} &
	FPID=$!
	trap 'kill -TERM $FPID 2>/dev/null || true' EXIT
	sleep 0.5
	for cb in "1 1 0" "16 1 1" "64 1 2" "16 100 3" "64 100 4"; do
		set -- $cb
		"$OUT/loadgen" -u "127.0.0.1:$fport" -a "$P/ca.crt" \
			-c "$P/school.crt" -k "$P/school.key" -f "$DATA/part-0$3" \
			-n "$1" -b "$2" -t "$SECS" 2>&1 | sed "s/^/$LABEL: /" |
			tee -a "$OUT/svc-raw"
	done
	kill -TERM $FPID; wait $FPID || true
	trap - EXIT
}
LABEL="transport floor (fixed 201, nothing read or stored)" floor
LABEL="durable floor (one write and one fdatasync a group)" floor "$DATA/floor.dat"
rm -f "$DATA"/part-0* "$DATA/floor.dat"

# --- PostgreSQL peer
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
PGD=$PWD/$DATA/pgdata
PGPORT=54329
as_pg() { runuser -u postgres -- "$@"; }
rm -rf "$PGD"; install -d -o postgres -g postgres -m 700 "$PGD"
as_pg "$PGBIN/initdb" -D "$PGD" -U postgres --auth=trust -E UTF8 \
	--locale=C.UTF-8 > "$OUT/pg-initdb.log"
as_pg "$PGBIN/pg_ctl" -D "$PGD" -l "$PGD/server.log" -w start \
	-o "-c listen_addresses=127.0.0.1 -c port=$PGPORT -c unix_socket_directories='$PGD' -c max_connections=200" >/dev/null
trap 'as_pg "$PGBIN/pg_ctl" -D "$PGD" -m fast -w stop >/dev/null 2>&1 || true' EXIT
PSQL="psql -X -q -h 127.0.0.1 -p $PGPORT -U postgres"
$PSQL -d postgres -c "CREATE DATABASE audit"
$PSQL -d audit <<'SQL'
CREATE TABLE decisions (seq bigint PRIMARY KEY, body jsonb NOT NULL,
  prev_hash bytea NOT NULL, hash bytea NOT NULL);
CREATE FUNCTION decisions_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE p_seq bigint; p_hash bytea;
BEGIN
  PERFORM pg_advisory_xact_lock(7283001);
  SELECT seq, hash INTO p_seq, p_hash FROM decisions ORDER BY seq DESC LIMIT 1;
  NEW.seq := coalesce(p_seq, 0) + 1;
  NEW.prev_hash := coalesce(p_hash, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea);
  NEW.hash := sha256(NEW.prev_hash || convert_to(NEW.body::text, 'UTF8'));
  RETURN NEW;
END $$;
CREATE TRIGGER decisions_chain BEFORE INSERT ON decisions
  FOR EACH ROW EXECUTE FUNCTION decisions_chain();
SQL
rec=$(head -1 "$REC" | sed "s/'/''/g")
printf "INSERT INTO decisions(body) VALUES ('%s');\n" "$rec" > "$OUT/pg-single.sql"
printf "INSERT INTO decisions(body) SELECT ('%s')::jsonb FROM generate_series(1, 1000);\n" "$rec" > "$OUT/pg-batch.sql"
pg_run() { # LABEL CLIENTS SCRIPT ROWS_PER_TX
	j=$(( $2 < 2 ? $2 : 2 ))      # client threads, as loadgen's
	tps=$(pgbench -n -h 127.0.0.1 -p $PGPORT -U postgres -c "$2" -j "$j" \
		-T "$SECS" -f "$3" audit 2>/dev/null | awk '/^tps/ {print $3; exit}')
	lat=$(pgbench -n -h 127.0.0.1 -p $PGPORT -U postgres -c "$2" -j "$j" \
		-T 3 -f "$3" audit 2>/dev/null | awk '/latency average/ {print $4; exit}')
	echo "postgresql $1 clients $2: $(awk -v t="$tps" -v r="$4" 'BEGIN{printf "%.0f", t*r}') decisions/s ($tps transactions/s, average latency $lat ms)" | tee -a "$OUT/svc-raw"
}
pg_run "one decision per transaction," 1 "$OUT/pg-single.sql" 1
pg_run "one decision per transaction," 16 "$OUT/pg-single.sql" 1
pg_run "one decision per transaction," 64 "$OUT/pg-single.sql" 1
pg_run "1,000-row batches," 16 "$OUT/pg-batch.sql" 1000
{
	echo "Measured $(date -u +%FT%TZ) on $(nproc) cores, $SECS s per run, load generators on the same machine."
	echo
	sed 's/^/    /' "$OUT/svc-raw"
	echo
	echo "sharelog-verify on the store afterwards: $(head -1 "$OUT/svc-verify.txt")"
} > "$RES"
cat "$RES"
