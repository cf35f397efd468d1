# test_tui_registry.sh -- the TUI switching registries (a second etcd, static, consul
# missing), the lease TTL in the Instances pane, Consul's checks and reaping (80x24), the mouse, and keys that keep working
# while a slow server starts; driven in tmux, reading the screen.
# Needs tmux and etcd (Debian's etcd-server, etcdctl): the test starts a second etcd of
# its own (a helper) besides the TUI's private one. Needs consul (bin/consul, mk/consul.sh)
# for part 5: the TUI starts a private `consul agent -dev`.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"

. "$ROOT/tests/integration/tui_lib.sh"
fixed_lessons # the help lists them

# row_of ID: the screen line (from 0) of instance #ID in the Instances pane
row_of() { screen | grep -nE "^│[ >▶]$1 +(json|gob|grpc) " | head -n 1 | cut -d: -f1 | awk '{print $1 - 1}'; }
# selected: the # of the selected instance
selected() { screen | grep -oE '^│[>▶][0-9]+' | grep -oE '[0-9]+' | head -n 1; }
# reg_ttl ID: the seconds in instance #ID's registry column ("reg 4s"), or nothing
reg_ttl() { screen | grep -E "^│[ >▶]$1 +json " | grep -oE ' reg [0-9]+s ' | grep -oE '[0-9]+'; }

# ---- 1. The private etcd: lease TTLs, the mouse ----
start_tui 100 30
if ! wait_for 15 'watch live'; then
    bad "the TUI starts in tmux" "$(screen 2>&1)"
    summary
    exit 1
fi
key j
key j
if wait_for 8 '2 +json +127\.0\.0\.1:[0-9]+ +[0-9]+ running +reg [0-9]+s'; then
    ok "the registry column shows the lease's TTL left (reg Ns)"
else
    bad "the registry column shows the lease's TTL left (reg Ns)" "$(screen)"
fi
A1=$(screen | grep -E '^│[ >▶]1 +json ' | grep -oE '127\.0\.0\.1:[0-9]+' | head -n 1)
A2=$(screen | grep -E '^│[ >▶]2 +json ' | grep -oE '127\.0\.0\.1:[0-9]+' | head -n 1)

# A click on #1's row selects it (the last spawned, #2, is selected now)
expect_eq "the last spawned instance is selected" "2" "$(selected)"
key ':'; tm send-keys -t tui -l 'mouse off'; key Enter
mouse 0 10 "$(row_of 1)"
expect_eq ":mouse off: a click selects nothing" "2" "$(selected)"
key ':'; tm send-keys -t tui -l 'mouse on'; key Enter
mouse 0 10 "$(row_of 1)"
expect_eq "a click on instance #1's row selects it" "1" "$(selected)"
mouse 0 10 "$(row_of 2)"
expect_eq "a click on #2's row selects it" "2" "$(selected)"

# The wheel scrolls the Timeline back (once it has more events than lines: pause and
# resume #2 a few times)
for i in 1 2 3 4 5 6; do key p; done
mouse 64 60 25
if wait_for 2 'Timeline \([0-9]+ newer below: End\)'; then ok "the wheel scrolls the Timeline back"; else
    bad "the wheel scrolls the Timeline back" "$(screen)"; fi
key End
if wait_gone 2 'newer below'; then ok "End shows the newest events again"; else bad "End shows the newest events again" "$(screen)"; fi

# After kill -9 nobody renews the lease: its TTL counts down to the entry's expiry (read
# from a second on, when a renewal sent just before the kill has landed)
key Up
key k
sleep 1
seen=""
for i in $(seq 30); do
    v=$(reg_ttl 1)
    [ -n "$v" ] && [ "${seen##* }" != "$v" ] && seen="$seen $v"
    sleep 0.25
done
first=$(echo $seen | awk '{print $1}'); last=$(echo $seen | awk '{print $NF}')
if [ "$(echo $seen | wc -w)" -ge 2 ] && [ "$first" -gt "$last" ] &&
    [ "$(echo $seen | tr ' ' '\n' | sort -rn | tr '\n' ' ')" = "$(echo $seen | tr ' ' '\n' | tr '\n' ' ')" ]; then
    ok "the lease TTL of the killed instance counts down (seen:$seen)"
else
    bad "the lease TTL of the killed instance counts down" "seen:$seen
$(screen)"
fi
if wait_gone 8 "workbench/$A1"; then ok "then its entry expires"; else bad "then its entry expires" "$(screen)"; fi
key r
if wait_for 8 '1 +json +127\.0\.0\.1:[0-9]+ +[0-9]+ running +reg'; then ok "r restarts it into the registry"; else
    bad "r restarts it into the registry" "$(screen)"; fi

cmd 'registry etcd'
expect_status ":registry etcd on the private etcd changes nothing" "the registry is etcd 127.0.0.1:"

# ---- 2. A second etcd, started here ----
etcd_start wbtui "$TMP/etcd2" "$TMP/etcd2.log"
PIDS="$PIDS $ETCD_PID"
key l
cmd "registry etcd etcd://$EP"
if wait_for 10 "etcd $EP watch live 2 keys"; then ok ":registry etcd etcd://… watches the second etcd"; else
    bad ":registry etcd etcd://… watches the second etcd" "$(screen)"; fi
if wait_for 10 "workbench/$A2 " && wait_for 5 "workbench/$A1 "; then
    ok "the running servers restarted into it: its entries are in the Registry pane"
else
    bad "the running servers restarted into it: its entries are in the Registry pane" "$(screen)"
fi
keys2=$(etcdctl --endpoints "$EP" get --prefix workbench/ --keys-only | grep -v '^$' | sort | tr '\n' ' ')
expect_eq "etcdctl sees both servers in the second etcd" "$(printf '%s\n' "workbench/$A1" "workbench/$A2" | sort | tr '\n' ' ')" "$keys2"
if timeline_has "registry: now etcd $EP" >"$TMP/tl"; then ok "the switch is in the Timeline"; else
    bad "the switch is in the Timeline" "$(cat "$TMP/tl")"; fi
sleep 1.5
s1=$(share_of 1 "$A1"); s2=$(share_of 2 "$A2")
if [ -n "$s1" ] && [ -n "$s2" ] && [ "$s1" -ge 35 ] && [ "$s2" -ge 35 ]; then
    ok "the load resolves from the second etcd ($s1% / $s2%)"
else
    bad "the load resolves from the second etcd" "$(screen)"
fi
expect_grep "no call failed during the switch" "failed 0 (" "$(screen)"

# ---- 3. static (from the g key): no registry, the load calls the servers alive ----
key g
expect_eq "g opens the command line with 'registry '" ":registry" "$(status_line | sed 's/ *$//')"
tm send-keys -t tui -l 'static'
key Enter
if wait_for 10 'static \(no registry\): 2 servers'; then ok ":registry static: the load calls the two servers"; else
    bad ":registry static: the load calls the two servers" "$(screen)"; fi
n=0
for i in $(seq 50); do
    n=$(etcdctl --endpoints "$EP" get --prefix workbench/ --keys-only | grep -c workbench)
    [ "$n" = 0 ] && break
    sleep 0.1
done
expect_eq ":registry static: the servers left the second etcd" "0" "$n"
# the private etcd, stopped while not in use, is started again by switching to it
key e
if wait_timeline 10 'stopped the private etcd \(not the registry in use\)'; then ok "e stops the private etcd while static"; else
    bad "e stops the private etcd while static" "$(screen)"; fi
cmd 'registry etcd'
if wait_for 15 'etcd 127\.0\.0\.1:[0-9]+ watch live 2 keys'; then ok ":registry etcd starts the stopped private etcd and switches to it"; else
    bad ":registry etcd starts the stopped private etcd and switches to it" "$(screen)"; fi
KIDS=$(pgrep -P "$WB" | tr '\n' ' ')
key q
if wait_for 15 'TUI-EXITED 0'; then ok "q quits"; else bad "q quits" "$(screen)"; fi
expect_eq "q: nothing left running" "" "$(left_running $KIDS $WB)"
tm kill-server 2>/dev/null

# ---- 4. Started static; a slow server starting while the load runs ----
# A workbench whose jsonrpc-server takes 3 s to start (a wrapper around the real one)
mkdir -p "$TMP/slowbin"
cp "$BIN/workbench" "$TMP/slowbin/workbench"
for p in gob-server grpc-server; do ln -s "$BIN/$p" "$TMP/slowbin/$p"; done
printf '#!/bin/sh\nsleep 3\nexec "%s/jsonrpc-server" "$@"\n' "$BIN" >"$TMP/slowbin/jsonrpc-server"
chmod +x "$TMP/slowbin/jsonrpc-server"
TUI_EXE=$TMP/slowbin/workbench start_tui 100 30 "--registry static"
if wait_for 15 'static \(no registry\)'; then ok "--registry static starts with no registry"; else
    bad "--registry static starts with no registry" "$(screen)"; fi
key b
key b
if wait_for 8 '2 +gob +127\.0\.0\.1:[0-9]+ +[0-9]+ running +static'; then ok "static: two gob servers spawned"; else
    bad "static: two gob servers spawned" "$(screen)"; fi
B1=$(screen | grep -E '^│[ >▶]1 +gob ' | grep -oE '127\.0\.0\.1:[0-9]+' | head -n 1)
B2=$(screen | grep -E '^│[ >▶]2 +gob ' | grep -oE '127\.0\.0\.1:[0-9]+' | head -n 1)
key l
wait_for 5 'load ON' || true
sleep 2
expect_even_split "static: the load splits the calls between the two" "$B1" "$B2"
key j
if wait_for 1 '3 +json +\.\.\. .*starting'; then ok "a slow spawn shows as starting"; else bad "a slow spawn shows as starting" "$(screen)"; fi
tm send-keys -t tui '?'
if wait_for 1 'Help — '; then expect_snapshot "? opens the help within a second while a server starts" help-100x30.txt
else bad "? opens the help within a second while a server starts" "$(screen)"; fi
key Escape
if wait_for 8 '3 +json +127\.0\.0\.1:[0-9]+ +[0-9]+ running +static'; then ok "the slow server joins the static list once up"; else
    bad "the slow server joins the static list once up" "$(screen)"; fi
KIDS=$(pgrep -P "$WB" | tr '\n' ' ')
key q
if wait_for 15 'TUI-EXITED 0'; then ok "q quits"; else bad "q quits" "$(screen)"; fi
expect_grep "q: the terminal settings are restored" "TTY-RESTORED" "$(screen)"
expect_eq "q: nothing left running" "" "$(left_running $KIDS $WB)"
tm kill-server 2>/dev/null


# ---- 5. Consul at 80x24: checks, the load, a kill and the reaper's countdown ----
# calls_of ID: instance #ID's calls in the Instances pane
calls_of() { screen | grep -E "^│[ >▶]$1 +json " | awk '{print $(NF-3)}'; }
# reap_of ID: the seconds in instance #ID's registry column ("reap 57s")
reap_of() { screen | grep -E "^│[ >▶]$1 +json " | grep -oE 'reap [0-9]+s' | grep -oE '[0-9]+'; }
# expect_screen NAME EXTENDED-REGEX: the screen matches now
expect_screen() { if screen | grep -qE -- "$2"; then ok "$1"; else bad "$1" "want to see: $2
$(screen)"; fi; }
if ! command -v consul >/dev/null; then
    echo "SKIP consul is not installed (sh mk/consul.sh bin fetches Debian 11's)"
else
    start_tui 80 24 "--registry consul-dev"
    if wait_for 20 'watch live'; then ok "--registry consul-dev starts a private agent and watches it"; else
        bad "--registry consul-dev starts a private agent and watches it" "$(screen)"; fi
    key j
    key j
    if wait_for 10 '1 +json +127\.0\.0\.1:[0-9]+ +[0-9]+ running +passing' &&
        wait_for 10 '2 +json +127\.0\.0\.1:[0-9]+ +[0-9]+ running +passing'; then
        ok "consul: both spawned servers pass their check (Instances)"
    else
        bad "consul: both spawned servers pass their check (Instances)" "$(screen)"
    fi
    C1=$(screen | grep -E '^│[ >▶]1 +json ' | grep -oE '127\.0\.0\.1:[0-9]+' | head -n 1)
    C2=$(screen | grep -E '^│[ >▶]2 +json ' | grep -oE '127\.0\.0\.1:[0-9]+' | head -n 1)
    expect_eq "consul: the Registry pane shows each one's check, kind and status" "2" \
        "$(screen | grep -cE '^│  tcp passing · TCP connect 12')"
    expect_grep "consul: the selected instance's check with its output (Instances)" \
        "#2 check tcp passing · TCP connect $C2: Success" "$(screen)"
    key l
    wait_for 5 'load ON' || true
    sleep 2
    expect_even_split "consul: the load spreads over both servers" "$C1" "$C2"
    key k
    if wait_for 8 "2 +json +$C2 +- killed +reap [0-9]+s"; then
        ok "consul: the killed one goes critical with the reaper's countdown (Instances)"
    else
        bad "consul: the killed one goes critical with the reaper's countdown (Instances)" "$(screen)"
    fi
    expect_screen "consul: the Registry pane shows it critical and when it is reaped" \
        '^│  tcp critical, reaped in [0-9]+s'
    expect_screen "consul: the selected instance's check output says why" \
        "#2 check tcp critical, reaped in [0-9]+s · dial tcp $C2"
    if timeline_has "registry: $C2 check passing -> critical" >"$TMP/tl"; then
        ok "consul: the Timeline shows the check turning critical"
    else
        bad "consul: the Timeline shows the check turning critical" "$(cat "$TMP/tl")"
    fi
    r1=$(reap_of 2); n1=$(calls_of 2)
    sleep 2.5
    r2=$(reap_of 2); n2=$(calls_of 2)
    if [ -n "$r1" ] && [ -n "$r2" ] && [ "$r1" -le 60 ] && [ "$r2" -lt "$r1" ]; then
        ok "consul: the countdown runs down from Consul's 60 s ($r1 s, then $r2 s)"
    else
        bad "consul: the countdown runs down from Consul's 60 s" "$r1 then $r2
$(screen)"
    fi
    expect_eq "consul: the critical instance gets no more calls" "$n1" "$n2"
    # the share is of the last second's calls: give the window time to pass the kill
    if wait_for 5 "#1 +$C1 .* 100\.0%"; then ok "consul: the other one takes every call"
    else bad "consul: the other one takes every call" "$(screen)"; fi
    if screen | grep -qE 'lease [0-9a-f]{16}'; then bad "consul: no etcd lease on screen" "$(screen)"; else
        ok "consul: no etcd lease on screen"; fi
    # Consul's check timing, live: the servers register again with it in the URL
    cmd 'set deregister 30'
    expect_status "consul: :set deregister under Consul's minute says why" "deregister=30"
    cmd 'set deregister 90'
    if wait_for 30 'consul [0-9.]+:[0-9]+\?deregister=90'; then
        ok "consul: :set deregister 90 moves the servers into Consul with the new timing"
    else bad "consul: :set deregister 90 moves the servers into Consul with the new timing" "$(screen)"; fi
    KIDS=$(pgrep -P "$WB" | tr '\n' ' ')
    key q
    if wait_for 15 'TUI-EXITED 0'; then ok "consul: q quits"; else bad "consul: q quits" "$(screen)"; fi
    expect_eq "consul: nothing left running (the agent neither)" "" "$(left_running $KIDS $WB)"
    tm kill-server 2>/dev/null
fi

# ---- 6. No consul at all: a copy of the workbench with no bin/consul beside it, and a
# PATH without one (the set-up provides consul, so its absence is made here) ----
mkdir -p "$TMP/nocon"
cp "$BIN/workbench" "$TMP/nocon/"
nocon=$(printf '%s' "$PATH" | tr ':' '\n' | while read -r d; do [ -x "$d/consul" ] || printf '%s:' "$d"; done)
with_consul=$PATH
PATH=${nocon%:}
TUI_EXE=$TMP/nocon/workbench start_tui 100 30
PATH=$with_consul
if wait_for 15 'watch live'; then
    cmd 'registry consul'
    expect_status ":registry consul without consul says it is not installed" "consul is not installed (Debian 12 has no package"
    expect_grep ":registry consul without consul stays on the private etcd" "etcd 127.0.0.1:" "$(screen | grep -E 'watch live')"
    key q
    wait_for 15 'TUI-EXITED 0' || bad "no consul: q quits" "$(screen)"
else
    bad "no consul: the TUI starts" "$(screen)"
fi
tm kill-server 2>/dev/null

summary
