/* test_grpcmeta.c -- the gRPC client's metadata rules (-H), stdin's messages a line
 * (wire/jsonlines) and google.rpc.Status details (wire/grpc_status). */
#include <criterion/criterion.h>
#include <string.h>

#include "helloworld.pb-c.h"
#include "rpc/grpcclient.h"
#include "status.pb-c.h"
#include "wire/grpc_status.h"
#include "wire/jsonlines.h"
#include "wire/jsonval.h"
#include "wire/pbcatalog.h"

Test(grpcmeta, parse_splits_and_lowercases)
{
    char name[64], err[128];
    const char *val;
    cr_assert_eq(grpcclient_metadata_parse("X-User:  ann lee", name, sizeof name, &val, err, sizeof err), 0);
    cr_assert_str_eq(name, "x-user");
    cr_assert_str_eq(val, "ann lee");
    cr_assert_eq(grpcclient_metadata_parse("a:", name, sizeof name, &val, err, sizeof err), 0);
    cr_assert_str_eq(val, "");
    cr_assert_eq(grpcclient_metadata_parse(":authority: x", name, sizeof name, &val, err, sizeof err), 0);
    cr_assert_str_eq(name, ":authority");
    cr_assert_eq(grpcclient_metadata_parse("no colon", name, sizeof name, &val, err, sizeof err), -1);
    cr_assert_eq(grpcclient_metadata_parse(" : x", name, sizeof name, &val, err, sizeof err), -1);
    char small[4];
    cr_assert_eq(grpcclient_metadata_parse("toolong: x", small, sizeof small, &val, err, sizeof err), -1);
}

Test(grpcmeta, reserved_names_are_refused_with_a_reason)
{
    char err[256];
    cr_assert_eq(grpcclient_metadata_check("x-user", "ann", err, sizeof err), 0);
    cr_assert_eq(grpcclient_metadata_check("x-id-bin", "AAEC/w==", err, sizeof err), 0);
    cr_assert_eq(grpcclient_metadata_check("grpc-timeout", "1S", err, sizeof err), -1);
    cr_assert(strstr(err, "--timeout"), "%s", err);
    cr_assert_eq(grpcclient_metadata_check("grpc-foo", "1", err, sizeof err), -1);
    cr_assert(strstr(err, "reserved"), "%s", err);
    const char *taken[] = {"te", "content-type", "user-agent", "host", ":path", "connection", "X-Upper", ""};
    for (size_t i = 0; i < sizeof taken / sizeof taken[0]; i++)
        cr_assert_eq(grpcclient_metadata_check(taken[i], "v", err, sizeof err), -1, "%s", taken[i]);
    cr_assert_eq(grpcclient_metadata_check("x-id-bin", "not base64!", err, sizeof err), -1);
    cr_assert(strstr(err, "base64"), "%s", err);
    cr_assert_eq(grpcclient_metadata_check("x-a", "tab\there", err, sizeof err), -1);
}

Test(grpcmeta, md_list_accessors)
{
    static grpc_md m;
    cr_assert_null(grpc_md_find(&m, "x"));
    cr_assert_null(grpc_md_name(&m, 0));
}

static char *lines_json(const char *text)
{
    char err[256];
    value *v = jsonlines_parse(text, strlen(text), err, sizeof err);
    if (!v)
        return strdup(err);
    buf out;
    buf_init(&out, 0);
    jsonval_write(v, &out);
    buf_putc(&out, 0);
    char *s = strdup((const char *)buf_data(&out));
    buf_done(&out);
    value_free(v);
    return s;
}

Test(jsonlines, one_value_or_one_a_line)
{
    struct { const char *in, *want; } cases[] = {
        {"", "[]"},
        {" \n\n", "[]"},
        {"{\"a\":1}", "[{\"a\":1}]"},
        {"{\n  \"a\": 1\n}\n", "[{\"a\":1}]"},
        {"{\"a\":1}\n{\"a\":2}\n", "[{\"a\":1},{\"a\":2}]"},
        {"1\r\n\r\n2\r\n3", "[1,2,3]"},
        {"[1,2]", "[[1,2]]"},
        {"{\"a\":1}\nnope\n", "line 2 is not JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = lines_json(cases[i].in);
        cr_assert(strncmp(got, cases[i].want, strlen(cases[i].want)) == 0, "case %zu: %s", i, got);
        free(got);
    }
}

/* A Status packed by protobuf-c, with one detail of a compiled-in type and one not. */
Test(grpc_status_details, decoded_with_known_and_unknown_details)
{
    Helloworld__HelloReply hr = HELLOWORLD__HELLO_REPLY__INIT;
    hr.message = "retry";
    uint8_t inner[64];
    size_t ilen = helloworld__hello_reply__pack(&hr, inner);
    Google__Protobuf__Any a = GOOGLE__PROTOBUF__ANY__INIT, b = GOOGLE__PROTOBUF__ANY__INIT;
    a.type_url = "type.googleapis.com/helloworld.HelloReply";
    a.value = (ProtobufCBinaryData){ilen, inner};
    b.type_url = "type.googleapis.com/no.Such";
    b.value = (ProtobufCBinaryData){3, (uint8_t *)"\x01\x02\x03"};
    Google__Protobuf__Any *details[] = {&a, &b};
    Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
    st.code = 5;
    st.message = "gone";
    st.n_details = 2;
    st.details = details;
    uint8_t bytes[256];
    size_t n = google__rpc__status__pack(&st, bytes);

    grpc_status_details d;
    char err[128];
    cr_assert_eq(grpc_status_details_decode(bytes, n, &d, err, sizeof err), 0, "%s", err);
    cr_assert_eq(d.code, 5);
    cr_assert_str_eq(d.message, "gone");
    cr_assert_eq(d.n, 2);
    cr_assert_str_eq(d.items[0].type_url, "type.googleapis.com/helloworld.HelloReply");
    cr_assert_not_null(d.items[0].decoded);
    buf out;
    buf_init(&out, 0);
    jsonval_write(d.items[0].decoded, &out);
    cr_assert(buf_size(&out) == 19 && memcmp(buf_data(&out), "{\"message\":\"retry\"}", 19) == 0);
    buf_done(&out);
    cr_assert_null(d.items[1].decoded);
    cr_assert_str_eq(d.items[1].base64, "AQID");
    grpc_status_details_done(&d);
    cr_assert_eq(d.n, 0);

    cr_assert_eq(grpc_status_details_decode((const uint8_t *)"\xff\xff", 2, &d, err, sizeof err), -1);
    cr_assert(strstr(err, "google.rpc.Status"), "%s", err);
}

Test(grpc_status_details, the_catalog_knows_status_and_its_import)
{
    cr_assert_not_null(pbcatalog_message("google.rpc.Status"));
    cr_assert_not_null(pbcatalog_file_by_name("status.proto"));
    cr_assert_not_null(pbcatalog_file_by_name("google/protobuf/any.proto"));
    cr_assert_str_eq(pbcatalog_file_for_symbol("google.rpc.Status")->name, "status.proto");
    size_t n;
    pbcatalog_methods(&n);
    cr_assert(n > 0);
}
