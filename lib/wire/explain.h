/* explain.h -- annotated byte spans, and their rendering as an explained hex dump.
 *
 * An explainer (gob, JSON-RPC, ...) walks captured bytes and records spans: which
 * bytes, at what nesting depth, of which class, in which protocol layer, meaning
 * what. The CLI renders them as text; the TUI draws the same spans. Spans are kept
 * in pre-order: a parent comes before the spans it contains. */
#ifndef WB_EXPLAIN_H
#define WB_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

/* What a byte is for, so byte totals can be split into framing and payload. */
typedef enum span_class {
    SPAN_FRAME, /* framing and envelope: lengths, headers, ids, method names */
    SPAN_TYPE,  /* self-description: gob type definitions, field tags, JSON keys */
    SPAN_DATA,  /* the argument or result values themselves */
    SPAN_ERROR, /* bytes that could not be decoded */
} span_class;

typedef struct span {
    size_t off, len;
    int depth;
    span_class cls;
    const char *layer; /* a static string: "gob", "rpc", "json", ... */
    char *meaning;     /* owned by the explain */
} span;

typedef struct explain {
    span *spans;
    size_t len, cap;
} explain;

void explain_init(explain *e);
/* Frees every span. Accepts NULL. */
void explain_done(explain *e);
/* Records a span; layer must outlive e. Returns the span's index, or -1 when memory ran out. */
int explain_add(explain *e, size_t off, size_t len, int depth, span_class cls, const char *layer,
                const char *fmt, ...) __attribute__((format(printf, 7, 8)));
/* Changes the length of span idx, once a container's end is known. */
void explain_set_len(explain *e, int idx, size_t len);
/* Replaces the meaning of span idx, once a container's content is known. Accepts NULL e
 * and an index out of range (then does nothing). */
void explain_retitle(explain *e, int idx, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Appends every span of src to e, shifted by off bytes and depth levels. */
int explain_append(explain *e, const explain *src, size_t off, int depth);

/* Bytes per class, counting only leaf spans (spans that contain no other span). */
void explain_totals(const explain *e, size_t totals[4]);
/* The same, for the leaf spans that start in [from, to). */
void explain_totals_range(const explain *e, size_t from, size_t to, size_t totals[4]);

typedef struct explain_style {
    int width;    /* terminal columns; 80 when 0 */
    bool color;   /* ANSI colours */
    bool compact; /* 4 bytes a line and no text column, for dumps side by side */
} explain_style;

/* Renders the dump: one line per span with offset, hex, text and meaning; a
 * container span gets a heading line and its children are indented under it.
 * Bytes no leaf span covers are shown as unexplained. Returns 0, or -1 when out
 * is full. */
int explain_render(const explain *e, const uint8_t *bytes, size_t n, const explain_style *st,
                   buf *out);

/* Display columns a UTF-8 string takes (East Asian wide characters count 2). */
size_t utf8_width(const char *s, size_t n);

#endif
