/* test_netrpc.c -- Go's net/rpc gob codec: requests and responses byte-exact against Go,
 * reading them back (atomically, with error bodies and bad bodies), and the explainer.
 *
 * The byte vectors were printed by tests/go/gobvectors (real Go encoding/gob on a fresh
 * Encoder, as a new net/rpc connection uses); the Go expression is in each comment. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/netrpc.h"

#include "testkit.h"

/* Request{"Arith.Multiply", 0}, then Args{7, 8}: a client's first call */
#define MULTIPLY \
    "2fff81030101075265717565737401ff82000102010d536572766963654d6574686f64010c00010353657101" \
    "0600000013ff82010e41726974682e4d756c7469706c7900"                                         \
    "1eff83030101044172677301ff84000102010141010400010142010400000007ff84010e011000"
/* then Request{"Arith.Multiply", 1}, Args{3, 4} on the same Encoder: the second call */
#define MULTIPLY_SECOND "15ff82010e41726974682e4d756c7469706c79010100" "07ff840106010800"
/* Response{"Arith.Divide", 1, "divide by zero"}, then struct{}{}: what Go's server sends
 * when the method fails */
#define ERROR_RESPONSE \
    "3aff8103010108526573706f6e736501ff82000103010d536572766963654d6574686f64010c000103536571" \
    "01060001054572726f72010c00000023ff82010c41726974682e4469766964650101010e6469766964652062" \
    "79207a65726f00"                                                                           \
    "0aff83030102ff8400000003ff8400"
/* Response{"Arith.Multiply", 0, ""}, then 56: a successful Multiply */
#define OK_RESPONSE \
    "3aff8103010108526573706f6e736501ff82000103010d536572766963654d6574686f64010c000103536571" \
    "01060001054572726f72010c00000013ff82010e41726974682e4d756c7469706c7900"                   \
    "03040070"
/* Request{"hello.HelloWorld", 0}, then "李白" */
#define HELLO \
    "2fff81030101075265717565737401ff82000102010d536572766963654d6574686f64010c00010353657101" \
    "0600000015ff82011068656c6c6f2e48656c6c6f576f726c6400"                                     \
    "090c0006e69d8ee799bd"
/* WithComplex{1, 2 + 3i}'s definition and value (type WithComplex struct{A int;
 * C complex128}): a body this codec cannot represent; used after a Request header */
#define COMPLEX_BODY_DEF                                                                   \
    "25ff810301010b57697468436f6d706c657801ff82000102010141010400010143010e000000"
#define COMPLEX_BODY_VALUE "0aff8201020140fe084000"

static const vtype_field args_f[] = {{"A", &vtype_int}, {"B", &vtype_int}};
static const vtype args_t = {.kind = T_STRUCT, .name = "Args", .fields = args_f, .nfields = 2};

static value *args(int64_t a, int64_t b)
{
    value *v = value_struct("Args");
    value_struct_set(v, "A", value_int(a));
    value_struct_set(v, "B", value_int(b));
    return v;
}

/* ---- writing ---- */

Test(netrpc_write, requests_like_go_client)
{
    gob_enc *e = gob_enc_new();
    buf out;
    buf_init(&out, 0);
    char err[256] = "";
    value *a = args(7, 8), *a2 = args(3, 4);
    cr_assert_eq(netrpc_write_request(e, &out, "Arith.Multiply", 0, &args_t, a, err, sizeof err),
                 0, "%s", err);
    assert_bytes(&out, MULTIPLY);
    buf_clear(&out);
    cr_assert_eq(netrpc_write_request(e, &out, "Arith.Multiply", 1, &args_t, a2, err, sizeof err),
                 0);
    assert_bytes(&out, MULTIPLY_SECOND);
    value_free(a);
    value_free(a2);
    buf_done(&out);
    gob_enc_free(e);
}

Test(netrpc_write, string_argument)
{
    gob_enc *e = gob_enc_new();
    buf out;
    buf_init(&out, 0);
    char err[256] = "";
    value *s = value_cstring("李白");
    cr_assert_eq(netrpc_write_request(e, &out, "hello.HelloWorld", 0, &vtype_string, s, err,
                                      sizeof err),
                 0);
    assert_bytes(&out, HELLO);
    value_free(s);
    buf_done(&out);
    gob_enc_free(e);
}

Test(netrpc_write, responses_like_go_server)
{
    gob_enc *e = gob_enc_new();
    buf out;
    buf_init(&out, 0);
    char err[256] = "";
    value *r = value_int(56);
    cr_assert_eq(netrpc_write_response(e, &out, "Arith.Multiply", 0, NULL, &vtype_int, r, err,
                                       sizeof err),
                 0, "%s", err);
    assert_bytes(&out, OK_RESPONSE);
    value_free(r);
    buf_done(&out);
    gob_enc_free(e);

    e = gob_enc_new();
    buf_init(&out, 0);
    cr_assert_eq(netrpc_write_response(e, &out, "Arith.Divide", 1, "divide by zero", NULL, NULL,
                                       err, sizeof err),
                 0, "%s", err);
    assert_bytes(&out, ERROR_RESPONSE);
    buf_done(&out);
    gob_enc_free(e);
}

Test(netrpc_write, error_text_may_live_in_err)
{
    /* a server that failed to encode a reply reports that very message */
    gob_enc *e = gob_enc_new();
    buf out;
    buf_init(&out, 0);
    char err[256] = "divide by zero";
    cr_assert_eq(netrpc_write_response(e, &out, "Arith.Divide", 1, err, NULL, NULL, err,
                                       sizeof err),
                 0);
    assert_bytes(&out, ERROR_RESPONSE);
    buf_done(&out);
    gob_enc_free(e);
}

Test(netrpc_write, failure_appends_nothing)
{
    gob_enc *e = gob_enc_new();
    buf out;
    buf_init(&out, 0);
    char err[256] = "";
    value *bad = value_cstring("not a struct");
    cr_assert_eq(netrpc_write_request(e, &out, "Arith.Multiply", 0, &args_t, bad, err,
                                      sizeof err),
                 -1);
    cr_assert_eq(buf_size(&out), 0);
    cr_assert(strstr(err, "struct"), "%s", err);
    /* the header type was not half-sent: the next call still defines it */
    value *a = args(7, 8);
    cr_assert_eq(netrpc_write_request(e, &out, "Arith.Multiply", 0, &args_t, a, err, sizeof err),
                 0);
    assert_bytes(&out, MULTIPLY);
    value_free(a);
    value_free(bad);
    buf_done(&out);
    gob_enc_free(e);
}

/* ---- reading ---- */

Test(netrpc_read, requests_from_go_client)
{
    bytes b = unhex(MULTIPLY MULTIPLY_SECOND);
    gob_dec *d = gob_dec_new(0);
    netrpc_msg m = {0};
    char err[256] = "";
    long first = (long)strlen(MULTIPLY) / 2;
    /* nothing is consumed until header and body have both arrived */
    for (long n = 0; n < first; n++) {
        cr_assert_eq(netrpc_read(d, b.p, (size_t)n, false, &m, err, sizeof err), 0, "at %ld", n);
        cr_assert_eq(m.used, 0);
        netrpc_msg_done(&m);
    }
    long r = netrpc_read(d, b.p, b.n, false, &m, err, sizeof err);
    cr_assert_eq(r, first, "%s", err);
    cr_assert_eq(m.used, (size_t)first);
    cr_assert_str_eq(m.method, "Arith.Multiply");
    cr_assert_eq(m.seq, 0);
    cr_assert_null(m.error);
    value *want = args(7, 8);
    cr_assert(value_equal(m.body, want));
    cr_assert_str_eq(m.body_type->name, "Args");
    value_free(want);
    netrpc_msg_done(&m);

    r = netrpc_read(d, b.p + first, b.n - (size_t)first, false, &m, err, sizeof err);
    cr_assert_eq(r, (long)b.n - first, "%s", err);
    cr_assert_eq(m.seq, 1);
    want = args(3, 4);
    cr_assert(value_equal(m.body, want));
    value_free(want);
    netrpc_msg_done(&m);
    free(b.p);
    gob_dec_free(d);
}

Test(netrpc_read, string_argument)
{
    bytes b = unhex(HELLO);
    gob_dec *d = gob_dec_new(0);
    netrpc_msg m = {0};
    char err[256] = "";
    cr_assert_eq(netrpc_read(d, b.p, b.n, false, &m, err, sizeof err), (long)b.n, "%s", err);
    cr_assert_str_eq(m.method, "hello.HelloWorld");
    cr_assert_eq(m.body->kind, V_STRING);
    cr_assert_str_eq(m.body->u.s.p, "李白");
    netrpc_msg_done(&m);
    free(b.p);
    gob_dec_free(d);
}

Test(netrpc_read, error_response_from_go_server)
{
    bytes b = unhex(ERROR_RESPONSE);
    gob_dec *d = gob_dec_new(0);
    netrpc_msg m = {0};
    char err[256] = "";
    cr_assert_eq(netrpc_read(d, b.p, b.n, true, &m, err, sizeof err), (long)b.n, "%s", err);
    cr_assert_str_eq(m.method, "Arith.Divide");
    cr_assert_eq(m.seq, 1);
    cr_assert_str_eq(m.error, "divide by zero");
    /* the body is Go's struct{}{}: an anonymous struct with no fields */
    cr_assert_eq(m.body->kind, V_STRUCT);
    cr_assert_eq(m.body->u.st.len, 0);
    cr_assert_null(m.body->u.st.name);
    cr_assert_eq(m.body_type->kind, T_STRUCT);
    cr_assert_eq(m.body_type->nfields, 0);
    netrpc_msg_done(&m);
    free(b.p);
    gob_dec_free(d);
}

Test(netrpc_read, ok_response_from_go_server)
{
    bytes b = unhex(OK_RESPONSE);
    gob_dec *d = gob_dec_new(0);
    netrpc_msg m = {0};
    char err[256] = "";
    cr_assert_eq(netrpc_read(d, b.p, b.n, true, &m, err, sizeof err), (long)b.n, "%s", err);
    cr_assert_null(m.error);
    cr_assert_eq(m.body->kind, V_INT);
    cr_assert_eq(m.body->u.i, 56);
    netrpc_msg_done(&m);
    free(b.p);
    gob_dec_free(d);
}

Test(netrpc_read, undecodable_body_is_skipped_and_reading_goes_on)
{
    /* header of the first call, a WithComplex body, then the second call */
    bytes hdr = unhex(MULTIPLY);
    size_t hlen = 48 + 20; /* Request definition + Request value */
    buf s;
    buf_init(&s, 0);
    buf_append(&s, hdr.p, hlen);
    bytes body = unhex(COMPLEX_BODY_DEF);
    /* the body's type must get an id the header did not use: 66 */
    body.p[2] = 0x83;
    body.p[20] = 0x84;
    buf_append(&s, body.p, body.n);
    bytes val = unhex(COMPLEX_BODY_VALUE);
    val.p[2] = 0x84;
    buf_append(&s, val.p, val.n);
    size_t bad_end = buf_size(&s);
    bytes next = unhex("15ff82010e41726974682e4d756c7469706c79010100" "03040070");
    buf_append(&s, next.p, next.n);

    gob_dec *d = gob_dec_new(0);
    netrpc_msg m = {0};
    char err[256] = "";
    long r = netrpc_read(d, buf_data(&s), buf_size(&s), false, &m, err, sizeof err);
    cr_assert_eq(r, -2, "%ld %s", r, err);
    cr_assert_str_eq(m.method, "Arith.Multiply");
    cr_assert_eq(m.seq, 0);
    cr_assert_null(m.body);
    cr_assert_eq(m.used, bad_end);
    cr_assert(strstr(err, "complex") && strstr(err, "Arith.Multiply"), "%s", err);
    netrpc_msg_done(&m);
    r = netrpc_read(d, buf_data(&s) + bad_end, buf_size(&s) - bad_end, false, &m, err,
                    sizeof err);
    cr_assert_eq(r, (long)next.n, "%s", err);
    cr_assert_eq(m.seq, 1);
    cr_assert_eq(m.body->u.i, 56);
    netrpc_msg_done(&m);
    free(hdr.p);
    free(body.p);
    free(val.p);
    free(next.p);
    buf_done(&s);
    gob_dec_free(d);
}

Test(netrpc_read, broken_streams)
{
    gob_dec *d = gob_dec_new(0);
    netrpc_msg m = {0};
    char err[256] = "";
    /* a bad length prefix */
    cr_assert_eq(netrpc_read(d, (const uint8_t *)"\x80\x00", 2, false, &m, err, sizeof err), -1);
    netrpc_msg_done(&m);
    gob_dec_free(d);

    /* a header that is not a Request: an int, then an int */
    d = gob_dec_new(0);
    bytes b = unhex("03040070" "03040070");
    cr_assert_eq(netrpc_read(d, b.p, b.n, false, &m, err, sizeof err), -1);
    cr_assert(strstr(err, "not a net/rpc Request"), "%s", err);
    cr_assert_null(m.method);
    netrpc_msg_done(&m);
    free(b.p);
    gob_dec_free(d);

    /* a message over the decoder's cap */
    d = gob_dec_new(16);
    b = unhex(MULTIPLY);
    cr_assert_eq(netrpc_read(d, b.p, b.n, false, &m, err, sizeof err), -1);
    cr_assert(strstr(err, "limit"), "%s", err);
    netrpc_msg_done(&m);
    free(b.p);
    gob_dec_free(d);
}

Test(netrpc_read, written_then_read_back)
{
    gob_enc *e = gob_enc_new();
    gob_dec *d = gob_dec_new(0);
    buf out;
    buf_init(&out, 0);
    char err[256] = "";
    value *r = value_struct("Quotient");
    value_struct_set(r, "Quo", value_int(-7));
    value_struct_set(r, "Rem", value_int(1));
    static const vtype_field qf[] = {{"Quo", &vtype_int}, {"Rem", &vtype_int}};
    static const vtype qt = {.kind = T_STRUCT, .name = "Quotient", .fields = qf, .nfields = 2};
    for (uint64_t seq = 0; seq < 3; seq++)
        cr_assert_eq(netrpc_write_response(e, &out, "Arith.Divide", seq, seq == 1 ? "boom" : NULL,
                                           &qt, r, err, sizeof err),
                     0);
    size_t pos = 0;
    for (uint64_t seq = 0; seq < 3; seq++) {
        netrpc_msg m = {0};
        long n = netrpc_read(d, buf_data(&out) + pos, buf_size(&out) - pos, true, &m, err,
                             sizeof err);
        cr_assert_gt(n, 0, "%s", err);
        pos += (size_t)n;
        cr_assert_eq(m.seq, seq);
        if (seq == 1) {
            cr_assert_str_eq(m.error, "boom");
        } else {
            cr_assert_null(m.error);
            cr_assert(value_equal(m.body, r));
        }
        netrpc_msg_done(&m);
    }
    cr_assert_eq(pos, buf_size(&out));
    value_free(r);
    buf_done(&out);
    gob_enc_free(e);
    gob_dec_free(d);
}

/* ---- explaining ---- */

Test(netrpc_explain, two_requests)
{
    bytes b = unhex(MULTIPLY MULTIPLY_SECOND);
    explain e;
    explain_init(&e);
    cr_assert_eq(netrpc_explain(b.p, b.n, false, &e), 0);
    assert_leaves_tile(&e, b.n);

    size_t first = strlen(MULTIPLY) / 2;
    cr_assert_str_eq(e.spans[0].meaning, "net/rpc request #1: Arith.Multiply, seq 0");
    cr_assert_str_eq(e.spans[0].layer, "rpc");
    cr_assert_eq(e.spans[0].off, 0);
    cr_assert_eq(e.spans[0].len, first);
    cr_assert_eq(e.spans[1].depth, 1);
    cr_assert(strstr(e.spans[1].meaning, "header: Request"), "%s", e.spans[1].meaning);
    cr_assert_eq(e.spans[1].len, 68);
    const span *s = find_span(&e, "argument: Args");
    cr_assert_not_null(s);
    cr_assert_eq(s->off, 68);
    cr_assert_eq(s->depth, 1);
    s = find_span(&e, "net/rpc request #2: Arith.Multiply, seq 1");
    cr_assert_not_null(s);
    cr_assert_eq(s->off, first);
    cr_assert_eq(s->depth, 0);
    /* type definitions only in the first call */
    cr_assert_eq(count_spans(&e, "type definition for id"), 2);
    for (size_t i = 0; i < e.len; i++)
        if (strstr(e.spans[i].meaning, "type definition"))
            cr_assert_lt(e.spans[i].off, first);
    cr_assert_eq(count_spans(&e, "defined earlier on this connection"), 2);
    cr_assert_not_null(find_span(&e, "A = 3 (int"));
    explain_done(&e);
    free(b.p);
}

Test(netrpc_explain, error_response)
{
    bytes b = unhex(ERROR_RESPONSE);
    explain e;
    explain_init(&e);
    cr_assert_eq(netrpc_explain(b.p, b.n, true, &e), 0);
    assert_leaves_tile(&e, b.n);
    cr_assert_str_eq(e.spans[0].meaning,
                     "net/rpc response #1: Arith.Divide, seq 1, error \"divide by zero\"");
    const span *s = find_span(&e, "error body");
    cr_assert_not_null(s);
    cr_assert_eq(s->len, strlen("0aff83030102ff8400000003ff8400") / 2);
    cr_assert_not_null(find_span(&e, "Error = \"divide by zero\""));
    cr_assert_not_null(find_span(&e, "type definition for id 66 (struct {})"));
    explain_done(&e);
    free(b.p);
}

Test(netrpc_explain, truncated_capture)
{
    bytes b = unhex(MULTIPLY);
    explain e;
    explain_init(&e);
    cr_assert_eq(netrpc_explain(b.p, 80, false, &e), 0);
    const span *s = find_span(&e, "incomplete");
    cr_assert_not_null(s);
    cr_assert_eq(s->off + s->len, 80);
    assert_leaves_tile(&e, 80);
    explain_done(&e);
    free(b.p);
}

Test(netrpc_explain, invalid_stream)
{
    bytes b = unhex(MULTIPLY);
    b.p[0x44 + 3] = 0x09; /* Args' definition: wireType field delta +9 does not exist */
    explain e;
    explain_init(&e);
    cr_assert_eq(netrpc_explain(b.p, b.n, false, &e), -1);
    const span *s = &e.spans[e.len - 1];
    cr_assert_eq(s->cls, SPAN_ERROR);
    cr_assert_eq(s->off, 0x44 + 3);
    cr_assert(strstr(s->meaning, "wireType"), "%s", s->meaning);
    explain_done(&e);
    free(b.p);
}

/* Whether a and b hold the same spans. */
static bool same_spans(const explain *a, const explain *b)
{
    if (a->len != b->len)
        return false;
    for (size_t i = 0; i < a->len; i++)
        if (a->spans[i].off != b->spans[i].off || a->spans[i].len != b->spans[i].len ||
            a->spans[i].depth != b->spans[i].depth || a->spans[i].cls != b->spans[i].cls ||
            strcmp(a->spans[i].meaning, b->spans[i].meaning))
            return false;
    return true;
}

Test(netrpc_explain, piece_by_piece_as_whole)
{
    bytes b = unhex(MULTIPLY MULTIPLY_SECOND MULTIPLY_SECOND);
    size_t first = strlen(MULTIPLY) / 2, second = first + strlen(MULTIPLY_SECOND) / 2;
    explain whole, pieces;
    explain_init(&whole);
    explain_init(&pieces);
    cr_assert_eq(netrpc_explain(b.p, b.n, false, &whole), 0);
    netrpc_explainer *nx = netrpc_explainer_new(false);
    cr_assert_not_null(nx);
    /* a call that has not wholly arrived is left for the next feed */
    cr_assert_eq(netrpc_explainer_feed(nx, b.p, 80, &pieces), 0);
    cr_assert_eq(pieces.len, 0);
    cr_assert_eq(netrpc_explainer_feed(nx, b.p, first + 3, &pieces), first);
    cr_assert_eq(netrpc_explainer_feed(nx, b.p, second, &pieces), second);
    cr_assert_eq(netrpc_explainer_feed(nx, b.p, b.n, &pieces), b.n);
    cr_assert(same_spans(&whole, &pieces));
    /* the third call, like the second, uses the types the first defined */
    cr_assert_not_null(find_span(&pieces, "net/rpc request #3: Arith.Multiply, seq 1"));
    netrpc_explainer_free(nx);
    explain_done(&whole);
    explain_done(&pieces);
    free(b.p);
}

Test(netrpc_explain, piece_by_piece_stops_at_a_broken_call)
{
    bytes b = unhex(MULTIPLY MULTIPLY_SECOND);
    b.p[0x44 + 3] = 0x09;
    explain whole, pieces;
    explain_init(&whole);
    explain_init(&pieces);
    cr_assert_eq(netrpc_explain(b.p, b.n, false, &whole), -1);
    netrpc_explainer *nx = netrpc_explainer_new(false);
    cr_assert_eq(netrpc_explainer_feed(nx, b.p, b.n, &pieces), 0);
    cr_assert_eq(netrpc_explainer_feed(nx, b.p, b.n, &pieces), 0);
    cr_assert(same_spans(&whole, &pieces));
    netrpc_explainer_free(nx);
    explain_done(&whole);
    explain_done(&pieces);
    free(b.p);
}
