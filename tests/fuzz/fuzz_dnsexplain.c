/* fuzz_dnsexplain.c -- libFuzzer target: arbitrary bytes into the DNS explainer, its
 * one-line summary and explain_render. Besides "no crash, no leak, no undefined
 * behaviour" it checks that every span stays inside the input, that a container holds the
 * spans under it, that the leaf spans tile the input exactly, that a failure ends in an
 * error span, and that the summary is one terminated line whatever the result. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzkit.h"
#include "wire/dnsexplain.h"

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    explain e;
    explain_init(&e);
    int r = dnsexplain_message(p, n, &e);
    if (r != 0 && r != -1)
        abort();
    check_spans(&e, n);
    if (r < 0 && (e.len == 0 || e.spans[e.len - 1].cls != SPAN_ERROR))
        abort();
    buf out;
    buf_init(&out, 1 << 22);
    explain_style st = {n ? 40 + p[n - 1] % 100 : 0, false, false};
    explain_render(&e, p, n, &st, &out);
    buf_done(&out);
    explain_done(&e);

    char line[160];
    line[sizeof line - 1] = 'x';
    dnsexplain_summary(p, n, line, sizeof line);
    if (!memchr(line, '\0', sizeof line) || strchr(line, '\n'))
        abort();
    return 0;
}
