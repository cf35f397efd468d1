# any_protos.sh -- the .proto files of services the workbench is never compiled with, and
# the real peers that serve them: tests/go/anyserver (grpc-go, dynamicpb) and
# tests/node/anyserver.js (grpc-js, proto-loader). Sourced after lib.sh (which gives
# start, build_go, TMP, ROOT and the trap that stops every server started here).
#
#   any_protos DIR            writes student.proto, sum.proto and stream.proto into DIR and
#                             their descriptor set (with imports) to DIR/any.pb; sets
#                             ANY_DIR and ANY_DESC. Returns 1 when protoc is missing.
#   any_go_start NAME [--reflection]
#   any_node_start NAME [--reflection]
#                             start that peer on a free port serving ANY_DIR's files (with
#                             server reflection when asked), wait until it listens, and set
#                             ADDR (host:port) and PID. Return 0; 2 when the peer cannot be
#                             had here (Go's grpc packages, node or the npm packages
#                             missing: SKIP, the reason in ANY_WHY); 1 when it failed.
#
# What each method does is written at the top of tests/go/anyserver/main.go; both peers
# answer AddFunc and add alike, and send the header x-peer (go or node) and the trailer
# "x-trailer: done" on every call.

ANY_PROTO_FILES="student.proto sum.proto stream.proto"

any_protos() {
    ANY_DIR=$1
    ANY_DESC=$1/any.pb
    mkdir -p "$ANY_DIR"
    # tutorial 001's files, as they are
    cat >"$ANY_DIR/student.proto" <<'EOF'
syntax = "proto3";
package pb;
option go_package="../pb";
enum Week{Monday=0; Tuesday=2;}
message Student{int32 age = 1; string name= 2; People p=3; repeated int32 score=4; Week w=5; oneof data{string teacher =6; string class=7;}}
message People{int32 weight=1;}
service AddName{rpc AddFunc(Student) returns (Student);}
EOF
    cat >"$ANY_DIR/sum.proto" <<'EOF'
syntax="proto3";
option go_package="../proto";
message req{int32 num1=1; int32 num2=2;}
message reply{int32 res=3;}
service sum{rpc add(req) returns(reply);}
EOF
    cat >"$ANY_DIR/stream.proto" <<'EOF'
// Every kind of call, an error with details, and the well-known types of the JSON mapping.
syntax = "proto3";
package stream;

import "google/protobuf/duration.proto";
import "google/protobuf/struct.proto";
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";

message N { int32 n = 1; }

message Stamped {
  google.protobuf.Timestamp at = 1;
  google.protobuf.Duration took = 2;
  google.protobuf.StringValue note = 3;
  google.protobuf.Int64Value big = 4;
  google.protobuf.Struct extra = 5;
  map<string, int32> counts = 6;
  int64 id = 7;
}

service Counter {
  rpc Count(N) returns (stream N);        // N{1} .. N{n}
  rpc Total(stream N) returns (N);        // the sum
  rpc Echo(stream N) returns (stream N);  // each one back
  rpc Fail(N) returns (N);                // INVALID_ARGUMENT with a google.rpc.BadRequest
  rpc Stamp(Stamped) returns (Stamped);   // the message back
}
EOF
    if ! command -v protoc >/dev/null 2>&1; then
        ANY_WHY="protoc (protobuf-compiler) is not installed"
        return 1
    fi
    (cd "$ANY_DIR" && protoc --include_imports --descriptor_set_out=any.pb $ANY_PROTO_FILES)
}

any_go_start() {
    local name=$1
    shift
    if ! command -v go >/dev/null 2>&1 || [ ! -d /usr/share/gocode/src/google.golang.org/grpc ] ||
        [ ! -d /usr/share/gocode/src/google.golang.org/protobuf/types/dynamicpb ]; then
        ANY_WHY="go, golang-google-grpc-dev or golang-google-protobuf-dev is not installed"
        return 2
    fi
    if ! build_go anyserver >"$TMP/$name-build.log" 2>&1; then
        echo "FAIL build tests/go/anyserver: $(tail -n 15 "$TMP/$name-build.log")"
        fail=$((fail + 1))
        return 1
    fi
    start "$name" "$ROOT/build/go/anyserver" --listen 127.0.0.1:0 --descriptors "$ANY_DESC" "$@"
}

any_node_start() {
    local name=$1 build=${BUILD:-$ROOT/build}
    shift
    if ! command -v node >/dev/null 2>&1; then
        ANY_WHY="node is not installed"
        return 2
    fi
    BUILD=$build sh "$ROOT/tests/node/install.sh" >"$TMP/$name-npm.log" 2>&1
    if [ ! -d "$build/node_modules/@grpc/reflection" ]; then
        ANY_WHY="the npm packages are not installed: $(tail -n 1 "$TMP/$name-npm.log")"
        return 2
    fi
    start "$name" env NODE_PATH="$build/node_modules" node "$ROOT/tests/node/anyserver.js" \
        --listen 127.0.0.1:0 --proto-dir "$ANY_DIR" "$@" $ANY_PROTO_FILES
}
