/* labscript.h -- the steps of a lab script, one a line: programs on hosts and faults.
 *
 *   HOST: COMMAND        run COMMAND (sh -c) on HOST and wait for it to end
 *   HOST: COMMAND &      start it on HOST in the background
 *   cut HOST | heal HOST cut HOST off the network, or join it again
 *   kill HOST            kill every process on HOST
 *   loss HOST PERCENT    drop PERCENT of the packets on HOST's link (0: none)
 *   sleep MS             wait MS milliseconds
 *   wait HOST:PORT [MS]  wait until the client host can connect there (default 5000)
 *   etcd HOST...         start an etcd cluster, a member on each HOST (at most
 *                        LABSCRIPT_MAX_MEMBERS); later commands find its registry URL in $ETCD
 *   consul HOST...       start a Consul cluster, a server on each HOST, a client agent on
 *                        every other host; later commands find its registry URL in $CONSUL
 *   leader [C] [MS]      wait until a member leads (default 5000), say which, and its term
 *   kill-leader [C]      kill the host whose member leads
 *   cut-follower [C]     cut the host of a member that follows the leader
 *                        (C: etcd or consul, needed when the lab runs both)
 *   partition HOST...    split the lab: the HOSTs reach each other but not the rest
 *   heal                 join every host that is cut, and the sides of a partition
 *   timeline             print the lab's events since the last timeline step, and what
 *                        followed each fault among them
 *   # ...                a comment; blank lines are skipped
 *
 * HOST is client, host1, host2...; in wait it may also be an address (10.77.0.11). */
#ifndef WB_LABSCRIPT_H
#define WB_LABSCRIPT_H

#include <stddef.h>

enum {
    LABSCRIPT_MAX_LINE = 1024,
    LABSCRIPT_MAX_SLEEP_MS = 600000,
    LABSCRIPT_MAX_WAIT_MS = 60000,
    LABSCRIPT_WAIT_MS = 5000,
    LABSCRIPT_MAX_MEMBERS = 7,
};

typedef enum labstep_kind {
    LAB_RUN, LAB_START, LAB_CUT, LAB_HEAL, LAB_KILL, LAB_LOSS, LAB_SLEEP, LAB_WAIT,
    LAB_ETCD, LAB_LEADER, LAB_KILL_LEADER, LAB_CUT_FOLLOWER, LAB_CONSUL, LAB_PARTITION,
    LAB_TIMELINE,
} labstep_kind;

typedef enum labcluster { LAB_ANY_CLUSTER, LAB_ETCD_CLUSTER, LAB_CONSUL_CLUSTER } labcluster;

typedef struct labstep {
    labstep_kind kind;
    int host;                      /* RUN, START, CUT, HEAL (-1: every cut host), KILL, LOSS */
    int number;                    /* LOSS: percent; SLEEP, WAIT, LEADER: milliseconds; ETCD, CONSUL,
                                      PARTITION: hosts */
    int hosts[LABSCRIPT_MAX_MEMBERS]; /* ETCD, CONSUL: the members' hosts; PARTITION: one side */
    labcluster cluster;            /* LEADER, KILL_LEADER, CUT_FOLLOWER: which cluster */
    char text[LABSCRIPT_MAX_LINE]; /* RUN, START: the command; WAIT: "10.77.0.11:50051" */
} labstep;

/* Reads one line of a script for a lab of n_hosts hosts. Returns 1 with *st, 0 for a
 * blank line or a comment, -1 with the reason in err. */
int labscript_parse(const char *line, int n_hosts, labstep *st, char *err, size_t errlen);

#endif
