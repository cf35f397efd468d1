/* test_grpcserver.c -- unit tests for the gRPC server's one method table: what it takes,
 * what it refuses, its own methods added like a program's, and the catalog's methods
 * served through it; reflection's answers kept once packed; and a flood of request
 * messages taken a share per turn. Each test runs in a process of its own, with an empty
 * table; what is served is read with gmethods_service_served, which health and reflection
 * list by.
 *
 * A test marked "helper: gRPC server" runs server_main with the gRPC codec, its message
 * hook counted, in a child process, and talks HTTP/2 to it over loopback. */
#include <criterion/criterion.h>
#include <string.h>

#include "testkit.h"

#include "reflection.pb-c.h"
#include "rpc/grpcserver.h"
#include "rpc/grpcserver_int.h"
#include "services/services.h"
#include "wire/catalog.h"

#define DEADLINE .timeout = 60
#define HELPER .description = "helper: gRPC server", DEADLINE

static int no_reply(const ProtobufCMessage *req, grpc_call *call, char *msg, size_t msglen)
{
    (void)req, (void)call, (void)msg, (void)msglen;
    return GRPC_UNIMPLEMENTED;
}

static void each_message(grpc_call *call, const ProtobufCMessage *req) { (void)call, (void)req; }

Test(grpcserver, a_program_adds_its_methods_and_only_they_are_served)
{
    static const grpc_method users[] = {
        {"/user.User/SignUp", no_reply, .on_worker = true},
        {"/user.User/Login", no_reply, .on_worker = true},
        {"/user.User/Verify", no_reply},
    };
    char err[256];
    cr_assert_eq(grpcserver_add_methods(users, 3, err, sizeof err), 0, "%s", err);
    cr_assert(gmethods_service_served("user.User"));
    cr_assert(gmethods_service_served("grpc.health.v1.Health"), "the server's own, added first");
    cr_assert(gmethods_service_served("grpc.reflection.v1alpha.ServerReflection"));
    cr_assert(gmethods_service_served(""), "\"\" is the whole server");
    cr_assert_not(gmethods_service_served("arith.Arith"), "no samples unless added");
    cr_assert_not(gmethods_service_served("tally.Tally"));
    cr_assert_not(gmethods_service_served("helloworld.Greeter"));
}

Test(grpcserver, refuses_what_it_could_not_serve)
{
    char err[256];
    grpc_method e = {"/nowhere.Else/Call", no_reply};
    cr_assert_eq(grpcserver_add_methods(&e, 1, err, sizeof err), -1);
    cr_assert_str_eq(err, "gRPC method /nowhere.Else/Call is not compiled in (proto/)");
    e = (grpc_method){"user.User/Login", no_reply};
    cr_assert_eq(grpcserver_add_methods(&e, 1, err, sizeof err), -1, "a path starts with /");
    e = (grpc_method){"/tally.Tally/Count", no_reply};
    cr_assert_eq(grpcserver_add_methods(&e, 1, err, sizeof err), -1);
    cr_assert_str_eq(err, "/tally.Tally/Count is a streaming method: it wants a message hook");
    e = (grpc_method){"/user.User/Login", .message = each_message};
    cr_assert_eq(grpcserver_add_methods(&e, 1, err, sizeof err), -1);
    cr_assert_str_eq(err, "/user.User/Login is a unary method: it wants a unary handler");
    e = (grpc_method){"/grpc.health.v1.Health/Check", no_reply};
    cr_assert_eq(grpcserver_add_methods(&e, 1, err, sizeof err), -1);
    cr_assert_str_eq(err, "/grpc.health.v1.Health/Check is served twice",
                     "health is in the same table as a program's methods");
    cr_assert_not(gmethods_service_served("user.User"), "nothing refused was added");
}

Test(grpcserver, entries_before_a_faulty_one_stay)
{
    grpc_method t[] = {
        {"/order.Order/Get", no_reply},
        {"/order.Order/Get", no_reply},
    };
    char err[256];
    cr_assert_eq(grpcserver_add_methods(t, 2, err, sizeof err), -1);
    cr_assert_str_eq(err, "/order.Order/Get is served twice");
    cr_assert(gmethods_service_served("order.Order"));
}

Test(grpcserver, grpc_server_serves_the_catalog_and_tally)
{
    char err[256];
    catalog_method remote = {"Remote.Echo", NULL, NULL, "/user.User/Verify", NULL, true, "", NULL};
    cr_assert_eq(catalog_add(&remote, 1, err, sizeof err), 1, "%s", err);
    cr_assert_eq(grpcserver_add_catalog(err, sizeof err), 0, "%s", err);
    cr_assert_not(gmethods_service_served("user.User"), "a method without a handler is not served");
    cr_assert_eq(services_register(err, sizeof err), 0, "%s", err);
    cr_assert_eq(grpcserver_add_catalog(err, sizeof err), 0, "%s", err);
    cr_assert(gmethods_service_served("arith.Arith"));
    cr_assert(gmethods_service_served("helloworld.Greeter"));
    cr_assert_not(gmethods_service_served("tally.Tally"), "Tally is not the catalog's");
    cr_assert_eq(grpcserver_add_methods(grpcserver_tally, grpcserver_ntally, err, sizeof err), 0,
                 "%s", err);
    cr_assert(gmethods_service_served("tally.Tally"));
    cr_assert_not(gmethods_service_served("user.User"));
}

/* ---- reflection's answers ---- */

typedef Grpc__Reflection__V1alpha__ServerReflectionRequest reflect_req;
typedef Grpc__Reflection__V1alpha__ServerReflectionResponse reflect_resp;

/* A stream on a connection that never sends: what a method replies stays in s.out. */
typedef struct quiet {
    gconn c;
    gstream s;
} quiet;

static void quiet_init(quiet *q)
{
    memset(q, 0, sizeof *q);
    nghttp2_session_callbacks *cbs;
    cr_assert_eq(nghttp2_session_callbacks_new(&cbs), 0);
    cr_assert_eq(nghttp2_session_server_new(&q->c.h2, cbs, NULL), 0);
    nghttp2_session_callbacks_del(cbs);
    q->s.c = &q->c;
    q->s.id = 1;
    q->s.call.s = &q->s;
    buf_init(&q->s.in, 0);
    buf_init(&q->s.out, 0);
}

static void quiet_done(quiet *q)
{
    nghttp2_session_del(q->c.h2);
    buf_done(&q->s.in);
    buf_done(&q->s.out);
}

/* Asks r on q's stream; returns the reply (without its 5-byte prefix), which the caller
 * frees, and its length in *n. */
static uint8_t *ask(quiet *q, const reflect_req *r, size_t *n)
{
    buf_clear(&q->s.out);
    greflect_answer(&q->s.call, &r->base);
    cr_assert_geq(buf_size(&q->s.out), 5);
    const uint8_t *p = buf_data(&q->s.out);
    *n = (size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 | p[4];
    cr_assert_eq(buf_size(&q->s.out), 5 + *n, "one framed reply");
    uint8_t *copy = malloc(*n ? *n : 1);
    memcpy(copy, p + 5, *n);
    return copy;
}

/* The reply a whole pack of the expected response gives to r: the services served. */
static uint8_t *listed_whole(const reflect_req *r, size_t *n)
{
    reflect_resp want = GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__INIT;
    Grpc__Reflection__V1alpha__ListServiceResponse lsr =
        GRPC__REFLECTION__V1ALPHA__LIST_SERVICE_RESPONSE__INIT;
    Grpc__Reflection__V1alpha__ServiceResponse svc[16], *svcp[16];
    size_t k = 0, ns;
    const char *const *names = pbcatalog_services(&ns);
    for (size_t i = 0; i < ns && k < 16; i++) {
        if (!gmethods_service_served(names[i]))
            continue;
        grpc__reflection__v1alpha__service_response__init(&svc[k]);
        svc[k].name = (char *)names[i];
        svcp[k] = &svc[k];
        k++;
    }
    lsr.n_service = k;
    lsr.service = svcp;
    want.valid_host = r->host;
    want.original_request = (reflect_req *)r;
    want.message_response_case =
        GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_LIST_SERVICES_RESPONSE;
    want.list_services_response = &lsr;
    *n = protobuf_c_message_get_packed_size(&want.base);
    uint8_t *p = malloc(*n);
    protobuf_c_message_pack(&want.base, p);
    return p;
}

/* Whether reply p[0..n) lists service name. */
static bool lists(const uint8_t *p, size_t n, const char *name)
{
    reflect_resp *r = grpc__reflection__v1alpha__server_reflection_response__unpack(NULL, n, p);
    cr_assert_not_null(r);
    cr_assert_not_null(r->list_services_response);
    bool found = false;
    for (size_t i = 0; i < r->list_services_response->n_service; i++)
        found |= strcmp(r->list_services_response->service[i]->name, name) == 0;
    grpc__reflection__v1alpha__server_reflection_response__free_unpacked(r, NULL);
    return found;
}

Test(grpcserver, reflection_answers_that_do_not_change_are_packed_once)
{
    char err[256];
    cr_assert_eq(grpcserver_add_methods(NULL, 0, err, sizeof err), 0, "%s", err);
    quiet q;
    quiet_init(&q);
    reflect_req r = GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__INIT;
    r.message_request_case = GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_LIST_SERVICES;
    r.list_services = "";
    size_t n1, n2, nw;
    unsigned long before = greflect_packed();
    uint8_t *a = ask(&q, &r, &n1), *b = ask(&q, &r, &n2), *whole = listed_whole(&r, &nw);
    cr_assert_eq(greflect_packed(), before + 1, "the second list_services reuses the first's packing");
    cr_assert(n1 == nw && memcmp(a, whole, nw) == 0, "the same bytes as the response packed whole");
    cr_assert(n2 == n1 && memcmp(a, b, n1) == 0);
    cr_assert(lists(a, n1, "grpc.health.v1.Health"));
    free(a), free(b), free(whole);

    r.host = "elsewhere"; /* the echo of the request is the part packed each time */
    a = ask(&q, &r, &n1);
    whole = listed_whole(&r, &nw);
    cr_assert(n1 == nw && memcmp(a, whole, nw) == 0);
    cr_assert_eq(greflect_packed(), before + 1);
    free(a), free(whole);

    cr_assert_eq(grpcserver_add_methods(grpcserver_tally, grpcserver_ntally, err, sizeof err), 0, "%s", err);
    a = ask(&q, &r, &n1);
    cr_assert_eq(greflect_packed(), before + 2, "a grown method table is listed afresh");
    cr_assert(lists(a, n1, "tally.Tally"));
    free(a);

    r.message_request_case =
        GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_SYMBOL;
    r.file_containing_symbol = "grpc.health.v1.Health";
    a = ask(&q, &r, &n1);
    b = ask(&q, &r, &n2);
    cr_assert_eq(greflect_packed(), before + 3, "a file's answer is packed once");
    cr_assert(n2 == n1 && memcmp(a, b, n1) == 0);
    reflect_resp *got = grpc__reflection__v1alpha__server_reflection_response__unpack(NULL, n1, a);
    cr_assert_not_null(got);
    cr_assert_str_eq(got->valid_host, "elsewhere");
    cr_assert_str_eq(got->original_request->file_containing_symbol, "grpc.health.v1.Health");
    const pb_file *f = pbcatalog_file_for_symbol("grpc.health.v1.Health");
    cr_assert_not_null(got->file_descriptor_response);
    cr_assert_geq(got->file_descriptor_response->n_file_descriptor_proto, 1);
    cr_assert(got->file_descriptor_response->file_descriptor_proto[0].len == f->len &&
              memcmp(got->file_descriptor_response->file_descriptor_proto[0].data, f->bytes, f->len) == 0);
    grpc__reflection__v1alpha__server_reflection_response__free_unpacked(got, NULL);
    free(a), free(b);

    r.file_containing_symbol = "no.Such"; /* an error echoes what was asked: not kept */
    a = ask(&q, &r, &n1);
    got = grpc__reflection__v1alpha__server_reflection_response__unpack(NULL, n1, a);
    cr_assert_not_null(got->error_response);
    cr_assert_str_eq(got->error_response->error_message, "symbol not found: no.Such");
    grpc__reflection__v1alpha__server_reflection_response__free_unpacked(got, NULL);
    free(a);
    quiet_done(&q);
}

/* ---- a flood of request messages ---- */

#define FLOOD (65534 / 7) /* list_services requests of 7 bytes each, in 64 KiB */
#define REFLECT_PATH "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"

/* What the helper server's connections did, in memory shared with it: request messages
 * handed to methods, and the most in one feed. */
typedef struct taken {
    size_t messages, most_in_a_feed;
} taken;

static taken *seen;
static size_t this_feed; /* the helper's, on its loop thread */

static void count_message(gstream *s, const uint8_t *p, size_t n)
{
    this_feed++;
    __atomic_add_fetch(&seen->messages, 1, __ATOMIC_RELAXED);
    gmethods_message(s, p, n);
}

static const gconn_hooks counted = {
    .bind = gmethods_bind,
    .message = count_message,
    .input_done = gmethods_input_done,
    .more = gmethods_more,
    .shutdown = gmethods_shutdown,
    .abandon = gunary_abandon,
};

static void *counted_open(server_conn *sc, size_t max_message)
{
    char err[256];
    grpcserver_add_methods(NULL, 0, err, sizeof err); /* the server's own */
    return gconn_open(sc, max_message, &counted);
}

static feed_result counted_feed(void *state, buf *in, buf *out, bool eof, char *err, size_t errlen)
{
    this_feed = 0;
    feed_result r = gconn_feed(state, in, out, eof, err, errlen);
    tk_note_max(&seen->most_in_a_feed, this_feed);
    return r;
}

static const server_codec *counted_codec(void)
{
    static server_codec c;
    c = grpcserver_codec;
    c.open_conn = counted_open;
    c.feed = counted_feed;
    return &c;
}

static void frame(buf *b, uint8_t type, uint8_t flags, uint32_t sid, const void *p, size_t n)
{
    uint8_t h[9] = {(uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n, type, flags,
                    (uint8_t)(sid >> 24), (uint8_t)(sid >> 16), (uint8_t)(sid >> 8), (uint8_t)sid};
    buf_append(b, h, 9);
    if (n)
        buf_append(b, p, n);
}

/* A header field as a literal without indexing, new name, no Huffman coding. */
static void literal(buf *b, const char *name, const char *val)
{
    uint8_t z = 0, nl = (uint8_t)strlen(name), vl = (uint8_t)strlen(val);
    buf_append(b, &z, 1);
    buf_append(b, &nl, 1);
    buf_append(b, name, nl);
    buf_append(b, &vl, 1);
    buf_append(b, val, vl);
}

static void window_update(buf *b, uint32_t sid, uint32_t by)
{
    uint8_t p[4] = {(uint8_t)(by >> 24), (uint8_t)(by >> 16), (uint8_t)(by >> 8), (uint8_t)by};
    frame(b, 8, 0, sid, p, 4);
}

/* Reads frames from fd until stream 1's trailers (HEADERS with END_STREAM) or the
 * deadline; appends stream 1's DATA payload to data. Returns whether the trailers came. */
static bool read_stream(int fd, buf *data, uint64_t deadline)
{
    buf in;
    buf_init(&in, 0);
    bool done = false;
    while (!done && tk_read_until(fd, &in, buf_size(&in) + 1, deadline) > 0) {
        while (buf_size(&in) >= 9) {
            const uint8_t *p = buf_data(&in);
            size_t n = (size_t)p[0] << 16 | (size_t)p[1] << 8 | p[2];
            if (buf_size(&in) < 9 + n)
                break;
            uint32_t sid = ((uint32_t)p[5] << 24 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 8 | p[8]) &
                           0x7fffffff;
            if (sid == 1 && p[3] == 0)
                buf_append(data, p + 9, n);
            if (sid == 1 && p[3] == 1 && (p[4] & 1))
                done = true;
            buf_consume(&in, 9 + n);
        }
        if (clock_now_ms() >= deadline)
            break;
    }
    buf_done(&in);
    return done;
}

Test(grpcserver, a_flood_of_requests_is_taken_a_share_per_turn_and_waits_for_unread_replies, HELPER)
{
    seen = mmap(NULL, sizeof *seen, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(seen, MAP_FAILED);
    tk_server ts;
    const char *opts[] = {"--listen", "127.0.0.1:0", "--quiet", NULL};
    tk_server_start(&ts, counted_codec(), opts);
    int fd = tk_connect(ts.addr);

    /* No window for the replies (SETTINGS_INITIAL_WINDOW_SIZE 0), but a large one for
     * the connection; then 64 KiB of list_services requests on one stream. */
    buf b;
    buf_init(&b, 0);
    buf_append(&b, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
    uint8_t settings[6] = {0, 4, 0, 0, 0, 0};
    frame(&b, 4, 0, 0, settings, 6);
    window_update(&b, 0, 0x7fffffff - 65535);
    buf hdrs;
    buf_init(&hdrs, 0);
    literal(&hdrs, ":method", "POST");
    literal(&hdrs, ":scheme", "http");
    literal(&hdrs, ":path", REFLECT_PATH);
    literal(&hdrs, ":authority", "localhost");
    literal(&hdrs, "content-type", "application/grpc");
    literal(&hdrs, "te", "trailers");
    frame(&b, 1, 0x4, 1, buf_data(&hdrs), buf_size(&hdrs));
    buf_done(&hdrs);
    static uint8_t body[FLOOD * 7];
    for (size_t i = 0; i < FLOOD; i++)
        memcpy(body + 7 * i, "\x00\x00\x00\x00\x02\x3a\x00", 7);
    for (size_t at = 0; at < sizeof body; at += 16384)
        frame(&b, 0, 0, 1, body + at, sizeof body - at < 16384 ? sizeof body - at : 16384);
    tk_send(fd, buf_data(&b), buf_size(&b));
    buf_clear(&b);

    /* Until the server has taken nothing more for 300 ms (at most 5 s). */
    uint64_t deadline = clock_now_ms() + 5000, still = clock_now_ms();
    size_t had = 0;
    while (clock_now_ms() < deadline && (had == 0 || clock_now_ms() - still < 300)) {
        clock_sleep_ms(20);
        size_t now = __atomic_load_n(&seen->messages, __ATOMIC_RELAXED);
        if (now != had)
            had = now, still = clock_now_ms();
    }
    cr_assert_gt(had, 0, "the server answered some of the requests");
    cr_assert_lt(had, FLOOD / 4, "with no window for the replies, the stream's requests wait (%zu of %d taken)",
                 had, FLOOD);
    size_t most = __atomic_load_n(&seen->most_in_a_feed, __ATOMIC_RELAXED);
    cr_assert_leq(most, 256, "a connection's methods take a share of messages per turn, took %zu", most);

    /* Once the client takes the replies, every request is answered, then the call ends. */
    window_update(&b, 1, 0x7fffffff);
    frame(&b, 0, 0x1, 1, NULL, 0);
    tk_send(fd, buf_data(&b), buf_size(&b));
    buf data;
    buf_init(&data, 0);
    cr_assert(read_stream(fd, &data, clock_now_ms() + 20000), "the call ended with its trailers");
    size_t replies = 0, at = 0;
    const uint8_t *p = buf_data(&data);
    while (at + 5 <= buf_size(&data)) {
        size_t n = (size_t)p[at + 1] << 24 | (size_t)p[at + 2] << 16 | (size_t)p[at + 3] << 8 | p[at + 4];
        cr_assert_leq(at + 5 + n, buf_size(&data));
        cr_assert(n == ((size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 | p[4]) &&
                  memcmp(p + at, p, 5 + n) == 0, "reply %zu is the same answer as the first", replies);
        at += 5 + n;
        replies++;
    }
    cr_assert_eq(at, buf_size(&data));
    cr_assert_eq(replies, FLOOD, "every request was answered once");
    cr_assert_gt(__atomic_load_n(&seen->most_in_a_feed, __ATOMIC_RELAXED), 0);
    cr_assert_leq(__atomic_load_n(&seen->most_in_a_feed, __ATOMIC_RELAXED), 256);
    buf_done(&data);
    buf_done(&b);
    close(fd);
    tk_server_stop(&ts, SIGTERM);
}
