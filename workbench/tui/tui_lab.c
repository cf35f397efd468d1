/* tui_lab.c -- the TUI's lab made and ended on the ops worker: the hosts, etcd on the
 * first of them, and the launcher that places the servers on the hosts round robin. */
#include "tui_lab_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/i18n.h"
#include "base/tempdir.h"

enum { ETCD_START_MS = 20000, ADDR_MS = 5000 };

/* The host whose address addr ("10.77.0.12:PORT") is on; 0 when none is. */
static int host_of(const tui_lab *L, const char *addr)
{
    for (int h = 1; h <= netlab_hosts(L->lab); h++) {
        const char *a = netlab_addr(L->lab, h);
        size_t n = strlen(a);
        if (strncmp(addr, a, n) == 0 && addr[n] == ':')
            return h;
    }
    return 0;
}

/* Reads the address a server prints on its first line from fd, within ADDR_MS. */
static int read_addr(int fd, char *out, size_t cap)
{
    size_t got = 0;
    uint64_t deadline = clock_now_ms() + ADDR_MS;
    out[0] = '\0';
    while (got < cap - 1 && !memchr(out, '\n', got)) {
        uint64_t now = clock_now_ms();
        struct pollfd p = {fd, POLLIN, 0};
        if (now >= deadline || poll(&p, 1, (int)(deadline - now)) <= 0)
            break;
        ssize_t n = read(fd, out + got, cap - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
        out[got] = '\0';
    }
    char *nl = strchr(out, '\n');
    if (!nl)
        return -1;
    *nl = '\0';
    return 0;
}

/* The lab's registry URL with the member that leads now first. A server's keeper tries
 * the endpoints in turn, so its keepalives go through the leader; when the leader's host
 * is killed, those of the servers on the other hosts move to another member, and the
 * Timeline says so (`keepalive refreshed via`). No leader known: the URL as it is. */
static void leader_first(tui_lab *L, char *out, size_t cap)
{
    tui_lab_leader v;
    tui_lab_ask_leader(&L->etcd, &v);
    int first = v.leader > 0 ? etcdcluster_on(&L->etcd, v.leader) : -1;
    if (first < 0) {
        snprintf(out, cap, "%s", L->etcd.url);
        return;
    }
    size_t n = (size_t)snprintf(out, cap, "etcd://%s:%d", L->etcd.m[first].addr, ETCDCLUSTER_CLIENT_PORT);
    for (int i = 0; i < L->etcd.n && n < cap; i++)
        if (i != first)
            n += (size_t)snprintf(out + n, cap - n, ",%s:%d", L->etcd.m[i].addr, ETCDCLUSTER_CLIENT_PORT);
}

/* The supervisor's launcher: the server on the next host (or the host of listen), with
 * the lab's timeline in its environment, its log in DIR/HOST.log, and the lab's etcd as
 * its registry with the leader first (leader_first). */
static int launch(void *ctx, const char *program, const char *const *extra, const char *listen, child *c, char *err,
                  size_t errlen)
{
    tui_lab *L = ctx;
    int host = listen ? host_of(L, listen) : 0;
    char addr[80], ev[400], t0[48], hn[40], log[400], url[sizeof L->etcd.url];
    if (host > 0) {
        snprintf(addr, sizeof addr, "%s", listen);
    } else {
        host = 1 + L->next++ % netlab_hosts(L->lab);
        snprintf(addr, sizeof addr, "%s:0", netlab_addr(L->lab, host));
    }
    snprintf(ev, sizeof ev, "WB_LAB_EVENTS=%s", L->events);
    snprintf(t0, sizeof t0, "WB_LAB_T0=%" PRId64, L->t0);
    snprintf(hn, sizeof hn, "WB_LAB_HOST=%s", netlab_name(L->lab, host));
    snprintf(log, sizeof log, "%s/%s.log", L->dir, netlab_name(L->lab, host));
    const char *argv[40] = {"env", ev, t0, hn, program, "--listen", addr, "--quiet"};
    size_t n = 8;
    for (size_t i = 0; extra && extra[i] && n < 39; i++) {
        argv[n++] = extra[i];
        if (i > 0 && !strcmp(extra[i - 1], "--registry") && !strcmp(extra[i], L->etcd.url)) {
            leader_first(L, url, sizeof url);
            argv[n - 1] = url;
        }
    }
    argv[n] = NULL;
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return err_set(err, errlen, "pipe: %s", strerror(errno)), -1;
    int logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    int rc = netlab_run_fds(L->lab, host, argv, p[1], logfd >= 0 ? logfd : p[1], c, err, errlen);
    close(p[1]);
    if (logfd >= 0)
        close(logfd);
    if (rc == 0 && read_addr(p[0], c->addr, sizeof c->addr) < 0) {
        err_set(err, errlen, _("%s on %s did not print its address within %d ms (its log: %s)"), program,
                netlab_name(L->lab, host), ADDR_MS, log);
        netlab_stop(L->lab, c, SIGKILL, 1000);
        rc = -1;
    }
    close(p[0]);
    return rc;
}

/* Starts etcd on the first hosts and waits until a majority names one leader, asked
 * from this thread, which is in the client host's namespace. */
static int start_etcd(tui_lab *L, char *err, size_t errlen)
{
    int n = netlab_hosts(L->lab) < TUI_LAB_ETCD ? netlab_hosts(L->lab) : TUI_LAB_ETCD;
    int hosts[TUI_LAB_ETCD];
    for (int i = 0; i < n; i++)
        hosts[i] = i + 1;
    if (etcdcluster_launch(&L->etcd, L->lab, hosts, n, L->dir, err, errlen) < 0)
        return -1;
    etcdcluster_ask_here(&L->etcd, true);
    return etcdcluster_await(&L->etcd, ETCD_START_MS, err, errlen);
}

void tui_lab_free(tui_lab *L)
{
    if (!L)
        return;
    if (L->etcd.n > 0)
        etcdcluster_stop(&L->etcd);
    netlab_free(L->lab);
    tempdir_remove(L->dir);
    free(L);
}

static void up_run(tui_job *j)
{
    tui_lab_up_job *u = (tui_lab_up_job *)j;
    u->rc = -1;
    tui_lab *L = calloc(1, sizeof *L);
    if (!L) {
        err_set(u->err, sizeof u->err, "out of memory");
        return;
    }
    if (!(L->lab = netlab_new(u->n, u->err, sizeof u->err))) {
        free(L);
        return;
    }
    L->t0 = (int64_t)clock_now_ms();
    if (tempdir_make(L->dir, sizeof L->dir, "wb-tuilab") < 0) {
        err_set(u->err, sizeof u->err, "%s", strerror(errno));
        goto fail;
    }
    snprintf(L->events, sizeof L->events, "%s/events", L->dir);
    if (netlab_enter(L->lab, NETLAB_CLIENT, u->err, sizeof u->err) < 0 || start_etcd(L, u->err, sizeof u->err) < 0)
        goto fail;
    eventlog_use(L->events, L->t0, "client");
    supervisor_set_launcher(u->sup, launch, L);
    tui_lab_fill_info(L, &u->info);
    u->lab = L;
    u->rc = 0;
    return;
fail:
    setns(u->orig_netfd, CLONE_NEWNET);
    tui_lab_free(L);
}

static void up_drop(tui_job *j)
{
    tui_lab_up_job *u = (tui_lab_up_job *)j;
    tui_lab_free(u->lab); /* never finished: nothing else knows it */
}

tui_lab_up_job *tui_lab_up_job_new(int n, supervisor *sup, int orig_netfd)
{
    tui_lab_up_job *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    u->job.run = up_run;
    u->job.drop = up_drop;
    u->n = n;
    u->sup = sup;
    u->orig_netfd = orig_netfd;
    return u;
}

static void down_run(tui_job *j)
{
    tui_lab_down_job *d = (tui_lab_down_job *)j;
    if (d->sup)
        supervisor_set_launcher(d->sup, NULL, NULL);
    eventlog_use(NULL, 0, NULL);
    if (d->orig_netfd >= 0)
        setns(d->orig_netfd, CLONE_NEWNET);
    tui_lab_free(d->lab);
    d->lab = NULL;
}

tui_lab_down_job *tui_lab_down_job_new(tui_lab *lab, supervisor *sup, int orig_netfd)
{
    tui_lab_down_job *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->job.run = down_run;
    d->job.drop = down_run; /* dropped at quit: the lab must go all the same */
    d->lab = lab;
    d->sup = sup;
    d->orig_netfd = orig_netfd;
    return d;
}

static void netns_run(tui_job *j)
{
    tui_netns_job *s = (tui_netns_job *)j;
    if (s->netfd >= 0)
        setns(s->netfd, CLONE_NEWNET);
}

tui_netns_job *tui_netns_job_new(int netfd)
{
    tui_netns_job *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->job.run = netns_run;
    s->netfd = netfd;
    return s;
}
