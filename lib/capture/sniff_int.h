/* sniff_int.h -- what the pieces of the sniffer share: a connection's state, its calls
 * waiting for replies, and each protocol's decoder behind one table.
 *
 * The pieces are layered, each calling only those below it:
 *   sniff.c          the public face: tcpflow's hooks, recognition, connection events
 *   sniff_detect.c   which protocol a connection speaks, from its bytes
 *   sniff_gob.c, sniff_json.c, sniff_h2.c, sniff_http.c   the decoders
 *   sniff_pb.c       protobuf messages in one line (gRPC), with or without a schema
 *   sniff_conn.c     the bytes of a direction, calls waiting, calls handed over, and the
 *                    explaining state's life
 *   sniff_explain.c  sniff_explain_call (beside the others, for the hook's callers)
 *
 * Directions are the roles as decoded: SNIFF_C2S is what the client sent. tcpflow's
 * FLOW_C2S is the end it took for the client; when the bytes say otherwise the
 * connection is swapped and tcpflow's directions are turned round on the way in. */
#ifndef WB_SNIFF_INT_H
#define WB_SNIFF_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "capture/sniff.h"

enum { SNIFF_C2S = 0, SNIFF_S2C = 1 };

/* Bytes of each direction looked at before a connection is given up as unknown. */
#define SNIFF_DETECT_BYTES 4096
/* A direction that is not recognised is kept up to this many bytes in any case. */
#define SNIFF_DETECT_MAX (64u << 10)
/* Calls waiting for their replies on one connection. */
#define SNIFF_MAX_WAITING 1024
/* Text of an argument or result is cut here, with "...". */
#define SNIFF_TEXT_MAX 4096
/* When the chunks of a direction arrived: at most this many remembered. */
#define SNIFF_TS_MAX 256

typedef struct sniff_ts {
    uint64_t off; /* the stream offset of the chunk's first byte */
    int64_t us;
} sniff_ts;

/* One direction of a connection. Stream offsets count every byte delivered (gaps too). */
typedef struct sniff_dir {
    buf in;             /* bytes not decoded yet; buf_data(&in)[0] is at stream offset at */
    uint64_t at;
    uint64_t total;     /* the stream offset of the next byte */
    buf keep;           /* bytes kept for explaining, from stream offset keep_base */
    uint64_t keep_base;
    bool keep_stopped;  /* keep_bytes reached, or the connection is not recognised */
    bool gapped;        /* bytes went missing: kept bytes restart after the last gap */
    sniff_ts ts[SNIFF_TS_MAX];
    size_t nts;
    int64_t last_us;    /* when the latest byte arrived */
} sniff_dir;

/* A request waiting for its reply. The strings are owned by it. */
typedef struct sniff_req {
    char *key;          /* what pairs it with its reply; NULL: replies come in order */
    char *method, *args, *note;
    int64_t start_us;
    uint64_t off, end;  /* its bytes, stream offsets of SNIFF_C2S */
    bool have_bytes;
} sniff_req;

/* What a reply (or the lack of one) adds. */
typedef struct sniff_rep {
    const char *result, *error, *status, *note;
    int64_t end_us;
    uint64_t off, end;  /* its bytes in SNIFF_S2C; off == end: none */
} sniff_rep;

struct sniff_conn;

/* A protocol's decoder. feed decodes what waits in c->d[dir].in, consuming what it has
 * used (sniff_dir_consume); gap says bytes of dir went missing (in is empty then);
 * finish hands over whatever it still holds; done frees c->dec. */
typedef struct sniff_ops {
    int (*open)(struct sniff_conn *c);
    void (*feed)(struct sniff_conn *c, int dir);
    void (*gap)(struct sniff_conn *c, int dir);
    void (*finish)(struct sniff_conn *c, int64_t now_us);
    void (*done)(struct sniff_conn *c);
} sniff_ops;

extern const sniff_ops sniff_gob_ops, sniff_json_ops, sniff_h2_ops, sniff_http_ops;

typedef struct sniff_conn {
    struct sniff *s;
    uint64_t id;
    char client[48], server[48];
    bool mid_stream;    /* the capture began after the connection did */
    bool swapped;       /* tcpflow's roles were the wrong way round */
    sniff_proto proto;
    bool gave_up;       /* not a protocol the workbench knows: bytes are dropped */
    const sniff_ops *ops;
    void *dec;          /* the decoder's state */
    sniff_dir d[2];
    sniff_req *wait;
    size_t nwait, cwait;
    uint64_t ncalls;
    struct sniff_wire *wire; /* explaining state (sniff_explain.c); NULL until a call */
    struct sniff_conn *prev, *next;
} sniff_conn;

struct sniff {
    sniff_opts o;
    uint16_t *ports;
    sniff_hooks h;
    void *ud;
    struct tcpflow *flow;
    sniff_stats st;
    sniff_conn *conns;  /* every connection open, newest first */
    bool quiet;         /* sniff_free: no hooks */
};

/* ---- tcpflow's hooks (sniff.c); unit tests drive them directly with ud = the sniff ---- */

void sniff_flow_opened(void *ud, flow_conn *fc);
void sniff_flow_data(void *ud, flow_conn *fc, int dir, const uint8_t *p, size_t n, int64_t ts_us);
void sniff_flow_gap(void *ud, flow_conn *fc, int dir, uint64_t n, int64_t ts_us);
void sniff_flow_closed(void *ud, flow_conn *fc, flow_end why, int64_t ts_us);

/* ---- recognition (sniff_detect.c) ---- */

typedef enum sniff_found {
    SNIFF_FOUND_NONE,    /* not these bytes' protocol */
    SNIFF_FOUND_MORE,    /* perhaps, with more bytes */
    SNIFF_FOUND_CLIENT,  /* yes, and these bytes are the client's */
    SNIFF_FOUND_SERVER,  /* yes, and these bytes are the server's */
    SNIFF_FOUND_EITHER,  /* yes, but they do not say whose they are */
} sniff_found;

/* Which protocol one direction's first n bytes speak: *proto, and what they say of the
 * roles. start: the bytes are the direction's first. */
sniff_found sniff_detect(const uint8_t *p, size_t n, bool start, sniff_proto *proto);
/* "gRPC over HTTP/2 (h2c)", ... */
const char *sniff_proto_title(sniff_proto p);

/* ---- explaining state kept per connection (sniff_conn.c; used by sniff_explain.c) ---- */

/* One direction's. */
typedef struct sniff_wdir {
    bool on, from_start;
    struct netrpc_explainer *nx; /* gob from the start: the calls explained so far */
    explain win;                 /* ... their spans that start at lo or later, in order */
    size_t lo, next_trim;
    bool sorted;                 /* win's spans are in the order of their offsets */
    struct gob_explainer *gx;    /* gob caught mid-way: the messages from start to pos */
    size_t start, pos;
} sniff_wdir;

typedef struct sniff_wire {
    sniff_wdir d[2];
    /* gRPC: the client's and the server's HTTP/2 explainers, and how they read (mid-way,
     * from which offsets) */
    struct h2explainer *h2[2];
    bool h2_mid[2];
    size_t h2_at[2];
} sniff_wire;

/* Returns an empty state, or NULL when memory ran out. */
sniff_wire *sniff_wire_new(void);
/* Forgets what direction dir's explaining state holds (its kept bytes restart; HTTP/2's
 * explainers go for both directions, the server's reading the client's). Accepts NULL. */
void sniff_wire_reset(sniff_wire *w, int dir);
/* Accepts NULL. */
void sniff_wire_free(sniff_wire *w);

/* ---- the decoders' resynchronisation, shared with recognition and explaining ---- */

/* Where in p[0..n) a stream caught mid-way has its first message boundary: the offset
 * (>= 0), -1 when more bytes may tell, -2 when none is in sight. */
long sniff_gob_sync(const uint8_t *p, size_t n, size_t max_message);
long sniff_json_sync(const uint8_t *p, size_t n);
long sniff_h2_sync(const uint8_t *p, size_t n);
long sniff_http_sync(const uint8_t *p, size_t n, bool *request);
/* What the whole JSON object p[0..n) says of its sender: a request is the client's, a
 * reply the server's; NONE when it is neither (or not an object). */
sniff_found sniff_json_role(const uint8_t *p, size_t n);
/* Whether p[0..n) is a gob value message (without its length) shaped as net/rpc's
 * Request (response false) or Response header; fills what it holds. */
bool sniff_gob_header_shape(const uint8_t *p, size_t n, bool response, char *method,
                            size_t mcap, uint64_t *seq, char *error, size_t ecap, bool *has_error);
/* What the messages of p[at..n) (at a boundary) say: 1 a header with an error (a
 * Response), 0 a header without one, -1 no header. */
int sniff_gob_headers(const uint8_t *p, size_t n, size_t at);

/* ---- directions, waiting calls and handing calls over (sniff_conn.c) ---- */

/* Appends p[0..n) that arrived at ts_us to direction dir: to its input, and to its kept
 * bytes while they last. Returns 0, or -1 when the input would pass cap (nothing added). */
int sniff_dir_add(sniff_conn *c, int dir, const uint8_t *p, size_t n, int64_t ts_us, size_t cap);
/* Drops the first n bytes of dir's input. */
void sniff_dir_consume(sniff_conn *c, int dir, size_t n);
/* When the byte at stream offset off of dir arrived (the latest time when unknown). */
int64_t sniff_dir_time(const sniff_conn *c, int dir, uint64_t off);
/* The largest message the decoders take. */
size_t sniff_max_message(const sniff_conn *c);

/* Queues r (taking its strings) to wait for its reply; when SNIFF_MAX_WAITING wait
 * already, the oldest is handed over as having no reply. */
void sniff_wait_add(sniff_conn *c, sniff_req *r);
/* The waiting request with key (NULL: the oldest), or NULL. */
sniff_req *sniff_wait_find(sniff_conn *c, const char *key);
/* Takes the waiting request with key (NULL: the oldest) into *out. Returns false when none
 * waits. */
bool sniff_wait_take(sniff_conn *c, const char *key, sniff_req *out);
/* Frees r's strings. */
void sniff_req_done(sniff_req *r);
/* Hands one call to the hook: req (NULL: a reply whose request was not seen) and rep
 * (NULL: no reply came). */
void sniff_emit(sniff_conn *c, const sniff_req *req, const sniff_rep *rep);
/* Every waiting request handed over with status "no reply". */
void sniff_wait_flush(sniff_conn *c, int64_t now_us);

/* A protobuf message p[0..n) in one line (caller frees): proto3's JSON form when d (may be
 * NULL) is its type, else field numbers and values; *note (caller frees) is set when d was
 * given but did not fit. NULL when memory ran out. */
struct ProtobufCMessageDescriptor;
char *sniff_pb_text(const struct ProtobufCMessageDescriptor *d, const uint8_t *p, size_t n,
                    char **note);

/* v's compact JSON, cut at SNIFF_TEXT_MAX (caller frees); NULL when memory ran out. */
struct value;
char *sniff_json_text(const struct value *v);
/* Cuts the heap string s at SNIFF_TEXT_MAX bytes (on a character boundary) with "...";
 * returns s. Accepts NULL. */
char *sniff_cut(char *s);
/* A heap copy of the formatted text; NULL when memory ran out. */
char *sniff_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Joins two notes with "; " into a heap string (either may be NULL; b is left out when a
 * already says it); NULL when both are. */
char *sniff_join(const char *a, const char *b);

#endif
