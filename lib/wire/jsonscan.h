/* jsonscan.h -- a validating JSON tokenizer that finds where one value ends in a byte stream.
 *
 * JSON-RPC over TCP has no length prefix: a message ends where its JSON value ends.
 * jsonscan finds that point without building a tree, tells "incomplete" apart from
 * "malformed", and reports each token's offset, which the explainer and the exact
 * integer reader need (cJSON builds the tree itself). */
#ifndef WB_JSONSCAN_H
#define WB_JSONSCAN_H

#include <stddef.h>

typedef enum jtok_type {
    JT_OBJ_BEGIN, JT_OBJ_END, JT_ARR_BEGIN, JT_ARR_END,
    JT_KEY, JT_STRING, JT_NUMBER, JT_TRUE, JT_FALSE, JT_NULL,
} jtok_type;

typedef struct jtok {
    jtok_type type;
    size_t off, len; /* for JT_KEY and JT_STRING the quotes are included */
    int depth;       /* 0 for the top-level value; a key has the depth of its object's members */
} jtok;

/* Called for each token in document order; returning non-zero stops the scan (result -1). */
typedef int (*jtok_fn)(const jtok *t, void *ctx);

enum { JSONSCAN_MAX_DEPTH = 128 };

/* jsonscan flags: the input is all there is, so a number may end at the last byte
 * and a truncated value is malformed rather than incomplete. */
#define JSONSCAN_FINAL 1

/* Scans one JSON value from p[0..n), skipping leading white space.
 * Returns 1 when a whole value was found (*start and *end delimit it), 0 when more
 * bytes are needed, -1 when the bytes are not JSON (*end is where the fault is and
 * err says what is wrong). fn may be NULL. */
int jsonscan(const char *p, size_t n, int flags, size_t *start, size_t *end, jtok_fn fn, void *ctx,
             char *err, size_t errlen);

#endif
