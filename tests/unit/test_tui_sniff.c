/* test_tui_sniff.c -- unit tests for the Sniff pane's model (workbench/tui/tui_sniff*.c):
 * the calls kept (the last TUI_SNIFF_CALLS), the bytes kept to explain them (the oldest
 * lose theirs first), selection, a call explained from its kept bytes, the replay's pace,
 * methods cut for the list; and a capture file written with pcapout replayed at its
 * recorded pace through pcapin and the sniffer. */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "capture/pcapout.h"
#include "tui_sniff.h"

#define REQ "{\"method\":\"Arith.Multiply\",\"params\":[{\"A\":7,\"B\":8}],\"id\":0}\n"
#define REP "{\"id\":0,\"result\":56,\"error\":null}\n"

/* A JSON-RPC call on connection conn as the sniffer hands it over: c2s and s2c are all the
 * connection's bytes so far, the call's share at the given offsets. */
static sniff_call json_call(uint64_t conn, uint64_t n, const char *c2s, size_t req_off, const char *s2c,
                            size_t rep_off, int64_t t0)
{
    sniff_call c = {
        .conn_id = conn, .n = n, .proto = SNIFF_JSONRPC, .method = "Arith.Multiply", .args = "{\"A\":7,\"B\":8}",
        .result = "56", .status = "ok", .start_us = t0, .end_us = t0 + 250,
        .c2s = (const uint8_t *)c2s, .c2s_len = strlen(c2s), .s2c = (const uint8_t *)s2c, .s2c_len = strlen(s2c),
        .req_off = req_off, .req_end = strlen(c2s), .rep_off = rep_off, .rep_end = strlen(s2c), .from_start = true,
    };
    snprintf(c.client, sizeof c.client, "127.0.0.1:%u", (unsigned)(40000 + conn));
    snprintf(c.server, sizeof c.server, "127.0.0.1:1234");
    return c;
}

Test(tui_sniff, calls_show_in_order_with_what_the_list_needs)
{
    tui_sniff *s = tui_sniff_new();
    sniff_call c = json_call(1, 1, REQ, 0, REP, 0, 1700000000000000);
    tui_sniff_take_call(s, &c);
    c = json_call(1, 2, REQ REQ, strlen(REQ), REP REP, strlen(REP), 1700000000001000);
    c.method = "Arith.Divide";
    c.status = "error";
    c.result = NULL;
    c.error = "divide by zero";
    tui_sniff_take_call(s, &c);
    tui_sniff_view *v = malloc(sizeof *v);
    tui_sniff_snapshot(s, 0, v);
    cr_assert_eq(v->total, 2);
    cr_assert_eq(v->nrows, 2);
    cr_assert(v->follow);
    cr_assert_eq(v->sel, 1, "the newest is selected");
    cr_assert_str_eq(v->rows[0].method, "Arith.Multiply");
    cr_assert_str_eq(v->rows[1].method, "Arith.Divide");
    cr_assert_str_eq(v->rows[1].status, "error");
    cr_assert_str_eq(v->rows[0].client, "127.0.0.1:40001");
    cr_assert(v->rows[0].has_bytes && v->rows[1].has_bytes);
    cr_assert_str_eq(v->detail.error, "divide by zero");
    cr_assert_not(v->detail.had_result);
    cr_assert_eq(v->info.calls, 2);
    /* the selection moves and stays inside the list */
    cr_assert_eq(tui_sniff_move(s, 0, -1), 1);
    cr_assert_eq(tui_sniff_move(s, 1, -5), 1);
    cr_assert_eq(tui_sniff_move(s, 1, 9), 2);
    tui_sniff_snapshot(s, 1, v);
    cr_assert_eq(v->sel, 0);
    cr_assert_not(v->follow);
    cr_assert_str_eq(v->detail.args, "{\"A\":7,\"B\":8}");
    free(v);
    tui_sniff_free(s);
}

Test(tui_sniff, a_call_is_explained_from_the_bytes_kept_of_its_connection)
{
    tui_sniff *s = tui_sniff_new();
    sniff_call c = json_call(1, 1, REQ, 0, REP, 0, 1700000000000000);
    tui_sniff_take_call(s, &c);
    c = json_call(1, 2, REQ REQ, strlen(REQ), REP REP, strlen(REP), 1700000000001000);
    tui_sniff_take_call(s, &c);
    tui_sniff_bytes b;
    char err[300] = "";
    cr_assert_eq(tui_sniff_explain(s, 2, &b, err, sizeof err), 0, "%s", err);
    cr_assert_eq(buf_size(&b.share[0]), strlen(REQ));
    cr_assert_eq(memcmp(buf_data(&b.share[0]), REQ, strlen(REQ)), 0);
    cr_assert_eq(buf_size(&b.share[1]), strlen(REP));
    cr_assert_eq(buf_size(&b.conn[0]), 2 * strlen(REQ), "the connection's bytes up to the call's end");
    cr_assert_gt(b.ex[0].len, 0);
    cr_assert_gt(b.ex[1].len, 0);
    for (size_t i = 0; i < b.ex[0].len; i++)
        cr_assert_leq(b.ex[0].spans[i].off + b.ex[0].spans[i].len, strlen(REQ), "spans lie in the request");
    bool seen = false;
    for (size_t i = 0; i < b.ex[0].len; i++)
        seen |= strstr(b.ex[0].spans[i].meaning, "Arith.Multiply") != NULL;
    cr_assert(seen, "a span names the method");
    tui_sniff_bytes_done(&b);
    cr_assert_eq(tui_sniff_explain(s, 9, &b, err, sizeof err), -1);
    cr_assert(strstr(err, "no longer in the list"), "%s", err);
    tui_sniff_bytes_done(&b);
    tui_sniff_free(s);
}

Test(tui_sniff, the_list_keeps_the_last_calls_and_counts_the_dropped)
{
    tui_sniff *s = tui_sniff_new();
    for (int i = 0; i < TUI_SNIFF_CALLS + 5; i++) {
        sniff_call c = json_call((uint64_t)i + 1, 1, REQ, 0, REP, 0, 1700000000000000 + i);
        tui_sniff_take_call(s, &c);
    }
    tui_sniff_view *v = malloc(sizeof *v);
    tui_sniff_snapshot(s, 0, v);
    cr_assert_eq(v->total, TUI_SNIFF_CALLS);
    cr_assert_eq(v->info.dropped, 5);
    cr_assert_eq(v->info.calls, TUI_SNIFF_CALLS + 5);
    cr_assert_eq(v->detail.row.id, TUI_SNIFF_CALLS + 5);
    cr_assert_eq(v->nrows, TUI_SNIFF_VIEW_ROWS);
    cr_assert_eq(v->first + v->nrows, v->total, "the snapshot ends at the newest");
    tui_sniff_snapshot(s, 1, v); /* dropped: the oldest kept */
    cr_assert_eq(v->detail.row.id, 6);
    cr_assert_eq(v->first, 0);
    cr_assert_eq(v->sel, 0);
    tui_sniff_snapshot(s, 500, v);
    cr_assert_eq(v->rows[v->sel].id, 500);
    cr_assert_eq(v->first, 500 - 6 - TUI_SNIFF_VIEW_ROWS / 2);
    free(v);
    tui_sniff_free(s);
}

Test(tui_sniff, the_calls_seen_longest_ago_lose_their_bytes_first)
{
    tui_sniff *s = tui_sniff_new();
    size_t big = (1u << 20) - 64; /* eight of them and their replies fit */
    char *c2s = malloc(big + 1);
    memset(c2s, ' ', big);
    c2s[big] = '\0';
    int n = TUI_SNIFF_BYTES / (int)big + 2;
    for (int i = 0; i < n; i++) {
        sniff_call c = json_call((uint64_t)i + 1, 1, c2s, 0, REP, 0, 1700000000000000 + i);
        tui_sniff_take_call(s, &c);
    }
    tui_sniff_view *v = malloc(sizeof *v);
    tui_sniff_snapshot(s, 1, v);
    cr_assert_not(v->rows[0].has_bytes);
    cr_assert(v->detail.bytes_dropped);
    cr_assert_not(v->rows[1].has_bytes);
    cr_assert(v->rows[n - 1].has_bytes);
    cr_assert(v->rows[2].has_bytes, "only as many as needed lose theirs");
    tui_sniff_bytes b;
    char err[300];
    cr_assert_eq(tui_sniff_explain(s, 1, &b, err, sizeof err), -1);
    cr_assert(strstr(err, "dropped to make room"), "%s", err);
    tui_sniff_bytes_done(&b);
    /* a call past what the sniffer keeps of its connection has none */
    sniff_call c = json_call(99, 7, REQ, 0, REP, 0, 1700000000000000);
    c.c2s = c.s2c = NULL;
    tui_sniff_take_call(s, &c);
    tui_sniff_snapshot(s, 0, v);
    cr_assert_not(v->detail.row.has_bytes);
    cr_assert(v->detail.bytes_past);
    free(v);
    free(c2s);
    tui_sniff_free(s);
}

Test(tui_sniff, replay_waits_the_recorded_gaps_over_the_speed_and_cuts_silences)
{
    bool cut;
    cr_assert_eq(tui_sniff_pace_us(1000000, 1, &cut), 1000000);
    cr_assert_not(cut);
    cr_assert_eq(tui_sniff_pace_us(1000000, 4, &cut), 250000);
    cr_assert_eq(tui_sniff_pace_us(60000000, 1, &cut), TUI_SNIFF_SILENCE_US);
    cr_assert(cut);
    cr_assert_eq(tui_sniff_pace_us(60000000, 100, &cut), 600000);
    cr_assert_not(cut);
    cr_assert_eq(tui_sniff_pace_us(-5, 1, &cut), 0, "a segment stamped before the one before");
}

Test(tui_sniff, methods_are_cut_where_it_matters_least)
{
    char out[200];
    tui_sniff_short_method("Arith.Multiply", 20, out, sizeof out);
    cr_assert_str_eq(out, "Arith.Multiply");
    tui_sniff_short_method("/helloworld.Greeter/SayHello", 20, out, sizeof out);
    cr_assert_str_eq(out, "…Greeter/SayHello");
    tui_sniff_short_method("/helloworld.Greeter/SayHello", 12, out, sizeof out);
    cr_assert_str_eq(out, "…SayHello");
    tui_sniff_short_method("GET /arith/multiply?a=6&b=7", 15, out, sizeof out);
    cr_assert_str_eq(out, "GET /arith/mul…");
    tui_sniff_short_method("VeryLongServiceName.VeryLongMethod", 16, out, sizeof out);
    cr_assert_str_eq(out, "…VeryLongMethod");
}

/* A capture file of two JSON-RPC calls on one connection, the second 300 ms after the
 * first, then 20 s of silence before a third. */
static void write_capture(const char *path, int64_t t0)
{
    char err[300];
    pcapout *o = pcapout_new(path, err, sizeof err);
    cr_assert_not_null(o, "%s", err);
    struct sockaddr_in cl = {.sin_family = AF_INET, .sin_port = htons(40001)};
    struct sockaddr_in sv = {.sin_family = AF_INET, .sin_port = htons(1234)};
    inet_pton(AF_INET, "127.0.0.1", &cl.sin_addr);
    inet_pton(AF_INET, "127.0.0.1", &sv.sin_addr);
    pcapout_conn *c = pcapout_conn_new(o, (struct sockaddr *)&cl, (struct sockaddr *)&sv, t0);
    const int64_t at[] = {t0 + 1000, t0 + 301000, t0 + 20301000};
    for (int i = 0; i < 3; i++) {
        pcapout_conn_data(c, false, (const uint8_t *)REQ, strlen(REQ), at[i]);
        pcapout_conn_data(c, true, (const uint8_t *)REP, strlen(REP), at[i] + 200);
    }
    pcapout_conn_free(c, t0 + 20302000);
    cr_assert_eq(pcapout_free(o, err, sizeof err), 0, "%s", err);
}

static bool wait_calls(tui_sniff *s, uint64_t n, int ms)
{
    tui_sniff_info in;
    for (uint64_t end = clock_now_ms() + (uint64_t)ms; clock_now_ms() < end; clock_sleep_ms(5)) {
        tui_sniff_get_info(s, &in);
        if (in.calls >= n)
            return true;
    }
    return false;
}

Test(tui_sniff, a_capture_file_replays_at_its_recorded_pace)
{
    char path[] = "/tmp/test_tui_sniff_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    write_capture(path, 1700000000000000);
    tui_sniff *s = tui_sniff_new();
    char err[300];
    uint64_t t0 = clock_now_ms();
    cr_assert_eq(tui_sniff_replay(s, path, 1, err, sizeof err), 0, "%s", err);
    cr_assert(wait_calls(s, 1, 3000), "the first call shows");
    cr_assert(wait_calls(s, 2, 3000), "the second call shows");
    uint64_t second = clock_now_ms() - t0;
    cr_assert_geq(second, 280, "the second call comes after the recorded 300 ms, not before (%llu ms)",
                  (unsigned long long)second);
    tui_sniff_info in;
    tui_sniff_get_info(s, &in);
    cr_assert(in.running);
    cr_assert_gt(in.total, 10, "the file's TCP segments are counted first (%llu)", (unsigned long long)in.total);
    uint64_t total = in.total;
    /* the 20 s of silence is cut to 5 s, and shown while it lasts */
    bool silence = false;
    for (uint64_t end = clock_now_ms() + 2000; clock_now_ms() < end && !silence; clock_sleep_ms(10)) {
        tui_sniff_get_info(s, &in);
        silence = in.silence_us >= 19000000;
    }
    cr_assert(silence, "the silence being cut is shown");
    cr_assert(wait_calls(s, 3, 7000), "the third call, 5 s later");
    uint64_t third = clock_now_ms() - t0;
    cr_assert_geq(third, 5200);
    cr_assert_lt(third, 9000);
    for (uint64_t end = clock_now_ms() + 3000; clock_now_ms() < end; clock_sleep_ms(10)) {
        tui_sniff_get_info(s, &in);
        if (!in.running)
            break;
    }
    cr_assert_not(in.running);
    cr_assert(in.finished, "played to its end");
    cr_assert_eq(in.segments, total);
    tui_sniff_view *v = malloc(sizeof *v);
    tui_sniff_snapshot(s, 0, v);
    cr_assert_eq(v->total, 3);
    cr_assert_str_eq(v->rows[0].method, "Arith.Multiply");
    cr_assert_str_eq(v->rows[0].client, "127.0.0.1:40001");
    cr_assert_str_eq(v->rows[0].server, "127.0.0.1:1234");
    cr_assert_eq(v->rows[1].start_us - v->rows[0].start_us, 300000, "capture times, not replay times");
    free(v);
    tui_sniff_free(s);
    unlink(path);
}

Test(tui_sniff, a_replay_stops_at_once_in_a_long_wait)
{
    char path[] = "/tmp/test_tui_sniff_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    write_capture(path, 1700000000000000);
    tui_sniff *s = tui_sniff_new();
    char err[300];
    cr_assert_eq(tui_sniff_replay(s, path, 0.01, err, sizeof err), 0, "%s", err);
    clock_sleep_ms(200);
    uint64_t t0 = clock_now_ms();
    cr_assert(tui_sniff_stop(s));
    cr_assert_lt(clock_now_ms() - t0, 500);
    tui_sniff_info in;
    tui_sniff_get_info(s, &in);
    cr_assert_not(in.running);
    cr_assert_not(in.finished);
    cr_assert_eq(tui_sniff_replay(s, "/nonexistent.pcap", 1, err, sizeof err), -1);
    cr_assert_eq(tui_sniff_replay(s, path, 0, err, sizeof err), -1);
    cr_assert(strstr(err, "speed"), "%s", err);
    tui_sniff_free(s);
    unlink(path);
}
