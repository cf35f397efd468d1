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

/* At most this many spans are explained in detail (about 10 MB of spans and meanings);
 * every span after them is only counted, in one summary span at the end. Every real call
 * has far fewer: a 5 MB nested JSON message has about a million. */
#define EXPLAIN_MAX_SPANS 100000

/* What is known of the spans not kept: their count, their leaf bytes per class, and
 * the bytes from the first of them to the farthest end of any of them. */
typedef struct explain_dropped {
    size_t count;
    size_t bytes[4];    /* leaf bytes per class, but for the last span (still pending) */
    size_t first, end;  /* where the first dropped span starts; the farthest end */
    size_t last_off, last_len; /* the last dropped span: a leaf unless a deeper one follows */
    int first_depth, last_depth;
    span_class last_cls;
    bool has_last; /* last_* describe a span */
    bool shown;    /* the summary span exists (it could not be allocated otherwise) */
} explain_dropped;

typedef struct explain {
    span *spans;
    size_t len, cap;
    size_t max;            /* spans kept in detail; 0 means EXPLAIN_MAX_SPANS */
    explain_dropped drop;  /* when drop.count > 0, spans[len - 1] is the summary */
} explain;

void explain_init(explain *e);
/* Frees every span. Accepts NULL. */
void explain_done(explain *e);
/* Frees the first k spans (at most every span but the summary) and moves the rest to
 * the front, for an explanation kept only for its latest bytes. */
void explain_drop_front(explain *e, size_t k);
/* Whether a and b hold the same spans: places, depths, classes, layers and meanings. */
bool explain_equal(const explain *a, const explain *b);
/* Records a span; layer must outlive e. Returns the span's index, or -1 when memory ran
 * out or e is full. Once e holds its maximum of spans (max, or EXPLAIN_MAX_SPANS), this
 * span and every later one is dropped: its meaning is not formatted, and it is counted in
 * the summary span, the last of e, whose meaning says how many spans and bytes it stands
 * for. A caller never gets the summary's index. */
int explain_add(explain *e, size_t off, size_t len, int depth, span_class cls, const char *layer,
                const char *fmt, ...) __attribute__((format(printf, 7, 8)));
/* Whether span i is the summary of dropped spans. */
bool explain_is_summary(const explain *e, size_t i);
/* Changes the length of span idx, once a container's end is known. Does nothing to the
 * summary. */
void explain_set_len(explain *e, int idx, size_t len);
/* Replaces the meaning of span idx, once a container's content is known. Accepts NULL e,
 * an index out of range and the summary's (then does nothing). */
void explain_retitle(explain *e, int idx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Appends every span of src to e, shifted by off bytes and depth levels, as explain_add
 * would (so e may drop some), then counts src's dropped spans into e's summary. Returns 0,
 * or -1 when memory ran out. */
int explain_append(explain *e, const explain *src, size_t off, int depth);
/* Counts the spans src dropped into e's summary (creating it: e keeps no more spans),
 * shifted by off bytes and depth levels. Does nothing when src dropped none. */
void explain_merge_dropped(explain *e, const explain *src, size_t off, int depth);

/* Bytes per class, counting only leaf spans (spans that contain no other span), and the
 * dropped spans that were leaves. */
void explain_totals(const explain *e, size_t totals[4]);
/* The same, for the leaf spans that start in [from, to); the dropped spans count as if
 * they all started where the summary does. */
void explain_totals_range(const explain *e, size_t from, size_t to, size_t totals[4]);

typedef struct explain_style {
    int width;    /* terminal columns; 80 when 0 */
    bool color;   /* ANSI colours */
    bool compact; /* 4 bytes a line and no text column, for dumps side by side */
} explain_style;

/* Renders the dump: one line per span with offset, hex, text and meaning; a
 * container span gets a heading line and its children are indented under it.
 * Bytes no leaf span covers are shown as unexplained. The summary of dropped spans is
 * one heading line for all the bytes they cover. Returns 0, or -1 when out is full (then
 * out is as it was). */
int explain_render(const explain *e, const uint8_t *bytes, size_t n, const explain_style *st,
                   buf *out);

/* Display columns a UTF-8 string takes (East Asian wide characters count 2). */
size_t utf8_width(const char *s, size_t n);

/* ---- words for explainers ---- */

/* Whether an explainer tells about `what` (one bit) for the first time: returns true and
 * sets the bit in *told when it was clear, false when it was already set. told NULL
 * remembers nothing: every time is the first. An explainer keeps one told set per stream,
 * spells an encoding out in full the first time it meets it, and briefly afterwards. */
bool explain_first_time(unsigned *told, unsigned what);

/* Flags of explain_hex. */
enum {
    EXPLAIN_HEX_0X = 1,        /* every byte as "0x0a" rather than "0a" */
    EXPLAIN_HEX_SPARE_ONE = 2, /* " ..." never stands for a single byte */
};

/* Writes p[0..n) in hex into out (cap bytes), the bytes separated by single spaces: "0a ff"
 * or, with EXPLAIN_HEX_0X, "0x0a 0xff". When n > max only the first max bytes are written,
 * followed by " ..."; with EXPLAIN_HEX_SPARE_ONE, n == max + 1 bytes are written whole. A
 * byte that would not fit in out is left out, with all after it. out is always terminated
 * (when cap > 0). Returns out. */
char *explain_hex(char *out, size_t cap, const uint8_t *p, size_t n, size_t max,
                  unsigned flags);

/* Flags of explain_quote. */
enum {
    EXPLAIN_QUOTE_BARE = 1, /* no quote marks around the text */
    EXPLAIN_QUOTE_UTF8 = 2, /* bytes from 0x80 up that are not valid UTF-8 are escaped */
};

/* Writes s[0..n) into out (cap bytes) as text in double quotes, for a meaning: '"' and '\'
 * get a backslash before them, control bytes (and, with EXPLAIN_QUOTE_UTF8, bytes that are
 * not valid UTF-8) are written as \xNN, every other byte as it is. The text is cut with
 * "..." at the first character that starts max bytes or more into s, or earlier when out
 * runs short (it needs 8 bytes at least; then some 12 bytes are kept spare). out is always
 * terminated (when cap > 0). Returns out. */
char *explain_quote(char *out, size_t cap, const uint8_t *s, size_t n, size_t max,
                    unsigned flags);

#endif
