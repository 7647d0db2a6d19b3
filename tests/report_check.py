#!/usr/bin/env python3
"""Independent check of a sharelog report pack, standard library only.

  report_check.py BUNDLE INTERNAL_PACK PUBLISHED_PACK K

From the bundle's entries it recounts four reports (decisions_by_agency,
consent_profile, lawful_basis_usage, advice_sought) and requires the
internal pack's counts to be exactly these; then it requires every count
of the published pack to be either the internal count or "c", and every
shown count to be 0 or more than K. Prints OK or FAILED: ..."""
import collections, csv, json, sys

def fail(msg):
    print("FAILED: " + msg)
    sys.exit(1)

bundle, internal, published, k = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
# A decision is counted as it stands with the amendments, outcomes and
# inform_updates of its thread (each refers to an earlier record of the
# same decision_id, perhaps another follow-up): their fields laid over the
# decision's in log order, except those that identify a record.
FIXED = {"schema_version", "record_id", "record_type", "decision_id",
         "refers_to_record_id", "decided_at", "organisation_id",
         "practitioner_id", "practitioner_role", "case_ref", "child_ref",
         "child_id", "signature", "amendment_reason", "outcome_type",
         "new_information_summary"}
JUDGED = ("decision", "reconsideration")
recs = []
by_id, root_of = {}, {}
for line in open(bundle + "/entries.jsonl", encoding="utf-8"):
    e = json.loads(line)
    r = e["record"]
    if e["type"] not in JUDGED + ("amendment", "outcome", "inform_update"):
        continue
    to = by_id.get(r.get("refers_to_record_id"))
    by_id.setdefault(r.get("record_id"), r)
    if e["type"] == "decision":
        recs.append(r)
    if e["type"] == "decision" or to is None or \
            to.get("decision_id") != r.get("decision_id"):
        continue
    root = to if to["record_type"] in JUDGED else root_of.get(id(to))
    root_of[id(r)] = root
    if root is not None and e["type"] != "reconsideration":
        root.update({k: x for k, x in r.items() if k not in FIXED})

def v(r, f):
    return r.get(f, "not_recorded")

def dcol(r):
    d = r.get("decision")
    return d if d in ("share", "partial", "not_share") else "other"

def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))

want = {}
c = collections.Counter()
for r in recs:
    c[(v(r, "deciding_agency_type"), v(r, "trigger"), dcol(r))] += 1
want["decisions_by_agency"] = c
c = collections.Counter()
for r in recs:
    c[(v(r, "deciding_agency_type"), v(r, "consent_status"),
       v(r, "consent_not_sought_reason"), v(r, "decision"))] += 1
want["consent_profile"] = c
c = collections.Counter()
for r in recs:
    if dcol(r) in ("share", "partial"):
        c[(v(r, "deciding_agency_type"), v(r, "lawful_basis"),
           v(r, "rli_condition"), v(r, "sc_condition"))] += 1
want["lawful_basis_usage"] = c
c = collections.Counter()
for r in recs:
    adv = r.get("advice_from") or ([] if r.get("advice_sought") is not False else ["none"])
    for a in adv or ["not_recorded"]:
        c[(v(r, "deciding_agency_type"), a, v(r, "decision"))] += 1
want["advice_sought"] = c

def got_counts(name, rows):
    c = collections.Counter()
    for row in rows:
        if name == "decisions_by_agency":
            for col in ("share", "partial", "not_share", "other"):
                n = int(row[col + "_n"])
                if n:
                    c[(row["deciding_agency_type"], row["trigger"], col)] += n
        else:
            keys = {"consent_profile": ("deciding_agency_type", "consent_status",
                                        "consent_not_sought_reason", "decision"),
                    "lawful_basis_usage": ("deciding_agency_type", "lawful_basis",
                                           "rli_condition", "sc_condition"),
                    "advice_sought": ("deciding_agency_type", "advice_from",
                                      "decision")}[name]
            c[tuple(row[x] for x in keys)] += int(row["n"])
    return c

for name in want:
    rows = read("%s/%s_UNSUPPRESSED.csv" % (internal, name))
    if got_counts(name, rows) != want[name]:
        fail(name + ": the internal pack's counts differ from a recount")

# the published pack: same rows, counts either exact or c, none 1..k
count_cols = lambda h: [x for x in h if x == "n" or x.endswith("_n") or
                        x in ("decisions_total", "records_checked")]
hidden = 0
for name in ("decisions_by_agency", "flows_matrix", "not_share_reasons",
             "consent_profile", "family_not_informed", "lawful_basis_usage",
             "timeliness", "advice_sought", "completeness"):
    pub = read("%s/%s.csv" % (published, name))
    full = read("%s/%s_UNSUPPRESSED.csv" % (internal, name))
    fullkeys = {}
    for row in full:
        key = tuple(row[x] for x in row if x not in count_cols(row) and
                    not x.startswith(("median", "p90", "pct", "share_pct",
                                      "records_error")))
        fullkeys[key] = row
    for row in pub:
        key = tuple(row[x] for x in row if x not in count_cols(row) and
                    not x.startswith(("median", "p90", "pct", "share_pct",
                                      "records_error")))
        if key not in fullkeys:
            # a zero cell suppressed to protect another is listed too
            if any(row[c] not in ("c", "0") for c in count_cols(row)):
                fail("%s: published row %s is not in the internal pack"
                     % (name, key))
            continue
        for col in count_cols(row):
            x = row[col]
            if x == "c":
                hidden += 1
                continue
            if x != fullkeys[key][col]:
                fail("%s %s %s: published %s, exact %s" % (name, key, col, x,
                                                         fullkeys[key][col]))
            if 1 <= int(x) <= k:
                fail("%s %s %s: %s is shown though 1..%d" % (name, key, col, x, k))
print("OK %d decisions recounted; %d published counts suppressed, none "
      "shown in 1..%d" % (len(recs), hidden, k))
