# test_jsonrpc.sh -- jsonrpc-server against real peers: Go's net/rpc/jsonrpc client, nc,
# and the workbench client against Go's own JSON-RPC server.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"
export COLUMNS=1000

build_go rpcclient && build_go rpcserver && build_go loadclient || { bad "build the Go peers"; summary; exit 1; }

start ours "$BIN/jsonrpc-server" --listen 127.0.0.1:0 || { summary; exit 1; }
J=$ADDR; JPID=$PID
expect_grep "--listen port 0 prints the bound address first" "127.0.0.1:" "$J"

# Go's own client, every method, errors, concurrency and pipelining
out=$("$ROOT/build/go/rpcclient" -codec json -addr "$J" 2>&1)
expect_grep "Go net/rpc/jsonrpc client: all checks" "all checks passed" "$out"

# The tutorial's line, verbatim but for the port
out=$(echo -e '{"method":"hello.HelloWorld","params":["李白"],"id":0}' | nc_send "$J")
expect_eq "tutorial: echo | nc" '{"id":0,"result":"李白 你好....","error":null}' "$out"

out=$(echo -e '{"method":"hello.HelloWorld","paras":["李白"],"id":0}' | nc_send "$J")
expect_grep "tutorial typo \"paras\": the error names params" 'missing params (found \"paras\"; the field is spelled \"params\")' "$out"
expect_grep "typo reply keeps the id" '{"id":0,"result":null,"error":' "$out"

out=$(printf '{"method":"Arith.Nope","params":[{"A":1}],"id":1}{"method":"Nope.X","params":[1],"id":2}' | nc_send "$J")
expect_grep "unknown method is named" "rpc: can't find method Arith.Nope" "$out"
expect_grep "unknown service is named" "rpc: can't find service Nope.X" "$out"

out=$(printf '{"method":"Arith.Multiply","params":[{"A":"seven","B":8}],"id":3}' | nc_send "$J")
expect_grep "wrong argument type explained" 'field A: want int, got string \"seven\"' "$out"
out=$(printf '{"method":"hello.HelloWorld","params":[42],"id":4}' | nc_send "$J")
expect_grep "a number where a string belongs" 'want string, got number 42' "$out"

out=$(printf '{"method":"Arith.Divide","params":[{"A":7,"B":0}],"id":5}' | nc_send "$J")
expect_eq "divide by zero" '{"id":5,"result":null,"error":"divide by zero"}' "$out"

# A peer's bytes: a NUL does not cut the method name short, invalid UTF-8 is replaced so
# the reply stays JSON, and nothing reaches the log or the terminal raw
out=$(printf '{"method":"Arith.Multiply\\u0000junk","params":[{"A":6,"B":7}],"id":6}' | nc_send "$J")
expect_eq "a NUL in the method name: no method of that name, in Go's words" \
    '{"id":6,"result":null,"error":"rpc: can'"'"'t find method Arith.Multiply\\x00junk"}' "$out"
printf '{"method":"hello.HelloWorld","params":["a\377"],"id":"\376"}{"method":"Arith.Mul\377","params":[{}],"id":8}' |
    nc_send "$J" >"$TMP/utf8.reply"
if python3 -c 'import json,sys
for line in open(sys.argv[1], "rb").read().decode("utf-8").splitlines(): json.loads(line)' "$TMP/utf8.reply" 2>/dev/null; then
    ok "invalid UTF-8 in a request: every reply is valid JSON"
else
    bad "invalid UTF-8 in a request: every reply is valid JSON" "$(od -c "$TMP/utf8.reply" | head -5)"
fi
expect_grep "and the error says the bytes were replaced" "replaced by U+FFFD" "$(cat "$TMP/utf8.reply")"
printf '{"method":"Arith.X\\n12:00:00.000 jsonrpc-server: forged\\u001b[2J","params":[{}],"id":9}' | nc_send "$J" >/dev/null
sleep 0.2
log=$(cat "$TMP/ours.err")
if printf '%s' "$log" | grep -q '^12:00:00.000 jsonrpc-server: forged' || printf '%s' "$log" | grep -q $'\x1b'; then
    bad "a method name cannot forge a log line or reach the terminal" "$(printf '%s' "$log" | tail -3 | od -c | head)"
else
    ok "a method name cannot forge a log line or reach the terminal"
fi
expect_grep "the log shows it escaped" 'Arith.X\n12:00:00.000 jsonrpc-server: forged\x1b[2J' "$log"
out=$("$BIN/workbench" call "json://$J" $'Arith.X\x1b[2J' '{}' 2>&1)
if printf '%s' "$out" | grep -q $'\x1b'; then
    bad "workbench call prints a server's error escaped" "$(printf '%s' "$out" | od -c | head -3)"
else
    expect_grep "workbench call prints a server's error escaped" 'error from server: rpc: can'"'"'t find method Arith.X\x1b[2J' "$out"
fi

# Malformed JSON: a clear error, that connection closes, everyone else carries on
exec 3<>"/dev/tcp/$(host_of "$J")/$(port_of "$J")"
printf '{"method":"Arith.Multiply","params":[{"A":2,"B":3}],"id":1}' >&3
out=$(printf '{"method": oops}' | nc_send "$J")
expect_grep "malformed JSON gets a parse error" 'malformed JSON' "$out"
printf '{"method":"Arith.Multiply","params":[{"A":4,"B":5}],"id":2}' >&3
got=$(timeout 3 head -n 2 <&3)
exec 3>&-
expect_eq "another connection is not disturbed" '{"id":1,"result":6,"error":null}
{"id":2,"result":20,"error":null}' "$got"

# Over the cap: an error, that connection is closed, the server stays up
stop "$JPID"
start capped "$BIN/jsonrpc-server" --listen 127.0.0.1:0 --max-message 1024 || { summary; exit 1; }
C=$ADDR; CPID=$PID
big=$(head -c 4000 /dev/zero | tr '\0' 'x')
out=$(printf '{"method":"hello.HelloWorld","params":["%s"],"id":9}' "$big" | nc_send "$C")
expect_grep "a message over --max-message is refused" "request larger than 1024 bytes" "$out"
out=$(printf '{"method":"Arith.Multiply","params":[{"A":6,"B":7}],"id":1}' | nc_send "$C")
expect_eq "and the server still answers" '{"id":1,"result":42,"error":null}' "$out"
expect_grep "errors are logged to stderr" "error: jsonrpc: request larger than 1024 bytes" "$(cat "$TMP/capped.err")"
expect_grep "connections are logged to stderr" ": connected" "$(cat "$TMP/capped.err")"

# JSON-RPC 2.0 clients
out=$(printf '{"jsonrpc":"2.0","method":"Arith.Multiply","params":{"A":6,"B":7},"id":"a"}' | nc_send "$C")
expect_eq "JSON-RPC 2.0 named params" '{"jsonrpc":"2.0","result":42,"id":"a"}' "$out"
out=$(printf '{"jsonrpc":"2.0","method":"Arith.Divide","params":[1,0],"id":7}' | nc_send "$C")
expect_eq "JSON-RPC 2.0 error object" '{"jsonrpc":"2.0","error":{"code":-32000,"message":"divide by zero"},"id":7}' "$out"
out=$(printf '{"jsonrpc":"2.0","method":"No.Such","params":[1],"id":8}' | nc_send "$C")
expect_grep "JSON-RPC 2.0 method not found code" '"code":-32601' "$out"

# Hundreds of connections at once, many calls in flight on each
out=$("$ROOT/build/go/loadclient" -codec json -addr "$C" -conns 300 -inflight 4 -duration 2s 2>&1)
expect_grep "300 concurrent connections, no errors" "errors=0" "$out"

# Connection exhaustion: idle sockets that fill --max-conns make way for a real client
# (the idlest goes), and a client trickling its first request is cut off
start full "$BIN/jsonrpc-server" --listen 127.0.0.1:0 --max-conns 20 --max-conns-per-addr 100 \
    --first-message-timeout 1 || { summary; exit 1; }
F=$ADDR; FPID=$PID
out=$(timeout 20 /usr/bin/python3 - "$F" <<'PY'
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
addr = (host, int(port))
idle = [socket.create_connection(addr, timeout=5) for _ in range(20)]
time.sleep(0.2)
c = socket.create_connection(addr, timeout=5)
c.sendall(b'{"method":"Arith.Multiply","params":[{"A":6,"B":7}],"id":1}\n')
print("reply", c.recv(200).decode().strip())
idle[0].settimeout(5)
try:
    print("idlest", "closed" if idle[0].recv(1) == b"" else "open")
except ConnectionResetError:
    print("idlest closed")
except socket.timeout:
    print("idlest open")
slow = socket.create_connection(addr, timeout=5)
state = "open"
req = b'{"method":"Arith.Multiply","params":[{"A":6,"B":7}],"id":1}'
for i in range(25):  # one byte each 200 ms, 5 s at most
    try:
        slow.sendall(req[i:i + 1])
        slow.settimeout(0.2)
        if slow.recv(1) == b"":
            state = "closed"
            break
    except socket.timeout:
        continue
    except (ConnectionResetError, BrokenPipeError):
        state = "closed"
        break
print("trickler", state)
PY
)
expect_grep "a full server serves a new client" 'reply {"id":1,"result":42,"error":null}' "$out"
expect_grep "by closing the connection idle longest" "idlest closed" "$out"
expect_grep "a client trickling its first request is closed" "trickler closed" "$out"
stop "$FPID"
expect_grep "and the reason is logged" "(--first-message-timeout)" "$(cat "$TMP/full.err")"

# Bytes that complete no request neither greet the server nor keep a connection from
# --idle-timeout: whitespace trickled before a request, or after one; a client that
# connects, waits a little, then calls, and one calling now and then, are served.
start trickle "$BIN/jsonrpc-server" --listen 127.0.0.1:0 --first-message-timeout 1 --idle-timeout 2 ||
    { summary; exit 1; }
out=$(timeout 20 /usr/bin/python3 - "$ADDR" <<'PY'
import socket, sys, threading, time
host, port = sys.argv[1].rsplit(":", 1)
addr = (host, int(port))
req = b'{"method":"Arith.Multiply","params":[{"A":6,"B":7}],"id":1}\n'

def call(s):
    s.sendall(req)
    return s.recv(200).decode().strip()

_said = threading.Lock()

def say(*parts):  # one write a line: the checks run in threads, and print() writes in pieces
    with _said:
        sys.stdout.write(" ".join(str(p) for p in parts) + "\n")
        sys.stdout.flush()

def trickle(name, s, seconds):  # a space each 200 ms until the server closes, at most seconds
    end = time.monotonic() + seconds
    s.settimeout(0.2)
    while time.monotonic() < end:
        try:
            s.sendall(b" ")
            if s.recv(1) == b"":
                say(name, "closed")
                return
        except socket.timeout:
            continue
        except OSError:
            say(name, "closed")
            return
    say(name, "open")

def spaces():
    trickle("spaces before a request:", socket.create_connection(addr, timeout=5), 5)

def after():
    s = socket.create_connection(addr, timeout=5)
    say("after a call:", call(s))
    trickle("spaces after a call:", s, 6)

def late():
    s = socket.create_connection(addr, timeout=5)
    time.sleep(0.5)
    say("late:", call(s))

def steady():
    s = socket.create_connection(addr, timeout=5)
    got = 0
    for _ in range(5):  # one call each 0.7 s: 2.8 s in all, past --idle-timeout
        got += call(s) == '{"id":1,"result":42,"error":null}'
        time.sleep(0.7)
    say("steady: %d of 5" % got)

ts = [threading.Thread(target=f) for f in (spaces, after, late, steady)]
for t in ts:
    t.start()
for t in ts:
    t.join()
PY
)
expect_grep "spaces trickled before any request do not count as one (--first-message-timeout)" \
    "spaces before a request: closed" "$out"
expect_grep "spaces trickled after a call do not hold off --idle-timeout" "spaces after a call: closed" "$out"
expect_grep "a client that connects, waits 0.5 s, then calls is served" \
    'late: {"id":1,"result":42,"error":null}' "$out"
expect_grep "a client calling every 0.7 s outlives a 2 s --idle-timeout" "steady: 5 of 5" "$out"
stop "$PID"
expect_eq "one connection closed by --first-message-timeout" "1" \
    "$(grep -c '(--first-message-timeout)' "$TMP/trickle.err")"
expect_eq "one by --idle-timeout" "1" "$(grep -c '(--idle-timeout)' "$TMP/trickle.err")"

# Quiet mode logs nothing
start quiet "$BIN/jsonrpc-server" --listen 127.0.0.1:0 --quiet || { summary; exit 1; }
Q=$ADDR; QPID=$PID
printf '{"method":"Arith.Multiply","params":[{"A":1,"B":1}],"id":1}' | nc_send "$Q" >/dev/null
stop "$QPID"
expect_eq "--quiet logs nothing" "" "$(cat "$TMP/quiet.err")"

# Graceful shutdown on SIGTERM: exit status 0 and a last log line
kill -TERM "$CPID"
wait "$CPID"
expect_eq "SIGTERM stops the server cleanly" "0" "$?"
expect_grep "shutdown is logged" "stopped" "$(cat "$TMP/capped.err")"

# --help
out=$("$BIN/jsonrpc-server" --help)
expect_grep "jsonrpc-server --help" "--listen HOST:PORT" "$out"
out=$("$BIN/jsonrpc-server" --bogus 2>&1); rc=$?
expect_eq "unknown option exits 2" "2" "$rc"

# The workbench client against Go's own JSON-RPC server
start gojson "$ROOT/build/go/rpcserver" -codec json || { summary; exit 1; }
G=$ADDR
out=$("$BIN/workbench" call "json://$G" Arith.Multiply '{"A":7,"B":8}')
expect_eq "workbench call json:// Go's server: Multiply" "56" "$out"
out=$("$BIN/workbench" call "json://$G" Arith.Divide '{"A":7,"B":2}')
expect_eq "workbench call json:// Go's server: Divide" '{"Quo":3,"Rem":1}' "$out"
out=$("$BIN/workbench" call "json://$G" hello.HelloWorld '"李白"')
expect_eq "workbench call json:// Go's server: HelloWorld" '"李白 你好...."' "$out"
out=$("$BIN/workbench" call "json://$G" Greeter.SayHello '{"Name":"world"}')
expect_eq "workbench call json:// Go's server: SayHello" '{"Message":"Hello world"}' "$out"
out=$("$BIN/workbench" call "json://$G" Arith.Divide '{"A":7,"B":0}' 2>&1); rc=$?
expect_eq "remote error exits 1" "1" "$rc"
expect_grep "remote error is printed" "divide by zero" "$out"

# --wire against our server: the request and reply explained
start wired "$BIN/jsonrpc-server" --listen 127.0.0.1:0 || { summary; exit 1; }
W=$ADDR
out=$("$BIN/workbench" call "json://$W" hello.HelloWorld '"李白"' --wire --color never)
expect_grep "--wire explains the method" 'method "hello.HelloWorld": which Service.Method to call' "$out"
expect_grep "--wire explains the argument" 'string "李白": 6 bytes of UTF-8' "$out"
expect_grep "--wire shows the result last" '"李白 你好...."' "$(echo "$out" | tail -n 1)"
out=$(printf '{"method":"Arith.Multiply","params":[{"A":7,"B":8}],"id":0}\n' | "$BIN/workbench" explain json --color never)
expect_grep "explain json from stdin" 'A = 7 (number)' "$out"
expect_no_grep "explain json claims every byte" "no explainer claimed" "$out"

# A 5 MB nested message: the explainer keeps 100,000 spans in detail and counts the rest,
# so its memory stays bounded (it took over 400 MB when every token was kept).
python3 - "$TMP/big.json" <<'PY'
import json, sys
items = [{"id": i, "name": "item%d" % i, "tags": ["a", "b", {"x": [1, 2, {"y": None}]}], "ok": True}
         for i in range(58000)]
open(sys.argv[1], "w").write(json.dumps({"method": "Arith.Big", "params": [{"items": items}], "id": 1}) + "\n")
PY
out=$(python3 - "$BIN/workbench" "$TMP/big.json" <<'PY'
import os, resource, subprocess, sys
with open("/dev/null", "w") as null:
    r = subprocess.run([sys.argv[1], "explain", "json", "--color", "never", sys.argv[2]],
                       stdout=subprocess.PIPE, stderr=null, timeout=60)
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
tail = r.stdout.decode("utf-8", "replace").splitlines()
size = os.path.getsize(sys.argv[2])
print("rc=%d rss_kb=%d out_mb=%d" % (r.returncode, rss, len(r.stdout) >> 20))
print("summary: %s" % any("more spans" in l for l in tail[-60:]))
print("totals: %s" % any(l.strip().startswith("%d bytes: framing" % size) for l in tail[-4:]))
PY
)
rss=$(echo "$out" | sed -n 's/.*rss_kb=\([0-9]*\).*/\1/p')
expect_grep "explain json of 5 MB succeeds" "rc=0" "$out"
expect_peak_under "explain json of 5 MB peaks under 128 MB" 131072 "$rss" "$out"
expect_grep "explain json of 5 MB ends with a summary of the spans not kept" "summary: True" "$out"
expect_grep "explain json of 5 MB totals every byte" "totals: True" "$out"

out=$("$BIN/workbench" call "json://127.0.0.1:1" Arith.Multiply '{"A":1,"B":2}' 2>&1); rc=$?
expect_eq "connection refused exits 3" "3" "$rc"
expect_grep "connection refused is explained" "cannot connect to 127.0.0.1:1" "$out"

summary
