/* cmd_load.c -- `workbench load`: calls at a steady rate through the balancer, with
 * instances found in a registry, and the failover timeline when one is killed. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/numopt.h"
#include "base/tempdir.h"
#include "commands.h"
#include "proc/supervisor.h"
#include "registry/consulproc.h"
#include "registry/etcdproc.h"
#include "registry/registry.h"
#include "regopt.h"
#include "rpc/balancer.h"
#include "wire/jsonval.h"

#define MAX_SPAWN 16
#define MAX_PLACED (1u << 22)

/* The ids of the orders Place answered OK, to read back after the run. */
typedef struct load_orders {
    int64_t *ids;
    size_t n, cap;
    bool dropped; /* more than MAX_PLACED */
} load_orders;

static void orders_note(load_orders *o, const value *reply)
{
    const value *id = value_get(reply, "id");
    if (!id || id->kind != V_INT)
        return;
    if (o->n == o->cap) {
        size_t ncap = o->cap ? o->cap * 2 : 1024;
        int64_t *p = ncap <= MAX_PLACED ? realloc(o->ids, ncap * sizeof *p) : NULL;
        if (!p) {
            o->dropped = true;
            return;
        }
        o->ids = p;
        o->cap = ncap;
    }
    o->ids[o->n++] = id->u.i;
}

/* A request id of this run for call i, so a retried Place does not order twice. */
static int set_request_id(value *arg, uint64_t i)
{
    char rid[64];
    static unsigned long long run;
    if (!run)
        run = (unsigned long long)time(NULL);
    snprintf(rid, sizeof rid, "load-%d-%llu-%llu", (int)getpid(), run, (unsigned long long)i);
    if (arg->kind == V_MAP) {
        for (size_t k = 0; k < arg->u.map.len; k++)
            if (strcmp(arg->u.map.items[k].k->u.s.p, "request_id") == 0) {
                value_free(arg->u.map.items[k].v);
                arg->u.map.items[k].v = value_cstring(rid);
                return arg->u.map.items[k].v ? 0 : -1;
            }
        return value_map_put(arg, value_cstring("request_id"), value_cstring(rid));
    }
    return -1;
}

/* user-server's Login needs the account: create it once (ALREADY_EXISTS is fine). */
static void sign_up(balancer *lb, const value *arg)
{
    value *reply = NULL;
    char err[256];
    balancer_call(lb, "/user.User/SignUp", arg, false, &reply, NULL, err, sizeof err);
    value_free(reply);
}

/* Reads every placed order back with Get, through the balancer, and prints the counts. */
static void orders_check(balancer *lb, const value *arg, const load_orders *o)
{
    const value *user = value_get(arg, "user");
    size_t readable = 0, missing = 0, failed = 0;
    char err[512], first[600] = "";
    for (size_t i = 0; i < o->n; i++) {
        value *q = value_struct(NULL), *reply = NULL;
        if (!q || value_struct_set(q, "id", value_int(o->ids[i])) < 0 ||
            value_struct_set(q, "user", value_cstring(user && user->kind == V_STRING ? user->u.s.p : "")) < 0) {
            value_free(q);
            failed++;
            continue;
        }
        call_status st = balancer_call(lb, "/order.Order/Get", q, true, &reply, NULL, err, sizeof err);
        value_free(q);
        value_free(reply);
        if (st == CALL_OK)
            readable++;
        else if (st == CALL_REMOTE_ERROR && strncmp(err, "NOT_FOUND", 9) == 0)
            missing++;
        else
            failed++;
        if (st != CALL_OK && !first[0])
            snprintf(first, sizeof first, " (order %lld: %.500s)", (long long)o->ids[i], err);
    }
    printf("\nOrders: %zu placed (answered OK), %zu read back with Get after the run, %zu missing, "
           "%zu could not be read%s%s\n", o->n, readable, missing, failed, first,
           o->dropped ? "; only the first ids were kept" : "");
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: workbench load --service NAME --codec gob|json|grpc --rate N --duration S\n"
            "                      [--registry URL] [--spawn N] [--kill-after S [--signal KILL|TERM|STOP]]\n"
            "                      [--method M --args JSON] [--policy round-robin|pick-first]\n"
            "Calls METHOD at a steady rate through the client-side balancer, finding the\n"
            "instances of NAME in the registry and following its changes, then prints each\n"
            "instance's share of the calls, failures and latency percentiles.\n\n"
            "Options:\n"
            "      --registry URL  etcd://HOST:PORT, consul://HOST:PORT, or static (no registry:\n"
            "                      the spawned instances are the list), or consul-dev (a private\n"
            "                      `consul agent -dev`, when consul is installed). Default: a\n"
            "                      private etcd started for this run and removed after\n"
            "      --spawn N       start N instances of the codec's server, registered in it\n"
            "      --ttl S         their lease/check TTL (default 5)\n"
            "      --kill-after S  signal the first spawned instance S seconds in, and print the\n"
            "                      failover timeline\n"
            "      --signal SIG    KILL (default), TERM (graceful: it deregisters) or STOP (hung)\n"
            "      --restart-after S  start the killed instance again, on the same port (a\n"
            "                      STOPped one is resumed with SIGCONT)\n"
            "      --registry-down-after S, --registry-up-after S\n"
            "                      stop the private etcd, and start it again: calls go on to the\n"
            "                      instances already known, and the servers register again\n"
            "      --method M      default Arith.Multiply; --args JSON default {\"A\":7,\"B\":8}\n"
            "      --program P     spawn P instead of the codec's sample server: order-server\n"
            "                      (calls /order.Order/Place, each with its own request_id, and\n"
            "                      reads every placed order back with Get after the run) or\n"
            "                      user-server (calls /user.User/Login); gRPC only\n"
            "      --db PATH       their SQLite file, shared by every instance (default: a\n"
            "                      temporary file removed after the run)\n"
            "      --timeout MS    deadline of each call (default 1000)\n"
            "      --no-retry      do not retry a call whose connection failed\n\n"
            "Example: seed 000's experiment, two servers, one killed:\n"
            "  workbench load --service hello --codec json --spawn 2 --rate 200 --duration 8 --kill-after 3\n"
            "Orders placed while one order-server is killed, each read back afterwards:\n"
            "  workbench load --service order --codec grpc --program order-server --spawn 2 --rate 200 \\\n"
            "      --duration 6 --kill-after 2\n");
}

int cmd_load(int argc, char **argv)
{
    static const struct option opts[] = {
        {"registry", required_argument, NULL, 'r'}, {"service", required_argument, NULL, 's'},
        {"codec", required_argument, NULL, 'c'},    {"rate", required_argument, NULL, 'R'},
        {"duration", required_argument, NULL, 'd'}, {"method", required_argument, NULL, 'm'},
        {"args", required_argument, NULL, 'a'},     {"spawn", required_argument, NULL, 'n'},
        {"kill-after", required_argument, NULL, 'k'}, {"signal", required_argument, NULL, 'S'},
        {"policy", required_argument, NULL, 'p'},   {"timeout", required_argument, NULL, 't'},
        {"ttl", required_argument, NULL, 'T'},      {"no-retry", no_argument, NULL, 'N'},
        {"restart-after", required_argument, NULL, 'A'},
        {"registry-down-after", required_argument, NULL, 'D'},
        {"registry-up-after", required_argument, NULL, 'U'},
        {"program", required_argument, NULL, 'P'}, {"db", required_argument, NULL, 'B'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
    const char *reg_url = NULL, *service = NULL, *codec = NULL, *method = NULL, *args = NULL,
               *program = NULL, *db = NULL;
    double rate = 0, duration = 0, kill_after = -1, restart_after = -1, down_after = -1, up_after = -1;
    int nspawn = 0, timeout = 1000, ttl = 5, sig = SIGKILL;
    bool retry = true;
    pick_policy policy = PICK_ROUND_ROBIN;
    regopt ro = {.kind = REGOPT_PRIVATE_ETCD};
    char err[512];
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'r':
            if (regopt_parse(optarg, &ro, err, sizeof err) < 0) {
                fprintf(stderr, "workbench load: --registry: %s\n", err);
                return EXIT_USAGE;
            }
            break;
        case 's': service = optarg; break;
        case 'c': codec = optarg; break;
        case 'R': rate = atof(optarg); break;
        case 'd': duration = atof(optarg); break;
        case 'm': method = optarg; break;
        case 'a': args = optarg; break;
        case 'n':
            if (numopt_int(optarg, 0, 64, &nspawn) < 0)
                nspawn = -1; /* refused below */
            break;
        case 'k': kill_after = atof(optarg); break;
        case 't':
            if (numopt_int(optarg, 1, 3600000, &timeout) < 0)
                timeout = -1; /* refused below */
            break;
        case 'T':
            if (numopt_int(optarg, 1, 3600, &ttl) < 0)
                ttl = -1; /* refused below */
            break;
        case 'N': retry = false; break;
        case 'A': restart_after = atof(optarg); break;
        case 'D': down_after = atof(optarg); break;
        case 'U': up_after = atof(optarg); break;
        case 'P': program = optarg; break;
        case 'B': db = optarg; break;
        case 'S':
            sig = strcmp(optarg, "KILL") == 0 ? SIGKILL : strcmp(optarg, "TERM") == 0 ? SIGTERM
                  : strcmp(optarg, "STOP") == 0 ? SIGSTOP : 0;
            if (!sig) {
                fprintf(stderr, "workbench load: --signal wants KILL, TERM or STOP\n");
                return EXIT_USAGE;
            }
            break;
        case 'p':
            if (strcmp(optarg, "round-robin") == 0)
                policy = PICK_ROUND_ROBIN;
            else if (strcmp(optarg, "pick-first") == 0)
                policy = PICK_FIRST;
            else {
                fprintf(stderr, "workbench load: --policy wants round-robin or pick-first\n");
                return EXIT_USAGE;
            }
            break;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    rpc_proto proto;
    if (!service || !codec || rate <= 0 || rate > 100000 || duration <= 0 || duration > 3600 ||
        nspawn < 0 || nspawn > MAX_SPAWN || timeout <= 0 || ttl < 1) {
        fprintf(stderr, "workbench load: --service, --codec, --rate (1..100000) and --duration (s) are needed%s\n\n",
                nspawn > MAX_SPAWN ? "; --spawn is at most 16" : "");
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(codec, "gob") == 0)
        proto = PROTO_GOB;
    else if (strcmp(codec, "json") == 0)
        proto = PROTO_JSON;
    else if (strcmp(codec, "grpc") == 0)
        proto = PROTO_GRPC;
    else {
        fprintf(stderr, "workbench load: --codec wants gob, json or grpc\n");
        return EXIT_USAGE;
    }
    if (kill_after >= 0 && nspawn == 0) {
        fprintf(stderr, "workbench load: --kill-after needs --spawn (only spawned instances can be killed)\n");
        return EXIT_USAGE;
    }
    if (restart_after >= 0 && (kill_after < 0 || restart_after <= kill_after)) {
        fprintf(stderr, "workbench load: --restart-after needs a --kill-after before it\n");
        return EXIT_USAGE;
    }
    if ((down_after >= 0 || up_after >= 0) && ro.kind != REGOPT_PRIVATE_ETCD) {
        fprintf(stderr, "workbench load: --registry-down-after/--registry-up-after work on the private etcd only\n");
        return EXIT_USAGE;
    }
    if (program && strcmp(program, "order-server") != 0 && strcmp(program, "user-server") != 0) {
        fprintf(stderr, "workbench load: --program wants order-server or user-server\n");
        return EXIT_USAGE;
    }
    if (program && proto != PROTO_GRPC) {
        fprintf(stderr, "workbench load: --program %s speaks gRPC: give --codec grpc\n", program);
        return EXIT_USAGE;
    }
    bool orders = program && strcmp(program, "order-server") == 0;
    if (!method)
        method = !program ? "Arith.Multiply" : orders ? "/order.Order/Place" : "/user.User/Login";
    if (!args)
        args = !program ? "{\"A\":7,\"B\":8}"
               : orders ? "{\"user\":\"load\",\"item\":\"workbench load\",\"quantity\":1}"
                        : "{\"name\":\"load\",\"password\":\"load-password\"}";
    bool placing = strcmp(method, "/order.Order/Place") == 0 || strcmp(method, "order.Order/Place") == 0;
    value *arg = jsonval_parse(args, strlen(args), err, sizeof err);
    if (!arg) {
        fprintf(stderr, "workbench load: --args is not JSON: %s\n", err);
        return EXIT_USAGE;
    }

    int rc = EXIT_FAILED;
    etcdproc etcd = {0};
    consulproc consul = {0};
    bool own_etcd = false, own_consul = false, is_static = ro.kind == REGOPT_STATIC;
    supervisor *sup = NULL;
    registry *reg = NULL;
    load_orders placed = {0};
    char tmpdir[64] = "", dbpath[320] = "";
    if (program && !db) {
        if (tempdir_make(tmpdir, sizeof tmpdir, "wb-load") < 0) {
            fprintf(stderr, "workbench load: cannot make a temporary directory: %s\n", strerror(errno));
            value_free(arg);
            return EXIT_FAILED;
        }
        snprintf(dbpath, sizeof dbpath, "%s/%s.db", tmpdir, orders ? "orders" : "users");
        db = dbpath;
    }
    registry_watch *watch = NULL;
    balancer *lb = balancer_new(proto, policy, timeout);
    if (ro.kind == REGOPT_URL)
        reg_url = ro.url;
    if (ro.kind == REGOPT_PRIVATE_ETCD) {
        if (etcdproc_start(&etcd, 10000, err, sizeof err) < 0) {
            fprintf(stderr, "workbench load: %s\n", err);
            goto done;
        }
        own_etcd = true;
        reg_url = etcd.url;
    } else if (ro.kind == REGOPT_CONSUL_DEV) {
        if (consulproc_start(&consul, 15000, err, sizeof err) < 0) {
            fprintf(stderr, "workbench load: %s\n", err);
            goto done;
        }
        own_consul = true;
        reg_url = consul.url;
    }
    sup = supervisor_new(is_static ? "none" : reg_url, service, ttl);
    if (own_etcd)
        supervisor_note(sup, 0, "started a private etcd at %s", etcd.client);
    if (own_consul)
        supervisor_note(sup, 0, "started a private consul agent -dev at %s", consul.http);
    for (int i = 0; i < nspawn; i++) {
        const char *pargs[] = {"--db", db, NULL};
        int id = program ? supervisor_spawn_service(sup, program, service, pargs, err, sizeof err)
                         : supervisor_spawn(sup, proto, err, sizeof err);
        if (id < 0) {
            fprintf(stderr, "workbench load: %s\n", err);
            goto done;
        }
        if (is_static)
            balancer_add(lb, supervisor_find(sup, id)->addr);
    }
    if (!is_static) {
        if (!(reg = registry_new(reg_url, NULL, err, sizeof err))) {
            fprintf(stderr, "workbench load: %s\n", err);
            rc = EXIT_USAGE;
            goto done;
        }
        /* the spawned instances register in the background: wait until all are listed */
        registry_instance *list = NULL;
        size_t n = 0;
        int64_t rev = 0;
        uint64_t deadline = clock_now_ms() + 5000;
        for (;;) {
            free(list);
            list = NULL;
            if (registry_list(reg, service, &list, &n, &rev, err, sizeof err) < 0) {
                fprintf(stderr, "workbench load: the registry at %s: %s\n", reg_url, err);
                goto done;
            }
            if ((int)n >= nspawn || clock_now_ms() > deadline)
                break;
            clock_sleep_us(50000);
        }
        for (size_t i = 0; i < n; i++)
            balancer_add(lb, list[i].addr);
        supervisor_note(sup, 0, "the registry lists %zu instance(s) of %s", n, service);
        free(list);
        if (!(watch = registry_watch_start(reg, service, rev, err, sizeof err))) {
            fprintf(stderr, "workbench load: cannot watch the registry: %s\n", err);
            goto done;
        }
    }

    const char *victim = nspawn ? supervisor_find(sup, 1)->addr : NULL;
    char victim_addr[80] = "";
    if (victim)
        snprintf(victim_addr, sizeof victim_addr, "%s", victim);
    victim = nspawn ? victim_addr : NULL;
    bool killed = false, restarted = false, reg_down = false, reg_up = false;
    uint64_t restart_at = 0, after_restart = 0, victim_after_restart = 0, last_dead_call = 0;
    uint64_t kill_at = 0, dropped_at = 0, first_fail_at = 0;
    uint64_t total = 0, failed_calls = 0, retried = 0, remote_errors = 0;
    uint64_t start = clock_now_ms(), end = start + (uint64_t)(duration * 1000);
    for (uint64_t i = 0;; i++) {
        uint64_t due = start + (uint64_t)((double)i * 1000.0 / rate);
        uint64_t now = clock_now_ms();
        if (due >= end)
            break;
        registry_event ev;
        while (watch && registry_watch_next(watch, &ev, due > now ? (int)(due - now) : 0) == 1) {
            if (ev.type == REGISTRY_EV_PUT) {
                balancer_add(lb, ev.inst.addr);
                supervisor_note(sup, 0, "registry: %s registered", ev.inst.addr);
            } else if (ev.type == REGISTRY_EV_DELETE) {
                balancer_remove(lb, ev.inst.addr);
                supervisor_note(sup, 0, "registry: %s removed", ev.inst.addr);
                if (victim && killed && !dropped_at && strcmp(ev.inst.addr, victim) == 0)
                    dropped_at = clock_now_ms();
            } else if (ev.type == REGISTRY_EV_ERROR) {
                supervisor_note(sup, 0, "registry unreachable (%s); calling the instances already known", ev.msg);
            } else if (ev.type == REGISTRY_EV_RESUMED) {
                supervisor_note(sup, 0, "registry reachable again");
            }
            now = clock_now_ms();
        }
        if (!watch && due > now)
            clock_sleep_us((uint64_t)((due - now) * 1000));
        if (victim && !killed && kill_after >= 0 && clock_now_ms() >= start + (uint64_t)(kill_after * 1000)) {
            supervisor_signal(sup, 1, sig);
            killed = true;
            kill_at = clock_now_ms();
        }
        supervisor_poll(sup);
        if (killed && !restarted && restart_after >= 0 &&
            clock_now_ms() >= start + (uint64_t)(restart_after * 1000)) {
            restarted = true;
            restart_at = clock_now_ms();
            if (sig == SIGSTOP) {
                supervisor_signal(sup, 1, SIGCONT);
            } else {
                if (supervisor_restart(sup, 1, err, sizeof err) < 0)
                    supervisor_note(sup, 1, "could not restart %s: %s", victim, err);
                if (is_static)
                    balancer_add(lb, victim);
            }
        }
        if (own_etcd && !reg_down && down_after >= 0 && clock_now_ms() >= start + (uint64_t)(down_after * 1000)) {
            reg_down = true;
            etcdproc_stop(&etcd, false);
            supervisor_note(sup, 0, "stopped the private etcd");
        }
        if (own_etcd && reg_down && !reg_up && up_after >= 0 && clock_now_ms() >= start + (uint64_t)(up_after * 1000)) {
            reg_up = true;
            if (etcdproc_restart(&etcd, 0, err, sizeof err) < 0)
                supervisor_note(sup, 0, "could not start etcd again: %s", err);
            else
                supervisor_note(sup, 0, "started the private etcd again (same data, same port)");
        }
        value *reply = NULL;
        lb_result res;
        if (placing && set_request_id(arg, i) < 0) {
            fprintf(stderr, "workbench load: out of memory\n");
            goto done;
        }
        if (program && !orders && i == 0)
            sign_up(lb, arg);
        call_status st = balancer_call(lb, method, arg, retry, &reply, &res, err, sizeof err);
        if (placing && st == CALL_OK)
            orders_note(&placed, reply);
        value_free(reply);
        total++;
        size_t nall;
        const lb_instance *insts = balancer_instances(lb, &nall);
        if (killed && !restarted &&
            ((res.instance >= 0 && strcmp(insts[res.instance].addr, victim) == 0) ||
             (res.failed_on >= 0 && strcmp(insts[res.failed_on].addr, victim) == 0)))
            last_dead_call = clock_now_ms();
        if (restarted && st == CALL_OK) {
            after_restart++;
            if (res.instance >= 0 && strcmp(insts[res.instance].addr, victim) == 0)
                victim_after_restart++;
        }
        if (res.failed_on >= 0) {
            retried++;
            size_t ni;
            const lb_instance *all = balancer_instances(lb, &ni);
            if (!first_fail_at && killed) {
                first_fail_at = clock_now_ms();
                supervisor_note(sup, 0, "a call to %s failed (%s); retried on %s", all[res.failed_on].addr,
                     res.first_error, res.instance >= 0 ? all[res.instance].addr : "-");
            }
        }
        if (st == CALL_FAILED) {
            failed_calls++;
            if (killed && !first_fail_at) {
                first_fail_at = clock_now_ms();
                supervisor_note(sup, 0, "a call failed: %s", err);
            }
        } else if (st == CALL_REMOTE_ERROR) {
            remote_errors++;
        }
    }
    double secs = (double)(clock_now_ms() - start) / 1000.0;

    printf("%s %s at %.0f/s for %.1f s, %s, through %s\n\n", codec, method, rate, secs,
           policy == PICK_FIRST ? "pick-first" : "round robin", is_static ? "a static list" : reg_url);
    printf("  %-22s %8s %6s %8s %8s %8s\n", "instance", "calls", "share", "failed", "p50 ms", "p99 ms");
    size_t ni;
    const lb_instance *all = balancer_instances(lb, &ni);
    for (size_t i = 0; i < ni; i++) {
        const lb_instance *in = &all[i];
        printf("  %-22s %8llu %5.1f%% %8llu %8.3f %8.3f%s\n", in->addr, (unsigned long long)in->calls,
               total ? 100.0 * (double)in->calls / (double)total : 0.0, (unsigned long long)in->failures,
               balancer_percentile(in, 50) / 1000.0, balancer_percentile(in, 99) / 1000.0,
               victim && strcmp(in->addr, victim) == 0 && killed ? "  (killed)" : "");
    }
    printf("\n  %llu calls, %llu failed after retries, %llu retried on another instance, "
           "%llu answered with an error\n", (unsigned long long)total, (unsigned long long)failed_calls,
           (unsigned long long)retried, (unsigned long long)remote_errors);
    if (killed) {
        int vi = -1;
        for (size_t i = 0; i < ni; i++)
            if (strcmp(all[i].addr, victim) == 0)
                vi = (int)i;
        uint64_t last = restarted ? last_dead_call : vi >= 0 ? all[vi].last_call_ms : 0;
        printf("\nFailover (SIG%s to %s at +%.3f s):\n", sig == SIGKILL ? "KILL" : sig == SIGTERM ? "TERM" : "STOP",
               victim, (double)(kill_at - start) / 1000.0);
        if (last >= kill_at)
            printf("  last call sent to it:        +%.3f s after the signal%s\n", (double)(last - kill_at) / 1000.0,
                   sig != SIGKILL ? ""
                   : retry ? " (after the first failure it is only probed, with backoff, until\n"
                             "                               the registry drops it; every probe's call is retried)"
                           : " (after the first failure it is only probed, with backoff, until\n"
                             "                               the registry drops it; --no-retry: a failed probe is a failed call)");
        else
            printf("  last call sent to it:        before the signal\n");
        printf("  registry dropped it:         %s", dropped_at ? "" : "not within the run");
        if (dropped_at)
            printf("+%.3f s after the signal (TTL %d s)", (double)(dropped_at - kill_at) / 1000.0, ttl);
        printf("\n  failed calls after retries:  %llu\n", (unsigned long long)failed_calls);
        if (restarted)
            printf("  after it came back (+%.3f s): %llu of %llu calls went to it (%.1f%%)\n",
                   (double)(restart_at - start) / 1000.0, (unsigned long long)victim_after_restart,
                   (unsigned long long)after_restart,
                   after_restart ? 100.0 * (double)victim_after_restart / (double)after_restart : 0.0);
    }
    if (placing)
        orders_check(lb, arg, &placed);
    printf("\nTimeline:\n");
    size_t nev;
    const sup_event *ev = supervisor_timeline(sup, &nev);
    for (size_t i = 0; i < nev; i++) {
        long long d = (long long)ev[i].at_ms - (long long)start;
        printf("  %+8.3f s  %s\n", (double)d / 1000.0, ev[i].what);
    }
    rc = EXIT_OK;
done:
    registry_watch_free(watch);
    registry_free(reg);
    balancer_free(lb);
    supervisor_free(sup);
    if (own_etcd)
        etcdproc_stop(&etcd, true);
    if (own_consul)
        consulproc_stop(&consul);
    value_free(arg);
    free(placed.ids);
    tempdir_remove(tmpdir);
    return rc;
}
