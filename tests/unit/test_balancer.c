/* test_balancer.c -- unit tests for the client-side balancer: picking, ejection, backoff,
 * membership.
 *
 * A test marked "helper: JSON-RPC servers" runs the sample services as jsonrpc-server
 * does (server_main with jsonrpc_codec) in child processes. A refusing instance is a
 * loopback socket that is bound but not listening, so every connection is refused. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testkit.h"

#include "base/clock.h"
#include "rpc/balancer.h"
#include "rpc/jsonrpc_codec.h"
#include "rpc/server.h"
#include "services/services.h"
#include "value/value.h"

/* One deadline for every test of this program: Criterion's sandbox (BoxFort 0.1) leaks its
 * record of a deadline when a test that started later is due first, and AddressSanitizer
 * fails the run for that leak. */
#define DEADLINE .timeout = 30
#define HELPER .description = "helper: JSON-RPC servers", DEADLINE
#define NOHELPER .description = "a refusing loopback socket", DEADLINE
#define TIMEOUT_MS 5000

/* ---- helpers ---- */

/* A JSON-RPC sample server in a child process (the catalog it serves is filled here first). */
static void start_json(tk_server *ts, const char *listen)
{
    cr_assert_geq(services_register(NULL, 0), 0);
    tk_server_start(ts, &jsonrpc_codec, (const char *[]){"--quiet", "--listen", listen ? listen : "127.0.0.1:0", NULL});
}

/* An address on which connections are refused, held by *fd until it is closed. */
static void refusing(int *fd, char *addr, size_t n)
{
    *fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_geq(*fd, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(*fd, (struct sockaddr *)&sa, sizeof sa), 0);
    cr_assert_eq(net_local_addr(*fd, addr, n), 0);
}

static balancer *new_balancer(pick_policy policy)
{
    cr_assert_geq(services_register(NULL, 0), 0);
    balancer *b = balancer_new(PROTO_JSON, policy, TIMEOUT_MS);
    cr_assert_not_null(b);
    return b;
}

/* A refusing instance first, then a live JSON-RPC server, in one balancer. */
typedef struct pair {
    int rfd;
    char raddr[80];
    tk_server ts;
    balancer *b;
} pair;

static void pair_start(pair *p, pick_policy policy)
{
    refusing(&p->rfd, p->raddr, sizeof p->raddr);
    start_json(&p->ts, NULL);
    p->b = new_balancer(policy);
    balancer_add(p->b, p->raddr);
    balancer_add(p->b, p->ts.addr);
}

static void pair_stop(pair *p)
{
    balancer_free(p->b);
    tk_server_stop(&p->ts, SIGTERM);
    close(p->rfd);
}

/* Arith.Multiply 6 * 7 through the balancer; checks the answer when the call succeeds. */
static call_status multiply(balancer *b, bool idempotent, lb_result *res)
{
    value *arg = value_struct(NULL), *reply = NULL;
    cr_assert_not_null(arg);
    cr_assert_eq(value_struct_set(arg, "A", value_int(6)), 0);
    cr_assert_eq(value_struct_set(arg, "B", value_int(7)), 0);
    char err[512] = "";
    call_status st = balancer_call(b, "Arith.Multiply", arg, idempotent, &reply, res, err, sizeof err);
    if (st == CALL_OK) {
        cr_assert_not_null(reply);
        cr_assert_eq(reply->kind, V_INT, "Arith.Multiply answered a %s", value_kind_name(reply->kind));
        cr_assert_eq(reply->u.i, 42);
    } else {
        cr_assert(err[0], "a failed call says why");
    }
    value_free(arg);
    value_free(reply);
    return st;
}

static const lb_instance *instance(const balancer *b, int i)
{
    size_t n;
    const lb_instance *in = balancer_instances(b, &n);
    cr_assert_lt((size_t)i, n);
    return &in[i];
}

/* ---- picking ---- */

Test(balancer, round_robin_spreads_calls_evenly, HELPER)
{
    tk_server ts[3];
    balancer *b = new_balancer(PICK_ROUND_ROBIN);
    for (int i = 0; i < 3; i++) {
        start_json(&ts[i], NULL);
        cr_assert_eq(balancer_add(b, ts[i].addr), i);
    }
    for (int k = 0; k < 30; k++) {
        lb_result res;
        cr_assert_eq(multiply(b, true, &res), CALL_OK);
        cr_assert_eq(res.instance, k % 3, "call %d went to %d", k, res.instance);
        cr_assert_eq(res.failed_on, -1);
    }
    for (int i = 0; i < 3; i++) {
        const lb_instance *in = instance(b, i);
        cr_assert_eq(in->calls, 10);
        cr_assert_eq(in->failures, 0);
        cr_assert_eq(in->nlat, 10, "each successful call's latency is kept");
        cr_assert_gt(balancer_percentile(in, 99), 0);
        cr_assert_leq(balancer_percentile(in, 50), balancer_percentile(in, 99));
    }
    balancer_free(b);
    for (int i = 0; i < 3; i++)
        tk_server_stop(&ts[i], SIGTERM);
}

Test(balancer, pick_first_sticks_to_the_first_instance, HELPER)
{
    tk_server ts[2];
    balancer *b = new_balancer(PICK_FIRST);
    for (int i = 0; i < 2; i++) {
        start_json(&ts[i], NULL);
        balancer_add(b, ts[i].addr);
    }
    for (int k = 0; k < 10; k++) {
        lb_result res;
        cr_assert_eq(multiply(b, true, &res), CALL_OK);
        cr_assert_eq(res.instance, 0);
    }
    cr_assert_eq(instance(b, 0)->calls, 10);
    cr_assert_eq(instance(b, 1)->calls, 0);
    balancer_free(b);
    for (int i = 0; i < 2; i++)
        tk_server_stop(&ts[i], SIGTERM);
}

Test(balancer, a_call_with_no_instance_fails_without_trying, NOHELPER)
{
    balancer *b = new_balancer(PICK_ROUND_ROBIN);
    lb_result res;
    cr_assert_eq(multiply(b, true, &res), CALL_FAILED);
    cr_assert_eq(res.instance, -1);
    cr_assert_eq(res.st, CALL_FAILED);
    balancer_add(b, "127.0.0.1:1");
    balancer_remove(b, "127.0.0.1:1");
    cr_assert_eq(multiply(b, true, &res), CALL_FAILED);
    cr_assert_eq(res.instance, -1, "an instance the registry dropped is not tried");
    cr_assert_eq(instance(b, 0)->calls, 0);
    balancer_free(b);
}

Test(balancer, an_error_reply_is_a_call_and_an_error_of_the_instance_that_answered, HELPER)
{
    tk_server ts;
    start_json(&ts, NULL);
    balancer *b = new_balancer(PICK_ROUND_ROBIN);
    balancer_add(b, ts.addr);
    value *arg = value_struct(NULL);
    cr_assert_not_null(arg);
    cr_assert_eq(value_struct_set(arg, "A", value_int(1)), 0);
    cr_assert_eq(value_struct_set(arg, "B", value_int(0)), 0);
    for (int k = 0; k < 4; k++) {
        value *reply = NULL;
        lb_result res;
        char err[512] = "";
        cr_assert_eq(balancer_call(b, "Arith.Divide", arg, true, &reply, &res, err, sizeof err), CALL_REMOTE_ERROR);
        cr_assert_eq(res.instance, 0, "the instance that answered is named");
        cr_assert_eq(res.failed_on, -1, "an answer is not retried");
        value_free(reply);
    }
    cr_assert_eq(multiply(b, true, NULL), CALL_OK);
    const lb_instance *in = instance(b, 0);
    cr_assert_eq(in->calls, 5);
    cr_assert_eq(in->errors, 4, "answered with an error: counted as its errors");
    cr_assert_eq(in->failures, 0, "an error reply is not a failed connection");
    cr_assert_eq(in->ejected_until, 0, "nor a reason to eject it");
    value_free(arg);
    balancer_free(b);
    tk_server_stop(&ts, SIGTERM);
}

/* ---- ejection and backoff ---- */

Test(balancer, a_failed_connection_is_retried_once_elsewhere_when_idempotent, HELPER)
{
    pair pr;
    pair_start(&pr, PICK_ROUND_ROBIN);
    balancer *b = pr.b;
    lb_result res;
    cr_assert_eq(multiply(b, true, &res), CALL_OK);
    cr_assert_eq(res.failed_on, 0);
    cr_assert_eq(res.instance, 1);
    cr_assert(res.first_error[0], "the first failure is reported");
    /* the refusing one is ejected: calls go to the other until its backoff has passed */
    for (int k = 0; k < 5; k++) {
        cr_assert_eq(multiply(b, true, &res), CALL_OK);
        cr_assert_eq(res.instance, 1);
        cr_assert_eq(res.failed_on, -1);
    }
    cr_assert_eq(instance(b, 0)->calls, 1);
    cr_assert_eq(instance(b, 0)->failures, 1);
    pair_stop(&pr);
}

Test(balancer, a_non_idempotent_call_is_not_retried, HELPER)
{
    pair pr;
    pair_start(&pr, PICK_ROUND_ROBIN);
    balancer *b = pr.b;
    lb_result res;
    cr_assert_eq(multiply(b, false, &res), CALL_FAILED);
    cr_assert_eq(res.instance, 0);
    cr_assert_eq(res.failed_on, -1);
    cr_assert_eq(instance(b, 1)->calls, 0);
    pair_stop(&pr);
}

Test(balancer, backoff_doubles_from_250_ms_to_5_s_and_stops_there, NOHELPER)
{
    int rfd;
    char raddr[80];
    refusing(&rfd, raddr, sizeof raddr);
    balancer *b = new_balancer(PICK_ROUND_ROBIN);
    balancer_add(b, raddr);
    const uint64_t want[] = {250, 500, 1000, 2000, 4000, 5000, 5000, 5000};
    for (int k = 0; k < 8; k++) {
        /* the only instance is tried even while ejected: it is the one due soonest */
        uint64_t before = clock_now_ms();
        lb_result res;
        cr_assert_eq(multiply(b, true, &res), CALL_FAILED);
        uint64_t after = clock_now_ms();
        const lb_instance *in = instance(b, 0);
        cr_assert_eq(res.instance, 0);
        cr_assert_eq(in->backoff_ms, want[k], "failure %d: backoff %llu ms", k + 1,
                     (unsigned long long)in->backoff_ms);
        cr_assert_geq(in->ejected_until, before + want[k]);
        cr_assert_leq(in->ejected_until, after + want[k]);
        cr_assert_eq(in->consecutive_failures, k + 1);
        cr_assert_eq(in->failures, (uint64_t)k + 1);
        cr_assert_null(in->conn);
    }
    balancer_free(b);
    close(rfd);
}

Test(balancer, an_ejected_instance_is_tried_again_once_its_backoff_has_passed, HELPER)
{
    pair pr;
    pair_start(&pr, PICK_FIRST);
    balancer *b = pr.b;
    lb_result res;
    cr_assert_eq(multiply(b, true, &res), CALL_OK);
    cr_assert_eq(res.failed_on, 0);
    cr_assert_eq(multiply(b, true, &res), CALL_OK);
    cr_assert_eq(res.failed_on, -1, "tried again before its backoff");
    uint64_t until = instance(b, 0)->ejected_until, now = clock_now_ms();
    clock_sleep_ms((until > now ? until - now : 0) + 50);
    cr_assert_eq(multiply(b, true, &res), CALL_OK);
    cr_assert_eq(res.failed_on, 0, "not tried again after its backoff");
    cr_assert_eq(instance(b, 0)->backoff_ms, 500);
    pair_stop(&pr);
}

Test(balancer, when_every_instance_is_ejected_the_one_due_soonest_is_tried, NOHELPER)
{
    int rfd[2];
    char raddr[2][80];
    balancer *b = new_balancer(PICK_ROUND_ROBIN);
    for (int i = 0; i < 2; i++) {
        refusing(&rfd[i], raddr[i], sizeof raddr[i]);
        balancer_add(b, raddr[i]);
    }
    const int want[] = {0, 1, 0, 1};
    for (int k = 0; k < 4; k++) {
        lb_result res;
        cr_assert_eq(multiply(b, false, &res), CALL_FAILED);
        cr_assert_eq(res.instance, want[k], "call %d went to %d", k, res.instance);
    }
    cr_assert_eq(instance(b, 0)->backoff_ms, 500);
    cr_assert_eq(instance(b, 1)->backoff_ms, 500);
    balancer_free(b);
    close(rfd[0]);
    close(rfd[1]);
}

/* The server goes away (its connection breaks, then connections are refused) and comes
 * back on the same address: the first success clears the backoff, the counts stay. */
Test(balancer, a_success_resets_the_backoff, HELPER)
{
    tk_server ts;
    start_json(&ts, NULL);
    char addr[80];
    snprintf(addr, sizeof addr, "%s", ts.addr);
    balancer *b = new_balancer(PICK_ROUND_ROBIN);
    balancer_add(b, addr);
    lb_result res;
    cr_assert_eq(multiply(b, true, &res), CALL_OK);
    tk_server_stop(&ts, SIGTERM);
    cr_assert_eq(multiply(b, true, &res), CALL_FAILED, "the old connection is gone");
    cr_assert_eq(multiply(b, true, &res), CALL_FAILED, "nothing listens");
    cr_assert_eq(instance(b, 0)->backoff_ms, 500);

    start_json(&ts, addr);
    cr_assert_eq(multiply(b, true, &res), CALL_OK);
    const lb_instance *in = instance(b, 0);
    cr_assert_eq(in->backoff_ms, 0);
    cr_assert_eq(in->ejected_until, 0);
    cr_assert_eq(in->consecutive_failures, 0);
    cr_assert_eq(in->failures, 2, "the failures are still counted");
    cr_assert_eq(in->calls, 4);

    tk_server_stop(&ts, SIGTERM);
    cr_assert_eq(multiply(b, true, &res), CALL_FAILED);
    cr_assert_eq(instance(b, 0)->backoff_ms, 250, "the backoff starts over");
    balancer_free(b);
}

/* ---- the ejection's knobs (balancer_set_ejection) and its events (balancer_on_event) ---- */

typedef struct seen_events {
    int ejected, back;
    uint64_t backoff[16];
    char why[256], addr[128];
} seen_events;

static void note_event(void *ctx, const char *addr, lb_event_kind kind, uint64_t backoff_ms, const char *why)
{
    seen_events *s = ctx;
    snprintf(s->addr, sizeof s->addr, "%s", addr);
    if (kind == LB_BACK) {
        s->back++;
        return;
    }
    if (s->ejected < 16)
        s->backoff[s->ejected] = backoff_ms;
    s->ejected++;
    snprintf(s->why, sizeof s->why, "%s", why);
}

Test(balancer, eject_after_3_leaves_an_instance_in_for_two_failures_in_a_row, NOHELPER)
{
    int rfd;
    char raddr[80];
    refusing(&rfd, raddr, sizeof raddr);
    balancer *b = new_balancer(PICK_ROUND_ROBIN);
    seen_events ev = {0};
    balancer_on_event(b, note_event, &ev);
    balancer_set_ejection(b, 3, 100, 400);
    balancer_add(b, raddr);
    lb_result res;
    for (int k = 1; k <= 2; k++) {
        cr_assert_eq(multiply(b, true, &res), CALL_FAILED);
        cr_assert_eq(instance(b, 0)->consecutive_failures, k);
        cr_assert_eq(instance(b, 0)->ejected_until, 0, "failure %d ejected it", k);
        cr_assert_eq(ev.ejected, 0);
    }
    uint64_t before = clock_now_ms();
    cr_assert_eq(multiply(b, true, &res), CALL_FAILED);
    cr_assert_eq(instance(b, 0)->backoff_ms, 100, "the third failure ejects, for --backoff's first 100 ms");
    cr_assert_geq(instance(b, 0)->ejected_until, before + 100);
    cr_assert_eq(ev.ejected, 1);
    cr_assert_eq(ev.backoff[0], 100);
    cr_assert_str_eq(ev.addr, raddr);
    cr_assert(strstr(ev.why, "refused"), "the event says why: %s", ev.why);
    balancer_free(b);
    close(rfd);
}

Test(balancer, the_backoff_doubles_from_its_minimum_to_its_maximum, NOHELPER)
{
    int rfd;
    char raddr[80];
    refusing(&rfd, raddr, sizeof raddr);
    balancer *b = new_balancer(PICK_ROUND_ROBIN);
    seen_events ev = {0};
    balancer_on_event(b, note_event, &ev);
    balancer_set_ejection(b, 1, 40, 300);
    balancer_add(b, raddr);
    const uint64_t want[] = {40, 80, 160, 300, 300};
    lb_result res;
    for (int k = 0; k < 5; k++) {
        cr_assert_eq(multiply(b, true, &res), CALL_FAILED);
        cr_assert_eq(instance(b, 0)->backoff_ms, want[k], "ejection %d: %llu ms", k + 1,
                     (unsigned long long)instance(b, 0)->backoff_ms);
        cr_assert_eq(ev.backoff[k], want[k]);
    }
    cr_assert_eq(ev.ejected, 5);
    balancer_free(b);
    close(rfd);
}

Test(balancer, ejection_values_out_of_range_take_the_defaults, NOHELPER)
{
    int rfd;
    char raddr[80];
    refusing(&rfd, raddr, sizeof raddr);
    balancer *b = new_balancer(PICK_ROUND_ROBIN);
    balancer_set_ejection(b, 0, 0, 0);
    balancer_add(b, raddr);
    lb_result res;
    cr_assert_eq(multiply(b, true, &res), CALL_FAILED);
    cr_assert_eq(instance(b, 0)->backoff_ms, LB_BACKOFF_MIN_MS, "after 0: one failure ejects");
    balancer_set_ejection(b, 1, 600, 100); /* a maximum below the minimum: the minimum */
    cr_assert_eq(multiply(b, true, &res), CALL_FAILED);
    cr_assert_eq(instance(b, 0)->backoff_ms, 500, "doubled");
    cr_assert_eq(multiply(b, true, &res), CALL_FAILED);
    cr_assert_eq(instance(b, 0)->backoff_ms, 600, "capped at the maximum, which is the minimum here");
    balancer_free(b);
    close(rfd);
}

/* The server is killed and comes back on its address: one ejection, then one return. */
Test(balancer, an_ejected_instance_that_answers_again_is_reported_back, HELPER)
{
    tk_server ts;
    start_json(&ts, NULL);
    char addr[80];
    snprintf(addr, sizeof addr, "%s", ts.addr);
    balancer *b = new_balancer(PICK_ROUND_ROBIN);
    seen_events ev = {0};
    balancer_on_event(b, note_event, &ev);
    balancer_set_ejection(b, 1, 50, 50);
    balancer_add(b, addr);
    lb_result res;
    cr_assert_eq(multiply(b, true, &res), CALL_OK);
    tk_server_stop(&ts, SIGKILL);
    cr_assert_eq(multiply(b, true, &res), CALL_FAILED);
    cr_assert_eq(ev.ejected, 1);
    cr_assert_eq(ev.backoff[0], 50);
    cr_assert_eq(ev.back, 0);
    start_json(&ts, addr);
    clock_sleep_ms(60);
    cr_assert_eq(multiply(b, true, &res), CALL_OK);
    cr_assert_eq(ev.back, 1);
    cr_assert_str_eq(ev.addr, addr);
    cr_assert_eq(multiply(b, true, &res), CALL_OK);
    cr_assert_eq(ev.back, 1, "a call to an instance that was not out is no return");
    balancer_free(b);
    tk_server_stop(&ts, SIGTERM);
}

/* ---- membership ---- */

Test(balancer, a_removed_instance_is_kept_with_its_counts_but_not_picked, HELPER)
{
    tk_server ts[2];
    balancer *b = new_balancer(PICK_ROUND_ROBIN);
    for (int i = 0; i < 2; i++) {
        start_json(&ts[i], NULL);
        balancer_add(b, ts[i].addr);
    }
    lb_result res;
    for (int k = 0; k < 4; k++)
        cr_assert_eq(multiply(b, true, &res), CALL_OK);
    balancer_remove(b, ts[0].addr);
    balancer_remove(b, "127.0.0.1:9"); /* unknown: ignored */
    size_t n;
    const lb_instance *in = balancer_instances(b, &n);
    cr_assert_eq(n, 2);
    cr_assert(!in[0].present);
    cr_assert_null(in[0].conn, "its connection is closed");
    cr_assert_eq(in[0].calls, 2);
    for (int k = 0; k < 4; k++) {
        cr_assert_eq(multiply(b, true, &res), CALL_OK);
        cr_assert_eq(res.instance, 1);
    }
    cr_assert_eq(balancer_add(b, ts[0].addr), 0, "back under its old index");
    cr_assert(instance(b, 0)->present);
    int to0 = 0;
    for (int k = 0; k < 4; k++) {
        cr_assert_eq(multiply(b, true, &res), CALL_OK);
        to0 += res.instance == 0;
    }
    cr_assert_eq(to0, 2);
    cr_assert_eq(instance(b, 0)->calls, 4);
    balancer_free(b);
    for (int i = 0; i < 2; i++)
        tk_server_stop(&ts[i], SIGTERM);
}

Test(balancer, an_instance_listed_again_gets_a_fresh_chance, NOHELPER)
{
    int rfd;
    char raddr[80];
    refusing(&rfd, raddr, sizeof raddr);
    balancer *b = new_balancer(PICK_ROUND_ROBIN);
    balancer_add(b, raddr);
    lb_result res;
    multiply(b, true, &res);
    multiply(b, true, &res);
    cr_assert_eq(instance(b, 0)->backoff_ms, 500);
    balancer_remove(b, raddr);
    cr_assert_eq(balancer_add(b, raddr), 0);
    const lb_instance *in = instance(b, 0);
    cr_assert_eq(in->backoff_ms, 0);
    cr_assert_eq(in->ejected_until, 0);
    cr_assert_eq(in->consecutive_failures, 0);
    cr_assert_eq(in->failures, 2);
    balancer_add(b, raddr); /* already present: nothing changes */
    size_t n;
    balancer_instances(b, &n);
    cr_assert_eq(n, 1);
    balancer_free(b);
    close(rfd);
}

Test(balancer, free_accepts_null, DEADLINE) { balancer_free(NULL); }

#define MA "127.0.0.1:8080"
#define MB "127.0.0.1:8081"
#define MC "127.0.0.1:8082"

/* ---- membership: balancer_set_members, as the TUI's load and the gateway use it ---- */

static size_t present(const balancer *b, char *list, size_t cap)
{
    size_t n, k = 0, used = 0;
    const lb_instance *in = balancer_instances(b, &n);
    list[0] = '\0';
    for (size_t i = 0; i < n; i++)
        if (in[i].present) {
            used += (size_t)snprintf(list + used, cap - used, "%s%s", k ? " " : "", in[i].addr);
            k++;
        }
    return k;
}

Test(balancer, set_members_makes_the_present_set_the_list, DEADLINE)
{
    balancer *b = balancer_new(PROTO_JSON, PICK_ROUND_ROBIN, 100);
    char got[256];
    const char *ab[] = {MA, MB}, *bc[] = {MB, MC};
    cr_assert_eq(balancer_set_members(b, ab, 2), 0);
    cr_assert_eq(present(b, got, sizeof got), 2);
    cr_assert_str_eq(got, MA " " MB);
    cr_assert_eq(balancer_set_members(b, bc, 2), 0);
    cr_assert_str_eq((present(b, got, sizeof got), got), MB " " MC);
    size_t n;
    balancer_instances(b, &n);
    cr_assert_eq(n, 3, "A is kept, absent, for its counters");
    cr_assert_eq(balancer_set_members(b, NULL, 0), 0);
    cr_assert_eq(present(b, got, sizeof got), 0);
    cr_assert_eq(balancer_set_members(b, ab, 2), 0);
    cr_assert_str_eq((present(b, got, sizeof got), got), MA " " MB, "back in the list: present again");
    balancer_instances(b, &n);
    cr_assert_eq(n, 3, "an instance seen before is not added twice");
    balancer_free(b);
}

/* The table grows while a list is applied: the instances known before are still found
 * by address, a name listed twice is one instance, and the order first seen is kept. */
Test(balancer, set_members_grows_the_table_and_keeps_order, DEADLINE)
{
    balancer *b = balancer_new(PROTO_JSON, PICK_ROUND_ROBIN, 100);
    enum { N = 40 };
    static char names[N][32];
    const char *list[N + 1];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "127.0.0.1:%d", 20000 + (i * 37) % N);
        list[i] = names[i];
    }
    cr_assert_eq(balancer_set_members(b, list, 10), 0);
    list[N] = names[3]; /* listed twice */
    cr_assert_eq(balancer_set_members(b, list, N + 1), 0);
    size_t n;
    const lb_instance *in = balancer_instances(b, &n);
    cr_assert_eq(n, N);
    for (size_t i = 0; i < n; i++) {
        cr_assert_str_eq(in[i].addr, names[i]);
        cr_assert(in[i].present);
    }
    cr_assert_eq(balancer_set_members(b, list + 5, 10), 0);
    in = balancer_instances(b, &n);
    cr_assert_eq(n, N);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(in[i].present, i >= 5 && i < 15, "%s", in[i].addr);
    balancer_free(b);
}

Test(balancer, set_members_on_a_full_table_forgets_the_absent, DEADLINE)
{
    enum { N = 2100, TABLE = 4096, OVER = TABLE + 4 }; /* two lists of N fill the table */
    static char addrs[2][N][48];
    const char *list[2][N];
    for (int g = 0; g < 2; g++)
        for (int i = 0; i < N; i++) {
            snprintf(addrs[g][i], sizeof addrs[g][i], "127.0.%d.%d:%d", g + 1, i % 250, 1000 + i);
            list[g][i] = addrs[g][i];
        }
    balancer *b = balancer_new(PROTO_GRPC, PICK_ROUND_ROBIN, 100);
    static char got[OVER * 48];
    cr_assert_eq(balancer_set_members(b, list[0], N), 0);
    cr_assert_eq(balancer_set_members(b, list[1], N), 0, "room is made for the new ones");
    cr_assert_eq(present(b, got, sizeof got), N);
    size_t n;
    const lb_instance *in = balancer_instances(b, &n);
    for (size_t i = 0; i < n; i++)
        cr_assert(in[i].present, "%s: absent instances were forgotten", in[i].addr);
    cr_assert_eq(n, N);

    static char many[OVER][48];
    const char *all[OVER];
    for (int i = 0; i < OVER; i++) {
        snprintf(many[i], sizeof many[i], "127.0.%d.%d:%d", 3 + i / 250, i % 250, 2000 + i);
        all[i] = many[i];
    }
    cr_assert_eq(balancer_set_members(b, all, OVER), -1, "more than the table holds");
    cr_assert_eq(present(b, got, sizeof got), TABLE);
    balancer_free(b);
}

/* A service of 500 instances (more than the table once held) is held whole. */
Test(balancer, the_table_holds_a_service_of_500_instances, DEADLINE)
{
    enum { N = 500 };
    static char addrs[N][48];
    balancer *b = balancer_new(PROTO_JSON, PICK_ROUND_ROBIN, 100);
    for (int i = 0; i < N; i++) {
        snprintf(addrs[i], sizeof addrs[i], "127.0.%d.%d:%d", 1 + i / 250, i % 250, 3000 + i);
        cr_assert_eq(balancer_add(b, addrs[i]), i);
    }
    size_t n;
    balancer_instances(b, &n);
    cr_assert_eq(n, N);
    cr_assert_eq(balancer_add(b, addrs[N - 1]), N - 1, "an address seen before is not added twice");
    balancer_free(b);
}
