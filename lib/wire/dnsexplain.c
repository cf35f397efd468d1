/* dnsexplain.c -- a DNS message explained byte by byte: the header, questions, records and
 * names (labels and compression pointers), from this module's own walk of the bytes. */
#include "wire/dnsexplain.h"

#include <stdio.h>
#include <string.h>

#include "base/i18n.h"
#include "wire/dnsexplain_int.h"

/* ---- the header ---- */

static const char *opcode_name(unsigned op)
{
    static const char *const names[] = {"QUERY", "IQUERY", "STATUS", "?", "NOTIFY", "UPDATE"};
    return op < 6 ? names[op] : "?";
}

static const char *rcode_name(unsigned rc)
{
    static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                        "NOTIMP", "REFUSED"};
    return rc < 6 ? names[rc] : "?";
}

static void header(dnsx *w)
{
    const uint8_t *p = w->p;
    unsigned id = dns_be16(p), f1 = p[2], f2 = p[3];
    bool qr = f1 & 0x80;
    dnsx_open(w, 0, SPAN_FRAME, "%s", qr ? _("header: a response") : _("header: a query"));
    if (id == 0)
        dnsx_leaf(w, 0, 2, SPAN_FRAME, "%s",
                  _("ID 0: multicast DNS sets it to zero and ignores it"));
    else
        dnsx_leaf(w, 0, 2, SPAN_FRAME,
                  _("ID 0x%04x: the asker's number; the answer carries it back"), id);
    dnsx_leaf(w, 2, 1, SPAN_FRAME, _("flags: QR %u (%s), opcode %u (%s), AA %u (%s), TC %u (%s), RD %u"),
              qr, qr ? _("a response") : _("a query"), (f1 >> 3) & 0xF,
              opcode_name((f1 >> 3) & 0xF), (f1 >> 2) & 1,
              f1 & 4 ? _("authoritative") : _("not authoritative"), (f1 >> 1) & 1,
              f1 & 2 ? _("truncated, more known answers follow") : _("not truncated"), f1 & 1);
    dnsx_leaf(w, 3, 1, SPAN_FRAME, _("flags: RA %u, Z %u, RCODE %u (%s)"), f2 >> 7, (f2 >> 4) & 7,
              f2 & 0xF, rcode_name(f2 & 0xF));
    dnsx_leaf(w, 4, 2, SPAN_FRAME, _("QDCOUNT %u: questions"), dns_be16(p + 4));
    dnsx_leaf(w, 6, 2, SPAN_FRAME,
              qr ? _("ANCOUNT %u: answer records") : _("ANCOUNT %u: known answers (the asker "
                                                        "has these; do not send them again)"),
              dns_be16(p + 6));
    dnsx_leaf(w, 8, 2, SPAN_FRAME,
              qr ? _("NSCOUNT %u: authority records") : _("NSCOUNT %u: authority records (in an "
                                                          "mDNS probe: the records proposed)"),
              dns_be16(p + 8));
    dnsx_leaf(w, 10, 2, SPAN_FRAME, _("ARCOUNT %u: additional records"), dns_be16(p + 10));
    dnsx_close(w, 12);
}

/* ---- questions and records ---- */

static int question(dnsx *w, size_t *off, unsigned i)
{
    char tt[16], ct[16], name[DNS_NAME_TEXT];
    size_t at = *off, next;
    unsigned t = 0, c;
    char why[160];
    if (dns_name_read(w->p, w->n, at, w->n, name, sizeof name, &next, why, sizeof why) < 0)
        snprintf(name, sizeof name, "?");
    else if (next + 4 <= w->n)
        t = dns_be16(w->p + next);
    dnsx_open(w, at, SPAN_FRAME, _("question %u: %s? %s"), i, dns_type_name(t, tt, sizeof tt),
              name);
    if (dnsx_name(w, at, w->n, _("name"), &next) < 0)
        return -1;
    if (next + 4 > w->n)
        return dnsx_fail(w, next, "%s", _("the question is cut short: type and class need 4 bytes"));
    t = dns_be16(w->p + next);
    c = dns_be16(w->p + next + 2);
    const char *tn = dns_type_name(t, tt, sizeof tt);
    dnsx_leaf(w, next, 2, SPAN_TYPE, t == 255 ? _("type %u = %s: every record of the name")
                                              : _("type %u = %s"), t, tn);
    const char *cn = dns_class_name(c & 0x7FFF, ct, sizeof ct);
    if (!(c & 0x8000))
        dnsx_leaf(w, next + 2, 2, SPAN_TYPE, _("class %u = %s; top bit 0: QM, answer by multicast"),
                  c, cn);
    else if (explain_first_time(&w->told, TOLD_QU))
        dnsx_leaf(w, next + 2, 2, SPAN_TYPE,
                  _("class 0x%04x = %s; top bit 1: QU, a unicast response is wanted (mDNS, "
                    "RFC 6762 §5.4)"),
                  c, cn);
    else
        dnsx_leaf(w, next + 2, 2, SPAN_TYPE, _("class 0x%04x = %s; QU: a unicast response wanted"),
                  c, cn);
    *off = next + 4;
    dnsx_close(w, *off);
    return 0;
}

/* The record's class, TTL: what they mean, and OPT's other use of them (RFC 6891). */
static void class_ttl(dnsx *w, size_t at, unsigned t, unsigned c, uint32_t ttl)
{
    char ct[16];
    if (t == 41) {
        dnsx_leaf(w, at, 2, SPAN_TYPE,
                  _("OPT's class field: %u, the largest UDP payload the sender takes"), c);
        dnsx_leaf(w, at + 2, 4, SPAN_FRAME,
                  _("OPT's TTL field: extended RCODE %u, EDNS version %u, DO bit %u"), ttl >> 24,
                  (ttl >> 16) & 0xFF, (ttl >> 15) & 1);
        return;
    }
    const char *cn = dns_class_name(c & 0x7FFF, ct, sizeof ct);
    if (!(c & 0x8000))
        dnsx_leaf(w, at, 2, SPAN_TYPE, _("class %u = %s"), c, cn);
    else if (explain_first_time(&w->told, TOLD_FLUSH))
        dnsx_leaf(w, at, 2, SPAN_TYPE,
                  _("class 0x%04x = %s with the cache-flush bit: this is the whole set of such "
                    "records of the name, drop older ones (mDNS, RFC 6762 §10.2)"),
                  c, cn);
    else
        dnsx_leaf(w, at, 2, SPAN_TYPE, _("class 0x%04x = %s, cache-flush"), c, cn);
    if (ttl == 0)
        dnsx_leaf(w, at + 2, 4, SPAN_DATA, "%s", _("TTL 0: a goodbye, the record is withdrawn"));
    else if (explain_first_time(&w->told, TOLD_TTL))
        dnsx_leaf(w, at + 2, 4, SPAN_DATA,
                  _("TTL %u: seconds the record may be kept in a cache"), ttl);
    else
        dnsx_leaf(w, at + 2, 4, SPAN_DATA, _("TTL %u s"), ttl);
}

static int record(dnsx *w, size_t *off, const char *section, unsigned i)
{
    char tt[16], name[DNS_NAME_TEXT], why[160];
    size_t at = *off, next;
    unsigned t = 0;
    if (dns_name_read(w->p, w->n, at, w->n, name, sizeof name, &next, why, sizeof why) < 0)
        snprintf(name, sizeof name, "?");
    else if (next + 2 <= w->n)
        t = dns_be16(w->p + next);
    dnsx_open(w, at, SPAN_FRAME, _("%s record %u: %s %s"), section, i,
              dns_type_name(t, tt, sizeof tt), name);
    if (dnsx_name(w, at, w->n, _("owner"), &next) < 0)
        return -1;
    if (next + 10 > w->n)
        return dnsx_fail(w, next, "%s",
                         _("the record is cut short: type, class, TTL and RDLENGTH need 10 bytes"));
    const uint8_t *h = w->p + next;
    t = dns_be16(h);
    unsigned c = dns_be16(h + 2), rdlen = dns_be16(h + 8);
    dnsx_leaf(w, next, 2, SPAN_TYPE, _("type %u = %s"), t, dns_type_name(t, tt, sizeof tt));
    class_ttl(w, next + 2, t, c, dns_be32(h + 4));
    size_t rd = next + 10;
    if (rdlen > w->n - rd)
        return dnsx_fail(w, next + 8, _("RDLENGTH %u, but only %zu bytes are left"), rdlen,
                         w->n - rd);
    dnsx_leaf(w, next + 8, 2, SPAN_FRAME, _("RDLENGTH %u: the record's data follows"), rdlen);
    if (rdlen > 0) {
        dnsx_open(w, rd, SPAN_DATA, _("RDATA (%s, %u bytes)"), dns_type_name(t, tt, sizeof tt), rdlen);
        if (dnsx_rdata(w, t, rd, rdlen) < 0)
            return -1;
        dnsx_close(w, rd + rdlen);
    }
    *off = rd + rdlen;
    dnsx_close(w, *off);
    return 0;
}

int dnsexplain_message(const uint8_t *p, size_t n, explain *e)
{
    dnsx w = {.p = p, .n = n, .e = e};
    if (n < 12) {
        if (n == 0)
            return 0;
        return dnsx_fail(&w, 0, _("a DNS message starts with a 12-byte header; these are %zu bytes"),
                         n);
    }
    header(&w);
    size_t off = 12;
    unsigned qd = dns_be16(p + 4);
    for (unsigned i = 1; i <= qd; i++) {
        if (off >= n)
            return dnsx_fail(&w, off, _("QDCOUNT says %u questions, the message ends after %u"),
                             qd, i - 1);
        if (question(&w, &off, i) < 0)
            return -1;
    }
    const char *sections[3] = {_("answer"), _("authority"), _("additional")};
    for (int s = 0; s < 3; s++) {
        unsigned count = dns_be16(p + 6 + 2 * s);
        for (unsigned i = 1; i <= count; i++) {
            if (off >= n)
                return dnsx_fail(&w, off, _("%s: the count says %u records, the message ends after %u"),
                                 sections[s], count, i - 1);
            if (record(&w, &off, sections[s], i) < 0)
                return -1;
        }
    }
    if (off < n)
        return dnsx_fail(&w, off, _("%zu bytes after the last record, which no count covers"),
                         n - off);
    return 0;
}
