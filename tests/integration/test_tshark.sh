# test_tshark.sh -- cross-checks the gRPC explainer against a decoder nobody here wrote:
# Wireshark's http2, grpc and protobuf dissectors (tshark), on a capture of real calls.
# The same bytes go through both: tshark reads the capture, and the TCP payloads it
# extracts are handed to `workbench explain grpc`.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"
export COLUMNS=1000

if ! command -v tshark >/dev/null; then
    echo "SKIP tshark is not installed (make test installs it)"
    summary
    exit 0
fi
start grpc "$BIN/grpc-server" --listen 127.0.0.1:0 || { summary; exit 1; }
G=$ADDR
P=$(port_of "$G")
cap="$TMP/calls.pcap"
timeout 20 tshark -i lo -f "tcp port $P" -w "$cap" >"$TMP/tshark.log" 2>&1 &
tpid=$!
i=0
while ! grep -q "Capture started\|Capturing on" "$TMP/tshark.log" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
sleep 0.3
if ! kill -0 "$tpid" 2>/dev/null; then
    echo "SKIP tshark cannot capture on the loopback interface here: $(tail -n 1 "$TMP/tshark.log")"
    summary
    exit 0
fi
"$BIN/workbench" call "grpc://$G" helloworld.Greeter/SayHello '{"name":"world"}' --repeat 2 >/dev/null
sleep 1
kill -INT "$tpid"
wait "$tpid" 2>/dev/null

# tshark's reading of the capture
tsh() { tshark -r "$cap" -d "tcp.port==$P,http2" -o "uat:protobuf_search_paths:\"$ROOT/proto\",\"TRUE\"" "$@" 2>/dev/null; }
# the two directions' bytes, reassembled from the TCP payloads tshark extracts
payload() { tsh -Y "tcp.len>0 && tcp.$1==$P" -T fields -e tcp.payload | perl -ne 'chomp; print pack("H*", $_)'; }
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

summary
