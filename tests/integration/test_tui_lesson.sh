#!/bin/bash
# test_tui_lesson.sh -- `:lesson N` inside the TUI shows the lesson's own servers in the
# Instances pane and its own etcd's keys in the Registry pane, not the workbench's, at
# 80x24 (the pane the step is about above the lesson) and at 160x45 (every pane beside
# it); closing the lesson brings the workbench's back. Needs tmux and etcd.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"
. "$ROOT/tests/integration/tui_lib.sh"

# lesson_addrs: the addresses of the lesson's servers, as they registered in the lesson's
# etcd (its address from the step's etcdctl command), once both are there
lesson_addrs() {
    ep=$(screen | grep -aoE -- '--endpoints=127\.0\.0\.1:[0-9]+' | head -n 1 | cut -d= -f2)
    [ -n "$ep" ] || return 0
    for i in $(seq 50); do
        keys=$(etcdctl --endpoints="$ep" get --prefix hello/ --keys-only 2>/dev/null | grep -oE '127\.0\.0\.1:[0-9]+')
        [ "$(printf '%s\n' "$keys" | grep -c .)" = 2 ] && break
        sleep 0.1
    done
    printf '%s\n' "$keys"
}
# has_addrs NAME REGEX-PREFIX: the screen shows each lesson server's address after PREFIX
# (within 5 s: the panes follow the lesson's registry once a second)
has_addrs() {
    for i in $(seq 50); do
        S=$(screen)
        n=0
        for a in $ADDRS; do
            printf '%s\n' "$S" | grep -aqE -- "$2$a" && n=$((n + 1))
        done
        [ -n "$ADDRS" ] && [ "$n" = "$(echo $ADDRS | wc -w)" ] && break
        sleep 0.1
    done
    if [ -n "$ADDRS" ] && [ "$n" = "$(echo $ADDRS | wc -w)" ]; then ok "$1"; else bad "$1 (addresses: $ADDRS)" "$S"; fi
}

# 80x24: lesson 12's first step is about the Registry, the one pane above the lesson.
start_tui 80 24
wait_for 15 'Instances' || bad "the TUI starts" "$(screen)"
cmd "lesson 12"
wait_for 20 'Lesson 12 · step 1/' && wait_for 20 'endpoints=127' || bad ":lesson 12 runs step 1" "$(screen)"
ADDRS=$(lesson_addrs | sort | tr '\n' ' ')
if wait_for 10 'hello/127\.0\.0\.1:'; then ok "80x24: the Registry pane shows the lesson's etcd's keys"
else bad "80x24: the Registry pane shows the lesson's etcd's keys" "$(screen)"; fi
has_addrs "80x24: each of J1 and J2 is a key of the lesson's etcd" 'hello/'
expect_grep "80x24: the pane says whose registry it is" "Registry · lesson 12's" "$(screen)"
expect_grep "80x24: the lesson pane says what the panes show" "Instances and Registry show this lesson's own" "$(screen)"
key L
if wait_gone 5 'Lesson 12 · step' && wait_gone 5 'hello/127'; then ok "80x24: L closes the lesson and its keys leave the panes"
else bad "80x24: L closes the lesson and its keys leave the panes" "$(screen)"; fi
key q
wait_for 15 'TUI-EXITED 0' || bad "the TUI quits" "$(screen)"

# 160x45: every pane beside the lesson.
start_tui 160 45
wait_for 15 'Instances' || bad "the TUI starts" "$(screen)"
cmd "lesson 12"
wait_for 20 'Lesson 12 · step 1/' && wait_for 20 'endpoints=127' || bad ":lesson 12 runs step 1" "$(screen)"
ADDRS=$(lesson_addrs | sort | tr '\n' ' ')
wait_for 10 'hello/127\.0\.0\.1:' || true
has_addrs "160x45: Instances lists the lesson's servers J1 and J2 at their addresses" 'json +J[12] +'
if screen | grep -aqE "etcd +ETCD +127\.0\.0\.1:[0-9]+ +[0-9]+ +running"; then ok "160x45: and the lesson's etcd"
else bad "160x45: and the lesson's etcd" "$(screen)"; fi
has_addrs "160x45: Registry lists their keys in the lesson's etcd" 'hello/'
p1=$(screen | grep -E 'json +J1 ' | grep -oE '127\.0\.0\.1:[0-9]+ +[0-9]+' | awk '{print $2}')
[ -n "$p1" ] && kill -STOP "$p1"
if [ -n "$p1" ] && wait_for 5 'json +J1 .* stopped'; then ok "160x45: a stopped server is shown stopped"
else bad "160x45: a stopped server is shown stopped" "$(screen)"; fi
[ -n "$p1" ] && kill -KILL "$p1"
if [ -n "$p1" ] && wait_for 5 'json +J1 .* gone'; then ok "160x45: a killed server is shown gone"
else bad "160x45: a killed server is shown gone" "$(screen)"; fi
key L
if wait_gone 5 'Lesson 12 · step' && wait_for 5 'no servers yet' && wait_gone 5 'hello/127'; then
    ok "160x45: closing the lesson shows the workbench's instances and registry again"
else bad "160x45: closing the lesson shows the workbench's instances and registry again" "$(screen)"; fi
key q
wait_for 15 'TUI-EXITED 0' || bad "the TUI quits" "$(screen)"
summary
