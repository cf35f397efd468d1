/* test_pbvalue.c -- unit tests for pbvalue: protobuf messages to values and back. */
#include <criterion/criterion.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arith.pb-c.h"
#include "health.pb-c.h"
#include "helloworld.pb-c.h"
#include "wire/pbvalue.h"
#include "reflection.pb-c.h"
#include "tally.pb-c.h"
#include "value/value.h"

/* ---- a message with every scalar type, a repeated field and a map, described by hand
 * (proto/ has no such message): what protoc-c would generate for
 *   message All { int32 i32 = 1; sint32 s32 = 2; sfixed32 sf32 = 3; int64 i64 = 4;
 *     sint64 s64 = 5; sfixed64 sf64 = 6; uint32 u32 = 7; fixed32 f32 = 8; uint64 u64 = 9;
 *     fixed64 f64 = 10; float fl = 11; double db = 12; bool b = 13; string str = 14;
 *     bytes by = 15; grpc.health.v1.HealthCheckResponse.ServingStatus en = 16;
 *     repeated int64 rep = 17; map<string, int64> m = 18; } ---- */

typedef struct MEntry {
    ProtobufCMessage base;
    char *key;
    int64_t value;
} MEntry;

typedef struct All {
    ProtobufCMessage base;
    int32_t i32, s32, sf32;
    int64_t i64, s64, sf64;
    uint32_t u32, f32;
    uint64_t u64, f64;
    float fl;
    double db;
    protobuf_c_boolean b;
    char *str;
    ProtobufCBinaryData by;
    int en;
    size_t n_rep;
    int64_t *rep;
    size_t n_m;
    MEntry **m;
} All;

static const ProtobufCMessageDescriptor mentry_descriptor, all_descriptor;

static void mentry_init(ProtobufCMessage *msg)
{
    static const MEntry init = {PROTOBUF_C_MESSAGE_INIT(&mentry_descriptor), (char *)protobuf_c_empty_string, 0};
    *(MEntry *)msg = init;
}

static void all_init(ProtobufCMessage *msg)
{
    static const All init = {.base = PROTOBUF_C_MESSAGE_INIT(&all_descriptor),
                             .str = (char *)protobuf_c_empty_string};
    *(All *)msg = init;
}

#define F(nm, id, lab, ty, q, off, d, def) \
    {nm, id, PROTOBUF_C_LABEL_##lab, PROTOBUF_C_TYPE_##ty, q, off, d, def, 0, 0, NULL, NULL}
#define S(nm, id, ty, field) F(nm, id, NONE, ty, 0, offsetof(All, field), NULL, NULL)

static const ProtobufCFieldDescriptor mentry_fields[] = {
    F("key", 1, NONE, STRING, 0, offsetof(MEntry, key), NULL, &protobuf_c_empty_string),
    F("value", 2, NONE, INT64, 0, offsetof(MEntry, value), NULL, NULL),
};
static const unsigned mentry_by_name[] = {0, 1};
static const ProtobufCIntRange mentry_ranges[] = {{1, 0}, {0, 2}};
static const ProtobufCMessageDescriptor mentry_descriptor = {
    PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC, "t.All.MEntry", "MEntry", "MEntry", "t", sizeof(MEntry), 2,
    mentry_fields, mentry_by_name, 1, mentry_ranges, mentry_init, NULL, NULL, NULL};

static const ProtobufCFieldDescriptor all_fields[] = {
    S("i32", 1, INT32, i32),      S("s32", 2, SINT32, s32),    S("sf32", 3, SFIXED32, sf32),
    S("i64", 4, INT64, i64),      S("s64", 5, SINT64, s64),    S("sf64", 6, SFIXED64, sf64),
    S("u32", 7, UINT32, u32),     S("f32", 8, FIXED32, f32),   S("u64", 9, UINT64, u64),
    S("f64", 10, FIXED64, f64),   S("fl", 11, FLOAT, fl),      S("db", 12, DOUBLE, db),
    S("b", 13, BOOL, b),
    F("str", 14, NONE, STRING, 0, offsetof(All, str), NULL, &protobuf_c_empty_string),
    S("by", 15, BYTES, by),
    F("en", 16, NONE, ENUM, 0, offsetof(All, en),
      &grpc__health__v1__health_check_response__serving_status__descriptor, NULL),
    F("rep", 17, REPEATED, INT64, offsetof(All, n_rep), offsetof(All, rep), NULL, NULL),
    F("m", 18, REPEATED, MESSAGE, offsetof(All, n_m), offsetof(All, m), &mentry_descriptor, NULL),
};
static const unsigned all_by_name[] = {12, 14, 11, 15, 7, 9, 10, 0, 3, 17, 16, 1, 4, 2, 5, 13, 6, 8};
static const ProtobufCIntRange all_ranges[] = {{1, 0}, {0, 18}};
static const ProtobufCMessageDescriptor all_descriptor = {
    PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC, "t.All", "All", "All", "t", sizeof(All), 18, all_fields,
    all_by_name, 1, all_ranges, all_init, NULL, NULL, NULL};

/* ---- helpers ---- */

/* Packs msg, unpacks it as d into a value, and returns it (checked non-NULL). */
static value *through_wire(const ProtobufCMessage *msg)
{
    size_t n = protobuf_c_message_get_packed_size(msg);
    uint8_t *p = malloc(n ? n : 1);
    protobuf_c_message_pack(msg, p);
    char err[256] = "";
    value *v = pbvalue_unpack(msg->descriptor, p, n, err, sizeof err);
    free(p);
    cr_assert_not_null(v, "unpack: %s", err);
    return v;
}

/* value -> bytes -> value must give back v itself. */
static void assert_round_trip(const ProtobufCMessageDescriptor *d, const value *v)
{
    uint8_t *p = NULL;
    size_t n = 0;
    char err[256] = "";
    cr_assert_eq(pbvalue_pack(d, v, &p, &n, err, sizeof err), 0, "pack: %s", err);
    value *back = pbvalue_unpack(d, p, n, err, sizeof err);
    free(p);
    cr_assert_not_null(back, "unpack: %s", err);
    cr_assert(value_equal(v, back), "the value changed on the way through the wire");
    value_free(back);
}

/* pbvalue_to_message must fail with an error containing want. */
static void assert_refused(const ProtobufCMessageDescriptor *d, value *v, const char *want)
{
    char err[256] = "";
    ProtobufCMessage *m = pbvalue_to_message(d, v, err, sizeof err);
    cr_assert_null(m, "accepted; want an error with \"%s\"", want);
    cr_assert(strstr(err, want), "error \"%s\" does not contain \"%s\"", err, want);
    value_free(v);
}

static value *st1(const char *name, value *v)
{
    value *s = value_struct(NULL);
    value_struct_set(s, name, v);
    return s;
}

/* ---- tests ---- */

Test(pbvalue, hello_request_from_message)
{
    Helloworld__HelloRequest r = HELLOWORLD__HELLO_REQUEST__INIT;
    r.name = "李白";
    value *v = through_wire(&r.base);
    cr_assert_eq(v->kind, V_STRUCT);
    cr_assert_str_eq(v->u.st.name, "HelloRequest");
    cr_assert_eq(v->u.st.len, 1);
    const value *name = value_get(v, "name");
    cr_assert(name && name->kind == V_STRING);
    cr_assert_str_eq(name->u.s.p, "李白");
    value_free(v);
}

Test(pbvalue, unset_fields_are_zero_and_unset_messages_null)
{
    Arith__Args a = ARITH__ARGS__INIT;
    value *v = through_wire(&a.base);
    cr_assert_eq(v->u.st.len, 2);
    cr_assert_eq(value_get(v, "A")->kind, V_INT);
    cr_assert_eq(value_get(v, "A")->u.i, 0);
    value_free(v);
    Grpc__Reflection__V1alpha__ServerReflectionResponse r =
        GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__INIT;
    v = through_wire(&r.base);
    cr_assert_eq(value_get(v, "original_request")->kind, V_NULL);
    cr_assert_null(value_get(v, "error_response"), "an unset oneof member is left out");
    value_free(v);
}

Test(pbvalue, every_scalar_type_round_trips_at_its_limits)
{
    All a;
    all_init(&a.base);
    a.i32 = INT32_MIN;
    a.s32 = -7;
    a.sf32 = INT32_MAX;
    a.i64 = INT64_MIN;
    a.s64 = -1;
    a.sf64 = INT64_MAX;
    a.u32 = UINT32_MAX;
    a.f32 = 12345;
    a.u64 = UINT64_MAX;
    a.f64 = (uint64_t)1 << 63;
    a.fl = 1.5f;
    a.db = -2.25e300;
    a.b = 1;
    a.str = "héllo";
    uint8_t bytes[] = {0, 1, 0xff, 0x80};
    a.by = (ProtobufCBinaryData){sizeof bytes, bytes};
    a.en = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING;
    int64_t rep[] = {1, -2, INT64_MAX};
    a.n_rep = 3;
    a.rep = rep;
    MEntry e1, e2;
    mentry_init(&e1.base);
    mentry_init(&e2.base);
    e1.key = "one";
    e1.value = 1;
    e2.key = "minus";
    e2.value = -1;
    MEntry *ents[] = {&e1, &e2};
    a.n_m = 2;
    a.m = ents;

    value *v = through_wire(&a.base);
    cr_assert_eq(v->u.st.len, 18);
    cr_assert_eq(value_get(v, "i32")->u.i, INT32_MIN);
    cr_assert_eq(value_get(v, "s32")->u.i, -7);
    cr_assert_eq(value_get(v, "sf32")->u.i, INT32_MAX);
    cr_assert_eq(value_get(v, "i64")->u.i, INT64_MIN);
    cr_assert_eq(value_get(v, "s64")->u.i, -1);
    cr_assert_eq(value_get(v, "sf64")->u.i, INT64_MAX);
    cr_assert_eq(value_get(v, "u32")->kind, V_UINT);
    cr_assert_eq(value_get(v, "u32")->u.u, UINT32_MAX);
    cr_assert_eq(value_get(v, "f32")->u.u, 12345);
    cr_assert_eq(value_get(v, "u64")->u.u, UINT64_MAX);
    cr_assert_eq(value_get(v, "f64")->u.u, (uint64_t)1 << 63);
    cr_assert_eq(value_get(v, "fl")->u.f, 1.5);
    cr_assert_eq(value_get(v, "db")->u.f, -2.25e300);
    cr_assert_eq(value_get(v, "b")->u.b, true);
    cr_assert_str_eq(value_get(v, "str")->u.s.p, "héllo");
    const value *by = value_get(v, "by");
    cr_assert(by->kind == V_BYTES && by->u.s.len == 4 && memcmp(by->u.s.p, bytes, 4) == 0);
    cr_assert_str_eq(value_get(v, "en")->u.s.p, "NOT_SERVING");
    const value *r = value_get(v, "rep");
    cr_assert(r->kind == V_LIST && r->u.list.len == 3 && r->u.list.items[2]->u.i == INT64_MAX);
    const value *m = value_get(v, "m");
    cr_assert(m->kind == V_MAP && m->u.map.len == 2);
    cr_assert_str_eq(m->u.map.items[1].k->u.s.p, "minus");
    cr_assert_eq(m->u.map.items[1].v->u.i, -1);

    assert_round_trip(&all_descriptor, v);
    value_free(v);
}

Test(pbvalue, numbers_in_other_forms_are_accepted)
{
    /* proto3 JSON writes 64-bit integers as strings; JSON numbers may arrive as any kind */
    value *v = value_struct(NULL);
    value_struct_set(v, "i64", value_cstring("-9223372036854775808"));
    value_struct_set(v, "u64", value_cstring("18446744073709551615"));
    value_struct_set(v, "u32", value_int(7));
    value_struct_set(v, "i32", value_uint(5));
    value_struct_set(v, "db", value_int(3));
    value_struct_set(v, "fl", value_cstring("Infinity"));
    value_struct_set(v, "by", value_cstring("AAH/gA==")); /* base64 of 00 01 ff 80 */
    value_struct_set(v, "en", value_int(2));
    char err[256] = "";
    All *a = (All *)pbvalue_to_message(&all_descriptor, v, err, sizeof err);
    cr_assert_not_null(a, "%s", err);
    cr_assert_eq(a->i64, INT64_MIN);
    cr_assert_eq(a->u64, UINT64_MAX);
    cr_assert_eq(a->u32, 7);
    cr_assert_eq(a->i32, 5);
    cr_assert_eq(a->db, 3.0);
    cr_assert(isinf(a->fl));
    cr_assert(a->by.len == 4 && a->by.data[2] == 0xff);
    cr_assert_eq(a->en, 2);
    protobuf_c_message_free_unpacked(&a->base, NULL);
    value_free(v);
}

Test(pbvalue, map_from_an_object)
{
    value *m = value_struct(NULL);
    value_struct_set(m, "x", value_int(10));
    value_struct_set(m, "y", value_int(-20));
    value *v = st1("m", m);
    char err[256] = "";
    All *a = (All *)pbvalue_to_message(&all_descriptor, v, err, sizeof err);
    cr_assert_not_null(a, "%s", err);
    cr_assert_eq(a->n_m, 2);
    cr_assert_str_eq(a->m[1]->key, "y");
    cr_assert_eq(a->m[1]->value, -20);
    protobuf_c_message_free_unpacked(&a->base, NULL);
    value_free(v);
}

Test(pbvalue, nested_repeated_and_oneof)
{
    /* A reflection response: a oneof member holding a message with repeated bytes, and
     * a nested request message with its own oneof. */
    value *orig = value_struct(NULL);
    value_struct_set(orig, "host", value_cstring("h"));
    value_struct_set(orig, "file_containing_symbol", value_cstring("arith.Arith"));
    value *files = value_list();
    value_list_push(files, value_bytes("\x0a\x01x", 3));
    value_list_push(files, value_bytes("", 0));
    value *fdr = st1("file_descriptor_proto", files);
    value *v = value_struct(NULL);
    value_struct_set(v, "valid_host", value_cstring("h"));
    value_struct_set(v, "original_request", orig);
    value_struct_set(v, "file_descriptor_response", fdr);
    char err[256] = "";
    Grpc__Reflection__V1alpha__ServerReflectionResponse *r =
        (Grpc__Reflection__V1alpha__ServerReflectionResponse *)pbvalue_to_message(
            &grpc__reflection__v1alpha__server_reflection_response__descriptor, v, err, sizeof err);
    cr_assert_not_null(r, "%s", err);
    cr_assert_eq(r->message_response_case,
                 GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_FILE_DESCRIPTOR_RESPONSE);
    cr_assert_eq(r->file_descriptor_response->n_file_descriptor_proto, 2);
    cr_assert_eq(r->original_request->message_request_case,
                 GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_SYMBOL);
    cr_assert_str_eq(r->original_request->file_containing_symbol, "arith.Arith");

    value *back = through_wire(&r->base);
    const value *o = value_get(back, "original_request");
    cr_assert_str_eq(value_get(o, "file_containing_symbol")->u.s.p, "arith.Arith");
    cr_assert_null(value_get(o, "list_services"), "only the oneof member that is set appears");
    cr_assert_null(value_get(back, "error_response"));
    const value *fl = value_get(value_get(back, "file_descriptor_response"), "file_descriptor_proto");
    cr_assert(fl && fl->kind == V_LIST && fl->u.list.len == 2 && fl->u.list.items[0]->u.s.len == 3);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    value_free(back);
    value_free(v);
}

Test(pbvalue, enum_names_and_numbers)
{
    Grpc__Health__V1__HealthCheckResponse h = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
    h.status = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
    value *v = through_wire(&h.base);
    cr_assert_str_eq(value_get(v, "status")->u.s.p, "SERVING");
    assert_round_trip(&grpc__health__v1__health_check_response__descriptor, v);
    value_free(v);
    /* a number the enum does not name stays a number */
    h.status = 42;
    v = through_wire(&h.base);
    cr_assert_eq(value_get(v, "status")->kind, V_INT);
    cr_assert_eq(value_get(v, "status")->u.i, 42);
    value_free(v);
}

Test(pbvalue, names_match_ignoring_case_and_underscores)
{
    value *v = st1("Name", value_cstring("Go"));
    char err[256] = "";
    Helloworld__HelloRequest *r = (Helloworld__HelloRequest *)pbvalue_to_message(
        &helloworld__hello_request__descriptor, v, err, sizeof err);
    cr_assert_not_null(r, "%s", err);
    cr_assert_str_eq(r->name, "Go");
    protobuf_c_message_free_unpacked(&r->base, NULL);
    value_free(v);

    v = value_map();
    value_map_put(v, value_cstring("a"), value_int(6));
    value_map_put(v, value_cstring("b"), value_int(7));
    Arith__Args *a = (Arith__Args *)pbvalue_to_message(&arith__args__descriptor, v, err, sizeof err);
    cr_assert_not_null(a, "%s", err);
    cr_assert(a->a == 6 && a->b == 7);
    protobuf_c_message_free_unpacked(&a->base, NULL);
    value_free(v);

    v = st1("intervalMs", value_int(250));
    Tally__CountRequest *c = (Tally__CountRequest *)pbvalue_to_message(
        &tally__count_request__descriptor, v, err, sizeof err);
    cr_assert_not_null(c, "%s", err);
    cr_assert_eq(c->interval_ms, 250);
    protobuf_c_message_free_unpacked(&c->base, NULL);
    value_free(v);

    /* null means the default; V_NULL is an empty message */
    v = value_null();
    a = (Arith__Args *)pbvalue_to_message(&arith__args__descriptor, v, err, sizeof err);
    cr_assert(a && a->a == 0);
    protobuf_c_message_free_unpacked(&a->base, NULL);
    value_free(v);
}

Test(pbvalue, clear_errors)
{
    assert_refused(&arith__args__descriptor, st1("A", value_cstring("x")),
                   "field \"A\": want int64, got string \"x\"");
    assert_refused(&helloworld__hello_request__descriptor, st1("foo", value_int(1)),
                   "unknown field \"foo\" for helloworld.HelloRequest");
    assert_refused(&tally__count_request__descriptor, st1("interval_ms", value_int(INT64_C(1) << 40)),
                   "field \"interval_ms\": value out of range for int32");
    assert_refused(&all_descriptor, st1("u64", value_int(-1)), "out of range for uint64");
    assert_refused(&all_descriptor, st1("b", value_int(1)), "field \"b\": want bool, got int 1");
    assert_refused(&all_descriptor, st1("en", value_cstring("MAYBE")), "\"MAYBE\" is not a value of enum");
    assert_refused(&all_descriptor, st1("by", value_cstring("!!!")), "want bytes (base64 text)");
    assert_refused(&all_descriptor, st1("rep", value_int(3)), "want a list of int64");
    value *l = value_list();
    value_list_push(l, value_int(1));
    value_list_push(l, value_cstring("two"));
    assert_refused(&all_descriptor, st1("rep", l), "field \"rep[1]\": want int64");
    value *m = value_struct(NULL);
    value_struct_set(m, "k", value_cstring("v"));
    assert_refused(&all_descriptor, st1("m", m), "field \"m[0]\": want int64");
    value *orig = st1("file_by_filename", value_int(5));
    assert_refused(&grpc__reflection__v1alpha__server_reflection_response__descriptor,
                   st1("original_request", orig), "field \"original_request.file_by_filename\": want string");
    value *two = value_struct(NULL);
    value_struct_set(two, "list_services", value_cstring(""));
    value_struct_set(two, "file_by_filename", value_cstring("a.proto"));
    assert_refused(&grpc__reflection__v1alpha__server_reflection_request__descriptor, two,
                   "another member of its oneof is already set");
    assert_refused(&arith__args__descriptor, value_int(3), "want message arith.Args");

    char err[256] = "";
    cr_assert_null(pbvalue_unpack(&arith__args__descriptor, (const uint8_t *)"\x08\xff", 2, err, sizeof err));
    cr_assert(strstr(err, "not a valid arith.Args"), "%s", err);
}
