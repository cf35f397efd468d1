/* etcdcluster.c -- etcd members on a lab's hosts, started, asked who leads, stopped. */
#include "registry/etcdcluster.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/i18n.h"
#include "base/tempdir.h"
#include "proc/spawn.h"
#include "registry/registry_int.h"

enum { STATUS_MAX = 64 * 1024, ANSWER_MAX = ETCDCLUSTER_MAX * 80 + 1, ROUND_PAUSE_MS = 200 };

int etcdcluster_on(const etcdcluster *c, int host)
{
    for (int i = 0; i < c->n; i++)
        if (c->m[i].host == host)
            return i;
    return -1;
}

/* One member's status into "ID LEADER TERM" in line; -1 when it does not answer. */
static int ask_one(const etcdmember *m, char *line, size_t cap)
{
    char url[48], err[256];
    snprintf(url, sizeof url, "etcd://%s:%d", m->addr, ETCDCLUSTER_CLIENT_PORT);
    registry *r = registry_new(url, NULL, err, sizeof err);
    if (!r)
        return -1;
    buf b;
    buf_init(&b, STATUS_MAX);
    registry_http_req q = {.method = "POST", .path = "/v3/maintenance/status", .body = "{}",
                           .write = registry_http_write_buf, .write_ctx = &b, .timeout_ms = ETCDCLUSTER_ASK_MS};
    int rc = -1;
    cJSON *j = NULL;
    if (registry_http_do(r, &q, err, sizeof err) == 0 && q.status == 200 &&
        (j = registry_json_parse((const char *)buf_data(&b), buf_size(&b), err, sizeof err))) {
        const char *id = registry_json_str(cJSON_GetObjectItemCaseSensitive(j, "header"), "member_id");
        const char *leader = registry_json_str(j, "leader");
        int64_t term = 0;
        if (id && leader && registry_json_int(j, "raftTerm", &term) && strlen(id) < 24 && strlen(leader) < 24) {
            snprintf(line, cap, "%s %s %lld", id, leader, (long long)term);
            rc = 0;
        }
    }
    cJSON_Delete(j);
    buf_done(&b);
    registry_free(r);
    return rc;
}

/* In the client host's namespace (netlab_call): "K ID LEADER TERM" or "K -", a line for
 * each member. */
static int ask_all(void *ctx, int fd)
{
    const etcdcluster *c = ctx;
    for (int i = 0; i < c->n; i++) {
        char line[80];
        if (ask_one(&c->m[i], line, sizeof line) == 0)
            dprintf(fd, "%d %s\n", i, line);
        else
            dprintf(fd, "%d -\n", i);
    }
    return 0;
}

/* ask_all from this thread, through a pipe (the answer is far below a pipe's capacity). */
static int ask_all_here(etcdcluster *c, char *answer, size_t cap, char *err, size_t errlen)
{
    int p[2];
    if (pipe(p) < 0)
        return err_set(err, errlen, "pipe: %s", strerror(errno)), -1;
    ask_all(c, p[1]);
    close(p[1]);
    size_t len = 0;
    ssize_t k;
    while (len < cap - 1 && (k = read(p[0], answer + len, cap - 1 - len)) > 0)
        len += (size_t)k;
    answer[len] = '\0';
    close(p[0]);
    return 0;
}

void etcdcluster_ask_here(etcdcluster *c, bool here) { c->ask_here = here; }

/* One round: fills *v and the ids of the members that answered. */
static int ask_round(etcdcluster *c, etcdcluster_view *v, char *err, size_t errlen)
{
    char answer[ANSWER_MAX];
    *v = (etcdcluster_view){.leader = -1};
    int budget = c->n * (ETCDCLUSTER_ASK_MS + 200) + 2000;
    if (c->ask_here ? ask_all_here(c, answer, sizeof answer, err, errlen) != 0
                    : netlab_call(c->lab, NETLAB_CLIENT, ask_all, c, answer, sizeof answer, budget, err, errlen) != 0)
        return -1;
    char leader_of[ETCDCLUSTER_MAX][24] = {{0}};
    int64_t term_of[ETCDCLUSTER_MAX] = {0};
    for (char *line = strtok(answer, "\n"); line; line = strtok(NULL, "\n")) {
        int i;
        char id[24], leader[24];
        long long term;
        if (sscanf(line, "%d %23s %23s %lld", &i, id, leader, &term) != 4 || i < 0 || i >= c->n)
            continue;
        v->up[i] = true;
        v->answered++;
        snprintf(c->m[i].id, sizeof c->m[i].id, "%s", id);
        snprintf(c->m[i].hex, sizeof c->m[i].hex, "%llx", strtoull(id, NULL, 10));
        snprintf(leader_of[i], sizeof leader_of[i], "%s", leader);
        term_of[i] = term;
    }
    /* the member that the most of those answering name, if it names itself */
    for (int i = 0; i < c->n; i++) {
        if (!v->up[i] || strcmp(leader_of[i], c->m[i].id) != 0)
            continue;
        int agree = 0;
        int64_t term = 0;
        for (int k = 0; k < c->n; k++)
            if (v->up[k] && strcmp(leader_of[k], c->m[i].id) == 0) {
                agree++;
                term = term_of[k] > term ? term_of[k] : term;
            }
        if (agree > v->agree) {
            v->leader = i;
            v->agree = agree;
            v->term = term;
        }
    }
    v->quorum = v->agree > c->n / 2;
    return 0;
}

int etcdcluster_leader(etcdcluster *c, etcdcluster_view *v, int timeout_ms, char *err, size_t errlen)
{
    uint64_t deadline = clock_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        if (ask_round(c, v, err, errlen) < 0)
            return -1;
        if (v->quorum || clock_now_ms() + ROUND_PAUSE_MS >= deadline)
            return 0;
        clock_sleep_ms(ROUND_PAUSE_MS);
    }
}

/* Starts member i with the cluster's peer list in cluster. */
static int start_member(etcdcluster *c, int i, const char *cluster, char *err, size_t errlen)
{
    etcdmember *m = &c->m[i];
    char data[PATH_MAX + 16], log[PATH_MAX + 32], client[48], peer[48];
    snprintf(data, sizeof data, "%s/%s.etcd", c->dir, m->name);
    snprintf(log, sizeof log, "%s/%s.log", c->dir, netlab_name(c->lab, m->host));
    snprintf(client, sizeof client, "http://%s:%d", m->addr, ETCDCLUSTER_CLIENT_PORT);
    snprintf(peer, sizeof peer, "http://%s:%d", m->addr, ETCDCLUSTER_PEER_PORT);
    const char *argv[] = {"etcd", "--name", m->name, "--data-dir", data,
                          "--listen-client-urls", client, "--advertise-client-urls", client,
                          "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                          "--initial-cluster", cluster, "--initial-cluster-token", "workbench-lab",
                          "--initial-cluster-state", "new", "--pre-vote", "--logger", "zap", "--log-outputs", "stderr",
                          NULL};
    char why[256];
    if (netlab_run(c->lab, m->host, argv, log, &m->proc, why, sizeof why) < 0)
        return err_set(err, errlen, "%s on %s: %s", m->name, netlab_name(c->lab, m->host), why), -1;
    return 0;
}

/* Fills the members of hosts; -1 with err for a host named twice or not in the lab. */
static int plan(etcdcluster *c, const int *hosts, int n, char *cluster, size_t cap, char *err, size_t errlen)
{
    size_t used = 0, uused = (size_t)snprintf(c->url, sizeof c->url, "etcd://");
    for (int i = 0; i < n; i++) {
        if (hosts[i] < 0 || hosts[i] > netlab_hosts(c->lab) || etcdcluster_on(c, hosts[i]) >= 0)
            return err_set(err, errlen, "etcd: host %d twice or not in the lab", hosts[i]), -1;
        etcdmember *m = &c->m[i];
        m->host = hosts[i];
        snprintf(m->name, sizeof m->name, "m%u", (unsigned)(i + 1) % 100u);
        snprintf(m->addr, sizeof m->addr, "%s", netlab_addr(c->lab, hosts[i]));
        used += (size_t)snprintf(cluster + used, cap - used, "%s%s=http://%s:%d", i ? "," : "", m->name, m->addr,
                                 ETCDCLUSTER_PEER_PORT);
        uused += (size_t)snprintf(c->url + uused, sizeof c->url - uused, "%s%s:%d", i ? "," : "", m->addr,
                                  ETCDCLUSTER_CLIENT_PORT);
        c->n = i + 1;
    }
    return 0;
}

int etcdcluster_await(etcdcluster *c, int timeout_ms, char *err, size_t errlen)
{
    uint64_t deadline = clock_now_ms() + (uint64_t)timeout_ms;
    etcdcluster_view v = {.leader = -1};
    for (;;) {
        int known = 0;
        for (int i = 0; i < c->n; i++) {
            int status;
            if (netlab_wait(c->lab, &c->m[i].proc, 0, &status))
                return err_set(err, errlen, _("etcd member %s on %s ended at its start (its log: %s/%s.log)"),
                               c->m[i].name, netlab_name(c->lab, c->m[i].host), c->dir,
                               netlab_name(c->lab, c->m[i].host)), -1;
            known += c->m[i].id[0] != '\0';
        }
        if (known == c->n && v.quorum)
            return 0;
        if (clock_now_ms() >= deadline)
            return err_set(err, errlen, _("the etcd cluster had no leader within %d ms (%d of %d members answered;"
                                          " their logs: %s)"), timeout_ms, known, c->n, c->dir), -1;
        clock_sleep_ms(ROUND_PAUSE_MS);
        if (ask_round(c, &v, err, errlen) < 0)
            return -1;
    }
}

int etcdcluster_launch(etcdcluster *c, netlab *lab, const int *hosts, int n, const char *dir, char *err,
                       size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->lab = lab;
    if (n < 1 || n > ETCDCLUSTER_MAX)
        return err_set(err, errlen, "etcd: 1 to %d members", ETCDCLUSTER_MAX), -1;
    if (!spawn_on_path("etcd"))
        return err_set(err, errlen, _("etcd is not installed (Debian's etcd-server)")), -1;
    snprintf(c->dir, sizeof c->dir, "%s", dir);
    char cluster[ETCDCLUSTER_MAX * 40];
    if (plan(c, hosts, n, cluster, sizeof cluster, err, errlen) < 0) {
        c->n = 0;
        return -1;
    }
    for (int i = 0; i < n; i++)
        if (start_member(c, i, cluster, err, errlen) < 0) {
            etcdcluster_stop(c);
            return -1;
        }
    return 0;
}

int etcdcluster_start(etcdcluster *c, netlab *lab, const int *hosts, int n, const char *dir, int timeout_ms,
                      char *err, size_t errlen)
{
    if (etcdcluster_launch(c, lab, hosts, n, dir, err, errlen) < 0)
        return -1;
    if (etcdcluster_await(c, timeout_ms, err, errlen) < 0) {
        etcdcluster_stop(c);
        return -1;
    }
    return 0;
}

void etcdcluster_stop(etcdcluster *c)
{
    for (int i = 0; i < c->n; i++)
        if (c->m[i].proc.pid > 0)
            netlab_stop(c->lab, &c->m[i].proc, SIGTERM, 3000);
    for (int i = 0; i < c->n; i++) {
        char data[PATH_MAX + 16];
        snprintf(data, sizeof data, "%s/%s.etcd", c->dir, c->m[i].name);
        tempdir_remove(data);
    }
    c->n = 0;
}
