/* test_eventlog.c -- unit tests for base/eventlog, the lab's timeline file: what a process
 * writes with the lab's variables set (and without them), reading back sorted, the cap.
 * Each test runs in a process of its own (Criterion's default), so each one reads the
 * variables it sets afresh. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/clock.h"
#include "base/eventlog.h"
#include "base/tempdir.h"

#define DEADLINE .timeout = 30

static char dir[64], path[128];

static void make_dir(void)
{
    cr_assert_eq(tempdir_make(dir, sizeof dir, "wb-eventlog"), 0);
    snprintf(path, sizeof path, "%s/events", dir);
}

/* The lab's variables, as `workbench lab` gives them: the file, its start t0_ms ago. */
static void lab_env(const char *host, uint64_t t0_ms_ago)
{
    char t0[32];
    snprintf(t0, sizeof t0, "%llu", (unsigned long long)(clock_now_ms() - t0_ms_ago));
    cr_assert_eq(setenv("WB_LAB_EVENTS", path, 1), 0);
    cr_assert_eq(setenv("WB_LAB_T0", t0, 1), 0);
    if (host)
        cr_assert_eq(setenv("WB_LAB_HOST", host, 1), 0);
    else
        unsetenv("WB_LAB_HOST");
}

static long file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

static size_t read_all(eventlog_line **ev, int64_t since)
{
    size_t n;
    char err[256] = "";
    cr_assert_eq(eventlog_read(path, since, 1 << 24, ev, &n, err, sizeof err), 0, "%s", err);
    return n;
}

Test(eventlog, with_the_lab_variables_a_process_writes_ms_host_who_text, DEADLINE)
{
    make_dir();
    lab_env("host2", 5000);
    cr_assert(eventlog_on());
    int64_t now = eventlog_now_ms();
    cr_assert(now >= 5000 && now < 6000, "now %lld ms", (long long)now);
    eventlog_say("keepalive", "registered %s %s via %s", "hello", "10.77.0.12:50051", "10.77.0.11:2379");
    eventlog_say("balancer", "back %s", "10.77.0.12:50051");
    eventlog_line *ev;
    size_t n = read_all(&ev, 0);
    cr_assert_eq(n, 2);
    cr_assert(ev[0].ms >= 5000 && ev[0].ms < 6000);
    cr_assert_str_eq(ev[0].host, "host2");
    cr_assert_str_eq(ev[0].who, "keepalive");
    cr_assert_str_eq(ev[0].text, "registered hello 10.77.0.12:50051 via 10.77.0.11:2379");
    cr_assert_str_eq(ev[1].who, "balancer");
    cr_assert_str_eq(ev[1].text, "back 10.77.0.12:50051");
    char want[128];
    snprintf(want, sizeof want, "%lld host2 keepalive registered hello ", (long long)ev[0].ms);
    free(ev);
    FILE *f = fopen(path, "r");
    char line[256];
    cr_assert(f && fgets(line, sizeof line, f));
    fclose(f);
    cr_assert(strncmp(line, want, strlen(want)) == 0, "line: %s", line);
    tempdir_remove(dir);
}

Test(eventlog, without_a_host_the_host_is_a_dash_and_control_characters_become_spaces, DEADLINE)
{
    make_dir();
    lab_env(NULL, 0);
    eventlog_say("calls", "failed 2 calls (%s: %s)", "127.0.0.1:1", "two\nlines\tand\x1b[2J");
    eventlog_line *ev;
    cr_assert_eq(read_all(&ev, 0), 1);
    cr_assert_str_eq(ev[0].host, "-");
    cr_assert_str_eq(ev[0].text, "failed 2 calls (127.0.0.1:1: two lines and [2J)");
    free(ev);
    tempdir_remove(dir);
}

Test(eventlog, without_the_variables_nothing_is_written, DEADLINE)
{
    make_dir();
    unsetenv("WB_LAB_EVENTS");
    unsetenv("WB_LAB_T0");
    unsetenv("WB_LAB_HOST");
    cr_assert_not(eventlog_on());
    cr_assert_eq(eventlog_now_ms(), -1);
    eventlog_say("load", "start hello at 100/s");
    cr_assert_eq(file_size(path), -1, "no file is made");
    eventlog_line *ev;
    cr_assert_eq(read_all(&ev, 0), 0, "a missing file is no event");
    free(ev);
    tempdir_remove(dir);
}

Test(eventlog, a_start_that_is_not_a_number_turns_it_off, DEADLINE)
{
    make_dir();
    cr_assert_eq(setenv("WB_LAB_EVENTS", path, 1), 0);
    cr_assert_eq(setenv("WB_LAB_T0", "soon", 1), 0);
    cr_assert_not(eventlog_on());
    eventlog_say("load", "start hello at 100/s");
    cr_assert_eq(file_size(path), -1);
    tempdir_remove(dir);
}

Test(eventlog, reading_sorts_by_time_keeps_equal_times_in_order_and_skips_bad_lines, DEADLINE)
{
    make_dir();
    cr_assert_eq(eventlog_append(path, 300, "lab", "fault", "kill host2 (3 processes)"), 0);
    cr_assert_eq(eventlog_append(path, 100, "client", "load", "start hello at 100/s"), 0);
    FILE *f = fopen(path, "a");
    cr_assert_not_null(f);
    fputs("not a line\n12x host1 a b\n250 nowho\n", f);
    fclose(f);
    cr_assert_eq(eventlog_append(path, 300, "client", "balancer", "ejected 10.77.0.12:50051 for 250 ms: refused"), 0);
    cr_assert_eq(eventlog_append(path, 200, "host2", "keepalive", "deregistered"), 0);
    eventlog_line *ev;
    size_t n = read_all(&ev, 0);
    cr_assert_eq(n, 4);
    const int64_t ms[] = {100, 200, 300, 300};
    const char *who[] = {"load", "keepalive", "fault", "balancer"};
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(ev[i].ms, ms[i], "line %zu", i);
        cr_assert_str_eq(ev[i].who, who[i], "line %zu", i);
    }
    free(ev);
    n = read_all(&ev, 250);
    cr_assert_eq(n, 2, "since 250 ms");
    cr_assert_str_eq(ev[0].who, "fault");
    free(ev);
    tempdir_remove(dir);
}

Test(eventlog, reading_stops_at_max_bytes, DEADLINE)
{
    make_dir();
    for (int i = 0; i < 10; i++)
        cr_assert_eq(eventlog_append(path, i, "lab", "fault", "heal all"), 0);
    long one = file_size(path) / 10;
    eventlog_line *ev;
    size_t n;
    char err[128];
    cr_assert_eq(eventlog_read(path, 0, (size_t)(3 * one), &ev, &n, err, sizeof err), 0);
    cr_assert_eq(n, 3);
    free(ev);
    tempdir_remove(dir);
}

Test(eventlog, a_process_writes_at_most_its_cap_then_one_line_says_so, DEADLINE)
{
    make_dir();
    lab_env("client", 0);
    char text[400];
    memset(text, 'x', sizeof text - 1);
    text[sizeof text - 1] = 0;
    size_t lines = EVENTLOG_CAP / sizeof text + 100;
    for (size_t i = 0; i < lines; i++)
        eventlog_say("calls", "%s", text);
    long size = file_size(path);
    cr_assert(size <= EVENTLOG_CAP + EVENTLOG_LINE, "%ld bytes", size);
    cr_assert(size > EVENTLOG_CAP - 2 * (long)sizeof text, "%ld bytes", size);
    eventlog_line *ev;
    size_t n = read_all(&ev, 0);
    cr_assert_lt(n, lines);
    cr_assert_str_eq(ev[n - 1].who, "eventlog");
    cr_assert(strstr(ev[n - 1].text, "later events are left out"), "%s", ev[n - 1].text);
    free(ev);
    tempdir_remove(dir);
}

static void *say_many(void *arg)
{
    for (int i = 0; i < 200; i++)
        eventlog_say("balancer", "thread %d line %d", (int)(intptr_t)arg, i);
    return NULL;
}

Test(eventlog, lines_of_many_threads_never_interleave, DEADLINE)
{
    make_dir();
    lab_env("client", 0);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, say_many, (void *)(intptr_t)i), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    eventlog_line *ev;
    size_t n = read_all(&ev, 0);
    cr_assert_eq(n, 800);
    for (size_t i = 0; i < n; i++) {
        int th, k;
        cr_assert_eq(sscanf(ev[i].text, "thread %d line %d", &th, &k), 2, "%s", ev[i].text);
        cr_assert_str_eq(ev[i].who, "balancer");
    }
    free(ev);
    tempdir_remove(dir);
}
