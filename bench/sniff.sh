#!/usr/bin/env bash
# sniff.sh -- the capture part of `make bench`: how fast the workbench reads the calls out
# of a capture file, against tshark (the tool a user would otherwise pick), on the same
# file; and whether `workbench sniff` keeps up live with a steady load.
# The files are written by `workbench load --pcap` (real calls to a spawned server); each
# row is the median of RUNS runs: wall time, CPU time (user + system) and calls a second.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/bin}
RUNS=${BENCH_SNIFF_RUNS:-3}
RATE=${BENCH_SNIFF_RATE:-4000}    # calls/s of the load that writes each file
SECS=${BENCH_SNIFF_SECONDS:-5}
. "$ROOT/tests/integration/lib.sh"

command -v tshark >/dev/null || { echo "sniff: skipped (tshark is not installed)"; exit 0; }
[ -x "$BIN/workbench" ] || { echo "sniff: skipped (bin/workbench is not built)"; exit 0; }

# capture CODEC FILE: a load of RATE calls/s for SECS s, written to FILE; prints the calls made
capture() {
    "$BIN/workbench" load --service bench --codec "$1" --registry static --spawn 1 \
        --rate "$RATE" --duration "$SECS" --pcap "$2" >"$TMP/load-$1.out" 2>&1
    sed -n 's/.* \([0-9][0-9]*\) calls.*/\1/p' "$TMP/load-$1.out" | head -n 1
}

# timed CMD...: runs CMD with output to /dev/null; prints "WALL_MS CPU_MS"
timed() {
    local t0 t1
    t0=$(date +%s%N)
    /usr/bin/env time -f '%U %S' -o "$TMP/time" "$@" >/dev/null 2>&1
    t1=$(date +%s%N)
    awk -v w=$(((t1 - t0) / 1000000)) '{ printf "%d %d\n", w, ($1 + $2) * 1000 }' "$TMP/time"
}

median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print NR ? a[int((NR + 1) / 2)] : "-" }'; }

# row LABEL CALLS CMD...: RUNS runs; prints the row and sets ROW_WALL, ROW_CPU
row() {
    local label=$1 calls=$2 walls="" cpus="" w c
    shift 2
    for _ in $(seq "$RUNS"); do
        read -r w c <<<"$(timed "$@")"
        walls="$walls $w" cpus="$cpus $c"
    done
    # shellcheck disable=SC2086
    ROW_WALL=$(median $walls) ROW_CPU=$(median $cpus)
    printf '%-34s %8s %8s %12s\n' "$label" "$ROW_WALL" "$ROW_CPU" \
        "$(awk -v n="$calls" -v w="$ROW_WALL" 'BEGIN { printf "%d", (w > 0 ? n * 1000 / w : 0) }')"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }

if [ "${1:-}" != --live ]; then
[ -x /usr/bin/time ] || { echo "sniff: skipped (/usr/bin/time is not installed: apt-get install time)"; exit 0; }
echo "sniff: reading the calls of a capture file (written by workbench load --pcap, $RATE calls/s"
echo "       for $SECS s); median of $RUNS runs"
printf '%-34s %8s %8s %12s\n' "reader" "wall ms" "cpu ms" "calls/s"
for codec in grpc json gob; do
    f=$TMP/$codec.pcap
    n=$(capture "$codec" "$f")
    if [ -z "$n" ] || [ ! -s "$f" ]; then
        echo "$codec: skipped (the load did not write its capture: $(tail -n 1 "$TMP/load-$codec.out"))"
        continue
    fi
    port=$(tshark -r "$f" -c 1 -T fields -e tcp.dstport 2>/dev/null | head -n 1)
    seen=$("$BIN/workbench" explain "$f" 2>/dev/null | grep -c -- ' -> ')
    echo "$codec: $n calls in $(du -k "$f" | cut -f1) KiB; workbench explain lists $seen lines"
    row "  workbench explain" "$n" "$BIN/workbench" explain "$f"
    ours_w=$ROW_WALL ours_c=$ROW_CPU
    # every byte of every call explained too, each call from where the one before ended
    case $codec in gob | grpc) row "  workbench explain --wire" "$n" "$BIN/workbench" explain "$f" --wire ;; esac
    case $codec in
    grpc)
        row "  tshark (http2, grpc, protobuf)" "$n" tshark -r "$f" -d "tcp.port==$port,http2" \
            -o "uat:protobuf_search_paths:\"$ROOT/proto\",\"TRUE\"" -Y grpc \
            -T fields -e http2.header.value -e protobuf.field.value ;;
    json)
        row "  tshark (json)" "$n" tshark -r "$f" -d "tcp.port==$port,json" -Y json \
            -T fields -e json.member_with_value ;;
    gob)
        echo "  tshark: no gob dissector (its TCP reassembly alone, for scale):"
        row "  tshark (tcp follow)" "$n" tshark -r "$f" -q -z "follow,tcp,raw,0" ;;
    esac
    echo "  ours / tshark: wall $(ratio "$ours_w" "$ROW_WALL"), cpu $(ratio "$ours_c" "$ROW_CPU") (lower is faster)"
done
fi

# ---- live: does sniff keep up? ------------------------------------------------------------
# In a private network namespace, so that its loopback carries nothing but this load.
live() {
    ip link set lo up
    echo "sniff live: workbench sniff on lo while a gRPC load of $RATE calls/s runs for $SECS s"
    echo "            (in a private network namespace)"
    "$BIN/workbench" sniff --seconds $((SECS + 8)) >"$TMP/live.out" 2>&1 &
    S=$!
    wait_until 10 grep -qs capturing "$TMP/live.out"
    "$BIN/workbench" load --service live --codec grpc --registry static --spawn 1 --rate "$RATE" \
        --duration "$SECS" >"$TMP/live-load.out" 2>&1
    made=$(sed -n 's/.* \([0-9][0-9]*\) calls.*/\1/p' "$TMP/live-load.out" | head -n 1)
    sleep 1
    kill -INT "$S" 2>/dev/null
    wait "$S"
    seen=$(grep -c 'Arith.Multiply' "$TMP/live.out")
    echo "  calls made ${made:-?}, calls the sniffer printed $seen"
    echo "  $(tail -n 1 "$TMP/live.out")"
}
if [ "${1:-}" = --live ]; then
    live
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! unshare -n true 2>/dev/null; then
    echo "sniff live: skipped (capturing needs root, and the load runs in a private network namespace)"
    exit 0
fi
unshare -n bash "$0" --live
