# test_sniff.sh -- `workbench explain FILE.pcap` on captures that tcpdump (pcap) and tshark
# (pcapng) made of real programs talking on the loopback: Go's net/rpc client and server
# with gob and with JSON (and the tutorial's nc), python3-grpcio and grpc-go calling our
# grpc-server, curl through bin/gateway to grpc-server, and captures that start after the
# connection did (a Go client that calls when told to): every call's method, arguments
# and result, what a mid-way capture cannot decode and why, and --wire's bytes.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"
export COLUMNS=1000 # --wire's dumps: one row a span, for grep
PY=/usr/bin/python3 # Debian's, which has python3-grpcio (the python3 on PATH may not)
WB="$BIN/workbench"

for tool in tcpdump tshark nc curl go etcd etcdctl; do
    if ! command -v $tool >/dev/null; then
        echo "SKIP $tool is not installed (make test installs it)"
        summary
        exit $?
    fi
done
build_go_peers rpcserver rpcclient grpcclient pauseclient
GO="$ROOT/build/go"

# cap_start TOOL FILE PORT...: TOOL (tcpdump: pcap, tshark: pcapng) records the loopback's
# TCP traffic of the ports into FILE, for at most 60 s; sets CAP_PID. Returns 1, with the
# reason in CAP_WHY, when it cannot capture here.
cap_start() {
    local tool=$1 file=$2 filter="tcp port $3" log="$TMP/cap-$(basename "$2").log"
    shift 3
    for p in "$@"; do filter="$filter or tcp port $p"; done
    case $tool in
        tcpdump) timeout 60 tcpdump -i lo -B 32768 -U -n -w "$file" "$filter" >"$log" 2>&1 & ;;
        tshark) timeout 60 tshark -i lo -B 32 -f "$filter" -w "$file" >"$log" 2>&1 & ;;
    esac
    CAP_PID=$!
    PIDS="$PIDS $CAP_PID"
    wait_until 10 grep -q "listening on\|Capturing on" "$log"
    sleep 0.3
    kill -0 "$CAP_PID" 2>/dev/null || { CAP_WHY="$tool: $(tail -n 1 "$log")"; return 1; }
}
# cap_stop PID: ends a capture once its last packets are written (libpcap hands packets
# over in blocks that wait up to a second).
cap_stop() {
    sleep 1.2
    kill -INT "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}
# explain FILE [OPTIONS...]: what `workbench explain` shows of a capture file
explain() { "$WB" --lang en explain "$@" --color never 2>&1; }
# calls_of OUT: how many calls the summary line counts
calls_of() { printf '%s\n' "$1" | sed -n 's/.*, calls: \([0-9]*\),.*/\1/p'; }

start gob "$GO/rpcserver" --listen 127.0.0.1:0 --codec gob || { summary; exit 1; }
GOB=$ADDR
if ! cap_start tcpdump "$TMP/gob.pcap" "$(port_of "$GOB")"; then
    echo "SKIP capturing on the loopback is not possible here: $CAP_WHY"
    summary
    exit $?
fi

# ---- 1. Go's net/rpc with gob, captured by tcpdump (pcap) ----
count_checks "Go's net/rpc client against Go's server" "$(timeout 60 "$GO/rpcclient" -addr "$GOB" -codec gob 2>&1)"
cap_stop "$CAP_PID"
expect_eq "tcpdump wrote a pcap file" "d4c3b2a1" "$(od -An -tx1 -N4 "$TMP/gob.pcap" | tr -d ' ')"
out=$(explain "$TMP/gob.pcap")
expect_grep "the connection is recognised as gob from its start" "Go net/rpc" "$out"
expect_grep "Arith.Multiply 7*8 with its arguments and result" 'Arith.Multiply  {"A":7,"B":8} -> 56  ok' "$out"
expect_grep "Arith.Divide 17/5 gives a Quotient" 'Arith.Divide  {"A":17,"B":5} -> {"Quo":3,"Rem":2}  ok' "$out"
expect_grep "Arith.Divide -17/5" '{"A":-17,"B":5} -> {"Quo":-3,"Rem":-2}' "$out"
expect_grep "divide by zero is the server's error" 'error: divide by zero' "$out"
expect_grep "the largest int64 exactly" '{"A":9223372036854775807,"B":1} -> 9223372036854775807' "$out"
expect_grep "the smallest int64 exactly" '{"A":-9223372036854775808,"B":1} -> -9223372036854775808' "$out"
expect_grep "hello.HelloWorld's string both ways" 'hello.HelloWorld  "李白" -> "李白 你好...."' "$out"
expect_grep "Greeter.SayHello's struct both ways" 'Greeter.SayHello  {"Name":"world"} -> {"Message":"Hello world"}' "$out"
expect_grep "an unknown service is the server's error" "rpc: can't find service Nope.Method" "$out"
expect_grep "the 500 concurrent calls are matched to their replies (one of them)" '{"A":499,"B":-499} -> -249001' "$out"
expect_grep "the pipelined calls too (the last)" '{"A":99,"B":2} -> 198' "$out"
expect_eq "every call of rpcclient is in the file (16 + 500 + 100)" 616 "$(calls_of "$out")"
expect_no_grep "no call lacks its reply" "no reply" "$out"
expect_eq "explain of the same file with --port of another port finds nothing" 0 \
    "$(calls_of "$(explain "$TMP/gob.pcap" --port 1)")"
expect_eq "explain json FILE keeps only JSON-RPC connections" 0 "$(calls_of "$(explain json "$TMP/gob.pcap")")"

# ---- 2. Go's net/rpc/jsonrpc and the tutorial's nc, captured by tshark (pcapng) ----
start json "$GO/rpcserver" --listen 127.0.0.1:0 --codec json || { summary; exit 1; }
JS=$ADDR
if cap_start tshark "$TMP/json.pcapng" "$(port_of "$JS")"; then
    count_checks "Go's jsonrpc client against Go's server" "$(timeout 60 "$GO/rpcclient" -addr "$JS" -codec json 2>&1)"
    expect_grep "nc as the tutorial calls hello.HelloWorld" '"result":"李白 你好...."' \
        "$(printf '{"method":"hello.HelloWorld","params":["李白"],"id":0}' | nc_send "$JS")"
    cap_stop "$CAP_PID"
    expect_eq "tshark wrote a pcapng file" "0a0d0d0a" "$(od -An -tx1 -N4 "$TMP/json.pcapng" | tr -d ' ')"
    out=$(explain "$TMP/json.pcapng")
    expect_grep "JSON-RPC recognised" "JSON-RPC" "$out"
    expect_grep "jsonrpc's Arith.Multiply" 'Arith.Multiply  [{"A":7,"B":8}] -> 56  ok' "$out"
    expect_grep "jsonrpc's Arith.Divide" 'Arith.Divide  [{"A":17,"B":5}] -> {"Quo":3,"Rem":2}  ok' "$out"
    expect_grep "jsonrpc's error" 'error: divide by zero' "$out"
    expect_grep "nc's call, as the tutorial types it" 'hello.HelloWorld  ["李白"] -> "李白 你好...."' "$out"
    expect_eq "every call is in the file (14 + 500 + 100 + nc's 1)" 615 "$(calls_of "$out")"
else
    bad "tshark captures on the loopback" "$CAP_WHY"
fi

# ---- 3. gRPC: python3-grpcio and grpc-go calling our grpc-server ----
start grpc "$BIN/grpc-server" --listen 127.0.0.1:0 || { summary; exit 1; }
G=$ADDR
cat >"$TMP/hello.py" <<'PY'
import sys, grpc
ch = grpc.insecure_channel(sys.argv[1])
say = ch.unary_unary("/helloworld.Greeter/SayHello", request_serializer=lambda b: b,
                     response_deserializer=lambda b: b)
print(say(b"\x0a\x06python", timeout=10))  # HelloRequest{name: "python"}
PY
if cap_start tcpdump "$TMP/grpc.pcap" "$(port_of "$G")"; then
    if $PY -c 'import grpc' 2>/dev/null; then
        expect_eq "python3-grpcio calls SayHello" "b'\\n\\x0cHello python'" "$(timeout 30 $PY "$TMP/hello.py" "$G" 2>&1)"
    else
        echo "SKIP python3-grpcio is not installed for $PY (make test installs it)"
    fi
    count_checks "grpc-go's client against grpc-server" "$(timeout 60 "$GO/grpcclient" -addr "$G" 2>&1)"
    cap_stop "$CAP_PID"
    out=$(explain "$TMP/grpc.pcap")
    expect_grep "gRPC over h2c recognised" "gRPC" "$out"
    if $PY -c 'import grpc' 2>/dev/null; then
        expect_grep "python's SayHello with its message as JSON" \
            '/helloworld.Greeter/SayHello  {"name":"python"} -> {"message":"Hello python"}  OK' "$out"
    fi
    expect_grep "grpc-go's SayHello" '/helloworld.Greeter/SayHello  {"name":"world"} -> {"message":"Hello world"}  OK' "$out"
    expect_grep "grpc-go's Multiply" '/arith.Arith/Multiply  {"A":"7","B":"8"} -> {"value":"56"}  OK' "$out"
    expect_grep "grpc-go's Divide by zero: its status and message" 'divide by zero  INVALID_ARGUMENT (3)' "$out"
    expect_grep "an unknown method is UNIMPLEMENTED" 'UNIMPLEMENTED (12)' "$out"
    expect_grep "the health check" '/grpc.health.v1.Health/Check  {"service":"helloworld.Greeter"} -> {"status":"SERVING"}  OK' "$out"
    expect_grep "one of grpc-go's 200 concurrent calls" '{"name":"caller 7 xxxxxxx"} -> {"message":"Hello caller 7 xxxxxxx"}  OK' "$out"
    n=$(printf '%s\n' "$out" | grep -c 'SayHello  {"name":"caller ')
    expect_eq "all 200 concurrent SayHello calls on one connection" 200 "$n"
    out=$(explain grpc "$TMP/grpc.pcap" --port "$(port_of "$G")" --wire)
    expect_grep "--wire: the request's :path, from HPACK" ":path: /helloworld.Greeter/SayHello" "$out"
    expect_grep "--wire: the gRPC message's length prefix" "message length 00 00 00" "$out"
    expect_grep "--wire: HelloRequest.name" 'name (string) = "world"' "$out"
    expect_grep "--wire: the reply's status" "grpc-status: 0" "$out"
    expect_grep "--wire: titled per call" "call 1: request" "$out"
else
    bad "tcpdump captures on the loopback" "$CAP_WHY"
fi

# ---- 4. curl -> bin/gateway -> grpc-server: the HTTP/1.1 call and the gRPC call behind it ----
gateway_part() {
    etcd_start sniffgw "$TMP/etcd" "$TMP/etcd.log" || { bad "etcd starts" "$(tail -n 5 "$TMP/etcd.log")"; return; }
    PIDS="$PIDS $ETCD_PID"
    start arith "$BIN/grpc-server" --listen 127.0.0.1:0 --registry "etcd://$EP" --service arith --ttl 5 || return
    local arith=$ADDR gwport
    gwport=$(free_port)
    cap_start tshark "$TMP/gw.pcapng" "$gwport" "$(port_of "$arith")" || { bad "tshark captures" "$CAP_WHY"; return; }
    local cap=$CAP_PID
    start gateway "$BIN/gateway" --listen "127.0.0.1:$gwport" --registry "etcd://$EP" --timeout 2000 || return
    gw_ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$ADDR/arith/multiply?a=1&b=1")" = 200 ]; }
    wait_until 15 gw_ready || bad "the gateway serves /arith/multiply"
    expect_eq "curl through the gateway" '{"value":42}' \
        "$(curl -s --max-time 10 "http://$ADDR/arith/multiply?a=6&b=7")"
    cap_stop "$cap"
    out=$(explain "$TMP/gw.pcapng")
    expect_grep "HTTP/1.x recognised" "HTTP/1.x, from its start" "$out"
    expect_grep "curl's GET through the gateway" 'GET /arith/multiply?a=6&b=7' "$out"
    expect_grep "its JSON reply and status" 'GET /arith/multiply?a=6&b=7  -> {"value":42}  200 OK' "$out"
    expect_grep "the gRPC call behind it" '/arith.Arith/Multiply  {"A":"6","B":"7"} -> {"value":"42"}  OK' "$out"
    expect_grep "the gRPC call goes from the gateway to grpc-server" "-> $arith" "$out"
}
gateway_part

# ---- 5. captures that start after the connection did ----
# paused NAME PROTO ADDR: pauseclient on one connection to ADDR, a call per line written
# to fd 3; sets PC_OUT (its output)
paused() {
    mkfifo "$TMP/$1.in"
    PC_OUT="$TMP/$1.pc"
    "$GO/pauseclient" -addr "$3" -proto "$2" <"$TMP/$1.in" >"$PC_OUT" 2>&1 &
    PIDS="$PIDS $!"
    exec 3>"$TMP/$1.in"
}
# next_call N: asks for call N and waits (at most 10 s) for its answer
next_call() { echo >&3; wait_until 10 grep -q "^$1 " "$PC_OUT" || bad "pauseclient makes call $1" "$(cat "$PC_OUT")"; }

# gob: the whole connection in one capture, and a second capture begun after call 1
# (explain is told the server's port: a connection caught mid-way has no SYN to tell)
cap_start tcpdump "$TMP/gob-full.pcap" "$(port_of "$GOB")" || bad "tcpdump captures" "$CAP_WHY"
full=$CAP_PID
paused gobmid gob "$GOB"
next_call 1
cap_start tcpdump "$TMP/gob-mid.pcap" "$(port_of "$GOB")" || bad "tcpdump captures" "$CAP_WHY"
mid=$CAP_PID
next_call 2
next_call 3
expect_eq "pauseclient's gob calls" "$(printf '1 Arith.Multiply 10\n2 Arith.Multiply 20\n3 Arith.Multiply 30')" "$(cat "$PC_OUT")"
cap_stop "$mid"
exec 3>&-
cap_stop "$full"
out=$(explain "$TMP/gob-mid.pcap" --port "$(port_of "$GOB")")
expect_grep "mid-way: the connection is said to be caught mid-way" "Go net/rpc with gob, caught mid-way" "$out"
expect_grep "mid-way: the method is still named, and call 2's result read" "Arith.Multiply" \
    "$(printf '%s\n' "$out" | grep -e '-> 20  ok')"
expect_grep "mid-way: the note says the type definitions are missing, and why" \
    "definition was sent before the capture began" "$out"
expect_eq "mid-way: both calls after the start of the capture" 2 "$(calls_of "$out")"
out=$(explain "$TMP/gob-full.pcap")
expect_grep "from the start: call 2 whole" 'Arith.Multiply  {"A":2,"B":10} -> 20  ok' "$out"
expect_no_grep "from the start: nothing is missing" "note:" "$out"
out=$(explain "$TMP/gob-full.pcap" --wire)
expect_grep "--wire on gob: the type definitions explained" "type definition" "$out"
expect_grep "--wire on gob: the method name in the request header" '"Arith.Multiply"' "$out"
expect_grep "--wire on gob: a reply dump per call" "call 3: reply" "$out"
expect_grep "--wire: the legend at the end" "framing" "$(printf '%s\n' "$out" | tail -n 5)"

# gRPC: HPACK's dynamic table was filled before the capture began
paused grpcmid grpc "$G"
next_call 1
cap_start tcpdump "$TMP/grpc-mid.pcap" "$(port_of "$G")" || bad "tcpdump captures" "$CAP_WHY"
mid=$CAP_PID
next_call 2
next_call 3
expect_grep "pauseclient's gRPC calls" "3 SayHello Hello caller 3" "$(cat "$PC_OUT")"
cap_stop "$mid"
exec 3>&-
out=$(explain "$TMP/grpc-mid.pcap" --port "$(port_of "$G")")
expect_grep "gRPC mid-way: caught mid-way" "gRPC over HTTP/2 (h2c), caught mid-way" "$out"
expect_grep "gRPC mid-way: the note names HPACK's dynamic table, built before the capture" \
    "HPACK's dynamic table was built before the capture began" "$out"
expect_grep "gRPC mid-way: the messages are still read" '{#1: "caller 3"} -> {#1: "Hello caller 3"}' "$out"
expect_eq "gRPC mid-way: both calls" 2 "$(calls_of "$out")"
out=$(explain "$TMP/grpc-mid.pcap" --port "$(port_of "$G")" --wire)
expect_grep "gRPC mid-way --wire: the headers that need the table are said to" "table" "$out"

# ---- 6. --wire on a long connection: each call explained from where the one before ended ----
# About 4000 gob calls on one connection (workbench load writes what it sent and received);
# explaining each call from the connection's first byte took minutes.
if "$WB" load --service longwire --codec gob --registry static --spawn 1 --rate 2000 --duration 2 \
    --pcap "$TMP/long.pcap" >"$TMP/long-load.out" 2>&1; then
    n=$(calls_of "$(explain "$TMP/long.pcap")")
    if [ "${n:-0}" -ge 3000 ]; then ok "the long connection has $n calls"; else bad "the long connection has at least 3000 calls" "${n:-none}"; fi
    out=$(timeout 120 "$WB" --lang en explain "$TMP/long.pcap" --wire --color never 2>&1)
    expect_eq "--wire on the long connection ends, within 120 s" 0 "$?"
    expect_eq "--wire: a request dump for every call" "$n" "$(printf '%s\n' "$out" | grep -c '── call [0-9]*: request')"
    expect_eq "--wire: a reply dump for every call" "$n" "$(printf '%s\n' "$out" | grep -c '── call [0-9]*: reply')"
    expect_grep "--wire: the last call's reply read with the types the connection defined at its start" \
        "net/rpc response #$n: Arith.Multiply" "$out"
    expect_no_grep "--wire: every byte of the long connection explained" "no explainer claimed" "$out"
else
    bad "workbench load writes a capture of a long gob connection" "$(tail -n 3 "$TMP/long-load.out")"
fi

# The same for gRPC: about 4000 calls on one HTTP/2 connection, each call's frames explained
# from where the call before stopped, with HPACK's table as the connection built it.
if "$WB" load --service longwireg --codec grpc --registry static --spawn 1 --rate 2000 --duration 2 \
    --pcap "$TMP/longg.pcap" >"$TMP/longg-load.out" 2>&1; then
    n=$(calls_of "$(explain "$TMP/longg.pcap")")
    if [ "${n:-0}" -ge 3000 ]; then ok "the long gRPC connection has $n calls"; else bad "the long gRPC connection has at least 3000 calls" "${n:-none}"; fi
    out=$(timeout 120 "$WB" --lang en explain "$TMP/longg.pcap" --wire --color never 2>&1)
    expect_eq "--wire on the long gRPC connection ends, within 120 s" 0 "$?"
    expect_eq "--wire on gRPC: a request dump for every call" "$n" "$(printf '%s\n' "$out" | grep -c '── call [0-9]*: request')"
    expect_eq "--wire on gRPC: a reply dump for every call" "$n" "$(printf '%s\n' "$out" | grep -c '── call [0-9]*: reply')"
    # a call half-way (the latest are past the spans an explanation keeps, and only counted)
    m=$((n / 2))
    mid=$(printf '%s\n' "$out" | sed -n "/── call $m: request/,/── call $((m + 1)): request/p")
    expect_grep "--wire on gRPC: call $m's request names its method" \
        ":path: /arith.Arith/Multiply; gRPC: the method to call" "$mid"
    expect_grep "--wire on gRPC: call $m's reply read with the method its request named" \
        "gRPC message 1 on stream $((2 * m - 1)), 2 bytes after its 5-byte prefix: arith.Product" "$mid"
    expect_grep "--wire on gRPC: call $m's status from HPACK's dynamic table" \
        "grpc-status: 0, sent as 0xbe: indexed: dynamic table entry 62" "$mid"
else
    bad "workbench load writes a capture of a long gRPC connection" "$(tail -n 3 "$TMP/longg-load.out")"
fi

# ---- explain's other uses are unchanged; a file that is not a capture is said to be ----
printf '{"method":"hello.HelloWorld","params":["李白"],"id":0}' >"$TMP/req.json"
expect_grep "explain json FILE still explains JSON-RPC bytes" "hello.HelloWorld" "$(explain json "$TMP/req.json")"
out=$("$WB" --lang en explain "$TMP/req.json" 2>&1)
expect_eq "explain FILE of bytes that are no capture exits 2" 2 "$?"
expect_grep "and says it is not a capture file" "is not a capture file" "$out"
out=$("$WB" --lang en explain json "$TMP/req.json" --wire 2>&1)
expect_grep "--wire is for capture files" "--port and --wire are for a capture file" "$out"
summary
