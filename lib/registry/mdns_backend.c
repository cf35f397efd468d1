/* mdns_backend.c -- the mDNS backend (mdns, mdns://IFACE): no registry daemon; a
 * registration is a responder thread of the server's own process, a listing or a watch
 * asks the network (RFC 6762 multicast DNS, RFC 6763 DNS-SD). */
#include "registry/mdns_int.h"

#include <string.h>

#include "base/err.h"
#include "base/i18n.h"

static int mdns_add(registry *r, registry_reg *reg, char *err, size_t errlen)
{
    mdns_if ifc;
    mdns_rrset set;
    mdns_resp_free(r->mdns, false); /* a registration again: the old responder lost its name */
    r->mdns = NULL;
    if (mdns_if_pick(r->mdns_iface, &ifc, err, errlen) < 0 ||
        mdns_rrset_init(&set, reg->service, reg->addr, reg->protocol, reg->ttl, &ifc, err, errlen) < 0)
        return -1;
    if (!(r->mdns = mdns_resp_start(&ifc, &set, r->cancel, err, errlen)))
        return -1;
    registry_copy(reg->id, sizeof reg->id, set.instance);
    return 0;
}

static int mdns_keepalive(registry *r, registry_reg *reg, char *err, size_t errlen)
{
    (void)reg, (void)err, (void)errlen;
    return r->mdns && mdns_resp_alive(r->mdns) ? 1 : 0;
}

static int mdns_deregister(registry *r, registry_reg *reg, char *err, size_t errlen)
{
    (void)reg, (void)err, (void)errlen;
    mdns_resp_free(r->mdns, true);
    r->mdns = NULL;
    return 0;
}

void registry_mdns_free(registry *r)
{
    mdns_resp_free(r->mdns, false);
    r->mdns = NULL;
}

static int mdns_list(registry *r, const char *service, registry_instance **out, size_t *n, int64_t *revision,
                     char *err, size_t errlen)
{
    mdns_if ifc;
    if (mdns_if_pick(r->mdns_iface, &ifc, err, errlen) < 0)
        return -1;
    if (revision)
        *revision = 0;
    return mdns_browse_list(&ifc, service, r->mdns_wait_ms, r->cancel, out, n, NULL, err, errlen);
}

static int mdns_services(registry *r, buf *out, char *err, size_t errlen)
{
    mdns_if ifc;
    registry_instance *in = NULL;
    size_t n = 0;
    if (mdns_if_pick(r->mdns_iface, &ifc, err, errlen) < 0)
        return -1;
    int rc = mdns_browse_list(&ifc, NULL, r->mdns_wait_ms, r->cancel, &in, &n, out, err, errlen);
    free(in);
    return rc;
}

const registry_backend registry_mdns_backend = {
    .add = mdns_add,
    .keepalive = mdns_keepalive,
    .deregister = mdns_deregister,
    .list = mdns_list,
    .services = mdns_services,
    .check_name = mdns_check_name,
    .watch = mdns_browse_watch,
};
