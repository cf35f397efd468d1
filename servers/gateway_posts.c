/* gateway_posts.c -- the gateway's post routes: write a post with a token (post.Post/Create),
 * read one and list the newest (post.Post/Get and List, open to anyone). */
#include "gateway_http.h"

#include <stdio.h>
#include <string.h>

#include "services/posts.h"

void gateway_post_create(gwreq *g, const char *arg)
{
    (void)arg;
    static const field_spec fields[] = {{"title", false}, {"body", false}};
    gateway_create(g, SVC_POST, "/post.Post/Create", fields, 2);
}

void gateway_post_get(gwreq *g, const char *arg)
{
    int64_t id;
    if (!gateway_parse_int(arg, &id) || id <= 0) {
        gateway_answer_error(g, 400, "INVALID_ARGUMENT", "the post id must be a positive integer, not \"%.40s\"", arg);
        return;
    }
    value *v = value_struct(NULL);
    if (!v || value_struct_set(v, "id", value_int(id)) < 0) {
        value_free(v);
        gateway_answer_error(g, 500, "INTERNAL", "out of memory");
        return;
    }
    gateway_reply_call(g, SVC_POST, "/post.Post/Get", v, true, 200);
}

void gateway_post_list(gwreq *g, const char *arg)
{
    (void)arg;
    const char *who = http1_query(g->rq, "user");
    const char *limit = http1_query(g->rq, "limit");
    int64_t n = 0;
    if (limit && (!gateway_parse_int(limit, &n) || n < 1 || n > POSTS_LIST_MAX)) {
        gateway_answer_error(g, 400, "INVALID_ARGUMENT", "limit must be 1 to %d, not \"%.40s\"", POSTS_LIST_MAX,
                             limit);
        return;
    }
    value *v = value_struct(NULL);
    if (!v || value_struct_set(v, "user", value_cstring(who ? who : "")) < 0 ||
        value_struct_set(v, "limit", value_int(n)) < 0) {
        value_free(v);
        gateway_answer_error(g, 500, "INTERNAL", "out of memory");
        return;
    }
    gateway_reply_call(g, SVC_POST, "/post.Post/List", v, true, 200);
}
