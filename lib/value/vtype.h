/* vtype.h -- Go-shaped type descriptors: what a method expects, and what a gob stream declared.
 *
 * Services describe their argument and reply types with static vtypes; the gob
 * decoder and the type inferrer build dynamic ones inside a typeset, which owns
 * them. vtype_coerce turns any decoded value into a value of a wanted type, with
 * Go's lenient rules (struct fields matched by name, missing fields zero). */
#ifndef WB_VTYPE_H
#define WB_VTYPE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"

#include "value/value.h"

typedef enum vtype_kind {
    T_BOOL,
    T_INT,    /* Go int/int64: value V_INT */
    T_UINT,   /* Go uint/uint64: value V_UINT */
    T_FLOAT,  /* Go float64: value V_FLOAT */
    T_STRING, /* V_STRING */
    T_BYTES,  /* Go []byte: V_BYTES */
    T_SLICE,  /* V_LIST of elem */
    T_ARRAY,  /* V_LIST of exactly len elem */
    T_MAP,    /* V_MAP of key -> elem */
    T_STRUCT, /* V_STRUCT with every field, in order */
    T_ANY,    /* anything; coercion copies the value as it is */
} vtype_kind;

typedef struct vtype vtype;

typedef struct vtype_field {
    const char *name;
    const vtype *type;
} vtype_field;

struct vtype {
    vtype_kind kind;
    const char *name; /* Go's name: "int", "Args"; NULL or "" for an unnamed composite */
    const vtype *elem; /* SLICE, ARRAY, MAP */
    const vtype *key;  /* MAP */
    size_t len;        /* ARRAY */
    const vtype_field *fields; /* STRUCT */
    size_t nfields;
    bool ptr;           /* Go's *T: gob sends T itself, and a nil one (V_NULL) not at all */
    unsigned char bits; /* INT, UINT, FLOAT: 8, 16 or 32 for Go's narrower types; 0 is 64 */
};

extern const vtype vtype_bool, vtype_int, vtype_uint, vtype_float, vtype_string, vtype_bytes,
    vtype_any;

/* An arena that owns dynamically built types and their names. */
typedef struct typeset typeset;
typeset *typeset_new(void);
/* Frees every type made in the set. Accepts NULL. */
void typeset_free(typeset *ts);
/* Zeroed memory owned by the set; NULL when memory ran out. */
void *typeset_alloc(typeset *ts, size_t n);
char *typeset_strdup(typeset *ts, const char *s);

/* Guesses the Go type a value would have in a Go program: integers are int, objects
 * are structs with the same fields, lists are slices of their first item's type.
 * Returns a type owned by ts, or NULL with a reason in err (e.g. for null). */
const vtype *vtype_infer(typeset *ts, const value *v, char *err, size_t errlen);

/* Like vtype_infer, for an argument a learner wrote as JSON for a Go program's gob:
 * object keys Go would not export ("name") become the exported field names Go matches
 * ("Name"), each renaming noted once in notes (may be NULL) as a line of text; a
 * field whose value is an empty list is left out of the struct (the receiver keeps its
 * zero value, as it would for an empty list); the items of a list must all have one
 * type. Errors name the field: `Score: the items of a list must have one Go type...`. */
const vtype *vtype_infer_json(typeset *ts, const value *v, buf *notes, char *err, size_t errlen);
/* Whether a and b are the same Go type (same kinds, names, fields, element types). */
bool vtype_same(const vtype *a, const vtype *b);

/* Reads a short Go-like type line, the one vtype_spell writes: "int32", "[]string",
 * "map[string]int", "*People", "Student{Name string, P People{Weight int}, Score []int}"
 * (a struct type is named where it is first spelled out and then used by name; fields
 * may be separated by ',' or ';'; "struct { A int }" and "{A int}" are unnamed).
 * Returns a type owned by ts, or NULL with a reason in err naming where the line goes
 * wrong. */
const vtype *vtype_parse(typeset *ts, const char *text, char *err, size_t errlen);
/* Writes t as vtype_parse reads it into out (n bytes): struct types spelled out in full
 * the first time, by name afterwards. Returns out. */
char *vtype_spell(const vtype *t, char *out, size_t n);

/* Returns a new value of type t made from v (caller owns it), or NULL with a reason
 * in err such as `field "B": want int, got string`. */
value *vtype_coerce(const vtype *t, const value *v, char *err, size_t errlen);
/* The zero value of t, as Go would have it; NULL when memory ran out. */
value *vtype_zero(const vtype *t);
/* Writes Go's spelling of t ("int", "[]string", "struct { A int; B int }" or its name)
 * into out; returns out. */
char *vtype_describe(const vtype *t, char *out, size_t n);

#endif
