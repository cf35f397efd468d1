#!/bin/bash
# conn_attack.sh -- connection exhaustion at length against gob-server and jsonrpc-server:
# 10,000 sockets that send nothing (from ten source addresses, then from one), 9,000 that
# each hold a few bytes of a request that never ends, and 10,000 that make one call and
# then idle (so --first-message-timeout does not apply; eviction must make room). During
# each, a legitimate client from 127.0.0.1 calls on a fresh connection every time
# (tests/tools/call_latency.py); prints its latency, the server's peak RSS and why the
# server closed connections (its log). Loopback only; SECONDS per attack (default 10).
#   BIN=bin bash bench/conn_attack.sh [SECONDS]
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/bin}
SECS=${1:-10}
PY=/usr/bin/python3
TOOLS=$ROOT/tests/tools
N=10000 PENDING_N=9000
ulimit -n "$(ulimit -Hn)" 2>/dev/null
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((N + 200)) ]; then
    N=$(($(ulimit -n) - 200)) PENDING_N=$((N * 9 / 10))
    echo "note: ulimit -n is $(ulimit -n); $N sockets instead of 10000"
fi
TMP=$(mktemp -d /tmp/wb-conn.XXXXXX)
SPID="" FPID=""
trap 'kill $SPID $FPID 2>/dev/null; wait $SPID $FPID 2>/dev/null; rm -rf "$TMP"' EXIT

# cpu_s PID: user+system CPU seconds the process has used so far
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.1f", ($14 + $15) / hz}' "/proc/$1/stat"; }

# Request{"Arith.Multiply", 0} + Args{7, 8} for gob, a JSON-RPC call: whole, and cut short
GOB_CALL=2fff81030101075265717565737401ff82000102010d536572766963654d6574686f64010c0001
GOB_CALL=${GOB_CALL}03536571010600000013ff82010e41726974682e4d756c7469706c79001eff830301
GOB_CALL=${GOB_CALL}01044172677301ff84000102010141010400010142010400000007ff84010e011000
JSON_CALL=$(printf '{"method":"Arith.Multiply","params":[{"A":7,"B":8}],"id":1}\n' | od -An -tx1 | tr -d ' \n')

# attack SERVER CODEC LABEL CONNS SOURCES [HEX]: one attack on a fresh server
attack() {
    local server=$1 codec=$2 label=$3 conns=$4 sources=$5 hex=${6:-}
    echo "== $server: $label"
    "$BIN/$server" --listen 127.0.0.1:0 >"$TMP/addr" 2>"$TMP/log" &
    SPID=$!
    for _ in $(seq 50); do [ -s "$TMP/addr" ] && break; sleep 0.1; done
    local addr
    addr=$(head -n 1 "$TMP/addr")
    timeout $((SECS + 60)) $PY "$TOOLS/conn_flood.py" "$addr" "$conns" "$sources" $((SECS + 2)) $hex \
        >"$TMP/flood" 2>&1 &
    FPID=$!
    for _ in $(seq 300); do grep -q '^opened ' "$TMP/flood" && break; sleep 0.1; done
    $PY "$TOOLS/call_latency.py" "$codec" "$addr" "$SECS" \
        "legitimate client (a fresh connection per call)" >"$TMP/calls"
    wait $FPID
    FPID=""
    sed 's/^/attacker: /' "$TMP/flood"
    cat "$TMP/calls"
    echo "server: peak RSS $(awk '/^VmHWM:/ {printf "%.1f MB", $2 / 1024}' "/proc/$SPID/status")" \
        "(VmHWM), CPU $(cpu_s $SPID) s; connections it closed:"
    kill $SPID
    wait $SPID 2>/dev/null
    SPID=""
    { grep -o 'closed (.*)$' "$TMP/log" | sed 's/^closed (//; s/)$//' | grep -v '^client finished'
      grep -o 'refused a connection' "$TMP/log"; } | sort | uniq -c | sort -rn >"$TMP/closes"
    if [ -s "$TMP/closes" ]; then cat "$TMP/closes"; else echo "      none"; fi
}

for s in gob:gob-server:$GOB_CALL jsonrpc:jsonrpc-server:$JSON_CALL; do
    codec=${s%%:*} rest=${s#*:}
    server=${rest%%:*} call=${rest#*:}
    attack "$server" "$codec" "$N sockets that send nothing, from 10 addresses" $N 10
    attack "$server" "$codec" "$N sockets that send nothing, from one address" $N 1
    attack "$server" "$codec" "$PENDING_N sockets holding 20 bytes of a request, from 10 addresses" \
        $PENDING_N 10 "${call:0:40}"
    attack "$server" "$codec" "$N sockets that make one call and idle, from 10 addresses" $N 10 "$call"
done
