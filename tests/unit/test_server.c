/* test_server.c -- unit tests for the shared server: ordering, the input cap,
 * back-pressure, idle and first-message deadlines, connection limits and eviction,
 * buffer sizes, and graceful stop.
 *
 * A test marked "helper: line server" runs server_main with testkit's line codec (each
 * line is answered with itself) in a child process, and talks to it over loopback. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testkit.h"

#include "base/buf.h"
#include "base/clock.h"
#include "base/net.h"
#include "rpc/server.h"

/* One deadline for every test of this program: Criterion's sandbox (BoxFort 0.1) leaks its
 * record of a deadline when a test that started later is due first, and AddressSanitizer
 * fails the run for that leak. */
#define DEADLINE .timeout = 60
#define HELPER .description = "helper: line server", DEADLINE
#define LINE 16 /* every line of a stream() is this long */

/* ---- helpers ---- */

/* Byte k of an endless stream of numbered lines: "000000000000000\n000000000000001\n"... */
static void stream(size_t from, uint8_t *out, size_t n)
{
    char line[32];
    size_t have = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        size_t k = from + i;
        if (k / LINE != have) {
            have = k / LINE;
            snprintf(line, sizeof line, "%015zu\n", have);
        }
        out[i] = (uint8_t)line[k % LINE];
    }
}

/* Asserts that b holds stream bytes [0, n). */
static void assert_stream(const buf *b, size_t n)
{
    cr_assert_eq(buf_size(b), n, "%zu bytes came back, expected %zu", buf_size(b), n);
    uint8_t want[4096];
    for (size_t at = 0; at < n; at += sizeof want) {
        size_t k = n - at < sizeof want ? n - at : sizeof want;
        stream(at, want, k);
        cr_assert(memcmp(buf_data(b) + at, want, k) == 0, "the replies differ within bytes %zu..%zu", at, at + k);
    }
}

/* Sends the stream on fd without reading anything, until the peer has taken nothing for
 * a whole second or limit bytes are sent. Returns the bytes sent. */
static size_t send_until_stalled(int fd, size_t limit)
{
    uint8_t chunk[65536];
    size_t sent = 0;
    while (sent < limit) {
        size_t n = limit - sent < sizeof chunk ? limit - sent : sizeof chunk;
        stream(sent, chunk, n);
        ssize_t w = send(fd, chunk, n, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w > 0) {
            sent += (size_t)w;
            continue;
        }
        cr_assert(w < 0 && (errno == EAGAIN || errno == EINTR), "send: %s", strerror(errno));
        struct pollfd pf = {fd, POLLOUT, 0};
        if (errno == EAGAIN && poll(&pf, 1, 1000) == 0)
            break;
    }
    return sent;
}

/* Waits at most timeout_ms until the line codec has answered n bytes. */
static bool consumed_reaches(size_t n, int timeout_ms)
{
    uint64_t deadline = clock_now_ms() + (uint64_t)timeout_ms;
    while (__atomic_load_n(tk_line_consumed(), __ATOMIC_RELAXED) < n) {
        if (clock_now_ms() >= deadline)
            return false;
        clock_sleep_ms(5);
    }
    return true;
}

static void assert_exited_cleanly(int status)
{
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the server ended with wait status 0x%x", status);
}

/* ---- requests and replies ---- */

Test(server, pipelined_requests_are_answered_in_order, HELPER)
{
    tk_server ts;
    tk_server_start(&ts, tk_line_codec(), NULL);
    int fd = tk_connect(ts.addr);
    size_t n = 5000 * LINE; /* all sent before any reply is read */
    uint8_t *all = malloc(n);
    stream(0, all, n);
    tk_send(fd, all, n);
    free(all);
    buf got;
    buf_init(&got, 0);
    tk_read_until(fd, &got, n, clock_now_ms() + 10000);
    assert_stream(&got, n);
    buf_done(&got);
    close(fd);
    assert_exited_cleanly(tk_server_stop(&ts, SIGTERM));
}

Test(server, requests_split_anywhere_are_answered_whole, HELPER)
{
    tk_server ts;
    tk_server_start(&ts, tk_line_codec(), NULL);
    int fd = tk_connect(ts.addr);
    const char *pieces[] = {"he", "llo\nwo", "rld", "\n", "\nlast\n"};
    buf got;
    buf_init(&got, 0);
    for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
        tk_send(fd, pieces[i], strlen(pieces[i]));
        clock_sleep_ms(20); /* so the server reads each piece on its own */
    }
    tk_read_until(fd, &got, 18, clock_now_ms() + 5000);
    cr_assert_eq(buf_size(&got), 18);
    cr_assert(memcmp(buf_data(&got), "hello\nworld\n\nlast\n", 18) == 0);
    buf_done(&got);
    close(fd);
    tk_server_stop(&ts, SIGTERM);
}

Test(server, a_client_that_half_closes_gets_its_replies_then_the_end, HELPER)
{
    tk_server ts;
    tk_server_start(&ts, tk_line_codec(), NULL);
    int fd = tk_connect(ts.addr);
    uint8_t req[100 * LINE];
    stream(0, req, sizeof req);
    tk_send(fd, req, sizeof req);
    cr_assert_eq(shutdown(fd, SHUT_WR), 0);
    buf got;
    buf_init(&got, 0);
    tk_read_until(fd, &got, SIZE_MAX, clock_now_ms() + 5000); /* stops at the end of the stream */
    assert_stream(&got, sizeof req);
    cr_assert(tk_server_logged(&ts, "closed (client finished)", 5000));
    buf_done(&got);
    close(fd);
    tk_server_stop(&ts, SIGTERM);
}

/* ---- caps ---- */

Test(server, a_message_over_the_cap_closes_that_client_while_another_is_served, HELPER)
{
    tk_server ts;
    tk_server_start(&ts, tk_line_codec(), (const char *[]){"--max-message", "64", NULL});
    int big = tk_connect(ts.addr), other = tk_connect(ts.addr);
    tk_echo(other, "before\n");
    /* a line that never ends: the server must give up on it, not buffer it all */
    uint8_t x[4096];
    memset(x, 'x', sizeof x);
    size_t sent = 0;
    while (sent < (64u << 20)) {
        ssize_t w = send(big, x, sizeof x, MSG_NOSIGNAL);
        if (w <= 0)
            break; /* the server closed it */
        sent += (size_t)w;
    }
    cr_assert(tk_closed_within(big, 5000), "still open after %zu bytes of one message", sent);
    cr_assert(tk_server_logged(&ts, "error: message larger than 64 bytes", 5000));
    char at_cap[65];
    memset(at_cap, 'y', 63);
    strcpy(at_cap + 63, "\n");
    tk_echo(other, at_cap);
    tk_echo(other, "after\n");
    close(big);
    close(other);
    assert_exited_cleanly(tk_server_stop(&ts, SIGTERM));
}

Test(server, a_client_still_sending_when_the_server_ends_gets_its_last_reply_and_no_reset, HELPER)
{
    tk_server ts;
    tk_server_start(&ts, tk_line_codec(), (const char *[]){"--quiet", NULL});
    int fd = tk_connect(ts.addr);
    /* the server ends the connection at "quit" while 1 MiB more is on its way: closing
     * with those bytes unread would reset the connection, and a reset may destroy "bye"
     * before it is read */
    size_t junk = 1u << 20;
    char *req = malloc(junk + 16);
    strcpy(req, "hello\nquit\n");
    size_t head = strlen(req);
    memset(req + head, 'z', junk);
    size_t sent = 0;
    while (sent < head + junk) {
        ssize_t w = send(fd, req + sent, head + junk - sent, MSG_NOSIGNAL);
        cr_assert_gt(w, 0, "send after %zu bytes: %s (the server reset the connection)", sent, strerror(errno));
        sent += (size_t)w;
    }
    free(req);
    shutdown(fd, SHUT_WR);
    buf got;
    buf_init(&got, 0);
    char scratch[4096];
    ssize_t r;
    uint64_t deadline = clock_now_ms() + 5000;
    while (clock_now_ms() < deadline) {
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, 1000) <= 0)
            continue;
        r = recv(fd, scratch, sizeof scratch, 0);
        cr_assert_geq(r, 0, "recv: %s (the server reset the connection)", strerror(errno));
        if (r == 0)
            break;
        buf_append(&got, scratch, (size_t)r);
    }
    buf_putc(&got, 0);
    cr_assert_str_eq((const char *)buf_data(&got), "hello\nbye\n");
    buf_done(&got);
    close(fd);
    assert_exited_cleanly(tk_server_stop(&ts, SIGTERM));
}

Test(server, a_client_that_never_closes_after_the_server_ended_is_closed_within_seconds, HELPER)
{
    tk_server ts;
    tk_server_start(&ts, tk_line_codec(), (const char *[]){"--quiet", NULL});
    int fd = tk_connect(ts.addr);
    tk_send(fd, "quit\n", 5);
    buf got;
    buf_init(&got, 0);
    tk_read_until(fd, &got, 5, clock_now_ms() + 5000);
    cr_assert(buf_size(&got) == 4 && memcmp(buf_data(&got), "bye\n", 4) == 0);
    cr_assert(tk_closed_within(fd, 5000), "the server's end of writing (FIN)");
    buf_done(&got);
    /* the client stays, silent: the server reads on for 2 s at most, then closes, and
     * what the client sends after that is refused */
    clock_sleep_ms(3000);
    bool refused = false;
    for (int i = 0; i < 20 && !refused; i++) {
        refused = send(fd, "x", 1, MSG_NOSIGNAL) < 0;
        clock_sleep_ms(50);
    }
    cr_assert(refused, "the connection is still open 3 s after the server ended it");
    close(fd);
    assert_exited_cleanly(tk_server_stop(&ts, SIGTERM));
}

/* ---- connection limits ---- */

/* Waits at most timeout_ms until the line codec has been fed n times in all. */
static bool feeds_reach(size_t n, int timeout_ms)
{
    uint64_t deadline = clock_now_ms() + (uint64_t)timeout_ms;
    while (__atomic_load_n(&tk_line_buffers()->feeds, __ATOMIC_RELAXED) < n) {
        if (clock_now_ms() >= deadline)
            return false;
        clock_sleep_ms(5);
    }
    return true;
}

Test(server, a_full_server_closes_its_idlest_connection_for_a_new_client, HELPER)
{
    tk_server ts;
    tk_server_start(&ts, tk_line_codec(), (const char *[]){"--max-conns", "20", "--max-conns-per-addr", "100", NULL});
    int idle[20];
    for (int i = 0; i < 20; i++)
        idle[i] = tk_connect(ts.addr); /* they never send a byte */
    int talker = idle[19];
    tk_echo(talker, "recent\n"); /* so it is the least idle */
    int fresh = tk_connect(ts.addr);
    tk_echo(fresh, "served\n");
    cr_assert(tk_closed_within(idle[0], 5000), "the connection idle longest is still open");
    cr_assert(tk_server_logged(&ts, "closed (idle longest, to make room (--max-conns))", 5000));
    tk_echo(talker, "still served\n");
    int another = tk_connect(ts.addr); /* evicts the next idlest */
    tk_echo(another, "served too\n");
    cr_assert(tk_closed_within(idle[1], 5000));
    tk_echo(talker, "and still\n");
    for (int i = 0; i < 20; i++)
        close(idle[i]);
    close(fresh);
    close(another);
    assert_exited_cleanly(tk_server_stop(&ts, SIGTERM));
}

/* A connection with replies waiting is not the one to go: when all are such, the new
 * connection is refused instead. */
Test(server, a_full_server_refuses_a_new_client_when_no_connection_may_go, HELPER)
{
    tk_server ts;
    tk_server_start(&ts, tk_line_codec(), (const char *[]){"--max-conns", "1", "--max-conns-per-addr", "10", NULL});
    int stuck = tk_connect(ts.addr);
    send_until_stalled(stuck, 256u << 20); /* its replies wait for it to read them */
    int c = tk_connect(ts.addr); /* the kernel completes it; the server closes it */
    cr_assert(tk_closed_within(c, 5000));
    cr_assert(tk_server_logged(&ts, "already 1 open, all busy (--max-conns)", 5000));
    close(stuck);
    cr_assert(tk_server_logged(&ts, ": closed (", 5000), "the server did not notice the stuck client leave");
    int d = tk_connect(ts.addr); /* room again */
    tk_echo(d, "d\n");
    close(c);
    close(d);
    tk_server_stop(&ts, SIGTERM);
}

Test(server, one_address_beyond_its_limit_gives_up_its_own_idlest_connection, HELPER)
{
    tk_server ts;
    tk_server_start(&ts, tk_line_codec(), (const char *[]){"--max-conns", "100", "--max-conns-per-addr", "3", NULL});
    int a = tk_connect(ts.addr), b = tk_connect(ts.addr), c = tk_connect(ts.addr);
    tk_echo(b, "b\n");
    tk_echo(c, "c\n");
    int d = tk_connect(ts.addr); /* a fourth from 127.0.0.1: a, idle longest, makes room */
    tk_echo(d, "d\n");
    cr_assert(tk_closed_within(a, 5000), "a fourth connection from one address did not displace one");
    cr_assert(tk_server_logged(&ts, "idle longest of its address's, to make room (--max-conns-per-addr)", 5000));
    tk_echo(b, "b again\n");
    tk_echo(c, "c again\n");
    close(a);
    close(b);
    close(c);
    close(d);
    assert_exited_cleanly(tk_server_stop(&ts, SIGTERM));
}

Test(server, the_default_per_address_limit_lets_hundreds_of_local_clients_in, HELPER)
{
    tk_server ts;
    tk_server_start(&ts, tk_line_codec(), NULL);
    enum { N = 300 };
    int fds[N];
    for (int i = 0; i < N; i++)
        fds[i] = tk_connect(ts.addr);
    for (int i = 0; i < N; i++)
        tk_echo(fds[i], "here\n");
    cr_assert(!tk_server_logged(&ts, "to make room", 0));
    cr_assert(!tk_server_logged(&ts, "refused", 0));
    for (int i = 0; i < N; i++)
        close(fds[i]);
    assert_exited_cleanly(tk_server_stop(&ts, SIGTERM));
}

/* ---- memory per connection ---- */

Test(server, a_connection_holding_a_few_bytes_holds_a_small_buffer, HELPER)
{
    tk_server ts;
    tk_server_start(&ts, tk_line_codec(), NULL);
    enum { N = 50 };
    int fds[N];
    tk_line_seen *seen = tk_line_buffers();
    memset(seen, 0, sizeof *seen);
    for (int i = 0; i < N; i++) {
        fds[i] = tk_connect(ts.addr);
        tk_send(fds[i], "part of a line", 14); /* never finished */
    }
    cr_assert(feeds_reach(N, 10000), "the server read %zu of the %d connections", seen->feeds, N);
    cr_assert_leq(seen->in_cap, 4096, "a connection holding 14 bytes had a %zu-byte input buffer", seen->in_cap);
    for (int i = 0; i < N; i++)
        close(fds[i]);
    tk_server_stop(&ts, SIGTERM);
}

Test(server, buffers_shrink_back_after_a_large_message, HELPER)
{
    tk_server ts;
    tk_server_start(&ts, tk_line_codec(), NULL);
    int fd = tk_connect(ts.addr);
    size_t n = 32768 * LINE; /* 512 KiB of lines, then one small line */
    uint8_t *big = malloc(n);
    stream(0, big, n);
    tk_send(fd, big, n);
    free(big);
    buf got;
    buf_init(&got, 0);
    tk_read_until(fd, &got, n, clock_now_ms() + 10000);
    assert_stream(&got, n);
    buf_done(&got);
    clock_sleep_ms(100); /* the last of the replies leaves the server's buffer */
    tk_line_seen *seen = tk_line_buffers();
    memset(seen, 0, sizeof *seen);
    tk_echo(fd, "small\n");
    cr_assert_geq(seen->feeds, 1);
    cr_assert_leq(seen->in_cap, 4096, "the input buffer stayed at %zu bytes", seen->in_cap);
    cr_assert_leq(seen->out_cap, 4096, "the output buffer stayed at %zu bytes", seen->out_cap);
    close(fd);
    assert_exited_cleanly(tk_server_stop(&ts, SIGTERM));
}

/* The server stops reading a client whose replies pile up, so its sends stall; other
 * clients are still served; and once it reads, everything is answered in order. */
Test(server, a_client_that_does_not_read_its_replies_stops_being_read, HELPER)
{
    tk_server ts;
    tk_server_start(&ts, tk_line_codec(), NULL);
    int fd = tk_connect(ts.addr), other = tk_connect(ts.addr);
    size_t limit = 256u << 20;
    size_t sent = send_until_stalled(fd, limit);
    cr_assert_lt(sent, limit, "the server read %zu bytes from a client that reads nothing", sent);
    size_t read_by_server = __atomic_load_n(tk_line_consumed(), __ATOMIC_RELAXED);
    cr_assert_gt(read_by_server, 0);
    cr_assert_leq(read_by_server, sent);
    tk_echo(other, "not held up\n");

    /* Read every whole line back; the server reads the rest of the input meanwhile. */
    buf got;
    buf_init(&got, 0);
    size_t whole = sent / LINE * LINE;
    tk_read_until(fd, &got, whole, clock_now_ms() + 30000);
    assert_stream(&got, whole);
    /* finish the last line, and the connection carries on as before */
    uint8_t rest[LINE];
    size_t nrest = whole + LINE - sent;
    stream(sent, rest, nrest);
    tk_send(fd, rest, nrest);
    tk_read_until(fd, &got, whole + LINE, clock_now_ms() + 5000);
    assert_stream(&got, whole + LINE);
    tk_echo(fd, "done\n");
    buf_done(&got);
    close(fd);
    close(other);
    assert_exited_cleanly(tk_server_stop(&ts, SIGTERM));
}

/* ---- deadlines ---- */

Test(server, an_idle_client_is_closed_after_the_idle_timeout, HELPER)
{
    tk_server ts;
    tk_server_start(&ts, tk_line_codec(), (const char *[]){"--idle-timeout", "1", NULL});
    uint64_t t0 = clock_now_ms();
    int fd = tk_connect(ts.addr);
    cr_assert(tk_closed_within(fd, 10000), "an idle client was still open after 10 s");
    uint64_t after = clock_now_ms() - t0;
    cr_assert_geq(after, 1000, "closed after %llu ms, before the timeout", (unsigned long long)after);
    cr_assert(tk_server_logged(&ts, "idle too long (--idle-timeout)", 5000));
    close(fd);
    tk_server_stop(&ts, SIGTERM);
}

Test(server, a_client_that_keeps_talking_is_not_idle, HELPER)
{
    tk_server ts;
    tk_server_start(&ts, tk_line_codec(), (const char *[]){"--idle-timeout", "1", NULL});
    int fd = tk_connect(ts.addr);
    for (int i = 0; i < 12; i++) { /* 3 s, three idle timeouts' worth */
        tk_echo(fd, "still here\n");
        clock_sleep_ms(250);
    }
    cr_assert(!tk_server_logged(&ts, "idle too long", 0));
    cr_assert(tk_closed_within(fd, 10000), "closed once it fell silent");
    close(fd);
    tk_server_stop(&ts, SIGTERM);
}

/* A client trickling bytes is not idle, but it must finish a whole request soon after
 * connecting. */
Test(server, a_client_that_trickles_its_first_request_is_closed, HELPER)
{
    tk_server ts;
    tk_server_start(&ts, tk_line_codec(), (const char *[]){"--first-message-timeout", "1", "--idle-timeout", "1", NULL});
    int slow = tk_connect(ts.addr), quick = tk_connect(ts.addr);
    tk_echo(quick, "a whole line at once\n");
    bool closed = false;
    for (int i = 0; i < 25 && !closed; i++) { /* 5 s at most, one byte each 200 ms */
        if (send(slow, "x", 1, MSG_NOSIGNAL) != 1)
            break;
        closed = tk_closed_within(slow, 200);
    }
    cr_assert(closed || tk_closed_within(slow, 1000), "a client trickling one byte each 200 ms stayed open");
    cr_assert(tk_server_logged(&ts, "closed (no whole request in time (--first-message-timeout))", 5000));
    close(slow);
    close(quick);
    tk_server_stop(&ts, SIGTERM);
}

Test(server, a_client_that_sent_a_request_outlives_the_first_message_deadline, HELPER)
{
    tk_server ts;
    tk_server_start(&ts, tk_line_codec(), (const char *[]){"--first-message-timeout", "1", NULL});
    int fd = tk_connect(ts.addr);
    tk_echo(fd, "first\n");
    clock_sleep_ms(2500); /* past the deadline and at least one check of it */
    tk_echo(fd, "second\n");
    cr_assert(!tk_server_logged(&ts, "first-message-timeout", 0));
    close(fd);
    assert_exited_cleanly(tk_server_stop(&ts, SIGTERM));
}

/* A codec that tells the server what a request is (server_codec.progress): the line
 * codec, but with spaces before a line skipped, taken from the input as whitespace is
 * by JSON-RPC, and counted as nothing. */
typedef struct spaced_conn {
    uint64_t lines;
} spaced_conn;

static void *spaced_open(size_t max_message)
{
    (void)max_message;
    return calloc(1, sizeof(spaced_conn));
}

static feed_result spaced_feed(void *state, buf *in, buf *out, bool eof, char *err, size_t errlen)
{
    size_t k = 0;
    while (k < buf_size(in) && buf_data(in)[k] == ' ')
        k++;
    buf_consume(in, k);
    size_t before = buf_size(in);
    feed_result r = tk_line_feed(state, in, out, eof, err, errlen);
    if (buf_size(in) < before)
        ((spaced_conn *)state)->lines++;
    return r;
}

static uint64_t spaced_progress(void *state) { return ((spaced_conn *)state)->lines; }

static const server_codec spaced_codec = {
    .name = "line echo, spaces skipped",
    .protocol = "line",
    .default_listen = "127.0.0.1:0",
    .open = spaced_open,
    .close = free,
    .feed = spaced_feed,
    .progress = spaced_progress,
};

/* Sends a space each 200 ms, at most 30 times (6 s). Returns whether the server closed fd. */
static bool trickle_spaces_until_closed(int fd)
{
    for (int i = 0; i < 30; i++) {
        if (send(fd, " ", 1, MSG_NOSIGNAL) != 1)
            return true;
        if (tk_closed_within(fd, 200))
            return true;
    }
    return tk_closed_within(fd, 1000);
}

/* helper: a line server whose codec counts its requests */
Test(server, bytes_the_codec_takes_but_counts_for_nothing_are_no_first_request, HELPER)
{
    tk_server ts;
    tk_server_start(&ts, &spaced_codec, (const char *[]){"--first-message-timeout", "1", NULL});
    int slow = tk_connect(ts.addr), late = tk_connect(ts.addr);
    clock_sleep_ms(500);
    tk_echo(late, "called half a second after connecting\n");
    cr_assert(trickle_spaces_until_closed(slow), "a client trickling spaces stayed open");
    cr_assert(tk_server_logged(&ts, "closed (no whole request in time (--first-message-timeout))", 5000));
    tk_echo(late, "and is served still\n");
    close(slow);
    close(late);
    assert_exited_cleanly(tk_server_stop(&ts, SIGTERM));
}

/* helper: a line server whose codec counts its requests */
Test(server, only_progress_holds_off_the_idle_deadline, HELPER)
{
    tk_server ts;
    tk_server_start(&ts, &spaced_codec, (const char *[]){"--idle-timeout", "2", NULL});
    int spaces = tk_connect(ts.addr), steady = tk_connect(ts.addr);
    tk_echo(spaces, "a request, then spaces\n");
    tk_echo(steady, "a request each half second\n");
    bool closed = false;
    for (int i = 0; i < 30 && !closed; i++) { /* 6 s at most */
        if (send(spaces, " ", 1, MSG_NOSIGNAL) != 1)
            break;
        closed = tk_closed_within(spaces, 200);
        if (i % 3 == 2 && i < 18) /* past --idle-timeout, never 2 s apart */
            tk_echo(steady, "still here\n");
    }
    cr_assert(closed || tk_closed_within(spaces, 1000), "spaces after a request held off --idle-timeout");
    cr_assert(tk_server_logged(&ts, "closed (idle too long (--idle-timeout))", 5000));
    tk_echo(steady, "served still\n");
    close(spaces);
    close(steady);
    assert_exited_cleanly(tk_server_stop(&ts, SIGTERM));
}

/* ---- graceful stop ---- */

Test(server, sigterm_sends_the_replies_due_then_exits, HELPER)
{
    tk_server ts;
    tk_server_start(&ts, tk_line_codec(), NULL);
    int busy = tk_connect(ts.addr), idle = tk_connect(ts.addr);
    tk_echo(idle, "hello\n");
    size_t n = (2u << 20) / LINE * LINE; /* under the point where the server stops reading */
    uint8_t *req = malloc(n);
    stream(0, req, n);
    tk_send(busy, req, n);
    free(req);
    size_t before = 6; /* idle's line */
    cr_assert(consumed_reaches(before + n, 10000), "the server did not read every request");

    kill(ts.pid, SIGTERM);
    cr_assert(tk_server_logged(&ts, "no new connections; finishing replies in flight", 5000));
    cr_assert(tk_closed_within(idle, 5000), "an idle client stays open after SIGTERM");
    buf got;
    buf_init(&got, 0);
    tk_read_until(busy, &got, n, clock_now_ms() + 10000);
    assert_stream(&got, n);
    cr_assert(tk_closed_within(busy, 5000));
    char err[256];
    int late = net_connect(ts.addr, 2000, err, sizeof err);
    cr_assert_lt(late, 0, "a connection was accepted after SIGTERM");
    cr_assert(tk_server_logged(&ts, "stopped", 5000));
    assert_exited_cleanly(tk_server_stop(&ts, SIGTERM));
    buf_done(&got);
    close(busy);
    close(idle);
}

Test(server, sigterm_gives_up_on_a_client_that_never_reads_after_the_grace_period, HELPER)
{
    tk_server ts;
    tk_server_start(&ts, tk_line_codec(), NULL);
    int fd = tk_connect(ts.addr);
    send_until_stalled(fd, 256u << 20);
    uint64_t t0 = clock_now_ms();
    kill(ts.pid, SIGTERM);
    int status = tk_server_wait(&ts, 20000);
    uint64_t took = clock_now_ms() - t0;
    cr_assert_neq(status, -1, "still running 20 s after SIGTERM");
    assert_exited_cleanly(status);
    cr_assert_geq(took, 5000, "gave up after %llu ms, before the 5 s grace", (unsigned long long)took);
    cr_assert(tk_server_logged(&ts, "still had replies unsent after 5000 ms", 5000));
    close(fd);
    tk_server_stop(&ts, SIGKILL); /* releases ts (the process is gone already) */
}

Test(server, a_second_sigterm_stops_at_once, HELPER)
{
    tk_server ts;
    tk_server_start(&ts, tk_line_codec(), NULL);
    int fd = tk_connect(ts.addr);
    send_until_stalled(fd, 256u << 20);
    kill(ts.pid, SIGTERM);
    cr_assert(tk_server_logged(&ts, "finishing replies in flight", 5000));
    kill(ts.pid, SIGTERM);
    int status = tk_server_wait(&ts, 3000); /* well before the 5 s grace */
    cr_assert_neq(status, -1, "a second SIGTERM did not stop the server");
    assert_exited_cleanly(status);
    cr_assert(tk_server_logged(&ts, "stopping now", 5000));
    close(fd);
    tk_server_stop(&ts, SIGKILL);
}

/* ---- options ---- */

Test(server, take_option_removes_the_option_and_returns_its_last_value, DEADLINE)
{
    char *argv[] = {"prog", "--db", "a.db", "-q", "--db=b.db", "--dbx", "1", NULL};
    int argc = 7;
    bool missing = true;
    const char *v = server_take_option(&argc, argv, "db", &missing);
    cr_assert_str_eq(v, "b.db");
    cr_assert(!missing);
    cr_assert_eq(argc, 4);
    cr_assert_str_eq(argv[1], "-q");
    cr_assert_str_eq(argv[2], "--dbx", "a longer option with the same start stays");
    cr_assert_str_eq(argv[3], "1");
    cr_assert_null(argv[4]);
}

Test(server, take_option_notices_a_missing_value_and_stops_at_double_dash, DEADLINE)
{
    char *argv[] = {"prog", "--", "--db", "x", NULL};
    int argc = 4;
    bool missing;
    cr_assert_null(server_take_option(&argc, argv, "db", &missing));
    cr_assert_eq(argc, 4, "options after -- are not options");

    char *argv2[] = {"prog", "-q", "--db", NULL};
    argc = 3;
    cr_assert_null(server_take_option(&argc, argv2, "db", &missing));
    cr_assert(missing);
    cr_assert_eq(argc, 2);
}
