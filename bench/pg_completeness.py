#!/usr/bin/env python3
"""The PostgreSQL peer of issue 4: a completeness policy (the JSON file
sharelog-verify reads) translated into one SQL query over the peer's table
decisions(seq, body jsonb, recorded_at, prev_hash, hash).

It judges what sharelog-verify --completeness judges, the same way:
each record on its own; a decision or reconsideration again with what its
thread's amendments, outcomes and inform_updates added (identity fields never
taken from a follow-up); follow-ups whose refers_to_record_id names nothing
earlier in the thread; follow_up dates passed and not answered; texts
repeated by one practitioner; grace and escalation periods (hours or
working days, the policy's holidays); entries recorded after --as-of left
out. The result is what --csv-summary prints: findings per organisation,
rule and severity (and the decisions with a finding).

    pg_completeness.py --policy verify/default-policy.json \\
        --schema formats/schema.c --as-of 2026-11-22T12:00:00Z > q.sql

The enumerations come from formats/schema.c (the one field table).
"""
import argparse
import json
import re
import sys

# Fields a follow-up never lends to its decision (verify/completeness.c,
# init_overlay), with their _text companions.
FIXED = ["schema_version", "record_id", "record_type", "decision_id",
         "refers_to_record_id", "decided_at", "organisation_id",
         "practitioner_id", "practitioner_role", "practitioner_role_text",
         "case_ref", "child_ref", "child_id", "signature", "amendment_reason",
         "outcome_type", "new_information_summary"]
JUDGED = ("decision", "reconsideration")
OVERLAY = ("amendment", "outcome", "inform_update")


def schema_fields(path):
    """name -> (type, values or None, other_text flag)"""
    s = open(path).read()
    arrays = {}
    for m in re.finditer(r'static const char \*const (\w+)\[\] = \{(.*?)\};',
                         s, re.S):
        arrays[m.group(1)] = re.findall(r'"([^"]*)"', m.group(2))
    tab = s[s.index('static const struct sl_field fields[]'):]
    out = {}
    for m in re.finditer(r'\{ "(\w+)",\s*(SL_FT_\w+),\s*(NULL|\w+|E\([^()]*\)),'
                         r'\s*(SL_REQ_\w+),\s*([^,]+),\s*([^,]+),', tab, re.S):
        name, ft, vals, _req, _rt, flags = m.groups()
        if vals.startswith('E('):
            v = re.findall(r'"([^"]*)"', vals)
        elif vals == 'NULL':
            v = None
        else:
            v = arrays[vals]
        out[name] = (ft[6:].lower(), v, 'OTHER_TEXT' in flags)
    if len(out) < 40:
        sys.exit("pg_completeness: cannot read the field table of " + path)
    return out


def q(s):
    return "'" + s.replace("'", "''") + "'"


class Gen:
    def __init__(self, policy, fields, as_of):
        self.p = policy
        self.f = fields
        self.as_of = "timestamptz " + q(as_of)

    def ftype(self, name):
        return self.f[name][0] if name in self.f else None

    def ts(self, name, b):
        if name == "recorded_at":
            return "recorded_at"
        return "(%s->>%s)::timestamptz" % (b, q(name))

    def in_expr(self, name, vals, b):
        """the value of field name is one of vals (an array: one of its
        elements is)"""
        if self.ftype(name) == "enumset":
            return "(%s->%s ?| array[%s])" % (
                b, q(name), ",".join(q(v) for v in vals if isinstance(v, str)))
        strs = [v for v in vals if isinstance(v, str)]
        bools = [v for v in vals if isinstance(v, bool)]
        parts = []
        if strs:
            parts.append("%s->>%s IN (%s)" % (b, q(name),
                                             ",".join(q(v) for v in strs)))
        for v in bools:
            parts.append("%s->%s = '%s'::jsonb" % (b, q(name),
                                                  "true" if v else "false"))
        return "(" + " OR ".join(parts) + ")"

    def cond(self, c, b):
        parts = []
        for k, v in c.items():
            if k in ("any", "all"):
                sub = [self.cond(x, b) for x in v]
                parts.append("(" + (" OR " if k == "any" else " AND ").join(
                    sub) + ")")
            elif k == "not":
                parts.append("NOT " + self.cond(v, b))
            elif k == "recorded_at":
                parts.append("false")
            elif k == "record_type":
                parts.append("%s->>'record_type' IN (%s)" % (
                    b, ",".join(q(x) for x in v)))
            elif isinstance(v, list):
                parts.append("coalesce(%s, false)" % self.in_expr(k, v, b))
            elif isinstance(v, bool):
                parts.append("%s->%s = '%s'::jsonb" % (
                    b, q(k), "true" if v else "false"))
            elif "not_in" in v:
                parts.append("(%s ? %s AND NOT coalesce(%s, false))" % (
                    b, q(k), self.in_expr(k, v["not_in"], b)))
            elif "present" in v:
                parts.append("%ssl_present(%s->%s)" % (
                    "" if v["present"] else "NOT ", b, q(k)))
        return "(" + (" AND ".join(parts) if parts else "true") + ")"

    def fails(self, r, b):
        """(field, SQL that is true when requirement r is not met)"""
        if isinstance(r, str):
            r = {"field": r}
        f = r["field"]
        if "in" in r:
            if f == "recorded_at":
                return f, "true"
            return f, "NOT coalesce(%s, false)" % self.in_expr(f, r["in"], b)
        if "not_in" in r:
            if f == "recorded_at":
                return f, "false"
            return f, "(%s ? %s AND coalesce(%s, false))" % (
                b, q(f), self.in_expr(f, r["not_in"], b))
        for k, op in (("not_before", "<"), ("not_after", ">")):
            if k in r:
                o = r[k]
                other = ("timestamptz " + q(o + "T00:00:00Z")
                         if re.match(r"^\d{4}-\d\d-\d\d$", o)
                         else self.ts(o, b))
                return f, "coalesce(%s %s %s, false)" % (self.ts(f, b), op,
                                                         other)
        if "within_hours" in r:
            w = r["within_hours"]
            return f, "coalesce(%s - %s > interval '%d hours', false)" % (
                self.ts(f, b), self.ts(w["of"], b), w["hours"])
        if f == "recorded_at":
            return f, "false"
        x = "%s->%s" % (b, q(f))
        parts = ["NOT sl_present(%s)" % x]
        if r.get("min_length"):
            parts.append("char_length(btrim(%s #>> '{}', E' \\t\\n\\r')) < %d"
                         % (x, r["min_length"]))
        if r.get("not_placeholder"):
            parts.append("sl_folded(%s) IN (%s)" % (
                x, ",".join(q(p.lower().rstrip(". ")) for p in
                            self.p.get("placeholders", []))))
        return f, "(" + " OR ".join(parts) + ")"

    def span_end(self, s, b):
        frm = self.ts(s["from"], b)
        if s.get("working_days"):
            return "sl_wd_end(%s, %d, %d)" % (frm, s["working_days"],
                                              s.get("hours", 0))
        return "%s + interval '%d hours'" % (frm, s.get("hours", 0))

    def span_at(self, s, b):
        if s.get("at"):
            return "coalesce(%s, %s)" % (self.ts(s["at"], b), self.as_of)
        return self.as_of

    def types_of(self, r):
        """the record types rule r is for (its when's record_type), or
        None for any"""
        return r.get("when", {}).get("record_type")

    def rule_hits(self, r, b):
        """(rule, severity, hit) SQL triples of a requirement rule"""
        sev = q(r["severity"])
        where = [self.cond(r["when"], b)] if "when" in r else []
        if "grace" in r:
            g = r["grace"]
            where.append("%s >= %s" % (self.span_at(g, b),
                                        self.span_end(g, b)))
        if "escalate" in r:
            e = r["escalate"]
            sev = "CASE WHEN %s >= %s THEN %s ELSE %s END" % (
                self.span_at(e, b), self.span_end(e, b), q(e["severity"]),
                sev)
        if r.get("check") == "enumerations":
            bad = []
            for name, (ft, vals, other) in self.f.items():
                if ft not in ("enum", "enumset", "bool"):
                    continue
                x = "%s->%s" % (b, q(name))
                if ft == "bool":
                    bad.append("(%s ? %s AND jsonb_typeof(%s) <> 'boolean')"
                               % (b, q(name), x))
                    continue
                lst = ",".join(q(v) for v in vals)
                if ft == "enum":
                    bad.append("(%s ? %s AND NOT coalesce(%s->>%s IN (%s), "
                               "false))" % (b, q(name), b, q(name), lst))
                    if other:
                        bad.append("(%s->>%s = 'other' AND NOT sl_present("
                                   "%s->%s))" % (b, q(name), b,
                                                 q(name + "_text")))
                else:
                    bad.append("(%s ? %s AND EXISTS (SELECT 1 FROM "
                               "jsonb_array_elements_text(%s) e(v) WHERE "
                               "e.v NOT IN (%s)))" % (b, q(name), x, lst))
                    if other:
                        bad.append("(%s ? 'other' AND NOT sl_present(%s->%s))"
                                   % (x, b, q(name + "_text")))
            return [(q(r["id"]), sev, " AND ".join(
                where + ["(" + " OR ".join(bad) + ")"]))]
        out = []
        for req in r.get("require", []):
            _f, fail = self.fails(req, b)
            out.append((q(r["id"]), sev, " AND ".join(where + [fail])))
        return out

    def one_pass(self, src, hits):
        """every rule over src in one scan: a row per finding"""
        vals = ",\n    ".join("(%s, %s, %s)" % h for h in hits)
        return ("SELECT s.seq, s.org, v.rule, v.severity FROM %s s "
                "CROSS JOIN LATERAL (VALUES\n    %s) v(rule, severity, hit) "
                "WHERE v.hit" % (src, vals))

    def query(self):
        holidays = ",".join("date " + q(h) for h in self.p.get("holidays", []))
        fixed = "array[%s]" % ",".join(q(x) for x in FIXED)
        pre = """
CREATE OR REPLACE FUNCTION sl_present(x jsonb) RETURNS boolean
IMMUTABLE PARALLEL SAFE LANGUAGE sql AS $$
  SELECT CASE jsonb_typeof(x)
    WHEN 'string' THEN btrim(x #>> '{}', E' \\t\\n\\r') <> ''
    WHEN 'array' THEN jsonb_array_length(x) > 0
    WHEN 'null' THEN false
    ELSE x IS NOT NULL END $$;
CREATE OR REPLACE FUNCTION sl_folded(x jsonb) RETURNS text
IMMUTABLE PARALLEL SAFE LANGUAGE sql AS $$
  SELECT rtrim(lower(btrim(translate(x #>> '{}', E'\\n\\t\\r\\b\\f', '     '),
    ' ')), '. ') $$;
CREATE OR REPLACE FUNCTION sl_wd_end(f timestamptz, n int, h int)
RETURNS timestamptz IMMUTABLE PARALLEL SAFE LANGUAGE plpgsql AS $$
DECLARE d date := (f AT TIME ZONE 'UTC')::date; k int := 0;
BEGIN
  WHILE k < n LOOP
    d := d + 1;
    IF extract(isodow FROM d) < 6 AND d <> ALL (array[%s]::date[]) THEN
      k := k + 1;
    END IF;
  END LOOP;
  RETURN ((d + 1)::timestamp AT TIME ZONE 'UTC') + make_interval(hours => h);
END $$;
DROP AGGREGATE IF EXISTS sl_merge(jsonb);
CREATE AGGREGATE sl_merge(jsonb) (SFUNC = jsonb_concat, STYPE = jsonb,
  INITCOND = '{}');
""" % holidays
        rules = self.p["rules"]
        alone, judged, parts = [], [], []
        self.answers = []
        for r in rules:
            chk = r.get("check", "require")
            types = self.types_of(r)
            if chk in ("require", "enumerations"):
                # follow-ups are judged alone; decisions with their thread
                if types is None or set(types) - set(JUDGED):
                    alone += self.rule_hits(r, "s.b")
                if types is None or set(types) & set(JUDGED):
                    judged += self.rule_hits(r, "s.b")
            elif chk == "follow_up":
                # answered: a record of those types later in the thread,
                # i.e. the thread's last such record comes after this one
                k = len(self.answers)
                self.answers.append(r["answered_by"])
                judged.append((q(r["id"]), q(r["severity"]),
                    "%s AND coalesce(%s < %s, false) AND coalesce(s.ans%d "
                    "<= s.seq, true)" % (
                        self.cond(r.get("when", {}), "s.b"),
                        self.ts(r["due"], "s.b"), self.as_of, k)))
            elif chk == "refers_to":
                parts.append(
                    "SELECT seq, org, %s, %s FROM own s WHERE rt <> "
                    "'decision' AND NOT EXISTS (SELECT 1 FROM links l "
                    "WHERE l.seq = s.seq) AND %s" % (
                        q(r["id"]), q(r["severity"]),
                        self.cond(r.get("when", {}), "s.b")))
            elif chk == "repeated_text":
                t, by = q(r["text"]), q(r["by"])
                parts.append("""SELECT seq, org, %s, %s FROM (
  SELECT seq, org, max(c) OVER (PARTITION BY pb, tx ORDER BY at
    RANGE BETWEEN CURRENT ROW AND interval '%d days' FOLLOWING) AS mc
  FROM (SELECT seq, org, s.b->>%s AS pb, s.b->%s AS tx,
      (s.b->>'decided_at')::timestamptz AS at,
      count(*) OVER (PARTITION BY s.b->>%s, s.b->%s
        ORDER BY (s.b->>'decided_at')::timestamptz
        RANGE BETWEEN interval '%d days' PRECEDING AND CURRENT ROW) AS c
    FROM own s WHERE judged_type AND %s AND sl_present(s.b->%s)
      AND s.b ? %s) w
) z WHERE mc >= %d""" % (q(r["id"]), q(r["severity"]), r["days"], by, t,
                        by, t, r["days"], self.cond(r.get("when", {}), "s.b"),
                        t, by, r["count"]))
        parts = [self.one_pass("alone", alone),
                 self.one_pass("judged", judged)] + parts
        body = """
WITH RECURSIVE
recs AS MATERIALIZED (
  SELECT seq, body AS b, recorded_at, body->>'record_type' AS rt,
    body->>'record_id' AS rid, body->>'refers_to_record_id' AS ref,
    body->>'decision_id' AS did, body->>'organisation_id' AS org,
    body->>'record_type' IN ('decision','reconsideration') AS judged_type
  FROM decisions WHERE recorded_at <= %(as_of)s),
firsts AS (SELECT DISTINCT ON (rid) rid, seq, rt, did FROM recs
  ORDER BY rid, seq),
links AS MATERIALIZED (SELECT f.seq, t.seq AS tseq,
    t.rt IN ('decision','reconsideration') AS tjudged
  FROM recs f JOIN firsts t ON t.rid = f.ref AND t.did = f.did
    AND t.seq < f.seq
  WHERE f.rt <> 'decision'),
roots(seq, root) AS (
  SELECT seq, tseq FROM links WHERE tjudged
  UNION ALL
  SELECT l.seq, r.root FROM links l JOIN roots r ON l.tseq = r.seq
  WHERE NOT l.tjudged),
own AS (SELECT r.*, o.root FROM recs r LEFT JOIN roots o USING (seq)),
adds AS (SELECT o.root, sl_merge(o.b - %(fixed)s ORDER BY o.seq) AS add
  FROM own o WHERE o.root IS NOT NULL AND o.rt IN ('amendment','outcome',
    'inform_update') GROUP BY o.root),
alone AS MATERIALIZED (SELECT o.seq, o.org, o.b, o.recorded_at FROM own o
  WHERE NOT o.judged_type),
%(ans)sjudged AS MATERIALIZED (SELECT o.seq, o.org, o.did, o.recorded_at,
    o.b || coalesce(a.add, '{}') AS b%(anscols)s
  FROM own o LEFT JOIN adds a ON a.root = o.seq%(ansjoin)s
  WHERE o.judged_type),
findings AS (
%(parts)s)
SELECT org AS organisation, rule, severity, count(*) AS findings,
  count(DISTINCT seq) AS decisions_with_finding
FROM findings GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
""" % {"as_of": self.as_of, "fixed": fixed,
       "ans": "".join(
           "ans%d AS (SELECT did, max(seq) AS m FROM recs WHERE rt IN (%s) "
           "GROUP BY did),\n" % (k, ",".join(q(t) for t in a))
           for k, a in enumerate(self.answers)),
       "anscols": "".join(", a%d.m AS ans%d" % (k, k)
                          for k in range(len(self.answers))),
       "ansjoin": "".join("\n  LEFT JOIN ans%d a%d ON a%d.did = o.did"
                          % (k, k, k) for k in range(len(self.answers))),
       "parts": "\nUNION ALL\n".join(parts)}
        return pre, body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--policy", required=True)
    ap.add_argument("--schema", required=True)
    ap.add_argument("--as-of", required=True)
    ap.add_argument("--setup", help="write the functions here")
    a = ap.parse_args()
    g = Gen(json.load(open(a.policy)), schema_fields(a.schema), a.as_of)
    pre, body = g.query()
    if a.setup:
        open(a.setup, "w").write(pre)
        sys.stdout.write(body)
    else:
        sys.stdout.write(pre + body)


if __name__ == "__main__":
    main()
