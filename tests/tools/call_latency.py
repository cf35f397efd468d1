#!/usr/bin/python3
"""call_latency.py -- a legitimate client for the bench/*_attack.sh scripts: calls a server
again and again for SECONDS (one call at a time, 10 ms apart, each with a 5 s deadline)
and prints how many were served and their latency. Loopback use.

  call_latency.py grpc ADDR SECONDS LABEL [PATH [HEX]]
      unary calls on one python3-grpcio channel: /arith.Arith/Multiply with Args{7, 8},
      or PATH with the request message HEX (default empty)
  call_latency.py jsonrpc ADDR SECONDS LABEL
  call_latency.py gob ADDR SECONDS LABEL
      Arith.Multiply {7, 8}, each call on a fresh connection (so each one needs a slot
      among the server's connections), the reply checked to be 56

Prints "LABEL: N calls served, F failed; p50 X ms, p99 Y ms, max Z ms" and, for the
socket codecs, how many took over 100 ms.
"""
import socket
import sys
import time

# Request{"Arith.Multiply", 0} then Args{7, 8}, as a fresh Go net/rpc client sends them,
# and Response{"Arith.Multiply", 0, ""} then 56 (tests/unit/test_netrpc.c)
GOB_CALL = bytes.fromhex(
    "2fff81030101075265717565737401ff82000102010d536572766963654d6574686f64010c00010353657101"
    "0600000013ff82010e41726974682e4d756c7469706c7900"
    "1eff83030101044172677301ff84000102010141010400010142010400000007ff84010e011000")
GOB_REPLY = bytes.fromhex(
    "3aff8103010108526573706f6e736501ff82000103010d536572766963654d6574686f64010c000103536571"
    "01060001054572726f72010c00000013ff82010e41726974682e4d756c7469706c7900"
    "03040070")
JSON_CALL = b'{"method":"Arith.Multiply","params":[{"A":7,"B":8}],"id":1}\n'


def socket_call(addr, request, done):
    """One call on a fresh connection; done(reply so far) says whether the reply is whole."""
    host, port = addr.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(request)
        got = b""
        while not done(got):
            chunk = s.recv(4096)
            if not chunk:
                raise OSError("closed by the server after %d bytes" % len(got))
            got += chunk
        return got


def caller(kind, addr, argv):
    if kind == "grpc":
        import grpc
        ch = grpc.insecure_channel(addr)
        path = argv[0] if argv else "/arith.Arith/Multiply"
        req = bytes.fromhex(argv[1]) if len(argv) > 1 else b"" if argv else bytes([8, 7, 16, 8])
        call = ch.unary_unary(path)
        return lambda: call(req, timeout=5), grpc.RpcError
    if kind == "jsonrpc":
        def one():
            got = socket_call(addr, JSON_CALL, lambda b: b.endswith(b"\n"))
            if b'"result":56' not in got:
                raise OSError("unexpected reply %r" % got[:80])
        return one, OSError
    if kind == "gob":
        def one():
            got = socket_call(addr, GOB_CALL, lambda b: len(b) >= len(GOB_REPLY))
            if got != GOB_REPLY:
                raise OSError("unexpected reply %s" % got.hex()[:80])
        return one, OSError
    sys.exit(__doc__)


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    kind, addr, secs, label = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
    one, failure = caller(kind, addr, sys.argv[5:])
    ms, failed, why, end = [], 0, "", time.monotonic() + secs
    while time.monotonic() < end:
        t = time.monotonic()
        try:
            one()
            ms.append((time.monotonic() - t) * 1000)
        except failure as e:
            failed += 1
            why = why or str(e).splitlines()[0][:100]
        time.sleep(0.01)
    ms.sort()
    pct = lambda p: ms[min(len(ms) - 1, int(len(ms) * p))] if ms else float("nan")
    line = (f"{label}: {len(ms)} calls served, {failed} failed; p50 {pct(0.5):.1f} ms, "
            f"p99 {pct(0.99):.1f} ms, max {ms[-1] if ms else float('nan'):.1f} ms")
    if kind != "grpc":
        line += f", {sum(1 for m in ms if m > 100)} over 100 ms"
    print(line + (f" (first failure: {why})" if why else ""), flush=True)


if __name__ == "__main__":
    main()
