/* test_registry.c -- unit tests for the registry: request bodies and response parsers (etcd
 * v3 JSON gateway, Consul agent API) fed with the documented bodies, the Consul backend
 * against a scripted fake agent, and the keeper and watch stopping promptly. */
#include <criterion/criterion.h>
#include <cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/b64.h"
#include "registry/registry.h"

/* ---- helpers ---- */

static char *text_of(buf *b)
{
    buf_putc(b, 0);
    return (char *)buf_data(b);
}

static char *unb64(const char *s)
{
    static char out[4096];
    cr_assert_geq(b64_decode_str(s, out, sizeof out), 0, "bad base64 %s", s);
    return out;
}

static cJSON *parse(buf *b)
{
    cJSON *j = cJSON_Parse(text_of(b));
    cr_assert_not_null(j, "not JSON: %s", (char *)buf_data(b));
    return j;
}

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, k);
    cr_assert(cJSON_IsString(j), "member %s is not a string", k);
    return j->valuestring;
}

/* ======================= base64 ======================= */

Test(base64, round_trips_every_padding)
{
    const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *want[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        buf b;
        buf_init(&b, 0);
        cr_assert_eq(b64_encode(in[i], strlen(in[i]), &b), 0);
        cr_assert_str_eq(text_of(&b), want[i]);
        cr_assert_str_eq(unb64(want[i]), in[i]);
        buf_done(&b);
    }
    char small[3];
    cr_assert_eq(b64_decode_str("Zm9v", small, sizeof small), -1, "no room is an error");
    cr_assert_eq(b64_decode_str("Zm*v", small, sizeof small), -1, "bad character");
}

/* ======================= etcd ======================= */

Test(etcd, value_is_grpc_naming_layout)
{
    buf b;
    buf_init(&b, 0);
    cr_assert_eq(registry_etcd_value("127.0.0.1:8080", "json", &b), 0);
    cr_assert_str_eq(text_of(&b), "{\"Op\":0,\"Addr\":\"127.0.0.1:8080\",\"Metadata\":{\"protocol\":\"json\"}}");
    buf_done(&b);
}

Test(etcd, put_body_has_base64_key_value_and_string_lease)
{
    buf b;
    buf_init(&b, 0);
    cr_assert_eq(registry_etcd_put_body("arith", "127.0.0.1:8081", "gob", 7587869151340417829LL, &b), 0);
    cJSON *j = parse(&b);
    cr_assert_str_eq(unb64(str(j, "key")), "arith/127.0.0.1:8081");
    cr_assert_str_eq(unb64(str(j, "value")), "{\"Op\":0,\"Addr\":\"127.0.0.1:8081\",\"Metadata\":{\"protocol\":\"gob\"}}");
    cr_assert_str_eq(str(j, "lease"), "7587869151340417829", "int64 stays exact as a string");
    cJSON_Delete(j);
    buf_done(&b);
}

Test(etcd, range_and_watch_bodies_cover_the_prefix)
{
    buf b;
    buf_init(&b, 0);
    cr_assert_eq(registry_etcd_range_body("arith", 0, false, &b), 0);
    cJSON *j = parse(&b);
    cr_assert_str_eq(unb64(str(j, "key")), "arith/");
    cr_assert_str_eq(unb64(str(j, "range_end")), "arith0");
    cr_assert_null(cJSON_GetObjectItem(j, "start_revision"));
    cJSON_Delete(j);

    buf_clear(&b);
    cr_assert_eq(registry_etcd_range_body("arith", 42, true, &b), 0);
    j = parse(&b);
    const cJSON *c = cJSON_GetObjectItem(j, "create_request");
    cr_assert_not_null(c);
    cr_assert_str_eq(unb64(str(c, "key")), "arith/");
    cr_assert_str_eq(str(c, "start_revision"), "42");
    cJSON_Delete(j);

    buf_clear(&b);
    cr_assert_eq(registry_etcd_range_body(NULL, 0, false, &b), 0);
    cr_assert_str_eq(text_of(&b), "{\"key\":\"AA==\",\"range_end\":\"AA==\",\"limit\":\"4097\"}",
                     "every key: \\0 to \\0, one more than a listing holds");
    buf_done(&b);
}

Test(etcd, grant)
{
    const char *r = "{\"header\":{\"cluster_id\":\"15118495548433857066\",\"member_id\":\"13668033151171901709\","
                    "\"revision\":\"1\",\"raft_term\":\"2\"},\"ID\":\"7587869151340417829\",\"TTL\":\"10\"}";
    int64_t lease = 0, ttl = 0;
    char err[256];
    cr_assert_eq(registry_etcd_parse_grant(r, strlen(r), &lease, &ttl, err, sizeof err), 0, "%s", err);
    cr_assert_eq(lease, 7587869151340417829LL);
    cr_assert_eq(ttl, 10);
}

Test(etcd, error_responses_carry_etcds_message)
{
    const char *r = "{\"error\":\"etcdserver: requested lease not found\",\"message\":\"etcdserver: requested lease not found\",\"code\":5}";
    int64_t lease, ttl;
    char err[256];
    cr_assert_eq(registry_etcd_parse_grant(r, strlen(r), &lease, &ttl, err, sizeof err), -1);
    cr_assert_str_eq(err, "etcd: etcdserver: requested lease not found");
    registry_instance *in;
    size_t n;
    cr_assert_eq(registry_etcd_parse_range(r, strlen(r), &in, &n, NULL, NULL, err, sizeof err), -1);
    cr_assert_eq(registry_etcd_parse_keepalive(r, strlen(r), &ttl, err, sizeof err), -1);
    cr_assert_str_eq(err, "etcd: etcdserver: requested lease not found");
    const char *garbage = "<html>502 Bad Gateway</html>";
    cr_assert_eq(registry_etcd_parse_grant(garbage, strlen(garbage), &lease, &ttl, err, sizeof err), -1);
    cr_assert(strstr(err, "not JSON"), "%s", err);
    const char *nottl = "{\"header\":{}}";
    cr_assert_eq(registry_etcd_parse_grant(nottl, strlen(nottl), &lease, &ttl, err, sizeof err), -1);
    cr_assert(strstr(err, "without ID"), "%s", err);
}

Test(etcd, keepalive_with_and_without_ttl)
{
    const char *alive = "{\"result\":{\"header\":{\"revision\":\"2\"},\"ID\":\"4111120142118488071\",\"TTL\":\"5\"}}\n";
    const char *lost = "{\"result\":{\"header\":{\"revision\":\"2\"},\"ID\":\"123\"}}\n";
    int64_t ttl = -7;
    char err[256];
    cr_assert_eq(registry_etcd_parse_keepalive(alive, strlen(alive), &ttl, err, sizeof err), 1);
    cr_assert_eq(ttl, 5);
    cr_assert_eq(registry_etcd_parse_keepalive(lost, strlen(lost), &ttl, err, sizeof err), 0,
                 "a reply without TTL means the lease is gone");
    cr_assert_eq(ttl, 0);
    const char *wrapped = "{\"error\":{\"grpc_code\":14,\"http_code\":503,\"message\":\"etcdserver: no leader\"}}";
    cr_assert_eq(registry_etcd_parse_keepalive(wrapped, strlen(wrapped), &ttl, err, sizeof err), -1);
    cr_assert_str_eq(err, "etcd: etcdserver: no leader");
}

/* kv/range on "arith/": two instances in our layout, one foreign value. */
#define KV(key, val, lease)                                                                        \
    "{\"key\":\"" key "\",\"create_revision\":\"2\",\"mod_revision\":\"2\",\"version\":\"1\","   \
    "\"value\":\"" val "\",\"lease\":\"" lease "\"}"

static char *b64s(const char *s)
{
    buf b;
    buf_init(&b, 0);
    b64_encode(s, strlen(s), &b);
    buf_putc(&b, 0);
    char *r = buf_take(&b);
    return r;
}

Test(etcd, range_with_kvs)
{
    char *k1 = b64s("arith/127.0.0.1:8080"), *v1 = b64s("{\"Op\":0,\"Addr\":\"127.0.0.1:8080\",\"Metadata\":{\"protocol\":\"json\"}}");
    char *k2 = b64s("arith/127.0.0.1:8081"), *v2 = b64s("{\"Op\":0,\"Addr\":\"127.0.0.1:8081\",\"Metadata\":{\"protocol\":\"gob\"}}");
    char *k3 = b64s("arith/10.0.0.1:9"), *v3 = b64s("not json");
    char r[4096];
    snprintf(r, sizeof r,
             "{\"header\":{\"cluster_id\":\"1\",\"member_id\":\"2\",\"revision\":\"17\",\"raft_term\":\"2\"},\"kvs\":["
             "{\"key\":\"%s\",\"create_revision\":\"2\",\"mod_revision\":\"2\",\"version\":\"1\",\"value\":\"%s\",\"lease\":\"4111120142118488071\"},"
             "{\"key\":\"%s\",\"create_revision\":\"3\",\"mod_revision\":\"3\",\"version\":\"1\",\"value\":\"%s\",\"lease\":\"9223372036854775807\"},"
             "{\"key\":\"%s\",\"create_revision\":\"4\",\"mod_revision\":\"4\",\"version\":\"1\",\"value\":\"%s\"}],\"count\":\"3\"}",
             k1, v1, k2, v2, k3, v3);
    registry_instance *in;
    size_t n;
    int64_t rev;
    char err[256];
    cr_assert_eq(registry_etcd_parse_range(r, strlen(r), &in, &n, &rev, NULL, err, sizeof err), 0, "%s", err);
    cr_assert_eq(n, 3);
    cr_assert_eq(rev, 17);
    cr_assert_str_eq(in[0].service, "arith");
    cr_assert_str_eq(in[0].addr, "127.0.0.1:8080");
    cr_assert_str_eq(in[0].protocol, "json");
    cr_assert_eq(in[0].lease, 4111120142118488071LL);
    cr_assert_str_eq(in[1].protocol, "gob");
    cr_assert_eq(in[1].lease, INT64_MAX);
    cr_assert_str_eq(in[2].addr, "10.0.0.1:9", "a foreign value: the address comes from the key");
    cr_assert_str_eq(in[2].protocol, "");
    cr_assert_eq(in[2].lease, 0);
    free(in);
    const char *empty = "{\"header\":{\"revision\":\"5\"}}";
    cr_assert_eq(registry_etcd_parse_range(empty, strlen(empty), &in, &n, &rev, NULL, err, sizeof err), 0);
    cr_assert_eq(n, 0);
    cr_assert_eq(rev, 5);
    free(k1), free(v1), free(k2), free(v2), free(k3), free(v3);
}

/* A range reply of nkv keys svc/127.0.0.1:PORT, with etcd's count when count >= 0. */
static char *range_reply(int nkv, long count)
{
    buf b;
    buf_init(&b, 0);
    buf_printf(&b, "{\"header\":{\"revision\":\"9\"},\"kvs\":[");
    for (int i = 0; i < nkv; i++) {
        char key[64];
        snprintf(key, sizeof key, "svc/127.0.0.1:%d", 10000 + i);
        char *k = b64s(key);
        buf_printf(&b, "%s{\"key\":\"%s\",\"mod_revision\":\"2\",\"lease\":\"7\"}", i ? "," : "", k);
        free(k);
    }
    buf_printf(&b, "]");
    if (count >= 0)
        buf_printf(&b, ",\"count\":\"%ld\",\"more\":true", count);
    buf_printf(&b, "}");
    return buf_take(&b);
}

Test(etcd, a_range_past_the_cap_says_how_many_it_left_out)
{
    struct { int nkv; long count; size_t n, left; } cases[] = {
        {REGISTRY_MAX_INSTANCES + 1, -1, REGISTRY_MAX_INSTANCES, 1},   /* no count: the reply's own */
        {REGISTRY_MAX_INSTANCES + 1, 20000, REGISTRY_MAX_INSTANCES, 20000 - REGISTRY_MAX_INSTANCES},
        {REGISTRY_MAX_INSTANCES, REGISTRY_MAX_INSTANCES, REGISTRY_MAX_INSTANCES, 0},
        {3, 3, 3, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char *r = range_reply(cases[c].nkv, cases[c].count), err[256];
        registry_instance *in;
        size_t n, left = 99;
        cr_assert_eq(registry_etcd_parse_range(r, strlen(r), &in, &n, NULL, &left, err, sizeof err), 0, "%s", err);
        cr_assert_eq(n, cases[c].n, "case %zu: %zu listed", c, n);
        cr_assert_eq(left, cases[c].left, "case %zu: %zu left out", c, left);
        free(in);
        free(r);
    }
}

/* ---- the watch stream ---- */

typedef struct seen {
    char log[2048];
    int n;
} seen;

static void on_event(void *ctx, const registry_event *ev)
{
    seen *s = ctx;
    size_t l = strlen(s->log);
    snprintf(s->log + l, sizeof s->log - l, "%s %s %s %s %lld;", ev->type == REGISTRY_EV_PUT ? "PUT" : "DELETE",
             ev->inst.service, ev->inst.addr, ev->inst.protocol, (long long)ev->revision);
    s->n++;
}

static void count_event(void *ctx, const registry_event *ev)
{
    (void)ev;
    (*(int *)ctx)++;
}

static char *watch_stream(void)
{
    char *k = b64s("arith/127.0.0.1:8080"), *v = b64s("{\"Op\":0,\"Addr\":\"127.0.0.1:8080\",\"Metadata\":{\"protocol\":\"json\"}}");
    char *k2 = b64s("arith/127.0.0.1:8081");
    char *s = malloc(4096);
    snprintf(s, 4096,
             "{\"result\":{\"header\":{\"cluster_id\":\"1\",\"member_id\":\"2\",\"revision\":\"5\",\"raft_term\":\"2\"},\"created\":true}}\n"
             "{\"result\":{\"header\":{\"revision\":\"6\"},\"events\":[{\"kv\":{\"key\":\"%s\",\"create_revision\":\"6\","
             "\"mod_revision\":\"6\",\"version\":\"1\",\"value\":\"%s\",\"lease\":\"4111120142118488071\"}}]}}\n"
             "{\"result\":{\"header\":{\"revision\":\"8\"},\"events\":[{\"type\":\"DELETE\",\"kv\":{\"key\":\"%s\",\"mod_revision\":\"7\"}},"
             "{\"type\":\"DELETE\",\"kv\":{\"key\":\"%s\",\"mod_revision\":\"8\"}}]}}\n",
             k, v, k, k2);
    free(k), free(v), free(k2);
    return s;
}

#define WANT_EVENTS "PUT arith 127.0.0.1:8080 json 6;DELETE arith 127.0.0.1:8080  7;DELETE arith 127.0.0.1:8081  8;"

Test(etcd_watch, whole_stream)
{
    char *s = watch_stream();
    registry_etcd_stream st;
    registry_etcd_stream_init(&st);
    seen got = {0};
    char err[256];
    cr_assert_eq(registry_etcd_stream_feed(&st, s, strlen(s), on_event, &got, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(got.log, WANT_EVENTS);
    cr_assert(st.created);
    cr_assert_eq(st.revision, 8);
    registry_etcd_stream_done(&st);
    free(s);
}

Test(etcd_watch, split_at_every_byte)
{
    char *s = watch_stream();
    size_t len = strlen(s);
    for (size_t cut = 0; cut <= len; cut++) {
        registry_etcd_stream st;
        registry_etcd_stream_init(&st);
        seen got = {0};
        char err[256];
        cr_assert_eq(registry_etcd_stream_feed(&st, s, cut, on_event, &got, err, sizeof err), 0, "cut %zu: %s", cut, err);
        cr_assert_eq(registry_etcd_stream_feed(&st, s + cut, len - cut, on_event, &got, err, sizeof err), 0, "cut %zu: %s", cut, err);
        cr_assert_str_eq(got.log, WANT_EVENTS, "cut at %zu", cut);
        registry_etcd_stream_done(&st);
    }
    /* and one byte at a time */
    registry_etcd_stream st;
    registry_etcd_stream_init(&st);
    seen got = {0};
    char err[256];
    for (size_t i = 0; i < len; i++)
        cr_assert_eq(registry_etcd_stream_feed(&st, s + i, 1, on_event, &got, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(got.log, WANT_EVENTS);
    registry_etcd_stream_done(&st);
    free(s);
}

Test(etcd_watch, errors)
{
    registry_etcd_stream st;
    char err[256];
    registry_etcd_stream_init(&st);
    const char *bad = "{\"result\":{\"header\":{}},]";
    cr_assert_eq(registry_etcd_stream_feed(&st, bad, strlen(bad), on_event, NULL, err, sizeof err), -1);
    cr_assert(strstr(err, "malformed watch stream"), "%s", err);
    registry_etcd_stream_done(&st);

    registry_etcd_stream_init(&st);
    const char *e = "{\"error\":{\"grpc_code\":16,\"http_code\":401,\"message\":\"etcdserver: invalid auth token\",\"http_status\":\"Unauthorized\"}}";
    cr_assert_eq(registry_etcd_stream_feed(&st, e, strlen(e), on_event, NULL, err, sizeof err), -1);
    cr_assert_str_eq(err, "etcd: etcdserver: invalid auth token");
    registry_etcd_stream_done(&st);

    registry_etcd_stream_init(&st);
    const char *c = "{\"result\":{\"header\":{\"revision\":\"90\"},\"canceled\":true,\"compact_revision\":\"50\"}}";
    cr_assert_eq(registry_etcd_stream_feed(&st, c, strlen(c), on_event, NULL, err, sizeof err), -1);
    cr_assert(st.canceled);
    cr_assert_eq(st.compacted, 50);
    registry_etcd_stream_done(&st);

    /* a message that never ends stops at the cap */
    registry_etcd_stream_init(&st);
    char *big = malloc(1 << 20);
    memset(big, ' ', 1 << 20);
    memcpy(big, "{\"result\":\"", 11);
    int rc = 0;
    for (int i = 0; i < 5 && rc == 0; i++)
        rc = registry_etcd_stream_feed(&st, big + (i ? 11 : 0), (1 << 20) - (i ? 11 : 0), on_event, NULL, err, sizeof err);
    cr_assert_eq(rc, -1);
    cr_assert(strstr(err, "larger than"), "%s", err);
    free(big);
    registry_etcd_stream_done(&st);
}

Test(etcd, instance_from_key_and_value)
{
    registry_instance in;
    cr_assert_eq(registry_etcd_instance("a/b/127.0.0.1:1", NULL, &in), 0);
    cr_assert_str_eq(in.service, "a/b");
    cr_assert_str_eq(in.addr, "127.0.0.1:1");
    cr_assert_eq(registry_etcd_instance("noslash", NULL, &in), -1);
}

/* ======================= Consul ======================= */

static cJSON *consul_body(registry_check check, const char *protocol, int ttl)
{
    static buf b;
    buf_done(&b);
    buf_init(&b, 0);
    cr_assert_eq(registry_consul_register_body("arith-127.0.0.1-8080", "arith", "127.0.0.1:8080", protocol, check, ttl, &b), 0);
    cJSON *j = parse(&b);
    cr_assert_str_eq(str(j, "ID"), "arith-127.0.0.1-8080");
    cr_assert_str_eq(str(j, "Name"), "arith");
    cr_assert_str_eq(str(j, "Address"), "127.0.0.1");
    cr_assert_eq(cJSON_GetObjectItem(j, "Port")->valueint, 8080);
    cr_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "Tags"), 0)->valuestring, protocol);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "Tags")), 1);
    cr_assert_str_eq(str(cJSON_GetObjectItem(j, "Meta"), "protocol"), protocol);
    return j;
}

Test(consul, register_tcp_check_for_gob_and_json)
{
    cJSON *j = consul_body(CHECK_DEFAULT, "json", 9);
    const cJSON *c = cJSON_GetObjectItem(j, "Check");
    cr_assert_str_eq(str(c, "TCP"), "127.0.0.1:8080");
    cr_assert_str_eq(str(c, "Interval"), "3s");
    cr_assert_str_eq(str(c, "Timeout"), "2s");
    cr_assert_str_eq(str(c, "DeregisterCriticalServiceAfter"), "60s", "Consul's minimum is one minute");
    cr_assert_null(cJSON_GetObjectItem(c, "GRPC"));
    cr_assert_null(cJSON_GetObjectItem(c, "TTL"));
    cJSON_Delete(j);
    j = consul_body(CHECK_DEFAULT, "gob", 60);
    c = cJSON_GetObjectItem(j, "Check");
    cr_assert_str_eq(str(c, "TCP"), "127.0.0.1:8080");
    cr_assert_str_eq(str(c, "Interval"), "20s");
    cr_assert_str_eq(str(c, "DeregisterCriticalServiceAfter"), "180s");
    cJSON_Delete(j);
}

Test(consul, register_grpc_check)
{
    cJSON *j = consul_body(CHECK_DEFAULT, "grpc", 3);
    const cJSON *c = cJSON_GetObjectItem(j, "Check");
    cr_assert_str_eq(str(c, "GRPC"), "127.0.0.1:8080");
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(c, "GRPCUseTLS")));
    cr_assert_str_eq(str(c, "Interval"), "1s");
    cr_assert_str_eq(str(c, "Timeout"), "1s", "the timeout is no longer than the interval");
    cr_assert_null(cJSON_GetObjectItem(c, "TCP"));
    cJSON_Delete(j);
}

Test(consul, register_ttl_check)
{
    cJSON *j = consul_body(CHECK_TTL, "json", 15);
    const cJSON *c = cJSON_GetObjectItem(j, "Check");
    cr_assert_str_eq(str(c, "TTL"), "15s");
    cr_assert_null(cJSON_GetObjectItem(c, "Interval"), "TTL checks have no interval");
    cr_assert_null(cJSON_GetObjectItem(c, "TCP"));
    cr_assert_str_eq(str(c, "DeregisterCriticalServiceAfter"), "60s");
    cJSON_Delete(j);
}

Test(consul, register_rejects_an_address_without_port)
{
    buf b;
    buf_init(&b, 0);
    cr_assert_eq(registry_consul_register_body("x", "x", "127.0.0.1", "json", CHECK_TCP, 5, &b), -1);
    buf_done(&b);
}

/* The shape of Consul's documented /v1/health/service/:service reply. */
static const char HEALTH[] =
    "[{\"Node\":{\"ID\":\"40e4a748-2192-161a-0510-9bf59fe950b5\",\"Node\":\"foobar\",\"Address\":\"10.1.10.12\","
    "\"Datacenter\":\"dc1\",\"TaggedAddresses\":{\"lan\":\"10.1.10.12\",\"wan\":\"10.1.10.12\"},"
    "\"Meta\":{\"instance_type\":\"t2.medium\"}},"
    "\"Service\":{\"ID\":\"arith-127.0.0.1-8080\",\"Service\":\"arith\",\"Tags\":[\"json\"],\"Address\":\"127.0.0.1\","
    "\"Meta\":{\"protocol\":\"json\"},\"Port\":8080,\"Weights\":{\"Passing\":10,\"Warning\":1},\"Namespace\":\"default\"},"
    "\"Checks\":[{\"Node\":\"foobar\",\"CheckID\":\"service:arith-127.0.0.1-8080\",\"Name\":\"arith TCP\","
    "\"Status\":\"passing\",\"Notes\":\"\",\"Output\":\"TCP connect 127.0.0.1:8080: Success\","
    "\"ServiceID\":\"arith-127.0.0.1-8080\",\"ServiceName\":\"arith\",\"ServiceTags\":[\"json\"]},"
    "{\"Node\":\"foobar\",\"CheckID\":\"serfHealth\",\"Name\":\"Serf Health Status\",\"Status\":\"passing\","
    "\"Notes\":\"\",\"Output\":\"\",\"ServiceID\":\"\",\"ServiceName\":\"\",\"ServiceTags\":[]}]},"
    "{\"Node\":{\"Node\":\"foobar\",\"Address\":\"10.1.10.12\"},"
    "\"Service\":{\"ID\":\"redis\",\"Service\":\"arith\",\"Tags\":[\"gob\",\"v1\"],\"Address\":\"\",\"Meta\":null,\"Port\":8000},"
    "\"Checks\":[{\"CheckID\":\"service:redis\",\"Status\":\"critical\"},{\"CheckID\":\"serfHealth\",\"Status\":\"passing\"}]}]";

Test(consul, health_service_response)
{
    registry_instance *in;
    size_t n;
    char err[256];
    cr_assert_eq(registry_consul_parse_health(HEALTH, strlen(HEALTH), &in, &n, NULL, err, sizeof err), 0, "%s", err);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(in[0].service, "arith");
    cr_assert_str_eq(in[0].addr, "127.0.0.1:8080");
    cr_assert_str_eq(in[0].protocol, "json");
    cr_assert_str_eq(in[0].status, "passing");
    cr_assert_str_eq(in[1].addr, "10.1.10.12:8000", "an empty Service.Address means the node's");
    cr_assert_str_eq(in[1].protocol, "gob", "the first tag when Meta says nothing");
    cr_assert_str_eq(in[1].status, "critical", "the worst check wins");
    free(in);
    cr_assert_eq(registry_consul_parse_health("[]", 2, &in, &n, NULL, err, sizeof err), 0);
    cr_assert_eq(n, 0);
}

/* Two entries as agent 1.8.7 sends them: serfHealth and the service's own gRPC health
 * check; the second server was killed, so its check is critical with Consul's reason. */
static const char HEALTH_CHECKS[] =
    "[{\"Node\":{\"Node\":\"vm\",\"Address\":\"127.0.0.1\"},\"Service\":{\"ID\":\"arith-127.0.0.1-37583\","
    "\"Service\":\"arith\",\"Tags\":[\"grpc\"],\"Address\":\"127.0.0.1\",\"Meta\":{\"protocol\":\"grpc\"},\"Port\":37583},"
    "\"Checks\":[{\"Node\":\"vm\",\"CheckID\":\"serfHealth\",\"Name\":\"Serf Health Status\",\"Status\":\"passing\","
    "\"Output\":\"Agent alive and reachable\",\"ServiceID\":\"\",\"Type\":\"\",\"Definition\":{}},"
    "{\"Node\":\"vm\",\"CheckID\":\"service:arith-127.0.0.1-37583\",\"Name\":\"arith gRPC health\",\"Status\":\"passing\","
    "\"Output\":\"gRPC check 127.0.0.1:37583: success\",\"ServiceID\":\"arith-127.0.0.1-37583\",\"Type\":\"grpc\","
    "\"Definition\":{}}]},"
    "{\"Node\":{\"Node\":\"vm\",\"Address\":\"127.0.0.1\"},\"Service\":{\"ID\":\"arith-127.0.0.1-37584\","
    "\"Service\":\"arith\",\"Tags\":[\"json\"],\"Address\":\"127.0.0.1\",\"Port\":37584},"
    "\"Checks\":[{\"CheckID\":\"service:arith-127.0.0.1-37584\",\"Status\":\"critical\",\"Type\":\"tcp\","
    "\"ServiceID\":\"arith-127.0.0.1-37584\",\"Output\":\"dial tcp 127.0.0.1:37584: connect: connection refused\"},"
    "{\"CheckID\":\"serfHealth\",\"Status\":\"passing\",\"ServiceID\":\"\",\"Type\":\"\",\"Output\":\"Agent alive\"}]}]";

Test(consul, health_reports_the_check_kind_status_and_output)
{
    registry_instance *in;
    size_t n;
    char err[256];
    cr_assert_eq(registry_consul_parse_health(HEALTH_CHECKS, strlen(HEALTH_CHECKS), &in, &n, NULL, err, sizeof err), 0,
                 "%s", err);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(in[0].status, "passing");
    cr_assert_str_eq(in[0].check, "grpc", "the kind of the service's own check, not serfHealth's");
    cr_assert_str_eq(in[0].output, "gRPC check 127.0.0.1:37583: success", "the service's own among equals");
    cr_assert(registry_instance_usable(&in[0]));
    cr_assert_str_eq(in[1].status, "critical");
    cr_assert_str_eq(in[1].check, "tcp");
    cr_assert_str_eq(in[1].output, "dial tcp 127.0.0.1:37584: connect: connection refused", "the failing check's");
    cr_assert_not(registry_instance_usable(&in[1]), "a critical instance gets no calls");
    free(in);
    cr_assert_eq(registry_consul_parse_health(HEALTH, strlen(HEALTH), &in, &n, NULL, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(in[0].check, "", "no Type: no kind");
    cr_assert_str_eq(in[0].output, "TCP connect 127.0.0.1:8080: Success");
    cr_assert_str_eq(in[1].output, "", "no Output");
    free(in);
    registry_instance etcd = {.addr = "127.0.0.1:1"};
    cr_assert(registry_instance_usable(&etcd), "no check status (etcd): usable");
    registry_instance warn = {.status = "warning"};
    cr_assert_not(registry_instance_usable(&warn), "warning: not what ?passing keeps");
}

Test(consul, health_past_the_cap_says_how_many_it_left_out)
{
    buf b;
    buf_init(&b, 0);
    buf_printf(&b, "[");
    for (int i = 0; i < REGISTRY_MAX_INSTANCES + 2; i++)
        buf_printf(&b, "%s{\"Service\":{\"Service\":\"s\",\"Address\":\"127.0.0.1\",\"Port\":%d},\"Checks\":[]}",
                   i ? "," : "", 10000 + i);
    buf_printf(&b, "]");
    char *r = text_of(&b), err[256];
    registry_instance *in;
    size_t n, left = 99;
    cr_assert_eq(registry_consul_parse_health(r, strlen(r), &in, &n, &left, err, sizeof err), 0, "%s", err);
    cr_assert_eq(n, REGISTRY_MAX_INSTANCES);
    cr_assert_eq(left, 2);
    free(in);
    cr_assert_eq(registry_consul_parse_health(HEALTH, strlen(HEALTH), &in, &n, &left, err, sizeof err), 0);
    cr_assert_eq(left, 0);
    free(in);
    buf_done(&b);
}

/* A reply is read an entry at a time as it comes (pieces of 16 KiB): white space anywhere
 * between values, a reply cut short or with something after its list is not believed. */
Test(consul, health_read_in_pieces)
{
    buf b;
    buf_init(&b, 0);
    buf_printf(&b, " [\n");
    for (int i = 0; i < 300; i++) /* about 30 KiB: entries cross the pieces' edges */
        buf_printf(&b, "%s {\"Service\": {\"Service\":\"s\",\"Address\":\"127.0.0.1\",\"Port\":%d,"
                   "\"Meta\":{\"protocol\":\"grpc\"}},\n  \"Checks\":[] }\n", i ? "," : "", 10000 + i);
    buf_printf(&b, "]\n");
    char *r = text_of(&b), err[256] = "";
    size_t len = strlen(r), n;
    registry_instance *in;
    cr_assert_eq(registry_consul_parse_health(r, len, &in, &n, NULL, err, sizeof err), 0, "%s", err);
    cr_assert_eq(n, 300);
    cr_assert_str_eq(in[299].addr, "127.0.0.1:10299");
    cr_assert_str_eq(in[150].protocol, "grpc");
    free(in);
    cr_assert_eq(registry_consul_parse_health(r, len / 2, &in, &n, NULL, err, sizeof err), -1, "cut short");
    cr_assert(strstr(err, "not JSON"), "%s", err);
    cr_assert_null(in);
    cr_assert_eq(registry_consul_parse_health("[ ]", 3, &in, &n, NULL, err, sizeof err), 0, "%s", err);
    cr_assert_eq(n, 0);
    static const char *bad[] = {"[] x", "[,]", "[{\"Service\":{}},]", "[", "[{\"Service\" 1}]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(registry_consul_parse_health(bad[i], strlen(bad[i]), &in, &n, NULL, err, sizeof err), -1,
                     "%s", bad[i]);
    buf_done(&b);
}

Test(consul, error_responses)
{
    registry_instance *in;
    size_t n;
    char err[256];
    const char *denied = "Permission denied: token with AccessorID '00000000-0000-0000-0000-000000000002' lacks permission";
    cr_assert_eq(registry_consul_parse_health(denied, strlen(denied), &in, &n, NULL, err, sizeof err), -1);
    cr_assert(strstr(err, "not JSON") && strstr(err, "Permission denied"), "%s", err);
    cr_assert_eq(registry_consul_parse_health("{}", 2, &in, &n, NULL, err, sizeof err), -1);
    cr_assert(strstr(err, "not a list"), "%s", err);
    buf b;
    buf_init(&b, 0);
    cr_assert_eq(registry_consul_parse_services("[]", 2, &b, err, sizeof err), -1);
    buf_done(&b);
}

/* Replies of the wrong shape are errors, never "no instances". */
Test(consul, malformed_health_replies_are_errors)
{
    static const char *bad[] = {
        "[{\"Service\":5}]",
        "[5]",
        "[{\"Node\":{\"Address\":\"10.0.0.1\"}}]",
        "[{\"Service\":{\"Service\":\"arith\",\"Port\":8080}}]",
        "[{\"Service\":{\"Service\":\"arith\",\"Address\":\"127.0.0.1\"}}]",
        "[{\"Service\":{\"Service\":\"arith\",\"Address\":\"127.0.0.1\",\"Port\":\"x\"}}]",
        "[{\"Service\":{\"Service\":\"arith\",\"Address\":\"127.0.0.1\",\"Port\":70000}}]",
        "[{\"Service\":{\"Service\":7,\"Address\":\"127.0.0.1\",\"Port\":80}}]",
        "[{\"Service\":{\"Service\":\"arith\",\"Address\":\"127.0.0.1\",\"Port\":80},\"Checks\":{}}]",
        "[{\"Service\":{\"Address\":\"127.0.0.1\",\"Port\":80}},{\"Service\":[]}]",
        "{\"x\":1}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        registry_instance *in = (registry_instance *)1;
        size_t n = 99;
        char err[256] = "";
        cr_assert_eq(registry_consul_parse_health(bad[i], strlen(bad[i]), &in, &n, NULL, err, sizeof err), -1,
                     "%s was read as %zu instances", bad[i], n);
        cr_assert(strncmp(err, "consul: health reply", 20) == 0, "%s: %s", bad[i], err);
        cr_assert_null(in);
        cr_assert_eq(n, 0);
    }
}

Test(consul, catalog_services)
{
    const char *r = "{\"consul\":[],\"redis\":[],\"postgresql\":[\"primary\",\"secondary\"]}";
    buf b;
    buf_init(&b, 0);
    char err[256];
    cr_assert_eq(registry_consul_parse_services(r, strlen(r), &b, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(text_of(&b), "consul\nredis\npostgresql\n");
    buf_done(&b);
}

Test(etcd, malformed_range_replies_are_errors)
{
    char *k = b64s("arith/127.0.0.1:8080");
    char ok1[512], bad1[512], bad2[512];
    snprintf(ok1, sizeof ok1, "{\"header\":{\"revision\":\"5\"},\"kvs\":[{\"key\":\"%s\",\"lease\":\"7\"}]}", k);
    snprintf(bad1, sizeof bad1, "{\"header\":{\"revision\":\"5\"},\"kvs\":[{\"key\":\"%s\"},{\"key\":5}]}", k);
    snprintf(bad2, sizeof bad2, "{\"header\":{\"revision\":\"5\"},\"kvs\":[{\"key\":\"%s\",\"lease\":[]}]}", k);
    const char *bad[] = {bad1, bad2, "{\"header\":{\"revision\":\"5\"},\"kvs\":{\"x\":1}}",
                         "{\"header\":{\"revision\":\"5\"},\"kvs\":[5]}",
                         "{\"header\":{\"revision\":\"5\"},\"kvs\":[{\"key\":\"!!!\"}]}",
                         "{\"kvs\":[]}", "{\"x\":1}", "[]"};
    registry_instance *in;
    size_t n;
    int64_t rev;
    char err[256];
    cr_assert_eq(registry_etcd_parse_range(ok1, strlen(ok1), &in, &n, &rev, NULL, err, sizeof err), 0, "%s", err);
    cr_assert_eq(n, 1);
    cr_assert_eq(in[0].lease, 7);
    free(in);
    const char *empty = "{\"header\":{\"revision\":\"5\"}}";
    cr_assert_eq(registry_etcd_parse_range(empty, strlen(empty), &in, &n, &rev, NULL, err, sizeof err), 0, "%s", err);
    cr_assert_eq(n, 0, "etcd leaves kvs out when there are none");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        n = 99;
        cr_assert_eq(registry_etcd_parse_range(bad[i], strlen(bad[i]), &in, &n, &rev, NULL, err, sizeof err), -1,
                     "%s was read as %zu instances", bad[i], n);
        cr_assert_null(in);
        cr_assert_eq(n, 0);
    }
    free(k);
}

Test(etcd_watch, malformed_events_deliver_nothing)
{
    char *k = b64s("arith/127.0.0.1:8080");
    char msg[512];
    snprintf(msg, sizeof msg, "{\"result\":{\"header\":{\"revision\":\"9\"},\"events\":["
             "{\"type\":\"DELETE\",\"kv\":{\"key\":\"%s\",\"mod_revision\":\"9\"}},{\"type\":\"DELETE\",\"kv\":5}]}}", k);
    const char *bad[] = {msg, "{\"result\":{\"events\":{\"x\":1}}}", "{\"result\":{\"events\":[{\"kv\":{}}]}}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        registry_etcd_stream s;
        registry_etcd_stream_init(&s);
        int count = 0;
        char err[256] = "";
        cr_assert_eq(registry_etcd_stream_feed(&s, bad[i], strlen(bad[i]), count_event, &count, err, sizeof err), -1,
                     "%s", bad[i]);
        cr_assert_eq(count, 0, "no event of a malformed message is delivered: %s", bad[i]);
        cr_assert(strstr(err, "etcd: watch message"), "%s", err);
        registry_etcd_stream_done(&s);
    }
    free(k);
}

/* ======================= URLs ======================= */

Test(url, backends_and_errors)
{
    char err[256];
    registry *r = registry_new("etcd://127.0.0.1:2379,127.0.0.1:22379", NULL, err, sizeof err);
    cr_assert_not_null(r, "%s", err);
    cr_assert_eq(registry_get_kind(r), REGISTRY_ETCD);
    registry_free(r);
    r = registry_new("consul://127.0.0.1:8500?check=ttl", &(registry_auth){"secret", NULL}, err, sizeof err);
    cr_assert_not_null(r, "%s", err);
    cr_assert_eq(registry_get_kind(r), REGISTRY_CONSUL);
    registry_free(r);
    r = registry_new("none", NULL, err, sizeof err);
    cr_assert_eq(registry_get_kind(r), REGISTRY_NONE);
    registry_reg reg;
    cr_assert_eq(registry_register(r, "arith", "127.0.0.1:1", "json", 5, &reg, err, sizeof err), 0);
    cr_assert_eq(registry_keepalive(r, &reg, err, sizeof err), 1);
    registry_free(r);
    cr_assert_null(registry_new("zookeeper://x:1", NULL, err, sizeof err));
    cr_assert(strstr(err, "want etcd://"), "%s", err);
    cr_assert_null(registry_new("etcd://nohost", NULL, err, sizeof err));
    cr_assert_null(registry_new("consul://a:1,b:2", NULL, err, sizeof err));
    cr_assert_null(registry_new("consul://a:1?check=http", NULL, err, sizeof err));
    cr_assert_null(registry_new("etcd://a:1", &(registry_auth){NULL, "root"}, err, sizeof err));
    cr_assert(strstr(err, "NAME:PASSWORD"), "%s", err);
}

Test(net, unreachable_registry_is_an_error_within_the_timeout)
{
    char err[256];
    registry *r = registry_new("etcd://127.0.0.1:1,127.0.0.1:2", NULL, err, sizeof err);
    registry_instance *in;
    size_t n;
    cr_assert_eq(registry_list(r, "arith", &in, &n, NULL, err, sizeof err), -1);
    cr_assert(strstr(err, "127.0.0.1:2"), "the last endpoint tried is named: %s", err);
    registry_free(r);
}

/* ======================= Consul over HTTP, against a scripted fake agent =======================
 * No consul binary is installed here, so the HTTP side of the Consul backend is checked
 * against a tiny HTTP/1.1 server in this process that answers as Consul's API documents
 * and records each request. */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct fake_req {
    char line[512];  /* "PUT /v1/agent/service/register HTTP/1.1" */
    char token[128]; /* X-Consul-Token */
    char body[4096];
} fake_req;

typedef struct fake {
    int fd, port;
    pthread_t th;
    fake_req reqs[32];
    int nreq;
    int health_step; /* which health answer comes next */
    int flip_step;   /* the same for the service "flip", whose check fails and passes again */
} fake;

static void fake_answer(fake *f, int c, const fake_req *q)
{
    const char *status = "200 OK", *body = "", *index = "";
    static char hb[2048];
    if (strstr(q->line, "PUT /v1/agent/service/register ")) {
        body = "";
    } else if (strstr(q->line, "/v1/agent/check/pass/service:arith-127.0.0.1-8080 ")) {
        body = "";
    } else if (strstr(q->line, "/v1/agent/check/pass/")) {
        status = "404 Not Found";
        body = "Unknown check ID \"service:gone\". Ensure that the check ID is passed, not the check name.";
    } else if (strstr(q->line, "GET /v1/agent/service/arith-127.0.0.1-8080 ")) {
        body = "{\"ID\":\"arith-127.0.0.1-8080\",\"Service\":\"arith\",\"Port\":8080}";
    } else if (strstr(q->line, "GET /v1/agent/service/")) {
        status = "404 Not Found";
        body = "unknown service ID: gone";
    } else if (strstr(q->line, "PUT /v1/agent/service/deregister/")) {
        body = "";
    } else if (strstr(q->line, "GET /v1/catalog/services ")) {
        body = "{\"consul\":[],\"arith\":[\"json\"]}";
    } else if (strstr(q->line, "GET /v1/health/service/secret")) {
        status = "403 Forbidden";
        body = "ACL not found";
    } else if (strstr(q->line, "GET /v1/health/service/many")) { /* more than a listing holds */
        static char big[1 << 20];
        size_t len = 0;
        big[len++] = '[';
        for (int i = 0; i < REGISTRY_MAX_INSTANCES + 4; i++)
            len += (size_t)snprintf(big + len, sizeof big - len, "%s{\"Service\":{\"Service\":\"many\",\"Address\":"
                                    "\"127.0.0.1\",\"Port\":%d},\"Checks\":[]}", i ? "," : "", 10000 + i);
        snprintf(big + len, sizeof big - len, "]");
        body = big;
        index = "13";
    } else if (strstr(q->line, "GET /v1/health/service/flip")) {
        static const char *st[] = {"passing", "critical", "passing"};
        int step = f->flip_step++;
        if (step > 2)
            usleep(200 * 1000);
        snprintf(hb, sizeof hb, "[{\"Service\":{\"Service\":\"flip\",\"Tags\":[\"grpc\"],\"Address\":\"127.0.0.1\","
                 "\"Port\":8080},\"Checks\":[{\"Status\":\"%s\",\"ServiceID\":\"flip-1\",\"Type\":\"grpc\","
                 "\"Output\":\"step %d\"}]}]", st[step > 2 ? 2 : step], step > 2 ? 2 : step);
        body = hb;
        index = step == 0 ? "20" : step == 1 ? "21" : "22";
    } else if (strstr(q->line, "GET /v1/health/service/arith")) {
        static const char *A = "{\"Node\":{\"Address\":\"10.0.0.1\"},\"Service\":{\"Service\":\"arith\",\"Tags\":[\"json\"],\"Address\":\"127.0.0.1\",\"Port\":8080},\"Checks\":[{\"Status\":\"passing\"}]}";
        static const char *B = "{\"Node\":{\"Address\":\"10.0.0.1\"},\"Service\":{\"Service\":\"arith\",\"Tags\":[\"gob\"],\"Address\":\"127.0.0.1\",\"Port\":8081},\"Checks\":[{\"Status\":\"passing\"}]}";
        int step = f->health_step++;
        if (step == 0) {
            snprintf(hb, sizeof hb, "[%s]", A);
            index = "10";
        } else if (step == 1) {
            snprintf(hb, sizeof hb, "[%s,%s]", A, B);
            index = "11";
        } else if (step == 2) {
            snprintf(hb, sizeof hb, "[%s]", B);
            index = "12";
        } else { /* nothing changes: a blocking query waits, then answers the same */
            usleep(200 * 1000);
            snprintf(hb, sizeof hb, "[%s]", B);
            index = "12";
        }
        body = hb;
    } else {
        status = "404 Not Found";
        body = "no such path";
    }
    char head[512];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %s\r\nContent-Type: application/json\r\n%s%s%sContent-Length: %zu\r\nConnection: close\r\n\r\n",
                     status, *index ? "X-Consul-Index: " : "", index, *index ? "\r\n" : "", strlen(body));
    if (send(c, head, (size_t)n, MSG_NOSIGNAL) < 0 || send(c, body, strlen(body), MSG_NOSIGNAL) < 0)
        return;
}

static void *fake_main(void *arg)
{
    fake *f = arg;
    for (;;) {
        int c = accept(f->fd, NULL, NULL);
        if (c < 0)
            return NULL;
        char in[8192];
        size_t len = 0;
        char *hend = NULL;
        while (len < sizeof in - 1) {
            ssize_t r = read(c, in + len, sizeof in - 1 - len);
            if (r <= 0)
                break;
            len += (size_t)r;
            in[len] = 0;
            if ((hend = strstr(in, "\r\n\r\n"))) {
                const char *cl = strcasestr(in, "Content-Length:");
                size_t want = cl && cl < hend ? (size_t)atoi(cl + 15) : 0;
                if (len >= (size_t)(hend + 4 - in) + want)
                    break;
            }
        }
        fake_req q = {0};
        sscanf(in, "%511[^\r]", q.line);
        const char *t = strcasestr(in, "X-Consul-Token: ");
        if (t)
            sscanf(t + 16, "%127[^\r]", q.token);
        if (hend)
            snprintf(q.body, sizeof q.body, "%s", hend + 4);
        if (f->nreq < 32)
            f->reqs[f->nreq++] = q;
        fake_answer(f, c, &q);
        close(c);
    }
}

static void fake_start(fake *f)
{
    memset(f, 0, sizeof *f);
    f->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(f->fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t al = sizeof a;
    getsockname(f->fd, (struct sockaddr *)&a, &al);
    f->port = ntohs(a.sin_port);
    listen(f->fd, 16);
    pthread_create(&f->th, NULL, fake_main, f);
}

static const fake_req *fake_find(fake *f, const char *line)
{
    for (int i = 0; i < f->nreq; i++)
        if (strstr(f->reqs[i].line, line))
            return &f->reqs[i];
    return NULL;
}

Test(consul_http, register_keepalive_deregister_with_token)
{
    fake f;
    fake_start(&f);
    char url[64], err[256];
    snprintf(url, sizeof url, "consul://127.0.0.1:%d?check=ttl", f.port);
    registry *r = registry_new(url, &(registry_auth){"s3cret", NULL}, err, sizeof err);
    cr_assert_not_null(r, "%s", err);
    registry_reg reg;
    cr_assert_eq(registry_register(r, "arith", "127.0.0.1:8080", "json", 6, &reg, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(reg.id, "arith-127.0.0.1-8080");
    const fake_req *q = fake_find(&f, "PUT /v1/agent/service/register HTTP/1.1");
    cr_assert_not_null(q);
    cr_assert_str_eq(q->token, "s3cret", "the ACL token goes in X-Consul-Token");
    cJSON *j = cJSON_Parse(q->body);
    cr_assert_not_null(j, "%s", q->body);
    cr_assert_str_eq(str(cJSON_GetObjectItem(j, "Check"), "TTL"), "6s");
    cJSON_Delete(j);
    cr_assert_not_null(fake_find(&f, "PUT /v1/agent/check/pass/service:arith-127.0.0.1-8080 "),
                       "a TTL check is passed right after registering");
    cr_assert_eq(registry_keepalive(r, &reg, err, sizeof err), 1, "%s", err);
    registry_reg gone = reg;
    snprintf(gone.id, sizeof gone.id, "gone");
    cr_assert_eq(registry_keepalive(r, &gone, err, sizeof err), 0, "an unknown check means: register again");
    cr_assert_eq(registry_deregister(r, &reg, err, sizeof err), 0, "%s", err);
    cr_assert_not_null(fake_find(&f, "PUT /v1/agent/service/deregister/arith-127.0.0.1-8080 HTTP/1.1"));
    registry_free(r);

    /* a TCP check: keepalive asks the agent whether the service is still there */
    snprintf(url, sizeof url, "consul://127.0.0.1:%d", f.port);
    r = registry_new(url, NULL, err, sizeof err);
    cr_assert_eq(registry_register(r, "arith", "127.0.0.1:8080", "gob", 6, &reg, err, sizeof err), 0, "%s", err);
    cr_assert_eq(registry_keepalive(r, &reg, err, sizeof err), 1, "%s", err);
    cr_assert_not_null(fake_find(&f, "GET /v1/agent/service/arith-127.0.0.1-8080 "));
    cr_assert_eq(registry_keepalive(r, &gone, err, sizeof err), 0);
    registry_free(r);
    shutdown(f.fd, SHUT_RDWR);
}

Test(consul_http, list_services_and_errors)
{
    fake f;
    fake_start(&f);
    char url[64], err[256];
    snprintf(url, sizeof url, "consul://127.0.0.1:%d", f.port);
    registry *r = registry_new(url, NULL, err, sizeof err);
    registry_instance *in;
    size_t n;
    int64_t idx;
    cr_assert_eq(registry_list(r, "arith", &in, &n, &idx, err, sizeof err), 0, "%s", err);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(in[0].addr, "127.0.0.1:8080");
    cr_assert_eq(idx, 10, "the revision is X-Consul-Index");
    free(in);
    cr_assert_not_null(fake_find(&f, "GET /v1/health/service/arith?passing=1 HTTP/1.1"));
    buf b;
    buf_init(&b, 0);
    cr_assert_eq(registry_services(r, &b, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(text_of(&b), "consul\narith\n");
    buf_done(&b);
    cr_assert_eq(registry_list(r, "secret", &in, &n, &idx, err, sizeof err), -1);
    cr_assert_str_eq(err, "consul: health: HTTP 403: ACL not found");
    registry_free(r);
    shutdown(f.fd, SHUT_RDWR);
}

Test(consul_http, a_listing_past_the_cap_says_how_many_it_left_out)
{
    fake f;
    fake_start(&f);
    char url[64], err[256];
    snprintf(url, sizeof url, "consul://127.0.0.1:%d", f.port);
    registry *r = registry_new(url, NULL, err, sizeof err);
    registry_instance *in;
    size_t n;
    cr_assert_eq(registry_list(r, "many", &in, &n, NULL, err, sizeof err), 0, "%s", err);
    cr_assert_eq(n, REGISTRY_MAX_INSTANCES);
    cr_assert_str_eq(in[n - 1].addr, "127.0.0.1:14095");
    cr_assert_eq(registry_list_left_out(r), 4, "the 4 entries past the cap are counted");
    free(in);
    cr_assert_eq(registry_list(r, "arith", &in, &n, NULL, err, sizeof err), 0, "%s", err);
    cr_assert_eq(registry_list_left_out(r), 0, "a whole listing leaves nothing out");
    free(in);
    registry_free(r);
    shutdown(f.fd, SHUT_RDWR);
}

Test(consul_http, watch_with_blocking_queries)
{
    fake f;
    fake_start(&f);
    char url[64], err[256];
    snprintf(url, sizeof url, "consul://127.0.0.1:%d", f.port);
    registry *r = registry_new(url, NULL, err, sizeof err);
    registry_watch *w = registry_watch_start(r, "arith", 10, err, sizeof err);
    cr_assert_not_null(w, "%s", err);
    char log[1024] = "";
    registry_event ev;
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(registry_watch_next(w, &ev, 3000), 1, "event %d", i);
        size_t l = strlen(log);
        snprintf(log + l, sizeof log - l, "%s %s %s %lld;", ev.type == REGISTRY_EV_PUT ? "PUT" : ev.type == REGISTRY_EV_DELETE ? "DELETE" : "?",
                 ev.inst.addr, ev.inst.protocol, (long long)ev.revision);
    }
    /* The first answer (index 10) is what the caller listed: no events for it. */
    cr_assert_str_eq(log, "PUT 127.0.0.1:8081 gob 11;DELETE 127.0.0.1:8080 json 12;");
    cr_assert_not_null(fake_find(&f, "GET /v1/health/service/arith?passing=1&index=10&wait=10s HTTP/1.1"),
                       "blocking queries carry the last index and a wait");
    cr_assert_eq(registry_watch_next(w, &ev, 300), 0, "no change, no event");
    registry_watch_cancel(w);
    cr_assert_eq(registry_watch_next(w, &ev, 1000), -1);
    registry_watch_free(w);
    registry_free(r);
    shutdown(f.fd, SHUT_RDWR);
}

Test(consul, a_check_kind_the_server_cannot_pass_is_refused)
{
    char err[512];
    registry_reg reg;
    registry *r = registry_new("consul://127.0.0.1:1?check=grpc", NULL, err, sizeof err);
    cr_assert_not_null(r, "%s", err);
    cr_assert_eq(registry_register(r, "arith", "127.0.0.1:8080", "json", 5, &reg, err, sizeof err), -1);
    cr_assert(strstr(err, "check=grpc asks the gRPC health service, which a json server does not serve"), "%s", err);
    cr_assert(strstr(err, "use check=tcp or check=ttl"), "%s", err);
    registry_free(r);
    cr_assert_null(registry_keeper_start("consul://127.0.0.1:1?check=grpc", NULL, "arith", "127.0.0.1:8080", "gob", 5,
                                         NULL, NULL, err, sizeof err));
    cr_assert(strstr(err, "which a gob server does not serve"), "%s", err);
    cr_assert_null(registry_keeper_start("consul://127.0.0.1:1?check=grpc", NULL, "gw", "127.0.0.1:8080", "http", 5,
                                         NULL, NULL, err, sizeof err), "the gateway's http neither");
    const char *fit[][2] = {{"consul://127.0.0.1:1?check=grpc", "grpc"}, {"consul://127.0.0.1:1?check=tcp", "json"},
                            {"consul://127.0.0.1:1?check=ttl", "gob"}, {"consul://127.0.0.1:1", "http"},
                            {"etcd://127.0.0.1:1", "json"}};
    for (size_t i = 0; i < sizeof fit / sizeof fit[0]; i++) {
        registry_keeper *k = registry_keeper_start(fit[i][0], NULL, "arith", "127.0.0.1:8080", fit[i][1], 5, NULL,
                                                   NULL, err, sizeof err);
        cr_assert_not_null(k, "%s for %s: %s", fit[i][0], fit[i][1], err);
        registry_keeper_stop(k, false);
    }
}

Test(consul_http, watch_reports_a_check_status_change)
{
    fake f;
    fake_start(&f);
    char url[64], err[256];
    snprintf(url, sizeof url, "consul://127.0.0.1:%d", f.port);
    registry *r = registry_new(url, NULL, err, sizeof err);
    registry_set_passing_only(r, false); /* as the CLI and the TUI watch: every instance */
    registry_watch *w = registry_watch_start(r, "flip", 20, err, sizeof err);
    cr_assert_not_null(w, "%s", err);
    char log[1024] = "";
    registry_event ev;
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(registry_watch_next(w, &ev, 3000), 1, "event %d (%s)", i, log);
        size_t l = strlen(log);
        snprintf(log + l, sizeof log - l, "%s %s %s %s was=%s %s %lld;", ev.type == REGISTRY_EV_PUT ? "PUT" : "?",
                 ev.inst.addr, ev.inst.check, ev.inst.status, ev.was, ev.inst.output, (long long)ev.revision);
    }
    cr_assert_str_eq(log, "PUT 127.0.0.1:8080 grpc critical was=passing step 1 21;"
                          "PUT 127.0.0.1:8080 grpc passing was=critical step 2 22;");
    cr_assert_eq(registry_watch_next(w, &ev, 300), 0, "the same status again: no event");
    registry_watch_free(w);
    registry_free(r);
    shutdown(f.fd, SHUT_RDWR);
}

Test(keeper, none_does_nothing_and_bad_arguments_are_refused)
{
    char err[256];
    registry_keeper *k = registry_keeper_start("none", NULL, "arith", "127.0.0.1:1", "json", 5, NULL, NULL, err, sizeof err);
    cr_assert_not_null(k, "%s", err);
    registry_keeper_stop(k, true);
    cr_assert_null(registry_keeper_start("etcd://127.0.0.1:1", NULL, "a b", "127.0.0.1:1", "json", 5, NULL, NULL, err, sizeof err));
    cr_assert(strstr(err, "has a space"), "%s", err);
    cr_assert_null(registry_keeper_start("etcd://127.0.0.1:1", NULL, "arith", "127.0.0.1:1", "json", 0, NULL, NULL, err, sizeof err));
    cr_assert(strstr(err, "TTL"), "%s", err);
}

static void count_log(void *ctx, int64_t wall, const char *msg)
{
    (void)wall;
    if (strstr(msg, "registry unreachable"))
        (*(int *)ctx)++;
}

Test(keeper, unreachable_registry_is_logged_once_and_stop_is_prompt)
{
    char err[256];
    int unreachable = 0;
    registry_keeper *k = registry_keeper_start("etcd://127.0.0.1:1", NULL, "arith", "127.0.0.1:1", "json", 3,
                                               count_log, &unreachable, err, sizeof err);
    cr_assert_not_null(k, "%s", err);
    usleep(1200 * 1000); /* several retries with backoff */
    registry_keeper_stop(k, true);
    cr_assert_eq(unreachable, 1, "the transition is logged once, not every retry");
}

/* ======================= stopping: the keeper's and the watch's sleeps =======================
 * Both threads sleep on one cancellable sleep; a stop must wake them at once, not when the
 * backoff runs out. */

Test(keeper, stop_wakes_the_backoff_at_once)
{
    char err[256];
    int unreachable = 0;
    registry_keeper *k = registry_keeper_start("etcd://127.0.0.1:1", NULL, "arith", "127.0.0.1:1", "json", 30,
                                               count_log, &unreachable, err, sizeof err);
    cr_assert_not_null(k, "%s", err);
    usleep(1000 * 1000); /* tries at 0, 0.25 and 0.75 s: now in a 1 s backoff */
    uint64_t t0 = clock_now_ms();
    registry_keeper_stop(k, true);
    uint64_t took = clock_now_ms() - t0;
    cr_assert_lt(took, 500, "stop took %llu ms", (unsigned long long)took);
    cr_assert_eq(unreachable, 1);
}

typedef struct later_cancel {
    registry_watch *w;
    int after_ms;
} later_cancel;

static void *cancel_later(void *arg)
{
    later_cancel *c = arg;
    usleep((useconds_t)c->after_ms * 1000);
    registry_watch_cancel(c->w);
    return NULL;
}

Test(watch, unreachable_etcd_is_one_error_and_the_wait_keeps_its_deadline)
{
    char err[256];
    registry *r = registry_new("etcd://127.0.0.1:1", NULL, err, sizeof err);
    cr_assert_not_null(r, "%s", err);
    registry_watch *w = registry_watch_start(r, "arith", 0, err, sizeof err);
    cr_assert_not_null(w, "%s", err);
    registry_event ev;
    cr_assert_eq(registry_watch_next(w, &ev, 3000), 1);
    cr_assert_eq(ev.type, REGISTRY_EV_ERROR);
    cr_assert(strstr(ev.msg, "127.0.0.1:1"), "%s", ev.msg);
    /* It retries meanwhile, but says so only once; the empty wait lasts its timeout. */
    uint64_t t0 = clock_now_ms();
    cr_assert_eq(registry_watch_next(w, &ev, 900), 0, "event %d: %s", ev.type, ev.msg);
    uint64_t waited = clock_now_ms() - t0;
    cr_assert(waited >= 890 && waited < 1500, "waited %llu ms for 900", (unsigned long long)waited);
    cr_assert_eq(registry_watch_next(w, &ev, 0), 0, "a zero timeout does not wait");
    registry_watch_free(w);
    registry_free(r);
}

Test(watch, cancel_wakes_a_waiting_reader_and_free_is_prompt)
{
    char err[256];
    registry *r = registry_new("etcd://127.0.0.1:1", NULL, err, sizeof err);
    registry_watch *w = registry_watch_start(r, "arith", 0, err, sizeof err);
    cr_assert_not_null(w, "%s", err);
    registry_event ev;
    cr_assert_eq(registry_watch_next(w, &ev, 3000), 1);
    usleep(1000 * 1000); /* tries at 0, 0.25 and 0.75 s: now in a 1 s backoff */
    later_cancel c = {w, 100};
    pthread_t th;
    pthread_create(&th, NULL, cancel_later, &c);
    uint64_t t0 = clock_now_ms();
    cr_assert_eq(registry_watch_next(w, &ev, 5000), -1);
    uint64_t woke = clock_now_ms() - t0;
    pthread_join(th, NULL);
    cr_assert_lt(woke, 1000, "the reader woke after %llu ms", (unsigned long long)woke);
    t0 = clock_now_ms();
    registry_watch_free(w);
    uint64_t took = clock_now_ms() - t0;
    cr_assert_lt(took, 500, "free took %llu ms", (unsigned long long)took);
    registry_free(r);
}
