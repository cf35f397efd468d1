/* dnsexplain_summary.c -- a DNS message in one line (what a list of mDNS packets shows),
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/i18n.h"
#include "wire/dnsexplain_int.h"

/* The line being written: it keeps what fits and ends in "..." when cut. */
typedef struct line {
    char *s;
    size_t cap, at;
} line;

static void put(line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(line *l, const char *fmt, ...)
{
    if (l->at + 1 >= l->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int r = vsnprintf(l->s + l->at, l->cap - l->at, fmt, ap);
    va_end(ap);
    if (r < 0)
        return;
    if ((size_t)r >= l->cap - l->at) {
        l->at = l->cap - 1;
        if (l->cap > 4)
            memcpy(l->s + l->cap - 4, "...", 4);
        return;
    }
    l->at += (size_t)r;
}

/* One record read for the summary. */
typedef struct rrinfo {
    char owner[DNS_NAME_TEXT];
    unsigned type;
    uint32_t ttl;
    size_t rd, rdlen;
} rrinfo;

static int read_rr(const uint8_t *p, size_t n, size_t *off, rrinfo *r, char *why, size_t wl)
{
    size_t next;
    if (dns_name_read(p, n, *off, n, r->owner, sizeof r->owner, &next, why, wl) < 0)
        return -1;
    if (next + 10 > n || dns_be16(p + next + 8) > n - next - 10) {
        snprintf(why, wl, "%s", _("a record is cut short"));
        return -1;
    }
    r->type = dns_be16(p + next);
    r->ttl = dns_be32(p + next + 4);
    r->rdlen = dns_be16(p + next + 8);
    r->rd = next + 10;
    *off = r->rd + r->rdlen;
    return 0;
}

/* "PTR a -> b", "SRV host:port", "TXT k=v ...", "A 1.2.3.4", "NSEC name". */
static void record_words(const uint8_t *p, size_t n, const rrinfo *r, line *l)
{
    char tt[16], text[DNS_NAME_TEXT], why[160];
    size_t next, end = r->rd + r->rdlen;
    const char *tn = dns_type_name(r->type, tt, sizeof tt);
    switch (r->type) {
    case 1:
    case 28:
        if (r->rdlen == (r->type == 1 ? 4u : 16u)) {
            dns_addr_text(p + r->rd, r->rdlen, text, sizeof text);
            put(l, "%s %s", tn, text);
            return;
        }
        break;
    case 2:
    case 5:
    case 12:
        if (dns_name_read(p, n, r->rd, end, text, sizeof text, &next, why, sizeof why) == 0) {
            put(l, "%s %s -> %s", tn, r->owner, text);
            return;
        }
        break;
    case 33:
        if (r->rdlen > 6 &&
            dns_name_read(p, n, r->rd + 6, end, text, sizeof text, &next, why, sizeof why) == 0) {
            put(l, "SRV %s:%u", text, dns_be16(p + r->rd + 4));
            return;
        }
        break;
    case 16:
        put(l, "TXT");
        for (size_t at = r->rd; at < end && at + 1 + p[at] <= end; at += 1u + p[at]) {
            explain_quote(text, sizeof text, p + at + 1, p[at], 40,
                          EXPLAIN_QUOTE_BARE | EXPLAIN_QUOTE_UTF8);
            put(l, " %s", text);
        }
        return;
    }
    put(l, "%s %s", tn, r->owner);
}

static int questions(const uint8_t *p, size_t n, size_t *off, unsigned qd, line *l, bool *qu,
                     char *why, size_t wl)
{
    char name[DNS_NAME_TEXT], tt[16];
    for (unsigned i = 0; i < qd; i++) {
        size_t next;
        if (dns_name_read(p, n, *off, n, name, sizeof name, &next, why, wl) < 0)
            return -1;
        if (next + 4 > n) {
            snprintf(why, wl, "%s", _("a question is cut short"));
            return -1;
        }
        *qu = *qu || (p[next + 2] & 0x80);
        put(l, "%s%s? %s", i ? ", " : "", dns_type_name(dns_be16(p + next), tt, sizeof tt), name);
        *off = next + 4;
    }
    return 0;
}

/* The records of the answer and additional sections, and their TTLs' range. */
static int records(const uint8_t *p, size_t n, size_t off, const unsigned count[3], line *l,
                   char *why, size_t wl)
{
    uint32_t lo = UINT32_MAX, hi = 0;
    bool first = true;
    for (int s = 0; s < 3; s++)
        for (unsigned i = 0; i < count[s]; i++) {
            rrinfo r;
            if (read_rr(p, n, &off, &r, why, wl) < 0)
                return -1;
            if (s == 1 || r.type == 41)
                continue;
            put(l, "%s", first ? " " : ", ");
            first = false;
            record_words(p, n, &r, l);
            lo = r.ttl < lo ? r.ttl : lo;
            hi = r.ttl > hi ? r.ttl : hi;
        }
    if (hi > 0 && lo == hi)
        put(l, ", TTL %u", (unsigned)hi);
    else if (hi > 0)
        put(l, ", TTL %u-%u", (unsigned)lo, (unsigned)hi);
    return 0;
}

/* Whether every record of the answer section has TTL 0 (and there is one). */
static bool all_goodbye(const uint8_t *p, size_t n, size_t off, unsigned an)
{
    char why[8];
    for (unsigned i = 0; i < an; i++) {
        rrinfo r;
        if (read_rr(p, n, &off, &r, why, sizeof why) < 0 || r.ttl != 0)
            return false;
    }
    return an > 0;
}

int dnsexplain_summary(const uint8_t *p, size_t n, char *out, size_t cap)
{
    char why[160] = "";
    line l = {out, cap, 0};
    if (cap == 0)
        return -1;
    out[0] = '\0';
    if (n < 12) {
        snprintf(out, cap, _("not a DNS message: %zu bytes, under the 12 of a header"), n);
        return -1;
    }
    unsigned qd = dns_be16(p + 4), count[3] = {dns_be16(p + 6), dns_be16(p + 8), dns_be16(p + 10)};
    bool qr = p[2] & 0x80, qu = false;
    size_t off = 12;
    if (!qr) {
        put(&l, "%-6s ", count[1] && qd ? _("probe") : _("query"));
        if (questions(p, n, &off, qd, &l, &qu, why, sizeof why) < 0)
            goto bad;
        char known[64] = "", proposed[64] = "";
        if (count[0] == 1)
            snprintf(known, sizeof known, "%s", _(", 1 known answer"));
        else if (count[0])
            snprintf(known, sizeof known, _(", %u known answers"), count[0]);
        if (count[1] == 1)
            snprintf(proposed, sizeof proposed, "%s", _(", 1 proposed record"));
        else if (count[1])
            snprintf(proposed, sizeof proposed, _(", %u proposed records"), count[1]);
        /* TRANSLATORS: QU or QM, then the known answers and proposed records, if any */
        put(&l, _(" (%s%s%s)"), qu ? "QU" : "QM", known, proposed);
        size_t save = l.at;
        char tail[8];
        line scratch = {tail, sizeof tail, 0};
        if (records(p, n, off, count, &scratch, why, sizeof why) < 0)
            goto bad;
        l.at = save;
        return 0;
    }
    for (unsigned i = 0; i < qd; i++) { /* a response may repeat its questions */
        size_t next;
        char name[DNS_NAME_TEXT];
        if (dns_name_read(p, n, off, n, name, sizeof name, &next, why, sizeof why) < 0)
            goto bad;
        if (next + 4 > n) {
            snprintf(why, sizeof why, "%s", _("a question is cut short"));
            goto bad;
        }
        off = next + 4;
    }
    put(&l, "%-6s", all_goodbye(p, n, off, count[0]) ? _("goodbye") : _("answer"));
    if (records(p, n, off, count, &l, why, sizeof why) < 0)
        goto bad;
    if (count[0] + count[2] == 0)
        put(&l, " %s", _("(no records)"));
    return 0;
bad:
    snprintf(out, cap, _("malformed DNS message: %s"), why);
    return -1;
}
