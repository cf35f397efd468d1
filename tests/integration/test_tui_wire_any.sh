# test_tui_wire_any.sh -- the Wire pane's call to a gRPC server the workbench was never
# built with (:wire grpc://HOST:PORT METHOD JSON) at 80x24, driven in tmux: tutorial 001's
# pb.AddName/AddFunc on grpc-go (tests/go/anyserver) with its types from the server's
# reflection, then from --proto given to the TUI for a server without reflection, and
# the notes of an unknown method, a server without reflection and a refused connection.
# Needs tmux, etcd, protoc and Go's grpc packages (SKIP without them).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/bin}
. "$ROOT/tests/integration/lib.sh"
. "$ROOT/tests/integration/tui_lib.sh"
. "$ROOT/tests/integration/any_protos.sh"

if ! any_protos "$TMP/any"; then
    echo "SKIP $ANY_WHY (make test installs it)"
    summary
    exit 0
fi
any_go_start refl --reflection; r=$?
if [ $r = 2 ]; then
    echo "SKIP grpc-go peer: $ANY_WHY"
    summary
    exit 0
fi
[ $r = 0 ] || { summary; exit 1; }
REFL=$ADDR
any_go_start plain || { summary; exit 1; }
PLAIN=$ADDR
DEAD=127.0.0.1:$(free_port)

# the Wire pane's text (inside its frame), its lines joined and blanks closed up
wire_text() { screen | sed -n '3,$p' | sed -E 's/^│//; s/│$//' | tr '\n' ' ' | tr -s ' '; }
# expect_wire NAME TEXT: TEXT is in the Wire pane's text within 3 s
expect_wire() { expect_shown "$1" "$2" wire_text; }
# the line under the rule: the span under the cursor
meaning() { screen | grep -E '^│gRPC (request|response) at ' | sed 's/^│//; s/ *│$//'; }
# call_any NAME URL METHOD JSON REGEX: :wire URL METHOD JSON, then wait for REGEX on screen
call_any() {
    cmd "wire $2 $3 $4"
    if wait_for 10 "$5"; then ok "$1"; else bad "$1" "$(screen)"; fi
}
key_to() { # key_to KEY REGEX: presses KEY until the cursor's line matches (at most 40 times)
    for _ in $(seq 40); do
        kt_was=$(meaning)
        printf '%s\n' "$kt_was" | grep -qE -- "$2" && return 0
        key "$1"
        # the TUI draws the move on its next turn (slow under a sanitizer): wait for it, at
        # most 3 s, so that no press is made on a stale screen and a span skipped
        for _ in $(seq 60); do [ "$(meaning)" != "$kt_was" ] && break; sleep 0.05; done
    done
    return 1
}

# ---- 1. types from the server's reflection ----
start_tui 80 24
if ! wait_for 15 'watch liv'; then bad "the TUI starts at 80x24" "$(screen)"; summary; exit 1; fi
call_any ":wire on a grpc-go server with reflection shows the gRPC request" \
    "grpc://$REFL" pb.AddName/AddFunc '{"name":"李白","age":20}' 'gRPC request · [0-9]+ bytes'
S=$(screen)
expect_grep "the title names the call" 'Wire — pb.AddName/AddFunc {"name":"李白","age":20}' "$S"
expect_grep "the lane names the server" " bytes · $REFL" "$S"
if printf '%s\n' "$S" | tail -n 2 | head -n 1 | grep -qE '^└─+┘$'; then ok "the pane's frame is whole at 80x24"; else
    bad "the pane's frame is whole at 80x24" "$S"; fi
expect_grep "the keys are on the pane's last line" "←→ move over the spans" "$S"
if key_to Right 'pb: age = 20'; then ok "the cursor reaches age, named from reflection"; else
    bad "the cursor reaches age, named from reflection" "$(screen)"; fi
expect_wire "the explanation names the field and its type" "field 1 age (int32)"
if key_to Right 'name = "李白"'; then ok "the cursor reaches name = \"李白\""; else
    bad "the cursor reaches name = \"李白\"" "$(screen)"; fi
expect_wire "the name field is named with its type" 'field 2 name (string)'
if key_to Left 'gRPC message 1 on stream'; then ok "the message's span names its type"; else
    bad "the message's span names its type" "$(screen)"; fi
expect_wire "the message is a pb.Student" "5-byte prefix: pb.Student"
key x
if key_to Right 'name = "李白 你好"'; then ok "x: the response's name field, as AddFunc answered"; else
    bad "x: the response's name field, as AddFunc answered" "$(screen)"; fi
# dynamicpb writes a message's fields in no fixed order: age may come before name or
# after it, so look for it from the message's start
if key_to Left 'gRPC message 1 on stream' && key_to Right 'age = 21'; then ok "x: the response's age field"
else bad "x: the response's age field" "$(screen)"; fi
key x
key 1
expect_wire "gob's lane says the call is gRPC only" "is a gRPC server: this call is gRPC only"
key 3

# ---- 2. the notes of what went wrong ----
call_any "an unknown method's note" "grpc://$REFL" pb.AddName/Nope '{}' \
    "reflection does not describe"
expect_wire "it names the method" "pb.AddName/Nope"
# (pb.AddName's types are known now: sum's are not)
call_any "a server without reflection: its note" "grpc://$PLAIN" sum/add '{"num1":1}' \
    "reflection does not describe"
call_any "a refused connection: its note" "grpc://$DEAD" pb.AddName/AddFunc '{}' "refused"
cmd 'wire json://127.0.0.1:1 Arith.Multiply {}'
expect_status ":wire json:// says gRPC only" "only a gRPC server"
cmd "wire grpc://$REFL pb.AddName/AddFunc {\"age\":"
expect_status ":wire with broken JSON says so" "not JSON"

# ---- 3. :call and R bring back the load's call; w closes ----
key R
if wait_for 10 "refused"; then ok "R makes the call to the server again"; else bad "R makes the call to the server again" "$(screen)"; fi
cmd 'call Arith.Multiply {"A":7,"B":8}'
if wait_for 5 'Wire — Arith\.Multiply \{"A":7,"B":8\}'; then ok ":call while it is open shows the load's call again"; else
    bad ":call while it is open shows the load's call again" "$(screen)"; fi
key w
if wait_for 3 'Instances'; then ok "w closes the Wire pane"; else bad "w closes the Wire pane" "$(screen)"; fi
cmd quit
if wait_for 15 'TUI-EXITED 0'; then ok ":quit quits"; else bad ":quit quits" "$(screen)"; fi
tm kill-server 2>/dev/null

# ---- 4. types from --proto, for a server without reflection ----
start_tui 80 24 "--proto $ANY_DIR/student.proto -I $ANY_DIR"
if ! wait_for 15 'watch liv'; then bad "the TUI starts with --proto" "$(screen)"; summary; exit 1; fi
call_any "--proto: :wire on a server without reflection shows the gRPC request" \
    "grpc://$PLAIN" pb.AddName/AddFunc '{"name":"李白","age":20}' 'gRPC request · [0-9]+ bytes'
if key_to Right 'name = "李白"'; then ok "--proto: the cursor reaches name = \"李白\""; else
    bad "--proto: the cursor reaches name = \"李白\"" "$(screen)"; fi
expect_wire "--proto: the name field is named with its type" 'field 2 name (string)'
call_any "--proto: a method in none of the files" "grpc://$PLAIN" sum/add '{}' "in none of the files"
cmd quit
if wait_for 15 'TUI-EXITED 0'; then ok "--proto: :quit quits"; else bad "--proto: :quit quits" "$(screen)"; fi
tm kill-server 2>/dev/null

summary
