/* threadtest.h -- tests of code that runs threads, written once for two runners:
 * Criterion as usual, and a plain main when built with ThreadSanitizer, under which
 * Criterion cannot start (its inheritable arena wants address space ThreadSanitizer has
 * reserved: Criterion issue #274). Header-only: each test is a program of its own.
 *
 *   TT_TEST(suite, name) { ... }       one test; the plain runner runs them in turn,
 *                                      in one process, stopping at the first failure
 *                                      (with no summary line, which counts as failing)
 *   TT_CHECK(cond, "fmt", ...)         an assertion with a printf-style message
 */
#ifndef WB_THREADTEST_H
#define WB_THREADTEST_H

#if defined(__SANITIZE_THREAD__)
#define TT_PLAIN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TT_PLAIN 1
#endif
#endif

#ifndef TT_PLAIN

#include <criterion/criterion.h>

#define TT_TEST(suite, name) Test(suite, name)
#define TT_CHECK(cond, ...) cr_assert(cond, __VA_ARGS__)

#else

#include <stdio.h>
#include <stdlib.h>

typedef struct tt_entry {
    const char *name;
    void (*fn)(void);
} tt_entry;

static tt_entry tt_tests[64];
static int tt_ntests;
static const char *tt_current;

#define TT_TEST(suite, name)                                                              \
    static void suite##_##name(void);                                                     \
    __attribute__((constructor)) static void suite##_##name##_enlist(void)                \
    {                                                                                     \
        if (tt_ntests < 64)                                                               \
            tt_tests[tt_ntests++] = (tt_entry){#suite "::" #name, suite##_##name};        \
    }                                                                                     \
    static void suite##_##name(void)

#define TT_CHECK(cond, ...)                                                               \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "[FAIL] %s: %s:%d: %s: ", tt_current, __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                                 \
            fputc('\n', stderr);                                                          \
            exit(1);                                                                      \
        }                                                                                 \
    } while (0)

/* Options (Criterion's --jobs) are accepted and ignored. */
int main(void)
{
    for (int i = 0; i < tt_ntests; i++) {
        tt_current = tt_tests[i].name;
        tt_tests[i].fn();
        printf("[PASS] %s\n", tt_tests[i].name);
    }
    printf("[====] Synthesis: Tested: %d | Passing: %d | Failing: 0 | Crashing: 0\n", tt_ntests,
           tt_ntests);
    return 0;
}

#endif

#endif
