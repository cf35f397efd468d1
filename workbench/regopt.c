/* regopt.c -- parsing the registry choice shared by `load`, `tui` and :registry. */
#include "regopt.h"

#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "registry/registry.h"

int regopt_parse(const char *s, regopt *o, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    if (!s)
        s = "";
    s += strspn(s, " \t");
    char word[32] = "";
    size_t wl = strcspn(s, " \t");
    const char *rest = s + wl + strspn(s + wl, " \t");
    snprintf(word, sizeof word, "%.*s", (int)(wl < sizeof word ? wl : sizeof word - 1), s);
    if (!word[0] || (strcmp(word, "etcd") == 0 && !*rest)) {
        o->kind = REGOPT_PRIVATE_ETCD;
        return 0;
    }
    if (strcmp(word, "static") == 0 && !*rest) {
        o->kind = REGOPT_STATIC;
        return 0;
    }
    if ((strcmp(word, "consul-dev") == 0 || strcmp(word, "consul") == 0) && !*rest) {
        o->kind = REGOPT_CONSUL_DEV;
        return 0;
    }
    const char *url = s;
    if ((strcmp(word, "etcd") == 0 || strcmp(word, "consul") == 0) && *rest) {
        url = rest;
        if (strncmp(url, word, strlen(word)) != 0 || strncmp(url + strlen(word), "://", 3) != 0) {
            err_set(err, errlen, "%s URL: want %s://HOST:PORT, not '%s'", word, word, url);
            return -1;
        }
    }
    if (strlen(url) >= sizeof o->url || strcspn(url, " \t") != strlen(url)) {
        err_set(err, errlen, "registry '%s': want etcd, etcd://HOST:PORT, consul, consul://HOST:PORT, mdns or static", s);
        return -1;
    }
    if (!strstr(url, "://") && strcmp(url, "none") != 0 && strcmp(url, "mdns") != 0) {
        err_set(err, errlen, "registry '%s': want etcd (the private one), etcd://HOST:PORT, consul (an agent -dev), "
                             "consul://HOST:PORT, mdns[://IFACE] or static", s);
        return -1;
    }
    registry *r = registry_new(url, NULL, err, errlen);
    if (!r)
        return -1;
    bool none = registry_get_kind(r) == REGISTRY_NONE;
    registry_free(r);
    if (none) {
        o->kind = REGOPT_STATIC;
        return 0;
    }
    o->kind = REGOPT_URL;
    snprintf(o->url, sizeof o->url, "%s", url);
    return 0;
}

const char *regopt_name(const regopt *o)
{
    switch (o->kind) {
    case REGOPT_PRIVATE_ETCD: return "the private etcd";
    case REGOPT_STATIC: return "static";
    case REGOPT_CONSUL_DEV: return "consul-dev";
    default: return o->url;
    }
}

int regopt_take_creds(int *argc, char **argv, regopt_creds *a, char *err, size_t errlen)
{
    static const char *names[] = {"registry-token", "registry-user", "registry-token-file", "registry-user-file"};
    const char **into[] = {&a->token, &a->user, &a->token_file, &a->user_file};
    int out = 1, i = 1;
    for (; i < *argc && strcmp(argv[i], "--") != 0; i++) {
        const char *arg = argv[i];
        size_t k = 0, n = 0;
        for (; k < 4; k++) {
            n = strlen(names[k]);
            if (strncmp(arg, "--", 2) == 0 && strncmp(arg + 2, names[k], n) == 0 &&
                (arg[2 + n] == '\0' || arg[2 + n] == '='))
                break;
        }
        if (k == 4) {
            argv[out++] = argv[i];
        } else if (arg[2 + n] == '=') {
            *into[k] = arg + 3 + n;
        } else if (i + 1 < *argc) {
            *into[k] = argv[++i];
        } else {
            err_set(err, errlen, "--%s wants a value", names[k]);
            return -1;
        }
    }
    while (i < *argc)
        argv[out++] = argv[i++];
    argv[out] = NULL;
    *argc = out;
    return 0;
}
