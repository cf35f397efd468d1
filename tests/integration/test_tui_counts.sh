#!/bin/bash
# test_tui_counts.sh -- the counters tell the truth, at 80x24: a call answered with an
# error (Arith.Divide by zero) is a call of the instance that answered and one of its
# errors, in the TUI's Instances and Traffic panes and in `workbench load`'s report alike;
# two JSON-RPC servers and a gob server each get a third of the load's calls; an instance
# the load does not call shows no count, and the Traffic pane says what it counts.
# Needs tmux and etcd (Debian's etcd-server); the TUI starts its own etcd and servers.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"

# ---- 1. workbench load: an error reply is a call and an error of its instance ----
out=$("$BIN/workbench" load --service hello --codec json --registry static --spawn 2 --rate 100 --duration 1 \
    --method Arith.Divide --args '{"A":1,"B":0}' 2>&1)
lines=$(echo "$out" | grep -E '^  127\.0\.0\.1:[0-9]+ ')
expect_eq "load: both instances are in the report" 2 "$(echo "$lines" | grep -c .)"
# columns: instance calls share errors failed p50 p99
bad_rows=$(echo "$lines" | awk '!($2 > 20 && $4 == $2 && $5 == 0)')
if [ -z "$bad_rows" ]; then ok "load: each instance's calls are its error replies, none failed ($(echo "$lines" | awk '{printf "%s/%s ", $2, $4}'))"
else bad "load: each instance's calls are its error replies, none failed" "$out"; fi
expect_grep "load: the report says how it counts" "calls: answered by the instance, with a result or with an error" "$out"

# ---- 2. the TUI at 80x24 ----
. "$ROOT/tests/integration/tui_lib.sh"

# counts_of ID: "CALLS ERRORS FAILED" of instance #ID in the Instances pane
counts_of() { screen | grep -E "^│[ >▶]$1 " | head -n 1 | awk '{print $(NF-3), $(NF-2), $(NF-1)}'; }

start_tui 80 24
if wait_for 20 'watch liv'; then ok "the TUI starts at 80x24"; else bad "the TUI starts at 80x24" "$(screen)"; fi
key j
wait_for 10 '1 +json +127\.0\.0\.1:[0-9]+ +[0-9]+ running' || true
key j
wait_for 10 '2 +json +127\.0\.0\.1:[0-9]+ +[0-9]+ running' || true
key b
wait_for 10 '3 +gob +127\.0\.0\.1:[0-9]+ +[0-9]+ running' || true
key o
wait_for 20 '4 +order +127\.0\.0\.1:[0-9]+ +[0-9]+ running' || true
n=0
for _ in $(seq 100); do
    n=$(screen | grep -cE '(json|gob|order) +127\.0\.0\.1:[0-9]+ +[0-9]+ running +reg')
    [ "$n" = 4 ] && break
    sleep 0.1
done
expect_eq "two JSON-RPC servers, a gob server and an order server run, registered" 4 "$n"
A1=$(screen | grep -E '^│[ >▶]1 +json ' | grep -oE '127\.0\.0\.1:[0-9]+' | head -n 1)
A2=$(screen | grep -E '^│[ >▶]2 +json ' | grep -oE '127\.0\.0\.1:[0-9]+' | head -n 1)
A3=$(screen | grep -E '^│[ >▶]3 +gob ' | grep -oE '127\.0\.0\.1:[0-9]+' | head -n 1)

cmd 'call Arith.Divide {"A":1,"B":0}'
key l
wait_for 5 'load ON' || true
sleep 2.5
c1=$(counts_of 1)
sleep 1
c2=$(counts_of 1)
set -- $c1 x x x
calls1=$1 errs1=$2
set -- $c2 x x x
calls2=$1 errs2=$2 failed2=$3
if [ "$calls1" -gt 0 ] 2>/dev/null && [ "$calls2" -gt "$calls1" ] && [ "$errs2" -gt "$errs1" ] && [ "$errs2" = "$calls2" ] && [ "$failed2" = 0 ]; then
    ok "Divide by zero: instance #1's calls and errors grow together ($c1 -> $c2), none failed"
else
    bad "Divide by zero: instance #1's calls and errors grow together (calls errors failed: '$c1' -> '$c2')" "$(screen)"
fi
s1=$(share_of 1 "$A1"); s2=$(share_of 2 "$A2"); s3=$(share_of 3 "$A3")
if [ -n "$s1" ] && [ -n "$s2" ] && [ -n "$s3" ] && [ "$s1" -ge 25 ] && [ "$s1" -le 42 ] && [ "$s2" -ge 25 ] &&
    [ "$s2" -le 42 ] && [ "$s3" -ge 25 ] && [ "$s3" -le 42 ]; then
    ok "two JSON-RPC servers and a gob server: a third each, error replies included ($s1% / $s2% / $s3%)"
else
    bad "two JSON-RPC servers and a gob server: a third each, error replies included ('$s1' / '$s2' / '$s3')" "$(screen)"
fi
if screen | grep -qE 'failed 0 \(0\.0/s\) +retried 0 +errors [1-9][0-9]* '; then ok "the Traffic pane counts the error replies, none failed"
else bad "the Traffic pane counts the error replies, none failed" "$(screen)"; fi
expect_grep "the Traffic pane says what it counts and how it shares" "Traffic · this workbench's load only · equal share per instance" "$(screen)"
if screen | grep -qE '^│[ >▶]4 +order .* +- +- +- │'; then ok "the order server, which the load does not call, shows no count"
else bad "the order server, which the load does not call, shows no count" "$(screen)"; fi

key q
if wait_for 20 'TUI-EXITED 0'; then ok "q quits"; else bad "q quits" "$(screen)"; fi
summary
