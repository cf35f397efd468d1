/* jsonrpc_codec.h -- JSON-RPC over plain TCP as a server_codec: Go's net/rpc/jsonrpc form
 * and JSON-RPC 2.0, each call found in the method catalog (see wire/jsonrpc.h). */
#ifndef WB_JSONRPC_CODEC_H
#define WB_JSONRPC_CODEC_H

#include "rpc/server.h"

/* Default address 127.0.0.1:8080 (the tutorials' nc lines). */
extern const server_codec jsonrpc_codec;

#endif
