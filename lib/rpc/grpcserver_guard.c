/* grpcserver_guard.c -- what a gRPC connection may hold and take: a call's grpc-timeout,
 * the stream progress deadline (--stream-timeout), the per-connection and whole-server
 * budgets of buffered request and reply bytes (--conn-budget, --server-budget), the share
 * of request messages a connection's methods take per turn, and which connections count
 * as busy for --idle-timeout. */
#include "rpc/grpcserver_int.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/i18n.h"
#include "base/log.h"

#define TURN_MESSAGES 128         /* request messages a connection's methods take per feed */
#define TURN_REPLIES (256u * 1024) /* reply bytes they may queue per feed */
#define OUT_SLACK (16u * 1024)     /* replies queued beyond what the client's windows let out */

static uint64_t stream_timeout_ms = 30000;
static size_t conn_budget = 8u << 20;
static size_t server_budget = 256u << 20;
static size_t server_held; /* the sum of every open connection's held bytes */

/* Parses a whole decimal number in [lo, hi]. Returns 0, or -1. */
static int parse_size(const char *v, size_t lo, size_t hi, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || end == v || *end || v[0] == '-' || n < lo || n > hi)
        return -1;
    *out = (size_t)n;
    return 0;
}

int grpcserver_take_options(int *argc, char **argv, char *err, size_t errlen)
{
    static const struct {
        const char *name, *what;
        size_t lo;
    } opts[] = {{"stream-timeout", N_("a number of seconds, at least 1"), 1},
                {"conn-budget", N_("a number of bytes, at least 65536"), 65536},
                {"server-budget", N_("a number of bytes, at least 65536"), 65536}};
    size_t v[3] = {(size_t)(stream_timeout_ms / 1000), conn_budget, server_budget};
    for (size_t i = 0; i < 3; i++) {
        bool missing = false;
        const char *s = server_take_option(argc, argv, opts[i].name, &missing);
        if (missing || (s && parse_size(s, opts[i].lo, SIZE_MAX / 2, &v[i]) < 0)) {
            err_set(err, errlen, _("--%s wants %s"), opts[i].name, _(opts[i].what));
            return -1;
        }
    }
    if (v[0] > UINT32_MAX) {
        err_set(err, errlen, _("--stream-timeout is too large"));
        return -1;
    }
    stream_timeout_ms = (uint64_t)v[0] * 1000;
    conn_budget = v[1];
    server_budget = v[2];
    return 0;
}

int gguard_parse_timeout(const char *s, uint64_t *ms)
{
    size_t n = strlen(s);
    if (n < 2 || n > 9)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    switch (s[n - 1]) {
    case 'H': *ms = v * 3600000; return 0;
    case 'M': *ms = v * 60000; return 0;
    case 'S': *ms = v * 1000; return 0;
    case 'm': *ms = v; return 0;
    case 'u': *ms = (v + 999) / 1000; return 0;
    case 'n': *ms = (v + 999999) / 1000000; return 0;
    default: return -1;
    }
}

/* Bytes s holds: a partial request and replies not yet taken. */
static size_t stream_held(const gstream *s) { return buf_size(&s->in) + buf_size(&s->out); }

/* True when s waits on its client: for the rest of a message, for it to take the
 * replies queued, or for a unary call's request. A call the server is working on, or
 * one that waits for events of its own (a health Watch), does not. */
static bool waits_on_client(const gstream *s)
{
    if (s->finished && buf_size(&s->out) == 0)
        return false;
    return stream_held(s) > 0 || (s->method && s->method->unary && !s->input_done && !s->slow);
}

/* True when s's replies back up: more queued than the client's windows (the stream's and
 * the connection's) let out, by OUT_SLACK, or over GSTREAM_OUT_BACKLOG whatever they say. */
static bool backs_up(gstream *s)
{
    size_t out = buf_size(&s->out);
    if (out <= OUT_SLACK)
        return false;
    if (out > GSTREAM_OUT_BACKLOG)
        return true;
    int32_t sw = nghttp2_session_get_stream_remote_window_size(s->c->h2, s->id);
    int32_t cw = nghttp2_session_get_remote_window_size(s->c->h2);
    size_t room = sw > 0 && cw > 0 ? (size_t)(sw < cw ? sw : cw) : 0;
    return out > room + OUT_SLACK;
}

bool gguard_may_take(gstream *s)
{
    return s->c->msg_turn < TURN_MESSAGES && s->c->reply_turn < TURN_REPLIES && !backs_up(s);
}

bool gguard_turn_wanted(gconn *c)
{
    for (gstream *s = c->streams; s; s = s->next)
        if (s->deferred && (s->finished || !backs_up(s)))
            return true;
    return false;
}

void gguard_progress(gstream *s) { s->progress_ms = clock_now_ms(); }

uint64_t gguard_stream_timeout(void) { return stream_timeout_ms; }

bool gguard_stalled(const gstream *s, uint64_t now, size_t *held)
{
    *held = stream_held(s);
    return waits_on_client(s) && now - s->progress_ms >= stream_timeout_ms;
}

size_t gguard_recount(gconn *c)
{
    size_t held = 0;
    for (gstream *s = c->streams; s; s = s->next)
        held += stream_held(s);
    server_held = server_held - c->held + held;
    c->held = held;
    return held;
}

gstream *gguard_over_budget(gconn *c)
{
    /* A connection may always hold one largest request and its reply. */
    size_t budget = conn_budget > 2 * c->max_message + 16 ? conn_budget : 2 * c->max_message + 16;
    if (gguard_recount(c) <= budget && (server_held <= server_budget || c->held == 0))
        return NULL;
    gstream *big = NULL;
    for (gstream *s = c->streams; s; s = s->next)
        if (!big || stream_held(s) > stream_held(big))
            big = s;
    bool mine = c->held > budget;
    log_msg("%s: stream %" PRId32 " (%s): %zu bytes held; the %s holds %zu, over its budget of "
            "%zu (%s): stream reset (RESOURCE_EXHAUSTED)",
            server_conn_peer(c->sc), big->id, big->path ? big->path : "?", stream_held(big),
            mine ? "connection" : "server", mine ? c->held : server_held,
            mine ? budget : server_budget, mine ? "--conn-budget" : "--server-budget");
    return big;
}

bool gguard_refuse(void) { return server_held > server_budget / 4 * 3; }

void gguard_close(gconn *c)
{
    server_held -= c->held;
    c->held = 0;
}

bool gguard_busy(const gconn *c)
{
    for (const gstream *s = c->streams; s; s = s->next)
        if (!waits_on_client(s))
            return true;
    return false;
}

static const char options_help[] = N_(
    "Limits on what a client may hold (partial requests, replies it has not read):\n"
    "      --stream-timeout SEC  reset a stream (RST_STREAM CANCEL) that waits this\n"
    "                           long on its client with no progress: no request\n"
    "                           bytes, no reply bytes taken (default 30); when that\n"
    "                           is every stream of a connection, the connection is\n"
    "                           closed (GOAWAY ENHANCE_YOUR_CALM). A connection\n"
    "                           whose streams all wait on their client is not busy\n"
    "                           for --idle-timeout.\n"
    "      --conn-budget BYTES  bytes one connection's streams may hold, at least\n"
    "                           twice --max-message; past it, its biggest stream is\n"
    "                           reset: RESOURCE_EXHAUSTED (default 8388608)\n"
    "      --server-budget BYTES  the same over every connection (default 268435456):\n"
    "                           past three quarters of it new streams are refused\n"
    "                           (REFUSED_STREAM), past it the biggest stream of the\n"
    "                           connection adding more is reset\n");

const char *grpcserver_about(const char *about)
{
    static char text[8192];
    snprintf(text, sizeof text, "%s\n\n%s", about, _(options_help));
    size_t n = strlen(text);
    if (n > 0 && text[n - 1] == '\n')
        text[n - 1] = '\0'; /* usage adds its own */
    return text;
}
