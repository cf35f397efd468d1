#!/usr/bin/env bash
# gateway.sh -- the gateway part of `make bench`: bin/gateway against the gateway a Go user
# would write (net/http + grpc-go, tests/go/gateway), in the same run, both in front of
# the same grpc-server, GET /arith/multiply?a=7&b=8 over HTTP/1.1 keep-alive.
#  1. Throughput: h2load --h1 as fast as each gateway answers, BENCH_GW_RUNS times (the
#     two gateways take turns), the median: requests/s, the gateway's CPU time per
#     request, the grpc-server's CPU time and read/write syscalls per request.
#  2. Latency at a fixed rate: tests/go/ratedriver, open loop (latency counts from the
#     time each request was due, so queueing is not hidden): p50/p99/p99.9 at each rate
#     of BENCH_GW_RATES (RATE:SECONDS ...), after a warm-up at the same rate; with the
#     grpc-server's syscalls per request (all of them, by perf, when perf can count).
#  3. What the backend sees per request: TCP segments and HTTP/2 frames of each type, in
#     each direction, from a capture (tcpdump, read by tshark; needs root) of a short run.
# Prints the tables with the ratios ours/Go. GW_EXTRA adds options to our gateway.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/bin}
REQUESTS=${BENCH_GW_REQUESTS:-50000}
CONNS=${BENCH_GW_CONNS:-32}
RUNS=${BENCH_GW_RUNS:-3}
RATES=${BENCH_GW_RATES:-"2000:5 5000:10 10000:5"}
WARMUP=${BENCH_GW_WARMUP:-2}
CAPTURE_N=${BENCH_GW_CAPTURE:-2000}
. "$ROOT/tests/integration/lib.sh"

for tool in etcd etcdctl h2load python3 curl; do
    command -v $tool >/dev/null || { echo "gateway: skipped ($tool is not installed; make bench installs it)"; exit 0; }
done
build_go gateway || { echo "gateway: skipped (the Go peer tests/go/gateway could not be built)"; exit 0; }
build_go ratedriver || { echo "gateway: skipped (tests/go/ratedriver could not be built)"; exit 0; }
ulimit -n 4096 2>/dev/null

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
io_calls() { awk '/^sysc[rw]:/ { n += $2 } END { print n + 0 }' "/proc/$1/io"; }
HZ=$(getconf CLK_TCK)
# per N TOTAL COUNT: COUNT/TOTAL with 2 decimals (0 without requests)
per() { awk -v n="$1" -v c="$2" 'BEGIN { printf "%.2f", n ? c / n : 0 }'; }
us_per() { awk -v t="$2" -v hz="$HZ" -v n="$1" 'BEGIN { printf "%.2f", n ? t * 1e6 / hz / n : 0 }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v o="$1" -v g="$2" 'BEGIN { if (g + 0) printf "%.2fx", o / g; else printf "-" }'; }
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# Our gateway finds the backend in a registry, as it always does: a private etcd.
etcd_start gwbench "$TMP/etcd" "$TMP/etcd.log"
started=$?
PIDS="$PIDS $ETCD_PID"
[ $started -eq 0 ] || { echo "gateway: etcd did not start: $(tail -n 5 "$TMP/etcd.log")"; exit 1; }
start arith "$BIN/grpc-server" --listen 127.0.0.1:0 --quiet --registry "etcd://$EP" --service arith || exit 1
ARITH=$ADDR ARITH_PID=$PID

# gateway NAME CMD...: starts a gateway and waits until it answers; sets URL_<NAME>, PID_<NAME>
gateway() {
    local name=$1 url n=0
    shift
    start "$name" "$@" || exit 1
    url="http://$ADDR/arith/multiply?a=7&b=8"
    until [ "$(curl -s "$url")" = '{"value":56}' ]; do # until it knows the backend
        n=$((n + 1))
        [ $n -gt 100 ] && { echo "gateway: $name does not answer: $(curl -s "$url")"; exit 1; }
        sleep 0.1
    done
    eval "URL_$name=\$url PID_$name=\$PID"
}
GO_GW=("$ROOT/build/go/gateway" -listen 127.0.0.1:0 -arith "$ARITH")
OUR_GW=("$BIN/gateway" --listen 127.0.0.1:0 --quiet --registry "etcd://$EP" ${GW_EXTRA:-})
gateway go "${GO_GW[@]}"
gateway ours "${OUR_GW[@]}"

# throughput NAME RUN: one h2load run against a gateway; appends to the lists of NAME
throughput() {
    local name=$1 run=$2 url pid out t0 t1 b0 b1 s0 s1 done_n rps
    eval "url=\$URL_$name pid=\$PID_$name"
    [ "$run" = 1 ] && h2load --h1 -n 10000 -c "$CONNS" "$url" >/dev/null 2>&1
    t0=$(cpu_ticks "$pid") b0=$(cpu_ticks "$ARITH_PID") s0=$(io_calls "$ARITH_PID")
    out=$(timeout 120 h2load --h1 -n "$REQUESTS" -c "$CONNS" "$url" 2>&1)
    t1=$(cpu_ticks "$pid") b1=$(cpu_ticks "$ARITH_PID") s1=$(io_calls "$ARITH_PID")
    done_n=$(echo "$out" | sed -n 's/^status codes: \([0-9]*\) 2xx.*/\1/p')
    done_n=${done_n:-0}
    rps=$(echo "$out" | sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' | cut -d. -f1)
    eval "RPS_$name=\"\${RPS_$name:-} ${rps:-0}\"
        GWUS_$name=\"\${GWUS_$name:-} $(us_per "$done_n" $((t1 - t0)))\"
        BEUS_$name=\"\${BEUS_$name:-} $(us_per "$done_n" $((b1 - b0)))\"
        BEIO_$name=\"\${BEIO_$name:-} $(per "$done_n" $((s1 - s0)))\""
    echo "  $name run $run: $(echo "$out" | grep -E '^(finished in|status codes:)' | tr '\n' ' ');" \
        "gateway CPU $(us_per "$done_n" $((t1 - t0))) us/request; the grpc-server behind it" \
        "$(us_per "$done_n" $((b1 - b0))) us and $(per "$done_n" $((s1 - s0))) read/write syscalls per request" >&2
    [ "$done_n" = "$REQUESTS" ] || echo "  $name: only $done_n of $REQUESTS requests got a 2xx" >&2
}

echo "load: h2load over HTTP/1.1, $CONNS connections, $REQUESTS x GET /arith/multiply?a=7&b=8 per gateway,"
echo "      both gateways in front of one grpc-server; $RUNS runs each, taking turns, the median"
for run in $(seq 1 "$RUNS"); do
    throughput go "$run"
    throughput ours "$run"
done
for name in go ours; do
    for what in RPS GWUS BEUS BEIO; do eval "M${what}_$name=\$(median \$${what}_$name)"; done
done
printf '%-9s %-22s %12s %12s %7s %11s %11s %7s\n' capability peer "ours req/s" "peer req/s" ratio "ours us/r" "peer us/r" ratio
awk -v oc="$MRPS_ours" -v gc="$MRPS_go" -v ou="$MGWUS_ours" -v gu="$MGWUS_go" 'BEGIN {
    printf "%-9s %-22s %12d %12d %6.2fx %11.2f %11.2f %6.2fx\n", "gateway", "Go net/http + grpc-go", oc, gc, gc ? oc / gc : 0, ou, gu, gu ? ou / gu : 0 }'
echo "target: req/s ratio >= 1.50x, gateway CPU per request ratio <= 0.50x"

# The grpc-server's syscalls while a rate run lasts, by perf (every syscall, by name).
# /proc/PID/io's syscr and syscw (in the detail lines) count read(2) and write(2) and their
# kin only, not recv(2)/send(2) on sockets, which is what the grpc-server calls.
SC_NAMES="read write readv writev recvfrom sendto recvmsg sendmsg epoll_wait epoll_ctl futex"
SC_EVENTS=raw_syscalls:sys_enter
for s in $SC_NAMES; do SC_EVENTS="$SC_EVENTS,syscalls:sys_enter_$s"; done
PERF=no
if command -v perf >/dev/null && timeout 10 perf stat -e "$SC_EVENTS" -- true >/dev/null 2>&1; then PERF=yes; fi

# perf_begin: perf attached to the grpc-server, counting from now; perf_end prints
# "TOTAL NAME=N ..." (nothing without perf)
perf_begin() {
    [ $PERF = yes ] || return 0
    rm -f "$TMP/perf.ctl" "$TMP/perf.ack" "$TMP/perf.out"
    mkfifo "$TMP/perf.ctl" "$TMP/perf.ack"
    perf stat -x, -o "$TMP/perf.out" -e "$SC_EVENTS" -D -1 --control "fifo:$TMP/perf.ctl,$TMP/perf.ack" \
        -p "$ARITH_PID" 2>"$TMP/perf.err" &
    PERF_PID=$!
    PIDS="$PIDS $PERF_PID"
    exec 8<>"$TMP/perf.ctl" 9<>"$TMP/perf.ack"
    echo enable >&8
    timeout 5 head -c 5 <&9 >/dev/null || echo "  perf did not start counting: $(cat "$TMP/perf.err")" >&2
}
perf_end() {
    [ $PERF = yes ] || return 0
    echo disable >&8
    timeout 5 head -c 5 <&9 >/dev/null
    kill -INT "$PERF_PID" 2>/dev/null # perf stat writes its counts on SIGINT
    local n=0
    while kill -0 "$PERF_PID" 2>/dev/null && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
    stop "$PERF_PID"
    exec 8>&- 9>&-
    awk -F, '$3 == "raw_syscalls:sys_enter" { t = $1 + 0 }
        $3 ~ /^syscalls:sys_enter_/ && $1 + 0 > 0 { sub(/^syscalls:sys_enter_/, "", $3); s = s " " $3 "=" $1 }
        END { print t s }' "$TMP/perf.out"
}

# at_rate NAME RATE SECONDS: a warm-up and a measured ratedriver run; sets LINE (the
# driver's line), SCIO and SCALL (the grpc-server's syscalls per request), SCBY (by name)
at_rate() {
    local name=$1 rate=$2 secs=$3 url pid s0 s1 ok calls
    eval "url=\$URL_$name"
    local drive=("$ROOT/build/go/ratedriver" -url "$url" -rate "$rate" -conns "$CONNS" -expect '"value":56' -warmup 0)
    timeout $((WARMUP + 30)) "${drive[@]}" -duration "${WARMUP}s" >/dev/null 2>"$TMP/driver.err"
    s0=$(io_calls "$ARITH_PID")
    perf_begin
    LINE=$(timeout $((secs + 30)) "${drive[@]}" -duration "${secs}s" 2>"$TMP/driver.err")
    calls=$(perf_end)
    s1=$(io_calls "$ARITH_PID")
    ok=$(field ok "$LINE")
    SCIO=$(per "${ok:-0}" $((s1 - s0)))
    SCALL=$(per "${ok:-0}" "${calls%% *}")
    SCBY=
    for c in ${calls#* }; do
        [ "$c" = "$calls" ] && break
        SCBY="$SCBY ${c%%=*} $(per "${ok:-0}" "${c#*=}")"
    done
    echo "  $name at $rate/s: $LINE; the grpc-server: $SCIO read/write syscalls per request" \
        "(/proc/PID/io)${calls:+, $SCALL syscalls of every kind (perf):$SCBY}" \
        "$(sed 's/^ratedriver: /; driver: /' "$TMP/driver.err" | tr '\n' ' ')" >&2
}

echo
echo "latency at a fixed rate: tests/go/ratedriver, $CONNS keep-alive connections, open loop"
echo "(from the time each request was due), after ${WARMUP}s at the same rate; microseconds"
printf '%6s %5s %7s %7s %7s %7s %7s %6s %6s %6s %5s %7s\n' req/s side p50 p90 p99 p99.9 max sc/req "p50 x" "p99 x" kept "drv p99"
for point in $RATES; do
    rate=${point%%:*} secs=${point#*:}
    [ "$secs" = "$point" ] && secs=10
    for name in go ours; do
        at_rate "$name" "$rate" "$secs"
        eval "L_$name=\$LINE SC_$name=\$SCALL SCIO_$name=\$SCIO"
        # the syscalls in the table below: at 5000/s, or the last rate when 5000 is not run
        [ "$rate" = 5000 ] || [ "${SCR:-}" != 5000 ] && eval "R5_SC_$name=\$SCALL R5_BY_$name=\"\$SCBY\""
    done
    [ "$rate" = 5000 ] || [ "${SCR:-}" != 5000 ] && SCR=$rate
    for name in go ours; do
        eval "l=\$L_$name sc=\$SC_$name"
        [ $PERF = yes ] || eval "sc=\$SCIO_$name"
        printf '%6s %5s %7s %7s %7s %7s %7s %6s' "$rate" "$name" "$(field p50_us "$l")" "$(field p90_us "$l")" \
            "$(field p99_us "$l")" "$(field p999_us "$l")" "$(field max_us "$l")" "$sc"
        if [ $name = ours ]; then
            printf ' %6s %6s' "$(ratio "$(field p50_us "$L_ours")" "$(field p50_us "$L_go")")" \
                "$(ratio "$(field p99_us "$L_ours")" "$(field p99_us "$L_go")")"
        else
            printf ' %6s %6s' "" ""
        fi
        printf ' %5s %7s\n' "$(field keeps_rate "$l")" "$(field driver_lag_p99_us "$l")"
    done
done
echo "kept: the answers came at the asked rate (within 1%), none failed; x: ours/Go; drv p99:"
echo "how late the driver itself handed requests out (the machine's share of the latency);"
echo "sc/req: the grpc-server's syscalls per request, every kind ($([ $PERF = yes ] && echo "perf" ||
    echo "perf cannot count here: read/write only, /proc/PID/io"))"

# capture NAME CMD...: tcpdump on the backend's port while a new gateway (CMD) starts,
# so that its connection is seen from the first byte (HTTP/2 is read from its start), and
# CAPTURE_N requests go through it at 2,000/s; sets SEG_TO SEG_FROM FR_TO FR_FROM (per
# request, the first one included) or CAP_SKIP
capture() {
    local name=$1 url pcap=$TMP/$1.pcap n=0 line ok port=${ARITH##*:} secs
    shift
    secs=$(awk -v n="$CAPTURE_N" 'BEGIN { printf "%.3f", n / 2000 }')
    tcpdump -i lo -U --immediate-mode -B 32768 -w "$pcap" "tcp port $port" 2>"$TMP/tcpdump-$name.err" &
    local tpid=$!
    PIDS="$PIDS $tpid"
    until grep -q "listening on" "$TMP/tcpdump-$name.err"; do
        n=$((n + 1))
        if [ $n -gt 50 ] || ! kill -0 $tpid 2>/dev/null; then CAP_SKIP="tcpdump: $(cat "$TMP/tcpdump-$name.err")"; return; fi
        sleep 0.1
    done
    gateway "cap$name" "$@"
    eval "url=\$URL_cap$name"
    line=$(timeout 30 "$ROOT/build/go/ratedriver" -url "$url" -rate 2000 -duration "${secs}s" -warmup 0 -conns "$CONNS" 2>/dev/null)
    eval "stop \$PID_cap$name"
    sleep 0.2 # the last segments reach the capture
    stop $tpid
    grep -q "^0 packets dropped by kernel" "$TMP/tcpdump-$name.err" ||
        echo "  $name: tcpdump: $(grep dropped "$TMP/tcpdump-$name.err" | tr '\n' ' ')" >&2
    ok=$(($(field ok "$line") + 1)) # and the one that found the gateway ready
    tshark -r "$pcap" -d "tcp.port==$port,http2" -T fields -E separator=/s -e tcp.dstport -e tcp.len -e http2.type \
        2>"$TMP/tshark-$name.err" | awk -v p="$port" -v n="${ok:-0}" '
        BEGIN { split("DATA HEADERS PRIORITY RST_STREAM SETTINGS PUSH_PROMISE PING GOAWAY WINDOW_UPDATE CONTINUATION", t, " ") }
        { d = $1 == p ? "to" : "from"
          if ($2 > 0) seg[d]++
          k = split($3, ty, ",")
          for (i = 1; i <= k; i++) if (ty[i] != "") fr[d, ty[i]]++ }
        END { for (d in seg) printf "SEG_%s=%.2f\n", toupper(d), n ? seg[d] / n : 0
              for (j = 0; j < 10; j++) for (dd = 1; dd <= 2; dd++) { d = dd == 1 ? "to" : "from"
                  if ((d, j) in fr) s[d] = s[d] sprintf(" %s %.2f", t[j + 1], n ? fr[d, j] / n : 0) }
              printf "FR_TO=\"%s\"\nFR_FROM=\"%s\"\n", s["to"], s["from"] }' >"$TMP/frames-$name"
    SEG_TO=0 SEG_FROM=0 FR_TO= FR_FROM=
    . "$TMP/frames-$name"
    echo "  $name, $CAPTURE_N requests at 2000/s: $line" >&2
}

echo
echo "what the grpc-server sees per request, with each gateway in front"
printf '%-40s %10s %10s %7s\n' "" ours Go ratio
# row LABEL OURS GO; nothing when both are (about) zero
row() {
    case "${2:-0}/${3:-0}" in 0/0 | 0.00/0 | 0/0.00 | 0.00/0.00) return ;; esac
    printf '%-40s %10s %10s %7s\n' "$1" "${2:-0.00}" "${3:-0.00}" "$(ratio "${2:-0}" "${3:-0}")"
}
row "CPU us (h2load, median)" "$MBEUS_ours" "$MBEUS_go"
if [ $PERF = yes ] && [ -n "${R5_SC_go:-}" ]; then
    row "syscalls of every kind ($SCR/s, perf)" "$R5_SC_ours" "$R5_SC_go"
    for s in $SC_NAMES; do
        o=$(echo " $R5_BY_ours " | sed -n "s/.* $s \([0-9.]*\) .*/\1/p") g=$(echo " $R5_BY_go " | sed -n "s/.* $s \([0-9.]*\) .*/\1/p")
        row "  $s" "$o" "$g"
    done
elif [ $PERF = no ]; then
    echo "(syscalls: skipped, perf cannot count them here: it needs root or kernel.perf_event_paranoid=-1)"
fi
if [ "$(id -u)" != 0 ]; then
    echo "(segments and frames: skipped, capturing needs root)"
elif ! command -v tcpdump >/dev/null || ! command -v tshark >/dev/null; then
    echo "(segments and frames: skipped, tcpdump and tshark are needed)"
else
    stop "$PID_go"
    stop "$PID_ours"
    for name in go ours; do
        CAP_SKIP=
        if [ $name = go ]; then capture go "${GO_GW[@]}"; else capture ours "${OUR_GW[@]}"; fi
        [ -n "$CAP_SKIP" ] && { echo "(segments and frames: skipped, $CAP_SKIP)"; break; }
        eval "SEGT_$name=\$SEG_TO SEGF_$name=\$SEG_FROM FRT_$name=\"\$FR_TO\" FRF_$name=\"\$FR_FROM\""
    done
    if [ -z "$CAP_SKIP" ]; then
        row "TCP segments with data, to it" "$SEGT_ours" "$SEGT_go"
        row "TCP segments with data, from it" "$SEGF_ours" "$SEGF_go"
        for dir in T F; do
            eval "fo=\$FR${dir}_ours fg=\$FR${dir}_go"
            for ty in DATA HEADERS PRIORITY RST_STREAM SETTINGS PUSH_PROMISE PING GOAWAY WINDOW_UPDATE CONTINUATION; do
                o=$(echo " $fo " | sed -n "s/.* $ty \([0-9.]*\) .*/\1/p") g=$(echo " $fg " | sed -n "s/.* $ty \([0-9.]*\) .*/\1/p")
                row "HTTP/2 $ty frames, $([ $dir = T ] && echo to || echo from) it" "$o" "$g"
            done
        done
    fi
fi
echo "target: CPU, syscalls, segments and frames per request no more than with grpc-go's client"
summary >/dev/null
