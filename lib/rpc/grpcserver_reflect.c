/* grpcserver_reflect.c -- grpc.reflection.v1alpha.ServerReflection over the files in pbcatalog. */
#include "rpc/grpcserver_int.h"

#include <stdio.h>

#include "reflection.pb-c.h"

/* The FileDescriptorProto's dependency names (field 3), for the files a file imports. */
static size_t file_imports(const pb_file *f, const pb_file **out, size_t max)
{
    size_t n = 0;
    const uint8_t *p = f->bytes, *end = f->bytes + f->len;
    while (p < end && n < max) {
        uint64_t key = 0, len = 0;
        int sh = 0;
        while (p < end && sh < 64) {
            uint8_t b = *p++;
            key |= (uint64_t)(b & 0x7f) << sh;
            sh += 7;
            if (!(b & 0x80))
                break;
        }
        int wire = (int)(key & 7);
        if (wire == 0) {
            while (p < end && (*p++ & 0x80))
                ;
            continue;
        }
        if (wire == 1 || wire == 5) {
            p += wire == 1 ? 8 : 4;
            continue;
        }
        if (wire != 2)
            break;
        sh = 0;
        while (p < end && sh < 64) {
            uint8_t b = *p++;
            len |= (uint64_t)(b & 0x7f) << sh;
            sh += 7;
            if (!(b & 0x80))
                break;
        }
        if (len > (uint64_t)(end - p))
            break;
        if ((key >> 3) == 3) {
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)len, (const char *)p);
            const pb_file *dep = pbcatalog_file_by_name(name);
            if (dep)
                out[n++] = dep;
        }
        p += len;
    }
    return n;
}

void greflect_answer(grpc_call *call, const ProtobufCMessage *req)
{
    const Grpc__Reflection__V1alpha__ServerReflectionRequest *q =
        (const Grpc__Reflection__V1alpha__ServerReflectionRequest *)req;
    Grpc__Reflection__V1alpha__ServerReflectionResponse r =
        GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__INIT;
    Grpc__Reflection__V1alpha__FileDescriptorResponse fdr =
        GRPC__REFLECTION__V1ALPHA__FILE_DESCRIPTOR_RESPONSE__INIT;
    Grpc__Reflection__V1alpha__ListServiceResponse lsr =
        GRPC__REFLECTION__V1ALPHA__LIST_SERVICE_RESPONSE__INIT;
    Grpc__Reflection__V1alpha__ExtensionNumberResponse enr =
        GRPC__REFLECTION__V1ALPHA__EXTENSION_NUMBER_RESPONSE__INIT;
    Grpc__Reflection__V1alpha__ErrorResponse er = GRPC__REFLECTION__V1ALPHA__ERROR_RESPONSE__INIT;
    Grpc__Reflection__V1alpha__ServiceResponse svc[16];
    Grpc__Reflection__V1alpha__ServiceResponse *svcp[16];
    ProtobufCBinaryData files[17];
    char msg[512] = ""; /* set: the answer is a NOT_FOUND error saying this */
    r.valid_host = q->host;
    r.original_request = (Grpc__Reflection__V1alpha__ServerReflectionRequest *)q;
    const pb_file *f = NULL;
    switch (q->message_request_case) {
    case GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_LIST_SERVICES: {
        size_t n;
        const char *const *names = pbcatalog_services(&n);
        size_t k = 0;
        for (size_t i = 0; i < n && k < 16; i++) {
            if (!gmethods_service_served(names[i]))
                continue;
            grpc__reflection__v1alpha__service_response__init(&svc[k]);
            svc[k].name = (char *)names[i];
            svcp[k] = &svc[k];
            k++;
        }
        lsr.n_service = k;
        lsr.service = svcp;
        r.message_response_case =
            GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_LIST_SERVICES_RESPONSE;
        r.list_services_response = &lsr;
        break;
    }
    case GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_BY_FILENAME:
        f = pbcatalog_file_by_name(q->file_by_filename);
        if (!f)
            snprintf(msg, sizeof msg, "file not found: %s", q->file_by_filename);
        goto file;
    case GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_SYMBOL:
        f = pbcatalog_file_for_symbol(q->file_containing_symbol);
        if (!f)
            snprintf(msg, sizeof msg, "symbol not found: %s", q->file_containing_symbol);
    file:
        if (f) {
            const pb_file *deps[16];
            size_t nd = file_imports(f, deps, 16);
            files[0] = (ProtobufCBinaryData){f->len, (uint8_t *)f->bytes};
            for (size_t i = 0; i < nd; i++)
                files[i + 1] = (ProtobufCBinaryData){deps[i]->len, (uint8_t *)deps[i]->bytes};
            fdr.n_file_descriptor_proto = nd + 1;
            fdr.file_descriptor_proto = files;
            r.message_response_case =
                GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_FILE_DESCRIPTOR_RESPONSE;
            r.file_descriptor_response = &fdr;
        }
        break;
    case GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_ALL_EXTENSION_NUMBERS_OF_TYPE:
        if (!pbcatalog_message(q->all_extension_numbers_of_type) &&
            !pbcatalog_file_for_symbol(q->all_extension_numbers_of_type)) {
            snprintf(msg, sizeof msg, "type not found: %s", q->all_extension_numbers_of_type);
            break;
        }
        enr.base_type_name = q->all_extension_numbers_of_type;
        r.message_response_case =
            GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ALL_EXTENSION_NUMBERS_RESPONSE;
        r.all_extension_numbers_response = &enr;
        break;
    default:
        snprintf(msg, sizeof msg, "%s",
                 q->message_request_case ==
                         GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_EXTENSION
                     ? "extensions are not used by this server's files"
                     : "empty reflection request");
        break;
    }
    if (msg[0]) {
        er.error_code = GRPC_NOT_FOUND;
        er.error_message = msg;
        r.message_response_case =
            GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ERROR_RESPONSE;
        r.error_response = &er;
    }
    grpcserver_reply(call, &r.base);
}
