#!/bin/sh
# Integration tests of sharelog-report and sharelog-verify --pack: golden
# packs from a frozen bundle, an independent recount, byte-identical
# reruns from a store and a bundle, tampering caught, trails whose proofs
# the independent script of docs/FORMAT.md checks, formula injection,
# and bad input. Ends with "N passed, N failed".
set -u
NAME=report
. tests/lib.sh

SD="$BIN/sharelogd"
SV="$BIN/sharelog-verify"
SR="$BIN/sharelog-report"
G=tests/data/reports

# --- golden packs from the frozen bundle (checkpoint, options, policy fixed)
expect 0 "$SR" pack "$G/bundle" --out "$D/pub" --period quarter --area E06000001
has "$D/out" "10 reports"
same "$D/pub" "$G/golden-published"
expect 0 "$SR" pack "$G/bundle" --out "$D/int" --period quarter --area E06000001 --unsuppressed
has "$D/out" "11 reports (INTERNAL"
same "$D/int" "$G/golden-internal"
# an independent recount from entries.jsonl, and no count 1..5 published
expect 0 python3 tests/report_check.py "$G/bundle" "$D/int" "$D/pub" 5
has "$D/out" "OK 643 decisions recounted"
# every published file: CRLF, quoted; the internal pack says what it is
for f in "$D"/pub/*.csv; do
	if head -1 "$f" | grep -q "$(printf '\r')\$" && head -1 "$f" | grep -q '^"'
	then ok; else bad "$f: header not quoted or not CRLF"; fi
done
[ -e "$D/pub/review_overdue.csv" ] && bad "review_overdue published" || ok
[ -e "$D/int/review_overdue_UNSUPPRESSED.csv" ] && ok || bad "no review_overdue"
has "$D/int/guidance_UNSUPPRESSED.md" "OFFICIAL-SENSITIVE"
has "$D/pub/guidance.md" "Counts from 1 to 5 are suppressed"
has "$D/pub/guidance.md" "OWASP"
hasnt "$D/int/decisions_by_agency_UNSUPPRESSED.csv" '"c"'
has "$D/pub/decisions_by_agency.csv" '"c"'
# the pack names its checkpoint and policy; verify checks it
has "$D/pub/pack.json" '"size": 701'
has "$D/pub/pack.json" '"sha256"'
expect 0 "$SV" "$G/bundle" --pack "$D/pub"
has "$D/out" "PACK MATCHES"
expect 0 "$SV" "$G/bundle" --pack "$D/int"
# tampering: a changed cell, a removed file, an added file
cp -r "$D/pub" "$D/t1"
sed -i '2s/E06000001/E06000002/' "$D/t1/timeliness.csv"
expect 1 "$SV" "$G/bundle" --pack "$D/t1"
has "$D/out" "timeliness.csv differs"
cp -r "$D/pub" "$D/t2"; rm "$D/t2/flows_matrix.csv"
expect 1 "$SV" "$G/bundle" --pack "$D/t2"
has "$D/out" "flows_matrix.csv is missing"
cp -r "$D/pub" "$D/t3"; echo x > "$D/t3/extra.csv"
expect 1 "$SV" "$G/bundle" --pack "$D/t3"
has "$D/out" "extra.csv is in the pack"
# another policy than the pack's is refused
sed 's/"V01", "severity": "error"/"V01", "severity": "warning"/' \
	verify/default-policy.json > "$D/policy.json"
expect 2 "$SV" "$G/bundle" --pack "$D/pub" --policy "$D/policy.json"
has "$D/err" "give that policy file"

# --- a store: same bytes as its bundle, the log may grow meanwhile
S="$D/store"
python3 scripts/gen_decisions.py -n 800 --seed 5 -o "$D/d.jsonl"
expect 0 "$SD" init --store "$S" --origin rep.test/log
expect 0 "$SD" append --store "$S" "$D/d.jsonl"
expect 0 "$SR" pack "$S" --out "$D/sp" --period month
has "$D/out" "(kept in the store)"
size=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["checkpoint"]["size"])' "$D/sp/pack.json")
python3 scripts/gen_decisions.py -n 60 --seed 6 -o "$D/more.jsonl"
expect 0 "$SD" append --store "$S" "$D/more.jsonl"
expect 0 "$SV" "$S" --pack "$D/sp"
expect 0 "$SD" export --store "$S" "$D/b"
expect 0 "$SR" pack "$D/b" --out "$D/bp" --period month --checkpoint "$size"
has "$D/out" "(derived from the entries)"
same "$D/sp" "$D/bp"
# internal packs too (every rule's count, the overdue list by decision_id):
# a store's rules come from the judgements it kept at append, past the
# checkpoint's size too (the log grew), a bundle's after the pass
expect 0 "$SR" pack "$S" --out "$D/spi" --period month --unsuppressed --checkpoint "$size"
has "$D/out" "(kept judgements)"
expect 0 "$SR" pack "$D/b" --out "$D/bpi" --period month --unsuppressed --checkpoint "$size"
same "$D/spi" "$D/bpi"
# --recheck walks and judges every record again: the same bytes
expect 0 "$SR" pack "$S" --out "$D/spr" --period month --unsuppressed --checkpoint "$size" --recheck
has "$D/out" "(each record judged on the way)"
same "$D/spi" "$D/spr"
expect 0 "$SV" "$S"
has "$D/out" "judgement kept for report packs matches every entry"
expect 0 "$SR" pack "$S" --out "$D/sp2" --period month --checkpoint "$size"
same "$D/sp" "$D/sp2"
# one organisation; several periods
set -- $(head -1 "$D/d.jsonl" | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["organisation_id"], r["deciding_agency_type"])')
cat "$D/d.jsonl" "$D/more.jsonl" > "$D/all.jsonl"
orgn=$(python3 - "$D/all.jsonl" "$1" <<'PY'
import json, sys
print(sum(1 for l in open(sys.argv[1]) for r in [json.loads(l)]
          if r["organisation_id"] == sys.argv[2] and r["record_type"] == "decision"))
PY
)
expect 0 "$SR" pack "$S" --out "$D/org" --org "$1" --unsuppressed
got=$(tail -n +2 "$D/org/decisions_by_agency_UNSUPPRESSED.csv" | cut -d, -f6 | tr -d '"' | awk '{ s += $1 } END { print s }')
[ "$got" = "$orgn" ] && ok || bad "--org $1: $got decisions, expected $orgn"
if [ "$(tail -n +2 "$D/org/decisions_by_agency_UNSUPPRESSED.csv" | cut -d, -f4 | sort -u)" = "\"$2\"" ]
then ok; else bad "--org kept other agencies"; fi
n=$(cut -d, -f1 "$D/sp/decisions_by_agency.csv" | sort -u | wc -l)
[ "$n" -gt 3 ] && ok || bad "--period month gave $n periods"

# --- a decision counts as amended: a new review date takes it off the
# overdue list, as the rules judge it (the recount above checks corrected
# fields in the counts)
python3 - "$D/d.jsonl" "$D/am.jsonl" <<'PY'
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
d = [r for r in rs if r["record_type"] == "decision" and "review_due_at" in r][0]
a = [r for r in rs if r["record_type"] == "amendment"][0]
out = []
for n in (1, 2):
    x = dict(d, decision_id="AM-%d" % n, record_id="01JGHXRZ60XAXZMYHJYS97RBZ%d" % n)
    out.append(x)
out.append(dict(a, decision_id="AM-1", record_id="01JGHXRZ60XAXZMYHJYS97RBZ9",
                refers_to_record_id=out[0]["record_id"],
                organisation_id=d["organisation_id"],
                amendment_reason="Review moved after the strategy meeting.",
                review_due_at="2099-01-01T00:00:00Z"))
with open(sys.argv[2], "w") as f:
    for r in out:
        f.write(json.dumps(r) + "\n")
PY
expect 0 "$SD" init --store "$D/am" --origin rep.test/am
expect 0 "$SD" append --store "$D/am" "$D/am.jsonl"
expect 0 "$SR" pack "$D/am" --out "$D/amp" --unsuppressed
ro="$D/amp/review_overdue_UNSUPPRESSED.csv"
if grep -q '^"AM-2",.*"review"' "$ro"; then ok; else bad "AM-2 not overdue"; fi
if grep -q '^"AM-1",.*"review"' "$ro"; then bad "AM-1 overdue though amended"; else ok; fi
# V26 (follow-up dates) sees the same
"$SV" "$D/am" --completeness --csv > "$D/amc.csv"
if grep -q '"AM-2","[^"]*","V26","warning","review_due_at"' "$D/amc.csv" &&
	! grep -q '"AM-1","[^"]*","V26","warning","review_due_at"' "$D/amc.csv"
then ok; else bad "completeness and review_overdue disagree"; cat "$D/amc.csv"; fi

# --- formula injection: client values are neutralised
expect 0 "$SR" pack "$S" --out "$D/inj" --area '=HYPERLINK("http://x")'
has "$D/inj/decisions_by_agency.csv" "\"'=HYPERLINK(\"\"http://x\"\")\""

# --- bad input changes nothing and says why
expect 2 "$SR" pack "$S"
expect 2 "$SR" pack "$S" --out "$D/x" --period weekly
has "$D/err" "--period"
expect 2 "$SR" pack "$S" --out "$D/x" --from 2026-13-01
has "$D/err" "--from"
expect 2 "$SR" pack "$S" --out "$D/x" --checkpoint 7
has "$D/err" "no signed checkpoint of size 7"
expect 2 "$SR" pack "$S" --out "$D/x" --k 1
has "$D/err" "k must be at least 2"
[ -e "$D/x" ] && bad "a failed pack left $D/x" || ok
expect 2 "$SR" pack "$S" --out "$D/sp"
has "$D/err" "already exists"
cp -r "$D/b" "$D/tb"
sed -i '5s/"share"/"shaRe"/' "$D/tb/entries.jsonl"
expect 1 "$SR" pack "$D/tb" --out "$D/x"
has "$D/err" "does not verify"
[ -e "$D/x" ] && bad "a pack from a bad log" || ok

# --- trails: amendments and reconsiderations in, proofs independently checked
sed -n '/<!-- verify-trail.py begins -->/,/<!-- verify-trail.py ends -->/p' \
	docs/FORMAT.md | sed '1,2d;$d' | sed '$d' > "$D/verify-trail.py"
child=$(python3 - "$D/d.jsonl" <<'PY'
import collections, json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
types = collections.defaultdict(set)
child = {}
for r in recs:
    if "child_id" in r:
        child[r["decision_id"]] = r["child_id"]
for r in recs:
    types[r["decision_id"]].add(r["record_type"])
best = [d for d in types if len(types[d]) > 1 and d in child]
print(child[best[0]])
PY
)
expect 0 "$SR" trail "$S" --subject "$child" --key "$S.keys/pseudonym.key" --out "$D/t.csv"
has "$D/err" "decision threads"
rows=$(($(wc -l < "$D/t.csv") - 1))
[ "$rows" -ge 2 ] && ok || bad "trail of $child has $rows rows"
if cut -d, -f5 "$D/t.csv" | grep -qv '"decision"\|record_type'; then ok; else
	bad "trail has no follow-up records"; fi
hasnt "$D/t.csv" "$child"
expect 0 python3 "$D/verify-trail.py" "$D/t.csv" "$D/b/checkpoint" "$S.keys/log.vkey" "$D/b/entries.jsonl"
has "$D/out" "OK $rows rows"
expect 0 "$SR" trail "$D/b" --subject "$child" --key "$S.keys/pseudonym.key" --out "$D/tb.csv"
if cmp -s "$D/t.csv" "$D/tb.csv"; then ok; else bad "store and bundle trails differ"; fi
# the child id on standard input (out of sight of ps): the same trail
printf '%s\n' "$child" | "$SR" trail "$S" --subject - --key "$S.keys/pseudonym.key" --out "$D/ts.csv" 2>"$D/err"
if cmp -s "$D/t.csv" "$D/ts.csv"; then ok; else bad "--subject - trail differs"; cat "$D/err"; fi
expect 2 "$SR" trail "$S" --subject - --key "$S.keys/pseudonym.key" </dev/null
has "$D/err" "no child id on standard input"
# a copy without its derived tables (as read-only after a restart of the
# machine): the same trail, worked out from the entries; verify says so
cp -r "$S" "$D/nodv" && rm -rf "$D/nodv/derived"
expect 0 "$SR" trail "$D/nodv" --subject "$child" --key "$S.keys/pseudonym.key" --out "$D/tn.csv"
if cmp -s "$D/t.csv" "$D/tn.csv"; then ok; else bad "trail without derived tables differs"; fi
expect 0 "$SV" "$D/nodv"
has "$D/out" "derived tables"
# a proof hash changed: the script says so
python3 - "$D/t.csv" "$D/tbad.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
p = rows[1][-1].split()
p[0] = ("0" if p[0][0] != "0" else "1") + p[0][1:]
rows[1][-1] = " ".join(p)
csv.writer(open(sys.argv[2], "w", newline=""), quoting=csv.QUOTE_ALL,
           lineterminator="\r\n").writerows(rows)
PY
expect 1 python3 "$D/verify-trail.py" "$D/tbad.csv" "$D/b/checkpoint" "$S.keys/log.vkey"
has "$D/out" "does not lead to the checkpoint's root"
# by case; nobody; bad usage
set -- $(head -1 "$D/d.jsonl" | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["case_ref"], r["record_id"])')
expect 0 "$SR" trail "$S" --case "$1"
has "$D/out" "\"$2\""
expect 0 "$SR" trail "$S" --subject NOBODY --key "$S.keys/pseudonym.key"
has "$D/err" "trail: 0 entries"
expect 2 "$SR" trail "$S" --subject X
expect 2 "$SR" trail "$S"

finish
