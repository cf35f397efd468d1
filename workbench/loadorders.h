/* loadorders.h -- the orders `workbench load --program order-server` places, and the
 * account user-server's Login needs. */
#ifndef WB_LOADORDERS_H
#define WB_LOADORDERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpc/balancer.h"
#include "value/value.h"

/* The ids of the orders Place answered OK, to read back after the run (zeroed: none;
 * the caller frees ids). */
typedef struct loadorders {
    int64_t *ids;
    size_t n, cap;
    bool dropped; /* more than the ids kept */
} loadorders;

/* Keeps the id of a Place reply (one without an id is left out). */
void loadorders_note(loadorders *o, const value *reply);
/* Sets arg's request_id to one of this run for call i, so that a retried Place does not
 * order twice. Returns 0, or -1 (arg is no map, or out of memory). */
int loadorders_request_id(value *arg, uint64_t i);
/* user-server's Login needs the account: creates it once (ALREADY_EXISTS is fine). */
void loadorders_sign_up(balancer *lb, const value *arg);
/* Reads every placed order back with Get, through the balancer, and prints the counts. */
void loadorders_check(balancer *lb, const value *arg, const loadorders *o);

#endif
