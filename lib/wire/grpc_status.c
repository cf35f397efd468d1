/* grpc_status.c -- the names of gRPC's status codes, and google.rpc.Status decoded. */
#include "wire/grpc_status.h"

#include <stdlib.h>
#include <string.h>

#include "base/b64.h"
#include "base/err.h"
#include "status.pb-c.h"
#include "wire/pbdesc.h"
#include "wire/pbjson.h"

static const char *const names[] = {
    [GRPC_OK] = "OK",
    [GRPC_CANCELLED] = "CANCELLED",
    [GRPC_UNKNOWN] = "UNKNOWN",
    [GRPC_INVALID_ARGUMENT] = "INVALID_ARGUMENT",
    [GRPC_DEADLINE_EXCEEDED] = "DEADLINE_EXCEEDED",
    [GRPC_NOT_FOUND] = "NOT_FOUND",
    [GRPC_ALREADY_EXISTS] = "ALREADY_EXISTS",
    [GRPC_PERMISSION_DENIED] = "PERMISSION_DENIED",
    [GRPC_RESOURCE_EXHAUSTED] = "RESOURCE_EXHAUSTED",
    [GRPC_FAILED_PRECONDITION] = "FAILED_PRECONDITION",
    [GRPC_ABORTED] = "ABORTED",
    [GRPC_OUT_OF_RANGE] = "OUT_OF_RANGE",
    [GRPC_UNIMPLEMENTED] = "UNIMPLEMENTED",
    [GRPC_INTERNAL] = "INTERNAL",
    [GRPC_UNAVAILABLE] = "UNAVAILABLE",
    [GRPC_DATA_LOSS] = "DATA_LOSS",
    [GRPC_UNAUTHENTICATED] = "UNAUTHENTICATED",
};

bool grpc_status_known(int code)
{
    return code >= 0 && (unsigned)code < sizeof names / sizeof names[0];
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

void grpc_message_decode(const uint8_t *p, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        if (p[i] == '%' && i + 2 < n && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0) {
            out[o++] = (char)(hexval(p[i + 1]) * 16 + hexval(p[i + 2]));
            i += 2;
        } else {
            out[o++] = (char)p[i];
        }
    }
    if (cap)
        out[o] = '\0';
}

const char *grpc_status_name(int code)
{
    return grpc_status_known(code) ? names[code] : "UNKNOWN_CODE";
}

/* The message type a type URL names: what follows its last '/'. */
static const ProtobufCMessageDescriptor *type_of(const char *url)
{
    const char *slash = strrchr(url, '/');
    return pbdesc_message(slash ? slash + 1 : url);
}

int grpc_status_details_decode(const uint8_t *p, size_t n, grpc_status_details *out, char *err,
                               size_t errlen)
{
    *out = (grpc_status_details){0};
    if (n > INT32_MAX) {
        err_set(err, errlen, "the status details are too large");
        return -1;
    }
    Google__Rpc__Status *st = google__rpc__status__unpack(NULL, n, p);
    if (!st) {
        err_set(err, errlen, "the status details are not a google.rpc.Status");
        return -1;
    }
    out->code = st->code;
    out->message = strdup(st->message ? st->message : "");
    out->items = st->n_details ? calloc(st->n_details, sizeof *out->items) : NULL;
    if (!out->message || (st->n_details && !out->items)) {
        google__rpc__status__free_unpacked(st, NULL);
        grpc_status_details_done(out);
        err_set(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < st->n_details; i++) {
        const Google__Protobuf__Any *any = st->details[i];
        grpc_status_detail *d = &out->items[out->n++];
        d->type_url = strdup(any->type_url ? any->type_url : "");
        d->base64 = b64_encode_str(any->value.data, any->value.len);
        if (!d->type_url || !d->base64) {
            google__rpc__status__free_unpacked(st, NULL);
            grpc_status_details_done(out);
            err_set(err, errlen, "out of memory");
            return -1;
        }
        const ProtobufCMessageDescriptor *t = type_of(d->type_url);
        ProtobufCMessage *m = t ? protobuf_c_message_unpack(t, NULL, any->value.len, any->value.data) : NULL;
        char why[128];
        if (m)
            d->decoded = pbjson_from_message(m, &(pbjson_opts){0}, why, sizeof why);
        protobuf_c_message_free_unpacked(m, NULL);
    }
    google__rpc__status__free_unpacked(st, NULL);
    return 0;
}

void grpc_status_details_done(grpc_status_details *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->items[i].type_url);
        value_free(d->items[i].decoded);
        free(d->items[i].base64);
    }
    free(d->items);
    free(d->message);
    *d = (grpc_status_details){0};
}
