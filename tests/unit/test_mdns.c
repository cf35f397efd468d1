/* test_mdns.c -- unit tests for the mDNS backend's pure parts: service names and the
 * URL, a registration's records and its goodbye, answers to queries (known answers
 * suppressed, legacy queries, delayed shared answers), conflicts and renaming, and the
 * browser's cache on a clock the test drives (refresh points, expiry, goodbyes). No
 * socket is opened here. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <ldns/ldns.h>
#include <string.h>

#include "registry/mdns_int.h"
#include "registry/registry.h"

static char err[512];

static mdns_if lo(void)
{
    mdns_if ifc = {.name = "lo", .index = 1};
    inet_pton(AF_INET, "127.0.0.1", &ifc.addr);
    return ifc;
}

static mdns_rrset shipping(const char *addr, const char *protocol, int ttl)
{
    mdns_if ifc = lo();
    mdns_rrset s;
    cr_assert_eq(mdns_rrset_init(&s, "shipping", addr, protocol, ttl, &ifc, err, sizeof err), 0, "%s", err);
    return s;
}

/* p through the wire and back, as a peer would read it; p is freed. */
static ldns_pkt *roundtrip(ldns_pkt *p)
{
    uint8_t *wire;
    size_t len;
    cr_assert_not_null(p);
    cr_assert_eq(mdns_wire(p, &wire, &len), 0);
    ldns_pkt *q = NULL;
    cr_assert_eq(ldns_wire2pkt(&q, wire, len), LDNS_STATUS_OK);
    free(wire);
    ldns_pkt_free(p);
    return q;
}

/* The first record of type t in a section, or NULL. */
static const ldns_rr *find_rr(const ldns_rr_list *l, ldns_rr_type t)
{
    for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++)
        if (ldns_rr_get_type(ldns_rr_list_rr(l, i)) == t)
            return ldns_rr_list_rr(l, i);
    return NULL;
}

static ldns_pkt *question(const char *name, ldns_rr_type t)
{
    const char *names[] = {name};
    ldns_rr_type types[] = {t};
    return mdns_query(names, types, 1);
}

static ldns_rr *rr_text(const char *text)
{
    ldns_rr *rr = NULL;
    cr_assert_eq(ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL), LDNS_STATUS_OK, "%s", text);
    return rr;
}

/* ---- names and the URL ---- */

Test(mdns, service_names_follow_rfc_6335)
{
    const char *ok[] = {"shipping", "a", "a-b1", "ABCDEFGHIJKLMNO", "9x"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        cr_assert_eq(mdns_check_name(ok[i], err, sizeof err), 0, "%s: %s", ok[i], err);
    const char *bad[] = {"", "-a", "a-", "abcdefghijklmnop", "a_b", "a.b", "a/b", "李白"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = 0;
        cr_assert_eq(mdns_check_name(bad[i], err, sizeof err), -1, "%s was taken", bad[i]);
        cr_assert(strstr(err, "RFC 6335"), "%s", err);
    }
    registry *r = registry_new("mdns", NULL, err, sizeof err);
    cr_assert_not_null(r, "%s", err);
    cr_assert_eq(registry_check_service(r, "hello_world", err, sizeof err), -1);
    cr_assert(strstr(err, "letters, digits or hyphens"), "%s", err);
    registry_free(r);
}

Test(mdns, urls)
{
    const char *ok[] = {"mdns", "mdns://", "mdns://lo", "mdns://eth0/", "mdns://lo?wait=200", "mdns?wait=10000"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        registry *r = registry_new(ok[i], NULL, err, sizeof err);
        cr_assert_not_null(r, "%s: %s", ok[i], err);
        cr_assert_eq(registry_get_kind(r), REGISTRY_MDNS);
        registry_free(r);
    }
    const char *bad[] = {"mdns://lo?wait=50", "mdns://lo?wait=20000", "mdns://lo?check=tcp", "mdns://a:1",
                         "mdns://averyveryverylongname"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_null(registry_new(bad[i], NULL, err, sizeof err), "%s was taken", bad[i]);
}

Test(mdns, type_names_both_ways)
{
    char t[64], s[64];
    mdns_type_name("shipping", t, sizeof t);
    cr_assert_str_eq(t, "_shipping._tcp.local.");
    cr_assert(mdns_type_service("_Shipping._TCP.local.", s, sizeof s));
    cr_assert_str_eq(s, "Shipping");
    cr_assert_not(mdns_type_service("_services._dns-sd._udp.local.", s, sizeof s));
    cr_assert_not(mdns_type_service("a._x._tcp.local.", s, sizeof s));
}

/* ---- records ---- */

Test(mdns, registration_records)
{
    mdns_rrset s = shipping("0.0.0.0:50051", "grpc", 10);
    cr_assert_str_eq(s.instance, "shipping-50051");
    cr_assert_str_eq(s.host, "wb-127-0-0-1.local.");
    s = shipping("10.1.2.3:7", "json", 10);
    cr_assert_str_eq(s.host, "wb-10-1-2-3.local.");
    ldns_pkt *p = roundtrip(mdns_announce(&s, 10));
    cr_assert(ldns_pkt_qr(p) && ldns_pkt_aa(p));
    cr_assert_eq(ldns_pkt_id(p), 0);
    cr_assert_eq(ldns_pkt_ancount(p), 5);
    const ldns_rr_list *an = ldns_pkt_answer(p);
    const ldns_rr *srv = find_rr(an, LDNS_RR_TYPE_SRV), *txt = find_rr(an, LDNS_RR_TYPE_TXT);
    const ldns_rr *a = find_rr(an, LDNS_RR_TYPE_A), *ptr = find_rr(an, LDNS_RR_TYPE_PTR);
    cr_assert(srv && txt && a && ptr);
    cr_assert_eq(ldns_rdf2native_int16(ldns_rr_rdf(srv, 2)), 7);
    cr_assert_eq(ldns_rr_ttl(srv), 10);
    cr_assert_eq((unsigned)ldns_rr_get_class(srv), LDNS_RR_CLASS_IN | MDNS_FLUSH); /* unique */
    cr_assert_eq((unsigned)ldns_rr_get_class(txt), LDNS_RR_CLASS_IN | MDNS_FLUSH);
    cr_assert_eq((unsigned)ldns_rr_get_class(a), LDNS_RR_CLASS_IN | MDNS_FLUSH);
    cr_assert_eq((unsigned)ldns_rr_get_class(ptr), LDNS_RR_CLASS_IN); /* shared */
    char *t = ldns_rdf2str(ldns_rr_rdf(txt, 1));
    cr_assert_str_eq(t, "\"protocol=json\"");
    free(t);
    cr_assert_eq(ldns_rr_rd_count(txt), 3);
    char name[256];
    mdns_name_text(ldns_rr_rdf(ptr, 0), name, sizeof name);
    cr_assert_str_eq(name, "shipping-7._shipping._tcp.local.");
    ldns_pkt_free(p);
}

Test(mdns, goodbye_is_ttl_zero_without_the_shared_host)
{
    mdns_rrset s = shipping("127.0.0.1:50051", "grpc", 10);
    ldns_pkt *p = roundtrip(mdns_announce(&s, 0));
    const ldns_rr_list *an = ldns_pkt_answer(p);
    cr_assert_eq(ldns_rr_list_rr_count(an), 3);
    for (size_t i = 0; i < 3; i++)
        cr_assert_eq(ldns_rr_ttl(ldns_rr_list_rr(an, i)), 0);
    cr_assert_null(find_rr(an, LDNS_RR_TYPE_A));
    ldns_pkt_free(p);
}

Test(mdns, probe_asks_any_with_the_proposed_records)
{
    mdns_rrset s = shipping("127.0.0.1:50051", "grpc", 10);
    ldns_pkt *p = roundtrip(mdns_probe(&s, true));
    cr_assert_not(ldns_pkt_qr(p));
    const ldns_rr *q = ldns_rr_list_rr(ldns_pkt_question(p), 0);
    cr_assert_eq(ldns_rr_get_type(q), LDNS_RR_TYPE_ANY);
    cr_assert_eq((unsigned)ldns_rr_get_class(q), LDNS_RR_CLASS_IN | MDNS_FLUSH); /* QU */
    cr_assert_not_null(find_rr(ldns_pkt_authority(p), LDNS_RR_TYPE_SRV));
    cr_assert_not_null(find_rr(ldns_pkt_authority(p), LDNS_RR_TYPE_TXT));
    ldns_pkt_free(p);
    p = roundtrip(mdns_probe(&s, false));
    cr_assert_eq((unsigned)ldns_rr_get_class(ldns_rr_list_rr(ldns_pkt_question(p), 0)), LDNS_RR_CLASS_IN);
    ldns_pkt_free(p);
}

/* ---- conflicts ---- */

Test(mdns, renaming_after_a_conflict)
{
    mdns_rrset s = shipping("127.0.0.1:50051", "grpc", 10);
    mdns_rename(&s);
    cr_assert_str_eq(s.instance, "shipping-50051 (2)");
    mdns_rename(&s);
    cr_assert_str_eq(s.instance, "shipping-50051 (3)");
    for (int i = 0; i < 8; i++)
        mdns_rename(&s);
    cr_assert_str_eq(s.instance, "shipping-50051 (11)");
    ldns_rdf *d = mdns_instance_dname(&s);
    cr_assert_eq(ldns_dname_label_count(d), 4); /* the space and parentheses stay in one label */
    ldns_rdf_deep_free(d);
}

Test(mdns, conflicts)
{
    mdns_rrset s = shipping("127.0.0.1:50051", "grpc", 10), other = s;
    ldns_pkt *own = roundtrip(mdns_announce(&s, 10));
    cr_assert_not(mdns_conflict(&s, own, false), "our own announcement, looped back");
    cr_assert_not(mdns_conflict(&s, own, true));
    ldns_pkt_free(own);
    own = roundtrip(mdns_probe(&s, true));
    cr_assert_not(mdns_conflict(&s, own, true), "our own probe, looped back");
    ldns_pkt_free(own);

    inet_pton(AF_INET, "127.0.0.2", &other.ip);
    registry_copy(other.host, sizeof other.host, "wb-127-0-0-2.local.");
    ldns_pkt *theirs = roundtrip(mdns_announce(&other, 10));
    cr_assert(mdns_conflict(&s, theirs, false));
    cr_assert(mdns_conflict(&s, theirs, true));
    ldns_pkt_free(theirs);
    theirs = roundtrip(mdns_announce(&other, 0));
    cr_assert_not(mdns_conflict(&s, theirs, false), "a goodbye takes no name");
    ldns_pkt_free(theirs);

    /* Simultaneous probes: the lexicographically greater SRV wins (wb-127-0-0-2 > -1). */
    theirs = roundtrip(mdns_probe(&other, false));
    cr_assert(mdns_conflict(&s, theirs, true));
    cr_assert_not(mdns_conflict(&s, theirs, false), "a probe after ours is theirs to lose");
    ldns_pkt_free(theirs);
    ldns_pkt *ours = roundtrip(mdns_probe(&s, false));
    cr_assert_not(mdns_conflict(&other, ours, true), "the greater one keeps probing");
    ldns_pkt_free(ours);

    mdns_rename(&s); /* "(2)" is not the name the other holds */
    theirs = roundtrip(mdns_announce(&other, 10));
    cr_assert_not(mdns_conflict(&s, theirs, false));
    ldns_pkt_free(theirs);
}

/* ---- answers ---- */

Test(mdns, ptr_answer_carries_srv_txt_a_and_waits)
{
    mdns_rrset s = shipping("127.0.0.1:50051", "grpc", 10);
    ldns_pkt *q = roundtrip(question("_shipping._tcp.local.", LDNS_RR_TYPE_PTR));
    mdns_reply r;
    mdns_answer(&s, q, false, &r);
    cr_assert_not_null(r.pkt);
    cr_assert(r.delay && !r.unicast);
    ldns_pkt *p = roundtrip(r.pkt);
    cr_assert_eq(ldns_pkt_qdcount(p), 0);
    cr_assert_eq(ldns_pkt_ancount(p), 1);
    cr_assert_not_null(find_rr(ldns_pkt_answer(p), LDNS_RR_TYPE_PTR));
    cr_assert_eq(ldns_pkt_arcount(p), 3);
    cr_assert_not_null(find_rr(ldns_pkt_additional(p), LDNS_RR_TYPE_SRV));
    cr_assert_not_null(find_rr(ldns_pkt_additional(p), LDNS_RR_TYPE_TXT));
    cr_assert_not_null(find_rr(ldns_pkt_additional(p), LDNS_RR_TYPE_A));
    ldns_pkt_free(p);
    ldns_pkt_free(q);
}

Test(mdns, answers_by_name_and_type)
{
    mdns_rrset s = shipping("127.0.0.1:50051", "grpc", 10);
    struct { const char *name; ldns_rr_type t; size_t an; bool delay; } cases[] = {
        {"shipping-50051._shipping._tcp.local.", LDNS_RR_TYPE_ANY, 2, false},
        {"SHIPPING-50051._shipping._tcp.local.", LDNS_RR_TYPE_SRV, 1, false},
        {"shipping-50051._shipping._tcp.local.", LDNS_RR_TYPE_TXT, 1, false},
        {"wb-127-0-0-1.local.", LDNS_RR_TYPE_A, 1, false},
        {"_services._dns-sd._udp.local.", LDNS_RR_TYPE_PTR, 1, true},
        {"_shipping._tcp.local.", LDNS_RR_TYPE_ANY, 1, true},
        {"_other._tcp.local.", LDNS_RR_TYPE_PTR, 0, false},
        {"wb-127-0-0-1.local.", LDNS_RR_TYPE_AAAA, 0, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ldns_pkt *q = roundtrip(question(cases[i].name, cases[i].t));
        mdns_reply r;
        mdns_answer(&s, q, false, &r);
        ldns_pkt_free(q);
        if (!cases[i].an) {
            cr_assert_null(r.pkt, "%s", cases[i].name);
            continue;
        }
        cr_assert_not_null(r.pkt, "%s", cases[i].name);
        cr_assert_eq(ldns_pkt_ancount(r.pkt), cases[i].an, "%s", cases[i].name);
        cr_assert_eq(r.delay, cases[i].delay, "%s", cases[i].name);
        ldns_pkt_free(r.pkt);
    }
    ldns_pkt *resp = roundtrip(mdns_announce(&s, 10));
    mdns_reply r;
    mdns_answer(&s, resp, false, &r);
    cr_assert_null(r.pkt, "a response is never answered");
    ldns_pkt_free(resp);
}

Test(mdns, known_answers_are_suppressed)
{
    mdns_rrset s = shipping("127.0.0.1:50051", "grpc", 10);
    for (uint32_t ttl = 3; ttl <= 6; ttl++) {
        ldns_pkt *q = question("_shipping._tcp.local.", LDNS_RR_TYPE_PTR);
        ldns_pkt_push_rr(q, LDNS_SECTION_ANSWER, mdns_rr(&s, MDNS_PTR, ttl, false));
        q = roundtrip(q);
        mdns_reply r;
        mdns_answer(&s, q, false, &r);
        if (ttl >= 5) /* half of 10 or more left: the querier knows it */
            cr_assert_null(r.pkt, "ttl %u", ttl);
        else
            cr_assert_not_null(r.pkt, "ttl %u", ttl);
        ldns_pkt_free(r.pkt);
        ldns_pkt_free(q);
    }
    ldns_pkt *q = question("_shipping._tcp.local.", LDNS_RR_TYPE_PTR);
    mdns_rrset other = shipping("127.0.0.1:50052", "grpc", 10);
    ldns_pkt_push_rr(q, LDNS_SECTION_ANSWER, mdns_rr(&other, MDNS_PTR, 10, false));
    mdns_reply r;
    mdns_answer(&s, q, false, &r);
    cr_assert_not_null(r.pkt, "another instance's PTR does not suppress ours");
    ldns_pkt_free(r.pkt);
    ldns_pkt_free(q);
}

Test(mdns, legacy_query_answered_by_unicast_with_its_id)
{
    mdns_rrset s = shipping("127.0.0.1:50051", "grpc", 120);
    ldns_pkt *q = question("_shipping._tcp.local.", LDNS_RR_TYPE_PTR);
    ldns_pkt_set_id(q, 4242);
    q = roundtrip(q);
    mdns_reply r;
    mdns_answer(&s, q, true, &r);
    cr_assert_not_null(r.pkt);
    cr_assert(r.unicast && !r.delay);
    ldns_pkt *p = roundtrip(r.pkt);
    cr_assert_eq(ldns_pkt_id(p), 4242);
    cr_assert_eq(ldns_pkt_qdcount(p), 1);
    char name[256];
    mdns_name_text(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(p), 0)), name, sizeof name);
    cr_assert_str_eq(name, "_shipping._tcp.local.");
    const ldns_rr_list *secs[] = {ldns_pkt_answer(p), ldns_pkt_additional(p)};
    for (int j = 0; j < 2; j++)
        for (size_t i = 0; i < ldns_rr_list_rr_count(secs[j]); i++) {
            const ldns_rr *rr = ldns_rr_list_rr(secs[j], i);
            cr_assert_leq(ldns_rr_ttl(rr), 10);
            cr_assert_eq((unsigned)ldns_rr_get_class(rr), LDNS_RR_CLASS_IN, "no cache-flush bit in legacy answers");
        }
    cr_assert_eq(ldns_pkt_arcount(p), 3);
    ldns_pkt_free(p);
    ldns_pkt_free(q);
}

/* ---- the cache ---- */

static bool cache_packet(mdns_cache *c, ldns_pkt *p, uint64_t now)
{
    ldns_pkt *q = roundtrip(p);
    bool changed = mdns_cache_packet(c, q, "_shipping._tcp.local.", false, now);
    ldns_pkt_free(q);
    return changed;
}

static size_t count(const mdns_cache *c, registry_instance *in)
{
    return mdns_cache_instances(c, "_shipping._tcp.local.", in, 8);
}

Test(mdns, cache_from_an_announcement)
{
    static mdns_cache c;
    registry_instance in[8];
    mdns_cache_init(&c, 1);
    mdns_rrset s = shipping("127.0.0.1:50051", "grpc", 10);
    cr_assert(cache_packet(&c, mdns_announce(&s, 10), 0));
    cr_assert_eq(count(&c, in), 1);
    cr_assert_str_eq(in[0].service, "shipping");
    cr_assert_str_eq(in[0].addr, "127.0.0.1:50051");
    cr_assert_str_eq(in[0].protocol, "grpc");
    cr_assert_not(cache_packet(&c, mdns_announce(&s, 10), 500), "the same again changes nothing");
    cr_assert_eq(mdns_cache_instances(&c, "", in, 8), 1);
    char types[4][128];
    cr_assert_eq(mdns_cache_types(&c, types, 4), 1);
    cr_assert_str_eq(types[0], "_shipping._tcp.local.");
}

Test(mdns, cache_refresh_schedule_and_expiry)
{
    static mdns_cache c;
    registry_instance in[8];
    mdns_ask asks[16];
    mdns_cache_init(&c, 7);
    mdns_rrset s = shipping("127.0.0.1:50051", "grpc", 10);
    cache_packet(&c, mdns_announce(&s, 10), 1000);
    cr_assert_eq(mdns_cache_refresh(&c, 8999, asks, 16), 0, "nothing before 80 %%");
    uint64_t next = mdns_cache_next(&c, 1000);
    cr_assert(next >= 8000 && next <= 8200, "first refresh point %llu ms away", (unsigned long long)next);
    /* Each of the four points (80, 85, 90, 95 %, plus at most 2 %) asks once. */
    uint64_t points[] = {9200, 9700, 10200, 10700};
    for (int k = 0; k < 4; k++) {
        size_t n = mdns_cache_refresh(&c, points[k], asks, 16);
        cr_assert_eq(n, 5, "point %d: %zu questions", k, n); /* PTR, SRV, TXT, A, enumeration PTR */
        cr_assert_eq(mdns_cache_refresh(&c, points[k], asks, 16), 0, "point %d asked twice", k);
    }
    cr_assert_eq(count(&c, in), 1);
    cr_assert_not(mdns_cache_expire(&c, 10999));
    cr_assert_eq(count(&c, in), 1);
    cr_assert(mdns_cache_expire(&c, 11000), "expiry at 100 %% of the TTL");
    cr_assert_eq(count(&c, in), 0);
    cr_assert_eq(c.n, 0);
}

Test(mdns, cache_refreshed_record_starts_again)
{
    static mdns_cache c;
    mdns_ask asks[16];
    mdns_cache_init(&c, 3);
    mdns_rrset s = shipping("127.0.0.1:50051", "grpc", 10);
    cache_packet(&c, mdns_announce(&s, 10), 0);
    cr_assert_eq(mdns_cache_refresh(&c, 8300, asks, 16), 5);
    cache_packet(&c, mdns_announce(&s, 10), 8400); /* the answer */
    cr_assert_not(mdns_cache_expire(&c, 12000));
    cr_assert_eq(mdns_cache_refresh(&c, 12000, asks, 16), 0);
    cr_assert_eq(mdns_cache_refresh(&c, 8400 + 8300, asks, 16), 5);
}

Test(mdns, cache_goodbye_ends_the_instance_at_once)
{
    static mdns_cache c;
    registry_instance in[8];
    mdns_cache_init(&c, 1);
    mdns_rrset a = shipping("127.0.0.1:50051", "grpc", 10), b = shipping("127.0.0.1:50052", "json", 10);
    cache_packet(&c, mdns_announce(&a, 10), 0);
    cache_packet(&c, mdns_announce(&b, 10), 0);
    cr_assert_eq(count(&c, in), 2);
    cr_assert(cache_packet(&c, mdns_announce(&a, 0), 2000));
    cr_assert_eq(count(&c, in), 1, "gone at once");
    cr_assert_str_eq(in[0].addr, "127.0.0.1:50052", "the other, on the same host, stays");
    cr_assert_not(mdns_cache_expire(&c, 2999));
    size_t before = c.n;
    mdns_cache_expire(&c, 3000);
    cr_assert_eq(c.n, before - 3, "the goodbye's records dropped after 1 s");
    cr_assert_eq(count(&c, in), 1);
}

Test(mdns, cache_protocol_and_address_changes)
{
    static mdns_cache c;
    registry_instance in[8];
    mdns_cache_init(&c, 1);
    cache_packet(&c, mdns_query(NULL, NULL, 0), 0); /* a query puts nothing in */
    cr_assert_eq(c.n, 0);
    ldns_pkt *p = ldns_pkt_new();
    ldns_pkt_set_qr(p, true);
    ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr_text("_shipping._tcp.local. 10 IN PTR a._shipping._tcp.local."));
    cr_assert(cache_packet(&c, p, 0));
    cr_assert_eq(count(&c, in), 0, "a PTR alone is no instance");
    mdns_ask asks[8];
    size_t n = mdns_cache_missing(&c, "_shipping._tcp.local.", asks, 8);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(asks[0].name, "a._shipping._tcp.local.");
    cr_assert_eq(asks[0].type, LDNS_RR_TYPE_SRV);
    cr_assert_eq(asks[1].type, LDNS_RR_TYPE_TXT);
    p = ldns_pkt_new();
    ldns_pkt_set_qr(p, true);
    ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr_text("a._shipping._tcp.local. 10 IN SRV 0 0 7000 h.local."));
    cache_packet(&c, p, 0);
    n = mdns_cache_missing(&c, "_shipping._tcp.local.", asks, 8);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(asks[0].name, "h.local.");
    cr_assert_eq(asks[0].type, LDNS_RR_TYPE_A);
    p = ldns_pkt_new();
    ldns_pkt_set_qr(p, true);
    ldns_pkt_push_rr(p, LDNS_SECTION_ADDITIONAL, rr_text("h.local. 10 IN A 10.0.0.9"));
    cache_packet(&c, p, 0);
    cr_assert_eq(count(&c, in), 1);
    cr_assert_str_eq(in[0].addr, "10.0.0.9:7000");
    cr_assert_str_eq(in[0].protocol, "", "no TXT (others' records): protocol \"\"");
    p = ldns_pkt_new();
    ldns_pkt_set_qr(p, true);
    ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr_text("a._shipping._tcp.local. 10 IN TXT \"path=/\" \"protocol=gob\""));
    cr_assert(cache_packet(&c, p, 100));
    count(&c, in);
    cr_assert_str_eq(in[0].protocol, "gob");
    /* A new SRV with the cache-flush bit replaces the old one (older than 1 s). */
    ldns_rr *srv = rr_text("a._shipping._tcp.local. 10 IN SRV 0 0 7001 h.local.");
    ldns_rr_set_class(srv, (ldns_rr_class)(LDNS_RR_CLASS_IN | MDNS_FLUSH));
    p = ldns_pkt_new();
    ldns_pkt_set_qr(p, true);
    ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, srv);
    cr_assert(cache_packet(&c, p, 5000));
    cr_assert_eq(count(&c, in), 1);
    cr_assert_str_eq(in[0].addr, "10.0.0.9:7001");
}

Test(mdns, browse_query_carries_known_answers)
{
    static mdns_cache c;
    mdns_cache_init(&c, 1);
    mdns_rrset s = shipping("127.0.0.1:50051", "grpc", 10);
    cache_packet(&c, mdns_announce(&s, 10), 0);
    mdns_ask ask = {"_shipping._tcp.local.", LDNS_RR_TYPE_PTR};
    ldns_pkt *q = roundtrip(mdns_cache_query(&c, &ask, 1, 4000));
    cr_assert_eq(ldns_pkt_ancount(q), 1);
    mdns_reply r;
    mdns_answer(&s, q, false, &r);
    cr_assert_null(r.pkt, "the responder stays quiet: 6 s of 10 left");
    ldns_pkt_free(q);
    q = roundtrip(mdns_cache_query(&c, &ask, 1, 6000));
    cr_assert_eq(ldns_pkt_ancount(q), 0, "less than half left: not a known answer");
    mdns_answer(&s, q, false, &r);
    cr_assert_not_null(r.pkt);
    ldns_pkt_free(r.pkt);
    ldns_pkt_free(q);
}

Test(mdns, cache_legacy_answers_never_shorten_a_record)
{
    static mdns_cache c;
    registry_instance in[8];
    mdns_cache_init(&c, 1);
    mdns_rrset s = shipping("127.0.0.1:50051", "grpc", 120);
    ldns_pkt *p = roundtrip(mdns_announce(&s, 120));
    cr_assert(mdns_cache_packet(&c, p, "_shipping._tcp.local.", false, 0));
    ldns_pkt_free(p);
    p = roundtrip(mdns_announce(&s, MDNS_LEGACY_TTL)); /* a legacy answer: TTL cut to 10 s */
    cr_assert_not(mdns_cache_packet(&c, p, "_shipping._tcp.local.", true, 1000));
    ldns_pkt_free(p);
    cr_assert_not(mdns_cache_expire(&c, 60000), "still the announcement's 120 s");
    cr_assert_eq(count(&c, in), 1);
    /* Late in its life, a legacy answer extends it; and one adds what was unknown. */
    p = roundtrip(mdns_announce(&s, 110));
    mdns_cache_packet(&c, p, "_shipping._tcp.local.", true, 115000);
    ldns_pkt_free(p);
    cr_assert_not(mdns_cache_expire(&c, 200000));
    cr_assert_eq(count(&c, in), 1);
    mdns_cache_init(&c, 1);
    p = roundtrip(mdns_announce(&s, MDNS_LEGACY_TTL));
    cr_assert(mdns_cache_packet(&c, p, "_shipping._tcp.local.", true, 0));
    ldns_pkt_free(p);
    cr_assert_eq(count(&c, in), 1);
}

Test(mdns, instance_labels_shown_as_their_text)
{
    char out[64];
    mdns_label_text("arith-50051\\032\\(2\\)", strlen("arith-50051\\032\\(2\\)"), out, sizeof out);
    cr_assert_str_eq(out, "arith-50051 (2)");
    mdns_label_text("a\\.b\\\\c\\009d\\2", 14, out, sizeof out);
    cr_assert_str_eq(out, "a.b\\c?d2", "an escaped dot and backslash, a tab made '?', a \\X");
    mdns_label_text("shipping-50051", 8, out, sizeof out);
    cr_assert_str_eq(out, "shipping", "only len bytes");
    mdns_label_text("arith-50051\\032\\(2\\)", 20, out, 8);
    cr_assert_str_eq(out, "arith-5", "cut to the buffer");
}

Test(mdns, cache_shows_a_renamed_instance_as_its_text)
{
    static mdns_cache c;
    registry_instance in[8];
    mdns_cache_init(&c, 1);
    mdns_rrset s = shipping("127.0.0.1:50051", "grpc", 10);
    mdns_rename(&s);
    cr_assert(cache_packet(&c, mdns_announce(&s, 10), 0));
    cr_assert_eq(count(&c, in), 1);
    cr_assert_str_eq(in[0].instance, "shipping-50051 (2)");
}
