/* test_gob.c -- encoding/gob: byte-exact encoding against Go, decoding Go's bytes,
 * hostile input, gob_scan and the explainer.
 *
 * Every byte vector below was printed by tests/go/gobvectors (real Go encoding/gob, one
 * fresh process per vector, so type ids start at 65 as on a new connection); the Go
 * expression is in the comment above it. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/gob.h"

#include "testkit.h"

/* ---- vectors captured from Go ---- */

/* Request{"Arith.Multiply", 0}: first Encode on a new Encoder (defines Request = 65) */
#define MULTIPLY_0 \
    "2fff81030101075265717565737401ff82000102010d536572766963654d6574686f64010c00010353657101" \
    "0600000013ff82010e41726974682e4d756c7469706c7900"
/* Args{7, 8}: second Encode on the same Encoder (defines Args = 66) */
#define MULTIPLY_1 ARGS_DEF ARGS_VALUE
#define ARGS_DEF "1eff83030101044172677301ff840001020101410104000101420104000000"
#define ARGS_VALUE "07ff84010e011000"
/* Request{"Arith.Multiply", 1} then Args{3, 4}, encoded next on that same Encoder:
 * no type definitions any more */
#define MULTIPLY2_2 "15ff82010e41726974682e4d756c7469706c79010100"
#define MULTIPLY2_3 "07ff840106010800"
/* Args{-5, 1 << 62} */
#define ARGS_BIG_0 \
    "1eff81030101044172677301ff8200010201014101040001014201040000000fff82010901f8800000000000" \
    "000000"
/* int(-300) */
#define INT_NEG_0 "050400fe0257"
/* int64(math.MinInt64) */
#define INT_MIN_0 "0b0400f8ffffffffffffffff"
/* int(0) */
#define INT_ZERO_0 "03040000"
/* "李白" */
#define STRING_LIBAI_0 "090c0006e69d8ee799bd"
/* Quotient{2, 1} */
#define QUOTIENT_0 \
    "26ff810301010851756f7469656e7401ff82000102010351756f010400010352656d010400000007ff820104" \
    "010200"
/* Mixed{L: []string{"a", "bc"}, M: map[string]int{"k": 3}, A: [3]int{1, 0, -1}, B: true,
 *       F: 1.5, G: 0.1, U: math.MaxUint64, Raw: []byte{0, 1, 255}, N: Inner{X: 9, Y: "in"}}
 * with type Inner struct{X int; Y string} and type Mixed struct{L []string;
 * M map[string]int; A [3]int; B bool; F, G float64; U uint64; Raw []byte; N Inner} */
#define MIXED_0 \
    "4fff81030101054d6978656401ff8200010901014c01ff840001014d01ff860001014101ff88000101420102" \
    "000101460108000101470108000101550106000103526177010a0001014e01ff8a00000016ff83020101085b" \
    "5d737472696e6701ff8400010c00001eff850401010e6d61705b737472696e675d696e7401ff8600010c0104" \
    "000016ff87010101065b335d696e7401ff88000104010600001fff8903010105496e6e657201ff8a00010201" \
    "0158010400010159010c0000003bff82010201610262630101016b060103020001010101fef83f01f89a9999" \
    "999999b93f01f8ffffffffffffffff01030001ff0101120102696e0000"
/* Mixed{} */
#define MIXED_ZERO_0 \
    "4fff81030101054d6978656401ff8200010901014c01ff840001014d01ff860001014101ff88000101420102" \
    "000101460108000101470108000101550106000103526177010a0001014e01ff8a00000016ff83020101085b" \
    "5d737472696e6701ff8400010c00001eff850401010e6d61705b737472696e675d696e7401ff8600010c0104" \
    "000016ff87010101065b335d696e7401ff88000104010600001fff8903010105496e6e657201ff8a00010201" \
    "0158010400010159010c0000000aff820303000000060000"
/* []string{"x", "yz"} (an unnamed top-level slice: its definition has no name) */
#define STRINGS_0 "0cff81020102ff8200010c000009ff820002017802797a"
/* Node{1, &Node{2, nil}} with type Node struct{V int; Next *Node} */
#define NODE_0 \
    "22ff81030101044e6f646501ff8200010201015601040001044e65787401ff8200000009ff82010201010400" \
    "00"
/* WithComplex{1, 2 + 3i} with type WithComplex struct{A int; C complex128} */
#define COMPLEX_0 \
    "25ff810301010b57697468436f6d706c657801ff82000102010141010400010143010e0000000aff82010201" \
    "40fe084000"
/* WithIface{1, int(5)} with type WithIface struct{A int; I interface{}} */
#define IFACE_0 \
    "23ff810301010957697468496661636501ff8200010201014101040001014901100000000eff820102010369" \
    "6e740402000a00"
/* WithTime{time.Unix(0, 0).UTC()} with type WithTime struct{T time.Time} (a GobEncoder) */
#define TIME_0 \
    "1dff81030101085769746854696d6501ff8200010101015401ff8400000010ff830501010454696d6501ff84" \
    "00000014ff82010f010000000e7791f70000000000ffff00"

/* ---- the Go types, as vtypes ---- */

static const vtype_field request_f[] = {{"ServiceMethod", &vtype_string}, {"Seq", &vtype_uint}};
static const vtype request_t = {.kind = T_STRUCT, .name = "Request", .fields = request_f,
                                .nfields = 2};
static const vtype_field args_f[] = {{"A", &vtype_int}, {"B", &vtype_int}};
static const vtype args_t = {.kind = T_STRUCT, .name = "Args", .fields = args_f, .nfields = 2};
static const vtype_field quotient_f[] = {{"Quo", &vtype_int}, {"Rem", &vtype_int}};
static const vtype quotient_t = {.kind = T_STRUCT, .name = "Quotient", .fields = quotient_f,
                                 .nfields = 2};
static const vtype strings_t = {.kind = T_SLICE, .elem = &vtype_string};
static const vtype map_si_t = {.kind = T_MAP, .key = &vtype_string, .elem = &vtype_int};
static const vtype arr3_t = {.kind = T_ARRAY, .elem = &vtype_int, .len = 3};
static const vtype_field inner_f[] = {{"X", &vtype_int}, {"Y", &vtype_string}};
static const vtype inner_t = {.kind = T_STRUCT, .name = "Inner", .fields = inner_f, .nfields = 2};
static const vtype_field mixed_f[] = {
    {"L", &strings_t}, {"M", &map_si_t},   {"A", &arr3_t},    {"B", &vtype_bool},  {"F", &vtype_float},
    {"G", &vtype_float}, {"U", &vtype_uint}, {"Raw", &vtype_bytes}, {"N", &inner_t},
};
static const vtype mixed_t = {.kind = T_STRUCT, .name = "Mixed", .fields = mixed_f, .nfields = 9};
static const vtype_field iface_f[] = {{"A", &vtype_int}, {"I", &vtype_any}};
static const vtype iface_t = {.kind = T_STRUCT, .name = "WithIface", .fields = iface_f,
                              .nfields = 2};

/* ---- helpers ---- */

static value *args(int64_t a, int64_t b, const char *name)
{
    value *v = value_struct(name);
    value_struct_set(v, "A", value_int(a));
    value_struct_set(v, "B", value_int(b));
    return v;
}

static value *request(const char *method, uint64_t seq)
{
    value *v = value_struct("Request");
    value_struct_set(v, "ServiceMethod", value_cstring(method));
    value_struct_set(v, "Seq", value_uint(seq));
    return v;
}

static value *mixed_value(void)
{
    value *v = value_struct("Mixed");
    value *l = value_list();
    value_list_push(l, value_cstring("a"));
    value_list_push(l, value_cstring("bc"));
    value_struct_set(v, "L", l);
    value *m = value_map();
    value_map_put(m, value_cstring("k"), value_int(3));
    value_struct_set(v, "M", m);
    value *a = value_list();
    value_list_push(a, value_int(1));
    value_list_push(a, value_int(0));
    value_list_push(a, value_int(-1));
    value_struct_set(v, "A", a);
    value_struct_set(v, "B", value_bool(true));
    value_struct_set(v, "F", value_float(1.5));
    value_struct_set(v, "G", value_float(0.1));
    value_struct_set(v, "U", value_uint(UINT64_MAX));
    value_struct_set(v, "Raw", value_bytes("\x00\x01\xff", 3));
    value *in = value_struct("Inner");
    value_struct_set(in, "X", value_int(9));
    value_struct_set(in, "Y", value_cstring("in"));
    value_struct_set(v, "N", in);
    return v;
}

/* Encodes v on a fresh encoder and compares with Go's bytes. */
static void encode_matches(const vtype *t, value *v, const char *want)
{
    gob_enc *e = gob_enc_new();
    buf out;
    buf_init(&out, 0);
    char err[256] = "";
    cr_assert_eq(gob_encode(e, t, v, &out, err, sizeof err), 0, "%s", err);
    assert_bytes(&out, want);
    buf_done(&out);
    gob_enc_free(e);
    value_free(v);
}

/* Decodes the one value in hex on a fresh decoder; it must take all the bytes. */
static value *decode_all(const char *hex, const vtype **type)
{
    static gob_dec *d; /* freed by the next call: the returned type lives in it */
    gob_dec_free(d);
    d = gob_dec_new(0);
    bytes b = unhex(hex);
    size_t used = 0;
    value *v = NULL;
    char err[256] = "";
    int r = gob_decode(d, b.p, b.n, &used, &v, type, err, sizeof err);
    cr_assert_eq(r, GOB_VALUE, "decode: %d %s", r, err);
    cr_assert_eq(used, b.n);
    free(b.p);
    return v;
}

/* ---- encoding: byte-exact against Go ---- */

Test(gob_encode, request_then_args_like_go)
{
    gob_enc *e = gob_enc_new();
    buf out;
    buf_init(&out, 0);
    char err[256] = "";
    value *r = request("Arith.Multiply", 0), *a = args(7, 8, "Args");
    cr_assert_eq(gob_encode(e, &request_t, r, &out, err, sizeof err), 0, "%s", err);
    assert_bytes(&out, MULTIPLY_0);
    buf_clear(&out);
    cr_assert_eq(gob_encode(e, &args_t, a, &out, err, sizeof err), 0, "%s", err);
    assert_bytes(&out, MULTIPLY_1);

    /* the second call reuses both types: no definitions are sent again */
    value *r2 = request("Arith.Multiply", 1), *a2 = args(3, 4, "Args");
    buf_clear(&out);
    cr_assert_eq(gob_encode(e, &request_t, r2, &out, err, sizeof err), 0);
    cr_assert_eq(gob_encode(e, &args_t, a2, &out, err, sizeof err), 0);
    assert_bytes(&out, MULTIPLY2_2 MULTIPLY2_3);
    value_free(r);
    value_free(a);
    value_free(r2);
    value_free(a2);
    buf_done(&out);
    gob_enc_free(e);
}

Test(gob_encode, same_type_from_another_vtype_is_not_resent)
{
    /* an inferred type for Args is a different pointer but the same Go type */
    gob_enc *e = gob_enc_new();
    typeset *ts = typeset_new();
    buf out;
    buf_init(&out, 0);
    char err[256] = "";
    value *r = request("Arith.Multiply", 0), *a = args(7, 8, "Args");
    cr_assert_eq(gob_encode(e, &request_t, r, &out, err, sizeof err), 0);
    cr_assert_eq(gob_encode(e, &args_t, a, &out, err, sizeof err), 0);
    value *r2 = request("Arith.Multiply", 1), *a2 = args(3, 4, "Args");
    const vtype *inferred = vtype_infer(ts, a2, err, sizeof err);
    cr_assert_not_null(inferred);
    cr_assert_neq(inferred, &args_t);
    buf_clear(&out);
    cr_assert_eq(gob_encode(e, &request_t, r2, &out, err, sizeof err), 0);
    cr_assert_eq(gob_encode(e, inferred, a2, &out, err, sizeof err), 0);
    assert_bytes(&out, MULTIPLY2_2 MULTIPLY2_3);
    value_free(r);
    value_free(a);
    value_free(r2);
    value_free(a2);
    typeset_free(ts);
    buf_done(&out);
    gob_enc_free(e);
}

Test(gob_encode, negative_and_large_fields)
{
    encode_matches(&args_t, args(-5, INT64_C(1) << 62, "Args"), ARGS_BIG_0);
}

Test(gob_encode, int_singletons)
{
    encode_matches(&vtype_int, value_int(-300), INT_NEG_0);
    encode_matches(&vtype_int, value_int(INT64_MIN), INT_MIN_0);
    /* a top-level zero is still sent */
    encode_matches(&vtype_int, value_int(0), INT_ZERO_0);
}

Test(gob_encode, utf8_string) { encode_matches(&vtype_string, value_cstring("李白"), STRING_LIBAI_0); }

Test(gob_encode, quotient)
{
    value *q = value_struct("Quotient");
    value_struct_set(q, "Quo", value_int(2));
    value_struct_set(q, "Rem", value_int(1));
    encode_matches(&quotient_t, q, QUOTIENT_0);
}

Test(gob_encode, every_kind_in_one_struct) { encode_matches(&mixed_t, mixed_value(), MIXED_0); }

Test(gob_encode, zero_struct_sends_arrays_and_nested_structs_only)
{
    encode_matches(&mixed_t, vtype_zero(&mixed_t), MIXED_ZERO_0);
}

Test(gob_encode, unnamed_top_level_slice)
{
    value *l = value_list();
    value_list_push(l, value_cstring("x"));
    value_list_push(l, value_cstring("yz"));
    encode_matches(&strings_t, l, STRINGS_0);
}

Test(gob_encode, interface_values_are_refused_and_nothing_changes)
{
    gob_enc *e = gob_enc_new();
    buf out;
    buf_init(&out, 0);
    char err[256] = "";
    value *v = value_struct("WithIface");
    value_struct_set(v, "A", value_int(1));
    value_struct_set(v, "I", value_int(5));
    cr_assert_eq(gob_encode(e, &iface_t, v, &out, err, sizeof err), -1);
    cr_assert(strstr(err, "interface values cannot be sent with gob"), "%s", err);
    cr_assert(strstr(err, "I"), "the error names the field: %s", err);
    cr_assert_eq(buf_size(&out), 0);
    /* the failed call handed out no ids: the encoder still behaves like a fresh one */
    value *r = request("Arith.Multiply", 0);
    cr_assert_eq(gob_encode(e, &request_t, r, &out, err, sizeof err), 0);
    assert_bytes(&out, MULTIPLY_0);
    value_free(r);
    value_free(v);
    buf_done(&out);
    gob_enc_free(e);
}

Test(gob_encode, nil_interface_is_left_out)
{
    value *v = value_struct("WithIface");
    value_struct_set(v, "A", value_int(1));
    value_struct_set(v, "I", value_null());
    gob_enc *e = gob_enc_new();
    buf out;
    buf_init(&out, 0);
    char err[256] = "";
    cr_assert_eq(gob_encode(e, &iface_t, v, &out, err, sizeof err), 0, "%s", err);
    /* the value message is: length 5, id 65, delta 1, A=1 (0x02), end */
    char *h = tohex(buf_data(&out), buf_size(&out));
    cr_assert(strlen(h) > 12 && strcmp(h + strlen(h) - 12, "05ff82010200") == 0, "%s", h);
    free(h);
    value_free(v);
    buf_done(&out);
    gob_enc_free(e);
}

Test(gob_encode, array_length_mismatch_is_an_error)
{
    value *v = vtype_zero(&mixed_t);
    value *a = value_list();
    value_list_push(a, value_int(1));
    value_struct_set(v, "A", a);
    gob_enc *e = gob_enc_new();
    buf out;
    buf_init(&out, 0);
    char err[256] = "";
    cr_assert_eq(gob_encode(e, &mixed_t, v, &out, err, sizeof err), -1);
    cr_assert(strstr(err, "A") && strstr(err, "3"), "%s", err);
    cr_assert_eq(buf_size(&out), 0);
    value_free(v);
    buf_done(&out);
    gob_enc_free(e);
}

Test(gob_encode, output_cap_is_respected)
{
    gob_enc *e = gob_enc_new();
    buf out;
    buf_init(&out, 10);
    char err[256] = "";
    value *r = request("Arith.Multiply", 0);
    cr_assert_eq(gob_encode(e, &request_t, r, &out, err, sizeof err), -1);
    cr_assert_eq(buf_size(&out), 0);
    buf_done(&out);
    buf_init(&out, 0);
    cr_assert_eq(gob_encode(e, &request_t, r, &out, err, sizeof err), 0);
    assert_bytes(&out, MULTIPLY_0); /* the failure left no trace */
    value_free(r);
    buf_done(&out);
    gob_enc_free(e);
}

/* ---- decoding Go's bytes ---- */

Test(gob_decode, request_and_args_stream)
{
    gob_dec *d = gob_dec_new(0);
    bytes b = unhex(MULTIPLY_0 MULTIPLY_1 MULTIPLY2_2 MULTIPLY2_3);
    size_t pos = 0, used;
    value *v;
    const vtype *t;
    char err[256];
    const struct {
        const char *name;
        value *want;
    } want[] = {{"Request", request("Arith.Multiply", 0)}, {"Args", args(7, 8, "Args")},
                {"Request", request("Arith.Multiply", 1)}, {"Args", args(3, 4, "Args")}};
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(gob_decode(d, b.p + pos, b.n - pos, &used, &v, &t, err, sizeof err),
                     GOB_VALUE, "%d: %s", i, err);
        pos += used;
        cr_assert(value_equal(v, want[i].want), "value %d", i);
        cr_assert_str_eq(v->u.st.name, want[i].name);
        cr_assert_eq(t->kind, T_STRUCT);
        cr_assert_str_eq(t->name, want[i].name);
        value_free(v);
        value_free(want[i].want);
    }
    cr_assert_eq(pos, b.n);
    cr_assert_eq(gob_decode(d, b.p + pos, 0, &used, &v, &t, err, sizeof err), GOB_MORE);
    free(b.p);
    gob_dec_free(d);
}

Test(gob_decode, omitted_field_is_zero_filled_in_declared_order)
{
    /* Request{"Arith.Multiply", 0}: Seq is not on the wire */
    const vtype *t;
    value *v = decode_all(MULTIPLY_0, &t);
    cr_assert_eq(v->u.st.len, 2);
    cr_assert_str_eq(v->u.st.fields[0].name, "ServiceMethod");
    cr_assert_str_eq(v->u.st.fields[1].name, "Seq");
    cr_assert_eq(v->u.st.fields[1].v->kind, V_UINT);
    cr_assert_eq(v->u.st.fields[1].v->u.u, 0);
    cr_assert_eq(t->fields[1].type->kind, T_UINT);
    value_free(v);
}

Test(gob_decode, scalars)
{
    const vtype *t;
    value *v = decode_all(ARGS_BIG_0, &t);
    value *w = args(-5, INT64_C(1) << 62, "Args");
    cr_assert(value_equal(v, w));
    value_free(v);
    value_free(w);

    v = decode_all(INT_NEG_0, &t);
    cr_assert_eq(v->kind, V_INT);
    cr_assert_eq(v->u.i, -300);
    cr_assert_eq(t, &vtype_int);
    value_free(v);
    v = decode_all(INT_MIN_0, &t);
    cr_assert_eq(v->u.i, INT64_MIN);
    value_free(v);
    v = decode_all(INT_ZERO_0, &t);
    cr_assert_eq(v->kind, V_INT);
    cr_assert_eq(v->u.i, 0);
    value_free(v);
    v = decode_all(STRING_LIBAI_0, &t);
    cr_assert_eq(v->kind, V_STRING);
    cr_assert_str_eq(v->u.s.p, "李白");
    cr_assert_eq(t->kind, T_STRING);
    value_free(v);
}

Test(gob_decode, quotient)
{
    const vtype *t;
    value *v = decode_all(QUOTIENT_0, &t);
    cr_assert_str_eq(v->u.st.name, "Quotient");
    cr_assert_eq(value_get(v, "Quo")->u.i, 2);
    cr_assert_eq(value_get(v, "Rem")->u.i, 1);
    value_free(v);
}

Test(gob_decode, every_kind_in_one_struct)
{
    const vtype *t;
    value *v = decode_all(MIXED_0, &t);
    value *w = mixed_value();
    cr_assert(value_equal(v, w));
    cr_assert_eq(value_get(v, "U")->kind, V_UINT);
    cr_assert_eq(value_get(v, "Raw")->kind, V_BYTES);
    cr_assert_eq(value_get(v, "G")->u.f, 0.1);
    cr_assert_str_eq(value_get(v, "N")->u.st.name, "Inner");
    /* the types Go declared */
    cr_assert_str_eq(t->name, "Mixed");
    cr_assert_eq(t->nfields, 9);
    cr_assert_eq(t->fields[0].type->kind, T_SLICE);
    cr_assert_eq(t->fields[0].type->elem->kind, T_STRING);
    cr_assert_eq(t->fields[1].type->kind, T_MAP);
    cr_assert_eq(t->fields[2].type->kind, T_ARRAY);
    cr_assert_eq(t->fields[2].type->len, 3);
    cr_assert_eq(t->fields[7].type->kind, T_BYTES);
    cr_assert_str_eq(t->fields[8].type->name, "Inner");
    value_free(w);

    /* re-encoding the decoded value with the decoded type gives Go's bytes back */
    gob_enc *e = gob_enc_new();
    buf out;
    buf_init(&out, 0);
    char err[256] = "";
    cr_assert_eq(gob_encode(e, t, v, &out, err, sizeof err), 0, "%s", err);
    assert_bytes(&out, MIXED_0);
    buf_done(&out);
    gob_enc_free(e);
    value_free(v);
}

Test(gob_decode, zero_struct_is_complete)
{
    const vtype *t;
    value *v = decode_all(MIXED_ZERO_0, &t);
    value *w = vtype_zero(&mixed_t);
    cr_assert_eq(v->u.st.len, 9);
    cr_assert(value_equal(v, w));
    cr_assert_eq(value_get(v, "L")->kind, V_LIST);
    cr_assert_eq(value_get(v, "M")->kind, V_MAP);
    cr_assert_eq(value_get(v, "A")->u.list.len, 3);
    value_free(v);
    value_free(w);
}

Test(gob_decode, unnamed_slice)
{
    const vtype *t;
    value *v = decode_all(STRINGS_0, &t);
    cr_assert_eq(v->kind, V_LIST);
    cr_assert_eq(v->u.list.len, 2);
    cr_assert_str_eq(v->u.list.items[1]->u.s.p, "yz");
    cr_assert_eq(t->kind, T_SLICE);
    cr_assert(t->name == NULL);
    value_free(v);
}

Test(gob_decode, recursive_type)
{
    const vtype *t;
    value *v = decode_all(NODE_0, &t);
    cr_assert_eq(value_get(v, "V")->u.i, 1);
    const value *next = value_get(v, "Next");
    cr_assert_eq(next->kind, V_STRUCT);
    cr_assert_eq(value_get(next, "V")->u.i, 2);
    /* the nil pointer at the end is an omitted field: its zero is null, as the
     * self-reference is typed interface{} to keep the vtype finite */
    cr_assert_eq(value_get(next, "Next")->kind, V_NULL);
    cr_assert_eq(t->fields[1].type->kind, T_ANY);
    value_free(v);
}

Test(gob_decode, interface_field)
{
    const vtype *t;
    value *v = decode_all(IFACE_0, &t);
    cr_assert_eq(value_get(v, "A")->u.i, 1);
    cr_assert_eq(value_get(v, "I")->kind, V_INT);
    cr_assert_eq(value_get(v, "I")->u.i, 5);
    cr_assert_eq(t->fields[1].type->kind, T_ANY);
    value_free(v);
}

Test(gob_decode, gob_encoder_type_is_bytes)
{
    const vtype *t;
    value *v = decode_all(TIME_0, &t);
    const value *tm = value_get(v, "T");
    cr_assert_eq(tm->kind, V_BYTES);
    cr_assert_eq(tm->u.s.len, 15);
    cr_assert_eq(t->fields[0].type->kind, T_BYTES);
    cr_assert_str_eq(t->fields[0].type->name, "Time");
    value_free(v);
}

Test(gob_decode, complex_is_refused_and_stream_continues)
{
    gob_dec *d = gob_dec_new(0);
    bytes b = unhex(COMPLEX_0 INT_NEG_0);
    size_t used;
    value *v = NULL;
    const vtype *t;
    char err[256] = "";
    cr_assert_eq(gob_decode(d, b.p, b.n, &used, &v, &t, err, sizeof err), GOB_BAD_VALUE);
    cr_assert(strstr(err, "complex"), "%s", err);
    cr_assert_null(v);
    cr_assert_eq(used, b.n - strlen(INT_NEG_0) / 2);
    cr_assert_eq(gob_decode(d, b.p + used, b.n - used, &used, &v, &t, err, sizeof err),
                 GOB_VALUE);
    cr_assert_eq(v->u.i, -300);
    value_free(v);
    free(b.p);
    gob_dec_free(d);
}

/* ---- hostile input ---- */

Test(gob_decode, every_truncation_asks_for_more)
{
    static const char *const all[] = {MULTIPLY_1, MIXED_0, NODE_0, IFACE_0, TIME_0,
                                      STRING_LIBAI_0};
    for (size_t k = 0; k < sizeof all / sizeof *all; k++) {
        bytes b = unhex(all[k]);
        for (size_t n = 0; n < b.n; n++) {
            gob_dec *d = gob_dec_new(0);
            size_t used;
            value *v = NULL;
            const vtype *t;
            char err[256] = "";
            int r = gob_decode(d, b.p, n, &used, &v, &t, err, sizeof err);
            cr_assert_eq(r, GOB_MORE, "vector %zu cut at %zu: %d %s", k, n, r, err);
            cr_assert_leq(used, n);
            cr_assert_eq(gob_scan(b.p, n, 1, 0, NULL, 0), 0);
            gob_dec_free(d);
        }
        free(b.p);
    }
}

static int decode_hex(const char *hex, char *err, size_t errlen, size_t *used)
{
    gob_dec *d = gob_dec_new(64);
    bytes b = unhex(hex);
    value *v = NULL;
    const vtype *t;
    size_t u;
    int r = gob_decode(d, b.p, b.n, used ? used : &u, &v, &t, err, errlen);
    value_free(v);
    free(b.p);
    gob_dec_free(d);
    return r;
}

Test(gob_decode, malformed_lengths_are_fatal)
{
    char err[256];
    cr_assert_eq(decode_hex("80", err, sizeof err, NULL), GOB_BROKEN); /* 128 length bytes */
    cr_assert_eq(decode_hex("f7ffffffffffffffffff", err, sizeof err, NULL), GOB_BROKEN);
    cr_assert_eq(decode_hex("00", err, sizeof err, NULL), GOB_BROKEN); /* empty message */
    cr_assert(strstr(err, "empty"), "%s", err);
    cr_assert_eq(decode_hex("41", err, sizeof err, NULL), GOB_BROKEN); /* 65 > max 64 */
    cr_assert(strstr(err, "limit"), "%s", err);
    cr_assert_eq(decode_hex("f8ffffffffffffffff", err, sizeof err, NULL), GOB_BROKEN);
}

Test(gob_decode, type_id_used_before_definition)
{
    char err[256] = "";
    size_t used;
    /* Args{7, 8}'s value message without the definition of type 66 */
    cr_assert_eq(decode_hex("07ff84010e011000", err, sizeof err, &used), GOB_BAD_VALUE);
    cr_assert(strstr(err, "66") && strstr(err, "never defined"), "%s", err);
    cr_assert_eq(used, 8);
}

Test(gob_decode, struct_definition_referring_to_undefined_type)
{
    char err[256] = "";
    /* Args defined with field B of type 99, which nobody defines */
    cr_assert_eq(decode_hex("1fff83030101044172677301ff8400010201014101040001014201ffc6000000"
                            ARGS_VALUE,
                            err, sizeof err, NULL),
                 GOB_BAD_VALUE);
    cr_assert(strstr(err, "99"), "%s", err);
}

Test(gob_decode, bad_type_definitions_are_fatal)
{
    char err[256] = "";
    /* a definition with no wireType field set */
    cr_assert_eq(decode_hex("03ff8100", err, sizeof err, NULL), GOB_BROKEN);
    cr_assert(strstr(err, "no type"), "%s", err);
    /* wireType field delta past its 7 fields */
    cr_assert_eq(decode_hex("03ff8109", err, sizeof err, NULL), GOB_BROKEN);
    /* a definition for a reserved id (-2) */
    cr_assert_eq(decode_hex("0103", err, sizeof err, NULL), GOB_BROKEN);
    cr_assert(strstr(err, "belongs to gob itself"), "%s", err);
    /* the same type defined twice */
    cr_assert_eq(decode_hex(ARGS_DEF ARGS_DEF, err, sizeof err, NULL), GOB_BROKEN);
    cr_assert(strstr(err, "second time"), "%s", err);
    /* extra bytes after a definition */
    cr_assert_eq(decode_hex("0dff81020102ff8200010c000005", err, sizeof err, NULL), GOB_BROKEN);
    cr_assert(strstr(err, "extra data"), "%s", err);
}

Test(gob_decode, bad_values_are_skipped)
{
    char err[256] = "";
    size_t used;
    /* Args value whose field delta +3 goes past its 2 fields */
    cr_assert_eq(decode_hex(ARGS_DEF "04ff840302", err, sizeof err, &used), GOB_BAD_VALUE);
    cr_assert(strstr(err, "only 2 fields"), "%s", err);
    cr_assert_eq(used, strlen(ARGS_DEF) / 2 + 5);
    /* a string whose length runs past the message */
    cr_assert_eq(decode_hex("040c0005ab", err, sizeof err, NULL), GOB_BAD_VALUE);
    /* a singleton without its 0 marker */
    cr_assert_eq(decode_hex("0304010e", err, sizeof err, NULL), GOB_BAD_VALUE);
    /* a slice claiming more items than bytes */
    cr_assert_eq(decode_hex("0cff81020102ff8200010c0000" "05ff8200ff7f", err, sizeof err, NULL),
                 GOB_BAD_VALUE);
}

Test(gob_decode, huge_array_type_is_refused_not_allocated)
{
    char err[256] = "";
    /* type 65 = [1<<40]int, then a struct 66 {A [1<<40]int}, then a value of 66 with A
     * omitted: zero-filling it would need 2^40 items */
    gob_dec *d = gob_dec_new(0);
    buf b;
    buf_init(&b, 0);
    /* arrayType: CommonType{Id 65}, Elem int, Len 1<<40 */
    static const uint8_t arr[] = {0xff, 0x81, 0x01, 0x01, 0x02, 0xff, 0x82, 0x00, 0x01, 0x04,
                                  0x01, 0xfa, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    buf_putc(&b, sizeof arr);
    buf_append(&b, arr, sizeof arr);
    /* structType S {A: type 65} */
    static const uint8_t st[] = {0xff, 0x83, 0x03, 0x01, 0x01, 0x01, 0x53, 0x01, 0xff, 0x84,
                                 0x00, 0x01, 0x01, 0x01, 0x01, 0x41, 0x01, 0xff, 0x82, 0x00,
                                 0x00, 0x00};
    buf_putc(&b, sizeof st);
    buf_append(&b, st, sizeof st);
    static const uint8_t val[] = {0xff, 0x84, 0x00};
    buf_putc(&b, sizeof val);
    buf_append(&b, val, sizeof val);
    size_t used;
    value *v = NULL;
    const vtype *t;
    cr_assert_eq(gob_decode(d, buf_data(&b), buf_size(&b), &used, &v, &t, err, sizeof err),
                 GOB_BAD_VALUE);
    cr_assert(strstr(err, "more than a message may hold") || strstr(err, "too large"), "%s", err);
    cr_assert_eq(used, buf_size(&b));
    buf_done(&b);
    gob_dec_free(d);
}

Test(gob_decode, deep_nesting_is_refused)
{
    /* type 65 = []T65 (a slice of itself), then a value nested 200 levels deep */
    gob_dec *d = gob_dec_new(0);
    buf b;
    buf_init(&b, 0);
    static const uint8_t def[] = {0xff, 0x81, 0x02, 0x01, 0x02, 0xff, 0x82, 0x00,
                                  0x01, 0xff, 0x82, 0x00, 0x00};
    buf_putc(&b, sizeof def);
    buf_append(&b, def, sizeof def);
    buf_append(&b, "\xff\xcb", 2); /* length 203 */
    buf_append(&b, "\xff\x82\x00", 3);
    for (int i = 0; i < 199; i++)
        buf_putc(&b, 1);
    buf_putc(&b, 0);
    char err[256] = "";
    size_t used;
    value *v = NULL;
    const vtype *t;
    cr_assert_eq(gob_decode(d, buf_data(&b), buf_size(&b), &used, &v, &t, err, sizeof err),
                 GOB_BAD_VALUE);
    cr_assert(strstr(err, "levels deep"), "%s", err);
    buf_done(&b);
    gob_dec_free(d);
}

/* ---- gob_scan ---- */

Test(gob_scan, counts_value_messages_with_their_definitions)
{
    bytes b = unhex(MULTIPLY_0 MULTIPLY_1 MULTIPLY2_2 MULTIPLY2_3);
    size_t first = (strlen(MULTIPLY_0)) / 2, pair = first + strlen(MULTIPLY_1) / 2;
    cr_assert_eq(gob_scan(b.p, b.n, 1, 0, NULL, 0), (long)first);
    cr_assert_eq(gob_scan(b.p, b.n, 2, 0, NULL, 0), (long)pair);
    cr_assert_eq(gob_scan(b.p, b.n, 4, 0, NULL, 0), (long)b.n);
    cr_assert_eq(gob_scan(b.p, b.n, 5, 0, NULL, 0), 0); /* a fifth has not arrived */
    cr_assert_eq(gob_scan(b.p, pair - 1, 2, 0, NULL, 0), 0);
    cr_assert_eq(gob_scan(b.p, 1, 1, 0, NULL, 0), 0);
    cr_assert_eq(gob_scan(b.p, b.n, 1, 10, NULL, 0), -1); /* 47-byte message over a 10-byte cap */
    cr_assert_eq(gob_scan((const uint8_t *)"\x80", 1, 1, 0, NULL, 0), -1);
    cr_assert_eq(gob_scan((const uint8_t *)"\x00", 1, 1, 0, NULL, 0), -1);
    cr_assert_eq(gob_scan((const uint8_t *)"\x01\x80", 2, 1, 0, NULL, 0), -1); /* bad type id */
    free(b.p);
}

/* ---- the explainer ---- */

Test(gob_explain, request_and_args_then_second_call)
{
    bytes b = unhex(MULTIPLY_0 MULTIPLY_1);
    gob_explainer *x = gob_explainer_new();
    explain e;
    explain_init(&e);
    gob_msg_info info;
    size_t pos = 0;
    int msgs = 0;
    while (pos < b.n) {
        int r = gob_explain_message(x, b.p + pos, b.n - pos, pos, 0, &e, &info);
        cr_assert_gt(r, 0);
        pos += (size_t)r;
        msgs++;
    }
    cr_assert_eq(msgs, 4);
    cr_assert_eq(info.type_def, false);
    cr_assert_eq(info.type_id, 66);
    cr_assert_str_eq(info.type_name, "Args");
    assert_leaves_tile(&e, b.n);

    cr_assert_str_eq(e.spans[0].meaning, "message, 48 bytes: type definition for id 65 "
                                         "(Request)");
    cr_assert_eq(e.spans[0].len, 48);
    const span *s = find_span(&e, "type id -65");
    cr_assert_not_null(s);
    cr_assert_eq(s->off, 1);
    cr_assert_eq(s->len, 2);
    cr_assert_eq(s->cls, SPAN_TYPE);
    s = find_span(&e, "field name \"ServiceMethod\"");
    cr_assert_not_null(s);
    cr_assert_eq(s->off, 0x16);
    cr_assert_eq(s->len, 13);
    cr_assert_not_null(find_span(&e, "field type id 2 = int"));
    s = find_span(&e, "ServiceMethod = \"Arith.Multiply\"");
    cr_assert_not_null(s);
    cr_assert_eq(s->off, 0x35);
    cr_assert_eq(s->len, 14);
    cr_assert_eq(s->cls, SPAN_DATA);
    s = find_span(&e, "A = 7 (int, zigzag 0x0e");
    cr_assert_not_null(s);
    cr_assert_eq(s->off, b.n - 4);
    cr_assert_eq(s->len, 1);
    s = find_span(&e, "field delta +1 → A");
    cr_assert_not_null(s);
    cr_assert_eq(s->cls, SPAN_TYPE);
    cr_assert_not_null(find_span(&e, "message, 20 bytes: value of type Request (id 65)"));
    s = find_span(&e, "message length 47");
    cr_assert_eq(s->off, 0);
    cr_assert_eq(s->cls, SPAN_FRAME);
    size_t totals[4];
    explain_totals(&e, totals);
    cr_assert_eq(totals[SPAN_ERROR], 0);
    cr_assert_gt(totals[SPAN_TYPE], totals[SPAN_DATA]); /* the first call is mostly types */

    /* the second call on the same connection: no definitions, types known from before */
    bytes c = unhex(MULTIPLY2_2 MULTIPLY2_3);
    explain e2;
    explain_init(&e2);
    pos = 0;
    msgs = 0;
    while (pos < c.n) {
        int r = gob_explain_message(x, c.p + pos, c.n - pos, pos, 1, &e2, &info);
        cr_assert_gt(r, 0);
        pos += (size_t)r;
        msgs++;
    }
    cr_assert_eq(msgs, 2);
    assert_leaves_tile(&e2, c.n);
    cr_assert_null(find_span(&e2, "type definition"));
    s = find_span(&e2, "uses type 65 (Request), defined earlier on this connection");
    cr_assert_not_null(s);
    cr_assert_eq(s->off, 1);
    cr_assert_eq(s->depth, 2);
    cr_assert_not_null(find_span(&e2, "Seq = 1 (uint, 0x01)"));
    cr_assert_not_null(find_span(&e2, "B = 4 (int, zigzag 0x08"));
    explain_done(&e);
    explain_done(&e2);
    free(b.p);
    free(c.p);
    gob_explainer_free(x);
}

Test(gob_explain, multi_byte_numbers_are_spelled_out)
{
    bytes b = unhex(INT_NEG_0);
    gob_explainer *x = gob_explainer_new();
    explain e;
    explain_init(&e);
    cr_assert_eq(gob_explain_message(x, b.p, b.n, 0, 0, &e, NULL), (int)b.n);
    const span *s = find_span(&e, "value = -300");
    cr_assert_not_null(s);
    cr_assert_eq(s->off, 3);
    cr_assert_eq(s->len, 3);
    cr_assert(strstr(s->meaning, "0xfe 0x02 0x57: 0xfe = -2, so a 2-byte big-endian number "
                                 "follows"),
              "%s", s->meaning);
    cr_assert_not_null(find_span(&e, "0x00: the value is not a struct"));
    cr_assert_not_null(find_span(&e, "predefined"));
    assert_leaves_tile(&e, b.n);
    explain_done(&e);
    free(b.p);
    gob_explainer_free(x);
}

Test(gob_explain, whole_vectors_are_covered)
{
    static const char *const all[] = {MIXED_0, NODE_0, IFACE_0, TIME_0, COMPLEX_0, STRINGS_0,
                                      QUOTIENT_0, STRING_LIBAI_0};
    for (size_t k = 0; k < sizeof all / sizeof *all; k++) {
        bytes b = unhex(all[k]);
        gob_explainer *x = gob_explainer_new();
        explain e;
        explain_init(&e);
        size_t pos = 0;
        while (pos < b.n) {
            int r = gob_explain_message(x, b.p + pos, b.n - pos, pos, 0, &e, NULL);
            cr_assert_gt(r, 0, "vector %zu at %zu", k, pos);
            pos += (size_t)r;
        }
        assert_leaves_tile(&e, b.n);
        size_t totals[4];
        explain_totals(&e, totals);
        cr_assert_eq(totals[SPAN_ERROR], 0, "vector %zu", k);
        explain_done(&e);
        free(b.p);
        gob_explainer_free(x);
    }
}

Test(gob_explain, values_in_words)
{
    bytes b = unhex(MIXED_0);
    gob_explainer *x = gob_explainer_new();
    explain e;
    explain_init(&e);
    size_t pos = 0;
    while (pos < b.n)
        pos += (size_t)gob_explain_message(x, b.p + pos, b.n - pos, pos, 0, &e, NULL);
    cr_assert_not_null(find_span(&e, "L[1] = \"bc\""));
    cr_assert_not_null(find_span(&e, "M[\"k\"] = 3"));
    cr_assert_not_null(find_span(&e, "A[2] = -1"));
    cr_assert_not_null(find_span(&e, "F = 1.5 (float64"));
    cr_assert_not_null(find_span(&e, "G = 0.1 (float64"));
    cr_assert_not_null(find_span(&e, "U = 18446744073709551615 (uint"));
    cr_assert_not_null(find_span(&e, "Raw = 00 01 ff"));
    cr_assert_not_null(find_span(&e, "N.Y = \"in\""));
    cr_assert_not_null(find_span(&e, "type definition for id 67 (map[string]int)"));
    explain_done(&e);
    free(b.p);
    gob_explainer_free(x);
}

Test(gob_explain, incomplete_and_invalid)
{
    bytes b = unhex(ARGS_DEF);
    gob_explainer *x = gob_explainer_new();
    explain e;
    explain_init(&e);
    cr_assert_eq(gob_explain_message(x, b.p, b.n - 1, 0, 0, &e, NULL), 0);
    cr_assert_eq(e.len, 0);
    /* a value of an undefined type */
    bytes v = unhex("07ff84010e011000");
    cr_assert_eq(gob_explain_message(x, v.p, v.n, 100, 0, &e, NULL), -1);
    const span *last = &e.spans[e.len - 1];
    cr_assert_eq(last->cls, SPAN_ERROR);
    cr_assert(strstr(last->meaning, "never defined"), "%s", last->meaning);
    cr_assert_eq(last->off + last->len, 100 + v.n);
    explain_done(&e);
    /* a malformed length */
    explain_init(&e);
    cr_assert_eq(gob_explain_message(x, (const uint8_t *)"\x80\x01", 2, 0, 0, &e, NULL), -1);
    cr_assert_eq(e.spans[0].cls, SPAN_ERROR);
    cr_assert_eq(e.spans[0].len, 2);
    explain_done(&e);
    free(b.p);
    free(v.p);
    gob_explainer_free(x);
}
