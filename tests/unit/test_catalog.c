/* test_catalog.c -- unit tests for the method catalog: adding, finding, coercing, calling,
 * reading while other threads add, and the sample services registered in it; and
 * pbcatalog's first lookup from many threads at once. Under Criterion each test runs in
 * a process of its own, so each starts with an empty catalog and a pbcatalog not yet
 * loaded.
 *
 * The thread tests are written with threadtest.h, so a ThreadSanitizer build runs them
 * from a plain main, in one process (the other tests need Criterion and are left out):
 *   make BUILD=build/tsan BIN=build/tsan/bin OPT=-O1 \
 *       SAN='-fsanitize=thread -fno-omit-frame-pointer' build/tsan/tests/test_catalog
 *   build/tsan/tests/test_catalog */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/services.h"
#include "threadtest.h"
#include "value/value.h"
#include "value/vtype.h"
#include "wire/catalog.h"
#include "wire/pbcatalog.h"

static const vtype_field pair_fields[] = {{"X", &vtype_int}, {"Y", &vtype_int}};
static const vtype pair_type = {.kind = T_STRUCT, .name = "Pair", .fields = pair_fields, .nfields = 2};

static int64_t field(const value *st, const char *name)
{
    const value *f = value_get(st, name);
    return f && f->kind == V_INT ? f->u.i : 0;
}

static int calc_sub(const value *arg, value **reply, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    *reply = value_int(field(arg, "X") - field(arg, "Y"));
    return 0;
}

/* ---- the thread tests: ThreadSanitizer watches them for races ---- */

static pthread_barrier_t gate;

/* Runs n threads of fn behind one barrier; returns the first thread's complaint, or NULL. */
static const char *race(size_t n, void *(*fn)(void *))
{
    pthread_t t[16];
    const char *why = NULL;
    pthread_barrier_init(&gate, NULL, (unsigned)n);
    for (size_t i = 0; i < n; i++)
        pthread_create(&t[i], NULL, fn, (void *)i);
    for (size_t i = 0; i < n; i++) {
        void *r;
        pthread_join(t[i], &r);
        if (r && !why)
            why = r;
    }
    pthread_barrier_destroy(&gate);
    return why;
}

/* Readers never wait for writers, and never see half an entry. */
#define WRITERS 4
#define READERS 4
#define PER_WRITER 150 /* more than two chunks each, so chunks are allocated while read */

static char names[WRITERS][PER_WRITER][32];
static atomic_int writers_left = WRITERS;

static void *add_or_find(void *p)
{
    size_t w = (size_t)p;
    pthread_barrier_wait(&gate);
    if (w < WRITERS) {
        for (size_t i = 0; i < PER_WRITER; i++) {
            catalog_method e = {names[w][i], &pair_type, &vtype_int, NULL, NULL, true, "", calc_sub};
            if (catalog_add(&e, 1, NULL, 0) != 1)
                return "an add failed";
        }
        atomic_fetch_sub(&writers_left, 1);
        return NULL;
    }
    for (;;) {
        bool last = atomic_load(&writers_left) == 0; /* a pass begun after every add */
        size_t seen = 0;
        for (size_t k = 0; k < WRITERS; k++)
            for (size_t i = 0; i < PER_WRITER; i++) {
                const catalog_method *m = catalog_find(names[k][i], true, NULL, 0);
                if (!m)
                    continue;
                if (m->arg != &pair_type || m->fn != calc_sub || strcmp(m->name, names[k][i]) != 0)
                    return "saw an entry half written";
                seen++;
            }
        if (seen == (size_t)WRITERS * PER_WRITER)
            return NULL;
        if (last)
            return "an entry added was not found";
    }
}

static const char *add_while_finding(void)
{
    for (size_t w = 0; w < WRITERS; w++)
        for (size_t i = 0; i < PER_WRITER; i++)
            snprintf(names[w][i], sizeof names[w][i], "W%zu.M%zu", w, i);
    return race(WRITERS + READERS, add_or_find);
}

/* pbcatalog's first lookup, made by many threads at once. Each lookup needs a different
 * part of the tables filled: methods, the streaming flags read from the descriptor set,
 * files, and symbols of the last files read. */
#define RACERS 12

static void *first_lookup(void *p)
{
    (void)p;
    pthread_barrier_wait(&gate);
    const pb_method *m = pbcatalog_find("/tally.Tally/RunningTotal");
    if (!m)
        return "tally.Tally/RunningTotal not found";
    if (!m->client_streaming || !m->server_streaming)
        return "RunningTotal found without its streaming flags";
    if (!pbcatalog_find("arith.Arith.Multiply"))
        return "arith.Arith.Multiply not found";
    if (!pbcatalog_file_for_symbol("user.User") || !pbcatalog_file_for_symbol("order.Order"))
        return "a service's file not found";
    if (!pbcatalog_file_by_name("user.proto"))
        return "user.proto not found";
    size_t n;
    pbcatalog_services(&n);
    return n == 11 ? NULL : "wrong number of services";
}

static void first_lookup_round(int round)
{
    const char *why = race(RACERS, first_lookup);
    TT_CHECK(!why, "round %d: %s", round, why);
}

/* Each round is a test of its own, so under Criterion a process of its own that makes the
 * first lookup; in the plain runner's one process, round 0 makes it (it runs first, before
 * anything else loads pbcatalog) and the others look up from many threads at once. */
#define FIRST_LOOKUP(n) \
    TT_TEST(pbcatalog, first_lookup_from_many_threads_##n) { first_lookup_round(n); }
FIRST_LOOKUP(0) FIRST_LOOKUP(1) FIRST_LOOKUP(2) FIRST_LOOKUP(3) FIRST_LOOKUP(4) FIRST_LOOKUP(5)
FIRST_LOOKUP(6) FIRST_LOOKUP(7) FIRST_LOOKUP(8) FIRST_LOOKUP(9) FIRST_LOOKUP(10) FIRST_LOOKUP(11)
FIRST_LOOKUP(12) FIRST_LOOKUP(13) FIRST_LOOKUP(14) FIRST_LOOKUP(15) FIRST_LOOKUP(16)
FIRST_LOOKUP(17) FIRST_LOOKUP(18) FIRST_LOOKUP(19) FIRST_LOOKUP(20) FIRST_LOOKUP(21)
FIRST_LOOKUP(22) FIRST_LOOKUP(23)

TT_TEST(catalog, many_threads_add_and_find_at_once)
{
    const char *why = add_while_finding();
    TT_CHECK(!why, "%s", why);
    char err[128];
    TT_CHECK(!catalog_find("W0.M150", false, err, sizeof err), "W0.M150 was never added");
    TT_CHECK(strcmp(err, "rpc: can't find method W0.M150") == 0, "the error says: %s", err);
}

/* ---- the tests that need Criterion ---- */

#ifndef TT_PLAIN

static int calc_fail(const value *arg, value **reply, char *err, size_t errlen)
{
    (void)arg;
    *reply = value_int(1); /* a handler that fails may leave a reply behind: it is freed */
    snprintf(err, errlen, "always fails");
    return -1;
}

static const catalog_method calc[] = {
    {"Calc.Sub", &pair_type, &vtype_int, NULL, NULL, true, "X-Y", calc_sub},
    {"Calc.Fail", &pair_type, &vtype_int, NULL, NULL, false, "fails", calc_fail},
    {"Calc.Remote", &pair_type, &vtype_int, NULL, NULL, true, "known, not served here", NULL},
    {"Remote.Echo", &vtype_string, &vtype_string, NULL, NULL, true, "signature only", NULL},
};

static void add_calc(void)
{
    char err[256];
    cr_assert_eq(catalog_add(calc, sizeof calc / sizeof calc[0], err, sizeof err), 4, "%s", err);
}

static value *pair(int64_t x, int64_t y)
{
    value *v = value_map();
    value_map_put(v, value_cstring("X"), value_int(x));
    value_map_put(v, value_cstring("Y"), value_int(y));
    return v;
}

Test(catalog, empty_catalog_finds_nothing)
{
    char err[128];
    cr_assert_null(catalog_find("Arith.Multiply", false, err, sizeof err));
    cr_assert_str_eq(err, "rpc: can't find service Arith.Multiply");
    cr_assert_null(catalog_find_path("/arith.Arith/Multiply"));
    cr_assert_null(catalog_find("Arith.Multiply", true, NULL, 0), "err may be NULL");
}

Test(catalog, add_copies_the_entry_and_find_returns_it)
{
    catalog_method one = {"Calc.Sub", &pair_type, &vtype_int, NULL, NULL, true, "X-Y", calc_sub};
    char err[128];
    cr_assert_eq(catalog_add(&one, 1, err, sizeof err), 1, "%s", err);
    one.name = "Calc.Changed"; /* the catalog kept its own copy */
    const catalog_method *m = catalog_find("Calc.Sub", true, err, sizeof err);
    cr_assert_not_null(m, "%s", err);
    cr_assert_str_eq(m->name, "Calc.Sub");
    cr_assert_eq(m->arg, &pair_type);
    cr_assert_eq(m->reply, &vtype_int);
    cr_assert(m->idempotent);
    cr_assert_str_eq(m->summary, "X-Y");
    cr_assert_null(catalog_find("Calc.Changed", false, NULL, 0));
}

Test(catalog, unknown_names_get_gos_words)
{
    add_calc();
    char err[128];
    cr_assert_null(catalog_find("Calc.Add", false, err, sizeof err));
    cr_assert_str_eq(err, "rpc: can't find method Calc.Add");
    cr_assert_null(catalog_find("calc.Sub", false, err, sizeof err));
    cr_assert_str_eq(err, "rpc: can't find service calc.Sub", "names are case-sensitive, as in Go");
    cr_assert_null(catalog_find("Calc", false, err, sizeof err));
    cr_assert_str_eq(err, "rpc: service/method request ill-formed: Calc");
    cr_assert_null(catalog_find("Cal.Sub", false, err, sizeof err));
    cr_assert_str_eq(err, "rpc: can't find service Cal.Sub", "a prefix of a service is not it");
}

Test(catalog, a_server_sees_only_what_it_serves)
{
    add_calc();
    char err[128];
    cr_assert_not_null(catalog_find("Calc.Remote", false, err, sizeof err), "a client knows it");
    cr_assert_null(catalog_find("Calc.Remote", true, err, sizeof err));
    cr_assert_str_eq(err, "rpc: can't find method Calc.Remote", "Calc is served, Remote is not");
    cr_assert_null(catalog_find("Remote.Echo", true, err, sizeof err));
    cr_assert_str_eq(err, "rpc: can't find service Remote.Echo", "no method of Remote is served");
    value *reply = NULL, *s = value_cstring("x");
    const catalog_method *m = catalog_find("Remote.Echo", false, NULL, 0);
    cr_assert_eq(catalog_call(m, s, &reply, err, sizeof err), CATALOG_NOT_SERVED);
    cr_assert_null(reply);
    cr_assert_str_eq(err, "rpc: can't find method Remote.Echo");
    value_free(s);
}

Test(catalog, first_source_wins_and_duplicates_are_skipped)
{
    add_calc();
    char err[128];
    catalog_method again[] = {
        {"Calc.Sub", &vtype_string, &vtype_string, NULL, NULL, false, "a second opinion", NULL},
        {"Calc.Mul", &pair_type, &vtype_int, NULL, NULL, true, "new", NULL},
    };
    cr_assert_eq(catalog_add(again, 2, err, sizeof err), 1, "only Calc.Mul is new");
    const catalog_method *m = catalog_find("Calc.Sub", false, NULL, 0);
    cr_assert_eq(m->arg, &pair_type);
    cr_assert_eq(m->fn, calc_sub);
    cr_assert_not_null(catalog_find("Calc.Mul", false, NULL, 0));
    cr_assert_eq(catalog_add(calc, 4, err, sizeof err), 0, "adding the same table twice adds nothing");
}

Test(catalog, refuses_entries_it_could_not_find_again)
{
    char err[128];
    catalog_method bad[] = {
        {"Calc.Ok", &pair_type, &vtype_int, NULL, NULL, true, "", NULL},
        {"NoDot", &pair_type, &vtype_int, NULL, NULL, true, "", NULL},
        {"Calc.Never", &pair_type, &vtype_int, NULL, NULL, true, "", NULL},
    };
    cr_assert_eq(catalog_add(bad, 3, err, sizeof err), -1);
    cr_assert_str_eq(err, "catalog: \"NoDot\" is not a Service.Method name");
    cr_assert_not_null(catalog_find("Calc.Ok", false, NULL, 0), "entries before the fault stay");
    cr_assert_null(catalog_find("Calc.Never", false, NULL, 0), "entries after it are not added");
    catalog_method nameless = {0};
    cr_assert_eq(catalog_add(&nameless, 1, err, sizeof err), -1);
    cr_assert_str_eq(err, "catalog: an entry needs a net/rpc name or a gRPC path");
    catalog_method slashless = {NULL, NULL, NULL, "arith.Arith/Multiply", NULL, true, "", NULL};
    cr_assert_eq(catalog_add(&slashless, 1, err, sizeof err), -1);
    cr_assert_str_eq(err, "catalog: \"arith.Arith/Multiply\" is not a gRPC path, /pkg.Service/Method");
}

Test(catalog, grpc_path_brings_the_compiled_in_shape)
{
    catalog_method e[] = {
        {"Arith.Multiply", &pair_type, &vtype_int, "/arith.Arith/Multiply", NULL, true, "", NULL},
        {NULL, NULL, NULL, "/tally.Tally/Total", NULL, false, "gRPC only", NULL},
        {"Elsewhere.Call", NULL, NULL, "/nowhere.Else/Call", NULL, false, "not compiled in", NULL},
    };
    char err[128];
    cr_assert_eq(catalog_add(e, 3, err, sizeof err), 3, "%s", err);
    const catalog_method *m = catalog_find_path("/arith.Arith/Multiply");
    cr_assert_not_null(m);
    cr_assert_str_eq(m->name, "Arith.Multiply");
    cr_assert_eq(m->pb, pbcatalog_find("/arith.Arith/Multiply"));
    cr_assert_str_eq(m->pb->input->name, "arith.Args");
    m = catalog_find_path("/tally.Tally/Total");
    cr_assert_not_null(m);
    cr_assert_null(m->name);
    cr_assert(m->pb && m->pb->client_streaming, "the shape says Total streams from the client");
    cr_assert_null(catalog_find_path("/nowhere.Else/Call")->pb);
    cr_assert_null(catalog_find_path("arith.Arith/Multiply"), "paths are matched as written");
    cr_assert_eq(catalog_add(e + 1, 1, err, sizeof err), 0, "a path already known is skipped");
}

Test(catalog, call_coerces_then_runs)
{
    add_calc();
    char err[256];
    value *reply = NULL, *arg = pair(10, 3);
    const catalog_method *m = catalog_find("Calc.Sub", true, err, sizeof err);
    cr_assert_eq(catalog_call(m, arg, &reply, err, sizeof err), CATALOG_OK, "%s", err);
    cr_assert_eq(reply->kind, V_INT);
    cr_assert_eq(reply->u.i, 7);
    value_free(reply);
    value_free(arg);
    /* missing fields are zero, as Go decodes them */
    arg = value_map();
    value_map_put(arg, value_cstring("x"), value_int(5));
    cr_assert_eq(catalog_call(m, arg, &reply, err, sizeof err), CATALOG_OK, "%s", err);
    cr_assert_eq(reply->u.i, 5);
    value_free(reply);
    value_free(arg);
}

Test(catalog, bad_argument_says_what_the_method_takes)
{
    add_calc();
    char err[256];
    value *reply = NULL, *arg = value_map();
    value_map_put(arg, value_cstring("X"), value_cstring("ten"));
    const catalog_method *m = catalog_find("Calc.Sub", true, NULL, 0);
    cr_assert_eq(catalog_call(m, arg, &reply, err, sizeof err), CATALOG_BAD_ARGUMENT);
    cr_assert_null(reply);
    cr_assert_str_eq(err, "Calc.Sub: bad argument: field X: want int, got string \"ten\" "
                          "(it takes Pair{X int, Y int})");
    value *conv = catalog_argument(m, arg, err, sizeof err);
    cr_assert_null(conv);
    value_free(arg);
    arg = value_int(3);
    m = catalog_find("Remote.Echo", false, NULL, 0);
    cr_assert_null(catalog_argument(m, arg, err, sizeof err));
    cr_assert_str_eq(err, "Remote.Echo: bad argument: want string, got number 3 (it takes string)");
    value_free(arg);
}

Test(catalog, a_handlers_failure_is_its_own_words)
{
    add_calc();
    char err[256];
    value *reply = NULL, *arg = pair(1, 2);
    const catalog_method *m = catalog_find("Calc.Fail", true, NULL, 0);
    cr_assert_eq(catalog_call(m, arg, &reply, err, sizeof err), CATALOG_FAILED);
    cr_assert_null(reply, "what the handler left is freed");
    cr_assert_str_eq(err, "always fails");
    value_free(arg);
}

Test(catalog, without_a_type_the_argument_goes_as_it_is)
{
    catalog_method loose = {"Loose.Any", NULL, NULL, NULL, NULL, false, "", NULL};
    char err[128];
    cr_assert_eq(catalog_add(&loose, 1, err, sizeof err), 1, "%s", err);
    value *raw = pair(1, 2);
    value *got = catalog_argument(catalog_find("Loose.Any", false, NULL, 0), raw, err, sizeof err);
    cr_assert(value_equal(got, raw));
    value_free(got);
    value_free(raw);
}

/* ---- the sample services, as they register into the catalog ---- */

static value *call_sample(const char *name, value *arg, catalog_status want, char *err, size_t n)
{
    char why[128];
    cr_assert_eq(services_register(why, sizeof why), 0, "%s", why);
    const catalog_method *m = catalog_find(name, true, why, sizeof why);
    cr_assert_not_null(m, "%s", why);
    value *reply = NULL;
    catalog_status st = catalog_call(m, arg, &reply, err, n);
    cr_assert_eq(st, want, "%s: status %d (%s)", name, st, err);
    value_free(arg);
    return reply;
}

static value *args(int64_t a, int64_t b)
{
    value *v = value_map();
    value_map_put(v, value_cstring("A"), value_int(a));
    value_map_put(v, value_cstring("B"), value_int(b));
    return v;
}

Test(samples, register_once_with_signatures_handlers_and_grpc_shapes)
{
    char err[128];
    cr_assert_eq(services_register(err, sizeof err), 0, "%s", err);
    cr_assert_eq(services_register(err, sizeof err), 0, "a second call adds nothing and succeeds");
    static const char *const samples[] = {"Arith.Multiply", "Arith.Divide", "hello.HelloWorld",
                                          "Greeter.SayHello"};
    size_t n = 0;
    for (const catalog_method *m; (m = catalog_at(n)); n++)
        ;
    cr_assert_eq(n, 4, "the samples are the catalog's only methods");
    for (size_t i = 0; i < n; i++) {
        const catalog_method *m = catalog_find(samples[i], true, err, sizeof err);
        cr_assert_not_null(m, "%s", err);
        cr_assert_eq(catalog_at(i), m, "%s: in the order added", samples[i]);
        cr_assert(m->arg && m->reply && m->fn && m->summary && m->idempotent, "%s", m->name);
        /* the net/rpc name leads to the gRPC twin, whose shape is pbcatalog's */
        const pb_method *pb = catalog_find_grpc(m->name);
        cr_assert_eq(m->pb, pb, "%s: its net/rpc name finds its gRPC shape", m->name);
        if (pb) {
            cr_assert_str_eq(m->grpc_path, pb->path);
            cr_assert_eq(pbcatalog_find(pb->path), pb);
            cr_assert_eq(catalog_find_path(pb->path), m);
        }
    }
    cr_assert_null(catalog_at(n));
    cr_assert_not_null(catalog_find_path("/helloworld.Greeter/SayHello"));
    cr_assert_null(catalog_find("hello.HelloWorld", true, NULL, 0)->pb, "hello has no gRPC twin");
}

Test(samples, net_rpc_names_are_the_catalogs_to_pair_with_grpc_paths)
{
    cr_assert_null(pbcatalog_find("Arith.Multiply"), "pbcatalog knows only gRPC spellings");
    cr_assert_null(catalog_find_grpc("Arith.Multiply"), "nothing registered yet");
    const pb_method *pb = catalog_find_grpc("arith.Arith/Multiply");
    cr_assert(pb && strcmp(pb->path, "/arith.Arith/Multiply") == 0, "paths need no catalog entry");
    cr_assert_eq(catalog_find_grpc("arith.Arith.Multiply"), pb);
    char err[128];
    cr_assert_eq(services_register(err, sizeof err), 0, "%s", err);
    cr_assert_eq(catalog_find_grpc("Arith.Multiply"), pb);
    cr_assert_eq(catalog_find_grpc("Greeter.SayHello"), pbcatalog_find("/helloworld.Greeter/SayHello"));
    cr_assert_null(catalog_find_grpc("hello.HelloWorld"), "a method without a gRPC path");
    cr_assert_null(catalog_find_grpc("Arith.Modulo"));
}

Test(samples, arithmetic_as_go_does_it)
{
    char err[128];
    value *r = call_sample("Arith.Multiply", args(7, 8), CATALOG_OK, err, sizeof err);
    cr_assert_eq(r->u.i, 56);
    value_free(r);
    r = call_sample("Arith.Multiply", args(INT64_MAX, 2), CATALOG_OK, err, sizeof err);
    cr_assert_eq(r->u.i, -2, "Go's int multiplication wraps");
    value_free(r);
    r = call_sample("Arith.Divide", args(-7, 2), CATALOG_OK, err, sizeof err);
    cr_assert_eq(value_get(r, "Quo")->u.i, -3);
    cr_assert_eq(value_get(r, "Rem")->u.i, -1);
    value_free(r);
    r = call_sample("Arith.Divide", args(INT64_MIN, -1), CATALOG_OK, err, sizeof err);
    cr_assert_eq(value_get(r, "Quo")->u.i, INT64_MIN);
    cr_assert_eq(value_get(r, "Rem")->u.i, 0);
    value_free(r);
    cr_assert_null(call_sample("Arith.Divide", args(1, 0), CATALOG_FAILED, err, sizeof err));
    cr_assert_str_eq(err, "divide by zero");
}

Test(samples, greetings)
{
    char err[128];
    value *r = call_sample("hello.HelloWorld", value_cstring("李白"), CATALOG_OK, err, sizeof err);
    cr_assert_str_eq(r->u.s.p, "李白 你好....");
    value_free(r);
    value *req = value_map();
    value_map_put(req, value_cstring("name"), value_cstring("Bob"));
    r = call_sample("Greeter.SayHello", req, CATALOG_OK, err, sizeof err);
    cr_assert_str_eq(value_get(r, "Message")->u.s.p, "Hello Bob");
    value_free(r);
    cr_assert_null(call_sample("hello.HelloWorld", value_int(42), CATALOG_BAD_ARGUMENT, err, sizeof err));
    cr_assert(strstr(err, "hello.HelloWorld: bad argument: ") && strstr(err, "(it takes string)"), "%s",
              err);
}

#endif
