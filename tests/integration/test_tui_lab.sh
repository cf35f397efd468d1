# test_tui_lab.sh -- the lab in the TUI at 80x24: :hosts 2 makes two hosts with etcd, two
# servers go on them, the load runs, :cut host1 shows on the Timeline with the traffic
# moving (a balancer ejection or a registry drop) and the load going on; :heal, :set,
# the :hosts view, :hosts 0 and quit, and no process of the lab left.
# Needs root (network namespaces), tmux and etcd; prints SKIP with the reason otherwise.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"

if [ "$(id -u)" != 0 ]; then
    echo "SKIP the TUI's lab: not root (the lab needs CAP_SYS_ADMIN and CAP_NET_ADMIN)"
    summary
    exit 0
fi
probe=$(timeout 20 "$BIN/workbench" lab --hosts 1 2>&1)
if [ $? -ne 0 ]; then
    echo "SKIP the TUI's lab: $probe"
    summary
    exit 0
fi
. "$ROOT/tests/integration/tui_lib.sh"

# calls: the calls the instances answered, summed from the Instances pane
calls() { screen | grep -E '^│[ >▶][0-9]+ +json ' | awk '{s += $(NF-3)} END {print s + 0}'; }

start_tui 80 24
if ! wait_for 15 'watch live'; then
    bad "the TUI starts in tmux" "$(screen 2>&1)"
    summary
    exit 1
fi

cmd "hosts 2"
if wait_for 40 'registry: now etcd 10\.77\.0\.11'; then
    ok ":hosts 2 makes the lab, etcd on both hosts, and switches the registry to it"
else
    bad ":hosts 2 makes the lab, etcd on both hosts, and switches the registry to it" "$(screen)"
    summary
    exit 1
fi
LAB=$(lab_pids)
expect_eq "the lab's holders are the TUI's children (switch, client, 2 hosts)" 4 "$(echo $LAB | wc -w)"

key j
key j
if wait_for 15 '1 +json +10\.77\.0\.1[12]:[0-9]+' && wait_for 15 '2 +json +10\.77\.0\.1[12]:[0-9]+'; then
    ok "the servers go on the lab's hosts"
else
    bad "the servers go on the lab's hosts" "$(screen)"
fi
A1=$(screen | grep -E '^│[ >▶]1 +json ' | grep -oE '10\.77\.0\.1[12]' | head -n 1)
A2=$(screen | grep -E '^│[ >▶]2 +json ' | grep -oE '10\.77\.0\.1[12]' | head -n 1)
[ -n "$A1" ] && [ "$A1" != "$A2" ] && ok "one on each host ($A1, $A2)" || bad "one on each host" "$A1 $A2"

key l
sleep 2
c1=$(calls)
[ -n "$c1" ] && [ "$c1" -gt 50 ] && ok "the load calls them from the client host ($c1 calls)" || bad "the load calls them from the client host" "$(screen)"

HOST1=host$((${A1##*.} - 10))
cmd "cut $HOST1"
if wait_timeline 10 "lab fault: cut $HOST1"; then
    ok "the fault is on the Timeline"
else
    bad "the fault is on the Timeline" "$(pane_text)"
fi
if wait_timeline 15 "client (balancer: ejected|registry: dropped) $A1"; then
    ok "the traffic leaves the cut host (an ejection or a registry drop on the Timeline)"
else
    bad "the traffic leaves the cut host" "$(pane_text)"
fi
sleep 2
c2=$(calls)
sleep 2
c3=$(calls)
[ -n "$c3" ] && [ "$c3" -gt "$c2" ] && ok "the load goes on ($c2 then $c3 calls)" || bad "the load goes on" "$c2 $c3"

key H
if wait_for 5 "$HOST1 +$A1 +cut"; then
    ok "the :hosts view shows the cut host"
else
    bad "the :hosts view shows the cut host" "$(screen)"
fi
screen >"$TMP/hosts.txt"
key Escape
# the view closes before the next key: an Escape that the TUI reads together with the
# ':' after it (slow under a sanitizer) is Alt-: and opens no command line
for _ in $(seq 50); do screen | grep -q "any key closes" || break; sleep 0.1; done

cmd "heal"
# the lines that follow a heal can push its own off the pane before it is read: look back
healed=1
if wait_timeline 10 "lab fault: heal all|keepalive: back via"; then
    for _ in 1 2 3 4 5; do
        timeline_has "lab fault: heal all" >"$TMP/heal.txt" && healed=0 && break
        sleep 1
    done
else pane_text >"$TMP/heal.txt"; fi
[ $healed = 0 ] && ok ":heal heals" || bad ":heal heals" "$(cat "$TMP/heal.txt")"
cmd "set deadline 300"
expect_status ":set deadline 300 shows" "deadline 300 ms"
cmd "set"
expect_status ":set lists the knobs with the detection time" "detected in"

key l
cmd "hosts 0"
wait_for 20 'etcd 127\.0\.0\.1' && ok "the private etcd is the registry again" || bad "the private etcd is the registry again" "$(screen)"
if timeline_has "lab: ended"; then ok ":hosts 0 ends the lab"; else bad ":hosts 0 ends the lab"; fi
timeline_has "restarting" >/dev/null && bad "no server of the lab is restarted into the registry after it" "$(pane_text)" ||
    ok "no server of the lab is restarted into the registry after it"
n=0
while [ -n "$(left_running $LAB)" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
expect_eq "no holder of the lab is left after :hosts 0" "" "$(left_running $LAB)"

# a second lab, ended by quitting
cmd "hosts 1"
wait_for 40 'registry: now etcd 10\.77\.0\.11' && ok ":hosts 1 makes a lab again" || bad ":hosts 1 makes a lab again" "$(screen)"
LAB=$(lab_pids)
ETCDS=$(for r in $(pgrep -P "$WB" -x lab-run); do pgrep -P "$r" -x etcd; done)
key q
wait_for 20 'TUI-EXITED 0' && ok "the TUI quits with a lab" || bad "the TUI quits with a lab" "$(screen)"
expect_eq "no holder of the lab is left after quit" "" "$(left_running $LAB)"
[ -n "$ETCDS" ] && expect_eq "no etcd of the TUI's lab runs" "" "$(left_running $ETCDS)" ||
    bad "no etcd of the TUI's lab runs" "none was found while the lab ran"

echo "--- the :hosts view at 80x24:"
cat "$TMP/hosts.txt"
summary
