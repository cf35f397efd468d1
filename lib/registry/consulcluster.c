/* consulcluster.c -- Consul servers and client agents on a lab's hosts, started, asked who
 * leads, stopped. */
#include "registry/consulcluster.h"

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/tempdir.h"
#include "registry/consulproc.h"
#include "registry/registry_int.h"

enum { REPLY_MAX = 16 * 1024, ANSWER_MAX = CONSULCLUSTER_AGENTS * 48 + 1, ROUND_PAUSE_MS = 200 };

int consulcluster_on(const consulcluster *c, int host)
{
    for (int i = 0; i < c->n; i++)
        if (c->a[i].host == host)
            return i;
    return -1;
}

/* GET path of the agent into a parsed reply; NULL when it does not answer. */
static cJSON *ask_json(registry *r, const char *path)
{
    char err[256];
    buf b;
    buf_init(&b, REPLY_MAX);
    registry_http_req q = {.method = "GET", .path = path, .write = registry_http_write_buf, .write_ctx = &b,
                           .timeout_ms = CONSULCLUSTER_ASK_MS};
    cJSON *j = NULL;
    if (registry_http_do(r, &q, err, sizeof err) == 0 && q.status == 200)
        j = registry_json_parse((const char *)buf_data(&b), buf_size(&b), err, sizeof err);
    buf_done(&b);
    return j;
}

/* One agent's "LEADER PEERS" into line (LEADER "none" while it knows none); -1 when it
 * does not answer. */
static int ask_one(const consulagent *a, char *line, size_t cap)
{
    char url[48];
    snprintf(url, sizeof url, "consul://%s:%d", a->addr, CONSULCLUSTER_HTTP_PORT);
    registry *r = registry_new(url, NULL, NULL, 0);
    if (!r)
        return -1;
    int rc = -1;
    cJSON *leader = ask_json(r, "/v1/status/leader");
    if (cJSON_IsString(leader) && strlen(leader->valuestring) < 32) {
        cJSON *peers = a->server ? ask_json(r, "/v1/status/peers") : NULL;
        snprintf(line, cap, "%s %d", leader->valuestring[0] ? leader->valuestring : "none",
                 cJSON_IsArray(peers) ? cJSON_GetArraySize(peers) : 0);
        cJSON_Delete(peers);
        rc = 0;
    }
    cJSON_Delete(leader);
    registry_free(r);
    return rc;
}

typedef struct ask_ctx {
    const consulcluster *c;
    int upto; /* the agents to ask: the servers (c->n) or all */
} ask_ctx;

/* In the client host's namespace (netlab_call): "K LEADER PEERS" or "K -" for each agent. */
static int ask_all(void *ctx, int fd)
{
    const ask_ctx *x = ctx;
    for (int i = 0; i < x->upto; i++) {
        char line[48];
        if (ask_one(&x->c->a[i], line, sizeof line) == 0)
            dprintf(fd, "%d %s\n", i, line);
        else
            dprintf(fd, "%d -\n", i);
    }
    return 0;
}

/* The server whose RPC address is addr ("10.77.0.12:8300"), or -1. */
static int server_at(const consulcluster *c, const char *addr)
{
    for (int i = 0; i < c->n; i++) {
        char a[32];
        snprintf(a, sizeof a, "%s:%d", c->a[i].addr, CONSULCLUSTER_SERVER_PORT);
        if (strcmp(a, addr) == 0)
            return i;
    }
    return -1;
}

/* One round over the first upto agents: fills *v; *clients_know counts the client agents
 * that name a leader. */
static int ask_round(consulcluster *c, int upto, consulcluster_view *v, int *clients_know, char *err,
                     size_t errlen)
{
    char answer[ANSWER_MAX];
    *v = (consulcluster_view){.leader = -1};
    ask_ctx x = {c, upto};
    int budget = upto * (2 * CONSULCLUSTER_ASK_MS + 200) + 2000;
    if (netlab_call(c->lab, NETLAB_CLIENT, ask_all, &x, answer, sizeof answer, budget, err, errlen) != 0)
        return -1;
    int named[CONSULCLUSTER_MAX], peers[CONSULCLUSTER_MAX] = {0};
    if (clients_know)
        *clients_know = 0;
    for (char *line = strtok(answer, "\n"); line; line = strtok(NULL, "\n")) {
        int i, np;
        char leader[32];
        if (sscanf(line, "%d %31s %d", &i, leader, &np) != 3 || i < 0 || i >= upto)
            continue;
        if (i >= c->n) {
            if (clients_know && strcmp(leader, "none") != 0)
                (*clients_know)++;
            continue;
        }
        v->up[i] = true;
        v->answered++;
        named[i] = server_at(c, leader);
        v->knows[i] = named[i] >= 0;
        peers[i] = np;
    }
    for (int i = 0; i < c->n; i++) { /* the server named by the most, if it names itself */
        if (!v->up[i] || named[i] != i)
            continue;
        int agree = 0;
        for (int k = 0; k < c->n; k++)
            agree += v->up[k] && named[k] == i;
        if (agree > v->agree) {
            v->leader = i;
            v->agree = agree;
            v->peers = peers[i];
        }
    }
    v->quorum = v->agree > c->n / 2;
    return 0;
}

int consulcluster_leader(consulcluster *c, consulcluster_view *v, int timeout_ms, char *err, size_t errlen)
{
    uint64_t deadline = clock_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        if (ask_round(c, c->n, v, NULL, err, errlen) < 0)
            return -1;
        if (v->quorum || clock_now_ms() + ROUND_PAUSE_MS >= deadline)
            return 0;
        clock_sleep_ms(ROUND_PAUSE_MS);
    }
}

/* Starts agent i, joining the servers in joins ("-retry-join=A" each). */
static int start_agent(consulcluster *c, int i, const char *consul, char joins[][40], char *err, size_t errlen)
{
    consulagent *a = &c->a[i];
    char data[PATH_MAX + 24], log[PATH_MAX + 32], node[24], bind[32], client[48], expect[32];
    snprintf(data, sizeof data, "-data-dir=%s/%s.consul", c->dir, a->name);
    snprintf(log, sizeof log, "%s/%s.log", c->dir, netlab_name(c->lab, a->host));
    snprintf(node, sizeof node, "-node=%s", a->name);
    snprintf(bind, sizeof bind, "-bind=%s", a->addr);
    snprintf(client, sizeof client, "-client=127.0.0.1 %s", a->addr);
    snprintf(expect, sizeof expect, "-bootstrap-expect=%d", c->n);
    const char *argv[16 + CONSULCLUSTER_MAX] = {consul, "agent", node, bind, client, data, "-retry-interval=1s",
                                                "-hcl=performance { raft_multiplier = 1 }", "-serf-wan-port=-1"};
    int k = 9;
    if (a->server) {
        argv[k++] = "-server";
        argv[k++] = expect;
    }
    for (int s = 0; s < c->n; s++)
        argv[k++] = joins[s];
    argv[k] = NULL;
    char why[256];
    if (netlab_run(c->lab, a->host, argv, log, &a->proc, why, sizeof why) < 0)
        return err_set(err, errlen, "%s on %s: %s", a->name, netlab_name(c->lab, a->host), why), -1;
    return 0;
}

/* Fills the agents; -1 with err for a host named twice or not in the lab. */
static int plan(consulcluster *c, const int *hosts, int n, const int *clients, int n_clients, char *err,
                size_t errlen)
{
    for (int i = 0; i < n + n_clients; i++) {
        int h = i < n ? hosts[i] : clients[i - n];
        for (int k = 0; k < i; k++)
            if (c->a[k].host == h)
                return err_set(err, errlen, "consul: host %d twice", h), -1;
        if (h < 0 || h > netlab_hosts(c->lab))
            return err_set(err, errlen, "consul: no host %d in the lab", h), -1;
        consulagent *a = &c->a[i];
        a->host = h;
        a->server = i < n;
        if (a->server)
            snprintf(a->name, sizeof a->name, "s%d", i + 1);
        else
            snprintf(a->name, sizeof a->name, "%s", netlab_name(c->lab, h));
        snprintf(a->addr, sizeof a->addr, "%s", netlab_addr(c->lab, h));
        c->agents = i + 1;
    }
    c->n = n;
    return 0;
}

/* Waits until a leader is confirmed and every client agent knows it; -1 with err otherwise. */
static int await_leader(consulcluster *c, int timeout_ms, char *err, size_t errlen)
{
    uint64_t deadline = clock_now_ms() + (uint64_t)timeout_ms;
    consulcluster_view v = {.leader = -1};
    int know = 0;
    for (;;) {
        for (int i = 0; i < c->agents; i++) {
            int status;
            if (netlab_wait(c->lab, &c->a[i].proc, 0, &status))
                return err_set(err, errlen, "consul agent %s on %s ended at its start (its log: %s/%s.log)",
                               c->a[i].name, netlab_name(c->lab, c->a[i].host), c->dir,
                               netlab_name(c->lab, c->a[i].host)), -1;
        }
        if (v.quorum && know == c->agents - c->n)
            return 0;
        if (clock_now_ms() >= deadline)
            return err_set(err, errlen, "the Consul cluster had no leader within %d ms (%d of %d servers"
                           " answered, %d of %d clients know a leader; their logs: %s)", timeout_ms,
                           v.answered, c->n, know, c->agents - c->n, c->dir), -1;
        clock_sleep_ms(ROUND_PAUSE_MS);
        if (ask_round(c, c->agents, &v, &know, err, errlen) < 0)
            return -1;
    }
}

int consulcluster_start(consulcluster *c, netlab *lab, const int *hosts, int n, const int *clients,
                        int n_clients, const char *dir, int timeout_ms, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->lab = lab;
    if (n < 1 || n > CONSULCLUSTER_MAX || n_clients < 0 || n + n_clients > CONSULCLUSTER_AGENTS)
        return err_set(err, errlen, "consul: 1 to %d servers, %d agents in all", CONSULCLUSTER_MAX,
                       CONSULCLUSTER_AGENTS), -1;
    char consul[PATH_MAX + 16];
    if (!consulproc_path(consul, sizeof consul))
        return err_set(err, errlen, "consul is not installed (Debian 12 does not package it; mk/consul.sh "
                       "fetches Debian 11's)"), -1;
    snprintf(c->dir, sizeof c->dir, "%s", dir);
    snprintf(c->url, sizeof c->url, "consul://127.0.0.1:%d", CONSULCLUSTER_HTTP_PORT);
    if (plan(c, hosts, n, clients, n_clients, err, errlen) < 0) {
        c->n = c->agents = 0;
        return -1;
    }
    char joins[CONSULCLUSTER_MAX][40];
    for (int s = 0; s < n; s++)
        snprintf(joins[s], sizeof joins[s], "-retry-join=%s", c->a[s].addr);
    for (int i = 0; i < c->agents; i++)
        if (start_agent(c, i, consul, joins, err, errlen) < 0) {
            consulcluster_stop(c);
            return -1;
        }
    if (await_leader(c, timeout_ms, err, errlen) < 0) {
        consulcluster_stop(c);
        return -1;
    }
    return 0;
}

void consulcluster_stop(consulcluster *c)
{
    /* Every agent is told at once and all share one grace period: a client agent leaving a
     * cluster whose servers are gone waits out its whole grace, one after another was
     * seconds each. */
    for (int i = 0; i < c->agents; i++)
        if (c->a[i].proc.pid > 0)
            kill(c->a[i].proc.pid, SIGTERM);
    uint64_t deadline = clock_now_ms() + 3000;
    for (int i = c->agents - 1; i >= 0; i--)
        if (c->a[i].proc.pid > 0) {
            uint64_t now = clock_now_ms();
            netlab_stop(c->lab, &c->a[i].proc, SIGTERM, now < deadline ? (int)(deadline - now) : 0);
        }
    for (int i = 0; i < c->agents; i++) {
        char data[PATH_MAX + 24];
        snprintf(data, sizeof data, "%s/%s.consul", c->dir, c->a[i].name);
        tempdir_remove(data);
    }
    c->n = c->agents = 0;
}
