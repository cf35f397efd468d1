# test_registry_names.sh -- service names with '/' as etcd users write them
# (/etcd3_naming/hello_service, /user), against a real etcd (Debian's etcd-server) and a
# real Consul agent in dev mode (bin/consul): the key etcdctl shows, listing, watching and
# calling by such a name, a name not picking up the names under it ("a" and "a/b"),
# Consul's escaped paths (register, TTL check, health, blocking query, deregister), and
# each refusal of a name that cannot be used, with its reason.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"
trap 'exit 130' INT TERM

export ETCDCTL_API=3
N=/etcd3_naming/hello_service
expect_rc() { # expect_rc NAME WANT GOT TEXT
    if [ "$2" = "$3" ]; then ok "$1"; else bad "$1" "exit status $3, want $2: $(excerpt "$4")"; fi
}
# run CMD...: its stdout and stderr into $OUT, its status into $RC
run() {
    OUT=$("$@" 2>&1)
    RC=$?
}
# refused NAME WANT-TEXT CMD...: CMD exits 2 and says WANT-TEXT
refused() {
    local name=$1 want=$2
    shift 2
    run "$@"
    expect_rc "$name: refused as bad usage (exit 2)" 2 "$RC" "$OUT"
    expect_grep "$name: saying why" "$want" "$OUT"
}
lines_of() { "$BIN/workbench" registry "$1" "$2" 2>/dev/null | grep -c "^$2 " || true; }

# ---------------- refusals that need no registry running ----------------
E0=etcd://127.0.0.1:$(free_port)
refused "a name ending in '/'" "ends with '/': its etcd key would read a//HOST:PORT" \
    "$BIN/grpc-server" --listen 127.0.0.1:0 --registry "$E0" --service a/
refused "a name with '//'" "has '//'" "$BIN/workbench" registry "$E0" "a//b"
refused "a name with a part '..'" "the part \"..\" between '/'" "$BIN/workbench" call "$E0/a/../b" Arith.Multiply '{}'
refused "a name with a space" "has a space at byte 6" "$BIN/jsonrpc-server" --registry "$E0" --service "hello world"
refused "a name with a control character" 'service name "a\tb" has a control character at byte 2' \
    "$BIN/workbench" registry "$E0" "$(printf 'a\tb')"
refused "an empty name" "the service name is empty" "$BIN/workbench" load --service "" --codec json --rate 1 --duration 1
refused "a name too long" "200 bytes long; at most 127 fit" \
    "$BIN/gob-server" --registry "$E0" --service "$(printf '%0200d' 0)"
refused "the gateway's --user-service" "gateway: --user-service: service name \"u/\" ends with '/'" \
    "$BIN/gateway" --listen 127.0.0.1:0 --registry "$E0" --user-service u/
refused "a refusal in Chinese" "服务名" "$BIN/grpc-server" --lang zh --registry "$E0" --service a/

# ---------------- etcd ----------------
if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
    echo "SKIP etcd is not installed (apt-get install etcd-server etcd-client)"
elif ! etcd_start wbnames "$TMP/etcd" "$TMP/etcd.log"; then
    bad "start etcd" "$(tail -n 20 "$TMP/etcd.log")"
else
    PIDS="$PIDS $ETCD_PID"
    E=etcd://$EP
    "$BIN/workbench" registry "$E" "$N" --watch >"$TMP/ewatch.out" 2>&1 &
    PIDS="$PIDS $!"
    wait_until 5 grep -q watching "$TMP/ewatch.out"
    start eg "$BIN/grpc-server" --listen 127.0.0.1:0 --registry "$E" --service "$N" --ttl 5 && EG=$ADDR
    start ej "$BIN/jsonrpc-server" --listen 127.0.0.1:0 --registry "$E" --service "$N/v2" --ttl 5 && EJ=$ADDR
    EJ_PID=$PID
    has_keys() { [ "$(etcdctl --endpoints "$EP" get --prefix "$N" --keys-only | grep -c .)" = 2 ]; }
    wait_until 5 has_keys || bad "etcd: both servers registered" "$(etcdctl --endpoints "$EP" get --prefix / --keys-only)"
    keys=$(etcdctl --endpoints "$EP" get --prefix "$N/" --keys-only | grep .)
    expect_eq "etcd: etcdctl get --prefix $N shows the key NAME/HOST:PORT (and the name under it)" \
        "$N/${EG:-?}
$N/v2/${EJ:-?}" "$keys"
    val=$(etcdctl --endpoints "$EP" get "$N/${EG:-?}" --print-value-only)
    expect_eq "etcd: its value is etcd's gRPC naming layout" "{\"Op\":0,\"Addr\":\"${EG:-?}\",\"Metadata\":{\"protocol\":\"grpc\"}}" "$val"
    out=$("$BIN/workbench" registry "$E" "$N" 2>&1)
    expect_eq "etcd: workbench registry lists $N's one instance, not $N/v2's" 1 "$(lines_of "$E" "$N")"
    expect_no_grep "etcd: (no line of $N/v2)" "${EJ:-?}" "$out"
    expect_eq "etcd: workbench registry lists $N/v2 by its name" 1 "$(lines_of "$E" "$N/v2")"
    all=$("$BIN/workbench" registry "$E" 2>&1)
    expect_grep "etcd: listing every service splits each key at its last '/' ($N)" "$N ${EG:-?}" "$all"
    expect_grep "etcd: listing every service splits each key at its last '/' ($N/v2)" "$N/v2 ${EJ:-?}" "$all"
    run "$BIN/workbench" call "$E/$N" helloworld.Greeter/SayHello '{"name":"x"}'
    expect_eq "etcd: workbench call $E/$N answers" '{"message":"Hello x"}' "$(printf '%s\n' "$OUT" | tail -n 1)"
    expect_grep "etcd: from the one instance of $N" "lists 1 instance(s) of $N, speaking gRPC" "$OUT"
    if wait_until 5 grep -q "PUT .*${EG:-?}" "$TMP/ewatch.out"; then ok "etcd: the watch of $N sees its instance"
    else bad "etcd: the watch of $N sees its instance" "$(cat "$TMP/ewatch.out")"; fi
    stop "$EJ_PID" # deregisters
    gone() { ! etcdctl --endpoints "$EP" get --prefix "$N/v2/" --keys-only | grep -q .; }
    wait_until 5 gone || bad "etcd: $N/v2 deregistered on SIGTERM"
    # a later change of $N, seen by the watch, comes after anything of $N/v2's it would have seen
    etcdctl --endpoints "$EP" put "$N/127.0.0.1:3" '{"Op":0,"Addr":"127.0.0.1:3"}' >/dev/null
    wait_until 5 grep -q "PUT .*127.0.0.1:3" "$TMP/ewatch.out" || bad "etcd: the watch of $N sees a key put by etcdctl"
    expect_no_grep "etcd: the watch of $N never saw $N/v2's instance come or go" "${EJ:-?}" "$(cat "$TMP/ewatch.out")"
    # a is not a/b: keys put by hand, as a tutorial's Go program would
    etcdctl --endpoints "$EP" put a/127.0.0.1:1 '{"Op":0,"Addr":"127.0.0.1:1"}' >/dev/null
    etcdctl --endpoints "$EP" put a/b/127.0.0.1:2 '{"Op":0,"Addr":"127.0.0.1:2"}' >/dev/null
    out=$("$BIN/workbench" registry "$E" a 2>&1)
    expect_grep "etcd: a lists a/127.0.0.1:1" "127.0.0.1:1 " "$out"
    expect_no_grep "etcd: a does not list a/b/127.0.0.1:2" "127.0.0.1:2" "$out"
    out=$("$BIN/workbench" registry "$E" a/b 2>&1)
    expect_grep "etcd: a/b lists a/b/127.0.0.1:2" "a/b                  127.0.0.1:2 " "$out"
fi

# ---------------- Consul ----------------
if ! command -v consul >/dev/null 2>&1; then
    echo "SKIP consul is not installed (sh mk/consul.sh bin fetches it)"
    summary
    exit
fi
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
M=etcd3_naming/hello_service # Consul takes no '/' first
refused "consul: a name beginning with '/'" "begins with '/': Consul's HTTP API cleans the path" \
    "$BIN/grpc-server" --listen 127.0.0.1:0 --registry "$C" --service "$N"
refused "consul: workbench registry too" "with Consul name it $M" "$BIN/workbench" registry "$C" "$N"
refused "consul: workbench load too" "workbench load: --service: consul: service name \"$N\" begins with '/'" \
    "$BIN/workbench" load --registry "$C" --service "$N" --codec json --rate 1 --duration 1
"$BIN/workbench" registry "$C" "$M" --watch >"$TMP/cwatch.out" 2>&1 &
PIDS="$PIDS $!"
wait_until 5 grep -q watching "$TMP/cwatch.out"
start cg "$BIN/grpc-server" --listen 127.0.0.1:0 --registry "$C" --service "$M" --ttl 3 && CG=$ADDR
CG_PID=$PID
start cj "$BIN/jsonrpc-server" --listen 127.0.0.1:0 --registry "$C?check=ttl" --service "$M/v2" --ttl 3 && CJ=$ADDR
passing() { "$BIN/workbench" registry "$C" "$1" 2>/dev/null | grep -q "check=passing"; }
wait_until 10 passing "$M" || bad "consul: the grpc-server's gRPC health check passes" "$("$BIN/workbench" registry "$C" "$M" 2>&1)"
wait_until 10 passing "$M/v2" || bad "consul: the TTL check passes (PUT .../pass/service:ID, escaped)" \
    "$("$BIN/workbench" registry "$C" "$M/v2" 2>&1)"
ok "consul: registered with '/' in the name, checks passing"
ids=$(curl -s "http://127.0.0.1:$HP/v1/agent/services")
expect_grep "consul: the service ID keeps the name" "\"ID\": \"$M-127.0.0.1-$(port_of "${CG:-?:?}")\"" "$ids"
expect_eq "consul: workbench registry lists $M's one instance, not $M/v2's" 1 "$(lines_of "$C" "$M")"
expect_eq "consul: and $M/v2 by its name" 1 "$(lines_of "$C" "$M/v2")"
all=$("$BIN/workbench" registry "$C" 2>&1)
expect_grep "consul: listing every service lists $M/v2" "$M/v2 ${CJ:-?}" "$all"
run "$BIN/workbench" call "$C/$M" helloworld.Greeter/SayHello '{"name":"x"}'
expect_eq "consul: workbench call $C/$M answers" '{"message":"Hello x"}' "$(printf '%s\n' "$OUT" | tail -n 1)"
if wait_until 10 grep -q "PUT .*${CG:-?}" "$TMP/cwatch.out"; then ok "consul: the watch (blocking queries) sees $M's instance"
else bad "consul: the watch (blocking queries) sees $M's instance" "$(cat "$TMP/cwatch.out")"; fi
stop "$CG_PID"
deregistered() { ! curl -s "http://127.0.0.1:$HP/v1/agent/services" | grep -q "\"$M-127"; }
if wait_until 5 deregistered; then ok "consul: SIGTERM deregisters it (PUT .../deregister/ID, escaped)"
else bad "consul: SIGTERM deregisters it" "$(curl -s "http://127.0.0.1:$HP/v1/agent/services")"; fi
if wait_until 10 grep -q "DELETE .*${CG:-?}" "$TMP/cwatch.out"; then ok "consul: and the watch sees it go"
else bad "consul: and the watch sees it go" "$(cat "$TMP/cwatch.out")"; fi
expect_no_grep "consul: the watch of $M never saw $M/v2's instance" "${CJ:-?}" "$(cat "$TMP/cwatch.out")"
refused "dns: a name with '/'" "has '/', which is not a DNS label's" \
    "$BIN/workbench" registry "dns://127.0.0.1:$DP" "$M/v2"
run "$BIN/workbench" call "dns://127.0.0.1:$DP/$M/v2" Arith.Multiply '{"A":7,"B":8}'
expect_rc "dns: workbench call refuses it too" 2 "$RC" "$OUT"
expect_grep "dns: pointing to the HTTP API" "ask the agent's HTTP API" "$OUT"
summary
