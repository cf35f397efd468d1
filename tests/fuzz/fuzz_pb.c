/* fuzz_pb.c -- libFuzzer target: arbitrary bytes explained as a protobuf message without a
 * schema and as each message type compiled into the workbench. Checks spans stay inside
 * the input, containers hold their children, and the leaves tile the input exactly. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzkit.h"
#include "wire/pbcatalog.h"
#include "wire/pbexplain.h"

static void one(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t n)
{
    explain e;
    explain_init(&e);
    unsigned told = 0;
    int r = pbexplain_message(d, p, n, 0, 0, &told, &e);
    check_spans(&e, n);
    /* a message protobuf-c accepts must explain without error, except where the explainer
     * is stricter, following the protobuf spec: strings must be UTF-8, and field numbers
     * stop at 2^29 - 1 (protobuf-c checks neither) */
    if (d && r < 0) {
        ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, n, p);
        if (m) {
            protobuf_c_message_free_unpacked(m, NULL);
            for (size_t i = 0; i < e.len; i++)
                if (e.spans[i].cls == SPAN_ERROR && !strstr(e.spans[i].meaning, "UTF-8") &&
                    !strstr(e.spans[i].meaning, "field numbers run from"))
                    abort();
        }
    }
    buf out;
    buf_init(&out, 1 << 22);
    explain_render(&e, p, n, NULL, &out);
    buf_done(&out);
    explain_done(&e);
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    one(NULL, p, n);
    size_t nm;
    const pb_method *ms = pbcatalog_methods(&nm);
    for (size_t i = 0; i < nm; i++) {
        one(ms[i].input, p, n);
        one(ms[i].output, p, n);
    }
    return 0;
}
