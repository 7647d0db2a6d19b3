#!/bin/sh
# One child's trail served by sharelogd to a reviewer (POST /v1/trail) on
# a copy of the 1,000,000-entry store of bench/completeness.sh: each read
# first appends an `access` entry and waits for its fsync, then makes the
# trail with its proofs. 21 reads over one keep-alive TLS connection
# (curl's time_total per read) and 21 reads each on a new connection (TLS
# handshake included). Writes bench/out/trail-served.md.
set -eu
cd "$(dirname "$0")/.."
D=bench/data
OUT=bench/out
S=$D/comp-store
[ -d "$S" ] || { echo "no $S: run bench/completeness.sh first"; exit 1; }
mkdir -p "$OUT"
SRV=$(mktemp -d "${TMPDIR:-/tmp}/sl-trail-XXXXXX")
SPID=""
trap '[ -n "$SPID" ] && kill -KILL "$SPID" 2>/dev/null; rm -rf "$SRV"' EXIT
med() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# a copy, so the bench store does not collect access entries
build/sharelogd backup --store "$S" "$SRV/store" >/dev/null
cp -r "$S.keys" "$SRV/store.keys"
scripts/pki.sh "$SRV/pki" >/dev/null 2>&1
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
build/sharelogd config-template --store "$SRV/store" --pki "$SRV/pki" \
	--listen "127.0.0.1:$PORT" > "$SRV/cfg.json"
build/sharelogd serve --config "$SRV/cfg.json" 2>"$SRV/log" &
SPID=$!
C="curl -s --cacert $SRV/pki/ca.crt"
i=0
until [ "$($C --cert "$SRV/pki/admin.crt" --key "$SRV/pki/admin.key" -o /dev/null \
	-w '%{http_code}' "https://127.0.0.1:$PORT/v1/healthz")" = 200 ]; do
	i=$((i + 1)); [ $i -lt 600 ] || { cat "$SRV/log"; exit 1; }; sleep 0.1
done
CHILD=$(sed -n '500000p' "$D/comp-1m.jsonl" | sed 's/.*"child_id":"\([^"]*\)".*/\1/')
printf '{"child_id":"%s","review_ref":"BENCH-1"}' "$CHILD" > "$SRV/req.json"
R="--cert $SRV/pki/reviewer.crt --key $SRV/pki/reviewer.key -H Content-Type:application/json --data-binary @$SRV/req.json"
U="https://127.0.0.1:$PORT/v1/trail"
# warm: the first read maps the store's pages
$C $R -o "$SRV/t.csv" "$U"
# keep-alive: one connection, 21 reads
set --
i=0; while [ $i -lt 21 ]; do set -- "$@" "$U"; i=$((i + 1)); done
$C $R -w 'T %{time_total}\n' "$@" | sed -n 's/^T //p' | awk '{print $1 * 1000}' > "$SRV/ka"
# a new connection for each read
: > "$SRV/nc"
i=0; while [ $i -lt 21 ]; do
	$C $R -o /dev/null -w '%{time_total}\n' "$U" | awk '{print $1 * 1000}' >> "$SRV/nc"
	i=$((i + 1))
done
ROWS=$(($(wc -l < "$SRV/t.csv") - 1))
ACC=$(grep -c '"access"' "$SRV/t.csv" || true)
kill -TERM "$SPID"; wait "$SPID" || true; SPID=""
{
	echo "Measured $(date -u +%FT%TZ) on $(nproc) cores; a copy of the 1,000,000-entry store."
	echo
	echo "    served trail ($ROWS rows, $ACC of them earlier reads; proofs included; each read's access entry fsync'd first):"
	echo "      keep-alive connection: median $(med < "$SRV/ka") ms (21 reads)"
	echo "      new TLS connection per read: median $(med < "$SRV/nc") ms (21 reads)"
} > "$OUT/trail-served.md"
cat "$OUT/trail-served.md"
