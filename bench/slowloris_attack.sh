#!/bin/bash
# slowloris_attack.sh -- slow request heads at full size against bin/gateway with its
# default limits (--max-conns 4000, --header-timeout 10): 4,000 connections from eight
# loopback addresses (127.0.0.1-8), each sending one byte of a never-ending request head
# every 10 s and opened again when the gateway closes it (tests/tools/slowloris.py).
# Meanwhile a client on 127.0.0.9 asks GET /arith/multiply (served by grpc-server, found
# in a private etcd) every 50 ms on a new connection. Prints that client's latency
# p50/p99 before and during the attack, and the gateway's peak resident memory (VmHWM).
# FAT=BYTES makes each attacking connection send that much of its head at once (whole
# header lines), to fill the gateway's buffers. Loopback only; SECONDS of attack (default 30).
#   BIN=bin bash bench/slowloris_attack.sh [SECONDS]
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/bin}
SECS=${1:-30}
[ "$SECS" -ge 10 ] || { echo "slowloris: SECONDS must be 10 or more"; exit 2; }
CONNS=4000
. "$ROOT/tests/integration/lib.sh"

for tool in etcd etcdctl python3; do
    command -v $tool >/dev/null || { echo "slowloris: skipped ($tool is not installed)"; exit 0; }
done
ulimit -n $((CONNS * 3)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -gt $((CONNS + 100)) ] || { echo "slowloris: skipped (ulimit -n $(ulimit -n) is under $CONNS sockets)"; exit 0; }

etcd_start gwslow "$TMP/etcd" "$TMP/etcd.log"
started=$?
PIDS="$PIDS $ETCD_PID"
[ $started -eq 0 ] || { echo "slowloris: etcd did not start: $(tail -n 5 "$TMP/etcd.log")"; exit 1; }
start arith "$BIN/grpc-server" --listen 127.0.0.1:0 --quiet --registry "etcd://$EP" --service arith || exit 1
start gateway "$BIN/gateway" --listen 127.0.0.1:0 --registry "etcd://$EP" ${GW_EXTRA:-} || exit 1
GW=$ADDR GW_PID=$PID
ready() { [ "$(curl -s --max-time 2 "http://$GW/arith/multiply?a=7&b=8")" = '{"value":56}' ]; }
wait_until 10 ready || { echo "slowloris: the gateway does not answer"; exit 1; }

slowloris() { python3 "$ROOT/tests/tools/slowloris.py" "$@"; }
peak_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$GW_PID/status"; }
open_conns() { ss -Htn state established "( sport = :$(port_of "$GW") )" | grep -c .; }

echo "gateway $GW, defaults$( [ -n "${GW_EXTRA:-}" ] && echo " and $GW_EXTRA"); attack: $CONNS connections from 127.0.0.1-8, a byte each every 10 s${FAT:+ after $FAT bytes}, for $SECS s"
echo "baseline:     $(slowloris "$GW" probe "/arith/multiply?a=7&b=8" 3 --from 127.0.0.9); gateway peak RSS $(peak_kb) kB"
slowloris "$GW" trickle $CONNS 10 "$SECS" --reconnect ${FAT:+--fat "$FAT"} \
    --from 127.0.0.1,127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5,127.0.0.6,127.0.0.7,127.0.0.8 >"$TMP/attack" &
attack=$!
sleep 2 # the attacker's connections are being opened
echo "connections open at the gateway after 2 s: $(open_conns)"
echo "under attack: $(slowloris "$GW" probe "/arith/multiply?a=7&b=8" $((SECS - 4)) --from 127.0.0.9)"
echo "connections open at the gateway near the end: $(open_conns)"
wait "$attack"
echo "attacker: $(cat "$TMP/attack")"
echo "gateway peak RSS (VmHWM): $(peak_kb) kB; CPU time $(ps -o times= -p "$GW_PID") s"
grep -m 3 "closed connections" "$TMP/gateway.err" | sed 's/^/gateway log: /'
summary >/dev/null
