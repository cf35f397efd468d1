/* server.c -- the shared TCP server: connections, buffers, deadlines, shutdown. */
#include "rpc/server.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/net.h"
#include "base/numopt.h"
#include "base/secret.h"
#include "registry/registry.h"
#include "rpc/loop.h"

#define READ_CHUNK (64 * 1024)
#define READS_PER_TURN 4            /* then let other connections have a turn */
#define WRITES_PER_TURN 4           /* output rounds a streaming codec may make per turn */
#define OUT_HIGH_WATER (4u << 20)   /* stop reading from a client that does not read its replies */
#define SHUTDOWN_GRACE_MS 5000

typedef struct server server;

typedef struct server_conn {
    server *s;
    int fd;
    char peer[64];
    buf in, out;
    void *state;
    bool eof;      /* the peer sent FIN */
    bool closing;  /* flush out, then close */
    uint32_t events;
    uint64_t last_active;
    uint64_t flush_timer; /* a server_conn_flush is pending */
    struct server_conn *prev, *next;
} conn;

struct server {
    const server_codec *codec;
    loop *l;
    int lfd;
    char addr[80];
    size_t max_message;
    uint64_t idle_ms;
    size_t max_conns, nconns;
    conn *conns;
    bool shutting_down;
    uint64_t shutdown_deadline;
    registry_keeper *keeper; /* NULL when not registered anywhere */
};

static void conn_free(server *s, conn *c, const char *why)
{
    if (why)
        log_msg("%s: closed (%s)", c->peer, why);
    loop_unwatch(s->l, c->fd);
    close(c->fd);
    loop_timer_cancel(s->l, c->flush_timer);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->codec->close(c->state);
    buf_done(&c->in);
    buf_done(&c->out);
    free(c);
    s->nconns--;
    if (s->shutting_down && s->nconns == 0)
        loop_stop(s->l);
}

/* Recomputes what to wait for. Returns false when the connection was closed. */
static bool conn_update(server *s, conn *c)
{
    bool pending = buf_size(&c->out) > 0;
    if (!pending && (c->closing || c->eof)) {
        conn_free(s, c, c->closing ? NULL : "client finished");
        return false;
    }
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
    feed_result r = s->codec->feed(c->state, &c->in, &c->out, c->eof, err, sizeof err);
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

static void on_conn(loop *l, int fd, uint32_t events, void *ud)
{
    (void)l;
    conn *c = ud;
    server *s = c->s;
    c->last_active = clock_now_ms();
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        for (int i = 0; i < READS_PER_TURN && !c->eof && !c->closing; i++) {
            int room = buf_reserve(&c->in, READ_CHUNK);
            if (room < 0) {
                if (i > 0)
                    break; /* let the codec take what this turn read, then read on */
                /* The last feed would have consumed a complete message; this one is over the cap. */
                if (room == BUF_NO_MEMORY)
                    log_msg("%s: error: out of memory for its message", c->peer);
                else
                    log_msg("%s: error: message larger than %zu bytes", c->peer, s->max_message);
                c->closing = true;
                break;
            }
            ssize_t r = recv(fd, c->in.p + c->in.len, READ_CHUNK, 0);
            if (r > 0) {
                c->in.len += (size_t)r;
                if ((size_t)r < READ_CHUNK)
                    break;
                continue;
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
    sc->last_active = clock_now_ms();
    if (!sc->flush_timer)
        sc->flush_timer = loop_timer(sc->s->l, 0, on_conn_flush, sc);
}

const char *server_conn_peer(const server_conn *sc) { return sc->peer; }
const char *server_conn_local(const server_conn *sc) { return sc->s->addr; }
loop *server_conn_loop(const server_conn *sc) { return sc->s->l; }

static void on_accept(loop *l, int lfd, uint32_t events, void *ud)
{
    (void)events;
    server *s = ud;
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                log_msg("accept: %s", strerror(errno));
            return;
        }
        if (s->nconns >= s->max_conns) {
            log_msg("refused a connection: already %zu open (--max-conns)", s->nconns);
            close(fd);
            continue;
        }
        conn *c = calloc(1, sizeof *c);
        if (c)
            c->s = s;
        void *st = !c                  ? NULL
                   : s->codec->open_conn ? s->codec->open_conn(c, s->max_message)
                                         : s->codec->open(s->max_message);
        if (!st) {
            free(c);
            close(fd);
            log_msg("refused a connection: out of memory");
            continue;
        }
        c->s = s;
        c->fd = fd;
        c->state = st;
        buf_init(&c->in, s->max_message + READ_CHUNK);
        buf_init(&c->out, 0);
        net_nodelay(fd);
        net_peer_addr(fd, c->peer, sizeof c->peer);
        c->last_active = clock_now_ms();
        c->events = EPOLLIN;
        c->next = s->conns;
        if (s->conns)
            s->conns->prev = c;
        s->conns = c;
        s->nconns++;
        if (loop_watch(l, fd, EPOLLIN, on_conn, c) < 0) {
            conn_free(s, c, strerror(errno));
            continue;
        }
        log_msg("%s: connected", c->peer);
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
        if (s->idle_ms && now - c->last_active > s->idle_ms &&
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

static void usage(FILE *f, const server_codec *codec, const char *prog, const char *about)
{
    fprintf(f,
            "Usage: %s [--listen HOST:PORT] [options]\n"
            "%s\n"
            "\n"
            "Options:\n"
            "  -l, --listen HOST:PORT   address to serve on (default %s);\n"
            "                           port 0 picks a free port\n"
            "  -q, --quiet              do not log connections and errors to stderr\n"
            "      --max-message BYTES  largest request accepted (default 1048576); a larger\n"
            "                           one gets an error and its connection is closed\n"
            "      --max-conns N        most connections open at once (default 10000)\n"
            "      --idle-timeout SEC   close a connection idle this long (default 300, 0 = never)\n"
            "\n"
            "Service registry (the server registers itself, keeps the entry alive, and removes\n"
            "it on SIGTERM; after SIGKILL the entry expires with its lease or check):\n"
            "      --registry URL       etcd://HOST:PORT[,HOST:PORT...], consul://HOST:PORT or\n"
            "                           none (default)\n"
            "      --service NAME       the service to register as (default: the program name)\n"
            "      --ttl SECONDS        lease/check time to live (default 10)\n"
            "      --advertise HOST:PORT  the address clients should use (default: the\n"
            "                           address the server listens on)\n"
            "      --registry-token T   Consul ACL token\n"
            "      --registry-user U:P  etcd user and password\n"
            "      --registry-token-file PATH, --registry-user-file PATH\n"
            "                           the same from the first line of a file that others\n"
            "                           cannot read (chmod 600); without any of these, from\n"
            "                           $WB_REGISTRY_TOKEN and $WB_REGISTRY_USER. A value on\n"
            "                           the command line is visible to every local user in\n"
            "                           /proc/PID/cmdline: prefer the file or the environment\n"
            "  -h, --help               show this help\n"
            "\n"
            "The first line printed on stdout is the address the server listens on.\n"
            "SIGTERM or SIGINT stops it gracefully: replies already due are sent first.\n"
            "\n",
            prog, about, codec->default_listen);
    fputs(codec->methods_help ? codec->methods_help
                              : "Methods served:\n"
                                "  Arith.Multiply    {A, B} ints -> A*B\n"
                                "  Arith.Divide      {A, B} ints -> {Quo, Rem}; B = 0 -> error \"divide by zero\"\n"
                                "  hello.HelloWorld  a string name -> name + \" 你好....\"\n"
                                "  Greeter.SayHello  {Name} -> {Message: \"Hello \" + Name}\n",
          f);
}

const char *server_take_option(int *argc, char **argv, const char *name, bool *missing)
{
    const char *val = NULL;
    size_t n = strlen(name);
    int out = 1;
    *missing = false;
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            while (i < *argc)
                argv[out++] = argv[i++];
            break;
        }
        if (a[0] == '-' && a[1] == '-' && strncmp(a + 2, name, n) == 0) {
            if (a[2 + n] == '=') {
                val = a + 3 + n;
                continue;
            }
            if (a[2 + n] == '\0') {
                if (i + 1 < *argc)
                    val = argv[++i];
                else
                    *missing = true;
                continue;
            }
        }
        argv[out++] = argv[i];
    }
    argv[out] = NULL;
    *argc = out;
    return val;
}

/* --registry-WHAT, its -file form or $WB_REGISTRY_WHAT into store (SECRET_MAX bytes);
 * *out is store, or NULL when none was given. -1 after a message on stderr. */
static int pick_secret(const char *prog, const char *what, const char *given, const char *path, char *store,
                       const char **out)
{
    char env[32], err[400];
    snprintf(env, sizeof env, "WB_REGISTRY_%s", strcmp(what, "user") == 0 ? "USER" : "TOKEN");
    int got = secret_pick(given, path, env, store, SECRET_MAX, err, sizeof err);
    if (got < 0)
        fprintf(stderr, "%s: --registry-%s: %s\n", prog, what, err);
    *out = got > 0 ? store : NULL;
    return got < 0 ? -1 : 0;
}

int server_main(const server_codec *codec, const char *prog, const char *about, int argc,
                char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},  {"quiet", no_argument, NULL, 'q'},
        {"max-message", required_argument, NULL, 'm'}, {"max-conns", required_argument, NULL, 'c'},
        {"idle-timeout", required_argument, NULL, 'i'}, {"help", no_argument, NULL, 'h'},
        {"registry", required_argument, NULL, 'R'}, {"service", required_argument, NULL, 'S'},
        {"ttl", required_argument, NULL, 'T'}, {"advertise", required_argument, NULL, 'A'},
        {"registry-token", required_argument, NULL, 'K'},
        {"registry-user", required_argument, NULL, 'U'},
        {"registry-token-file", required_argument, NULL, 'k'},
        {"registry-user-file", required_argument, NULL, 'u'},
        {NULL, 0, NULL, 0}};
    const char *token_arg = NULL, *user_arg = NULL, *token_file = NULL, *user_file = NULL;
    const char *registry_url = "none", *service = prog, *advertise = NULL;
    registry_auth auth = {0};
    size_t ttl = 10;
    const char *listen_addr = codec->default_listen;
    bool quiet = false;
    size_t max_message = 1u << 20, max_conns = 10000, idle = 300;
    int ch;
    while ((ch = getopt_long(argc, argv, "l:qh", opts, NULL)) != -1) {
        switch (ch) {
        case 'l': listen_addr = optarg; break;
        case 'q': quiet = true; break;
        case 'm':
            if (numopt_size(optarg, &max_message) < 0 || max_message < 64) {
                fprintf(stderr, "%s: --max-message wants a number of bytes (at least 64)\n", prog);
                return 2;
            }
            break;
        case 'c':
            if (numopt_size(optarg, &max_conns) < 0 || max_conns == 0) {
                fprintf(stderr, "%s: --max-conns wants a positive number\n", prog);
                return 2;
            }
            break;
        case 'i':
            if (numopt_size(optarg, &idle) < 0) {
                fprintf(stderr, "%s: --idle-timeout wants a number of seconds\n", prog);
                return 2;
            }
            break;
        case 'R': registry_url = optarg; break;
        case 'S': service = optarg; break;
        case 'A': advertise = optarg; break;
        case 'K': token_arg = optarg; break;
        case 'U': user_arg = optarg; break;
        case 'k': token_file = optarg; break;
        case 'u': user_file = optarg; break;
        case 'T':
            if (numopt_size(optarg, &ttl) < 0 || ttl < 1 || ttl > 3600) {
                fprintf(stderr, "%s: --ttl wants a number of seconds from 1 to 3600\n", prog);
                return 2;
            }
            break;
        case 'h': usage(stdout, codec, prog, about); return 0;
        default:
            fprintf(stderr, "Try '%s --help'.\n", prog);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument \"%s\". Try '%s --help'.\n", prog, argv[optind], prog);
        return 2;
    }
    char err[256], token[SECRET_MAX], user[SECRET_MAX];
    if (pick_secret(prog, "token", token_arg, token_file, token, &auth.token) < 0 ||
        pick_secret(prog, "user", user_arg, user_file, user, &auth.user) < 0)
        return 2;
    log_setup(prog, quiet);
    signal(SIGPIPE, SIG_IGN);

    server s = {.codec = codec, .max_message = max_message, .max_conns = max_conns,
                .idle_ms = (uint64_t)idle * 1000};
    s.lfd = net_listen(listen_addr, err, sizeof err);
    if (s.lfd < 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return 1;
    }
    net_local_addr(s.lfd, s.addr, sizeof s.addr);
    if (!(s.l = loop_new(err, sizeof err))) {
        fprintf(stderr, "%s: %s\n", prog, err);
        close(s.lfd);
        return 1;
    }
    if (loop_watch(s.l, s.lfd, EPOLLIN, on_accept, &s) < 0 ||
        loop_signal(s.l, SIGTERM, on_stop_signal, &s) < 0 ||
        loop_signal(s.l, SIGINT, on_stop_signal, &s) < 0 || !loop_timer(s.l, 1000, on_tick, &s)) {
        fprintf(stderr, "%s: cannot set up the event loop: %s\n", prog, strerror(errno));
        loop_free(s.l);
        close(s.lfd);
        return 1;
    }
    printf("%s\n", s.addr);
    fflush(stdout);
    log_msg("serving %s on %s", codec->name, s.addr);
    if (strcmp(registry_url, "none") != 0) {
        s.keeper = registry_keeper_start(registry_url, &auth, service, advertise ? advertise : s.addr,
                                         codec->protocol ? codec->protocol : "json", (int)ttl,
                                         NULL, NULL, err, sizeof err);
        if (!s.keeper) {
            fprintf(stderr, "%s: --registry: %s\n", prog, err);
            loop_free(s.l);
            close(s.lfd);
            return 2;
        }
    }
    int rc = loop_run(s.l) < 0 ? 1 : 0;
    registry_keeper_stop(s.keeper, true);
    while (s.conns)
        conn_free(&s, s.conns, NULL);
    if (s.lfd >= 0)
        close(s.lfd);
    loop_free(s.l);
    log_msg("stopped");
    return rc;
}
