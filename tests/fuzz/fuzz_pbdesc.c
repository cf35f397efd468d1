/* fuzz_pbdesc.c -- libFuzzer target: arbitrary bytes taken as the descriptor set a server's
 * reflection or a --protoset file hands the workbench, built into protobuf-c types at run
 * time; then the rest of the input as a message of each type it defines, through proto3's
 * JSON mapping and back. A hostile descriptor must be refused with a reason, never crash
 * the build or the walkers over it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "google/protobuf/descriptor.pb-c.h"
#include "wire/jsonval.h"
#include "wire/pbdesc.h"
#include "wire/pbjson.h"

/* A message of type d from p[0..n), to JSON text and back to a message and its bytes. */
static void round_trip(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t n)
{
    ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, n, p);
    if (!m)
        return;
    char err[256];
    value *v = pbjson_from_message(m, &(pbjson_opts){.emit_defaults = n & 1}, err, sizeof err);
    protobuf_c_message_free_unpacked(m, NULL);
    if (!v)
        return;
    buf text;
    buf_init(&text, 1 << 22);
    if (jsonval_write(v, &text) == 0) {
        value *back = jsonval_parse((const char *)buf_data(&text), buf_size(&text), err, sizeof err);
        ProtobufCMessage *again = back ? pbjson_to_message(d, back, err, sizeof err) : NULL;
        if (again) {
            size_t len = protobuf_c_message_get_packed_size(again);
            uint8_t *out = malloc(len ? len : 1);
            if (out)
                protobuf_c_message_pack(again, out);
            free(out);
            protobuf_c_message_free_unpacked(again, NULL);
        }
        value_free(back);
    }
    buf_done(&text);
    value_free(v);
}

/* Each top-level message of the set's files: described, and given the message bytes. */
static void use_types(const uint8_t *set, size_t setlen, const uint8_t *p, size_t n)
{
    Google__Protobuf__FileDescriptorSet *fs = google__protobuf__file_descriptor_set__unpack(NULL, setlen, set);
    if (!fs)
        return;
    for (size_t f = 0; f < fs->n_file && f < 8; f++) {
        const Google__Protobuf__FileDescriptorProto *fp = fs->file[f];
        for (size_t i = 0; i < fp->n_message_type && i < 16; i++) {
            char name[512];
            snprintf(name, sizeof name, "%s%s%s", fp->package ? fp->package : "",
                     fp->package && fp->package[0] ? "." : "", fp->message_type[i]->name ? fp->message_type[i]->name : "");
            buf out;
            buf_init(&out, 1 << 20);
            char err[256];
            pbdesc_describe(name, &out, err, sizeof err);
            buf_done(&out);
            const ProtobufCMessageDescriptor *d = pbdesc_message(name);
            if (d)
                round_trip(d, p, n);
        }
    }
    google__protobuf__file_descriptor_set__free_unpacked(fs, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    if (n < 2)
        return 0;
    size_t setlen = (size_t)p[0] << 8 | p[1];
    if (setlen > n - 2)
        setlen = n - 2;
    const uint8_t *set = p + 2, *msg = set + setlen;
    char err[256], missing[256];
    pbdesc_add_set(set, setlen, err, sizeof err);
    pbdesc_link(err, sizeof err);
    pbdesc_missing_import(missing, sizeof missing);
    use_types(set, setlen, msg, n - 2 - setlen);
    return 0;
}
