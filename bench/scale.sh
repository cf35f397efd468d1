#!/usr/bin/env bash
# scale.sh -- the `make bench` part on growth: what an idle connection costs a server, and
# what the balancer and the TUI cost as a service's instances grow. Two tables, each with
# its growth ratio (cost at the largest size / cost at the smallest).
#  1. Connections: N idle TCP connections from one client (tests/tools/conn_flood.py, ten
#     source addresses; for gRPC each has sent the client preface and an empty SETTINGS,
#     so the server has set up its HTTP/2 session); the server's VmRSS before and after,
#     per connection = delta / N, at 1,000 and 10,000. Ours against Go's net/rpc
#     (tests/go/rpcserver) and grpc-go (tests/go/greeter).
#  2. Instances: 1, 10, 100 and 500 gob-server processes registered as one service in a
#     private etcd. workbench load's CPU per call (all its threads, from
#     /proc/PID/task/*/schedstat) over the steady part of its run; the time from an etcdctl
#     del / put of one instance's key to the balancer's "registry dropped/added" event
#     (WB_LAB_EVENTS, one monotonic clock); the TUI's CPU per second at 80x24 in tmux with
#     its load on.
# Every wait is bounded; loopback only.
#   BIN=bin bash bench/scale.sh   (BENCH_SCALE_PART=connections or instances: one table)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/bin}
SIZES_CONN=${BENCH_SCALE_CONNS:-"1000 10000"}
SIZES_INST=${BENCH_SCALE_INSTANCES:-"1 10 100 500"}
LOAD_RATE=${BENCH_SCALE_RATE:-2000}   # workbench load's calls/s
LOAD_SECS=${BENCH_SCALE_SECONDS:-5}
TUI_RATE=${BENCH_SCALE_TUI_RATE:-500}
TUI_SECS=${BENCH_SCALE_TUI_SECONDS:-6}
TUI_CAP=4096 # registry entries the TUI keeps (TUI_MAX_ADDRS, a registry listing's most)
PY=/usr/bin/python3
. "$ROOT/tests/integration/lib.sh"
ulimit -n "$(ulimit -Hn)" 2>/dev/null
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((${SIZES_CONN##* } + 100)) ]; then
    SIZES_CONN="${SIZES_CONN%% *} $(($(ulimit -n) - 100))"
    echo "note: ulimit -n is $(ulimit -n); at most ${SIZES_CONN##* } connections"
fi

# cpu_ns PID: nanoseconds on a CPU so far, summed over the process's threads
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%d", s }'; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
nfds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
mono_ms() { $PY -c 'import time; print(int(time.monotonic() * 1000))'; }

# ---- 1. connections ----

H2_HELLO=505249202a20485454502f322e300d0a0d0a534d0d0a0d0a000000040000000000 # preface + SETTINGS {}
OURS=(--listen 127.0.0.1:0 --quiet --max-conns 20000 --max-conns-per-addr 20000
      --idle-timeout 0 --first-message-timeout 0)

# per_conn N HEX CMD...: a fresh server, N idle connections; sets PER_CONN (bytes of RSS
# each, empty when not all N were held) and RSS_MB (the server's RSS with them)
per_conn() {
    local n=$1 hex=$2 pid fp r0 f0 r1 prev i
    shift 2
    PER_CONN="" RSS_MB=""
    CONN_RUN=$((${CONN_RUN:-0} + 1))
    start "conn$CONN_RUN" "$@" || return
    pid=$PID
    sleep 0.3
    r0=$(rss_kb "$pid") f0=$(nfds "$pid")
    timeout 60 $PY "$ROOT/tests/tools/conn_flood.py" "$ADDR" "$n" 10 30 $hex >"$TMP/flood" 2>&1 &
    fp=$!
    i=0
    while [ "$(nfds "$pid")" -lt $((f0 + n)) ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
    # settled: the same RSS twice, 0.3 s apart (at most 3 s)
    prev=0 r1=$(rss_kb "$pid") i=0
    while [ "$r1" != "$prev" ] && [ $i -lt 10 ]; do sleep 0.3; prev=$r1; r1=$(rss_kb "$pid"); i=$((i + 1)); done
    if [ "$(nfds "$pid")" -ge $((f0 + n)) ]; then
        PER_CONN=$(((r1 - r0) * 1024 / n))
        RSS_MB=$(awk -v k="$r1" 'BEGIN { printf "%.1f", k / 1024 }')
    fi
    echo "  $(basename "$1") ${*:2}: $n connections, VmRSS $r0 -> $r1 kB, $(nfds "$pid") fds" >&2
    kill "$fp" 2>/dev/null
    wait "$fp" 2>/dev/null
    stop "$pid"
}

conn_table() {
    local go_ok=1
    build_go rpcserver >/dev/null 2>&1 && build_go greeter >/dev/null 2>&1 || go_ok=0
    local small=${SIZES_CONN%% *} big=${SIZES_CONN##* }
    # srv|label|the Go peer it is compared with|bytes to send|command
    local rows=(
        "gob-server|ours|go-gob||$BIN/gob-server ${OURS[*]}"
        "jsonrpc-server|ours|go-json||$BIN/jsonrpc-server ${OURS[*]}"
        "grpc-server|ours|grpc-go|$H2_HELLO|$BIN/grpc-server ${OURS[*]}"
        "go-gob|Go net/rpc|||$ROOT/build/go/rpcserver -codec gob"
        "go-json|Go jsonrpc|||$ROOT/build/go/rpcserver -codec json"
        "grpc-go|grpc-go||$H2_HELLO|$ROOT/build/go/greeter"
    )
    local row srv label peer hex cmd
    declare -A small_of big_of rss_of
    for row in "${rows[@]}"; do
        IFS='|' read -r srv label peer hex cmd <<<"$row"
        [ "$label" = ours ] || [ $go_ok = 1 ] || continue
        # shellcheck disable=SC2086
        per_conn "$small" "$hex" $cmd
        small_of[$srv]=$PER_CONN
        # shellcheck disable=SC2086
        per_conn "$big" "$hex" $cmd
        big_of[$srv]=$PER_CONN rss_of[$srv]=$RSS_MB
    done
    echo "connections: server RSS per idle connection ((VmRSS with N open - before) / N), N from one client"
    printf '%-15s %-10s %11s %11s %7s %10s %8s\n' server "" "B/c @$small" "B/c @$big" growth "RSS @$big" "vs Go"
    for row in "${rows[@]}"; do
        IFS='|' read -r srv label peer hex cmd <<<"$row"
        [ -n "${big_of[$srv]+set}" ] || continue
        awk -v n="$srv" -v l="$label" -v s="${small_of[$srv]:-0}" -v b="${big_of[$srv]:-0}" \
            -v r="${rss_of[$srv]:-?}" -v p="${peer:+${big_of[$peer]:-0}}" 'BEGIN {
            printf "%-15s %-10s %11d %11d %6.2fx %7s MB %8s\n", n, l, s, b, (s > 0 ? b / s : 0), r,
                (p > 0 ? sprintf("%.2fx", b / p) : "") }'
    done
    [ $go_ok = 1 ] || echo "(the Go peers could not be built: ours only)"
    echo "target: ours per connection at $big no more than the Go peer's (vs Go <= 1.00x), growth ~1.00x"
}

# ---- 2. instances ----

INST_PIDS=""
# spawn_to N: gob-server instances of service "workbench" until N run and N keys are in etcd
spawn_to() {
    local want=$1 have i
    have=$(echo $INST_PIDS | wc -w)
    for ((i = have; i < want; i++)); do
        "$BIN/gob-server" --listen 127.0.0.1:0 --quiet --registry "etcd://$EP" --service workbench --ttl 30 \
            >/dev/null 2>>"$TMP/instances.err" &
        INST_PIDS="$INST_PIDS $!"
        PIDS="$PIDS $!"
    done
    i=0
    until [ "$(keys | grep -c .)" -ge "$want" ] || [ $i -ge 600 ]; do sleep 0.1; i=$((i + 1)); done
    [ "$(keys | grep -c .)" -ge "$want" ]
}
keys() { etcdctl --endpoints "$EP" --dial-timeout 2s get --prefix --keys-only workbench/ | grep .; }

# event_ms TEXT SINCE: the first event with TEXT at or after SINCE (ms) in the load's events
event_ms() { awk -v t="$1" -v s="$2" '$1 >= s && index($0, t) { print $1; exit }' "$TMP/events"; }

# load_at N: workbench load through etcd at LOAD_RATE; sets US_CALL (its CPU per call from
# 1 s in to 1.5 s before its end), then DROP_MS and ADD_MS (an etcdctl del, then put, of
# one instance's key in its last second, to the balancer's event)
load_at() {
    local n=$1 tp pid c0 c1 w0 w1 key val addr t_del t_put i calls
    US_CALL="" DROP_MS="" ADD_MS=""
    : >"$TMP/events"
    WB_LAB_EVENTS=$TMP/events WB_LAB_T0=0 timeout $((LOAD_SECS + 60)) "$BIN/workbench" load --service workbench \
        --codec gob --registry "etcd://$EP" --rate "$LOAD_RATE" --duration "$LOAD_SECS" >"$TMP/load.out" 2>&1 &
    tp=$!
    i=0
    until grep -q ' load start ' "$TMP/events" || [ $i -ge 300 ]; do sleep 0.05; i=$((i + 1)); done
    pid=$(pgrep -P "$tp" workbench)
    sleep 1 # the first round connects to every instance: not measured
    c0=$(cpu_ns "$pid") w0=$(mono_ms)
    sleep "$(awk -v s="$LOAD_SECS" 'BEGIN { printf "%.1f", (s > 3 ? s - 2.5 : 0.5) }')"
    c1=$(cpu_ns "$pid") w1=$(mono_ms)
    key=$(keys | head -n 1)
    addr=${key#workbench/}
    val=$(etcdctl --endpoints "$EP" get --print-value-only "$key")
    t_del=$(mono_ms)
    etcdctl --endpoints "$EP" del "$key" >/dev/null
    i=0
    until [ -n "$(event_ms "registry dropped $addr" "$t_del")" ] || [ $i -ge 40 ]; do sleep 0.02; i=$((i + 1)); done
    t_put=$(mono_ms)
    etcdctl --endpoints "$EP" put "$key" "$val" >/dev/null
    i=0
    until [ -n "$(event_ms "registry added $addr" "$t_put")" ] || [ $i -ge 40 ]; do sleep 0.02; i=$((i + 1)); done
    wait "$tp"
    calls=$(sed -n 's/^ *\([0-9]*\) calls, \([0-9]*\) failed.*/\1 calls, \2 failed/p' "$TMP/load.out")
    echo "  load at $n instances: ${calls:-?}; CPU $(((c1 - c0) / 1000000)) ms in $((w1 - w0)) ms" >&2
    US_CALL=$(awk -v c=$((c1 - c0)) -v w=$((w1 - w0)) -v r="$LOAD_RATE" 'BEGIN { printf "%.1f", w ? c / 1000 / (w / 1000 * r) : 0 }')
    local d a
    d=$(event_ms "registry dropped $addr" "$t_del") a=$(event_ms "registry added $addr" "$t_put")
    [ -n "$d" ] && DROP_MS=$((d - t_del))
    [ -n "$a" ] && ADD_MS=$((a - t_put))
}

TSOCK=wb-scale-$$
tm() { tmux -L "$TSOCK" "$@"; }
TUI_PID=""
# tui_start: the TUI at 80x24 in a tmux of its own, watching the bench's etcd
tui_start() {
    command -v tmux >/dev/null || return 1
    tm new-session -d -x 80 -y 24 -s tui "$BIN/workbench tui --registry etcd://$EP; sleep 60"
    local i=0 pane
    while [ -z "$TUI_PID" ] && [ $i -lt 50 ]; do
        pane=$(tm display -p -t tui '#{pane_pid}' 2>/dev/null)
        [ -n "$pane" ] && TUI_PID=$(pgrep -P "$pane" workbench)
        sleep 0.1
        i=$((i + 1))
    done
    [ -n "$TUI_PID" ] || return 1
    i=0
    until tm capture-pane -p -t tui | grep -q 'watch live' || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
    tm send-keys -t tui : && tm send-keys -t tui -l "rate $TUI_RATE" && tm send-keys -t tui Enter
}
# tui_at N: the TUI's CPU ms per second with its load on, N instances registered
tui_at() {
    TUI_MS=""
    [ -n "$TUI_PID" ] || return
    local i=0 c0 c1 w0 w1 shown=$(($1 < TUI_CAP ? $1 : TUI_CAP))
    until tm capture-pane -p -t tui | grep -qE "watch live, $shown key" || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
    tm send-keys -t tui l # load on
    sleep 1
    c0=$(cpu_ns "$TUI_PID") w0=$(mono_ms)
    sleep "$TUI_SECS"
    c1=$(cpu_ns "$TUI_PID") w1=$(mono_ms)
    tm send-keys -t tui l # load off
    echo "  TUI at $1 instances: $(tm capture-pane -p -t tui | grep -oE 'now [0-9.]+ calls/s' | head -n 1)," \
        "$(tm capture-pane -p -t tui | grep -oE 'watch live, [0-9]+ keys?'), RSS $(rss_kb "$TUI_PID") kB" >&2
    TUI_MS=$(awk -v c=$((c1 - c0)) -v w=$((w1 - w0)) 'BEGIN { printf "%.0f", w ? c / 1e6 / (w / 1000) : 0 }')
}

inst_table() {
    for tool in etcd etcdctl; do
        command -v $tool >/dev/null || { echo "instances: skipped ($tool is not installed)"; return; }
    done
    etcd_start scalebench "$TMP/etcd" "$TMP/etcd.log"
    local started=$?
    PIDS="$PIDS $ETCD_PID"
    [ $started -eq 0 ] || { echo "instances: etcd did not start: $(tail -n 5 "$TMP/etcd.log")"; return; }
    tui_start || echo "  (the TUI could not be started in tmux: its column is empty)" >&2
    echo "instances: one service (gob-server processes) in a private etcd; workbench load at $LOAD_RATE calls/s,"
    echo "  the TUI (80x24, tmux) with its load at $TUI_RATE calls/s; an etcdctl del/put of one key to the balancer's event"
    printf '%-9s %11s %9s %9s %11s %9s\n' instances "load us/c" "del->ms" "put->ms" "TUI ms/s" "RSS MB"
    local n first_us="" first_tui="" last_us="" last_tui=""
    for n in $SIZES_INST; do
        if ! spawn_to "$n"; then
            echo "  only $(keys | grep -c .) of $n instances registered within 60 s" >&2
            break
        fi
        load_at "$n"
        tui_at "$n"
        local rss
        rss=$(awk -v p="$INST_PIDS" 'BEGIN { split(p, a, " "); for (i in a) { f = "/proc/" a[i] "/status";
            while ((getline l < f) > 0) if (l ~ /^RssAnon:/) { split(l, x, " "); s += x[2] } close(f) } printf "%.0f", s / 1024 }')
        printf '%-9s %11s %9s %9s %11s %9s\n' "$n" "${US_CALL:--}" "${DROP_MS:--}" "${ADD_MS:--}" "${TUI_MS:--}" "$rss"
        [ -z "$first_us" ] && first_us=${US_CALL:-0} first_tui=${TUI_MS:-0}
        last_us=${US_CALL:-0} last_tui=${TUI_MS:-0}
    done
    awk -v a="$first_us" -v b="$last_us" -v c="$first_tui" -v d="$last_tui" 'BEGIN {
        printf "growth (largest / smallest): load CPU per call %.2fx, TUI CPU per second %.2fx\n",
            (a > 0 ? b / a : 0), (c > 0 ? d / c : 0) }'
    echo "RSS MB: the instances' own memory (RssAnon, summed); the TUI holds and calls up to $TUI_CAP instances"
    echo "target: CPU per call and TUI CPU per second flat (growth ~1x), a change reaches the balancer in < 100 ms"
    stop_instances
}

# stop_instances: SIGTERM to every instance at once (each deregisters), SIGKILL after 5 s
stop_instances() {
    local i=0 p alive
    [ -n "$INST_PIDS" ] || return
    # shellcheck disable=SC2086
    kill -TERM $INST_PIDS 2>/dev/null
    while [ $i -lt 50 ]; do
        alive=""
        for p in $INST_PIDS; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
        [ -z "$alive" ] && break
        sleep 0.1
        i=$((i + 1))
    done
    # shellcheck disable=SC2086
    [ -n "$alive" ] && kill -KILL $alive 2>/dev/null
    for p in $INST_PIDS; do wait "$p" 2>/dev/null; done
    INST_PIDS=""
}

trap 'tm kill-server 2>/dev/null; cleanup' EXIT
PART=${BENCH_SCALE_PART:-all} # connections, instances or all
[ "$PART" = instances ] || conn_table
[ "$PART" = connections ] || inst_table
summary >/dev/null
