/* tui_draw_lab.c -- the :hosts view: a line per host of the lab (its address, what is
 * done to it, its etcd member and the servers on it), who leads, the last detection. */
#include "tui_draw.h"

#include <stdio.h>
#include <string.h>

#include "base/i18n.h"
#include "tui_draw_int.h"

enum { X_HOST = 2, X_ADDR = 10, X_STATE = 22, X_ETCD = 36, X_SERVERS = 46 };

/* "cut, loss 30%" or "up" */
static void host_state(const tui_view *v, const tui_lab_host *h, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    if (h->killed)
        n += (size_t)snprintf(out + n, cap - n, "%s", _("killed"));
    if (h->cut && n < cap)
        n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? ", " : "", _("cut"));
    if (v->lab->split && n < cap)
        n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? ", " : "", h->aside ? _("side A") : _("side B"));
    if (h->loss && n < cap)
        n += (size_t)snprintf(out + n, cap - n, "%s%s %d%%", n ? ", " : "", _("loss"), h->loss);
    if (!n)
        snprintf(out, cap, "%s", _("up"));
}

/* "#1 json :34567 #3 grpc :40001" of the live servers on addr. */
static void servers_on(const tui_view *v, const char *addr, char *out, size_t cap)
{
    size_t n = 0, len = strlen(addr), ni;
    const instance *in = supervisor_instances(v->sup, &ni);
    out[0] = '\0';
    for (size_t i = 0; i < ni && n < cap; i++)
        if (in[i].pid > 0 && !strncmp(in[i].addr, addr, len) && in[i].addr[len] == ':')
            n += (size_t)snprintf(out + n, cap - n, "%s#%d %s %s", n ? " " : "", in[i].id, tui_instance_kind(&in[i]),
                                  in[i].addr + len);
}

void tui_draw_hosts(tui_screen *s, const tui_view *v)
{
    WINDOW *w = s->help;
    int width = getmaxx(w) - 2, y = 1;
    attr_t head = tui_draw_attr(s, PAIR_HEAD, A_BOLD), bad = tui_draw_attr(s, PAIR_BAD, A_BOLD);
    tui_draw_frame(s, w, "", _("Hosts"));
    if (!v->lab || v->lab->n == 0) {
        tui_draw_put(w, y, X_HOST, width - X_HOST, A_NORMAL, "%s", _("no lab: :hosts N makes one of N hosts"));
        wnoutrefresh(w);
        return;
    }
    const tui_lab_leader *ld = v->lab_leader;
    if (ld && ld->leader > 0)
        tui_draw_put(w, y++, X_HOST, width - X_HOST, A_NORMAL, _("%d hosts; etcd on %d, m%d on %s leads (term %lld)"),
                     v->lab->n, v->lab->nmembers, v->lab->host[ld->leader].member, v->lab->host[ld->leader].name,
                     ld->term);
    else
        tui_draw_put(w, y++, X_HOST, width - X_HOST, A_NORMAL, _("%d hosts; etcd on %d, no leader known yet"),
                     v->lab->n, v->lab->nmembers);
    y++;
    tui_draw_cell(w, y, X_HOST, X_ADDR - X_HOST, false, head, _("HOST"));
    tui_draw_cell(w, y, X_ADDR, X_STATE - X_ADDR, false, head, _("ADDRESS"));
    tui_draw_cell(w, y, X_STATE, X_ETCD - X_STATE, false, head, _("STATE"));
    tui_draw_cell(w, y, X_ETCD, X_SERVERS - X_ETCD, false, head, "ETCD");
    tui_draw_cell(w, y++, X_SERVERS, width - X_SERVERS, false, head, _("SERVERS"));
    for (int h = 0; h <= v->lab->n && y < getmaxy(w) - 4; h++, y++) {
        const tui_lab_host *o = &v->lab->host[h];
        char state[64], etcd[24], servers[200];
        host_state(v, o, state, sizeof state);
        snprintf(etcd, sizeof etcd, "%s", "");
        if (o->member)
            snprintf(etcd, sizeof etcd, "m%d%s", o->member,
                     o->killed ? _(" down") : ld && ld->leader == h ? _(" leads") : "");
        if (h == 0)
            snprintf(servers, sizeof servers, "%s", _("the TUI's client"));
        else
            servers_on(v, o->addr, servers, sizeof servers);
        tui_draw_cell(w, y, X_HOST, X_ADDR - X_HOST, false, A_BOLD, o->name);
        tui_draw_cell(w, y, X_ADDR, X_STATE - X_ADDR, false, A_NORMAL, o->addr);
        tui_draw_cell(w, y, X_STATE, X_ETCD - X_STATE, false, strcmp(state, _("up")) ? bad : A_NORMAL, state);
        tui_draw_cell(w, y, X_ETCD, X_SERVERS - X_ETCD, false, A_NORMAL, etcd);
        tui_draw_cell(w, y, X_SERVERS, width - X_SERVERS, false, A_NORMAL, servers);
    }
    y++;
    if (v->detect_ms >= 0)
        tui_draw_put(w, y++, X_HOST, width - X_HOST, A_NORMAL, _("last fault: %s, traffic moved after %lld ms"),
                     v->detect_fault, (long long)v->detect_ms);
    tui_draw_wrap(w, y, X_HOST, width - X_HOST, 0, 0, getmaxy(w) - 1 - y, A_NORMAL,
                  _(":cut HOST, :heal [HOST], :kill-host HOST, :loss HOST PCT, :partition HOST..., :kill-leader, "
                    ":set; any key closes"));
    wnoutrefresh(w);
}
