/* gob_walk.c -- the one walker that both decodes and explains a gob message: reading its
 * values through gob_read.c and recording a span for every byte it reads, so that what is
 * explained is exactly what is decoded. */
#include "wire/gob.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "wire/gob_int.h"

/* ---- numbers ---- */

static double bits_float(uint64_t b)
{
    double f;
    memcpy(&f, &b, sizeof f);
    return f;
}

/* A float as Go would print it: the shortest form that reads back the same. */
static void fmt_float(double f, char *out, size_t n)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, n, "%.*g", prec, f);
        if (strtod(out, NULL) == f)
            return;
    }
}

/* ---- values ---- */

/* Appends ".name" to the path (a struct field); returns the old length to restore. */
static size_t wpush_field(walk *w, const char *name)
{
    size_t old = strlen(w->path), n = strlen(name);
    size_t dot = old > 0;
    if (old + dot + n < sizeof w->path) {
        if (dot)
            w->path[old] = '.';
        memcpy(w->path + old + dot, name, n + 1);
    }
    return old;
}

static size_t wpush(walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static size_t wpush(walk *w, const char *fmt, ...)
{
    size_t old = strlen(w->path);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->path + old, sizeof w->path - old, fmt, ap);
    va_end(ap);
    return old;
}

/* Counts one more value part against the budget. */
static int spend(walk *w, size_t n)
{
    if (!w->build)
        return 0;
    if (n > w->budget)
        return gob_walk_fail(w, _("the value is too large to represent (too many parts for a "
                             "%zu-byte message)"), w->end);
    w->budget -= n;
    return 0;
}

static int need(walk *w, value *v)
{
    return !w->build || v ? 0 : gob_walk_fail(w, _("out of memory"));
}

static int dec_value(walk *w, wtype *t, value **out, int depth, char *brief, size_t blen);
static int dec_struct(walk *w, wtype *t, value **out, int depth, bool top);

/* Decodes a value message's body or an interface's concrete value: a struct, or a 0
 * byte and a value of any other type. */
static int dec_top(walk *w, wtype *t, value **out, int depth)
{
    if (t->kind == W_STRUCT)
        return dec_struct(w, t, out, depth, true);
    size_t s = w->pos;
    uint64_t z;
    if (gob_walk_uint(w, &z, N_("the singleton marker")) < 0)
        return -1;
    if (z != 0)
        return gob_walk_fail(w, _("a value that is not a struct must start with a 0 byte, not 0x%02x"),
                             w->p[s]);
    leaf(w, s, SPAN_FRAME, "%s", _("0x00: the value is not a struct, so it is sent like field 0 "
                                   "of one (delta 0), zero or not"));
    return dec_value(w, t, out, depth, NULL, 0);
}

/* Says which fields from..to-1 the sender left out, for the explanation: gob sends no
 * field whose value is zero. Returns false when there are none. */
static bool skipped_fields(const wtype *t, long from, long to, char *out, size_t n)
{
    if (from >= to || n == 0)
        return false;
    size_t o = 0;
    out[0] = '\0';
    /* TRANSLATORS: between the names of fields, as in "A, B not sent: ..." */
    const char *comma = _(", ");
    for (long i = from; i < to && o < n; i++)
        o += (size_t)snprintf(out + o, n - o, "%s%s", i > from ? comma : "", t->fields[i].name);
    if (o < n)
        snprintf(out + o, n - o, "%s",
                 ngettext(" not sent: it is zero, and gob leaves zero fields out",
                          " not sent: they are zero, and gob leaves zero fields out",
                          (unsigned long)(to - from)));
    return true;
}

static int dec_struct(walk *w, wtype *t, value **out, int depth, bool top)
{
    char tn[128] = "";
    if (w->ex)
        gob_type_name(w->d, t, tn, sizeof tn, 0);
    if (depth > GOB_MAX_DEPTH)
        return gob_walk_fail(w, _("the value nests more than %d levels deep"), GOB_MAX_DEPTH);
    if (spend(w, 1) < 0)
        return -1;
    value **vals = NULL;
    if (w->build && t->nfields && !(vals = calloc(t->nfields, sizeof *vals)))
        return gob_walk_fail(w, _("out of memory"));
    int box = top ? -1 : open_box(w, SPAN_DATA, "%s: struct %s", w->path, tn);
    long fieldnum = -1;
    int r = -1;
    while (w->pos < w->end) {
        size_t s = w->pos;
        uint64_t delta;
        if (gob_walk_uint(w, &delta, N_("a field delta")) < 0)
            goto done;
        if (delta == 0) {
            char skipped[200];
            if (w->ex && skipped_fields(t, fieldnum + 1, (long)t->nfields, skipped, sizeof skipped))
                leaf(w, s, SPAN_FRAME, _("0x00: end of struct %s; %s"), tn, skipped);
            else
                leaf(w, s, SPAN_FRAME, _("0x00: end of struct %s"), tn);
            break;
        }
        if (delta > (uint64_t)((long)t->nfields - 1 - fieldnum)) {
            gob_type_name(w->d, t, tn, sizeof tn, 0);
            if (fieldnum < 0)
                gob_walk_fail(w, ngettext("field delta +%llu: struct %s has only %zu field",
                                          "field delta +%llu: struct %s has only %zu fields",
                                          t->nfields),
                              (unsigned long long)delta, tn, t->nfields);
            else
                gob_walk_fail(w, _("field delta +%llu after field %s: struct %s has only %zu "
                              "fields"), (unsigned long long)delta, t->fields[fieldnum].name, tn,
                              t->nfields);
            goto done;
        }
        long prev = fieldnum;
        fieldnum += (long)delta;
        wfield *f = &t->fields[fieldnum];
        char skipped[200];
        if (w->ex && skipped_fields(t, prev + 1, fieldnum, skipped, sizeof skipped))
            leaf(w, s, SPAN_TYPE, _("field delta +%llu → %s (field %ld of %s); %s"),
                 (unsigned long long)delta, f->name, fieldnum, tn, skipped);
        else
            leaf(w, s, SPAN_TYPE, _("field delta +%llu → %s (field %ld of %s)"),
                 (unsigned long long)delta, f->name, fieldnum, tn);
        size_t old = wpush_field(w, f->name);
        int rr = dec_value(w, f->t, vals ? &vals[fieldnum] : NULL, depth + 1, NULL, 0);
        w->path[old] = '\0';
        if (rr < 0)
            goto done;
    }
    if (w->build) {
        value *sv = value_struct(t->name[0] ? t->name : NULL);
        value_field *fs = t->nfields ? calloc(t->nfields, sizeof *fs) : NULL;
        if (!sv || (t->nfields && !fs)) {
            value_free(sv);
            free(fs);
            gob_walk_fail(w, _("out of memory"));
            goto done;
        }
        sv->u.st.fields = fs;
        sv->u.st.cap = t->nfields;
        for (size_t i = 0; i < t->nfields; i++) {
            value *fv = vals[i];
            if (!fv) {
                if (spend(w, t->fields[i].zero_cost) < 0 ||
                    need(w, fv = vtype_zero(t->vt->fields[i].type)) < 0) {
                    value_free(sv);
                    goto done;
                }
            }
            vals[i] = NULL;
            if (!(fs[i].name = strdup(t->fields[i].name))) {
                value_free(fv);
                value_free(sv);
                gob_walk_fail(w, _("out of memory"));
                goto done;
            }
            fs[i].v = fv;
            sv->u.st.len = i + 1;
        }
        *out = sv;
    }
    r = 0;
done:
    if (!top) /* a top-level struct opened no box */
        gob_walk_close(w, box);
    if (vals) {
        for (size_t i = 0; i < t->nfields; i++)
            value_free(vals[i]);
        free(vals);
    }
    return r;
}

/* Decodes a length-prefixed blob (string, []byte, GobEncoder data). */
static int dec_blob(walk *w, const char *tname, bool text, value **out, char *brief, size_t blen)
{
    size_t s = w->pos;
    uint64_t n;
    char u[256], shown[200];
    if (gob_walk_count(w, &n, text ? N_("string length") : N_("byte count")) < 0 || spend(w, 1) < 0)
        return -1;
    const uint8_t *data = w->p + w->pos;
    shown[0] = '\0';
    if (w->ex || brief) {
        if (text)
            explain_quote(shown, sizeof shown, data, n, 60, EXPLAIN_QUOTE_UTF8);
        else
            explain_hex(shown, sizeof shown, data, n, 24, 0);
    }
    if (brief)
        snprintf(brief, blen, "%s", shown);
    if (n == 0) {
        leaf(w, s, SPAN_DATA, _("%s = %s (%s; length 0x00: empty)"), w->path,
             text ? "\"\"" : "[]", tname);
    } else {
        leaf(w, s, SPAN_FRAME, ngettext("%s: %s length %s = %llu byte", "%s: %s length %s = %llu bytes",
                                        (unsigned long)n),
             w->path, tname, gob_uint_words(w, s, u, sizeof u), (unsigned long long)n);
        w->pos += n;
        leaf(w, w->pos - n, SPAN_DATA, "%s = %s%s", w->path, shown,
             text ? "" : _(" (raw bytes)"));
    }
    if (w->build) {
        *out = text ? value_string((const char *)data, n) : value_bytes(data, n);
        return need(w, *out);
    }
    return 0;
}

/* Decodes a bool, an int, a uint, a float64 or a complex128 (explained, never built). */
static int dec_number(walk *w, wtype *t, value **out, char *brief, size_t blen)
{
    char u[320], num[64];
    size_t s = w->pos;
    uint64_t x;
    switch (t->kind) {
    case W_BOOL:
        if (gob_walk_uint(w, &x, N_("a bool")) < 0 || spend(w, 1) < 0)
            return -1;
        leaf(w, s, SPAN_DATA, _("%s = %s (bool, %s)"), w->path, x ? "true" : "false",
             gob_uint_words(w, s, u, sizeof u));
        if (brief)
            snprintf(brief, blen, "%s", x ? "true" : "false");
        if (w->build)
            return need(w, *out = value_bool(x != 0));
        return 0;
    case W_INT: {
        if (gob_walk_uint(w, &x, N_("an int")) < 0 || spend(w, 1) < 0)
            return -1;
        int64_t i = unzigzag(x);
        leaf(w, s, SPAN_DATA, _("%s = %lld (int, %s)"), w->path, (long long)i,
             gob_zigzag_words(w, s, x, u, sizeof u));
        if (brief)
            snprintf(brief, blen, "%lld", (long long)i);
        if (w->build)
            return need(w, *out = value_int(i));
        return 0;
    }
    case W_UINT:
        if (gob_walk_uint(w, &x, N_("a uint")) < 0 || spend(w, 1) < 0)
            return -1;
        leaf(w, s, SPAN_DATA, _("%s = %llu (uint, %s)"), w->path, (unsigned long long)x,
             gob_uint_words(w, s, u, sizeof u));
        if (brief)
            snprintf(brief, blen, "%llu", (unsigned long long)x);
        if (w->build)
            return need(w, *out = value_uint(x));
        return 0;
    case W_FLOAT: {
        if (gob_walk_uint(w, &x, N_("a float")) < 0 || spend(w, 1) < 0)
            return -1;
        double f = bits_float(reverse_bytes(x));
        fmt_float(f, num, sizeof num);
        leaf(w, s, SPAN_DATA, _("%s = %s (float64 with bits 0x%016llx, sent byte-reversed as "
             "the number 0x%llx: %s)"), w->path, num, (unsigned long long)reverse_bytes(x),
             (unsigned long long)x, gob_uint_words(w, s, u, sizeof u));
        if (brief)
            snprintf(brief, blen, "%s", num);
        if (w->build)
            return need(w, *out = value_float(f));
        return 0;
    }
    default: { /* W_COMPLEX */
        uint64_t y;
        if (gob_walk_uint(w, &x, N_("a complex number's real part")) < 0 ||
            gob_walk_uint(w, &y, N_("a complex number's imaginary part")) < 0)
            return -1;
        char im[64];
        fmt_float(bits_float(reverse_bytes(x)), num, sizeof num);
        fmt_float(bits_float(reverse_bytes(y)), im, sizeof im);
        leaf(w, s, SPAN_DATA, _("%s = (%s%s%si) (complex128: real then imaginary part, each a "
             "byte-reversed float64)"), w->path, num, im[0] == '-' ? "" : "+", im);
        if (w->build)
            return gob_walk_fail(w, _("%s: complex numbers cannot be represented here"), w->path);
        return 0;
    }
    }
}

/* Decodes a slice or an array: a count, then the items. */
static int dec_list(walk *w, wtype *t, value **out, int depth)
{
    char u[320], tn[128] = "";
    size_t s = w->pos;
    if (w->ex)
        gob_type_name(w->d, t, tn, sizeof tn, 0);
    int box = open_box(w, SPAN_DATA, "%s: %s", w->path, tn);
    uint64_t n;
    int r = -1;
    value *l = NULL;
    if (gob_walk_count(w, &n, t->kind == W_ARRAY ? N_("array length") : N_("slice length")) < 0)
        goto done;
    if (t->kind == W_ARRAY && n != (uint64_t)t->len) {
        gob_walk_fail(w, _("%s: array %s sent with %llu items"), w->path, tn,
                      (unsigned long long)n);
        goto done;
    }
    if (t->kind == W_ARRAY)
        leaf(w, s, SPAN_FRAME, _("%s: %llu items (%s; an array's length is sent although the "
             "type fixes it)"), w->path, (unsigned long long)n,
             gob_uint_words(w, s, u, sizeof u));
    else
        leaf(w, s, SPAN_FRAME, ngettext("%s: %llu item follows (%s)", "%s: %llu items follow (%s)",
                                        (unsigned long)n),
             w->path, (unsigned long long)n, gob_uint_words(w, s, u, sizeof u));
    if (spend(w, 1) < 0)
        goto done;
    if (w->build && !(l = value_list())) {
        gob_walk_fail(w, _("out of memory"));
        goto done;
    }
    for (uint64_t i = 0; i < n; i++) {
        if (w->pos >= w->end) {
            gob_walk_fail(w, _("%s: the data ends after %llu of %llu items"), w->path,
                          (unsigned long long)i, (unsigned long long)n);
            goto done;
        }
        value *item = NULL;
        size_t old = wpush(w, "[%llu]", (unsigned long long)i);
        int rr = dec_value(w, t->elem, l ? &item : NULL, depth + 1, NULL, 0);
        w->path[old] = '\0';
        if (rr < 0)
            goto done;
        if (l && value_list_push(l, item) < 0) {
            gob_walk_fail(w, _("out of memory"));
            goto done;
        }
    }
    r = 0;
    if (w->build) {
        *out = l;
        l = NULL;
    }
done:
    value_free(l);
    gob_walk_close(w, box);
    return r;
}

/* Decodes a map: a count, then key and value after key and value. */
static int dec_map(walk *w, wtype *t, value **out, int depth)
{
    char u[320], tn[128];
    size_t s = w->pos;
    gob_type_name(w->d, t, tn, sizeof tn, 0);
    int box = open_box(w, SPAN_DATA, "%s: %s", w->path, tn);
    uint64_t n;
    int r = -1;
    value *m = NULL;
    if (gob_walk_count(w, &n, N_("map size")) < 0)
        goto done;
    leaf(w, s, SPAN_FRAME, ngettext("%s: %llu entry follows (%s)", "%s: %llu entries follow (%s)",
                                    (unsigned long)n),
         w->path, (unsigned long long)n, gob_uint_words(w, s, u, sizeof u));
    if (spend(w, 1) < 0)
        goto done;
    if (w->build && !(m = value_map())) {
        gob_walk_fail(w, _("out of memory"));
        goto done;
    }
    for (uint64_t i = 0; i < n; i++) {
        value *k = NULL, *v = NULL;
        char kb[96];
        if (w->pos >= w->end) {
            gob_walk_fail(w, _("%s: the data ends after %llu of %llu entries"), w->path,
                          (unsigned long long)i, (unsigned long long)n);
            goto done;
        }
        size_t old = wpush(w, w->ex ? _(" key #%llu") : " key #%llu", (unsigned long long)i);
        int rr = dec_value(w, t->key, m ? &k : NULL, depth + 1, kb, sizeof kb);
        w->path[old] = '\0';
        if (rr < 0)
            goto done;
        if (w->pos >= w->end) {
            value_free(k);
            gob_walk_fail(w, _("%s: the data ends before the value of entry %llu"), w->path,
                          (unsigned long long)i);
            goto done;
        }
        if (kb[0])
            old = wpush(w, "[%s]", kb);
        else
            old = wpush(w, "[#%llu]", (unsigned long long)i);
        rr = dec_value(w, t->elem, m ? &v : NULL, depth + 1, NULL, 0);
        w->path[old] = '\0';
        if (rr < 0) {
            value_free(k);
            goto done;
        }
        if (m && value_map_put(m, k, v) < 0) {
            gob_walk_fail(w, _("out of memory"));
            goto done;
        }
    }
    r = 0;
    if (w->build) {
        *out = m;
        m = NULL;
    }
done:
    value_free(m);
    gob_walk_close(w, box);
    return r;
}

/* Decodes an interface value: the concrete type's registered name and id, then its
 * value, length-prefixed; an empty name is nil. */
static int dec_iface(walk *w, value **out, int depth)
{
    char u[320], tn[128];
    size_t s = w->pos;
    uint64_t x;
    int box = open_box(w, SPAN_DATA, _("%s: interface value"), w->path);
    int r = -1;
    uint64_t nlen, cnt;
    if (gob_walk_count(w, &nlen, N_("interface type name length")) < 0)
        goto done;
    if (nlen == 0) {
        leaf(w, s, SPAN_DATA, _("%s = nil (an empty concrete type name: the interface holds "
             "nothing)"), w->path);
        if (spend(w, 1) < 0)
            goto done;
        if (w->build && need(w, *out = value_null()) < 0)
            goto done;
        r = 0;
        goto done;
    }
    if (nlen > 1024) {
        gob_walk_fail(w, _("%s: interface type name of %llu bytes is too long"), w->path,
                      (unsigned long long)nlen);
        goto done;
    }
    leaf(w, s, SPAN_FRAME, _("%s: concrete type name length %llu"), w->path,
         (unsigned long long)nlen);
    explain_quote(u, sizeof u, w->p + w->pos, nlen, 80, EXPLAIN_QUOTE_UTF8);
    w->pos += nlen;
    leaf(w, w->pos - nlen, SPAN_TYPE, _("concrete type name %s, as the sender registered it "
         "with gob.Register"), u);
    size_t is = w->pos;
    if (gob_walk_uint(w, &x, N_("the interface's type id")) < 0)
        goto done;
    int64_t id = unzigzag(x);
    if (id < 0) {
        gob_walk_fail(w, _("%s: type definitions inside an interface value are not supported"),
                      w->path);
        goto done;
    }
    wtype *ct = gob_type_lookup(w->d, id);
    if (!ct) {
        gob_walk_fail(w, _("%s: the interface holds type id %lld, which was never defined on "
                      "this stream"), w->path, (long long)id);
        goto done;
    }
    if (gob_type_resolve(w->d, ct, w->err, w->errlen) < 0) {
        w->failed = true;
        goto done;
    }
    bool bk;
    if (w->build && !gob_type_build(w->d, ct, 0, &bk, w->err, w->errlen)) {
        w->failed = true;
        goto done;
    }
    leaf(w, is, SPAN_TYPE, _("concrete type id %lld = %s (%s)"), (long long)id,
         gob_type_name(w->d, ct, tn, sizeof tn, 0), gob_zigzag_words(w, is, x, u, sizeof u));
    size_t cs = w->pos;
    if (gob_walk_count(w, &cnt, N_("interface value length")) < 0)
        goto done;
    leaf(w, cs, SPAN_FRAME, _("%s: the concrete value takes the next %llu bytes"), w->path,
         (unsigned long long)cnt);
    size_t saved_end = w->end;
    w->end = w->pos + cnt;
    int rr = dec_top(w, ct, out, depth + 1);
    if (rr == 0 && w->pos != w->end)
        rr = gob_walk_fail(w, _("%s: the interface value leaves %zu of its %llu bytes unused"),
                           w->path, w->end - w->pos, (unsigned long long)cnt);
    w->end = saved_end;
    if (rr < 0) {
        if (w->build) {
            value_free(*out);
            *out = NULL;
        }
        goto done;
    }
    r = 0;
done:
    gob_walk_close(w, box);
    return r;
}

/* Decodes one value of type t. brief (may be NULL) receives a short rendering of a
 * scalar, for naming map entries by their keys. */
static int dec_value(walk *w, wtype *t, value **out, int depth, char *brief, size_t blen)
{
    char tn[128];
    if (depth > GOB_MAX_DEPTH)
        return gob_walk_fail(w, _("the value nests more than %d levels deep"), GOB_MAX_DEPTH);
    if (brief && blen)
        brief[0] = '\0';
    switch (t->kind) {
    case W_BOOL:
    case W_INT:
    case W_UINT:
    case W_FLOAT:
    case W_COMPLEX: return dec_number(w, t, out, brief, blen);
    case W_STRING: return dec_blob(w, "string", true, out, brief, blen);
    case W_BYTES: return dec_blob(w, "[]byte", false, out, brief, blen);
    case W_GOBENC:
    case W_BINARY:
    case W_TEXT: {
        const char *how = t->kind == W_GOBENC   ? "GobEncode"
                          : t->kind == W_BINARY ? "MarshalBinary"
                                                : "MarshalText";
        if (w->ex)
            snprintf(tn, sizeof tn, _("%s's %s output"), t->name[0] ? t->name : _("the type"),
                     how);
        else
            snprintf(tn, sizeof tn, "%s's %s output", t->name[0] ? t->name : "the type", how);
        return dec_blob(w, tn, t->kind == W_TEXT, out, brief, blen);
    }
    case W_SLICE:
    case W_ARRAY: return dec_list(w, t, out, depth);
    case W_MAP: return dec_map(w, t, out, depth);
    case W_STRUCT: return dec_struct(w, t, out, depth, false);
    case W_IFACE: return dec_iface(w, out, depth);
    }
    return gob_walk_fail(w, _("unknown type kind"));
}

/* ---- a value message ---- */

int gob_walk_value(walk *w, int64_t id, value **out, const vtype **type)
{
    gob_dec *d = w->d;
    if (id == 0 || id > INT32_MAX)
        return gob_walk_fail(w, _("type id %lld is not a valid type id"), (long long)id);
    wtype *t = gob_type_lookup(d, id);
    if (!t)
        return gob_walk_fail(w, _("a value of type id %lld, but that id was never defined on this "
                             "stream (a type id used before its definition)"), (long long)id);
    if (gob_type_resolve(d, t, w->err, w->errlen) < 0) {
        w->failed = true;
        return -1;
    }
    const vtype *vt = NULL;
    bool bk;
    if (w->build && !(vt = gob_type_build(d, t, 0, &bk, w->err, w->errlen))) {
        w->failed = true;
        return -1;
    }
    if (t->kind != W_STRUCT)
        snprintf(w->path, sizeof w->path, "%s", w->ex ? _("value") : "value");
    if (dec_top(w, t, out, 0) < 0)
        return -1;
    if (w->pos < w->end) {
        size_t s = w->pos;
        w->pos = w->end;
        leaf(w, s, SPAN_ERROR, ngettext("%zu byte after the value that nothing reads (Go ignores "
                                        "them too)",
                                        "%zu bytes after the value that nothing reads (Go "
                                        "ignores them too)", (unsigned long)(w->end - s)),
             w->end - s);
    }
    if (type)
        *type = vt;
    return 0;
}
