/* jsonval.c -- JSON text to values and back, with exact integers. */
#include "wire/jsonval.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/b64.h"
#include "base/err.h"
#include "base/esc.h"
#include "base/i18n.h"
#include "wire/jsonscan.h"

/* Literals of a document in document order, as cJSON visits them: one list for numbers,
 * one for strings and keys (cJSON cuts a string at an escaped NUL; the text does not). */
typedef struct numbers {
    size_t *off, *len;
    size_t count, cap, next;
} numbers;

typedef struct literals {
    numbers num, str;
} literals;

static int push_literal(numbers *ns, const jtok *t)
{
    if (ns->count == ns->cap) {
        size_t ncap = ns->cap ? ns->cap * 2 : 16;
        size_t *o = realloc(ns->off, ncap * sizeof *o);
        if (!o)
            return 1;
        ns->off = o;
        size_t *l = realloc(ns->len, ncap * sizeof *l);
        if (!l)
            return 1;
        ns->len = l;
        ns->cap = ncap;
    }
    ns->off[ns->count] = t->off;
    ns->len[ns->count] = t->len;
    ns->count++;
    return 0;
}

static int collect_literal(const jtok *t, void *ctx)
{
    literals *ls = ctx;
    if (t->type == JT_NUMBER)
        return push_literal(&ls->num, t);
    if (t->type == JT_STRING || t->type == JT_KEY)
        return push_literal(&ls->str, t);
    return 0;
}

static unsigned hex4(const char *p)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v = v << 4 | (unsigned)(c <= '9' ? c - '0' : (c | 32) - 'a' + 10);
    }
    return v;
}

/* Decodes a string literal (quotes included) that cJSON accepted, NUL bytes and all. */
static value *string_from_text(const char *p, size_t n)
{
    char *out = malloc(n);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 1; i + 1 < n; i++) {
        if (p[i] != '\\') {
            out[o++] = p[i];
            continue;
        }
        char c = p[++i];
        if (c != 'u') {
            const char *e = strchr("b\bf\fn\nr\rt\t", c);
            out[o++] = e ? e[1] : c;
            continue;
        }
        unsigned cp = hex4(p + i + 1);
        i += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && i + 6 < n && p[i + 1] == '\\' && p[i + 2] == 'u') {
            unsigned lo = hex4(p + i + 3);
            if (lo >= 0xDC00 && lo < 0xE000) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i += 6;
            }
        }
        if (cp < 0x80) {
            out[o++] = (char)cp;
        } else if (cp < 0x800) {
            out[o++] = (char)(0xC0 | cp >> 6);
            out[o++] = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out[o++] = (char)(0xE0 | cp >> 12);
            out[o++] = (char)(0x80 | (cp >> 6 & 0x3F));
            out[o++] = (char)(0x80 | (cp & 0x3F));
        } else {
            out[o++] = (char)(0xF0 | cp >> 18);
            out[o++] = (char)(0x80 | (cp >> 12 & 0x3F));
            out[o++] = (char)(0x80 | (cp >> 6 & 0x3F));
            out[o++] = (char)(0x80 | (cp & 0x3F));
        }
    }
    value *v = value_string(out, o);
    free(out);
    return v;
}

/* Appends p[0..n) to b with each byte that does not start well-formed UTF-8 replaced
 * by U+FFFD, as Go's encoding/json does both ways. */
static void put_utf8(buf *b, const char *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t l = esc_utf8_len((const unsigned char *)p + i, n - i);
        if (l == 0) {
            buf_puts(b, "\xEF\xBF\xBD");
            i++;
        } else {
            buf_append(b, p + i, l);
            i += l;
        }
    }
}

/* A string value from bytes that may hold invalid UTF-8 (then replaced). */
static value *utf8_value(value *v)
{
    if (!v || esc_utf8_valid(v->u.s.p, v->u.s.len))
        return v;
    buf b;
    buf_init(&b, 0);
    put_utf8(&b, v->u.s.p, v->u.s.len);
    value *fixed = buf_size(&b) ? value_string((const char *)buf_data(&b), buf_size(&b)) : NULL;
    buf_done(&b);
    value_free(v);
    return fixed;
}

/* A string or key: from cJSON's text, or from the literal when it holds an escaped NUL. */
static value *string_value(const char *s, const char *text, numbers *strs)
{
    if (!strs || strs->next >= strs->count)
        return utf8_value(value_cstring(s));
    size_t k = strs->next++;
    const char *lit = text + strs->off[k];
    if (memmem(lit, strs->len[k], "\\u0000", 6))
        return utf8_value(string_from_text(lit, strs->len[k]));
    return utf8_value(value_cstring(s));
}

/* Reads a number literal: an integer literal becomes V_INT (or V_UINT above INT64_MAX),
 * anything else V_FLOAT. */
static value *number_from_text(const char *p, size_t n)
{
    char tmp[64];
    bool integral = true;
    for (size_t i = 0; i < n; i++)
        if (p[i] == '.' || p[i] == 'e' || p[i] == 'E')
            integral = false;
    if (n >= sizeof tmp)
        integral = false;
    if (integral) {
        memcpy(tmp, p, n);
        tmp[n] = '\0';
        errno = 0;
        if (tmp[0] == '-') {
            long long x = strtoll(tmp, NULL, 10);
            if (errno == 0)
                return value_int(x);
        } else {
            unsigned long long x = strtoull(tmp, NULL, 10);
            if (errno == 0)
                return x <= (unsigned long long)INT64_MAX ? value_int((int64_t)x) : value_uint(x);
        }
    }
    char *lit = malloc(n + 1);
    if (!lit)
        return NULL;
    memcpy(lit, p, n);
    lit[n] = '\0';
    double d = strtod(lit, NULL);
    free(lit);
    return value_float(d);
}

static value *convert(const cJSON *j, const char *text, literals *ls, int depth)
{
    numbers *ns = ls ? &ls->num : NULL;
    if (depth > JSONSCAN_MAX_DEPTH)
        return NULL;
    if (cJSON_IsNull(j))
        return value_null();
    if (cJSON_IsBool(j))
        return value_bool(cJSON_IsTrue(j));
    if (cJSON_IsNumber(j)) {
        if (ns && ns->next < ns->count) {
            size_t k = ns->next++;
            return number_from_text(text + ns->off[k], ns->len[k]);
        }
        double d = j->valuedouble;
        if (d == floor(d) && fabs(d) < 9007199254740992.0)
            return value_int((int64_t)d);
        return value_float(d);
    }
    if (cJSON_IsString(j))
        return string_value(j->valuestring, text, ls ? &ls->str : NULL);
    if (cJSON_IsArray(j)) {
        value *l = value_list();
        for (const cJSON *c = j->child; l && c; c = c->next)
            if (value_list_push(l, convert(c, text, ls, depth + 1)) < 0) {
                value_free(l);
                return NULL;
            }
        return l;
    }
    if (cJSON_IsObject(j)) {
        value *m = value_map();
        for (const cJSON *c = j->child; m && c; c = c->next) {
            value *k = string_value(c->string ? c->string : "", text, ls ? &ls->str : NULL);
            if (value_map_put(m, k, convert(c, text, ls, depth + 1)) < 0) {
                value_free(m);
                return NULL;
            }
        }
        return m;
    }
    if (cJSON_IsRaw(j) && j->valuestring)
        return jsonval_parse(j->valuestring, strlen(j->valuestring), NULL, 0);
    return NULL;
}

value *jsonval_from_cjson(const cJSON *j, const char *text, size_t len, char *err, size_t errlen)
{
    literals ls = {0};
    value *v = NULL;
    if (text) {
        /* The literals of j's own subtree: scan the text j was parsed from. */
        if (jsonscan(text, len, JSONSCAN_FINAL, NULL, NULL, collect_literal, &ls, err, errlen) != 1)
            goto done;
    }
    v = convert(j, text, text ? &ls : NULL, 0);
    if (!v && err && errlen)
        err_set(err, errlen, _("out of memory or nested too deeply"));
done:
    free(ls.num.off);
    free(ls.num.len);
    free(ls.str.off);
    free(ls.str.len);
    return v;
}

value *jsonval_parse(const char *text, size_t len, char *err, size_t errlen)
{
    size_t start, end;
    if (jsonscan(text, len, JSONSCAN_FINAL, &start, &end, NULL, NULL, err, errlen) != 1)
        return NULL;
    for (size_t i = end; i < len; i++) {
        if (!strchr(" \t\r\n", text[i])) {
            if (err && errlen)
                err_set(err, errlen, _("unexpected text after the JSON value at byte %zu"), i);
            return NULL;
        }
    }
    cJSON *j = cJSON_ParseWithLength(text + start, end - start);
    if (!j) {
        if (err && errlen)
            err_set(err, errlen, _("not valid JSON"));
        return NULL;
    }
    value *v = jsonval_from_cjson(j, text + start, end - start, err, errlen);
    cJSON_Delete(j);
    return v;
}

static cJSON *raw_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static cJSON *raw_printf(const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    return cJSON_CreateRaw(tmp);
}

int jsonval_put_string(buf *out, const char *p, size_t n)
{
    buf_putc(out, '"');
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)p[i];
        size_t l = esc_utf8_len((const unsigned char *)p + i, n - i);
        const char *named = c && c < 0x20 ? strchr("\bb\ff\nn\rr\tt", c) : NULL;
        if (c == '"' || c == '\\')
            buf_printf(out, "\\%c", c);
        else if (named)
            buf_printf(out, "\\%c", named[1]);
        else if (c < 0x20)
            buf_printf(out, "\\u%04x", c);
        else if (l == 0)
            buf_puts(out, "\\ufffd");
        else
            buf_append(out, p + i, l);
        i += l ? l : 1;
    }
    return buf_putc(out, '"');
}

/* A string as JSON text cJSON takes raw: escaped, NUL bytes kept, invalid UTF-8 replaced. */
static cJSON *string_json(const char *p, size_t n)
{
    buf b;
    buf_init(&b, 0);
    jsonval_put_string(&b, p, n);
    char *s = buf_take(&b);
    cJSON *j = s ? cJSON_CreateRaw(s) : NULL;
    free(s);
    return j;
}

static const char *key_text(const value *k, char *tmp, size_t n)
{
    switch (k->kind) {
    case V_STRING: return k->u.s.p;
    case V_INT: snprintf(tmp, n, "%lld", (long long)k->u.i); return tmp;
    case V_UINT: snprintf(tmp, n, "%llu", (unsigned long long)k->u.u); return tmp;
    case V_BOOL: return k->u.b ? "true" : "false";
    default: return "?";
    }
}

/* Go sorts map keys by their JSON text: 10 before 9. */
static int key_cmp(const void *a, const void *b)
{
    char ta[32], tb[32];
    return strcmp(key_text(((const value_pair *)a)->k, ta, sizeof ta),
                  key_text(((const value_pair *)b)->k, tb, sizeof tb));
}

/* A cJSON tree for v (caller owns it), NULL when memory ran out. Structs keep field
 * order; []byte becomes base64 as in Go; map keys are sorted as Go sorts them. */
static cJSON *jsonval_to_cjson(const value *v)
{
    switch (v->kind) {
    case V_NULL: return cJSON_CreateNull();
    case V_BOOL: return cJSON_CreateBool(v->u.b);
    case V_INT: return raw_printf("%lld", (long long)v->u.i);
    case V_UINT: return raw_printf("%llu", (unsigned long long)v->u.u);
    case V_FLOAT:
        if (!isfinite(v->u.f))
            return cJSON_CreateNull();
        for (int prec = 15; prec <= 17; prec++) {
            char tmp[40];
            snprintf(tmp, sizeof tmp, "%.*g", prec, v->u.f);
            if (strtod(tmp, NULL) == v->u.f || prec == 17)
                return cJSON_CreateRaw(tmp);
        }
        return NULL;
    case V_STRING: return string_json(v->u.s.p, v->u.s.len);
    case V_BYTES: {
        buf b;
        buf_init(&b, 0);
        cJSON *j = b64_encode(v->u.s.p, v->u.s.len, &b) == 0 && buf_putc(&b, '\0') == 0
                       ? cJSON_CreateString((const char *)buf_data(&b))
                       : NULL;
        buf_done(&b);
        return j;
    }
    case V_LIST: {
        cJSON *a = cJSON_CreateArray();
        for (size_t i = 0; a && i < v->u.list.len; i++) {
            cJSON *c = jsonval_to_cjson(v->u.list.items[i]);
            if (!c) {
                cJSON_Delete(a);
                return NULL;
            }
            cJSON_AddItemToArray(a, c);
        }
        return a;
    }
    case V_MAP: {
        cJSON *o = cJSON_CreateObject();
        value_pair *sorted = malloc((v->u.map.len + 1) * sizeof *sorted);
        if (!o || !sorted) {
            cJSON_Delete(o);
            free(sorted);
            return NULL;
        }
        if (v->u.map.len)
            memcpy(sorted, v->u.map.items, v->u.map.len * sizeof *sorted);
        qsort(sorted, v->u.map.len, sizeof *sorted, key_cmp);
        for (size_t i = 0; i < v->u.map.len; i++) {
            char tmp[32];
            cJSON *c = jsonval_to_cjson(sorted[i].v);
            if (!c) {
                cJSON_Delete(o);
                o = NULL;
                break;
            }
            const value *k = sorted[i].k;
            if (k->kind == V_STRING && !esc_utf8_valid(k->u.s.p, k->u.s.len)) {
                buf fixed; /* a key is a string too: its invalid UTF-8 is replaced */
                buf_init(&fixed, 0);
                put_utf8(&fixed, k->u.s.p, k->u.s.len);
                buf_putc(&fixed, '\0');
                cJSON_AddItemToObject(o, buf_size(&fixed) ? (const char *)buf_data(&fixed) : "", c);
                buf_done(&fixed);
            } else {
                cJSON_AddItemToObject(o, key_text(k, tmp, sizeof tmp), c);
            }
        }
        free(sorted);
        return o;
    }
    case V_STRUCT: {
        cJSON *o = cJSON_CreateObject();
        for (size_t i = 0; o && i < v->u.st.len; i++) {
            cJSON *c = jsonval_to_cjson(v->u.st.fields[i].v);
            if (!c) {
                cJSON_Delete(o);
                return NULL;
            }
            cJSON_AddItemToObject(o, v->u.st.fields[i].name, c);
        }
        return o;
    }
    }
    return NULL;
}

int jsonval_write(const value *v, buf *out)
{
    cJSON *j = jsonval_to_cjson(v);
    if (!j)
        return -1;
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (!s)
        return -1;
    int r = buf_puts(out, s);
    free(s);
    return r;
}
