"""grpc_checks.py -- python3-grpcio (gRPC's C core) as the client of bin/grpc-server.

Usage: /usr/bin/python3 grpc_checks.py DESCRIPTORS.pb ADDR CHECK...
Prints one line per check, "ok   NAME" or "FAIL NAME" followed by indented details;
tests/integration/test_grpc.sh counts them. The message classes are built at run time
from the descriptor set protoc-c wrote (build/gen/descriptors.pb), so no generated
Python code is needed; reflection requests are encoded by hand and the descriptors
they return are parsed with google.protobuf's descriptor_pb2.
"""
import concurrent.futures
import os
import signal
import sys
import threading
import time

import grpc
from checks import bad, check, message_class, ok
from pbwire import fields, ld
from google.protobuf import descriptor_pb2, descriptor_pool

RESULTS = []




def load_messages(path):
    fds = descriptor_pb2.FileDescriptorSet()
    with open(path, "rb") as f:
        fds.ParseFromString(f.read())
    pool = descriptor_pool.DescriptorPool()
    for fd in fds.file:
        pool.Add(fd)
    classes = {}
    for fd in fds.file:
        for m in fd.message_type:
            full = (fd.package + "." if fd.package else "") + m.name
            classes[full] = message_class(pool.FindMessageTypeByName(full))
    return classes


M = None


def method(ch, kind, path, req, resp):
    """A method of the channel, its messages encoded and decoded by the classes named."""
    ser = M[req].SerializeToString
    de = M[resp].FromString
    return getattr(ch, kind)(path, request_serializer=ser, response_deserializer=de)


def raw(ch, kind, path):
    """A method whose messages are bytes, sent and received as they are."""
    return getattr(ch, kind)(path, request_serializer=lambda b: b, response_deserializer=lambda b: b)


def expect_code(name, fn, code, text=None):
    try:
        r = fn()
        bad(name, "no error; got %r" % (r,))
    except grpc.RpcError as e:
        good = e.code() == code and (text is None or text in (e.details() or ""))
        check(name, good, "want %s %r, got %s %r" % (code, text, e.code(), e.details()))


# ---- the checks ----

def c_unary(ch):
    say = method(ch, "unary_unary", "/helloworld.Greeter/SayHello", "helloworld.HelloRequest", "helloworld.HelloReply")
    r = say(M["helloworld.HelloRequest"](name="world"), timeout=5)
    check("SayHello world -> Hello world", r.message == "Hello world", repr(r))
    r = say(M["helloworld.HelloRequest"](name="李白"), timeout=5)
    check("SayHello with UTF-8", r.message == "Hello 李白", repr(r))
    mul = method(ch, "unary_unary", "/arith.Arith/Multiply", "arith.Args", "arith.Product")
    r = mul(M["arith.Args"](A=7, B=8), timeout=5)
    check("Multiply 7*8 = 56 (Product{value})", r.value == 56, repr(r))
    r = mul(M["arith.Args"](A=-(2**63), B=-1), timeout=5)
    check("Multiply wraps like Go's int64", r.value == -(2**63), repr(r))
    div = method(ch, "unary_unary", "/arith.Arith/Divide", "arith.Args", "arith.Quotient")
    r = div(M["arith.Args"](A=17, B=5), timeout=5)
    check("Divide 17/5 = {3, 2}", (r.Quo, r.Rem) == (3, 2), repr(r))
    expect_code("Divide by zero -> INVALID_ARGUMENT \"divide by zero\"",
                lambda: div(M["arith.Args"](A=1, B=0), timeout=5), grpc.StatusCode.INVALID_ARGUMENT, "divide by zero")
    r = mul.with_call(M["arith.Args"](A=3, B=4), timeout=5)
    check("a unary call's trailers carry status OK", r[1].code() == grpc.StatusCode.OK, repr(r))


def c_streams(ch):
    count = method(ch, "unary_stream", "/tally.Tally/Count", "tally.CountRequest", "tally.Number")
    got = [n.value for n in count(M["tally.CountRequest"](to=5), timeout=5)]
    check("Count (server streaming) 1..5", got == [1, 2, 3, 4, 5], got)
    got = [n.value for n in count(M["tally.CountRequest"](to=20000), timeout=20)]
    check("Count 20000 messages, under flow control", got == list(range(1, 20001)), len(got))
    t0 = time.monotonic()
    got = [n.value for n in count(M["tally.CountRequest"](to=3, interval_ms=200), timeout=5)]
    dt = time.monotonic() - t0
    check("Count with interval_ms=200 takes about 400 ms", got == [1, 2, 3] and 0.35 < dt < 2.0, (got, dt))
    expect_code("Count interval_ms over 1000 -> INVALID_ARGUMENT",
                lambda: list(count(M["tally.CountRequest"](to=3, interval_ms=5000), timeout=5)),
                grpc.StatusCode.INVALID_ARGUMENT, "interval_ms")
    got = list(count(M["tally.CountRequest"](to=0), timeout=5))
    check("Count to 0: no messages, status OK", got == [], got)
    total = method(ch, "stream_unary", "/tally.Tally/Total", "tally.Number", "tally.Number")
    r = total(iter([M["tally.Number"](value=v) for v in (1, 2, 3, 40)]), timeout=5)
    check("Total (client streaming) 1+2+3+40", r.value == 46, repr(r))
    r = total(iter([]), timeout=5)
    check("Total of nothing is 0", r.value == 0, repr(r))
    run = method(ch, "stream_stream", "/tally.Tally/RunningTotal", "tally.Number", "tally.Number")
    got = [n.value for n in run(iter([M["tally.Number"](value=v) for v in (5, 10, -3)]), timeout=5)]
    check("RunningTotal (bidi) 5,10,-3 -> 5,15,12", got == [5, 15, 12], got)

    # bidi in lock step: each answer arrives before the next question is sent
    q = []
    cond = threading.Condition()

    def gen():
        for v in (1, 2, 3):
            with cond:
                q.append(v)
                cond.notify_all()
            yield M["tally.Number"](value=v)
            with cond:
                cond.wait_for(lambda: len(seen) >= len(q), timeout=5)
    seen = []
    for n in run(gen(), timeout=5):
        with cond:
            seen.append(n.value)
            cond.notify_all()
    check("RunningTotal answers each message before the next is sent", seen == [1, 3, 6], seen)


def c_health(ch):
    hc = method(ch, "unary_unary", "/grpc.health.v1.Health/Check", "grpc.health.v1.HealthCheckRequest",
              "grpc.health.v1.HealthCheckResponse")
    req = M["grpc.health.v1.HealthCheckRequest"]
    for svc in ("", "helloworld.Greeter", "arith.Arith", "tally.Tally"):
        r = hc(req(service=svc), timeout=5)
        check("health Check %r -> SERVING" % svc, r.status == 1, repr(r))
    expect_code("health Check of an unknown service -> NOT_FOUND",
                lambda: hc(req(service="no.Such"), timeout=5), grpc.StatusCode.NOT_FOUND)
    expect_code("grpc-message is percent-encoded: UTF-8 arrives intact",
                lambda: hc(req(service="李白 100%"), timeout=5), grpc.StatusCode.NOT_FOUND,
                "unknown service 李白 100%")
    watch = method(ch, "unary_stream", "/grpc.health.v1.Health/Watch", "grpc.health.v1.HealthCheckRequest",
                 "grpc.health.v1.HealthCheckResponse")
    call = watch(req(service=""), timeout=5)
    first = next(call)
    check("health Watch sends SERVING first", first.status == 1, repr(first))
    # the stream stays open: nothing more arrives within half a second
    fut = concurrent.futures.ThreadPoolExecutor(1).submit(lambda: next(call, None))
    try:
        fut.result(timeout=0.5)
        bad("health Watch keeps the stream open", "the stream ended")
    except concurrent.futures.TimeoutError:
        ok("health Watch keeps the stream open")
    call.cancel()
    call = watch(req(service="no.Such"), timeout=5)
    first = next(call)
    check("health Watch of an unknown service says SERVICE_UNKNOWN", first.status == 3, repr(first))
    call.cancel()


def c_reflection(ch, version="v1alpha"):
    """Server reflection, either version (their messages are the same on the wire)."""
    info = raw(ch, "stream_stream", "/grpc.reflection.%s.ServerReflection/ServerReflectionInfo" % version)
    label = "reflection" if version == "v1alpha" else "reflection " + version
    reqs = [ld(7, "*"),                               # list_services
            ld(3, "helloworld.proto"),                # file_by_filename
            ld(4, "arith.Arith"),                     # file_containing_symbol: a service
            ld(4, "tally.Number"),                    # ... a message
            ld(4, "no.Such"),                         # unknown -> error_response
            ld(3, "nope.proto"),
            ld(6, "arith.Args")]                      # all_extension_numbers_of_type
    resps = list(info(iter(reqs), timeout=5))
    check(label + " answers each request in order", len(resps) == len(reqs), len(resps))
    if len(resps) != len(reqs):
        return
    f = fields(resps[0])
    ls = [v for n, _, v in f if n == 6]
    names = sorted(dict((n, v) for n, _, v in fields(s))[1].decode() for _, _, s in fields(ls[0])) if ls else []
    want = sorted(["helloworld.Greeter", "arith.Arith", "tally.Tally", "grpc.health.v1.Health",
                   "grpc.reflection.v1alpha.ServerReflection", "grpc.reflection.v1.ServerReflection"])
    check(label + " list_services names every service", names == want, names)
    orig = [v for n, _, v in f if n == 2]
    check(label + " echoes original_request", orig and orig[0] == reqs[0], f)

    def file_of(resp):
        fdr = [v for n, _, v in fields(resp) if n == 4]
        if not fdr:
            return None
        out = []
        for n, _, b in fields(fdr[0]):
            if n == 1:
                fdp = descriptor_pb2.FileDescriptorProto()
                fdp.ParseFromString(b)
                out.append(fdp)
        return out

    fs = file_of(resps[1])
    check(label + " file_by_filename helloworld.proto",
          fs and fs[0].name == "helloworld.proto" and fs[0].service[0].name == "Greeter"
          and [m.name for m in fs[0].message_type] == ["HelloRequest", "HelloReply"], fs)
    fs = file_of(resps[2])
    check(label + " file_containing_symbol arith.Arith -> arith.proto",
          fs and fs[0].name == "arith.proto" and fs[0].service[0].method[0].name == "Multiply", fs)
    fs = file_of(resps[3])
    ok_ = fs and fs[0].name == "tally.proto"
    if ok_:
        meths = {m.name: (m.client_streaming, m.server_streaming) for m in fs[0].service[0].method}
        ok_ = meths == {"Count": (False, True), "Total": (True, False), "RunningTotal": (True, True)}
    check(label + " tally.Number -> tally.proto, with streaming kinds", ok_, fs)
    for i, what in ((4, "symbol"), (5, "file")):
        er = [v for n, _, v in fields(resps[i]) if n == 7]
        d = {n: v for n, _, v in fields(er[0])} if er else {}
        check(label + " unknown %s -> error_response NOT_FOUND" % what, d.get(1) == 5, fields(resps[i]))
    en = [v for n, _, v in fields(resps[6]) if n == 5]
    d = {n: v for n, _, v in fields(en[0])} if en else None
    check(label + " all_extension_numbers_of_type -> an empty list",
          d is not None and d.get(1) == b"arith.Args" and 2 not in d, fields(resps[6]))


def c_reflection_v1(ch):
    c_reflection(ch, "v1")


def c_errors(ch):
    expect_code("unknown service -> UNIMPLEMENTED",
                lambda: raw(ch, "unary_unary", "/no.Such/Thing")(b"", timeout=5), grpc.StatusCode.UNIMPLEMENTED,
                "unknown service no.Such")
    expect_code("unknown method of a known service -> UNIMPLEMENTED",
                lambda: raw(ch, "unary_unary", "/arith.Arith/Power")(b"", timeout=5), grpc.StatusCode.UNIMPLEMENTED,
                "unknown method Power")
    expect_code("an unknown client-streaming method, the client still sending -> UNIMPLEMENTED",
                lambda: raw(ch, "stream_unary", "/no.Such/Upload")(iter([b"x" * 1000] * 2000), timeout=10),
                grpc.StatusCode.UNIMPLEMENTED, "unknown service no.Such")
    expect_code("two request messages on a unary method -> INTERNAL",
                lambda: raw(ch, "stream_unary", "/arith.Arith/Multiply")(iter([b"\x08\x02", b"\x08\x03"]), timeout=5),
                grpc.StatusCode.INTERNAL, "second request message")
    expect_code("no request message on a unary method -> INTERNAL",
                lambda: raw(ch, "stream_unary", "/arith.Arith/Multiply")(iter([]), timeout=5),
                grpc.StatusCode.INTERNAL, "no request message")
    expect_code("malformed protobuf -> INTERNAL",
                lambda: raw(ch, "unary_unary", "/arith.Arith/Multiply")(b"\x08\xff\xff", timeout=5),
                grpc.StatusCode.INTERNAL, "unmarshalling")
    expect_code("wrong wire type for a field -> INTERNAL",
                lambda: raw(ch, "unary_unary", "/helloworld.Greeter/SayHello")(b"\x0d\x01\x02\x03\x04", timeout=5),
                grpc.StatusCode.INTERNAL)
    count = method(ch, "unary_stream", "/tally.Tally/Count", "tally.CountRequest", "tally.Number")
    t0 = time.monotonic()
    got = []
    try:
        for n in count(M["tally.CountRequest"](to=100, interval_ms=100), timeout=0.35):
            got.append(n.value)
        bad("deadline: a slow Count gets DEADLINE_EXCEEDED", "it finished: %r" % got)
    except grpc.RpcError as e:
        dt = time.monotonic() - t0
        check("deadline: a slow Count gets DEADLINE_EXCEEDED after ~350 ms, some numbers first",
              e.code() == grpc.StatusCode.DEADLINE_EXCEEDED and 1 <= len(got) <= 5 and dt < 2, (e.code(), got, dt))
    # the server's own timer: a raw grpc-timeout is honoured even if the client waits longer
    # (grpc sends grpc-timeout; the server's status must say DEADLINE_EXCEEDED, code 4)
    mul = method(ch, "unary_unary", "/arith.Arith/Multiply", "arith.Args", "arith.Product")
    r = mul(M["arith.Args"](A=2, B=3), timeout=5)
    check("the channel still works after the errors", r.value == 6, repr(r))


def c_large(ch, size):
    say = method(ch, "unary_unary", "/helloworld.Greeter/SayHello", "helloworld.HelloRequest", "helloworld.HelloReply")
    name = ("0123456789abcdef" * (size // 16 + 1))[:size]
    r = say(M["helloworld.HelloRequest"](name=name), timeout=20)
    check("a %d-byte message both ways (flow control)" % size, r.message == "Hello " + name, len(r.message))
    total = method(ch, "stream_unary", "/tally.Tally/Total", "tally.Number", "tally.Number")
    r = total(iter([M["tally.Number"](value=1)] * 50000), timeout=20)
    check("Total of 50000 streamed messages", r.value == 50000, repr(r))


def c_too_big(ch, limit):
    say = method(ch, "unary_unary", "/helloworld.Greeter/SayHello", "helloworld.HelloRequest", "helloworld.HelloReply")
    expect_code("a message over --max-message -> RESOURCE_EXHAUSTED",
                lambda: say(M["helloworld.HelloRequest"](name="x" * (limit + 10)), timeout=10),
                grpc.StatusCode.RESOURCE_EXHAUSTED, "larger than max")
    r = say(M["helloworld.HelloRequest"](name="small"), timeout=5)
    check("and the same channel still works", r.message == "Hello small", repr(r))


def c_concurrent(ch):
    mul = method(ch, "unary_unary", "/arith.Arith/Multiply", "arith.Args", "arith.Product")
    futs = [mul.future(M["arith.Args"](A=i, B=i + 1), timeout=10) for i in range(100)]
    got = [f.result().value for f in futs]
    check("100 concurrent calls on one channel", got == [i * (i + 1) for i in range(100)], got[:5])
    count = method(ch, "unary_stream", "/tally.Tally/Count", "tally.CountRequest", "tally.Number")
    calls = [count(M["tally.CountRequest"](to=50, interval_ms=10), timeout=10) for _ in range(100)]
    with concurrent.futures.ThreadPoolExecutor(100) as ex:
        res = list(ex.map(lambda c: sum(n.value for n in c), calls))
    check("100 concurrent streaming calls on one channel", res == [1275] * 100, res[:5])


def c_idle(ch, seconds):
    watch = method(ch, "unary_stream", "/grpc.health.v1.Health/Watch", "grpc.health.v1.HealthCheckRequest",
                 "grpc.health.v1.HealthCheckResponse")
    w = watch(M["grpc.health.v1.HealthCheckRequest"](service=""), timeout=seconds * 4 + 10)
    next(w)
    time.sleep(seconds * 2 + 1.5)
    check("--idle-timeout leaves a connection with an open Watch alone", w.is_active(), w)
    w.cancel()
    time.sleep(seconds * 2 + 1.5)  # now idle: test_grpc.sh looks for the log line


def c_shutdown(ch, pid):
    count = method(ch, "unary_stream", "/tally.Tally/Count", "tally.CountRequest", "tally.Number")
    call = count(M["tally.CountRequest"](to=5, interval_ms=300), timeout=10)
    watch = method(ch, "unary_stream", "/grpc.health.v1.Health/Watch", "grpc.health.v1.HealthCheckRequest",
                 "grpc.health.v1.HealthCheckResponse")
    w = watch(M["grpc.health.v1.HealthCheckRequest"](service=""), timeout=10)
    first = next(w).status
    got = [next(call).value]
    os.kill(pid, signal.SIGTERM)
    statuses = [first]
    try:
        for r in w:
            statuses.append(r.status)
        bad("graceful shutdown ends health Watch streams", "the Watch ended OK: %r" % statuses)
    except grpc.RpcError as e:
        check("graceful shutdown: a health Watch hears NOT_SERVING, then UNAVAILABLE",
              statuses == [1, 2] and e.code() == grpc.StatusCode.UNAVAILABLE, (statuses, e.code(), e.details(), e.debug_error_string()))
    try:
        got += [n.value for n in call]
        check("graceful shutdown: an in-flight slow Count completes after SIGTERM", got == [1, 2, 3, 4, 5], got)
    except grpc.RpcError as e:
        bad("graceful shutdown: an in-flight slow Count completes after SIGTERM", (e.code(), e.details(), got))
    # new calls are refused: the server said GOAWAY and closed its listener
    mul = method(ch, "unary_unary", "/arith.Arith/Multiply", "arith.Args", "arith.Product")
    expect_code("after shutdown new calls are UNAVAILABLE",
                lambda: mul(M["arith.Args"](A=1, B=2), timeout=3), grpc.StatusCode.UNAVAILABLE)


def c_gzip(ch):
    """Calls with grpc-encoding: gzip, on a channel of their own that compresses."""
    target = sys.argv[2]
    with grpc.insecure_channel(target, compression=grpc.Compression.Gzip) as gz:
        say = method(gz, "unary_unary", "/helloworld.Greeter/SayHello", "helloworld.HelloRequest",
                     "helloworld.HelloReply")
        name = "李白" * 5000  # 30 000 bytes that compress well, so gzip is really used
        r = say(M["helloworld.HelloRequest"](name=name), timeout=5)
        check("gzip-compressed SayHello (30 000 bytes of name) is inflated and answered",
              r.message == "Hello " + name, len(r.message))
        run = method(gz, "stream_stream", "/tally.Tally/RunningTotal", "tally.Number", "tally.Number")
        got = [n.value for n in run(iter([M["tally.Number"](value=v) for v in (5, 10, -3)]), timeout=5)]
        check("gzip-compressed bidi RunningTotal 5,10,-3 -> 5,15,12", got == [5, 15, 12], got)


def main():
    global M
    M = load_messages(sys.argv[1])
    addr = sys.argv[2]
    opts = [("grpc.max_send_message_length", 64 << 20), ("grpc.max_receive_message_length", 64 << 20)]
    with grpc.insecure_channel(addr, options=opts) as ch:
        grpc.channel_ready_future(ch).result(timeout=5)
        for arg in sys.argv[3:]:
            name, _, param = arg.partition("=")
            fn = globals()["c_" + name]
            try:
                fn(ch, int(param)) if param else fn(ch)
            except Exception as e:  # a check that crashed is a failure, not a stop
                bad("check %s ran to the end" % name, repr(e))


if __name__ == "__main__":
    main()
