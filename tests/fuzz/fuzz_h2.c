/* fuzz_h2.c -- libFuzzer target: arbitrary bytes into the HTTP/2 + gRPC explainer, as the
 * client's direction, as the server's (with and without a method hint), and as both halves
 * of an exchange, then into explain_render. Besides "no crash, no leak, no undefined
 * behaviour" it checks that every span stays inside the input, that a container holds the
 * spans under it, and that the leaf spans tile the input exactly, whatever the result. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzkit.h"
#include "wire/h2explain.h"

static void render(const explain *e, const uint8_t *p, size_t n)
{
    buf out;
    buf_init(&out, 1 << 22);
    explain_render(e, p, n, NULL, &out);
    buf_done(&out);
}

/* The client's direction must start with the preface; fuzzing it raw would rarely get past
 * it, so the preface is put in front of the data too. */
static const char PREFACE[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    explain e;
    for (int mode = 0; mode < 3; mode++) {
        explain_init(&e);
        h2explain_stream(p, n, mode > 0, mode == 2 ? "/helloworld.Greeter/SayHello" : NULL, &e);
        check_spans(&e, n);
        render(&e, p, n);
        explain_done(&e);
    }
    uint8_t *c = malloc(n + 24);
    if (!c)
        return 0;
    memcpy(c, PREFACE, 24);
    if (n)
        memcpy(c + 24, p, n);
    explain_init(&e);
    h2explain_stream(c, n + 24, false, NULL, &e);
    check_spans(&e, n + 24);
    render(&e, c, n + 24);
    explain_done(&e);
    /* an exchange: the input split in two at a point its first byte picks */
    size_t cut = n ? (size_t)p[0] * (n + 24) / 256 : 0;
    if (cut < 24)
        cut = 24;
    explain ec, es;
    explain_init(&ec);
    explain_init(&es);
    h2explain_exchange(c, cut, c + cut, n + 24 - cut, &ec, &es);
    check_spans(&ec, cut);
    check_spans(&es, n + 24 - cut);
    explain_done(&ec);
    explain_done(&es);
    free(c);
    return 0;
}
