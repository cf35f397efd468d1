#!/usr/bin/env bash
# hub.sh -- the service hub part of `make bench`: bin/hub-server against the serviceHub a Go
# user would write (grpc-go + etcd's clientv3, tests/go/hubserver), in the same run, both
# in front of one private etcd holding 3 instances of /user and 50 other services. h2load
# drives discovery.Discovery/GetServices {name: "/user"} on each in turn. Prints calls/s
# and the hub's CPU time per call, and the ratios ours/Go.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/bin}
H2_REQUESTS=${BENCH_HUB_REQUESTS:-300000}
H2_CONNS=${BENCH_H2_CONNS:-4}
H2_STREAMS=${BENCH_H2_STREAMS:-64}
OTHERS=${BENCH_HUB_SERVICES:-50}
. "$ROOT/tests/integration/lib.sh"

for tool in etcd etcdctl h2load protoc protoc-gen-go python3; do
    command -v $tool >/dev/null || { echo "hub: skipped ($tool is not installed; make bench installs it)"; exit 0; }
done
[ -x "$BIN/hub-server" ] && [ -x "$BIN/workbench" ] || { echo "hub: skipped (bin/hub-server is not built)"; exit 0; }
gen_go_discovery && build_go hubserver || { echo "hub: skipped (the Go peer tests/go/hubserver could not be built)"; exit 0; }

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)

etcd_start hubbench "$TMP/etcd" "$TMP/etcd.log"
started=$?
PIDS="$PIDS $ETCD_PID"
[ $started -eq 0 ] || { echo "hub: etcd did not start: $(tail -n 5 "$TMP/etcd.log")"; exit 1; }
# reg NAME ADDR: the key and value a server registers (grpc-go's naming.Update as JSON)
reg() { printf 'put %s/%s {"Op":0,"Addr":"%s","Metadata":{"protocol":"grpc"}}\n' "$1" "$2" "$2"; }
{
    for p in 1 2 3; do reg /user "127.0.0.1:1000$p"; done
    for i in $(seq -w 1 "$OTHERS"); do reg "/svc$i" "127.0.0.1:20$i" && reg "/svc$i" "127.0.0.2:20$i"; done
} >"$TMP/keys"
# one etcdctl per key, bounded by the list's length
while read -r _ key value; do
    etcdctl --endpoints "$EP" --dial-timeout 2s put "$key" "$value" >/dev/null || { echo "hub: etcdctl put failed"; exit 1; }
done <"$TMP/keys"
WANT="127.0.0.1:10001,127.0.0.1:10002,127.0.0.1:10003"
# gRPC prefix, name, address and three addresses: 5 + 7 + 3 * 17 + 17 bytes, and a revision
REPLY_MIN=80

body="$TMP/user.bin"
printf '\000\000\000\000\007\012\005/user' >"$body" # gRPC prefix + ServiceName{name: "/user"}

# addresses ADDR: the addresses the hub at ADDR gives for /user, comma-separated
addresses() {
    "$BIN/workbench" call "grpc://$1" discovery.Discovery/GetServices '{"name":"/user"}' 2>&1 |
        python3 -c 'import json,sys; print(",".join(json.load(sys.stdin)["addresses"]))' 2>/dev/null
}

start go-hub "$ROOT/build/go/hubserver" -listen 127.0.0.1:0 -etcd "$EP" || exit 1
GO_ADDR=$ADDR GO_PID=$PID
start our-hub "$BIN/hub-server" --listen 127.0.0.1:0 --quiet --registry "etcd://$EP" || exit 1
OUR_ADDR=$ADDR OUR_PID=$PID
for side in GO OUR; do
    eval "addr=\$${side}_ADDR"
    i=0
    until [ "$(addresses "$addr")" = "$WANT" ]; do # until it has listed etcd
        i=$((i + 1))
        [ $i -gt 100 ] && { echo "hub: the $side hub at $addr does not list /user: $(addresses "$addr")"; exit 1; }
        sleep 0.1
    done
done
echo "hub: both hubs list /user as $WANT (workbench call GetServices)" >&2

# measure NAME PID ADDR: drives the hub, stops it, sets CALLS_PER_SEC and US_PER_CALL
measure() {
    local name=$1 pid=$2 addr=$3 out t0 t1 done_n
    h2() { timeout 120 h2load -n "$1" -c "$H2_CONNS" -m "$H2_STREAMS" -d "$body" -H 'content-type: application/grpc' \
        -H 'te: trailers' "http://$addr/discovery.Discovery/GetServices"; }
    h2 20000 >/dev/null 2>&1
    t0=$(cpu_ticks "$pid")
    out=$(h2 "$H2_REQUESTS" 2>&1)
    t1=$(cpu_ticks "$pid")
    stop "$pid"
    done_n=$(echo "$out" | sed -n 's/^requests: .* \([0-9]*\) succeeded.*/\1/p')
    # A gRPC error is an HTTP 200 too, without a message: each reply must carry one that
    # names the three addresses (grpc-status itself is in the trailers, which h2load does not read).
    local data per
    data=$(echo "$out" | sed -n 's/^traffic: .*(\([0-9]*\)) data.*/\1/p')
    per=$(awk -v d="${data:-0}" -v n="${done_n:-0}" 'BEGIN { printf "%d", n ? d / n : 0 }')
    CALLS_PER_SEC=$(echo "$out" | sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' | cut -d. -f1)
    US_PER_CALL=$(awk -v t=$((t1 - t0)) -v hz="$HZ" -v n="${done_n:-0}" 'BEGIN { printf "%.2f", n ? t * 1e6 / hz / n : 0 }')
    echo "  $name: $(echo "$out" | grep -E '^(finished in|requests:)' | tr '\n' ' '); hub CPU $(( (t1 - t0) * 1000 / HZ )) ms = $US_PER_CALL us/call; $per bytes per reply" >&2
    if [ "${done_n:-0}" != "$H2_REQUESTS" ] || [ "$per" -lt "$REPLY_MIN" ]; then
        echo "  $name: only ${done_n:-0} of $H2_REQUESTS calls succeeded, $per bytes per reply (want >= $REPLY_MIN)" >&2
        CALLS_PER_SEC=0
    fi
}

echo "load: h2load, $H2_CONNS connections x $H2_STREAMS streams, $H2_REQUESTS x discovery.Discovery/GetServices {name: \"/user\"}"
echo "      per hub, both in front of one etcd (3 instances of /user, $OTHERS other services)"
measure go-hub "$GO_PID" "$GO_ADDR"
go_cps=$CALLS_PER_SEC go_us=$US_PER_CALL
measure our-hub "$OUR_PID" "$OUR_ADDR"
our_cps=$CALLS_PER_SEC our_us=$US_PER_CALL
printf '%-9s %-22s %12s %12s %7s %11s %11s %7s\n' capability peer "ours call/s" "peer call/s" ratio "ours us/c" "peer us/c" ratio
awk -v oc="$our_cps" -v gc="$go_cps" -v ou="$our_us" -v gu="$go_us" 'BEGIN {
    printf "%-9s %-22s %12d %12d %6.2fx %11.2f %11.2f %6.2fx\n", "hub", "grpc-go + clientv3", oc, gc, gc ? oc / gc : 0, ou, gu, gu ? ou / gu : 0 }'
echo "targets: calls/s ratio >= 1.50x, hub CPU per call ratio <= 0.50x"
summary >/dev/null
