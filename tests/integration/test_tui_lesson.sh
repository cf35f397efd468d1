#!/bin/bash
# test_tui_lesson.sh -- `:lesson` alone inside the TUI lists every lesson in the help, in
# English and in Chinese, and `:lesson N` opens one; `:lesson N` shows the lesson's own
# servers in the Instances pane and its own etcd's keys in the Registry pane, not the
# workbench's, at 80x24 (the pane the step is about above the lesson) and at 160x45 (every
# pane beside it); closing the lesson brings the workbench's back. Needs tmux and etcd.
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

# help_has NAME TEXT: the help shows TEXT (a fixed string) now or a page or two further
# down (PgDn); prints the screen last read when it does not
help_has() {
    for page in 1 2 3; do
        screen | grep -qF -- "$2" && { ok "$1"; return; }
        key NPage
    done
    bad "$1" "$(screen)"
}
LAST_EN="A service hub in front of etcd"
LAST_ZH="etcd 前面的服务中心"

# 80x24 in English: :lesson alone lists the lessons in the help; a key closes it.
start_tui 80 24
wait_for 15 'Instances' || bad "the TUI starts" "$(screen)"
cmd "lesson"
if wait_for 5 'Lessons \(:lesson N opens one\)'; then ok "80x24: :lesson alone opens the help at the lessons"
else bad "80x24: :lesson alone opens the help at the lessons" "$(screen)"; fi
expect_grep "80x24: the list starts with lesson 1" "   1  A local call and a remote call" "$(screen)"
help_has "80x24: the list ends with lesson 19's title" "  19  $LAST_EN"
key Escape
if wait_gone 5 'Lessons \(' && wait_for 5 'Instances'; then ok "80x24: a key closes the list"
else bad "80x24: a key closes the list" "$(screen)"; fi
cmd "lesson list zh"
help_has "80x24: :lesson list zh lists the titles in Chinese" "  19  $LAST_ZH"
key Escape
key ':'
tm send-keys -t tui -l "lesson li"
key Tab
expect_status "80x24: Tab completes :lesson li to list" ":lesson list"
key Escape
cmd "lesson 19"
if wait_for 20 'Lesson 19 · step 1/'; then ok "80x24: :lesson 19 still opens lesson 19"
else bad "80x24: :lesson 19 still opens lesson 19" "$(screen)"; fi
key L
wait_gone 5 'Lesson 19 · step' || bad "80x24: L closes lesson 19" "$(screen)"
key q
wait_for 15 'TUI-EXITED 0' || bad "the TUI quits" "$(screen)"

# 80x24 in Chinese (--lang zh, then LANG=zh_CN.UTF-8): the list's titles are Chinese.
printf '#!/bin/sh\nLANG=zh_CN.UTF-8 LC_ALL= LANGUAGE= exec "%s/workbench" "$@"\n' "$BIN" >"$TMP/workbench-zh"
chmod +x "$TMP/workbench-zh"
for how in "--lang zh" "LANG=zh_CN.UTF-8"; do
    if [ "$how" = "--lang zh" ]; then start_tui 80 24 "$how"; else TUI_EXE=$TMP/workbench-zh start_tui 80 24; fi
    wait_for 15 '实例' || bad "$how: the TUI starts in Chinese" "$(screen)"
    cmd "lesson"
    if wait_for 5 '课程（:lesson N 打开其中一课）'; then ok "$how: :lesson alone opens the help at the lessons, in Chinese"
    else bad "$how: :lesson alone opens the help at the lessons, in Chinese" "$(screen)"; fi
    help_has "$how: the list ends with lesson 19's Chinese title" "  19  $LAST_ZH"
    key Escape
    if wait_gone 5 '课程（'; then ok "$how: a key closes the list"; else bad "$how: a key closes the list" "$(screen)"; fi
    key q
    wait_for 15 'TUI-EXITED 0' || bad "$how: the TUI quits" "$(screen)"
done

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
