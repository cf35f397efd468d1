/* test_pbdesc_threads.c -- pbdesc's lookups while another thread adds and links (also under ThreadSanitizer). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "google/protobuf/descriptor.pb-c.h"
#include "threadtest.h"
#include "wire/catalog.h"
#include "wire/pbdesc.h"

static atomic_int faults;

static void *reader(void *arg)
{
    (void)arg;
    for (int i = 0; i < 2000; i++) {
        const ProtobufCMessageDescriptor *d = pbdesc_message("req");
        if (d && strcmp(d->name, "req") != 0)
            atomic_fetch_add(&faults, 1);
        const pb_method *m = pbdesc_method("/sum/add");
        if (m && (m->input != pbdesc_message(".req") || strcmp(m->path, "/sum/add") != 0))
            atomic_fetch_add(&faults, 1);
        size_t n;
        const char *const *s = pbdesc_services(&n);
        for (size_t k = 0; k < n; k++)
            if (strcmp(s[k], "sum") != 0)
                atomic_fetch_add(&faults, 1);
        const catalog_method *c = catalog_find_path("/sum/add");
        if (c && c->pb != m && m)
            atomic_fetch_add(&faults, 1);
    }
    return NULL;
}

/* The tutorial's sum.proto: message req{int32 num1=1;} message reply{int32 res=3;}
 * service sum{rpc add(req) returns(reply);}, with no package. */
static size_t sum_file(uint8_t *out)
{
    Google__Protobuf__FieldDescriptorProto num1 = GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__INIT;
    num1.name = "num1";
    num1.has_number = num1.has_label = num1.has_type = 1;
    num1.number = 1;
    num1.type = GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__TYPE__TYPE_INT32;
    Google__Protobuf__FieldDescriptorProto res = num1;
    res.name = "res";
    res.number = 3;
    Google__Protobuf__FieldDescriptorProto *f1 = &num1, *f2 = &res;
    Google__Protobuf__DescriptorProto req = GOOGLE__PROTOBUF__DESCRIPTOR_PROTO__INIT, reply = req;
    req.name = "req";
    req.n_field = 1;
    req.field = &f1;
    reply.name = "reply";
    reply.n_field = 1;
    reply.field = &f2;
    Google__Protobuf__DescriptorProto *msgs[] = {&req, &reply};
    Google__Protobuf__MethodDescriptorProto add = GOOGLE__PROTOBUF__METHOD_DESCRIPTOR_PROTO__INIT;
    add.name = "add";
    add.input_type = ".req";
    add.output_type = ".reply";
    Google__Protobuf__MethodDescriptorProto *meths[] = {&add};
    Google__Protobuf__ServiceDescriptorProto sum = GOOGLE__PROTOBUF__SERVICE_DESCRIPTOR_PROTO__INIT;
    sum.name = "sum";
    sum.n_method = 1;
    sum.method = meths;
    Google__Protobuf__ServiceDescriptorProto *svcs[] = {&sum};
    Google__Protobuf__FileDescriptorProto file = GOOGLE__PROTOBUF__FILE_DESCRIPTOR_PROTO__INIT;
    file.name = "sum.proto";
    file.syntax = "proto3";
    file.n_message_type = 2;
    file.message_type = msgs;
    file.n_service = 1;
    file.service = svcs;
    return google__protobuf__file_descriptor_proto__pack(&file, out);
}

TT_TEST(pbdesc, lookups_while_linking)
{
    uint8_t bytes[1024];
    size_t n = sum_file(bytes);
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        TT_CHECK(pthread_create(&t[i], NULL, reader, NULL) == 0, "pthread_create");
    char err[256] = "";
    int r = pbdesc_add_file(bytes, n, err, sizeof err);
    TT_CHECK(r == 1, "add: %d %s", r, err);
    r = pbdesc_link(err, sizeof err);
    TT_CHECK(r == 1, "link: %d %s", r, err);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    TT_CHECK(atomic_load(&faults) == 0, "%d lookups saw something half-built", atomic_load(&faults));
    const pb_method *m = pbdesc_method("sum.add");
    TT_CHECK(m && m->output == pbdesc_message("reply"), "sum.add");
    TT_CHECK(m->output->fields[0].id == 3, "reply.res");
}
