/* test_explain.c -- the helpers every explainer shares: the "told once" bits, hex dumps
 * and quoted text for meanings, at their limits (cuts, tight buffers, bad UTF-8). */
#include <criterion/criterion.h>
#include <string.h>

#include "base/buf.h"
#include "value/value.h"
#include "wire/explain.h"
#include "wire/gob.h"

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

/* ---- the span cap ---- */

/* Ten leaves of 10 bytes each at depth 1 under one container of 100. */
static void add_ten(explain *e)
{
    explain_add(e, 0, 100, 0, SPAN_FRAME, "t", "box");
    for (int i = 0; i < 10; i++)
        explain_add(e, (size_t)i * 10, 10, 1, i % 2 ? SPAN_DATA : SPAN_TYPE, "t", "leaf %d", i);
}

static size_t sum(const size_t t[4]) { return t[0] + t[1] + t[2] + t[3]; }

Test(explain_cap, spans_past_the_cap_are_counted_in_one_summary)
{
    explain e;
    explain_init(&e);
    e.max = 4;
    add_ten(&e);
    cr_assert_eq(e.len, 5u, "4 spans and the summary");
    cr_assert(explain_is_summary(&e, 4));
    cr_assert_not(explain_is_summary(&e, 3));
    cr_assert_str_eq(e.spans[4].meaning,
                     "… 7 more spans, 70 bytes, not explained in detail (at most 4 spans are)");
    cr_assert_eq(e.spans[4].off, 30u);
    cr_assert_eq(explain_add(&e, 100, 1, 0, SPAN_FRAME, "t", "late"), -1);
    size_t t[4];
    explain_totals(&e, t);
    cr_assert_eq(t[SPAN_TYPE], 50u);
    cr_assert_eq(t[SPAN_DATA], 50u);
    cr_assert_eq(t[SPAN_FRAME], 1u, "the late byte is counted, the box is not: %zu",
                 t[SPAN_FRAME]);
    explain_done(&e);
}

Test(explain_cap, totals_match_an_uncapped_explain)
{
    explain all, cut;
    explain_init(&all);
    explain_init(&cut);
    cut.max = 1; /* only the box: the first leaf is dropped, so the box stays a heading */
    add_ten(&all);
    add_ten(&cut);
    size_t ta[4], tc[4];
    explain_totals(&all, ta);
    explain_totals(&cut, tc);
    cr_assert_eq(sum(tc), 100u);
    cr_assert_arr_eq(ta, tc, sizeof ta);
    explain_totals_range(&cut, 0, 1, tc);
    cr_assert_eq(sum(tc), 100u, "the dropped bytes sit where the summary starts (0)");
    explain_totals_range(&cut, 1, 100, tc);
    cr_assert_eq(sum(tc), 0u);
    explain_done(&all);
    explain_done(&cut);
}

Test(explain_cap, a_dropped_container_with_unknown_length_is_not_a_leaf)
{
    explain e;
    explain_init(&e);
    e.max = 1;
    explain_add(&e, 0, 0, 0, SPAN_FRAME, "t", "top");
    explain_add(&e, 0, 0, 1, SPAN_FRAME, "t", "opened, length set on close"); /* dropped */
    explain_add(&e, 0, 7, 2, SPAN_DATA, "t", "inside");
    explain_add(&e, 7, 3, 2, SPAN_DATA, "t", "inside too");
    size_t t[4];
    explain_totals(&e, t);
    cr_assert_eq(t[SPAN_DATA], 10u);
    cr_assert_eq(sum(t), 10u);
    explain_done(&e);
}

Test(explain_cap, the_summary_keeps_its_length_and_meaning)
{
    explain e;
    explain_init(&e);
    e.max = 2;
    add_ten(&e);
    explain_set_len(&e, (int)e.len - 1, 1);
    explain_retitle(&e, (int)e.len - 1, "not the summary");
    cr_assert_eq(e.spans[e.len - 1].len, 90u);
    cr_assert_not_null(strstr(e.spans[e.len - 1].meaning, "9 more spans"));
    explain_done(&e);
}

Test(explain_cap, append_merges_what_the_source_dropped)
{
    explain src, dst;
    explain_init(&src);
    explain_init(&dst);
    src.max = 3;
    add_ten(&src);
    explain_add(&dst, 0, 5, 0, SPAN_FRAME, "t", "header");
    cr_assert_eq(explain_append(&dst, &src, 5, 1), 0);
    cr_assert_eq(dst.len, 5u, "header, 3 spans of src, summary");
    cr_assert(explain_is_summary(&dst, 4));
    cr_assert_eq(dst.drop.count, 8u);
    cr_assert_eq(dst.spans[4].off, 25u);
    cr_assert_eq(dst.spans[4].depth, 2);
    size_t t[4];
    explain_totals(&dst, t);
    cr_assert_eq(sum(t), 105u);
    cr_assert_eq(explain_add(&dst, 105, 1, 0, SPAN_FRAME, "t", "after"), -1,
                 "after a merged summary, nothing more is kept");
    explain_done(&src);
    explain_done(&dst);
}

Test(explain_cap, the_summary_renders_as_one_heading_line)
{
    uint8_t bytes[100];
    memset(bytes, 'x', sizeof bytes);
    explain e;
    explain_init(&e);
    e.max = 2;
    add_ten(&e);
    buf out;
    buf_init(&out, 0);
    explain_style st = {80, false, false};
    cr_assert_eq(explain_render(&e, bytes, sizeof bytes, &st, &out), 0);
    buf_putc(&out, '\0');
    const char *s = (const char *)buf_data(&out);
    cr_assert_not_null(strstr(s, "000a  [90 bytes]"), "%s", s);
    cr_assert_null(strstr(s, "no explainer claimed"), "%s", s);
    size_t lines = 0;
    for (const char *c = s; *c; c++)
        lines += *c == '\n';
    cr_assert_leq(lines, 6u, "%s", s);
    buf_done(&out);
    /* a full buffer gets nothing, not a truncated dump */
    buf small;
    buf_init(&small, 64);
    buf_puts(&small, "kept");
    cr_assert_eq(explain_render(&e, bytes, sizeof bytes, &st, &small), -1);
    cr_assert_eq(buf_size(&small), 4u);
    buf_done(&small);
    explain_done(&e);
}

/* A gob []string of 150,000 elements: a span for each. */
Test(explain_cap, a_big_gob_value_keeps_at_most_the_cap)
{
    static const vtype strings_t = {.kind = T_SLICE, .elem = &vtype_string};
    value *l = value_list();
    for (int i = 0; i < 150000; i++)
        value_list_push(l, value_cstring("ab"));
    gob_enc *enc = gob_enc_new();
    buf b;
    buf_init(&b, 0);
    char err[200];
    cr_assert_eq(gob_encode(enc, &strings_t, l, &b, err, sizeof err), 0, "%s", err);
    gob_explainer *x = gob_explainer_new();
    explain e;
    explain_init(&e);
    size_t pos = 0;
    while (pos < buf_size(&b)) {
        int r = gob_explain_message(x, buf_data(&b) + pos, buf_size(&b) - pos, pos, 0, &e, NULL);
        cr_assert_gt(r, 0);
        pos += (size_t)r;
    }
    cr_assert_leq(e.len, EXPLAIN_MAX_SPANS + 1, "%zu spans", e.len);
    cr_assert(explain_is_summary(&e, e.len - 1));
    size_t t[4];
    explain_totals(&e, t);
    cr_assert_eq(sum(t), buf_size(&b));
    cr_assert_eq(t[SPAN_ERROR], 0u);
    explain_done(&e);
    gob_explainer_free(x);
    buf_done(&b);
    gob_enc_free(enc);
    value_free(l);
}

Test(explain, drop_front_keeps_the_rest_in_order)
{
    explain e;
    explain_init(&e);
    for (int i = 0; i < 5; i++)
        explain_add(&e, (size_t)i * 2, 2, 0, SPAN_DATA, "t", "span %d", i);
    explain_drop_front(&e, 2);
    cr_assert_eq(e.len, 3);
    cr_assert_str_eq(e.spans[0].meaning, "span 2");
    cr_assert_eq(e.spans[2].off, 8);
    explain_drop_front(&e, 10); /* more than it holds: all */
    cr_assert_eq(e.len, 0);
    explain_done(&e);
}
