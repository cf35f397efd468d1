/* grpcmux_int.h -- what grpcmux.c (the connection) and grpcmux_call.c (the calls, below
 * it: it calls nothing of grpcmux.c) share. */
#ifndef WB_GRPCMUX_INT_H
#define WB_GRPCMUX_INT_H

#include <nghttp2/nghttp2.h>

#include "base/buf.h"
#include "rpc/grpcclient.h"
#include "rpc/grpcmux.h"

enum {
    MUX_MAX_CALLS = 10000,      /* calls one mux holds at once (beyond: RESOURCE_EXHAUSTED) */
    MUX_MAX_REPLY = 4 << 20,    /* a reply message's cap */
    MUX_REPLY_BUDGET = 64 << 20, /* the reply bytes all calls of a mux hold at once */
    MUX_READ_CHUNK = 64 << 10,  /* one recv() */
    MUX_READS_PER_TURN = 16,    /* recv()s per readiness, so other descriptors get a turn */
    MUX_OUT_CHUNK = 256 << 10,  /* frames gathered for one send() */
    MUX_STREAM_WINDOW = 1 << 20,
    MUX_CONN_WINDOW = 16 << 20,
};

typedef enum { CALL_LIVE, CALL_DONE, CALL_ZOMBIE } call_state;

/* One call. LIVE: in the deadline list. DONE: ended, its callback waits in the done
 * list. ZOMBIE: called back, but nghttp2 still holds its stream (reset, not yet closed). */
typedef struct mcall mcall;
struct mcall {
    grpcmux *m;
    mcall *prev, *next; /* in the list its state says */
    call_state state;
    int32_t stream;   /* 0 until submitted */
    bool h2_open;     /* nghttp2 holds it as the stream's user data */
    bool headers_out; /* its HEADERS frame was made; its first byte is first_byte */
    uint64_t first_byte;
    uint64_t deadline;
    int timeout_ms;
    grpcmux_done_fn fn;
    void *ud;
    uint8_t *body; /* 5-byte prefix and the request */
    size_t body_len, body_off;
    /* the reply */
    int http_status, grpc_status;
    bool have_status, content_type_ok;
    char *grpc_message;
    uint8_t prefix[5];
    size_t prefix_got;
    uint8_t *msg; /* the reply message, msg_len of msg_want bytes so far, in msg_cap */
    size_t msg_len, msg_want, msg_cap;
    int nmsgs;
    /* how it ended */
    grpcmux_reply r;
    char *text;
};

typedef struct mlist {
    mcall *head, *tail;
} mlist;

struct grpcmux {
    loop *l;
    char addr[300];
    int fd;
    int connect_timeout_ms;
    bool connected, failed, goaway, closing;
    int32_t goaway_last;
    nghttp2_session *h2; /* NULL once the connection failed */
    uint64_t connect_timer, flush_timer, deadline_timer, drain_timer;
    uint64_t deadline_due; /* what deadline_timer was set for */
    bool want_out;         /* EPOLLOUT asked for */
    buf out;               /* frames made, not yet sent from out_off */
    size_t out_off;
    uint64_t produced, written; /* bytes made and sent since the start */
    uint8_t *rbuf;
    mlist live;   /* ordered by deadline */
    mlist done;   /* ended, to be called back */
    mlist zombie; /* called back, streams still in nghttp2 */
    size_t nheld, npending; /* every call held; those not yet called back */
    size_t reply_bytes;     /* what the calls' msg buffers hold */
    grpc_sendmd md;
    grpcmux_stats stats;
};

void mlist_push(mlist *li, mcall *c);
void mlist_remove(mlist *li, mcall *c);

/* nghttp2's callbacks for the calls (grpcmux_call.c). */
void mux_set_callbacks(nghttp2_session_callbacks *cb);
/* Submits c's HEADERS and DATA to nghttp2. Returns 0, or a negative nghttp2 error. */
int mux_submit(grpcmux *m, mcall *c, const char *path);
/* Ends c with status and a text (copied); a LIVE call leaves the deadline list. */
void mux_end(mcall *c, int status, const char *text, bool conn_failed, bool unsent);
/* Ends every call past its deadline, resetting its stream (the caller flushes). */
void mux_expire(grpcmux *m);
/* Runs the callbacks of the calls ended so far (not those ended by them). */
void mux_drain(grpcmux *m);
/* Frees c (in no list). */
void mux_call_free(mcall *c);

#endif
