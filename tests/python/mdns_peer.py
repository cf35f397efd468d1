#!/usr/bin/python3
"""mdns_peer.py -- an mDNS/DNS-SD peer built on python3-zeroconf, for the tests and benchmarks.

A reference the workbench's own mDNS registry is held to: it registers and finds services
named the way the workbench names them (service type _NAME._tcp.local., instance
NAME-PORT, TXT txtvers=1 protocol=P version=latest), on 127.0.0.1 only.

  mdns_peer.py register NAME PORT [--instance I] [--protocol P] [--ttl S] [--aaaa]
      announces I (default NAME-PORT) of _NAME._tcp.local. at 127.0.0.1:PORT, prints
      "registered I" once zeroconf has probed and announced it, and stays until SIGTERM or
      SIGINT; then it unregisters (a goodbye: the same records with TTL 0), prints
      "goodbye" and exits 0.
  mdns_peer.py browse NAME [--seconds S]
      a ServiceBrowser on _NAME._tcp.local. that resolves each instance; prints one line per
      change, MS being milliseconds since the start:
          MS add INSTANCE ADDR:PORT protocol=P
          MS remove INSTANCE
      until S seconds have passed (default: until SIGTERM).
  mdns_peer.py list NAME [--wait MS]
      browses for MS milliseconds (default 1500), resolves every instance found and prints
      "INSTANCE ADDR:PORT protocol=P", one line each, sorted; exit 0 (also when none).

Every line is flushed as it is printed. Errors go to stderr, exit 2 on bad usage.

zeroconf's own behaviour, which the workbench's backend should match: it probes three
times before announcing (so "registered" comes about 1.5 s after the start), announces
twice, answers legacy unicast queries (from a port other than 5353) by unicast, and its
browser drops an instance one second after a goodbye or when its records' TTL runs out.

zeroconf 0.47 writes NSEC records wrongly: after the next name it writes the window and
the bitmap's length as two 16-bit numbers (00 00 00 LEN) instead of two bytes (00 LEN).
It adds such an NSEC ("this host has no AAAA") to every answer about a host with an A
record only, and its queries carry cached NSECs as known answers. Strict parsers reject the
whole packet (Go's miekg/dns: "empty NSEC(3) block in type bitmap"), so hashicorp/mdns
never sees such answers. --aaaa also gives the host the address ::1: with both address
types present zeroconf sends no NSEC.
"""

import argparse
import signal
import socket
import sys
import threading
import time

from zeroconf import IPVersion, ServiceBrowser, ServiceInfo, ServiceStateChange, Zeroconf

START = time.monotonic()
ADDRESS = "127.0.0.1"


def say(line):
    print(line, flush=True)


def ms():
    return int((time.monotonic() - START) * 1000)


def stype(name):
    return "_%s._tcp.local." % name


def label(full, name):
    """INSTANCE of INSTANCE._NAME._tcp.local."""
    suffix = "." + stype(name)
    return full[: -len(suffix)] if full.endswith(suffix) else full


def new_zc():
    return Zeroconf(interfaces=[ADDRESS], ip_version=IPVersion.V4Only)


def describe(info):
    addrs = info.parsed_addresses(IPVersion.V4Only) if info else []
    addr = addrs[0] if addrs else "?"
    proto = "?"
    if info and info.properties:
        raw = info.properties.get(b"protocol")
        if raw is not None:
            proto = raw.decode("utf-8", "replace")
    return "%s:%s protocol=%s" % (addr, info.port if info else "?", proto)


def wait_for_signal(seconds=None):
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    done.wait(seconds)


def register(args):
    instance = args.instance or "%s-%d" % (args.name, args.port)
    info = ServiceInfo(
        stype(args.name),
        "%s.%s" % (instance, stype(args.name)),
        port=args.port,
        properties={"txtvers": "1", "protocol": args.protocol, "version": "latest"},
        server="zc-%s.local." % ADDRESS.replace(".", "-"),
        addresses=[socket.inet_aton(ADDRESS)] + ([socket.inet_pton(socket.AF_INET6, "::1")] if args.aaaa else []),
    )
    zc = new_zc()
    try:
        zc.register_service(info, ttl=args.ttl)
        say("registered %s" % instance)
        wait_for_signal()
        zc.unregister_service(info)
        say("goodbye")
    finally:
        zc.close()
    return 0


def resolve(zc, type_, full, timeout_ms=3000):
    info = ServiceInfo(type_, full)
    if info.request(zc, timeout_ms):
        return info
    return None


def browse(args):
    zc = new_zc()
    type_ = stype(args.name)
    seen = {}
    lock = threading.Lock()

    def changed(zeroconf, service_type, name, state_change):
        inst = label(name, args.name)
        if state_change is ServiceStateChange.Removed:
            with lock:
                if seen.pop(name, None) is not None:
                    say("%d remove %s" % (ms(), inst))
            return
        info = resolve(zeroconf, service_type, name)
        if info is None:
            return
        text = describe(info)
        with lock:
            if seen.get(name) != text:
                seen[name] = text
                say("%d add %s %s" % (ms(), inst, text))

    browser = ServiceBrowser(zc, type_, handlers=[changed])
    try:
        wait_for_signal(args.seconds)
    finally:
        browser.cancel()
        zc.close()
    return 0


def list_(args):
    zc = new_zc()
    type_ = stype(args.name)
    names = set()

    def changed(zeroconf, service_type, name, state_change):
        if state_change is not ServiceStateChange.Removed:
            names.add(name)

    browser = ServiceBrowser(zc, type_, handlers=[changed])
    try:
        time.sleep(args.wait / 1000.0)
        browser.cancel()
        lines = []
        for name in sorted(names):
            info = resolve(zc, type_, name, 1000)
            if info is not None:
                lines.append("%s %s" % (label(name, args.name), describe(info)))
        for line in sorted(lines):
            say(line)
    finally:
        zc.close()
    return 0


def main(argv):
    p = argparse.ArgumentParser(prog="mdns_peer.py", description="mDNS peer (python3-zeroconf)")
    sub = p.add_subparsers(dest="verb", required=True)
    r = sub.add_parser("register")
    r.add_argument("name")
    r.add_argument("port", type=int)
    r.add_argument("--instance")
    r.add_argument("--protocol", default="grpc")
    r.add_argument("--ttl", type=int, default=10)
    r.add_argument("--aaaa", action="store_true", help="also an AAAA record ::1 (then no NSEC)")
    b = sub.add_parser("browse")
    b.add_argument("name")
    b.add_argument("--seconds", type=float)
    li = sub.add_parser("list")
    li.add_argument("name")
    li.add_argument("--wait", type=int, default=1500)
    args = p.parse_args(argv)
    return {"register": register, "browse": browse, "list": list_}[args.verb](args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
