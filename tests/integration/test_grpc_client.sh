# test_grpc_client.sh -- the workbench's gRPC client against servers nobody here wrote:
# Debian's python3-grpcio (gRPC's C core) and grpc-go.
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
    expect_eq "an unknown method is a usage error" "2" "$rc"
    expect_grep "and the error lists the methods known" "helloworld.Greeter/SayHello" "$out"
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

# no server on the port: the hint names what starts one
. "$ROOT/mk/lib.sh"
port=$(free_port)
out=$("$BIN/workbench" call "grpc://127.0.0.1:$port" Arith.Multiply '{"A":7,"B":8}' 2>&1)
expect_grep "a refused call says make servers starts the sample servers" '`make servers` starts' "$out"
expect_grep "and names the server for this URL" "bin/grpc-server --listen 127.0.0.1:$port" "$out"

summary
