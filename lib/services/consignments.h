/* consignments.h -- the shipping service's data: consignments and their containers in a
 * SQLite file the service's instances share (see sqlstore.h).
 *
 * A consignment is committed with all its containers, in one transaction, before
 * consignments_create returns, so any instance lists it afterwards. No gRPC here:
 * shipping-server maps the results to statuses, and the unit tests call this directly. */
#ifndef WB_CONSIGNMENTS_H
#define WB_CONSIGNMENTS_H

#include <stddef.h>
#include <stdint.h>

#include "services/sqlstore.h"

enum {
    CONSIGNMENTS_ID_MAX = 64,           /* bytes of a consignment's or a container's id */
    CONSIGNMENTS_DESCRIPTION_MAX = 1000,
    CONSIGNMENTS_FIELD_MAX = 64,        /* bytes of vessel_id, customer_id, origin, user_id */
    CONSIGNMENTS_CONTAINERS_MAX = 100,  /* containers in one consignment */
    CONSIGNMENTS_LIST_MAX = 1000,       /* consignments one list returns at most */
};

typedef struct container_rec {
    char id[CONSIGNMENTS_ID_MAX + 1];
    char customer_id[CONSIGNMENTS_FIELD_MAX + 1];
    char origin[CONSIGNMENTS_FIELD_MAX + 1];
    char user_id[CONSIGNMENTS_FIELD_MAX + 1];
} container_rec;

typedef struct consignment_rec {
    char id[CONSIGNMENTS_ID_MAX + 1];
    char description[CONSIGNMENTS_DESCRIPTION_MAX + 1];
    int32_t weight;
    char vessel_id[CONSIGNMENTS_FIELD_MAX + 1];
    size_t n_containers;
    container_rec *containers; /* the caller's in create; the list's own in a list */
} consignment_rec;

typedef struct consignments consignments;

/* Opens the database at path (see sqlstore_open). NULL with a reason in err. */
consignments *consignments_open(const char *path, char *err, size_t errlen);
/* Accepts NULL. */
void consignments_close(consignments *c);

/* Checks c: weight 0 or more, at most CONSIGNMENTS_CONTAINERS_MAX containers, every text
 * within its cap and one line (the description may hold line breaks). Texts may be
 * empty. STORE_INVALID with a reason naming the field. */
store_status consignments_check(const consignment_rec *c, char *err, size_t errlen);

/* Copies src into the field dst of a record (dst_size bytes, its cap and the NUL) once
 * it passes consignments_check's test for what: a longer text is refused, never cut.
 * STORE_INVALID with a reason naming what. */
store_status consignments_set_text(char *dst, size_t dst_size, const char *src, const char *what, char *err,
                                   size_t errlen);

/* Checks c and stores it with its containers (in their order). An empty id is given a
 * new random one (a UUID), written into c. STORE_EXISTS when a consignment has the id
 * already; STORE_INVALID as consignments_check. */
store_status consignments_create(consignments *db, consignment_rec *c, char *err, size_t errlen);

/* The most recent consignments, at most limit (0 or more than CONSIGNMENTS_LIST_MAX:
 * that cap), oldest of them first, with their containers, into a new array *out of *n
 * (free it with consignments_list_free); *total is how many the file holds, so a caller
 * can tell a list was cut. Read in one transaction: a consignment being created at the
 * same time is listed whole or not at all. */
store_status consignments_list(consignments *db, size_t limit, consignment_rec **out, size_t *n, size_t *total,
                               char *err, size_t errlen);
/* Frees a list and every record's containers; accepts NULL. */
void consignments_list_free(consignment_rec *list, size_t n);

#endif
