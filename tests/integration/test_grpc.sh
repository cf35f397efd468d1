# test_grpc.sh -- grpc-server against real peers: python3-grpcio (gRPC's C core) for every
# RPC kind, health, reflection, deadlines, limits and shutdown; nghttp (nghttp2-client) for
# hand-made requests a well-behaved client will not send; grpc-go's helloworld client.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"

PY=/usr/bin/python3 # Debian's, which has python3-grpcio (the python3 on PATH may not)
DESC=${BUILD:-$ROOT/build}/gen/descriptors.pb # the descriptor set of the build under test

# py_checks ADDR CHECK...: runs tests/python/grpc_checks.py and counts its ok/FAIL lines
# (python3-grpcio is the client; a helper server must be running at ADDR).
py_checks() {
    count_checks "python grpc checks ($*)" "$(timeout 180 "$PY" "$ROOT/tests/python/grpc_checks.py" "$DESC" "$@" 2>&1)"
}

# grpc_frame HEX...: a gRPC message (uncompressed) with its 5-byte prefix, into a file
grpc_frame() {
    f=$1
    shift
    n=$#
    { printf '\000\000\000\000'; printf "\\$(printf '%03o' "$n")"; for b in "$@"; do printf "\\$(printf '%03o' "0x$b")"; done; } >"$f"
}

if ! "$PY" -c 'import grpc, google.protobuf' 2>/dev/null; then
    bad "python3-grpcio is installed for $PY" "apt-get install python3-grpcio python3-protobuf"
    summary
    exit 1
fi

out=$("$BIN/grpc-server" --help)
expect_grep "grpc-server --help names the services" "helloworld.Greeter/SayHello" "$out"

start ours "$BIN/grpc-server" --listen 127.0.0.1:0 || { summary; exit 1; }
G=$ADDR; GPID=$PID
expect_grep "--listen port 0 prints the bound address first" "127.0.0.1:" "$G"

# python3-grpcio: every RPC kind, health, reflection, errors, deadlines, concurrency
py_checks "$G" unary streams health reflection errors concurrent gzip

# The server's own deadline: nghttp does not enforce grpc-timeout, so the status must come
# from our timer. Count to 5 every 200 ms (CountRequest{to: 5, interval_ms: 200}).
grpc_frame "$TMP/count.bin" 08 05 10 c8 01
out=$(timeout 5 nghttp -nv -H ':method: POST' -H 'content-type: application/grpc' -H 'te: trailers' \
    -H 'grpc-timeout: 300m' -d "$TMP/count.bin" "http://$G/tally.Tally/Count" 2>&1)
expect_grep "grpc-timeout 300m: the server itself answers DEADLINE_EXCEEDED (4)" "grpc-status: 4" "$out"
expect_grep "and the deadline's message is in the trailers" "grpc-message: deadline exceeded" "$out"
expect_grep "the numbers sent before the deadline arrived" "recv DATA frame" "$out"

# Compressed messages (grpc-encoding: gzip), made by Python's gzip module: one of Args{7, 8},
# one that inflates to 64 MiB, one cut short.
"$PY" - "$TMP" <<'PYEOF'
import gzip, struct, sys
d = sys.argv[1]
def frame(name, body, flag=1):
    open(d + "/" + name, "wb").write(struct.pack(">BI", flag, len(body)) + body)
frame("gz.bin", gzip.compress(bytes([0x08, 0x07, 0x10, 0x08])))
frame("bomb.bin", gzip.compress(b"\0" * (64 << 20)))
frame("cut.bin", gzip.compress(bytes([0x08, 0x07, 0x10, 0x08]))[:-6])
PYEOF
gz_call() { # gz_call FILE ENCODING: Multiply with FILE as the body, grpc-encoding ENCODING
    timeout 10 nghttp -nv -H ':method: POST' -H 'content-type: application/grpc' -H "grpc-encoding: $2" \
        -d "$TMP/$1" "http://$G/arith.Arith/Multiply" 2>&1
}
out=$(gz_call gz.bin gzip)
expect_grep "a gzip-compressed Args{7, 8} (nghttp, grpc-encoding: gzip) -> OK" "grpc-status: 0" "$out"
body=$(timeout 10 nghttp -H ':method: POST' -H 'content-type: application/grpc' -H 'grpc-encoding: gzip' \
    -d "$TMP/gz.bin" "http://$G/arith.Arith/Multiply" 2>&1 | od -An -tx1 | tr -s ' \n' ' ')
expect_eq "and the reply is Product{56}, uncompressed (00 00000002 08 38)" " 00 00 00 00 02 08 38 " "$body"
expect_grep "the server says it takes gzip (grpc-accept-encoding)" "grpc-accept-encoding: identity,gzip" "$out"
out=$(gz_call bomb.bin gzip)
expect_grep "a 64 KiB gzip message that inflates to 64 MiB -> RESOURCE_EXHAUSTED (8)" "grpc-status: 8" "$out"
expect_grep "and says it is larger than the max after decompression" "after decompression larger than max" "$out"
out=$(gz_call cut.bin gzip)
expect_grep "gzip data cut short -> INTERNAL (13)" "grpc-status: 13" "$out"
expect_grep "with zlib's reason" "failed to decompress" "$out"
out=$(gz_call gz.bin snappy)
expect_grep "grpc-encoding: snappy -> UNIMPLEMENTED (12)" "grpc-status: 12" "$out"
expect_grep "naming the encoding" "grpc-encoding \"snappy\"" "$(printf '%s' "$out" | sed 's/%22/"/g')"
grpc_frame "$TMP/comp.bin" 08 05
printf '\001' | dd of="$TMP/comp.bin" bs=1 count=1 conv=notrunc 2>/dev/null
out=$(timeout 5 nghttp -nv -H ':method: POST' -H 'content-type: application/grpc' \
    -d "$TMP/comp.bin" "http://$G/arith.Arith/Multiply" 2>&1)
expect_grep "compressed flag set without grpc-encoding -> INTERNAL (13), as grpc-go answers" "grpc-status: 13" "$out"
expect_grep "with a message that says why" "compressed flag set with identity or empty encoding" "$out"

# Not gRPC: a plain POST
out=$(timeout 5 nghttp -nv -H ':method: POST' -H 'content-type: text/plain' -d "$TMP/comp.bin" \
    "http://$G/arith.Arith/Multiply" 2>&1)
expect_grep "a non-gRPC content-type gets a gRPC error" "content-type must be application/grpc" "$out"

# A bidi client that sends and sends but never reads (receive window 0): once a stream's
# unread replies back up, its flow-control window stays shut, so the client cannot push
# more requests; the stream, making no progress, is reset after --stream-timeout.
start throttle "$BIN/grpc-server" --listen 127.0.0.1:0 --stream-timeout 2 || { summary; exit 1; }
T=$ADDR; TPID=$PID
"$PY" -c 'import sys; sys.stdout.buffer.write(b"\0\0\0\0\2\x08\x01" * 700000)' >"$TMP/many.bin"
out=$(timeout 60 nghttp -nv -w 0 -H ':method: POST' -H 'content-type: application/grpc' \
    -d "$TMP/many.bin" "http://$T/tally.Tally/RunningTotal" 2>&1)
expect_grep "a bidi client that never reads its replies gets RST_STREAM" "recv RST_STREAM" "$out"
expect_grep "and the reason is logged" "RunningTotal): no progress for 2 s" "$(cat "$TMP/throttle.err")"
held=$(sed -n 's/.*RunningTotal): no progress for 2 s, \([0-9]*\) bytes held.*/\1/p' "$TMP/throttle.err" | head -n 1)
if [ -n "$held" ] && [ "$held" -lt 2097152 ]; then
    ok "flow control stopped its requests: under 2 MiB held ($held bytes)"
else
    bad "flow control stopped its requests: under 2 MiB held" "held: ${held:-?}; $(tail -n 5 "$TMP/throttle.err")"
fi

# The same client while the server is paused: megabytes wait in the socket, and the server
# must read them in turns, not take them for one message over its cap.
kill -STOP "$TPID"
timeout 60 nghttp -nv -w 0 -H ':method: POST' -H 'content-type: application/grpc' \
    -d "$TMP/many.bin" "http://$T/tally.Tally/RunningTotal" >"$TMP/paused.out" 2>&1 &
paused=$!
sleep 0.5
kill -CONT "$TPID"
wait "$paused"
expect_grep "a backlog of megabytes read after a pause is still one stream, reset as above" \
    "recv RST_STREAM" "$(cat "$TMP/paused.out")"
expect_no_grep "and not refused as a message over the cap" "message larger than" "$(cat "$TMP/throttle.err")"
stop "$TPID"

# Bad HTTP/2 closes that connection only: a slow Count on another connection carries on.
grpc_frame "$TMP/slow.bin" 08 04 10 c8 01
timeout 10 nghttp -nv -H ':method: POST' -H 'content-type: application/grpc' -H 'te: trailers' \
    -d "$TMP/slow.bin" "http://$G/tally.Tally/Count" >"$TMP/slow.out" 2>&1 &
slow=$!
sleep 0.2
out=$(printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' | nc_send "$G")
expect_grep "an HTTP/1.1 request is told this is an HTTP/2-only gRPC server" "HTTP/1.1 505" "$out"
expect_grep "in words" "it speaks HTTP/2 only" "$out"
printf 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\000\000\001\011\000\000\000\000\001xxxxxxxx' | nc_send "$G" >/dev/null
wait "$slow"
out=$(cat "$TMP/slow.out")
expect_eq "meanwhile the slow Count on another connection sent all 4 numbers" 4 \
    "$(grep -a -c 'recv DATA frame' "$TMP/slow.out")"
expect_grep "and finished OK" "grpc-status: 0" "$out"
errs=$(cat "$TMP/ours.err")
expect_grep "the HTTP/1.1 client is told what is wrong" "did not start with the HTTP/2 preface" "$errs"
expect_grep "bad frames are logged" "error: HTTP/2:" "$errs"

# An HPACK bomb (tests/tools/hpack_bomb.c): one 4 KB header added to the dynamic table,
# then 12,000 one-byte references to it: a 16 KB block that decodes to 48 MB.
BOMB=$TMP/hpack_bomb
if cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Wshadow -o "$BOMB" "$ROOT/tests/tools/hpack_bomb.c" \
        2>"$TMP/bomb-build.log"; then
    out=$(timeout 20 "$BOMB" "$G" once 2>&1)
    expect_grep "the server advertises a 64 KiB header list (SETTINGS_MAX_HEADER_LIST_SIZE)" \
        "settings max_header_list_size=65536" "$out"
    expect_grep "a header block over it: its stream is reset with ENHANCE_YOUR_CALM (11)" \
        "rst stream=1 code=11" "$out"
    expect_grep "a second on the connection: GOAWAY with ENHANCE_YOUR_CALM (11), saying why" \
        "goaway code=11 debug=a header list over the 65536 bytes" "$out"
    expect_grep "and the connection is closed" "closed" "$out"
    expect_grep "both are logged" "GOAWAY (ENHANCE_YOUR_CALM)" "$(cat "$TMP/ours.err")"
    # A bounded attack (2 s, three connections at a time: two of such blocks, one of blocks
    # under the limit); legitimate calls made meanwhile are counted, not timed.
    attackers=""
    for mode in flood flood small; do
        timeout 20 "$BOMB" "$G" "$mode" 2 >"$TMP/bomb-$mode.$$.$RANDOM" 2>&1 &
        attackers="$attackers $!"
    done
    served=0
    for i in 1 2 3 4 5 6 7 8; do
        timeout 10 "$BIN/workbench" call "grpc://$G" Arith.Multiply '{"A":7,"B":8}' 2>/dev/null |
            grep -q '"value":56' && served=$((served + 1))
        sleep 0.2
    done
    for p in $attackers; do wait "$p"; done
    expect_eq "during the attack, every legitimate call was served" 8 "$served"
    out=$(cat "$TMP"/bomb-flood.* "$TMP"/bomb-small.*)
    expect_no_grep "every attacking connection was sent away (GOAWAY)" "goaways=0" "$out"
    expect_grep "blocks under the limit, faster than the server decodes them, are sent away too" \
        "more than the server reads per turn" "$(cat "$TMP/ours.err")"
else
    bad "build tests/tools/hpack_bomb.c" "$(head -n 20 "$TMP/bomb-build.log")"
fi

# grpc-go's own helloworld client (Debian's golang-google-grpc-dev, GOPATH mode, offline)
GOPATH_GRPC=/usr/share/gocode
if [ -d "$GOPATH_GRPC/src/google.golang.org/grpc" ] && command -v go >/dev/null; then
    if build_go grpcclient >"$TMP/gobuild.log" 2>&1; then
        out=$("$ROOT/build/go/grpcclient" -addr "$G" 2>&1)
        expect_grep "grpc-go client: all checks" "all checks passed" "$out"
    else
        bad "build the grpc-go client offline" "$(tail -n 15 "$TMP/gobuild.log")"
    fi
else
    echo "SKIP grpc-go client: golang-google-grpc-dev or go is not installed"
fi
stop "$GPID"

# --idle-timeout spares a connection with a call in flight, then closes it once idle
start idle "$BIN/grpc-server" --listen 127.0.0.1:0 --idle-timeout 1 || { summary; exit 1; }
py_checks "$ADDR" idle=1
expect_grep "and closes it once no call is open" "idle too long" "$(cat "$TMP/idle.err")"
stop "$PID"

# Streams that hold memory and never finish (tests/tools/stall_streams.py). A request
# begun and never finished: reset once --stream-timeout passes with no progress, and the
# connection, whose only stream that was, is closed with it (not after --idle-timeout).
STALL="$PY $ROOT/tests/tools/stall_streams.py"
start stall "$BIN/grpc-server" --listen 127.0.0.1:0 --stream-timeout 1 || { summary; exit 1; }
out=$(timeout 20 $STALL "$ADDR" halfopen 8 2>&1)
expect_grep "a half-sent request is reset after --stream-timeout (RST_STREAM CANCEL)" "rst stream=1 code=8" "$out"
expect_grep "and its connection is then closed" "closed" "$out"
expect_grep "the reset is logged" "(--stream-timeout): stream reset (CANCEL)" "$(cat "$TMP/stall.err")"
expect_grep "and the close" "no progress on any of its streams for --stream-timeout" "$(cat "$TMP/stall.err")"
stop "$PID"

# A stream that waits on its client keeps no connection busy: --idle-timeout applies.
start stall2 "$BIN/grpc-server" --listen 127.0.0.1:0 --idle-timeout 1 || { summary; exit 1; }
out=$(timeout 20 $STALL "$ADDR" halfopen 8 2>&1)
expect_grep "a connection whose one stream waits on its client is closed by --idle-timeout" "closed" "$out"
expect_grep "as being idle" "idle too long (--idle-timeout)" "$(cat "$TMP/stall2.err")"
stop "$PID"

# Only a call counts as the first request, and only calls and their replies as activity:
# a connection that sends the preface and SETTINGS and nothing more, or PINGs every
# 300 ms, is closed by --first-message-timeout; one that PINGs after its call, by
# --idle-timeout. A client that connects, waits 0.5 s, then calls is served.
H2PEER=$(cat <<'PY'
import select, socket, struct, sys, threading, time
host, port = sys.argv[1].rsplit(":", 1)
addr = (host, int(port))
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
said = threading.Lock()

def say(line):  # one write a line: the tests run in threads, and print() writes in pieces
    with said:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

def frame(ftype, flags, sid, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", sid) + payload

def lit(n, v):
    return b"\x00" + bytes([len(n)]) + n + bytes([len(v)]) + v

def sayhello(sid):
    block = b"".join(lit(n, v) for n, v in [
        (b":method", b"POST"), (b":scheme", b"http"), (b":path", b"/helloworld.Greeter/SayHello"),
        (b":authority", b"localhost"), (b"content-type", b"application/grpc"), (b"te", b"trailers")])
    msg = b"\x0a\x05world"
    return frame(1, 0x4, sid, block) + frame(0, 0x1, sid, b"\x00" + struct.pack(">I", len(msg)) + msg)

def closed_within(s, wait):  # reads (and drops) what the server sends; True once it closes
    end = time.monotonic() + wait
    while time.monotonic() < end:
        if select.select([s], [], [], max(0, end - time.monotonic()))[0]:
            try:
                if s.recv(65536) == b"":
                    return True
            except OSError:
                return True
    return False

def pings(s, seconds):  # a PING each 300 ms until the server closes, at most seconds
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            s.sendall(frame(6, 0, 0, b"12345678"))
        except OSError:
            return "closed"
        if closed_within(s, 0.3):
            return "closed"
    return "open"

def connect():
    s = socket.create_connection(addr, timeout=5)
    s.sendall(PREFACE + frame(4, 0, 0))
    return s

def settings_only():
    say("settings only: " + ("closed" if closed_within(connect(), 5) else "open"))

def ping_only():
    say("pings only: %s" % pings(connect(), 5))

def ping_after_call():
    s = connect()
    s.sendall(sayhello(1))
    time.sleep(0.3)
    say("pings after a call: %s" % pings(s, 6))

def late():
    import grpc
    ch = grpc.insecure_channel(sys.argv[1])
    grpc.channel_ready_future(ch).result(timeout=5)
    time.sleep(0.5)
    r = ch.unary_unary("/helloworld.Greeter/SayHello")(b"\x0a\x05world", timeout=5)
    say("late: " + r.decode(errors="replace").strip("\n\x0b"))

tests = {"first": (settings_only, ping_only, late), "idle": (ping_after_call, late)}[sys.argv[2]]
ts = [threading.Thread(target=f) for f in tests]
for t in ts:
    t.start()
for t in ts:
    t.join()
PY
)
start greet "$BIN/grpc-server" --listen 127.0.0.1:0 --first-message-timeout 1 || { summary; exit 1; }
out=$(timeout 20 "$PY" -c "$H2PEER" "$ADDR" first 2>&1)
expect_grep "the preface and SETTINGS alone are no first request" "settings only: closed" "$out"
expect_grep "nor are PINGs every 300 ms" "pings only: closed" "$out"
expect_grep "a grpcio client that connects, waits 0.5 s, then calls is served" "late: Hello world" "$out"
stop "$PID"
expect_eq "both closed by --first-message-timeout" "2" "$(grep -c '(--first-message-timeout)' "$TMP/greet.err")"
start pinged "$BIN/grpc-server" --listen 127.0.0.1:0 --idle-timeout 2 || { summary; exit 1; }
out=$(timeout 20 "$PY" -c "$H2PEER" "$ADDR" idle 2>&1)
expect_grep "PINGs after a call do not hold off --idle-timeout" "pings after a call: closed" "$out"
expect_grep "while a client that calls is served" "late: Hello world" "$out"
stop "$PID"
expect_grep "the close is logged as idle" "idle too long (--idle-timeout)" "$(cat "$TMP/pinged.err")"

# Four connections of 64 streams, each holding most of a 1 MiB request (256 MiB in all):
# each connection keeps at most its --conn-budget (8 MiB), its biggest streams reset
# with ENHANCE_YOUR_CALM (RESOURCE_EXHAUSTED), while another client is served.
start hold "$BIN/grpc-server" --listen 127.0.0.1:0 || { summary; exit 1; }
timeout 60 $STALL "$ADDR" hold 4 64 2 >"$TMP/hold.out" 2>&1 &
HOLDER=$!
sleep 1
out=$(timeout 10 "$BIN/workbench" call "grpc://$ADDR" Arith.Multiply '{"A":7,"B":8}' 2>&1)
expect_grep "during the attack another client's unary call is served" '"value":56' "$out"
wait "$HOLDER"
out=$(cat "$TMP/hold.out")
expect_grep "the attacker sent its 256 MiB" "sent=26" "$out"
expect_no_grep "its streams past the connection budget are reset (ENHANCE_YOUR_CALM)" "rst_calm=0 " "$out"
hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$PID/status" 2>/dev/null)
expect_peak_under "the server's peak memory stayed under 128 MiB" 131072 "$hwm" "$out"
expect_grep "the budget resets are logged" "(--conn-budget): stream reset (RESOURCE_EXHAUSTED)" "$(cat "$TMP/hold.err")"
stop "$PID"

# Reflection replies never read (the client gives the server no window to send them):
# each 7-byte list_services request would be answered with about thirty times its size,
# but a stream whose replies back up past its client's window takes no more requests
# until they drain. 16 MiB of requests on four connections then stay within the
# connections' budgets: no stream is reset (answering them all went past the budgets).
start reflect "$BIN/grpc-server" --listen 127.0.0.1:0 || { summary; exit 1; }
out=$(timeout 60 $STALL "$ADDR" reflect 4 64 1 2>&1)
expect_grep "unread reflection replies stop their streams' requests being answered, none reset" \
    "rst=0 " "$out"
hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$PID/status" 2>/dev/null)
expect_peak_under "and the server's peak memory stayed under 128 MiB" 131072 "$hwm" "$out"
out=$(timeout 10 "$BIN/workbench" call "grpc://$ADDR" Arith.Multiply '{"A":7,"B":8}' 2>&1)
expect_grep "and calls are served after it" '"value":56' "$out"
stop "$PID"

# The whole server's budget: past it new streams are refused (REFUSED_STREAM)
start sbudget "$BIN/grpc-server" --listen 127.0.0.1:0 --conn-budget 4194304 --server-budget 8388608 ||
    { summary; exit 1; }
out=$(timeout 60 $STALL "$ADDR" hold 4 8 1 2>&1)
expect_no_grep "past --server-budget, new streams are refused (REFUSED_STREAM)" "rst_refused=0 " "$out"
out=$(timeout 10 "$BIN/workbench" call "grpc://$ADDR" Arith.Multiply '{"A":7,"B":8}' 2>&1)
expect_grep "once the holders are gone, calls are served again" '"value":56' "$out"
stop "$PID"

# Large messages and the cap, then graceful shutdown, on a server with a 4 MiB cap
start big "$BIN/grpc-server" --listen 127.0.0.1:0 --max-message 4194304 || { summary; exit 1; }
B=$ADDR; BPID=$PID
py_checks "$B" large=3145728 too_big=4194304 shutdown="$BPID"
i=0
while kill -0 "$BPID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
wait "$BPID" 2>/dev/null
expect_eq "after SIGTERM the server exits 0 once the call finished" 0 "$?"
expect_grep "shutdown is logged" "finishing replies in flight" "$(cat "$TMP/big.err")"

summary
