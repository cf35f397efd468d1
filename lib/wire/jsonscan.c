/* jsonscan.c -- validating JSON tokenizer with stream boundaries. */
#include "wire/jsonscan.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

typedef struct scanner {
    const char *p;
    size_t n, i;
    int flags;
    jtok_fn fn;
    void *ctx;
    char *err;
    size_t errlen;
    int stopped;
} scanner;

enum { MORE = 0, BAD = -1, OK = 1 };

static int fail(scanner *s, const char *what)
{
    if (s->err && s->errlen)
        snprintf(s->err, s->errlen, "%s at byte %zu", what, s->i);
    return BAD;
}

static void skip_ws(scanner *s)
{
    while (s->i < s->n && (s->p[s->i] == ' ' || s->p[s->i] == '\t' || s->p[s->i] == '\n' ||
                           s->p[s->i] == '\r'))
        s->i++;
}

static int emit(scanner *s, jtok_type t, size_t off, int depth)
{
    if (!s->fn)
        return OK;
    jtok tok = {t, off, s->i - off, depth};
    if (s->fn(&tok, s->ctx)) {
        s->stopped = 1;
        return fail(s, "scan stopped");
    }
    return OK;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int scan_string(scanner *s)
{
    s->i++; /* opening quote */
    while (s->i < s->n) {
        unsigned char c = (unsigned char)s->p[s->i];
        if (c == '"') {
            s->i++;
            return OK;
        }
        if (c < 0x20)
            return fail(s, "control character inside a string");
        if (c == '\\') {
            if (s->i + 1 >= s->n)
                return MORE;
            char e = s->p[s->i + 1];
            if (e == 'u') {
                for (size_t k = 2; k < 6; k++) {
                    if (s->i + k >= s->n)
                        return MORE;
                    if (hexval(s->p[s->i + k]) < 0)
                        return fail(s, "bad \\u escape in a string");
                }
                s->i += 6;
                continue;
            }
            if (!strchr("\"\\/bfnrt", e) || e == '\0')
                return fail(s, "bad escape in a string");
            s->i += 2;
            continue;
        }
        s->i++;
    }
    return MORE;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* A number is complete only when a byte that cannot continue it follows. */
static int scan_number(scanner *s)
{
    size_t i = s->i;
    if (i < s->n && s->p[i] == '-')
        i++;
    if (i >= s->n)
        return MORE;
    if (s->p[i] == '0') {
        i++;
    } else if (is_digit(s->p[i])) {
        while (i < s->n && is_digit(s->p[i]))
            i++;
    } else {
        s->i = i;
        return fail(s, "bad number");
    }
    if (i < s->n && s->p[i] == '.') {
        i++;
        if (i >= s->n)
            return MORE;
        if (!is_digit(s->p[i])) {
            s->i = i;
            return fail(s, "bad number: digits must follow '.'");
        }
        while (i < s->n && is_digit(s->p[i]))
            i++;
    }
    if (i < s->n && (s->p[i] == 'e' || s->p[i] == 'E')) {
        i++;
        if (i < s->n && (s->p[i] == '+' || s->p[i] == '-'))
            i++;
        if (i >= s->n)
            return MORE;
        if (!is_digit(s->p[i])) {
            s->i = i;
            return fail(s, "bad number exponent");
        }
        while (i < s->n && is_digit(s->p[i]))
            i++;
    }
    if (i >= s->n && !(s->flags & JSONSCAN_FINAL))
        return MORE;
    s->i = i;
    return OK;
}

static int scan_word(scanner *s, const char *w)
{
    size_t len = strlen(w);
    for (size_t k = 0; k < len; k++) {
        if (s->i + k >= s->n)
            return MORE;
        if (s->p[s->i + k] != w[k]) {
            s->i += k;
            return fail(s, "unexpected character");
        }
    }
    s->i += len;
    return OK;
}

static int scan_value(scanner *s, int depth)
{
    if (depth >= JSONSCAN_MAX_DEPTH)
        return fail(s, "nested too deeply");
    skip_ws(s);
    if (s->i >= s->n)
        return MORE;
    size_t off = s->i;
    int r;
    char c = s->p[s->i];
    switch (c) {
    case '{':
    case '[': {
        bool obj = c == '{';
        s->i++;
        if ((r = emit(s, obj ? JT_OBJ_BEGIN : JT_ARR_BEGIN, off, depth)) != OK)
            return r;
        skip_ws(s);
        if (s->i >= s->n)
            return MORE;
        if (s->p[s->i] == (obj ? '}' : ']')) {
            s->i++;
            return emit(s, obj ? JT_OBJ_END : JT_ARR_END, s->i - 1, depth);
        }
        for (;;) {
            if (obj) {
                skip_ws(s);
                if (s->i >= s->n)
                    return MORE;
                if (s->p[s->i] != '"')
                    return fail(s, "expected a \"key\" in an object");
                size_t koff = s->i;
                if ((r = scan_string(s)) != OK || (r = emit(s, JT_KEY, koff, depth + 1)) != OK)
                    return r;
                skip_ws(s);
                if (s->i >= s->n)
                    return MORE;
                if (s->p[s->i] != ':')
                    return fail(s, "expected ':' after an object key");
                s->i++;
            }
            if ((r = scan_value(s, depth + 1)) != OK)
                return r;
            skip_ws(s);
            if (s->i >= s->n)
                return MORE;
            char d = s->p[s->i];
            if (d == ',') {
                s->i++;
                continue;
            }
            if (d == (obj ? '}' : ']')) {
                s->i++;
                return emit(s, obj ? JT_OBJ_END : JT_ARR_END, s->i - 1, depth);
            }
            return fail(s, obj ? "expected ',' or '}' in an object" : "expected ',' or ']' in an array");
        }
    }
    case '"':
        if ((r = scan_string(s)) != OK)
            return r;
        return emit(s, JT_STRING, off, depth);
    case 't':
        if ((r = scan_word(s, "true")) != OK)
            return r;
        return emit(s, JT_TRUE, off, depth);
    case 'f':
        if ((r = scan_word(s, "false")) != OK)
            return r;
        return emit(s, JT_FALSE, off, depth);
    case 'n':
        if ((r = scan_word(s, "null")) != OK)
            return r;
        return emit(s, JT_NULL, off, depth);
    default:
        if (c == '-' || is_digit(c)) {
            if ((r = scan_number(s)) != OK)
                return r;
            return emit(s, JT_NUMBER, off, depth);
        }
        return fail(s, "unexpected character");
    }
}

int jsonscan(const char *p, size_t n, int flags, size_t *start, size_t *end, jtok_fn fn,
             void *ctx, char *err, size_t errlen)
{
    scanner s = {p, n, 0, flags, fn, ctx, err, errlen, 0};
    skip_ws(&s);
    size_t first = s.i;
    if (start)
        *start = first;
    int r = scan_value(&s, 0);
    if (r == MORE && (flags & JSONSCAN_FINAL)) {
        s.i = n; /* a value ran out of input, or there was none */
        r = fail(&s, n > first ? "unexpected end of input" : "no JSON value");
    }
    if (end)
        *end = s.i;
    return r;
}
