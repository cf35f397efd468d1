/* hpack.c -- HPACK (RFC 7541) decoder that keeps track of where every part of a field sits. */
#include "wire/hpack.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/i18n.h"

/* RFC 7541 Appendix A. */
static const struct {
    const char *name, *value;
} static_table[HPACK_STATIC_COUNT] = {
    {":authority", ""},
    {":method", "GET"},
    {":method", "POST"},
    {":path", "/"},
    {":path", "/index.html"},
    {":scheme", "http"},
    {":scheme", "https"},
    {":status", "200"},
    {":status", "204"},
    {":status", "206"},
    {":status", "304"},
    {":status", "400"},
    {":status", "404"},
    {":status", "500"},
    {"accept-charset", ""},
    {"accept-encoding", "gzip, deflate"},
    {"accept-language", ""},
    {"accept-ranges", ""},
    {"accept", ""},
    {"access-control-allow-origin", ""},
    {"age", ""},
    {"allow", ""},
    {"authorization", ""},
    {"cache-control", ""},
    {"content-disposition", ""},
    {"content-encoding", ""},
    {"content-language", ""},
    {"content-length", ""},
    {"content-location", ""},
    {"content-range", ""},
    {"content-type", ""},
    {"cookie", ""},
    {"date", ""},
    {"etag", ""},
    {"expect", ""},
    {"expires", ""},
    {"from", ""},
    {"host", ""},
    {"if-match", ""},
    {"if-modified-since", ""},
    {"if-none-match", ""},
    {"if-range", ""},
    {"if-unmodified-since", ""},
    {"last-modified", ""},
    {"link", ""},
    {"location", ""},
    {"max-forwards", ""},
    {"proxy-authenticate", ""},
    {"proxy-authorization", ""},
    {"range", ""},
    {"referer", ""},
    {"refresh", ""},
    {"retry-after", ""},
    {"server", ""},
    {"set-cookie", ""},
    {"strict-transport-security", ""},
    {"transfer-encoding", ""},
    {"user-agent", ""},
    {"vary", ""},
    {"via", ""},
    {"www-authenticate", ""},
};

/* RFC 7541 Appendix B: the code (right-aligned) and its length in bits for bytes 0..255
 * and EOS (256). The code is canonical: within one length, codes are consecutive in
 * symbol order, which is what the decoder below relies on. */
static const struct {
    uint32_t code;
    uint8_t bits;
} huff[257] = {
    {0x1ff8, 13}, {0x7fffd8, 23}, {0xfffffe2, 28}, {0xfffffe3, 28},
    {0xfffffe4, 28}, {0xfffffe5, 28}, {0xfffffe6, 28}, {0xfffffe7, 28},
    {0xfffffe8, 28}, {0xffffea, 24}, {0x3ffffffc, 30}, {0xfffffe9, 28},
    {0xfffffea, 28}, {0x3ffffffd, 30}, {0xfffffeb, 28}, {0xfffffec, 28},
    {0xfffffed, 28}, {0xfffffee, 28}, {0xfffffef, 28}, {0xffffff0, 28},
    {0xffffff1, 28}, {0xffffff2, 28}, {0x3ffffffe, 30}, {0xffffff3, 28},
    {0xffffff4, 28}, {0xffffff5, 28}, {0xffffff6, 28}, {0xffffff7, 28},
    {0xffffff8, 28}, {0xffffff9, 28}, {0xffffffa, 28}, {0xffffffb, 28},
    {0x14, 6}, {0x3f8, 10}, {0x3f9, 10}, {0xffa, 12},
    {0x1ff9, 13}, {0x15, 6}, {0xf8, 8}, {0x7fa, 11},
    {0x3fa, 10}, {0x3fb, 10}, {0xf9, 8}, {0x7fb, 11},
    {0xfa, 8}, {0x16, 6}, {0x17, 6}, {0x18, 6},
    {0x0, 5}, {0x1, 5}, {0x2, 5}, {0x19, 6},
    {0x1a, 6}, {0x1b, 6}, {0x1c, 6}, {0x1d, 6},
    {0x1e, 6}, {0x1f, 6}, {0x5c, 7}, {0xfb, 8},
    {0x7ffc, 15}, {0x20, 6}, {0xffb, 12}, {0x3fc, 10},
    {0x1ffa, 13}, {0x21, 6}, {0x5d, 7}, {0x5e, 7},
    {0x5f, 7}, {0x60, 7}, {0x61, 7}, {0x62, 7},
    {0x63, 7}, {0x64, 7}, {0x65, 7}, {0x66, 7},
    {0x67, 7}, {0x68, 7}, {0x69, 7}, {0x6a, 7},
    {0x6b, 7}, {0x6c, 7}, {0x6d, 7}, {0x6e, 7},
    {0x6f, 7}, {0x70, 7}, {0x71, 7}, {0x72, 7},
    {0xfc, 8}, {0x73, 7}, {0xfd, 8}, {0x1ffb, 13},
    {0x7fff0, 19}, {0x1ffc, 13}, {0x3ffc, 14}, {0x22, 6},
    {0x7ffd, 15}, {0x3, 5}, {0x23, 6}, {0x4, 5},
    {0x24, 6}, {0x5, 5}, {0x25, 6}, {0x26, 6},
    {0x27, 6}, {0x6, 5}, {0x74, 7}, {0x75, 7},
    {0x28, 6}, {0x29, 6}, {0x2a, 6}, {0x7, 5},
    {0x2b, 6}, {0x76, 7}, {0x2c, 6}, {0x8, 5},
    {0x9, 5}, {0x2d, 6}, {0x77, 7}, {0x78, 7},
    {0x79, 7}, {0x7a, 7}, {0x7b, 7}, {0x7ffe, 15},
    {0x7fc, 11}, {0x3ffd, 14}, {0x1ffd, 13}, {0xffffffc, 28},
    {0xfffe6, 20}, {0x3fffd2, 22}, {0xfffe7, 20}, {0xfffe8, 20},
    {0x3fffd3, 22}, {0x3fffd4, 22}, {0x3fffd5, 22}, {0x7fffd9, 23},
    {0x3fffd6, 22}, {0x7fffda, 23}, {0x7fffdb, 23}, {0x7fffdc, 23},
    {0x7fffdd, 23}, {0x7fffde, 23}, {0xffffeb, 24}, {0x7fffdf, 23},
    {0xffffec, 24}, {0xffffed, 24}, {0x3fffd7, 22}, {0x7fffe0, 23},
    {0xffffee, 24}, {0x7fffe1, 23}, {0x7fffe2, 23}, {0x7fffe3, 23},
    {0x7fffe4, 23}, {0x1fffdc, 21}, {0x3fffd8, 22}, {0x7fffe5, 23},
    {0x3fffd9, 22}, {0x7fffe6, 23}, {0x7fffe7, 23}, {0xffffef, 24},
    {0x3fffda, 22}, {0x1fffdd, 21}, {0xfffe9, 20}, {0x3fffdb, 22},
    {0x3fffdc, 22}, {0x7fffe8, 23}, {0x7fffe9, 23}, {0x1fffde, 21},
    {0x7fffea, 23}, {0x3fffdd, 22}, {0x3fffde, 22}, {0xfffff0, 24},
    {0x1fffdf, 21}, {0x3fffdf, 22}, {0x7fffeb, 23}, {0x7fffec, 23},
    {0x1fffe0, 21}, {0x1fffe1, 21}, {0x3fffe0, 22}, {0x1fffe2, 21},
    {0x7fffed, 23}, {0x3fffe1, 22}, {0x7fffee, 23}, {0x7fffef, 23},
    {0xfffea, 20}, {0x3fffe2, 22}, {0x3fffe3, 22}, {0x3fffe4, 22},
    {0x7ffff0, 23}, {0x3fffe5, 22}, {0x3fffe6, 22}, {0x7ffff1, 23},
    {0x3ffffe0, 26}, {0x3ffffe1, 26}, {0xfffeb, 20}, {0x7fff1, 19},
    {0x3fffe7, 22}, {0x7ffff2, 23}, {0x3fffe8, 22}, {0x1ffffec, 25},
    {0x3ffffe2, 26}, {0x3ffffe3, 26}, {0x3ffffe4, 26}, {0x7ffffde, 27},
    {0x7ffffdf, 27}, {0x3ffffe5, 26}, {0xfffff1, 24}, {0x1ffffed, 25},
    {0x7fff2, 19}, {0x1fffe3, 21}, {0x3ffffe6, 26}, {0x7ffffe0, 27},
    {0x7ffffe1, 27}, {0x3ffffe7, 26}, {0x7ffffe2, 27}, {0xfffff2, 24},
    {0x1fffe4, 21}, {0x1fffe5, 21}, {0x3ffffe8, 26}, {0x3ffffe9, 26},
    {0xffffffd, 28}, {0x7ffffe3, 27}, {0x7ffffe4, 27}, {0x7ffffe5, 27},
    {0xfffec, 20}, {0xfffff3, 24}, {0xfffed, 20}, {0x1fffe6, 21},
    {0x3fffe9, 22}, {0x1fffe7, 21}, {0x1fffe8, 21}, {0x7ffff3, 23},
    {0x3fffea, 22}, {0x3fffeb, 22}, {0x1ffffee, 25}, {0x1ffffef, 25},
    {0xfffff4, 24}, {0xfffff5, 24}, {0x3ffffea, 26}, {0x7ffff4, 23},
    {0x3ffffeb, 26}, {0x7ffffe6, 27}, {0x3ffffec, 26}, {0x3ffffed, 26},
    {0x7ffffe7, 27}, {0x7ffffe8, 27}, {0x7ffffe9, 27}, {0x7ffffea, 27},
    {0x7ffffeb, 27}, {0xffffffe, 28}, {0x7ffffec, 27}, {0x7ffffed, 27},
    {0x7ffffee, 27}, {0x7ffffef, 27}, {0x7fffff0, 27}, {0x3ffffee, 26},
    {0x3fffffff, 30},
};

/* ---- Huffman decoding ---- */

/* For each code length: the first code, how many codes, and where their symbols start in
 * huff_sorted (symbols ordered by length, then code). Built on first use. */
static struct {
    bool ready;
    uint32_t first[31];
    uint16_t count[31], start[31];
    uint16_t sorted[257];
} hd;

static void huff_build(void)
{
    uint16_t at = 0;
    for (int len = 1; len <= 30; len++) {
        hd.start[len] = at;
        hd.count[len] = 0;
        for (int s = 0; s < 257; s++)
            if (huff[s].bits == len) {
                if (hd.count[len] == 0)
                    hd.first[len] = huff[s].code;
                hd.sorted[at++] = (uint16_t)s;
                hd.count[len]++;
            }
    }
    hd.ready = true;
}

long hpack_huffman_decode(const uint8_t *src, size_t n, char *out, size_t outcap, char *err,
                          size_t errlen)
{
    if (!hd.ready)
        huff_build();
    uint32_t code = 0;
    int len = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        for (int b = 7; b >= 0; b--) {
            code = (code << 1) | ((src[i] >> b) & 1u);
            len++;
            if (hd.count[len] && code >= hd.first[len] && code - hd.first[len] < hd.count[len]) {
                uint16_t sym = hd.sorted[hd.start[len] + (code - hd.first[len])];
                if (sym == 256) {
                    err_set(err, errlen, _("the Huffman data contains the EOS code, which must "
                                         "never be sent"));
                    return -1;
                }
                if (o >= outcap) {
                    err_set(err, errlen, _("the Huffman-decoded string is too long"));
                    return -1;
                }
                out[o++] = (char)sym;
                code = 0;
                len = 0;
            } else if (len >= 30) {
                err_set(err, errlen, _("invalid Huffman code"));
                return -1;
            }
        }
    }
    if (len > 7) {
        err_set(err, errlen, _("the Huffman data ends with %d bits of padding; at most 7 are "
                             "allowed"), len);
        return -1;
    }
    if (code != (1u << len) - 1) {
        err_set(err, errlen, _("the Huffman padding is not all 1 bits (the start of EOS)"));
        return -1;
    }
    return (long)o;
}

/* ---- integers ---- */

int hpack_int(const uint8_t *p, size_t n, int prefix_bits, uint64_t *v)
{
    if (n == 0)
        return 0;
    uint64_t mask = (1u << prefix_bits) - 1;
    uint64_t x = p[0] & mask;
    if (x < mask) {
        *v = x;
        return 1;
    }
    int shift = 0;
    for (size_t i = 1;; i++) {
        if (i >= n)
            return 0;
        if (shift > 28)
            return -1;
        x += (uint64_t)(p[i] & 0x7f) << shift;
        shift += 7;
        if (x > UINT32_MAX)
            return -1;
        if (!(p[i] & 0x80)) {
            *v = x;
            return (int)i + 1;
        }
    }
}

/* ---- tables ---- */

void hpack_dec_init(hpack_dec *d, size_t limit)
{
    memset(d, 0, sizeof *d);
    d->limit = limit;
    d->max_size = limit;
}

static void entry_free(hpack_entry *en)
{
    free(en->name);
    free(en->value);
}

void hpack_dec_done(hpack_dec *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->count; i++)
        entry_free(&d->dyn[i]);
    free(d->dyn);
    memset(d, 0, sizeof *d);
}

void hpack_begin_block(hpack_dec *d) { d->block_fields = false; }

static const char *static_name(uint64_t i)
{
    return i >= 1 && i <= HPACK_STATIC_COUNT ? static_table[i - 1].name : NULL;
}

static const char *static_value(uint64_t i)
{
    return i >= 1 && i <= HPACK_STATIC_COUNT ? static_table[i - 1].value : NULL;
}

const hpack_entry *hpack_dyn_entry(const hpack_dec *d, uint64_t index)
{
    if (index <= HPACK_STATIC_COUNT || index - HPACK_STATIC_COUNT > d->count)
        return NULL;
    return &d->dyn[index - HPACK_STATIC_COUNT - 1];
}

static size_t entry_size(const hpack_entry *en) { return en->name_len + en->value_len + 32; }

/* Drops the oldest entries until the table plus extra fits max_size; returns how many. */
static size_t evict(hpack_dec *d, size_t extra)
{
    size_t k = 0;
    while (d->count > 0 && d->size + extra > d->max_size) {
        hpack_entry *old = &d->dyn[--d->count];
        d->size -= entry_size(old);
        entry_free(old);
        k++;
    }
    return k;
}

static int table_add(hpack_dec *d, hpack_field *f)
{
    size_t sz = f->name_len + f->value_len + 32;
    if (sz > d->max_size) { /* RFC 7541 4.4: an entry larger than the table empties it */
        f->evicted = evict(d, d->max_size + 1);
        return 0;
    }
    f->evicted = evict(d, sz);
    if (d->count == d->cap) {
        size_t ncap = d->cap ? d->cap * 2 : 16;
        hpack_entry *nd = realloc(d->dyn, ncap * sizeof *nd);
        if (!nd)
            return -1;
        d->dyn = nd;
        d->cap = ncap;
    }
    hpack_entry en = {malloc(f->name_len + 1), malloc(f->value_len + 1), f->name_len,
                      f->value_len};
    if (!en.name || !en.value) {
        entry_free(&en);
        return -1;
    }
    en.name_unknown = f->name_unknown;
    memcpy(en.name, f->name, f->name_len + 1);
    memcpy(en.value, f->value, f->value_len + 1);
    memmove(d->dyn + 1, d->dyn, d->count * sizeof *d->dyn);
    d->dyn[0] = en;
    d->count++;
    d->size += sz;
    f->added = true;
    return 0;
}

/* ---- fields ---- */

static char *dup_n(const char *s, size_t n)
{
    char *r = malloc(n + 1);
    if (r) {
        memcpy(r, s, n);
        r[n] = '\0';
    }
    return r;
}

/* Reads a string literal at p[*pos..n): H bit, 7-bit-prefix length, bytes. */
static int read_str(const uint8_t *p, size_t n, size_t *pos, hpack_str *s, char **out,
                    size_t *outlen, const char *what, char *err, size_t errlen)
{
    uint64_t len;
    if (*pos >= n) {
        err_set(err, errlen, _("the header block ends where the %s's length should be"), _(what));
        return -1;
    }
    s->len_off = *pos;
    s->huffman = p[*pos] & 0x80;
    int k = hpack_int(p + *pos, n - *pos, 7, &len);
    if (k <= 0) {
        err_set(err, errlen, k == 0 ? _("the header block ends inside the %s's length")
                                    : _("the %s's length is too large"), _(what));
        return -1;
    }
    s->len_len = (size_t)k;
    *pos += (size_t)k;
    s->off = *pos;
    if (len > n - *pos) {
        err_set(err, errlen, _("the %s is %llu bytes long but the header block has only %zu left"),
                _(what), (unsigned long long)len, n - *pos);
        return -1;
    }
    s->len = (size_t)len;
    *pos += s->len;
    if (!s->huffman) {
        *out = dup_n((const char *)p + s->off, s->len);
        *outlen = s->len;
    } else {
        size_t cap = s->len * 8 / 5 + 1;
        char *d = malloc(cap + 1);
        char e2[160];
        long r = d ? hpack_huffman_decode(p + s->off, s->len, d, cap, e2, sizeof e2) : -1;
        if (r < 0) {
            free(d);
            err_set(err, errlen, _("the %s: %s"), _(what), d ? e2 : _("out of memory"));
            return -1;
        }
        d[r] = '\0';
        *out = d;
        *outlen = (size_t)r;
    }
    if (!*out) {
        err_set(err, errlen, _("out of memory"));
        return -1;
    }
    return 0;
}

long hpack_decode_field(hpack_dec *d, const uint8_t *p, size_t n, size_t off, hpack_field *f,
                        char *err, size_t errlen)
{
    memset(f, 0, sizeof *f);
    f->off = off;
    if (off >= n) {
        err_set(err, errlen, _("the header block is empty here"));
        return -1;
    }
    uint8_t b = p[off];
    int bits;
    if (b & 0x80) {
        f->rep = HPACK_INDEXED;
        bits = 7;
    } else if (b & 0x40) {
        f->rep = HPACK_LITERAL_INDEXED;
        bits = 6;
    } else if (b & 0x20) {
        f->rep = HPACK_SIZE_UPDATE;
        bits = 5;
    } else if (b & 0x10) {
        f->rep = HPACK_LITERAL_NEVER;
        bits = 4;
    } else {
        f->rep = HPACK_LITERAL_PLAIN;
        bits = 4;
    }
    uint64_t x;
    int k = hpack_int(p + off, n - off, bits, &x);
    if (k <= 0) {
        err_set(err, errlen, "%s", k == 0 ? _("the header block ends inside an integer")
                                          : _("an integer is too large"));
        return -1;
    }
    f->prefix_len = (size_t)k;
    size_t pos = off + (size_t)k;

    if (f->rep == HPACK_SIZE_UPDATE) {
        f->new_size = x;
        if (d->block_fields) {
            err_set(err, errlen, _("a dynamic table size update must come before the first "
                                 "header field of a block"));
            return -1;
        }
        if (x > d->limit) {
            err_set(err, errlen, _("the size update asks for %llu bytes, more than the %zu the "
                                 "decoder allowed"), (unsigned long long)x, d->limit);
            return -1;
        }
        d->max_size = (size_t)x;
        f->evicted = evict(d, 0);
        goto done;
    }
    d->block_fields = true;
    f->index = x;
    f->dynamic = x > HPACK_STATIC_COUNT;
    const char *sn = NULL, *sv = NULL;
    size_t snl = 0, svl = 0;
    if (x > 0) {
        if (x <= HPACK_STATIC_COUNT) {
            sn = static_name(x);
            sv = static_value(x);
            snl = strlen(sn);
            svl = strlen(sv);
        } else {
            const hpack_entry *en = hpack_dyn_entry(d, x);
            if (!en && d->midway) {
                f->name_unknown = f->value_unknown = true;
                sn = sv = "";
            } else if (!en) {
                err_set(err, errlen, _("index %llu is beyond the tables: 61 static entries and "
                                     "%zu dynamic ones"), (unsigned long long)x, d->count);
                return -1;
            } else {
                sn = en->name;
                sv = en->value;
                snl = en->name_len;
                svl = en->value_len;
                f->name_unknown = en->name_unknown;
            }
        }
    } else if (f->rep == HPACK_INDEXED) {
        err_set(err, errlen, _("index 0 is not allowed for an indexed field"));
        return -1;
    }

    if (f->rep == HPACK_INDEXED) {
        f->name = dup_n(sn, snl);
        f->value = dup_n(sv, svl);
        f->name_len = snl;
        f->value_len = svl;
        if (!f->name || !f->value) {
            err_set(err, errlen, _("out of memory"));
            return -1;
        }
        goto done;
    }
    if (x == 0) {
        f->name_literal = true;
        if (read_str(p, n, &pos, &f->name_str, &f->name, &f->name_len, N_("name"), err, errlen) < 0)
            return -1;
    } else {
        f->name = dup_n(sn, snl);
        f->name_len = snl;
        if (!f->name) {
            err_set(err, errlen, _("out of memory"));
            return -1;
        }
    }
    if (read_str(p, n, &pos, &f->value_str, &f->value, &f->value_len, N_("value"), err, errlen) < 0)
        return -1;
    if (f->rep == HPACK_LITERAL_INDEXED && table_add(d, f) < 0) {
        err_set(err, errlen, _("out of memory"));
        return -1;
    }
done:
    f->len = pos - off;
    f->table_size = d->size;
    f->table_count = d->count;
    return (long)f->len;
}

void hpack_field_done(hpack_field *f)
{
    if (!f)
        return;
    free(f->name);
    free(f->value);
    f->name = f->value = NULL;
}

/* ---- explaining ---- */

enum { TOLD_INDEXED = 1, TOLD_LITERAL = 2, TOLD_STRING = 4, TOLD_HUFFMAN = 8, TOLD_MULTI = 16,
       TOLD_SIZE = 32, TOLD_NEVER = 64, TOLD_PLAIN = 128 };

/* Words for a multi-byte integer, the first time. */
static const char *multi_words(size_t len, int bits, unsigned *told)
{
    if (len < 2 || !explain_first_time(told, TOLD_MULTI))
        return "";
    return bits == 7 ? _(" (the value did not fit in the 7-bit prefix, so the prefix is all "
                         "ones and the rest follows in 7-bit groups, low group first, each "
                         "byte's top bit saying whether another follows)")
                     : _(" (the value did not fit in the prefix bits, so they are all ones and "
                         "the rest follows in 7-bit groups, low group first, each byte's top "
                         "bit saying whether another follows)");
}

/* The spans of a string literal: its length prefix, then its bytes (text, tlen decoded). */
static int str_spans(const hpack_str *s, const char *text, size_t tlen, const char *what,
                     const uint8_t *block, size_t base, int depth, unsigned *told, explain *e)
{
    char hx[80], shown[260];
    explain_hex(hx, sizeof hx, block + s->len_off, s->len_len, SIZE_MAX, EXPLAIN_HEX_0X);
    const char *how;
    if (explain_first_time(told, TOLD_STRING))
        how = s->huffman ? _(": the first bit (H) is 1, so the string is Huffman-coded (RFC "
                             "7541 Appendix B gives frequent characters shorter bit codes); the "
                             "other 7 bits start the length in bytes")
                         : _(": the first bit (H) is 0, so the string is sent as plain bytes; "
                             "the other 7 bits start the length");
    else
        how = s->huffman ? _(": Huffman-coded") : _(": plain");
    if (explain_add(e, base + s->len_off, s->len_len, depth, SPAN_FRAME, "hpack",
                    ngettext("%s length %s = %zu byte%s%s", "%s length %s = %zu bytes%s%s", s->len),
                    _(what), hx, s->len, how, multi_words(s->len_len, 7, told)) < 0)
        return -1;
    if (s->len == 0)
        return 0;
    explain_quote(shown, sizeof shown, (const uint8_t *)text, tlen, 60, EXPLAIN_QUOTE_BARE);
    if (s->huffman) {
        const char *more = explain_first_time(told, TOLD_HUFFMAN)
                               ? _(", the bit codes run across byte boundaries and the last "
                                   "byte is padded with 1 bits")
                               : "";
        return explain_add(e, base + s->off, s->len, depth, SPAN_FRAME, "hpack",
                           _("%s \"%s\": %zu Huffman-coded bytes for %zu characters%s"), _(what),
                           shown, s->len, tlen, more) < 0 ? -1 : 0;
    }
    return explain_add(e, base + s->off, s->len, depth, SPAN_FRAME, "hpack",
                       _("%s \"%s\" as plain text"), _(what), shown) < 0 ? -1 : 0;
}

static void table_words(const hpack_field *f, char *out, size_t cap)
{
    char ev[160] = "";
    if (f->evicted)
        snprintf(ev, sizeof ev, ngettext("; %zu old entry was evicted to make room",
                                         "; %zu old entries were evicted to make room",
                                         f->evicted), f->evicted);
    if (f->added)
        snprintf(out, cap, ngettext("; it becomes dynamic entry 62 (the table now holds %zu "
                                    "entry, %zu bytes)%s",
                                    "; it becomes dynamic entry 62 (the table now holds %zu "
                                    "entries, %zu bytes)%s", f->table_count),
                 f->table_count, f->table_size, ev);
    else
        snprintf(out, cap, "%s", _("; it is too large for the table, which is now empty"));
}

int hpack_explain_field(const hpack_field *f, const uint8_t *block, size_t base, int depth,
                        unsigned *told, explain *e)
{
    char name[260], value[260], hx[80], tw[200] = "";
    explain_quote(name, sizeof name, (const uint8_t *)(f->name ? f->name : ""), f->name_len, 60,
                  EXPLAIN_QUOTE_BARE);
    explain_quote(value, sizeof value, (const uint8_t *)(f->value ? f->value : ""), f->value_len,
                  60, EXPLAIN_QUOTE_BARE);
    explain_hex(hx, sizeof hx, block + f->off, f->prefix_len, SIZE_MAX, EXPLAIN_HEX_0X);
    const char *tname = f->dynamic ? _("dynamic") : _("static");
    if (f->name_unknown || f->value_unknown) {
        bool all = f->value_unknown;
        return explain_add(e, base + f->off, f->len, depth, SPAN_ERROR, "hpack",
                           all ? _("header field from dynamic table entry %llu, which was added "
                                   "before the capture began: its name and value cannot be read")
                               : _("header field whose name comes from dynamic table entry %llu, "
                                   "which was added before the capture began: the name cannot be "
                                   "read; the value is \"%s\""),
                           (unsigned long long)f->index, value) < 0 ? -1 : 0;
    }

    if (f->rep == HPACK_SIZE_UPDATE) {
        const char *why = explain_first_time(told, TOLD_SIZE)
                              ? _(": the first bits 001 mean dynamic table size update; the "
                                  "other 5 start the new maximum size in bytes")
                              : "";
        return explain_add(e, base + f->off, f->prefix_len, depth, SPAN_FRAME, "hpack",
                           _("%s%s: the dynamic table may now hold at most %llu bytes%s%s"), hx,
                           why, (unsigned long long)f->new_size,
                           f->evicted ? _(", so old entries are evicted") : "",
                           multi_words(f->prefix_len, 5, told)) < 0 ? -1 : 0;
    }
    if (f->rep == HPACK_INDEXED) {
        const char *why = explain_first_time(told, TOLD_INDEXED)
                              ? _(": the first bit 1 means an indexed field, a whole name and "
                                  "value taken from a table; the other 7 bits start the index")
                              : _(": indexed");
        return explain_add(e, base + f->off, f->prefix_len, depth, SPAN_FRAME, "hpack",
                           _("header %s: %s, sent as %s%s: %s table entry %llu%s"), name, value,
                           hx, why, tname, (unsigned long long)f->index,
                           multi_words(f->prefix_len, 7, told)) < 0
                   ? -1
                   : 0;
    }
    if (f->rep == HPACK_LITERAL_INDEXED)
        table_words(f, tw, sizeof tw);
    int box = explain_add(e, base + f->off, f->len, depth, SPAN_FRAME, "hpack",
                          _("header %s: %s%s%s"), name, value,
                          f->rep == HPACK_LITERAL_NEVER ? _(" (never indexed)") : "", tw);
    if (box < 0)
        return -1;
    const char *rep;
    int bits = f->rep == HPACK_LITERAL_INDEXED ? 6 : 4;
    if (f->rep == HPACK_LITERAL_INDEXED)
        rep = explain_first_time(told, TOLD_LITERAL)
                  ? _("the first bits 01 mean a literal field that is then added to the dynamic "
                      "table, so later blocks can send it as one index; the other 6 bits hold "
                      "the name's index;")
                  : _("01 = literal, added to the dynamic table;");
    else if (f->rep == HPACK_LITERAL_NEVER)
        rep = explain_first_time(told, TOLD_NEVER)
                  ? _("the first bits 0001 mean a literal field that must never be indexed, "
                      "not here and not by any proxy (used for secrets); the other 4 bits hold "
                      "the name's index;")
                  : _("0001 = literal, never indexed;");
    else
        rep = explain_first_time(told, TOLD_PLAIN)
                  ? _("the first bits 0000 mean a literal field that is not added to the "
                      "dynamic table; the other 4 bits hold the name's index;")
                  : _("0000 = literal, not indexed;");
    char nm[320];
    if (f->name_literal)
        snprintf(nm, sizeof nm, "%s", _("index 0: the name is spelled out next"));
    else
        snprintf(nm, sizeof nm, _("name from %s table entry %llu (%s)"), tname,
                 (unsigned long long)f->index, name);
    if (explain_add(e, base + f->off, f->prefix_len, depth + 1, SPAN_FRAME, "hpack",
                    "%s: %s %s%s", hx, rep, nm, multi_words(f->prefix_len, bits, told)) < 0)
        return -1;
    if (f->name_literal && str_spans(&f->name_str, f->name, f->name_len, N_("name"), block, base,
                                     depth + 1, told, e) < 0)
        return -1;
    return str_spans(&f->value_str, f->value, f->value_len, N_("value"), block, base, depth + 1,
                     told, e);
}
