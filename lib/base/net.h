/* net.h -- TCP socket helpers: address parsing, listening, connecting with a deadline. */
#ifndef WB_NET_H
#define WB_NET_H

#include <stddef.h>
#include <stdint.h>

/* Splits "HOST:PORT" or "[V6]:PORT" into host (NUL-terminated, hostcap bytes) and port.
 * Returns 0, or -1 with a reason in err. */
int net_split(const char *addr, char *host, size_t hostcap, int *port, char *err, size_t errlen);

/* Listens on addr ("127.0.0.1:8080"; port 0 picks a free one), non-blocking and
 * close-on-exec. Returns the socket, or -1 with a reason in err. */
int net_listen(const char *addr, char *err, size_t errlen);
/* Writes the address a socket is bound to ("127.0.0.1:41234") into out. */
int net_local_addr(int fd, char *out, size_t n);
/* Writes the address of the peer of a connected socket into out. */
int net_peer_addr(int fd, char *out, size_t n);

/* Connects to addr, waiting at most timeout_ms. Returns a blocking, close-on-exec socket
 * with TCP_NODELAY set, or -1 with a reason in err. */
int net_connect(const char *addr, int timeout_ms, char *err, size_t errlen);

/* Starts connecting to addr without waiting for it: resolves it (a host name asks the
 * resolver, which may take a moment), opens a non-blocking, close-on-exec socket with
 * TCP_NODELAY to its first address and calls connect(). Returns the socket, connected or
 * connecting (wait until it is writable, then ask net_connect_result), or -1 with a
 * reason in err. */
int net_connect_start(const char *addr, char *err, size_t errlen);
/* How a connect started by net_connect_start ended, once its socket is writable: 0, or
 * -1 with a reason in err. */
int net_connect_result(int fd, const char *addr, char *err, size_t errlen);

/* Turns off Nagle's algorithm on a TCP socket. Returns 0, or -1 with errno set. */
int net_nodelay(int fd);

/* Writes all of p within the deadline (clock_now_ms() time). Returns 0 or -1 with err. */
int net_write_all(int fd, const void *p, size_t n, uint64_t deadline_ms, char *err, size_t errlen);
/* Waits until fd is readable or the deadline passes. Returns 1 readable, 0 timed out, -1 error. */
int net_wait_readable(int fd, uint64_t deadline_ms);

#endif
