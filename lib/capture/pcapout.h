/* pcapout.h -- writes TCP connections as a pcap file that Wireshark and tshark read with
 * their usual dissectors.
 *
 * The workbench's own clients know every byte they send and receive, not the packets
 * that carried them, so each connection is written as the packets a real one would have
 * been: the three-way handshake, the bytes in segments of at most 32 KiB each followed by
 * an ACK, and FIN from both sides at the end, with consistent sequence numbers. Frames are
 * Ethernet (as a Linux loopback capture is), IPv4 or IPv6. One writer may be shared by
 * many threads. */
#ifndef WB_PCAPOUT_H
#define WB_PCAPOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct pcapout pcapout;
typedef struct pcapout_conn pcapout_conn;

/* Creates (truncates) path and writes the file header. Returns the writer, or NULL with a
 * reason in err. */
pcapout *pcapout_new(const char *path, char *err, size_t errlen);
/* Flushes and closes the file and frees the writer; free its connections first. Returns
 * 0, or -1 with a reason in err when a write failed at any time (the first failure is
 * kept) or the file reached its cap of 256 MiB, after which nothing more was written
 * ("capture stopped at 256 MiB"). Accepts NULL (returns 0). */
int pcapout_free(pcapout *o, char *err, size_t errlen);

/* How many connections were started (pcapout_conn_new) before the file reached its cap. */
size_t pcapout_conns(pcapout *o);

/* Starts a connection from client to server (AF_INET or AF_INET6 addresses of the same
 * family) at ts_us (microseconds since the epoch; 0: now): writes SYN, SYN-ACK, ACK.
 * Returns it, or NULL when memory ran out or the family is not IP. */
pcapout_conn *pcapout_conn_new(pcapout *o, const struct sockaddr *client,
                               const struct sockaddr *server, int64_t ts_us);
/* As pcapout_conn_new, for the connected socket fd: our end (getsockname) is the
 * client, its peer (getpeername) the server; the time is now. NULL when fd is not a
 * connected TCP socket over IP. */
pcapout_conn *pcapout_conn_socket(pcapout *o, int fd);
/* Writes n bytes sent by the client (from_server false) or the server, at ts_us (0: now). */
void pcapout_conn_data(pcapout_conn *c, bool from_server, const uint8_t *p, size_t n,
                       int64_t ts_us);
/* Writes the closing FIN/ACK exchange and frees the connection. Accepts NULL. */
void pcapout_conn_free(pcapout_conn *c, int64_t ts_us);

#endif
