/* tui_lab.h -- the TUI's lab of hosts (`:hosts N`): network namespaces (proc/netlab), an
 * etcd cluster on the first hosts, servers placed on the hosts round robin, faults, and
 * the lab's timeline file read back.
 *
 * The lab is driven by the ops worker alone (netlab is single-threaded, and its holders
 * die with the thread that forked them): the jobs here run there, and their finishes
 * hand a snapshot (tui_lab_info) to the main thread. The worker joins the client host's
 * network namespace for the lab's life (netlab_enter), so the registry it opens and the
 * watch thread it starts make their connections from the client host; the side worker
 * and the load thread join it by its descriptor. */
#ifndef WB_TUI_LAB_H
#define WB_TUI_LAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/eventlog.h"
#include "proc/supervisor.h"
#include "registry/etcdcluster.h"
#include "tui_work.h"

enum {
    TUI_LAB_MAX_HOSTS = 7,
    TUI_LAB_ETCD = 3,        /* members (or fewer hosts) */
    TUI_LAB_MAX_EVENTS = 64, /* lines taken from the timeline file in one read */
};

typedef struct tui_lab tui_lab; /* the ops worker's */

/* One host as the :hosts view shows it. */
typedef struct tui_lab_host {
    char name[16], addr[16];
    bool cut, aside; /* cut off; on the named side of a partition */
    bool killed;     /* its processes were killed (:kill-host, :kill-leader) */
    int loss;        /* percent */
    int member;      /* its etcd member's number (1..), 0: none */
} tui_lab_host;

/* What the main thread knows of the lab: a copy, made on the worker. */
typedef struct tui_lab_info {
    int n;                                   /* hosts besides the client; 0: no lab */
    tui_lab_host host[TUI_LAB_MAX_HOSTS + 1]; /* [0]: the client */
    bool split;
    char url[256];    /* the etcd cluster: etcd://10.77.0.11:2379,... */
    char events[320]; /* the timeline file */
    char dir[288];    /* the lab's directory (logs, etcd data, events) */
    int64_t t0;       /* the lab's start, clock_now_ms() */
    int netfd;        /* the client host's network namespace (the lab's; valid while it lives) */
    int nmembers;
    etcdcluster etcd; /* a copy, for asking who leads from the side worker */
} tui_lab_info;

/* Who leads the etcd cluster, asked of each member from the client host. */
typedef struct tui_lab_leader {
    int leader;  /* the host of the member that leads, confirmed by a majority; 0: none */
    long long term;
    int answered;
} tui_lab_leader;

/* :hosts N: makes the lab, joins its client host, starts etcd, points the TUI's own
 * events at the lab's timeline and sets the supervisor's launcher. On the ops worker. */
typedef struct tui_lab_up_job {
    tui_job job;
    int n;
    supervisor *sup;
    int orig_netfd;    /* the worker's own namespace, to go back to when it fails */
    tui_lab *lab;      /* out: the lab (the worker's from now on) */
    tui_lab_info info; /* out */
    int rc;
    char err[600];
} tui_lab_up_job;

/* :hosts 0 (and quit): the supervisor's own launcher again, the worker back in its own
 * namespace (orig_netfd), and the lab freed: everything on its hosts dies. */
typedef struct tui_lab_down_job {
    tui_job job;
    tui_lab *lab;
    supervisor *sup;
    int orig_netfd;
} tui_lab_down_job;

typedef enum tui_fault { FAULT_CUT, FAULT_HEAL, FAULT_KILL_HOST, FAULT_LOSS, FAULT_PARTITION, FAULT_KILL_LEADER } tui_fault;

/* A fault on the ops worker; written to the timeline file as a `fault` line. */
typedef struct tui_lab_fault_job {
    tui_job job;
    tui_lab *lab;
    tui_fault kind;
    int hosts[TUI_LAB_MAX_HOSTS]; /* cut, heal (none: every host), kill-host, loss, partition */
    int nhosts;
    int percent;
    char text[320]; /* out: the fault line's text, "cut host1" */
    tui_lab_info info; /* out: the hosts after it */
    int rc;
    char err[300];
} tui_lab_fault_job;

/* On the side worker: the lines of the timeline file not taken yet, the detection time
 * of the last fault whose traffic moved (proc/labtimeline), and who leads. */
typedef struct tui_lab_read_job {
    tui_job job;
    char events[320];
    size_t seen;       /* in/out: lines taken already */
    eventlog_line *lines; /* out (free()) */
    size_t n;
    int64_t detect_ms;     /* out: the last fault's detection time (labtimeline); -1: none yet */
    char detect_fault[96]; /* out: that fault's text */
    bool ask_leader;
    etcdcluster etcd;      /* a copy of the lab's, asked from the side worker's namespace */
    tui_lab_leader leader; /* out, when asked */
    char err[200];
} tui_lab_read_job;

/* Moves the worker thread it runs on into the network namespace netfd (-1: nothing). */
typedef struct tui_netns_job {
    tui_job job;
    int netfd;
} tui_netns_job;

/* Each returns a new job with run set (finish left to the caller), or NULL. */
tui_lab_up_job *tui_lab_up_job_new(int n, supervisor *sup, int orig_netfd);
tui_lab_down_job *tui_lab_down_job_new(tui_lab *lab, supervisor *sup, int orig_netfd);
tui_lab_fault_job *tui_lab_fault_job_new(tui_lab *lab, tui_fault kind);
tui_lab_read_job *tui_lab_read_job_new(const tui_lab_info *info, size_t seen, bool ask_leader);
tui_netns_job *tui_netns_job_new(int netfd);

/* Asks each member of c for its status, once, from the calling thread's network namespace
 * (c asks here: etcdcluster_ask_here). */
void tui_lab_ask_leader(etcdcluster *c, tui_lab_leader *out);
/* The number of the host called name in info ("host1"; "client" is 0); -1: none. */
int tui_lab_find(const tui_lab_info *info, const char *name);

#endif
