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
    for (size_t i = 0; i < m->nreg; i++) {
        tui_member *mb = &m->sh.members[m->sh.nmembers];
        if (proto_of(m->reg[i].inst.protocol, &mb->proto) < 0 || !registry_instance_usable(&m->reg[i].inst) ||
            (m->service && strcmp(m->reg[i].inst.service, m->service) != 0))
            continue;
        snprintf(mb->addr, sizeof mb->addr, "%s", m->reg[i].inst.addr);
        m->sh.nmembers++;
    }
    for (size_t i = 0; i < m->nstatics && m->sh.nmembers < TUI_MAX_ADDRS; i++)
        m->sh.members[m->sh.nmembers++] = m->statics[i];
    m->sh.member_gen++;
    pthread_cond_signal(&m->sh.cv);
    pthread_mutex_unlock(&m->sh.mu);
}

int tui_model_init(tui_model *m)
{
    memset(m, 0, sizeof *m);
    if (pthread_mutex_init(&m->sh.mu, NULL) != 0)
        return -1;
    if (pthread_cond_init(&m->sh.cv, NULL) != 0) {
        pthread_mutex_destroy(&m->sh.mu);
        return -1;
    }
    m->sh.rate = 100;
    m->watch_ok = true;
    m->start_ms = clock_now_ms();
    m->reap_after_s = tui_model_reap_after(TUI_SERVER_TTL);
    return 0;
}

void tui_model_done(tui_model *m)
{
    pthread_cond_destroy(&m->sh.cv);
    pthread_mutex_destroy(&m->sh.mu);
}

int tui_model_find_reg(const tui_model *m, const char *addr)
{
    for (size_t i = 0; i < m->nreg; i++)
        if (strcmp(m->reg[i].inst.addr, addr) == 0)
            return (int)i;
    return -1;
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

int tui_model_apply(tui_model *m, const registry_event *ev)
{
    int i = tui_model_find_reg(m, ev->inst.addr);
    switch (ev->type) {
    case REGISTRY_EV_PUT:
        if (i < 0) {
            if (m->nreg == TUI_MAX_ADDRS)
                return 0;
            i = (int)m->nreg++;
            m->reg[i].since_ms = clock_now_ms();
            m->reg[i].ttl = -1;
            m->reg[i].critical_ms = 0;
        }
        if (strcmp(ev->inst.status, "critical") != 0) /* Consul's reaper counts from the turn */
            m->reg[i].critical_ms = 0;
        else if (!m->reg[i].critical_ms)
            m->reg[i].critical_ms = clock_now_ms();
        m->reg[i].inst = ev->inst;
        publish_members(m);
        return DIRTY_REGISTRY | DIRTY_INSTANCES | DIRTY_TIMELINE;
    case REGISTRY_EV_DELETE:
        if (i < 0)
            return 0;
        memmove(&m->reg[i], &m->reg[i + 1], (m->nreg - (size_t)i - 1) * sizeof m->reg[0]);
        m->nreg--;
        publish_members(m);
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
    m->nstatics = 0;
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
    if (n > TUI_MAX_ADDRS)
        n = TUI_MAX_ADDRS;
    if (n == m->nstatics && memcmp(mb, m->statics, n * sizeof mb[0]) == 0)
        return 0;
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

/* With mu held: addr's counters, added when new; NULL when the table is full. */
static tui_addr_count *counter(tui_shared *sh, const char *addr)
{
    for (size_t i = 0; i < sh->naddrs; i++)
        if (strcmp(sh->addrs[i].addr, addr) == 0)
            return &sh->addrs[i];
    if (sh->naddrs == TUI_MAX_ADDRS)
        return NULL;
    tui_addr_count *c = &sh->addrs[sh->naddrs++];
    memset(c, 0, sizeof *c);
    snprintf(c->addr, sizeof c->addr, "%s", addr);
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

int tui_model_sample(tui_model *m, uint64_t now_ms)
{
    if (m->nhist && now_ms - m->hist[(m->histpos + TUI_HIST - 1) % TUI_HIST].at_ms < TUI_SAMPLE_MS)
        return 0;
    static uint32_t lat[TUI_LAT_RING];
    tui_traffic t;
    memset(&t, 0, sizeof t);
    tui_sample *s = &m->hist[m->histpos];
    memset(s, 0, sizeof *s);
    s->at_ms = now_ms;

    pthread_mutex_lock(&m->sh.mu);
    t.on = m->sh.on;
    t.rate = m->sh.rate;
    t.calls = m->sh.calls;
    t.failed = m->sh.failed;
    t.remote_errors = m->sh.remote_errors;
    t.retried = m->sh.retried;
    t.nrows = m->sh.naddrs;
    for (size_t i = 0; i < m->sh.naddrs; i++) {
        snprintf(t.rows[i].addr, sizeof t.rows[i].addr, "%s", m->sh.addrs[i].addr);
        t.rows[i].calls = s->answered[i] = m->sh.addrs[i].calls;
        t.rows[i].errors = m->sh.addrs[i].errors;
        t.rows[i].failed = m->sh.addrs[i].failed;
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
        double dt = (double)(now_ms - base->at_ms) / 1000.0, sum = 0;
        t.calls_s = (double)(t.calls - base->calls) / dt;
        t.failed_s = (double)(t.failed - base->failed) / dt;
        for (size_t i = 0; i < t.nrows; i++) {
            t.rows[i].rate = (double)(t.rows[i].calls - base->answered[i]) / dt;
            sum += t.rows[i].rate;
        }
        for (size_t i = 0; i < t.nrows; i++)
            t.rows[i].share = sum > 0 ? 100.0 * t.rows[i].rate / sum : 0;
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
    int dirty = memcmp(&t, &m->traffic, sizeof t) != 0 ? DIRTY_TRAFFIC | DIRTY_INSTANCES : 0;
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

bool tui_model_called(const tui_model *m, const char *addr)
{
    for (size_t i = 0; i < m->traffic.nrows; i++)
        if (strcmp(m->traffic.rows[i].addr, addr) == 0)
            return true;
    return false;
}

void tui_model_addr_counts(const tui_model *m, const char *addr, uint64_t *calls, uint64_t *errors,
                           uint64_t *failed)
{
    *calls = *errors = *failed = 0;
    for (size_t i = 0; i < m->traffic.nrows; i++)
        if (strcmp(m->traffic.rows[i].addr, addr) == 0) {
            *calls = m->traffic.rows[i].calls;
            *errors = m->traffic.rows[i].errors;
            *failed = m->traffic.rows[i].failed;
        }
}
