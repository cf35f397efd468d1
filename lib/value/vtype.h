/* vtype.h -- Go-shaped type descriptors: what a method expects, and what a gob stream declared.
 *
 * Services describe their argument and reply types with static vtypes; the gob
 * decoder and the type inferrer build dynamic ones inside a typeset, which owns
 * them. vtype_coerce turns any decoded value into a value of a wanted type, with
 * Go's lenient rules (struct fields matched by name, missing fields zero). */
#ifndef WB_VTYPE_H
#define WB_VTYPE_H

#include <stddef.h>

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

/* Returns a new value of type t made from v (caller owns it), or NULL with a reason
 * in err such as `field "B": want int, got string`. */
value *vtype_coerce(const vtype *t, const value *v, char *err, size_t errlen);
/* The zero value of t, as Go would have it; NULL when memory ran out. */
value *vtype_zero(const vtype *t);
/* Writes Go's spelling of t ("int", "[]string", "struct { A int; B int }" or its name)
 * into out; returns out. */
char *vtype_describe(const vtype *t, char *out, size_t n);

#endif
