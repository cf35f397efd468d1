#!/usr/bin/env bash
# run.sh -- `make bench`: our servers against the peer a user would otherwise pick, in one run.
# The same Go load client (several connections, many calls in flight) drives Go's own
# net/rpc server and ours, for gob and for JSON-RPC. Prints calls/s and server CPU time
# per call, and the ratios ours/Go. Targets: calls/s ratio >= 1.5, CPU/call ratio <= 0.5.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/bin}
DURATION=${BENCH_SECONDS:-5}s
CONNS=${BENCH_CONNS:-8}
INFLIGHT=${BENCH_INFLIGHT:-64}
. "$ROOT/tests/integration/lib.sh"
build_go rpcserver && build_go loadclient || { echo "cannot build the Go peers"; exit 1; }

# cpu_ticks PID: user+system clock ticks the process has used so far
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)

# measure NAME CODEC CMD...: starts the server, drives it, sets CALLS_PER_SEC and US_PER_CALL
measure() {
    local name=$1 codec=$2
    shift 2
    start "$name" "$@" || exit 1
    local pid=$PID addr=$ADDR
    # a short warm-up, not measured
    "$ROOT/build/go/loadclient" -codec "$codec" -addr "$addr" -conns "$CONNS" -inflight "$INFLIGHT" -duration 1s >/dev/null
    local t0 t1 out calls
    t0=$(cpu_ticks "$pid")
    out=$("$ROOT/build/go/loadclient" -codec "$codec" -addr "$addr" -conns "$CONNS" -inflight "$INFLIGHT" -duration "$DURATION")
    t1=$(cpu_ticks "$pid")
    stop "$pid"
    CALLS_PER_SEC=$(echo "$out" | sed -n 's/.*calls_per_sec=\([0-9]*\).*/\1/p')
    calls=$(echo "$out" | sed -n 's/^calls=\([0-9]*\).*/\1/p')
    US_PER_CALL=$(awk -v t=$((t1 - t0)) -v hz="$HZ" -v n="$calls" 'BEGIN { printf "%.2f", n ? t * 1e6 / hz / n : 0 }')
    echo "  $name: $out; server CPU $(( (t1 - t0) * 1000 / HZ )) ms = $US_PER_CALL us/call" >&2
}

echo "load: Go's net/rpc client, $CONNS connections x $INFLIGHT calls in flight, Arith.Multiply, $DURATION per server"
printf '%-9s %-22s %12s %12s %7s %11s %11s %7s\n' capability peer "ours call/s" "peer call/s" ratio "ours us/c" "peer us/c" ratio
for codec in gob json; do
    if [ $codec = gob ]; then server=gob-server; peer="Go net/rpc (gob)"; else server=jsonrpc-server; peer="Go net/rpc/jsonrpc"; fi
    measure "go-$codec" $codec "$ROOT/build/go/rpcserver" -codec $codec
    go_cps=$CALLS_PER_SEC go_us=$US_PER_CALL
    measure "our-$codec" $codec "$BIN/$server" --listen 127.0.0.1:0 --quiet
    our_cps=$CALLS_PER_SEC our_us=$US_PER_CALL
    awk -v c="$codec" -v p="$peer" -v oc="$our_cps" -v gc="$go_cps" -v ou="$our_us" -v gu="$go_us" 'BEGIN {
        printf "%-9s %-22s %12d %12d %6.2fx %11.2f %11.2f %6.2fx\n", c, p, oc, gc, gc ? oc / gc : 0, ou, gu, gu ? ou / gu : 0 }'
done
echo "targets: calls/s ratio >= 1.50x, server CPU per call ratio <= 0.50x"
