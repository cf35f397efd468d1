#!/usr/bin/env bash
# lab.sh -- the lab part of `make bench`: how long a fault takes to be noticed, and what it
# costs in calls, read from the lab's timeline, for our client and for the one a learner
# of the etcd tutorial would write instead. In a lab of 6 hosts a 3-member registry (etcd,
# then Consul) runs on host3..5 and our grpc-server on host1 and host2, registered in it;
# `workbench load` calls them from the client host at 100/s and, with etcd, at the same
# time and rate, the Go peer calls them from host6 (tests/go/labclient: grpc-go's
# round_robin over lessons/go/etcdnaming's resolver, grpc-go at its defaults with the same
# call deadline; Consul: ours only, grpc-go has no Consul resolver). Then one fault: host1
# killed, host1 cut, the registry leader's host killed, host1 alone in a partition, 30%
# loss on host1's link. Each at the default knobs (TTL 10 s, eject after 1 failure,
# backoff 250:5000 ms, call timeout 1000 ms) and at tight ones (TTL 2 s, backoff
# 100:1000 ms, timeout 300 ms; Consul checks every 1 s). Prints, per run and client, the
# detection time (the fault to the client's first "balancer ejected" or "registry
# dropped" of host1's instance), its ratio ours/peer, the calls that failed after the
# fault out of the calls made, and after the leader's host was killed, the time until a
# new leader was seen. Needs root.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/bin}
RATE=${BENCH_LAB_RATE:-100}
LOAD_S=${BENCH_LAB_SECONDS:-12}  # the load's length; the fault comes 2 s in
KNOBS=${BENCH_LAB_KNOBS:-default tight}
FAULTS=${BENCH_LAB_FAULTS:-kill cut leader partition loss}
KEEP=${BENCH_LAB_KEEP:-}  # a directory to keep each run's lab output and timeline in
. "$ROOT/tests/integration/lib.sh"

[ "$(id -u)" = 0 ] || { echo "lab: skipped (not root: the lab needs CAP_SYS_ADMIN and CAP_NET_ADMIN)"; exit 0; }
[ -x "$BIN/workbench" ] && [ -x "$BIN/grpc-server" ] || { echo "lab: skipped (bin/workbench is not built)"; exit 0; }
probe=$(timeout 20 "$BIN/workbench" lab --hosts 1 2>&1) || { echo "lab: skipped ($probe)"; exit 0; }

# The Go peer imports the lesson's resolver as the package etcdnaming.
PEER=""
mkdir -p "$ROOT/build/gopath/src/etcdnaming"
cp "$ROOT"/lessons/go/etcdnaming/*.go "$ROOT/build/gopath/src/etcdnaming/" &&
    build_go labclient && PEER=$ROOT/build/go/labclient ||
    echo "lab: the Go peer skipped (tests/go/labclient could not be built)"

# script REGISTRY KNOBS FAULT: the lab script of one run
script() {
    local reg=$1 knobs=$2 fault=$3 ttl=10 timeout=1000 load="--eject-after 1 --backoff 250:5000" url
    [ "$knobs" = tight ] && ttl=2 timeout=300 load="--eject-after 1 --backoff 100:1000"
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
    local loads=1
    if [ "$reg" = etcd ] && [ -n "$PEER" ]; then
        echo "host6: $PEER -etcd \$ETCD -service hello -rate $RATE -duration ${LOAD_S}s -timeout ${timeout}ms &"
        loads=2
    fi
    echo "client: workbench load --registry \$${reg^^} --service hello --codec grpc --method helloworld.Greeter/SayHello --args '{\"name\":\"lab\"}' --rate $RATE --duration $LOAD_S --timeout $timeout $load &"
    echo "sleep 2000"
    case $fault in
        kill) echo "kill host1" ;;
        cut) echo "cut host1" ;;
        leader) echo "kill-leader $reg" && echo "leader $reg 10000" ;;
        partition) echo "partition host1" ;;
        loss) echo "loss host1 30" ;;
    esac
    # until every load has ended (its last line is on the timeline), at most its length + 10 s
    echo "client: for i in \$(seq $(((LOAD_S + 10) * 10))); do [ \$(grep -c ' load end:' \$WB_LAB_EVENTS) -ge $loads ] && break; sleep 0.1; done"
    echo "client: cp \$WB_LAB_EVENTS $TMP/$reg-$knobs-$fault.events"
    echo "timeline"
}

# figures EVENTS HOST: "DETECTION FAILED MADE LEADER" of the client on HOST, from the
# timeline's lines "MS HOST WHO TEXT": the first fault (host "lab"), its harmed host (the
# side of a partition without the client), the first "balancer ejected" or "registry
# dropped" of an instance there by HOST (seconds, "none" when traffic never moved, "-"
# when no instance was there), the calls failed after the fault and the calls made, and
# after kill-leader the seconds to the next leader line ("-" otherwise). The lab stamps
# its fault line when the fault begins; a line at most 100 ms before it (written by an
# older workbench, which stamped a kill once its processes were reaped) counts as 0 s.
figures() {
    sort -s -n -k1,1 "$1" | awk -v me="$2" '
        function ip(h) { return h ~ /^host[0-9]+$/ ? "10.77.0." (10 + substr(h, 5)) : h }
        $2 == "lab" && $3 == "fault" && !at && $4 ~ /^(cut|kill|loss|partition|kill-leader|cut-follower)$/ && !($4 == "loss" && $6 == "0%") {
            at = $1; kind = $4
            harmed = (kind == "kill-leader" || kind == "cut-follower") ? $6 : $5
            if (ip(harmed) in pre && at - pre[ip(harmed)] <= 100) det = "0.000"
            next
        }
        $2 == "lab" && $3 == "fault" && at && kind == "kill-leader" && $4 == "leader" && leader == "" {
            leader = sprintf("%.3f", ($1 - at) / 1000); next
        }
        $2 != me { next }
        $3 == "registry" && $4 == "added" { split($5, a, ":"); seen[a[1]] = 1 }
        $3 == "load" && $4 == "end:" { made = $5 }
        !at && (($3 == "balancer" && $4 == "ejected") || ($3 == "registry" && $4 == "dropped")) {
            split($5, a, ":"); pre[a[1]] = $1
        }
        !at { next }
        $3 == "calls" && $4 == "failed" { failed += $5 }
        (($3 == "balancer" && $4 == "ejected") || ($3 == "registry" && $4 == "dropped")) && det == "" {
            split($5, a, ":")
            if (a[1] == ip(harmed) || a[1] == harmed) det = sprintf("%.3f", ($1 - at) / 1000)
        }
        END {
            if (det == "") det = seen[ip(harmed)] ? "none" : "-"
            printf "%s %d %s %s\n", det, failed, made == "" ? "?" : made, leader == "" ? "-" : leader
        }'
}

# run REGISTRY KNOBS FAULT: runs one lab, prints its row
run() {
    local reg=$1 knobs=$2 fault=$3 out base=$TMP/$1-$2-$3 ours peer ratio
    script "$reg" "$knobs" "$fault" >"$base.lab"
    out=$(timeout 120 "$BIN/workbench" lab --hosts 6 --timeout $(((LOAD_S + 15) * 1000)) \
        --script "$base.lab" 2>&1)
    printf '%s\n' "$out" >"$base.out"
    [ -z "$KEEP" ] || { mkdir -p "$KEEP" && cp "$base".* "$KEEP/"; }
    if [ "$fault" = loss ] && printf '%s' "$out" | grep -q "not supported here"; then
        printf '%-7s %-8s %-20s %s\n' "$reg" "$knobs" "$(name "$fault")" "packet loss is not supported here"
        return
    fi
    if [ ! -s "$base.events" ] || ! grep -q ' client load end:' "$base.events"; then
        printf '%-7s %-8s %-20s %s\n' "$reg" "$knobs" "$(name "$fault")" \
            "(the run did not finish: $(printf '%s\n' "$out" | grep -m 1 -E 'wants|cannot|no |error' | sed 's/^ *//' | cut -c1-60))"
        return
    fi
    read -r od of om ol <<<"$(figures "$base.events" client)"
    if [ "$reg" = etcd ] && [ -n "$PEER" ]; then
        read -r pd pf pm _ <<<"$(figures "$base.events" host6)"
    else
        pd=- pf=- pm=-
    fi
    ratio=$(awk -v o="$od" -v p="$pd" 'BEGIN {
        if (o ~ /^[0-9.]+$/ && p ~ /^[0-9.]+$/ && p > 0) printf "%.2fx", o / p; else print "-" }')
    [ "$pf" = - ] && peer=- || peer=$pf/$pm
    printf '%-7s %-8s %-19s %9s %9s %7s %11s %11s %7s\n' "$reg" "$knobs" "$(name "$fault")" "$(secs "$od")" \
        "$(secs "$pd")" "$ratio" "$of/$om" "$peer" "$(secs "$ol")"
}

# secs X: X with " s" after a number
secs() { case $1 in [0-9]*) echo "$1 s" ;; *) echo "$1" ;; esac; }

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
echo "lab: 6 hosts; the registry on host3..5, grpc-server on host1 and host2; for ${LOAD_S} s at $RATE/s,"
echo "     ours: workbench load from the client host; peer (etcd only): grpc-go round_robin over"
echo "     the etcd resolver of lessons/go/etcdnaming, from host6, at the same time. The fault"
echo "     2 s in. default: TTL 10 s, timeout 1000 ms, ours eject after 1, backoff 250:5000 ms;"
echo "     tight: TTL 2 s, timeout 300 ms, backoff 100:1000 ms (Consul: checks every 1 s)."
echo "     Detection: the fault to host1's instance ejected or dropped (none: never; -: no"
echo "     instance on the harmed host); ratio ours/peer; failed calls after the fault/made."
printf '%-7s %-8s %-19s %9s %9s %7s %11s %11s %7s\n' registry knobs fault "ours det" "peer det" ratio \
    "ours fail" "peer fail" leader
for reg in ${BENCH_LAB_REGISTRIES:-$REGS}; do
    for knobs in $KNOBS; do
        for fault in $FAULTS; do
            run "$reg" "$knobs" "$fault"
        done
    done
done
