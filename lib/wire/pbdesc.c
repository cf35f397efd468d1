/* pbdesc.c -- the pool of protobuf files learned at run time: adding, linking, looking up. */
#include "wire/pbdesc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/i18n.h"
#include "wire/catalog.h"
#include "wire/pbdesc_int.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pd_table file_names; /* file name -> index in pd_files */
static const char *services[PD_MAX_SERVICES];
static size_t nservices;
/* compiled-in files unpacked for describe, by pbcatalog's pb_file */
typedef struct compiled_file {
    const pb_file *pf;
    pd_fileproto *fp;
} compiled_file;
static compiled_file compiled[64];
static size_t ncompiled;

static void kill_file(uint32_t file)
{
    for (size_t i = 0; i < pd_syms.cap; i++)
        if (pd_syms.slots[i].name && pd_syms.slots[i].kind != PD_DEAD && pd_syms.slots[i].file == file)
            pd_syms.slots[i].kind = PD_DEAD;
}

/* ---- adding ---- */

/* Takes fp. Returns 1 when new, 0 when the name is known (fp is freed), -1 with err. */
static int add_proto(pd_fileproto *fp, size_t nbytes, bool from_catalog, char *err, size_t errlen)
{
    if (!fp->name || !fp->name[0]) {
        protobuf_c_message_free_unpacked(&fp->base, NULL);
        err_set(err, errlen, _("a file descriptor without a file name"));
        return -1;
    }
    if (pd_find(&file_names, fp->name)) {
        protobuf_c_message_free_unpacked(&fp->base, NULL);
        return 0;
    }
    if (pd_nfiles == PD_MAX_FILES || pd_bytes_total + nbytes > PD_MAX_BYTES) {
        err_set(err, errlen, _("%s: too many descriptors (the caps are %d files and 64 MiB)"), fp->name,
                PD_MAX_FILES);
        protobuf_c_message_free_unpacked(&fp->base, NULL);
        return -1;
    }
    pd_sym *clash;
    if (pd_put(&file_names, fp->name, PD_FILE, (uint32_t)pd_nfiles, fp, NULL, &clash) != 0) {
        err_set(err, errlen, _("out of memory"));
        protobuf_c_message_free_unpacked(&fp->base, NULL);
        return -1;
    }
    pd_files[pd_nfiles++] = (pd_file){fp, PD_WAITING, from_catalog};
    pd_bytes_total += nbytes;
    return 1;
}

int pbdesc_add_file(const uint8_t *p, size_t n, char *err, size_t errlen)
{
    pd_fileproto *fp = google__protobuf__file_descriptor_proto__unpack(NULL, n, p);
    if (!fp) {
        err_set(err, errlen, _("%zu bytes are not a FileDescriptorProto"), n);
        return -1;
    }
    pthread_mutex_lock(&lock);
    int r = add_proto(fp, n, false, err, errlen);
    pthread_mutex_unlock(&lock);
    return r;
}

int pbdesc_add_set(const uint8_t *p, size_t n, char *err, size_t errlen)
{
    Google__Protobuf__FileDescriptorSet *set = google__protobuf__file_descriptor_set__unpack(NULL, n, p);
    if (!set) {
        err_set(err, errlen, _("%zu bytes are not a FileDescriptorSet"), n);
        return -1;
    }
    int added = 0;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < set->n_file; i++) {
        pd_fileproto *fp = set->file[i];
        set->file[i] = NULL;
        int r = add_proto(fp, protobuf_c_message_get_packed_size(&fp->base), false, err, errlen);
        if (r < 0) {
            for (size_t k = i + 1; k < set->n_file; k++)
                protobuf_c_message_free_unpacked(&set->file[k]->base, NULL);
            added = -1;
            break;
        }
        added += r;
    }
    pthread_mutex_unlock(&lock);
    set->n_file = 0; /* the files are the pool's now, or freed */
    google__protobuf__file_descriptor_set__free_unpacked(set, NULL);
    return added;
}

/* The pool index of an import, adding the compiled-in file of that name if needed; -1
 * when nobody has it. */
static long import_index(const char *name)
{
    pd_sym *s = pd_find(&file_names, name);
    if (s)
        return s->file;
    const pb_file *pf = pbcatalog_file_by_name(name);
    if (!pf)
        return -1;
    pd_fileproto *fp = google__protobuf__file_descriptor_proto__unpack(NULL, pf->len, pf->bytes);
    if (!fp || add_proto(fp, pf->len, true, NULL, 0) != 1)
        return -1;
    return (long)pd_nfiles - 1;
}

bool pbdesc_missing_import(char *out, size_t cap)
{
    bool found = false;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < pd_nfiles && !found; i++) {
        const pd_fileproto *fp = pd_files[i].fp;
        if (pd_files[i].state != PD_WAITING)
            continue;
        for (size_t k = 0; k < fp->n_dependency && !found; k++) {
            const char *dep = fp->dependency[k];
            if (!pd_find(&file_names, dep) && !pbcatalog_file_by_name(dep)) {
                snprintf(out, cap, "%s", dep);
                found = true;
            }
        }
    }
    pthread_mutex_unlock(&lock);
    return found;
}

/* ---- linking ---- */

static int publish(uint32_t idx, pb_method **methods, size_t n, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        catalog_method e = {.grpc_path = methods[i]->path, .pb = methods[i]};
        if (catalog_add(&e, 1, err, errlen) < 0)
            return -1;
    }
    if (pd_files[idx].compiled)
        return 0;
    const pd_fileproto *fp = pd_files[idx].fp;
    for (size_t s = 0; s < fp->n_service && nservices < PD_MAX_SERVICES; s++) {
        char full[1024];
        snprintf(full, sizeof full, "%s%s%s", fp->package ? fp->package : "",
                 fp->package && fp->package[0] ? "." : "", fp->service[s]->name);
        pd_sym *sym = pd_find(&pd_syms, full);
        if (sym && sym->kind == PD_SERVICE)
            services[nservices++] = sym->name;
    }
    return 0;
}

/* Builds file idx after its imports, counting each file built in *built. Returns 1
 * when built, 0 when it waits for an import, -1 with err. */
static int link_file(uint32_t idx, int *built, char *err, size_t errlen)
{
    pd_file *f = &pd_files[idx];
    if (f->state == PD_BUILT)
        return 1;
    if (f->state == PD_FAILED) {
        err_set(err, errlen, _("%s could not be built"), f->fp->name);
        return -1;
    }
    if (f->state == PD_VISITING) {
        err_set(err, errlen, _("%s imports itself, through other files"), f->fp->name);
        return -1;
    }
    f->state = PD_VISITING;
    for (size_t k = 0; k < f->fp->n_dependency; k++) {
        long d = import_index(f->fp->dependency[k]);
        int r = d < 0 ? 0 : link_file((uint32_t)d, built, err, errlen);
        f = &pd_files[idx];
        if (r <= 0) {
            f->state = r < 0 ? PD_FAILED : PD_WAITING;
            if (r < 0) {
                char why[512];
                snprintf(why, sizeof why, "%s", err ? err : "");
                err_set(err, errlen, _("%s: its import %s: %s"), f->fp->name, f->fp->dependency[k], why);
            }
            return r;
        }
    }
    pd_arena a = {0};
    pb_method **methods;
    size_t nm;
    if (pd_build_file(idx, &a, &methods, &nm, err, errlen) < 0) {
        kill_file(idx);
        pd_arena_free(&a);
        pd_files[idx].state = PD_FAILED;
        return -1;
    }
    pd_files[idx].state = PD_BUILT;
    pd_files[idx].arena = a;
    (*built)++;
    return publish(idx, methods, nm, err, errlen) < 0 ? -1 : 1;
}

int pbdesc_link(char *err, size_t errlen)
{
    int built = 0;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < pd_nfiles; i++) {
        if (pd_files[i].state != PD_WAITING)
            continue;
        if (link_file((uint32_t)i, &built, err, errlen) < 0) {
            built = -1;
            break;
        }
    }
    pthread_mutex_unlock(&lock);
    return built;
}

/* ---- lookups ---- */

static const char *undot(const char *s) { return s[0] == '.' ? s + 1 : s; }

/* A type of the compiled-in services, searched through every message they reach. */
static const void *compiled_type(const ProtobufCMessageDescriptor *d, const char *name, bool want_enum,
                                 int depth)
{
    if (!want_enum && strcmp(d->name, name) == 0)
        return d;
    if (depth > 16)
        return NULL;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = &d->fields[i];
        if (fd->type == PROTOBUF_C_TYPE_ENUM && want_enum &&
            strcmp(((const ProtobufCEnumDescriptor *)fd->descriptor)->name, name) == 0)
            return fd->descriptor;
        if (fd->type == PROTOBUF_C_TYPE_MESSAGE && fd->descriptor != d) {
            const void *r = compiled_type(fd->descriptor, name, want_enum, depth + 1);
            if (r)
                return r;
        }
    }
    return NULL;
}

static const void *compiled_find(const char *name, bool want_enum)
{
    size_t n;
    const pb_method *m = pbcatalog_methods(&n);
    for (size_t i = 0; i < n; i++) {
        const void *r = compiled_type(m[i].input, name, want_enum, 0);
        if (!r)
            r = compiled_type(m[i].output, name, want_enum, 0);
        if (r)
            return r;
    }
    return NULL;
}

static const void *built_of(const char *name, int kind)
{
    pthread_mutex_lock(&lock);
    const pd_sym *s = pd_find(&pd_syms, undot(name));
    const void *r = s && s->kind == kind ? s->built : NULL;
    pthread_mutex_unlock(&lock);
    return r;
}

const ProtobufCMessageDescriptor *pbdesc_message(const char *full_name)
{
    const ProtobufCMessageDescriptor *d = built_of(full_name, PD_MESSAGE);
    if (!d)
        d = pbcatalog_message(full_name);
    return d ? d : compiled_find(undot(full_name), false);
}

const ProtobufCEnumDescriptor *pbdesc_enum(const char *full_name)
{
    const ProtobufCEnumDescriptor *d = built_of(full_name, PD_ENUM);
    return d ? d : compiled_find(undot(full_name), true);
}

const pb_method *pbdesc_method(const char *name)
{
    char key[1024];
    snprintf(key, sizeof key, "%s", name[0] == '/' ? name + 1 : name);
    char *slash = strrchr(key, '/');
    if (slash)
        *slash = '.';
    const pb_method *m = built_of(key, PD_METHOD);
    if (!m) {
        char path[1026];
        snprintf(path, sizeof path, "/%s", key);
        char *dot = strrchr(path, '.');
        if (dot)
            *dot = '/';
        m = pbcatalog_find(path);
    }
    return m;
}

const char *const *pbdesc_services(size_t *n)
{
    pthread_mutex_lock(&lock);
    *n = nservices;
    pthread_mutex_unlock(&lock);
    return services;
}

/* The unpacked FileDescriptorProto of a compiled-in file, kept for the process. */
static const pd_fileproto *compiled_proto(const pb_file *pf)
{
    for (size_t i = 0; i < ncompiled; i++)
        if (compiled[i].pf == pf)
            return compiled[i].fp;
    if (ncompiled == sizeof compiled / sizeof compiled[0])
        return NULL;
    pd_fileproto *fp = google__protobuf__file_descriptor_proto__unpack(NULL, pf->len, pf->bytes);
    if (fp)
        compiled[ncompiled++] = (compiled_file){pf, fp};
    return fp;
}

/* The file that declares symbol (or, for a field, its message); NULL when none. */
static const pd_fileproto *file_of(const char *symbol)
{
    char parent[1024];
    snprintf(parent, sizeof parent, "%s", symbol);
    char *dot = strrchr(parent, '.');
    if (dot)
        *dot = '\0';
    const pd_sym *s = pd_find(&pd_syms, symbol);
    if (!s && dot)
        s = pd_find(&pd_syms, parent);
    if (s)
        return pd_files[s->file].fp;
    const pb_file *pf = pbcatalog_file_for_symbol(symbol);
    if (!pf && dot)
        pf = pbcatalog_file_for_symbol(parent);
    return pf ? compiled_proto(pf) : NULL;
}

bool pbdesc_knows(const char *symbol)
{
    symbol = undot(symbol);
    buf scratch;
    buf_init(&scratch, 1 << 20);
    pthread_mutex_lock(&lock);
    const pd_fileproto *fp = file_of(symbol);
    bool known = fp && pd_print(fp, symbol, &scratch) == 0;
    pthread_mutex_unlock(&lock);
    buf_done(&scratch);
    return known;
}

int pbdesc_describe(const char *symbol, buf *out, char *err, size_t errlen)
{
    symbol = undot(symbol);
    pthread_mutex_lock(&lock);
    const pd_fileproto *fp = file_of(symbol);
    int r = fp ? pd_print(fp, symbol, out) : -1;
    pthread_mutex_unlock(&lock);
    if (r < 0)
        err_set(err, errlen, _("no file describes %s"), symbol);
    return r;
}

const pb_method *pbdesc_service_method(const char *service, size_t i)
{
    service = undot(service);
    char path[1024] = "";
    pthread_mutex_lock(&lock);
    const pd_fileproto *fp = file_of(service);
    const char *pkg = fp && fp->package ? fp->package : "";
    size_t plen = strlen(pkg);
    for (size_t k = 0; fp && k < fp->n_service && !path[0]; k++) {
        const Google__Protobuf__ServiceDescriptorProto *sd = fp->service[k];
        bool same = plen ? strncmp(service, pkg, plen) == 0 && service[plen] == '.' &&
                               strcmp(service + plen + 1, sd->name) == 0
                         : strcmp(service, sd->name) == 0;
        if (same && i < sd->n_method)
            snprintf(path, sizeof path, "/%s/%s", service, sd->method[i]->name);
    }
    pthread_mutex_unlock(&lock);
    return path[0] ? pbdesc_method(path) : NULL;
}
