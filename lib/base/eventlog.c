/* eventlog.c -- appending to the lab's timeline file and reading it back sorted. */
#include "base/eventlog.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int log_fd = -1;
static int64_t t0 = -1;
static char host[32] = "-";
static size_t written;
static bool full;

static void open_log(void)
{
    const char *path = getenv("WB_LAB_EVENTS"), *start = getenv("WB_LAB_T0"), *h = getenv("WB_LAB_HOST");
    char *end;
    if (!path || !*path || !start)
        return;
    errno = 0;
    long long v = strtoll(start, &end, 10);
    if (errno || *end || v < 0)
        return;
    if ((log_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0)
        return;
    t0 = v;
    if (h && *h && strlen(h) < sizeof host && !strpbrk(h, " \t\n"))
        snprintf(host, sizeof host, "%s", h);
}

bool eventlog_on(void)
{
    pthread_once(&once, open_log);
    pthread_mutex_lock(&lock);
    bool on = log_fd >= 0;
    pthread_mutex_unlock(&lock);
    return on;
}

int64_t eventlog_now_ms(void)
{
    pthread_once(&once, open_log);
    pthread_mutex_lock(&lock);
    int64_t ms = log_fd >= 0 ? (int64_t)clock_now_ms() - t0 : -1;
    pthread_mutex_unlock(&lock);
    return ms;
}

/* The line for one event into out; its length. */
static size_t format_line(char *out, size_t cap, int64_t ms, const char *h, const char *who, const char *text)
{
    int n = snprintf(out, cap, "%" PRId64 " %s %s ", ms, h, who);
    if (n < 0 || (size_t)n >= cap - 1)
        return 0;
    size_t len = (size_t)n;
    for (const char *p = text; *p && len < cap - 1; p++)
        out[len++] = (unsigned char)*p < 0x20 || *p == 0x7f ? ' ' : *p;
    out[len++] = '\n';
    return len;
}

void eventlog_say(const char *who, const char *fmt, ...)
{
    if (!eventlog_on())
        return;
    char text[EVENTLOG_LINE], line[EVENTLOG_LINE + 96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&lock);
    if (log_fd < 0) { /* eventlog_use ended it meanwhile */
        pthread_mutex_unlock(&lock);
        return;
    }
    size_t len = format_line(line, sizeof line, (int64_t)clock_now_ms() - t0, host, who, text);
    if (!full && written + len > EVENTLOG_CAP) {
        full = true;
        len = format_line(line, sizeof line, (int64_t)clock_now_ms() - t0, host, "eventlog",
                          "this process wrote its share of the timeline; later events are left out");
    } else if (full) {
        len = 0;
    }
    if (len && write(log_fd, line, len) == (ssize_t)len)
        written += len;
    pthread_mutex_unlock(&lock);
}

int eventlog_use(const char *path, int64_t t0_ms, const char *h)
{
    pthread_once(&once, open_log);
    int fd = path ? open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600) : -1;
    if (path && fd < 0)
        return -1;
    pthread_mutex_lock(&lock);
    if (log_fd >= 0)
        close(log_fd);
    log_fd = fd;
    t0 = fd >= 0 ? t0_ms : -1;
    snprintf(host, sizeof host, "%s", fd >= 0 && h && *h && !strpbrk(h, " \t\n") ? h : "-");
    written = 0;
    full = false;
    pthread_mutex_unlock(&lock);
    return 0;
}

int eventlog_append(const char *path, int64_t ms, const char *h, const char *who, const char *text)
{
    char line[EVENTLOG_LINE + 96];
    size_t len = format_line(line, sizeof line, ms, h, who, text);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    ssize_t w = write(fd, line, len);
    int saved = errno;
    close(fd);
    errno = saved;
    return w == (ssize_t)len ? 0 : -1;
}

static int parse_line(char *s, eventlog_line *ev)
{
    char *end;
    errno = 0;
    long long ms = strtoll(s, &end, 10);
    if (errno || end == s || *end != ' ')
        return -1;
    char *h = end + 1, *w = strchr(h, ' ');
    if (!w)
        return -1;
    *w++ = 0;
    char *t = strchr(w, ' ');
    if (!t)
        return -1;
    *t++ = 0;
    if (strlen(h) >= sizeof ev->host || strlen(w) >= sizeof ev->who)
        return -1;
    ev->ms = ms;
    snprintf(ev->host, sizeof ev->host, "%s", h);
    snprintf(ev->who, sizeof ev->who, "%s", w);
    snprintf(ev->text, sizeof ev->text, "%s", t);
    return 0;
}

/* Insertion by time keeps equal times in file order; the lines are mostly in order. */
static void sort_by_time(eventlog_line *ev, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        if (ev[i - 1].ms <= ev[i].ms)
            continue;
        eventlog_line cur = ev[i];
        size_t j = i;
        while (j > 0 && ev[j - 1].ms > cur.ms) {
            ev[j] = ev[j - 1];
            j--;
        }
        ev[j] = cur;
    }
}

int eventlog_read(const char *path, int64_t since_ms, size_t max_bytes, eventlog_line **out, size_t *n,
                  char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    FILE *f = fopen(path, "re");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        err_set(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    eventlog_line *ev = NULL;
    size_t cap = 0, used = 0;
    char line[EVENTLOG_LINE + 96];
    int rc = 0;
    while (used < max_bytes && fgets(line, sizeof line, f)) {
        size_t len = strlen(line);
        used += len;
        if (len == 0 || line[len - 1] != '\n')
            continue; /* cut by the reader's buffer or still being written */
        line[len - 1] = 0;
        eventlog_line one;
        if (parse_line(line, &one) < 0 || one.ms < since_ms)
            continue;
        if (*n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            eventlog_line *m = realloc(ev, ncap * sizeof *m);
            if (!m) {
                err_set(err, errlen, "out of memory");
                rc = -1;
                break;
            }
            ev = m;
            cap = ncap;
        }
        ev[(*n)++] = one;
    }
    fclose(f);
    if (rc < 0) {
        free(ev);
        *n = 0;
        return -1;
    }
    sort_by_time(ev, *n);
    *out = ev;
    return 0;
}
