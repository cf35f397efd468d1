/* gateway_posts.c -- the gateway's post routes: write a post with a token (post.Post/Create),
 * read one and list the newest (post.Post/Get and List, open to anyone). */
#include "gateway_http.h"

#include <stdio.h>
#include <string.h>

#include "services/posts.h"

enum MHD_Result gateway_post_create(struct MHD_Connection *c, request *rq, const char *arg)
{
    (void)arg;
    static const field_spec fields[] = {{"title", false}, {"body", false}};
    return gateway_create(c, rq, SVC_POST, "/post.Post/Create", fields, 2);
}

enum MHD_Result gateway_post_get(struct MHD_Connection *c, request *rq, const char *arg)
{
    (void)rq;
    int64_t id;
    if (!gateway_parse_int(arg, &id) || id <= 0)
        return gateway_send_error(c, 400, "INVALID_ARGUMENT", "the post id must be a positive integer, not \"%.40s\"",
                                  arg);
    value *v = value_struct(NULL);
    if (!v || value_struct_set(v, "id", value_int(id)) < 0) {
        value_free(v);
        return gateway_send_error(c, 500, "INTERNAL", "out of memory");
    }
    return gateway_reply_call(c, SVC_POST, "/post.Post/Get", v, true, 200);
}

enum MHD_Result gateway_post_list(struct MHD_Connection *c, request *rq, const char *arg)
{
    (void)rq;
    (void)arg;
    const char *who = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "user");
    const char *limit = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
    int64_t n = 0;
    if (limit && (!gateway_parse_int(limit, &n) || n < 1 || n > POSTS_LIST_MAX))
        return gateway_send_error(c, 400, "INVALID_ARGUMENT", "limit must be 1 to %d, not \"%.40s\"", POSTS_LIST_MAX,
                                  limit);
    value *v = value_struct(NULL);
    if (!v || value_struct_set(v, "user", value_cstring(who ? who : "")) < 0 ||
        value_struct_set(v, "limit", value_int(n)) < 0) {
        value_free(v);
        return gateway_send_error(c, 500, "INTERNAL", "out of memory");
    }
    return gateway_reply_call(c, SVC_POST, "/post.Post/List", v, true, 200);
}
