/* net.c -- TCP socket helpers. */
#include "base/net.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "base/clock.h"
#include "base/err.h"

int net_split(const char *addr, char *host, size_t hostcap, int *port, char *err, size_t errlen)
{
    const char *colon = strrchr(addr, ':');
    if (!colon) {
        bool digits = addr[0] != '\0';
        for (const char *c = addr; *c; c++)
            digits = digits && *c >= '0' && *c <= '9';
        if (digits)
            err_set(err, errlen, "address \"%s\" has no host: write it as HOST:PORT, e.g. 127.0.0.1:%s",
                     addr, addr);
        else
            err_set(err, errlen, "address \"%s\" has no port: write it as HOST:PORT, e.g. %s:8080",
                     addr, addr[0] ? addr : "127.0.0.1");
        return -1;
    }
    if (colon[1] == '\0') {
        err_set(err, errlen, "address \"%s\" has no port; write it as HOST:PORT", addr);
        return -1;
    }
    const char *h = addr;
    size_t hlen = (size_t)(colon - addr);
    if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    if (hlen == 0) { /* ":8080", as Go writes it: this machine */
        h = "";
    } else if (hlen >= hostcap) {
        err_set(err, errlen, "address \"%s\" has a host name that is too long", addr);
        return -1;
    }
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end || p < 0 || p > 65535) {
        err_set(err, errlen, "port \"%s\" is not a number from 0 to 65535", colon + 1);
        return -1;
    }
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    *port = (int)p;
    return 0;
}

static struct addrinfo *resolve(const char *addr, int passive, char *err, size_t errlen)
{
    char host[256], port[16];
    int p;
    if (net_split(addr, host, sizeof host, &p, err, errlen) < 0)
        return NULL;
    snprintf(port, sizeof port, "%d", p);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = passive ? AI_PASSIVE : 0};
    struct addrinfo *res = NULL;
    /* An empty host means every interface when listening, this machine when connecting. */
    int r = getaddrinfo(host[0] ? host : passive ? NULL : "localhost", port, &hints, &res);
    if (r != 0) {
        err_set(err, errlen, "cannot resolve \"%s\": %s", host, gai_strerror(r));
        return NULL;
    }
    return res;
}

int net_nodelay(int fd)
{
    int one = 1;
    return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int net_listen(const char *addr, char *err, size_t errlen)
{
    struct addrinfo *res = resolve(addr, 1, err, errlen);
    if (!res)
        return -1;
    int fd = -1, saved = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1024) == 0)
            break;
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        err_set(err, errlen, "cannot listen on %s: %s", addr, strerror(saved));
    return fd;
}

static int format_addr(const struct sockaddr_storage *ss, char *out, size_t n);

int net_local_addr(int fd, char *out, size_t n)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -1;
    return format_addr(&ss, out, n);
}

int net_peer_addr(int fd, char *out, size_t n)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0) {
        snprintf(out, n, "?");
        return -1;
    }
    return format_addr(&ss, out, n);
}

static int format_addr(const struct sockaddr_storage *ss, char *out, size_t n)
{
    char host[INET6_ADDRSTRLEN];
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
        snprintf(out, n, "[%s]:%d", host, ntohs(s6->sin6_port));
    } else {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
        snprintf(out, n, "%s:%d", host, ntohs(s4->sin_port));
    }
    return 0;
}

int net_connect(const char *addr, int timeout_ms, char *err, size_t errlen)
{
    struct addrinfo *res = resolve(addr, 0, err, errlen);
    if (!res)
        return -1;
    int fd = -1;
    char why[128] = "no address";
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            snprintf(why, sizeof why, "%s", strerror(errno));
            continue;
        }
        int r = connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (r < 0 && errno == EINPROGRESS) {
            struct pollfd p = {fd, POLLOUT, 0};
            r = poll(&p, 1, timeout_ms);
            if (r == 0) {
                snprintf(why, sizeof why, "timed out after %d ms", timeout_ms);
                r = -1;
            } else if (r > 0) {
                int soerr = 0;
                socklen_t sl = sizeof soerr;
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
                if (soerr) {
                    snprintf(why, sizeof why, "%s", strerror(soerr));
                    r = -1;
                } else {
                    r = 0;
                }
            } else {
                snprintf(why, sizeof why, "%s", strerror(errno));
            }
        } else if (r < 0) {
            snprintf(why, sizeof why, "%s", strerror(errno));
        }
        if (r == 0) {
            int fl = fcntl(fd, F_GETFL);
            fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
            net_nodelay(fd);
            break;
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        err_set(err, errlen, "cannot connect to %s: %s", addr, why);
    return fd;
}

int net_connect_start(const char *addr, char *err, size_t errlen)
{
    struct addrinfo *res = resolve(addr, 0, err, errlen);
    if (!res)
        return -1;
    int fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, res->ai_protocol);
    if (fd < 0) {
        err_set(err, errlen, "cannot connect to %s: %s", addr, strerror(errno));
    } else if (connect(fd, res->ai_addr, res->ai_addrlen) < 0 && errno != EINPROGRESS) {
        err_set(err, errlen, "cannot connect to %s: %s", addr, strerror(errno));
        close(fd);
        fd = -1;
    } else {
        net_nodelay(fd);
    }
    freeaddrinfo(res);
    return fd;
}

int net_connect_result(int fd, const char *addr, char *err, size_t errlen)
{
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
        soerr = errno;
    if (soerr) {
        err_set(err, errlen, "cannot connect to %s: %s", addr, strerror(soerr));
        return -1;
    }
    return 0;
}

int net_wait_readable(int fd, uint64_t deadline_ms)
{
    for (;;) {
        uint64_t now = clock_now_ms();
        int left = now >= deadline_ms ? 0 : (int)(deadline_ms - now);
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, left);
        if (r < 0 && errno == EINTR)
            continue;
        return r < 0 ? -1 : r > 0;
    }
}

int net_write_all(int fd, const void *p, size_t n, uint64_t deadline_ms, char *err, size_t errlen)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) {
            c += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            uint64_t now = clock_now_ms();
            struct pollfd pf = {fd, POLLOUT, 0};
            if (now >= deadline_ms || poll(&pf, 1, (int)(deadline_ms - now)) == 0) {
                err_set(err, errlen, "timed out while sending");
                return -1;
            }
            continue;
        }
        err_set(err, errlen, "send failed: %s", strerror(errno));
        return -1;
    }
    return 0;
}
