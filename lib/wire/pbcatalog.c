/* pbcatalog.c -- the compiled-in protobuf services, methods, messages and files. */
#include "wire/pbcatalog.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "arith.pb-c.h"
#include "consignment.pb-c.h"
#include "discovery.pb-c.h"
#include "error_details.pb-c.h"
#include "google/protobuf/descriptor.pb-c.h"
#include "health.pb-c.h"
#include "helloworld.pb-c.h"
#include "order.pb-c.h"
#include "post.pb-c.h"
#include "reflection.pb-c.h"
#include "reflection_v1.pb-c.h"
#include "status.pb-c.h"
#include "tally.pb-c.h"
#include "user.pb-c.h"

extern const unsigned char proto_descriptor_set[];
extern const size_t proto_descriptor_set_len;

static const ProtobufCServiceDescriptor *const services[] = {
    &helloworld__greeter__descriptor,
    &arith__arith__descriptor,
    &tally__tally__descriptor,
    &grpc__health__v1__health__descriptor,
    &grpc__reflection__v1__server_reflection__descriptor,
    &grpc__reflection__v1alpha__server_reflection__descriptor,
    &user__user__descriptor,
    &order__order__descriptor,
    &discovery__discovery__descriptor,
    &post__post__descriptor,
    &go__micro__srv__consignment__shipping_service__descriptor,
};
#define NSERVICES (sizeof services / sizeof services[0])

/* Messages no method takes or returns, which a reply may still carry: google.rpc.Status
 * in an error's grpc-status-details-bin, and the standard details inside it. */
static const ProtobufCMessageDescriptor *const other_messages[] = {
    &google__rpc__status__descriptor,       &google__rpc__retry_info__descriptor,
    &google__rpc__debug_info__descriptor,   &google__rpc__quota_failure__descriptor,
    &google__rpc__error_info__descriptor,   &google__rpc__precondition_failure__descriptor,
    &google__rpc__bad_request__descriptor,  &google__rpc__request_info__descriptor,
    &google__rpc__resource_info__descriptor, &google__rpc__help__descriptor,
    &google__rpc__localized_message__descriptor,
};

#define MAX_METHODS 64
#define MAX_FILES 32
#define MAX_SYMBOLS 256

static pb_method methods[MAX_METHODS];
static size_t nmethods;
static const char *service_names[NSERVICES];
static pb_file files[MAX_FILES];
static size_t nfiles;
static struct {
    char *name;
    size_t file;
} symbols[MAX_SYMBOLS];
static size_t nsymbols;
static pthread_once_t loaded = PTHREAD_ONCE_INIT;
static Google__Protobuf__FileDescriptorSet *set; /* the embedded descriptor set, unpacked */

static char *join(const char *a, const char *sep, const char *b)
{
    size_t la = strlen(a), ls = strlen(sep), lb = strlen(b);
    char *s = malloc(la + ls + lb + 1);
    if (s) {
        memcpy(s, a, la);
        memcpy(s + la, sep, ls);
        memcpy(s + la + ls, b, lb + 1);
    }
    return s;
}

static void add_symbol(char *name, size_t file)
{
    if (!name)
        return;
    if (nsymbols == MAX_SYMBOLS) {
        free(name);
        return;
    }
    symbols[nsymbols].name = name;
    symbols[nsymbols].file = file;
    nsymbols++;
}

static pb_method *method_by_path(const char *path)
{
    for (size_t i = 0; i < nmethods; i++)
        if (strcmp(methods[i].path, path) == 0)
            return &methods[i];
    return NULL;
}

/* Records a service's symbols and its methods' streaming flags. */
static void read_service(const Google__Protobuf__ServiceDescriptorProto *sd, const char *pkg, size_t file)
{
    if (!sd->name)
        return;
    char *full = pkg[0] ? join(pkg, ".", sd->name) : strdup(sd->name);
    if (!full)
        return;
    for (size_t i = 0; i < sd->n_method; i++) {
        const Google__Protobuf__MethodDescriptorProto *md = sd->method[i];
        if (!md->name)
            continue;
        char *slash = join(full, "/", md->name);
        char *path = slash ? join("", "/", slash) : NULL;
        pb_method *m = path ? method_by_path(path) : NULL;
        if (m) {
            m->client_streaming = md->client_streaming;
            m->server_streaming = md->server_streaming;
        }
        add_symbol(join(full, ".", md->name), file);
        free(slash);
        free(path);
    }
    add_symbol(full, file);
}

/* Records the names of a message, its nested messages and its enums. */
static void read_message(const Google__Protobuf__DescriptorProto *d, const char *scope, size_t file, int depth)
{
    if (!d->name)
        return;
    char *full = scope[0] ? join(scope, ".", d->name) : strdup(d->name);
    if (!full)
        return;
    if (depth < 8) {
        for (size_t i = 0; i < d->n_nested_type; i++)
            read_message(d->nested_type[i], full, file, depth + 1);
        for (size_t i = 0; i < d->n_enum_type; i++)
            if (d->enum_type[i]->name)
                add_symbol(join(full, ".", d->enum_type[i]->name), file);
    }
    add_symbol(full, file);
}

/* Records file fd, its serialized form packed afresh (protoc and protobuf-c both write
 * fields in number order, so these are the bytes protoc wrote). */
static void read_file(const Google__Protobuf__FileDescriptorProto *fd)
{
    if (nfiles == MAX_FILES || !fd->name)
        return;
    size_t n = protobuf_c_message_get_packed_size(&fd->base);
    uint8_t *bytes = malloc(n ? n : 1);
    if (!bytes)
        return;
    protobuf_c_message_pack(&fd->base, bytes);
    const char *pkg = fd->package ? fd->package : "";
    size_t idx = nfiles++;
    files[idx] = (pb_file){fd->name, pkg, bytes, n};
    for (size_t i = 0; i < fd->n_message_type; i++)
        read_message(fd->message_type[i], pkg, idx, 0);
    for (size_t i = 0; i < fd->n_enum_type; i++)
        if (fd->enum_type[i]->name)
            add_symbol(pkg[0] ? join(pkg, ".", fd->enum_type[i]->name) : strdup(fd->enum_type[i]->name), idx);
    for (size_t i = 0; i < fd->n_service; i++)
        read_service(fd->service[i], pkg, idx);
}

/* Fills the tables; runs once, through pthread_once, which also makes every caller wait
 * until they are full and see them whole. */
static void fill(void)
{
    for (size_t s = 0; s < NSERVICES; s++) {
        const ProtobufCServiceDescriptor *sd = services[s];
        service_names[s] = sd->name;
        for (unsigned i = 0; i < sd->n_methods && nmethods < MAX_METHODS; i++) {
            pb_method *m = &methods[nmethods++];
            char *slash = join(sd->name, "/", sd->methods[i].name);
            m->path = slash ? join("", "/", slash) : NULL;
            free(slash);
            m->service = sd->name;
            m->name = sd->methods[i].name;
            m->input = sd->methods[i].input;
            m->output = sd->methods[i].output;
            if (!m->path)
                nmethods--;
        }
    }
    /* kept for good: the files' names and packages point into it */
    set = google__protobuf__file_descriptor_set__unpack(NULL, proto_descriptor_set_len, proto_descriptor_set);
    for (size_t i = 0; set && i < set->n_file; i++)
        read_file(set->file[i]);
}

static void load(void) { pthread_once(&loaded, fill); }

const pb_method *pbcatalog_methods(size_t *n)
{
    load();
    *n = nmethods;
    return methods;
}

const char *const *pbcatalog_services(size_t *n)
{
    load();
    *n = NSERVICES;
    return service_names;
}

const pb_method *pbcatalog_find(const char *name)
{
    load();
    for (size_t i = 0; i < nmethods; i++) {
        const pb_method *m = &methods[i];
        if (strcmp(name, m->path) == 0 || strcmp(name, m->path + 1) == 0)
            return m;
        /* "pkg.Service.Method" */
        size_t sl = strlen(m->service);
        if (strncmp(name, m->service, sl) == 0 && name[sl] == '.' && strcmp(name + sl + 1, m->name) == 0)
            return m;
    }
    return NULL;
}

const ProtobufCMessageDescriptor *pbcatalog_message(const char *full_name)
{
    load();
    if (full_name[0] == '.')
        full_name++;
    for (size_t i = 0; i < sizeof other_messages / sizeof other_messages[0]; i++)
        if (strcmp(other_messages[i]->name, full_name) == 0)
            return other_messages[i];
    for (size_t i = 0; i < nmethods; i++) {
        const ProtobufCMessageDescriptor *d[2] = {methods[i].input, methods[i].output};
        for (int k = 0; k < 2; k++) {
            if (strcmp(d[k]->name, full_name) == 0)
                return d[k];
            /* nested and referenced messages: search one level into message fields */
            for (unsigned f = 0; f < d[k]->n_fields; f++) {
                const ProtobufCFieldDescriptor *fd = &d[k]->fields[f];
                if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
                    const ProtobufCMessageDescriptor *sub = fd->descriptor;
                    if (strcmp(sub->name, full_name) == 0)
                        return sub;
                }
            }
        }
    }
    return NULL;
}

const pb_file *pbcatalog_file_by_name(const char *name)
{
    load();
    for (size_t i = 0; i < nfiles; i++)
        if (strcmp(files[i].name, name) == 0)
            return &files[i];
    return NULL;
}

const pb_file *pbcatalog_file_for_symbol(const char *symbol)
{
    load();
    if (symbol[0] == '.')
        symbol++;
    for (size_t i = 0; i < nsymbols; i++)
        if (strcmp(symbols[i].name, symbol) == 0)
            return &files[symbols[i].file];
    return NULL;
}
