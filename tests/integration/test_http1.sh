#!/bin/bash
# test_http1.sh -- the HTTP/1.1 codec (lib/rpc/http1.c) against real clients: curl,
# python3's raw sockets, tests/tools/slowloris.py and h2load. The server is
# tests/tools/http1_echo (build/tests/http1_echo): /echo answers at once, /later from a
# loop timer, /body echoes the body, /header a header.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
BUILD=${BUILD:-$ROOT/build}
. "$ROOT/tests/integration/lib.sh"
ulimit -n "$(ulimit -Hn)" 2>/dev/null

ECHO=$BUILD/tests/http1_echo
if [ ! -x "$ECHO" ] && ! make -s -C "$ROOT" BUILD="$BUILD" "$BUILD/tests/http1_echo" >"$TMP/build.log" 2>&1; then
    bad "build tests/tools/http1_echo.c" "$(tail -n 20 "$TMP/build.log")"
    summary
    exit 1
fi

raw() { raw_http "$@"; }
# in_order TEXT A B: A occurs in TEXT, and before B
in_order() {
    python3 -c 'import sys; t, a, b = sys.argv[1:]; i, j = t.find(a), t.find(b); sys.exit(0 if 0 <= i < j else 1)' "$@"
}
# connections: how many the server has accepted so far (its log says each)
connections() { grep -c ': connected$' "$TMP/echo.err"; }

start echo "$ECHO" --header-timeout 2 --max-head 4096 || { summary; exit 1; }
A=$ADDR PID_ECHO=$PID

# ---- requests, queries, headers ----
expect_eq "GET /echo answers at once" '{"x":"hi"}' "$(curl -s --max-time 3 "http://$A/echo?x=hi")"
expect_eq "the query is percent-decoded, '+' as a space" '{"x":"a b c+d/é"}' \
    "$(curl -s --max-time 3 "http://$A/echo?y=1&x=a%20b+c%2Bd%2F%C3%A9")"
expect_eq "%00 stays as it is, and the arguments after it are found" '{"x":"a%00b%zz%4"}' \
    "$(curl -s --max-time 3 "http://$A/echo?y=%00&x=a%00b%zz%4&x=second")"
expect_eq "a header is found in any case, its blanks trimmed" '{"name":"x-trace","value":"abc 1"}' \
    "$(curl -s --max-time 3 -H 'X-Trace:   abc 1  ' "http://$A/header?name=x-trace")"
expect_eq "an absent header is null" '{"name":"x-none","value":null}' \
    "$(curl -s --max-time 3 "http://$A/header?name=x-none")"
expect_eq "the path is percent-decoded" '{"x":"1"}' "$(curl -s --max-time 3 "http://$A/%65cho?x=1")"
out=$(raw "$A" 'GET /header?name=x-next HTTP/1.1\r\nX-E:\r\nX-Next: 1\r\n\r\nGET /header?name=x-e HTTP/1.1\r\nX-E:  \r\nConnection: close\r\n\r\n')
expect_grep "a header with an empty value does not swallow the next one" '{"name":"x-next","value":"1"}' "$out"
expect_grep "and its value is empty" '{"name":"x-e","value":""}' "$out"
out=$(python3 -c '
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=5)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
req = (b"POST /body?x=1 HTTP/1.1\r\nHost: t\r\nX-A:  v1  v2 \r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
       b"GET /header?name=X-A HTTP/1.1\r\nX-A:  v1  v2 \r\nConnection: close\r\n\r\n")
for i in range(len(req)):
    s.sendall(req[i:i + 1])
    time.sleep(0.002)
got, end = b"", time.time() + 5
while time.time() < end:
    b = s.recv(4096)
    if not b:
        break
    got += b
print(got.decode())' "$A" 2>&1)
expect_grep "two requests sent a byte at a time: the first" '{"length":3,"body":"abc"}' "$out"
expect_grep "and the second, its header whole" '{"name":"X-A","value":"v1  v2"}' "$out"
out=$(curl -s --max-time 3 --http2 "http://$A/echo?x=h2c" "http://$A/echo?x=again")
expect_eq "an Upgrade: h2c request is served as HTTP/1.1, and the connection kept" '{"x":"h2c"}{"x":"again"}' "$out"
hdrs=$(curl -s -i --max-time 3 "http://$A/echo?x=1" | tr -d '\r')
expect_grep "the reply is JSON" "Content-Type: application/json" "$hdrs"
expect_grep "with its length" "Content-Length: 9" "$hdrs"

# ---- keep-alive ----
n0=$(connections)
out=$(curl -s --max-time 3 "http://$A/echo?x=1" "http://$A/echo?x=2" "http://$A/later?ms=10")
expect_eq "three requests on one curl" '{"x":"1"}{"x":"2"}{"later":10}' "$out"
expect_eq "share one kept-alive connection" 1 $(($(connections) - n0))

# ---- pipelining ----
out=$(raw "$A" 'GET /later?ms=400 HTTP/1.1\r\nHost: t\r\n\r\nGET /echo?x=fast HTTP/1.1\r\nHost: t\r\n\r\nGET /echo?x=last HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n')
if in_order "$out" '{"later":400}' '{"x":"fast"}' && in_order "$out" '{"x":"fast"}' '{"x":"last"}'; then
    ok "pipelined: a slow request's reply comes before a fast one sent after it"
else
    bad "pipelined: a slow request's reply comes before a fast one sent after it" "$out"
fi
expect_grep "the last, with Connection: close, closes the connection" 'Connection: close' "$out"
expect_no_grep "and it is closed" '<still open>' "$out"
out=$(raw "$A" 'HEAD /echo HTTP/1.1\r\nHost: t\r\n\r\nGET /echo?x=after HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n')
expect_grep "a reply to HEAD carries no body, and the next reply follows it" \
    "$(printf 'Content-Length: 25\r\n\r\nHTTP/1.1 200 OK')" "$out"
start echo2 "$ECHO" --max-pipeline 2 || { summary; exit 1; }
A2=$ADDR
req='GET /later?ms=200 HTTP/1.1\r\nHost: t\r\n\r\nGET /echo?x=1 HTTP/1.1\r\nHost: t\r\n\r\nGET /later?ms=100 HTTP/1.1\r\nHost: t\r\n\r\nGET /echo?x=2 HTTP/1.1\r\nHost: t\r\n\r\nGET /echo?x=3 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
out=$(raw "$A2" "$req")
if in_order "$out" '{"later":200}' '{"x":"1"}' && in_order "$out" '{"x":"1"}' '{"later":100}' &&
    in_order "$out" '{"later":100}' '{"x":"2"}' && in_order "$out" '{"x":"2"}' '{"x":"3"}'; then
    ok "--max-pipeline 2: five pipelined requests are all answered, in order"
else
    bad "--max-pipeline 2: five pipelined requests are all answered, in order" "$out"
fi

# ---- bodies ----
expect_eq "a body" '{"length":5,"body":"hello"}' "$(curl -s --max-time 3 -d hello "http://$A/body")"
expect_eq "a chunked body (curl)" '{"length":11,"body":"hello chunk"}' \
    "$(curl -s --max-time 3 -H 'Transfer-Encoding: chunked' -d 'hello chunk' "http://$A/body")"
out=$(raw "$A" 'POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3;ext=1\r\nabc\r\n4\r\ndefg\r\n0\r\nX-Trailer: 1\r\n\r\n')
expect_grep "a chunked body in pieces, with an extension and a trailer" '{"length":7,"body":"abcdefg"}' "$out"
head -c 2048 /dev/zero | tr '\0' 'b' >"$TMP/2k"
out=$(curl -s -v --max-time 5 -H 'Expect: 100-continue' --data-binary @"$TMP/2k" "http://$A/body" 2>&1 | tr -d '\r')
expect_grep "Expect: 100-continue gets 100 Continue" '< HTTP/1.1 100 Continue' "$out"
expect_grep "then the body is read" '{"length":2048,' "$out"
out=$(raw "$A" 'GET /later?ms=300 HTTP/1.1\r\nHost: t\r\n\r\nPOST /body HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}')
expect_no_grep "no 100 Continue while an earlier reply is owed" '100 Continue' "$out"
expect_grep "and both are answered" '{"length":2,"body":"{}"}' "$out"
head -c 200000 /dev/zero | tr '\0' 'a' >"$TMP/big"
out=$(curl -s -i --max-time 5 --data-binary @"$TMP/big" "http://$A/body" | tr -d '\r')
expect_grep "Content-Length over the cap is 413" 'HTTP/1.1 413 ' "$out"
expect_grep "saying the size and the cap" '"error":"the body is 200000 bytes; at most 65536","code":"RESOURCE_EXHAUSTED"' "$out"
expect_grep "and closing" 'Connection: close' "$out"
out=$(curl -s -i --max-time 5 -H 'Transfer-Encoding: chunked' --data-binary @"$TMP/big" "http://$A/body" | tr -d '\r')
expect_grep "a chunked body growing over the cap is 413" 'HTTP/1.1 413 ' "$out"
expect_grep "saying the cap" '"error":"the body is larger than 65536 bytes"' "$out"
out=$(raw "$A" 'POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 70000\r\n\r\nGET /echo?x=hidden HTTP/1.1\r\nHost: t\r\n\r\n')
expect_grep "413 without reading the body" 'HTTP/1.1 413 ' "$out"
expect_no_grep "what follows is not served" 'hidden' "$out"

# ---- request smuggling's shape ----
out=$(raw "$A" 'POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /echo?x=hidden HTTP/1.1\r\nHost: t\r\n\r\n')
expect_grep "Content-Length with Transfer-Encoding is 400" 'HTTP/1.1 400 ' "$out"
expect_grep "saying why" '"error":"the request has both Content-Length and Transfer-Encoding: send one of them","code":"INVALID_ARGUMENT"' "$out"
if printf '%s' "$out" | grep -q 'hidden\|<still open>'; then
    bad "the request hidden behind it is not served, and the connection closes" "$out"
else
    ok "the request hidden behind it is not served, and the connection closes"
fi
out=$(raw "$A" 'POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\nGET /echo?x=hidden HTTP/1.1\r\nHost: t\r\n\r\n')
expect_grep "the same, Transfer-Encoding first" '"error":"the request has both Content-Length and Transfer-Encoding: send one of them"' "$out"
out=$(raw "$A" 'POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nContent-Length: 60\r\n\r\n{}GET /echo?x=hidden HTTP/1.1\r\nHost: t\r\n\r\n')
expect_grep "two different Content-Length values are 400" 'HTTP/1.1 400 ' "$out"
expect_grep "saying why" '"error":"the request has Content-Length headers that disagree: send one","code":"INVALID_ARGUMENT"' "$out"
if printf '%s' "$out" | grep -q 'hidden\|<still open>'; then
    bad "nothing after it is served, and the connection closes" "$out"
else
    ok "nothing after it is served, and the connection closes"
fi
out=$(raw "$A" 'GET /echo?x=first HTTP/1.1\r\nHost: t\r\n\r\nPOST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}GET /echo?x=hidden HTTP/1.1\r\nHost: t\r\n\r\n')
if in_order "$out" '{"x":"first"}' 'HTTP/1.1 400 ' && ! printf '%s' "$out" | grep -q 'hidden\|<still open>'; then
    ok "a refusal after a good request: the good one answered first, nothing after the refusal"
else
    bad "a refusal after a good request: the good one answered first, nothing after the refusal" "$out"
fi

# ---- bad input ----
long=$(head -c 5000 /dev/zero | tr '\0' 'a')
out=$(raw "$A" "GET /echo?x=$long HTTP/1.1\r\nHost: t\r\n\r\n")
expect_grep "a head over --max-head is 431" 'HTTP/1.1 431 ' "$out"
expect_grep "saying the cap" '"error":"request head over 4096 bytes"' "$out"
expect_no_grep "and the connection closes" '<still open>' "$out"
out=$(raw "$A" "GET /echo HTTP/1.1\r\nHost: t\r\nX-Big: $long\r\n\r\n")
expect_grep "a header over it too" 'HTTP/1.1 431 ' "$out"
out=$(raw "$A" 'GARBAGE\r\n\r\n')
expect_grep "a bad request line is 400" 'HTTP/1.1 400 ' "$out"
expect_grep "with http_parser's reason" '"error":"invalid HTTP method"' "$out"
expect_no_grep "and the connection closes" '<still open>' "$out"
out=$(raw "$A" 'GET /echo HTTP/1.1\r\nBad Header\r\n\r\n')
expect_grep "a bad header line is 400" 'HTTP/1.1 400 ' "$out"

# ---- HTTP/1.0, Connection: close ----
out=$(raw "$A" 'GET /echo?x=10 HTTP/1.0\r\n\r\n')
expect_grep "HTTP/1.0 is answered" '{"x":"10"}' "$out"
expect_grep "with Connection: close" 'Connection: close' "$out"
expect_no_grep "and the connection closes" '<still open>' "$out"
out=$(raw "$A2" 'GET /echo?x=10 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n') # no head timeout there
expect_grep "HTTP/1.0 asking for keep-alive gets it" 'Connection: keep-alive' "$out"
expect_grep "and the connection stays open" '<still open>' "$out"
out=$(raw "$A" 'GET /echo?x=c HTTP/1.1\r\nConnection: close\r\n\r\nGET /echo?x=hidden HTTP/1.1\r\n\r\n')
expect_grep "Connection: close is answered" '{"x":"c"}' "$out"
if printf '%s' "$out" | grep -q 'hidden\|<still open>'; then
    bad "then the connection closes; nothing after it is read" "$out"
else
    ok "then the connection closes; nothing after it is read"
fi

# ---- a client that stops sending with its requests owed ----
# A half-close (shutdown of its sending side) still gets every reply owed, in order; a
# client that closed whole makes the late replies fail on the socket, and nothing else.
halfclose() {
    python3 -c '
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=3)
s.sendall(b"GET /later?ms=300 HTTP/1.1\r\nHost: t\r\n\r\nGET /later?ms=100 HTTP/1.1\r\nHost: t\r\n\r\n")
if sys.argv[2] == "half":
    s.shutdown(socket.SHUT_WR)
    got, end = b"", time.time() + 3
    while time.time() < end:
        b = s.recv(65536)
        if not b:
            break
        got += b
    sys.stdout.write(got.decode("utf-8", "replace"))
s.close()' "$A" "$1"
}
out=$(halfclose half)
expect_eq "a half-closed client gets both replies owed to it, in order" "300 100" \
    "$(printf '%s' "$out" | grep -o '"later":[0-9]*' | grep -o '[0-9]*' | tr '\n' ' ' | sed 's/ $//')"
halfclose whole
sleep 0.5
expect_eq "and the server goes on serving" '{"x":"still"}' "$(curl -s --max-time 3 "http://$A/echo?x=still")"

# ---- the head timeout (slowloris) ----
python3 "$ROOT/tests/tools/slowloris.py" "$A" trickle 3 0.3 4 >"$TMP/slow" 2>&1
field() { tr ' ' '\n' <"$2" | sed -n "s/^$1=//p"; }
expect_eq "--header-timeout 2: connections sending a byte every 0.3 s are closed" \
    "closed=3 alive_end=0" "closed=$(field closed "$TMP/slow") alive_end=$(field alive_end "$TMP/slow")"
life=$(field life_min "$TMP/slow")
if awk -v l="${life:--1}" 'BEGIN { exit !(l >= 1.9) }'; then
    ok "and not before the 2 s are up (the first after $life s)"
else
    bad "and not before the 2 s are up" "$(cat "$TMP/slow")"
fi
expect_grep "the log says what it closed and why" "without a whole request head within --header-timeout (2 s)" \
    "$(cat "$TMP/echo.err")"
out=$(python3 -c '
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=5)
t = time.time()
for i in range(3):
    s.sendall(b"GET /echo?x=%d HTTP/1.1\r\nHost: t\r\n\r\n" % i)
    s.recv(4096)
    time.sleep(1.2)
s.sendall(b"GET /echo?x=last HTTP/1.1\r\nHost: t\r\n\r\n")
print(s.recv(4096).decode())' "$A" 2>&1)
expect_grep "a kept-alive connection sending a whole head every 1.2 s is not closed" '{"x":"last"}' "$out"

# ---- SIGTERM with a request owed ----
curl -s -i --max-time 5 "http://$A/later?ms=800" >"$TMP/late" &
cpid=$!
sleep 0.3
kill -TERM "$PID_ECHO"
wait "$cpid"
expect_grep "SIGTERM with a request owed: it is answered" '{"later":800}' "$(cat "$TMP/late")"
expect_grep "with Connection: close" 'Connection: close' "$(tr -d '\r' <"$TMP/late")"
wait "$PID_ECHO"
expect_eq "then the server exits 0" 0 "$?"

# ---- load: h2load over HTTP/1.1 ----
if ! command -v h2load >/dev/null; then
    echo "SKIP h2load --h1 (h2load is not installed: apt-get install nghttp2-client)"
else
    start echo3 "$ECHO" --quiet || { summary; exit 1; }
    A3=$ADDR PID3=$PID
    ticks=$(getconf CLK_TCK)
    cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
    c0=$(cpu "$PID3")
    timeout 120 h2load --h1 -n 100000 -c 32 "http://$A3/echo?x=1" >"$TMP/h2load" 2>&1
    c1=$(cpu "$PID3")
    done=$(sed -n 's/^requests: .* \([0-9]*\) succeeded.*/\1/p' "$TMP/h2load")
    expect_eq "h2load --h1 -n 100000 -c 32: every request succeeds" 100000 "${done:-?}"
    rps=$(sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' "$TMP/h2load")
    us=$(awk -v d=$((c1 - c0)) -v t="$ticks" 'BEGIN { printf "%.1f", d / t * 1e6 / 100000 }')
    echo "figure: h2load --h1 -c 32 on /echo: ${rps:-?} req/s, server CPU ${us} us/request"
fi

summary
