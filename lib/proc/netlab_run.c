/* netlab_run.c -- programs on a lab's host: started in its namespaces, waited for, killed. */
#include "proc/netlab_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/i18n.h"

/* The signals the go-between passes on to the program. */
static const int passed[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCONT};

/* The program, in the host's PID namespace: its parent (the go-between) is outside it, so
 * getppid() is 0 while the go-between lives. */
static _Noreturn void program(int out_fd, int err_fd, const char *const *argv)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != 0)
        _exit(127);
    int in = open("/dev/null", O_RDONLY);
    if (in >= 0)
        dup2(in, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    for (int fd = 3; fd < 1024; fd++)
        close(fd);
    for (size_t i = 0; i < sizeof passed / sizeof passed[0]; i++)
        signal(passed[i], SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execvp(argv[0], (char *const *)argv);
    _exit(127);
}

/* The go-between, a child of the workbench: enters the host's namespaces, forks the
 * program into them, passes signals on, and ends as the program ends. Only
 * async-signal-safe calls. */
static _Noreturn void go_between(pid_t parent, const netlab_host *h, int out_fd, int err_fd,
                                 const char *const *argv)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    prctl(PR_SET_NAME, "lab-run");
    /* Entering a mount namespace moves the working directory to its root: come back. */
    int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (getppid() != parent || setns(h->netfd, CLONE_NEWNET) < 0 || setns(h->pidfd, CLONE_NEWPID) < 0 ||
        (h->mntfd >= 0 && setns(h->mntfd, CLONE_NEWNS) < 0) || (cwd >= 0 && fchdir(cwd) < 0))
        _exit(127);
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < sizeof passed / sizeof passed[0]; i++)
        sigaddset(&set, passed[i]);
    sigaddset(&set, SIGCHLD);
    signal(SIGCHLD, SIG_DFL);
    sigprocmask(SIG_SETMASK, &set, NULL);
    pid_t pid = fork();
    if (pid < 0)
        _exit(127);
    if (pid == 0)
        program(out_fd, err_fd, argv);
    for (;;) {
        siginfo_t si;
        int sig = sigwaitinfo(&set, &si);
        if (sig < 0)
            continue;
        if (sig != SIGCHLD) {
            kill(pid, sig);
            continue;
        }
        int status;
        if (waitpid(pid, &status, WNOHANG) != pid)
            continue;
        if (WIFEXITED(status))
            _exit(WEXITSTATUS(status));
        /* ends the way the program did, without a core of its own */
        struct rlimit none = {0, 0};
        setrlimit(RLIMIT_CORE, &none);
        signal(WTERMSIG(status), SIG_DFL);
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        kill(getpid(), WTERMSIG(status));
        _exit(128 + WTERMSIG(status));
    }
}

static netlab_runrec *find_run(netlab *lab, pid_t pid)
{
    for (size_t i = 0; pid > 0 && i < NETLAB_MAX_RUNS; i++)
        if (lab->runs[i].pid == pid)
            return &lab->runs[i];
    return NULL;
}

/* Reaps the programs that have ended, freeing their slots. */
static void reap_ended(netlab *lab)
{
    for (size_t i = 0; i < NETLAB_MAX_RUNS; i++) {
        if (lab->runs[i].pid <= 0)
            continue;
        pid_t got = waitpid(lab->runs[i].pid, NULL, WNOHANG);
        if (got == lab->runs[i].pid || (got < 0 && errno == ECHILD)) /* or its owner reaped it */
            lab->runs[i].pid = 0;
    }
}

int netlab_run_fd(netlab *lab, int host, const char *const *argv, int out_fd, child *c, char *err,
                  size_t errlen)
{
    return netlab_run_fds(lab, host, argv, out_fd, out_fd, c, err, errlen);
}

int netlab_run_fds(netlab *lab, int host, const char *const *argv, int out_fd, int err_fd, child *c, char *err,
                   size_t errlen)
{
    c->pid = 0;
    c->addr[0] = '\0';
    if (!netlab_valid(lab, host))
        return err_set(err, errlen, "no host %d in this lab", host), -1;
    reap_ended(lab);
    netlab_runrec *slot = NULL;
    for (size_t i = 0; !slot && i < NETLAB_MAX_RUNS; i++)
        if (lab->runs[i].pid == 0)
            slot = &lab->runs[i];
    if (!slot)
        return err_set(err, errlen, _("the lab runs %d programs already"), NETLAB_MAX_RUNS), -1;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        return err_set(err, errlen, "fork: %s", strerror(errno)), -1;
    if (pid == 0)
        go_between(parent, &lab->host[host], out_fd, err_fd, argv);
    *slot = (netlab_runrec){pid, host};
    c->pid = pid;
    snprintf(c->addr, sizeof c->addr, "%s", lab->host[host].addr);
    return 0;
}

int netlab_run(netlab *lab, int host, const char *const *argv, const char *log_path, child *c, char *err,
               size_t errlen)
{
    int fd = open(log_path ? log_path : "/dev/null", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return err_set(err, errlen, "%s: %s", log_path ? log_path : "/dev/null", strerror(errno)), -1;
    int rc = netlab_run_fd(lab, host, argv, fd, c, err, errlen);
    close(fd);
    return rc;
}

int netlab_wait(netlab *lab, child *c, int timeout_ms, int *status)
{
    netlab_runrec *r = find_run(lab, c->pid);
    if (!r)
        return c->pid = 0, *status = 0, 1;
    uint64_t deadline = clock_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        pid_t got = waitpid(c->pid, status, WNOHANG);
        if (got == c->pid || (got < 0 && errno == ECHILD)) {
            r->pid = 0;
            c->pid = 0;
            return 1;
        }
        if (clock_now_ms() >= deadline)
            return 0;
        clock_sleep_ms(2);
    }
}

int netlab_stop(netlab *lab, child *c, int sig, int timeout_ms)
{
    if (!find_run(lab, c->pid))
        return -1;
    kill(c->pid, sig);
    int status = 0;
    if (netlab_wait(lab, c, timeout_ms, &status))
        return status;
    kill(c->pid, SIGKILL);
    netlab_wait(lab, c, 5000, &status);
    return status;
}

/* Whether process pid is in the PID namespace named want ("pid:[4026532...]"). */
static bool in_pidns(const char *pid, const char *want)
{
    char path[300], link[64];
    snprintf(path, sizeof path, "/proc/%s/ns/pid", pid);
    ssize_t n = readlink(path, link, sizeof link - 1);
    if (n <= 0)
        return false;
    link[n] = '\0';
    return strcmp(link, want) == 0;
}

/* SIGKILLs every process of h's PID namespace but the holder; returns how many. */
static int kill_pidns(const netlab_host *h, const char *want)
{
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    int killed = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0 || pid == h->holder || !in_pidns(e->d_name, want))
            continue;
        if (kill((pid_t)pid, SIGKILL) == 0)
            killed++;
    }
    closedir(d);
    return killed;
}

int netlab_kill_host(netlab *lab, int host, char *err, size_t errlen)
{
    if (!netlab_valid(lab, host))
        return err_set(err, errlen, "no host %d in this lab", host), -1;
    netlab_host *h = &lab->host[host];
    char path[64], want[64];
    snprintf(path, sizeof path, "/proc/%d/ns/pid", (int)h->holder);
    ssize_t n = readlink(path, want, sizeof want - 1);
    if (n <= 0)
        return err_set(err, errlen, "%s: %s", path, strerror(errno)), -1;
    want[n] = '\0';
    /* a program may fork while its fellows die: sweep until none is left */
    int killed = 0, more;
    uint64_t deadline = clock_now_ms() + 3000;
    while ((more = kill_pidns(h, want)) > 0 && clock_now_ms() < deadline) {
        killed += more;
        clock_sleep_ms(5);
    }
    for (size_t i = 0; i < NETLAB_MAX_RUNS; i++) {
        netlab_runrec *r = &lab->runs[i];
        if (r->pid > 0 && r->host == host) {
            child c = {.pid = r->pid};
            int status;
            if (!netlab_wait(lab, &c, (int)(deadline > clock_now_ms() ? deadline - clock_now_ms() : 0), &status))
                netlab_stop(lab, &c, SIGKILL, 1000);
        }
    }
    if (more > 0)
        return err_set(err, errlen, "processes on %s kept being started for 3 s", h->name), -1;
    return killed;
}

void netlab_run_reap_all(netlab *lab, int timeout_ms)
{
    uint64_t deadline = clock_now_ms() + (uint64_t)timeout_ms;
    for (size_t i = 0; i < NETLAB_MAX_RUNS; i++) {
        netlab_runrec *r = &lab->runs[i];
        if (r->pid <= 0)
            continue;
        child c = {.pid = r->pid};
        int status;
        uint64_t now = clock_now_ms();
        if (!netlab_wait(lab, &c, now < deadline ? (int)(deadline - now) : 0, &status))
            netlab_stop(lab, &c, SIGKILL, 1000);
    }
}

/* The prober, in the host's network namespace: connects until it can or the deadline
 * passes. Only async-signal-safe calls. */
static _Noreturn void prober(pid_t parent, int netfd, struct sockaddr_in to, uint64_t deadline)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent || setns(netfd, CLONE_NEWNET) < 0)
        _exit(2);
    for (;;) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (fd < 0)
            _exit(2);
        int rc = connect(fd, (struct sockaddr *)&to, sizeof to);
        if (rc < 0 && errno == EINPROGRESS) {
            struct pollfd p = {fd, POLLOUT, 0};
            int soerr = 1;
            socklen_t len = sizeof soerr;
            if (poll(&p, 1, 250) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0)
                rc = soerr == 0 ? 0 : -1;
        }
        close(fd);
        if (rc == 0)
            _exit(0);
        if (clock_now_ms() >= deadline)
            _exit(1);
        struct timespec pause = {0, 50 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
}

int netlab_connect(netlab *lab, int host, const char *addr, int port, int timeout_ms, char *err, size_t errlen)
{
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (!netlab_valid(lab, host))
        return err_set(err, errlen, "no host %d in this lab", host), -1;
    if (inet_pton(AF_INET, addr, &to.sin_addr) != 1 || port < 1 || port > 65535)
        return err_set(err, errlen, "not an IPv4 address and port: %s:%d", addr, port), -1;
    uint64_t deadline = clock_now_ms() + (uint64_t)timeout_ms;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        return err_set(err, errlen, "fork: %s", strerror(errno)), -1;
    if (pid == 0)
        prober(parent, lab->host[host].netfd, to, deadline);
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (clock_now_ms() >= deadline + 1000) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
        clock_sleep_ms(5);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    err_set(err, errlen, _("nothing answered at %s:%d from %s within %d ms"), addr, port, lab->host[host].name,
            timeout_ms);
    return -1;
}

int netlab_enter(netlab *lab, int host, char *err, size_t errlen)
{
    if (!netlab_valid(lab, host) || lab->host[host].netfd < 0)
        return err_set(err, errlen, "no host %d in this lab", host), -1;
    if (setns(lab->host[host].netfd, CLONE_NEWNET) < 0)
        return err_set(err, errlen, "setns into %s: %s", lab->host[host].name, strerror(errno)), -1;
    return 0;
}

int netlab_netns_fd(const netlab *lab, int host)
{
    return netlab_valid(lab, host) ? lab->host[host].netfd : -1;
}
