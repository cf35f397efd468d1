/* mdns_sock.h -- where multicast DNS goes: the interface it is kept on, and the UDP
 * sockets on 224.0.0.251:5353 that the responder, the browser and `workbench mdns` use.
 *
 * Multicast never leaves the interface picked here. With no name given it is the loopback
 * ("lo"), or "eth0" inside a lab host ($WB_LAB_HOST set), so a learner's machine sends
 * nothing to its real network unless a real interface is named. */
#ifndef WB_MDNS_SOCK_H
#define WB_MDNS_SOCK_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#define MDNS_GROUP "224.0.0.251"
enum { MDNS_PORT = 5353, MDNS_MAX_PACKET = 9000 /* RFC 6762 §17: at most 9000 bytes */ };

typedef struct mdns_if {
    char name[IF_NAMESIZE];
    unsigned index;
    struct in_addr addr; /* the interface's first IPv4 address */
} mdns_if;

/* The interface named iface (NULL or "": the default above) with its index and IPv4
 * address. Returns 0, or -1 with a reason in err (no such interface, no IPv4 address). */
int mdns_if_pick(const char *iface, mdns_if *out, char *err, size_t errlen);

/* A non-blocking, close-on-exec UDP socket on port 5353 (SO_REUSEADDR and SO_REUSEPORT,
 * so every responder and browser of the machine shares the port) that has joined
 * 224.0.0.251 on ifc and sends there (IP_MULTICAST_IF, loop on, TTL 255, RFC 6762 §11).
 * any: bound to 0.0.0.0, so it also receives unicast sent to port 5353 (a browser: some
 * responders answer a query from port 5353 by unicast); else bound to the group, so it
 * receives multicast only (a responder). Returns the socket, or -1 with a reason in err. */
int mdns_sock_open(const mdns_if *ifc, bool any, char *err, size_t errlen);

/* A non-blocking, close-on-exec UDP socket on an ephemeral port of ifc's address that
 * sends to the group on ifc. A query from it is a legacy one (RFC 6762 §6.7): responders
 * answer it by unicast to that port alone. It is how a browser hears responders that
 * answer every query by unicast to its source (hashicorp/mdns): sent to port 5353, which
 * every mDNS socket of the host shares, such an answer reaches only one of them.
 * Returns the socket, or -1 with a reason in err. */
int mdns_sock_open_unicast(const mdns_if *ifc, char *err, size_t errlen);

/* Sends one packet to 224.0.0.251:5353 on s. Returns 0, or -1 with a reason in err. */
int mdns_sock_send(int s, const void *p, size_t n, char *err, size_t errlen);

#endif
