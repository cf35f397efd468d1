/* test_registry_names.c -- unit tests for service names: the one check of a name, an
 * address and a protocol (each refusal says which part and why), what each backend
 * refuses on top, and etcd's key NAME/HOST:PORT split at its last '/'. */
#include <criterion/criterion.h>
#include <string.h>

#include "base/b64.h"
#include "base/buf.h"
#include "registry/registry.h"

static char err[512];

static int names(const char *service, const char *addr, const char *protocol)
{
    err[0] = 0;
    return registry_check_names(service, addr, protocol, err, sizeof err);
}

static void refused(const char *service, const char *addr, const char *protocol, const char *why)
{
    cr_assert_eq(names(service, addr, protocol), -1, "%s %s %s was taken", service, addr, protocol);
    cr_assert(strstr(err, why), "want \"%s\" in: %s", why, err);
}

Test(names, names_etcd_users_write_are_taken)
{
    const char *ok[] = {"hello", "/etcd3_naming/hello_service", "/user", "/post", "a/b/c", "user.v2",
                        "李白", "a-b_c:d@e", "/a"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        cr_assert_eq(names(ok[i], "127.0.0.1:50051", "grpc"), 0, "%s: %s", ok[i], err);
    char longest[REGISTRY_NAME_MAX + 1];
    memset(longest, 'x', REGISTRY_NAME_MAX);
    longest[REGISTRY_NAME_MAX] = 0;
    cr_assert_eq(names(longest, NULL, NULL), 0, "%s", err);
    cr_assert_eq(names(NULL, "[::1]:8080", "http"), 0, "%s", err);
    cr_assert_eq(names(NULL, NULL, NULL), 0, "nothing to check");
}

Test(names, each_refusal_says_which_part_and_why)
{
    refused("", NULL, NULL, "the service name is empty");
    char big[REGISTRY_NAME_MAX + 2];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    refused(big, NULL, NULL, "128 bytes long; at most 127");
    refused("hello world", NULL, NULL, "has a space at byte 6");
    refused("a\tb", NULL, NULL, "control character at byte 2");
    cr_assert(strstr(err, "\"a\\tb\""), "the name is shown escaped: %s", err);
    refused("a\x7f", NULL, NULL, "control character");
    refused("a\xc2\x85", NULL, NULL, "control character at byte 2"); /* C1, as UTF-8 */
    refused("a\xff", NULL, NULL, "not valid UTF-8");
    refused("a/", NULL, NULL, "ends with '/'");
    cr_assert(strstr(err, "a//HOST:PORT"), "%s", err);
    refused("/", NULL, NULL, "ends with '/'");
    refused("/etcd3_naming//hello", NULL, NULL, "has '//'");
    refused("//a", NULL, NULL, "has '//'");
    refused("a/./b", NULL, NULL, "the part \".\" between '/'");
    refused("../a", NULL, NULL, "the part \"..\"");
    refused("a/..", NULL, NULL, "the part \"..\"");
    refused("hello", "127.0.0.1", NULL, "address \"127.0.0.1\" is not HOST:PORT");
    refused("hello", "127.0.0.1:0", NULL, "is not HOST:PORT");
    refused("hello", "a/b:80", NULL, "is not HOST:PORT");
    refused("hello", "127.0.0.1:99999", NULL, "is not HOST:PORT");
    refused("hello", "127.0.0.1:1", "http2", "protocol \"http2\" is unknown: want gob, json, grpc or http");
}

Test(names, the_backends_refuse_what_they_cannot_hold)
{
    static const struct {
        const char *url, *name, *why; /* why: NULL when taken */
    } cases[] = {
        {"etcd://127.0.0.1:2379", "/etcd3_naming/hello_service", NULL},
        {"consul://127.0.0.1:8500", "etcd3_naming/hello_service", NULL},
        {"consul://127.0.0.1:8500", "/etcd3_naming/hello_service", "begins with '/'"},
        {"dns://127.0.0.1:8600", "hello.service.consul", NULL},
        {"dns://127.0.0.1:8600", "etcd3_naming/hello", "has '/'"},
        {"none", "/user", NULL},
        {"etcd://127.0.0.1:2379", "a//b", "has '//'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        registry *r = registry_new(cases[i].url, NULL, err, sizeof err);
        cr_assert_not_null(r, "%s", err);
        int rc = registry_check_service(r, cases[i].name, err, sizeof err);
        if (cases[i].why) {
            cr_assert_eq(rc, -1, "%s %s was taken", cases[i].url, cases[i].name);
            cr_assert(strstr(err, cases[i].why), "%s %s: %s", cases[i].url, cases[i].name, err);
        } else {
            cr_assert_eq(rc, 0, "%s %s: %s", cases[i].url, cases[i].name, err);
        }
        registry_free(r);
    }
}

Test(names, register_and_keeper_use_the_same_check)
{
    registry *r = registry_new("none", NULL, err, sizeof err);
    registry_reg reg;
    cr_assert_eq(registry_register(r, "/user", "127.0.0.1:8006", "grpc", 5, &reg, err, sizeof err), 0, "%s", err);
    cr_assert_eq(registry_register(r, "/user/", "127.0.0.1:8006", "grpc", 5, &reg, err, sizeof err), -1);
    cr_assert(strstr(err, "ends with '/'"), "%s", err);
    registry_free(r);
    r = registry_new("consul://127.0.0.1:1", NULL, err, sizeof err);
    cr_assert_eq(registry_register(r, "/user", "127.0.0.1:8006", "grpc", 5, &reg, err, sizeof err), -1);
    cr_assert(strstr(err, "begins with '/'"), "%s", err);
    registry_free(r);
    registry_keeper *k = registry_keeper_start("consul://127.0.0.1:1", NULL, "/user", "127.0.0.1:8006", "grpc", 5,
                                               NULL, NULL, err, sizeof err);
    cr_assert_null(k, "refused at once, not retried");
    cr_assert(strstr(err, "begins with '/'"), "%s", err);
    cr_assert_null(registry_keeper_start("etcd://127.0.0.1:1", NULL, "user", "127.0.0.1", "grpc", 5, NULL, NULL,
                                         err, sizeof err));
    cr_assert(strstr(err, "is not HOST:PORT"), "%s", err);
    cr_assert_null(registry_keeper_start("dns://127.0.0.1:1", NULL, "a/b", "127.0.0.1:1", "grpc", 5, NULL, NULL,
                                         err, sizeof err));
    cr_assert(strstr(err, "nothing registers through it"), "DNS says first that it is read-only: %s", err);
}

Test(names_etcd, a_key_splits_at_its_last_slash)
{
    registry_instance in;
    cr_assert_eq(registry_etcd_instance("/etcd3_naming/hello_service/127.0.0.1:50051", NULL, &in), 0);
    cr_assert_str_eq(in.service, "/etcd3_naming/hello_service");
    cr_assert_str_eq(in.addr, "127.0.0.1:50051");
    cr_assert_eq(registry_etcd_instance("/user/[::1]:8006", NULL, &in), 0);
    cr_assert_str_eq(in.service, "/user");
    cr_assert_str_eq(in.addr, "[::1]:8006");
    cr_assert_eq(registry_etcd_instance("/127.0.0.1:1", NULL, &in), -1, "no name before the last '/'");
    cr_assert_eq(registry_etcd_instance("a/", NULL, &in), -1, "no address after it");
}

Test(names_etcd, a_service_keeps_its_own_keys_not_those_of_names_under_it)
{
    registry_instance a, ab;
    registry_etcd_instance("a/127.0.0.1:1", NULL, &a);
    registry_etcd_instance("a/b/127.0.0.1:1", NULL, &ab);
    cr_assert(registry_etcd_of_service(&a, "a"));
    cr_assert_not(registry_etcd_of_service(&ab, "a"), "a/b/127.0.0.1:1 is a/b's, not a's");
    cr_assert(registry_etcd_of_service(&ab, "a/b"));
    cr_assert(registry_etcd_of_service(&ab, ""), "listing everything keeps every key");
    cr_assert(registry_etcd_of_service(&ab, NULL));
}

Test(names_etcd, keys_and_prefixes_of_a_name_with_slashes)
{
    buf b;
    buf_init(&b, 4096);
    cr_assert_eq(registry_etcd_put_body("/etcd3_naming/hello_service", "127.0.0.1:50051", "grpc", 7, &b), 0);
    buf_putc(&b, 0);
    char key[256];
    const char *k = strstr((const char *)buf_data(&b), "\"key\":\"");
    cr_assert_not_null(k);
    char k64[256];
    sscanf(k + 7, "%255[^\"]", k64);
    cr_assert_geq(b64_decode_str(k64, key, sizeof key), 0);
    cr_assert_str_eq(key, "/etcd3_naming/hello_service/127.0.0.1:50051", "what etcdctl get --prefix shows");
    buf_clear(&b);
    cr_assert_eq(registry_etcd_range_body("/etcd3_naming/hello_service", 0, false, &b), 0);
    buf_putc(&b, 0);
    char start[256], end[256], s64[256], e64[256];
    cr_assert_eq(sscanf(strstr((const char *)buf_data(&b), "\"key\":\"") + 7, "%255[^\"]", s64), 1);
    cr_assert_eq(sscanf(strstr((const char *)buf_data(&b), "\"range_end\":\"") + 13, "%255[^\"]", e64), 1);
    cr_assert_geq(b64_decode_str(s64, start, sizeof start), 0);
    cr_assert_geq(b64_decode_str(e64, end, sizeof end), 0);
    cr_assert_str_eq(start, "/etcd3_naming/hello_service/");
    cr_assert_str_eq(end, "/etcd3_naming/hello_service0");
    buf_done(&b);
}
