#!/usr/bin/env bash
# pbjson.sh -- `make bench`'s rows for calling services the workbench was never built with.
# 1. proto3's JSON mapping on tutorial 001's Student, every field set: ours (wire/pbjson on
#    a type built at run time by wire/pbdesc from a descriptor set, and on the same type
#    compiled in by protoc-c; tests/tools/pbjson_bench.c) against Go's protojson on a
#    dynamicpb message (tests/go/pbjsonbench), the peer a user would otherwise pick. Each
#    way, JSON text -> message -> bytes and bytes -> message -> JSON text, at most
#    BENCH_PBJSON_ITERATIONS iterations and BENCH_PBJSON_SECONDS seconds a loop, the best
#    of BENCH_PBJSON_REPEATS runs.
# 2. for the learner: one whole `workbench call` of pb.AddName/AddFunc against the grpc-go
#    peer, its types from the server's reflection, from --protoset and from --proto
#    (protoc run first); the median of BENCH_CALL_RUNS runs each.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/bin}
BUILD=${BUILD:-$ROOT/build}
ITERATIONS=${BENCH_PBJSON_ITERATIONS:-2000000}
SECONDS_PER_LOOP=${BENCH_PBJSON_SECONDS:-1}
REPEATS=${BENCH_PBJSON_REPEATS:-3}
RUNS=${BENCH_CALL_RUNS:-20}
. "$ROOT/tests/integration/lib.sh"
. "$ROOT/tests/integration/any_protos.sh"
OURS=$BUILD/bench/pbjson_bench
STUDENT='{"age":20,"name":"李白","p":{"weight":150},"score":[90,80],"w":"Tuesday","teacher":"杜甫"}'

if [ ! -x "$OURS" ]; then
    echo "json mapping: skipped ($OURS is not built: make bench builds it)"
    exit 0
fi
if ! any_protos "$TMP/any" >/dev/null 2>&1; then
    echo "json mapping: skipped ($ANY_WHY)"
    exit 0
fi
if ! build_go pbjsonbench >"$TMP/go-build.log" 2>&1; then
    echo "json mapping: skipped (tests/go/pbjsonbench does not build: $(tail -n 3 "$TMP/go-build.log"))"
    exit 0
fi

# field LINE KEY: the value of KEY=... in one of the benchmarks' lines
field() { printf '%s\n' "$1" | sed -n "s/.* $2=\([^ ]*\).*/\1/p"; }
run() { "$@" --json "$STUDENT" --iterations "$ITERATIONS" --seconds "$SECONDS_PER_LOOP"; }
# Each program runs REPEATS times, the three taking turns; a loop's figure is its best run
# (what else the machine does only ever slows a run down).
i=0
while [ $i -lt "$REPEATS" ]; do
    run "$OURS" --descriptors "$ANY_DESC" --type pb.Student >>"$TMP/rt" || { echo "json mapping: $OURS failed"; exit 1; }
    run "$OURS" --compiled >>"$TMP/cc" || { echo "json mapping: $OURS --compiled failed"; exit 1; }
    run "$ROOT/build/go/pbjsonbench" --descriptors "$ANY_DESC" --type pb.Student >>"$TMP/go" ||
        { echo "json mapping: tests/go/pbjsonbench failed"; exit 1; }
    i=$((i + 1))
done
for x in "rt:ours, run-time type" "cc:ours, compiled-in type" "go:Go protojson+dynamicpb"; do
    echo "  ${x#*:}" >&2
    sed 's/^/    /' "$TMP/${x%%:*}" >&2
done
# best WHO WAY KEY: the best figure of that loop among the runs: the most ops_per_sec, the
# least cpu_ns_per_op
best() {
    local order=-n
    [ "$3" = ops_per_sec ] && order=-rn
    grep "^$2 " "$TMP/$1" | sed -n "s/.* $3=\([0-9]*\).*/\1/p" | sort $order | head -n 1
}

echo "json mapping: pb.Student (tutorial 001, every field set), one thread/goroutine, at most $ITERATIONS iterations or ${SECONDS_PER_LOOP}s a loop, best of $REPEATS"
# Go's protojson puts spaces in its output at random on purpose; the JSON is compared without them.
gj=$(sed -n 's/^bytes_to_json .* json=//p' "$TMP/go" | head -n 1 | tr -d ' ')
gb=$(field "$(grep ^json_to_bytes "$TMP/go" | head -n 1)" bytes)
for o in rt cc; do
    oj=$(sed -n 's/^bytes_to_json .* json=//p' "$TMP/$o" | head -n 1 | tr -d ' ')
    [ "$oj" = "$gj" ] || echo "  note: the JSON texts differ: ours $oj, Go's $gj"
    ob=$(field "$(grep ^json_to_bytes "$TMP/$o" | head -n 1)" bytes)
    [ "$ob" = "$gb" ] || echo "  note: the protobuf byte counts differ: ours $ob, Go's $gb"
done
printf '%-24s %-23s %10s %10s %7s %10s %10s %7s\n' capability peer "ours op/s" "peer op/s" ratio "ours us/op" "peer us/op" ratio
for way in json_to_bytes bytes_to_json; do
    for o in rt cc; do
        if [ $o = rt ]; then k="run-time type"; else k="compiled type"; fi
        if [ $way = json_to_bytes ]; then label="JSON->pb, $k"; else label="pb->JSON, $k"; fi
        awk -v l="$label" -v oc="$(best $o $way ops_per_sec)" -v gc="$(best go $way ops_per_sec)" \
            -v ou="$(best $o $way cpu_ns_per_op)" -v gu="$(best go $way cpu_ns_per_op)" 'BEGIN {
            printf "%-24s %-23s %10d %10d %6.2fx %10.2f %10.2f %6.2fx\n", l, "Go protojson+dynamicpb",
                oc, gc, gc ? oc / gc : 0, ou / 1000, gu / 1000, gu ? ou / gu : 0 }'
    done
done
echo "(us/op: the process's CPU time an iteration, Go's collector included)"

# 2. a whole call, reflection against a descriptor set
any_go_start gopeer --reflection >/dev/null 2>&1
case $? in
    0) ;;
    2) echo "call times: skipped ($ANY_WHY)"; exit 0 ;;
    *) echo "call times: skipped (the grpc-go peer did not start: $(cat "$TMP/gopeer.err" 2>/dev/null | tail -n 3))"; exit 0 ;;
esac
G=$ADDR
# one_us KIND: the wall time in microseconds of one workbench process: KIND refl, set or
# proto calls AddFunc with its types from there; start only prints --help
one_us() {
    local t0 t1 rc
    t0=$(date +%s%N)
    case $1 in
        refl) timeout 10 "$BIN/workbench" call "grpc://$G" pb.AddName/AddFunc "$STUDENT" ;;
        set) timeout 10 "$BIN/workbench" call "grpc://$G" pb.AddName/AddFunc "$STUDENT" --protoset "$ANY_DESC" ;;
        proto) timeout 10 "$BIN/workbench" call "grpc://$G" pb.AddName/AddFunc "$STUDENT" --proto "$ANY_DIR/student.proto" ;;
        start) "$BIN/workbench" --help ;;
    esac >/dev/null 2>"$TMP/call.err"
    rc=$?
    t1=$(date +%s%N)
    [ $rc -eq 0 ] || { echo "  $1: the call failed: $(head -n 3 "$TMP/call.err")" >&2; return 1; }
    echo $(((t1 - t0) / 1000))
}
# the kinds take turns, so that what else the machine does falls on all of them alike
one_us refl >/dev/null   # warm the page cache
i=0
while [ $i -lt "$RUNS" ]; do
    for k in refl set proto start; do one_us $k >>"$TMP/times-$k" || exit 1; done
    i=$((i + 1))
done
# median_ms KIND
median_ms() { sort -n "$TMP/times-$1" | awk '{ t[NR] = $1 } END { m = NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2; printf "%.2f", m / 1000 }'; }
echo "workbench call pb.AddName/AddFunc against grpc-go, the whole process, median of $RUNS runs each:"
printf '  %-34s %8s ms\n' "types by the server's reflection" "$(median_ms refl)" "types from --protoset (a file)" "$(median_ms set)" \
    "types from --proto (protoc first)" "$(median_ms proto)" "no call: workbench --help" "$(median_ms start)"
awk -v r="$(median_ms refl)" -v s="$(median_ms set)" -v h="$(median_ms start)" 'BEGIN {
    printf "  the reflection round trip: %+.2f ms a call against --protoset; starting the process alone takes %.2f ms\n", r - s, h }'
