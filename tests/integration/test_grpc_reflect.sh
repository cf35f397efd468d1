# test_grpc_reflect.sh -- grpc-server's server reflection, v1 and v1alpha, read by clients
# that are not ours: grpc-go's reflection stubs (tests/go/reflectclient), grpc-js with the
# v1 reflection.proto shipped in @grpc/reflection (tests/node/reflectclient.js) and
# python3-grpcio (tests/python/grpc_checks.py). Then the peers of any_protos.sh, which run
# services the workbench has never seen, are started with and without reflection and
# answer python3-grpcio's calls and the two reflection clients, so later tests can rely
# on them.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"
. "$ROOT/tests/integration/any_protos.sh"

PY=/usr/bin/python3 # Debian's, which has python3-grpcio
DESC=${BUILD:-$ROOT/build}/gen/descriptors.pb
NODE_MODULES=${BUILD:-$ROOT/build}/node_modules

have_py=true
"$PY" -c 'import grpc, google.protobuf' 2>/dev/null || have_py=false
have_go=true
[ -d /usr/share/gocode/src/google.golang.org/grpc/reflection ] && command -v go >/dev/null || have_go=false
node_why=""
if command -v node >/dev/null; then
    node_why=$(BUILD=${BUILD:-$ROOT/build} sh "$ROOT/tests/node/install.sh" 2>&1 | tail -n 1)
    [ -d "$NODE_MODULES/@grpc/reflection" ] || node_why=${node_why:-"the npm packages did not install"}
else
    node_why="node is not installed"
fi
node_client() { timeout 20 env NODE_PATH="$NODE_MODULES" node "$ROOT/tests/node/reflectclient.js" "$@" 2>&1; }

start ours "$BIN/grpc-server" --listen 127.0.0.1:0 || { summary; exit 1; }
G=$ADDR

# python3-grpcio: both versions, every kind of request
if $have_py; then
    count_checks "python reflection checks" "$(timeout 60 "$PY" "$ROOT/tests/python/grpc_checks.py" "$DESC" "$G" \
        reflection reflection_v1 2>&1)"
else
    echo "SKIP python3-grpcio reflection checks: python3-grpcio is not installed for $PY"
fi

# grpc-go's reflection client (v1alpha, the version Debian's grpc-go has)
if $have_go && build_go reflectclient >"$TMP/gobuild.log" 2>&1; then
    out=$(timeout 20 "$ROOT/build/go/reflectclient" -addr "$G" -symbol helloworld.Greeter \
        -symbol tally.Number -file arith.proto -symbol no.Such 2>&1)
    expect_grep "grpc-go v1alpha client: list_services names v1 reflection" \
        "service grpc.reflection.v1.ServerReflection" "$out"
    expect_grep "and v1alpha" "service grpc.reflection.v1alpha.ServerReflection" "$out"
    expect_grep "and helloworld.Greeter" "service helloworld.Greeter" "$out"
    expect_grep "grpc-go: the file of helloworld.Greeter parses and names SayHello" \
        "rpc Greeter.SayHello(.helloworld.HelloRequest) returns (.helloworld.HelloReply)" "$out"
    expect_grep "grpc-go: tally.Number's file, with each method's streaming" \
        "rpc Tally.RunningTotal(stream .tally.Number) returns (stream .tally.Number)" "$out"
    expect_grep "grpc-go: arith.proto by its name" 'file arith.proto package arith (asked: file_by_filename:"arith.proto")' "$out"
    expect_grep "grpc-go: an unknown symbol -> error 5 (NOT_FOUND)" "error 5 symbol not found: no.Such" "$out"
elif $have_go; then
    bad "build tests/go/reflectclient offline" "$(tail -n 15 "$TMP/gobuild.log")"
else
    echo "SKIP grpc-go reflection client: go or golang-google-grpc-dev is not installed"
fi

# grpc-js with the official v1 reflection.proto (and its v1alpha one)
if [ -z "$node_why" ]; then
    out=$(node_client --addr "$G" --symbol helloworld.Greeter --file helloworld.proto --symbol no.Such)
    expect_grep "grpc-js v1 client: list_services names v1 reflection" \
        "service grpc.reflection.v1.ServerReflection" "$out"
    expect_grep "and helloworld.Greeter" "service helloworld.Greeter" "$out"
    expect_grep "grpc-js v1: helloworld.proto by symbol, decoded by protobufjs" \
        'file helloworld.proto package helloworld (asked: file_containing_symbol:"helloworld.Greeter")' "$out"
    expect_grep "grpc-js v1: helloworld.proto by file name" \
        'file helloworld.proto package helloworld (asked: file_by_filename:"helloworld.proto")' "$out"
    expect_grep "grpc-js v1: it names SayHello" \
        "rpc Greeter.SayHello(.helloworld.HelloRequest) returns (.helloworld.HelloReply)" "$out"
    expect_grep "grpc-js v1: protobufjs links it into a Root with helloworld.Greeter.SayHello" \
        "linked: helloworld.Greeter.SayHello" "$out"
    expect_grep "grpc-js v1: an unknown symbol -> error 5" "error 5 symbol not found: no.Such" "$out"
    expect_no_grep "grpc-js v1: no call or parse errors" "error:" "$out"
    out=$(node_client --addr "$G" --version v1alpha --symbol tally.Tally)
    expect_grep "grpc-js v1alpha: tally.Tally's file links, Count among its methods" "linked: tally.Tally.Count" "$out"
else
    echo "SKIP grpc-js reflection client: $node_why"
fi

# ---- the peers of any_protos.sh ----
if ! any_protos "$TMP/protos"; then
    echo "SKIP anyserver peers: $ANY_WHY"
    summary
    exit
fi

# peer_checks NAME ADDR PEER REFLECTION: python3-grpcio's calls (tests/python/any_checks.py)
peer_checks() {
    if $have_py; then
        count_checks "$1" "$(timeout 60 "$PY" "$ROOT/tests/python/any_checks.py" "$ANY_DESC" "$2" "$3" "$4" 2>&1)"
    else
        echo "SKIP $1: python3-grpcio is not installed for $PY"
    fi
}

any_go_start goref --reflection
case $? in
0)
    peer_checks "grpc-go peer" "$ADDR" go reflection
    if [ -x "$ROOT/build/go/reflectclient" ]; then
        out=$(timeout 20 "$ROOT/build/go/reflectclient" -addr "$ADDR" -symbol pb.AddName \
            -symbol stream.Stamped -file sum.proto 2>&1)
        expect_grep "grpc-go peer's reflection: the package-less service sum" "service sum" "$out"
        expect_grep "grpc-go peer's reflection: student.proto for pb.AddName, with AddFunc" \
            "rpc AddName.AddFunc(.pb.Student) returns (.pb.Student)" "$out"
        expect_grep "grpc-go peer's reflection: stream.proto's imports come along" \
            "file google/protobuf/timestamp.proto package google.protobuf" "$out"
        expect_grep "grpc-go peer's reflection: sum.proto by name" "rpc sum.add(.req) returns (.reply)" "$out"
    fi
    any_go_start gonoref
    [ $? -eq 0 ] && peer_checks "grpc-go peer without reflection" "$ADDR" go none
    ;;
2) echo "SKIP grpc-go peer: $ANY_WHY" ;;
esac

any_node_start noderef --reflection
case $? in
0)
    peer_checks "grpc-js peer" "$ADDR" node reflection
    out=$(node_client --addr "$ADDR" --symbol pb.AddName --symbol stream.Stamped)
    expect_grep "grpc-js peer's v1 reflection lists pb.AddName" "service pb.AddName" "$out"
    expect_grep "and the file of pb.AddName links, with AddFunc" "linked: pb.AddName.AddFunc" "$out"
    expect_grep "and stream.Stamped's file, Stamp among its methods" "linked: stream.Counter.Stamp" "$out"
    any_node_start nodenoref
    [ $? -eq 0 ] && peer_checks "grpc-js peer without reflection" "$ADDR" node none
    ;;
2) echo "SKIP grpc-js peer: $ANY_WHY" ;;
esac

summary
