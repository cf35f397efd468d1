/* test_grpc_status.c -- unit tests for the one gRPC status table (wire/grpc_status). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* Both sides of gRPC in one file: each used to declare its own GRPC_OK. */
#include "rpc/grpcclient.h"
#include "rpc/grpcserver.h"
#include "threadtest.h"
#include "wire/grpc_status.h"

TT_TEST(grpc_status, both_headers_share_one_enum)
{
    TT_CHECK(GRPC_OK == 0 && GRPC_ABORTED == 10 && GRPC_OUT_OF_RANGE == 11, "numbered as gRPC's spec");
    TT_CHECK(GRPC_DATA_LOSS == 15 && GRPC_UNAUTHENTICATED == 16, "numbered as gRPC's spec");
}

TT_TEST(grpc_status, every_code_has_its_name)
{
    static const char *const want[] = {
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
        "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
        "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
        "UNAUTHENTICATED"};
    for (int code = 0; code < 17; code++) {
        TT_CHECK(grpc_status_known(code), "code %d is gRPC's", code);
        TT_CHECK(strcmp(grpc_status_name(code), want[code]) == 0, "code %d is named %s, not %s", code,
                 grpc_status_name(code), want[code]);
    }
}

TT_TEST(grpc_status, codes_outside_the_table)
{
    TT_CHECK(!grpc_status_known(-1) && !grpc_status_known(17), "only 0..16 are gRPC's");
    int odd[] = {17, -1, 1 << 30};
    for (int i = 0; i < 3; i++)
        TT_CHECK(strcmp(grpc_status_name(odd[i]), "UNKNOWN_CODE") == 0, "code %d is named %s", odd[i],
                 grpc_status_name(odd[i]));
}

/* A name once returned must not change when the next unknown code is named: the gateway's
 * worker threads name codes at the same time. */
TT_TEST(grpc_status, a_name_stays_put)
{
    const char *first = grpc_status_name(42);
    char copy[64];
    snprintf(copy, sizeof copy, "%s", first);
    const char *second = grpc_status_name(99);
    TT_CHECK(strcmp(first, copy) == 0, "the name of 42 became \"%s\"", first);
    TT_CHECK(strcmp(second, grpc_status_name(99)) == 0, "the name of 99 changed");
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

/* Built with ThreadSanitizer, this also shows that naming codes shares no memory. */
TT_TEST(grpc_status, names_from_many_threads)
{
    pthread_t t[4];
    int base[4] = {17, 1000, 5000, 90000};
    for (int i = 0; i < 4; i++)
        TT_CHECK(pthread_create(&t[i], NULL, name_many, &base[i]) == 0, "thread %d", i);
    for (int i = 0; i < 4; i++) {
        void *bad;
        pthread_join(t[i], &bad);
        TT_CHECK(bad == NULL, "thread %d read another thread's name", i);
    }
}
