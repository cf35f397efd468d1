"""shipping_checks.py -- python3-grpcio (gRPC's C core) as a client of bin/shipping-server.

Usage: /usr/bin/python3 shipping_checks.py ADDR1 ADDR2 IDFILE
       /usr/bin/python3 shipping_checks.py --list ADDR IDFILE
The message classes come from proto/consignment.proto compiled by grpc_tools when it is
installed, else from the FileDescriptorProto the server's reflection (v1alpha) gives.
The first form creates consignments with containers through ADDR1 and ADDR2 (two
instances on one database), lists them through each, checks the errors, and writes the
ids it created to IDFILE. The second lists through ADDR (after a restart) and checks
every id of IDFILE is there with its containers. Prints "ok   NAME" or "FAIL NAME" with
indented details, one line per check; tests/integration/test_shipping.sh counts them.
"""
import os
import sys
import tempfile

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool
from checks import bad, check, message_class, reflected_files

SERVICE = "go.micro.srv.consignment.ShippingService"
PROTO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "proto", "consignment.proto")




def from_protoc():
    """The file's descriptor from grpc_tools' protoc, or None when it is not installed."""
    try:
        from grpc_tools import protoc
    except ImportError:
        return None
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "set.pb")
        if protoc.main(["protoc", "--proto_path=" + os.path.dirname(PROTO), "--descriptor_set_out=" + out,
                        PROTO]) != 0:
            return None
        fds = descriptor_pb2.FileDescriptorSet()
        with open(out, "rb") as f:
            fds.ParseFromString(f.read())
        return list(fds.file)


def from_reflection(ch):
    return reflected_files(ch, SERVICE)


def learn(ch):
    files = from_protoc()
    how = "grpc_tools' protoc"
    if files is None:
        files, how = from_reflection(ch), "the server's reflection"
    pool = descriptor_pool.DescriptorPool()
    for fdp in files:
        pool.Add(fdp)
    mine = [f for f in files if f.package == "go.micro.srv.consignment"]
    check("the messages of consignment.proto, from " + how, mine, [f.name for f in files])
    if not mine:
        return None, None
    pkg = "go.micro.srv.consignment."
    classes = {m.name: message_class(pool.FindMessageTypeByName(pkg + m.name)) for m in mine[0].message_type}
    methods = {m.name: (m.input_type.lstrip(".").split(".")[-1], m.output_type.lstrip(".").split(".")[-1])
               for m in mine[0].service[0].method}
    return classes, methods


def stubs(ch, M, methods):
    def rpc(name):
        req, resp = methods[name]
        return ch.unary_unary("/%s/%s" % (SERVICE, name), request_serializer=M[req].SerializeToString,
                              response_deserializer=M[resp].FromString)
    return rpc("CreateConsignment"), rpc("GetConsignments")


def expect_code(name, fn, code, text):
    try:
        r = fn()
        bad(name, "no error; got %r" % (r,))
    except grpc.RpcError as e:
        good = e.code() == code and text in (e.details() or "")
        check(name, good, "want %s %r, got %s %r" % (code, text, e.code(), e.details()))


def consignment(M, tag, n):
    boxes = [M["Container"](id="%s-box%d" % (tag, i), customer_id="cust%03d" % i, origin="Manchester, 英国",
                            user_id="user%03d" % i) for i in range(n)]
    return M["Consignment"](description="This is a test consignment " + tag, weight=55000, containers=boxes,
                            vessel_id="vessel001")


def both(addr1, addr2, idfile):
    ch1, ch2 = grpc.insecure_channel(addr1), grpc.insecure_channel(addr2)
    M, methods = learn(ch1)
    if not M:
        return
    check("service ShippingService { CreateConsignment, GetConsignments }",
          methods == {"CreateConsignment": ("Consignment", "Response"),
                      "GetConsignments": ("GetRequest", "Response")}, methods)
    create1, get1 = stubs(ch1, M, methods)
    create2, get2 = stubs(ch2, M, methods)
    r = create1(consignment(M, "a", 2), timeout=5)
    a = r.consignment
    check("CreateConsignment: created, with a new id and its two containers",
          r.created and len(a.id) == 36 and [c.id for c in a.containers] == ["a-box0", "a-box1"], r)
    r = create2(M["Consignment"](id="given-1", description="d", weight=0, vessel_id="v"), timeout=5)
    check("CreateConsignment keeps an id given", r.created and r.consignment.id == "given-1", r)
    b = create2(consignment(M, "b", 3), timeout=5).consignment
    for name, get in (("the first", get1), ("the second", get2)):
        l = get(M["GetRequest"](), timeout=5)
        ids = [c.id for c in l.consignments]
        check("GetConsignments through %s instance lists all three, oldest first" % name,
              ids[-3:] == [a.id, "given-1", b.id] and not l.created, ids)
    l = get1(M["GetRequest"](), timeout=5)
    got = {c.id: c for c in l.consignments}
    check("the other instance's consignment comes with its containers",
          b.id in got and [c.origin for c in got[b.id].containers] == ["Manchester, 英国"] * 3 and
          got[b.id].weight == 55000, got.get(b.id))
    expect_code("an id taken is ALREADY_EXISTS", lambda: create1(M["Consignment"](id="given-1"), timeout=5),
                grpc.StatusCode.ALREADY_EXISTS, "consignment given-1 exists already")
    expect_code("a negative weight is INVALID_ARGUMENT, with the reason",
                lambda: create1(M["Consignment"](weight=-3), timeout=5),
                grpc.StatusCode.INVALID_ARGUMENT, "weight must be 0 or more, not -3")
    expect_code("101 containers are INVALID_ARGUMENT, saying the cap",
                lambda: create1(consignment(M, "many", 101), timeout=5),
                grpc.StatusCode.INVALID_ARGUMENT, "101 containers; at most 100 in one consignment")
    expect_code("a 65-byte vessel_id is INVALID_ARGUMENT, saying the cap",
                lambda: create2(M["Consignment"](vessel_id="v" * 65), timeout=5),
                grpc.StatusCode.INVALID_ARGUMENT, "vessel_id is 65 bytes; at most 64")
    expect_code("a container's origin over 64 bytes is named",
                lambda: create2(M["Consignment"](containers=[M["Container"](origin="o" * 70)]), timeout=5),
                grpc.StatusCode.INVALID_ARGUMENT, "containers[0].origin is 70 bytes; at most 64")
    n = len(get2(M["GetRequest"](), timeout=5).consignments)
    check("nothing refused was stored", n == len(l.consignments), (n, len(l.consignments)))
    with open(idfile, "w") as f:
        f.write("%s %s %s\n" % (a.id, "given-1", b.id))


def after_restart(addr, idfile):
    ch = grpc.insecure_channel(addr)
    M, methods = learn(ch)
    if not M:
        return
    _, get = stubs(ch, M, methods)
    want = open(idfile).read().split()
    l = get(M["GetRequest"](), timeout=5)
    got = {c.id: len(c.containers) for c in l.consignments}
    check("after a restart every consignment is still there, with its containers (SQLite)",
          [got.get(i) for i in want] == [2, 0, 3], (want, got))


if sys.argv[1] == "--list":
    after_restart(sys.argv[2], sys.argv[3])
else:
    both(sys.argv[1], sys.argv[2], sys.argv[3])
