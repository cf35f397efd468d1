/* hpack.h -- HPACK (RFC 7541) header compression, decoded so that every byte can be explained.
 *
 * HTTP/2 sends header fields compressed: a field can be a number pointing into a table
 * (61 fixed entries plus a per-connection "dynamic" table of recently sent fields), or a
 * literal name and/or value, optionally Huffman-coded, optionally added to the dynamic
 * table. Each direction of a connection has its own table, so keep one hpack_dec per
 * direction and feed it every header block of that direction in order.
 *
 * hpack_decode_field reports not only the decoded name and value but where every part of
 * the representation sits, and hpack_explain_field turns that into spans. */
#ifndef WB_HPACK_H
#define WB_HPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/explain.h"

/* How a field is represented (RFC 7541 section 6). */
typedef enum hpack_rep {
    HPACK_INDEXED,         /* 1xxxxxxx: the whole field is a table entry */
    HPACK_LITERAL_INDEXED, /* 01xxxxxx: literal, then added to the dynamic table */
    HPACK_LITERAL_PLAIN,   /* 0000xxxx: literal, not added to the table */
    HPACK_LITERAL_NEVER,   /* 0001xxxx: literal, and proxies must never index it either */
    HPACK_SIZE_UPDATE,     /* 001xxxxx: a new maximum size for the dynamic table */
} hpack_rep;

/* A string literal: its length prefix (H bit + integer) and its bytes. Offsets are
 * relative to the start of the header block. */
typedef struct hpack_str {
    size_t len_off, len_len; /* the length prefix */
    size_t off, len;         /* the string's bytes as sent */
    bool huffman;
} hpack_str;

typedef struct hpack_field {
    hpack_rep rep;
    size_t off, len;     /* the whole representation, relative to the block */
    size_t prefix_len;   /* bytes of the first integer (with the representation bits) */
    uint64_t index;      /* the table index (field or name); 0 when the name is literal */
    bool dynamic;        /* index points into the dynamic table (it is above 61) */
    bool name_literal;   /* literal representations: the name is spelled out */
    hpack_str name_str;  /* when name_literal */
    hpack_str value_str; /* literal representations */
    uint64_t new_size;   /* HPACK_SIZE_UPDATE */
    /* decoded (owned, NUL-terminated; may also contain NULs): */
    char *name, *value;
    size_t name_len, value_len;
    /* a decoder caught mid-way (hpack_dec.midway): the name, or the name and the value,
     * came from dynamic table entries made before the capture began; they read "" */
    bool name_unknown, value_unknown;
    /* what the field did to the dynamic table */
    bool added;         /* became dynamic entry 62 */
    size_t evicted;     /* entries dropped to make room (or by a size update) */
    size_t table_size;  /* dynamic table size afterwards, in HPACK bytes */
    size_t table_count; /* entries afterwards */
} hpack_field;

typedef struct hpack_entry {
    char *name, *value;
    size_t name_len, value_len;
    bool name_unknown; /* midway: added by a field whose name could not be read */
} hpack_entry;

/* One direction's decoding state. */
typedef struct hpack_dec {
    hpack_entry *dyn; /* dyn[0] is the newest entry, index 62 */
    size_t count, cap;
    size_t size;       /* sum of entry sizes (name + value + 32 each) */
    size_t max_size;   /* current maximum, set by size updates */
    size_t limit;      /* the most a size update may ask for (SETTINGS_HEADER_TABLE_SIZE) */
    bool block_fields; /* a field was seen in the current block (size updates must come first) */
    bool midway;       /* the connection was caught mid-way: the table was built before the
                        * capture began, so an index past what this decoder holds is an
                        * entry it never saw (the field decodes with name_unknown and
                        * value_unknown) rather than an error */
} hpack_dec;

#define HPACK_STATIC_COUNT 61

/* Prepares a decoder whose table may grow to limit bytes (4096 is HTTP/2's default). */
void hpack_dec_init(hpack_dec *d, size_t limit);
/* Frees the dynamic table. Accepts NULL. */
void hpack_dec_done(hpack_dec *d);
/* Call before the first field of every header block. */
void hpack_begin_block(hpack_dec *d);

/* Decodes the representation at p[off..n) (p is the whole header block; offsets in f are
 * relative to p) and applies it to the dynamic table. Returns the bytes used (> 0), or -1
 * with a reason in err (malformed, unknown index, or the block ends inside the field); f
 * then holds what was understood before the problem (rep, off, prefix_len may be set) and
 * must still be released with hpack_field_done. */
long hpack_decode_field(hpack_dec *d, const uint8_t *p, size_t n, size_t off, hpack_field *f,
                        char *err, size_t errlen);
/* Frees f's strings. Accepts NULL. */
void hpack_field_done(hpack_field *f);

/* Dynamic table entry by HPACK index (62 = newest); NULL when out of range. */
const hpack_entry *hpack_dyn_entry(const hpack_dec *d, uint64_t index);

/* Decodes an HPACK integer with an N-bit prefix (1..8) at p[0..n). Returns its length in
 * bytes, 0 when p ends inside it, or -1 when it overflows 2^32. */
int hpack_int(const uint8_t *p, size_t n, int prefix_bits, uint64_t *v);
/* Huffman-decodes src into out (a buffer of at least 2 * n + 1 bytes would always do;
 * outcap is checked). Returns the decoded length, or -1 with err (EOS in the data, padding
 * longer than 7 bits or not all ones, or out too small). */
long hpack_huffman_decode(const uint8_t *src, size_t n, char *out, size_t outcap, char *err,
                          size_t errlen);

/* Appends spans for f (decoded from a block that starts at capture offset base) at depth,
 * layer "hpack": a container for the field and a leaf per part. A field whose name or value
 * is unknown (midway) is a SPAN_ERROR saying why. *told remembers which
 * encodings were already spelled out in full (start it at 0 per connection; NULL = always
 * in full). Returns 0, or -1 when memory ran out. */
int hpack_explain_field(const hpack_field *f, const uint8_t *block, size_t base, int depth,
                        unsigned *told, explain *e);

#endif
