/* etcdproc.c -- a private etcd process on free loopback ports. */
#include "registry/etcdproc.h"

#include <ftw.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/tempdir.h"
#include "registry/registry.h"

static int launch(etcdproc *e, int timeout_ms, char *err, size_t errlen)
{
    char data[PATH_MAX + 8], log[PATH_MAX + 16], listen_client[80], listen_peer[80], cluster[96];
    snprintf(data, sizeof data, "%s/data", e->dir);
    snprintf(log, sizeof log, "%s/etcd.log", e->dir);
    snprintf(listen_client, sizeof listen_client, "http://%s", e->client);
    snprintf(listen_peer, sizeof listen_peer, "%s", e->peer_url);
    snprintf(cluster, sizeof cluster, "workbench=%s", e->peer_url);
    const char *argv[] = {"etcd", "--name", "workbench", "--data-dir", data,
                          "--listen-client-urls", listen_client, "--advertise-client-urls", listen_client,
                          "--listen-peer-urls", listen_peer, "--initial-advertise-peer-urls", listen_peer,
                          "--initial-cluster", cluster, "--logger", "zap", "--log-outputs", "stderr",
                          NULL};
    char why[256];
    if (spawn_exec(argv, log, &e->proc, why, sizeof why) < 0) {
        err_set(err, errlen, "cannot start etcd (is Debian's etcd-server installed? `make test` "
                "installs it): %s", why);
        return -1;
    }
    if (timeout_ms == 0)
        return 0; /* the caller does not wait */
    /* ready when a range read succeeds */
    registry *r = registry_new(e->url, NULL, err, errlen);
    uint64_t deadline = clock_now_ms() + (uint64_t)timeout_ms;
    int ok = -1;
    while (r && clock_now_ms() < deadline) {
        registry_instance *list = NULL;
        size_t n = 0;
        if (registry_list(r, "workbench-probe", &list, &n, NULL, NULL, 0) == 0) {
            free(list);
            ok = 0;
            break;
        }
        clock_sleep_ms(50);
    }
    registry_free(r);
    if (ok < 0) {
        err_set(err, errlen, "etcd did not answer within %d ms (its log: %s)", timeout_ms, log);
        spawn_stop(&e->proc, SIGKILL, 1000);
    }
    return ok;
}

/* Starts etcd with its clients on port cp (0: a free one). */
static int start_on(etcdproc *e, int cp, int timeout_ms, char *err, size_t errlen)
{
    memset(e, 0, sizeof *e);
    if (tempdir_make(e->dir, sizeof e->dir, "wb-etcd") < 0) {
        err_set(err, errlen, "cannot make a directory for etcd's data");
        return -1;
    }
    if (!cp)
        cp = spawn_free_port();
    int pp = spawn_free_port();
    if (!cp || !pp || cp == pp) {
        err_set(err, errlen, "no free ports for etcd");
        etcdproc_stop(e, true);
        return -1;
    }
    snprintf(e->client, sizeof e->client, "127.0.0.1:%d", cp);
    snprintf(e->url, sizeof e->url, "etcd://127.0.0.1:%d", cp);
    snprintf(e->peer_url, sizeof e->peer_url, "http://127.0.0.1:%d", pp);
    if (launch(e, timeout_ms, err, errlen) < 0) {
        etcdproc_stop(e, true);
        return -1;
    }
    return 0;
}

int etcdproc_start(etcdproc *e, int timeout_ms, char *err, size_t errlen)
{
    return start_on(e, 0, timeout_ms, err, errlen);
}

int etcdproc_start_at(etcdproc *e, int client_port, int timeout_ms, char *err, size_t errlen)
{
    if (client_port > 0 && spawn_port_free(client_port) && start_on(e, client_port, timeout_ms, err, errlen) == 0)
        return 0;
    return start_on(e, 0, timeout_ms, err, errlen);
}

int etcdproc_restart(etcdproc *e, int timeout_ms, char *err, size_t errlen)
{
    if (e->proc.pid > 0)
        return 0;
    return launch(e, timeout_ms, err, errlen);
}

void etcdproc_stop(etcdproc *e, bool remove_data)
{
    if (e->proc.pid > 0)
        spawn_stop(&e->proc, SIGTERM, 3000);
    if (remove_data && e->dir[0]) {
        tempdir_remove(e->dir);
        e->dir[0] = '\0';
    }
}
