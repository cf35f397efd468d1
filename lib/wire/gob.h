/* gob.h -- Go's encoding/gob wire format: encoder, decoder and byte-by-byte explainer.
 *
 * A gob stream is a sequence of messages, each a length (a gob uint) followed by that
 * many bytes. A message either defines a type (it starts with the negated type id) or
 * carries one value (it starts with the positive type id of the value). Types are sent
 * once per stream, the first time a value needs them, so every connection direction
 * has its own encoder and its own decoder.
 *
 * Supported: bool, int, uint, float64, string, []byte, slices, arrays, maps and structs,
 * nested to any depth up to GOB_MAX_DEPTH. The decoder also understands interface
 * values (decoded as the concrete value, typed T_ANY) and GobEncoder, BinaryMarshaler
 * (decoded as V_BYTES) and TextMarshaler (V_STRING) types; complex numbers are refused
 * with a clear error. The explainer understands all of them. */
#ifndef WB_GOB_H
#define WB_GOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "value/value.h"
#include "value/vtype.h"
#include "wire/explain.h"

/* Deepest nesting of values (and of decoded types) either side accepts. */
#define GOB_MAX_DEPTH 64
/* The decoder's message size cap when gob_dec_new is given 0. */
#define GOB_DEFAULT_MAX_MESSAGE (8u << 20)
/* Per stream: at most this many type definitions, holding at most this many bytes. */
#define GOB_MAX_TYPES 1024
#define GOB_MAX_TYPE_BYTES (1u << 20)

/* Return codes of gob_decode (and of netrpc_read, which passes them on). */
enum {
    GOB_VALUE = 1,     /* a value was decoded */
    GOB_MORE = 0,      /* the next message has not fully arrived */
    GOB_BROKEN = -1,   /* the stream is malformed and cannot continue */
    GOB_BAD_VALUE = -2 /* one value message was skipped; the stream can continue */
};

/* ---- encoding ---- */

/* One per stream (one connection direction): remembers the type ids it has handed out
 * and which type definitions it has already sent. */
typedef struct gob_enc gob_enc;

/* Returns a new encoder, or NULL when memory ran out. */
gob_enc *gob_enc_new(void);
/* Accepts NULL. */
void gob_enc_free(gob_enc *e);

/* Appends to out the type-definition messages that t (and the types it uses) still
 * needs on this stream, then one value message for v, exactly as Go's Encoder.Encode
 * would on a fresh stream. v must already have the shape of t (vtype_coerce makes
 * sure of that); a missing struct field or a V_NULL counts as the zero value (and a
 * V_NULL struct field is left out, as Go does with a nil pointer). Types are the same
 * when they are the same vtype or have the same name and structure.
 * Returns 0, or -1 with a reason in err (NULL allowed), e.g. "interface values cannot
 * be sent with gob" or "output buffer full"; then nothing was appended and the
 * encoder is unchanged. */
int gob_encode(gob_enc *e, const vtype *t, const value *v, buf *out, char *err, size_t errlen);
/* Like gob_encode for count values in a row, all or nothing: either every message is
 * appended, or none is and the encoder is unchanged. */
int gob_encode_many(gob_enc *e, size_t count, const vtype *const *types, const value *const *vals,
                    buf *out, char *err, size_t errlen);

/* ---- decoding ---- */

/* One per stream: the type table the peer has defined so far. */
typedef struct gob_dec gob_dec;

/* Returns a new decoder refusing messages longer than max_message bytes
 * (0 = GOB_DEFAULT_MAX_MESSAGE), or NULL when memory ran out. */
gob_dec *gob_dec_new(size_t max_message);
/* Frees the decoder and every type it returned. Accepts NULL. */
void gob_dec_free(gob_dec *d);
/* The decoder's message size cap. */
size_t gob_dec_max_message(const gob_dec *d);

/* Decodes the next value from p[0..n), taking in the type definitions before it.
 * Returns
 *   GOB_VALUE (1): *out is the value (the caller owns it), *type its type (owned by the
 *     decoder, valid until gob_dec_free), *used the bytes consumed;
 *   GOB_MORE (0): more bytes are needed; *used may be > 0 when type definitions were
 *     consumed (the caller drops those bytes and calls again later);
 *   GOB_BROKEN (-1): a message is over the size cap, a length or a type definition is
 *     malformed: the stream cannot continue;
 *   GOB_BAD_VALUE (-2): one value message was consumed (*used covers it) but cannot be
 *     represented or is malformed inside (a complex number, an undefined type id, a
 *     field number out of range...); the stream can continue.
 * On any error err (NULL allowed) says why. Decoded structs carry every field the
 * wire type declares, in order, zero-filled when the sender left them out, and their
 * V_STRUCT name is the wire type's name. */
int gob_decode(gob_dec *d, const uint8_t *p, size_t n, size_t *used, value **out,
               const vtype **type, char *err, size_t errlen);

/* The highest type id the peer has defined so far on this stream; 0 when none. */
int32_t gob_dec_last_id(const gob_dec *d);
/* Writes, one a line, the types the peer defined with an id above after, as Go declares
 * them: "type Student struct { Name string; P People }". Slice, array and map types
 * without a name of their own ("[]int") are left out, as they are spelled where they are
 * used; a struct without a name is written as "struct { ... }". Returns the lines
 * written. */
int gob_dec_declare(const gob_dec *d, int32_t after, buf *out);

/* Go's decoder leaves nil what it decodes into a fresh variable as an empty slice or
 * []byte, and a map field the sender left out (senders leave out empty ones); Go's
 * encoding/json writes nil as null. Replaces those parts of v (empty V_LIST and V_BYTES
 * anywhere, empty V_MAP struct fields) by V_NULL, so a decoded value prints as Go's
 * would. Takes v and returns the result (v itself, or V_NULL in its place). */
value *gob_nil_empty(value *v);

/* Returns how many bytes from p make up the next count value messages with any type
 * definitions before them, 0 when they have not all arrived yet, or -1 when a length
 * prefix or type id is malformed or a message is longer than max_message
 * (0 = GOB_DEFAULT_MAX_MESSAGE); then err (NULL allowed) says which. */
long gob_scan(const uint8_t *p, size_t n, int count, size_t max_message, char *err, size_t errlen);

/* ---- explaining ---- */

typedef struct gob_msg_info {
    bool type_def;       /* true: a type definition; false: a value */
    long type_id;        /* the type defined, or the type of the value */
    char type_name[128]; /* its Go name, "" when it has none */
    size_t len;          /* bytes of the message, length prefix included */
} gob_msg_info;

/* Per-stream explaining state: the types defined so far, so that a later message on
 * the same connection can be explained (and the explanation can say that the type
 * was defined earlier and is not sent again). */
typedef struct gob_explainer gob_explainer;

/* Returns a new explainer, or NULL when memory ran out. */
gob_explainer *gob_explainer_new(void);
/* Accepts NULL. */
void gob_explainer_free(gob_explainer *x);

/* Explains the one message at p[0..n) into e (layer "gob"): a container span for the
 * whole message, then a span for every byte of it. Span offsets are shifted by base and
 * depths by depth. Returns the bytes the message takes (> 0), 0 when it is incomplete
 * (nothing is added), or -1 when the bytes are not valid gob: then a SPAN_ERROR span
 * covering the rest of p says why. info (may be NULL) is filled on success. */
int gob_explain_message(gob_explainer *x, const uint8_t *p, size_t n, size_t base, int depth,
                        explain *e, gob_msg_info *info);

#endif
