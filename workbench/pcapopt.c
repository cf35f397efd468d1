/* pcapopt.c -- --pcap FILE: the capture file opened before the calls and reported after. */
#include "pcapopt.h"

#include <stdio.h>

#include "base/esc.h"
#include "base/i18n.h"

pcapout *pcapopt_open(const char *cmd, const char *path)
{
    char err[512], shown[1024];
    pcapout *o = pcapout_new(path, err, sizeof err);
    if (!o)
        fprintf(stderr, _("workbench %s: --pcap %s: %s\n"), cmd, esc_str(shown, sizeof shown, path), err);
    return o;
}

void pcapopt_close(const char *cmd, pcapout *o, const char *path)
{
    if (!o)
        return;
    char err[512], shown[1024];
    size_t n = pcapout_conns(o);
    int r = pcapout_free(o, err, sizeof err);
    esc_str(shown, sizeof shown, path);
    fflush(stdout);
    if (r < 0)
        fprintf(stderr, _("workbench %s: --pcap %s: %s\n"), cmd, shown, err);
    fprintf(stderr,
            ngettext("wrote %zu connection to %s (open it in Wireshark, or: tshark -r %s)\n",
                     "wrote %zu connections to %s (open it in Wireshark, or: tshark -r %s)\n", n),
            n, shown, shown);
}
