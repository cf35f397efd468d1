# test_grpc_client.sh -- the workbench's gRPC client against servers nobody here wrote:
# Debian's python3-grpcio (gRPC's C core) and grpc-go; its streaming against grpc-server.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"
export COLUMNS=1000

# grpcio as a server for our client: every call here needs Python's grpc module
if /usr/bin/python3 -c 'import grpc' 2>/dev/null; then
    start pygrpc /usr/bin/python3 "$ROOT/tests/python/grpc_peer_server.py" || { summary; exit 1; }
    P=$ADDR

    out=$("$BIN/workbench" call "grpc://$P" helloworld.Greeter/SayHello '{"name":"world"}')
    expect_eq "grpc:// to grpcio: Greeter/SayHello" '{"message":"Hello world"}' "$out"
    out=$("$BIN/workbench" call "grpc://$P" /helloworld.Greeter/SayHello '{"name":"李白"}')
    expect_eq "grpc:// to grpcio: the :path spelling, and UTF-8" '{"message":"Hello 李白"}' "$out"
    out=$("$BIN/workbench" call "grpc://$P" Arith.Multiply '{"A":7,"B":8}')
    expect_eq "grpc:// to grpcio: the net/rpc name Arith.Multiply" '{"value":56}' "$out"
    out=$("$BIN/workbench" call "grpc://$P" Arith.Multiply '{"A":-9223372036854775808,"B":1}')
    expect_eq "grpc:// to grpcio: smallest int64" '{"value":-9223372036854775808}' "$out"
    out=$("$BIN/workbench" call "grpc://$P" arith.Arith/Divide '{"A":-7,"B":2}')
    expect_eq "grpc:// to grpcio: Divide" '{"Quo":-3,"Rem":-1}' "$out"
    out=$("$BIN/workbench" call "grpc://$P" Arith.Divide '{"A":7,"B":0}' 2>&1); rc=$?
    expect_eq "a non-OK status exits 1" "1" "$rc"
    expect_grep "the status is printed with its code name" "INVALID_ARGUMENT: divide by zero" "$out"
    out=$("$BIN/workbench" call "grpc://$P" tally.Tally/Count '{"to":3}' 2>&1); rc=$?
    expect_eq "a method the server lacks exits 1" "1" "$rc"
    expect_grep "UNIMPLEMENTED is named" "UNIMPLEMENTED" "$out"
    out=$("$BIN/workbench" call "grpc://$P" helloworld.Greeter/SayHello '{"nom":"x"}' 2>&1); rc=$?
    expect_eq "a field the message lacks is a usage error" "2" "$rc"
    out=$("$BIN/workbench" call "grpc://$P" No.Such '{}' 2>&1); rc=$?
    expect_eq "a method nobody describes, with {}, is sent anyway: the server's answer exits 1" "1" "$rc"
    expect_grep "it says why it is unknown" "(No.Such: the server's reflection does not describe it" "$out"
    expect_grep "and shows the server's own UNIMPLEMENTED" "UNIMPLEMENTED" "$out"
    out=$("$BIN/workbench" call "grpc://$P" No.Such '{"a":1}' 2>&1); rc=$?
    expect_eq "with an argument that needs its type, it is a usage error" "2" "$rc"
    expect_grep "which says how to give the type" "give --proto FILE.proto" "$out"

    # metadata both ways: -H headers reach grpcio, which echoes each x- header as a trailer
    out=$("$BIN/workbench" call "grpc://$P" helloworld.Greeter/SayHello '{"name":"world"}' -v \
        -H 'X-User: ann' -H 'x-user: bob' -H 'x-id-bin: AAEC/w' 2>&1); rc=$?
    expect_eq "-H and -v to grpcio exit 0" "0" "$rc"
    expect_grep "-v lists the metadata sent, lowercased" "  x-user: ann" "$out"
    expect_grep "-v prints the response headers grpcio sent" "  x-greeting: hello" "$out"
    expect_grep "a -H header arrived (echoed in a trailer)" "  echo-x-user: ann" "$out"
    expect_grep "a repeated -H key sends both values" "  echo-x-user: bob" "$out"
    expect_grep "a -bin header arrived as the same bytes" "  echo-x-id-bin: AAEC/w" "$out"
    expect_grep "-v ends with the status" "Status: 0 OK" "$out"
    order=$(printf '%s\n' "$out" | grep -nE '^(Request metadata|Response headers|\{"message"|Response trailers|Status:)' | sed 's/^[0-9]*://' | cut -c1-12 | tr '\n' '|')
    expect_eq "-v order: metadata sent, headers, message, trailers, status" \
        'Request meta|Response hea|{"message":"|Response tra|Status: 0 OK|' "$order"
    out=$("$BIN/workbench" call "grpc://$P" helloworld.Greeter/SayHello '{"name":"x"}' -H 'grpc-timeout: 1S' 2>&1); rc=$?
    expect_eq "a reserved -H name is a usage error" "2" "$rc"
    expect_grep "with the reason" "--timeout sets the deadline" "$out"
    out=$("$BIN/workbench" call "grpc://$P" helloworld.Greeter/SayHello '{"name":"x"}' -H 'x-id-bin: not base64!' 2>&1); rc=$?
    expect_eq "a -bin value that is not base64 is a usage error" "2" "$rc"
    out=$(echo '{"name":"stdin"}' | "$BIN/workbench" call "grpc://$P" helloworld.Greeter/SayHello -d @)
    expect_eq "-d @ reads the request from stdin" '{"message":"Hello stdin"}' "$out"
    out=$(printf '{\n  "name": "lines"\n}\n' | "$BIN/workbench" call "grpc://$P" helloworld.Greeter/SayHello @)
    expect_eq "ARGS @ takes one JSON value over several lines" '{"message":"Hello lines"}' "$out"

    # an error with a google.rpc.Status in grpc-status-details-bin
    out=$("$BIN/workbench" call "grpc://$P" helloworld.Greeter/SayHello '{"name":"details"}' 2>&1); rc=$?
    expect_eq "an error with details exits 1" "1" "$rc"
    expect_grep "its status is printed" "INVALID_ARGUMENT: no details for you" "$out"
    expect_grep "the Status's code is decoded" "    code: 3 INVALID_ARGUMENT" "$out"
    expect_grep "a detail of a known type is decoded" '      {"message":"try another name"}' "$out"
    expect_grep "and named by its type URL" "detail 1: type.googleapis.com/helloworld.HelloReply" "$out"
    expect_grep "a detail of an unknown type is shown in base64" "      CgpOQU1FX1RBS0VOEgtleGFtcGxlLm9yZw==" "$out"
    out=$("$BIN/workbench" call "grpc://$P" helloworld.Greeter/SayHello '{"name":"error-info"}' 2>&1)
    expect_grep "a standard detail (google.rpc.ErrorInfo) is decoded, in proto3's JSON" \
        '{"reason":"NAME_TAKEN","domain":"example.org","metadata":{"field":"name"}}' "$out"

    # the deadline: grpcio or the workbench gives up first, either way DEADLINE_EXCEEDED
    out=$("$BIN/workbench" call "grpc://$P" helloworld.Greeter/SayHello '{"name":"slow"}' --timeout 300 2>&1); rc=$?
    expect_grep "a passed deadline is DEADLINE_EXCEEDED" "DEADLINE_EXCEEDED" "$out"
    [ "$rc" = 1 ] || [ "$rc" = 3 ] && ok "and exits 1 or 3 ($rc)" || bad "a passed deadline exits 1 or 3, not $rc"
else
    echo "SKIP python3-grpcio is not installed (make test installs it)"
fi

# grpc-go, built offline from Debian's golang-google-grpc-dev
if build_go greeter; then
    start gogreeter "$ROOT/build/go/greeter" || { summary; exit 1; }
    out=$("$BIN/workbench" call "grpc://$ADDR" helloworld.Greeter/SayHello '{"name":"world"}')
    expect_eq "grpc:// to grpc-go: Greeter/SayHello" '{"message":"Hello world"}' "$out"
    out=$("$BIN/workbench" call "grpc://$ADDR" Arith.Multiply '{"A":1,"B":2}' 2>&1)
    expect_grep "grpc-go's UNIMPLEMENTED for a service it lacks" "UNIMPLEMENTED: unknown service arith.Arith" "$out"
else
    bad "build the grpc-go Greeter server (tests/go/greeter) offline"
fi

# streaming both ways against the workbench's own grpc-server (tally.proto)
start ours "$BIN/grpc-server" --listen 127.0.0.1:0 || { summary; exit 1; }
G=$ADDR
# the first message is printed before the last one is sent: watch the file while it runs
"$BIN/workbench" call "grpc://$G" tally.Tally/Count '{"to":3,"interval_ms":600}' >"$TMP/count.out" 2>&1 &
cpid=$!
PIDS="$PIDS $cpid"
wait_until 2 grep -q '{"value":1}' "$TMP/count.out"
expect_no_grep "a streamed reply prints each message as it arrives" '{"value":3}' "$(cat "$TMP/count.out")"
wait "$cpid"
expect_eq "server streaming: one message a line" '{"value":1}
{"value":2}
{"value":3}' "$(cat "$TMP/count.out")"
out=$(printf '{"value":1}\n{"value":2}\n\n{"value":3}\n' | "$BIN/workbench" call "grpc://$G" tally.Tally/Total -d @)
expect_eq "client streaming: one message a line from stdin" '{"value":6}' "$out"
out=$(printf '{"value":1}\n{"value":2}\n{"value":3}\n' | "$BIN/workbench" call "grpc://$G" tally.Tally/RunningTotal @)
expect_eq "bidi: messages a line in, a line out" '{"value":1}
{"value":3}
{"value":6}' "$out"
out=$("$BIN/workbench" call "grpc://$G" tally.Tally/RunningTotal '[{"value":2},{"value":5}]')
expect_eq "bidi: a JSON list in ARGS" '{"value":2}
{"value":7}' "$out"
out=$(printf '{"value":1}\nnot json\n' | "$BIN/workbench" call "grpc://$G" tally.Tally/Total @ 2>&1); rc=$?
expect_eq "a line of stdin that is not JSON is a usage error" "2" "$rc"
expect_grep "naming the line" "line 2 is not JSON" "$out"
out=$("$BIN/workbench" call "grpc://$G" tally.Tally/Count '{"to":5,"interval_ms":300}' --timeout 700 2>&1); rc=$?
expect_grep "a stream cut by the deadline printed what came" '{"value":2}' "$out"
expect_grep "then DEADLINE_EXCEEDED" "DEADLINE_EXCEEDED" "$out"
out=$("$BIN/workbench" call "grpc://$G" tally.Tally/Count '{"to":2}' --wire 2>&1)
expect_eq "with --wire the messages come after the dump, a line each" '{"value":1}
{"value":2}' "$(printf '%s\n' "$out" | tail -n 2)"
out=$("$BIN/workbench" call "json://$G" Arith.Multiply '{"A":1,"B":2}' -H 'x-a: b' 2>&1); rc=$?
expect_eq "-H with JSON-RPC is a usage error" "2" "$rc"
expect_grep "with the reason" "JSON-RPC carries no metadata" "$out"

# no server on the port: the hint names what starts one
. "$ROOT/mk/lib.sh"
port=$(free_port)
out=$("$BIN/workbench" call "grpc://127.0.0.1:$port" Arith.Multiply '{"A":7,"B":8}' 2>&1)
expect_grep "a refused call says make servers starts the sample servers" '`make servers` starts' "$out"
expect_grep "and names the server for this URL" "bin/grpc-server --listen 127.0.0.1:$port" "$out"

summary
