/* mdns_sock.c -- the interface multicast DNS is kept on, and its sockets on 5353. */
#include "registry/mdns_sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/err.h"
#include "base/i18n.h"

int mdns_if_pick(const char *iface, mdns_if *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!iface || !*iface)
        iface = getenv("WB_LAB_HOST") ? "eth0" : "lo";
    if (strlen(iface) >= sizeof out->name) {
        err_set(err, errlen, _("interface %s: the name is too long"), iface);
        return -1;
    }
    memcpy(out->name, iface, strlen(iface) + 1);
    out->index = if_nametoindex(iface);
    if (!out->index) {
        err_set(err, errlen, _("interface %s: %s (see `ip link`)"), iface, strerror(errno));
        return -1;
    }
    struct ifaddrs *all = NULL;
    if (getifaddrs(&all) < 0) {
        err_set(err, errlen, _("interface %s: cannot read its addresses: %s"), iface, strerror(errno));
        return -1;
    }
    bool found = false;
    for (struct ifaddrs *a = all; a && !found; a = a->ifa_next)
        if (a->ifa_addr && a->ifa_addr->sa_family == AF_INET && strcmp(a->ifa_name, iface) == 0) {
            out->addr = ((const struct sockaddr_in *)a->ifa_addr)->sin_addr;
            found = true;
        }
    freeifaddrs(all);
    if (!found) {
        err_set(err, errlen, _("interface %s has no IPv4 address, and multicast DNS here speaks IPv4"), iface);
        return -1;
    }
    return 0;
}

static int sock_fail(int s, const char *what, const mdns_if *ifc, char *err, size_t errlen)
{
    err_set(err, errlen, _("multicast DNS on %s: %s: %s"), ifc->name, what, strerror(errno));
    close(s);
    return -1;
}

int mdns_sock_open(const mdns_if *ifc, bool any, char *err, size_t errlen)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0) {
        err_set(err, errlen, _("multicast DNS: socket: %s"), strerror(errno));
        return -1;
    }
    int one = 1, ttl = 255;
    unsigned char loop = 1, mttl = 255;
    if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0)
        return sock_fail(s, "SO_REUSEPORT", ifc, err, errlen);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(MDNS_PORT)};
    sa.sin_addr.s_addr = any ? htonl(INADDR_ANY) : inet_addr(MDNS_GROUP);
    if (bind(s, (struct sockaddr *)&sa, sizeof sa) < 0)
        return sock_fail(s, _("cannot bind port 5353"), ifc, err, errlen);
    struct ip_mreqn m = {.imr_address = ifc->addr, .imr_ifindex = (int)ifc->index};
    m.imr_multiaddr.s_addr = inet_addr(MDNS_GROUP);
    if (setsockopt(s, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) < 0)
        return sock_fail(s, _("cannot join 224.0.0.251"), ifc, err, errlen);
    struct ip_mreqn out = {.imr_address = ifc->addr, .imr_ifindex = (int)ifc->index};
    if (setsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &out, sizeof out) < 0 ||
        setsockopt(s, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop) < 0 ||
        setsockopt(s, IPPROTO_IP, IP_MULTICAST_TTL, &mttl, sizeof mttl) < 0 ||
        setsockopt(s, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl) < 0)
        return sock_fail(s, "IP_MULTICAST_IF", ifc, err, errlen);
    return s;
}

int mdns_sock_open_unicast(const mdns_if *ifc, char *err, size_t errlen)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0) {
        err_set(err, errlen, _("multicast DNS: socket: %s"), strerror(errno));
        return -1;
    }
    unsigned char loop = 1, mttl = 255;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr = ifc->addr};
    struct ip_mreqn out = {.imr_address = ifc->addr, .imr_ifindex = (int)ifc->index};
    if (bind(s, (struct sockaddr *)&sa, sizeof sa) < 0)
        return sock_fail(s, "bind", ifc, err, errlen);
    if (setsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &out, sizeof out) < 0 ||
        setsockopt(s, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop) < 0 ||
        setsockopt(s, IPPROTO_IP, IP_MULTICAST_TTL, &mttl, sizeof mttl) < 0)
        return sock_fail(s, "IP_MULTICAST_IF", ifc, err, errlen);
    return s;
}

int mdns_sock_send(int s, const void *p, size_t n, char *err, size_t errlen)
{
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(MDNS_PORT)};
    to.sin_addr.s_addr = inet_addr(MDNS_GROUP);
    if (sendto(s, p, n, MSG_NOSIGNAL, (struct sockaddr *)&to, sizeof to) < 0) {
        err_set(err, errlen, _("multicast DNS: sending %zu bytes: %s"), n, strerror(errno));
        return -1;
    }
    return 0;
}
