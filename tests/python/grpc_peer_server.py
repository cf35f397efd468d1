#!/usr/bin/python3
"""grpc_peer_server.py -- a gRPC server built on Debian's python3-grpcio (gRPC's C core),
serving helloworld.Greeter/SayHello and arith.Arith/Multiply|Divide, so the tests can
point the workbench's client at a server nobody here wrote.

SayHello also shows metadata both ways: it sends the response header x-greeting, and
echoes each request header whose name starts with x- back as the trailer echo-NAME.
The name "details" makes it fail with INVALID_ARGUMENT and a google.rpc.Status in
grpc-status-details-bin (one detail it encodes as a helloworld.HelloReply, one of a type
the workbench lacks); "error-info" fails the same way with one standard google.rpc.ErrorInfo
detail; the name "slow" makes it answer after 2 s.

No generated code: the messages are tiny, so they are encoded by hand below.
Prints the address it listens on, then serves until killed."""
import sys
import time
from concurrent import futures

import grpc
from pbwire import fields, int64, ld, varint


def any_of(type_url, value):
    """A google.protobuf.Any: type_url = 1, value = 2."""
    return ld(1, type_url) + ld(2, value)


def status_details():
    """A google.rpc.Status (code = 1, message = 2, details = 3) with two details."""
    known = any_of("type.googleapis.com/helloworld.HelloReply", ld(1, "try another name"))
    unknown = any_of("type.googleapis.com/example.NotKnown", ld(1, "NAME_TAKEN") + ld(2, "example.org"))
    return b"\x08\x03" + ld(2, "no details for you") + ld(3, known) + ld(3, unknown)


def error_info():
    """A google.rpc.Status whose one detail is a google.rpc.ErrorInfo (reason = 1, domain = 2,
    metadata = 3: map entries key = 1, value = 2)."""
    info = ld(1, "NAME_TAKEN") + ld(2, "example.org") + ld(3, ld(1, "field") + ld(2, "name"))
    return b"\x08\x06" + ld(2, "taken") + ld(3, any_of("type.googleapis.com/google.rpc.ErrorInfo", info))


def say_hello(request, context):
    name = b""
    for num, _, v in fields(request):
        if num == 1:
            name = v
    context.send_initial_metadata((("x-greeting", "hello"),))
    echo = [("echo-" + k, v) for k, v in context.invocation_metadata() if k.startswith("x-")]
    if name == b"details":
        context.set_trailing_metadata(echo + [("grpc-status-details-bin", status_details())])
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, "no details for you")
    if name == b"error-info":
        context.set_trailing_metadata(echo + [("grpc-status-details-bin", error_info())])
        context.abort(grpc.StatusCode.ALREADY_EXISTS, "taken")
    if name == b"slow":
        time.sleep(2)
    context.set_trailing_metadata(echo)
    msg = b"Hello " + name
    return b"\x0a" + varint(len(msg)) + msg


def args(request):
    a = b = 0
    for num, _, v in fields(request):
        if num == 1:
            a = int64(v)
        elif num == 2:
            b = int64(v)
    return a, b


def multiply(request, context):
    a, b = args(request)
    p = a * b
    return (b"\x08" + varint(p)) if p else b""


def divide(request, context):
    a, b = args(request)
    if b == 0:
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, "divide by zero")
    q = abs(a) // abs(b) * (1 if (a >= 0) == (b > 0) else -1)  # truncated, as in Go and C
    r = a - q * b
    out = b""
    if q:
        out += b"\x08" + varint(q)
    if r:
        out += b"\x10" + varint(r)
    return out


def handler(fn):
    return grpc.unary_unary_rpc_method_handler(fn)


def main():
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((
        grpc.method_handlers_generic_handler("helloworld.Greeter", {"SayHello": handler(say_hello)}),
        grpc.method_handlers_generic_handler("arith.Arith", {"Multiply": handler(multiply),
                                                              "Divide": handler(divide)}),
    ))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print("127.0.0.1:%d" % port, flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    sys.exit(main())
