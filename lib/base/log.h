/* log.h -- one-line log messages to stderr, with a time stamp and the program's name. */
#ifndef WB_LOG_H
#define WB_LOG_H

#include <stdbool.h>

/* Sets the name printed on each line and whether lines are printed at all; nothing
 * is printed before this is called (so library code stays silent in tests). */
void log_setup(const char *prog, bool quiet);
/* Prints one line: the time, the program's name and the message, with control
 * characters and invalid UTF-8 escaped (base/esc.h), so a method name or a registry reply
 * quoted in it can neither start a forged line nor reach the terminal raw. */
void log_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
