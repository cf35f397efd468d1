"""pbwire.py -- the protobuf wire format by hand, for the Python test peers: just what
they need (varints and length-delimited fields), so they need no generated code."""


def varint(n):
    """The varint encoding of n (negative numbers as their 64-bit two's complement)."""
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def read_varint(data, i):
    """The varint at data[i:] and the index after it."""
    n = s = 0
    while True:
        b = data[i]
        i += 1
        n |= (b & 0x7F) << s
        s += 7
        if not b & 0x80:
            return n, i


def ld(field, data):
    """A length-delimited field."""
    if isinstance(data, str):
        data = data.encode()
    return varint(field << 3 | 2) + varint(len(data)) + data


def fields(data):
    """(number, wire type, value) for each varint or length-delimited field of a message."""
    i, out = 0, []
    while i < len(data):
        key, i = read_varint(data, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = read_varint(data, i)
        elif wt == 2:
            n, i = read_varint(data, i)
            v, i = data[i:i + n], i + n
        else:
            raise ValueError("wire type %d" % wt)
        out.append((num, wt, v))
    return out


def int64(v):
    """A varint's value read as a signed 64-bit integer."""
    return v - (1 << 64) if v >= 1 << 63 else v
