# test_tui_sniff.sh -- the TUI's Sniff pane, driven in tmux at 80x24: a capture file that
# tcpdump made of `workbench call` talking to our gob and JSON-RPC servers, replayed with
# :replay (the calls in the list with their methods, status and pace; Enter opens one in
# the Wire pane, whose P key writes a pcap that tshark reads back); :sniff PORT live while
# calls are made; and without the capture capability, pcapin's message on the status line.
# Needs tmux and etcd (the TUI's own); tcpdump and the capture capability (root) for the
# captures, tshark to read the pcap back: each part SKIPs without what it needs.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"

. "$ROOT/tests/integration/tui_lib.sh"

WBX="$BIN/workbench"
# flat: the screen's text with the boxes' lines gone and blanks closed up (wrapped lines
# joined), to look for a sentence in
flat() { screen | sed -e 's/│/ /g; s/─/ /g; s/┌/ /g; s/┐/ /g; s/└/ /g; s/┘/ /g' | tr -s ' \n' ' '; }
wb_call() { "$WBX" --lang en call "$@" >>"$TMP/calls.out" 2>&1; }

start gob "$BIN/gob-server" --listen 127.0.0.1:0 || { summary; exit 1; }
GOB=$ADDR
start json "$BIN/jsonrpc-server" --listen 127.0.0.1:0 || { summary; exit 1; }
JSON=$ADDR

# the calls the capture file holds: two answered, a pause, then one the server refuses
make_calls() {
    wb_call "gob://$GOB" Arith.Multiply '{"A":7,"B":8}'
    wb_call "json://$JSON" Arith.Divide '{"A":9,"B":2}'
    sleep 1.5
    wb_call "json://$JSON" Arith.Divide '{"A":1,"B":0}'
}

# 1. The capture file: tcpdump on lo while the calls are made, else the calls' own --pcap
CAPTURE=$TMP/calls.pcap
CAN_CAPTURE=0
if command -v tcpdump >/dev/null; then
    timeout 60 tcpdump -i lo --immediate-mode -U -n -w "$CAPTURE" "tcp port $(port_of "$GOB") or tcp port $(port_of "$JSON")" \
        >"$TMP/tcpdump.log" 2>&1 &
    CAP=$!
    PIDS="$PIDS $CAP"
    wait_until 10 grep -q "listening on" "$TMP/tcpdump.log"
    sleep 0.3
    if kill -0 "$CAP" 2>/dev/null; then
        CAN_CAPTURE=1
        make_calls
        sleep 0.5
        kill -INT "$CAP" 2>/dev/null
        wait "$CAP" 2>/dev/null
    else
        echo "SKIP live captures: tcpdump cannot capture here: $(tail -n 1 "$TMP/tcpdump.log")"
    fi
else
    echo "SKIP live captures: tcpdump is not installed (make test installs it)"
fi
if [ "$CAN_CAPTURE" = 0 ]; then
    if "$WBX" call --help 2>&1 | grep -q -- '--pcap'; then
        echo "     (the replay uses the pcap files workbench call --pcap writes instead)"
        make_calls_pcap() {
            "$WBX" --lang en call "gob://$GOB" Arith.Multiply '{"A":7,"B":8}' --pcap "$TMP/c1.pcap" >/dev/null 2>&1
            "$WBX" --lang en call "json://$JSON" Arith.Divide '{"A":9,"B":2}' --pcap "$TMP/c2.pcap" >/dev/null 2>&1
            "$WBX" --lang en call "json://$JSON" Arith.Divide '{"A":1,"B":0}' --pcap "$TMP/c3.pcap" >/dev/null 2>&1
        }
        make_calls_pcap
        if command -v mergecap >/dev/null; then
            mergecap -F pcap -w "$CAPTURE" "$TMP/c1.pcap" "$TMP/c2.pcap" "$TMP/c3.pcap"
        else
            cp "$TMP/c1.pcap" "$CAPTURE"
        fi
    else
        echo "SKIP :replay: no capture file can be made here"
        summary
        exit 0
    fi
fi

# 2. :replay in the TUI at 80x24 (started in $TMP: P writes there)
cd "$TMP" || exit 1
start_tui 80 24
cd "$ROOT" || exit 1
if ! wait_for 15 'watch live'; then
    bad "the TUI starts in tmux" "$(screen 2>&1)"
    summary
    exit 1
fi
key s
if wait_for 3 'Sniff — nothing captured'; then ok "s opens the Sniff pane"; else bad "s opens the Sniff pane" "$(screen)"; fi
expect_grep "the empty pane says how to start" ":replay FILE [SPEED] plays a capture file" "$(flat)"
cmd "replay $CAPTURE"
if wait_for 5 'Sniff — replay calls\.pcap at x1'; then ok ":replay FILE names the file and the speed in the title"; else
    bad ":replay FILE names the file and the speed in the title" "$(screen)"; fi
if wait_for 5 'Arith\.Multiply'; then ok "replay: the first call shows"; else bad "replay: the first call shows" "$(screen)"; fi
if [ "$CAN_CAPTURE" = 1 ]; then
    # the third call was made 1.5 s after the second: it is not there before its time
    S=$(screen)
    if printf '%s\n' "$S" | grep -qE 'Arith\.Divide +error'; then
        bad "replay: the calls come at their recorded pace (the last one 1.5 s later)" "$S"
    else
        ok "replay: the calls come at their recorded pace (the last one 1.5 s later)"
    fi
fi
if wait_for 8 'played to its end'; then ok "replay: the title says when the file is played to its end"; else
    bad "replay: the title says when the file is played to its end" "$(screen)"; fi
S=$(screen)
expect_grep "replay: progress and counts under the title" "3 calls" "$S"
if printf '%s\n' "$S" | grep -qE "gob +:[0-9]+ → :$(port_of "$GOB") +Arith\.Multiply +ok "; then
    ok "replay: the gob call's row (protocol, client → server, method, status)"
else bad "replay: the gob call's row (protocol, client → server, method, status)" "$S"; fi
if printf '%s\n' "$S" | grep -qE "json +:[0-9]+ → :$(port_of "$JSON") +Arith\.Divide +ok "; then
    ok "replay: the JSON-RPC call's row"
else bad "replay: the JSON-RPC call's row" "$S"; fi
if printf '%s\n' "$S" | grep -qE "Arith\.Divide +error +[0-9.]+ (µs|ms)"; then
    ok "replay: the refused call's status and latency"
else bad "replay: the refused call's status and latency" "$S"; fi
expect_grep "replay: the selected (newest) call in full, the server's error" "error: divide by zero" "$S"
long=$(screen | /usr/bin/python3 -c 'import sys; [print(l) for l in sys.stdin.read().splitlines() if len(l) > 80]')
expect_eq "the Sniff pane fits 80 columns" "" "$long"

# 3. Enter opens a call in the Wire pane; P writes what it shows as a pcap
key Up
key Up
expect_grep "↑ selects the call before" "#1 gob · ok" "$(screen)"
key Enter
if wait_for 3 'Wire — sniffed #1 Arith\.Multiply'; then ok "Enter opens the selected call in the Wire pane"; else
    bad "Enter opens the selected call in the Wire pane" "$(screen)"; fi
S=$(flat)
expect_grep "wire: the sniffed call's request, explained" "A = 7" "$S"
expect_grep "wire: in gob's lane" "gob request ·" "$S"
key x
expect_grep "wire: x shows its reply" "56" "$(flat)"
key R
expect_status "wire: R does not make a sniffed call again" "is not made again"
key P
if wait_for 3 'wrote 1 connection to '; then ok "P writes the Wire pane's call as a pcap"; else bad "P writes the Wire pane's call as a pcap" "$(status_line)"; fi
OWN=$(ls "$TMP"/wb-wire-*.pcap 2>/dev/null | head -n 1)
expect_grep "P: the status line says where (wb-wire-HHMMSS.pcap in the current directory)" "$TMP/wb-wire-" "$(status_line)$OWN"
if ! command -v tshark >/dev/null; then
    echo "SKIP tshark is not installed: the pcap is not read back"
elif [ -z "$OWN" ]; then
    bad "P's pcap is there" "$(ls "$TMP")"
else
    T=$(tshark -r "$OWN" -q -z follow,tcp,ascii,0 2>&1)
    expect_grep "tshark reads P's pcap: the request's bytes" "Arith.Multiply" "$T"
    expect_grep "tshark: the server's address and port as the call used them" "127.0.0.1:$(port_of "$GOB")" "$T"
    W=$(tshark -r "$OWN" -z expert,warn -q 2>&1)
    expect_no_grep "tshark: no warning on P's pcap" "Warns" "$W"
fi
cmd "pcap $TMP/named.pcap"
if wait_for 3 "wrote 1 connection to $TMP/named.pcap"; then ok ":pcap FILE writes there"; else bad ":pcap FILE writes there" "$(status_line)"; fi
key w
if wait_for 3 'Sniff — replay calls\.pcap'; then ok "w goes back from the Wire pane to the Sniff pane"; else
    bad "w goes back from the Wire pane to the Sniff pane" "$(screen)"; fi
key s
if wait_for 3 'Instances'; then ok "s closes the Sniff pane"; else bad "s closes the Sniff pane" "$(screen)"; fi

# 4. The Wire pane's own call, once per protocol: :pcap writes a connection for each, as
#    tshark's HTTP/2 and gRPC dissectors read them
key j
key c
if wait_for 10 '2 +grpc +127\.0\.0\.1:[0-9]+ +[0-9]+ running'; then ok "j and c spawn a JSON-RPC and a gRPC server"; else
    bad "j and c spawn a JSON-RPC and a gRPC server" "$(screen)"; fi
GRPC=$(screen | grep -E '^│[ >▶]2 +grpc ' | grep -oE '127\.0\.0\.1:[0-9]+' | head -n 1)
key w
wait_for 5 'Wire — Arith\.Multiply' || true
wait_gone 5 'making the call in' || true
cmd "pcap $TMP/load.pcap"
if wait_for 3 "wrote 2 connections to $TMP/load.pcap"; then ok ":pcap: one connection per protocol the Wire pane called"; else
    bad ":pcap: one connection per protocol the Wire pane called" "$(status_line)"; fi
if command -v tshark >/dev/null && [ -n "$GRPC" ]; then
    T=$(tshark -r "$TMP/load.pcap" -d "tcp.port==$(port_of "$GRPC"),http2" -Y grpc -T fields -e http2.header.value 2>&1)
    expect_grep "tshark's gRPC dissector reads the gRPC connection: the method's path" "/arith.Arith/Multiply" "$T"
    T=$(tshark -r "$TMP/load.pcap" -q -z conv,tcp 2>&1)
    expect_grep "tshark: the gRPC connection goes to the server's port" "127.0.0.1:$(port_of "$GRPC")" "$T"
fi
key w

# 5. :sniff PORT, live, while calls are made
if [ "$CAN_CAPTURE" = 1 ]; then
    cmd "sniff $(port_of "$GOB")"
    if wait_for 5 "Sniff — live on lo, ports $(port_of "$GOB")"; then ok ":sniff PORT captures live on lo, the port in the title"; else
        bad ":sniff PORT captures live on lo, the port in the title" "$(screen)"; fi
    sleep 0.5
    wb_call "gob://$GOB" Arith.Multiply '{"A":6,"B":7}'
    wb_call "json://$JSON" Arith.Multiply '{"A":6,"B":7}' # another port: not captured
    wb_call "gob://$GOB" Arith.Divide '{"A":9,"B":2}'
    if wait_for 5 'Arith\.Divide +ok'; then ok ":sniff: the calls show as they happen"; else bad ":sniff: the calls show as they happen" "$(screen)"; fi
    S=$(screen)
    expect_eq ":sniff: only the port asked for (2 calls, both gob)" "2" "$(printf '%s\n' "$S" | grep -cE 'gob +:[0-9]+ →')"
    expect_no_grep ":sniff: the calls replayed before are gone from the list" "json " "$S"
    expect_grep ":sniff: the selected call in full" 'Arith.Divide({"A":9,"B":2}) → {"Quo":4,"Rem":1}' "$(flat)"
    cmd "sniff stop"
    if wait_for 3 "Sniff — stopped: live on lo"; then ok ":sniff stop ends it, the calls stay"; else bad ":sniff stop ends it, the calls stay" "$(screen)"; fi
fi

KIDS=$(pgrep -P "$WB" | tr '\n' ' ')
cmd 'quit'
if wait_for 15 'TUI-EXITED'; then ok ":quit quits"; else bad ":quit quits" "$(screen)"; fi
expect_grep ":quit: exit status 0" "TUI-EXITED 0" "$(screen)"
expect_eq ":quit: no server, etcd or capture left running" "" "$(left_running $KIDS $WB)"
tm kill-server 2>/dev/null

# 6. Without the capture capability: pcapin's message, and nothing else breaks
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
    cat >"$TMP/nocap.sh" <<EOF
#!/bin/sh
exec setpriv --bounding-set -net_raw,-net_admin "$WBX" "\$@"
EOF
    chmod +x "$TMP/nocap.sh"
    TUI_EXE=$TMP/nocap.sh start_tui 80 24
    if wait_for 15 'watch live'; then
        cmd "sniff $(port_of "$GOB")"
        expect_status "without the capture capability: pcapin's message on the status line" "needs the capture capability"
        expect_grep "the Sniff pane shows it whole (what to run)" "setcap" "$(flat)"
        key s
        if wait_for 3 'Instances'; then ok "the panes go on without it"; else bad "the panes go on without it" "$(screen)"; fi
        cmd 'quit'
        if wait_for 15 'TUI-EXITED 0'; then ok "and it quits as usual"; else bad "and it quits as usual" "$(screen)"; fi
    else
        bad "the TUI starts without the capture capability" "$(screen 2>&1)"
    fi
    tm kill-server 2>/dev/null
else
    echo "SKIP without the capture capability: needs setpriv and root to drop it"
fi

summary
