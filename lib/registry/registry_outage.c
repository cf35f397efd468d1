/* registry_outage.c -- how long the registry has been away, as the keeper and the watches
 * report it: the first failure, a summary at intervals while it lasts, its length at the end. */
#include "registry/registry_int.h"

#include <stdatomic.h>

#include "base/clock.h"

static atomic_int report_ms = REGISTRY_OUTAGE_REPORT_MS;

void registry_set_outage_report_ms(int ms)
{
    atomic_store(&report_ms, ms > 0 ? ms : REGISTRY_OUTAGE_REPORT_MS);
}

int registry_outage_fail(registry_outage *o, char *msg, size_t cap)
{
    uint64_t now = clock_now_ms();
    o->attempts++;
    if (!o->down) {
        o->down = true;
        o->since_ms = o->reported_ms = now;
        return 1;
    }
    if (now - o->reported_ms < (uint64_t)atomic_load(&report_ms))
        return 0;
    o->reported_ms = now;
    snprintf(msg, cap, "still unreachable for %.0f s, %u attempts", (double)(now - o->since_ms) / 1000.0,
             o->attempts);
    return 2;
}

bool registry_outage_end(registry_outage *o, char *msg, size_t cap)
{
    if (!o->down)
        return false;
    snprintf(msg, cap, "reachable again after %.1f s (%u failed attempts)",
             (double)(clock_now_ms() - o->since_ms) / 1000.0, o->attempts);
    o->down = false;
    o->attempts = 0;
    return true;
}
