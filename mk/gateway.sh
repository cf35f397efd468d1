#!/bin/sh
# gateway.sh -- what `make gateway-demo` starts: a private etcd, two user-server and two
# order-server instances, grpc-server as the arith service, and the REST gateway on
# 127.0.0.1:8008 (or a free port), then prints curl lines to try. Ctrl-C stops them all.
# The databases are new for each demo (removed when it stops), so the README's lines
# give the README's answers. The data services take calls only from the gateway: all
# three are given one caller secret, made afresh in a 0600 file.
set -u
BIN=${1:-bin}
tmp=$(mktemp -d)
pids=""
. "$(dirname "$0")/lib.sh" # free_port, etcd_start, wait_addr, stop_all
trap 'stop_all; echo; echo "Stopped the gateway, the services and etcd."; exit 0' INT TERM
trap 'stop_all; rm -rf "$tmp"' EXIT

for tool in etcd etcdctl curl; do
    command -v $tool >/dev/null || { echo "gateway-demo needs $tool (make run-deps installs it)"; exit 1; }
done

etcd_start demo "$tmp/etcd" "$tmp/etcd.log"
started=$?
pids="$pids $ETCD_PID"
[ $started -eq 0 ] || { echo "etcd did not start:"; tail -n 5 "$tmp/etcd.log"; exit 1; }
ep=$EP
reg=etcd://$ep

secret=$tmp/caller-secret
(umask 077 && head -c 24 /dev/urandom | base64 >"$secret") || { echo "cannot write $secret"; exit 1; }

# run NAME ARGS...: starts bin/NAME in the background; sets $addr to the address it prints.
run() {
    name=$1
    shift
    "$BIN/$name" "$@" >"$tmp/$name.$$.addr" 2>>"$tmp/$name.log" &
    pid=$!
    wait_addr "$tmp/$name.$$.addr" "$pid"
    addr=$(head -n 1 "$tmp/$name.$$.addr")
    rm -f "$tmp/$name.$$.addr"
    pids="$pids $pid"
    [ -n "$addr" ] || { echo "$name did not start: $(tail -n 1 "$tmp/$name.log")"; exit 1; }
}

run user-server --listen 127.0.0.1:0 --registry "$reg" --ttl 3 --db "$tmp/users.db" --caller-secret-file "$secret"; users="$addr (pid $pid)"
run user-server --listen 127.0.0.1:0 --registry "$reg" --ttl 3 --db "$tmp/users.db" --caller-secret-file "$secret"; users="$users  $addr (pid $pid)"
run order-server --listen 127.0.0.1:0 --registry "$reg" --ttl 3 --db "$tmp/orders.db" --caller-secret-file "$secret"; orders="$addr (pid $pid)"
run order-server --listen 127.0.0.1:0 --registry "$reg" --ttl 3 --db "$tmp/orders.db" --caller-secret-file "$secret"; orders="$orders  $addr (pid $pid)"
run grpc-server --listen 127.0.0.1:0 --registry "$reg" --service arith --ttl 3; arith="$addr (pid $pid)"
gw=127.0.0.1:8008
"$BIN/gateway" --listen "$gw" --registry "$reg" --caller-secret-file "$secret" >"$tmp/gw.addr" 2>"$tmp/gateway.log" &
gpid=$!
pids="$pids $gpid"
if ! wait_addr "$tmp/gw.addr" "$gpid"; then
    echo "note: $gw is taken; the gateway gets a free port instead."
    run gateway --listen 127.0.0.1:0 --registry "$reg" --caller-secret-file "$secret"
    gw=$addr
else
    gw=$(head -n 1 "$tmp/gw.addr")
fi

cat <<TXT
RPC Workbench: the REST gateway is on http://$gw, in front of services it finds in etcd.

  etcd                 $ep   (etcdctl --endpoints $ep get --prefix order)
  user-server          $users
  order-server         $orders
  grpc-server (arith)  $arith
  gateway              $gw

Try, from another terminal:

  curl -s -X POST $gw/user/register -d '{"name":"li","password":"secret123"}'
  curl -s -X POST $gw/user/login -d '{"name":"li","password":"secret123"}'
  TOKEN=...   # the "token" of the login reply
  curl -s -X POST $gw/orders -H "Authorization: Bearer \$TOKEN" -d '{"item":"毛笔","quantity":2}'
  curl -s $gw/orders/1 -H "Authorization: Bearer \$TOKEN"
  curl -s "$gw/orders?user=li" -H "Authorization: Bearer \$TOKEN"
  curl -s "$gw/arith/multiply?a=7&b=8"
  $BIN/workbench registry $reg --watch

The user and order services answer only calls carrying the caller secret in
$secret (the gateway sends it); a direct call needs the header too:
  grpcurl -plaintext -H "wb-caller-secret: \$(cat $secret)" -d '{"user":"li"}' ADDR order.Order/List

Kill an order-server (kill -9 PID) and the orders stay readable through the other; kill
both and the gateway answers 503. The gateway's log is in $tmp/gateway.log. Ctrl-C stops everything.
TXT
sleep 2147483647 &   # wait is interrupted by Ctrl-C (a foreground sleep would delay the trap)
pids="$pids $!"
wait $!
