/* h2explain_int.h -- what the pieces of the HTTP/2 explainer share: one direction's state,
 * frame headers, and the helpers that explain a frame's parts.
 *
 * The pieces are layered, each calling only those below it:
 *   h2explain.c        the frame walker and the control frames
 *   h2explain_grpc.c   header blocks and gRPC messages
 *   h2explain_frame.c  the parts every frame has, and per-stream state
 *   h2explain_names.c  the words for numbers on the wire */
#ifndef WB_H2EXPLAIN_INT_H
#define WB_H2EXPLAIN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/h2explain.h"
#include "wire/hpack.h"
#include "wire/pbcatalog.h"

enum { F_DATA, F_HEADERS, F_PRIORITY, F_RST_STREAM, F_SETTINGS, F_PUSH_PROMISE, F_PING,
       F_GOAWAY, F_WINDOW_UPDATE, F_CONTINUATION };
enum { FL_END_STREAM = 0x1, FL_ACK = 0x1, FL_END_HEADERS = 0x4, FL_PADDED = 0x8,
       FL_PRIORITY = 0x20 };
/* What h2x.told remembers was already spelled out in full. */
enum { TOLD_HEADER = 1, TOLD_STREAM = 2, TOLD_PAD = 4, TOLD_SETTINGS = 8, TOLD_WINDOW = 16,
       TOLD_PING = 32 };

/* Server streams a kept explainer follows whose client stream it has not seen named. */
#define H2X_PENDING 64

/* A reassembled unit (a gRPC message), explained once in its own coordinates and emitted
 * frame by frame. */
typedef struct unit {
    explain x;
    size_t total, done;
} unit;

typedef struct h2stream {
    uint32_t id;
    char *path;
    size_t path_at;   /* where the header block that named path ends (0: none did) */
    bool unnamed;     /* a kept server explainer's: m is taken from the client's stream when
                       * a message first needs it */
    bool cond;        /* ... and read otherwise for client passes outside [clo, chi), where
                       * the method is alt */
    size_t clo, chi;
    const pb_method *alt;
    const pb_method *m;
    unsigned blocks, msgs;
    bool in_msg;
    unit msg;
} h2stream;

/* One direction of one connection being explained. */
typedef struct h2x {
    const uint8_t *p;
    size_t n;
    bool server;
    const pb_method *hint;
    const struct h2x *peer; /* the client's pass, when explaining an exchange */
    explain *e;
    hpack_dec hp;
    h2stream *st;
    size_t nst, cst;
    unsigned told, told_hpack, told_pb, told_grpc, told_flags;
    bool failed; /* some bytes made no sense */
    bool stop;   /* a connection error: nothing after it is read */
    bool midway; /* caught mid-way: no preface, frames from start, HPACK's table unknown */
    size_t start;
    /* Kept between calls (h2explainer): what the frame just explained looked at */
    size_t reach; /* the end of the farthest frame it read */
    bool cut;     /* it would have read on, past n */
    /* ... and, for a server explainer, which of the client's streams it took a method from:
     * its spans are those of an exchange whose client pass read [0, h) for every h in
     * [hlo, hhi), given that none of the pending streams is named in [0, h) */
    bool kept;
    size_t horizon, hlo, hhi;
    size_t slo, shi; /* the frame just explained holds only spans of such passes */
    uint32_t pending[H2X_PENDING];
    size_t npending;
} h2x;

/* A frame header. */
typedef struct fh {
    size_t off;
    uint32_t len;
    uint8_t type, flags;
    uint32_t sid;
    bool reserved;
} fh;

static inline uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- frames (h2explain_frame.c) ---- */

/* Reads the frame header at off into f; true when the whole frame is in the capture. */
bool h2x_frame_at(const uint8_t *p, size_t n, size_t off, fh *f);
/* The data of a DATA frame, without padding, in p[*a..*b); false when the padding does
 * not fit. */
bool h2x_data_bounds(const uint8_t *p, const fh *f, size_t *a, size_t *b);
/* The header block fragment of a HEADERS, PUSH_PROMISE or CONTINUATION frame, in
 * p[*a..*b); false when the padding and priority fields do not fit. */
bool h2x_fragment_bounds(const uint8_t *p, const fh *f, size_t *a, size_t *b);
/* Stream id's state, or NULL. */
const h2stream *h2x_stream_find(const h2x *x, uint32_t id);
/* Stream id's state, made on first use (inheriting the method from the peer's pass or
 * the hint); NULL when memory ran out. */
h2stream *h2x_stream_get(h2x *x, uint32_t id);
/* The method of server stream s, as the client's pass named it (for a kept explainer,
 * the first time a message needs it). */
const pb_method *h2x_stream_method(h2x *x, h2stream *s);
/* Frees every stream's state; the table is empty afterwards. */
void h2x_streams_free(h2x *x);
/* Emits the spans of unit u that fall in [lo, lo + len), placed at capture offset cap,
 * saying where a span continues from or into another frame. */
void h2x_emit_unit(h2x *x, const explain *u, size_t lo, size_t len, size_t cap);
/* After a connection error inside frame f (NULL: between frames) at capture offset at:
 * the rest of the frame and then the rest of the capture are error spans, and the walk
 * stops. */
void h2x_fail_rest(h2x *x, const fh *f, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Opens the frame's container and explains its 9-byte header. Returns the container's
 * index (or -1). */
int h2x_frame_open(h2x *x, const fh *f, bool complete);
/* The pad length byte of a PADDED frame. */
void h2x_pad_length(h2x *x, const fh *f);
/* The padding at the end of a PADDED frame, if any. */
void h2x_padding(h2x *x, const fh *f);
/* The capture ends at offset at, what says where: the rest is one span at depth. */
void h2x_incomplete(h2x *x, size_t at, int depth, const char *what);

/* ---- header blocks and gRPC messages (h2explain_grpc.c) ---- */

/* Explains a HEADERS or PUSH_PROMISE frame and its CONTINUATIONs. Returns the offset
 * after the last frame read. */
size_t h2x_header_group(h2x *x, const fh *first);
/* Explains a DATA frame and the gRPC messages (or pieces of them) in it. */
void h2x_data_frame(h2x *x, const fh *f);

/* ---- words (h2explain_names.c) ---- */

/* What a frame type is for. */
const char *h2x_type_words(unsigned type);
/* What an error code means; "" when there is nothing to add to its name. */
const char *h2x_error_words(uint32_t code);
/* What a setting controls. */
const char *h2x_setting_words(unsigned id);
/* The flags of frame f in words into out: every flag set, and (full) what each means. */
void h2x_flag_words(const fh *f, char *out, size_t cap, bool full);

#endif
