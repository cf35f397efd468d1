/* netrpc.c -- Go's net/rpc default codec: gob-encoded call headers and bodies. */
#include "wire/netrpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/esc.h"
#include "base/i18n.h"

static const vtype_field request_fields[] = {
    {"ServiceMethod", &vtype_string},
    {"Seq", &vtype_uint},
};
static const vtype_field response_fields[] = {
    {"ServiceMethod", &vtype_string},
    {"Seq", &vtype_uint},
    {"Error", &vtype_string},
};
const vtype netrpc_request_type = {.kind = T_STRUCT, .name = "Request",
                                   .fields = request_fields, .nfields = 2};
const vtype netrpc_response_type = {.kind = T_STRUCT, .name = "Response",
                                    .fields = response_fields, .nfields = 3};
/* What Go's server sends as the body of an error response: struct{}{}. */
static const vtype empty_struct = {.kind = T_STRUCT};

/* Builds a header value; error NULL for a Request. */
static value *header(const char *method, uint64_t seq, const char *error, bool response)
{
    value *h = value_struct(response ? "Response" : "Request");
    if (!h || value_struct_set(h, "ServiceMethod", value_cstring(method ? method : "")) < 0 ||
        value_struct_set(h, "Seq", value_uint(seq)) < 0 ||
        (response && value_struct_set(h, "Error", value_cstring(error ? error : "")) < 0)) {
        value_free(h);
        return NULL;
    }
    return h;
}

int netrpc_write_request(gob_enc *e, buf *out, const char *method, uint64_t seq,
                         const vtype *argt, const value *arg, char *err, size_t errlen)
{
    if (!argt) {
        err_set(err, errlen, "no argument type");
        return -1;
    }
    value *h = header(method, seq, NULL, false);
    if (!h) {
        err_set(err, errlen, "out of memory");
        return -1;
    }
    const vtype *types[2] = {&netrpc_request_type, argt};
    const value *vals[2] = {h, arg};
    int r = gob_encode_many(e, 2, types, vals, out, err, errlen);
    value_free(h);
    return r;
}

int netrpc_write_response(gob_enc *e, buf *out, const char *method, uint64_t seq,
                          const char *error, const vtype *replyt, const value *reply, char *err,
                          size_t errlen)
{
    bool failed = error && error[0];
    if (!failed && !replyt) {
        err_set(err, errlen, "no reply type");
        return -1;
    }
    /* the header copies error first: it may live in err */
    value *h = header(method, seq, failed ? error : NULL, true);
    if (!h) {
        err_set(err, errlen, "out of memory");
        return -1;
    }
    const vtype *types[2] = {&netrpc_response_type, failed ? &empty_struct : replyt};
    const value *vals[2] = {h, failed ? NULL : reply};
    int r = gob_encode_many(e, 2, types, vals, out, err, errlen);
    value_free(h);
    return r;
}

void netrpc_msg_done(netrpc_msg *m)
{
    if (!m)
        return;
    free(m->method);
    free(m->error);
    value_free(m->body);
    memset(m, 0, sizeof *m);
}

/* Copies the string field name of header h into *out; a missing field is "". A NUL byte
 * inside it, which a C string would cut the name short at, is spelled \x00 (base/esc). */
static int header_string(const value *h, const char *name, char **out)
{
    const value *f = value_get(h, name);
    if (f && f->kind != V_STRING)
        return -1;
    if (f && memchr(f->u.s.p, '\0', f->u.s.len)) {
        size_t cap = 4 * f->u.s.len + 4;
        *out = malloc(cap);
        if (*out)
            esc_bytes(*out, cap, f->u.s.p, f->u.s.len);
    } else {
        *out = strdup(f ? f->u.s.p : "");
    }
    return *out ? 0 : -1;
}

long netrpc_read(gob_dec *d, const uint8_t *p, size_t n, bool response, netrpc_msg *m, char *err,
                 size_t errlen)
{
    char why[384] = "";
    memset(m, 0, sizeof *m);
    long total = gob_scan(p, n, 2, gob_dec_max_message(d), why, sizeof why);
    if (total == 0)
        return 0;
    if (total < 0) {
        err_set(err, errlen, "%s", why);
        return -1;
    }
    const char *what = response ? "Response" : "Request";
    size_t used = 0;
    value *h = NULL;
    int r = gob_decode(d, p, (size_t)total, &used, &h, NULL, why, sizeof why);
    if (r != GOB_VALUE) {
        err_set(err, errlen, "cannot read the net/rpc %s header: %s", what,
                r == GOB_MORE ? "incomplete" : why);
        return -1;
    }
    const value *seq = value_get(h, "Seq");
    bool ok = h->kind == V_STRUCT && header_string(h, "ServiceMethod", &m->method) == 0 &&
              (!response || header_string(h, "Error", &m->error) == 0) &&
              (!seq || seq->kind == V_UINT || (seq->kind == V_INT && seq->u.i >= 0));
    if (ok && seq)
        m->seq = seq->kind == V_UINT ? seq->u.u : (uint64_t)seq->u.i;
    value_free(h);
    if (!ok) {
        netrpc_msg_done(m);
        err_set(err, errlen, "the header is not a net/rpc %s {ServiceMethod string; Seq "
                "uint64%s}", what, response ? "; Error string" : "");
        return -1;
    }
    if (m->error && !m->error[0]) {
        free(m->error);
        m->error = NULL;
    }
    size_t hused = used;
    r = gob_decode(d, p + hused, (size_t)total - hused, &used, &m->body, &m->body_type, why,
                   sizeof why);
    m->used = hused + used;
    if (r == GOB_VALUE)
        return (long)m->used;
    if (r == GOB_BAD_VALUE) {
        err_set(err, errlen, "cannot decode the %s of %s: %s",
                response ? "reply" : "argument", m->method, why);
        return -2;
    }
    err_set(err, errlen, "cannot read the body after the %s header: %s", what,
            r == GOB_MORE ? "incomplete" : why);
    netrpc_msg_done(m);
    return -1;
}

/* ---- explaining ---- */

/* Explains the gob messages in p[start..end) into e at depth; info gets the last one's.
 * Returns 0, or -1 after an error span. */
static int explain_part(gob_explainer *x, const uint8_t *p, size_t start, size_t end, int depth,
                        explain *e, gob_msg_info *info)
{
    size_t pos = start;
    while (pos < end) {
        int r = gob_explain_message(x, p + pos, end - pos, pos, depth, e, info);
        if (r <= 0)
            return -1; /* gob_scan already vouched for completeness */
        pos += (size_t)r;
    }
    return 0;
}

/* Explains what is left from pos when no complete header+body pair remains: messages
 * as far as they go, then a note about the incomplete one. */
static int explain_tail(gob_explainer *x, const uint8_t *p, size_t pos, size_t n, explain *e)
{
    while (pos < n) {
        int r = gob_explain_message(x, p + pos, n - pos, pos, 0, e, NULL);
        if (r < 0)
            return -1;
        if (r == 0) {
            explain_add(e, pos, n - pos, 0, SPAN_FRAME, "rpc",
                        _("incomplete: the rest of this gob message has not arrived (%zu bytes "
                          "captured)"), n - pos);
            return 0;
        }
        pos += (size_t)r;
    }
    return 0;
}

struct netrpc_explainer {
    gob_explainer *x;
    gob_dec *d;
    bool response, broken;
    int call;
    size_t pos;
};

netrpc_explainer *netrpc_explainer_new(bool response)
{
    netrpc_explainer *nx = calloc(1, sizeof *nx);
    if (!nx)
        return NULL;
    nx->x = gob_explainer_new();
    nx->d = gob_dec_new(0);
    if (!nx->x || !nx->d) {
        netrpc_explainer_free(nx);
        return NULL;
    }
    nx->response = response;
    return nx;
}

void netrpc_explainer_free(netrpc_explainer *nx)
{
    if (!nx)
        return;
    gob_explainer_free(nx->x);
    gob_dec_free(nx->d);
    free(nx);
}

/* The title of call nx->call, its header decoded with nx->d (m gets what it holds). */
static void pair_title(netrpc_explainer *nx, const uint8_t *p, size_t n, netrpc_msg *m,
                       char *title, size_t cap)
{
    bool response = nx->response;
    int call = nx->call;
    char why[256] = "";
    long r = netrpc_read(nx->d, p + nx->pos, n - nx->pos, response, m, why, sizeof why);
    if ((r > 0 || r == -2) && m->error)
        snprintf(title, cap,
                 response ? _("net/rpc response #%d: %s, seq %llu, error \"%s\"")
                          : _("net/rpc request #%d: %s, seq %llu, error \"%s\""),
                 call, m->method, (unsigned long long)m->seq, m->error);
    else if (r > 0 || r == -2)
        snprintf(title, cap,
                 response ? _("net/rpc response #%d: %s, seq %llu")
                          : _("net/rpc request #%d: %s, seq %llu"),
                 call, m->method, (unsigned long long)m->seq);
    else
        snprintf(title, cap,
                 response ? _("net/rpc response #%d (the header does not decode: %s)")
                          : _("net/rpc request #%d (the header does not decode: %s)"),
                 call, why);
}

/* Explains the header+body pair at nx->pos, which has wholly arrived (hl and bl bytes). */
static void explain_pair(netrpc_explainer *nx, const uint8_t *p, size_t n, size_t hl, size_t bl,
                         explain *e)
{
    bool response = nx->response;
    size_t pos = nx->pos, hend = pos + hl, bend = hend + bl;
    gob_msg_info hinfo = {0}, binfo = {0};
    explain hx, bx;
    explain_init(&hx);
    explain_init(&bx);
    int hr = explain_part(nx->x, p, pos, hend, 2, &hx, &hinfo);
    int br = hr == 0 ? explain_part(nx->x, p, hend, bend, 2, &bx, &binfo) : -1;

    /* decode the header too, for the headings */
    netrpc_msg m = {0};
    char title[512];
    pair_title(nx, p, n, &m, title, sizeof title);
    explain_add(e, pos, bend - pos, 0, SPAN_FRAME, "rpc", "%s", title);
    explain_add(e, pos, hl, 1, SPAN_FRAME, "rpc", "%s",
                response ? _("header: Response{ServiceMethod, Seq, Error}, which the server "
                             "sends before every reply")
                         : _("header: Request{ServiceMethod, Seq}, which the client sends "
                             "before every argument"));
    /* The header's values (method name, sequence number) are envelope, not payload. */
    for (size_t i = 0; i < hx.len; i++)
        if (hx.spans[i].cls == SPAN_DATA)
            hx.spans[i].cls = SPAN_FRAME;
    /* So is the empty body of an error reply. */
    for (size_t i = 0; m.error && i < bx.len; i++)
        if (bx.spans[i].cls == SPAN_DATA)
            bx.spans[i].cls = SPAN_FRAME;
    explain_append(e, &hx, 0, 0);
    if (hr == 0) {
        if (!response)
            explain_add(e, hend, bl, 1, SPAN_FRAME, "rpc", _("argument: %s"), binfo.type_name);
        else if (m.error)
            explain_add(e, hend, bl, 1, SPAN_FRAME, "rpc",
                        _("error body: the empty struct{} Go's server sends in place of "
                          "the reply when Error is set; Go's client reads it and throws it "
                          "away"));
        else
            explain_add(e, hend, bl, 1, SPAN_FRAME, "rpc", _("reply: %s"), binfo.type_name);
        explain_append(e, &bx, 0, 0);
    }
    netrpc_msg_done(&m);
    explain_done(&hx);
    explain_done(&bx);
    if (hr < 0 || br < 0)
        nx->broken = true;
    else
        nx->pos = bend;
}

size_t netrpc_explainer_feed(netrpc_explainer *nx, const uint8_t *p, size_t n, explain *e)
{
    while (!nx->broken && nx->pos < n) {
        size_t pos = nx->pos;
        long hl = gob_scan(p + pos, n - pos, 1, 0, NULL, 0);
        long bl = hl > 0 ? gob_scan(p + pos + hl, n - pos - (size_t)hl, 1, 0, NULL, 0) : 0;
        if (hl <= 0 || bl <= 0)
            break;
        nx->call++;
        explain_pair(nx, p, n, (size_t)hl, (size_t)bl, e);
    }
    return nx->pos;
}

int netrpc_explain(const uint8_t *p, size_t n, bool response, explain *e)
{
    netrpc_explainer *nx = netrpc_explainer_new(response);
    if (!nx)
        return -1;
    size_t pos = netrpc_explainer_feed(nx, p, n, e);
    int rc = nx->broken ? -1 : pos < n ? explain_tail(nx->x, p, pos, n, e) : 0;
    netrpc_explainer_free(nx);
    return rc;
}

/* Whether a vtype is one of gob's own types, which no definition introduces. */
static bool predefined(const vtype *t)
{
    return t && (t->kind == T_BOOL || t->kind == T_INT || t->kind == T_UINT || t->kind == T_FLOAT ||
                 t->kind == T_STRING || t->kind == T_BYTES || t->kind == T_ANY);
}

int netrpc_declare(const uint8_t *p, size_t n, bool response, buf *out, char *err, size_t errlen)
{
    gob_dec *d = gob_dec_new(0);
    if (!d) {
        err_set(err, errlen, "out of memory");
        return -1;
    }
    int rc = 0;
    size_t pos = 0;
    for (int call = 0; pos < n; call++) {
        size_t used;
        value *h = NULL, *body = NULL;
        const vtype *bt = NULL;
        int r = gob_decode(d, p + pos, n - pos, &used, &h, NULL, err, errlen);
        pos += used;
        if (r != GOB_VALUE) {
            value_free(h);
            rc = r == GOB_MORE ? 0 : -1;
            break;
        }
        const value *e = response ? value_get(h, "Error") : NULL;
        bool failed = e && e->kind == V_STRING && e->u.s.len > 0;
        value_free(h);
        int32_t last = gob_dec_last_id(d);
        r = gob_decode(d, p + pos, n - pos, &used, &body, &bt, err, errlen);
        pos += used;
        value_free(body);
        if (r == GOB_MORE)
            break;
        if (r == GOB_BROKEN) {
            rc = -1;
            break;
        }
        if (failed || r != GOB_VALUE)
            continue;
        bool defined = gob_dec_last_id(d) > last;
        if (gob_dec_declare(d, last, out) > 0 || (!defined && call > 0))
            continue;
        char spelled[512];
        vtype_describe(bt, spelled, sizeof spelled);
        if (predefined(bt))
            buf_printf(out, _("%s (gob's own type: no definition travels)\n"), spelled);
        else
            buf_printf(out, "%s\n", spelled);
    }
    gob_dec_free(d);
    return rc;
}
