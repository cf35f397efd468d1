/* test_pbexplain.c -- protobuf messages explained with and without a descriptor: the
 * helloworld and arith messages compiled into the workbench, a hand-made descriptor for
 * the less common types (sint, enum, packed, fixed, double), guessing without a schema,
 * and hostile input. Bytes are written by hand from the protobuf encoding documentation
 * (https://protobuf.dev/programming-guides/encoding/), whose 08 96 01 example is here. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "arith.pb-c.h"
#include "helloworld.pb-c.h"
#include "wire/pbexplain.h"

/* ---- a descriptor made by hand: message Kinds { sint32 s = 1; Color c = 2;
 *      repeated int32 r = 3 [packed]; fixed32 f = 4; double d = 5; bytes b = 6;
 *      Kinds child = 7; } with enum Color { RED = 0; GREEN = 1; } ---- */
static const ProtobufCEnumValue colors[] = {{"RED", "RED", 0}, {"GREEN", "GREEN", 1}};
static const ProtobufCIntRange color_ranges[] = {{0, 0}, {0, 2}};
static const ProtobufCEnumValueIndex color_names[] = {{"GREEN", 1}, {"RED", 0}};
static const ProtobufCEnumDescriptor color_desc = {
    PROTOBUF_C__ENUM_DESCRIPTOR_MAGIC, "t.Color", "Color", "Color", "t", 2, colors, 2,
    color_names, 1, color_ranges, NULL, NULL, NULL, NULL};
extern const ProtobufCMessageDescriptor kinds_desc;
static const ProtobufCFieldDescriptor kinds_fields[] = {
    {.name = "s", .id = 1, .label = PROTOBUF_C_LABEL_NONE, .type = PROTOBUF_C_TYPE_SINT32},
    {.name = "c", .id = 2, .label = PROTOBUF_C_LABEL_NONE, .type = PROTOBUF_C_TYPE_ENUM,
     .descriptor = &color_desc},
    {.name = "r", .id = 3, .label = PROTOBUF_C_LABEL_REPEATED, .type = PROTOBUF_C_TYPE_INT32,
     .flags = PROTOBUF_C_FIELD_FLAG_PACKED},
    {.name = "f", .id = 4, .label = PROTOBUF_C_LABEL_NONE, .type = PROTOBUF_C_TYPE_FIXED32},
    {.name = "d", .id = 5, .label = PROTOBUF_C_LABEL_NONE, .type = PROTOBUF_C_TYPE_DOUBLE},
    {.name = "b", .id = 6, .label = PROTOBUF_C_LABEL_NONE, .type = PROTOBUF_C_TYPE_BYTES},
    {.name = "child", .id = 7, .label = PROTOBUF_C_LABEL_NONE, .type = PROTOBUF_C_TYPE_MESSAGE,
     .descriptor = &kinds_desc},
};
static const unsigned kinds_by_name[] = {5, 1, 6, 4, 3, 2, 0};
static const ProtobufCIntRange kinds_ranges[] = {{1, 0}, {0, 7}};
const ProtobufCMessageDescriptor kinds_desc = {
    PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC, "t.Kinds", "Kinds", "Kinds", "t", 0, 7, kinds_fields,
    kinds_by_name, 1, kinds_ranges, NULL, NULL, NULL, NULL};

/* Explains; checks the leaves tile the input; returns the return code. */
static int run(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t n, explain *e)
{
    explain_init(e);
    unsigned told = 0;
    int r = pbexplain_message(d, p, n, 0, 0, &told, e);
    size_t at = 0;
    for (size_t i = 0; i < e->len; i++) {
        const span *s = &e->spans[i];
        cr_assert_leq(s->off + s->len, n);
        if (i + 1 < e->len && e->spans[i + 1].depth > s->depth)
            continue;
        cr_assert_eq(s->off, at, "leaf %zu (%s) at %zu, want %zu", i, s->meaning, s->off, at);
        at += s->len;
    }
    cr_assert_eq(at, n);
    return r;
}

static const span *find(const explain *e, const char *words)
{
    for (size_t i = 0; i < e->len; i++)
        if (strstr(e->spans[i].meaning, words))
            return &e->spans[i];
    cr_log_error("no span says %s; the spans are:", words);
    for (size_t i = 0; i < e->len; i++)
        cr_log_error("  %zu+%zu d%d %s", e->spans[i].off, e->spans[i].len, e->spans[i].depth,
                     e->spans[i].meaning);
    return NULL;
}

Test(pbexplain, hello_request_with_descriptor)
{
    static const uint8_t m[] = {0x0a, 0x05, 'w', 'o', 'r', 'l', 'd'};
    explain e;
    cr_assert_eq(run(&helloworld__hello_request__descriptor, m, sizeof m, &e), 0);
    const span *s = find(&e, "field 1 name (string) = \"world\"");
    cr_assert_not_null(s);
    cr_assert_eq(s->len, 7);
    cr_assert_eq(s->cls, SPAN_FRAME);
    s = find(&e, "tag 0x0a");
    cr_assert_not_null(s);
    cr_assert_eq(s->cls, SPAN_TYPE);
    cr_assert(strstr(s->meaning, "wire type 2 (length-delimited)"));
    cr_assert(strstr(s->meaning, "<< 3"));
    s = find(&e, "name = \"world\"");
    cr_assert_not_null(s);
    cr_assert_eq(s->off, 2);
    cr_assert_eq(s->len, 5);
    cr_assert_eq(s->cls, SPAN_DATA);
    cr_assert_str_eq(s->layer, "pb");
    explain_done(&e);
}

Test(pbexplain, varint_150_without_schema)
{
    static const uint8_t m[] = {0x08, 0x96, 0x01};
    explain e;
    cr_assert_eq(run(NULL, m, sizeof m, &e), 0);
    const span *s = find(&e, "0x16<<0 + 0x01<<7 = 150");
    cr_assert_not_null(s);
    cr_assert_eq(s->off, 1);
    cr_assert_eq(s->len, 2);
    explain_done(&e);
}

Test(pbexplain, arith_negative_int64)
{
    /* Args{A: 7, B: -3} */
    static const uint8_t m[] = {0x08, 0x07, 0x10, 0xfd, 0xff, 0xff, 0xff, 0xff,
                                0xff, 0xff, 0xff, 0xff, 0x01};
    explain e;
    cr_assert_eq(run(&arith__args__descriptor, m, sizeof m, &e), 0);
    cr_assert_not_null(find(&e, "field 1 A (int64) = 7"));
    cr_assert_not_null(find(&e, "field 2 B (int64) = -3"));
    cr_assert_not_null(find(&e, "two's complement"));
    explain_done(&e);
}

Test(pbexplain, kinds)
{
    static const uint8_t m[] = {
        0x08, 0x03,                         /* s = -2 (zigzag 3) */
        0x10, 0x01,                         /* c = GREEN */
        0x1a, 0x03, 0x01, 0x96, 0x01,       /* r = [1, 150] packed */
        0x25, 0x01, 0x00, 0x00, 0x00,       /* f = 1 */
        0x29, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f, /* d = 1.5 */
        0x32, 0x02, 0x00, 0xff,             /* b = 00 ff */
        0x3a, 0x02, 0x08, 0x01,             /* child { s = -1 } */
        0x40, 0x05,                         /* field 8: unknown */
    };
    explain e;
    cr_assert_eq(run(&kinds_desc, m, sizeof m, &e), 0);
    cr_assert_not_null(find(&e, "field 1 s (sint32) = -2"));
    cr_assert_not_null(find(&e, "zigzag"));
    cr_assert_not_null(find(&e, "field 2 c (t.Color) = GREEN (1)"));
    cr_assert_not_null(find(&e, "r[0] = 1"));
    cr_assert_not_null(find(&e, "r[1] = 150"));
    cr_assert_not_null(find(&e, "packed:"));
    cr_assert_not_null(find(&e, "field 4 f (fixed32) = 1"));
    cr_assert_not_null(find(&e, "little-endian"));
    cr_assert_not_null(find(&e, "field 5 d (double) = 1.5"));
    cr_assert_not_null(find(&e, "b = 2 raw bytes: 0x00 0xff"));
    cr_assert_not_null(find(&e, "field 7 child (t.Kinds): a nested message of 2 bytes"));
    const span *s = find(&e, "field 1 s (sint32) = -1");
    cr_assert_not_null(s);
    cr_assert_eq(s->depth, 1);
    cr_assert_not_null(find(&e, "t.Kinds has no field 8"));
    explain_done(&e);
}

Test(pbexplain, guesses_without_schema)
{
    /* HelloReply{message: "Hello world"} wrapped in field 2 of some outer message */
    static const uint8_t m[] = {0x12, 0x0d, 0x0a, 0x0b, 'H', 'e', 'l', 'l', 'o', ' ',
                                'w',  'o',  'r',  'l',  'd', 0x1a, 0x02, 0xc3, 0x28};
    explain e;
    cr_assert_eq(run(NULL, m, sizeof m, &e), 0);
    cr_assert_not_null(find(&e, "parse as a nested message"));
    const span *s = find(&e, "field 1 = \"Hello world\"");
    cr_assert_not_null(s);
    cr_assert_eq(s->depth, 3);
    cr_assert_not_null(find(&e, "field 3 = 2 bytes: 0xc3 0x28")); /* not UTF-8 */
    explain_done(&e);
}

Test(pbexplain, text_wins_over_message)
{
    /* "hi" parses as field 13 = 105 but reads as text, so text it is */
    static const uint8_t m[] = {0x0a, 0x02, 'h', 'i'};
    explain e;
    cr_assert_eq(run(NULL, m, sizeof m, &e), 0);
    cr_assert_not_null(find(&e, "field 1 = \"hi\""));
    explain_done(&e);
}

Test(pbexplain, bad_input)
{
    static const uint8_t trunc[] = {0x0a, 0x05, 'w', 'o'};
    static const uint8_t wt7[] = {0x08, 0x01, 0x0f};
    static const uint8_t zero[] = {0x00, 0x01};
    static const uint8_t longv[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                    0xff, 0xff, 0xff, 0xff, 0x01};
    static const uint8_t badutf[] = {0x0a, 0x01, 0xff};
    static const uint8_t wrongwt[] = {0x08, 0x01};
    explain e;
    cr_assert_eq(run(&helloworld__hello_request__descriptor, trunc, sizeof trunc, &e), -1);
    cr_assert_not_null(find(&e, "says 5 bytes follow but only 2 are left"));
    cr_assert_eq(e.spans[e.len - 1].cls, SPAN_ERROR);
    explain_done(&e);
    cr_assert_eq(run(NULL, wt7, sizeof wt7, &e), -1);
    cr_assert_not_null(find(&e, "wire type 7"));
    explain_done(&e);
    cr_assert_eq(run(NULL, zero, sizeof zero, &e), -1);
    explain_done(&e);
    cr_assert_eq(run(NULL, longv, sizeof longv, &e), -1);
    explain_done(&e);
    cr_assert_eq(run(&helloworld__hello_request__descriptor, badutf, sizeof badutf, &e), -1);
    cr_assert_not_null(find(&e, "not valid UTF-8"));
    explain_done(&e);
    cr_assert_eq(run(&helloworld__hello_request__descriptor, wrongwt, sizeof wrongwt, &e), -1);
    cr_assert_not_null(find(&e, "a parser rejects this field"));
    explain_done(&e);
}

Test(pbexplain, deep_nesting_is_capped)
{
    uint8_t m[400];
    size_t n = 0;
    /* 60 levels of field 7 (child), each holding the next */
    for (int i = 0; i < 60; i++) {
        m[n++] = 0x3a;
        m[n++] = (uint8_t)(2 * (59 - i));
    }
    explain e;
    run(&kinds_desc, m, n, &e);
    cr_assert_not_null(find(&e, "nested too deeply"));
    explain_done(&e);
    run(NULL, m, n, &e);
    explain_done(&e);
}

Test(pbexplain, empty_and_brief_second_time)
{
    explain e;
    cr_assert_eq(run(NULL, NULL, 0, &e), 0);
    cr_assert_eq(e.len, 0);
    explain_done(&e);
    static const uint8_t m[] = {0x0a, 0x01, 'a', 0x0a, 0x01, 'b'};
    cr_assert_eq(run(&helloworld__hello_request__descriptor, m, sizeof m, &e), 0);
    int full = 0;
    for (size_t i = 0; i < e.len; i++)
        if (strstr(e.spans[i].meaning, "<< 3"))
            full++;
    cr_assert_eq(full, 1, "the tag encoding is spelled out once");
    explain_done(&e);
}
