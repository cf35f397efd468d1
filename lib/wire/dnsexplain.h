/* dnsexplain.h -- explains one DNS message (RFC 1035, with multicast DNS's meanings from
 * RFC 6762) byte by byte, and sums it up in one line.
 *
 * Layer "dns". The header, counts, length bytes and compression pointers are SPAN_FRAME;
 * record types and classes SPAN_TYPE; the labels of names, TTLs and record data
 * SPAN_DATA. Every byte is covered by exactly one leaf span: bytes that do not make sense
 * get a SPAN_ERROR span saying why, which runs to the end of the message. Offsets come
 * from this module's own walk of the bytes; ldns (which gives none) only names types. */
#ifndef WB_DNSEXPLAIN_H
#define WB_DNSEXPLAIN_H

#include <stddef.h>
#include <stdint.h>

#include "wire/explain.h"

/* At most this many compression pointers are followed for one name. */
enum { DNS_MAX_HOPS = 32, DNS_NAME_TEXT = 1024 /* a name's text, escapes included */ };

/* Explains the DNS message p[0..n) (one UDP payload) into e. Returns 0, or -1 when some
 * bytes do not make sense (an error span says where and why). */
int dnsexplain_message(const uint8_t *p, size_t n, explain *e);

/* One line for a list of messages, into out (cap bytes, always terminated), e.g.
 *   query  PTR? _shipping._tcp.local. (QM, 1 known answer)
 *   answer PTR _shipping._tcp.local. -> shipping-50051._shipping._tcp.local., ..., TTL 10
 *   goodbye PTR _shipping._tcp.local. -> ...
 * Returns 0, or -1 when the message is malformed (out then says why). */
int dnsexplain_summary(const uint8_t *p, size_t n, char *out, size_t cap);

/* Reads the name at p[off] (a message of n bytes) into out as text ("a.b.local.", "."
 * for the root), following compression pointers (at most DNS_MAX_HOPS, each to an earlier
 * offset). The name's own bytes must end by limit; *next is set to the byte after them.
 * Returns 0, or -1 with a reason (in the learner's language) in why. */
int dns_name_read(const uint8_t *p, size_t n, size_t off, size_t limit, char *out, size_t cap,
                  size_t *next, char *why, size_t whylen);

/* A record type's mnemonic ("PTR", "SRV"; "TYPE65280" when it has none) in tmp (cap
 * bytes) or a static string. */
const char *dns_type_name(unsigned type, char *tmp, size_t cap);
/* A class's mnemonic, without mDNS's top bit ("IN"; "CLASS7" when it has none). */
const char *dns_class_name(unsigned cls, char *tmp, size_t cap);

#endif
