/* etcdcluster.h -- a cluster of etcd members in a lab of hosts (proc/netlab): one member
 * per host, Debian's etcd-server, and which member leads.
 *
 * Member K (mK) runs on the K-th host given, with its clients on HOST:2379 and its peers
 * on HOST:2380; every member knows the others' peer URLs from the start (a static
 * --initial-cluster), so the cluster forms without a discovery service. Their data lives
 * in DIR/mK.etcd, removed when the cluster stops; what they print goes to DIR/HOST.log.
 * The registry URL lists every member, etcd://10.77.0.11:2379,10.77.0.12:2379,..., so
 * the registry's client fails over between them.
 *
 * Who leads is asked of each member's status (POST /v3/maintenance/status, etcd's JSON
 * gateway). The workbench's own network namespace has no way into the lab (the lab adds
 * no link or route there, by design), so the requests are made from the client host: a
 * child of the workbench enters the client host's network namespace (netlab_call), asks
 * each member through the registry's own HTTP client, and passes one line per member
 * back through a pipe. No program (curl, etcdctl) is needed on the host, and nothing is
 * started there that the lab's kill or cut could catch. A caller with threads, which must
 * not fork, puts its own thread in the client host's namespace (netlab_enter) and asks
 * from there (etcdcluster_ask_here). */
#ifndef WB_ETCDCLUSTER_H
#define WB_ETCDCLUSTER_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proc/netlab.h"

enum {
    ETCDCLUSTER_MAX = 7,            /* members */
    ETCDCLUSTER_CLIENT_PORT = 2379, /* etcd's own ports, free in the lab's namespaces */
    ETCDCLUSTER_PEER_PORT = 2380,
    ETCDCLUSTER_ASK_MS = 800, /* one member's status request */
};

typedef struct etcdmember {
    int host;
    char name[8];  /* "m1" */
    char addr[16]; /* "10.77.0.11" */
    char id[24];   /* its member id: a uint64 in decimal, as the JSON gateway writes it; "" until known */
    char hex[20];  /* the same in hex, as etcd's log writes it */
    child proc;
} etcdmember;

typedef struct etcdcluster {
    netlab *lab;
    int n;
    etcdmember m[ETCDCLUSTER_MAX];
    char dir[PATH_MAX];
    char url[ETCDCLUSTER_MAX * 24 + 8]; /* "etcd://10.77.0.11:2379,10.77.0.12:2379,..." */
    bool ask_here; /* etcdcluster_ask_here */
} etcdcluster;

/* One round of status requests. */
typedef struct etcdcluster_view {
    int leader;             /* the index of the member that answers and says it leads; -1: none */
    int64_t term;           /* its raft term */
    int answered;           /* members that answered */
    int agree;              /* of them, those that name the leader (itself included) */
    bool quorum;            /* agree is a majority of all members: the leader is confirmed */
    bool up[ETCDCLUSTER_MAX];
} etcdcluster_view;

/* Starts a member on each of the n hosts (1..ETCDCLUSTER_MAX) of lab, data and logs in
 * dir, and waits at most timeout_ms until every member answers and one leads. Returns 0,
 * or -1 with the reason in err (the cluster is then stopped). */
int etcdcluster_start(etcdcluster *c, netlab *lab, const int *hosts, int n, const char *dir, int timeout_ms,
                      char *err, size_t errlen);
/* The first half of etcdcluster_start: starts the members and returns at once. Returns 0,
 * or -1 with the reason in err (the cluster is then stopped). */
int etcdcluster_launch(etcdcluster *c, netlab *lab, const int *hosts, int n, const char *dir, char *err,
                       size_t errlen);
/* The second half: waits at most timeout_ms until every member answered once and one
 * leads. Returns 0, or -1 with the reason in err (a member that ended at its start, or the
 * time ran out); the cluster is left as it is. */
int etcdcluster_await(etcdcluster *c, int timeout_ms, char *err, size_t errlen);
/* With here true, etcdcluster_leader and etcdcluster_await ask the members from the
 * calling thread, which the caller has put in the client host's network namespace
 * (netlab_enter), instead of from a forked child (netlab_call). For a caller with
 * threads. A copy of c made after etcdcluster_launch may ask too (another thread's), as
 * long as only the original is stopped. */
void etcdcluster_ask_here(etcdcluster *c, bool here);
/* Asks the members until one that answers leads and a majority of all members name it,
 * at most timeout_ms (0: one round). A member's term is etcd's raftTerm, the term of the
 * last entry it applied (a new leader's shows once its first entry is applied). Returns
 * 0 with *v (v->leader -1 when none leads by then; v->quorum false when it is not
 * confirmed), or -1 with err when the members could not be asked at all. */
int etcdcluster_leader(etcdcluster *c, etcdcluster_view *v, int timeout_ms, char *err, size_t errlen);
/* The index of the member on host, or -1. */
int etcdcluster_on(const etcdcluster *c, int host);
/* Stops the members that still run (SIGTERM, then SIGKILL) and removes their data. */
void etcdcluster_stop(etcdcluster *c);

#endif
