/* labtimeline.c -- the lab's fault lines, and its timeline printed with what followed each fault. */
#include "proc/labtimeline.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/esc.h"
#include "base/i18n.h"
#include "proc/netlab.h"

enum { MAX_WORDS = 40, WORD = 64, MAX_LINES = 4, MAX_FAULTS = 256, OUT = 2048 };

static char events_path[PATH_MAX];
static uint64_t events_t0;

int labtimeline_open(const char *path, uint64_t t0_ms, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return err_set(err, errlen, "%s: %s", path, strerror(errno)), -1;
    close(fd);
    snprintf(events_path, sizeof events_path, "%s", path);
    events_t0 = t0_ms;
    return 0;
}

const char *labtimeline_path(void) { return events_path[0] ? events_path : NULL; }

static uint64_t marked_ms; /* labtimeline_mark's moment; 0: none */

void labtimeline_mark(void) { marked_ms = clock_now_ms(); }

void labtimeline_fault(const char *fmt, ...)
{
    if (!events_path[0])
        return;
    char text[EVENTLOG_LINE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    uint64_t at = marked_ms ? marked_ms : clock_now_ms();
    marked_ms = 0;
    eventlog_append(events_path, (int64_t)(at - events_t0), "lab", "fault", text);
}

/* Splits s into at most MAX_WORDS words (longer ones cut); returns how many. */
static int split(const char *s, char w[MAX_WORDS][WORD])
{
    int n = 0;
    while (n < MAX_WORDS) {
        while (*s == ' ')
            s++;
        if (!*s)
            break;
        size_t len = strcspn(s, " ");
        snprintf(w[n++], WORD, "%.*s", (int)(len < WORD ? len : WORD - 1), s);
        s += len;
    }
    return n;
}

/* The lab host an ADDR (HOST:PORT; "(ADDR:" as a failed call names it) is on, into
 * out; false when it names none. */
static bool addr_host(const char *addr, char *out, size_t cap)
{
    char a[WORD];
    snprintf(a, sizeof a, "%s", addr[0] == '(' ? addr + 1 : addr);
    size_t len = strlen(a);
    if (len && a[len - 1] == ':')
        a[--len] = '\0';
    char *colon = strrchr(a, ':');
    if (!colon)
        return false;
    *colon = '\0';
    char plan[16];
    for (int h = 0; h <= NETLAB_MAX_HOSTS; h++)
        if (strcmp(a, netlab_plan_addr(h, plan, sizeof plan)) == 0) {
            snprintf(out, cap, h == NETLAB_CLIENT ? "client" : "host%d", h);
            return true;
        }
    if (netlab_plan_find(a, NETLAB_MAX_HOSTS) < 0)
        return false;
    snprintf(out, cap, "%.*s", (int)(cap - 1), a);
    return true;
}

/* Whether e is a fault line that harms hosts; fills f's hosts and cluster then. */
static bool parse_fault(const eventlog_line *e, labtl_fault *f)
{
    if (strcmp(e->who, "fault") != 0)
        return false;
    char w[MAX_WORDS][WORD];
    int n = split(e->text, w);
    f->n_hosts = 0;
    f->cluster[0] = '\0';
    if (n < 2)
        return false;
    int first = 1, last = 2;
    if (strcmp(w[0], "cut") == 0 || strcmp(w[0], "kill") == 0) {
    } else if (strcmp(w[0], "loss") == 0) {
        if (n < 3 || atoi(w[2]) <= 0)
            return false;
    } else if ((strcmp(w[0], "kill-leader") == 0 || strcmp(w[0], "cut-follower") == 0) && n >= 3) {
        first = 2, last = 3;
        if (w[0][0] == 'k')
            snprintf(f->cluster, sizeof f->cluster, "%.7s", w[1]);
    } else if (strcmp(w[0], "partition") == 0) {
        int bar = 1;
        bool client_named = false;
        while (bar < n && strcmp(w[bar], "|") != 0)
            client_named |= strcmp(w[bar++], "client") == 0;
        first = client_named ? bar + 1 : 1;
        last = client_named ? n : bar;
    } else {
        return false;
    }
    for (int i = first; i < last && i < n && f->n_hosts < LABTL_MAX_HOSTS; i++)
        snprintf(f->hosts[f->n_hosts++], sizeof f->hosts[0], "%s", w[i]);
    return f->n_hosts > 0;
}

static bool harmed(const labtl_fault *f, const char *host)
{
    for (int i = 0; i < f->n_hosts; i++)
        if (strcmp(f->hosts[i], host) == 0)
            return true;
    return false;
}

/* The ADDR e names, as a word of its text: which word for each kind of line; NULL for none.
 * *moved says whether the line shows traffic leaving ADDR. */
static const char *addr_word(const eventlog_line *e, char w[MAX_WORDS][WORD], bool *moved)
{
    int n = split(e->text, w);
    *moved = false;
    if (n >= 2 && strcmp(e->who, "registry") == 0 && (strcmp(w[0], "added") == 0 || strcmp(w[0], "dropped") == 0)) {
        *moved = w[0][0] == 'd';
        return w[1];
    }
    if (n >= 2 && strcmp(e->who, "balancer") == 0 && (strcmp(w[0], "ejected") == 0 || strcmp(w[0], "back") == 0)) {
        *moved = w[0][0] == 'e';
        return w[1];
    }
    if (n >= 3 && strcmp(e->who, "keepalive") == 0 && strcmp(w[0], "registered") == 0)
        return w[2];
    if (n >= 4 && strcmp(e->who, "calls") == 0 && strcmp(w[0], "failed") == 0)
        return w[3];
    return NULL;
}

/* What followed the fault f (its at, hosts, cluster set) up to its window's end. */
static void follow(const eventlog_line *ev, size_t n, labtl_fault *f)
{
    char w[MAX_WORDS][WORD], host[16];
    bool moved, seen = false;
    f->outcome = LABTL_NEVER_MOVED;
    f->failed = 0;
    f->leader_ms = -1;
    for (size_t i = 0; i < f->end; i++) {
        const char *addr = addr_word(&ev[i], w, &moved);
        bool here = addr && addr_host(addr, host, sizeof host) && harmed(f, host);
        seen |= here;
        if (i > f->at && here && moved && f->outcome != LABTL_MOVED) {
            f->outcome = LABTL_MOVED;
            f->detect_ms = ev[i].ms - ev[f->at].ms;
            f->detect_at = i;
        }
        long long k;
        if (i > f->at && strcmp(ev[i].who, "calls") == 0 && sscanf(ev[i].text, "failed %lld calls", &k) == 1 && k > 0)
            f->failed += k;
    }
    if (!seen)
        f->outcome = LABTL_NO_INSTANCE;
    for (size_t i = f->at + 1; f->cluster[0] && i < n && f->leader_ms < 0; i++) {
        if (strcmp(ev[i].who, "fault") != 0 || split(ev[i].text, w) < 3)
            continue;
        if (strcmp(w[0], "leader") == 0 && strcmp(w[1], f->cluster) == 0) {
            f->leader_ms = ev[i].ms - ev[f->at].ms;
            f->leader_at = i;
        }
    }
}

size_t labtimeline_faults(const eventlog_line *ev, size_t n, size_t from, labtl_fault *out, size_t cap)
{
    size_t k = 0;
    labtl_fault next;
    for (size_t i = from; i < n && k < cap; i++) {
        if (!parse_fault(&ev[i], &out[k]))
            continue;
        out[k].at = i;
        out[k].end = n;
        for (size_t j = i + 1; j < n; j++)
            if (parse_fault(&ev[j], &next)) {
                out[k].end = j;
                break;
            }
        follow(ev, n, &out[k]);
        k++;
    }
    return k;
}

/* The columns the character of len bytes at s takes: 2 for the wide ones of East Asian
 * scripts and full-width forms, 1 for the rest. */
static int columns(const unsigned char *s, size_t len)
{
    if (len < 3)
        return 1;
    unsigned cp = len == 3 ? (s[0] & 0x0Fu) << 12 | (s[1] & 0x3Fu) << 6 | (s[2] & 0x3Fu)
                           : (s[0] & 0x07u) << 18 | (s[1] & 0x3Fu) << 12 | (s[2] & 0x3Fu) << 6 | (s[3] & 0x3Fu);
    bool wide = (cp >= 0x2E80 && cp <= 0xA4CF) || (cp >= 0xAC00 && cp <= 0xD7A3) ||
                (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFE30 && cp <= 0xFE4F) ||
                (cp >= 0xFF00 && cp <= 0xFF60) || (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x20000 && cp <= 0x3FFFD);
    return wide ? 2 : 1;
}

/* How many bytes of s the next line takes, at most avail columns: up to its last space
 * when the rest does not fit, or cut short for "..." when last (*dots then). */
static size_t line_bytes(const char *s, int avail, bool last, bool *dots)
{
    size_t len = strlen(s), bytes = 0, space = 0, cut = 0;
    int cols = 0;
    *dots = false;
    while (bytes < len) {
        size_t c = esc_utf8_len((const unsigned char *)s + bytes, len - bytes);
        c = c ? c : 1;
        int w = columns((const unsigned char *)s + bytes, c);
        if (cols + w > avail)
            break;
        if (s[bytes] == ' ')
            space = bytes;
        if (cols + w <= avail - 3)
            cut = bytes + c;
        bytes += c;
        cols += w;
    }
    if (bytes == len)
        return bytes;
    if (last) {
        *dots = true;
        return cut;
    }
    return s[bytes] == ' ' || space == 0 ? bytes : space;
}

/* Copies body into out after prefix, in lines of at most width columns, the later ones
 * indented by indent; cut with "..." after MAX_LINES lines. */
static char *wrap(const char *prefix, size_t indent, const char *body, int width, char *out, size_t cap)
{
    int avail = width - (int)indent < 20 ? 20 : width - (int)indent;
    int w = snprintf(out, cap, "%s", prefix);
    size_t used = w < 0 || (size_t)w >= cap ? cap - 1 : (size_t)w;
    const char *s = body;
    for (int line = 0; line < MAX_LINES && *s; line++) {
        bool dots;
        int room = line ? avail : (width - (int)strlen(prefix) < 20 ? 20 : width - (int)strlen(prefix));
        size_t take = line_bytes(s, room, line == MAX_LINES - 1, &dots);
        w = snprintf(out + used, cap - used, "%s%*s%.*s%s", line ? "\n" : "", line ? (int)indent : 0, "",
                     (int)take, s, dots ? "..." : "");
        if (w < 0 || (size_t)w >= cap - used)
            break;
        used += (size_t)w;
        s += take;
        while (*s == ' ')
            s++;
    }
    return out;
}

char *labtimeline_format(const eventlog_line *e, int width, char *out, size_t cap)
{
    char prefix[64], raw[EVENTLOG_LINE + 40], safe[2 * EVENTLOG_LINE];
    snprintf(prefix, sizeof prefix, "%+8.3f s  %-6s  ", (double)e->ms / 1000.0, e->host);
    snprintf(raw, sizeof raw, "%s %s", e->who, e->text);
    esc_str(safe, sizeof safe, raw);
    return wrap(prefix, strlen(prefix), safe, width, out, cap);
}

/* Prints text, each of its lines after margin spaces. */
static void put(FILE *f, int margin, const char *text)
{
    for (const char *s = text;;) {
        size_t len = strcspn(s, "\n");
        fprintf(f, "%*s%.*s\n", margin, "", (int)len, s);
        if (!s[len])
            break;
        s += len + 1;
    }
}

/* One summary line: "  " then fmt's text, wrapped. */
static void say(FILE *f, int margin, int width, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void say(FILE *f, int margin, int width, const char *fmt, ...)
{
    char text[OUT], out[OUT + 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    put(f, margin, wrap("  ", 4, text, width - margin, out, sizeof out));
}

static void summarize(FILE *f, const eventlog_line *ev, const labtl_fault *x, int margin, int width)
{
    const eventlog_line *at = &ev[x->at];
    char safe[EVENTLOG_LINE * 2], out[OUT + 64];
    char head[EVENTLOG_LINE * 2 + 64];
    snprintf(head, sizeof head, _("fault at %+.3f s: %s"), (double)at->ms / 1000.0,
             esc_str(safe, sizeof safe, at->text));
    put(f, margin, wrap("", 4, head, width - margin, out, sizeof out));
    if (x->outcome == LABTL_MOVED) {
        const eventlog_line *d = &ev[x->detect_at];
        char line[EVENTLOG_LINE + 80];
        snprintf(line, sizeof line, "%s %s %s", d->host, d->who, d->text);
        say(f, margin, width, _("detected in %.3f s: %s"), (double)x->detect_ms / 1000.0,
            esc_str(safe, sizeof safe, line));
    } else {
        say(f, margin, width, "%s", x->outcome == LABTL_NO_INSTANCE ? _("no detection: no instance there")
                                                                       : _("no detection: traffic never moved"));
    }
    say(f, margin, width, _("calls failed: %lld"), x->failed);
    if (x->cluster[0] && x->leader_ms >= 0)
        say(f, margin, width, _("new %s leader seen after %.3f s: %s"), x->cluster, (double)x->leader_ms / 1000.0,
            esc_str(safe, sizeof safe, ev[x->leader_at].text));
    else if (x->cluster[0])
        say(f, margin, width, _("no new %s leader seen (a leader step looks for one)"), x->cluster);
}

void labtimeline_print(FILE *f, const eventlog_line *ev, size_t n, size_t from, int margin, int width)
{
    char out[OUT];
    for (size_t i = from; i < n; i++)
        put(f, margin, labtimeline_format(&ev[i], width - margin, out, sizeof out));
    static labtl_fault faults[MAX_FAULTS];
    size_t k = labtimeline_faults(ev, n, from, faults, MAX_FAULTS);
    for (size_t i = 0; i < k; i++)
        summarize(f, ev, &faults[i], margin, width);
}
