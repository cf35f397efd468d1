/* gob_read.c -- the walker's primitives: reading gob numbers and counts, failing, the spans
 * that record what was read, and the words that explain an integer's bytes. */
#include "wire/gob.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/i18n.h"
#include "wire/gob_int.h"

/* ---- words ---- */

/* Encodings spelled out in full the first time on a stream (walk.told). */
enum { TOLD_MULTIBYTE = 1, TOLD_ZIGZAG = 2 };

char *gob_uint_words(const walk *w, size_t start, char *out, size_t n)
{
    size_t len = w->pos - start;
    size_t o = strlen(explain_hex(out, n, w->p + start, len, SIZE_MAX, EXPLAIN_HEX_0X));
    if (len > 1 && o < n && explain_first_time(w->told, TOLD_MULTIBYTE))
        snprintf(out + o, n - o,
                 len == 9 ? _(": 0x%02x = -%zu, so an %zu-byte big-endian number follows")
                          : _(": 0x%02x = -%zu, so a %zu-byte big-endian number follows"),
                 w->p[start], len - 1, len - 1);
    return out;
}

char *gob_zigzag_words(const walk *w, size_t start, uint64_t x, char *out, size_t n)
{
    char u[256];
    gob_uint_words(w, start, u, sizeof u);
    if (!explain_first_time(w->told, TOLD_ZIGZAG))
        snprintf(out, n, "zigzag %s", u);
    else if (x & 1)
        snprintf(out, n, _("zigzag %s = %llu, odd so negative: -(%llu+1)/2"), u,
                 (unsigned long long)x, (unsigned long long)x);
    else
        snprintf(out, n, _("zigzag %s = %llu, even so positive: %llu/2"), u,
                 (unsigned long long)x, (unsigned long long)x);
    return out;
}

/* ---- reading ---- */

int gob_walk_fail(walk *w, const char *fmt, ...)
{
    if (w->failed)
        return -1;
    w->failed = true;
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    err_set(w->err, w->errlen, "%s", msg);
    return -1;
}

void gob_walk_leaf(walk *w, size_t start, span_class cls, const char *fmt, ...)
{
    if (!w->ex)
        return;
    char msg[640];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    explain_add(w->ex, w->base + start, w->pos - start, w->depth, cls, "gob", "%s", msg);
    if (w->pos > w->covered)
        w->covered = w->pos;
}

int gob_walk_open(walk *w, span_class cls, const char *fmt, ...)
{
    if (!w->ex)
        return -1;
    char msg[640];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int idx = explain_add(w->ex, w->base + w->pos, 0, w->depth, cls, "gob", "%s", msg);
    w->depth++;
    return idx;
}

void gob_walk_close(walk *w, int idx)
{
    if (!w->ex)
        return;
    w->depth--;
    if (idx < 0)
        return;
    explain *e = w->ex;
    if (!w->failed) {
        explain_set_len(e, idx, w->base + w->pos - e->spans[idx].off);
        return;
    }
    /* after an error the box ends where the explained bytes end; an empty one goes */
    if ((size_t)idx == e->len - 1) {
        free(e->spans[idx].meaning);
        e->len--;
        return;
    }
    size_t end = w->base + w->covered;
    explain_set_len(e, idx, end > e->spans[idx].off ? end - e->spans[idx].off : 0);
}

int gob_walk_uint(walk *w, uint64_t *x, const char *what)
{
    size_t s = w->pos;
    if (s >= w->end)
        return gob_walk_fail(w, _("the data ends where %s should be"), _(what));
    uint8_t b = w->p[s];
    if (b <= 0x7f) {
        *x = b;
        w->pos = s + 1;
        return 0;
    }
    size_t k = 256u - b;
    if (k > 8)
        return gob_walk_fail(w, _("bad %s: 0x%02x would announce %zu bytes, but a gob number has "
                             "at most 8"), _(what), b, k);
    if (w->end - s - 1 < k)
        return gob_walk_fail(w, _("bad %s: 0x%02x announces %zu bytes but only %zu are left"), _(what),
                             b, k, w->end - s - 1);
    uint64_t v = 0;
    for (size_t i = 0; i < k; i++)
        v = (v << 8) | w->p[s + 1 + i];
    *x = v;
    w->pos = s + 1 + k;
    return 0;
}

int gob_walk_count(walk *w, uint64_t *n, const char *what)
{
    if (gob_walk_uint(w, n, what) < 0)
        return -1;
    if (*n > w->end - w->pos)
        return gob_walk_fail(w, _("%s of %llu is more than the %zu bytes left"), _(what),
                             (unsigned long long)*n, w->end - w->pos);
    return 0;
}
