# test_shipping.sh -- the go-micro tutorial's shipping service: bin/shipping-server on a
# temporary SQLite file with python3-grpcio as the client (consignments with containers,
# two instances on one file, a restart, the errors), the workbench calling it through its
# reflection, and go-micro's environment: MICRO_SERVER_ADDRESS, a bad MICRO_REGISTRY,
# MICRO_REGISTRY=etcd with MICRO_REGISTRY_ADDRESS against a private etcd (Debian's
# etcd-server), and MICRO_SERVER_ADDRESS=:PORT (every address) inside a private network.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"
PY=/usr/bin/python3 # Debian's, which has python3-grpcio (the python3 on PATH may not)
SVC=go.micro.srv.consignment.ShippingService

# ---- the program itself ----
expect_grep "shipping-server --help lists its methods" "CreateConsignment" "$("$BIN/shipping-server" --help)"
expect_grep "shipping-server --help documents go-micro's variables" "MICRO_REGISTRY=mdns|etcd|consul|none" \
    "$("$BIN/shipping-server" --help)"
expect_grep "shipping-server's default address is the tutorial's 50051" "127.0.0.1:50051" \
    "$("$BIN/shipping-server" --help)"
expect_grep "shipping-server --help in Chinese" "货物" "$("$BIN/shipping-server" --help --lang zh)"
wide=$( { "$BIN/shipping-server" --help; "$BIN/shipping-server" --help --lang zh; } |
    "$PY" -c 'import sys, unicodedata
for l in sys.stdin:
    l = l.rstrip("\n")
    w = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in l)
    if w > 80: print(w, l)')
expect_eq "shipping-server --help fits 80 columns in both languages" "" "$wide"
"$BIN/shipping-server" --db >/dev/null 2>&1
expect_eq "shipping-server: --db without a file is a usage error" 2 "$?"

# ---- go-micro's environment: what is refused ----
out=$(MICRO_REGISTRY=zookeeper "$BIN/shipping-server" --db "$TMP/x.db" 2>&1)
expect_eq "a bad MICRO_REGISTRY is a usage error" 2 "$?"
expect_grep "naming the variable" '$MICRO_REGISTRY is "zookeeper"; it may be mdns, etcd, consul or none' "$out"
out=$(MICRO_REGISTRY=etcd MICRO_REGISTRY_ADDRESS=nowhere "$BIN/shipping-server" --db "$TMP/x.db" 2>&1)
expect_grep "a bad MICRO_REGISTRY_ADDRESS is named" '$MICRO_REGISTRY_ADDRESS is "nowhere"' "$out"
out=$(MICRO_REGISTRY=consul MICRO_REGISTRY_ADDRESS=127.0.0.1:1,127.0.0.1:2 "$BIN/shipping-server" --db "$TMP/x.db" 2>&1)
expect_grep "Consul takes one address" "Consul takes one address" "$out"
out=$(MICRO_SERVER_ADDRESS=50051 "$BIN/shipping-server" --db "$TMP/x.db" 2>&1)
expect_grep "a MICRO_SERVER_ADDRESS without a host is named" '$MICRO_SERVER_ADDRESS: address "50051" has no host' "$out"
out=$(MICRO_REGISTRY=etcd MICRO_SERVER_NAME="two words" "$BIN/shipping-server" --db "$TMP/x.db" 2>&1)
expect_grep "a bad MICRO_SERVER_NAME is named" '$MICRO_SERVER_NAME: service name "two words"' "$out"
if MICRO_REGISTRY=zookeeper start ship0 "$BIN/shipping-server" --registry none --listen 127.0.0.1:0 --db "$TMP/x.db"
then ok "--registry on the command line wins over MICRO_REGISTRY"; stop "$PID"; fi

if ! "$PY" -c 'import grpc, google.protobuf' 2>/dev/null; then
    echo "SKIP python3-grpcio is not installed for $PY (make test installs python3-grpcio)"
    summary
    exit $?
fi

# run_py ARGS...: shipping_checks.py's lines, counted with ours
run_py() {
    count_checks "python3-grpcio's checks" "$(cd "$ROOT/tests/python" && timeout 60 "$PY" shipping_checks.py "$@" 2>&1)"
}

# ---- two instances on one file, python3-grpcio as the client ----
P1=$(free_port)
MICRO_SERVER_ADDRESS=127.0.0.1:$P1 start ship1 "$BIN/shipping-server" --db "$TMP/ship.db" || exit 1
S1=$ADDR S1_PID=$PID
expect_eq "MICRO_SERVER_ADDRESS=127.0.0.1:$P1: it listens there" "127.0.0.1:$P1" "$S1"
start ship2 "$BIN/shipping-server" --listen 127.0.0.1:0 --db "$TMP/ship.db" || exit 1
S2=$ADDR S2_PID=$PID
run_py "$S1" "$S2" "$TMP/ids"
expect_grep "workbench call: $SVC/CreateConsignment" '"created":true' \
    "$("$BIN/workbench" call "grpc://$S2" $SVC/CreateConsignment \
        '{"id":"wb-1","description":"from the workbench","weight":12,"containers":[{"customer_id":"c1","origin":"Shanghai","user_id":"u1"}],"vessel_id":"vessel001"}' 2>&1)"
expect_grep "workbench call: an id taken" "ALREADY_EXISTS: consignment wb-1 exists already" \
    "$("$BIN/workbench" call "grpc://$S1" $SVC/CreateConsignment '{"id":"wb-1"}' 2>&1)"
expect_grep "workbench call: $SVC/GetConsignments through the other instance" '"id":"wb-1"' \
    "$("$BIN/workbench" call "grpc://$S1" $SVC/GetConsignments '{}' 2>&1)"
expect_eq "gRPC health for $SVC" '{"status":"SERVING"}' \
    "$("$BIN/workbench" call "grpc://$S1" grpc.health.v1.Health/Check "{\"service\":\"$SVC\"}" 2>&1)"

# ---- a restart ----
stop "$S1_PID"
stop "$S2_PID"
start ship3 "$BIN/shipping-server" --listen 127.0.0.1:0 --db "$TMP/ship.db" || exit 1
S3_PID=$PID
run_py --list "$ADDR" "$TMP/ids"
stop "$S3_PID"

# ---- MICRO_REGISTRY=etcd with MICRO_REGISTRY_ADDRESS, in a real etcd ----
if command -v etcd >/dev/null && command -v etcdctl >/dev/null; then
    etcd_or_exit shiptest
    MICRO_REGISTRY=etcd MICRO_REGISTRY_ADDRESS=$EP start ship4 "$BIN/shipping-server" --listen 127.0.0.1:0 \
        --db "$TMP/ship.db" --ttl 3 || exit 1
    S4=$ADDR S4_PID=$PID
    keys() { etcdctl --endpoints "$EP" get --prefix shipping/ --keys-only | grep .; }
    registered() { [ "$(keys)" = "shipping/$S4" ]; }
    if wait_until 10 registered; then ok "MICRO_REGISTRY=etcd MICRO_REGISTRY_ADDRESS=$EP: registered as shipping/$S4"
    else bad "MICRO_REGISTRY=etcd registers in etcd" "$(keys; cat "$TMP/ship4.err")"; fi
    MICRO_REGISTRY=etcd MICRO_REGISTRY_ADDRESS=$EP MICRO_SERVER_NAME=go.micro.srv.consignment \
        start ship5 "$BIN/shipping-server" --listen 127.0.0.1:0 --db "$TMP/ship.db" --ttl 3 || exit 1
    S5=$ADDR S5_PID=$PID
    named() { etcdctl --endpoints "$EP" get "go.micro.srv.consignment/$S5" --keys-only | grep -q .; }
    if wait_until 10 named; then ok "MICRO_SERVER_NAME names the service in etcd"
    else bad "MICRO_SERVER_NAME names the service" "$(cat "$TMP/ship5.err")"; fi
    stop "$S4_PID"
    stop "$S5_PID"
    gone() { [ -z "$(keys)" ]; }
    wait_until 10 gone && ok "SIGTERM takes the entry out of etcd" || bad "the entry leaves etcd" "$(keys)"
else
    echo "SKIP MICRO_REGISTRY=etcd: etcd is not installed (make test installs etcd-server and etcd-client)"
fi

# ---- MICRO_SERVER_ADDRESS=:PORT: every address, only inside a private network ----
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && command -v etcd >/dev/null &&
    unshare -n true 2>/dev/null; then
    out=$(WB_BIN=$BIN WB_TMP=$TMP timeout 60 unshare -n bash -c '
        ip link set lo up
        . "'"$ROOT"'/mk/lib.sh"
        etcd_start shipns "$WB_TMP/etcd-ns" "$WB_TMP/etcd-ns.log" || { echo "etcd did not start"; exit 1; }
        MICRO_SERVER_ADDRESS=:0 MICRO_REGISTRY=etcd MICRO_REGISTRY_ADDRESS=$EP \
            "$WB_BIN/shipping-server" --db "$WB_TMP/ns.db" --ttl 3 >"$WB_TMP/ns.out" 2>"$WB_TMP/ns.err" &
        pid=$!
        i=0
        until etcdctl --endpoints "$EP" get --prefix shipping/ --keys-only | grep -q . || [ $i -ge 50 ]; do
            sleep 0.1; i=$((i + 1))
        done
        echo "listening: $(head -n 1 "$WB_TMP/ns.out")"
        echo "registered: $(etcdctl --endpoints "$EP" get --prefix shipping/ --keys-only | grep .)"
        kill $pid; wait $pid
        kill $ETCD_PID; wait $ETCD_PID 2>/dev/null' 2>&1)
    port=$(printf '%s\n' "$out" | sed -n 's/^listening: 0\.0\.0\.0:\([0-9]*\)$/\1/p')
    if [ -n "$port" ]; then ok "MICRO_SERVER_ADDRESS=:0 listens on every address (0.0.0.0:$port)"
    else bad "MICRO_SERVER_ADDRESS=:0 listens on 0.0.0.0" "$out"; fi
    expect_grep "and registers in etcd as 127.0.0.1:PORT, which a client can dial" \
        "registered: shipping/127.0.0.1:${port:-?}" "$out"
else
    echo "SKIP MICRO_SERVER_ADDRESS=:PORT (every address): needs root, unshare -n and etcd, so as to listen only in a private network"
fi

summary
