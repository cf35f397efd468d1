/* netlab_make.c -- a lab made and removed, what it tells of its hosts, and the faults of its
 * network: cut, heal, loss. */
#include "proc/netlab_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/i18n.h"

static const char *const IP_BATCH[] = {"ip", "-batch", "-", NULL};

/* The switch's commands: its bridge, and one link per host with the other end (eth0)
 * put straight into the host's namespace, named by its holder. */
static int wire_switch(netlab *lab, char *err, size_t errlen)
{
    buf cmds;
    buf_init(&cmds, 64 * 1024);
    buf_printf(&cmds, "link add br0 type bridge\nlink set br0 up\n");
    for (int i = 0; i <= lab->n; i++)
        buf_printf(&cmds, "link add %s type veth peer name eth0 netns %d\nlink set %s master br0 up\n",
                   lab->host[i].link, (int)lab->host[i].holder, lab->host[i].link);
    int rc = buf_putc(&cmds, 0) == 0 ? netlab_ns_exec(&lab->sw, IP_BATCH, (const char *)buf_data(&cmds), err, errlen)
                                      : -1;
    buf_done(&cmds);
    return rc == 0 ? 0 : -1;
}

static int wire_host(const netlab_host *h, char *err, size_t errlen)
{
    char cmds[256];
    snprintf(cmds, sizeof cmds, "link set lo up\naddr add %s/24 dev eth0\nlink set eth0 up\n", h->addr);
    return netlab_ns_exec(h, IP_BATCH, cmds, err, errlen) == 0 ? 0 : -1;
}

static void name_host(netlab_host *h, int i)
{
    memset(h, 0, sizeof *h);
    h->netfd = h->pidfd = h->mntfd = -1;
    netlab_plan_addr(i, h->addr, sizeof h->addr);
    if (i == NETLAB_CLIENT) {
        snprintf(h->name, sizeof h->name, "client");
        snprintf(h->link, sizeof h->link, "client");
    } else {
        snprintf(h->name, sizeof h->name, "host%d", i);
        snprintf(h->link, sizeof h->link, "h%d", i);
    }
}

netlab *netlab_new(int n_hosts, char *err, size_t errlen)
{
    if (n_hosts < 1 || n_hosts > NETLAB_MAX_HOSTS) {
        err_set(err, errlen, _("a lab has 1 to %d hosts"), NETLAB_MAX_HOSTS);
        return NULL;
    }
    if (!spawn_on_path("ip")) {
        err_set(err, errlen, _("the lab needs iproute2's ip command, which is not on PATH (apt-get install "
                               "iproute2)"));
        return NULL;
    }
    netlab *lab = calloc(1, sizeof *lab);
    if (!lab) {
        err_set(err, errlen, "out of memory");
        return NULL;
    }
    lab->n = n_hosts;
    name_host(&lab->sw, 0);
    snprintf(lab->sw.name, sizeof lab->sw.name, "switch");
    lab->sw.addr[0] = lab->sw.link[0] = '\0';
    for (int i = 0; i <= n_hosts; i++)
        name_host(&lab->host[i], i);
    int rc = netlab_ns_hold(&lab->sw, false, err, errlen);
    for (int i = 0; rc == 0 && i <= n_hosts; i++)
        rc = netlab_ns_hold(&lab->host[i], true, err, errlen);
    if (rc == 0)
        rc = wire_switch(lab, err, errlen);
    for (int i = 0; rc == 0 && i <= n_hosts; i++)
        rc = wire_host(&lab->host[i], err, errlen);
    if (rc < 0) {
        netlab_free(lab);
        return NULL;
    }
    return lab;
}

void netlab_free(netlab *lab)
{
    if (!lab)
        return;
    for (int i = 0; i <= lab->n; i++)
        netlab_ns_release(&lab->host[i]);
    netlab_ns_release(&lab->sw);
    netlab_run_reap_all(lab, 3000);
    free(lab);
}

int netlab_hosts(const netlab *lab) { return lab->n; }

const char *netlab_name(const netlab *lab, int host) { return netlab_valid(lab, host) ? lab->host[host].name : "?"; }
const char *netlab_addr(const netlab *lab, int host) { return netlab_valid(lab, host) ? lab->host[host].addr : "?"; }

pid_t netlab_holder(const netlab *lab, int host)
{
    return host == -1 ? lab->sw.holder : netlab_valid(lab, host) ? lab->host[host].holder : 0;
}

bool netlab_is_cut(const netlab *lab, int host) { return netlab_valid(lab, host) && lab->host[host].cut; }


/* Sets host's link on the switch up or down. */
static int set_link(netlab *lab, int host, bool up, char *err, size_t errlen)
{
    if (!netlab_valid(lab, host))
        return err_set(err, errlen, "no host %d in this lab", host), -1;
    const char *argv[] = {"ip", "link", "set", lab->host[host].link, up ? "up" : "down", NULL};
    if (netlab_ns_exec(&lab->sw, argv, NULL, err, errlen) != 0)
        return -1;
    lab->host[host].cut = !up;
    return 0;
}

int netlab_cut(netlab *lab, int host, char *err, size_t errlen) { return set_link(lab, host, false, err, errlen); }
int netlab_heal(netlab *lab, int host, char *err, size_t errlen) { return set_link(lab, host, true, err, errlen); }

/* Appends "{ "h1", "h2" }", the switch ends of the hosts on side (aside), to out. */
static size_t side_links(const netlab *lab, bool aside, char *out, size_t cap)
{
    size_t used = (size_t)snprintf(out, cap, "{ ");
    for (int i = 0, first = 1; i <= lab->n && used < cap; i++)
        if (lab->host[i].aside == aside) {
            used += (size_t)snprintf(out + used, cap - used, "%s\"%s\"", first ? "" : ", ", lab->host[i].link);
            first = 0;
        }
    return used < cap ? used + (size_t)snprintf(out + used, cap - used, " }") : cap;
}

int netlab_partition(netlab *lab, const int *hosts, int n, char *err, size_t errlen)
{
    static const char *const nft[] = {"nft", "-f", "-", NULL};
    enum { SIDE = (NETLAB_MAX_HOSTS + 1) * 12 + 8 };
    char a[SIDE], b[SIDE], rules[4 * SIDE + 256];
    for (int i = 0; i < n; i++)
        if (!netlab_valid(lab, hosts[i]))
            return err_set(err, errlen, "no host %d in this lab", hosts[i]), -1;
    if (n > 0 && !spawn_on_path("nft"))
        return err_set(err, errlen, _("a partition needs nft (apt-get install nftables)")), -1;
    for (int i = 0; i <= lab->n; i++)
        lab->host[i].aside = false;
    for (int i = 0; i < n; i++)
        lab->host[hosts[i]].aside = true;
    int used = snprintf(rules, sizeof rules, "table bridge wbsplit\ndelete table bridge wbsplit\n");
    if (n > 0 && n <= lab->n) { /* with every host on one side, nothing is split */
        side_links(lab, true, a, sizeof a);
        side_links(lab, false, b, sizeof b);
        snprintf(rules + used, sizeof rules - (size_t)used,
                 "table bridge wbsplit {\n  chain split {\n    type filter hook forward priority 0;\n"
                 "    iifname %s oifname %s drop\n    iifname %s oifname %s drop\n  }\n}\n", a, b, b, a);
    }
    if (netlab_ns_exec(&lab->sw, nft, rules, err, errlen) != 0)
        return -1;
    lab->split = n > 0;
    if (!lab->split)
        for (int i = 0; i <= lab->n; i++)
            lab->host[i].aside = false;
    return 0;
}

bool netlab_is_split(const netlab *lab) { return lab->split; }
bool netlab_in_split(const netlab *lab, int host) { return netlab_valid(lab, host) && lab->split && lab->host[host].aside; }

/* netem on both ends of host's link (percent 0: removed). Returns 0, or -1 with err. */
static int loss_netem(netlab *lab, netlab_host *h, int percent, char *err, size_t errlen)
{
    char pc[16];
    snprintf(pc, sizeof pc, "%d%%", percent);
    const char *on_host[] = {"tc", "qdisc", "replace", "dev", "eth0", "root", "netem", "loss", pc, NULL};
    const char *on_switch[] = {"tc", "qdisc", "replace", "dev", h->link, "root", "netem", "loss", pc, NULL};
    if (percent == 0) {
        const char *del_host[] = {"tc", "qdisc", "del", "dev", "eth0", "root", NULL};
        const char *del_switch[] = {"tc", "qdisc", "del", "dev", h->link, "root", NULL};
        netlab_ns_exec(h, del_host, NULL, NULL, 0); /* none there is fine */
        netlab_ns_exec(&lab->sw, del_switch, NULL, NULL, 0);
        return 0;
    }
    if (netlab_ns_exec(h, on_host, NULL, err, errlen) != 0)
        return -1;
    return netlab_ns_exec(&lab->sw, on_switch, NULL, err, errlen) == 0 ? 0 : -1;
}

/* An nftables table on the host dropping percent of what crosses eth0 either way
 * (percent 0: the table removed). Returns 0, or -1 with err. */
static int loss_nft(netlab_host *h, int percent, char *err, size_t errlen)
{
    static const char *const nft[] = {"nft", "-f", "-", NULL};
    char match[64] = "", rules[640];
    if (percent < 100)
        snprintf(match, sizeof match, "numgen random mod 100 < %d ", percent);
    int n = snprintf(rules, sizeof rules, "table inet wblab\ndelete table inet wblab\n");
    if (percent > 0)
        snprintf(rules + n, sizeof rules - (size_t)n,
                 "table inet wblab {\n"
                 "  chain in { type filter hook input priority 0; iifname \"eth0\" %sdrop; }\n"
                 "  chain out { type filter hook output priority 0; oifname \"eth0\" %sdrop; }\n"
                 "}\n",
                 match, match);
    return netlab_ns_exec(h, nft, rules, err, errlen) == 0 ? 0 : -1;
}

int netlab_loss(netlab *lab, int host, int percent, const char **how, char *err, size_t errlen)
{
    if (!netlab_valid(lab, host))
        return err_set(err, errlen, "no host %d in this lab", host), -1;
    if (percent < 0 || percent > 100)
        return err_set(err, errlen, _("a loss is 0 to 100 percent")), -1;
    netlab_host *h = &lab->host[host];
    if (percent == 0) { /* nothing to remove before a loss worked */
        int off = !lab->loss_how ? 0
                  : strcmp(lab->loss_how, "netem") == 0 ? loss_netem(lab, h, 0, err, errlen)
                                                        : loss_nft(h, 0, err, errlen);
        if (off == 0)
            h->loss = 0;
        if (how)
            *how = lab->loss_how ? lab->loss_how : "nothing";
        return off;
    }
    char why_netem[300] = "", why_nft[300] = "";
    int rc = -1;
    if (!lab->loss_how || strcmp(lab->loss_how, "netem") == 0) {
        rc = loss_netem(lab, h, percent, why_netem, sizeof why_netem);
        if (rc == 0)
            lab->loss_how = "netem";
    }
    if (rc < 0 && (!lab->loss_how || strcmp(lab->loss_how, "nftables") == 0)) {
        if (!spawn_on_path("nft"))
            snprintf(why_nft, sizeof why_nft, "%s", _("nft is not installed (apt-get install nftables)"));
        else if ((rc = loss_nft(h, percent, why_nft, sizeof why_nft)) == 0)
            lab->loss_how = "nftables";
    }
    if (rc < 0) {
        if (lab->loss_how)
            err_set(err, errlen, "%s", lab->loss_how[0] == 'n' && lab->loss_how[1] == 'e' ? why_netem : why_nft);
        else
            err_set(err, errlen, _("packet loss is not supported here: tc's netem: %s; nftables: %s"),
                    why_netem, why_nft);
        return -1;
    }
    h->loss = percent;
    if (how)
        *how = lab->loss_how;
    return 0;
}
