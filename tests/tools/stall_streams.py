#!/usr/bin/python3
"""stall_streams.py -- a hostile gRPC client for tests/integration/test_grpc.sh: streams
that hold memory in the server and never finish. Standard library only, loopback use,
every wait bounded.

  stall_streams.py ADDR halfopen SECONDS
      one connection, one SayHello whose request message is begun and never finished;
      prints what the server sends ("rst stream=1 code=8") and "closed" when it closes
      the connection, or "open" when SECONDS pass first.
  stall_streams.py ADDR hold CONNS STREAMS SECONDS [PATH]
      CONNS connections, each opening STREAMS streams that send all but the last bytes
      of a 1 MiB - 64 request message, then holds them for SECONDS; prints
      "sent=BYTES rst=N rst_calm=K rst_refused=R closed=C" (rst_calm: RST_STREAM
      ENHANCE_YOUR_CALM, which gRPC clients read as RESOURCE_EXHAUSTED; rst_refused:
      REFUSED_STREAM; closed: connections the server closed), and when it closed any,
      how long after each one's last bytes were sent (min-max). Stops early once the
      server has closed every connection. PATH (default /helloworld.Greeter/SayHello)
      names the method, for servers that do not serve that one.
  stall_streams.py ADDR reflect CONNS STREAMS SECONDS
      as hold, but each stream sends 64 KiB of reflection requests (list_services, each
      answered with about thirty times its size) on connections that leave the server
      no window to reply in (SETTINGS_INITIAL_WINDOW_SIZE 0): replies that are never read.
"""
import select
import socket
import struct
import sys
import time

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
MSG = (1 << 20) - 64  # a request just under --max-message's default


def frame(ftype, flags, sid, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", sid) + payload


def literal(name, value):
    # a literal header field without indexing, new name, no Huffman coding
    def s(b):
        assert len(b) < 127
        return bytes([len(b)]) + b
    return b"\x00" + s(name) + s(value)


def headers(sid, path):
    block = b"".join(literal(n, v) for n, v in [
        (b":method", b"POST"), (b":scheme", b"http"), (b":path", path),
        (b":authority", b"localhost"), (b"content-type", b"application/grpc"), (b"te", b"trailers")])
    return frame(1, 0x4, sid, block)  # HEADERS, END_HEADERS


def data(sid, payload):
    out = b""
    for i in range(0, len(payload), 16384):
        out += frame(0, 0, sid, payload[i:i + 16384])
    return out


def connect(addr, window=(1 << 31) - 1):
    host, port = addr.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=5)
    # by default a large window of our own, so the server's replies are never what stops it
    s.sendall(PREFACE + frame(4, 0, 0, struct.pack(">HI", 4, window)))
    return s


class Reader:
    """Parses the frames the server sends; counts RST_STREAM codes and notes a close."""

    def __init__(self, sock):
        self.sock, self.buf, self.rst, self.closed = sock, b"", [], False
        self.stuck, self.last_sent, self.closed_at = False, time.monotonic(), None

    def poll(self, wait):
        if self.closed:
            return
        r, _, _ = select.select([self.sock], [], [], wait)
        if not r:
            return
        try:
            chunk = self.sock.recv(65536)
        except OSError:
            chunk = b""
        if not chunk:
            self.closed, self.closed_at = True, time.monotonic()
            return
        self.buf += chunk
        while len(self.buf) >= 9:
            n = int.from_bytes(self.buf[:3], "big")
            if len(self.buf) < 9 + n:
                break
            ftype, flags = self.buf[3], self.buf[4]
            sid = int.from_bytes(self.buf[5:9], "big") & 0x7FFFFFFF
            body = self.buf[9:9 + n]
            self.buf = self.buf[9 + n:]
            if ftype == 3:
                self.rst.append((sid, int.from_bytes(body[:4], "big")))
            elif ftype == 4 and not flags & 1:
                self.sock.sendall(frame(4, 1, 0))  # SETTINGS ACK


def halfopen(addr, seconds):
    s = connect(addr)
    msg = b"\x00" + struct.pack(">I", 100) + b"\x0a\x05world"  # 12 of 105 bytes
    s.sendall(headers(1, b"/helloworld.Greeter/SayHello") + data(1, msg))
    r = Reader(s)
    end = time.monotonic() + seconds
    printed = 0
    while not r.closed and time.monotonic() < end:
        r.poll(0.1)
        for sid, code in r.rst[printed:]:
            print("rst stream=%d code=%d" % (sid, code), flush=True)
        printed = len(r.rst)
    print("closed" if r.closed else "open", flush=True)


def hold(addr, conns, streams, seconds, reflect=False, path=b"/helloworld.Greeter/SayHello"):
    socks = [connect(addr, 0 if reflect else (1 << 31) - 1) for _ in range(conns)]
    readers = [Reader(s) for s in socks]
    if reflect:
        path = b"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
        body = b"\x00\x00\x00\x00\x02\x3a\x00" * (65536 // 7)  # list_services: ""
    else:
        body = b"\x00" + struct.pack(">I", MSG) + b"\x01" * (MSG - 16)
    sent = 0
    for sid in range(1, 2 * streams, 2):
        for s, r in zip(socks, readers):
            if r.closed or r.stuck:
                continue
            try:
                s.sendall(headers(sid, path) + data(sid, body))
                sent += len(body)
                r.last_sent = time.monotonic()
            except OSError:
                r.stuck = True  # throttled or sent away: either way, it holds no more
            r.poll(0)
    end = time.monotonic() + seconds
    while time.monotonic() < end and not all(r.closed for r in readers):
        for r in readers:
            r.poll(0.01)
    rst = sum(len(r.rst) for r in readers)
    calm = sum(1 for r in readers for _, code in r.rst if code == 11)
    refused = sum(1 for r in readers for _, code in r.rst if code == 7)
    closed = sum(1 for r in readers if r.closed)
    after = sorted(r.closed_at - r.last_sent for r in readers if r.closed_at)
    print("sent=%d rst=%d rst_calm=%d rst_refused=%d closed=%d" % (sent, rst, calm, refused, closed)
          + ("; closed %.1f-%.1f s after their last bytes" % (after[0], after[-1]) if after else ""),
          flush=True)


def main():
    if len(sys.argv) >= 4 and sys.argv[2] == "halfopen":
        halfopen(sys.argv[1], float(sys.argv[3]))
    elif len(sys.argv) >= 6 and sys.argv[2] == "hold":
        path = sys.argv[6].encode() if len(sys.argv) > 6 else b"/helloworld.Greeter/SayHello"
        hold(sys.argv[1], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), path=path)
    elif len(sys.argv) >= 6 and sys.argv[2] == "reflect":
        hold(sys.argv[1], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), reflect=True)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
