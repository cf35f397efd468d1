/* regopt.h -- the registry choice of `workbench load --registry`, `workbench tui --registry`
 * and the TUI's :registry command: the private etcd (the default), a registry at a URL,
 * a private Consul agent in dev mode, or no registry at all (a static list). */
#ifndef WB_REGOPT_H
#define WB_REGOPT_H

#include <stddef.h>

typedef enum regopt_kind {
    REGOPT_PRIVATE_ETCD, /* an etcd the workbench starts for itself */
    REGOPT_URL,          /* etcd://HOST:PORT[,...] or consul://HOST:PORT, running already; or
                            mdns[://IFACE], where every server answers for itself */
    REGOPT_CONSUL_DEV,   /* a `consul agent -dev` the workbench starts, when consul is installed */
    REGOPT_STATIC,       /* none: the instances the workbench started are the list */
} regopt_kind;

typedef struct regopt {
    regopt_kind kind;
    char url[256]; /* REGOPT_URL only */
} regopt;

/* Parses s: NULL, "" or "etcd" (the private etcd); "static"; "consul-dev" or "consul";
 * "mdns" or a URL the registry client understands, alone or after "etcd " or "consul ".
 * Returns 0, or -1 with a reason in err. */
int regopt_parse(const char *s, regopt *o, char *err, size_t errlen);
/* A short name for messages: "the private etcd", "static", "consul-dev", or the URL. */
const char *regopt_name(const regopt *o);

/* The registry's credentials as the command line gives them (any may be NULL). */
typedef struct regopt_creds {
    const char *token, *user, *token_file, *user_file;
} regopt_creds;

/* Takes --registry-token T, --registry-user U:P, --registry-token-file PATH and
 * --registry-user-file PATH (also written --NAME=VALUE) out of argv up to a "--", into a;
 * the rest stay in order for the command's own parsing. The values then go through
 * registry_creds_pick, as the servers' do. Returns 0, or -1 with err for an option
 * without its value. */
int regopt_take_creds(int *argc, char **argv, regopt_creds *a, char *err, size_t errlen);

#endif
