/* pcapopt.h -- `--pcap FILE` of `workbench call`, `compare` and `load`: every connection
 * the command makes, written to FILE as a capture Wireshark and tshark open. */
#ifndef WB_PCAPOPT_H
#define WB_PCAPOPT_H

#include "capture/pcapout.h"

/* The writer for path, opened before any call. NULL after saying on stderr, as
 * "workbench CMD: --pcap PATH: reason", why it cannot be written. */
pcapout *pcapopt_open(const char *cmd, const char *path);
/* Closes o (free every client that records into it first) and says on stderr how many
 * connections path holds, and how to open it; a failure to write, or the cap reached,
 * is said too. Accepts NULL. */
void pcapopt_close(const char *cmd, pcapout *o, const char *path);

#endif
