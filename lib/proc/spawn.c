/* spawn.c -- server child processes: start, learn the address, stop, reap. */
#include "proc/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "base/bindir.h"
#include "base/clock.h"
#include "base/err.h"

int spawn_server(const char *name, const char *const *extra, int timeout_ms, child *c, char *err,
                 size_t errlen)
{
    char dir[PATH_MAX], path[PATH_MAX + 64];
    if (bindir_get(dir, sizeof dir) < 0) {
        err_set(err, errlen, "cannot find the workbench's own directory");
        return -1;
    }
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (access(path, X_OK) != 0) {
        err_set(err, errlen, "%s is missing: run make", path);
        return -1;
    }
    int out[2];
    if (pipe2(out, O_CLOEXEC) < 0) {
        err_set(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    const char *argv[32] = {path, "--listen", "127.0.0.1:0", "--quiet"};
    int argc = 4;
    for (size_t i = 0; extra && extra[i] && argc < 31; i++)
        argv[argc++] = extra[i];
    argv[argc] = NULL;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        err_set(err, errlen, "fork: %s", strerror(errno));
        close(out[0]);
        close(out[1]);
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127); /* the parent died before prctl */
        dup2(out[1], STDOUT_FILENO);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, STDIN_FILENO);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execv(path, (char *const *)argv);
        _exit(127);
    }
    close(out[1]);
    c->pid = pid;
    c->addr[0] = '\0';
    size_t got = 0;
    uint64_t deadline = clock_now_ms() + (uint64_t)timeout_ms;
    while (got < sizeof c->addr - 1 && !memchr(c->addr, '\n', got)) {
        uint64_t now = clock_now_ms();
        struct pollfd p = {out[0], POLLIN, 0};
        if (now >= deadline || poll(&p, 1, (int)(deadline - now)) <= 0)
            break;
        ssize_t n = read(out[0], c->addr + got, sizeof c->addr - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
        c->addr[got] = '\0';
    }
    close(out[0]);
    char *nl = strchr(c->addr, '\n');
    if (!nl) {
        err_set(err, errlen, "%s did not print its address within %d ms", name, timeout_ms);
        spawn_stop(c, SIGKILL, 1000);
        return -1;
    }
    *nl = '\0';
    return 0;
}

int spawn_stop(child *c, int sig, int timeout_ms)
{
    if (c->pid <= 0)
        return -1;
    kill(c->pid, sig);
    int status = 0;
    uint64_t deadline = clock_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        pid_t r = waitpid(c->pid, &status, WNOHANG);
        if (r == c->pid || (r < 0 && errno == ECHILD))
            break;
        if (clock_now_ms() >= deadline) {
            kill(c->pid, SIGKILL);
            waitpid(c->pid, &status, 0);
            break;
        }
        clock_sleep_ms(5);
    }
    c->pid = 0;
    return status;
}

/* In the child: dies with the parent, output to log_path, stdin from /dev/null, no
 * signal blocked, then argv. */
static _Noreturn void exec_child(pid_t parent, const char *const *argv, const char *log_path)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    int out = open(log_path ? log_path : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0644);
    int in = open("/dev/null", O_RDONLY);
    if (out >= 0) {
        dup2(out, STDOUT_FILENO);
        dup2(out, STDERR_FILENO);
    }
    if (in >= 0)
        dup2(in, STDIN_FILENO);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execvp(argv[0], (char *const *)argv);
    _exit(127);
}

/* Forks a child that runs argv (exec_child). Returns its pid, or -1 with err. */
static pid_t fork_exec(const char *const *argv, const char *log_path, char *err, size_t errlen)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        err_set(err, errlen, "fork: %s", strerror(errno));
    else if (pid == 0)
        exec_child(parent, argv, log_path);
    return pid;
}

int spawn_exec(const char *const *argv, const char *log_path, child *c, char *err, size_t errlen)
{
    pid_t pid = fork_exec(argv, log_path, err, errlen);
    if (pid < 0)
        return -1;
    c->pid = pid;
    c->addr[0] = '\0';
    /* an exec that failed shows as an immediate exit 127 */
    clock_sleep_ms(20);
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) {
        c->pid = 0;
        err_set(err, errlen, "%s did not start (exit status %d)", argv[0],
                WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return -1;
    }
    return 0;
}

int spawn_command(const char *const *argv, const char *log_path, int timeout_ms, char *err, size_t errlen)
{
    pid_t pid = fork_exec(argv, log_path, err, errlen);
    if (pid < 0)
        return -1;
    child c = {.pid = pid};
    uint64_t deadline = clock_now_ms() + (uint64_t)timeout_ms;
    int status = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR) {
            err_set(err, errlen, "%s: %s", argv[0], strerror(errno));
            return -1;
        }
        if (clock_now_ms() >= deadline) {
            spawn_stop(&c, SIGKILL, 1000);
            err_set(err, errlen, "%s did not finish within %d ms", argv[0], timeout_ms);
            return -1;
        }
        clock_sleep_ms(2);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        err_set(err, errlen, "%s could not be run", argv[0]);
        return -1;
    }
    if (!WIFEXITED(status)) {
        err_set(err, errlen, "%s was killed by signal %d", argv[0], WTERMSIG(status));
        return -1;
    }
    return WEXITSTATUS(status);
}

bool spawn_on_path(const char *prog)
{
    if (strchr(prog, '/'))
        return access(prog, X_OK) == 0;
    const char *path = getenv("PATH");
    char file[PATH_MAX];
    for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
        size_t n = strcspn(p, ":");
        if (n && snprintf(file, sizeof file, "%.*s/%s", (int)n, p, prog) < (int)sizeof file &&
            access(file, X_OK) == 0)
            return true;
        p += n + (p[n] == ':');
    }
    return false;
}

enum { PICK_LOW = 20000, PICK_HIGH = 32767 }; /* where spawn_free_port looks first */

/* Binds a TCP socket to 127.0.0.1:port (0: the kernel's pick) and returns the port
 * bound, or 0. With hold, *hold keeps the socket open (bound, not listening, without
 * SO_REUSEADDR, so nobody else can bind the port); else it is closed. */
static int try_port(int port, int *hold)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int got = 0;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        got = ntohs(a.sin_port);
    if (hold && got)
        *hold = fd;
    else
        close(fd);
    return got;
}

/* A port below Linux's ephemeral range (32768 and up), which the kernel never hands out
 * for bind(0) or connect(): another program asking the kernel cannot take it before the
 * caller binds it. Only another picker choosing the same one at random can. */
static int unclaimed_port(int *hold)
{
    static unsigned seed;
    if (!seed)
        seed = (unsigned)clock_now_us() ^ ((unsigned)getpid() << 16);
    for (int tries = 0; tries < 50; tries++) {
        int port = try_port(PICK_LOW + (int)(rand_r(&seed) % (PICK_HIGH - PICK_LOW + 1)), hold);
        if (port)
            return port;
    }
    return try_port(0, hold);
}

int spawn_hold_port(int *hold)
{
    /* the kernel may hand out again the port it just gave, before anyone bound it:
     * callers asking for several ports at once must get different ones */
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static int recent[32];
    static size_t next;
    pthread_mutex_lock(&mu);
    int port = 0;
    if (hold)
        *hold = -1;
    for (int tries = 0; tries < 50 && !port; tries++) {
        int fd = -1;
        port = unclaimed_port(hold ? &fd : NULL);
        for (size_t i = 0; port && i < sizeof recent / sizeof recent[0]; i++)
            if (recent[i] == port)
                port = 0;
        if (port && hold)
            *hold = fd;
        else if (fd >= 0)
            close(fd);
    }
    if (port)
        recent[next++ % (sizeof recent / sizeof recent[0])] = port;
    pthread_mutex_unlock(&mu);
    return port;
}

int spawn_free_port(void) { return spawn_hold_port(NULL); }

bool spawn_port_free(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}
