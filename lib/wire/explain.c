/* explain.c -- annotated byte spans and the explained hex dump. */
#include "wire/explain.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"

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

bool explain_equal(const explain *a, const explain *b)
{
    if (a->len != b->len)
        return false;
    for (size_t i = 0; i < a->len; i++) {
        const span *x = &a->spans[i], *y = &b->spans[i];
        if (x->off != y->off || x->len != y->len || x->depth != y->depth || x->cls != y->cls ||
            strcmp(x->layer, y->layer) || strcmp(x->meaning, y->meaning))
            return false;
    }
    return true;
}

void explain_drop_front(explain *e, size_t k)
{
    size_t kept = e->len - (e->drop.count ? 1 : 0);
    if (k > kept)
        k = kept;
    for (size_t i = 0; i < k; i++)
        free(e->spans[i].meaning);
    memmove(e->spans, e->spans + k, (e->len - k) * sizeof *e->spans);
    e->len -= k;
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

/* A span's meaning as a heap string (at most 4 KiB), or NULL. */
static char *format_meaning(const char *fmt, va_list ap)
{
    buf m;
    buf_init(&m, 4096);
    buf_vprintf(&m, fmt, ap);
    char *meaning = buf_take(&m);
    return meaning;
}

static size_t limit(const explain *e) { return e->max ? e->max : EXPLAIN_MAX_SPANS; }

bool explain_is_summary(const explain *e, size_t i)
{
    return e->drop.shown && e->len > 0 && i == e->len - 1;
}

#define SUMMARY_CAP 256 /* room for a translation: a hanzi takes 3 bytes */

/* Rewrites the summary's meaning and length in place, after a drop. */
static void update_summary(explain *e)
{
    const explain_dropped *d = &e->drop;
    if (!d->shown)
        return;
    span *s = &e->spans[e->len - 1];
    s->len = d->end - d->first;
    snprintf(s->meaning, SUMMARY_CAP,
             ngettext("… %zu more span, %zu bytes, not explained in detail (at most %zu spans "
                      "are)",
                      "… %zu more spans, %zu bytes, not explained in detail (at most %zu spans "
                      "are)", d->count),
             d->count, s->len, limit(e));
}

/* Whether a dropped span (off, len, depth) follows the last dropped one as is_container
 * would judge it, but for an empty last span: a container opened with its length unknown,
 * to be set when it closes (which, dropped, it never is). */
static bool inside_last(const explain_dropped *d, size_t off, size_t len, int depth)
{
    if (depth <= d->last_depth || off < d->last_off || off - d->last_off > d->last_len)
        return false;
    return d->last_len == 0 || len <= d->last_len - (off - d->last_off);
}

/* Counts a span e has no room for. The last dropped span is judged a leaf once the next
 * arrives, unless that one lies inside it. */
static void drop_span(explain *e, size_t off, size_t len, int depth, span_class cls,
                      const char *layer)
{
    explain_dropped *d = &e->drop;
    if (d->count == 0) {
        d->first = d->end = off;
        d->first_depth = depth;
        char *m = malloc(SUMMARY_CAP);
        d->shown = m && push(e, (span){off, 0, depth, cls, layer, m}) >= 0;
    } else if (d->has_last && !inside_last(d, off, len, depth) &&
               (unsigned)d->last_cls < 4) {
        d->bytes[d->last_cls] += d->last_len;
    }
    d->count++;
    d->has_last = true;
    d->last_off = off;
    d->last_len = len;
    d->last_depth = depth;
    d->last_cls = cls;
    if (off + len > d->end)
        d->end = off + len;
    update_summary(e);
}

static bool full(const explain *e) { return e->drop.count > 0 || e->len >= limit(e); }

int explain_add(explain *e, size_t off, size_t len, int depth, span_class cls, const char *layer,
                const char *fmt, ...)
{
    if (full(e)) {
        drop_span(e, off, len, depth, cls, layer);
        return -1;
    }
    va_list ap;
    va_start(ap, fmt);
    char *meaning = format_meaning(fmt, ap);
    va_end(ap);
    if (!meaning)
        return -1;
    return push(e, (span){off, len, depth, cls, layer, meaning});
}

void explain_set_len(explain *e, int idx, size_t len)
{
    if (idx >= 0 && (size_t)idx < e->len && !explain_is_summary(e, (size_t)idx))
        e->spans[idx].len = len;
}

void explain_retitle(explain *e, int idx, const char *fmt, ...)
{
    if (!e || idx < 0 || (size_t)idx >= e->len || explain_is_summary(e, (size_t)idx))
        return;
    va_list ap;
    va_start(ap, fmt);
    char *meaning = format_meaning(fmt, ap);
    va_end(ap);
    if (meaning) {
        free(e->spans[idx].meaning);
        e->spans[idx].meaning = meaning;
    }
}

int explain_append(explain *e, const explain *src, size_t off, int depth)
{
    for (size_t i = 0; i < src->len && !explain_is_summary(src, i); i++) {
        const span *s = &src->spans[i];
        if (full(e)) {
            drop_span(e, s->off + off, s->len, s->depth + depth, s->cls, s->layer);
            continue;
        }
        char *m = strdup(s->meaning);
        if (!m || push(e, (span){s->off + off, s->len, s->depth + depth, s->cls, s->layer, m}) < 0)
            return -1;
    }
    explain_merge_dropped(e, src, off, depth);
    return 0;
}

void explain_merge_dropped(explain *e, const explain *src, size_t off, int depth)
{
    const explain_dropped *sd = &src->drop;
    if (sd->count == 0)
        return;
    const char *layer = src->drop.shown ? src->spans[src->len - 1].layer : "explain";
    /* src's first dropped span settles e's last one; its bytes are in sd's counts */
    drop_span(e, sd->first + off, 0, sd->first_depth + depth, SPAN_FRAME, layer);
    explain_dropped *d = &e->drop;
    d->count += sd->count - 1;
    for (int c = 0; c < 4; c++)
        d->bytes[c] += sd->bytes[c];
    d->has_last = sd->has_last;
    d->last_off = sd->last_off + off;
    d->last_len = sd->last_len;
    d->last_depth = sd->last_depth + depth;
    d->last_cls = sd->last_cls;
    if (sd->end + off > d->end)
        d->end = sd->end + off;
    update_summary(e);
}

/* A container is followed by a deeper span that lies inside it (spans are in pre-order).
 * The summary stands for spans whose lengths are not kept: only where it starts counts. */
static bool is_container(const explain *e, size_t i)
{
    if (i + 1 >= e->len)
        return false;
    const span *s = &e->spans[i], *next = &e->spans[i + 1];
    size_t nlen = explain_is_summary(e, i + 1) ? 0 : next->len;
    return next->depth > s->depth && next->off >= s->off && next->off - s->off <= s->len &&
           nlen <= s->len - (next->off - s->off);
}

void explain_totals_range(const explain *e, size_t from, size_t to, size_t totals[4])
{
    memset(totals, 0, 4 * sizeof totals[0]);
    for (size_t i = 0; i < e->len; i++)
        if (!is_container(e, i) && !explain_is_summary(e, i) && (unsigned)e->spans[i].cls < 4 &&
            e->spans[i].off >= from && e->spans[i].off < to)
            totals[e->spans[i].cls] += e->spans[i].len;
    const explain_dropped *d = &e->drop;
    if (d->count == 0 || d->first < from || d->first >= to)
        return;
    for (int c = 0; c < 4; c++)
        totals[c] += d->bytes[c];
    if (d->has_last && (unsigned)d->last_cls < 4)
        totals[d->last_cls] += d->last_len;
}

void explain_totals(const explain *e, size_t totals[4])
{
    explain_totals_range(e, 0, SIZE_MAX, totals);
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

bool explain_first_time(unsigned *told, unsigned what)
{
    if (!told)
        return true;
    bool first = !(*told & what);
    *told |= what;
    return first;
}

char *explain_hex(char *out, size_t cap, const uint8_t *p, size_t n, size_t max,
                  unsigned flags)
{
    if (cap == 0)
        return out;
    bool cut = n > max && !((flags & EXPLAIN_HEX_SPARE_ONE) && n - max == 1);
    size_t shown = cut ? max : n, width = flags & EXPLAIN_HEX_0X ? 4 : 2, o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < shown; i++) {
        if (o + (i > 0) + width >= cap)
            return out;
        o += (size_t)snprintf(out + o, cap - o, flags & EXPLAIN_HEX_0X ? "%s0x%02x" : "%s%02x",
                              i > 0 ? " " : "", p[i]);
    }
    if (cut && o + 4 < cap)
        memcpy(out + o, " ...", 5);
    return out;
}

char *explain_quote(char *out, size_t cap, const uint8_t *s, size_t n, size_t max,
                    unsigned flags)
{
    bool marks = !(flags & EXPLAIN_QUOTE_BARE);
    size_t o = 0;
    if (cap < 8) {
        if (cap > 0)
            out[0] = '\0';
        return out;
    }
    if (marks)
        out[o++] = '"';
    for (size_t i = 0; i < n;) {
        if (i >= max || o + 12 >= cap) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        uint8_t c = s[i];
        unsigned cp = c;
        size_t len = 1;
        if (c >= 0x80 && (flags & EXPLAIN_QUOTE_UTF8))
            len = utf8_next(s + i, n - i, &cp);
        bool ok = c < 0x80 ? c >= 0x20 && c != 0x7f : !(flags & EXPLAIN_QUOTE_UTF8) || len > 1;
        if (!ok) {
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
        } else if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else {
            memcpy(out + o, s + i, len);
            o += len;
        }
        i += len;
    }
    if (marks)
        out[o++] = '"';
    out[o] = '\0';
    return out;
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

/* Where the character before byte i of s starts (i > 0). */
static size_t utf8_prev(const char *s, size_t i)
{
    size_t j = i - 1;
    while (j > 0 && i - j < 4 && ((unsigned char)s[j] & 0xC0) == 0x80)
        j--;
    return j;
}

/* Marks a line may not start with (closing ones) or end with (opening ones), as Chinese
 * typesetting has it; a straight quote counts as both, so only a space breaks beside one. */
static bool closing_mark(unsigned cp)
{
    static const unsigned marks[] = {0xFF0C, 0x3002, 0x3001, 0xFF1A, 0xFF1B, 0xFF01, 0xFF1F,
                                     0xFF09, 0x300B, 0x300D, 0x300F, 0x201D, 0x2019, 0x2026};
    for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++)
        if (cp == marks[i])
            return true;
    return cp < 0x80 && strchr(",.:;!?)]}\"'", (int)cp) != NULL;
}

static bool opening_mark(unsigned cp)
{
    static const unsigned marks[] = {0xFF08, 0x300A, 0x300C, 0x300E, 0x201C, 0x2018};
    for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++)
        if (cp == marks[i])
            return true;
    return cp < 0x80 && strchr("([{\"'", (int)cp) != NULL;
}

/* Whether a line may break before byte i of m (0 < i < n). A good break is at a space,
 * after a full-width closing mark or before a full-width opening one (between phrases);
 * with good false, also beside any wide character (hanzi need no spaces between them).
 * Never before a closing mark or after an opening one. */
static bool may_break(const char *m, size_t n, size_t i, bool good)
{
    if (m[i] == ' ')
        return true;
    unsigned prev, next;
    size_t p = utf8_prev(m, i);
    utf8_next((const unsigned char *)m + p, i - p, &prev);
    utf8_next((const unsigned char *)m + i, n - i, &next);
    if (cp_width(prev) < 2 && cp_width(next) < 2)
        return false;
    if (closing_mark(next) || opening_mark(prev))
        return false;
    return !good || (closing_mark(prev) && prev >= 0x80) || (opening_mark(next) && next >= 0x80);
}

/* Splits text into lines of at most cols display columns, preferring to break at a space
 * or between phrases, then beside a wide character, never inside a character. Returns the
 * number of lines (at most max); starts[i] and lens[i] give each. */
static size_t wrap(const char *m, size_t cols, const char **starts, size_t *lens, size_t max)
{
    size_t n = strlen(m), k = 0;
    if (cols < 8)
        cols = 8;
    while (n > 0 && k < max) {
        /* continuation lines are indented two more columns */
        size_t take = utf8_fit(m, n, k == 0 ? cols : cols - 2);
        /* a break between phrases in the second half of the line, else beside a hanzi */
        bool found = false;
        for (int good = 1; take < n && good >= 0 && !found; good--) {
            size_t sp = take;
            while (sp > take / 2 && !may_break(m, n, sp, good))
                sp = utf8_prev(m, sp);
            if (sp > take / 2) {
                take = sp;
                found = true;
            }
        }
        /* a cut anywhere: still no full-width closing mark at the start of a line */
        for (int step = 0; take < n && !found && step < 2 && take > 1; step++) {
            unsigned next;
            utf8_next((const unsigned char *)m + take, n - take, &next);
            if (next < 0x80 || !closing_mark(next))
                break;
            take = utf8_prev(m, take);
        }
        if (take == 0) { /* a character wider than cols */
            unsigned cp;
            take = utf8_next((const unsigned char *)m, n, &cp);
        }
        starts[k] = m;
        lens[k++] = take;
        m += take;
        n -= take;
        while (n > 0 && *m == ' ') {
            m++;
            n--;
        }
    }
    return k;
}

#define MAX_WRAP 64

/* Draws one span: its hex rows beside its wrapped meaning, "layer meaning". A heading
 * (a span containing others) shows its size instead of its bytes. s NULL: unclaimed bytes.
 * Returns 0, or -1 when out could not take it all. */
static int put_span(buf *out, const uint8_t *bytes, size_t total, size_t off, size_t len,
                    int depth, const span *s, const char *layer, const explain_style *st,
                    bool heading)
{
    int width = st->width > 40 ? st->width : 80;
    const size_t bpl = st->compact ? HEX_PER_LINE / 2 : HEX_PER_LINE; /* bytes a line */
    const size_t meaning_col = st->compact ? 6 + bpl * 3 + 1 : 6 + bpl * 3 + 1 + bpl + 2;
    size_t indent = (size_t)(depth > 0 ? depth : 0) * 2;
    if (indent > 16)
        indent = 16;
    size_t cols = (size_t)width > meaning_col + indent + 16 ? (size_t)width - meaning_col - indent
                                                            : 16;
    const char *on = st->color && s ? class_color(s->cls) : "";
    const char *off_c = st->color ? "\033[0m" : "";
    int bad = 0;

    buf text;
    buf_init(&text, 0);
    if (layer)
        buf_printf(&text, "%s: ", layer);
    buf_puts(&text, s ? s->meaning : _("(bytes no explainer claimed)"));
    if (buf_putc(&text, '\0') < 0) {
        buf_done(&text);
        return -1;
    }
    const char *starts[MAX_WRAP];
    size_t lens[MAX_WRAP];
    size_t mlines = wrap((const char *)buf_data(&text), cols, starts, lens, MAX_WRAP);
    size_t hexrows = heading ? 1 : (len + bpl - 1) / bpl;
    if (hexrows == 0)
        hexrows = 1;
    size_t rows = hexrows > mlines ? hexrows : mlines;

    for (size_t row = 0; row < rows && !bad; row++) {
        size_t line = out->len;
        if (row < hexrows) {
            size_t start = off + row * bpl;
            size_t cnt = heading ? 0 : (off + len - start < bpl ? off + len - start : bpl);
            char hex[64] = "", txt[HEX_PER_LINE + 1] = "";
            for (size_t i = 0; i < cnt && start + i < total; i++) {
                uint8_t c = bytes[start + i];
                snprintf(hex + i * 3, 4, "%02x ", c);
                txt[i] = c >= 0x20 && c < 0x7F ? (char)c : '.';
            }
            if (heading)
                snprintf(hex, sizeof hex, _("[%zu bytes]"), len);
            /* padded to display columns: a translated heading may hold wide characters */
            size_t hw = utf8_width(hex, strlen(hex));
            int pad = hw < bpl * 3 ? (int)(bpl * 3 - hw) : 0;
            if (st->compact)
                bad |= buf_printf(out, "%04zx  %s%s%*s%s ", start, on, hex, pad, "", off_c);
            else
                bad |= buf_printf(out, "%04zx  %s%s%*s%s %-*s  ", start, on, hex, pad, "", off_c,
                                  (int)bpl, txt);
        } else {
            bad |= buf_printf(out, "%*s", (int)meaning_col, "");
        }
        if (row < mlines) {
            bad |= buf_printf(out, "%*s", (int)(indent + (row > 0 ? 2 : 0)), "");
            if (row == 0 && layer && st->color) {
                size_t ll = strlen(layer) + 1;
                bad |= buf_printf(out, "\033[1m%.*s%s", (int)ll, starts[0], off_c);
                bad |= buf_append(out, starts[0] + ll, lens[0] - ll);
            } else {
                bad |= buf_append(out, starts[row], lens[row]);
            }
        }
        /* no trailing blanks */
        while (out->len > line && out->p[out->len - 1] == ' ')
            out->len--;
        bad |= buf_putc(out, '\n');
    }
    buf_done(&text);
    return bad < 0 ? -1 : 0;
}

int explain_render(const explain *e, const uint8_t *bytes, size_t n, const explain_style *st,
                   buf *out)
{
    explain_style def = {80, false};
    if (!st)
        st = &def;
    /* Drawn straight into out; when out fills up, what was drawn is taken back, so a full
     * out is reported, not truncated. */
    size_t mark = out->len;
    int bad = 0;
    size_t cursor = 0;
    /* The layer of the heading at each depth: a line names its layer only where it changes. */
    const char *layers[18] = {0};
    for (size_t i = 0; i < e->len && !bad; i++) {
        const span *s = &e->spans[i];
        if (s->off > n || s->len > n - s->off)
            continue;
        bool summary = explain_is_summary(e, i);
        bool heading = is_container(e, i);
        int d = s->depth < 0 ? 0 : s->depth > 16 ? 16 : s->depth;
        const char *parent = NULL;
        for (int k = d - 1; k >= 0 && !parent; k--)
            parent = layers[k];
        const char *layer = !parent || strcmp(parent, s->layer) != 0 ? s->layer : NULL;
        if (heading) {
            layers[d] = s->layer;
            for (int k = d + 1; k < 18; k++)
                layers[k] = NULL;
        }
        if (!heading && s->off > cursor)
            bad |= put_span(out, bytes, n, cursor, s->off - cursor, s->depth, NULL, NULL, st,
                            false);
        bad |= put_span(out, bytes, n, s->off, s->len, s->depth, s, layer, st,
                        heading || summary);
        if (!heading && s->off + s->len > cursor)
            cursor = s->off + s->len;
    }
    if (cursor < n && !bad)
        bad |= put_span(out, bytes, n, cursor, n - cursor, 0, NULL, NULL, st, false);
    if (bad) {
        out->len = mark;
        return -1;
    }
    return 0;
}
