/* gob_int.h -- what the pieces of the gob module share: Go's predefined type ids, the
 * per-stream table of wire types (gob_type.c), the walker's reading primitives
 * (gob_read.c, below both) and the walker that decodes and explains one message
 * (gob_walk.c). Only gob_*.c include it. */
#ifndef WB_GOB_INT_H
#define WB_GOB_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/gob.h"

/* Go's predefined type ids. */
enum { ID_BOOL = 1, ID_INT, ID_UINT, ID_FLOAT, ID_BYTES, ID_STRING, ID_COMPLEX, ID_IFACE };
#define FIRST_USER_ID 64 /* ids below this belong to gob itself */

/* A signed gob integer from the unsigned one it is sent as: the low bit says whether to
 * complement the rest. */
static inline int64_t unzigzag(uint64_t x)
{
    return (x & 1) ? (int64_t) ~(x >> 1) : (int64_t)(x >> 1);
}

/* A float64 travels as its IEEE bits with the bytes reversed; this turns either way. */
static inline uint64_t reverse_bytes(uint64_t x)
{
    uint64_t r = 0;
    for (int i = 0; i < 8; i++, x >>= 8)
        r = (r << 8) | (x & 0xff);
    return r;
}

/* Sums and products that stop at SIZE_MAX instead of wrapping. */
static inline size_t sat_add(size_t a, size_t b) { return a > SIZE_MAX - b ? SIZE_MAX : a + b; }
static inline size_t sat_mul(size_t a, size_t b)
{
    return b && a > SIZE_MAX / b ? SIZE_MAX : a * b;
}

/* ---- the per-stream type table (gob_type.c) ---- */

enum wkind {
    W_BOOL = 1, W_INT, W_UINT, W_FLOAT, W_BYTES, W_STRING, W_COMPLEX, W_IFACE, /* = their ids */
    W_ARRAY, W_SLICE, W_STRUCT, W_MAP, W_GOBENC, W_BINARY, W_TEXT,
};

typedef struct wtype wtype;

typedef struct wfield {
    char *name;
    int32_t id;
    wtype *t;         /* linked by gob_type_resolve */
    size_t zero_cost; /* parts of this field's zero value, as the struct's vtype sees it */
} wfield;

/* A type as the peer described it. */
struct wtype {
    enum wkind kind;
    int32_t id;
    const char *name; /* "" when it has none */
    int32_t elem_id, key_id;
    int64_t len;
    wfield *fields;
    size_t nfields;
    wtype *elem, *key;    /* linked by gob_type_resolve */
    uint64_t stamp;       /* gob_type_resolve's visit mark */
    unsigned defined_msg; /* explainer: which message defined it */
    const vtype *vt;      /* built on demand, owned by the decoder's typeset */
    bool vt_busy;
    int vt_depth;
    size_t zero_cost;
};

struct gob_dec {
    size_t max_message;
    wtype **types; /* sorted by id */
    size_t ntypes, cap;
    size_t type_bytes;
    typeset *ts;
    uint64_t stamp;
};

/* The type with this id: a predefined one or one the stream defined; NULL when none. */
wtype *gob_type_lookup(const gob_dec *d, int64_t id);
/* Go's spelling of t into out (n bytes): its name, or "[]string", "map[string]int"...;
 * depth is how far the spelling has already nested (0 at the top). Returns out. */
char *gob_type_name(const gob_dec *d, const wtype *t, char *out, size_t n, int depth);
/* Links every type reachable from t. Returns 0, or -1 with err naming the first type id
 * used but never defined. */
int gob_type_resolve(gob_dec *d, wtype *t, char *err, size_t errlen);
/* The vtype of a resolved t (built once, then kept). A type that refers back to one still
 * being built (a recursive type) sees it as T_ANY, and *back says that happened to t
 * itself. Returns NULL with err when t cannot be represented (complex numbers, nesting
 * deeper than the vtypes allow, a zero value too large, repeated field names...). */
const vtype *gob_type_build(gob_dec *d, wtype *t, int depth, bool *back, char *err,
                            size_t errlen);

/* ---- reading one message (gob_read.c) ---- */

/* Walks one message, decoding (build) and/or explaining (ex) it. */
typedef struct walk {
    gob_dec *d;
    const uint8_t *p; /* the message, length prefix included */
    size_t pos, end;  /* next byte; end of the current (sub)range */
    bool build;
    size_t budget; /* value parts still allowed */
    explain *ex;
    size_t base;      /* offset of p in the explained capture */
    int depth;        /* span depth of the next leaf */
    size_t covered;   /* bytes before this are explained */
    int32_t defining; /* id of the type being defined, if any */
    unsigned *told;   /* explaining: which encodings were already spelled out in full */
    char path[192];
    char *err;
    size_t errlen;
    bool failed;
} walk;

/* Marks the walk failed and says why in w->err (only the first failure is kept).
 * Returns -1. */
int gob_walk_fail(walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records a leaf span for w->p[start..w->pos) with the given class and words. Called
 * through leaf(), which skips formatting the words altogether when only decoding. */
void gob_walk_leaf(walk *w, size_t start, span_class cls, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define leaf(w, ...)                                                                       \
    do {                                                                                   \
        if ((w)->ex)                                                                       \
            gob_walk_leaf(w, __VA_ARGS__);                                                 \
    } while (0)

/* Opens a container span at w->pos, one level deeper; gob_walk_close sets its length.
 * Returns the span's index, or -1 (also when only decoding, through open_box()). */
int gob_walk_open(walk *w, span_class cls, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define open_box(w, ...) ((w)->ex ? gob_walk_open(w, __VA_ARGS__) : -1)
/* Closes the container idx opened by open_box: after a failure it ends where the
 * explained bytes end, and goes when it is empty. */
void gob_walk_close(walk *w, int idx);

/* Reads a gob uint into *x; what names it in the error. Returns 0 or -1. */
int gob_walk_uint(walk *w, uint64_t *x, const char *what);
/* Reads a length or count that must fit in the bytes left. Returns 0 or -1. */
int gob_walk_count(walk *w, uint64_t *n, const char *what);

/* The bytes of the uint at w->p[start..w->pos) in words, into out (n bytes): "0x07", or
 * the first time on the stream "0xfe 0x01 0x2c: 0xfe = -2, so a 2-byte big-endian
 * number follows". Returns out. */
char *gob_uint_words(const walk *w, size_t start, char *out, size_t n);
/* The same for a signed one whose unsigned form is x, saying how zigzag decodes it the
 * first time. Returns out. */
char *gob_zigzag_words(const walk *w, size_t start, uint64_t x, char *out, size_t n);

/* ---- the walker (gob_walk.c) ---- */

/* Decodes (w->build) and/or explains (w->ex) the value in the rest of w's message, of
 * type id; *out and *type (may be NULL) receive the value and its vtype when building.
 * Returns 0, or -1 with the reason in w->err. */
int gob_walk_value(walk *w, int64_t id, value **out, const vtype **type);

/* ---- reading a type definition (gob_type.c) ---- */

/* Reads the type definition in the rest of w's message for id -neg_id into the table;
 * *out (may be NULL) receives the new type. Returns 0, or -1 with the reason in w->err. */
int gob_type_define(walk *w, int64_t neg_id, wtype **out);

#endif
