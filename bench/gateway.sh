#!/usr/bin/env bash
# gateway.sh -- the gateway part of `make bench`: bin/gateway against the gateway a Go user
# would write (net/http + grpc-go, tests/go/gateway), in the same run, both in front of
# the same grpc-server. h2load drives GET /arith/multiply?a=7&b=8 over HTTP/1.1 (--h1).
# Prints requests/s and the gateway's CPU time per request, and the ratios ours/Go.
# GW_EXTRA adds options to our gateway (e.g. GW_EXTRA="--threads 4").
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/bin}
REQUESTS=${BENCH_GW_REQUESTS:-100000}
CONNS=${BENCH_GW_CONNS:-32}
. "$ROOT/tests/integration/lib.sh"

for tool in etcd etcdctl h2load python3; do
    command -v $tool >/dev/null || { echo "gateway: skipped ($tool is not installed; make bench installs it)"; exit 0; }
done
build_go gateway || { echo "gateway: skipped (the Go peer tests/go/gateway could not be built)"; exit 0; }

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)

# Our gateway finds the backend in a registry, as it always does: a private etcd.
etcd_start gwbench "$TMP/etcd" "$TMP/etcd.log"
started=$?
PIDS="$PIDS $ETCD_PID"
[ $started -eq 0 ] || { echo "gateway: etcd did not start: $(tail -n 5 "$TMP/etcd.log")"; exit 1; }
start arith "$BIN/grpc-server" --listen 127.0.0.1:0 --quiet --registry "etcd://$EP" --service arith || exit 1
ARITH=$ADDR ARITH_PID=$PID

# measure NAME CMD...: starts the gateway, drives it, sets REQ_PER_SEC and US_PER_REQ
measure() {
    local name=$1
    shift
    start "$name" "$@" || exit 1
    local pid=$PID addr=$ADDR out t0 t1 done_n i=0
    local url="http://$addr/arith/multiply?a=7&b=8"
    until [ "$(curl -s "$url")" = '{"value":56}' ]; do # until it knows the backend
        i=$((i + 1))
        [ $i -gt 100 ] && { echo "gateway: $name does not answer: $(curl -s "$url")"; exit 1; }
        sleep 0.1
    done
    h2load --h1 -n 10000 -c "$CONNS" "$url" >/dev/null 2>&1
    local b0 b1
    t0=$(cpu_ticks "$pid") b0=$(cpu_ticks "$ARITH_PID")
    out=$(h2load --h1 -n "$REQUESTS" -c "$CONNS" "$url" 2>&1)
    t1=$(cpu_ticks "$pid") b1=$(cpu_ticks "$ARITH_PID")
    stop "$pid"
    done_n=$(echo "$out" | sed -n 's/^status codes: \([0-9]*\) 2xx.*/\1/p')
    REQ_PER_SEC=$(echo "$out" | sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' | cut -d. -f1)
    US_PER_REQ=$(awk -v t=$((t1 - t0)) -v hz="$HZ" -v n="$done_n" 'BEGIN { printf "%.2f", n ? t * 1e6 / hz / n : 0 }')
    echo "  $name: $(echo "$out" | grep -E '^(finished in|status codes:)' | tr '\n' ' '); gateway CPU $(( (t1 - t0) * 1000 / HZ )) ms = $US_PER_REQ us/request;" \
        "the grpc-server behind it $(awk -v t=$((b1 - b0)) -v hz="$HZ" -v n="${done_n:-0}" 'BEGIN { printf "%.2f", n ? t * 1e6 / hz / n : 0 }') us/request" >&2
    [ "${done_n:-0}" = "$REQUESTS" ] || echo "  $name: only ${done_n:-0} of $REQUESTS requests got a 2xx" >&2
}

echo "load: h2load over HTTP/1.1, $CONNS connections, $REQUESTS x GET /arith/multiply?a=7&b=8 per gateway,"
echo "      both gateways in front of one grpc-server"
measure go-gateway "$ROOT/build/go/gateway" -listen 127.0.0.1:0 -arith "$ARITH"
go_rps=$REQ_PER_SEC go_us=$US_PER_REQ
measure our-gateway "$BIN/gateway" --listen 127.0.0.1:0 --quiet --registry "etcd://$EP" ${GW_EXTRA:-}
our_rps=$REQ_PER_SEC our_us=$US_PER_REQ
printf '%-9s %-22s %12s %12s %7s %11s %11s %7s\n' capability peer "ours req/s" "peer req/s" ratio "ours us/r" "peer us/r" ratio
awk -v oc="$our_rps" -v gc="$go_rps" -v ou="$our_us" -v gu="$go_us" 'BEGIN {
    printf "%-9s %-22s %12d %12d %6.2fx %11.2f %11.2f %6.2fx\n", "gateway", "Go net/http + grpc-go", oc, gc, gc ? oc / gc : 0, ou, gu, gu ? ou / gu : 0 }'
summary >/dev/null
