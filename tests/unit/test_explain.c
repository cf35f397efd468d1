/* test_explain.c -- the helpers every explainer shares: the "told once" bits, hex dumps
 * and quoted text for meanings, at their limits (cuts, tight buffers, bad UTF-8). */
#include <criterion/criterion.h>
#include <string.h>

#include "wire/explain.h"

#define U8(s) ((const uint8_t *)(s))

Test(explain, first_time_once_per_bit)
{
    unsigned told = 0;
    cr_assert(explain_first_time(&told, 1));
    cr_assert_not(explain_first_time(&told, 1));
    cr_assert(explain_first_time(&told, 4), "another bit is still new");
    cr_assert_eq(told, 5u);
    cr_assert_not(explain_first_time(&told, 4));
    /* nothing remembered: always the first time */
    cr_assert(explain_first_time(NULL, 1));
    cr_assert(explain_first_time(NULL, 1));
}

Test(explain, hex_plain_and_0x)
{
    char out[64];
    const uint8_t b[] = {0x0a, 0xff, 0x00};
    cr_assert_eq(explain_hex(out, sizeof out, b, 3, SIZE_MAX, 0), out);
    cr_assert_str_eq(out, "0a ff 00");
    cr_assert_str_eq(explain_hex(out, sizeof out, b, 3, SIZE_MAX, EXPLAIN_HEX_0X),
                     "0x0a 0xff 0x00");
    cr_assert_str_eq(explain_hex(out, sizeof out, b, 0, SIZE_MAX, EXPLAIN_HEX_0X), "");
}

Test(explain, hex_cut_after_max)
{
    char out[64];
    const uint8_t b[] = {1, 2, 3, 4, 5};
    cr_assert_str_eq(explain_hex(out, sizeof out, b, 3, 3, 0), "01 02 03", "n == max: whole");
    cr_assert_str_eq(explain_hex(out, sizeof out, b, 4, 3, 0), "01 02 03 ...");
    cr_assert_str_eq(explain_hex(out, sizeof out, b, 5, 0, 0), " ...");
    /* an ellipsis that would stand for one byte only is spared */
    cr_assert_str_eq(explain_hex(out, sizeof out, b, 4, 3, EXPLAIN_HEX_SPARE_ONE),
                     "01 02 03 04");
    cr_assert_str_eq(explain_hex(out, sizeof out, b, 5, 3, EXPLAIN_HEX_0X | EXPLAIN_HEX_SPARE_ONE),
                     "0x01 0x02 0x03 ...");
}

Test(explain, hex_tight_buffer)
{
    char out[9];
    const uint8_t b[] = {0xaa, 0xbb, 0xcc, 0xdd};
    /* only whole bytes, always terminated */
    cr_assert_str_eq(explain_hex(out, sizeof out, b, 4, SIZE_MAX, 0), "aa bb cc");
    cr_assert_str_eq(explain_hex(out, 5, b, 4, SIZE_MAX, EXPLAIN_HEX_0X), "0xaa");
    cr_assert_str_eq(explain_hex(out, 4, b, 4, SIZE_MAX, EXPLAIN_HEX_0X), "");
    out[0] = 'x';
    explain_hex(out, 0, b, 4, SIZE_MAX, 0);
    cr_assert_eq(out[0], 'x', "a zero-sized buffer is not written");
}

Test(explain, quote_escapes)
{
    char out[64];
    cr_assert_eq(explain_quote(out, sizeof out, U8("hi"), 2, 60, 0), out);
    cr_assert_str_eq(out, "\"hi\"");
    cr_assert_str_eq(explain_quote(out, sizeof out, U8("a\"b\\c"), 5, 60, 0), "\"a\\\"b\\\\c\"");
    cr_assert_str_eq(explain_quote(out, sizeof out, U8("\n\x01\x7f"), 3, 60, 0),
                     "\"\\x0a\\x01\\x7f\"");
    cr_assert_str_eq(explain_quote(out, sizeof out, U8(""), 0, 60, 0), "\"\"");
    cr_assert_str_eq(explain_quote(out, sizeof out, U8("te"), 2, 60, EXPLAIN_QUOTE_BARE), "te");
    cr_assert_str_eq(explain_quote(out, sizeof out, U8("a\"\t"), 3, 60, EXPLAIN_QUOTE_BARE),
                     "a\\\"\\x09");
}

Test(explain, quote_utf8)
{
    char out[64];
    /* é, then a lone 0xff, then the first byte of € without the rest */
    const uint8_t s[] = {0xc3, 0xa9, 0xff, 0xe2, 0x82};
    cr_assert_str_eq(explain_quote(out, sizeof out, s, 5, 60, EXPLAIN_QUOTE_UTF8),
                     "\"\xc3\xa9\\xff\\xe2\\x82\"");
    /* without the flag, bytes from 0x80 up are copied as they are */
    cr_assert_str_eq(explain_quote(out, sizeof out, s, 5, 60, 0), "\"\xc3\xa9\xff\xe2\x82\"");
}

Test(explain, quote_cut_after_max)
{
    char out[64];
    cr_assert_str_eq(explain_quote(out, sizeof out, U8("abcdef"), 6, 4, 0), "\"abcd...\"");
    cr_assert_str_eq(explain_quote(out, sizeof out, U8("abcd"), 4, 4, 0), "\"abcd\"");
    cr_assert_str_eq(explain_quote(out, sizeof out, U8("abcdef"), 6, 4, EXPLAIN_QUOTE_BARE),
                     "abcd...");
    /* with UTF-8 the cut never splits a character: é (2 bytes) straddles byte 2 */
    const uint8_t s[] = {'a', 0xc3, 0xa9, 'b'};
    cr_assert_str_eq(explain_quote(out, sizeof out, s, 4, 2, EXPLAIN_QUOTE_UTF8),
                     "\"a\xc3\xa9...\"");
    cr_assert_str_eq(explain_quote(out, sizeof out, s, 4, 2, 0), "\"a\xc3...\"");
}

Test(explain, quote_tight_buffer)
{
    char out[20];
    /* 20 bytes keep 12 spare: the text is cut early, with "...", and still closed */
    cr_assert_str_eq(explain_quote(out, sizeof out, U8("abcdefghijklmnop"), 16, 60, 0),
                     "\"abcdefg...\"");
    cr_assert_str_eq(explain_quote(out, sizeof out, U8("\x01\x02\x03\x04"), 4, 60, 0),
                     "\"\\x01\\x02...\"");
    cr_assert_lt(strlen(out), sizeof out);
    cr_assert_str_eq(explain_quote(out, 7, U8("abc"), 3, 60, 0), "", "too small to say anything");
    out[0] = 'x';
    explain_quote(out, 0, U8("abc"), 3, 60, 0);
    cr_assert_eq(out[0], 'x', "a zero-sized buffer is not written");
}
