/* cmd_load.c -- `workbench load`: calls at a steady rate through the balancer, with
 * instances found in a registry, and the failover timeline when one is killed. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "base/clock.h"
#include "base/esc.h"
#include "base/eventlog.h"
#include "base/i18n.h"
#include "base/numopt.h"
#include "base/tempdir.h"
#include "commands.h"
#include "proc/supervisor.h"
#include "registry/consulproc.h"
#include "registry/etcdproc.h"
#include "registry/registry.h"
#include "loadevents.h"
#include "loadorders.h"
#include "pcapopt.h"
#include "regopt.h"
#include "rpc/balancer.h"
#include "wire/jsonval.h"

/* The counting rule the report shares with the TUI's Instances and Traffic panes. */
#define LOAD_COUNT_RULE N_("calls: answered by the instance, with a result or with an error (errors:\n" \
                        "  those with an error); failed: not answered, the connection failed or timed out")

#define MAX_SPAWN 16
static void usage(FILE *f)
{
    fputs(_("Usage: workbench load --service NAME --codec gob|json|grpc --rate N --duration S\n"
            "       [--registry URL] [--spawn N] [--kill-after S [--signal KILL|TERM|STOP]]\n"
            "       [--method M --args JSON] [--policy round-robin|pick-first]\n"
            "Calls METHOD at a steady rate through the client-side balancer, finding the\n"
            "instances of NAME in the registry and following its changes, then prints each\n"
            "instance's share of the calls, failures and latency percentiles.\n\n"
            "Options:\n"
            "      --registry URL  etcd://HOST:PORT, consul://HOST:PORT, or static (no\n"
            "                      registry: the spawned instances are the list), or\n"
            "                      consul-dev (a private `consul agent -dev`, when consul is\n"
            "                      installed). Default: a private etcd started for this run\n"
            "                      and removed after\n"),
          f);
    fputs(_("                      consul://HOST:PORT?check=tcp&interval=S&deregister=S:\n"
            "                      the spawned servers' Consul check, a check every S s,\n"
            "                      removed after S s critical (at least 60; see\n"
            "                      grpc-server --help); etcd's knob is --ttl\n"),
          f);
    fputs(_(REGISTRY_CREDS_HELP), f);
    fputs(_("                           The spawned servers get them through their\n"
            "                           environment, never on their command line\n"
            "      --spawn N       start N instances of the codec's server, registered in it\n"
            "      --ttl S         their lease/check TTL (default 5)\n"
            "      --kill-after S  signal the first spawned instance S seconds in, and print\n"
            "                      the failover timeline\n"
            "      --signal SIG    KILL (default), TERM (graceful: it deregisters) or STOP\n"
            "                      (hung)\n"
            "      --restart-after S  start the killed instance again, on the same port (a\n"
            "                      STOPped one is resumed with SIGCONT)\n"
            "      --registry-down-after S, --registry-up-after S\n"
            "                      stop the private etcd, and start it again: calls go on to\n"
            "                      the instances already known, and the servers register\n"
            "                      again\n"
            "      --method M      default Arith.Multiply; --args JSON default {\"A\":7,\"B\":8}\n"
            "      --program P     spawn P instead of the codec's sample server: order-server\n"
            "                      (calls /order.Order/Place, each with its own request_id,\n"
            "                      and reads every placed order back with Get after the run)\n"
            "                      or user-server (calls /user.User/Login); gRPC only\n"
            "      --db PATH       their SQLite file, shared by every instance (default: a\n"
            "                      temporary file removed after the run)\n"),
          f);
    fputs(_("      --pcap FILE     write every connection to the instances to FILE, a\n"
            "                      capture file that Wireshark and tshark open\n"),
          f);
    fputs(_("      --timeout MS    deadline of each call (default 1000)\n"
            "      --eject-after N  take an instance out of the picks after N attempts in\n"
            "                      a row failed at the connection (default 1)...\n"
            "      --backoff MS[:MAX_MS]  ...for MS, then try it again; doubled at each\n"
            "                      ejection in a row, up to MAX_MS (default 250:5000)\n"
            "      --no-retry      do not retry a call whose connection failed\n\n"
            "Example: the order-service tutorial's experiment, two servers, one killed:\n"),
          f);
    fputs("  workbench load --service hello --codec json --spawn 2 --rate 200 \\\n"
          "      --duration 8 --kill-after 3\n",
          f);
    fputs(_("Orders placed while one order-server is killed, each read back afterwards:\n"), f);
    fputs("  workbench load --service order --codec grpc --program order-server \\\n"
          "      --spawn 2 --rate 200 --duration 6 --kill-after 2\n",
          f);
}

/* What the command line asked for. */
typedef struct load_opts {
    regopt ro;
    registry_creds creds; /* for the registry, and (exported) for the spawned servers */
    const char *service, *codec, *method, *args, *program, *db;
    const char *pcap; /* --pcap FILE */
    rpc_proto proto;
    double rate, duration, kill_after, restart_after, down_after, up_after;
    int nspawn, timeout, ttl, sig;
    int eject_after, backoff_min, backoff_max; /* the balancer's ejection (ms) */
    bool retry;
    bool orders;  /* --program order-server */
    bool placing; /* the method is Place: each call gets a request id, the orders are read back */
    pick_policy policy;
} load_opts;

/* What the run set up, and tears down at the end. */
typedef struct load_env {
    value *arg;
    char tmpdir[64], dbpath[320];
    const char *db; /* --db, or dbpath in tmpdir */
    const char *reg_url;
    etcdproc etcd;
    consulproc consul;
    bool own_etcd, own_consul, is_static;
    balancer *lb;
    pcapout *rec; /* --pcap's writer */
    supervisor *sup;
    registry *reg;
    registry_watch *watch;
    char victim_addr[80];
    const char *victim; /* victim_addr: the first spawned instance; NULL without --spawn */
} load_env;

/* What happened during the run: the failover's moments and the calls' counts. */
typedef struct load_stats {
    bool killed, restarted, reg_down, reg_up;
    uint64_t start, end;
    uint64_t kill_at, dropped_at, first_fail_at, restart_at, last_dead_call;
    uint64_t after_restart, victim_after_restart;
    uint64_t total, failed_calls, retried, remote_errors;
    loadorders placed;
    loadevents events; /* the failed calls not yet on the lab's timeline */
} load_stats;

enum { LOAD_GO = -1 }; /* load_parse: go on and run */

/* --backoff MS[:MAX_MS] into *min and *max; without MAX_MS the default maximum stays (or
 * MS, when larger). Returns 0, or -1 for anything else. */
static int parse_backoff(const char *s, int *min, int *max)
{
    char first[32];
    const char *colon = strchr(s, ':');
    size_t n = colon ? (size_t)(colon - s) : strlen(s);
    if (n >= sizeof first)
        return -1;
    memcpy(first, s, n);
    first[n] = 0;
    if (numopt_int(first, 1, 3600000, min) < 0)
        return -1;
    if (!colon) {
        *max = *min > LB_BACKOFF_MAX_MS ? *min : LB_BACKOFF_MAX_MS;
        return 0;
    }
    return numopt_int(colon + 1, *min, 3600000, max);
}

/* Reads the options into o. Returns LOAD_GO, or the exit code when there is nothing to
 * run (--help, or a bad option, already reported). */
static int load_parse(int argc, char **argv, load_opts *o)
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
        {"eject-after", required_argument, NULL, 'e'}, {"backoff", required_argument, NULL, 'b'},
        {"pcap", required_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
    *o = (load_opts){.kill_after = -1, .restart_after = -1, .down_after = -1, .up_after = -1,
                     .timeout = 1000, .ttl = 5, .sig = SIGKILL, .retry = true, .eject_after = LB_EJECT_AFTER,
                     .backoff_min = LB_BACKOFF_MIN_MS, .backoff_max = LB_BACKOFF_MAX_MS,
                     .policy = PICK_ROUND_ROBIN, .ro = {.kind = REGOPT_PRIVATE_ETCD}};
    char err[512];
    regopt_creds given = {NULL, NULL, NULL, NULL};
    if (regopt_take_creds(&argc, argv, &given, err, sizeof err) < 0 ||
        registry_creds_pick(&o->creds, given.token, given.token_file, given.user, given.user_file, err,
                            sizeof err) < 0 ||
        registry_creds_export(&o->creds) < 0) {
        fprintf(stderr, _("workbench load: %s\n"), err);
        return EXIT_USAGE;
    }
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'r':
            if (regopt_parse(optarg, &o->ro, err, sizeof err) < 0) {
                fprintf(stderr, _("workbench load: --registry: %s\n"), err);
                return EXIT_USAGE;
            }
            break;
        case 's': o->service = optarg; break;
        case 'c': o->codec = optarg; break;
        case 'R': o->rate = atof(optarg); break;
        case 'd': o->duration = atof(optarg); break;
        case 'm': o->method = optarg; break;
        case 'a': o->args = optarg; break;
        case 'n':
            if (numopt_int(optarg, 0, 64, &o->nspawn) < 0)
                o->nspawn = -1; /* refused in load_check */
            break;
        case 'k': o->kill_after = atof(optarg); break;
        case 't':
            if (numopt_int(optarg, 1, 3600000, &o->timeout) < 0)
                o->timeout = -1; /* refused in load_check */
            break;
        case 'T':
            if (numopt_int(optarg, 1, 3600, &o->ttl) < 0)
                o->ttl = -1; /* refused in load_check */
            break;
        case 'N': o->retry = false; break;
        case 'e':
            if (numopt_int(optarg, 1, 1000, &o->eject_after) < 0) {
                fprintf(stderr, _("workbench load: --eject-after wants a number of failures in a row from 1 to 1000\n"));
                return EXIT_USAGE;
            }
            break;
        case 'b':
            if (parse_backoff(optarg, &o->backoff_min, &o->backoff_max) < 0) {
                fprintf(stderr, _("workbench load: --backoff wants MS or MS:MAX_MS, milliseconds from 1 to 3600000 "
                                  "with MAX_MS not below MS (e.g. 250:5000)\n"));
                return EXIT_USAGE;
            }
            break;
        case 'A': o->restart_after = atof(optarg); break;
        case 'D': o->down_after = atof(optarg); break;
        case 'U': o->up_after = atof(optarg); break;
        case 'P': o->program = optarg; break;
        case 'B': o->db = optarg; break;
        case 'C': o->pcap = optarg; break;
        case 'S':
            o->sig = strcmp(optarg, "KILL") == 0 ? SIGKILL : strcmp(optarg, "TERM") == 0 ? SIGTERM
                     : strcmp(optarg, "STOP") == 0 ? SIGSTOP : 0;
            if (!o->sig) {
                fprintf(stderr, _("workbench load: --signal wants KILL, TERM or STOP\n"));
                return EXIT_USAGE;
            }
            break;
        case 'p':
            if (strcmp(optarg, "round-robin") == 0)
                o->policy = PICK_ROUND_ROBIN;
            else if (strcmp(optarg, "pick-first") == 0)
                o->policy = PICK_FIRST;
            else {
                fprintf(stderr, _("workbench load: --policy wants round-robin or pick-first\n"));
                return EXIT_USAGE;
            }
            break;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    return LOAD_GO;
}

/* Refuses options that do not go together, fills in the defaults that depend on
 * --program, and parses --args into *arg. Returns EXIT_OK, or EXIT_USAGE (reported). */
static int load_check(load_opts *o, value **arg)
{
    if (!o->service || !o->codec || o->rate <= 0 || o->rate > 100000 || o->duration <= 0 || o->duration > 3600 ||
        o->nspawn < 0 || o->nspawn > MAX_SPAWN || o->timeout <= 0 || o->ttl < 1) {
        fprintf(stderr, _("workbench load: --service, --codec, --rate (1..100000) and --duration (s) are needed%s\n\n"),
                o->nspawn > MAX_SPAWN ? _("; --spawn is at most 16") : "");
        usage(stderr);
        return EXIT_USAGE;
    }
    char why[512];
    if (registry_check_names(o->service, NULL, NULL, why, sizeof why) < 0) {
        char shown[4 * sizeof why];
        fprintf(stderr, _("workbench load: --service: %s\n"), esc_str(shown, sizeof shown, why));
        return EXIT_USAGE;
    }
    if (strcmp(o->codec, "gob") == 0)
        o->proto = PROTO_GOB;
    else if (strcmp(o->codec, "json") == 0)
        o->proto = PROTO_JSON;
    else if (strcmp(o->codec, "grpc") == 0)
        o->proto = PROTO_GRPC;
    else {
        fprintf(stderr, _("workbench load: --codec wants gob, json or grpc\n"));
        return EXIT_USAGE;
    }
    if (o->kill_after >= 0 && o->nspawn == 0) {
        fprintf(stderr, _("workbench load: --kill-after needs --spawn (only spawned instances can be killed)\n"));
        return EXIT_USAGE;
    }
    if (o->restart_after >= 0 && (o->kill_after < 0 || o->restart_after <= o->kill_after)) {
        fprintf(stderr, _("workbench load: --restart-after needs a --kill-after before it\n"));
        return EXIT_USAGE;
    }
    if ((o->down_after >= 0 || o->up_after >= 0) && o->ro.kind != REGOPT_PRIVATE_ETCD) {
        fprintf(stderr, _("workbench load: --registry-down-after/--registry-up-after work on the private etcd only\n"));
        return EXIT_USAGE;
    }
    if (o->program && strcmp(o->program, "order-server") != 0 && strcmp(o->program, "user-server") != 0) {
        fprintf(stderr, _("workbench load: --program wants order-server or user-server\n"));
        return EXIT_USAGE;
    }
    if (o->program && o->proto != PROTO_GRPC) {
        fprintf(stderr, _("workbench load: --program %s speaks gRPC: give --codec grpc\n"), o->program);
        return EXIT_USAGE;
    }
    o->orders = o->program && strcmp(o->program, "order-server") == 0;
    if (!o->method)
        o->method = !o->program ? "Arith.Multiply" : o->orders ? "/order.Order/Place" : "/user.User/Login";
    if (!o->args)
        o->args = !o->program ? "{\"A\":7,\"B\":8}"
                  : o->orders ? "{\"user\":\"load\",\"item\":\"workbench load\",\"quantity\":1}"
                              : "{\"name\":\"load\",\"password\":\"load-password\"}";
    o->placing = strcmp(o->method, "/order.Order/Place") == 0 || strcmp(o->method, "order.Order/Place") == 0;
    char err[512];
    if (!(*arg = jsonval_parse(o->args, strlen(o->args), err, sizeof err))) {
        fprintf(stderr, _("workbench load: --args is not JSON: %s\n"), err);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* Starts the private registry the options ask for (etcd or consul-dev) and sets
 * e->reg_url. Returns 0, or -1 (reported). */
static int load_start_registry(const load_opts *o, load_env *e)
{
    char err[512];
    if (o->ro.kind == REGOPT_URL)
        e->reg_url = o->ro.url;
    if (o->ro.kind == REGOPT_PRIVATE_ETCD) {
        if (etcdproc_start(&e->etcd, 10000, err, sizeof err) < 0) {
            fprintf(stderr, _("workbench load: %s\n"), err);
            return -1;
        }
        e->own_etcd = true;
        e->reg_url = e->etcd.url;
    } else if (o->ro.kind == REGOPT_CONSUL_DEV) {
        if (consulproc_start(&e->consul, 15000, err, sizeof err) < 0) {
            fprintf(stderr, _("workbench load: %s\n"), err);
            return -1;
        }
        e->own_consul = true;
        e->reg_url = e->consul.url;
    }
    return 0;
}

/* Gives the balancer the instances the registry lists (waiting up to 5 s for the
 * spawned ones, which register in the background), then follows its changes.
 * Returns EXIT_OK, or an exit code (reported). */
static int load_follow_registry(const load_opts *o, load_env *e)
{
    char err[512];
    if (!(e->reg = registry_new(e->reg_url, &o->creds.auth, err, sizeof err))) {
        char shown[4 * sizeof err];
        fprintf(stderr, _("workbench load: %s\n"), esc_str(shown, sizeof shown, err));
        return EXIT_USAGE;
    }
    if (registry_check_service(e->reg, o->service, err, sizeof err) < 0) { /* what this backend refuses */
        char shown[4 * sizeof err];
        fprintf(stderr, _("workbench load: --service: %s\n"), esc_str(shown, sizeof shown, err));
        return EXIT_USAGE;
    }
    registry_instance *list = NULL;
    size_t n = 0;
    int64_t rev = 0;
    uint64_t deadline = clock_now_ms() + 5000;
    for (;;) {
        free(list);
        list = NULL;
        if (registry_list(e->reg, o->service, &list, &n, &rev, err, sizeof err) < 0) {
            if (clock_now_ms() + 100 < deadline) { /* a passing error: an election, a member away */
                clock_sleep_ms(100);
                continue;
            }
            char shown[4 * sizeof err];
            fprintf(stderr, _("workbench load: the registry at %s: %s\n"), e->reg_url,
                    esc_str(shown, sizeof shown, err));
            return EXIT_FAILED;
        }
        if ((int)n >= o->nspawn || clock_now_ms() > deadline)
            break;
        clock_sleep_ms(50);
    }
    for (size_t i = 0; i < n; i++)
        if (registry_instance_usable(&list[i])) {
            balancer_add(e->lb, list[i].addr);
            eventlog_say("registry", "added %s", list[i].addr);
        }
    supervisor_note(e->sup, 0, _("the registry lists %zu instance(s) of %s"), n, o->service);
    if (registry_list_left_out(e->reg))
        supervisor_note(e->sup, 0, _("the registry has %zu instance(s) more than the %d a listing holds; "
                        "they get no calls"), registry_list_left_out(e->reg), REGISTRY_MAX_INSTANCES);
    free(list);
    if (!(e->watch = registry_watch_start(e->reg, o->service, rev, err, sizeof err))) {
        char shown[4 * sizeof err];
        fprintf(stderr, _("workbench load: cannot watch the registry: %s\n"), esc_str(shown, sizeof shown, err));
        return EXIT_FAILED;
    }
    return EXIT_OK;
}

/* The registry, the spawned servers and the balancer. Returns EXIT_OK, or an exit
 * code (reported); load_teardown undoes what was done either way. */
static int load_setup(const load_opts *o, load_env *e)
{
    char err[512];
    e->db = o->db;
    if (o->program && !o->db) {
        if (tempdir_make(e->tmpdir, sizeof e->tmpdir, "wb-load") < 0) {
            fprintf(stderr, _("workbench load: cannot make a temporary directory: %s\n"), strerror(errno));
            return EXIT_FAILED;
        }
        snprintf(e->dbpath, sizeof e->dbpath, "%s/%s.db", e->tmpdir, o->orders ? "orders" : "users");
        e->db = e->dbpath;
    }
    e->is_static = o->ro.kind == REGOPT_STATIC;
    e->lb = balancer_new(o->proto, o->policy, o->timeout);
    balancer_set_ejection(e->lb, o->eject_after, o->backoff_min, o->backoff_max);
    balancer_record(e->lb, e->rec);
    loadevents_watch_balancer(e->lb);
    if (load_start_registry(o, e) < 0)
        return EXIT_FAILED;
    e->sup = supervisor_new(e->is_static ? "none" : e->reg_url, o->service, o->ttl);
    if (e->own_etcd)
        supervisor_note(e->sup, 0, _("started a private etcd at %s"), e->etcd.client);
    if (e->own_consul)
        supervisor_note(e->sup, 0, _("started a private consul agent -dev at %s"), e->consul.http);
    for (int i = 0; i < o->nspawn; i++) {
        const char *pargs[] = {"--db", e->db, NULL};
        int id = o->program ? supervisor_spawn_service(e->sup, o->program, o->service, pargs, err, sizeof err)
                            : supervisor_spawn(e->sup, o->proto, err, sizeof err);
        if (id < 0) {
            fprintf(stderr, _("workbench load: %s\n"), err);
            return EXIT_FAILED;
        }
        if (e->is_static)
            balancer_add(e->lb, supervisor_find(e->sup, id)->addr);
    }
    if (!e->is_static) {
        int rc = load_follow_registry(o, e);
        if (rc != EXIT_OK)
            return rc;
    }
    if (o->nspawn) {
        snprintf(e->victim_addr, sizeof e->victim_addr, "%s", supervisor_find(e->sup, 1)->addr);
        e->victim = e->victim_addr;
    }
    return EXIT_OK;
}

static void load_teardown(load_env *e)
{
    registry_watch_free(e->watch);
    registry_free(e->reg);
    balancer_free(e->lb);
    supervisor_free(e->sup);
    if (e->own_etcd)
        etcdproc_stop(&e->etcd, true);
    if (e->own_consul)
        consulproc_stop(&e->consul);
    value_free(e->arg);
    tempdir_remove(e->tmpdir);
}

/* Whether addr is one of the instances the balancer picks from now. */
static bool lb_present(const balancer *lb, const char *addr)
{
    size_t n;
    const lb_instance *all = balancer_instances(lb, &n);
    for (size_t i = 0; i < n; i++)
        if (all[i].present && strcmp(all[i].addr, addr) == 0)
            return true;
    return false;
}

/* Takes addr out of the balancer's picks ("registry dropped ADDR" on the lab's timeline). */
static void load_drop(load_env *e, const char *addr)
{
    if (lb_present(e->lb, addr))
        eventlog_say("registry", "dropped %s", addr);
    balancer_remove(e->lb, addr);
}

/* Waits until due: following the registry's changes meanwhile, or sleeping without one. */
static void load_wait(load_env *e, load_stats *s, uint64_t due)
{
    uint64_t now = clock_now_ms();
    registry_event ev;
    while (e->watch && registry_watch_next(e->watch, &ev, due > now ? (int)(due - now) : 0) == 1) {
        if (ev.type == REGISTRY_EV_PUT && registry_instance_usable(&ev.inst)) {
            if (!lb_present(e->lb, ev.inst.addr))
                eventlog_say("registry", "added %s", ev.inst.addr);
            balancer_add(e->lb, ev.inst.addr);
            supervisor_note(e->sup, 0, ev.was[0] ? _("registry: %s passes its check again") : _("registry: %s registered"),
                            ev.inst.addr);
        } else if (ev.type == REGISTRY_EV_PUT) { /* its check fails: no calls until it passes */
            load_drop(e, ev.inst.addr);
            char st[4 * sizeof ev.inst.status];
            supervisor_note(e->sup, 0, _("registry: %s check %s"), ev.inst.addr, esc_str(st, sizeof st, ev.inst.status));
            if (e->victim && s->killed && !s->dropped_at && strcmp(ev.inst.addr, e->victim) == 0)
                s->dropped_at = clock_now_ms();
        } else if (ev.type == REGISTRY_EV_DELETE) {
            load_drop(e, ev.inst.addr);
            supervisor_note(e->sup, 0, _("registry: %s removed"), ev.inst.addr);
            if (e->victim && s->killed && !s->dropped_at && strcmp(ev.inst.addr, e->victim) == 0)
                s->dropped_at = clock_now_ms();
        } else if (ev.type == REGISTRY_EV_ERROR) {
            supervisor_note(e->sup, 0, _("registry unreachable (%s); calling the instances already known"), ev.msg);
        } else if (ev.type == REGISTRY_EV_RESUMED) {
            supervisor_note(e->sup, 0, _("registry reachable again"));
        }
        now = clock_now_ms();
    }
    if (!e->watch && due > now)
        clock_sleep_us((uint64_t)((due - now) * 1000));
}

/* Whether the moment `after` seconds into the run (negative: never) has come. */
static bool load_due(const load_stats *s, double after)
{
    return after >= 0 && clock_now_ms() >= s->start + (uint64_t)(after * 1000);
}

/* The scheduled events whose time has come: the kill, the restart, the registry's
 * outage and its return. */
static void load_schedule(const load_opts *o, load_env *e, load_stats *s)
{
    char err[512];
    if (e->victim && !s->killed && load_due(s, o->kill_after)) {
        supervisor_signal(e->sup, 1, o->sig);
        s->killed = true;
        s->kill_at = clock_now_ms();
    }
    supervisor_poll(e->sup);
    if (s->killed && !s->restarted && load_due(s, o->restart_after)) {
        s->restarted = true;
        s->restart_at = clock_now_ms();
        if (o->sig == SIGSTOP) {
            supervisor_signal(e->sup, 1, SIGCONT);
        } else {
            if (supervisor_restart(e->sup, 1, err, sizeof err) < 0)
                supervisor_note(e->sup, 1, _("could not restart %s: %s"), e->victim, err);
            if (e->is_static)
                balancer_add(e->lb, e->victim);
        }
    }
    if (e->own_etcd && !s->reg_down && load_due(s, o->down_after)) {
        s->reg_down = true;
        etcdproc_stop(&e->etcd, false);
        supervisor_note(e->sup, 0, _("stopped the private etcd"));
    }
    if (e->own_etcd && s->reg_down && !s->reg_up && load_due(s, o->up_after)) {
        s->reg_up = true;
        if (etcdproc_restart(&e->etcd, 0, err, sizeof err) < 0)
            supervisor_note(e->sup, 0, _("could not start etcd again: %s"), err);
        else
            supervisor_note(e->sup, 0, _("started the private etcd again (same data, same port)"));
    }
}

/* Whether instance index i of the balancer is the victim. */
static bool is_victim(const load_env *e, const lb_instance *all, int i)
{
    return i >= 0 && strcmp(all[i].addr, e->victim) == 0;
}

/* Makes call number i and counts how it went. Returns 0, or -1 out of memory. */
static int load_call(const load_opts *o, load_env *e, load_stats *s, uint64_t i)
{
    char err[512];
    value *reply = NULL;
    lb_result res;
    if (o->placing && loadorders_request_id(e->arg, i) < 0)
        return -1;
    if (o->program && !o->orders && i == 0)
        loadorders_sign_up(e->lb, e->arg);
    call_status st = balancer_call(e->lb, o->method, e->arg, o->retry, &reply, &res, err, sizeof err);
    if (o->placing && st == CALL_OK)
        loadorders_note(&s->placed, reply);
    value_free(reply);
    s->total++;
    size_t nall;
    const lb_instance *all = balancer_instances(e->lb, &nall);
    if (s->killed && !s->restarted && (is_victim(e, all, res.instance) || is_victim(e, all, res.failed_on)))
        s->last_dead_call = clock_now_ms();
    if (s->restarted && st == CALL_OK) {
        s->after_restart++;
        if (is_victim(e, all, res.instance))
            s->victim_after_restart++;
    }
    if (res.failed_on >= 0) {
        s->retried++;
        if (!s->first_fail_at && s->killed) {
            s->first_fail_at = clock_now_ms();
            supervisor_note(e->sup, 0, _("a call to %s failed (%s); retried on %s"), all[res.failed_on].addr,
                            res.first_error, res.instance >= 0 ? all[res.instance].addr : "-");
        }
    }
    if (st == CALL_FAILED) {
        s->failed_calls++;
        loadevents_failed(&s->events, res.instance >= 0 ? all[res.instance].addr : NULL, err);
        if (s->killed && !s->first_fail_at) {
            s->first_fail_at = clock_now_ms();
            supervisor_note(e->sup, 0, _("a call failed: %s"), err);
        }
    } else if (st == CALL_REMOTE_ERROR) {
        s->remote_errors++;
    }
    return 0;
}

/* Calls at the paced rate until the duration is over, with the scheduled events in
 * between. Returns 0, or -1 (reported) when the run had to stop. */
static int load_run(const load_opts *o, load_env *e, load_stats *s)
{
    s->start = clock_now_ms();
    uint64_t end = s->start + (uint64_t)(o->duration * 1000);
    eventlog_say("load", "start %s at %g/s", o->service, o->rate);
    for (uint64_t i = 0;; i++) {
        uint64_t due = s->start + (uint64_t)((double)i * 1000.0 / o->rate);
        if (due >= end)
            break;
        load_wait(e, s, due);
        load_schedule(o, e, s);
        if (load_call(o, e, s, i) < 0) {
            fprintf(stderr, _("workbench load: out of memory\n"));
            return -1;
        }
        loadevents_flush(&s->events, false);
    }
    s->end = clock_now_ms();
    loadevents_flush(&s->events, true);
    eventlog_say("load", "end: %llu calls, %llu failed", (unsigned long long)s->total,
                 (unsigned long long)s->failed_calls);
    return 0;
}

/* The failover's moments: the last call the victim got, when the registry dropped it,
 * and how many calls it took again after its restart. */
static void report_failover(const load_opts *o, const load_env *e, const load_stats *s)
{
    size_t ni;
    const lb_instance *all = balancer_instances(e->lb, &ni);
    int vi = -1;
    for (size_t i = 0; i < ni; i++)
        if (strcmp(all[i].addr, e->victim) == 0)
            vi = (int)i;
    uint64_t last = s->restarted ? s->last_dead_call : vi >= 0 ? all[vi].last_call_ms : 0;
    int sig = o->sig;
    printf(_("\nFailover (SIG%s to %s at +%.3f s):\n"), sig == SIGKILL ? "KILL" : sig == SIGTERM ? "TERM" : "STOP",
           e->victim, (double)(s->kill_at - s->start) / 1000.0);
    if (last >= s->kill_at)
        printf(_("  last call sent to it:        +%.3f s after the signal%s\n"), (double)(last - s->kill_at) / 1000.0,
               sig != SIGKILL ? ""
               : o->retry ? _(" (after the first failure it is only probed, with backoff, until\n"
                              "                               the registry drops it; every probe's call is retried)")
                          : _(" (after the first failure it is only probed, with backoff, until\n"
                              "                               the registry drops it; --no-retry: a failed probe is a failed call)"));
    else
        printf(_("  last call sent to it:        before the signal\n"));
    printf(_("  registry dropped it:         %s"), s->dropped_at ? "" : _("not within the run"));
    if (s->dropped_at)
        printf(_("+%.3f s after the signal (TTL %d s)"), (double)(s->dropped_at - s->kill_at) / 1000.0, o->ttl);
    printf(_("\n  failed calls after retries:  %llu\n"), (unsigned long long)s->failed_calls);
    if (s->restarted)
        printf(_("  after it came back (+%.3f s): %llu of %llu calls went to it (%.1f%%)\n"),
               (double)(s->restart_at - s->start) / 1000.0, (unsigned long long)s->victim_after_restart,
               (unsigned long long)s->after_restart,
               s->after_restart ? 100.0 * (double)s->victim_after_restart / (double)s->after_restart : 0.0);
}

/* " " and s padded to |width| display columns (a hanzi takes two): on the left when width
 * is negative, else on the right, as printf's %-22s and %8s do for ASCII. */
static void put_col(const char *s, int width)
{
    wchar_t w[64];
    size_t n = mbstowcs(w, s, sizeof w / sizeof w[0]);
    int cols = n == (size_t)-1 ? -1 : wcswidth(w, n);
    if (cols < 0)
        cols = (int)strlen(s);
    int room = abs(width) - cols;
    room = room > 0 ? room : 0;
    if (width < 0)
        printf(" %s%*s", s, room, "");
    else
        printf(" %*s%s", room, "", s);
}

/* Each instance's share of the calls and latency, the totals, the failover, the
 * orders read back, and the timeline. */
static void load_report(const load_opts *o, const load_env *e, const load_stats *s)
{
    double secs = (double)(s->end - s->start) / 1000.0;
    printf(_("%s %s at %.0f/s for %.1f s, %s, through %s\n"), o->codec, o->method, o->rate, secs,
           o->policy == PICK_FIRST ? "pick-first" : _("round robin"), e->is_static ? _("a static list") : e->reg_url);
    printf(_("knobs: --timeout %d ms, --eject-after %d, --backoff %d:%d ms, --ttl %d s\n\n"), o->timeout,
           o->eject_after, o->backoff_min, o->backoff_max, o->ttl);
    static const char *const heads[] = {N_("instance"), N_("calls"), N_("share"), N_("errors"),
                                        N_("failed"), N_("p50 ms"), N_("p99 ms")};
    static const int widths[] = {-22, 8, 6, 8, 8, 8, 8};
    printf(" ");
    for (size_t k = 0; k < sizeof heads / sizeof heads[0]; k++)
        put_col(_(heads[k]), widths[k]);
    printf("\n");
    size_t ni;
    const lb_instance *all = balancer_instances(e->lb, &ni);
    uint64_t answered = 0;
    for (size_t i = 0; i < ni; i++)
        answered += all[i].calls - all[i].failures;
    for (size_t i = 0; i < ni; i++) {
        const lb_instance *in = &all[i];
        uint64_t calls = in->calls - in->failures; /* the ones it answered, errors included */
        char addr[4 * sizeof in->addr]; /* an address the registry gave: anyone's text */
        printf("  %-22s %8llu %5.1f%% %8llu %8llu %8.3f %8.3f%s\n", esc_str(addr, sizeof addr, in->addr),
               (unsigned long long)calls, answered ? 100.0 * (double)calls / (double)answered : 0.0,
               (unsigned long long)in->errors, (unsigned long long)in->failures,
               balancer_percentile(in, 50) / 1000.0, balancer_percentile(in, 99) / 1000.0,
               e->victim && strcmp(in->addr, e->victim) == 0 && s->killed ? _("  (killed)") : "");
    }
    printf("  %s\n", _(LOAD_COUNT_RULE));
    printf(_("\n  %llu calls, %llu failed after retries, %llu retried on another instance, "
             "%llu answered with an error\n"), (unsigned long long)s->total, (unsigned long long)s->failed_calls,
           (unsigned long long)s->retried, (unsigned long long)s->remote_errors);
    if (s->killed)
        report_failover(o, e, s);
    if (o->placing)
        loadorders_check(e->lb, e->arg, &s->placed);
    printf(_("\nTimeline:\n"));
    size_t nev;
    const sup_event *ev = supervisor_timeline(e->sup, &nev);
    for (size_t i = 0; i < nev; i++) {
        long long d = (long long)ev[i].at_ms - (long long)s->start;
        char what[4 * sizeof ev[i].what]; /* may quote the registry */
        printf("  %+8.3f s  %s\n", (double)d / 1000.0, esc_str(what, sizeof what, ev[i].what));
    }
}

int cmd_load(int argc, char **argv)
{
    load_opts o;
    int rc = load_parse(argc, argv, &o);
    if (rc != LOAD_GO)
        return rc;
    load_env e = {0};
    if ((rc = load_check(&o, &e.arg)) != EXIT_OK)
        return rc;
    if (o.pcap && !(e.rec = pcapopt_open("load", o.pcap))) {
        value_free(e.arg);
        return EXIT_USAGE;
    }
    load_stats s = {0};
    if ((rc = load_setup(&o, &e)) == EXIT_OK) {
        rc = EXIT_FAILED;
        if (load_run(&o, &e, &s) == 0) {
            load_report(&o, &e, &s);
            rc = EXIT_OK;
        }
    }
    load_teardown(&e);
    pcapopt_close("load", e.rec, o.pcap);
    free(s.placed.ids);
    return rc;
}
