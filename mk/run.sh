#!/bin/sh
# run.sh -- what `make servers` starts: the sample servers, and how to call them.
# Each server gets its default port when it is free, or a free port otherwise.
# Ctrl-C stops them all.
set -u
BIN=${1:-bin}
tmp=$(mktemp -d)
pids=""
. "$(dirname "$0")/lib.sh" # wait_addr, stop_all
trap 'stop_all; echo; echo "Stopped the sample servers."; exit 0' INT TERM
trap 'stop_all' EXIT

# start NAME DEFAULT_ADDR: starts bin/NAME and sets $addr to where it listens.
start() {
    "$BIN/$1" --listen "$2" >"$tmp/$1.addr" 2>"$tmp/$1.log" &
    pid=$!
    if ! wait_addr "$tmp/$1.addr" "$pid"; then
        echo "note: $2 is taken ($(tail -n 1 "$tmp/$1.log" | sed 's/^[^:]*: //')); $1 gets a free port instead."
        "$BIN/$1" --listen 127.0.0.1:0 >"$tmp/$1.addr" 2>"$tmp/$1.log" &
        pid=$!
        wait_addr "$tmp/$1.addr" "$pid"
    fi
    pids="$pids $pid"
    addr=$(head -n 1 "$tmp/$1.addr")
}

start jsonrpc-server 127.0.0.1:8080; json=$addr
start gob-server 127.0.0.1:8081; gob=$addr
start grpc-server 127.0.0.1:50051; grpc=$addr
jhost=${json%:*}; jport=${json##*:}

cat <<TXT
RPC Workbench: three sample servers are running.

  JSON-RPC (Go's net/rpc/jsonrpc)   $json    pid $(echo $pids | cut -d' ' -f1)
  gob      (Go's net/rpc)           $gob    pid $(echo $pids | cut -d' ' -f2)
  gRPC     (protobuf over HTTP/2)   $grpc   pid $(echo $pids | cut -d' ' -f3)

Call them from another terminal:

  echo '{"method":"hello.HelloWorld","params":["李白"],"id":0}' | nc -q 1 $jhost $jport
  $BIN/workbench call json://$json Arith.Multiply '{"A":7,"B":8}'
  $BIN/workbench call gob://$gob Arith.Divide '{"A":7,"B":2}' --wire
  $BIN/workbench call gob://$gob Arith.Divide '{"A":7,"B":0}'
  $BIN/workbench call grpc://$grpc helloworld.Greeter/SayHello '{"name":"world"}' --wire
  $BIN/workbench compare Arith.Multiply '{"A":7,"B":8}' --gob gob://$gob --json json://$json --grpc grpc://$grpc

A Go program reaches the gob server with rpc.Dial("tcp", "$gob"),
the JSON one with jsonrpc.Dial("tcp", "$json"), and the gRPC one with
grpc.Dial("$grpc", grpc.WithInsecure()).

Server logs follow. Press Ctrl-C to stop the servers.
TXT
tail -q -n +1 -f "$tmp/jsonrpc-server.log" "$tmp/gob-server.log" "$tmp/grpc-server.log" &
tailpid=$!
pids="$pids $tailpid"
wait $tailpid
