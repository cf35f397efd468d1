/* sniff_detect.c -- which RPC protocol a connection speaks, told by its bytes (never its
 * port): from a direction's first bytes, or from a boundary found mid-way. */
#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "capture/sniff_int.h"
#include "wire/gob.h"
#include "wire/jsonscan.h"

static const char PREFACE[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

const char *sniff_proto_title(sniff_proto p)
{
    switch (p) {
    case SNIFF_GOB: return _("Go net/rpc with gob");
    case SNIFF_JSONRPC: return _("JSON-RPC");
    case SNIFF_GRPC: return _("gRPC over HTTP/2 (h2c)");
    case SNIFF_HTTP: return _("HTTP/1.x");
    default: return _("unknown");
    }
}

/* ---- from the first byte ---- */

static sniff_found preface(const uint8_t *p, size_t n)
{
    size_t k = n < 24 ? n : 24;
    if (memcmp(p, PREFACE, k) != 0)
        return SNIFF_FOUND_NONE;
    return n < 24 ? SNIFF_FOUND_MORE : SNIFF_FOUND_CLIENT;
}

static sniff_found json_start(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    if (i == n)
        return SNIFF_FOUND_MORE;
    if (p[i] != '{')
        return SNIFF_FOUND_NONE;
    size_t a, b;
    int r = jsonscan((const char *)p, n, 0, &a, &b, NULL, NULL, NULL, 0);
    if (r == 0)
        return SNIFF_FOUND_MORE;
    if (r < 0)
        return SNIFF_FOUND_NONE;
    return sniff_json_role(p + a, b - a);
}

static sniff_found gob_start(const uint8_t *p, size_t n)
{
    if (p[0] >= 0x80 && p[0] < 0xf8)
        return SNIFF_FOUND_NONE;
    gob_dec *d = gob_dec_new(1u << 16);
    if (!d)
        return SNIFF_FOUND_NONE;
    size_t used;
    value *v = NULL;
    const vtype *t;
    int r = gob_decode(d, p, n, &used, &v, &t, NULL, 0);
    sniff_found f = SNIFF_FOUND_NONE;
    if (r == GOB_MORE)
        f = SNIFF_FOUND_MORE;
    else if (r == GOB_VALUE && used > 0 && v && v->kind == V_STRUCT) {
        const value *m = value_get(v, "ServiceMethod");
        if (m && m->kind == V_STRING && value_get(v, "Seq"))
            f = value_get(v, "Error") ? SNIFF_FOUND_SERVER : SNIFF_FOUND_CLIENT;
    }
    value_free(v);
    gob_dec_free(d);
    return f;
}

/* ---- caught mid-way ---- */

static sniff_found json_mid(const uint8_t *p, size_t n)
{
    long at = sniff_json_sync(p, n);
    if (at < 0)
        return at == -1 ? SNIFF_FOUND_MORE : SNIFF_FOUND_NONE;
    size_t a, b;
    if (jsonscan((const char *)p + at, n - (size_t)at, 0, &a, &b, NULL, NULL, NULL, 0) != 1)
        return SNIFF_FOUND_MORE;
    return sniff_json_role(p + at + a, b - a);
}

static sniff_found gob_mid(const uint8_t *p, size_t n)
{
    long at = sniff_gob_sync(p, n, 4u << 20);
    if (at < 0)
        return at == -1 ? SNIFF_FOUND_MORE : SNIFF_FOUND_NONE;
    int r = sniff_gob_headers(p, n, (size_t)at);
    return r > 0 ? SNIFF_FOUND_SERVER : r == 0 ? SNIFF_FOUND_EITHER : SNIFF_FOUND_MORE;
}

sniff_found sniff_detect(const uint8_t *p, size_t n, bool start, sniff_proto *proto)
{
    sniff_found f, more = SNIFF_FOUND_NONE;
    if (n == 0)
        return SNIFF_FOUND_MORE;
    bool req;
    if (start) {
        if ((f = preface(p, n)) != SNIFF_FOUND_NONE) {
            *proto = SNIFF_GRPC;
            return f;
        }
        long h = sniff_http_sync(p, n, &req);
        if (h == 0) {
            *proto = SNIFF_HTTP;
            return req ? SNIFF_FOUND_CLIENT : SNIFF_FOUND_SERVER;
        }
        if ((f = json_start(p, n)) != SNIFF_FOUND_NONE) {
            *proto = SNIFF_JSONRPC;
            if (f != SNIFF_FOUND_MORE)
                return f;
            more = f;
        }
        if ((f = gob_start(p, n)) != SNIFF_FOUND_NONE) {
            *proto = SNIFF_GOB;
            if (f != SNIFF_FOUND_MORE)
                return f;
            more = f;
        }
        if (h == -1)
            more = SNIFF_FOUND_MORE;
    }
    long at = sniff_h2_sync(p, n);
    if (at >= 0) {
        *proto = SNIFF_GRPC;
        return SNIFF_FOUND_EITHER;
    }
    if (at == -1)
        more = SNIFF_FOUND_MORE;
    if (sniff_http_sync(p, n, &req) >= 0) {
        *proto = SNIFF_HTTP;
        return req ? SNIFF_FOUND_CLIENT : SNIFF_FOUND_SERVER;
    }
    if ((f = json_mid(p, n)) != SNIFF_FOUND_NONE && f != SNIFF_FOUND_MORE) {
        *proto = SNIFF_JSONRPC;
        return f;
    }
    if (f == SNIFF_FOUND_MORE)
        more = f;
    if ((f = gob_mid(p, n)) != SNIFF_FOUND_NONE && f != SNIFF_FOUND_MORE) {
        *proto = SNIFF_GOB;
        return f;
    }
    if (f == SNIFF_FOUND_MORE)
        more = f;
    return more;
}
