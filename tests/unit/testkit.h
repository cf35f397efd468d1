/* testkit.h -- helpers the unit tests share: hex byte vectors and checks on explain spans
 * (the codec tests); a line codec, servers in helper processes and loopback clients
 * (the server, balancer and supervisor tests). Header-only: each test is a program of
 * its own. */
#ifndef WB_TESTKIT_H
#define WB_TESTKIT_H

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/net.h"
#include "rpc/server.h"
#include "wire/explain.h"

typedef struct bytes {
    uint8_t *p;
    size_t n;
} bytes;

/* The bytes a hex string spells (caller frees .p). */
static inline bytes unhex(const char *h)
{
    bytes b = {malloc(strlen(h) / 2 + 1), strlen(h) / 2};
    for (size_t i = 0; i < b.n; i++) {
        unsigned x;
        cr_assert(sscanf(h + 2 * i, "%2x", &x) == 1);
        b.p[i] = (uint8_t)x;
    }
    return b;
}

/* Lower-case hex of p[0..n) (caller frees). */
static inline char *tohex(const uint8_t *p, size_t n)
{
    char *s = malloc(2 * n + 1);
    for (size_t i = 0; i < n; i++)
        sprintf(s + 2 * i, "%02x", p[i]);
    s[2 * n] = '\0';
    return s;
}

/* Asserts that out holds exactly the hex string want. */
static inline void assert_bytes(buf *out, const char *want)
{
    char *got = tohex(buf_data(out), buf_size(out));
    cr_assert_str_eq(got, want);
    free(got);
}

/* The first span whose meaning contains needle, or NULL. */
static inline const span *find_span(const explain *e, const char *needle)
{
    for (size_t i = 0; i < e->len; i++)
        if (strstr(e->spans[i].meaning, needle))
            return &e->spans[i];
    return NULL;
}

static inline size_t count_spans(const explain *e, const char *needle)
{
    size_t n = 0;
    for (size_t i = 0; i < e->len; i++)
        n += strstr(e->spans[i].meaning, needle) != NULL;
    return n;
}

/* Asserts that the leaf spans cover bytes 0..n exactly once, in order. */
static inline void assert_leaves_tile(const explain *e, size_t n)
{
    size_t at = 0;
    for (size_t i = 0; i < e->len; i++) {
        if (i + 1 < e->len && e->spans[i + 1].depth > e->spans[i].depth)
            continue;
        cr_assert_eq(e->spans[i].off, at, "leaf %zu (%s) starts at %zu, expected %zu", i,
                     e->spans[i].meaning, e->spans[i].off, at);
        at += e->spans[i].len;
    }
    cr_assert_eq(at, n);
}

/* ---- a line codec: each request is a line, answered with the same line ---- */

/* How many request bytes the line codec has answered, counted in memory shared with the
 * server children forked after the first call, so a test can watch a server read. */
static inline size_t *tk_line_consumed(void)
{
    static size_t *n;
    if (!n) {
        n = mmap(NULL, sizeof *n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (n == MAP_FAILED)
            abort();
    }
    return n;
}

/* What the line codec saw of the server's buffers, in the same shared memory: the
 * calls to feed, and the largest capacity of the input and of the output buffer at the
 * start of a call (a test zeroes them, then looks). */
typedef struct tk_line_seen {
    size_t feeds, in_cap, out_cap;
} tk_line_seen;

static inline tk_line_seen *tk_line_buffers(void)
{
    static tk_line_seen *seen;
    if (!seen) {
        seen = mmap(NULL, sizeof *seen, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (seen == MAP_FAILED)
            abort();
    }
    return seen;
}

static inline void tk_note_max(size_t *at, size_t v)
{
    size_t had = __atomic_load_n(at, __ATOMIC_RELAXED);
    while (v > had && !__atomic_compare_exchange_n(at, &had, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

static inline void *tk_line_open(size_t max_message)
{
    (void)max_message;
    return malloc(1);
}

static inline void tk_line_close(void *state) { free(state); }

/* Answers every complete line at the front of in; a partial line waits for the rest
 * (the server's cap is what bounds it). A line "quit" is answered "bye" and ends the
 * connection (FEED_DONE), whatever follows it. */
static inline feed_result tk_line_feed(void *state, buf *in, buf *out, bool eof, char *err,
                                       size_t errlen)
{
    (void)state;
    (void)eof;
    tk_line_seen *seen = tk_line_buffers();
    tk_note_max(&seen->in_cap, in->cap);
    tk_note_max(&seen->out_cap, out->cap);
    __atomic_add_fetch(&seen->feeds, 1, __ATOMIC_RELAXED);
    const uint8_t *p = buf_data(in), *nl = buf_size(in) ? memrchr(p, '\n', buf_size(in)) : NULL;
    if (!nl)
        return FEED_OK;
    size_t n = (size_t)(nl - p) + 1;
    for (const uint8_t *line = p; line < p + n; line = (const uint8_t *)memchr(line, '\n', (size_t)(p + n - line)) + 1) {
        if ((size_t)(p + n - line) < 5 || memcmp(line, "quit\n", 5) != 0)
            continue;
        size_t before = (size_t)(line - p);
        if (buf_append(out, p, before) < 0 || buf_append(out, "bye\n", 4) < 0) {
            err_set(err, errlen, "no room for the replies");
            return FEED_CLOSE;
        }
        buf_consume(in, before + 5);
        __atomic_add_fetch(tk_line_consumed(), before + 5, __ATOMIC_RELAXED);
        return FEED_DONE;
    }
    if (buf_append(out, p, n) < 0) {
        err_set(err, errlen, "no room for the replies");
        return FEED_CLOSE;
    }
    buf_consume(in, n);
    __atomic_add_fetch(tk_line_consumed(), n, __ATOMIC_RELAXED);
    return FEED_OK;
}

static inline const server_codec *tk_line_codec(void)
{
    static const server_codec c = {
        .name = "line echo",
        .protocol = "line",
        .default_listen = "127.0.0.1:0",
        .open = tk_line_open,
        .close = tk_line_close,
        .feed = tk_line_feed,
    };
    return &c;
}

/* ---- servers in helper processes ---- */

typedef struct tk_server {
    pid_t pid;     /* 0 once reaped */
    int status;    /* its wait status, once reaped */
    char addr[80]; /* "127.0.0.1:41234" */
    int log_fd;    /* the read end of its stderr (-1: not kept) */
    buf log;       /* what it has logged so far (read by tk_server_logged) */
} tk_server;

/* Reads from fd into b until want bytes are there, fd ends, or deadline (clock_now_ms
 * time) passes. Returns the bytes in b. fd may be blocking or not. */
static inline size_t tk_read_until(int fd, buf *b, size_t want, uint64_t deadline)
{
    while (buf_size(b) < want) {
        uint64_t now = clock_now_ms();
        struct pollfd pf = {fd, POLLIN, 0};
        if (now >= deadline || poll(&pf, 1, (int)(deadline - now)) <= 0)
            break;
        cr_assert_eq(buf_reserve(b, 65536), 0);
        ssize_t r = read(fd, b->p + b->len, 65536);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r <= 0)
            break;
        b->len += (size_t)r;
    }
    return buf_size(b);
}

/* argv[0] = name, then opts (NULL-terminated, may be NULL; at most 30), then NULL.
 * Returns argc. */
static inline int tk_argv(char *argv[32], const char *name, const char *const *opts)
{
    int argc = 1;
    argv[0] = (char *)name;
    for (; opts && opts[argc - 1] && argc < 31; argc++)
        argv[argc] = (char *)opts[argc - 1];
    argv[argc] = NULL;
    return argc;
}

/* In a child the test forked: its stdout to out, its stderr to log (-1: /dev/null), every
 * signal unblocked, and it dies with the test. Returns false when the test is gone. */
static inline bool tk_child_prepare(pid_t parent, int out, int log)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        return false;
    dup2(out, STDOUT_FILENO);
    if (log < 0)
        log = open("/dev/null", O_WRONLY);
    dup2(log, STDERR_FILENO);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    return true;
}

/* In the test, after the fork: waits at most timeout_ms for the first line the child pid
 * prints on out (its address) and fills ts; log is the read end of its stderr, or -1. */
static inline void tk_child_address(tk_server *ts, pid_t pid, int out, int log, int timeout_ms,
                                    const char *who)
{
    buf line;
    buf_init(&line, 0);
    uint64_t deadline = clock_now_ms() + (uint64_t)timeout_ms;
    for (size_t had = 0; !(had && memchr(buf_data(&line), '\n', had));) {
        if (tk_read_until(out, &line, had + 1, deadline) == had)
            break;
        had = buf_size(&line);
    }
    close(out);
    char *text = buf_take(&line), *nl = strchr(text, '\n');
    buf_done(&line);
    if (!nl)
        kill(pid, SIGKILL);
    cr_assert_not_null(nl, "%s printed no address within %d ms (got \"%s\")", who, timeout_ms, text);
    *nl = '\0';
    memset(ts, 0, sizeof *ts);
    ts->pid = pid;
    snprintf(ts->addr, sizeof ts->addr, "%s", text);
    free(text);
    ts->log_fd = log;
    if (log >= 0)
        fcntl(log, F_SETFL, O_NONBLOCK);
    buf_init(&ts->log, 0);
}

/* Runs server_main(codec) with the options opts (NULL-terminated, may be NULL) in a child
 * process that dies with the test, and waits at most 5 s for the address it prints. The
 * child's stderr (its log, unless opts has --quiet) is kept for tk_server_logged. */
static inline void tk_server_start(tk_server *ts, const server_codec *codec, const char *const *opts)
{
    int out[2], logp[2];
    cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
    cr_assert_eq(pipe2(logp, O_CLOEXEC), 0);
    (void)tk_line_consumed(); /* shared from here on */
    (void)tk_line_buffers();
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        if (!tk_child_prepare(parent, out[1], logp[1]))
            _exit(127);
        char *argv[32];
        int argc = tk_argv(argv, "tk-server", opts);
        optind = 0; /* getopt starts afresh in this process */
        _exit(server_main(codec, "tk-server", "a server for a unit test", argc, argv));
    }
    close(out[1]);
    close(logp[1]);
    tk_child_address(ts, pid, out[0], logp[0], 5000, "the server");
}

/* Runs the program at path with args (NULL-terminated, may be NULL) and env NAME=VALUE
 * added when not NULL, its stderr thrown away, as tk_server_start does, waiting at most
 * 10 s for its address. Returns false, starting nothing, when path is not executable. */
static inline bool tk_program_start(tk_server *ts, const char *path, const char *const *args, const char *env)
{
    if (access(path, X_OK) != 0)
        return false;
    int out[2];
    cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        if (!tk_child_prepare(parent, out[1], -1))
            _exit(127);
        if (env)
            putenv((char *)env);
        char *argv[32];
        tk_argv(argv, path, args);
        execv(path, argv);
        _exit(127);
    }
    close(out[1]);
    tk_child_address(ts, pid, out[0], -1, 10000, path);
    return true;
}

/* Whether the server has logged a line containing needle, waiting at most timeout_ms. */
static inline bool tk_server_logged(tk_server *ts, const char *needle, int timeout_ms)
{
    cr_assert_geq(ts->log_fd, 0, "tk_program_start keeps no log");
    uint64_t deadline = clock_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        if (buf_size(&ts->log) && memmem(buf_data(&ts->log), buf_size(&ts->log), needle, strlen(needle)))
            return true;
        size_t had = buf_size(&ts->log);
        if (tk_read_until(ts->log_fd, &ts->log, had + 1, deadline) == had)
            return false;
    }
}

/* Waits at most timeout_ms for the server to exit. Returns its wait status (also when it
 * was reaped before), or -1 when it is still running. */
static inline int tk_server_wait(tk_server *ts, int timeout_ms)
{
    if (ts->pid <= 0)
        return ts->status;
    uint64_t deadline = clock_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        int status;
        pid_t r = waitpid(ts->pid, &status, WNOHANG);
        if (r == ts->pid) {
            ts->pid = 0;
            return ts->status = status;
        }
        if (clock_now_ms() >= deadline)
            return -1;
        clock_sleep_ms(5);
    }
}

/* Sends sig and waits at most 10 s for the server to exit (then kills it and fails).
 * Returns its wait status (also when it had exited already), and releases ts. */
static inline int tk_server_stop(tk_server *ts, int sig)
{
    int status = ts->status;
    if (ts->pid > 0) {
        kill(ts->pid, sig);
        status = tk_server_wait(ts, 10000);
        if (status == -1) {
            kill(ts->pid, SIGKILL);
            waitpid(ts->pid, NULL, 0);
            ts->pid = 0;
        }
    }
    if (ts->log_fd >= 0)
        close(ts->log_fd);
    buf_done(&ts->log);
    cr_assert_neq(status, -1, "the server did not exit within 10 s of signal %d", sig);
    return status;
}

/* ---- loopback clients ---- */

/* A blocking connection to addr (asserted). */
static inline int tk_connect(const char *addr)
{
    char err[256] = "";
    int fd = net_connect(addr, 5000, err, sizeof err);
    cr_assert_geq(fd, 0, "connect %s: %s", addr, err);
    return fd;
}

static inline void tk_send(int fd, const void *p, size_t n)
{
    char err[256] = "";
    cr_assert_eq(net_write_all(fd, p, n, clock_now_ms() + 10000, err, sizeof err), 0, "%s", err);
}

/* Whether the peer closed the connection (end of stream, or reset) within timeout_ms;
 * whatever arrives before that is read and dropped. */
static inline bool tk_closed_within(int fd, int timeout_ms)
{
    uint64_t deadline = clock_now_ms() + (uint64_t)timeout_ms;
    char scratch[65536];
    for (;;) {
        uint64_t now = clock_now_ms();
        struct pollfd pf = {fd, POLLIN, 0};
        if (now >= deadline || poll(&pf, 1, (int)(deadline - now)) <= 0)
            return false;
        ssize_t r = recv(fd, scratch, sizeof scratch, MSG_DONTWAIT);
        if (r == 0 || (r < 0 && errno == ECONNRESET))
            return true;
    }
}

/* Sends line (with its newline) and asserts that the same line comes back in 5 s. */
static inline void tk_echo(int fd, const char *line)
{
    size_t n = strlen(line);
    tk_send(fd, line, n);
    buf got;
    buf_init(&got, 0);
    tk_read_until(fd, &got, n, clock_now_ms() + 5000);
    cr_assert_eq(buf_size(&got), n, "%zu bytes of \"%s\" came back", buf_size(&got), line);
    cr_assert(memcmp(buf_data(&got), line, n) == 0);
    buf_done(&got);
}

#endif
