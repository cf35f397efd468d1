/* gob_codec.h -- Go's net/rpc with encoding/gob, as a server_codec: each call is found in
 * the method catalog (wire/catalog.h) and answered as Go's server would, including its
 * error replies; a JSON request sent here by mistake is answered in JSON and closed. */
#ifndef WB_GOB_CODEC_H
#define WB_GOB_CODEC_H

#include "rpc/server.h"

/* Default address 127.0.0.1:8081. Serves what the catalog holds with a handler. */
extern const server_codec gob_codec;

#endif
