/* server.h -- the TCP server every protocol shares: accept, read, answer, shut down cleanly.
 *
 * A protocol plugs in as a server_codec: per-connection state and a feed function that
 * consumes whole requests from the connection's input and appends the replies to its
 * output. The server owns the sockets, the buffers and their caps, back-pressure,
 * idle deadlines, logging and graceful shutdown on SIGTERM/SIGINT. */
#ifndef WB_SERVER_H
#define WB_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

typedef enum feed_result {
    FEED_OK,    /* carry on */
    FEED_CLOSE, /* a protocol error: send what is in out, then close this connection */
} feed_result;

typedef struct server_codec {
    const char *name;         /* "JSON-RPC", "gob" */
    const char *default_listen;
    /* Per-connection state; NULL means out of memory. */
    void *(*open)(size_t max_message);
    void (*close)(void *state);
    /* Consumes every complete request at the front of in and appends replies to out.
     * eof is true when the peer will send nothing more. On FEED_CLOSE, err says why. */
    feed_result (*feed)(void *state, buf *in, buf *out, bool eof, char *err, size_t errlen);
} server_codec;

/* Parses the common server options (--listen, --quiet, --max-message, --idle-timeout,
 * --help), serves until SIGTERM or SIGINT, and returns the process exit code. prog
 * and usage_extra appear in --help. */
int server_main(const server_codec *codec, const char *prog, const char *about, int argc,
                char **argv);

#endif
