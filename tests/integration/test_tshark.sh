# test_tshark.sh -- cross-checks the gRPC explainer against a decoder nobody here wrote:
# Wireshark's http2, grpc and protobuf dissectors (tshark), on a capture of real calls.
# The same bytes go through both: tshark reads the capture, and the TCP payloads it
# extracts are handed to `workbench explain grpc`.
# Part 1: the compiled-in Greeter against our grpc-server. Part 2: tutorial 001's
# pb.AddName and sum, which the workbench is not built with, against a grpc-go peer; both
# decoders get the same .proto files.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"
. "$ROOT/tests/integration/any_protos.sh"
export COLUMNS=1000

if ! command -v tshark >/dev/null; then
    echo "SKIP tshark is not installed (make test installs it)"
    summary
    exit 0
fi
# capture_start PORT FILE: tshark records the loopback traffic of PORT into FILE (at most
# 20 s); returns 1 when it cannot capture here. capture_stop ends it once the last
# packets are written.
capture_start() {
    timeout 20 tshark -i lo -f "tcp port $1" -w "$2" >"$TMP/tshark-$1.log" 2>&1 &
    tpid=$!
    i=0
    while ! grep -q "Capture started\|Capturing on" "$TMP/tshark-$1.log" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    sleep 0.3
    kill -0 "$tpid" 2>/dev/null || { CAP_WHY=$(tail -n 1 "$TMP/tshark-$1.log"); return 1; }
}
capture_stop() {
    sleep 1
    kill -INT "$tpid"
    wait "$tpid" 2>/dev/null
}

start grpc "$BIN/grpc-server" --listen 127.0.0.1:0 || { summary; exit 1; }
G=$ADDR
P=$(port_of "$G")
cap="$TMP/calls.pcap"
if ! capture_start "$P" "$cap"; then
    echo "SKIP tshark cannot capture on the loopback interface here: $CAP_WHY"
    summary
    exit 0
fi
"$BIN/workbench" call "grpc://$G" helloworld.Greeter/SayHello '{"name":"world"}' --repeat 2 >/dev/null
capture_stop

# tshark's reading of the capture $cap of port $P, with the .proto files of $PROTO_PATH
# (protobuf's own from /usr/include)
PROTO_PATH=$ROOT/proto
tsh() { tshark -r "$cap" -d "tcp.port==$P,http2" -o "uat:protobuf_search_paths:\"$PROTO_PATH\",\"TRUE\"" \
    -o "uat:protobuf_search_paths:\"/usr/include\",\"FALSE\"" "$@" 2>/dev/null; }
# payload DIR [FILTER]: one direction's bytes (DIR dstport: the client's, srcport: the
# server's), reassembled from the TCP payloads tshark extracts
payload() { tsh -Y "tcp.len>0 && tcp.$1==$P${2:+ && $2}" -T fields -e tcp.payload | perl -ne 'chomp; print pack("H*", $_)'; }
payload dstport >"$TMP/c2s.bin"
payload srcport >"$TMP/s2c.bin"
expect_eq "tshark saw the client's preface" "PRI * HTTP/2.0" "$(head -c 14 "$TMP/c2s.bin")"

ours_c=$("$BIN/workbench" explain grpc --request --color never "$TMP/c2s.bin")
ours_s=$("$BIN/workbench" explain grpc --reply --path /helloworld.Greeter/SayHello --color never "$TMP/s2c.bin")
expect_no_grep "our explainer understands every byte tshark captured (client)" "not valid" "$ours_c"
expect_no_grep "our explainer understands every byte tshark captured (server)" "not valid" "$ours_s"

# 1. the frame types, in order, each direction
frame_names() { tsh -Y "tcp.len>0 && tcp.$1==$P" -T fields -e http2.type | tr ',' '\n' | grep -v '^$' |
    sed 's/^0$/DATA/; s/^1$/HEADERS/; s/^3$/RST_STREAM/; s/^4$/SETTINGS/; s/^6$/PING/; s/^7$/GOAWAY/; s/^8$/WINDOW_UPDATE/' | tr '\n' ' '; }
ours_frames() { echo "$1" | sed -n 's/.* type 0x0[0-9] = \([A-Z_]*\).*/\1/p' | tr '\n' ' '; }
expect_eq "frame types agree with tshark (client to server)" "$(frame_names dstport)" "$(ours_frames "$ours_c")"
expect_eq "frame types agree with tshark (server to client)" "$(frame_names srcport)" "$(ours_frames "$ours_s")"

# 2. every header field, decoded from HPACK
# (occurrences joined by ~: a value such as "identity,gzip" has commas of its own)
tshark_headers() { tsh -Y "tcp.len>0 && tcp.$1==$P && http2.header" -T fields -E 'separator=|' -E 'aggregator=~' \
        -e http2.header.name -e http2.header.value |
    awk -F'|' '{ n = split($1, a, "~"); split($2, v, "~"); for (i = 1; i <= n; i++) print a[i] ": " v[i] }'; }
ours_headers() { echo "$1" | sed -n 's/.*hpack: header \([^;]*\);.*/\1/p; s/.*hpack: header \([^;]*\)$/\1/p' | sed 's/, sent as .*//'; }
for h in ":path: /helloworld.Greeter/SayHello" "content-type: application/grpc" "te: trailers" "grpc-timeout: 5000m"; do
    expect_grep "tshark decodes the request header $h" "$h" "$(tshark_headers dstport)"
    expect_grep "so do we: $h" "$h" "$(ours_headers "$ours_c")"
done
for h in ":status: 200" "grpc-accept-encoding: identity,gzip" "grpc-status: 0"; do
    expect_grep "tshark decodes the reply header $h" "$h" "$(tshark_headers srcport)"
    expect_grep "so do we: $h" "$h" "$(ours_headers "$ours_s")"
done

# 3. the gRPC message lengths and the protobuf fields inside
t_len=$(tsh -Y "grpc" -T fields -e grpc.message_length | tr '\n' ' ')
expect_eq "tshark finds four gRPC messages (two calls)" "7 13 7 13 " "$t_len"
expect_grep "we give the request message length 7" "message length 00 00 00 07 = 7" "$ours_c"
expect_grep "we give the reply message length 13" "message length 00 00 00 0d = 13" "$ours_s"
t_pb=$(tsh -V -Y grpc | grep -E 'Field\(1\)')
expect_grep "tshark: HelloRequest.name = world" "name = world (string)" "$t_pb"
expect_grep "tshark: HelloReply.message = Hello world" "message = Hello world (string)" "$t_pb"
expect_grep "we: HelloRequest.name = \"world\"" 'name (string) = "world"' "$ours_c"
expect_grep "we: HelloReply.message = \"Hello world\"" 'message (string) = "Hello world"' "$ours_s"

# Part 2: tutorial 001's services, which the workbench is not built with, served by grpc-go
# (dynamicpb); both decoders read the types from the same .proto files.
part2() {
    if ! any_protos "$TMP/any"; then
        echo "SKIP part 2: $ANY_WHY (make test installs it)"
        return
    fi
    any_go_start gopeer
    case $? in
        2) echo "SKIP part 2: $ANY_WHY (make test installs it)"; return ;;
        1) return ;;
    esac
    G=$ADDR
    P=$(port_of "$G")
    cap="$TMP/any.pcap"
    PROTO_PATH=$ANY_DIR
    if ! capture_start "$P" "$cap"; then
        echo "SKIP part 2: tshark cannot capture on the loopback interface here: $CAP_WHY"
        return
    fi
    # every field of Student, a name beyond ASCII, a weight that takes a 2-byte varint
    out=$("$BIN/workbench" call "grpc://$G" pb.AddName/AddFunc \
        '{"age":20,"name":"李白","p":{"weight":150},"score":[90,80],"w":"Tuesday","teacher":"杜甫"}' \
        --proto "$ANY_DIR/student.proto" 2>&1)
    expect_eq "the grpc-go peer answers AddFunc" \
        '{"age":21,"name":"李白 你好","p":{"weight":150},"score":[90,80],"w":"Tuesday","teacher":"杜甫"}' "$out"
    out=$("$BIN/workbench" call "grpc://$G" sum/add '{"num1":3,"num2":4}' --proto "$ANY_DIR/sum.proto" 2>&1)
    expect_eq "the grpc-go peer answers sum/add" '{"res":7}' "$out"
    capture_stop

    # each call is a connection of its own: tshark's stream index of each
    local s_stu s_sum
    s_stu=$(tsh -Y 'http2.headers.path == "/pb.AddName/AddFunc"' -T fields -e tcp.stream | head -n 1)
    s_sum=$(tsh -Y 'http2.headers.path == "/sum/add"' -T fields -e tcp.stream | head -n 1)
    if [ -z "$s_stu" ] || [ -z "$s_sum" ]; then
        bad "tshark finds both calls in the capture" "$(tsh -Y http2 | head -n 20)"
        return
    fi
    payload dstport "tcp.stream==$s_stu" >"$TMP/stu-c2s.bin"
    payload srcport "tcp.stream==$s_stu" >"$TMP/stu-s2c.bin"
    payload dstport "tcp.stream==$s_sum" >"$TMP/sum-c2s.bin"
    payload srcport "tcp.stream==$s_sum" >"$TMP/sum-s2c.bin"

    local wb="$BIN/workbench" sp="$ANY_DIR/student.proto" up="$ANY_DIR/sum.proto"
    ours_c=$("$wb" explain grpc --request --proto "$sp" --color never "$TMP/stu-c2s.bin")
    ours_s=$("$wb" explain grpc --reply --path /pb.AddName/AddFunc --proto "$sp" --color never "$TMP/stu-s2c.bin")
    sum_c=$("$wb" explain grpc --request --proto "$up" --color never "$TMP/sum-c2s.bin")
    sum_s=$("$wb" explain grpc --reply --path /sum/add --proto "$up" --color never "$TMP/sum-s2c.bin")
    bare_c=$("$wb" explain grpc --request --color never "$TMP/stu-c2s.bin")
    bare_s=$("$wb" explain grpc --reply --color never "$TMP/stu-s2c.bin")

    # 2a. our explainer alone: with --proto it names every field; without, it names none
    for x in "$ours_c" "$ours_s" "$sum_c" "$sum_s" "$bare_c" "$bare_s"; do
        expect_no_grep "our explainer understands every byte of the grpc-go call" "not valid" "$x"
    done
    expect_grep "--proto: the request is a pb.Student" "5-byte prefix: pb.Student" "$ours_c"
    expect_grep "--proto: age" "pb: field 1 age (int32) = 20" "$ours_c"
    expect_grep "--proto: name" 'pb: field 2 name (string) = "李白"' "$ours_c"
    expect_grep "--proto: p, a pb.People" "pb: field 3 p (pb.People): a nested message" "$ours_c"
    expect_grep "--proto: p.weight" "field 1 weight (int32) = 150" "$ours_c"
    expect_grep "--proto: score, packed" "pb: field 4 score (repeated int32), packed" "$ours_c"
    expect_grep "--proto: score[1]" "score[1] = 80" "$ours_c"
    expect_grep "--proto: w by its enum name" "pb: field 5 w (pb.Week) = Tuesday (2)" "$ours_c"
    expect_grep "--proto: teacher, the oneof's member" 'pb: field 6 teacher (string) = "杜甫"' "$ours_c"
    expect_grep "--proto --path: the reply is a pb.Student" "5-byte prefix: pb.Student" "$ours_s"
    expect_grep "--proto --path: the reply's name" 'pb: field 2 name (string) = "李白 你好"' "$ours_s"
    expect_grep "--proto: sum/add's request is a req" "5-byte prefix: req" "$sum_c"
    expect_grep "--proto: req.num2" "pb: field 2 num2 (int32) = 4" "$sum_c"
    expect_grep "--proto --path: reply.res" "pb: field 3 res (int32) = 7" "$sum_s"
    for x in "$bare_c" "$bare_s"; do
        expect_no_grep "without --proto no type is named" "pb.Student" "$x"
        expect_no_grep "without --proto no field is named" "field 1 age" "$x"
        expect_grep "without --proto the fields go by number" "pb: field 1 = 2" "$x"
        expect_grep "without --proto the strings are guessed, and said to be" "without a schema the wire does not say" "$x"
    done
    expect_grep "without --proto the method is unknown" ":path: /pb.AddName/AddFunc; gRPC: the method to call, as /package.Service/Method (not one the workbench knows)" "$bare_c"
    expect_eq "without --proto the gRPC message has no type, and says what would give it" \
        "grpc: gRPC message 1 on stream 1, 29 bytes after its 5-byte prefix, of a type the workbench does not know (--proto FILE or --protoset FILE describes it)" \
        "$(printf '%s\n' "$bare_c" | sed -n 's/.*\(grpc: gRPC message .*\)$/\1/p')"

    # 2b. tshark and we, field by field: each decoder's fields as sorted "path = value"
    # lines (nested fields as p.weight, each packed element as score[i], enums by name)
    local want_c want_s
    want_c=$(printf '%s\n' "age = 20" "name = 李白" "p.weight = 150" "score[0] = 90" "score[1] = 80" "teacher = 杜甫" "w = Tuesday")
    want_s=$(printf '%s\n' "age = 21" "name = 李白 你好" "p.weight = 150" "score[0] = 90" "score[1] = 80" "teacher = 杜甫" "w = Tuesday")
    expect_eq "tshark reads the request's fields" "$want_c" "$(tshark_fields dstport "$s_stu")"
    expect_eq "so do we" "$want_c" "$(printf '%s\n' "$ours_c" | our_fields)"
    expect_eq "tshark reads the reply's fields" "$want_s" "$(tshark_fields srcport "$s_stu")"
    expect_eq "so do we" "$want_s" "$(printf '%s\n' "$ours_s" | our_fields)"
    expect_eq "tshark reads sum/add's request" "$(printf '%s\n' "num1 = 3" "num2 = 4")" "$(tshark_fields dstport "$s_sum")"
    expect_eq "so do we" "$(printf '%s\n' "num1 = 3" "num2 = 4")" "$(printf '%s\n' "$sum_c" | our_fields)"
    expect_eq "tshark reads sum/add's reply" "res = 7" "$(tshark_fields srcport "$s_sum")"
    expect_eq "so do we" "res = 7" "$(printf '%s\n' "$sum_s" | our_fields)"

    # the message types and the gRPC prefix's lengths
    local x t_type t_len o_type o_len
    for x in "dstport $s_stu ours_c pb.Student" "srcport $s_stu ours_s pb.Student" \
        "dstport $s_sum sum_c req" "srcport $s_sum sum_s reply"; do
        set -- $x
        t_type=$(tsh -Y "grpc && tcp.stream==$2 && tcp.$1==$P" -T fields -e protobuf.message.name | cut -d, -f1)
        t_len=$(tsh -Y "grpc && tcp.stream==$2 && tcp.$1==$P" -T fields -e grpc.message_length)
        o_type=$(printf '%s\n' "${!3}" | sed -n 's/.*grpc: gRPC message 1 on stream 1, .* after its 5-byte prefix: \(.*\)$/\1/p')
        o_len=$(printf '%s\n' "${!3}" | sed -n 's/.*message length [0-9a-f ]* = \([0-9]*\).*/\1/p')
        expect_eq "tshark takes the message for $4 ($1)" "$4" "$t_type"
        expect_eq "so do we ($1)" "$4" "$o_type"
        if [ -n "$t_len" ]; then expect_eq "the gRPC prefix's length agrees with tshark's ($4, $t_len bytes)" "$t_len" "$o_len"
        else bad "tshark finds the gRPC message of $4 ($1)"; fi
    done
}

# tshark_fields DIR STREAM: the protobuf fields tshark decodes in one direction of one
# connection. Its tree: "Field(3): p  (message)" opens a nested message (by indentation),
# "Field(4): score = [ 90 (int32), 80 (int32)]" is a packed repeated field,
# "Field(5): w = Tuesday(2) (enum)", "Field(2): name = 李白 (string)".
tshark_fields() {
    tsh -V -Y "grpc && tcp.stream==$2 && tcp.$1==$P" | perl -CSD -ne '
        chomp;
        if (/^Protocol Buffers:/) { $in = 1; @s = (); next }
        $in = 0 if /^\S/;
        next unless $in && /^(\s*)Field\(\d+\): (\S+) (.*)$/;
        my ($col, $name, $rest) = (length $1, $2, $3);
        pop @s while @s && $s[-1][0] >= $col;
        my $path = join("", map { "$_->[1]." } @s) . $name;
        if ($rest eq " (message)") { push @s, [$col, $name]; next }
        if ($rest =~ /^= \[ ?(.*)\]$/) {
            my @e = split /, /, $1;
            for my $i (0 .. $#e) { (my $v = $e[$i]) =~ s/ \(\w+\)$//; print "$path\[$i\] = $v\n" }
        } elsif ($rest =~ /^= (.*) \((\w+)\)$/) {
            my ($v, $type) = ($1, $2);
            $v =~ s/\(-?\d+\)$// if $type eq "enum";
            print "$path = $v\n";
        }' | LC_ALL=C sort
}

# our_fields: the same from our explanation on stdin. Its summary lines:
# "[2 bytes]  pb: field 1 age (int32) = 20", "pb: field 3 p (pb.People): a nested message
# of 2 bytes" whose fields follow further indented, "pb: field 4 score (repeated int32),
# packed: ..." whose elements follow on byte lines "score[0] = 90: varint ...",
# "pb: field 5 w (pb.Week) = Tuesday (2)", strings quoted.
our_fields() {
    perl -CSD -ne '
        chomp;
        if (/^([0-9a-f]{4,}  \[\d+ bytes?\] +)(?:pb: )?field \d+ (\S+) \(([^)]*)\)(.*)$/) {
            my ($col, $name, $type, $rest) = (length $1, $2, $3, $4);
            pop @s while @s && $s[-1][0] >= $col;
            my $path = join("", map { "$_->[1]." } @s) . $name;
            if ($rest =~ /^: a nested message/) { push @s, [$col, $name]; next }
            if ($rest =~ /^, packed/) { $packed = $path; $leaf = $name; next }
            if ($rest =~ /^ = (.*)$/) {
                my $v = $1;
                $v =~ s/ \(-?\d+\)$// unless $v =~ s/^"(.*)"$/$1/;
                print "$path = $v\n";
            }
        } elsif (defined $leaf && /\s\Q$leaf\E\[(\d+)\] = ([^:]+):/) {
            print "$packed\[$1\] = $2\n";
        }' | LC_ALL=C sort
}

part2
summary
