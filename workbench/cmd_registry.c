/* cmd_registry.c -- `workbench registry URL [NAME]`: what a service registry holds, and its changes. */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/esc.h"
#include "base/i18n.h"
#include "commands.h"
#include "registry/registry.h"
#include "regopt.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void usage(FILE *f)
{
    fputs(_("Usage: workbench registry URL [NAME] [--watch] [credentials]\n"
            "Lists the instances registered in a service registry, one line each with its\n"
            "address and protocol; with --watch, then prints every change as it happens.\n\n"
            "  URL   etcd://HOST:PORT[,HOST:PORT...]  etcd v3 (keys NAME/HOST:PORT on leases)\n"
            "        consul://HOST:PORT                a Consul agent\n"
            "        dns://HOST:PORT[/NAME.service.consul]  Consul's DNS interface (SRV)\n"
            "        mdns[://IFACE]                    multicast DNS on lo (or IFACE): no\n"
            "                                          registry server, each server answers\n"
            "                                          for itself\n"
            "  NAME  the service; every service when left out. A name is text without\n"
            "        spaces; it may hold '/' (/etcd3_naming/hello, user/v2), but not at its\n"
            "        end nor two in a row (etcd splits a key NAME/HOST:PORT at its last\n"
            "        '/'); Consul takes no '/' first, and Consul's DNS none at all;\n"
            "        mDNS wants 1 to 15 letters, digits or '-' (a DNS-SD service type)\n\n"
            "Options:\n"
            "  -w, --watch              keep printing changes, time-stamped, until\n"
            "                           interrupted\n"),
          f);
    fputs(_(REGISTRY_CREDS_HELP), f);
    fputs(_("      --token T, --user U:P  the same as --registry-token, --registry-user\n\n"
            "etcd lines show the lease each key hangs on and the seconds it has left (each\n"
            "lease asked once, at most 64 of them, within 5 s; a last line says when some\n"
            "went unasked); Consul lines show the health check status (critical instances\n"
            "are listed too), and --watch prints a CHECK line when a status changes, with\n"
            "the check's kind and output (the agent runs it every TTL/3). One listing\n"
            "holds at most 4096 entries: a last line says how many more the registry has.\n"
            "mDNS lines show the instance's name, its TTL and what is left of it in the\n"
            "cache; a listing asks once and waits 1 s for answers (mdns://lo?wait=MS).\n\n"
            "Examples:\n"
            "  workbench registry etcd://127.0.0.1:2379 arith --watch\n"
            "  etcdctl get --prefix arith     (the same keys, as etcd shows them)\n"
            "  workbench registry mdns shipping --watch\n\n"
            "Exit status: 0 ok; 2 bad usage; 3 the registry could not be reached (or\n"
            "refused the request, e.g. wrong credentials).\n"),
          f);
}

/* What a registry holds is anyone's text: each field is printed escaped (base/esc.h). */
typedef struct shown {
    char service[512], addr[512], protocol[256], status[256], check[256], output[4 * 200];
} shown;

static const shown *show(const registry_instance *in, shown *sh)
{
    esc_str(sh->service, sizeof sh->service, in->service);
    esc_str(sh->addr, sizeof sh->addr, in->addr);
    esc_str(sh->protocol, sizeof sh->protocol, in->protocol[0] ? in->protocol : "?");
    esc_str(sh->status, sizeof sh->status, in->status);
    esc_str(sh->check, sizeof sh->check, in->check[0] ? in->check : "?");
    esc_str(sh->output, sizeof sh->output, in->output);
    return sh;
}

/* TTL look-ups of one listing: each distinct lease is asked once, at most LEASE_LOOKUPS of
 * them, and none after LEASE_DEADLINE_MS (a registry of thousands of keys is listed in
 * bounded time; the rest show their lease without its TTL). */
enum { LEASE_LOOKUPS = 64, LEASE_DEADLINE_MS = 5000 };

typedef struct lease_cache {
    int64_t lease[LEASE_LOOKUPS], ttl[LEASE_LOOKUPS];
    size_t n;
    uint64_t deadline;  /* clock_now_ms; 0 until the first look-up */
    size_t unasked;     /* entries shown without their TTL: their lease went unasked */
} lease_cache;

/* The seconds left on lease (-1: gone or not answered); false when it was not asked. */
static bool lease_ttl(registry *r, lease_cache *c, int64_t lease, int64_t *ttl)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->lease[i] == lease) {
            *ttl = c->ttl[i];
            return true;
        }
    uint64_t now = clock_now_ms();
    if (!c->deadline)
        c->deadline = now + LEASE_DEADLINE_MS;
    if (c->n == LEASE_LOOKUPS || now >= c->deadline) {
        c->unasked++;
        return false;
    }
    char err[256];
    if (registry_lease_ttl(r, lease, ttl, err, sizeof err) < 0)
        *ttl = -1;
    c->lease[c->n] = lease;
    c->ttl[c->n++] = *ttl;
    return true;
}

static void print_instance(registry *r, lease_cache *c, const registry_instance *in)
{
    shown sh;
    show(in, &sh);
    printf("%-20s %-24s protocol=%s", sh.service, sh.addr, sh.protocol);
    if (registry_get_kind(r) == REGISTRY_ETCD) {
        int64_t ttl = -1;
        if (in->lease == 0)
            printf("  lease=none");
        else if (!lease_ttl(r, c, in->lease, &ttl))
            printf("  lease=%016" PRIx64, (uint64_t)in->lease);
        else if (ttl >= 0)
            printf("  lease=%016" PRIx64 " ttl=%" PRId64 "s", (uint64_t)in->lease, ttl);
        else
            printf("  lease=%016" PRIx64 " (expired)", (uint64_t)in->lease);
    } else if (registry_get_kind(r) == REGISTRY_MDNS) {
        char inst[4 * 128];
        int64_t left = in->expire_ms - (int64_t)clock_now_ms();
        printf(_("\n    instance %s, TTL %u s, %.1f s left in the cache"), esc_str(inst, sizeof inst, in->instance),
               (unsigned)in->ttl, left > 0 ? (double)left / 1000 : 0.0);
    } else {
        printf("  check=%s", sh.status);
    }
    putchar('\n');
}

/* What the listing showed, and what it did not. */
typedef struct listed {
    size_t count;    /* entries printed */
    size_t left_out; /* entries past REGISTRY_MAX_INSTANCES, not printed */
} listed;

/* Lists one service (or, for etcd, all); returns 0 or -1 with err. */
static int list(registry *r, lease_cache *c, const char *name, int64_t *revision, listed *l, char *err,
                size_t errlen)
{
    registry_instance *in;
    size_t n;
    if (registry_list(r, name, &in, &n, revision, err, errlen) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        print_instance(r, c, &in[i]);
    l->count += n;
    l->left_out += registry_list_left_out(r);
    free(in);
    return 0;
}

/* Lists name (every service when NULL), then says what was not shown: entries past the
 * listing's cap, TTLs not asked. Returns 0, or -1 with err. */
static int list_all(registry *r, const char *name, int64_t *revision, char *err, size_t errlen)
{
    listed l = {0, 0};
    lease_cache leases = {.n = 0};
    int rc = 0;
    if (registry_get_kind(r) == REGISTRY_CONSUL && !name) {
        buf names;
        buf_init(&names, REGISTRY_MAX_RESPONSE);
        rc = registry_services(r, &names, err, errlen);
        if (rc == 0 && buf_putc(&names, 0) == 0) {
            char *save = NULL;
            for (char *s = strtok_r((char *)buf_data(&names), "\n", &save); s && rc == 0;
                 s = strtok_r(NULL, "\n", &save)) {
                char why[512], shown_why[4 * sizeof why];
                if (registry_check_service(r, s, why, sizeof why) < 0) /* registered by another client */
                    fprintf(stderr, _("(not listed: %s)\n"), esc_str(shown_why, sizeof shown_why, why));
                else
                    rc = list(r, &leases, s, NULL, &l, err, errlen);
            }
        }
        buf_done(&names);
    } else {
        rc = list(r, &leases, name, revision, &l, err, errlen);
    }
    if (rc < 0)
        return -1;
    if (l.count == 0 && l.left_out == 0)
        fprintf(stderr, name ? _("(no instances of %s)\n") : _("(no instances)\n"), name);
    if (l.left_out)
        printf(_("(showing %zu of %zu entries: one listing holds at most %d; the rest are not shown)\n"), l.count,
               l.count + l.left_out, REGISTRY_MAX_INSTANCES);
    if (leases.unasked)
        printf(_("(TTL of the first %zu leases shown: at most %d are asked, within %d s; %zu entries show "
                 "their lease without it)\n"),
               leases.n, LEASE_LOOKUPS, LEASE_DEADLINE_MS / 1000, leases.unasked);
    return 0;
}

static int watch(registry *r, const char *name, int64_t revision)
{
    char err[512], ts[32];
    registry_watch *w = registry_watch_start(r, name, revision, err, sizeof err);
    if (!w) {
        char shown_err[4 * sizeof err];
        fprintf(stderr, _("workbench registry: %s\n"), esc_str(shown_err, sizeof shown_err, err));
        return EXIT_FAILED;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    clock_stamp(ts, sizeof ts);
    printf(_("%s watching %s (Ctrl-C stops)\n"), ts, name ? name : _("every service"));
    fflush(stdout);
    registry_event ev;
    shown sh;
    char msg[2048];
    while (!interrupted) {
        int rc = registry_watch_next(w, &ev, 200);
        if (rc < 0)
            break;
        if (rc == 0)
            continue;
        clock_stamp(ts, sizeof ts);
        switch (ev.type) {
        case REGISTRY_EV_PUT:
            show(&ev.inst, &sh);
            if (ev.was[0])
                printf("%s CHECK  %-20s %-24s %s -> %s  %s: %s\n", ts, sh.service, sh.addr,
                       esc_str(msg, sizeof msg, ev.was), sh.status, sh.check, sh.output);
            else if (ev.inst.status[0])
                printf("%s PUT    %-20s %-24s protocol=%s  check=%s\n", ts, sh.service, sh.addr, sh.protocol,
                       sh.status);
            else
                printf("%s PUT    %-20s %-24s protocol=%s\n", ts, sh.service, sh.addr, sh.protocol);
            break;
        case REGISTRY_EV_DELETE:
            show(&ev.inst, &sh);
            printf("%s DELETE %-20s %s\n", ts, sh.service, sh.addr);
            break;
        case REGISTRY_EV_ERROR:
            printf(_("%s registry unreachable: %s (retrying)\n"), ts, esc_str(msg, sizeof msg, ev.msg));
            break;
        case REGISTRY_EV_RESUMED: printf(_("%s watching again\n"), ts); break;
        }
        fflush(stdout);
    }
    registry_watch_free(w);
    return EXIT_OK;
}

/* The options into *want_watch and creds; the credential options leave argv (*argc
 * fewer), URL [NAME] are left at optind. Returns -1 to go on, or the exit code. */
static int parse_options(int *pargc, char **argv, bool *want_watch, registry_creds *creds)
{
    static const struct option opts[] = {{"watch", no_argument, NULL, 'w'},
                                         {"token", required_argument, NULL, 't'},
                                         {"user", required_argument, NULL, 'u'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    regopt_creds given = {NULL, NULL, NULL, NULL};
    char err[512];
    if (regopt_take_creds(pargc, argv, &given, err, sizeof err) < 0) {
        fprintf(stderr, _("workbench registry: %s\n"), err);
        return EXIT_USAGE;
    }
    int argc = *pargc, ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "wh", opts, NULL)) != -1) {
        switch (ch) {
        case 'w': *want_watch = true; break;
        case 't': given.token = optarg; break;
        case 'u': given.user = optarg; break;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (registry_creds_pick(creds, given.token, given.token_file, given.user, given.user_file, err,
                            sizeof err) < 0) {
        fprintf(stderr, _("workbench registry: %s\n"), err);
        return EXIT_USAGE;
    }
    int rest = argc - optind;
    if (rest < 1 || rest > 2) {
        fprintf(stderr, _("workbench registry: expected URL [NAME]\n\n"));
        usage(stderr);
        return EXIT_USAGE;
    }
    return -1;
}

int cmd_registry(int argc, char **argv)
{
    bool want_watch = false;
    static registry_creds creds;
    int ch = parse_options(&argc, argv, &want_watch, &creds);
    if (ch >= 0)
        return ch;
    const char *url = argv[optind], *name = argc - optind == 2 ? argv[optind + 1] : NULL;
    char err[512];
    registry *r = registry_new(url, &creds.auth, err, sizeof err);
    if (!r) {
        fprintf(stderr, _("workbench registry: %s\n"), err);
        return EXIT_USAGE;
    }
    if (name && registry_check_service(r, name, err, sizeof err) < 0) {
        char shown_err[4 * sizeof err];
        fprintf(stderr, _("workbench registry: NAME: %s\n"), esc_str(shown_err, sizeof shown_err, err));
        registry_free(r);
        return EXIT_USAGE;
    }
    if (registry_get_kind(r) == REGISTRY_NONE) {
        fprintf(stderr, _("workbench registry: URL none: there is no registry to list\n"));
        registry_free(r);
        return EXIT_USAGE;
    }
    registry_set_passing_only(r, false);
    int64_t revision = 0;
    int rc = list_all(r, name, &revision, err, sizeof err);
    if (rc < 0) {
        bool answered = strncmp(err, "etcd:", 5) == 0 || strncmp(err, "consul:", 7) == 0 ||
                        strncmp(err, "dns:", 4) == 0;
        char shown_err[4 * sizeof err];
        fprintf(stderr, _("workbench registry: %s\n%s"), esc_str(shown_err, sizeof shown_err, err),
                answered ? "" : _("  (is the registry running? check the address in the URL)\n"));
        registry_free(r);
        return EXIT_FAILED;
    }
    fflush(stdout);
    int ret = EXIT_OK;
    if (want_watch) {
        if (registry_get_kind(r) == REGISTRY_CONSUL && !name) {
            fprintf(stderr, _("workbench registry: with Consul, --watch needs a NAME\n"));
            ret = EXIT_USAGE;
        } else {
            ret = watch(r, name, revision);
        }
    }
    registry_free(r);
    return ret;
}
