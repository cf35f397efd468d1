# test_tui_lab_faults.sh -- every fault of the TUI's lab at 80x24. In English: :hosts 3,
# the knobs (:set eject 3, backoff 100:400, ttl 2), three servers on the hosts and the
# load on; what bad input says (:hosts 99, :cut host9, :loss host1 300, :loss host1,
# :partition and :kill-host alone), the TUI working on; :loss host2 30; :kill-host host1
# (the fault, the instance's end, the traffic moving, the load going on, the detection
# time beside the knobs and in the H view); :hosts 0. A second lab: :partition host1 (the
# sides in the H view, a leader on the majority side), :heal, :kill-leader (the new leader
# named, the load going on, a keepalive refreshed via another member); quit. Then once in
# Chinese (LANG=zh_CN.UTF-8). After :hosts 0 and after quit: no holder, no etcd and no
# directory of the lab left. Needs root (network namespaces), tmux and etcd; prints SKIP
# with the reason otherwise.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"

if [ "$(id -u)" != 0 ]; then
    echo "SKIP the TUI's lab faults: not root (the lab needs CAP_SYS_ADMIN and CAP_NET_ADMIN)"
    summary
    exit 0
fi
. "$ROOT/tests/integration/tui_lib.sh"

# gone PID...: none of them is running (a zombie is gone)
gone() { [ -z "$(left_running "$@")" ]; }
# expect_timeline NAME SECONDS EXTENDED-REGEX: the Timeline shows a line matching within
# SECONDS, now or some lines back (busy lines push it out of the few rows shown): the rows
# shown are watched for 3 s, then looked back a page at a time (PgUp: as many lines as
# the pane shows), and again after the rest of SECONDS
expect_timeline() {
    first=$(($2 < 3 ? $2 : 3))
    for wait in $first $(($2 - first)); do
        wait_timeline "$wait" "$3" && { ok "$1"; return 0; }
        for step in $(seq 12); do
            key PPage
            pane_text | grep -qE -- "$3" && { key End; ok "$1 (some lines back)"; return 0; }
        done
        key End
    done
    bad "$1" "want: $3
in the lab's events: $(tail -n 12 "$LABDIR/events" 2>&1)"
    return 1
}
# wide_rows COLUMNS: the rows of stdin wider than COLUMNS (a CJK character is two)
wide_rows() {
    /usr/bin/python3 -c '
import sys, unicodedata
for r in sys.stdin.read().splitlines():
    if sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in r) > int(sys.argv[1]):
        print(r)' "$1"
}
# calls: the calls the instances answered, summed from the Instances pane
calls() { screen | grep -E '^│[ >▶][0-9]+ +json ' | awk '{s += $(NF-3)} END {print s + 0}'; }

start_tui 80 24
if ! wait_for 15 'watch live'; then
    bad "the TUI starts in tmux" "$(screen 2>&1)"
    summary
    exit 1
fi

# bad input before any lab: a clear message, nothing happens
cmd "hosts 99"
expect_status ":hosts 99 says what it takes" "hosts: a number of hosts from 1 to 7, or 0 to end the lab"
cmd "cut host1"
expect_status ":cut without a lab says how to make one" "no lab: :hosts N makes one of N hosts"

cmd "hosts 3"
if wait_for 40 'registry: now etcd 10\.77\.0\.11'; then
    ok ":hosts 3 makes the lab and switches the registry to its etcd"
else
    bad ":hosts 3 makes the lab and switches the registry to its etcd" "$(screen)"
    summary
    exit 1
fi
LAB=$(lab_pids)
ETCDS=$(lab_etcds)
LABDIR=$(lab_dir ${ETCDS%% *})
expect_eq "the lab's holders are the TUI's children (switch, client, 3 hosts)" 5 "$(echo $LAB | wc -w)"
expect_eq "three etcd members run in the lab" 3 "$(echo $ETCDS | wc -w)"
cmd "hosts 2"
expect_status ":hosts 2 with a lab running says how to end it" "a lab of 3 hosts runs already (:hosts 0 ends it)"

# the knobs, before the servers start (the TTL is for servers started from now on)
cmd "set eject 3"
expect_status ":set eject 3 is said" "eject after 3"
cmd "set backoff 100:400"
expect_status ":set backoff 100:400 is said" "backoff 100:400 ms"
cmd "set ttl 2"
expect_status ":set ttl 2 is said" "ttl 2 s for the servers started from now on"
cmd "set"
expect_status ":set lists them" "ttl 2s · deadline"
expect_status "with eject 3 and backoff 100:400" "eject 3 · backoff 100:400ms · no detection yet"

key j
key j
key j
if wait_for 20 '1 +json +10\.77\.0\.11:[0-9]+' && wait_for 20 '2 +json +10\.77\.0\.12:[0-9]+' &&
    wait_for 20 '3 +json +10\.77\.0\.13:[0-9]+'; then
    ok "three servers, one on each host"
else
    bad "three servers, one on each host" "$(screen)"
fi
A1=$(screen | grep -E '^│[ >▶]1 +json ' | grep -oE '10\.77\.0\.11:[0-9]+' | head -n 1)
key l
sleep 2
c1=$(calls)
[ "$c1" -gt 50 ] && ok "the load calls them from the client host ($c1 calls)" || bad "the load calls them" "$(screen)"

# bad input with a lab: a clear message each, the lab and the load untouched
cmd "cut host9"
expect_status ":cut host9 names the hosts there are" "no host host9 in the lab (client, host1..host3)"
cmd "loss host1 300"
expect_status ":loss host1 300 says the range" "loss HOST PERCENT (0 to 100)"
cmd "loss host1"
expect_status ":loss host1 without a percent says what it takes" "loss HOST PERCENT (0 to 100)"
cmd "partition"
expect_status ":partition alone asks for a host" "name the host: host1, host2..."
cmd "kill-host"
expect_status ":kill-host alone asks for a host" "name the host: host1, host2..."
cmd "set eject many"
expect_status ":set eject many says what it takes" "set: a whole number above 0, not many"
c2=$(calls)
sleep 1
c3=$(calls)
[ "$c3" -gt "$c2" ] && ok "the TUI and its load go on after bad input ($c2 then $c3 calls)" ||
    bad "the TUI and its load go on after bad input" "$(screen)"
timeline_has "lab fault:" >/dev/null && bad "bad input caused no fault" "$(pane_text)" || ok "bad input caused no fault"

# packet loss: on the Timeline, or the reason it cannot be done here
cmd "loss host2 30"
if wait_timeline 10 "lab fault: loss host2 30% \((nftables|netem)\)"; then
    ok ":loss host2 30 is on the Timeline ($(pane_text | grep -oE 'loss host2 30% \([a-z]+\)' | tail -n 1))"
elif wait_for 2 'loss: |nft|netem|tc '; then
    ok ":loss host2 30 says why it cannot be done here: $(status_line)"
else
    bad ":loss host2 30 is on the Timeline or says why not" "$(screen)"
fi
key H
wait_for 5 'host2 +10\.77\.0\.12 +loss 30%' && ok "the H view shows the loss" || bad "the H view shows the loss" "$(screen)"
key Escape
cmd "heal host2"
expect_timeline ":heal host2 takes the loss away" 10 "lab fault: heal host2"

# a host killed under load
cmd "kill-host host1"
wait_for 10 'kill host1 \([0-9]+ processes\)'
expect_timeline "the fault is on the Timeline ($(screen | grep -oE 'kill host1 \([0-9]+ processes\)' | tail -n 1))" 10 \
    "lab fault: kill host1 \([0-9]+ processes\)"
expect_timeline "the instance's end is on the Timeline" 10 "#1 $A1 has ended with its host"
expect_timeline "the traffic leaves the killed host (an ejection or a registry drop on the Timeline)" 15 "client (balancer: ejected|registry: dropped) $A1"
c2=$(calls)
sleep 2
c3=$(calls)
[ "$c3" -gt "$c2" ] && ok "the load goes on ($c2 then $c3 calls)" || bad "the load goes on" "$c2 $c3"
n=0
while [ $n -lt 20 ]; do
    cmd "set"
    status_line | grep -q "detected in" && break
    sleep 0.5
    n=$((n + 1))
done
expect_status ":set shows the knobs with the detection time" "eject 3 · backoff 100:400ms · detected in"
key H
wait_for 5 'host1 +10\.77\.0\.11 +killed +m1 down' && ok "the H view shows host1 killed, its etcd member down" ||
    bad "the H view shows host1 killed, its etcd member down" "$(screen)"
if wait_for 5 'last fault: kill host1 \([0-9]+ processes\), traffic moved after [0-9]+ ms'; then
    ok "the H view shows the fault with its detection time"
else
    bad "the H view shows the fault with its detection time" "$(screen)"
fi
screen >"$TMP/hosts.txt"
key Escape

key l
cmd "hosts 0"
wait_for 20 'etcd 127\.0\.0\.1' && ok ":hosts 0 ends the lab and the private etcd is the registry again" ||
    bad ":hosts 0 ends the lab and the private etcd is the registry again" "$(screen)"
timeline_has "lab: ended" >/dev/null && ok "the Timeline says so" || bad "the Timeline says so" "$(pane_text)"
wait_until 10 gone $LAB && ok "no holder of the lab is left after :hosts 0" ||
    bad "no holder of the lab is left after :hosts 0" "$(left_running $LAB)"
wait_until 10 gone $ETCDS && ok "no etcd of the lab is left after :hosts 0" ||
    bad "no etcd of the lab is left after :hosts 0" "$(left_running $ETCDS)"
[ -n "$LABDIR" ] && [ ! -e "$LABDIR" ] && ok "the lab's directory is removed" || bad "the lab's directory is removed" "$LABDIR"
cmd "kill-leader"
expect_status "a fault after :hosts 0 says there is no lab" "no lab: :hosts N makes one of N hosts"

# a second lab: a partition and the leader killed, ended by quitting
cmd "hosts 3"
wait_for 40 'registry: now etcd 10\.77\.0\.11' && ok ":hosts 3 makes a lab again" || bad ":hosts 3 makes a lab again" "$(screen)"
LAB=$(lab_pids)
ETCDS=$(lab_etcds)
LABDIR=$(lab_dir ${ETCDS%% *})
key j
key j
key j
wait_for 20 '6 +json +10\.77\.0\.1[1-3]:[0-9]+' && ok "three new servers on the hosts" || bad "three new servers on the hosts" "$(screen)"
key l
sleep 1

cmd "partition host1"
expect_timeline ":partition host1 is on the Timeline" 10 "lab fault: partition host1 \| client host2 host3"
key H
if wait_for 5 'host1 +10\.77\.0\.11 +side A' && wait_for 5 'host2 +10\.77\.0\.12 +side B' &&
    wait_for 5 'client +10\.77\.0\.2 +side B'; then
    ok "the H view shows the sides"
else
    bad "the H view shows the sides" "$(screen)"
fi
wait_for 6 'm[23] on host[23] leads' && ok "the majority side keeps a leader" || bad "the majority side keeps a leader" "$(screen)"
screen >"$TMP/partition.txt"
key Escape
c2=$(calls)
sleep 2
c3=$(calls)
[ "$c3" -gt "$c2" ] && ok "the load goes on across the partition ($c2 then $c3 calls)" || bad "the load goes on across the partition" "$c2 $c3"
cmd "heal"
expect_timeline ":heal joins the sides (on the Timeline)" 10 "lab fault: heal all"
key H
wait_for 5 'host1 +10\.77\.0\.11 +up' && ! screen | grep -q 'side [AB]' && ok "the H view shows no sides after :heal" ||
    bad "the H view shows no sides after :heal" "$(screen)"
key Escape

key H
wait_for 6 'm[1-3] on host[1-3] leads' || true
OLD=$(screen | grep -oE 'm[1-3] on host[1-3] leads' | head -n 1)
key Escape
cmd "kill-leader"
wait_for 10 'kill-leader etcd host[1-3]'
KILLED=$(screen | grep -oE 'kill-leader etcd host[1-3]' | tail -n 1 | grep -oE 'host[1-3]')
expect_timeline ":kill-leader is on the Timeline (kill-leader etcd ${KILLED:-?}; before: $OLD)" 10 \
    "lab fault: kill-leader etcd ${KILLED:-host}"
key H
wait_for 5 "$KILLED +10\.77\.0\.1[1-3] +killed +m[1-3] down" && ok "the H view shows the leader's host killed, its member down" ||
    bad "the H view shows the leader's host killed, its member down" "$(screen)"
if [ -n "$KILLED" ] && wait_for 15 "m[1-3] on host[1-3] leads" && ! screen | grep -q "on $KILLED leads"; then
    ok "the H view names the new leader ($(screen | grep -oE 'm[1-3] on host[1-3] leads \(term [0-9]+\)'))"
else
    bad "the H view names the new leader" "$(screen)"
fi
screen >"$TMP/leader.txt"
key Escape
c2=$(calls)
sleep 2
c3=$(calls)
[ "$c3" -gt "$c2" ] && ok "the load goes on after the leader's host is killed ($c2 then $c3 calls)" ||
    bad "the load goes on after the leader's host is killed" "$c2 $c3"
expect_timeline "a keepalive refreshed via another member is on the Timeline" 15 "keepalive: (refreshed via|back via) 10\.77\.0\.1[1-3]:2379"

key l
key q
wait_for 20 'TUI-EXITED 0' && ok "the TUI quits with a lab" || bad "the TUI quits with a lab" "$(screen)"
wait_until 10 gone $LAB && ok "no holder of the lab is left after quit" ||
    bad "no holder of the lab is left after quit" "$(left_running $LAB)"
wait_until 10 gone $ETCDS && [ -n "$ETCDS" ] && ok "no etcd of the lab is left after quit" ||
    bad "no etcd of the lab is left after quit" "${ETCDS:-(none was found)} $(left_running $ETCDS)"
[ -n "$LABDIR" ] && [ ! -e "$LABDIR" ] && ok "the lab's directory is removed after quit" ||
    bad "the lab's directory is removed after quit" "$LABDIR"

# ---- once in Chinese (LANG=zh_CN.UTF-8): what bad input says, a partition in the H view,
# a host killed, the knobs with the detection time, no lab left after quit
printf '#!/bin/sh\nLANG=zh_CN.UTF-8 LC_ALL= LANGUAGE= exec "%s/workbench" "$@"\n' "$BIN" >"$TMP/workbench-zh"
chmod +x "$TMP/workbench-zh"
TUI_EXE=$TMP/workbench-zh start_tui 80 24
wait_for 15 '注册中心' || bad "the TUI starts in Chinese" "$(screen 2>&1)"
cmd "hosts 99"
expect_status "zh: :hosts 99 says what it takes" "hosts：主机数 1 到 7，或 0 结束实验环境"
cmd "hosts 3"
wait_for 40 '注册中心：现在是 etcd 10\.77\.0\.11' && ok "zh: :hosts 3 makes the lab" || bad "zh: :hosts 3 makes the lab" "$(screen)"
LAB=$(lab_pids)
ETCDS=$(lab_etcds)
LABDIR=$(lab_dir ${ETCDS%% *})
cmd "cut host9"
expect_status "zh: :cut host9 names the hosts there are" "实验环境中没有主机 host9（client、host1..host3）"
cmd "loss host1 300"
expect_status "zh: :loss host1 300 says the range" "loss 主机 百分比（0 到 100）"
cmd "partition"
expect_status "zh: :partition alone asks for a host" "请指明主机：host1、host2……"
cmd "set eject 3"
expect_status "zh: :set eject 3 is said" "失败 3 次剔除"
cmd "set ttl 2"
expect_status "zh: :set ttl 2 is said" "此后启动的服务器 ttl 为 2 秒"
key j
key j
key j
wait_for 20 '3 +json +10\.77\.0\.13:[0-9]+' && ok "zh: three servers on the hosts" || bad "zh: three servers on the hosts" "$(screen)"
A2=$(screen | grep -E '^│[ >▶]2 +json ' | grep -oE '10\.77\.0\.12:[0-9]+' | head -n 1)
key l
sleep 1
cmd "partition host1"
expect_timeline "zh: :partition host1 is on the Timeline" 10 "lab fault: partition host1 \| client host2 host3"
key H
if wait_for 5 'host1 +10\.77\.0\.11 +A 侧' && wait_for 5 'client +10\.77\.0\.2 +B 侧'; then
    ok "zh: the H view shows the sides"
else
    bad "zh: the H view shows the sides" "$(screen)"
fi
wait_for 6 '上的 m[23] 是领导者' || true
screen >"$TMP/partition-zh.txt"
key Escape
cmd "heal"
expect_timeline "zh: :heal joins the sides" 10 "lab fault: heal all"
cmd "kill-host host2"
expect_timeline "zh: :kill-host host2 is on the Timeline" 10 "lab fault: kill host2 \([0-9]+ processes\)"
expect_timeline "zh: the instance's end is said in Chinese" 10 "#2 $A2 随它"
n=0
while [ $n -lt 20 ]; do
    cmd "set"
    status_line | grep -q "ms 后察觉" && break
    sleep 0.5
    n=$((n + 1))
done
expect_status "zh: :set shows the knobs with the detection time" "剔除 3 · 退避"
expect_status "zh: and the detection time" "ms 后察觉"
key H
wait_for 5 'host2 +10\.77\.0\.12 +已杀死 +m2 已宕机' && ok "zh: the H view shows host2 killed, its member down" ||
    bad "zh: the H view shows host2 killed, its member down" "$(screen)"
wait_for 5 '上次故障：kill host2' && ok "zh: the H view shows the last fault" || bad "zh: the H view shows the last fault" "$(screen)"
wide=$(screen | wide_rows 80)
expect_eq "zh: no row of the H view is wider than the screen" "" "$wide"
key Escape
key l
key q
wait_for 20 'TUI-EXITED 0' && ok "zh: the TUI quits with a lab" || bad "zh: the TUI quits with a lab" "$(screen)"
wait_until 10 gone $LAB && ok "zh: no holder of the lab is left after quit" ||
    bad "zh: no holder of the lab is left after quit" "$(left_running $LAB)"
wait_until 10 gone $ETCDS && [ -n "$ETCDS" ] && ok "zh: no etcd of the lab is left after quit" ||
    bad "zh: no etcd of the lab is left after quit" "${ETCDS:-(none was found)} $(left_running $ETCDS)"
[ -n "$LABDIR" ] && [ ! -e "$LABDIR" ] && ok "zh: the lab's directory is removed after quit" ||
    bad "zh: the lab's directory is removed after quit" "$LABDIR"

echo "--- the H view after :kill-host host1, at 80x24:"
cat "$TMP/hosts.txt"
echo "--- the H view after :partition host1:"
cat "$TMP/partition.txt"
echo "--- the H view after :kill-leader:"
cat "$TMP/leader.txt"
echo "--- the H view after :partition host1, in Chinese:"
cat "$TMP/partition-zh.txt"
summary
