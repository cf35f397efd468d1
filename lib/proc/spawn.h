/* spawn.h -- starting a server as a child process and learning the address it bound.
 *
 * Every workbench server prints its address on the first line of stdout; spawn_server
 * starts one with --listen 127.0.0.1:0, reads that line within a deadline, and keeps the
 * child's pid. The child dies with its parent (PR_SET_PDEATHSIG), so no server outlives
 * the workbench, even when the workbench is killed with SIGKILL. */
#ifndef WB_SPAWN_H
#define WB_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct child {
    pid_t pid;
    char addr[80]; /* "127.0.0.1:41234" */
} child;

/* Starts bin/NAME with --listen 127.0.0.1:0 --quiet and the extra arguments (NULL-
 * terminated, may be NULL), waits at most timeout_ms for its address. Returns 0 with c
 * filled, or -1 with a reason in err (the child, if any, is killed and reaped). */
int spawn_server(const char *name, const char *const *extra, int timeout_ms, child *c, char *err,
                 size_t errlen);

/* Starts argv[0] (a path, or a name found on PATH) with argv, output appended to log_path
 * (NULL: /dev/null), dying with its parent like spawn_server's children. Returns 0 with
 * c->pid set (c->addr empty), or -1 with a reason in err. */
int spawn_exec(const char *const *argv, const char *log_path, child *c, char *err, size_t errlen);

/* Runs argv to its end like spawn_exec (output appended to log_path, NULL: /dev/null),
 * waiting at most timeout_ms; a child still running then is killed. Returns its exit
 * status (0-255), or -1 with err when it could not start, was killed by a signal or
 * ran out of time. */
int spawn_command(const char *const *argv, const char *log_path, int timeout_ms, char *err, size_t errlen);
/* Whether prog (a name looked up in PATH, or a path) is an executable file. */
bool spawn_on_path(const char *prog);

/* A free TCP port on 127.0.0.1, free now but not reserved: one from 20000-32767 at random,
 * below the kernel's ephemeral ports, so no other program's bind(0) or connect() takes it
 * meanwhile (the kernel's pick when none is free). 0 on failure. */
int spawn_free_port(void);
/* Whether a program could listen on port of 127.0.0.1 now (a port in TIME_WAIT counts
 * as free). Nothing is reserved. */
bool spawn_port_free(int port);

/* spawn_free_port's pick, held: *hold gets a socket bound to it (not listening, and
 * without SO_REUSEADDR, so no other program can bind the port) until the caller closes
 * it just before starting the program that will listen there. *hold is -1 with 0. */
int spawn_hold_port(int *hold);
/* Sends sig, then waits at most timeout_ms for the child to exit, then SIGKILLs and
 * reaps it. Returns the wait status, or -1 if the child was already gone. */
int spawn_stop(child *c, int sig, int timeout_ms);

#endif
