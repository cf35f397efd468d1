/* test_labtimeline.c -- unit tests for what the lab's timeline says after each fault
 * (detection time, failed calls, a new leader), over hand-made events, and for how an
 * event is printed in 80 columns. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "proc/labtimeline.h"

static eventlog_line ev[64];
static size_t n;

static void add(int64_t ms, const char *host, const char *who, const char *text)
{
    cr_assert_lt(n, sizeof ev / sizeof *ev);
    ev[n].ms = ms;
    snprintf(ev[n].host, sizeof ev[n].host, "%s", host);
    snprintf(ev[n].who, sizeof ev[n].who, "%s", who);
    snprintf(ev[n].text, sizeof ev[n].text, "%s", text);
    n++;
}

static void setup(void) { n = 0; }

/* Two servers on host1 and host2 under load from the client, host1 cut, the etcd leader
 * killed later. */
static void cut_then_kill_leader(void)
{
    add(100, "host1", "keepalive", "registered hello 10.77.0.11:50051 via 10.77.0.13:2379");
    add(120, "host2", "keepalive", "registered hello 10.77.0.12:50051 via 10.77.0.13:2379");
    add(300, "client", "registry", "added 10.77.0.11:50051");
    add(300, "client", "registry", "added 10.77.0.12:50051");
    add(400, "client", "load", "start hello at 100/s");
    add(5000, "lab", "fault", "cut host1");
    add(5900, "client", "calls", "failed 2 calls (10.77.0.11:50051: timed out after 1000 ms)");
    add(6010, "client", "balancer", "ejected 10.77.0.11:50051 for 250 ms: timed out after 1000 ms");
    add(6100, "client", "calls", "failed 3 calls (10.77.0.11:50051: timed out after 1000 ms)");
    add(7500, "client", "registry", "dropped 10.77.0.11:50051");
    add(9000, "lab", "fault", "heal host1");
    add(9500, "client", "registry", "added 10.77.0.11:50051");
    add(12000, "lab", "fault", "kill-leader etcd host3");
    add(12500, "host2", "keepalive", "refreshed via 10.77.0.14:2379 (10.77.0.13:2379 did not answer)");
    add(13100, "lab", "fault", "leader etcd host4 (term 3)");
    add(14000, "client", "calls", "failed 1 calls (10.77.0.12:50051: connection refused)");
}

TestSuite(faults, .init = setup);

Test(faults, detection_is_the_first_ejection_on_the_cut_host)
{
    cut_then_kill_leader();
    labtl_fault f[4];
    size_t k = labtimeline_faults(ev, n, 0, f, 4);
    cr_assert_eq(k, 2, "heal and leader are not faults: %zu", k);
    cr_assert_eq(f[0].at, 5);
    cr_assert_str_eq(f[0].hosts[0], "host1");
    cr_assert_eq(f[0].n_hosts, 1);
    cr_assert_eq(f[0].outcome, LABTL_MOVED);
    cr_assert_eq(f[0].detect_ms, 1010);
    cr_assert_eq(f[0].detect_at, 7);
    cr_assert_eq(f[0].failed, 5, "the calls failed up to the next fault: %lld", f[0].failed);
    cr_assert_eq(f[0].end, 12, "the window ends at kill-leader");
    cr_assert_str_eq(f[0].cluster, "");
}

Test(faults, a_killed_leader_without_an_instance_and_the_new_leader)
{
    cut_then_kill_leader();
    labtl_fault f[4];
    labtimeline_faults(ev, n, 0, f, 4);
    cr_assert_str_eq(f[1].hosts[0], "host3");
    cr_assert_str_eq(f[1].cluster, "etcd");
    cr_assert_eq(f[1].outcome, LABTL_NO_INSTANCE, "no server ran on host3");
    cr_assert_eq(f[1].leader_ms, 1100);
    cr_assert_eq(f[1].leader_at, 14);
    cr_assert_eq(f[1].failed, 1);
    cr_assert_eq(f[1].end, n);
}

Test(faults, from_leaves_out_the_earlier_faults_but_knows_the_instances)
{
    cut_then_kill_leader();
    labtl_fault f[4];
    cr_assert_eq(labtimeline_faults(ev, n, 6, f, 4), 1);
    cr_assert_eq(f[0].at, 12);
    cr_assert_eq(labtimeline_faults(ev, n, 0, f, 1), 1, "at most cap");
}

Test(faults, traffic_never_moved_and_no_leader_seen)
{
    add(100, "client", "registry", "added 10.77.0.12:50051");
    add(1000, "lab", "fault", "kill host2 (3 processes)");
    add(1500, "client", "calls", "failed 4 calls (10.77.0.12:50051: connection refused)");
    add(1600, "client", "balancer", "ejected 10.77.0.11:50051 for 250 ms: timed out");
    add(2000, "lab", "fault", "kill-leader consul host1");
    labtl_fault f[4];
    cr_assert_eq(labtimeline_faults(ev, n, 0, f, 4), 2);
    cr_assert_eq(f[0].outcome, LABTL_NEVER_MOVED, "an ejection on another host is no detection");
    cr_assert_eq(f[0].failed, 4);
    cr_assert_eq(f[1].outcome, LABTL_NEVER_MOVED, "host1's ejection came before the fault");
    cr_assert_eq(f[1].leader_ms, -1, "no leader line followed");
}

Test(faults, the_shapes_of_the_other_faults)
{
    add(0, "client", "registry", "added host2:8080");
    add(10, "lab", "fault", "partition host1 | client host2 host3");
    add(20, "lab", "fault", "partition client host1 | host2 host3");
    add(30, "lab", "fault", "loss host2 30% (nftables)");
    add(40, "lab", "fault", "loss host2 0% (nftables)");
    add(50, "lab", "fault", "cut-follower consul host3");
    add(60, "lab", "fault", "heal all");
    add(70, "client", "registry", "dropped host2:8080");
    labtl_fault f[8];
    cr_assert_eq(labtimeline_faults(ev, n, 0, f, 8), 4, "loss 0%% and heal are not faults");
    cr_assert_eq(f[0].n_hosts, 1);
    cr_assert_str_eq(f[0].hosts[0], "host1", "the side without the client");
    cr_assert_eq(f[1].n_hosts, 2);
    cr_assert_str_eq(f[1].hosts[0], "host2");
    cr_assert_str_eq(f[1].hosts[1], "host3");
    cr_assert_eq(f[1].outcome, LABTL_NEVER_MOVED, "the drop comes after the next fault");
    cr_assert_str_eq(f[2].hosts[0], "host2");
    cr_assert_eq(f[2].end, 5, "loss 0%% is no fault: the window runs on");
    cr_assert_str_eq(f[3].hosts[0], "host3");
    cr_assert_str_eq(f[3].cluster, "", "cut-follower is no leader fault");
    cr_assert_eq(f[3].outcome, LABTL_NO_INSTANCE);
}

TestSuite(format, .init = setup);

Test(format, one_line_and_a_wrapped_one)
{
    char out[2048];
    add(12345, "host1", "keepalive", "refreshed via 10.77.0.12:2379 (10.77.0.11:2379 did not answer)");
    cr_assert_str_eq(labtimeline_format(&ev[0], 80, out, sizeof out),
                     " +12.345 s  host1   keepalive refreshed via 10.77.0.12:2379 (10.77.0.11:2379 did\n"
                     "                    not answer)");
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"))
        cr_assert_leq(strlen(line), 80, "%s", line);
    add(5, "lab", "fault", "cut host1");
    cr_assert_str_eq(labtimeline_format(&ev[1], 80, out, sizeof out), "  +0.005 s  lab     fault cut host1");
}

Test(format, a_long_text_is_cut_and_bytes_escaped)
{
    char text[EVENTLOG_LINE], out[2048];
    memset(text, 'x', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    text[3] = '\x1b';
    add(1, "client", "calls", text);
    labtimeline_format(&ev[0], 40, out, sizeof out);
    cr_assert(strstr(out, "xxx\\x1bxxx"), "%s", out);
    cr_assert(!strchr(out, '\x1b'));
    cr_assert_str_eq(out + strlen(out) - 3, "...");
    int lines = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"), lines++)
        cr_assert_leq(strlen(line), 40, "%s", line);
    cr_assert_eq(lines, 4);
}
