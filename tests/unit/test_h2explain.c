/* test_h2explain.c -- HTTP/2 + gRPC explained: a real exchange between grpcio peers, frames
 * built by hand for the cases they did not produce (split and shared messages,
 * CONTINUATION, padding, priority, Huffman, errors), and every truncation of the capture.
 *
 * grpc_c2s and grpc_s2c were captured from real peers: Debian's python3-grpcio 1.51.1
 * (grpc-c 29.0.0), a server registered with grpc.method_handlers_generic_handler for
 * helloworld.Greeter/SayHello and a client calling it through
 * channel.unary_unary("/helloworld.Greeter/SayHello") with raw bytes (no generated code),
 * request HelloRequest{name: "world"} = 0a 05 "world", reply HelloReply{message:
 * "Hello world"}. A small Python TCP relay between them recorded each direction's bytes.
 * tshark (-d tcp.port==50917,http2) decodes the same capture to the same headers. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/h2explain.h"

static const uint8_t grpc_c2s[415] = {
    0x50, 0x52, 0x49, 0x20, 0x2a, 0x20, 0x48, 0x54, 0x54, 0x50, 0x2f, 0x32, 0x2e, 0x30, 0x0d, 0x0a,
    0x0d, 0x0a, 0x53, 0x4d, 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x00, 0x24, 0x04, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
    0x3f, 0xff, 0xff, 0x00, 0x05, 0x00, 0x3f, 0xff, 0xff, 0x00, 0x06, 0x00, 0x00, 0x20, 0x00, 0xfe,
    0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x04, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3f,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xea, 0x01, 0x04,
    0x00, 0x00, 0x00, 0x01, 0x40, 0x05, 0x3a, 0x70, 0x61, 0x74, 0x68, 0x1c, 0x2f, 0x68, 0x65, 0x6c,
    0x6c, 0x6f, 0x77, 0x6f, 0x72, 0x6c, 0x64, 0x2e, 0x47, 0x72, 0x65, 0x65, 0x74, 0x65, 0x72, 0x2f,
    0x53, 0x61, 0x79, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x40, 0x0a, 0x3a, 0x61, 0x75, 0x74, 0x68, 0x6f,
    0x72, 0x69, 0x74, 0x79, 0x0f, 0x31, 0x32, 0x37, 0x2e, 0x30, 0x2e, 0x30, 0x2e, 0x31, 0x3a, 0x35,
    0x30, 0x39, 0x31, 0x37, 0x83, 0x86, 0x40, 0x0c, 0x63, 0x6f, 0x6e, 0x74, 0x65, 0x6e, 0x74, 0x2d,
    0x74, 0x79, 0x70, 0x65, 0x10, 0x61, 0x70, 0x70, 0x6c, 0x69, 0x63, 0x61, 0x74, 0x69, 0x6f, 0x6e,
    0x2f, 0x67, 0x72, 0x70, 0x63, 0x40, 0x02, 0x74, 0x65, 0x08, 0x74, 0x72, 0x61, 0x69, 0x6c, 0x65,
    0x72, 0x73, 0x40, 0x14, 0x67, 0x72, 0x70, 0x63, 0x2d, 0x61, 0x63, 0x63, 0x65, 0x70, 0x74, 0x2d,
    0x65, 0x6e, 0x63, 0x6f, 0x64, 0x69, 0x6e, 0x67, 0x17, 0x69, 0x64, 0x65, 0x6e, 0x74, 0x69, 0x74,
    0x79, 0x2c, 0x20, 0x64, 0x65, 0x66, 0x6c, 0x61, 0x74, 0x65, 0x2c, 0x20, 0x67, 0x7a, 0x69, 0x70,
    0x40, 0x0c, 0x67, 0x72, 0x70, 0x63, 0x2d, 0x74, 0x69, 0x6d, 0x65, 0x6f, 0x75, 0x74, 0x02, 0x35,
    0x53, 0x40, 0x0a, 0x75, 0x73, 0x65, 0x72, 0x2d, 0x61, 0x67, 0x65, 0x6e, 0x74, 0x30, 0x67, 0x72,
    0x70, 0x63, 0x2d, 0x70, 0x79, 0x74, 0x68, 0x6f, 0x6e, 0x2f, 0x31, 0x2e, 0x35, 0x31, 0x2e, 0x31,
    0x20, 0x67, 0x72, 0x70, 0x63, 0x2d, 0x63, 0x2f, 0x32, 0x39, 0x2e, 0x30, 0x2e, 0x30, 0x20, 0x28,
    0x6c, 0x69, 0x6e, 0x75, 0x78, 0x3b, 0x20, 0x63, 0x68, 0x74, 0x74, 0x70, 0x32, 0x29, 0x00, 0x00,
    0x04, 0x08, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x0c, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x07, 0x0a, 0x05, 0x77, 0x6f, 0x72, 0x6c, 0x64,
    0x00, 0x00, 0x04, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x08,
    0x06, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x08, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static const uint8_t grpc_s2c[240] = {
    0x00, 0x00, 0x18, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x3f, 0xff, 0xff, 0x00,
    0x05, 0x00, 0x3f, 0xff, 0xff, 0x00, 0x06, 0x00, 0x00, 0x20, 0x00, 0xfe, 0x03, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x04, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3f, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x4e, 0x01, 0x04, 0x00, 0x00, 0x00,
    0x01, 0x88, 0x40, 0x0c, 0x63, 0x6f, 0x6e, 0x74, 0x65, 0x6e, 0x74, 0x2d, 0x74, 0x79, 0x70, 0x65,
    0x10, 0x61, 0x70, 0x70, 0x6c, 0x69, 0x63, 0x61, 0x74, 0x69, 0x6f, 0x6e, 0x2f, 0x67, 0x72, 0x70,
    0x63, 0x40, 0x14, 0x67, 0x72, 0x70, 0x63, 0x2d, 0x61, 0x63, 0x63, 0x65, 0x70, 0x74, 0x2d, 0x65,
    0x6e, 0x63, 0x6f, 0x64, 0x69, 0x6e, 0x67, 0x17, 0x69, 0x64, 0x65, 0x6e, 0x74, 0x69, 0x74, 0x79,
    0x2c, 0x20, 0x64, 0x65, 0x66, 0x6c, 0x61, 0x74, 0x65, 0x2c, 0x20, 0x67, 0x7a, 0x69, 0x70, 0x00,
    0x00, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x0d, 0x0a, 0x0b, 0x48,
    0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x77, 0x6f, 0x72, 0x6c, 0x64, 0x00, 0x00, 0x0f, 0x01, 0x05, 0x00,
    0x00, 0x00, 0x01, 0x40, 0x0b, 0x67, 0x72, 0x70, 0x63, 0x2d, 0x73, 0x74, 0x61, 0x74, 0x75, 0x73,
    0x01, 0x30, 0x00, 0x00, 0x04, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00,
    0x00, 0x08, 0x06, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* Leaves tile p[0..n) exactly, spans stay in range, containers hold their children. */
static void check_tiles(const explain *e, size_t n)
{
    size_t at = 0;
    for (size_t i = 0; i < e->len; i++) {
        const span *s = &e->spans[i];
        cr_assert_leq(s->off + s->len, n, "span %zu (%s) ends past the input", i, s->meaning);
        if (i + 1 < e->len && e->spans[i + 1].depth > s->depth) {
            const span *c = &e->spans[i + 1];
            cr_assert(c->off >= s->off && c->off + c->len <= s->off + s->len,
                      "span %zu (%s) is not inside its container", i + 1, c->meaning);
            continue;
        }
        cr_assert_eq(s->off, at, "leaf %zu (%s) at %zu, want %zu", i, s->meaning, s->off, at);
        at += s->len;
    }
    cr_assert_eq(at, n, "leaves cover %zu of %zu bytes", at, n);
}

static const span *find(const explain *e, const char *words)
{
    for (size_t i = 0; i < e->len; i++)
        if (strstr(e->spans[i].meaning, words))
            return &e->spans[i];
    return NULL;
}

static void dump(const explain *e)
{
    for (size_t i = 0; i < e->len; i++)
        cr_log_error("%4zu+%-3zu d%d %s: %s", e->spans[i].off, e->spans[i].len,
                     e->spans[i].depth, e->spans[i].layer, e->spans[i].meaning);
}

#define HAS(e, words)                                                                         \
    do {                                                                                      \
        if (!find(e, words)) {                                                                \
            dump(e);                                                                          \
            cr_assert_fail("no span says: %s", words);                                        \
        }                                                                                     \
    } while (0)

Test(h2explain, real_grpcio_exchange)
{
    explain c, s;
    explain_init(&c);
    explain_init(&s);
    cr_assert_eq(h2explain_exchange(grpc_c2s, sizeof grpc_c2s, grpc_s2c, sizeof grpc_s2c, &c, &s),
                 0);
    check_tiles(&c, sizeof grpc_c2s);
    check_tiles(&s, sizeof grpc_s2c);

    const span *sp = find(&c, "client connection preface");
    cr_assert_not_null(sp);
    cr_assert_eq(sp->off, 0);
    cr_assert_eq(sp->len, 24);
    cr_assert_str_eq(sp->layer, "h2");
    HAS(&c, "SETTINGS frame, 6 settings");
    HAS(&c, "SETTINGS_INITIAL_WINDOW_SIZE (0x0004) = 4194303");
    HAS(&c, "HEADERS frame, stream 1");
    sp = find(&c, "header :path: /helloworld.Greeter/SayHello");
    cr_assert_not_null(sp);
    cr_assert_str_eq(sp->layer, "hpack");
    cr_assert_eq(sp->cls, SPAN_FRAME);
    HAS(&c, "value \"/helloworld.Greeter/SayHello\"");
    HAS(&c, "header :method: POST");
    HAS(&c, "grpc-timeout: 5S");
    HAS(&c, "5 seconds");
    sp = find(&c, "gRPC message 1 on stream 1");
    cr_assert_not_null(sp);
    cr_assert_str_eq(sp->layer, "grpc");
    cr_assert_eq(sp->len, 12);
    HAS(&c, "helloworld.HelloRequest");
    HAS(&c, "compressed flag 0");
    HAS(&c, "message length 00 00 00 07 = 7");
    sp = find(&c, "name = \"world\"");
    cr_assert_not_null(sp);
    cr_assert_eq(sp->cls, SPAN_DATA);
    cr_assert_str_eq(sp->layer, "pb");
    cr_assert_eq(sp->len, 5);
    cr_assert(memcmp(grpc_c2s + sp->off, "world", 5) == 0);
    sp = find(&c, "tag 0x0a");
    cr_assert_not_null(sp);
    cr_assert_eq(sp->cls, SPAN_TYPE);
    HAS(&c, "PING frame");
    HAS(&c, "WINDOW_UPDATE frame");

    HAS(&s, "header :status: 200");
    HAS(&s, "helloworld.HelloReply");
    HAS(&s, "message = \"Hello world\"");
    HAS(&s, "trailers: grpc-status 0 (OK)");
    HAS(&s, "0 = OK, the call succeeded");
    HAS(&s, "END_STREAM | END_HEADERS");
    explain_done(&c);
    explain_done(&s);
}

Test(h2explain, server_direction_alone)
{
    explain e;
    explain_init(&e);
    cr_assert_eq(h2explain_stream(grpc_s2c, sizeof grpc_s2c, true,
                                  "/helloworld.Greeter/SayHello", &e), 0);
    check_tiles(&e, sizeof grpc_s2c);
    HAS(&e, "field 1 message (string) = \"Hello world\"");
    explain_done(&e);
    /* without a hint the reply is read without a schema */
    explain_init(&e);
    cr_assert_eq(h2explain_stream(grpc_s2c, sizeof grpc_s2c, true, NULL, &e), 0);
    check_tiles(&e, sizeof grpc_s2c);
    HAS(&e, "field 1 = \"Hello world\"");
    explain_done(&e);
    /* the client direction finds the method itself */
    explain_init(&e);
    cr_assert_eq(h2explain_stream(grpc_c2s, sizeof grpc_c2s, false, NULL, &e), 0);
    HAS(&e, "field 1 name (string) = \"world\"");
    explain_done(&e);
}

Test(h2explain, every_truncation)
{
    for (int dir = 0; dir < 2; dir++) {
        const uint8_t *p = dir ? grpc_s2c : grpc_c2s;
        size_t n = dir ? sizeof grpc_s2c : sizeof grpc_c2s;
        for (size_t k = 0; k < n; k++) {
            explain e;
            explain_init(&e);
            int r = h2explain_stream(p, k, dir, "/helloworld.Greeter/SayHello", &e);
            cr_assert_eq(r, 0, "cut at %zu", k);
            check_tiles(&e, k);
            explain_done(&e);
        }
    }
    /* cut inside a frame header, and inside the gRPC message */
    explain e;
    explain_init(&e);
    h2explain_stream(grpc_c2s, 24 + 5, false, NULL, &e);
    cr_assert(strncmp(e.spans[e.len - 1].meaning, "incomplete", 10) == 0);
    explain_done(&e);
    explain_init(&e);
    h2explain_stream(grpc_c2s, 0x164 + 8, false, NULL, &e);
    HAS(&e, "incomplete");
    explain_done(&e);
}

/* ---- hand-built frames ---- */

typedef struct out {
    uint8_t b[2048];
    size_t n;
} out;

static void frame(out *o, uint8_t type, uint8_t flags, uint32_t sid, const void *pay, size_t len)
{
    uint8_t *q = o->b + o->n;
    q[0] = (uint8_t)(len >> 16);
    q[1] = (uint8_t)(len >> 8);
    q[2] = (uint8_t)len;
    q[3] = type;
    q[4] = flags;
    q[5] = (uint8_t)(sid >> 24);
    q[6] = (uint8_t)(sid >> 16);
    q[7] = (uint8_t)(sid >> 8);
    q[8] = (uint8_t)sid;
    if (len)
        memcpy(q + 9, pay, len);
    o->n += 9 + len;
}

/* HelloReply{message: "Hi"} and {message: "Hello there"} with their gRPC prefixes */
static const uint8_t MSG1[] = {0, 0, 0, 0, 4, 0x0a, 0x02, 'H', 'i'};
static const uint8_t MSG2[] = {0, 0, 0, 0, 13, 0x0a, 0x0b, 'H', 'e', 'l', 'l', 'o',
                               ' ', 't', 'h', 'e', 'r', 'e'};

Test(h2explain, messages_split_and_shared)
{
    out o = {.n = 0};
    uint8_t st200 = 0x88;
    frame(&o, 4, 0, 0, NULL, 0);       /* SETTINGS, empty */
    frame(&o, 1, 4, 1, &st200, 1);     /* HEADERS :status 200 */
    uint8_t d1[sizeof MSG1 + 7];
    memcpy(d1, MSG1, sizeof MSG1);
    memcpy(d1 + sizeof MSG1, MSG2, 7); /* MSG1 whole and the start of MSG2 */
    frame(&o, 0, 0, 1, d1, sizeof d1);
    frame(&o, 8, 0, 0, "\0\0\0\x10", 4); /* an unrelated frame in between */
    frame(&o, 0, 0, 1, MSG2 + 7, 5);
    frame(&o, 0, 0, 1, MSG2 + 12, sizeof MSG2 - 12);
    uint8_t trailer[] = {0x40, 0x0b, 'g', 'r', 'p', 'c', '-', 's', 't', 'a', 't', 'u', 's',
                         0x01, '5', 0x40, 0x0c, 'g', 'r', 'p', 'c', '-', 'm', 'e', 's', 's',
                         'a', 'g', 'e', 0x04, 'g', 'o', 'n', 'e'};
    frame(&o, 1, 5, 1, trailer, sizeof trailer);
    explain e;
    explain_init(&e);
    cr_assert_eq(h2explain_stream(o.b, o.n, true, "helloworld.Greeter/SayHello", &e), 0);
    check_tiles(&e, o.n);
    HAS(&e, "1 whole gRPC message and a piece of one split across frames");
    HAS(&e, "message = \"Hi\"");
    HAS(&e, "gRPC message 2 on stream 1, 13 bytes");
    HAS(&e, "(continues in the next frame)");
    HAS(&e, "(continued, and continues in the next frame)");
    HAS(&e, "5-byte payload: a piece of a gRPC message split across frames");
    HAS(&e, "message = \"Hello there\"");
    HAS(&e, "grpc-status 5 (NOT_FOUND)");
    HAS(&e, "the error text");
    explain_done(&e);
}

Test(h2explain, continuation_padding_priority)
{
    /* the captured request block, cut into HEADERS (padded, with priority) + 2 CONTINUATIONs */
    const uint8_t *block = grpc_c2s + 0x64;
    size_t blen = 234;
    out o = {.n = 0};
    memcpy(o.b, grpc_c2s, 24);
    o.n = 24;
    frame(&o, 4, 0, 0, NULL, 0);
    uint8_t h[300];
    h[0] = 3;                                         /* pad length */
    memcpy(h + 1, "\x80\x00\x00\x00\x0f", 5);         /* exclusive, depends on 0, weight 16 */
    memcpy(h + 6, block, 40);                         /* cuts :path's value */
    memset(h + 46, 0, 3);
    frame(&o, 1, 0x08 | 0x20, 1, h, 49);
    frame(&o, 9, 0, 1, block + 40, 100);
    frame(&o, 9, 4, 1, block + 140, blen - 140);
    uint8_t d[] = {2, 0, 0, 0, 0, 7, 0x0a, 5, 'w', 'o', 'r', 'l', 'd', 0, 0};
    frame(&o, 0, 0x08 | 0x01, 1, d, sizeof d);        /* padded DATA */
    explain e;
    explain_init(&e);
    int r = h2explain_stream(o.b, o.n, false, NULL, &e);
    if (r)
        dump(&e);
    cr_assert_eq(r, 0);
    check_tiles(&e, o.n);
    HAS(&e, "the block continues in CONTINUATION frames");
    HAS(&e, "header :path: /helloworld.Greeter/SayHello");
    HAS(&e, "(continues in the next frame)");
    HAS(&e, "CONTINUATION frame");
    HAS(&e, "pad length 3");
    HAS(&e, "3 bytes of padding");
    HAS(&e, "stream dependency 0, exclusive");
    HAS(&e, "weight 16");
    HAS(&e, "END_STREAM (the sender's last frame on this stream); PADDED");
    HAS(&e, "name = \"world\"");
    HAS(&e, "2 bytes of padding");
    explain_done(&e);
}

Test(h2explain, huffman_headers_and_control_frames)
{
    out o = {.n = 0};
    memcpy(o.b, grpc_c2s, 24);
    o.n = 24;
    /* RFC 7541 C.4.1: :method GET, :scheme http, :path /, :authority www.example.com (Huffman) */
    static const uint8_t c41[] = {0x82, 0x86, 0x84, 0x41, 0x8c, 0xf1, 0xe3, 0xc2, 0xe5,
                                  0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90, 0xf4, 0xff};
    frame(&o, 1, 5, 3, c41, sizeof c41);
    frame(&o, 3, 0, 3, "\0\0\0\x08", 4);                        /* RST_STREAM CANCEL */
    frame(&o, 2, 0, 5, "\0\0\0\x03\x20", 5);                    /* PRIORITY */
    frame(&o, 0x42, 0, 0, "xyz", 3);                            /* unknown type */
    frame(&o, 7, 0, 0, "\0\0\0\x03\0\0\0\x0b" "calm down", 17); /* GOAWAY */
    explain e;
    explain_init(&e);
    cr_assert_eq(h2explain_stream(o.b, o.n, false, NULL, &e), 0);
    check_tiles(&e, o.n);
    HAS(&e, "header :authority: www.example.com");
    HAS(&e, "12 Huffman-coded bytes for 15 characters");
    HAS(&e, "not one the workbench knows");
    HAS(&e, "error code 8 = CANCEL");
    HAS(&e, "RST_STREAM frame: stream 3 ends now, CANCEL");
    HAS(&e, "weight 33");
    HAS(&e, "frame type this explainer does not know");
    HAS(&e, "last stream id 3");
    HAS(&e, "ENHANCE_YOUR_CALM");
    HAS(&e, "debug data \"calm down\"");
    explain_done(&e);
}

Test(h2explain, errors)
{
    explain e;
    /* not HTTP/2 */
    explain_init(&e);
    static const char http1[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    cr_assert_eq(h2explain_stream((const uint8_t *)http1, strlen(http1), false, NULL, &e), -1);
    check_tiles(&e, strlen(http1));
    cr_assert_eq(e.spans[0].cls, SPAN_ERROR);
    HAS(&e, "looks like HTTP/1");
    explain_done(&e);

    /* a 7-byte PING, then more frames nobody reads */
    out o = {.n = 0};
    frame(&o, 6, 0, 0, "1234567", 7);
    frame(&o, 4, 0, 0, NULL, 0);
    explain_init(&e);
    cr_assert_eq(h2explain_stream(o.b, o.n, true, NULL, &e), -1);
    check_tiles(&e, o.n);
    HAS(&e, "exactly 8 bytes");
    HAS(&e, "nothing after it is explained");
    cr_assert_eq(e.spans[e.len - 1].cls, SPAN_ERROR);
    explain_done(&e);

    /* an HPACK index that does not exist */
    o.n = 0;
    frame(&o, 1, 4, 1, "\xff\x10", 2);
    explain_init(&e);
    cr_assert_eq(h2explain_stream(o.b, o.n, true, NULL, &e), -1);
    check_tiles(&e, o.n);
    HAS(&e, "not valid HPACK");
    explain_done(&e);

    /* HEADERS without END_HEADERS followed by DATA */
    o.n = 0;
    frame(&o, 1, 0, 1, "\x88", 1);
    frame(&o, 0, 0, 1, MSG1, sizeof MSG1);
    explain_init(&e);
    cr_assert_eq(h2explain_stream(o.b, o.n, true, NULL, &e), -1);
    check_tiles(&e, o.n);
    HAS(&e, "where the CONTINUATION");
    explain_done(&e);

    /* a protobuf that does not parse: the framing goes on, the result says -1 */
    o.n = 0;
    static const uint8_t bad[] = {0, 0, 0, 0, 2, 0x0f, 0x01};
    frame(&o, 0, 0, 1, bad, sizeof bad);
    frame(&o, 6, 1, 0, "12345678", 8);
    explain_init(&e);
    cr_assert_eq(h2explain_stream(o.b, o.n, true, NULL, &e), -1);
    check_tiles(&e, o.n);
    HAS(&e, "wire type 7");
    HAS(&e, "PING frame with ACK");
    explain_done(&e);

    /* stream 0 DATA, padding too long, WINDOW_UPDATE of 0 */
    o.n = 0;
    frame(&o, 0, 0, 0, MSG1, sizeof MSG1);
    explain_init(&e);
    cr_assert_eq(h2explain_stream(o.b, o.n, true, NULL, &e), -1);
    check_tiles(&e, o.n);
    explain_done(&e);
    o.n = 0;
    frame(&o, 0, 8, 1, "\x09" "abc", 4);
    explain_init(&e);
    cr_assert_eq(h2explain_stream(o.b, o.n, true, NULL, &e), -1);
    check_tiles(&e, o.n);
    HAS(&e, "padding is longer");
    explain_done(&e);
    o.n = 0;
    frame(&o, 8, 0, 0, "\0\0\0\0", 4);
    explain_init(&e);
    cr_assert_eq(h2explain_stream(o.b, o.n, true, NULL, &e), -1);
    check_tiles(&e, o.n);
    HAS(&e, "window increment 0: not allowed");
    explain_done(&e);
}

/* The server's trailers on stream 1 carry grpc-status code: the explainer names it. */
static void explains_status(const char *code, const char *name)
{
    out o = {.n = 0};
    uint8_t st200 = 0x88, trailer[32] = {0x40, 0x0b, 'g', 'r', 'p', 'c', '-', 's', 't', 'a', 't',
                                         'u', 's', (uint8_t)strlen(code)};
    memcpy(trailer + 14, code, strlen(code));
    frame(&o, 1, 4, 1, &st200, 1);
    frame(&o, 1, 5, 1, trailer, 14 + strlen(code));
    explain e;
    explain_init(&e);
    cr_assert_eq(h2explain_stream(o.b, o.n, true, NULL, &e), 0);
    char want[96];
    snprintf(want, sizeof want, "grpc-status %s (%s)", code, name);
    HAS(&e, want);
    snprintf(want, sizeof want, "the call's outcome: %s = %s", code, name);
    HAS(&e, want);
    explain_done(&e);
}

Test(h2explain, names)
{
    explains_status("0", "OK");
    explains_status("1", "CANCELLED");
    explains_status("16", "UNAUTHENTICATED");
    explains_status("17", "UNKNOWN"); /* outside gRPC's table: a client reads it as UNKNOWN */
    cr_assert_str_eq(h2explain_error_code(13), "HTTP_1_1_REQUIRED");
    cr_assert_str_eq(h2explain_frame_type(9), "CONTINUATION");
    cr_assert_str_eq(h2explain_setting(1), "SETTINGS_HEADER_TABLE_SIZE");
    cr_assert_null(h2explain_setting(7));
}

Test(h2explain, renders)
{
    explain e;
    explain_init(&e);
    h2explain_stream(grpc_c2s, sizeof grpc_c2s, false, NULL, &e);
    buf b;
    buf_init(&b, 1 << 20);
    cr_assert_eq(explain_render(&e, grpc_c2s, sizeof grpc_c2s, NULL, &b), 0);
    cr_assert_gt(buf_size(&b), 1000);
    buf_done(&b);
    explain_done(&e);
}
