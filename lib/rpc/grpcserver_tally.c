/* grpcserver_tally.c -- tally.Tally, one method of each streaming kind: Count streams
 * from the server, Total from the client, RunningTotal both ways. */
#include "rpc/grpcserver_int.h"

#include <inttypes.h>
#include <stdio.h>

#include "tally.pb-c.h"

#define COUNT_CHUNK (64u * 1024)      /* Count without interval: messages made per read */
#define MAX_INTERVAL_MS 1000

/* Go's int64 addition: wraps around instead of overflowing. */
static int64_t add_wrap(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }

/* ---- Count: 1..to, as fast as the client reads, or one every interval_ms ---- */

typedef struct count {
    bool started;
    int64_t next, to;
    int interval_ms;
} count;

static void count_make(gstream *s, count *k, size_t budget)
{
    while (!s->finished && k->next <= k->to && buf_size(&s->out) < budget) {
        Tally__Number num = TALLY__NUMBER__INIT;
        num.value = k->next++;
        if (gstream_send(s, &num.base) < 0)
            return;
    }
    if (!s->finished && k->next > k->to)
        gstream_finish(s, GRPC_OK, NULL);
}

static void count_more(grpc_call *call)
{
    count *k = call->s->state;
    if (k && k->started && k->interval_ms == 0)
        count_make(call->s, k, COUNT_CHUNK);
}

static void on_count_tick(loop *l, void *ud)
{
    (void)l;
    gstream *s = ud;
    s->tick_timer = 0;
    if (s->finished)
        return;
    count_make(s, s->state, 1); /* one message */
    if (!s->finished)
        s->tick_timer = server_conn_timer(s->c->sc, (uint64_t)((count *)s->state)->interval_ms,
                                          on_count_tick, s);
    server_conn_flush(s->c->sc);
}

static void count_begin(grpc_call *call, const ProtobufCMessage *req)
{
    const Tally__CountRequest *r = (const Tally__CountRequest *)req;
    if (r->interval_ms < 0 || r->interval_ms > MAX_INTERVAL_MS) {
        char msg[128];
        snprintf(msg, sizeof msg, "interval_ms must be between 0 and %d, not %" PRId32,
                 MAX_INTERVAL_MS, r->interval_ms);
        grpcserver_finish(call, GRPC_INVALID_ARGUMENT, msg);
        return;
    }
    count *k = grpcserver_call_state(call, sizeof *k);
    if (!k) {
        grpcserver_finish(call, GRPC_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    gstream *s = call->s;
    *k = (count){true, 1, r->to, r->interval_ms};
    gstream_start_response(s);
    if (k->interval_ms == 0) {
        count_make(s, k, COUNT_CHUNK);
        return;
    }
    count_make(s, k, 1);
    if (!s->finished)
        s->tick_timer = server_conn_timer(s->c->sc, (uint64_t)k->interval_ms, on_count_tick, s);
}

/* ---- Total and RunningTotal: the sum of the numbers so far ---- */

static int64_t *sum_of(grpc_call *call)
{
    int64_t *sum = grpcserver_call_state(call, sizeof *sum);
    if (!sum)
        grpcserver_finish(call, GRPC_RESOURCE_EXHAUSTED, "out of memory");
    return sum;
}

static void total_add(grpc_call *call, const ProtobufCMessage *req)
{
    int64_t *sum = sum_of(call);
    if (sum)
        *sum = add_wrap(*sum, ((const Tally__Number *)req)->value);
}

static void total_end(grpc_call *call)
{
    int64_t *sum = sum_of(call);
    if (!sum)
        return;
    Tally__Number r = TALLY__NUMBER__INIT;
    r.value = *sum;
    if (grpcserver_reply(call, &r.base) == 0)
        grpcserver_finish(call, GRPC_OK, NULL);
}

static void running_add(grpc_call *call, const ProtobufCMessage *req)
{
    int64_t *sum = sum_of(call);
    if (!sum)
        return;
    *sum = add_wrap(*sum, ((const Tally__Number *)req)->value);
    Tally__Number r = TALLY__NUMBER__INIT;
    r.value = *sum;
    grpcserver_reply(call, &r.base);
}

const grpc_method grpcserver_tally[] = {
    {"/tally.Tally/Count", .message = count_begin, .more = count_more},
    {"/tally.Tally/Total", .message = total_add, .input_done = total_end},
    {"/tally.Tally/RunningTotal", .message = running_add, .input_done = gcall_end_ok},
};
const size_t grpcserver_ntally = sizeof grpcserver_tally / sizeof grpcserver_tally[0];
