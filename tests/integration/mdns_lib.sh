# mdns_lib.sh -- helpers for the mDNS tests and benchmarks: a private network namespace to
# keep multicast in, the two reference peers (python3-zeroconf, hashicorp/mdns), and
# processes started, waited for and stopped with deadlines. Sourced after lib.sh.
#
# Inside the namespace only `lo` exists. It is brought up with the MULTICAST flag and
# routes for 224.0.0.0/4 and ff00::/8: hashicorp/mdns's client joins the group and sends
# its queries on the interface the routing table gives (none without such a route), and
# it gives up on a query when its IPv6 socket cannot send. The IPv4 route names the source
# 127.0.0.1: without it Linux sends multicast on lo from 0.0.0.0 (127.0.0.1 has host scope).

MDNS_PY=/usr/bin/python3

# mdns_netns_reexec "$@": at the top of a test, after lib.sh. As root and not yet inside,
# runs this script again in a private network namespace (unshare -n) and exits with its
# status; inside, sets up lo. Not root (or no namespace can be made): prints SKIP with the
# reason and an empty summary, exit 0.
mdns_netns_reexec() {
    local me
    me=$(basename "$0")
    if [ -z "${WB_MDNS_NETNS:-}" ]; then
        if [ "$(id -u)" != 0 ]; then
            echo "SKIP $me: needs root to keep multicast in a private network namespace"
            echo "0 passed, 0 failed"
            exit 0
        fi
        if ! unshare -n true 2>/dev/null; then
            echo "SKIP $me: no private network namespace can be made here (unshare -n failed)"
            echo "0 passed, 0 failed"
            exit 0
        fi
        rm -rf "$TMP"
        WB_MDNS_NETNS=1 exec unshare -n -- bash "$0" "$@"
    fi
    ip link set lo up multicast on
    ip route add 224.0.0.0/4 dev lo src 127.0.0.1 2>/dev/null
    ip -6 route add ff00::/8 dev lo table local 2>/dev/null
    return 0
}

# mdns_py ARGS...: the zeroconf peer (tests/python/mdns_peer.py)
mdns_py() { "$MDNS_PY" "$ROOT/tests/python/mdns_peer.py" "$@"; }

# mdns_have_py: python3-zeroconf can be imported
mdns_have_py() { "$MDNS_PY" -c 'import zeroconf' 2>/dev/null; }

# mdns_go_build: builds tests/go/mdnspeer into build/go/mdnspeer, once per script (again
# when its source is newer). Fails with the compiler's words on stderr.
MDNS_GO_BUILT=""
mdns_go_build() {
    local bin=$ROOT/build/go/mdnspeer
    [ -n "$MDNS_GO_BUILT" ] && return 0
    if [ ! -x "$bin" ] || [ "$ROOT/tests/go/mdnspeer/main.go" -nt "$bin" ]; then
        build_go mdnspeer || return 1
    fi
    MDNS_GO_BUILT=1
}

# mdns_go ARGS...: the hashicorp/mdns peer (tests/go/mdnspeer), built first if needed
mdns_go() { mdns_go_build >&2 && "$ROOT/build/go/mdnspeer" "$@"; }

# mdns_start NAME CMD...: runs CMD in the background, stdout into $TMP/NAME.out and stderr
# into $TMP/NAME.err; PID is its process id (also among PIDS, stopped by the trap). CMD may
# begin with mdns_py or mdns_go: the peer itself is started, so that PID is the peer's.
mdns_start() {
    local name=$1
    shift
    case $1 in
        mdns_py) shift && set -- "$MDNS_PY" "$ROOT/tests/python/mdns_peer.py" "$@" ;;
        mdns_go) shift && { mdns_go_build || return 1; } && set -- "$ROOT/build/go/mdnspeer" "$@" ;;
    esac
    "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
    PID=$!
    PIDS="$PIDS $PID"
}

# mdns_wait_line FILE TEXT SECONDS: waits until FILE has a line containing the fixed TEXT;
# fails after SECONDS. MDNS_WAITED is then the milliseconds it took.
mdns_wait_line() {
    local t0 limit=$(($3 * 20)) i=0
    t0=$(date +%s%N)
    until grep -qF -- "$2" "$1" 2>/dev/null; do
        i=$((i + 1))
        [ $i -ge $limit ] && return 1
        sleep 0.05
    done
    MDNS_WAITED=$((($(date +%s%N) - t0) / 1000000))
}

# mdns_stop PID [SECONDS]: SIGTERM, then SIGKILL when it has not ended within SECONDS (5)
mdns_stop() {
    local limit=$((${2:-5} * 20)) i=0
    kill -TERM "$1" 2>/dev/null
    while kill -0 "$1" 2>/dev/null && [ $i -lt $limit ]; do sleep 0.05; i=$((i + 1)); done
    kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}

# mdns_list_until SECONDS TEXT PEER NAME: runs PEER's list (mdns_py or mdns_go) again and
# again until its output has TEXT, at most SECONDS; MDNS_LISTED is the last output.
mdns_list_until() {
    local end=$(($(date +%s) + $1)) text=$2
    shift 2
    while :; do
        MDNS_LISTED=$("$@" --wait "${MDNS_LIST_WAIT:-1000}" 2>/dev/null)
        printf '%s' "$MDNS_LISTED" | grep -qF -- "$text" && return 0
        [ "$(date +%s)" -ge "$end" ] && return 1
    done
}
