/* test_vtype.c -- unit tests for the type line (vtype_parse, vtype_spell), the inference of a
 * learner's JSON argument (vtype_infer_json) and Go's nil for empty decoded parts. */
#include <criterion/criterion.h>
#include <string.h>

#include "base/buf.h"
#include "value/vtype.h"
#include "wire/gob.h"
#include "wire/jsonval.h"

static value *json(const char *s)
{
    char err[256];
    value *v = jsonval_parse(s, strlen(s), err, sizeof err);
    cr_assert(v, "%s", err);
    return v;
}

Test(vtype_parse, reads_what_spell_writes)
{
    static const char *const lines[] = {
        "int", "int32", "[]string", "[]byte", "map[string]int", "*People{Weight int}", "[3]uint8",
        "Student{Name string, Age int32, P People{Weight int}, Score []int, Tags map[string]int, "
        "Teacher *People, Ratio float64, OK bool, Raw []byte}",
        "Node{Val int, Next *Node, Kids []Node}", "struct{A int, B interface{}}",
    };
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
        typeset *ts = typeset_new();
        char err[256], out[512];
        const vtype *t = vtype_parse(ts, lines[i], err, sizeof err);
        cr_assert(t, "%s: %s", lines[i], err);
        cr_expect_str_eq(vtype_spell(t, out, sizeof out), lines[i]);
        typeset_free(ts);
    }
}

Test(vtype_parse, takes_go_spelling_and_semicolons)
{
    typeset *ts = typeset_new();
    char err[256], out[256];
    const vtype *t = vtype_parse(ts, " struct { A int; B []uint8 } ", err, sizeof err);
    cr_assert(t, "%s", err);
    cr_expect_str_eq(vtype_spell(t, out, sizeof out), "struct{A int, B []byte}");
    typeset_free(ts);
}

Test(vtype_parse, says_what_is_wrong_and_where)
{
    static const char *const bad[][2] = {
        {"Student{name string}", "field \"name\": gob carries only exported fields"},
        {"Student{Name strin}", "unknown type strin"},
        {"Node{Next Node}", "Node contains itself: use *Node"},
        {"map[[]int]string", "a map key cannot be a slice"},
        {"[]int x", "unexpected \"x\" after the type, at column 7"},
        {"Student{A int, A int}", "field \"A\" twice"},
        {"Student{A int", "the type ends too soon"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        typeset *ts = typeset_new();
        char err[256] = "";
        cr_expect_null(vtype_parse(ts, bad[i][0], err, sizeof err), "%s", bad[i][0]);
        cr_expect(strstr(err, bad[i][1]), "%s: %s", bad[i][0], err);
        typeset_free(ts);
    }
}

Test(vtype_parse, coerces_with_the_narrow_types_and_pointers)
{
    typeset *ts = typeset_new();
    char err[256];
    const vtype *t = vtype_parse(ts, "S{Age int8, T *P{W int}}", err, sizeof err);
    cr_assert(t);
    value *v = json("{\"age\":127,\"T\":null}");
    value *c = vtype_coerce(t, v, err, sizeof err);
    cr_assert(c, "%s", err);
    cr_expect_eq(value_get(c, "Age")->u.i, 127);
    cr_expect_eq(value_get(c, "T")->kind, V_NULL);
    value_free(c);
    value_free(v);
    v = json("{\"Age\":128}");
    cr_expect_null(vtype_coerce(t, v, err, sizeof err));
    cr_expect_str_eq(err, "field Age: number 128 overflows int8");
    value_free(v);
    typeset_free(ts);
}

Test(vtype_infer_json, exports_keys_once_and_checks_lists)
{
    typeset *ts = typeset_new();
    buf notes;
    buf_init(&notes, 0);
    char err[256], out[256];
    value *v = json("{\"name\":\"x\",\"kids\":[{\"name\":\"y\"}],\"empty\":[],\"R\":1.5}");
    const vtype *t = vtype_infer_json(ts, v, &notes, err, sizeof err);
    cr_assert(t, "%s", err);
    cr_expect_str_eq(vtype_describe(t, out, sizeof out),
                     "struct { Name string; Kids []struct { Name string }; R float64 }");
    buf_putc(&notes, 0);
    cr_expect_str_eq((const char *)buf_data(&notes),
                     "(field \"name\" sent as \"Name\": gob carries only exported fields)\n"
                     "(field \"kids\" sent as \"Kids\": gob carries only exported fields)\n");
    value_free(v);
    v = json("{\"S\":[1,\"a\"]}");
    cr_expect_null(vtype_infer_json(ts, v, NULL, err, sizeof err));
    cr_expect_str_eq(err, "S: the items of a list must have one Go type: [0] is int, [1] is string");
    value_free(v);
    v = json("{\"a\":1,\"A\":2}");
    cr_expect_null(vtype_infer_json(ts, v, NULL, err, sizeof err));
    value_free(v);
    buf_done(&notes);
    typeset_free(ts);
}

Test(gob_nil_empty, empty_slices_and_left_out_maps_are_nil)
{
    value *v = json("{\"A\":[],\"M\":{},\"L\":[[],{}],\"X\":{\"K\":{}}}");
    value *s = value_struct("S"); /* a decoded struct, as gob_decode makes it */
    for (size_t i = 0; i < v->u.map.len; i++)
        value_struct_set(s, v->u.map.items[i].k->u.s.p, value_clone(v->u.map.items[i].v));
    s = gob_nil_empty(s);
    buf out;
    buf_init(&out, 0);
    jsonval_write(s, &out);
    buf_putc(&out, 0);
    cr_expect_str_eq((const char *)buf_data(&out), "{\"A\":null,\"M\":null,\"L\":[null,{}],\"X\":{\"K\":{}}}");
    buf_done(&out);
    value_free(s);
    value_free(v);
    value *top = gob_nil_empty(value_list());
    cr_expect_eq(top->kind, V_NULL);
    value_free(top);
}
