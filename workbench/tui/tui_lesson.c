/* tui_lesson.c -- the TUI's lesson: a worker thread that starts the lesson's servers and
 * runs the step the learner asks for, a poller that follows those servers and the
 * lesson's registry, and the snapshot the panes are drawn from. */
#include "tui_lesson.h"

#include <ctype.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/bindir.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/i18n.h"

enum { POLL_MS = 1000 };

/* Lessons closed but still stopping their servers (their threads are detached). */
static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t live_cv = PTHREAD_COND_INITIALIZER;
static int live;

struct tui_lesson {
    lesson *l;
    lesson_run *run; /* set by the worker once the servers are up */
    pthread_t worker;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* under mu */
    bool quit, changed, finished;
    long want;       /* the step the learner asked for, -1: none pending */
    size_t step;
    lesson_phase phase;
    lesson_result res;
    char *commands, *say, *look;
    char why[512];
    lesson_lang lang;
    /* the lesson's servers, set once by the worker; their states and the registry's
     * entries, by the poller */
    tui_lesson_server server[LESSON_MAX_LINES];
    size_t nserver;
    char reg_url[256], registry[128];
    bool reg_ok;
    registry_instance reg[TUI_LESSON_MAX_REG];
    size_t nreg, reg_total;
    /* not under mu */
    atomic_bool stop; /* the poller ends, its registry requests give up */
    pthread_t poller;
    bool polling;
};

static void lesson_destroy(tui_lesson *t);

static char *expand_commands(const lesson_run *r, const lesson_step *s)
{
    buf b;
    buf_init(&b, LESSON_MAX_FILE);
    for (size_t j = 0; j < s->nbackground; j++) {
        char *c = lesson_expand(r, s->background[j]);
        buf_printf(&b, "$ %s &\n", c ? c : "");
        free(c);
    }
    for (size_t j = 0; j < s->nrun; j++) {
        char *c = lesson_expand(r, s->run[j]);
        buf_printf(&b, "$ %s\n", c ? c : "");
        free(c);
    }
    char *text = buf_take(&b);
    return text;
}

/* "KIND [VAR] ...": the lesson's servers, their addresses and pids from the variables the
 * run set while starting them; the registry from $ETCD or $CONSUL (or the line's VAR). */
static void list_servers(tui_lesson *t, const lesson_run *r)
{
    for (size_t i = 0; i < t->l->nserver && t->nserver < LESSON_MAX_LINES; i++) {
        char kind[16] = "", name[24] = "";
        sscanf(t->l->server[i], "%15s %23s", kind, name);
        const char *var = lesson_server_var(kind);
        if (!var)
            continue;
        bool named = isupper((unsigned char)name[0]);
        bool reg = !strcmp(kind, "etcd") || !strcmp(kind, "consul");
        char ref[40], pidref[40];
        snprintf(ref, sizeof ref, "$%s%s", reg ? var : named ? name : var, reg ? "_ADDR" : "");
        snprintf(pidref, sizeof pidref, "$%s_PID", reg ? var : named ? name : var);
        char *addr = lesson_expand(r, ref), *pid = lesson_expand(r, pidref);
        tui_lesson_server *s = &t->server[t->nserver];
        if (addr && addr[0] != '$') {
            snprintf(s->kind, sizeof s->kind, "%.*s", (int)sizeof s->kind - 1, kind);
            snprintf(s->name, sizeof s->name, "%s", named ? name : var);
            snprintf(s->addr, sizeof s->addr, "%s", addr);
            s->pid = pid && isdigit((unsigned char)pid[0]) ? atoi(pid) : 0;
            t->nserver++;
        }
        free(addr);
        free(pid);
        if (reg && !t->reg_url[0]) {
            snprintf(ref, sizeof ref, "$%s", named ? name : var);
            char *url = lesson_expand(r, ref);
            if (url && url[0] != '$' && strstr(url, "://")) {
                snprintf(t->reg_url, sizeof t->reg_url, "%s", url);
                snprintf(t->registry, sizeof t->registry, "%s %s", kind, s->addr);
            }
            free(url);
        }
    }
}

/* Running, stopped (SIGSTOP) or gone (exited, or a zombie not yet reaped). */
static lesson_proc_state proc_state(int pid)
{
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = pid > 0 ? fopen(path, "r") : NULL;
    if (!f)
        return pid > 0 ? PROC_GONE : PROC_RUNNING;
    char *got = fgets(line, sizeof line, f);
    fclose(f);
    const char *paren = got ? strrchr(line, ')') : NULL;
    char st = paren && paren[1] == ' ' ? paren[2] : 'Z';
    return st == 'Z' || st == 'X' ? PROC_GONE : st == 'T' || st == 't' ? PROC_STOPPED : PROC_RUNNING;
}

/* The entries of service (every one: NULL) added to out; *total counts them all. */
static int add_listing(registry *rg, const char *service, registry_instance *out, size_t *n, size_t *total)
{
    char err[256];
    registry_instance *got = NULL;
    size_t k = 0;
    if (registry_list(rg, service, &got, &k, NULL, err, sizeof err) < 0)
        return -1;
    for (size_t j = 0; j < k; j++, (*total)++)
        if (*n < TUI_LESSON_MAX_REG)
            out[(*n)++] = got[j];
    free(got);
    return 0;
}

/* Every entry of the registry (Consul: of every service, whatever its check says) into
 * out. Returns 0 or -1. */
static int list_registry(registry *rg, registry_instance *out, size_t *n, size_t *total)
{
    *n = *total = 0;
    if (registry_get_kind(rg) != REGISTRY_CONSUL)
        return add_listing(rg, NULL, out, n, total);
    char err[256];
    buf names;
    buf_init(&names, 64 << 10);
    int rc = registry_services(rg, &names, err, sizeof err);
    char *list = buf_take(&names), *save = NULL;
    for (char *svc = rc == 0 && list ? strtok_r(list, "\n", &save) : NULL; svc && rc == 0;
         svc = strtok_r(NULL, "\n", &save))
        if (strcmp(svc, "consul") != 0 && registry_check_service(rg, svc, err, sizeof err) == 0)
            rc = add_listing(rg, svc, out, n, total); /* a name Consul cannot be asked about is left out */
    free(list);
    return rc;
}

/* The poller: every POLL_MS, the states of the lesson's servers and its registry's
 * entries; the view changes when they do. Ends when the lesson is closed. */
static void *poll_lesson(void *arg)
{
    tui_lesson *t = arg;
    char err[256];
    registry *rg = t->reg_url[0] ? registry_new(t->reg_url, NULL, err, sizeof err) : NULL;
    registry_instance *reg = calloc(TUI_LESSON_MAX_REG, sizeof *reg);
    if (rg) {
        registry_set_cancel(rg, &t->stop);
        registry_set_passing_only(rg, false);
    }
    pthread_mutex_lock(&t->mu);
    while (!t->quit && reg) {
        pthread_mutex_unlock(&t->mu);
        size_t n = 0, total = 0;
        memset(reg, 0, TUI_LESSON_MAX_REG * sizeof *reg);
        bool ok = rg && list_registry(rg, reg, &n, &total) == 0;
        pthread_mutex_lock(&t->mu);
        bool change = ok != t->reg_ok || n != t->nreg || total != t->reg_total || memcmp(reg, t->reg, n * sizeof *reg);
        for (size_t i = 0; i < t->nserver; i++) {
            lesson_proc_state st = proc_state(t->server[i].pid);
            change |= st != t->server[i].state;
            t->server[i].state = st;
        }
        if (change) {
            t->reg_ok = ok;
            t->nreg = n;
            t->reg_total = total;
            memcpy(t->reg, reg, n * sizeof *reg);
            t->changed = true;
        }
        struct timespec until = clock_after(CLOCK_REALTIME, POLL_MS);
        while (!t->quit && pthread_cond_timedwait(&t->cv, &t->mu, &until) == 0)
            ;
    }
    pthread_mutex_unlock(&t->mu);
    free(reg);
    registry_free(rg);
    return NULL;
}

static void *work(void *arg)
{
    tui_lesson *t = arg;
    char bindir[PATH_MAX], skip[512] = "", err[512] = "";
    lesson_run *run = NULL;
    if (bindir_get(bindir, sizeof bindir) == 0)
        run = lesson_run_new(t->l, bindir, skip, sizeof skip, err, sizeof err);
    else
        err_set(err, sizeof err, "cannot find the workbench's own directory");
    pthread_mutex_lock(&t->mu);
    t->run = run;
    if (run) {
        list_servers(t, run);
        t->polling = pthread_create(&t->poller, NULL, poll_lesson, t) == 0;
    }
    if (!run) {
        t->phase = skip[0] ? PHASE_SKIPPED : PHASE_FAILED;
        snprintf(t->why, sizeof t->why, "%s", skip[0] ? skip : err);
        t->changed = true;
    }
    while (!t->quit) {
        if (!run || t->want < 0) {
            pthread_cond_wait(&t->cv, &t->mu);
            continue;
        }
        size_t i = (size_t)t->want;
        t->want = -1;
        t->step = i;
        t->phase = PHASE_RUNNING;
        t->why[0] = '\0';
        lesson_result_done(&t->res);
        free(t->commands);
        free(t->say);
        free(t->look);
        t->commands = expand_commands(run, &t->l->step[i]);
        t->say = lesson_expand(run, lesson_text(t->l->step[i].say, t->lang));
        t->look = lesson_expand(run, lesson_text(t->l->step[i].look, t->lang));
        t->changed = true;
        pthread_mutex_unlock(&t->mu);

        lesson_result res;
        int rc = lesson_run_step(run, i, &res, err, sizeof err);

        pthread_mutex_lock(&t->mu);
        if (rc < 0) {
            memset(&res, 0, sizeof res);
            snprintf(t->why, sizeof t->why, "%s", err);
        }
        t->res = res;
        t->phase = PHASE_SHOWN;
        t->changed = true;
    }
    t->run = NULL;
    pthread_mutex_unlock(&t->mu);
    atomic_store(&t->stop, true);
    if (t->polling)
        pthread_join(t->poller, NULL);
    /* here, not in close: the servers die with the thread that started them, and
     * stopping them takes time the screen should not wait for */
    lesson_run_free(run);
    lesson_destroy(t);
    pthread_mutex_lock(&live_mu);
    live--;
    pthread_cond_broadcast(&live_cv);
    pthread_mutex_unlock(&live_mu);
    return NULL;
}

size_t tui_lesson_list(tui_lesson_item *items, size_t max, lesson_lang lang, char *err, size_t errlen)
{
    char dir[PATH_MAX];
    if (lesson_dir(dir, sizeof dir) < 0) {
        err_set(err, errlen, "%s", _("the lessons directory path is too long"));
        return 0;
    }
    lesson_catalog c;
    lesson_catalog_load(&c, dir, err, errlen);
    size_t n = 0;
    for (int i = 0; i < c.n && n < max; i++, n++) {
        const lesson *l = c.l[i];
        char missing[256];
        items[n].number = l->number;
        snprintf(items[n].title, sizeof items[n].title, "%s", lesson_text(l->title, lang));
        items[n].why[0] = '\0';
        if (lesson_missing(l, missing, sizeof missing))
            snprintf(items[n].why, sizeof items[n].why, _("(cannot run: %s)"), missing);
    }
    lesson_catalog_free(&c);
    return n;
}

tui_lesson *tui_lesson_open(int number, lesson_lang lang, char *err, size_t errlen)
{
    char dir[PATH_MAX];
    lesson *l = lesson_dir(dir, sizeof dir) == 0 ? lesson_find(dir, number, err, errlen) : NULL;
    if (!l)
        return NULL;
    if (lesson_validate(l, err, errlen) < 0) {
        lesson_free(l);
        return NULL;
    }
    tui_lesson *t = calloc(1, sizeof *t);
    if (!t) {
        lesson_free(l);
        err_set(err, errlen, "out of memory");
        return NULL;
    }
    t->l = l;
    t->lang = lang;
    t->want = 0;
    t->phase = PHASE_STARTING;
    t->changed = true;
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    sigset_t all, old; /* signals stay with the main thread, whose poll they wake */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    pthread_mutex_lock(&live_mu);
    live++;
    pthread_mutex_unlock(&live_mu);
    int rc = pthread_create(&t->worker, NULL, work, t);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        pthread_mutex_lock(&live_mu);
        live--;
        pthread_mutex_unlock(&live_mu);
        err_set(err, errlen, "cannot start the lesson's thread");
        pthread_mutex_destroy(&t->mu);
        pthread_cond_destroy(&t->cv);
        lesson_free(l);
        free(t);
        return NULL;
    }
    return t;
}

void tui_lesson_close(tui_lesson *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->mu);
    t->quit = true;
    if (t->run)
        lesson_run_cancel(t->run);
    pthread_cond_broadcast(&t->cv);
    pthread_t worker = t->worker; /* t may be gone once the lock is let go */
    pthread_mutex_unlock(&t->mu);
    pthread_detach(worker); /* it frees t once the lesson's servers are stopped */
}

void tui_lesson_wait_closed(int timeout_ms)
{
    struct timespec until = clock_after(CLOCK_REALTIME, timeout_ms > 0 ? (uint64_t)timeout_ms : 0);
    pthread_mutex_lock(&live_mu);
    while (live > 0 && pthread_cond_timedwait(&live_cv, &live_mu, &until) == 0)
        ;
    pthread_mutex_unlock(&live_mu);
}

static void lesson_destroy(tui_lesson *t)
{
    lesson_result_done(&t->res);
    free(t->commands);
    free(t->say);
    free(t->look);
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cv);
    lesson_free(t->l);
    free(t);
}

void tui_lesson_move(tui_lesson *t, lesson_move move)
{
    pthread_mutex_lock(&t->mu);
    if (t->phase == PHASE_SHOWN && t->want < 0) {
        size_t n = t->l->nstep;
        if (move == LESSON_NEXT && t->step + 1 >= n)
            t->finished = true;
        else if (move == LESSON_NEXT)
            t->want = (long)t->step + 1;
        else if (move == LESSON_BACK)
            t->want = t->step > 0 ? (long)t->step - 1 : 0;
        else
            t->want = (long)t->step;
        if (t->want >= 0)
            t->finished = false;
        t->changed = true;
        pthread_cond_broadcast(&t->cv);
    }
    pthread_mutex_unlock(&t->mu);
}

bool tui_lesson_changed(tui_lesson *t)
{
    pthread_mutex_lock(&t->mu);
    bool c = t->changed;
    pthread_mutex_unlock(&t->mu);
    return c;
}

void tui_lesson_view_get(tui_lesson *t, tui_lesson_view *v)
{
    memset(v, 0, sizeof *v);
    pthread_mutex_lock(&t->mu);
    v->l = t->l;
    v->lang = t->lang;
    v->step = t->step;
    v->phase = t->phase;
    v->commands = t->commands ? strdup(t->commands) : NULL;
    v->say = t->say ? strdup(t->say) : NULL;
    v->look = t->look ? strdup(t->look) : NULL;
    v->output = t->res.output ? strdup(t->res.output) : NULL;
    memcpy(v->met, t->res.met, sizeof v->met);
    v->ok = t->res.ok;
    v->finished = t->finished;
    snprintf(v->why, sizeof v->why, "%s", t->why);
    v->mine = t->phase != PHASE_SKIPPED && t->phase != PHASE_FAILED;
    memcpy(v->server, t->server, sizeof v->server);
    v->nserver = t->nserver;
    snprintf(v->registry, sizeof v->registry, "%s", t->registry);
    v->reg_ok = t->reg_ok;
    memcpy(v->reg, t->reg, t->nreg * sizeof *v->reg);
    v->nreg = t->nreg;
    v->reg_total = t->reg_total;
    t->changed = false;
    pthread_mutex_unlock(&t->mu);
}

void tui_lesson_view_done(tui_lesson_view *v)
{
    free(v->commands);
    free(v->output);
    free(v->say);
    free(v->look);
    v->commands = v->output = v->say = v->look = NULL;
}

const char *tui_lesson_pane(tui_lesson *t)
{
    pthread_mutex_lock(&t->mu);
    const char *p = t->l->step[t->step].pane;
    pthread_mutex_unlock(&t->mu);
    return p;
}
