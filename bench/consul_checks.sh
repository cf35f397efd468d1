#!/usr/bin/env bash
# consul_checks.sh -- how fast Consul's health checks notice a dead server, for each check
# kind the servers register (gRPC health, TCP, TTL), against a private `consul agent -dev`
# on free loopback ports. Per kind: SIGTERM to gone from the catalog; SIGKILL to out of
# ?passing (the check turns critical); SIGKILL to the balancer dropping it and the calls
# that failed across the kill (a `workbench load` run); SIGKILL to Consul deregistering it
# (DeregisterCriticalServiceAfter, at least a minute, plus the agent's reaper round). The
# times come from `workbench registry --watch` lines (blocking queries, stamped to the ms).
# Bounded: about two minutes, most of it waiting for the reaper.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"
PATH=$BIN:$PATH
if ! command -v consul >/dev/null; then
    echo "consul checks: skipped (no consul: sh mk/consul.sh bin fetches Debian 11's)"
    exit 0
fi
REAP_WAIT=${BENCH_REAP_SECONDS:-100}   # the reaper: 60 s after critical, then its round
KINDS="grpc tcp ttl"
ttl_of() { [ "$1" = ttl ] && echo 10 || echo 3; }  # the check runs every TTL/3 (>= 1 s)

consul_dev_start "$TMP/consul.log"
started=$?
PIDS="$PIDS $CONSUL_PID"
HP=$CONSUL_PORT
if [ $started -ne 0 ]; then
    echo "consul checks: the agent did not start: $(tail -n 5 "$TMP/consul.log")"
    exit 1
fi
URL=consul://127.0.0.1:$HP

stamp() { date +%H:%M:%S.%3N; }
# secs_between A B: B - A in seconds, both HH:MM:SS.mmm (across midnight too)
secs_between() {
    awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, ":"); split(b, y, ":");
        d = (y[1] * 3600 + y[2] * 60 + y[3]) - (x[1] * 3600 + x[2] * 60 + x[3]); if (d < -43200) d += 86400;
        printf "%.3f", d }'
}
# first_after KIND T PATTERN: the stamp of the first watch line of KIND at or after T matching PATTERN
first_after() {
    awk -v t="$2" -v re="$3" '$1 >= t && $0 ~ re { print $1; exit }' "$TMP/watch-$1.out"
}
passing() { curl -sf "http://127.0.0.1:$HP/v1/health/service/bench-$1?passing" | grep -qE "\"Port\": ?$2\b"; }
serve() { # serve KIND [ADDR]: a grpc-server with that check, registered as bench-KIND
    start "srv-$1${2:+-again}" "$BIN/grpc-server" --listen "${2:-127.0.0.1:0}" --quiet --registry "$URL?check=$1" \
        --service "bench-$1" --ttl "$(ttl_of "$1")" || return 1
    eval "PID_$1=$PID ADDR_$1=$ADDR"
    wait_until 15 passing "$1" "${ADDR##*:}"
}

for k in $KINDS; do
    "$BIN/workbench" registry "$URL" "bench-$k" --watch >"$TMP/watch-$k.out" 2>&1 &
    PIDS="$PIDS $!"
done
sleep 1

# SIGTERM: the server deregisters itself on the way out.
for k in $KINDS; do serve "$k" || { echo "consul checks: bench-$k did not pass its check"; exit 1; }; done
sleep 1
T_TERM=$(stamp)
for k in $KINDS; do eval "kill -TERM \$PID_$k"; done
for k in $KINDS; do eval "wait \$PID_$k" 2>/dev/null; done
sleep 2
# SIGKILL: a server again on the same address, then killed; its check goes critical, and
# the agent reaps it later.
for k in $KINDS; do eval "serve $k \$ADDR_$k" || { echo "consul checks: bench-$k did not pass again"; exit 1; }; done
sleep 2
T_KILL=$(stamp)
for k in $KINDS; do eval "kill -KILL \$PID_$k; wait \$PID_$k" 2>/dev/null; done
REAP_DUE=$(($(date +%s) + REAP_WAIT))

# Meanwhile, the balancer's view: `workbench load` with two servers per kind, one killed.
for k in $KINDS; do
    "$BIN/workbench" load --registry "$URL?check=$k" --service "load-$k" --codec grpc --spawn 2 --rate 200 \
        --duration $(($(ttl_of "$k") + 4)) --kill-after 2 --ttl "$(ttl_of "$k")" >"$TMP/load-$k.out" 2>&1
done

gone_all() {
    for k in $KINDS; do [ -n "$(first_after "$k" "$T_KILL" DELETE)" ] || return 1; done
}
while ! gone_all && [ "$(date +%s)" -lt "$REAP_DUE" ]; do sleep 1; done

# cell KIND T PATTERN: seconds from T to the first watch line matching PATTERN, or "-"
cell() { s=$(first_after "$1" "$2" "$3"); [ -n "$s" ] && secs_between "$2" "$s" || echo "-"; }
load_field() { # load_field KIND LABEL: the seconds after the signal on the report's LABEL line
    sed -n "s/^  $2: *+\([0-9.]*\) s after the signal.*/\1/p" "$TMP/load-$1.out" | head -n 1
}
echo "consul agent -dev (consul $(consul version | head -n 1 | sed 's/^Consul //')): a gRPC server killed, per check kind"
printf '%-22s %11s %11s %11s %11s %9s %12s\n' check "out ?passng" "lb drops" "last call" "failed/rtr" deregist "SIGTERM-gone"
for k in $KINDS; do
    case $k in grpc) name="gRPC health (1 s)" ;; tcp) name="TCP (1 s)" ;; ttl) name="TTL (10 s)" ;; esac
    failed=$(sed -n 's/.* \([0-9]*\) failed after retries, \([0-9]*\) retried.*/\1\/\2/p' "$TMP/load-$k.out")
    drop=$(load_field "$k" "registry dropped it")
    last=$(load_field "$k" "last call sent to it")
    printf '%-22s %10ss %10ss %10ss %11s %8ss %11ss\n' "$name" "$(cell "$k" "$T_KILL" '-> critical')" \
        "${drop:--}" "${last:--}" "${failed:-?}" "$(cell "$k" "$T_KILL" DELETE)" "$(cell "$k" "$T_TERM" DELETE)"
done
echo "  out ?passing: SIGKILL to the check's critical status (the watch's CHECK line); lb drops: to the"
echo "  load's balancer dropping it, last call: to the last call it was sent, failed/rtr: calls failed"
echo "  after retries / retried (workbench load, 200/s); deregist: to Consul reaping it (critical for"
echo "  DeregisterCriticalServiceAfter, 60 s at least, then the agent's reaper round); SIGTERM-gone:"
echo "  the server deregisters itself. '-': not within the run (${REAP_WAIT} s)"
