#!/bin/sh
# Integration tests of `sharelogd import`: a spreadsheet's CSV through a
# column mapping (tests/data/import/mapping.json). Good files import once
# and again without duplicates; every kind of bad row, bad header, bad
# CSV and bad mapping is named and stores nothing; imported records are
# marked, pseudonymised, judged by the rules (not as late), and appear in
# trails. Ends with "N passed, N failed".
set -u
NAME=import
. tests/lib.sh

SD="$BIN/sharelogd"
SV="$BIN/sharelog-verify"
SR="$BIN/sharelog-report"
I=tests/data/import
S="$D/store"
M="$I/mapping.json"

# the number of entries in the store, through an export
size() {
	rm -rf "$D/x"
	"$SD" export --store "$S" "$D/x" >/dev/null 2>&1
	wc -l <"$D/x/entries.jsonl" | tr -d ' '
}
# refused, and the store holds what it held before
refused() {
	before=$(size)
	expect 1 "$SD" import --store "$S" "$@"
	has "$D/err" "nothing was stored"
	after=$(size)
	[ "$before" = "$after" ] && ok || bad "store grew $before -> $after on a refused import"
}

expect 0 "$SD" init --store "$S" --origin test.example/import

# --- a good file: imported, marked, pseudonymised, local times kept
expect 0 "$SD" import --store "$S" --mapping "$M" "$I/good.csv"
has "$D/out" "imported 2 row(s): 2 record(s) appended"
[ "$(size)" = 3 ] && ok || bad "store does not hold genesis + 2"
E="$D/x/entries.jsonl"
n=$(grep -c '"imported_from":"school-dsl-spreadsheet-2019-2024"' "$E")
[ "$n" = 2 ] && ok || bad "$n records marked imported_from"
hasnt "$E" "LA881-000111"          # the raw child id never reaches the log
has "$E" '"child_ref":"'
has "$E" '"decided_at":"2023-07-03T09:30:00+01:00"'   # BST
has "$E" '"decided_at":"2024-01-12T14:05:00+00:00"'   # GMT
has "$E" '"advice_from":["dsl","manager_supervisor"]'
has "$E" '"recipients":[{"agency_type":"mash","org":"LA-881-MASH"}]'
hasnt "$E" "HYPERLINK"             # a column mapped to null is left out
has "$E" '"record_id":"'
expect 0 "$SV" "$D/x"
# importing the same file again adds nothing (record ids are derived)
expect 0 "$SD" import --store "$S" --mapping "$M" "$I/good.csv"
has "$D/out" "0 record(s) appended, 2 already in the log"
[ "$(size)" = 3 ] && ok || bad "a second import added entries"

# --- the same file as Excel writes "CSV UTF-8": BOM, CRLF, blank rows
printf '\357\273\277' >"$D/excel.csv"
sed 's/$/\r/' "$I/good.csv" | sed 's/D-IMP-000/D-XL-000/' >>"$D/excel.csv"
printf ',,,,,,,,,,,,,,,,,,,,,,,,,,\r\n' >>"$D/excel.csv"
expect 0 "$SD" import --store "$S" --mapping "$M" "$D/excel.csv"
has "$D/out" "imported 2 row(s): 2 record(s) appended"

# --- every kind of bad row, each named by row and column; nothing stored
python3 - "$I/good.csv" "$D/bad.csv" <<'EOF'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline='')))
head, base = rows[0], rows[1]
def row(ref, change={}):
    r = list(base)
    r[head.index('Ref')] = ref
    for k, v in change.items():
        r[head.index(k)] = v
    return r
out = [head,
    row('D-BAD-02', {'Shared?': 'Maybe'}),
    row('D-BAD-03', {'Date decided': '31/04/2023 10:00'}),
    row('D-BAD-04', {'Advice?': 'Perhaps'}),
    row(''),
    base[:5],
    row('D-BAD-07', {'Reasons': '\udcff broken'}),
    row('D-BAD-08', {'Categories': 'health;astrology'}),
    row('D-GOOD-09'),
    row('D-BAD-10', {'Shared with (agency)': 'spaceforce'}),
    row('D-BAD-11', {'Date decided': 'yesterday', 'Advice?': '2'}),
    row('D-BAD-12', {'Reasons': 'x' * 10001}),
    row('D-BAD-13', {'Age band': '6_9'}),
]
with open(sys.argv[2], 'w', newline='', encoding='utf-8',
          errors='surrogateescape') as f:
    csv.writer(f).writerows(out)
EOF
refused --mapping "$M" "$D/bad.csv"
has "$D/err" 'row 2, column "Shared?": field /decision: not one of: share, not_share, partial'
has "$D/err" 'row 3, column "Date decided": field /decided_at: not a date-time in the form DD/MM/YYYY hh:mm'
has "$D/err" 'row 4, column "Advice?": field /advice_sought: "Perhaps" is not yes or no'
has "$D/err" 'row 5, column "Ref": field /decision_id: required'
has "$D/err" 'row 6: 5 cells, but the header has 27 columns'
has "$D/err" 'row 7, column "Reasons": not UTF-8 text'
has "$D/err" 'row 8, column "Categories": field /info_categories/1'
has "$D/err" 'row 10, column "Shared with (agency)": field /recipients/0/agency_type: not one of'
has "$D/err" 'row 11, column "Date decided": field /decided_at: not a date-time'
has "$D/err" 'row 11, column "Advice?": field /advice_sought: "2" is not yes or no'
has "$D/err" 'row 12, column "Reasons": field /rationale'
has "$D/err" 'row 13, column "Age band": field /child_age_band: not one of'
has "$D/err" "11 of 12 rows refused"
hasnt "$D/err" "row 9"              # the good row is not reported
n=$(grep -c '^row ' "$D/err")
[ "$n" = 12 ] && ok || bad "$n row errors, expected 12 (two in row 11)"

# --- --check: the same verdicts, and nothing stored, bad file or good
before=$(size)
expect 1 "$SD" import --store "$S" --mapping "$M" --check "$D/bad.csv"
has "$D/err" "11 of 12 rows refused; nothing was stored"
has "$D/err" 'row 3, column "Date decided": field /decided_at'
sed 's/D-IMP-000/D-CHK-000/' "$I/good.csv" >"$D/chk.csv"
expect 0 "$SD" import --store "$S" --mapping "$M" --check "$D/chk.csv"
has "$D/out" "checked 2 row(s): none refused; 2 would be new entries, 0 already in the log; nothing was stored"
[ "$(size)" = "$before" ] && ok || bad "import --check stored entries"
# ... and against the log: the rows imported already are seen as such,
# and a row that changes an imported record is the conflict the import
# itself would refuse, named by its row
expect 0 "$SD" import --store "$S" --mapping "$M" --check "$I/good.csv"
has "$D/out" "checked 2 row(s): none refused; 0 would be new entries, 2 already in the log"
sed '3s/did not meet the threshold/fell short of the threshold/' "$I/good.csv" >"$D/chg.csv"
cmp -s "$D/chg.csv" "$I/good.csv" && bad "the test row was not changed"
expect 1 "$SD" import --store "$S" --mapping "$M" --check "$D/chg.csv"
has "$D/err" "row 3"
[ "$(size)" = "$before" ] && ok || bad "import --check stored entries"
# a dry run of a command that stores nothing to begin with is refused
expect 2 "$SD" export --store "$S" --check "$D/exp"
has "$D/err" "usage:"

# a row repeated in the file: the second is a second decision of one id
{ cat "$I/good.csv"; sed -n 2p "$I/good.csv" | sed 's/,Yes,referral/,No,referral/'; } >"$D/dup.csv"
sed -i 's/D-IMP-000/D-DUP-000/' "$D/dup.csv"
before=$(size)
expect 1 "$SD" import --store "$S" --mapping "$M" "$D/dup.csv"
has "$D/err" "row 4"
[ "$(size)" = "$before" ] && ok || bad "a conflicting import stored rows"

# another organisation than the one importing
sed 's/D-IMP-000/D-AS-000/' "$I/good.csv" >"$D/as.csv"
refused --mapping "$M" --as URN-999999 "$D/as.csv"
has "$D/err" 'row 2: field /organisation_id: the record claims another organisation'
has "$D/err" 'row 3: field /organisation_id'

# --- the header: unmapped, missing and repeated columns, all named
sed '1s/,Notes for staff$/,Notes for staff,Extra/; 2,$s/$/,x/' "$I/good.csv" >"$D/h1.csv"
refused --mapping "$M" "$D/h1.csv"
has "$D/err" 'column "Extra" is not in the mapping'
sed '1s/Case no,/Case number,/' "$I/good.csv" >"$D/h2.csv"
refused --mapping "$M" "$D/h2.csv"
has "$D/err" 'column "Case number" is not in the mapping'
has "$D/err" "the mapping's column \"Case no\" is not in the file's header"
sed '1s/Notes for staff$/Ref/' "$I/good.csv" >"$D/h3.csv"
refused --mapping "$M" "$D/h3.csv"
has "$D/err" 'column "Ref" appears twice in the header'
# a name with a line break and a terminal escape inside its quotes: still
# one line a refusal, the control characters shown as \xNN; a long name
# cut (found by tests/fuzz/fuzz_import)
long=$(printf 'L%.0s' $(seq 1 300))
{ printf '"Bad\nname\033[31m","%s",' "$long"; sed -n 1p "$I/good.csv"
  sed -n '2,$s/^/x,y,/p' "$I/good.csv"; } >"$D/h4.csv"
refused --mapping "$M" "$D/h4.csv"
has "$D/err" 'row 1: column "Bad\x0aname\x1b[31m" is not in the mapping'
has "$D/err" "row 1: column \"$(printf 'L%.0s' $(seq 1 60))...\" is not"
n=$(grep -vc '^row \|^sharelogd import: ' "$D/err")
[ "$n" = 0 ] && ok || bad "$n lines of the refusal are not a row's"

# --- malformed CSV, an empty file, a cell past the limit
{ head -2 "$I/good.csv"; sed -n 3p "$I/good.csv" | sed 's/^D-IMP-0002,/D-Q-1,"unclosed /'; } >"$D/q.csv"
refused --mapping "$M" "$D/q.csv"
has "$D/err" "malformed CSV"
: >"$D/empty.csv"
refused --mapping "$M" "$D/empty.csv"
has "$D/err" "the file is empty"
python3 - "$I/good.csv" "$D/big.csv" <<'EOF'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline='')))
rows[1][rows[0].index('Reasons')] = 'y' * 70000
csv.writer(open(sys.argv[2], 'w', newline='')).writerows(rows[:2])
EOF
refused --mapping "$M" "$D/big.csv"
has "$D/err" "row 2: a cell too long"

# --- bad mappings, named before the store is touched
mapping() {
	python3 - "$M" "$D/m.json" "$1" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(m, open(sys.argv[2], 'w'))
EOF
	refused --mapping "$D/m.json" "$I/good.csv"
	has "$D/err" "$2"
}
mapping "m['columns']['Ref'] = 'decision_ref'" '"decision_ref" is not a field of the record'
mapping "m['columns']['Ref'] = 'child_ref'" '"child_ref" is set by the service'
mapping "m['columns']['Ref'] = 'imported_from'" '"imported_from" is set by the service'
mapping "m['columns']['Case no'] = 'decision_id'" 'fill the same field'
mapping "m['constants']['decision_id'] = 'X'" 'is both a constant and column "Ref"'
mapping "m['date_format'] = 'MM-YYYY'" 'date_format "MM-YYYY"'
mapping "m['timezone'] = 'Europe/Paris'" '"timezone" is "Europe/London"'
mapping "m['colour'] = 'blue'" 'unknown key "colour"'
mapping "m['delimiter'] = '\\n'" '"delimiter" must be one character'
mapping "m['list_separator'] = '; '" '"list_separator" must be one character'
mapping "del m['source']" '"source" names where the rows come from'
mapping "m['columns']['Shared with (org)'] = 'recipients/0/email'" 'a recipient has agency_type'
mapping "m['columns']['Shared with (org)'] = 'recipients/64/org'" "the recipient's index"
mapping "m['columns']['Shared?'] = {'field': 'decision', 'values': {'Yes': 1}}" 'maps to neither a string nor true/false'
mapping "m['columns']['Ref'] = 7" 'column "Ref": give a field name'
mapping "m['mapping_version'] = '2'" '"mapping_version" must be "1"'
printf '{"mapping_version": "1", "mapping_version": "1"}' >"$D/m.json"
refused --mapping "$D/m.json" "$I/good.csv"
has "$D/err" "duplicate"
expect 2 "$SD" import --store "$S" "$I/good.csv"
expect 2 "$SD" import --store "$S" --mapping "$D/none.json" "$I/good.csv"

# --- a semicolon-separated file, UTC dates, recipients in two columns sets
python3 - "$M" "$D/semi.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
m['delimiter'] = ';'
m['list_separator'] = '|'
m['timezone'] = 'UTC'
m['columns']['Date decided'] = {'field': 'decided_at', 'date_format': 'YYYY-MM-DD hh:mm'}
json.dump(m, open(sys.argv[2], 'w'))
EOF
sed -e '2,$s/dsl; manager_supervisor/dsl| manager_supervisor/' \
    -e '2,$s/domestic_abuse;education/domestic_abuse|education/' \
    -e '2,$s#03/07/2023 09:30#2023-07-03 09:30#; 2,$s#12/01/2024 14:05#2024-01-12 14:05#' \
    -e 's/D-IMP-000/D-SEMI-000/' "$I/good.csv" |
python3 -c "
import csv, sys
w = csv.writer(sys.stdout, delimiter=';')
for r in csv.reader(sys.stdin): w.writerow(r)" >"$D/semi.csv"
expect 0 "$SD" import --store "$S" --mapping "$D/semi.json" "$D/semi.csv"
has "$D/out" "2 record(s) appended"
size >/dev/null
has "$E" '"decided_at":"2023-07-03T09:30:00Z","deciding_agency_type":"school","decision":"share","decision_id":"D-SEMI-0001"'

# --- timeliness leaves imported records out of hours-to-record
expect 0 "$SR" pack "$S" --out "$D/pack" --unsuppressed --period all
has "$D/pack/timeliness_UNSUPPRESSED.csv" '"school","child_in_need","3","z","z","z","0.8"'

# --- the rules: an imported record is not "recorded late"; a live one is
expect 3 "$SV" "$S" --completeness --csv
hasnt "$D/out" "D-IMP-0001,URN-118832,V19"
grep '"D-IMP-0001"' "$E" | python3 -c "
import json, sys
r = json.loads(sys.stdin.readline())['record']
for k in ('imported_from', 'child_ref', 'record_id'): r.pop(k)
r['child_id'] = 'LA881-000111'; r['decision_id'] = 'D-LIVE-0001'
r['record_id'] = '01JGFJJZ00TZWF057J6W0ZMDSH'
print(json.dumps(r))" >"$D/live.jsonl"
expect 0 "$SD" append --store "$S" "$D/live.jsonl"
expect 3 "$SV" "$S" --completeness --csv
has "$D/out" "D-LIVE-0001"
if grep "D-LIVE-0001" "$D/out" | grep -q V19; then ok; else bad "a late live record not flagged V19"; fi
if grep "D-IMP-0001" "$D/out" | grep -q V19; then bad "an imported record flagged V19"; else ok; fi

# --- an imported child's trail, found by the raw id and the key
expect 0 "$SR" trail "$S" --subject LA881-000111 --key "$S.keys/pseudonym.key" --out "$D/t.csv"
has "$D/t.csv" "D-IMP-0001"
has "$D/t.csv" "D-LIVE-0001"
hasnt "$D/t.csv" "D-IMP-0002"
expect 0 "$SV" "$S"

finish
