/* log.c -- one-line log messages to stderr, escaped so a peer's bytes cannot forge a line. */
#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/esc.h"

static const char *log_prog = "";
static bool log_quiet = true; /* until a program sets itself up */

void log_setup(const char *prog, bool quiet)
{
    /* a program set up early, before its threads, sets up again the same way later
     * (server_main): that second time writes nothing the threads may be reading */
    if (strcmp(log_prog, prog) != 0)
        log_prog = prog;
    if (log_quiet != quiet)
        log_quiet = quiet;
}

void log_msg(const char *fmt, ...)
{
    if (log_quiet)
        return;
    char stamp[32], line[1024], safe[4 * sizeof line];
    int n = snprintf(line, sizeof line, "%s %s: ", clock_stamp(stamp, sizeof stamp), log_prog);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof line)
        vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    /* A message may quote a peer (a method name, a registry's reply): it stays one line. */
    fprintf(stderr, "%s\n", esc_str(safe, sizeof safe, line));
}
