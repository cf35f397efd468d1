/* server.h -- the TCP server every protocol shares: accept, read, answer, shut down cleanly.
 *
 * A protocol plugs in as a server_codec: per-connection state and a feed function that
 * consumes whole requests from the connection's input and appends the replies to its
 * output. The server owns the sockets, the buffers and their caps, back-pressure,
 * idle deadlines, logging and graceful shutdown on SIGTERM/SIGINT. A multiplexed
 * protocol (HTTP/2) also gets a server_conn handle: timers, output produced outside
 * feed, and its own graceful shutdown (GOAWAY, then the calls in flight finish). */
#ifndef WB_SERVER_H
#define WB_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "base/buf.h"
#include "registry/registry.h"
#include "rpc/loop.h"

typedef enum feed_result {
    FEED_OK,    /* carry on */
    FEED_CLOSE, /* a protocol error: send what is in out, then close this connection */
    FEED_DONE,  /* the codec has finished (e.g. after GOAWAY): send out, then close quietly */
} feed_result;

/* The server's handle on one connection, for codecs that produce output outside feed
 * (timers, streaming). Valid from open_conn until the codec's close is called. */
typedef struct server_conn server_conn;

typedef struct server_codec {
    const char *name;         /* "JSON-RPC", "gob" */
    const char *protocol;     /* what a registry entry says: "json", "gob", "grpc" */
    const char *default_listen;
    /* Per-connection state; NULL means out of memory. */
    void *(*open)(size_t max_message);
    void (*close)(void *state);
    /* Consumes every complete request at the front of in and appends replies to out.
     * eof is true when the peer will send nothing more. On FEED_CLOSE, err says why. */
    feed_result (*feed)(void *state, buf *in, buf *out, bool eof, char *err, size_t errlen);

    /* Optional, for multiplexed protocols such as HTTP/2 (all may be NULL): */
    /* Used instead of open when set; sc stays valid until close. */
    void *(*open_conn)(server_conn *sc, size_t max_message);
    /* Graceful shutdown began (SIGTERM/SIGINT): e.g. send GOAWAY. The connection keeps
     * being read and fed; the codec returns FEED_DONE once its calls have finished. When
     * NULL, the server stops reading the connection and closes it once out is flushed. */
    void (*shutdown)(void *state);
    /* When true, feed is also called (with whatever input there is, maybe none) after the
     * output buffer drained, so a codec can produce more output under back-pressure. */
    bool feed_on_writable;
    /* True while the connection has calls in flight (e.g. an open HTTP/2 stream such as a
     * health Watch): --idle-timeout does not close a busy connection. */
    bool (*busy)(void *state);
    /* What counts as the peer's doing, for the deadlines: a count of the real work on the
     * connection so far, read after every feed. It grows with each whole request (a JSON
     * value, a gob header and body, an HTTP/2 stream's request headers) and may grow with
     * the parts of a call under way (a request message on an open stream, a reply the
     * client took), but never before the first whole request, and never for bytes that
     * complete nothing: whitespace, part of a request, HTTP/2 PING, SETTINGS or
     * WINDOW_UPDATE. Its first growth meets --first-message-timeout; each growth restarts
     * --idle-timeout and moves the connection away from eviction. NULL: every feed that
     * consumes input or appends output counts (a codec that answers each request at once
     * and consumes nothing else), and so does every read or write. */
    uint64_t (*progress)(void *state);
    /* The "Methods served:" part of --help; NULL lists the net/rpc sample methods. */
    const char *methods_help;
    /* The registry service name when neither --service nor $MICRO_SERVER_NAME gives
     * one; NULL: the program's name. */
    const char *default_service;
} server_codec;

/* Calls fn(loop, ud) once, ms milliseconds from now, on the server's loop. Returns a timer id
 * (> 0), or 0 when out of memory. The codec cancels its timers in close. */
uint64_t server_conn_timer(server_conn *sc, uint64_t ms, loop_timer_fn fn, void *ud);
/* Cancels a timer that has not fired; 0 and unknown ids are ignored. */
void server_conn_timer_cancel(server_conn *sc, uint64_t id);
/* The server's loop, for a codec that watches a descriptor of its own (one that outlives
 * the connection: it is the loop's, not the connection's). */
loop *server_conn_loop(const server_conn *sc);
/* Asks the server to call feed again soon (from the loop, never from inside this call),
 * so output produced outside feed gets written. Activity for --idle-timeout is what the
 * codec's progress says after that feed (without a progress hook, the call itself
 * counts). */
void server_conn_flush(server_conn *sc);
/* The peer's address, "127.0.0.1:50000", for log lines. */
const char *server_conn_peer(const server_conn *sc);
/* The address the server listens on, "127.0.0.1:50051" (what it registers, unless
 * --advertise says otherwise). */
const char *server_conn_local(const server_conn *sc);

/* The peer's address as accept gave it, for a codec that counts per client. */
const struct sockaddr_storage *server_conn_addr(const server_conn *sc);

/* What a server serves with: server_main reads it from the command line; a program
 * with options of its own (the gateway) fills it and calls server_run. */
typedef struct server_opts {
    const char *listen_addr;  /* ":PORT" listens on every IPv4 address */
    const char *registry_url; /* where to register; "none": nowhere */
    const char *service, *advertise;
    const char *token_arg, *user_arg, *token_file, *user_file; /* server_main's */
    bool quiet;
    size_t max_message, max_conns, per_addr; /* per_addr 0: half of max_conns */
    size_t idle, first, ttl;                 /* seconds; idle and first 0: never */
    /* Optional: called on the server's thread once its loop exists, before the address
     * is printed (returning -1 with err ends the server, exit code 1), and once the loop
     * has ended, after every connection was closed and before the loop is freed. */
    int (*loop_started)(loop *l, void *ud, char *err, size_t errlen);
    void (*loop_ended)(loop *l, void *ud);
    void *loop_ud;
} server_opts;

/* Serves codec as o says until SIGTERM or SIGINT (log_setup is the caller's), with auth
 * for the registry (NULL: none). Returns the process exit code. */
int server_run(const server_codec *codec, const server_opts *o, const registry_auth *auth, const char *prog);

/* Removes option --NAME VALUE (or --NAME=VALUE) from argv, for a program's own options
 * before server_main parses the common ones. Returns the last VALUE given (pointing
 * into argv), or NULL when the option is absent; *missing is set when --NAME came last
 * with no value. */
const char *server_take_option(int *argc, char **argv, const char *name, bool *missing);

/* Sets up the language of --help and of errors: removes --lang from argv (see
 * base/i18n.h) and calls i18n_setup, once per process; a later call does nothing, so a
 * program calls it first, before its own options and texts, and server_main again.
 * Returns 0, or 2 (the exit code) after saying on stderr that --lang is wrong. */
int server_lang(int *argc, char **argv, const char *prog);

/* Parses the common server options (--listen, --quiet, --max-message, --max-conns,
 * --max-conns-per-addr, --idle-timeout, --first-message-timeout,
 * --registry, --service, --ttl, --advertise, --registry-token, --registry-user, their
 * -file forms and $WB_REGISTRY_TOKEN, $WB_REGISTRY_USER (see base/secret.h), --help),
 * and go-micro's $MICRO_SERVER_ADDRESS, $MICRO_REGISTRY, $MICRO_REGISTRY_ADDRESS and
 * $MICRO_SERVER_NAME for the options not given; an address with no host (":50051")
 * listens on every IPv4 address and registers in etcd or Consul as 127.0.0.1:PORT,
 * registers the server when asked (a background keeper keeps the entry alive and
 * removes it on a graceful stop), serves until SIGTERM or SIGINT, and returns the
 * process exit code. prog
 * and usage_extra appear in --help. */
int server_main(const server_codec *codec, const char *prog, const char *about, int argc,
                char **argv);

#endif
