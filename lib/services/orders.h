/* orders.h -- the order service's data: orders in a SQLite file the service's instances
 * share (see sqlstore.h).
 *
 * An order is committed before orders_place returns, so it can be read from any
 * instance afterwards, even when the one that took it dies. A request id makes placing
 * idempotent: the same id again returns the order it placed, so a caller may retry a
 * Place whose reply it never got. No gRPC here: order-server maps the results to
 * statuses, and the unit tests call this directly. */
#ifndef WB_ORDERS_H
#define WB_ORDERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "services/sqlstore.h"

enum {
    ORDERS_USER_MAX = 64,
    ORDERS_ITEM_MAX = 200,
    ORDERS_REQUEST_ID_MAX = 200,
    ORDERS_QUANTITY_MAX = 1000000,
    ORDERS_LIST_MAX = 1000, /* orders one list returns at most */
};

typedef struct order_rec {
    int64_t id;
    char user[ORDERS_USER_MAX + 1];
    char item[ORDERS_ITEM_MAX + 1];
    int64_t quantity;
    int64_t created_ms;
    char served_by[80];
} order_rec;

typedef struct orders orders;

/* Opens the database at path (see sqlstore_open), rebuilding a table from before request
 * ids were scoped to their users. NULL with a reason in err. */
orders *orders_open(const char *path, char *err, size_t errlen);
/* Accepts NULL. */
void orders_close(orders *o);

/* Stores an order of quantity (1..1000000) item (1..200 bytes) for user, noting
 * served_by (the instance's address). request_id may be "" (no idempotency); it is
 * user's own (another user's same id is another order): when user placed with it
 * before, *out is the order it placed and *replayed is true. STORE_INVALID
 * with a reason for a bad field. */
store_status orders_place(orders *o, const char *user, const char *item, int64_t quantity,
                          const char *request_id, const char *served_by, order_rec *out,
                          bool *replayed, char *err, size_t errlen);
/* The order id of user. STORE_NOT_FOUND when there is none (or it is someone else's). */
store_status orders_get(orders *o, int64_t id, const char *user, order_rec *out, char *err,
                        size_t errlen);
/* user's orders, newest first, at most limit (0 or more than ORDERS_LIST_MAX: that cap),
 * into a new array *out (caller frees) of *n. */
store_status orders_list(orders *o, const char *user, size_t limit, order_rec **out, size_t *n,
                         char *err, size_t errlen);

#endif
