#!/bin/sh
# Integration tests of the programs as an operator and an inspector use
# them: sharelogd init/append/checkpoint/export/restore, sharelog-verify,
# and the independent script of docs/FORMAT.md. Ends with "N passed, N
# failed"; exits non-zero when anything failed.
set -u
NAME=cli
. tests/lib.sh

SD="$BIN/sharelogd"
SV="$BIN/sharelog-verify"
S="$D/store"
K="$D/store.keys"
python3 scripts/gen_decisions.py -n 500 --seed 7 -o "$D/d.jsonl"

# --- usage errors are exit 2, with a usage text
expect 2 "$SD"
expect 2 "$SD" frobnicate --store "$S"
expect 2 "$SV"
expect 2 "$SV" "$D/nothing-here"
has "$D/err" "neither a store"
expect 2 "$SD" init --store "$S" --origin "has space"
has "$D/err" "origin"

# --- init, append, verify
expect 0 "$SD" init --store "$S" --origin cli.test/log
expect 2 "$SD" init --store "$S" --origin cli.test/log
has "$D/err" "already holds a store"
expect 0 "$SD" append --store "$S" "$D/d.jsonl"
has "$D/out" "appended 500 decision record(s)"
expect 0 "$SV" "$S"
has "$D/out" "VERIFIED"
has "$D/out" "entries:      501"

# --- bad input: every bad line named, nothing stored
head -3 "$D/d.jsonl" > "$D/bad.jsonl"
echo '{"schema_version":"1","record_type":"decision","decision":"perhaps"}' >> "$D/bad.jsonl"
echo '{"a":1,' >> "$D/bad.jsonl"
sed -n 10p "$D/d.jsonl" | sed 's/"decided_at":"[^"]*"/"decided_at":"2026-02-30T10:00:00Z"/' >> "$D/bad.jsonl"
expect 1 "$SD" append --store "$S" "$D/bad.jsonl"
has "$D/err" "line 4: field /decision: not one of: share, not_share, partial"
has "$D/err" "line 5: JSON syntax error"
has "$D/err" "line 6: field /decided_at"
has "$D/err" "nothing was stored"
expect 0 "$SV" "$S" --json
has "$D/out" '"entries": 501'
# retrying the same file changes nothing
expect 0 "$SD" append --store "$S" "$D/d.jsonl"
has "$D/out" "500 identical retries"
# the wrong submitter is refused
expect 1 "$SD" append --store "$S" --as POL-ESX "$D/d.jsonl"
has "$D/err" "field /organisation_id"

# --- append --check: the same verdicts, then against the log; nothing
# stored, bad file or good
expect 1 "$SD" append --store "$S" --check "$D/bad.jsonl"
has "$D/err" "line 4: field /decision: not one of: share, not_share, partial"
has "$D/err" "line 6: field /decided_at"
expect 0 "$SD" append --store "$S" --check "$D/d.jsonl"
has "$D/out" "checked 500 line(s): none refused; 0 would be new entries, 500 already in the log; nothing was stored"
python3 scripts/gen_decisions.py -n 20 --seed 77 -o "$D/new.jsonl"
{ cat "$D/new.jsonl"; sed -n 3p "$D/d.jsonl"; } > "$D/mixed.jsonl"
expect 0 "$SD" append --store "$S" --check "$D/mixed.jsonl"
has "$D/out" "checked 21 line(s): none refused; 20 would be new entries, 1 already in the log"
# a changed record already in the log: the conflict the append would meet
grep -m1 '"rationale":"' "$D/d.jsonl" | sed 's/"rationale":"/"rationale":"Changed: /' > "$D/chg.jsonl"
cat "$D/new.jsonl" >> "$D/chg.jsonl"
expect 1 "$SD" append --store "$S" --check "$D/chg.jsonl"
has "$D/err" "line 1: record_id"
has "$D/err" "with different content"
# two records of the file that conflict with each other
grep -m1 '"rationale":"' "$D/new.jsonl" > "$D/once.jsonl"
{ cat "$D/once.jsonl"; sed 's/"rationale":"/"rationale":"Other: /' "$D/once.jsonl"; } > "$D/twice.jsonl"
expect 1 "$SD" append --store "$S" --check "$D/twice.jsonl"
has "$D/err" "line 2: record_id"
expect 0 "$SV" "$S" --json
has "$D/out" '"entries": 501'

# --- export and verify the bundle three ways
expect 0 "$SD" export --store "$S" "$D/b1"
expect 0 "$SV" "$D/b1" --key "$K/log.vkey"
has "$D/out" "a key you trust"
expect 0 "$SV" "$D/b1" --key "$(cat "$K/log.vkey")"
sed -n '/<!-- verify-bundle.py begins -->/,/<!-- verify-bundle.py ends -->/p' \
	docs/FORMAT.md | sed '1,2d;$d' | sed '$d' > "$D/verify-bundle.py"
expect 0 python3 "$D/verify-bundle.py" "$D/b1"
has "$D/out" "OK cli.test/log: 501 entries"
root=$("$SV" "$D/b1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["root"])')
has "$D/out" "$root"
expect 0 python3 "$D/verify-bundle.py" tests/data/vectors/bundle
python3 scripts/mkformat.py "$D/FORMAT.md"
if cmp -s "$D/FORMAT.md" docs/FORMAT.md; then ok; else
	bad "docs/FORMAT.md differs from scripts/mkformat.py output"; fi

# --- a held checkpoint: the log only grows; truncation is caught
cp "$D/b1/checkpoint" "$D/held"
python3 scripts/gen_decisions.py -n 50 --seed 8 -o "$D/more.jsonl"
expect 0 "$SD" append --store "$S" "$D/more.jsonl"
expect 0 "$SV" "$S" --checkpoint "$D/held"
has "$D/out" "only been appended to since"
expect 0 "$SD" export --store "$S" "$D/b2"
expect 0 python3 "$D/verify-bundle.py" "$D/b2" "$D/held"
cp -r "$D/b2" "$D/trunc"
head -n 400 "$D/b2/entries.jsonl" > "$D/trunc/entries.jsonl"
ls "$D/trunc/checkpoints" | while read -r n; do
	[ "$n" -gt 400 ] && rm "$D/trunc/checkpoints/$n"; done
cp "$D/trunc/checkpoints/1" "$D/trunc/checkpoint"
expect 1 "$SV" "$D/trunc" --checkpoint "$D/held"
has "$D/out" "removed from its end"
expect 1 python3 "$D/verify-bundle.py" "$D/trunc" "$D/held"

# --- tampering with a bundle: exit 1, the entry named, in JSON too
cp -r "$D/b2" "$D/t"
sed -i '123s/"case_ref":"C-/"case_ref":"X-/' "$D/t/entries.jsonl"
expect 1 "$SV" "$D/t"
has "$D/out" "FAILED"
has "$D/out" "entry 122 (line 123 of entries.jsonl) was altered"
expect 1 "$SV" "$D/t" --json
has "$D/out" '"bad_from": 122'
expect 1 python3 "$D/verify-bundle.py" "$D/t"
has "$D/out" "entry 123: prev does not match"

# --- restore: a verified bundle becomes a store with the same bytes
expect 0 "$SD" restore "$D/b2" --store "$D/restored" --key "$K/log.vkey"
expect 0 "$SV" "$D/restored" --key "$K/log.vkey"
has "$D/out" "the ids and threads tables"
# a retry after the restore finds its original (the ids rows name the
# submitter, as when the records were first taken)
expect 0 "$SD" append --store "$D/restored" --keys "$K" "$D/d.jsonl"
has "$D/out" "500 identical retries"
expect 1 "$SD" restore "$D/t" --store "$D/restored2"
has "$D/err" "nothing restored"
if [ ! -e "$D/restored2/data.mdb" ]; then ok; else bad "restored a bad bundle"; fi

# --- verify runs while appends continue (readers in other processes)
python3 scripts/gen_decisions.py -n 3000 --seed 9 -o "$D/big.jsonl"
"$SD" append --store "$S" --commit-every 50 "$D/big.jsonl" >/dev/null 2>&1 &
apid=$!
i=0
while [ $i -lt 5 ]; do
	expect 0 "$SV" "$S"
	i=$((i + 1))
done
wait $apid
expect 0 "$SV" "$S"
has "$D/out" "entries:      3551"

# --- key rotation: the new key is named in the log and bridged by a
# checkpoint both keys sign; old checkpoints and old keys keep working
cp "$K/log.vkey" "$D/old.vkey"
"$SD" export --store "$S" "$D/pre" > /dev/null
cp "$D/pre/checkpoint" "$D/held-pre"
expect 0 "$SD" rotate-key --store "$S" --reason "annual rotation"
has "$D/out" "checkpoint key rotated"
python3 scripts/gen_decisions.py -n 20 --seed 10 -o "$D/after.jsonl"
expect 0 "$SD" append --store "$S" "$D/after.jsonl"
expect 0 "$SD" export --store "$S" "$D/rotated"
if [ "$(wc -l < "$D/rotated/log.vkey")" = 2 ]; then ok; else
	bad "the bundle's log.vkey should list the new and the retired key"; fi
expect 0 "$SV" "$D/rotated" --key "$D/old.vkey" --checkpoint "$D/held-pre"
expect 0 "$SV" "$D/rotated" --key "$K/log.vkey"
expect 0 python3 "$D/verify-bundle.py" "$D/rotated" "$D/held-pre"

# --- completeness: integrity first, then every decision by the policy
C="$D/comp"
START=$(date -u -d '-30 hours' +%Y-%m-%dT%H:%M:%SZ)
python3 scripts/gen_decisions.py -n 400 --seed 21 --start "$START" --span-hours 20 -o "$D/c.jsonl"
"$SD" init --store "$C" --origin test.example/comp > /dev/null
"$SD" append --store "$C" "$D/c.jsonl" > /dev/null
expect 3 "$SV" "$C" --completeness
has "$D/out" "VERIFIED"
has "$D/out" "completeness: ERRORS FOUND"
has "$D/out" "sharelog-default 1, (built-in default), sha256 "
has "$D/out" "by organisation and rule:"
if grep -q "See notes\|child_id\|LA881-" "$D/out"; then
	bad "the completeness report prints record text"; else ok; fi
expect 3 "$SV" "$C" --completeness --csv
if head -1 "$D/out" | od -c | grep -q '\\r  \\n' &&
   head -1 "$D/out" | grep -q '^"seq","decision_id","organisation","rule","severity","field"'; then ok; else
	bad "CSV: quoted header with CRLF"; head -2 "$D/out"; fi
ncsv=$(($(wc -l < "$D/out") - 1))
expect 3 "$SV" "$C" --completeness --json
njson=$(python3 -c "import json; d=json.load(open('$D/out')); print(len(d['completeness']['findings']))")
if [ "$ncsv" = "$njson" ] && [ "$ncsv" -gt 0 ]; then ok; else
	bad "CSV ($ncsv) and JSON ($njson) list the same findings"; fi
python3 - "$D/out" <<'PY' && ok || bad "JSON: integrity verified, counts add up"
import json, sys
d = json.load(open(sys.argv[1])); c = d["completeness"]
assert d["integrity"]["verified"] is True
assert c["errors"] == sum(1 for f in c["findings"] if f["severity"] == "error")
assert sum(r["findings"] for r in c["by_rule"]) == len(c["findings"])
assert set(f["rule"] for f in c["findings"]) <= {"V%02d" % i for i in range(1, 27)}
PY
expect 3 "$SV" "$C" --completeness --csv-summary
has "$D/out" '"organisation","rule","severity","findings","decisions_with_finding"'
# several workers: phase 1 hands out slices (2,048 entries of a store,
# 2 MB of a bundle), taken by whichever worker is free; the findings are
# the same as one worker's, on a store and on a 4 MB bundle
for src in "$S" "$D/rotated"; do
	"$SV" "$src" --completeness --csv --as-of 2100-01-01 --threads 1 \
		> "$D/one.csv" 2>/dev/null || true
	"$SV" "$src" --completeness --csv --as-of 2100-01-01 --threads 3 \
		> "$D/three.csv" 2>/dev/null || true
	if [ "$(wc -l < "$D/one.csv")" -gt 100 ] &&
	   cmp -s "$D/one.csv" "$D/three.csv"; then ok; else
		bad "completeness on 3 workers differs from 1 ($src)"; fi
done
# as of a time before anything was recorded: nothing judged
expect 0 "$SV" "$C" --completeness --as-of 2020-01-01
has "$D/out" "0 judged"
# a window of decision dates: only those decisions
expect 3 "$SV" "$C" --completeness --from "$(echo "$START" | cut -c1-10)" --to 2100-01-01
expect 0 "$SV" "$C" --completeness --from 2099-01-01
has "$D/out" "0 judged"
# a board's own policy; a broken one is refused, naming the rule and key
cat > "$D/board.json" <<'JSON'
{"policy": "board-lite", "version": "3", "rules": [
 {"id": "V01", "severity": "warning", "guidance": "Keep a record of your reasons.",
  "when": {"record_type": ["decision"]}, "require": ["rationale"]}]}
JSON
expect 0 "$SV" "$C" --completeness --policy "$D/board.json"
has "$D/out" "board-lite 3, $D/board.json, sha256 $(sha256sum "$D/board.json" | cut -c1-64)"
sed 's/"warning"/"fatal"/' "$D/board.json" > "$D/broken.json"
expect 2 "$SV" "$C" --completeness --policy "$D/broken.json"
has "$D/err" "rule 1 (V01): \"severity\""
expect 2 "$SV" "$C" --completeness --as-of yesterday
has "$D/err" "--as-of"
expect 2 "$SV" "$C" --csv
# integrity always comes first: an altered bundle is exit 1, not judged
"$SD" export --store "$C" "$D/cb" > /dev/null
expect 3 "$SV" "$D/cb" --completeness
sed -i '5s/"case_ref":"C-/"case_ref":"X-/' "$D/cb/entries.jsonl"
expect 1 "$SV" "$D/cb" --completeness
has "$D/err" "completeness not judged"

finish
