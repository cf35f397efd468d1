# test_tui.sh -- drives the real TUI in tmux through the failover story and reads the
# screen: two JSON-RPC servers registered in the TUI's private etcd, load on, one killed.
# Needs tmux and etcd (Debian's etcd-server); the TUI starts its own etcd and servers.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"

. "$ROOT/tests/integration/tui_lib.sh"

# 1. The failover story
start_tui 100 30
if wait_for 15 'watch live'; then ok "the TUI starts its private etcd and watches it"; else
    bad "the TUI starts its private etcd and watches it" "$(screen)"; fi
key j
wait_for 5 '1 +json +127\.0\.0\.1:[0-9]+ +[0-9]+ running' || true
key j
row_re='json +127\.0\.0\.1:[0-9]+ +[0-9]+ running +reg( [0-9]+s)? '
n=0
for i in $(seq 80); do
    n=$(screen | grep -cE "$row_re")
    [ "$n" = 2 ] && break
    sleep 0.1
done
expect_eq "two JSON-RPC servers spawned and shown as registered" "2" "$n"
A1=$(screen | grep -E '[ >▶]1 +json ' | grep -oE '127\.0\.0\.1:[0-9]+' | head -n 1)
A2=$(screen | grep -E '[ >▶]2 +json ' | grep -oE '127\.0\.0\.1:[0-9]+' | head -n 1)
expect_grep "the Registry pane lists both etcd keys" "workbench/$A2" "$(screen | grep "workbench/$A1")
$(screen | grep "workbench/$A2")"
KIDS=$(pgrep -P "$WB" | tr '\n' ' ')
expect_eq "the TUI has its etcd and two servers as children" "3" "$(echo $KIDS | wc -w | tr -d ' ')"

key l
wait_for 5 'load ON' || true
sleep 2.5
expect_even_split "the load spreads calls round robin" "$A1" "$A2" " over the last second"

key Up
key k
if wait_for 3 '1 +json +127\.0\.0\.1:[0-9]+ +- +killed'; then ok "the killed instance shows killed"; else
    bad "the killed instance shows killed" "$(screen)"; fi
t0=$(date +%s)
if wait_gone 9 "workbench/$A1"; then
    ok "its registry entry disappears when the lease expires ($(($(date +%s) - t0)) s, TTL 5 s)"
else
    bad "its registry entry disappears within the TTL and a little" "$(screen)"
fi
expect_grep "the Registry pane keeps the survivor" "workbench/$A2" "$(screen)"
expect_grep "the timeline shows the removal" "registry: $A1 removed" "$(screen)"
sleep 1.2
s1=$(share_of 1 "$A1"); s2=$(share_of 2 "$A2")
if [ "${s1:-x}" = 0 ] && [ -n "$s2" ] && [ "$s2" -ge 99 ]; then
    ok "the survivor takes every call ($s2%; the killed one $s1%)"
else
    bad "the survivor takes every call" "$(screen)"
fi
expect_grep "no call failed after retries" "failed 0 (" "$(screen)"

# The registry itself goes away: calls go on to the instance already known
key e
if wait_for 5 'watch unreachabl'; then ok "e stops etcd: the Registry pane says the watch lost it"; else bad "e stops etcd" "$(screen)"; fi
expect_grep "the timeline shows etcd stopped" "stopped the private etcd" "$(screen)"
sleep 1.5
s2=$(share_of 2 "$A2")
if [ -n "$s2" ] && [ "$s2" -ge 99 ]; then ok "calls go on without etcd ($s2% to the survivor)"; else bad "calls go on without etcd" "$(screen)"; fi
expect_grep "no call failed while etcd was down" "failed 0 (" "$(screen)"
key ':' ; tm send-keys -t tui 'registry on' Enter; sleep 0.2
if wait_for 15 'watch live'; then ok ":registry on starts etcd again and the watch resumes"; else bad ":registry on" "$(screen)"; fi

# m: the load's call on the command line, to edit; the load then calls what was typed
key m
expect_status "m opens the command line with the load's call" ':call Arith.Multiply {"A":7,"B":8}'
tm send-keys -t tui C-u; tm send-keys -t tui -l 'call Arith.Divide {"A":9,"B":2}'; key Enter
if wait_for 5 'load ON  Arith.Divide \{"A":9,"B":2\}'; then ok "the edited call is what the load makes"
else bad "the edited call is what the load makes" "$(screen)"; fi

key q
if wait_for 15 'TUI-EXITED'; then ok "q quits"; else bad "q quits" "$(screen)"; fi
expect_grep "q: exit status 0" "TUI-EXITED 0" "$(screen)"
expect_grep "q: the terminal settings are restored" "TTY-RESTORED" "$(screen)"
expect_eq "q: no server or etcd left running" "" "$(left_running $KIDS $WB)"

# 2. SIGTERM from outside: the terminal is restored and the children are stopped too
tm kill-server 2>/dev/null
start_tui 100 30
wait_for 15 'watch live' || true
key j
wait_for 5 '1 +json +127\.0\.0\.1:[0-9]+ +[0-9]+ running' || true
KIDS=$(pgrep -P "$WB" | tr '\n' ' ')
kill -TERM "$WB"
if wait_for 15 'TUI-EXITED'; then ok "SIGTERM ends the TUI"; else bad "SIGTERM ends the TUI" "$(screen)"; fi
expect_grep "SIGTERM: the terminal settings are restored" "TTY-RESTORED" "$(screen)"
expect_eq "SIGTERM: no server or etcd left running" "" "$(left_running $KIDS $WB)"
tm kill-server 2>/dev/null

summary
