#!/bin/sh
# make run: a demo of sharelog on this machine, in ./demo (git-ignored).
# Creates a store, appends a few hundred realistic decisions, exports a
# bundle for an inspector, and shows what the inspector sees.
set -eu
BIN=${BIN:-build}
DEMO=${DEMO:-demo}
rm -rf "$DEMO"
mkdir -p "$DEMO"
echo "== sharelog demo in $DEMO/"
echo
echo "-- 1. The service creates its store, keys and genesis entry"
"$BIN/sharelogd" init --store "$DEMO/store" --keys "$DEMO/keys" \
	--origin demo.lscp.example/sharelog
echo
echo "-- 2. Agencies' case systems send 400 share and not-share decisions"
python3 scripts/gen_decisions.py -n 400 --seed 2026 -o "$DEMO/decisions.jsonl"
"$BIN/sharelogd" append --store "$DEMO/store" --keys "$DEMO/keys" \
	"$DEMO/decisions.jsonl"
echo
echo "-- 3. A submission with mistakes is refused whole, every line named"
head -2 "$DEMO/decisions.jsonl" > "$DEMO/bad.jsonl"
echo '{"schema_version":"1","record_type":"decision","decision":"maybe"}' >> "$DEMO/bad.jsonl"
"$BIN/sharelogd" append --store "$DEMO/store" --keys "$DEMO/keys" \
	"$DEMO/bad.jsonl" || true
echo
echo "-- 4. The operator exports a bundle for the inspector"
"$BIN/sharelogd" export --store "$DEMO/store" --keys "$DEMO/keys" \
	"$DEMO/bundle"
cp "$DEMO/bundle/checkpoint" "$DEMO/inspector-kept-checkpoint"
echo
echo "-- 5. The inspector verifies it with the key they were given"
"$BIN/sharelog-verify" "$DEMO/bundle" --key "$DEMO/keys/log.vkey"
echo
echo "-- 6. ... and independently, with python3 and openssl only"
python3 docs/verify-bundle.py "$DEMO/bundle"
echo
echo "-- 7. More decisions arrive; the kept checkpoint proves nothing was"
echo "      removed or rewritten since the last inspection"
python3 scripts/gen_decisions.py -n 100 --seed 2027 -o "$DEMO/more.jsonl"
"$BIN/sharelogd" append --store "$DEMO/store" --keys "$DEMO/keys" \
	"$DEMO/more.jsonl"
"$BIN/sharelog-verify" "$DEMO/store" --key "$DEMO/keys/log.vkey" \
	--checkpoint "$DEMO/inspector-kept-checkpoint"
echo
echo "-- 8. Someone edits one decision in a copy of the bundle"
cp -r "$DEMO/bundle" "$DEMO/bundle-edited"
sed -i '200s/"decision":"not_share"/"decision":"share"/; 200s/"decision":"partial"/"decision":"share"/; 200s/"harm_threshold":"[a-z_]*"/"harm_threshold":"unknown"/' \
	"$DEMO/bundle-edited/entries.jsonl"
"$BIN/sharelog-verify" "$DEMO/bundle-edited" --key "$DEMO/keys/log.vkey" || true
echo
echo "Look around:"
echo "  $BIN/sharelog-verify $DEMO/store --json"
echo "  head -c 1500 $DEMO/bundle/entries.jsonl"
echo "  cat $DEMO/bundle/checkpoint"
echo "  $BIN/sharelogd export --store $DEMO/store --keys $DEMO/keys $DEMO/bundle2"
