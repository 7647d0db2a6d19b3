#!/usr/bin/env python3
"""Deterministic synthetic information-sharing decisions, in sharelog's
record schema (formats/schema.c), as JSON Lines. Standard library only.

  gen_decisions.py -n 1000 --seed 42 [--orgs ORG,...] [-o FILE]

Realistic mix: about 65% share, 12% partial, 23% not_share; about 8% of
threads get a later amendment, reconsideration, outcome or inform_update;
rationales 200-600 characters; about 10% of decisions miss something the
guidance asks for (the completeness rules find them).
"""
import argparse
import datetime as dt
import json
import random
import sys

AGENCY = ["la_childrens_social_care", "mash", "police", "health_gp",
          "health_acute", "health_community", "health_mental_health",
          "school", "early_years", "probation", "youth_justice", "housing",
          "voluntary_sector"]
ORGS = {"police": "POL-ESX", "school": "URN-118832", "health_gp": "ODS-F81001",
        "la_childrens_social_care": "LA-881", "mash": "LA-881-MASH",
        "health_acute": "ODS-RAJ", "health_community": "ODS-RWN",
        "health_mental_health": "ODS-RRD", "early_years": "URN-EY4471",
        "probation": "PS-EOE", "youth_justice": "YOT-881", "housing": "LA-881-HSG",
        "voluntary_sector": "CHAR-1099"}
ROLES = ["frontline", "dsl", "designated_professional", "manager",
         "mash_officer", "clinician", "police_officer"]
PURPOSES = ["s47_enquiry", "referral_to_csc", "early_help",
            "child_in_need_assessment", "mash_enquiry", "strategy_discussion",
            "cp_conference_or_plan", "missing_or_exploitation",
            "prevent_or_detect_crime", "health_care", "education_welfare"]
CATS = ["identity_contact", "address_location", "health", "mental_health",
        "education", "social_care_history", "criminal_offence",
        "domestic_abuse", "substance_misuse"]
BASES = ["public_task_6_1_e", "legal_obligation_6_1_c", "vital_interests_6_1_d",
         "consent_6_1_a", "law_enforcement_part3"]
LE_AGENCIES = ("police", "probation", "youth_justice")   # DPA 2018 Part 3
WORDS = ("the child was seen at school with unexplained bruising and the parent "
         "declined to explain concerns were raised by the health visitor about "
         "neglect and missed appointments the referral was discussed at the multi "
         "agency hub and a strategy discussion was convened information was shared "
         "because the risk of significant harm outweighed the duty of "
         "confidentiality proportionate necessary relevant accurate timely secure "
         "recorded decision reviewed by manager police hold intelligence relevant to "
         "the household domestic abuse incident reported last month school "
         "attendance has dropped sharply sibling subject to plan previously consent "
         "was not sought as it would prejudice the enquiry and place the child at "
         "risk").split()
CROCK = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
EPOCH = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)


def ulid(rng, ms):
    t = "".join(CROCK[(ms >> (5 * (9 - i))) & 31] for i in range(10))
    return t + "".join(rng.choice(CROCK) for _ in range(16))


def ts(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def text(rng, lo, hi):
    target = lo + int((hi - lo) * rng.random() ** 6)
    words, n = [], -1
    while n + 1 < target:
        w = rng.choice(WORDS)
        words.append(w)
        n += len(w) + 1
    s = " ".join(words)
    return s[0].upper() + s[1:] + "."


SEED = 0       # part of every decision_id, so runs with other seeds never collide
LEAN = False   # --lean: the shortest realistic records (about 700 bytes)


def decision(rng, i, t, orgs):
    agency = rng.choice(list(orgs))
    dec = rng.choices(["share", "partial", "not_share"], [65, 12, 23])[0]
    trig = rng.choices(["proactive_concern", "request_received",
                        "multi_agency_meeting", "statutory_enquiry"],
                       [40, 35, 15, 10])[0]
    consent = rng.choices(["given", "refused", "not_sought", "unable_to_obtain"],
                          [35, 10, 45, 10])[0]
    fam = rng.choices(["informed_before", "informed_after", "will_inform_later",
                       "not_informed", "not_applicable"], [40, 15, 15, 25, 5])[0]
    sharing = dec != "not_share"
    incomplete = rng.random() < 0.10
    ms = int(t.timestamp() * 1000)
    r = {
        "schema_version": "1",
        "record_id": ulid(rng, ms),
        "record_type": "decision",
        "decision_id": "D-%s-%d-%07d" % (orgs[agency], SEED, i),
        "decided_at": ts(t),
        "organisation_id": orgs[agency],
        "deciding_agency_type": agency,
        "practitioner_id": "P-%05d" % rng.randrange(4000),
        "practitioner_role": rng.choice(ROLES),
        "case_ref": "C-%06d" % rng.randrange(300000),
        "child_id": "LA881-%06d" % rng.randrange(60000),
        "child_age_band": rng.choice(["0_4", "5_9", "10_15", "16_17"]),
        "trigger": trig,
        "harm_threshold": rng.choices(["wellbeing_concern", "child_in_need",
                                       "suspected_significant_harm",
                                       "immediate_risk"], [30, 35, 27, 8])[0],
        "decision": dec,
        "purpose": rng.choice(PURPOSES),
        "special_category": rng.random() < 0.4,
        "criminal_offence_data": rng.random() < 0.2,
        "consent_status": consent,
        "family_informed": fam,
        "advice_sought": rng.random() < (0.2 if LEAN else 0.55),
        "identities_at_risk": rng.random() < 0.12,
        "rationale": text(rng, 45, 120) if LEAN else text(rng, 200, 600),
    }
    if LEAN and trig == "request_received":
        trig = r["trigger"] = "proactive_concern"
    if trig == "request_received":
        req = rng.choice([a for a in AGENCY if a != agency])
        r.update(requester_agency_type=req, requester_org=ORGS.get(req, "ORG-X"),
                 requester_role="duty social worker",
                 request_received_at=ts(t - dt.timedelta(hours=rng.randrange(1, 72))),
                 information_requested="School attendance and any welfare concerns")
    # A complete record carries what the completeness rules (policy V01-V26)
    # ask for in its situation; the "incomplete" tenth below drops some.
    if consent == "given":
        r["consent_from"] = rng.choice(["parent_carer", "child_competent"])
    if sharing:
        rec = rng.sample([a for a in AGENCY if a != agency],
                         1 if LEAN else rng.randint(1, 3))
        r.update(information_shared="Summary of concerns" if LEAN else
                 "Attendance record and summary of concerns",
                 info_categories=rng.sample(CATS, 1 if LEAN else rng.randint(1, 3)),
                 recipients=[{"agency_type": a, "org": ORGS[a]} if LEAN else
                             {"agency_type": a, "org": ORGS[a], "role": "duty team"}
                             for a in rec],
                 shared_at=ts(t + dt.timedelta(minutes=rng.randrange(5, 600))),
                 method=rng.choice(["secure_email", "secure_portal", "case_system",
                                    "phone", "multi_agency_meeting"]),
                 lawful_basis=rng.choice(BASES if agency in LE_AGENCIES
                                         else BASES[:-1]),
                 necessity_statement="Needed to assess risk." if LEAN else
                 "Needed by the recipient to assess risk; only "
                 "the minimum relevant to the concern was shared.")
        if r["lawful_basis"] == "consent_6_1_a" and consent != "given":
            r["lawful_basis"] = "public_task_6_1_e"
        if r["special_category"] or r["criminal_offence_data"]:
            if consent == "given":
                r["sc_condition"] = "art9_2_a_explicit_consent"
            else:
                r["sc_condition"] = "sch1_p18_safeguarding"
                r["sch_consent_reason"] = "would_prejudice_protection"
        if r["method"] in ("phone", "in_person"):
            r["written_confirmation_at"] = ts(t + dt.timedelta(hours=12))
        if consent in ("refused", "withdrawn"):
            r["consent_override_reason"] = (
                "Risk of significant harm outweighs the refusal.")
    if not sharing or consent != "given":
        r.update(prop_risk_level=rng.choice(["moderate", "significant", "severe"]),
                 prop_imminence=rng.choice(["days", "weeks", "immediate"]),
                 prop_safety_gain="Safer if shared." if LEAN else
                 "The child is safer if the recipient knows of the concern.",
                 prop_relationship_impact="Low." if LEAN else
                 "Some strain with the parent; manageable.",
                 prop_could_wait="No." if LEAN else
                 "It could not wait for the next meeting.")
    if (dec == "not_share" and r["harm_threshold"] in (
            "suspected_significant_harm", "immediate_risk")) or (
            sharing and consent in ("refused", "withdrawn")):
        r["advice_sought"] = rng.random() < 0.95
    if r["child_age_band"] in ("10_15", "16_17") and \
            r["harm_threshold"] != "immediate_risk" and rng.random() < 0.95:
        r["views_child"] = "Wants school to know." if LEAN else \
            "Said they want their teacher to know what happened."
    if trig == "request_received" and dec == "not_share":
        r["refusal_communicated_at"] = ts(t + dt.timedelta(hours=2))
    if dec != "share":
        r["information_withheld"] = "Health history not relevant to the request"
    if consent == "not_sought":
        r["consent_not_sought_reason"] = rng.choice(
            ["risk_of_harm_to_child", "would_prejudice_investigation", "urgency"])
    if fam in ("not_informed", "will_inform_later"):
        r["not_informed_reason"] = rng.choice(
            ["risk_of_harm_to_child", "undermine_serious_crime_investigation",
             "carer_may_react_violently"])
        if fam == "will_inform_later":
            r["inform_due_at"] = ts(t + dt.timedelta(days=rng.randrange(1, 14)))
    if r["advice_sought"]:
        r["advice_from"] = rng.sample(["manager_supervisor", "dsl",
                                       "designated_professional", "dpo_ig_lead"],
                                      rng.randint(1, 2))
        r["advice_summary"] = "Advised that sharing is proportionate to the risk."
    if r["identities_at_risk"]:
        r["identity_protection"] = "Address of the non-abusing parent redacted."
    if dec == "not_share" and r["harm_threshold"] != "wellbeing_concern":
        r["review_due_at"] = ts(t + dt.timedelta(days=28))
    if incomplete:
        for k in rng.sample(["lawful_basis", "not_informed_reason", "shared_at",
                             "information_withheld", "advice_summary"], 1):
            r.pop(k, None)
        if rng.random() < 0.5:
            r["rationale"] = "See notes."
    return r


def follow_up(rng, first, t, i, orgs):
    kind = rng.choices(["amendment", "reconsideration", "outcome",
                        "inform_update"], [35, 15, 35, 15])[0]
    ms = int(t.timestamp() * 1000)
    if kind == "reconsideration":
        # a new decision on the same request: complete in itself
        r = decision(rng, i, t, {first["deciding_agency_type"]:
                                 first["organisation_id"]})
        r.update({k: first[k] for k in ("decision_id", "practitioner_id",
                                         "case_ref", "child_id")})
        r.update(record_type=kind, refers_to_record_id=first["record_id"],
                 new_information_summary="Police disclosed a new incident "
                 "at the address.")
        return r
    r = {k: first[k] for k in ("schema_version", "decision_id", "organisation_id",
                               "practitioner_id", "case_ref", "child_id")}
    r.update(record_id=ulid(rng, ms), record_type=kind, decided_at=ts(t),
             refers_to_record_id=first["record_id"],
             practitioner_role=first["practitioner_role"])
    if kind == "amendment":
        r["amendment_reason"] = "Lawful basis was omitted when first recorded."
        r["lawful_basis"] = "public_task_6_1_e"
    elif kind == "outcome":
        r["outcome_type"] = rng.choice(["nfa", "early_help", "csc_assessment",
                                        "s47_started", "cp_plan"])
    else:
        r["family_informed"] = "informed_after"
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=1000, help="number of records")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--orgs", help="comma-separated organisation ids to use only")
    ap.add_argument("--lean", action="store_true",
                    help="shortest realistic records (about 700 bytes)")
    ap.add_argument("--start", help="first decided_at (ISO 8601, default "
                    "2025-01-01T00:00:00Z)")
    ap.add_argument("--span-hours", type=float, default=365 * 24,
                    help="decisions are spread over this many hours")
    ap.add_argument("-o", "--output", default="-")
    a = ap.parse_args()
    global LEAN, SEED
    LEAN = a.lean
    SEED = a.seed
    rng = random.Random(a.seed)
    orgs = dict(ORGS)
    if a.orgs:
        keep = set(a.orgs.split(","))
        orgs = {k: v for k, v in ORGS.items() if v in keep}
    out = sys.stdout if a.output == "-" else open(a.output, "w", encoding="utf-8")
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    recent, buf = [], []
    global EPOCH
    if a.start:
        EPOCH = dt.datetime.fromisoformat(a.start.replace("Z", "+00:00"))
    span = a.span_hours * 3600 / max(a.n, 1)
    i = 0
    while i < a.n:
        t = EPOCH + dt.timedelta(seconds=i * span)
        if recent and rng.random() < 0.08:
            r = follow_up(rng, rng.choice(recent), t, i, orgs)
        else:
            r = decision(rng, i, t, orgs)
            recent.append(r)
            if len(recent) > 200:
                recent.pop(0)
        buf.append(dumps(r))
        i += 1
        if len(buf) >= 10000:
            out.write("\n".join(buf) + "\n")
            buf.clear()
    if buf:
        out.write("\n".join(buf) + "\n")
    if out is not sys.stdout:
        out.close()


if __name__ == "__main__":
    main()
