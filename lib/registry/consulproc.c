/* consulproc.c -- a private `consul agent -dev` on free loopback ports. */
#include "registry/consulproc.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/bindir.h"
#include "base/clock.h"
#include "base/err.h"
#include "registry/registry.h"

bool consulproc_path(char *path, size_t n)
{
    if (spawn_on_path("consul"))
        return snprintf(path, n, "consul") < (int)n;
    char dir[PATH_MAX];
    return bindir_get(dir, sizeof dir) == 0 && snprintf(path, n, "%s/consul", dir) < (int)n &&
           access(path, X_OK) == 0;
}

bool consulproc_available(void)
{
    char path[PATH_MAX + 16];
    return consulproc_path(path, sizeof path);
}

int consulproc_start(consulproc *c, int timeout_ms, char *err, size_t errlen)
{
    return consulproc_start_config(c, NULL, timeout_ms, err, errlen);
}

int consulproc_start_config(consulproc *c, const char *config_dir, int timeout_ms, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    char consul[PATH_MAX + 16];
    if (!consulproc_path(consul, sizeof consul)) {
        err_set(err, errlen, "consul is not installed (Debian 12 does not package it; `make run` "
                "fetches Debian 11's); use etcd, or put a consul binary on PATH");
        return -1;
    }
    int http = spawn_free_port(), grpc = spawn_free_port(), lan = spawn_free_port(),
        wan = spawn_free_port(), server = spawn_free_port(), dns = spawn_free_port();
    if (!http || !grpc || !lan || !wan || !server || !dns) {
        err_set(err, errlen, "no free ports for consul");
        return -1;
    }
    char p_http[16], p_grpc[16], p_lan[16], p_wan[16], p_server[16], p_dns[16];
    snprintf(p_http, sizeof p_http, "%d", http);
    snprintf(p_grpc, sizeof p_grpc, "%d", grpc);
    snprintf(p_lan, sizeof p_lan, "%d", lan);
    snprintf(p_wan, sizeof p_wan, "%d", wan);
    snprintf(p_server, sizeof p_server, "%d", server);
    snprintf(p_dns, sizeof p_dns, "%d", dns);
    snprintf(c->http, sizeof c->http, "127.0.0.1:%d", http);
    snprintf(c->url, sizeof c->url, "consul://127.0.0.1:%d", http);
    snprintf(c->dns, sizeof c->dns, "127.0.0.1:%d", dns);
    c->dns_port = dns;
    const char *tmp = getenv("TMPDIR");
    snprintf(c->log, sizeof c->log, "%s/wb-consul.%d.log", tmp && tmp[0] ? tmp : "/tmp", (int)getpid());
    const char *argv[] = {consul, "agent", "-dev", "-bind", "127.0.0.1", "-client", "127.0.0.1",
                          "-http-port", p_http, "-grpc-port", p_grpc, "-dns-port", p_dns,
                          "-serf-lan-port", p_lan, "-serf-wan-port", p_wan, "-server-port", p_server,
                          config_dir ? "-config-dir" : NULL, config_dir, NULL};
    char why[256];
    if (spawn_exec(argv, c->log, &c->proc, why, sizeof why) < 0) {
        err_set(err, errlen, "cannot start consul: %s", why);
        return -1;
    }
    /* ready when the catalog answers */
    registry *r = registry_new(c->url, NULL, NULL, 0);
    uint64_t deadline = clock_now_ms() + (uint64_t)timeout_ms;
    buf names;
    buf_init(&names, 1 << 16);
    int ok = -1;
    while (r && clock_now_ms() < deadline) {
        buf_clear(&names);
        if (registry_services(r, &names, NULL, 0) == 0) {
            ok = 0;
            break;
        }
        clock_sleep_ms(100);
    }
    buf_done(&names);
    registry_free(r);
    if (ok < 0) {
        err_set(err, errlen, "consul did not answer within %d ms (its log: %s)", timeout_ms, c->log);
        consulproc_stop(c);
    }
    return ok;
}

void consulproc_stop(consulproc *c)
{
    if (c->proc.pid > 0)
        spawn_stop(&c->proc, SIGTERM, 3000);
    if (c->log[0])
        unlink(c->log);
    c->log[0] = '\0';
}
