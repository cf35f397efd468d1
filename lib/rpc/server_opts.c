/* server_opts.c -- the shared server's command line: its options and --help. */
#include "rpc/server_int.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/net.h"
#include "base/numopt.h"
#include "registry/registry.h"

static void usage(FILE *f, const server_codec *codec, const char *prog, const char *about)
{
    fprintf(f, _("Usage: %s [--listen HOST:PORT] [options]\n"), prog);
    fprintf(f, "%s\n\n", about);
    fprintf(f,
            _("Options:\n"
              "  -l, --listen HOST:PORT   address to serve on (default %s);\n"
              "                           port 0 picks a free port\n"),
            codec->default_listen);
    fputs(_("  -q, --quiet              do not log connections and errors to stderr\n"
            "      --max-message BYTES  largest request accepted (default 1048576); a larger\n"
            "                           one gets an error and its connection is closed\n"
            "      --max-conns N        most connections open at once (default 10000); when\n"
            "                           full, the one idle longest (no call in flight, no\n"
            "                           reply waiting) is closed to make room, and a new\n"
            "                           one is refused only when every one is busy\n"
            "      --max-conns-per-addr N  most connections from one client address, an IPv6\n"
            "                           /64 counting as one (default: half of --max-conns);\n"
            "                           beyond it, that address's idlest connection makes\n"
            "                           room, so one client cannot take every slot. Every\n"
            "                           local client shares 127.0.0.1: keep it high where\n"
            "                           many of them (a load test, a gateway) connect\n"),
          f);
    fputs(_("      --idle-timeout SEC   close a connection with no call in flight after this\n"
            "                           long without a new request (for gRPC, also without\n"
            "                           a call's messages or replies moving); HTTP/2 PINGs\n"
            "                           and bytes that complete nothing do not count\n"
            "                           (default 300, 0 = never)\n"
            "      --first-message-timeout SEC  close a connection that has not sent one\n"
            "                           whole request (for gRPC, a call's headers) this\n"
            "                           long after connecting (default 10, 0 = never),\n"
            "                           however its bytes, SETTINGS or PINGs trickle in\n"
            "\n"),
          f);
    fputs(_("Service registry (the server registers itself, keeps the entry alive, and\n"
            "removes it on SIGTERM; after SIGKILL the entry expires with its lease or check):\n"
            "      --registry URL       etcd://HOST:PORT[,HOST:PORT...], consul://HOST:PORT,\n"
            "                           mdns[://IFACE] (multicast DNS on lo, or IFACE: no\n"
            "                           registry to run, the server answers for itself)\n"
            "                           or none (default). Consul's check, all optional:\n"
            "                           consul://HOST:PORT?check=tcp|grpc|ttl&interval=S\n"
            "                           &deregister=S: a check every S s (default TTL/3;\n"
            "                           not for ttl), and Consul removes an instance\n"
            "                           critical for S s (default 3 TTL, at least 60:\n"
            "                           Consul's minimum)\n"
            "      --service NAME       the service to register as (default: the program\n"
            "                           name); it may hold '/', as etcd users write\n"
            "                           /etcd3_naming/hello (key NAME/HOST:PORT), but not\n"
            "                           at its end nor two in a row, and no spaces\n"
            "      --ttl SECONDS        lease/check time to live (default 10); etcd drops\n"
            "                           the key this long after the last keepalive\n"
            "      --advertise HOST:PORT  the address clients should use (default: the\n"
            "                           address the server listens on)\n"),
          f);
    fputs(_(REGISTRY_CREDS_HELP), f);
    fputs(_("      --lang en|zh         the language of this help and of errors (default:\n"
            "                           Chinese when the locale is, else English)\n"
            "  -h, --help               show this help\n"
            "\n"
            "The first line printed on stdout is the address the server listens on.\n"
            "SIGTERM or SIGINT stops it gracefully: replies already due are sent first.\n"
            "\n"),
          f);
    fputs(_("go-micro's environment variables, read when the option is not given:\n"
            "  MICRO_SERVER_ADDRESS=HOST:PORT  as --listen; \":50051\" (no host, as Go\n"
            "                           writes it) listens on every address and registers\n"
            "                           in etcd or Consul as 127.0.0.1:50051 (unless\n"
            "                           --advertise says otherwise)\n"
            "  MICRO_REGISTRY=mdns|etcd|consul|none  as --registry\n"
            "  MICRO_REGISTRY_ADDRESS=HOST:PORT[,HOST:PORT...]  where etcd or Consul\n"
            "                           listens (default 127.0.0.1:2379 for etcd,\n"
            "                           127.0.0.1:8500 for Consul, which takes one)\n"
            "  MICRO_SERVER_NAME=NAME   as --service\n"
            "\n"),
          f);
    fputs(codec->methods_help ? _(codec->methods_help)
                              : _("Methods served:\n"
                                  "  Arith.Multiply    {A, B} ints -> A*B\n"
                                  "  Arith.Divide      {A, B} ints -> {Quo, Rem}; B = 0 -> error \"divide by zero\"\n"
                                  "  hello.HelloWorld  a string name -> name + \" 你好....\"\n"
                                  "  Greeter.SayHello  {Name} -> {Message: \"Hello \" + Name}\n"),
          f);
}

int server_lang(int *argc, char **argv, const char *prog)
{
    static bool done;
    if (done)
        return 0;
    done = true;
    char err[128];
    if (i18n_setup(i18n_take_lang(argc, argv), err, sizeof err) < 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return 2;
    }
    return 0;
}

const char *server_take_option(int *argc, char **argv, const char *name, bool *missing)
{
    const char *val = NULL;
    size_t n = strlen(name);
    int out = 1;
    *missing = false;
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            while (i < *argc)
                argv[out++] = argv[i++];
            break;
        }
        if (a[0] == '-' && a[1] == '-' && strncmp(a + 2, name, n) == 0) {
            if (a[2 + n] == '=') {
                val = a + 3 + n;
                continue;
            }
            if (a[2 + n] == '\0') {
                if (i + 1 < *argc)
                    val = argv[++i];
                else
                    *missing = true;
                continue;
            }
        }
        argv[out++] = argv[i];
    }
    argv[out] = NULL;
    *argc = out;
    return val;
}

/* Whether every part of the comma-separated list is HOST:PORT with a host and a port
 * from 1 to 65535. */
static bool host_ports(const char *list, size_t *parts)
{
    char one[300];
    *parts = 0;
    for (const char *p = list;; p++) {
        size_t n = strcspn(p, ",");
        char host[256];
        int port;
        if (n == 0 || n >= sizeof one)
            return false;
        memcpy(one, p, n);
        one[n] = '\0';
        if (net_split(one, host, sizeof host, &port, NULL, 0) < 0 || !host[0] || port < 1)
            return false;
        (*parts)++;
        p += n;
        if (!*p)
            return true;
    }
}

/* $MICRO_REGISTRY and $MICRO_REGISTRY_ADDRESS as a --registry URL into url. Returns 0,
 * or 2 after saying which variable is wrong. */
static int micro_registry(const char *kind, const char *prog, char *url, size_t n)
{
    const char *addr = getenv("MICRO_REGISTRY_ADDRESS");
    size_t parts = 0;
    bool etcd = strcmp(kind, "etcd") == 0, consul = strcmp(kind, "consul") == 0;
    if (strcmp(kind, "mdns") == 0 || strcmp(kind, "none") == 0) {
        snprintf(url, n, "%s", kind);
        return 0;
    }
    if (!etcd && !consul) {
        fprintf(stderr, _("%s: $MICRO_REGISTRY is \"%s\"; it may be mdns, etcd, consul or none\n"), prog, kind);
        return 2;
    }
    if (!addr || !addr[0])
        addr = etcd ? "127.0.0.1:2379" : "127.0.0.1:8500";
    if (!host_ports(addr, &parts)) {
        fprintf(stderr, _("%s: $MICRO_REGISTRY_ADDRESS is \"%s\"; write it as HOST:PORT[,HOST:PORT...]\n"), prog,
                addr);
        return 2;
    }
    if (consul && parts > 1) {
        fprintf(stderr, _("%s: $MICRO_REGISTRY_ADDRESS: Consul takes one address, not \"%s\"\n"), prog, addr);
        return 2;
    }
    if (snprintf(url, n, "%s://%s", kind, addr) >= (int)n) {
        fprintf(stderr, _("%s: $MICRO_REGISTRY_ADDRESS is too long\n"), prog);
        return 2;
    }
    return 0;
}

/* go-micro's environment for the options the command line left out (given[]: listen,
 * registry, service). Returns -1 to go on, or 2 after saying which variable is wrong. */
static int micro_env(server_opts *o, const bool given[3], const char *prog)
{
    static char url[600];
    const char *v = getenv("MICRO_SERVER_ADDRESS");
    if (!given[0] && v && v[0]) {
        char host[256], why[256];
        int port;
        if (net_split(v, host, sizeof host, &port, why, sizeof why) < 0) {
            fprintf(stderr, "%s: $MICRO_SERVER_ADDRESS: %s\n", prog, why);
            return 2;
        }
        o->listen_addr = v;
    }
    v = getenv("MICRO_REGISTRY");
    if (!given[1] && v && v[0]) {
        if (micro_registry(v, prog, url, sizeof url) != 0)
            return 2;
        o->registry_url = url;
    }
    v = getenv("MICRO_SERVER_NAME");
    if (!given[2] && v && v[0])
        o->service = v;
    return -1;
}

/* optarg into *v when it is a number from lo to hi; else false after "--NAME wants WHAT". */
static bool size_arg(const char *prog, const char *name, const char *what, size_t *v, size_t lo,
                     size_t hi)
{
    if (numopt_size(optarg, v) == 0 && *v >= lo && *v <= hi)
        return true;
    fprintf(stderr, _("%s: --%s wants %s\n"), prog, name, _(what));
    return false;
}

int server_parse_options(server_opts *o, const server_codec *codec, const char *prog,
                         const char *about, int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},  {"quiet", no_argument, NULL, 'q'},
        {"max-message", required_argument, NULL, 'm'}, {"max-conns", required_argument, NULL, 'c'},
        {"idle-timeout", required_argument, NULL, 'i'}, {"help", no_argument, NULL, 'h'},
        {"max-conns-per-addr", required_argument, NULL, 'a'},
        {"first-message-timeout", required_argument, NULL, 'f'},
        {"registry", required_argument, NULL, 'R'}, {"service", required_argument, NULL, 'S'},
        {"ttl", required_argument, NULL, 'T'}, {"advertise", required_argument, NULL, 'A'},
        {"registry-token", required_argument, NULL, 'K'},
        {"registry-user", required_argument, NULL, 'U'},
        {"registry-token-file", required_argument, NULL, 'k'},
        {"registry-user-file", required_argument, NULL, 'u'},
        {NULL, 0, NULL, 0}};
    *o = (server_opts){.listen_addr = codec->default_listen, .registry_url = "none",
                       .service = codec->default_service ? codec->default_service : prog, .max_message = 1u << 20, .max_conns = 10000, .idle = 300, .first = 10, .ttl = 10};
    bool ok = true, given[3] = {false, false, false}; /* listen, registry, service */
    int ch;
    while (ok && (ch = getopt_long(argc, argv, "l:qh", opts, NULL)) != -1) {
        switch (ch) {
        case 'l': o->listen_addr = optarg, given[0] = true; break;
        case 'q': o->quiet = true; break;
        case 'm':
            ok = size_arg(prog, "max-message", N_("a number of bytes (at least 64)"), &o->max_message, 64, SIZE_MAX);
            break;
        case 'c': ok = size_arg(prog, "max-conns", N_("a positive number"), &o->max_conns, 1, SIZE_MAX); break;
        case 'a':
            ok = size_arg(prog, "max-conns-per-addr", N_("a positive number"), &o->per_addr, 1, SIZE_MAX);
            break;
        case 'i': ok = size_arg(prog, "idle-timeout", N_("a number of seconds"), &o->idle, 0, SIZE_MAX); break;
        case 'f':
            ok = size_arg(prog, "first-message-timeout", N_("a number of seconds (at most 86400)"), &o->first, 0,
                          86400);
            break;
        case 'R': o->registry_url = optarg, given[1] = true; break;
        case 'S': o->service = optarg, given[2] = true; break;
        case 'A': o->advertise = optarg; break;
        case 'K': o->token_arg = optarg; break;
        case 'U': o->user_arg = optarg; break;
        case 'k': o->token_file = optarg; break;
        case 'u': o->user_file = optarg; break;
        case 'T': ok = size_arg(prog, "ttl", N_("a number of seconds from 1 to 3600"), &o->ttl, 1, 3600); break;
        case 'h': usage(stdout, codec, prog, about); return 0;
        default:
            fprintf(stderr, _("Try '%s --help'.\n"), prog);
            return 2;
        }
    }
    if (!ok)
        return 2;
    if (optind < argc) {
        fprintf(stderr, _("%s: unexpected argument \"%s\". Try '%s --help'.\n"), prog, argv[optind], prog);
        return 2;
    }
    if (micro_env(o, given, prog) >= 0)
        return 2;
    char why[512];
    if (strcmp(o->registry_url, "none") != 0 && registry_check_names(o->service, NULL, NULL, why, sizeof why) < 0) {
        if (!given[2] && o->service == getenv("MICRO_SERVER_NAME"))
            fprintf(stderr, _("%s: $MICRO_SERVER_NAME: %s\n"), prog, why);
        else
            fprintf(stderr, _("%s: --service: %s\n"), prog, why);
        return 2;
    }
    if (!o->per_addr)
        o->per_addr = o->max_conns / 2 ? o->max_conns / 2 : 1;
    return -1;
}
