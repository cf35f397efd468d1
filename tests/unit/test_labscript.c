/* test_labscript.c -- unit tests for the lab's address plan, its host names and the
 * steps of a lab script (each refusal says why). */
#include <criterion/criterion.h>
#include <string.h>

#include "proc/labscript.h"
#include "proc/netlab.h"

static char err[512];
static labstep st;

static int parse(const char *line, int n_hosts)
{
    err[0] = 0;
    return labscript_parse(line, n_hosts, &st, err, sizeof err);
}

static void refused(const char *line, int n_hosts, const char *why)
{
    cr_assert_eq(parse(line, n_hosts), -1, "\"%s\" was taken", line);
    cr_assert(strstr(err, why), "want \"%s\" in: %s", why, err);
}

Test(plan, addresses_client_first_then_host_k_at_10_plus_k)
{
    char a[16];
    cr_assert_str_eq(netlab_plan_addr(NETLAB_CLIENT, a, sizeof a), "10.77.0.2");
    cr_assert_str_eq(netlab_plan_addr(1, a, sizeof a), "10.77.0.11");
    cr_assert_str_eq(netlab_plan_addr(3, a, sizeof a), "10.77.0.13");
    cr_assert_str_eq(netlab_plan_addr(NETLAB_MAX_HOSTS, a, sizeof a), "10.77.0.74");
    cr_assert_null(netlab_plan_addr(NETLAB_MAX_HOSTS + 1, a, sizeof a));
    cr_assert_null(netlab_plan_addr(-1, a, sizeof a));
}

Test(plan, host_names)
{
    cr_assert_eq(netlab_plan_find("client", 3), NETLAB_CLIENT);
    cr_assert_eq(netlab_plan_find("host1", 3), 1);
    cr_assert_eq(netlab_plan_find("host3", 3), 3);
    const char *no[] = {"host4", "host0", "host01", "host", "host1x", "Host1", "", "switch", "host-1"};
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        cr_assert_eq(netlab_plan_find(no[i], 3), -1, "%s", no[i]);
}

Test(script, programs_in_the_foreground_and_the_background)
{
    cr_assert_eq(parse("host1: grpc-server --listen 10.77.0.11:50051 &", 3), 1, "%s", err);
    cr_assert_eq(st.kind, LAB_START);
    cr_assert_eq(st.host, 1);
    cr_assert_str_eq(st.text, "grpc-server --listen 10.77.0.11:50051");
    cr_assert_eq(parse("  client:   workbench call grpc://10.77.0.11:50051 x '{\"a\":1}'  ", 3), 1, "%s", err);
    cr_assert_eq(st.kind, LAB_RUN);
    cr_assert_eq(st.host, NETLAB_CLIENT);
    cr_assert_str_eq(st.text, "workbench call grpc://10.77.0.11:50051 x '{\"a\":1}'");
    cr_assert_eq(parse("host2: true && echo ok", 3), 1, "%s", err);
    cr_assert_eq(st.kind, LAB_RUN, "&& is not a background");
    cr_assert_str_eq(st.text, "true && echo ok");
    cr_assert_eq(parse("host2: a & b &", 3), 1, "%s", err);
    cr_assert_eq(st.kind, LAB_START);
    cr_assert_str_eq(st.text, "a & b");
}

Test(script, faults_sleeps_and_waits)
{
    cr_assert_eq(parse("cut host2", 3), 1, "%s", err);
    cr_assert(st.kind == LAB_CUT && st.host == 2);
    cr_assert_eq(parse("heal host2", 3), 1, "%s", err);
    cr_assert(st.kind == LAB_HEAL && st.host == 2);
    cr_assert_eq(parse("kill client", 3), 1, "%s", err);
    cr_assert(st.kind == LAB_KILL && st.host == NETLAB_CLIENT);
    cr_assert_eq(parse("loss host1 30%", 3), 1, "%s", err);
    cr_assert(st.kind == LAB_LOSS && st.host == 1 && st.number == 30);
    cr_assert_eq(parse("loss host1 0", 3), 1, "%s", err);
    cr_assert_eq(st.number, 0);
    cr_assert_eq(parse("sleep 250", 3), 1, "%s", err);
    cr_assert(st.kind == LAB_SLEEP && st.number == 250);
    cr_assert_eq(parse("wait host3:2379", 3), 1, "%s", err);
    cr_assert(st.kind == LAB_WAIT && st.number == LABSCRIPT_WAIT_MS);
    cr_assert_str_eq(st.text, "10.77.0.13:2379");
    cr_assert_eq(parse("wait 10.77.0.11:50051 800", 3), 1, "%s", err);
    cr_assert_str_eq(st.text, "10.77.0.11:50051");
    cr_assert_eq(st.number, 800);
}

Test(script, blank_lines_and_comments_are_no_steps)
{
    cr_assert_eq(parse("", 3), 0);
    cr_assert_eq(parse("   \t\n", 3), 0);
    cr_assert_eq(parse("# cut host1", 3), 0);
}

Test(script, each_refusal_says_why)
{
    refused("host4: true", 3, "no host \"host4\" in this lab");
    refused("cut host9", 3, "its hosts are client and host1 to host3");
    refused("host1:", 3, "wants a command after the colon");
    refused("host1:   &", 3, "wants a command after the colon");
    refused("loss host1 101", 3, "PERCENT from 0 to 100");
    refused("loss host1 x", 3, "PERCENT from 0 to 100");
    refused("sleep -1", 3, "sleep wants milliseconds");
    refused("sleep 600001", 3, "sleep wants milliseconds");
    refused("wait host1", 3, "wait wants HOST:PORT");
    refused("wait host1:0", 3, "wait wants HOST:PORT");
    refused("wait host1:80 0", 3, "wait's MS");
    refused("wiggle host1", 3, "a step is HOST: COMMAND");
    refused("cut", 3, "a step is HOST: COMMAND");
    refused("cut host1 host2", 3, "a step is HOST: COMMAND");
    char longer[LABSCRIPT_MAX_LINE + 16] = "host1: ";
    memset(longer + 7, 'x', LABSCRIPT_MAX_LINE);
    longer[7 + LABSCRIPT_MAX_LINE] = '\0';
    refused(longer, 3, "a command is at most");
}

Test(script, etcd_cluster_steps)
{
    cr_assert_eq(parse("etcd host1 host2 host3", 5), 1, "%s", err);
    cr_assert_eq(st.kind, LAB_ETCD);
    cr_assert_eq(st.number, 3);
    cr_assert_eq(st.hosts[0], 1);
    cr_assert_eq(st.hosts[2], 3);
    cr_assert_eq(parse("leader", 3), 1, "%s", err);
    cr_assert_eq(st.kind, LAB_LEADER);
    cr_assert_eq(st.number, LABSCRIPT_WAIT_MS);
    cr_assert_eq(parse("leader 8000", 3), 1, "%s", err);
    cr_assert_eq(st.number, 8000);
    cr_assert_eq(parse("kill-leader", 3), 1, "%s", err);
    cr_assert_eq(st.kind, LAB_KILL_LEADER);
    cr_assert_eq(parse("cut-follower", 3), 1, "%s", err);
    cr_assert_eq(st.kind, LAB_CUT_FOLLOWER);
    cr_assert_eq(parse("heal", 3), 1, "%s", err);
    cr_assert_eq(st.kind, LAB_HEAL);
    cr_assert_eq(st.host, -1);
    refused("etcd host1 host1", 3, "named twice");
    refused("etcd host1 host9", 3, "no host \"host9\"");
    refused("etcd h1 h2 h3 h4 h5 h6 h7 h8", 9, "etcd: at most 7 hosts");
    refused("etcd", 3, "etcd HOST...");
    refused("kill-leader now", 3, "kill-leader");
    refused("leader soon", 3, "leader's MS");
}

Test(script, consul_and_partition_steps)
{
    cr_assert_eq(parse("consul host1 host2 host3", 4), 1, "%s", err);
    cr_assert_eq(st.kind, LAB_CONSUL);
    cr_assert_eq(st.number, 3);
    cr_assert_eq(st.hosts[1], 2);
    cr_assert_eq(parse("leader", 3), 1, "%s", err);
    cr_assert_eq(st.cluster, LAB_ANY_CLUSTER);
    cr_assert_eq(parse("leader consul 9000", 3), 1, "%s", err);
    cr_assert_eq(st.kind, LAB_LEADER);
    cr_assert_eq(st.cluster, LAB_CONSUL_CLUSTER);
    cr_assert_eq(st.number, 9000);
    cr_assert_eq(parse("kill-leader etcd", 3), 1, "%s", err);
    cr_assert_eq(st.kind, LAB_KILL_LEADER);
    cr_assert_eq(st.cluster, LAB_ETCD_CLUSTER);
    cr_assert_eq(parse("cut-follower consul", 3), 1, "%s", err);
    cr_assert_eq(st.cluster, LAB_CONSUL_CLUSTER);
    cr_assert_eq(parse("partition host1 client", 3), 1, "%s", err);
    cr_assert_eq(st.kind, LAB_PARTITION);
    cr_assert_eq(st.number, 2);
    cr_assert_eq(st.hosts[1], NETLAB_CLIENT);
    refused("partition host1 host1", 3, "partition: host1 is named twice");
    refused("consul host1 host9", 3, "no host \"host9\"");
    refused("kill-leader zookeeper", 3, "etcd or consul");
    refused("cut-follower consul 100", 3, "unexpected \"100\"");
    refused("partition", 3, "partition HOST...");
}

Test(script, timeline_step)
{
    cr_assert_eq(parse("timeline", 3), 1, "%s", err);
    cr_assert_eq(st.kind, LAB_TIMELINE);
    cr_assert_eq(parse("  timeline  ", 3), 1, "%s", err);
    cr_assert_eq(st.kind, LAB_TIMELINE);
    refused("timeline host1", 3, "or timeline");
}
