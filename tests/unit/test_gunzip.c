/* test_gunzip.c -- gunzip_message against members made by zlib's own deflate: whole,
 * at the cap and one byte over, cut short, with bytes after, and not gzip at all. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "wire/gunzip.h"

static char err[256];

/* n bytes of text that repeats (so it compresses), gzip-compressed into *out. */
static size_t make_gzip(size_t n, uint8_t **plain, uint8_t **out)
{
    *plain = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++)
        (*plain)[i] = (uint8_t)("rpc workbench "[i % 14] + (i / 997) % 3);
    z_stream z = {0};
    cr_assert_eq(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&z, n);
    *out = malloc(cap);
    z.next_in = *plain;
    z.avail_in = (uInt)n;
    z.next_out = *out;
    z.avail_out = (uInt)cap;
    cr_assert_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t len = z.total_out;
    deflateEnd(&z);
    return len;
}

Test(gunzip, inflates_a_whole_member)
{
    uint8_t *plain, *gz;
    size_t n = make_gzip(200000, &plain, &gz);
    cr_assert_lt(n, 20000, "the sample compresses");
    buf out;
    buf_init(&out, 0);
    cr_assert_eq(gunzip_message(gz, n, 1 << 20, &out, err, sizeof err), GUNZIP_OK, "%s", err);
    cr_assert_eq(buf_size(&out), 200000);
    cr_assert_eq(memcmp(buf_data(&out), plain, 200000), 0);
    buf_done(&out);
    free(plain);
    free(gz);
}

Test(gunzip, the_cap_is_exact)
{
    uint8_t *plain, *gz;
    size_t n = make_gzip(70000, &plain, &gz);
    buf out;
    buf_init(&out, 0);
    cr_assert_eq(gunzip_message(gz, n, 70000, &out, err, sizeof err), GUNZIP_OK, "%s", err);
    cr_assert_eq(buf_size(&out), 70000);
    cr_assert_eq(gunzip_message(gz, n, 69999, &out, err, sizeof err), GUNZIP_TOO_LARGE);
    cr_assert_str_eq(err, "the message inflates to more than 69999 bytes");
    cr_assert_eq(buf_size(&out), 0, "nothing is left behind");
    buf_done(&out);
    free(plain);
    free(gz);
}

Test(gunzip, an_empty_message)
{
    uint8_t *plain, *gz;
    size_t n = make_gzip(0, &plain, &gz);
    buf out;
    buf_init(&out, 0);
    cr_assert_eq(gunzip_message(gz, n, 100, &out, err, sizeof err), GUNZIP_OK, "%s", err);
    cr_assert_eq(buf_size(&out), 0);
    buf_done(&out);
    free(plain);
    free(gz);
}

Test(gunzip, bad_input_is_corrupt_with_a_reason)
{
    uint8_t *plain, *gz;
    size_t n = make_gzip(5000, &plain, &gz);
    buf out;
    buf_init(&out, 0);
    cr_assert_eq(gunzip_message(gz, n - 4, 1 << 20, &out, err, sizeof err), GUNZIP_CORRUPT);
    cr_assert(strstr(err, "ends before its end"), "%s", err);
    uint8_t *more = malloc(n + 3);
    memcpy(more, gz, n);
    memcpy(more + n, "abc", 3);
    cr_assert_eq(gunzip_message(more, n + 3, 1 << 20, &out, err, sizeof err), GUNZIP_CORRUPT);
    cr_assert_str_eq(err, "3 bytes follow the gzip data");
    cr_assert_eq(gunzip_message((const uint8_t *)"hello, world", 12, 100, &out, err, sizeof err),
                 GUNZIP_CORRUPT);
    cr_assert(strstr(err, "not valid gzip data"), "%s", err);
    cr_assert_eq(gunzip_message((const uint8_t *)"", 0, 100, &out, err, sizeof err), GUNZIP_CORRUPT);
    gz[n / 2] ^= 0xff;
    cr_assert_eq(gunzip_message(gz, n, 1 << 20, &out, err, sizeof err), GUNZIP_CORRUPT, "a flipped byte");
    buf_done(&out);
    free(more);
    free(plain);
    free(gz);
}
