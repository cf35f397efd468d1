/* rpc_proto.c -- the protocols' names and URL schemes. */
#include "wire/rpc_proto.h"

#include <stdio.h>
#include <string.h>

#include "base/err.h"

const char *rpc_proto_name(rpc_proto p)
{
    return p == PROTO_GOB ? "gob" : p == PROTO_GRPC ? "gRPC" : "JSON-RPC";
}

int rpc_proto_parse_url(const char *url, rpc_proto *proto, char *addr, size_t addrlen, char *err,
                        size_t errlen)
{
    static const struct {
        const char *scheme;
        rpc_proto proto;
    } schemes[] = {{"json://", PROTO_JSON}, {"jsonrpc://", PROTO_JSON}, {"gob://", PROTO_GOB},
                   {"grpc://", PROTO_GRPC}};
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        size_t n = strlen(schemes[i].scheme);
        if (strncmp(url, schemes[i].scheme, n) == 0) {
            if (snprintf(addr, addrlen, "%s", url + n) >= (int)addrlen || !url[n]) {
                err_set(err, errlen, "URL \"%s\" has no usable HOST:PORT", url);
                return -1;
            }
            *proto = schemes[i].proto;
            return 0;
        }
    }
    err_set(err, errlen, "URL \"%s\" should start with json://, gob:// or grpc:// (e.g. json://127.0.0.1:8080)", url);
    return -1;
}

const char *rpc_proto_scheme(rpc_proto p)
{
    return p == PROTO_GOB ? "gob://" : p == PROTO_GRPC ? "grpc://" : "json://";
}
