/* test_grpcmux.c -- the asynchronous gRPC client against real servers: bin/grpc-server,
 * bin/user-server (metadata) and grpc-go's Greeter (tests/go/greeter, when built): calls,
 * a thousand at once on one connection, deadlines, refused and dying servers, GOAWAY,
 * and the frames each call costs. */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "testkit.h"

#include "arith.pb-c.h"
#include "base/bindir.h"
#include "helloworld.pb-c.h"
#include "proc/spawn.h"
#include "rpc/grpcmux.h"
#include "rpc/loop.h"
#include "user.pb-c.h"

#define DEADLINE .timeout = 60

/* The repository's root, from the test's own place (build/tests/). */
static void root_dir(char *out, size_t n)
{
    char dir[PATH_MAX - 16];
    cr_assert_eq(bindir_get(dir, sizeof dir), 0);
    snprintf(out, n, "%s/../..", dir);
}

/* Starts rel with --listen 127.0.0.1:0 (and --quiet for ours), env NAME=VALUE when given:
 * bin/ programs from make's BIN (bin, or a sanitizer build's own), the others from the
 * repository's root. Returns false when the program is not built. */
static bool peer_start(tk_server *p, const char *rel, bool ours, const char *env)
{
    char root[PATH_MAX], path[PATH_MAX + 64];
    const char *bin = getenv("BIN");
    if (bin && strncmp(rel, "bin/", 4) == 0) {
        snprintf(path, sizeof path, "%s/%s", bin, rel + 4);
    } else {
        root_dir(root, sizeof root);
        snprintf(path, sizeof path, "%s/%s", root, rel);
        if (access(path, X_OK) != 0) /* a build folder deeper than build/ */
            snprintf(path, sizeof path, "%s", rel);
    }
    const char *args[] = {"--listen", "127.0.0.1:0", ours ? "--quiet" : NULL, NULL};
    return tk_program_start(p, path, args, env);
}

/* Ends p, also when it is stopped (SIGSTOP). */
static void peer_stop(tk_server *p)
{
    if (p->pid > 0)
        kill(p->pid, SIGCONT);
    tk_server_stop(p, SIGKILL);
}

/* ---- calls and what came back ---- */

typedef struct outcome {
    bool done;
    int calls; /* callbacks run: must end at 1 */
    int status;
    char message[256];
    bool conn_failed, unsent;
    uint8_t msg[256];
    size_t len;
    uint64_t at; /* clock_now_ms() when it ended */
    int64_t want; /* the product expected */
} outcome;

static loop *L;
static int pending;  /* callbacks still to come */
static bool inside;  /* a grpcmux_call is running */

static void on_done(void *ud, const grpcmux_reply *r)
{
    cr_assert_not(inside, "a callback ran inside grpcmux_call");
    outcome *o = ud;
    o->calls++;
    o->done = true;
    o->status = r->status;
    snprintf(o->message, sizeof o->message, "%s", r->message);
    o->conn_failed = r->conn_failed;
    o->unsent = r->unsent;
    o->len = r->len < sizeof o->msg ? r->len : sizeof o->msg;
    if (r->msg)
        memcpy(o->msg, r->msg, o->len);
    else
        cr_assert_eq(r->len, 0);
    o->at = clock_now_ms();
    if (--pending == 0)
        loop_stop(L);
}

static void stop_loop(loop *l, void *ud)
{
    (void)ud;
    loop_stop(l);
}

/* Runs the loop until every call has ended or ms pass. */
static void run_for(int ms)
{
    uint64_t t = loop_timer(L, (uint64_t)ms, stop_loop, NULL);
    if (pending > 0 || ms > 0)
        loop_run(L);
    loop_timer_cancel(L, t);
}

static void call(grpcmux *m, const char *path, const uint8_t *req, size_t len, int timeout_ms, outcome *o)
{
    pending++;
    inside = true;
    grpcmux_call(m, path, req, len, timeout_ms, on_done, o);
    inside = false;
}

static void multiply(grpcmux *m, int64_t a, int64_t b, int timeout_ms, outcome *o)
{
    Arith__Args args = ARITH__ARGS__INIT;
    args.a = a;
    args.b = b;
    uint8_t req[64];
    size_t n = arith__args__pack(&args, req);
    o->want = a * b;
    call(m, "/arith.Arith/Multiply", req, n, timeout_ms, o);
}

static int64_t product_of(const outcome *o)
{
    Arith__Product *p = arith__product__unpack(NULL, o->len, o->msg);
    cr_assert_not_null(p, "the reply is not an arith.Product");
    int64_t v = p->value;
    arith__product__free_unpacked(p, NULL);
    return v;
}

static grpcmux *dial(const char *addr)
{
    char err[256] = "";
    grpcmux *m = grpcmux_new(L, addr, 2000, err, sizeof err);
    cr_assert_not_null(m, "%s", err);
    return m;
}

/* Starts bin/grpc-server in s and dials it; one call is made and answered first, so that
 * the connection's own frames are behind. */
static grpcmux *dial_warm(tk_server *s)
{
    cr_assert(peer_start(s, "bin/grpc-server", true, NULL), "bin/grpc-server is missing: run make all");
    grpcmux *m = dial(s->addr);
    outcome warm = {0};
    multiply(m, 2, 3, 5000, &warm);
    run_for(5000);
    cr_assert_eq(warm.status, GRPC_OK, "%d %s", warm.status, warm.message);
    return m;
}

static void setup(void)
{
    char err[256];
    L = loop_new(err, sizeof err);
    cr_assert_not_null(L, "%s", err);
    pending = 0;
}

static void teardown(void) { loop_free(L); }

TestSuite(grpcmux, .init = setup, .fini = teardown);

Test(grpcmux, one_call, DEADLINE)
{
    tk_server s;
    cr_assert(peer_start(&s, "bin/grpc-server", true, NULL), "bin/grpc-server is missing: run make all");
    grpcmux *m = dial(s.addr);
    cr_assert_str_eq(grpcmux_addr(m), s.addr);
    outcome o = {0};
    multiply(m, 6, 7, 5000, &o);
    cr_assert_eq(grpcmux_in_flight(m), 1);
    cr_assert_not(o.done, "made before the connection is up: it waits for it");
    run_for(5000);
    cr_assert(o.done);
    cr_assert_eq(o.calls, 1);
    cr_assert_eq(o.status, GRPC_OK, "%d %s", o.status, o.message);
    cr_assert_eq(product_of(&o), 42);
    cr_assert_eq(grpcmux_in_flight(m), 0);
    cr_assert(grpcmux_usable(m));
    outcome bad = {0}; /* a method the server does not have: its status, not ours */
    call(m, "/arith.Arith/Nothing", (const uint8_t *)"", 0, 5000, &bad);
    run_for(5000);
    cr_assert_eq(bad.status, GRPC_UNIMPLEMENTED, "%d %s", bad.status, bad.message);
    cr_assert_not(bad.conn_failed);
    cr_assert(grpcmux_usable(m));
    grpcmux_free(m);
    peer_stop(&s);
}

Test(grpcmux, a_thousand_calls_at_once_on_one_connection, DEADLINE)
{
    enum { N = 1000 };
    tk_server s;
    grpcmux *m = dial_warm(&s);
    grpcmux_stats before, after;
    grpcmux_get_stats(m, &before);
    outcome *o = calloc(N, sizeof *o);
    for (int i = 0; i < N; i++)
        multiply(m, i, i + 3, 20000, &o[i]);
    cr_assert_eq(grpcmux_in_flight(m), N);
    run_for(20000);
    for (int i = 0; i < N; i++) {
        cr_assert_eq(o[i].calls, 1, "call %d", i);
        cr_assert_eq(o[i].status, GRPC_OK, "call %d: %d %s", i, o[i].status, o[i].message);
        cr_assert_eq(product_of(&o[i]), o[i].want, "call %d", i);
    }
    grpcmux_get_stats(m, &after);
    uint64_t frames = 0;
    for (int t = 0; t < 10; t++)
        frames += after.frames_sent[t] - before.frames_sent[t];
    uint64_t headers = after.frames_sent[1] - before.frames_sent[1], data = after.frames_sent[0] - before.frames_sent[0];
    cr_log_info("%d calls: %llu frames sent (%llu HEADERS, %llu DATA, %llu WINDOW_UPDATE), %llu writes, %llu reads",
                N, (unsigned long long)frames, (unsigned long long)headers, (unsigned long long)data,
                (unsigned long long)(after.frames_sent[8] - before.frames_sent[8]),
                (unsigned long long)(after.writes - before.writes), (unsigned long long)(after.reads - before.reads));
    cr_assert_eq(headers, N, "one HEADERS frame per call");
    cr_assert_eq(data, N, "one DATA frame per call, END_STREAM on it");
    cr_assert_eq(after.frames_sent[3] - before.frames_sent[3], 0, "no RST_STREAM");
    cr_assert_leq(frames, 2 * N + 2, "two frames per call (and a PING or SETTINGS ACK at most)");
    cr_assert_lt(after.writes - before.writes, N / 4, "writes are coalesced, not one per call");
    free(o);
    grpcmux_free(m);
    peer_stop(&s);
}

Test(grpcmux, a_call_past_its_deadline_ends_with_deadline_exceeded, DEADLINE)
{
    tk_server s;
    grpcmux *m = dial_warm(&s);
    kill(s.pid, SIGSTOP);
    outcome o = {0}, later = {0};
    uint64_t t0 = clock_now_ms();
    multiply(m, 4, 5, 200, &o);
    multiply(m, 4, 6, 5000, &later); /* a later deadline stays */
    pending--;                       /* wait only for the first */
    run_for(5000);
    pending++;
    cr_assert(o.done);
    cr_assert_eq(o.status, GRPC_DEADLINE_EXCEEDED, "%d %s", o.status, o.message);
    cr_assert_str_eq(o.message, "no reply within 200 ms");
    cr_assert_not(o.conn_failed);
    uint64_t took = o.at - t0;
    cr_assert(took >= 195 && took < 1000, "ended after %llu ms", (unsigned long long)took);
    cr_assert_not(later.done);
    kill(s.pid, SIGCONT);
    run_for(5000);
    cr_assert_eq(later.status, GRPC_OK, "%d %s", later.status, later.message);
    cr_assert_eq(product_of(&later), 24);
    grpcmux_stats st;
    grpcmux_get_stats(m, &st);
    cr_assert_eq(st.frames_sent[3], 1, "the late call's stream was reset");
    cr_assert(grpcmux_usable(m));
    grpcmux_free(m);
    peer_stop(&s);
}

Test(grpcmux, a_refused_port_fails_the_calls_unsent, DEADLINE)
{
    int port = spawn_free_port();
    cr_assert_gt(port, 0);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    grpcmux *m = dial(addr);
    outcome o[3] = {0};
    for (int i = 0; i < 3; i++)
        multiply(m, 1, i, 5000, &o[i]);
    run_for(5000);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(o[i].calls, 1);
        cr_assert_eq(o[i].status, GRPC_UNAVAILABLE);
        cr_assert(o[i].conn_failed);
        cr_assert(o[i].unsent);
        cr_assert(strstr(o[i].message, "refused"), "%s", o[i].message);
    }
    cr_assert_not(grpcmux_usable(m));
    outcome after = {0}; /* a call on a failed connection: at once, but not from inside */
    multiply(m, 1, 1, 5000, &after);
    cr_assert_not(after.done);
    run_for(5000);
    cr_assert_eq(after.status, GRPC_UNAVAILABLE);
    cr_assert(after.conn_failed && after.unsent);
    grpcmux_free(m);
    char err[256];
    cr_assert_null(grpcmux_new(L, "no-port", 1000, err, sizeof err));
}

Test(grpcmux, a_server_killed_mid_call_fails_it_as_sent, DEADLINE)
{
    tk_server s;
    grpcmux *m = dial_warm(&s);
    kill(s.pid, SIGSTOP);
    outcome o = {0};
    multiply(m, 3, 3, 10000, &o);
    run_for(100); /* its frames go out */
    cr_assert_not(o.done);
    tk_server_stop(&s, SIGKILL); /* stopped as it is: it answers nothing more */
    run_for(5000);
    cr_assert_eq(o.calls, 1);
    cr_assert_eq(o.status, GRPC_UNAVAILABLE, "%d %s", o.status, o.message);
    cr_assert(o.conn_failed);
    cr_assert_not(o.unsent, "its bytes had reached the socket");
    cr_assert_not(grpcmux_usable(m));
    grpcmux_free(m);
}

Test(grpcmux, goaway_on_sigterm_makes_it_unusable, DEADLINE)
{
    tk_server s;
    grpcmux *m = dial_warm(&s);
    kill(s.pid, SIGTERM);
    for (int i = 0; i < 100 && grpcmux_usable(m); i++)
        run_for(50);
    cr_assert_not(grpcmux_usable(m), "GOAWAY (or the close) within 5 s");
    outcome o = {0};
    multiply(m, 3, 3, 5000, &o);
    run_for(5000);
    cr_assert_eq(o.status, GRPC_UNAVAILABLE);
    cr_assert(o.conn_failed && o.unsent);
    grpcmux_free(m);
    peer_stop(&s);
}

Test(grpcmux, metadata_reaches_the_server, DEADLINE)
{
    tk_server s;
    cr_assert(peer_start(&s, "bin/user-server", true, "WB_CALLER_SECRET=mux-test-secret"));
    User__Token tok = USER__TOKEN__INIT;
    tok.token = "not-a-token";
    uint8_t req[64];
    size_t n = user__token__pack(&tok, req);
    grpcmux *m = dial(s.addr);
    char err[256];
    cr_assert_eq(grpcmux_set_metadata(m, "grpc-x", "v", err, sizeof err), -1, "grpc- is gRPC's own");
    outcome without = {0}, with = {0};
    call(m, "/user.User/Verify", req, n, 5000, &without);
    run_for(5000);
    cr_assert_eq(without.status, GRPC_UNAUTHENTICATED, "%d %s", without.status, without.message);
    cr_assert(strstr(without.message, "wb-caller-secret"), "%s", without.message);
    cr_assert_eq(grpcmux_set_metadata(m, "wb-caller-secret", "wrong", err, sizeof err), 0, "%s", err);
    cr_assert_eq(grpcmux_set_metadata(m, "wb-caller-secret", "mux-test-secret", err, sizeof err), 0, "%s", err);
    call(m, "/user.User/Verify", req, n, 5000, &with);
    run_for(5000);
    cr_assert(with.done);
    cr_assert_not(strstr(with.message, "wb-caller-secret"), "the secret was taken: %d %s", with.status,
                  with.message);
    cr_assert_neq(with.status, GRPC_OK, "a token that is not one");
    grpcmux_free(m);
    peer_stop(&s);
}

Test(grpcmux, calls_grpc_go_greeter, DEADLINE)
{
    tk_server s;
    if (!peer_start(&s, "build/go/greeter", false, NULL)) {
        cr_skip_test("build/go/greeter is not built (tests/integration/lib.sh's build_go greeter)");
        return;
    }
    grpcmux *m = dial(s.addr);
    Helloworld__HelloRequest hr = HELLOWORLD__HELLO_REQUEST__INIT;
    hr.name = "mux";
    uint8_t req[64];
    size_t n = helloworld__hello_request__pack(&hr, req);
    outcome o[50] = {0};
    for (int i = 0; i < 50; i++)
        call(m, "/helloworld.Greeter/SayHello", req, n, 5000, &o[i]);
    run_for(5000);
    for (int i = 0; i < 50; i++) {
        cr_assert_eq(o[i].status, GRPC_OK, "%d %s", o[i].status, o[i].message);
        Helloworld__HelloReply *rep = helloworld__hello_reply__unpack(NULL, o[i].len, o[i].msg);
        cr_assert_not_null(rep);
        cr_assert_str_eq(rep->message, "Hello mux");
        helloworld__hello_reply__free_unpacked(rep, NULL);
    }
    outcome bad = {0};
    call(m, "/helloworld.Greeter/Nope", req, n, 5000, &bad);
    run_for(5000);
    cr_assert_eq(bad.status, GRPC_UNIMPLEMENTED, "%d %s", bad.status, bad.message);
    cr_assert(strlen(bad.message) > 0, "grpc-go's message");
    grpcmux_stats st;
    grpcmux_get_stats(m, &st);
    cr_assert_eq(st.frames_sent[1], 51);
    cr_assert_eq(st.frames_sent[0], 51);
    grpcmux_free(m);
    peer_stop(&s);
}

/* A callback that retries once on the same mux, from inside the callback. */
static outcome retry_second;
static void retry_once(void *ud, const grpcmux_reply *r)
{
    outcome *o = ud;
    on_done(o, r);
    if (o->calls == 1) {
        grpcmux *m = (grpcmux *)(uintptr_t)o->want;
        multiply(m, 5, 5, 5000, &retry_second);
    }
}

Test(grpcmux, a_callback_may_call_again, DEADLINE)
{
    tk_server s;
    cr_assert(peer_start(&s, "bin/grpc-server", true, NULL));
    grpcmux *m = dial(s.addr);
    outcome first = {.want = (int64_t)(uintptr_t)m};
    Arith__Args args = ARITH__ARGS__INIT;
    args.a = 3;
    args.b = 3;
    uint8_t req[64];
    size_t n = arith__args__pack(&args, req);
    pending++;
    grpcmux_call(m, "/arith.Arith/Multiply", req, n, 5000, retry_once, &first);
    run_for(5000);
    if (!retry_second.done)
        run_for(5000);
    cr_assert_eq(first.status, GRPC_OK);
    cr_assert_eq(retry_second.status, GRPC_OK, "%d %s", retry_second.status, retry_second.message);
    cr_assert_eq(product_of(&retry_second), 25);
    grpcmux_free(m);
    peer_stop(&s);
}

Test(grpcmux, free_ends_every_call_and_the_queue_is_bounded, DEADLINE)
{
    tk_server s;
    cr_assert(peer_start(&s, "bin/grpc-server", true, NULL));
    grpcmux *m = dial(s.addr);
    enum { N = 10001 };
    outcome *o = calloc(N, sizeof *o);
    for (int i = 0; i < N; i++)
        multiply(m, 1, i, 5000, &o[i]);
    cr_assert_eq(grpcmux_in_flight(m), N);
    cr_assert_not(o[N - 1].done, "not from inside grpcmux_call");
    grpcmux_free(m);
    for (int i = 0; i < N - 1; i++) {
        cr_assert_eq(o[i].calls, 1);
        cr_assert_eq(o[i].status, GRPC_CANCELLED, "%d %s", o[i].status, o[i].message);
        cr_assert_str_eq(o[i].message, "the client is closing");
        cr_assert(o[i].conn_failed);
        cr_assert(o[i].unsent);
    }
    cr_assert_eq(o[N - 1].status, GRPC_RESOURCE_EXHAUSTED, "%d %s", o[N - 1].status, o[N - 1].message);
    cr_assert_eq(o[N - 1].calls, 1);
    free(o);
    peer_stop(&s);
}

Test(grpcmux, goaway_with_calls_queued_refuses_those_the_server_never_took, DEADLINE)
{
    enum { N = 300 };
    tk_server s;
    grpcmux *m = dial_warm(&s);
    kill(s.pid, SIGSTOP);
    outcome *o = calloc(N, sizeof *o);
    for (int i = 0; i < N; i++)
        multiply(m, i, 2, 10000, &o[i]);
    run_for(100); /* 128 streams go out (the server's limit), the rest wait in the queue */
    kill(s.pid, SIGTERM);
    kill(s.pid, SIGCONT);
    run_for(10000);
    int ok = 0, unsent = 0;
    for (int i = 0; i < N; i++) {
        cr_assert_eq(o[i].calls, 1);
        if (o[i].status == GRPC_OK) {
            cr_assert_eq(product_of(&o[i]), o[i].want);
            ok++;
        } else {
            cr_assert_eq(o[i].status, GRPC_UNAVAILABLE, "call %d: %d %s", i, o[i].status, o[i].message);
            cr_assert(o[i].conn_failed && o[i].unsent, "call %d: %s", i, o[i].message);
            unsent++;
        }
    }
    cr_log_info("GOAWAY: %d calls answered, %d refused as not taken", ok, unsent);
    cr_assert_geq(unsent, N - 128, "the calls still queued were never sent");
    cr_assert_not(grpcmux_usable(m));
    free(o);
    grpcmux_free(m);
    peer_stop(&s);
}

/* Calls path on oddgrpc with a small message; returns what came back. */
static outcome odd_call(grpcmux *m, const char *path)
{
    outcome o = {0};
    call(m, path, (const uint8_t *)"\x08\x2a", 2, 5000, &o);
    run_for(5000);
    cr_assert_eq(o.calls, 1, "%s", path);
    return o;
}

Test(grpcmux, replies_that_are_not_what_grpc_allows, DEADLINE)
{
    tk_server s;
    if (!peer_start(&s, "build/go/oddgrpc", false, NULL)) {
        cr_skip_test("build/go/oddgrpc is not built (tests/integration/lib.sh's build_go oddgrpc)");
        return;
    }
    grpcmux *m = dial(s.addr);
    outcome o = odd_call(m, "/odd.Odd/Echo");
    cr_assert_eq(o.status, GRPC_OK, "%d %s", o.status, o.message);
    cr_assert_eq(o.len, 2);
    cr_assert(memcmp(o.msg, "\x08\x2a", 2) == 0);
    o = odd_call(m, "/odd.Odd/Compressed");
    cr_assert_eq(o.status, GRPC_INTERNAL);
    cr_assert_str_eq(o.message, "compressed replies are not supported");
    o = odd_call(m, "/odd.Odd/Big");
    cr_assert_eq(o.status, GRPC_RESOURCE_EXHAUSTED, "%d %s", o.status, o.message);
    cr_assert(strstr(o.message, "5242880"), "%s", o.message);
    o = odd_call(m, "/odd.Odd/Two");
    cr_assert_eq(o.status, GRPC_INTERNAL);
    cr_assert_str_eq(o.message, "more than one reply message to a unary call");
    o = odd_call(m, "/odd.Odd/NoStatus");
    cr_assert_eq(o.status, GRPC_INTERNAL);
    cr_assert_str_eq(o.message, "the reply ended without a grpc-status trailer");
    o = odd_call(m, "/odd.Odd/Message");
    cr_assert_eq(o.status, GRPC_INVALID_ARGUMENT);
    cr_assert_str_eq(o.message, "bad thing: 50% caf\xc3\xa9", "grpc-message percent-decoded");
    o = odd_call(m, "/odd.Odd/Html");
    cr_assert_eq(o.status, GRPC_INTERNAL);
    cr_assert_str_eq(o.message, "the server answered HTTP status 404, not a gRPC reply");
    o = odd_call(m, "/odd.Odd/Text");
    cr_assert_eq(o.status, GRPC_INTERNAL);
    cr_assert(strstr(o.message, "not gRPC"), "%s", o.message);
    o = odd_call(m, "/odd.Odd/Busy");
    cr_assert_eq(o.status, GRPC_UNAVAILABLE);
    cr_assert_not(o.conn_failed, "the server answered");
    cr_assert(grpcmux_usable(m), "a call's fault is not the connection's");
    o = odd_call(m, "/odd.Odd/Echo");
    cr_assert_eq(o.status, GRPC_OK);
    /* an answer before the request is all read: the call ends with it */
    size_t big = 3 << 20;
    uint8_t *req = calloc(1, big);
    outcome early = {0};
    call(m, "/odd.Odd/Early", req, big, 5000, &early);
    run_for(5000);
    free(req);
    cr_assert_eq(early.status, GRPC_OK, "%d %s", early.status, early.message);
    cr_assert_eq(early.len, 2);
    o = odd_call(m, "/odd.Odd/Echo");
    cr_assert_eq(o.status, GRPC_OK, "the connection goes on");
    grpcmux_stats st;
    grpcmux_get_stats(m, &st);
    cr_assert_geq(st.frames_sent[3], 3, "Compressed, Big and Two had their streams reset");
    grpcmux_free(m);
    peer_stop(&s);
}

Test(grpcmux, many_deadlines_at_once_with_calls_still_queued, DEADLINE)
{
    enum { N = 500 };
    tk_server s;
    grpcmux *m = dial_warm(&s);
    kill(s.pid, SIGSTOP);
    outcome *o = calloc(N, sizeof *o);
    uint64_t t0 = clock_now_ms();
    for (int i = 0; i < N; i++)
        multiply(m, i, 3, 300, &o[i]);
    run_for(5000);
    for (int i = 0; i < N; i++) {
        cr_assert_eq(o[i].calls, 1);
        cr_assert_eq(o[i].status, GRPC_DEADLINE_EXCEEDED, "call %d: %d %s", i, o[i].status, o[i].message);
        cr_assert(o[i].at - t0 >= 295 && o[i].at - t0 < 1500, "call %d ended after %llu ms", i,
                  (unsigned long long)(o[i].at - t0));
    }
    cr_assert_eq(grpcmux_in_flight(m), 0);
    kill(s.pid, SIGCONT);
    outcome after = {0};
    multiply(m, 7, 8, 5000, &after);
    run_for(5000);
    cr_assert_eq(after.status, GRPC_OK, "%d %s", after.status, after.message);
    cr_assert_eq(product_of(&after), 56);
    grpcmux_stats st;
    grpcmux_get_stats(m, &st);
    cr_assert_eq(st.frames_sent[3], st.frames_sent[1] - 2,
                 "one RST_STREAM for each expired call whose HEADERS left, none for those still queued");
    cr_assert_lt(st.frames_sent[1], N, "the calls that expired in the queue sent nothing");
    free(o);
    grpcmux_free(m);
    peer_stop(&s);
}

Test(grpcmux, a_connection_not_up_in_time_fails_the_calls_unsent, DEADLINE)
{
    /* a listener whose queue is full and never accepted: the kernel drops the SYNs */
    char err[256];
    int lfd = net_listen("127.0.0.1:0", err, sizeof err);
    cr_assert_geq(lfd, 0, "%s", err);
    cr_assert_eq(listen(lfd, 0), 0);
    char addr[80];
    net_local_addr(lfd, addr, sizeof addr);
    int filler[4];
    for (int i = 0; i < 4; i++) {
        filler[i] = net_connect_start(addr, err, sizeof err);
        cr_assert_geq(filler[i], 0, "%s", err);
    }
    clock_sleep_ms(100);
    grpcmux *m = grpcmux_new(L, addr, 300, err, sizeof err);
    cr_assert_not_null(m, "%s", err);
    outcome o = {0};
    uint64_t t0 = clock_now_ms();
    multiply(m, 1, 2, 5000, &o);
    run_for(5000);
    cr_assert_eq(o.calls, 1);
    cr_assert_eq(o.status, GRPC_UNAVAILABLE, "%d %s", o.status, o.message);
    cr_assert(strstr(o.message, "not connected within 300 ms"), "%s", o.message);
    cr_assert(o.conn_failed && o.unsent);
    cr_assert(o.at - t0 >= 250 && o.at - t0 < 2000, "after %llu ms", (unsigned long long)(o.at - t0));
    grpcmux_free(m);
    for (int i = 0; i < 4; i++)
        close(filler[i]);
    close(lfd);
}

/* Large replies: each checked whole in its callback. */
static const char *big_name;
static int big_ok;
static void check_hello(void *ud, const grpcmux_reply *r)
{
    outcome *o = ud;
    if (r->status == GRPC_OK) {
        Helloworld__HelloReply *rep = helloworld__hello_reply__unpack(NULL, r->len, r->msg);
        big_ok += rep && strncmp(rep->message, "Hello ", 6) == 0 && strcmp(rep->message + 6, big_name) == 0;
        if (rep)
            helloworld__hello_reply__free_unpacked(rep, NULL);
    }
    grpcmux_reply keep = *r;
    keep.msg = NULL;
    keep.len = 0;
    on_done(o, &keep);
}

Test(grpcmux, large_requests_and_replies, DEADLINE)
{
    enum { N = 16, NAME = 300000 }; /* within grpc-server's --conn-budget (8 MiB) */
    tk_server s;
    cr_assert(peer_start(&s, "bin/grpc-server", true, NULL));
    grpcmux *m = dial(s.addr);
    char *name = malloc(NAME + 1);
    for (int i = 0; i < NAME; i++)
        name[i] = (char)('a' + i % 26);
    name[NAME] = '\0';
    big_name = name;
    big_ok = 0;
    Helloworld__HelloRequest hr = HELLOWORLD__HELLO_REQUEST__INIT;
    hr.name = name;
    size_t n = helloworld__hello_request__get_packed_size(&hr);
    uint8_t *req = malloc(n);
    helloworld__hello_request__pack(&hr, req);
    outcome *o = calloc(N, sizeof *o);
    for (int i = 0; i < N; i++) {
        pending++;
        grpcmux_call(m, "/helloworld.Greeter/SayHello", req, n, 20000, check_hello, &o[i]);
    }
    run_for(20000);
    for (int i = 0; i < N; i++) {
        cr_assert_eq(o[i].calls, 1);
        cr_assert_eq(o[i].status, GRPC_OK, "call %d: %d %s", i, o[i].status, o[i].message);
    }
    cr_assert_eq(big_ok, N, "every reply whole");
    grpcmux_stats st;
    grpcmux_get_stats(m, &st);
    cr_log_info("%d calls of %zu bytes: %llu DATA frames, %llu WINDOW_UPDATE, %llu writes", N, n,
                (unsigned long long)st.frames_sent[0], (unsigned long long)st.frames_sent[8],
                (unsigned long long)st.writes);
    free(o);
    free(req);
    free(name);
    grpcmux_free(m);
    peer_stop(&s);
}
