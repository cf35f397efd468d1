#!/bin/bash
# test_mdns_avahi.sh -- our mDNS registry against Avahi, the mDNS daemon of Linux desktops:
# avahi-browse finds and resolves our server, and we find what avahi-publish announces.
# Avahi never uses the loopback, so the private network namespace gets a veth pair, v0
# (ours) and v1 (Avahi's), with their own addresses; the daemon talks to its tools over a
# private D-Bus (a dbus-daemon of the test's own) and keeps its pid file in a private /run.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"
. "$ROOT/tests/integration/mdns_lib.sh"

for p in avahi-daemon avahi-browse avahi-publish dbus-daemon; do
    if ! command -v "$p" >/dev/null; then
        echo "SKIP test_mdns_avahi.sh: $p is not installed (apt-get install avahi-daemon avahi-utils dbus)"
        echo "0 passed, 0 failed"
        exit 0
    fi
done
mdns_netns_reexec "$@"

# v0 and v1 are two ends of one link in this namespace: a packet sent on v0 arrives on v1
# with a source address of this namespace's own, which Linux drops unless told to accept
ip link add v0 type veth peer name v1
ip addr add 10.9.0.1/24 dev v0
ip addr add 10.9.0.2/24 dev v1
ip link set v0 up multicast on
ip link set v1 up multicast on
for i in all v0 v1; do sysctl -qw "net.ipv4.conf.$i.accept_local=1" "net.ipv4.conf.$i.rp_filter=0"; done

mkdir -p "$TMP/avahi"
cat >"$TMP/avahi/dbus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$TMP/avahi/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/> <allow own="*"/>
    <allow send_destination="*"/> <allow receive_sender="*"/>
  </policy>
</busconfig>
EOF
cat >"$TMP/avahi/avahi.conf" <<EOF
[server]
use-ipv4=yes
use-ipv6=no
allow-interfaces=v1
[publish]
publish-hinfo=no
publish-workstation=no
EOF
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$TMP/avahi/bus"
mdns_start dbus dbus-daemon --config-file="$TMP/avahi/dbus.conf" --nofork
wait_until 5 test -S "$TMP/avahi/bus" || bad "a private D-Bus started" "$(cat "$TMP/dbus.err")"
mdns_start avahi unshare -m sh -c "mount -t tmpfs none /run && exec avahi-daemon --no-drop-root --no-chroot --no-rlimits -f '$TMP/avahi/avahi.conf'"
if ! mdns_wait_line "$TMP/avahi.err" "Server startup complete" 10; then
    bad "avahi-daemon started on v1" "$(tail -n 5 "$TMP/avahi.err")"
    summary
fi
ok "avahi-daemon started on v1 (10.9.0.2), with a private D-Bus"

# ---- ours -> Avahi ----
P1=$(free_port)
mdns_start g1 "$BIN/grpc-server" --listen 10.9.0.1:$P1 --registry mdns://v0 --service hello --ttl 10
G1=$PID
mdns_wait_line "$TMP/g1.err" "registered hello as" 10 || bad "our server registered on v0" "$(cat "$TMP/g1.err")"
mdns_start browse avahi-browse -rp _hello._tcp
B=$PID
if mdns_wait_line "$TMP/browse.out" "=;v1;IPv4;hello-$P1;_hello._tcp;local;" 10; then
    line=$(grep -F "=;v1;IPv4;hello-$P1;" "$TMP/browse.out" | head -n 1)
    ok "avahi-browse finds and resolves hello-$P1 (in ${MDNS_WAITED} ms)"
    expect_grep "... at our host name, address and port" ";wb-10-9-0-1.local;10.9.0.1;$P1;" "$line"
    expect_grep "... with our TXT" '"protocol=grpc"' "$line"
else
    bad "avahi-browse finds and resolves hello-$P1" "$(cat "$TMP/browse.out" "$TMP/browse.err")"
fi
kill -TERM "$G1"
if mdns_wait_line "$TMP/browse.out" "-;v1;IPv4;hello-$P1;_hello._tcp;local" 5; then
    ok "our SIGTERM's goodbye: avahi-browse drops it 1 s later, as RFC 6762 §10.1 asks (${MDNS_WAITED} ms)"
else
    bad "our SIGTERM's goodbye: avahi-browse drops it" "$(cat "$TMP/browse.out")"
fi
mdns_stop "$B"

# ---- Avahi -> ours ----
P2=$(free_port)
mdns_start g2 "$BIN/grpc-server" --listen 10.9.0.2:$P2 --quiet
wait_until 5 nc -z 10.9.0.2 "$P2"
mdns_start pub avahi-publish -s "avahi-x" _ship._tcp "$P2" protocol=grpc
PUB=$PID
mdns_wait_line "$TMP/pub.err" "Established under name" 10 || bad "avahi-publish announced avahi-x" "$(cat "$TMP/pub.err")"
out=""
end=$(($(date +%s) + 10))
until printf '%s' "$out" | grep -q "10.9.0.2:$P2" || [ "$(date +%s)" -ge "$end" ]; do
    out=$("$BIN/workbench" registry mdns://v0 ship 2>&1)
done
expect_grep "workbench registry mdns://v0 ship lists Avahi's service" "ship 10.9.0.2:$P2 protocol=grpc" \
    "$(printf '%s\n' "$out" | tr -s ' ')"
expect_grep "... by its instance name" "instance avahi-x" "$out"
expect_eq "workbench call through it reaches the server behind it" '{"value":42}' \
    "$("$BIN/workbench" call mdns://v0/ship Arith.Multiply '{"A":6,"B":7}' 2>/dev/null)"
mdns_start w "$BIN/workbench" registry mdns://v0 ship --watch
W=$PID
mdns_wait_line "$TMP/w.out" "PUT    ship" 10
kill -TERM "$PUB"
if mdns_wait_line "$TMP/w.out" "DELETE ship" 5; then
    ok "avahi-publish's goodbye: our watch drops it at once (${MDNS_WAITED} ms)"
else
    bad "avahi-publish's goodbye: our watch drops it" "$(cat "$TMP/w.out")"
fi
mdns_stop "$W"
summary
