/* gateway_conns.c -- the gateway's own account of its HTTP connections: how many are open
 * from each client address, and how long each has waited for a whole request head. It
 * closes the ones past --header-timeout (bytes trickling in do not extend it, as they do
 * libmicrohttpd's idle timeout) and makes room for a newcomer by closing the one that
 * has waited longest (--max-conns, --max-conns-per-addr).
 *
 * Closing is shutdown(2) on the connection's socket: libmicrohttpd then sees the end of
 * the stream, ends the connection in its own thread, and tells us with
 * MHD_CONNECTION_NOTIFY_CLOSED. That notification takes the same lock as every
 * shutdown here and forgets the socket, and libmicrohttpd 0.9.75 sends it before it
 * closes the socket (MHD_cleanup_connections in src/microhttpd/daemon.c calls
 * notify_connection(..., MHD_CONNECTION_NOTIFY_CLOSED) and only then
 * MHD_socket_close_chk_(pos->socket_fd); the failure path of new_connection_process_
 * does the same): so a socket shut down here is always still open, never a number the
 * kernel has handed to another connection. */
#include "gateway_int.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"

#define REPORT_EVERY_MS 1000 /* closings are logged as one line a second at most */

typedef struct conn conn;

enum { LATE, ROOM_ADDR, ROOM, REFUSED_ADDR, REFUSED, NREASONS };
static const char *const reason_text[NREASONS] = {
    [LATE] = "without a whole request head within --header-timeout",
    [ROOM_ADDR] = "waiting longest of their address's, to make room (--max-conns-per-addr)",
    [ROOM] = "waiting longest, to make room (--max-conns)",
    [REFUSED_ADDR] = "new, refused: their address's all had sent a request (--max-conns-per-addr)",
    [REFUSED] = "new, refused: all had sent a request (--max-conns)",
};

/* One client address: IPv4 whole, IPv6 by its /64. */
typedef struct peer {
    uint8_t key[16];
    size_t n;          /* its connections that count against the limits */
    size_t refs;       /* conns that point here, counted or not */
    conn *oldest, *newest; /* its connections waiting for a head */
    struct peer *next; /* in its hash bucket */
} peer;

/* One connection, from MHD_CONNECTION_NOTIFY_STARTED to ..._CLOSED (its socket_context). */
struct conn {
    int fd;
    peer *from;
    uint64_t since_ms; /* when it began to wait for a request head */
    bool waiting;      /* in the waiting lists */
    bool closing;      /* shut down here: it counts no more */
    conn *prev[2], *next[2]; /* [0] every waiting connection, [1] its address's */
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t max_conns, per_addr, n;
    uint64_t head_ms; /* 0: no deadline */
    peer **buckets;
    size_t nbuckets; /* a power of two */
    uint64_t seed;
    conn *oldest, *newest; /* every connection waiting for a head, oldest first */
    bool stopping;
    pthread_t reaper;
    bool reaper_started;
    /* closings since the last log line, by reason */
    unsigned long closed[NREASONS];
    uint64_t reported_ms;
} cs = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* ---- the waiting lists: [0] all, [1] one address's; oldest at the front ---- */

static void wait_push(conn *k, uint64_t now)
{
    conn **oldest[2] = {&cs.oldest, &k->from->oldest}, **newest[2] = {&cs.newest, &k->from->newest};
    k->since_ms = now;
    k->waiting = true;
    for (int i = 0; i < 2; i++) {
        k->next[i] = NULL;
        k->prev[i] = *newest[i];
        if (*newest[i])
            (*newest[i])->next[i] = k;
        else
            *oldest[i] = k;
        *newest[i] = k;
    }
}

static void wait_remove(conn *k)
{
    if (!k->waiting)
        return;
    conn **oldest[2] = {&cs.oldest, &k->from->oldest}, **newest[2] = {&cs.newest, &k->from->newest};
    for (int i = 0; i < 2; i++) {
        if (k->prev[i])
            k->prev[i]->next[i] = k->next[i];
        else
            *oldest[i] = k->next[i];
        if (k->next[i])
            k->next[i]->prev[i] = k->prev[i];
        else
            *newest[i] = k->prev[i];
        k->prev[i] = k->next[i] = NULL;
    }
    k->waiting = false;
}

/* ---- addresses ---- */

static void addr_key(const struct sockaddr *sa, uint8_t key[16])
{
    memset(key, 0, 16);
    if (sa && sa->sa_family == AF_INET) {
        key[10] = key[11] = 0xff;
        memcpy(key + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    } else if (sa && sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        memcpy(key, a->s6_addr, IN6_IS_ADDR_V4MAPPED(a) ? 16 : 8);
    }
}

static peer **bucket(const uint8_t key[16])
{
    uint64_t h = cs.seed;
    for (int i = 0; i < 16; i++)
        h = (h ^ key[i]) * 0x100000001b3ull;
    h ^= h >> 31;
    return &cs.buckets[h & (cs.nbuckets - 1)];
}

/* The address's entry with one more reference, made when absent; NULL when out of memory. */
static peer *peer_get(const uint8_t key[16])
{
    peer **b = bucket(key);
    for (peer *p = *b; p; p = p->next)
        if (memcmp(p->key, key, 16) == 0) {
            p->refs++;
            return p;
        }
    peer *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    memcpy(p->key, key, 16);
    p->refs = 1;
    p->next = *b;
    *b = p;
    return p;
}

static void peer_put(peer *p)
{
    if (--p->refs > 0)
        return;
    peer **pp = bucket(p->key);
    while (*pp != p)
        pp = &(*pp)->next;
    *pp = p->next;
    free(p);
}

/* ---- closing ---- */

/* Stops counting k and shuts its socket down; libmicrohttpd ends it soon after. */
static void close_conn(conn *k)
{
    wait_remove(k);
    k->closing = true;
    k->from->n--;
    cs.n--;
    shutdown(k->fd, SHUT_RDWR);
}

/* Logs what was closed since the last line, at most once every REPORT_EVERY_MS. */
static void report(uint64_t now)
{
    if (now - cs.reported_ms < REPORT_EVERY_MS)
        return;
    char line[800];
    size_t n = 0;
    for (int r = 0; r < NREASONS; r++)
        if (cs.closed[r] && n < sizeof line)
            n += (size_t)snprintf(line + n, sizeof line - n, "%s%lu %s", n ? "; " : "", cs.closed[r],
                                  reason_text[r]);
    if (n)
        log_msg("closed connections: %s", line);
    memset(cs.closed, 0, sizeof cs.closed);
    cs.reported_ms = now;
}

static void *reaper_main(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&cs.mu);
    while (!cs.stopping) {
        uint64_t now = clock_now_ms();
        while (cs.head_ms && cs.oldest && now - cs.oldest->since_ms >= cs.head_ms) {
            close_conn(cs.oldest);
            cs.closed[LATE]++;
        }
        report(now);
        uint64_t wait_ms = 1000;
        if (cs.head_ms && cs.oldest) {
            uint64_t left = cs.oldest->since_ms + cs.head_ms - now;
            wait_ms = left < wait_ms ? left : wait_ms;
        }
        struct timespec until = clock_after(CLOCK_MONOTONIC, wait_ms < 10 ? 10 : wait_ms);
        pthread_cond_timedwait(&cs.cv, &cs.mu, &until);
    }
    pthread_mutex_unlock(&cs.mu);
    return NULL;
}

/* ---- libmicrohttpd's notifications ---- */

/* A new connection: counted and waiting for its head, after room is made for it; or,
 * when every connection in the way has sent its request, shut down at once. */
static void started(struct MHD_Connection *c, void **socket_context)
{
    const union MHD_ConnectionInfo *fi = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    const union MHD_ConnectionInfo *ai = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!fi)
        return;
    uint8_t key[16];
    addr_key(ai ? ai->client_addr : NULL, key);
    conn *k = calloc(1, sizeof *k);
    pthread_mutex_lock(&cs.mu);
    peer *p = k ? peer_get(key) : NULL;
    if (!p) {
        pthread_mutex_unlock(&cs.mu);
        free(k);
        shutdown(fi->connect_fd, SHUT_RDWR); /* out of memory: refused */
        return;
    }
    *k = (conn){.fd = fi->connect_fd, .from = p};
    *socket_context = k;
    /* an address at its limit makes room from its own connections */
    bool crowded = p->n >= cs.per_addr, full = !crowded && cs.n >= cs.max_conns;
    conn *victim = crowded ? p->oldest : full ? cs.oldest : NULL;
    bool room = victim || !(crowded || full);
    if (victim)
        close_conn(victim);
    if (crowded || full)
        cs.closed[crowded ? (victim ? ROOM_ADDR : REFUSED_ADDR) : (victim ? ROOM : REFUSED)]++;
    p->n++, cs.n++; /* counted, and uncounted by close_conn when refused */
    if (room)
        wait_push(k, clock_now_ms());
    else
        close_conn(k);
    pthread_mutex_unlock(&cs.mu);
}

static void closed(void **socket_context)
{
    conn *k = *socket_context;
    if (!k)
        return;
    pthread_mutex_lock(&cs.mu);
    wait_remove(k);
    if (!k->closing)
        k->from->n--, cs.n--;
    peer_put(k->from);
    pthread_mutex_unlock(&cs.mu);
    free(k);
    *socket_context = NULL;
}

void gateway_conns_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    (void)cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED)
        started(c, socket_context);
    else if (toe == MHD_CONNECTION_NOTIFY_CLOSED)
        closed(socket_context);
}

static conn *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *i = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return i ? i->socket_context : NULL;
}

void gateway_conns_head_done(struct MHD_Connection *c)
{
    conn *k = conn_of(c);
    if (!k)
        return;
    pthread_mutex_lock(&cs.mu);
    wait_remove(k);
    pthread_mutex_unlock(&cs.mu);
}

void gateway_conns_request_done(struct MHD_Connection *c)
{
    conn *k = conn_of(c);
    if (!k)
        return;
    pthread_mutex_lock(&cs.mu);
    if (!k->closing && !k->waiting)
        wait_push(k, clock_now_ms());
    pthread_mutex_unlock(&cs.mu);
}

/* ---- start and stop ---- */

int gateway_conns_start(size_t max_conns, size_t per_addr, unsigned header_timeout_s, char *err, size_t errlen)
{
    cs.max_conns = max_conns, cs.per_addr = per_addr, cs.head_ms = (uint64_t)header_timeout_s * 1000;
    for (cs.nbuckets = 64; cs.nbuckets < max_conns && cs.nbuckets < (1u << 20);)
        cs.nbuckets *= 2;
    if (getrandom(&cs.seed, sizeof cs.seed, 0) != (ssize_t)sizeof cs.seed)
        cs.seed = clock_now_us() * 0x9e3779b97f4a7c15ull;
    cs.seed |= 1;
    if (!(cs.buckets = calloc(cs.nbuckets, sizeof *cs.buckets))) {
        err_set(err, errlen, "out of memory for the connection table");
        return -1;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&cs.cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&cs.reaper, NULL, reaper_main, NULL) != 0) {
        err_set(err, errlen, "cannot start the thread that enforces --header-timeout");
        return -1;
    }
    cs.reaper_started = true;
    return 0;
}

void gateway_conns_stop(void)
{
    pthread_mutex_lock(&cs.mu);
    cs.stopping = true;
    pthread_cond_signal(&cs.cv);
    pthread_mutex_unlock(&cs.mu);
    if (cs.reaper_started)
        pthread_join(cs.reaper, NULL);
    cs.reaper_started = false;
}

void gateway_conns_free(void)
{
    for (size_t i = 0; cs.buckets && i < cs.nbuckets; i++)
        while (cs.buckets[i]) {
            peer *p = cs.buckets[i];
            cs.buckets[i] = p->next;
            free(p);
        }
    free(cs.buckets);
    cs.buckets = NULL;
}
