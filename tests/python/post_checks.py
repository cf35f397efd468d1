"""post_checks.py -- python3-grpcio (gRPC's C core) as a client of bin/post-server, which it
knows only through the server's reflection.

Usage: /usr/bin/python3 post_checks.py ADDR [KNOWN_ID KNOWN_TITLE]
Asks the server's reflection (v1alpha) for the file that defines post.Post, builds the
message classes from that FileDescriptorProto with google.protobuf, and calls Create,
Get and List with them, then the errors. KNOWN_ID is a post written through the
gateway, to be read back here with KNOWN_TITLE. Prints "ok   NAME" or "FAIL NAME" with
indented details, one line per check; tests/integration/test_posts.sh counts them.
"""
import sys

import grpc
from google.protobuf import descriptor_pool
from checks import bad, check, message_class, reflected_files




def learn(ch):
    """The message classes of the file defining post.Post, from the server's reflection."""
    files = reflected_files(ch, "post.Post")
    pool = descriptor_pool.DescriptorPool()
    for fdp in files:
        pool.Add(fdp)
    post = [f for f in files if f.package == "post"]
    if not post:
        return None, None
    classes = {m.name: message_class(pool.FindMessageTypeByName("post." + m.name)) for m in post[0].message_type}
    methods = {m.name: (m.input_type.lstrip(".").split(".")[-1], m.output_type.lstrip(".").split(".")[-1])
               for m in post[0].service[0].method}
    return classes, methods


def expect_code(name, fn, code, text=None):
    try:
        r = fn()
        bad(name, "no error; got %r" % (r,))
    except grpc.RpcError as e:
        good = e.code() == code and (text is None or text in (e.details() or ""))
        check(name, good, "want %s %r, got %s %r" % (code, text, e.code(), e.details()))


def main():
    addr = sys.argv[1]
    ch = grpc.insecure_channel(addr)
    M, methods = learn(ch)
    check("reflection gives post.proto: service Post { Create, Get, List }",
          methods == {"Create": ("NewPost", "PostInfo"), "Get": ("GetPost", "PostInfo"),
                      "List": ("ListPosts", "PostList")}, methods)
    if not M:
        return

    def rpc(name):
        req, resp = methods[name]
        return ch.unary_unary("/post.Post/" + name, request_serializer=M[req].SerializeToString,
                              response_deserializer=M[resp].FromString)

    create, get, lst = rpc("Create"), rpc("Get"), rpc("List")
    p = create(M["NewPost"](user="python", title="春晓", body="春眠不觉晓，\n处处闻啼鸟。"), timeout=5)
    check("Create stores a post for the user given", p.id > 0 and p.user == "python" and p.title == "春晓", p)
    check("Create says which instance stored it", p.served_by == addr, p.served_by)
    g = get(M["GetPost"](id=p.id), timeout=5)
    check("Get reads it back, body and created_at (ms) too",
          (g.body, g.created_at) == ("春眠不觉晓，\n处处闻啼鸟。", p.created_at) and g.created_at > 1600000000000, g)
    again = create(M["NewPost"](user="python", title="t", body="b", request_id="py-1"), timeout=5)
    same = create(M["NewPost"](user="python", title="t", body="b", request_id="py-1"), timeout=5)
    check("Create with a request_id seen before returns the same post", again.id == same.id, (again, same))
    l = lst(M["ListPosts"](user="python"), timeout=5)
    check("List gives the user's posts, newest first", [x.id for x in l.posts] == [again.id, p.id], l)
    l = lst(M["ListPosts"](user="python", limit=1), timeout=5)
    check("List honours limit", [x.id for x in l.posts] == [again.id], l)
    if len(sys.argv) > 3:
        k = get(M["GetPost"](id=int(sys.argv[2])), timeout=5)
        check("Get reads the post written through the gateway", k.title == sys.argv[3], k)
        l = lst(M["ListPosts"](), timeout=5)
        check("List with no user gives everyone's posts",
              {"python", "li"} <= {x.user for x in l.posts} and l.posts[0].id == again.id, l)
    expect_code("Get of an unknown id is NOT_FOUND", lambda: get(M["GetPost"](id=987654), timeout=5),
                grpc.StatusCode.NOT_FOUND, "no post 987654")
    expect_code("Create with an empty title is INVALID_ARGUMENT",
                lambda: create(M["NewPost"](user="python", title="", body="b"), timeout=5),
                grpc.StatusCode.INVALID_ARGUMENT, "title is required")
    expect_code("Create with a 10001-byte body is INVALID_ARGUMENT, saying the cap",
                lambda: create(M["NewPost"](user="python", title="t", body="x" * 10001), timeout=5),
                grpc.StatusCode.INVALID_ARGUMENT, "body is 10001 bytes; at most 10000")
    expect_code("Create with no user is INVALID_ARGUMENT",
                lambda: create(M["NewPost"](title="t", body="b"), timeout=5),
                grpc.StatusCode.INVALID_ARGUMENT, "user is required")


main()
