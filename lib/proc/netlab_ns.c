/* netlab_ns.c -- the lab's namespaces: the processes that hold them, and commands run inside. */
#include "proc/netlab_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/i18n.h"

enum { HOLD_STACK = 64 * 1024, HOLD_READY_MS = 3000 };

typedef struct hold_arg {
    int ready_w, go_r; /* the child's ends of the two handshake pipes */
    int ready_r, go_w; /* the parent's, closed in the child */
    char comm[16];     /* its name in ps: "lab-host1" */
    bool own_proc;     /* in a PID and mount namespace of its own: mount its /proc */
} hold_arg;

static void on_chld(int sig) { (void)sig; }

/* The holder: dies with the workbench, says it is ready, waits for the go (EOF: the
 * workbench died before prctl took effect), then reaps orphans until killed. Only
 * async-signal-safe calls: the workbench may have threads. */
static int holder_main(void *p)
{
    hold_arg *a = p;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    prctl(PR_SET_NAME, a->comm);
    if (a->own_proc && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0)
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL); /* else the machine's */
    close(a->ready_r);
    close(a->go_w);
    if (write(a->ready_w, "r", 1) != 1)
        _exit(1);
    char c;
    if (read(a->go_r, &c, 1) != 1)
        _exit(1);
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
        dup2(devnull, 0);
        dup2(devnull, 1);
        dup2(devnull, 2);
    }
    for (int fd = 3; fd < 1024; fd++)
        close(fd);
    struct sigaction sa = {.sa_handler = on_chld};
    sigaction(SIGCHLD, &sa, NULL);
    sigset_t chld, none;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &chld, NULL);
    for (;;) {
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        sigsuspend(&none);
    }
}

static int open_ns(pid_t pid, const char *kind)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)pid, kind);
    return open(path, O_RDONLY | O_CLOEXEC);
}

/* The reason clone failed with errno e, with what the lab needs. */
static void need(int e, char *err, size_t errlen)
{
    err_set(err, errlen,
            _("cannot create a network namespace (%s): the lab needs root, or the capabilities "
              "CAP_SYS_ADMIN and CAP_NET_ADMIN with namespaces allowed (a container must be run "
              "privileged, or with those capabilities and a seccomp profile that allows unshare)"),
            strerror(e));
}

/* Waits at most HOLD_READY_MS for the holder's ready byte. */
static bool holder_ready(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    char c;
    return poll(&p, 1, HOLD_READY_MS) == 1 && read(fd, &c, 1) == 1;
}

int netlab_ns_hold(netlab_host *h, bool pidns, char *err, size_t errlen)
{
    h->holder = 0;
    h->netfd = h->pidfd = h->mntfd = -1;
    int ready[2], go[2];
    if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0) {
        err_set(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    hold_arg a = {ready[1], go[0], ready[0], go[1], "", pidns};
    snprintf(a.comm, sizeof a.comm, "lab-%.11s", h->name);
    char *stack = malloc(HOLD_STACK);
    pid_t pid = -1;
    int e = ENOMEM;
    if (stack) {
        pid = clone(holder_main, stack + HOLD_STACK,
                    CLONE_NEWNET | (pidns ? CLONE_NEWPID | CLONE_NEWNS : 0) | SIGCHLD, &a);
        e = errno;
    }
    free(stack); /* the child has its own copy */
    close(ready[1]);
    close(go[0]);
    if (pid < 0) {
        close(ready[0]);
        close(go[1]);
        need(e, err, errlen);
        return -1;
    }
    h->holder = pid;
    bool ok = holder_ready(ready[0]);
    if (ok) {
        h->netfd = open_ns(pid, "net");
        h->pidfd = pidns ? open_ns(pid, "pid") : -1;
        h->mntfd = pidns ? open_ns(pid, "mnt") : -1;
        ok = h->netfd >= 0 && (!pidns || (h->pidfd >= 0 && h->mntfd >= 0)) && write(go[1], "g", 1) == 1;
    }
    close(ready[0]);
    close(go[1]);
    if (!ok) {
        err_set(err, errlen, "the process holding a namespace did not start");
        netlab_ns_release(h);
        return -1;
    }
    return 0;
}

void netlab_ns_release(netlab_host *h)
{
    if (h->holder > 0) {
        kill(h->holder, SIGKILL);
        uint64_t deadline = clock_now_ms() + 5000;
        while (waitpid(h->holder, NULL, WNOHANG) == 0 && clock_now_ms() < deadline)
            clock_sleep_ms(2);
        h->holder = 0;
    }
    if (h->netfd >= 0)
        close(h->netfd);
    if (h->pidfd >= 0)
        close(h->pidfd);
    if (h->mntfd >= 0)
        close(h->mntfd);
    h->netfd = h->pidfd = h->mntfd = -1;
}

/* In the child: dies with the parent, enters the namespace, stdin from in_fd, output to
 * out_fd, then argv. */
static _Noreturn void exec_in(pid_t parent, int netfd, int in_fd, int out_fd, const char *const *argv)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent || setns(netfd, CLONE_NEWNET) < 0)
        _exit(127);
    dup2(in_fd, 0);
    dup2(out_fd, 1);
    dup2(out_fd, 2);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execvp(argv[0], (char *const *)argv);
    _exit(127);
}

/* Reads the child's output (at most n-1 bytes kept) until it ends or the deadline. */
static void read_output(int fd, char *out, size_t n, uint64_t deadline)
{
    size_t got = 0;
    char scratch[512];
    for (;;) {
        uint64_t now = clock_now_ms();
        struct pollfd p = {fd, POLLIN, 0};
        if (now >= deadline || poll(&p, 1, (int)(deadline - now)) <= 0)
            break;
        ssize_t r = read(fd, scratch, sizeof scratch);
        if (r <= 0)
            break;
        size_t take = (size_t)r < n - 1 - got ? (size_t)r : n - 1 - got;
        memcpy(out + got, scratch, take);
        got += take;
    }
    out[got] = '\0';
    while (got && (out[got - 1] == '\n' || out[got - 1] == ' '))
        out[--got] = '\0';
    for (char *c = out; *c; c++)
        if (*c == '\n')
            *c = ' ';
}

/* Waits for pid until the deadline, then kills it; returns the wait status or -1. */
static int reap_by(pid_t pid, uint64_t deadline)
{
    int status;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return status;
        if (r < 0 && errno != EINTR)
            return -1;
        if (clock_now_ms() >= deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        clock_sleep_ms(1);
    }
}

int netlab_ns_exec(const netlab_host *h, const char *const *argv, const char *input, char *err,
                   size_t errlen)
{
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) < 0)
        return err_set(err, errlen, "pipe: %s", strerror(errno)), -1;
    if (pipe2(out, O_CLOEXEC) < 0) {
        close(in[0]);
        close(in[1]);
        return err_set(err, errlen, "pipe: %s", strerror(errno)), -1;
    }
    /* the input (ip -batch, nft -f: a few KiB) goes into the pipe before the command
     * starts, so a command that ends without reading it cannot raise SIGPIPE here */
    size_t len = input ? strlen(input) : 0;
    bool fed = len < 60000 && (len == 0 || write(in[1], input, len) == (ssize_t)len);
    close(in[1]);
    if (!fed) {
        close(in[0]);
        close(out[0]);
        close(out[1]);
        return err_set(err, errlen, "%s: its input could not be written", argv[0]), -1;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0)
        exec_in(parent, h->netfd, in[0], out[1], argv);
    close(in[0]);
    close(out[1]);
    if (pid < 0) {
        close(out[0]);
        return err_set(err, errlen, "fork: %s", strerror(errno)), -1;
    }
    uint64_t deadline = clock_now_ms() + NETLAB_CMD_MS;
    char said[400];
    read_output(out[0], said, sizeof said, deadline);
    close(out[0]);
    int status = reap_by(pid, deadline);
    int rc = status < 0 ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (rc != 0) {
        char cmd[160] = "";
        for (size_t i = 0, used = 0; argv[i] && used < sizeof cmd - 1; i++)
            used += (size_t)snprintf(cmd + used, sizeof cmd - used, "%s%s", i ? " " : "", argv[i]);
        if (status < 0)
            err_set(err, errlen, "%s (in %s): did not finish within %d ms", cmd, h->name, NETLAB_CMD_MS);
        else if (rc == 127 && !said[0])
            err_set(err, errlen, "%s (in %s): could not be run", cmd, h->name);
        else
            err_set(err, errlen, "%s (in %s): %s", cmd, h->name, said[0] ? said : "failed");
    }
    return rc;
}

/* The child of netlab_call: enters the namespace, runs fn, exits with its status. */
static _Noreturn void call_in(pid_t parent, int netfd, int fd, netlab_fn fn, void *ctx)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent || setns(netfd, CLONE_NEWNET) < 0)
        _exit(127);
    int rc = fn(ctx, fd);
    close(fd);
    _exit(rc < 0 || rc > 127 ? 127 : rc);
}

int netlab_call(netlab *lab, int host, netlab_fn fn, void *ctx, char *out, size_t cap, int timeout_ms,
                char *err, size_t errlen)
{
    if (!netlab_valid(lab, host) || cap == 0)
        return err_set(err, errlen, "no host %d in this lab", host), -1;
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return err_set(err, errlen, "pipe: %s", strerror(errno)), -1;
    fflush(NULL); /* the child leaves by _exit, but stdio must not be copied half-written */
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        call_in(parent, lab->host[host].netfd, p[1], fn, ctx);
    }
    close(p[1]);
    if (pid < 0) {
        close(p[0]);
        return err_set(err, errlen, "fork: %s", strerror(errno)), -1;
    }
    uint64_t deadline = clock_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    size_t got = 0;
    for (;;) {
        uint64_t now = clock_now_ms();
        struct pollfd pf = {p[0], POLLIN, 0};
        if (now >= deadline || poll(&pf, 1, (int)(deadline - now)) <= 0)
            break;
        char scratch[512];
        ssize_t r = read(p[0], scratch, sizeof scratch);
        if (r <= 0)
            break;
        size_t take = (size_t)r < cap - 1 - got ? (size_t)r : cap - 1 - got;
        memcpy(out + got, scratch, take);
        got += take;
    }
    out[got] = '\0';
    close(p[0]);
    int status = reap_by(pid, deadline);
    if (status < 0)
        return err_set(err, errlen, "a request from %s did not finish within %d ms", lab->host[host].name,
                       timeout_ms), -1;
    if (!WIFEXITED(status))
        return err_set(err, errlen, "a request from %s was killed by signal %d", lab->host[host].name,
                       WTERMSIG(status)), -1;
    return WEXITSTATUS(status);
}
