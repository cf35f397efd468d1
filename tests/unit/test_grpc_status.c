/* test_grpc_status.c -- unit tests for the one gRPC status table (wire/grpc_status). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* Both sides of gRPC in one file: each used to declare its own GRPC_OK. */
#include "rpc/grpcclient.h"
#include "rpc/grpcserver.h"
#include "wire/grpc_status.h"

Test(grpc_status, both_headers_share_one_enum)
{
    cr_assert_eq(GRPC_OK, 0);
    cr_assert_eq(GRPC_ABORTED, 10);
    cr_assert_eq(GRPC_OUT_OF_RANGE, 11);
    cr_assert_eq(GRPC_DATA_LOSS, 15);
    cr_assert_eq(GRPC_UNAUTHENTICATED, 16);
}

Test(grpc_status, every_code_has_its_name)
{
    static const char *const want[] = {
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
        "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
        "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
        "UNAUTHENTICATED"};
    for (int code = 0; code < 17; code++) {
        cr_assert(grpc_status_known(code));
        cr_assert_str_eq(grpc_status_name(code), want[code], "code %d", code);
    }
}

Test(grpc_status, codes_outside_the_table)
{
    cr_assert_not(grpc_status_known(-1));
    cr_assert_not(grpc_status_known(17));
    cr_assert_str_eq(grpc_status_name(17), "UNKNOWN_CODE");
    cr_assert_str_eq(grpc_status_name(-1), "UNKNOWN_CODE");
    cr_assert_str_eq(grpc_status_name(1 << 30), "UNKNOWN_CODE");
}

/* A name once returned must not change when the next unknown code is named: the gateway's
 * worker threads name codes at the same time. */
Test(grpc_status, a_name_stays_put)
{
    const char *first = grpc_status_name(42);
    char copy[64];
    snprintf(copy, sizeof copy, "%s", first);
    const char *second = grpc_status_name(99);
    cr_assert_str_eq(first, copy);
    cr_assert_str_eq(second, grpc_status_name(99));
}

static void *name_many(void *arg)
{
    int base = *(const int *)arg;
    for (int i = 0; i < 10000; i++) {
        const char *n = grpc_status_name(base + i % 50);
        if (strcmp(n, "UNKNOWN_CODE") != 0)
            return (void *)1;
    }
    return NULL;
}

Test(grpc_status, names_from_many_threads)
{
    pthread_t t[4];
    int base[4] = {17, 1000, 5000, 90000};
    for (int i = 0; i < 4; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, name_many, &base[i]), 0);
    for (int i = 0; i < 4; i++) {
        void *bad;
        pthread_join(t[i], &bad);
        cr_assert_null(bad, "thread %d read another thread's name", i);
    }
}
