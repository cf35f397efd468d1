# test_mdns.sh -- the workbench's own mDNS registry (mdns, mdns://IFACE) against the two
# reference peers, python3-zeroconf and hashicorp/mdns: our servers seen by theirs (list,
# browse, TXT, goodbye), theirs listed, watched and called through ours, goodbye against
# TTL expiry on our own watch, probing and renaming on a conflict, bad names, interfaces
# and packets, the load with a kill, and the TUI on mdns. Runs in a private network
# namespace (root), every program on lo.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"
. "$ROOT/tests/integration/mdns_lib.sh"
mdns_netns_reexec "$@"

if ! mdns_have_py; then
    echo "SKIP mdns: python3-zeroconf is not installed (mk/deps.sh test)"
    summary
    exit
fi
if ! mdns_go_build 2>"$TMP/go-build.err"; then
    echo "SKIP mdns: tests/go/mdnspeer could not be built (golang-github-hashicorp-mdns-dev?)"
    sed 's/^/     /' "$TMP/go-build.err" | head -n 5
    summary
    exit
fi
wb() { "$BIN/workbench" --lang en "$@"; }

# hms: the time now as the watch stamps its lines (HH:MM:SS.mmm)
hms() { date +%H:%M:%S.%3N; }
# ms_between FROM TO: milliseconds from one HH:MM:SS.mmm to a later one (past midnight too)
ms_between() {
    local a b
    a=$(echo "$1" | awk -F'[:.]' '{print (($1 * 60 + $2) * 60 + $3) * 1000 + $4}')
    b=$(echo "$2" | awk -F'[:.]' '{print (($1 * 60 + $2) * 60 + $3) * 1000 + $4}')
    echo $(((b - a + 86400000) % 86400000))
}
# stamp_of FILE REGEX: the time stamp of FILE's first line matching the extended REGEX
stamp_of() { grep -E -- "$2" "$1" | head -n 1 | cut -d' ' -f1; }
# lines_at_least N FILE REGEX: FILE has at least N lines matching the extended REGEX
lines_at_least() { [ "$(grep -cE -- "$3" "$2" 2>/dev/null)" -ge "$1" ]; }
# screen_lines N REGEX: the TUI's screen has exactly N lines matching REGEX
screen_lines() { [ "$(screen | grep -cE -- "$2")" = "$1" ]; }
# wait_registered NAME: server NAME's log says it registered on mDNS (10 s at most)
wait_registered() {
    if mdns_wait_line "$TMP/$1.err" "registered" 10; then return 0; fi
    bad "$1 registers on mDNS" "$(cat "$TMP/$1.out" "$TMP/$1.err")"
    return 1
}
# txt_of INSTANCE SERVICE: the TXT strings of INSTANCE in their order and its SRV target,
# as zeroconf resolves them
txt_of() {
    "$MDNS_PY" - "$1" "$2" <<'PY' 2>&1
import sys
from zeroconf import IPVersion, ServiceInfo, Zeroconf
zc = Zeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only)
t = "_%s._tcp.local." % sys.argv[2]
info = ServiceInfo(t, "%s.%s" % (sys.argv[1], t))
if info.request(zc, 3000):
    raw, out, i = info.text, [], 0
    while i < len(raw):
        out.append(raw[i + 1:i + 1 + raw[i]].decode())
        i += 1 + raw[i]
    print(" ".join(out), info.server)
else:
    print("not resolved")
zc.close()
PY
}

# ---- 1, 2. Ours -> zeroconf and hashicorp/mdns ---------------------------------------
read -r P1 P2 <<EOF
$(free_ports 2)
EOF
mdns_start g1 "$BIN/grpc-server" --listen 127.0.0.1:$P1 --registry mdns --service arith --ttl 10
G1=$PID
mdns_start j1 "$BIN/jsonrpc-server" --listen 127.0.0.1:$P2 --registry mdns --service arith --ttl 10
J1=$PID
wait_registered g1 && expect_grep "grpc-server registers as arith-$P1" "registered arith as arith-$P1 on mDNS" "$(cat "$TMP/g1.err")"
wait_registered j1 && expect_grep "jsonrpc-server registers as arith-$P2" "registered arith as arith-$P2 on mDNS" "$(cat "$TMP/j1.err")"
want=$(printf '%s\n' "arith-$P1 127.0.0.1:$P1 protocol=grpc" "arith-$P2 127.0.0.1:$P2 protocol=json" | sort)
mdns_list_until 10 "arith-$P2 " mdns_py list arith
expect_eq "zeroconf's list sees both of ours: instance, address, protocol" "$want" "$MDNS_LISTED"
mdns_list_until 10 "arith-$P2 " mdns_go list arith
expect_eq "hashicorp/mdns's list sees both of ours" "$want" "$MDNS_LISTED"
expect_eq "our TXT, in order, and our host name (zeroconf resolves it)" \
    "txtvers=1 protocol=grpc version=latest wb-127-0-0-1.local." "$(txt_of "arith-$P1" arith)"
mdns_start zb1 mdns_py browse arith --seconds 40
ZB1=$PID
mdns_start hb1 mdns_go browse arith --seconds 40
HB1=$PID
for who in zb1:zeroconf hb1:hashicorp/mdns; do
    f=$TMP/${who%%:*}.out
    if mdns_wait_line "$f" "add arith-$P1 127.0.0.1:$P1 protocol=grpc" 10 &&
        mdns_wait_line "$f" "add arith-$P2 127.0.0.1:$P2 protocol=json" 5; then
        ok "${who#*:}'s browse adds both of ours"
    else
        bad "${who#*:}'s browse adds both of ours" "$(cat "$f")"
    fi
done
t0=$(date +%s%N)
mdns_stop "$J1"
expect_grep "SIGTERM: jsonrpc-server deregisters (the goodbye)" "deregistered" "$(cat "$TMP/j1.err")"
# the records' TTL is 10 s: a remove within 5 s can only come from the goodbye
if mdns_wait_line "$TMP/zb1.out" "remove arith-$P2" 5; then
    ok "zeroconf's browse removes it after the goodbye ($((($(date +%s%N) - t0) / 1000000)) ms after SIGTERM)"
else
    bad "zeroconf's browse removes it after the goodbye" "$(cat "$TMP/zb1.out")"
fi
if mdns_wait_line "$TMP/hb1.out" "remove arith-$P2" 6; then
    ok "hashicorp/mdns's browse removes it ($((($(date +%s%N) - t0) / 1000000)) ms after SIGTERM: it asks every second)"
else
    bad "hashicorp/mdns's browse removes it" "$(cat "$TMP/hb1.out")"
fi
expect_no_grep "the other one stays in zeroconf's browse" "remove arith-$P1" "$(cat "$TMP/zb1.out")"
mdns_stop "$G1"
mdns_stop "$ZB1"
mdns_stop "$HB1"

# ---- 3, 4. zeroconf and hashicorp/mdns -> ours ------------------------------------------
P3=$(free_port)
mdns_start g3 "$BIN/grpc-server" --listen 127.0.0.1:$P3
G3=$PID
mdns_start w3 "$BIN/workbench" --lang en registry mdns x --watch
W3=$PID
n=0
for peer in mdns_py:zeroconf mdns_go:hashicorp/mdns; do
    n=$((n + 1))
    name=${peer#*:}
    mdns_start reg3 "${peer%%:*}" register x $P3 --protocol grpc --ttl 10
    R3=$PID
    if ! mdns_wait_line "$TMP/reg3.out" "registered x-$P3" 10; then
        bad "$name registers x-$P3" "$(cat "$TMP/reg3.out" "$TMP/reg3.err")"
        mdns_stop "$R3"
        continue
    fi
    out=$(wb registry mdns x 2>&1)
    if printf '%s\n' "$out" | grep -qE "^x +127\.0\.0\.1:$P3 +protocol=grpc$" &&
        printf '%s\n' "$out" | grep -qF "instance x-$P3, TTL 10 s"; then
        ok "$name -> ours: workbench registry mdns x lists it with its address"
    else
        bad "$name -> ours: workbench registry mdns x lists it with its address" "$out"
    fi
    out=$(timeout 10 "$BIN/workbench" --lang en call mdns://lo/x Arith.Multiply '{"A":6,"B":7}' 2>&1)
    expect_grep "$name -> ours: workbench call mdns://lo/x reaches our server through it" '{"value":42}' "$out"
    expect_grep "$name -> ours: ...answered at its address" "answered by 127.0.0.1:$P3" "$out"
    out=$(wb registry mdns 2>&1)
    if printf '%s\n' "$out" | grep -qE "^x +127\.0\.0\.1:$P3 "; then ok "$name -> ours: the list of every service names x"
    else bad "$name -> ours: the list of every service names x" "$out"; fi
    if wait_until 5 lines_at_least $n "$TMP/w3.out" "PUT +x +127\.0\.0\.1:$P3 +protocol=grpc"; then
        ok "$name -> ours: the watch shows its PUT"
    else
        bad "$name -> ours: the watch shows its PUT" "$(cat "$TMP/w3.out" "$TMP/w3.err")"
    fi
    mdns_stop "$R3"
    expect_grep "$name unregisters (goodbye)" "goodbye" "$(cat "$TMP/reg3.out")"
    if wait_until 5 lines_at_least $n "$TMP/w3.out" "DELETE +x +127\.0\.0\.1:$P3"; then
        ok "$name -> ours: the watch shows a DELETE after its goodbye"
    else
        bad "$name -> ours: the watch shows a DELETE after its goodbye" "$(cat "$TMP/w3.out")"
    fi
done
mdns_stop "$W3"
mdns_stop "$G3"

# ---- 5. Goodbye against TTL, ours on both sides -----------------------------------------
read -r P5 P6 <<EOF
$(free_ports 2)
EOF
mdns_start w5 "$BIN/workbench" --lang en registry mdns ttlcheck --watch
W5=$PID
mdns_start g5 "$BIN/grpc-server" --listen 127.0.0.1:$P5 --registry mdns --service ttlcheck --ttl 3
G5=$PID
mdns_start g6 "$BIN/grpc-server" --listen 127.0.0.1:$P6 --registry mdns --service ttlcheck --ttl 3
G6=$PID
if mdns_wait_line "$TMP/w5.out" "127.0.0.1:$P5 " 10 && mdns_wait_line "$TMP/w5.out" "127.0.0.1:$P6 " 10; then
    ok "our watch sees both of our servers"
else
    bad "our watch sees both of our servers" "$(cat "$TMP/w5.out" "$TMP/w5.err")"
fi
t0=$(hms)
kill -TERM "$G5"
if wait_until 5 grep -qE "DELETE +ttlcheck +127\.0\.0\.1:$P5( |$)" "$TMP/w5.out"; then
    d=$(ms_between "$t0" "$(stamp_of "$TMP/w5.out" "DELETE +ttlcheck +127\.0\.0\.1:$P5( |$)")")
    if [ "$d" -le 1000 ]; then ok "SIGTERM: DELETE within 1 s, by the goodbye ($d ms)"
    else bad "SIGTERM: DELETE within 1 s, by the goodbye" "$d ms"; fi
else
    bad "SIGTERM: the watch shows a DELETE" "$(cat "$TMP/w5.out")"
fi
t0=$(hms)
{ kill -KILL "$G6" && wait "$G6"; } 2>/dev/null
if wait_until 8 grep -qE "DELETE +ttlcheck +127\.0\.0\.1:$P6( |$)" "$TMP/w5.out"; then
    d=$(ms_between "$t0" "$(stamp_of "$TMP/w5.out" "DELETE +ttlcheck +127\.0\.0\.1:$P6( |$)")")
    if [ "$d" -ge 500 ] && [ "$d" -le 4500 ]; then ok "SIGKILL: no goodbye, DELETE when the TTL (3 s) runs out ($d ms)"
    else bad "SIGKILL: DELETE after 0.5 s and by TTL + 1.5 s" "$d ms"; fi
else
    bad "SIGKILL: the watch shows a DELETE by the TTL" "$(cat "$TMP/w5.out")"
fi
wait "$G5" 2>/dev/null
mdns_stop "$W5"

# ---- 6. Probing: a name taken, ours renamed ------------------------------------------------
P7=$(free_port)
mdns_start zr6 mdns_py register arith $P7 --instance arith-$P7 --protocol grpc --ttl 10
ZR6=$PID
if mdns_wait_line "$TMP/zr6.out" "registered arith-$P7" 10; then
    mdns_start g7 "$BIN/grpc-server" --listen 127.0.0.1:$P7 --registry mdns --service arith --ttl 10
    G7=$PID
    wait_registered g7 && expect_grep "ours probes, sees zeroconf's arith-$P7 and takes arith-$P7 (2)" \
        "registered arith as arith-$P7 (2) on mDNS" "$(cat "$TMP/g7.err")"
    # zeroconf's first question asks for unicast answers (QU), and a unicast answer to
    # 127.0.0.1:5353 reaches only one of the sockets sharing that port on this host,
    # perhaps not the asker's (RFC 6762 §15.1); its next questions are QM, answered by
    # multicast: so the list listens 3 s
    MDNS_LIST_WAIT=3000 mdns_list_until 15 "arith-$P7 127.0.0.1" mdns_py list arith
    expect_eq "zeroconf lists both names" "$(printf '%s\n' "arith-$P7 (2) 127.0.0.1:$P7 protocol=grpc" \
        "arith-$P7 127.0.0.1:$P7 protocol=grpc")" "$MDNS_LISTED"
    # one address, one entry: our list shows the address once, under either name
    expect_grep "our list shows the address" "127.0.0.1:$P7 " "$(wb registry mdns arith 2>&1)"
    mdns_stop "$G7"
else
    bad "zeroconf registers arith-$P7" "$(cat "$TMP/zr6.out" "$TMP/zr6.err")"
fi
mdns_stop "$ZR6"
# two of ours, the same port on two addresses: the second one to probe is renamed
P8=$(free_port)
mdns_start g8a "$BIN/grpc-server" --listen 127.0.0.2:$P8 --registry mdns --service arith --ttl 10
G8A=$PID
wait_registered g8a
mdns_start g8b "$BIN/grpc-server" --listen 127.0.0.1:$P8 --registry mdns --service arith --ttl 10
G8B=$PID
wait_registered g8b
expect_grep "ours against ours: the first keeps arith-$P8" "registered arith as arith-$P8 on mDNS" "$(cat "$TMP/g8a.err")"
expect_grep "ours against ours: the second takes arith-$P8 (2)" "registered arith as arith-$P8 (2) on mDNS" "$(cat "$TMP/g8b.err")"
out=$(wb registry mdns arith 2>&1)
if printf '%s\n' "$out" | grep -A1 -E "^arith +127\.0\.0\.2:$P8 " | grep -qF "instance arith-$P8, TTL" &&
    printf '%s\n' "$out" | grep -A1 -E "^arith +127\.0\.0\.1:$P8 " | grep -qF "instance arith-$P8 (2), TTL"; then
    ok "our list shows both, each with its instance name"
else
    bad "our list shows both, each with its instance name" "$out"
fi
mdns_stop "$G8A"
mdns_stop "$G8B"

# ---- 7. Bad input ---------------------------------------------------------------------------
for name in /etcd3_naming/hello abcdefghijklmnop; do
    out=$(timeout 10 "$BIN/grpc-server" --listen 127.0.0.1:0 --registry mdns --service "$name" 2>&1)
    rc=$?
    if [ $rc = 2 ] && printf '%s' "$out" | grep -qF "1 to 15 letters, digits or hyphens"; then
        ok "--service $name on mdns is refused with the rule (exit 2)"
    else
        bad "--service $name on mdns is refused with the rule (exit 2)" "exit $rc: $out"
    fi
done
for cmd in "registry mdns://nosuchif arith" "call mdns://nosuchif/arith Arith.Multiply {}" \
    "mdns --interface nosuchif --seconds 1"; do
    # shellcheck disable=SC2086
    out=$(timeout 10 "$BIN/workbench" --lang en $cmd 2>&1)
    rc=$?
    if [ $rc != 0 ] && [ $rc != 124 ] && printf '%s' "$out" | grep -qF "interface nosuchif: No such device"; then
        ok "workbench ${cmd%% *} on nosuchif is refused, naming the interface (exit $rc)"
    else
        bad "workbench ${cmd%% *} on nosuchif is refused, naming the interface" "exit $rc: $out"
    fi
done
out=$(timeout 10 "$BIN/grpc-server" --lang en --listen 127.0.0.1:0 --registry mdns://nosuchif 2>&1)
rc=$?
expect_eq "a server given mdns://nosuchif exits at once (2), not retrying for ever" 2 "$rc"
expect_grep "... naming the interface" "interface nosuchif: No such device" "$out"
P9=$(free_port)
mdns_start g9 "$BIN/grpc-server" --listen 127.0.0.1:$P9 --registry mdns --service arith --ttl 10
G9=$PID
wait_registered g9
"$MDNS_PY" - <<'PY' >"$TMP/junk.out" 2>&1
import os, socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
hdr = lambda flags, qd, an: struct.pack(">HHHHHH", 0, flags, qd, an, 0, 0)
loop = b"\xc0\x0c"  # a name that is a pointer to itself
packets = [
    os.urandom(64), os.urandom(1400), b"\x00\x00\x00",                  # random, short
    hdr(0, 1, 0)[:7],                                                   # a header cut short
    hdr(0, 1, 0) + loop + struct.pack(">HH", 12, 1),                    # question, pointer loop
    hdr(0x8400, 0, 1) + loop + struct.pack(">HHIH", 12, 1, 10, 2) + loop,  # answer, loops twice
    hdr(0, 65535, 65535),                                               # counts with no records
    hdr(0, 1, 0) + b"\x3f" + b"a" * 10,                                 # a label past the end
]
for p in packets:
    s.sendto(p, ("224.0.0.251", 5353))
print("sent", len(packets))
PY
expect_grep "malformed packets sent to 224.0.0.251:5353" "sent 8" "$(cat "$TMP/junk.out")"
sleep 0.3
if kill -0 "$G9" 2>/dev/null; then ok "our responder's server survives them"; else bad "our responder's server survives them" "$(cat "$TMP/g9.err")"; fi
mdns_list_until 5 "arith-$P9 " mdns_py list arith
expect_eq "it still answers zeroconf's browse afterwards" "arith-$P9 127.0.0.1:$P9 protocol=grpc" "$MDNS_LISTED"
mdns_stop "$G9"

# ---- 8. The load: two servers on mdns, one killed -------------------------------------------
out=$(timeout 40 "$BIN/workbench" --lang en load --registry mdns --service hello --codec grpc --spawn 2 \
    --rate 100 --duration 6 --kill-after 2 --ttl 3 2>&1)
rc=$?
expect_eq "workbench load --registry mdns ends with 0" 0 "$rc"
expect_grep "the load: 0 failed" " 0 failed after retries" "$out"
if printf '%s\n' "$out" | grep -qE 'registry: 127\.0\.0\.1:[0-9]+ removed'; then
    ok "the load's timeline: the killed one removed from the registry"
else
    bad "the load's timeline: the killed one removed from the registry" "$out"
fi

# ---- 9. The TUI on mdns (tmux, 80x24) ---------------------------------------------------------
if ! command -v tmux >/dev/null || ! command -v etcd >/dev/null; then
    echo "SKIP the TUI on mdns: tmux or etcd is not installed (make test installs them)"
    summary
    exit
fi
. "$ROOT/tests/integration/tui_lib.sh"
start_tui 80 24 "--registry mdns"
if wait_for 15 'mdns watch live'; then ok "tui --registry mdns watches mDNS"; else bad "tui --registry mdns watches mDNS" "$(screen)"; fi
key j
key j
if wait_for 10 '2 +json +127\.0\.0\.1:[0-9]+ +[0-9]+ running' &&
    wait_until 10 screen_lines 2 '│workbench/127\.0\.0\.1:[0-9]+ json'; then
    ok "the Registry pane lists both spawned servers"
else
    bad "the Registry pane lists both spawned servers" "$(screen)"
fi
key l
wait_for 5 'load ON' || true
sleep 1.5
key k
if wait_timeline 8 'registry: 127\.0\.0\.1:[0-9]+ removed'; then ok "the killed server leaves the registry (Timeline)"
else bad "the killed server leaves the registry (Timeline)" "$(screen)"; fi
if wait_until 5 screen_lines 1 '│workbench/127\.0\.0\.1:[0-9]+ json'; then
    ok "the Registry pane lists the one left"
else
    bad "the Registry pane lists the one left" "$(screen)"
fi
expect_grep "the load runs without failures" "failed 0 (" "$(screen)"
KIDS=$(pgrep -P "$WB" | tr '\n' ' ')
key q
if wait_for 15 'TUI-EXITED 0'; then ok "q quits"; else bad "q quits" "$(screen)"; fi
expect_eq "q: nothing left running" "" "$(left_running $KIDS $WB)"
tm kill-server 2>/dev/null

summary
