# test_mdns_wire.sh -- `workbench mdns` and `workbench explain dns` against a real mDNS
# peer, python3-zeroconf, in a private network namespace (multicast never leaves its
# loopback): the peer's probes, announcements, a browser's queries and the goodbye show as
# one line each, --wire explains their bytes, and tshark reads the same announcement's
# types, classes, TTLs and port as the explainer does.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
PY=/usr/bin/python3

if [ -z "${WB_MDNS_NETNS:-}" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "SKIP test_mdns_wire needs root for a private network namespace (unshare -n)"
        exit 0
    fi
    if ! $PY -c 'import zeroconf' 2>/dev/null; then
        echo "SKIP python3-zeroconf is not installed"
        exit 0
    fi
    WB_MDNS_NETNS=1 exec unshare -n bash "$0" "$@"
fi
ip link set lo up
. "$ROOT/tests/integration/lib.sh"

# peer.py DIR: registers shipping-50051 for the shipping service, browses for it, asks
# for its details, unregisters it (the goodbye); a socket on port 5353 keeps every packet
# seen, one file each, in DIR.
cat >"$TMP/peer.py" <<'PY'
import os, socket, sys, threading, time
from zeroconf import Zeroconf, ServiceInfo, ServiceBrowser
out = sys.argv[1]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
s.bind(("0.0.0.0", 5353))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
             socket.inet_aton("224.0.0.251") + socket.inet_aton("127.0.0.1"))
s.settimeout(0.2)
done = False
def keep():
    i = 0
    while not done:
        try:
            d, a = s.recvfrom(9000)
        except socket.timeout:
            continue
        open("%s/%03d.bin" % (out, i), "wb").write(d)
        i += 1
threading.Thread(target=keep, daemon=True).start()
zc = Zeroconf(interfaces=["127.0.0.1"])
info = ServiceInfo("_shipping._tcp.local.", "shipping-50051._shipping._tcp.local.",
                   addresses=[socket.inet_aton("127.0.0.1")], port=50051,
                   properties={"txtvers": "1", "protocol": "grpc", "version": "latest"},
                   server="wb-127-0-0-1.local.", host_ttl=10, other_ttl=10)
zc.register_service(info)
print("registered", flush=True)
class L:
    def add_service(self, z, t, n): print("found", n, flush=True)
    def update_service(self, z, t, n): pass
    def remove_service(self, z, t, n): pass
zb = Zeroconf(interfaces=["127.0.0.1"])
b = ServiceBrowser(zb, "_shipping._tcp.local.", L())
time.sleep(2.5)
zc.unregister_service(info)
print("unregistered", flush=True)
time.sleep(0.5)
b.cancel(); zb.close(); zc.close()
done = True
PY

mkdir -p "$TMP/pkts"
"$BIN/workbench" --lang en mdns --wire --color never --seconds 20 >"$TMP/mdns.out" 2>"$TMP/mdns.err" &
wb=$!
PIDS="$PIDS $wb"
wait_until 5 grep -q "listening on lo" "$TMP/mdns.err" || bad "workbench mdns listens" "$(cat "$TMP/mdns.err")"
timeout 20 $PY "$TMP/peer.py" "$TMP/pkts" >"$TMP/peer.out" 2>"$TMP/peer.log"
expect_grep "zeroconf registered and its browser found it" "found shipping-50051" "$(cat "$TMP/peer.out")"
kill -INT "$wb"
wait "$wb"
expect_eq "workbench mdns ends on SIGINT with 0" 0 $?
PIDS=""
out=$(cat "$TMP/mdns.out")
lines=$(grep -E '^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} 127\.0\.0\.1:5353 ' "$TMP/mdns.out")
expect_grep "the probes, with their proposed record" \
    "probe  PTR? _shipping._tcp.local. (QU, 1 proposed record)" "$lines"
expect_grep "the announcement" "answer PTR _shipping._tcp.local. -> shipping-50051._shipping._tcp.local., SRV wb-127-0-0-1.local.:50051, TXT txtvers=1 protocol=grpc version=latest, A 127.0.0.1, TTL 10" "$lines"
expect_grep "the browser's query" "query  PTR? _shipping._tcp.local. (QU)" "$lines"
expect_grep "the browser's later query, multicast (with the answers it knows, if any)" \
    "query  PTR? _shipping._tcp.local. (QM" "$lines"
expect_grep "the goodbye" "goodbye PTR _shipping._tcp.local. -> shipping-50051" "$lines"
expect_eq "one line per packet the peer's own socket saw" "$(ls "$TMP/pkts" | wc -l)" \
    "$(printf '%s\n' "$lines" | grep -c .)"
for s in "── packet (DNS, 161 bytes) ──" "pointer to offset 12:" "port 50051: where the" \
         "key protocol =" "address 127.0.0.1" "TTL 0: a goodbye" "top bit 1: QU" "cache-flush"; do
    expect_grep "--wire explains: $s" "$s" "$out"
done
# zeroconf 0.47 writes an NSEC bitmap's window and length in two bytes each (RFC 4034:
# one each); those bytes, and only those, are marked as not understood
expect_eq "--wire: every byte understood but zeroconf's NSEC bitmaps" \
    "$(grep -c "undecodable" "$TMP/mdns.out")" "$(grep -c "a type bitmap of 0 bytes" "$TMP/mdns.out")"
expect_eq "no line of --wire is wider than 80 columns" "" \
    "$(grep -v '^[0-9][0-9]:' "$TMP/mdns.out" | awk 'length > 0' | while IFS= read -r l; do
        [ "$(printf '%s' "$l" | wc -m)" -gt 80 ] && echo "$l"; done)"

# explain dns on a saved packet, against tshark on the same bytes
ann=$(grep -l "shipping" "$TMP"/pkts/*.bin | while read -r f; do
    [ "$(stat -c %s "$f")" = 161 ] && cmp -s <(head -c 4 "$f") <(printf '\000\000\204\000') && echo "$f"; done | head -n 1)
if [ -z "$ann" ]; then
    bad "an announcement was saved" "$(ls -l "$TMP/pkts")"
elif ! command -v tshark >/dev/null || ! command -v text2pcap >/dev/null; then
    echo "SKIP tshark or text2pcap is not installed: no cross-check with Wireshark's decoder"
else
    ours=$("$BIN/workbench" --lang en explain dns --color never "$ann")
    expect_grep "workbench explain dns explains the saved announcement" "answer record 4: A" "$ours"
    echo "0000 $(od -An -tx1 -v "$ann" | tr -s ' \n' ' ')" >"$TMP/ann.hex"
    text2pcap -q -4 127.0.0.1,224.0.0.251 -u 5353,5353 "$TMP/ann.hex" "$TMP/ann.pcap" >/dev/null 2>&1
    ts=$(tshark -r "$TMP/ann.pcap" -T fields -E separator='|' -e dns.resp.type -e dns.resp.class \
        -e dns.resp.cache_flush -e dns.resp.ttl -e dns.srv.port 2>/dev/null)
    IFS='|' read -r t_types t_classes t_flush t_ttls t_port <<<"$ts"
    o_types=$(printf '%s\n' "$ours" | sed -n 's/.* type \([0-9]*\) = [A-Z]*$/\1/p' | paste -sd,)
    o_class=$(printf '%s\n' "$ours" | sed -n 's/.* class \([0-9x]*\) = .*/\1/p' |
        while read -r c; do printf '0x%04x\n' $((c & 0x7fff)); done | paste -sd,)
    o_flush=$(printf '%s\n' "$ours" | sed -n 's/.* class \([0-9x]*\) = .*/\1/p' |
        while read -r c; do echo $(((c >> 15) & 1)); done | paste -sd,)
    o_ttls=$(printf '%s\n' "$ours" | sed -n 's/.* TTL \([0-9]*\)[: ].*/\1/p; s/.* TTL \([0-9]*\)$/\1/p' | paste -sd,)
    o_port=$(printf '%s\n' "$ours" | sed -n 's/.* port \([0-9]*\): .*/\1/p')
    expect_eq "record types agree with tshark" "$t_types" "$o_types"
    expect_eq "classes agree with tshark" "$t_classes" "$o_class"
    expect_eq "cache-flush bits agree with tshark" "$t_flush" "$o_flush"
    expect_eq "TTLs agree with tshark" "$t_ttls" "$o_ttls"
    expect_eq "the SRV port agrees with tshark" "$t_port" "$o_port"
fi
summary
