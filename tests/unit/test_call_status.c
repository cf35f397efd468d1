/* test_call_status.c -- a call's outcome reaches the caller as a gRPC status code
 * (rpcclient_status, lb_result.status), not only as text. The peers are small fakes on
 * loopback: a listener that never answers, one that hangs up, a JSON-RPC server that
 * answers every request with an error. */
#include <criterion/criterion.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/net.h"
#include "rpc/balancer.h"
#include "rpc/rpcclient.h"
#include "wire/grpc_status.h"
#include "wire/jsonval.h"

typedef enum fake_kind { FAKE_SILENT, FAKE_HANGUP, FAKE_JSON_ERROR } fake_kind;

typedef struct fake {
    int fd;
    char addr[64];
    fake_kind kind;
    pthread_t thread;
} fake;

/* Accepts one connection and plays its part. A silent fake accepts nothing: the
 * kernel's backlog completes the connection, and no byte ever comes back. */
static void *fake_main(void *arg)
{
    fake *f = arg;
    struct pollfd p = {.fd = f->fd, .events = POLLIN};
    if (poll(&p, 1, 5000) != 1)
        return NULL;
    int c = accept(f->fd, NULL, NULL);
    if (c < 0)
        return NULL;
    if (f->kind == FAKE_JSON_ERROR) {
        char in[4096];
        size_t n = 0;
        while (n < sizeof in && !memchr(in, '\n', n)) {
            ssize_t r = recv(c, in + n, sizeof in - n, 0);
            if (r <= 0)
                break;
            n += (size_t)r;
        }
        static const char reply[] = "{\"id\":0,\"result\":null,\"error\":\"no such user\"}\n";
        if (send(c, reply, sizeof reply - 1, MSG_NOSIGNAL) < 0) { /* the test then fails on its own */ }
        char rest[64];
        while (recv(c, rest, sizeof rest, 0) > 0) /* until the client closes */
            ;
    }
    close(c);
    return NULL;
}

static void fake_start(fake *f, fake_kind kind)
{
    char err[128];
    f->kind = kind;
    f->fd = net_listen("127.0.0.1:0", err, sizeof err);
    cr_assert_geq(f->fd, 0, "%s", err);
    net_local_addr(f->fd, f->addr, sizeof f->addr);
    if (kind != FAKE_SILENT)
        cr_assert_eq(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

static void fake_stop(fake *f)
{
    if (f->kind != FAKE_SILENT)
        pthread_join(f->thread, NULL);
    close(f->fd);
}

static value *greeting(void)
{
    char err[128];
    value *v = jsonval_parse("{\"name\":\"ada\"}", 14, err, sizeof err);
    cr_assert_not_null(v, "%s", err);
    return v;
}

/* Calls the fake at scheme+addr and returns the client, for its status. */
static rpcclient *call_fake(const char *scheme, const fake *f, const char *method, int timeout_ms,
                            call_status *st, char *err, size_t errlen)
{
    char url[128];
    snprintf(url, sizeof url, "%s%s", scheme, f->addr);
    rpcclient *c = rpcclient_dial(url, 1000, err, errlen);
    cr_assert_not_null(c, "%s", err);
    value *arg = greeting(), *reply = NULL;
    *st = rpcclient_call(c, method, arg, timeout_ms, &reply, err, errlen);
    value_free(arg);
    value_free(reply);
    return c;
}

Test(call_status, grpc_deadline_is_a_code)
{
    fake f;
    fake_start(&f, FAKE_SILENT);
    char err[512];
    call_status st;
    rpcclient *c = call_fake("grpc://", &f, "/helloworld.Greeter/SayHello", 100, &st, err, sizeof err);
    cr_assert_eq(st, CALL_FAILED);
    cr_assert_eq(rpcclient_status(c), GRPC_DEADLINE_EXCEEDED, "status %d: %s", rpcclient_status(c), err);
    cr_assert_str_empty(rpcclient_status_message(c));
    rpcclient_free(c);
    fake_stop(&f);
}

Test(call_status, grpc_hangup_is_unavailable)
{
    fake f;
    fake_start(&f, FAKE_HANGUP);
    char err[512];
    call_status st;
    rpcclient *c = call_fake("grpc://", &f, "/helloworld.Greeter/SayHello", 2000, &st, err, sizeof err);
    cr_assert_eq(st, CALL_FAILED);
    cr_assert_eq(rpcclient_status(c), GRPC_UNAVAILABLE, "status %d: %s", rpcclient_status(c), err);
    rpcclient_free(c);
    fake_stop(&f);
}

Test(call_status, unknown_grpc_method_is_invalid_argument)
{
    fake f;
    fake_start(&f, FAKE_SILENT);
    char err[512];
    call_status st;
    rpcclient *c = call_fake("grpc://", &f, "/no.Such/Method", 100, &st, err, sizeof err);
    cr_assert_eq(st, CALL_BAD_ARGUMENT);
    cr_assert_eq(rpcclient_status(c), GRPC_INVALID_ARGUMENT);
    rpcclient_free(c);
    fake_stop(&f);
}

Test(call_status, json_deadline_is_a_code)
{
    fake f;
    fake_start(&f, FAKE_SILENT);
    char err[512];
    call_status st;
    rpcclient *c = call_fake("json://", &f, "Greeter.SayHello", 100, &st, err, sizeof err);
    cr_assert_eq(st, CALL_FAILED);
    cr_assert_eq(rpcclient_status(c), GRPC_DEADLINE_EXCEEDED, "status %d: %s", rpcclient_status(c), err);
    rpcclient_free(c);
    fake_stop(&f);
}

Test(call_status, json_error_is_unknown_with_its_message)
{
    fake f;
    fake_start(&f, FAKE_JSON_ERROR);
    char err[512];
    call_status st;
    rpcclient *c = call_fake("json://", &f, "Greeter.SayHello", 2000, &st, err, sizeof err);
    cr_assert_eq(st, CALL_REMOTE_ERROR, "%s", err);
    cr_assert_eq(rpcclient_status(c), GRPC_UNKNOWN);
    cr_assert_str_eq(rpcclient_status_message(c), "no such user");
    cr_assert_str_eq(err, "no such user");
    rpcclient_free(c);
    fake_stop(&f);
}

Test(call_status, balancer_without_instances_is_unavailable)
{
    balancer *b = balancer_new(PROTO_GRPC, PICK_ROUND_ROBIN, 100);
    value *arg = greeting(), *reply = NULL;
    lb_result res;
    char err[256];
    call_status st = balancer_call(b, "/helloworld.Greeter/SayHello", arg, true, &reply, &res, err, sizeof err);
    cr_assert_eq(st, CALL_FAILED);
    cr_assert_eq(res.instance, -1);
    cr_assert_eq(res.status, GRPC_UNAVAILABLE);
    value_free(arg);
    balancer_free(b);
}

Test(call_status, balancer_carries_the_deadline)
{
    fake f;
    fake_start(&f, FAKE_SILENT);
    balancer *b = balancer_new(PROTO_GRPC, PICK_ROUND_ROBIN, 100);
    cr_assert_geq(balancer_add(b, f.addr), 0);
    value *arg = greeting(), *reply = NULL;
    lb_result res;
    char err[256];
    call_status st = balancer_call(b, "/helloworld.Greeter/SayHello", arg, false, &reply, &res, err, sizeof err);
    cr_assert_eq(st, CALL_FAILED);
    cr_assert_eq(res.instance, 0);
    cr_assert_eq(res.status, GRPC_DEADLINE_EXCEEDED, "status %d: %s", res.status, err);
    value_free(arg);
    balancer_free(b);
    fake_stop(&f);
}
