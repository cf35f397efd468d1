/* labscript.c -- a lab script's lines read into steps. */
#include "proc/labscript.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/i18n.h"
#include "base/numopt.h"
#include "proc/netlab.h"

enum { MAX_WORDS = LABSCRIPT_MAX_MEMBERS + 1, WORD = 64 };

/* Splits s into at most MAX_WORDS words of WORD bytes; returns how many, -1 when more or longer. */
static int words(const char *s, char w[MAX_WORDS][WORD])
{
    int n = 0;
    for (;;) {
        while (isspace((unsigned char)*s))
            s++;
        if (!*s)
            return n;
        size_t len = strcspn(s, " \t\r\n");
        if (n == MAX_WORDS || len >= WORD)
            return -1;
        memcpy(w[n], s, len);
        w[n++][len] = '\0';
        s += len;
    }
}

static int host_of(const char *name, int n_hosts, char *err, size_t errlen)
{
    int h = netlab_plan_find(name, n_hosts);
    if (h < 0)
        err_set(err, errlen, _("no host \"%s\" in this lab: its hosts are client and host1 to host%d"), name,
                n_hosts);
    return h;
}

/* HOST: COMMAND [&] at s, whose first word ends with ':' at colon. */
static int parse_run(const char *s, const char *colon, int n_hosts, labstep *st, char *err, size_t errlen)
{
    char name[WORD];
    size_t len = (size_t)(colon - s);
    if (len >= sizeof name)
        return err_set(err, errlen, _("no such host: %.*s"), 40, s), -1;
    memcpy(name, s, len);
    name[len] = '\0';
    if ((st->host = host_of(name, n_hosts, err, errlen)) < 0)
        return -1;
    const char *cmd = colon + 1;
    while (isspace((unsigned char)*cmd))
        cmd++;
    len = strlen(cmd);
    while (len && isspace((unsigned char)cmd[len - 1]))
        len--;
    st->kind = LAB_RUN;
    if (len && cmd[len - 1] == '&' && (len < 2 || cmd[len - 2] != '&')) {
        st->kind = LAB_START;
        len--;
        while (len && isspace((unsigned char)cmd[len - 1]))
            len--;
    }
    if (len == 0)
        return err_set(err, errlen, _("%s: wants a command after the colon"), name), -1;
    if (len >= sizeof st->text)
        return err_set(err, errlen, _("a command is at most %zu bytes"), sizeof st->text - 1), -1;
    memcpy(st->text, cmd, len);
    st->text[len] = '\0';
    return 1;
}

/* wait HOST:PORT [MS] */
static int parse_wait(char w[MAX_WORDS][WORD], int n, int n_hosts, labstep *st, char *err, size_t errlen)
{
    char *colon = strrchr(w[1], ':');
    int port;
    if (!colon || numopt_int(colon + 1, 1, 65535, &port) < 0)
        return err_set(err, errlen, _("wait wants HOST:PORT, e.g. wait host1:50051")), -1;
    *colon = '\0';
    char addr[16];
    struct in_addr a;
    if (inet_pton(AF_INET, w[1], &a) == 1)
        snprintf(addr, sizeof addr, "%s", w[1]);
    else if (!netlab_plan_addr(host_of(w[1], n_hosts, err, errlen), addr, sizeof addr))
        return -1;
    snprintf(st->text, sizeof st->text, "%s:%d", addr, port);
    st->kind = LAB_WAIT;
    st->number = LABSCRIPT_WAIT_MS;
    if (n == 3 && numopt_int(w[2], 1, LABSCRIPT_MAX_WAIT_MS, &st->number) < 0)
        return err_set(err, errlen, _("wait's MS is 1 to %d"), LABSCRIPT_MAX_WAIT_MS), -1;
    return 1;
}

/* etcd HOST..., consul HOST..., partition HOST... */
static int parse_hosts(char w[MAX_WORDS][WORD], int n, int n_hosts, labstep *st, char *err, size_t errlen)
{
    st->kind = w[0][0] == 'e' ? LAB_ETCD : w[0][0] == 'c' ? LAB_CONSUL : LAB_PARTITION;
    st->number = n - 1;
    for (int i = 1; i < n; i++) {
        if ((st->hosts[i - 1] = host_of(w[i], n_hosts, err, errlen)) < 0)
            return -1;
        for (int j = 1; j < i; j++)
            if (st->hosts[j - 1] == st->hosts[i - 1])
                return err_set(err, errlen, _("%s: %s is named twice"), w[0], w[i]), -1;
    }
    return 1;
}

/* leader [C] [MS], kill-leader [C], cut-follower [C] */
static int parse_leader(char w[MAX_WORDS][WORD], int n, labstep *st, char *err, size_t errlen)
{
    st->kind = w[0][0] == 'l' ? LAB_LEADER : w[0][0] == 'k' ? LAB_KILL_LEADER : LAB_CUT_FOLLOWER;
    st->number = LABSCRIPT_WAIT_MS;
    int k = 1;
    if (k < n && (strcmp(w[k], "etcd") == 0 || strcmp(w[k], "consul") == 0))
        st->cluster = w[k++][0] == 'e' ? LAB_ETCD_CLUSTER : LAB_CONSUL_CLUSTER;
    if (st->kind == LAB_LEADER && k < n && numopt_int(w[k++], 0, LABSCRIPT_MAX_WAIT_MS, &st->number) < 0)
        return err_set(err, errlen, _("leader's MS is 0 to %d"), LABSCRIPT_MAX_WAIT_MS), -1;
    if (k < n)
        return err_set(err, errlen, _("%s: unexpected \"%s\" (etcd or consul, then for leader MS)"), w[0],
                       w[k]), -1;
    return 1;
}

static const char usage_steps[] =
    N_("a step is HOST: COMMAND [&], cut HOST, heal HOST, kill HOST, loss HOST PERCENT, sleep MS, "
       "wait HOST:PORT [MS], heal, etcd HOST..., consul HOST..., leader [C] [MS], kill-leader [C], "
       "cut-follower [C], partition HOST... or timeline");

int labscript_parse(const char *line, int n_hosts, labstep *st, char *err, size_t errlen)
{
    memset(st, 0, sizeof *st);
    while (isspace((unsigned char)*line))
        line++;
    if (!*line || *line == '#')
        return 0;
    size_t first = strcspn(line, " \t");
    const char *colon = memchr(line, ':', first);
    if (colon && (colon + 1 == line + first))
        return parse_run(line, colon, n_hosts, st, err, errlen);
    char w[MAX_WORDS][WORD];
    int n = words(line, w);
    if (n < 0 && (strncmp(line, "etcd", 4) == 0 || strncmp(line, "consul", 6) == 0 ||
                  strncmp(line, "partition", 9) == 0))
        return err_set(err, errlen, _("%.*s: at most %d hosts"), (int)first, line, LABSCRIPT_MAX_MEMBERS), -1;
    if (n < 0)
        return err_set(err, errlen, "\"%.60s\": %s", line, _(usage_steps)), -1;
    bool one_host = strcmp(w[0], "cut") == 0 || strcmp(w[0], "heal") == 0 || strcmp(w[0], "kill") == 0;
    if (strcmp(w[0], "heal") == 0 && n == 1) {
        st->kind = LAB_HEAL;
        st->host = -1;
        return 1;
    }
    if (one_host && n == 2) {
        st->kind = w[0][0] == 'c' ? LAB_CUT : w[0][0] == 'h' ? LAB_HEAL : LAB_KILL;
        return (st->host = host_of(w[1], n_hosts, err, errlen)) < 0 ? -1 : 1;
    }
    if (strcmp(w[0], "loss") == 0 && n == 3) {
        st->kind = LAB_LOSS;
        size_t len = strlen(w[2]);
        if (len && w[2][len - 1] == '%')
            w[2][len - 1] = '\0';
        if (numopt_int(w[2], 0, 100, &st->number) < 0)
            return err_set(err, errlen, _("loss wants a PERCENT from 0 to 100")), -1;
        return (st->host = host_of(w[1], n_hosts, err, errlen)) < 0 ? -1 : 1;
    }
    if (strcmp(w[0], "timeline") == 0 && n == 1) {
        st->kind = LAB_TIMELINE;
        return 1;
    }
    if (strcmp(w[0], "sleep") == 0 && n == 2) {
        st->kind = LAB_SLEEP;
        if (numopt_int(w[1], 0, LABSCRIPT_MAX_SLEEP_MS, &st->number) < 0)
            return err_set(err, errlen, _("sleep wants milliseconds, 0 to %d"), LABSCRIPT_MAX_SLEEP_MS), -1;
        return 1;
    }
    if (strcmp(w[0], "wait") == 0 && (n == 2 || n == 3))
        return parse_wait(w, n, n_hosts, st, err, errlen);
    if ((strcmp(w[0], "etcd") == 0 || strcmp(w[0], "consul") == 0 || strcmp(w[0], "partition") == 0) && n >= 2)
        return parse_hosts(w, n, n_hosts, st, err, errlen);
    if (strcmp(w[0], "leader") == 0 || strcmp(w[0], "kill-leader") == 0 || strcmp(w[0], "cut-follower") == 0)
        return parse_leader(w, n, st, err, errlen);
    return err_set(err, errlen, "\"%.60s\": %s", line, _(usage_steps)), -1;
}
