#!/usr/bin/python3
"""mdnsfind.py -- who serves a DNS-SD service here? Asked with python3-zeroconf.

    mdnsfind.py [--addr 127.0.0.1] [--wait 2] _shipping._tcp

Browses for the service type on the interface that has the address given (the
loopback by default, so nothing is sent to a real network), resolves each
instance that answers (SRV: host and port; A: the address; TXT: key=value) and
prints one line each. No registry server is asked: every service answers for
itself, and this program is an mDNS implementation written by other people.
"""
import argparse
import socket
import sys
import time

from zeroconf import ServiceBrowser, ServiceListener, Zeroconf


class Seen(ServiceListener):
    def __init__(self):
        self.names = set()

    def add_service(self, zc, type_, name):
        self.names.add(name)

    def update_service(self, zc, type_, name):
        self.names.add(name)

    def remove_service(self, zc, type_, name):
        self.names.discard(name)


def main():
    p = argparse.ArgumentParser(description="find the instances of a DNS-SD service")
    p.add_argument("--addr", default="127.0.0.1", help="the interface's IPv4 address")
    p.add_argument("--wait", type=float, default=2.0, help="seconds to listen")
    p.add_argument("type", help="the service type, e.g. _shipping._tcp")
    a = p.parse_args()
    type_ = a.type.rstrip(".")
    if not type_.endswith(".local"):
        type_ += ".local"
    type_ += "."

    zc = Zeroconf(interfaces=[a.addr])
    seen = Seen()
    try:
        ServiceBrowser(zc, type_, seen)
        time.sleep(max(0.1, min(a.wait, 30.0)))
        lines = []
        for name in sorted(seen.names):
            info = zc.get_service_info(type_, name, timeout=1000)
            if info is None:
                lines.append("%s  (no SRV/A answer)" % name)
                continue
            addrs = [socket.inet_ntoa(x) for x in info.addresses if len(x) == 4]
            txt = " ".join("%s=%s" % (k.decode(), (v or b"").decode())
                           for k, v in sorted(info.properties.items()))
            lines.append("%s  %s:%d  %s" % (name, addrs[0] if addrs else "?", info.port, txt))
        for line in lines:
            print(line)
        print("%d instance(s) of %s" % (len(lines), type_))
    finally:
        zc.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
