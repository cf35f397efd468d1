/* h2explain_names.c -- the names of HTTP/2 frame types, flags, error codes and settings,
 * with words for what each means. */
#include "wire/h2explain.h"

#include <stdio.h>

#include "base/i18n.h"
#include "wire/h2explain_int.h"

/* ---- names ---- */

const char *h2explain_frame_type(unsigned type)
{
    static const char *const names[] = {"DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS",
                                        "PUSH_PROMISE", "PING", "GOAWAY", "WINDOW_UPDATE",
                                        "CONTINUATION"};
    return type < 10 ? names[type] : "UNKNOWN";
}

const char *h2explain_error_code(uint32_t code)
{
    static const char *const names[] = {"NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR",
                                        "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT", "STREAM_CLOSED",
                                        "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL",
                                        "COMPRESSION_ERROR", "CONNECT_ERROR", "ENHANCE_YOUR_CALM",
                                        "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED"};
    return code < 14 ? names[code] : "UNKNOWN";
}

const char *h2x_error_words(uint32_t code)
{
    switch (code) {
    case 0: return _("no error, a graceful close");
    case 1: return _("the peer broke the protocol");
    case 2: return _("the sender failed internally");
    case 3: return _("flow control was violated");
    case 5: return _("a frame arrived for a closed stream");
    case 6: return _("a frame had the wrong size");
    case 7: return _("the stream was refused before any processing, so it is safe to retry");
    case 8: return _("the stream is no longer needed (gRPC sends this when a call is cancelled)");
    case 9: return _("the header compression state broke");
    case 11: return _("the peer is generating too much load");
    default: return "";
    }
}

const char *h2explain_setting(unsigned id)
{
    switch (id) {
    case 1: return "SETTINGS_HEADER_TABLE_SIZE";
    case 2: return "SETTINGS_ENABLE_PUSH";
    case 3: return "SETTINGS_MAX_CONCURRENT_STREAMS";
    case 4: return "SETTINGS_INITIAL_WINDOW_SIZE";
    case 5: return "SETTINGS_MAX_FRAME_SIZE";
    case 6: return "SETTINGS_MAX_HEADER_LIST_SIZE";
    case 8: return "SETTINGS_ENABLE_CONNECT_PROTOCOL";
    case 9: return "SETTINGS_NO_RFC7540_PRIORITIES";
    case 0xfe03: return "GRPC_ALLOW_TRUE_BINARY_METADATA";
    default: return NULL;
    }
}

const char *h2x_setting_words(unsigned id)
{
    switch (id) {
    case 1: return _("the most bytes the peer's header compressor may keep in the dynamic table "
                      "this side decodes with");
    case 2: return _("whether the server may push streams the client did not ask for (0 = no)");
    case 3: return _("how many streams (calls) may be open at once");
    case 4: return _("how many bytes the peer may send on each new stream before it must wait "
                      "for a WINDOW_UPDATE (flow control)");
    case 5: return _("the largest frame payload this side accepts");
    case 6: return _("the largest header list, uncompressed, this side accepts");
    case 8: return _("whether the extended CONNECT method may be used (RFC 8441)");
    case 9: return _("1 = this side ignores the old RFC 7540 stream priorities (RFC 9218)");
    case 0xfe03: return _("a gRPC-specific setting: binary header values may be sent raw instead "
                           "of base64");
    default: return _("a setting this explainer does not know; receivers ignore unknown ones");
    }
}

const char *h2x_type_words(unsigned type)
{
    switch (type) {
    case F_DATA: return _("a piece of the stream's body");
    case F_HEADERS: return _("compressed header fields that open a stream, or end it (trailers)");
    case F_PRIORITY: return _("advice on which stream matters more");
    case F_RST_STREAM: return _("ends one stream at once, with an error code");
    case F_SETTINGS: return _("connection parameters for the peer");
    case F_PUSH_PROMISE: return _("a stream the server starts on its own (gRPC never uses it)");
    case F_PING: return _("a round trip check, echoed by the peer");
    case F_GOAWAY: return _("the sender is closing the connection");
    case F_WINDOW_UPDATE: return _("flow control: the peer may send more bytes");
    case F_CONTINUATION: return _("the rest of a header block that did not fit");
    default: return _("an extension frame type; receivers ignore types they do not know");
    }
}

typedef struct flagdef {
    uint8_t bit;
    const char *name, *words;
} flagdef;

void h2x_flag_words(const fh *f, char *out, size_t cap, bool full)
{
    static const flagdef data[] = {{FL_END_STREAM, "END_STREAM",
                                    N_("the sender's last frame on this stream")},
                                   {FL_PADDED, "PADDED",
                                    N_("padding follows the data, to hide its length")}},
      headers[] = {{FL_END_STREAM, "END_STREAM", N_("the sender's last frame on this stream")},
                   {FL_END_HEADERS, "END_HEADERS", N_("the header block is complete")},
                   {FL_PADDED, "PADDED", N_("padding follows the block")},
                   {FL_PRIORITY, "PRIORITY", N_("stream priority fields come first")}},
      push[] = {{FL_END_HEADERS, "END_HEADERS", N_("the header block is complete")},
                {FL_PADDED, "PADDED", N_("padding follows the block")}},
      ack[] = {{FL_ACK, "ACK", N_("an acknowledgement of the peer's frame")}},
      cont[] = {{FL_END_HEADERS, "END_HEADERS", N_("the header block is complete")}};
    const void *tab = NULL;
    size_t nt = 0;
#define USE(t) (tab = (t), nt = sizeof(t) / sizeof(t)[0])
    switch (f->type) {
    case F_DATA: USE(data); break;
    case F_HEADERS: USE(headers); break;
    case F_PUSH_PROMISE: USE(push); break;
    case F_SETTINGS:
    case F_PING: USE(ack); break;
    case F_CONTINUATION: USE(cont); break;
    default: break;
    }
#undef USE
    const flagdef *t = tab;
    size_t o = (size_t)snprintf(out, cap, _("flags 0x%02x"), f->flags);
    if (f->flags == 0) {
        snprintf(out + o, cap - o, "%s", _(": none set"));
        return;
    }
    uint8_t known = 0;
    /* TRANSLATORS: after "flags 0x25", before the first flag's name */
    const char *sep = _(": ");
    for (size_t i = 0; i < nt && o < cap; i++)
        if (f->flags & t[i].bit) {
            known |= t[i].bit;
            if (full)
                o += (size_t)snprintf(out + o, cap - o, _("%s%s (%s)"), sep, t[i].name,
                                      _(t[i].words));
            else
                o += (size_t)snprintf(out + o, cap - o, "%s%s", sep, t[i].name);
            /* TRANSLATORS: between two flags, each with its meaning */
            sep = full ? _("; ") : " | ";
        }
    if ((f->flags & ~known) && o < cap)
        snprintf(out + o, cap - o, _("%s0x%02x unused by this frame type, ignored"), sep,
                 f->flags & ~known);
}
