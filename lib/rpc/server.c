/* server.c -- the shared TCP server: connections, buffers, deadlines, shutdown. */
#include "rpc/server.h"
#include "rpc/server_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/i18n.h"
#include "base/log.h"
#include "base/net.h"
#include "registry/registry.h"
#include "rpc/loop.h"

#define READ_CHUNK (64 * 1024)
#define READS_PER_TURN 4            /* then let other connections have a turn */
#define WRITES_PER_TURN 4           /* output rounds a streaming codec may make per turn */
#define OUT_HIGH_WATER (4u << 20)   /* stop reading from a client that does not read its replies */
#define SHUTDOWN_GRACE_MS 5000
#define BUF_KEEP 4096               /* a connection's buffer over this is given back once mostly empty */
/* A connection closed by the server while its client may still be sending (a request
 * refused for its size, a protocol error) first stops writing and reads what still comes,
 * up to these limits: closing with bytes unread would send a reset, and a reset can
 * destroy the last reply before the client reads it. */
#define LINGER_MS 2000
#define LINGER_MAX_BYTES (4u << 20)

typedef struct server server;

/* How many connections one client address (an IPv6 /64) has open. */
typedef struct addr_count {
    uint8_t key[16];
    size_t n;
    struct addr_count *next;
} addr_count;

typedef struct server_conn {
    server *s;
    int fd;
    char peer[64];
    struct sockaddr_storage addr;
    buf in, out;
    void *state;
    bool eof;      /* the peer sent FIN */
    bool closing;  /* flush out, then close */
    bool greeted;  /* the codec has taken a whole request (see server_codec.progress) */
    bool lingering; /* everything is written and the writing side shut: reading until the
                       client closes (see LINGER_MS) */
    size_t lingered; /* bytes read and thrown away meanwhile */
    uint32_t events;
    uint64_t accepted_at;
    uint64_t last_active; /* the last progress: what --idle-timeout counts from */
    uint64_t progress;    /* the codec's progress when last read */
    uint64_t flush_timer; /* a server_conn_flush is pending */
    uint64_t linger_timer;
    addr_count *from;
    struct server_conn *prev, *next; /* most recently active first */
} conn;

struct server {
    const server_codec *codec;
    loop *l;
    int lfd;
    char addr[80];
    size_t max_message;
    uint64_t idle_ms, first_ms;
    size_t max_conns, nconns, max_per_addr;
    conn *conns, *idlest; /* the list's two ends */
    addr_count **addrs;   /* a hash table of naddrs buckets (a power of two) */
    size_t naddrs;
    bool shutting_down;
    uint64_t shutdown_deadline;
    registry_keeper *keeper; /* NULL when not registered anywhere */
    uint8_t scratch[READ_CHUNK]; /* reads land here unless the input buffer has room already */
};

/* ---- connections per address ---- */

/* The key an address is counted under: IPv4 (also mapped into IPv6) whole, IPv6 by its
 * /64, the block one host is usually given. */
static void addr_key(const struct sockaddr_storage *ss, uint8_t key[16])
{
    memset(key, 0, 16);
    if (ss->ss_family == AF_INET) {
        key[10] = key[11] = 0xff;
        memcpy(key + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
    } else if (ss->ss_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
        memcpy(key, a->s6_addr, IN6_IS_ADDR_V4MAPPED(a) ? 16 : 8);
    }
}

static addr_count **addr_bucket(server *s, const uint8_t key[16])
{
    uint32_t h = 2166136261u;
    for (int i = 0; i < 16; i++)
        h = (h ^ key[i]) * 16777619u;
    return &s->addrs[h & (s->naddrs - 1)];
}

/* The count for key, created at zero when absent; NULL when out of memory. */
static addr_count *addr_get(server *s, const uint8_t key[16])
{
    addr_count **b = addr_bucket(s, key);
    for (addr_count *a = *b; a; a = a->next)
        if (memcmp(a->key, key, 16) == 0)
            return a;
    addr_count *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    memcpy(a->key, key, 16);
    a->next = *b;
    *b = a;
    return a;
}

/* Drops a count that reached zero. */
static void addr_put(server *s, addr_count *a)
{
    if (!a || a->n > 0)
        return;
    for (addr_count **p = addr_bucket(s, a->key); *p; p = &(*p)->next)
        if (*p == a) {
            *p = a->next;
            free(a);
            return;
        }
}

/* ---- the list of connections, most recently active first ---- */

static void list_unlink(server *s, conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        s->idlest = c->prev;
    c->prev = c->next = NULL;
}

static void list_push(server *s, conn *c)
{
    c->next = s->conns;
    c->prev = NULL;
    if (s->conns)
        s->conns->prev = c;
    else
        s->idlest = c;
    s->conns = c;
}

/* Puts c at the idle end of the list, the first that eviction reaches. */
static void list_push_idlest(server *s, conn *c)
{
    c->prev = s->idlest;
    c->next = NULL;
    if (s->idlest)
        s->idlest->next = c;
    else
        s->conns = c;
    s->idlest = c;
}

/* Notes activity: the connection moves to the front, away from eviction. */
static void conn_touch(server *s, conn *c)
{
    c->last_active = clock_now_ms();
    if (s->conns != c) {
        list_unlink(s, c);
        list_push(s, c);
    }
}

/* Gives back buffer storage a large message left behind. */
static void conn_trim(conn *c)
{
    buf_shrink(&c->in, BUF_KEEP);
    buf_shrink(&c->out, BUF_KEEP);
}

static void conn_free(server *s, conn *c, const char *why)
{
    if (why)
        log_msg("%s: closed (%s)", c->peer, why);
    loop_unwatch(s->l, c->fd);
    close(c->fd);
    loop_timer_cancel(s->l, c->flush_timer);
    loop_timer_cancel(s->l, c->linger_timer);
    list_unlink(s, c);
    if (c->from) {
        c->from->n--;
        addr_put(s, c->from);
    }
    if (!c->lingering) /* a lingering one's codec closed when it began */
        s->codec->close(c->state);
    buf_done(&c->in);
    buf_done(&c->out);
    free(c);
    s->nconns--;
    if (s->shutting_down && s->nconns == 0)
        loop_stop(s->l);
}

/* Reads and throws away what a lingering connection's client still sends, at most
 * READS_PER_TURN reads. Returns false once it is over: the client's end, an error, or
 * LINGER_MAX_BYTES. */
static bool conn_drain(server *s, conn *c)
{
    for (int i = 0; i < READS_PER_TURN; i++) {
        ssize_t r = recv(c->fd, s->scratch, READ_CHUNK, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        if (r <= 0 || (c->lingered += (size_t)r) > LINGER_MAX_BYTES)
            return false;
    }
    return true;
}

static void on_linger_end(loop *l, void *ud)
{
    (void)l;
    conn *c = ud;
    c->linger_timer = 0;
    /* a turn late (a stalled loop runs its timers first): what arrived meanwhile is read,
     * so that closing does not reset the connection for it */
    (void)conn_drain(c->s, c);
    conn_free(c->s, c, NULL);
}

/* Shuts the writing side of c, whose replies are all written, and waits for the client
 * to close. Returns false when c was closed instead. */
static bool conn_linger(server *s, conn *c)
{
    c->linger_timer = loop_timer(s->l, LINGER_MS, on_linger_end, c);
    if (!c->linger_timer || shutdown(c->fd, SHUT_WR) < 0) {
        conn_free(s, c, NULL);
        return false;
    }
    c->lingering = true;
    s->codec->close(c->state); /* the codec's work on it is over */
    c->state = NULL;
    buf_clear(&c->in);
    conn_trim(c);
    if (c->events != EPOLLIN) {
        loop_rewatch(s->l, c->fd, EPOLLIN);
        c->events = EPOLLIN;
    }
    list_unlink(s, c); /* the first to go when a new connection needs room */
    list_push_idlest(s, c);
    return true;
}

/* Recomputes what to wait for. Returns false when the connection was closed. */
static bool conn_update(server *s, conn *c)
{
    if (c->lingering) {
        if (!s->shutting_down)
            return true;
        conn_free(s, c, NULL);
        return false;
    }
    bool pending = buf_size(&c->out) > 0;
    /* a client that half-closed after its requests still gets the replies owed to it */
    bool owed = c->eof && !c->closing && s->codec->busy && s->codec->busy(c->state);
    if (!pending && !owed && (c->closing || c->eof)) {
        if (c->closing && !c->eof && !s->shutting_down)
            return conn_linger(s, c);
        conn_free(s, c, c->closing ? NULL : "client finished");
        return false;
    }
    conn_trim(c);
    uint32_t ev = 0;
    if (!c->closing && !c->eof && buf_size(&c->out) < OUT_HIGH_WATER)
        ev |= EPOLLIN;
    if (pending)
        ev |= EPOLLOUT;
    if (ev != c->events) {
        loop_rewatch(s->l, c->fd, ev);
        c->events = ev;
    }
    return true;
}

/* Writes what it can. Returns false when the connection was closed. */
static bool conn_flush(server *s, conn *c)
{
    while (buf_size(&c->out) > 0) {
        ssize_t w = send(c->fd, buf_data(&c->out), buf_size(&c->out), MSG_NOSIGNAL);
        if (w > 0) {
            buf_consume(&c->out, (size_t)w);
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        conn_free(s, c, w < 0 ? strerror(errno) : "write failed");
        return false;
    }
    return true;
}

static void conn_feed(server *s, conn *c)
{
    char err[512] = "";
    size_t in_before = buf_size(&c->in), out_before = buf_size(&c->out);
    feed_result r = s->codec->feed(c->state, &c->in, &c->out, c->eof, err, sizeof err);
    if (s->codec->progress) {
        uint64_t p = s->codec->progress(c->state);
        if (p != c->progress) {
            c->progress = p;
            c->greeted = true;
            conn_touch(s, c);
        }
    } else if (buf_size(&c->in) < in_before || buf_size(&c->out) > out_before) {
        c->greeted = true;
    }
    if (r == FEED_CLOSE) {
        log_msg("%s: error: %s", c->peer, err);
        c->closing = true;
    } else if (r == FEED_DONE) {
        c->closing = true;
    }
}

static void on_conn_flush(loop *l, void *ud);

/* Writes, and for a feed_on_writable codec feeds again each time the output drained, so
 * it can produce more (a few rounds, then the loop comes back to it). Returns false when
 * the connection was closed. */
static bool conn_write_more(server *s, conn *c)
{
    for (int i = 0;; i++) {
        if (!conn_flush(s, c))
            return false;
        if (!s->codec->feed_on_writable || c->closing || buf_size(&c->out) > 0)
            return true;
        if (i == WRITES_PER_TURN) {
            if (!c->flush_timer)
                c->flush_timer = loop_timer(s->l, 0, on_conn_flush, c);
            return true;
        }
        conn_feed(s, c);
        if (buf_size(&c->out) == 0)
            return true;
    }
}

/* Reads once into the input buffer: straight in when it has a read's room already (a
 * large message arriving), else through the scratch area, so an idle or trickling
 * connection holds only the bytes it sent. Returns recv's result, or -2 after logging
 * that the message is over the cap or memory ran out (c is to close). */
static ssize_t conn_read(server *s, conn *c)
{
    if (buf_size(&c->in) > s->max_message) {
        /* the last feed would have consumed a complete message; this one is over the cap */
        log_msg("%s: error: message larger than %zu bytes", c->peer, s->max_message);
        return -2;
    }
    bool direct = c->in.cap - buf_size(&c->in) >= READ_CHUNK && buf_reserve(&c->in, READ_CHUNK) == 0;
    ssize_t r = recv(c->fd, direct ? c->in.p + c->in.len : s->scratch, READ_CHUNK, 0);
    if (r <= 0)
        return r;
    if (direct)
        c->in.len += (size_t)r;
    else if (buf_append(&c->in, s->scratch, (size_t)r) < 0) {
        log_msg("%s: error: out of memory for its message", c->peer);
        return -2;
    }
    return r;
}

static void on_conn(loop *l, int fd, uint32_t events, void *ud)
{
    (void)l;
    (void)fd;
    conn *c = ud;
    server *s = c->s;
    if (c->lingering) {
        if (!conn_drain(s, c))
            conn_free(s, c, NULL);
        return;
    }
    if (!s->codec->progress)
        conn_touch(s, c);
    if (c->eof && (events & (EPOLLHUP | EPOLLERR))) {
        /* half-closed with replies owed, and now gone both ways: they cannot be sent */
        conn_free(s, c, "client closed before its replies");
        return;
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        for (int i = 0; i < READS_PER_TURN && !c->eof && !c->closing; i++) {
            if (i > 0 && buf_size(&c->in) > s->max_message)
                break; /* let the codec take what this turn read, then read on */
            ssize_t r = conn_read(s, c);
            if (r > 0) {
                if ((size_t)r < READ_CHUNK)
                    break;
                continue;
            }
            if (r == -2) {
                c->closing = true;
                break;
            }
            if (r == 0) {
                c->eof = true;
                break;
            }
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            conn_free(s, c, strerror(errno));
            return;
        }
        if (buf_size(&c->in) > 0 || c->eof)
            conn_feed(s, c);
    }
    if (!conn_write_more(s, c))
        return;
    conn_update(s, c);
}

static void on_conn_flush(loop *l, void *ud)
{
    (void)l;
    conn *c = ud;
    server *s = c->s;
    c->flush_timer = 0;
    if (c->lingering)
        return;
    if (!c->closing)
        conn_feed(s, c);
    if (conn_write_more(s, c))
        conn_update(s, c);
}

uint64_t server_conn_timer(server_conn *sc, uint64_t ms, loop_timer_fn fn, void *ud)
{
    return loop_timer(sc->s->l, ms, fn, ud);
}

void server_conn_timer_cancel(server_conn *sc, uint64_t id)
{
    if (id)
        loop_timer_cancel(sc->s->l, id);
}

void server_conn_flush(server_conn *sc)
{
    if (!sc->s->codec->progress)
        conn_touch(sc->s, sc);
    if (!sc->flush_timer)
        sc->flush_timer = loop_timer(sc->s->l, 0, on_conn_flush, sc);
}

const char *server_conn_peer(const server_conn *sc) { return sc->peer; }
const struct sockaddr_storage *server_conn_addr(const server_conn *sc) { return &sc->addr; }
const char *server_conn_local(const server_conn *sc) { return sc->s->addr; }
loop *server_conn_loop(const server_conn *sc) { return sc->s->l; }

/* Whether c may be closed to make room: no reply waiting to be sent, no call in flight. */
static bool conn_evictable(const server *s, const conn *c)
{
    return c->lingering || (buf_size(&c->out) == 0 && !(s->codec->busy && s->codec->busy(c->state)));
}

/* Closes the connection idle longest among those from one address (any when from is
 * NULL) that may be closed. Returns false when there is none. */
static bool evict_idlest(server *s, const addr_count *from, const char *why)
{
    for (conn *c = s->idlest; c; c = c->prev)
        if ((!from || c->from == from) && conn_evictable(s, c)) {
            conn_free(s, c, c->lingering ? NULL : why);
            return true;
        }
    return false;
}

/* Makes room for one more connection from a, evicting when a limit is reached. Returns
 * false (after logging) when the new one must be refused. */
static bool make_room(server *s, const addr_count *a, const char *peer)
{
    if (a->n >= s->max_per_addr &&
        !evict_idlest(s, a, "idle longest of its address's, to make room (--max-conns-per-addr)")) {
        log_msg("refused a connection from %s: already %zu open from that address, all busy "
                "(--max-conns-per-addr)", peer, a->n);
        return false;
    }
    if (s->nconns >= s->max_conns && !evict_idlest(s, NULL, "idle longest, to make room (--max-conns)")) {
        log_msg("refused a connection from %s: already %zu open, all busy (--max-conns)", peer, s->nconns);
        return false;
    }
    return true;
}

/* Sets up an accepted connection. Returns false when it was refused (fd is closed). */
static bool conn_start(server *s, int fd, const struct sockaddr_storage *ss)
{
    char peer[64];
    uint8_t key[16];
    net_peer_addr(fd, peer, sizeof peer);
    addr_key(ss, key);
    addr_count *a = addr_get(s, key);
    bool room = a && make_room(s, a, peer);
    conn *c = room ? calloc(1, sizeof *c) : NULL;
    if (c) {
        c->s = s;
        c->addr = *ss;
    }
    void *st = !c                  ? NULL
               : s->codec->open_conn ? s->codec->open_conn(c, s->max_message)
                                     : s->codec->open(s->max_message);
    if (!st) {
        if (!a || room) /* a refusal was logged by make_room */
            log_msg("refused a connection from %s: out of memory", peer);
        free(c);
        close(fd);
        addr_put(s, a);
        return false;
    }
    c->fd = fd;
    c->state = st;
    c->from = a;
    a->n++;
    buf_init(&c->in, s->max_message + READ_CHUNK);
    buf_init(&c->out, 0);
    net_nodelay(fd);
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    c->accepted_at = c->last_active = clock_now_ms();
    c->events = EPOLLIN;
    list_push(s, c);
    s->nconns++;
    if (loop_watch(s->l, fd, EPOLLIN, on_conn, c) < 0) {
        conn_free(s, c, strerror(errno));
        return false;
    }
    log_msg("%s: connected", c->peer);
    return true;
}

static void on_accept(loop *l, int lfd, uint32_t events, void *ud)
{
    (void)l;
    (void)events;
    server *s = ud;
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t sslen = sizeof ss;
        int fd = accept4(lfd, (struct sockaddr *)&ss, &sslen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                log_msg("accept: %s", strerror(errno));
            return;
        }
        conn_start(s, fd, &ss);
    }
}

static void on_tick(loop *l, void *ud)
{
    server *s = ud;
    uint64_t now = clock_now_ms();
    if (s->shutting_down && now >= s->shutdown_deadline) {
        log_msg("shutdown: %zu connection(s) still had replies unsent after %d ms; closing them",
                s->nconns, SHUTDOWN_GRACE_MS);
        loop_stop(l);
        return;
    }
    for (conn *c = s->conns, *next; c; c = next) {
        next = c->next;
        if (c->lingering) /* its own deadline ends it */
            continue;
        if (s->first_ms && !c->greeted && !c->closing && now - c->accepted_at >= s->first_ms)
            conn_free(s, c, "no whole request in time (--first-message-timeout)");
        else if (s->idle_ms && now - c->last_active > s->idle_ms &&
                 !(s->codec->busy && s->codec->busy(c->state)))
            conn_free(s, c, "idle too long (--idle-timeout)");
    }
    loop_timer(l, 1000, on_tick, s);
}

static void on_stop_signal(loop *l, int signo, void *ud)
{
    server *s = ud;
    if (s->shutting_down) {
        log_msg("second %s: stopping now", strsignal(signo));
        loop_stop(l);
        return;
    }
    log_msg("%s: no new connections; finishing replies in flight", strsignal(signo));
    /* Leave the registry first, so clients stop picking this instance. */
    registry_keeper_stop(s->keeper, true);
    s->keeper = NULL;
    s->shutting_down = true;
    s->shutdown_deadline = clock_now_ms() + SHUTDOWN_GRACE_MS;
    loop_unwatch(l, s->lfd);
    close(s->lfd);
    s->lfd = -1;
    /* Requests already read have been answered; stop reading and flush the replies.
     * A codec with its own shutdown (HTTP/2 GOAWAY) keeps reading until its calls end. */
    for (conn *c = s->conns, *next; c; c = next) {
        next = c->next;
        if (s->codec->shutdown && !c->closing) {
            s->codec->shutdown(c->state);
            conn_feed(s, c);
        } else {
            c->closing = true;
        }
        if (conn_flush(s, c))
            conn_update(s, c);
    }
    if (s->nconns == 0)
        loop_stop(l);
}

/* The address to register: --advertise, else the one listened on. Every address
 * (0.0.0.0, [::]) is none a client can dial, so etcd and Consul get the loopback one with
 * its port; mDNS gets it as it is, and its responder answers with the interface's own
 * address. */
static const char *registered_addr(const server_opts *o, const char *addr, char *out, size_t n)
{
    if (o->advertise || strncmp(o->registry_url, "mdns", 4) == 0)
        return o->advertise ? o->advertise : addr;
    const char *port = strrchr(addr, ':');
    bool v4 = strncmp(addr, "0.0.0.0:", 8) == 0, v6 = strncmp(addr, "[::]:", 5) == 0;
    if (!port || (!v4 && !v6))
        return addr;
    snprintf(out, n, "%s%s", v4 ? "127.0.0.1" : "[::1]", port);
    log_msg("listening on every address: registering %s (--advertise names another)", out);
    return out;
}

/* Listens, registers when asked, and serves until a stop signal. Returns the exit code. */
static int serve(server *s, const server_opts *o, const registry_auth *auth, const char *prog)
{
    char err[256], every[300], reg[96];
    const char *listen_addr = o->listen_addr;
    if (listen_addr[0] == ':') { /* ":50051", as Go writes it: every address (0.0.0.0) */
        snprintf(every, sizeof every, "0.0.0.0%s", listen_addr);
        listen_addr = every;
    }
    s->lfd = net_listen(listen_addr, err, sizeof err);
    if (s->lfd < 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return 1;
    }
    net_local_addr(s->lfd, s->addr, sizeof s->addr);
    if (!(s->l = loop_new(err, sizeof err))) {
        fprintf(stderr, "%s: %s\n", prog, err);
        close(s->lfd);
        return 1;
    }
    if (loop_watch(s->l, s->lfd, EPOLLIN, on_accept, s) < 0 ||
        loop_signal(s->l, SIGTERM, on_stop_signal, s) < 0 ||
        loop_signal(s->l, SIGINT, on_stop_signal, s) < 0 || !loop_timer(s->l, 1000, on_tick, s)) {
        fprintf(stderr, _("%s: cannot set up the event loop: %s\n"), prog, strerror(errno));
        loop_free(s->l);
        close(s->lfd);
        return 1;
    }
    if (o->loop_started && o->loop_started(s->l, o->loop_ud, err, sizeof err) < 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        loop_free(s->l);
        close(s->lfd);
        return 1;
    }
    /* Before the address is printed: a registration refused (a check kind that does not
     * fit) ends the server before anyone takes it for started. */
    if (strcmp(o->registry_url, "none") != 0) {
        s->keeper = registry_keeper_start(o->registry_url, auth, o->service,
                                          registered_addr(o, s->addr, reg, sizeof reg),
                                          s->codec->protocol ? s->codec->protocol : "json", (int)o->ttl,
                                          NULL, NULL, err, sizeof err);
        if (!s->keeper) {
            fprintf(stderr, "%s: --registry: %s\n", prog, err);
            if (o->loop_ended)
                o->loop_ended(s->l, o->loop_ud);
            loop_free(s->l);
            close(s->lfd);
            return 2;
        }
    }
    printf("%s\n", s->addr);
    fflush(stdout);
    i18n_serve_english();
    log_msg("serving %s on %s", s->codec->name, s->addr);
    int rc = loop_run(s->l) < 0 ? 1 : 0;
    registry_keeper_stop(s->keeper, true);
    while (s->conns)
        conn_free(s, s->conns, NULL);
    if (s->lfd >= 0)
        close(s->lfd);
    if (o->loop_ended)
        o->loop_ended(s->l, o->loop_ud);
    loop_free(s->l);
    log_msg("stopped");
    return rc;
}

int server_run(const server_codec *codec, const server_opts *o, const registry_auth *auth, const char *prog)
{
    signal(SIGPIPE, SIG_IGN);
    /* on the heap: the struct holds a read's scratch area */
    server *s = calloc(1, sizeof *s);
    size_t nbuckets = 16;
    while (nbuckets < o->max_conns / 4 && nbuckets < 65536)
        nbuckets *= 2;
    addr_count **buckets = calloc(nbuckets, sizeof *buckets);
    int rc;
    if (s && buckets) {
        s->codec = codec;
        s->max_message = o->max_message;
        s->max_conns = o->max_conns;
        s->max_per_addr = o->per_addr ? o->per_addr : (o->max_conns / 2 ? o->max_conns / 2 : 1);
        s->idle_ms = (uint64_t)o->idle * 1000;
        s->first_ms = (uint64_t)o->first * 1000;
        s->addrs = buckets;
        s->naddrs = nbuckets;
        rc = serve(s, o, auth, prog);
    } else {
        fprintf(stderr, _("%s: out of memory\n"), prog);
        rc = 1;
    }
    free(s);
    free(buckets); /* every count went with its last connection */
    return rc;
}

int server_main(const server_codec *codec, const char *prog, const char *about, int argc,
                char **argv)
{
    server_opts o;
    if (server_lang(&argc, argv, prog) != 0)
        return 2;
    int rc = server_parse_options(&o, codec, prog, about, argc, argv);
    if (rc >= 0)
        return rc;
    registry_creds creds;
    char err[512];
    if (registry_creds_pick(&creds, o.token_arg, o.token_file, o.user_arg, o.user_file, err, sizeof err) < 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return 2;
    }
    log_setup(prog, o.quiet);
    return server_run(codec, &o, &creds.auth, prog);
}
