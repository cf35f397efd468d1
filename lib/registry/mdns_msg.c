/* mdns_msg.c -- multicast DNS names, one registration's records, and the messages the
 * responder and the browser send and read, all built and parsed with ldns. */
#include "registry/mdns_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"
#include "base/i18n.h"
#include "base/net.h"

/* ---- names ---- */

int mdns_check_name(const char *service, char *err, size_t errlen)
{
    size_t n = strlen(service);
    bool ok = n >= 1 && n <= MDNS_NAME_MAX && service[0] != '-' && service[n - 1] != '-';
    for (size_t i = 0; ok && i < n; i++)
        ok = isalnum((unsigned char)service[i]) || service[i] == '-';
    if (ok)
        return 0;
    err_set(err, errlen, _("mdns: service name \"%.*s\" cannot be a DNS-SD service type: it needs 1 to %d "
            "letters, digits or hyphens, not beginning or ending with a hyphen (RFC 6335)"),
            (int)(n > 64 ? 64 : n), service, MDNS_NAME_MAX);
    return -1;
}

void mdns_type_name(const char *service, char *out, size_t cap)
{
    snprintf(out, cap, "_%s._tcp.local.", service);
}

bool mdns_type_service(const char *type, char *out, size_t cap)
{
    static const char tail[] = "._tcp.local.";
    size_t n = strlen(type), t = sizeof tail - 1;
    if (n <= t + 1 || type[0] != '_' || strcasecmp(type + n - t, tail) != 0 || memchr(type, '.', n - t))
        return false;
    snprintf(out, cap, "%.*s", (int)(n - t - 1), type + 1);
    return true;
}

ldns_rdf *mdns_dname(const char *label, const char *suffix)
{
    char text[600];
    size_t o = 0;
    for (const unsigned char *c = (const unsigned char *)label; *c && o + 5 < 300; c++)
        if (isalnum(*c) || *c == '-' || *c == '_')
            text[o++] = (char)*c;
        else
            o += (size_t)snprintf(text + o, sizeof text - o, "\\%03u", *c);
    snprintf(text + o, sizeof text - o, "%s%s", o ? "." : "", suffix);
    return ldns_dname_new_frm_str(text[0] ? text : ".");
}

void mdns_name_text(const ldns_rdf *d, char *out, size_t cap)
{
    char *s = d ? ldns_rdf2str(d) : NULL;
    registry_copy(out, cap, s);
    free(s);
    for (char *c = out; *c; c++)
        *c = (char)tolower((unsigned char)*c);
}

void mdns_label_text(const char *label, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < cap; i++) {
        const char *c = label + i;
        if (*c == '\\' && i + 3 < len && isdigit((unsigned char)c[1]) && isdigit((unsigned char)c[2]) &&
            isdigit((unsigned char)c[3])) {
            int v = (c[1] - '0') * 100 + (c[2] - '0') * 10 + (c[3] - '0');
            out[o++] = v >= 32 && v < 127 ? (char)v : '?';
            i += 3;
        } else if (*c == '\\' && i + 1 < len) {
            out[o++] = c[1];
            i++;
        } else {
            out[o++] = *c;
        }
    }
    if (cap)
        out[o] = '\0';
}

int mdns_rrset_init(mdns_rrset *s, const char *service, const char *addr, const char *protocol, int ttl,
                    const mdns_if *ifc, char *err, size_t errlen)
{
    char host[256];
    int port;
    memset(s, 0, sizeof *s);
    if (mdns_check_name(service, err, errlen) < 0 || net_split(addr, host, sizeof host, &port, err, errlen) < 0)
        return -1;
    if (port < 1 || port > 65535) {
        err_set(err, errlen, _("mdns: address %s has no port"), addr);
        return -1;
    }
    if (inet_pton(AF_INET, host, &s->ip) != 1 || s->ip.s_addr == htonl(INADDR_ANY))
        s->ip = ifc->addr; /* all addresses, a name or IPv6: the interface's own */
    registry_copy(s->service, sizeof s->service, service);
    snprintf(s->instance, sizeof s->instance, "%s-%d", service, port);
    const unsigned char *b = (const unsigned char *)&s->ip;
    snprintf(s->host, sizeof s->host, "wb-%u-%u-%u-%u.local.", b[0], b[1], b[2], b[3]);
    s->port = (uint16_t)port;
    registry_copy(s->protocol, sizeof s->protocol, protocol);
    s->ttl = (uint32_t)ttl;
    return 0;
}

void mdns_rename(mdns_rrset *s)
{
    char base[64];
    int n = 1;
    registry_copy(base, sizeof base, s->instance);
    char *p = strrchr(base, '(');
    size_t len = strlen(base);
    if (p && p > base + 1 && p[-1] == ' ' && len && base[len - 1] == ')' && sscanf(p, "(%d)", &n) == 1 && n >= 2)
        p[-1] = 0;
    else
        n = 1;
    snprintf(s->instance, sizeof s->instance, "%.50s (%d)", base, n + 1);
}

ldns_rdf *mdns_instance_dname(const mdns_rrset *s)
{
    char type[64];
    mdns_type_name(s->service, type, sizeof type);
    return mdns_dname(s->instance, type);
}

/* ---- records ---- */

static ldns_rdf *str_rdf(const char *s)
{
    uint8_t b[256];
    size_t n = strlen(s) > 255 ? 255 : strlen(s);
    b[0] = (uint8_t)n;
    memcpy(b + 1, s, n);
    return ldns_rdf_new_frm_data(LDNS_RDF_TYPE_STR, n + 1, b);
}

ldns_rr *mdns_rr(const mdns_rrset *s, mdns_kind k, uint32_t ttl, bool flush)
{
    char type[64], txt[40];
    mdns_type_name(s->service, type, sizeof type);
    ldns_rr *rr = ldns_rr_new();
    if (!rr)
        return NULL;
    ldns_rdf *owner = NULL;
    switch (k) {
    case MDNS_PTR:
        owner = ldns_dname_new_frm_str(type);
        ldns_rr_set_type(rr, LDNS_RR_TYPE_PTR);
        ldns_rr_push_rdf(rr, mdns_instance_dname(s));
        break;
    case MDNS_ENUM:
        owner = ldns_dname_new_frm_str(MDNS_SERVICES);
        ldns_rr_set_type(rr, LDNS_RR_TYPE_PTR);
        ldns_rr_push_rdf(rr, ldns_dname_new_frm_str(type));
        break;
    case MDNS_SRV:
        owner = mdns_instance_dname(s);
        ldns_rr_set_type(rr, LDNS_RR_TYPE_SRV);
        ldns_rr_push_rdf(rr, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, 0));
        ldns_rr_push_rdf(rr, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, 0));
        ldns_rr_push_rdf(rr, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, s->port));
        ldns_rr_push_rdf(rr, ldns_dname_new_frm_str(s->host));
        break;
    case MDNS_TXT:
        owner = mdns_instance_dname(s);
        ldns_rr_set_type(rr, LDNS_RR_TYPE_TXT);
        snprintf(txt, sizeof txt, "protocol=%s", s->protocol);
        ldns_rr_push_rdf(rr, str_rdf("txtvers=1"));
        ldns_rr_push_rdf(rr, str_rdf(txt));
        ldns_rr_push_rdf(rr, str_rdf("version=latest"));
        break;
    case MDNS_A:
    default:
        owner = ldns_dname_new_frm_str(s->host);
        ldns_rr_set_type(rr, LDNS_RR_TYPE_A);
        ldns_rr_push_rdf(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_A, 4, &s->ip));
        break;
    }
    ldns_rr_set_owner(rr, owner);
    ldns_rr_set_class(rr, (ldns_rr_class)(LDNS_RR_CLASS_IN | (flush ? MDNS_FLUSH : 0)));
    ldns_rr_set_ttl(rr, ttl);
    bool whole = owner != NULL; /* every part made (none is NULL: out of memory) */
    for (size_t i = 0; i < ldns_rr_rd_count(rr); i++)
        whole &= ldns_rr_rdf(rr, i) != NULL;
    if (!whole) {
        ldns_rr_free(rr);
        return NULL;
    }
    return rr;
}

static bool push(ldns_pkt *p, ldns_pkt_section sec, ldns_rr *rr)
{
    if (rr && ldns_pkt_push_rr(p, sec, rr))
        return true;
    ldns_rr_free(rr);
    return false;
}

static ldns_rr *question(ldns_rdf *name, ldns_rr_type t, bool qu)
{
    ldns_rr *q = name ? ldns_rr_new() : NULL;
    if (!q) {
        ldns_rdf_deep_free(name);
        return NULL;
    }
    ldns_rr_set_owner(q, name);
    ldns_rr_set_type(q, t);
    ldns_rr_set_class(q, (ldns_rr_class)(LDNS_RR_CLASS_IN | (qu ? MDNS_FLUSH : 0)));
    ldns_rr_set_question(q, true);
    return q;
}

ldns_pkt *mdns_probe(const mdns_rrset *s, bool qu)
{
    ldns_pkt *p = ldns_pkt_new();
    if (!p)
        return NULL;
    bool ok = push(p, LDNS_SECTION_QUESTION, question(mdns_instance_dname(s), LDNS_RR_TYPE_ANY, qu)) &&
              push(p, LDNS_SECTION_AUTHORITY, mdns_rr(s, MDNS_SRV, s->ttl, false)) &&
              push(p, LDNS_SECTION_AUTHORITY, mdns_rr(s, MDNS_TXT, s->ttl, false));
    if (!ok) {
        ldns_pkt_free(p);
        return NULL;
    }
    return p;
}

static ldns_pkt *response(void)
{
    ldns_pkt *p = ldns_pkt_new();
    if (p) {
        ldns_pkt_set_qr(p, true);
        ldns_pkt_set_aa(p, true);
    }
    return p;
}

ldns_pkt *mdns_announce(const mdns_rrset *s, uint32_t ttl)
{
    ldns_pkt *p = response();
    if (!p)
        return NULL;
    bool ok = true;
    for (int k = 0; k < MDNS_NKINDS && ok; k++)
        if (ttl || k == MDNS_PTR || k == MDNS_SRV || k == MDNS_TXT) /* the host and the type stay others' too */
            ok = push(p, LDNS_SECTION_ANSWER, mdns_rr(s, (mdns_kind)k, ttl, k == MDNS_SRV || k == MDNS_TXT || k == MDNS_A));
    if (!ok) {
        ldns_pkt_free(p);
        return NULL;
    }
    return p;
}

ldns_pkt *mdns_query(const char *const *names, const ldns_rr_type *types, size_t n)
{
    ldns_pkt *p = ldns_pkt_new();
    for (size_t i = 0; p && i < n; i++)
        if (!push(p, LDNS_SECTION_QUESTION, question(ldns_dname_new_frm_str(names[i]), types[i], false))) {
            ldns_pkt_free(p);
            return NULL;
        }
    return p;
}

int mdns_wire(const ldns_pkt *p, uint8_t **wire, size_t *len)
{
    *wire = NULL;
    if (!p || ldns_pkt2wire(wire, p, len) != LDNS_STATUS_OK || *len > MDNS_MAX_PACKET) {
        free(*wire);
        *wire = NULL;
        return -1;
    }
    return 0;
}

/* ---- answering ---- */

static bool same_rdata(const ldns_rr *a, const ldns_rr *b)
{
    if (ldns_rr_rd_count(a) != ldns_rr_rd_count(b))
        return false;
    for (size_t i = 0; i < ldns_rr_rd_count(a); i++) {
        const ldns_rdf *x = ldns_rr_rdf(a, i), *y = ldns_rr_rdf(b, i);
        if (!x || !y)
            return false;
        if (ldns_rdf_get_type(x) == LDNS_RDF_TYPE_DNAME && ldns_rdf_get_type(y) == LDNS_RDF_TYPE_DNAME
                ? ldns_dname_compare(x, y) != 0
                : ldns_rdf_size(x) != ldns_rdf_size(y) || memcmp(ldns_rdf_data(x), ldns_rdf_data(y), ldns_rdf_size(x)))
            return false;
    }
    return true;
}

static bool same_owner(const ldns_rr *a, const ldns_rdf *name)
{
    return name && ldns_dname_compare(ldns_rr_owner(a), name) == 0;
}

bool mdns_known(const ldns_pkt *q, const ldns_rr *rr)
{
    const ldns_rr_list *ans = ldns_pkt_answer(q);
    for (size_t i = 0; i < ldns_rr_list_rr_count(ans); i++) {
        const ldns_rr *k = ldns_rr_list_rr(ans, i);
        if (ldns_rr_get_type(k) == ldns_rr_get_type(rr) && same_owner(k, ldns_rr_owner(rr)) &&
            same_rdata(k, rr) && (uint64_t)ldns_rr_ttl(k) * 2 >= ldns_rr_ttl(rr))
            return true;
    }
    return false;
}

/* Which of s's records answer question qr: a bit per mdns_kind. */
static unsigned answers_to(const mdns_rrset *s, const ldns_rr *qr)
{
    char type[64];
    mdns_type_name(s->service, type, sizeof type);
    ldns_rr_type t = ldns_rr_get_type(qr);
    bool any = t == LDNS_RR_TYPE_ANY;
    unsigned c = mdns_class(qr), bits = 0;
    if (c != LDNS_RR_CLASS_IN && c != LDNS_RR_CLASS_ANY)
        return 0;
    ldns_rdf *n_type = ldns_dname_new_frm_str(type), *n_enum = ldns_dname_new_frm_str(MDNS_SERVICES);
    ldns_rdf *n_inst = mdns_instance_dname(s), *n_host = ldns_dname_new_frm_str(s->host);
    if (same_owner(qr, n_type) && (any || t == LDNS_RR_TYPE_PTR))
        bits |= 1u << MDNS_PTR;
    if (same_owner(qr, n_enum) && (any || t == LDNS_RR_TYPE_PTR))
        bits |= 1u << MDNS_ENUM;
    if (same_owner(qr, n_inst) && (any || t == LDNS_RR_TYPE_SRV))
        bits |= 1u << MDNS_SRV;
    if (same_owner(qr, n_inst) && (any || t == LDNS_RR_TYPE_TXT))
        bits |= 1u << MDNS_TXT;
    if (same_owner(qr, n_host) && (any || t == LDNS_RR_TYPE_A))
        bits |= 1u << MDNS_A;
    ldns_rdf_deep_free(n_type);
    ldns_rdf_deep_free(n_enum);
    ldns_rdf_deep_free(n_inst);
    ldns_rdf_deep_free(n_host);
    return bits;
}

/* Pushes s's records in bits to sec of p, minus those q already knows. Returns how many. */
static int push_kinds(ldns_pkt *p, ldns_pkt_section sec, const mdns_rrset *s, unsigned bits,
                      const ldns_pkt *q, bool legacy)
{
    uint32_t ttl = legacy && s->ttl > MDNS_LEGACY_TTL ? MDNS_LEGACY_TTL : s->ttl;
    int n = 0;
    for (int k = 0; k < MDNS_NKINDS; k++) {
        if (!(bits & (1u << k)))
            continue;
        bool unique = k == MDNS_SRV || k == MDNS_TXT || k == MDNS_A;
        ldns_rr *rr = mdns_rr(s, (mdns_kind)k, ttl, unique && !legacy);
        if (rr && !legacy && mdns_known(q, rr)) {
            ldns_rr_free(rr);
            continue;
        }
        n += push(p, sec, rr);
    }
    return n;
}

void mdns_answer(const mdns_rrset *s, const ldns_pkt *q, bool legacy, mdns_reply *out)
{
    memset(out, 0, sizeof *out);
    if (ldns_pkt_qr(q) || ldns_pkt_get_opcode(q) != LDNS_PACKET_QUERY)
        return;
    const ldns_rr_list *qs = ldns_pkt_question(q);
    unsigned bits = 0;
    for (size_t i = 0; i < ldns_rr_list_rr_count(qs); i++)
        bits |= answers_to(s, ldns_rr_list_rr(qs, i));
    if (!bits)
        return;
    unsigned extra = 0;
    if (bits & (1u << MDNS_PTR))
        extra = (1u << MDNS_SRV) | (1u << MDNS_TXT) | (1u << MDNS_A);
    if (bits & (1u << MDNS_SRV))
        extra |= 1u << MDNS_A;
    extra &= ~bits;
    ldns_pkt *p = response();
    if (!p)
        return;
    if (legacy) {
        ldns_pkt_set_id(p, ldns_pkt_id(q));
        for (size_t i = 0; i < ldns_rr_list_rr_count(qs); i++)
            push(p, LDNS_SECTION_QUESTION, ldns_rr_clone(ldns_rr_list_rr(qs, i)));
    }
    int n = push_kinds(p, LDNS_SECTION_ANSWER, s, bits, q, legacy);
    bool unique = false;
    for (size_t i = 0; i < ldns_pkt_ancount(p); i++)
        unique |= ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_answer(p), i)) != LDNS_RR_TYPE_PTR;
    if (!n) {
        ldns_pkt_free(p);
        return;
    }
    push_kinds(p, LDNS_SECTION_ADDITIONAL, s, extra, q, legacy);
    out->pkt = p;
    out->unicast = legacy;
    out->delay = !legacy && !unique; /* answers that are all shared (PTR) */
}

bool mdns_conflict(const mdns_rrset *s, const ldns_pkt *p, bool probing)
{
    ldns_rdf *inst = mdns_instance_dname(s);
    ldns_rr *srv = mdns_rr(s, MDNS_SRV, s->ttl, false), *txt = mdns_rr(s, MDNS_TXT, s->ttl, false);
    bool conflict = false;
    if (!inst || !srv || !txt)
        goto done;
    if (ldns_pkt_qr(p)) {
        const ldns_rr_list *secs[2] = {ldns_pkt_answer(p), ldns_pkt_additional(p)};
        for (int j = 0; j < 2 && !conflict; j++)
            for (size_t i = 0; i < ldns_rr_list_rr_count(secs[j]) && !conflict; i++) {
                const ldns_rr *rr = ldns_rr_list_rr(secs[j], i);
                ldns_rr_type t = ldns_rr_get_type(rr);
                if (ldns_rr_ttl(rr) == 0 || !same_owner(rr, inst) || (t != LDNS_RR_TYPE_SRV && t != LDNS_RR_TYPE_TXT))
                    continue;
                conflict = !same_rdata(rr, t == LDNS_RR_TYPE_SRV ? srv : txt);
            }
    } else if (probing) { /* simultaneous probes: the greater SRV rdata wins (§8.2) */
        const ldns_rr_list *auth = ldns_pkt_authority(p);
        for (size_t i = 0; i < ldns_rr_list_rr_count(auth) && !conflict; i++) {
            const ldns_rr *rr = ldns_rr_list_rr(auth, i);
            if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SRV || !same_owner(rr, inst) || same_rdata(rr, srv))
                continue;
            conflict = ldns_rr_compare_no_rdata(rr, srv) == 0 && ldns_rr_compare(rr, srv) > 0;
        }
    }
done:
    ldns_rdf_deep_free(inst);
    ldns_rr_free(srv);
    ldns_rr_free(txt);
    return conflict;
}
