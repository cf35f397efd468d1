/* wire.h -- explains captured bytes of any protocol the workbench speaks, and prints the dump. */
#ifndef WB_WIRE_H
#define WB_WIRE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "wire/explain.h"
#include "wire/rpc_proto.h"

/* Explains both directions of one connection, so each reply is read as the answer to
 * its request (gRPC needs the request's :path for that). */
int wire_explain_pair(rpc_proto p, const uint8_t *sent, size_t sn, const uint8_t *recv, size_t rn,
                      explain *esent, explain *erecv);

/* Prints a titled dump of b explained by e, followed by its byte totals. */
void wire_print_explained(FILE *f, const char *title, rpc_proto p, const uint8_t *b, size_t n,
                          const explain *e, const explain_style *st);
/* Explains one direction of a connection, requests (response false) or replies, and
 * prints it. For gRPC replies, path names the method called (NULL: the messages are
 * decoded without a schema). Returns 0, or -1 when part of the bytes could not be
 * decoded (an error span says where). */
int wire_print(FILE *f, const char *title, rpc_proto p, bool response, const char *path,
               const uint8_t *b, size_t n, const explain_style *st);

/* Explains the DNS message b[0..n) (wire/dnsexplain) and prints it as wire_print does.
 * Returns 0, or -1 when part of it could not be decoded. */
int wire_print_dns(FILE *f, const char *title, const uint8_t *b, size_t n,
                   const explain_style *st);

/* Prints what the classes of bytes in the totals mean (and the colours, when on). */
void wire_legend(FILE *f, const explain_style *st);

/* The style for dumps printed on f: its width (the terminal's, else $COLUMNS, else 80)
 * and colour as `when` says: "auto" (a terminal and NO_COLOR unset), "always" or
 * "never". Returns 0, or -1 when `when` is none of those. */
int wire_style(FILE *f, const char *when, explain_style *st);

#endif
