/* grpcmux_bench.c -- `make bench`'s measure of the asynchronous gRPC client (rpc/grpcmux).
 *
 *   grpcmux_bench ADDR [--calls N] [--in-flight K] [--seconds S] [--timeout MS]
 *
 * Calls arith.Arith/Multiply on ADDR from one loop and one connection, K calls in flight
 * (a new one started as each ends), until N have ended or S seconds have passed. Prints
 * one line:
 *   grpcmux calls=N ok=N secs=S calls_per_sec=X cpu_us_per_call=C writes_per_call=W
 *           reads_per_call=R frames_per_call=F
 * (C: this process's CPU time, user and system, per call; W and R: send() and recv()
 * per call; F: HTTP/2 frames sent per call.) Exits 1 when a call failed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "arith.pb-c.h"
#include "base/clock.h"
#include "rpc/grpcmux.h"
#include "rpc/loop.h"

static struct {
    loop *l;
    grpcmux *m;
    long target, started, ended, ok;
    int timeout_ms;
    uint64_t stop_at;
    uint8_t req[32];
    size_t req_len;
    char first_err[256];
} B;

static void on_done(void *ud, const grpcmux_reply *r);

static void start_one(void)
{
    B.started++;
    grpcmux_call(B.m, "/arith.Arith/Multiply", B.req, B.req_len, B.timeout_ms, on_done, NULL);
}

static void on_done(void *ud, const grpcmux_reply *r)
{
    (void)ud;
    B.ended++;
    if (r->status == 0) {
        Arith__Product *p = arith__product__unpack(NULL, r->len, r->msg);
        if (p && p->value == 42)
            B.ok++;
        else if (!B.first_err[0])
            snprintf(B.first_err, sizeof B.first_err, "a wrong product");
        if (p)
            arith__product__free_unpacked(p, NULL);
    } else if (!B.first_err[0]) {
        snprintf(B.first_err, sizeof B.first_err, "status %d: %s", r->status, r->message);
    }
    if (B.started < B.target && (B.started & 63 || clock_now_ms() < B.stop_at))
        start_one();
    else if (B.ended == B.started)
        loop_stop(B.l);
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: grpcmux_bench ADDR [--calls N] [--in-flight K] [--seconds S] [--timeout MS]\n");
        return 2;
    }
    long inflight = 64, seconds = 30;
    B.target = 200000;
    B.timeout_ms = 10000;
    for (int i = 2; i + 1 < argc; i += 2) {
        long v = atol(argv[i + 1]);
        if (strcmp(argv[i], "--calls") == 0)
            B.target = v;
        else if (strcmp(argv[i], "--in-flight") == 0)
            inflight = v;
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = v;
        else if (strcmp(argv[i], "--timeout") == 0)
            B.timeout_ms = (int)v;
    }
    if (B.target < 1 || inflight < 1 || seconds < 1 || B.timeout_ms < 1) {
        fprintf(stderr, "grpcmux_bench: every number is at least 1\n");
        return 2;
    }
    char err[256];
    if (!(B.l = loop_new(err, sizeof err)) || !(B.m = grpcmux_new(B.l, argv[1], 5000, err, sizeof err))) {
        fprintf(stderr, "grpcmux_bench: %s\n", err);
        return 1;
    }
    Arith__Args args = ARITH__ARGS__INIT;
    args.a = 6;
    args.b = 7;
    B.req_len = arith__args__pack(&args, B.req);
    /* one call first: the connection and its settings are not what is measured */
    long target = B.target;
    B.target = 1;
    start_one();
    loop_run(B.l);
    if (B.ok != 1) {
        fprintf(stderr, "grpcmux_bench: the first call failed: %s\n", B.first_err);
        return 1;
    }
    B.target = target;
    B.started = B.ended = B.ok = 0;
    grpcmux_stats s0, s1;
    grpcmux_get_stats(B.m, &s0);
    double cpu0 = cpu_seconds();
    uint64_t t0 = clock_now_ms();
    B.stop_at = t0 + (uint64_t)seconds * 1000;
    for (long i = 0; i < inflight && B.started < B.target; i++)
        start_one();
    loop_run(B.l);
    double secs = (double)(clock_now_ms() - t0) / 1000, cpu = cpu_seconds() - cpu0;
    grpcmux_get_stats(B.m, &s1);
    uint64_t frames = 0;
    for (int t = 0; t < 10; t++)
        frames += s1.frames_sent[t] - s0.frames_sent[t];
    double n = B.ended ? (double)B.ended : 1;
    printf("grpcmux calls=%ld ok=%ld secs=%.2f calls_per_sec=%.0f cpu_us_per_call=%.2f writes_per_call=%.3f "
           "reads_per_call=%.3f frames_per_call=%.3f\n",
           B.ended, B.ok, secs, secs > 0 ? B.ended / secs : 0, cpu * 1e6 / n, (double)(s1.writes - s0.writes) / n,
           (double)(s1.reads - s0.reads) / n, (double)frames / n);
    grpcmux_free(B.m);
    loop_free(B.l);
    if (B.ok != B.ended) {
        fprintf(stderr, "grpcmux_bench: %ld calls failed; the first: %s\n", B.ended - B.ok, B.first_err);
        return 1;
    }
    return 0;
}
