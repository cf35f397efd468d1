#!/usr/bin/env bash
# grpcmux.sh -- `make bench`'s row for the asynchronous gRPC client (lib/rpc/grpcmux, what
# the gateway calls its backends with): BENCH_MUX_CALLS arith.Arith/Multiply calls (at most
# BENCH_MUX_SECONDS seconds) on one connection from one loop, BENCH_MUX_INFLIGHT in flight,
# against bin/grpc-server. Prints calls/s, the client's and the server's CPU per call, and
# the send()s and HTTP/2 frames each call costs (tests/tools/grpcmux_bench.c).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/bin}
BUILD=${BUILD:-$ROOT/build}
CALLS=${BENCH_MUX_CALLS:-200000}
INFLIGHT=${BENCH_MUX_INFLIGHT:-64}
SECS=${BENCH_MUX_SECONDS:-30}
. "$ROOT/tests/integration/lib.sh"
TOOL=$BUILD/bench/grpcmux_bench

if [ ! -x "$TOOL" ] || [ ! -x "$BIN/grpc-server" ]; then
    echo "grpcmux: skipped ($TOOL or $BIN/grpc-server is not built: make bench builds them)"
    exit 0
fi
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)

start grpc-server "$BIN/grpc-server" --listen 127.0.0.1:0 --quiet || exit 1
pid=$PID
t0=$(cpu_ticks "$pid")
out=$(timeout $((SECS + 30)) "$TOOL" "$ADDR" --calls "$CALLS" --in-flight "$INFLIGHT" --seconds "$SECS")
rc=$?
t1=$(cpu_ticks "$pid")
stop "$pid"
if [ $rc -ne 0 ]; then
    echo "grpcmux: the benchmark failed (exit $rc): $out"
    exit 1
fi
echo "  grpcmux: $out; server CPU $(( (t1 - t0) * 1000 / HZ )) ms" >&2
field() { printf '%s\n' "$out" | sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
calls=$(printf '%s\n' "$out" | sed -n 's/^grpcmux calls=\([0-9]*\).*/\1/p')
server_us=$(awk -v t=$((t1 - t0)) -v hz="$HZ" -v n="$calls" 'BEGIN { printf "%.2f", n ? t * 1e6 / hz / n : 0 }')
echo "grpcmux: one connection, $INFLIGHT calls in flight, $calls x arith.Arith/Multiply on grpc-server"
printf '%-12s %12s %12s %12s %12s %12s\n' client "calls/s" "client us/c" "server us/c" "sends/call" "frames/call"
printf '%-12s %12s %12s %12s %12s %12s\n' grpcmux "$(field calls_per_sec)" "$(field cpu_us_per_call)" "$server_us" \
    "$(field writes_per_call)" "$(field frames_per_call)"
