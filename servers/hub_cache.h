/* hub_cache.h -- the service hub's cache of the registry: each service's gRPC instances,
 * kept by a thread that lists the registry and follows its watch, read by the hub's
 * handlers under a lock (they never wait on the registry).
 *
 * On etcd the thread lists every key once and follows one watch of them all, so every
 * service is known from the start. On Consul (and DNS) a service is listed and watched
 * once it is asked for by name, or, for a followed prefix, once a listing of the
 * registry's service names (every RESCAN_MS) shows it. */
#ifndef WB_HUB_CACHE_H
#define WB_HUB_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "registry/registry.h"

enum {
    HUB_NAME_MAX = 128,     /* bytes of a service name or an address, with the NUL */
    HUB_MAX_SERVICES = 1024, /* services the cache holds; more are logged and left out */
    HUB_MAX_ADDRS = 256,    /* instances of one service */
    HUB_MAX_PREFIXES = 32,  /* prefixes followed (Consul, DNS) */
    HUB_MAX_FOLLOWS = 128,  /* services listed and watched one by one (Consul, DNS) */
};

typedef struct hub_cache hub_cache;

/* Opens the registry at url (auth may be NULL; copied) and starts the thread. Returns
 * NULL with a reason in err for a URL that is not understood or "none". */
hub_cache *hub_cache_start(const char *url, const registry_auth *auth, char *err, size_t errlen);
/* Stops the thread (a request in flight is aborted), frees the cache. Accepts NULL. */
void hub_cache_stop(hub_cache *c);

/* What the cache says of one service. */
typedef struct hub_found {
    char addr[HUB_NAME_MAX];       /* the next instance, round robin */
    char (*addrs)[HUB_NAME_MAX];   /* every one, sorted (caller frees) */
    size_t n;
    int64_t revision;              /* the registry revision the cache has reached */
} hub_found;

/* The instances of name into *out; the name is followed from now on. Returns GRPC_OK,
 * or with a reason in msg GRPC_INVALID_ARGUMENT (empty or long name), GRPC_NOT_FOUND (no
 * usable gRPC instance now), GRPC_UNAVAILABLE (the registry not listed yet) or
 * GRPC_RESOURCE_EXHAUSTED (out of memory). */
int hub_cache_get(hub_cache *c, const char *name, hub_found *out, char *msg, size_t msglen);
/* The names under prefix that have an instance now, sorted, into a new array *names
 * (caller frees) of *n; the prefix is followed from now on. Returns as hub_cache_get. */
int hub_cache_names(hub_cache *c, const char *prefix, char (**names)[HUB_NAME_MAX], size_t *n, char *msg,
                    size_t msglen);

#endif
