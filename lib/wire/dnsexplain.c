/* dnsexplain.c -- a DNS message explained byte by byte: the header, questions, records and
 * names (labels and compression pointers), from this module's own walk of the bytes. */
#include "wire/dnsexplain.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/i18n.h"
#include "wire/dnsexplain_int.h"

#define LAYER "dns"

/* ---- spans ---- */

static int add_v(dnsx *w, size_t off, size_t len, span_class cls, const char *fmt, va_list ap)
{
    if (!w->e)
        return -1;
    char text[2048];
    vsnprintf(text, sizeof text, fmt, ap);
    return explain_add(w->e, off, len, w->nopen, cls, LAYER, "%s", text);
}

void dnsx_leaf(dnsx *w, size_t off, size_t len, span_class cls, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_v(w, off, len, cls, fmt, ap);
    va_end(ap);
}

void dnsx_open(dnsx *w, size_t off, span_class cls, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int idx = add_v(w, off, 0, cls, fmt, ap);
    va_end(ap);
    if (w->nopen < DNSX_MAX_OPEN) {
        w->open[w->nopen] = idx;
        w->open_off[w->nopen] = off;
    }
    w->nopen++;
}

void dnsx_close(dnsx *w, size_t end)
{
    if (w->nopen <= 0)
        return;
    w->nopen--;
    if (w->e && w->nopen < DNSX_MAX_OPEN)
        explain_set_len(w->e, w->open[w->nopen], end - w->open_off[w->nopen]);
}

int dnsx_fail(dnsx *w, size_t off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_v(w, off, w->n - off, SPAN_ERROR, fmt, ap);
    va_end(ap);
    while (w->nopen > 0)
        dnsx_close(w, w->n);
    return -1;
}

/* ---- names ---- */

/* The length of the UTF-8 character at s (at most n bytes), or 0 when it is not one. */
static size_t utf8_char(const uint8_t *s, size_t n)
{
    size_t len = s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 ? 2 : 0;
    if (s[0] >= 0xF5 || len == 0 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

/* Appends a label as text: a dot or backslash in it escaped, a byte that is neither
 * printable nor part of a UTF-8 character as \DDD (RFC 1035 §5.1). */
static void label_text(const uint8_t *s, size_t len, char *out, size_t cap, size_t *at)
{
    for (size_t i = 0; i < len && *at + 5 < cap;) {
        size_t u = s[i] >= 0x80 ? utf8_char(s + i, len - i) : 0;
        if (u) {
            memcpy(out + *at, s + i, u);
            *at += u;
            i += u;
            continue;
        }
        if (s[i] == '.' || s[i] == '\\')
            *at += (size_t)snprintf(out + *at, cap - *at, "\\%c", s[i]);
        else if (s[i] < 0x20 || s[i] >= 0x7F)
            *at += (size_t)snprintf(out + *at, cap - *at, "\\%03u", s[i]);
        else
            out[(*at)++] = (char)s[i];
        i++;
    }
    out[*at] = '\0';
}

int dns_name_read(const uint8_t *p, size_t n, size_t off, size_t limit, char *out, size_t cap,
                  size_t *next, char *why, size_t whylen)
{
    size_t at = 0, wire = 0, pos = off;
    unsigned hops = 0;
    bool jumped = false;
    if (limit > n)
        limit = n;
    out[0] = '\0';
    for (;;) {
        size_t end = jumped ? n : limit;
        if (pos >= end) {
            snprintf(why, whylen, "%s", _("the name runs past the end of its bytes"));
            return -1;
        }
        uint8_t b = p[pos];
        if ((b & 0xC0) == 0xC0) {
            if (pos + 2 > end) {
                snprintf(why, whylen, "%s", _("a compression pointer is cut short"));
                return -1;
            }
            size_t target = (size_t)(dns_be16(p + pos) & 0x3FFF);
            if (!jumped)
                *next = pos + 2;
            if (target >= pos) {
                snprintf(why, whylen, _("a compression pointer to offset %zu, which is not before it"),
                         target);
                return -1;
            }
            if (++hops > DNS_MAX_HOPS) {
                snprintf(why, whylen, _("more than %d compression pointers in one name"),
                         DNS_MAX_HOPS);
                return -1;
            }
            jumped = true;
            pos = target;
            continue;
        }
        if (b & 0xC0) {
            snprintf(why, whylen, _("label type 0x%02x is not defined (a length byte is below 64)"),
                     b & 0xC0);
            return -1;
        }
        if (pos + 1 + b > end) {
            snprintf(why, whylen, "%s", _("a label runs past the end of its bytes"));
            return -1;
        }
        wire += 1u + b;
        if (wire > 255) {
            snprintf(why, whylen, "%s", _("the name is longer than 255 bytes"));
            return -1;
        }
        if (b == 0) {
            if (!jumped)
                *next = pos + 1;
            if (at == 0 && cap > 1)
                snprintf(out, cap, ".");
            return 0;
        }
        label_text(p + pos + 1, b, out, cap, &at);
        if (at + 1 < cap) {
            out[at++] = '.';
            out[at] = '\0';
        }
        pos += 1u + b;
    }
}

int dnsx_name(dnsx *w, size_t off, size_t limit, const char *title, size_t *next)
{
    char text[DNS_NAME_TEXT], why[160];
    if (dns_name_read(w->p, w->n, off, limit, text, sizeof text, next, why, sizeof why) < 0) {
        dnsx_open(w, off, SPAN_FRAME, _("%s (malformed)"), title);
        return dnsx_fail(w, off, _("malformed name: %s"), why);
    }
    if (!w->e)
        return 0;
    dnsx_open(w, off, SPAN_DATA, "%s %s", title, text);
    for (size_t pos = off; pos < *next;) {
        uint8_t b = w->p[pos];
        if ((b & 0xC0) == 0xC0) {
            size_t target = (size_t)(dns_be16(w->p + pos) & 0x3FFF), ignore;
            char rest[DNS_NAME_TEXT];
            dns_name_read(w->p, w->n, target, w->n, rest, sizeof rest, &ignore, why, sizeof why);
            if (explain_first_time(&w->told, TOLD_POINTER))
                dnsx_leaf(w, pos, 2, SPAN_FRAME,
                          _("pointer to offset %zu: %s (compression: the top two bits 11 make "
                            "these two bytes a pointer to where the rest of the name was "
                            "written before)"),
                          target, rest);
            else
                dnsx_leaf(w, pos, 2, SPAN_FRAME, _("pointer to offset %zu: %s"), target, rest);
            pos += 2;
        } else if (b == 0) {
            dnsx_leaf(w, pos, 1, SPAN_FRAME, "%s", _("0: the root label, the name ends"));
            pos++;
        } else {
            char label[DNS_NAME_TEXT];
            size_t at = 0;
            label_text(w->p + pos + 1, b, label, sizeof label, &at);
            if (explain_first_time(&w->told, TOLD_LABEL))
                dnsx_leaf(w, pos, 1u + b, SPAN_DATA,
                          _("label \"%s\": a length byte (%u), then that many bytes"), label, b);
            else
                dnsx_leaf(w, pos, 1u + b, SPAN_DATA, _("label \"%s\" (%u)"), label, b);
            pos += 1u + b;
        }
    }
    dnsx_close(w, *next);
    return 0;
}

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
