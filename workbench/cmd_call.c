/* cmd_call.c -- `workbench call URL METHOD ARGS`: one call to a server at an address or found
 * in a registry (through the balancer), its result, and optionally its bytes. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/esc.h"
#include "base/i18n.h"
#include "base/net.h"
#include "base/numopt.h"
#include "callgob.h"
#include "callgrpc.h"
#include "protosrc.h"
#include "commands.h"
#include "pcapopt.h"
#include "registry/registry.h"
#include "regopt.h"
#include "rpc/balancer.h"
#include "rpc/rpcclient.h"
#include "wire/jsonlines.h"
#include "wire/jsonval.h"
#include "wire/wire.h"

enum { SHOWN_ADDRS = 8 }; /* instances named in the discovery line; the rest are counted */

static void usage(FILE *f)
{
    fputs(_("Usage: workbench call URL METHOD ARGS [--wire] [--timeout MS] [credentials]\n"
            "Calls METHOD on the server at URL with ARGS, and prints the result as JSON.\n"
            "\n"
            "  URL      json://HOST:PORT   Go's net/rpc/jsonrpc (jsonrpc-server, port 8080)\n"
            "           gob://HOST:PORT    Go's net/rpc with gob (gob-server, port 8081)\n"
            "           grpc://HOST:PORT   gRPC, protobuf on HTTP/2 (grpc-server, port 50051)\n"
            "           or a service in a registry, called through the client-side balancer\n"
            "           (the one `workbench load` uses); the entry says the protocol:\n"
            "           etcd://HOST:PORT[,HOST:PORT...]/SERVICE   keys SERVICE/HOST:PORT\n"
            "           consul://HOST:PORT/SERVICE   a Consul agent's HTTP API (port 8500):\n"
            "                                        the instances whose checks pass\n"
            "           dns://HOST:PORT/NAME.service.consul   SRV records from Consul's DNS\n"
            "                                        interface (port 8600); /SERVICE alone\n"
            "                                        means SERVICE.service.consul\n"
            "           mdns://IFACE/SERVICE   multicast DNS on IFACE (mdns:///SERVICE: lo);\n"
            "                                        every server answers for itself\n"
            "           SERVICE is all after the first '/' and may hold more '/':\n"
            "           etcd://127.0.0.1:2379//etcd3_naming/hello is /etcd3_naming/hello\n"
            "  METHOD   Service.Method, e.g. Arith.Multiply, hello.HelloWorld; over gRPC also\n"
            "           package.Service/Method, e.g. helloworld.Greeter/SayHello\n"
            "  ARGS     the argument as JSON: '{\"A\":7,\"B\":8}' or '\"李白\"'; @ reads it\n"
            "           from stdin. A method that streams from the client takes a JSON list,\n"
            "           or from stdin one message a line; a streamed reply prints one\n"
            "           message a line, as each arrives\n"
            "\n"
            "Options:\n"
            "  -w, --wire        print every byte sent and received, explained (with a\n"
            "                    registry: of each connection the balancer used)\n"
            "  -t, --timeout MS  give up after MS milliseconds (default 5000)\n"
            "  -n, --repeat N    make the call N times on the same connection (with --wire\n"
            "                    this shows that gob sends each type definition only once);\n"
            "                    with a registry, round robin over the instances\n"
            "      --color WHEN  colour the dump: auto (default), always, never\n"
            "  -p, --proto P     with a registry: json, gob or grpc, for entries that do not\n"
            "                    say (the others must say P); any other P is a .proto file\n"
            "      --no-retry    with a registry: do not try another instance when the\n"
            "                    connection fails (only for a method unsafe to repeat)\n"
            "  -d, --data ARGS   ARGS as an option, as grpcurl takes it (-d @: stdin)\n"
            "  -H, --header 'NAME: VALUE'\n"
            "                    gRPC: send this request metadata (repeatable; a NAME\n"
            "                    ending in -bin takes its VALUE as base64)\n"
            "  -v, --verbose     gRPC: also print the metadata sent, the response\n"
            "                    headers, the trailers and the status\n"
            "      --emit-defaults  gRPC: print fields at their zero value too (services\n"
            "                    the workbench learns print as proto3's JSON mapping)\n"),
          f);
    fputs(_("      --pcap FILE   write every connection made to FILE, a capture file that\n"
            "                    Wireshark and tshark open with their dissectors\n"),
          f);
    fputs(callgob_help(), f);
    fputs(_("A gRPC service the workbench was not built with is described by the server's\n"
            "reflection (v1, else v1alpha), or by files:\n"), f);
    fputs(_(PROTOSRC_HELP), f);
    fputs(_(REGISTRY_CREDS_HELP), f);
    fputs(_("\n"
            "With a registry, stderr says which instances it lists and which one answered.\n"
            "\n"
            "Examples:\n"
            "  workbench call json://127.0.0.1:8080 Arith.Multiply '{\"A\":7,\"B\":8}'\n"
            "  workbench call etcd://127.0.0.1:2379/arith Arith.Multiply '{\"A\":7,\"B\":8}' -n 4\n"
            "  workbench call consul://127.0.0.1:8500/hello Arith.Multiply '{\"A\":7,\"B\":8}'\n"
            "  workbench call dns://127.0.0.1:8600/hello.service.consul Arith.Multiply \\\n"
            "      '{\"A\":7,\"B\":8}'     (dig @127.0.0.1 -p 8600 hello.service.consul SRV\n"
            "                           shows the same records)\n"
            "\n"
            "Exit status: 0 result printed; 1 the server answered with an error;\n"
            "2 bad usage (including an argument the method cannot take);\n"
            "3 the call failed (connection, deadline, garbled reply), or the registry\n"
            "could not be reached or has no instance that passes its checks.\n"),
          f);
}

typedef struct call_opts {
    bool wire, retry;
    bool verbose;                                /* -v */
    const char *headers[CALLGRPC_MAX_HEADERS];   /* -H */
    int nheaders;
    int timeout, repeat;
    const char *color, *proto; /* proto: --proto, or NULL */
    const char *url, *method, *args;
    registry_creds creds;
    callgob_opts gob; /* --type, --types */
    protosrc src;     /* --proto FILE, -I, --protoset */
    bool emit_defaults;
    const char *pcap; /* --pcap FILE */
    pcapout *rec;     /* its writer, open during the calls */
} call_opts;

/* Fills o from argv. Returns -1 to go on, or the exit code. */
static int parse_options(int argc, char **argv, call_opts *o)
{
    static const struct option opts[] = {{"wire", no_argument, NULL, 'w'},
                                         {"timeout", required_argument, NULL, 't'},
                                         {"color", required_argument, NULL, 'c'},
                                         {"repeat", required_argument, NULL, 'n'},
                                         {"proto", required_argument, NULL, 'p'},
                                         {"no-retry", no_argument, NULL, 'N'},
                                         {"type", required_argument, NULL, 'T'},
                                         {"types", no_argument, NULL, 'Y'},
                                         {"data", required_argument, NULL, 'd'},
                                         {"header", required_argument, NULL, 'H'},
                                         {"verbose", no_argument, NULL, 'v'},
                                         {"emit-defaults", no_argument, NULL, 'E'},
                                         {"pcap", required_argument, NULL, 'P'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    *o = (call_opts){.retry = true, .timeout = 5000, .repeat = 1, .color = "auto"};
    regopt_creds given = {NULL, NULL, NULL, NULL};
    char err[512];
    if (protosrc_take(&argc, argv, &o->src, err, sizeof err) < 0 ||
        regopt_take_creds(&argc, argv, &given, err, sizeof err) < 0 ||
        registry_creds_pick(&o->creds, given.token, given.token_file, given.user, given.user_file, err,
                            sizeof err) < 0) {
        fprintf(stderr, "workbench call: %s\n", err);
        return EXIT_USAGE;
    }
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "wt:n:p:hd:H:v", opts, NULL)) != -1) {
        switch (ch) {
        case 'w': o->wire = true; break;
        case 'n':
            if (numopt_int(optarg, 1, 1000, &o->repeat) < 0) {
                fputs(_("workbench call: --repeat wants a number from 1 to 1000\n"), stderr);
                return EXIT_USAGE;
            }
            break;
        case 't':
            if (numopt_int(optarg, 1, 3600000, &o->timeout) < 0) {
                fputs(_("workbench call: --timeout wants a positive number of milliseconds\n"), stderr);
                return EXIT_USAGE;
            }
            break;
        case 'c': o->color = optarg; break;
        case 'p': o->proto = optarg; break;
        case 'N': o->retry = false; break;
        case 'T': o->gob.type_line = optarg; break;
        case 'Y': o->gob.types = true; break;
        case 'd': o->args = optarg; break;
        case 'v': o->verbose = true; break;
        case 'E': o->emit_defaults = true; break;
        case 'P': o->pcap = optarg; break;
        case 'H':
            if (o->nheaders == CALLGRPC_MAX_HEADERS) {
                fprintf(stderr, _("workbench call: at most %d -H headers\n"), CALLGRPC_MAX_HEADERS);
                return EXIT_USAGE;
            }
            o->headers[o->nheaders++] = optarg;
            break;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (argc - optind != (o->args ? 2 : 3)) {
        fputs(o->args ? _("workbench call: expected URL METHOD with -d ARGS\n\n")
                      : _("workbench call: expected URL METHOD ARGS\n\n"), stderr);
        usage(stderr);
        return EXIT_USAGE;
    }
    o->url = argv[optind];
    o->method = argv[optind + 1];
    if (!o->args)
        o->args = argv[optind + 2];
    return -1;
}

/* The bytes of one connection, explained. */
static void print_wire(rpc_proto proto, const buf *sent, const buf *recv, const explain_style *style)
{
    explain es, er;
    explain_init(&es);
    explain_init(&er);
    wire_explain_pair(proto, buf_data(sent), buf_size(sent), buf_data(recv), buf_size(recv), &es, &er);
    wire_print_explained(stdout, "sent", proto, buf_data(sent), buf_size(sent), &es, style);
    wire_print_explained(stdout, "received", proto, buf_data(recv), buf_size(recv), &er, style);
    wire_legend(stdout, style);
    explain_done(&es);
    explain_done(&er);
}

/* Prints the result (stdout) or why there is none (stderr); returns the exit code. */
static int print_outcome(call_status st, const value *reply, rpc_proto proto, const char *err)
{
    fflush(stdout); /* the dump comes before any error message */
    char shown[4 * 1024]; /* what the server said, escaped for the terminal */
    if (st != CALL_OK)
        esc_str(shown, sizeof shown, err);
    if (st == CALL_OK) {
        if (reply)
            callgrpc_print_reply(reply, proto == PROTO_GRPC);
        return EXIT_OK;
    }
    if (st == CALL_REMOTE_ERROR) {
        fprintf(stderr, _("error from server: %s\n"), shown);
        return EXIT_REMOTE_ERROR;
    }
    fprintf(stderr, "workbench call: %s\n", shown);
    return st == CALL_BAD_ARGUMENT ? EXIT_USAGE : EXIT_FAILED;
}

/* The call to a server at an address (json://, gob://, grpc://). */
static int call_direct(const call_opts *o, const value *arg, bool as_list, const explain_style *style)
{
    rpc_proto proto;
    char err[1024], addr[300], host[256];
    int port;
    if (rpc_proto_parse_url(o->url, &proto, addr, sizeof addr, err, sizeof err) < 0 ||
        net_split(addr, host, sizeof host, &port, err, sizeof err) < 0) {
        fprintf(stderr, "workbench call: %s\n", err);
        return EXIT_USAGE;
    }
    if (proto != PROTO_GRPC && (o->nheaders || o->verbose)) {
        fprintf(stderr, _("workbench call: %s is for grpc:// only: %s carries no metadata\n"),
                o->nheaders ? "-H" : "-v", proto == PROTO_GOB ? "Go's net/rpc (gob)" : "JSON-RPC");
        return EXIT_USAGE;
    }
    rpcclient *c = rpcclient_dial(o->url, o->timeout, err, sizeof err);
    if (!c) {
        static const char *const program[] = {[PROTO_JSON] = "jsonrpc-server", [PROTO_GOB] = "gob-server",
                                              [PROTO_GRPC] = "grpc-server"};
        if (strstr(err, "refused"))
            fprintf(stderr,
                    _("workbench call: %s\n  (is the server running? `make servers` starts the sample servers;\n"
                      "  bin/%s --listen %s starts this one)\n"),
                    err, program[proto], addr);
        else
            fprintf(stderr, "workbench call: %s\n", err);
        return EXIT_FAILED;
    }
    rpcclient_capture(c, o->wire || o->gob.types);
    rpcclient_record(c, o->rec);
    rpcclient_set_gob_type(c, o->gob.t);
    callgrpc g = {.verbose = o->verbose, .headers = o->headers, .nheaders = o->nheaders};
    if (callgrpc_set_headers(c, o->headers, o->nheaders, err, sizeof err) < 0) {
        fprintf(stderr, "workbench call: %s\n", err);
        rpcclient_free(c);
        return EXIT_USAGE;
    }
    if (proto == PROTO_GRPC) {
        int learnt = callgrpc_learn(&o->src, addr, o->method, o->timeout);
        if (learnt >= 0) {
            rpcclient_free(c);
            return learnt;
        }
        rpcclient_set_json_opts(c, &(pbjson_opts){.emit_defaults = o->emit_defaults});
        callgrpc_begin(&g, c, o->wire);
    }
    value *reply = NULL;
    call_status st = CALL_OK;
    for (int i = 0; i < o->repeat && st == CALL_OK; i++) {
        value_free(reply);
        reply = NULL;
        st = as_list ? rpcclient_call_messages(c, o->method, arg, o->timeout, &reply, err, sizeof err)
                     : rpcclient_call(c, o->method, arg, o->timeout, &reply, err, sizeof err);
    }
    if (o->wire)
        print_wire(rpcclient_proto(c), rpcclient_sent(c), rpcclient_received(c), style);
    callgob_report(&o->gob, c);
    if (proto == PROTO_GRPC)
        callgrpc_after(&g, c, st, reply, err, sizeof err);
    int rc = print_outcome(st, proto == PROTO_GRPC ? NULL : reply, proto, err);
    callgob_hint(&o->gob, c, st, err);
    if (proto == PROTO_GRPC)
        callgrpc_details(c);
    value_free(reply);
    rpcclient_free(c);
    return rc;
}

/* ---- through a registry ---- */

/* Splits SCHEME://ENDPOINTS/SERVICE of a registry (etcd, consul, dns, mdns) into the registry's
 * URL and the service. Returns false for any other URL. */
static bool split_registry_url(const char *url, char *reg, size_t cap, char *service, size_t scap)
{
    static const char *const schemes[] = {"etcd://", "consul://", "dns://", "mdns://"};
    for (size_t i = 0; i < sizeof schemes / sizeof *schemes; i++) {
        size_t n = strlen(schemes[i]);
        if (strncmp(url, schemes[i], n) != 0)
            continue;
        const char *slash = strchr(url + n, '/');
        size_t len = slash ? (size_t)(slash - url) : strlen(url);
        snprintf(reg, cap, "%.*s", (int)len, url);
        snprintf(service, scap, "%s", slash ? slash + 1 : "");
        return true;
    }
    return false;
}

/* The registry's name for its listing, as a learner reads it. */
static const char *kind_words(registry_kind k)
{
    return k == REGISTRY_CONSUL ? _("passing instance(s)") : k == REGISTRY_DNS ? _("SRV record(s)")
                                                                              : _("instance(s)");
}

/* Why there is no instance to call: for Consul, the instances whose checks do not pass;
 * for etcd and Consul, the services the registry does know. */
static void explain_empty(registry *r, const char *regurl, const char *service)
{
    registry_kind k = registry_get_kind(r);
    char err[512], s_shown[600], u_shown[1100];
    esc_str(s_shown, sizeof s_shown, service);
    esc_str(u_shown, sizeof u_shown, regurl);
    if (k == REGISTRY_DNS) {
        fprintf(stderr, _("workbench call: %s has no SRV record for %s: Consul's DNS names only the\n"
                          "  instances whose health checks pass, and answers NXDOMAIN for a service\n"
                          "  it does not know\n"), u_shown, s_shown);
        return;
    }
    registry_instance *all = NULL;
    size_t n = 0;
    registry_set_passing_only(r, false);
    if (k == REGISTRY_CONSUL && registry_list(r, service, &all, &n, NULL, err, sizeof err) == 0 && n > 0) {
        fprintf(stderr, _("workbench call: %s has %zu instance(s) of %s, and none passes its health check:\n"),
                u_shown, n, s_shown);
        for (size_t i = 0; i < n && i < SHOWN_ADDRS; i++) {
            char a[600], st[100];
            fprintf(stderr, "  %s  check=%s\n", esc_str(a, sizeof a, all[i].addr), esc_str(st, sizeof st, all[i].status));
        }
        free(all);
        return;
    }
    free(all);
    fprintf(stderr, _("workbench call: %s has no service %s\n"), u_shown, s_shown);
    buf names;
    buf_init(&names, REGISTRY_MAX_RESPONSE);
    if (registry_services(r, &names, err, sizeof err) == 0 && buf_size(&names) > 0 && buf_putc(&names, 0) == 0) {
        char shown[1024];
        const char *t = (const char *)buf_data(&names);
        size_t len = strlen(t);
        while (len && t[len - 1] == '\n')
            len--;
        esc_bytes(shown, sizeof shown, t, len > 200 ? 200 : len);
        for (char *p = shown; *p; p++) /* one name a line becomes a list */
            if (*p == '\\' && p[1] == 'n')
                p[0] = ',', p[1] = ' ';
        fprintf(stderr, _("  (it knows: %s%s)\n"), shown, len > 200 ? "…" : "");
    }
    buf_done(&names);
}

/* The protocol the instances speak into *proto, and their addresses (those that speak
 * it) into addrs. Returns the number kept, or -1 after saying why. */
static int pick_protocol(const call_opts *o, const registry_instance *in, size_t n, const char **addrs,
                         rpc_proto *proto, const char *service)
{
    const char *want = o->proto;
    for (size_t i = 0; i < n && !want; i++)
        if (in[i].protocol[0])
            want = in[i].protocol;
    char url[64], addr[16];
    snprintf(url, sizeof url, "%s://x:1", want ? want : "");
    if (!want || rpc_proto_parse_url(url, proto, addr, sizeof addr, NULL, 0) < 0) {
        char s[600], w[100];
        if (want)
            fprintf(stderr, _("workbench call: the protocol %s is not json, gob or grpc\n"), esc_str(w, sizeof w, want));
        else
            fprintf(stderr, _("workbench call: the registry does not say which protocol %s speaks: give\n"
                              "  --proto json, gob or grpc\n"), esc_str(s, sizeof s, service));
        return -1;
    }
    int kept = 0;
    for (size_t i = 0; i < n; i++)
        if (!in[i].protocol[0] || strcmp(in[i].protocol, want) == 0)
            addrs[kept++] = in[i].addr;
    if ((size_t)kept < n)
        fprintf(stderr, _("(%zu instance(s) speaking another protocol left out: --proto picks one)\n"),
                n - (size_t)kept);
    return kept;
}

/* A random order, so that one call after another spreads over the instances. */
static void shuffle(const char **a, int n)
{
    unsigned seed = (unsigned)(clock_now_us() ^ (uint64_t)getpid());
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(rand_r(&seed) % (unsigned)(i + 1));
        const char *t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

/* The discovery line on stderr: what the registry lists, and the protocol. */
static void say_found(const char *regurl, registry_kind k, const char *service, rpc_proto proto,
                      const char *const *addrs, int n)
{
    char u[2400], s[1200], a[600], more[64] = "";
    buf list;
    buf_init(&list, 0);
    for (int i = 0; i < n && i < SHOWN_ADDRS; i++)
        buf_printf(&list, "%s%s", i ? " " : "", esc_str(a, sizeof a, addrs[i]));
    if (n > SHOWN_ADDRS)
        snprintf(more, sizeof more, _(" and %d more"), n - SHOWN_ADDRS);
    fprintf(stderr, _("(%s lists %d %s of %s, speaking %s: %.*s%s)\n"), esc_str(u, sizeof u, regurl), n,
            kind_words(k), esc_str(s, sizeof s, service), rpc_proto_name(proto), (int)buf_size(&list),
            (const char *)buf_data(&list), more);
    buf_done(&list);
}

/* Lists service in the registry and gives a new balancer (*lb) the instances. Returns -1
 * to go on, or the exit code after saying why not. */
static int discover(const call_opts *o, const char *regurl, const char *service, balancer **lb)
{
    char err[512], shown[4 * sizeof err];
    registry *r = registry_new(regurl, &o->creds.auth, err, sizeof err);
    if (!r) {
        fprintf(stderr, "workbench call: %s\n", err);
        return EXIT_USAGE;
    }
    registry_instance *in = NULL;
    const char **addrs = NULL;
    size_t n = 0;
    int rc = EXIT_FAILED;
    if (registry_check_service(r, service, err, sizeof err) < 0) {
        fprintf(stderr, _("workbench call: %s\n"), esc_str(shown, sizeof shown, err));
        rc = EXIT_USAGE;
        goto done;
    }
    if (registry_list(r, service, &in, &n, NULL, err, sizeof err) < 0) {
        bool answered = strncmp(err, "etcd:", 5) == 0 || strncmp(err, "consul:", 7) == 0 ||
                        strncmp(err, "dns:", 4) == 0;
        esc_str(shown, sizeof shown, err);
        if (answered)
            fprintf(stderr, _("workbench call: the registry %s: %s\n"), regurl, shown);
        else
            fprintf(stderr, _("workbench call: cannot reach the registry %s: %s\n"
                              "  (is the registry running? check the address in the URL)\n"), regurl, shown);
        goto done;
    }
    if (n == 0) {
        explain_empty(r, regurl, service);
        goto done;
    }
    rpc_proto proto = PROTO_JSON;
    int kept = (addrs = calloc(n, sizeof *addrs)) ? pick_protocol(o, in, n, addrs, &proto, service) : -1;
    if (kept <= 0) {
        rc = kept == 0 ? EXIT_FAILED : EXIT_USAGE;
        goto done;
    }
    say_found(regurl, registry_get_kind(r), service, proto, addrs, kept);
    shuffle(addrs, kept);
    if (!(*lb = balancer_new(proto, PICK_ROUND_ROBIN, o->timeout)) ||
        balancer_set_members(*lb, addrs, (size_t)kept) < 0) {
        fputs(_("workbench call: out of memory\n"), stderr);
        goto done;
    }
    balancer_capture(*lb, o->wire);
    balancer_record(*lb, o->rec);
    rc = -1;
done:
    free(addrs);
    free(in);
    registry_free(r);
    return rc;
}

/* Which instance answered call number i (of o->repeat), on stderr. */
static void say_who(const call_opts *o, const balancer *lb, const lb_result *res, int i)
{
    size_t n;
    const lb_instance *all = balancer_instances(lb, &n);
    char a[600], b[600], e[1100];
    if (res->failed_on >= 0)
        fprintf(stderr, _("(%s failed: %s; tried again on %s)\n"), esc_str(a, sizeof a, all[res->failed_on].addr),
                esc_str(e, sizeof e, res->first_error), esc_str(b, sizeof b, all[res->instance].addr));
    if (res->instance < 0)
        return;
    esc_str(a, sizeof a, all[res->instance].addr);
    bool answered = res->st == CALL_OK || res->st == CALL_REMOTE_ERROR;
    if (o->repeat > 1)
        fprintf(stderr, answered ? _("(call %d answered by %s)\n") : _("(call %d sent to %s)\n"), i + 1, a);
    else
        fprintf(stderr, answered ? _("(answered by %s)\n") : _("(sent to %s)\n"), a);
}

static int call_registry(const call_opts *o, const char *regurl, const char *service, const value *arg,
                         const explain_style *style)
{
    if (!*service) {
        fprintf(stderr, _("workbench call: name the service after the registry: %s/SERVICE\n"), regurl);
        return EXIT_USAGE;
    }
    if (o->nheaders || o->verbose) {
        fprintf(stderr, _("workbench call: %s works with grpc://HOST:PORT, not through a registry\n"),
                o->nheaders ? "-H" : "-v");
        return EXIT_USAGE;
    }
    balancer *lb = NULL;
    int rc = discover(o, regurl, service, &lb);
    size_t n;
    const lb_instance *all = rc < 0 ? balancer_instances(lb, &n) : NULL;
    if (rc < 0 && balancer_proto(lb) == PROTO_GRPC && n > 0) /* the types: from the first instance */
        rc = callgrpc_learn(&o->src, all[0].addr, o->method, o->timeout);
    if (rc >= 0) {
        balancer_free(lb);
        return rc;
    }
    char err[1024];
    value *reply = NULL;
    call_status st = CALL_OK;
    for (int i = 0; i < o->repeat && st == CALL_OK; i++) {
        lb_result res;
        value_free(reply);
        reply = NULL;
        st = balancer_call(lb, o->method, arg, o->retry, &reply, &res, err, sizeof err);
        say_who(o, lb, &res, i);
    }
    all = balancer_instances(lb, &n);
    for (size_t i = 0; o->wire && i < n; i++) {
        if (!all[i].conn)
            continue;
        char a[600];
        printf(_("Connection to %s (%llu call(s)):\n"), esc_str(a, sizeof a, all[i].addr),
               (unsigned long long)all[i].calls);
        print_wire(rpcclient_proto(all[i].conn), rpcclient_sent(all[i].conn), rpcclient_received(all[i].conn),
                   style);
    }
    rc = print_outcome(st, reply, balancer_proto(lb), err);
    value_free(reply);
    balancer_free(lb);
    return rc;
}

/* ARGS @: the messages on stdin (wire/jsonlines.h), read within --timeout. Returns the
 * list, or NULL after saying why. */
static value *read_stdin(const call_opts *o)
{
    enum { MAX_STDIN = 16 << 20 };
    char err[512];
    buf in;
    buf_init(&in, MAX_STDIN);
    uint64_t deadline = clock_now_ms() + (uint64_t)o->timeout;
    value *list = NULL;
    for (;;) {
        if (net_wait_readable(0, deadline) == 0) {
            fprintf(stderr, _("workbench call: stdin did not end within --timeout (%d ms)\n"), o->timeout);
            goto done;
        }
        if (buf_reserve(&in, 64 * 1024) < 0) {
            fprintf(stderr, _("workbench call: stdin holds more than %d MiB\n"), MAX_STDIN >> 20);
            goto done;
        }
        ssize_t n = read(0, in.p + in.len, in.cap - in.len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fprintf(stderr, "workbench call: stdin: %s\n", strerror(errno));
            goto done;
        }
        if (n == 0)
            break;
        in.len += (size_t)n;
    }
    if (!(list = jsonlines_parse((const char *)buf_data(&in), buf_size(&in), err, sizeof err)))
        fprintf(stderr, _("workbench call: stdin: %s\n"), err);
done:
    buf_done(&in);
    return list;
}

int cmd_call(int argc, char **argv)
{
    static call_opts o; /* its credentials are large */
    int rc = parse_options(argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (callgob_check(&o.gob, o.url) < 0)
        return EXIT_USAGE;
    char err[1024], regurl[600], service[300];
    explain_style style;
    if (wire_style(stdout, o.color, &style) < 0) {
        fputs(_("workbench call: --color wants auto, always or never\n"), stderr);
        return EXIT_USAGE;
    }
    bool from_stdin = strcmp(o.args, "@") == 0;
    value *arg = from_stdin ? read_stdin(&o) : jsonval_parse(o.args, strlen(o.args), err, sizeof err);
    if (from_stdin && !arg)
        return EXIT_USAGE;
    if (from_stdin && arg->u.list.len == 1 && split_registry_url(o.url, regurl, sizeof regurl, service,
                                                                 sizeof service)) {
        value *one = arg->u.list.items[0]; /* the balancer takes one argument */
        arg->u.list.items[0] = NULL;
        arg->u.list.len = 0;
        value_free(arg);
        arg = one;
        from_stdin = false;
    }
    if (!arg) {
        fprintf(stderr, _("workbench call: ARGS is not JSON: %s\n"
                          "  (a string needs its quotes inside the shell quotes: '\"李白\"')\n"), err);
        return EXIT_USAGE;
    }
    if (protosrc_load(&o.src, err, sizeof err) < 0) {
        fprintf(stderr, "workbench call: %s\n", err);
        value_free(arg);
        return EXIT_USAGE;
    }
    bool through_registry = split_registry_url(o.url, regurl, sizeof regurl, service, sizeof service);
    if (through_registry && from_stdin) {
        fputs(_("workbench call: through a registry a call takes one message from stdin\n"), stderr);
        value_free(arg);
        return EXIT_USAGE;
    }
    if (o.pcap && !(o.rec = pcapopt_open("call", o.pcap))) {
        value_free(arg);
        return EXIT_USAGE;
    }
    if (through_registry)
        rc = call_registry(&o, regurl, service, arg, &style);
    else
        rc = call_direct(&o, arg, from_stdin, &style);
    pcapopt_close("call", o.rec, o.pcap);
    value_free(arg);
    callgob_done(&o.gob);
    return rc;
}
