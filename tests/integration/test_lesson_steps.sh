#!/bin/bash
# test_lesson_steps.sh -- drives `workbench lesson 4` step by step in tmux, as a learner
# would: Enter to start and for the next step, b to go back, q to quit; in English and in Chinese.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"
. "$ROOT/tests/integration/tui_lib.sh"

start_tui 100 45 "lesson 4"
if wait_for 15 'Enter: start'; then ok "lesson 4 opens on its title and introduction"
else bad "lesson 4 opens on its title and introduction" "$(screen)"; fi
key Enter
if wait_for 15 'Step 1/5: Listen first' && wait_for 15 'Enter: next'; then ok "lesson 4 opens on step 1 and waits for a key"
else bad "lesson 4 opens on step 1 and waits for a key" "$(screen)"; fi
expect_grep "step 1 shows the nc -l command with its real port" '$ nc -l 127.0.0.1 ' "$(screen)"
expect_grep "step 1 shows the request nc received" '"method":"Arith.Multiply"' "$(screen)"
expect_grep "step 1's checks are met" '✓ exit status 0' "$(screen)"
kids=$(pgrep -P "$WB" | tr '\n' ' ')
[ -n "$kids" ] && ok "the lesson's server runs as the workbench's child" || bad "the lesson's server runs as the workbench's child"

key Enter
if wait_for 10 'Step 2/5' && wait_for 10 '李白 你好'; then ok "Enter runs step 2: the tutorial's nc line gets its reply"
else bad "Enter runs step 2: the tutorial's nc line gets its reply" "$(screen)"; fi
key b
if wait_for 10 'Step 1/5' && wait_gone 5 'Step 2/5'; then ok "b goes back to step 1, on a screen of its own"
else bad "b goes back to step 1" "$(screen)"; fi
key q
if wait_for 10 'TUI-EXITED 0'; then ok "q quits with status 0"; else bad "q quits with status 0" "$(screen)"; fi
expect_grep "the terminal settings are restored" "TTY-RESTORED" "$(screen)"
sleep 0.3
left=$(left_running $kids)
expect_eq "no server of the lesson is left running" "" "$left"

start_tui 100 45 "lesson 4 --lang zh"
wait_for 15 '回车：开始' && key Enter
if wait_for 15 '第 4 课 · 步骤 1/5' && wait_for 15 '回车：下一步'; then ok "--lang zh shows the lesson in Chinese"
else bad "--lang zh shows the lesson in Chinese" "$(screen)"; fi
key q
if wait_for 10 'TUI-EXITED 0'; then ok "q quits the Chinese lesson"; else bad "q quits the Chinese lesson" "$(screen)"; fi

# Inside the full-screen workbench: :lesson 4 beside the pane its step is about.
start_tui 140 42
wait_for 15 'Instances' || bad "the TUI starts" "$(screen)"
cmd "lesson 4"
if wait_for 15 'Lesson 4 · step 1/5' && wait_for 15 '✓ exit status 0'; then ok ":lesson 4 runs step 1 in a pane of the TUI"
else bad ":lesson 4 runs step 1 in a pane of the TUI" "$(screen)"; fi
expect_grep "the step's pane (Wire) is beside it, marked" "Wire — Arith.Multiply" "$(screen)"
expect_grep "and marked as the pane the step is about" "lesson ▸ Wire" "$(screen)"
kids=$(pgrep -P "$WB" jsonrpc-server | tr '\n' ' ')
key Enter
if wait_for 10 'step 2/5' && wait_for 10 '李白 你好'; then ok "Enter runs step 2 in the TUI"
else bad "Enter runs step 2 in the TUI" "$(screen)"; fi
key '['
if wait_for 10 'step 1/5'; then ok "[ goes back a step"; else bad "[ goes back a step" "$(screen)"; fi
key L
if wait_gone 5 'Lesson 4 · step' && wait_for 5 'Instances'; then ok "L closes the lesson and the usual panes come back"
else bad "L closes the lesson and the usual panes come back" "$(screen)"; fi
sleep 0.5
expect_eq "closing the lesson stops its server" "" "$(left_running $kids)"
cmd "lesson 77"
if wait_for 5 'there is no lesson 77'; then ok ":lesson with an unknown number says so"
else bad ":lesson with an unknown number says so" "$(screen)"; fi
key q
if wait_for 15 'TUI-EXITED 0'; then ok "the TUI quits after a lesson"; else bad "the TUI quits after a lesson" "$(screen)"; fi

summary
