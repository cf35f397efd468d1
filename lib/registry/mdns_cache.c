/* mdns_cache.c -- the browser's record cache (RFC 6762 §5.2, §10): each record lives for its
 * TTL from when it was last heard, is asked for again at 80, 85, 90 and 95 % of it, and
 * goes at once on a goodbye; the instances are read from what it holds. The clock is the
 * caller's (now, in ms), so that tests can drive it. */
#include "registry/mdns_int.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <strings.h>

enum { GOODBYE_GRACE_MS = 1000, REFRESHES = 4 };

void mdns_cache_init(mdns_cache *c, unsigned seed)
{
    c->n = 0;
    c->seed = seed ? seed : 1;
}

/* The protocol= value of a TXT record's strings ("" when it has none). */
static void txt_protocol(const ldns_rr *rr, char *out, size_t cap)
{
    out[0] = 0;
    for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
        const ldns_rdf *f = ldns_rr_rdf(rr, i);
        if (!f || ldns_rdf_get_type(f) != LDNS_RDF_TYPE_STR || ldns_rdf_size(f) < 1)
            continue;
        const uint8_t *d = ldns_rdf_data(f);
        size_t len = d[0] < ldns_rdf_size(f) ? d[0] : ldns_rdf_size(f) - 1;
        if (len > 9 && strncasecmp((const char *)d + 1, "protocol=", 9) == 0) {
            size_t n = len - 9 < cap - 1 ? len - 9 : cap - 1;
            memcpy(out, d + 10, n);
            out[n] = 0;
            for (char *c = out; *c; c++)
                if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
                    *c = '?';
        }
    }
}

/* rr as a cache entry (name, type, data, port); false for a record the cache does not keep. */
static bool rec_of(const ldns_rr *rr, mdns_rec *e)
{
    memset(e, 0, sizeof *e);
    if (mdns_class(rr) != LDNS_RR_CLASS_IN)
        return false;
    mdns_name_text(ldns_rr_owner(rr), e->name, sizeof e->name);
    e->type = (uint16_t)ldns_rr_get_type(rr);
    const ldns_rdf *f0 = ldns_rr_rdf(rr, 0);
    switch (e->type) {
    case LDNS_RR_TYPE_PTR:
        if (!f0 || ldns_rdf_get_type(f0) != LDNS_RDF_TYPE_DNAME)
            return false;
        mdns_name_text(f0, e->data, sizeof e->data);
        return true;
    case LDNS_RR_TYPE_SRV: {
        const ldns_rdf *port = ldns_rr_rdf(rr, 2), *target = ldns_rr_rdf(rr, 3);
        if (!port || !target || ldns_rdf_get_type(port) != LDNS_RDF_TYPE_INT16 ||
            ldns_rdf_get_type(target) != LDNS_RDF_TYPE_DNAME)
            return false;
        e->port = ldns_rdf2native_int16(port);
        mdns_name_text(target, e->data, sizeof e->data);
        return e->port != 0;
    }
    case LDNS_RR_TYPE_A:
        if (!f0 || ldns_rdf_size(f0) != 4)
            return false;
        inet_ntop(AF_INET, ldns_rdf_data(f0), e->data, sizeof e->data);
        return true;
    case LDNS_RR_TYPE_TXT:
        txt_protocol(rr, e->data, MDNS_TXT_MAX);
        return true;
    default:
        return false;
    }
}

/* A TXT record is one per name (its content replaces the one before); others are one
 * per name, type and data. */
static mdns_rec *find(mdns_cache *c, const mdns_rec *e)
{
    for (size_t i = 0; i < c->n; i++) {
        mdns_rec *r = &c->rec[i];
        if (r->type == e->type && strcmp(r->name, e->name) == 0 &&
            (e->type == LDNS_RR_TYPE_TXT || (r->port == e->port && strcmp(r->data, e->data) == 0)))
            return r;
    }
    return NULL;
}

bool mdns_cache_put(mdns_cache *c, const ldns_rr *rr, bool legacy, uint64_t now)
{
    mdns_rec e;
    if (!rec_of(rr, &e))
        return false;
    uint32_t ttl = ldns_rr_ttl(rr);
    mdns_rec *r = find(c, &e);
    if (ttl == 0) { /* goodbye */
        if (!r || r->gone || (e.type == LDNS_RR_TYPE_TXT && strcmp(r->data, e.data) != 0))
            return false;
        r->gone = true;
        r->expire_ms = now + GOODBYE_GRACE_MS;
        return true;
    }
    bool changed = !r || r->gone || (e.type == LDNS_RR_TYPE_TXT && strcmp(r->data, e.data) != 0);
    if (legacy && !changed && r->expire_ms >= now + (uint64_t)ttl * 1000)
        return false;
    if (!legacy && ((unsigned)ldns_rr_get_class(rr) & MDNS_FLUSH)) /* older ones of this name and type go */
        for (size_t i = 0; i < c->n; i++) {
            mdns_rec *o = &c->rec[i];
            if (o != r && !o->gone && o->type == e.type && strcmp(o->name, e.name) == 0 &&
                o->got_ms + GOODBYE_GRACE_MS <= now) {
                o->gone = true;
                o->expire_ms = now + GOODBYE_GRACE_MS;
                changed = true;
            }
        }
    if (!r) {
        if (c->n == MDNS_CACHE_MAX)
            return changed;
        r = &c->rec[c->n++];
    }
    *r = e;
    r->ttl = ttl;
    r->got_ms = now;
    r->expire_ms = now + (uint64_t)ttl * 1000;
    r->jitter = (int)(rand_r(&c->seed) % 21);
    return changed;
}

/* Whether a record owned by name belongs to type ("": any DNS-SD service type). */
static bool of_type(const char *name, const char *type)
{
    size_t n = strlen(name), t = strlen(type);
    if (!*type)
        return n > 11 && strcmp(name + n - 11, "_tcp.local.") == 0;
    return n >= t && strcmp(name + n - t, type) == 0 && (n == t || name[n - t - 1] == '.');
}

bool mdns_cache_packet(mdns_cache *c, const ldns_pkt *p, const char *type, bool legacy, uint64_t now)
{
    if (!ldns_pkt_qr(p))
        return false;
    char lower[256];
    registry_copy(lower, sizeof lower, type);
    for (char *s = lower; *s; s++)
        *s = (char)tolower((unsigned char)*s);
    bool changed = false;
    const ldns_rr_list *secs[2] = {ldns_pkt_answer(p), ldns_pkt_additional(p)};
    for (int j = 0; j < 2; j++)
        for (size_t i = 0; i < ldns_rr_list_rr_count(secs[j]); i++) {
            const ldns_rr *rr = ldns_rr_list_rr(secs[j], i);
            char owner[256];
            mdns_name_text(ldns_rr_owner(rr), owner, sizeof owner);
            ldns_rr_type t = ldns_rr_get_type(rr);
            bool keep = t == LDNS_RR_TYPE_A || (t == LDNS_RR_TYPE_PTR && strcmp(owner, MDNS_SERVICES) == 0) ||
                        of_type(owner, lower);
            if (keep && mdns_cache_put(c, rr, legacy, now))
                changed = true;
        }
    return changed;
}

bool mdns_cache_expire(mdns_cache *c, uint64_t now)
{
    bool changed = false;
    for (size_t i = 0; i < c->n;) {
        if (c->rec[i].expire_ms > now) {
            i++;
            continue;
        }
        changed |= !c->rec[i].gone;
        c->rec[i] = c->rec[--c->n];
    }
    return changed;
}

static uint64_t refresh_at(const mdns_rec *r, int k)
{
    return r->got_ms + (uint64_t)r->ttl * (uint64_t)(800 + 50 * k + r->jitter);
}

size_t mdns_cache_refresh(mdns_cache *c, uint64_t now, mdns_ask *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n; i++) {
        mdns_rec *r = &c->rec[i];
        if (r->gone || r->asked >= REFRESHES || refresh_at(r, r->asked) > now)
            continue;
        while (r->asked < REFRESHES && refresh_at(r, r->asked) <= now)
            r->asked++;
        bool dup = false;
        for (size_t j = 0; j < n && !dup; j++)
            dup = out[j].type == r->type && strcmp(out[j].name, r->name) == 0;
        if (!dup && n < cap) {
            registry_copy(out[n].name, sizeof out[n].name, r->name);
            out[n++].type = r->type;
        }
    }
    return n;
}

uint64_t mdns_cache_next(const mdns_cache *c, uint64_t now)
{
    uint64_t next = UINT64_MAX;
    for (size_t i = 0; i < c->n; i++) {
        const mdns_rec *r = &c->rec[i];
        uint64_t t = r->expire_ms;
        if (!r->gone && r->asked < REFRESHES && refresh_at(r, r->asked) < t)
            t = refresh_at(r, r->asked);
        if (t < next)
            next = t;
    }
    return next == UINT64_MAX ? next : next > now ? next - now : 0;
}

static const mdns_rec *lookup(const mdns_cache *c, const char *name, uint16_t type)
{
    const mdns_rec *best = NULL;
    for (size_t i = 0; i < c->n; i++) {
        const mdns_rec *r = &c->rec[i];
        if (!r->gone && r->type == type && strcmp(r->name, name) == 0 && (!best || r->got_ms > best->got_ms))
            best = r;
    }
    return best;
}

/* Whether r is the PTR of an instance of type ("": of any service type). */
static bool instance_ptr(const mdns_rec *r, const char *type)
{
    return !r->gone && r->type == LDNS_RR_TYPE_PTR && strcmp(r->name, MDNS_SERVICES) != 0 &&
           (*type ? strcasecmp(r->name, type) == 0 : of_type(r->name, ""));
}

size_t mdns_cache_instances(const mdns_cache *c, const char *type, registry_instance *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n && n < cap; i++) {
        const mdns_rec *p = &c->rec[i];
        if (!instance_ptr(p, type))
            continue;
        const mdns_rec *srv = lookup(c, p->data, LDNS_RR_TYPE_SRV);
        const mdns_rec *a = srv ? lookup(c, srv->data, LDNS_RR_TYPE_A) : NULL;
        const mdns_rec *txt = lookup(c, p->data, LDNS_RR_TYPE_TXT);
        if (!a)
            continue;
        registry_instance *in = &out[n];
        memset(in, 0, sizeof *in);
        if (!mdns_type_service(p->name, in->service, sizeof in->service))
            continue;
        snprintf(in->addr, sizeof in->addr, "%.15s:%u", a->data, srv->port);
        snprintf(in->protocol, sizeof in->protocol, "%.15s", txt ? txt->data : "");
        size_t tl = strlen(p->name), dl = strlen(p->data);
        if (dl > tl + 1 && strcasecmp(p->data + dl - tl, p->name) == 0 && p->data[dl - tl - 1] == '.')
            mdns_label_text(p->data, dl - tl - 1, in->instance, sizeof in->instance);
        in->ttl = srv->ttl;
        in->expire_ms = (int64_t)srv->expire_ms;
        bool dup = false;
        for (size_t j = 0; j < n && !dup; j++)
            dup = strcmp(out[j].addr, in->addr) == 0 && strcmp(out[j].service, in->service) == 0;
        n += !dup;
    }
    return n;
}

static size_t ask(mdns_ask *out, size_t n, size_t cap, const char *name, uint16_t type)
{
    for (size_t j = 0; j < n; j++)
        if (out[j].type == type && strcmp(out[j].name, name) == 0)
            return n;
    if (n == cap)
        return n;
    registry_copy(out[n].name, sizeof out[n].name, name);
    out[n].type = type;
    return n + 1;
}

size_t mdns_cache_missing(const mdns_cache *c, const char *type, mdns_ask *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n; i++) {
        const mdns_rec *p = &c->rec[i];
        if (!*type && !p->gone && p->type == LDNS_RR_TYPE_PTR && strcmp(p->name, MDNS_SERVICES) == 0 &&
            !lookup(c, p->data, LDNS_RR_TYPE_PTR))
            n = ask(out, n, cap, p->data, LDNS_RR_TYPE_PTR);
        if (!instance_ptr(p, type))
            continue;
        const mdns_rec *srv = lookup(c, p->data, LDNS_RR_TYPE_SRV);
        if (!srv) {
            n = ask(out, n, cap, p->data, LDNS_RR_TYPE_SRV);
            n = ask(out, n, cap, p->data, LDNS_RR_TYPE_TXT);
        } else if (!lookup(c, srv->data, LDNS_RR_TYPE_A))
            n = ask(out, n, cap, srv->data, LDNS_RR_TYPE_A);
    }
    return n;
}

size_t mdns_cache_types(const mdns_cache *c, char (*out)[128], size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n; i++) {
        const mdns_rec *r = &c->rec[i];
        const char *t = r->gone || r->type != LDNS_RR_TYPE_PTR ? NULL
                      : strcmp(r->name, MDNS_SERVICES) == 0 ? r->data : r->name;
        char svc[64];
        if (!t || !mdns_type_service(t, svc, sizeof svc))
            continue;
        bool dup = false;
        for (size_t j = 0; j < n && !dup; j++)
            dup = strcmp(out[j], t) == 0;
        if (!dup && n < cap)
            registry_copy(out[n++], 128, t);
    }
    return n;
}

/* r as a record, for the known-answer section (NULL for TXT: its strings are not kept). */
static ldns_rr *rec_rr(const mdns_rec *r, uint32_t ttl)
{
    ldns_rr *rr = ldns_rr_new();
    ldns_rdf *owner = ldns_dname_new_frm_str(r->name);
    if (!rr || !owner)
        goto fail;
    ldns_rr_set_owner(rr, owner);
    ldns_rr_set_type(rr, (ldns_rr_type)r->type);
    ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
    ldns_rr_set_ttl(rr, ttl);
    ldns_rdf *f = NULL;
    if (r->type == LDNS_RR_TYPE_PTR) {
        f = ldns_dname_new_frm_str(r->data);
    } else if (r->type == LDNS_RR_TYPE_A) {
        f = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, r->data);
    } else if (r->type == LDNS_RR_TYPE_SRV) {
        ldns_rr_push_rdf(rr, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, 0));
        ldns_rr_push_rdf(rr, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, 0));
        ldns_rr_push_rdf(rr, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, r->port));
        f = ldns_dname_new_frm_str(r->data);
    }
    if (!f)
        goto fail;
    ldns_rr_push_rdf(rr, f);
    return rr;
fail:
    ldns_rr_free(rr);
    return NULL;
}

ldns_pkt *mdns_cache_query(const mdns_cache *c, const mdns_ask *asks, size_t n, uint64_t now)
{
    const char *names[64];
    ldns_rr_type types[64];
    if (n > 64)
        n = 64;
    for (size_t i = 0; i < n; i++) {
        names[i] = asks[i].name;
        types[i] = (ldns_rr_type)asks[i].type;
    }
    ldns_pkt *p = mdns_query(names, types, n);
    for (size_t i = 0; p && i < c->n; i++) {
        const mdns_rec *r = &c->rec[i];
        if (r->gone || r->expire_ms <= now || (r->expire_ms - now) * 2 < (uint64_t)r->ttl * 1000)
            continue;
        bool asked = false;
        for (size_t j = 0; j < n && !asked; j++)
            asked = asks[j].type == r->type && strcmp(asks[j].name, r->name) == 0;
        ldns_rr *rr = asked ? rec_rr(r, (uint32_t)((r->expire_ms - now) / 1000)) : NULL;
        if (rr && !ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr))
            ldns_rr_free(rr);
    }
    return p;
}
