/* test_dnsexplain.c -- DNS messages explained and summed up, on packets from real mDNS
 * peers, checked against ldns's parser, and on malformed messages built from them.
 *
 * Origin of the vectors, all captured on the loopback of a private network namespace by a
 * UDP socket on port 5353 joined to 224.0.0.251 (or, for unicast answers, by the asking
 * socket):
 *   zc_*  python3-zeroconf 0.47.3 (Debian), Zeroconf(interfaces=["127.0.0.1"]) registering
 *         shipping-50051._shipping._tcp.local. (port 50051, host wb-127-0-0-1.local.,
 *         TXT txtvers=1 protocol=grpc version=latest, TTL 10), a ServiceBrowser asking for
 *         it, and unregister_service (the goodbye). zc_nsec is its unicast answer to an
 *         AAAA question for the host, which it does not have.
 *   hm_*  hashicorp/mdns 1.0.3 (Go): its client's query for _shipping._tcp, and its
 *         server's answer for shipping-50052 (priority 10, weight 1, TTL 120). */
#include <criterion/criterion.h>
#include <ldns/ldns.h>
#include <string.h>

#include "testkit.h"
#include "wire/dnsexplain.h"

#define ZC_PROBE                                                                                   \
    "000004000001000000010000095f7368697070696e67045f746370056c6f63616c00000c8001c00c000c00010000000a" \
    "00110e7368697070696e672d3530303531c00c"
#define ZC_ANNOUNCE                                                                                \
    "000084000000000400000000095f7368697070696e67045f746370056c6f63616c00000c00010000000a00110e736869" \
    "7070696e672d3530303531c00cc02c002180010000000a001500000000c3830c77622d3132372d302d302d31c01bc02c" \
    "001080010000000a002709747874766572733d310d70726f746f636f6c3d677270630e76657273696f6e3d6c61746573" \
    "74c04f000180010000000a00047f000001"
#define ZC_QUERY_QU                                                                                \
    "000000000001000000000000095f7368697070696e67045f746370056c6f63616c00000c8001"
#define ZC_QUERY_KNOWN                                                                             \
    "000000000001000100000000095f7368697070696e67045f746370056c6f63616c00000c0001c00c000c000100000463" \
    "00110e7368697070696e672d3530303531c00c"
#define ZC_GOODBYE                                                                                 \
    "000084000000000400000000095f7368697070696e67045f746370056c6f63616c00000c00010000000000110e736869" \
    "7070696e672d3530303531c00cc02c0021800100000000001500000000c3830c77622d3132372d302d302d31c01bc02c" \
    "0010800100000000002709747874766572733d310d70726f746f636f6c3d677270630e76657273696f6e3d6c61746573" \
    "74c04f000180010000000000047f000001"
#define ZC_NSEC                                                                                    \
    "1234840000010001000000000c77622d3132372d302d302d31056c6f63616c00001c0001c00c002f000100001194000a" \
    "c00c0000000400000008"
#define HM_QUERY "747c00000001000000000000095f7368697070696e67045f746370056c6f63616c00000c0001"
#define HM_ANSWER                                                                                  \
    "000084000000000400000000095f7368697070696e67045f746370056c6f63616c00000c00010000007800110e736869" \
    "7070696e672d3530303532c00cc02c0021000100000078001a000a0001c3840c77622d3132372d302d302d31056c6f63" \
    "616c00c04f000100010000007800047f000001c02c0010000100000078001809747874766572733d310d70726f746f63" \
    "6f6c3d67727063"

/* Explains hex, checks every byte is covered once, and that ldns agrees it is valid. */
static int explain_hex_msg(const char *hex, explain *e, bytes *b)
{
    *b = unhex(hex);
    explain_init(e);
    int r = dnsexplain_message(b->p, b->n, e);
    assert_leaves_tile(e, b->n);
    ldns_pkt *pkt = NULL;
    ldns_status st = ldns_wire2pkt(&pkt, b->p, b->n);
    cr_expect_eq(st == LDNS_STATUS_OK, r == 0, "ldns says %s, we say %d", ldns_get_errorstr_by_id(st), r);
    ldns_pkt_free(pkt);
    return r;
}

static void summary_is(const char *hex, const char *want)
{
    bytes b = unhex(hex);
    char line[512];
    cr_expect_eq(dnsexplain_summary(b.p, b.n, line, sizeof line), 0, "%s", line);
    cr_expect_str_eq(line, want);
    free(b.p);
}

#define HAS(e, s) cr_expect_not_null(find_span(e, s), "no span says \"%s\"", s)

Test(dnsexplain, zeroconf_announcement)
{
    explain e;
    bytes b;
    cr_assert_eq(explain_hex_msg(ZC_ANNOUNCE, &e, &b), 0);
    HAS(&e, "header: a response");
    HAS(&e, "ID 0: multicast DNS");
    HAS(&e, "ANCOUNT 4");
    HAS(&e, "label \"_shipping\"");
    HAS(&e, "pointer to offset 12: _shipping._tcp.local.");
    HAS(&e, "pointer to offset 27: local.");
    HAS(&e, "type 33 = SRV");
    HAS(&e, "class 0x8001 = IN with the cache-flush bit");
    HAS(&e, "TTL 10");
    HAS(&e, "port 50051");
    HAS(&e, "target host wb-127-0-0-1.local.");
    HAS(&e, "key protocol = grpc");
    HAS(&e, "address 127.0.0.1");
    const span *s = find_span(&e, "answer record 2: SRV shipping-50051._shipping._tcp.local.");
    cr_assert_not_null(s);
    cr_expect_eq(s->off, 0x3d);
    cr_expect_eq(s->len, 33);
    explain_done(&e);
    free(b.p);
    summary_is(ZC_ANNOUNCE, "answer PTR _shipping._tcp.local. -> shipping-50051._shipping._tcp.local., "
                            "SRV wb-127-0-0-1.local.:50051, TXT txtvers=1 protocol=grpc "
                            "version=latest, A 127.0.0.1, TTL 10");
}

Test(dnsexplain, zeroconf_goodbye_probe_queries)
{
    explain e;
    bytes b;
    cr_assert_eq(explain_hex_msg(ZC_GOODBYE, &e, &b), 0);
    cr_expect_eq(count_spans(&e, "TTL 0: a goodbye, the record is withdrawn"), 4);
    explain_done(&e);
    free(b.p);
    summary_is(ZC_GOODBYE, "goodbye PTR _shipping._tcp.local. -> shipping-50051._shipping._tcp.local., "
                           "SRV wb-127-0-0-1.local.:50051, TXT txtvers=1 protocol=grpc "
                           "version=latest, A 127.0.0.1");

    cr_assert_eq(explain_hex_msg(ZC_PROBE, &e, &b), 0);
    HAS(&e, "top bit 1: QU");
    HAS(&e, "NSCOUNT 1: authority records (in an mDNS probe");
    HAS(&e, "authority record 1: PTR _shipping._tcp.local.");
    explain_done(&e);
    free(b.p);
    summary_is(ZC_PROBE, "probe  PTR? _shipping._tcp.local. (QU, 1 proposed record)");
    summary_is(ZC_QUERY_QU, "query  PTR? _shipping._tcp.local. (QU)");

    cr_assert_eq(explain_hex_msg(ZC_QUERY_KNOWN, &e, &b), 0);
    HAS(&e, "ANCOUNT 1: known answers");
    HAS(&e, "top bit 0: QM");
    HAS(&e, "TTL 1123");
    explain_done(&e);
    free(b.p);
    summary_is(ZC_QUERY_KNOWN, "query  PTR? _shipping._tcp.local. (QM, 1 known answer)");
}

/* zeroconf 0.47.3 writes NSEC's window number and bitmap length as two bytes each
 * (RFC 4034 has one byte each): a window 0 of length 0, which is refused. */
Test(dnsexplain, zeroconf_nsec_bitmap_is_malformed)
{
    explain e;
    bytes b = unhex(ZC_NSEC);
    explain_init(&e);
    cr_expect_eq(dnsexplain_message(b.p, b.n, &e), -1);
    assert_leaves_tile(&e, b.n);
    HAS(&e, "type 47 = NSEC");
    HAS(&e, "next name wb-127-0-0-1.local.");
    const span *s = find_span(&e, "a type bitmap of 0 bytes");
    cr_assert_not_null(s);
    cr_expect_eq(s->cls, SPAN_ERROR);
    cr_expect_eq(s->off + s->len, b.n);
    explain_done(&e);
    /* the same record with the bitmap as RFC 4034 writes it: window 0, 4 bytes, AAAA */
    b.p[0x2f] = 8;
    memmove(b.p + 0x32, b.p + 0x34, 6);
    bytes fixed = {b.p, b.n - 2};
    explain_init(&e);
    cr_expect_eq(dnsexplain_message(fixed.p, fixed.n, &e), 0);
    assert_leaves_tile(&e, fixed.n);
    HAS(&e, "window 0, 4 bitmap bytes");
    HAS(&e, "types the name has (any other is known not to exist): AAAA");
    explain_done(&e);
    free(b.p);
}

Test(dnsexplain, hashicorp_query_and_answer)
{
    explain e;
    bytes b;
    cr_assert_eq(explain_hex_msg(HM_QUERY, &e, &b), 0);
    HAS(&e, "ID 0x747c: the asker's number");
    HAS(&e, "question 1: PTR? _shipping._tcp.local.");
    explain_done(&e);
    free(b.p);
    summary_is(HM_QUERY, "query  PTR? _shipping._tcp.local. (QM)");

    cr_assert_eq(explain_hex_msg(HM_ANSWER, &e, &b), 0);
    HAS(&e, "priority 10");
    HAS(&e, "weight 1");
    HAS(&e, "port 50052");
    HAS(&e, "TTL 120");
    cr_expect_null(find_span(&e, "cache-flush"));
    explain_done(&e);
    free(b.p);
    summary_is(HM_ANSWER, "answer PTR _shipping._tcp.local. -> shipping-50052._shipping._tcp.local., "
                          "SRV wb-127-0-0-1.local.:50052, A 127.0.0.1, TXT txtvers=1 "
                          "protocol=grpc, TTL 120");
}

/* A response whose question stops after its name: the summary says why (it once printed
 * a reason nobody had written). */
Test(dnsexplain, a_response_with_its_question_cut_short)
{
    bytes b = unhex("123484000001000000000000" "01610000");
    char line[256];
    memset(line, '\n', sizeof line);
    cr_expect_eq(dnsexplain_summary(b.p, b.n, line, sizeof line), -1, "%s", line);
    cr_expect_str_eq(line, "malformed DNS message: a question is cut short");
    free(b.p);
}

/* Every prefix of a real message: covered, and refused exactly when ldns refuses it. */
Test(dnsexplain, every_truncation)
{
    bytes b = unhex(ZC_ANNOUNCE);
    for (size_t n = 1; n < b.n; n++) {
        explain e;
        explain_init(&e);
        cr_expect_eq(dnsexplain_message(b.p, n, &e), -1, "a prefix of %zu bytes", n);
        assert_leaves_tile(&e, n);
        cr_expect_eq(e.spans[e.len - 1].cls, SPAN_ERROR);
        char line[256];
        cr_expect_eq(dnsexplain_summary(b.p, n, line, sizeof line), -1, "%zu: %s", n, line);
        explain_done(&e);
    }
    free(b.p);
}

Test(dnsexplain, pointers_loops_and_bad_labels)
{
    /* a question whose name is a pointer to itself, then one to beyond the message */
    const char *cases[][2] = {
        {"000000000001000000000000c00c000c0001", "not before it"},
        {"000000000001000000000000c0ff000c0001", "not before it"},
        {"00000000000100000000000003616263c00c000c0001", "more than 32 compression pointers"},
        {"0000000000010000000000004061000c0001", "label type 0x40"},
        {"000000000001000000000000ff", "cut short"},
        {"000000000001000000000000056162", "runs past the end"},
        {"0000000000000000000000000102", "2 bytes after the last record"},
        {"000000000002000000000000", "QDCOUNT says 2 questions"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        explain e;
        bytes b = unhex(cases[i][0]);
        explain_init(&e);
        cr_expect_eq(dnsexplain_message(b.p, b.n, &e), -1, "case %zu", i);
        assert_leaves_tile(&e, b.n);
        cr_expect_not_null(find_span(&e, cases[i][1]), "case %zu wants \"%s\"", i, cases[i][1]);
        explain_done(&e);
        free(b.p);
    }
    /* a chain of pointers, each to the one before: longer than the hop cap */
    uint8_t m[12 + 2 + 2 * 40 + 4] = {0, 0, 0, 0, 0, 1};
    m[12] = 0;
    m[13] = 0; /* padding: a root label nobody points at directly */
    for (int i = 0; i < 40; i++) {
        unsigned at = 14 + 2 * i, to = i == 0 ? 12 : at - 2;
        m[at] = (uint8_t)(0xC0 | to >> 8);
        m[at + 1] = (uint8_t)to;
    }
    char text[64], why[128];
    size_t next;
    cr_expect_eq(dns_name_read(m, sizeof m, 14 + 2 * 39, sizeof m, text, sizeof text, &next, why,
                               sizeof why), -1);
    cr_expect(strstr(why, "more than 32"), "%s", why);
    cr_expect_eq(dns_name_read(m, sizeof m, 14 + 2 * 5, sizeof m, text, sizeof text, &next, why,
                               sizeof why), 0, "%s", why);
    cr_expect_str_eq(text, ".");
}

Test(dnsexplain, opt_and_opaque_records)
{
    /* a query with an EDNS OPT record (payload 1232, a COOKIE option) and, in the
     * additional section, an HINFO record shown as opaque bytes */
    const char *h = "abcd0100000100000000000203777777076578616d706c6503636f6d000001000100002904"
                    "d000000000000c000a00080102030405060708c00c000d000100000e10000401410142";
    explain e;
    bytes b;
    cr_assert_eq(explain_hex_msg(h, &e, &b), 0);
    HAS(&e, "OPT's class field: 1232");
    HAS(&e, "EDNS version 0");
    HAS(&e, "EDNS option 10 (COOKIE), 8 bytes");
    HAS(&e, "4 bytes of HINFO data");
    HAS(&e, "ID 0xabcd");
    HAS(&e, "RD 1");
    explain_done(&e);
    free(b.p);
}

Test(dnsexplain, renders_and_names)
{
    char tt[16];
    cr_expect_str_eq(dns_type_name(33, tt, sizeof tt), "SRV");
    cr_expect_str_eq(dns_type_name(65280, tt, sizeof tt), "TYPE65280");
    cr_expect_str_eq(dns_class_name(1, tt, sizeof tt), "IN");
    explain e;
    bytes b;
    explain_hex_msg(ZC_ANNOUNCE, &e, &b);
    buf out;
    buf_init(&out, 0);
    explain_style st = {80, false, false};
    cr_assert_eq(explain_render(&e, b.p, b.n, &st, &out), 0);
    buf_append(&out, "", 1);
    cr_expect(strstr((const char *)buf_data(&out), "port 50051"));
    buf_done(&out);
    explain_done(&e);
    free(b.p);
}
