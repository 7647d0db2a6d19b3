/*
 * policy: the rationale-completeness rules (reference/domain.md section
 * 8b) as data, and the small engine that applies them to one record.
 *
 * A policy is a JSON file (verify/default-policy.json is the shipped
 * default, compiled into the programs; docs/COMPLETENESS.md describes the
 * language). Each rule has an id ("V03"), a severity, a condition saying
 * which records it applies to ("when"), what it requires ("require", or a
 * built-in "check" that needs the whole log), and the sentence of
 * guidance or law it comes from. Several rules may share an id: they are
 * the parts of one guidance rule.
 *
 * sl_policy_eval() judges one record view on its own; the checks that
 * need the thread or the log (refers_to, follow_up, repeated_text) are
 * listed by sl_policy_rule() and applied by verify/completeness.c and by
 * the service.
 */
#ifndef SL_POLICY_H
#define SL_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "formats/err.h"
#include "formats/hash.h"
#include "formats/record.h"

#define SL_POLICY_MAX_RULES 128
#define SL_POLICY_MAX_BYTES (1 << 20)
#define SL_POLICY_MAX_REQUIRES 512   /* "require" items, all rules */
/* hits of one record: one per requirement, one per enumerations rule */
#define SL_POLICY_MAX_HITS (SL_POLICY_MAX_REQUIRES + SL_POLICY_MAX_RULES)

enum sl_sev { SL_SEV_WARNING = 1, SL_SEV_ERROR = 2 };

enum sl_check {
	SL_CHECK_REQUIRE,       /* the "require" list, judged by eval */
	SL_CHECK_ENUMERATIONS,  /* every enum in range, every other + _text */
	SL_CHECK_REFERS_TO,     /* thread: refers_to earlier, same thread */
	SL_CHECK_FOLLOW_UP,     /* thread: a due date passed without ... */
	SL_CHECK_REPEATED_TEXT  /* log: the same text again and again */
};

struct sl_policy;

/** What a rule says, for reports and answers (borrowed from @p). */
struct sl_policy_rule {
	const char *id;           /* "V03" */
	enum sl_sev severity;     /* before any escalation */
	enum sl_check check;
	const char *field;        /* the field a finding names */
	const char *guidance;     /* the sentence of guidance or law */
	/* id and guidance as JSON strings (quoted, escaped), made once for
	 * the service's answers, which name them for every finding */
	const char *id_json, *guidance_json;
	size_t id_json_len, guidance_json_len;
	/* SL_CHECK_FOLLOW_UP: due field index, record types (SL_RT_*) that
	 * answer it */
	int due_field;
	unsigned answered_by;
	/* SL_CHECK_REPEATED_TEXT: text field, grouped by field, count, days */
	int text_field;
	int by_field;
	unsigned count;
	unsigned days;
};

/**
 * Load a policy: @path, or the shipped default when @path is NULL.
 * @e names the rule and the key that is wrong. Free with sl_policy_free().
 */
int sl_policy_load(struct sl_policy **out, const char *path,
    struct sl_err *e);

/** Compile policy text (already read) named @name in messages. */
int sl_policy_parse(struct sl_policy **out, const char *text, size_t len,
    const char *name, struct sl_err *e);

void sl_policy_free(struct sl_policy *p);

/** The policy's name ("sharelog-default 1"), file ("(built in)") and
 *  SHA-256 of its bytes. */
const char *sl_policy_name(const struct sl_policy *p);
const char *sl_policy_file(const struct sl_policy *p);
const uint8_t *sl_policy_sha256(const struct sl_policy *p);

/** The shipped default, as bytes. */
const char *sl_policy_default_text(size_t *len);

size_t sl_policy_count(const struct sl_policy *p);
const struct sl_policy_rule *sl_policy_rule(const struct sl_policy *p,
    size_t i);

/** One rule's finding: which rule, at which severity (escalated or not),
 *  and the field it names (the rule's own, or the first one missing). */
struct sl_policy_hit {
	uint16_t rule;
	uint8_t severity;
	uint8_t pad;
	int16_t field;            /* schema index, -1 when none */
};

/** The time context of an evaluation. */
struct sl_policy_time {
	int64_t as_of_ms;         /* "now" for deadlines */
	int64_t recorded_ms;      /* the entry's recorded_at */
};

/**
 * Judge @v by every SL_CHECK_REQUIRE and SL_CHECK_ENUMERATIONS rule that
 * applies to it. Writes up to @cap hits, returns how many (never more
 * than sl_policy_count()).
 */
size_t sl_policy_eval(const struct sl_policy *p,
    const struct sl_record_view *v, const struct sl_policy_time *t,
    struct sl_policy_hit *hits, size_t cap);

/*
 * A hit as it stands whatever the as-of time: it counts from @due_ms on
 * (INT64_MIN: always) and has @esc_severity from @esc_ms on (INT64_MAX:
 * never), the rule's grace and escalation periods when they are judged
 * at the as-of time. What can be kept with a record and judged later.
 */
struct sl_policy_open_hit {
	struct sl_policy_hit hit;
	uint8_t esc_severity;
	int64_t due_ms;
	int64_t esc_ms;
};

/**
 * sl_policy_eval() without an as-of time: up to @cap open hits (at most
 * SL_POLICY_MAX_HITS), their number returned. sl_policy_eval() is this
 * with each hit taken at its as-of time (sl_policy_hit_at).
 */
size_t sl_policy_eval_open(const struct sl_policy *p,
    const struct sl_record_view *v, int64_t recorded_ms,
    struct sl_policy_open_hit *hits, size_t cap);

/** Open hit @h as of @as_of_ms into *out: 0 when not yet due. */
int sl_policy_hit_at(struct sl_policy_hit *out,
    const struct sl_policy_open_hit *h, int64_t as_of_ms);

/** 1 when rule @i's "when" condition holds for @v. */
int sl_policy_applies(const struct sl_policy *p, size_t i,
    const struct sl_record_view *v);

/** The name of schema field @idx (for hits), or "" when -1. */
const char *sl_policy_field_name(int idx);

#endif
