/* value.h -- the neutral value that codecs produce and services consume.
 *
 * A value is a tree. Integers are kept exact as int64 or uint64; strings and byte
 * strings carry their length and are also NUL-terminated for convenience. Every
 * container owns its children: value_free releases the whole tree. */
#ifndef WB_VALUE_H
#define WB_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum value_kind {
    V_NULL,
    V_BOOL,
    V_INT,    /* int64 */
    V_UINT,   /* uint64 */
    V_FLOAT,  /* double */
    V_STRING, /* UTF-8 text */
    V_BYTES,  /* raw bytes */
    V_LIST,   /* ordered values */
    V_MAP,    /* key/value pairs in arrival order; keys are values */
    V_STRUCT, /* named fields in order; name is the type's name or NULL */
} value_kind;

typedef struct value value;

typedef struct value_pair {
    value *k, *v;
} value_pair;

typedef struct value_field {
    char *name;
    value *v;
} value_field;

struct value {
    value_kind kind;
    union {
        bool b;
        int64_t i;
        uint64_t u;
        double f;
        struct {
            char *p;
            size_t len;
        } s;
        struct {
            value **items;
            size_t len, cap;
        } list;
        struct {
            value_pair *items;
            size_t len, cap;
        } map;
        struct {
            char *name;
            value_field *fields;
            size_t len, cap;
        } st;
    } u;
};

/* Constructors return a new value owned by the caller, or NULL when memory ran out. */
value *value_null(void);
value *value_bool(bool b);
value *value_int(int64_t i);
value *value_uint(uint64_t u);
value *value_float(double f);
value *value_string(const char *p, size_t len);
value *value_cstring(const char *s);
value *value_bytes(const void *p, size_t len);
value *value_list(void);
value *value_map(void);
/* name may be NULL (an anonymous struct); it is copied. */
value *value_struct(const char *name);

/* The adders take ownership of their value arguments, even when they fail
 * (then the argument is freed). They return 0, or -1 when memory ran out. */
int value_list_push(value *list, value *item);
int value_map_put(value *map, value *k, value *v);
int value_struct_set(value *st, const char *name, value *v);

/* Field lookup in a struct, or string-keyed lookup in a map. Returns a borrowed
 * pointer or NULL. The _fold variant ignores ASCII case, as Go's encoding/json does. */
const value *value_get(const value *v, const char *name);
const value *value_get_fold(const value *v, const char *name);

/* Deep copy; NULL when memory ran out. */
value *value_clone(const value *v);
/* Structural equality (struct names are ignored). */
bool value_equal(const value *a, const value *b);
/* Releases the whole tree. Accepts NULL. */
void value_free(value *v);

/* A short English name for a kind: "int", "string", "object"... */
const char *value_kind_name(value_kind k);

#endif
