/* lesson_run.c -- running a lesson's steps: its servers, variables, shells under deadlines, checks. */
#include "lesson/lesson.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <regex.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "base/bindir.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/i18n.h"
#include "base/numopt.h"
#include "base/tempdir.h"
#include "proc/spawn.h"
#include "registry/consulproc.h"
#include "registry/etcdproc.h"

#define CONSUL_MISSING \
    N_("consul is not installed (Debian 12 has no consul package; `make run` fetches Debian 11's)")

enum { MAX_VARS = 64, BACKGROUND_GRACE_MS = 1000, BACKGROUND_SETTLE_MS = 300, SERVER_START_MS = 5000 };

typedef struct var {
    char name[32];
    char value[256];
} var;

enum { LESSON_PORTS = 6 }; /* $PORT1 ... $PORT6 */

struct lesson_run {
    const lesson *l;
    atomic_bool cancel;
    bool dry; /* variables only: nothing started, no scratch directory */
    char bindir[PATH_MAX];
    char work[PATH_MAX];
    var vars[MAX_VARS];
    size_t nvars;
    child servers[LESSON_MAX_LINES];
    size_t nservers;
    etcdproc etcd;
    bool etcd_on;
    consulproc consul;
    bool consul_on;
    int port_hold[LESSON_PORTS + 1]; /* [n]: the socket keeping $PORTn free for the lesson, or -1 */
};

static void set_var(lesson_run *r, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_var(lesson_run *r, const char *name, const char *fmt, ...)
{
    var *v = NULL;
    for (size_t i = 0; i < r->nvars && !v; i++)
        if (!strcmp(r->vars[i].name, name))
            v = &r->vars[i];
    if (!v && r->nvars < MAX_VARS)
        v = &r->vars[r->nvars++];
    if (!v)
        return;
    snprintf(v->name, sizeof v->name, "%s", name);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->value, sizeof v->value, fmt, ap);
    va_end(ap);
}

static const var *find_var(const lesson_run *r, const char *name, size_t len)
{
    for (size_t i = 0; i < r->nvars; i++)
        if (strlen(r->vars[i].name) == len && !strncmp(r->vars[i].name, name, len))
            return &r->vars[i];
    return NULL;
}

char *lesson_expand(const lesson_run *r, const char *text)
{
    buf b;
    buf_init(&b, LESSON_MAX_FILE);
    for (const char *p = text; *p;) {
        if (*p == '$' && r) {
            bool braced = p[1] == '{';
            const char *name = p + 1 + braced;
            size_t len = 0;
            while (isupper((unsigned char)name[len]) || isdigit((unsigned char)name[len]) || name[len] == '_')
                len++;
            const var *v = len ? find_var(r, name, len) : NULL;
            if (v && (!braced || name[len] == '}')) {
                buf_puts(&b, v->value);
                p = name + len + braced;
                continue;
            }
        }
        buf_putc(&b, (uint8_t)*p++);
    }
    char *s = buf_take(&b);
    return s;
}

typedef struct server_kind {
    const char *kind, *program, *var;
    int port; /* the tutorials' port, used when free */
} server_kind;

static const server_kind server_kinds[] = {
    {"json", "jsonrpc-server", "JSON", 8080},
    {"gob", "gob-server", "GOB", 8081},
    {"grpc", "grpc-server", "GRPC", 50051},
    {"hub", "hub-server", "HUB", 8004},
    {"post", "post-server", "POSTS", 8005},
    {"user", "user-server", "USERS", 8006},
    {"order", "order-server", "ORDERS", 0},
    {"shipping", "shipping-server", "SHIPPING", 50051},
    {"gateway", "gateway", "GATEWAY", 8008},
};

const char *lesson_server_var(const char *kind)
{
    if (!strcmp(kind, "etcd") || !strcmp(kind, "consul"))
        return kind[0] == 'e' ? "ETCD" : "CONSUL";
    for (size_t i = 0; i < sizeof server_kinds / sizeof server_kinds[0]; i++)
        if (!strcmp(kind, server_kinds[i].kind))
            return server_kinds[i].var;
    return NULL;
}

/* VAR, VAR_PID, VAR_HOST and VAR_PORT of a server at addr ("HOST:PORT"). */
static void set_server_vars(lesson_run *r, const char *v, const char *addr, const char *pid)
{
    char name[40];
    snprintf(name, sizeof name, "%s_PID", v);
    set_var(r, v, "%s", addr);
    set_var(r, name, "%s", pid);
    const char *colon = strrchr(addr, ':');
    if (colon) {
        snprintf(name, sizeof name, "%s_HOST", v);
        set_var(r, name, "%.*s", (int)(colon - addr), addr);
        snprintf(name, sizeof name, "%s_PORT", v);
        set_var(r, name, "%s", colon + 1);
    }
}

/* A dry run's stand-ins for a server: the tutorial's address (or a free port) and a pid
 * the learner would look up. */
static void set_dry_vars(lesson_run *r, const char *kind, const char *v, int port)
{
    char addr[64], pid[96];
    if (!strcmp(kind, "etcd")) {
        set_var(r, v, "etcd://127.0.0.1:2379");
        set_var(r, "ETCD_ADDR", "127.0.0.1:2379");
        set_var(r, "ETCD_PID", "$(pidof etcd)");
    } else if (!strcmp(kind, "consul")) {
        set_var(r, v, "consul://127.0.0.1:8500");
        set_var(r, "CONSUL_ADDR", "127.0.0.1:8500");
        set_var(r, "CONSUL_DNS", "8600");
        set_var(r, "CONSUL_PID", "$(pidof consul)");
    } else {
        snprintf(addr, sizeof addr, "127.0.0.1:%d", port ? port : spawn_free_port());
        snprintf(pid, sizeof pid, "$(pgrep -f %s)", addr);
        set_server_vars(r, v, addr, pid);
    }
}

/* "KIND [VAR] [ARGS...]": one server of the lesson's header. */
static int start_server(lesson_run *r, const char *spec, char *skip, size_t skiplen, char *err, size_t errlen)
{
    char *line = lesson_expand(r, spec), *save = NULL;
    if (!line)
        return -1;
    char *words[32];
    int n = 0;
    for (char *w = strtok_r(line, " \t", &save); w && n < 31; w = strtok_r(NULL, " \t", &save))
        words[n++] = w;
    words[n] = NULL;
    int rc = -1;
    const char *kind = n ? words[0] : "";
    const char *name = n > 1 && isupper((unsigned char)words[1][0]) ? words[1] : NULL;
    char **args = words + 1 + (name != NULL);
    if (r->dry && (!strcmp(kind, "etcd") || !strcmp(kind, "consul"))) {
        set_dry_vars(r, kind, name ? name : kind[0] == 'e' ? "ETCD" : "CONSUL", 0);
        rc = 0;
        goto out;
    }
    if (!strcmp(kind, "etcd") || !strcmp(kind, "consul")) {
        bool etcd = kind[0] == 'e';
        if (!etcd && !consulproc_available()) {
            err_set(skip, skiplen, "%s", _(CONSUL_MISSING));
            goto out;
        }
        if (etcd ? r->etcd_on : r->consul_on) {
            err_set(err, errlen, "one %s per lesson", kind);
            goto out;
        }
        /* "etcd PORT": on that port when it is free (a lesson that never stops its etcd;
         * one that restarts it keeps a free port, which no other lesson takes meanwhile) */
        int port = 0;
        if (etcd && args[0] && (numopt_int(args[0], 1, 65535, &port) < 0 || args[1])) {
            err_set(err, errlen, "server \"etcd\" takes at most a port number, not \"%s\"", args[0]);
            goto out;
        }
        /* the agent reads service definitions from the lesson's $WORK/consul.d */
        char config[PATH_MAX + 16];
        snprintf(config, sizeof config, "%s/consul.d", r->work);
        if (!etcd && mkdir(config, 0700) < 0 && errno != EEXIST) {
            err_set(err, errlen, "cannot make %s: %s", config, strerror(errno));
            goto out;
        }
        if (etcd ? etcdproc_start_at(&r->etcd, port, 10000, err, errlen)
                 : consulproc_start_config(&r->consul, config, 20000, err, errlen))
            goto out;
        if (etcd) {
            r->etcd_on = true;
            set_var(r, name ? name : "ETCD", "%s", r->etcd.url);
            set_var(r, "ETCD_ADDR", "%s", r->etcd.client);
            set_var(r, "ETCD_PID", "%d", (int)r->etcd.proc.pid);
        } else {
            r->consul_on = true;
            set_var(r, name ? name : "CONSUL", "%s", r->consul.url);
            set_var(r, "CONSUL_ADDR", "%s", r->consul.http);
            set_var(r, "CONSUL_DNS", "%d", r->consul.dns_port);
            set_var(r, "CONSUL_PID", "%d", (int)r->consul.proc.pid);
        }
        rc = 0;
        goto out;
    }
    const server_kind *k = NULL;
    for (size_t i = 0; i < sizeof server_kinds / sizeof server_kinds[0]; i++)
        if (!strcmp(kind, server_kinds[i].kind))
            k = &server_kinds[i];
    if (!k) {
        err_set(err, errlen, "server \"%s\": the kinds are json, gob, grpc, hub, post, user, order, shipping, gateway, etcd, consul", kind);
        goto out;
    }
    if (r->dry) {
        set_dry_vars(r, kind, name ? name : k->var, (!name || !strcmp(name, k->var)) ? k->port : 0);
        rc = 0;
        goto out;
    }
    if (r->nservers >= LESSON_MAX_LINES)
        goto out;
    const char *extra[34];
    int ne = 0;
    char listen[32];
    bool preferred = false;
    if ((!name || !strcmp(name, k->var)) && k->port && spawn_port_free(k->port)) {
        preferred = true;
        snprintf(listen, sizeof listen, "127.0.0.1:%d", k->port);
        extra[ne++] = "--listen";
        extra[ne++] = listen;
    }
    for (char **a = args; *a && ne < 33; a++)
        extra[ne++] = *a;
    extra[ne] = NULL;
    child *c = &r->servers[r->nservers];
    /* the tutorial's port may have been taken since it was found free: then any port */
    if (spawn_server(k->program, extra, SERVER_START_MS, c, err, errlen) < 0 &&
        (!preferred || spawn_server(k->program, extra + 2, SERVER_START_MS, c, err, errlen) < 0))
        goto out;
    r->nservers++;
    char pid[16];
    snprintf(pid, sizeof pid, "%d", (int)c->pid);
    set_server_vars(r, name ? name : k->var, c->addr, pid);
    rc = 0;
out:
    free(line);
    return rc;
}

/* Whether a step's shell finds prog: its PATH has the programs' directory first. */
static bool runnable(const char *prog)
{
    char dir[PATH_MAX], path[PATH_MAX + 64];
    return spawn_on_path(prog) || (!strchr(prog, '/') && bindir_get(dir, sizeof dir) == 0 &&
                                   snprintf(path, sizeof path, "%s/%s", dir, prog) < (int)sizeof path &&
                                   access(path, X_OK) == 0);
}

/* Whether this process may make a network namespace, as a lab does: a child tries. */
static bool may_unshare_net(void)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(unshare(CLONE_NEWNET) == 0 ? 0 : 1);
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return false;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool lesson_missing(const lesson *l, char *what, size_t n)
{
    if (what && n)
        what[0] = '\0';
    for (size_t i = 0; i < l->nneeds; i++)
        if (!strcmp(l->needs[i], LESSON_NEEDS_ROOT)) {
            if (!may_unshare_net()) {
                err_set(what, n, "%s", _("it needs root (the lab's network namespaces need CAP_SYS_ADMIN "
                                         "and CAP_NET_ADMIN)"));
                return true;
            }
        } else if (!runnable(l->needs[i])) {
            err_set(what, n, _("%s is not installed"), l->needs[i]);
            return true;
        }
    for (size_t i = 0; i < l->nserver; i++)
        if (!strncmp(l->server[i], "consul", 6) && !consulproc_available()) {
            err_set(what, n, "%s", _(CONSUL_MISSING));
            return true;
        }
    return false;
}

/* The run's variables and, unless dry, its scratch directory and servers. */
static lesson_run *run_make(const lesson *l, const char *bindir, bool dry, char *skip, size_t skiplen, char *err,
                            size_t errlen)
{
    lesson_run *r = calloc(1, sizeof *r);
    if (!r) {
        err_set(err, errlen, "out of memory");
        return NULL;
    }
    r->l = l;
    r->dry = dry;
    for (int i = 0; i <= LESSON_PORTS; i++)
        r->port_hold[i] = -1;
    snprintf(r->bindir, sizeof r->bindir, "%s", bindir);
    char dirname[32];
    snprintf(dirname, sizeof dirname, "wb-lesson%02d", l->number);
    if (dry) {
        const char *tmp = getenv("TMPDIR");
        snprintf(r->work, sizeof r->work, "%s/%s", tmp && tmp[0] ? tmp : "/tmp", dirname);
    } else if (tempdir_make(r->work, sizeof r->work, dirname) < 0) {
        err_set(err, errlen, _("cannot make a scratch directory: %s"), strerror(errno));
        free(r);
        return NULL;
    }
    /* absolute: the commands run in the scratch directory */
    char lessons[PATH_MAX];
    if (!l->path || !realpath(l->path, lessons))
        snprintf(lessons, sizeof lessons, "%s", l->path ? l->path : ".");
    char *slash = strrchr(lessons, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(lessons, sizeof lessons, ".");
    set_var(r, "WORK", "%s", r->work);
    set_var(r, "LESSONS", "%s", lessons);
    set_var(r, "BIN", "%s", bindir);
    for (int i = 1; i <= LESSON_PORTS; i++) {
        char name[16];
        snprintf(name, sizeof name, "PORT%d", i);
        set_var(r, name, "%d", dry ? spawn_free_port() : spawn_hold_port(&r->port_hold[i]));
    }
    for (size_t i = 0; i < l->nserver; i++)
        if (start_server(r, l->server[i], skip, skiplen, err, errlen) < 0) {
            lesson_run_free(r);
            return NULL;
        }
    return r;
}

lesson_run *lesson_run_new(const lesson *l, const char *bindir, char *skip, size_t skiplen, char *err,
                           size_t errlen)
{
    if (lesson_missing(l, skip, skiplen))
        return NULL;
    return run_make(l, bindir, false, skip, skiplen, err, errlen);
}

lesson_run *lesson_run_dry(const lesson *l, const char *bindir)
{
    char err[256];
    return run_make(l, bindir, true, NULL, 0, err, sizeof err);
}

bool lesson_run_is_dry(const lesson_run *r)
{
    return r && r->dry;
}

void lesson_run_free(lesson_run *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nservers; i++) {
        if (r->servers[i].pid > 0 && kill(r->servers[i].pid, SIGCONT) == 0)
            spawn_stop(&r->servers[i], SIGTERM, 3000);
        else if (r->servers[i].pid > 0)
            waitpid(r->servers[i].pid, NULL, WNOHANG);
    }
    if (r->etcd_on)
        etcdproc_stop(&r->etcd, true);
    if (r->consul_on)
        consulproc_stop(&r->consul);
    for (int i = 1; i <= LESSON_PORTS; i++)
        if (r->port_hold[i] >= 0)
            close(r->port_hold[i]);
    if (!r->dry)
        tempdir_remove(r->work);
    free(r);
}

extern char **environ;

/* The commands' environment: ours, with the run's variables, ETCDCTL_API=3 and bindir
 * first on PATH. Made before fork, because a child of a threaded process may only make
 * async-signal-safe calls. The strings live in one block: free the array and *block. */
static char **make_env(const lesson_run *r, char **block)
{
    size_t n = 0;
    while (environ[n])
        n++;
    buf b;
    buf_init(&b, 1 << 20);
    size_t *offs = calloc(n + r->nvars + 2, sizeof *offs), k = 0;
    const char *old_path = getenv("PATH");
    for (size_t i = 0; offs && i < n; i++) {
        const char *e = environ[i];
        size_t nl = strcspn(e, "=");
        bool ours = (nl == 4 && !strncmp(e, "PATH", 4)) || (nl == 11 && !strncmp(e, "ETCDCTL_API", 11));
        for (size_t v = 0; v < r->nvars && !ours; v++)
            ours = strlen(r->vars[v].name) == nl && !strncmp(e, r->vars[v].name, nl);
        if (!ours) {
            offs[k++] = buf_size(&b);
            buf_append(&b, e, strlen(e) + 1);
        }
    }
    for (size_t v = 0; offs && v < r->nvars; v++) {
        offs[k++] = buf_size(&b);
        buf_printf(&b, "%s=%s%c", r->vars[v].name, r->vars[v].value, '\0');
    }
    if (offs) {
        offs[k++] = buf_size(&b);
        buf_printf(&b, "ETCDCTL_API=3%c", '\0');
        offs[k++] = buf_size(&b);
        buf_printf(&b, "PATH=%s:%s%c", r->bindir, old_path ? old_path : "/usr/bin:/bin", '\0');
    }
    *block = offs ? buf_take(&b) : NULL;
    buf_done(&b);
    char **env = *block ? calloc(k + 1, sizeof *env) : NULL;
    for (size_t i = 0; env && i < k; i++)
        env[i] = *block + offs[i];
    free(offs);
    if (!env) {
        free(*block);
        *block = NULL;
    }
    return env;
}

/* Starts `sh -c script` in a process group of its own, in the scratch directory, with the
 * run's environment; stdout and stderr go to out_fd. Returns the pid, or -1. */
static pid_t start_shell(const lesson_run *r, const char *script, int out_fd)
{
    char *block;
    char **env = make_env(r, &block);
    if (!env)
        return -1;
    char *const argv[] = {"sh", "-c", (char *)script, NULL};
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        int in = open("/dev/null", O_RDONLY);
        if (in >= 0)
            dup2(in, STDIN_FILENO);
        dup2(out_fd, STDOUT_FILENO);
        dup2(out_fd, STDERR_FILENO);
        if (chdir(r->work) != 0)
            _exit(126);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        struct sigaction dfl = {.sa_handler = SIG_DFL};
        sigaction(SIGPIPE, &dfl, NULL);
        execve("/bin/sh", argv, env);
        _exit(127);
    }
    free(env);
    free(block);
    return pid;
}

/* SIGTERMs the process group, SIGKILLs it after grace_ms, and reaps its leader. */
static int stop_group(pid_t pid, int grace_ms)
{
    int status = -1;
    kill(-pid, SIGTERM);
    uint64_t deadline = clock_now_ms() + (uint64_t)grace_ms;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid || (w < 0 && errno == ECHILD))
            break;
        if (clock_now_ms() >= deadline) {
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
        clock_sleep_ms(10);
    }
    kill(-pid, SIGKILL);
    return status;
}

/* text is the expectation's text with the run's variables filled in. */
static bool check(const lesson_expect *e, const char *text, const lesson_result *res)
{
    switch (e->kind) {
    case EXPECT_CONTAINS: return strstr(res->output, text) != NULL;
    case EXPECT_LACKS: return strstr(res->output, text) == NULL;
    case EXPECT_MATCHES: {
        regex_t re;
        if (regcomp(&re, text, REG_EXTENDED | REG_NOSUB | REG_NEWLINE) != 0)
            return false;
        bool m = regexec(&re, res->output, 0, NULL, 0) == 0;
        regfree(&re);
        return m;
    }
    case EXPECT_EXIT:
        if (res->timed_out)
            return false;
        return e->status == -1 || (e->status == -2 ? res->status != 0 : res->status == e->status);
    }
    return false;
}

void lesson_expect_describe(const lesson_expect *e, lesson_lang lang, char *out, size_t n)
{
    bool zh = lang == LANG_ZH;
    switch (e->kind) {
    case EXPECT_CONTAINS: snprintf(out, n, zh ? "输出包含 `%s`" : "output contains `%s`", e->text); break;
    case EXPECT_LACKS: snprintf(out, n, zh ? "输出不含 `%s`" : "output does not contain `%s`", e->text); break;
    case EXPECT_MATCHES: snprintf(out, n, zh ? "输出匹配 /%s/" : "output matches /%s/", e->text); break;
    case EXPECT_EXIT:
        if (e->status == -1)
            snprintf(out, n, zh ? "在时限内结束(退出码不限)" : "finishes in time (any exit status)");
        else if (e->status == -2)
            snprintf(out, n, zh ? "退出码不是 0" : "exit status is not 0");
        else
            snprintf(out, n, zh ? "退出码 %d" : "exit status %d", e->status);
        break;
    }
}

/* Starts step i's background commands, each writing to a log in the scratch directory,
 * and gives them a moment to get going. Returns how many started; their pids in bg. */
static size_t start_background(const lesson_run *r, size_t i, pid_t bg[LESSON_MAX_LINES])
{
    const lesson_step *s = &r->l->step[i];
    size_t nbg = 0;
    for (size_t j = 0; j < s->nbackground; j++) {
        char log[PATH_MAX + 64];
        snprintf(log, sizeof log, "%s/background-%zu-%zu.log", r->work, i + 1, j + 1);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        char *cmd = lesson_expand(r, s->background[j]);
        pid_t pid = fd >= 0 && cmd ? start_shell(r, cmd, fd) : -1;
        free(cmd);
        if (fd >= 0)
            close(fd);
        if (pid > 0)
            bg[nbg++] = pid;
    }
    if (nbg)
        clock_sleep_ms(BACKGROUND_SETTLE_MS);
    return nbg;
}

/* Reads the shell pid's output from fd into out (capped) until the shell has exited and
 * its output ended, or stayed quiet for a moment after the exit (something it left
 * running may hold the pipe open), or the deadline passed, or the run was cancelled.
 * Then closes fd and stops the shell's process group. Returns the shell's wait status. */
static int collect_output(lesson_run *r, pid_t pid, int fd, int timeout_s, buf *out, lesson_result *res)
{
    uint64_t deadline = clock_now_ms() + (uint64_t)timeout_s * 1000;
    uint64_t exited_at = 0;
    int status = 0;
    bool reaped = false, eof = false;
    char chunk[4096];
    while (!eof || !reaped) {
        uint64_t now = clock_now_ms();
        if (now >= deadline || atomic_load(&r->cancel)) {
            res->timed_out = true;
            break;
        }
        if (reaped && now - exited_at > 200)
            break;
        struct pollfd p = {fd, POLLIN, 0};
        if (!eof && poll(&p, 1, 50) > 0) {
            ssize_t n = read(fd, chunk, sizeof chunk);
            if (n <= 0)
                eof = true;
            else {
                size_t room = LESSON_MAX_OUTPUT - buf_size(out);
                size_t take = (size_t)n < room ? (size_t)n : room;
                buf_append(out, chunk, take);
                res->truncated |= take < (size_t)n;
            }
        } else if (eof) {
            clock_sleep_ms(10);
        }
        if (!reaped && waitpid(pid, &status, WNOHANG) == pid) {
            reaped = true;
            exited_at = clock_now_ms();
        }
    }
    close(fd);
    if (!reaped)
        status = stop_group(pid, 500);
    else
        kill(-pid, SIGKILL);
    return status;
}

/* Whether text names $PORTn (or ${PORTn}), n not followed by another digit. */
static bool names_port(const char *text, int n)
{
    char name[16];
    int len = snprintf(name, sizeof name, "PORT%d", n);
    for (const char *p = text; (p = strstr(p, name)); p += len)
        if (p > text && (p[-1] == '$' || p[-1] == '{') && !isdigit((unsigned char)p[len]))
            return true;
    return false;
}

/* Lets go of the ports a step's commands use, just before they run: until then nobody
 * else on the machine can take them. */
static void release_ports(lesson_run *r, const lesson_step *s)
{
    for (int n = 1; n <= LESSON_PORTS; n++) {
        if (r->port_hold[n] < 0)
            continue;
        bool used = false;
        for (size_t j = 0; j < s->nrun && !used; j++)
            used = names_port(s->run[j], n);
        for (size_t j = 0; j < s->nbackground && !used; j++)
            used = names_port(s->background[j], n);
        if (used) {
            close(r->port_hold[n]);
            r->port_hold[n] = -1;
        }
    }
}

int lesson_run_step(lesson_run *r, size_t i, lesson_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    if (i >= r->l->nstep) {
        err_set(err, errlen, "lesson %d has %zu steps", r->l->number, r->l->nstep);
        return -1;
    }
    if (r->dry) {
        err_set(err, errlen, _("the lesson's commands are not run (a program it needs is missing)"));
        return -1;
    }
    const lesson_step *s = &r->l->step[i];
    release_ports(r, s);
    pid_t bg[LESSON_MAX_LINES];
    size_t nbg = start_background(r, i, bg);

    buf script;
    buf_init(&script, LESSON_MAX_FILE);
    for (size_t j = 0; j < s->nrun; j++) {
        char *cmd = lesson_expand(r, s->run[j]);
        if (cmd)
            buf_printf(&script, "%s\n", cmd);
        free(cmd);
    }
    buf_putc(&script, '\0');
    int pfd[2];
    int rc = -1;
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        err_set(err, errlen, "pipe: %s", strerror(errno));
        goto done;
    }
    pid_t pid = start_shell(r, (const char *)buf_data(&script), pfd[1]);
    close(pfd[1]);
    if (pid < 0) {
        close(pfd[0]);
        err_set(err, errlen, "fork: %s", strerror(errno));
        goto done;
    }
    buf out;
    buf_init(&out, LESSON_MAX_OUTPUT + 1);
    int status = collect_output(r, pid, pfd[0], s->timeout_s, &out, res);
    res->status = !res->timed_out && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    res->output = buf_take(&out);
    res->ok = res->output != NULL;
    for (size_t j = 0; res->output && j < s->nexpect; j++) {
        char *text = s->expect[j].text ? lesson_expand(r, s->expect[j].text) : NULL;
        res->met[j] = check(&s->expect[j], text ? text : "", res);
        free(text);
        res->ok &= res->met[j];
    }
    rc = res->output ? 0 : -1;
done:
    for (size_t j = 0; j < nbg; j++)
        stop_group(bg[j], BACKGROUND_GRACE_MS);
    buf_done(&script);
    return rc;
}

void lesson_run_cancel(lesson_run *r)
{
    atomic_store(&r->cancel, true);
}

void lesson_result_done(lesson_result *res)
{
    free(res->output);
    res->output = NULL;
}
