/* fuzz_json.c -- libFuzzer target: arbitrary bytes into the JSON-RPC server, the JSON value
 * reader, the reply reader and the explainer, checking the invariants each promises. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "services/services.h"
#include "value/value.h"
#include "wire/explain.h"
#include "wire/jsonrpc.h"
#include "wire/jsonscan.h"
#include "wire/jsonval.h"

#define MAX_MESSAGE 512

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "invariant failed at %s:%d: %s\n  ", __FILE__, __LINE__, #cond);       \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

typedef struct served {
    int rc;
    buf out;
    size_t left;
} served;

/* Feeds data in two chunks (split at cut), as a socket might deliver it; the second call
 * resumes the scan the first one left. */
static served serve(const uint8_t *data, size_t size, size_t cut, bool eof)
{
    served s = {0};
    buf in;
    char err[256] = "";
    jsonscan_state scan; /* kept across the two chunks, as a connection keeps it */
    jsonscan_init(&scan);
    buf_init(&in, 0);
    buf_init(&s.out, 0);
    if (cut > 0 && cut < size) {
        buf_append(&in, data, cut);
        s.rc = jsonrpc_serve(&in, &s.out, MAX_MESSAGE, false, &scan, err, sizeof err);
        CHECK(s.rc == 0 || s.rc == -1, "rc %d", s.rc);
        if (s.rc == 0)
            buf_append(&in, data + cut, size - cut);
    } else {
        buf_append(&in, data, size);
    }
    if (s.rc == 0 && buf_size(&in) > 0) {
        err[0] = '\0';
        s.rc = jsonrpc_serve(&in, &s.out, MAX_MESSAGE, eof, &scan, err, sizeof err);
    }
    CHECK(s.rc == 0 || s.rc == -1, "rc %d", s.rc);
    if (s.rc < 0)
        CHECK(err[0] && buf_size(&s.out) > 0, "a failure must say why and reply (err \"%s\")", err);
    s.left = buf_size(&in);
    if (s.rc == 0 && s.left > 0) {
        /* what is left is the start of a message still to come */
        CHECK(!eof, "at end of stream nothing may be left over (%zu bytes)", s.left);
        CHECK(s.left < MAX_MESSAGE, "a kept partial message is under the cap (%zu)", s.left);
        const char *l = (const char *)buf_data(&in);
        if (l[0] == '{' || l[0] == '[') {
            int r = jsonscan(l, s.left, 0, NULL, NULL, NULL, NULL, NULL, 0);
            CHECK(r == 0, "the bytes left are an incomplete message, scan gave %d", r);
        } else {
            /* not JSON: kept only until a line or 8 bytes say what it is */
            CHECK(s.left < 8 && !memchr(l, '\n', s.left), "%zu non-JSON bytes kept", s.left);
        }
    }
    buf_done(&in);
    return s;
}

/* Every reply is one line of JSON. */
static void check_replies(const buf *out)
{
    size_t n = buf_size(out);
    if (n == 0)
        return;
    const char *p = (const char *)buf_data(out);
    CHECK(p[n - 1] == '\n', "replies end with a newline");
    while (n > 0) {
        const char *nl = memchr(p, '\n', n);
        size_t len = (size_t)(nl - p);
        char err[256] = "";
        value *v = jsonval_parse(p, len, err, sizeof err);
        CHECK(v != NULL, "reply is not JSON (%s): %.*s", err, (int)len, p);
        CHECK(v->kind == V_MAP || v->kind == V_LIST, "a reply is an object or a batch array");
        if (v->kind == V_MAP)
            CHECK(value_get(v, "id") != NULL, "a reply carries an id: %.*s", (int)len, p);
        value_free(v);
        n -= len + 1;
        p = nl + 1;
    }
}

static void fuzz_serve(const uint8_t *data, size_t size)
{
    size_t cut = size ? data[0] % (size + 1) : 0;
    served whole = serve(data, size, 0, false);
    served split = serve(data, size, cut, false);
    check_replies(&whole.out);
    /* how the bytes arrive must not change what is answered */
    CHECK(whole.rc == split.rc, "rc %d whole, %d split at %zu", whole.rc, split.rc, cut);
    CHECK(buf_size(&whole.out) == buf_size(&split.out) &&
              (buf_size(&whole.out) == 0 ||
               memcmp(buf_data(&whole.out), buf_data(&split.out), buf_size(&whole.out)) == 0),
          "replies differ when split at %zu:\n%.*s\n---\n%.*s", cut, (int)buf_size(&whole.out),
          (const char *)buf_data(&whole.out), (int)buf_size(&split.out), (const char *)buf_data(&split.out));
    CHECK(whole.left == split.left, "left %zu vs %zu", whole.left, split.left);
    buf_done(&whole.out);
    buf_done(&split.out);

    served fin = serve(data, size, cut, true);
    check_replies(&fin.out);
    buf_done(&fin.out);
}

/* JSON equality where numbers compare by value (1.0 is written "1" and read back as int). */
static bool same_json(const value *a, const value *b)
{
    bool an = a->kind == V_INT || a->kind == V_UINT || a->kind == V_FLOAT;
    bool bn = b->kind == V_INT || b->kind == V_UINT || b->kind == V_FLOAT;
    if (an && bn) {
        long double x = a->kind == V_INT ? a->u.i : a->kind == V_UINT ? a->u.u : a->u.f;
        long double y = b->kind == V_INT ? b->u.i : b->kind == V_UINT ? b->u.u : b->u.f;
        if (a->kind == V_FLOAT && !isfinite(a->u.f))
            return b->kind == V_NULL;
        return x == y;
    }
    if (a->kind == V_FLOAT && !isfinite(a->u.f))
        return b->kind == V_NULL;
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case V_LIST:
        if (a->u.list.len != b->u.list.len)
            return false;
        for (size_t i = 0; i < a->u.list.len; i++)
            if (!same_json(a->u.list.items[i], b->u.list.items[i]))
                return false;
        return true;
    case V_MAP:
        /* written in sorted order: look each key up (repeated keys and keys holding NUL,
         * which cJSON cuts short, cannot be told apart that way) */
        if (a->u.map.len != b->u.map.len)
            return false;
        for (size_t i = 0; i < a->u.map.len; i++) {
            const value *k = a->u.map.items[i].k;
            if (memchr(k->u.s.p, '\0', k->u.s.len))
                return true;
            for (size_t j = 0; j < i; j++)
                if (strcmp(a->u.map.items[j].k->u.s.p, k->u.s.p) == 0)
                    return true;
            const value *bv = value_get(b, k->u.s.p);
            if (!bv || !same_json(a->u.map.items[i].v, bv))
                return false;
        }
        return true;
    default:
        return value_equal(a, b);
    }
}

static void fuzz_value(const uint8_t *data, size_t size)
{
    char err[256] = "";
    value *v = jsonval_parse((const char *)data, size, err, sizeof err);
    size_t start, end;
    int r = jsonscan((const char *)data, size, JSONSCAN_FINAL, &start, &end, NULL, NULL, NULL, 0);
    if (!v) {
        CHECK(err[0], "a parse failure gives a reason");
        return;
    }
    CHECK(r == 1, "jsonval accepted what jsonscan refused");
    buf out;
    buf_init(&out, 0);
    CHECK(jsonval_write(v, &out) == 0, "write failed");
    value *back = jsonval_parse((const char *)buf_data(&out), buf_size(&out), err, sizeof err);
    CHECK(back != NULL, "written JSON does not parse (%s): %.*s", err, (int)buf_size(&out),
          (const char *)buf_data(&out));
    CHECK(same_json(v, back), "round trip changed the value: %.*s", (int)buf_size(&out),
          (const char *)buf_data(&out));
    value *c = value_clone(v);
    CHECK(value_equal(c, v), "clone differs");
    value_free(c);
    value_free(back);
    value_free(v);
    buf_done(&out);
}

static void fuzz_reply(const uint8_t *data, size_t size)
{
    for (int eof = 0; eof < 2; eof++) {
        jsonrpc_reply r;
        char err[256] = "";
        long used = jsonrpc_read_reply((const char *)data, size, eof, &r, err, sizeof err);
        CHECK(used >= -1 && used <= (long)size, "consumed %ld of %zu", used, size);
        if (used > 0) {
            CHECK(r.id != NULL, "a reply has an id (maybe null)");
            CHECK((r.error == NULL) != (r.result == NULL), "either a result or an error");
        } else if (used < 0) {
            CHECK(err[0], "a bad reply says why");
        } else {
            CHECK(!eof, "at end of stream a reply is complete or bad");
        }
        jsonrpc_reply_done(&r);
    }
}

static void fuzz_explain(const uint8_t *data, size_t size)
{
    for (int response = 0; response < 2; response++) {
        explain e;
        explain_init(&e);
        int r = jsonrpc_explain((const char *)data, size, response, &e);
        CHECK(r == 0 || r == -1, "explain gave %d", r);
        size_t cursor = 0;
        for (size_t i = 0; i < e.len; i++) {
            const span *s = &e.spans[i];
            CHECK(s->off <= size && s->len <= size - s->off, "span %zu [%zu+%zu] beyond %zu bytes", i,
                  s->off, s->len, size);
            CHECK(s->meaning && s->layer, "span %zu lacks text", i);
            const span *nx = i + 1 < e.len ? &e.spans[i + 1] : NULL;
            bool container = nx && nx->depth > s->depth && nx->off >= s->off &&
                             nx->off + nx->len <= s->off + s->len;
            if (!container) {
                CHECK(s->off == cursor, "leaf span %zu \"%s\" at %zu, want %zu", i, s->meaning, s->off, cursor);
                cursor = s->off + s->len;
            }
        }
        CHECK(cursor == size, "spans stop at %zu of %zu bytes", cursor, size);
        size_t tot[4];
        explain_totals(&e, tot);
        CHECK(tot[0] + tot[1] + tot[2] + tot[3] == size, "totals cover every byte");
        if (r < 0)
            CHECK(e.len > 0 && e.spans[e.len - 1].cls == SPAN_ERROR, "a failure ends in an error span");

        buf out;
        buf_init(&out, 1 << 22);
        explain_style st = {size ? 40 + data[size - 1] % 100 : 0, size && (data[0] & 1)};
        CHECK(explain_render(&e, data, size, &st, &out) == 0, "render failed");
        CHECK(size == 0 || buf_size(&out) > 0, "render drew nothing");
        buf_done(&out);
        explain_done(&e);
    }
}

/* The server answers from the method catalog: put the sample services in it once. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    return services_register(NULL, 0) < 0 ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_serve(data, size);
    fuzz_value(data, size);
    fuzz_reply(data, size);
    fuzz_explain(data, size);
    return 0;
}
