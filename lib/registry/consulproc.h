/* consulproc.h -- a private Consul agent in dev mode, when a `consul` binary is installed:
 * `consul agent -dev` on free loopback ports (its HTTP API and its DNS interface), stopped
 * when done (dev mode keeps its data in memory). Debian 12 does not package Consul; without
 * the binary consulproc_start says so. */
#ifndef WB_CONSULPROC_H
#define WB_CONSULPROC_H

#include <stdbool.h>
#include <stddef.h>

#include "proc/spawn.h"

typedef struct consulproc {
    child proc;
    char url[64];  /* "consul://127.0.0.1:PORT", for --registry */
    char http[64]; /* "127.0.0.1:PORT" */
    char dns[64];  /* "127.0.0.1:PORT" of its DNS interface (UDP and TCP) */
    int dns_port;
    char log[128];
} consulproc;

/* Whether a consul binary is on PATH. */
bool consulproc_available(void);
/* The consul to run into path: "consul" when one is on PATH, else the one beside the
 * workbench's programs (mk/consul.sh links it there). false when there is none. */
bool consulproc_path(char *path, size_t n);
/* Starts the agent and waits at most timeout_ms until it has a leader. Returns 0, or -1
 * with a reason in err. */
int consulproc_start(consulproc *c, int timeout_ms, char *err, size_t errlen);
/* The same, with `-config-dir config_dir` (an existing directory whose *.json and *.hcl
 * files define services and checks; `consul reload` reads them again), or none when NULL. */
int consulproc_start_config(consulproc *c, const char *config_dir, int timeout_ms, char *err, size_t errlen);
/* Stops it (SIGTERM, then SIGKILL after 3 s) and removes its log. */
void consulproc_stop(consulproc *c);

#endif
