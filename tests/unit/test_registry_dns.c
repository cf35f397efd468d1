/* test_registry_dns.c -- unit tests for the DNS registry backend: SRV answers built with
 * ldns as a Consul agent sends them (and broken ones), read into instances; its URL;
 * registering through it refused; the backend against a scripted DNS server (a test
 * helper thread on 127.0.0.1). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "registry/registry.h"

/* An answer packet with rcode and the records given (section: 'a' answer, 'x' additional,
 * 's' authority), in wire format into *wire (caller frees). */
static size_t packet(uint8_t **wire, ldns_pkt_rcode rcode, const char *const *recs)
{
    ldns_pkt *p = ldns_pkt_new();
    cr_assert_not_null(p);
    ldns_pkt_set_qr(p, true);
    ldns_pkt_set_aa(p, true);
    ldns_pkt_set_rcode(p, (uint8_t)rcode);
    for (; recs && *recs; recs++) {
        ldns_rr *rr = NULL;
        cr_assert_eq(ldns_rr_new_frm_str(&rr, *recs + 2, 0, NULL, NULL), LDNS_STATUS_OK, "bad record %s", *recs);
        ldns_pkt_section s = **recs == 'a' ? LDNS_SECTION_ANSWER : **recs == 's' ? LDNS_SECTION_AUTHORITY
                                                                                 : LDNS_SECTION_ADDITIONAL;
        cr_assert(ldns_pkt_push_rr(p, s, rr));
    }
    size_t len = 0;
    cr_assert_eq(ldns_pkt2wire(wire, p, &len), LDNS_STATUS_OK);
    ldns_pkt_free(p);
    return len;
}

Test(dns, srv_with_addresses_in_the_additional_section)
{
    static const char *const recs[] = {
        "a hello.service.consul. 7 IN SRV 1 1 40002 7f000001.addr.dc1.consul.",
        "a hello.service.consul. 3 IN SRV 1 1 40001 node1.node.dc1.consul.",
        "x 7f000001.addr.dc1.consul. 0 IN A 127.0.0.1",
        "x node1.node.dc1.consul. 0 IN TXT \"consul-network-segment=\"",
        "x node1.node.dc1.consul. 0 IN AAAA ::1",
        NULL};
    uint8_t *wire;
    size_t len = packet(&wire, LDNS_RCODE_NOERROR, recs), n = 0, left = 9;
    registry_instance *in = NULL;
    uint32_t ttl = 0;
    char err[256] = "";
    cr_assert_eq(registry_dns_parse_srv(wire, len, "hello", &in, &n, &left, &ttl, err, sizeof err), 0, "%s", err);
    cr_assert_eq(n, 2);
    cr_assert_eq(left, 0);
    cr_assert_eq(ttl, 3, "the smallest TTL is what a poller waits");
    cr_assert_str_eq(in[0].addr, "127.0.0.1:40002", "sorted by address; A from the additional section");
    cr_assert_str_eq(in[1].addr, "[::1]:40001", "AAAA when there is no A");
    cr_assert_str_eq(in[0].service, "hello");
    cr_assert_str_eq(in[0].protocol, "", "SRV records do not say the protocol");
    free(in);
    free(wire);
}

Test(dns, a_target_without_an_address_is_left_by_name)
{
    static const char *const recs[] = {"a web.service.consul. 0 IN SRV 1 1 8080 host.example.", NULL};
    uint8_t *wire;
    size_t len = packet(&wire, LDNS_RCODE_NOERROR, recs), n = 0;
    registry_instance *in = NULL;
    uint32_t ttl = 9;
    char err[256] = "";
    cr_assert_eq(registry_dns_parse_srv(wire, len, "web", &in, &n, NULL, &ttl, err, sizeof err), 0, "%s", err);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(in[0].addr, "host.example:8080");
    cr_assert_eq(ttl, 0);
    free(in);
    free(wire);
}

Test(dns, nxdomain_is_no_instance)
{
    static const char *const recs[] = {
        "s consul. 0 IN SOA ns.consul. hostmaster.consul. 1 3600 600 86400 0", NULL};
    uint8_t *wire;
    size_t len = packet(&wire, LDNS_RCODE_NXDOMAIN, recs), n = 5;
    registry_instance *in = (registry_instance *)1;
    uint32_t ttl = 9;
    char err[256] = "";
    cr_assert_eq(registry_dns_parse_srv(wire, len, "nope", &in, &n, NULL, &ttl, err, sizeof err), 0, "%s", err);
    cr_assert_eq(n, 0);
    cr_assert_null(in);
    free(wire);
}

Test(dns, an_error_code_is_an_error)
{
    uint8_t *wire;
    size_t len = packet(&wire, LDNS_RCODE_SERVFAIL, NULL), n = 0;
    registry_instance *in = NULL;
    uint32_t ttl;
    char err[256] = "";
    cr_assert_eq(registry_dns_parse_srv(wire, len, "hello", &in, &n, NULL, &ttl, err, sizeof err), -1);
    cr_assert(strstr(err, "SERVFAIL"), "%s", err);
    free(wire);
}

Test(dns, bytes_that_are_not_dns_are_refused)
{
    static const uint8_t junk[] = {0x12, 0x34, 0x81, 0x80, 0x00, 0x01, 0x00, 0x05};
    registry_instance *in = NULL;
    size_t n = 0;
    uint32_t ttl;
    char err[256] = "";
    cr_assert_eq(registry_dns_parse_srv(junk, sizeof junk, "hello", &in, &n, NULL, &ttl, err, sizeof err), -1);
    cr_assert(strstr(err, "not a DNS message"), "%s", err);
    cr_assert_eq(n, 0);
}

Test(dns, a_record_with_port_zero_spoils_the_answer)
{
    static const char *const recs[] = {"a hello.service.consul. 0 IN SRV 1 1 40001 a.example.",
                                       "a hello.service.consul. 0 IN SRV 1 1 0 b.example.", NULL};
    uint8_t *wire;
    size_t len = packet(&wire, LDNS_RCODE_NOERROR, recs), n = 0;
    registry_instance *in = NULL;
    uint32_t ttl;
    char err[256] = "";
    cr_assert_eq(registry_dns_parse_srv(wire, len, "hello", &in, &n, NULL, &ttl, err, sizeof err), -1);
    cr_assert(strstr(err, "lacks a port"), "%s", err);
    cr_assert_eq(n, 0, "none of it is believed");
    cr_assert_null(in);
    free(wire);
}

Test(dns, the_url_and_registering_refused)
{
    char err[512] = "";
    registry *r = registry_new("dns://127.0.0.1:8600/hello.service.consul", NULL, err, sizeof err);
    cr_assert_not_null(r, "%s", err);
    cr_assert_eq(registry_get_kind(r), REGISTRY_DNS);
    registry_reg reg;
    cr_assert_eq(registry_register(r, "hello", "127.0.0.1:9", "json", 5, &reg, err, sizeof err), -1);
    cr_assert(strstr(err, "only answers questions"), "%s", err);
    registry_free(r);
    cr_assert_not_null(r = registry_new("dns://[::1]:8600", NULL, err, sizeof err), "%s", err);
    registry_free(r);
    cr_assert_null(registry_new("dns://127.0.0.1:8600,127.0.0.1:8601", NULL, err, sizeof err));
    cr_assert_null(registry_new("dns://", NULL, err, sizeof err));
    registry_keeper *k = registry_keeper_start("dns://127.0.0.1:8600", NULL, "hello", "127.0.0.1:9", "json", 5,
                                               NULL, NULL, err, sizeof err);
    cr_assert_null(k, "the keeper refuses at once rather than retrying");
    cr_assert(strstr(err, "only answers questions"), "%s", err);
}

/* ---- the backend against a scripted DNS server (127.0.0.1, UDP, for a few seconds) ---- */

typedef struct fake_dns {
    int fd, port;
    pthread_t thread;
    atomic_bool stop;
    atomic_int queries;
} fake_dns;

/* The records for a question: web.service.consul and its grpc tag point at host.example,
 * whose address comes only from an A question; every other name is NXDOMAIN. */
static ldns_pkt *fake_answer(const ldns_pkt *q)
{
    const ldns_rr *qrr = ldns_rr_list_rr(ldns_pkt_question(q), 0);
    char *name = qrr ? ldns_rdf2str(ldns_rr_owner(qrr)) : NULL;
    ldns_pkt *a = ldns_pkt_new();
    ldns_pkt_set_id(a, ldns_pkt_id(q));
    ldns_pkt_set_qr(a, true);
    ldns_pkt_set_aa(a, true);
    if (qrr)
        ldns_pkt_push_rr(a, LDNS_SECTION_QUESTION, ldns_rr_clone(qrr));
    const char *rec = NULL;
    if (name && (strcmp(name, "web.service.consul.") == 0 || strcmp(name, "grpc.web.service.consul.") == 0))
        rec = "web.service.consul. 0 IN SRV 1 1 8080 host.example.";
    else if (name && strcmp(name, "host.example.") == 0 && ldns_rr_get_type(qrr) == LDNS_RR_TYPE_A)
        rec = "host.example. 0 IN A 127.0.0.1";
    ldns_rr *rr = NULL;
    if (rec && ldns_rr_new_frm_str(&rr, rec, 0, NULL, NULL) == LDNS_STATUS_OK)
        ldns_pkt_push_rr(a, LDNS_SECTION_ANSWER, rr);
    else if (!name || strcmp(name, "host.example.") != 0)
        ldns_pkt_set_rcode(a, LDNS_RCODE_NXDOMAIN);
    free(name);
    return a;
}

static void *fake_main(void *arg)
{
    fake_dns *f = arg;
    for (int turns = 0; !atomic_load(&f->stop) && turns < 200; turns++) { /* 200 x 50 ms at most */
        uint8_t in[4096], *out = NULL;
        struct sockaddr_in from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(f->fd, in, sizeof in, 0, (struct sockaddr *)&from, &fl);
        ldns_pkt *q = NULL;
        if (n <= 0 || ldns_wire2pkt(&q, in, (size_t)n) != LDNS_STATUS_OK)
            continue;
        atomic_fetch_add(&f->queries, 1);
        ldns_pkt *a = fake_answer(q);
        size_t len = 0;
        if (ldns_pkt2wire(&out, a, &len) == LDNS_STATUS_OK)
            sendto(f->fd, out, len, 0, (struct sockaddr *)&from, fl);
        free(out);
        ldns_pkt_free(a);
        ldns_pkt_free(q);
    }
    return NULL;
}

static void fake_start(fake_dns *f)
{
    f->fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    struct timeval tv = {0, 50000};
    cr_assert_eq(bind(f->fd, (struct sockaddr *)&sa, sizeof sa), 0);
    cr_assert_eq(getsockname(f->fd, (struct sockaddr *)&sa, &sl), 0);
    setsockopt(f->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    f->port = ntohs(sa.sin_port);
    atomic_init(&f->stop, false);
    atomic_init(&f->queries, 0);
    cr_assert_eq(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

static void fake_stop(fake_dns *f)
{
    atomic_store(&f->stop, true);
    pthread_join(f->thread, NULL);
    close(f->fd);
}

Test(dns, the_backend_asks_for_the_target_and_the_protocol_tags)
{
    fake_dns f;
    fake_start(&f);
    char url[128], err[512] = "";
    snprintf(url, sizeof url, "dns://127.0.0.1:%d", f.port);
    registry *r = registry_new(url, NULL, err, sizeof err);
    cr_assert_not_null(r, "%s", err);
    registry_instance *in = NULL;
    size_t n = 0;
    int64_t rev = 0;
    cr_assert_eq(registry_list(r, "web", &in, &n, &rev, err, sizeof err), 0, "%s", err);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(in[0].addr, "127.0.0.1:8080", "the target's A record, asked of the same server");
    cr_assert_str_eq(in[0].protocol, "grpc", "the tag that lists it");
    cr_assert_str_eq(in[0].service, "web");
    cr_assert_neq(rev, 0, "a listing has a revision for the watch");
    free(in);
    cr_assert_eq(registry_list(r, "nope", &in, &n, NULL, err, sizeof err), 0, "%s", err);
    cr_assert_eq(n, 0, "NXDOMAIN: no instance");
    cr_assert_eq(registry_services(r, &(buf){0}, err, sizeof err), -1, "DNS cannot list every service");
    registry_free(r);

    snprintf(url, sizeof url, "dns://127.0.0.1:%d/web.service.consul.", f.port);
    cr_assert_not_null(r = registry_new(url, NULL, err, sizeof err), "%s", err);
    cr_assert_eq(registry_list(r, NULL, &in, &n, NULL, err, sizeof err), 0, "the URL's name: %s", err);
    cr_assert_eq(n, 1);
    free(in);
    cr_assert_eq(registry_list(r, "web", &in, &n, NULL, err, sizeof err), 0, "the same name: %s", err);
    free(in);
    cr_assert_eq(registry_list(r, "other", &in, &n, NULL, err, sizeof err), -1);
    cr_assert(strstr(err, "the URL names web.service.consul"), "%s", err);
    registry_free(r);
    fake_stop(&f);
}

Test(dns, a_server_that_does_not_answer_is_an_error_within_seconds)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0); /* bound, never read: no answer, no ICMP */
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    char url[128], err[512] = "";
    snprintf(url, sizeof url, "dns://127.0.0.1:%d/web", ntohs(sa.sin_port));
    registry *r = registry_new(url, NULL, err, sizeof err);
    registry_instance *in = NULL;
    size_t n = 0;
    cr_assert_eq(registry_list(r, NULL, &in, &n, NULL, err, sizeof err), -1);
    cr_assert(strstr(err, "no answer for web.service.consul"), "%s", err);
    registry_free(r);
    close(fd);
}
