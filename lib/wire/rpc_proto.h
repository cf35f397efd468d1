/* rpc_proto.h -- the three protocols the workbench speaks, and the URLs that name them. */
#ifndef WB_RPC_PROTO_H
#define WB_RPC_PROTO_H

#include <stddef.h>

typedef enum rpc_proto { PROTO_JSON, PROTO_GOB, PROTO_GRPC } rpc_proto;

/* Splits a URL (json://, jsonrpc://, gob:// or grpc:// then HOST:PORT) into protocol
 * and HOST:PORT (written to addr). Returns 0, or -1 with a reason in err. */
int rpc_proto_parse_url(const char *url, rpc_proto *proto, char *addr, size_t addrlen, char *err,
                        size_t errlen);
/* "JSON-RPC", "gob" or "gRPC". */
const char *rpc_proto_name(rpc_proto p);
/* The URL scheme with its "://": "json://", "gob://" or "grpc://". */
const char *rpc_proto_scheme(rpc_proto p);

#endif
