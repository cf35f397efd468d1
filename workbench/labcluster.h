/* labcluster.h -- the lab's steps on its clusters (etcd, Consul) and its partition, for
 * cmd_lab. */
#ifndef WB_LABCLUSTER_H
#define WB_LABCLUSTER_H

#include <stddef.h>

#include "proc/labscript.h"
#include "proc/netlab.h"

/* etcd, consul, leader, kill-leader, cut-follower, partition: prints what it did below
 * the step's line. Returns 0, or -1 with err. */
int labcluster_step(netlab *lab, const labstep *st, const char *logs, char *err, size_t errlen);
/* Stops the clusters the steps started. */
void labcluster_stop_all(void);

#endif
