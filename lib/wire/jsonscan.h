/* jsonscan.h -- a validating JSON tokenizer that finds where one value ends in a byte stream.
 *
 * JSON-RPC over TCP has no length prefix: a message ends where its JSON value ends.
 * jsonscan finds that point without building a tree, tells "incomplete" apart from
 * "malformed", and reports each token's offset, which the explainer and the exact
 * integer reader need (cJSON builds the tree itself). A scan that ran out of bytes can
 * resume where it stopped when more arrive (jsonscan_resume), so a message that comes
 * in many small reads is examined once, not once per read. */
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

/* Where a scan stopped for want of bytes; private to jsonscan but for `examined`. */
typedef struct jsonscan_state {
    size_t i;          /* the next byte to look at */
    size_t start;      /* where the value begins (after white space) */
    size_t tok;        /* where the token in progress begins */
    size_t examined;   /* bytes looked at by every call since jsonscan_init: a measure of work */
    int phase, sub;    /* what is expected next, and where inside a string or number */
    int depth;         /* containers open */
    unsigned char obj[JSONSCAN_MAX_DEPTH]; /* for each open container: 1 object, 0 array */
} jsonscan_state;

/* Starts a scan at the first byte of a stream. */
void jsonscan_init(jsonscan_state *st);

/* jsonscan over a stream that grows between calls: p[0..n) must begin with the bytes every
 * earlier call since jsonscan_init was given (only appended to), and fn sees each token
 * once, in the call that completes it. Returns as jsonscan does. After 1 or -1 the state is
 * spent: jsonscan_init it before the next value. Each call looks at the bytes after where
 * the last one stopped (and at most the 5 before it, for a word such as "false" cut short),
 * so a value that arrives in k pieces costs its length, plus 5k, in examined bytes. */
int jsonscan_resume(jsonscan_state *st, const char *p, size_t n, int flags, size_t *start,
                    size_t *end, jtok_fn fn, void *ctx, char *err, size_t errlen);

#endif
