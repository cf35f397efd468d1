/* pbcatalog.c -- the compiled-in protobuf services, methods, messages and files. */
#include "wire/pbcatalog.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "arith.pb-c.h"
#include "health.pb-c.h"
#include "helloworld.pb-c.h"
#include "order.pb-c.h"
#include "reflection.pb-c.h"
#include "reflection_v1.pb-c.h"
#include "tally.pb-c.h"
#include "user.pb-c.h"

extern const unsigned char proto_descriptor_set[];
extern const size_t proto_descriptor_set_len;

static const ProtobufCServiceDescriptor *const services[] = {
    &helloworld__greeter__descriptor,
    &arith__arith__descriptor,
    &tally__tally__descriptor,
    &grpc__health__v1__health__descriptor,
    &grpc__reflection__v1__server_reflection__descriptor,
    &grpc__reflection__v1alpha__server_reflection__descriptor,
    &user__user__descriptor,
    &order__order__descriptor,
};
#define NSERVICES (sizeof services / sizeof services[0])

#define MAX_METHODS 64
#define MAX_FILES 32
#define MAX_SYMBOLS 256

static pb_method methods[MAX_METHODS];
static size_t nmethods;
static const char *service_names[NSERVICES];
static pb_file files[MAX_FILES];
static size_t nfiles;
static struct {
    char *name;
    size_t file;
} symbols[MAX_SYMBOLS];
static size_t nsymbols;
static pthread_once_t loaded = PTHREAD_ONCE_INIT;

/* ---- a minimal reader for the descriptor set's own protobuf encoding ---- */

typedef struct field {
    uint32_t num;
    int wire;
    uint64_t v;         /* varint */
    const uint8_t *p;   /* length-delimited */
    size_t len;
} field;

static bool next_field(const uint8_t **p, const uint8_t *end, field *f)
{
    uint64_t key = 0;
    for (int s = 0; *p < end && s < 64; s += 7) {
        uint8_t b = *(*p)++;
        key |= (uint64_t)(b & 0x7f) << s;
        if (!(b & 0x80))
            goto have_key;
    }
    return false;
have_key:
    f->num = (uint32_t)(key >> 3);
    f->wire = (int)(key & 7);
    f->p = NULL;
    f->len = 0;
    f->v = 0;
    switch (f->wire) {
    case 0:
        for (int s = 0; *p < end && s < 64; s += 7) {
            uint8_t b = *(*p)++;
            f->v |= (uint64_t)(b & 0x7f) << s;
            if (!(b & 0x80))
                return true;
        }
        return false;
    case 1:
        if (end - *p < 8)
            return false;
        *p += 8;
        return true;
    case 5:
        if (end - *p < 4)
            return false;
        *p += 4;
        return true;
    case 2: {
        uint64_t n = 0;
        for (int s = 0; *p < end && s < 64; s += 7) {
            uint8_t b = *(*p)++;
            n |= (uint64_t)(b & 0x7f) << s;
            if (!(b & 0x80)) {
                if (n > (uint64_t)(end - *p))
                    return false;
                f->p = *p;
                f->len = (size_t)n;
                *p += n;
                return true;
            }
        }
        return false;
    }
    default:
        return false;
    }
}

static char *dup_n(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

static char *join(const char *a, const char *sep, const char *b)
{
    size_t la = strlen(a), ls = strlen(sep), lb = strlen(b);
    char *s = malloc(la + ls + lb + 1);
    if (s) {
        memcpy(s, a, la);
        memcpy(s + la, sep, ls);
        memcpy(s + la + ls, b, lb + 1);
    }
    return s;
}

static void add_symbol(char *name, size_t file)
{
    if (!name)
        return;
    if (nsymbols == MAX_SYMBOLS) {
        free(name);
        return;
    }
    symbols[nsymbols].name = name;
    symbols[nsymbols].file = file;
    nsymbols++;
}

static pb_method *method_by_path(const char *path)
{
    for (size_t i = 0; i < nmethods; i++)
        if (strcmp(methods[i].path, path) == 0)
            return &methods[i];
    return NULL;
}

/* Reads one ServiceDescriptorProto: streaming flags of its methods, and its symbols. */
static void read_service(const uint8_t *p, size_t n, const char *pkg, size_t file)
{
    const uint8_t *end = p + n;
    field f;
    char *svc = NULL;
    /* the name comes first in protoc's output, but do not rely on it: two passes */
    for (const uint8_t *q = p; next_field(&q, end, &f);)
        if (f.num == 1 && f.wire == 2 && !svc)
            svc = dup_n(f.p, f.len);
    if (!svc)
        return;
    char *full = pkg[0] ? join(pkg, ".", svc) : strdup(svc);
    free(svc);
    if (!full)
        return;
    for (const uint8_t *q = p; next_field(&q, end, &f);) {
        if (f.num != 2 || f.wire != 2)
            continue;
        const uint8_t *mp = f.p, *mend = f.p + f.len;
        field g;
        char *mname = NULL;
        bool cs = false, ss = false;
        while (next_field(&mp, mend, &g)) {
            if (g.num == 1 && g.wire == 2 && !mname)
                mname = dup_n(g.p, g.len);
            else if (g.num == 5 && g.wire == 0)
                cs = g.v != 0;
            else if (g.num == 6 && g.wire == 0)
                ss = g.v != 0;
        }
        if (!mname)
            continue;
        char *slash = join(full, "/", mname);
        char *path = slash ? join("", "/", slash) : NULL;
        pb_method *m = path ? method_by_path(path) : NULL;
        if (m) {
            m->client_streaming = cs;
            m->server_streaming = ss;
        }
        add_symbol(join(full, ".", mname), file);
        free(slash);
        free(path);
        free(mname);
    }
    add_symbol(full, file);
}

/* Records the names of messages (and their nested messages and enums) declared in a file. */
static void read_messages(const uint8_t *p, size_t n, const char *scope, size_t file, int depth)
{
    const uint8_t *end = p + n;
    field f;
    char *name = NULL;
    for (const uint8_t *q = p; next_field(&q, end, &f);)
        if (f.num == 1 && f.wire == 2 && !name)
            name = dup_n(f.p, f.len);
    if (!name)
        return;
    char *full = scope[0] ? join(scope, ".", name) : strdup(name);
    free(name);
    if (!full)
        return;
    if (depth < 8) {
        for (const uint8_t *q = p; next_field(&q, end, &f);) {
            if (f.num == 3 && f.wire == 2) /* nested_type */
                read_messages(f.p, f.len, full, file, depth + 1);
            else if (f.num == 4 && f.wire == 2) /* enum_type */
                read_messages(f.p, f.len, full, file, depth + 1);
        }
    }
    add_symbol(full, file);
}

static void read_file(const uint8_t *p, size_t n)
{
    if (nfiles == MAX_FILES)
        return;
    const uint8_t *end = p + n;
    field f;
    char *fname = NULL, *pkg = NULL;
    for (const uint8_t *q = p; next_field(&q, end, &f);) {
        if (f.num == 1 && f.wire == 2 && !fname)
            fname = dup_n(f.p, f.len);
        else if (f.num == 2 && f.wire == 2 && !pkg)
            pkg = dup_n(f.p, f.len);
    }
    if (!fname) {
        free(pkg);
        return;
    }
    if (!pkg)
        pkg = strdup("");
    size_t idx = nfiles++;
    files[idx] = (pb_file){fname, pkg ? pkg : "", p, n};
    for (const uint8_t *q = p; next_field(&q, end, &f);) {
        if (f.wire != 2)
            continue;
        if (f.num == 4 || f.num == 5) /* message_type, enum_type */
            read_messages(f.p, f.len, files[idx].package, idx, 0);
        else if (f.num == 6) /* service */
            read_service(f.p, f.len, files[idx].package, idx);
    }
}

/* Fills the tables; runs once, through pthread_once, which also makes every caller wait
 * until they are full and see them whole. */
static void fill(void)
{
    for (size_t s = 0; s < NSERVICES; s++) {
        const ProtobufCServiceDescriptor *sd = services[s];
        service_names[s] = sd->name;
        for (unsigned i = 0; i < sd->n_methods && nmethods < MAX_METHODS; i++) {
            pb_method *m = &methods[nmethods++];
            char *slash = join(sd->name, "/", sd->methods[i].name);
            m->path = slash ? join("", "/", slash) : NULL;
            free(slash);
            m->service = sd->name;
            m->name = sd->methods[i].name;
            m->input = sd->methods[i].input;
            m->output = sd->methods[i].output;
            if (!m->path)
                nmethods--;
        }
    }
    const uint8_t *p = proto_descriptor_set, *end = p + proto_descriptor_set_len;
    field f;
    while (next_field(&p, end, &f))
        if (f.num == 1 && f.wire == 2)
            read_file(f.p, f.len);
}

static void load(void) { pthread_once(&loaded, fill); }

const pb_method *pbcatalog_methods(size_t *n)
{
    load();
    *n = nmethods;
    return methods;
}

const char *const *pbcatalog_services(size_t *n)
{
    load();
    *n = NSERVICES;
    return service_names;
}

const pb_method *pbcatalog_find(const char *name)
{
    load();
    for (size_t i = 0; i < nmethods; i++) {
        const pb_method *m = &methods[i];
        if (strcmp(name, m->path) == 0 || strcmp(name, m->path + 1) == 0)
            return m;
        /* "pkg.Service.Method" */
        size_t sl = strlen(m->service);
        if (strncmp(name, m->service, sl) == 0 && name[sl] == '.' && strcmp(name + sl + 1, m->name) == 0)
            return m;
    }
    return NULL;
}

const ProtobufCMessageDescriptor *pbcatalog_message(const char *full_name)
{
    load();
    if (full_name[0] == '.')
        full_name++;
    for (size_t i = 0; i < nmethods; i++) {
        const ProtobufCMessageDescriptor *d[2] = {methods[i].input, methods[i].output};
        for (int k = 0; k < 2; k++) {
            if (strcmp(d[k]->name, full_name) == 0)
                return d[k];
            /* nested and referenced messages: search one level into message fields */
            for (unsigned f = 0; f < d[k]->n_fields; f++) {
                const ProtobufCFieldDescriptor *fd = &d[k]->fields[f];
                if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
                    const ProtobufCMessageDescriptor *sub = fd->descriptor;
                    if (strcmp(sub->name, full_name) == 0)
                        return sub;
                }
            }
        }
    }
    return NULL;
}

const pb_file *pbcatalog_file_by_name(const char *name)
{
    load();
    for (size_t i = 0; i < nfiles; i++)
        if (strcmp(files[i].name, name) == 0)
            return &files[i];
    return NULL;
}

const pb_file *pbcatalog_file_for_symbol(const char *symbol)
{
    load();
    if (symbol[0] == '.')
        symbol++;
    for (size_t i = 0; i < nsymbols; i++)
        if (strcmp(symbols[i].name, symbol) == 0)
            return &files[symbols[i].file];
    return NULL;
}
