/* test_posts.c -- unit tests for the post service's SQLite module: create, get, list newest
 * first, the caps on title and body, idempotent creating, and two processes writing one file. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/tempdir.h"
#include "services/posts.h"

static char dir[128], path[192];
static char err[512];

static void make_dir(void)
{
    cr_assert_eq(tempdir_make(dir, sizeof dir, "wb-posts"), 0);
    snprintf(path, sizeof path, "%s/sub/posts.db", dir); /* parents are created */
}

static void remove_dir(void)
{
    tempdir_remove(dir);
}

TestSuite(posts, .init = make_dir, .fini = remove_dir);

/* A string of n copies of c (caller frees). */
static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    cr_assert_not_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

Test(posts, create_get_list)
{
    posts *p = posts_open(path, err, sizeof err);
    cr_assert_not_null(p, "%s", err);
    post_rec r, g;
    bool replayed;
    cr_assert_eq(posts_create(p, "li", "静夜思", "床前明月光，\n疑是地上霜。", "", "127.0.0.1:1", &r, &replayed, err,
                              sizeof err),
                 STORE_OK, "%s", err);
    cr_assert(!replayed);
    cr_assert_gt(r.id, 0);
    cr_assert_str_eq(r.title, "静夜思");
    cr_assert_str_eq(r.served_by, "127.0.0.1:1");
    cr_assert_gt(r.created_ms, 1600000000000LL, "Unix milliseconds");
    cr_assert_eq(posts_get(p, r.id, &g, err, sizeof err), STORE_OK, "%s", err);
    cr_assert_str_eq(g.body, "床前明月光，\n疑是地上霜。");
    cr_assert_str_eq(g.user, "li");
    cr_assert_eq(g.created_ms, r.created_ms);
    cr_assert_eq(posts_get(p, r.id + 100, &g, err, sizeof err), STORE_NOT_FOUND);
    cr_assert_str_eq(err, "no post 101");
    cr_assert_eq(posts_create(p, "li", "second", "b", "", "x", &r, &replayed, err, sizeof err), STORE_OK);
    cr_assert_eq(posts_create(p, "zhang", "third", "c", "", "x", &r, &replayed, err, sizeof err), STORE_OK);
    post_rec *list;
    size_t n;
    cr_assert_eq(posts_list(p, "li", 0, &list, &n, err, sizeof err), STORE_OK);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(list[0].title, "second", "newest first");
    cr_assert_str_eq(list[1].title, "静夜思");
    free(list);
    cr_assert_eq(posts_list(p, "", 0, &list, &n, err, sizeof err), STORE_OK);
    cr_assert_eq(n, 3, "an empty user lists everyone's");
    cr_assert_str_eq(list[0].user, "zhang");
    free(list);
    cr_assert_eq(posts_list(p, "li", 1, &list, &n, err, sizeof err), STORE_OK);
    cr_assert_eq(n, 1);
    free(list);
    cr_assert_eq(posts_list(p, "nobody", 0, &list, &n, err, sizeof err), STORE_OK);
    cr_assert_eq(n, 0);
    free(list);
    posts_close(p);
}

Test(posts, creating_checks_its_fields)
{
    posts *p = posts_open(path, err, sizeof err);
    cr_assert_not_null(p, "%s", err);
    post_rec r;
    bool replayed;
    cr_assert_eq(posts_create(p, "", "t", "b", "", "x", &r, &replayed, err, sizeof err), STORE_INVALID);
    cr_assert_str_eq(err, "user is required");
    cr_assert_eq(posts_create(p, "li", "", "b", "", "x", &r, &replayed, err, sizeof err), STORE_INVALID);
    cr_assert_str_eq(err, "title is required");
    cr_assert_eq(posts_create(p, "li", "t", "", "", "x", &r, &replayed, err, sizeof err), STORE_INVALID);
    cr_assert_str_eq(err, "body is required");
    char *title = repeat('t', POSTS_TITLE_MAX + 1), *body = repeat('b', POSTS_BODY_MAX + 1);
    cr_assert_eq(posts_create(p, "li", title, "b", "", "x", &r, &replayed, err, sizeof err), STORE_INVALID);
    cr_assert_str_eq(err, "title is 201 bytes; at most 200");
    cr_assert_eq(posts_create(p, "li", "t", body, "", "x", &r, &replayed, err, sizeof err), STORE_INVALID);
    cr_assert_str_eq(err, "body is 10001 bytes; at most 10000");
    title[POSTS_TITLE_MAX] = body[POSTS_BODY_MAX] = '\0';
    cr_assert_eq(posts_create(p, "li", title, body, "", "x", &r, &replayed, err, sizeof err), STORE_OK,
                 "exactly the caps: %s", err);
    cr_assert_eq(strlen(r.body), POSTS_BODY_MAX);
    cr_assert_eq(posts_create(p, "li", "two\nlines", "b", "", "x", &r, &replayed, err, sizeof err), STORE_INVALID);
    cr_assert_str_eq(err, "title contains a control character (byte 3); it is one line");
    cr_assert_eq(posts_create(p, "li", "t", "bell\a", "", "x", &r, &replayed, err, sizeof err), STORE_INVALID);
    cr_assert_str_eq(err, "body contains a control character (byte 4)");
    cr_assert_eq(posts_create(p, "li", "t", "tab\tand\r\nlines", "", "x", &r, &replayed, err, sizeof err), STORE_OK);
    char *rid = repeat('r', POSTS_REQUEST_ID_MAX + 1);
    cr_assert_eq(posts_create(p, "li", "t", "b", rid, "x", &r, &replayed, err, sizeof err), STORE_INVALID);
    cr_assert_str_eq(err, "request_id is longer than 200 bytes");
    char *user = repeat('u', POSTS_USER_MAX + 1);
    post_rec *list;
    size_t n;
    cr_assert_eq(posts_list(p, user, 0, &list, &n, err, sizeof err), STORE_INVALID);
    cr_assert_eq(posts_list(p, "li", 0, &list, &n, err, sizeof err), STORE_OK);
    cr_assert_eq(n, 2, "only the two good posts were stored");
    free(list);
    free(title), free(body), free(rid), free(user);
    posts_close(p);
}

Test(posts, a_request_id_creates_once_per_user)
{
    posts *p = posts_open(path, err, sizeof err);
    cr_assert_not_null(p, "%s", err);
    post_rec a, b;
    bool replayed;
    cr_assert_eq(posts_create(p, "li", "t", "b", "req-1", "first", &a, &replayed, err, sizeof err), STORE_OK);
    cr_assert(!replayed);
    cr_assert_eq(posts_create(p, "li", "t", "b", "req-1", "second", &b, &replayed, err, sizeof err), STORE_OK, "%s",
                 err);
    cr_assert(replayed);
    cr_assert_eq(a.id, b.id);
    cr_assert_str_eq(b.served_by, "first", "the stored post, not a new one");
    cr_assert_eq(posts_create(p, "li", "t", "other", "req-1", "x", &b, &replayed, err, sizeof err), STORE_EXISTS);
    cr_assert_str_eq(err, "request_id req-1 was used for a different post");
    cr_assert_eq(posts_create(p, "zhang", "t", "b", "req-1", "x", &b, &replayed, err, sizeof err), STORE_OK);
    cr_assert(!replayed, "another user's same id is another post");
    cr_assert_neq(a.id, b.id);
    cr_assert_eq(posts_create(p, "li", "t", "b", "", "x", &b, &replayed, err, sizeof err), STORE_OK);
    cr_assert_eq(posts_create(p, "li", "t", "b", "", "x", &b, &replayed, err, sizeof err), STORE_OK);
    cr_assert(!replayed, "no request id: every call creates");
    post_rec *list;
    size_t n;
    cr_assert_eq(posts_list(p, "li", 0, &list, &n, err, sizeof err), STORE_OK);
    cr_assert_eq(n, 3);
    free(list);
    posts_close(p);
}

Test(posts, a_list_is_capped)
{
    posts *p = posts_open(path, err, sizeof err);
    cr_assert_not_null(p, "%s", err);
    post_rec r;
    bool replayed;
    for (int i = 0; i < POSTS_LIST_MAX + 5; i++) {
        char title[16];
        snprintf(title, sizeof title, "p%d", i);
        cr_assert_eq(posts_create(p, "li", title, "b", "", "x", &r, &replayed, err, sizeof err), STORE_OK);
    }
    post_rec *list;
    size_t n;
    cr_assert_eq(posts_list(p, "li", 100000, &list, &n, err, sizeof err), STORE_OK);
    cr_assert_eq(n, POSTS_LIST_MAX, "a limit over the cap is the cap");
    cr_assert_str_eq(list[0].title, "p104");
    free(list);
    posts_close(p);
}

/* Two processes, each with its own handle (as two post-server instances), create at the
 * same time; every post lands, none is lost to a lock. */
Test(posts, two_processes_write_one_file)
{
    enum { EACH = 50 };
    posts *p = posts_open(path, err, sizeof err); /* creates the file and the schema */
    cr_assert_not_null(p, "%s", err);
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        cr_assert_geq(kids[k], 0);
        if (kids[k] == 0) {
            posts *mine = posts_open(path, err, sizeof err);
            if (!mine)
                _exit(10);
            for (int i = 0; i < EACH; i++) {
                post_rec r;
                bool replayed;
                char rid[32];
                snprintf(rid, sizeof rid, "%d-%d", k, i);
                if (posts_create(mine, k ? "b" : "a", "t", "b", rid, "x", &r, &replayed, err, sizeof err) != STORE_OK)
                    _exit(11);
            }
            posts_close(mine);
            _exit(0);
        }
    }
    for (int k = 0; k < 2; k++) {
        int status;
        cr_assert_eq(waitpid(kids[k], &status, 0), kids[k]);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer %d failed (status %d)", k, status);
    }
    post_rec *list;
    size_t n;
    cr_assert_eq(posts_list(p, "", 0, &list, &n, err, sizeof err), STORE_OK);
    cr_assert_eq(n, 2 * EACH);
    free(list);
    posts_close(p);
}

Test(posts, open_fails_with_a_reason)
{
    cr_assert_null(posts_open("/proc/no/such/dir/x.db", err, sizeof err));
    cr_assert(strstr(err, "cannot create") || strstr(err, "cannot open"), "%s", err);
}
