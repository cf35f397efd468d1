/* test_json.c -- unit tests for jsonscan, jsonval and jsonrpc (fed with buffers, no sockets). */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "services/services.h"
#include "value/value.h"
#include "wire/catalog.h"
#include "wire/explain.h"
#include "wire/jsonrpc.h"
#include "wire/jsonscan.h"
#include "wire/jsonval.h"

#include "testkit.h"

#define TUTORIAL "{\"method\":\"hello.HelloWorld\",\"params\":[\"李白\"],\"id\":0}"
#define TUTORIAL_REPLY "{\"id\":0,\"result\":\"李白 你好....\",\"error\":null}\n"

/* A request that exercises every kind of token, escapes and number form. */
static const char RICH[] =
    "{\"jsonrpc\":\"2.0\",\"method\":\"Arith.Multiply\",\"params\":{\"A\":-12,\"B\":3.5e-2},"
    "\"id\":\"x\\\"\\\\\\u00e9\\/y\",\"t\":true,\"f\":false,\"n\":null,"
    "\"l\":[[],{},0,-0.0E+1,1e9,\"\\b\\f\\n\\r\\t\"]}";

/* ======================= jsonscan ======================= */

static int scan(const char *p, size_t n, int flags, size_t *start, size_t *end, char *err)
{
    return jsonscan(p, n, flags, start, end, NULL, NULL, err, 128);
}

Test(jsonscan, complete_values)
{
    size_t s, e;
    char err[128];
    cr_assert_eq(scan(TUTORIAL, strlen(TUTORIAL), 0, &s, &e, err), 1);
    cr_assert_eq(s, 0);
    cr_assert_eq(e, strlen(TUTORIAL));
    cr_assert_eq(scan(RICH, strlen(RICH), 0, &s, &e, err), 1, "%s", err);
    cr_assert_eq(e, strlen(RICH));
    const char *ws = " \r\n\t[1, 2]  {\"next\":1}";
    cr_assert_eq(scan(ws, strlen(ws), 0, &s, &e, err), 1);
    cr_assert_eq(s, 4);
    cr_assert_eq(e, 10, "the scan stops where the first value ends");
}

Test(jsonscan, every_proper_prefix_is_incomplete)
{
    const char *docs[] = {TUTORIAL, RICH, "[\"\\ud83d\\ude00\", -1.5e+300, {\"a\":{\"b\":[null]}}]",
                          "  {\"s\":\"李白\"}"};
    for (size_t d = 0; d < sizeof docs / sizeof docs[0]; d++) {
        size_t n = strlen(docs[d]);
        for (size_t k = 0; k < n; k++) {
            char err[128] = "";
            size_t s, e;
            int r = scan(docs[d], k, 0, &s, &e, err);
            cr_assert_eq(r, 0, "doc %zu prefix of %zu bytes gave %d (%s): %.*s", d, k, r, err, (int)k,
                         docs[d]);
            r = scan(docs[d], k, JSONSCAN_FINAL, &s, &e, err);
            cr_assert_eq(r, -1, "a truncated value at the end of input is malformed (doc %zu, %zu)", d, k);
        }
        size_t s, e;
        cr_assert_eq(scan(docs[d], n, 0, &s, &e, NULL), 1);
        cr_assert_eq(e, n);
    }
}

Test(jsonscan, malformed_is_told_apart_even_before_the_end)
{
    struct {
        const char *text;
        size_t at;
        const char *why;
    } bad[] = {
        {"{\"a\" 1}", 5, "expected ':'"},
        {"{\"a\":x", 5, "unexpected character"},
        {"{,}", 1, "expected a \"key\""},
        {"[1,]", 3, "unexpected character"},
        {"[1 2]", 3, "expected ',' or ']'"},
        {"{\"a\":1 \"b\":2}", 7, "expected ',' or '}'"},
        {"\"\\x\"", 1, "bad escape"},
        {"\"\\u12G4\"", 1, "bad \\u escape"},
        {"\"a\nb\"", 2, "control character"},
        {"tru e", 3, "unexpected character"},
        {"nulL", 3, "unexpected character"},
        {"-a", 1, "bad number"},
        {"1.e5", 2, "digits must follow"},
        {"1ex", 2, "exponent"},
        {"[01]", 2, "expected ',' or ']'"},
        {"}", 0, "unexpected character"},
        {"{\"method\":\"x\",\"params\":[1,,", 26, "unexpected character"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[128] = "";
        size_t s, e;
        int r = scan(bad[i].text, strlen(bad[i].text), 0, &s, &e, err);
        cr_assert_eq(r, -1, "%s gave %d", bad[i].text, r);
        cr_assert_eq(e, bad[i].at, "%s: fault at %zu, want %zu", bad[i].text, e, bad[i].at);
        cr_assert(strstr(err, bad[i].why), "%s: err \"%s\" lacks \"%s\"", bad[i].text, err, bad[i].why);
        char at[32];
        snprintf(at, sizeof at, "at byte %zu", bad[i].at);
        cr_assert(strstr(err, at), "%s: %s", bad[i].text, err);
    }
}

Test(jsonscan, numbers_at_the_end_of_input)
{
    size_t s, e;
    char err[128];
    cr_assert_eq(scan("123", 3, 0, &s, &e, err), 0, "more digits may follow");
    cr_assert_eq(scan("123", 3, JSONSCAN_FINAL, &s, &e, err), 1);
    cr_assert_eq(e, 3);
    cr_assert_eq(scan("123 ", 4, 0, &s, &e, err), 1);
    cr_assert_eq(e, 3);
    cr_assert_eq(scan("  -0.5e+10", 10, JSONSCAN_FINAL, &s, &e, err), 1);
    cr_assert_eq(s, 2);
    cr_assert_eq(e, 10);
    cr_assert_eq(scan("  -0.5e+10", 10, 0, &s, &e, err), 0);
    cr_assert_eq(scan("-", 1, 0, &s, &e, err), 0);
    cr_assert_eq(scan("-", 1, JSONSCAN_FINAL, &s, &e, err), -1);
    cr_assert(strstr(err, "unexpected end of input"), "%s", err);
    cr_assert_eq(scan("1.", 2, 0, &s, &e, err), 0);
    cr_assert_eq(scan("1.", 2, JSONSCAN_FINAL, &s, &e, err), -1);
    cr_assert_eq(scan("1.5e", 4, 0, &s, &e, err), 0);
    cr_assert_eq(scan("1.5e-", 5, JSONSCAN_FINAL, &s, &e, err), -1);
    cr_assert_eq(scan("0", 1, JSONSCAN_FINAL, &s, &e, err), 1);
    cr_assert_eq(scan("012", 3, JSONSCAN_FINAL, &s, &e, err), 1);
    cr_assert_eq(e, 1, "a value is just \"0\"; what follows is not part of it");
    cr_assert_eq(scan("[1]", 3, 0, &s, &e, err), 1, "a number inside a container is delimited");
    cr_assert_eq(scan("tru", 3, 0, &s, &e, err), 0);
    cr_assert_eq(scan("tru", 3, JSONSCAN_FINAL, &s, &e, err), -1);
    cr_assert_eq(scan("true", 4, 0, &s, &e, err), 1);
}

Test(jsonscan, empty_input)
{
    size_t s, e;
    char err[128] = "";
    cr_assert_eq(scan("", 0, 0, &s, &e, err), 0);
    cr_assert_eq(scan(" \n\t\r", 4, 0, &s, &e, err), 0);
    cr_assert_eq(scan(" \n", 2, JSONSCAN_FINAL, &s, &e, err), -1);
    cr_assert(strstr(err, "no JSON value"), "%s", err);
}

static char *nested(int depth, const char *inner)
{
    size_t n = strlen(inner);
    char *p = malloc((size_t)depth * 2 + n + 1);
    memset(p, '[', (size_t)depth);
    memcpy(p + depth, inner, n);
    memset(p + depth + n, ']', (size_t)depth);
    p[depth * 2 + n] = '\0';
    return p;
}

Test(jsonscan, depth_cap)
{
    size_t s, e;
    char err[128] = "";
    char *ok = nested(JSONSCAN_MAX_DEPTH, "");
    cr_assert_eq(scan(ok, strlen(ok), 0, &s, &e, err), 1, "%s", err);
    free(ok);
    char *deep = nested(JSONSCAN_MAX_DEPTH + 1, "");
    cr_assert_eq(scan(deep, strlen(deep), 0, &s, &e, err), -1);
    cr_assert(strstr(err, "nested too deeply"), "%s", err);
    free(deep);
    /* an unterminated deep prefix is refused too, not waited for */
    char open[10000];
    memset(open, '[', sizeof open);
    cr_assert_eq(scan(open, sizeof open, 0, &s, &e, err), -1);
    /* objects count as levels as well */
    char obj[2000] = "";
    for (int i = 0; i < 200; i++)
        strcat(obj, "{\"a\":");
    cr_assert_eq(scan(obj, strlen(obj), 0, &s, &e, err), -1);
}

Test(jsonscan, escapes)
{
    size_t s, e;
    char err[128];
    const char *all = "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00\"";
    cr_assert_eq(scan(all, strlen(all), 0, &s, &e, err), 1, "%s", err);
    cr_assert_eq(e, strlen(all));
    cr_assert_eq(scan("\"a\\", 3, 0, &s, &e, err), 0);
    cr_assert_eq(scan("\"a\\u00", 6, 0, &s, &e, err), 0);
    cr_assert_eq(scan("\"a\\u00\"", 7, 0, &s, &e, err), -1);
    cr_assert_eq(scan("\"\\\"", 3, 0, &s, &e, err), 0, "an escaped quote does not end the string");
    cr_assert_eq(scan("\"李白\"", 8, 0, &s, &e, err), 1);
}

typedef struct tlog {
    jtok t[64];
    int n, stop_at;
} tlog;

static int log_tok(const jtok *t, void *ctx)
{
    tlog *l = ctx;
    l->t[l->n++] = *t;
    return l->n == l->stop_at;
}

Test(jsonscan, token_offsets)
{
    const char *doc = "{\"k\": [1, \"s\"], \"n\": null}";
    tlog l = {.stop_at = -1};
    size_t s, e;
    cr_assert_eq(jsonscan(doc, strlen(doc), 0, &s, &e, log_tok, &l, NULL, 0), 1);
    const jtok want[] = {
        {JT_OBJ_BEGIN, 0, 1, 0}, {JT_KEY, 1, 3, 1},    {JT_ARR_BEGIN, 6, 1, 1},
        {JT_NUMBER, 7, 1, 2},    {JT_STRING, 10, 3, 2}, {JT_ARR_END, 13, 1, 1},
        {JT_KEY, 16, 3, 1},      {JT_NULL, 21, 4, 1},   {JT_OBJ_END, 25, 1, 0},
    };
    cr_assert_eq(l.n, 9);
    for (int i = 0; i < 9; i++) {
        cr_assert_eq(l.t[i].type, want[i].type, "token %d type", i);
        cr_assert_eq(l.t[i].off, want[i].off, "token %d off %zu", i, l.t[i].off);
        cr_assert_eq(l.t[i].len, want[i].len, "token %d len %zu", i, l.t[i].len);
        cr_assert_eq(l.t[i].depth, want[i].depth, "token %d depth", i);
    }

    const char *nums = "[-12.5e3,true,false,\"\\\"\"]";
    tlog m = {.stop_at = -1};
    cr_assert_eq(jsonscan(nums, strlen(nums), 0, NULL, NULL, log_tok, &m, NULL, 0), 1);
    cr_assert_eq(m.t[1].type, JT_NUMBER);
    cr_assert_eq(m.t[1].len, 7);
    cr_assert_eq(m.t[2].type, JT_TRUE);
    cr_assert_eq(m.t[2].off, 9);
    cr_assert_eq(m.t[3].type, JT_FALSE);
    cr_assert_eq(m.t[3].len, 5);
    cr_assert_eq(m.t[4].type, JT_STRING);
    cr_assert_eq(m.t[4].len, 4);
}

Test(jsonscan, callback_can_stop_the_scan)
{
    tlog l = {.stop_at = 3};
    char err[128] = "";
    cr_assert_eq(jsonscan(TUTORIAL, strlen(TUTORIAL), 0, NULL, NULL, log_tok, &l, err, sizeof err), -1);
    cr_assert_eq(l.n, 3);
}

/* A scan fed in pieces of `piece` bytes, resuming each time: the tokens it saw, its result
 * and error, as a whole scan would give them. */
static int scan_dripped(const char *doc, size_t n, size_t piece, int flags, tlog *l, size_t *end,
                        char *err, size_t errlen, jsonscan_state *st)
{
    jsonscan_init(st);
    int r = 0;
    for (size_t have = piece < n ? piece : n;; have = have + piece < n ? have + piece : n) {
        r = jsonscan_resume(st, doc, have, have == n ? flags : 0, NULL, end, log_tok, l, err,
                            errlen);
        if (r != 0 || have == n)
            return r;
    }
}

Test(jsonscan, a_resumed_scan_sees_what_a_whole_scan_sees)
{
    const char *docs[] = {TUTORIAL, RICH, "[\"\\ud83d\\ude00\", -1.5e+300, {\"a\":{\"b\":[null]}}]",
                          "  {\"s\":\"李白\"}", "[1, 2,, 3]", "{\"a\" 1}", "[tru]", "[\"\\q\"]",
                          "[-]", "[1.x]", "[1e+]", "12", "-0.5E-3", "[\"\\u12G4\"]", "  "};
    for (size_t d = 0; d < sizeof docs / sizeof docs[0]; d++) {
        size_t n = strlen(docs[d]);
        for (int flags = 0; flags <= JSONSCAN_FINAL; flags++) {
            static tlog whole, dripped;
            memset(&whole, 0, sizeof whole);
            whole.stop_at = -1;
            char ew[128] = "", ed[128] = "";
            size_t endw = 0, endd = 0;
            int rw = jsonscan(docs[d], n, flags, NULL, &endw, log_tok, &whole, ew, sizeof ew);
            for (size_t piece = 1; piece <= 3; piece++) {
                memset(&dripped, 0, sizeof dripped);
                dripped.stop_at = -1;
                jsonscan_state st;
                int rd = scan_dripped(docs[d], n, piece, flags, &dripped, &endd, ed, sizeof ed, &st);
                cr_assert_eq(rd, rw, "doc %zu flags %d piece %zu: %d, whole %d", d, flags, piece, rd,
                             rw);
                if (rw != 0)
                    cr_assert_eq(endd, endw, "doc %zu: end %zu, whole %zu", d, endd, endw);
                if (rw < 0)
                    cr_assert_str_eq(ed, ew, "doc %zu flags %d piece %zu", d, flags, piece);
                cr_assert_eq(dripped.n, whole.n, "doc %zu: %d tokens, whole %d", d, dripped.n,
                             whole.n);
                for (int i = 0; i < whole.n; i++)
                    cr_assert(dripped.t[i].type == whole.t[i].type &&
                                  dripped.t[i].off == whole.t[i].off &&
                                  dripped.t[i].len == whole.t[i].len &&
                                  dripped.t[i].depth == whole.t[i].depth,
                              "doc %zu token %d", d, i);
            }
        }
    }
}

/* A request of about 1 MB: Arith.Multiply with a long list after its argument. */
static char *big_request(size_t *n)
{
    buf b;
    buf_init(&b, 0);
    buf_puts(&b, "{\"method\":\"Arith.Multiply\",\"params\":[{\"A\":6,\"B\":7},[");
    for (int i = 0; buf_size(&b) < (1u << 20); i++)
        buf_printf(&b, "%s{\"k\":[%d,\"some text\",true]}", i ? "," : "", i);
    buf_puts(&b, "]],\"id\":1}\n");
    *n = buf_size(&b);
    char *p = buf_take(&b);
    return p;
}

Test(jsonscan, a_value_dripped_in_small_pieces_is_examined_once)
{
    size_t n;
    char *doc = big_request(&n);
    jsonscan_state st;
    jsonscan_init(&st);
    int r = 0;
    size_t calls = 0, end = 0;
    for (size_t have = 256; r == 0 && have - 256 < n; have += 256, calls++)
        r = jsonscan_resume(&st, doc, have < n ? have : n, 0, NULL, &end, NULL, NULL, NULL, 0);
    cr_assert_eq(r, 1);
    cr_assert_eq(end, n - 1);
    /* a scan from the start on every read would look at about n * calls / 2 bytes */
    cr_assert_leq(st.examined, n + 8 * calls, "%zu bytes examined for %zu in %zu reads",
                  st.examined, n, calls);
    free(doc);
}

/* ======================= jsonval ======================= */

static value *parse(const char *text)
{
    char err[128] = "";
    value *v = jsonval_parse(text, strlen(text), err, sizeof err);
    cr_assert_not_null(v, "parse %s: %s", text, err);
    return v;
}

static char *write_json(const value *v)
{
    buf b;
    buf_init(&b, 0);
    cr_assert_eq(jsonval_write(v, &b), 0);
    char *s = buf_take(&b);
    return s;
}

static void assert_round_trip(const char *text)
{
    value *v = parse(text);
    char *out = write_json(v);
    cr_assert_str_eq(out, text);
    free(out);
    value_free(v);
}

Test(jsonval, integers_stay_exact)
{
    value *v = parse("9223372036854775807");
    cr_assert_eq(v->kind, V_INT);
    cr_assert_eq(v->u.i, INT64_MAX);
    value_free(v);
    v = parse("-9223372036854775808");
    cr_assert_eq(v->kind, V_INT);
    cr_assert_eq(v->u.i, INT64_MIN);
    value_free(v);
    v = parse("18446744073709551615");
    cr_assert_eq(v->kind, V_UINT);
    cr_assert_eq(v->u.u, UINT64_MAX);
    value_free(v);
    v = parse("12345678901234567890");
    cr_assert_eq(v->kind, V_UINT);
    cr_assert_eq(v->u.u, 12345678901234567890ULL);
    value_free(v);
    v = parse("9223372036854775808");
    cr_assert_eq(v->kind, V_UINT);
    cr_assert_eq(v->u.u, 9223372036854775808ULL);
    value_free(v);
    v = parse("9007199254740993");
    cr_assert_eq(v->kind, V_INT);
    cr_assert_eq(v->u.i, 9007199254740993LL, "not rounded through a double");
    value_free(v);
    v = parse("-0");
    cr_assert_eq(v->kind, V_INT);
    cr_assert_eq(v->u.i, 0);
    value_free(v);
    /* beyond 64 bits they can only be floats */
    v = parse("18446744073709551616");
    cr_assert_eq(v->kind, V_FLOAT);
    cr_assert_float_eq(v->u.f, 18446744073709551616.0, 1);
    value_free(v);
    v = parse("-9223372036854775809");
    cr_assert_eq(v->kind, V_FLOAT);
    value_free(v);

    assert_round_trip("9223372036854775807");
    assert_round_trip("-9223372036854775808");
    assert_round_trip("18446744073709551615");
    assert_round_trip("12345678901234567890");
    assert_round_trip("[9223372036854775807,-9223372036854775808,18446744073709551615,"
                      "12345678901234567890,0,-1]");
}

Test(jsonval, numbers_pair_with_their_literals_in_nested_documents)
{
    value *v = parse("{\"a\":[1,{\"b\":18446744073709551615}],\"c\":-9223372036854775808,"
                     "\"d\":1.5,\"e\":\"9\",\"f\":[[9223372036854775807]]}");
    const value *a = value_get(v, "a");
    cr_assert_eq(a->u.list.items[0]->u.i, 1);
    cr_assert_eq(value_get(a->u.list.items[1], "b")->kind, V_UINT);
    cr_assert_eq(value_get(a->u.list.items[1], "b")->u.u, UINT64_MAX);
    cr_assert_eq(value_get(v, "c")->u.i, INT64_MIN);
    cr_assert_eq(value_get(v, "d")->kind, V_FLOAT);
    cr_assert_eq(value_get(v, "e")->kind, V_STRING);
    cr_assert_eq(value_get(v, "f")->u.list.items[0]->u.list.items[0]->u.i, INT64_MAX);
    value_free(v);
}

Test(jsonval, floats)
{
    value *v = parse("1.5");
    cr_assert_eq(v->kind, V_FLOAT);
    cr_assert_float_eq(v->u.f, 1.5, 0);
    value_free(v);
    v = parse("1e3");
    cr_assert_eq(v->kind, V_FLOAT, "an exponent makes it a float, as Go's interface{} would");
    cr_assert_float_eq(v->u.f, 1000.0, 0);
    value_free(v);
    v = parse("-2.5E-3");
    cr_assert_float_eq(v->u.f, -0.0025, 0);
    value_free(v);

    assert_round_trip("0.1");
    assert_round_trip("1.5");
    assert_round_trip("-0.25");
    assert_round_trip("0.30000000000000004");
    assert_round_trip("1e+21");
    assert_round_trip("123456789.125");
    /* every double comes back bit for bit */
    const double samples[] = {0.1, 1.0 / 3, 2.0 / 3, 1e-300, 5e-324, 1.7976931348623157e308, -123.456, 1e22};
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        value *f = value_float(samples[i]);
        char *s = write_json(f);
        value *back = parse(s);
        double d = back->kind == V_FLOAT ? back->u.f : (double)back->u.i;
        cr_assert_eq(memcmp(&d, &samples[i], sizeof d), 0, "%.17g written as %s", samples[i], s);
        free(s);
        value_free(back);
        value_free(f);
    }
    v = value_float(0.0 / 0.0);
    char *s = write_json(v);
    cr_assert_str_eq(s, "null", "NaN has no JSON form");
    free(s);
    value_free(v);
}

Test(jsonval, unicode)
{
    value *v = parse("\"\\u674e\\u767d\"");
    cr_assert_str_eq(v->u.s.p, "李白");
    value_free(v);
    v = parse("\"\\ud83d\\ude00\"");
    cr_assert_eq(v->u.s.len, 4);
    cr_assert_str_eq(v->u.s.p, "\xf0\x9f\x98\x80");
    value_free(v);
    v = parse("\"李白 你好....\"");
    cr_assert_str_eq(v->u.s.p, "李白 你好....");
    value_free(v);
    assert_round_trip("\"李白\"");
    assert_round_trip("{\"名字\":\"李白\"}");
    v = value_cstring("tab\there \"q\" back\\slash \x01");
    char *s = write_json(v);
    cr_assert_str_eq(s, "\"tab\\there \\\"q\\\" back\\\\slash \\u0001\"");
    free(s);
    value_free(v);
}

Test(jsonval, strings_with_nul_round_trip)
{
    value *v = parse("\"a\\u0000b\"");
    cr_assert_eq(v->kind, V_STRING);
    cr_assert_eq(v->u.s.len, 3, "the NUL and what follows it are kept");
    cr_assert_eq(memcmp(v->u.s.p, "a\0b", 3), 0);
    char *s = write_json(v);
    cr_assert_str_eq(s, "\"a\\u0000b\"");
    value *back = parse(s);
    cr_assert(value_equal(v, back));
    free(s);
    value_free(back);
    value_free(v);

    v = parse("[\"\\u0000\",{\"k\\u0000\":\"x\\u0000\\u00e9\\n\\ud83d\\ude00\"},\"plain\",\"\\\\u0000\"]");
    cr_assert_eq(v->u.list.items[0]->u.s.len, 1);
    const value *m = v->u.list.items[1];
    cr_assert_eq(m->u.map.items[0].k->u.s.len, 2, "keys keep their NUL too");
    const value *x = m->u.map.items[0].v;
    cr_assert_eq(x->u.s.len, 2 + 2 + 1 + 4);
    cr_assert_eq(memcmp(x->u.s.p, "x\0\xc3\xa9\n\xf0\x9f\x98\x80", 9), 0);
    cr_assert_str_eq(v->u.list.items[2]->u.s.p, "plain");
    cr_assert_str_eq(v->u.list.items[3]->u.s.p, "\\u0000", "an escaped backslash is not a NUL");
    value_free(v);
}

/* Go's encoding/json replaces each byte that does not start well-formed UTF-8 with
 * U+FFFD, reading and writing; the text written is then always valid JSON. */
Test(jsonval, invalid_utf8_is_replaced_both_ways)
{
    static const struct {
        const char *raw, *written;
    } cases[] = {
        {"a\xff" "b", "\"a\\ufffdb\""},
        {"\xe2\x82", "\"\\ufffd\\ufffd\""},               /* cut short */
        {"\xc0\xaf", "\"\\ufffd\\ufffd\""},               /* overlong '/' */
        {"\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""},    /* a UTF-16 surrogate */
        {"\xe2\x82\xac \xc3\xa9", "\"\xe2\x82\xac \xc3\xa9\""}, /* valid: kept */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        value *v = value_string(cases[i].raw, strlen(cases[i].raw));
        char *s = write_json(v);
        cr_assert_str_eq(s, cases[i].written, "case %zu", i);
        free(s);
        value_free(v);
    }
    value *v = parse("[\"a\xff" "b\",{\"k\xfe\":1}]");
    cr_assert_str_eq(v->u.list.items[0]->u.s.p, "a\xef\xbf\xbd" "b");
    cr_assert_str_eq(v->u.list.items[1]->u.map.items[0].k->u.s.p, "k\xef\xbf\xbd");
    value_free(v);
    v = value_map();
    value_map_put(v, value_cstring("k\xfe"), value_int(1));
    char *s = write_json(v);
    cr_assert_str_eq(s, "{\"k\xef\xbf\xbd\":1}", "a key written is replaced too");
    free(s);
    value_free(v);
}

Test(jsonval, map_keys_sorted_like_go)
{
    value *m = value_map();
    value_map_put(m, value_cstring("b"), value_int(1));
    value_map_put(m, value_cstring("a"), value_int(2));
    value_map_put(m, value_cstring("B"), value_int(3));
    value_map_put(m, value_cstring("é"), value_int(4));
    value_map_put(m, value_cstring(""), value_int(5));
    char *s = write_json(m);
    cr_assert_str_eq(s, "{\"\":5,\"B\":3,\"a\":2,\"b\":1,\"é\":4}");
    free(s);
    value_free(m);

    /* Go: json.Marshal(map[int]string{9: "a", 10: "b", -1: "c"}) */
    m = value_map();
    value_map_put(m, value_int(9), value_cstring("a"));
    value_map_put(m, value_int(10), value_cstring("b"));
    value_map_put(m, value_int(-1), value_cstring("c"));
    s = write_json(m);
    cr_assert_str_eq(s, "{\"-1\":\"c\",\"10\":\"b\",\"9\":\"a\"}");
    free(s);
    value_free(m);

    m = value_map();
    value_map_put(m, value_uint(UINT64_MAX), value_int(1));
    value_map_put(m, value_uint(2), value_int(2));
    s = write_json(m);
    cr_assert_str_eq(s, "{\"18446744073709551615\":1,\"2\":2}");
    free(s);
    value_free(m);
}

Test(jsonval, structs_keep_field_order_and_bytes_are_base64)
{
    value *st = value_struct("Quotient");
    value_struct_set(st, "Quo", value_int(3));
    value_struct_set(st, "Rem", value_int(1));
    value_struct_set(st, "Raw", value_bytes("hi", 2));
    value_struct_set(st, "None", value_bytes("", 0));
    value_struct_set(st, "Z", value_null());
    value_struct_set(st, "Ok", value_bool(true));
    char *s = write_json(st);
    cr_assert_str_eq(s, "{\"Quo\":3,\"Rem\":1,\"Raw\":\"aGk=\",\"None\":\"\",\"Z\":null,\"Ok\":true}");
    free(s);
    value_free(st);
}

Test(jsonval, objects_become_maps_in_order)
{
    value *v = parse(" {\"z\":1, \"a\":[true,null], \"z\":2} ");
    cr_assert_eq(v->kind, V_MAP);
    cr_assert_eq(v->u.map.len, 3, "duplicates are kept; the reader of the map decides");
    cr_assert_str_eq(v->u.map.items[0].k->u.s.p, "z");
    cr_assert_str_eq(v->u.map.items[1].k->u.s.p, "a");
    const value *a = value_get(v, "a");
    cr_assert_eq(a->u.list.items[0]->kind, V_BOOL);
    cr_assert_eq(a->u.list.items[1]->kind, V_NULL);
    value_free(v);
}

Test(jsonval, parse_errors)
{
    const char *bad[] = {"", "   ", "[1,]", "1 2", "{\"a\":1}x", "\"abc", "nul", "[1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[128] = "";
        value *v = jsonval_parse(bad[i], strlen(bad[i]), err, sizeof err);
        cr_assert_null(v, "\"%s\" must not parse", bad[i]);
        cr_assert_neq(err[0], '\0', "\"%s\" needs a reason", bad[i]);
    }
    char err[128] = "";
    cr_assert_null(jsonval_parse("{\"a\":1} x", 9, err, sizeof err));
    cr_assert(strstr(err, "byte 8"), "%s", err);
    cr_assert_null(jsonval_parse("[1", 2, NULL, 0), "err may be NULL");
    value *v = jsonval_parse("[1] \n", 5, NULL, 0);
    cr_assert_not_null(v, "trailing white space is fine");
    value_free(v);
}

Test(jsonval, from_cjson_without_text)
{
    cJSON *j = cJSON_Parse("[1, 2.5, \"s\", {\"k\": false}]");
    value *v = jsonval_from_cjson(j, NULL, 0, NULL, 0);
    cJSON_Delete(j);
    cr_assert_eq(v->u.list.items[0]->kind, V_INT);
    cr_assert_eq(v->u.list.items[1]->kind, V_FLOAT);
    cr_assert_str_eq(v->u.list.items[2]->u.s.p, "s");
    cr_assert_eq(value_get(v->u.list.items[3], "k")->kind, V_BOOL);
    value_free(v);
}

/* ======================= jsonrpc: serving ======================= */

/* The server answers from the method catalog: the sample services are in it. */
static void register_samples(void)
{
    char err[128];
    cr_assert_eq(services_register(err, sizeof err), 0, "%s", err);
}

TestSuite(jsonrpc, .init = register_samples);
TestSuite(jsonrpc2, .init = register_samples);
TestSuite(jsonrpc_client, .init = register_samples);

/* What one jsonrpc_serve call did; kept in arrays so a failed assertion leaks nothing. */
typedef struct served {
    int rc;
    char out[8192];
    char err[256];
    size_t left; /* bytes of input not consumed */
} served;

static served serve_n(const char *text, size_t n, size_t max, bool eof)
{
    static served s;
    memset(&s, 0, sizeof s);
    buf in, out;
    buf_init(&in, 0);
    buf_init(&out, 0);
    buf_append(&in, text, n);
    s.rc = jsonrpc_serve(&in, &out, max, eof, NULL, s.err, sizeof s.err);
    s.left = buf_size(&in);
    cr_assert_lt(buf_size(&out), sizeof s.out);
    if (buf_size(&out))
        memcpy(s.out, buf_data(&out), buf_size(&out));
    s.out[buf_size(&out)] = '\0';
    buf_done(&in);
    buf_done(&out);
    return s;
}

static served serve(const char *text) { return serve_n(text, strlen(text), 1 << 20, false); }

static void assert_serves(const char *req, const char *want)
{
    served s = serve(req);
    cr_assert_eq(s.rc, 0, "%s: rc %d (%s)", req, s.rc, s.err);
    cr_assert_str_eq(s.out, want, "request %s", req);
    cr_assert_eq(s.left, 0);
}

Test(jsonrpc, tutorial_request)
{
    assert_serves(TUTORIAL, TUTORIAL_REPLY);
    assert_serves(TUTORIAL "\n", TUTORIAL_REPLY);
    served s = serve_n(TUTORIAL "\n", strlen(TUTORIAL) + 1, 1 << 20, true);
    cr_assert_eq(s.rc, 0);
    cr_assert_str_eq(s.out, TUTORIAL_REPLY);
}

Test(jsonrpc, sample_services)
{
    assert_serves("{\"method\":\"Arith.Multiply\",\"params\":[{\"A\":7,\"B\":8}],\"id\":1}",
                  "{\"id\":1,\"result\":56,\"error\":null}\n");
    assert_serves("{\"method\":\"Arith.Divide\",\"params\":[{\"A\":-7,\"B\":2}],\"id\":2}",
                  "{\"id\":2,\"result\":{\"Quo\":-3,\"Rem\":-1},\"error\":null}\n");
    assert_serves("{\"method\":\"Greeter.SayHello\",\"params\":[{\"name\":\"Bob\"}],\"id\":3}",
                  "{\"id\":3,\"result\":{\"Message\":\"Hello Bob\"},\"error\":null}\n");
    /* Go's int arithmetic wraps; int64 stays exact */
    assert_serves("{\"method\":\"Arith.Multiply\",\"params\":[{\"A\":9223372036854775807,\"B\":2}],\"id\":4}",
                  "{\"id\":4,\"result\":-2,\"error\":null}\n");
    assert_serves("{\"method\":\"Arith.Divide\",\"params\":[{\"A\":-9223372036854775808,\"B\":-1}],\"id\":5}",
                  "{\"id\":5,\"result\":{\"Quo\":-9223372036854775808,\"Rem\":0},\"error\":null}\n");
    /* member names match case-insensitively, as in Go; extra params are ignored by Go */
    assert_serves("{\"METHOD\":\"Arith.Multiply\",\"Params\":[{\"a\":3,\"b\":4},\"extra\"],\"Id\":6}",
                  "{\"id\":6,\"result\":12,\"error\":null}\n");
    /* Go decodes [] into the zero argument */
    assert_serves("{\"method\":\"Arith.Multiply\",\"params\":[],\"id\":7}",
                  "{\"id\":7,\"result\":0,\"error\":null}\n");
}

Test(jsonrpc, pipelined_requests_answered_in_order)
{
    const char *in =
        "{\"method\":\"Arith.Multiply\",\"params\":[{\"A\":7,\"B\":8}],\"id\":1}"
        "{\"method\":\"Arith.Divide\",\"params\":[{\"A\":7,\"B\":2}],\"id\":2}\n"
        "  {\"method\":\"hello.HelloWorld\",\"params\":[\"x\"],\"id\":\"three\"}\r\n"
        "{\"method\":\"Arith.Divide\",\"params\":[{\"A\":1,\"B\":0}],\"id\":4}";
    assert_serves(in, "{\"id\":1,\"result\":56,\"error\":null}\n"
                      "{\"id\":2,\"result\":{\"Quo\":3,\"Rem\":1},\"error\":null}\n"
                      "{\"id\":\"three\",\"result\":\"x 你好....\",\"error\":null}\n"
                      "{\"id\":4,\"result\":null,\"error\":\"divide by zero\"}\n");
}

Test(jsonrpc, request_split_across_feeds)
{
    size_t n = strlen(TUTORIAL);
    for (size_t cut = 0; cut < n; cut++) {
        buf in, out;
        char err[256] = "";
        buf_init(&in, 0);
        buf_init(&out, 0);
        buf_append(&in, TUTORIAL, cut);
        cr_assert_eq(jsonrpc_serve(&in, &out, 4096, false, NULL, err, sizeof err), 0, "cut %zu: %s", cut, err);
        cr_assert_eq(buf_size(&out), 0, "cut %zu: nothing to answer yet", cut);
        cr_assert_eq(buf_size(&in), cut, "cut %zu: the partial request is kept", cut);
        buf_append(&in, TUTORIAL + cut, n - cut);
        cr_assert_eq(jsonrpc_serve(&in, &out, 4096, false, NULL, err, sizeof err), 0, "%s", err);
        cr_assert_eq(buf_size(&out), strlen(TUTORIAL_REPLY));
        cr_assert_eq(memcmp(buf_data(&out), TUTORIAL_REPLY, buf_size(&out)), 0, "cut %zu", cut);
        cr_assert_eq(buf_size(&in), 0);
        buf_done(&in);
        buf_done(&out);
    }
}

Test(jsonrpc, a_large_request_dripped_in_small_reads_is_scanned_once)
{
    size_t n;
    char *req = big_request(&n);
    buf in, out;
    char err[256] = "";
    buf_init(&in, 0);
    buf_init(&out, 0);
    jsonscan_state scan;
    jsonscan_init(&scan);
    size_t calls = 0;
    for (size_t at = 0; at < n; at += 256, calls++) {
        buf_append(&in, req + at, n - at < 256 ? n - at : 256);
        cr_assert_eq(jsonrpc_serve(&in, &out, 2u << 20, false, &scan, err, sizeof err), 0, "%s",
                     err);
        if (at + 256 < n)
            cr_assert_eq(buf_size(&out), 0);
    }
    const char *want = "{\"id\":1,\"result\":42,\"error\":null}\n";
    cr_assert_eq(buf_size(&out), strlen(want));
    cr_assert_eq(memcmp(buf_data(&out), want, strlen(want)), 0);
    cr_assert_eq(buf_size(&in), 0);
    cr_assert_leq(scan.examined, n + 8 * calls, "%zu bytes examined for %zu in %zu reads",
                  scan.examined, n, calls);
    buf_done(&in);
    buf_done(&out);
    free(req);
}

Test(jsonrpc, complete_request_then_partial_one)
{
    const char *in = TUTORIAL "{\"method\":\"Arith.Mul";
    served s = serve(in);
    cr_assert_eq(s.rc, 0);
    cr_assert_str_eq(s.out, TUTORIAL_REPLY);
    cr_assert_eq(s.left, strlen("{\"method\":\"Arith.Mul"));
}

Test(jsonrpc, params_typo_names_params)
{
    served s = serve("{\"method\":\"hello.HelloWorld\",\"paras\":[\"李白\"],\"id\":0}");
    cr_assert_eq(s.rc, 0);
    cr_assert(strncmp(s.out, "{\"id\":0,\"result\":null,\"error\":\"jsonrpc: request body missing params", 66) == 0,
              "%s", s.out);
    cr_assert(strstr(s.out, "paras"), "the misspelt key is quoted: %s", s.out);
    cr_assert(strstr(s.out, "\\\"params\\\""), "the right spelling is given: %s", s.out);
    s = serve("{\"method\":\"hello.HelloWorld\",\"id\":0}");
    cr_assert(strstr(s.out, "jsonrpc: request body missing params"), "%s", s.out);
    s = serve("{\"method\":\"hello.HelloWorld\",\"params\":null,\"id\":0}");
    cr_assert(strstr(s.out, "jsonrpc: request body missing params"), "Go treats null as missing: %s", s.out);
}

Test(jsonrpc, unknown_service_and_method_use_gos_text)
{
    assert_serves("{\"method\":\"Foo.Bar\",\"params\":[1],\"id\":1}",
                  "{\"id\":1,\"result\":null,\"error\":\"rpc: can't find service Foo.Bar\"}\n");
    assert_serves("{\"method\":\"Arith.Add\",\"params\":[1],\"id\":2}",
                  "{\"id\":2,\"result\":null,\"error\":\"rpc: can't find method Arith.Add\"}\n");
    assert_serves("{\"method\":\"Arith\",\"params\":[1],\"id\":3}",
                  "{\"id\":3,\"result\":null,\"error\":\"rpc: service/method request ill-formed: Arith\"}\n");
    assert_serves("{\"method\":\"arith.Multiply\",\"params\":[1],\"id\":4}",
                  "{\"id\":4,\"result\":null,\"error\":\"rpc: can't find service arith.Multiply\"}\n");
}

Test(jsonrpc, wrong_argument_types)
{
    served s = serve("{\"method\":\"Arith.Multiply\",\"params\":[{\"A\":\"x\",\"B\":2}],\"id\":1}");
    cr_assert_eq(s.rc, 0);
    cr_assert(strncmp(s.out, "{\"id\":1,\"result\":null,\"error\":\"", 31) == 0, "%s", s.out);
    cr_assert(strstr(s.out, "field A") && strstr(s.out, "want int"), "%s", s.out);
    s = serve("{\"method\":\"Arith.Multiply\",\"params\":[{\"A\":1.5,\"B\":2}],\"id\":1}");
    cr_assert(strstr(s.out, "field A"), "Go refuses 1.5 for an int: %s", s.out);
    s = serve("{\"method\":\"hello.HelloWorld\",\"params\":[42],\"id\":2}");
    cr_assert(strstr(s.out, "\"result\":null") && strstr(s.out, "want string"), "%s", s.out);
    s = serve("{\"method\":\"Arith.Multiply\",\"params\":[\"6*7\"],\"id\":3}");
    cr_assert(strstr(s.out, "want Args"), "%s", s.out);
    s = serve("{\"method\":\"hello.HelloWorld\",\"params\":\"李白\",\"id\":4}");
    cr_assert(strstr(s.out, "params must be an array"), "Go wants [ARG]: %s", s.out);
    s = serve("{\"method\":\"Arith.Multiply\",\"params\":[{\"A\":9223372036854775808,\"B\":1}],\"id\":5}");
    cr_assert(strstr(s.out, "overflows int"), "%s", s.out);
}

Test(jsonrpc, divide_by_zero)
{
    assert_serves("{\"method\":\"Arith.Divide\",\"params\":[{\"A\":1,\"B\":0}],\"id\":9}",
                  "{\"id\":9,\"result\":null,\"error\":\"divide by zero\"}\n");
}

Test(jsonrpc, malformed_json_ends_the_stream_with_an_error_reply)
{
    const char *bad[] = {
        "{\"method\":\"Arith.Multiply\",\"params\":[{\"A\":1,}],\"id\":1}",
        "hello\n",
        "{\"method\" \"x\"}",
        "\"just a string\"",
        "{\"a\":\"\x01\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        served s = serve(bad[i]);
        cr_assert_eq(s.rc, -1, "%s", bad[i]);
        cr_assert_neq(s.err[0], '\0');
        cr_assert(strstr(s.out, "\"error\":") && s.out[strlen(s.out) - 1] == '\n', "reply: %s", s.out);
        cr_assert(strstr(s.out, "\"id\":null"), "no id could be read: %s", s.out);
        cr_assert_eq(s.left, 0, "the rest of the stream is dropped");
    }
    /* requests before the bad one are still answered */
    served s = serve(TUTORIAL "{]");
    cr_assert_eq(s.rc, -1);
    cr_assert(strncmp(s.out, TUTORIAL_REPLY, strlen(TUTORIAL_REPLY)) == 0, "%s", s.out);
    cr_assert(strstr(s.out + strlen(TUTORIAL_REPLY), "malformed"), "%s", s.out);
    /* at end of stream, a cut-off request is malformed */
    s = serve_n(TUTORIAL, 20, 4096, true);
    cr_assert_eq(s.rc, -1);
    cr_assert_neq(s.out[0], '\0');
}

Test(jsonrpc, over_cap_message)
{
    char big[512];
    snprintf(big, sizeof big, "{\"method\":\"hello.HelloWorld\",\"params\":[\"%0200d\"],\"id\":1}", 0);
    served s = serve_n(big, strlen(big), 128, false);
    cr_assert_eq(s.rc, -1);
    cr_assert(strstr(s.err, "larger than 128"), "%s", s.err);
    cr_assert(strstr(s.out, "larger than 128"), "%s", s.out);
    cr_assert_eq(s.left, 0);
    /* refused before the end of it has even arrived */
    s = serve_n(big, 129, 128, false);
    cr_assert_eq(s.rc, -1);
    s = serve_n(big, 127, 128, false);
    cr_assert_eq(s.rc, 0, "it might still fit");
    cr_assert_str_eq(s.out, "");
    /* a message of exactly the cap is fine, and the cap applies per message */
    size_t n = strlen(TUTORIAL);
    char two[256];
    snprintf(two, sizeof two, "%s%s", TUTORIAL, TUTORIAL);
    s = serve_n(two, 2 * n, n, false);
    cr_assert_eq(s.rc, 0, "%s", s.err);
    cr_assert_str_eq(s.out, TUTORIAL_REPLY TUTORIAL_REPLY);
}

Test(jsonrpc, over_cap_message_at_end_of_stream)
{
    /* the last bytes of a stream: still "too large", not "malformed" */
    char big[512];
    snprintf(big, sizeof big, "{\"method\":\"hello.HelloWorld\",\"params\":[\"%0200d\"],\"id\":1}", 0);
    served s = serve_n(big, strlen(big), 128, true);
    cr_assert_eq(s.rc, -1);
    cr_assert(strstr(s.err, "larger than 128"), "err: %s", s.err);
}

Test(jsonrpc, many_members_do_not_hide_the_method)
{
    /* Go reads every member of the request object, however many there are */
    char req[2048] = "{";
    for (int i = 0; i < 40; i++)
        snprintf(req + strlen(req), sizeof req - strlen(req), "\"x%d\":%d,", i, i);
    strcat(req, "\"method\":\"Arith.Multiply\",\"params\":[{\"A\":2,\"B\":3}],\"id\":1}");
    assert_serves(req, "{\"id\":1,\"result\":6,\"error\":null}\n");
}

Test(jsonrpc, escapes_in_the_method_name_are_decoded)
{
    assert_serves("{\"method\":\"Arith.Multipl\\u0079\",\"params\":[{\"A\":2,\"B\":3}],\"id\":1}",
                  "{\"id\":1,\"result\":6,\"error\":null}\n");
    assert_serves("{\"method\":\"hello.HelloWorld\",\"params\":[\"a\\u0000b\"],\"id\":1}",
                  "{\"id\":1,\"result\":\"a\\u0000b 你好....\",\"error\":null}\n");
}

Test(jsonrpc, a_nul_in_the_method_name_matches_no_method)
{
    /* Cut at the NUL, the name would be Arith.Multiply and run; Go finds no method. */
    assert_serves("{\"method\":\"Arith.Multiply\\u0000junk\",\"params\":[{\"A\":6,\"B\":7}],\"id\":1}",
                  "{\"id\":1,\"result\":null,\"error\":\"rpc: can't find method Arith.Multiply\\\\x00junk\"}\n");
    assert_serves("{\"method\":\"Arith\\u0000.Multiply\",\"params\":[{\"A\":6,\"B\":7}],\"id\":2}",
                  "{\"id\":2,\"result\":null,\"error\":\"rpc: can't find service Arith\\\\x00.Multiply\"}\n");
}

Test(jsonrpc, invalid_utf8_in_a_request_is_replaced_and_the_reply_is_json)
{
    assert_serves("{\"method\":\"hello.HelloWorld\",\"params\":[\"a\xff\"],\"id\":\"\xfe\"}",
                  "{\"id\":\"\xef\xbf\xbd\",\"result\":\"a\xef\xbf\xbd 你好....\",\"error\":null}\n");
    served s = serve("{\"method\":\"Arith.Mul\xff\",\"params\":[{}],\"id\":1}");
    cr_assert_str_eq(s.out, "{\"id\":1,\"result\":null,\"error\":\"rpc: can't find method Arith.Mul\xef\xbf\xbd"
                            " (invalid UTF-8 in the request was replaced by U+FFFD)\"}\n");
    s = serve("{\"jsonrpc\":\"2.0\",\"method\":\"Arith.Mul\xff\",\"params\":[{}],\"id\":[\"\xff\"]}");
    cr_assert(strstr(s.out, "\"id\":null}") && !strchr(s.out, '\xff'), "%s", s.out);
}

Test(jsonrpc, control_characters_in_the_method_name_are_escaped_in_the_reply)
{
    assert_serves("{\"method\":\"Arith.X\\n\\u001b[2J\",\"params\":[{}],\"id\":1}",
                  "{\"id\":1,\"result\":null,\"error\":\"rpc: can't find method Arith.X\\n\\u001b[2J\"}\n");
}

/* ---- JSON-RPC 2.0 ---- */

Test(jsonrpc2, result_form_positional_and_named_params)
{
    assert_serves("{\"jsonrpc\":\"2.0\",\"method\":\"Arith.Multiply\",\"params\":{\"A\":6,\"B\":7},\"id\":1}",
                  "{\"jsonrpc\":\"2.0\",\"result\":42,\"id\":1}\n");
    assert_serves("{\"jsonrpc\":\"2.0\",\"method\":\"Arith.Multiply\",\"params\":[6,7],\"id\":2}",
                  "{\"jsonrpc\":\"2.0\",\"result\":42,\"id\":2}\n");
    assert_serves("{\"jsonrpc\":\"2.0\",\"method\":\"Arith.Multiply\",\"params\":[{\"A\":6,\"B\":7}],\"id\":3}",
                  "{\"jsonrpc\":\"2.0\",\"result\":42,\"id\":3}\n");
    assert_serves("{\"jsonrpc\":\"2.0\",\"method\":\"hello.HelloWorld\",\"params\":[\"李白\"],\"id\":\"a\"}",
                  "{\"jsonrpc\":\"2.0\",\"result\":\"李白 你好....\",\"id\":\"a\"}\n");
    assert_serves("{\"id\":4,\"params\":{\"name\":\"Ann\"},\"method\":\"Greeter.SayHello\",\"jsonrpc\":\"2.0\"}",
                  "{\"jsonrpc\":\"2.0\",\"result\":{\"Message\":\"Hello Ann\"},\"id\":4}\n");
}

Test(jsonrpc2, error_objects_and_codes)
{
    assert_serves("{\"jsonrpc\":\"2.0\",\"method\":\"Arith.Add\",\"params\":[1,2],\"id\":1}",
                  "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32601,\"message\":\"Method not found\","
                  "\"data\":\"rpc: can't find method Arith.Add\"},\"id\":1}\n");
    assert_serves("{\"jsonrpc\":\"2.0\",\"method\":\"Arith.Divide\",\"params\":[1,0],\"id\":2}",
                  "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32000,\"message\":\"divide by zero\"},\"id\":2}\n");
    served s = serve("{\"jsonrpc\":\"2.0\",\"method\":\"Arith.Multiply\",\"params\":{\"A\":\"x\"},\"id\":3}");
    cr_assert(strncmp(s.out, "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32602,\"message\":\"Invalid params\"", 66) == 0,
              "%s", s.out);
    cr_assert(strstr(s.out, "field A"), "%s", s.out);
    cr_assert(strstr(s.out, "},\"id\":3}\n"), "%s", s.out);
    s = serve("{\"jsonrpc\":\"2.0\",\"method\":\"Arith.Multiply\",\"params\":[1,2,3],\"id\":4}");
    cr_assert(strstr(s.out, "\"code\":-32602"), "too many positional params: %s", s.out);
    s = serve("{\"jsonrpc\":\"2.0\",\"method\":\"Arith.Multiply\",\"params\":7,\"id\":5}");
    cr_assert(strstr(s.out, "\"code\":-32602"), "%s", s.out);
    s = serve("{\"jsonrpc\":\"2.0\",\"method\":1,\"id\":6}");
    cr_assert(strncmp(s.out, "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32600,\"message\":\"Invalid Request\"", 67) == 0,
              "%s", s.out);
    cr_assert(strstr(s.out, "\"id\":6}"), "%s", s.out);
    s = serve("{\"jsonrpc\":\"1.0\",\"method\":\"Arith.Multiply\",\"params\":[1,2],\"id\":7}");
    cr_assert(strstr(s.out, "\"code\":-32600"), "%s", s.out);
    s = serve("{\"jsonrpc\":\"2.0\",\"params\":[1,2],\"id\":8}");
    cr_assert(strstr(s.out, "\"code\":-32600"), "no method: %s", s.out);
}

static int own_words(const value *arg, value **reply, char *err, size_t errlen)
{
    (void)arg, (void)reply;
    snprintf(err, errlen, "Odd.Fail: bad argument: the handler's own words");
    return -1;
}

Test(jsonrpc2, the_catalog_decides_what_is_served_and_how_a_call_ended)
{
    static const catalog_method extra[] = {
        {"Arith.Power", NULL, &vtype_int, NULL, NULL, true, "known to clients, not served", NULL},
        {"Remote.Call", NULL, NULL, NULL, NULL, true, "known to clients, not served", NULL},
        {"Odd.Fail", NULL, NULL, NULL, NULL, false, "fails in words that look like ours", own_words},
    };
    char err[128];
    cr_assert_eq(catalog_add(extra, 3, err, sizeof err), 3, "%s", err);
    assert_serves("{\"jsonrpc\":\"2.0\",\"method\":\"Arith.Power\",\"params\":[1,2],\"id\":1}",
                  "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32601,\"message\":\"Method not found\","
                  "\"data\":\"rpc: can't find method Arith.Power\"},\"id\":1}\n");
    assert_serves("{\"method\":\"Remote.Call\",\"params\":[1],\"id\":2}",
                  "{\"id\":2,\"result\":null,\"error\":\"rpc: can't find service Remote.Call\"}\n");
    /* a handler's failure is a server error, whatever its words */
    assert_serves("{\"jsonrpc\":\"2.0\",\"method\":\"Odd.Fail\",\"params\":[1],\"id\":3}",
                  "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32000,\"message\":"
                  "\"Odd.Fail: bad argument: the handler's own words\"},\"id\":3}\n");
}

Test(jsonrpc2, parse_error_is_a_2_0_error_object)
{
    /* the example of the JSON-RPC 2.0 specification, section 7 */
    served s = serve("{\"jsonrpc\": \"2.0\", \"method\": \"foobar, \"params\": \"bar\", \"baz]");
    cr_assert_eq(s.rc, -1);
    cr_assert(strncmp(s.out, "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32700,\"message\":\"Parse error\"", 63) == 0,
              "got %s", s.out);
    cr_assert(strstr(s.out, "\"id\":null}\n"), "%s", s.out);
}

Test(jsonrpc2, notifications_get_no_reply)
{
    served s = serve("{\"jsonrpc\":\"2.0\",\"method\":\"Arith.Multiply\",\"params\":[1,2]}");
    cr_assert_eq(s.rc, 0);
    cr_assert_str_eq(s.out, "", "not even a newline");
    cr_assert_eq(s.left, 0, "the notification is consumed");
    /* not even when it fails */
    s = serve("{\"jsonrpc\":\"2.0\",\"method\":\"Arith.Divide\",\"params\":[1,0]}"
              "{\"jsonrpc\":\"2.0\",\"method\":\"No.Such\"}"
              "{\"jsonrpc\":\"2.0\",\"method\":\"Arith.Multiply\",\"params\":[2,3],\"id\":9}");
    cr_assert_str_eq(s.out, "{\"jsonrpc\":\"2.0\",\"result\":6,\"id\":9}\n");
    /* id null is a request, not a notification */
    assert_serves("{\"jsonrpc\":\"2.0\",\"method\":\"Arith.Multiply\",\"params\":[2,3],\"id\":null}",
                  "{\"jsonrpc\":\"2.0\",\"result\":6,\"id\":null}\n");
}

Test(jsonrpc2, batches)
{
    assert_serves("[{\"jsonrpc\":\"2.0\",\"method\":\"Arith.Multiply\",\"params\":[2,3],\"id\":1},"
                  " {\"jsonrpc\":\"2.0\",\"method\":\"Arith.Multiply\",\"params\":[4,5]},"
                  " {\"jsonrpc\":\"2.0\",\"method\":\"Arith.Divide\",\"params\":{\"A\":9,\"B\":0},\"id\":\"d\"},"
                  " {\"jsonrpc\":\"2.0\",\"method\":\"hello.HelloWorld\",\"params\":[\"x\"],\"id\":3}]",
                  "[{\"jsonrpc\":\"2.0\",\"result\":6,\"id\":1},"
                  "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32000,\"message\":\"divide by zero\"},\"id\":\"d\"},"
                  "{\"jsonrpc\":\"2.0\",\"result\":\"x 你好....\",\"id\":3}]\n");
    /* all notifications: no reply at all */
    served s = serve("[{\"jsonrpc\":\"2.0\",\"method\":\"Arith.Multiply\",\"params\":[1,2]},"
                     "{\"jsonrpc\":\"2.0\",\"method\":\"Arith.Divide\",\"params\":[1,0]}]");
    cr_assert_eq(s.rc, 0);
    cr_assert_str_eq(s.out, "");
    cr_assert_eq(s.left, 0);
    /* an empty batch is one Invalid Request error, not an array */
    assert_serves("[]", "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32600,\"message\":\"Invalid Request\","
                        "\"data\":\"jsonrpc: empty batch\"},\"id\":null}\n");
    assert_serves(" [ ] ", "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32600,\"message\":\"Invalid Request\","
                           "\"data\":\"jsonrpc: empty batch\"},\"id\":null}\n");
}

Test(jsonrpc2, batch_items_that_are_not_requests)
{
    /* JSON-RPC 2.0 specification, section 7: [1,2,3] gives three Invalid Request errors */
    served s = serve("[1,2,3]");
    cr_assert_eq(s.rc, 0);
    cr_assert_eq(s.out[0], '[', "%s", s.out);
    const char *p = s.out;
    int count = 0;
    while ((p = strstr(p, "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32600,\"message\":\"Invalid Request\""))) {
        count++;
        p++;
    }
    cr_assert_eq(count, 3, "each item gets a 2.0 Invalid Request error: %s", s.out);
    /* {"foo":"boo"} inside a batch is an Invalid Request, answered in 2.0 form */
    s = serve("[{\"jsonrpc\":\"2.0\",\"method\":\"Arith.Multiply\",\"params\":[2,3],\"id\":\"1\"},{\"foo\":\"boo\"}]");
    cr_assert(strstr(s.out, "{\"jsonrpc\":\"2.0\",\"result\":6,\"id\":\"1\"}"), "%s", s.out);
    cr_assert(strstr(s.out, "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32600"), "%s", s.out);
}

Test(jsonrpc, ids_are_echoed_verbatim)
{
    assert_serves("{\"method\":\"Arith.Multiply\",\"params\":[{}],\"id\":123456789012345678901234567890}",
                  "{\"id\":123456789012345678901234567890,\"result\":0,\"error\":null}\n");
    assert_serves("{\"method\":\"Arith.Multiply\",\"params\":[{}],\"id\":\"caf\\u00e9 \\\"1\\\"\"}",
                  "{\"id\":\"caf\\u00e9 \\\"1\\\"\",\"result\":0,\"error\":null}\n");
    assert_serves("{\"method\":\"Arith.Multiply\",\"params\":[{}],\"id\":1.50}",
                  "{\"id\":1.50,\"result\":0,\"error\":null}\n");
    assert_serves("{\"method\":\"Arith.Multiply\",\"params\":[{}],\"id\":{\"a\":[1,2]}}",
                  "{\"id\":{\"a\":[1,2]},\"result\":0,\"error\":null}\n");
    assert_serves("{\"method\":\"Arith.Multiply\",\"params\":[{}]}",
                  "{\"id\":null,\"result\":0,\"error\":null}\n");
    assert_serves("{\"jsonrpc\":\"2.0\",\"method\":\"Arith.Multiply\",\"params\":[1,1],"
                  "\"id\":18446744073709551616000}",
                  "{\"jsonrpc\":\"2.0\",\"result\":1,\"id\":18446744073709551616000}\n");
    assert_serves("{\"jsonrpc\":\"2.0\",\"method\":\"Arith.Multiply\",\"params\":[1,1],\"id\":\"李白\"}",
                  "{\"jsonrpc\":\"2.0\",\"result\":1,\"id\":\"李白\"}\n");
    /* 2.0 allows only string, number or null ids */
    served s = serve("{\"jsonrpc\":\"2.0\",\"method\":\"Arith.Multiply\",\"params\":[1,1],\"id\":[1]}");
    cr_assert(strstr(s.out, "\"code\":-32600") && strstr(s.out, "\"id\":null}"), "%s", s.out);
}

/* ======================= jsonrpc: client side ======================= */

Test(jsonrpc_client, write_request_in_gos_form)
{
    buf out;
    buf_init(&out, 0);
    value *arg = value_struct("Args");
    value_struct_set(arg, "A", value_int(7));
    value_struct_set(arg, "B", value_int(8));
    cr_assert_eq(jsonrpc_write_request(&out, "Arith.Multiply", arg, 5), 0);
    value *name = value_cstring("李白");
    cr_assert_eq(jsonrpc_write_request(&out, "hello.HelloWorld", name, UINT64_MAX), 0);
    char *s = buf_take(&out);
    cr_assert_str_eq(s, "{\"method\":\"Arith.Multiply\",\"params\":[{\"A\":7,\"B\":8}],\"id\":5}\n"
                        "{\"method\":\"hello.HelloWorld\",\"params\":[\"李白\"],\"id\":18446744073709551615}\n");
    free(s);
    buf_done(&out);
    value_free(arg);
    value_free(name);
}

Test(jsonrpc_client, write_serve_read_round_trip)
{
    buf req, rep;
    buf_init(&req, 0);
    buf_init(&rep, 0);
    value *arg = value_struct("Args");
    value_struct_set(arg, "A", value_int(-9000000000));
    value_struct_set(arg, "B", value_int(3));
    jsonrpc_write_request(&req, "Arith.Multiply", arg, 41);
    value_struct_set(arg, "B", value_int(0));
    jsonrpc_write_request(&req, "Arith.Divide", arg, 42);
    value *name = value_cstring("李白");
    jsonrpc_write_request(&req, "hello.HelloWorld", name, UINT64_MAX);
    char err[256] = "";
    cr_assert_eq(jsonrpc_serve(&req, &rep, 4096, false, NULL, err, sizeof err), 0, "%s", err);

    const char *p = (const char *)buf_data(&rep);
    size_t n = buf_size(&rep);
    jsonrpc_reply r;
    long used = jsonrpc_read_reply(p, n, false, &r, err, sizeof err);
    cr_assert_gt(used, 0, "%s", err);
    cr_assert_eq(r.id->kind, V_INT);
    cr_assert_eq(r.id->u.i, 41);
    cr_assert_null(r.error);
    cr_assert_eq(r.result->kind, V_INT);
    cr_assert_eq(r.result->u.i, -27000000000);
    jsonrpc_reply_done(&r);
    p += used;
    n -= (size_t)used;

    used = jsonrpc_read_reply(p, n, false, &r, err, sizeof err);
    cr_assert_gt(used, 0, "%s", err);
    cr_assert_eq(r.id->u.i, 42);
    cr_assert_null(r.result);
    cr_assert_str_eq(r.error, "divide by zero");
    jsonrpc_reply_done(&r);
    p += used;
    n -= (size_t)used;

    used = jsonrpc_read_reply(p, n, false, &r, err, sizeof err);
    cr_assert_gt(used, 0, "%s", err);
    cr_assert_eq(r.id->kind, V_UINT);
    cr_assert_eq(r.id->u.u, UINT64_MAX);
    cr_assert_str_eq(r.result->u.s.p, "李白 你好....");
    jsonrpc_reply_done(&r);
    p += used;
    n -= (size_t)used;
    cr_assert_eq(jsonrpc_read_reply(p, n, false, &r, err, sizeof err), 0, "only a newline is left");
    jsonrpc_reply_done(&r);
    jsonrpc_reply_done(NULL);

    buf_done(&req);
    buf_done(&rep);
    value_free(arg);
    value_free(name);
}

Test(jsonrpc_client, read_reply_edge_cases)
{
    jsonrpc_reply r;
    char err[256] = "";
    const char *full = "{\"id\":7,\"result\":{\"Quo\":1,\"Rem\":0},\"error\":null}";
    for (size_t k = 0; k < strlen(full); k++) {
        cr_assert_eq(jsonrpc_read_reply(full, k, false, &r, err, sizeof err), 0, "prefix %zu", k);
        jsonrpc_reply_done(&r);
    }
    cr_assert_eq(jsonrpc_read_reply(full, 10, true, &r, err, sizeof err), -1, "cut off at end of stream");
    jsonrpc_reply_done(&r);

    const char *v2 = "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32601,\"message\":\"Method not found\","
                     "\"data\":\"rpc: can't find method Arith.Add\"},\"id\":\"x\"}";
    cr_assert_eq(jsonrpc_read_reply(v2, strlen(v2), false, &r, err, sizeof err), (long)strlen(v2));
    cr_assert_str_eq(r.error, "Method not found (code -32601): rpc: can't find method Arith.Add");
    cr_assert_str_eq(r.id->u.s.p, "x");
    jsonrpc_reply_done(&r);

    const char *ok2 = "  {\"jsonrpc\":\"2.0\",\"result\":[1,2],\"id\":1}\n";
    cr_assert_eq(jsonrpc_read_reply(ok2, strlen(ok2), false, &r, err, sizeof err), (long)strlen(ok2) - 1);
    cr_assert_eq(r.result->kind, V_LIST);
    jsonrpc_reply_done(&r);

    const char *noid = "{\"result\":1}";
    cr_assert_gt(jsonrpc_read_reply(noid, strlen(noid), false, &r, err, sizeof err), 0);
    cr_assert_eq(r.id->kind, V_NULL);
    jsonrpc_reply_done(&r);

    cr_assert_eq(jsonrpc_read_reply("[1,2]", 5, false, &r, err, sizeof err), -1);
    cr_assert(strstr(err, "not a JSON-RPC reply"), "%s", err);
    jsonrpc_reply_done(&r);
    cr_assert_eq(jsonrpc_read_reply("{\"id\":}", 7, false, &r, err, sizeof err), -1);
    cr_assert(strstr(err, "not JSON"), "%s", err);
    jsonrpc_reply_done(&r);
}

/* ======================= jsonrpc: explain ======================= */

static bool contains_span(const explain *e, size_t i, size_t j)
{
    const span *a = &e->spans[i], *b = &e->spans[j];
    return b->off >= a->off && b->off + b->len <= a->off + a->len;
}

/* Leaf spans (spans that contain no later, deeper span) must tile [0, n) exactly. */
static void assert_tiles(const explain *e, size_t n, const char *what)
{
    size_t cursor = 0;
    for (size_t i = 0; i < e->len; i++) {
        const span *s = &e->spans[i];
        bool container = i + 1 < e->len && e->spans[i + 1].depth > s->depth && contains_span(e, i, i + 1);
        if (container)
            continue;
        cr_assert_eq(s->off, cursor, "%s: span %zu \"%s\" starts at %zu, want %zu", what, i, s->meaning,
                     s->off, cursor);
        cursor = s->off + s->len;
    }
    cr_assert_eq(cursor, n, "%s: spans end at %zu of %zu bytes", what, cursor, n);
}

static void assert_span_text(const char *p, const span *s, const char *text)
{
    cr_assert_not_null(s);
    cr_assert(memmem(p + s->off, s->len, text, strlen(text)), "span \"%s\" covers \"%.*s\", not \"%s\"",
              s->meaning, (int)s->len, p + s->off, text);
}

Test(jsonrpc_explain, request_spans_cover_every_byte)
{
    const char *req = TUTORIAL "\n";
    size_t n = strlen(req);
    explain e;
    explain_init(&e);
    cr_assert_eq(jsonrpc_explain(req, n, false, &e), 0);
    assert_tiles(&e, n, "request");

    const span *m = find_span(&e, "method");
    assert_span_text(req, m, "\"hello.HelloWorld\"");
    cr_assert(strstr(m->meaning, "hello.HelloWorld"), "%s", m->meaning);
    const span *pa = find_span(&e, "params");
    assert_span_text(req, pa, "\"params\"");
    const span *id = find_span(&e, "id 0:");
    assert_span_text(req, id, "\"id\":0");
    const span *arg = find_span(&e, "李白");
    assert_span_text(req, arg, "\"李白\"");
    cr_assert_eq(arg->cls, SPAN_DATA);
    cr_assert_eq(m->cls, SPAN_FRAME);

    size_t tot[4];
    explain_totals(&e, tot);
    cr_assert_eq(tot[SPAN_DATA], strlen("\"李白\""), "only the argument is data");
    cr_assert_eq(tot[SPAN_FRAME] + tot[SPAN_TYPE] + tot[SPAN_DATA] + tot[SPAN_ERROR], n);

    /* rendered, every byte appears once and none is left unexplained */
    buf out;
    buf_init(&out, 0);
    cr_assert_eq(explain_render(&e, (const uint8_t *)req, n, NULL, &out), 0);
    char *text = buf_take(&out);
    cr_assert_null(strstr(text, "no explainer claimed"), "%s", text);
    free(text);
    buf_done(&out);
    explain_done(&e);
}

Test(jsonrpc_explain, reply_spans_cover_every_byte)
{
    const char *rep = TUTORIAL_REPLY "{\"id\":1,\"result\":{\"Quo\":3,\"Rem\":1},\"error\":null}\n"
                                     "{\"id\":2,\"result\":null,\"error\":\"divide by zero\"}\n";
    size_t n = strlen(rep);
    explain e;
    explain_init(&e);
    cr_assert_eq(jsonrpc_explain(rep, n, true, &e), 0);
    assert_tiles(&e, n, "replies");
    assert_span_text(rep, find_span(&e, "id 0: the id of the request"), "\"id\":0");
    assert_span_text(rep, find_span(&e, "李白"), "\"李白 你好....\"");
    assert_span_text(rep, find_span(&e, "result"), "\"result\"");
    assert_span_text(rep, find_span(&e, "error: null"), "\"error\":null");
    assert_span_text(rep, find_span(&e, "Quo"), "\"Quo\"");
    cr_assert_not_null(find_span(&e, "reply #2"));
    explain_done(&e);
}

Test(jsonrpc_explain, rich_and_2_0_messages_are_covered)
{
    explain e;
    explain_init(&e);
    cr_assert_eq(jsonrpc_explain(RICH, strlen(RICH), false, &e), 0);
    assert_tiles(&e, strlen(RICH), "rich request");
    assert_span_text(RICH, find_span(&e, "protocol version"), "\"2.0\"");
    explain_done(&e);

    const char *batch = "[{\"jsonrpc\":\"2.0\",\"method\":\"Arith.Multiply\",\"params\":[2,3],\"id\":1}, 7]";
    explain_init(&e);
    cr_assert_eq(jsonrpc_explain(batch, strlen(batch), false, &e), 0);
    assert_tiles(&e, strlen(batch), "batch");
    explain_done(&e);

    const char *err2 = "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32601,\"message\":\"Method not found\"},\"id\":1}";
    explain_init(&e);
    cr_assert_eq(jsonrpc_explain(err2, strlen(err2), true, &e), 0);
    assert_tiles(&e, strlen(err2), "2.0 error reply");
    explain_done(&e);
}

Test(jsonrpc_explain, bad_bytes_get_an_error_span)
{
    const char *in = TUTORIAL "\n{\"method\":oops}";
    explain e;
    explain_init(&e);
    cr_assert_eq(jsonrpc_explain(in, strlen(in), false, &e), -1);
    const span *last = &e.spans[e.len - 1];
    cr_assert_eq(last->cls, SPAN_ERROR);
    cr_assert_eq(last->off, strlen(TUTORIAL) + 1);
    cr_assert_eq(last->off + last->len, strlen(in));
    assert_tiles(&e, strlen(in), "bad stream");
    explain_done(&e);
}

/* A nested request of about 1.5 MB: some 330,000 spans if each were kept. */
static char *big_nested_request(size_t *n)
{
    buf b;
    buf_init(&b, 0);
    buf_puts(&b, "{\"method\":\"Arith.Big\",\"params\":[{\"items\":[");
    for (int i = 0; i < 20000; i++)
        buf_printf(&b, "%s{\"id\":%d,\"tags\":[\"a\",{\"x\":[1,2,{\"y\":null}]}],\"ok\":true}",
                   i ? "," : "", i);
    buf_puts(&b, "]}],\"id\":1}\n");
    *n = buf_size(&b);
    char *s = buf_take(&b);
    return s;
}

Test(jsonrpc_explain, a_big_nested_message_keeps_at_most_100000_spans)
{
    size_t n;
    char *req = big_nested_request(&n);
    cr_assert_not_null(req);
    explain e;
    explain_init(&e);
    cr_assert_eq(jsonrpc_explain(req, n, false, &e), 0);
    cr_assert_leq(e.len, 100000 + 1, "%zu spans kept", e.len);
    cr_assert_not_null(strstr(e.spans[e.len - 1].meaning, "more spans"), "%s",
                       e.spans[e.len - 1].meaning);
    size_t t[4];
    explain_totals(&e, t);
    cr_assert_eq(t[0] + t[1] + t[2] + t[3], n, "the totals still cover every byte");
    cr_assert_eq(t[SPAN_ERROR], 0u);
    /* the first spans are what a whole explanation starts with */
    char head[64];
    snprintf(head, sizeof head, "JSON-RPC request #1, %zu bytes", n - 1);
    cr_assert_str_eq(e.spans[0].meaning, head);
    buf out;
    buf_init(&out, 0);
    cr_assert_eq(explain_render(&e, (const uint8_t *)req, n, NULL, &out), 0);
    cr_assert_lt(buf_size(&out), (size_t)16 << 20, "%zu bytes of dump", buf_size(&out));
    buf_done(&out);
    explain_done(&e);
    free(req);
}
