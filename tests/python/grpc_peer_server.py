#!/usr/bin/python3
"""grpc_peer_server.py -- a gRPC server built on Debian's python3-grpcio (gRPC's C core),
serving helloworld.Greeter/SayHello and arith.Arith/Multiply|Divide, so the tests can
point the workbench's client at a server nobody here wrote.

No generated code: the messages are tiny, so they are encoded by hand below.
Prints the address it listens on, then serves until killed."""
import sys
from concurrent import futures

import grpc
from pbwire import fields, int64, varint


def say_hello(request, context):
    name = b""
    for num, _, v in fields(request):
        if num == 1:
            name = v
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
