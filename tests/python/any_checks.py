"""any_checks.py -- python3-grpcio as the client of the anyserver peers (tests/go/anyserver,
tests/node/anyserver.js), which serve the protos of tests/integration/any_protos.sh.

Usage: /usr/bin/python3 any_checks.py DESCRIPTORS.pb ADDR PEER REFLECTION
PEER is the x-peer header the server sends (go or node); REFLECTION is "reflection" when
the peer was started with it, else "none". Prints "ok   NAME" or "FAIL NAME" lines, like
grpc_checks.py; the message classes are built from the descriptor set at run time.
"""
import sys

import grpc
from pbwire import fields
from google.protobuf import descriptor_pb2, descriptor_pool

from grpc_checks import bad, check, message_class


def load(path):
    fds = descriptor_pb2.FileDescriptorSet()
    with open(path, "rb") as f:
        fds.ParseFromString(f.read())
    pool = descriptor_pool.DescriptorPool()
    for fd in fds.file:
        pool.Add(fd)
    return lambda name: message_class(pool.FindMessageTypeByName(name))


def main():
    desc, addr, peer, refl = sys.argv[1:5]
    M = load(desc)
    tag = "%s peer%s: " % (peer, "" if refl == "reflection" else " (no reflection)")

    def method(kind, path, req, resp):
        return getattr(ch, kind)(path, request_serializer=M(req).SerializeToString,
                                 response_deserializer=M(resp).FromString)

    ch = grpc.insecure_channel(addr)
    grpc.channel_ready_future(ch).result(timeout=10)

    add = method("unary_unary", "/sum/add", "req", "reply")
    r, c = add.with_call(M("req")(num1=2, num2=3), timeout=5)
    check(tag + "sum/add {2, 3} -> reply{res: 5}", r.res == 5, r)
    check(tag + "the header x-peer: " + peer, ("x-peer", peer) in tuple(c.initial_metadata()), c.initial_metadata())
    check(tag + "the trailer x-trailer: done", ("x-trailer", "done") in tuple(c.trailing_metadata()),
          c.trailing_metadata())

    Student = M("pb.Student")
    s = Student(age=20, name="Tom", score=[1, 2], w=2)
    s.p.weight = 60
    setattr(s, "class", "c1")
    want = Student()
    want.CopyFrom(s)
    want.name, want.age = "Tom 你好", 21
    r = method("unary_unary", "/pb.AddName/AddFunc", "pb.Student", "pb.Student")(s, timeout=5)
    check(tag + "pb.AddName/AddFunc: name + \" 你好\", age + 1, the rest unchanged", r == want, r)

    N = M("stream.N")
    got = [m.n for m in method("unary_stream", "/stream.Counter/Count", "stream.N", "stream.N")(N(n=3), timeout=5)]
    check(tag + "Counter/Count 3 -> 1, 2, 3 (server streaming)", got == [1, 2, 3], got)
    r = method("stream_unary", "/stream.Counter/Total", "stream.N", "stream.N")(iter([N(n=3), N(n=4)]), timeout=5)
    check(tag + "Counter/Total 3, 4 -> 7 (client streaming)", r.n == 7, r)
    got = [m.n for m in method("stream_stream", "/stream.Counter/Echo", "stream.N", "stream.N")(
        iter([N(n=3), N(n=4)]), timeout=5)]
    check(tag + "Counter/Echo 3, 4 -> 3, 4 (bidirectional)", got == [3, 4], got)
    try:
        method("unary_unary", "/stream.Counter/Fail", "stream.N", "stream.N")(N(n=1), timeout=5)
        bad(tag + "Counter/Fail -> INVALID_ARGUMENT", "no error")
    except grpc.RpcError as e:
        check(tag + "Counter/Fail -> INVALID_ARGUMENT \"n must be negative\"",
              e.code() == grpc.StatusCode.INVALID_ARGUMENT and e.details() == "n must be negative",
              (e.code(), e.details()))
        if peer == "go":
            md = dict(e.trailing_metadata())
            st = fields(md.get("grpc-status-details-bin", b""))
            anys = [fields(v) for n, _, v in st if n == 3]
            urls = [v for a in anys for n, _, v in a if n == 1]
            check(tag + "and a google.rpc.BadRequest in grpc-status-details-bin",
                  urls == [b"type.googleapis.com/google.rpc.BadRequest"], st)

    Stamped = M("stream.Stamped")
    st = Stamped(id=-(2 ** 62))
    st.at.seconds, st.at.nanos = 1700000000, 5000
    st.took.seconds, st.took.nanos = 3, 500000000
    st.note.value = "注"
    st.big.value = 2 ** 53 + 1
    st.extra.update({"a": 1.5, "b": [True, None, "x"]})
    st.counts["x"] = 1
    st.counts["y"] = -2
    r = method("unary_unary", "/stream.Counter/Stamp", "stream.Stamped", "stream.Stamped")(st, timeout=5)
    check(tag + "Counter/Stamp echoes Timestamp, Duration, wrappers, Struct and a map", r == st, r)

    info = ch.stream_stream("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo")
    try:
        resps = list(info(iter([b"\x3a\x00"]), timeout=5))
        names = [dict((n, v) for n, _, v in fields(s))[1].decode()
                 for _, _, s in fields(dict((n, v) for n, _, v in fields(resps[0]))[6])]
        check(tag + "reflection v1alpha lists pb.AddName and stream.Counter" if refl == "reflection"
              else tag + "no reflection unless asked", refl == "reflection" and
              "pb.AddName" in names and "stream.Counter" in names, names)
    except grpc.RpcError as e:
        check(tag + "no reflection unless asked (UNIMPLEMENTED)",
              refl != "reflection" and e.code() == grpc.StatusCode.UNIMPLEMENTED, (e.code(), e.details()))


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # a check that crashed is a failure, not a stop
        bad("any_checks ran to the end", repr(e))
