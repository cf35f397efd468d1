/* cmd_lab.c -- `workbench lab`: hosts in network namespaces, programs on them, faults, by script. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/bindir.h"
#include "base/clock.h"
#include "base/eventlog.h"
#include "base/err.h"
#include "base/i18n.h"
#include "base/numopt.h"
#include "base/tempdir.h"
#include "commands.h"
#include "labcluster.h"
#include "proc/labscript.h"
#include "proc/labtimeline.h"
#include "proc/netlab.h"

enum { MAX_STEPS = 1000, MAX_RUNS = 64, OUT_LINE = 4096, EVENTS_MAX = 64 << 20 };

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void usage(FILE *f)
{
    fputs(_("Usage: workbench lab [--hosts N] [--script FILE] [--run STEP]... [--hold]\n"
            "       [--timeline]\n"
            "Makes a lab of hosts on this machine: network namespaces on a private bridge,\n"
            "the client host at 10.77.0.2 and host1, host2... at 10.77.0.11, .12...; runs\n"
            "the steps in order, each printed with the seconds since the lab began; then\n"
            "removes the lab: its processes, namespaces and links, even if the workbench\n"
            "is killed. Nothing is added to the machine's own network. Needs root\n"
            "(CAP_SYS_ADMIN and CAP_NET_ADMIN) and iproute2.\n\n"
            "  -n, --hosts N      hosts besides the client, 1 to 64 (default 3)\n"
            "  -f, --script FILE  the steps, one a line (-: stdin)\n"
            "  -r, --run STEP     one step; may be repeated; run after the script's\n"
            "  -t, --timeout MS   how long HOST: COMMAND may run (default 10000)\n"
            "      --logs DIR     keep what background programs print in DIR/HOST.log\n"
            "                     (default: a temporary directory, removed at the end)\n"
            "      --hold         after the steps, keep the lab until Ctrl-C\n"
            "      --timeline     at the end, print the whole timeline (see timeline)\n\n"
            "Steps:\n"
            "  HOST: COMMAND        run COMMAND (sh -c) on HOST, print what it prints\n"
            "  HOST: COMMAND &      start COMMAND on HOST in the background\n"
            "  cut HOST, heal HOST  cut HOST off the network (its processes live on),\n"
            "                       or join it again\n"
            "  kill HOST            kill every process on HOST\n"
            "  loss HOST PERCENT    drop PERCENT of the packets on HOST's link (0: none)\n"
            "  sleep MS             wait MS milliseconds\n"
            "  wait HOST:PORT [MS]  wait until the client host can connect (default 5000)\n"
            "  heal                 join every host that is cut, and a partition\n"
            "  etcd HOST...         start an etcd cluster, a member on each HOST (up to\n"
            "                       7); later commands find its registry URL in $ETCD\n"
            "  consul HOST...       start a Consul cluster, a server on each HOST (up to\n"
            "                       7), a client agent on every other host; commands\n"
            "                       find their host's agent in $CONSUL\n"
            "  leader [C] [MS]      wait until a member leads (default 5000), say which\n"
            "  kill-leader [C]      kill the host whose member leads\n"
            "  cut-follower [C]     cut the host of a member that follows the leader\n"
            "                       (C: etcd or consul, when the lab runs both)\n"
            "  partition HOST...    split the lab: the HOSTs reach each other, not the\n"
            "                       rest; heal joins the two sides again\n"
            "  timeline             print the events since the last timeline: what the\n"
            "                       lab and its programs wrote to $WB_LAB_EVENTS; then\n"
            "                       for each fault, the time until traffic left the\n"
            "                       host (detection), the calls that failed, and after\n"
            "                       kill-leader, the time until a leader step saw one\n"
            "HOST is client, host1, host2...; # starts a comment. Commands find the\n"
            "workbench's programs (grpc-server, workbench...) on PATH, and in\n"
            "$WB_LAB_EVENTS, $WB_LAB_T0 and $WB_LAB_HOST the lab's timeline file, its\n"
            "start (monotonic ms) and their host's name.\n\n"
            "Example:\n"),
          f);
    fputs("  workbench lab --hosts 2 \\\n"
          "    --run 'host1: grpc-server --listen 10.77.0.11:50051 &' \\\n"
          "    --run 'wait host1:50051' --run 'cut host1' --run 'client: workbench call \\\n"
          "    --timeout 500 grpc://10.77.0.11:50051 helloworld.Greeter/SayHello {}'\n\n",
          f);
    fputs(_("Exit status: 0 every step was done (what a command returns is printed, not\n"
            "judged); 2 bad usage or script; 3 the lab could not be made, or a step could\n"
            "not be done (a wait that ran out, a loss this machine cannot make).\n"),
          f);
}

typedef struct lab_opts {
    int hosts, timeout;
    bool hold, timeline;
    const char *script, *logs;
    const char *runs[MAX_RUNS];
    int n_runs;
} lab_opts;

static uint64_t started_ms;

/* The time stamp of a step line: seconds since the lab began. */
static void stamp(void) { printf("%7.3f ", (double)(clock_now_ms() - started_ms) / 1000.0); }

/* timeline: the events from since_ms on (all: every one), and what followed each fault.
 * Returns the time to start from the next time, or -1 when the file cannot be read. */
static int64_t print_timeline(int64_t since_ms)
{
    char err[512];
    eventlog_line *ev;
    size_t n;
    if (eventlog_read(labtimeline_path(), 0, EVENTS_MAX, &ev, &n, err, sizeof err) < 0) {
        printf("        %s\n", err);
        return -1;
    }
    size_t from = 0;
    while (from < n && ev[from].ms < since_ms)
        from++;
    if (from == n)
        printf(_("        no event since the last timeline\n"));
    labtimeline_print(stdout, ev, n, from, 8, LABTL_WIDTH);
    int64_t next = n ? ev[n - 1].ms + 1 : since_ms;
    free(ev);
    return next;
}

/* Reads the steps of the script, then the --run ones. Returns the count, or -1. */
static int read_steps(const lab_opts *o, labstep *steps)
{
    int n = 0;
    char err[256], line[LABSCRIPT_MAX_LINE + 2];
    if (o->script) {
        FILE *f = strcmp(o->script, "-") == 0 ? stdin : fopen(o->script, "r");
        if (!f) {
            fprintf(stderr, _("workbench lab: %s: %s\n"), o->script, strerror(errno));
            return -1;
        }
        for (int no = 1; fgets(line, sizeof line, f); no++) {
            int rc = n < MAX_STEPS ? labscript_parse(line, o->hosts, &steps[n], err, sizeof err) : -1;
            if (n == MAX_STEPS)
                snprintf(err, sizeof err, _("a script has at most %d steps"), MAX_STEPS);
            if (rc < 0) {
                fprintf(stderr, _("workbench lab: %s:%d: %s\n"), o->script, no, err);
                if (f != stdin)
                    fclose(f);
                return -1;
            }
            n += rc;
        }
        if (f != stdin)
            fclose(f);
    }
    for (int i = 0; i < o->n_runs && n < MAX_STEPS; i++) {
        int rc = labscript_parse(o->runs[i], o->hosts, &steps[n], err, sizeof err);
        if (rc < 0) {
            fprintf(stderr, _("workbench lab: --run %s: %s\n"), o->runs[i], err);
            return -1;
        }
        n += rc;
    }
    return n;
}

/* Prints what fd holds now, line by line after a margin; part holds an unfinished line. */
static void relay(int fd, char *part, size_t *used, bool flush)
{
    for (;;) {
        ssize_t r = read(fd, part + *used, OUT_LINE - 1 - *used);
        if (r <= 0)
            break;
        *used += (size_t)r;
        char *start = part, *nl;
        while ((nl = memchr(start, '\n', *used - (size_t)(start - part)))) {
            printf("        | %.*s\n", (int)(nl - start), start);
            start = nl + 1;
        }
        *used -= (size_t)(start - part);
        memmove(part, start, *used);
        if (*used == OUT_LINE - 1) {
            printf("        | %.*s\n", (int)*used, part);
            *used = 0;
        }
    }
    if (flush && *used) {
        printf("        | %.*s\n", (int)*used, part);
        *used = 0;
    }
    fflush(stdout);
}

/* HOST: COMMAND: runs it, relays its output, waits at most timeout ms. Returns 0 or -1. */
static int run_step(netlab *lab, const labstep *st, int timeout)
{
    int out[2];
    char err[256];
    if (pipe2(out, O_CLOEXEC | O_NONBLOCK) < 0) {
        printf("        pipe: %s\n", strerror(errno));
        return -1;
    }
    const char *argv[] = {"/bin/sh", "-c", st->text, NULL};
    child c;
    uint64_t t0 = clock_now_ms();
    int rc = netlab_run_fd(lab, st->host, argv, out[1], &c, err, sizeof err);
    close(out[1]);
    if (rc < 0) {
        close(out[0]);
        printf("        %s\n", err);
        return -1;
    }
    char part[OUT_LINE];
    size_t used = 0;
    int status = 0;
    bool done = false;
    while (!done && !interrupted && clock_now_ms() < t0 + (uint64_t)timeout) {
        struct pollfd p = {out[0], POLLIN, 0};
        poll(&p, 1, 50);
        relay(out[0], part, &used, false);
        done = netlab_wait(lab, &c, 0, &status);
    }
    if (!done)
        status = netlab_stop(lab, &c, SIGTERM, 1000);
    relay(out[0], part, &used, true);
    close(out[0]);
    unsigned ms = (unsigned)(clock_now_ms() - t0);
    if (!done)
        printf(_("        stopped after %u ms (--timeout)\n"), ms);
    else if (WIFEXITED(status))
        printf(_("        exit %d (%u ms)\n"), WEXITSTATUS(status), ms);
    else
        printf(_("        killed by signal %d (%u ms)\n"), WTERMSIG(status), ms);
    return 0;
}

/* HOST: COMMAND &: starts it with its output in DIR/HOST.log. */
static int start_step(netlab *lab, const labstep *st, const char *logs)
{
    char log[PATH_MAX + 32], err[256];
    snprintf(log, sizeof log, "%s/%s.log", logs, netlab_name(lab, st->host));
    const char *argv[] = {"/bin/sh", "-c", st->text, NULL};
    child c;
    if (netlab_run(lab, st->host, argv, log, &c, err, sizeof err) < 0) {
        printf("        %s\n", err);
        return -1;
    }
    printf(_("        started; its output goes to %s\n"), log);
    return 0;
}

/* heal with no host: joins every host that is cut, and the sides of a partition. */
static int heal_all(netlab *lab, char *err, size_t errlen)
{
    printf("heal\n");
    labtimeline_mark();
    int healed = 0;
    if (netlab_is_split(lab)) {
        if (netlab_partition(lab, NULL, 0, err, errlen) < 0)
            return -1;
        printf(_("        the partition is gone\n"));
        healed++;
    }
    for (int h = 0; h <= netlab_hosts(lab); h++) {
        if (!netlab_is_cut(lab, h))
            continue;
        if (netlab_heal(lab, h, err, errlen) < 0)
            return -1;
        printf(_("        %s joined again\n"), netlab_name(lab, h));
        healed++;
    }
    if (!healed)
        printf(_("        no host was cut\n"));
    else
        labtimeline_fault("heal all");
    return 0;
}

/* One step; prints it and its outcome. Returns 0, or -1 when it could not be done. */
static int do_step(netlab *lab, const labstep *st, const lab_opts *o, const char *logs)
{
    char err[512];
    const char *name = st->kind <= LAB_LOSS && st->host >= 0 ? netlab_name(lab, st->host) : "";
    const char *how = NULL;
    int rc = 0;
    stamp();
    switch (st->kind) {
    case LAB_RUN:
        printf("%s: %s\n", name, st->text);
        fflush(stdout);
        setenv("WB_LAB_HOST", name, 1);
        return run_step(lab, st, o->timeout);
    case LAB_START:
        printf("%s: %s &\n", name, st->text);
        setenv("WB_LAB_HOST", name, 1);
        return start_step(lab, st, logs);
    case LAB_CUT:
        printf("cut %s\n", name);
        labtimeline_mark();
        if ((rc = netlab_cut(lab, st->host, err, sizeof err)) == 0)
            labtimeline_fault("cut %s", name);
        break;
    case LAB_HEAL:
        if (st->host < 0) {
            rc = heal_all(lab, err, sizeof err);
            break;
        }
        printf("heal %s\n", name);
        labtimeline_mark();
        if ((rc = netlab_heal(lab, st->host, err, sizeof err)) == 0)
            labtimeline_fault("heal %s", name);
        break;
    case LAB_KILL:
        printf("kill %s\n", name);
        labtimeline_mark();
        rc = netlab_kill_host(lab, st->host, err, sizeof err);
        if (rc >= 0) {
            labtimeline_fault("kill %s (%d processes)", name, rc);
            printf(_("        %d processes killed\n"), rc);
        }
        break;
    case LAB_LOSS:
        printf("loss %s %d%%\n", name, st->number);
        labtimeline_mark();
        if ((rc = netlab_loss(lab, st->host, st->number, &how, err, sizeof err)) == 0) {
            labtimeline_fault("loss %s %d%% (%s)", name, st->number, how);
            printf(_("        done with %s\n"), how);
        }
        break;
    case LAB_SLEEP:
        printf("sleep %d\n", st->number);
        fflush(stdout);
        for (uint64_t end = clock_now_ms() + (uint64_t)st->number; !interrupted && clock_now_ms() < end;)
            clock_sleep_ms(end - clock_now_ms() < 50 ? end - clock_now_ms() : 50);
        break;
    case LAB_WAIT: {
        printf("wait %s\n", st->text);
        fflush(stdout);
        char addr[64];
        snprintf(addr, sizeof addr, "%s", st->text);
        char *colon = strrchr(addr, ':');
        *colon = '\0';
        uint64_t t0 = clock_now_ms();
        rc = netlab_connect(lab, NETLAB_CLIENT, addr, atoi(colon + 1), st->number, err, sizeof err);
        if (rc == 0)
            printf(_("        connected after %u ms\n"), (unsigned)(clock_now_ms() - t0));
        break;
    }
    case LAB_ETCD:
    case LAB_CONSUL:
    case LAB_PARTITION:
    case LAB_LEADER:
    case LAB_KILL_LEADER:
    case LAB_CUT_FOLLOWER: rc = labcluster_step(lab, st, logs, err, sizeof err); break;
    case LAB_TIMELINE: {
        static int64_t since;
        printf("timeline\n");
        int64_t next = print_timeline(since);
        since = next < 0 ? since : next;
        return next < 0 ? -1 : 0;
    }
    }
    if (rc < 0)
        printf("        %s\n", err);
    fflush(stdout);
    return rc < 0 ? -1 : 0;
}

/* Removes the log directories of earlier runs that crashed: wb-lab.* under $TMPDIR whose
 * pid file names a process that is gone. */
static void sweep_stale_logs(void)
{
    const char *tmp = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    DIR *d = opendir(tmp);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "wb-lab.", 7) != 0)
            continue;
        char dir[PATH_MAX], pidfile[PATH_MAX + 8];
        snprintf(dir, sizeof dir, "%s/%s", tmp, e->d_name);
        snprintf(pidfile, sizeof pidfile, "%s/pid", dir);
        struct stat sb;
        FILE *f = fopen(pidfile, "r");
        int pid = 0;
        if (f && fscanf(f, "%d", &pid) == 1 && pid > 0 && kill(pid, 0) < 0 && errno == ESRCH &&
            stat(dir, &sb) == 0 && sb.st_uid == geteuid())
            tempdir_remove(dir);
        if (f)
            fclose(f);
    }
    closedir(d);
}

/* The directory for background programs' output: --logs, or a temporary one (*temp). */
static int log_dir(const lab_opts *o, char *dir, size_t n, bool *temp)
{
    *temp = !o->logs;
    if (o->logs) {
        snprintf(dir, n, "%s", o->logs);
        if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
            fprintf(stderr, _("workbench lab: --logs %s: %s\n"), dir, strerror(errno));
            return -1;
        }
        return 0;
    }
    sweep_stale_logs();
    if (tempdir_make(dir, n, "wb-lab") < 0) {
        fprintf(stderr, _("workbench lab: cannot make a temporary directory: %s\n"), strerror(errno));
        return -1;
    }
    char pidfile[PATH_MAX + 8];
    snprintf(pidfile, sizeof pidfile, "%s/pid", dir);
    FILE *f = fopen(pidfile, "w");
    if (f) {
        fprintf(f, "%d\n", (int)getpid());
        fclose(f);
    }
    return 0;
}

/* Makes the lab's timeline file, DIR/events, and tells the commands where it is and
 * when the lab began. Returns 0, or -1 after saying why. */
static int open_events(const char *logs)
{
    char path[PATH_MAX + 8], t0[32], err[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/events", logs);
    if (labtimeline_open(path, started_ms, err, sizeof err) < 0) {
        fprintf(stderr, _("workbench lab: cannot make the timeline file: %s\n"), err);
        return -1;
    }
    snprintf(t0, sizeof t0, "%llu", (unsigned long long)started_ms);
    setenv("WB_LAB_EVENTS", path, 1);
    setenv("WB_LAB_T0", t0, 1);
    setenv("WB_LAB_HOST", "client", 1);
    return 0;
}

/* Puts the workbench's own directory first on PATH, for the commands on the hosts. */
static void path_first_bindir(void)
{
    char dir[PATH_MAX], path[PATH_MAX * 4];
    if (bindir_get(dir, sizeof dir) < 0)
        return;
    const char *old = getenv("PATH");
    snprintf(path, sizeof path, "%s:%s", dir, old ? old : "/usr/sbin:/usr/bin:/sbin:/bin");
    setenv("PATH", path, 1);
}

/* Parses argv into *o. Returns -1 to go on, or the exit code. */
static int parse_options(int argc, char **argv, lab_opts *o)
{
    static const struct option opts[] = {
        {"hosts", required_argument, NULL, 'n'}, {"script", required_argument, NULL, 'f'},
        {"run", required_argument, NULL, 'r'},   {"timeout", required_argument, NULL, 't'},
        {"logs", required_argument, NULL, 'L'},  {"hold", no_argument, NULL, 'H'},
        {"timeline", no_argument, NULL, 'T'},    {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    *o = (lab_opts){.hosts = 3, .timeout = 10000};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "n:f:r:t:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'n':
            if (numopt_int(optarg, 1, NETLAB_MAX_HOSTS, &o->hosts) < 0) {
                fprintf(stderr, _("workbench lab: --hosts wants 1 to %d\n"), NETLAB_MAX_HOSTS);
                return EXIT_USAGE;
            }
            break;
        case 'f': o->script = optarg; break;
        case 'r':
            if (o->n_runs == MAX_RUNS) {
                fprintf(stderr, _("workbench lab: at most %d --run steps (use --script)\n"), MAX_RUNS);
                return EXIT_USAGE;
            }
            o->runs[o->n_runs++] = optarg;
            break;
        case 't':
            if (numopt_int(optarg, 1, 3600000, &o->timeout) < 0) {
                fputs(_("workbench lab: --timeout wants a positive number of milliseconds\n"), stderr);
                return EXIT_USAGE;
            }
            break;
        case 'L': o->logs = optarg; break;
        case 'H': o->hold = true; break;
        case 'T': o->timeline = true; break;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, _("workbench lab: unexpected \"%s\" (a step goes after --run)\n\n"), argv[optind]);
        usage(stderr);
        return EXIT_USAGE;
    }
    return -1;
}

static void print_plan(const netlab *lab)
{
    stamp();
    printf(_("a lab of %d hosts on 10.77.0.0/24 (enter one: nsenter -t PID -n -p -m)\n"), netlab_hosts(lab));
    for (int i = 0; i <= netlab_hosts(lab); i++)
        printf("        %-8s %-12s pid %d\n", netlab_name(lab, i), netlab_addr(lab, i), (int)netlab_holder(lab, i));
    fflush(stdout);
}

int cmd_lab(int argc, char **argv)
{
    lab_opts o;
    int rc = parse_options(argc, argv, &o);
    if (rc >= 0)
        return rc;
    static labstep steps[MAX_STEPS];
    int n = read_steps(&o, steps);
    if (n < 0)
        return EXIT_USAGE;
    char logs[PATH_MAX], err[512];
    bool temp;
    if (log_dir(&o, logs, sizeof logs, &temp) < 0)
        return EXIT_FAILED;
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    path_first_bindir();
    started_ms = clock_now_ms();
    netlab *lab = NULL;
    if (open_events(logs) == 0 && !(lab = netlab_new(o.hosts, err, sizeof err)))
        fprintf(stderr, _("workbench lab: %s\n"), err);
    if (!lab) {
        if (temp)
            tempdir_remove(logs);
        return EXIT_FAILED;
    }
    print_plan(lab);
    bool failed = false;
    for (int i = 0; i < n && !interrupted; i++)
        failed |= do_step(lab, &steps[i], &o, logs) < 0;
    if (o.hold && !interrupted) {
        stamp();
        printf(_("holding the lab until Ctrl-C\n"));
        fflush(stdout);
        while (!interrupted)
            clock_sleep_ms(100);
    }
    if (o.timeline) {
        stamp();
        printf(_("the whole timeline\n"));
        failed |= print_timeline(0) < 0;
    }
    labcluster_stop_all();
    netlab_free(lab);
    stamp();
    printf(_("lab removed\n"));
    if (temp)
        tempdir_remove(logs);
    return failed ? EXIT_FAILED : EXIT_OK;
}
