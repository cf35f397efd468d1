/* supervisor.h -- the workbench's server processes: start, signal, restart, reap, and a
 * timeline of what happened to each.
 *
 * Nothing else in the workbench forks or signals servers. Instances are numbered from 1
 * in the order they were spawned; a restarted instance keeps its number and its
 * address. Every child dies with the workbench (see spawn.h). */
#ifndef WB_SUPERVISOR_H
#define WB_SUPERVISOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proc/spawn.h"
#include "wire/rpc_proto.h"

enum { SUP_MAX_ARGS = 8 };

typedef enum inst_state { INST_RUNNING, INST_PAUSED, INST_STOPPED, INST_KILLED, INST_EXITED } inst_state;

typedef struct instance {
    int id;
    rpc_proto proto;
    char addr[80];
    pid_t pid;        /* 0 once it has been reaped */
    inst_state state;
    int exit_status;  /* wait status, once reaped; -1 when the lab that ran it reaped it */
    /* Set for a service program (supervisor_spawn_service); empty for the sample servers. */
    char program[32];          /* "order-server" */
    char service[128];         /* the registry name it registers as: "order" */
    char args[SUP_MAX_ARGS][256]; /* its own arguments, given again on restart */
    int nargs;
} instance;

typedef struct sup_event {
    uint64_t at_ms; /* clock_now_ms() time */
    int id;         /* the instance, 0 for none */
    char what[200];
} sup_event;

typedef struct supervisor supervisor;

/* Servers it spawns register in registry_url ("none" or NULL: nowhere) as service,
 * with the given TTL. */
supervisor *supervisor_new(const char *registry_url, const char *service, int ttl);
/* SIGTERMs every instance still alive (SIGCONT first for paused ones), reaps them within
 * a bounded time, and frees. Accepts NULL. */
void supervisor_free(supervisor *s);

/* Starts one server of protocol proto on a free port. Returns its id, or -1 with err. */
int supervisor_spawn(supervisor *s, rpc_proto proto, char *err, size_t errlen);
/* Sends a signal: SIGKILL (killed), SIGTERM (stopped), SIGSTOP (paused), SIGCONT
 * (running again). Returns 0, or -1 when the instance is unknown or gone. */
int supervisor_signal(supervisor *s, int id, int signo);
/* Starts a killed, stopped or exited instance again on its old address. Returns 0 or -1
 * with err. */
int supervisor_restart(supervisor *s, int id, char *err, size_t errlen);
/* Reaps instances that have exited, without waiting; records each in the timeline. */
void supervisor_poll(supervisor *s);

const instance *supervisor_instances(const supervisor *s, size_t *n);
const instance *supervisor_find(const supervisor *s, int id);
/* The timeline so far, oldest first. */
const sup_event *supervisor_timeline(const supervisor *s, size_t *n);
/* Adds an event of the caller's to the timeline (e.g. what the registry or the
 * balancer saw). */
void supervisor_note(supervisor *s, int id, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- service programs: order-server, user-server ---- */

/* Starts one instance of bin/PROGRAM (a server that takes --listen, --quiet, --registry,
 * --service and --ttl: "order-server", "user-server", or "gateway", which registers
 * itself with protocol http), registered as service (NULL: the
 * supervisor's service), with its own arguments args (NULL-terminated, at most
 * SUP_MAX_ARGS, copied: e.g. {"--db", "/tmp/orders.db", NULL}). A restart gives the same
 * arguments again, so it finds the same data. Its proto is PROTO_GRPC (the gateway's
 * too: it is a label here, the program is what counts). Returns its id,
 * or -1 with err. */
int supervisor_spawn_service(supervisor *s, const char *program, const char *service,
                             const char *const *args, char *err, size_t errlen);
/* What an instance runs: its program, or the sample server of its protocol. */
const char *supervisor_instance_program(const instance *in);

const char *supervisor_state_name(inst_state st);

/* ---- for an owner that must not wait on a child (the TUI): start it on another thread ---- */

/* Makes servers started from now on register in registry_url ("none" or NULL: nowhere).
 * Servers already running stay registered where they were: a server takes its registry
 * when it starts. */
void supervisor_set_registry(supervisor *s, const char *registry_url);
/* Starts a server like another (its protocol; for a service program its program, service
 * name and arguments) as the spawn functions or supervisor_restart would (listen: the old
 * address; NULL: a free port), but records nothing: fills *out (proto, addr, pid, state;
 * id 0). It reads only s's registry, service and TTL, so another thread may call it while
 * the owner goes on, as long as supervisor_set_registry is not called at the same time
 * (the TUI calls both on its worker). Returns 0, or -1 with a reason in err. */
int supervisor_launch_like(supervisor *s, const instance *like, const char *listen, instance *out, char *err,
                           size_t errlen);
/* Records a server supervisor_launch_like started, on the owner's thread: id 0 adds it
 * as a new instance; otherwise it becomes instance id again, which must have no live process
 * (reaped: pid 0). Notes it in the timeline. Returns the instance's id, or -1 (unknown
 * id, one still alive, or no room), leaving the child to the caller. */
int supervisor_adopt(supervisor *s, int id, const instance *in);

/* How a server is started instead of spawn_server (a lab places it on one of its hosts):
 * program is the path of the server's executable, extra its arguments (NULL-terminated,
 * without --listen), listen the address to listen on again (NULL: any free port). Fills
 * c (pid, the address the server printed). Returns 0, or -1 with a reason in err. */
typedef int (*sup_launcher)(void *ctx, const char *program, const char *const *extra, const char *listen,
                            child *c, char *err, size_t errlen);
/* Starts servers through fn from now on (NULL: spawn_server again). Like
 * supervisor_set_registry, only on the thread that launches. */
void supervisor_set_launcher(supervisor *s, sup_launcher fn, void *ctx);
/* The lease or check TTL of servers started from now on (seconds, >= 1); the same
 * thread rule. */
void supervisor_set_ttl(supervisor *s, int ttl);
int supervisor_ttl(const supervisor *s);

#endif
