/* test_sniff_h2.c -- the sniffer on gRPC over cleartext HTTP/2: both directions built frame
 * by frame, header blocks with an HPACK encoder that adds every field to its dynamic table
 * and sends it as an index when it comes again (as grpc-go does, :path included), messages
 * with protobuf-c, fed in segments: calls that succeed, fail in a trailers-only response, are
 * reset, are compressed, name a method the workbench does not know, or never get a reply;
 * and the same connection caught mid-way, where the dynamic table is unknown. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "wire/jsonval.h"
#include "wire/pbcatalog.h"
#include "wire/pbjson.h"

#include "test_sniffkit.h"

static const char PATH[] = "/helloworld.Greeter/SayHello";

/* One direction's HPACK encoder: its dynamic table, newest first (small enough never to
 * evict). */
typedef struct hpe {
    char name[16][32], value[16][64];
    int n;
} hpe;

typedef struct nv {
    const char *name, *value;
} nv;

typedef struct h2w {
    buf c, s;
    hpe ec, es;
    size_t c_mark, s_mark; /* where the second call begins in each direction */
} h2w;

static void frame(buf *b, uint8_t type, uint8_t flags, uint32_t sid, const void *p, size_t n)
{
    uint8_t h[9] = {(uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n, type, flags,
                    (uint8_t)(sid >> 24), (uint8_t)(sid >> 16), (uint8_t)(sid >> 8), (uint8_t)sid};
    buf_append(b, h, 9);
    if (n)
        buf_append(b, p, n);
}

static void str(buf *b, const char *s)
{
    buf_putc(b, (uint8_t)strlen(s));
    buf_puts(b, s);
}

/* Appends the HPACK representation of fields f[0..n) to b. */
static void encode(hpe *e, buf *b, const nv *f, size_t n)
{
    static const struct { const char *name, *value; int ix; } st[] = {
        {":method", "POST", 3}, {":scheme", "http", 6}, {":status", "200", 8},
        {":authority", NULL, 1}, {":path", NULL, 4}, {"content-type", NULL, 31}};
    for (size_t i = 0; i < n; i++) {
        int hit = -1, name_ix = 0;
        for (size_t k = 0; k < sizeof st / sizeof *st; k++)
            if (!strcmp(st[k].name, f[i].name)) {
                if (st[k].value && !strcmp(st[k].value, f[i].value))
                    hit = st[k].ix;
                else if (!st[k].value)
                    name_ix = st[k].ix;
            }
        for (int k = 0; k < e->n && hit < 0; k++)
            if (!strcmp(e->name[k], f[i].name) && !strcmp(e->value[k], f[i].value))
                hit = 62 + k;
        if (hit > 0) {
            buf_putc(b, (uint8_t)(0x80 | hit));
            continue;
        }
        buf_putc(b, (uint8_t)(0x40 | name_ix));
        if (!name_ix)
            str(b, f[i].name);
        str(b, f[i].value);
        cr_assert(e->n < 16);
        memmove(e->name[1], e->name[0], sizeof e->name[0] * (size_t)e->n);
        memmove(e->value[1], e->value[0], sizeof e->value[0] * (size_t)e->n);
        snprintf(e->name[0], 32, "%s", f[i].name);
        snprintf(e->value[0], 64, "%s", f[i].value);
        e->n++;
    }
}

static void headers(buf *b, hpe *e, uint32_t sid, const nv *f, size_t n, bool end_stream)
{
    buf blk;
    buf_init(&blk, 0);
    encode(e, &blk, f, n);
    frame(b, 1, 0x4 | (end_stream ? 1 : 0), sid, buf_data(&blk), buf_size(&blk));
    buf_done(&blk);
}

static void request_headers(h2w *w, uint32_t sid, const char *path, bool gzip)
{
    nv f[] = {{":method", "POST"}, {":scheme", "http"}, {":path", path},
              {":authority", "localhost:50051"}, {"content-type", "application/grpc"},
              {"te", "trailers"}, {"grpc-encoding", "gzip"}};
    headers(&w->c, &w->ec, sid, f, gzip ? 7 : 6, false);
}

/* A gRPC message of type tn holding json, prefixed (compressed when gzip). */
static void message(buf *b, uint32_t sid, const char *tn, const char *json, bool gzip, bool es)
{
    value *v = jsonval_parse(json, strlen(json), NULL, 0);
    char err[200];
    ProtobufCMessage *m = pbjson_to_message(pbcatalog_message(tn), v, err, sizeof err);
    cr_assert(m, "%s", err);
    uint8_t pb[512], z[600], out[700];
    size_t n = protobuf_c_message_pack(m, pb);
    protobuf_c_message_free_unpacked(m, NULL);
    value_free(v);
    const uint8_t *body = pb;
    if (gzip) {
        z_stream zs = {0};
        cr_assert_eq(deflateInit2(&zs, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
        zs.next_in = pb;
        zs.avail_in = (uInt)n;
        zs.next_out = z;
        zs.avail_out = sizeof z;
        cr_assert_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
        n = sizeof z - zs.avail_out;
        deflateEnd(&zs);
        body = z;
    }
    out[0] = gzip;
    out[1] = (uint8_t)(n >> 24);
    out[2] = (uint8_t)(n >> 16);
    out[3] = (uint8_t)(n >> 8);
    out[4] = (uint8_t)n;
    memcpy(out + 5, body, n);
    frame(b, 0, es ? 1 : 0, sid, out, n + 5);
}

static void trailers(h2w *w, uint32_t sid, const char *status, const char *msg, bool only)
{
    nv f[] = {{":status", "200"}, {"content-type", "application/grpc"},
              {"grpc-status", status}, {"grpc-message", msg ? msg : ""}};
    headers(&w->s, &w->es, sid, only ? f : f + 2, (only ? 2 : 0) + (msg ? 2 : 1), true);
}

/* The connection: calls on streams 1 (OK), 3 (NOT_FOUND, trailers-only), 5 (reset by the
 * client), 7 (compressed), 9 (a method nobody knows) and 11 (no reply). */
static void build(h2w *w)
{
    buf_init(&w->c, 0);
    buf_init(&w->s, 0);
    memset(&w->ec, 0, sizeof w->ec);
    memset(&w->es, 0, sizeof w->es);
    buf_puts(&w->c, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    frame(&w->c, 4, 0, 0, NULL, 0);
    frame(&w->s, 4, 0, 0, NULL, 0);
    frame(&w->s, 4, 1, 0, NULL, 0);
    frame(&w->c, 4, 1, 0, NULL, 0);
    request_headers(w, 1, PATH, false);
    message(&w->c, 1, "helloworld.HelloRequest", "{\"name\":\"world\"}", false, true);
    static const nv rh[] = {{":status", "200"}, {"content-type", "application/grpc"}};
    headers(&w->s, &w->es, 1, rh, 2, false);
    message(&w->s, 1, "helloworld.HelloReply", "{\"message\":\"Hello world\"}", false, false);
    trailers(w, 1, "0", NULL, false);
    w->c_mark = buf_size(&w->c);
    w->s_mark = buf_size(&w->s);
    request_headers(w, 3, PATH, false);
    message(&w->c, 3, "helloworld.HelloRequest", "{\"name\":\"nobody\"}", false, true);
    trailers(w, 3, "5", "no%20such%20person", true);
    request_headers(w, 5, PATH, false);
    message(&w->c, 5, "helloworld.HelloRequest", "{\"name\":\"slow\"}", false, false);
    static const uint8_t cancel[4] = {0, 0, 0, 8};
    frame(&w->c, 3, 0, 5, cancel, 4);
    request_headers(w, 7, PATH, true);
    message(&w->c, 7, "helloworld.HelloRequest", "{\"name\":\"zip\"}", true, true);
    headers(&w->s, &w->es, 7, rh, 2, false);
    message(&w->s, 7, "helloworld.HelloReply", "{\"message\":\"Hello zip\"}", false, false);
    trailers(w, 7, "0", NULL, false);
    request_headers(w, 9, "/pkg.Unknown/Do", false);
    message(&w->c, 9, "helloworld.HelloRequest", "{\"name\":\"who\"}", false, true);
    trailers(w, 9, "12", "unknown%20service", true);
    request_headers(w, 11, PATH, false);
    message(&w->c, 11, "helloworld.HelloRequest", "{\"name\":\"late\"}", false, true);
}

static void done(h2w *w)
{
    buf_done(&w->c);
    buf_done(&w->s);
}

static got_call *by_args(rec *r, const char *needle)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->c[i].args && strstr(r->c[i].args, needle))
            return &r->c[i];
    cr_assert_fail("no call with %s", needle);
    return NULL;
}

Test(sniff_h2, from_the_start)
{
    h2w w;
    build(&w);
    rec r = {0};
    sniff *sn = sk_new(&r, 1 << 20);
    flow_conn fc;
    int64_t t = 0;
    sk_open(sn, &fc, 1, 40000, 8080, true); /* not gRPC's usual port */
    /* the client's bytes, then the server's, in segments of odd sizes */
    sk_feed(sn, &fc, FLOW_C2S, buf_data(&w.c), buf_size(&w.c), 37, &t);
    sk_feed(sn, &fc, FLOW_S2C, buf_data(&w.s), buf_size(&w.s), 29, &t);
    sniff_finish(sn, t);
    cr_assert_eq(r.n, 6, "%zu calls", r.n);

    got_call *ok = by_args(&r, "\"world\"");
    cr_assert_eq(ok->proto, SNIFF_GRPC);
    cr_assert_str_eq(ok->method, PATH);
    cr_assert_str_eq(ok->args, "{\"name\":\"world\"}");
    cr_assert_str_eq(ok->result, "{\"message\":\"Hello world\"}");
    cr_assert_str_eq(ok->status, "OK");
    cr_assert_null(ok->error);
    cr_assert_null(ok->note, "%s", ok->note);
    cr_assert(ok->from_start);
    cr_assert(strstr(ok->req_x, "SayHello"), "%s", ok->req_x);
    cr_assert(strstr(ok->rep_x, "Hello world"), "%s", ok->rep_x);
    cr_assert_eq(ok->req_errors + ok->rep_errors, 0);

    got_call *nf = by_args(&r, "nobody");
    cr_assert_str_eq(nf->status, "NOT_FOUND (5)");
    cr_assert_str_eq(nf->error, "no such person");
    cr_assert_null(nf->result);
    cr_assert_str_eq(by_args(&r, "slow")->status, "RST_STREAM CANCEL");
    got_call *z = by_args(&r, "zip");
    cr_assert_str_eq(z->args, "{\"name\":\"zip\"}");
    cr_assert_str_eq(z->result, "{\"message\":\"Hello zip\"}");
    got_call *u = by_args(&r, "#1: \"who\"");
    cr_assert_str_eq(u->method, "/pkg.Unknown/Do");
    cr_assert_str_eq(u->status, "UNIMPLEMENTED (12)");
    cr_assert(strstr(u->note, "not one the workbench knows"), "%s", u->note);
    got_call *late = by_args(&r, "late");
    cr_assert_str_eq(late->status, "no reply");
    cr_assert_eq(late->end_us, 0);
    cr_assert(sk_has_event(&r, "gRPC over HTTP/2 (h2c), from its start"));
    sniff_free(sn);
    sk_free(&r);
    done(&w);
}

Test(sniff_h2, midway_dynamic_table_unknown)
{
    h2w w;
    build(&w);
    rec r = {0};
    sniff *sn = sk_new(&r, 1 << 20);
    flow_conn fc;
    int64_t t = 0;
    sk_open(sn, &fc, 2, 40000, 50051, false);
    /* the capture begins 3 bytes before the second call, inside a frame */
    sk_feed(sn, &fc, FLOW_C2S, buf_data(&w.c) + w.c_mark - 3, buf_size(&w.c) - w.c_mark + 3, 41,
            &t);
    sk_feed(sn, &fc, FLOW_S2C, buf_data(&w.s) + w.s_mark, buf_size(&w.s) - w.s_mark, 23, &t);
    sniff_finish(sn, t);
    cr_assert_eq(r.n, 5, "%zu calls", r.n);
    got_call *nf = by_args(&r, "nobody");
    cr_assert(!nf->from_start);
    /* the :path was sent as an index into the table built by the first call */
    cr_assert_str_eq(nf->method, "");
    cr_assert_str_eq(nf->args, "{#1: \"nobody\"}");
    cr_assert(strstr(nf->note, "HPACK's dynamic table was built before the capture began"),
              "%s", nf->note);
    cr_assert(strstr(nf->note, "the method among them"), "%s", nf->note);
    cr_assert(nf->req_errors > 0);
    cr_assert(strstr(nf->req_x, "added before the capture began"), "%s", nf->req_x);
    /* a method sent as a new literal is read again */
    got_call *u = by_args(&r, "who");
    cr_assert_str_eq(u->method, "/pkg.Unknown/Do");
    cr_assert(sk_has_event(&r, "caught mid-way"));
    sniff_free(sn);
    sk_free(&r);
    done(&w);
}

/* ---- long connections: every call explained from the state, checked against the whole ---- */

/* Counts the calls handed over; each is explained from the connection's state and checked
 * against the same call explained from the first byte (test_sniffkit.h). */
typedef struct tally {
    size_t calls, explained, empty_req, ok;
} tally;

static void tally_call(void *ud, const sniff_call *c)
{
    tally *k = ud;
    k->calls++;
    k->ok += c->status && !strcmp(c->status, "OK");
    explain q, p;
    explain_init(&q);
    explain_init(&p);
    if (sniff_explain_call(c, &q, &p) == 0) {
        k->explained++;
        k->empty_req += c->c2s && c->req_end > c->req_off && q.len == 0;
        sk_same_whole(c, &q, &p);
    }
    explain_done(&q);
    explain_done(&p);
}

static sniff *tally_new(tally *k)
{
    memset(k, 0, sizeof *k);
    sniff_opts o = {.keep_bytes = 4u << 20};
    sniff_hooks h = {tally_call, NULL};
    sniff *s = sniff_new(&o, &h, k);
    cr_assert(s);
    return s;
}

/* A message of an unknown type with many fields: many spans. */
static void raw_message(buf *b, uint32_t sid, int fields)
{
    uint8_t m[5 + 512];
    size_t n = 5;
    for (int i = 0; i < fields && n + 2 <= sizeof m; i++) {
        m[n++] = 0x08;
        m[n++] = (uint8_t)(i & 0x7f);
    }
    m[0] = 0;
    m[1] = m[2] = 0;
    m[3] = (uint8_t)((n - 5) >> 8);
    m[4] = (uint8_t)(n - 5);
    frame(b, 0, 1, sid, m, n);
}

static void preface(h2w *w)
{
    buf_init(&w->c, 0);
    buf_init(&w->s, 0);
    memset(&w->ec, 0, sizeof w->ec);
    memset(&w->es, 0, sizeof w->es);
    buf_puts(&w->c, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    frame(&w->c, 4, 0, 0, NULL, 0);
    frame(&w->s, 4, 0, 0, NULL, 0);
    frame(&w->s, 4, 1, 0, NULL, 0);
    frame(&w->c, 4, 1, 0, NULL, 0);
}

/* Call i of a long connection on stream sid: SayHello, or every other one a method nobody
 * knows carrying a message of many fields. */
static void long_request(h2w *w, uint32_t sid, int i)
{
    char name[32];
    snprintf(name, sizeof name, "{\"name\":\"n%d\"}", i);
    if (i % 2) {
        request_headers(w, sid, "/pkg.Unknown/Do", false);
        raw_message(&w->c, sid, 250);
    } else {
        request_headers(w, sid, PATH, false);
        message(&w->c, sid, "helloworld.HelloRequest", name, false, true);
    }
}

static void long_reply_head(h2w *w, uint32_t sid)
{
    static const nv rh[] = {{":status", "200"}, {"content-type", "application/grpc"}};
    headers(&w->s, &w->es, sid, rh, 2, false);
}

static void long_reply_body(h2w *w, uint32_t sid, int i)
{
    char msg[48];
    snprintf(msg, sizeof msg, "{\"message\":\"Hello n%d\"}", i);
    message(&w->s, sid, "helloworld.HelloReply", msg, false, false);
    if (i % 5 == 4) { /* a ping now and then, on the connection */
        static const uint8_t ping[8] = {1, 2, 3, 4, 5, 6, 7, 8};
        frame(&w->s, 6, 0, 0, ping, 8);
    }
}

/* n calls one after the other. */
static void build_long(h2w *w, int n)
{
    preface(w);
    for (int i = 0; i < n; i++) {
        uint32_t sid = 1 + 2 * (uint32_t)i;
        long_request(w, sid, i);
        long_reply_head(w, sid);
        long_reply_body(w, sid, i);
        trailers(w, sid, "0", NULL, false);
        if (i == n / 2) {
            w->c_mark = buf_size(&w->c);
            w->s_mark = buf_size(&w->s);
        }
    }
}

/* Feeds both directions in turns of chunk bytes, the client's ahead of the server's by
 * lead of the server's bytes (in proportion to each direction's length). */
static void feed_both(sniff *sn, flow_conn *fc, const buf *c, size_t c0, const buf *s, size_t s0,
                      size_t chunk, size_t lead, int64_t *t)
{
    size_t a = c0, b = s0, cn = buf_size(c), sn_ = buf_size(s);
    while (a < cn || b < sn_) {
        size_t k = cn - a < chunk ? cn - a : chunk;
        if (k && ((double)(a - c0) / (double)(cn - c0) < (double)(b - s0 + lead) / (double)(sn_ - s0) ||
                  b == sn_)) {
            sk_feed(sn, fc, FLOW_C2S, buf_data(c) + a, k, k, t);
            a += k;
            continue;
        }
        k = sn_ - b < chunk ? sn_ - b : chunk;
        sk_feed(sn, fc, FLOW_S2C, buf_data(s) + b, k, k, t);
        b += k;
    }
}

Test(sniff_h2, long_connection_explained_from_its_state)
{
    h2w w;
    build_long(&w, 300); /* past the spans an explanation keeps: the late calls are counted */
    tally k;
    sniff *sn = tally_new(&k);
    flow_conn fc;
    int64_t t = 0;
    sk_open(sn, &fc, 1, 40000, 50051, true);
    feed_both(sn, &fc, &w.c, 0, &w.s, 0, 301, 700, &t);
    sniff_finish(sn, t);
    cr_assert_eq(k.calls, 300, "%zu calls", k.calls);
    cr_assert_eq(k.explained, 300);
    cr_assert_eq(k.ok, 300);
    cr_assert(k.empty_req > 0, "no call was past the spans an explanation keeps");
    sniff_free(sn);
    done(&w);
}

Test(sniff_h2, long_connection_caught_midway)
{
    h2w w;
    build_long(&w, 120);
    tally k;
    sniff *sn = tally_new(&k);
    flow_conn fc;
    int64_t t = 0;
    sk_open(sn, &fc, 2, 40000, 50051, false);
    /* inside a frame in each direction: HPACK's table was built before */
    feed_both(sn, &fc, &w.c, w.c_mark + 5, &w.s, w.s_mark + 3, 97, 300, &t);
    sniff_finish(sn, t);
    cr_assert_geq(k.calls, 58, "%zu calls", k.calls);
    cr_assert_eq(k.explained, k.calls);
    sniff_free(sn);
    done(&w);
}

Test(sniff_h2, concurrent_streams_answered_out_of_order)
{
    enum { N = 48 };
    h2w w;
    preface(&w);
    /* every request first; the replies' headers in order, their messages backwards and
     * their trailers shuffled: a reply's bytes hold other streams' frames, of requests
     * sent after its own */
    for (int i = 0; i < N; i++)
        long_request(&w, 1 + 2 * (uint32_t)i, i);
    for (int i = 0; i < N; i++)
        long_reply_head(&w, 1 + 2 * (uint32_t)i);
    for (int i = N - 1; i >= 0; i--)
        long_reply_body(&w, 1 + 2 * (uint32_t)i, i);
    for (int i = 0; i < N; i++) {
        int j = (i * 7 + 3) % N;
        trailers(&w, 1 + 2 * (uint32_t)j, "0", NULL, false);
    }
    /* and then calls one after the other on the same connection */
    for (int i = N; i < N + 40; i++) {
        uint32_t sid = 1 + 2 * (uint32_t)i;
        long_request(&w, sid, i);
        long_reply_head(&w, sid);
        long_reply_body(&w, sid, i);
        trailers(&w, sid, "0", NULL, false);
    }
    for (int order = 0; order < 2; order++) {
        tally k;
        sniff *sn = tally_new(&k);
        flow_conn fc;
        int64_t t = 0;
        sk_open(sn, &fc, 3, 40000, 50051, true);
        if (order == 0) { /* the client's bytes whole, then the server's */
            sk_feed(sn, &fc, FLOW_C2S, buf_data(&w.c), buf_size(&w.c), 211, &t);
            sk_feed(sn, &fc, FLOW_S2C, buf_data(&w.s), buf_size(&w.s), 173, &t);
        } else
            feed_both(sn, &fc, &w.c, 0, &w.s, 0, 89, 2000, &t);
        sniff_finish(sn, t);
        cr_assert_eq(k.calls, N + 40, "%zu calls", k.calls);
        cr_assert_eq(k.explained, N + 40);
        cr_assert_eq(k.ok, N + 40);
        sniff_free(sn);
    }
    done(&w);
}

Test(sniff_h2, long_connection_with_a_gap)
{
    h2w w;
    build_long(&w, 80);
    tally k;
    sniff *sn = tally_new(&k);
    flow_conn fc;
    int64_t t = 0;
    sk_open(sn, &fc, 4, 40000, 50051, true);
    size_t cut = w.s_mark + 7, lost = 40;
    feed_both(sn, &fc, &w.c, 0, &w.s, 0, 64, 500, &t); /* whole: the calls before the gap */
    sniff_free(sn);
    sn = tally_new(&k);
    sk_open(sn, &fc, 5, 40000, 50051, true);
    sk_feed(sn, &fc, FLOW_C2S, buf_data(&w.c), buf_size(&w.c), 173, &t);
    sk_feed(sn, &fc, FLOW_S2C, buf_data(&w.s), cut, 151, &t);
    sniff_flow_gap(sn, &fc, FLOW_S2C, lost, t);
    sk_feed(sn, &fc, FLOW_S2C, buf_data(&w.s) + cut + lost, buf_size(&w.s) - cut - lost, 151,
            &t);
    sniff_finish(sn, t);
    cr_assert_eq(k.calls, 80, "%zu calls", k.calls);
    cr_assert_eq(k.explained, k.calls);
    cr_assert_geq(k.ok, 76, "%zu OK", k.ok);
    sniff_free(sn);
    done(&w);
}
