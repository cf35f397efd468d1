/* cmd_mdns.c -- `workbench mdns`: every multicast DNS packet seen on one interface, one
 * line each, and with --wire its bytes explained. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/i18n.h"
#include "base/numopt.h"
#include "commands.h"
#include "registry/mdns_sock.h"
#include "wire/dnsexplain.h"
#include "wire/wire.h"

static volatile sig_atomic_t stop_asked;

static void on_signal(int sig)
{
    (void)sig;
    stop_asked = 1;
}

static void usage(FILE *f)
{
    fputs(_("Usage: workbench mdns [--interface IF] [--wire] [--count N] [--seconds S]\n"
            "Shows every multicast DNS packet sent to 224.0.0.251:5353 on one interface\n"
            "(and unicast to port 5353), one line each: the time, the sender and what\n"
            "it says: a query, a probe, an answer or a goodbye. It only listens.\n\n"
            "Options:\n"
            "  --interface IF  the interface (default: lo, the loopback; eth0 inside a\n"
            "                  lab host). A real network is watched only when named.\n"
            "  --wire          also every byte of each packet, explained\n"
            "  --count N       stop after N packets\n"
            "  --seconds S     stop after S seconds (Ctrl-C stops it any time)\n"
            "  --color WHEN    auto (default), always, never\n\n"
            "Example:\n"
            "  workbench mdns --count 5 --wire\n"),
          f);
}

static size_t rows_width; /* the terminal's columns, for the summary lines */

/* Prints s, cut after a ", " wherever a row would pass width columns; the rows after the
 * first are indented by indent columns. */
static void print_rows(const char *s, size_t width, size_t indent)
{
    size_t used = 0;
    while (*s) {
        const char *cut = strstr(s, ", ");
        size_t len = cut ? (size_t)(cut - s) + 2 : strlen(s), w = utf8_width(s, len);
        if (used > indent && used + w > width) {
            printf("\n%*s", (int)indent, "");
            used = indent;
        }
        fwrite(s, 1, len, stdout);
        used += w;
        s += len;
    }
    putchar('\n');
}

/* Prints one packet: its line, and with wire its explained bytes. */
static void show(const uint8_t *p, size_t n, const struct sockaddr_in *from, bool wire,
                 const explain_style *st)
{
    char stamp[32], addr[INET_ADDRSTRLEN], line[1024];
    clock_stamp(stamp, sizeof stamp);
    inet_ntop(AF_INET, &from->sin_addr, addr, sizeof addr);
    char row[1200];
    dnsexplain_summary(p, n, line, sizeof line);
    snprintf(row, sizeof row, "%s %s:%u %s", stamp, addr, ntohs(from->sin_port), line);
    if (isatty(STDOUT_FILENO))
        print_rows(row, rows_width, 13);
    else /* one line a packet, for grep and awk */
        printf("%s\n", row);
    if (wire)
        wire_print_dns(stdout, _("packet"), p, n, st);
    fflush(stdout);
}

/* Reads every packet waiting on s. Returns how many were shown. */
static int drain(int s, bool wire, const explain_style *st, int left)
{
    static uint8_t pkt[MDNS_MAX_PACKET];
    int shown = 0;
    while (left < 0 || shown < left) {
        struct sockaddr_in from;
        socklen_t fl = sizeof from;
        ssize_t r = recvfrom(s, pkt, sizeof pkt, MSG_TRUNC, (struct sockaddr *)&from, &fl);
        if (r < 0)
            break;
        show(pkt, (size_t)r < sizeof pkt ? (size_t)r : sizeof pkt, &from, wire, st);
        shown++;
    }
    return shown;
}

int cmd_mdns(int argc, char **argv)
{
    static const struct option opts[] = {{"interface", required_argument, NULL, 'i'},
                                         {"wire", no_argument, NULL, 'w'},
                                         {"count", required_argument, NULL, 'n'},
                                         {"seconds", required_argument, NULL, 's'},
                                         {"color", required_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *iface = NULL, *color = "auto";
    bool wire = false;
    int count = -1, seconds = -1, ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'i': iface = optarg; break;
        case 'w': wire = true; break;
        case 'c': color = optarg; break;
        case 'n':
        case 's':
            if (numopt_int(optarg, 1, 1000000, ch == 'n' ? &count : &seconds) < 0) {
                fprintf(stderr, _("workbench mdns: --%s wants a number from 1 to 1000000\n"),
                        ch == 'n' ? "count" : "seconds");
                return EXIT_USAGE;
            }
            break;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    explain_style st;
    if (wire_style(stdout, color, &st) < 0) {
        fprintf(stderr, "%s", _("workbench mdns: --color wants auto, always or never\n"));
        return EXIT_USAGE;
    }
    rows_width = st.width > 40 ? (size_t)st.width : 80;
    st.width = 80; /* the dump's names stay whole: a narrower one cuts them */
    char err[256];
    mdns_if ifc;
    int s = mdns_if_pick(iface, &ifc, err, sizeof err) < 0 ? -1 : mdns_sock_open(&ifc, true, err, sizeof err);
    if (s < 0) {
        fprintf(stderr, "workbench mdns: %s\n", err);
        return EXIT_FAILED;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    fprintf(stderr, _("workbench mdns: listening on %s (%s), 224.0.0.251:5353\n"), ifc.name,
            inet_ntoa(ifc.addr));
    uint64_t end = seconds > 0 ? clock_now_ms() + (uint64_t)seconds * 1000 : 0;
    int seen = 0;
    while (!stop_asked && (count < 0 || seen < count)) {
        int wait = 500;
        if (end) {
            uint64_t now = clock_now_ms();
            if (now >= end)
                break;
            wait = end - now < 500 ? (int)(end - now) : 500;
        }
        struct pollfd pfd = {s, POLLIN, 0};
        int r = poll(&pfd, 1, wait);
        if (r < 0 && errno != EINTR) {
            fprintf(stderr, "workbench mdns: poll: %s\n", strerror(errno));
            break;
        }
        if (r > 0)
            seen += drain(s, wire, &st, count < 0 ? -1 : count - seen);
    }
    close(s);
    return EXIT_OK;
}
