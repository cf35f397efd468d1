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

# gRPC: h2load (several connections, many streams each) against grpc-go's Greeter and ours.
H2_REQUESTS=${BENCH_H2_REQUESTS:-300000}
H2_CONNS=${BENCH_H2_CONNS:-4}
H2_STREAMS=${BENCH_H2_STREAMS:-64}
body="$TMP/hello.bin"
printf '\000\000\000\000\007\012\005world' >"$body"   # gRPC prefix + HelloRequest{name: "world"}

# measure_h2 NAME CMD...: like measure, with h2load as the load
measure_h2() {
    local name=$1
    shift
    start "$name" "$@" || exit 1
    local pid=$PID addr=$ADDR out t0 t1 done_n secs
    h2() { h2load -n "$1" -c "$H2_CONNS" -m "$H2_STREAMS" -d "$body" -H 'content-type: application/grpc' \
        -H 'te: trailers' "http://$addr/helloworld.Greeter/SayHello"; }
    h2 20000 >/dev/null 2>&1
    t0=$(cpu_ticks "$pid")
    out=$(h2 "$H2_REQUESTS" 2>&1)
    t1=$(cpu_ticks "$pid")
    stop "$pid"
    done_n=$(echo "$out" | sed -n 's/^requests: .* \([0-9]*\) succeeded.*/\1/p')
    CALLS_PER_SEC=$(echo "$out" | sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' | cut -d. -f1)
    US_PER_CALL=$(awk -v t=$((t1 - t0)) -v hz="$HZ" -v n="$done_n" 'BEGIN { printf "%.2f", n ? t * 1e6 / hz / n : 0 }')
    echo "  $name: $(echo "$out" | grep -E '^(finished in|requests:)' | tr '\n' ' '); server CPU $(( (t1 - t0) * 1000 / HZ )) ms = $US_PER_CALL us/call" >&2
}

if [ -x "$BIN/grpc-server" ] && build_go greeter; then
    echo "load: h2load, $H2_CONNS connections x $H2_STREAMS streams, $H2_REQUESTS x helloworld.Greeter/SayHello per server"
    measure_h2 go-grpc "$ROOT/build/go/greeter"
    go_cps=$CALLS_PER_SEC go_us=$US_PER_CALL
    measure_h2 our-grpc "$BIN/grpc-server" --listen 127.0.0.1:0 --quiet
    our_cps=$CALLS_PER_SEC our_us=$US_PER_CALL
    awk -v oc="$our_cps" -v gc="$go_cps" -v ou="$our_us" -v gu="$go_us" 'BEGIN {
        printf "%-9s %-22s %12d %12d %6.2fx %11.2f %11.2f %6.2fx\n", "grpc", "grpc-go Greeter", oc, gc, gc ? oc / gc : 0, ou, gu, gu ? ou / gu : 0 }'
else
    echo "grpc: skipped (bin/grpc-server or the grpc-go Greeter could not be built)"
fi
echo "targets: calls/s ratio >= 1.50x, server CPU per call ratio <= 0.50x"

# The asynchronous gRPC client the gateway calls its backends with (bench/grpcmux.sh).
bash "$ROOT/bench/grpcmux.sh"
# Services the workbench is not built with: proto3's JSON mapping against Go's protojson,
# and what a whole call costs through reflection (bench/pbjson.sh).
bash "$ROOT/bench/pbjson.sh"
# The REST gateway against a Go net/http + grpc-go gateway: throughput, latency at fixed
# rates, and what the backend sees per request (bench/gateway.sh).
bash "$ROOT/bench/gateway.sh"
bash "$ROOT/bench/consul_checks.sh"
# The service hub against a grpc-go + etcd clientv3 serviceHub (bench/hub.sh).
bash "$ROOT/bench/hub.sh"
# Faults in a lab of hosts: detection time and failed calls, etcd and Consul, default and
# tight knobs (bench/lab.sh; needs root).
bash "$ROOT/bench/lab.sh"
# mDNS: a server's arrival and departure as a watcher sees them, etcd, Consul, the mDNS
# reference peers and our own mDNS registry (bench/mdns.sh; needs root).
bash "$ROOT/bench/mdns.sh"
# Reading the calls of a capture file, against tshark on the same file, and whether
# workbench sniff keeps up live with a steady load (bench/sniff.sh; live needs root).
bash "$ROOT/bench/sniff.sh"
# Costs as things grow: server RSS per idle connection at 1,000 and 10,000 against Go's,
# and the balancer's and the TUI's CPU with 1 to 500 instances of a service (bench/scale.sh).
bash "$ROOT/bench/scale.sh"
# Registry size: etcd's watch and Consul's blocking query with 10, 1,000 and 10,000
# instances under one service (bench/registry_scale.sh).
bash "$ROOT/bench/registry_scale.sh"
