/*
 * schema: the decision record (reference/domain.md section 8a, with the
 * DESIGN.md changes) as ONE table of data.
 *
 * Each row: field name, type, enumeration, how it is required and for
 * which record types, and the completeness rules (section 8b) that govern
 * it. sl_schema_validate() does the structural part (types, enumerations,
 * unknown fields, the fields without which a record cannot be placed) and
 * refuses; the completeness issue reads the same rows for the rest.
 */
#ifndef SL_SCHEMA_H
#define SL_SCHEMA_H

#include <jansson.h>
#include <stddef.h>

#include "formats/err.h"

#define SL_SCHEMA_VERSION "1"

/* Client record types (the entry "type" of a client submission). */
enum sl_rtype {
	SL_RT_DECISION = 1 << 0,
	SL_RT_AMENDMENT = 1 << 1,
	SL_RT_RECONSIDERATION = 1 << 2,
	SL_RT_OUTCOME = 1 << 3,
	SL_RT_INFORM_UPDATE = 1 << 4
};
#define SL_RT_ALL 0x1f
#define SL_RT_DR (SL_RT_DECISION | SL_RT_RECONSIDERATION)

enum sl_ftype {
	SL_FT_ID,         /* identifier or short label: 1..128 printable */
	SL_FT_RECORD_ID,  /* ULID (26 Crockford base32) or UUID text */
	SL_FT_TEXT,       /* free text, up to SL_SCHEMA_TEXT_MAX bytes */
	SL_FT_ENUM,
	SL_FT_ENUMSET,    /* array of distinct enumeration values */
	SL_FT_BOOL,
	SL_FT_DATETIME,   /* RFC 3339 with zone */
	SL_FT_RECIPIENTS, /* array of {agency_type, org, role} */
	SL_FT_VERSION,    /* exactly SL_SCHEMA_VERSION */
	SL_FT_SIGNATURE   /* base64 of a 64-byte Ed25519 signature */
};

enum sl_freq {
	SL_REQ_STRUCT,    /* missing = refused: the record cannot be placed */
	SL_REQ_ALWAYS,    /* "R": required, reported by completeness */
	SL_REQ_COND,      /* "C": required when its rules say so */
	SL_REQ_OPT        /* "O" */
};

/* Flags. */
#define SL_F_OTHER_TEXT 0x01  /* value "other" is explained in <name>_text */
#define SL_F_INPUT_ONLY 0x02  /* sent by clients, never stored (child_id) */
#define SL_F_SERVICE 0x04     /* set by the service; clients may not send */

struct sl_field {
	const char *name;
	enum sl_ftype type;
	const char *const *values;  /* NULL-terminated, for enums */
	enum sl_freq req;
	unsigned types;             /* record types the requirement covers */
	unsigned flags;
	const char *rules;          /* completeness rules, "V03,V12" */
	const char *note;
};

#define SL_SCHEMA_TEXT_MAX 10000
#define SL_SCHEMA_ID_MAX 128
#define SL_SCHEMA_RECIPIENTS_MAX 64

/** The table, and its length in *n. */
const struct sl_field *sl_schema_fields(size_t *n);

/** The row named @name, or NULL. */
const struct sl_field *sl_schema_find(const char *name);

/** For "<field>_text", the row of <field> when its value "other" is
 *  explained in such a companion; otherwise NULL. */
const struct sl_field *sl_schema_find_other_text(const char *name);

/** 1 when @key is a key of a recipient object (agency_type, ...). */
int sl_schema_recipient_key(const char *key);

/**
 * 1 when s[0..n) (a string value, decoded) is a valid value of a field
 * of string type @t (@values: an SL_FT_ENUM's enumeration), as
 * sl_schema_validate() judges it; 0 otherwise, and for other types.
 */
int sl_schema_string_ok(enum sl_ftype t, const char *const *values,
    const char *s, size_t n);

/** The SL_RT_* bit of a client record type name, or 0. */
unsigned sl_schema_rtype(const char *name);

/**
 * Structural validation of one client record. @base is the JSON pointer
 * prefix of the record in its submission ("" or "/3"). Refuses unknown
 * fields, wrong types, values outside the enumerations, malformed ids and
 * date-times, and missing SL_REQ_STRUCT fields; @e names the field (a
 * JSON pointer) and the rule. Never echoes free text back.
 */
int sl_schema_validate(const json_t *rec, const char *base, struct sl_err *e);

/**
 * Check one value @v against the type and enumeration of the field
 * @name, as sl_schema_validate() would inside a record (service fields
 * included); @ptr names it in the error.
 */
int sl_schema_check(const char *name, const json_t *v, const char *ptr,
    struct sl_err *e);

#endif
