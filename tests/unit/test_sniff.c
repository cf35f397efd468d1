/* test_sniff.c -- the sniffer on streams the workbench's own encoders write, fed in segments:
 * Go net/rpc with gob (from the start and caught mid-way), JSON-RPC and HTTP/1.x, with
 * pipelined calls, error replies and calls left without a reply; recognition by bytes
 * rather than port, roles the other way round, and a protocol nobody knows. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "value/vtype.h"
#include "wire/gob.h"
#include "wire/jsonrpc.h"
#include "wire/netrpc.h"

#include "test_sniffkit.h"

static const vtype_field args_f[] = {{"A", &vtype_int}, {"B", &vtype_int}};
static const vtype args_t = {.kind = T_STRUCT, .name = "Args", .fields = args_f, .nfields = 2};
static const vtype_field student_f[] = {{"Name", &vtype_string}, {"Age", &vtype_int}};
static const vtype student_t = {.kind = T_STRUCT, .name = "Student", .fields = student_f,
                                .nfields = 2};
static const vtype_field ok_f[] = {{"Ok", &vtype_bool}};
static const vtype ok_t = {.kind = T_STRUCT, .name = "Reply", .fields = ok_f, .nfields = 1};

static value *args(int64_t a, int64_t b)
{
    value *v = value_struct("Args");
    value_struct_set(v, "A", value_int(a));
    value_struct_set(v, "B", value_int(b));
    return v;
}

static void req(gob_enc *e, buf *out, const char *m, uint64_t seq, const vtype *t, value *v)
{
    char err[200];
    cr_assert_eq(netrpc_write_request(e, out, m, seq, t, v, err, sizeof err), 0, "%s", err);
    value_free(v);
}

static void rep(gob_enc *e, buf *out, const char *m, uint64_t seq, const char *error,
                const vtype *t, value *v)
{
    char err[200];
    cr_assert_eq(netrpc_write_response(e, out, m, seq, error, t, v, err, sizeof err), 0, "%s",
                 err);
    value_free(v);
}

/* ---- gob ---- */

Test(sniff_gob, from_the_start_pipelined_error_and_no_reply)
{
    gob_enc *ce = gob_enc_new(), *se = gob_enc_new();
    buf c, s;
    buf_init(&c, 0);
    buf_init(&s, 0);
    req(ce, &c, "Arith.Multiply", 0, &args_t, args(7, 8));
    req(ce, &c, "Arith.Divide", 1, &args_t, args(1, 0));
    req(ce, &c, "Arith.Multiply", 2, &args_t, args(3, 4));
    rep(se, &s, "Arith.Divide", 1, "divide by zero", NULL, NULL);
    rep(se, &s, "Arith.Multiply", 0, NULL, &vtype_int, value_int(56));

    rec r = {0};
    sniff *sn = sk_new(&r, 1 << 20);
    flow_conn fc;
    int64_t t = 1000000;
    sk_open(sn, &fc, 1, 43210, 1234, true);
    sk_feed(sn, &fc, FLOW_C2S, buf_data(&c), buf_size(&c), 5, &t);
    sk_feed(sn, &fc, FLOW_S2C, buf_data(&s), buf_size(&s), 3, &t);
    cr_assert_eq(r.n, 2);
    sniff_finish(sn, t + 5000);
    cr_assert_eq(r.n, 3);

    got_call *d = sk_call(&r, "Arith.Divide", 0);
    cr_assert_str_eq(d->args, "{\"A\":1,\"B\":0}");
    cr_assert_str_eq(d->status, "error");
    cr_assert_str_eq(d->error, "divide by zero");
    cr_assert_null(d->result);
    cr_assert_null(d->note);
    cr_assert(d->from_start);
    cr_assert(d->end_us > d->start_us);
    cr_assert(strstr(d->req_x, "Arith.Divide"), "%s", d->req_x);
    cr_assert_eq(d->req_errors + d->rep_errors, 0);
    cr_assert(strstr(d->rep_x, "divide by zero"), "%s", d->rep_x);

    got_call *m = sk_call(&r, "Arith.Multiply", 0);
    cr_assert_str_eq(m->args, "{\"A\":7,\"B\":8}");
    cr_assert_str_eq(m->result, "56");
    cr_assert_str_eq(m->status, "ok");
    cr_assert_str_eq(m->client, "127.0.0.1:43210");
    cr_assert_str_eq(m->server, "127.0.0.1:1234");
    cr_assert(strstr(m->req_x, "type definition"), "%s", m->req_x);

    got_call *w = sk_call(&r, "Arith.Multiply", 1);
    cr_assert_str_eq(w->status, "no reply");
    cr_assert_str_eq(w->args, "{\"A\":3,\"B\":4}");
    cr_assert_eq(w->end_us, 0);
    cr_assert(sk_has_event(&r, "Go net/rpc with gob, from its start"));
    cr_assert(sk_has_event(&r, "after 3 calls"));
    sniff_free(sn);
    sk_free(&r);
    buf_done(&c);
    buf_done(&s);
    gob_enc_free(ce);
    gob_enc_free(se);
}

/* The stream of gob_midway: three calls, the third of a type not used before. c_at and
 * s_at receive where the second call and its reply begin. */
static void midway_stream(buf *c, buf *s, size_t *c_at, size_t *s_at)
{
    gob_enc *ce = gob_enc_new(), *se = gob_enc_new();
    req(ce, c, "Arith.Multiply", 0, &args_t, args(7, 8));
    rep(se, s, "Arith.Multiply", 0, NULL, &vtype_int, value_int(56));
    *c_at = buf_size(c);
    *s_at = buf_size(s);
    req(ce, c, "Arith.Multiply", 1, &args_t, args(3, 4));
    rep(se, s, "Arith.Multiply", 1, NULL, &vtype_int, value_int(12));
    value *st = value_struct("Student");
    value_struct_set(st, "Name", value_cstring("Ann"));
    value_struct_set(st, "Age", value_int(9));
    req(ce, c, "School.Enroll", 2, &student_t, st);
    value *ok = value_struct("Reply");
    value_struct_set(ok, "Ok", value_bool(true));
    rep(se, s, "School.Enroll", 2, NULL, &ok_t, ok);
    gob_enc_free(ce);
    gob_enc_free(se);
}

static void gob_midway(size_t back)
{
    buf c, s;
    buf_init(&c, 0);
    buf_init(&s, 0);
    size_t ca, sa;
    midway_stream(&c, &s, &ca, &sa);
    ca -= back;
    sa -= back;
    rec r = {0};
    sniff *sn = sk_new(&r, 1 << 20);
    flow_conn fc;
    int64_t t = 1000000;
    sk_open(sn, &fc, 7, 40000, 5555, false);
    sk_feed(sn, &fc, FLOW_C2S, buf_data(&c) + ca, buf_size(&c) - ca, 11, &t);
    sk_feed(sn, &fc, FLOW_S2C, buf_data(&s) + sa, buf_size(&s) - sa, 11, &t);
    sniff_finish(sn, t);
    cr_assert_eq(r.n, 2, "%zu calls", r.n);

    got_call *m = sk_call(&r, "Arith.Multiply", 0);
    cr_assert(!m->from_start);
    cr_assert_str_eq(m->status, "ok");
    cr_assert_str_eq(m->result, "12"); /* int is gob's own type: never defined on the wire */
    cr_assert(strstr(m->args, "#0: 6 (int 3?)") && strstr(m->args, "#1: 8 (int 4?)"), "%s",
              m->args);
    cr_assert(strstr(m->note, "definition was sent before the capture began"), "%s", m->note);
    cr_assert(strstr(m->note, "read from their shape"), "%s", m->note);
    cr_assert(m->req_errors > 0);
    cr_assert(strstr(m->req_x, "before the capture began"), "%s", m->req_x);
    cr_assert(strstr(m->req_x, "method \"Arith.Multiply\", seq 1"), "%s", m->req_x);

    got_call *e = sk_call(&r, "School.Enroll", 0);
    cr_assert_str_eq(e->args, "{\"Name\":\"Ann\",\"Age\":9}");
    cr_assert_str_eq(e->result, "{\"Ok\":true}");
    cr_assert_null(e->note, "%s", e->note); /* the first call told of the headers */
    cr_assert(strstr(e->req_x, "type definition"), "%s", e->req_x);
    cr_assert(sk_has_event(&r, "caught mid-way"));
    sniff_free(sn);
    sk_free(&r);
    buf_done(&c);
    buf_done(&s);
}

Test(sniff_gob, midway_at_a_boundary) { gob_midway(0); }
Test(sniff_gob, midway_inside_a_message) { gob_midway(2); }

/* A long connection: every call explained from the connection's state is checked against
 * its direction explained from the first byte (sk_same_whole). */
typedef struct long_rec {
    size_t calls, explained;
} long_rec;

static void long_on_call(void *ud, const sniff_call *c)
{
    long_rec *r = ud;
    r->calls++;
    explain q, p;
    explain_init(&q);
    explain_init(&p);
    if (sniff_explain_call(c, &q, &p) == 0) {
        cr_assert_not_null(c->wire);
        sk_same_whole(c, &q, &p);
        r->explained++;
    }
    explain_done(&q);
    explain_done(&p);
}

/* n calls, their replies in groups of 8 answered last first, a new type from call n / 2 and
 * an error every 97th; the capture starts skip bytes into each direction. */
static void long_gob(size_t n, size_t skip, bool gap)
{
    gob_enc *ce = gob_enc_new(), *se = gob_enc_new();
    buf c, s;
    buf_init(&c, 0);
    buf_init(&s, 0);
    for (size_t g = 0; g < n; g += 8) {
        size_t k = n - g < 8 ? n - g : 8;
        for (size_t i = g; i < g + k; i++) {
            if (i < n / 2) {
                req(ce, &c, "Arith.Multiply", i, &args_t, args((int64_t)i, 3));
                continue;
            }
            value *st = value_struct("Student");
            value_struct_set(st, "Name", value_cstring("Ann"));
            value_struct_set(st, "Age", value_int((int64_t)i));
            req(ce, &c, "School.Enroll", i, &student_t, st);
        }
        for (size_t i = g + k; i-- > g;) {
            const char *m = i < n / 2 ? "Arith.Multiply" : "School.Enroll";
            if (i % 97 == 0)
                rep(se, &s, m, i, "divide by zero", NULL, NULL);
            else if (i < n / 2)
                rep(se, &s, m, i, NULL, &vtype_int, value_int(3 * (int64_t)i));
            else {
                value *ok = value_struct("Reply");
                value_struct_set(ok, "Ok", value_bool(true));
                rep(se, &s, m, i, NULL, &ok_t, ok);
            }
        }
    }
    long_rec r = {0};
    sniff_opts o = {.keep_bytes = 1 << 20};
    sniff_hooks h = {long_on_call, NULL};
    sniff *sn = sniff_new(&o, &h, &r);
    flow_conn fc;
    int64_t t = 1000000;
    sk_open(sn, &fc, 9, 40000, 5555, skip == 0);
    size_t cn = buf_size(&c) - skip, sn_ = buf_size(&s) - skip, ch = 700;
    for (size_t a = 0, b = 0; a < cn || b < sn_;) {
        size_t k = cn - a < ch ? cn - a : ch;
        sk_feed(sn, &fc, FLOW_C2S, buf_data(&c) + skip + a, k, 97, &t);
        a += k;
        if (gap && a > cn / 2 && a - k <= cn / 2)
            sniff_flow_gap(sn, &fc, FLOW_S2C, 5, t);
        k = b < a * sn_ / cn ? a * sn_ / cn - b : sn_ - b;
        sk_feed(sn, &fc, FLOW_S2C, buf_data(&s) + skip + b, k, 89, &t);
        b += k;
    }
    sniff_finish(sn, t);
    cr_assert_gt(r.calls, n * 9 / 10, "%zu calls", r.calls);
    cr_assert_gt(r.explained, n * 9 / 10, "%zu explained", r.explained);
    sniff_free(sn);
    buf_done(&c);
    buf_done(&s);
    gob_enc_free(ce);
    gob_enc_free(se);
}

Test(sniff_gob, long_connection_call_by_call) { long_gob(500, 0, false); }
Test(sniff_gob, long_connection_midway_call_by_call) { long_gob(300, 1000, false); }
Test(sniff_gob, long_connection_with_a_gap_call_by_call) { long_gob(300, 0, true); }

/* ---- JSON-RPC ---- */

Test(sniff_json, pipelined_out_of_order_error_no_reply)
{
    buf c;
    buf_init(&c, 0);
    value *a = args(7, 8), *b = args(1, 0), *x = args(2, 2);
    jsonrpc_write_request(&c, "Arith.Multiply", a, 0);
    jsonrpc_write_request(&c, "Arith.Divide", b, 1);
    jsonrpc_write_request(&c, "Arith.Multiply", x, 2);
    value_free(a);
    value_free(b);
    value_free(x);
    const char *s = "{\"id\":1,\"result\":null,\"error\":\"divide by zero\"}\n"
                    "{\"id\":0,\"result\":56,\"error\":null}\n";
    rec r = {0};
    sniff *sn = sk_new(&r, 1 << 20);
    flow_conn fc;
    int64_t t = 0;
    sk_open(sn, &fc, 2, 50000, 50051, true); /* gRPC's port: the bytes say otherwise */
    sk_feed(sn, &fc, FLOW_C2S, buf_data(&c), buf_size(&c), 7, &t);
    sk_feed(sn, &fc, FLOW_S2C, s, strlen(s), 4, &t);
    sniff_finish(sn, t);
    cr_assert_eq(r.n, 3);
    got_call *d = sk_call(&r, "Arith.Divide", 0);
    cr_assert_eq(d->proto, SNIFF_JSONRPC);
    cr_assert_str_eq(d->args, "[{\"A\":1,\"B\":0}]");
    cr_assert_str_eq(d->status, "error");
    cr_assert_str_eq(d->error, "divide by zero");
    cr_assert(strstr(d->req_x, "Arith.Divide"), "%s", d->req_x);
    got_call *m = sk_call(&r, "Arith.Multiply", 0);
    cr_assert_str_eq(m->result, "56");
    cr_assert_str_eq(m->status, "ok");
    cr_assert(strstr(m->rep_x, "56"), "%s", m->rep_x);
    cr_assert_str_eq(sk_call(&r, "Arith.Multiply", 1)->status, "no reply");
    cr_assert(sk_has_event(&r, "JSON-RPC, from its start"));
    sniff_free(sn);
    sk_free(&r);
    buf_done(&c);
}

Test(sniff_json, midway)
{
    const char *c = "ams\":[{\"A\":7,\"B\":8}],\"id\":0}\n"
                    "{\"method\":\"Arith.Multiply\",\"params\":[{\"A\":2,\"B\":3}],\"id\":1}\n";
    const char *s = "{\"id\":0,\"result\":56,\"error\":null}\n{\"id\":1,\"result\":6,\"error\":null}\n";
    rec r = {0};
    sniff *sn = sk_new(&r, 1 << 20);
    flow_conn fc;
    int64_t t = 0;
    sk_open(sn, &fc, 3, 50000, 1234, false);
    sk_feed(sn, &fc, FLOW_C2S, c, strlen(c), 9, &t);
    sk_feed(sn, &fc, FLOW_S2C, s, strlen(s), 9, &t);
    sniff_finish(sn, t);
    cr_assert_eq(r.n, 2);
    cr_assert_str_eq(r.c[0].method, "");
    cr_assert_str_eq(r.c[0].result, "56");
    cr_assert(strstr(r.c[0].note, "before the capture began"));
    cr_assert_str_eq(r.c[1].method, "Arith.Multiply");
    cr_assert_str_eq(r.c[1].result, "6");
    cr_assert(sk_has_event(&r, "caught mid-way"));
    sniff_free(sn);
    sk_free(&r);
}

/* ---- HTTP/1.x ---- */

static const char HTTP_C2S[] =
    "GET /arith/multiply?a=6&b=7 HTTP/1.1\r\nHost: x\r\n\r\n"
    "POST /arith/divide HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    "Content-Length: 15\r\n\r\n{\"A\": 1, \"B\":0}"
    "GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n";
static const char HTTP_R1[] = "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n{\"C\": 42}";
static const char HTTP_R2[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 26\r\n\r\n"
                              "{\"error\":\"divide by zero\"}";

Test(sniff_http, pipelined_error_no_reply)
{
    rec r = {0};
    sniff *sn = sk_new(&r, 1 << 20);
    flow_conn fc;
    int64_t t = 0;
    sk_open(sn, &fc, 4, 50000, 8080, true);
    sk_feed(sn, &fc, FLOW_C2S, HTTP_C2S, strlen(HTTP_C2S), 13, &t);
    sk_feed(sn, &fc, FLOW_S2C, HTTP_R1, strlen(HTTP_R1), 5, &t);
    sk_feed(sn, &fc, FLOW_S2C, HTTP_R2, strlen(HTTP_R2), 50, &t);
    sniff_finish(sn, t);
    cr_assert_eq(r.n, 3);
    got_call *g = sk_call(&r, "GET /arith/multiply?a=6&b=7", 0);
    cr_assert_null(g->args);
    cr_assert_str_eq(g->result, "{\"C\":42}");
    cr_assert_str_eq(g->status, "200 OK");
    cr_assert(strstr(g->req_x, "request line: GET /arith/multiply?a=6&b=7 HTTP/1.1"), "%s",
              g->req_x);
    cr_assert(strstr(g->rep_x, "body, 9 bytes"), "%s", g->rep_x);
    got_call *p = sk_call(&r, "POST /arith/divide", 0);
    cr_assert_str_eq(p->args, "{\"A\":1,\"B\":0}");
    cr_assert_str_eq(p->status, "400 Bad Request");
    cr_assert_str_eq(p->error, "{\"error\":\"divide by zero\"}");
    cr_assert_null(p->result);
    cr_assert_str_eq(sk_call(&r, "GET /nothing", 0)->status, "no reply");
    sniff_free(sn);
    sk_free(&r);
}

Test(sniff_http, midway)
{
    rec r = {0};
    sniff *sn = sk_new(&r, 1 << 20);
    flow_conn fc;
    int64_t t = 0;
    sk_open(sn, &fc, 5, 50000, 8080, false);
    const char *tail = strstr(HTTP_C2S, "POST");
    sk_feed(sn, &fc, FLOW_C2S, HTTP_C2S + 10, 30, 30, &t); /* the end of the first request */
    sk_feed(sn, &fc, FLOW_S2C, HTTP_R1, strlen(HTTP_R1), 20, &t);
    sk_feed(sn, &fc, FLOW_C2S, HTTP_C2S + 40, strlen(HTTP_C2S) - 40, 20, &t);
    sk_feed(sn, &fc, FLOW_S2C, HTTP_R2, strlen(HTTP_R2), 20, &t);
    (void)tail;
    sniff_finish(sn, t);
    cr_assert_eq(r.n, 3, "%zu", r.n);
    cr_assert_str_eq(r.c[0].method, "");
    cr_assert_str_eq(r.c[0].status, "200 OK");
    cr_assert(strstr(r.c[0].note, "before the capture began"));
    cr_assert_str_eq(r.c[1].method, "POST /arith/divide");
    cr_assert_str_eq(r.c[1].status, "400 Bad Request");
    sniff_free(sn);
    sk_free(&r);
}

/* ---- recognition ---- */

Test(sniff_detect, roles_swapped_when_guessed_wrong)
{
    const char *c = "{\"method\":\"Arith.Multiply\",\"params\":[{\"A\":2,\"B\":3}],\"id\":5}\n";
    const char *s = "{\"id\":5,\"result\":6,\"error\":null}\n";
    rec r = {0};
    sniff *sn = sk_new(&r, 1 << 20);
    flow_conn fc;
    int64_t t = 0;
    /* the guess took the higher port for the client: wrong here */
    sk_open(sn, &fc, 6, 1234, 40000, false);
    sk_feed(sn, &fc, FLOW_S2C, c, strlen(c), 10, &t);
    sk_feed(sn, &fc, FLOW_C2S, s, strlen(s), 10, &t);
    sniff_finish(sn, t);
    cr_assert_eq(r.n, 1);
    cr_assert_str_eq(r.c[0].method, "Arith.Multiply");
    cr_assert_str_eq(r.c[0].result, "6");
    cr_assert_str_eq(r.c[0].client, "127.0.0.1:40000");
    cr_assert_str_eq(r.c[0].server, "127.0.0.1:1234");
    cr_assert(sk_has_event(&r, "other way round"));
    sniff_free(sn);
    sk_free(&r);
}

Test(sniff_detect, by_bytes_not_port)
{
    static const struct {
        const char *first;
        sniff_proto p;
    } cases[] = {
        {"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", SNIFF_GRPC},
        {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", SNIFF_HTTP},
        {"  {\"method\":\"A.B\",\"params\":[1],\"id\":1}", SNIFF_JSONRPC},
    };
    for (size_t i = 0; i < 3; i++) {
        sniff_proto p = SNIFF_UNKNOWN;
        sniff_found f = sniff_detect((const uint8_t *)cases[i].first, strlen(cases[i].first),
                                     true, &p);
        cr_assert_eq(f, SNIFF_FOUND_CLIENT, "case %zu", i);
        cr_assert_eq(p, cases[i].p, "case %zu", i);
    }
    gob_enc *e = gob_enc_new();
    buf c;
    buf_init(&c, 0);
    req(e, &c, "Arith.Multiply", 0, &args_t, args(1, 2));
    sniff_proto p = SNIFF_UNKNOWN;
    cr_assert_eq(sniff_detect(buf_data(&c), buf_size(&c), true, &p), SNIFF_FOUND_CLIENT);
    cr_assert_eq(p, SNIFF_GOB);
    cr_assert_eq(sniff_detect(buf_data(&c), 10, true, &p), SNIFF_FOUND_MORE);
    cr_assert_eq(sniff_detect((const uint8_t *)"HTTP/1.1 200 OK\r\n", 17, true, &p),
                 SNIFF_FOUND_SERVER);
    buf_done(&c);
    gob_enc_free(e);
}

Test(sniff_detect, unknown_protocol)
{
    uint8_t junk[5000];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof junk; i++) {
        x = x * 1103515245u + 12345u;
        junk[i] = (uint8_t)(x >> 24);
    }
    memcpy(junk, "SSH-2.0-OpenSSH_9.2\r\n", 21);
    rec r = {0};
    sniff *sn = sk_new(&r, 1 << 20);
    flow_conn fc;
    int64_t t = 0;
    sk_open(sn, &fc, 8, 50000, 22, true);
    sk_feed(sn, &fc, FLOW_C2S, junk, sizeof junk, 1000, &t);
    sk_feed(sn, &fc, FLOW_S2C, junk, sizeof junk, 1000, &t);
    sniff_finish(sn, t);
    cr_assert_eq(r.n, 0);
    cr_assert(sk_has_event(&r, "not an RPC protocol the workbench knows"));
    cr_assert(sk_has_event(&r, "SSH-2.0"));
    sniff_stats st;
    sniff_get_stats(sn, &st);
    cr_assert_eq(st.unknown_conns, 1);
    cr_assert_eq(st.conns, 1);
    sniff_free(sn);
    sk_free(&r);
}
