/* test_log.c -- unit tests for base/esc and base/log: a peer's bytes never print raw. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <string.h>

#include "base/esc.h"
#include "base/log.h"

static const char *esc(const char *s, size_t n)
{
    static char out[512];
    return esc_bytes(out, sizeof out, s, n);
}

#define ESC(lit) esc(lit, sizeof lit - 1)

Test(esc, printable_text_and_utf8_are_unchanged)
{
    cr_assert_str_eq(ESC("Arith.Multiply"), "Arith.Multiply");
    cr_assert_str_eq(ESC("李白 你好 \xf0\x9f\x98\x80 caf\xc3\xa9"), "李白 你好 \xf0\x9f\x98\x80 caf\xc3\xa9");
    cr_assert_str_eq(ESC("a\\nb \"q\""), "a\\nb \"q\"", "backslashes and quotes stay");
    cr_assert(esc_clean("Arith.Multiply", 14));
}

Test(esc, control_characters_are_spelled_out)
{
    cr_assert_str_eq(ESC("a\nb\rc\td"), "a\\nb\\rc\\td");
    cr_assert_str_eq(ESC("\x1b[2J"), "\\x1b[2J");
    cr_assert_str_eq(ESC("x\x7fy"), "x\\x7fy", "DEL");
    cr_assert_str_eq(ESC("Arith.Multiply\0junk"), "Arith.Multiply\\x00junk");
    cr_assert_str_eq(ESC("\xc2\x9b" "2J"), "\\xc2\\x9b2J", "C1 CSI written as UTF-8");
    cr_assert_str_eq(ESC("\x9b" "2J"), "\\x9b2J", "C1 CSI as a raw byte");
    cr_assert_not(esc_clean("a\nb", 3));
}

Test(esc, invalid_utf8_byte_by_byte)
{
    cr_assert_str_eq(ESC("a\xff" "b"), "a\\xffb");
    cr_assert_str_eq(ESC("\xe2\x82"), "\\xe2\\x82", "cut short");
    cr_assert_str_eq(ESC("\xc0\xaf"), "\\xc0\\xaf", "overlong");
    cr_assert_str_eq(ESC("\xed\xa0\x80"), "\\xed\\xa0\\x80", "a surrogate");
    cr_assert_str_eq(ESC("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80", "past U+10FFFF");
    cr_assert_not(esc_utf8_valid("\xed\xa0\x80", 3));
    cr_assert(esc_utf8_valid("a\0\xe2\x82\xac", 5));
    cr_assert_eq(esc_utf8_len((const unsigned char *)"\xf0\x9f\x98\x80", 4), 4);
    cr_assert_eq(esc_utf8_len((const unsigned char *)"\xf0\x9f\x98", 3), 0);
}

Test(esc, escaping_twice_changes_nothing)
{
    char once[64], twice[64];
    esc_str(once, sizeof once, "a\nb\x1b[2J\xff");
    esc_str(twice, sizeof twice, once);
    cr_assert_str_eq(once, twice);
}

Test(esc, a_small_buffer_ends_the_copy_with_dots_at_a_character_boundary)
{
    char out[12];
    esc_str(out, sizeof out, "abcdefghijklmnop");
    cr_assert_str_eq(out, "abcdefgh...");
    esc_str(out, sizeof out, "abcdef\x1b\x1b\x1b");
    cr_assert_str_eq(out, "abcdef...");
    esc_str(out, sizeof out, "ab\xe4\xbd\xa0\xe5\xa5\xbd\xe5\x95\x8a\xe5\x95\x8a");
    cr_assert_str_eq(out, "ab\xe4\xbd\xa0\xe5\xa5\xbd...");
    esc_str(out, sizeof out, "abcdefghijk");
    cr_assert_str_eq(out, "abcdefghijk", "what fits exactly is not cut");
    esc_str(out, 1, "abc");
    cr_assert_str_eq(out, "");
    esc_str(out, sizeof out, NULL);
    cr_assert_str_eq(out, "(null)");
}

/* Reads what the test wrote to its redirected stderr. */
static void read_stderr(char *out, size_t cap)
{
    fflush(stderr);
    FILE *f = cr_get_redirected_stderr();
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
}

Test(log, a_peer_cannot_forge_a_line_or_reach_the_terminal, .init = cr_redirect_stderr)
{
    log_setup("test-server", false);
    log_msg("error reply: rpc: can't find method %s", "X\n12:00:00.000 test-server: forged\x1b[2J\xff");
    char got[1024];
    read_stderr(got, sizeof got);
    char *nl = strchr(got, '\n');
    cr_assert(nl && nl[1] == '\0', "one line: %s", got);
    cr_assert(strstr(got, "X\\n12:00:00.000 test-server: forged\\x1b[2J\\xff\n"), "%s", got);
    cr_assert_null(strchr(got, '\x1b'));
}
