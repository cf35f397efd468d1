#!/usr/bin/python3
"""slowloris.py -- a hostile HTTP client for the gateway's tests and bench/slowloris_attack.sh:
connections that trickle a request head a byte at a time and never finish it, and a
well-behaved client that measures how fast it is served meanwhile. Standard library only,
loopback addresses only (127.0.0.0/8, source and target), every loop bounded in time.

  slowloris.py HOST:PORT trickle CONNS INTERVAL SECONDS [--from A,B,...] [--reconnect]
               [--count-at T] [--fat BYTES]
      opens CONNS connections (spread over the source addresses, default 127.0.0.1), each
      sending "GET / HTTP/1.1" and then one byte of a header every INTERVAL seconds, for
      SECONDS; with --reconnect a connection the server closes is opened again. Prints
      "opened=N alive_at=K closed=C alive_end=E life_min=S life_max=S reconnects=R":
      alive_at is how many were open T seconds (default 0.5) after the last one opened,
      life_* how long the ones the server closed had lived (-1 when none). --fat sends
      BYTES of whole header lines first, so each connection fills the server's buffer.
  slowloris.py HOST:PORT probe PATH SECONDS [--from A] [--gap-ms MS]
      a request for PATH on a new connection every MS (default 50) milliseconds for
      SECONDS, each given 5 s; prints "served=N failed=F p50_ms=X p99_ms=Y max_ms=Z".
"""
import ipaddress
import selectors
import socket
import sys
import time


def loopback(addr):
    if not ipaddress.ip_address(addr).is_loopback:
        sys.exit(f"slowloris.py: {addr} is not a loopback address; this tool only talks to this machine")
    return addr


def target(arg):
    host, _, port = arg.rpartition(":")
    return loopback(host), int(port)


def option(args, name, default):
    if name in args:
        i = args.index(name)
        value = args[i + 1]
        del args[i:i + 2]
        return value
    return default


def connect(dst, src, timeout, fat=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((src, 0))
        s.settimeout(timeout)
        s.connect(dst)
        pad = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"p" * 990) for i in range(fat // 1000))
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n" + pad + b"X-Slow: ")
        s.setblocking(False)
        return s
    except OSError:
        s.close()
        return None


def trickle(dst, args):
    reconnect = "--reconnect" in args
    if reconnect:
        args.remove("--reconnect")
    sources = [loopback(a) for a in option(args, "--from", "127.0.0.1").split(",")]
    count_at = float(option(args, "--count-at", "0.5"))
    fat = int(option(args, "--fat", "0"))
    conns, interval, seconds = int(args[0]), float(args[1]), float(args[2])
    end = time.monotonic() + seconds
    sel = selectors.DefaultSelector()
    born = {}  # socket -> when it connected
    opened = closed = reconnects = 0
    lives = []

    def open_one(i):
        nonlocal opened
        s = connect(dst, sources[i % len(sources)], 1.0, fat)
        if s:
            opened += 1
            born[s] = time.monotonic()
            sel.register(s, selectors.EVENT_READ)

    def drop(s):
        sel.unregister(s)
        s.close()
        del born[s]

    def poll(wait):
        nonlocal closed
        gone = 0
        for key, _ in sel.select(max(wait, 0)):
            s = key.fileobj
            try:
                data = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:  # the server closed it
                lives.append(time.monotonic() - born[s])
                closed += 1
                gone += 1
                drop(s)
        return gone

    for i in range(conns):
        if time.monotonic() >= end:
            break
        open_one(i)
        if i % 100 == 99:
            poll(0)
    alive_at = -1
    count_time = time.monotonic() + count_at
    next_byte = time.monotonic() + interval
    while time.monotonic() < end:
        now = time.monotonic()
        if alive_at < 0 and now >= count_time:
            poll(0)
            alive_at = len(born)
        if now >= next_byte:
            for s in list(born):
                try:
                    s.send(b"x")
                except OSError:
                    pass  # poll sees it closed
            next_byte += interval
        gone = poll(min(next_byte, end, count_time if alive_at < 0 else end) - time.monotonic())
        for _ in range(gone if reconnect else 0):
            if time.monotonic() >= end:
                break
            open_one(opened)
            reconnects += 1
    poll(0)
    if alive_at < 0:
        alive_at = len(born)
    alive_end = len(born)
    for s in list(born):
        drop(s)
    life_min = f"{min(lives):.2f}" if lives else "-1"
    life_max = f"{max(lives):.2f}" if lives else "-1"
    print(f"opened={opened} alive_at={alive_at} closed={closed} alive_end={alive_end} "
          f"life_min={life_min} life_max={life_max} reconnects={reconnects}", flush=True)


def probe(dst, args):
    src = loopback(option(args, "--from", "127.0.0.1"))
    gap = float(option(args, "--gap-ms", "50")) / 1000.0
    path, seconds = args[0], float(args[1])
    request = f"GET {path} HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n\r\n".encode()
    ms, failed, end = [], 0, time.monotonic() + seconds
    while time.monotonic() < end:
        t = time.monotonic()
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.settimeout(5)
                s.bind((src, 0))
                s.connect(dst)
                s.sendall(request)
                reply = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    reply += chunk
            if reply[:9] == b"HTTP/1.1 " and reply[9:10] in (b"2", b"3", b"4"):
                ms.append((time.monotonic() - t) * 1000)
            else:
                failed += 1
        except OSError:
            failed += 1
        time.sleep(max(0.0, gap - (time.monotonic() - t)))
    ms.sort()

    def pct(p):
        return f"{ms[min(len(ms) - 1, int(len(ms) * p))]:.1f}" if ms else "nan"
    print(f"served={len(ms)} failed={failed} p50_ms={pct(0.5)} p99_ms={pct(0.99)} "
          f"max_ms={ms[-1] if ms else float('nan'):.1f}", flush=True)


def main():
    if len(sys.argv) < 3 or sys.argv[2] not in ("trickle", "probe"):
        sys.exit(__doc__)
    dst, mode, args = target(sys.argv[1]), sys.argv[2], sys.argv[3:]
    (trickle if mode == "trickle" else probe)(dst, args)


if __name__ == "__main__":
    main()
