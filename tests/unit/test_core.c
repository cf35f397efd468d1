/* test_core.c -- unit tests for buf, value, vtype and explain. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "value/value.h"
#include "value/vtype.h"
#include "wire/explain.h"

/* ---- helpers ---- */

/* Under AddressSanitizer an allocation of half the address space must fail as it does
 * without it (returning NULL), not abort the test. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }

static bool buf_is(const buf *b, const char *s)
{
    return buf_size(b) == strlen(s) && memcmp(buf_data(b), s, strlen(s)) == 0;
}

/* A map built from alternating C-string keys and values (values are taken). */
static value *map_of(int n, ...)
{
    va_list ap;
    va_start(ap, n);
    value *m = value_map();
    for (int i = 0; i < n; i++) {
        const char *k = va_arg(ap, const char *);
        value *v = va_arg(ap, value *);
        cr_assert_eq(value_map_put(m, value_cstring(k), v), 0);
    }
    va_end(ap);
    return m;
}

static value *list_of(int n, ...)
{
    va_list ap;
    va_start(ap, n);
    value *l = value_list();
    for (int i = 0; i < n; i++)
        cr_assert_eq(value_list_push(l, va_arg(ap, value *)), 0);
    va_end(ap);
    return l;
}

static const vtype_field args_fields[] = {{"A", &vtype_int}, {"B", &vtype_int}};
static const vtype args_t = {.kind = T_STRUCT, .name = "Args", .fields = args_fields, .nfields = 2};

/* ======================= buf ======================= */

Test(buf, append_up_to_the_cap_then_refuse)
{
    buf b;
    buf_init(&b, 10);
    cr_assert_eq(buf_append(&b, "0123456789", 10), 0);
    cr_assert_eq(buf_putc(&b, 'x'), -1);
    cr_assert_eq(buf_append(&b, "x", 1), -1);
    cr_assert(buf_is(&b, "0123456789"), "contents must be unchanged after a refused append");
    buf_done(&b);
}

Test(buf, refused_append_appends_nothing)
{
    buf b;
    buf_init(&b, 10);
    cr_assert_eq(buf_puts(&b, "abcdefgh"), 0);
    cr_assert_eq(buf_puts(&b, "xyz"), -1, "8 + 3 > 10 must be refused whole");
    cr_assert(buf_is(&b, "abcdefgh"));
    cr_assert_eq(buf_puts(&b, "xy"), 0);
    cr_assert(buf_is(&b, "abcdefghxy"));
    buf_done(&b);
}

Test(buf, printf_formats_and_respects_the_cap)
{
    buf b;
    buf_init(&b, 16);
    cr_assert_eq(buf_printf(&b, "%d-%s", 42, "ok"), 0);
    cr_assert(buf_is(&b, "42-ok"));
    cr_assert_eq(buf_printf(&b, "%s", "this is far too long"), -1);
    cr_assert(buf_is(&b, "42-ok"));
    buf_done(&b);
}

Test(buf, printf_may_fill_exactly_to_the_cap)
{
    /* the cap limits content; the NUL vsnprintf writes is not content */
    buf b;
    buf_init(&b, 5);
    cr_assert_eq(buf_printf(&b, "%s", "abcde"), 0);
    cr_assert(buf_is(&b, "abcde"));
    buf_done(&b);
    buf_init(&b, 8);
    cr_assert_eq(buf_puts(&b, "abc"), 0);
    cr_assert_eq(buf_printf(&b, "%d", 12345), 0);
    cr_assert(buf_is(&b, "abc12345"));
    cr_assert_eq(buf_printf(&b, "%d", 1), -1);
    buf_done(&b);
}

Test(buf, empty_output_on_a_fresh_buffer)
{
    buf b;
    buf_init(&b, 4);
    cr_assert_eq(buf_printf(&b, "%s", ""), 0);
    cr_assert_eq(buf_append(&b, "", 0), 0);
    cr_assert_eq(buf_size(&b), 0);
    char *s = buf_take(&b);
    cr_assert_str_eq(s, "");
    free(s);
    buf_done(&b);
}

Test(buf, reserve_checks_cap_against_live_bytes)
{
    buf b;
    buf_init(&b, 10);
    cr_assert_eq(buf_reserve(&b, 11), -1);
    cr_assert_eq(buf_reserve(&b, 10), 0);
    cr_assert_eq(buf_puts(&b, "0123456789"), 0);
    cr_assert_eq(buf_reserve(&b, 1), -1);
    buf_consume(&b, 4);
    cr_assert(buf_is(&b, "456789"));
    cr_assert_eq(buf_reserve(&b, 4), 0, "consumed bytes no longer count against the cap");
    cr_assert_eq(buf_reserve(&b, 5), -1);
    cr_assert_eq(buf_puts(&b, "abcd"), 0);
    cr_assert(buf_is(&b, "456789abcd"));
    cr_assert_leq(b.cap, 10, "storage never grows beyond the cap");
    buf_done(&b);
}

/* An allocation no machine grants (half the address space) is "out of memory", even on
 * a buffer with no cap; going past a cap is "too big". Either way the contents stay. */
Test(buf, reserve_tells_out_of_memory_from_over_the_cap)
{
    buf b;
    buf_init(&b, 0);
    cr_assert_eq(buf_puts(&b, "kept"), 0);
    cr_assert_eq(buf_reserve(&b, SIZE_MAX / 2), BUF_NO_MEMORY);
    cr_assert(buf_is(&b, "kept"));
    buf_done(&b);

    buf_init(&b, SIZE_MAX / 2 + 100);
    cr_assert_eq(buf_puts(&b, "kept"), 0);
    cr_assert_eq(buf_reserve(&b, SIZE_MAX / 2), BUF_NO_MEMORY, "within the cap, so not too big");
    cr_assert_eq(buf_reserve(&b, SIZE_MAX / 2 + 97), BUF_TOO_BIG);
    cr_assert(buf_is(&b, "kept"));
    buf_done(&b);

    buf_init(&b, 8);
    cr_assert_eq(buf_puts(&b, "kept"), 0);
    cr_assert_eq(buf_puts(&b, "12345"), BUF_TOO_BIG);
    cr_assert_eq(buf_printf(&b, "%s", "12345"), BUF_TOO_BIG);
    cr_assert(buf_is(&b, "kept"));
    buf_done(&b);
}

Test(buf, zero_max_means_unlimited)
{
    buf b;
    buf_init(&b, 0);
    cr_assert_eq(b.max, SIZE_MAX);
    char chunk[1000];
    memset(chunk, 'z', sizeof chunk);
    for (int i = 0; i < 300; i++)
        cr_assert_eq(buf_append(&b, chunk, sizeof chunk), 0);
    cr_assert_eq(buf_size(&b), 300000);
    cr_assert_eq(buf_data(&b)[299999], 'z');
    buf_done(&b);
}

Test(buf, consume_partial_and_all)
{
    buf b;
    buf_init(&b, 0);
    buf_puts(&b, "hello world");
    buf_consume(&b, 6);
    cr_assert(buf_is(&b, "world"));
    buf_consume(&b, 0);
    cr_assert(buf_is(&b, "world"));
    buf_consume(&b, 100);
    cr_assert_eq(buf_size(&b), 0);
    cr_assert_eq(b.off, 0);
    buf_puts(&b, "again");
    cr_assert(buf_is(&b, "again"));
    buf_done(&b);
}

Test(buf, consumed_space_is_reused_without_growing)
{
    buf b;
    buf_init(&b, 0);
    for (int i = 0; i < 1000; i++) {
        cr_assert_eq(buf_puts(&b, "0123456789"), 0);
        buf_consume(&b, 10);
    }
    cr_assert_leq(b.cap, 256);
    buf_puts(&b, "abc");
    buf_puts(&b, "def");
    buf_consume(&b, 2);
    cr_assert(buf_is(&b, "cdef"));
    buf_done(&b);
}

Test(buf, take_returns_the_bytes_and_empties)
{
    buf b;
    buf_init(&b, 0);
    buf_append(&b, "a\0b", 3);
    buf_consume(&b, 1);
    char *s = buf_take(&b);
    cr_assert_not_null(s);
    cr_assert_eq(memcmp(s, "\0b\0", 3), 0, "take copies embedded NULs and terminates");
    cr_assert_eq(buf_size(&b), 0);
    free(s);
    s = buf_take(&b);
    cr_assert_str_eq(s, "");
    free(s);
    buf_done(&b);
}

Test(buf, done_accepts_null_and_leaves_reusable)
{
    buf_done(NULL);
    buf b;
    buf_init(&b, 8);
    buf_puts(&b, "abc");
    buf_done(&b);
    cr_assert_eq(buf_size(&b), 0);
    cr_assert_null(b.p);
    cr_assert_eq(buf_puts(&b, "12345678"), 0);
    cr_assert_eq(buf_putc(&b, '9'), -1, "the cap survives buf_done");
    buf_done(&b);
}

Test(buf, clear_keeps_storage)
{
    buf b;
    buf_init(&b, 0);
    buf_puts(&b, "something");
    uint8_t *p = b.p;
    buf_clear(&b);
    cr_assert_eq(buf_size(&b), 0);
    cr_assert_eq(b.p, p);
    buf_done(&b);
}

/* ======================= value ======================= */

Test(value, scalar_constructors)
{
    value *v = value_null();
    cr_assert_eq(v->kind, V_NULL);
    value_free(v);
    v = value_bool(true);
    cr_assert_eq(v->kind, V_BOOL);
    cr_assert(v->u.b);
    value_free(v);
    v = value_int(INT64_MIN);
    cr_assert_eq(v->kind, V_INT);
    cr_assert_eq(v->u.i, INT64_MIN);
    value_free(v);
    v = value_uint(UINT64_MAX);
    cr_assert_eq(v->kind, V_UINT);
    cr_assert_eq(v->u.u, UINT64_MAX);
    value_free(v);
    v = value_float(-2.5);
    cr_assert_eq(v->kind, V_FLOAT);
    cr_assert_float_eq(v->u.f, -2.5, 0);
    value_free(v);
}

Test(value, strings_keep_length_and_are_terminated)
{
    value *v = value_string("a\0b", 3);
    cr_assert_eq(v->kind, V_STRING);
    cr_assert_eq(v->u.s.len, 3);
    cr_assert_eq(memcmp(v->u.s.p, "a\0b\0", 4), 0);
    value_free(v);
    v = value_cstring("李白");
    cr_assert_eq(v->u.s.len, 6);
    cr_assert_str_eq(v->u.s.p, "李白");
    value_free(v);
    v = value_bytes("\xff\x00\x01", 3);
    cr_assert_eq(v->kind, V_BYTES);
    cr_assert_eq(v->u.s.len, 3);
    cr_assert_eq((unsigned char)v->u.s.p[0], 0xff);
    cr_assert_eq(v->u.s.p[3], '\0');
    value_free(v);
    v = value_string(NULL, 0);
    cr_assert_eq(v->u.s.len, 0);
    cr_assert_str_eq(v->u.s.p, "");
    value_free(v);
}

Test(value, struct_name_is_copied_and_optional)
{
    char name[] = "Args";
    value *v = value_struct(name);
    name[0] = 'X';
    cr_assert_str_eq(v->u.st.name, "Args");
    value_free(v);
    v = value_struct(NULL);
    cr_assert_null(v->u.st.name);
    value_free(v);
}

Test(value, struct_set_appends_then_replaces)
{
    value *st = value_struct("Args");
    cr_assert_eq(value_struct_set(st, "A", value_int(1)), 0);
    cr_assert_eq(value_struct_set(st, "B", value_int(2)), 0);
    cr_assert_eq(value_struct_set(st, "A", value_int(7)), 0);
    cr_assert_eq(st->u.st.len, 2, "setting an existing field replaces it");
    cr_assert_str_eq(st->u.st.fields[0].name, "A");
    cr_assert_eq(st->u.st.fields[0].v->u.i, 7);
    cr_assert_str_eq(st->u.st.fields[1].name, "B");
    cr_assert_eq(value_struct_set(st, "C", NULL), -1);
    cr_assert_eq(st->u.st.len, 2);
    value_free(st);
}

Test(value, adders_reject_null_items)
{
    value *l = value_list();
    cr_assert_eq(value_list_push(l, NULL), -1);
    cr_assert_eq(l->u.list.len, 0);
    value *m = value_map();
    cr_assert_eq(value_map_put(m, value_cstring("k"), NULL), -1, "the key is freed, no leak");
    cr_assert_eq(m->u.map.len, 0);
    value_free(l);
    value_free(m);
}

Test(value, list_and_map_keep_order)
{
    value *l = value_list();
    for (int i = 0; i < 100; i++)
        cr_assert_eq(value_list_push(l, value_int(i)), 0);
    cr_assert_eq(l->u.list.len, 100);
    for (int i = 0; i < 100; i++)
        cr_assert_eq(l->u.list.items[i]->u.i, i);
    value *m = map_of(3, "z", value_int(1), "a", value_int(2), "m", value_int(3));
    cr_assert_str_eq(m->u.map.items[0].k->u.s.p, "z");
    cr_assert_str_eq(m->u.map.items[2].k->u.s.p, "m");
    value_free(l);
    value_free(m);
}

Test(value, get_and_get_fold)
{
    value *st = value_struct("T");
    value_struct_set(st, "name", value_int(1));
    value_struct_set(st, "Name", value_int(2));
    cr_assert_eq(value_get(st, "Name")->u.i, 2);
    cr_assert_null(value_get(st, "NAME"));
    cr_assert_eq(value_get_fold(st, "Name")->u.i, 2, "an exact match wins");
    cr_assert_eq(value_get_fold(st, "name")->u.i, 1);
    cr_assert_eq(value_get_fold(st, "NAME")->u.i, 1, "otherwise the first case-insensitive match");
    cr_assert_null(value_get_fold(st, "nam"));
    value_free(st);

    value *m = value_map();
    value_map_put(m, value_int(5), value_cstring("not a string key"));
    value_map_put(m, value_cstring("Key"), value_cstring("v"));
    cr_assert_str_eq(value_get_fold(m, "kEY")->u.s.p, "v");
    cr_assert_null(value_get(m, "5"));
    value_free(m);

    value *i = value_int(3);
    cr_assert_null(value_get(i, "x"));
    cr_assert_null(value_get_fold(NULL, "x"));
    value_free(i);
}

static value *sample_tree(void)
{
    value *st = value_struct("Outer");
    value_struct_set(st, "S", value_string("x\0y", 3));
    value_struct_set(st, "L", list_of(3, value_int(-1), value_uint(UINT64_MAX), value_float(0.5)));
    value_struct_set(st, "M", map_of(2, "k", value_bytes("\x00\x01", 2), "n", value_null()));
    value_struct_set(st, "B", value_bool(false));
    return st;
}

Test(value, clone_is_deep_and_equal)
{
    value *a = sample_tree();
    value *c = value_clone(a);
    cr_assert(value_equal(a, c));
    cr_assert_neq(c, a);
    cr_assert_neq(c->u.st.fields[0].v->u.s.p, a->u.st.fields[0].v->u.s.p);
    cr_assert_str_eq(c->u.st.name, "Outer");
    value_free(a);
    /* the clone survives the original */
    cr_assert_eq(c->u.st.fields[0].v->u.s.len, 3);
    cr_assert_eq(memcmp(c->u.st.fields[0].v->u.s.p, "x\0y", 3), 0);
    cr_assert_eq(value_get(c, "L")->u.list.items[1]->u.u, UINT64_MAX);
    value_free(c);
    cr_assert_null(value_clone(NULL));
}

Test(value, equal_distinguishes)
{
    value *a = value_int(1), *b = value_uint(1);
    cr_assert_not(value_equal(a, b), "int and uint are different kinds");
    value_free(a);
    value_free(b);

    a = value_string("ab", 2);
    b = value_bytes("ab", 2);
    cr_assert_not(value_equal(a, b));
    value_free(b);
    b = value_string("ab\0", 3);
    cr_assert_not(value_equal(a, b), "lengths differ");
    value_free(a);
    value_free(b);

    a = sample_tree();
    b = sample_tree();
    cr_assert(value_equal(a, b));
    value_struct_set(b, "B", value_bool(true));
    cr_assert_not(value_equal(a, b));
    value_free(b);

    b = value_clone(a);
    free(b->u.st.name);
    b->u.st.name = NULL;
    cr_assert(value_equal(a, b), "struct names are ignored");
    value_free(b);
    value_free(a);

    a = map_of(2, "a", value_int(1), "b", value_int(2));
    b = map_of(2, "b", value_int(2), "a", value_int(1));
    cr_assert_not(value_equal(a, b), "maps compare in order");
    value_free(a);
    value_free(b);

    cr_assert(value_equal(NULL, NULL));
    a = value_null();
    cr_assert_not(value_equal(a, NULL));
    value_free(a);
    value_free(NULL);
}

Test(value, kind_names)
{
    cr_assert_str_eq(value_kind_name(V_INT), "int");
    cr_assert_str_eq(value_kind_name(V_STRING), "string");
    cr_assert_str_eq(value_kind_name(V_STRUCT), "object");
    cr_assert_str_eq(value_kind_name((value_kind)99), "?");
}

/* ======================= vtype ======================= */

static value *coerce_ok(const vtype *t, value *v)
{
    char err[256] = "";
    value *r = vtype_coerce(t, v, err, sizeof err);
    cr_assert_not_null(r, "coerce failed: %s", err);
    value_free(v);
    return r;
}

/* Coerces and expects failure; returns the error text (static). */
static const char *coerce_err(const vtype *t, value *v)
{
    static char err[256];
    err[0] = '\0';
    value *r = vtype_coerce(t, v, err, sizeof err);
    cr_assert_null(r, "coerce should fail");
    cr_assert_neq(err[0], '\0', "an error must be given");
    value_free(v);
    return err;
}

Test(vtype, int_from_int_and_uint_in_range)
{
    value *r = coerce_ok(&vtype_int, value_int(-5));
    cr_assert_eq(r->kind, V_INT);
    cr_assert_eq(r->u.i, -5);
    value_free(r);
    r = coerce_ok(&vtype_int, value_uint((uint64_t)INT64_MAX));
    cr_assert_eq(r->kind, V_INT);
    cr_assert_eq(r->u.i, INT64_MAX);
    value_free(r);
}

Test(vtype, int_overflow_is_an_error)
{
    const char *e = coerce_err(&vtype_int, value_uint((uint64_t)INT64_MAX + 1));
    cr_assert(strstr(e, "9223372036854775808") && strstr(e, "overflows int"), "%s", e);
}

Test(vtype, uint_rules)
{
    value *r = coerce_ok(&vtype_uint, value_int(7));
    cr_assert_eq(r->kind, V_UINT);
    cr_assert_eq(r->u.u, 7);
    value_free(r);
    r = coerce_ok(&vtype_uint, value_uint(UINT64_MAX));
    cr_assert_eq(r->u.u, UINT64_MAX);
    value_free(r);
    const char *e = coerce_err(&vtype_uint, value_int(-1));
    cr_assert(strstr(e, "-1"), "%s", e);
}

Test(vtype, float_from_numbers_but_not_int_from_float)
{
    value *r = coerce_ok(&vtype_float, value_int(3));
    cr_assert_eq(r->kind, V_FLOAT);
    cr_assert_float_eq(r->u.f, 3.0, 0);
    value_free(r);
    r = coerce_ok(&vtype_float, value_uint(UINT64_MAX));
    cr_assert_float_eq(r->u.f, 18446744073709551615.0, 1);
    value_free(r);
    /* Go: json: cannot unmarshal number 3.0 into ... of type int */
    const char *e = coerce_err(&vtype_int, value_float(3.0));
    cr_assert_str_eq(e, "want int, got number 3");
}

Test(vtype, type_mismatches)
{
    cr_assert_str_eq(coerce_err(&vtype_string, value_int(1)), "want string, got number 1");
    cr_assert_str_eq(coerce_err(&vtype_int, value_cstring("12")), "want int, got string \"12\"");
    cr_assert_str_eq(coerce_err(&vtype_bool, value_int(0)), "want bool, got number 0");
    cr_assert_str_eq(coerce_err(&args_t, value_cstring("x")), "want Args, got string \"x\"");
    cr_assert_str_eq(coerce_err(&vtype_int, value_list()), "want int, got list");
}

Test(vtype, struct_from_map_folds_names_zeroes_missing_ignores_unknown)
{
    value *m = map_of(3, "extra", value_cstring("ignored"), "b", value_int(3), "a", value_int(2));
    value *r = coerce_ok(&args_t, m);
    cr_assert_eq(r->kind, V_STRUCT);
    cr_assert_str_eq(r->u.st.name, "Args");
    cr_assert_eq(r->u.st.len, 2, "exactly the declared fields");
    cr_assert_str_eq(r->u.st.fields[0].name, "A");
    cr_assert_eq(r->u.st.fields[0].v->u.i, 2);
    cr_assert_str_eq(r->u.st.fields[1].name, "B");
    cr_assert_eq(r->u.st.fields[1].v->u.i, 3);
    value_free(r);

    r = coerce_ok(&args_t, map_of(1, "B", value_int(9)));
    cr_assert_eq(value_get(r, "A")->kind, V_INT);
    cr_assert_eq(value_get(r, "A")->u.i, 0, "a missing field is zero");
    cr_assert_eq(value_get(r, "B")->u.i, 9);
    value_free(r);

    r = coerce_ok(&args_t, value_map());
    cr_assert_eq(value_get(r, "A")->u.i, 0);
    cr_assert_eq(value_get(r, "B")->u.i, 0);
    value_free(r);
}

Test(vtype, struct_duplicate_keys_last_one_wins_like_go)
{
    /* Go: {"A":1,"a":2}, {"a":1,"A":2} and {"A":1,"A":2} all give A=2. */
    value *r = coerce_ok(&args_t, map_of(2, "A", value_int(1), "a", value_int(2)));
    cr_assert_eq(value_get(r, "A")->u.i, 2);
    value_free(r);
    r = coerce_ok(&args_t, map_of(2, "a", value_int(1), "A", value_int(2)));
    cr_assert_eq(value_get(r, "A")->u.i, 2);
    value_free(r);
    r = coerce_ok(&args_t, map_of(2, "A", value_int(1), "A", value_int(2)));
    cr_assert_eq(value_get(r, "A")->u.i, 2);
    value_free(r);
}

Test(vtype, struct_from_struct_by_name)
{
    value *s = value_struct("Other");
    value_struct_set(s, "B", value_int(4));
    value_struct_set(s, "A", value_uint(5));
    value *r = coerce_ok(&args_t, s);
    cr_assert_str_eq(r->u.st.name, "Args");
    cr_assert_eq(r->u.st.fields[0].v->u.i, 5);
    cr_assert_eq(r->u.st.fields[0].v->kind, V_INT);
    cr_assert_eq(r->u.st.fields[1].v->u.i, 4);
    value_free(r);
}

Test(vtype, struct_with_non_string_keys_is_rejected)
{
    value *m = value_map();
    value_map_put(m, value_int(1), value_int(2));
    const char *e = coerce_err(&args_t, m);
    cr_assert(strstr(e, "want Args"), "%s", e);
}

Test(vtype, error_names_the_field_path)
{
    const char *e = coerce_err(&args_t, map_of(2, "A", value_int(1), "B", value_cstring("x")));
    cr_assert_str_eq(e, "field B: want int, got string \"x\"");

    static const vtype_field inner_f[] = {{"X", &vtype_int}};
    static const vtype inner = {.kind = T_STRUCT, .name = "Inner", .fields = inner_f, .nfields = 1};
    static const vtype list_inner = {.kind = T_SLICE, .elem = &inner};
    static const vtype_field outer_f[] = {{"In", &inner}, {"L", &list_inner}};
    static const vtype outer = {.kind = T_STRUCT, .name = "Outer", .fields = outer_f, .nfields = 2};

    e = coerce_err(&outer, map_of(1, "in", map_of(1, "x", value_bool(true))));
    cr_assert_str_eq(e, "field In.X: want int, got true");
    e = coerce_err(&outer, map_of(1, "L", list_of(2, map_of(1, "X", value_int(1)),
                                                  map_of(1, "X", value_float(1.5)))));
    cr_assert_str_eq(e, "field L[1].X: want int, got number 1.5");
    e = coerce_err(&args_t, map_of(1, "A", value_uint(UINT64_MAX)));
    cr_assert_str_eq(e, "field A: 18446744073709551615 overflows int");
}

Test(vtype, long_strings_are_shortened_in_errors)
{
    const char *e = coerce_err(&vtype_int, value_cstring("abcdefghijklmnopqrstuvwxyz0123456789"));
    cr_assert_str_eq(e, "want int, got string \"abcdefghijklmnopqrstuvwx\"...");
}

Test(vtype, null_gives_the_zero_value)
{
    value *r = coerce_ok(&args_t, value_null());
    cr_assert_eq(r->kind, V_STRUCT);
    cr_assert_eq(value_get(r, "B")->u.i, 0);
    value_free(r);
    r = coerce_ok(&vtype_string, value_null());
    cr_assert_eq(r->kind, V_STRING);
    cr_assert_eq(r->u.s.len, 0);
    value_free(r);
    r = coerce_ok(&args_t, map_of(1, "A", value_null()));
    cr_assert_eq(value_get(r, "A")->kind, V_INT);
    value_free(r);
}

Test(vtype, any_copies_as_is)
{
    value *v = sample_tree();
    value *r = vtype_coerce(&vtype_any, v, NULL, 0);
    cr_assert(value_equal(r, v));
    cr_assert_neq(r, v);
    value_free(r);
    value_free(v);
}

Test(vtype, slices_arrays_and_maps)
{
    static const vtype ints = {.kind = T_SLICE, .elem = &vtype_int};
    static const vtype arr3 = {.kind = T_ARRAY, .elem = &vtype_string, .len = 3};
    static const vtype msi = {.kind = T_MAP, .key = &vtype_string, .elem = &vtype_int};
    static const vtype mis = {.kind = T_MAP, .key = &vtype_int, .elem = &vtype_string};
    static const vtype mus = {.kind = T_MAP, .key = &vtype_uint, .elem = &vtype_string};

    value *r = coerce_ok(&ints, list_of(3, value_int(1), value_uint(2), value_int(-3)));
    cr_assert_eq(r->u.list.len, 3);
    cr_assert_eq(r->u.list.items[1]->kind, V_INT);
    cr_assert_eq(r->u.list.items[2]->u.i, -3);
    value_free(r);

    r = coerce_ok(&arr3, list_of(1, value_cstring("a")));
    cr_assert_eq(r->u.list.len, 3, "an array always has its length");
    cr_assert_str_eq(r->u.list.items[0]->u.s.p, "a");
    cr_assert_eq(r->u.list.items[2]->kind, V_STRING);
    cr_assert_eq(r->u.list.items[2]->u.s.len, 0);
    value_free(r);

    /* Go's encoding/json drops the items a fixed array has no room for */
    r = coerce_ok(&arr3, list_of(4, value_cstring("a"), value_cstring("b"), value_cstring("c"),
                                 value_cstring("d")));
    cr_assert_eq(r->u.list.len, 3);
    cr_assert_str_eq(r->u.list.items[2]->u.s.p, "c");
    value_free(r);

    const char *e = coerce_err(&ints, list_of(2, value_int(1), value_cstring("2")));
    cr_assert_str_eq(e, "[1]: want int, got string \"2\"");

    r = coerce_ok(&msi, map_of(2, "x", value_int(1), "y", value_uint(2)));
    cr_assert_eq(r->u.map.len, 2);
    cr_assert_eq(value_get(r, "y")->kind, V_INT);
    value_free(r);

    r = coerce_ok(&mis, map_of(2, "10", value_cstring("a"), "-9", value_cstring("b")));
    cr_assert_eq(r->u.map.items[0].k->kind, V_INT);
    cr_assert_eq(r->u.map.items[0].k->u.i, 10);
    cr_assert_eq(r->u.map.items[1].k->u.i, -9);
    value_free(r);

    e = coerce_err(&mis, map_of(1, "ten", value_cstring("a")));
    cr_assert(strstr(e, "\"ten\" is not an integer"), "%s", e);
    e = coerce_err(&mus, map_of(1, "-1", value_cstring("a")));
    cr_assert(strstr(e, "not an integer"), "%s", e);
    /* digits only, as Go's strconv reads them */
    coerce_err(&mis, map_of(1, " 5", value_cstring("a")));
    coerce_err(&mis, map_of(1, "+5", value_cstring("a")));
    coerce_err(&mis, map_of(1, "", value_cstring("a")));
    coerce_err(&mis, map_of(1, "-", value_cstring("a")));
    coerce_err(&mis, map_of(1, "9223372036854775808", value_cstring("a")));

    /* Go accepts the whole uint64 range as map keys */
    r = coerce_ok(&mus, map_of(1, "18446744073709551615", value_cstring("max")));
    cr_assert_eq(r->u.map.items[0].k->kind, V_UINT);
    cr_assert_eq(r->u.map.items[0].k->u.u, UINT64_MAX);
    value_free(r);

    cr_assert_str_eq(coerce_err(&ints, value_map()), "want []int, got map");
}

Test(vtype, bytes_from_base64_as_go_decodes_it)
{
    value *r = coerce_ok(&vtype_bytes, value_cstring("aGk="));
    cr_assert_eq(r->kind, V_BYTES);
    cr_assert_eq(r->u.s.len, 2);
    cr_assert_eq(memcmp(r->u.s.p, "hi", 2), 0);
    value_free(r);
    r = coerce_ok(&vtype_bytes, value_cstring("+/8="));
    cr_assert_eq(r->u.s.len, 2);
    cr_assert_eq((unsigned char)r->u.s.p[0], 0xfb);
    cr_assert_eq((unsigned char)r->u.s.p[1], 0xff);
    value_free(r);
    r = coerce_ok(&vtype_bytes, value_cstring(""));
    cr_assert_eq(r->u.s.len, 0);
    value_free(r);
    r = coerce_ok(&vtype_bytes, value_cstring("aG\nk="));
    cr_assert_eq(r->u.s.len, 2, "Go's decoder skips newlines");
    value_free(r);
    r = coerce_ok(&vtype_bytes, value_bytes("\x00\x01", 2));
    cr_assert_eq(r->u.s.len, 2);
    value_free(r);

    /* Go's encoding/json uses base64.StdEncoding: padding required, no URL alphabet */
    cr_assert(strstr(coerce_err(&vtype_bytes, value_cstring("!!!!")), "base64"));
    coerce_err(&vtype_bytes, value_cstring("aGk"));
    coerce_err(&vtype_bytes, value_cstring("aGk=="));
    coerce_err(&vtype_bytes, value_cstring("-_8="));
    coerce_err(&vtype_bytes, value_cstring("a"));
    static const vtype_field bf[] = {{"Data", &vtype_bytes}};
    static const vtype bt = {.kind = T_STRUCT, .name = "Blob", .fields = bf, .nfields = 1};
    cr_assert_str_eq(coerce_err(&bt, map_of(1, "data", value_cstring("%%"))),
                     "field Data: a []byte is written as base64 text");
}

Test(vtype, bytes_to_byte_slice)
{
    static const vtype u8s = {.kind = T_SLICE, .elem = &vtype_uint};
    value *r = coerce_ok(&u8s, value_bytes("\x01\xff", 2));
    cr_assert_eq(r->kind, V_LIST);
    cr_assert_eq(r->u.list.len, 2);
    cr_assert_eq(r->u.list.items[1]->u.u, 255);
    value_free(r);
    static const vtype u8x3 = {.kind = T_ARRAY, .elem = &vtype_uint, .len = 3};
    r = coerce_ok(&u8x3, value_bytes("\x07", 1));
    cr_assert_eq(r->u.list.len, 3, "an array always has its length");
    cr_assert_eq(r->u.list.items[0]->u.u, 7);
    cr_assert_eq(r->u.list.items[2]->u.u, 0);
    value_free(r);
    r = coerce_ok(&u8x3, value_bytes("abcd", 4));
    cr_assert_eq(r->u.list.len, 3);
    value_free(r);
}

Test(vtype, zero_values)
{
    static const vtype_field f[] = {{"N", &vtype_int}, {"S", &vtype_string}, {"F", &vtype_float},
                                    {"Ok", &vtype_bool}, {"Raw", &vtype_bytes}};
    static const vtype st = {.kind = T_STRUCT, .name = "Z", .fields = f, .nfields = 5};
    static const vtype arr = {.kind = T_ARRAY, .elem = &st, .len = 2};
    value *z = vtype_zero(&arr);
    cr_assert_eq(z->kind, V_LIST);
    cr_assert_eq(z->u.list.len, 2);
    const value *s = z->u.list.items[1];
    cr_assert_eq(s->kind, V_STRUCT);
    cr_assert_str_eq(s->u.st.name, "Z");
    cr_assert_eq(s->u.st.len, 5);
    cr_assert_eq(value_get(s, "N")->u.i, 0);
    cr_assert_eq(value_get(s, "S")->u.s.len, 0);
    cr_assert_eq(value_get(s, "F")->kind, V_FLOAT);
    cr_assert_eq(value_get(s, "Ok")->u.b, false);
    cr_assert_eq(value_get(s, "Raw")->kind, V_BYTES);
    value_free(z);

    static const vtype sl = {.kind = T_SLICE, .elem = &vtype_int};
    static const vtype mp = {.kind = T_MAP, .key = &vtype_string, .elem = &vtype_int};
    z = vtype_zero(&sl);
    cr_assert_eq(z->kind, V_LIST);
    cr_assert_eq(z->u.list.len, 0);
    value_free(z);
    z = vtype_zero(&mp);
    cr_assert_eq(z->kind, V_MAP);
    value_free(z);
    z = vtype_zero(&vtype_any);
    cr_assert_eq(z->kind, V_NULL);
    value_free(z);
    z = vtype_zero(&vtype_uint);
    cr_assert_eq(z->kind, V_UINT);
    value_free(z);
}

Test(vtype, describe)
{
    char out[160];
    static const vtype sl = {.kind = T_SLICE, .elem = &vtype_string};
    static const vtype ar = {.kind = T_ARRAY, .elem = &vtype_int, .len = 3};
    static const vtype mp = {.kind = T_MAP, .key = &vtype_string, .elem = &sl};
    static const vtype_field f[] = {{"A", &vtype_int}, {"B", &ar}};
    static const vtype anon = {.kind = T_STRUCT, .fields = f, .nfields = 2};
    static const vtype empty = {.kind = T_STRUCT, .name = "", .nfields = 0};
    cr_assert_str_eq(vtype_describe(&vtype_int, out, sizeof out), "int");
    cr_assert_str_eq(vtype_describe(&vtype_float, out, sizeof out), "float64");
    cr_assert_str_eq(vtype_describe(&vtype_bytes, out, sizeof out), "[]byte");
    cr_assert_str_eq(vtype_describe(&vtype_any, out, sizeof out), "interface {}");
    cr_assert_str_eq(vtype_describe(&sl, out, sizeof out), "[]string");
    cr_assert_str_eq(vtype_describe(&ar, out, sizeof out), "[3]int");
    cr_assert_str_eq(vtype_describe(&mp, out, sizeof out), "map[string][]string");
    cr_assert_str_eq(vtype_describe(&args_t, out, sizeof out), "Args");
    cr_assert_str_eq(vtype_describe(&anon, out, sizeof out), "struct { A int; B [3]int }");
    cr_assert_str_eq(vtype_describe(&empty, out, sizeof out), "struct {}", "as Go spells it");
    char small[8];
    cr_assert_str_eq(vtype_describe(&anon, small, sizeof small), "struct ", "truncated, terminated");
}

Test(vtype, infer)
{
    char err[128] = "", out[160];
    typeset *ts = typeset_new();
    value *v = value_int(1);
    cr_assert_eq(vtype_infer(ts, v, err, sizeof err), &vtype_int);
    value_free(v);

    v = map_of(3, "A", value_int(1), "Name", value_cstring("x"),
               "L", list_of(2, value_float(1), value_float(2)));
    const vtype *t = vtype_infer(ts, v, err, sizeof err);
    cr_assert_not_null(t, "%s", err);
    cr_assert_eq(t->kind, T_STRUCT);
    cr_assert_str_eq(vtype_describe(t, out, sizeof out), "struct { A int; Name string; L []float64 }");
    /* the inferred type accepts the value it came from */
    value *c = vtype_coerce(t, v, err, sizeof err);
    cr_assert_not_null(c, "%s", err);
    cr_assert_eq(c->kind, V_STRUCT);
    cr_assert_eq(value_get(c, "A")->u.i, 1);
    cr_assert_float_eq(value_get(c, "L")->u.list.items[1]->u.f, 2.0, 0);
    value_free(c);
    value_free(v);

    v = value_list();
    t = vtype_infer(ts, v, err, sizeof err);
    cr_assert_str_eq(vtype_describe(t, out, sizeof out), "[]interface {}");
    value_free(v);

    v = value_struct("Quotient");
    value_struct_set(v, "Quo", value_int(1));
    t = vtype_infer(ts, v, err, sizeof err);
    cr_assert_str_eq(vtype_describe(t, out, sizeof out), "Quotient");
    cr_assert_str_eq(t->fields[0].name, "Quo");
    value_free(v);

    v = value_null();
    cr_assert_null(vtype_infer(ts, v, err, sizeof err));
    cr_assert(strstr(err, "null"), "%s", err);
    value_free(v);

    v = map_of(1, "A", list_of(1, value_null()));
    err[0] = '\0';
    cr_assert_null(vtype_infer(ts, v, err, sizeof err));
    cr_assert_neq(err[0], '\0');
    value_free(v);
    typeset_free(ts);
    typeset_free(NULL);
}

Test(vtype, typeset_strings)
{
    typeset *ts = typeset_new();
    char src[] = "Name";
    char *d = typeset_strdup(ts, src);
    src[0] = 'X';
    cr_assert_str_eq(d, "Name");
    unsigned char *z = typeset_alloc(ts, 64);
    for (int i = 0; i < 64; i++)
        cr_assert_eq(z[i], 0);
    for (int i = 0; i < 100; i++)
        cr_assert_not_null(typeset_alloc(ts, 8));
    typeset_free(ts);
}

/* ======================= explain ======================= */

Test(explain, add_set_len_append)
{
    explain e, f;
    explain_init(&e);
    explain_init(&f);
    cr_assert_eq(explain_add(&e, 0, 10, 0, SPAN_FRAME, "rpc", "message %d", 1), 0);
    cr_assert_eq(explain_add(&e, 0, 4, 1, SPAN_DATA, "rpc", "%s", "head"), 1);
    explain_set_len(&e, 0, 12);
    explain_set_len(&e, 99, 1); /* ignored */
    cr_assert_eq(e.spans[0].len, 12);
    cr_assert_str_eq(e.spans[0].meaning, "message 1");
    cr_assert_str_eq(e.spans[1].layer, "rpc");
    cr_assert_eq(explain_append(&f, &e, 100, 2), 0);
    cr_assert_eq(f.len, 2);
    cr_assert_eq(f.spans[1].off, 100);
    cr_assert_eq(f.spans[1].depth, 3);
    cr_assert_str_eq(f.spans[1].meaning, "head");
    cr_assert_neq(f.spans[1].meaning, e.spans[1].meaning);
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(explain_add(&e, (size_t)i, 1, 2, SPAN_TYPE, "x", "n%d", i), i + 2);
    explain_done(&e);
    explain_done(&f);
    explain_done(NULL);
    cr_assert_eq(e.len, 0);
}

Test(explain, totals_count_leaves_only)
{
    explain e;
    explain_init(&e);
    explain_add(&e, 0, 20, 0, SPAN_FRAME, "t", "message");  /* container */
    explain_add(&e, 0, 4, 1, SPAN_FRAME, "t", "length");
    explain_add(&e, 4, 10, 1, SPAN_TYPE, "t", "type");       /* container */
    explain_add(&e, 4, 6, 2, SPAN_TYPE, "t", "name");
    explain_add(&e, 10, 4, 2, SPAN_DATA, "t", "value");
    explain_add(&e, 14, 5, 1, SPAN_DATA, "t", "payload");
    explain_add(&e, 19, 1, 1, SPAN_ERROR, "t", "junk");
    size_t tot[4];
    explain_totals(&e, tot);
    cr_assert_eq(tot[SPAN_FRAME], 4);
    cr_assert_eq(tot[SPAN_TYPE], 6);
    cr_assert_eq(tot[SPAN_DATA], 9);
    cr_assert_eq(tot[SPAN_ERROR], 1);
    explain_done(&e);
}

Test(explain, a_deeper_span_outside_is_not_contained)
{
    /* "[" then the items after it, one level deeper: "[" contains no span, so it is a leaf */
    explain e;
    explain_init(&e);
    explain_add(&e, 0, 5, 0, SPAN_FRAME, "t", "all");
    explain_add(&e, 0, 1, 1, SPAN_FRAME, "t", "[");
    explain_add(&e, 1, 3, 2, SPAN_DATA, "t", "item");
    explain_add(&e, 4, 1, 1, SPAN_FRAME, "t", "]");
    size_t tot[4];
    explain_totals(&e, tot);
    cr_assert_eq(tot[SPAN_FRAME], 2);
    cr_assert_eq(tot[SPAN_DATA], 3);
    explain_done(&e);
}

/* Pieces of a rendered dump, parsed back. */
typedef struct dump {
    uint8_t bytes[4096];
    size_t n;          /* bytes shown in hex columns, in order */
    size_t offs[512];  /* offset column of every byte line (not headings) */
    int lines, headings, gaps, maxw;
} dump;

static int hexdig(int c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; }

static void parse_dump(const char *text, size_t len, dump *d)
{
    memset(d, 0, sizeof *d);
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        cr_assert_not_null(nl, "every line ends with a newline");
        size_t ll = (size_t)(nl - p);
        int w = (int)utf8_width(p, ll);
        if (w > d->maxw)
            d->maxw = w;
        d->lines++;
        if (ll >= 6 && hexdig(p[0]) >= 0 && p[4] == ' ' && p[5] == ' ') {
            const char *hex = p + 6;
            if (hex[0] == '[') {
                d->headings++;
            } else {
                if (memmem(p, ll, "(bytes no explainer claimed)", 28))
                    d->gaps++;
                for (int i = 0; i < 8 && hexdig(hex[i * 3]) >= 0; i++)
                    d->bytes[d->n++] = (uint8_t)(hexdig(hex[i * 3]) * 16 + hexdig(hex[i * 3 + 1]));
            }
        }
        p = nl + 1;
    }
}

static char *render(const explain *e, const void *bytes, size_t n, int width, size_t *len)
{
    buf out;
    buf_init(&out, 0);
    explain_style st = {width, false};
    cr_assert_eq(explain_render(e, bytes, n, &st, &out), 0);
    *len = buf_size(&out);
    char *s = buf_take(&out);
    return s;
}

Test(explain, render_shows_every_byte_once_with_gaps)
{
    const char msg[] = "0123456789abcdefghijklmnopqrstuvwxyz!";
    size_t n = sizeof msg - 1;
    explain e;
    explain_init(&e);
    explain_add(&e, 0, 30, 0, SPAN_FRAME, "t", "first part");
    explain_add(&e, 0, 3, 1, SPAN_FRAME, "t", "three bytes");
    explain_add(&e, 5, 20, 1, SPAN_DATA, "t", "twenty bytes");   /* gap 3..5 before */
    explain_add(&e, 30, 4, 0, SPAN_DATA, "t", "four more");      /* gap 25..30 before */
    /* 34..37 unclaimed at the end */
    size_t len;
    char *text = render(&e, msg, n, 80, &len);
    dump d;
    parse_dump(text, len, &d);
    cr_assert_eq(d.n, n, "every byte shown exactly once:\n%s", text);
    cr_assert_eq(memcmp(d.bytes, msg, n), 0, "in order:\n%s", text);
    cr_assert_eq(d.headings, 1, "%s", text);
    cr_assert_eq(d.gaps, 3, "%s", text);
    cr_assert(strstr(text, "[30 bytes]"), "%s", text);
    /* the layer is named where it changes, not on every line under its heading */
    cr_assert(strstr(text, "t: first part"), "%s", text);
    cr_assert(strstr(text, "  twenty bytes"), "%s", text);
    cr_assert(!strstr(text, "t: twenty bytes"), "%s", text);
    cr_assert(strstr(text, "0005  35 36 37 38 39 61 62 63  56789abc"), "%s", text);
    free(text);
    explain_done(&e);
}

Test(explain, render_without_spans_is_all_gap)
{
    explain e;
    explain_init(&e);
    size_t len;
    char *text = render(&e, "hello", 5, 80, &len);
    dump d;
    parse_dump(text, len, &d);
    cr_assert_eq(d.n, 5);
    cr_assert_eq(d.gaps, 1);
    free(text);
    text = render(&e, "", 0, 80, &len);
    cr_assert_eq(len, 0);
    free(text);
    explain_done(&e);
}

Test(explain, render_ignores_spans_past_the_end)
{
    explain e;
    explain_init(&e);
    explain_add(&e, 0, 2, 0, SPAN_DATA, "t", "ok");
    explain_add(&e, 2, 100, 0, SPAN_DATA, "t", "too long");
    explain_add(&e, 50, 1, 0, SPAN_DATA, "t", "beyond");
    size_t len;
    char *text = render(&e, "abcd", 4, 80, &len);
    dump d;
    parse_dump(text, len, &d);
    cr_assert_eq(d.n, 4, "%s", text);
    cr_assert_null(strstr(text, "beyond"));
    free(text);
    explain_done(&e);
}

Test(explain, render_wraps_to_a_narrow_width)
{
    const char *meaning = "a rather long explanation of what these bytes mean, which cannot "
                          "possibly fit on one line of a narrow terminal window";
    explain e;
    explain_init(&e);
    explain_add(&e, 0, 20, 0, SPAN_DATA, "json", "%s", meaning);
    explain_add(&e, 20, 2, 0, SPAN_DATA, "json", "李白 你好 李白 你好 李白 你好 李白 你好 李白 你好");
    const char bytes[] = "0123456789012345678901";
    for (int width = 60; width <= 100; width += 20) {
        size_t len;
        char *text = render(&e, bytes, 22, width, &len);
        dump d;
        parse_dump(text, len, &d);
        cr_assert_eq(d.n, 22);
        cr_assert_leq(d.maxw, width, "width %d:\n%s", width, text);
        /* the words are all there, in order */
        const char *p = text;
        for (const char *w = meaning; *w;) {
            size_t wl = strcspn(w, " ");
            char word[64];
            snprintf(word, sizeof word, "%.*s", (int)wl, w);
            p = strstr(p, word);
            cr_assert_not_null(p, "missing \"%s\" at width %d:\n%s", word, width, text);
            w += wl;
            w += strspn(w, " ");
        }
        free(text);
    }
    size_t len;
    char *text = render(&e, bytes, 22, 60, &len);
    dump d;
    parse_dump(text, len, &d);
    cr_assert_gt(d.lines, 6, "a narrow terminal needs more lines:\n%s", text);
    free(text);
    explain_done(&e);
}

Test(explain, render_colour_marks_classes)
{
    explain e;
    explain_init(&e);
    explain_add(&e, 0, 1, 0, SPAN_ERROR, "t", "bad");
    buf out;
    buf_init(&out, 0);
    explain_style st = {80, true};
    cr_assert_eq(explain_render(&e, (const uint8_t *)"x", 1, &st, &out), 0);
    cr_assert(memmem(buf_data(&out), buf_size(&out), "\033[31m", 5));
    buf_done(&out);
    explain_done(&e);
}

Test(explain, render_reports_a_full_buffer)
{
    explain e;
    explain_init(&e);
    explain_add(&e, 0, 4, 0, SPAN_DATA, "t", "some meaning");
    buf out;
    buf_init(&out, 16);
    cr_assert_eq(explain_render(&e, (const uint8_t *)"abcd", 4, NULL, &out), -1);
    buf_done(&out);
    explain_done(&e);
}

Test(explain, utf8_width_counts_wide_characters_twice)
{
    cr_assert_eq(utf8_width("abc", 3), 3);
    cr_assert_eq(utf8_width("李白", 6), 4);
    const char *s = "李白 你好....";
    cr_assert_eq(utf8_width(s, strlen(s)), 13);
    cr_assert_eq(utf8_width("é", 2), 1);
    cr_assert_eq(utf8_width("한", 3), 2);
    cr_assert_eq(utf8_width("ｱ", 3), 1, "half-width katakana is narrow");
    cr_assert_eq(utf8_width("Ａ", 3), 2, "full-width Latin is wide");
    cr_assert_eq(utf8_width("\xf0\x9f\x98\x80", 4), 2, "emoji");
    cr_assert_eq(utf8_width("\xff", 1), 1, "a bad byte shows as one replacement character");
    cr_assert_eq(utf8_width("\xe6\x9d", 2), 2, "a truncated sequence: one column per byte");
    cr_assert_eq(utf8_width("a\tb", 3), 2, "control characters take no column");
    cr_assert_eq(utf8_width("李白", 3), 2, "n limits the bytes read");
    cr_assert_eq(utf8_width("", 0), 0);
}
