/* catalog.c -- the method signatures, in append-only chunks that readers walk without a lock. */
#include "wire/catalog.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "wire/pbcatalog.h"

/* Entries live in chunks that never move once allocated, so a pointer handed out stays
 * valid; a writer fills an entry, then publishes it by raising count with release order,
 * and a reader sees every entry below the count it loaded with acquire order. */
#define CHUNK 64
#define MAX_CHUNKS 256

static catalog_method *chunks[MAX_CHUNKS];
static atomic_size_t count;
static pthread_mutex_t add_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t published(void) { return atomic_load_explicit(&count, memory_order_acquire); }

static const catalog_method *entry(size_t i) { return &chunks[i / CHUNK][i % CHUNK]; }

static bool same(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

/* True when an entry below n already has e's name or e's gRPC path. */
static bool known(const catalog_method *e, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (same(entry(i)->name, e->name) || same(entry(i)->grpc_path, e->grpc_path))
            return true;
    return false;
}

/* Checks one entry; returns 0, or -1 with err. */
static int check(const catalog_method *e, char *err, size_t errlen)
{
    if (!e->name && !e->grpc_path) {
        err_set(err, errlen, "catalog: an entry needs a net/rpc name or a gRPC path");
        return -1;
    }
    if (e->name && (!strchr(e->name, '.') || e->name[0] == '.')) {
        err_set(err, errlen, "catalog: \"%s\" is not a Service.Method name", e->name);
        return -1;
    }
    if (e->grpc_path && (e->grpc_path[0] != '/' || !strchr(e->grpc_path + 1, '/'))) {
        err_set(err, errlen, "catalog: \"%s\" is not a gRPC path, /pkg.Service/Method",
                e->grpc_path);
        return -1;
    }
    return 0;
}

int catalog_add(const catalog_method *entries, size_t n, char *err, size_t errlen)
{
    int added = 0;
    pthread_mutex_lock(&add_lock);
    size_t have = atomic_load_explicit(&count, memory_order_relaxed); /* only writers change it */
    for (size_t i = 0; i < n; i++) {
        const catalog_method *e = &entries[i];
        if (check(e, err, errlen) < 0)
            goto fail;
        if (known(e, have))
            continue;
        if (have == (size_t)CHUNK * MAX_CHUNKS) {
            err_set(err, errlen, "catalog: full at %zu methods", have);
            goto fail;
        }
        if (!chunks[have / CHUNK] && !(chunks[have / CHUNK] = calloc(CHUNK, sizeof(catalog_method)))) {
            err_set(err, errlen, "out of memory");
            goto fail;
        }
        catalog_method *slot = &chunks[have / CHUNK][have % CHUNK];
        *slot = *e;
        if (!slot->pb && slot->grpc_path)
            slot->pb = pbcatalog_find(slot->grpc_path);
        atomic_store_explicit(&count, ++have, memory_order_release);
        added++;
    }
    pthread_mutex_unlock(&add_lock);
    return added;
fail:
    pthread_mutex_unlock(&add_lock);
    return -1;
}

const catalog_method *catalog_find(const char *name, bool served, char *err, size_t errlen)
{
    const char *dot = strrchr(name, '.');
    if (!dot) {
        err_set(err, errlen, "rpc: service/method request ill-formed: %s", name);
        return NULL;
    }
    size_t slen = (size_t)(dot - name), n = published();
    bool service_known = false;
    for (size_t i = 0; i < n; i++) {
        const catalog_method *e = entry(i);
        if (!e->name || (served && !e->fn))
            continue;
        if (strcmp(e->name, name) == 0)
            return e;
        if (strncmp(e->name, name, slen) == 0 && e->name[slen] == '.')
            service_known = true;
    }
    err_set(err, errlen, service_known ? "rpc: can't find method %s" : "rpc: can't find service %s",
            name);
    return NULL;
}

const catalog_method *catalog_find_path(const char *path)
{
    size_t n = published();
    for (size_t i = 0; i < n; i++)
        if (same(entry(i)->grpc_path, path))
            return entry(i);
    return NULL;
}

const pb_method *catalog_find_grpc(const char *name)
{
    const pb_method *pb = pbcatalog_find(name);
    if (pb)
        return pb;
    /* a method added at run time (wire/pbdesc), in any spelling of its path */
    char path[512];
    const char *s = name[0] == '/' ? name + 1 : name;
    const char *cut = strchr(s, '/') ? strrchr(s, '/') : strrchr(s, '.');
    if (cut && cut > s && cut[1]) {
        snprintf(path, sizeof path, "/%.*s/%s", (int)(cut - s), s, cut + 1);
        const catalog_method *m = catalog_find_path(path);
        if (m && m->pb)
            return m->pb;
    }
    const catalog_method *m = catalog_find(name, false, NULL, 0);
    return m ? m->pb : NULL;
}

const catalog_method *catalog_at(size_t i) { return i < published() ? entry(i) : NULL; }

value *catalog_argument(const catalog_method *m, const value *raw, char *err, size_t errlen)
{
    if (!m->arg) {
        value *copy = value_clone(raw);
        if (!copy)
            err_set(err, errlen, "out of memory");
        return copy;
    }
    char why[256];
    value *arg = vtype_coerce(m->arg, raw, why, sizeof why);
    if (!arg) {
        char want[160];
        vtype_spell(m->arg, want, sizeof want);
        err_set(err, errlen, "%s: bad argument: %s (it takes %s)", m->name ? m->name : m->grpc_path,
                why, want);
    }
    return arg;
}

catalog_status catalog_call(const catalog_method *m, const value *raw, value **reply, char *err,
                            size_t errlen)
{
    *reply = NULL;
    if (!m->fn) {
        err_set(err, errlen, "rpc: can't find method %s", m->name ? m->name : m->grpc_path);
        return CATALOG_NOT_SERVED;
    }
    value *arg = catalog_argument(m, raw, err, errlen);
    if (!arg)
        return CATALOG_BAD_ARGUMENT;
    int r = m->fn(arg, reply, err, errlen);
    value_free(arg);
    if (r < 0) {
        value_free(*reply);
        *reply = NULL;
        return CATALOG_FAILED;
    }
    if (!*reply) {
        err_set(err, errlen, "%s: the handler gave no reply", m->name ? m->name : m->grpc_path);
        return CATALOG_FAILED;
    }
    return CATALOG_OK;
}
