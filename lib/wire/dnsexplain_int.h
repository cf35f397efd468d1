/* dnsexplain_int.h -- what the pieces of the DNS explainer share: the walk's state, the
 * span helpers that keep containers closed over an error, and the record data walker.
 *
 *   dnsexplain.c          the header, questions, records and names
 *   dnsexplain_rdata.c    the data of each record type
 *   dnsexplain_summary.c  the one-line summary
 *   dnsexplain_names.c    spans, names and the words for numbers, which all the others use */
#ifndef WB_DNSEXPLAIN_INT_H
#define WB_DNSEXPLAIN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/dnsexplain.h"

enum { DNSX_MAX_OPEN = 8 };
/* What dnsx.told remembers was already spelled out in full. */
enum { TOLD_LABEL = 1, TOLD_POINTER = 2, TOLD_FLUSH = 4, TOLD_QU = 8, TOLD_TTL = 16 };

/* One message being explained. */
typedef struct dnsx {
    const uint8_t *p;
    size_t n;
    explain *e;
    int open[DNSX_MAX_OPEN]; /* containers not yet closed: their span and where they start */
    size_t open_off[DNSX_MAX_OPEN];
    int nopen;
    unsigned told;
} dnsx;

static inline unsigned dns_be16(const uint8_t *p) { return (unsigned)p[0] << 8 | p[1]; }
static inline uint32_t dns_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A leaf span at the current depth. */
void dnsx_leaf(dnsx *w, size_t off, size_t len, span_class cls, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Opens a container at the current depth; what follows goes one level deeper. */
void dnsx_open(dnsx *w, size_t off, span_class cls, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Closes the innermost container at end. */
void dnsx_close(dnsx *w, size_t end);
/* An error span from off to the end of the message; every open container is stretched to
 * hold it. Returns -1. */
int dnsx_fail(dnsx *w, size_t off, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Explains the name at off, whose own bytes end by limit, as a container titled
 * "TITLE NAME" holding a span per label and pointer. Sets *next past it. Returns 0 or -1
 * (failed: an error span was recorded). */
int dnsx_name(dnsx *w, size_t off, size_t limit, const char *title, size_t *next);

/* Explains the data of a record of type t in p[off..off+len). Returns 0 or -1. */
int dnsx_rdata(dnsx *w, unsigned t, size_t off, size_t len);

/* Writes an IPv4 or IPv6 address (len 4 or 16) as text. */
void dns_addr_text(const uint8_t *a, size_t len, char *out, size_t cap);

#endif
