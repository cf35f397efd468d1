/* test_hpack.c -- HPACK decoding against RFC 7541 Appendix C (C.2-C.6, with and without
 * Huffman, the dynamic table checked after every header block), hostile input, and the
 * explanation of each field.
 *
 * The byte vectors and expected tables are those printed in RFC 7541 Appendix C. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/hpack.h"

typedef struct step {
    const char *hex;
    const char *fields[16]; /* name, value, ..., NULL */
    const char *dyn[12];    /* newest first: name, value, ..., NULL */
    size_t size;
} step;

static const step c3_steps[] = {
    {"828684410f7777772e6578616d706c652e636f6d",
     {":method", "GET", ":scheme", "http", ":path", "/", ":authority", "www.example.com", NULL},
     {":authority", "www.example.com", NULL},
     57},
    {"828684be58086e6f2d6361636865",
     {":method", "GET", ":scheme", "http", ":path", "/", ":authority", "www.example.com", "cache-control", "no-cache", NULL},
     {"cache-control", "no-cache", ":authority", "www.example.com", NULL},
     110},
    {"828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565",
     {":method", "GET", ":scheme", "https", ":path", "/index.html", ":authority", "www.example.com", "custom-key", "custom-value", NULL},
     {"custom-key", "custom-value", "cache-control", "no-cache", ":authority", "www.example.com", NULL},
     164},
};
static const step c4_steps[] = {
    {"828684418cf1e3c2e5f23a6ba0ab90f4ff",
     {":method", "GET", ":scheme", "http", ":path", "/", ":authority", "www.example.com", NULL},
     {":authority", "www.example.com", NULL},
     57},
    {"828684be5886a8eb10649cbf",
     {":method", "GET", ":scheme", "http", ":path", "/", ":authority", "www.example.com", "cache-control", "no-cache", NULL},
     {"cache-control", "no-cache", ":authority", "www.example.com", NULL},
     110},
    {"828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf",
     {":method", "GET", ":scheme", "https", ":path", "/index.html", ":authority", "www.example.com", "custom-key", "custom-value", NULL},
     {"custom-key", "custom-value", "cache-control", "no-cache", ":authority", "www.example.com", NULL},
     164},
};
static const step c5_steps[] = {
    {"4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d546e1768747470733a2f2f7777772e6578616d706c652e636f6d",
     {":status", "302", "cache-control", "private", "date", "Mon, 21 Oct 2013 20:13:21 GMT", "location", "https://www.example.com", NULL},
     {"location", "https://www.example.com", "date", "Mon, 21 Oct 2013 20:13:21 GMT", "cache-control", "private", ":status", "302", NULL},
     222},
    {"4803333037c1c0bf",
     {":status", "307", "cache-control", "private", "date", "Mon, 21 Oct 2013 20:13:21 GMT", "location", "https://www.example.com", NULL},
     {":status", "307", "location", "https://www.example.com", "date", "Mon, 21 Oct 2013 20:13:21 GMT", "cache-control", "private", NULL},
     222},
    {"88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a69707738666f6f3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d333630303b2076657273696f6e3d31",
     {":status", "200", "cache-control", "private", "date", "Mon, 21 Oct 2013 20:13:22 GMT", "location", "https://www.example.com", "content-encoding", "gzip", "set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1", NULL},
     {"set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1", "content-encoding", "gzip", "date", "Mon, 21 Oct 2013 20:13:22 GMT", NULL},
     215},
};
static const step c6_steps[] = {
    {"488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3",
     {":status", "302", "cache-control", "private", "date", "Mon, 21 Oct 2013 20:13:21 GMT", "location", "https://www.example.com", NULL},
     {"location", "https://www.example.com", "date", "Mon, 21 Oct 2013 20:13:21 GMT", "cache-control", "private", ":status", "302", NULL},
     222},
    {"4883640effc1c0bf",
     {":status", "307", "cache-control", "private", "date", "Mon, 21 Oct 2013 20:13:21 GMT", "location", "https://www.example.com", NULL},
     {":status", "307", "location", "https://www.example.com", "date", "Mon, 21 Oct 2013 20:13:21 GMT", "cache-control", "private", NULL},
     222},
    {"88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007",
     {":status", "200", "cache-control", "private", "date", "Mon, 21 Oct 2013 20:13:22 GMT", "location", "https://www.example.com", "content-encoding", "gzip", "set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1", NULL},
     {"set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1", "content-encoding", "gzip", "date", "Mon, 21 Oct 2013 20:13:22 GMT", NULL},
     215},
};

static size_t unhex(const char *h, uint8_t *out)
{
    size_t n = 0;
    for (; h[0] && h[1]; h += 2) {
        unsigned v;
        sscanf(h, "%2x", &v);
        out[n++] = (uint8_t)v;
    }
    return n;
}

/* Decodes one block; checks the fields, the table, and that the fields' explanation
 * leaves tile the block. */
static void run_block(hpack_dec *d, const step *s)
{
    uint8_t b[512];
    size_t n = unhex(s->hex, b);
    explain e;
    explain_init(&e);
    unsigned told = 0;
    hpack_begin_block(d);
    size_t off = 0, k = 0;
    while (off < n) {
        hpack_field f;
        char err[200] = "";
        long r = hpack_decode_field(d, b, n, off, &f, err, sizeof err);
        cr_assert_gt(r, 0, "block %s at %zu: %s", s->hex, off, err);
        cr_assert_not_null(s->fields[k], "more fields than expected");
        cr_assert_str_eq(f.name, s->fields[k]);
        cr_assert_str_eq(f.value, s->fields[k + 1]);
        k += 2;
        cr_assert_eq(hpack_explain_field(&f, b, 0, 0, &told, &e), 0);
        hpack_field_done(&f);
        off += (size_t)r;
    }
    cr_assert_null(s->fields[k], "fewer fields than expected");
    size_t i = 0;
    for (; s->dyn[i]; i += 2) {
        const hpack_entry *en = hpack_dyn_entry(d, HPACK_STATIC_COUNT + 1 + i / 2);
        cr_assert_not_null(en);
        cr_assert_str_eq(en->name, s->dyn[i]);
        cr_assert_str_eq(en->value, s->dyn[i + 1]);
    }
    cr_assert_eq(d->count, i / 2);
    cr_assert_eq(d->size, s->size);
    /* leaves tile the block */
    size_t at = 0;
    for (size_t j = 0; j < e.len; j++) {
        if (j + 1 < e.len && e.spans[j + 1].depth > e.spans[j].depth)
            continue;
        cr_assert_eq(e.spans[j].off, at, "span %zu (%s) starts at %zu, want %zu", j,
                     e.spans[j].meaning, e.spans[j].off, at);
        at += e.spans[j].len;
    }
    cr_assert_eq(at, n);
    explain_done(&e);
}

static void run_series(const step *steps, size_t count, size_t limit)
{
    hpack_dec d;
    hpack_dec_init(&d, limit);
    for (size_t i = 0; i < count; i++)
        run_block(&d, &steps[i]);
    hpack_dec_done(&d);
}

Test(hpack, c2_single_fields)
{
    static const step c21[] = {{"400a637573746f6d2d6b65790d637573746f6d2d686561646572",
                                {"custom-key", "custom-header", NULL},
                                {"custom-key", "custom-header", NULL}, 55}};
    static const step c22[] = {{"040c2f73616d706c652f70617468", {":path", "/sample/path", NULL},
                                {NULL}, 0}};
    static const step c23[] = {{"100870617373776f726406736563726574",
                                {"password", "secret", NULL}, {NULL}, 0}};
    static const step c24[] = {{"82", {":method", "GET", NULL}, {NULL}, 0}};
    run_series(c21, 1, 4096);
    run_series(c22, 1, 4096);
    run_series(c23, 1, 4096);
    run_series(c24, 1, 4096);
}

Test(hpack, c2_representations)
{
    uint8_t b[64];
    size_t n = unhex("100870617373776f726406736563726574", b);
    hpack_dec d;
    hpack_dec_init(&d, 4096);
    hpack_field f;
    cr_assert_eq(hpack_decode_field(&d, b, n, 0, &f, NULL, 0), (long)n);
    cr_assert_eq(f.rep, HPACK_LITERAL_NEVER);
    cr_assert(f.name_literal);
    cr_assert_eq(f.name_str.len_off, 1);
    cr_assert_eq(f.name_str.off, 2);
    cr_assert_eq(f.name_str.len, 8);
    cr_assert_eq(f.value_str.len_off, 10);
    cr_assert_eq(f.value_str.off, 11);
    cr_assert_not(f.value_str.huffman);
    hpack_field_done(&f);
    hpack_dec_done(&d);
}

Test(hpack, c3_requests_plain) { run_series(c3_steps, 3, 4096); }
Test(hpack, c4_requests_huffman) { run_series(c4_steps, 3, 4096); }
Test(hpack, c5_responses_plain_with_eviction) { run_series(c5_steps, 3, 256); }
Test(hpack, c6_responses_huffman_with_eviction) { run_series(c6_steps, 3, 256); }

Test(hpack, c4_huffman_flags_and_indices)
{
    uint8_t b[64];
    size_t n = unhex(c4_steps[0].hex, b);
    hpack_dec d;
    hpack_dec_init(&d, 4096);
    hpack_field f;
    long r = hpack_decode_field(&d, b, n, 0, &f, NULL, 0);
    cr_assert_eq(r, 1);
    cr_assert_eq(f.rep, HPACK_INDEXED);
    cr_assert_eq(f.index, 2);
    hpack_field_done(&f);
    /* 41 8c f1e3...: literal with indexing, name :authority (static 1), Huffman value */
    r = hpack_decode_field(&d, b, n, 3, &f, NULL, 0);
    cr_assert_eq(r, 14);
    cr_assert_eq(f.rep, HPACK_LITERAL_INDEXED);
    cr_assert_eq(f.index, 1);
    cr_assert_not(f.name_literal);
    cr_assert(f.value_str.huffman);
    cr_assert_eq(f.value_str.len, 12);
    cr_assert_str_eq(f.value, "www.example.com");
    cr_assert(f.added);
    hpack_field_done(&f);
    /* the next block refers to it as dynamic entry 62 (0xbe) */
    uint8_t be = 0xbe;
    hpack_begin_block(&d);
    cr_assert_eq(hpack_decode_field(&d, &be, 1, 0, &f, NULL, 0), 1);
    cr_assert(f.dynamic);
    cr_assert_eq(f.index, 62);
    cr_assert_str_eq(f.value, "www.example.com");
    hpack_field_done(&f);
    hpack_dec_done(&d);
}

Test(hpack, integers)
{
    /* RFC 7541 C.1: 10 in a 5-bit prefix; 1337 in a 5-bit prefix; 42 at a byte boundary */
    uint64_t v;
    uint8_t a[] = {0x0a}, b[] = {0x1f, 0x9a, 0x0a}, c[] = {0x2a};
    cr_assert_eq(hpack_int(a, 1, 5, &v), 1);
    cr_assert_eq(v, 10);
    cr_assert_eq(hpack_int(b, 3, 5, &v), 3);
    cr_assert_eq(v, 1337);
    cr_assert_eq(hpack_int(c, 1, 8, &v), 1);
    cr_assert_eq(v, 42);
    cr_assert_eq(hpack_int(b, 2, 5, &v), 0); /* ends inside */
    uint8_t big[] = {0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    cr_assert_eq(hpack_int(big, sizeof big, 5, &v), -1);
}

Test(hpack, size_updates_and_eviction)
{
    hpack_dec d;
    hpack_dec_init(&d, 4096);
    uint8_t b[64];
    size_t n = unhex("400a637573746f6d2d6b65790d637573746f6d2d686561646572", b);
    hpack_field f;
    cr_assert_gt(hpack_decode_field(&d, b, n, 0, &f, NULL, 0), 0);
    hpack_field_done(&f);
    cr_assert_eq(d.count, 1);
    /* size update to 0 empties the table */
    hpack_begin_block(&d);
    uint8_t z = 0x20;
    cr_assert_eq(hpack_decode_field(&d, &z, 1, 0, &f, NULL, 0), 1);
    cr_assert_eq(f.rep, HPACK_SIZE_UPDATE);
    cr_assert_eq(f.new_size, 0);
    cr_assert_eq(f.evicted, 1);
    cr_assert_eq(d.count, 0);
    hpack_field_done(&f);
    /* 0x3f 0xe1 0x1f = 4096; beyond the limit is refused */
    uint8_t up[] = {0x3f, 0xe1, 0x1f}, toobig[] = {0x3f, 0xe2, 0x1f};
    cr_assert_eq(hpack_decode_field(&d, up, 3, 0, &f, NULL, 0), 3);
    cr_assert_eq(d.max_size, 4096);
    hpack_field_done(&f);
    char err[200];
    cr_assert_eq(hpack_decode_field(&d, toobig, 3, 0, &f, err, sizeof err), -1);
    hpack_field_done(&f);
    /* an update after a field in the same block is refused */
    uint8_t late[] = {0x82, 0x20};
    hpack_begin_block(&d);
    cr_assert_eq(hpack_decode_field(&d, late, 2, 0, &f, NULL, 0), 1);
    hpack_field_done(&f);
    cr_assert_eq(hpack_decode_field(&d, late, 2, 1, &f, err, sizeof err), -1);
    cr_assert(strstr(err, "before the first"));
    hpack_field_done(&f);
    hpack_dec_done(&d);
}

Test(hpack, bad_input)
{
    hpack_dec d;
    hpack_dec_init(&d, 4096);
    hpack_field f;
    char err[200];
    uint8_t idx0[] = {0x80}, far[] = {0xbe}, shortstr[] = {0x40, 0x05, 'a'};
    cr_assert_eq(hpack_decode_field(&d, idx0, 1, 0, &f, err, sizeof err), -1);
    hpack_field_done(&f);
    cr_assert_eq(hpack_decode_field(&d, far, 1, 0, &f, err, sizeof err), -1);
    cr_assert(strstr(err, "beyond"));
    hpack_field_done(&f);
    cr_assert_eq(hpack_decode_field(&d, shortstr, 3, 0, &f, err, sizeof err), -1);
    hpack_field_done(&f);
    hpack_dec_done(&d);
}

Test(hpack, huffman)
{
    char out[64], err[200];
    uint8_t www[] = {0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90, 0xf4, 0xff};
    long r = hpack_huffman_decode(www, sizeof www, out, sizeof out, err, sizeof err);
    cr_assert_eq(r, 15);
    cr_assert(memcmp(out, "www.example.com", 15) == 0);
    /* "no-cache" */
    uint8_t nc[] = {0xa8, 0xeb, 0x10, 0x64, 0x9c, 0xbf};
    cr_assert_eq(hpack_huffman_decode(nc, sizeof nc, out, sizeof out, err, sizeof err), 8);
    cr_assert(memcmp(out, "no-cache", 8) == 0);
    /* EOS (30 ones) inside the data */
    uint8_t eos[] = {0xff, 0xff, 0xff, 0xff};
    cr_assert_eq(hpack_huffman_decode(eos, 4, out, sizeof out, err, sizeof err), -1);
    /* padding of zeros: '0' is 00000 (5 bits), then 000 is not EOS's prefix */
    uint8_t zpad[] = {0x00};
    cr_assert_eq(hpack_huffman_decode(zpad, 1, out, sizeof out, err, sizeof err), -1);
    cr_assert(strstr(err, "padding"));
    /* a full byte of padding is too much */
    uint8_t longpad[] = {0x1f, 0xff}; /* '0' + 11 one bits */
    cr_assert_eq(hpack_huffman_decode(longpad, 2, out, sizeof out, err, sizeof err), -1);
    /* every one-byte input decodes or fails cleanly (C.4 and C.6 cover longer codes) */
    for (int i = 0; i < 256; i++) {
        uint8_t one = (uint8_t)i;
        hpack_huffman_decode(&one, 1, out, sizeof out, err, sizeof err);
    }
}

Test(hpack, explanation_words)
{
    uint8_t b[64];
    size_t n = unhex(c4_steps[0].hex, b);
    hpack_dec d;
    hpack_dec_init(&d, 4096);
    explain e;
    explain_init(&e);
    unsigned told = 0;
    for (size_t off = 0; off < n;) {
        hpack_field f;
        long r = hpack_decode_field(&d, b, n, off, &f, NULL, 0);
        cr_assert_gt(r, 0);
        hpack_explain_field(&f, b, 100, 2, &told, &e);
        hpack_field_done(&f);
        off += (size_t)r;
    }
    cr_assert(strstr(e.spans[0].meaning, "header :method: GET"));
    cr_assert(strstr(e.spans[0].meaning, "indexed field"));
    cr_assert(strstr(e.spans[1].meaning, "static table entry 6"));
    cr_assert_eq(e.spans[0].off, 100);
    cr_assert_eq(e.spans[0].depth, 2);
    bool found = false;
    for (size_t i = 0; i < e.len; i++)
        if (strstr(e.spans[i].meaning, "\"www.example.com\": 12 Huffman-coded bytes for 15"))
            found = true;
    cr_assert(found);
    explain_done(&e);
    hpack_dec_done(&d);
}
