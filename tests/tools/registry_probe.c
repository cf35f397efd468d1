/* registry_probe.c -- test helper for tests/integration/test_registry.sh: drives a
 * registry_keeper or a registry_watch from the command line and prints what happens.
 *
 *   registry_probe keep URL SERVICE ADDR PROTOCOL TTL [USER:PASS]
 *       keeps ADDR registered; SIGTERM stops and deregisters, SIGUSR1 stops without
 *       deregistering (the entry is left to expire); prints "stopped in N ms".
 *   registry_probe watch URL SERVICE [USER:PASS]
 *       lists SERVICE, then prints every event, until SIGTERM.
 * REGISTRY_PROBE_REPORT_MS, when set, is how often an outage is summarised (30 s otherwise). */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "registry/registry.h"

static volatile sig_atomic_t got;

static void on_signal(int sig) { got = sig; }

static void log_line(void *ctx, int64_t wall, const char *msg)
{
    (void)ctx;
    printf("%" PRId64 ".%03d %s\n", wall / 1000, (int)(wall % 1000), msg);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    char err[512];
    const char *report = getenv("REGISTRY_PROBE_REPORT_MS");
    if (report)
        registry_set_outage_report_ms(atoi(report));
    if (argc >= 7 && strcmp(argv[1], "keep") == 0) {
        registry_auth auth = {NULL, argc > 7 ? argv[7] : NULL};
        registry_keeper *k = registry_keeper_start(argv[2], &auth, argv[3], argv[4], argv[5], atoi(argv[6]),
                                                   log_line, NULL, err, sizeof err);
        if (!k) {
            fprintf(stderr, "registry_probe: %s\n", err);
            return 2;
        }
        while (!got)
            pause();
        uint64_t t0 = clock_now_ms();
        registry_keeper_stop(k, got != SIGUSR1);
        printf("stopped in %" PRIu64 " ms\n", clock_now_ms() - t0);
        return 0;
    }
    if ((argc == 4 || argc == 5) && strcmp(argv[1], "watch") == 0) {
        registry_auth auth = {NULL, argc > 4 ? argv[4] : NULL};
        registry *r = registry_new(argv[2], &auth, err, sizeof err);
        registry_instance *in;
        size_t n;
        int64_t rev;
        if (!r || registry_list(r, argv[3], &in, &n, &rev, err, sizeof err) < 0) {
            fprintf(stderr, "registry_probe: %s\n", err);
            registry_free(r);
            return 3;
        }
        printf("listed %zu at revision %" PRId64 "\n", n, rev);
        free(in);
        registry_watch *w = registry_watch_start(r, argv[3], rev, err, sizeof err);
        if (!w) {
            fprintf(stderr, "registry_probe: %s\n", err);
            registry_free(r);
            return 3;
        }
        fflush(stdout);
        registry_event ev;
        while (!got) {
            int rc = registry_watch_next(w, &ev, 100);
            if (rc < 0)
                break;
            if (rc == 0)
                continue;
            static const char *names[] = {"PUT", "DELETE", "ERROR", "RESUMED"};
            printf("%s %s %s %s %s\n", names[ev.type], ev.inst.service, ev.inst.addr, ev.inst.protocol, ev.msg);
            fflush(stdout);
        }
        uint64_t t0 = clock_now_ms();
        registry_watch_free(w);
        registry_free(r);
        printf("stopped in %" PRIu64 " ms\n", clock_now_ms() - t0);
        return 0;
    }
    fprintf(stderr, "usage: registry_probe keep URL SERVICE ADDR PROTOCOL TTL [USER:PASS]\n"
                    "       registry_probe watch URL SERVICE [USER:PASS]\n");
    return 2;
}
