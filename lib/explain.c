/* explain.c -- annotated byte spans and the explained hex dump. */
#include "explain.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEX_PER_LINE 8

void explain_init(explain *e) { memset(e, 0, sizeof *e); }

void explain_done(explain *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->len; i++)
        free(e->spans[i].meaning);
    free(e->spans);
    memset(e, 0, sizeof *e);
}

static int push(explain *e, span s)
{
    if (e->len == e->cap) {
        size_t ncap = e->cap ? e->cap * 2 : 32;
        span *ns = realloc(e->spans, ncap * sizeof *ns);
        if (!ns) {
            free(s.meaning);
            return -1;
        }
        e->spans = ns;
        e->cap = ncap;
    }
    e->spans[e->len] = s;
    return (int)e->len++;
}

int explain_add(explain *e, size_t off, size_t len, int depth, span_class cls, const char *layer,
                const char *fmt, ...)
{
    buf m;
    buf_init(&m, 4096);
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&m, fmt, ap);
    va_end(ap);
    char *meaning = buf_take(&m);
    buf_done(&m);
    if (!meaning)
        return -1;
    return push(e, (span){off, len, depth, cls, layer, meaning});
}

void explain_set_len(explain *e, int idx, size_t len)
{
    if (idx >= 0 && (size_t)idx < e->len)
        e->spans[idx].len = len;
}

int explain_append(explain *e, const explain *src, size_t off, int depth)
{
    for (size_t i = 0; i < src->len; i++) {
        const span *s = &src->spans[i];
        char *m = strdup(s->meaning);
        if (!m || push(e, (span){s->off + off, s->len, s->depth + depth, s->cls, s->layer, m}) < 0)
            return -1;
    }
    return 0;
}

/* A container is followed by a deeper span that lies inside it (spans are in pre-order). */
static bool is_container(const explain *e, size_t i)
{
    if (i + 1 >= e->len)
        return false;
    const span *s = &e->spans[i], *next = &e->spans[i + 1];
    return next->depth > s->depth && next->off >= s->off && next->off - s->off <= s->len &&
           next->len <= s->len - (next->off - s->off);
}

void explain_totals(const explain *e, size_t totals[4])
{
    memset(totals, 0, 4 * sizeof totals[0]);
    for (size_t i = 0; i < e->len; i++)
        if (!is_container(e, i) && (unsigned)e->spans[i].cls < 4)
            totals[e->spans[i].cls] += e->spans[i].len;
}

/* Decodes one UTF-8 sequence at s (n bytes left); returns its length (1 for a bad byte). */
static size_t utf8_next(const unsigned char *s, size_t n, unsigned *cp)
{
    unsigned c = s[0];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || len > n) {
        *cp = 0xFFFD;
        return 1;
    }
    unsigned v = len == 1 ? c : c & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = 0xFFFD;
            return 1;
        }
        v = (v << 6) | (s[i] & 0x3F);
    }
    *cp = v;
    return len;
}

static int cp_width(unsigned cp)
{
    if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0))
        return 0;
    if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
        (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
        (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
        (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1FAFF) ||
        (cp >= 0x20000 && cp <= 0x3FFFD))
        return 2;
    return 1;
}

size_t utf8_width(const char *s, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n;) {
        unsigned cp;
        i += utf8_next((const unsigned char *)s + i, n - i, &cp);
        w += (size_t)cp_width(cp);
    }
    return w;
}

/* Length in bytes of the longest prefix of s that fits in cols columns. */
static size_t utf8_fit(const char *s, size_t n, size_t cols)
{
    size_t w = 0, i = 0;
    while (i < n) {
        unsigned cp;
        size_t l = utf8_next((const unsigned char *)s + i, n - i, &cp);
        size_t cw = (size_t)cp_width(cp);
        if (w + cw > cols)
            break;
        w += cw;
        i += l;
    }
    return i;
}

static const char *class_color(span_class c)
{
    switch (c) {
    case SPAN_FRAME: return "\033[36m"; /* cyan */
    case SPAN_TYPE: return "\033[35m";  /* magenta */
    case SPAN_DATA: return "\033[32m";  /* green */
    case SPAN_ERROR: return "\033[31m"; /* red */
    }
    return "";
}

/* Writes the meaning, wrapped to the columns left, continuation lines indented to col. */
static void put_meaning(buf *out, const char *m, size_t first_cols, size_t cols, size_t col)
{
    size_t n = strlen(m);
    size_t avail = first_cols;
    for (;;) {
        size_t take = utf8_fit(m, n, avail > 8 ? avail : 8);
        if (take < n) {
            /* prefer to break at a space */
            size_t sp = take;
            while (sp > take / 2 && m[sp] != ' ')
                sp--;
            if (sp > take / 2)
                take = sp;
        }
        if (take == 0)
            take = 1;
        buf_append(out, m, take);
        buf_putc(out, '\n');
        m += take;
        n -= take;
        while (n > 0 && *m == ' ') {
            m++;
            n--;
        }
        if (n == 0)
            return;
        buf_printf(out, "%*s", (int)col, "");
        avail = cols;
    }
}

static void put_line(buf *out, const uint8_t *bytes, size_t total, size_t off, size_t len,
                     int depth, const span *s, const explain_style *st, bool heading)
{
    int width = st->width > 40 ? st->width : 80;
    size_t meaning_col = 6 + HEX_PER_LINE * 3 + 1 + HEX_PER_LINE + 2;
    size_t indent = (size_t)(depth > 0 ? depth : 0) * 2;
    if (indent > 16)
        indent = 16;
    size_t cols = (size_t)width > meaning_col + indent + 8 ? (size_t)width - meaning_col - indent : 8;
    const char *on = st->color && s ? class_color(s->cls) : "";
    const char *off_c = st->color ? "\033[0m" : "";

    for (size_t row = 0;; row++) {
        size_t start = off + row * HEX_PER_LINE;
        size_t cnt = 0;
        if (!heading && start < off + len)
            cnt = off + len - start < HEX_PER_LINE ? off + len - start : HEX_PER_LINE;
        if (row > 0 && cnt == 0)
            break;
        buf_printf(out, "%04zx  ", start);
        char hex[HEX_PER_LINE * 3 + 1] = "", txt[HEX_PER_LINE + 1] = "";
        for (size_t i = 0; i < cnt && start + i < total; i++) {
            uint8_t c = bytes[start + i];
            snprintf(hex + i * 3, 4, "%02x ", c);
            txt[i] = c >= 0x20 && c < 0x7F ? (char)c : '.';
        }
        if (heading)
            snprintf(hex, sizeof hex, "[%zu bytes]", len);
        buf_printf(out, "%s%-*s%s %-*s  ", on, HEX_PER_LINE * 3, hex, off_c, HEX_PER_LINE, txt);
        if (row == 0) {
            buf_printf(out, "%*s", (int)indent, "");
            if (s) {
                const char *lay_on = st->color ? "\033[1m" : "";
                buf_printf(out, "%s%s%s ", lay_on, s->layer, off_c);
                size_t lw = strlen(s->layer) + 1;
                put_meaning(out, s->meaning, cols > lw + 8 ? cols - lw : 8, cols, meaning_col + indent);
            } else {
                put_meaning(out, "(bytes no explainer claimed)", cols, cols, meaning_col + indent);
            }
        } else {
            buf_putc(out, '\n');
        }
        if (heading)
            break;
    }
}

int explain_render(const explain *e, const uint8_t *bytes, size_t n, const explain_style *st,
                   buf *out)
{
    explain_style def = {80, false};
    if (!st)
        st = &def;
    /* Drawn in a scratch buffer and appended whole, so a full out is reported, not truncated. */
    buf tmp;
    buf_init(&tmp, 0);
    size_t cursor = 0;
    for (size_t i = 0; i < e->len; i++) {
        const span *s = &e->spans[i];
        if (s->off > n || s->len > n - s->off)
            continue;
        bool heading = is_container(e, i);
        if (!heading && s->off > cursor)
            put_line(&tmp, bytes, n, cursor, s->off - cursor, s->depth, NULL, st, false);
        put_line(&tmp, bytes, n, s->off, s->len, s->depth, s, st, heading);
        if (!heading && s->off + s->len > cursor)
            cursor = s->off + s->len;
    }
    if (cursor < n)
        put_line(&tmp, bytes, n, cursor, n - cursor, 0, NULL, st, false);
    int r = buf_size(&tmp) ? buf_append(out, buf_data(&tmp), buf_size(&tmp)) : 0;
    buf_done(&tmp);
    return r;
}
