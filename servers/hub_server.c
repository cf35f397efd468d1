/* hub_server.c -- the service hub: discovery.Discovery over gRPC, answering from a cache of
 * the registry it stands in front of (tutorial 002's serviceHub). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "base/log.h"
#include "discovery.pb-c.h"
#include "hub_cache.h"
#include "registry/registry.h"
#include "rpc/grpcserver.h"
#include "rpc/server.h"

#define DEFAULT_REGISTRY "etcd://127.0.0.1:2379"

static hub_cache *cache;

static int get_services(const ProtobufCMessage *req, grpc_call *call, char *msg, size_t msglen)
{
    const Discovery__ServiceName *q = (const Discovery__ServiceName *)req;
    hub_found f;
    int st = hub_cache_get(cache, q->name, &f, msg, msglen);
    if (st != GRPC_OK)
        return st;
    char **list = malloc(f.n * sizeof *list);
    if (!list) {
        free(f.addrs);
        snprintf(msg, msglen, "out of memory");
        return GRPC_RESOURCE_EXHAUSTED;
    }
    for (size_t i = 0; i < f.n; i++)
        list[i] = f.addrs[i];
    Discovery__ServiceInfo r = DISCOVERY__SERVICE_INFO__INIT;
    r.name = q->name;
    r.address = f.addr;
    r.n_addresses = f.n;
    r.addresses = list;
    r.revision = f.revision;
    st = grpcserver_reply(call, &r.base) == 0 ? GRPC_OK : GRPC_INTERNAL;
    free(list);
    free(f.addrs);
    return st;
}

static int watch_service(const ProtobufCMessage *req, grpc_call *call, char *msg, size_t msglen)
{
    const Discovery__Prefix *q = (const Discovery__Prefix *)req;
    char(*names)[HUB_NAME_MAX] = NULL;
    size_t n = 0;
    int st = hub_cache_names(cache, q->prefix, &names, &n, msg, msglen);
    char **list = st == GRPC_OK ? malloc((n ? n : 1) * sizeof *list) : NULL;
    if (st == GRPC_OK && !list) {
        snprintf(msg, msglen, "out of memory");
        st = GRPC_RESOURCE_EXHAUSTED;
    }
    if (st == GRPC_OK) {
        for (size_t i = 0; i < n; i++)
            list[i] = names[i];
        Discovery__WatchReply r = DISCOVERY__WATCH_REPLY__INIT;
        r.n_names = n;
        r.names = list;
        st = grpcserver_reply(call, &r.base) == 0 ? GRPC_OK : GRPC_INTERNAL;
    }
    free(list);
    free(names);
    return st;
}

static const grpc_method methods[] = {
    {"/discovery.Discovery/GetServices", get_services},
    {"/discovery.Discovery/WatchService", watch_service},
};

static bool wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    return false;
}

/* The value of --name in argv without taking it out (server_main reads it too). */
static const char *peek_option(int argc, char **argv, const char *name, char **scratch)
{
    bool missing;
    int n = argc;
    memcpy(scratch, argv, (size_t)argc * sizeof *scratch);
    return server_take_option(&n, scratch, name, &missing);
}

static bool peek_flag(int argc, char **argv, const char *a, const char *b)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], a) == 0 || strcmp(argv[i], b) == 0)
            return true;
    return false;
}

/* Opens the cache over url with the registry credentials of argv (or the environment).
 * Returns 0, or the exit code after saying why on stderr. */
static int open_cache(const char *url, int argc, char **argv)
{
    char **scratch = calloc((size_t)argc + 1, sizeof *scratch), err[512];
    if (!scratch)
        return 1;
    static registry_creds creds;
    int rc = registry_creds_pick(&creds, peek_option(argc, argv, "registry-token", scratch),
                                 peek_option(argc, argv, "registry-token-file", scratch),
                                 peek_option(argc, argv, "registry-user", scratch),
                                 peek_option(argc, argv, "registry-user-file", scratch), err, sizeof err);
    free(scratch);
    if (rc < 0) {
        fprintf(stderr, "hub-server: %s\n", err);
        return 2;
    }
    if (!(cache = hub_cache_start(url, &creds.auth, err, sizeof err))) {
        fprintf(stderr, "hub-server: --registry: %s\n", err);
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const char about[] = N_(
        "The service hub: registration and discovery offered as gRPC methods\n"
        "(discovery.Discovery), in front of a registry. A thread lists the registry\n"
        "and follows its watch into a cache, from which every call is answered, so a\n"
        "client asks the hub instead of watching etcd itself (the gateway with --hub).\n"
        "\n"
        "Its own option:\n"
        "      --registry URL       the registry it stands in front of (default\n"
        "                           etcd://127.0.0.1:2379; consul:// and dns:// too);\n"
        "                           the hub registers itself there only with --service");
    server_codec codec = grpcserver_codec;
    codec.default_listen = "127.0.0.1:8004";
    codec.methods_help = N_(
        "Methods served:\n"
        "  /discovery.Discovery/GetServices  {name} -> {name, address, addresses,\n"
        "                      revision}: address is one usable gRPC instance, round\n"
        "                      robin, addresses all of them; NOT_FOUND when there is\n"
        "                      none (the name is followed from then on),\n"
        "                      INVALID_ARGUMENT for an empty name\n"
        "  /discovery.Discovery/WatchService  {prefix} -> {names}: the hub follows every\n"
        "                      service under prefix and names those it knows now\n"
        "  /grpc.health.v1.Health/Check and /Watch, server reflection\n");
    if (server_lang(&argc, argv, "hub-server") != 0)
        return 2;
    bool missing;
    char err[512];
    const char *url = server_take_option(&argc, argv, "registry", &missing);
    if (missing || grpcserver_take_options(&argc, argv, err, sizeof err) < 0) {
        fprintf(stderr, "hub-server: %s\n", missing ? _("--registry wants a URL") : err);
        return 2;
    }
    if (!url)
        url = DEFAULT_REGISTRY;
    if (grpcserver_add_methods(methods, sizeof methods / sizeof methods[0], err, sizeof err) < 0) {
        fprintf(stderr, "hub-server: %s\n", err);
        return 1;
    }
    const char *help = grpcserver_about(_(about));
    if (wants_help(argc, argv))
        return server_main(&codec, "hub-server", help, argc, argv);

    /* The cache's thread and the registry's take no signal: the loop's signalfd does. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    log_setup("hub-server", peek_flag(argc, argv, "-q", "--quiet"));
    int rc = open_cache(url, argc, argv);
    if (rc != 0)
        return rc;
    char **av = calloc((size_t)argc + 3, sizeof *av);
    if (!av) {
        hub_cache_stop(cache);
        return 1;
    }
    int ac = 0;
    av[ac++] = argv[0];
    char **scratch = calloc((size_t)argc + 1, sizeof *scratch);
    if (scratch && peek_option(argc, argv, "service", scratch)) {
        av[ac++] = "--registry";
        av[ac++] = (char *)url;
    }
    free(scratch);
    memcpy(av + ac, argv + 1, (size_t)(argc - 1) * sizeof *av);
    rc = server_main(&codec, "hub-server", help, ac + argc - 1, av);
    free(av);
    hub_cache_stop(cache);
    return rc;
}
