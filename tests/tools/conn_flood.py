#!/usr/bin/python3
"""conn_flood.py -- a hostile client for bench/conn_attack.sh: thousands of connections
that cost the attacker nothing, idle or each holding a few bytes of a request that never
ends. Standard library only (epoll), loopback use, every wait bounded.

  conn_flood.py ADDR N SOURCES SECONDS [HEX]
      opens N connections to ADDR, spread in turn over SOURCES source addresses
      127.0.0.2, 127.0.0.3, ... (at most 250), at most 512 connecting at a time, each
      given up after 5 s; on each one sends the bytes HEX once connected, if given; then
      holds them SECONDS more, reading and discarding whatever the server sends.
      Prints "opened N in T s, M of them still open" once the last one is open, then at the end
      "opened=O failed=F closed=C open=R", and when any were closed, after how long
      from their opening (min, median, max). The caller raises `ulimit -n` above N.
"""
import errno
import selectors
import socket
import sys
import time

BATCH = 512
CONNECT_TIMEOUT = 5.0


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    host, port = sys.argv[1].rsplit(":", 1)
    n, sources, hold = int(sys.argv[2]), min(max(int(sys.argv[3]), 1), 250), float(sys.argv[4])
    pending = bytes.fromhex(sys.argv[5]) if len(sys.argv) > 5 else b""
    sel = selectors.DefaultSelector()
    opened_at = {}      # socket -> when its connect completed
    connecting = {}     # socket -> when its connect began
    failed, lifetimes, started = 0, [], 0
    t0 = time.monotonic()
    end = None          # when holding ends, set once every connection is open or failed

    def drop(s):
        sel.unregister(s)
        s.close()

    while True:
        now = time.monotonic()
        while started < n and len(connecting) < BATCH:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            # the port is then picked at connect, by the whole address pair, not at bind
            s.setsockopt(socket.IPPROTO_IP, getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24), 1)
            try:
                s.bind(("127.0.0.%d" % (2 + started % sources), 0))
                rc = s.connect_ex((host, int(port)))
            except OSError:
                rc = errno.EADDRNOTAVAIL
            started += 1
            if rc not in (0, errno.EINPROGRESS):
                s.close()
                failed += 1
                continue
            connecting[s] = now
            sel.register(s, selectors.EVENT_WRITE)
        if end is None and started == n and not connecting:
            end = now + hold
            print("opened %d in %.1f s, %d of them still open" % (
                len(opened_at) + len(lifetimes), now - t0, len(opened_at)), flush=True)
        if end is not None and (now >= end or not opened_at):
            break
        for key, ev in sel.select(0.2):
            s = key.fileobj
            if s in connecting:
                del connecting[s]
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                    drop(s)
                    failed += 1
                    continue
                opened_at[s] = time.monotonic()
                sel.modify(s, selectors.EVENT_READ)
                if pending:
                    try:
                        s.send(pending)
                    except OSError:
                        pass
                continue
            try:
                chunk = s.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                lifetimes.append(time.monotonic() - opened_at.pop(s))
                drop(s)
        for s, began in list(connecting.items()):
            if now - began > CONNECT_TIMEOUT:
                del connecting[s]
                drop(s)
                failed += 1
    line = "opened=%d failed=%d closed=%d open=%d" % (
        len(opened_at) + len(lifetimes), failed, len(lifetimes), len(opened_at))
    if lifetimes:
        lifetimes.sort()
        line += "; closed after %.1f / %.1f / %.1f s (min / median / max)" % (
            lifetimes[0], lifetimes[len(lifetimes) // 2], lifetimes[-1])
    print(line, flush=True)
    for s in list(opened_at):
        s.close()


if __name__ == "__main__":
    main()
