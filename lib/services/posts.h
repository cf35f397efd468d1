/* posts.h -- the post service's data: posts in a SQLite file the service's instances
 * share (see sqlstore.h).
 *
 * A post is committed before posts_create returns, so any instance reads it afterwards,
 * even when the one that took it dies. A request id makes creating idempotent, as for
 * orders: the same user's same id again returns the post it created. Posts are public:
 * anyone may read any post. No gRPC here: post-server maps the results to statuses,
 * and the unit tests call this directly. */
#ifndef WB_POSTS_H
#define WB_POSTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "services/sqlstore.h"

enum {
    POSTS_USER_MAX = 64,
    POSTS_TITLE_MAX = 200,    /* bytes, one line */
    POSTS_BODY_MAX = 10000,   /* bytes */
    POSTS_REQUEST_ID_MAX = 200,
    POSTS_LIST_MAX = 100,     /* posts one list returns at most */
};

typedef struct post_rec {
    int64_t id;
    char user[POSTS_USER_MAX + 1];
    char title[POSTS_TITLE_MAX + 1];
    char body[POSTS_BODY_MAX + 1];
    int64_t created_ms;
    char served_by[80];
} post_rec;

typedef struct posts posts;

/* Opens the database at path (see sqlstore_open). NULL with a reason in err. */
posts *posts_open(const char *path, char *err, size_t errlen);
/* Accepts NULL. */
void posts_close(posts *p);

/* Stores user's post: a title of 1..POSTS_TITLE_MAX bytes without control characters
 * and a body of 1..POSTS_BODY_MAX bytes (newlines and tabs allowed), noting served_by
 * (the instance's address). request_id may be "" (no idempotency); when user created
 * with it before, *out is that post and *replayed is true (STORE_EXISTS when the title
 * or body differ). STORE_INVALID with a reason for a bad field. */
store_status posts_create(posts *p, const char *user, const char *title, const char *body,
                          const char *request_id, const char *served_by, post_rec *out,
                          bool *replayed, char *err, size_t errlen);
/* The post id, whoever wrote it. STORE_NOT_FOUND when there is none. */
store_status posts_get(posts *p, int64_t id, post_rec *out, char *err, size_t errlen);
/* user's posts ("": everyone's), newest first, at most limit (0 or more than
 * POSTS_LIST_MAX: that cap), into a new array *out (caller frees) of *n. */
store_status posts_list(posts *p, const char *user, size_t limit, post_rec **out, size_t *n,
                        char *err, size_t errlen);

#endif
