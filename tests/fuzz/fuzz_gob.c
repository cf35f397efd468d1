/* fuzz_gob.c -- libFuzzer target: arbitrary bytes into the gob decoder, net/rpc reader and
 * both explainers. Besides "no crash, no leak, no undefined behaviour" it checks:
 *   - every value the decoder returns re-encodes into a well-formed stream that decodes
 *     back to an equal value (when it can be encoded at all: interfaces cannot);
 *   - explanation spans stay inside the input, leaves never overlap, and when the
 *     explainer reports success its leaves cover every byte exactly. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/gob.h"
#include "wire/netrpc.h"

static bool has_nan(const value *v)
{
    switch (v->kind) {
    case V_FLOAT: return isnan(v->u.f);
    case V_LIST:
        for (size_t i = 0; i < v->u.list.len; i++)
            if (has_nan(v->u.list.items[i]))
                return true;
        return false;
    case V_MAP:
        for (size_t i = 0; i < v->u.map.len; i++)
            if (has_nan(v->u.map.items[i].k) || has_nan(v->u.map.items[i].v))
                return true;
        return false;
    case V_STRUCT:
        for (size_t i = 0; i < v->u.st.len; i++)
            if (has_nan(v->u.st.fields[i].v))
                return true;
        return false;
    default: return false;
    }
}

static void round_trip(const vtype *t, const value *v)
{
    gob_enc *e = gob_enc_new();
    gob_dec *d = gob_dec_new(0);
    buf out;
    buf_init(&out, 1 << 24);
    char err[256];
    if (gob_encode(e, t, v, &out, err, sizeof err) == 0) {
        size_t used;
        value *back = NULL;
        const vtype *bt;
        int r = gob_decode(d, buf_data(&out), buf_size(&out), &used, &back, &bt, err, sizeof err);
        if (r == GOB_BROKEN || r == GOB_MORE)
            abort(); /* our encoder wrote a malformed stream */
        if (r == GOB_VALUE && (used != buf_size(&out) || (!has_nan(v) && !value_equal(v, back))))
            abort();
        value_free(back);
    }
    buf_done(&out);
    gob_enc_free(e);
    gob_dec_free(d);
}

static void check_spans(const explain *e, size_t n, bool complete)
{
    size_t at = 0;
    for (size_t i = 0; i < e->len; i++) {
        const span *s = &e->spans[i];
        if (s->off > n || s->len > n - s->off)
            abort();
        if (i + 1 < e->len && e->spans[i + 1].depth > s->depth)
            continue;
        if (s->off < at || (complete && s->off != at))
            abort();
        at = s->off + s->len;
    }
    if (complete && at != n)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    /* the decoder, value after value */
    gob_dec *d = gob_dec_new(1 << 16);
    size_t pos = 0;
    for (int k = 0; k < 64 && pos <= n; k++) {
        size_t used = 0;
        value *v = NULL;
        const vtype *t = NULL;
        char err[256];
        int r = gob_decode(d, p + pos, n - pos, &used, &v, &t, err, sizeof err);
        if (used > n - pos)
            abort();
        pos += used;
        if (r == GOB_VALUE) {
            if (!v || !t)
                abort();
            round_trip(t, v);
        }
        value_free(v);
        if (r == GOB_MORE || r == GOB_BROKEN)
            break;
    }
    gob_dec_free(d);

    /* net/rpc, both directions */
    for (int response = 0; response < 2; response++) {
        d = gob_dec_new(1 << 16);
        pos = 0;
        for (int k = 0; k < 32; k++) {
            netrpc_msg m = {0};
            char err[256];
            long r = netrpc_read(d, p + pos, n - pos, response, &m, err, sizeof err);
            if (r > 0 && ((size_t)r != m.used || !m.method || !m.body))
                abort();
            if (r == -2 && (!m.method || m.body))
                abort();
            if (m.used > n - pos)
                abort();
            pos += m.used;
            netrpc_msg_done(&m);
            if (r == 0 || r == -1)
                break;
        }
        gob_dec_free(d);
    }

    /* the message explainer */
    gob_explainer *x = gob_explainer_new();
    explain e;
    explain_init(&e);
    pos = 0;
    int r = 1;
    while (pos < n && (r = gob_explain_message(x, p + pos, n - pos, pos, 0, &e, NULL)) > 0)
        pos += (size_t)r;
    check_spans(&e, n, false);
    explain_done(&e);
    gob_explainer_free(x);

    /* the stream explainer, and rendering its result */
    for (int response = 0; response < 2; response++) {
        explain_init(&e);
        int rc = netrpc_explain(p, n, response, &e);
        check_spans(&e, n, rc == 0);
        buf out;
        buf_init(&out, 1 << 20);
        explain_render(&e, p, n, NULL, &out);
        buf_done(&out);
        explain_done(&e);
    }
    return 0;
}
