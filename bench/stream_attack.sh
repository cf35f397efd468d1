#!/bin/bash
# stream_attack.sh -- memory held by streams that never finish, at length: 16 connections
# of 128 streams, each stream sending all but the end of a request just under
# --max-message (2 GiB in all; tests/tools/stall_streams.py), against grpc-server and
# order-server; then reflection requests whose replies are never read (the client gives
# no window). --stream-timeout is SECONDS (default 10). During each, a legitimate unary
# call (python3-grpcio) is timed; prints its latency, the server's peak RSS (VmHWM),
# when the held connections were closed and what the server's log says it did.
# Loopback only.   BIN=bin bash bench/stream_attack.sh [SECONDS]
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/bin}
SECS=${1:-10}
PY=/usr/bin/python3
TOOLS=$ROOT/tests/tools
TMP=$(mktemp -d /tmp/wb-stream.XXXXXX)
SPID="" APID=""
trap 'kill $SPID $APID 2>/dev/null; wait $SPID $APID 2>/dev/null; rm -rf "$TMP"' EXIT

# cpu_s PID: user+system CPU seconds the process has used so far
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.1f", ($14 + $15) / hz}' "/proc/$1/stat"; }

# attack LABEL "SERVER ARGS" MODE [PATH [CALL_PATH]]: one attack on a fresh server, MODE
# hold (of PATH) or reflect; the legitimate client calls CALL_PATH (default Multiply)
attack() {
    echo "== $1 (--stream-timeout $SECS, checked every second)"
    # shellcheck disable=SC2086
    "$BIN"/$2 --listen 127.0.0.1:0 --stream-timeout "$SECS" >"$TMP/addr" 2>"$TMP/log" &
    SPID=$!
    for _ in $(seq 50); do [ -s "$TMP/addr" ] && break; sleep 0.1; done
    local addr t0
    addr=$(head -n 1 "$TMP/addr")
    t0=$(date +%s.%N)
    # shellcheck disable=SC2086
    timeout $((4 * SECS + 120)) $PY "$TOOLS/stall_streams.py" \
        "$addr" "$3" 16 128 $((2 * SECS + 10)) ${4:-} >"$TMP/attack" 2>&1 &
    APID=$!
    sleep 1
    # shellcheck disable=SC2086
    $PY "$TOOLS/call_latency.py" grpc "$addr" "$SECS" "legitimate unary call" ${5:-} >"$TMP/calls"
    wait $APID
    APID=""
    echo "attacker ($3 16 128, held up to $((2 * SECS + 10)) s; done after" \
        "$(awk -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN {printf "%.1f", t1 - t0}') s):"
    echo "  $(cat "$TMP/attack")"
    cat "$TMP/calls"
    echo "server: peak RSS $(awk '/^VmHWM:/ {printf "%.1f MB", $2 / 1024}' "/proc/$SPID/status")" \
        "(VmHWM), CPU $(cpu_s $SPID) s; its log:"
    grep -oE -- '--[a-z-]+\)?(: .*)?$' "$TMP/log" | sed 's/^\(--[a-z-]*\))/\1/' | sort | uniq -c | sort -rn
    kill $SPID
    wait $SPID 2>/dev/null
    SPID=""
}

attack "grpc-server: 16 connections x 128 streams of a 1 MiB request never finished" \
    grpc-server hold
attack "grpc-server: 16 x 128 streams of reflection requests, replies never read" \
    grpc-server reflect
attack "order-server: 16 x 128 streams of a 1 MiB Place never finished" \
    "order-server --db $TMP/orders.db" hold /order.Order/Place /grpc.health.v1.Health/Check
