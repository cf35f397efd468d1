# lib.sh -- helpers for the integration tests: start servers, check results, count.
# Sourced by tests/integration/*.sh; they set BIN and ROOT first.

TMP=$(mktemp -d /tmp/wb-test.XXXXXX)
# Tools the set-up links beside the programs (bin/consul, from Debian 11) come after the
# machine's own.
case ":$PATH:" in *":$BIN:"*) ;; *) PATH=$PATH:$BIN; export PATH ;; esac
# Go programs built by the tests and by the lessons they check share one build cache, so
# grpc-go and etcd's client are compiled once per checkout.
export GOCACHE="${GOCACHE:-$ROOT/build/go-cache}"
PIDS=""
pass=0
fail=0

cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    for p in $PIDS; do wait "$p" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT

ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() {
    echo "FAIL $1"
    [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/     /'
    fail=$((fail + 1))
}

# count_checks NAME OUTPUT: adds the ok/FAIL lines of a peer's OUTPUT (tests/python's
# checks.py prints them) to the totals, printing them; no line at all is a failure
count_checks() {
    printf '%s\n' "$2"
    n_ok=$(printf '%s\n' "$2" | grep -c '^ok   ')
    n_bad=$(printf '%s\n' "$2" | grep -c '^FAIL ')
    pass=$((pass + n_ok))
    fail=$((fail + n_bad))
    if [ "$n_ok" -eq 0 ] && [ "$n_bad" -eq 0 ]; then
        bad "$1 ran" "$(printf '%s\n' "$2" | tail -n 20)"
    fi
}

# expect_eq NAME WANT GOT
expect_eq() {
    if [ "$2" = "$3" ]; then ok "$1"; else bad "$1" "want: $2
got:  $3"; fi
}

# expect_grep NAME PATTERN TEXT: TEXT contains the fixed string PATTERN
expect_grep() {
    if printf '%s' "$3" | grep -qF -- "$2"; then ok "$1"; else bad "$1" "want to see: $2
in: $(excerpt "$3")"; fi
}

# excerpt TEXT: short text whole; long text's start and end (where the failure usually is)
excerpt() {
    if [ "$(printf '%s' "$1" | wc -c)" -le 2400 ]; then
        printf '%s' "$1"
    else
        printf '%s\n[...]\n%s' "$(printf '%s' "$1" | head -c 800)" "$(printf '%s' "$1" | tail -c 1600)"
    fi
}

# expect_peak_under NAME LIMIT_KB PEAK_KB DETAIL: a process's peak resident memory (VmHWM,
# or getrusage's ru_maxrss) stayed under LIMIT_KB. Under AddressSanitizer, whose quarantine keeps freed memory (256 MB by
# default), a peak says nothing about the program: the check is a SKIP line there.
expect_peak_under() {
    case "${SAN:-}" in
        *address*) echo "SKIP $1 (not measured under AddressSanitizer: ${3:-?} kB)"; return ;;
    esac
    if [ -n "$3" ] && [ "$3" -lt "$2" ]; then ok "$1 (peak $3 kB)"; else bad "$1" "peak ${3:-?} kB; $4"; fi
}

# expect_no_grep NAME PATTERN TEXT
expect_no_grep() {
    if printf '%s' "$3" | grep -qF -- "$2"; then bad "$1" "did not want: $2"; else ok "$1"; fi
}

# start NAME CMD...: runs CMD in the background; sets ADDR to the first line it prints
# (every server prints its address first) and PID to its process id.
start() {
    name=$1
    shift
    "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
    PID=$!
    PIDS="$PIDS $PID"
    i=0
    while [ ! -s "$TMP/$name.out" ] && [ $i -lt 100 ]; do
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.05
        i=$((i + 1))
    done
    ADDR=$(head -n 1 "$TMP/$name.out")
    if [ -z "$ADDR" ]; then
        echo "FAIL could not start $name: $(cat "$TMP/$name.err")"
        fail=$((fail + 1))
        return 1
    fi
}

# stop PID: SIGTERM and wait (at most 5 s), then SIGKILL.
stop() {
    kill -TERM "$1" 2>/dev/null
    i=0
    while kill -0 "$1" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}

# free_port and etcd_start (a private etcd) come from mk/lib.sh.
. "$ROOT/mk/lib.sh"

# wait_until SECONDS CMD...: runs CMD every 0.1 s until it succeeds; fails after SECONDS.
# (tui_lib.sh's wait_for waits for text on the TUI's screen instead.)
wait_until() {
    local limit=$(($1 * 10)) i=0
    shift
    until "$@" >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -ge $limit ] && return 1
        sleep 0.1
    done
}

# raw_http ADDR BYTES: sends BYTES (printf escapes) on one connection and prints what
# comes back until the server closes it; "<still open>" when it has not within 3 s
raw_http() {
    python3 -c '
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=3)
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
got, end = b"", time.time() + 3
try:
    while time.time() < end:
        b = s.recv(65536)
        if not b:
            break
        got += b
    else:
        got += b"<still open>"
except socket.timeout:
    got += b"<still open>"
sys.stdout.write(got.decode("utf-8", "replace"))' "$1" "$2"
}

host_of() { echo "${1%:*}"; }
port_of() { echo "${1##*:}"; }

# nc_send ADDR: sends stdin to ADDR, prints what comes back within 2 s of stdin's end.
nc_send() { timeout 5 nc -q 2 "$(host_of "$1")" "$(port_of "$1")"; }

# build_go NAME: builds tests/go/NAME with Debian's Go, offline: the standard library,
# grpc-go from Debian's golang-google-grpc-dev (under /usr/share/gocode), and the
# messages of proto/ in tests/go/gopath/src/workbench/pb.
build_go() {
    mkdir -p "$ROOT/build/go"
    (cd "$ROOT/tests/go/$1" && GO111MODULE=off GOPATH="$ROOT/build/gopath:$ROOT/tests/go/gopath:/usr/share/gocode" \
        GOCACHE="$ROOT/build/go-cache" go build -o "$ROOT/build/go/$1" .)
}

# build_go_peers NAME...: build_go each; when one fails, the test fails with its log and
# ends here.
build_go_peers() {
    local prog
    for prog in "$@"; do
        if ! build_go "$prog" >"$TMP/go-$prog.log" 2>&1; then
            bad "go build tests/go/$prog" "$(tail -n 20 "$TMP/go-$prog.log")"
            summary
            exit 1
        fi
    done
}

# gen_go_discovery: proto/discovery.proto's messages and gRPC client and server code for Go, generated by
# protoc-gen-go (plugins=grpc) into build/gopath/src/workbench/discovery, never into the
# source tree (tests/go/hubclient and hubserver import them).
gen_go_discovery() {
    mkdir -p "$ROOT/build/gopath/src/workbench/discovery"
    protoc --proto_path="$ROOT/proto" --go_out=plugins=grpc:"$ROOT/build/gopath/src/workbench/discovery" \
        "$ROOT/proto/discovery.proto"
}

summary() {
    # Stop every server first: sanitizers report leaks when a process exits.
    for p in $PIDS; do stop "$p"; done
    PIDS=""
    for f in "$TMP"/*.err; do
        [ -e "$f" ] || continue
        if grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$f"; then
            bad "no sanitizer reports from $(basename "$f" .err)" "$(grep -m 5 -E "ERROR|runtime error" "$f")"
        fi
    done
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}

# etcd_or_exit NAME: a private etcd for the whole script (its pid among PIDS, URL set to
# etcd://HOST:PORT), or, when it does not start, the reason and the summary, and exit 1.
etcd_or_exit() {
    etcd_start "$1" "$TMP/etcd" "$TMP/etcd.log"
    local started=$?
    PIDS="$PIDS $ETCD_PID"
    URL=etcd://$EP
    if [ $started -eq 0 ]; then
        ok "etcd started on $EP"
    else
        bad "etcd starts" "$(tail -n 20 "$TMP/etcd.log")"
        summary
        exit 1
    fi
}
