/* pbjson_bench.c -- `make bench`'s measure of proto3's JSON mapping (wire/pbjson) on one message type.
 *
 *   pbjson_bench (--descriptors FILE --type NAME | --compiled) --json TEXT
 *                [--iterations N] [--seconds S]
 *
 * The type is pb.Student built at run time (wire/pbdesc) from a descriptor set, or the
 * same message compiled in by protoc-c (tests/unit/proto/kinds.proto). Two loops, each
 * at most N iterations and S seconds: JSON text -> message -> protobuf bytes, and
 * protobuf bytes -> message -> JSON text. Prints one line per loop:
 *   json_to_bytes ops=N secs=S ops_per_sec=X cpu_ns_per_op=C bytes=LEN
 *   bytes_to_json ops=N secs=S ops_per_sec=X cpu_ns_per_op=C json=TEXT
 * (C: the process's CPU time, user and system, per iteration)
 * tests/go/pbjsonbench prints the same lines for Go's protojson and dynamicpb. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/clock.h"
#include "kinds.pb-c.h"
#include "wire/jsonval.h"
#include "wire/pbdesc.h"
#include "wire/pbjson.h"

#define CHECK_EVERY 64 /* iterations between looks at the clock */

static void die(const char *what, const char *err)
{
    fprintf(stderr, "pbjson_bench: %s: %s\n", what, err);
    exit(1);
}

static const ProtobufCMessageDescriptor *runtime_type(const char *path, const char *name)
{
    char err[512] = "";
    buf b;
    buf_init(&b, 64u << 20);
    if (buf_read_file(&b, path, err, sizeof err) < 0)
        die("descriptors", err);
    if (pbdesc_add_set(buf_data(&b), buf_size(&b), err, sizeof err) < 0 || pbdesc_link(err, sizeof err) < 0)
        die(path, err);
    buf_done(&b);
    const ProtobufCMessageDescriptor *d = pbdesc_message(name);
    if (!d)
        die(name, "no such message in the descriptor set");
    return d;
}

/* JSON text -> message -> bytes, into out (cleared first). */
static void json_to_bytes(const ProtobufCMessageDescriptor *d, const char *json, size_t len, buf *out)
{
    char err[512] = "";
    value *v = jsonval_parse(json, len, err, sizeof err);
    if (!v)
        die("parse", err);
    ProtobufCMessage *m = pbjson_to_message(d, v, err, sizeof err);
    value_free(v);
    if (!m)
        die("to message", err);
    size_t n = protobuf_c_message_get_packed_size(m);
    buf_clear(out);
    if (buf_reserve(out, n) < 0)
        die("pack", "out of memory");
    out->len += protobuf_c_message_pack(m, buf_data(out));
    protobuf_c_message_free_unpacked(m, NULL);
}

/* bytes -> message -> JSON text, into out (cleared first). */
static void bytes_to_json(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t n, buf *out)
{
    char err[512] = "";
    ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, n, p);
    if (!m)
        die("unpack", "the bytes are not the message");
    value *v = pbjson_from_message(m, NULL, err, sizeof err);
    protobuf_c_message_free_unpacked(m, NULL);
    if (!v)
        die("from message", err);
    buf_clear(out);
    if (jsonval_write(v, out) < 0)
        die("write", "out of memory");
    value_free(v);
}

/* The process's CPU time so far, in nanoseconds. */
static uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void report(const char *name, long ops, uint64_t us, uint64_t cpu, const char *tail)
{
    double secs = us / 1e6;
    printf("%s ops=%ld secs=%.3f ops_per_sec=%.0f cpu_ns_per_op=%.0f %s\n", name, ops, secs,
           secs > 0 ? ops / secs : 0, (double)cpu / ops, tail);
}

int main(int argc, char **argv)
{
    const char *desc = NULL, *type = "pb.Student", *json = NULL;
    int compiled = 0;
    long iterations = 1000000;
    double seconds = 3;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--compiled"))
            compiled = 1;
        else if (next && !strcmp(a, "--descriptors"))
            desc = argv[++i];
        else if (next && !strcmp(a, "--type"))
            type = argv[++i];
        else if (next && !strcmp(a, "--json"))
            json = argv[++i];
        else if (next && !strcmp(a, "--iterations"))
            iterations = atol(argv[++i]);
        else if (next && !strcmp(a, "--seconds"))
            seconds = atof(argv[++i]);
        else
            die(a, "usage: pbjson_bench (--descriptors FILE --type NAME | --compiled) --json TEXT "
                   "[--iterations N] [--seconds S]");
    }
    if (!json || (!compiled && !desc) || iterations < 1 || seconds <= 0)
        die("arguments", "want --json, and --descriptors or --compiled");
    const ProtobufCMessageDescriptor *d = compiled ? &pb__student__descriptor : runtime_type(desc, type);
    size_t len = strlen(json);
    uint64_t limit = (uint64_t)(seconds * 1e6);

    buf bytes, text;
    buf_init(&bytes, 1u << 20);
    buf_init(&text, 1u << 20);
    json_to_bytes(d, json, len, &bytes); /* once, unmeasured: the bytes the second loop reads */
    long ops = 0;
    uint64_t c0 = cpu_ns(), t0 = clock_now_us(), t = t0;
    while (ops < iterations && t - t0 < limit) {
        json_to_bytes(d, json, len, &text);
        if (++ops % CHECK_EVERY == 0)
            t = clock_now_us();
    }
    t = clock_now_us();
    char tail[64];
    snprintf(tail, sizeof tail, "bytes=%zu", buf_size(&bytes));
    report("json_to_bytes", ops, t - t0, cpu_ns() - c0, tail);

    ops = 0;
    c0 = cpu_ns();
    t0 = t = clock_now_us();
    while (ops < iterations && t - t0 < limit) {
        bytes_to_json(d, buf_data(&bytes), buf_size(&bytes), &text);
        if (++ops % CHECK_EVERY == 0)
            t = clock_now_us();
    }
    t = clock_now_us();
    buf_putc(&text, '\0');
    char *out = (char *)buf_data(&text);
    size_t tl = strlen(out) + 8;
    char *line = malloc(tl);
    if (!line)
        die("report", "out of memory");
    snprintf(line, tl, "json=%s", out);
    report("bytes_to_json", ops, t - t0, cpu_ns() - c0, line);
    free(line);
    buf_done(&bytes);
    buf_done(&text);
    return 0;
}
