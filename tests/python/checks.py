"""checks.py -- what the Python test peers share: their "ok/FAIL" lines, which the
integration scripts count, a message class from a protobuf descriptor, and the files a
server's reflection gives for a symbol."""
from google.protobuf import descriptor_pb2, message_factory
from pbwire import fields, ld


def ok(name):
    print("ok   " + name, flush=True)


def bad(name, detail):
    print("FAIL " + name, flush=True)
    for line in str(detail).splitlines()[:20]:
        print("     " + line, flush=True)


def check(name, cond, detail=""):
    if cond:
        ok(name)
    else:
        bad(name, detail)


def message_class(desc):
    """The class of messages of desc, on old and new google.protobuf alike."""
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(desc)
    return message_factory.MessageFactory(desc.file.pool).GetPrototype(desc)


def reflected_files(ch, symbol):
    """The FileDescriptorProtos a server's reflection (v1alpha) gives for symbol: the file
    that defines it, then the files it imports; [] when it answers none."""
    info = ch.stream_stream("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                            request_serializer=lambda b: b, response_deserializer=lambda b: b)
    resps = list(info(iter([ld(4, symbol)]), timeout=5))  # file_containing_symbol
    fdr = [v for n, _, v in fields(resps[0]) if n == 4] if resps else []
    files = []
    for n, _, b in fields(fdr[0]) if fdr else []:
        if n == 1:
            fdp = descriptor_pb2.FileDescriptorProto()
            fdp.ParseFromString(b)
            files.append(fdp)
    return files
