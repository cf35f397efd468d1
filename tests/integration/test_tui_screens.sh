# test_tui_screens.sh -- the TUI on the terminals learners have, 80x24 and 160x45, in English
# and in Chinese: five servers, the load on and off, then the whole screen of the panes, of
# the help (top and end) and of the Wire pane compared with snapshots, and checks that
# nothing a learner must read is hidden or cut: the title, every key of the help, every
# server in Instances and Traffic, whole Timeline events and whole wire explanations.
# Needs tmux and etcd (Debian's etcd-server); the TUI starts its own etcd and servers.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"

. "$ROOT/tests/integration/tui_lib.sh"
fixed_lessons # the help lists them

# spawn_five WORD: json, json, gob, grpc, json, each up (its row says WORD in the registry
# column: reg, static, 租约...) before the next
spawn_five() {
    n=0
    for k in j j b c j; do
        n=$((n + 1))
        key "$k"
        wait_for 10 "^│[ >▶]$n +[a-z]+ +127\\.0\\.0\\.1:[0-9]+ +[0-9]+ [^ ]+ +$1" || true
    done
}
# five_seen NAME: instances #1..#5 each have a row in Instances and in Traffic
five_seen() {
    S=$(screen)
    ni=$(printf '%s\n' "$S" | grep -cE '^│[ >▶][1-5] +(json|gob|grpc) +127\.0\.0\.1:')
    nt=$(printf '%s\n' "$S" | grep '%' | grep -oE '#[1-5] ' | sort -u | wc -l)
    if [ "$ni" = 5 ] && [ "$nt" = 5 ]; then ok "$1"; else bad "$1 (Instances $ni, Traffic $nt)" "$S"; fi
}
# load_run ON [NAME]: the load on for a moment (the screen says ON), then off and still, so
# that the numbers shown settle; with NAME, five_seen NAME while it is on
load_run() {
    key l
    wait_for 5 "$1" || true
    sleep 1.5
    [ -n "${2:-}" ] && five_seen "$2"
    key l
    sleep 1.5
    key End # the status line's message goes: the key hints come back
}

# 1. English at 80x24, etcd
start_tui 80 24
if ! wait_for 15 'watch liv'; then bad "the TUI starts in tmux at 80x24" "$(screen)"; summary; exit 1; fi
spawn_five reg
cmd 'call Arith.Divide {"A":9,"B":2}'
if screen | head -n 1 | grep -qE '^ RPC Workbench  · service workbench · etcd 127\.0\.0\.1:[0-9]+ *$' &&
    status_line | grep -qF 'the load calls Arith.Divide {"A":9,"B":2}'; then
    ok "80x24: a long message is on the status line and leaves the title bar whole"
else
    bad "80x24: a long message is on the status line and leaves the title bar whole" "$(screen)"
fi
cmd 'call Arith.Multiply {"A":7,"B":8}'
load_run 'load ON' "80x24: all five servers in Instances and in Traffic"
expect_grep "80x24: a Timeline event too long for a line is wrapped, not cut" \
    'the load now calls Arith.Multiply {"A":7,"B":8}' "$(pane_text)"
expect_snapshot "80x24: Instances, Traffic, Registry and Timeline" main-80x24.txt
key '?'
expect_snapshot "80x24: the help's first page" help-80x24.txt
key End
expect_grep "80x24: End shows the help's last key" "q         quit: stop the load, every server and etcd (also Ctrl-C)" "$(screen)"
expect_snapshot "80x24: the help's end" help-80x24-end.txt
key Escape
key w
wait_for 5 'gob request · ' || true
expect_snapshot "80x24: the Wire pane (gob's request)" wire-80x24.txt
expect_grep "80x24: a wire explanation longer than a line is wrapped under its bytes" \
    "type id 66 (zigzag 0xff 0x84): a value; uses type 66 (Args), defined by a type definition message just before this one" \
    "$(column_text 1 79)"
key w
tm kill-server 2>/dev/null

# 2. English at 160x45, static (no registry events racing the spawns in the Timeline)
start_tui 160 45 "--registry static"
if ! wait_for 15 'static'; then bad "the TUI starts in tmux at 160x45" "$(screen)"; summary; exit 1; fi
spawn_five static
load_run 'load ON'
expect_snapshot "160x45: Instances, Traffic, Registry and Timeline" main-160x45.txt
key '?'
expect_snapshot "160x45: the help" help-160x45.txt
key Escape
key w
wait_for 5 'gRPC request · ' || true
expect_snapshot "160x45: the Wire pane, requests side by side" wire-request-160x45.txt
expect_grep "160x45: gob's column shows a whole explanation" \
    "field type id 2 = int, one of gob's predefined types (zigzag 0x04)" "$(column_text 1 52)"
expect_grep "160x45: JSON-RPC's column shows a whole explanation" \
    "field name \"A\" (JSON repeats it in every message)" "$(column_text 54 105)"
key x
expect_snapshot "160x45: the Wire pane, responses side by side" wire-response-160x45.txt
key w
tm kill-server 2>/dev/null

# 3. Chinese at 80x24, etcd
start_tui 80 24 "--lang zh"
if wait_for 15 '监视正常'; then ok "--lang zh: the TUI is in Chinese"; else bad "--lang zh: the TUI is in Chinese" "$(screen)"; fi
spawn_five 租约
load_run '负载：开' "80x24 in Chinese: all five servers in Instances and in Traffic"
expect_snapshot "80x24 in Chinese: the panes" main-zh-80x24.txt
key '?'
expect_snapshot "80x24 in Chinese: the help's first page" help-zh-80x24.txt
key End
expect_grep "80x24 in Chinese: End shows the help's last key" "退出：停止负载、所有服务器和 etcd（Ctrl-C 也行）" "$(screen)"
key Escape
tm kill-server 2>/dev/null

summary
