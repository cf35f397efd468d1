/* tui_act_sniff.c -- the TUI's actions on the Sniff pane (the calls between other
 * programs, live with :sniff or replayed with :replay; Enter opens one in the Wire pane)
 * and the Wire pane's pcap key. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/i18n.h"
#include "base/numopt.h"
#include "tui_int.h"

/* The model, made on first use; NULL (said why) when memory ran out. */
static tui_sniff *model(tui *t)
{
    if (!t->sniff && !(t->sniff = tui_sniff_new()))
        tui_say(t, _("out of memory"));
    return t->sniff;
}

static void take_snapshot(tui *t)
{
    if (t->sniff) {
        t->sniff_gen = tui_sniff_gen(t->sniff);
        tui_sniff_snapshot(t->sniff, t->sniff_sel, &t->sniff_view);
    }
}

int tui_sniff_poll(tui *t)
{
    if (!t->sniff || !t->show_sniff || tui_sniff_gen(t->sniff) == t->sniff_gen)
        return 0;
    take_snapshot(t);
    return DIRTY_SNIFF;
}

int tui_sniff_select(tui *t, int delta)
{
    if (!t->sniff)
        return 0;
    t->sniff_sel = delta ? tui_sniff_move(t->sniff, t->sniff_sel, delta) : 0;
    take_snapshot(t);
    return DIRTY_SNIFF;
}

/* Shows the Sniff pane (leaving the Wire pane), or the other panes again. */
static int show(tui *t, bool on)
{
    bool was = t->show_sniff && !t->show_wire;
    t->show_sniff = on;
    if (on)
        t->show_wire = false;
    take_snapshot(t);
    return was == on ? DIRTY_SNIFF : DIRTY_LAYOUT;
}

/* s: the Sniff pane, or back from it (from the Wire pane: to it). */
int act_sniff_pane(tui *t, const char *arg)
{
    (void)arg;
    return show(t, t->show_wire || !t->show_sniff);
}

static int stop(tui *t)
{
    if (!t->sniff || !tui_sniff_stop(t->sniff))
        tui_say(t, "%s", _("no capture or replay is running"));
    else
        tui_say(t, "%s", _("stopped: the calls seen stay in the list"));
    return show(t, true) | DIRTY_STATUS;
}

/* The ports and --interface of ":sniff [PORT ...] [--interface IF]". Returns 0, or -1
 * (said why). */
static int parse_sniff(tui *t, const char *arg, uint16_t *ports, size_t *n, char *iface, size_t cap)
{
    char words[512];
    snprintf(words, sizeof words, "%s", arg ? arg : "");
    *n = 0;
    iface[0] = '\0';
    char *save = NULL;
    for (char *w = strtok_r(words, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
        int port;
        if (!strcmp(w, "--interface") || !strcmp(w, "-i")) {
            char *v = strtok_r(NULL, " \t", &save);
            if (!v) {
                tui_say(t, "%s", _("sniff: --interface needs the interface's name (e.g. lo, eth0)"));
                return -1;
            }
            snprintf(iface, cap, "%s", v);
        } else if (!strncmp(w, "--interface=", 12)) {
            snprintf(iface, cap, "%s", w + 12);
        } else if (numopt_int(w, 1, 65535, &port) == 0 && *n < TUI_SNIFF_PORTS) {
            ports[(*n)++] = (uint16_t)port;
        } else {
            tui_say(t, _("sniff [PORT ...] [--interface IF], sniff stop: not '%s' (at most %d ports)"), w,
                    TUI_SNIFF_PORTS);
            return -1;
        }
    }
    return 0;
}

/* sniff [PORT ...] [--interface IF]: a live capture (lo by default) into the Sniff pane;
 * sniff stop ends it. */
int act_sniff(tui *t, const char *arg)
{
    if (arg && !strcmp(arg, "stop"))
        return stop(t);
    uint16_t ports[TUI_SNIFF_PORTS];
    size_t n;
    char iface[32];
    if (parse_sniff(t, arg, ports, &n, iface, sizeof iface) < 0 || !model(t))
        return DIRTY_STATUS;
    t->sniff_sel = 0;
    if (tui_sniff_live(t->sniff, iface, ports, n, t->sniff_err, sizeof t->sniff_err) < 0) {
        tui_say(t, "%s", t->sniff_err);
        return show(t, true) | DIRTY_STATUS;
    }
    t->sniff_err[0] = '\0';
    tui_say(t, _("sniffing on %s: the calls show as they happen (:sniff stop ends it)"), iface[0] ? iface : "lo");
    return show(t, true) | DIRTY_STATUS;
}

/* The speed of ":replay FILE SPEED": "2", "0.5", "x2". Returns 0, or -1. */
static int parse_speed(const char *word, double *speed)
{
    if (word[0] == 'x')
        word++;
    char *end;
    double v = strtod(word, &end);
    if (!word[0] || *end)
        return -1;
    *speed = v;
    return 0;
}

/* replay FILE [SPEED]: the capture file's calls into the Sniff pane at its recorded pace
 * (SPEED times it); replay stop ends it. */
int act_replay(tui *t, const char *arg)
{
    if (!arg) {
        tui_say(t, "%s", _("replay FILE [SPEED]: a capture file (tcpdump -w, tshark -w) at its recorded pace, "
                           "SPEED times as fast; replay stop"));
        return DIRTY_STATUS;
    }
    if (!strcmp(arg, "stop"))
        return stop(t);
    char file[PATH_MAX];
    double speed = 1;
    snprintf(file, sizeof file, "%s", arg);
    char *sp = strrchr(file, ' ');
    if (sp && parse_speed(sp + 1, &speed) == 0) {
        while (sp > file && sp[-1] == ' ')
            sp--;
        *sp = '\0';
    }
    if (!model(t))
        return DIRTY_STATUS;
    t->sniff_sel = 0;
    if (tui_sniff_replay(t->sniff, file, speed, t->sniff_err, sizeof t->sniff_err) < 0) {
        tui_say(t, _("replay: %s"), t->sniff_err);
        return show(t, true) | DIRTY_STATUS;
    }
    t->sniff_err[0] = '\0';
    tui_say(t, _("replaying %s at x%g (:replay stop ends it)"), file, speed);
    return show(t, true) | DIRTY_STATUS;
}

/* Enter in the Sniff pane: the selected call's bytes, explained, in the Wire pane. */
int act_sniff_open(tui *t, const char *arg)
{
    (void)arg;
    if (!t->sniff || !t->sniff_view.total) {
        tui_say(t, "%s", _("no call to open yet: :sniff [PORT ...] or :replay FILE"));
        return DIRTY_STATUS;
    }
    uint64_t id = t->sniff_view.detail.row.id;
    tui_sniff_bytes b;
    char err[400];
    if (tui_sniff_explain(t->sniff, id, &b, err, sizeof err) < 0) {
        tui_sniff_bytes_done(&b);
        tui_say(t, "%s", err);
        return DIRTY_STATUS;
    }
    tui_wire_show_sniffed(&t->wire, &b);
    tui_sniff_bytes_done(&b);
    t->wire.busy = false;
    t->wire.response = false;
    t->wire_sniffed = true;
    t->show_wire = true;
    tui_say(t, _("call #%llu in the Wire pane: x its reply, P writes it as a pcap, w back to the Sniff pane"),
            (unsigned long long)id);
    return DIRTY_LAYOUT | DIRTY_STATUS;
}

/* P in the Wire pane, or pcap [FILE]: what it shows, as a pcap file (wb-wire-HHMMSS.pcap
 * in the current directory by default). */
int act_pcap(tui *t, const char *arg)
{
    if (!arg && !t->show_wire)
        return 0;
    if (t->wire.busy) {
        tui_say(t, "%s", _("pcap: the call is still being made"));
        return DIRTY_STATUS;
    }
    char path[PATH_MAX], err[400];
    if (arg) {
        snprintf(path, sizeof path, "%s", arg);
    } else {
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        strftime(path, sizeof path, "wb-wire-%H%M%S.pcap", &tm);
    }
    int n = tui_wire_write_pcap(&t->wire, path, err, sizeof err);
    if (n < 0) {
        tui_say(t, _("pcap: %s"), err);
        return DIRTY_STATUS;
    }
    char full[PATH_MAX];
    if (!realpath(path, full))
        snprintf(full, sizeof full, "%s", path);
    tui_say(t, ngettext("wrote %d connection to %s (tshark -r or Wireshark reads it)",
                        "wrote %d connections to %s (tshark -r or Wireshark reads it)", n),
            n, full);
    return DIRTY_STATUS;
}
