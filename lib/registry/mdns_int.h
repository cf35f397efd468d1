/* mdns_int.h -- what the mDNS backend's files share; only lib/registry includes it.
 *   mdns_msg.c     names, one registration's records, the messages (built and read by ldns)
 *   mdns_cache.c   the browser's record cache: TTLs, refresh points, instances
 *   mdns_resp.c    the responder thread: probe, announce, answer, goodbye
 *   mdns_browse.c  one-shot browsing (list) and continuous querying (watch)
 *   mdns_backend.c the backend table (outside registry_*: registry.c only names it) */
#ifndef WB_MDNS_INT_H
#define WB_MDNS_INT_H

#include <ldns/ldns.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "registry/mdns_sock.h"
#include "registry/registry_int.h"

enum {
    MDNS_NAME_MAX = 15,     /* RFC 6335: a service name has 1 to 15 characters */
    MDNS_LEGACY_TTL = 10,   /* RFC 6762 §6.7: the most TTL a legacy answer carries */
    MDNS_FLUSH = 0x8000,    /* the cache-flush bit of a record's class; QU bit of a question's */
    MDNS_CACHE_MAX = 512,   /* records a browser keeps */
    MDNS_TXT_MAX = 64,      /* bytes of a protocol value kept from TXT */
};

#define MDNS_SERVICES "_services._dns-sd._udp.local."

/* ---- names and records (mdns_msg.c) ---- */

/* One registration's records: PTR type -> instance, SRV and TXT of the instance, A of
 * the host, and the service enumeration PTR. */
typedef struct mdns_rrset {
    char service[MDNS_NAME_MAX + 1];
    char instance[64];  /* the instance's label: NAME-PORT, or NAME-PORT (N) after a conflict */
    char host[64];      /* wb-A-B-C-D.local. */
    struct in_addr ip;
    uint16_t port;
    char protocol[16];
    uint32_t ttl;
} mdns_rrset;

typedef enum mdns_kind { MDNS_PTR, MDNS_SRV, MDNS_TXT, MDNS_A, MDNS_ENUM, MDNS_NKINDS } mdns_kind;

/* -1 with a reason in err unless service is a DNS-SD service name (RFC 6335). */
int mdns_check_name(const char *service, char *err, size_t errlen);
/* "_NAME._tcp.local." */
void mdns_type_name(const char *service, char *out, size_t cap);
/* NAME from a type name "_NAME._tcp.local." (any case); false when it is not one. */
bool mdns_type_service(const char *type, char *out, size_t cap);
/* A domain name: label (any bytes, escaped) followed by suffix ("" or "a.b."). NULL on error. */
ldns_rdf *mdns_dname(const char *label, const char *suffix);
/* Fills s for a registration; the host is addr's IPv4, or ifc's for 0.0.0.0, "" or a name. */
int mdns_rrset_init(mdns_rrset *s, const char *service, const char *addr, const char *protocol, int ttl,
                    const mdns_if *ifc, char *err, size_t errlen);
/* The next name after a conflict: NAME-PORT -> NAME-PORT (2) -> NAME-PORT (3)... */
void mdns_rename(mdns_rrset *s);
/* The instance's full name "LABEL._NAME._tcp.local." as ldns would print it. */
ldns_rdf *mdns_instance_dname(const mdns_rrset *s);
/* One of s's records with ttl; flush sets the cache-flush bit (unique records only). */
ldns_rr *mdns_rr(const mdns_rrset *s, mdns_kind k, uint32_t ttl, bool flush);

/* A probe (RFC 6762 §8.1): ANY question for the instance (QU bit when qu), SRV and TXT in
 * the authority section. */
ldns_pkt *mdns_probe(const mdns_rrset *s, bool qu);
/* An unsolicited response with every record at ttl; with ttl 0 the goodbye: PTR, SRV and
 * TXT only, since the host's A record and the enumeration PTR are also every other
 * responder's of that address or service. */
ldns_pkt *mdns_announce(const mdns_rrset *s, uint32_t ttl);
/* A query with one question per (names[i], types[i]); QM. */
ldns_pkt *mdns_query(const char *const *names, const ldns_rr_type *types, size_t n);

/* What the responder sends for a query. */
typedef struct mdns_reply {
    ldns_pkt *pkt;   /* NULL: nothing to say */
    bool unicast;    /* to the query's source (a legacy query) */
    bool delay;      /* shared records only: wait 20-120 ms first (§6) */
} mdns_reply;
/* The answer to q, a query (legacy: from a port other than 5353). */
void mdns_answer(const mdns_rrset *s, const ldns_pkt *q, bool legacy, mdns_reply *out);
/* Whether q lists rr among its known answers with at least half rr's TTL left (§7.1). */
bool mdns_known(const ldns_pkt *q, const ldns_rr *rr);
/* Whether p says another host holds s's instance name: a response with an SRV or TXT for
 * it that differs from ours; while probing also a probe for it whose SRV wins the
 * tie-break (§8.2). Our own packets, looped back, are never a conflict. */
bool mdns_conflict(const mdns_rrset *s, const ldns_pkt *p, bool probing);
/* p in wire format into a new *wire. Returns 0 or -1. */
int mdns_wire(const ldns_pkt *p, uint8_t **wire, size_t *len);
/* A record's or question's class without the flush / QU bit. */
static inline unsigned mdns_class(const ldns_rr *rr) { return (unsigned)ldns_rr_get_class(rr) & 0x7fff; }
/* A name as text, lower case, with its final dot. */
void mdns_name_text(const ldns_rdf *d, char *out, size_t cap);
/* The first len bytes of a label in presentation form (as mdns_name_text gives it: \DDD
 * and \X escapes) as the text it stands for, into out (cap); a byte that is not
 * printable ASCII becomes '?'. "arith-50051\032\(2\)" is "arith-50051 (2)". */
void mdns_label_text(const char *label, size_t len, char *out, size_t cap);

/* ---- the browser's cache (mdns_cache.c), on an injected clock ---- */

typedef struct mdns_rec {
    char name[256];           /* owner, lower case, as mdns_name_text */
    uint16_t type;
    char data[256];           /* PTR: target name; SRV: target host; A: dotted quad; TXT: protocol= */
    uint16_t port;            /* SRV */
    uint32_t ttl;
    uint64_t got_ms, expire_ms;
    int asked;                /* refresh queries already due: 0 to 4 */
    int jitter;               /* per mille added to each refresh point (0 to 20) */
    bool gone;                /* goodbye or flushed: absent, dropped at expire_ms */
} mdns_rec;

typedef struct mdns_cache {
    mdns_rec rec[MDNS_CACHE_MAX];
    size_t n;
    unsigned seed;            /* for the refresh jitter */
} mdns_cache;

/* A question the browser should ask. */
typedef struct mdns_ask {
    char name[256];
    uint16_t type;
} mdns_ask;

void mdns_cache_init(mdns_cache *c, unsigned seed);
/* Takes one record heard at now: new, refreshed, a goodbye (TTL 0: gone at once, dropped
 * after 1 s), or a unique record with the flush bit (older ones of its name and type
 * gone). legacy: the record came in a unicast answer to a legacy query, whose TTL is cut
 * to 10 s by the responders that follow §6.7: it adds a record, or extends one, never
 * shortens one, and flushes nothing. Returns true when what instances show may have
 * changed. */
bool mdns_cache_put(mdns_cache *c, const ldns_rr *rr, bool legacy, uint64_t now);
/* Every record of a response (answers and additional) of interest to type ("": every
 * service); queries are ignored. Returns as mdns_cache_put. */
bool mdns_cache_packet(mdns_cache *c, const ldns_pkt *p, const char *type, bool legacy, uint64_t now);
/* Drops the records past expiry. Returns true when one that counted was dropped. */
bool mdns_cache_expire(mdns_cache *c, uint64_t now);
/* The refresh queries due at now (80, 85, 90, 95 % of the TTL plus up to 2 %), at most
 * cap, each record's point then counted as asked. */
size_t mdns_cache_refresh(mdns_cache *c, uint64_t now, mdns_ask *out, size_t cap);
/* Milliseconds from now to the next refresh point or expiry (UINT64_MAX: none). */
uint64_t mdns_cache_next(const mdns_cache *c, uint64_t now);
/* The instances of type ("": every service) whose PTR, SRV and A are known, at most cap. */
size_t mdns_cache_instances(const mdns_cache *c, const char *type, registry_instance *out, size_t cap);
/* The questions that would complete type's instances: SRV and TXT of an instance with a
 * PTR alone, A of an SRV's target without one; and with type "" PTR of every service
 * type heard of. At most cap. */
size_t mdns_cache_missing(const mdns_cache *c, const char *type, mdns_ask *out, size_t cap);
/* The service types known ("_NAME._tcp.local."), at most cap, each once. */
size_t mdns_cache_types(const mdns_cache *c, char (*out)[128], size_t cap);
/* A query for asks with the cache's known answers to them (§7.1: those with more than
 * half their TTL left). */
ldns_pkt *mdns_cache_query(const mdns_cache *c, const mdns_ask *asks, size_t n, uint64_t now);

/* ---- the responder (mdns_resp.c) ---- */

typedef struct mdns_resp mdns_resp;

/* Starts the responder of s on ifc and waits until its name is probed (at most 2.5 s,
 * less when *cancel is set). Returns it with the name chosen in s->instance, or NULL
 * with err. cancel may be NULL. */
mdns_resp *mdns_resp_start(const mdns_if *ifc, mdns_rrset *s, const atomic_bool *cancel, char *err,
                           size_t errlen);
/* Whether its thread runs and holds the name. */
bool mdns_resp_alive(mdns_resp *m);
/* Stops it (after a goodbye when goodbye is true), joins its thread and frees it. NULL ok. */
void mdns_resp_free(mdns_resp *m, bool goodbye);

/* ---- the browser (mdns_browse.c) ---- */

/* The one-shot browse of service ("" or NULL: every service) for wait_ms. */
int mdns_browse_list(const mdns_if *ifc, const char *service, int wait_ms, const atomic_bool *cancel,
                     registry_instance **out, size_t *n, buf *types, char *err, size_t errlen);
/* The watch loop (registry_backend.watch). */
void mdns_browse_watch(registry_watch *w);

#endif
