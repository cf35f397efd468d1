/* dnsexplain_rdata.c -- the data of DNS records explained: PTR, SRV, TXT, A, AAAA, NSEC
 * and OPT field by field, other types as opaque bytes. */
#include <stdio.h>
#include <string.h>

#include "base/i18n.h"
#include "wire/dnsexplain_int.h"

static int txt(dnsx *w, size_t off, size_t end)
{
    char text[600];
    while (off < end) {
        unsigned len = w->p[off];
        if (off + 1 + len > end)
            return dnsx_fail(w, off, _("a TXT string of %u bytes, but only %zu are left"), len,
                             end - off - 1);
        const uint8_t *s = w->p + off + 1;
        const uint8_t *eq = memchr(s, '=', len);
        if (len == 0) {
            dnsx_leaf(w, off, 1, SPAN_DATA, "%s", _("an empty string (0): no keys"));
        } else if (eq && eq > s) {
            char key[300];
            explain_quote(key, sizeof key, s, (size_t)(eq - s), 64, EXPLAIN_QUOTE_BARE | EXPLAIN_QUOTE_UTF8);
            explain_quote(text, sizeof text, eq + 1, len - (size_t)(eq - s) - 1, 200,
                          EXPLAIN_QUOTE_BARE | EXPLAIN_QUOTE_UTF8);
            dnsx_leaf(w, off, 1u + len, SPAN_DATA, _("string (%u bytes): key %s = %s"), len, key, text);
        } else {
            explain_quote(text, sizeof text, s, len, 200, EXPLAIN_QUOTE_UTF8);
            dnsx_leaf(w, off, 1u + len, SPAN_DATA, _("string (%u bytes): %s, a key without a value"),
                      len, text);
        }
        off += 1u + len;
    }
    return 0;
}

static int srv(dnsx *w, size_t off, size_t end)
{
    if (end - off < 7)
        return dnsx_fail(w, off, "%s", _("SRV data is cut short: it needs 6 bytes and a name"));
    const uint8_t *p = w->p + off;
    dnsx_leaf(w, off, 2, SPAN_DATA, _("priority %u: the lowest is tried first"), dns_be16(p));
    dnsx_leaf(w, off + 2, 2, SPAN_DATA, _("weight %u: shares among equal priorities"),
              dns_be16(p + 2));
    dnsx_leaf(w, off + 4, 2, SPAN_DATA, _("port %u: where the service listens"), dns_be16(p + 4));
    size_t next;
    if (dnsx_name(w, off + 6, end, _("target host"), &next) < 0)
        return -1;
    return next == end ? 0 : dnsx_fail(w, next, "%s", _("bytes after the SRV target"));
}

/* NSEC's type bitmap (RFC 4034 §4.1.2): blocks of a window number, a length and bits. */
static int nsec(dnsx *w, size_t off, size_t end)
{
    size_t next;
    if (dnsx_name(w, off, end, _("next name"), &next) < 0)
        return -1;
    while (next < end) {
        if (end - next < 2)
            return dnsx_fail(w, next, "%s", _("a type bitmap block is cut short"));
        unsigned win = w->p[next], len = w->p[next + 1];
        if (len < 1 || len > 32 || len > end - next - 2)
            return dnsx_fail(w, next, _("a type bitmap of %u bytes (1 to 32, within the data)"),
                             len);
        dnsx_leaf(w, next, 2, SPAN_FRAME, _("window %u, %u bitmap bytes"), win, len);
        char list[600], tt[16];
        size_t at = 0;
        list[0] = '\0';
        for (unsigned i = 0; i < len * 8; i++)
            if (w->p[next + 2 + i / 8] & (0x80 >> (i % 8)) && at + 20 < sizeof list)
                at += (size_t)snprintf(list + at, sizeof list - at, "%s%s", at ? " " : "",
                                       dns_type_name(win * 256 + i, tt, sizeof tt));
        dnsx_leaf(w, next + 2, len, SPAN_DATA,
                  _("types the name has (any other is known not to exist): %s"), list);
        next += 2u + len;
    }
    return 0;
}

static const char *edns_option(unsigned code)
{
    switch (code) {
    case 3: return "NSID";
    case 4: return "Owner";
    case 8: return "CLIENT-SUBNET";
    case 10: return "COOKIE";
    case 11: return "TCP-KEEPALIVE";
    case 12: return "PADDING";
    default: return "?";
    }
}

static int opt(dnsx *w, size_t off, size_t end)
{
    while (off < end) {
        if (end - off < 4)
            return dnsx_fail(w, off, "%s", _("an EDNS option is cut short"));
        unsigned code = dns_be16(w->p + off), len = dns_be16(w->p + off + 2);
        if (len > end - off - 4)
            return dnsx_fail(w, off, _("an EDNS option of %u bytes, but only %zu are left"), len,
                             end - off - 4);
        dnsx_leaf(w, off, 4u + len, SPAN_DATA, _("EDNS option %u (%s), %u bytes of data"), code,
                  edns_option(code), len);
        off += 4u + len;
    }
    return 0;
}

int dnsx_rdata(dnsx *w, unsigned t, size_t off, size_t len)
{
    size_t end = off + len, next;
    char text[64], tt[16];
    switch (t) {
    case 1:
    case 28:
        if (len != (t == 1 ? 4u : 16u))
            return dnsx_fail(w, off, _("an address of %zu bytes; this type has %u"), len,
                             t == 1 ? 4u : 16u);
        dns_addr_text(w->p + off, len, text, sizeof text);
        dnsx_leaf(w, off, len, SPAN_DATA, _("address %s"), text);
        return 0;
    case 2:
    case 5:
    case 12:
    case 39:
        if (dnsx_name(w, off, end, _("points to"), &next) < 0)
            return -1;
        return next == end ? 0 : dnsx_fail(w, next, "%s", _("bytes after the name"));
    case 16: return txt(w, off, end);
    case 33: return srv(w, off, end);
    case 41: return opt(w, off, end);
    case 47: return nsec(w, off, end);
    default:
        dnsx_leaf(w, off, len, SPAN_DATA, _("%zu bytes of %s data, not taken apart here"), len,
                  dns_type_name(t, tt, sizeof tt));
        return 0;
    }
}
