#!/bin/bash
# hpack_attack.sh -- the HPACK bomb at length: unary-call latency of grpc-server (p50/p99,
# python3-grpcio) alone, then while 4 connections send header blocks that decode to 48 MB
# each (tests/tools/hpack_bomb.c). Loopback only; SECONDS of attack (default 10).
#   BIN=bin bash bench/hpack_attack.sh [SECONDS]
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/bin}
SECS=${1:-10}
TMP=$(mktemp -d /tmp/wb-hpack.XXXXXX)
trap 'kill $GPID 2>/dev/null; wait $GPID 2>/dev/null; rm -rf "$TMP"' EXIT
cc -std=c11 -D_GNU_SOURCE -O2 -o "$TMP/hpack_bomb" "$ROOT/tests/tools/hpack_bomb.c" || exit 1
"$BIN/grpc-server" --listen 127.0.0.1:0 --quiet >"$TMP/addr" 2>/dev/null &
GPID=$!
for _ in $(seq 50); do [ -s "$TMP/addr" ] && break; sleep 0.1; done
G=$(head -n 1 "$TMP/addr")

# latency SECONDS LABEL: unary Multiply calls for SECONDS, each with a 5 s deadline
latency() {
    /usr/bin/python3 - "$G" "$1" "$2" <<'PYEOF'
import sys, time, grpc
addr, secs, label = sys.argv[1], float(sys.argv[2]), sys.argv[3]
ch = grpc.insecure_channel(addr)
call = ch.unary_unary("/arith.Arith/Multiply")
ms, failed, end = [], 0, time.monotonic() + secs
while time.monotonic() < end:
    t = time.monotonic()
    try:
        call(bytes([0x08, 0x07, 0x10, 0x08]), timeout=5)
        ms.append((time.monotonic() - t) * 1000)
    except grpc.RpcError:
        failed += 1
    time.sleep(0.01)
ms.sort()
pct = lambda p: ms[min(len(ms) - 1, int(len(ms) * p))] if ms else float("nan")
print(f"{label}: {len(ms)} calls served, {failed} failed; p50 {pct(0.5):.1f} ms, "
      f"p99 {pct(0.99):.1f} ms, max {ms[-1] if ms else float('nan'):.1f} ms")
PYEOF
}

latency 3 "baseline"
pids=""
for _ in 1 2 3 4; do "$TMP/hpack_bomb" "$G" flood "$SECS" >>"$TMP/attack.out" & pids="$pids $!"; done
latency "$SECS" "under attack (4 connections)"
for p in $pids; do wait "$p"; done
sed 's/^/attacker: /' "$TMP/attack.out"
echo "grpc-server CPU time: $(ps -o times= -p "$GPID") s"
