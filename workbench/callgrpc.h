/* callgrpc.h -- what `workbench call grpc://` prints beyond the reply: the metadata sent,
 * the response headers and trailers (-v), streamed replies one a line as they arrive,
 * and an error's google.rpc.Status details. */
#ifndef WB_CALLGRPC_H
#define WB_CALLGRPC_H

#include <stdbool.h>
#include <stddef.h>

#include "protosrc.h"
#include "rpc/rpcclient.h"

enum { CALLGRPC_MAX_HEADERS = GRPCCLIENT_MAX_METADATA };

typedef struct callgrpc {
    bool verbose;                /* -v */
    const char *const *headers;  /* -H's texts, "name: value" */
    int nheaders;
    bool said_headers;           /* the response headers are printed already */
    rpcclient *client;           /* callgrpc_begin's */
} callgrpc;

/* Before a call to the server at addr: makes sure method's types are known (compiled
 * in, from the --proto/--protoset files, or else from the server's reflection), saying
 * on stderr where they came from, or that nobody describes the method (rpcclient then
 * sends it anyway when its argument is {}). Returns -1 to go on, or the exit code. */
int callgrpc_learn(const protosrc *src, const char *addr, const char *method, int timeout_ms);
/* Sends every -H header with the later calls on c. Returns 0, or -1 with err naming
 * the header at fault. */
int callgrpc_set_headers(rpcclient *c, const char *const *headers, int n, char *err, size_t errlen);
/* Before the calls: with -v, prints the metadata sent; unless the bytes are to be
 * dumped first (wire), has each streamed reply printed as it arrives. */
void callgrpc_begin(callgrpc *g, rpcclient *c, bool wire);
/* After a call: with -v the response headers (unless printed already); on CALL_OK the
 * reply, a streamed one a message a line; with -v the trailers and the status. A
 * deadline that passed gets its status's name in err. */
void callgrpc_after(callgrpc *g, rpcclient *c, call_status st, const value *reply, char *err, size_t errlen);
/* After a failed call: the google.rpc.Status of grpc-status-details-bin, on stderr. */
void callgrpc_details(const rpcclient *c);
/* Prints a reply as one line of JSON; with streamed (a gRPC method's streamed reply),
 * a list a message a line. */
void callgrpc_print_reply(const value *reply, bool streamed);

#endif
