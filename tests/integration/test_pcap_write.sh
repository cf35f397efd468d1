# test_pcap_write.sh -- the capture files `--pcap FILE` writes, read by tshark (Wireshark's
# dissectors, which nobody here wrote): `workbench call` over gRPC, JSON-RPC and gob,
# `compare` and a short `load`. tshark must read each file with no TCP analysis
# complaint and good checksums, reassemble exactly the bytes `call --wire` says went each
# way, and its http2/protobuf and JSON dissectors must agree with our explainer; gob has
# no dissector in tshark, so its bytes are compared.
# Needs tshark (SKIP without it); servers: bin/grpc-server, jsonrpc-server, gob-server.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"
export COLUMNS=1000
WB=$BIN/workbench

if ! command -v tshark >/dev/null; then
    echo "SKIP tshark is not installed (make test installs it)"
    summary
    exit 0
fi

start grpc "$BIN/grpc-server" --listen 127.0.0.1:0 || { summary; exit 1; }
G=$ADDR
start json "$BIN/jsonrpc-server" --listen 127.0.0.1:0 || { summary; exit 1; }
J=$ADDR
start gob "$BIN/gob-server" --listen 127.0.0.1:0 || { summary; exit 1; }
O=$ADDR

# tsh FILE ARGS...: tshark reading FILE with checksums checked, the servers' ports decoded
# as HTTP/2 (gRPC) and JSON, protobuf types from proto/ (and protobuf's own in /usr/include)
tsh() {
    local f=$1
    shift
    timeout 60 tshark -r "$f" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE \
        -d "tcp.port==$(port_of "$G"),http2" -d "tcp.port==$(port_of "$J"),json" \
        -o "uat:protobuf_search_paths:\"$ROOT/proto\",\"TRUE\"" \
        -o "uat:protobuf_search_paths:\"/usr/include\",\"FALSE\"" "$@" 2>/dev/null
}

# said_conns STDERR: N of "wrote N connection(s) to ..."
said_conns() { printf '%s\n' "$1" | sed -n 's/^wrote \([0-9]*\) connections\{0,1\} to .*/\1/p'; }

# well_formed NAME FILE: tshark reads FILE whole; no TCP analysis flag (retransmission,
# lost segment, duplicate ACK...); every IPv4 and TCP checksum verified good
well_formed() {
    local n
    n=$(tsh "$2" | wc -l)
    if [ "$n" -gt 0 ]; then ok "$1: tshark reads $n packets"; else bad "$1: tshark reads the file"; fi
    expect_eq "$1: no TCP analysis warnings" "" "$(tsh "$2" -Y tcp.analysis.flags)"
    expect_eq "$1: every checksum good" "" "$(tsh "$2" -Y 'tcp.checksum.status != 1 || ip.checksum.status != 1')"
}

# streams FILE: how many TCP connections tshark finds
streams() { tsh "$1" -T fields -e tcp.stream | sort -u | grep -c .; }

# payload FILE DIR PORT: one direction's bytes as hex, reassembled from tshark's TCP payloads
# (DIR dstport: what the client sent to PORT; srcport: what came back)
payload() { tsh "$1" -Y "tcp.len>0 && tcp.$2==$3" -T fields -e tcp.payload | tr -d '\n'; }

# dump_hex SECTION < DUMP: the bytes `--wire` shows under "── sent" or "── received", as hex
dump_hex() {
    perl -ne '
        BEGIN { $want = shift @ARGV }
        if (/^── (\S+) /) { $sec = $1; next }
        next unless defined $sec && $sec eq $want;
        if (/^([0-9a-f]{4,})  ((?:[0-9a-f]{2} ){0,7}[0-9a-f]{2})(?:  | *$)/) {
            my ($off, @h) = (hex $1, split / /, $2);
            $b{$off + $_} = $h[$_] for 0 .. $#h;
        }
        END { print map { $b{$_} } sort { $a <=> $b } keys %b }' "$1"
}
# dump_count SECTION < DUMP: the byte count in the section's title, "── sent (gRPC, 190 bytes) ──"
dump_count() { sed -n "s/^── $1 ([^,]*, \\([0-9]*\\) bytes) ──.*/\\1/p"; }

# same_bytes NAME FILE PORT DUMP: tshark's reassembled payloads are what --wire says went each way
same_bytes() {
    local d
    for d in "sent dstport" "received srcport"; do
        set -- "$1" "$2" "$3" "$4" $d
        local theirs ours count
        theirs=$(payload "$2" "$6" "$3")
        ours=$(dump_hex "$5" <"$4")
        count=$(dump_count "$5" <"$4")
        expect_eq "$1: tshark reassembles as many bytes as --wire says were $5" "$count" "$((${#theirs} / 2))"
        if [ -n "$ours" ] && [ "$theirs" = "$ours" ]; then
            ok "$1: the bytes $5 are those --wire shows"
        else
            bad "$1: the bytes $5 are those --wire shows" "tshark: $(printf '%s' "$theirs" | head -c 200)
--wire: $(printf '%s' "$ours" | head -c 200)"
        fi
    done
}

# ---- gRPC: two calls on one connection ----
F=$TMP/grpc.pcap
"$WB" call "grpc://$G" helloworld.Greeter/SayHello '{"name":"world"}' --repeat 2 --wire --color never \
    --pcap "$F" >"$TMP/grpc.dump" 2>"$TMP/call-grpc.err"
expect_eq "call grpc --pcap says what it wrote" \
    "wrote 1 connection to $F (open it in Wireshark, or: tshark -r $F)" "$(cat "$TMP/call-grpc.err")"
well_formed "gRPC" "$F"
expect_eq "gRPC: one TCP connection" 1 "$(streams "$F")"
same_bytes "gRPC" "$F" "$(port_of "$G")" "$TMP/grpc.dump"

P=$(port_of "$G")
# the HTTP/2 frames each way: type and stream id, in order
t_frames() { tsh "$F" -Y "tcp.len>0 && tcp.$1==$P" -T fields -E aggregator=' ' -e http2.type -e http2.streamid |
    awk -F'\t' '{ n = split($1, t, " "); split($2, s, " "); for (i = 1; i <= n; i++) print t[i] "/" s[i] }' |
    sed 's|^0/|DATA/|; s|^1/|HEADERS/|; s|^3/|RST_STREAM/|; s|^4/|SETTINGS/|; s|^6/|PING/|; s|^7/|GOAWAY/|; s|^8/|WINDOW_UPDATE/|'; }
o_frames() { perl -ne '
        BEGIN { $want = shift @ARGV }
        if (/^── (\S+) /) { $sec = $1; next }
        next unless defined $sec && $sec eq $want;
        push @t, $1 if /  type 0x0[0-9a-f] = ([A-Z_]+)/;
        push @s, $1 if /  stream id [0-9a-f ]+ = (\d+)/;
        END { print "$t[$_]/$s[$_]\n" for 0 .. $#t }' "$1" <"$TMP/grpc.dump"; }
for d in "dstport sent" "srcport received"; do
    set -- $d
    want=$(t_frames "$1")
    got=$(o_frames "$2")
    expect_eq "gRPC: tshark and we see the same frames $2 (type/stream)" "$want" "$got"
done
expect_grep "gRPC: the second call is stream 3" "HEADERS/3" "$(t_frames dstport)"

# every header field each way, decoded from HPACK, in order
t_headers() { tsh "$F" -Y "tcp.len>0 && tcp.$1==$P && http2.header" -T fields -E 'separator=|' -E 'aggregator=~' \
        -e http2.header.name -e http2.header.value |
    awk -F'|' '{ n = split($1, a, "~"); split($2, v, "~"); for (i = 1; i <= n; i++) print a[i] ": " v[i] }'; }
o_headers() { perl -ne '
        BEGIN { $want = shift @ARGV }
        if (/^── (\S+) /) { $sec = $1; next }
        next unless defined $sec && $sec eq $want;
        next unless /  hpack: header (.*)$/;
        my $h = $1;
        $h =~ s/(, sent as |; ).*//;
        print "$h\n"' "$1" <"$TMP/grpc.dump"; }
for d in "dstport sent" "srcport received"; do
    set -- $d
    want=$(t_headers "$1")
    expect_eq "gRPC: tshark and we decode the same header fields $2" "$want" "$(o_headers "$2")"
done
for h in ":path: /helloworld.Greeter/SayHello" "content-type: application/grpc"; do
    expect_eq "gRPC: tshark finds $h in both requests" 2 "$(t_headers dstport | grep -cxF "$h")"
done
expect_eq "gRPC: tshark finds grpc-status: 0 in both replies" 2 "$(t_headers srcport | grep -cxF "grpc-status: 0")"

# the protobuf fields of the requests and the replies
t_fields() { tsh "$F" -V -Y "grpc && tcp.$1==$P" | sed -n 's/^ *Field([0-9]*): \([a-z_]*\) = \(.*\) (string)$/\1 = \2/p'; }
o_fields() { perl -ne '
        BEGIN { $want = shift @ARGV }
        if (/^── (\S+) /) { $sec = $1; next }
        next unless defined $sec && $sec eq $want;
        print "$1 = $2\n" if /pb: field \d+ (\w+) \(string\) = "(.*)"$/' "$1" <"$TMP/grpc.dump"; }
expect_eq "gRPC: tshark reads the requests' fields" "$(printf 'name = world\nname = world')" "$(t_fields dstport)"
expect_eq "so do we" "$(t_fields dstport)" "$(o_fields sent)"
expect_eq "gRPC: tshark reads the replies' fields" "$(printf 'message = Hello world\nmessage = Hello world')" \
    "$(t_fields srcport)"
expect_eq "so do we" "$(t_fields srcport)" "$(o_fields received)"

# ---- JSON-RPC: two calls on one connection ----
F=$TMP/json.pcap
P=$(port_of "$J")
"$WB" call "json://$J" Arith.Multiply '{"A":7,"B":8}' --repeat 2 --wire --color never --pcap "$F" \
    >"$TMP/json.dump" 2>"$TMP/call-json.err"
expect_eq "call json --pcap: one connection" 1 "$(said_conns "$(cat "$TMP/call-json.err")")"
well_formed "JSON-RPC" "$F"
expect_eq "JSON-RPC: one TCP connection" 1 "$(streams "$F")"
same_bytes "JSON-RPC" "$F" "$P" "$TMP/json.dump"
# tshark's JSON dissector on the raw TCP payloads: member: value, each message in order
t_members() { tsh "$F" -Y "json && tcp.$1==$P" -T fields -E aggregator='~' -e json.member_with_value | tr '~' '\n'; }
# ours, from the explanation: method "M", id N, A = 7 (number), key "result" then its
# value, error: null
o_members() { perl -ne '
        BEGIN { $want = shift @ARGV }
        if (/^── (\S+) /) { $sec = $1; next }
        next unless defined $sec && $sec eq $want;
        if (/  method "(.*?)": /) { print "method:$1\n" }
        elsif (/  (\w+) = (.*) \((?:number|string|bool)\)$/) { print "$1:$2\n" }
        elsif (/  id (\d+): /) { print "id:$1\n" }
        elsif (/  key "result": /) { $key = "result" }
        elsif (defined $key && /  number (\S+)$/) { print "$key:$1\n"; undef $key }
        elsif (/  error: null/) { print "error:null\n" }' "$1" <"$TMP/json.dump"; }
want=$(printf '%s\n' method:Arith.Multiply A:7 B:8 id:0 method:Arith.Multiply A:7 B:8 id:1)
expect_eq "JSON-RPC: tshark's JSON dissector reads the requests" "$want" "$(t_members dstport)"
expect_eq "so does our explainer" "$want" "$(o_members sent)"
want=$(printf '%s\n' id:0 result:56 error:null id:1 result:56 error:null)
expect_eq "JSON-RPC: tshark's JSON dissector reads the replies" "$want" "$(t_members srcport)"
expect_eq "so does our explainer" "$want" "$(o_members received)"

# a call over 32 KiB each way: segments of at most 32 KiB, reassembled whole
F=$TMP/json-big.pcap
name=$(head -c 100000 /dev/zero | tr '\0' 'x')
"$WB" call "json://$J" hello.HelloWorld "\"$name\"" --wire --color never --pcap "$F" \
    >"$TMP/big.dump" 2>"$TMP/call-big.err"
well_formed "JSON-RPC, 100 kB" "$F"
lens=$(tsh "$F" -Y "tcp.len>0" -T fields -e tcp.len | sort -n | uniq -c | awk '{ print $2 "x" $1 }' | tr '\n' ' ')
expect_eq "JSON-RPC, 100 kB: the largest segments are 32 KiB" 32768 "$(tsh "$F" -Y "tcp.len>0" -T fields -e tcp.len | sort -n | tail -n 1)"
for d in "sent dstport" "received srcport"; do
    set -- $d
    expect_eq "JSON-RPC, 100 kB: tshark's bytes $1 add up to --wire's count (segments: $lens)" \
        "$(dump_count "$1" <"$TMP/big.dump")" "$(($(payload "$F" "$2" "$P" | wc -c) / 2))"
done

# ---- gob: no dissector in tshark, so the bytes themselves ----
F=$TMP/gob.pcap
"$WB" call "gob://$O" Arith.Multiply '{"A":7,"B":8}' --repeat 2 --wire --color never --pcap "$F" \
    >"$TMP/gob.dump" 2>"$TMP/call-gob.err"
expect_eq "call gob --pcap: one connection" 1 "$(said_conns "$(cat "$TMP/call-gob.err")")"
well_formed "gob" "$F"
expect_eq "gob: one TCP connection" 1 "$(streams "$F")"
same_bytes "gob" "$F" "$(port_of "$O")" "$TMP/gob.dump"

# ---- an unwritable FILE is refused before any call ----
out=$("$WB" call "json://127.0.0.1:1" Arith.Multiply '{"A":7,"B":8}' --pcap "$TMP/no/such/dir/x.pcap" 2>&1)
rc=$?
expect_eq "an unwritable --pcap is bad usage" 2 "$rc"
expect_eq "and says why, before trying the call (port 1 refuses)" \
    "workbench call: --pcap $TMP/no/such/dir/x.pcap: No such file or directory" "$out"
out=$("$WB" compare Arith.Multiply '{}' --pcap "$TMP" 2>&1)
expect_eq "compare refuses a directory" "workbench compare: --pcap $TMP: Is a directory" "$out"

# ---- compare: three connections, two calls each ----
F=$TMP/compare.pcap
"$WB" compare Arith.Multiply '{"A":7,"B":8}' --gob "gob://$O" --json "json://$J" --grpc "grpc://$G" \
    --no-dump --color never --pcap "$F" >"$TMP/compare.out" 2>"$TMP/compare.err"
expect_eq "compare --pcap: three connections" 3 "$(said_conns "$(cat "$TMP/compare.err")")"
well_formed "compare" "$F"
expect_eq "compare: tshark finds three TCP connections" 3 "$(streams "$F")"
expect_eq "compare: one to each server" \
    "$(printf '%s\n' "$(port_of "$G")" "$(port_of "$J")" "$(port_of "$O")" | sort -n)" \
    "$(tsh "$F" -Y 'tcp.flags.syn==1 && tcp.flags.ack==0' -T fields -e tcp.dstport | sort -n)"
expect_eq "compare: two gRPC calls to /arith.Arith/Multiply" 2 \
    "$(tsh "$F" -Y 'http2.headers.path == "/arith.Arith/Multiply"' -T fields -e frame.number | grep -c .)"
expect_eq "compare: two JSON-RPC calls of Arith.Multiply" 2 \
    "$(tsh "$F" -Y 'json.member_with_value == "method:Arith.Multiply"' -T fields -e frame.number | grep -c .)"

# ---- load: as many connections as it dialled ----
F=$TMP/load.pcap
timeout 60 "$WB" load --service pcapw --codec json --registry static --spawn 2 --rate 40 --duration 1 \
    --pcap "$F" >"$TMP/load.out" 2>"$TMP/load.err"
n=$(said_conns "$(cat "$TMP/load.err")")
calls=$(sed -n 's/^  \([0-9]*\) calls, .*/\1/p' "$TMP/load.out")
expect_eq "load --pcap: one connection to each of the 2 instances" 2 "$n"
well_formed "load" "$F"
expect_eq "load: tshark finds as many TCP connections as the load dialled" "$n" "$(streams "$F")"
tsh "$F" -Y 'tcp.flags.syn==1 && tcp.flags.ack==0' -T fields -e tcp.dstport | sort -u >"$TMP/load.ports"
sent=$(tsh "$F" -Y "tcp.len>0" -T fields -e tcp.dstport | grep -cxFf "$TMP/load.ports")
if [ -n "$calls" ] && [ "$calls" -gt 0 ]; then ok "load made $calls calls"; else bad "load made calls" "$(cat "$TMP/load.out" "$TMP/load.err")"; fi
expect_eq "load: one request segment per call" "$calls" "$sent"

# ---- --help fits 80 columns, in both languages ----
for lang in en zh; do
    for cmd in call compare load; do
        wide=$(COLUMNS=80 "$WB" --lang $lang $cmd --help 2>&1 | perl -CSD -Mutf8 -ne '
            chomp; my $w = 0;
            $w += /\p{East_Asian_Width=Wide}|\p{East_Asian_Width=Fullwidth}/ ? 2 : 1 for split //;
            print "$w: $_\n" if $w > 80')
        expect_eq "$cmd --help fits 80 columns ($lang)" "" "$wide"
    done
    expect_grep "$lang: --help names --pcap" "--pcap FILE" "$("$WB" --lang $lang load --help)"
done

summary
