# test_lab.sh -- workbench lab: hosts in network namespaces, our grpc-server on host1 called
# from the client host, cut, heal, kill, packet loss; nothing of the lab in the machine's
# own namespace, and nothing left once it ends, even after kill -9 of the workbench.
# Needs root; prints SKIP with the reason when namespaces cannot be made here.
#
# Nothing here sends a packet to the lab's addresses from the machine's own namespace:
# with no route of the lab there, such a packet would leave by the real default route.
# That the lab is unreachable is shown instead by what the namespace holds (no address,
# route or link of the lab) and by `ip route get`, which names the real interface.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"

WB="$BIN/workbench"
CALL="workbench call grpc://10.77.0.11:50051 helloworld.Greeter/SayHello"

if [ "$(id -u)" != 0 ]; then
    echo "SKIP workbench lab: not root (the lab needs CAP_SYS_ADMIN and CAP_NET_ADMIN)"
    exit 0
fi
probe=$(timeout 20 "$WB" lab --hosts 1 2>&1)
if [ $? -ne 0 ]; then
    echo "SKIP workbench lab: $probe"
    exit 0
fi

root_links() { ip -o link show | awk -F': ' '{print $2}' | sort; }
root_addrs() { ip -o addr show | awk '{print $2, $3, $4}' | sort; }
root_routes() { ip route show table all | sort; }
LINKS0=$(root_links); ADDRS0=$(root_addrs); ROUTES0=$(root_routes); NETNS0=$(ip netns list 2>/dev/null)

# ns_of PID: the network namespace of a process ("net:[4026...]"), empty when it is gone
ns_of() { readlink "/proc/$1/ns/net" 2>/dev/null; }
# in_ns NSLINK...: the processes in those network namespaces
in_ns() {
    for p in /proc/[0-9]*; do
        n=$(readlink "$p/ns/net" 2>/dev/null) || continue
        for want in "$@"; do [ "$n" = "$want" ] && echo "${p#/proc/}"; done
    done
}
# holders FILE: the pids of the lab's hosts from its opening lines
holders() { grep -E '^ +(client|host[0-9]+) +10\.77\.0\.[0-9]+ +pid [0-9]+$' "$1" | awk '{print $4}'; }
# gone PID...: none of them is running
gone() { for p in "$@"; do [ -d "/proc/$p" ] && return 1; done; return 0; }
# ns_empty NSLINK...: no process is in those network namespaces
ns_empty() { [ -z "$(in_ns "$@")" ]; }

# ---- --help, usage, a script's errors, what the lab needs -------------------------------
out=$("$WB" lab --help)
expect_grep "lab --help names the steps" "loss HOST PERCENT" "$out"
out=$("$WB" lab --hosts 2 --run 'host9: true' 2>&1); rc=$?
expect_eq "a step naming a host the lab has not: exit 2" 2 "$rc"
expect_grep "and says which hosts there are" 'no host "host9" in this lab' "$out"
printf 'sleep 10\nwiggle host1\n' >"$TMP/bad.lab"
out=$("$WB" lab --script "$TMP/bad.lab" 2>&1); rc=$?
expect_eq "an unknown step in a script: exit 2" 2 "$rc"
expect_grep "with its file and line" "bad.lab:2:" "$out"
out=$(setpriv --bounding-set=-sys_admin "$WB" lab --hosts 1 2>&1); rc=$?
expect_eq "without CAP_SYS_ADMIN the lab is not made: exit 3" 3 "$rc"
expect_grep "and it says what it needs" "the lab needs root, or the capabilities CAP_SYS_ADMIN" "$out"
out=$(setpriv --bounding-set=-sys_admin "$WB" call json://127.0.0.1:1 x 1 2>&1)
expect_no_grep "the rest of the workbench works as before" "namespace" "$out"

# ---- a lab run from a script ----------------------------------------------------------
cat >"$TMP/main.lab" <<EOF
# our grpc-server on host1, called from the client host
host1: grpc-server --listen 10.77.0.11:50051 &
wait host1:50051
client: $CALL '{"name":"first"}'
host1: ip -o -4 addr show dev eth0
cut host1
client: $CALL --timeout 1000 '{"name":"cut"}'
host1: ss -Hltn
heal host1
client: $CALL --timeout 3000 '{"name":"healed"}'
loss host1 100
client: $CALL --timeout 1000 '{"name":"lost"}'
loss host1 0
client: $CALL --timeout 3000 '{"name":"found"}'
kill host1
host1: ss -Hltn; echo listening-done
client: $CALL --timeout 1000 '{"name":"killed"}'
EOF
timeout 60 "$WB" lab --hosts 3 --script "$TMP/main.lab" >"$TMP/main.out" 2>&1
rc=$?
out=$(cat "$TMP/main.out")
expect_eq "the script ran to its end (exit 0)" 0 "$rc"
expect_grep "the plan: host1 at 10.77.0.11" "host1    10.77.0.11" "$out"
expect_grep "the plan: the client host at 10.77.0.2" "client   10.77.0.2" "$out"
expect_grep "the server answered on host1" "connected after" "$out"
expect_grep "a call from the client host succeeds" '{"message":"Hello first"}' "$out"
expect_grep "host1's eth0 holds 10.77.0.11/24" "inet 10.77.0.11/24" "$out"
cut_part=$(sed -n '/^ *[0-9.]* cut host1$/,/^ *[0-9.]* heal host1$/p' "$TMP/main.out")
expect_grep "cut host1: the call runs out of time" "timed out after 1000 ms" "$cut_part"
expect_grep "while the server on host1 still listens" "10.77.0.11:50051" "$cut_part"
expect_grep "heal host1: the same server answers again" '{"message":"Hello healed"}' "$out"
if printf '%s' "$out" | grep -q "packet loss is not supported here"; then
    echo "SKIP loss: $(printf '%s' "$out" | grep -m 1 'not supported here' | sed 's/^ *//')"
else
    loss_part=$(sed -n '/loss host1 100%$/,/loss host1 0%$/p' "$TMP/main.out")
    expect_grep "loss 100%: the call fails" "timed out after 1000 ms" "$loss_part"
    expect_grep "loss 0%: it works again" '{"message":"Hello found"}' "$out"
fi
kill_part=$(sed -n '/kill host1$/,$p' "$TMP/main.out")
expect_grep "kill host1 kills its processes" "processes killed" "$kill_part"
ss_part=$(printf '%s\n' "$kill_part" | sed -n '/host1: ss -Hltn; echo listening-done$/,/| listening-done$/p')
expect_grep "after the kill, host1's listeners were listed" "| listening-done" "$ss_part"
expect_no_grep "and nothing listens on host1 any more" "10.77.0.11:50051" "$ss_part"
expect_no_grep "and the call fails" '{"message":"Hello killed"}' "$kill_part"
expect_grep "the lab is removed at the end" "lab removed" "$out"
H=$(holders "$TMP/main.out")
expect_eq "its holders were listed" 4 "$(echo $H | wc -w)"
wait_until 5 gone $H && ok "no holder of the lab is left" || bad "no holder of the lab is left" "$(ps -o pid,comm -p "$(echo $H | tr ' ' ,)")"

# ---- mDNS between hosts: each answers for itself on its eth0, names probed across them ---
cat >"$TMP/mdns.lab" <<'EOF'
host1: grpc-server --listen 10.77.0.11:50051 --registry mdns --service hello --ttl 3 &
wait host1:50051
host2: grpc-server --listen 10.77.0.12:50051 --registry mdns --service hello --ttl 3 &
wait host2:50051
client: end=$(($(date +%s) + 10)); until [ "$(workbench registry mdns hello | grep -c protocol=grpc)" = 2 ] || [ $(date +%s) -ge $end ]; do :; done; workbench registry mdns hello
client: workbench call mdns:///hello Arith.Multiply '{"A":6,"B":7}' -n 2
kill host1
client: end=$(($(date +%s) + 10)); while workbench registry mdns hello | grep -q 10.77.0.11 && [ $(date +%s) -lt $end ]; do :; done; echo listed:; workbench registry mdns hello
EOF
timeout 90 "$WB" lab --hosts 2 --script "$TMP/mdns.lab" >"$TMP/mdns.out" 2>&1
rc=$?
out=$(cat "$TMP/mdns.out")
expect_eq "mDNS in the lab: the script ran to its end (exit 0)" 0 "$rc"
expect_grep "the client host finds host1's server by multicast on eth0" "10.77.0.11:50051         protocol=grpc" "$out"
expect_grep "... and host2's" "10.77.0.12:50051         protocol=grpc" "$out"
expect_grep "host2 probed, found hello-50051 taken by host1, and took hello-50051 (2)" \
    "instance hello-50051 (2)" "$out"
expect_grep "a call through mDNS reaches them" '{"value":42}' "$out"
after=$(printf '%s\n' "$out" | sed -n '/| listed:$/,$p')
expect_no_grep "host1 killed: its records expire from the client's cache (TTL 3 s)" "10.77.0.11" "$after"
expect_grep "... while host2 stays" "10.77.0.12:50051" "$after"

# ---- a 3-member etcd cluster: a follower cut, the leader killed under load ---------------
# etcd on host1..3, our grpc-server on host4 and host5 registered through all three members
# with a 2 s TTL, and the client calling them through the registry at 100/s for 8 s while
# the leader's host is killed: a new leader, no call lost, both servers still listed.
if ! command -v etcd >/dev/null; then
    echo "SKIP etcd cluster in the lab: etcd is not installed (Debian's etcd-server)"
else
    EL="$TMP/etcdlogs"
    REG='workbench registry $ETCD hello'
    cat >"$TMP/etcd.lab" <<LAB
etcd host1 host2 host3
client: echo "url \$ETCD"
host4: grpc-server --listen 10.77.0.14:50051 --registry \$ETCD --service hello --ttl 2 &
host5: grpc-server --listen 10.77.0.15:50051 --registry \$ETCD --service hello --ttl 2 &
wait host4:50051
wait host5:50051
client: for i in \$(seq 50); do [ "\$($REG | wc -l)" = 2 ] && break; sleep 0.1; done; $REG
cut-follower
leader
sleep 3000
client: echo after-cut; $REG
heal
leader 10000
client: workbench load --registry \$ETCD --service hello --codec grpc --method helloworld.Greeter/SayHello --args '{"name":"lab"}' --rate 100 --duration 10 &
sleep 1500
partition host1
leader 10000
sleep 1000
heal
leader 10000
kill-leader
leader 10000
client: for i in \$(seq 150); do grep -q 'calls,' $EL/client.log && break; sleep 0.1; done; cat $EL/client.log
client: echo after-kill; $REG
LAB
    timeout 120 "$WB" lab --hosts 5 --timeout 20000 --logs "$EL" --script "$TMP/etcd.lab" >"$TMP/etcd.out" 2>&1
    rc=$?
    out=$(cat "$TMP/etcd.out")
    expect_eq "the etcd script ran to its end (exit 0)" 0 "$rc"
    expect_grep "the cluster has a leader" "leads, raft term" "$out"
    expect_grep "commands see its URL in \$ETCD" "| url etcd://10.77.0.11:2379,10.77.0.12:2379,10.77.0.13:2379" "$out"
    first=$(sed -n '/for i in/,/cut-follower$/p' "$TMP/etcd.out")
    expect_grep "host4's server is registered through the cluster" "10.77.0.14:50051         protocol=grpc" "$first"
    expect_grep "and host5's" "10.77.0.15:50051         protocol=grpc" "$first"
    cut_part=$(sed -n '/cut-follower$/,/ heal$/p' "$TMP/etcd.out")
    lead0=$(printf '%s\n' "$cut_part" | grep -m 1 -oE 'm[0-9] on host[0-9] leads')
    expect_grep "cut a follower: the same member leads, 2 of 3 answer" \
        "${lead0:-none}, raft term" "$(printf '%s\n' "$cut_part" | grep 'answering: 2 of 3')"
    after_cut=$(sed -n '/| after-cut$/,/ heal$/p' "$TMP/etcd.out")
    expect_grep "and both servers' leases live on past their TTL" "10.77.0.14:50051" "$after_cut"
    expect_grep "(host5's too)" "10.77.0.15:50051" "$after_cut"
    kill_part=$(sed -n '/ kill-leader$/,$p' "$TMP/etcd.out")
    old=$(printf '%s\n' "$kill_part" | grep -m 1 -oE 'm[0-9] on host[0-9] leads')
    new=$(printf '%s\n' "$kill_part" | grep -oE 'm[0-9] on host[0-9] leads' | sed -n 2p)
    old_host=${old#* on }
    expect_grep "kill-leader kills the leader's host" "        kill ${old_host%% *}" "${old:+$kill_part}"
    if [ -n "$new" ] && [ "${new%% *}" != "${old%% *}" ]; then
        ok "a new leader is elected: ${old%% leads} before, ${new%% leads} after"
    else
        bad "a new leader is elected" "$kill_part"
    fi
    took=$(printf '%s\n' "$kill_part" | grep -oE '[0-9]+ ms after kill-leader')
    expect_grep "and the time it took is printed ($took)" "ms after kill-leader" "$took"
    part_part=$(sed -n '/ partition host1$/,/ heal$/p' "$TMP/etcd.out")
    expect_grep "partition host1: the majority side keeps a confirmed leader" "answering: 2 of 3, following it: 1" "$part_part"
    expect_grep "the load made its 1000 calls through the partition and the kill, none failed" \
        "1000 calls, 0 failed after retries" "$kill_part"
    for a in 10.77.0.14:50051 10.77.0.15:50051; do
        row=$(printf '%s\n' "$kill_part" | grep -E "^ +\| +$a +[0-9]+ ")
        expect_eq "$a answered its share of the calls, none failed" "0 0" "$(echo "$row" | awk '{print $5, $6}')"
    done
    after_kill=$(sed -n '/| after-kill$/,$p' "$TMP/etcd.out")
    expect_grep "both servers are still listed (leases kept through the survivors)" "10.77.0.14:50051" "$after_kill"
    expect_grep "(host5's too)" "10.77.0.15:50051" "$after_kill"
    expect_grep "the lab is removed" "lab removed" "$out"
    H=$(holders "$TMP/etcd.out")
    wait_until 5 gone $H && ok "no holder of the etcd lab is left" || bad "no holder of the etcd lab is left"
    expect_eq "the members' data directories are removed" "" "$(ls -d "$EL"/*.etcd 2>/dev/null)"
    expect_eq "no etcd of the lab runs" "" "$(pgrep -f -- "--data-dir $EL/" || true)"
fi

# ---- the timeline: faults and what the programs saw, detection time, failed calls --------
# etcd on host3..5; our grpc-server on host1 and host2 registered with a 2 s TTL, each
# through the leader's member first (so that killing the leader's host moves its
# keepalive to another member); workbench load calling them from the client host. host1
# is cut: the timeline shows the fault, when the traffic left host1 and how many calls
# failed; then the leader's host is killed and the keepalive is refreshed via another member.
if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
    echo "SKIP the lab's timeline: etcd or etcdctl is not installed (Debian's etcd-server, etcd-client)"
else
    # expect_match NAME REGEX TEXT: a line of TEXT matches the extended REGEX
    expect_match() {
        if printf '%s' "$3" | grep -qE -- "$2"; then ok "$1"; else bad "$1" "want to match: $2
in: $(excerpt "$3")"; fi
    }
    TL="$TMP/tllogs"
    # the leader's endpoint first, then the others
    EPS='E=${ETCD#etcd://}; L=$(etcdctl --endpoints "$E" --dial-timeout 2s endpoint status | awk -F", " "\$5 == \"true\" {print \$1}"); R=$(echo "$E" | tr , "\n" | grep -v "^$L$" | paste -sd,)'
    SRV='grpc-server --registry "etcd://$L,$R" --service hello --ttl 2 --quiet'
    REG='workbench registry $ETCD hello'
    cat >"$TMP/tl.lab" <<LAB
etcd host3 host4 host5
leader etcd
host1: $EPS; exec $SRV --listen 10.77.0.11:50051 &
host2: $EPS; exec $SRV --listen 10.77.0.12:50051 &
wait host1:50051
wait host2:50051
client: for i in \$(seq 50); do [ "\$($REG | wc -l)" = 2 ] && break; sleep 0.1; done; $REG | wc -l
client: workbench load --registry \$ETCD --service hello --codec grpc --method helloworld.Greeter/SayHello --args '{"name":"lab"}' --rate 100 --duration 14 &
sleep 2000
cut host1
sleep 5000
heal
timeline
kill-leader etcd
leader etcd 10000
sleep 3000
timeline
LAB
    timeout 90 "$WB" lab --hosts 5 --timeout 20000 --logs "$TL" --script "$TMP/tl.lab" >"$TMP/tl.out" 2>&1
    rc=$?
    out=$(cat "$TMP/tl.out")
    expect_eq "the timeline script ran to its end (exit 0)" 0 "$rc"
    first=$(sed -n '/ timeline$/,/ kill-leader etcd$/p' "$TMP/tl.out")
    expect_grep "the timeline holds the fault line" "lab     fault cut host1" "$first"
    expect_grep "and the servers' registration" "host1   keepalive registered hello 10.77.0.11:50051 via" "$first"
    expect_match "the summary of the cut" "fault at \\+[0-9.]+ s: cut host1" "$first"
    det=$(printf '%s\n' "$first" | grep -m 1 -E '^ +detected in [0-9]+\.[0-9]{3} s: client (balancer ejected|registry dropped) 10\.77\.0\.11:50051')
    expect_grep "a detection time for host1 ($(echo $det | cut -c1-60))" "detected in" "$det"
    expect_match "calls failed is a number" "^ *calls failed: [0-9][0-9]*$" "$first"
    wide=$(printf '%s\n' "$first" | awk 'length($0) > 80')
    expect_eq "every timeline line fits 80 columns" "" "$wide"
    second=$(sed -n '/ kill-leader etcd$/,$p' "$TMP/tl.out" | sed -n '/ timeline$/,$p')
    expect_no_grep "the second timeline starts after the first" "fault cut host1" "$second"
    expect_match "kill-leader is on the timeline" "fault kill-leader etcd host[345]" "$second"
    expect_match "a keepalive was refreshed via another member" "keepalive refreshed via 10\\.77\\.0\\.1[345]:2379" "$second"
    expect_match "the new leader is timed" "new etcd leader seen after [0-9.]+ s: leader etcd host[345]" "$second"
    expect_eq "the timeline file is in the logs directory" 1 "$(grep -c ' lab fault cut host1$' "$TL/events")"
    expect_grep "the lab is removed" "lab removed" "$out"
    H=$(holders "$TMP/tl.out")
    wait_until 5 gone $H && ok "no holder of the timeline lab is left" || bad "no holder of the timeline lab is left"
    expect_eq "no etcd of the lab runs" "" "$(pgrep -f -- "--data-dir $TL/" || true)"
fi

# ---- a 3-server Consul cluster: the minority cut off by a partition, the leader killed ----
# servers on host1..3, client agents on the client host and host4; our jsonrpc-server on
# host4 registered with its local agent (TTL check); host1 split from the rest: the other
# two keep a leader, host1's own agent knows none, and host2's (a server of the majority)
# still lists the service (the client's agent may be asking s1 and wait out Consul's RPC
# hold timeout); healed; the leader's host killed.
if ! CONSUL_BIN=$(command -v consul || ls "$BIN/consul" 2>/dev/null) || [ -z "$CONSUL_BIN" ]; then
    echo "SKIP Consul cluster in the lab: consul is not installed (mk/consul.sh fetches Debian 11's)"
elif ! command -v curl >/dev/null; then
    echo "SKIP Consul cluster in the lab: curl is not installed (it asks host1's own agent)"
else
    CREG='workbench registry $CONSUL hello'
    cat >"$TMP/consul.lab" <<LAB
consul host1 host2 host3
client: echo "url \$CONSUL"
host4: jsonrpc-server --listen 10.77.0.14:8080 --registry "\$CONSUL?check=ttl" --service hello &
wait host4:8080
client: for i in \$(seq 50); do $CREG | grep -q passing && break; sleep 0.1; done; $CREG
partition host1
leader consul 10000
sleep 1500
host1: for i in \$(seq 28); do l=\$(curl -s -m 2 http://127.0.0.1:8500/v1/status/leader); [ "\$l" = '""' ] && break; sleep 0.25; done; echo "host1 sees leader [\$l]"
host2: echo in-partition; for i in \$(seq 20); do $CREG | grep -q passing && break; sleep 0.1; done; $CREG
heal
sleep 3000
leader 10000
kill-leader
leader 10000
client: echo after-kill; for i in \$(seq 30); do $CREG | grep -q passing && break; sleep 0.1; done; $CREG
LAB
    timeout 90 "$WB" lab --hosts 4 --timeout 10000 --logs "$TMP/consullogs" --script "$TMP/consul.lab" >"$TMP/consul.out" 2>&1
    rc=$?
    out=$(cat "$TMP/consul.out")
    expect_eq "the Consul script ran to its end (exit 0)" 0 "$rc"
    expect_grep "three servers elect a leader" "leads, 3 raft peers (servers answering: 3 of 3" "$out"
    expect_grep "commands see their local agent in \$CONSUL" "| url consul://127.0.0.1:8500" "$out"
    first=$(sed -n '/for i in/,/ partition host1$/p' "$TMP/consul.out")
    expect_grep "host4's server is listed from the client host" "10.77.0.14:8080          protocol=json  check=passing" "$first"
    part=$(sed -n '/ partition host1$/,/ heal$/p' "$TMP/consul.out")
    expect_grep "partition host1: host2 and host3 keep a leader" "answering: 2 of 3, following it: 1" "$part"
    expect_grep "host1's own agent knows no leader (an empty answer)" '| host1 sees leader [""]' "$part"
    expect_grep "the majority side still lists the service" "check=passing" "$(printf '%s\n' "$part" | sed -n '/in-partition/,$p')"
    healed=$(sed -n '/ heal$/,/ kill-leader$/p' "$TMP/consul.out")
    expect_grep "heal: one leader for all three" "answering: 3 of 3, following it: 2" "$healed"
    kill_part=$(sed -n '/ kill-leader$/,$p' "$TMP/consul.out")
    old=$(printf '%s\n' "$kill_part" | grep -m 1 -oE 's[0-9] on host[0-9] leads')
    new=$(printf '%s\n' "$kill_part" | grep -oE 's[0-9] on host[0-9] leads' | sed -n 2p)
    if [ -n "$new" ] && [ "${new%% *}" != "${old%% *}" ]; then
        ok "kill-leader: a new Consul leader: ${old%% leads} before, ${new%% leads} after ($(printf '%s\n' "$kill_part" | grep -oE '[0-9]+ ms after kill-leader'))"
    else
        bad "kill-leader: a new Consul leader" "$kill_part"
    fi
    expect_grep "the service is still listed after the kill" "check=passing" "$(printf '%s\n' "$kill_part" | sed -n '/after-kill/,$p')"
    expect_grep "the lab is removed" "lab removed" "$out"
    H=$(holders "$TMP/consul.out")
    wait_until 5 gone $H && ok "no holder of the Consul lab is left" || bad "no holder of the Consul lab is left"
    expect_eq "no consul of the lab runs" "" "$(pgrep -f -- "-data-dir=$TMP/consullogs/" || true)"
fi

# ---- during a lab: nothing of it in the machine's own namespace --------------------------
# start_lab NAME STEP...: a lab of 2 hosts held after its steps, in the background; waits
# for its "holding" line. Sets LABPID.
start_lab() {
    name=$1
    shift
    "$WB" lab --hosts 2 --hold "$@" >"$TMP/$name.out" 2>&1 &
    LABPID=$!
    PIDS="$PIDS $LABPID"
    wait_until 20 grep -q "holding the lab" "$TMP/$name.out"
}
start_lab held --run 'host1: grpc-server --listen 10.77.0.11:50051 &' --run 'host2: sleep 600 & sleep 600 &' \
    --run 'wait host1:50051'
H=$(holders "$TMP/held.out")
NS=""
for p in $H; do NS="$NS $(ns_of "$p")"; done
expect_eq "a held lab: 3 namespaces, one per host" 3 "$(echo $NS | wc -w)"
expect_eq "no new link in the machine's own namespace" "$LINKS0" "$(root_links)"
expect_eq "no new address there" "$ADDRS0" "$(root_addrs)"
expect_eq "no new route there" "$ROUTES0" "$(root_routes)"
expect_eq "no name in /run/netns" "$NETNS0" "$(ip netns list 2>/dev/null)"
route=$(ip route get 10.77.0.11 2>&1)
expect_no_grep "10.77.0.11 is not on a link of the machine's namespace" "dev h1" "$route"
procs=$(in_ns $NS | wc -l)
# each program of a step: the workbench's go-between, sh -c, and what sh starts
expect_eq "the processes in the lab: 3 holders, grpc-server's 3, the 2 sleeps' 4" 10 "$procs"

# ---- kill -9 of the workbench: the kernel removes everything ------------------------------
kill -9 "$LABPID"
wait "$LABPID" 2>/dev/null
wait_until 5 gone $H && ok "kill -9: the holders die with the workbench" || bad "kill -9: the holders die with the workbench"
wait_until 5 ns_empty $NS &&
    ok "kill -9: no process is left in the lab's namespaces" ||
    bad "kill -9: no process is left in the lab's namespaces" "$(in_ns $NS | xargs -r ps -o pid,comm -p)"
expect_eq "kill -9: the machine's links are as before" "$LINKS0" "$(root_links)"

# ---- SIGTERM: the lab is removed in order ---------------------------------------------------
start_lab term --run 'host2: sleep 600 &'
H=$(holders "$TMP/term.out")
kill -TERM "$LABPID"
wait_until 10 sh -c "! kill -0 $LABPID"
wait "$LABPID"; rc=$?
expect_eq "SIGTERM: the lab exits 0" 0 "$rc"
expect_grep "SIGTERM: and says the lab is removed" "lab removed" "$(cat "$TMP/term.out")"
wait_until 5 gone $H && ok "SIGTERM: no holder is left" || bad "SIGTERM: no holder is left"
expect_eq "at the end the machine's links are as before" "$LINKS0" "$(root_links)"
expect_eq "and its routes" "$ROUTES0" "$(root_routes)"

summary
