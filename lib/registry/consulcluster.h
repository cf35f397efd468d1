/* consulcluster.h -- a Consul cluster in a lab of hosts (proc/netlab): a server on each
 * host given, a client agent on every other host, and which server leads.
 *
 * Server K (sK) runs `consul agent -server -bootstrap-expect=N` on the K-th host given,
 * binding that host's address; every agent, server or client, -retry-join's the servers
 * (every second), and the servers elect with raft_multiplier 1. Each host has its own
 * addresses, so all agents keep Consul's default ports (HTTP 8500, server RPC 8300, Serf
 * 8301). An agent's HTTP API listens on its host's address and on that host's own
 * loopback, so consul://127.0.0.1:8500 is, on every host of the lab, the agent of that
 * host: as Consul means it, a program registers with and asks its local agent, and the
 * agent keeps its services' checks and forwards to the servers. The registry takes one
 * Consul address (unlike etcd's list): the local agent is the one to fail over for it.
 * Data lives in DIR/NAME.consul (removed when the cluster stops), output in DIR/HOST.log.
 *
 * Who leads is asked of each server's /v1/status/leader ("10.77.0.12:8300", "" while it
 * knows none) and /v1/status/peers (the raft voters it knows), from the client host
 * (netlab_call) through the registry's own HTTP client, as etcdcluster does. */
#ifndef WB_CONSULCLUSTER_H
#define WB_CONSULCLUSTER_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "proc/netlab.h"

enum {
    CONSULCLUSTER_MAX = 7,         /* servers */
    CONSULCLUSTER_AGENTS = 16,     /* servers and clients */
    CONSULCLUSTER_HTTP_PORT = 8500,
    CONSULCLUSTER_SERVER_PORT = 8300,
    CONSULCLUSTER_ASK_MS = 800,    /* one agent's request */
};

typedef struct consulagent {
    int host;
    bool server;
    char name[16]; /* "s1" for a server, the host's name for a client */
    char addr[16];
    child proc;
} consulagent;

typedef struct consulcluster {
    netlab *lab;
    int n;      /* servers: a[0..n-1] */
    int agents; /* servers and clients */
    consulagent a[CONSULCLUSTER_AGENTS];
    char dir[PATH_MAX];
    char url[40]; /* "consul://127.0.0.1:8500": the local agent, on any host */
} consulcluster;

/* One round of questions to the servers. */
typedef struct consulcluster_view {
    int leader;   /* the index of the server that the most of those answering name; -1: none */
    int answered; /* servers that answered */
    int agree;    /* of them, those that name the leader */
    bool quorum;  /* agree is a majority of all servers, the leader among them */
    int peers;    /* the raft voters the leader knows (/v1/status/peers) */
    bool up[CONSULCLUSTER_MAX];
    bool knows[CONSULCLUSTER_MAX]; /* answered and names a leader */
} consulcluster_view;

/* Starts a server on each of the n hosts (1..CONSULCLUSTER_MAX) of lab and a client
 * agent on each of the n_clients hosts in clients, data and logs in dir, and waits at
 * most timeout_ms until a leader is confirmed and every client agent knows it. Returns
 * 0, or -1 with the reason in err (the cluster is then stopped). */
int consulcluster_start(consulcluster *c, netlab *lab, const int *hosts, int n, const int *clients,
                        int n_clients, const char *dir, int timeout_ms, char *err, size_t errlen);
/* Asks the servers until a leader is confirmed, at most timeout_ms (0: one round).
 * Returns 0 with *v (v->leader -1 when none leads by then), or -1 with err when the
 * servers could not be asked at all. */
int consulcluster_leader(consulcluster *c, consulcluster_view *v, int timeout_ms, char *err, size_t errlen);
/* The index of the server on host, or -1. */
int consulcluster_on(const consulcluster *c, int host);
/* Stops the agents that still run (SIGTERM, then SIGKILL) and removes their data. */
void consulcluster_stop(consulcluster *c);

#endif
