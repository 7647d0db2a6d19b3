#!/bin/sh
# make run: sharelog on this machine, in ./demo (git-ignored).
# Makes a demo PKI, a store, starts sharelogd on 127.0.0.1 with the
# default configuration, sends it realistic decisions from two agencies
# over mutual TLS, and shows what an inspector sees. sharelogd keeps
# running afterwards; the commands to look around are printed at the end.
set -eu
BIN=${BIN:-build}
DEMO=${DEMO:-demo}
PORT=${PORT:-8443}
URL="https://127.0.0.1:$PORT"
if [ -f "$DEMO/sharelogd.pid" ]; then
	kill -TERM "$(cat "$DEMO/sharelogd.pid")" 2>/dev/null || true
	sleep 0.5
fi
rm -rf "$DEMO"
mkdir -p "$DEMO"
P="$DEMO/pki"
C="curl -s --cacert $P/ca.crt"
echo "== sharelog demo in $DEMO/"
echo
echo "-- 1. A demo CA with certificates for the service, two agencies, an"
echo "      inspector, a reviewer and an operator"
scripts/pki.sh "$P"
ls "$P"/*.crt | tr '\n' ' '; echo
echo
echo "-- 2. The store, its keys (kept outside it) and its genesis entry"
"$BIN/sharelogd" init --store "$DEMO/store" --origin demo.lscp.example/sharelog
"$BIN/sharelogd" config-template --store "$DEMO/store" --pki "$P" \
	--listen "127.0.0.1:$PORT" > "$DEMO/sharelogd.json"
echo
echo "-- 3. sharelogd starts on $URL (mutual TLS only)"
# its own output goes to the log, so it holds no terminal or pipe open
"$BIN/sharelogd" serve --config "$DEMO/sharelogd.json" \
	>"$DEMO/sharelogd.log" 2>&1 </dev/null &
echo $! > "$DEMO/sharelogd.pid"
i=0
until $C --cert "$P/admin.crt" --key "$P/admin.key" "$URL/v1/healthz" >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -gt 100 ] && { cat "$DEMO/sharelogd.log"; exit 1; }
	sleep 0.05
done
cat "$DEMO/sharelogd.log"
echo
echo "-- 4. The school and the police send their decisions, as their case"
echo "      systems would, one per request and in batches"
python3 scripts/gen_decisions.py -n 150 --orgs URN-118832 --seed 2026 -o "$DEMO/school.jsonl"
python3 scripts/gen_decisions.py -n 150 --orgs POL-ESX --seed 2027 -o "$DEMO/police.jsonl"
head -20 "$DEMO/school.jsonl" | while read -r rec; do
	echo "$rec" | $C --cert "$P/school.crt" --key "$P/school.key" \
		-H 'Content-Type: application/json' --data-binary @- \
		"$URL/v1/decisions" > "$DEMO/last-answer.json"
done
echo "   school, 20 single submissions; the last answer:"
sed 's/^/   /' "$DEMO/last-answer.json"
python3 -c "
import json, sys
for name in ('school', 'police'):
    rs = [json.loads(l) for l in open('$DEMO/%s.jsonl' % name)]
    json.dump(rs[20:] if name == 'school' else rs, open('$DEMO/%s-batch.json' % name, 'w'))"
$C --cert "$P/school.crt" --key "$P/school.key" -H 'Content-Type: application/json' \
	--data-binary "@$DEMO/school-batch.json" "$URL/v1/decisions" -o /dev/null \
	-w "   school, a batch of 130: HTTP %{http_code}\n"
$C --cert "$P/police.crt" --key "$P/police.key" -H 'Content-Type: application/json' \
	--data-binary "@$DEMO/police-batch.json" "$URL/v1/decisions" -o /dev/null \
	-w "   police, a batch of 150: HTTP %{http_code}\n"
echo
echo "-- 5. What is refused, and why (nothing of it is stored)"
head -1 "$DEMO/school.jsonl" > "$DEMO/school-one.json"
printf '   police sending a school decision: '
$C --cert "$P/police.crt" --key "$P/police.key" -H 'Content-Type: application/json' \
	--data-binary "@$DEMO/school-one.json" "$URL/v1/decisions"
printf '   a decision that is not one: '
sed 's/"decision":"[a-z_]*"/"decision":"maybe"/' "$DEMO/school-one.json" | \
	$C --cert "$P/school.crt" --key "$P/school.key" -H 'Content-Type: application/json' \
	--data-binary @- "$URL/v1/decisions"
printf '   a certificate from another CA: '
$C --cert "$P/rogue.crt" --key "$P/rogue.key" "$URL/v1/healthz" || echo "refused in the TLS handshake"
echo
echo "-- 6. The inspector's view: the signed checkpoint, and a proof that"
echo "      entry 5 is in the log"
sleep 5.5   # a checkpoint is signed every 5 seconds of activity
$C --cert "$P/inspector.crt" --key "$P/inspector.key" "$URL/v1/checkpoint" | sed 's/^/   /'
$C --cert "$P/inspector.crt" --key "$P/inspector.key" \
	"$URL/v1/proof/inclusion?seq=5&size=100" | sed 's/^/   /'
echo
echo "-- 7. A case reviewer reads the chronology of one case (the read is"
echo "      itself appended to the log first); the first rows:"
cref=$(head -1 "$DEMO/school.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["case_ref"])')
$C --cert "$P/reviewer.crt" --key "$P/reviewer.key" -H 'Content-Type: application/json' \
	--data-binary "{\"case_ref\": \"$cref\", \"review_ref\": \"CSPR-DEMO-1\"}" \
	"$URL/v1/trail" | cut -c1-150 | head -3 | sed 's/^/   /'
echo
echo "-- 8. Verified offline while the service runs"
"$BIN/sharelog-verify" "$DEMO/store" --key "$DEMO/store.keys/log.vkey"
echo
echo "sharelogd is still running (pid $(cat "$DEMO/sharelogd.pid")). Look around:"
echo "  $C --cert $P/inspector.crt --key $P/inspector.key '$URL/v1/entries?start=0&count=3'"
echo "  $C --cert $P/admin.crt --key $P/admin.key $URL/metrics"
echo "  $BIN/sharelog-verify $DEMO/store --key $DEMO/store.keys/log.vkey"
echo "  $BIN/sharelogd export --store $DEMO/store $DEMO/bundle && python3 docs/verify-bundle.py $DEMO/bundle"
echo "  $BIN/sharelogd backup --store $DEMO/store $DEMO/backup"
echo "  kill -TERM \$(cat $DEMO/sharelogd.pid)    # drains, signs a final checkpoint"
