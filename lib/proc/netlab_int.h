/* netlab_int.h -- the lab's insides, shared by its files, from the top down:
 *   netlab_make.c  making and removing a lab, what it tells; cut, heal, loss
 *   netlab_run.c   programs on a host, kill, connect
 *   netlab_ns.c    the holders, commands run in a namespace
 *   netlab.c       the address plan (pure, apart from the rest) */
#ifndef WB_NETLAB_INT_H
#define WB_NETLAB_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "proc/netlab.h"

enum { NETLAB_CMD_MS = 5000 }; /* the deadline of one configuring command */

typedef struct netlab_host {
    char name[16]; /* "client", "host1" */
    char addr[16]; /* "10.77.0.11" */
    char link[16]; /* its link's end on the switch: "client", "h1" */
    pid_t holder;  /* 0 once reaped */
    int netfd;     /* /proc/HOLDER/ns/net, ns/pid and ns/mnt, kept open (-1: none) */
    int pidfd;
    int mntfd;     /* a host's own mounts: /proc of its PID namespace */
    bool cut;
    bool aside; /* on the named side of a partition */
    int loss;
} netlab_host;

typedef struct netlab_runrec {
    pid_t pid; /* the workbench's process that passes signals on; 0: a free slot */
    int host;
} netlab_runrec;

struct netlab {
    int n; /* hosts besides the client */
    netlab_host sw;
    netlab_host host[NETLAB_MAX_HOSTS + 1];
    netlab_runrec runs[NETLAB_MAX_RUNS];
    const char *loss_how; /* "netem" or "nftables" once a loss worked; NULL before */
    bool split;           /* a partition is in place */
};

/* Whether host is a host of lab (0..n). */
static inline bool netlab_valid(const netlab *lab, int host) { return host >= 0 && host <= lab->n; }

/* Starts a holder: a child in new network (and with pidns, PID and mount) namespaces that
 * waits, reaping orphans, until it is killed or the workbench dies. With pidns it mounts
 * a /proc of its own PID namespace (private to its mount namespace), so a program on the
 * host sees its own processes under its own pids there (ps; LeakSanitizer reads
 * /proc/self/task). Fills h->holder, h->netfd, h->pidfd, h->mntfd. Returns 0, or -1 with
 * err naming what is needed. */
int netlab_ns_hold(netlab_host *h, bool pidns, char *err, size_t errlen);
/* SIGKILLs the holder (and so every process of its PID namespace), reaps it within a
 * deadline and closes the descriptors. */
void netlab_ns_release(netlab_host *h);
/* Runs argv inside h's network namespace with input on its stdin (NULL: none), waiting
 * at most NETLAB_CMD_MS. Returns its exit status (0: success), or -1 when it could not
 * run or ran out of time; err gets the command and the first of its output either way
 * when the status is not 0. */
int netlab_ns_exec(const netlab_host *h, const char *const *argv, const char *input, char *err,
                   size_t errlen);
/* Reaps every program the lab started (they end with their hosts), at most timeout_ms. */
void netlab_run_reap_all(netlab *lab, int timeout_ms);

#endif
