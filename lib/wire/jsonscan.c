/* jsonscan.c -- validating JSON tokenizer with stream boundaries, resumable byte by byte. */
#include "wire/jsonscan.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/i18n.h"

/* What the scanner expects next. */
enum {
    PH_TOP,    /* white space, then the value */
    PH_VALUE,  /* white space, then a value (its depth already checked) */
    PH_FIRST,  /* just after '{' or '[': the first member, or the end */
    PH_KEY,    /* white space, then an object key */
    PH_COLON,  /* white space, then ':' */
    PH_NEXT,   /* after a member: ',' or the end of the container */
    PH_STRING, /* inside a string (sub: 1 for a key) */
    PH_NUMBER, /* inside a number (sub: one of N_*) */
    PH_WORD,   /* inside true, false or null */
};

/* Where a number has got to: N_*0 states need a digit (or a sign) before it may end. */
enum { N_SIGN, N_INT0, N_INT, N_AFTER0, N_FRAC0, N_FRAC, N_EXP0, N_EXPS, N_EXP };

enum { MORE = 0, BAD = -1, OK = 1 };

typedef struct scanner {
    jsonscan_state *st;
    const char *p;
    size_t n;
    int flags;
    jtok_fn fn;
    void *ctx;
    char *err;
    size_t errlen;
} scanner;

static int fail(scanner *s, const char *what)
{
    if (s->err && s->errlen)
        snprintf(s->err, s->errlen, _("%s at byte %zu"), _(what), s->st->i);
    return BAD;
}

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static void skip_ws(scanner *s)
{
    while (s->st->i < s->n && is_ws(s->p[s->st->i]))
        s->st->i++;
}

static int emit(scanner *s, jtok_type t, size_t off, int depth)
{
    if (!s->fn)
        return OK;
    jtok tok = {t, off, s->st->i - off, depth};
    if (s->fn(&tok, s->ctx))
        return fail(s, N_("scan stopped"));
    return OK;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* A value of depth `depth` is about to be scanned. */
static int enter_value(scanner *s, int depth)
{
    if (depth >= JSONSCAN_MAX_DEPTH)
        return fail(s, N_("nested too deeply"));
    s->st->phase = PH_VALUE;
    return OK;
}

/* A value has ended: the whole text when no container is open. */
static void value_done(scanner *s) { s->st->phase = s->st->depth == 0 ? -1 : PH_NEXT; }

/* Scans on from the opening quote's successor until the closing quote. */
static int scan_string(scanner *s)
{
    jsonscan_state *st = s->st;
    while (st->i < s->n) {
        unsigned char c = (unsigned char)s->p[st->i];
        if (c == '"') {
            st->i++;
            return OK;
        }
        if (c < 0x20)
            return fail(s, N_("control character inside a string"));
        if (c == '\\') {
            if (st->i + 1 >= s->n)
                return MORE;
            char e = s->p[st->i + 1];
            if (e == 'u') {
                for (size_t k = 2; k < 6; k++) {
                    if (st->i + k >= s->n)
                        return MORE;
                    if (hexval(s->p[st->i + k]) < 0)
                        return fail(s, N_("bad \\u escape in a string"));
                }
                st->i += 6;
                continue;
            }
            if (!strchr("\"\\/bfnrt", e) || e == '\0')
                return fail(s, N_("bad escape in a string"));
            st->i += 2;
            continue;
        }
        st->i++;
    }
    return MORE;
}

/* Steps a number on by one byte c; returns 1 when c was taken, 0 when the number ended
 * before c, -1 (with err) when c cannot follow. */
static int number_step(scanner *s, char c)
{
    jsonscan_state *st = s->st;
    switch (st->sub) {
    case N_SIGN:
        if (c == '-') {
            st->sub = N_INT0;
            return 1;
        }
        /* fall through */
    case N_INT0:
        if (!is_digit(c))
            return fail(s, N_("bad number"));
        st->sub = c == '0' ? N_AFTER0 : N_INT;
        return 1;
    case N_INT:
        if (is_digit(c))
            return 1;
        /* fall through */
    case N_AFTER0:
        if (c == '.')
            st->sub = N_FRAC0;
        else if (c == 'e' || c == 'E')
            st->sub = N_EXP0;
        else
            return 0;
        return 1;
    case N_FRAC0:
        if (!is_digit(c))
            return fail(s, N_("bad number: digits must follow '.'"));
        st->sub = N_FRAC;
        return 1;
    case N_FRAC:
        if (is_digit(c))
            return 1;
        if (c == 'e' || c == 'E') {
            st->sub = N_EXP0;
            return 1;
        }
        return 0;
    case N_EXP0:
        if (c == '+' || c == '-') {
            st->sub = N_EXPS;
            return 1;
        }
        /* fall through */
    case N_EXPS:
        if (!is_digit(c))
            return fail(s, N_("bad number exponent"));
        st->sub = N_EXP;
        return 1;
    default: /* N_EXP */
        return is_digit(c) ? 1 : 0;
    }
}

/* A number is complete only when a byte that cannot continue it follows. */
static int scan_number(scanner *s)
{
    jsonscan_state *st = s->st;
    while (st->i < s->n) {
        int r = number_step(s, s->p[st->i]);
        if (r < 0)
            return BAD;
        if (r == 0)
            return OK;
        st->i++;
    }
    bool may_end = st->sub == N_INT || st->sub == N_AFTER0 || st->sub == N_FRAC || st->sub == N_EXP;
    return may_end && (s->flags & JSONSCAN_FINAL) ? OK : MORE;
}

/* true, false or null, from its first byte; a cut word is looked at again next time. */
static int scan_word(scanner *s)
{
    jsonscan_state *st = s->st;
    char c = s->p[st->tok];
    const char *w = c == 't' ? "true" : c == 'f' ? "false" : "null";
    size_t len = strlen(w);
    for (size_t k = 0; k < len; k++) {
        if (st->tok + k >= s->n) {
            st->i = st->tok;
            return MORE;
        }
        if (s->p[st->tok + k] != w[k]) {
            st->i = st->tok + k;
            return fail(s, N_("unexpected character"));
        }
    }
    st->i = st->tok + len;
    return emit(s, c == 't' ? JT_TRUE : c == 'f' ? JT_FALSE : JT_NULL, st->tok, st->depth);
}

/* The first byte of a value, at st->i (white space skipped, a byte there). */
static int begin_value(scanner *s)
{
    jsonscan_state *st = s->st;
    char c = s->p[st->i];
    st->tok = st->i;
    if (c == '{' || c == '[') {
        st->i++;
        int r = emit(s, c == '{' ? JT_OBJ_BEGIN : JT_ARR_BEGIN, st->tok, st->depth);
        st->obj[st->depth++] = c == '{';
        st->phase = PH_FIRST;
        return r;
    }
    if (c == '"') {
        st->i++;
        st->phase = PH_STRING;
        st->sub = 0;
    } else if (c == 't' || c == 'f' || c == 'n') {
        st->phase = PH_WORD;
    } else if (c == '-' || is_digit(c)) {
        st->phase = PH_NUMBER;
        st->sub = N_SIGN;
    } else {
        return fail(s, N_("unexpected character"));
    }
    return OK;
}

/* The end of the innermost container, at st->i. */
static int end_container(scanner *s)
{
    jsonscan_state *st = s->st;
    st->i++;
    st->depth--;
    value_done(s);
    return emit(s, st->obj[st->depth] ? JT_OBJ_END : JT_ARR_END, st->i - 1, st->depth);
}

/* One step of the scanner: moves on by a token or a piece of one. */
static int step(scanner *s)
{
    jsonscan_state *st = s->st;
    int r;
    switch (st->phase) {
    case PH_TOP:
    case PH_VALUE:
        skip_ws(s);
        if (st->i >= s->n)
            return MORE;
        if (st->phase == PH_TOP)
            st->start = st->i;
        return begin_value(s);
    case PH_FIRST:
        skip_ws(s);
        if (st->i >= s->n)
            return MORE;
        if (s->p[st->i] == (st->obj[st->depth - 1] ? '}' : ']'))
            return end_container(s);
        if (st->obj[st->depth - 1]) {
            st->phase = PH_KEY;
            return OK;
        }
        return enter_value(s, st->depth);
    case PH_KEY:
        skip_ws(s);
        if (st->i >= s->n)
            return MORE;
        if (s->p[st->i] != '"')
            return fail(s, N_("expected a \"key\" in an object"));
        st->tok = st->i++;
        st->phase = PH_STRING;
        st->sub = 1;
        return OK;
    case PH_COLON:
        skip_ws(s);
        if (st->i >= s->n)
            return MORE;
        if (s->p[st->i] != ':')
            return fail(s, N_("expected ':' after an object key"));
        st->i++;
        return enter_value(s, st->depth);
    case PH_NEXT: {
        skip_ws(s);
        if (st->i >= s->n)
            return MORE;
        bool obj = st->obj[st->depth - 1];
        char d = s->p[st->i];
        if (d == ',') {
            st->i++;
            if (obj) {
                st->phase = PH_KEY;
                return OK;
            }
            return enter_value(s, st->depth);
        }
        if (d == (obj ? '}' : ']'))
            return end_container(s);
        return fail(s, obj ? N_("expected ',' or '}' in an object") : N_("expected ',' or ']' in an array"));
    }
    case PH_STRING:
        if ((r = scan_string(s)) != OK)
            return r;
        if (st->sub == 1) {
            st->phase = PH_COLON;
            return emit(s, JT_KEY, st->tok, st->depth);
        }
        value_done(s);
        return emit(s, JT_STRING, st->tok, st->depth);
    case PH_NUMBER:
        if ((r = scan_number(s)) != OK)
            return r;
        value_done(s);
        return emit(s, JT_NUMBER, st->tok, st->depth);
    default: /* PH_WORD */
        if ((r = scan_word(s)) != OK)
            return r;
        value_done(s);
        return OK;
    }
}

void jsonscan_init(jsonscan_state *st) { memset(st, 0, sizeof *st); }

int jsonscan_resume(jsonscan_state *st, const char *p, size_t n, int flags, size_t *start,
                    size_t *end, jtok_fn fn, void *ctx, char *err, size_t errlen)
{
    scanner s = {st, p, n, flags, fn, ctx, err, errlen};
    if (st->i > n) /* not the stream the state was made on: start again */
        jsonscan_init(st);
    size_t from = st->phase == PH_WORD ? st->tok : st->i;
    int r = OK;
    while (r == OK && st->phase >= 0)
        r = step(&s);
    if (r == MORE && (flags & JSONSCAN_FINAL)) {
        bool none = st->phase == PH_TOP;
        st->i = n; /* a value ran out of input, or there was none */
        r = fail(&s, none ? N_("no JSON value") : N_("unexpected end of input"));
    }
    st->examined += (r == MORE ? n : st->i) - from;
    if (start)
        *start = st->phase == PH_TOP ? st->i : st->start;
    if (end)
        *end = st->i;
    return r;
}

int jsonscan(const char *p, size_t n, int flags, size_t *start, size_t *end, jtok_fn fn,
             void *ctx, char *err, size_t errlen)
{
    jsonscan_state st;
    jsonscan_init(&st);
    return jsonscan_resume(&st, p, n, flags, start, end, fn, ctx, err, errlen);
}
