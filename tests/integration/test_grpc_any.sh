# test_grpc_any.sh -- `workbench call`, `list` and `describe` against gRPC services the workbench
# was never built with: tutorial 001's Student and sum, and a streaming service with the
# well-known types, served by grpc-go (dynamicpb) and grpc-js, with and without server
# reflection, or described by --proto and --protoset files.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"
. "$ROOT/tests/integration/any_protos.sh"
export COLUMNS=1000
WB="$BIN/workbench"

if ! any_protos "$TMP/any"; then
    echo "SKIP $ANY_WHY (make test installs it)"
    summary
    exit 0
fi
D=$ANY_DIR
STUDENT='{"age":20,"name":"李白","p":{"weight":60},"score":[90,80],"w":"Tuesday","teacher":"杜甫"}'
STUDENT_BACK='{"age":21,"name":"李白 你好","p":{"weight":60},"score":[90,80],"w":"Tuesday","teacher":"杜甫"}'

# the same checks against any server that has reflection; $1 names the peer
with_reflection() {
    local who=$1 G=$2
    out=$("$WB" list "grpc://$G")
    for s in pb.AddName stream.Counter sum; do
        # grpc-js's reflection lists a service without a package with a leading dot
        if printf '%s\n' "$out" | grep -qx "\.\{0,1\}$s"; then ok "$who: list names the service $s"; else bad "$who: list names the service $s" "$out"; fi
    done
    out=$("$WB" list "grpc://$G" pb.AddName)
    expect_eq "$who: list pb.AddName gives its method" "pb.AddName.AddFunc" "$out"
    out=$("$WB" describe "grpc://$G" pb.Student)
    expect_grep "$who: describe says what pb.Student is" "pb.Student is a message:" "$out"
    expect_grep "$who: describe shows the nested message field" ".pb.People p = 3;" "$out"
    expect_grep "$who: describe shows the repeated field" "repeated int32 score = 4;" "$out"
    expect_grep "$who: describe shows the enum field" ".pb.Week w = 5;" "$out"
    expect_grep "$who: describe shows the oneof" "oneof data {" "$out"
    out=$("$WB" describe "grpc://$G" sum)
    expect_grep "$who: describe the package-less service sum" "rpc add ( .req ) returns ( .reply );" "$out"
    out=$("$WB" call "grpc://$G" pb.AddName/AddFunc "$STUDENT" 2>"$TMP/err")
    expect_eq "$who: tutorial 001's Student round-trips through AddFunc" "$STUDENT_BACK" "$out"
    expect_grep "$who: stderr says the types came from reflection" "reflection" "$(cat "$TMP/err")"
    out=$("$WB" call "grpc://$G" sum/add '{"num1":333,"num2":666}')
    expect_eq "$who: the tutorial's sum/add" '{"res":999}' "$out"
    out=$("$WB" call "grpc://$G" sum.add '{"num1":1,"num2":2}')
    expect_eq "$who: sum.add spelled with a dot" '{"res":3}' "$out"
    out=$("$WB" call "grpc://$G" pb.AddName/Nope '{}' 2>&1); rc=$?
    expect_eq "$who: a method nobody describes, sent anyway, exits 1" "1" "$rc"
    expect_grep "$who: it says the method is unknown to reflection" "(pb.AddName/Nope: the server's reflection does not describe it" "$out"
    expect_grep "$who: and shows the server's own UNIMPLEMENTED" "UNIMPLEMENTED" "$out"
    out=$("$WB" call "grpc://$G" pb.AddName/AddFunc '{"age":"x"}' 2>&1); rc=$?
    expect_eq "$who: a bad field is a usage error" "2" "$rc"
    expect_grep "$who: naming the field" 'age' "$out"
}

# --- grpc-go with reflection (v1alpha: Debian's grpc-go has no v1)
any_go_start goref --reflection; r=$?
if [ $r = 2 ]; then
    echo "SKIP grpc-go peer: $ANY_WHY"
elif [ $r = 0 ]; then
    G=$ADDR
    with_reflection grpc-go "$G"
    out=$("$WB" call "grpc://$G" pb.AddName/AddFunc '{}' 2>&1 >/dev/null)
    expect_grep "grpc-go: v1 is asked first, then v1alpha" "reflection v1alpha)" "$out"
    STAMP='{"at":"2020-01-02T03:04:05.500Z","took":"1.500s","note":"hi","big":"9007199254740993","extra":{"a":[1,"x",null,true]},"counts":{"a":1},"id":"-9223372036854775808"}'
    out=$("$WB" call "grpc://$G" stream.Counter/Stamp "$STAMP")
    expect_eq "grpc-go: Timestamp, Duration, wrappers, Struct, a map and int64 round-trip" "$STAMP" "$out"
    out=$("$WB" call "grpc://$G" stream.Counter/Stamp '{"at":"2020-01-02T11:04:05+08:00","took":"2s"}')
    expect_eq "grpc-go: an offset timestamp comes back in UTC" '{"at":"2020-01-02T03:04:05Z","took":"2s"}' "$out"
    out=$("$WB" call "grpc://$G" stream.Counter/Count '{"n":3}')
    expect_eq "grpc-go: a server stream of a learned service, a message a line" "$(printf '{"n":1}\n{"n":2}\n{"n":3}')" "$out"
    out=$(printf '{"n":1}\n{"n":2}\n{"n":4}\n' | "$WB" call "grpc://$G" stream.Counter/Total @)
    expect_eq "grpc-go: a client stream from stdin, a message a line" '{"n":7}' "$out"
    out=$(printf '{"n":5}\n{"n":6}\n' | "$WB" call "grpc://$G" stream.Counter/Echo -d @)
    expect_eq "grpc-go: a bidi stream" "$(printf '{"n":5}\n{"n":6}')" "$out"
    out=$("$WB" call "grpc://$G" stream.Counter/Fail '{"n":1}' 2>&1); rc=$?
    expect_eq "grpc-go: an error status exits 1" "1" "$rc"
    expect_grep "grpc-go: its google.rpc.BadRequest detail, decoded in proto3's JSON" \
        '{"fieldViolations":[{"field":"n","description":"must be negative"}]}' "$out"
    out=$("$WB" call "grpc://$G" stream.Counter/Count '{"n":1}' -v -H 'x-who: libai' 2>&1)
    expect_grep "grpc-go: -v shows the peer's response header" "x-peer: go" "$out"
    expect_grep "grpc-go: and its trailer" "x-trailer: done" "$out"
    out=$("$WB" call "grpc://$G" pb.AddName/AddFunc '{"name":"x"}' --emit-defaults)
    expect_eq "grpc-go: --emit-defaults prints the zero values too" \
        '{"age":1,"name":"x 你好","p":null,"score":[],"w":"Monday"}' "$out"
    # found through a registry: the types from the first instance's reflection
    if etcd_start wbany "$TMP/etcd" "$TMP/etcd.log"; then
        PIDS="$PIDS $ETCD_PID"
        ETCDCTL_API=3 etcdctl --endpoints "$EP" put "students/$G" \
            "{\"Op\":0,\"Addr\":\"$G\",\"Metadata\":{\"protocol\":\"grpc\"}}" >/dev/null
        out=$("$WB" call "etcd://$EP/students" pb.AddName/AddFunc "$STUDENT" 2>"$TMP/err")
        expect_eq "grpc-go found in etcd: types from the instance's reflection" "$STUDENT_BACK" "$out"
        expect_grep "and it says so" "reflection v1alpha)" "$(cat "$TMP/err")"
    else
        bad "start etcd" "$(tail -n 5 "$TMP/etcd.log")"
    fi
    out=$("$WB" call "grpc://$G" pb.AddName/AddFunc "$STUDENT" --wire --color never)
    expect_grep "--wire names the fields of a service learned by reflection" 'name (string) = "李白"' "$out"
    expect_grep "--wire names the message type" "pb.Student" "$out"
fi

# --- grpc-js with reflection (serves v1)
any_node_start noderef --reflection; r=$?
if [ $r = 2 ]; then
    echo "SKIP grpc-js peer: $ANY_WHY"
elif [ $r = 0 ]; then
    N=$ADDR
    with_reflection grpc-js "$N"
    out=$("$WB" call "grpc://$N" pb.AddName/AddFunc '{}' 2>&1 >/dev/null)
    expect_grep "grpc-js: reflection v1 answers" "reflection v1)" "$out"
fi

# --- grpc-go without reflection: the files say what reflection cannot
any_go_start gonoref; r=$?
if [ $r = 0 ]; then
    G=$ADDR
    out=$("$WB" call "grpc://$G" pb.AddName/AddFunc "$STUDENT" 2>&1); rc=$?
    expect_grep "no reflection: the error says so" "no reflection" "$out"
    expect_grep "and points at --proto" "--proto" "$out"
    out=$("$WB" call "grpc://$G" pb.AddName/AddFunc "$STUDENT" --proto "$D/student.proto")
    expect_eq "--proto student.proto: AddFunc" "$STUDENT_BACK" "$out"
    out=$(cd "$D" && "$WB" call "grpc://$G" sum/add '{"num1":2,"num2":3}' --proto sum.proto)
    expect_eq "--proto sum.proto, relative, no -I" '{"res":5}' "$out"
    out=$("$WB" call "grpc://$G" sum/add '{"num1":2,"num2":3}' -I "$D" --proto sum.proto)
    expect_eq "-I DIR --proto sum.proto" '{"res":5}' "$out"
    out=$("$WB" call "grpc://$G" pb.AddName/AddFunc "$STUDENT" --protoset "$ANY_DESC")
    expect_eq "--protoset: AddFunc" "$STUDENT_BACK" "$out"
    out=$("$WB" call "grpc://$G" pb.AddName/Nope '{}' --proto "$D/student.proto" 2>&1); rc=$?
    expect_grep "a method the files lack is sent anyway: UNIMPLEMENTED" "UNIMPLEMENTED" "$out"
    expect_grep "after saying the files do not describe it" "(pb.AddName/Nope is in none of the given files)" "$out"
fi
out=$("$WB" list --proto "$D/student.proto" --proto "$D/sum.proto")
expect_eq "list with --proto files and no server" "$(printf 'pb.AddName\nsum')" "$out"
out=$("$WB" describe --proto "$D/student.proto" pb.Week)
expect_grep "describe an enum from a .proto file" "Tuesday = 2;" "$out"
out=$("$WB" describe --protoset "$ANY_DESC" stream.Counter.Count)
expect_grep "describe a streaming method from a protoset" "rpc Count ( .stream.N ) returns ( stream .stream.N );" "$out"
printf 'syntax = "proto3";\nmessage Broken { int32 a = 1 }\n' >"$TMP/broken.proto"
out=$("$WB" list --proto "$TMP/broken.proto" 2>&1); rc=$?
expect_eq "a .proto with a mistake is a usage error" "2" "$rc"
expect_grep "with protoc's own words, file and line" "broken.proto:2" "$out"
out=$("$WB" describe --proto "$D/student.proto" pb.Nothing 2>&1); rc=$?
expect_eq "describe a symbol the files lack exits 1" "1" "$rc"

# --- our own server: compiled-in methods need no reflection, and list/describe work on it
start grpc "$BIN/grpc-server" --listen 127.0.0.1:0 || { summary; exit 1; }
out=$("$WB" list "grpc://$ADDR")
expect_grep "our server lists reflection v1 and v1alpha" "grpc.reflection.v1.ServerReflection
grpc.reflection.v1alpha.ServerReflection" "$out"
out=$("$WB" describe "grpc://$ADDR" helloworld.Greeter)
expect_grep "describe our Greeter" "rpc SayHello ( .helloworld.HelloRequest ) returns ( .helloworld.HelloReply );" "$out"

summary
