/* registry_scale.c -- bench helper for bench/registry_scale.sh: one client of a registry
 * that lists a service, watches it, and times changes made one at a time.
 *
 *   registry_scale URL SERVICE CHANGES [WAIT_MS [NODE]]
 *
 * Lists SERVICE (as a client does at its start), starts a watch from the listed revision,
 * waits for the watch to settle, then makes CHANGES changes, alternately adding an
 * instance 127.0.0.1:PORT and removing it again, each timed until the watch delivers it.
 * etcd changes go through registry_register/registry_deregister (a lease, a key on it);
 * Consul changes are agent registrations without a check, as the entries the bench put
 * there (a check would change the index twice: registered critical, then passing), or,
 * given NODE, catalog registrations on that node (Consul lists a service's instances by
 * node name, then ID: a node that sorts last puts the change past a listing's cut).
 * WAIT_MS: how long each change may take to come (default 30000).
 * Prints one line of NAME=VALUE: list_ms listed left_out change_ms (mean) change_max_ms
 * bytes_per_change (what the watch read from the registry: registry_watch_bytes_read)
 * cpu_ms_per_change (that thread's CPU) rss_kb hwm_kb (the process's VmRSS, VmHWM)
 * delivered (changes the watch delivered within 30 s each). */
#include <curl/curl.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "registry/registry.h"

enum { SETTLE_MS = 300, SETTLE_MAX_MS = 30000 };

/* The watch's bytes read (registry_watch_bytes_read) and its thread's CPU in ns (every
 * task but the main one, from /proc's schedstat). */
static void watch_io(registry_watch *w, uint64_t *bytes, uint64_t *cpu_ns)
{
    *bytes = registry_watch_bytes_read(w);
    *cpu_ns = 0;
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    char path[300];
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.' || atoi(e->d_name) == getpid())
            continue;
        snprintf(path, sizeof path, "/proc/self/task/%s/schedstat", e->d_name);
        FILE *f = fopen(path, "r");
        unsigned long long ns = 0;
        if (f && fscanf(f, "%llu", &ns) == 1)
            *cpu_ns += ns;
        if (f)
            fclose(f);
    }
    if (d)
        closedir(d);
}

static long status_kb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0)
            kb = atol(line + n + 1);
    if (f)
        fclose(f);
    return kb;
}

/* Waits until the watch's thread has read nothing for SETTLE_MS (at most SETTLE_MAX_MS),
 * dropping the events it delivers meanwhile; first, when started is true, until it has
 * read something (its first answer: Consul's whole list, etcd's "created"). */
static void settle(registry_watch *w, bool started)
{
    uint64_t start = clock_now_ms(), quiet_since = start, last = 0, cpu, now;
    registry_event ev;
    watch_io(w, &last, &cpu);
    while (started && registry_watch_bytes_read(w) == 0 && clock_now_ms() - start < SETTLE_MAX_MS)
        registry_watch_next(w, &ev, 20);
    while ((now = clock_now_ms()) - start < SETTLE_MAX_MS && now - quiet_since < SETTLE_MS) {
        while (registry_watch_next(w, &ev, 50) == 1)
            ;
        uint64_t r;
        watch_io(w, &r, &cpu);
        if (r != last) {
            last = r;
            quiet_since = clock_now_ms();
        }
    }
}

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
    (void)p, (void)ctx;
    return size * n;
}

/* PUT to the Consul agent at host:port (the URL's authority); returns 0 on HTTP 200. */
static int consul_put(const char *agent, const char *path, const char *body)
{
    CURL *c = curl_easy_init();
    char url[512];
    long status = 0;
    snprintf(url, sizeof url, "http://%s%s", agent, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    int rc = curl_easy_perform(c) == CURLE_OK &&
             curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status == 200 ? 0 : -1;
    curl_easy_cleanup(c);
    return rc;
}

/* Adds (add) or removes instance 127.0.0.1:port of service (Consul: on node, when not
 * NULL). Returns 0 or -1. */
static int change(registry *r, const char *url, const char *service, const char *node, int port, bool add,
                  registry_reg *reg)
{
    char addr[64], err[512];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    if (registry_get_kind(r) == REGISTRY_ETCD) {
        int rc = add ? registry_register(r, service, addr, "grpc", 60, reg, err, sizeof err)
                     : registry_deregister(r, reg, err, sizeof err);
        if (rc < 0)
            fprintf(stderr, "registry_scale: %s\n", err);
        return rc;
    }
    char agent[256], path[512], body[1024];
    snprintf(agent, sizeof agent, "%s", url + strlen("consul://"));
    agent[strcspn(agent, "/?")] = 0;
    if (node) {
        if (add)
            snprintf(body, sizeof body,
                     "{\"Node\":\"%s\",\"Address\":\"127.0.0.1\",\"Service\":{\"ID\":\"%s-127.0.0.1-%d\","
                     "\"Service\":\"%s\",\"Tags\":[\"grpc\"],\"Address\":\"127.0.0.1\",\"Port\":%d}}",
                     node, service, port, service, port);
        else
            snprintf(body, sizeof body, "{\"Node\":\"%s\",\"ServiceID\":\"%s-127.0.0.1-%d\"}", node, service, port);
        return consul_put(agent, add ? "/v1/catalog/register" : "/v1/catalog/deregister", body);
    }
    if (!add) {
        snprintf(path, sizeof path, "/v1/agent/service/deregister/%s-127.0.0.1-%d", service, port);
        return consul_put(agent, path, NULL);
    }
    snprintf(body, sizeof body,
             "{\"ID\":\"%s-127.0.0.1-%d\",\"Name\":\"%s\",\"Tags\":[\"grpc\"],\"Address\":\"127.0.0.1\","
             "\"Port\":%d,\"Meta\":{\"protocol\":\"grpc\"}}", service, port, service, port);
    return consul_put(agent, "/v1/agent/service/register", body);
}

/* Waits for the event of the change: a PUT (add) or DELETE of addr. Returns 1 or 0. */
static int delivered(registry_watch *w, const char *addr, bool add, int wait_ms)
{
    uint64_t until = clock_now_ms() + (uint64_t)wait_ms;
    registry_event ev;
    while (clock_now_ms() < until) {
        int rc = registry_watch_next(w, &ev, 100);
        if (rc < 0)
            return 0;
        if (rc == 1 && strcmp(ev.inst.addr, addr) == 0 &&
            ev.type == (add ? REGISTRY_EV_PUT : REGISTRY_EV_DELETE))
            return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 6) {
        fprintf(stderr, "usage: registry_scale URL SERVICE CHANGES [WAIT_MS [NODE]]\n");
        return 2;
    }
    const char *url = argv[1], *service = argv[2], *node = argc > 5 ? argv[5] : NULL;
    int changes = atoi(argv[3]), wait_ms = argc > 4 ? atoi(argv[4]) : 30000;
    char err[512];
    curl_global_init(CURL_GLOBAL_DEFAULT);
    registry *r = registry_new(url, NULL, err, sizeof err), *rw = registry_new(url, NULL, err, sizeof err);
    if (!r || !rw) {
        fprintf(stderr, "registry_scale: %s\n", err);
        return 2;
    }
    registry_instance *in = NULL;
    size_t n = 0;
    int64_t rev = 0;
    uint64_t t0 = clock_now_us();
    if (registry_list(r, service, &in, &n, &rev, err, sizeof err) < 0) {
        fprintf(stderr, "registry_scale: list: %s\n", err);
        return 3;
    }
    double list_ms = (double)(clock_now_us() - t0) / 1000.0;
    size_t left_out = registry_list_left_out(r);
    free(in);
    registry_watch *w = registry_watch_start(r, service, rev, err, sizeof err);
    if (!w) {
        fprintf(stderr, "registry_scale: watch: %s\n", err);
        return 3;
    }
    settle(w, true);
    double sum_ms = 0, max_ms = 0;
    uint64_t bytes = 0, cpu_ns = 0;
    int ok = 0;
    registry_reg reg;
    memset(&reg, 0, sizeof reg);
    int port = 40000 + (int)(getpid() % 20000);
    for (int i = 0; i < changes; i++) {
        bool add = i % 2 == 0;
        char addr[64];
        snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
        uint64_t r0, c0, r1, c1;
        watch_io(w, &r0, &c0);
        uint64_t s = clock_now_us();
        if (change(rw, url, service, node, port, add, &reg) < 0) {
            fprintf(stderr, "registry_scale: change %d failed\n", i);
            break;
        }
        if (!delivered(w, addr, add, wait_ms)) {
            fprintf(stderr, "registry_scale: change %d (%s %s) not delivered in %d ms\n", i,
                    add ? "add" : "remove", addr, wait_ms);
            if (add) /* take it away again */
                change(rw, url, service, node, port, false, &reg);
            break;
        }
        double ms = (double)(clock_now_us() - s) / 1000.0;
        settle(w, false);
        watch_io(w, &r1, &c1);
        sum_ms += ms;
        max_ms = ms > max_ms ? ms : max_ms;
        bytes += r1 - r0;
        cpu_ns += c1 - c0;
        ok++;
    }
    printf("list_ms=%.1f listed=%zu left_out=%zu change_ms=%.1f change_max_ms=%.1f bytes_per_change=%" PRIu64
           " cpu_ms_per_change=%.2f rss_kb=%ld hwm_kb=%ld delivered=%d/%d\n",
           list_ms, n, left_out, ok ? sum_ms / ok : 0, max_ms, ok ? bytes / (uint64_t)ok : 0,
           ok ? (double)cpu_ns / 1e6 / ok : 0, status_kb("VmRSS:"), status_kb("VmHWM:"), ok,
           changes);
    registry_watch_free(w);
    registry_free(r);
    registry_free(rw);
    curl_global_cleanup();
    return ok == changes ? 0 : 1;
}
