/* netrpc.h -- Go's net/rpc default codec: gob-encoded call headers and bodies.
 *
 * A client sends, for every call, a gob value of type Request {ServiceMethod string;
 * Seq uint64} and then a gob value holding the argument. The server answers each call
 * with a Response {ServiceMethod string; Seq uint64; Error string} and then the reply;
 * when Error is set, Go's server sends an empty struct (struct{}{}) in place of the
 * reply, and Go's client reads that body and throws it away. Each direction of a
 * connection is one gob stream, with its own gob_enc on the sending side and gob_dec on
 * the receiving side. */
#ifndef WB_NETRPC_H
#define WB_NETRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/explain.h"
#include "wire/gob.h"

/* Request{ServiceMethod string; Seq uint64} and Response{...; Error string}. */
extern const vtype netrpc_request_type, netrpc_response_type;

/* Appends one call (header, then argument arg of type argt) to out.
 * Returns 0, or -1 with a reason in err (NULL allowed); then nothing was appended and
 * e is unchanged. */
int netrpc_write_request(gob_enc *e, buf *out, const char *method, uint64_t seq,
                         const vtype *argt, const value *arg, char *err, size_t errlen);

/* Appends one answer to out. error NULL or "" for success: then reply (of type replyt)
 * follows the header. Otherwise the header carries error and an empty struct is sent
 * as the body, as Go's server does; replyt and reply are ignored. error may point into
 * err. Returns 0, or -1 with a reason in err; then nothing was appended. */
int netrpc_write_response(gob_enc *e, buf *out, const char *method, uint64_t seq,
                          const char *error, const vtype *replyt, const value *reply, char *err,
                          size_t errlen);

typedef struct netrpc_msg {
    char *method;   /* ServiceMethod; a NUL byte in it is spelled \x00, so the name
                     * matches no method and is not cut short */
    uint64_t seq;   /* Seq */
    char *error;    /* responses: the server's error; NULL when there is none (NUL
                     * bytes spelled \x00 too) */
    value *body;    /* the argument or reply; NULL when it could not be decoded */
    const vtype *body_type; /* its type, owned by the gob_dec */
    size_t used;    /* bytes netrpc_read consumed, whatever it returned */
} netrpc_msg;

/* Frees what netrpc_read put in m and empties it. Accepts NULL. */
void netrpc_msg_done(netrpc_msg *m);

/* Reads the next header+body pair from p[0..n), atomically: nothing is consumed until
 * both have fully arrived. response selects the header type expected (Response rather
 * than Request). m is overwritten (pass an empty or done one); m->used always says how
 * many bytes to drop from the input. Returns
 *   > 0: the bytes consumed; m is filled in;
 *   0: more bytes are needed;
 *   -1: the stream is broken (malformed gob, or a header that is not a net/rpc header):
 *       close the connection;
 *   -2: the header was read (m->method, m->seq, m->error are set) but the body could
 *       not be decoded; m->used bytes were consumed and err says why. A server answers
 *       with that error and carries on, as Go's does. */
long netrpc_read(gob_dec *d, const uint8_t *p, size_t n, bool response, netrpc_msg *m, char *err,
                 size_t errlen);

/* Explains a captured net/rpc stream (one direction, from its first byte) into e: a
 * container span per call ("net/rpc request #1: Arith.Multiply, seq 0", layer "rpc")
 * holding a "header" and an "argument" (or "reply", or "error body") container, with
 * the gob explanation of each message inside. A call that has not fully arrived is
 * explained as far as it goes. Returns 0, or -1 when the bytes are not a valid stream
 * (a SPAN_ERROR span says where and why). */
int netrpc_explain(const uint8_t *p, size_t n, bool response, explain *e);

/* The same explanation piece by piece, for a stream that grows: one per direction. */
typedef struct netrpc_explainer netrpc_explainer;

/* Returns a new explainer of requests (response false) or replies, or NULL when memory
 * ran out. */
netrpc_explainer *netrpc_explainer_new(bool response);
/* Accepts NULL. */
void netrpc_explainer_free(netrpc_explainer *nx);
/* p[0..n) is the stream from its first byte, of which every earlier call gave a prefix.
 * Appends to e the spans netrpc_explain gives the calls (header and body) that have wholly
 * arrived since the calls explained before, and returns where the explained calls end.
 * netrpc_explain(p, n) is what all feeds put in e, and then the bytes from the returned
 * offset to n explained as an incomplete call, unless a call did not decode: then the
 * offset is that call's and no feed goes past it. */
size_t netrpc_explainer_feed(netrpc_explainer *nx, const uint8_t *p, size_t n, explain *e);

/* Writes the type definitions a captured net/rpc stream (one direction, from its first
 * byte) carries for its arguments (response false) or replies, one a line in Go's
 * syntax, as a decoder reads them (gob_dec_declare): "type Student struct { Name string;
 * Age int }". A call whose body needs no new definition writes its type's spelling
 * instead ("[]string"), with a note when it is one of gob's own ("int"), unless it is
 * not the first call. Error replies and the net/rpc headers are left out. Returns 0, or
 * -1 with err when the bytes are not a valid stream (lines written so far stay). */
int netrpc_declare(const uint8_t *p, size_t n, bool response, buf *out, char *err, size_t errlen);

#endif
