/* tui_lab_int.h -- private to tui_lab.c and tui_lab_ops.c: the lab as the ops worker holds it. */
#ifndef WB_TUI_LAB_INT_H
#define WB_TUI_LAB_INT_H

#include <limits.h>
#include <stdint.h>

#include "proc/netlab.h"
#include "registry/etcdcluster.h"
#include "tui_lab.h"

struct tui_lab {
    netlab *lab;
    etcdcluster etcd;  /* laid out as registry/etcdcluster does; stopped by etcdcluster_stop */
    char dir[256];     /* logs, etcd's data, the timeline file */
    char events[288];
    int64_t t0;        /* clock_now_ms() at its start */
    unsigned next;     /* the round robin of new servers */
    int loss[NETLAB_MAX_HOSTS + 1];
    bool killed[NETLAB_MAX_HOSTS + 1];
};

/* The snapshot of L for the main thread. */
void tui_lab_fill_info(const tui_lab *L, tui_lab_info *out);
/* Ends the lab: etcd, every process of its hosts, its directory. Accepts NULL. */
void tui_lab_free(tui_lab *L);

#endif
