/* etcdproc.h -- a private etcd for the workbench: Debian's etcd-server on free loopback
 * ports with a temporary data directory, stopped and removed when done.
 *
 * It dies with the workbench (see spawn.h), so even a SIGKILLed workbench leaves no
 * etcd behind; the data directory of such a run stays in /tmp (wb-etcd.*). */
#ifndef WB_ETCDPROC_H
#define WB_ETCDPROC_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "proc/spawn.h"

typedef struct etcdproc {
    child proc;
    char dir[PATH_MAX];
    char url[64];    /* "etcd://127.0.0.1:PORT", for --registry */
    char client[64]; /* "127.0.0.1:PORT", for etcdctl --endpoints */
    char peer_url[64];
} etcdproc;

/* Starts etcd and waits at most timeout_ms until it answers. Returns 0, or -1 with a
 * reason in err (e.g. that etcd-server is not installed). */
int etcdproc_start(etcdproc *e, int timeout_ms, char *err, size_t errlen);
/* The same, with its clients on client_port (etcd's own 2379, as the tutorials have it)
 * when that port is free and etcd starts there; on a free port otherwise. */
int etcdproc_start_at(etcdproc *e, int client_port, int timeout_ms, char *err, size_t errlen);
/* Starts it again on the same ports and data (after a stop without removal), waiting
 * at most timeout_ms until it answers (0: not at all). */
int etcdproc_restart(etcdproc *e, int timeout_ms, char *err, size_t errlen);
/* Stops it (SIGTERM, then SIGKILL after 3 s). With remove, deletes the data directory. */
void etcdproc_stop(etcdproc *e, bool remove);

#endif
