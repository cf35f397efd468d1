/* mdns_resp.c -- the responder: a thread per registration that probes for its instance
 * name (renaming on a conflict), announces its records, answers queries for them, and
 * says goodbye when the server deregisters (RFC 6762 §6, §8, §9, §10.1). */
#include "registry/mdns_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/i18n.h"

enum {
    PROBES = 3, PROBE_GAP_MS = 250,     /* §8.1 */
    MAX_RENAMES = 20,
    MDNS_PROBE_WAIT_MS = 2500,          /* what add waits for the probing, at most */
    ANNOUNCES = 2, ANNOUNCE_GAP_MS = 1000,
    PENDING = 16,                       /* delayed shared answers held at once */
    RECENT = 32, RECENT_MS = 20,        /* the same packet twice at once: one answer (a longer
                                           window would drop another process's same question) */
    TICK_MS = 100,
};

typedef enum { ST_PROBING, ST_HOLDING, ST_FAILED } resp_state;

typedef struct pending {
    uint8_t *wire;
    size_t len;
    uint64_t at;
} pending;

struct mdns_resp {
    mdns_if ifc;
    mdns_rrset set;     /* the thread's; the name is copied out under stop.mu */
    int fd;
    int wake;           /* an eventfd written on stop, so the thread leaves its poll at once */
    pthread_t thread;
    bool started;
    registry_stop stop; /* its mutex guards state, name and err */
    resp_state state;
    char name[64];
    char err[256];
    pending pend[PENDING];
    struct { uint64_t hash, at; } recent[RECENT];
    size_t nrecent;
    unsigned seed;
};

static void set_state(mdns_resp *m, resp_state st, const char *err)
{
    pthread_mutex_lock(&m->stop.mu);
    m->state = st;
    registry_copy(m->name, sizeof m->name, m->set.instance);
    if (err)
        registry_copy(m->err, sizeof m->err, err);
    pthread_cond_broadcast(&m->stop.cv);
    pthread_mutex_unlock(&m->stop.mu);
}

/* Sends p (freed) to the group, or to `to` when it is not NULL. */
static void send_pkt(mdns_resp *m, ldns_pkt *p, const struct sockaddr_in *to)
{
    uint8_t *wire;
    size_t len;
    if (mdns_wire(p, &wire, &len) == 0) {
        if (to)
            sendto(m->fd, wire, len, MSG_NOSIGNAL, (const struct sockaddr *)to, sizeof *to);
        else
            mdns_sock_send(m->fd, wire, len, NULL, 0);
    }
    free(wire);
    ldns_pkt_free(p);
}

/* Whether the packet (bytes and source) came in already within RECENT_MS, so that a
 * copy delivered twice is answered once. Two browsers of one host ask from the same
 * address and port with the same bytes, so the window is short. */
static bool seen(mdns_resp *m, const uint8_t *b, size_t n, const struct sockaddr_in *from, uint64_t now)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ULL;
    h = (h ^ from->sin_addr.s_addr) * 1099511628211ULL;
    h = (h ^ from->sin_port) * 1099511628211ULL;
    for (size_t i = 0; i < m->nrecent; i++)
        if (m->recent[i].hash == h && m->recent[i].at + RECENT_MS > now)
            return true;
    size_t slot = m->nrecent < RECENT ? m->nrecent++ : 0;
    for (size_t i = 0; i < m->nrecent; i++)
        if (m->recent[i].at < m->recent[slot].at)
            slot = i;
    m->recent[slot].hash = h;
    m->recent[slot].at = now;
    return false;
}

static void hold(mdns_resp *m, ldns_pkt *p, uint64_t at)
{
    uint8_t *wire;
    size_t len;
    if (mdns_wire(p, &wire, &len) == 0) {
        for (size_t i = 0; i < PENDING; i++)
            if (!m->pend[i].wire) {
                m->pend[i] = (pending){wire, len, at};
                wire = NULL;
                break;
            }
        if (wire) /* no room: sent now */
            mdns_sock_send(m->fd, wire, len, NULL, 0);
    }
    free(wire);
    ldns_pkt_free(p);
}

/* Sends the delayed answers that are due; the time of the next one into *next. */
static void flush_pending(mdns_resp *m, uint64_t now, uint64_t *next)
{
    for (size_t i = 0; i < PENDING; i++) {
        pending *q = &m->pend[i];
        if (!q->wire)
            continue;
        if (q->at <= now) {
            mdns_sock_send(m->fd, q->wire, q->len, NULL, 0);
            free(q->wire);
            q->wire = NULL;
        } else if (q->at < *next)
            *next = q->at;
    }
}

/* One packet in: answers a query; a response that takes our name is a conflict.
 * Returns true on a conflict. */
static bool handle(mdns_resp *m, const uint8_t *b, size_t n, const struct sockaddr_in *from, bool probing)
{
    uint64_t now = clock_now_ms();
    ldns_pkt *p = NULL;
    if (seen(m, b, n, from, now) || ldns_wire2pkt(&p, b, n) != LDNS_STATUS_OK)
        return false;
    bool conflict = mdns_conflict(&m->set, p, probing);
    if (!conflict && !probing && !ldns_pkt_qr(p)) {
        bool legacy = ntohs(from->sin_port) != MDNS_PORT;
        mdns_reply r;
        mdns_answer(&m->set, p, legacy, &r);
        if (r.pkt && r.unicast)
            send_pkt(m, r.pkt, from);
        else if (r.pkt && r.delay)
            hold(m, r.pkt, now + 20 + (uint64_t)(rand_r(&m->seed) % 101));
        else if (r.pkt)
            send_pkt(m, r.pkt, NULL);
    }
    ldns_pkt_free(p);
    return conflict;
}

/* Reads what comes in until `until` (or stop). Returns 1 on a conflict, -1 when stopped. */
static int listen_until(mdns_resp *m, uint64_t until, bool probing)
{
    uint8_t pkt[MDNS_MAX_PACKET];
    for (;;) {
        if (registry_stopped(&m->stop))
            return -1;
        uint64_t now = clock_now_ms(), next = until;
        flush_pending(m, now, &next);
        if (now >= until)
            return 0;
        uint64_t wait = next - now < TICK_MS ? next - now : TICK_MS;
        struct pollfd pfd[2] = {{.fd = m->fd, .events = POLLIN}, {.fd = m->wake, .events = POLLIN}};
        if (poll(pfd, 2, (int)wait) <= 0 || !(pfd[0].revents & POLLIN))
            continue;
        for (int i = 0; i < 64; i++) {
            struct sockaddr_in from;
            socklen_t fl = sizeof from;
            ssize_t got = recvfrom(m->fd, pkt, sizeof pkt, 0, (struct sockaddr *)&from, &fl);
            if (got < 0)
                break;
            if (handle(m, pkt, (size_t)got, &from, probing))
                return 1;
        }
    }
}

/* Probes until a name is ours (§8.1, §9). Returns 0, or -1 (stopped or too many conflicts). */
static int probe(mdns_resp *m)
{
    for (int renames = 0; renames <= MAX_RENAMES; renames++) {
        int rc = 0;
        for (int i = 0; i < PROBES && rc == 0; i++) {
            send_pkt(m, mdns_probe(&m->set, i == 0), NULL);
            rc = listen_until(m, clock_now_ms() + PROBE_GAP_MS, true);
        }
        if (rc < 0)
            return -1;
        if (rc == 0)
            return 0;
        mdns_rename(&m->set);
    }
    return -1;
}

static void *resp_main(void *arg)
{
    mdns_resp *m = arg;
    char why[256];
    if (probe(m) < 0) {
        snprintf(why, sizeof why, "mdns: no free instance name for %s after %d conflicts", m->set.service,
                 MAX_RENAMES);
        set_state(m, ST_FAILED, registry_stopped(&m->stop) ? "stopped" : why);
        return NULL;
    }
    set_state(m, ST_HOLDING, NULL);
    uint64_t next_announce = clock_now_ms();
    int announced = 0;
    for (;;) {
        if (announced < ANNOUNCES && clock_now_ms() >= next_announce) {
            send_pkt(m, mdns_announce(&m->set, m->set.ttl), NULL);
            announced++;
            next_announce = clock_now_ms() + ANNOUNCE_GAP_MS;
        }
        int rc = listen_until(m, announced < ANNOUNCES ? next_announce : clock_now_ms() + 1000, false);
        if (rc < 0)
            break;
        if (rc > 0) { /* someone else holds our name now: the keeper registers again */
            snprintf(why, sizeof why, "mdns: another host took the name %s", m->set.instance);
            set_state(m, ST_FAILED, why);
            break;
        }
    }
    return NULL;
}

mdns_resp *mdns_resp_start(const mdns_if *ifc, mdns_rrset *s, const atomic_bool *cancel, char *err, size_t errlen)
{
    mdns_resp *m = calloc(1, sizeof *m);
    if (!m) {
        err_set(err, errlen, _("out of memory"));
        return NULL;
    }
    registry_stop_init(&m->stop);
    m->ifc = *ifc;
    m->set = *s;
    m->seed = (unsigned)clock_now_us() ^ (unsigned)getpid();
    m->fd = -1;
    if ((m->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
        err_set(err, errlen, _("mdns: eventfd: %s"), strerror(errno));
        goto fail;
    }
    if ((m->fd = mdns_sock_open(ifc, false, err, errlen)) < 0)
        goto fail;
    if (pthread_create(&m->thread, NULL, resp_main, m) != 0) {
        err_set(err, errlen, _("mdns: cannot start the responder thread"));
        goto fail;
    }
    m->started = true;
    uint64_t deadline = clock_now_ms() + MDNS_PROBE_WAIT_MS;
    pthread_mutex_lock(&m->stop.mu);
    while (m->state == ST_PROBING && clock_now_ms() < deadline && !(cancel && atomic_load(cancel))) {
        struct timespec until = clock_after(CLOCK_MONOTONIC, TICK_MS); /* cancel is a flag: look often */
        registry_stop_wait(&m->stop, &until);
    }
    resp_state st = m->state;
    registry_copy(s->instance, sizeof s->instance, m->name);
    if (st == ST_FAILED)
        err_set(err, errlen, "%s", m->err);
    pthread_mutex_unlock(&m->stop.mu);
    if (st == ST_HOLDING)
        return m;
    if (st == ST_PROBING && cancel && atomic_load(cancel))
        err_set(err, errlen, _("cancelled"));
    else if (st == ST_PROBING)
        err_set(err, errlen, _("mdns: probing for %s's name on %s did not finish within %d ms"), s->service,
                ifc->name, MDNS_PROBE_WAIT_MS);
fail:
    mdns_resp_free(m, false);
    return NULL;
}

bool mdns_resp_alive(mdns_resp *m)
{
    pthread_mutex_lock(&m->stop.mu);
    bool ok = m->state == ST_HOLDING;
    pthread_mutex_unlock(&m->stop.mu);
    return ok;
}

void mdns_resp_free(mdns_resp *m, bool goodbye)
{
    if (!m)
        return;
    registry_stop_set(&m->stop);
    if (m->wake >= 0)
        (void)eventfd_write(m->wake, 1);
    if (m->started)
        pthread_join(m->thread, NULL);
    if (goodbye && m->fd >= 0 && m->state == ST_HOLDING)
        for (int i = 0; i < 2; i++)
            send_pkt(m, mdns_announce(&m->set, 0), NULL);
    if (m->fd >= 0)
        close(m->fd);
    if (m->wake >= 0)
        close(m->wake);
    for (size_t i = 0; i < PENDING; i++)
        free(m->pend[i].wire);
    registry_stop_done(&m->stop);
    free(m);
}
