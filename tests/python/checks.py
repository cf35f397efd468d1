"""checks.py -- what the Python test peers share: their "ok/FAIL" lines, which the
integration scripts count, and a message class from a protobuf descriptor."""
from google.protobuf import message_factory


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
