/* netlab.h -- a lab of hosts on one machine: network namespaces on a private bridge,
 * programs started on a host, and faults (cut, heal, kill, packet loss).
 *
 * Each host is a network namespace with one link, eth0, holding its address on
 * 10.77.0.0/24: the client host (the workbench's own client) is 10.77.0.2, hostK is
 * 10.77.0.(10+K). The other ends of the links are on a bridge inside a namespace of its
 * own, the switch, so nothing is added to the machine's own namespace: no bridge, no
 * link, no address, no route, and no packet of the lab ever reaches a real interface.
 *
 * Every namespace is held by a small child process (never by a name in /run/netns): a
 * host's holder is also the first process of a PID namespace that everything started on
 * the host lives in. The holders die with the workbench (PR_SET_PDEATHSIG), even when it
 * is killed with SIGKILL; the kernel then kills every process of the hosts and removes
 * the namespaces, their links and the bridge. So an earlier run that crashed leaves
 * nothing behind to clean up, and nothing of the lab has a name another run could
 * collide with (the links are named inside the lab's own namespaces). In ps the holders
 * are called lab-switch, lab-client, lab-host1...
 *
 * Needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) and iproute2's ip; packet loss needs tc's
 * netem qdisc or nftables' nft. Not thread-safe: one thread drives a lab. */
#ifndef WB_NETLAB_H
#define WB_NETLAB_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "proc/spawn.h"

enum {
    NETLAB_MAX_HOSTS = 64, /* host1..host64 besides the client */
    NETLAB_CLIENT = 0,     /* the client host's number; hostK is K */
    NETLAB_MAX_RUNS = 256, /* programs running at once in one lab */
};

typedef struct netlab netlab;

/* The address of host number host (0: the client) in "10.77.0.11" form, into out. Returns
 * out, or NULL when host is out of range. */
const char *netlab_plan_addr(int host, char *out, size_t n);
/* The number of the host called name ("client", "host1"...) in a lab of n_hosts; -1 when
 * there is no such host. */
int netlab_plan_find(const char *name, int n_hosts);

/* Makes a lab of n_hosts hosts (1..NETLAB_MAX_HOSTS) plus the client host, each command
 * under a deadline. Returns it, or NULL with the exact reason in err (e.g. what is needed
 * when namespaces cannot be made here). */
netlab *netlab_new(int n_hosts, char *err, size_t errlen);
/* Kills every process of the lab, reaps them and the holders: the kernel removes the
 * namespaces, links and bridge. Accepts NULL. */
void netlab_free(netlab *lab);

int netlab_hosts(const netlab *lab);
const char *netlab_name(const netlab *lab, int host);
const char *netlab_addr(const netlab *lab, int host);
/* The process holding host's namespaces (host -1: the switch's), for
 * `nsenter -t PID -n -p -m`. */
pid_t netlab_holder(const netlab *lab, int host);

/* Starts argv (argv[0] a path or a name found on PATH) on host: in its network and PID
 * namespaces, stdin from /dev/null, stdout and stderr appended to log_path (NULL:
 * /dev/null). c->pid is a process of the workbench's that passes signals on to the
 * program and exits as it does; it dies with the workbench, and the program with it.
 * Returns 0, or -1 with err. Stop or wait for it only with netlab_stop or netlab_wait. */
int netlab_run(netlab *lab, int host, const char *const *argv, const char *log_path, child *c, char *err,
               size_t errlen);
/* The same with stdout and stderr on out_fd. */
int netlab_run_fd(netlab *lab, int host, const char *const *argv, int out_fd, child *c, char *err,
                  size_t errlen);
/* The same with stdout on out_fd and stderr on err_fd. */
int netlab_run_fds(netlab *lab, int host, const char *const *argv, int out_fd, int err_fd, child *c, char *err,
                   size_t errlen);
/* Waits at most timeout_ms for a program of netlab_run to end. Returns 1 with its wait
 * status in *status (c->pid is then 0), 0 while it is still running. */
int netlab_wait(netlab *lab, child *c, int timeout_ms, int *status);
/* Sends sig, waits at most timeout_ms, then SIGKILLs and reaps. Returns the wait status,
 * or -1 when it was not running. */
int netlab_stop(netlab *lab, child *c, int sig, int timeout_ms);

/* Waits at most timeout_ms until a TCP connection from host to addr:port (IPv4) is
 * accepted, trying every 50 ms. Returns 0, or -1 with err. */
int netlab_connect(netlab *lab, int host, const char *addr, int port, int timeout_ms, char *err, size_t errlen);

/* What netlab_call runs: writes its answer to fd; returns 0 to 127 (its exit status). */
typedef int (*netlab_fn)(void *ctx, int fd);
/* Runs fn(ctx, fd) in a forked child of the workbench that has entered host's network
 * namespace, for a request made from that host without a program on it: what fn writes
 * to fd comes back in out (at most cap - 1 bytes, NUL-terminated). The child dies with
 * the workbench and is killed at timeout_ms. Call it only from a single-threaded process
 * (fork). Returns fn's status, or -1 with err when it could not run, was killed or ran
 * out of time. */
int netlab_call(netlab *lab, int host, netlab_fn fn, void *ctx, char *out, size_t cap, int timeout_ms,
                char *err, size_t errlen);

/* Moves the calling thread into host's network namespace (setns): the sockets it makes
 * from now on, and those of the threads it creates afterwards, are the host's. Safe in a
 * threaded process (the way for one to be the client without netlab_call's fork). Returns
 * 0, or -1 with err. */
int netlab_enter(netlab *lab, int host, char *err, size_t errlen);
/* The descriptor of host's network namespace (kept open by the lab until netlab_free),
 * for another thread's setns(fd, CLONE_NEWNET); -1 when there is no such host. */
int netlab_netns_fd(const netlab *lab, int host);

/* Cuts host off the network (its link's switch end goes down): its processes live on and
 * keep their addresses, but no packet reaches or leaves it. netlab_heal undoes it. */
int netlab_cut(netlab *lab, int host, char *err, size_t errlen);
int netlab_heal(netlab *lab, int host, char *err, size_t errlen);
bool netlab_is_cut(const netlab *lab, int host);
/* Splits the lab in two: the n hosts given on one side, every other host (the client
 * included) on the other. Each side reaches itself but nothing of the other side: an
 * nftables table in the switch's namespace drops every frame (ARP too) the bridge would
 * forward across. The hosts keep their links, addresses and processes. A new partition
 * replaces the old one; n 0 joins the sides again. Needs nft. Returns 0, or -1 with err. */
int netlab_partition(netlab *lab, const int *hosts, int n, char *err, size_t errlen);
/* Whether a partition is in place, and whether host is on its named side. */
bool netlab_is_split(const netlab *lab);
bool netlab_in_split(const netlab *lab, int host);
/* SIGKILLs every process on host (all of its PID namespace but the holder) and reaps the
 * ones the lab started, within a deadline. Returns how many were killed, or -1 with err. */
int netlab_kill_host(netlab *lab, int host, char *err, size_t errlen);
/* Drops percent (0-100) of the packets crossing host's link, either way: tc's netem on
 * both ends of the link, else an nftables rule on the host; 0 removes the loss. Returns
 * 0, or -1 with err ("not supported here: ..." when neither works). *how (may be NULL)
 * says which did: "netem" or "nftables". */
int netlab_loss(netlab *lab, int host, int percent, const char **how, char *err, size_t errlen);

#endif
