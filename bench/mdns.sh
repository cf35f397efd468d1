#!/usr/bin/env bash
# mdns.sh -- the mDNS part of `make bench`: how fast a watcher learns that a server came
# and went, per registry. In a private network namespace (root), for each row and run: (a)
# a server started until the watcher lists it, (b) SIGTERM until the watcher drops it,
# (c) SIGKILL until the watcher drops it (the registration's TTL, or a health check, has to
# run out). Rows: our grpc-server registered in etcd and in Consul, watched by
# `workbench registry URL hello --watch`; the reference mDNS peers (python3-zeroconf and
# hashicorp/mdns registering, zeroconf's browser watching); and our own mDNS registry
# (`--registry mdns`) once the workbench has it. Prints the median of the runs, in ms.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/bin}
PATH=$BIN:$PATH                 # bin/consul, which mk/consul.sh unpacks there
RUNS=${BENCH_MDNS_RUNS:-3}
TTL=${BENCH_MDNS_TTL:-3}       # the registrations' TTL, s (zeroconf's and ours on mDNS too)
LIMIT=$((TTL * 3 + 15))         # at most this long for one wait, s
. "$ROOT/tests/integration/lib.sh"
. "$ROOT/tests/integration/mdns_lib.sh"

if [ -z "${WB_MDNS_NETNS:-}" ]; then
    [ "$(id -u)" = 0 ] || { echo "mdns: skipped (not root: multicast is kept in a private network namespace)"; exit 0; }
    unshare -n true 2>/dev/null || { echo "mdns: skipped (unshare -n failed)"; exit 0; }
fi
mdns_netns_reexec "$@"

# measure NAME SERVE_CMD WATCH_CMD UP_TEXT GONE_TEXT: one run; prints "UP TERM KILL" in ms
# ("-" for a wait that ran out). SERVE_CMD and WATCH_CMD are strings for eval. The server
# is started twice under one watcher: stopped with SIGTERM, then with SIGKILL.
measure() {
    local name=$1 serve=$2 watch=$3 up=$4 gone=$5 res="" sig w out n
    out=$TMP/$name-watch.out
    eval "mdns_start $name-watch $watch"
    w=$PID
    sleep 1  # the watcher has made its first query or watch
    local sigs="TERM KILL"
    [ -n "${NOKILL:-}" ] && sigs=TERM
    for sig in $sigs; do
        n=$(grep -cE -- "$up" "$out")
        eval "mdns_start $name-serve-$sig $serve"
        if wait_more "$out" "$up" "$n" "$LIMIT"; then
            [ "$sig" = TERM ] && res="$MDNS_WAITED"
        else
            [ "$sig" = TERM ] && res="-"
        fi
        sleep 0.5
        n=$(grep -cE -- "$gone" "$out")
        kill -"$sig" "$PID"
        if wait_more "$out" "$gone" "$n" "$LIMIT"; then res="$res $MDNS_WAITED"; else res="$res -"; fi
        mdns_stop "$PID" 1
    done
    mdns_stop "$w"
    [ -n "${NOKILL:-}" ] && res="$res n/a"
    echo "$res"
}

# wait_more FILE REGEX COUNT SECONDS: until FILE has more than COUNT lines matching REGEX
# (extended), at most SECONDS; MDNS_WAITED is the milliseconds it took.
wait_more() {
    local t0 i=0 limit=$(($4 * 20))
    t0=$(date +%s%N)
    while [ "$(grep -cE -- "$2" "$1" 2>/dev/null)" -le "$3" ]; do
        i=$((i + 1))
        [ $i -ge $limit ] && return 1
        sleep 0.05
    done
    MDNS_WAITED=$((($(date +%s%N) - t0) / 1000000))
}

# median of the numbers given ("-" when none)
median() { printf '%s\n' "$@" | grep -E '^[0-9]+$' | sort -n | awk '{ a[NR] = $1 } END { print NR ? a[int((NR + 1) / 2)] : "-" }'; }

# row LABEL SERVE WATCH UP GONE: RUNS runs, one line of medians
row() {
    local label=$1 ups="" terms="" kills="" u t k
    shift
    for i in $(seq "$RUNS"); do
        read -r u t k <<<"$(measure "r$i" "$@")"
        ups="$ups ${u:--}" terms="$terms ${t:--}" kills="$kills ${k:--}"
    done
    # shellcheck disable=SC2086
    ROW_UP=$(median $ups) ROW_TERM=$(median $terms) ROW_KILL=$(median $kills)
    [ -n "${NOKILL:-}" ] && ROW_KILL=n/a
    printf '%-30s %10s %10s %10s\n' "$label" "$ROW_UP" "$ROW_TERM" "$ROW_KILL"
}

# our grpc-server in REGISTRY_URL, watched by workbench registry; GONE: what the watch
# prints when it is gone (Consul: its check turns critical, since the CLI lists those too)
ours() {
    local label=$1 url=$2 gone=${3:- DELETE hello} port
    port=$(free_port)
    row "$label" "'$BIN/grpc-server' --listen 127.0.0.1:$port --registry '$url' --service hello --ttl $TTL --quiet" \
        "'$BIN/workbench' registry '$url' hello --watch" "PUT    hello" "$gone"
}

echo "mdns: in a private network namespace, on lo; TTL $TTL s; median of $RUNS runs, ms"
echo "     up: start until the watcher lists it; TERM/KILL: the signal until it drops it"
echo "     (-: not within $LIMIT s)"
printf '%-30s %10s %10s %10s\n' registry up TERM KILL
have_ours=""
[ -x "$BIN/grpc-server" ] && [ -x "$BIN/workbench" ] && have_ours=1

if [ -z "$have_ours" ]; then
    echo "etcd, Consul, mdns: skipped (bin/grpc-server or bin/workbench is not built)"
fi
if [ -n "$have_ours" ] && command -v etcd >/dev/null; then
    if etcd_start bench "$TMP/etcd" "$TMP/etcd.log"; then
        PIDS="$PIDS $ETCD_PID"
        ours "etcd (grpc-server)" "etcd://$EP"
    else
        PIDS="$PIDS $ETCD_PID"
        echo "etcd: skipped (it did not start: $(tail -n 1 "$TMP/etcd.log"))"
    fi
fi
if [ -n "$have_ours" ] && command -v consul >/dev/null; then
    consul_dev_start "$TMP/consul.log"
    started=$?
    PIDS="$PIDS $CONSUL_PID"
    HP=$CONSUL_PORT
    if [ $started -eq 0 ]; then
        ours "Consul (grpc-server)" "consul://127.0.0.1:$HP" "( DELETE hello|-> critical)"
    else
        echo "Consul: skipped (the agent did not start)"
    fi
elif [ -n "$have_ours" ]; then
    echo "Consul: skipped (consul is not installed; mk/consul.sh)"
fi

# ---- our own mDNS registry --------------------------------------------------------------
# Filled in by the mDNS backend: --registry mdns on the server, the same watcher on URL mdns.
if [ -n "$have_ours" ]; then
    probe=$(timeout 5 "$BIN/workbench" registry mdns hello 2>&1)
    # an older workbench: "registry URL mdns: want etcd://..." (or an unknown scheme)
    if [ $? -ne 0 ] && printf '%s' "$probe" | grep -qiE "registry URL mdns|unknown|not supported"; then
        echo "mdns (grpc-server): skipped (this workbench has no mDNS registry yet: $(printf '%s' "$probe" | head -n 1 | cut -c1-60))"
    else
        ours "mdns (grpc-server)" "mdns"
        OURS_UP=$ROW_UP OURS_TERM=$ROW_TERM OURS_KILL=$ROW_KILL
    fi
fi

# ---- the reference peers ----------------------------------------------------------------
if mdns_have_py; then
    ZW="mdns_py browse hello"
    NOKILL=1 row "mdns (zeroconf peer)" "mdns_py register hello $(free_port) --ttl $TTL" "$ZW" " add hello-" " remove hello-"
    if mdns_go_build 2>/dev/null; then
        NOKILL=1 row "mdns (hashicorp/mdns peer)" "mdns_go register hello $(free_port) --ttl $TTL" "$ZW" " add hello-" " remove hello-"
        if [ -n "$have_ours" ]; then
            row "  the same, workbench watching" "mdns_go register hello $(free_port) --ttl $TTL" \
                "'$BIN/workbench' registry mdns hello --watch" "PUT    hello" " DELETE hello"
            HC_UP=$ROW_UP HC_TERM=$ROW_TERM HC_KILL=$ROW_KILL
        fi
        [ -n "$have_ours" ] && NOKILL=1 row "  ours, zeroconf watching" \
            "'$BIN/grpc-server' --listen 127.0.0.1:$(free_port) --registry mdns --service hello --ttl $TTL --quiet" \
            "$ZW" " add hello-" " remove hello-"
    else
        echo "mdns (hashicorp/mdns peer): skipped (tests/go/mdnspeer could not be built)"
    fi
    echo "     n/a: zeroconf's browser keeps a PTR at least 1125 s whatever its TTL, so after"
    echo "     SIGKILL (no goodbye) it drops the instance only then; not measured"
else
    echo "mdns peers: skipped (python3-zeroconf is not installed)"
fi

# ---- ours against go-micro's library, the same watcher ----------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9]+$/ && b ~ /^[0-9]+$/ && b > 0) printf "%.2fx", a / b; else print "-" }'; }
if [ -n "${OURS_UP:-}" ] && [ -n "${HC_UP:-}" ]; then
    echo "ours / hashicorp/mdns (go-micro's library), both watched by workbench registry mdns:"
    printf '%-30s %10s %10s %10s\n' "  ratio" "$(ratio "$OURS_UP" "$HC_UP")" "$(ratio "$OURS_TERM" "$HC_TERM")" \
        "$(ratio "$OURS_KILL" "$HC_KILL")"
    echo "     up: ours probes its name first (RFC 6762 §8.1: three probes 250 ms apart, then"
    echo "     announces); hashicorp/mdns announces nothing and never probes. KILL: both"
    echo "     records live $TTL s; a cache drops them at the TTL after the last answer heard"
fi
