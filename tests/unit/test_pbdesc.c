/* test_pbdesc.c -- unit tests for pbdesc: .proto files compiled by protoc, learned at run time. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/tempdir.h"
#include "proc/spawn.h"
#include "google/protobuf/descriptor.pb-c.h"
#include "wire/catalog.h"
#include "wire/jsonval.h"
#include "wire/pbdesc.h"
#include "wire/pbvalue.h"
#include "value/value.h"

/* ---- protoc, run on protos written into a temporary directory ---- */

static const char *protoc(void)
{
    if (spawn_on_path("protoc"))
        return "protoc";
    if (spawn_on_path("protoc-c"))
        return "protoc-c"; /* knows everything here but proto3 `optional` */
    cr_assert_fail("neither protoc nor protoc-c is installed (Debian: protobuf-compiler)");
    return NULL;
}

static char dir[128];

static void cleanup(void) { tempdir_remove(dir); }

TestSuite(pbdesc, .fini = cleanup);

static void write_proto(const char *name, const char *src)
{
    if (!dir[0])
        cr_assert_eq(tempdir_make(dir, sizeof dir, "test_pbdesc"), 0);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(src, f);
    fclose(f);
}

static uint8_t *read_all(const char *path, size_t *n)
{
    buf b;
    buf_init(&b, 1 << 20);
    char err[300];
    cr_assert_eq(buf_read_file(&b, path, err, sizeof err), 0, "%s", err);
    *n = buf_size(&b);
    return (uint8_t *)buf_take(&b);
}

/* The descriptor set of name (with its imports when imports). */
static uint8_t *compile(const char *name, bool imports, size_t *n)
{
    char cmd[2048], out[512];
    snprintf(out, sizeof out, "%s/%s.pb", dir, name);
    snprintf(cmd, sizeof cmd, "%s -I%s -I/usr/include %s --descriptor_set_out=%s %s/%s", protoc(), dir,
             imports ? "--include_imports" : "", out, dir, name);
    cr_assert_eq(system(cmd), 0, "%s failed", cmd);
    return read_all(out, n);
}

/* Writes, compiles, adds and links one proto. */
static void load(const char *name, const char *src)
{
    write_proto(name, src);
    size_t n;
    uint8_t *p = compile(name, true, &n);
    char err[512] = "";
    cr_assert_geq(pbdesc_add_set(p, n, err, sizeof err), 1, "%s", err);
    free(p);
    cr_assert_geq(pbdesc_link(err, sizeof err), 1, "%s", err);
}

/* What protoc --encode makes of a text-format message. */
static char *protoc_encode(const char *file, const char *type, const char *text)
{
    char cmd[2048], out[512];
    snprintf(out, sizeof out, "%s/encoded.bin", dir);
    snprintf(cmd, sizeof cmd, "printf '%%s' '%s' | protoc -I%s -I/usr/include --encode=%s %s > %s", text,
             dir, type, file, out);
    if (!spawn_on_path("protoc"))
        return NULL;
    cr_assert_eq(system(cmd), 0, "%s", cmd);
    size_t n;
    uint8_t *p = read_all(out, &n);
    char *h = malloc(2 * n + 1);
    for (size_t i = 0; i < n; i++)
        sprintf(h + 2 * i, "%02x", p[i]);
    h[2 * n] = '\0';
    free(p);
    return h;
}

/* Packs the JSON text as message type d; returns the hex. */
static char *pack_json(const ProtobufCMessageDescriptor *d, const char *json)
{
    char err[256] = "";
    value *v = jsonval_parse(json, strlen(json), err, sizeof err);
    cr_assert_not_null(v, "%s", err);
    uint8_t *p;
    size_t n;
    cr_assert_eq(pbvalue_pack(d, v, &p, &n, err, sizeof err), 0, "%s", err);
    value_free(v);
    char *h = malloc(2 * n + 1);
    for (size_t i = 0; i < n; i++)
        sprintf(h + 2 * i, "%02x", p[i]);
    h[2 * n] = '\0';
    free(p);
    return h;
}

static uint8_t *unhex(const char *h, size_t *n)
{
    *n = strlen(h) / 2;
    uint8_t *p = malloc(*n + 1);
    for (size_t i = 0; i < *n; i++) {
        unsigned x;
        sscanf(h + 2 * i, "%2x", &x);
        p[i] = (uint8_t)x;
    }
    return p;
}

/* Unpacks hex as d and writes the value back as JSON. */
static char *unpack_json(const ProtobufCMessageDescriptor *d, const char *hex)
{
    size_t n;
    uint8_t *p = unhex(hex, &n);
    char err[256] = "";
    value *v = pbvalue_unpack(d, p, n, err, sizeof err);
    cr_assert_not_null(v, "%s", err);
    free(p);
    buf b;
    buf_init(&b, 0);
    jsonval_write(v, &b);
    value_free(v);
    return buf_take(&b);
}

static char *describe(const char *symbol)
{
    buf b;
    buf_init(&b, 1 << 20);
    char err[256] = "";
    cr_assert_eq(pbdesc_describe(symbol, &b, err, sizeof err), 0, "%s: %s", symbol, err);
    return buf_take(&b);
}

static const char student_proto[] =
    "syntax = \"proto3\";\n"
    "package pb;\n"
    "option go_package=\"../pb\";\n"
    "enum Week{ Monday=0; Tuesday=2; }\n"
    "message Student{ int32 age = 1; string name= 2; People p=3; repeated int32 score=4; Week w=5;"
    " oneof data{ string teacher =6; string class=7; } }\n"
    "message People{ int32 weight=1; }\n"
    "service AddName { rpc AddFunc(Student) returns (Student); }\n";

static const char sum_proto[] = "syntax=\"proto3\"; message req{int32 num1=1; int32 num2=2;}"
                                " message reply{int32 res=3;} service sum{rpc add(req) returns(reply);}\n";

/* ---- tutorial 001's Student ---- */

Test(pbdesc, student_descriptors)
{
    load("student.proto", student_proto);
    const ProtobufCMessageDescriptor *d = pbdesc_message("pb.Student");
    cr_assert_not_null(d);
    cr_assert_eq(d, pbdesc_message(".pb.Student"));
    cr_assert_eq(d->magic, PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC);
    cr_assert_str_eq(d->short_name, "Student");
    cr_assert_str_eq(d->package_name, "pb");
    cr_assert_eq(d->n_fields, 7);
    cr_assert_eq(d->n_field_ranges, 1);
    cr_assert_eq(d->field_ranges[0].start_value, 1);
    cr_assert_eq(d->field_ranges[1].orig_index, 7);
    const ProtobufCFieldDescriptor *f = d->fields;
    cr_assert_str_eq(f[0].name, "age");
    cr_assert_eq(f[0].label, PROTOBUF_C_LABEL_NONE);
    cr_assert_eq(f[2].descriptor, pbdesc_message("pb.People"));
    cr_assert_eq(f[3].label, PROTOBUF_C_LABEL_REPEATED);
    cr_assert(f[3].flags & PROTOBUF_C_FIELD_FLAG_PACKED);
    cr_assert_eq(f[4].descriptor, pbdesc_enum("pb.Week"));
    cr_assert_eq(f[1].default_value, &protobuf_c_empty_string);
    /* the oneof's members share one offset and one case */
    cr_assert(f[5].flags & PROTOBUF_C_FIELD_FLAG_ONEOF);
    cr_assert(f[6].flags & PROTOBUF_C_FIELD_FLAG_ONEOF);
    cr_assert_eq(f[5].offset, f[6].offset);
    cr_assert_eq(f[5].quantifier_offset, f[6].quantifier_offset);
    cr_assert_str_eq(d->fields[d->fields_sorted_by_name[0]].name, "age");
    cr_assert_str_eq(d->fields[d->fields_sorted_by_name[1]].name, "class");
    cr_assert_eq(protobuf_c_message_descriptor_get_field_by_name(d, "teacher"), &f[5]);
    cr_assert_eq(protobuf_c_message_descriptor_get_field(d, 5), &f[4]);
    const ProtobufCEnumDescriptor *e = pbdesc_enum("pb.Week");
    cr_assert_eq(e->n_values, 2);
    cr_assert_str_eq(protobuf_c_enum_descriptor_get_value(e, 2)->name, "Tuesday");
    cr_assert_null(protobuf_c_enum_descriptor_get_value(e, 1));
    cr_assert_eq(protobuf_c_enum_descriptor_get_value_by_name(e, "Monday")->value, 0);
}

Test(pbdesc, student_round_trip)
{
    load("student.proto", student_proto);
    const ProtobufCMessageDescriptor *d = pbdesc_message("pb.Student");
    const char *json = "{\"age\":7,\"name\":\"bob\",\"p\":{\"weight\":60},\"score\":[1,2],"
                       "\"w\":\"Tuesday\",\"teacher\":\"t\"}";
    char *hex = pack_json(d, json);
    cr_assert_str_eq(hex, "0807" "1203626f62" "1a02083c" "22020102" "2802" "320174");
    char *want = protoc_encode("student.proto", "pb.Student",
                               "age: 7 name: \"bob\" p { weight: 60 } score: [1, 2] w: Tuesday teacher: \"t\"");
    if (want)
        cr_assert_str_eq(hex, want);
    char *back = unpack_json(d, hex);
    cr_assert_str_eq(back, "{\"age\":7,\"name\":\"bob\",\"p\":{\"weight\":60},\"score\":[1,2],"
                           "\"w\":\"Tuesday\",\"teacher\":\"t\"}");
    /* the other member of the oneof replaces the first */
    char *other = unpack_json(d, "320174" "3a0163");
    cr_assert(strstr(other, "\"class\":\"c\"") && !strstr(other, "teacher"), "%s", other);
    free(hex);
    free(want);
    free(back);
    free(other);
}

Test(pbdesc, student_describe)
{
    load("student.proto", student_proto);
    char *s = describe("pb.Student");
    cr_assert_str_eq(s, "pb.Student is a message:\n"
                        "message Student {\n"
                        "  int32 age = 1;\n"
                        "  string name = 2;\n"
                        "  .pb.People p = 3;\n"
                        "  repeated int32 score = 4;\n"
                        "  .pb.Week w = 5;\n"
                        "  oneof data {\n"
                        "    string teacher = 6;\n"
                        "    string class = 7;\n"
                        "  }\n"
                        "}\n");
    free(s);
    s = describe("pb.AddName");
    cr_assert_str_eq(s, "pb.AddName is a service:\nservice AddName {\n"
                        "  rpc AddFunc ( .pb.Student ) returns ( .pb.Student );\n}\n");
    free(s);
    s = describe(".pb.AddName.AddFunc");
    cr_assert_str_eq(s, "pb.AddName.AddFunc is a method:\n"
                        "rpc AddFunc ( .pb.Student ) returns ( .pb.Student );\n");
    free(s);
    s = describe("pb.Week");
    cr_assert_str_eq(s, "pb.Week is an enum:\nenum Week {\n  Monday = 0;\n  Tuesday = 2;\n}\n");
    free(s);
    s = describe("pb.Student.age");
    cr_assert_str_eq(s, "pb.Student.age is a field:\nint32 age = 1;\n");
    free(s);
    cr_assert(pbdesc_knows("pb.Student.class"));
    cr_assert(pbdesc_knows("pb.AddName.AddFunc"));
    cr_assert_not(pbdesc_knows("pb.Student.nothing"));
    cr_assert_not(pbdesc_knows("pb.Nobody"));
    buf b;
    buf_init(&b, 0);
    char err[128] = "";
    cr_assert_eq(pbdesc_describe("pb.Nobody", &b, err, sizeof err), -1);
    cr_assert(strstr(err, "pb.Nobody"), "%s", err);
    buf_done(&b);
}

Test(pbdesc, student_method_and_catalog)
{
    load("student.proto", student_proto);
    const pb_method *m = pbdesc_method("/pb.AddName/AddFunc");
    cr_assert_not_null(m);
    cr_assert_str_eq(m->path, "/pb.AddName/AddFunc");
    cr_assert_str_eq(m->service, "pb.AddName");
    cr_assert_str_eq(m->name, "AddFunc");
    cr_assert_eq(m->input, pbdesc_message("pb.Student"));
    cr_assert_eq(m->output, m->input);
    cr_assert_not(m->client_streaming || m->server_streaming);
    cr_assert_eq(pbdesc_method("pb.AddName/AddFunc"), m);
    cr_assert_eq(pbdesc_method("pb.AddName.AddFunc"), m);
    cr_assert_null(pbdesc_method("pb.AddName.Nothing"));
    const catalog_method *c = catalog_find_path("/pb.AddName/AddFunc");
    cr_assert_not_null(c);
    cr_assert_eq(c->pb, m);
    cr_assert_null(c->name);
    cr_assert_null(c->fn);
    size_t n;
    const char *const *svc = pbdesc_services(&n);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(svc[0], "pb.AddName");
    /* the compiled-in methods are still found after the built ones */
    cr_assert_not_null(pbdesc_method("/helloworld.Greeter/SayHello"));
    cr_assert_not_null(pbdesc_message("helloworld.HelloRequest"));
}

/* ---- a service without a package ---- */

Test(pbdesc, sum_without_package)
{
    load("sum.proto", sum_proto);
    const pb_method *m = pbdesc_method("/sum/add");
    cr_assert_not_null(m);
    cr_assert_str_eq(m->path, "/sum/add");
    cr_assert_str_eq(m->service, "sum");
    cr_assert_eq(pbdesc_method("sum/add"), m);
    cr_assert_eq(pbdesc_method("sum.add"), m);
    cr_assert_str_eq(m->input->name, "req");
    cr_assert_str_eq(m->input->package_name, "");
    cr_assert_not_null(catalog_find_path("/sum/add"));
    char *s = describe("sum");
    cr_assert_str_eq(s, "sum is a service:\nservice sum {\n  rpc add ( .req ) returns ( .reply );\n}\n");
    free(s);
    s = describe("reply");
    cr_assert_str_eq(s, "reply is a message:\nmessage reply {\n  int32 res = 3;\n}\n");
    free(s);
    char *hex = pack_json(m->output, "{\"res\":300}");
    cr_assert_str_eq(hex, "18ac02");
    free(hex);
}

/* ---- maps, proto3 optional, nesting, recursion, an imported well-known type ---- */

static const char features_proto[] =
    "syntax = \"proto3\";\n"
    "package feat;\n"
    "import \"google/protobuf/timestamp.proto\";\n"
    "message Node {\n"
    "  map<string, int32> m = 1;\n"
    "  optional int32 o = 2;\n"
    "  optional string os = 3;\n"
    "  Inner in = 4;\n"
    "  Node next = 5;\n"
    "  repeated Node kids = 6;\n"
    "  google.protobuf.Timestamp at = 7;\n"
    "  repeated int32 loose = 8 [packed = false];\n"
    "  message Inner { string y = 1; Kind k = 2; enum Kind { K0 = 0; K1 = 1; } }\n"
    "}\n"
    "service Tree { rpc Walk(stream Node) returns (stream Node); }\n";

Test(pbdesc, features)
{
    if (strcmp(protoc(), "protoc") != 0) {
        cr_log_warn("SKIP: proto3 optional needs protoc");
        return;
    }
    load("feat.proto", features_proto);
    const ProtobufCMessageDescriptor *d = pbdesc_message("feat.Node");
    cr_assert_not_null(d);
    cr_assert_not_null(pbdesc_message("feat.Node.Inner"));
    cr_assert_not_null(pbdesc_enum("feat.Node.Inner.Kind"));
    cr_assert_not_null(pbdesc_message("feat.Node.MEntry"));
    cr_assert_eq(d->fields[4].descriptor, d); /* recursive */
    cr_assert_eq(d->fields[1].label, PROTOBUF_C_LABEL_OPTIONAL);
    cr_assert_neq(d->fields[1].quantifier_offset, 0);
    cr_assert_not(d->fields[7].flags & PROTOBUF_C_FIELD_FLAG_PACKED);
    const ProtobufCMessageDescriptor *ts = d->fields[6].descriptor;
    cr_assert_str_eq(ts->name, "google.protobuf.Timestamp");
    const char *json = "{\"m\":{\"a\":1},\"o\":0,\"os\":\"\",\"in\":{\"y\":\"z\",\"k\":\"K1\"},"
                       "\"next\":{\"next\":{\"o\":5}},\"kids\":[{},{\"o\":1}],"
                       "\"at\":{\"seconds\":10,\"nanos\":5},\"loose\":[1,2]}";
    char *hex = pack_json(d, json);
    char *want = protoc_encode("feat.proto", "feat.Node",
                               "m { key: \"a\" value: 1 } o: 0 os: \"\" in { y: \"z\" k: K1 }"
                               " next { next { o: 5 } } kids {} kids { o: 1 }"
                               " at { seconds: 10 nanos: 5 } loose: 1 loose: 2");
    cr_assert_not_null(want);
    cr_assert_str_eq(hex, want);
    /* presence: an unset optional is not written, one set to zero is */
    char *none = pack_json(d, "{}");
    cr_assert_str_eq(none, "");
    char *back = unpack_json(d, hex);
    cr_assert(strstr(back, "\"m\":{\"a\":1}"), "%s", back);
    cr_assert(strstr(back, "\"next\":{\"m\":{},\"o\":0,\"os\":\"\",\"in\":null,\"next\":{"), "%s", back);
    cr_assert(strstr(back, "\"at\":{\"seconds\":10,\"nanos\":5}"), "%s", back);
    free(hex);
    free(want);
    free(none);
    free(back);
    char *s = describe("feat.Node");
    cr_assert_str_eq(s, "feat.Node is a message:\n"
                        "message Node {\n"
                        "  map<string, int32> m = 1;\n"
                        "  optional int32 o = 2;\n"
                        "  optional string os = 3;\n"
                        "  .feat.Node.Inner in = 4;\n"
                        "  .feat.Node next = 5;\n"
                        "  repeated .feat.Node kids = 6;\n"
                        "  .google.protobuf.Timestamp at = 7;\n"
                        "  repeated int32 loose = 8 [packed = false];\n"
                        "  message Inner {\n"
                        "    string y = 1;\n"
                        "    .feat.Node.Inner.Kind k = 2;\n"
                        "    enum Kind {\n"
                        "      K0 = 0;\n"
                        "      K1 = 1;\n"
                        "    }\n"
                        "  }\n"
                        "}\n");
    free(s);
    s = describe("feat.Tree.Walk");
    cr_assert_str_eq(s, "feat.Tree.Walk is a method:\n"
                        "rpc Walk ( stream .feat.Node ) returns ( stream .feat.Node );\n");
    free(s);
    const pb_method *m = pbdesc_method("feat.Tree/Walk");
    cr_assert(m && m->client_streaming && m->server_streaming);
}

/* ---- proto2: defaults and required fields ---- */

static const char p2_proto[] =
    "syntax = \"proto2\";\n"
    "package old;\n"
    "message P {\n"
    "  required int32 a = 1;\n"
    "  optional string s = 2 [default = \"hi\"];\n"
    "  optional int32 i = 3 [default = -7];\n"
    "  optional Color c = 4 [default = GREEN];\n"
    "  optional bool b = 5 [default = true];\n"
    "  optional double d = 6 [default = 1.5];\n"
    "  optional bytes by = 7 [default = \"a\\001\"];\n"
    "  repeated int32 r = 8;\n"
    "  repeated int32 rp = 9 [packed = true];\n"
    "  optional Color first = 10;\n"
    "  enum Color { RED = 1; GREEN = 2; }\n"
    "}\n";

Test(pbdesc, proto2_defaults_and_required)
{
    load("old.proto", p2_proto);
    const ProtobufCMessageDescriptor *d = pbdesc_message("old.P");
    cr_assert_eq(d->fields[0].label, PROTOBUF_C_LABEL_REQUIRED);
    cr_assert_eq(d->fields[1].label, PROTOBUF_C_LABEL_OPTIONAL);
    cr_assert_not(d->fields[7].flags & PROTOBUF_C_FIELD_FLAG_PACKED);
    cr_assert(d->fields[8].flags & PROTOBUF_C_FIELD_FLAG_PACKED);
    /* only what was set is written */
    char *hex = pack_json(d, "{\"a\":1,\"r\":[1,2],\"rp\":[1,2],\"i\":-7}");
    cr_assert_str_eq(hex, "0801" "18f9ffffffffffffffff01" "40014002" "4a020102");
    free(hex);
    /* unset fields read back as their defaults */
    char *back = unpack_json(d, "0801");
    cr_assert_str_eq(back, "{\"a\":1,\"s\":\"hi\",\"i\":-7,\"c\":\"GREEN\",\"b\":true,\"d\":1.5,"
                           "\"by\":\"YQE=\",\"r\":[],\"rp\":[],\"first\":\"RED\"}");
    free(back);
    /* a missing required field is refused */
    cr_assert_null(protobuf_c_message_unpack(d, NULL, 0, NULL));
    char *s = describe("old.P.s");
    cr_assert_str_eq(s, "old.P.s is a field:\noptional string s = 2 [default = \"hi\"];\n");
    free(s);
    s = describe("old.P.a");
    cr_assert_str_eq(s, "old.P.a is a field:\nrequired int32 a = 1;\n");
    free(s);
}

/* ---- imports ---- */

Test(pbdesc, missing_import_then_found)
{
    write_proto("dep.proto", "syntax = \"proto3\"; package dep; message D { int32 x = 1; }\n");
    write_proto("top.proto", "syntax = \"proto3\"; package top; import \"dep.proto\";\n"
                             "message T { dep.D d = 1; }\nservice S { rpc Get(T) returns (dep.D); }\n");
    size_t n;
    uint8_t *p = compile("top.proto", true, &n);
    Google__Protobuf__FileDescriptorSet *set = google__protobuf__file_descriptor_set__unpack(NULL, n, p);
    cr_assert(set && set->n_file == 2);
    cr_assert_str_eq(set->file[1]->name, "top.proto");
    uint8_t one[4096], two[4096];
    size_t n1 = google__protobuf__file_descriptor_proto__pack(set->file[1], one);
    size_t n0 = google__protobuf__file_descriptor_proto__pack(set->file[0], two);
    char err[512] = "", name[128];
    cr_assert_eq(pbdesc_add_file(one, n1, err, sizeof err), 1, "%s", err);
    cr_assert_eq(pbdesc_add_file(one, n1, err, sizeof err), 0);
    cr_assert_eq(pbdesc_link(err, sizeof err), 0, "%s", err);
    cr_assert(pbdesc_missing_import(name, sizeof name));
    cr_assert_str_eq(name, "dep.proto");
    cr_assert_null(pbdesc_message("top.T"));
    cr_assert_null(pbdesc_method("/top.S/Get"));
    cr_assert_eq(pbdesc_add_file(two, n0, err, sizeof err), 1, "%s", err);
    cr_assert_not(pbdesc_missing_import(name, sizeof name));
    cr_assert_eq(pbdesc_link(err, sizeof err), 2, "%s", err);
    cr_assert_eq(pbdesc_message("top.T")->fields[0].descriptor, pbdesc_message("dep.D"));
    cr_assert_not_null(pbdesc_method("/top.S/Get"));
    google__protobuf__file_descriptor_set__free_unpacked(set, NULL);
    free(p);
}

Test(pbdesc, compiled_in_import)
{
    write_proto("helloworld.proto", "syntax = \"proto3\"; package helloworld;"
                                    " message HelloRequest { string name = 1; }\n");
    write_proto("uses.proto", "syntax = \"proto3\"; package uses; import \"helloworld.proto\";\n"
                              "message U { helloworld.HelloRequest r = 1; }\n");
    size_t n;
    uint8_t *p = compile("uses.proto", false, &n);
    char err[512] = "", name[128];
    cr_assert_eq(pbdesc_add_set(p, n, err, sizeof err), 1, "%s", err);
    cr_assert_not(pbdesc_missing_import(name, sizeof name), "%s", name);
    cr_assert_geq(pbdesc_link(err, sizeof err), 1, "%s", err);
    const ProtobufCMessageDescriptor *u = pbdesc_message("uses.U");
    cr_assert_not_null(u);
    cr_assert_str_eq(((const ProtobufCMessageDescriptor *)u->fields[0].descriptor)->name,
                     "helloworld.HelloRequest");
    size_t ns;
    pbdesc_services(&ns);
    cr_assert_eq(ns, 0); /* the compiled-in Greeter is not one of the built files' own */
    char *s = describe("helloworld.Greeter");
    cr_assert(strstr(s, "rpc SayHello ( .helloworld.HelloRequest ) returns ( .helloworld.HelloReply );"),
              "%s", s);
    free(s);
    free(p);
}

Test(pbdesc, compiled_in_describe)
{
    char *s = describe("helloworld.HelloRequest");
    cr_assert_str_eq(s, "helloworld.HelloRequest is a message:\nmessage HelloRequest {\n  string name = 1;\n}\n");
    free(s);
    cr_assert(pbdesc_knows("helloworld.Greeter.SayHello"));
    cr_assert(pbdesc_knows("helloworld.HelloRequest.name"));
}

/* ---- malformed descriptors are errors, never crashes ---- */

/* One file "bad.proto" with message M holding the given field; returns link's error. */
static int link_bad(Google__Protobuf__FieldDescriptorProto *fields[], size_t nf, char *err, size_t errlen)
{
    Google__Protobuf__DescriptorProto m = GOOGLE__PROTOBUF__DESCRIPTOR_PROTO__INIT;
    m.name = "M";
    m.n_field = nf;
    m.field = fields;
    Google__Protobuf__DescriptorProto *mp = &m;
    Google__Protobuf__FileDescriptorProto f = GOOGLE__PROTOBUF__FILE_DESCRIPTOR_PROTO__INIT;
    f.name = "bad.proto";
    f.package = "bad";
    f.syntax = "proto3";
    f.n_message_type = 1;
    f.message_type = &mp;
    uint8_t out[4096];
    size_t n = google__protobuf__file_descriptor_proto__pack(&f, out);
    cr_assert_eq(pbdesc_add_file(out, n, err, errlen), 1, "%s", err);
    return pbdesc_link(err, errlen);
}

static Google__Protobuf__FieldDescriptorProto field(const char *name, int number, int type, char *type_name)
{
    Google__Protobuf__FieldDescriptorProto f = GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__INIT;
    f.name = (char *)name;
    f.has_number = 1;
    f.number = number;
    f.has_label = 1;
    f.has_type = 1;
    f.type = type;
    f.type_name = type_name;
    return f;
}

#define T_INT32 GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__TYPE__TYPE_INT32
#define T_MESSAGE GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__TYPE__TYPE_MESSAGE
#define T_GROUP GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__TYPE__TYPE_GROUP

static void expect_bad(Google__Protobuf__FieldDescriptorProto a, Google__Protobuf__FieldDescriptorProto *b,
                       const char *needle)
{
    Google__Protobuf__FieldDescriptorProto *fs[2] = {&a, b};
    char err[512] = "";
    cr_assert_eq(link_bad(fs, b ? 2 : 1, err, sizeof err), -1);
    cr_assert(strstr(err, "bad.proto") && strstr(err, needle), "%s", err);
    cr_assert_null(pbdesc_message("bad.M"));
}

Test(pbdesc, malformed_message_without_type_name)
{
    expect_bad(field("x", 1, T_MESSAGE, NULL), NULL, "bad.M.x");
}

Test(pbdesc, malformed_unknown_type)
{
    expect_bad(field("x", 1, T_MESSAGE, ".bad.Nowhere"), NULL, ".bad.Nowhere");
}

Test(pbdesc, malformed_duplicate_number)
{
    Google__Protobuf__FieldDescriptorProto b = field("y", 1, T_INT32, NULL);
    expect_bad(field("x", 1, T_INT32, NULL), &b, "used twice");
}

Test(pbdesc, malformed_numbers)
{
    expect_bad(field("x", 0, T_INT32, NULL), NULL, "bad.M.x");
}

Test(pbdesc, malformed_big_number)
{
    expect_bad(field("x", 536870912, T_INT32, NULL), NULL, "bad.M.x");
}

Test(pbdesc, malformed_group)
{
    expect_bad(field("x", 1, T_GROUP, NULL), NULL, "group");
}

Test(pbdesc, malformed_bytes)
{
    char err[256] = "";
    const uint8_t junk[] = {0xff, 0xff, 0xff};
    cr_assert_eq(pbdesc_add_set(junk, sizeof junk, err, sizeof err), -1);
    cr_assert(strstr(err, "FileDescriptorSet"), "%s", err);
    cr_assert_eq(pbdesc_add_file(junk, sizeof junk, err, sizeof err), -1);
    Google__Protobuf__FileDescriptorProto f = GOOGLE__PROTOBUF__FILE_DESCRIPTOR_PROTO__INIT;
    uint8_t out[16];
    size_t n = google__protobuf__file_descriptor_proto__pack(&f, out);
    cr_assert_eq(pbdesc_add_file(out, n, err, sizeof err), -1); /* no name */
}

Test(pbdesc, redefinition_is_an_error)
{
    load("one.proto", "syntax = \"proto3\"; package twice; message A { int32 x = 1; }\n");
    write_proto("two.proto", "syntax = \"proto3\"; package twice; message A { int32 y = 1; }\n");
    size_t n;
    uint8_t *p = compile("two.proto", true, &n);
    char err[512] = "";
    cr_assert_eq(pbdesc_add_set(p, n, err, sizeof err), 1, "%s", err);
    cr_assert_eq(pbdesc_link(err, sizeof err), -1);
    cr_assert(strstr(err, "twice.A") && strstr(err, "one.proto"), "%s", err);
    cr_assert_str_eq(pbdesc_message("twice.A")->fields[0].name, "x");
    free(p);
}
