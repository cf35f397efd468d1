/* netlab.c -- the address plan of a lab of hosts: their names and addresses. */
#include "proc/netlab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *netlab_plan_addr(int host, char *out, size_t n)
{
    if (host < 0 || host > NETLAB_MAX_HOSTS)
        return NULL;
    snprintf(out, n, "10.77.0.%d", host == NETLAB_CLIENT ? 2 : 10 + host);
    return out;
}

int netlab_plan_find(const char *name, int n_hosts)
{
    if (strcmp(name, "client") == 0)
        return NETLAB_CLIENT;
    if (strncmp(name, "host", 4) != 0 || name[4] < '1' || name[4] > '9')
        return -1;
    char *end;
    long k = strtol(name + 4, &end, 10);
    return *end || k < 1 || k > n_hosts ? -1 : (int)k;
}
