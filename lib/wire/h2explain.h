/* h2explain.h -- explains captured HTTP/2 bytes carrying gRPC, frame by frame, down to
 * every header field and every protobuf field.
 *
 * Layers: "h2" (the preface, frame headers and control frames), "hpack" (header fields),
 * "grpc" (the 5-byte prefix of each message, and what gRPC headers mean) and "pb" (the
 * message itself). HTTP/2 and gRPC envelope bytes are SPAN_FRAME; protobuf tags are
 * SPAN_TYPE and protobuf values SPAN_DATA.
 *
 * A gRPC message may be split over several DATA frames and several may share one; a
 * header block may continue in CONTINUATION frames. Both are reassembled per stream and
 * explained once, and their spans are cut where the frames cut them, so the leaf spans
 * always tile the capture exactly: every byte is explained once. */
#ifndef WB_H2EXPLAIN_H
#define WB_H2EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/explain.h"

/* Explains one direction of one connection, p[0..n) from its first byte: from the client
 * (starting with the connection preface) or from the server. The protobuf messages are
 * read with the input (client) or output (server) type of the method named by the
 * stream's :path, looked up with catalog_find_grpc. The server's direction carries no :path,
 * so path_hint (may be NULL) names the method for all its streams; without one its
 * messages are explained without a schema.
 *
 * Returns 0, or -1 when some bytes do not make sense: they are covered by SPAN_ERROR
 * spans saying why (after a connection-level error, such as a malformed frame or a
 * header block that does not decode, the rest of the capture is one such span). A
 * capture that merely stops early ends with a span whose meaning starts "incomplete"
 * and still returns 0. */
int h2explain_stream(const uint8_t *p, size_t n, bool from_server, const char *path_hint,
                     explain *e);

/* Explains both directions of one connection: the client's bytes into client_e, then the
 * server's into server_e, each server stream read with the method its request named.
 * Returns 0, or -1 when either direction has bytes that do not make sense. */
int h2explain_exchange(const uint8_t *c2s, size_t cn, const uint8_t *s2c, size_t sn,
                       explain *client_e, explain *server_e);

/* As h2explain_exchange, for a connection caught mid-way: each direction is read from
 * offset c_at (s_at), where a frame begins; the bytes before it, the rest of a frame whose
 * header was not captured, are one SPAN_ERROR span. No preface is expected, and HPACK's
 * dynamic table was built before the capture began: a header field that points into that
 * part of it is a SPAN_ERROR span saying so, and the rest is read as usual. */
int h2explain_exchange_midway(const uint8_t *c2s, size_t cn, size_t c_at, const uint8_t *s2c,
                              size_t sn, size_t s_at, explain *client_e, explain *server_e);

/* One direction explained as h2explain_exchange (or _midway) explains it, kept between
 * calls so that a long connection is read once: each call's frames are explained from
 * where the call before stopped, with the header table and the streams as they were. */
typedef struct h2explainer h2explainer;

/* Returns the client's explainer (client NULL) or the server's (reading its streams'
 * methods from client's), mid-way from start as h2explain_exchange_midway reads; NULL when
 * memory ran out. */
h2explainer *h2explainer_new(bool from_server, bool midway, size_t start, h2explainer *client);
/* Accepts NULL. */
void h2explainer_free(h2explainer *k);
/* Explains the frames of p[0..n) (every byte of the direction kept so far) from where it
 * stopped until one ends at end or later, and (ahead) on over the whole frames after that
 * read no byte past their own (so that a client's streams are named before the server's
 * frames of them come, though not its request). Returns false when it cannot go on as an
 * explanation from the first byte would (an error, a frame that reads past n): then it
 * answers nothing any more. */
bool h2explainer_feed(h2explainer *k, const uint8_t *p, size_t n, size_t end, bool ahead);
/* A server explainer: whether what it explained so far is what an exchange whose client
 * bytes end at h gives (but for the frames h2explainer_spans checks); if so, frames
 * explained next take their methods as such an exchange would, and spans are asked for
 * such an exchange. False: it must be made anew for h. */
bool h2explainer_horizon(h2explainer *k, size_t h);
/* Adds to out the spans of [lo, hi) that an exchange explaining the direction's bytes up
 * to hi gives (as explained within [lo, hi), shifted to start at lo). Returns false when
 * the explainer cannot tell them: lo or hi is not where a frame it explained begins or
 * ends, a frame read past hi, or lo is too far behind. */
bool h2explainer_spans(const h2explainer *k, size_t lo, size_t hi, explain *out);

/* Names for numbers on the wire; "UNKNOWN" (or NULL for settings) when not defined.
 * (gRPC status codes are named by wire/grpc_status.h.) */
const char *h2explain_frame_type(unsigned type);
const char *h2explain_error_code(uint32_t code);
const char *h2explain_setting(unsigned id);

#endif
