/* test_consignments.c -- unit tests for the shipping service's SQLite module: create with
 * containers, new ids, ids taken, the checks, the list's order and cap, two processes. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/tempdir.h"
#include "services/consignments.h"

static char dir[128], path[192];
static char err[512];

static void make_dir(void)
{
    cr_assert_eq(tempdir_make(dir, sizeof dir, "wb-ship"), 0);
    snprintf(path, sizeof path, "%s/sub/consignments.db", dir); /* parents are created */
}

static void remove_dir(void)
{
    tempdir_remove(dir);
}

TestSuite(consignments, .init = make_dir, .fini = remove_dir);

static consignment_rec with(const char *id, int32_t weight, container_rec *boxes, size_t n)
{
    consignment_rec c = {.weight = weight, .containers = boxes, .n_containers = n};
    snprintf(c.id, sizeof c.id, "%s", id);
    snprintf(c.description, sizeof c.description, "desc of %s", id);
    snprintf(c.vessel_id, sizeof c.vessel_id, "vessel001");
    return c;
}

Test(consignments, create_and_list_with_containers)
{
    consignments *db = consignments_open(path, err, sizeof err);
    cr_assert_not_null(db, "%s", err);
    container_rec boxes[2] = {{"c1", "cust001", "Manchester, United Kingdom", "user001"},
                              {"c2", "cust002", "深圳", "user002"}};
    consignment_rec a = with("", 55000, boxes, 2), b = with("mine", 0, NULL, 0);
    cr_assert_eq(consignments_create(db, &a, err, sizeof err), STORE_OK, "%s", err);
    cr_assert_eq(strlen(a.id), 36, "a new UUID: %s", a.id);
    cr_assert_eq(a.id[14], '4');
    cr_assert_eq(consignments_create(db, &b, err, sizeof err), STORE_OK, "%s", err);
    cr_assert_str_eq(b.id, "mine", "a given id is kept");
    consignment_rec *list;
    size_t n, total;
    cr_assert_eq(consignments_list(db, 0, &list, &n, &total, err, sizeof err), STORE_OK, "%s", err);
    cr_assert_eq(n, 2);
    cr_assert_eq(total, 2);
    cr_assert_str_eq(list[0].id, a.id, "oldest first");
    cr_assert_eq(list[0].weight, 55000);
    cr_assert_str_eq(list[0].vessel_id, "vessel001");
    cr_assert_eq(list[0].n_containers, 2);
    cr_assert_str_eq(list[0].containers[1].origin, "深圳", "containers in their order");
    cr_assert_str_eq(list[0].containers[0].user_id, "user001");
    cr_assert_eq(list[1].n_containers, 0);
    consignments_list_free(list, n);
    consignment_rec again = with("mine", 1, NULL, 0);
    cr_assert_eq(consignments_create(db, &again, err, sizeof err), STORE_EXISTS);
    cr_assert_str_eq(err, "consignment mine exists already");
    consignments_close(db);
    db = consignments_open(path, err, sizeof err); /* reopened: still there */
    cr_assert_eq(consignments_list(db, 0, &list, &n, &total, err, sizeof err), STORE_OK, "%s", err);
    cr_assert_eq(n, 2);
    consignments_list_free(list, n);
    consignments_close(db);
}

Test(consignments, bad_input_refused_with_a_reason)
{
    consignments *db = consignments_open(path, err, sizeof err);
    cr_assert_not_null(db, "%s", err);
    consignment_rec c = with("x", -5, NULL, 0);
    cr_assert_eq(consignments_create(db, &c, err, sizeof err), STORE_INVALID);
    cr_assert_str_eq(err, "weight must be 0 or more, not -5");
    static container_rec many[CONSIGNMENTS_CONTAINERS_MAX + 1];
    c = with("x", 1, many, CONSIGNMENTS_CONTAINERS_MAX + 1);
    cr_assert_eq(consignments_create(db, &c, err, sizeof err), STORE_INVALID);
    cr_assert_str_eq(err, "101 containers; at most 100 in one consignment");
    container_rec bad = {"c1", "cust\n", "", ""};
    c = with("x", 1, &bad, 1);
    cr_assert_eq(consignments_create(db, &c, err, sizeof err), STORE_INVALID);
    cr_assert(strstr(err, "containers[0].customer_id contains a control character"), "%s", err);
    char small[8];
    cr_assert_eq(consignments_set_text(small, sizeof small, "12345678", "vessel_id", err, sizeof err), STORE_INVALID);
    cr_assert_str_eq(err, "vessel_id is 8 bytes; at most 7");
    cr_assert_eq(consignments_set_text(small, sizeof small, "", "vessel_id", err, sizeof err), STORE_OK);
    cr_assert_eq(consignments_set_text(small, sizeof small, "a\nb", "description", err, sizeof err), STORE_OK,
                 "a description may hold line breaks");
    consignment_rec *list;
    size_t n, total;
    cr_assert_eq(consignments_list(db, 0, &list, &n, &total, err, sizeof err), STORE_OK);
    cr_assert_eq(n, 0, "nothing refused was stored");
    consignments_list_free(list, n);
    consignments_close(db);
}

Test(consignments, list_is_the_most_recent_oldest_first)
{
    consignments *db = consignments_open(path, err, sizeof err);
    cr_assert_not_null(db, "%s", err);
    for (int i = 0; i < 12; i++) {
        char id[16];
        snprintf(id, sizeof id, "k%d", i);
        consignment_rec c = with(id, i, NULL, 0);
        cr_assert_eq(consignments_create(db, &c, err, sizeof err), STORE_OK, "%s", err);
    }
    consignment_rec *list;
    size_t n, total;
    cr_assert_eq(consignments_list(db, 5, &list, &n, &total, err, sizeof err), STORE_OK);
    cr_assert_eq(n, 5);
    cr_assert_eq(total, 12, "the caller can tell the list was cut");
    cr_assert_str_eq(list[0].id, "k7");
    cr_assert_str_eq(list[4].id, "k11");
    consignments_list_free(list, n);
    consignments_close(db);
}

/* Two processes, each with its own handle (as two shipping-server instances), create at
 * the same time; every consignment lands whole, none is lost to a lock. */
Test(consignments, two_processes_write_one_file)
{
    enum { EACH = 40 };
    consignments *db = consignments_open(path, err, sizeof err);
    cr_assert_not_null(db, "%s", err);
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        cr_assert_geq(kids[k], 0);
        if (kids[k] == 0) {
            consignments *mine = consignments_open(path, err, sizeof err);
            if (!mine)
                _exit(10);
            container_rec boxes[3] = {{"a", "b", "c", "d"}, {"e", "f", "g", "h"}, {"i", "j", "k", "l"}};
            for (int i = 0; i < EACH; i++) {
                consignment_rec c = with("", i, boxes, 3);
                if (consignments_create(mine, &c, err, sizeof err) != STORE_OK)
                    _exit(11);
            }
            consignments_close(mine);
            _exit(0);
        }
    }
    for (int k = 0; k < 2; k++) {
        int status;
        cr_assert_eq(waitpid(kids[k], &status, 0), kids[k]);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer %d failed (status %d)", k, status);
    }
    consignment_rec *list;
    size_t n, total;
    cr_assert_eq(consignments_list(db, 0, &list, &n, &total, err, sizeof err), STORE_OK);
    cr_assert_eq(n, 2 * EACH);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(list[i].n_containers, 3);
    consignments_list_free(list, n);
    consignments_close(db);
}

Test(consignments, open_fails_with_a_reason)
{
    cr_assert_null(consignments_open("/proc/no/such/dir/x.db", err, sizeof err));
    cr_assert(strstr(err, "cannot create") || strstr(err, "cannot open"), "%s", err);
}
