# test_call_registry.sh -- `workbench call` finding its server in a registry: a real etcd
# (Debian's etcd-server) and a real Consul agent in dev mode (bin/consul), with its DNS
# interface on a free port, each holding two registered servers; the DNS backend agreeing
# with dig (bind9-dnsutils); and registering through DNS refused.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"
trap 'exit 130' INT TERM

ARGS='{"A":7,"B":8}'
expect_rc() { # expect_rc NAME WANT GOT TEXT
    if [ "$2" = "$3" ]; then ok "$1"; else bad "$1" "exit status $3, want $2: $(excerpt "$4")"; fi
}
# call OUT ARGS...: workbench call, its stdout into $OUT, stderr into $ERR, status into $RC
call() {
    OUT=$("$BIN/workbench" call "$@" 2>"$TMP/call.err")
    RC=$?
    ERR=$(cat "$TMP/call.err")
}
kill9() { kill -KILL "$1" 2>/dev/null; wait "$1" 2>/dev/null; } # no "Killed" notice
count_lines() { "$BIN/workbench" registry "$1" "$2" 2>/dev/null | grep -c "$2" || true; }

# ---------------- etcd ----------------
if etcd_start wbcall "$TMP/etcd" "$TMP/etcd.log"; then
    PIDS="$PIDS $ETCD_PID"
    E=etcd://$EP
    start j1 "$BIN/jsonrpc-server" --listen 127.0.0.1:0 --registry "$E" --service arith --ttl 5 && J1=$ADDR
    start j2 "$BIN/jsonrpc-server" --listen 127.0.0.1:0 --registry "$E" --service arith --ttl 5 && J2=$ADDR
    two_arith() { [ "$(count_lines "$E" arith)" = 2 ]; }
    wait_until 5 two_arith || bad "etcd: two jsonrpc-servers registered" "$("$BIN/workbench" registry "$E" 2>&1)"
    call "$E/arith" Arith.Multiply "$ARGS" -n 2
    expect_eq "etcd: workbench call etcd://…/arith answers" 56 "$OUT"
    expect_grep "etcd: it says what the registry lists" "lists 2 instance(s) of arith, speaking JSON-RPC" "$ERR"
    expect_grep "etcd: and which instance answered (the first)" "answered by ${J1:-?}" "$ERR"
    expect_grep "etcd: round robin: the second answered too" "answered by ${J2:-?}" "$ERR"
    call "$E/arith" Arith.Multiply "$ARGS" --wire --color never
    expect_grep "etcd: --wire explains the bytes of the connection used" "sent (JSON-RPC" "$OUT"
    expect_grep "etcd: --wire names that connection" "Connection to 127.0.0.1:" "$OUT"
    call "$E/nosuch" Arith.Multiply "$ARGS"
    expect_rc "etcd: an unknown service fails as a call does (exit 3)" 3 "$RC" "$ERR"
    expect_grep "etcd: and says so, with the services there are" "has no service nosuch" "$ERR"
    expect_grep "etcd: (the services there are)" "(it knows: arith" "$ERR"
    start g1 "$BIN/grpc-server" --listen 127.0.0.1:0 --registry "$E" --service greet --ttl 5
    one_greet() { [ "$(count_lines "$E" greet)" = 1 ]; }
    wait_until 5 one_greet
    call "$E/greet" helloworld.Greeter/SayHello '{"name":"李白"}'
    expect_eq "etcd: a gRPC server found in etcd answers" '{"message":"Hello 李白"}' "$OUT"
    expect_grep "etcd: over the protocol its entry says" "speaking gRPC" "$ERR"
    call "etcd://127.0.0.1:$(free_port)/arith" Arith.Multiply "$ARGS"
    expect_rc "etcd: a registry that cannot be reached fails the call (exit 3)" 3 "$RC" "$ERR"
    expect_grep "etcd: and says so" "cannot reach the registry" "$ERR"
    call "$E" Arith.Multiply "$ARGS"
    expect_rc "etcd: a URL without the service is bad usage (exit 2)" 2 "$RC" "$ERR"
    expect_grep "etcd: which says where the name goes" "name the service after the registry" "$ERR"
    printf 'root:pw\n' >"$TMP/user"
    chmod 644 "$TMP/user"
    call "$E/arith" Arith.Multiply "$ARGS" --registry-user-file "$TMP/user"
    expect_rc "credentials: call takes --registry-user-file, and refuses one others can read" 2 "$RC" "$ERR"
    expect_grep "credentials: saying why" "is mode 644" "$ERR"
else
    bad "start etcd" "$(tail -n 20 "$TMP/etcd.log")"
fi

# ---------------- Consul, its HTTP API and its DNS interface ----------------
if ! command -v consul >/dev/null 2>&1; then
    echo "SKIP consul is not installed (sh mk/consul.sh bin fetches it)"
    summary
    exit
fi
command -v dig >/dev/null 2>&1 || bad "dig is installed (Debian's bind9-dnsutils; make test-deps)"
consul_dev_start "$TMP/consul.log"
started=$?
PIDS="$PIDS $CONSUL_PID"
HP=$CONSUL_PORT DP=$CONSUL_DNS_PORT
if [ $started -ne 0 ]; then
    bad "start consul agent -dev" "$(tail -n 20 "$TMP/consul.log")"
    summary
    exit 1
fi
C=consul://127.0.0.1:$HP
D=dns://127.0.0.1:$DP
srv_ports() { # srv_ports NAME: the ports dig finds for NAME.service.consul, sorted
    dig +short @127.0.0.1 -p "$DP" "$1.service.consul" SRV | awk '{print $3}' | sort
}
passing() { [ "$(srv_ports "$1" | wc -l)" = "$2" ]; }
start c1 "$BIN/jsonrpc-server" --listen 127.0.0.1:0 --registry "$C" --service hello --ttl 3 && C1=$ADDR
start c2 "$BIN/jsonrpc-server" --listen 127.0.0.1:0 --registry "$C" --service hello --ttl 3 && C2=$ADDR
start c3 "$BIN/grpc-server" --listen 127.0.0.1:0 --registry "$C" --service greet --ttl 3
wait_until 10 passing hello 2 || bad "consul: two jsonrpc-servers pass their checks" "$(srv_ports hello)"
wait_until 10 passing greet 1 || bad "consul: the grpc-server passes its check" "$(srv_ports greet)"

call "$C/hello" Arith.Multiply "$ARGS" -n 2
expect_eq "consul: workbench call consul://…/hello answers" 56 "$OUT"
expect_grep "consul: it says what the agent lists" "lists 2 passing instance(s) of hello" "$ERR"
expect_grep "consul: the first instance answered" "answered by ${C1:-?}" "$ERR"
expect_grep "consul: and the second" "answered by ${C2:-?}" "$ERR"
call "$C/greet" helloworld.Greeter/SayHello '{"name":"x"}'
expect_eq "consul: a gRPC server found in Consul answers" '{"message":"Hello x"}' "$OUT"
call "$C/nosuch" Arith.Multiply "$ARGS"
expect_rc "consul: an unknown service fails as a call does (exit 3)" 3 "$RC" "$ERR"
expect_grep "consul: and says so, with the services there are" "has no service nosuch" "$ERR"
expect_grep "consul: (the services there are)" "hello" "$ERR"

# DNS: what dig finds is what workbench registry dns:// lists, and what call calls
got=$("$BIN/workbench" registry "$D/hello.service.consul" 2>&1 | awk '{print $2}' | sed 's/.*://' | sort)
want=$(srv_ports hello)
if [ -n "$want" ] && [ "$got" = "$want" ]; then ok "dns: workbench registry dns://… lists the ports dig finds"
else bad "dns: workbench registry dns://… lists the ports dig finds" "dig: $want
workbench: $got"; fi
out=$("$BIN/workbench" registry "$D/hello.service.consul" 2>&1)
expect_grep "dns: the protocol comes from Consul's tag names" "protocol=json" "$out"
call "$D/hello.service.consul" Arith.Multiply "$ARGS"
expect_eq "dns: workbench call dns://…/hello.service.consul answers" 56 "$OUT"
expect_grep "dns: it says what the DNS server answered" "lists 2 SRV record(s) of hello.service.consul" "$ERR"
call "$D/greet" helloworld.Greeter/SayHello '{"name":"y"}'
expect_eq "dns: dns://…/greet means greet.service.consul, and speaks gRPC" '{"message":"Hello y"}' "$OUT"
call "$D/nosuch.service.consul" Arith.Multiply "$ARGS"
expect_rc "dns: an unknown name fails as a call does (exit 3)" 3 "$RC" "$ERR"
expect_grep "dns: and says what NXDOMAIN means here" "has no SRV record for nosuch.service.consul" "$ERR"
out=$("$BIN/jsonrpc-server" --listen 127.0.0.1:0 --registry "$D" --service hello 2>&1)
rc=$?
expect_rc "dns: registering through DNS is refused (exit 2)" 2 "$rc" "$out"
expect_grep "dns: with the reason" "a DNS server only answers questions" "$out"
call "dns://127.0.0.1:$(free_port)/hello" Arith.Multiply "$ARGS"
expect_rc "dns: a DNS server that does not answer fails the call (exit 3)" 3 "$RC" "$ERR"
expect_grep "dns: and says so" "cannot reach the registry" "$ERR"

# A watch through DNS polls: a new instance is a PUT, a killed one (check critical) a DELETE.
"$BIN/workbench" registry "$D/hello.service.consul" --watch >"$TMP/watch.out" 2>&1 &
WPID=$!
PIDS="$PIDS $WPID"
wait_until 5 grep -q watching "$TMP/watch.out"
start c4 "$BIN/jsonrpc-server" --listen 127.0.0.1:0 --registry "$C" --service hello --ttl 3 && C4=$ADDR C4PID=$PID
if wait_until 10 grep -q "PUT .*${C4:-?}" "$TMP/watch.out"; then ok "dns: the watch sees a new instance (PUT)"
else bad "dns: the watch sees a new instance (PUT)" "$(cat "$TMP/watch.out")"; fi
kill9 "${C4PID:-0}"
if wait_until 10 grep -q "DELETE .*${C4:-?}" "$TMP/watch.out"; then ok "dns: and one whose check fails (DELETE)"
else bad "dns: and one whose check fails (DELETE)" "$(cat "$TMP/watch.out")"; fi
stop "$WPID"

# No passing instance: the only one is killed; Consul keeps it, critical.
start d1 "$BIN/jsonrpc-server" --listen 127.0.0.1:0 --registry "$C" --service down --ttl 3 && D1PID=$PID
wait_until 10 passing down 1
kill9 "${D1PID:-0}"
wait_until 10 passing down 0
call "$C/down" Arith.Multiply "$ARGS"
expect_rc "consul: no passing instance fails as a call does (exit 3)" 3 "$RC" "$ERR"
expect_grep "consul: and says the instance is there, critical" "none passes its health check" "$ERR"
expect_grep "consul: (its check)" "check=critical" "$ERR"

# workbench load finds the instances through DNS too.
out=$(timeout 30 "$BIN/workbench" load --registry "$D" --service hello --codec json --rate 20 --duration 2 2>&1)
expect_grep "dns: workbench load --registry dns://… calls the first instance" "${C1:-?}" "$out"
expect_grep "dns: and the second" "${C2:-?}" "$out"
expect_grep "dns: without a failed call" "0 failed after retries" "$out"

summary
