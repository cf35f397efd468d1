# test_sniff_live.sh -- `workbench sniff` live on the loopback while Go's net/rpc client
# calls Go's server (and grpc-go calls our grpc-server): each call's line appears as it
# happens, --count and --seconds end it, SIGINT ends it with its summary, and without
# the capture capability it says what to run and exits 2.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"
WB="$BIN/workbench"
export COLUMNS=1000 # --wire's dumps: one row a span, for grep

if ! command -v go >/dev/null; then
    echo "SKIP go is not installed (make test installs golang-go)"
    summary
    exit $?
fi
build_go_peers rpcserver pauseclient grpcclient
GO="$ROOT/build/go"

# sniff NAME ARGS...: workbench sniff in the background (output in $TMP/NAME.out and .err),
# waited for until it captures; sets SNIFF_PID. Returns 1 when it cannot capture here.
sniff() {
    local name=$1
    shift
    "$WB" --lang en sniff --color never "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
    SNIFF_PID=$!
    PIDS="$PIDS $SNIFF_PID"
    local i=0
    while ! grep -q "capturing on" "$TMP/$name.err" && kill -0 "$SNIFF_PID" 2>/dev/null && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    grep -q "capturing on" "$TMP/$name.err"
}
# finished PID SECONDS: waits for PID to exit by itself; sets RC (124: it did not)
finished() {
    local i=0
    while kill -0 "$1" 2>/dev/null && [ $i -lt $(($2 * 10)) ]; do sleep 0.1; i=$((i + 1)); done
    if kill -0 "$1" 2>/dev/null; then RC=124; stop "$1"; else wait "$1"; RC=$?; fi
}

start gob "$GO/rpcserver" --listen 127.0.0.1:0 --codec gob || { summary; exit 1; }
GOB=$ADDR P=$(port_of "$ADDR")
if ! sniff gob --port "$P" --count 4 --seconds 20; then
    echo "SKIP workbench sniff cannot capture here: $(cat "$TMP/gob.err")"
    summary
    exit $?
fi
ok "workbench sniff captures on lo, port $P"

# pauseclient: one connection, a call each time a line comes on fd 3
mkfifo "$TMP/pc.in"
"$GO/pauseclient" -addr "$GOB" -proto gob <"$TMP/pc.in" >"$TMP/pc.out" 2>&1 &
PIDS="$PIDS $!"
exec 3>"$TMP/pc.in"
echo >&3
wait_until 10 grep -q "^1 " "$TMP/pc.out"
if wait_until 10 grep -q "Arith.Multiply" "$TMP/gob.out"; then
    ok "the first call's line appears while the client still waits to make the next"
else
    bad "the first call's line appears live" "$(cat "$TMP/gob.out" "$TMP/gob.err")"
fi
expect_grep "the connection is recognised as gob from its start" "Go net/rpc" "$(cat "$TMP/gob.out")"
expect_grep "call 1: method, arguments, result, status" 'Arith.Multiply  {"A":1,"B":10} -> 10  ok' "$(cat "$TMP/gob.out")"
for i in 2 3 4 5; do echo >&3; wait_until 10 grep -q "^$i " "$TMP/pc.out"; done
exec 3>&-
finished "$SNIFF_PID" 10
expect_eq "--count 4 ends it by itself, with 0" 0 "$RC"
out=$(cat "$TMP/gob.out")
expect_grep "call 4 is shown" '{"A":4,"B":10} -> 40  ok' "$out"
expect_no_grep "call 5 is not (--count 4)" '{"A":5,"B":10}' "$out"
expect_eq "four call lines" 4 "$(printf '%s\n' "$out" | grep -c 'Arith.Multiply  {')"
expect_grep "the summary line" "calls: 4, bytes lost in gaps: 0, packets the kernel dropped: 0" "$out"
expect_grep "each line has a latency" " ms" "$(printf '%s\n' "$out" | grep 'Arith.Multiply')"

# SIGINT ends it cleanly, with the summary; grpc-go's calls seen live, with --wire
start grpc "$BIN/grpc-server" --listen 127.0.0.1:0 || { summary; exit 1; }
G=$ADDR
if sniff grpc --port "$(port_of "$G")" --seconds 30 --wire; then
    count_checks "grpc-go against grpc-server" "$(timeout 60 "$GO/grpcclient" -addr "$G" 2>&1)"
    wait_until 10 grep -q "Arith/Divide" "$TMP/grpc.out"
    kill -INT "$SNIFF_PID"
    finished "$SNIFF_PID" 10
    expect_eq "SIGINT ends workbench sniff with 0" 0 "$RC"
    out=$(cat "$TMP/grpc.out")
    expect_grep "grpc-go's SayHello live" '/helloworld.Greeter/SayHello  {"name":"world"} -> {"message":"Hello world"}  OK' "$out"
    expect_grep "grpc-go's Divide by zero live" "INVALID_ARGUMENT (3)" "$out"
    expect_grep "--wire live: each call's request explained" "call 1: request" "$out"
    expect_grep "--wire live: HPACK's :path" ":path: /helloworld.Greeter/SayHello" "$out"
    expect_grep "the summary after SIGINT" "packets the kernel dropped:" "$out"
else
    bad "workbench sniff captures the gRPC port" "$(cat "$TMP/grpc.err")"
fi

# --seconds ends it with nothing seen
if sniff quiet --port "$(free_port)" --seconds 1; then
    finished "$SNIFF_PID" 10
    expect_eq "--seconds 1 ends it by itself, with 0" 0 "$RC"
    expect_grep "with a summary of nothing" "connections: 0 (not RPC: 0), calls: 0" "$(cat "$TMP/quiet.out")"
fi

# the Chinese summary
expect_grep "--lang zh: the summary in Chinese" "连接" \
    "$(timeout 20 "$WB" --lang zh sniff --port "$(free_port)" --seconds 1 2>/dev/null)"

# without the capture capability: what to run, and exit 2
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ] && setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null &&
    setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$WB"; then
    out=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$WB" --lang en sniff --seconds 1 2>&1)
    expect_eq "an unprivileged user's sniff exits 2" 2 "$?"
    expect_grep "and is told what to run" "workbench sniff: " "$out"
    expect_grep "naming the capability" "cap_net_raw" "$(printf '%s' "$out" | tr 'A-Z' 'a-z')"
else
    echo "SKIP the message without the capture capability (needs root to run as nobody with setpriv)"
fi
summary
