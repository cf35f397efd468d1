/* services.h -- the sample services (Arith, hello, Greeter), written once for every protocol.
 *
 * Each method names its argument and reply types in Go's terms (see DESIGN.md), so
 * the gob server can send the reply types Go's net/rpc clients expect and the JSON
 * server can check arguments the way Go's encoding/json would. The methods live in
 * the method catalog (wire/catalog.h): services_register puts their signatures and
 * handlers there, and every protocol's server, and the workbench's client, finds
 * them there. */
#ifndef WB_SERVICES_H
#define WB_SERVICES_H

#include <stddef.h>

#include "value/value.h"
#include "wire/catalog.h"

/* Adds the sample methods, signatures and handlers, to the catalog. Call it at start,
 * before the first call is served or made; a second call (from any thread) adds nothing
 * and returns what the first returned. Returns 0, or -1 with err when the catalog
 * refused them (out of memory). */
int services_register(char *err, size_t errlen);

#endif
