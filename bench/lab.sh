#!/usr/bin/env bash
# lab.sh -- the lab part of `make bench`: how long a fault takes to be noticed, and what it
# costs in calls, read from the lab's timeline. In a lab of 5 hosts a 3-member registry
# (etcd, then Consul) runs on host3..5 and our grpc-server on host1 and host2, registered
# in it; `workbench load` calls them from the client host at 100/s. Then one fault: host1
# killed, host1 cut, the registry leader's host killed, host1 alone in a partition, 30%
# loss on host1's link. Each at the default knobs (TTL 10 s, eject after 1 failure,
# backoff 250:5000 ms, call timeout 1000 ms) and at tight ones (TTL 2 s, backoff
# 100:1000 ms, timeout 300 ms; Consul checks every 1 s). Prints, per run, the detection
# time (the fault to the first "balancer ejected" or "registry dropped" of host1's
# instance), the calls that failed after the fault out of the calls made, and after the
# leader's host was killed, the time until a new leader was seen. Needs root.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/bin}
RATE=${BENCH_LAB_RATE:-100}
LOAD_S=${BENCH_LAB_SECONDS:-12}  # the load's length; the fault comes 2 s in
. "$ROOT/tests/integration/lib.sh"

[ "$(id -u)" = 0 ] || { echo "lab: skipped (not root: the lab needs CAP_SYS_ADMIN and CAP_NET_ADMIN)"; exit 0; }
[ -x "$BIN/workbench" ] && [ -x "$BIN/grpc-server" ] || { echo "lab: skipped (bin/workbench is not built)"; exit 0; }
probe=$(timeout 20 "$BIN/workbench" lab --hosts 1 2>&1) || { echo "lab: skipped ($probe)"; exit 0; }

# script REGISTRY KNOBS FAULT: the lab script of one run
script() {
    local reg=$1 knobs=$2 fault=$3 ttl=10 load="--timeout 1000 --eject-after 1 --backoff 250:5000" url
    [ "$knobs" = tight ] && ttl=2 load="--timeout 300 --eject-after 1 --backoff 100:1000"
    if [ "$reg" = etcd ]; then
        url='$ETCD'
    else
        url='$CONSUL'
        [ "$knobs" = tight ] && url='$CONSUL?interval=1'
    fi
    echo "$reg host3 host4 host5"
    for h in 1 2; do
        echo "host$h: grpc-server --listen 10.77.0.1$h:50051 --registry \"$url\" --service hello --ttl $ttl --quiet &"
        echo "wait host$h:50051"
    done
    # both instances listed (passing, for Consul) from the client host, at most 20 s
    echo "client: for i in \$(seq 200); do [ \"\$(workbench registry \$${reg^^} hello | grep -v critical | grep -c protocol=)\" = 2 ] && break; sleep 0.1; done"
    echo "client: workbench load --registry \$${reg^^} --service hello --codec grpc --method helloworld.Greeter/SayHello --args '{\"name\":\"lab\"}' --rate $RATE --duration $LOAD_S $load &"
    echo "sleep 2000"
    case $fault in
        kill) echo "kill host1" ;;
        cut) echo "cut host1" ;;
        leader) echo "kill-leader $reg" && echo "leader $reg 10000" ;;
        partition) echo "partition host1" ;;
        loss) echo "loss host1 30" ;;
    esac
    # until the load has ended (its last line is on the timeline), at most its length + 10 s
    echo "client: for i in \$(seq $(((LOAD_S + 10) * 10))); do grep -q ' load end:' \$WB_LAB_EVENTS && break; sleep 0.1; done"
    echo "timeline"
}

# run REGISTRY KNOBS FAULT: runs one lab, prints its row
run() {
    local reg=$1 knobs=$2 fault=$3 out det failed made leader
    script "$reg" "$knobs" "$fault" >"$TMP/$reg-$knobs-$fault.lab"
    out=$(timeout 120 "$BIN/workbench" lab --hosts 5 --timeout $(((LOAD_S + 15) * 1000)) \
        --script "$TMP/$reg-$knobs-$fault.lab" 2>&1)
    printf '%s\n' "$out" >"$TMP/$reg-$knobs-$fault.out"
    if [ "$fault" = loss ] && printf '%s' "$out" | grep -q "not supported here"; then
        printf '%-7s %-8s %-20s %s\n' "$reg" "$knobs" "$(name "$fault")" "packet loss is not supported here"
        return
    fi
    local tl
    tl=$(printf '%s\n' "$out" | sed -n '/^ *[0-9.]* timeline$/,$p')
    det=$(printf '%s\n' "$tl" | grep -m 1 -oE 'detected in [0-9.]+ s|no detection: .*' |
        sed -e 's/detected in //' -e 's/no detection: //')
    failed=$(printf '%s\n' "$tl" | grep -m 1 -oE 'calls failed: [0-9]+' | awk '{print $3}')
    made=$(printf '%s\n' "$tl" | grep -m 1 -oE 'load end: [0-9]+ calls' | awk '{print $3}')
    leader=$(printf '%s\n' "$tl" | grep -m 1 -oE 'leader seen after [0-9.]+ s' | awk '{print $4, $5}')
    [ -n "$det" ] && [ -n "$made" ] || det="(the run did not finish: $(printf '%s\n' "$out" | grep -m 1 -E 'wants|cannot|no |error' | sed 's/^ *//' | cut -c1-60))"
    printf '%-7s %-8s %-20s %-22s %13s %10s\n' "$reg" "$knobs" "$(name "$fault")" "$det" "${failed:-?}/${made:-?}" "${leader:--}"
}

name() {
    case $1 in
        kill) echo "kill host1" ;;
        cut) echo "cut host1" ;;
        leader) echo "kill leader's host" ;;
        partition) echo "partition host1" ;;
        loss) echo "30% loss on host1" ;;
    esac
}

REGS=""
command -v etcd >/dev/null && REGS="etcd" || echo "lab: etcd skipped (etcd is not installed)"
command -v consul >/dev/null && REGS="$REGS consul" || echo "lab: Consul skipped (consul is not installed; mk/consul.sh)"
echo "lab: 5 hosts; the registry on host3..5, grpc-server on host1 and host2; workbench load at $RATE/s"
echo "     for ${LOAD_S} s from the client host, the fault 2 s in. default: TTL 10 s, eject after 1,"
echo "     backoff 250:5000 ms, timeout 1000 ms; tight: TTL 2 s, backoff 100:1000 ms, timeout 300 ms"
echo "     (Consul: checks every 1 s). Detection: the fault to host1's instance ejected or dropped."
printf '%-7s %-8s %-20s %-22s %13s %10s\n' registry knobs fault detection failed/calls "new leader"
for reg in $REGS; do
    for knobs in default tight; do
        for fault in kill cut leader partition loss; do
            run "$reg" "$knobs" "$fault"
        done
    done
done
