/* labcluster.c -- the lab's clusters: etcd or Consul started on hosts, who leads, the
 * leader killed, a follower cut, the lab split in two. */
#include "labcluster.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/i18n.h"
#include "proc/labtimeline.h"
#include "registry/consulcluster.h"
#include "registry/etcdcluster.h"

enum { START_MS = 20000 };

static etcdcluster etcd;     /* once an etcd step started it (etcd.n > 0) */
static consulcluster consul; /* once a consul step started it (consul.n > 0) */
static uint64_t leader_killed_ms; /* when kill-leader last killed a leader; 0: never */

/* Who leads either cluster, in one shape. */
typedef struct view {
    bool is_consul;
    int n, leader, answered, agree;
    bool quorum;
    bool up[ETCDCLUSTER_MAX + CONSULCLUSTER_MAX];
    bool knows[CONSULCLUSTER_MAX];
    long long term; /* etcd: raft term; Consul: raft peers */
} view;

static int member_host(const view *v, int i) { return v->is_consul ? consul.a[i].host : etcd.m[i].host; }
static const char *member_name(const view *v, int i) { return v->is_consul ? consul.a[i].name : etcd.m[i].name; }

static int ask(bool is_consul, view *v, int timeout_ms, char *err, size_t errlen)
{
    *v = (view){.is_consul = is_consul};
    if (is_consul) {
        consulcluster_view cv;
        if (consulcluster_leader(&consul, &cv, timeout_ms, err, errlen) < 0)
            return -1;
        *v = (view){true, consul.n, cv.leader, cv.answered, cv.agree, cv.quorum, {0}, {0}, cv.peers};
        memcpy(v->up, cv.up, sizeof cv.up);
        memcpy(v->knows, cv.knows, sizeof cv.knows);
        return 0;
    }
    etcdcluster_view ev;
    if (etcdcluster_leader(&etcd, &ev, timeout_ms, err, errlen) < 0)
        return -1;
    *v = (view){false, etcd.n, ev.leader, ev.answered, ev.agree, ev.quorum, {0}, {0}, (long long)ev.term};
    memcpy(v->up, ev.up, sizeof ev.up);
    return 0;
}

/* "m2 on host2 leads, raft term 3; ..." or that none leads; for Consul, the servers that
 * know no leader or do not answer. */
static void print_leader(netlab *lab, const view *v)
{
    if (v->leader < 0)
        printf(_("        no member leads; %d of %d members answer\n"), v->answered, v->n);
    else if (v->is_consul)
        printf(_("        %s on %s leads, %lld raft peers (servers answering: %d of %d, following it: %d)\n"),
               member_name(v, v->leader), netlab_name(lab, member_host(v, v->leader)), v->term, v->answered, v->n,
               v->agree - 1);
    else
        printf(_("        %s on %s leads, raft term %lld (members answering: %d of %d, following it: %d)\n"),
               member_name(v, v->leader), netlab_name(lab, member_host(v, v->leader)), v->term, v->answered, v->n,
               v->agree - 1);
    if (v->leader >= 0 && !v->quorum)
        printf(_("        but no majority of the members names it: it is not confirmed\n"));
    for (int i = 0; v->is_consul && i < v->n; i++)
        if (!v->up[i])
            printf(_("        %s on %s does not answer\n"), member_name(v, i), netlab_name(lab, member_host(v, i)));
        else if (!v->knows[i])
            printf(_("        %s on %s knows no leader\n"), member_name(v, i), netlab_name(lab, member_host(v, i)));
}

static void print_start(netlab *lab, const labstep *st)
{
    printf("%s", st->kind == LAB_ETCD ? "etcd" : st->kind == LAB_CONSUL ? "consul" : "partition");
    for (int i = 0; i < st->number; i++)
        printf(" %s", netlab_name(lab, st->hosts[i]));
    printf("\n");
    fflush(stdout);
}

/* etcd HOST...: starts the cluster and puts its URL in $ETCD. */
static int etcd_step(netlab *lab, const labstep *st, const char *logs, char *err, size_t errlen)
{
    view v;
    uint64_t t0 = clock_now_ms();
    if (etcd.n > 0)
        return err_set(err, errlen, _("this lab runs an etcd cluster already")), -1;
    if (etcdcluster_start(&etcd, lab, st->hosts, st->number, logs, START_MS, err, errlen) < 0 ||
        ask(false, &v, 0, err, errlen) < 0)
        return -1;
    for (int i = 0; i < etcd.n; i++)
        printf(_("        %s on %s: clients at %s:%d, member id %s\n"), etcd.m[i].name,
               netlab_name(lab, etcd.m[i].host), etcd.m[i].addr, ETCDCLUSTER_CLIENT_PORT, etcd.m[i].hex);
    printf(_("        their output goes to %s/HOST.log\n"), logs);
    print_leader(lab, &v);
    printf(_("        ready after %u ms; commands on the hosts find it in $ETCD:\n"), (unsigned)(clock_now_ms() - t0));
    printf("        ETCD=%s\n", etcd.url);
    setenv("ETCD", etcd.url, 1);
    return 0;
}

/* consul HOST...: servers on the HOSTs, a client agent on every other host; $CONSUL. */
static int consul_step(netlab *lab, const labstep *st, const char *logs, char *err, size_t errlen)
{
    view v;
    uint64_t t0 = clock_now_ms();
    if (consul.n > 0)
        return err_set(err, errlen, _("this lab runs a Consul cluster already")), -1;
    int clients[NETLAB_MAX_HOSTS + 1], nc = 0;
    for (int h = 0; h <= netlab_hosts(lab); h++) {
        bool server = false;
        for (int i = 0; i < st->number; i++)
            server |= st->hosts[i] == h;
        if (!server)
            clients[nc++] = h;
    }
    if (st->number + nc > CONSULCLUSTER_AGENTS)
        return err_set(err, errlen, _("consul: at most %d hosts in the lab (an agent on each)"),
                       CONSULCLUSTER_AGENTS - 1), -1;
    if (consulcluster_start(&consul, lab, st->hosts, st->number, clients, nc, logs, START_MS, err, errlen) < 0 ||
        ask(true, &v, 0, err, errlen) < 0)
        return -1;
    for (int i = 0; i < consul.agents; i++)
        printf(_("        %s on %s: %s, HTTP at %s:%d and 127.0.0.1:%d\n"), consul.a[i].name,
               netlab_name(lab, consul.a[i].host), consul.a[i].server ? _("server") : _("client agent"),
               consul.a[i].addr, CONSULCLUSTER_HTTP_PORT, CONSULCLUSTER_HTTP_PORT);
    printf(_("        their output goes to %s/HOST.log\n"), logs);
    print_leader(lab, &v);
    printf(_("        ready after %u ms; commands on any host find their local agent in $CONSUL:\n"),
           (unsigned)(clock_now_ms() - t0));
    printf("        CONSUL=%s\n", consul.url);
    setenv("CONSUL", consul.url, 1);
    return 0;
}

/* Which cluster a leader step is about; -1 with err when none or it is not said. */
static int which(labcluster want, char *err, size_t errlen)
{
    if (want == LAB_ETCD_CLUSTER && etcd.n == 0)
        return err_set(err, errlen, _("no etcd cluster in this lab (an etcd step starts one)")), -1;
    if (want == LAB_CONSUL_CLUSTER && consul.n == 0)
        return err_set(err, errlen, _("no Consul cluster in this lab (a consul step starts one)")), -1;
    if (want == LAB_ANY_CLUSTER && etcd.n > 0 && consul.n > 0)
        return err_set(err, errlen, _("this lab runs etcd and Consul: name one (leader consul)")), -1;
    if (want == LAB_ANY_CLUSTER && etcd.n == 0 && consul.n == 0)
        return err_set(err, errlen, _("no cluster in this lab (an etcd or consul step starts one)")), -1;
    return want == LAB_CONSUL_CLUSTER || (want == LAB_ANY_CLUSTER && consul.n > 0);
}

/* leader, kill-leader, cut-follower. */
static int leader_step(netlab *lab, const labstep *st, char *err, size_t errlen)
{
    view v;
    uint64_t t0 = clock_now_ms();
    int is_consul = which(st->cluster, err, errlen);
    if (is_consul < 0 || ask(is_consul, &v, st->number, err, errlen) < 0)
        return -1;
    print_leader(lab, &v);
    if (!v.quorum)
        return err_set(err, errlen, _("no leader confirmed by a majority within %d ms"), st->number), -1;
    const char *cluster = is_consul ? "consul" : "etcd";
    if (st->kind == LAB_LEADER) {
        if (is_consul)
            labtimeline_fault("leader consul %s (%lld peers)", netlab_name(lab, member_host(&v, v.leader)), v.term);
        else
            labtimeline_fault("leader etcd %s (term %lld)", netlab_name(lab, member_host(&v, v.leader)), v.term);
        if (leader_killed_ms)
            printf(_("        found in %u ms, %u ms after kill-leader\n"), (unsigned)(clock_now_ms() - t0),
                   (unsigned)(clock_now_ms() - leader_killed_ms));
        else
            printf(_("        found in %u ms\n"), (unsigned)(clock_now_ms() - t0));
        return 0;
    }
    if (st->kind == LAB_CUT_FOLLOWER) {
        int f = -1;
        for (int i = 0; i < v.n && f < 0; i++)
            if (i != v.leader && v.up[i])
                f = i;
        if (f < 0)
            return err_set(err, errlen, _("no member follows the leader")), -1;
        const char *name = netlab_name(lab, member_host(&v, f));
        printf("        cut %s\n", name);
        if (netlab_cut(lab, member_host(&v, f), err, errlen) < 0)
            return -1;
        labtimeline_fault("cut-follower %s %s", cluster, name);
        return 0;
    }
    int host = member_host(&v, v.leader);
    printf("        kill %s\n", netlab_name(lab, host));
    int killed = netlab_kill_host(lab, host, err, errlen);
    if (killed < 0)
        return -1;
    leader_killed_ms = clock_now_ms();
    labtimeline_fault("kill-leader %s %s", cluster, netlab_name(lab, host));
    printf(_("        %d processes killed\n"), killed);
    return 0;
}

/* partition HOST...: the HOSTs on one side, the rest on the other. */
static int partition_step(netlab *lab, const labstep *st, char *err, size_t errlen)
{
    if (netlab_partition(lab, st->hosts, st->number, err, errlen) < 0)
        return -1;
    char sides[2][NETLAB_MAX_HOSTS * 8] = {"", ""};
    for (int h = 0; h <= netlab_hosts(lab); h++) {
        char *side = sides[!netlab_in_split(lab, h)];
        size_t len = strlen(side);
        snprintf(side + len, sizeof sides[0] - len, " %s", netlab_name(lab, h));
    }
    labtimeline_fault("partition%s |%s", sides[0], sides[1]);
    printf(_("        one side:"));
    for (int h = 0; h <= netlab_hosts(lab); h++)
        if (netlab_in_split(lab, h))
            printf(" %s", netlab_name(lab, h));
    printf(_("; the other:"));
    for (int h = 0; h <= netlab_hosts(lab); h++)
        if (!netlab_in_split(lab, h))
            printf(" %s", netlab_name(lab, h));
    printf("\n");
    return 0;
}

int labcluster_step(netlab *lab, const labstep *st, const char *logs, char *err, size_t errlen)
{
    switch (st->kind) {
    case LAB_ETCD: print_start(lab, st); return etcd_step(lab, st, logs, err, errlen);
    case LAB_CONSUL: print_start(lab, st); return consul_step(lab, st, logs, err, errlen);
    case LAB_PARTITION: print_start(lab, st); return partition_step(lab, st, err, errlen);
    case LAB_LEADER:
    case LAB_KILL_LEADER:
    case LAB_CUT_FOLLOWER:
        printf("%s%s%s\n", st->kind == LAB_LEADER ? "leader" : st->kind == LAB_KILL_LEADER ? "kill-leader" : "cut-follower",
               st->cluster == LAB_ANY_CLUSTER ? "" : " ", st->cluster == LAB_ETCD_CLUSTER ? "etcd"
               : st->cluster == LAB_CONSUL_CLUSTER ? "consul" : "");
        fflush(stdout);
        return leader_step(lab, st, err, errlen);
    default: return err_set(err, errlen, "not a cluster step"), -1;
    }
}

void labcluster_stop_all(void)
{
    if (consul.n > 0)
        consulcluster_stop(&consul);
    if (etcd.n > 0)
        etcdcluster_stop(&etcd);
}
