/* grpcreflect.c -- asking a server's reflection service for its services and files, v1 then v1alpha. */
#include "rpc/grpcreflect.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "rpc/grpcclient.h"
#include "wire/grpc_status.h"
#include "wire/pbdesc.h"

#include "reflection.pb-c.h"

typedef Grpc__Reflection__V1alpha__ServerReflectionRequest reflect_req;
typedef Grpc__Reflection__V1alpha__ServerReflectionResponse reflect_resp;

enum {
    MAX_IMPORT_ROUNDS = 256, /* questions for missing imports, one file each */
    MAX_ANSWER = 16 * 1024 * 1024,
};

static const char *const versions[] = {"grpc.reflection.v1", "grpc.reflection.v1alpha"};

struct grpcreflect {
    grpcclient *c;
    int timeout_ms;
    int version; /* index into versions; -1 until one answered */
};

grpcreflect *grpcreflect_new(const char *addr, int timeout_ms, char *err, size_t errlen)
{
    grpcreflect *r = calloc(1, sizeof *r);
    if (!r) {
        err_set(err, errlen, "out of memory");
        return NULL;
    }
    r->timeout_ms = timeout_ms;
    r->version = -1;
    if (!(r->c = grpcclient_dial(addr, timeout_ms, err, errlen))) {
        free(r);
        return NULL;
    }
    return r;
}

void grpcreflect_free(grpcreflect *r)
{
    if (!r)
        return;
    grpcclient_free(r->c);
    free(r);
}

const char *grpcreflect_service(const grpcreflect *r) { return r->version < 0 ? NULL : versions[r->version]; }

/* Packs one request as grpcclient takes it. */
static int put_request(buf *reqs, const reflect_req *q)
{
    size_t n = protobuf_c_message_get_packed_size(&q->base);
    uint8_t *p = malloc(n ? n : 1);
    if (!p)
        return -1;
    protobuf_c_message_pack(&q->base, p);
    int r = grpcclient_put_message(reqs, p, n);
    free(p);
    return r;
}

/* One exchange: the request q, then every response handed to take. */
typedef reflect_status (*take_fn)(const reflect_resp *a, void *ctx, char *err, size_t errlen);

static reflect_status ask(grpcreflect *r, const reflect_req *q, take_fn take, void *ctx, char *err, size_t errlen)
{
    buf reqs, replies;
    buf_init(&reqs, 0);
    buf_init(&replies, MAX_ANSWER);
    reflect_status st = REFLECT_FAILED;
    if (put_request(&reqs, q) < 0) {
        err_set(err, errlen, "out of memory");
        goto done;
    }
    grpc_result res;
    int first = r->version < 0 ? 0 : r->version, last = r->version < 0 ? 1 : r->version;
    for (int v = first; v <= last; v++) {
        char path[96];
        snprintf(path, sizeof path, "/%s.ServerReflection/ServerReflectionInfo", versions[v]);
        buf_clear(&replies);
        res = (grpc_result){.replies = &replies};
        if (grpcclient_call(r->c, path, &reqs, r->timeout_ms, &res, err, errlen) < 0)
            goto done;
        if (res.status == GRPC_UNIMPLEMENTED)
            continue;
        if (res.status != GRPC_OK) {
            err_set(err, errlen, "%s: %s: %s", versions[v], grpc_status_name(res.status), res.message);
            goto done;
        }
        r->version = v;
        break;
    }
    if (r->version < 0) {
        err_set(err, errlen, "the server has no reflection service (neither v1 nor v1alpha)");
        st = REFLECT_UNSUPPORTED;
        goto done;
    }
    st = REFLECT_OK;
    const uint8_t *msg;
    size_t n, off = 0;
    while (st == REFLECT_OK && grpcclient_next_message(&replies, &off, &msg, &n)) {
        reflect_resp *a = grpc__reflection__v1alpha__server_reflection_response__unpack(NULL, n, msg);
        if (!a) {
            err_set(err, errlen, "%s: a reply that is not a ServerReflectionResponse", versions[r->version]);
            st = REFLECT_FAILED;
            break;
        }
        st = take(a, ctx, err, errlen);
        grpc__reflection__v1alpha__server_reflection_response__free_unpacked(a, NULL);
    }
done:
    buf_done(&reqs);
    buf_done(&replies);
    return st;
}

/* An error_response as a status: NOT_FOUND is the symbol's, anything else the server's. */
static reflect_status answered_error(const reflect_resp *a, char *err, size_t errlen)
{
    const Grpc__Reflection__V1alpha__ErrorResponse *e = a->error_response;
    int code = e ? e->error_code : GRPC_UNKNOWN;
    err_set(err, errlen, "%s", e && e->error_message && e->error_message[0] ? e->error_message
                                                                            : grpc_status_name(code));
    return code == GRPC_NOT_FOUND ? REFLECT_NOT_FOUND : REFLECT_FAILED;
}

static reflect_status take_services(const reflect_resp *a, void *ctx, char *err, size_t errlen)
{
    if (a->message_response_case == GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ERROR_RESPONSE)
        return answered_error(a, err, errlen);
    const Grpc__Reflection__V1alpha__ListServiceResponse *l = a->list_services_response;
    if (!l) {
        err_set(err, errlen, "reflection answered list_services with something else");
        return REFLECT_FAILED;
    }
    for (size_t i = 0; i < l->n_service; i++)
        if (l->service[i]->name && buf_printf(ctx, "%s\n", l->service[i]->name) < 0) {
            err_set(err, errlen, "too many services listed");
            return REFLECT_FAILED;
        }
    return REFLECT_OK;
}

reflect_status grpcreflect_services(grpcreflect *r, buf *out, char *err, size_t errlen)
{
    reflect_req q = GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__INIT;
    q.message_request_case = GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_LIST_SERVICES;
    q.list_services = "*";
    return ask(r, &q, take_services, out, err, errlen);
}

static reflect_status take_files(const reflect_resp *a, void *ctx, char *err, size_t errlen)
{
    (void)ctx;
    if (a->message_response_case == GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ERROR_RESPONSE)
        return answered_error(a, err, errlen);
    const Grpc__Reflection__V1alpha__FileDescriptorResponse *f = a->file_descriptor_response;
    if (!f) {
        err_set(err, errlen, "reflection answered a file request with something else");
        return REFLECT_FAILED;
    }
    for (size_t i = 0; i < f->n_file_descriptor_proto; i++)
        if (pbdesc_add_file(f->file_descriptor_proto[i].data, f->file_descriptor_proto[i].len, err, errlen) < 0)
            return REFLECT_FAILED;
    return REFLECT_OK;
}

reflect_status grpcreflect_load_symbol(grpcreflect *r, const char *symbol, char *err, size_t errlen)
{
    reflect_req q = GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__INIT;
    q.message_request_case = GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_SYMBOL;
    q.file_containing_symbol = (char *)symbol;
    reflect_status st = ask(r, &q, take_files, NULL, err, errlen);
    char missing[512], asked[512] = "";
    for (int round = 0; st == REFLECT_OK && round < MAX_IMPORT_ROUNDS && pbdesc_missing_import(missing, sizeof missing);
         round++) {
        if (strcmp(missing, asked) == 0) {
            err_set(err, errlen, "the server's reflection does not hand out %s, which its files import", missing);
            return REFLECT_FAILED;
        }
        snprintf(asked, sizeof asked, "%s", missing);
        q.message_request_case = GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_BY_FILENAME;
        q.file_by_filename = missing;
        if ((st = ask(r, &q, take_files, NULL, err, errlen)) == REFLECT_NOT_FOUND) {
            err_set(err, errlen, "the server's reflection does not have %s, which its files import", missing);
            return REFLECT_FAILED;
        }
    }
    if (st == REFLECT_OK && pbdesc_link(err, errlen) < 0)
        st = REFLECT_FAILED;
    return st;
}
