/* tui_model.c -- the TUI's model: registry entries, shared load counters, live rates. */
#include "tui_model.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/i18n.h"

static int proto_of(const char *name, rpc_proto *p)
{
    if (strcmp(name, "json") == 0 || name[0] == '\0')
        *p = PROTO_JSON;
    else if (strcmp(name, "gob") == 0)
        *p = PROTO_GOB;
    else if (strcmp(name, "grpc") == 0)
        *p = PROTO_GRPC;
    else
        return -1;
    return 0;
}

/* Copies the registry entries (but those Consul says fail their check) and the static
 * members into the shared member list (called with mu unlocked). */
static void publish_members(tui_model *m)
{
    pthread_mutex_lock(&m->sh.mu);
    m->sh.nmembers = 0;
    for (size_t i = 0; i < m->nreg && m->sh.nmembers < TUI_MAX_ADDRS; i++) {
        tui_member *mb = &m->sh.members[m->sh.nmembers];
        if (proto_of(m->reg[i].inst.protocol, &mb->proto) < 0 || !registry_instance_usable(&m->reg[i].inst) ||
            (m->service && strcmp(m->reg[i].inst.service, m->service) != 0))
            continue;
        snprintf(mb->addr, sizeof mb->addr, "%.*s", (int)sizeof mb->addr - 1, m->reg[i].inst.addr);
        m->sh.nmembers++;
    }
    for (size_t i = 0; i < m->nstatics && m->sh.nmembers < TUI_MAX_ADDRS; i++)
        m->sh.members[m->sh.nmembers++] = m->statics[i];
    m->sh.member_gen++;
    pthread_cond_signal(&m->sh.cv);
    pthread_mutex_unlock(&m->sh.mu);
}

/* The arrays of TUI_MAX_ADDRS rows (pages are touched only as rows come) and indexes.
 * Returns 0 or -1. */
static int make_arrays(tui_model *m)
{
    m->sh.members = calloc(TUI_MAX_ADDRS, sizeof *m->sh.members);
    m->sh.addrs = calloc(TUI_MAX_ADDRS, sizeof *m->sh.addrs);
    m->reg = calloc(TUI_MAX_ADDRS, sizeof *m->reg);
    m->statics = calloc(TUI_MAX_ADDRS, sizeof *m->statics);
    m->traffic.rows = calloc(TUI_MAX_ADDRS, sizeof *m->traffic.rows);
    m->spare_rows = calloc(TUI_MAX_ADDRS, sizeof *m->spare_rows);
    m->hist[0].answered = calloc((size_t)TUI_HIST * TUI_MAX_ADDRS, sizeof *m->hist[0].answered);
    if (!m->sh.members || !m->sh.addrs || !m->reg || !m->statics || !m->traffic.rows || !m->spare_rows ||
        !m->hist[0].answered)
        return -1;
    for (size_t k = 1; k < TUI_HIST; k++)
        m->hist[k].answered = m->hist[0].answered + k * TUI_MAX_ADDRS;
    if (tui_index_init(&m->sh.addr_index, TUI_MAX_ADDRS) < 0 || tui_index_init(&m->reg_index, TUI_MAX_ADDRS) < 0 ||
        tui_index_init(&m->row_index, TUI_MAX_ADDRS) < 0)
        return -1;
    return 0;
}

int tui_model_init(tui_model *m)
{
    memset(m, 0, sizeof *m);
    if (make_arrays(m) < 0) {
        tui_model_done(m);
        return -1;
    }
    if (pthread_mutex_init(&m->sh.mu, NULL) != 0) {
        tui_model_done(m);
        return -1;
    }
    if (pthread_cond_init(&m->sh.cv, NULL) != 0) {
        pthread_mutex_destroy(&m->sh.mu);
        tui_model_done(m);
        return -1;
    }
    m->sync_ok = true;
    m->sh.rate = 100;
    m->watch_ok = true;
    m->start_ms = clock_now_ms();
    m->reap_after_s = tui_model_reap_after(TUI_SERVER_TTL);
    return 0;
}

void tui_model_done(tui_model *m)
{
    if (m->sync_ok) {
        pthread_cond_destroy(&m->sh.cv);
        pthread_mutex_destroy(&m->sh.mu);
    }
    free(m->sh.members);
    free(m->sh.addrs);
    free(m->reg);
    free(m->statics);
    free(m->traffic.rows);
    free(m->spare_rows);
    free(m->hist[0].answered);
    tui_index_done(&m->sh.addr_index);
    tui_index_done(&m->reg_index);
    tui_index_done(&m->row_index);
    memset(m, 0, sizeof *m);
}

int tui_model_find_reg(const tui_model *m, const char *addr)
{
    return tui_index_find(&m->reg_index, addr, m->reg[0].inst.addr, sizeof m->reg[0]);
}

int tui_model_reap_after(int ttl)
{
    return ttl * 3 > 60 ? ttl * 3 : 60;
}

int64_t tui_model_reap_left(const tui_model *m, const tui_reg_entry *e, uint64_t now_ms)
{
    if (!e->critical_ms)
        return -1;
    uint64_t due = e->critical_ms + (uint64_t)m->reap_after_s * 1000;
    return now_ms >= due ? 0 : (int64_t)((due - now_ms + 999) / 1000);
}

/* Applies ev to the entries without publishing them. Returns the DIRTY_ flags to set, and
 * in *changed whether the membership may have changed. */
static int apply(tui_model *m, const registry_event *ev, bool *changed)
{
    int i = tui_model_find_reg(m, ev->inst.addr);
    *changed = false;
    switch (ev->type) {
    case REGISTRY_EV_PUT:
        if (i < 0) {
            if (m->nreg == TUI_MAX_ADDRS) {
                m->reg_left_out++;
                return DIRTY_REGISTRY;
            }
            i = (int)m->nreg++;
            memset(&m->reg[i], 0, sizeof m->reg[i]);
            m->reg[i].since_ms = clock_now_ms();
            m->reg[i].ttl = -1;
            snprintf(m->reg[i].inst.addr, sizeof m->reg[i].inst.addr, "%s", ev->inst.addr);
            tui_index_add(&m->reg_index, m->reg[0].inst.addr, sizeof m->reg[0], i);
        }
        if (strcmp(ev->inst.status, "critical") != 0) /* Consul's reaper counts from the turn */
            m->reg[i].critical_ms = 0;
        else if (!m->reg[i].critical_ms)
            m->reg[i].critical_ms = clock_now_ms();
        m->reg[i].inst = ev->inst;
        *changed = true;
        return DIRTY_REGISTRY | DIRTY_INSTANCES | DIRTY_TIMELINE;
    case REGISTRY_EV_DELETE:
        if (i < 0) {
            if (m->reg_left_out)
                m->reg_left_out--; /* one of those left out, most likely */
            return m->reg_left_out ? DIRTY_REGISTRY : 0;
        }
        memmove(&m->reg[i], &m->reg[i + 1], (m->nreg - (size_t)i - 1) * sizeof m->reg[0]);
        m->nreg--;
        tui_index_rebuild(&m->reg_index, m->reg[0].inst.addr, sizeof m->reg[0], m->nreg);
        *changed = true;
        return DIRTY_REGISTRY | DIRTY_INSTANCES | DIRTY_TIMELINE;
    case REGISTRY_EV_ERROR:
        m->watch_ok = false;
        return DIRTY_REGISTRY | DIRTY_TIMELINE;
    case REGISTRY_EV_RESUMED:
        m->watch_ok = true;
        return DIRTY_REGISTRY | DIRTY_TIMELINE;
    }
    return 0;
}

int tui_model_apply(tui_model *m, const registry_event *ev)
{
    bool changed;
    int dirty = apply(m, ev, &changed);
    if (changed)
        publish_members(m);
    return dirty;
}

int tui_model_load(tui_model *m, const registry_instance *list, size_t n, size_t left_out)
{
    tui_model_clear_registry(m);
    bool changed;
    for (size_t i = 0; i < n; i++) {
        registry_event ev = {.type = REGISTRY_EV_PUT, .inst = list[i]};
        apply(m, &ev, &changed);
    }
    m->reg_left_out += left_out;
    publish_members(m);
    return DIRTY_REGISTRY | DIRTY_INSTANCES;
}

void tui_model_event_note(const registry_event *ev, char *out, size_t outlen)
{
    if (ev->type == REGISTRY_EV_PUT && ev->was[0])
        snprintf(out, outlen, _("registry: %s check %s -> %s"), ev->inst.addr, ev->was, ev->inst.status);
    else if (ev->type == REGISTRY_EV_PUT)
        snprintf(out, outlen, _("registry: %s registered"), ev->inst.addr);
    else if (ev->type == REGISTRY_EV_DELETE)
        snprintf(out, outlen, _("registry: %s removed"), ev->inst.addr);
    else if (ev->type == REGISTRY_EV_ERROR)
        snprintf(out, outlen, _("registry unreachable (%s)"), ev->msg);
    else
        snprintf(out, outlen, _("registry reachable again"));
}

void tui_model_clear_registry(tui_model *m)
{
    m->nreg = 0;
    m->reg_left_out = 0;
    tui_index_clear(&m->reg_index);
    m->nstatics = 0;
    m->statics_left_out = 0;
    m->watch_ok = true;
    pthread_mutex_lock(&m->sh.mu);
    m->sh.reset_gen++;
    pthread_mutex_unlock(&m->sh.mu);
    publish_members(m);
}

bool tui_model_members_applied(tui_model *m)
{
    pthread_mutex_lock(&m->sh.mu);
    bool done = m->sh.member_done == m->sh.member_gen;
    pthread_mutex_unlock(&m->sh.mu);
    return done;
}

int tui_model_set_static(tui_model *m, const tui_member *mb, size_t n)
{
    size_t left_out = n > TUI_MAX_ADDRS ? n - TUI_MAX_ADDRS : 0;
    n -= left_out;
    if (n == m->nstatics && left_out == m->statics_left_out && memcmp(mb, m->statics, n * sizeof mb[0]) == 0)
        return 0;
    m->statics_left_out = left_out;
    memcpy(m->statics, mb, n * sizeof mb[0]);
    m->nstatics = n;
    publish_members(m);
    return DIRTY_REGISTRY | DIRTY_INSTANCES;
}

int tui_model_find_static(const tui_model *m, const char *addr)
{
    for (size_t i = 0; i < m->nstatics; i++)
        if (strcmp(m->statics[i].addr, addr) == 0)
            return (int)i;
    return -1;
}

void tui_model_set_load(tui_model *m, bool on)
{
    pthread_mutex_lock(&m->sh.mu);
    m->sh.on = on;
    pthread_cond_signal(&m->sh.cv);
    pthread_mutex_unlock(&m->sh.mu);
}

void tui_model_set_knobs(tui_model *m, int timeout_ms, int eject_after, int backoff_min_ms, int backoff_max_ms)
{
    pthread_mutex_lock(&m->sh.mu);
    m->sh.lb_timeout_ms = timeout_ms;
    m->sh.lb_eject_after = eject_after;
    m->sh.lb_backoff_min_ms = backoff_min_ms;
    m->sh.lb_backoff_max_ms = backoff_max_ms;
    m->sh.knob_gen++;
    pthread_cond_signal(&m->sh.cv);
    pthread_mutex_unlock(&m->sh.mu);
}

void tui_model_set_netns(tui_model *m, int fd)
{
    pthread_mutex_lock(&m->sh.mu);
    m->sh.netns_fd = fd;
    m->sh.netns_gen++;
    pthread_cond_signal(&m->sh.cv);
    pthread_mutex_unlock(&m->sh.mu);
}

void tui_model_set_rate(tui_model *m, int rate)
{
    if (rate < 1)
        rate = 1;
    if (rate > TUI_RATE_MAX)
        rate = TUI_RATE_MAX;
    pthread_mutex_lock(&m->sh.mu);
    m->sh.rate = rate;
    pthread_cond_signal(&m->sh.cv);
    pthread_mutex_unlock(&m->sh.mu);
}

void tui_model_set_call(tui_model *m, const char *method, const char *args)
{
    pthread_mutex_lock(&m->sh.mu);
    snprintf(m->sh.method, sizeof m->sh.method, "%s", method);
    snprintf(m->sh.args, sizeof m->sh.args, "%s", args);
    m->sh.call_gen++;
    pthread_cond_signal(&m->sh.cv);
    pthread_mutex_unlock(&m->sh.mu);
}

void tui_model_quit(tui_model *m)
{
    pthread_mutex_lock(&m->sh.mu);
    m->sh.quit = true;
    pthread_cond_signal(&m->sh.cv);
    pthread_mutex_unlock(&m->sh.mu);
}

/* With mu held: addr's counters, added when new; NULL (the call counted in
 * calls_left_out) when the table is full. */
static tui_addr_count *counter(tui_shared *sh, const char *addr)
{
    int i = tui_index_find(&sh->addr_index, addr, sh->addrs[0].addr, sizeof sh->addrs[0]);
    if (i >= 0)
        return &sh->addrs[i];
    if (sh->naddrs == TUI_MAX_ADDRS) {
        sh->calls_left_out++;
        return NULL;
    }
    tui_addr_count *c = &sh->addrs[sh->naddrs];
    memset(c, 0, sizeof *c);
    snprintf(c->addr, sizeof c->addr, "%s", addr);
    tui_index_add(&sh->addr_index, sh->addrs[0].addr, sizeof sh->addrs[0], (int)sh->naddrs++);
    return c;
}

/* With mu held: a note for the Timeline (cut to fit), unless TUI_MAX_NOTES wait already. */
static void note(tui_shared *sh, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(tui_shared *sh, const char *fmt, ...)
{
    if (sh->nnotes == TUI_MAX_NOTES)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sh->notes[sh->nnotes++], sizeof sh->notes[0], fmt, ap);
    va_end(ap);
}

void tui_model_count(tui_model *m, const tui_call *c)
{
    tui_shared *sh = &m->sh;
    pthread_mutex_lock(&sh->mu);
    sh->calls++;
    if (c->failed_addr) {
        sh->retried++;
        tui_addr_count *f = counter(sh, c->failed_addr);
        if (f) {
            f->failed++;
            if (!f->fail_noted) {
                f->fail_noted = true;
                note(sh, _("a call to %s failed (%.80s); retried on %s"), c->failed_addr,
                     c->first_error ? c->first_error : "", c->addr ? c->addr : "none");
            }
        }
    }
    if (c->st == CALL_OK || c->st == CALL_REMOTE_ERROR) {
        tui_addr_count *a = c->addr ? counter(sh, c->addr) : NULL;
        if (a) {
            a->calls++;
            a->errors += c->st == CALL_REMOTE_ERROR;
            a->fail_noted = false;
        }
        if (c->st == CALL_REMOTE_ERROR)
            sh->remote_errors++;
        sh->lat_us[sh->latpos] = c->lat_us > UINT32_MAX ? UINT32_MAX : (uint32_t)c->lat_us;
        sh->latpos = (sh->latpos + 1) % TUI_LAT_RING;
        if (sh->nlat < TUI_LAT_RING)
            sh->nlat++;
    } else {
        sh->failed++;
        if (c->addr && (!c->failed_addr || strcmp(c->addr, c->failed_addr) != 0)) {
            tui_addr_count *a = counter(sh, c->addr);
            if (a)
                a->failed++;
        }
    }
    pthread_mutex_unlock(&sh->mu);
}

int tui_spread_next(tui_spread *s, const size_t n[TUI_NPROTO])
{
    if (memcmp(s->n, n, sizeof s->n) != 0) {
        memcpy(s->n, n, sizeof s->n);
        memset(s->credit, 0, sizeof s->credit);
    }
    int total = 0, best = -1;
    for (int p = 0; p < TUI_NPROTO; p++) {
        if (!n[p])
            continue;
        s->credit[p] += (int)n[p];
        total += (int)n[p];
        if (best < 0 || s->credit[p] > s->credit[best])
            best = p;
    }
    if (best >= 0)
        s->credit[best] -= total;
    return best;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Whether a and b show the same: their numbers and their first n rows. */
static bool same_traffic(const tui_traffic *a, const tui_traffic *b)
{
    return a->on == b->on && a->rate == b->rate && a->calls_s == b->calls_s && a->failed_s == b->failed_s &&
           a->calls == b->calls && a->failed == b->failed && a->remote_errors == b->remote_errors &&
           a->retried == b->retried && a->calls_left_out == b->calls_left_out && a->p50_us == b->p50_us &&
           a->p99_us == b->p99_us && a->nrows == b->nrows &&
           memcmp(a->rows, b->rows, a->nrows * sizeof a->rows[0]) == 0;
}

/* The rates and shares of t's rows since base (dt seconds ago), shown to one decimal. */
static void rates(tui_traffic *t, const tui_sample *base, double dt)
{
    double sum = 0;
    for (size_t i = 0; i < t->nrows; i++) {
        uint64_t was = i < base->nanswered ? base->answered[i] : 0;
        t->rows[i].rate = (double)(t->rows[i].calls - was) / dt;
        sum += t->rows[i].rate;
    }
    for (size_t i = 0; i < t->nrows; i++)
        t->rows[i].share = sum > 0 ? 100.0 * t->rows[i].rate / sum : 0;
}

int tui_model_sample(tui_model *m, uint64_t now_ms)
{
    if (m->nhist && now_ms - m->hist[(m->histpos + TUI_HIST - 1) % TUI_HIST].at_ms < TUI_SAMPLE_MS)
        return 0;
    static uint32_t lat[TUI_LAT_RING];
    tui_traffic t;
    memset(&t, 0, sizeof t);
    t.rows = m->spare_rows;
    tui_sample *s = &m->hist[m->histpos];
    s->at_ms = now_ms;

    pthread_mutex_lock(&m->sh.mu);
    t.on = m->sh.on;
    t.rate = m->sh.rate;
    t.calls = m->sh.calls;
    t.failed = m->sh.failed;
    t.remote_errors = m->sh.remote_errors;
    t.retried = m->sh.retried;
    t.calls_left_out = m->sh.calls_left_out;
    t.nrows = s->nanswered = m->sh.naddrs;
    for (size_t i = 0; i < m->sh.naddrs; i++) {
        tui_traffic_row *r = &t.rows[i];
        memset(r, 0, sizeof *r);
        memcpy(r->addr, m->sh.addrs[i].addr, sizeof r->addr);
        r->calls = s->answered[i] = m->sh.addrs[i].calls;
        r->errors = m->sh.addrs[i].errors;
        r->failed = m->sh.addrs[i].failed;
    }
    size_t nlat = m->sh.nlat;
    memcpy(lat, m->sh.lat_us, nlat * sizeof lat[0]);
    pthread_mutex_unlock(&m->sh.mu);
    s->calls = t.calls;
    s->failed = t.failed;

    /* the oldest sample at most about a second old is the base of the rates */
    const tui_sample *base = NULL;
    for (size_t k = 1; k <= m->nhist; k++) {
        const tui_sample *o = &m->hist[(m->histpos + TUI_HIST - k) % TUI_HIST];
        if (now_ms - o->at_ms > 1050)
            break;
        base = o;
    }
    m->histpos = (m->histpos + 1) % TUI_HIST;
    if (m->nhist < TUI_HIST)
        m->nhist++;
    if (base && now_ms > base->at_ms) {
        double dt = (double)(now_ms - base->at_ms) / 1000.0;
        t.calls_s = (double)(t.calls - base->calls) / dt;
        t.failed_s = (double)(t.failed - base->failed) / dt;
        rates(&t, base, dt);
    }
    if (nlat) {
        qsort(lat, nlat, sizeof lat[0], cmp_u32);
        t.p50_us = lat[(nlat - 1) * 50 / 100];
        t.p99_us = lat[(nlat - 1) * 99 / 100];
    }
    /* rates shown to one decimal: do not redraw for changes nobody can see */
    for (size_t i = 0; i < t.nrows; i++) {
        t.rows[i].rate = (double)(long)(t.rows[i].rate * 10) / 10;
        t.rows[i].share = (double)(long)(t.rows[i].share * 10) / 10;
    }
    t.calls_s = (double)(long)(t.calls_s * 10) / 10;
    t.failed_s = (double)(long)(t.failed_s * 10) / 10;
    int dirty = same_traffic(&t, &m->traffic) ? 0 : DIRTY_TRAFFIC | DIRTY_INSTANCES;
    /* rows are only ever added at the end: the index takes the new ones */
    for (size_t i = m->traffic.nrows; i < t.nrows; i++)
        tui_index_add(&m->row_index, t.rows[0].addr, sizeof t.rows[0], (int)i);
    m->spare_rows = m->traffic.rows;
    m->traffic = t;
    return dirty;
}

size_t tui_model_take_notes(tui_model *m, void (*fn)(void *ctx, const char *note), void *ctx)
{
    char notes[TUI_MAX_NOTES][200];
    pthread_mutex_lock(&m->sh.mu);
    size_t n = m->sh.nnotes;
    memcpy(notes, m->sh.notes, n * sizeof notes[0]);
    m->sh.nnotes = 0;
    pthread_mutex_unlock(&m->sh.mu);
    for (size_t i = 0; i < n; i++)
        fn(ctx, notes[i]);
    return n;
}

const tui_traffic_row *tui_model_traffic_row(const tui_model *m, const char *addr)
{
    int i = tui_index_find(&m->row_index, addr, m->traffic.rows[0].addr, sizeof m->traffic.rows[0]);
    return i >= 0 && (size_t)i < m->traffic.nrows ? &m->traffic.rows[i] : NULL;
}

bool tui_model_called(const tui_model *m, const char *addr)
{
    return tui_model_traffic_row(m, addr) != NULL;
}

void tui_model_addr_counts(const tui_model *m, const char *addr, uint64_t *calls, uint64_t *errors,
                           uint64_t *failed)
{
    const tui_traffic_row *r = tui_model_traffic_row(m, addr);
    *calls = r ? r->calls : 0;
    *errors = r ? r->errors : 0;
    *failed = r ? r->failed : 0;
}
