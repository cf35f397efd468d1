# test_tui_wire.sh -- the TUI's ':' command line (readline: commands, history, completion,
# errors) and its Wire pane (Arith.Multiply {"A":7,"B":8} in gob, JSON-RPC and gRPC),
# driven in tmux, reading the screen after each key.
# Needs tmux and etcd (Debian's etcd-server); the TUI starts its own etcd and servers.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"

. "$ROOT/tests/integration/tui_lib.sh"

start_tui 160 40
if ! wait_for 15 'watch live'; then
    bad "the TUI starts in tmux" "$(screen 2>&1)"
    summary
    exit 1
fi

# 1. One server of each protocol from the keys, then one more JSON-RPC from the command line
key j; key b; key c
if wait_for 8 '3 +grpc +127\.0\.0\.1:[0-9]+ +[0-9]+ running'; then ok "keys j, b, c spawn one server of each protocol"; else
    bad "keys j, b, c spawn one server of each protocol" "$(screen)"; fi
cmd 'spawn json'
# the result shows on the status line for a few seconds: look for it while it is there
if wait_for 15 'spawned #4'; then ok ":spawn json: its result is on the status line"; else
    bad ":spawn json: its result is on the status line" "$(status_line)"; fi
if wait_for 8 '4 +json +127\.0\.0\.1:[0-9]+ +[0-9]+ running'; then ok ":spawn json starts instance #4"; else
    bad ":spawn json starts instance #4" "$(screen)"; fi

# 2. rate and call change the load
cmd 'rate 300'
if wait_for 3 'at 300/s'; then ok ":rate 300 sets the load's rate"; else bad ":rate 300 sets the load's rate" "$(screen)"; fi
cmd 'call Arith.Divide {"A":9,"B":2}'
if wait_for 3 'Arith\.Divide \{"A":9,"B":2\} at 300/s'; then ok ":call changes the load's method and arguments"; else
    bad ":call changes the load's method and arguments" "$(screen)"; fi
cmd 'call Arith.Multiply {"A":7,"B":8}'
if wait_for 3 'Arith\.Multiply \{"A":7,"B":8\} at 300/s'; then ok ":call Arith.Multiply {\"A\":7,\"B\":8} is what the load calls"; else
    bad ":call Arith.Multiply {\"A\":7,\"B\":8} is what the load calls" "$(screen)"; fi
expect_grep ":call is in the timeline" 'the load now calls Arith.Multiply {"A":7,"B":8}' "$(screen)"

# 3. Errors on the status line
cmd 'call Arith.Nope {}'
expect_status ":call of an unknown method says so" "can't find method Arith.Nope"
cmd 'call Arith.Multiply {"A":'
expect_status ":call with broken JSON says so" "not JSON"
cmd 'frobnicate 3'
expect_status "an unknown command says so" "unknown command 'frobnicate'"
cmd 'kill 99'
expect_status ":kill of an unknown instance says so" "no instance 99"
expect_grep "the load kept its call after the errors" 'Arith.Multiply {"A":7,"B":8} at 300/s' "$(screen)"

# 4. Completion and history; Esc leaves
key ':'
tm send-keys -t tui -l 'sp'
key Tab
tm send-keys -t tui -l 'gr'
key Tab
expect_eq "Tab completes the command word and the protocol" ":spawn grpc" "$(status_line | sed 's/ *$//')"
key Escape
expect_no_grep "Esc leaves the command line" ":spawn" "$(status_line)"
key ':'
key Up
expect_eq "Up recalls the last command" ":kill 99" "$(status_line | sed 's/ *$//')"
key Up
expect_eq "Up again recalls the one before" ":frobnicate 3" "$(status_line | sed 's/ *$//')"
key Escape
key ':'
key Enter
expect_no_grep "an empty Enter leaves the command line" ":" "$(status_line | cut -c1)"

# 5. stop, pause, resume, load from the command line
cmd 'pause 4'
if wait_for 3 '4 +json +127\.0\.0\.1:[0-9]+ +[0-9]+ paused'; then ok ":pause 4 pauses #4"; else bad ":pause 4 pauses #4" "$(screen)"; fi
cmd 'resume 4'
if wait_for 3 '4 +json +127\.0\.0\.1:[0-9]+ +[0-9]+ running'; then ok ":resume 4 resumes #4"; else bad ":resume 4 resumes #4" "$(screen)"; fi
cmd 'load on'
if wait_for 3 'load ON'; then ok ":load on starts the load"; else bad ":load on starts the load" "$(screen)"; fi
cmd 'load off'
if wait_for 3 'load off'; then ok ":load off stops it"; else bad ":load off stops it" "$(screen)"; fi
cmd 'stop 4'
if wait_for 3 '4 +json +127\.0\.0\.1:[0-9]+ +- +stopped'; then ok ":stop 4 stops #4"; else bad ":stop 4 stops #4" "$(screen)"; fi

# 6. The Wire pane: Arith.Multiply {"A":7,"B":8} once in each protocol (160 columns: side by side)
meaning() { screen | grep -E '^│(gob|JSON-RPC|gRPC) (request|response) at ' | sed 's/^│//; s/ *│$//'; }
key w
if wait_for 5 'Wire — Arith\.Multiply \{"A":7,"B":8\}'; then ok "w opens the Wire pane for the load's call"; else
    bad "w opens the Wire pane for the load's call" "$(screen)"; fi
wait_for 3 'gRPC request · ' || true
S=$(screen)
expect_snapshot "wire: the whole screen of the requests" wire-request-160x40.txt
expect_grep "wire: gob request total" "gob request · 107 bytes" "$S"
expect_grep "wire: gob request split" "framing 25 · type information 80 · payload 2" "$S"
expect_grep "wire: JSON-RPC request total" "JSON-RPC request · 60 bytes" "$S"
expect_grep "wire: JSON-RPC request split" "framing 47 · type information 11 · payload 2" "$S"
expect_grep "wire: gRPC request total" "gRPC request · 182 bytes" "$S"
expect_grep "wire: gRPC request split" "framing 178 · type information 2 · payload 2" "$S"
expect_grep "wire: gob's dump explains A" "0067 0e             A = 7 (int, zigzag 0x0e)" "$S"
expect_grep "wire: JSON-RPC's dump explains A" "002a 37             A = 7 (number)" "$S"
expect_grep "wire: gRPC's dump explains A" "field 1 A (int64) = 7" "$S"
expect_eq "wire: the cursor starts on gob's first payload byte" \
    "gob request at 0067, 1 byte · gob: A = 7 (int, zigzag 0x0e)" "$(meaning)"
key Right
expect_eq "wire: Right moves the cursor to the next span" \
    "gob request at 0068, 1 byte · gob: field delta +1 → B (field 1 of Args)" "$(meaning)"
key Left
key 2
expect_eq "wire: 2 puts the cursor in JSON-RPC" "JSON-RPC request at 002a, 1 byte · json: A = 7 (number)" "$(meaning)"
key Tab
expect_grep "wire: Tab puts the cursor in gRPC" "gRPC request at 00aa, 1 byte · pb: A = 7: varint 0x07 = 7" "$(meaning)"
key Left
expect_grep "wire: Left moves back to the field's tag" "gRPC request at 00a9, 1 byte · pb: tag 0x08" "$(meaning)"
key 1
key x
S=$(screen)
expect_snapshot "wire: the whole screen of the responses" wire-response-160x40.txt
expect_grep "wire: x shows the responses" "gob response · 83 bytes" "$S"
expect_grep "wire: the JSON-RPC response total" "JSON-RPC response · 34 bytes" "$S"
expect_grep "wire: the gRPC response total" "gRPC response · 136 bytes" "$S"
expect_eq "wire: the gob result under the cursor" "gob response at 0052, 1 byte · gob: value = 56 (int, zigzag 0x70)" "$(meaning)"
key 3
expect_grep "wire: the gRPC result under the cursor" "gRPC response at 0072, 1 byte · pb: value = 56" "$(meaning)"
key w
if wait_for 3 'Instances'; then ok "w closes the Wire pane"; else bad "w closes the Wire pane" "$(screen)"; fi

# 7. Narrow: one protocol at a time (the pane keeps its protocol and direction: back to gob's request)
tm resize-window -t tui -x 100 -y 30 2>/dev/null || tm resize-pane -t tui -x 100 -y 30
sleep 0.3
key w
wait_for 5 '(gob|JSON-RPC|gRPC) request · ' || true
key 1
key x
S=$(screen)
expect_grep "wire at 100 columns: gob alone" "gob request · 107 bytes" "$S"
expect_no_grep "wire at 100 columns: not JSON-RPC beside it" "JSON-RPC request" "$S"
key 2
expect_grep "wire at 100 columns: 2 shows JSON-RPC" "JSON-RPC request · 60 bytes" "$(screen)"

# 8. While the Wire pane is open: :call makes the new call at once, R makes it again
cmd 'call Arith.Divide {"A":9,"B":2}'
if wait_for 3 'Wire — Arith\.Divide \{"A":9,"B":2\}'; then ok "wire: :call while it is open shows the new call"; else
    bad "wire: :call while it is open shows the new call" "$(screen)"; fi
expect_grep "wire: the new call's bytes" "JSON-RPC request · 58 bytes" "$(screen)"
key 3
expect_grep "wire: gRPC made the call on #3" "gRPC request · " "$(screen)"
cmd 'stop 3'
sleep 0.5
expect_grep "wire: the pane keeps the call it made" "gRPC request · " "$(screen)"
key R
if wait_for 3 'no running gRPC server: spawn one'; then ok "wire: R makes the call again (gRPC is stopped now)"; else
    bad "wire: R makes the call again (gRPC is stopped now)" "$(screen)"; fi
key w

KIDS=$(pgrep -P "$WB" | tr '\n' ' ')
cmd 'quit'
if wait_for 15 'TUI-EXITED'; then ok ":quit quits"; else bad ":quit quits" "$(screen)"; fi
expect_grep ":quit: exit status 0" "TUI-EXITED 0" "$(screen)"
expect_grep ":quit: the terminal settings are restored" "TTY-RESTORED" "$(screen)"
expect_eq ":quit: no server or etcd left running" "" "$(left_running $KIDS $WB)"
tm kill-server 2>/dev/null

summary
