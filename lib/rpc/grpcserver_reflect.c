/* grpcserver_reflect.c -- gRPC server reflection (grpc.reflection.v1 and v1alpha, whose
 * messages are the same on the wire) over the files in pbcatalog, with the answers that do
 * not change packed once and kept. */
#include "rpc/grpcserver_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "google/protobuf/descriptor.pb-c.h"
#include "reflection.pb-c.h"

typedef Grpc__Reflection__V1alpha__ServerReflectionRequest reflect_req;
typedef Grpc__Reflection__V1alpha__ServerReflectionResponse reflect_resp;

/* An answer's response fields packed (those after original_request): what a reply to
 * list_services, or to a request for file f, always carries. */
typedef struct kept {
    const pb_file *f; /* NULL: the list of services */
    uint8_t *p;
    size_t n;
} kept;

/* Servers on several threads may share these (their method table is one already). */
static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;
static kept listed;                     /* the services served */
static size_t listed_for = SIZE_MAX;    /* the method table's size when packed */
static kept *files;                     /* each file asked for so far, with its imports */
static size_t nfiles;
static unsigned long npacked;

/* The compiled-in files that file f imports (its FileDescriptorProto's dependencies). */
static size_t file_imports(const pb_file *f, const pb_file **out, size_t max)
{
    Google__Protobuf__FileDescriptorProto *fd =
        google__protobuf__file_descriptor_proto__unpack(NULL, f->len, f->bytes);
    if (!fd)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < fd->n_dependency && n < max; i++) {
        const pb_file *dep = pbcatalog_file_by_name(fd->dependency[i]);
        if (dep)
            out[n++] = dep;
    }
    google__protobuf__file_descriptor_proto__free_unpacked(fd, NULL);
    return n;
}

/* Packs r's response fields (r has no host nor request set) into k. Returns 0 or -1. */
static int keep(kept *k, const reflect_resp *r)
{
    size_t n = protobuf_c_message_get_packed_size(&r->base);
    uint8_t *p = malloc(n ? n : 1);
    if (!p)
        return -1;
    protobuf_c_message_pack(&r->base, p);
    free(k->p);
    k->p = p;
    k->n = n;
    npacked++;
    return 0;
}

/* The services served, packed afresh only when the method table has grown. */
static const kept *list_answer(void)
{
    if (listed.p && listed_for == gmethods_count())
        return &listed;
    reflect_resp r = GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__INIT;
    Grpc__Reflection__V1alpha__ListServiceResponse lsr =
        GRPC__REFLECTION__V1ALPHA__LIST_SERVICE_RESPONSE__INIT;
    Grpc__Reflection__V1alpha__ServiceResponse svc[16];
    Grpc__Reflection__V1alpha__ServiceResponse *svcp[16];
    size_t n, k = 0;
    const char *const *names = pbcatalog_services(&n);
    for (size_t i = 0; i < n && k < 16; i++) {
        if (!gmethods_service_served(names[i]))
            continue;
        grpc__reflection__v1alpha__service_response__init(&svc[k]);
        svc[k].name = (char *)names[i];
        svcp[k] = &svc[k];
        k++;
    }
    lsr.n_service = k;
    lsr.service = svcp;
    r.message_response_case =
        GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_LIST_SERVICES_RESPONSE;
    r.list_services_response = &lsr;
    if (keep(&listed, &r) < 0)
        return NULL;
    listed_for = gmethods_count();
    return &listed;
}

/* File f's descriptor and those of the files it imports, packed the first time asked. */
static const kept *file_answer(const pb_file *f)
{
    for (size_t i = 0; i < nfiles; i++)
        if (files[i].f == f)
            return &files[i];
    kept *grown = realloc(files, (nfiles + 1) * sizeof *files);
    if (!grown)
        return NULL;
    files = grown;
    reflect_resp r = GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__INIT;
    Grpc__Reflection__V1alpha__FileDescriptorResponse fdr =
        GRPC__REFLECTION__V1ALPHA__FILE_DESCRIPTOR_RESPONSE__INIT;
    ProtobufCBinaryData blobs[17];
    const pb_file *deps[16];
    size_t nd = file_imports(f, deps, 16);
    blobs[0] = (ProtobufCBinaryData){f->len, (uint8_t *)f->bytes};
    for (size_t i = 0; i < nd; i++)
        blobs[i + 1] = (ProtobufCBinaryData){deps[i]->len, (uint8_t *)deps[i]->bytes};
    fdr.n_file_descriptor_proto = nd + 1;
    fdr.file_descriptor_proto = blobs;
    r.message_response_case =
        GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_FILE_DESCRIPTOR_RESPONSE;
    r.file_descriptor_response = &fdr;
    files[nfiles] = (kept){f, NULL, 0};
    if (keep(&files[nfiles], &r) < 0)
        return NULL;
    return &files[nfiles++];
}

/* Replies with head (the request's host and the request itself) followed by the kept
 * answer to list_services (f NULL) or for file f. Returns false when out of memory. */
static bool send_kept(grpc_call *call, const reflect_resp *head, const pb_file *f)
{
    pthread_mutex_lock(&kept_lock);
    const kept *k = f ? file_answer(f) : list_answer();
    if (k)
        gstream_send_parts(call->s, &head->base, k->p, k->n);
    pthread_mutex_unlock(&kept_lock);
    return k != NULL;
}

unsigned long greflect_packed(void)
{
    pthread_mutex_lock(&kept_lock);
    unsigned long n = npacked;
    pthread_mutex_unlock(&kept_lock);
    return n;
}

/* Answers one request q. */
static void answer(grpc_call *call, const reflect_req *q)
{
    reflect_resp r = GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__INIT;
    Grpc__Reflection__V1alpha__ExtensionNumberResponse enr =
        GRPC__REFLECTION__V1ALPHA__EXTENSION_NUMBER_RESPONSE__INIT;
    Grpc__Reflection__V1alpha__ErrorResponse er = GRPC__REFLECTION__V1ALPHA__ERROR_RESPONSE__INIT;
    char msg[512] = ""; /* set: the answer is an error saying this */
    int code = GRPC_NOT_FOUND;
    r.valid_host = q->host;
    r.original_request = (reflect_req *)q;
    const pb_file *f = NULL;
    switch (q->message_request_case) {
    case GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_LIST_SERVICES:
        break;
    case GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_BY_FILENAME:
        f = pbcatalog_file_by_name(q->file_by_filename);
        if (!f)
            snprintf(msg, sizeof msg, "file not found: %s", q->file_by_filename);
        break;
    case GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_SYMBOL:
        f = pbcatalog_file_for_symbol(q->file_containing_symbol);
        if (!f)
            snprintf(msg, sizeof msg, "symbol not found: %s", q->file_containing_symbol);
        break;
    case GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_ALL_EXTENSION_NUMBERS_OF_TYPE:
        if (!pbcatalog_message(q->all_extension_numbers_of_type) &&
            !pbcatalog_file_for_symbol(q->all_extension_numbers_of_type)) {
            snprintf(msg, sizeof msg, "type not found: %s", q->all_extension_numbers_of_type);
            break;
        }
        enr.base_type_name = q->all_extension_numbers_of_type;
        r.message_response_case =
            GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ALL_EXTENSION_NUMBERS_RESPONSE;
        r.all_extension_numbers_response = &enr;
        break;
    default:
        snprintf(msg, sizeof msg, "%s",
                 q->message_request_case ==
                         GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_EXTENSION
                     ? "extensions are not used by this server's files"
                     : "empty reflection request");
        break;
    }
    if (!msg[0] && !r.message_response_case) {
        if (send_kept(call, &r, f))
            return;
        snprintf(msg, sizeof msg, "out of memory");
        code = GRPC_RESOURCE_EXHAUSTED;
    }
    if (msg[0]) {
        er.error_code = code;
        er.error_message = msg;
        r.message_response_case =
            GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ERROR_RESPONSE;
        r.error_response = &er;
    }
    grpcserver_reply(call, &r.base);
}

/* A request of another version (v1) as the v1alpha message it is on the wire; NULL when
 * out of memory. */
static reflect_req *as_v1alpha(const ProtobufCMessage *req)
{
    size_t n = protobuf_c_message_get_packed_size(req);
    uint8_t *p = malloc(n ? n : 1);
    if (!p)
        return NULL;
    protobuf_c_message_pack(req, p);
    reflect_req *q = grpc__reflection__v1alpha__server_reflection_request__unpack(NULL, n, p);
    free(p);
    return q;
}

void greflect_answer(grpc_call *call, const ProtobufCMessage *req)
{
    if (req->descriptor == &grpc__reflection__v1alpha__server_reflection_request__descriptor) {
        answer(call, (const reflect_req *)req);
        return;
    }
    reflect_req *q = as_v1alpha(req);
    if (!q) {
        reflect_resp r = GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__INIT;
        Grpc__Reflection__V1alpha__ErrorResponse er = GRPC__REFLECTION__V1ALPHA__ERROR_RESPONSE__INIT;
        er.error_code = GRPC_RESOURCE_EXHAUSTED;
        er.error_message = (char *)"out of memory";
        r.message_response_case =
            GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ERROR_RESPONSE;
        r.error_response = &er;
        grpcserver_reply(call, &r.base);
        return;
    }
    answer(call, q);
    grpc__reflection__v1alpha__server_reflection_request__free_unpacked(q, NULL);
}
