/* dnsexplain_names.c -- what the DNS explainer's pieces build on: spans that keep their
 * containers closed over an error, names read and explained label by label, and the
 * names of types (from ldns's table), classes and addresses. */
#include <arpa/inet.h>
#include <ldns/ldns.h>
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

/* ---- names of numbers ---- */

const char *dns_type_name(unsigned type, char *tmp, size_t cap)
{
    if (type == 255) /* a question's type only, so ldns has no descriptor for it */
        return "ANY";
    const ldns_rr_descriptor *d = ldns_rr_descript((uint16_t)type);
    if (d && d->_name && d->_type == type)
        return d->_name;
    snprintf(tmp, cap, "TYPE%u", type);
    return tmp;
}

const char *dns_class_name(unsigned cls, char *tmp, size_t cap)
{
    switch (cls) {
    case 1: return "IN";
    case 3: return "CH";
    case 4: return "HS";
    case 254: return "NONE";
    case 255: return "ANY";
    default: snprintf(tmp, cap, "CLASS%u", cls); return tmp;
    }
}

void dns_addr_text(const uint8_t *a, size_t len, char *out, size_t cap)
{
    if (!inet_ntop(len == 4 ? AF_INET : AF_INET6, a, out, (socklen_t)cap) && cap)
        out[0] = '\0';
}
