# test_failover.sh -- seed 000's experiment against a real etcd (Debian's etcd-server):
# servers register themselves, the workbench's balancer finds them in etcd, spreads
# calls round robin, and fails over when one is killed.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"

if ! command -v etcd >/dev/null; then
    echo "SKIP etcd is not installed (make test installs etcd-server)"
    summary
    exit 0
fi

# share PCT_LINE: the share column of an instance line of `workbench load`
share_of() { echo "$1" | awk '{ sub("%", "", $3); print int($3) }'; }

# 1. Round robin: two instances share the calls within ±10%
out=$("$BIN/workbench" load --service rr --codec json --spawn 2 --rate 400 --duration 3 2>&1)
lines=$(echo "$out" | grep -E '^  127\.0\.0\.1:[0-9]+ ')
expect_eq "two instances found in the private etcd" "2" "$(echo "$lines" | wc -l | tr -d ' ')"
a=$(share_of "$(echo "$lines" | sed -n 1p)")
b=$(share_of "$(echo "$lines" | sed -n 2p)")
if [ "$a" -ge 40 ] && [ "$a" -le 60 ] && [ "$b" -ge 40 ] && [ "$b" -le 60 ]; then
    ok "round robin spreads calls within ±10% ($a% / $b%)"
else
    bad "round robin spreads calls within ±10%" "$out"
fi
expect_grep "no call failed" " 0 failed after retries" "$out"

# 2. SIGKILL one: every call goes to the other, none fails, etcd drops it within the TTL
out=$("$BIN/workbench" load --service fo --codec json --spawn 2 --rate 300 --duration 6 --kill-after 2 --ttl 2 2>&1)
expect_grep "killed instance is marked" "(killed)" "$out"
expect_grep "no call fails while retries are on" " 0 failed after retries" "$out"
drop=$(echo "$out" | sed -n 's/.*registry dropped it: *+\([0-9.]*\) s after the signal.*/\1/p')
if [ -n "$drop" ] && awk -v d="$drop" 'BEGIN { exit !(d <= 4.5) }'; then
    ok "etcd dropped the SIGKILLed instance ${drop}s after the signal (TTL 2 s)"
else
    bad "etcd drops the SIGKILLed instance within the TTL and a little" "$out"
fi
survivor=$(echo "$out" | grep -E '^  127\.0\.0\.1:[0-9]+ ' | grep -v killed)
s=$(share_of "$survivor")
if [ "$s" -ge 60 ]; then ok "the survivor took the rest of the calls ($s%)"; else bad "the survivor takes the calls" "$out"; fi

# 3. SIGTERM: the server removes its own entry at once
out=$("$BIN/workbench" load --service gr --codec gob --spawn 2 --rate 200 --duration 4 --kill-after 1 --signal TERM --ttl 10 2>&1)
drop=$(echo "$out" | sed -n 's/.*registry dropped it: *+\([0-9.]*\) s after the signal.*/\1/p')
if [ -n "$drop" ] && awk -v d="$drop" 'BEGIN { exit !(d < 1.0) }'; then
    ok "SIGTERM: the entry is gone ${drop}s after the signal, not after the 10 s TTL"
else
    bad "SIGTERM removes the entry at once" "$out"
fi
expect_grep "SIGTERM: no call fails" " 0 failed after retries" "$out"

# 4. Restart the killed one: traffic rebalances. Stop etcd: calls go on. Start it again.
out=$("$BIN/workbench" load --service rb --codec json --spawn 2 --rate 200 --duration 10 --kill-after 2 \
    --restart-after 4 --registry-down-after 6 --registry-up-after 8 --ttl 2 2>&1)
back=$(echo "$out" | sed -n 's/.*after it came back.* went to it (\([0-9]*\)\..*/\1/p')
if [ -n "$back" ] && [ "$back" -ge 35 ] && [ "$back" -le 65 ]; then
    ok "after the restart, traffic rebalances ($back% to the restarted instance)"
else
    bad "after the restart, traffic rebalances" "$out"
fi
expect_grep "etcd stopped during the run" "stopped the private etcd" "$out"
expect_grep "the watch notices" "registry unreachable" "$out"
expect_grep "etcd started again and the watch resumes" "registry reachable again" "$out"
expect_grep "no call failed through restart and registry outage" " 0 failed after retries" "$out"

# 5. A hung instance (SIGSTOP): calls time out, are retried elsewhere, and it is ejected
out=$("$BIN/workbench" load --service st --codec json --spawn 2 --rate 200 --duration 4 --kill-after 1 \
    --signal STOP --timeout 300 --ttl 2 2>&1)
expect_grep "SIGSTOP: no call fails while retries are on" " 0 failed after retries" "$out"
expect_grep "SIGSTOP: calls to it time out" "no reply before the deadline" "$out"

# 6. No child outlives the workbench, even a SIGKILLed one
"$BIN/workbench" load --service orphan --codec json --spawn 2 --rate 50 --duration 30 >"$TMP/orphan.out" 2>&1 &
wb=$!
sleep 2
kids=$(pgrep -P "$wb" | tr '\n' ' ')
expect_eq "the workbench has its etcd and two servers as children" "3" "$(echo $kids | wc -w | tr -d ' ')"
kill -KILL "$wb"; wait "$wb" 2>/dev/null
sleep 1
left=""
for k in $kids; do
    # a dead child whose new parent does not reap it stays a zombie (state Z): it is gone
    state=$(awk '{print $3}' "/proc/$k/stat" 2>/dev/null)
    [ -n "$state" ] && [ "$state" != Z ] && left="$left $k"
done
expect_eq "after SIGKILL of the workbench no child is left running" "" "$left"
for k in $left; do kill -KILL "$k"; done

# Consul (Debian 11's agent, which the set-up links as bin/consul): the same experiment
if command -v consul >/dev/null; then
    out=$("$BIN/workbench" load --registry consul-dev --service cs --codec json --spawn 2 --rate 200 \
        --duration 8 --kill-after 2 --ttl 2 2>&1)
    expect_grep "consul: no call fails while retries are on" " 0 failed after retries" "$out"
    if printf '%s\n' "$out" | grep -qE 'registry dropped it: +\+[0-9.]+ s after the signal'; then
        ok "consul: the check drops the killed instance"
    else
        bad "consul: the check drops the killed instance" "$(excerpt "$out")"
    fi
    # gRPC health checks: a spawned server, whose check starts critical, gets calls once it
    # passes; killed and started again on its address, it passes again and gets calls again.
    out=$("$BIN/workbench" load --registry consul-dev --service csg --codec grpc --spawn 2 --rate 100 \
        --duration 6 --kill-after 1.5 --restart-after 3 --ttl 3 2>&1)
    expect_grep "consul grpc: both spawned servers are listed once they pass" "the registry lists 2 instance(s) of csg" "$out"
    expect_grep "consul grpc: no call fails" " 0 failed after retries" "$out"
    if printf '%s\n' "$out" | grep -qE 'after it came back .*: [1-9][0-9]* of [0-9]+ calls went to it'; then
        ok "consul grpc: the restarted server gets calls again"
    else
        bad "consul grpc: the restarted server gets calls again" "$(excerpt "$out")"
    fi
else
    echo "SKIP consul is not installed and could not be fetched (mk/consul.sh): the Consul failover run is skipped"
fi
# without any consul: a copy of the workbench with no bin/consul beside it, and a PATH without one
mkdir -p "$TMP/nocon"
cp "$BIN/workbench" "$TMP/nocon/"
nopath=$(printf '%s' "$PATH" | tr ':' '\n' | while read -r d; do [ -x "$d/consul" ] || printf '%s:' "$d"; done)
out=$(PATH=${nopath%:} "$TMP/nocon/workbench" load --registry consul-dev --service cs --codec json --rate 10 --duration 1 2>&1); rc=$?
expect_eq "load --registry consul-dev without consul fails clearly" "3" "$rc"
expect_grep "and says why" "consul is not installed" "$out"

# 7. etcdctl sees exactly one key per live instance, each on a lease
dir=$TMP/etcd
read -r cport pport <<EOF
$(free_ports 2)
EOF
# Started again on the same ports after a SIGKILL: the servers know it by its address.
start_etcd() {
    etcd_start t "$dir" "$TMP/etcd.log" "$cport" "$pport" || bad "etcd starts on 127.0.0.1:$cport" \
        "$(tail -n 5 "$TMP/etcd.log")"
    ETCD=$ETCD_PID
    PIDS="$PIDS $ETCD"
}
start_etcd
ectl() { ETCDCTL_API=3 etcdctl --endpoints "127.0.0.1:$cport" "$@"; }
start s1 "$BIN/jsonrpc-server" --listen 127.0.0.1:0 --registry "etcd://127.0.0.1:$cport" --service hello --ttl 3
A1=$ADDR; P1=$PID
start s2 "$BIN/gob-server" --listen 127.0.0.1:0 --registry "etcd://127.0.0.1:$cport" --service hello --ttl 3
A2=$ADDR; P2=$PID
sleep 1
keys=$(ectl get --prefix hello --keys-only | grep -v '^$' | sort)
expect_eq "etcdctl get --prefix hello: one key per instance" "$(printf 'hello/%s\nhello/%s' "$A1" "$A2" | sort)" "$keys"
val=$(ectl get "hello/$A1" --print-value-only)
expect_eq "the value is etcd's gRPC naming layout" "{\"Op\":0,\"Addr\":\"$A1\",\"Metadata\":{\"protocol\":\"json\"}}" "$val"
lease=$(ectl get "hello/$A2" -w json | sed -n 's/.*"lease":\([0-9]*\).*/\1/p')
if [ -n "$lease" ] && [ "$lease" != 0 ]; then ok "each key is on a lease"; else bad "each key is on a lease" "$(ectl get "hello/$A2" -w json)"; fi
sleep 4
expect_eq "keepalive keeps the key past its 3 s TTL" "2" "$(ectl get --prefix hello --keys-only | grep -c hello)"

# etcd restarted (SIGKILL, same data): the servers register again
kill -KILL "$ETCD"; wait "$ETCD" 2>/dev/null
sleep 1
start_etcd
i=0
while [ "$(ectl get --prefix hello --keys-only 2>/dev/null | grep -c hello)" != 2 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
expect_eq "after etcd restarts, both servers are registered again" "2" "$(ectl get --prefix hello --keys-only | grep -c hello)"

kill -KILL "$P1"; wait "$P1" 2>/dev/null
t0=$(date +%s%N)
i=0
while ectl get --prefix hello --keys-only | grep -q "$A1" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
t1=$(date +%s%N)
gone=$(( (t1 - t0) / 1000000 ))
if ! ectl get --prefix hello --keys-only | grep -q "$A1" && [ "$gone" -le 5000 ]; then
    ok "SIGKILL leaves the key to expire with its lease (${gone} ms, TTL 3 s)"
else
    bad "SIGKILL's key expires with its lease" "still there after ${gone} ms"
fi
kill -TERM "$P2"; wait "$P2" 2>/dev/null
expect_eq "SIGTERM removes the key at once" "0" "$(ectl get --prefix hello --keys-only | grep -c hello)"
expect_grep "the server logs its registrations with times" "registry: registered hello/$A2" "$(cat "$TMP/s2.err")"

summary
