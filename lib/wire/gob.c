/* gob.c -- Go's encoding/gob wire format: decoding and explaining messages, the public face.
 *
 * Written from the format's documentation (encoding/gob/doc.go) and checked against
 * bytes captured from Go (tests/go/gobvectors). In short:
 *   - an unsigned integer below 128 is one byte; otherwise a byte holding minus the
 *     number of bytes that follow, then the value big-endian in as few bytes as fit;
 *   - a signed integer is sent as an unsigned one, zigzag style: the low bit says
 *     whether to complement the rest;
 *   - a float64 is its IEEE bits with the bytes reversed, sent as an unsigned integer;
 *   - strings and []byte are a length then the bytes; slices, arrays and maps a count
 *     then the items; a struct is a list of (field number delta, value) pairs with
 *     zero-valued fields left out, ended by a 0 delta;
 *   - a top-level value that is not a struct is sent as if it were field 0 of a struct:
 *     a 0 byte, then the value, zero or not;
 *   - every message is framed by its length; a message starts with a type id, negative
 *     when it defines that type (a wireType struct follows), positive for a value.
 * The encoder is in gob_enc.c; the type table and the reading of type definitions in
 * gob_type.c; the walker that decoder and explainer share, so that what is explained is
 * exactly what is decoded, in gob_walk.c. */
#include "wire/gob.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/err.h"
#include "base/i18n.h"
#include "wire/gob_int.h"

/* ---- messages ---- */

/* Reads a message's length prefix at p[0..n). Returns 1 with the prefix size in *hdr and
 * the message size in *len, 0 when more bytes are needed, -1 when malformed. */
static int frame(const uint8_t *p, size_t n, size_t max, size_t *hdr, size_t *len, char *err,
                 size_t errlen)
{
    if (n == 0)
        return 0;
    uint8_t b = p[0];
    uint64_t v = b;
    *hdr = 1;
    if (b > 0x7f) {
        size_t k = 256u - b;
        if (k > 8) {
            err_set(err, errlen, _("0x%02x cannot start a message length (it would announce %zu "
                   "bytes; a gob number has at most 8)"), b, k);
            return -1;
        }
        if (n - 1 < k)
            return 0;
        v = 0;
        for (size_t i = 0; i < k; i++)
            v = (v << 8) | p[1 + i];
        *hdr = 1 + k;
    }
    if (v == 0) {
        err_set(err, errlen, _("empty message (length 0)"));
        return -1;
    }
    if (v > max) {
        err_set(err, errlen, _("a message of %llu bytes is over the %zu-byte limit"),
               (unsigned long long)v, max);
        return -1;
    }
    *len = (size_t)v;
    return n - *hdr >= v ? 1 : 0;
}

int gob_decode(gob_dec *d, const uint8_t *p, size_t n, size_t *used, value **out,
               const vtype **type, char *err, size_t errlen)
{
    size_t pos = 0;
    *used = 0;
    *out = NULL;
    if (type)
        *type = NULL;
    for (;;) {
        size_t hdr, len;
        int r = frame(p + pos, n - pos, d->max_message, &hdr, &len, err, errlen);
        if (r <= 0) {
            *used = pos;
            return r == 0 ? GOB_MORE : GOB_BROKEN;
        }
        walk w = {.d = d, .p = p + pos, .pos = hdr, .end = hdr + len, .build = true,
                  .budget = sat_add(sat_mul(len, 4), 65536), .err = err, .errlen = errlen};
        uint64_t x;
        if (gob_walk_uint(&w, &x, N_("the type id")) < 0) {
            *used = pos;
            return GOB_BROKEN;
        }
        int64_t id = unzigzag(x);
        if (id < 0) {
            if (gob_type_define(&w, id, NULL) < 0) {
                *used = pos;
                return GOB_BROKEN;
            }
            pos += hdr + len;
            continue;
        }
        pos += hdr + len;
        *used = pos;
        value *v = NULL;
        const vtype *vt = NULL;
        if (gob_walk_value(&w, id, &v, &vt) < 0) {
            value_free(v);
            return GOB_BAD_VALUE;
        }
        *out = v;
        if (type)
            *type = vt;
        return GOB_VALUE;
    }
}

long gob_scan(const uint8_t *p, size_t n, int count, size_t max_message, char *err, size_t errlen)
{
    size_t max = max_message ? max_message : GOB_DEFAULT_MAX_MESSAGE;
    size_t pos = 0;
    for (int got = 0; got < count;) {
        size_t hdr, len;
        int r = frame(p + pos, n - pos, max, &hdr, &len, err, errlen);
        if (r <= 0)
            return r;
        walk w = {.p = p + pos, .pos = hdr, .end = hdr + len};
        uint64_t x;
        if (gob_walk_uint(&w, &x, N_("the type id")) < 0) {
            err_set(err, errlen, _("a message does not start with a valid type id"));
            return -1;
        }
        if (!(x & 1)) /* zigzag: even means a non-negative id, so a value */
            got++;
        pos += hdr + len;
        if (pos > LONG_MAX)
            return -1;
    }
    return (long)pos;
}

/* ---- explaining ---- */

struct gob_explainer {
    gob_dec *d;
    unsigned msgno;      /* messages explained so far */
    unsigned last_value; /* number of the last value message */
    unsigned told;       /* encodings already spelled out in full (TOLD_*) */
};

gob_explainer *gob_explainer_new(void)
{
    gob_explainer *x = calloc(1, sizeof *x);
    if (x && !(x->d = gob_dec_new(0))) {
        free(x);
        return NULL;
    }
    return x;
}

void gob_explainer_free(gob_explainer *x)
{
    if (!x)
        return;
    gob_dec_free(x->d);
    free(x);
}

int gob_explain_message(gob_explainer *x, const uint8_t *p, size_t n, size_t base, int depth,
                        explain *e, gob_msg_info *info)
{
    char err[320] = "", u[256], tn[128], how[480];
    size_t hdr, len;
    int r = frame(p, n, x->d->max_message, &hdr, &len, err, sizeof err);
    if (r == 0)
        return 0;
    if (r < 0) {
        explain_add(e, base, n, depth, SPAN_ERROR, "gob", _("not a valid gob message: %s"), err);
        return -1;
    }
    size_t total = hdr + len;
    int box = explain_add(e, base, total, depth, SPAN_FRAME, "gob", _("message, %zu bytes"),
                          total);
    walk w = {.d = x->d, .p = p, .pos = hdr, .end = total, .ex = e, .base = base,
              .depth = depth + 1, .err = err, .errlen = sizeof err, .told = &x->told};
    leaf(&w, 0, SPAN_FRAME, _("message length %zu (%s): the rest of the message"), len,
         gob_uint_words(&w, 0, u, sizeof u));
    size_t s = w.pos;
    uint64_t raw;
    wtype *t = NULL;
    if (gob_walk_uint(&w, &raw, N_("the type id")) < 0)
        goto fail;
    int64_t id = unzigzag(raw);
    if (id < 0) {
        leaf(&w, s, SPAN_TYPE, _("type id %lld (%s): negative, so this message defines type %lld"),
             (long long)id, gob_zigzag_words(&w, s, raw, how, sizeof how),
             -(long long)(id + 1) + 1);
        if (gob_type_define(&w, id, &t) < 0)
            goto fail;
        t->defined_msg = ++x->msgno;
        gob_type_name(x->d, t, tn, sizeof tn, 0);
        explain_retitle(e, box, _("message, %zu bytes: type definition for id %d (%s)"), total,
                        (int)t->id, t->name[0] ? t->name : tn);
    } else {
        wtype *vt = id > 0 && id <= INT32_MAX ? gob_type_lookup(x->d, id) : NULL;
        if (!vt)
            snprintf(how, sizeof how, "%s", _("a type id that was never defined on this connection"));
        else if (vt->kind < W_ARRAY)
            snprintf(how, sizeof how, _("uses type %lld (%s), one of gob's predefined types, "
                     "which are never defined on the wire"), (long long)id, vt->name);
        else if (vt->defined_msg > x->last_value)
            snprintf(how, sizeof how, _("uses type %lld (%s), defined by a type definition "
                     "message just before this one"), (long long)id,
                     gob_type_name(x->d, vt, tn, sizeof tn, 0));
        else
            snprintf(how, sizeof how, _("uses type %lld (%s), defined earlier on this "
                     "connection: its definition is not sent again"), (long long)id,
                     gob_type_name(x->d, vt, tn, sizeof tn, 0));
        char zz[320];
        leaf(&w, s, SPAN_FRAME, _("type id %lld (%s): a value; %s"), (long long)id,
             gob_zigzag_words(&w, s, raw, zz, sizeof zz), how);
        if (gob_walk_value(&w, id, NULL, NULL) < 0)
            goto fail;
        t = vt;
        x->last_value = ++x->msgno;
        explain_retitle(e, box, _("message, %zu bytes: value of type %s (id %lld)"), total,
                        gob_type_name(x->d, t, tn, sizeof tn, 0), (long long)id);
    }
    if (info) {
        info->type_def = id < 0;
        info->type_id = (long)t->id;
        gob_type_name(x->d, t, info->type_name, sizeof info->type_name, 0);
        info->len = total;
    }
    return (int)total;
fail:
    explain_add(e, base + w.covered, n - w.covered, depth + 1, SPAN_ERROR, "gob",
                _("not valid gob: %s"), err[0] ? err : _("malformed data"));
    return -1;
}
