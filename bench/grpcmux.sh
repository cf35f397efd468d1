#!/usr/bin/env bash
# grpcmux.sh -- `make bench`'s row for the asynchronous gRPC client (lib/rpc/grpcmux, what
# the gateway calls its backends with), against grpc-go's own client (tests/go/grpcload):
# BENCH_MUX_CALLS arith.Arith/Multiply calls (at most BENCH_MUX_SECONDS seconds) on one
# connection, BENCH_MUX_INFLIGHT in flight, to a fresh bin/grpc-server each. Prints calls/s,
# the client's and the server's CPU per call (and, for ours, the send()s and HTTP/2 frames
# each call costs: tests/tools/grpcmux_bench.c), and the ratios ours/grpc-go.
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

# drive NAME CMD...: runs the client CMD (an argument ADDR replaced by the server's
# address) against a fresh grpc-server; sets OUT (its line) and SERVER_US (the server's
# CPU per call)
drive() {
    local name=$1
    shift
    start grpc-server-$name "$BIN/grpc-server" --listen 127.0.0.1:0 --quiet || exit 1
    local pid=$PID t0 t1 rc calls a cmd=()
    for a in "$@"; do [ "$a" = ADDR ] && cmd+=("$ADDR") || cmd+=("$a"); done
    t0=$(cpu_ticks "$pid")
    OUT=$(timeout $((SECS + 30)) "${cmd[@]}")
    rc=$?
    t1=$(cpu_ticks "$pid")
    stop "$pid"
    if [ $rc -ne 0 ]; then
        echo "grpcmux: $name failed (exit $rc): $OUT"
        exit 1
    fi
    calls=$(printf '%s\n' "$OUT" | sed -n 's/^[a-z]* calls=\([0-9]*\).*/\1/p')
    SERVER_US=$(awk -v t=$((t1 - t0)) -v hz="$HZ" -v n="$calls" 'BEGIN { printf "%.2f", n ? t * 1e6 / hz / n : 0 }')
    echo "  $name: $OUT; server CPU $(( (t1 - t0) * 1000 / HZ )) ms" >&2
}
field() { printf '%s\n' "$1" | sed -n "s/.* $2=\([^ ]*\).*/\1/p"; }

drive grpcmux "$TOOL" ADDR --calls "$CALLS" --in-flight "$INFLIGHT" --seconds "$SECS"
ours=$OUT ours_server=$SERVER_US
go_line="" go_server=""
if build_go grpcload >"$TMP/go-grpcload.log" 2>&1; then
    drive grpcgo "$ROOT/build/go/grpcload" -calls "$CALLS" -inflight "$INFLIGHT" -seconds "$SECS" -addr ADDR
    go_line=$OUT go_server=$SERVER_US
fi
echo "gRPC client: one connection, $INFLIGHT calls in flight, arith.Arith/Multiply on grpc-server"
printf '%-10s %10s %12s %12s %11s %12s\n' client "calls/s" "client us/c" "server us/c" "sends/call" "frames/call"
printf '%-10s %10s %12s %12s %11s %12s\n' grpcmux "$(field "$ours" calls_per_sec)" "$(field "$ours" cpu_us_per_call)" \
    "$ours_server" "$(field "$ours" writes_per_call)" "$(field "$ours" frames_per_call)"
if [ -n "$go_line" ]; then
    printf '%-10s %10s %12s %12s %11s %12s\n' grpc-go "$(field "$go_line" calls_per_sec)" \
        "$(field "$go_line" cpu_us_per_call)" "$go_server" - -
    awk -v oc="$(field "$ours" calls_per_sec)" -v gc="$(field "$go_line" calls_per_sec)" \
        -v ou="$(field "$ours" cpu_us_per_call)" -v gu="$(field "$go_line" cpu_us_per_call)" \
        -v os="$ours_server" -v gs="$go_server" 'BEGIN {
        printf "%-10s %9.2fx %11.2fx %11.2fx\n", "ours/go", gc ? oc / gc : 0, gu ? ou / gu : 0, gs ? os / gs : 0 }'
else
    echo "grpc-go: skipped (tests/go/grpcload does not build: $(tail -n 3 "$TMP/go-grpcload.log"))"
fi
