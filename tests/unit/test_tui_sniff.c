/* test_tui_sniff.c -- unit tests for the Sniff pane's model (workbench/tui/tui_sniff*.c):
 * the calls kept (the last TUI_SNIFF_CALLS), the bytes kept to explain them (the oldest
 * lose theirs first), selection, a call explained from its kept bytes, the replay's pace,
 * methods cut for the list; and a capture file written with pcapout replayed at its
 * recorded pace through pcapin and the sniffer. Written for threadtest.h: the capture
 * thread runs under ThreadSanitizer too (make tsan). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/tempdir.h"
#include "capture/pcapout.h"
#include "threadtest.h"
#include "tui_sniff.h"

#define CHECK(cond) TT_CHECK(cond, "%s", "")
#define STR_EQ(got, want) TT_CHECK(strcmp(got, want) == 0, "got \"%s\", want \"%s\"", got, want)

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

TT_TEST(tui_sniff, calls_show_in_order_with_what_the_list_needs)
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
    CHECK(v->total == 2);
    CHECK(v->nrows == 2);
    CHECK(v->follow);
    TT_CHECK(v->sel == 1, "the newest is selected");
    STR_EQ(v->rows[0].method, "Arith.Multiply");
    STR_EQ(v->rows[1].method, "Arith.Divide");
    STR_EQ(v->rows[1].status, "error");
    STR_EQ(v->rows[0].client, "127.0.0.1:40001");
    CHECK(v->rows[0].has_bytes && v->rows[1].has_bytes);
    STR_EQ(v->detail.error, "divide by zero");
    CHECK(!v->detail.had_result);
    CHECK(v->info.calls == 2);
    /* the selection moves and stays inside the list */
    CHECK(tui_sniff_move(s, 0, -1) == 1);
    CHECK(tui_sniff_move(s, 1, -5) == 1);
    CHECK(tui_sniff_move(s, 1, 9) == 2);
    tui_sniff_snapshot(s, 1, v);
    CHECK(v->sel == 0);
    CHECK(!v->follow);
    STR_EQ(v->detail.args, "{\"A\":7,\"B\":8}");
    free(v);
    tui_sniff_free(s);
}

TT_TEST(tui_sniff, a_call_is_explained_from_the_bytes_kept_of_its_connection)
{
    tui_sniff *s = tui_sniff_new();
    sniff_call c = json_call(1, 1, REQ, 0, REP, 0, 1700000000000000);
    tui_sniff_take_call(s, &c);
    c = json_call(1, 2, REQ REQ, strlen(REQ), REP REP, strlen(REP), 1700000000001000);
    tui_sniff_take_call(s, &c);
    tui_sniff_bytes b;
    char err[300] = "";
    TT_CHECK(tui_sniff_explain(s, 2, &b, err, sizeof err) == 0, "%s", err);
    CHECK(buf_size(&b.share[0]) == strlen(REQ));
    CHECK(memcmp(buf_data(&b.share[0]), REQ, strlen(REQ)) == 0);
    CHECK(buf_size(&b.share[1]) == strlen(REP));
    TT_CHECK(buf_size(&b.conn[0]) == 2 * strlen(REQ), "the connection's bytes up to the call's end");
    CHECK(b.ex[0].len > 0);
    CHECK(b.ex[1].len > 0);
    for (size_t i = 0; i < b.ex[0].len; i++)
        TT_CHECK(b.ex[0].spans[i].off + b.ex[0].spans[i].len <= strlen(REQ), "spans lie in the request");
    bool seen = false;
    for (size_t i = 0; i < b.ex[0].len; i++)
        seen |= strstr(b.ex[0].spans[i].meaning, "Arith.Multiply") != NULL;
    TT_CHECK(seen, "a span names the method");
    tui_sniff_bytes_done(&b);
    CHECK(tui_sniff_explain(s, 9, &b, err, sizeof err) == -1);
    TT_CHECK(strstr(err, "no longer in the list"), "%s", err);
    tui_sniff_bytes_done(&b);
    tui_sniff_free(s);
}

TT_TEST(tui_sniff, the_list_keeps_the_last_calls_and_counts_the_dropped)
{
    tui_sniff *s = tui_sniff_new();
    for (int i = 0; i < TUI_SNIFF_CALLS + 5; i++) {
        sniff_call c = json_call((uint64_t)i + 1, 1, REQ, 0, REP, 0, 1700000000000000 + i);
        tui_sniff_take_call(s, &c);
    }
    tui_sniff_view *v = malloc(sizeof *v);
    tui_sniff_snapshot(s, 0, v);
    CHECK(v->total == TUI_SNIFF_CALLS);
    CHECK(v->info.dropped == 5);
    CHECK(v->info.calls == TUI_SNIFF_CALLS + 5);
    CHECK(v->detail.row.id == TUI_SNIFF_CALLS + 5);
    CHECK(v->nrows == TUI_SNIFF_VIEW_ROWS);
    TT_CHECK(v->first + v->nrows == v->total, "the snapshot ends at the newest");
    tui_sniff_snapshot(s, 1, v); /* dropped: the oldest kept */
    CHECK(v->detail.row.id == 6);
    CHECK(v->first == 0);
    CHECK(v->sel == 0);
    tui_sniff_snapshot(s, 500, v);
    CHECK(v->rows[v->sel].id == 500);
    CHECK(v->first == 500 - 6 - TUI_SNIFF_VIEW_ROWS / 2);
    free(v);
    tui_sniff_free(s);
}

TT_TEST(tui_sniff, the_calls_seen_longest_ago_lose_their_bytes_first)
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
    CHECK(!v->rows[0].has_bytes);
    CHECK(v->detail.bytes_dropped);
    CHECK(!v->rows[1].has_bytes);
    CHECK(v->rows[n - 1].has_bytes);
    TT_CHECK(v->rows[2].has_bytes, "only as many as needed lose theirs");
    tui_sniff_bytes b;
    char err[300];
    CHECK(tui_sniff_explain(s, 1, &b, err, sizeof err) == -1);
    TT_CHECK(strstr(err, "dropped to make room"), "%s", err);
    tui_sniff_bytes_done(&b);
    /* a call past what the sniffer keeps of its connection has none */
    sniff_call c = json_call(99, 7, REQ, 0, REP, 0, 1700000000000000);
    c.c2s = c.s2c = NULL;
    tui_sniff_take_call(s, &c);
    tui_sniff_snapshot(s, 0, v);
    CHECK(!v->detail.row.has_bytes);
    CHECK(v->detail.bytes_past);
    free(v);
    free(c2s);
    tui_sniff_free(s);
}

TT_TEST(tui_sniff, replay_waits_the_recorded_gaps_over_the_speed_and_cuts_silences)
{
    bool cut;
    CHECK(tui_sniff_pace_us(1000000, 1, &cut) == 1000000);
    CHECK(!cut);
    CHECK(tui_sniff_pace_us(1000000, 4, &cut) == 250000);
    CHECK(tui_sniff_pace_us(60000000, 1, &cut) == TUI_SNIFF_SILENCE_US);
    CHECK(cut);
    CHECK(tui_sniff_pace_us(60000000, 100, &cut) == 600000);
    CHECK(!cut);
    TT_CHECK(tui_sniff_pace_us(-5, 1, &cut) == 0, "a segment stamped before the one before");
}

TT_TEST(tui_sniff, methods_are_cut_where_it_matters_least)
{
    char out[200];
    tui_sniff_short_method("Arith.Multiply", 20, out, sizeof out);
    STR_EQ(out, "Arith.Multiply");
    tui_sniff_short_method("/helloworld.Greeter/SayHello", 20, out, sizeof out);
    STR_EQ(out, "…Greeter/SayHello");
    tui_sniff_short_method("/helloworld.Greeter/SayHello", 12, out, sizeof out);
    STR_EQ(out, "…SayHello");
    tui_sniff_short_method("GET /arith/multiply?a=6&b=7", 15, out, sizeof out);
    STR_EQ(out, "GET /arith/mul…");
    tui_sniff_short_method("VeryLongServiceName.VeryLongMethod", 16, out, sizeof out);
    STR_EQ(out, "…VeryLongMethod");
}

/* A capture file of two JSON-RPC calls on one connection, the second 300 ms after the
 * first, then 20 s of silence before a third; written as path, in a new scratch dir. */
static void scratch_capture(char *dir, size_t dircap, char *path, size_t pathcap)
{
    const int64_t t0 = 1700000000000000;
    CHECK(tempdir_make(dir, dircap, "wb-tui-sniff") == 0);
    snprintf(path, pathcap, "%s/calls.pcap", dir);
    char err[300];
    pcapout *o = pcapout_new(path, err, sizeof err);
    TT_CHECK(o != NULL, "%s", err);
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
    TT_CHECK(pcapout_free(o, err, sizeof err) == 0, "%s", err);
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

TT_TEST(tui_sniff, a_capture_file_replays_at_its_recorded_pace)
{
    char dir[256], path[300];
    scratch_capture(dir, sizeof dir, path, sizeof path);
    tui_sniff *s = tui_sniff_new();
    char err[300];
    uint64_t t0 = clock_now_ms();
    TT_CHECK(tui_sniff_replay(s, path, 1, err, sizeof err) == 0, "%s", err);
    TT_CHECK(wait_calls(s, 1, 3000), "the first call shows");
    TT_CHECK(wait_calls(s, 2, 3000), "the second call shows");
    uint64_t second = clock_now_ms() - t0;
    TT_CHECK(second >= 280, "the second call comes after the recorded 300 ms, not before (%llu ms)", (unsigned long long)second);
    tui_sniff_info in;
    tui_sniff_get_info(s, &in);
    CHECK(in.running);
    TT_CHECK(in.total > 10, "the file's TCP segments are counted first (%llu)", (unsigned long long)in.total);
    uint64_t total = in.total;
    /* the 20 s of silence is cut to 5 s, and shown while it lasts */
    bool silence = false;
    for (uint64_t end = clock_now_ms() + 2000; clock_now_ms() < end && !silence; clock_sleep_ms(10)) {
        tui_sniff_get_info(s, &in);
        silence = in.silence_us >= 19000000;
    }
    TT_CHECK(silence, "the silence being cut is shown");
    TT_CHECK(wait_calls(s, 3, 7000), "the third call, 5 s later");
    uint64_t third = clock_now_ms() - t0;
    CHECK(third >= 5200);
    CHECK(third < 9000);
    for (uint64_t end = clock_now_ms() + 3000; clock_now_ms() < end; clock_sleep_ms(10)) {
        tui_sniff_get_info(s, &in);
        if (!in.running)
            break;
    }
    CHECK(!in.running);
    TT_CHECK(in.finished, "played to its end");
    CHECK(in.segments == total);
    tui_sniff_view *v = malloc(sizeof *v);
    tui_sniff_snapshot(s, 0, v);
    CHECK(v->total == 3);
    STR_EQ(v->rows[0].method, "Arith.Multiply");
    STR_EQ(v->rows[0].client, "127.0.0.1:40001");
    STR_EQ(v->rows[0].server, "127.0.0.1:1234");
    TT_CHECK(v->rows[1].start_us - v->rows[0].start_us == 300000, "capture times, not replay times");
    free(v);
    tui_sniff_free(s);
    tempdir_remove(dir);
}

TT_TEST(tui_sniff, a_replay_stops_at_once_in_a_long_wait)
{
    char dir[256], path[300];
    scratch_capture(dir, sizeof dir, path, sizeof path);
    tui_sniff *s = tui_sniff_new();
    char err[300];
    TT_CHECK(tui_sniff_replay(s, path, 0.01, err, sizeof err) == 0, "%s", err);
    clock_sleep_ms(200);
    uint64_t t0 = clock_now_ms();
    CHECK(tui_sniff_stop(s));
    CHECK(clock_now_ms() - t0 < 500);
    tui_sniff_info in;
    tui_sniff_get_info(s, &in);
    CHECK(!in.running);
    CHECK(!in.finished);
    CHECK(tui_sniff_replay(s, "/nonexistent.pcap", 1, err, sizeof err) == -1);
    CHECK(tui_sniff_replay(s, path, 0, err, sizeof err) == -1);
    TT_CHECK(strstr(err, "speed"), "%s", err);
    tui_sniff_free(s);
    tempdir_remove(dir);
}
