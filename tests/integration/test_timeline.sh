# test_timeline.sh -- the programs write the lab's timeline (base/eventlog.h) when given
# WB_LAB_EVENTS, WB_LAB_T0 and WB_LAB_HOST, here on loopback without a lab (no root): a
# grpc-server's keeper, registered through a private 3-member etcd cluster, says which
# member took over when the one it talks to is SIGKILLed, and when the registry is away and
# back; `workbench load` says what its watch, its balancer and its calls saw when a server
# is SIGKILLed, and --eject-after and --backoff change what it writes. A Consul URL's
# interval= and deregister= reach the agent's check (a private consul agent -dev, when
# consul is installed). Bad knob values are refused with a reason.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"
trap 'exit 130' INT TERM
export ETCDCTL_API=3

expect_re() { # expect_re NAME EXTENDED-REGEX TEXT
    if printf '%s\n' "$3" | grep -qE -- "$2"; then ok "$1"; else bad "$1" "want to see: $2
in: $(excerpt "$3")"; fi
}
# the monotonic clock in ms, as the programs read it (CLOCK_MONOTONIC)
mono_ms() { python3 -c 'import time; print(int(time.monotonic() * 1000))'; }
ev() { cat "$EV" 2>/dev/null; }
# the ms of the ejections of ADDR in file $1, one a line
ejections() { grep -E "^[0-9]+ client balancer ejected $2 for " "$1" | sed -E 's/.* for ([0-9]+) ms:.*/\1/'; }
# "M - E": the calls failed (from the load's end line) less the ejections, in file $1
failed_less_ejections() {
    local m e
    m=$(sed -nE 's/^[0-9]+ client load end: [0-9]+ calls, ([0-9]+) failed$/\1/p' "$1")
    e=$(grep -c " client balancer ejected " "$1")
    echo $((${m:-0} - e))
}

# ---------------- bad knob values: refused with a reason ----------------
out=$("$BIN/grpc-server" --listen 127.0.0.1:0 --registry "consul://127.0.0.1:1?check=tcp&deregister=30" 2>&1)
expect_eq "deregister=30 is refused (exit 2)" 2 "$?"
expect_grep "and the real limit is said" "deregister=30: want whole seconds from 60 to 86400; Consul raises a shorter DeregisterCriticalServiceAfter to its minimum of one minute" "$out"
out=$("$BIN/grpc-server" --listen 127.0.0.1:0 --registry "consul://127.0.0.1:1?interval=0" 2>&1)
expect_grep "interval=0 is refused" "interval=0: want the seconds between two checks, a whole number from 1 to 86400" "$out"
out=$("$BIN/grpc-server" --listen 127.0.0.1:0 --registry "consul://127.0.0.1:1?check=tcp&every=3" 2>&1)
expect_grep "an unknown option is refused" "unknown option \"every=3\"; Consul's are check=tcp|grpc|ttl, interval=S and deregister=S" "$out"
out=$("$BIN/grpc-server" --listen 127.0.0.1:0 --registry "etcd://127.0.0.1:1?interval=3" 2>&1)
expect_grep "etcd takes no check options: its knob is --ttl" "etcd's knob is the lease TTL (--ttl)" "$out"
out=$("$BIN/workbench" load --service x --codec grpc --rate 1 --duration 1 --eject-after 0 2>&1)
expect_eq "load --eject-after 0 is refused (exit 2)" 2 "$?"
expect_grep "and says what it wants" "--eject-after wants a number of failures in a row from 1 to 1000" "$out"
for b in 500:100 x 0 250: :5000; do
    out=$("$BIN/workbench" load --service x --codec grpc --rate 1 --duration 1 --backoff "$b" 2>&1)
    expect_grep "load --backoff $b is refused" "--backoff wants MS or MS:MAX_MS" "$out"
done

if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null || ! command -v python3 >/dev/null; then
    echo "SKIP the timeline checks: etcd, etcdctl or python3 is not installed (make test-deps installs them)"
    summary
    exit
fi

# ---------------- a private 3-member etcd cluster on loopback ----------------
CLUSTER=""
set -- $(free_ports 6)
for i in 1 2 3; do
    eval "CP$i=\$1 PP$i=\$2"
    shift 2
    eval "CLUSTER=\"\$CLUSTER\${CLUSTER:+,}m$i=http://127.0.0.1:\$PP$i\""
done
for i in 1 2 3; do
    eval "cp=\$CP$i pp=\$PP$i"
    etcd --name "m$i" --data-dir "$TMP/m$i" --initial-cluster-token "tl-$$" \
        --listen-client-urls "http://127.0.0.1:$cp" --advertise-client-urls "http://127.0.0.1:$cp" \
        --listen-peer-urls "http://127.0.0.1:$pp" --initial-advertise-peer-urls "http://127.0.0.1:$pp" \
        --initial-cluster "$CLUSTER" --initial-cluster-state new >"$TMP/m$i.log" 2>&1 &
    eval "EPID$i=\$!"
    PIDS="$PIDS $!"
done
ALL=127.0.0.1:$CP1,127.0.0.1:$CP2,127.0.0.1:$CP3
if wait_until 30 etcdctl --endpoints "$ALL" --dial-timeout 1s endpoint health; then
    ok "a 3-member etcd cluster started on $ALL"
else
    bad "a 3-member etcd cluster starts" "$(tail -n 5 "$TMP/m1.log")"
    summary
    exit 1
fi
# The keeper talks to the first endpoint of its URL: a follower, so that killing it needs
# no election and another member answers the next keepalive at once.
status=$(etcdctl --endpoints "$ALL" endpoint status 2>&1)
FIRST=$(printf '%s\n' "$status" | awk -F', ' '$5 == "false" { print $1; exit }')
OTHERS=$(printf '%s\n' "$ALL" | tr ',' '\n' | grep -vx "$FIRST" | paste -sd, -)
for i in 1 2 3; do eval "[ \"127.0.0.1:\$CP$i\" = \"$FIRST\" ] && FIRST_PID=\$EPID$i"; done
[ -n "$FIRST" ] && [ -n "${FIRST_PID:-}" ] || bad "etcdctl names a follower" "$status"

EV=$TMP/events
export WB_LAB_EVENTS=$EV WB_LAB_T0
WB_LAB_T0=$(mono_ms)

# ---------------- the keeper: registered, refreshed via another member ----------------
start s1 env WB_LAB_HOST=host1 "$BIN/grpc-server" --listen 127.0.0.1:0 --registry "etcd://$FIRST,$OTHERS" \
    --service tl --ttl 2 && S1=$ADDR S1_PID=$PID
wait_until 5 grep -q "keepalive registered tl" "$EV"
expect_re "host1's keeper writes: registered tl ADDR via the first member" \
    "^[0-9]+ host1 keepalive registered tl $S1 via $FIRST\$" "$(ev)"
kill -KILL "$FIRST_PID"
wait "$FIRST_PID" 2>/dev/null
wait_until 8 grep -q "keepalive refreshed via" "$EV"
expect_re "SIGKILL the member it talks to: refreshed via another member (the first did not answer)" \
    "^[0-9]+ host1 keepalive refreshed via ($(printf '%s' "$OTHERS" | sed 's/,/|/')) \\($FIRST did not answer\\)\$" "$(ev)"
expect_eq "written once, when the endpoint changed" 1 "$(grep -c "keepalive refreshed via" "$EV")"
expect_no_grep "no outage was seen: another member answered" "keepalive failed" "$(ev)"

# ---------------- workbench load: a server SIGKILLed during the run ----------------
start s2 env WB_LAB_HOST=host2 "$BIN/grpc-server" --listen 127.0.0.1:0 --registry "etcd://$OTHERS" \
    --service tl --ttl 2 && S2=$ADDR S2_PID=$PID
wait_until 5 grep -q "host2 keepalive registered tl" "$EV"
env WB_LAB_HOST=client timeout 30 "$BIN/workbench" load --registry "etcd://$OTHERS" --service tl --codec grpc \
    --method helloworld.Greeter/SayHello --args '{}' --rate 100 --duration 6 --no-retry >"$TMP/load1.out" 2>&1 &
LP=$!
PIDS="$PIDS $LP"
wait_until 10 grep -q "client load start" "$EV"
wait_until 5 sh -c "[ \$(grep -c 'client registry added' '$EV') -ge 2 ]"
sleep 1 # calls flow to both
kill -KILL "$S2_PID"
wait "$S2_PID" 2>/dev/null
wait "$LP"
expect_eq "the load ran to its end" 0 "$?"
out=$(ev)
expect_re "load start" "^[0-9]+ client load start tl at 100/s\$" "$out"
expect_re "registry added (both servers)" "client registry added $S2\$" "$out"
expect_re "balancer ejected the killed server for 250 ms (the default backoff)" \
    "^[0-9]+ client balancer ejected $S2 for 250 ms: " "$out"
expect_re "registry dropped it (its lease ran out)" "^[0-9]+ client registry dropped $S2\$" "$out"
expect_re "calls failed N calls (ADDR: REASON)" "^[0-9]+ client calls failed [0-9]+ calls \\($S2: .+\\)\$" "$out"
expect_re "load end" "^[0-9]+ client load end: [0-9]+ calls, [0-9]+ failed\$" "$out"
sum=$(sed -nE 's/^[0-9]+ client calls failed ([0-9]+) calls .*/\1/p' "$EV" | awk '{ s += $1 } END { print s + 0 }')
m=$(sed -nE 's/^[0-9]+ client load end: [0-9]+ calls, ([0-9]+) failed$/\1/p' "$EV")
expect_eq "the calls failed lines add up to the failed calls of the load's end" "${m:-?}" "${sum:-0}"
gaps=$(grep " client calls failed " "$EV" | awk 'NR > 1 && $1 - prev < 100 { print } { prev = $1 }')
expect_eq "at most one calls failed line each 100 ms" "" "$gaps"
ej=$(grep -m1 -E " client balancer ejected $S2 " "$EV" | cut -d' ' -f1)
dr=$(grep -m1 -E " client registry dropped $S2\$" "$EV" | cut -d' ' -f1)
if [ -n "$ej" ] && [ -n "$dr" ] && [ "$ej" -lt "$dr" ]; then ok "ejected (${ej} ms) before the registry dropped it (${dr} ms)"
else bad "ejected before the registry dropped it" "$out"; fi
expect_grep "the report prints the knobs in use" "knobs: --timeout 1000 ms, --eject-after 1, --backoff 250:5000 ms, --ttl 5 s" \
    "$(cat "$TMP/load1.out")"

# ---------------- --eject-after and --backoff change what is written ----------------
# An instance that refuses every connection (a key without a lease, a port nothing
# listens on) beside a live server: every failed call is the dead one's.
DEAD=127.0.0.1:$(free_port)
etcdctl --endpoints "$OTHERS" put "knobs/$DEAD" "{\"Op\":0,\"Addr\":\"$DEAD\",\"Metadata\":{\"protocol\":\"grpc\"}}" >/dev/null
start s3 env WB_LAB_HOST=host3 "$BIN/grpc-server" --listen 127.0.0.1:0 --registry "etcd://$OTHERS" \
    --service knobs --ttl 5
wait_until 5 grep -q "host3 keepalive registered knobs" "$EV"
knobs_run() { # knobs_run FILE ARGS...: a 2.5 s load on knobs writing into FILE
    local f=$1
    shift
    WB_LAB_EVENTS=$f WB_LAB_HOST=client timeout 30 "$BIN/workbench" load --registry "etcd://$OTHERS" \
        --service knobs --codec grpc --method helloworld.Greeter/SayHello --args '{}' --rate 100 \
        --duration 2.5 --no-retry "$@" >"$f.out" 2>&1
}
knobs_run "$TMP/ev-default"
knobs_run "$TMP/ev-knobs" --eject-after 3 --backoff 100:400
expect_eq "default: ejected for 250, 500, 1000 ms, doubling" "250 500 1000" \
    "$(ejections "$TMP/ev-default" "$DEAD" | head -n 3 | paste -sd' ' -)"
expect_eq "--backoff 100:400: ejected for 100, 200, 400, 400 ms" "100 200 400 400" \
    "$(ejections "$TMP/ev-knobs" "$DEAD" | head -n 4 | paste -sd' ' -)"
expect_eq "--backoff 100:400: never longer than 400 ms" "400" "$(ejections "$TMP/ev-knobs" "$DEAD" | sort -n | tail -n 1)"
expect_eq "default: each failed call ejects (failed calls = ejections)" 0 "$(failed_less_ejections "$TMP/ev-default")"
expect_eq "--eject-after 3: two failed calls more than ejections (the first two do not eject)" 2 \
    "$(failed_less_ejections "$TMP/ev-knobs")"
expect_grep "--eject-after 3: the report prints its knobs" "knobs: --timeout 1000 ms, --eject-after 3, --backoff 100:400 ms" \
    "$(cat "$TMP/ev-knobs.out")"

# ---------------- the registry away and back ----------------
etcd_start solo "$TMP/solo" "$TMP/solo.log" && SOLO=$EP SOLO_PID=$ETCD_PID
PIDS="$PIDS ${SOLO_PID:-}"
start s5 env WB_LAB_HOST=host5 "$BIN/grpc-server" --listen 127.0.0.1:0 --registry "etcd://$SOLO" \
    --service away --ttl 3
wait_until 5 grep -q "host5 keepalive registered away" "$EV"
kill -KILL "$SOLO_PID"
wait "$SOLO_PID" 2>/dev/null
wait_until 5 grep -q "host5 keepalive failed" "$EV"
etcd_start solo "$TMP/solo" "$TMP/solo.log" "${SOLO##*:}" "$etcd_pport" && PIDS="$PIDS $ETCD_PID"
wait_until 10 grep -q "host5 keepalive back via" "$EV"
out=$(ev)
expect_re "etcd killed: failed: REASON (once)" "^[0-9]+ host5 keepalive failed: .*$SOLO" "$out"
expect_eq "the failure is written once per outage" 1 "$(grep -c "host5 keepalive failed" "$EV")"
expect_re "etcd back: back via ENDPOINT after N s" "^[0-9]+ host5 keepalive back via $SOLO after [0-9.]+ s\$" "$out"

# ---------------- SIGTERM: deregistered ----------------
stop "$S1_PID"
expect_re "SIGTERM: deregistered" "^[0-9]+ host1 keepalive deregistered\$" "$(ev)"

# ---------------- Consul: interval= and deregister= reach the agent ----------------
if ! command -v consul >/dev/null 2>&1; then
    echo "SKIP Consul's interval= and deregister=: consul is not installed (make test-deps links it)"
else
    mkdir -p "$TMP/consul-data"
    consul_dev_start "$TMP/consul.log" -data-dir "$TMP/consul-data"
    started=$?
    PIDS="$PIDS $CONSUL_PID"
    HP=$CONSUL_PORT
    # consul_check SERVICE: "TYPE ADDR INTERVAL DEREGISTER" of the service's check, from
    # /v1/agent/checks; Consul 1.8 leaves its Definition empty there for a check registered
    # through the agent, so the timing then comes from the definition the agent keeps in
    # its data dir (checks/*: the ChkType it runs, durations in ns).
    consul_check() {
        curl -s "http://127.0.0.1:$HP/v1/agent/checks" | python3 -c '
import glob, json, sys
def s(v):
    return "%gs" % (v / 1e9) if isinstance(v, (int, float)) else v
for c in json.load(sys.stdin).values():
    if c.get("ServiceName") != sys.argv[1]:
        continue
    d = c.get("Definition") or {}
    if not d.get("Interval"):
        for f in glob.glob(sys.argv[2] + "/checks/*"):
            p = json.load(open(f))
            if p["Check"]["CheckID"] == c["CheckID"]:
                d = p["ChkType"]
    print(c.get("Type"), d.get("TCP"), s(d.get("Interval")), s(d.get("DeregisterCriticalServiceAfter")))' \
            "$1" "$TMP/consul-data"
    }
    if [ $started -eq 0 ]; then
        start s4 env WB_LAB_HOST=host4 "$BIN/grpc-server" --listen 127.0.0.1:0 \
            --registry "consul://127.0.0.1:$HP?check=tcp&interval=3&deregister=90" --service ctl --ttl 6 &&
            S4=$ADDR S4_PID=$PID
        start s6 env WB_LAB_HOST=host6 "$BIN/grpc-server" --listen 127.0.0.1:0 --registry "consul://127.0.0.1:$HP?check=tcp" \
            --service cdefault --ttl 6 && S6=$ADDR
        wait_until 5 grep -q "host4 keepalive registered ctl" "$EV"
        wait_until 5 sh -c "curl -s 'http://127.0.0.1:$HP/v1/agent/checks' | grep -q cdefault"
        expect_re "consul: registered ctl ADDR via the agent" "^[0-9]+ host4 keepalive registered ctl $S4 via 127.0.0.1:$HP\$" "$(ev)"
        expect_eq "consul: ?check=tcp&interval=3&deregister=90: a TCP check every 3 s, removed after 90 s critical" \
            "tcp $S4 3s 90s" "$(consul_check ctl)"
        expect_eq "consul: without them the defaults stay: every TTL/3 = 2 s, removed after 60 s" \
            "tcp ${S6:-?} 2s 60s" "$(consul_check cdefault)"
        expect_grep "consul: the server's log says the interval" "check every 3s" "$(cat "$TMP/s4.err" "$TMP/s4.out")"
        stop "$S4_PID"
        expect_re "consul: SIGTERM: deregistered" "^[0-9]+ host4 keepalive deregistered\$" "$(ev)"
    else
        bad "consul agent -dev starts" "$(tail -n 5 "$TMP/consul.log")"
    fi
fi

echo "An excerpt of the timeline:"
sort -n "$EV" | head -n 40 | sed "s/^/  /"
summary
