# test_gob.sh -- gob-server against Go's real net/rpc client, and the workbench's gob client
# against Go's own net/rpc server.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"
export COLUMNS=1000

build_go rpcclient && build_go rpcserver || { bad "build the Go peers"; summary; exit 1; }

# The Go checks themselves, against Go's own server: they must hold there first.
start gogob "$ROOT/build/go/rpcserver" -codec gob || { summary; exit 1; }
G=$ADDR
out=$("$ROOT/build/go/rpcclient" -codec gob -addr "$G" 2>&1)
expect_grep "control: the Go checks pass against Go's own server" "all checks passed" "$out"

start ours "$BIN/gob-server" --listen 127.0.0.1:0 || { summary; exit 1; }
O=$ADDR; OPID=$PID
out=$("$ROOT/build/go/rpcclient" -codec gob -addr "$O" 2>&1)
expect_grep "Go net/rpc client against gob-server: all checks" "all checks passed" "$out"
[ -n "$(echo "$out" | grep FAIL)" ] && echo "$out" | grep FAIL

# The workbench's gob client against Go's own server, and ours
for who in "Go's server:$G" "gob-server:$O"; do
    label=${who%%:*}; A=${who#*:}
    out=$("$BIN/workbench" call "gob://$A" Arith.Multiply '{"A":7,"B":8}')
    expect_eq "workbench call gob:// $label: Multiply" "56" "$out"
    out=$("$BIN/workbench" call "gob://$A" Arith.Multiply '{"A":-9223372036854775808,"B":1}')
    expect_eq "workbench call gob:// $label: smallest int" "-9223372036854775808" "$out"
    out=$("$BIN/workbench" call "gob://$A" Arith.Divide '{"A":17,"B":5}')
    expect_eq "workbench call gob:// $label: Divide" '{"Quo":3,"Rem":2}' "$out"
    out=$("$BIN/workbench" call "gob://$A" Arith.Divide '{"A":10,"B":5}')
    expect_eq "workbench call gob:// $label: a zero field left out on the wire reads as 0" '{"Quo":2,"Rem":0}' "$out"
    out=$("$BIN/workbench" call "gob://$A" hello.HelloWorld '"李白"')
    expect_eq "workbench call gob:// $label: HelloWorld" '"李白 你好...."' "$out"
    out=$("$BIN/workbench" call "gob://$A" Greeter.SayHello '{"Name":"world"}')
    expect_eq "workbench call gob:// $label: SayHello" '{"Message":"Hello world"}' "$out"
    out=$("$BIN/workbench" call "gob://$A" Arith.Divide '{"A":1,"B":0}' 2>&1); rc=$?
    expect_eq "workbench call gob:// $label: divide by zero exits 1" "1" "$rc"
    expect_grep "workbench call gob:// $label: divide by zero message" "divide by zero" "$out"
    out=$("$BIN/workbench" call "gob://$A" Arith.Nope '{"A":1,"B":0}' --repeat 2 2>&1)
    expect_grep "workbench call gob:// $label: unknown method" "rpc: can't find method Arith.Nope" "$out"
done

# Type definitions travel once per stream, and --wire shows it
out=$("$BIN/workbench" call "gob://$O" Arith.Multiply '{"A":7,"B":8}' --wire --repeat 2 --color never)
first=$(echo "$out" | sed -n '/request #1/,/request #2/p')
second=$(echo "$out" | sed -n '/request #2/,/── received/p')
expect_grep "first call carries the type definition of Args" "type definition for id 66 (Args)" "$first"
expect_no_grep "second call carries no type definition" "type definition" "$second"
expect_grep "second call's argument uses the type defined earlier" "defined earlier" "$second"
expect_grep "--wire explains the field values" "A = 7" "$out"
expect_no_grep "--wire claims every byte" "no explainer claimed" "$out"
sent=$(echo "$out" | grep -m1 '── sent')
expect_grep "the dump gives its size" "(gob, 137 bytes)" "$sent"

# explain gob on bytes a real Go client sent: capture them with nc -l
# (Go's client dials; nc records what it sends and closes, so the call fails: expected)
port=$(( 20000 + $$ % 20000 ))
timeout 5 nc -l 127.0.0.1 "$port" >"$TMP/go-request.bin" &
ncpid=$!
sleep 0.3
"$ROOT/build/go/rpcclient" -codec gob -addr "127.0.0.1:$port" >/dev/null 2>&1 &
gopid=$!
sleep 1
kill "$gopid" "$ncpid" 2>/dev/null
wait "$ncpid" "$gopid" 2>/dev/null
out=$("$BIN/workbench" explain gob "$TMP/go-request.bin" --color never)
expect_grep "explain gob: a real Go client's first call" 'Arith.Multiply' "$out"
expect_grep "explain gob: Go's Request type definition" 'type definition for id 65 (Request)' "$out"
expect_no_grep "explain gob: every byte of Go's request understood" "no explainer claimed" "$out"

# Zero fields are not sent, and the dump says so
out=$("$BIN/workbench" call "gob://$O" Arith.Multiply '{"A":0,"B":8}' --wire --color never)
expect_grep "--wire says a zero field was left out" "A not sent: it is zero" "$out"

# The wrong protocol for the port: both sides say what happened
out=$(echo '{"method":"hello.HelloWorld","params":["x"],"id":0}' | nc_send "$O")
expect_grep "JSON sent to the gob server is answered in JSON" "this is a gob server (Go net/rpc); it cannot read JSON" "$out"
start json "$BIN/jsonrpc-server" --listen 127.0.0.1:0 || { summary; exit 1; }
out=$("$BIN/workbench" call "gob://$ADDR" Arith.Multiply '{"A":1,"B":2}' 2>&1)
expect_grep "a gob call to a JSON-RPC server is diagnosed" "the server answered in JSON, not gob" "$out"
out=$("$BIN/workbench" call "json://$O" Arith.Multiply '{"A":1,"B":2}' 2>&1)
expect_grep "a JSON call to the gob server is diagnosed" "this is a gob server" "$out"
out=$("$BIN/workbench" call "gob://$O" Arith.Multiply '{"A":"x","B":2}' 2>&1); rc=$?
expect_eq "an argument the method cannot take is a usage error" "2" "$rc"
expect_grep "and the message says what the method takes" "(it takes Args{A int, B int})" "$out"

# A ServiceMethod with a NUL byte: the workbench's own request, recorded, then sent again
# with "\0junk" after the name (the string and its message grow by 5 bytes)
cat >"$TMP/gobnul.py" <<'PY'
import socket, subprocess, sys
wb, target = sys.argv[1], sys.argv[2].rsplit(":", 1)
ls = socket.socket(); ls.bind(("127.0.0.1", 0)); ls.listen(1); ls.settimeout(5)
p = subprocess.Popen([wb, "call", "gob://127.0.0.1:%d" % ls.getsockname()[1], "Arith.Multiply",
                      '{"A":6,"B":7}', "--timeout", "1000"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
c, _ = ls.accept(); c.settimeout(2); req = b""
try:
    while len(req) < 4096:
        b = c.recv(4096)
        if not b: break
        req += b
except socket.timeout: pass
c.close(); p.wait(5)
name = b"\x0eArith.Multiply"
at = req.index(name)
assert req[at - 3:at] == b"\xff\x82\x01" and req[at - 4] < 0x7b
req = req[:at - 4] + bytes([req[at - 4] + 5]) + req[at - 3:at] + b"\x13Arith.Multiply\x00junk" + req[at + len(name):]
s = socket.create_connection((target[0], int(target[1])), timeout=5)
s.sendall(req); s.shutdown(socket.SHUT_WR); reply = b""
try:
    while len(reply) < 65536:
        b = s.recv(4096)
        if not b: break
        reply += b
except socket.timeout: pass
sys.stdout.write(repr(reply))
PY
out=$(timeout 20 python3 "$TMP/gobnul.py" "$BIN/workbench" "$O" 2>&1)
expect_grep "a NUL in ServiceMethod: no method of that name, in Go's words" "rpc: can't find method Arith.Multiply\\\\x00junk" "$out"
expect_no_grep "and Multiply is not run" "x03\\x04\\x00T" "$out"
sleep 0.2
expect_grep "the log shows the NUL escaped" 'error reply: rpc: can'"'"'t find method Arith.Multiply\x00junk' "$(cat "$TMP/ours.err")"

# Bad input: garbage closes that one connection; everyone else is served
out=$(printf 'GET / HTTP/1.0\r\n\r\n' | nc_send "$O" | od -An -c | head -n 2)
sleep 0.2
expect_grep "garbage is logged as an error" "error:" "$(cat "$TMP/ours.err")"
out=$("$ROOT/build/go/rpcclient" -codec gob -addr "$O" 2>&1)
expect_grep "the server still serves Go clients after garbage" "all checks passed" "$out"

# Only whole calls count: a call trickled a byte each 200 ms is no first request, and
# part of a second call trickled after the first does not hold off --idle-timeout; a
# client that connects, waits 0.5 s, then calls is served. (The call's bytes are the
# workbench client's, caught by a listening socket.)
start trickle "$BIN/gob-server" --listen 127.0.0.1:0 --first-message-timeout 1 --idle-timeout 2 ||
    { summary; exit 1; }
cat >"$TMP/gobtrickle.py" <<'PY'
import socket, subprocess, sys, threading, time
wb, target = sys.argv[1], sys.argv[2].rsplit(":", 1)
addr = (target[0], int(target[1]))
ls = socket.socket(); ls.bind(("127.0.0.1", 0)); ls.listen(1)
p = subprocess.Popen([wb, "call", "gob://127.0.0.1:%d" % ls.getsockname()[1], "Arith.Multiply",
                      '{"A":6,"B":7}', "--timeout", "1000"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
c, _ = ls.accept(); c.settimeout(2); req = b""
try:
    while len(req) < 4096:
        b = c.recv(4096)
        if not b: break
        req += b
except socket.timeout: pass
c.close(); p.wait(5)

_said = threading.Lock()

def say(*parts):  # one write a line: the checks run in threads, and print() writes in pieces
    with _said:
        sys.stdout.write(" ".join(str(p) for p in parts) + "\n")
        sys.stdout.flush()

def call(s):  # True once the reply, 42 (an int: 84 zigzagged, "T"), has come
    s.sendall(req)
    got = b""
    while b"\x03\x04\x00T" not in got and len(got) < 4096:
        b = s.recv(4096)
        if not b: break
        got += b
    return b"\x03\x04\x00T" in got

def trickle(name, s, data):  # one byte each 200 ms until the server closes
    s.settimeout(0.2)
    for b in data:
        try:
            s.sendall(bytes([b]))
            if s.recv(1) == b"":
                say(name, "closed"); return
        except socket.timeout:
            continue
        except OSError:
            say(name, "closed"); return
    say(name, "open")

def first():
    trickle("a call trickled:", socket.create_connection(addr, timeout=5), req[:30])

def after():
    s = socket.create_connection(addr, timeout=5)
    say("after a call: answered", call(s))
    trickle("part of a second call trickled:", s, req[:30])

def late():
    s = socket.create_connection(addr, timeout=5)
    time.sleep(0.5)
    say("late: answered", call(s))

ts = [threading.Thread(target=f) for f in (first, after, late)]
for t in ts: t.start()
for t in ts: t.join()
PY
out=$(timeout 30 python3 "$TMP/gobtrickle.py" "$BIN/workbench" "$ADDR" 2>&1)
expect_grep "a call trickled in is no first request (--first-message-timeout)" "a call trickled: closed" "$out"
expect_grep "part of a call trickled after one does not hold off --idle-timeout" \
    "part of a second call trickled: closed" "$out"
expect_grep "a client that connects, waits 0.5 s, then calls is served" "late: answered True" "$out"
stop "$PID"
expect_eq "one connection closed by --first-message-timeout" "1" \
    "$(grep -c '(--first-message-timeout)' "$TMP/trickle.err")"
expect_eq "one by --idle-timeout" "1" "$(grep -c '(--idle-timeout)' "$TMP/trickle.err")"

# Over the cap
start capped "$BIN/gob-server" --listen 127.0.0.1:0 --max-message 4096 || { summary; exit 1; }
C=$ADDR; CPID=$PID
out=$("$ROOT/build/go/rpcclient" -codec gob -addr "$C" -oversize 100000 2>&1)
expect_grep "a message over --max-message is refused and the server stays up" "all checks passed" "$out"
expect_grep "the refusal is logged" "4096" "$(cat "$TMP/capped.err")"

# --help, and a clean stop
out=$("$BIN/gob-server" --help)
expect_grep "gob-server --help" "default 127.0.0.1:8081" "$out"
kill -TERM "$CPID"; wait "$CPID"; rc=$?
expect_eq "SIGTERM stops gob-server cleanly" "0" "$rc"

summary
