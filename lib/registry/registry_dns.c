/* registry_dns.c -- the read-only DNS backend: a service's instances from SRV records, as
 * a Consul agent's DNS interface serves them (NAME.service.consul), read with ldns; the
 * protocol from Consul's tag look-ups (json.NAME.service.consul); a watch by polling. */
#include "registry/registry_int.h"

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "base/err.h"
#include "base/i18n.h"
#include "base/net.h"

enum {
    DNS_TIMEOUT_S = 1,         /* one try's wait for an answer */
    DNS_TRIES = 2,             /* tries of one query before the server counts as away */
    DNS_UDP_SIZE = 4096,       /* EDNS0: room for many SRV records in one UDP answer */
    DNS_POLL_MIN_MS = 1000,    /* the watch polls at the records' TTL, at least this... */
    DNS_POLL_MAX_MS = 30000,   /* ... and at most this */
};

/* The tags the servers register with Consul (the protocol), asked as TAG.NAME. */
static const char *const dns_tags[] = {"json", "gob", "grpc"};

/* ---- a reply into instances ---- */

/* name (an ldns domain name) as text without its final dot, into out. */
static void dname_text(const ldns_rdf *name, char *out, size_t cap)
{
    char *s = name ? ldns_rdf2str(name) : NULL;
    size_t n = s ? strlen(s) : 0;
    if (n > 1 && s[n - 1] == '.')
        s[--n] = 0;
    registry_copy(out, cap, s);
    free(s);
}

/* The address of target in the additional section: its first A record, else its first
 * AAAA record. false when it has neither. */
static bool additional_addr(const ldns_pkt *p, const ldns_rdf *target, char *ip, size_t cap)
{
    const ldns_rr_list *add = ldns_pkt_additional(p);
    for (int want = LDNS_RR_TYPE_A; want; want = want == LDNS_RR_TYPE_A ? LDNS_RR_TYPE_AAAA : 0)
        for (size_t i = 0; i < ldns_rr_list_rr_count(add); i++) {
            const ldns_rr *rr = ldns_rr_list_rr(add, i);
            if ((int)ldns_rr_get_type(rr) != want || ldns_dname_compare(ldns_rr_owner(rr), target) != 0 ||
                !ldns_rr_rdf(rr, 0))
                continue;
            char *s = ldns_rdf2str(ldns_rr_rdf(rr, 0));
            registry_copy(ip, cap, s);
            free(s);
            return true;
        }
    return false;
}

static void format_addr(char *out, size_t cap, const char *host, int port)
{
    snprintf(out, cap, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
}

static int by_addr(const void *a, const void *b)
{
    return strcmp(((const registry_instance *)a)->addr, ((const registry_instance *)b)->addr);
}

/* The SRV records of p's answer into a new array *out, service naming each. */
static int srv_records(const ldns_pkt *p, const char *service, registry_instance **out, size_t *n,
                       size_t *left_out, uint32_t *ttl, char *err, size_t errlen)
{
    const ldns_rr_list *ans = ldns_pkt_answer(p);
    size_t count = 0, total = 0;
    for (size_t i = 0; i < ldns_rr_list_rr_count(ans); i++)
        total += ldns_rr_get_type(ldns_rr_list_rr(ans, i)) == LDNS_RR_TYPE_SRV;
    count = total > REGISTRY_MAX_INSTANCES ? REGISTRY_MAX_INSTANCES : total;
    if (left_out)
        *left_out = total - count;
    if (count && !(*out = calloc(count, sizeof **out))) {
        err_set(err, errlen, _("out of memory"));
        return -1;
    }
    for (size_t i = 0; i < ldns_rr_list_rr_count(ans) && *n < count; i++) {
        const ldns_rr *rr = ldns_rr_list_rr(ans, i);
        if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SRV)
            continue;
        const ldns_rdf *port = ldns_rr_rdf(rr, 2), *target = ldns_rr_rdf(rr, 3);
        if (!port || !target || ldns_rdf_get_type(port) != LDNS_RDF_TYPE_INT16 ||
            ldns_rdf_get_type(target) != LDNS_RDF_TYPE_DNAME || ldns_rdf2native_int16(port) == 0) {
            err_set(err, errlen, _("dns: SRV record %zu for %s lacks a port or a target"), *n, service);
            return -1;
        }
        registry_instance *in = &(*out)[(*n)++];
        char host[256];
        if (!additional_addr(p, target, host, sizeof host))
            dname_text(target, host, sizeof host); /* the caller asks for its address */
        format_addr(in->addr, sizeof in->addr, host, ldns_rdf2native_int16(port));
        registry_copy(in->service, sizeof in->service, service);
        registry_copy(in->status, sizeof in->status, "passing");
        if (ldns_rr_ttl(rr) < *ttl)
            *ttl = ldns_rr_ttl(rr);
    }
    if (*n > 1)
        qsort(*out, *n, sizeof **out, by_addr);
    return 0;
}

/* As registry_dns_parse_srv, from a packet ldns has read. */
static int parse_pkt(const ldns_pkt *p, const char *service, registry_instance **out, size_t *n,
                     size_t *left_out, uint32_t *ttl, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    *ttl = UINT32_MAX;
    if (left_out)
        *left_out = 0;
    ldns_pkt_rcode rc = ldns_pkt_get_rcode(p);
    if (rc == LDNS_RCODE_NXDOMAIN) {
        *ttl = 0;
        return 0;
    }
    if (rc != LDNS_RCODE_NOERROR) {
        char *code = ldns_pkt_rcode2str(rc);
        err_set(err, errlen, _("dns: the server answered %s for %s"), code ? code : "an error", service);
        free(code);
        return -1;
    }
    int r = srv_records(p, service, out, n, left_out, ttl, err, errlen);
    if (r < 0) { /* a reply that is not what a server sends: none of it is believed */
        free(*out);
        *out = NULL;
        *n = 0;
    }
    if (*ttl == UINT32_MAX)
        *ttl = 0;
    return r;
}

int registry_dns_parse_srv(const uint8_t *wire, size_t len, const char *service, registry_instance **out,
                           size_t *n, size_t *left_out, uint32_t *ttl, char *err, size_t errlen)
{
    ldns_pkt *p = NULL;
    *out = NULL;
    *n = 0;
    if (ldns_wire2pkt(&p, wire, len) != LDNS_STATUS_OK) {
        err_set(err, errlen, _("dns: the answer for %s is not a DNS message"), service);
        return -1;
    }
    int rc = parse_pkt(p, service, out, n, left_out, ttl, err, errlen);
    ldns_pkt_free(p);
    return rc;
}

/* ---- asking ---- */

/* A DNS name is labels of letters, digits and '-' between dots; Consul says a service
 * name with '/' "will not be discoverable via DNS". */
static int dns_check_name(const char *service, char *err, size_t errlen)
{
    if (!strchr(service, '/'))
        return 0;
    err_set(err, errlen, _("dns: service name \"%s\" has '/', which is not a DNS label's (letters, digits and "
            "'-'): Consul warns that such a service \"will not be discoverable via DNS\"; ask the agent's HTTP "
            "API (consul://HOST:8500) or etcd instead"), service);
    return -1;
}

/* The name to ask for service into qname: service itself when it has a dot, else
 * SERVICE.service.consul; the URL's name (read the same way) when service is empty. The
 * URL's name and another service at once are refused. */
static int dns_qname(const registry *r, const char *service, char *qname, size_t cap, char *err,
                     size_t errlen)
{
    const char *path = strchr(r->url + strlen("dns://"), '/');
    char given[300] = "", in_url[300] = "";
    if (service && *service)
        snprintf(given, sizeof given, strchr(service, '.') ? "%s" : "%s.service.consul", service);
    if (path && path[1])
        snprintf(in_url, sizeof in_url, strchr(path + 1, '.') ? "%s" : "%s.service.consul", path + 1);
    for (char *s = given; s; s = s == given ? in_url : NULL) { /* "name." is "name" */
        size_t len = strlen(s);
        if (len && s[len - 1] == '.')
            s[len - 1] = 0;
    }
    if (path && path[1] && dns_check_name(path + 1, err, errlen) < 0)
        return -1;
    if (!given[0] && !in_url[0]) {
        err_set(err, errlen, _("dns: name the service: dns://HOST:PORT/NAME.service.consul, or NAME"));
        return -1;
    }
    if (given[0] && in_url[0] && strcasecmp(given, in_url) != 0) {
        err_set(err, errlen, _("dns: the URL names %s, and the service asked for is %s"), in_url, given);
        return -1;
    }
    registry_copy(qname, cap, given[0] ? given : in_url);
    return 0;
}

/* The service name an instance shows: what comes before ".service." in a Consul name,
 * else the whole name. */
static void short_name(const char *qname, char *out, size_t cap)
{
    const char *s = strcasestr(qname, ".service.");
    snprintf(out, cap, "%.*s", s ? (int)(s - qname) : (int)strlen(qname), qname);
}

/* A resolver that asks the server at r's endpoint, without recursion. */
static ldns_resolver *dns_resolver(const registry *r, char *err, size_t errlen)
{
    char host[256], ip[INET6_ADDRSTRLEN];
    int port;
    if (net_split(r->endpoints[0], host, sizeof host, &port, err, errlen) < 0)
        return NULL;
    struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *ai = NULL;
    if (getaddrinfo(host, NULL, &hints, &ai) != 0 || !ai) {
        err_set(err, errlen, _("DNS server %s: no address for %s"), r->endpoints[0], host);
        return NULL;
    }
    bool v6 = ai->ai_family == AF_INET6;
    const void *a = v6 ? (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr
                       : (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr;
    inet_ntop(ai->ai_family, a, ip, sizeof ip);
    freeaddrinfo(ai);
    ldns_rdf *ns = ldns_rdf_new_frm_str(v6 ? LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A, ip);
    ldns_resolver *res = ns ? ldns_resolver_new() : NULL;
    if (!res || ldns_resolver_push_nameserver(res, ns) != LDNS_STATUS_OK) {
        ldns_rdf_deep_free(ns);
        ldns_resolver_deep_free(res);
        err_set(err, errlen, _("out of memory"));
        return NULL;
    }
    ldns_rdf_deep_free(ns);
    ldns_resolver_set_port(res, (uint16_t)port);
    ldns_resolver_set_recursive(res, false);
    ldns_resolver_set_timeout(res, (struct timeval){DNS_TIMEOUT_S, 0});
    ldns_resolver_set_retry(res, DNS_TRIES);
    ldns_resolver_set_retrans(res, DNS_TIMEOUT_S);
    ldns_resolver_set_fallback(res, true); /* a truncated UDP answer is asked again over TCP */
    ldns_resolver_set_edns_udp_size(res, DNS_UDP_SIZE);
    return res;
}

/* Asks res for name's records of type t into *p. Returns 0, or -1 with err when no answer
 * came (the server is away) or the request was cancelled. */
static int dns_ask(const registry *r, ldns_resolver *res, const char *name, ldns_rr_type t, ldns_pkt **p,
                   char *err, size_t errlen)
{
    *p = NULL;
    if (r->cancel && atomic_load(r->cancel)) {
        err_set(err, errlen, _("cancelled"));
        return -1;
    }
    ldns_rdf *q = ldns_dname_new_frm_str(name);
    if (!q) {
        err_set(err, errlen, _("dns: %s is not a domain name"), name);
        return -1;
    }
    ldns_status st = ldns_resolver_send(p, res, q, t, LDNS_RR_CLASS_IN, 0);
    ldns_rdf_deep_free(q);
    if (st != LDNS_STATUS_OK || !*p) {
        ldns_pkt_free(*p);
        *p = NULL;
        err_set(err, errlen, _("DNS server %s: no answer for %s (%s)"), r->endpoints[0], name,
                ldns_get_errorstr_by_id(st));
        return -1;
    }
    return 0;
}

/* Replaces a target name in in->addr by its address, asked of the same server (A, then
 * AAAA). A name without either is left as it is. */
static void resolve_target(const registry *r, ldns_resolver *res, registry_instance *in)
{
    char host[256], ip[INET6_ADDRSTRLEN + 2], e[256];
    int port;
    unsigned char bin[16];
    if (net_split(in->addr, host, sizeof host, &port, NULL, 0) < 0 || inet_pton(AF_INET, host, bin) == 1 ||
        inet_pton(AF_INET6, host, bin) == 1)
        return;
    for (int k = 0; k < 2; k++) {
        ldns_pkt *p;
        if (dns_ask(r, res, host, k ? LDNS_RR_TYPE_AAAA : LDNS_RR_TYPE_A, &p, e, sizeof e) < 0)
            return;
        const ldns_rr_list *ans = ldns_pkt_answer(p);
        for (size_t i = 0; i < ldns_rr_list_rr_count(ans); i++) {
            const ldns_rr *rr = ldns_rr_list_rr(ans, i);
            if (ldns_rr_get_type(rr) == (k ? LDNS_RR_TYPE_AAAA : LDNS_RR_TYPE_A) && ldns_rr_rdf(rr, 0)) {
                char *s = ldns_rdf2str(ldns_rr_rdf(rr, 0));
                registry_copy(ip, sizeof ip, s);
                free(s);
                format_addr(in->addr, sizeof in->addr, ip, port);
                ldns_pkt_free(p);
                return;
            }
        }
        ldns_pkt_free(p);
    }
}

/* Consul answers TAG.NAME.service.consul with the instances that carry TAG: the servers
 * tag theirs with the protocol, so each tag asked names the protocol of those it lists. */
static void tag_protocols(const registry *r, ldns_resolver *res, const char *qname, registry_instance *in,
                          size_t n)
{
    if (!strcasestr(qname, ".service."))
        return;
    for (size_t t = 0; t < sizeof dns_tags / sizeof *dns_tags; t++) {
        char name[400], e[256];
        ldns_pkt *p;
        registry_instance *tagged = NULL;
        size_t nt = 0;
        uint32_t ttl;
        snprintf(name, sizeof name, "%s.%s", dns_tags[t], qname);
        if (dns_ask(r, res, name, LDNS_RR_TYPE_SRV, &p, e, sizeof e) < 0)
            return;
        if (parse_pkt(p, qname, &tagged, &nt, NULL, &ttl, e, sizeof e) == 0)
            for (size_t i = 0; i < nt; i++) {
                resolve_target(r, res, &tagged[i]);
                for (size_t j = 0; j < n; j++)
                    if (strcmp(tagged[i].addr, in[j].addr) == 0)
                        registry_copy(in[j].protocol, sizeof in[j].protocol, dns_tags[t]);
            }
        free(tagged);
        ldns_pkt_free(p);
    }
}

/* Lists service's instances into *out (caller frees), their smallest TTL into *ttl. */
static int dns_lookup(registry *r, const char *service, registry_instance **out, size_t *n, uint32_t *ttl,
                      char *err, size_t errlen)
{
    char qname[300], shortn[128];
    *out = NULL;
    *n = 0;
    if (dns_qname(r, service, qname, sizeof qname, err, errlen) < 0)
        return -1;
    ldns_resolver *res = dns_resolver(r, err, errlen);
    if (!res)
        return -1;
    ldns_pkt *p = NULL;
    int rc = dns_ask(r, res, qname, LDNS_RR_TYPE_SRV, &p, err, errlen);
    short_name(qname, shortn, sizeof shortn);
    if (rc == 0)
        rc = parse_pkt(p, shortn, out, n, &r->list_left_out, ttl, err, errlen);
    ldns_pkt_free(p);
    if (rc == 0) {
        for (size_t i = 0; i < *n; i++)
            resolve_target(r, res, &(*out)[i]);
        tag_protocols(r, res, qname, *out, *n);
    }
    ldns_resolver_deep_free(res);
    return rc;
}

/* ---- the backend ---- */

static int dns_refuse(registry *r, registry_reg *reg, char *err, size_t errlen)
{
    (void)r, (void)reg;
    err_set(err, errlen, _("dns: a DNS server only answers questions, so nothing registers through it: "
                         "register with the Consul agent's HTTP API (consul://HOST:8500), and its DNS "
                         "interface lists the instance once its check passes"));
    return -1;
}

/* A digest of a listing (addresses and protocols, in their sorted order), never 0: the
 * revision a watch compares its first poll with. */
static int64_t listing_digest(const registry_instance *in, size_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        char line[sizeof in->addr + sizeof in->protocol + 2];
        snprintf(line, sizeof line, "%s/%s;", in[i].addr, in[i].protocol);
        for (const char *c = line; *c; c++)
            h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    }
    h &= INT64_MAX;
    return h ? (int64_t)h : 1;
}

static int dns_list(registry *r, const char *service, registry_instance **out, size_t *n, int64_t *revision,
                    char *err, size_t errlen)
{
    uint32_t ttl;
    if (dns_lookup(r, service, out, n, &ttl, err, errlen) < 0)
        return -1;
    if (revision)
        *revision = listing_digest(*out, *n);
    return 0;
}

static int dns_services(registry *r, buf *out, char *err, size_t errlen)
{
    (void)r, (void)out;
    err_set(err, errlen, _("dns: DNS has no list of every service: name one (dns://HOST:PORT/NAME.service.consul)"));
    return -1;
}

/* Polls at the records' TTL (DNS_POLL_MIN_MS to DNS_POLL_MAX_MS). The first answer is
 * the caller's listing when its digest is the watch's revision; otherwise every instance
 * in it is a PUT. A failed poll keeps the instances known. */
static void dns_watch(registry_watch *w)
{
    registry_instance *known = NULL;
    size_t nknown = 0;
    bool first = true;
    long backoff = 250;
    registry_outage out = {0};
    while (!registry_stopped(&w->stop)) {
        registry_instance *now = NULL;
        size_t nnow = 0;
        uint32_t ttl = 0;
        char err[512];
        if (dns_lookup(w->r, w->service, &now, &nnow, &ttl, err, sizeof err) < 0) {
            if (registry_watch_retry(w, &out, err, &backoff))
                break;
            continue;
        }
        registry_watch_back(w, &out);
        backoff = 250;
        int64_t rev = listing_digest(now, nnow);
        if (!first || rev != w->revision)
            registry_watch_diff(w, known, nknown, now, nnow, rev);
        first = false;
        w->revision = rev;
        free(known);
        known = now;
        nknown = nnow;
        uint64_t pause = (uint64_t)ttl * 1000;
        pause = pause < DNS_POLL_MIN_MS ? DNS_POLL_MIN_MS : pause > DNS_POLL_MAX_MS ? DNS_POLL_MAX_MS : pause;
        if (registry_stop_sleep(&w->stop, pause))
            break;
    }
    free(known);
}

const registry_backend registry_dns_backend = {
    .add = dns_refuse,
    .keepalive = dns_refuse,
    .deregister = dns_refuse,
    .list = dns_list,
    .services = dns_services,
    .check_name = dns_check_name,
    .watch = dns_watch,
};
