/* gateway.c -- REST over HTTP/1.1 in front of the gRPC services found in the registry, on
 * one event loop (rpc/http1 on the shared server): options, and the loop's start and
 * end. */
#include "gateway_http.h"

#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "base/err.h"
#include "base/i18n.h"
#include "base/log.h"
#include "base/net.h"
#include "base/numopt.h"
#include "rpc/server.h"

#define MAX_HEAD 16384

static void usage(FILE *f)
{
    fputs(_("Usage: gateway [--listen HOST:PORT] [--registry URL] [options]\n"
            "Serves a REST API (JSON over HTTP/1.1) on one event loop and turns each request\n"
            "into gRPC calls to a service it finds in the registry, many at once on one\n"
            "connection per instance, through the client-side balancer (round robin, a\n"
            "failed connection retried once elsewhere, failing instances ejected). No\n"
            "backend address is configured: only service names.\n"
            "\n"),
          f);
    fputs(_("Routes (the gRPC method each calls; then what it takes and answers):\n"
            "  POST /user/register     user.User/SignUp\n"
            "                          {name, password} -> 201 {id, name}\n"
            "  POST /user/login        user.User/Login\n"
            "                          {name, password} -> {token, expires_at, name}\n"
            "  POST /orders            order.Order/Place\n"
            "                          {item, quantity} -> 201 the order\n"
            "  GET  /orders/{id}       order.Order/Get\n"
            "                          -> the order\n"
            "  GET  /orders?user=NAME  order.Order/List\n"
            "                          -> {orders: [...]}, newest first\n"
            "  GET  /arith/multiply?a=7&b=8\n"
            "                          arith.Arith/Multiply -> {value: 56}\n"
            "The order routes need Authorization: Bearer TOKEN (from /user/login); the\n"
            "gateway checks it with user.User/Verify and passes the user on. An\n"
            "Idempotency-Key header on POST /orders makes a repeated request return the\n"
            "first order.\n"
            "\n"),
          f);
    fputs(_("Posts (tutorial 002's post service):\n"
            "  POST /post              post.Post/Create (token and Idempotency-Key as above)\n"
            "                          {title, body} -> 201 the post\n"
            "  GET  /post/{id}         post.Post/Get -> the post (anyone's, no token)\n"
            "  GET  /post?user=NAME    post.Post/List -> {posts: [...]}, newest first;\n"
            "                          &limit=N (at most 100); without user, everyone's\n"
            "\n"),
          f);
    fputs(_("Errors are {\"error\": \"why\", \"code\": \"GRPC_STATUS\"}. Bad JSON,\n"
            "INVALID_ARGUMENT, FAILED_PRECONDITION and OUT_OF_RANGE are 400,\n"
            "UNAUTHENTICATED 401, PERMISSION_DENIED 403, NOT_FOUND and unknown routes 404,\n"
            "a wrong method 405, ALREADY_EXISTS and ABORTED 409, a body over --max-body\n"
            "413, RESOURCE_EXHAUSTED 429, CANCELLED 499, UNIMPLEMENTED 501, no live\n"
            "instance and UNAVAILABLE 503, DEADLINE_EXCEEDED 504, anything else 500. A\n"
            "user or order service that refuses the gateway itself (no or another\n"
            "--caller-secret-file) is 502.\n"
            "\n"),
          f);
    fputs(_("Options:\n"
            "  -l, --listen HOST:PORT   address to serve on (default 127.0.0.1:8008; port 0\n"
            "                           picks a free port); the first line printed is the\n"
            "                           address\n"
            "      --registry URL       etcd://HOST:PORT[,...] or consul://HOST:PORT (default\n"
            "                           etcd://127.0.0.1:2379)\n"
            "      --user-service NAME  registry name of the user service (default user)\n"
            "      --order-service NAME registry name of the order service (default order)\n"
            "      --arith-service NAME registry name of the Arith service (default arith)\n"
            "      --post-service NAME  registry name of the post service (default post)\n"
            "      --timeout MS         deadline of each backend call (default 2000)\n"
            "      --max-body BYTES     largest request body (default 65536)\n"
            "      --threads N          accepted and ignored: one event loop serves every\n"
            "                           connection\n"),
          f);
    fputs(_("      --hub HOST:PORT      ask the service hub (hub-server) who serves each\n"
            "                           service, every 500 ms, instead of watching the\n"
            "                           registry itself (not with --registry)\n"),
          f);
    fputs(_("      --idle-timeout SEC   close an HTTP connection with no request this long\n"
            "                           (default 30; 0 = never)\n"
            "      --max-conns N        most connections open at once (default 4000); when\n"
            "                           full, the one idle longest is closed to make room,\n"
            "                           and a new one is refused only when every one is\n"
            "                           waiting for its reply\n"
            "      --max-conns-per-addr N  most connections from one client address, an IPv6\n"
            "                           /64 counting as one (default: half of --max-conns);\n"
            "                           beyond it, that address's connection idle longest\n"
            "                           makes room. Local clients all share 127.0.0.1\n"
            "      --header-timeout SEC close a connection that has not sent a whole request\n"
            "                           head this long after it connected or after its last\n"
            "                           reply (default 10, 0 = never); unlike --idle-timeout,\n"
            "                           bytes trickling in do not extend it\n"),
          f);
    fputs(_("      --service NAME       register the gateway itself in the registry as NAME\n"
            "                           (protocol http), kept alive, removed on SIGTERM;\n"
            "                           default: not registered\n"
            "      --ttl SECONDS        its lease TTL (default 10)\n"),
          f);
    fputs(_(REGISTRY_CREDS_HELP), f);
    fputs(_("      --caller-secret-file PATH  send the first line of PATH (chmod 600) in\n"
            "                           the header wb-caller-secret of every call to the\n"
            "                           user, order and post services, started with the same\n"
            "                           file; without it, $WB_CALLER_SECRET; neither: none\n"
            "                           is sent (a service that wants one: HTTP 502)\n"),
          f);
    fputs(_("      --login-burst N      failed logins a user name may have before its\n"
            "                           logins are answered 429 with Retry-After (default\n"
            "                           5; 0: no limit)\n"
            "      --login-rate N       failed logins given back per minute (default 6)\n"
            "      --login-addr-burst N, --login-addr-rate N\n"
            "                           the same per client address, IPv6 by /64 (defaults 20\n"
            "                           and 30). Only failures count: a success clears the\n"
            "                           user's count and does not add to the address's, so\n"
            "                           many users behind one address can log in\n"
            "      --login-concurrency N\n"
            "                           sign-ups and logins (the calls that hash a password)\n"
            "                           in flight at once (default 4); the other routes never\n"
            "                           wait for them\n"
            "      --login-queue N      at most N more wait for a turn (default 64), each at\n"
            "                           most --timeout; beyond that, 429 with Retry-After: 1\n"),
          f);
    fputs(_("  -q, --quiet              do not log registry changes and errors to stderr\n"
            "      --lang en|zh         the language of this help and of errors (default:\n"
            "                           Chinese when the locale is, else English)\n"
            "  -h, --help               show this help\n"
            "SIGTERM or SIGINT stops it: it deregisters, accepts no new connection, and\n"
            "answers the requests in flight (waiting at most 5 s) before it exits.\n"),
          f);
}

/* What the command line asks for besides gw's settings. */
typedef struct options {
    const char *listen_addr, *self, *names[NSVC];
    const char *token, *user, *token_file, *user_file; /* the registry's credentials */
    const char *caller_file; /* the data services' caller secret */
    int threads, idle, ttl;
    int max_conns, per_addr, header_s; /* the connection limits; per_addr 0: half of max_conns */
    const char *registry; /* --registry, NULL when not given */
} options;

/* The registry's credentials into gw.auth, and the caller secret into gw.caller_secret:
 * the option, its file, or the environment. */
static int pick_auth(const options *o, char *err, size_t errlen)
{
    static registry_creds creds;
    if (registry_creds_pick(&creds, o->token, o->token_file, o->user, o->user_file, err, errlen) < 0)
        return -1;
    gw.auth = creds.auth;
    char why[400];
    int c = secret_pick(NULL, o->caller_file, "WB_CALLER_SECRET", gw.caller_secret, sizeof gw.caller_secret, why,
                        sizeof why);
    if (c < 0 || (c > 0 && !secret_header_safe(gw.caller_secret))) {
        err_set(err, errlen, "%s: %s", o->caller_file ? "--caller-secret-file" : "$WB_CALLER_SECRET",
                c < 0 ? why : _("a caller secret is visible ASCII, no spaces"));
        gw.caller_secret[0] = '\0';
        return -1;
    }
    return 0;
}

/* With --hub: no registry options, and an address. Returns 0, or -1 with err. */
static int check_hub(const options *o, char *err, size_t errlen)
{
    char host[128];
    int port;
    if (o->registry || o->self) {
        err_set(err, errlen, "%s", o->self ? _("--service registers the gateway in a registry; with --hub it uses none")
                                           : _("--hub and --registry exclude each other: the gateway asks the hub, or "
                                               "it watches the registry itself"));
        return -1;
    }
    if (net_split(gw.hub_addr, host, sizeof host, &port, err, errlen) < 0)
        return -1;
    return 0;
}

/* The services' names and the gateway's own, as the registry r checks every name: 0, or
 * -1 with "--user-service: why" (or the option that gave the name) in err. */
static int check_names(const options *o, const registry *r, char *err, size_t errlen)
{
    static const char *const optname[NSVC + 1] = {"user-service", "order-service", "arith-service", "service"};
    char why[512];
    for (int i = 0; i <= NSVC; i++) {
        const char *name = i < NSVC ? o->names[i] : o->self;
        if (name && registry_check_service(r, name, why, sizeof why) < 0) {
            err_set(err, errlen, "--%s: %s", optname[i], why);
            return -1;
        }
    }
    return 0;
}

/* Where the services are found: the hub, or the registry, whose rules the names must
 * meet; the credentials with them. Returns -1 to go on, or 2 after saying why. */
static int check_sources(const options *o)
{
    snprintf(gw.registry_url, sizeof gw.registry_url, "%s", o->registry ? o->registry : "etcd://127.0.0.1:2379");
    char err[512];
    if ((gw.hub_addr[0] && check_hub(o, err, sizeof err) < 0) || pick_auth(o, err, sizeof err) < 0) {
        fprintf(stderr, "gateway: %s\n", err);
        return 2;
    }
    if (gw.hub_addr[0])
        return -1;
    if (strcmp(gw.registry_url, "none") == 0) {
        fprintf(stderr, _("gateway: --registry is needed: the gateway finds every service there\n"));
        return 2;
    }
    registry *probe = registry_new(gw.registry_url, &gw.auth, err, sizeof err);
    if (!probe) {
        fprintf(stderr, "gateway: --registry: %s\n", err);
        return 2;
    }
    int names_ok = check_names(o, probe, err, sizeof err);
    registry_free(probe);
    if (names_ok < 0) {
        fprintf(stderr, "gateway: %s\n", err);
        return 2;
    }
    return -1;
}

/* Reads the command line into gw and o. Returns -1 to go on, or the exit code (0 after
 * --help, 2 on a bad option). */
static int parse_options(int argc, char **argv, options *o)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},        {"registry", required_argument, NULL, 'r'},
        {"user-service", required_argument, NULL, 'U'},  {"order-service", required_argument, NULL, 'O'},
        {"arith-service", required_argument, NULL, 'A'}, {"timeout", required_argument, NULL, 't'},
        {"post-service", required_argument, NULL, 'W'},
        {"max-body", required_argument, NULL, 'b'},      {"threads", required_argument, NULL, 'n'},
        {"idle-timeout", required_argument, NULL, 'i'},  {"quiet", no_argument, NULL, 'q'},
        {"service", required_argument, NULL, 'S'},       {"ttl", required_argument, NULL, 'T'},
        {"registry-token", required_argument, NULL, 'K'}, {"registry-user", required_argument, NULL, 'P'},
        {"registry-token-file", required_argument, NULL, 'k'},
        {"registry-user-file", required_argument, NULL, 'p'},
        {"login-burst", required_argument, NULL, 1},      {"login-rate", required_argument, NULL, 2},
        {"login-addr-burst", required_argument, NULL, 3}, {"login-addr-rate", required_argument, NULL, 4},
        {"login-concurrency", required_argument, NULL, 5}, {"login-queue", required_argument, NULL, 6},
        /* the connection limits, named as the RPC servers name them */
        {"max-conns", required_argument, NULL, 20}, {"max-conns-per-addr", required_argument, NULL, 21},
        {"header-timeout", required_argument, NULL, 22},
        {"caller-secret-file", required_argument, NULL, 'C'}, {"hub", required_argument, NULL, 'H'},
        {"help", no_argument, NULL, 'h'},                {NULL, 0, NULL, 0}};
    *o = (options){.listen_addr = "127.0.0.1:8008", .names = {"user", "order", "arith", "post"},
                   .threads = 8, .idle = 30, .ttl = 10, .max_conns = 4000, .header_s = 10};
    gw.timeout_ms = 2000;
    gw.max_body = 65536;
    gw.login_burst = 5, gw.login_rate = 6, gw.login_addr_burst = 20, gw.login_addr_rate = 30;
    gw.login_concurrency = 4, gw.login_queue = 64;
    int *login_opt[] = {NULL, &gw.login_burst, &gw.login_rate, &gw.login_addr_burst, &gw.login_addr_rate,
                        &gw.login_concurrency, &gw.login_queue};
    int ch;
    while ((ch = getopt_long(argc, argv, "l:qh", opts, NULL)) != -1) {
        switch (ch) {
        case 'l': o->listen_addr = optarg; break;
        case 'r': o->registry = optarg; break;
        case 'H': snprintf(gw.hub_addr, sizeof gw.hub_addr, "%s", optarg); break;
        case 'U': o->names[SVC_USER] = optarg; break;
        case 'O': o->names[SVC_ORDER] = optarg; break;
        case 'A': o->names[SVC_ARITH] = optarg; break;
        case 'W': o->names[SVC_POST] = optarg; break;
        case 't':
            if (numopt_int(optarg, 1, 3600000, &gw.timeout_ms) < 0)
                gw.timeout_ms = -1; /* refused below */
            break;
        case 'b':
            if (numopt_int(optarg, 1, 1 << 30, &gw.max_body) < 0)
                gw.max_body = -1; /* refused below */
            break;
        case 'n':
            if (numopt_int(optarg, 1, 256, &o->threads) < 0)
                o->threads = -1; /* refused below */
            break;
        case 'i':
            if (numopt_int(optarg, 0, 86400, &o->idle) < 0)
                o->idle = -1; /* refused below */
            break;
        case 'q': gw.quiet = true; break;
        case 'S': o->self = optarg; break;
        case 'K': o->token = optarg; break;
        case 'P': o->user = optarg; break;
        case 'k': o->token_file = optarg; break;
        case 'p': o->user_file = optarg; break;
        case 'C': o->caller_file = optarg; break;
        case 'T':
            if (numopt_int(optarg, 1, 3600, &o->ttl) < 0)
                o->ttl = -1; /* refused below */
            break;
        case 1: case 2: case 3: case 4: case 5: case 6:
            if (numopt_int(optarg, ch == 5 ? 1 : 0, ch == 5 ? 64 : 100000, login_opt[ch]) < 0) {
                const struct option *op = opts;
                while (op->val != ch)
                    op++;
                fprintf(stderr, _("gateway: --%s wants a number from %d to %d. Try 'gateway --help'.\n"), op->name,
                        ch == 5 ? 1 : 0, ch == 5 ? 64 : 100000);
                return 2;
            }
            break;
        case 20: case 21: case 22: {
            static const char *const names[] = {"max-conns", "max-conns-per-addr", "header-timeout"};
            int *to[] = {&o->max_conns, &o->per_addr, &o->header_s};
            long lo = ch == 22 ? 0 : 1, hi = ch == 22 ? 86400 : 1000000;
            if (numopt_int(optarg, lo, hi, to[ch - 20]) < 0) {
                fprintf(stderr, _("gateway: --%s wants a number from %ld to %ld. Try 'gateway --help'.\n"),
                        names[ch - 20], lo, hi);
                return 2;
            }
            break;
        }
        case 'h': usage(stdout); return 0;
        default: fprintf(stderr, _("Try 'gateway --help'.\n")); return 2;
        }
    }
    if (optind < argc || gw.timeout_ms <= 0 || gw.max_body <= 0 || o->threads < 1 || o->threads > 256 ||
        o->idle < 0 || o->ttl < 1 || o->ttl > 3600) {
        fprintf(stderr, _("gateway: %s. Try 'gateway --help'.\n"),
                optind < argc ? _("unexpected argument")
                              : _("--timeout, --max-body, --threads (1..256), --idle-timeout and --ttl "
                                  "(1..3600) want positive numbers"));
        return 2;
    }
    return check_sources(o);
}

#define SPARE_FILES 256 /* the listener, the registry, the backends, logs */

/* Raises the soft limit on open files to fit --max-conns, as far as the hard limit
 * allows, and lowers o->max_conns when even that is short. */
static void fit_files(options *o)
{
    rlim_t want = (rlim_t)o->max_conns + SPARE_FILES, files = want;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want) {
        files = rl.rlim_cur;
        rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ? rl.rlim_max : want;
        if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
            files = rl.rlim_cur;
    }
    rlim_t room = files > 2 * SPARE_FILES ? files - SPARE_FILES : files / 2; /* for connections */
    if (room < (rlim_t)o->max_conns) {
        log_msg("--max-conns %d lowered to %llu: this process may open %llu files (ulimit -n)", o->max_conns,
                (unsigned long long)room, (unsigned long long)files);
        o->max_conns = (int)room;
    }
}

/* server_run's hooks: the loop's calls, made when it starts and ended when it ends. */
static int loop_started(loop *l, void *ud, char *err, size_t errlen)
{
    (void)ud;
    if (gateway_calls_start(l, err, errlen) < 0)
        return -1;
    log_msg("REST to gRPC, services from %s%s", gw.hub_addr[0] ? "the hub at " : "",
            gw.hub_addr[0] ? gw.hub_addr : gw.registry_url);
    return 0;
}

static void loop_ended(loop *l, void *ud)
{
    (void)l;
    (void)ud;
    gateway_turns_stop();
    gateway_calls_stop();
    gateway_balancers_free();
}

/* Serves until SIGTERM or SIGINT. Returns the exit code. */
static int serve(options *o)
{
    fit_files(o);
    static http1_config cfg;
    cfg = (http1_config){.name = "REST gateway (HTTP/1.1)", .protocol = "http", .default_listen = "127.0.0.1:8008",
                         .max_head = MAX_HEAD, .max_body = (size_t)gw.max_body,
                         .head_timeout_s = (unsigned)o->header_s, .on_request = gateway_on_request,
                         .on_refused = gateway_on_refused};
    server_opts so = {
        .listen_addr = o->listen_addr,
        .registry_url = o->self ? gw.registry_url : "none",
        .service = o->self,
        .quiet = gw.quiet,
        /* a head, and room for a pipelined request's body that waits unread */
        .max_message = MAX_HEAD + 65536,
        .max_conns = (size_t)o->max_conns,
        .per_addr = (size_t)o->per_addr,
        .idle = (size_t)o->idle,
        .first = 0, /* http1's head timeout is --header-timeout */
        .ttl = (size_t)o->ttl,
        .loop_started = loop_started,
        .loop_ended = loop_ended,
    };
    return server_run(http1_codec(&cfg), &so, &gw.auth, "gateway");
}

int main(int argc, char **argv)
{
    options o;
    char why[128];
    if (i18n_setup(i18n_take_lang(&argc, argv), why, sizeof why) < 0) {
        fprintf(stderr, "gateway: %s\n", why);
        return 2;
    }
    int rc = parse_options(argc, argv, &o);
    if (rc >= 0)
        return rc;
    log_setup("gateway", gw.quiet);
    signal(SIGPIPE, SIG_IGN);
    /* the membership thread takes no stop signal: the loop's signalfd does */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    gateway_throttle_init();
    char err[512];
    if (gateway_members_start(o.names, err, sizeof err) < 0) {
        fprintf(stderr, "gateway: %s\n", err);
        return 1;
    }
    rc = serve(&o);
    gateway_members_stop();
    return rc;
}
