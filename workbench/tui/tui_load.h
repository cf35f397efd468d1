/* tui_load.h -- the TUI's load generator: a thread calling a method at a set rate
 * through one balancer per protocol, counting into the model's shared part. */
#ifndef WB_TUI_LOAD_H
#define WB_TUI_LOAD_H

#include <stddef.h>

#include "tui_model.h"

typedef struct tui_load tui_load;

/* Starts the thread (idle until the model's load is switched on). It calls method with
 * the JSON argument args_json on the members the model publishes, each protocol's
 * instances through their own balancer, spreading the calls so that every instance gets
 * the same share whatever its protocol (tui_spread_next). Signals are blocked in the
 * thread. Returns NULL with a reason in err. */
tui_load *tui_load_start(tui_model *m, const char *method, const char *args_json, char *err,
                         size_t errlen);
/* Makes the thread stop (a call in flight ends within its deadline), joins it and frees.
 * Accepts NULL. */
void tui_load_stop(tui_load *l);

#endif
