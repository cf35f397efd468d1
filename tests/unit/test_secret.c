/* test_secret.c -- unit tests for base/secret: comparing a secret, and which fit a header. */
#include <criterion/criterion.h>
#include <string.h>

#include "base/secret.h"

#define GIVEN(lit) lit, sizeof lit - 1

Test(secret_equal, only_the_same_bytes_match)
{
    cr_assert(secret_equal("s3cret", GIVEN("s3cret")));
    cr_assert_not(secret_equal("s3cret", GIVEN("S3cret")), "the first byte differs");
    cr_assert_not(secret_equal("s3cret", GIVEN("s3creT")), "the last byte differs");
    cr_assert_not(secret_equal("s3cret", GIVEN("s3cre")), "a prefix");
    cr_assert_not(secret_equal("s3cret", GIVEN("s3cret!")), "one byte more");
    cr_assert_not(secret_equal("s3cret", GIVEN("")), "nothing");
    cr_assert_not(secret_equal("s3cret", GIVEN("s3cret\0")), "a NUL after it");
}

Test(secret_equal, given_bytes_past_n_are_not_read)
{
    const char buf[] = "s3cretXYZ";
    cr_assert(secret_equal("s3cret", buf, 6));
    cr_assert_not(secret_equal("s3cretX", buf, 6));
}

Test(secret_header_safe, visible_ascii_only)
{
    cr_assert(secret_header_safe("XLxCSJGpVkSR+Bw8v6XU1HHTTHi0StZ1/="));
    cr_assert_not(secret_header_safe(""));
    cr_assert_not(secret_header_safe("two words"));
    cr_assert_not(secret_header_safe("tab\there"));
    cr_assert_not(secret_header_safe("crlf\r\nx-injected: 1"));
    cr_assert_not(secret_header_safe("caf\xc3\xa9"));
    cr_assert_not(secret_header_safe("del\x7f"));
}
