/* test_tui_model.c -- unit tests for the TUI's model (workbench/tui/tui_model.c): the load's
 * counters, calls/s, failed and retried, shares, p50/p99, the membership it publishes and
 * the Timeline as events arrive. No sockets, no threads: calls are counted as the load
 * thread counts them, and time is given to tui_model_sample; a service of 500 instances
 * and more than the model holds; the address index (tui_index.c). Then the panes' text
 * measure (tui_text.c): lines cut at words or between hanzi, cells padded by display columns. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc/supervisor.h"
#include "tui_index.h"
#include "tui_model.h"
#include "tui_text.h"

#define A "127.0.0.1:8080"
#define B "127.0.0.1:8081"
#define C "127.0.0.1:8082"
#define T0 1000000u /* a clock_now_ms() time for tui_model_sample */

static tui_model m;

static void setup(void)
{
    cr_assert_eq(tui_model_init(&m), 0);
}

static void teardown(void)
{
    tui_model_done(&m);
}

/* Counts n calls with outcome st answered by addr (NULL: none tried), each taking lat_us. */
static void calls(int n, call_status st, const char *addr, uint64_t lat_us)
{
    for (int i = 0; i < n; i++) {
        tui_call c = {.st = st, .addr = addr, .first_error = "", .lat_us = lat_us};
        tui_model_count(&m, &c);
    }
}

/* A call whose connection to failed failed, then retried on addr with outcome st. */
static void retried(const char *failed, const char *addr, call_status st)
{
    tui_call c = {.st = st, .addr = addr, .failed_addr = failed, .first_error = "connection refused", .lat_us = 700};
    tui_model_count(&m, &c);
}

static const tui_traffic_row *row(const char *addr)
{
    for (size_t i = 0; i < m.traffic.nrows; i++)
        if (strcmp(m.traffic.rows[i].addr, addr) == 0)
            return &m.traffic.rows[i];
    cr_assert_fail("no Traffic row for %s", addr);
    return NULL;
}

static registry_event event(registry_event_type type, const char *service, const char *addr, const char *proto)
{
    registry_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = type;
    snprintf(ev.inst.service, sizeof ev.inst.service, "%s", service);
    snprintf(ev.inst.addr, sizeof ev.inst.addr, "%s", addr);
    snprintf(ev.inst.protocol, sizeof ev.inst.protocol, "%s", proto);
    return ev;
}

/* ======================= counters ======================= */

TestSuite(tui_model, .init = setup, .fini = teardown);

Test(tui_model, counts_each_call_by_how_it_ended)
{
    calls(3, CALL_OK, A, 1000);
    calls(2, CALL_OK, B, 1000);
    calls(1, CALL_REMOTE_ERROR, A, 1000); /* answered, with an error: not failed */
    retried(A, B, CALL_OK);               /* A's connection failed, B answered */
    retried(A, B, CALL_FAILED);           /* and this time B failed too */
    calls(1, CALL_FAILED, B, 0);          /* B's connection failed, nothing to retry on */
    calls(1, CALL_FAILED, NULL, 0);       /* no instance known */
    cr_assert_eq(tui_model_sample(&m, T0), DIRTY_TRAFFIC | DIRTY_INSTANCES);

    cr_assert_eq(m.traffic.calls, 10);
    cr_assert_eq(m.traffic.failed, 3);
    cr_assert_eq(m.traffic.retried, 2);
    cr_assert_eq(m.traffic.remote_errors, 1);
    cr_assert_eq(m.traffic.nrows, 2);
    cr_assert_eq(row(A)->calls, 4, "a server error is a call the instance answered");
    cr_assert_eq(row(A)->errors, 1, "and one of its errors");
    cr_assert_eq(row(A)->failed, 2);
    cr_assert_eq(row(B)->calls, 3);
    cr_assert_eq(row(B)->errors, 0);
    cr_assert_eq(row(B)->failed, 2);
    uint64_t calls, errors, failed;
    tui_model_addr_counts(&m, B, &calls, &errors, &failed);
    cr_assert(calls == 3 && errors == 0 && failed == 2);
    cr_assert(tui_model_called(&m, A) && tui_model_called(&m, B));
    tui_model_addr_counts(&m, C, &calls, &errors, &failed);
    cr_assert(calls == 0 && errors == 0 && failed == 0, "an instance never called counts nothing");
    cr_assert_not(tui_model_called(&m, C));
    cr_assert_eq(tui_model_sample(&m, T0 + 5000), 0, "nothing changed: not drawn again");
}

Test(tui_model, calls_per_second_and_shares_over_the_last_second)
{
    tui_model_sample(&m, T0);
    cr_assert(m.traffic.calls_s == 0 && m.traffic.rate == 100 && !m.traffic.on, "idle, at the first rate");
    calls(60, CALL_OK, A, 500);
    calls(40, CALL_OK, B, 500);
    calls(10, CALL_FAILED, NULL, 0);
    cr_assert_eq(tui_model_sample(&m, T0 + 1000), DIRTY_TRAFFIC | DIRTY_INSTANCES);
    cr_assert_float_eq(m.traffic.calls_s, 110.0, 1e-9);
    cr_assert_float_eq(m.traffic.failed_s, 10.0, 1e-9);
    cr_assert_float_eq(row(A)->rate, 60.0, 1e-9);
    cr_assert_float_eq(row(B)->rate, 40.0, 1e-9);
    cr_assert_float_eq(row(A)->share, 60.0, 1e-9);
    cr_assert_float_eq(row(B)->share, 40.0, 1e-9);

    cr_assert_eq(tui_model_sample(&m, T0 + 1000 + TUI_SAMPLE_MS / 2), 0, "sampled again too soon");
    cr_assert_eq(tui_model_sample(&m, T0 + 1000 + TUI_SAMPLE_MS), DIRTY_TRAFFIC | DIRTY_INSTANCES);
    cr_assert_float_eq(m.traffic.calls_s, 0.0, 1e-9, "no call since the last sample about a second old");
}

Test(tui_model, shares_move_to_the_survivor_within_a_second)
{
    tui_model_sample(&m, T0);
    calls(50, CALL_OK, A, 500);
    calls(50, CALL_OK, B, 500);
    tui_model_sample(&m, T0 + 1000);
    cr_assert_float_eq(row(A)->share, 50.0, 1e-9);
    /* A is killed: every call goes to B from now on */
    for (unsigned t = 1100; t <= 2000; t += 100) {
        calls(10, CALL_OK, B, 500);
        tui_model_sample(&m, T0 + t);
    }
    cr_assert_float_eq(row(A)->share, 0.0, 1e-9);
    cr_assert_float_eq(row(B)->share, 100.0, 1e-9);
    cr_assert_float_eq(row(B)->rate, 100.0, 1e-9);
    cr_assert_eq(row(A)->calls, 50, "the totals stay");
}

Test(tui_model, error_replies_are_calls_with_their_share)
{
    /* Arith.Divide by zero on every instance: each answers with an error */
    tui_model_sample(&m, T0);
    for (unsigned t = 100; t <= 1000; t += 100) {
        calls(5, CALL_REMOTE_ERROR, A, 500);
        calls(5, CALL_REMOTE_ERROR, B, 500);
        tui_model_sample(&m, T0 + t);
    }
    cr_assert_eq(m.traffic.remote_errors, 100);
    cr_assert_eq(m.traffic.failed, 0, "an error reply is not a failed call");
    cr_assert(row(A)->calls == 50 && row(A)->errors == 50 && row(A)->failed == 0);
    cr_assert_float_eq(row(A)->share, 50.0, 1e-9, "the share counts the calls answered with an error");
    cr_assert_float_eq(row(B)->rate, 50.0, 1e-9);
    calls(3, CALL_REMOTE_ERROR, A, 500);
    cr_assert_eq(tui_model_sample(&m, T0 + 1100), DIRTY_TRAFFIC | DIRTY_INSTANCES, "the calls column moves");
    cr_assert_eq(row(A)->calls, 53);
}

/* ======================= spreading over protocols ======================= */

/* k calls picked by tui_spread_next with n[] instances per protocol, counted per protocol. */
static void spread(tui_spread *sp, const size_t n[TUI_NPROTO], int k, int got[TUI_NPROTO])
{
    memset(got, 0, TUI_NPROTO * sizeof got[0]);
    for (int i = 0; i < k; i++) {
        int p = tui_spread_next(sp, n);
        cr_assert(p >= 0 && p < TUI_NPROTO && n[p] > 0, "call %d picked protocol %d", i, p);
        got[p]++;
    }
}

Test(tui_model, every_instance_gets_the_same_share_whatever_its_protocol)
{
    tui_spread sp = {0};
    int got[TUI_NPROTO];
    size_t two_json_one_gob[TUI_NPROTO] = {[PROTO_JSON] = 2, [PROTO_GOB] = 1};
    spread(&sp, two_json_one_gob, 300, got);
    cr_assert_eq(got[PROTO_JSON], 200, "two JSON-RPC instances: two thirds (%d)", got[PROTO_JSON]);
    cr_assert_eq(got[PROTO_GOB], 100, "one gob instance: a third, not a half (%d)", got[PROTO_GOB]);
    int first3[3];
    for (int i = 0; i < 3; i++)
        first3[i] = tui_spread_next(&sp, two_json_one_gob);
    cr_assert(first3[0] != first3[1] || first3[1] != first3[2], "interleaved, not in bursts");

    size_t mixed[TUI_NPROTO] = {[PROTO_JSON] = 1, [PROTO_GOB] = 3, [PROTO_GRPC] = 2};
    spread(&sp, mixed, 600, got);
    cr_assert(got[PROTO_JSON] == 100 && got[PROTO_GOB] == 300 && got[PROTO_GRPC] == 200);

    size_t only_grpc[TUI_NPROTO] = {[PROTO_GRPC] = 1};
    spread(&sp, only_grpc, 10, got);
    cr_assert_eq(got[PROTO_GRPC], 10, "a protocol with no instance is never picked");
    size_t none[TUI_NPROTO] = {0};
    cr_assert_eq(tui_spread_next(&sp, none), -1);
}

Test(tui_model, rates_are_shown_to_a_tenth)
{
    tui_model_sample(&m, T0);
    calls(1, CALL_OK, A, 500);
    calls(2, CALL_OK, B, 500);
    tui_model_sample(&m, T0 + 1000);
    cr_assert_float_eq(row(A)->share, 33.3, 1e-9);
    cr_assert_float_eq(row(B)->share, 66.6, 1e-9, "cut, not rounded");
}

Test(tui_model, p50_and_p99_of_the_recent_calls)
{
    for (int i = 0; i < 100; i++) /* 1 ms to 100 ms, out of order */
        calls(1, CALL_OK, A, (uint64_t)((i * 37) % 100 + 1) * 1000);
    calls(5, CALL_FAILED, A, 60000000); /* failed calls have no latency to count */
    tui_model_sample(&m, T0);
    cr_assert_eq(m.traffic.p50_us, 50000);
    cr_assert_eq(m.traffic.p99_us, 99000);

    calls(TUI_LAT_RING, CALL_REMOTE_ERROR, B, 5); /* server errors are answers: they count */
    tui_model_sample(&m, T0 + 1000);
    cr_assert_eq(m.traffic.p50_us, 5, "only the last %d calls count", TUI_LAT_RING);
    cr_assert_eq(m.traffic.p99_us, 5);
}

/* ======================= membership ======================= */

Test(tui_model, publishes_the_members_the_load_calls)
{
    m.service = "workbench";
    unsigned gen = m.sh.member_gen;
    registry_event evs[] = {
        event(REGISTRY_EV_PUT, "workbench", A, "json"),
        event(REGISTRY_EV_PUT, "workbench", B, "grpc"),
        event(REGISTRY_EV_PUT, "order", C, "grpc"),         /* another service: shown, not called */
        event(REGISTRY_EV_PUT, "workbench", "127.0.0.1:9", ""), /* no protocol: JSON-RPC */
        event(REGISTRY_EV_PUT, "workbench", "127.0.0.1:10", "http"),
    };
    for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
        cr_assert_eq(tui_model_apply(&m, &evs[i]), DIRTY_REGISTRY | DIRTY_INSTANCES | DIRTY_TIMELINE);
    cr_assert_eq(m.nreg, 5);
    cr_assert_eq(m.sh.nmembers, 3);
    cr_assert_str_eq(m.sh.members[0].addr, A);
    cr_assert_eq(m.sh.members[0].proto, PROTO_JSON);
    cr_assert_str_eq(m.sh.members[1].addr, B);
    cr_assert_eq(m.sh.members[1].proto, PROTO_GRPC);
    cr_assert_eq(m.sh.members[2].proto, PROTO_JSON);
    cr_assert_eq(m.sh.member_gen, gen + 5);
    cr_assert_not(tui_model_members_applied(&m), "the load thread has not taken them yet");
    m.sh.member_done = m.sh.member_gen;
    cr_assert(tui_model_members_applied(&m));

    registry_event crit = event(REGISTRY_EV_PUT, "workbench", A, "json");
    snprintf(crit.inst.status, sizeof crit.inst.status, "critical");
    tui_model_apply(&m, &crit);
    cr_assert_eq(m.nreg, 5, "a PUT of an entry known changes it");
    cr_assert_eq(m.sh.nmembers, 2, "Consul's critical entries are not called");
    registry_event del = event(REGISTRY_EV_DELETE, "workbench", B, "");
    tui_model_apply(&m, &del);
    cr_assert_eq(tui_model_find_reg(&m, B), -1);
    cr_assert_eq(m.sh.nmembers, 1);
    cr_assert_eq(tui_model_apply(&m, &del), 0, "deleting it again changes nothing");

    unsigned reset = m.sh.reset_gen;
    tui_model_clear_registry(&m);
    cr_assert(m.nreg == 0 && m.sh.nmembers == 0 && m.sh.reset_gen == reset + 1);
}

/* ======================= 500 instances, and more than the model holds ======================= */

static void addr_of(int i, char *out, size_t cap)
{
    snprintf(out, cap, "127.0.0.%d:%d", 1 + i / 20000, 10000 + i % 20000);
}

Test(tui_model, holds_a_service_of_500_instances)
{
    m.service = "workbench";
    char a[80];
    for (int i = 0; i < 500; i++) {
        addr_of(i, a, sizeof a);
        registry_event ev = event(REGISTRY_EV_PUT, "workbench", a, "gob");
        tui_model_apply(&m, &ev);
    }
    cr_assert_eq(m.nreg, 500);
    cr_assert_eq(m.sh.nmembers, 500, "the load calls every one");
    cr_assert_eq(m.reg_left_out, 0);
    for (int i = 0; i < 500; i++) {
        addr_of(i, a, sizeof a);
        cr_assert_eq(tui_model_find_reg(&m, a), i);
    }
    /* one gone from the middle: the others are still found where they moved */
    addr_of(250, a, sizeof a);
    registry_event del = event(REGISTRY_EV_DELETE, "workbench", a, "");
    tui_model_apply(&m, &del);
    cr_assert_eq(tui_model_find_reg(&m, a), -1);
    cr_assert_eq(m.nreg, 499);
    for (int i = 0; i < 500; i++) {
        addr_of(i, a, sizeof a);
        if (i != 250)
            cr_assert_str_eq(m.reg[tui_model_find_reg(&m, a)].inst.addr, a);
    }
    /* each answers 4 calls: 500 rows, each with the same share */
    for (int i = 0; i < 500; i++) {
        addr_of(i, a, sizeof a);
        calls(4, CALL_OK, a, 1000);
    }
    tui_model_sample(&m, T0);
    for (int i = 0; i < 500; i++) {
        addr_of(i, a, sizeof a);
        calls(2, CALL_OK, a, 1000);
    }
    tui_model_sample(&m, T0 + 1000);
    cr_assert_eq(m.traffic.nrows, 500);
    cr_assert_eq(m.traffic.calls_left_out, 0);
    for (int i = 0; i < 500; i++) {
        addr_of(i, a, sizeof a);
        const tui_traffic_row *r = tui_model_traffic_row(&m, a);
        cr_assert(r && r->calls == 6 && r->rate == 2.0 && r->share == 0.2, "%s: %llu calls, %.1f/s, %.1f%%", a,
                  (unsigned long long)(r ? r->calls : 0), r ? r->rate : 0, r ? r->share : 0);
    }
}

Test(tui_model, says_how_many_entries_it_left_out)
{
    char a[80];
    unsigned gen;
    registry_instance *list = calloc(TUI_MAX_ADDRS + 5, sizeof *list);
    cr_assert(list);
    for (int i = 0; i < TUI_MAX_ADDRS + 5; i++) {
        addr_of(i, list[i].addr, sizeof list[i].addr);
        snprintf(list[i].service, sizeof list[i].service, "workbench");
        snprintf(list[i].protocol, sizeof list[i].protocol, "json");
    }
    /* a listing of which the registry returned TUI_MAX_ADDRS + 2, and said 7 more exist */
    tui_model_load(&m, list, TUI_MAX_ADDRS + 2, 7);
    cr_assert_eq(m.nreg, TUI_MAX_ADDRS);
    cr_assert_eq(m.reg_left_out, 9, "the 2 with no room and the 7 not listed");
    cr_assert_eq(m.sh.nmembers, TUI_MAX_ADDRS);
    gen = m.sh.member_gen;
    addr_of(TUI_MAX_ADDRS + 3, a, sizeof a);
    registry_event put = event(REGISTRY_EV_PUT, "workbench", a, "json");
    cr_assert_eq(tui_model_apply(&m, &put), DIRTY_REGISTRY, "no room: counted, and the pane says so");
    cr_assert_eq(m.reg_left_out, 10);
    cr_assert_eq(m.sh.member_gen, gen, "the membership did not change");
    registry_event del = event(REGISTRY_EV_DELETE, "workbench", a, "");
    tui_model_apply(&m, &del);
    cr_assert_eq(m.reg_left_out, 9);
    /* room again: the next new entry is kept */
    registry_event del0 = event(REGISTRY_EV_DELETE, "workbench", list[0].addr, "");
    tui_model_apply(&m, &del0);
    tui_model_apply(&m, &put);
    cr_assert_eq(m.nreg, TUI_MAX_ADDRS);
    cr_assert_geq(tui_model_find_reg(&m, a), 0);
    tui_model_clear_registry(&m);
    cr_assert(m.nreg == 0 && m.reg_left_out == 0);
    free(list);
}

Test(tui_model, calls_past_the_counters_table_are_counted_apart)
{
    char a[80];
    for (int i = 0; i < TUI_MAX_ADDRS + 3; i++) {
        addr_of(i, a, sizeof a);
        calls(1, CALL_OK, a, 1000);
    }
    tui_model_sample(&m, T0);
    cr_assert_eq(m.traffic.nrows, TUI_MAX_ADDRS);
    cr_assert_eq(m.traffic.calls_left_out, 3);
    cr_assert_eq(m.traffic.calls, TUI_MAX_ADDRS + 3, "every call is in the totals");
}

Test(tui_index, finds_rows_by_address_after_they_move)
{
    struct item {
        int pad;
        char addr[24];
    } items[300];
    tui_index x;
    cr_assert_eq(tui_index_init(&x, 300), 0);
    for (int i = 0; i < 300; i++) {
        snprintf(items[i].addr, sizeof items[i].addr, "10.0.%d.%d:80", i / 256, i % 256);
        cr_assert_eq(tui_index_add(&x, items[0].addr, sizeof items[0], i), 0);
    }
    cr_assert_eq(tui_index_add(&x, items[0].addr, sizeof items[0], 300), -1, "past its max");
    for (int i = 0; i < 300; i++)
        cr_assert_eq(tui_index_find(&x, items[i].addr, items[0].addr, sizeof items[0]), i);
    cr_assert_eq(tui_index_find(&x, "10.0.9.9:80", items[0].addr, sizeof items[0]), -1);
    memmove(&items[0], &items[1], 299 * sizeof items[0]);
    tui_index_rebuild(&x, items[0].addr, sizeof items[0], 299);
    cr_assert_eq(tui_index_find(&x, "10.0.0.0:80", items[0].addr, sizeof items[0]), -1);
    cr_assert_eq(tui_index_find(&x, "10.0.1.43:80", items[0].addr, sizeof items[0]), 298);
    tui_index_clear(&x);
    cr_assert_eq(tui_index_find(&x, "10.0.1.43:80", items[0].addr, sizeof items[0]), -1);
    tui_index_done(&x);
    tui_index_done(&x);
    cr_assert_eq(tui_index_find(&x, "10.0.1.43:80", items[0].addr, sizeof items[0]), -1, "a freed index finds nothing");
}

/* Consul: the reaper's countdown starts when the check turns critical and stops when it
 * passes again; the time to reap is what the servers register with. */
Test(tui_model, a_critical_consul_entry_counts_down_to_its_reaping)
{
    cr_assert_eq(tui_model_reap_after(5), 60, "Consul's reaper takes no less than a minute");
    cr_assert_eq(tui_model_reap_after(30), 90);
    cr_assert_eq(m.reap_after_s, tui_model_reap_after(TUI_SERVER_TTL));
    registry_event ev = event(REGISTRY_EV_PUT, "workbench", A, "json");
    snprintf(ev.inst.status, sizeof ev.inst.status, "passing");
    snprintf(ev.inst.check, sizeof ev.inst.check, "tcp");
    tui_model_apply(&m, &ev);
    const tui_reg_entry *e = &m.reg[tui_model_find_reg(&m, A)];
    cr_assert_eq(tui_model_reap_left(&m, e, T0), -1, "a passing entry is not reaped");

    snprintf(ev.was, sizeof ev.was, "passing");
    snprintf(ev.inst.status, sizeof ev.inst.status, "critical");
    tui_model_apply(&m, &ev);
    uint64_t t = e->critical_ms;
    cr_assert_neq(t, 0, "the time it turned critical is kept");
    cr_assert_eq(tui_model_reap_left(&m, e, t), 60);
    cr_assert_eq(tui_model_reap_left(&m, e, t + 12500), 48, "whole seconds, rounded up");
    cr_assert_eq(tui_model_reap_left(&m, e, t + 60000), 0, "due: the reaper's next round");
    cr_assert_eq(tui_model_reap_left(&m, e, t + 90000), 0);
    snprintf(ev.inst.output, sizeof ev.inst.output, "connection refused");
    ev.was[0] = '\0';
    tui_model_apply(&m, &ev);
    cr_assert_eq(e->critical_ms, t, "another PUT while critical keeps the countdown");

    snprintf(ev.was, sizeof ev.was, "critical");
    snprintf(ev.inst.status, sizeof ev.inst.status, "passing");
    tui_model_apply(&m, &ev);
    cr_assert_eq(tui_model_reap_left(&m, e, t), -1, "passing again: no reaping");

    registry_event etcd = event(REGISTRY_EV_PUT, "workbench", B, "json");
    tui_model_apply(&m, &etcd);
    cr_assert_eq(tui_model_reap_left(&m, &m.reg[tui_model_find_reg(&m, B)], T0), -1, "etcd has no check");
}

Test(tui_model, a_static_list_is_published_when_it_changes)
{
    tui_member mb[2] = {{A, PROTO_GOB}, {B, PROTO_JSON}};
    cr_assert_eq(tui_model_set_static(&m, mb, 2), DIRTY_REGISTRY | DIRTY_INSTANCES);
    unsigned gen = m.sh.member_gen;
    cr_assert_eq(tui_model_set_static(&m, mb, 2), 0);
    cr_assert_eq(m.sh.member_gen, gen, "the same list is not published again");
    cr_assert_eq(m.sh.nmembers, 2);
    cr_assert_eq(m.sh.members[0].proto, PROTO_GOB);
    cr_assert_eq(tui_model_find_static(&m, B), 1);
    cr_assert_eq(tui_model_set_static(&m, mb + 1, 1), DIRTY_REGISTRY | DIRTY_INSTANCES);
    cr_assert_eq(tui_model_find_static(&m, A), -1);
}

/* ======================= the Timeline ======================= */

static void to_timeline(void *ctx, const char *note)
{
    supervisor_note(ctx, 0, "%s", note);
}

/* Applies ev to the model and adds its line to the timeline, as the main loop does. */
static int arrive(supervisor *s, registry_event ev)
{
    char line[400];
    int dirty = tui_model_apply(&m, &ev);
    tui_model_event_note(&ev, line, sizeof line);
    supervisor_note(s, 0, "%s", line);
    return dirty;
}

Test(tui_model, the_timeline_as_events_arrive)
{
    supervisor *s = supervisor_new("none", "workbench", 5);
    cr_assert_not_null(s);
    arrive(s, event(REGISTRY_EV_PUT, "workbench", A, "json"));
    arrive(s, event(REGISTRY_EV_PUT, "workbench", B, "json"));
    retried(A, B, CALL_OK);
    retried(A, B, CALL_OK); /* said once until A answers again */
    cr_assert_eq(tui_model_take_notes(&m, to_timeline, s), 1);
    arrive(s, event(REGISTRY_EV_DELETE, "workbench", A, ""));
    registry_event lost = event(REGISTRY_EV_ERROR, "", "", "");
    snprintf(lost.msg, sizeof lost.msg, "connection refused");
    cr_assert_eq(arrive(s, lost), DIRTY_REGISTRY | DIRTY_TIMELINE);
    cr_assert_not(m.watch_ok);
    cr_assert_eq(arrive(s, event(REGISTRY_EV_RESUMED, "", "", "")), DIRTY_REGISTRY | DIRTY_TIMELINE);
    cr_assert(m.watch_ok);
    calls(1, CALL_OK, A, 500);
    retried(A, B, CALL_OK);
    cr_assert_eq(tui_model_take_notes(&m, to_timeline, s), 1);
    cr_assert_eq(tui_model_take_notes(&m, to_timeline, s), 0, "taken already");

    static const char *const want[] = {
        "registry: " A " registered",
        "registry: " B " registered",
        "a call to " A " failed (connection refused); retried on " B,
        "registry: " A " removed",
        "registry unreachable (connection refused)",
        "registry reachable again",
        "a call to " A " failed (connection refused); retried on " B,
    };
    size_t n;
    const sup_event *ev = supervisor_timeline(s, &n);
    cr_assert_eq(n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < n; i++) {
        cr_assert_str_eq(ev[i].what, want[i], "line %zu", i);
        cr_assert(i == 0 || ev[i].at_ms >= ev[i - 1].at_ms, "oldest first");
    }
    supervisor_free(s);
}

Test(tui_model, notes_wait_for_the_main_thread_up_to_a_cap)
{
    char addr[32];
    for (int i = 0; i < TUI_MAX_NOTES + 5 && i < TUI_MAX_ADDRS; i++) {
        snprintf(addr, sizeof addr, "127.0.0.1:%d", 9000 + i);
        retried(addr, B, CALL_OK);
    }
    cr_assert_eq(m.sh.nnotes, TUI_MAX_NOTES);
    supervisor *s = supervisor_new("none", "workbench", 5);
    cr_assert_eq(tui_model_take_notes(&m, to_timeline, s), TUI_MAX_NOTES);
    size_t n;
    const sup_event *ev = supervisor_timeline(s, &n);
    cr_assert_eq(n, TUI_MAX_NOTES);
    cr_assert_str_eq(ev[0].what, "a call to 127.0.0.1:9000 failed (connection refused); retried on " B);
    supervisor_free(s);
}

/* The lines tui_text_line cuts s into at width, joined by '/'. */
static const char *cut(const char *s, int width)
{
    static char out[512];
    size_t o = 0, at = 0, len = strlen(s);
    do {
        size_t next, n = tui_text_line(s + at, width, &next);
        o += (size_t)snprintf(out + o, sizeof out - o, "%s%.*s", o ? "/" : "", (int)n, s + at);
        at += next;
    } while (at < len && o < sizeof out);
    return out;
}

Test(tui_text, lines_end_at_spaces_and_never_split_a_word_that_fits)
{
    cr_assert_str_eq(cut("the load calls every instance", 12), "the load/calls every/instance");
    cr_assert_str_eq(cut("abc def", 7), "abc def");
    cr_assert_str_eq(cut("abc  def", 4), "abc/def");
    cr_assert_str_eq(cut("json|gob|grpc|order", 10), "json|gob|/grpc|order");
    cr_assert_str_eq(cut("workbench/127.0.0.1:8080 json", 20), "workbench//127.0.0.1:8080 json");
    cr_assert_str_eq(cut("ab grpc://x", 9), "ab/grpc://x"); /* never between the slashes of :// */
    cr_assert_str_eq(cut("abcdefghij", 4), "abcd/efgh/ij");
    cr_assert_str_eq(cut("one\n  two", 40), "one/  two");
    cr_assert_eq(tui_text_nlines("the load calls every instance", 12, 0), 3);
    cr_assert_eq(tui_text_nlines("", 12, 0), 1);
    cr_assert_eq(tui_text_nlines("aaaa bbbb cccc", 9, 2), 2);
    cr_assert_eq(tui_text_nlines("aaaa bbbb cccc", 9, 6), 3);
}

Test(tui_text, chinese_takes_two_columns_and_breaks_between_characters)
{
    cr_assert_eq(tui_text_width("启动 gob"), 8);
    cr_assert_str_eq(cut("负载均衡器按速率调用", 8), "负载均衡/器按速率/调用");
    /* full-width punctuation stays with the character before it */
    cr_assert_str_eq(cut("启动服务，然后调用", 8), "启动服/务，然后/调用");
    cr_assert_str_eq(cut("按 j 启动一个服务器", 9), "按 j 启动/一个服务/器");
}

Test(tui_text, cells_are_padded_and_cut_by_display_columns)
{
    char out[64];
    tui_text_pad(out, sizeof out, "状态", 6, false);
    cr_assert_str_eq(out, "状态  ");
    tui_text_pad(out, sizeof out, "调用", 7, true);
    cr_assert_str_eq(out, "   调用");
    tui_text_pad(out, sizeof out, "注册中心", 7, false);
    cr_assert_str_eq(out, "注册中 ");
    tui_text_pad(out, sizeof out, "state", 3, false);
    cr_assert_str_eq(out, "sta");
    tui_text_pad(out, 4, "running", 8, false);
    cr_assert_str_eq(out, "run");
}
